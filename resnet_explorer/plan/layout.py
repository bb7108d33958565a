"""The layer-level description of a `Design`: every op of the stem, each block and the head.

Pure arithmetic on the design (no torch), cached. The builder builds from it, the counts sum
over it and the diagrams label from it, so they cannot disagree about shapes or op order.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import NamedTuple

from resnet_explorer.design import Design
from resnet_explorer.plan.block import BlockSpec, ShortcutKind, block_ops, shortcut_kind
from resnet_explorer.plan.names import NAMES
from resnet_explorer.plan.network import HeadSpec, StemSpec, final_ops, head_ops, stem_ops
from resnet_explorer.plan.ops import Op
from resnet_explorer.shapes import (
    StageShape,
    eca_kernel,
    se_width,
    stage_shapes,
    stem_conv_widths,
    stem_out_size,
)


@dataclass(frozen=True)
class BlockPlan:
    """One residual block: where it sits, what it is (`spec`) and its ops."""

    stage: int
    index: int
    spec: BlockSpec
    drop_path: float  # stochastic-depth rate of this block (0: none)

    @property
    def stage_name(self) -> str:
        """The stage's module path (``layer1``, ``s1``)."""
        return NAMES[self.spec.names].stage(self.stage)

    @property
    def module_name(self) -> str:
        """The block's name inside its stage (``0``, ``b1``)."""
        return NAMES[self.spec.names].block(self.index)

    @property
    def name(self) -> str:
        """Module path in the network (``layer1.0``, ``s1.b1``)."""
        return f"{self.stage_name}.{self.module_name}"

    @property
    def ops(self) -> tuple[Op, ...]:
        """The block's ops in forward order (`plan.block.block_ops`)."""
        return block_ops(self.spec)

    block = property(lambda self: self.spec.block)
    in_channels = property(lambda self: self.spec.in_channels)
    mid_channels = property(lambda self: self.spec.mid_channels)
    out_channels = property(lambda self: self.spec.out_channels)
    stride = property(lambda self: self.spec.stride)
    in_size = property(lambda self: self.spec.in_size)
    out_size = property(lambda self: self.spec.out_size)

    @property
    def shortcut(self) -> ShortcutKind:
        return self.spec.shortcut

    @property
    def shape_changes(self) -> bool:
        return self.stride != 1 or self.in_channels != self.out_channels


class StageLayout(NamedTuple):
    """A stage as counting sees it: the first block's spec, the spec the others share."""

    first: BlockSpec
    rest: BlockSpec | None
    blocks: int


@dataclass(frozen=True)
class StagePlan:
    """One stage: its blocks in order; it takes in what its first block does and gives out
    what its last one does."""

    index: int
    block: str
    blocks: tuple[BlockPlan, ...]

    @property
    def name(self) -> str:
        return self.blocks[0].stage_name

    @property
    def in_channels(self) -> int:
        return self.blocks[0].in_channels

    @property
    def out_channels(self) -> int:
        return self.blocks[-1].out_channels

    @property
    def in_size(self) -> int:
        return self.blocks[0].in_size

    @property
    def out_size(self) -> int:
        return self.blocks[-1].out_size

    @property
    def stride(self) -> int:
        return self.blocks[0].stride

    @property
    def dilation(self) -> int:
        return self.blocks[-1].spec.dilation


@dataclass(frozen=True)
class NetworkPlan:
    """The whole network: stem ops, stages of blocks, the final norm (pre-activation) and head."""

    design: Design
    stem: tuple[Op, ...]
    stages: tuple[StagePlan, ...]
    final: tuple[Op, ...]
    head: tuple[Op, ...]

    @property
    def stem_channels(self) -> tuple[int, ...]:
        """Output channels of each stem conv (one for most stems, three for the deep stems)."""
        return stem_conv_widths(self.design.stem, self.design.stem_width)

    @property
    def stem_out_size(self) -> int:
        return stem_out_size(self.design)

    @property
    def feature_channels(self) -> int:
        return self.stages[-1].out_channels

    @property
    def feature_size(self) -> int:
        return self.stages[-1].out_size

    @cached_property
    def blocks(self) -> tuple[BlockPlan, ...]:
        return tuple(b for s in self.stages for b in s.blocks)


