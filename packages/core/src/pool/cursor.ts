import { closeSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Where a worker records the index of the batch task it is running, so that after a crash the
 * pool charges the task that was running and re-runs its batch-mates uncharged. A thread uses
 * shared memory; a process (no shared memory) a 4-byte file it rewrites in place per task, which
 * the parent reads once the child is gone.
 */
export interface CursorLocation {
  readonly shared?: Int32Array;
  readonly file?: string;
}

/** The pool's side: made before the worker starts, read after it ends. */
export interface CursorReader {
  readonly location: CursorLocation;
  /** The task index the worker was running when it ended, or -1. */
  read(): number;
  dispose(): void;
}

let fileCount = 0;
/** Cursor files not yet disposed: removed when this process exits, however its workers ended. */
const liveFiles = new Set<string>();
let exitHookInstalled = false;

function removeLiveFiles(): void {
  for (const file of liveFiles) rmSync(file, { force: true });
  liveFiles.clear();
}

export function createCursor(kind: 'thread' | 'process'): CursorReader {
  if (kind === 'thread') {
    const shared = new Int32Array(new SharedArrayBuffer(4)).fill(-1);
    return { location: { shared }, read: () => Atomics.load(shared, 0), dispose() {} };
  }
  const file = join(tmpdir(), `tandem-cursor-${process.pid}-${fileCount++}`);
  writeFileSync(file, Buffer.from(new Int32Array([-1]).buffer));
  liveFiles.add(file);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', removeLiveFiles);
  }
  return {
    location: { file },
    read() {
      try {
        return readFileSync(file).readInt32LE(0);
      } catch {
        return -1;
      }
    },
    dispose() {
      liveFiles.delete(file);
      rmSync(file, { force: true });
    },
  };
}

/** The worker's side: returns the function that records the current task index. */
export function openCursor(location: CursorLocation | undefined): (index: number) => void {
  if (location?.shared) {
    const shared = location.shared;
    return (index) => Atomics.store(shared, 0, index);
  }
  if (location?.file) {
    const fd = openSync(location.file, 'r+');
    process.once('exit', () => closeSync(fd));
    const bytes = new Int32Array(1);
    const view = new Uint8Array(bytes.buffer);
    return (index) => {
      bytes[0] = index;
      writeSync(fd, view, 0, 4, 0);
    };
  }
  return () => {};
}
