// Packs what the device script (bench/device/remote.sh) needs on a machine that has no Node and no
// npm registry, into .device/ (git-ignored, under the device tool's 64 MiB carry limit):
//   node.xz            this machine's Node binary
//   payload.tar.xz     the runtime closure of node_modules for the GPU benches, the built
//                      packages (packages/*/dist) and the two vega-datasets files they read
//   gl/*.deb           the Vulkan loader and glvnd (see GL_PACKAGES)
// Usage: node bench/device/pack.mjs   (after `npm install` and `npm run build`)
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const out = join(root, '.device');
// What the GPU benches import (bench/kernels.ts, planner.ts, data.ts with --peers tandem,arquero);
// their dependencies are followed from each package.json.
const ROOTS = ['@tandem/core', '@tandem/backends', 'tsx', 'arquero'];
const EXCLUDE = [
  '*.map', '*.d.ts', '*.d.mts', '*.d.cts', '*.md', '*.ts.map',
  // Dawn for other platforms, and the old Dawn gpu.js pins (Tandem gives gpu.js the 0.6 one).
  'node_modules/webgpu/dist/darwin*', 'node_modules/webgpu/dist/win32*', 'node_modules/webgpu/dist/linux-arm64',
  'node_modules/gpu.js/node_modules/webgpu',
  // Browser bundles: Node loads each tfjs package's `main` (dist/tf-*.node.js) and gpu.js's src/.
  'tf-*.es2017.js', 'tf-*.fesm.js', 'tf-*.min.js', '*_test.js', 'gpu-browser*.js',
  'node_modules/parquet-wasm/bundler', 'node_modules/parquet-wasm/esm',
];
const DATA = ['node_modules/vega-datasets/data/flights-3m.parquet', 'node_modules/vega-datasets/data/airports.csv', 'node_modules/vega-datasets/package.json'];

/** The directory Node would load `name` from, looking up from `from` as its resolver does. */
function packageDir(name, from) {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    if (dir === dirname(dir)) return undefined;
  }
}

const seen = new Map(); // real path → path under root as Node finds it
const queue = ROOTS.map((name) => [name, root]);
while (queue.length) {
  const [name, from] = queue.pop();
  const dir = packageDir(name, from);
  if (!dir) continue; // an optional dependency not installed here (tfjs-node, say)
  const real = realpathSync(dir);
  if (seen.has(real)) continue;
  seen.set(real, dir);
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  for (const dep of Object.keys({ ...pkg.dependencies, ...pkg.optionalDependencies })) queue.push([dep, real]);
}

const paths = new Set(DATA);
for (const [real, dir] of seen) {
  // Workspace packages are links into packages/, which travel as the working tree; their build
  // output (dist/, git-ignored) does not, so it goes in the payload.
  if (real.startsWith(join(root, 'packages'))) {
    paths.add(relative(root, dir));
    const dist = join(real, 'dist');
    if (existsSync(dist)) paths.add(relative(root, dist));
  } else paths.add(relative(root, dir));
}
for (const p of ['node_modules/@tandem/bench']) if (existsSync(join(root, p))) paths.add(p);

rmSync(out, { recursive: true, force: true });
mkdirSync(join(out, 'gl'), { recursive: true });
const list = join(out, 'files.txt');
writeFileSync(list, [...paths].sort().join('\n') + '\n');
execFileSync('tar', ['-C', root, '-cf', join(out, 'payload.tar'), ...EXCLUDE.map((e) => `--exclude=${e}`), '-T', list], { stdio: 'inherit' });
execFileSync('xz', ['-T0', '-6', join(out, 'payload.tar')], { stdio: 'inherit' });
execFileSync('sh', ['-c', `xz -T0 -6 -c "${process.execPath}" > "${join(out, 'node.xz')}"`], { stdio: 'inherit' });
// The Vulkan loader and glvnd, which NVIDIA's Vulkan driver (libGLX_nvidia) needs beside it.
const GL_PACKAGES = ['libvulkan1', 'libglvnd0', 'libegl1', 'libgl1', 'libglx0', 'libopengl0', 'libgles2'];
// The device README's recipe for them: amd64 packages, fetched with their own lists.
const apt = ['-oAPT::Architecture=amd64', '-oAPT::Architectures=amd64', '-oDir::State::Lists=/tmp/amd64'];
try {
  mkdirSync('/tmp/amd64/partial', { recursive: true });
  execFileSync('apt-get', [...apt, '-qq', 'update'], { stdio: 'ignore' });
  execFileSync('apt-get', [...apt, 'download', ...GL_PACKAGES], { cwd: join(out, 'gl'), stdio: 'ignore' });
} catch (error) {
  console.warn(`no Vulkan loader packed (${error.message.split('\n')[0]}): the device must have its own`);
}
const size = (f) => (statSync(f).size / 2 ** 20).toFixed(1);
console.log(`packed ${seen.size} packages into .device/: payload ${size(join(out, 'payload.tar.xz'))} MiB, node ${size(join(out, 'node.xz'))} MiB`);
