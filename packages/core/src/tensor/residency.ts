/** Where host memory is named in a {@link Residency} record. */
export const HOST = 'host';

/**
 * An MSI-style record of which places hold a valid copy of a tensor: the host (its shared
 * memory) and device ids such as `webgpu:0`. A write on one place invalidates every other copy,
 * so a backend uploads only when its copy is stale and the planner counts only real transfers.
 */
export class Residency {
  private readonly valid = new Set<string>([HOST]);
  /** Bumped on every write, so a device can tell its cached copy from a newer one. */
  version = 0;

  isValidOn(place: string): boolean {
    return this.valid.has(place);
  }

  /** A copy was made: `place` now holds the current data too. */
  addCopy(place: string): void {
    this.valid.add(place);
  }

  /** `place` wrote the data: every other copy is stale. */
  wroteOn(place: string): void {
    this.valid.clear();
    this.valid.add(place);
    this.version++;
  }

  /** Places holding a valid copy. */
  places(): string[] {
    return [...this.valid];
  }
}
