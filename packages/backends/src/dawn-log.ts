/**
 * Keeps Dawn's adapter-discovery log off the terminal, and at hand for whoever debugs.
 *
 * What prints (Dawn in npm `webgpu` 0.6.2, all through `dawn::WarningLog()` → stderr, synchronously
 * inside the first `navigator.gpu.requestAdapter()` of each Dawn instance, i.e. once per thread):
 * - on a driver whose limits exceed Dawn's (lavapipe, NVIDIA, RADV), from Limits.cpp:
 *   `Warning: maxDynamic{Uniform,Storage}BuffersPerPipelineLayout artificially reduced from 1000000 to 16 …`
 * - with no Vulkan driver: the loader's `vkCreateInstance: Found no drivers!`, which reaches Dawn
 *   through the debug-utils messenger it chains into vkCreateInstance (the loader itself prints
 *   nothing unless VK_LOADER_DEBUG is set), then Dawn's own
 *   `Warning: vkCreateInstance failed with VK_ERROR_INCOMPATIBLE_DRIVER` and a source location;
 *   without libvulkan at all, `Couldn't load Vulkan: …`.
 * None of it is actionable for a user: the first is expected, and the rest becomes the
 * BackendUnavailableError that says how to get a driver. `TANDEM_GPU_LOG=1` lets it all through.
 * Held back on the main thread only, where Tandem opens its GPU backends (see native-stderr.ts
 * for why a worker thread's Dawn still prints).
 */
import { captureStderr } from './native-stderr.ts';

/** Set to 1 to see Dawn's and the Vulkan driver's own output on stderr, as printed. */
export const GPU_LOG_ENV = 'TANDEM_GPU_LOG';

/** Dawn's log line shape ("%s: %s\n" with severity Debug/Info/Warning/Error); a continuation is indented or blank. */
const DAWN_LINE = /^(Debug|Info|Warning|Error): /;

const messages: string[] = [];

/**
 * Runs a synchronous Dawn call with its stderr log held back: Dawn's lines are kept (see
 * {@link dawnMessages}); anything else written meanwhile (other threads) is passed on to stderr.
 * With `TANDEM_GPU_LOG=1` it just runs the call.
 *
 * @example
 * ```ts
 * const pending = quietDawn(() => gpu.requestAdapter());
 * ```
 */
export function quietDawn<T>(call: () => T): T {
  if (process.env[GPU_LOG_ENV] === '1') return call();
  const { result, captured } = captureStderr(call);
  const { dawn, other } = splitDawnLines(captured);
  if (dawn) messages.push(dawn);
  if (other) process.stderr.write(other);
  return result;
}

/**
 * What Dawn logged on this thread while {@link quietDawn} held it back, oldest first.
 *
 * @example
 * ```ts
 * if (!adapter) console.error(dawnMessages().join('\n'));
 * ```
 */
export function dawnMessages(): readonly string[] {
  return messages;
}

/**
 * Separates Dawn's log lines (with their indented or blank continuation lines) from other text.
 *
 * @example
 * ```ts
 * splitDawnLines('Warning: x\n    at y\nhello\n'); // { dawn: 'Warning: x\n    at y', other: 'hello\n' }
 * ```
 */
export function splitDawnLines(text: string): { dawn: string; other: string } {
  const dawn: string[] = [];
  const other: string[] = [];
  let inDawn = false;
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  for (const line of lines) {
    inDawn = DAWN_LINE.test(line) || (inDawn && (line.trim() === '' || /^\s/.test(line)));
    (inDawn ? dawn : other).push(line);
  }
  while (dawn.at(-1)?.trim() === '') dawn.pop();
  return { dawn: dawn.join('\n'), other: other.length ? `${other.join('\n')}\n` : '' };
}
