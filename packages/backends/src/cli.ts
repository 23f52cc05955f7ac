/**
 * `npx tandem <command>`:
 *   devices   every backend with its device, or why it is unavailable and how to fix that
 */
import { listDevices } from './registry.ts';

function formatBytes(n: number): string {
  return n >= 2 ** 30 ? `${(n / 2 ** 30).toFixed(1)} GiB` : `${Math.round(n / 2 ** 20)} MiB`;
}

async function devices(): Promise<number> {
  const rows = await listDevices();
  for (const row of rows) {
    if (row.status === 'available') {
      const d = row.device;
      const flags = [d.kind, d.software ? 'software' : '', `max buffer ${formatBytes(d.limits.maxBufferBytes)}`].filter(Boolean).join(', ');
      console.log(`✓ ${row.backend.padEnd(7)} ${d.id.padEnd(12)} ${d.description}  [${flags}]`);
    } else {
      console.log(`✗ ${row.backend.padEnd(7)} unavailable: ${row.reason}`);
      if (row.fix && !row.reason.includes(row.fix)) console.log(`  fix: ${row.fix}`);
    }
  }
  return 0;
}

const commands: Record<string, () => Promise<number>> = { devices };
const [command = 'help'] = process.argv.slice(2);
const run = commands[command];
if (!run) {
  console.log('usage: tandem <command>\n\n  devices   list every backend, its device and status (and how to fix an unavailable one)');
  process.exitCode = command === 'help' || command === '--help' ? 0 : 2;
} else {
  process.exitCode = await run();
}
