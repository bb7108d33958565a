"""Parameter counts of a design: total, trainable, and by stage, block and layer.

Analytic (from the `Design` alone, exact); conv weights, norm affine parameters and the linear
layer are kept apart so that, for example, ResNet-18's first basic block shows its 73,728 conv
weights and ResNet-50's second bottleneck its 69,632.
"""

from __future__ import annotations

from dataclasses import dataclass

from resnet_explorer.analysis._common import BYTES_FP32, block_name, layer_group, plain_with_totals
from resnet_explorer.analysis.analytic import layer_counts
from resnet_explorer.design import Design
from resnet_explorer.plan import plan

#: Which of conv / norm / linear each kind of op with parameters counts under.
PARAMETER_FAMILIES = {"conv": "conv", "conv1d": "conv", "norm": "norm", "linear": "linear"}


@dataclass(frozen=True)
class ParamGroup:
    """Parameters of a group of layers (a stage, a block), split by layer kind."""

    name: str
    conv: int
    norm: int
    linear: int

    @property
    def total(self) -> int:
        return self.conv + self.norm + self.linear


@dataclass(frozen=True)
class LayerParams:
    """Parameters of one module (``layer1.0.conv1``), with its kind (conv, norm, linear)."""

    name: str
    kind: str
    group: str  # stem | layerN | head
    params: int


@dataclass(frozen=True)
class ParameterReport:
    """Learnable parameters (analytic, exact).

    ``trainable`` equals ``total``: the builder freezes nothing. ``buffers`` counts the
    non-learned state the model also stores (batch-norm running mean/variance and step counter).
    """

    total: int
    trainable: int
    buffers: int
    bytes_fp32: int
    conv: int
    norm: int
    linear: int
    by_stage: tuple[ParamGroup, ...]
    by_block: tuple[ParamGroup, ...]
    by_layer: tuple[LayerParams, ...]

    def to_dict(self) -> dict:
        return plain_with_totals(self, "total")


def _group(name: str, rows: list[LayerParams]) -> ParamGroup:
    kinds = {"conv": 0, "norm": 0, "linear": 0}
    for row in rows:
        kinds[PARAMETER_FAMILIES[row.kind]] += row.params
    return ParamGroup(name, kinds["conv"], kinds["norm"], kinds["linear"])


def _buffers(design: Design) -> int:
    """Batch-norm buffers: running mean and variance per channel, plus one step counter."""
    if design.norm != "batch":
        return 0
    norms = [x for x in layer_counts(design) if x.kind == "norm"]
    return sum(x.params + 1 for x in norms)  # params = 2 x channels = mean + var


def parameters(design: Design) -> ParameterReport:
    """Parameter counts of ``design`` by stage, block and layer (no model is built)."""
    layers = layer_counts(design)
    groups = layer_group(layers)
    rows = [
        LayerParams(x.name, x.kind, g, x.params)
        for x, g in zip(layers, groups, strict=True)
        if x.params
    ]
    blocks: dict[str, list[LayerParams]] = {b.name: [] for b in plan(design).blocks}
    for x, row in zip([x for x in layers if x.params], rows, strict=True):
        block = block_name(x)
        if block is not None:
            blocks[block].append(row)
    stage_names = ["stem", *(s.name for s in plan(design).stages), "head"]
    by_stage = tuple(_group(s, [r for r in rows if r.group == s]) for s in stage_names)
    whole = _group("network", rows)
    return ParameterReport(
        total=whole.total,
        trainable=whole.total,
        buffers=_buffers(design),
        bytes_fp32=whole.total * BYTES_FP32,
        conv=whole.conv,
        norm=whole.norm,
        linear=whole.linear,
        by_stage=by_stage,
        by_block=tuple(_group(name, r) for name, r in blocks.items()),
        by_layer=tuple(rows),
    )
