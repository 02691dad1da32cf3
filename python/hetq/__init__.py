"""HetQ from Python: convert, train, predict, estimate and write hardware by calling the ``hetq`` command.

Every function runs the command line (``hetq ... --json`` where the verb has it) and returns NumPy arrays
or dicts. Nothing here re-implements HetQ: the numbers are the command's. Which command runs:
the ``HETQ_CLI`` environment variable (a command line, e.g. ``"dotnet /path/HetQ.Cli.dll"``), else
``hetq`` on PATH (``dotnet tool install``), else the ``hetq`` launcher of the repository this package
lies in.
"""
from ._cli import (
    HetQError,
    command,
    convert,
    estimate,
    evaluate,
    freeze,
    hw,
    hw_sim,
    hw_synth,
    predict,
    trace,
    train,
)

__all__ = [
    "HetQError", "command", "convert", "estimate", "evaluate", "freeze", "hw", "hw_sim", "hw_synth",
    "predict", "trace", "train",
]
__version__ = "0.9.0"
