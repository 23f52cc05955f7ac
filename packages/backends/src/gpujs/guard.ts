import { DeviceLostError } from '@tandem/core/backend';

/**
 * Watches the device gpu.js owns, so no wait on it outlives the device: every await of GPU work
 * races the device's `lost` promise and a watchdog. A device that stops answering for
 * `timeoutMs` is treated as lost — a GPU queue that never drains is as good as gone, and the
 * `Backend` contract says `run` must settle.
 */
export class DeviceWatch {
  private reason: string | undefined;
  private readonly lostPromise: Promise<never>;
  private rejectLost!: (error: DeviceLostError) => void;

  constructor(
    private readonly deviceId: string,
    device: GPUDevice,
    private readonly timeoutMs: number,
  ) {
    this.lostPromise = new Promise<never>((_, reject) => {
      this.rejectLost = reject;
    });
    // Nobody may be waiting when the device goes; the rejection is still observed per guard().
    this.lostPromise.catch(() => undefined);
    void device.lost.then((info) => this.markLost(info.message || `reason: ${info.reason}`));
  }

  /** Why the device is gone, or `undefined` while it is healthy. */
  get lost(): string | undefined {
    return this.reason;
  }

  markLost(reason: string): void {
    if (this.reason !== undefined) return;
    this.reason = reason;
    this.rejectLost(this.error());
  }

  error(): DeviceLostError {
    return new DeviceLostError(this.deviceId, this.reason ?? 'unknown reason');
  }

  /** Throws `DeviceLostError` if the device is gone. */
  check(): void {
    if (this.reason !== undefined) throw this.error();
  }

  /** `work`, unless the device is lost or silent for `timeoutMs` first. */
  async guard<T>(work: Promise<T>, what: string): Promise<T> {
    this.check();
    let timer: NodeJS.Timeout | undefined;
    const watchdog = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        this.markLost(`${what} did not finish within ${this.timeoutMs} ms`);
        reject(this.error());
      }, this.timeoutMs);
    });
    try {
      return await Promise.race([work, this.lostPromise, watchdog]);
    } finally {
      clearTimeout(timer);
    }
  }
}
