"""Small helpers shared by the analysis modules: plain-data conversion, quiet fvcore/torch."""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import threading
import warnings
from collections.abc import Iterator
from typing import Any

from resnet_explorer.analysis.analytic import LayerCount
from resnet_explorer.errors import ResNetExplorerError

BYTES_FP32 = 4


class AnalysisError(ResNetExplorerError, ValueError):
    """Bad input to an analysis (a batch size, a device, a precision): the message says which."""


def plain(value: Any) -> Any:
    """Dataclasses, tuples and dicts as JSON-able dicts and lists (recursively)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def plain_with_totals(report: Any, total: str) -> dict[str, Any]:
    """``plain(report)``, each row of its ``by_stage`` and ``by_block`` groups also carrying
    the group's derived ``total`` property (a FLOP group's ``flops``, a parameter group's
    ``total``), which ``plain`` leaves out since it is not a field."""
    data = plain(report)
    for key in ("by_stage", "by_block"):
        for row, group in zip(data[key], getattr(report, key), strict=True):
            row[total] = getattr(group, total)
    return data


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """Silence the warnings and log lines fvcore, the JIT tracer and torchinfo would print."""
    loggers = [logging.getLogger(n) for n in ("fvcore", "fvcore.nn.jit_analysis", "torch")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.setLevel(level)


def layer_group(layers: list[LayerCount]) -> list[str]:
    """For each layer: ``stem``, its stage's module name (``layer1``, ``s1``) or ``head``."""
    return [layer.group for layer in layers]


def block_name(layer: LayerCount) -> str | None:
    """The block's module path (``layer1.0``, ``s1.b1``) for a layer inside one, else None."""
    return layer.block


#: Held while code changes torch's process-wide CPU thread count (fvcore traces, CPU timing),
#: so one does not change the count under the other.
THREADS_LOCK = threading.RLock()


@contextlib.contextmanager
def cpu_threads(n: int) -> Iterator[None]:
    """Run with ``n`` intra-op CPU threads under `THREADS_LOCK`, then restore the previous count.

    The fvcore trace and the torchinfo pass run single-threaded: on a busy 2-core machine a
    2-thread forward pass of ResNet-50 can take 25x longer than a 1-thread one (threads spin
    waiting for a core).
    """
    with THREADS_LOCK, thread_count(n):
        yield


@contextlib.contextmanager
def thread_count(n: int) -> Iterator[None]:
    """Set torch's intra-op thread count to ``n``, then restore the previous count. It takes no
    lock: `cpu_threads` is this under `THREADS_LOCK` (a CPU latency sweep holds that lock)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)
