"""The calls into the hetq command line."""
import json
import os
import shlex
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np


class HetQError(RuntimeError):
    """The hetq command failed: ``code`` is its exit code (2: bad input, 1: a check failed), the message
    its one-line error."""

    def __init__(self, message, code, args):
        super().__init__(message)
        self.code = code
        self.command = args


def command():
    """The command line that runs hetq, as a list."""
    env = os.environ.get("HETQ_CLI")
    if env:
        return shlex.split(env)
    found = shutil.which("hetq")
    if found:
        return [found]
    launcher = Path(__file__).resolve().parents[2] / "hetq"
    if launcher.is_file():
        return [str(launcher)]
    raise HetQError("hetq: not found (set HETQ_CLI, install the dotnet tool, or use the package inside the HetQ repository)", 127, [])


def _run(*args, json_out=False, timeout=None):
    argv = command() + [str(a) for a in args] + (["--json"] if json_out else [])
    p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
    if p.returncode != 0:
        lines = [l for l in (p.stderr or p.stdout).splitlines() if l.strip()]
        raise HetQError(lines[-1] if lines else f"hetq exited with code {p.returncode}", p.returncode, argv)
    if not json_out:
        return p.stdout
    lines = [l for l in p.stdout.splitlines() if l.strip()]
    if not lines:
        raise HetQError("hetq printed no JSON", p.returncode, argv)
    return json.loads(lines[-1])


def _save_keras(model, directory):
    """Saves an in-memory Keras model where hetq import can read it: a Keras 2 / QKeras .h5 file."""
    path = Path(directory) / "model.h5"
    model.save(str(path))
    return path


def convert(model, out, weights=None):
    """Imports a model into a HetQ model directory ``out`` and returns its path. ``model`` is a file
    (Keras/QKeras .json with ``weights``, a full .h5, or whatever ``hetq import`` reads, such as .onnx) or
    an in-memory Keras model, which is saved to a temporary directory first."""
    out = Path(out)
    if isinstance(model, (str, os.PathLike)):
        args = ["import", model, "--out", out] + (["--weights", weights] if weights is not None else [])
        _run(*args)
        return out
    with tempfile.TemporaryDirectory(prefix="hetq-") as tmp:
        _run("import", _save_keras(model, tmp), "--out", out)
    return out


def train(config, out=None, epochs=None):
    """Trains from a training configuration file; returns the summary dict of ``hetq train --json``."""
    args = ["train", config] + (["--out", out] if out is not None else []) + (["--epochs", epochs] if epochs is not None else [])
    return _run(*args, json_out=True)


def freeze(model, out=None):
    """Freezes a model directory into its integer graph; returns ``hetq freeze --json``'s dict."""
    return _run("freeze", model, *(["--out", out] if out is not None else []), json_out=True)


def evaluate(model, data):
    """Float, fake-quantized and emulated accuracy on a data set's test part (``hetq eval --json``).
    Mismatches between the emulator and the fake-quantized model raise HetQError (exit code 1)."""
    return _run("eval", model, "--data", data, json_out=True)


def estimate(model, resources=False):
    """Bits, BOPs, EBOPs and energy (and with ``resources=True`` the LUT/FF estimate) as a dict."""
    return _run("estimate", model, *(["--resources"] if resources else []), json_out=True)


def _inputs(x, tmp):
    if isinstance(x, (str, os.PathLike)):
        return x
    path = Path(tmp) / "x.npy"
    np.save(path, np.ascontiguousarray(np.asarray(x, dtype=np.float32)))
    return path


def predict(model, x, raw=False):
    """The bit-exact emulated outputs (logits) of ``model`` on ``x`` (an array [n, ...] channels last, or a
    .npy / data configuration file) as a NumPy array: real values (float64, exact), or the integer codes."""
    with tempfile.TemporaryDirectory(prefix="hetq-") as tmp:
        out = Path(tmp) / "y.npy"
        _run("predict", model, "--data", _inputs(x, tmp), "--out", out, *(["--raw"] if raw else []))
        return np.load(out)


def trace(model, x, samples=5, raw=False):
    """Every node's output for the first ``samples`` inputs: a dict from node name to array."""
    with tempfile.TemporaryDirectory(prefix="hetq-") as tmp:
        out = Path(tmp) / "t.npz"
        _run("trace", model, "--data", _inputs(x, tmp), "--out", out, "--samples", samples, *(["--raw"] if raw else []))
        with np.load(out) as z:
            return {k: z[k] for k in z.files}


def hw(model, out, *options):
    """Writes the Verilog of ``model`` into ``out``; returns ``hetq hw write --json``'s dict. Extra command-line
    options (for example ``"--stages", 4``) pass through."""
    return _run("hw", "write", model, "--out", out, *options, json_out=True)


def hw_sim(design, data, simulator="verilator", random=0):
    """Simulates a design directory against the emulator; returns the dict (``vectors``, ``mismatches``...).
    Mismatches raise HetQError (exit code 1)."""
    return _run("hw", "sim", design, "--data", data, "--simulator", simulator, "--random", random, json_out=True)


def hw_synth(design, target="xilinx"):
    """Synthesizes a design directory with Yosys (and places and routes where it can); returns the dict."""
    return _run("hw", "synth", design, "--target", target, json_out=True)
