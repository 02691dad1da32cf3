#!/usr/bin/env python3
"""Golden reference files for the HetQ layer, loss and optimizer tests.

What it produces
----------------
One small JSON file per test case in ``tests/HetQ.Tests/Golden/``:

* ``layer_*.json``  forward output and backward gradients of one layer
  (Dense, Conv1D, Conv2D, DepthwiseConv2D, BatchNormalization, Activation,
  MaxPool1D/2D, AvgPool1D/2D, GlobalAveragePool1D/2D, Flatten, Add).
  The scalar loss used for the backward pass is ``sum(output * upstream)``,
  so ``grad_inputs`` / ``grad_params`` are the vector-Jacobian products of
  ``upstream``.
* ``loss_*.json``   value of a loss and its gradient w.r.t. the model output.
* ``opt_*.json``    parameter trajectory of an optimizer over 5 steps with a
  fixed sequence of gradients.

The file format and the (Keras-like, channels-last) conventions are described
in ``tests/HetQ.Tests/Golden/README.md``.  In short: tensors are NHWC, Dense
kernels [in, out], Conv2D kernels [KH, KW, Cin, F], Conv1D kernels [K, Cin, F],
DepthwiseConv2D kernels [KH, KW, C, M] (output channel c*M + m), Keras "same"
padding (extra pad row/column at the end), Keras BatchNormalization (biased
variance in the moving-variance update, epsilon 1e-3, momentum 0.99).
The script transposes to torch's NCHW layouts internally.

All inputs, parameters, upstream gradients, labels and targets are float32
values (generated in float32, stored as the exact float64 value of that
float32).  Every reference result is computed in float64 with PyTorch (used
only as a test oracle) and stored with Python's repr of the float64 value, so
the reference itself carries no float32 rounding error.  Seeds are derived
from the case name (crc32), so adding a case does not change the others.

Besides writing the files the script cross-checks the torch computation
against independent naive float64 NumPy implementations of the Keras
semantics (conv/depthwise/pooling layouts and "same" padding, BN, losses,
optimizers) and checks layer gradients with torch.autograd.gradcheck; it
stops with an AssertionError if anything disagrees.

How to rerun
------------
From the repository root::

    OPENBLAS_NUM_THREADS=1 /usr/bin/python3 tests/golden/make_golden.py

Requires PyTorch (tested with 1.13) and NumPy.  It deletes the old
``layer_*.json``, ``loss_*.json`` and ``opt_*.json`` files in the output folder
first, then rewrites everything (output is deterministic).
"""

import json
import math
import os
import sys
import zlib

import numpy as np
import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)
torch.set_num_threads(1)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT_DIR = os.path.join(ROOT, "tests", "HetQ.Tests", "Golden")

CASES = []  # (file name, dict)


# ----------------------------------------------------------------------------
# helpers
# ----------------------------------------------------------------------------

def rng_for(name):
    return np.random.default_rng(zlib.crc32(name.encode("utf-8")))


def f32(a):
    """Round to float32 and return as float64 array (exact float32 values)."""
    return np.asarray(a, dtype=np.float32).astype(np.float64)


def randn(rng, shape, scale=1.0):
    return f32(rng.standard_normal(shape) * scale)


def uniform(rng, shape, lo, hi):
    return f32(rng.uniform(lo, hi, shape))


def tens(a):
    """{"shape", "data"} of an array (float64 values, row-major)."""
    if isinstance(a, torch.Tensor):
        a = a.detach().cpu().numpy()
    a = np.asarray(a, dtype=np.float64)
    return {"shape": list(a.shape), "data": [float(v) for v in a.reshape(-1)]}


def T(a, grad=False):
    t = torch.tensor(np.asarray(a, dtype=np.float64), dtype=torch.float64)
    if grad:
        t.requires_grad_(True)
    return t


def close(a, b, tol=1e-10, what=""):
    a = np.asarray(a.detach().numpy() if isinstance(a, torch.Tensor) else a, dtype=np.float64)
    b = np.asarray(b.detach().numpy() if isinstance(b, torch.Tensor) else b, dtype=np.float64)
    assert a.shape == b.shape, f"{what}: shape {a.shape} vs {b.shape}"
    err = np.max(np.abs(a - b)) if a.size else 0.0
    scale = max(1.0, np.max(np.abs(b)) if b.size else 1.0)
    assert err <= tol * scale, f"{what}: max abs err {err}"


