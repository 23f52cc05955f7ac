/**
 * PyTorch as a peer of the training bench: the same model, batch, optimizer, data and thread
 * count, run by `peers/torch_train.py` in a child process, by the python `python-torch.ts` finds.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pythonCandidates, pythonWithTorch } from './python-torch.ts';

const SCRIPT = fileURLToPath(new URL('../peers/torch_train.py', import.meta.url));

export interface TorchRun {
  readonly samplesPerSec: number;
  readonly seconds: number;
  readonly loss: number;
  readonly threads: number;
  readonly blas: string;
  readonly torch: string;
}

export interface TorchPeer {
  /** The python that has torch, and a line saying what it runs on (torch version, BLAS library). */
  readonly python: string;
  readonly describe: string;
  run(o: { model: 'mlp' | 'cnn'; batch: number; threads: number; epochs: number; warmup?: number }): TorchRun;
  dispose(): void;
}

function blasLibrary(): string {
  // Debian picks the BLAS behind libblas.so.3 through alternatives (OpenBLAS pthread, reference, …).
  try {
    return execFileSync('readlink', ['-f', '/etc/alternatives/libblas.so.3-x86_64-linux-gnu'], { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

/** PyTorch, or why it can't run here (the bench prints that line and skips the peer). */
export function findTorch(x: Float32Array, y: Int32Array): TorchPeer | string {
  const python = pythonWithTorch();
  if (!python) {
    return `PyTorch peer skipped: no python with torch (tried ${pythonCandidates().join(', ')}). On Debian: apt-get install python3-torch libopenblas0-pthread`;
  }
  const dir = mkdtempSync(join(tmpdir(), 'tandem-torch-'));
  const data = join(dir, 'train.bin');
  writeFileSync(data, Buffer.concat([Buffer.from(x.buffer, x.byteOffset, x.byteLength), Buffer.from(y.buffer, y.byteOffset, y.byteLength)]));
  const count = y.length;
  const version = execFileSync(python, ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8' }).trim();
  return {
    python,
    describe: `PyTorch ${version} (${python}), BLAS ${blasLibrary()}`,
    run: (o) => {
      const out = execFileSync(python, [SCRIPT, '--data', data, '--count', String(count), '--model', o.model, '--batch', String(o.batch),
        '--threads', String(o.threads), '--epochs', String(o.epochs), '--warmup', String(o.warmup ?? 1)], {
        encoding: 'utf8', env: { ...process.env, OMP_NUM_THREADS: String(o.threads), OPENBLAS_NUM_THREADS: String(o.threads) },
      });
      return JSON.parse(out.trim().split('\n').at(-1)!) as TorchRun;
    },
    dispose: () => rmSync(dir, { recursive: true, force: true }),
  };
}
