"""The operations of one residual block, in the order the block runs them.

This is the one definition of a block: which convs a basic or bottleneck block has, where each
activation order (He et al. 2016, Fig. 4) puts its norms and activations, where channel
attention (squeeze-excitation, ECA) and anti-aliased downsampling go, what each shortcut option
is, and which op a zero-initialised branch zeroes. The builder builds a block from `block_ops`,
the counts sum its parts, the diagrams label the traced block with them.

``bnK`` is the norm that belongs to ``convK``: after it in the post-activation orders, before
it in full pre-activation; with ``bn_after_add`` the last ``bnK`` normalizes the sum. Module
names follow the design's naming scheme (`plan.names`).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Literal, NamedTuple

from resnet_explorer.plan.names import NAMES
from resnet_explorer.plan.ops import SEQUENCE_INPUT, Counts, Op, sum_counts
from resnet_explorer.shapes import downsample

ShortcutKind = Literal["identity", "zero_pad", "projection", "avgpool_projection", "none"]

#: What each shortcut option gives a block whose shape changes (option C projects everywhere).
SHAPE_CHANGE_SHORTCUTS: dict[str, ShortcutKind] = {
    "A": "zero_pad",
    "B": "projection",
    "C": "projection",
    "D": "avgpool_projection",
}


def shortcut_kind(option: str, shape_changes: bool) -> ShortcutKind:
    """Which shortcut a block gets under shortcut ``option`` (A, B, C, D or none)."""
    if option == "none":
        return "none"
    if option == "C" or shape_changes:
        return SHAPE_CHANGE_SHORTCUTS[option]
    return "identity"


class BlockSpec(NamedTuple):
    """Everything that decides a block's operations (not where it sits, nor its drop rate).

    Blocks with equal specs have equal ops and costs: a 1,000-block stage has two specs.
    ``attention_at`` is ``end`` (the branch's end: SE-ResNet, ECA) or ``mid`` (after the
    bottleneck's 3x3: RegNetY); ``attention_width`` is a squeeze-excitation's reduced width or
    ECA's kernel size.
    """

    block: str  # basic | bottleneck
    in_channels: int
    mid_channels: int
    out_channels: int
    groups: int
    stride: int
    in_size: int
    out_size: int
    shortcut: ShortcutKind
    order: str
    norm: str
    activation: str
    stride_on: str
    drop_path: bool
    dilation: int = 1
    first_dilation: int = 1
    attention: str = "none"  # none | se | eca
    attention_at: str = "end"
    attention_width: int = 0
    anti_alias: str = "none"  # none | avg | blur
    names: str = "torchvision"


class Part(NamedTuple):
    """A run of a block's ops (one conv with its norm and activation, the attention, the
    shortcut, or what follows the branch) with its summed counts."""

    ops: tuple[Op, ...]
    counts: Counts


class ConvShape(NamedTuple):
    """One conv of the residual branch; ``anti_alias``: the pool that takes over its stride."""

    in_channels: int
    out_channels: int
    in_size: int
    out_size: int
    kernel: int
    stride: int
    groups: int
    dilation: int
    anti_alias: str = "none"


def branch_convs(spec: BlockSpec) -> tuple[ConvShape, ...]:
    """The residual branch's convs in forward order (``conv1``, ``conv2``[, ``conv3``]).

    With anti-aliasing (timm's ``aa_layer``) the strided conv runs at stride 1 and a pool after
    it downsamples; the first 3x3 keeps the dilation before the stage (``first_dilation``).
    """
    cin, mid, cout, stride = spec.in_channels, spec.mid_channels, spec.out_channels, spec.stride
    size, out, dil, first_dil = spec.in_size, spec.out_size, spec.dilation, spec.first_dilation
    aa = spec.anti_alias if stride != 1 else "none"
    conv_stride = 1 if aa != "none" else stride
    if spec.block == "basic":
        after = size if aa != "none" else out
        return (
            ConvShape(cin, mid, size, after, 3, conv_stride, 1, first_dil, aa),
            ConvShape(mid, cout, out, out, 3, 1, 1, dil),
        )
    if spec.stride_on == "1x1":  # the paper's placement: the first 1x1 strides
        after = size if aa != "none" else out
        return (
            ConvShape(cin, mid, size, after, 1, conv_stride, 1, 1, aa),
            ConvShape(mid, mid, out, out, 3, 1, spec.groups, first_dil),
            ConvShape(mid, cout, out, out, 1, 1, 1, 1),
        )
    after = size if aa != "none" else out
    return (
        ConvShape(cin, mid, size, size, 1, 1, 1, 1),
        ConvShape(mid, mid, size, after, 3, conv_stride, spec.groups, first_dil, aa),
        ConvShape(mid, cout, out, out, 1, 1, 1, 1),
    )


def _anti_alias(name: str, kind: str, channels: int, size: int) -> Op:
    kernel = 2 if kind == "avg" else 3  # timm: AvgPool2d(2); BlurPool2d(filt_size=3)
    return Op(name, "aa", channels, channels, size, downsample(size, 2), kernel, 2, variant=kind)


def conv_unit(
    order: str, norm: str, act: str, k: int, last: bool, conv: ConvShape, names: str
) -> Part:
    """Conv ``k`` of the branch with the norm and activation that belong to it, placed as the
    activation order says, then the anti-aliasing pool that takes over its stride. A norm of
    the design's norm 'none' stays (an identity, costing nothing) so that module names hold."""
    n = NAMES[names]
    cin, cout, size_in, size_out = conv.in_channels, conv.out_channels, conv.in_size, conv.out_size
    op = Op(
        n.conv(k), "conv", cin, cout, size_in, size_out, conv.kernel, conv.stride, conv.groups,
        conv.dilation,
    )  # fmt: skip
    act_name = n.act(k, act)
    if order == "full_preact":
        ops = [
            Op(n.norm(k), "norm", cin, cin, size_in, size_in, variant=norm),
            Op(act_name, "act", cin, cin, size_in, size_in, variant=act),
            op,
        ]
    elif order == "relu_only_preact":
        ops = [
            Op(act_name, "act", cin, cin, size_in, size_in, variant=act),
            op,
            Op(n.norm(k), "norm", cout, cout, size_out, size_out, variant=norm),
        ]
    else:
        ops = [op]
        if not last or order != "bn_after_add":
            ops.append(Op(n.norm(k), "norm", cout, cout, size_out, size_out, variant=norm))
        if not last or order == "relu_before_add":
            ops.append(Op(act_name, "act", cout, cout, size_out, size_out, variant=act))
    if conv.anti_alias != "none":
        ops.append(_anti_alias("aa", conv.anti_alias, cout, size_out))
    return Part(tuple(ops), sum_counts(ops))


def attention_part(spec: BlockSpec, channels: int, size: int) -> Part:
    """The block's channel attention (module ``se``, as timm names it), or none."""
    if spec.attention == "none":
        return _NO_OPS
    if spec.attention == "se":
        op = Op("se", "se", channels, channels, size, size, variant=spec.activation,
                hidden=spec.attention_width)  # fmt: skip
    else:
        op = Op("se", "eca", channels, channels, size, size, spec.attention_width)
    return Part((op,), sum_counts((op,)))


def zero_init_op(spec: BlockSpec) -> str:
    """Name of the op a zero-initialised branch zeroes (Goyal et al. 2017): the norm that belongs
    to the last conv inside the branch (``bn{n-1}`` with BN after the addition, since ``bn{n}``
    normalizes the sum), or the last conv when the design has no norms."""
    n, names = (2 if spec.block == "basic" else 3), NAMES[spec.names]
    if spec.norm == "none":
        return names.conv(n)
    return names.norm(n - 1) if spec.order == "bn_after_add" else names.norm(n)


_NO_OPS = Part((), (0, 0, 0, 0, 0, 0))


def shortcut_part(
    kind: str, cin: int, cout: int, size: int, out: int, stride: int, norm: str, preact: bool,
    names: str,
) -> Part:  # fmt: skip
    """The ops of a zero-pad or projection shortcut (``downsample``). Pre-activation blocks
    project the already normalized input: conv only. (Identity and plain blocks have none.)"""
    ops: tuple[Op, ...] = ()
    if kind == "zero_pad":
        ops = (Op("downsample", "zero_pad", cin, cout, size, out, 1, stride, shortcut=True),)
    elif kind in ("projection", "avgpool_projection"):
        pool_name, conv_name, norm_name = NAMES[names].shortcut(kind)
        if kind == "avgpool_projection":
            if stride != 1:  # the pool slot stays empty (an identity) when not strided
                ops = (Op(pool_name, "pool", cin, cin, size, out, 2, stride, variant="avg",
                          shortcut=True),)  # fmt: skip
            ops += (Op(conv_name, "conv", cin, cout, out, out, shortcut=True),)
        else:
            ops = (Op(conv_name, "conv", cin, cout, size, out, 1, stride, shortcut=True),)
        if not preact:
            ops += (Op(norm_name, "norm", cout, cout, out, out, variant=norm, shortcut=True),)
    return Part(ops, sum_counts(ops))


def merge_part(
    order: str, norm: str, act: str, n: int, cout: int, out: int, residual: bool, drop: bool,
    names: str,
) -> Part:  # fmt: skip
    """What follows the branch: drop path, the addition (``residual``: the block has a
    shortcut), then ``bn_after_add``'s norm and the post-activation."""
    scheme = NAMES[names]
    ops: list[Op] = []
    if drop:
        ops.append(Op("drop_path", "drop_path", cout, cout, out, out))
    if residual:
        ops.append(Op("add", "add", cout, cout, out, out))
    if order == "bn_after_add":
        ops.append(Op(scheme.norm(n), "norm", cout, cout, out, out, variant=norm))
    if order in ("original", "bn_after_add"):
        ops.append(Op(scheme.post_act(act), "act", cout, cout, out, out, variant=act))
    return Part(tuple(ops), sum_counts(ops))


def block_parts(spec: BlockSpec) -> tuple[Part, ...]:
    """The block's parts in forward order: the branch's conv units with the attention where
    it goes, the shortcut, the merge. This is the one definition of a block; `block_ops` joins
    the parts and `block_counts` sums them."""
    order, norm, act, names = spec.order, spec.norm, spec.activation, spec.names
    convs = branch_convs(spec)
    n = len(convs)
    units = [conv_unit(order, norm, act, k, k == n, c, names) for k, c in enumerate(convs, 1)]
    if spec.attention_at == "mid":  # RegNetY: after the bottleneck's 3x3 (and its norm, act)
        units.insert(2, attention_part(spec, spec.mid_channels, spec.out_size))
    else:  # SE-ResNet, ECA: on the branch's output, before the addition
        units.append(attention_part(spec, spec.out_channels, spec.out_size))
    shortcut = _NO_OPS
    if spec.shortcut not in ("identity", "none"):
        shortcut = shortcut_part(
            spec.shortcut, spec.in_channels, spec.out_channels, spec.in_size, spec.out_size,
            spec.stride, norm, order == "full_preact", names,
        )  # fmt: skip
    merge = merge_part(
        order, norm, act, n, spec.out_channels, spec.out_size, spec.shortcut != "none",
        spec.drop_path, names,
    )  # fmt: skip
    return (*units, shortcut, merge)


def block_counts(spec: BlockSpec) -> Counts:
    """The block's summed counts (its parts')."""
    p = m = f = a = o = b = 0
    for part in block_parts(spec):
        dp, dm, df, da, do, db = part.counts
        p, m, f, a, o, b = p + dp, m + dm, f + df, a + da, o + do, b + db
    return (p, m, f, a, o, b)


@lru_cache(maxsize=4096)
def block_ops(spec: BlockSpec) -> tuple[Op, ...]:
    """The block's ops in forward order, with their data flow: the residual branch, the
    shortcut (fed the block input, or in full pre-activation the normalized, activated input
    when it has ops), the addition of the two, and what follows it."""
    *units, shortcut, merge = block_parts(spec)
    ops = [op for unit in units for op in unit.ops]
    after = list(merge.ops)
    if after and after[0].kind == "drop_path":
        ops.append(after.pop(0))  # on the branch, before the shortcut runs
    branch_end = len(ops) - 1
    tap = 1 if spec.order == "full_preact" else SEQUENCE_INPUT  # unit 1: bn1, act, conv1
    if shortcut.ops:
        ops.append(shortcut.ops[0]._replace(inputs=(tap,)))
        ops += shortcut.ops[1:]
    for op in after:
        if op.kind == "add":
            identity = len(ops) - 1 if shortcut.ops else SEQUENCE_INPUT
            op = op._replace(inputs=(branch_end, identity))
        ops.append(op)
    return tuple(ops)
