import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { cpus, homedir, hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { CostModel } from './cost-model.ts';

/** Bumped when the file's meaning changes: older files are then ignored, not misread. */
export const COST_CACHE_VERSION = 1;

/** Where learned costs live: `$TANDEM_CACHE_DIR`, else `$XDG_CACHE_HOME/tandem`, else `~/.cache/tandem`. */
export function cacheDirectory(): string {
  if (process.env.TANDEM_CACHE_DIR) return process.env.TANDEM_CACHE_DIR;
  return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'tandem');
}

/**
 * The cache file for this host and these devices: measured costs are only valid on the hardware
 * they were measured on, so the key hashes the host, its CPU and every device's description.
 */
export function costCachePath(deviceDescriptions: readonly string[], dir = cacheDirectory()): string {
  const key = JSON.stringify([hostname(), cpus()[0]?.model ?? '', cpus().length, [...deviceDescriptions].sort()]);
  return join(dir, `costs-v${COST_CACHE_VERSION}-${createHash('sha256').update(key).digest('hex').slice(0, 16)}.json`);
}

/**
 * Loads the learned costs; a missing file gives an empty model, and a corrupt or stale one is
 * ignored with a warning (the session then recalibrates) — never a crash. Entries that parse but
 * hold implausible samples (non-finite, negative, sizes past 2⁵³, times past a day) are dropped
 * with one warning for all of them; the rest of the file is kept.
 */
export function loadCostModel(path: string, warn: (message: string) => void = (m) => process.emitWarning(m, 'TandemWarning')): CostModel {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return new CostModel();
  }
  try {
    const data = JSON.parse(text) as { version?: unknown; model?: unknown };
    if (data?.version !== COST_CACHE_VERSION) {
      warn(`ignoring cost cache ${path}: version ${String(data?.version)}, expected ${COST_CACHE_VERSION}; it will be recalibrated`);
      return new CostModel();
    }
    const dropped: string[] = [];
    const model = CostModel.fromJSON(data.model, dropped);
    if (dropped.length > 0) {
      const shown = dropped.slice(0, 5).join(', ') + (dropped.length > 5 ? `, and ${dropped.length - 5} more` : '');
      warn(`ignoring ${dropped.length} implausible entr${dropped.length === 1 ? 'y' : 'ies'} of cost cache ${path} (${shown}); they will be recalibrated`);
    }
    return model;
  } catch (error) {
    warn(`ignoring corrupt cost cache ${path} (${(error as Error).message}); it will be recalibrated`);
    return new CostModel();
  }
}

/** Writes the model atomically (temp file, then rename), so a crash never leaves half a file. */
export function saveCostModel(path: string, model: CostModel): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify({ version: COST_CACHE_VERSION, model: model.toJSON() }));
  renameSync(tmp, path);
}