def same_pads(n_in, k, s):
    """Keras 'same' padding: (out, pad_before, pad_after)."""
    out = -(-n_in // s)
    total = max((out - 1) * s + k - n_in, 0)
    return out, total // 2, total - total // 2


def pads_for(padding, in_sizes, ksizes, strides):
    if padding == "valid":
        return [[0, 0] for _ in in_sizes]
    assert padding == "same"
    return [list(same_pads(n, k, s)[1:]) for n, k, s in zip(in_sizes, ksizes, strides)]


def torch_pad_arg(pads):
    """pads per spatial dim (in order) -> F.pad argument (last dim first)."""
    arg = []
    for before, after in reversed(pads):
        arg += [before, after]
    return arg


def add_layer_case(name, layer, config, inputs, params, fn, trainable, description,
                   extra_fn=None, gradcheck=True):
    """inputs: list of np arrays; params: dict name -> np array (ordered);
    fn(list of input tensors, dict of param tensors) -> output tensor (NHWC)."""
    rng = rng_for(name + "/upstream")
    xs = [T(x, grad=True) for x in inputs]
    ps = {k: T(v, grad=(k in trainable)) for k, v in params.items()}
    out = fn(xs, ps)
    upstream = randn(rng, tuple(out.shape))
    loss = (out * T(upstream)).sum()
    loss.backward()
    case = {
        "case": name,
        "description": description,
        "layer": layer,
        "config": config,
        "inputs": [tens(x) for x in inputs],
        "params": {k: tens(v) for k, v in params.items()},
        "upstream": tens(upstream),
        "output": tens(out),
        "grad_inputs": [tens(x.grad) for x in xs],
        "grad_params": {k: tens(ps[k].grad) for k in params if k in trainable},
    }
    if extra_fn is not None:
        case.update(extra_fn(inputs, params))
    if gradcheck:
        xs2 = [T(x, grad=True) for x in inputs]
        ps2 = [T(params[k], grad=True) for k in params if k in trainable]
        names = [k for k in params if k in trainable]

        def g(*args):
            xin = list(args[:len(xs2)])
            pd = {k: T(v) for k, v in params.items()}
            pd.update(dict(zip(names, args[len(xs2):])))
            return fn(xin, pd)

        assert torch.autograd.gradcheck(g, tuple(xs2 + ps2), eps=1e-6, atol=1e-7, rtol=1e-6), name
    CASES.append(("layer_" + name + ".json", case))
    return case


# ----------------------------------------------------------------------------
# naive NumPy float64 references (Keras semantics, NHWC) for cross-checks
# ----------------------------------------------------------------------------

def np_pad(x, pads, value=0.0):
    """x NHWC (or NLC); pads per spatial dim."""
    width = [(0, 0)] + [tuple(p) for p in pads] + [(0, 0)]
    return np.pad(x, width, mode="constant", constant_values=value)


def naive_conv2d(x, k, b, strides, padding):
    n, h, w, c = x.shape
    kh, kw, cin, f = k.shape
    pads = pads_for(padding, (h, w), (kh, kw), strides)
    xp = np_pad(x, pads)
    oh = (xp.shape[1] - kh) // strides[0] + 1
    ow = (xp.shape[2] - kw) // strides[1] + 1
    y = np.zeros((n, oh, ow, f))
    for i in range(oh):
        for j in range(ow):
            patch = xp[:, i * strides[0]:i * strides[0] + kh, j * strides[1]:j * strides[1] + kw, :]
            y[:, i, j, :] = np.einsum("nabc,abcf->nf", patch, k)
    if b is not None:
        y += b
    return y


def naive_depthwise(x, k, b, strides, padding):
    n, h, w, c = x.shape
    kh, kw, c2, m = k.shape
    pads = pads_for(padding, (h, w), (kh, kw), strides)
    xp = np_pad(x, pads)
    oh = (xp.shape[1] - kh) // strides[0] + 1
    ow = (xp.shape[2] - kw) // strides[1] + 1
    y = np.zeros((n, oh, ow, c * m))
    for i in range(oh):
        for j in range(ow):
            patch = xp[:, i * strides[0]:i * strides[0] + kh, j * strides[1]:j * strides[1] + kw, :]
            for ci in range(c):
                for mi in range(m):
                    y[:, i, j, ci * m + mi] = np.einsum("nab,ab->n", patch[..., ci], k[:, :, ci, mi])
    if b is not None:
        y += b
    return y


def naive_pool2d(x, pool, strides, padding, kind):
    n, h, w, c = x.shape
    pads = pads_for(padding, (h, w), pool, strides)
    xp = np_pad(x, pads, value=np.nan)
    oh = (xp.shape[1] - pool[0]) // strides[0] + 1
    ow = (xp.shape[2] - pool[1]) // strides[1] + 1
    y = np.zeros((n, oh, ow, c))
    for i in range(oh):
        for j in range(ow):
            patch = xp[:, i * strides[0]:i * strides[0] + pool[0], j * strides[1]:j * strides[1] + pool[1], :]
            y[:, i, j, :] = np.nanmax(patch, axis=(1, 2)) if kind == "max" else np.nanmean(patch, axis=(1, 2))
    return y


# ----------------------------------------------------------------------------
# torch implementations in HetQ/Keras layouts
# ----------------------------------------------------------------------------

def t_dense(x, k, b):
    return F.linear(x, k.t(), b)


def t_conv1d(x, k, b, stride, padding):
    # x [N, L, C] -> [N, C, L]; k [K, Cin, F] -> [F, Cin, K]
    pads = pads_for(padding, (x.shape[1],), (k.shape[0],), (stride,))
    xt = F.pad(x.permute(0, 2, 1), torch_pad_arg(pads))
    y = F.conv1d(xt, k.permute(2, 1, 0), b, stride=stride)
    return y.permute(0, 2, 1)


def t_conv2d(x, k, b, strides, padding):
    # x [N, H, W, C] -> [N, C, H, W]; k [KH, KW, Cin, F] -> [F, Cin, KH, KW]
    pads = pads_for(padding, x.shape[1:3], k.shape[0:2], strides)
    xt = F.pad(x.permute(0, 3, 1, 2), torch_pad_arg(pads))
    y = F.conv2d(xt, k.permute(3, 2, 0, 1), b, stride=tuple(strides))
    return y.permute(0, 2, 3, 1)


def t_depthwise(x, k, b, strides, padding):
    # k [KH, KW, C, M] -> [C*M, 1, KH, KW] with out channel c*M + m (torch group order)
    kh, kw, c, m = k.shape
    pads = pads_for(padding, x.shape[1:3], (kh, kw), strides)
    xt = F.pad(x.permute(0, 3, 1, 2), torch_pad_arg(pads))
    wt = k.permute(2, 3, 0, 1).reshape(c * m, 1, kh, kw)
    y = F.conv2d(xt, wt, b, stride=tuple(strides), groups=c)
    return y.permute(0, 2, 3, 1)


def t_pool2d(x, pool, strides, padding, kind):
    pads = pads_for(padding, x.shape[1:3], pool, strides)
    xt = x.permute(0, 3, 1, 2)
    if kind == "max":
        xp = F.pad(xt, torch_pad_arg(pads), value=-math.inf)
        y = F.max_pool2d(xp, tuple(pool), tuple(strides))
    else:
        # Keras: divide by the number of valid (non-padded) elements in the window
        xp = F.pad(xt, torch_pad_arg(pads), value=0.0)
        ones = F.pad(torch.ones_like(xt[:1, :1]), torch_pad_arg(pads), value=0.0)
        s = F.avg_pool2d(xp, tuple(pool), tuple(strides), divisor_override=1)
        cnt = F.avg_pool2d(ones, tuple(pool), tuple(strides), divisor_override=1)
        y = s / cnt
    return y.permute(0, 2, 3, 1)


def t_pool1d(x, pool, stride, padding, kind):
    # [N, L, C] as [N, 1, L, C]
    return t_pool2d(x.unsqueeze(1), (1, pool), (1, stride), padding, kind).squeeze(1)


def t_batchnorm(x, gamma, beta, mm, mv, eps, training):
    c = x.shape[-1]
    perm = [0, x.dim() - 1] + list(range(1, x.dim() - 1))
    inv = [0] + list(range(2, x.dim())) + [1]
    xt = x.permute(*perm) if x.dim() > 2 else x
    if training:
        y = F.batch_norm(xt, None, None, gamma, beta, training=True, eps=eps)
    else:
        y = F.batch_norm(xt, mm, mv, gamma, beta, training=False, eps=eps)
    return y.permute(*inv) if x.dim() > 2 else y


# ----------------------------------------------------------------------------
# layer cases
# ----------------------------------------------------------------------------

def dense_cases():
    for name, use_bias in (("dense_bias", True), ("dense_nobias", False)):
        rng = rng_for(name)
        n, din, dout = 3, 5, 4
        x = randn(rng, (n, din))
        params = {"kernel": randn(rng, (din, dout), 0.5)}
        if use_bias:
            params["bias"] = randn(rng, (dout,), 0.5)
        close(t_dense(T(x), T(params["kernel"]), T(params["bias"]) if use_bias else None),
              x @ params["kernel"] + (params["bias"] if use_bias else 0), what=name)
        add_layer_case(name, "Dense", {"units": dout, "use_bias": use_bias}, [x], params,
                       lambda xs, p: t_dense(xs[0], p["kernel"], p.get("bias")),
                       {"kernel", "bias"}, f"Dense {din}->{dout}, use_bias={use_bias}")


def conv1d_cases():
    specs = [
        # name, N, L, Cin, F, K, stride, padding
        ("conv1d_valid_k3_s1", 2, 7, 3, 4, 3, 1, "valid"),
        ("conv1d_valid_k3_s2", 2, 9, 3, 4, 3, 2, "valid"),
        ("conv1d_same_k4_s1", 2, 7, 2, 3, 4, 1, "same"),
        ("conv1d_same_k3_s2", 2, 8, 3, 4, 3, 2, "same"),
    ]
    for name, n, l, cin, f, k, s, padding in specs:
        rng = rng_for(name)
        x = randn(rng, (n, l, cin))
        params = {"kernel": randn(rng, (k, cin, f), 0.5), "bias": randn(rng, (f,), 0.5)}
        ref = naive_conv2d(x[:, None], params["kernel"][None], params["bias"], (1, s), padding)[:, 0]
        close(t_conv1d(T(x), T(params["kernel"]), T(params["bias"]), s, padding), ref, what=name)
        pads = pads_for(padding, (l,), (k,), (s,))
        cfg = {"filters": f, "kernel_size": [k], "strides": [s], "padding": padding,
               "use_bias": True, "pads": pads}
        add_layer_case(name, "Conv1D", cfg, [x], params,
                       lambda xs, p, s=s, padding=padding: t_conv1d(xs[0], p["kernel"], p["bias"], s, padding),
                       {"kernel", "bias"}, f"Conv1D k={k} stride={s} padding={padding}, input [N,L,C]={[n, l, cin]}")


def conv2d_cases():
    specs = [
        # name, N, H, W, Cin, F, (KH, KW), strides, padding, use_bias
        ("conv2d_3x3_valid_s1", 2, 6, 5, 3, 4, (3, 3), (1, 1), "valid", True),
        ("conv2d_3x3_same_s2", 2, 7, 6, 3, 4, (3, 3), (2, 2), "same", True),
        ("conv2d_1x1", 2, 4, 4, 3, 5, (1, 1), (1, 1), "valid", True),
        ("conv2d_2x3_same_s1", 2, 5, 6, 2, 3, (2, 3), (1, 1), "same", True),
        ("conv2d_2x3_valid_s21", 2, 6, 5, 2, 3, (2, 3), (2, 1), "valid", True),
        ("conv2d_3x3_valid_nobias", 2, 5, 5, 2, 3, (3, 3), (1, 1), "valid", False),
    ]
    for name, n, h, w, cin, f, ks, st, padding, use_bias in specs:
        rng = rng_for(name)
        x = randn(rng, (n, h, w, cin))
        params = {"kernel": randn(rng, (ks[0], ks[1], cin, f), 0.4)}
        if use_bias:
            params["bias"] = randn(rng, (f,), 0.5)
        b = params.get("bias")
        ref = naive_conv2d(x, params["kernel"], b, st, padding)
        close(t_conv2d(T(x), T(params["kernel"]), T(b) if b is not None else None, st, padding), ref, what=name)
        cfg = {"filters": f, "kernel_size": list(ks), "strides": list(st), "padding": padding,
               "use_bias": use_bias, "pads": pads_for(padding, (h, w), ks, st)}
        add_layer_case(name, "Conv2D", cfg, [x], params,
                       lambda xs, p, st=st, padding=padding: t_conv2d(xs[0], p["kernel"], p.get("bias"), st, padding),
                       {"kernel", "bias"},
                       f"Conv2D kernel={list(ks)} strides={list(st)} padding={padding}, input NHWC {[n, h, w, cin]}")


def depthwise_cases():
    specs = [
        # name, N, H, W, C, M, (KH, KW), strides, padding
        ("depthwise_3x3_valid_m1", 2, 5, 5, 3, 1, (3, 3), (1, 1), "valid"),
        ("depthwise_3x3_valid_m2", 2, 5, 4, 3, 2, (3, 3), (1, 1), "valid"),
        ("depthwise_3x3_same_m1", 2, 5, 4, 2, 1, (3, 3), (1, 1), "same"),
        ("depthwise_3x3_same_m2_s2", 2, 6, 5, 2, 2, (3, 3), (2, 2), "same"),
    ]
    for name, n, h, w, c, m, ks, st, padding in specs:
        rng = rng_for(name)
        x = randn(rng, (n, h, w, c))
        params = {"kernel": randn(rng, (ks[0], ks[1], c, m), 0.5), "bias": randn(rng, (c * m,), 0.5)}
        ref = naive_depthwise(x, params["kernel"], params["bias"], st, padding)
        close(t_depthwise(T(x), T(params["kernel"]), T(params["bias"]), st, padding), ref, what=name)
        cfg = {"kernel_size": list(ks), "strides": list(st), "padding": padding, "depth_multiplier": m,
               "use_bias": True, "pads": pads_for(padding, (h, w), ks, st)}
        add_layer_case(name, "DepthwiseConv2D", cfg, [x], params,
                       lambda xs, p, st=st, padding=padding: t_depthwise(xs[0], p["kernel"], p["bias"], st, padding),
                       {"kernel", "bias"},
                       f"DepthwiseConv2D kernel={list(ks)} multiplier={m} strides={list(st)} padding={padding}; "
                       f"output channel c*M+m")


def batchnorm_cases():
    eps, momentum = 1e-3, 0.99
    specs = [
        ("batchnorm_2d_train", (4, 3), True),
        ("batchnorm_2d_infer", (4, 3), False),
        ("batchnorm_4d_train", (2, 3, 3, 4), True),
        ("batchnorm_4d_infer", (2, 3, 3, 4), False),
    ]
    for name, shape, training in specs:
        rng = rng_for(name)
        c = shape[-1]
        x = f32(rng.standard_normal(shape) * 1.5 + 0.7)
        params = {"gamma": uniform(rng, (c,), 0.5, 1.5), "beta": randn(rng, (c,), 0.3),
                  "moving_mean": randn(rng, (c,), 0.5), "moving_variance": uniform(rng, (c,), 0.5, 2.0)}
        axes = tuple(range(len(shape) - 1))
        mean = x.mean(axis=axes)
        var = x.var(axis=axes)  # biased
        if training:
            ref = (x - mean) / np.sqrt(var + eps) * params["gamma"] + params["beta"]
        else:
            ref = (x - params["moving_mean"]) / np.sqrt(params["moving_variance"] + eps) * params["gamma"] + params["beta"]
        got = t_batchnorm(T(x), T(params["gamma"]), T(params["beta"]), T(params["moving_mean"]),
                          T(params["moving_variance"]), eps, training)
        close(got, ref, what=name)

        def extra(inputs, p, training=training, axes=axes):
            if not training:
                return {}
            xx = inputs[0]
            bm = xx.mean(axis=axes)
            bv = xx.var(axis=axes)  # biased, Keras/TF style
            return {"batch_mean": tens(bm), "batch_variance": tens(bv),
                    "new_moving_mean": tens(p["moving_mean"] * momentum + bm * (1 - momentum)),
                    "new_moving_variance": tens(p["moving_variance"] * momentum + bv * (1 - momentum))}

        cfg = {"axis": -1, "epsilon": eps, "momentum": momentum, "training": training}
        add_layer_case(name, "BatchNormalization", cfg, [x], params,
                       lambda xs, p, training=training: t_batchnorm(xs[0], p["gamma"], p["beta"], p["moving_mean"],
                                                                    p["moving_variance"], eps, training),
                       {"gamma", "beta"},
                       f"BatchNormalization over last axis, input {list(shape)}, training={training}",
                       extra_fn=extra)


def activation_cases():
    shape = (2, 3, 5)
    specs = [
        ("relu", {}, lambda x: F.relu(x), lambda x: np.maximum(x, 0), 1.0),
        ("leaky_relu_0.3", {"alpha": 0.3}, lambda x: F.leaky_relu(x, 0.3), lambda x: np.where(x > 0, x, 0.3 * x), 1.0),
        ("leaky_relu_0.1", {"alpha": 0.1}, lambda x: F.leaky_relu(x, 0.1), lambda x: np.where(x > 0, x, 0.1 * x), 1.0),
        ("hard_tanh", {"min": -1.0, "max": 1.0}, lambda x: F.hardtanh(x, -1.0, 1.0), lambda x: np.clip(x, -1, 1), 1.5),
        ("sigmoid", {}, torch.sigmoid, lambda x: 1 / (1 + np.exp(-x)), 2.0),
        ("tanh", {}, torch.tanh, np.tanh, 1.5),
        ("softmax", {"axis": -1}, lambda x: torch.softmax(x, dim=-1),
         lambda x: np.exp(x - x.max(-1, keepdims=True)) / np.exp(x - x.max(-1, keepdims=True)).sum(-1, keepdims=True), 2.0),
    ]
    for act, extra_cfg, fn, npfn, scale in specs:
        name = "activation_" + act.replace(".", "")
        rng = rng_for(name)
        x = randn(rng, shape, scale)
        close(fn(T(x)), npfn(x), what=name)
        cfg = {"activation": act.split("_0")[0]}
        cfg.update(extra_cfg)
        add_layer_case(name, "Activation", cfg, [x], {}, lambda xs, p, fn=fn: fn(xs[0]), set(),
                       f"Activation {cfg}, elementwise (softmax over the last axis)")


def pooling_cases():
    specs2 = [
        # name, type, kind, shape, pool, strides, padding
        ("maxpool2d_2x2_valid", "MaxPool2D", "max", (2, 5, 5, 3), (2, 2), (2, 2), "valid"),
        ("maxpool2d_3x3_same_s2", "MaxPool2D", "max", (2, 7, 6, 2), (3, 3), (2, 2), "same"),
        ("avgpool2d_2x2_valid", "AvgPool2D", "avg", (2, 5, 5, 3), (2, 2), (2, 2), "valid"),
        ("avgpool2d_3x3_same_s2", "AvgPool2D", "avg", (2, 7, 6, 2), (3, 3), (2, 2), "same"),
    ]
    for name, typ, kind, shape, pool, st, padding in specs2:
        rng = rng_for(name)
        x = randn(rng, shape)
        close(t_pool2d(T(x), pool, st, padding, kind), naive_pool2d(x, pool, st, padding, kind), what=name)
        cfg = {"pool_size": list(pool), "strides": list(st), "padding": padding,
               "pads": pads_for(padding, shape[1:3], pool, st)}
        add_layer_case(name, typ, cfg, [x], {},
                       lambda xs, p, pool=pool, st=st, padding=padding, kind=kind: t_pool2d(xs[0], pool, st, padding, kind),
                       set(), f"{typ} pool={list(pool)} strides={list(st)} padding={padding}"
                              + ("; same-padded windows average over valid elements only" if kind == "avg" and padding == "same" else ""))
    specs1 = [
        ("maxpool1d_2_valid", "MaxPool1D", "max", (2, 7, 3), 2, 2, "valid"),
        ("maxpool1d_3_same_s2", "MaxPool1D", "max", (2, 8, 2), 3, 2, "same"),
        ("avgpool1d_2_valid", "AvgPool1D", "avg", (2, 7, 3), 2, 2, "valid"),
        ("avgpool1d_3_same_s2", "AvgPool1D", "avg", (2, 8, 2), 3, 2, "same"),
    ]
    for name, typ, kind, shape, pool, st, padding in specs1:
        rng = rng_for(name)
        x = randn(rng, shape)
        close(t_pool1d(T(x), pool, st, padding, kind),
              naive_pool2d(x[:, None], (1, pool), (1, st), padding, kind)[:, 0], what=name)
        cfg = {"pool_size": [pool], "strides": [st], "padding": padding,
               "pads": pads_for(padding, shape[1:2], (pool,), (st,))}
        add_layer_case(name, typ, cfg, [x], {},
                       lambda xs, p, pool=pool, st=st, padding=padding, kind=kind: t_pool1d(xs[0], pool, st, padding, kind),
                       set(), f"{typ} pool={pool} stride={st} padding={padding}, input [N,L,C]")


def misc_cases():
    name = "globalavgpool1d"
    x = randn(rng_for(name), (2, 5, 3))
    close(x.mean(axis=1), T(x).mean(dim=1), what=name)
    add_layer_case(name, "GlobalAveragePool1D", {}, [x], {}, lambda xs, p: xs[0].mean(dim=1), set(),
                   "mean over L: [N,L,C] -> [N,C]")
    name = "globalavgpool2d"
    x = randn(rng_for(name), (2, 4, 3, 3))
    add_layer_case(name, "GlobalAveragePool2D", {}, [x], {}, lambda xs, p: xs[0].mean(dim=(1, 2)), set(),
                   "mean over H,W: [N,H,W,C] -> [N,C]")
    name = "flatten"
    x = randn(rng_for(name), (2, 3, 2, 4))
    add_layer_case(name, "Flatten", {}, [x], {}, lambda xs, p: xs[0].reshape(xs[0].shape[0], -1), set(),
                   "row-major NHWC [N,H,W,C] -> [N,H*W*C]")
    name = "add"
    rng = rng_for(name)
    a, b = randn(rng, (2, 3, 2, 4)), randn(rng, (2, 3, 2, 4))
    add_layer_case(name, "Add", {}, [a, b], {}, lambda xs, p: xs[0] + xs[1], set(), "elementwise sum of two inputs")


# ----------------------------------------------------------------------------
# losses
# ----------------------------------------------------------------------------

def add_loss_case(name, loss, config, output, fn, ref_value, ref_grad, labels=None, targets=None, description="", weights=None):
    o = T(output, grad=True)
    v = fn(o)
    v.backward()
    close(v, ref_value, what=name + " value")
    close(o.grad, ref_grad, what=name + " grad")
    case = {"case": name, "description": description, "loss": loss, "config": config, "output": tens(output)}
    if labels is not None:
        case["labels"] = [int(v) for v in labels]
    if targets is not None:
        case["targets"] = tens(targets)
    if weights is not None:
        case["weights"] = tens(weights)
    case["value"] = float(v.item())
    case["grad"] = tens(o.grad)
    CASES.append(("loss_" + name + ".json", case))


def loss_cases():
    for ls in (0.0, 0.1):
        name = f"softmax_cross_entropy_ls{ls:g}".replace(".", "")
        rng = rng_for(name)
        n, k = 4, 5
        logits = randn(rng, (n, k), 2.0)
        labels = rng.integers(0, k, n)
        t = np.eye(k)[labels] * (1 - ls) + ls / k
        p = np.exp(logits - logits.max(1, keepdims=True))
        p /= p.sum(1, keepdims=True)
        ref_v = -(t * np.log(p)).sum(1).mean()
        ref_g = (p - t) / n
        add_loss_case(name, "softmax_cross_entropy", {"from_logits": True, "label_smoothing": ls, "reduction": "mean_over_batch"},
                      logits, lambda o: F.cross_entropy(o, torch.tensor(labels), label_smoothing=ls),
                      ref_v, ref_g, labels=labels,
                      description="logits [N,K], integer labels; targets = onehot*(1-ls) + ls/K; "
                                  "value = mean over N of -sum_k t_k log_softmax(z)_k")

    eps = 1e-7

    def bce_probs(o, y):
        oc = torch.clamp(o, eps, 1 - eps)
        return -(y * torch.log(oc) + (1 - y) * torch.log(1 - oc)).mean()

    def np_bce_probs(p, y):
        pc = np.clip(p, eps, 1 - eps)
        v = -(y * np.log(pc) + (1 - y) * np.log(1 - pc)).mean()
        inside = (p >= eps) & (p <= 1 - eps)
        g = np.where(inside, (-(y / pc) + (1 - y) / (1 - pc)) / p.size, 0.0)
        return v, g

    name = "binary_cross_entropy"
    rng = rng_for(name)
    probs = uniform(rng, (3, 4), 0.02, 0.98)
    y = f32(rng.integers(0, 2, (3, 4)))
    v, g = np_bce_probs(probs, y)
    add_loss_case(name, "binary_cross_entropy", {"from_logits": False, "epsilon": eps, "reduction": "mean_over_all"},
                  probs, lambda o: bce_probs(o, T(y)), v, g, targets=y,
                  description="probabilities, clipped to [eps, 1-eps]; mean over all elements")

    name = "binary_cross_entropy_clipped"
    rng = rng_for(name)
    probs = uniform(rng, (2, 4), 0.05, 0.95)
    y = f32(rng.integers(0, 2, (2, 4)))
    # clipped entries (gradient 0): p=0 with y=1 and y=0, p=1e-9 with y=1, p=1 with y=1.
    # (p=1 with y=0 is avoided: -log(1-(1-eps)) depends on how 1-eps rounds in float32.)
    probs[0, 0], y[0, 0] = 0.0, 1.0
    probs[0, 1], y[0, 1] = 0.0, 0.0
    probs[1, 0], y[1, 0] = f32(1e-9), 1.0
    probs[1, 1], y[1, 1] = 1.0, 1.0
    y[1, 2] = f32(0.3)  # a soft target
    v, g = np_bce_probs(probs, y)
    add_loss_case(name, "binary_cross_entropy", {"from_logits": False, "epsilon": eps, "reduction": "mean_over_all"},
                  probs, lambda o: bce_probs(o, T(y)), v, g, targets=y,
                  description="probabilities including values outside [eps, 1-eps] (clipped, gradient 0 there) "
                              "and one soft target 0.3")

    name = "binary_cross_entropy_from_logits"
    rng = rng_for(name)
    z = randn(rng, (3, 4), 3.0)
    y = f32(rng.integers(0, 2, (3, 4)))
    y[2, 3] = f32(0.25)
    ref_v = (np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))).mean()
    ref_g = (1 / (1 + np.exp(-z)) - y) / z.size
    add_loss_case(name, "binary_cross_entropy_from_logits", {"from_logits": True, "reduction": "mean_over_all"},
                  z, lambda o: F.binary_cross_entropy_with_logits(o, T(y)), ref_v, ref_g, targets=y,
                  description="logits; value = mean(max(z,0) - z*y + log(1+exp(-|z|))); one soft target 0.25")

    for kind in ("onehot", "float"):
        name = f"mse_{kind}"
        rng = rng_for(name)
        o = randn(rng, (3, 4), 0.8)
        if kind == "onehot":
            y = np.eye(4)[rng.integers(0, 4, 3)]
        else:
            y = randn(rng, (3, 4))
        add_loss_case(name, "mse", {"reduction": "mean_over_all"}, o, lambda oo, y=y: F.mse_loss(oo, T(y)),
                      ((o - y) ** 2).mean(), 2 * (o - y) / o.size, targets=y,
                      description=f"mean squared error over all elements, {kind} targets")


    # Regression losses and per-sample weights: value = (1/N) sum_i w_i * mean_k l(o_ik - y_ik).
    name = "mae"
    rng = rng_for(name)
    o, y = randn(rng, (3, 4), 0.8), randn(rng, (3, 4))
    add_loss_case(name, "mae", {"reduction": "mean_over_all"}, o, lambda oo: F.l1_loss(oo, T(y)),
                  np.abs(o - y).mean(), np.sign(o - y) / o.size, targets=y,
                  description="mean absolute error over all elements")
    for delta in (1.0, 0.5):
        name = f"huber_{delta:g}".replace(".", "")
        rng = rng_for(name)
        o, y = randn(rng, (3, 4), 1.2), randn(rng, (3, 4))
        d = o - y
        ref_v = np.where(np.abs(d) <= delta, 0.5 * d * d, delta * (np.abs(d) - 0.5 * delta)).mean()
        ref_g = np.where(np.abs(d) <= delta, d, delta * np.sign(d)) / o.size
        add_loss_case(name, "huber", {"delta": delta, "reduction": "mean_over_all"}, o,
                      lambda oo, y=y, delta=delta: F.huber_loss(oo, T(y), delta=delta), ref_v, ref_g, targets=y,
                      description=f"Huber loss with delta {delta:g}: d^2/2 inside, delta*(|d|-delta/2) outside; mean over all elements")
    name = "mse_weighted"
    rng = rng_for(name)
    o, y = randn(rng, (4, 3), 0.8), randn(rng, (4, 3))
    w = uniform(rng, (4,), 0.0, 2.0)
    w[1] = 0.0
    ref_v = (w[:, None] * (o - y) ** 2).mean(1).mean()
    ref_g = w[:, None] * 2 * (o - y) / o.size
    add_loss_case(name, "mse", {"reduction": "weighted_mean_over_all"}, o,
                  lambda oo: (T(w)[:, None] * (oo - T(y)) ** 2).mean(1).mean(), ref_v, ref_g, targets=y, weights=w,
                  description="per-sample weights w (one is 0): value = mean over N of w_i * mean over K of (o - y)^2")
    name = "binary_cross_entropy_from_logits_weighted"
    rng = rng_for(name)
    z = randn(rng, (5, 1), 3.0)
    y = f32(rng.integers(0, 2, (5, 1)))
    w = uniform(rng, (5,), 0.2, 3.0)
    ref_v = (w[:, None] * (np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z))))).mean()
    ref_g = w[:, None] * (1 / (1 + np.exp(-z)) - y) / z.size
    add_loss_case(name, "binary_cross_entropy_from_logits", {"from_logits": True, "reduction": "weighted_mean_over_all"},
                  z, lambda o: F.binary_cross_entropy_with_logits(o, T(y), weight=T(w)[:, None]), ref_v, ref_g, targets=y, weights=w,
                  description="a one-output tagger's logits with per-sample weights (BCE weight argument)")


