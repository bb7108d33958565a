"""Turn a `Design` into a `torch.nn.Module`."""

from resnet_explorer.builder.blocks import ResidualBlock
from resnet_explorer.builder.network import ResNet, build_model

__all__ = ["ResNet", "ResidualBlock", "build_model"]
