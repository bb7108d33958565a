"""The stem and the head of the network: their operations, in forward order.

Stems: torchvision's 7x7/2 conv then a 3x3/2 max-pool (``imagenet``), the CIFAR nets' 3x3/1
conv (``cifar``), timm's three-conv stems (``deep``, ``deep_tiered``, named ``conv1.0`` ...
``conv1.6``) and pycls's 3x3/2 conv without a pool (``simple``). The pool can be ResNet-RS's
3x3/2 conv with norm and activation (``stem_pool='conv'``, timm ``replace_stem_pool``), and with
anti-aliasing it is timm's: a 2x2 average pool, or a stride-1 max-pool then a blur pool.
Pre-activation nets leave the stem's norm and activation to the first block and normalize the
last stage's output instead (``final_bn``).
"""

from __future__ import annotations

from typing import NamedTuple

from resnet_explorer.plan.names import NAMES
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
    pool: str = "max"  # max | conv (ResNet-RS)
    anti_alias: str = "none"
    names: str = "torchvision"


class HeadSpec(NamedTuple):
    """Everything that decides the head's operations."""

    channels: int
    size: int
    num_classes: int
    final_norm: bool
    norm: str
    activation: str
    dropout: float
    names: str = "torchvision"


def _norm_act(name: str, act_name: str, norm: str, act: str, channels: int, size: int) -> list[Op]:
    return [
        Op(name, "norm", channels, channels, size, size, variant=norm),
        Op(act_name, "act", channels, channels, size, size, variant=act),
    ]


def _stem_convs(spec: StemSpec) -> tuple[list[Op], int]:
    """The stem's convs (with the deep stems' inner norms and activations), and the size out."""
    size, width, act, names = spec.image_size, spec.width, spec.activation, NAMES[spec.names]
    if spec.stem in ("imagenet", "cifar", "simple"):
        kernel, stride = {"imagenet": (7, 2), "cifar": (3, 1), "simple": (3, 2)}[spec.stem]
        out = downsample(size, stride)
        conv = Op(names.stem_conv, "conv", spec.in_channels, width, size, out, kernel, stride)
        return [conv], out
    # timm's deep stems: conv1.0, conv1.1 (norm), conv1.2 (act), conv1.3, ..., conv1.6
    c0, c1, c2 = stem_conv_widths(spec.stem, width)
    out = downsample(size, 2)
    ops = [Op("conv1.0", "conv", spec.in_channels, c0, size, out, 3, 2)]
    for index, (cin, cout) in enumerate(((c0, c1), (c1, c2))):
        base = 1 + 3 * index
        ops += _norm_act(f"conv1.{base}", f"conv1.{base + 1}", spec.norm, act, cin, out)
        ops.append(Op(f"conv1.{base + 2}", "conv", cin, cout, out, out, 3))
    return ops, out


def _stem_pool(spec: StemSpec, size: int) -> list[Op]:
    """The stem's downsampling pool (timm's layouts and names), if the stem has one."""
    if spec.stem in ("cifar", "simple"):
        return []
    c, out, aa = spec.width, downsample(size, 2), spec.anti_alias
    name = NAMES[spec.names].stem_pool
    if spec.pool == "conv":  # ResNet-RS: conv (stride 1 when anti-aliased), [aa], norm, act
        ops = [Op(f"{name}.0", "conv", c, c, size, size if aa != "none" else out, 3,
                  1 if aa != "none" else 2)]  # fmt: skip
        if aa != "none":
            ops.append(Op(f"{name}.1", "aa", c, c, size, out, 2 if aa == "avg" else 3, 2,
                          variant=aa))  # fmt: skip
        k = len(ops)
        return ops + _norm_act(f"{name}.{k}", f"{name}.{k + 1}", spec.norm, spec.activation, c, out)
    if aa == "avg":  # timm: the max-pool becomes AvgPool2d(2)
        return [Op(name, "aa", c, c, size, out, 2, 2, variant="avg")]
    if aa == "blur":  # timm: a stride-1 max-pool, then a blur pool downsamples
        return [
            Op(f"{name}.0", "pool", c, c, size, size, 3, 1, variant="max"),
            Op(f"{name}.1", "aa", c, c, size, out, 3, 2, variant="blur"),
        ]
    return [Op(name, "pool", c, c, size, out, 3, 2, variant="max")]


def stem_ops(spec: StemSpec) -> tuple[Op, ...]:
    """The stem's ops in forward order."""
    names = NAMES[spec.names]
    ops, out = _stem_convs(spec)
    if spec.activated:
        ops += _norm_act(
            names.stem_norm, names.stem_act(spec.activation), spec.norm, spec.activation,
            spec.width, out,
        )  # fmt: skip
    return tuple(ops + _stem_pool(spec, out))


def final_ops(spec: HeadSpec) -> tuple[Op, ...]:
    """The norm and activation after the last stage (the pre-activation head), or ()."""
    if not spec.final_norm:
        return ()
    ops = _norm_act("final_bn", spec.activation, spec.norm, spec.activation, spec.channels,
                    spec.size)  # fmt: skip
    return tuple(ops)


def head_ops(spec: HeadSpec) -> tuple[Op, ...]:
    """Global average pool, flatten, dropout (when set) and the classifier."""
    c, size, names = spec.channels, spec.size, NAMES[spec.names]
    ops = [
        Op(names.head_pool, "global_pool", c, c, size, 1),
        Op(names.head_flatten, "flatten", c, c, 1, 1),
    ]
    if spec.dropout > 0:
        ops.append(Op(names.head_dropout, "dropout", c, c, 1, 1, rate=spec.dropout))
    ops.append(Op(names.head_fc, "linear", c, spec.num_classes, 1, 1, bias=True))
    return tuple(ops)
