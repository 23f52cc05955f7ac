/**
 * A real device loss on demand: once armed, the next GPU device to begin recording commands is
 * destroyed right after its encoder is made, so the op's work is under way when its device goes.
 * Needs Dawn's globals, which a session with a GPU backend installs.
 */
let armed: (() => void) | undefined;
let installed = false;

/** Arms the trigger; resolves once a device has been destroyed. */
export function loseGpuWhenOpStarts(): Promise<void> {
  if (!installed) {
    installed = true;
    const proto = (globalThis as unknown as { GPUDevice: { prototype: GPUDevice } }).GPUDevice.prototype;
    const create = proto.createCommandEncoder;
    proto.createCommandEncoder = function (this: GPUDevice, ...args: Parameters<GPUDevice['createCommandEncoder']>) {
      const encoder = create.apply(this, args);
      const fire = armed;
      if (fire) {
        armed = undefined;
        this.destroy();
        fire();
      }
      return encoder;
    };
  }
  return new Promise((resolve) => (armed = resolve));
}