# ----------------------------------------------------------------------------
# optimizers
# ----------------------------------------------------------------------------

def opt_cases():
    steps, size = 5, 7

    def run(name, optimizer, config, make_opt, manual, description):
        rng = rng_for(name)
        p0 = randn(rng, (size,))
        grads = [randn(rng, (size,)) for _ in range(steps)]
        traj = []
        if make_opt is not None:
            p = T(p0, grad=True)
            opt = make_opt([p])
            for g in grads:
                opt.zero_grad()
                p.grad = T(g)
                opt.step()
                traj.append(p.detach().numpy().copy())
            close(np.array(traj), np.array(manual(p0, grads)), tol=1e-12, what=name)
        else:
            traj = manual(p0, grads)
        case = {"case": name, "description": description, "optimizer": optimizer, "config": config,
                "initial": [float(v) for v in p0], "grads": [[float(v) for v in g] for g in grads],
                "params_after_each_step": [[float(v) for v in t] for t in traj]}
        CASES.append(("opt_" + name + ".json", case))

    def sgd_manual(lr, mu=0.0, nesterov=False, wd_fn=None):
        def m(p0, grads):
            p, v, out = p0.copy(), None, []
            for g in grads:
                g = g + (wd_fn(p) if wd_fn else 0)
                if mu:
                    v = g.copy() if v is None else mu * v + g
                    d = g + mu * v if nesterov else v
                else:
                    d = g
                p = p - lr * d
                out.append(p.copy())
            return out
        return m

    def adam_manual(lr, b1, b2, eps, wd=0.0):
        def m(p0, grads):
            p, mm, vv, out = p0.copy(), np.zeros_like(p0), np.zeros_like(p0), []
            for t, g in enumerate(grads, 1):
                p = p * (1 - lr * wd)
                mm = b1 * mm + (1 - b1) * g
                vv = b2 * vv + (1 - b2) * g * g
                mhat = mm / (1 - b1 ** t)
                vhat = vv / (1 - b2 ** t)
                p = p - lr * mhat / (np.sqrt(vhat) + eps)
                out.append(p.copy())
            return out
        return m

    lr = 0.1
    run("sgd", "sgd", {"lr": lr, "momentum": 0.0, "nesterov": False},
        lambda ps: torch.optim.SGD(ps, lr=lr), sgd_manual(lr), "plain SGD: p -= lr*g")
    run("sgd_momentum", "sgd", {"lr": lr, "momentum": 0.9, "nesterov": False},
        lambda ps: torch.optim.SGD(ps, lr=lr, momentum=0.9), sgd_manual(lr, 0.9),
        "torch SGD momentum: v = mu*v + g (v0 = 0); p -= lr*v")
    run("sgd_nesterov", "sgd", {"lr": lr, "momentum": 0.9, "nesterov": True},
        lambda ps: torch.optim.SGD(ps, lr=lr, momentum=0.9, nesterov=True), sgd_manual(lr, 0.9, True),
        "torch SGD Nesterov: v = mu*v + g; p -= lr*(g + mu*v)")
    alr = 0.01
    run("adam", "adam", {"lr": alr, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-7},
        lambda ps: torch.optim.Adam(ps, lr=alr, betas=(0.9, 0.999), eps=1e-7),
        adam_manual(alr, 0.9, 0.999, 1e-7),
        "torch Adam: m,v EMAs; p -= lr * m_hat / (sqrt(v_hat) + eps), m_hat = m/(1-b1^t), v_hat = v/(1-b2^t)")
    run("adamw", "adamw", {"lr": alr, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-7, "weight_decay": 0.01},
        lambda ps: torch.optim.AdamW(ps, lr=alr, betas=(0.9, 0.999), eps=1e-7, weight_decay=0.01),
        adam_manual(alr, 0.9, 0.999, 1e-7, wd=0.01),
        "torch AdamW: p *= (1 - lr*weight_decay) first, then the Adam update")
    l2 = 0.05
    run("sgd_l2", "sgd", {"lr": lr, "momentum": 0.0, "nesterov": False, "l2": l2},
        lambda ps: torch.optim.SGD(ps, lr=lr, weight_decay=2 * l2), sgd_manual(lr, wd_fn=lambda p: 2 * l2 * p),
        "SGD with Keras l2 regulariser penalty l2*sum(p^2): gradient g + 2*l2*p")
    l1 = 0.05
    run("sgd_l1", "sgd", {"lr": lr, "momentum": 0.0, "nesterov": False, "l1": l1},
        None, sgd_manual(lr, wd_fn=lambda p: l1 * np.sign(p)),
        "SGD with Keras l1 regulariser penalty l1*sum(|p|): gradient g + l1*sign(p)")


