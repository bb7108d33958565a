"""`ProbeConfig`: every setting of a probe, validated, JSON-able."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    BaseModel,
    ConfigDict,
    PlainValidator,
    StrictBool,
    StrictStr,
    ValidationError,
    model_validator,
)

from resnet_explorer.analysis.devices import PRECISIONS
from resnet_explorer.probes.errors import ProbeError
from resnet_explorer.validation import checks, describe, is_finite_number, is_whole

Optimizer = Literal["sgd", "adamw"]
Augment = Literal["auto", "none", "crop", "crop_flip"]
#: What a probe trains in: "auto" or one of `analysis.devices.PRECISIONS` but fp16.
Precision = Literal["auto", "fp32", "bf16"]
PROBE_PRECISIONS: tuple[str, ...] = ("auto", *(p for p in PRECISIONS if p != "fp16"))
OPTIMIZERS: tuple[str, ...] = get_args(Optimizer)
#: Seeds are 32-bit (numpy's range); the seeds of a multi-seed probe count up from ``seed``.
MAX_SEED = 2**32 - 1
MAX_SEEDS = 20
AUGMENTS: tuple[str, ...] = get_args(Augment)

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


# --- the checks of single settings: "name=value: what is allowed" -----------------------------


def _setting(*rules: tuple[Callable[[Any], bool], str], optional: bool = False) -> PlainValidator:
    """`validation.checks` with each message after ``name=value: ``."""
    return checks(*((ok, "{name}={value}: " + allowed) for ok, allowed in rules), optional=optional)


def _whole(low: int, high: int | None = None) -> Callable[[Any], bool]:
    return lambda v: is_whole(v) and v >= low and (high is None or v <= high)


def _below_one(value: Any) -> bool:
    return value < 1


_AT_LEAST_0 = (lambda v: is_finite_number(v) and v >= 0, "must be a finite number >= 0")
_FP16 = "training in fp16 needs loss scaling, which probes do not do; use auto, fp32 or bf16"

Steps = Annotated[int | None, _setting((_whole(1), "must be a whole number >= 1"), optional=True)]
Seconds = Annotated[
    float | None, _setting((lambda v: is_finite_number(v) and v > 0, "must be > 0"), optional=True)
]
Rate = Annotated[float, _setting(_AT_LEAST_0)]
Fraction = Annotated[float, _setting(_AT_LEAST_0, (_below_one, "must be < 1"))]
Count = Annotated[int, _setting((_whole(1), "must be a whole number >= 1"))]


def _joint_problems(values: Mapping[str, Any]) -> list[str]:
    """The problems of settings together (the budget, the last seed); ``values`` may be
    unvalidated."""
    problems = []
    if values.get("steps") is None and values.get("seconds") is None:
        problems.append("give a budget: steps or seconds")
    seed, seeds = values.get("seed"), values.get("seeds")
    if _whole(0, MAX_SEED)(seed) and _whole(1, MAX_SEEDS)(seeds) and seed + seeds - 1 > MAX_SEED:
        problems.append(f"seed={seed} with seeds={seeds}: the last seed is over 2**32 - 1")
    return problems


class ProbeConfig(BaseModel):
    """How to train each design of a probe: a frozen pydantic model (``extra="forbid"``),
    validated on construction; a bad setting raises `ProbeError` naming every problem
    (``invalid probe config: steps=0: must be a whole number >= 1; ...``). Change settings with
    `replace` (validated; pydantic's ``model_copy`` is not).

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

    model_config = ConfigDict(frozen=True, extra="forbid")

    steps: Steps = 200
    seconds: Seconds = None
    batch_size: Annotated[int, _setting((_whole(1, 65536), "must be 1..65536"))] = 128
    optimizer: Annotated[
        Optimizer, _setting((lambda v: v in OPTIMIZERS, f"use one of {', '.join(OPTIMIZERS)}"))
    ] = "sgd"
    lr: Rate = 0.1
    momentum: Fraction = 0.9
    weight_decay: Rate = 5e-4
    warmup: Annotated[
        float, _setting(_AT_LEAST_0, (_below_one, "a fraction of the budget, < 1"))
    ] = 0.05
    label_smoothing: Fraction = 0.0
    seed: Annotated[
        int,
        _setting(
            (is_whole, "must be a whole number"),
            (lambda v: 0 <= v <= MAX_SEED, f"must be 0..{MAX_SEED} (2**32 - 1)"),
        ),
    ] = 0
    seeds: Annotated[
        int, _setting((_whole(1, MAX_SEEDS), f"must be a whole number 1..{MAX_SEEDS}"))
    ] = 1
    dataset: StrictStr = "mnist"
    augment: Annotated[
        Augment, _setting((lambda v: v in AUGMENTS, f"use one of {', '.join(AUGMENTS)}"))
    ] = "auto"
    image_size: Annotated[
        int | None, _setting((_whole(1, 2048), "must be 1..2048"), optional=True)
    ] = None
    log_every: Count = 10
    eval_every: Annotated[int, _setting((_whole(0), "must be a whole number >= 0"))] = 50
    eval_size: Count = 1000
    final_eval: StrictBool = True
    diagnostics: StrictBool = True
    device: Annotated[
        str,
        _setting((lambda v: isinstance(v, str) and v != "", "'auto', 'cpu', 'cuda' or 'cuda:N'")),
    ] = "auto"
    precision: Annotated[
        Precision,
        _setting(
            (lambda v: v != "fp16", _FP16),
            (lambda v: v in PROBE_PRECISIONS, f"use one of {', '.join(PROBE_PRECISIONS)}"),
        ),
    ] = "auto"
    channels_last: StrictBool | None = None
    threads: Annotated[int | None, _setting((_whole(1), "must be >= 1"), optional=True)] = None

    def __init__(self, **settings: Any) -> None:
        try:
            super().__init__(**settings)
        except ValidationError as exc:
            problems = describe(exc, root="probe config")
            if all(err["loc"] for err in exc.errors()):
                # Bad fields stop pydantic before `_together`: check it on what was given.
                problems += _joint_problems({**_DEFAULTS, **settings})
            raise ProbeError("invalid probe config: " + "; ".join(problems)) from None

    @model_validator(mode="after")
    def _together(self) -> ProbeConfig:
        problems = _joint_problems(dict(self))
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def to_dict(self) -> dict[str, Any]:
        """Every setting, in field order: the JSON stored with each run."""
        return self.model_dump()

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ProbeConfig:
        """Build from a dict; unknown keys raise `ProbeError` naming them."""
        if not isinstance(data, dict):
            raise ProbeError(f"a probe config must be an object, got {type(data).__name__}")
        known = set(cls.model_fields)
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
        """A copy with ``changes``, validated (`ProbeError`) like a new config."""
        return type(self)(**{**self.to_dict(), **changes})

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
        """``threads``, or every core this process may run on."""
        if self.threads is not None:
            return self.threads
        try:
            return len(os.sched_getaffinity(0))
        except AttributeError:  # not on Linux
            return os.cpu_count() or 1


_DEFAULTS: Mapping[str, Any] = MappingProxyType(
    {name: field.default for name, field in ProbeConfig.model_fields.items()}
)
