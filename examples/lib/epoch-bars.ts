/**
 * Training progress for the examples: on a terminal, a bar that advances every step (with the
 * step's loss) and each epoch's line above it; piped, just a line per epoch.
 */
import cliProgress from 'cli-progress';
import type { EpochRecord, StepRecord } from '@tandem/ml';

export interface EpochBars {
  step(s: StepRecord): void;
  epoch(r: EpochRecord): void;
  stop(): void;
}

/** Bars for `epochs` epochs; `describe` writes an epoch's line. */
export function epochBars(epochs: number, describe: (r: EpochRecord) => string): EpochBars {
  if (!process.stdout.isTTY) return { step: () => {}, epoch: (r) => console.log(describe(r)), stop: () => {} };
  const bars = new cliProgress.MultiBar(
    { format: '  epoch {epoch} {bar} step {value}/{total} | loss {loss} | {duration_formatted}', hideCursor: true, stream: process.stdout },
    cliProgress.Presets.shades_classic,
  );
  let bar: cliProgress.SingleBar | undefined;
  return {
    step(s) {
      if (s.step === 1) {
        if (bar) bars.remove(bar);
        bar = bars.create(s.steps, 0, { epoch: `${s.epoch}/${epochs}`, loss: '-' });
      }
      bar!.update(s.step, { loss: s.loss.toFixed(4) });
    },
    epoch: (r) => bars.log(`${describe(r)}\n`),
    stop() {
      bars.update(); // stop() alone drops lines still in the log buffer (the last epoch's)
      bars.stop();
    },
  };
}
