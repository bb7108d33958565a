"""FLOPs of a design in every convention, and fvcore's measured per-module breakdown.

Conventions (all for one image, then x batch size):

* **MACs**: multiply-accumulates of convolutions and linear layers, from the design alone,
  bias additions left out. torchvision publishes these as "GFLOPS".
* **fvcore**: what fvcore's ``FlopCountAnalysis`` reports; also one per multiply-add, but it
  adds batch/group norm and the global average pool. Computed analytically (exact, tested) and,
  on request, measured by tracing the built model.
* **FLOPs** = 2 x MACs: a multiply and an add count as two, as in PyTorch's ``FlopCounterMode``
  and in hardware peak FLOP/s figures.
* **pycls "flops"** = MACs + the bias additions of the classifier and of squeeze-excitation's
  1x1 convs (pycls counts a biased layer's additions); pycls's **"acts"** are fvcore's activation
  count plus the stem max-pool's output where there is one (RegNet's simple stem has none).
"""

from __future__ import annotations

from dataclasses import dataclass

from resnet_explorer.analysis._common import (
    block_name,
    cpu_threads,
    layer_group,
    plain_with_totals,
    quiet,
)
from resnet_explorer.analysis.analytic import layer_counts, totals
from resnet_explorer.design import Design
from resnet_explorer.plan import plan
from resnet_explorer.shapes import norm_groups

#: Why tools disagree; shown next to the figures.
CONVENTIONS = (
    "Tools count different things. MACs (multiply-accumulates of convolutions and the linear "
    "layer) is what torchvision publishes as 'GFLOPS': ResNet-50 has 4.09 G. fvcore's "
    "FlopCountAnalysis also counts one multiply-add as one flop, but adds batch norm (2 per "
    "element at inference), group norm and the global average pool, and skips max-pooling, "
    "additions and activations: 4.11 G. PyTorch's FlopCounterMode, and the peak FLOP/s of "
    "hardware, count a multiply and an add as two FLOPs, so they report 2 x MACs: 8.18 G. "
    "pycls's 'flops' are the MACs plus the bias additions (the classifier's 1,000 for "
    "ResNet-50: 4,089,185,256; RegNetY's squeeze-excitation adds its own), and its 'acts' add "
    "the stem max-pool's output to fvcore's activation count. None is wrong; compare figures "
    "only within one convention."
)


@dataclass(frozen=True)
class FlopGroup:
    """Analytic counts of a stage or block (one image)."""

    name: str
    macs: int
    fvcore: int

    @property
    def flops(self) -> int:
        return 2 * self.macs


@dataclass(frozen=True)
class ModuleFlops:
    """fvcore's measured count for one module; ``level`` is stage, block or layer."""

    name: str
    level: str
    fvcore: int


@dataclass(frozen=True)
class FvcoreMeasurement:
    """fvcore's ``FlopCountAnalysis`` of the built model (eval mode, per image).

    ``skipped_ops`` lists the operators fvcore has no counter for (op -> times seen), which it
    would otherwise print as warnings.
    """

    total: int
    matches_analytic: bool
    by_stage: tuple[ModuleFlops, ...]
    by_module: tuple[ModuleFlops, ...]
    skipped_ops: dict[str, int]


@dataclass(frozen=True)
class FlopReport:
    """FLOPs of one image in every convention, by stage and block, with fvcore's breakdown."""

    macs: int
    fvcore: int
    flops: int
    pycls_flops: int
    gmacs: float
    gflops: float
    by_stage: tuple[FlopGroup, ...]
    by_block: tuple[FlopGroup, ...]
    measured: FvcoreMeasurement | None
    conventions: str = CONVENTIONS

    def to_dict(self) -> dict:
        return plain_with_totals(self, "flops")


