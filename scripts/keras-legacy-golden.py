#!/usr/bin/env python3
"""Golden outputs for hls4ml's `experiments/mlp_streaming/keras_model.keras` (Apache-2.0, github.com/fastmachinelearning/
hls4ml at 70323c9): tf.keras 2.11 wrote it as an HDF5 model under a .keras name. A float64 NumPy pass over the weights
h5py reads from the file (Dense fc1 -> ReLU -> Dense fc2 -> ReLU) on 16 seeded inputs.

  /usr/bin/python3 scripts/keras-legacy-golden.py FILE.keras > tests/HetQ.Tests/Golden/keras3/real/hls4ml_mlp_streaming.json
"""
import json
import sys

import h5py
import numpy as np

f = h5py.File(sys.argv[1], "r")
w = f["model_weights"]
x = np.random.default_rng(7).uniform(-2, 2, size=(16, 8)).astype(np.float32)
h = x.astype(np.float64)
for name in ("fc1", "fc2"):
    h = np.maximum(h @ w[f"{name}/{name}/kernel:0"][()].astype(np.float64) + w[f"{name}/{name}/bias:0"][()], 0)
json.dump({"input": x.tolist(), "output": h.tolist()}, sys.stdout)
sys.stdout.write("\n")
