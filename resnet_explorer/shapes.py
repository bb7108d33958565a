"""Shape rules of the ResNet family: pure arithmetic, each rule written once.

This module knows no `Design` class: it reads the fields it needs from any object that has them
(`ShapeFields`), so the design's own validation (design.py) and the layer-level plan (plan/) call
the same functions and cannot disagree about a width, a stride, a dilation or a spatial size.
Functions that can meet an impossible combination raise `ValueError` with a message naming the
field, the value and what is allowed (the design shows it as it is).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple, Protocol

#: Downsampling done by each stem: a strided conv (/2), then a stride-2 pool where it has one.
STEM_STRIDES: dict[str, int] = {
    "imagenet": 4,
    "cifar": 1,
    "deep": 4,
    "deep_tiered": 4,
    "simple": 2,
}

#: Group norm uses gcd(32, channels) groups (Wu & He 2018's 32, where the channels allow).
GROUP_NORM_GROUPS = 32


class StageFields(Protocol):
    """What a stage says: ``blocks`` blocks of ``width`` planes, the first with ``stride``, and
    optional per-stage overrides of the block type, groups, group width and bottleneck ratio."""

    blocks: int
    width: int
    stride: int
    block: str | None
    groups: int | None
    group_width: int | None
    bottleneck_ratio: float | None


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
    group_width: int | None
    bottleneck_ratio: float | None
    output_stride: int | None


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


def make_divisible(value: float, divisor: int = 8) -> int:
    """``value`` rounded to the nearest multiple of ``divisor`` (at least ``divisor``): timm's
    ``make_divisible`` with ``round_limit=0``, as its squeeze-excitation uses it."""
    return max(divisor, int(value + divisor / 2) // divisor * divisor)


def se_width(convention: str, ratio: float, block_in: int, block_out: int) -> int:
    """Reduced width of a squeeze-excitation, by convention.

    ``senet`` (Hu et al. 2018, timm's SE-ResNet and ResNet-RS): ``ratio`` of the block's output
    channels, rounded to a multiple of 8 (ratio 1/16 by default). ``regnet`` (pycls RegNetY,
    timm regnet.py): ``ratio`` of the block's *input* channels, rounded (ratio 0.25).
    """
    if convention == "regnet":
        return max(1, round(block_in * ratio))
    return make_divisible(block_out * ratio)


def eca_kernel(channels: int) -> int:
    """ECA's 1-D kernel size for ``channels`` channels (Wang et al. 2020; timm's EcaModule):
    ``|log2(C) + 1| / 2``, made odd, at least 3."""
    t = int(abs(math.log(channels, 2) + 1) / 2)
    return max(t if t % 2 else t + 1, 3)


class StageShape(NamedTuple):
    """Channels, strides, dilations and sizes of one stage, as the network runs it."""

    block: str
    blocks: int
    in_channels: int
    inner: int  # channels of the 3x3 convs
    out_channels: int
    groups: int  # groups of the bottleneck's 3x3
    stride: int  # after dilation replaced it (output stride)
    in_size: int
    out_size: int
    dilation: int  # of the stage's 3x3 convs
    first_dilation: int  # of the first block's first 3x3 (the dilation before this stage)


def _pick(own: object, default: object) -> object:
    return default if own is None else own


def stage_knob(design: ShapeFields, stage: StageFields, name: str) -> object:
    """A per-stage knob (``groups``, ``group_width``, ``bottleneck_ratio``) as the network uses
    it: the stage's own value, else the design's (None where neither sets it)."""
    return _pick(getattr(stage, name), getattr(design, name))


def stage_widths(design: ShapeFields, stage: StageFields, index: int) -> tuple[int, int, int]:
    """(inner, out, groups) of stage ``index``'s blocks.

    Basic blocks: ``width x width_factor`` channels throughout. Bottlenecks output
    ``width x expansion``; their 3x3 has either torchvision's ResNeXt / Wide width
    (``width x width_factor x width_per_group / 64`` per group, ``groups`` groups) or RegNet's
    (``round(width x width_factor x bottleneck_ratio)`` channels), split into ``groups`` groups
    or into groups of ``group_width`` channels. Raises ValueError when a group would get a
    fractional or zero number of channels (torchvision would silently round it down).
    """
    block = stage.block or design.block
    where = f"stages[{index}]"
    widened = stage.width * design.width_factor
    if block == "basic":
        if widened < 1 or widened != int(widened):
            raise ValueError(
                f"{where}.width={stage.width} with width_factor={design.width_factor:g} gives "
                f"{widened:g} channels; it must be a whole number >= 1 (change the width or "
                "width_factor)"
            )
        return int(widened), int(widened), 1
    out = stage.width * design.expansion
    ratio = _pick(stage.bottleneck_ratio, design.bottleneck_ratio)
    group_width = _pick(stage.group_width, design.group_width)
    groups = _pick(stage.groups, design.groups)
    if ratio is None:
        per_group = widened * design.width_per_group / 64.0
        if per_group < 1 or per_group != int(per_group):
            raise ValueError(
                f"{where}.width={stage.width} is not divisible into groups: with width_factor="
                f"{design.width_factor:g}, groups={groups}, width_per_group="
                f"{design.width_per_group} each group would get {per_group:g} channels; it "
                "must be a whole number >= 1 (change the width, width_per_group or "
                "width_factor)"
            )
        inner = int(per_group) * (1 if group_width is not None else groups)  # type: ignore[operator]
    else:
        inner = round(widened * ratio)  # type: ignore[operator]
        if inner < 1:
            raise ValueError(
                f"{where}: bottleneck_ratio={ratio:g} leaves the 3x3 conv "
                f"{widened * ratio:g} channels; it needs at least 1"  # type: ignore[operator]
            )
    if group_width is not None:
        if inner % group_width:  # type: ignore[operator]
            raise ValueError(
                f"{where}: the 3x3 conv has {inner} channels, not a multiple of group_width="
                f"{group_width}; use a group width that divides {inner}"
            )
        groups = inner // group_width  # type: ignore[operator]
    elif inner % groups:  # type: ignore[operator]
        raise ValueError(
            f"{where}: the 3x3 conv has {inner} channels, which groups={groups} cannot split "
            "evenly; use a number of groups that divides it"
        )
    return inner, out, groups  # type: ignore[return-value]


def stem_out_size(design: ShapeFields) -> int:
    """Spatial size leaving the stem."""
    return downsample(design.image_size, stem_stride(design.stem))


def stage_shapes(design: ShapeFields) -> tuple[StageShape, ...]:
    """Every stage's shape, from the stem's output on.

    With an ``output_stride`` (timm's ``output_stride``, torchvision's
    ``replace_stride_with_dilation``), a stage whose input is already downsampled that much
    keeps its size: its stride is replaced by a dilation of its 3x3 convs, and the first of
    those convs keeps the dilation before the stage (as torchvision and timm do).
    """
    size = stem_out_size(design)
    channels = design.stem_width
    net_stride = stem_stride(design.stem)
    dilation = 1
    out = []
    for index, stage in enumerate(design.stages):
        inner, width, groups = stage_widths(design, stage, index)
        stride, first_dilation = stage.stride, dilation
        if design.output_stride is not None and net_stride >= design.output_stride:
            dilation *= stride
            stride = 1
        else:
            net_stride *= stride
        out_size = downsample(size, stride)
        block = stage.block or design.block
        out.append(
            StageShape(
                block,
                stage.blocks,
                channels,
                inner,
                width,
                groups,
                stride,
                size,
                out_size,
                dilation,
                first_dilation,
            )
        )
        channels, size = width, out_size
    return tuple(out)


def network_depth(design: ShapeFields) -> int:
    """Layers with weights on the main path, as the papers count them (e.g. 50, 110)."""
    convs = sum(
        s.blocks * (3 if (s.block or design.block) == "bottleneck" else 2) for s in design.stages
    )
    stem = 3 if design.stem.startswith("deep") else 1
    return stem + convs + 1