def _groups(design: Design) -> tuple[tuple[FlopGroup, ...], tuple[FlopGroup, ...]]:
    layers = layer_counts(design)
    stage_names = ["stem", *(s.name for s in plan(design).stages), "head"]
    stages = {name: [0, 0] for name in stage_names}
    blocks: dict[str, list[int]] = {}
    for layer, group in zip(layers, layer_group(layers), strict=True):
        stages[group][0] += layer.macs
        stages[group][1] += layer.fvcore
        block = block_name(layer)
        if block is not None:
            acc = blocks.setdefault(block, [0, 0])
            acc[0] += layer.macs
            acc[1] += layer.fvcore
    return (
        tuple(FlopGroup(n, *v) for n, v in stages.items()),
        tuple(FlopGroup(n, *v) for n, v in blocks.items()),
    )


def _level(name: str, stages: set[str]) -> str:
    """stage (``layer1``), block (``layer1.0``) or layer (anything inside, and stem/head)."""
    parts = name.split(".")
    if parts[0] not in stages:
        return "layer"
    return {1: "stage", 2: "block"}.get(len(parts), "layer")


def fvcore_batch(design: Design) -> int:
    """Batch size to trace at: 1, or 2 where a group norm would see one value per group at batch
    1 (torch refuses that). Every count is linear in the batch, so a batch-2 count halves exactly.
    """
    if design.norm != "group":
        return 1
    for layer in layer_counts(design):
        if layer.kind == "norm":
            channels = layer.params // 2
            if channels // norm_groups(channels) * (layer.outputs // channels) == 1:
                return 2
    return 1


def measure_fvcore(design: Design) -> FvcoreMeasurement:
    """Trace the built model with fvcore (CPU, eval, batch 1) and break its count down.

    Slower than the analytic count (a JIT trace: ~0.3 s for ResNet-50); warnings are silenced
    and the ops fvcore skipped are returned instead.
    """
    import torch

    from resnet_explorer.builder import build_model

    with quiet():  # fvcore's import triggers torch.jit deprecation warnings
        from fvcore.nn import FlopCountAnalysis

    model = build_model(design, device="cpu").eval()
    batch = fvcore_batch(design)
    x = torch.zeros(batch, design.in_channels, design.image_size, design.image_size)
    with quiet(), torch.no_grad(), cpu_threads(1):
        analysis = FlopCountAnalysis(model, x)
        analysis.unsupported_ops_warnings(False)
        analysis.uncalled_modules_warnings(False)
        analysis.tracer_warnings("none")
        total = int(analysis.total()) // batch
        by_module = {k: int(v) // batch for k, v in analysis.by_module().items()}
        skipped = {str(k): int(v) for k, v in analysis.unsupported_ops().items()}
    stage_names = {s.name for s in plan(design).stages}
    rows = []
    for name, count in by_module.items():
        if name:
            rows.append(ModuleFlops(name, _level(name, stage_names), int(count)))
    # stages: top-level modules, grouped into stem / the stages / head in forward order
    stages: dict[str, int] = {"stem": 0}
    for name, _ in model.named_children():
        key = name if name in stage_names else ("head" if len(stages) > 1 else "stem")
        stages[key] = stages.get(key, 0) + int(by_module.get(name, 0))
    stages.setdefault("head", 0)
    head = stages.pop("head")
    stages["head"] = head
    return FvcoreMeasurement(
        total=total,
        matches_analytic=total == totals(design).fvcore,
        by_stage=tuple(ModuleFlops(n, "stage", v) for n, v in stages.items()),
        by_module=tuple(rows),
        skipped_ops=skipped,
    )


def flops(design: Design, *, measure: bool = True) -> FlopReport:
    """FLOPs of ``design`` (one image) in every convention.

    With ``measure`` the built model is also traced by fvcore for its per-module breakdown
    (`measure_fvcore`); without it nothing is built and the call takes microseconds.
    """
    counts = totals(design)
    by_stage, by_block = _groups(design)
    return FlopReport(
        macs=counts.macs,
        fvcore=counts.fvcore,
        flops=counts.flops,
        pycls_flops=counts.pycls_flops,
        gmacs=counts.macs / 1e9,
        gflops=counts.flops / 1e9,
        by_stage=by_stage,
        by_block=by_block,
        measured=measure_fvcore(design) if measure else None,
    )
