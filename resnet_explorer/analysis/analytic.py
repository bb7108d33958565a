"""Exact analytic counts from a `Design` alone: no model is built, no tensor allocated.

For every layer the builder would create, in forward order, this module derives:

* ``params``: learnable parameters (conv weights, norm affine, linear weight + bias);
* ``macs``: multiply-accumulates of convolutions and linear layers (torchvision's ``GFLOPS``,
  pycls's "flops");
* ``fvcore``: what fvcore's ``FlopCountAnalysis`` counts for the layer at inference (eval mode):
  MACs for conv/linear, 2 per element for an affine batch norm, 5 per element for an affine group
  norm, 1 per input element for the adaptive average pool, 0 for activations, max/avg pooling,
  padding and additions (fvcore skips those ops);
* ``activations``: fvcore's activation count (output elements of conv and linear layers);
* ``outputs``: elements the layer writes (every layer, for memory estimates).

All counts are for one image; multiply by the batch size. The tests check every figure against
fvcore and torchinfo on built models.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache

from resnet_explorer.design import Design
from resnet_explorer.plan import BlockPlan, NetworkPlan, downsample, plan


@dataclass(frozen=True)
class LayerCount:
    """Counts of one layer, named by its module path in the built model."""

    name: str
    kind: str  # conv | norm | act | pool | linear | shortcut | add
    stage: int | None  # None for stem and head
    params: int
    macs: int
    fvcore: int
    activations: int
    outputs: int


@dataclass(frozen=True)
class Totals:
    """Sums over layers (per image)."""

    params: int
    macs: int
    fvcore: int
    activations: int
    outputs: int

    @property
    def flops(self) -> int:
        """FLOPs counting a multiply-add as two (PyTorch's ``FlopCounterMode`` convention)."""
        return 2 * self.macs


def _conv(name: str, stage: int | None, cin: int, cout: int, k: int, size: int, groups: int = 1):
    params = cout * (cin // groups) * k * k
    out = cout * size * size
    macs = params * size * size
    return LayerCount(name, "conv", stage, params, macs, macs, out, out)


def _norm(design: Design, name: str, stage: int | None, channels: int, size: int):
    elements = channels * size * size
    if design.norm == "none":
        return None
    per_element = 2 if design.norm == "batch" else 5
    return LayerCount(name, "norm", stage, 2 * channels, 0, per_element * elements, 0, elements)


def _act(design: Design, name: str, stage: int | None, elements: int) -> LayerCount:
    return LayerCount(name, "act", stage, 0, 0, 0, 0, elements)


def _stem(design: Design, layout: NetworkPlan) -> Iterator[LayerCount | None]:
    act = design.activation
    preact = design.activation_order == "full_preact"
    size = design.image_size
    conv_size = downsample(size, 1 if design.stem == "cifar" else 2)
    width = design.stem_width
    if design.stem in ("imagenet", "cifar"):
        kernel = 7 if design.stem == "imagenet" else 3
        yield _conv("conv1", None, design.in_channels, width, kernel, conv_size)
    else:
        c0, c1, c2 = layout.stem_channels
        yield _conv("conv1.0", None, design.in_channels, c0, 3, conv_size)
        yield _norm(design, "conv1.1", None, c0, conv_size)
        yield _act(design, "conv1.2", None, c0 * conv_size**2)
        yield _conv("conv1.3", None, c0, c1, 3, conv_size)
        yield _norm(design, "conv1.4", None, c1, conv_size)
        yield _act(design, "conv1.5", None, c1 * conv_size**2)
        yield _conv("conv1.6", None, c1, c2, 3, conv_size)
    if not preact:
        yield _norm(design, "bn1", None, width, conv_size)
        yield _act(design, act, None, width * conv_size**2)
    if design.stem != "cifar":
        out = layout.stem_out_size
        yield LayerCount("maxpool", "pool", None, 0, 0, 0, 0, width * out * out)


def _branch_convs(design: Design, b: BlockPlan) -> list[tuple[int, int, int, int, int]]:
    """(in, out, kernel, output size, groups) of each conv of the residual branch."""
    if b.block == "basic":
        return [
            (b.in_channels, b.mid_channels, 3, b.out_size, 1),
            (b.mid_channels, b.out_channels, 3, b.out_size, 1),
        ]
    first = b.in_size if design.stride_on == "3x3" else b.out_size
    return [
        (b.in_channels, b.mid_channels, 1, first, 1),
        (b.mid_channels, b.mid_channels, 3, b.out_size, design.groups),
        (b.mid_channels, b.out_channels, 1, b.out_size, 1),
    ]


def _block(design: Design, b: BlockPlan) -> Iterator[LayerCount | None]:
    order = design.activation_order
    act = design.activation
    name, s = b.name, b.stage
    convs = _branch_convs(design, b)
    n = len(convs)
    if order == "full_preact":
        yield _norm(design, f"{name}.bn1", s, b.in_channels, b.in_size)
        yield _act(design, f"{name}.{act}", s, b.in_channels * b.in_size**2)
    for k, (cin, cout, kernel, size, groups) in enumerate(convs, start=1):
        if order == "relu_only_preact":
            prev_size = b.in_size if k == 1 else convs[k - 2][3]
            yield _act(design, f"{name}.{act}", s, cin * prev_size**2)
        if order == "full_preact" and k > 1:
            yield _norm(design, f"{name}.bn{k}", s, cin, convs[k - 2][3])
            yield _act(design, f"{name}.{act}", s, cin * convs[k - 2][3] ** 2)
        yield _conv(f"{name}.conv{k}", s, cin, cout, kernel, size, groups)
        post = order in ("original", "relu_before_add", "relu_only_preact") or (
            order == "bn_after_add" and k < n
        )
        if post:
            yield _norm(design, f"{name}.bn{k}", s, cout, size)
        if order in ("original", "bn_after_add", "relu_before_add") and (
            k < n or order == "relu_before_add"
        ):
            yield _act(design, f"{name}.{act}", s, cout * size**2)
    out_elements = b.out_channels * b.out_size**2
    yield from _shortcut(design, b)
    if b.shortcut != "none":
        yield LayerCount(f"{name}.add", "add", s, 0, 0, 0, 0, out_elements)
    if order == "bn_after_add":
        yield _norm(design, f"{name}.bn{n}", s, b.out_channels, b.out_size)
    if order in ("original", "bn_after_add"):
        yield _act(design, f"{name}.{act}", s, out_elements)


def _shortcut(design: Design, b: BlockPlan) -> Iterator[LayerCount | None]:
    name, s = f"{b.name}.downsample", b.stage
    out_elements = b.out_channels * b.out_size**2
    if b.shortcut == "zero_pad":
        yield LayerCount(name, "shortcut", s, 0, 0, 0, 0, out_elements)
        return
    if b.shortcut not in ("projection", "avgpool_projection"):
        return
    conv_index = 0
    if b.shortcut == "avgpool_projection":
        conv_index = 1
        if b.stride != 1:
            pooled = b.in_channels * b.out_size**2
            yield LayerCount(f"{name}.0", "pool", s, 0, 0, 0, 0, pooled)
    yield _conv(f"{name}.{conv_index}", s, b.in_channels, b.out_channels, 1, b.out_size)
    if design.activation_order != "full_preact":
        yield _norm(design, f"{name}.{conv_index + 1}", s, b.out_channels, b.out_size)


def _head(design: Design, layout: NetworkPlan) -> Iterator[LayerCount | None]:
    channels, size = layout.feature_channels, layout.feature_size
    if design.final_norm:
        yield _norm(design, "final_bn", None, channels, size)
        yield _act(design, design.activation, None, channels * size * size)
    yield LayerCount("avgpool", "pool", None, 0, 0, channels * size * size, 0, channels)
    fc_params = channels * design.num_classes + design.num_classes
    fc_macs = channels * design.num_classes
    yield LayerCount(
        "fc", "linear", None, fc_params, fc_macs, fc_macs, design.num_classes, design.num_classes
    )


def layer_counts(design: Design) -> list[LayerCount]:
    """Every layer of the network in forward order, with its analytic counts."""
    layout = plan(design)
    layers: list[LayerCount | None] = [*_stem(design, layout)]
    for block in layout.blocks:
        layers.extend(_block(design, block))
    layers.extend(_head(design, layout))
    return [layer for layer in layers if layer is not None]


def _sum(layers: list[LayerCount]) -> Totals:
    return Totals(
        params=sum(x.params for x in layers),
        macs=sum(x.macs for x in layers),
        fvcore=sum(x.fvcore for x in layers),
        activations=sum(x.activations for x in layers),
        outputs=sum(x.outputs for x in layers),
    )


@cache
def totals(design: Design) -> Totals:
    """Whole-network counts for one image.

    Stages with many identical blocks are counted once per distinct block shape, so a 1,000
    block stage costs no more than a 3 block one.
    """
    layout = plan(design)
    parts: list[Totals] = [_sum([x for x in _stem(design, layout) if x is not None])]
    for stage in layout.stages:
        first, rest = stage.blocks[0], stage.blocks[1:]
        parts.append(_sum([x for x in _block(design, first) if x is not None]))
        if rest:
            one = _sum([x for x in _block(design, rest[0]) if x is not None])
            parts.append(Totals(*(len(rest) * v for v in _astuple(one))))
    parts.append(_sum([x for x in _head(design, layout) if x is not None]))
    return Totals(*(sum(v) for v in zip(*(_astuple(p) for p in parts), strict=True)))


def _astuple(t: Totals) -> tuple[int, int, int, int, int]:
    return (t.params, t.macs, t.fvcore, t.activations, t.outputs)


def stage_totals(design: Design) -> list[Totals]:
    """Counts per stage (stem and head excluded), in stage order."""
    by_stage: dict[int, list[LayerCount]] = {}
    for layer in layer_counts(design):
        if layer.stage is not None:
            by_stage.setdefault(layer.stage, []).append(layer)
    return [_sum(by_stage.get(i, [])) for i in range(len(design.stages))]
