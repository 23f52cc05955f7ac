/**
 * The python that has torch, for the benches' PyTorch peers: `TANDEM_PYTHON`, else Debian's
 * `/usr/bin/python3`, else `python3` on the PATH (a pyenv or venv python may lack torch).
 */
import { spawnSync } from 'node:child_process';

/** Where the peers look for a python with torch, in order. */
export function pythonCandidates(): string[] {
  return [process.env.TANDEM_PYTHON, '/usr/bin/python3', 'python3'].filter((p): p is string => !!p);
}

/** The first candidate that imports torch, or undefined. */
export function pythonWithTorch(): string | undefined {
  return pythonCandidates().find((p) => spawnSync(p, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0);
}
