import { cpus, loadavg } from 'node:os';

/** CPU used during a bench by this process (all its threads) and by everything else on the machine. */
export interface LoadReport {
  readonly wallMs: number;
  /** This process's CPU time over wall time, in cores (2.0 = two cores busy all along). */
  readonly ownCores: number;
  /** Everything else's CPU time over wall time, in cores: other processes competing with the bench. */
  readonly otherCores: number;
  readonly cores: number;
  readonly loadavg1mStart: number;
  readonly loadavg1mEnd: number;
}

function busyMs(): number {
  let busy = 0;
  for (const c of cpus()) busy += c.times.user + c.times.nice + c.times.sys + c.times.irq;
  return busy;
}

/**
 * Starts watching machine load; `stop()` reports how much CPU went to others while the bench
 * ran. On a shared machine a large `otherCores` means the numbers are noisy.
 */
export function watchLoad(): { stop(): LoadReport } {
  const t0 = performance.now();
  const sys0 = busyMs();
  const own0 = process.cpuUsage();
  const load0 = loadavg()[0]!;
  return {
    stop() {
      const wallMs = performance.now() - t0;
      const sysMs = busyMs() - sys0;
      const own = process.cpuUsage(own0);
      const ownMs = (own.user + own.system) / 1000;
      const round = (n: number) => Math.round(n * 100) / 100;
      return {
        wallMs,
        ownCores: round(ownMs / wallMs),
        otherCores: round(Math.max(0, sysMs - ownMs) / wallMs),
        cores: cpus().length,
        loadavg1mStart: round(load0),
        loadavg1mEnd: round(loadavg()[0]!),
      };
    },
  };
}

export function describeLoad(l: LoadReport): string {
  return `CPU in use during the run: this bench ${l.ownCores.toFixed(2)} cores, other processes ${l.otherCores.toFixed(2)} cores (of ${l.cores}); 1-min load average ${l.loadavg1mStart} → ${l.loadavg1mEnd}`;
}
