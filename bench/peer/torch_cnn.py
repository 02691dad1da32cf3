#!/usr/bin/env python3
"""PyTorch benchmark peer for HetQ's CNN training throughput.

PyTorch is only a benchmark peer here, never a HetQ dependency.

Times training (seconds per epoch) on Fashion-MNIST train (60,000 samples, the IDX .gz files in
/usr/share/datasets/fashion-mnist, /255), batch 128, Adam lr 1e-3, softmax cross entropy, with
--threads intra-op threads (torch.set_num_threads; OPENBLAS_NUM_THREADS is set to the same count
before torch loads, unless the caller set it), on the networks HetQ's bench builds
(bench/HetQ.Bench/CnnWorkloads.cs), all 3x3 "valid" convolutions with ReLU and 2x2 max pooling:

  fashion-cnn  examples/fashion-cnn.json: conv 16, pool, conv 32, pool, flatten, dense 64 relu, dense 10
  small-cnn    conv 8, pool, conv 16, pool, flatten, dense 10

PyTorch computes in NCHW (its native layout, oneDNN kernels); HetQ in NHWC: the arithmetic is the same.
Each epoch shuffles with torch.randperm (fixed generator) and indexes the batch rows out of preloaded
tensors; the last partial batch is kept. The first --warmup epochs are not timed; the median over
--epochs timed epochs is reported.

Usage:
  /usr/bin/python3 bench/peer/torch_cnn.py --workload fashion-cnn|small-cnn --epochs 1 --warmup 1 --threads 2 \
      [--samples N] [--json]

Output: a human-readable line on stderr; with --json one JSON line on stdout:
  {"peer":"pytorch","workload":"fashion-cnn","seconds_per_epoch":1.23,"epochs":1,"threads":2,"torch":"1.13.0a0"}
"""

import argparse
import os
import sys


def parse():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--workload", choices=["fashion-cnn", "small-cnn"], required=True)
    ap.add_argument("--epochs", type=int, default=1, help="timed epochs (median is reported)")
    ap.add_argument("--warmup", type=int, default=1, help="untimed warm-up epochs")
    ap.add_argument("--threads", type=int, default=2, help="intra-op threads (and OpenBLAS threads)")
    ap.add_argument("--samples", type=int, default=60000, help="train on the first N samples (an epoch is N samples)")
    ap.add_argument("--json", action="store_true", help="one JSON line on stdout")
    args = ap.parse_args()
    if args.epochs < 1 or args.threads < 1:
        ap.error("--epochs and --threads must be >= 1")
    return args


ARGS = parse()
os.environ.setdefault("OPENBLAS_NUM_THREADS", str(ARGS.threads))  # before numpy/torch load OpenBLAS

import gzip  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

BATCH = 128
LR = 1e-3
FMNIST_DIR = "/usr/share/datasets/fashion-mnist"


def read_idx(path):
    with gzip.open(path, "rb") as fh:
        data = fh.read()
    magic = int.from_bytes(data[0:4], "big")
    ndim = magic & 0xFF
    assert magic >> 8 == 0x08, f"{path}: expected unsigned byte IDX data"
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def fashion():
    x = read_idx(os.path.join(FMNIST_DIR, "train-images-idx3-ubyte.gz"))
    y = read_idx(os.path.join(FMNIST_DIR, "train-labels-idx1-ubyte.gz"))
    x = x.reshape(x.shape[0], 1, 28, 28).astype(np.float32) / 255.0
    return torch.from_numpy(x), torch.from_numpy(y.astype(np.int64))


class Cnn(nn.Module):
    def __init__(self, filters, hidden):
        super().__init__()
        self.conv1 = nn.Conv2d(1, filters[0], 3)
        self.conv2 = nn.Conv2d(filters[0], filters[1], 3)
        flat = filters[1] * 5 * 5
        self.fc = nn.Linear(flat, hidden) if hidden else None
        self.out = nn.Linear(hidden or flat, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = torch.flatten(x, 1)
        if self.fc is not None:
            x = F.relu(self.fc(x))
        return self.out(x)


MODELS = {"fashion-cnn": lambda: Cnn((16, 32), 64), "small-cnn": lambda: Cnn((8, 16), 0)}


def run_epoch(model, opt, x, y, gen):
    n = x.shape[0]
    perm = torch.randperm(n, generator=gen)
    for start in range(0, n, BATCH):
        idx = perm[start:start + BATCH]
        xb = x.index_select(0, idx)
        yb = y.index_select(0, idx)
        loss = F.cross_entropy(model(xb), yb)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return float(loss)


def main():
    torch.set_num_threads(ARGS.threads)
    x, y = fashion()
    x, y = x[:ARGS.samples].contiguous(), y[:ARGS.samples].contiguous()
    torch.manual_seed(0)
    model = MODELS[ARGS.workload]()
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    gen = torch.Generator().manual_seed(42)
    times = []
    loss = float("nan")
    for e in range(ARGS.warmup + ARGS.epochs):
        t0 = time.perf_counter()
        loss = run_epoch(model, opt, x, y, gen)
        if e >= ARGS.warmup:
            times.append(time.perf_counter() - t0)
    med = statistics.median(times)
    human = sys.stderr if ARGS.json else sys.stdout
    print(f"pytorch workload={ARGS.workload} samples={x.shape[0]} threads={ARGS.threads} median_s_per_epoch={med:.3f} "
          f"epochs=[{', '.join(f'{t:.3f}' for t in times)}] last_batch_loss={loss:.4f}", file=human, flush=True)
    if ARGS.json:
        print(json.dumps({"peer": "pytorch", "workload": ARGS.workload, "seconds_per_epoch": round(med, 4),
                          "epochs": ARGS.epochs, "samples": int(x.shape[0]), "threads": ARGS.threads, "torch": torch.__version__}), flush=True)


if __name__ == "__main__":
    main()
