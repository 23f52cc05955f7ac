/**
 * `npx tandem <command>`:
 *   devices     every backend with its device, or why it is unavailable and how to fix that
 *   calibrate   time kernels on every device at a few sizes, save the learned costs, print them
 */
import { Tandem } from '@tandem/core';
import { Tensor } from '@tandem/core/backend';
import { predictPower } from '@tandem/core/internal/planner/power-fit';
import { listDevices } from './index.ts';

function formatBytes(n: number): string {
  return n >= 2 ** 30 ? `${(n / 2 ** 30).toFixed(1)} GiB` : `${Math.round(n / 2 ** 20)} MiB`;
}

async function devices(): Promise<number> {
  const rows = await listDevices();
  // webgpu and gpujs share one Dawn adapter, so a missing driver fails both with the same fix: say it once.
  const fixesShown = new Set<string>();
  for (const row of rows) {
    if (row.status === 'available') {
      const d = row.device;
      const flags = [d.kind, d.software ? 'software' : '', `max buffer ${formatBytes(d.limits.maxBufferBytes)}`].filter(Boolean).join(', ');
      console.log(`✓ ${row.backend.padEnd(7)} ${d.id.padEnd(12)} ${d.description}  [${flags}]`);
    } else {
      const reason = row.fix ? row.reason.replace(` — ${row.fix}`, '') : row.reason;
      const shown = row.fix !== undefined && fixesShown.has(row.fix);
      console.log(`✗ ${row.backend.padEnd(7)} unavailable: ${reason}${shown ? ' (fix above)' : ''}`);
      if (row.fix && !shown) {
        fixesShown.add(row.fix);
        console.log(`  fix: ${row.fix}`);
      }
    }
  }
  return 0;
}

/** Kernels and sizes calibration measures: enough points for a·nᵇ + c, a few seconds per device. */
const CALIBRATION: Array<{ kernel: string; sizes: number[]; make(n: number): Tensor[] }> = [
  { kernel: 'saxpy', sizes: [1 << 14, 1 << 16, 1 << 18, 1 << 20, 1 << 22], make: (n) => [Tensor.zeros([n]), Tensor.zeros([n])] },
  { kernel: 'sum', sizes: [1 << 14, 1 << 16, 1 << 18, 1 << 20, 1 << 22], make: (n) => [Tensor.zeros([n])] },
  { kernel: 'matmul', sizes: [64, 128, 256, 512], make: (n) => [Tensor.zeros([n, n]), Tensor.zeros([n, n])] },
];

async function calibrate(): Promise<number> {
  const td = await Tandem.create();
  try {
    for (const device of td.devices()) {
      process.stdout.write(`calibrating ${device.id} …`);
      for (const { kernel, sizes, make } of CALIBRATION) {
        for (const n of sizes) {
          const args = make(n);
          const run = () => {
            const ops = td.ops as unknown as Record<string, (...a: unknown[]) => Tensor>;
            return (kernel === 'saxpy' ? ops.saxpy!(args[0], args[1], 2, { device: device.id }) : ops[kernel]!(...args, { device: device.id })).values();
          };
          // The first run compiles and uploads; the next ones are what the planner should expect.
          try {
            for (let rep = 0; rep < 3; rep++) await run();
          } catch {
            break; // this device does not run this kernel
          }
        }
      }
      console.log(' done');
    }
  } finally {
    await td.close();
  }
  console.log(`\nLearned models (t = a·nᵇ + c, ms; n = output elements, or input elements for reductions):`);
  for (const row of td.costs.describe().sort((a, b) => a.key.localeCompare(b.key))) {
    if (!row.fit) continue;
    const { a, b, c } = row.fit;
    const at = row.kind === 'transfer' ? `${(1 / Math.max(a, 1e-12) / 1e6).toFixed(2)} GB/s, latency ${c.toFixed(3)} ms` : `1M elements → ${predictPower(row.fit, 1 << 20).toFixed(2)} ms`;
    console.log(`  ${row.kind.padEnd(8)} ${row.key.padEnd(22)} a=${a.toExponential(2)} b=${b.toFixed(3)} c=${c.toFixed(3)}  (${row.samples} samples; ${at})`);
  }
  return 0;
}

const commands: Record<string, () => Promise<number>> = { devices, calibrate };
const [command = 'help'] = process.argv.slice(2);
const run = commands[command];
if (!run) {
  console.log('usage: tandem <command>\n\n  devices     list every backend, its device and status (and how to fix an unavailable one)\n  calibrate   time kernels on every device, save the learned costs (reused by later sessions) and print them');
  process.exitCode = command === 'help' || command === '--help' ? 0 : 2;
} else {
  process.exitCode = await run();
}
