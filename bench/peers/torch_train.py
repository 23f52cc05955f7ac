"""PyTorch peer of bench/train.ts: the same model, batch, optimizer and data, timed the same way.

Reads the training digits written by the bench (float32 rows of 784, then int32 labels), trains
`--warmup` epochs untimed and `--epochs` timed on `--threads` intra-op threads, and prints one JSON
line: samples/s over the timed epochs, the final loss, and which BLAS and thread counts it ran with.
"""
import argparse
import json
import time

import numpy as np
import torch
from torch import nn


def mlp(hidden: int) -> nn.Module:
    return nn.Sequential(nn.Linear(784, hidden), nn.ReLU(), nn.Linear(hidden, 10))


def cnn(filters: int, hidden: int) -> nn.Module:
    # examples/models/cnn.ts: conv 5×5 'valid' → max-pool 2 → conv 5×5 → max-pool 2 → dense → 10
    return nn.Sequential(
        nn.Unflatten(1, (1, 28, 28)),
        nn.Conv2d(1, filters, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(filters, 2 * filters, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(2 * filters * 4 * 4, hidden), nn.ReLU(), nn.Linear(hidden, 10),
    )


def blas() -> str:
    for line in torch.__config__.show().splitlines():
        if "BLAS_INFO" in line:
            return line.split("BLAS_INFO=")[1].split(",")[0]
    return "unknown"


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--data", required=True)
    p.add_argument("--count", type=int, required=True)
    p.add_argument("--model", choices=["mlp", "cnn"], default="mlp")
    p.add_argument("--batch", type=int, required=True)
    p.add_argument("--threads", type=int, required=True)
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--hidden", type=int, default=128)
    a = p.parse_args()

    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    raw = np.fromfile(a.data, dtype=np.uint8)
    x = torch.from_numpy(raw[: a.count * 784 * 4].view(np.float32).reshape(a.count, 784).copy())
    y = torch.from_numpy(raw[a.count * 784 * 4 :].view(np.int32).astype(np.int64))
    model = mlp(a.hidden) if a.model == "mlp" else cnn(16, 64)
    opt = torch.optim.Adam(model.parameters(), lr=a.lr)
    loss_fn = nn.CrossEntropyLoss()
    gen = torch.Generator().manual_seed(1)

    def epoch() -> float:
        order = torch.randperm(a.count, generator=gen)
        last = 0.0
        for s in range(0, a.count, a.batch):
            idx = order[s : s + a.batch]
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(x[idx]), y[idx])
            loss.backward()
            opt.step()
            last = loss.item()  # on the host, as Tandem reads each step's loss back
        return last

    for _ in range(a.warmup):
        epoch()
    t0 = time.perf_counter()
    loss = 0.0
    for _ in range(a.epochs):
        loss = epoch()
    seconds = time.perf_counter() - t0
    print(json.dumps({
        "samplesPerSec": a.count * a.epochs / seconds, "seconds": seconds, "loss": loss,
        "threads": torch.get_num_threads(), "blas": blas(), "torch": torch.__version__,
    }))


if __name__ == "__main__":
    main()
