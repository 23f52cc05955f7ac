/** Waits `ms` without using the CPU, then returns `i`: jobs that hold a node without loading the machine (the recovery section). */
export async function nap(ms: number, i: number): Promise<{ i: number; pid: number }> {
  await new Promise((resolve) => setTimeout(resolve, ms));
  return { i, pid: process.pid };
}
