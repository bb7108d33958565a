"""The operations of one residual block, in the order the block runs them.

This is the one definition of a block: which convs a basic or bottleneck block has, where each
activation order (He et al. 2016, Fig. 4) puts its norms and activations, what each shortcut
option is, and which op a zero-initialised branch zeroes. The builder builds a block from
`block_ops`, the counts sum its ops, the diagrams label the traced block with them.

Module names follow torchvision (``conv1``, ``bn1``, ..., ``downsample.0/1``) and, for the
average-pool shortcut, timm (``downsample.0`` pool, ``.1`` conv, ``.2`` norm), so their
checkpoints load with ``strict=True``. ``bnK`` is the norm that belongs to ``convK``: after it in
the post-activation orders, before it in full pre-activation. With ``bn_after_add`` the last
``bnK`` normalizes the sum.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Literal, NamedTuple

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


class Part(NamedTuple):
    """A run of a block's ops (one conv with its norm and activation, the shortcut, or what
    follows the branch) with its summed counts."""

    ops: tuple[Op, ...]
    counts: Counts


class ConvShape(NamedTuple):
    """One conv of the residual branch."""

    in_channels: int
    out_channels: int
    in_size: int
    out_size: int
    kernel: int
    stride: int
    groups: int


def branch_convs(spec: BlockSpec) -> tuple[ConvShape, ...]:
    """The residual branch's convs in forward order (``conv1``, ``conv2``[, ``conv3``])."""
    cin, mid, cout, stride = spec.in_channels, spec.mid_channels, spec.out_channels, spec.stride
    size, out = spec.in_size, spec.out_size
    if spec.block == "basic":
        return (
            ConvShape(cin, mid, size, out, 3, stride, 1),
            ConvShape(mid, cout, out, out, 3, 1, 1),
        )
    first = stride if spec.stride_on == "1x1" else 1
    after_first = downsample(size, first)
    return (
        ConvShape(cin, mid, size, after_first, 1, first, 1),
        ConvShape(mid, mid, after_first, out, 3, stride // first, spec.groups),
        ConvShape(mid, cout, out, out, 1, 1, 1),
    )


def conv_unit(order: str, norm: str, act: str, k: int, last: bool, conv: ConvShape) -> Part:
    """Conv ``k`` of the branch with the norm and activation that belong to it, placed as the
    activation order says (He et al. 2016, Fig. 4). A norm of the design's norm 'none' stays
    (an identity, costing nothing) so that the module names stay torchvision's."""
    cin, cout, size_in, size_out = conv.in_channels, conv.out_channels, conv.in_size, conv.out_size
    op = Op(f"conv{k}", "conv", cin, cout, size_in, size_out, conv.kernel, conv.stride, conv.groups)
    if order == "full_preact":
        ops = (
            Op(f"bn{k}", "norm", cin, cin, size_in, size_in, variant=norm),
            Op(act, "act", cin, cin, size_in, size_in, variant=act),
            op,
        )
    elif order == "relu_only_preact":
        ops = (
            Op(act, "act", cin, cin, size_in, size_in, variant=act),
            op,
            Op(f"bn{k}", "norm", cout, cout, size_out, size_out, variant=norm),
        )
    else:
        post = [op]
        if not last or order != "bn_after_add":
            post.append(Op(f"bn{k}", "norm", cout, cout, size_out, size_out, variant=norm))
        if not last or order == "relu_before_add":
            post.append(Op(act, "act", cout, cout, size_out, size_out, variant=act))
        ops = tuple(post)
    return Part(ops, sum_counts(ops))


def zero_init_op(spec: BlockSpec) -> str:
    """Name of the op a zero-initialised branch zeroes (Goyal et al. 2017): the norm that belongs
    to the last conv inside the branch (``bn{n-1}`` with BN after the addition, since ``bn{n}``
    normalizes the sum), or the last conv when the design has no norms."""
    n = 2 if spec.block == "basic" else 3
    if spec.norm == "none":
        return f"conv{n}"
    return f"bn{n - 1}" if spec.order == "bn_after_add" else f"bn{n}"


_NO_OPS = Part((), (0, 0, 0, 0, 0, 0))


def shortcut_part(
    kind: str, cin: int, cout: int, size: int, out: int, stride: int, norm: str, preact: bool
) -> Part:
    """The ops of a zero-pad or projection shortcut (``downsample``). Pre-activation blocks
    project the already normalized input: conv only. (Identity and plain blocks have none.)"""
    ops: tuple[Op, ...] = ()
    if kind == "zero_pad":
        ops = (Op("downsample", "zero_pad", cin, cout, size, out, 1, stride, shortcut=True),)
    elif kind in ("projection", "avgpool_projection"):
        index = 0
        if kind == "avgpool_projection":
            # timm's layout: downsample.0 is the pool (an identity when not strided), .1 the conv
            index = 1
            if stride != 1:
                ops = (
                    Op(
                        "downsample.0",
                        "pool",
                        cin,
                        cin,
                        size,
                        out,
                        2,
                        stride,
                        variant="avg",
                        shortcut=True,
                    ),
                )
            conv = Op("downsample.1", "conv", cin, cout, out, out, shortcut=True)
        else:
            conv = Op("downsample.0", "conv", cin, cout, size, out, 1, stride, shortcut=True)
        ops += (conv,)
        if not preact:
            ops += (
                Op(
                    f"downsample.{index + 1}",
                    "norm",
                    cout,
                    cout,
                    out,
                    out,
                    variant=norm,
                    shortcut=True,
                ),
            )
    return Part(ops, sum_counts(ops))


def merge_part(
    order: str, norm: str, act: str, n: int, cout: int, out: int, residual: bool, drop: bool
) -> Part:
    """What follows the branch: drop path, the addition (``residual``: the block has a
    shortcut), then ``bn_after_add``'s norm and the post-activation."""
    ops: list[Op] = []
    if drop:
        ops.append(Op("drop_path", "drop_path", cout, cout, out, out))
    if residual:
        ops.append(Op("add", "add", cout, cout, out, out))
    if order == "bn_after_add":
        ops.append(Op(f"bn{n}", "norm", cout, cout, out, out, variant=norm))
    if order in ("original", "bn_after_add"):
        ops.append(Op(act, "act", cout, cout, out, out, variant=act))
    return Part(tuple(ops), sum_counts(ops))


def block_parts(spec: BlockSpec) -> tuple[Part, ...]:
    """The block's parts in forward order: the branch's conv units, the shortcut, the merge.
    This is the one definition of a block; `block_ops` joins the parts."""
    order, norm, act = spec.order, spec.norm, spec.activation
    convs = branch_convs(spec)
    n = len(convs)
    units = tuple(conv_unit(order, norm, act, k, k == n, c) for k, c in enumerate(convs, 1))
    shortcut = _NO_OPS if spec.shortcut in ("identity", "none") else shortcut_part(
        spec.shortcut, spec.in_channels, spec.out_channels, spec.in_size, spec.out_size,
        spec.stride, norm, order == "full_preact",
    )  # fmt: skip
    merge = merge_part(
        order, norm, act, n, spec.out_channels, spec.out_size, spec.shortcut != "none",
        spec.drop_path,
    )  # fmt: skip
    return (*units, shortcut, merge)


def block_counts(spec: BlockSpec) -> Counts:
    """The block's summed counts (its parts', each counted once)."""
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
