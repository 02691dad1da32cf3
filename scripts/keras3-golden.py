#!/usr/bin/python3
"""Writes the Keras 3 (.keras) test archives of tests/HetQ.Tests/Golden/keras3 and their golden outputs.

Keras 3 is not installable here (no TensorFlow / JAX in Debian), so this script writes the archive layout itself, as
keras.src.saving.saving_lib writes it (keras-team/keras, keras/src/saving/saving_lib.py: save_model,
_save_container_state, H5IOStore / H5Entry; keras/src/utils/naming.py: to_snake_case):
  - a zip with metadata.json ({"keras_version", "date_saved"}), config.json (serialize_keras_object(model)) and
    model.weights.h5;
  - in model.weights.h5 every layer of model.layers at layers/<to_snake_case(class)>[_n]/vars/<i> (n counts earlier
    layers of the same class, from 1; the first has no suffix), variables in creation order (Dense/Conv: kernel, bias;
    BatchNormalization: gamma, beta, moving_mean, moving_variance), an empty vars group for layers without
    variables, and the model's own (empty) vars group at the root. Sequential.layers leaves out its InputLayer,
    Functional.layers keeps it.
config.json entries follow real Keras 3.x archives' config.json (objects as {module, class_name, config,
registered_name}, DTypePolicy dtypes, build_config; Functional layers with name and inbound_nodes [{args, kwargs}] whose
tensors are {class_name: __keras_tensor__, config: {shape, dtype, keras_history}}), as found in public repositories'
config.json texts (for example a Conv2D / MaxPooling2D / BatchNormalization Sequential and a Dense Sequential of Keras
3.x, found through the code search of this project's tools).
Golden outputs: a float64 NumPy forward pass of each model (QKeras quantizers written out: quantized_bits with
alpha=1 and quantized_relu as QKeras defines them, rounding half to even as tf.round).
Each model NAME gives NAME.keras and NAME.json: {"input": [...], "output": [...]}, input channels last.
Run: OPENBLAS_NUM_THREADS=1 /usr/bin/python3 scripts/keras3-golden.py (Debian packages python3-numpy and python3-h5py)
"""
import io
import json
import os
import re
import zipfile

import h5py
import numpy as np

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "HetQ.Tests", "Golden", "keras3")
VERSION = "3.6.0"
rng = np.random.default_rng(7)


def snake(name):  # keras.src.utils.naming.to_snake_case
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def obj(module, cls, config, registered=None, **extra):
    d = {"module": module, "class_name": cls, "config": config, "registered_name": registered}
    d.update(extra)
    return d


DTYPE = obj("keras", "DTypePolicy", {"name": "float32"})


def init(cls, **config):
    return obj("keras.initializers", cls, config)


def tensor(shape, layer):
    return {"class_name": "__keras_tensor__", "config": {"shape": shape, "dtype": "float32", "keras_history": [layer, 0, 0]}}


