/**
 * Dawn's native stderr log stays off a newcomer's terminal: real child processes open Dawn on this
 * machine's driver, and with the driver hidden. They run as `cmd 2>&1 | cat`, so their stderr is a
 * pipe as in a terminal pipeline: Node's own `execFile` would give them a socket, which
 * native-stderr.ts can't reopen and so leaves alone.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const OPEN = fileURLToPath(new URL('./fixtures/webgpu/open-adapter.ts', import.meta.url));
const CLI = fileURLToPath(new URL('../bin/tandem.mjs', import.meta.url));
/** A debugging switch left on in the environment would make these tests meaningless. */
const ENV = { ...process.env, TANDEM_GPU_LOG: undefined, VK_LOADER_DEBUG: undefined };
const NO_DRIVER = { ...ENV, VK_ICD_FILENAMES: '/nonexistent/icd.json', VK_DRIVER_FILES: '/nonexistent/icd.json' };

/** Everything a terminal would show: the command's stdout and stderr through one pipe. */
async function piped(args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  const { stdout } = await promisify(execFile)('sh', ['-c', '"$@" 2>&1 | cat', 'sh', process.execPath, ...args], { env, timeout: 120_000 });
  return stdout;
}

/** The fixture's JSON line among whatever else the terminal got. */
function opened(output: string): { opened: boolean; reason?: string } {
  return JSON.parse(output.split('\n').find((line) => line.startsWith('{'))!) as { opened: boolean; reason?: string };
}

describe.skipIf(process.platform !== 'linux')('Dawn log', () => {
  it('opening an adapter prints no "artificially reduced" limit warnings', async (ctx) => {
    const output = await piped(['--import', 'tsx', OPEN], ENV);
    const result = opened(output);
    if (!result.opened) {
      if (process.env.TANDEM_REQUIRE_GPU === '1') throw new Error(`TANDEM_REQUIRE_GPU=1 but no adapter: ${result.reason}`);
      ctx.skip(`no WebGPU adapter: ${result.reason}`);
    }
    expect(output).not.toContain('artificially reduced');
    expect(output.trim().split('\n')).toHaveLength(1);
  });

  it('TANDEM_GPU_LOG=1 lets Dawn\'s log through', async (ctx) => {
    const output = await piped(['--import', 'tsx', OPEN], { ...ENV, TANDEM_GPU_LOG: '1' });
    const result = opened(output);
    if (!result.opened) ctx.skip(`no WebGPU adapter: ${result.reason}`);
    // Dawn clamps these on lavapipe, NVIDIA and RADV; a driver within Dawn's limits logs nothing.
    if (output.trim().split('\n').length === 1) ctx.skip('this driver gives Dawn nothing to log');
    expect(output).toMatch(/^Warning: /m);
  });

  it('`tandem devices` without a Vulkan driver prints the fix once and none of the loader\'s lines', async (ctx) => {
    // Through tsx: under vitest the environment asks for Tandem's TypeScript sources (the tandem:source condition).
    const output = await piped(['--import', 'tsx', CLI, 'devices'], NO_DRIVER);
    if (/^✓ webgpu/m.test(output)) ctx.skip('Dawn found an adapter without Vulkan here');
    for (const raw of ['vkCreateInstance', 'Found no drivers', 'loader_get_json', "Couldn't load Vulkan", 'VK_ERROR', 'CheckVkSuccessImpl', 'Warning:']) {
      expect(output).not.toContain(raw);
    }
    expect(output.split('\n').filter((line) => line.includes('npm run setup:gpu'))).toHaveLength(1);
    expect(output).toMatch(/^✗ webgpu +unavailable: .*no Vulkan driver found/m);
  });
});

describe('splitDawnLines', () => {
  it('keeps Dawn\'s lines with their indented and blank continuations, and passes the rest on', async () => {
    const { splitDawnLines } = await import('../src/dawn-log.ts');
    const text = 'Warning: vkCreateInstance failed\n    at CheckVkSuccessImpl (x.cpp:106)\n\n(node:1) Warning: other\nplain\nError: e\n';
    expect(splitDawnLines(text)).toEqual({
      dawn: 'Warning: vkCreateInstance failed\n    at CheckVkSuccessImpl (x.cpp:106)\n\nError: e',
      other: '(node:1) Warning: other\nplain\n',
    });
    expect(splitDawnLines('')).toEqual({ dawn: '', other: '' });
  });
});
