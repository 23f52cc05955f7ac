/**
 * Bench dispatcher: `npm run bench -- <name> [options]` (or `npx tsx run.ts <name>` in bench/)
 * runs `bench/<name>.ts`, whose default export is `(args: string[]) => Promise<void>`.
 * Any `*.ts` file next to this one is a bench.
 */
import { readdirSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const available = readdirSync(here)
  .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts') && f !== 'run.ts')
  .map((f) => f.slice(0, -3))
  .sort();

const [name, ...args] = process.argv.slice(2);
const usage = `usage: npm run bench -- <name> [options]\navailable benches: ${available.join(', ') || '(none)'}`;

if (!name || name === '--help' || name === '-h') {
  console.error(name ? usage : `no bench named.\n${usage}`);
  process.exit(name ? 0 : 2);
}
if (!available.includes(name)) {
  console.error(`unknown bench '${name}'.\n${usage}`);
  process.exit(2);
}

const mod = (await import(pathToFileURL(`${here}${name}.ts`).href)) as { default?: unknown };
if (typeof mod.default !== 'function') {
  console.error(`bench/${name}.ts has no default export (args: string[]) => Promise<void>`);
  process.exit(2);
}
await (mod.default as (args: string[]) => Promise<void>)(args);
