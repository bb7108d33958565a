"""Residual blocks, built from their plan (`plan.block.block_ops`): every block type, shortcut
option and activation order is the plan's; this module only creates and runs its ops."""

from __future__ import annotations

import torch
from torch import nn

from resnet_explorer.builder.sequence import install, run
from resnet_explorer.plan import BlockPlan
from resnet_explorer.plan.block import zero_init_op


class ResidualBlock(nn.Module):
    """One block: ``y = post(F(x) + shortcut(x))``, the ops of F and post set by the design.

    ``downsample`` is the shortcut module (None for identity and plain blocks), as in
    torchvision.
    """

    def __init__(self, block: BlockPlan) -> None:
        super().__init__()
        self.plan = block
        self.add_module("downsample", None)  # replaced by the shortcut's ops, where it has any
        self._steps = install(self, block.ops, drop_rate=block.drop_path)

    @property
    def order(self) -> str:
        """The design's activation order."""
        return self.plan.spec.order

    @property
    def shortcut_kind(self) -> str:
        return self.plan.shortcut

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return run(self, self._steps, x)

    def zero_init_last_norm(self) -> None:
        """Make the residual branch output zero at init (Goyal et al. 2017): zero the op the
        plan names (`plan.block.zero_init_op`: the branch's last norm, or its last conv)."""
        module = self.get_submodule(zero_init_op(self.plan.spec))
        nn.init.zeros_(module.weight)
        if isinstance(module, (nn.BatchNorm2d, nn.GroupNorm)):
            nn.init.zeros_(module.bias)
