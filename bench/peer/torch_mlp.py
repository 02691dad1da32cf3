#!/usr/bin/env python3
"""PyTorch benchmark peer for HetQ's MLP training throughput.

PyTorch is only a benchmark peer here, never a HetQ dependency.

Times training (seconds per epoch) with 2 intra-op threads
(torch.set_num_threads(2), OPENBLAS_NUM_THREADS=1), batch 1024, Adam lr 1e-3,
softmax cross entropy, on:

  (a) MLP 16-64-32-32-5 (ReLU) on 664,000 synthetic samples: seeded Gaussian
      features, labels = argmax of a random linear teacher (learnable);
  (b) MLP 784-64-32-32-10 (ReLU) on Fashion-MNIST train (60,000 samples),
      read from the IDX .gz files in /usr/share/datasets/fashion-mnist, /255.

Variants:
  float  plain float32 training;
  qat    6-bit quantization-aware training with straight-through estimator
         (x + (q(x) - x).detach()):
           weights and biases: QKeras quantized_bits(6, 0, alpha=1)
               q(x) = clip(round(x * 2^5), -2^5, 2^5 - 1) / 2^5
           after each hidden ReLU: QKeras quantized_relu(6)
               q(x) = clip(round(x * 2^6), 0, 2^6 - 1) / 2^6
         (the output logits are not activation-quantized).

Each epoch shuffles with torch.randperm (fixed generator) and indexes the batch
rows out of preloaded tensors; the last partial batch is kept. One epoch
consists of shuffling + all forward/backward/optimizer steps. The first
--warmup epochs are run but not timed; the median over --epochs timed epochs
is reported.

Usage:
  OPENBLAS_NUM_THREADS=1 /usr/bin/python3 bench/peer/torch_mlp.py \
      --workload a|b|all --epochs 3 --warmup 1 --variant float|qat|all [--json]

Output: a human-readable line per (workload, variant) on stderr (with final
train loss/accuracy as a sanity check); with --json one JSON line per result on
stdout:
  {"peer":"pytorch","workload":"a","variant":"float","seconds_per_epoch":1.23,
   "epochs":3,"threads":2,"torch":"1.13.0a0"}
otherwise the human-readable line goes to stdout.
"""

import os

if os.environ.get("OPENBLAS_NUM_THREADS") != "1":
    os.environ["OPENBLAS_NUM_THREADS"] = "1"  # must be set before numpy/torch load OpenBLAS

import argparse
import gzip
import json
import statistics
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

THREADS = 2
BATCH = 1024
LR = 1e-3
FMNIST_DIR = "/usr/share/datasets/fashion-mnist"


# ---------------------------------------------------------------------------- data

def synthetic_a(n=664_000, d=16, k=5, seed=1234):
    g = np.random.default_rng(seed)
    x = g.standard_normal((n, d), dtype=np.float32)
    teacher = g.standard_normal((d, k)).astype(np.float32)
    bias = g.standard_normal(k).astype(np.float32) * 0.1
    y = np.argmax(x @ teacher + bias, axis=1).astype(np.int64)
    return torch.from_numpy(x), torch.from_numpy(y)


def read_idx(path):
    with gzip.open(path, "rb") as fh:
        data = fh.read()
    magic = int.from_bytes(data[0:4], "big")
    ndim = magic & 0xFF
    assert magic >> 8 == 0x08, f"{path}: expected unsigned byte IDX data"
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def fashion_b():
    x = read_idx(os.path.join(FMNIST_DIR, "train-images-idx3-ubyte.gz"))
    y = read_idx(os.path.join(FMNIST_DIR, "train-labels-idx1-ubyte.gz"))
    x = x.reshape(x.shape[0], -1).astype(np.float32) / 255.0
    return torch.from_numpy(x), torch.from_numpy(y.astype(np.int64))


WORKLOADS = {
    "a": ([16, 64, 32, 32, 5], synthetic_a),
    "b": ([784, 64, 32, 32, 10], fashion_b),
}


