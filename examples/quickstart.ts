/**
 * Tandem quickstart (`npx tsx examples/quickstart.ts`): count the primes below three billion in parallel, check the
 * count, and time the same job on one worker to show the speedup.
 */
import { availableParallelism } from 'node:os';
import cliProgress from 'cli-progress';
import { Tandem } from '@tandem/core';
import '@tandem/backends';

const LIMIT = 3_000_000_000;
const KNOWN = 144_449_537; // π(3·10^9), from published prime-counting tables
const CHUNKS = 200; // tasks of a few tens of ms each: small enough to balance, big enough to amortise messaging
const tasks = new URL('./tasks/primes.ts', import.meta.url);

const chunks = Array.from({ length: CHUNKS }, (_, i) => [Math.floor((i * LIMIT) / CHUNKS), Math.floor(((i + 1) * LIMIT) / CHUNKS)]);
const cores = availableParallelism();
const workers = Math.max(2, cores);
const fmt = (n: number) => n.toLocaleString('en-US');
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** A progress bar on a terminal; when piped (CI logs), a line per quarter instead of redraws. */
function progressBar(label: string): { update(done: number): void; stop(): void } {
  if (process.stdout.isTTY) {
    const bar = new cliProgress.SingleBar(
      { format: `  ${label} {bar} {percentage}% | {value}/{total} tasks | {duration_formatted}`, hideCursor: true, stream: process.stdout },
      cliProgress.Presets.shades_classic,
    );
    bar.start(CHUNKS, 0);
    return { update: (done) => bar.update(done), stop: () => bar.stop() };
  }
  let quarters = 0;
  return {
    update(done) {
      const q = Math.floor((4 * done) / CHUNKS);
      if (q > quarters) console.log(`  ${label} ${String((quarters = q) * 25).padStart(3)}% | ${done}/${CHUNKS} tasks`);
    },
    stop() {},
  };
}

/** Runs the whole job on a session. The time excludes starting the workers, which `create` awaits. */
async function runJob(td: Tandem, label: string): Promise<{ primes: number; seconds: number }> {
  const bar = progressBar(label);
  const start = performance.now();
  try {
    const counts = await td.runMany<number>(tasks, 'countPrimes', chunks, { onProgress: (done) => bar.update(done) });
    return { primes: counts.reduce((a, b) => a + b, 0), seconds: (performance.now() - start) / 1000 };
  } finally {
    bar.stop();
  }
}

/** Prints the count against the published value; a wrong count fails the run. */
function check(primes: number): void {
  const ok = primes === KNOWN;
  console.log(`  ${fmt(primes)} primes below ${fmt(LIMIT)} ${ok ? '✓ (the known value)' : `✗ (expected ${fmt(KNOWN)})`}\n`);
  if (!ok) process.exitCode = 1;
}

console.log(`Tandem quickstart: count the primes below ${fmt(LIMIT)}, split into ${CHUNKS} tasks\n`);

await using td = await Tandem.create({ workers });
console.log('Devices found:');
for (const d of td.devices()) console.log(`  ${d.id.padEnd(10)} ${d.description}`);

const manyLabel = plural(workers, 'worker');
const oneLabel = plural(1, 'worker');
const width = Math.max(manyLabel.length, oneLabel.length);

console.log(`\nCounting on ${manyLabel}:`);
const parallel = await runJob(td, manyLabel.padEnd(width));
check(parallel.primes);

console.log('The same job on 1 worker, for comparison:');
let serial: { primes: number; seconds: number };
{
  // Workers only: this run needs no GPU.
  await using one = await Tandem.create({ workers: 1, backends: [] });
  serial = await runJob(one, oneLabel.padEnd(width));
}
check(serial.primes);

const speedup = serial.seconds / parallel.seconds;
console.log(`  ${oneLabel.padEnd(width)}  ${serial.seconds.toFixed(2).padStart(6)} s`);
console.log(`  ${manyLabel.padEnd(width)}  ${parallel.seconds.toFixed(2).padStart(6)} s  ${speedup.toFixed(2)}× over one thread on ${plural(cores, 'core')}\n`);

console.log('Next: `npm test` runs the test suite; the API, with examples, is in packages/core/src (start at index.ts).');
