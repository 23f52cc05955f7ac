/**
 * The main job (`npm start`, or `npx tsx examples/flights.ts [chart.png] [--explain]`): three million
 * US domestic flights of 2001, from a Parquet file to delay statistics and a trained classifier.
 *
 * 1. One streaming pass over the file: each flight joined to its origin and destination airports
 *    (their coordinates, from a CSV), the great-circle distance computed by a user kernel that the
 *    planner places on the CPU workers and/or the GPU batch by batch, and the hour of departure
 *    and a "late" label (more than 15 minutes) computed by JavaScript over each batch in the
 *    workers. The result stays in memory (as Arrow), so the file is read once.
 * 2. Delay by hour of day and by route: group-bys over that in-memory table.
 * 3. A small MLP trained to tell late flights from on-time ones, data-parallel on every core with
 *    `train()`, on features taken straight from the table (`toTrainData`), and judged on held-out
 *    flights against the majority-class baseline.
 * 4. A PNG chart (delay by hour, loss per epoch) and a Perfetto trace of everything that ran.
 *
 * --explain prints `td.explain()` after the data pass and after training: every stage's rows and
 * busy time, the devices the kernel ran on, and the training replicas.
 */
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { createCanvas, type SKRSContext2D } from '@napi-rs/canvas';
import cliProgress from 'cli-progress';
import { Tandem, kernel, type KernelThis } from '@tandem/core';
import '@tandem/backends';
import { train, type EpochRecord, type StepRecord } from '@tandem/ml';
import { epochBars } from './lib/epoch-bars.ts';

const FLIGHTS = 'node_modules/vega-datasets/data/flights-3m.parquet';
const AIRPORTS = 'node_modules/vega-datasets/data/airports.csv';
const FEATURES = ['hour', 'weekday', 'month', 'km', 'lat1', 'lon1', 'lat2', 'lon2'];
const EPOCHS = 4;
const BATCH = 8192;
const LEARNING_RATE = 1e-2;
/** Routes flown fewer times than this (about once a day over the data's six months) are left out of the route table. */
const MIN_ROUTE_FLIGHTS = 180;

const args = parseArgs({ allowPositionals: true, options: { explain: { type: 'boolean', default: false } } });
const chartPath = resolve(args.positionals[0] ?? join(tmpdir(), 'tandem-flights.png'));
const tracePath = join(tmpdir(), 'tandem-flights-trace.json');
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const pct = (n: number) => `${(n * 100).toFixed(1)}%`;
const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const hh = (h: number) => `${String(h).padStart(2, '0')}:00`;

/** A bar over rows on a terminal; piped (CI logs), a line per quarter instead of redraws. */
function rowsBar(label: string): { update(p: { rows: number; totalRows?: number }): void; stop(): void } {
  if (process.stdout.isTTY) {
    const bar = new cliProgress.SingleBar(
      { format: `  ${label} {bar} {percentage}% | {value}/{total} rows | {duration_formatted}`, hideCursor: true, stream: process.stdout, formatValue: (v, _o, type) => (type === 'value' || type === 'total' ? fmt(v) : String(v)) },
      cliProgress.Presets.shades_classic,
    );
    let started = false;
    return {
      update({ rows, totalRows }) {
        if (!started) bar.start(totalRows ?? rows, 0);
        started = true;
        bar.update(rows);
      },
      stop: () => started && bar.stop(),
    };
  }
  let quarters = 0;
  return {
    update({ rows, totalRows }) {
      if (!totalRows) return;
      const q = Math.floor((4 * rows) / totalRows);
      if (q > quarters) console.log(`  ${label} ${String((quarters = q) * 25).padStart(3)}% | ${fmt(rows)}/${fmt(totalRows)} rows`);
    },
    stop() {},
  };
}

function describeEpoch(r: EpochRecord): string {
  return `epoch ${r.epoch}/${EPOCHS}  loss ${r.loss.toFixed(4)}  val acc ${pct(r.valAccuracy)}  ${fmt(r.samplesPerSecond)} flights/s  ${r.seconds.toFixed(1)} s`;
}