class Builder:
    """Layers in model.layers order, with their variables."""

    def __init__(self, functional):
        self.functional = functional
        self.layers = []  # (entry, [arrays])

    def add(self, cls, config, weights=(), module="keras.layers", registered=None, inputs=None, input_shape=None, sub=None):
        entry = obj(module, cls, config, registered)
        if input_shape is not None:
            entry["build_config"] = {"input_shape": input_shape}
        if self.functional:
            entry["name"] = config["name"]
            entry["inbound_nodes"] = [] if inputs is None else [{"args": inputs, "kwargs": {}}]
        keep = lambda w: np.asarray(w) if np.asarray(w).dtype in (np.uint8, np.uint32) else np.asarray(w, dtype=np.float32)
        self.layers.append((entry, [keep(w) for w in weights], {k: [keep(w) for w in v] for k, v in (sub or {}).items()}))

    def write(self, name, model_name, inputs=None, outputs=None):
        layers = [e for e, _, _ in self.layers]
        if self.functional:
            config = {"name": model_name, "trainable": True, "layers": layers, "input_layers": inputs, "output_layers": outputs}
            model = obj("keras.src.models.functional", "Functional", config, None, build_config={"input_shape": None}, compile_config=None)
            saved = self.layers
        else:
            config = {"name": model_name, "trainable": True, "dtype": DTYPE, "layers": layers}
            model = obj("keras", "Sequential", config, None, build_config={"input_shape": layers[0]["config"]["batch_shape"]}, compile_config=None)
            saved = [l for l in self.layers if l[0]["class_name"] != "InputLayer"]
        h5 = io.BytesIO()
        with h5py.File(h5, "w") as f:
            used = {}
            for entry, weights, sub in saved:
                s = snake(entry["class_name"])
                if s in used:
                    used[s] += 1
                    s = f"{s}_{used[s]}"
                else:
                    used[s] = 0
                g = f.create_group(f"layers/{s}").create_group("vars")
                for i, w in enumerate(weights):
                    g[str(i)] = w
                for path, ws in sub.items():  # a sublayer (an attribute of the layer) and its own sublayers
                    parts = path.split("/")
                    for d in range(1, len(parts) + 1):
                        grp = f"layers/{s}/" + "/".join(parts[:d])
                        if grp + "/vars" not in f:
                            f.create_group(grp + "/vars")
                    for i, w in enumerate(ws):
                        f[f"layers/{s}/{path}/vars/{i}"] = w
            f.create_group("vars")
        with zipfile.ZipFile(os.path.join(OUT, name + ".keras"), "w") as z:
            stamp = (2026, 12, 2, 5, 0, 0)  # fixed entry times: the archives are byte-stable
            z.writestr(zipfile.ZipInfo("metadata.json", stamp), json.dumps({"keras_version": VERSION, "date_saved": "2026-12-02@05:00:00"}))
            z.writestr(zipfile.ZipInfo("config.json", stamp), json.dumps(model))
            z.writestr(zipfile.ZipInfo("model.weights.h5", stamp), h5.getvalue())


def dense_config(name, units, activation="linear", use_bias=True, **extra):
    c = {"name": name, "trainable": True, "dtype": DTYPE, "units": units, "activation": activation, "use_bias": use_bias,
         "kernel_initializer": init("GlorotUniform", seed=None), "bias_initializer": init("Zeros"),
         "kernel_regularizer": None, "bias_regularizer": None, "kernel_constraint": None, "bias_constraint": None}
    c.update(extra)
    return c


def input_config(name, shape):
    return {"batch_shape": [None, *shape], "dtype": "float32", "sparse": False, "ragged": False, "name": name}


def save_golden(name, x, y):
    with open(os.path.join(OUT, name + ".json"), "w") as f:
        json.dump({"input": np.asarray(x, dtype=np.float64).tolist(), "output": np.asarray(y, dtype=np.float64).tolist()}, f)
        f.write("\n")


def w(*shape, scale=0.5):
    return (rng.uniform(-1, 1, size=shape) * scale).astype(np.float32)


def relu(x):
    return np.maximum(x, 0)


