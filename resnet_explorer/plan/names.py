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

from dataclasses import dataclass

#: The numbered and activation-named modules in the two schemes (torchvision / timm ResNet,
#: timm RegNet), filled in with ``n`` (a stage's or block's index + 1), ``i`` (a block's index),
#: ``k`` (a conv's number in its block) and ``activation``: torchvision's blocks reuse one
#: activation module, named after it, where each of timm RegNet's ConvNormAct units has its own.
_TEMPLATES: dict[str, tuple[str, str]] = {
    "stage": ("layer{n}", "s{n}"),
    "block": ("{i}", "b{n}"),
    "conv": ("conv{k}", "conv{k}.conv"),
    "norm": ("bn{k}", "conv{k}.bn"),
    "act": ("{activation}", "conv{k}.act"),
    "post_act": ("{activation}", "act3"),
    "stem_act": ("{activation}", "stem.act"),
}
#: The stem's and the head's modules in the two schemes.
_MODULES: dict[str, tuple[str, str]] = {
    "stem_conv": ("conv1", "stem.conv"),
    "stem_norm": ("bn1", "stem.bn"),
    "stem_pool": ("maxpool", "stem.pool"),  # never built for RegNet: its simple stem has no pool
    "head_pool": ("avgpool", "head.global_pool"),
    "head_flatten": ("flatten", "head.flatten"),
    "head_dropout": ("dropout", "head.drop"),
    "head_fc": ("fc", "head.fc"),
}
#: (pool, conv, norm) of a projection shortcut in the two schemes. The average-pool shortcut
#: (ResNet-D) has timm's layout, the pool first; timm RegNet's ``downsample_conv`` is a
#: ConvNormAct, its ``downsample_avg`` a pool followed by one.
_SHORTCUTS: dict[str, tuple[tuple[str, str, str], tuple[str, str, str]]] = {
    "projection": (("", "downsample.0", "downsample.1"), ("", "downsample.conv", "downsample.bn")),
    "avgpool_projection": (
        ("downsample.0", "downsample.1", "downsample.2"),
        ("downsample.0", "downsample.1.conv", "downsample.1.bn"),
    ),
}


@dataclass(frozen=True, eq=False)
class NameScheme:
    """One scheme's module names (a column of the tables above): the stem's and the head's as
    they are, the others from ``templates`` filled in by the methods."""

    templates: dict[str, str]
    shortcuts: dict[str, tuple[str, str, str]]
    stem_conv: str
    stem_norm: str
    stem_pool: str
    head_pool: str
    head_flatten: str
    head_dropout: str
    head_fc: str

    @classmethod
    def column(cls, index: int) -> NameScheme:
        """The scheme in column ``index`` of the tables."""
        return cls(
            {part: names[index] for part, names in _TEMPLATES.items()},
            {kind: names[index] for kind, names in _SHORTCUTS.items()},
            **{part: names[index] for part, names in _MODULES.items()},
        )

    def stage(self, index: int) -> str:
        return self.templates["stage"].format(n=index + 1)

    def block(self, index: int) -> str:
        return self.templates["block"].format(i=index, n=index + 1)

    def conv(self, k: int) -> str:
        return self.templates["conv"].format(k=k)

    def norm(self, k: int) -> str:
        return self.templates["norm"].format(k=k)

    def act(self, k: int, activation: str) -> str:
        return self.templates["act"].format(k=k, activation=activation)

    def post_act(self, activation: str) -> str:
        return self.templates["post_act"].format(activation=activation)

    def stem_act(self, activation: str) -> str:
        return self.templates["stem_act"].format(activation=activation)

    def shortcut(self, kind: str) -> tuple[str, str, str]:
        """(pool, conv, norm) names of a projection shortcut of ``kind`` (``avgpool_projection``
        or ``projection``; only the first has a pool)."""
        return self.shortcuts.get(kind, self.shortcuts["projection"])


NAMES: dict[str, NameScheme] = {
    "torchvision": NameScheme.column(0),
    "regnet": NameScheme.column(1),
}