/** Runs `f`, adding its time to the stage timings printed at the end. */
const timings: [string, number][] = [];
async function stage<T>(name: string, f: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  const value = await f();
  timings.push([name, performance.now() - t0]);
  return value;
}

/**
 * The great-circle distance in km between (lat1, lon1) and (lat2, lon2), in degrees: the haversine
 * formula, one flight per thread. The same source runs as JavaScript in the CPU workers and as a
 * shader on the GPU; the planner splits each batch between them by their measured speed.
 */
const greatCircle = kernel('greatCircle', function (this: KernelThis, lat1: number[], lon1: number[], lat2: number[], lon2: number[]) {
  const i = this.thread.x;
  const rad = 0.017453292519943295;
  const p1 = lat1[i]! * rad;
  const p2 = lat2[i]! * rad;
  const sdLat = Math.sin((p2 - p1) * 0.5);
  const sdLon = Math.sin((lon2[i]! - lon1[i]!) * rad * 0.5);
  const a = sdLat * sdLat + Math.cos(p1) * Math.cos(p2) * sdLon * sdLon;
  return 2.0 * 6371.0088 * Math.asin(Math.min(1.0, Math.sqrt(a)));
});

// ---------------------------------------------------------------------------------------------
const started = performance.now();
console.log('Tandem: 3 million US flights (2001), from a Parquet file to delay statistics and a trained classifier\n');

await using td = await stage('start workers and devices', () => Tandem.create());
console.log('Devices found:');
for (const d of td.devices()) console.log(`  ${d.id.padEnd(10)} ${d.description}`);
const gpuFixes = new Set(td.unavailable.filter((u) => u.name === 'webgpu' || u.name === 'gpujs').map((u) => u.fix ?? u.reason));
if (!td.devices().some((d) => d.kind === 'gpu') && gpuFixes.size > 0) {
  console.log(`  no GPU found: ${[...gpuFixes].join('; ')}`);
}

// 1. One pass over the file.
const flights = await td.read(FLIGHTS);
const airports = (await td.read(AIRPORTS)).select('iata', 'latitude', 'longitude');
const table = flights
  .join(airports.rename({ latitude: 'lat1', longitude: 'lon1' }), { on: 'origin', right: 'iata' })
  .join(airports.rename({ latitude: 'lat2', longitude: 'lon2' }), { on: 'destination', right: 'iata' })
  .withColumn('km', greatCircle, ['lat1', 'lon1', 'lat2', 'lon2'])
  .mapBatches(new URL('./tasks/flights.ts', import.meta.url), 'hourOfDay', { output: { hour: 'int32', month: 'int32', weekday: 'int32', late: 'bool' } });

console.log(`\nReading ${FLIGHTS.split('/').pop()}: joining airports, great-circle distance (kernel), hour of departure (workers)`);
const bar = rowsBar('flights');
let pass;
try {
  pass = await stage('read + join + distance + hour (one pass)', () => table.toArrow({ onProgress: (p) => bar.update(p) }));
} finally {
  bar.stop();
}
if (args.values.explain) console.log(`\n${td.explain()}\n`);
const flown = await td.fromArrow(pass, 'flights in memory');

