"""Residual blocks: basic and bottleneck, every shortcut option and activation order.

Module names follow torchvision (``conv1``, ``bn1``, ..., ``downsample.0/1``) and, for the
average-pool shortcut, timm (``downsample.0`` pool, ``.1`` conv, ``.2`` norm), so their
checkpoints load with ``strict=True``. ``bnK`` is the norm that belongs to ``convK``: after it in
the post-activation orders, before it in full pre-activation. With ``bn_after_add`` the last
``bnK`` normalizes the sum.
"""

from __future__ import annotations

import torch
from torch import nn

from resnet_explorer.builder.layers import (
    DropPath,
    ZeroPadShortcut,
    conv1x1,
    conv3x3,
    make_activation,
    make_norm,
)
from resnet_explorer.design import Design
from resnet_explorer.plan import BlockPlan


class ResidualBlock(nn.Module):
    """One block: ``y = post(F(x) + shortcut(x))``, the ops of F and post set by the design."""

    def __init__(self, design: Design, block: BlockPlan) -> None:
        super().__init__()
        self.order = design.activation_order
        self.shortcut_kind = block.shortcut
        self.has_shortcut = block.shortcut != "none"
        preact = self.order == "full_preact"
        convs = _conv_specs(design, block)
        self.num_convs = len(convs)
        for k, (conv, in_ch, out_ch) in enumerate(convs, start=1):
            setattr(self, f"conv{k}", conv)
            setattr(self, f"bn{k}", make_norm(design.norm, in_ch if preact else out_ch))
        setattr(self, design.activation, make_activation(design.activation))  # e.g. self.relu
        self.act_name = design.activation
        self.downsample = _shortcut(design, block)
        self.drop_path = DropPath(block.drop_path) if block.drop_path > 0 else None

    def _act(self, x: torch.Tensor) -> torch.Tensor:
        return getattr(self, self.act_name)(x)

    def _conv(self, k: int) -> nn.Module:
        return getattr(self, f"conv{k}")

    def _norm(self, k: int) -> nn.Module:
        return getattr(self, f"bn{k}")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n = self.num_convs
        shortcut_in = x
        if self.order == "full_preact":
            out = self._act(self._norm(1)(x))
            if self.downsample is not None:
                shortcut_in = out  # projections see the pre-activated input
            out = self._conv(1)(out)
            for k in range(2, n + 1):
                out = self._conv(k)(self._act(self._norm(k)(out)))
        elif self.order == "relu_only_preact":
            out = x
            for k in range(1, n + 1):
                out = self._norm(k)(self._conv(k)(self._act(out)))
        else:
            out = x
            for k in range(1, n):
                out = self._act(self._norm(k)(self._conv(k)(out)))
            out = self._conv(n)(out)
            if self.order != "bn_after_add":
                out = self._norm(n)(out)
            if self.order == "relu_before_add":
                out = self._act(out)
        if self.drop_path is not None:
            out = self.drop_path(out)
        if self.has_shortcut:
            identity = shortcut_in if self.downsample is None else self.downsample(shortcut_in)
            out = out + identity
        if self.order == "bn_after_add":
            out = self._norm(n)(out)
        if self.order in ("original", "bn_after_add"):
            out = self._act(out)
        return out

    def zero_init_last_norm(self) -> None:
        """Make the residual branch output zero at init (Goyal et al. 2017)."""
        last = self.num_convs - 1 if self.order == "bn_after_add" else self.num_convs
        norm = self._norm(last)
        if isinstance(norm, (nn.BatchNorm2d, nn.GroupNorm)):
            nn.init.zeros_(norm.weight)
            nn.init.zeros_(norm.bias)
        else:
            nn.init.zeros_(self._conv(self.num_convs).weight)


def _conv_specs(design: Design, block: BlockPlan) -> list[tuple[nn.Conv2d, int, int]]:
    """The branch's convs with their in/out channels, in forward order."""
    cin, mid, cout, stride = block.in_channels, block.mid_channels, block.out_channels, block.stride
    if block.block == "basic":
        return [(conv3x3(cin, mid, stride), cin, mid), (conv3x3(mid, cout), mid, cout)]
    first_stride, mid_stride = (1, stride) if design.stride_on == "3x3" else (stride, 1)
    return [
        (conv1x1(cin, mid, first_stride), cin, mid),
        (conv3x3(mid, mid, mid_stride, groups=design.groups), mid, mid),
        (conv1x1(mid, cout), mid, cout),
    ]


def _shortcut(design: Design, block: BlockPlan) -> nn.Module | None:
    """The shortcut module (``downsample``), or None for identity and plain blocks."""
    kind = block.shortcut
    cin, cout, stride = block.in_channels, block.out_channels, block.stride
    if kind in ("identity", "none"):
        return None
    if kind == "zero_pad":
        return ZeroPadShortcut(cin, cout, stride)
    # Pre-activation blocks project the already normalized input: conv only.
    norm = [] if design.activation_order == "full_preact" else [make_norm(design.norm, cout)]
    if kind == "projection":
        return nn.Sequential(conv1x1(cin, cout, stride), *norm)
    pool: nn.Module = (
        nn.AvgPool2d(2, stride, ceil_mode=True, count_include_pad=False)
        if stride != 1
        else nn.Identity()
    )
    return nn.Sequential(pool, conv1x1(cin, cout), *norm)
