"""The stem and the head of the network: their operations, in forward order.

The stem's names follow torchvision (``conv1``, ``bn1``, ``relu``, ``maxpool``) and timm for the
deep stems (``conv1.0`` ... ``conv1.6``). Pre-activation nets leave the stem's norm and activation
to the first block and normalize the last stage's output instead (``final_bn``).
"""

from __future__ import annotations

from typing import NamedTuple

from resnet_explorer.plan.ops import Op
from resnet_explorer.shapes import downsample, stem_conv_widths


class StemSpec(NamedTuple):
    """Everything that decides the stem's operations."""

    stem: str
    in_channels: int
    width: int
    image_size: int
    norm: str
    activation: str
    activated: bool  # False for full pre-activation: the first block normalizes


class HeadSpec(NamedTuple):
    """Everything that decides the head's operations."""

    channels: int
    size: int
    num_classes: int
    final_norm: bool
    norm: str
    activation: str
    dropout: float


def _norm_act(name: str, norm: str, activation: str, channels: int, size: int) -> list[Op]:
    return [
        Op(name, "norm", channels, channels, size, size, variant=norm),
        Op(activation, "act", channels, channels, size, size, variant=activation),
    ]


def stem_ops(spec: StemSpec) -> tuple[Op, ...]:
    """The stem's ops in forward order."""
    size, width, act = spec.image_size, spec.width, spec.activation
    ops: list[Op] = []
    if spec.stem in ("imagenet", "cifar"):
        kernel, stride = (7, 2) if spec.stem == "imagenet" else (3, 1)
        out = downsample(size, stride)
        ops.append(
            Op("conv1", "conv", spec.in_channels, width, size, out, kernel=kernel, stride=stride)
        )
    else:  # timm's deep stems: conv1.0, conv1.1 (norm), conv1.2 (act), conv1.3, ..., conv1.6
        c0, c1, c2 = stem_conv_widths(spec.stem, width)
        out = downsample(size, 2)
        ops.append(Op("conv1.0", "conv", spec.in_channels, c0, size, out, kernel=3, stride=2))
        for index, (cin, cout) in enumerate(((c0, c1), (c1, c2))):
            base = 1 + 3 * index
            ops.append(Op(f"conv1.{base}", "norm", cin, cin, out, out, variant=spec.norm))
            ops.append(Op(f"conv1.{base + 1}", "act", cin, cin, out, out, variant=act))
            ops.append(Op(f"conv1.{base + 2}", "conv", cin, cout, out, out, kernel=3))
    if spec.activated:
        ops += _norm_act("bn1", spec.norm, act, width, out)
    if spec.stem != "cifar":
        pooled = downsample(out, 2)
        ops.append(
            Op("maxpool", "pool", width, width, out, pooled, kernel=3, stride=2, variant="max")
        )
    return tuple(ops)


def final_ops(spec: HeadSpec) -> tuple[Op, ...]:
    """The norm and activation after the last stage (the pre-activation head), or ()."""
    if not spec.final_norm:
        return ()
    return tuple(_norm_act("final_bn", spec.norm, spec.activation, spec.channels, spec.size))


def head_ops(spec: HeadSpec) -> tuple[Op, ...]:
    """Global average pool, flatten, dropout (when set) and the classifier."""
    c, size = spec.channels, spec.size
    ops = [
        Op("avgpool", "global_pool", c, c, size, 1),
        Op("flatten", "flatten", c, c, 1, 1),
    ]
    if spec.dropout > 0:
        ops.append(Op("dropout", "dropout", c, c, 1, 1, rate=spec.dropout))
    ops.append(Op("fc", "linear", c, spec.num_classes, 1, 1, bias=True))
    return tuple(ops)