def softmax(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def d64(a):
    return np.asarray(a, dtype=np.float64)


def conv2d(x, k, b, pad):  # x [N,H,W,C], k [KH,KW,C,F], stride 1
    kh, kw = k.shape[:2]
    if pad == "same":
        x = np.pad(x, ((0, 0), ((kh - 1) // 2, kh // 2), ((kw - 1) // 2, kw // 2), (0, 0)))
    n, h, wd, _ = x.shape
    oh, ow = h - kh + 1, wd - kw + 1
    y = np.zeros((n, oh, ow, k.shape[3]))
    for i in range(oh):
        for j in range(ow):
            y[:, i, j, :] = np.einsum("nhwc,hwcf->nf", x[:, i:i + kh, j:j + kw, :], d64(k))
    return y + d64(b)


def depthwise(x, k, b):  # valid, multiplier 1: k [KH,KW,C,1]
    kh, kw = k.shape[:2]
    n, h, wd, c = x.shape
    y = np.zeros((n, h - kh + 1, wd - kw + 1, c))
    for i in range(h - kh + 1):
        for j in range(wd - kw + 1):
            y[:, i, j, :] = np.einsum("nhwc,hwc->nc", x[:, i:i + kh, j:j + kw, :], d64(k[..., 0]))
    return y + d64(b)


def maxpool2(x):
    n, h, wd, c = x.shape
    return x.reshape(n, h // 2, 2, wd // 2, 2, c).max(axis=(2, 4))


def sequential_mlp():
    b = Builder(False)
    k1, b1, k2, b2 = w(16, 12), w(12, scale=0.1), w(12, 5), w(5, scale=0.1)
    b.add("InputLayer", input_config("input_layer", [16]))
    b.add("Dense", dense_config("dense", 12, "relu", kernel_regularizer=obj("keras.regularizers", "L2", {"l2": 0.001})), [k1, b1], input_shape=[None, 16])
    b.add("Dropout", {"name": "dropout", "trainable": True, "dtype": DTYPE, "rate": 0.2, "seed": None, "noise_shape": None})
    b.add("Dense", dense_config("dense_1", 5, "softmax"), [k2, b2], input_shape=[None, 12])
    b.write("keras3_mlp", "sequential")
    x = rng.normal(size=(8, 16)).astype(np.float32)
    save_golden("keras3_mlp", x, softmax(relu(d64(x) @ d64(k1) + d64(b1)) @ d64(k2) + d64(b2)))


def functional_cnn():
    b = Builder(True)
    k1, b1 = w(3, 3, 2, 4), w(4, scale=0.1)
    gamma, beta = (1 + w(4, scale=0.3)), w(4, scale=0.2)
    mean, var = w(4), (1 + w(4))
    dk, db = w(3, 3, 4, 1), w(4, scale=0.1)
    ka, ba, kb, bb = w(16, 8), w(8, scale=0.1), w(8, 8), w(8, scale=0.1)
    ko, bo = w(8, 3), w(3, scale=0.1)
    conv = {"name": "conv2d", "trainable": True, "dtype": DTYPE, "filters": 4, "kernel_size": [3, 3], "strides": [1, 1], "padding": "same",
            "data_format": "channels_last", "dilation_rate": [1, 1], "groups": 1, "activation": "relu", "use_bias": True,
            "kernel_initializer": init("GlorotUniform", seed=None), "bias_initializer": init("Zeros"), "kernel_regularizer": None,
            "bias_regularizer": None, "activity_regularizer": None, "kernel_constraint": None, "bias_constraint": None}
    bn = {"name": "batch_normalization", "trainable": True, "dtype": DTYPE, "axis": -1, "momentum": 0.99, "epsilon": 0.001, "center": True,
          "scale": True, "beta_initializer": init("Zeros"), "gamma_initializer": init("Ones"), "moving_mean_initializer": init("Zeros"),
          "moving_variance_initializer": init("Ones"), "beta_regularizer": None, "gamma_regularizer": None, "beta_constraint": None,
          "gamma_constraint": None, "synchronized": False}
    pool = {"name": "max_pooling2d", "trainable": True, "dtype": DTYPE, "pool_size": [2, 2], "padding": "valid", "strides": [2, 2], "data_format": "channels_last"}
    dw = {"name": "depthwise_conv2d", "trainable": True, "dtype": DTYPE, "kernel_size": [3, 3], "strides": [1, 1], "padding": "valid",
          "data_format": "channels_last", "dilation_rate": [1, 1], "activation": "linear", "use_bias": True, "depth_multiplier": 1,
          "depthwise_initializer": init("GlorotUniform", seed=None), "bias_initializer": init("Zeros"), "depthwise_regularizer": None,
          "bias_regularizer": None, "activity_regularizer": None, "depthwise_constraint": None, "bias_constraint": None}
    b.add("InputLayer", input_config("input_layer", [8, 8, 2]))
    b.add("Conv2D", conv, [k1, b1], inputs=[tensor([None, 8, 8, 2], "input_layer")], input_shape=[None, 8, 8, 2])
    b.add("BatchNormalization", bn, [gamma, beta, mean, var], inputs=[tensor([None, 8, 8, 4], "conv2d")], input_shape=[None, 8, 8, 4])
    b.add("MaxPooling2D", pool, inputs=[tensor([None, 8, 8, 4], "batch_normalization")])
    b.add("DepthwiseConv2D", dw, [dk, db], inputs=[tensor([None, 4, 4, 4], "max_pooling2d")], input_shape=[None, 4, 4, 4])
    b.add("ReLU", {"name": "re_lu", "trainable": True, "dtype": DTYPE, "max_value": None, "negative_slope": 0.0, "threshold": 0.0},
          inputs=[tensor([None, 2, 2, 4], "depthwise_conv2d")])
    b.add("Flatten", {"name": "flatten", "trainable": True, "dtype": DTYPE, "data_format": "channels_last"}, inputs=[tensor([None, 2, 2, 4], "re_lu")])
    b.add("Dense", dense_config("dense", 8, "relu"), [ka, ba], inputs=[tensor([None, 16], "flatten")], input_shape=[None, 16])
    b.add("Dense", dense_config("dense_1", 8), [kb, bb], inputs=[tensor([None, 8], "dense")], input_shape=[None, 8])
    b.add("Add", {"name": "add", "trainable": True, "dtype": DTYPE}, inputs=[[tensor([None, 8], "dense"), tensor([None, 8], "dense_1")]])
    b.add("Activation", {"name": "activation", "trainable": True, "dtype": DTYPE, "activation": "relu"}, inputs=[tensor([None, 8], "add")])
    b.add("Dense", dense_config("dense_2", 3), [ko, bo], inputs=[tensor([None, 8], "activation")], input_shape=[None, 8])
    b.write("keras3_cnn", "functional", inputs=[["input_layer", 0, 0]], outputs=[["dense_2", 0, 0]])
    x = rng.normal(size=(6, 8, 8, 2)).astype(np.float32)
    h = relu(conv2d(d64(x), k1, b1, "same"))
    h = d64(gamma) * (h - d64(mean)) / np.sqrt(d64(var) + 1e-3) + d64(beta)
    h = relu(depthwise(maxpool2(h), dk, db)).reshape(6, -1)
    a = relu(h @ d64(ka) + d64(ba))
    h = relu(a + a @ d64(kb) + d64(bb))
    save_golden("keras3_cnn", x, h @ d64(ko) + d64(bo))


def conv1d_sequential():
    b = Builder(False)
    k, bias = w(3, 3, 4), w(4, scale=0.1)
    ko, bo = w(16, 2), w(2, scale=0.1)
    conv = {"name": "conv1d", "trainable": True, "dtype": DTYPE, "filters": 4, "kernel_size": [3], "strides": [1], "padding": "valid",
            "data_format": "channels_last", "dilation_rate": [1], "groups": 1, "activation": "linear", "use_bias": True,
            "kernel_initializer": init("GlorotUniform", seed=None), "bias_initializer": init("Zeros"), "kernel_regularizer": None,
            "bias_regularizer": None, "activity_regularizer": None, "kernel_constraint": None, "bias_constraint": None}
    b.add("InputLayer", input_config("input_layer", [10, 3]))
    b.add("Conv1D", conv, [k, bias], input_shape=[None, 10, 3])
    b.add("LeakyReLU", {"name": "leaky_re_lu", "trainable": True, "dtype": DTYPE, "negative_slope": 0.1})
    b.add("AveragePooling1D", {"name": "average_pooling1d", "trainable": True, "dtype": DTYPE, "pool_size": [2], "padding": "valid", "strides": [2],
                               "data_format": "channels_last"})
    b.add("Flatten", {"name": "flatten", "trainable": True, "dtype": DTYPE, "data_format": "channels_last"})
    b.add("Dense", dense_config("dense", 2), [ko, bo], input_shape=[None, 16])
    b.write("keras3_conv1d", "sequential")
    x = rng.normal(size=(8, 10, 3)).astype(np.float32)
    h = np.stack([np.einsum("nkc,kcf->nf", d64(x)[:, i:i + 3, :], d64(k)) for i in range(8)], axis=1) + d64(bias)
    h = np.where(h > 0, h, 0.1 * h)
    h = h.reshape(8, 4, 2, 4).mean(axis=2).reshape(8, -1)
    save_golden("keras3_conv1d", x, h @ d64(ko) + d64(bo))


def quantized_bits(x, bits, integer):  # QKeras quantized_bits(bits, integer, symmetric=0, keep_negative=1, alpha=1)
    m = 2.0 ** (bits - 1 - integer)
    return np.clip(np.round(d64(x) * m), -(2 ** (bits - 1)), 2 ** (bits - 1) - 1) / m


def quantized_relu(x, bits, integer):  # QKeras quantized_relu(bits, integer): unsigned, no negative part
    m = 2.0 ** (bits - integer)
    return np.clip(np.round(relu(x) * m), 0, 2 ** bits - 1) / m


def qkeras_sequential():
    b = Builder(False)
    k1, b1, k2, b2 = w(8, 10, scale=0.9), w(10, scale=0.5), w(10, 4, scale=0.9), w(4, scale=0.5)
    qb = lambda bits, integer: obj("qkeras.quantizers", "quantized_bits", {"bits": bits, "integer": integer, "symmetric": 0, "alpha": 1,
                                                                           "keep_negative": True, "use_stochastic_rounding": False, "qnoise_factor": 1.0},
                                   "quantized_bits")
    b.add("InputLayer", input_config("input_layer", [8]))
    b.add("QDense", dense_config("q_dense", 10, kernel_quantizer=qb(6, 0), bias_quantizer="quantized_bits(6,0,alpha=1)"), [k1, b1],
          module="qkeras.qlayers", registered="qkeras>QDense", input_shape=[None, 8])
    b.add("QActivation", {"name": "q_activation", "trainable": True, "dtype": DTYPE, "activation": "quantized_relu(4,2)"},
          module="qkeras.qlayers", registered="qkeras>QActivation")
    b.add("QDense", dense_config("q_dense_1", 4, kernel_quantizer=qb(6, 0), bias_quantizer=qb(6, 0)), [k2, b2],
          module="qkeras.qlayers", registered="qkeras>QDense", input_shape=[None, 10])
    b.write("qkeras3_mlp", "sequential")
    x = rng.normal(size=(8, 8)).astype(np.float32)
    h = quantized_relu(d64(x) @ quantized_bits(k1, 6, 0) + quantized_bits(b1, 6, 0), 4, 2)
    save_golden("qkeras3_mlp", x, h @ quantized_bits(k2, 6, 0) + quantized_bits(b2, 6, 0))


# ---- HGQ2 (calad0i/HGQ2): QDense with kq / bq / iq quantizers, a standalone Quantizer ----
# Layout of an HGQ2 layer's variables, from HGQ2's source and Keras 3's saving_lib (HGQ2 is not installable here):
# QDense's own variables kernel, bias, beta, ebops at P/vars; each Quantizer sublayer (attributes kq, bq, iq) at
# P/<attr>/vars (none) and its internal FixedPointQuantizerKBI/KIF at P/<attr>/quantizer/vars: trainable variables first
# (kbi: b, then i unless WRAP; kif: i unless WRAP, then f), then the others (k as uint8, i when WRAP, the WRAP decay speed).
# Semantics (HGQ2 FixedPointQuantizerBase.call and the quantizers package's FixedPointQuantizer.forward): bit widths
# rounded half to even; i = max(i, -f); SAT / SAT_SYM clip before rounding, WRAP wraps after; 0 where k + i + f <= 0;
# a WRAP weight quantizer with RND only rounds.

def hgq2_q(x, k, i, f, rnd, sat, weight=False):
    k, i, f = (np.round(np.asarray(v, dtype=np.float64)) for v in (k, i, f))
    live = (k + i + f) > 0
    i = np.maximum(i, -f)
    x = np.asarray(x, dtype=np.float64)
    if sat != "WRAP":
        hi = 2.0 ** i - 2.0 ** -f
        lo = -k * 2.0 ** i if sat == "SAT" else -k * hi
        x = np.clip(x, lo, hi)
    s = x * 2.0 ** f
    x = (np.floor(s + 0.5) if rnd == "RND" else np.floor(s)) / 2.0 ** f
    if sat == "WRAP" and not (weight and rnd == "RND"):
        bias = k * 2.0 ** (i + k - 1)
        x = np.mod(x + bias, 2.0 ** (i + k)) - bias
    return np.where(live, x, 0.0)


def qconf(q_type, place, rnd, sat):
    return obj("hgq.quantizer.config", "QuantizerConfig", {"q_type": q_type, "place": place, "round_mode": rnd, "overflow_mode": sat,
                                                           "homogeneous_axis": [0] if place == "datalane" else [], "heterogeneous_axis": None,
                                                           "bw_mapper": None, "trainable": True, "is_weight": place == "weight"},
               "hgq>QuantizerConfig")


def kbi_vars(k, b, i, wrap):  # trainable first: b (and i unless WRAP); then k (uint8), i when WRAP, the decay speed
    k = np.asarray(k, dtype=np.uint8)
    return [b, k, i, np.float32(0.01)] if wrap else [b, i, k]


def kif_vars(k, i, f, wrap):
    k = np.asarray(k, dtype=np.uint8)
    return [f, k, i, np.float32(0.01)] if wrap else [i, f, k]


def hgq2_sequential():
    b = Builder(False)
    rng2 = np.random.default_rng(11)
    n_in, n_h, n_out = 6, 8, 3
    k1, b1 = w(n_in, n_h, scale=0.9), w(n_h, scale=0.4)
    k2, b2 = w(n_h, n_out, scale=0.9), w(n_out, scale=0.4)
    # iq of layer 1: kif, RND, WRAP, per element (with a batch axis of 1); fractional bit widths as training leaves them
    iq1 = (rng2.integers(0, 2, (1, n_in)), rng2.integers(0, 3, (1, n_in)) + 0.4, rng2.integers(1, 6, (1, n_in)) - 0.3)
    iq1[2][0, 3] = -2.0  # k + i + f <= 0 for one element: always 0
    iq1[1][0, 3] = 0.0
    iq1[0][0, 3] = 0
    kq1 = (np.ones((n_in, n_h)), rng2.integers(1, 7, (n_in, n_h)) + 0.5, rng2.integers(-1, 1, (n_in, n_h)).astype(float))  # k, b, i (kbi)
    kq1[1][0, 0] = 0.0
    bq1 = (np.ones(n_h), rng2.integers(3, 8, n_h).astype(float), np.zeros(n_h))
    iq2 = (np.zeros((1, n_h)), rng2.integers(0, 3, (1, n_h)).astype(float), rng2.integers(1, 5, (1, n_h)).astype(float))  # after ReLU: unsigned
    kq2 = (np.ones((n_h, n_out)), rng2.integers(2, 7, (n_h, n_out)).astype(float), np.zeros((n_h, n_out)))
    bq2 = (np.ones(n_out), np.full(n_out, 6.0), np.ones(n_out))
    oq = (np.ones((1, n_out)), np.array([[1.0, 2.0, 0.0]]), np.array([[3.0, 2.0, 4.0]]))
    f32 = lambda t: tuple(np.asarray(v, dtype=np.float32) for v in t)
    iq1, kq1, bq1, iq2, kq2, bq2, oq = map(f32, (iq1, kq1, bq1, iq2, kq2, bq2, oq))

    def qdense(name, units, act, iq_conf, kq_conf, bq_conf, input_shape):
        c = dense_config(name, units, act)
        c.update({"kq_conf": kq_conf, "iq_conf": iq_conf, "bq_conf": bq_conf, "parallelization_factor": -1, "enable_ebops": True,
                  "beta0": init("Constant", value=1e-5), "enable_oq": False, "enable_iq": True, "oq_conf": None, "ebops_factor": 1.0})
        return c

    b.add("InputLayer", input_config("input_layer", [n_in]))
    b.add("QDense", qdense("q_dense", n_h, "relu", qconf("kif", "datalane", "RND", "WRAP"), qconf("kbi", "weight", "RND", "SAT_SYM"),
                           qconf("kbi", "bias", "RND", "WRAP"), [None, n_in]),
          [k1, b1, np.float32(1e-5), np.uint32(0)], module="hgq.layers.core.dense", registered="hgq>QDense", input_shape=[None, n_in],
          sub={"bq": [], "bq/quantizer": kbi_vars(bq1[0], bq1[1], bq1[2], True), "iq": [], "iq/quantizer": kif_vars(*iq1, True),
               "kq": [], "kq/quantizer": kbi_vars(*kq1, False)})
    b.add("QDense", qdense("q_dense_1", n_out, "linear", qconf("kif", "datalane", "TRN", "SAT"), qconf("kbi", "weight", "RND", "SAT_SYM"),
                           qconf("kbi", "bias", "RND", "WRAP"), [None, n_h]),
          [k2, b2, np.float32(1e-5), np.uint32(0)], module="hgq.layers.core.dense", registered="hgq>QDense", input_shape=[None, n_h],
          sub={"bq": [], "bq/quantizer": kbi_vars(bq2[0], bq2[1], bq2[2], True), "iq": [], "iq/quantizer": kif_vars(*iq2, False),
               "kq": [], "kq/quantizer": kbi_vars(*kq2, False)})
    b.add("Quantizer", {"name": "quantizer", "trainable": True, "dtype": DTYPE, "config": qconf("kif", "datalane", "RND", "WRAP")},
          module="hgq.quantizer.quantizer", registered="hgq>Quantizer", sub={"quantizer": kif_vars(*oq, True)})
    b.write("hgq2_mlp", "sequential")
    x = (rng2.normal(size=(64, n_in)) * 3).astype(np.float32)
    kbi = lambda t: (t[0], t[2], np.round(t[1]) - np.round(t[2]))  # (k, b, i) -> (k, i, f)
    h = hgq2_q(x, *iq1, "RND", "WRAP")
    h = h @ hgq2_q(k1, *kbi(kq1), "RND", "SAT_SYM", weight=True) + hgq2_q(b1, *kbi(bq1), "RND", "WRAP")
    h = hgq2_q(np.maximum(h, 0), *iq2, "TRN", "SAT")
    h = h @ hgq2_q(k2, *kbi(kq2), "RND", "SAT_SYM", weight=True) + hgq2_q(b2, *kbi(bq2), "RND", "WRAP")
    save_golden("hgq2_mlp", x, hgq2_q(h, *oq, "RND", "WRAP"))


def hgq2_functional():
    """A Functional HGQ2 model: QConv2D (relu) -> Flatten -> QDense; the dense input quantizer sits after the Flatten."""
    b = Builder(True)
    rng3 = np.random.default_rng(13)
    kc, bc = w(3, 3, 2, 3, scale=0.9), w(3, scale=0.4)
    kd, bd = w(48, 4, scale=0.5), w(4, scale=0.4)
    f32 = lambda t: tuple(np.asarray(v, dtype=np.float32) for v in t)
    iqc = f32((rng3.integers(0, 2, (1, 6, 6, 2)), rng3.integers(0, 3, (1, 6, 6, 2)), rng3.integers(1, 5, (1, 6, 6, 2))))  # kif, SAT
    kqc = f32((np.ones((3, 3, 2, 3)), rng3.integers(1, 6, (3, 3, 2, 3)) + 0.5, np.zeros((3, 3, 2, 3))))  # kbi, SAT_SYM
    bqc = f32((np.ones(3), np.full(3, 5.0), np.zeros(3)))
    iqd = f32((np.zeros((1, 48)), rng3.integers(0, 3, (1, 48)), rng3.integers(0, 4, (1, 48))))  # after ReLU: unsigned, TRN, WRAP
    kqd = f32((np.ones((48, 4)), rng3.integers(0, 5, (48, 4)).astype(float), np.zeros((48, 4))))
    bqd = f32((np.ones(4), np.full(4, 6.0), np.ones(4)))
    extra = {"parallelization_factor": -1, "enable_ebops": True, "beta0": init("Constant", value=1e-5), "enable_oq": False, "enable_iq": True,
             "oq_conf": None, "ebops_factor": 1.0}
    conv = {"name": "q_conv2d", "trainable": True, "dtype": DTYPE, "filters": 3, "kernel_size": [3, 3], "strides": [1, 1], "padding": "valid",
            "data_format": "channels_last", "dilation_rate": [1, 1], "groups": 1, "activation": "relu", "use_bias": True,
            "kernel_initializer": init("GlorotUniform", seed=None), "bias_initializer": init("Zeros"), "kernel_regularizer": None,
            "bias_regularizer": None, "activity_regularizer": None, "kernel_constraint": None, "bias_constraint": None,
            "kq_conf": qconf("kbi", "weight", "RND", "SAT_SYM"), "iq_conf": qconf("kif", "datalane", "RND", "SAT"), "bq_conf": qconf("kbi", "bias", "RND", "WRAP"), **extra}
    dense = dense_config("q_dense", 4)
    dense.update({"kq_conf": qconf("kbi", "weight", "RND", "SAT_SYM"), "iq_conf": qconf("kif", "datalane", "TRN", "WRAP"), "bq_conf": qconf("kbi", "bias", "RND", "WRAP"), **extra})
    b.add("InputLayer", input_config("input_layer", [6, 6, 2]))
    b.add("QConv2D", conv, [kc, bc, np.float32(1e-5), np.uint32(0)], module="hgq.layers.conv", registered="hgq>QConv2D",
          inputs=[tensor([None, 6, 6, 2], "input_layer")], input_shape=[None, 6, 6, 2],
          sub={"bq": [], "bq/quantizer": kbi_vars(*bqc, True), "iq": [], "iq/quantizer": kif_vars(*iqc, False), "kq": [], "kq/quantizer": kbi_vars(*kqc, False)})
    b.add("Flatten", {"name": "flatten", "trainable": True, "dtype": DTYPE, "data_format": "channels_last"}, inputs=[tensor([None, 4, 4, 3], "q_conv2d")])
    b.add("QDense", dense, [kd, bd, np.float32(1e-5), np.uint32(0)], module="hgq.layers.core.dense", registered="hgq>QDense",
          inputs=[tensor([None, 48], "flatten")], input_shape=[None, 48],
          sub={"bq": [], "bq/quantizer": kbi_vars(*bqd, True), "iq": [], "iq/quantizer": kif_vars(*iqd, True), "kq": [], "kq/quantizer": kbi_vars(*kqd, False)})
    b.write("hgq2_cnn", "functional", inputs=[["input_layer", 0, 0]], outputs=[["q_dense", 0, 0]])
    x = (rng3.normal(size=(32, 6, 6, 2)) * 2).astype(np.float32)
    kbi = lambda t: (t[0], t[2], np.round(t[1]) - np.round(t[2]))
    h = hgq2_q(x, *iqc, "RND", "SAT")
    h = np.maximum(conv2d(h, hgq2_q(kc, *kbi(kqc), "RND", "SAT_SYM", weight=True), hgq2_q(bc, *kbi(bqc), "RND", "WRAP"), "valid"), 0)
    h = hgq2_q(h.reshape(32, -1), *iqd, "TRN", "WRAP")
    save_golden("hgq2_cnn", x, h @ hgq2_q(kd, *kbi(kqd), "RND", "SAT_SYM", weight=True) + hgq2_q(bd, *kbi(bqd), "RND", "WRAP"))


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    sequential_mlp()
    functional_cnn()
    conv1d_sequential()
    qkeras_sequential()
    hgq2_sequential()
    hgq2_functional()
    print("wrote", sorted(os.listdir(OUT)))
