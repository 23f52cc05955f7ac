// After `tsc -p tsconfig.build.json`: copies the files of a package's src/ that tsc does not emit
// (plain .mjs modules such as the worker bootstrap) into dist/, at the same relative paths.
import { cpSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';

const src = join(process.cwd(), 'src');
const dist = join(process.cwd(), 'dist');
for (const entry of readdirSync(src, { recursive: true, withFileTypes: true })) {
  if (!entry.isFile() || !entry.name.endsWith('.mjs')) continue;
  const from = join(entry.parentPath, entry.name);
  cpSync(from, join(dist, relative(src, from)));
}
