"""What a probe reports while it runs: one frozen, typed record per event.

A probe yields `ProbeStart`, then per design `DesignStart`, its `Step`s and `Eval`s and a
`DesignEnd`, and finally `ProbeEnd`. Each is a `typed.Record`: typed attributes, and a read-only
mapping of the documented JSON form (``event["event"] == "step"``, ``{**event}``), which is what
``probe --json-out`` writes (docs/probes.md). Nested documents (settings, dataset facts,
diagnostics, summaries) are plain JSON dicts, typed here as `TypedDict`s. Non-finite numbers are
None.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Literal, TypedDict

from resnet_explorer.status import RunState
from resnet_explorer.typed import Record


class GradNorms(TypedDict):
    """Gradient norms of one training step: total, per stage, per block (stem, head too)."""

    total: float
    stages: dict[str, float]
    blocks: dict[str, float]


class RunSummary(TypedDict):
    """Final figures of one design's run (``probe --json`` ``designs`` entries)."""

    label: str
    seed: int
    hash: str
    depth: int
    status: RunState
    reason: str
    steps: int
    diverged_at: int | None
    error: str | None
    train_seconds: float
    images_per_s: float | None
    final_train_loss: float | None
    final_train_acc: float | None
    early_train_loss: float | None
    """Mean training loss over the first tenth of the steps (how fast it starts)."""
    held_out_loss: float | None
    held_out_acc: float | None


class DesignInfo(TypedDict):
    label: str
    hash: str
    depth: int
    params: int


@dataclass(frozen=True, eq=False)
class ProbeStart(Record):
    KIND: ClassVar[str] = "probe_start"
    config: dict[str, Any]
    device: str
    threads: int | None
    dataset: dict[str, Any]
    designs: list[DesignInfo]


@dataclass(frozen=True, eq=False)
class DesignStart(Record):
    KIND: ClassVar[str] = "design_start"
    label: str
    index: int
    hash: str
    design: dict[str, Any]
    """The design trained (``num_classes`` / ``image_size`` may be overridden to fit the data)."""
    seed: int = 0


@dataclass(frozen=True, eq=False)
class Step(Record):
    KIND: ClassVar[str] = "step"
    label: str
    step: int
    loss: float | None
    acc: float
    lr: float
    step_time: float
    images_per_s: float | None
    elapsed: float
    """Training seconds so far (evaluations excluded)."""
    seed: int = 0


@dataclass(frozen=True, eq=False)
class Eval(Record):
    """Held-out loss/accuracy; with diagnostics, activation stats and (on the step an
    evaluation follows) gradient norms and update ratios (keys absent when not recorded)."""

    KIND: ClassVar[str] = "eval"
    OMIT_NONE: ClassVar[frozenset[str]] = frozenset({"activations", "grad_norm", "update_ratio"})
    label: str
    step: int
    elapsed: float
    held_out_loss: float | None
    held_out_acc: float
    train_loss: float | None
    train_acc: float | None
    held_out_size: int
    seed: int = 0
    activations: dict[str, dict[str, float]] | None = None
    grad_norm: GradNorms | None = None
    update_ratio: dict[str, float] | None = None
    signal: dict[str, Any] | None = None
    """Signal propagation after this step: ``{"blocks": {name: {"variance_ratio",
    "grad_norm"}}}`` (`probes.signal`, on the first 32 training images)."""


@dataclass(frozen=True, eq=False)
class DesignEnd(Record):
    KIND: ClassVar[str] = "design_end"
    OMIT_NONE: ClassVar[frozenset[str]] = frozenset({"stop_reason"})
    label: str
    status: RunState
    reason: str
    steps: int
    diverged_at: int | None
    error: str | None
    summary: RunSummary
    stop_reason: str | None = None
    """Why a cancelled run was stopped when not at its owner's request (key absent otherwise)."""
    seed: int = 0


@dataclass(frozen=True, eq=False)
class ProbeEnd(Record):
    KIND: ClassVar[str] = "probe_end"
    status: Literal["done", "cancelled"]
    summary: list[RunSummary]
    statistics: dict[str, Any] | None = None
    """Across seeds: per design mean and interval, pairwise verdicts (`probes.stats`)."""


ProbeEvent = ProbeStart | DesignStart | Step | Eval | DesignEnd | ProbeEnd
