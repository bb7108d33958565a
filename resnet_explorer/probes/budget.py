"""How much memory a probe will take, checked against what the machine has free before it starts.

A design under the size caps can still make a probe that cannot fit: ResNet-18 at 2,048 px needs
tens of GiB for the resized images and the saved activations of a batch; a 758 M-parameter net
needs its weights four times over (weights, gradients, momentum, the diagnostics' copy). `check`
adds up, before anything is loaded or built:

* **data**: the images as loaded (uint8) and every resized copy the designs need, with the float
  temporaries of resizing (and of drawing the synthetic set);
* **activations**: what autograd saves in one training step at the batch size, measured on the
  ``meta`` device (`analysis.memory.saved_activations`), for the largest design (designs train
  one after another);
* **model**: parameters, gradients, optimizer state (SGD momentum 1, AdamW 2), the copy the
  diagnostics take on evaluation steps, and the models a study keeps,

and refuses a probe whose estimate exceeds the limit: 80 % of the memory free now
(``/proc/meminfo`` MemAvailable; on CUDA also the GPU's free memory), or
``RESNET_EXPLORER_PROBE_MEMORY_MB`` when that is set and lower. The message gives the estimate,
its parts and the limit.
"""

from __future__ import annotations

import functools
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from resnet_explorer.design import Design
from resnet_explorer.probes.errors import ProbeError

MEMORY_ENV = "RESNET_EXPLORER_PROBE_MEMORY_MB"
FREE_FRACTION = 0.8
_MIB = 1024**2
#: Images of the built-in sets as loaded: (train + held-out, channels, size).
_BUILTIN = {"mnist": (5000, 1, 28), "cifar10": (60000, 3, 32)}
_SYNTHETIC_IMAGES = 512 + 128
_CHUNK = 1024  # images resized at a time (probes.data._adapt_images)


@dataclass(frozen=True)
class MemoryEstimate:
    """A probe's memory, in bytes, and the limit it was checked against."""

    data: int
    activations: int
    model: int
    limit: int
    device: str

    @property
    def total(self) -> int:
        return self.data + self.activations + self.model

    def describe(self) -> str:
        return (
            f"about {_gib(self.total)} (data {_gib(self.data)}, activations of one training "
            f"step {_gib(self.activations)}, weights, gradients and optimizer state "
            f"{_gib(self.model)}) on {self.device}; the limit is {_gib(self.limit)}"
        )


def _gib(n: int) -> str:
    return f"{n / 1024**3:,.2f} GiB" if n >= 1024**3 / 10 else f"{n / _MIB:,.0f} MiB"


def limit_bytes(device: str = "cpu") -> int:
    """80 % of the memory free now on ``device`` (and on the host), capped by
    ``RESNET_EXPLORER_PROBE_MEMORY_MB``."""
    free = _host_available()
    if device.startswith("cuda"):
        import torch

        free = min(free, torch.cuda.mem_get_info(torch.device(device))[0])
    limit = int(free * FREE_FRACTION)
    raw = os.environ.get(MEMORY_ENV, "").strip()
    if raw:
        try:
            mb = float(raw)
        except ValueError:
            mb = math.nan
        if not math.isfinite(mb) or mb <= 0:
            raise ProbeError(f"{MEMORY_ENV}={raw!r}: give a positive number of MiB")
        limit = min(limit, int(mb * _MIB))
    return limit


def _host_available() -> int:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):  # pragma: no cover - not POSIX
        return 1 << 62


def _loaded(dataset: str, size: int, channels: int) -> tuple[int, int, int, int]:
    """(images, channels, size, bytes of temporaries) of ``dataset`` as `load_dataset` makes it."""
    if dataset in _BUILTIN:
        n, c, s = _BUILTIN[dataset]
        return n, c, s, n * c * s * s  # concatenation / parsing copies
    if dataset == "synthetic":
        n = _SYNTHETIC_IMAGES
        return n, channels, size, 3 * n * channels * size * size * 4  # float draws
    root = Path(dataset)
    files = sum(1 for p in root.rglob("*") if p.is_file()) if root.is_dir() else 0
    return files, channels, size, 0


@functools.lru_cache(maxsize=256)
def _saved(design_json: str, batch: int) -> int:
    """Bytes autograd saves in one training step, measured on ``meta``; where that cannot run,
    every layer's output counted analytically (an upper bound: the measured figure is 0.6x)."""
    from resnet_explorer.analysis.analytic import totals
    from resnet_explorer.analysis.memory import MAX_BATCH, saved_activations

    design = Design.from_json(design_json)
    measured = min(batch, MAX_BATCH)
    try:
        return saved_activations(design, measured).bytes * batch // measured
    except Exception:  # e.g. a module the meta device cannot run
        return totals(design).outputs * 4 * batch


def estimate(
    designs: Sequence[Design],
    *,
    dataset: str,
    batch_size: int,
    optimizer: str = "sgd",
    diagnostics: bool = True,
    keep_models: bool = False,
    device: str = "cpu",
    loaded: tuple[int, int, int] | None = None,
) -> MemoryEstimate:
    """The memory of training ``designs`` (as trained: input size already applied) one after
    another. ``loaded``: (images, channels, size) of data already in memory (nothing to load)."""
    from resnet_explorer.analysis.analytic import totals

    first = designs[0]
    if loaded is None:
        n, c, s, temporary = _loaded(dataset, first.image_size, first.in_channels)
        data = n * c * s * s + temporary
    else:
        (n, c, s), data = loaded, 0
    for size, channels in {(d.image_size, d.in_channels) for d in designs}:
        if (size, channels) != (s, c):
            # the resized copy, and one chunk of it resized as floats before rounding to uint8
            data += n * channels * size * size + min(n, _CHUNK) * channels * size * size * 5
    states = 2 if optimizer == "adamw" else 1
    per_param = 4 * (2 + states + (1 if diagnostics else 0))
    params = [totals(d).params for d in designs]
    model = max(params) * per_param + (sum(params) * 4 if keep_models else 0)
    activations = max(_saved(d.to_json(), batch_size) for d in designs)
    return MemoryEstimate(data, activations, model, limit_bytes(device), device)


def check(designs: Sequence[Design], **kwargs) -> MemoryEstimate:
    """`estimate`, and a `ProbeError` giving the estimate and the limit when it does not fit."""
    found = estimate(designs, **kwargs)
    if found.total > found.limit:
        raise ProbeError(
            f"this probe would need {found.describe()}: lower the input size, the batch size "
            f"or the number of designs (or set {MEMORY_ENV} where more memory is free)"
        )
    return found
