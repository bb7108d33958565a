"""`ProbeConfig`: every setting of a probe, validated, JSON-able."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, replace
from types import MappingProxyType
from typing import Any

from resnet_explorer.analysis.devices import PRECISIONS
from resnet_explorer.probes.errors import ProbeError

OPTIMIZERS = ("sgd", "adamw")
#: Seeds are 32-bit (numpy's range); the seeds of a multi-seed probe count up from ``seed``.
MAX_SEED = 2**32 - 1
MAX_SEEDS = 20
AUGMENTS = ("auto", "none", "crop", "crop_flip")

#: Settings under which the seeds' findings show within a few CPU minutes on the offline MNIST
#: digits: 16x16 inputs (the nets keep the paper's depth, widths and strides; only the input is
#: smaller), batch 64, SGD 0.05 with momentum, 10 % warm-up, cosine, 400 steps, held-out
#: evaluation every 100. (At lr 0.1 plain-56 does not train at all and ResNet-56 lags further
#: behind ResNet-20 in 400 steps.) The experiments, the studies and the CLI all start from these.
FAST_CPU: Mapping[str, Any] = MappingProxyType(
    {"image_size": 16, "batch_size": 64, "lr": 0.05, "warmup": 0.1, "steps": 400, "eval_every": 100}
)
#: Training before a study of the trained weights (loss landscape, lesion): the fast CPU
#: settings for 200 steps, evaluated only at the end.
STUDY_TRAINING: Mapping[str, Any] = MappingProxyType({**FAST_CPU, "steps": 200, "eval_every": 0})


@dataclass(frozen=True)
class ProbeConfig:
    """How to train each design of a probe.

    ``seeds``: train each design this many times, with seeds ``seed``, ``seed + 1``, ...: every
    seed changes the initial weights, the order of the batches and the augmentation, never the
    data or its split (`probes.stats` turns the runs into intervals and verdicts).

    Budget: ``steps`` and/or ``seconds`` per design (whichever ends first; training time only,
    held-out evaluation not counted). The learning rate warms up linearly over ``warmup`` (a
    fraction of the budget) and then follows a cosine to zero. ``log_every``: per-step records
    are flushed (and the loss checked for NaN/inf) every this many steps, the only host-device
    syncs of the loop. ``eval_every``: held-out loss/accuracy and diagnostics (0 = only at the
    end). ``image_size``: train every design at this input size instead of its own (for speed).
    ``device``: "auto" = CUDA when present. ``precision``: "auto" = bf16 autocast on CUDA, fp32 on
    CPU; ``channels_last`` likewise (None = on CUDA only). ``threads``: CPU threads during the
    probe (None = every core); restored afterwards.
    """

    steps: int | None = 200
    seconds: float | None = None
    batch_size: int = 128
    optimizer: str = "sgd"
    lr: float = 0.1
    momentum: float = 0.9
    weight_decay: float = 5e-4
    warmup: float = 0.05
    label_smoothing: float = 0.0
    seed: int = 0
    seeds: int = 1
    dataset: str = "mnist"
    augment: str = "auto"
    image_size: int | None = None
    log_every: int = 10
    eval_every: int = 50
    eval_size: int = 1000
    final_eval: bool = True
    diagnostics: bool = True
    device: str = "auto"
    precision: str = "auto"
    channels_last: bool | None = None
    threads: int | None = None

    def __post_init__(self) -> None:
        problems = []
        if self.steps is None and self.seconds is None:
            problems.append("give a budget: steps or seconds")
        if self.steps is not None and not (isinstance(self.steps, int) and self.steps >= 1):
            problems.append(f"steps={self.steps!r}: must be a whole number >= 1")
        if self.seconds is not None and not (
            isinstance(self.seconds, (int, float))
            and math.isfinite(self.seconds)
            and self.seconds > 0
        ):
            problems.append(f"seconds={self.seconds!r}: must be > 0")
        if not (isinstance(self.batch_size, int) and 1 <= self.batch_size <= 65536):
            problems.append(f"batch_size={self.batch_size!r}: must be 1..65536")
        if self.optimizer not in OPTIMIZERS:
            problems.append(f"optimizer={self.optimizer!r}: use one of {', '.join(OPTIMIZERS)}")
        for name in ("lr", "momentum", "weight_decay", "warmup", "label_smoothing"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
                problems.append(f"{name}={value!r}: must be a finite number >= 0")
        if isinstance(self.warmup, (int, float)) and self.warmup >= 1:
            problems.append(f"warmup={self.warmup!r}: a fraction of the budget, < 1")
        if isinstance(self.label_smoothing, (int, float)) and self.label_smoothing >= 1:
            problems.append(f"label_smoothing={self.label_smoothing!r}: must be < 1")
        if isinstance(self.momentum, (int, float)) and self.momentum >= 1:
            problems.append(f"momentum={self.momentum!r}: must be < 1")
        if self.augment not in AUGMENTS:
            problems.append(f"augment={self.augment!r}: use one of {', '.join(AUGMENTS)}")
        if self.precision == "fp16":
            problems.append(
                "precision='fp16': training in fp16 needs loss scaling, which probes do not do; "
                "use auto, fp32 or bf16"
            )
        elif self.precision != "auto" and self.precision not in PRECISIONS:
            problems.append(f"precision={self.precision!r}: use one of auto, fp32, bf16")
        if self.image_size is not None and not (
            isinstance(self.image_size, int) and 1 <= self.image_size <= 2048
        ):
            problems.append(f"image_size={self.image_size!r}: must be 1..2048")
        for name, low in (("log_every", 1), ("eval_every", 0), ("eval_size", 1)):
            value = getattr(self, name)
            if not (isinstance(value, int) and value >= low):
                problems.append(f"{name}={value!r}: must be a whole number >= {low}")
        if self.threads is not None and not (isinstance(self.threads, int) and self.threads >= 1):
            problems.append(f"threads={self.threads!r}: must be >= 1")
        if not isinstance(self.device, str) or not self.device:
            problems.append(f"device={self.device!r}: 'auto', 'cpu', 'cuda' or 'cuda:N'")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int):
            problems.append(f"seed={self.seed!r}: must be a whole number")
        elif not 0 <= self.seed <= MAX_SEED:
            problems.append(f"seed={self.seed}: must be 0..{MAX_SEED} (2**32 - 1)")
        if isinstance(self.seeds, bool) or not (
            isinstance(self.seeds, int) and 1 <= self.seeds <= MAX_SEEDS
        ):
            problems.append(f"seeds={self.seeds!r}: must be a whole number 1..{MAX_SEEDS}")
        elif isinstance(self.seed, int) and self.seed + self.seeds - 1 > MAX_SEED:
            problems.append(
                f"seed={self.seed} with seeds={self.seeds}: the last seed is over 2**32 - 1"
            )
        if problems:
            raise ProbeError("invalid probe config: " + "; ".join(problems))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ProbeConfig:
        """Build from a dict; unknown keys raise `ProbeError` naming them."""
        if not isinstance(data, dict):
            raise ProbeError(f"a probe config must be an object, got {type(data).__name__}")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ProbeError(
                f"unknown probe setting(s): {', '.join(unknown)}; known: {', '.join(sorted(known))}"
            )
        try:
            return cls(**data)
        except TypeError as exc:
            raise ProbeError(f"invalid probe config: {exc}") from None

    def replace(self, **changes: Any) -> ProbeConfig:
        return replace(self, **changes)

    @classmethod
    def study(cls, **overrides: Any) -> ProbeConfig:
        """`STUDY_TRAINING` with ``overrides`` on top (e.g. ``steps=``, ``dataset=``)."""
        settings = {**STUDY_TRAINING, **overrides}
        if overrides.get("seconds") is not None and "steps" not in overrides:
            settings["steps"] = None  # a time budget replaces the default step budget
        return cls.from_dict(settings)

    def seed_list(self) -> list[int]:
        """The seeds each design is trained with: ``seed``, ``seed + 1``, ..., ``seeds`` of them."""
        return [self.seed + i for i in range(self.seeds)]

    def resolved_threads(self) -> int:
        if self.threads is not None:
            return self.threads
        try:
            return len(os.sched_getaffinity(0))
        except AttributeError:  # not on Linux
            return os.cpu_count() or 1