# ----------------------------------------------------------------------------
# output
# ----------------------------------------------------------------------------

def dumps(obj, indent=0):
    """JSON with objects laid out one key per line and arrays kept on one line."""
    pad = " " * indent
    if isinstance(obj, dict):
        if not obj:
            return "{}"
        items = [f'{pad} {json.dumps(k)}: {dumps(v, indent + 1)}' for k, v in obj.items()]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(obj, list) and any(isinstance(v, dict) for v in obj):
        items = [pad + " " + dumps(v, indent + 1) for v in obj]
        return "[\n" + ",\n".join(items) + "\n" + pad + "]"
    return json.dumps(obj, separators=(",", ":"), allow_nan=False)


def main():
    dense_cases()
    conv1d_cases()
    conv2d_cases()
    depthwise_cases()
    batchnorm_cases()
    activation_cases()
    pooling_cases()
    misc_cases()
    loss_cases()
    opt_cases()

    os.makedirs(OUT_DIR, exist_ok=True)
    for f in os.listdir(OUT_DIR):
        if f.endswith(".json") and f.split("_")[0] in ("layer", "loss", "opt"):
            os.remove(os.path.join(OUT_DIR, f))
    names = [n for n, _ in CASES]
    assert len(names) == len(set(names)), "duplicate case names"
    total = 0
    for fname, case in CASES:
        text = dumps(case) + "\n"
        # round-trip check: every float survives exactly
        assert json.loads(text) == json.loads(json.dumps(case)), fname
        with open(os.path.join(OUT_DIR, fname), "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
        total += len(text)
    print(f"wrote {len(CASES)} files, {total / 1024:.1f} KiB, to {os.path.relpath(OUT_DIR, ROOT)}", file=sys.stderr)


if __name__ == "__main__":
    main()
