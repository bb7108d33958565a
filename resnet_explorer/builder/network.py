"""The whole network, built from its plan: stem, stages of residual blocks, head."""

from __future__ import annotations

import contextlib
from collections import OrderedDict

import torch
from torch import nn

from resnet_explorer.builder.blocks import ResidualBlock
from resnet_explorer.builder.sequence import install, run
from resnet_explorer.design import Design
from resnet_explorer.limits import Limits, check_limits
from resnet_explorer.plan import plan


class ResNet(nn.Module):
    """A ResNet-family network built from a `Design` (see `build_model`)."""

    def __init__(self, design: Design) -> None:
        super().__init__()
        self.design = design
        layout = plan(design)
        self._stem = install(self, layout.stem)
        for stage in layout.stages:
            blocks = OrderedDict((b.module_name, ResidualBlock(b)) for b in stage.blocks)
            self.add_module(stage.name, nn.Sequential(blocks))
        self._stage_names = tuple(stage.name for stage in layout.stages)
        self._final = install(self, layout.final)
        self._head = install(self, layout.head)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """Stem and stages: the feature map before the head."""
        x = run(self, self._stem, x)
        for name in self._stage_names:
            x = getattr(self, name)(x)
        return run(self, self._final, x)

    def forward_head(self, x: torch.Tensor) -> torch.Tensor:
        return run(self, self._head, x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_head(self.forward_features(x))


def _initialize(model: ResNet, design: Design) -> None:
    if design.init != "torch_default":
        for module in model.modules():
            if isinstance(module, nn.Conv2d):
                if design.init == "xavier":
                    nn.init.xavier_normal_(module.weight)
                else:
                    mode = "fan_out" if design.init == "kaiming_fan_out" else "fan_in"
                    nn.init.kaiming_normal_(module.weight, mode=mode, nonlinearity="relu")
            elif isinstance(module, (nn.BatchNorm2d, nn.GroupNorm)):
                nn.init.ones_(module.weight)
                nn.init.zeros_(module.bias)
    if design.zero_init_residual:
        for module in model.modules():
            if isinstance(module, ResidualBlock):
                module.zero_init_last_norm()


def build_model(
    design: Design,
    *,
    seed: int | None = None,
    limits: Limits | None = None,
    device: torch.device | str | None = None,
) -> ResNet:
    """Build the network ``design`` describes.

    The design is checked against ``limits`` (parameters, activation memory) before anything is
    allocated; a design over a cap raises `DesignTooLarge`. On the meta device (shapes only) the
    weights are not initialised. With ``seed`` the weights are the same
    on every call and on every device (they are drawn on the CPU, then moved).
    """
    if not isinstance(design, Design):
        raise TypeError(f"build_model needs a Design, got {type(design).__name__}")
    check_limits(design, limits)
    target = torch.device(device) if device is not None else None
    # A CUDA generator draws other numbers than the CPU's for the same seed: seeded weights are
    # drawn on the CPU and moved, so a seed gives the same network on every device.
    build_on = target
    if seed is not None and target is not None and target.type not in ("cpu", "meta"):
        build_on = torch.device("cpu")
    rng = torch.random.fork_rng(devices=[]) if seed is not None else contextlib.nullcontext()
    with rng:
        if seed is not None:
            torch.manual_seed(seed)
        with build_on if build_on is not None else contextlib.nullcontext():
            model = ResNet(design)
            if build_on is None or build_on.type != "meta":  # meta tensors hold no values
                _initialize(model, design)
    return model.to(target) if build_on != target else model