// 2. Statistics, from memory.
const { overall, byHour, worstRoutes, routes } = await stage('delay statistics (group-bys)', async () => {
  const overall = (await flown.groupBy('late').agg({ delay: ['mean', 'count'] }).toRows()) as { late: boolean; delay_mean: number; delay_count: number }[];
  const byHour = (await flown.groupBy('hour').agg({ delay: ['mean', 'count'] }).sort('hour').toRows()) as { hour: number; delay_mean: number; delay_count: number }[];
  const routeStats = await flown.groupBy(['origin', 'destination']).agg({ delay: ['mean', 'count'], km: 'mean' }).toArrow();
  const routes = routeStats.numRows;
  const byRoute = await td.fromArrow(routeStats, 'routes');
  const worstRoutes = (await byRoute.filter('delay_count', '>=', MIN_ROUTE_FLIGHTS).sort('delay_mean', { descending: true }).limit(5).toRows()) as {
    origin: string; destination: string; delay_mean: number; delay_count: number; km_mean: number;
  }[];
  return { overall, byHour, worstRoutes, routes };
});
const total = overall.reduce((n, g) => n + g.delay_count, 0);
const lateCount = overall.find((g) => g.late)?.delay_count ?? 0;
const meanDelay = overall.reduce((s, g) => s + g.delay_mean * g.delay_count, 0) / total;
const busy = byHour.filter((h) => h.delay_count >= total / 1000); // hours with a real schedule, not a handful of red-eyes
const best = busy.reduce((a, b) => (b.delay_mean < a.delay_mean ? b : a));
const worst = busy.reduce((a, b) => (b.delay_mean > a.delay_mean ? b : a));

console.log(`\n${fmt(total)} flights on ${fmt(routes)} routes: mean departure delay ${meanDelay.toFixed(1)} min, ${pct(lateCount / total)} more than 15 min late`);
console.log(`  by hour of departure: best ${hh(best.hour)} (${best.delay_mean.toFixed(1)} min), worst ${hh(worst.hour)} (${worst.delay_mean.toFixed(1)} min)`);
console.log(`  most delayed routes (flown at least ${MIN_ROUTE_FLIGHTS} times):`);
for (const r of worstRoutes) {
  console.log(`    ${r.origin} → ${r.destination}  ${fmt(r.km_mean).padStart(5)} km  ${r.delay_mean.toFixed(1).padStart(5)} min mean delay over ${fmt(r.delay_count)} flights`);
}

// 3. The classifier.
const data = await stage('training data (toTrainData)', () => flown.toTrainData({ features: FEATURES, label: 'late', testFraction: 0.2, seed: 1 }));
console.log(`\nTraining an MLP ${FEATURES.length}-32-16-2 to predict "late" from ${FEATURES.join(', ')}`);
console.log(`  ${fmt(data.train.y.size)} training flights (10% held out for validation), ${fmt(data.test.y.size)} test flights; Adam, batch ${BATCH}, ${EPOCHS} epochs, replicas: 'auto'`);
const progress = epochBars(EPOCHS, (r) => `  ${describeEpoch(r)}`);
const steps: StepRecord[] = [];
let result;
try {
  result = await stage('training', () => train({
    session: td,
    model: new URL('./models/tabular-mlp.ts', import.meta.url),
    config: { features: FEATURES.length, classes: data.classes, hidden: [32, 16] },
    data: { train: data.train }, // the test flights are judged below, with more than accuracy
    epochs: EPOCHS,
    batchSize: BATCH,
    replicas: 'auto',
    optimizer: { type: 'adam', learningRate: LEARNING_RATE },
    seed: 1,
    onStep: (s) => {
      steps.push(s);
      progress.step(s);
    },
    onEpoch: (r) => progress.epoch(r),
  }));
} finally {
  progress.stop();
}
console.log(`  replicas: ${result.replicas.map((r, i) => `r${i} ${r.description}`).join('; ')}`);

// Judged on the test flights: accuracy against always answering the majority class, and how many
// of the flights the model rates riskiest were late, against the base rate.
const evaluation = await stage('judging the test flights', async () => evaluate(result.weights, result.weightShapes, data.test.x.data, data.test.y.data, FEATURES.length));
console.log(`\nOn ${fmt(data.test.y.size)} held-out flights:`);
console.log(`  accuracy ${pct(evaluation.accuracy)}, against ${pct(evaluation.majority)} for always answering "${evaluation.majorityClass ? 'late' : 'on time'}" (the majority class)`);
console.log(`  cross-entropy ${evaluation.loss.toFixed(4)}, against ${evaluation.baseLoss.toFixed(4)} for predicting the base rate for every flight`);
console.log(`  of the 10% of flights it rates riskiest, ${pct(evaluation.topDecileLate)} were late (${pct(evaluation.lateRate)} of all flights were)`);

