"""Module names of the built network, per naming scheme (`Design.module_names`).

The names are what makes a torchvision or timm checkpoint load with ``strict=True``:

* ``torchvision``: torchvision's ResNet (``conv1``, ``bn1``, ``layer1.0.conv1``, ``downsample.0``,
  ``fc``), with timm's names where torchvision has none (the deep stem ``conv1.0`` ...,
  ``maxpool.0`` of ResNet-RS's conv pool, a block's ``se.fc1`` / ``se.conv`` and ``aa``);
* ``regnet``: timm's RegNet (``stem.conv``, ``s1.b1.conv1.conv``, ``s1.b1.se.fc1``,
  ``downsample.conv``, ``head.fc``).

Activations own no parameters; they are named like the library's for the diagrams.
"""

from __future__ import annotations


class ResNetNames:
    """torchvision / timm ResNet names."""

    @staticmethod
    def stage(index: int) -> str:
        return f"layer{index + 1}"

    @staticmethod
    def block(index: int) -> str:
        return str(index)

    @staticmethod
    def conv(k: int) -> str:
        return f"conv{k}"

    @staticmethod
    def norm(k: int) -> str:
        return f"bn{k}"

    @staticmethod
    def act(k: int, activation: str) -> str:
        return activation  # torchvision's blocks reuse one activation module

    @staticmethod
    def post_act(activation: str) -> str:
        return activation

    @staticmethod
    def shortcut(kind: str) -> tuple[str, str, str]:
        """(pool, conv, norm) names of a projection shortcut of ``kind``; the average-pool
        shortcut (ResNet-D) has timm's layout, the pool first."""
        if kind == "avgpool_projection":
            return ("downsample.0", "downsample.1", "downsample.2")
        return ("", "downsample.0", "downsample.1")

    stem_conv = "conv1"
    stem_norm = "bn1"
    stem_pool = "maxpool"
    head_pool = "avgpool"
    head_flatten = "flatten"
    head_dropout = "dropout"
    head_fc = "fc"

    @staticmethod
    def stem_act(activation: str) -> str:
        return activation


class RegNetNames:
    """timm RegNet names (regnet.py: ConvNormAct units, ``s1.b1``, ``head.fc``)."""

    @staticmethod
    def stage(index: int) -> str:
        return f"s{index + 1}"

    @staticmethod
    def block(index: int) -> str:
        return f"b{index + 1}"

    @staticmethod
    def conv(k: int) -> str:
        return f"conv{k}.conv"

    @staticmethod
    def norm(k: int) -> str:
        return f"conv{k}.bn"

    @staticmethod
    def act(k: int, activation: str) -> str:
        return f"conv{k}.act"

    @staticmethod
    def post_act(activation: str) -> str:
        return "act3"

    @staticmethod
    def shortcut(kind: str) -> tuple[str, str, str]:
        """(pool, conv, norm): timm's ``downsample_conv`` is a ConvNormAct, its
        ``downsample_avg`` a pool followed by one."""
        if kind == "avgpool_projection":
            return ("downsample.0", "downsample.1.conv", "downsample.1.bn")
        return ("", "downsample.conv", "downsample.bn")

    stem_conv = "stem.conv"
    stem_norm = "stem.bn"
    stem_pool = "stem.pool"  # never built: the simple stem has no pool
    head_pool = "head.global_pool"
    head_flatten = "head.flatten"
    head_dropout = "head.drop"
    head_fc = "head.fc"

    @staticmethod
    def stem_act(activation: str) -> str:
        return "stem.act"


NAMES: dict[str, type[ResNetNames] | type[RegNetNames]] = {
    "torchvision": ResNetNames,
    "regnet": RegNetNames,
}
