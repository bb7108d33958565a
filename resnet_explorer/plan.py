"""The layout a `Design` implies: channels, strides, spatial sizes and shortcut kind per block.

Pure arithmetic on the design (no torch). The builder, the analytic counts and the diagrams all
read the same layout, so they cannot disagree about shapes.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Literal

from resnet_explorer.design import Design

ShortcutKind = Literal["identity", "zero_pad", "projection", "avgpool_projection", "none"]


def downsample(size: int, stride: int) -> int:
    """Spatial size after a stride-``stride`` conv or pool of this project (padding 'same')."""
    return -(-size // stride)


@dataclass(frozen=True)
class BlockPlan:
    """One residual block: where it sits and what shapes it sees."""

    stage: int
    index: int
    block: str
    in_channels: int
    mid_channels: int
    out_channels: int
    stride: int
    in_size: int
    out_size: int
    shortcut: ShortcutKind
    drop_path: float

    @property
    def name(self) -> str:
        """Module path, torchvision style (``layer1.0``)."""
        return f"layer{self.stage + 1}.{self.index}"

    @property
    def shape_changes(self) -> bool:
        return self.stride != 1 or self.in_channels != self.out_channels


@dataclass(frozen=True)
class StagePlan:
    index: int
    block: str
    blocks: tuple[BlockPlan, ...]

    @property
    def name(self) -> str:
        return f"layer{self.index + 1}"

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


@dataclass(frozen=True)
class NetworkPlan:
    design: Design
    stem_channels: tuple[int, ...]
    """Output channels of each stem conv (one for imagenet/cifar, three for the deep stems)."""
    stem_out_size: int
    stages: tuple[StagePlan, ...]

    @property
    def feature_channels(self) -> int:
        return self.stages[-1].out_channels

    @property
    def feature_size(self) -> int:
        return self.stages[-1].out_size

    @property
    def blocks(self) -> tuple[BlockPlan, ...]:
        return tuple(b for s in self.stages for b in s.blocks)


def shortcut_kind(design: Design, shape_changes: bool) -> ShortcutKind:
    """Which shortcut a block gets under the design's option."""
    option = design.shortcut
    if option == "none":
        return "none"
    if option == "C":
        return "projection"
    if not shape_changes:
        return "identity"
    return {"A": "zero_pad", "B": "projection", "D": "avgpool_projection"}[option]


def stem_channels(design: Design) -> tuple[int, ...]:
    """Output channels of the stem's convs (timm's deep and tiered stems for ``deep*``)."""
    width = design.stem_width
    if design.stem == "deep":
        return (width // 2, width // 2, width)
    if design.stem == "deep_tiered":
        return (3 * (width // 8), width // 2, width)
    return (width,)


@cache
def plan(design: Design) -> NetworkPlan:
    """The layout of ``design``: cheap, cached, and shared by builder, counts and diagrams."""
    size = downsample(design.image_size, design.stem_stride())
    channels = design.stem_width
    total_blocks = sum(s.blocks for s in design.stages)
    block_id = 0
    stages = []
    for i, stage in enumerate(design.stages):
        kind = design.block_type(i)
        out = design.out_channels(i)
        mid = design.inner_width(i)
        blocks = []
        for j in range(stage.blocks):
            stride = stage.stride if j == 0 else 1
            out_size = downsample(size, stride)
            rate = design.stochastic_depth * block_id / max(total_blocks - 1, 1)
            changes = stride != 1 or channels != out
            blocks.append(
                BlockPlan(
                    stage=i,
                    index=j,
                    block=kind,
                    in_channels=channels,
                    mid_channels=mid,
                    out_channels=out,
                    stride=stride,
                    in_size=size,
                    out_size=out_size,
                    shortcut=shortcut_kind(design, changes),
                    drop_path=rate,
                )
            )
            channels, size = out, out_size
            block_id += 1
        stages.append(StagePlan(index=i, block=kind, blocks=tuple(blocks)))
    return NetworkPlan(
        design=design,
        stem_channels=stem_channels(design),
        stem_out_size=downsample(design.image_size, design.stem_stride()),
        stages=tuple(stages),
    )
