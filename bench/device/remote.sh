#!/usr/bin/env bash
# The GPU benches on a machine lent through the device tool (bench/README.md, "On a real GPU"):
# unpacks .device/ (made by pack.mjs: Node, the node_modules the benches need, the Vulkan loader),
# probes the GPU, runs the kernels, planner and data benches, and leaves their reports in $OUT.
# One bench failing or running out of time does not stop the next. QUICK=1 shrinks every bench
# (a rehearsal on this machine before spending device time).
set -u
cd "$(dirname "$0")/../.."
OUT=${OUT:-/tmp/tandem-device-out}
mkdir -p "$OUT"
exec > >(tee -a "$OUT/device.log") 2>&1
step() { echo; echo "== $* ($(date +%T))"; }

step unpack
NODE_DIR=/tmp/tandem-node
mkdir -p "$NODE_DIR"
# Python's lzma and tarfile: the image may have no xz.
python3 - <<'PY' || exit 1
import lzma, shutil, tarfile
with lzma.open('.device/node.xz') as src, open('/tmp/tandem-node/node', 'wb') as dst:
    shutil.copyfileobj(src, dst)
with tarfile.open('.device/payload.tar.xz') as t:
    t.extractall('.', filter='fully_trusted')
PY
chmod +x "$NODE_DIR/node"
export PATH="$NODE_DIR:$PATH"
# NVIDIA's Vulkan driver needs glvnd beside the loader; the image may have neither.
for f in .device/gl/*.deb; do dpkg -x "$f" /; done
ldconfig
NV=/usr/local/nvidia/share
if [ -e "$NV/vulkan/icd.d/nvidia_icd.json" ]; then
  export VK_DRIVER_FILES="$NV/vulkan/icd.d/nvidia_icd.json" VK_ICD_FILENAMES="$NV/vulkan/icd.d/nvidia_icd.json"
  export __EGL_VENDOR_LIBRARY_FILENAMES="$NV/glvnd/egl_vendor.d/10_nvidia.json"
fi
export XDG_RUNTIME_DIR=/tmp/xdg
mkdir -p "$XDG_RUNTIME_DIR"

step probe
node --version
nproc
nvidia-smi -L 2>/dev/null || echo 'no nvidia-smi'
ls /usr/share/vulkan/icd.d /etc/vulkan/icd.d /usr/local/nvidia/share/vulkan/icd.d 2>/dev/null
cat /usr/share/vulkan/icd.d/nvidia_icd.json "$NV/vulkan/icd.d/nvidia_icd.json" 2>/dev/null | grep library_path
ldconfig -p | grep -E 'libvulkan|libGLX_nvidia|libGLdispatch|libnvidia-glvk|libnvidia-gpucomp' | awk '{print $1, $NF}'
python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.cuda.is_available())' 2>&1 | tail -1
probe_adapter() {
  TANDEM_GPU_LOG=1 node --input-type=module -e "
    const { create, globals } = await import('webgpu');
    Object.assign(globalThis, globals);
    const adapter = await create([]).requestAdapter({ powerPreference: 'high-performance' });
    const i = adapter?.info;
    console.log('webgpu adapter:', i ? [i.vendor, i.architecture, i.device, i.description].join(' | ') : 'none');
  " 2>&1 | grep -v 'artificially reduced' | tail -8 | tee /tmp/adapter.txt
}
probe_adapter
if ! grep -qi 'webgpu adapter: nvidia' /tmp/adapter.txt && [ -n "${VK_DRIVER_FILES:-}" ]; then
  echo 'retrying with the loader finding the ICD itself'
  unset VK_DRIVER_FILES VK_ICD_FILENAMES
  probe_adapter
fi
if [ "${GPU_ONLY:-}" = 1 ] && ! grep -qi 'webgpu adapter: nvidia' /tmp/adapter.txt; then
  echo 'no NVIDIA WebGPU adapter: the GPU benches would measure nothing new'; exit 3
fi

export TANDEM_BENCH_RESULTS="$OUT" TANDEM_BENCH_TAG="${TANDEM_BENCH_TAG:-gpu}"
bench() { local limit=$1; shift; step "bench $*"; timeout --kill-after=10 "$limit" node node_modules/tsx/dist/cli.mjs bench/run.ts "$@" || echo "bench $1 ended with status $?"; }
if [ -n "${ONLY:-}" ]; then
  # One bench, on what device time is left: ONLY=planner (or kernels, data) with its options in ONLY_ARGS.
  # shellcheck disable=SC2086
  bench "${ONLY_LIMIT:-100}" "$ONLY" ${ONLY_ARGS:-}
elif [ "${GPU_ONLY:-}" = 1 ]; then
  # A second pass after a CPU-only one: the planner, the data stages, the GPU peers.
  bench 90 planner --reps 3 --warmup 1 --grid-reps 2
  bench 80 data --reps 3 --warmup 1 --queries kmOnly,udf --variants memory --peers tandem,arquero --no-memory-check
  bench 70 kernels --reps 5 --kernels matmul,sum --matmul-sizes 1024,2048,4096 --max-run-s 3 --peers 'webgpu,gpujs,pytorch,tandem cpu'
elif [ "${QUICK:-}" = 1 ]; then
  bench 120 kernels --reps 1 --matmul-sizes 256,512 --kernels matmul,sum --max-run-s 2
  bench 120 planner --reps 1 --warmup 1 --grid-reps 1 --finalists 1 --size 512 --iter 32 --matmul 256 --chains 2
  bench 120 data --reps 1 --warmup 0 --queries kmOnly --variants memory --peers tandem,arquero --no-memory-check
else
  bench 190 kernels --reps 5 --matmul-sizes 256,1024,2048,4096
  bench 200 planner --reps 3 --warmup 1 --grid-reps 2
  bench 150 data --reps 3 --warmup 1 --queries kmOnly,udf --variants memory --peers tandem,arquero --no-memory-check
fi
step done
ls -la "$OUT"
