"""The figures a comparison shows, per design: exact counts, the training-memory estimate and
the latency measured earlier (from the library), with deltas against the first design."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from typing import Any

from resnet_explorer import units
from resnet_explorer.analysis.analytic import Totals, stage_totals, totals
from resnet_explorer.design import Design
from resnet_explorer.errors import DesignTooLarge
from resnet_explorer.typed import same_named

MAX_CANDIDATES = 4
MEMORY_BATCH = 32


@dataclass(frozen=True)
class Candidate:
    """A design under review and the name it goes by (preset, library name, 'current')."""

    name: str
    design: Design
    source: str = ""  # preset | library | editor | file | link


@dataclass(frozen=True)
class Latency:
    """An inference latency measured earlier and kept in the library (a profile)."""

    seconds: float  # median of one forward pass at batch_size
    batch_size: int
    device: str  # cpu | cuda
    device_name: str
    precision: str
    measured: str  # when (UTC ISO 8601)

    @property
    def per_image_ms(self) -> float:
        return self.seconds * 1e3 / self.batch_size

    def text(self) -> str:
        return (
            f"{units.ms(self.seconds)} at batch {self.batch_size} "
            f"({self.device_name}, {self.precision})"
        )


@dataclass(frozen=True)
class DesignMetrics:
    """What one design costs. Counts are exact; memory is an estimate; latency is measured."""

    name: str
    hash: str
    params: int
    macs: int
    fvcore: int
    activations: int
    depth: int
    stages: int
    blocks: int
    memory_batch: int
    train_memory_bytes: int | None  # params + grads + SGD momentum + saved activations
    latency: Latency | None
    stage_totals: tuple[Totals, ...]
    other: Totals  # stem and head together
    inputs: str = ""  # '3 x 224 x 224 -> 1000 classes'

    @property
    def flops(self) -> int:
        return 2 * self.macs


@dataclass(frozen=True)
class Metric:
    """One row of the comparison table."""

    key: str
    label: str
    value: Callable[[DesignMetrics], float | None]
    fmt: Callable[[float], str]
    kind: str  # exact | estimate | measured
    help: str
    per_input: bool = True  # depends on the input size: no delta between different inputs


METRICS: tuple[Metric, ...] = (
    Metric("params", "Parameters", lambda m: m.params, units.params, "exact", "learnable", False),
    Metric("macs", "MACs", lambda m: m.macs, units.gmacs, "exact", "conv + fc, one image"),
    Metric("flops", "FLOPs", lambda m: m.flops, units.gflops, "exact", "2 per MAC"),
    Metric(
        "fvcore", "fvcore total", lambda m: m.fvcore, units.count, "exact", "adds norm and pool"
    ),
    Metric(
        "activations",
        "Activations",
        lambda m: m.activations,
        units.count,
        "exact",
        "fvcore's count: conv and fc outputs, one image",
    ),
    Metric("depth", "Depth", lambda m: m.depth, units.whole, "exact", "weighted layers", False),
    Metric("blocks", "Blocks", lambda m: m.blocks, units.whole, "exact", "residual", False),
    Metric(
        "train_memory",
        f"Training memory (batch {MEMORY_BATCH})",
        lambda m: m.train_memory_bytes,
        units.nbytes,
        "estimate",
        "fp32 parameters + gradients + SGD momentum + saved activations (measured on meta)",
    ),
    Metric(
        "latency",
        "Inference latency",
        lambda m: m.latency.per_image_ms if m.latency else None,
        lambda v: f"{v:,.2f} ms/image",
        "measured",
        "median from a profile kept in the library; 'not measured' where there is none",
    ),
)


def measure(
    candidate: Candidate,
    *,
    latency: Latency | None = None,
    memory_batch: int | None = MEMORY_BATCH,
) -> DesignMetrics:
    """The figures of ``candidate``. ``memory_batch=None`` skips the memory estimate."""
    design = candidate.design
    total = totals(design)
    stages = tuple(stage_totals(design))
    memory_bytes = None
    if memory_batch:
        from resnet_explorer.analysis.memory import memory

        try:
            memory_bytes = memory(
                design, memory_batch, optimizer="sgd", measure_peak=False
            ).training_step_estimate_bytes
        except DesignTooLarge:
            memory_bytes = None  # over the size cap: not built, shown as "not computed"
    other = Totals(
        *(getattr(total, f.name) - sum(getattr(s, f.name) for s in stages) for f in fields(Totals))
    )
    return DesignMetrics(
        name=candidate.name,
        hash=design.hash,
        **same_named(total, ("params", "macs", "fvcore", "activations")),
        depth=design.depth,
        stages=len(design.stages),
        blocks=sum(s.blocks for s in design.stages),
        memory_batch=memory_batch or 0,
        train_memory_bytes=memory_bytes,
        latency=latency,
        stage_totals=stages,
        other=other,
        inputs=input_text(design),
    )


def input_text(design: Design) -> str:
    """'3 x 224 x 224 -> 1000 classes': what a design takes and gives."""
    size = design.image_size
    return f"{design.in_channels} x {size} x {size} -> {design.num_classes:,} classes"


def same_inputs(metrics: Sequence[DesignMetrics]) -> bool:
    """Whether every design takes the same input (per-image costs are then comparable)."""
    return len({m.inputs for m in metrics}) <= 1


def delta_text(value: float, base: float, fmt: Callable[[float], str]) -> str:
    """'+1.20 M (+10.3%)' against ``base``; 'same' when equal."""
    diff = value - base
    if diff == 0:
        return "same"
    text = units.signed(diff, fmt)
    if base:
        text += f" ({diff / base * 100:+.1f}%)"
    return text


def comparison_rows(metrics: Sequence[DesignMetrics]) -> list[dict[str, Any]]:
    """One row per metric: ``{"metric", "kind", <name>: text, ...}``; every design after the
    first carries its delta against the first, except where the designs take different
    inputs and the figure is per image ('[other input]'; an "Input" row comes first then). A
    figure that is missing reads 'not measured' (latency) or 'not computed'."""
    rows = []
    base = metrics[0] if metrics else None
    if base is not None and not same_inputs(metrics):
        row = {"metric": "Input", "kind": "exact"}
        row.update({column_name(metrics, i): m.inputs for i, m in enumerate(metrics)})
        rows.append(row)
    for metric in METRICS:
        row: dict[str, Any] = {"metric": metric.label, "kind": metric.kind}
        base_value = metric.value(base) if base else None
        for i, m in enumerate(metrics):
            value = metric.value(m)
            if value is None:
                text = "not measured" if metric.kind == "measured" else "not computed"
            else:
                text = metric.fmt(value)
                if i > 0 and base_value is not None:
                    if metric.per_input and m.inputs != base.inputs:
                        text += "  [other input]"  # a per-image delta would mislead
                    else:
                        text += f"  [{delta_text(value, base_value, metric.fmt)}]"
            row[column_name(metrics, i)] = text
        rows.append(row)
    return rows


def column_name(metrics: Sequence[DesignMetrics], i: int) -> str:
    """The table column of design ``i``: its name, numbered when two share a name."""
    name = metrics[i].name
    same = [j for j, m in enumerate(metrics) if m.name == name]
    return name if len(same) == 1 else f"{name} #{i + 1}"


def exact_rows(metrics: Sequence[DesignMetrics]) -> list[dict[str, Any]]:
    """Plain numbers per design (for JSON, CSV and tests)."""
    return [
        {
            "name": m.name,
            "hash": m.hash,
            "params": m.params,
            "macs": m.macs,
            "flops": m.flops,
            "fvcore": m.fvcore,
            "activations": m.activations,
            "depth": m.depth,
            "blocks": m.blocks,
            "train_memory_bytes": m.train_memory_bytes,
            "memory_batch": m.memory_batch,
            "latency_ms_per_image": m.latency.per_image_ms if m.latency else None,
            "latency": m.latency.text() if m.latency else "not measured",
        }
        for m in metrics
    ]


def stage_rows(metrics: Sequence[DesignMetrics]) -> list[dict[str, Any]]:
    """Per design and stage: parameters, MACs and activations (exact)."""
    rows = []
    for i, m in enumerate(metrics):
        parts = [(f"layer{k + 1}", s) for k, s in enumerate(m.stage_totals)]
        parts.append(("stem + head", m.other))
        for stage, t in parts:
            rows.append(
                {
                    "design": column_name(metrics, i),
                    "stage": stage,
                    "params": t.params,
                    "macs": t.macs,
                    "activations": t.activations,
                }
            )
    return rows
