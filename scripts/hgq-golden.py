#!/usr/bin/python3
"""Writes the HGQ (v1) proxy-model test files of tests/HetQ.Tests/Golden/hgq and their golden outputs.

HGQ needs TensorFlow, which Debian does not package, so this script writes what HGQ.proxy.to_proxy_model(model) followed
by proxy.save("m.h5") gives (calad0i/HGQ, src/HGQ/proxy/convert.py: ProxyLayerXFormer; src/HGQ/proxy/
fixed_point_quantizer.py: FixedPointQuantizer), in Keras 2's full-model HDF5 layout (root attribute model_config, weights
under model_weights with layer_names / weight_names):
  - an HQuantize on the input becomes FixedPointQuantizer(k, b, I, 'RND', SAT);
  - an HDense with ReLU becomes Dense(linear) -> FixedPointQuantizer(uniform, TRN, one extra fractional bit) -> ReLU ->
    FixedPointQuantizer(per element, RND); an HDense without activation Dense -> FixedPointQuantizer(per element);
    kernels (and here biases) hold quantized values;
  - SAT is 'SAT' for to_proxy_model(aggressive=False) and 'WRAP' for the default aggressive=True.
FixedPointQuantizer's variables keep_negative, bits, integers are int8 arrays of shape (1, *features).
Golden outputs: a float64 NumPy transcription of HGQ's gfixed_quantizer (TRN floor, RND floor(x+1/2), SAT clip to
[-(2^(b-k))·k, 2^(b-k)-1], WRAP modulo, zero where b = 0) and of the Keras layers.
Each model NAME gives NAME.h5 and NAME.json: {"input": [...], "output": [...]}.
Run: /usr/bin/python3 scripts/hgq-golden.py (Debian's python3 with python3-numpy, python3-h5py)
"""
import json
import os

import h5py
import numpy as np

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "HetQ.Tests", "Golden", "hgq")


def gfixed(x, k, b, i, rnd, sat):  # HGQ.proxy.fixed_point_quantizer.gfixed_quantizer, in float64
    k, b, i = (np.asarray(v, dtype=np.float64) for v in (k, b, i))
    scale = 2.0 ** (b - i)
    y = x * scale
    y = np.floor(y) if rnd == "TRN" else np.floor(y + 0.5)
    high = 2.0 ** (b - k) - 1
    low = -(high + 1) * k
    if sat == "SAT":
        y = np.clip(y, low, high)
    else:  # WRAP
        y = np.mod(y - low, high - low + 1) + low
    return y / scale * (b != 0)


def quantized(rng, shape, fmax, scale=1.0):
    """Values as an HGQ kernel holds them: each weight at its own number of fractional bits (some pruned to 0)."""
    f = rng.integers(0, fmax + 1, size=shape)
    w = np.round(rng.uniform(-scale, scale, size=shape) * 2.0 ** f) / 2.0 ** f
    w[rng.random(shape) < 0.15] = 0
    return w.astype(np.float32)


def fpq_layer(name, inbound, rnd, sat, shape):
    return {"class_name": "HGQ>FixedPointQuantizer", "name": name, "inbound_nodes": [[[inbound, 0, 0, {}]]],
            "config": {"name": name, "trainable": False, "dtype": "float32", "RND": rnd, "SAT": sat, "shape": list(shape),
                       "overrides": {"layers": {}}, "fusible": False}}


def dense_layer(name, inbound, units):
    return {"class_name": "Dense", "name": name, "inbound_nodes": [[[inbound, 0, 0, {}]]],
            "config": {"name": name, "trainable": True, "dtype": "float32", "units": units, "activation": "linear", "use_bias": True,
                       "kernel_initializer": {"class_name": "GlorotUniform", "config": {"seed": None}},
                       "bias_initializer": {"class_name": "Zeros", "config": {}}, "kernel_regularizer": None, "bias_regularizer": None,
                       "activity_regularizer": None, "kernel_constraint": None, "bias_constraint": None}}


