import { arch, availableParallelism, cpus, platform, release, totalmem } from 'node:os';

/** The machine a bench ran on; goes into every results file. */
export interface MachineInfo {
  readonly cpu: string;
  /** Logical CPUs the OS reports. */
  readonly cores: number;
  /** What Node says this process may use (cgroup/affinity aware). */
  readonly availableParallelism: number;
  readonly memoryGiB: number;
  readonly node: string;
  readonly os: string;
  /** GPU adapter description; "none" until a bench drives a GPU. */
  readonly gpu: string;
}

export function machineInfo(gpu = 'none'): MachineInfo {
  const list = cpus();
  return {
    cpu: list[0]?.model.trim() || 'unknown CPU',
    cores: list.length,
    availableParallelism: availableParallelism(),
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    os: `${platform()} ${release()} ${arch()}`,
    gpu,
  };
}

/** One line, for the top of a printed report. */
export function describeMachine(m: MachineInfo): string {
  return `${m.cpu}, ${m.cores} cores (available parallelism ${m.availableParallelism}), ${m.memoryGiB} GiB, Node ${m.node}, ${m.os}, GPU: ${m.gpu}`;
}