// 4. The chart and the trace.
await stage('chart and trace', async () => {
  await writeFile(chartPath, await chart(byHour, meanDelay, result.history, steps, evaluation.baseLoss).encode('png'));
  await td.trace(tracePath);
});
if (args.values.explain) console.log(`\n${td.explain()}`);

console.log('\nTimings:');
for (const [name, ms] of timings) console.log(`  ${name.padEnd(42)} ${secs(ms).padStart(7)}`);
console.log(`  ${'all, start to finish'.padEnd(42)} ${secs(performance.now() - started).padStart(7)}`);
console.log(`\nChart (delay by hour, loss per epoch): ${chartPath}`);
console.log(`Trace of every kernel, batch and training step: ${tracePath}\n  open it at https://ui.perfetto.dev`);
if (!args.values.explain) console.log('Where each stage ran and how long it took: npx tsx examples/flights.ts --explain');

// ---------------------------------------------------------------------------------------------

/**
 * The trained MLP (dense layers, ReLU between, softmax out; weights in getWeights() order: kernel
 * [in, out], bias) run over the test rows in plain JavaScript, and the numbers the report gives.
 */
function evaluate(weights: Float32Array[], shapes: number[][], x: Float32Array, y: Int32Array, features: number) {
  const n = y.length;
  const pLate = new Float64Array(n);
  let correct = 0;
  let loss = 0;
  for (let r = 0; r < n; r++) {
    let act = Float64Array.from(x.subarray(r * features, (r + 1) * features));
    for (let l = 0; l < weights.length; l += 2) {
      const [inDim, outDim] = shapes[l] as [number, number];
      const w = weights[l]!;
      const b = weights[l + 1]!;
      const out = new Float64Array(outDim);
      for (let j = 0; j < outDim; j++) {
        let s = b[j]!;
        for (let i = 0; i < inDim; i++) s += act[i]! * w[i * outDim + j]!;
        out[j] = l + 2 < weights.length ? Math.max(0, s) : s;
      }
      act = out;
    }
    const m = Math.max(act[0]!, act[1]!);
    const e0 = Math.exp(act[0]! - m);
    const e1 = Math.exp(act[1]! - m);
    const p = e1 / (e0 + e1);
    pLate[r] = p;
    if ((p > 0.5 ? 1 : 0) === y[r]) correct++;
    loss -= Math.log(Math.max(1e-7, y[r] ? p : 1 - p));
  }
  const lates = y.reduce((s, v) => s + v, 0);
  const lateRate = lates / n;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => pLate[b]! - pLate[a]!);
  const top = order.slice(0, Math.round(n / 10));
  return {
    accuracy: correct / n,
    majority: Math.max(lateRate, 1 - lateRate),
    majorityClass: lateRate > 0.5 ? 1 : 0,
    loss: loss / n,
    baseLoss: -(lateRate * Math.log(lateRate) + (1 - lateRate) * Math.log(1 - lateRate)),
    lateRate,
    topDecileLate: top.reduce((s, i) => s + y[i]!, 0) / top.length,
  };
}

