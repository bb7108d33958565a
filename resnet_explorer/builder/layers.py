"""The module each kind of planned op becomes, and the few layers torch does not have."""

from __future__ import annotations

import operator
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from resnet_explorer.plan.ops import Op
from resnet_explorer.shapes import norm_groups


def make_norm(kind: str, channels: int) -> nn.Module:
    """Batch norm, group norm (`norm_groups` groups), or nothing (an identity)."""
    if kind == "batch":
        return nn.BatchNorm2d(channels)
    if kind == "group":
        return nn.GroupNorm(norm_groups(channels), channels)
    return nn.Identity()


_ACTIVATIONS: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU,
    "gelu": nn.GELU,
    "silu": nn.SiLU,
    "sigmoid": nn.Sigmoid,
}


def make_activation(kind: str) -> nn.Module:
    """The activation function ``kind`` (never in-place: block inputs are reused)."""
    return _ACTIVATIONS[kind]()


class ZeroPadShortcut(nn.Module):
    """Option A: subsample spatially by ``stride`` and append zero channels. No parameters."""

    def __init__(self, in_channels: int, out_channels: int, stride: int) -> None:
        super().__init__()
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.stride = stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.stride != 1:
            x = x[:, :, :: self.stride, :: self.stride]
        return F.pad(x, (0, 0, 0, 0, 0, self.out_channels - self.in_channels))

    def extra_repr(self) -> str:
        return f"{self.in_channels}, {self.out_channels}, stride={self.stride}"


class DropPath(nn.Module):
    """Stochastic depth: drop the whole residual branch of a sample with probability ``p``."""

    def __init__(self, p: float) -> None:
        super().__init__()
        self.p = p

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0.0:
            return x
        keep = 1.0 - self.p
        mask = x.new_empty((x.shape[0], 1, 1, 1)).bernoulli_(keep)
        return x * mask / keep

    def extra_repr(self) -> str:
        return f"p={self.p:.4f}"


class SqueezeExcite(nn.Module):
    """Squeeze-excitation (Hu et al. 2018) with timm's module names (``fc1``, ``fc2``)."""

    def __init__(self, channels: int, hidden: int, activation: str) -> None:
        super().__init__()
        self.fc1 = nn.Conv2d(channels, hidden, 1, bias=True)
        self.act = make_activation(activation)
        self.fc2 = nn.Conv2d(hidden, channels, 1, bias=True)
        self.gate = make_activation("sigmoid")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        scale = self.fc2(self.act(self.fc1(x.mean((2, 3), keepdim=True))))
        return x * self.gate(scale)


class EfficientChannelAttention(nn.Module):
    """ECA (Wang et al. 2020) with timm's module names (``conv``): a 1-D conv of size
    ``kernel`` across the pooled channels gates them."""

    def __init__(self, kernel: int) -> None:
        super().__init__()
        self.conv = nn.Conv1d(1, 1, kernel, padding=(kernel - 1) // 2, bias=False)
        self.gate = make_activation("sigmoid")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        scale = self.conv(x.mean((2, 3)).view(x.shape[0], 1, -1))
        return x * self.gate(scale).view(x.shape[0], -1, 1, 1)


class BlurPool2d(nn.Module):
    """Anti-aliased downsampling (Zhang 2019), as timm's ``BlurPool2d``: reflect-pad, then a
    fixed 3x3 binomial filter per channel at stride ``stride`` (the filter is not a parameter
    and not saved in the state dict)."""

    def __init__(self, channels: int, stride: int = 2) -> None:
        super().__init__()
        self.channels, self.stride = channels, stride
        coeffs = torch.tensor([1.0, 2.0, 1.0]) / 4.0
        kernel = (coeffs[:, None] * coeffs[None, :])[None, None].repeat(channels, 1, 1, 1)
        self.register_buffer("filt", kernel, persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.pad(x, (1, 1, 1, 1), mode="reflect")
        return F.conv2d(x, self.filt, stride=self.stride, groups=self.channels)

    def extra_repr(self) -> str:
        return f"{self.channels}, stride={self.stride}"


def _anti_alias(op: Op) -> nn.Module:
    if op.variant == "blur":
        return BlurPool2d(op.out_channels, op.stride)
    return nn.AvgPool2d(op.kernel, op.stride)  # timm: AvgPool2d(2), floor mode


def _conv(op: Op) -> nn.Module:
    padding = op.dilation * (op.kernel - 1) // 2  # 'same' for odd kernels
    return nn.Conv2d(
        op.in_channels,
        op.out_channels,
        op.kernel,
        stride=op.stride,
        padding=padding,
        dilation=op.dilation,
        groups=op.groups,
        bias=op.bias,
    )


def _pool(op: Op) -> nn.Module:
    if op.variant == "max":  # 3x3, stride 2 (or 1 before a blur pool), padding 1
        return nn.MaxPool2d(op.kernel, op.stride, padding=op.kernel // 2)
    # the average-pool shortcut (ResNet-D): 2x2, ceil mode, padding not counted
    return nn.AvgPool2d(op.kernel, op.stride, ceil_mode=True, count_include_pad=False)


_FACTORIES: dict[str, Callable[[Op], nn.Module]] = {
    "conv": _conv,
    "norm": lambda op: make_norm(op.variant, op.out_channels),
    "act": lambda op: make_activation(op.variant),
    "pool": _pool,
    "global_pool": lambda op: nn.AdaptiveAvgPool2d((1, 1)),
    "zero_pad": lambda op: ZeroPadShortcut(op.in_channels, op.out_channels, op.stride),
    "dropout": lambda op: nn.Dropout(op.rate),
    "linear": lambda op: nn.Linear(op.in_channels, op.out_channels, bias=op.bias),
    "se": lambda op: SqueezeExcite(op.in_channels, op.hidden, op.variant),
    "eca": lambda op: EfficientChannelAttention(op.kernel),
    "aa": _anti_alias,
}

#: Modules that are one planned op each (traces keep them whole, as the plan lists them).
PLANNED_LEAVES: tuple[type[nn.Module], ...] = (
    ZeroPadShortcut,
    DropPath,
    SqueezeExcite,
    EfficientChannelAttention,
    BlurPool2d,
)

#: What the ops without a module do.
FUNCTIONS: dict[str, Callable[..., torch.Tensor]] = {
    "add": operator.add,
    "mul": operator.mul,
    "flatten": lambda x: torch.flatten(x, 1),
}


def make_module(op: Op, *, drop_rate: float = 0.0) -> nn.Module:
    """The module ``op`` becomes (``drop_rate``: the block's stochastic-depth rate)."""
    if op.kind == "drop_path":
        return DropPath(drop_rate)
    return _FACTORIES[op.kind](op)
