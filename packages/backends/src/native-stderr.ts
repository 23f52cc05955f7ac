/**
 * Captures what native code writes to file descriptor 2 during one synchronous call.
 *
 * Why this exists: Dawn's logging (`dawn::WarningLog()`, src/dawn/common/Log.cpp) is an
 * unconditional `fprintf(stderr, "Warning: …")` — only a compile-time DAWN_DISABLE_LOGGING turns
 * it off, and the npm `webgpu` build does not set it — so no `create([...])` flag, Dawn toggle or
 * Vulkan/Mesa environment variable quiets it, and JS `console` never sees it. Node has no dup2,
 * but open(2) always returns the lowest free descriptor: closing 2 and opening a file makes that
 * file descriptor 2, and reopening `/proc/self/fd/N` brings the original back.
 *
 * Only where that is safe: Linux, the main thread, and fd 2 a terminal, pipe or character device.
 * A worker thread is left alone: Node tracks the descriptors a worker opens and closes them when
 * it exits, so a worker restoring fd 2 would take stderr away from the whole process (seen: the
 * main thread's later output vanished, with "File descriptor 2 closed but not opened in unmanaged
 * mode"). A regular file is left alone (a reopened file gets its own offset, which would overwrite
 * a `> log 2>&1` sibling's output) and so is a socket — what Node's `spawn` gives a child for
 * 'pipe' — since a socket can't be reopened through /proc.
 */
import { closeSync, constants, fstatSync, openSync, readSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isMainThread } from 'node:worker_threads';

const STDERR = 2;

/**
 * Runs `fn` with fd 2 pointed at a temporary file and returns what landed there. Every thread of
 * the process shares fd 2, so whatever other threads wrote meanwhile is in `captured` too, for the
 * caller to pass on (worker threads' `console` goes through the main thread, busy in `fn`).
 * When capture isn't possible (see the module comment) `fn` runs as is and `captured` is ''.
 *
 * @example
 * ```ts
 * const { result, captured } = captureStderr(() => gpu.requestAdapter());
 * ```
 */
export function captureStderr<T>(fn: () => T): { result: T; captured: string } {
  return capturable() ? redirected(fn) : { result: fn(), captured: '' };
}

function capturable(): boolean {
  if (process.platform !== 'linux' || !isMainThread) return false;
  try {
    const s = fstatSync(STDERR);
    return s.isFIFO() || s.isCharacterDevice();
  } catch {
    return false;
  }
}

function redirected<T>(fn: () => T): { result: T; captured: string } {
  // O_NONBLOCK: opening a pipe write-only blocks until it has a reader; this fails (ENXIO) instead.
  const flags = constants.O_WRONLY | constants.O_NONBLOCK;
  let original: number;
  try {
    original = openSync(`/proc/self/fd/${STDERR}`, flags);
  } catch {
    return { result: fn(), captured: '' };
  }
  const path = join(tmpdir(), `tandem-stderr-${process.pid}-${Date.now()}.log`);
  const sink = openSync(path, 'w+');
  unlinkSync(path);
  try {
    closeSync(STDERR);
    const fd = openSync(`/proc/self/fd/${sink}`, 'a');
    if (fd !== STDERR) closeSync(fd); // another thread took 2 in between: nothing to capture into
    try {
      return { result: fn(), captured: fd === STDERR ? readAll(sink) : '' };
    } finally {
      if (fd === STDERR) {
        closeSync(STDERR);
        const back = openSync(`/proc/self/fd/${original}`, flags);
        if (back !== STDERR) closeSync(back); // as above: 2 was taken in between; nothing to put back
      }
    }
  } finally {
    closeSync(original);
    closeSync(sink);
  }
}

function readAll(fd: number): string {
  const chunks: Buffer[] = [];
  const buf = Buffer.alloc(64 * 1024);
  for (let pos = 0, n: number; (n = readSync(fd, buf, 0, buf.length, pos)) > 0; pos += n) chunks.push(Buffer.from(buf.subarray(0, n)));
  return Buffer.concat(chunks).toString('utf8');
}
