#!/usr/bin/python3
"""Writes the ONNX / QONNX test models of tests/HetQ.Tests/Golden/onnx and their golden outputs.

PyTorch models are exported with torch.onnx.export (Debian's python3-torch); their golden outputs are PyTorch's.
QONNX models are written with onnx.helper (Brevitas is not packaged); their golden outputs come from a NumPy
transcription of QONNX's Quant / BipolarQuant / Trunc definitions (docs/qonnx-custom-ops in fastmachinelearning/qonnx).
Each model NAME gives NAME.onnx and NAME.json: {"input": [...], "output": [...]}, input in the ONNX layout (NCHW).
Run: OPENBLAS_NUM_THREADS=1 /usr/bin/python3 scripts/onnx-golden.py (Debian's python3 with python3-torch, python3-onnx)
"""
import json
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "HetQ.Tests", "Golden", "onnx")


def save_golden(name, x, y):
    with open(os.path.join(OUT, name + ".json"), "w") as f:
        json.dump({"input": np.asarray(x, dtype=np.float64).tolist(), "output": np.asarray(y, dtype=np.float64).tolist()}, f)
        f.write("\n")


def torch_models():
    import torch
    from torch import nn
    torch.manual_seed(0)

    class Residual(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(8, 8)
            self.w = nn.Parameter(torch.randn(8, 1) * 0.5)
            self.b = nn.Parameter(torch.randn(1) * 0.1)
            self.drop = nn.Dropout(0.2)

        def forward(self, x):
            h = torch.relu(self.fc(x)) + x
            h = self.drop(torch.clamp(h, 0.0, 6.0))
            return torch.sigmoid(h @ self.w + self.b)

    models = {
        "torch_mlp": (nn.Sequential(nn.Linear(16, 12), nn.ReLU(), nn.Linear(12, 5), nn.Softmax(dim=1)), (16,)),
        "torch_cnn": (nn.Sequential(nn.Conv2d(2, 4, 3, padding=1), nn.ReLU(), nn.BatchNorm2d(4), nn.MaxPool2d(2),
                                    nn.Conv2d(4, 3, 3), nn.LeakyReLU(0.1), nn.Flatten(), nn.Linear(12, 5)), (2, 8, 8)),
        "torch_residual": (Residual(), (8,)),
        "torch_depthwise": (nn.Sequential(nn.Conv2d(3, 6, 3, padding=1, groups=3), nn.ReLU(), nn.AvgPool2d(2),
                                          nn.Conv2d(6, 4, 1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 3)), (3, 4, 4)),
        "torch_conv1d": (nn.Sequential(nn.Conv1d(3, 4, 3, stride=1), nn.ReLU(), nn.MaxPool1d(2), nn.Flatten(), nn.Linear(16, 2)), (3, 10)),
    }
    for name, (m, shape) in models.items():
        m.eval()
        for mod in m.modules():
            if isinstance(mod, nn.BatchNorm2d):  # non-trivial statistics
                mod.running_mean.uniform_(-0.5, 0.5)
                mod.running_var.uniform_(0.5, 2.0)
                mod.weight.data.uniform_(0.5, 1.5)
                mod.bias.data.uniform_(-0.2, 0.2)
        x = torch.randn(8, *shape)
        with torch.no_grad():
            y = m(x)
        torch.onnx.export(m, x[:1], os.path.join(OUT, name + ".onnx"), input_names=["x"], output_names=["y"],
                          opset_version=13, do_constant_folding=True)
        save_golden(name, x.numpy(), y.numpy())
        print(name, tuple(y.shape))


# ---- QONNX reference semantics (NumPy) ----

def quant(x, scale, zeropt, bits, signed, narrow, mode="ROUND"):
    y = x / scale + zeropt
    lo = (-(2 ** (bits - 1)) + (1 if narrow else 0)) if signed else 0
    hi = (2 ** (bits - 1) - 1) if signed else (2 ** bits - 1 - (1 if narrow else 0))
    y = np.clip(y, lo, hi)
    y = {"ROUND": np.round, "FLOOR": np.floor}[mode](y)
    return (y - zeropt) * scale


def bipolar(x, scale):
    return np.where(x >= 0, 1.0, -1.0) * scale


def trunc(x, scale, zeropt, in_bits, out_bits, mode="FLOOR"):
    y = np.round(x / scale + zeropt)
    y = y / 2.0 ** (in_bits - out_bits)
    y = {"ROUND": np.round, "FLOOR": np.floor}[mode](y)
    return (y - zeropt) * scale * 2.0 ** (in_bits - out_bits)


def const(name, value):
    return numpy_helper.from_array(np.asarray(value, dtype=np.float32), name)


def qnode(inp, out, scale, bits, signed=1, narrow=0, mode="ROUND"):
    p = out + "_"
    inits = [const(p + "s", scale), const(p + "z", 0.0), const(p + "b", bits)]
    node = helper.make_node("Quant", [inp, p + "s", p + "z", p + "b"], [out], domain="qonnx.custom_op.general",
                            signed=signed, narrow=narrow, rounding_mode=mode)
    return node, inits


def write(name, nodes, inits, in_shape, out_shape):
    g = helper.make_graph(nodes, name, [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, *in_shape])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, *out_shape])], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13), helper.make_opsetid("qonnx.custom_op.general", 1)])
    onnx.save(m, os.path.join(OUT, name + ".onnx"))


