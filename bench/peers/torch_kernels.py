"""PyTorch as a peer of the kernel bench: a line-oriented server on stdin/stdout.

Requests (one JSON object per line):
  {"op": "prepare", "kernel": "matmul"|"saxpy"|"sum", "inputs": [path, ...], "alpha": float, "out": path}
      loads float32 inputs from raw files onto the device (untimed)
  {"op": "run"}      one timed run: compute, then copy the result to host memory; answers {"ms": ...}
                     and writes the result (raw float32) to the prepared "out" path, untimed
  {"op": "release"}
Answers one JSON line per request. Timing is what the Tandem peers time: inputs resident where the
peer keeps them, the result in host memory at the end (so a GPU run includes its readback).
"""
import json
import sys
import time

import numpy as np
import torch

device = sys.argv[1] if len(sys.argv) > 1 else "cpu"
threads = int(sys.argv[2]) if len(sys.argv) > 2 else 0
# "resident": the timed run ends when the GPU has finished, the result still on the GPU (the
# device's own speed, for scale); the copy to host memory then happens untimed.
resident = len(sys.argv) > 3 and sys.argv[3] == "resident"
if threads > 0:
    torch.set_num_threads(threads)
# Full fp32 products on both sides: Tandem's kernels are fp32, so TF32 would not be the same work.
torch.backends.cuda.matmul.allow_tf32 = False
torch.backends.cudnn.allow_tf32 = False

state = {}


def sync():
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def compute():
    k, xs = state["kernel"], state["inputs"]
    if k == "matmul":
        return torch.matmul(xs[0], xs[1])
    if k == "saxpy":
        return torch.add(xs[1], xs[0], alpha=state["alpha"])
    return torch.sum(xs[0]).reshape(1)


def answer(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


answer({"ready": True, "torch": torch.__version__, "device": torch.cuda.get_device_name(0) if device.startswith("cuda") else "cpu",
        "threads": torch.get_num_threads()})
for line in sys.stdin:
    req = json.loads(line)
    op = req["op"]
    if op == "prepare":
        n = req.get("n")
        xs = []
        for path, shape in zip(req["inputs"], req["shapes"]):
            xs.append(torch.from_numpy(np.fromfile(path, dtype=np.float32).reshape(shape)).to(device))
        state = {"kernel": req["kernel"], "inputs": xs, "alpha": req.get("alpha", 0.0), "out": req["out"], "last": None}
        sync()
        answer({"ok": True})
    elif op == "run":
        sync()
        t0 = time.perf_counter()
        if resident:
            result = compute()
            sync()
            ms = (time.perf_counter() - t0) * 1000
            host = result.cpu()
        else:
            host = compute().cpu()
            ms = (time.perf_counter() - t0) * 1000
        host.numpy().astype(np.float32).tofile(state["out"])
        answer({"ms": ms})
    elif op == "release":
        state = {}
        if device.startswith("cuda"):
            torch.cuda.empty_cache()
        answer({"ok": True})
