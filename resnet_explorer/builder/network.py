"""The whole network: stem, stages of residual blocks, head; and `build_model`."""

from __future__ import annotations

import contextlib

import torch
from torch import nn

from resnet_explorer.builder.blocks import ResidualBlock
from resnet_explorer.builder.layers import conv3x3, make_activation, make_norm
from resnet_explorer.design import Design
from resnet_explorer.limits import Limits, check_limits
from resnet_explorer.plan import NetworkPlan, plan


class ResNet(nn.Module):
    """A ResNet-family network built from a `Design` (see `build_model`)."""

    def __init__(self, design: Design) -> None:
        super().__init__()
        self.design = design
        layout = plan(design)
        self.act_name = design.activation
        self._build_stem(design, layout)
        for stage in layout.stages:
            blocks = [ResidualBlock(design, b) for b in stage.blocks]
            self.add_module(stage.name, nn.Sequential(*blocks))
        self.num_stages = len(layout.stages)
        features = layout.feature_channels
        self.final_bn = make_norm(design.norm, features) if design.final_norm else None
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.dropout = nn.Dropout(design.dropout) if design.dropout > 0 else None
        self.fc = nn.Linear(features, design.num_classes)

    def _build_stem(self, design: Design, layout: NetworkPlan) -> None:
        channels = layout.stem_channels
        if design.stem == "imagenet":
            self.conv1 = nn.Conv2d(
                design.in_channels, channels[0], 7, stride=2, padding=3, bias=False
            )
        elif design.stem == "cifar":
            self.conv1 = conv3x3(design.in_channels, channels[0])
        else:  # timm's deep stems: conv1.0, conv1.1 (norm), conv1.3, conv1.4, conv1.6
            c0, c1, c2 = channels
            self.conv1 = nn.Sequential(
                conv3x3(design.in_channels, c0, stride=2),
                make_norm(design.norm, c0),
                make_activation(design.activation),
                conv3x3(c0, c1),
                make_norm(design.norm, c1),
                make_activation(design.activation),
                conv3x3(c1, c2),
            )
        # Pre-activation nets leave the stem's norm and activation to the first block.
        self.stem_activated = design.activation_order != "full_preact"
        if self.stem_activated:
            self.bn1 = make_norm(design.norm, design.stem_width)
        setattr(self, design.activation, make_activation(design.activation))
        self.maxpool = nn.MaxPool2d(3, 2, padding=1) if design.stem != "cifar" else None

    def _act(self, x: torch.Tensor) -> torch.Tensor:
        return getattr(self, self.act_name)(x)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """Stem and stages: the feature map before the head."""
        x = self.conv1(x)
        if self.stem_activated:
            x = self._act(self.bn1(x))
        if self.maxpool is not None:
            x = self.maxpool(x)
        for i in range(1, self.num_stages + 1):
            x = getattr(self, f"layer{i}")(x)
        if self.final_bn is not None:
            x = self._act(self.final_bn(x))
        return x

    def forward_head(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.flatten(self.avgpool(x), 1)
        if self.dropout is not None:
            x = self.dropout(x)
        return self.fc(x)

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
    allocated; a design over a cap raises `DesignTooLarge`. With ``seed`` the weights are the same
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
            _initialize(model, design)
    return model.to(target) if build_on != target else model