/** Two panels: mean delay by hour of departure (bars), and the training loss (per step, and per epoch). */
function chart(byHour: readonly { hour: number; delay_mean: number; delay_count: number }[], mean: number, history: readonly EpochRecord[], stepLog: readonly StepRecord[], baseLoss: number) {
  const W = 1200, H = 480, PAD = { l: 70, r: 24, t: 64, b: 64 }, GAP = 90;
  const canvas = createCanvas(W, H);
  const ctx = canvas.getContext('2d');
  const font = (px: number, bold = false) => `${bold ? 'bold ' : ''}${px}px "DejaVu Sans", "Helvetica Neue", Arial, sans-serif`;
  ctx.fillStyle = 'white';
  ctx.fillRect(0, 0, W, H);
  const panelW = (W - PAD.l - GAP - PAD.r) / 2;
  const ph = H - PAD.t - PAD.b;

  const axes = (x0: number, title: string, xLabel: string, yLabel: string, yMin: number, yMax: number, yTicks: number[], yFmt: (v: number) => string) => {
    const y = (v: number) => PAD.t + ph - ((v - yMin) / (yMax - yMin)) * ph;
    ctx.font = font(16, true);
    ctx.fillStyle = '#222';
    ctx.textAlign = 'left';
    ctx.fillText(title, x0, PAD.t - 24);
    ctx.font = font(12);
    ctx.strokeStyle = '#e3e3e3';
    ctx.lineWidth = 1;
    for (const t of yTicks) {
      ctx.beginPath();
      ctx.moveTo(x0, y(t));
      ctx.lineTo(x0 + panelW, y(t));
      ctx.stroke();
      ctx.fillStyle = '#555';
      ctx.textAlign = 'right';
      ctx.fillText(yFmt(t), x0 - 8, y(t) + 4);
    }
    ctx.strokeStyle = '#444';
    ctx.strokeRect(x0, PAD.t, panelW, ph);
    ctx.fillStyle = '#333';
    ctx.font = font(13);
    ctx.textAlign = 'center';
    ctx.fillText(xLabel, x0 + panelW / 2, H - 18);
    ctx.save();
    ctx.translate(x0 - 52, PAD.t + ph / 2);
    ctx.rotate(-Math.PI / 2);
    ctx.fillText(yLabel, 0, 0);
    ctx.restore();
    ctx.font = font(12);
    return y;
  };

  // Left: mean delay by hour.
  const x0 = PAD.l;
  const maxDelay = Math.max(...byHour.map((h) => h.delay_mean), mean);
  const minDelay = Math.min(0, ...byHour.map((h) => h.delay_mean));
  const step = maxDelay > 60 ? 20 : 10;
  const yTop = Math.ceil(maxDelay / step) * step;
  const yBottom = Math.floor(minDelay / step) * step;
  const ticks = Array.from({ length: (yTop - yBottom) / step + 1 }, (_, i) => yBottom + i * step);
  const y = axes(x0, 'Mean departure delay by hour of day', 'scheduled departure (hour of day)', 'mean delay (minutes)', yBottom, yTop, ticks, (v) => String(v));
  const slot = panelW / 24;
  const busiest = Math.max(...byHour.map((h) => h.delay_count));
  for (const h of byHour) {
    const bx = x0 + h.hour * slot + slot * 0.15;
    const top = y(Math.max(0, h.delay_mean));
    const bottom = y(Math.min(0, h.delay_mean));
    // Faint bars: hours with few flights (under 1% of the busiest hour's), whose means are noisy.
    ctx.fillStyle = h.delay_count < busiest / 100 ? '#c9d6e3' : h.delay_mean > mean ? '#c0392b' : '#2471a3';
    ctx.fillRect(bx, top, slot * 0.7, Math.max(1, bottom - top));
  }
  ctx.fillStyle = '#555';
  ctx.textAlign = 'center';
  for (let hour = 0; hour < 24; hour += 3) ctx.fillText(String(hour), x0 + hour * slot + slot / 2, PAD.t + ph + 18);
  ctx.setLineDash([6, 4]);
  ctx.strokeStyle = '#333';
  ctx.beginPath();
  ctx.moveTo(x0, y(mean));
  ctx.lineTo(x0 + panelW, y(mean));
  ctx.stroke();
  ctx.setLineDash([]);
  // The legend, top right, above the evening bars.
  ctx.textAlign = 'right';
  const lx0 = x0 + panelW - 10;
  ctx.fillStyle = '#333';
  ctx.fillText(`- - -  all flights: ${mean.toFixed(1)} min`, lx0, PAD.t + 18);
  ctx.fillStyle = '#c0392b';
  ctx.fillText('■ above that', lx0 - 90, PAD.t + 36);
  ctx.fillStyle = '#2471a3';
  ctx.fillText('■ below that', lx0, PAD.t + 36);
  ctx.fillStyle = '#8fa3b6';
  ctx.fillText('■ few flights (< 1% of the busiest hour\'s)', lx0, PAD.t + 54);

  // Right: training loss, per step (thin) and per epoch (points), with the base-rate loss.
  const x1 = PAD.l + panelW + GAP;
  const perEpoch = stepLog.length > 0 ? stepLog[0]!.steps : 1;
  const smooth: [number, number][] = [];
  const window = Math.max(1, Math.round(perEpoch / 20));
  for (let i = 0; i < stepLog.length; i += window) {
    const chunk = stepLog.slice(i, i + window);
    smooth.push([(chunk[0]!.globalStep + chunk.length / 2) / perEpoch, chunk.reduce((s, r) => s + r.loss, 0) / chunk.length]);
  }
  // The scale fits the epochs' losses and the baseline; the first steps' higher losses run off the top.
  const low = Math.min(...smooth.map(([, l]) => l), ...history.map((h) => h.loss));
  const high = Math.max(...history.map((h) => h.loss), baseLoss) + 0.005;
  const tick = [0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5].find((t) => (high - low) / t <= 6) ?? 1;
  const lo = Math.floor(low / tick) * tick;
  const hi = Math.ceil(high / tick) * tick;
  const lossTicks = Array.from({ length: Math.round((hi - lo) / tick) + 1 }, (_, i) => lo + i * tick);
  const ly = axes(x1, 'Classifier training loss', 'epoch', 'cross-entropy', lo, hi, lossTicks, (v) => v.toFixed(3));
  const lx = (epoch: number) => x1 + (epoch / history.length) * panelW;
  ctx.fillStyle = '#555';
  ctx.textAlign = 'center';
  for (let e = 0; e <= history.length; e++) ctx.fillText(String(e), lx(e), PAD.t + ph + 18);
  ctx.strokeStyle = '#f0b7ae';
  ctx.lineWidth = 1.5;
  ctx.save();
  ctx.beginPath();
  ctx.rect(x1, PAD.t, panelW, ph);
  ctx.clip();
  line(ctx, smooth.map(([e, l]) => [lx(e), ly(l)]));
  ctx.restore();
  ctx.strokeStyle = '#c0392b';
  ctx.lineWidth = 2.5;
  const points = history.map((h) => [lx(h.epoch), ly(h.loss)] as [number, number]);
  line(ctx, points);
  ctx.fillStyle = '#c0392b';
  for (const [px, py] of points) {
    ctx.beginPath();
    ctx.arc(px, py, 4, 0, 2 * Math.PI);
    ctx.fill();
  }
  ctx.setLineDash([6, 4]);
  ctx.strokeStyle = '#333';
  ctx.lineWidth = 1;
  line(ctx, [[x1, ly(baseLoss)], [x1 + panelW, ly(baseLoss)]]);
  ctx.setLineDash([]);
  ctx.fillStyle = '#333';
  ctx.textAlign = 'right';
  ctx.fillText(`base rate alone: ${baseLoss.toFixed(3)}`, x1 + panelW - 6, ly(baseLoss) - 6);
  ctx.textAlign = 'left';
  ctx.fillStyle = '#c0392b';
  ctx.fillText('● mean per epoch', x1 + 8, PAD.t + ph - 26);
  ctx.fillStyle = '#e08b7d';
  ctx.fillText('— per step (smoothed)', x1 + 8, PAD.t + ph - 10);
  return canvas;
}

function line(ctx: SKRSContext2D, pts: readonly (readonly [number, number])[]) {
  ctx.beginPath();
  pts.forEach(([px, py], i) => (i === 0 ? ctx.moveTo(px, py) : ctx.lineTo(px, py)));
  ctx.stroke();
}
