/**
 * PyTorch as a peer of the kernel bench: `peers/torch_kernels.py` kept running in a child process,
 * one request per timed run, so it alternates with the other peers like they do. On a machine with
 * CUDA it runs on the GPU (fp32, TF32 off: the same work as Tandem's fp32 kernels); otherwise on the
 * CPU with as many threads as Tandem's cpu backend has workers (OpenBLAS on Debian).
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { pythonWithTorch } from './python-torch.ts';
import type { Tensor } from '@tandem/core';
import type { KernelPeer } from './kernel-peers.ts';

const SCRIPT = fileURLToPath(new URL('../peers/torch_kernels.py', import.meta.url));

export interface TorchKernelPeer extends KernelPeer {
  dispose(): void;
}

/** Whether that python's torch sees a CUDA GPU. */
export function torchHasCuda(python: string): boolean {
  return spawnSync(python, ['-c', 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)'], { stdio: 'ignore' }).status === 0;
}

/**
 * Starts the peer, or says why it can't run here. `resident` (CUDA only): runs end when the GPU
 * is done, the result left on it: the device's own speed, shown for scale beside the peers that
 * all end with the result in host memory.
 */
export async function torchKernelPeer(threads: number, resident = false): Promise<TorchKernelPeer | string> {
  const python = pythonWithTorch();
  if (!python) return 'no python with torch (set TANDEM_PYTHON, or on Debian: apt-get install python3-torch libopenblas0-pthread)';
  const cuda = torchHasCuda(python);
  if (resident && !cuda) return 'no CUDA GPU';
  const device = cuda ? 'cuda' : 'cpu';
  const child: ChildProcessWithoutNullStreams = spawn(python, [SCRIPT, device, String(threads), resident ? 'resident' : 'host'], {
    env: { ...process.env, OMP_NUM_THREADS: String(threads), OPENBLAS_NUM_THREADS: String(threads), PYTHONUNBUFFERED: '1' },
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const exited = new Promise<never>((_, reject) => child.once('exit', (code) => reject(new Error(`torch peer exited (${code}): ${stderr.trim().split('\n').at(-1) ?? ''}`))));
  exited.catch(() => undefined);
  const next = async <T>(): Promise<T> => {
    const line = await Promise.race([lines.next(), exited]);
    if (line.done) throw new Error(`torch peer closed its output: ${stderr.trim()}`);
    return JSON.parse(line.value) as T;
  };
  const ask = async <T>(request: object): Promise<T> => {
    child.stdin.write(`${JSON.stringify(request)}\n`);
    return next<T>();
  };
  const hello = await next<{ torch: string; device: string; threads: number }>();
  const dir = mkdtempSync(join(tmpdir(), 'tandem-torch-kernels-'));
  const out = join(dir, 'out.bin');
  return {
    id: resident ? 'pytorch cuda, result left on the GPU' : `pytorch ${device}`,
    device: cuda
      ? `PyTorch ${hello.torch}, CUDA on ${hello.device} (fp32, TF32 off)${resident ? '; timed to the GPU finishing, without the copy to host memory the other peers include' : ''}`
      : `PyTorch ${hello.torch} on ${hello.threads} CPU threads`,
    cpu: !cuda,
    tandem: false,
    supports: () => true,
    async prepare(c) {
      const inputs: string[] = [];
      const shapes: number[][] = [];
      c.args.forEach((a, i) => {
        if (typeof a === 'number') return;
        const t = a as Tensor;
        const path = join(dir, `in${i}.bin`);
        const data = t.data as Float32Array;
        writeFileSync(path, Buffer.from(data.buffer, data.byteOffset, data.byteLength));
        inputs.push(path);
        shapes.push([...t.shape]);
      });
      const alpha = c.args.find((a): a is number => typeof a === 'number') ?? 0;
      await ask({ op: 'prepare', kernel: c.kernel, inputs, shapes, alpha, out });
      let last: Float32Array = new Float32Array(0);
      return {
        async run() {
          const { ms } = await ask<{ ms: number }>({ op: 'run' });
          const bytes = readFileSync(out);
          last = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
          return ms;
        },
        output: () => last,
        release: () => { void ask({ op: 'release' }); },
      };
    },
    dispose() {
      child.stdin.end();
      child.kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
