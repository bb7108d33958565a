"""`profile`: everything a design costs, in one JSON-able value the app can cache by hash."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from resnet_explorer.analysis._common import plain
from resnet_explorer.analysis.analytic import stage_totals, totals
from resnet_explorer.analysis.devices import resolve_device
from resnet_explorer.analysis.flops import FlopReport, flops
from resnet_explorer.analysis.latency import LatencyOptions, LatencyReport, latency
from resnet_explorer.analysis.memory import MemoryReport, check_batch_size, memory
from resnet_explorer.analysis.parameters import ParameterReport, parameters
from resnet_explorer.analysis.summary import SummaryReport, summary
from resnet_explorer.design import Design


@dataclass(frozen=True)
class ActivationReport:
    """fvcore's activation count (outputs of conv and linear layers) for one image, analytic
    (equal to ``ActivationCountAnalysis`` on the built model; the tests check it)."""

    total: int
    by_stage: dict[str, int]
    layer_outputs: int
    """Elements every layer writes, one image (all layers, not only conv/linear)."""


def activations(design: Design) -> ActivationReport:
    """Activation counts of ``design`` (one image), from the design alone."""
    counts = totals(design)
    stages = {f"layer{i + 1}": s.activations for i, s in enumerate(stage_totals(design))}
    return ActivationReport(counts.activations, stages, counts.outputs)


@dataclass(frozen=True)
class Profile:
    """What a design costs. Plain data: `to_dict` is JSON-serialisable."""

    design: Design
    batch_size: int
    params: ParameterReport
    flops: FlopReport
    activations: ActivationReport
    memory: MemoryReport
    summary: SummaryReport | None
    latency: LatencyReport | None
    device: dict[str, str]

    @property
    def design_hash(self) -> str:
        return self.design.hash

    def to_dict(self) -> dict[str, Any]:
        return {
            "design": self.design.to_dict(),
            "hash": self.design.hash,
            "batch_size": self.batch_size,
            "params": self.params.to_dict(),
            "flops": self.flops.to_dict(),
            "activations": plain(self.activations),
            "memory": self.memory.to_dict(),
            "summary": self.summary.to_dict() if self.summary else None,
            "latency": self.latency.to_dict() if self.latency else None,
            "device": dict(self.device),
        }


def profile(
    design: Design,
    *,
    batch_size: int = 32,
    latency: LatencyOptions | None = None,
    fvcore: bool = True,
    summary_depth: int | None = 3,
    optimizer: str = "sgd",
    measure_peak: bool | None = None,
) -> Profile:
    """Profile ``design``.

    ``batch_size``: for the memory of a training step. ``latency``: options to measure latency
    (None: not measured, the slow part). ``fvcore``: also trace the built model with fvcore for
    its per-module breakdown (~0.3 s for ResNet-50). ``summary_depth``: torchinfo rows down to
    this depth (None: no summary). ``measure_peak``: measure a CUDA training step's peak memory
    (None: when CUDA is present).
    """
    if not isinstance(design, Design):
        raise TypeError(f"profile needs a Design, got {type(design).__name__}")
    check_batch_size(batch_size)
    timed = _latency(design, latency) if latency is not None else None
    if timed is not None:
        device = {"type": timed.device, "name": timed.device_name}
    else:
        info = resolve_device("auto")
        device = {"type": info.type, "name": info.name}
    return Profile(
        design=design,
        batch_size=batch_size,
        params=parameters(design),
        flops=flops(design, measure=fvcore),
        activations=activations(design),
        memory=memory(design, batch_size, optimizer=optimizer, measure_peak=measure_peak),
        summary=summary(design, depth=summary_depth) if summary_depth is not None else None,
        latency=timed,
        device=device,
    )


_latency = latency
