/**
 * One user kernel, three placements (`npx tsx examples/kernels.ts [out.png]`): a Mandelbrot set
 * computed on the CPU workers, on the GPU (gpu.js), and split across both by the planner, with the time
 * of each, a check that the three images agree, and the picture written as a PNG.
 *
 * The kernel is a plain `function` in gpu.js's dialect: `this.thread.x/y` is the pixel,
 * `this.constants` are compiled in, loops have constant bounds. The same source runs as
 * JavaScript in the workers and as a shader on the GPU.
 */
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Tandem, kernel, type KernelThis, type Tensor } from '@tandem/core';
import '@tandem/backends';
import { PNG } from 'pngjs';

const WIDTH = 1600;
const HEIGHT = 1200;
const MAX_ITER = 500;
/** Timed runs of each placement, after a first run that compiles the kernel. */
const RUNS = 3;
// The view: centre (-0.65, 0), 3 units wide.
const STEP = 3 / WIDTH;
const X0 = -0.65 - (WIDTH / 2) * STEP;
const Y0 = -(HEIGHT / 2) * STEP;
const out = process.argv[2] ?? join(tmpdir(), 'tandem-mandelbrot.png');

/**
 * The escape time of pixel (x, y), smoothed so it varies continuously (no colour bands), over
 * maxIter: 1 inside the set. It is also the pixel's share of the work, which the split uses.
 */
const mandelbrot = kernel('mandelbrot', function (this: KernelThis, x0: number, y0: number, step: number) {
  const cr = x0 + this.thread.x * step;
  const ci = y0 + this.thread.y * step;
  let zr = 0.0;
  let zi = 0.0;
  let escape = this.constants.maxIter!;
  for (let i = 0; i < this.constants.maxIter!; i++) {
    const zr2 = zr * zr;
    const zi2 = zi * zi;
    if (zr2 + zi2 > 16.0) {
      // i + 1 - log2(log|z|): the fractional escape count.
      escape = i + 1.0 - Math.log(0.5 * Math.log(zr2 + zi2)) / 0.6931471805599453;
      break;
    }
    zi = 2.0 * zr * zi + ci;
    zr = zr2 - zi2 + cr;
  }
  return Math.min(1.0, Math.max(0.0, escape / this.constants.maxIter!));
}, { maxIter: MAX_ITER });

const ARGS = [X0, Y0, STEP];
const seconds = (msValue: number) => `${(msValue / 1000).toFixed(2)} s`;

async function timed<T>(f: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const t0 = performance.now();
  const value = await f();
  return { value, ms: performance.now() - t0 };
}

/** Runs `f` RUNS times; the median time, and the last value. One run alone is at the mercy of whatever else the machine does. */
async function median<T>(f: () => Promise<{ value: T; ms: number }>): Promise<{ value: T; ms: number }> {
  const runs: { value: T; ms: number }[] = [];
  for (let i = 0; i < RUNS; i++) runs.push(await f());
  const times = runs.map((r) => r.ms).sort((a, b) => a - b);
  return { value: runs[RUNS - 1]!.value, ms: times[(RUNS - 1) >> 1]! };
}

/** Pixels of `b` farther than `tol` from `a`, and the largest difference. */
function compare(a: ArrayLike<number>, b: ArrayLike<number>, tol = 1e-3): { off: number; max: number } {
  let off = 0;
  let max = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    if (!(d <= tol)) off++;
    max = Math.max(max, Number.isNaN(d) ? Infinity : d);
  }
  return { off, max };
}

/** An RGB image as PNG bytes. */
function toPng(width: number, height: number, rgb: Uint8Array): Buffer {
  const png = new PNG({ width, height, colorType: 2, inputColorType: 2, inputHasAlpha: false });
  png.data = Buffer.from(rgb);
  return PNG.sync.write(png, { colorType: 2, inputColorType: 2, inputHasAlpha: false });
}

/** Colours a value in [0, 1] (1: inside the set, black) with a smooth blue–orange palette. */
function colour(values: ArrayLike<number>): Uint8Array {
  const rgb = new Uint8Array(values.length * 3);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v >= 1) continue;
    const t = Math.sqrt(v * 4) % 1;
    rgb[3 * i] = Math.round(255 * 9 * (1 - t) * t * t * t);
    rgb[3 * i + 1] = Math.round(255 * 15 * (1 - t) ** 2 * t * t);
    rgb[3 * i + 2] = Math.round(255 * 8.5 * (1 - t) ** 3 * t);
  }
  return rgb;
}

console.log(`Tandem kernels example: the Mandelbrot set, ${WIDTH}×${HEIGHT} pixels, up to ${MAX_ITER} iterations each\n`);