def _attention(design: Design, shape: StageShape, cin: int) -> tuple[str, str, int]:
    """(attention, where, width) of a block of ``shape`` receiving ``cin`` channels."""
    if design.attention == "none":
        return "none", "end", 0
    if design.attention == "eca":
        return "eca", "end", eca_kernel(shape.out_channels)
    width = se_width(design.se_convention, design.se_ratio, cin, shape.out_channels)
    return "se", ("mid" if design.se_convention == "regnet" else "end"), width


def iter_stage_specs(design: Design) -> Iterator[tuple[BlockSpec, BlockSpec | None, int]]:
    """For each stage: the first block's spec, the spec its other blocks share (None for a
    one-block stage) and its number of blocks. Works on a `Design` or a `DesignDraft`.

    The drop-path flag is the design's, except for the network's very first block, whose
    stochastic-depth rate is 0 (the rate grows linearly from 0).
    """
    option, order, norm = design.shortcut, design.activation_order, design.norm
    act, stride_on, drop = design.activation, design.stride_on, design.stochastic_depth > 0
    aa, names = design.anti_alias, design.module_names
    first_stage = True
    for shape in stage_shapes(design):
        block, cin, mid, cout = shape.block, shape.in_channels, shape.inner, shape.out_channels
        stride, size, out, groups = shape.stride, shape.in_size, shape.out_size, shape.groups
        dil = shape.dilation
        attention, where, width = _attention(design, shape, cin)
        first = BlockSpec(
            block, cin, mid, cout, groups, stride, size, out,
            shortcut_kind(option, stride != 1 or cin != cout), order, norm, act, stride_on,
            drop and not first_stage, dil, shape.first_dilation, attention, where, width, aa,
            names,
        )  # fmt: skip
        rest = None
        if shape.blocks > 1:
            attention, where, width = _attention(design, shape, cout)
            rest = BlockSpec(
                block, cout, mid, cout, groups, 1, out, out, shortcut_kind(option, False),
                order, norm, act, stride_on, drop, dil, dil, attention, where, width, aa, names,
            )  # fmt: skip
        yield first, rest, shape.blocks
        first_stage = False


def stage_layouts(design: Design) -> tuple[StageLayout, ...]:
    """Each stage's block specs (first block, the rest), without per-block objects: a stage of
    1,000 identical blocks costs two specs (see `iter_stage_specs`)."""
    return tuple(StageLayout(*specs) for specs in iter_stage_specs(design))


def stem_spec(design: Design) -> StemSpec:
    return StemSpec(
        design.stem,
        design.in_channels,
        design.stem_width,
        design.image_size,
        design.norm,
        design.activation,
        design.activation_order != "full_preact",
        design.stem_pool,
        design.anti_alias,
        design.module_names,
    )


def head_spec(design: Design, channels: int, size: int) -> HeadSpec:
    return HeadSpec(
        channels,
        size,
        design.num_classes,
        design.final_norm,
        design.norm,
        design.activation,
        design.dropout,
        design.module_names,
    )


@lru_cache(maxsize=256)
def plan(design: Design) -> NetworkPlan:
    """The layer-level description of ``design``: cheap, cached, shared by builder, counts and
    diagrams."""
    total_blocks = sum(s.blocks for s in design.stages)
    block_id = 0
    stages = []
    for i, layout in enumerate(stage_layouts(design)):
        blocks = []
        for j in range(layout.blocks):
            rate = design.stochastic_depth * block_id / max(total_blocks - 1, 1)
            spec = layout.first if j == 0 else layout.rest
            blocks.append(BlockPlan(i, j, spec._replace(drop_path=rate > 0), rate))  # type: ignore[union-attr]
            block_id += 1
        stages.append(StagePlan(i, layout.first.block, tuple(blocks)))
    last = stages[-1].blocks[-1]
    head = head_spec(design, last.out_channels, last.out_size)
    return NetworkPlan(
        design, stem_ops(stem_spec(design)), tuple(stages), final_ops(head), head_ops(head)
    )