def qonnx_models():
    rng = np.random.default_rng(1)
    # Quant on the input, on the weights (narrow), on the biases and on the ReLU output (unsigned).
    w1 = rng.normal(0, 0.4, (6, 4)).astype(np.float32)  # Gemm transB=1: [out, in]
    b1 = rng.normal(0, 0.2, 6).astype(np.float32)
    w2 = rng.normal(0, 0.4, (3, 6)).astype(np.float32)
    b2 = rng.normal(0, 0.2, 3).astype(np.float32)
    nodes, inits = [], [const("w1", w1), const("b1", b1), const("w2", w2), const("b2", b2)]
    for (i, o, s, b, sg, nr, md) in [("x", "xq", 2 ** -4, 8, 1, 0, "ROUND"), ("w1", "w1q", 2 ** -5, 6, 1, 1, "ROUND"),
                                     ("b1", "b1q", 2 ** -5, 8, 1, 0, "ROUND"), ("w2", "w2q", 2 ** -4, 5, 1, 0, "ROUND"),
                                     ("b2", "b2q", 2 ** -6, 10, 1, 0, "ROUND")]:
        n, it = qnode(i, o, s, b, sg, nr, md)
        nodes.append(n)
        inits += it
    nodes.append(helper.make_node("Gemm", ["xq", "w1q", "b1q"], ["h"], transB=1))
    nodes.append(helper.make_node("Relu", ["h"], ["r"]))
    n, it = qnode("r", "rq", 2 ** -3, 6, signed=0, mode="FLOOR")
    nodes.append(n)
    inits += it
    nodes.append(helper.make_node("Gemm", ["rq", "w2q", "b2q"], ["y"], transB=1))
    write("qonnx_mlp", nodes, inits, (4,), (3,))
    x = rng.normal(0, 1.5, (16, 4))
    xq = quant(x, 2 ** -4, 0, 8, 1, 0)
    h = xq @ quant(w1.astype(np.float64), 2 ** -5, 0, 6, 1, 1).T + quant(b1.astype(np.float64), 2 ** -5, 0, 8, 1, 0)
    r = quant(np.maximum(h, 0), 2 ** -3, 0, 6, 0, 0, "FLOOR")
    y = r @ quant(w2.astype(np.float64), 2 ** -4, 0, 5, 1, 0).T + quant(b2.astype(np.float64), 2 ** -6, 0, 10, 1, 0)
    save_golden("qonnx_mlp", x, y)

    # BipolarQuant weights, a Quant of the accumulator, then Trunc to fewer bits.
    w = rng.normal(0, 1, (4, 8)).astype(np.float32)
    nodes = [helper.make_node("BipolarQuant", ["w", "ws"], ["wq"], domain="qonnx.custom_op.general")]
    inits = [const("w", w), const("ws", 0.25)]
    n, it = qnode("x", "xq", 2 ** -3, 6)
    nodes.append(n)
    inits += it
    nodes.append(helper.make_node("Gemm", ["xq", "wq"], ["h"], transB=1))
    n, it = qnode("h", "hq", 2 ** -5, 12)
    nodes.append(n)
    inits += it
    inits += [const("ts", 2 ** -5), const("tz", 0.0), const("tin", 12), const("tout", 7)]
    nodes.append(helper.make_node("Trunc", ["hq", "ts", "tz", "tin", "tout"], ["y"], domain="qonnx.custom_op.general", rounding_mode="FLOOR"))
    write("qonnx_bipolar_trunc", nodes, inits, (8,), (4,))
    x = rng.normal(0, 1.5, (16, 8))
    h = quant(x, 2 ** -3, 0, 6, 1, 0) @ bipolar(w.astype(np.float64), 0.25).T
    y = trunc(quant(h, 2 ** -5, 0, 12, 1, 0), 2 ** -5, 0, 12, 7)
    save_golden("qonnx_bipolar_trunc", x, y)

    # A scale that is not a power of two: the import must refuse it, naming the node.
    nodes = []
    n, it = qnode("x", "xq", 0.1, 8)
    n.name = "input_quant"
    nodes.append(n)
    nodes.append(helper.make_node("Gemm", ["xq", "w"], ["y"], transB=1))
    write("qonnx_bad_scale", nodes, it + [const("w", np.ones((2, 3)))], (3,), (2,))
    print("qonnx models written")


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    qonnx_models()
    if "--no-torch" not in sys.argv:
        torch_models()
