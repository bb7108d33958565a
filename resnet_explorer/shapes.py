"""Shape rules of the ResNet family: pure arithmetic, each rule written once.

This module knows no `Design` class: it reads the fields it needs from any object that has them
(`ShapeFields`), so the design's own validation (design.py) and the layer-level plan (plan/) call
the same functions and cannot disagree about a width, a stride or a spatial size.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple, Protocol

#: Downsampling done by each stem (a strided conv, then a stride-2 pool where it has one).
STEM_STRIDES: dict[str, int] = {"imagenet": 4, "cifar": 1, "deep": 4, "deep_tiered": 4}

#: Group norm uses gcd(32, channels) groups (Wu & He 2018's 32, where the channels allow).
GROUP_NORM_GROUPS = 32


class StageFields(Protocol):
    """What a stage says: ``blocks`` blocks of ``width`` planes, the first with ``stride``."""

    blocks: int
    width: int
    stride: int
    block: str | None


class ShapeFields(Protocol):
    """The design fields that decide shapes (a `Design` has them all)."""

    image_size: int
    stem: str
    stem_width: int
    stages: Sequence[StageFields]
    block: str
    expansion: int
    groups: int
    width_per_group: int
    width_factor: float


def downsample(size: int, stride: int) -> int:
    """Spatial size after a stride-``stride`` conv or pool of this project (padding 'same')."""
    return -(-size // stride)


def stem_stride(stem: str) -> int:
    """Downsampling factor of the stem ``stem``."""
    return STEM_STRIDES[stem]


def stem_conv_widths(stem: str, width: int) -> tuple[int, ...]:
    """Output channels of the stem's convs (timm's deep and tiered stems for ``deep*``)."""
    if stem == "deep":
        return (width // 2, width // 2, width)
    if stem == "deep_tiered":
        return (3 * (width // 8), width // 2, width)
    return (width,)


def norm_groups(channels: int) -> int:
    """Number of groups of a group norm over ``channels`` channels."""
    return math.gcd(GROUP_NORM_GROUPS, channels)


def channels_per_group(design: ShapeFields, block: str, width: int) -> float:
    """Channels each group of a stage's 3x3 conv gets (torchvision's ResNeXt / Wide formula).

    A basic block's convs have ``width x width_factor`` channels (one group); a bottleneck's 3x3
    has ``width x width_factor x width_per_group / 64`` per group. A valid design makes this a
    whole number >= 1 (torchvision would silently round it down).
    """
    widened = width * design.width_factor
    return widened if block == "basic" else widened * design.width_per_group / 64.0


class StageShape(NamedTuple):
    """Channels, strides and sizes of one stage, as the network runs it."""

    block: str
    blocks: int
    in_channels: int
    inner: int  # channels of the 3x3 convs
    out_channels: int
    groups: int  # groups of the bottleneck's 3x3
    stride: int
    in_size: int
    out_size: int


def stage_shape(
    design: ShapeFields, stage: StageFields, in_channels: int, in_size: int
) -> StageShape:
    """One stage's shape, given the channels and size it receives. Assumes
    `channels_per_group` is whole (a validated design)."""
    block = stage.block or design.block
    per_group = int(channels_per_group(design, block, stage.width))
    if block == "basic":
        inner = out = per_group
        groups = 1
    else:
        inner, out, groups = (
            per_group * design.groups,
            stage.width * design.expansion,
            design.groups,
        )
    out_size = downsample(in_size, stage.stride)
    return StageShape(
        block, stage.blocks, in_channels, inner, out, groups, stage.stride, in_size, out_size
    )


def stage_shapes(design: ShapeFields) -> tuple[StageShape, ...]:
    """Every stage's shape, from the stem's output on (see `stage_shape`)."""
    size = downsample(design.image_size, stem_stride(design.stem))
    channels = design.stem_width
    out = []
    for stage in design.stages:
        shape = stage_shape(design, stage, channels, size)
        out.append(shape)
        channels, size = shape.out_channels, shape.out_size
    return tuple(out)


def network_depth(design: ShapeFields) -> int:
    """Layers with weights on the main path, as the papers count them (e.g. 50, 110)."""
    convs = sum(
        s.blocks * (3 if (s.block or design.block) == "bottleneck" else 2) for s in design.stages
    )
    stem = 3 if design.stem.startswith("deep") else 1
    return stem + convs + 1