def write(name, sat, out_rnd, seed):
    rng = np.random.default_rng(seed)
    n_in, n_hidden, n_out = 6, 8, 3
    # input quantizer: per element keep_negative, bits (one pruned), integers
    k0 = rng.integers(0, 2, size=(1, n_in))
    b0 = rng.integers(3, 9, size=(1, n_in))
    b0[0, 2] = 0
    i0 = rng.integers(-1, 4, size=(1, n_in))
    k0[b0 == 0], i0[b0 == 0] = 0, 0
    kernel1, bias1 = quantized(rng, (n_in, n_hidden), 5), quantized(rng, (n_hidden,), 6, 0.5)
    # the ReLU pattern: a uniform TRN quantizer one fractional bit finer, ReLU, the per-element RND quantizer
    kq, bq, iq = np.ones((1, n_hidden)), np.full((1, n_hidden), 12), np.full((1, n_hidden), 5)
    kr = np.zeros((1, n_hidden), dtype=int)
    br = rng.integers(2, 8, size=(1, n_hidden))
    br[0, 5] = 0
    ir = rng.integers(0, 4, size=(1, n_hidden))
    ir[br == 0] = 0
    kernel2, bias2 = quantized(rng, (n_hidden, n_out), 4), quantized(rng, (n_out,), 5, 0.5)
    ko = np.ones((1, n_out), dtype=int)
    bo = rng.integers(4, 10, size=(1, n_out))
    io = rng.integers(1, 4, size=(1, n_out))
    layers = [
        {"class_name": "InputLayer", "name": "input_1", "inbound_nodes": [],
         "config": {"batch_input_shape": [None, n_in], "dtype": "float32", "sparse": False, "ragged": False, "name": "input_1"}},
        fpq_layer("inp_q", "input_1", "RND", sat, (1, n_in)),
        dense_layer("d1", "inp_q", n_hidden),
        fpq_layer("d1_quantizer", "d1", "TRN", sat, (1, n_hidden)),
        {"class_name": "ReLU", "name": "re_lu", "inbound_nodes": [[["d1_quantizer", 0, 0, {}]]],
         "config": {"name": "re_lu", "trainable": True, "dtype": "float32", "max_value": None, "negative_slope": 0.0, "threshold": 0.0}},
        fpq_layer("d1_relu_quantizer", "re_lu", "RND", sat, (1, n_hidden)),
        dense_layer("d2", "d1_relu_quantizer", n_out),
        fpq_layer("d2_quantizer", "d2", out_rnd, sat, (1, n_out)),
    ]
    config = {"class_name": "Functional", "config": {"name": "model", "layers": layers, "input_layers": [["input_1", 0, 0]],
                                                     "output_layers": [["d2_quantizer", 0, 0]]},
              "keras_version": "2.13.1", "backend": "tensorflow"}
    fpq = lambda k, b, i: [("keep_negative:0", np.asarray(k, np.int8)), ("bits:0", np.asarray(b, np.int8)), ("integers:0", np.asarray(i, np.int8))]
    weights = {"input_1": [], "inp_q": fpq(k0, b0, i0), "d1": [("d1/kernel:0", kernel1), ("d1/bias:0", bias1)],
               "d1_quantizer": fpq(kq, bq, iq), "re_lu": [], "d1_relu_quantizer": fpq(kr, br, ir),
               "d2": [("d2/kernel:0", kernel2), ("d2/bias:0", bias2)], "d2_quantizer": fpq(ko, bo, io)}
    with h5py.File(os.path.join(OUT, name + ".h5"), "w") as f:
        f.attrs["backend"] = "tensorflow"
        f.attrs["keras_version"] = "2.13.1"
        f.attrs["model_config"] = json.dumps(config)
        mw = f.create_group("model_weights")
        mw.attrs["backend"] = "tensorflow"
        mw.attrs["keras_version"] = "2.13.1"
        mw.attrs["layer_names"] = np.array([l["name"].encode() for l in layers])
        for lname, ws in weights.items():
            g = mw.create_group(lname)
            g.attrs["weight_names"] = np.array([n.encode() for n, _ in ws]) if ws else np.zeros((0,), dtype=np.float32)
            for n, v in ws:
                g.create_dataset(n, data=v)
    x = (rng.normal(size=(64, n_in)) * 3).astype(np.float32)
    h = gfixed(x.astype(np.float64), k0, b0, i0, "RND", sat)
    h = h @ kernel1.astype(np.float64) + bias1
    h = gfixed(h, kq, bq, iq, "TRN", sat)
    h = gfixed(np.maximum(h, 0), kr, br, ir, "RND", sat)
    h = h @ kernel2.astype(np.float64) + bias2
    y = gfixed(h, ko, bo, io, out_rnd, sat)
    with open(os.path.join(OUT, name + ".json"), "w") as f:
        json.dump({"input": x.astype(np.float64).tolist(), "output": y.tolist()}, f)
        f.write("\n")


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    write("hgq_proxy_sat", "SAT", "RND", 1)
    write("hgq_proxy_wrap", "WRAP", "TRN", 2)
    print("wrote", sorted(os.listdir(OUT)))
