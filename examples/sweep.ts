/**
 * Hyperparameter search on MNIST (`npx tsx examples/sweep.ts [--trials 12] [--epochs 9]`): sweep()
 * samples configurations of the MLP in examples/models/mlp.ts (learning rate, log-uniform; hidden
 * units; batch size) with a fixed seed and trains them side by side, one single-replica trial per
 * core. ASHA stops the weak ones early: at the rungs (epochs 1, 3, … below --epochs) a trial goes on
 * only if its validation accuracy ranks in the top third of the trials that reached that rung.
 * It prints a line per finished trial, then the table, the best config, how many epochs were
 * trained against a full random search (trials × epochs), and retrains the best config with
 * train() on every core to report its test accuracy.
 *
 * Trials run in parallel, so which trials ASHA stops can vary with their finishing order.
 */
import { parseArgs } from 'node:util';
import cliProgress from 'cli-progress';
import { datasets, formatSweep, sweep, train, type TrialResult } from '@tandem/ml';

const { values: args } = parseArgs({
  options: {
    trials: { type: 'string', default: '12' },
    epochs: { type: 'string', default: '9' },
  },
});
const positive = (name: string, text: string): number => {
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 1) {
    console.error(`--${name} must be a positive integer, got ${JSON.stringify(text)}`);
    process.exit(2);
  }
  return n;
};
const TRIALS = positive('trials', args.trials);
const MAX_EPOCHS = positive('epochs', args.epochs);
const GRACE = 1;
const ETA = 3;
const SEED = 1;
const pct = (n: number) => (Number.isNaN(n) ? '-' : `${(n * 100).toFixed(1)}%`);

const space = {
  learningRate: { log: [1e-4, 1e-2] },
  hidden: [32, 64, 128],
  batchSize: [64, 128, 256],
} as const;

function describe(t: TrialResult): string {
  const { learningRate, hidden, batchSize } = t.config;
  const config = `lr ${(learningRate as number).toExponential(2)}  hidden ${String(hidden).padStart(3)}  batch ${String(batchSize).padStart(3)}`;
  const epochs = `${t.epochs} epoch${t.epochs === 1 ? ' ' : 's'}`;
  const why = t.status === 'failed' ? `  ${t.error instanceof Error ? t.error.message : String(t.error)}` : '';
  return `trial ${String(t.id).padStart(2)}  ${config}  ${t.status.padEnd(9)}  ${epochs.padStart(9)}  val acc ${pct(t.metric).padStart(6)}${why}`;
}

/** On a terminal, a bar of finished trials with the trial lines above it; piped, just the lines. */
function progress(): { trial(t: TrialResult): void; stop(): void } {
  if (!process.stdout.isTTY) return { trial: (t) => console.log(describe(t)), stop: () => {} };
  const bars = new cliProgress.MultiBar(
    { format: '  sweep {bar} {value}/{total} trials | {duration_formatted}', hideCursor: true, stream: process.stdout },
    cliProgress.Presets.shades_classic,
  );
  const bar = bars.create(TRIALS, 0);
  return {
    trial(t) {
      bars.log(`${describe(t)}\n`);
      bar.increment();
    },
    stop() {
      bars.update(); // stop() alone drops lines still in the log buffer (the last trial's)
      bars.stop();
    },
  };
}

const data = await datasets.mnist();
console.log(`MNIST: ${data.train.y.shape[0]} training digits (10% held out for validation), ${data.test.y.shape[0]} test digits`);
console.log(`search space: learning rate log-uniform in [1e-4, 1e-2], hidden ${space.hidden.join('/')}, batch ${space.batchSize.join('/')}`);
console.log(`${TRIALS} trials, up to ${MAX_EPOCHS} epochs each, ASHA (grace ${GRACE}, η ${ETA}), metric valAccuracy, seed ${SEED}\n`);

const bar = progress();
let result;
try {
  // Only the training set: the sweep ranks on validation accuracy, the test set is kept for the end.
  result = await sweep({
    model: new URL('./models/mlp.ts', import.meta.url),
    data: { train: data.train },
    space,
    trials: TRIALS,
    scheduler: 'asha',
    metric: 'valAccuracy',
    maxEpochs: MAX_EPOCHS,
    gracePeriod: GRACE,
    reductionFactor: ETA,
    seed: SEED,
    onTrial: (t) => bar.trial(t),
  });
} finally {
  bar.stop();
}

console.log(`\n${formatSweep(result)}\n`);
const full = TRIALS * MAX_EPOCHS;
console.log(`epochs trained: ${result.totalEpochs} with ASHA vs ${full} for a full random search (${TRIALS} × ${MAX_EPOCHS}), ` +
  `${Math.round((1 - result.totalEpochs / full) * 100)}% fewer`);
console.log(`sweep wall time: ${result.seconds.toFixed(1)} s`);
if (!result.best) {
  console.log('every trial failed: nothing to retrain');
  process.exit(1);
}
const best = result.best;
const lr = best.config.learningRate as number;
const hidden = best.config.hidden as number;
const batchSize = best.config.batchSize as number;
console.log(`best: trial ${best.id}, learning rate ${lr.toExponential(2)}, hidden ${hidden}, batch ${batchSize}: val acc ${pct(best.metric)}\n`);

console.log(`retraining the best config for ${MAX_EPOCHS} epochs on every core (replicas: 'auto')…`);
const t0 = performance.now();
const final = await train({
  model: new URL('./models/mlp.ts', import.meta.url),
  config: { hidden },
  data: { train: data.train, test: data.test },
  epochs: MAX_EPOCHS,
  batchSize,
  replicas: 'auto',
  optimizer: { type: 'adam', learningRate: lr },
  seed: SEED,
});
const last = final.history[final.history.length - 1];
console.log(`test accuracy: ${pct(final.testAccuracy ?? NaN)} on ${data.test.y.shape[0]} digits ` +
  `(val acc ${pct(last?.valAccuracy ?? NaN)}, ${final.replicas.length} replicas, ${((performance.now() - t0) / 1000).toFixed(1)} s)`);