// 1. One device at a time, then split across both by the planner, all through one session. The
//    first run on each device compiles the kernel (a shader on the GPU), so it is reported apart;
//    the median of the next RUNS is compared. The single-device runs also teach the session's
//    cost model how fast each device is, which is what the planner splits by.
const images: { label: string; data: Float32Array; ms: number; firstMs: number }[] = [];
let gpuSoftware = false;
let split!: Tensor;
let splitMs = 0;
let shares = '';
{
  await using td = await Tandem.create({ workers: 2, backends: ['cpu', 'gpujs'], costCache: false });
  console.log('Devices:');
  gpuSoftware = td.devices().some((d) => d.backend === 'gpujs' && d.software);
  for (const d of td.devices()) console.log(`  ${d.id.padEnd(8)} ${d.description}${d.software ? '  — a software GPU: it runs on the same CPU cores' : ''}`);
  console.log('');
  for (const device of ['cpu', 'gpujs'] as const) {
    const first = await timed(() => td.map(mandelbrot, ARGS, { output: [WIDTH, HEIGHT], device }));
    const again = await median(() => timed(() => td.map(mandelbrot, ARGS, { output: [WIDTH, HEIGHT], device })));
    images.push({ label: device, data: again.value.data as Float32Array, ms: again.ms, firstMs: first.ms });
    console.log(`  on ${device.padEnd(6)} ${seconds(again.ms).padStart(7)}   (median of ${RUNS}; the first run took ${seconds(first.ms)}${device === 'gpujs' ? ', compiling the shader' : ''})`);
  }
  // No device named: the planner splits the rows over both, by their measured throughput.
  const auto = await median(() => timed(() => td.map(mandelbrot, ARGS, { output: [WIDTH, HEIGHT] })));
  split = auto.value;
  splitMs = auto.ms;
  const rows = td.explain().split('\n').filter((l) => /^ {2}\S+\s+user:mandelbrot\[/.test(l)).slice(-64);
  const perDevice = new Map<string, number>();
  for (const line of rows) {
    const [device, task] = line.trim().split(/\s+/) as [string, string];
    const [from, to] = task.slice(task.indexOf('[') + 1, task.indexOf(')')).split(':').map(Number) as [number, number];
    perDevice.set(device, (perDevice.get(device) ?? 0) + (to - from));
  }
  const total = [...perDevice.values()].reduce((a, b) => a + b, 0);
  shares = [...perDevice].map(([d, n]) => `${d} ${((100 * n) / total).toFixed(0)}%`).join(', ');
}
const [cpu, gpu] = images as [typeof images[0], typeof images[0]];
const best = Math.min(cpu.ms, gpu.ms);
console.log(`  split  ${seconds(splitMs).padStart(7)}   (median of ${RUNS}, planned automatically: ${shares} of the pixels in the last runs)`);
console.log(`\n  split vs the faster single device: ${(best / splitMs).toFixed(2)}× (cpu ${seconds(cpu.ms)}, gpujs ${seconds(gpu.ms)})`);
if (gpuSoftware) {
  console.log('  The GPU here is a software rasteriser on the same CPU cores as the workers: the two compete for those');
  console.log('  cores, so splitting between them gains little here, or loses. With a real GPU they run apart.');
}
console.log('  td.explain() shows every chunk the planner handed out; examples/planner.ts prints it.\n');

// 3. The same picture three times? On the GPU it is computed in float32, in the workers in
//    float64: points on the set's boundary, whose orbits take hundreds of iterations to escape,
//    part ways, so a few tenths of a percent of the pixels differ. A wrong row offset or a broken
//    backend changes far more.
const pixels = WIDTH * HEIGHT;
let agree = true;
for (const [label, data] of [['gpujs', gpu.data], ['split', split.data]] as const) {
  const { off, max } = compare(cpu.data, data);
  const ok = off <= 0.01 * pixels;
  agree &&= ok;
  console.log(`  ${label} vs cpu: ${off} of ${pixels} pixels differ by more than 0.001 (${((100 * off) / pixels).toFixed(3)}%, largest ${max.toFixed(3)}) ${ok ? '✓' : '✗ more than 1%'}`);
}
console.log(agree ? '  The three images agree (within float32 vs float64 rounding on the set\'s boundary).' : '  The images DIFFER beyond rounding: a backend is wrong.');
if (!agree) process.exitCode = 1;

writeFileSync(out, toPng(WIDTH, HEIGHT, colour(split.data)));
console.log(`\nWrote ${out} (the split run's image).`);