# ---------------------------------------------------------------------------- models

def ste(x, q):
    return x + (q - x).detach()


def quantized_bits6(x):
    # QKeras quantized_bits(6, 0, alpha=1): 1 sign bit, 5 fractional bits
    return torch.clamp(torch.round(x * 32.0), -32.0, 31.0) / 32.0


def quantized_relu6(x):
    # QKeras quantized_relu(6): 6 fractional bits, range [0, 63/64]
    return torch.clamp(torch.round(x * 64.0), 0.0, 63.0) / 64.0


class MLP(nn.Module):
    def __init__(self, sizes, qat):
        super().__init__()
        self.qat = qat
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:]))

    def forward(self, x):
        last = len(self.layers) - 1
        for i, layer in enumerate(self.layers):
            if self.qat:
                w = ste(layer.weight, quantized_bits6(layer.weight))
                b = ste(layer.bias, quantized_bits6(layer.bias))
                x = F.linear(x, w, b)
            else:
                x = layer(x)
            if i < last:
                x = F.relu(x)
                if self.qat:
                    x = ste(x, quantized_relu6(x))
        return x


# ---------------------------------------------------------------------------- training

def run_epoch(model, opt, x, y, gen):
    n = x.shape[0]
    perm = torch.randperm(n, generator=gen)
    total_loss = torch.zeros((), dtype=torch.float64)
    correct = 0
    for start in range(0, n, BATCH):
        idx = perm[start:start + BATCH]
        xb = x.index_select(0, idx)
        yb = y.index_select(0, idx)
        logits = model(xb)
        loss = F.cross_entropy(logits, yb)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        with torch.no_grad():
            total_loss += loss.detach().double() * idx.numel()
            correct += int((logits.argmax(1) == yb).sum())
    return float(total_loss) / n, correct / n


def bench(workload, variant, x, y, epochs, warmup):
    sizes, _ = WORKLOADS[workload]
    torch.manual_seed(0)
    model = MLP(sizes, qat=(variant == "qat"))
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    gen = torch.Generator().manual_seed(42)
    times = []
    loss = acc = float("nan")
    for e in range(warmup + epochs):
        t0 = time.perf_counter()
        loss, acc = run_epoch(model, opt, x, y, gen)
        dt = time.perf_counter() - t0
        if e >= warmup:
            times.append(dt)
    return statistics.median(times), times, loss, acc


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--workload", choices=["a", "b", "all"], default="all")
    ap.add_argument("--variant", choices=["float", "qat", "all"], default="all")
    ap.add_argument("--epochs", type=int, default=3, help="timed epochs (median is reported)")
    ap.add_argument("--warmup", type=int, default=1, help="untimed warm-up epochs")
    ap.add_argument("--json", action="store_true", help="one JSON line per result on stdout")
    args = ap.parse_args()
    if args.epochs < 1:
        ap.error("--epochs must be >= 1")

    torch.set_num_threads(THREADS)
    workloads = ["a", "b"] if args.workload == "all" else [args.workload]
    variants = ["float", "qat"] if args.variant == "all" else [args.variant]
    human = sys.stderr if args.json else sys.stdout

    for wl in workloads:
        x, y = WORKLOADS[wl][1]()
        for variant in variants:
            med, times, loss, acc = bench(wl, variant, x, y, args.epochs, args.warmup)
            print(f"pytorch workload={wl} variant={variant} samples={x.shape[0]} "
                  f"median_s_per_epoch={med:.3f} epochs=[{', '.join(f'{t:.3f}' for t in times)}] "
                  f"last_epoch_loss={loss:.4f} last_epoch_train_acc={acc:.4f}", file=human, flush=True)
            if args.json:
                print(json.dumps({"peer": "pytorch", "workload": wl, "variant": variant,
                                  "seconds_per_epoch": round(med, 4), "epochs": args.epochs,
                                  "threads": THREADS, "torch": torch.__version__}), flush=True)


if __name__ == "__main__":
    main()
