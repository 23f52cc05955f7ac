/**
 * The planner at work (`npx tsx examples/planner.ts`): a mixed workload — a Mandelbrot user
 * kernel and a small graph of built-in ops — issued together on the default session (every
 * backend that works here, policy `auto`). The session plans it as one graph, splits the large
 * data-parallel calls across its devices by their learned speed, then `td.explain()` says where
 * each piece ran, and `td.trace()` writes a timeline you can open in Perfetto.
 *
 * Costs are learned as it runs and kept in your cache directory, so a second run plans with what
 * the first one measured.
 */
import { resolve } from 'node:path';
import { Tandem, Tensor } from '@tandem/core';
import '@tandem/backends';
import { mandelbrotArgs, mandelbrotKernel } from '../bench/lib/planner-workload.ts';

const SIZE = 4096; // Mandelbrot image, SIZE × SIZE pixels
const MAX_ITER = 256;
const N = 512; // matrices, N × N
const CHAINS = 4;

// The bench's workload (bench/planner.ts measures it under every policy against an oracle).
const mandelbrot = mandelbrotKernel(MAX_ITER);

const random = (n: number) => Float32Array.from({ length: n }, () => Math.random() * 2 - 1);

await using td = await Tandem.create(); // policy 'auto' by default
console.log('Devices:');
for (const d of td.devices()) console.log(`  ${d.id.padEnd(10)} ${d.description}${d.software ? '  (software: runs on the CPU cores)' : ''}`);
for (const u of td.unavailable) console.log(`  (${u.name} unavailable: ${u.reason})`);

const a = Array.from({ length: CHAINS }, () => Tensor.from(random(N * N), [N, N]));
const b = Array.from({ length: CHAINS }, () => Tensor.from(random(N * N), [N, N]));

console.log(`\nOne turn: Mandelbrot ${SIZE}×${SIZE} (${MAX_ITER} iterations) + ${CHAINS} × (matmul ${N} → relu → sum) + an add chain → sum`);
const t0 = performance.now();
// Everything issued before the first await is planned together, as one graph.
const image = td.map(mandelbrot, mandelbrotArgs(SIZE), { output: [SIZE, SIZE] });
const relus = a.map((x, i) => td.ops.relu(td.ops.matmul(x, b[i]!)));
const sums = relus.map((r) => td.ops.sum(r));
const total = td.ops.sum(relus.reduce((acc, r) => td.ops.add(acc, r)));
await Promise.all([image, ...sums.map((s) => s.values()), total.values()]);
const elapsed = performance.now() - t0;

const pixels = (await image).data;
let inside = 0;
for (let i = 0; i < pixels.length; i++) if (pixels[i]! >= 1) inside++;
console.log(`Done in ${(elapsed / 1000).toFixed(2)} s: ${((100 * inside) / (SIZE * SIZE)).toFixed(1)}% of the pixels are in the set; total of the relus: ${(await total.values())[0]!.toFixed(1)}\n`);

console.log('td.explain():');
console.log(td.explain());

await td.trace('trace.json');
console.log(`\nWrote ${resolve('trace.json')}: per device, its calls, a track per CPU worker or GPU queue, and its transfers.`);
console.log('Open https://ui.perfetto.dev, click "Open trace file" and pick trace.json to see the timeline.');
if (td.devices().some((d) => d.kind === 'gpu' && d.software)) {
  console.log('\nThe GPU here is a software driver on the same CPU cores as the workers: splitting work onto it adds no compute,');
  console.log('and the devices slow each other down when they run together: a split gains little here, and can lose to the');
  console.log('faster device alone (bench/results/planner.md has the numbers). On a real GPU the two run apart.');
}
console.log('Run it again: the session now plans with the costs it learned (kept in your cache directory).');
