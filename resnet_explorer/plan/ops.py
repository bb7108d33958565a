"""The operations a network is made of, and what each one costs: one table, pycls style.

An `Op` is one layer the builder creates (or one function it applies, such as the addition),
with its shapes. `cost(op)` is the single definition of what an op of each kind counts for one
image, in every convention this project reports:

* ``params``: learnable parameters;
* ``macs``: multiply-accumulates of convolutions and linear layers (torchvision's "GFLOPS"), bias
  additions excluded;
* ``fvcore``: what fvcore's ``FlopCountAnalysis`` counts for the op at inference (eval mode): MACs
  for convolutions and linear layers, 2 per element for an affine batch norm, 5 for an affine group
  norm, 1 per input element for the adaptive average pool, and nothing for activations, max/avg
  pooling, padding, additions and products (fvcore skips those);
* ``activations``: fvcore's ``ActivationCountAnalysis`` count (output elements of convolutions
  and linear layers);
* ``outputs``: elements the op writes (every op, for memory estimates);
* ``bias_adds``: additions of a bias (pycls counts them in its "flops").

`label(op)` and `short_label(op)` are the names the diagrams print. The tests check every figure
against fvcore, torchinfo and the built model's parameters.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal, NamedTuple

from resnet_explorer.shapes import norm_groups

OpKind = Literal[
    "conv",
    "norm",
    "act",
    "pool",
    "global_pool",
    "zero_pad",
    "add",
    "mul",
    "drop_path",
    "dropout",
    "flatten",
    "linear",
    "se",
    "eca",
    "conv1d",
    "aa",
]

#: Index in `Op.inputs` of the op sequence's own input (the block's or the network's input).
SEQUENCE_INPUT = -1


class Op(NamedTuple):
    """One operation with its shapes (one image, no batch dimension).

    ``name`` is the module path relative to the sequence's owner (``conv1``, ``downsample.0``;
    functions get a name too, e.g. ``add``). ``inputs`` are indices of earlier ops of the same
    sequence whose outputs feed this op (`SEQUENCE_INPUT` for the sequence's input); empty means
    the op before it. ``variant`` says which norm, activation or pool (``batch``, ``relu``,
    ``max``; a norm of variant ``none`` is an identity); ``hidden`` is a squeeze-excitation's
    reduced width; ``rate`` a dropout probability.
    """

    name: str
    kind: OpKind
    in_channels: int
    out_channels: int
    in_size: int
    out_size: int
    kernel: int = 1
    stride: int = 1
    groups: int = 1
    dilation: int = 1
    bias: bool = False
    variant: str = ""
    inputs: tuple[int, ...] = ()
    shortcut: bool = False
    hidden: int = 0
    rate: float = 0.0

    @property
    def has_module(self) -> bool:
        """Whether the builder creates a module for this op (functions have none)."""
        return self.kind not in ("add", "mul", "flatten")


@dataclass(frozen=True, slots=True)
class Totals:
    """What one op, or a sum of ops, counts for one image; see the module docstring."""

    params: int = 0
    macs: int = 0
    fvcore: int = 0
    activations: int = 0
    outputs: int = 0
    bias_adds: int = 0

    @property
    def flops(self) -> int:
        """FLOPs counting a multiply-add as two (PyTorch's ``FlopCounterMode`` convention)."""
        return 2 * self.macs

    @property
    def pycls_flops(self) -> int:
        """pycls's "flops": MACs plus the bias additions (the classifier's, SE's)."""
        return self.macs + self.bias_adds


ZERO = Totals()

#: fvcore's count per element of an affine norm at inference.
_NORM_FVCORE = {"batch": 2, "group": 5}

Counts = tuple[int, int, int, int, int, int]
"""(params, macs, fvcore, activations, outputs, bias_adds): `Totals` as a plain tuple, which
sums fast (the explorer counts tens of thousands of blocks)."""

_NOTHING: Counts = (0, 0, 0, 0, 0, 0)


def _conv(op: Op) -> Counts:
    weights = op.out_channels * (op.in_channels // op.groups) * op.kernel * op.kernel
    area = op.out_size * op.out_size
    out = op.out_channels * area
    macs = weights * area
    if op.bias:
        return (weights + op.out_channels, macs, macs, out, out, out)
    return (weights, macs, macs, out, out, 0)


def _norm(op: Op) -> Counts:
    if op.variant == "none":  # an identity: the design has no norms
        return _NOTHING
    elements = op.out_channels * op.out_size * op.out_size
    return (2 * op.out_channels, 0, _NORM_FVCORE[op.variant] * elements, 0, elements, 0)


def _elementwise(op: Op) -> Counts:
    return (0, 0, 0, 0, op.out_channels * op.out_size * op.out_size, 0)


def _global_pool(op: Op) -> Counts:
    if op.variant == "mean":  # Tensor.mean (inside squeeze-excitation): fvcore has no counter
        return (0, 0, 0, 0, op.out_channels, 0)
    return (0, 0, op.in_channels * op.in_size * op.in_size, 0, op.out_channels, 0)


def _conv1d(op: Op) -> Counts:
    # ECA's 1-D conv over the pooled channels: length out_size, no bias
    weights = op.out_channels * op.in_channels * op.kernel
    out = op.out_channels * op.out_size
    macs = weights * op.out_size
    return (weights, macs, macs, out, out, 0)


def _anti_alias(op: Op) -> Counts:
    out = op.out_channels * op.out_size * op.out_size
    if op.variant == "blur":  # a fixed depthwise 3x3 conv (no parameters): fvcore counts it
        macs = op.out_channels * op.kernel * op.kernel * op.out_size * op.out_size
        return (0, macs, macs, out, out, 0)
    return (0, 0, 0, 0, out, 0)  # a 2x2 average pool: fvcore skips avg_pool2d


def _linear(op: Op) -> Counts:
    macs, c = op.in_channels * op.out_channels, op.out_channels
    return (macs + c, macs, macs, c, c, c)


def _free(op: Op) -> Counts:
    return _NOTHING


def parts(op: Op) -> tuple[Op, ...]:
    """The ops inside a composite op, in forward order; () for the rest.

    Squeeze-excitation (Hu et al. 2018; timm's SEModule): global mean, 1x1 conv to ``hidden``
    channels (bias), activation, 1x1 conv back (bias), sigmoid gate, channel-wise product.
    ECA (Wang et al. 2020; timm's EcaModule): global mean, a 1-D conv of size ``kernel`` across
    the channels (no bias), sigmoid gate, channel-wise product.
    """
    c, size = op.in_channels, op.in_size
    if op.kind == "eca":
        return (
            Op("pool", "global_pool", c, c, size, 1, variant="mean"),
            Op("conv", "conv1d", 1, 1, c, c, op.kernel),
            Op("gate", "act", c, c, 1, 1, variant="sigmoid"),
            Op("scale", "mul", c, c, size, size, inputs=(-1, 2)),
        )
    if op.kind != "se":
        return ()
    r = op.hidden
    return (
        Op("pool", "global_pool", c, c, size, 1, variant="mean"),
        Op("fc1", "conv", c, r, 1, 1, bias=True),
        Op("act", "act", r, r, 1, 1, variant=op.variant),
        Op("fc2", "conv", r, c, 1, 1, bias=True),
        Op("gate", "act", c, c, 1, 1, variant="sigmoid"),
        Op("scale", "mul", c, c, size, size, inputs=(-1, 4)),
    )


def _composite(op: Op) -> Counts:
    return sum_counts(parts(op))


_COSTS = {
    "conv": _conv,
    "norm": _norm,
    "act": _elementwise,
    "pool": _elementwise,
    "global_pool": _global_pool,
    "zero_pad": _elementwise,
    "add": _elementwise,
    "mul": _elementwise,
    "drop_path": _free,
    "dropout": _free,
    "flatten": _free,
    "linear": _linear,
    "se": _composite,
    "eca": _composite,
    "conv1d": _conv1d,
    "aa": _anti_alias,
}


def sum_counts(ops: Iterable[Op]) -> Counts:
    """The summed counts of ``ops`` as a plain tuple (see `Counts`)."""
    p = m = f = a = o = b = 0
    costs = _COSTS
    for op in ops:
        dp, dm, df, da, do, db = costs[op[1]](op)  # op[1]: the kind
        p += dp
        m += dm
        f += df
        a += da
        o += do
        b += db
    return (p, m, f, a, o, b)


def cost(op: Op) -> Totals:
    """What ``op`` counts for one image (the one definition; see the module docstring)."""
    return Totals(*_COSTS[op.kind](op))


def total(ops: Iterable[Op]) -> Totals:
    """What ``ops`` count together."""
    return Totals(*sum_counts(ops))


# --- names the diagrams print ----------------------------------------------------------------

_ACTIVATION_NAMES = {"relu": "ReLU", "gelu": "GELU", "silu": "SiLU", "sigmoid": "sigmoid"}


def label(op: Op) -> str:
    """What the op is, e.g. ``conv 3x3, 64 -> 128, stride 2`` (block diagrams)."""
    k, s = op.kernel, op.stride
    if op.kind == "conv":
        text = f"conv {k}x{k}, {op.in_channels} -> {op.out_channels}, stride {s}"
        if op.groups > 1:
            text += f", {op.groups} groups"
        if op.dilation > 1:
            text += f", dilation {op.dilation}"
        return text
    if op.kind == "norm":
        if op.variant == "group":
            return f"group norm ({norm_groups(op.out_channels)} groups, {op.out_channels})"
        return f"batch norm ({op.out_channels})"
    if op.kind == "act":
        return _ACTIVATION_NAMES[op.variant]
    if op.kind == "pool":
        return f"{op.variant}-pool {k}x{k}, stride {s}"
    if op.kind == "zero_pad":
        text = f"zero-pad {op.in_channels} -> {op.out_channels} channels"
        return text + (f", subsample /{s}" if s != 1 else "")
    if op.kind == "se":
        return f"squeeze-excitation {op.in_channels} -> {op.hidden} -> {op.in_channels}"
    if op.kind == "eca":
        return f"ECA, 1-D conv k={op.kernel} over {op.in_channels} channels"
    if op.kind == "aa":
        pool = "blur-pool 3x3" if op.variant == "blur" else "avg-pool 2x2"
        return f"anti-alias {pool}, stride {s}"
    return {
        "global_pool": "global avg-pool",
        "add": "+",
        "mul": "x",
        "drop_path": "drop path",
        "dropout": f"dropout p={op.rate:g}",
        "flatten": "flatten",
        "linear": f"fc {op.in_channels} -> {op.out_channels}",
        "conv1d": f"conv1d k={op.kernel}",
    }[op.kind]


def short_label(op: Op) -> str:
    """Compact label for one-line summaries (the stem and head of the collapsed network)."""
    k, s = op.kernel, op.stride
    if op.kind == "conv":
        step = f"/{s}" if s != 1 else ""
        return f"conv {k}x{k}{step}, {op.in_channels} -> {op.out_channels}"
    if op.kind == "pool":
        return f"{op.variant}-pool {k}x{k}/{s}"
    if op.kind == "norm":
        return "GN" if op.variant == "group" else "BN"
    if op.kind == "aa":
        return f"{'blur' if op.variant == 'blur' else 'avg'}-pool /{s}"
    return label(op)
