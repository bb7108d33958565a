"""Ready-made probes from the seeds: each a set of designs, settings, and what to look for."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from resnet_explorer.design import ACTIVATION_ORDERS, Design
from resnet_explorer.probes.config import FAST_CPU, ProbeConfig
from resnet_explorer.probes.errors import ProbeError

CIFAR_DEPTHS = (20, 32, 44, 56, 110)


@dataclass(frozen=True)
class Experiment:
    """A named comparison: labelled designs trained under the same settings."""

    name: str
    title: str
    designs: tuple[tuple[str, Design], ...]
    look_for: str
    """Two or three sentences on what the curves should show."""
    source: str
    config: dict[str, Any] = field(default_factory=dict)
    """Settings this experiment suggests (the caller's explicit settings win)."""

    def probe_config(self, **overrides: Any) -> ProbeConfig:
        """The experiment's settings with ``overrides`` applied on top."""
        return ProbeConfig.from_dict({**self.config, **overrides})


def _cifar(depth: int, **changes: Any) -> Design:
    from resnet_explorer import presets

    if depth not in CIFAR_DEPTHS:
        raise ProbeError(f"depth={depth}: use one of {', '.join(map(str, CIFAR_DEPTHS))}")
    design = presets.get(f"resnet{depth}")
    return design.replace(**changes) if changes else design


def degradation(depth: int | None = None) -> Experiment:
    """Plain-20, plain-56, ResNet-20, ResNet-56 (He et al. 2015, Fig. 1 and 6)."""
    del depth  # fixed depths: the paper's pair
    return Experiment(
        name="degradation",
        title="Degradation: plain vs residual at 20 and 56 layers",
        designs=(
            ("plain20", _cifar(20, shortcut="none")),
            ("plain56", _cifar(56, shortcut="none")),
            ("resnet20", _cifar(20)),
            ("resnet56", _cifar(56)),
        ),
        look_for=(
            "The deeper plain net ends with a higher training loss than the shallower one, even "
            "though it could copy it and add identity layers: an optimisation problem, not "
            "overfitting. With shortcuts the 56-layer net does not degrade: it ends at or below "
            "the 20-layer one's training loss, as in the paper."
        ),
        source="He et al. 2015, Deep Residual Learning, Section 4.2, Figure 6",
        # lr 0.02: measured with seeds 0 and 1 (benchmarks/degradation.py), ResNet-56 then ends
        # below ResNet-20 within 400 steps; at 0.05 it still trailed slightly.
        config={**FAST_CPU, "lr": 0.02},
    )


def activation_order(depth: int | None = None) -> Experiment:
    """The five placements of BN and ReLU around the addition (He et al. 2016, Fig. 4)."""
    depth = depth or 20
    return Experiment(
        name="activation_order",
        title=f"Activation order: the five placements at depth {depth}",
        designs=tuple(
            (order, _cifar(depth, activation_order=order)) for order in ACTIVATION_ORDERS
        ),
        look_for=(
            "BN after the addition (b) and ReLU before the addition (c) disturb the identity "
            "path and usually train worst; full pre-activation (e) keeps the path clean and "
            "trains best. Differences grow with depth (the paper used 110 and 164 layers)."
        ),
        source="He et al. 2016, Identity Mappings in Deep Residual Networks, Figure 4, Table 2",
        config=dict(FAST_CPU),
    )


def shortcut_options(depth: int | None = None) -> Experiment:
    """Shortcut options A, B, C (and timm's D) on the same net."""
    depth = depth or 20
    return Experiment(
        name="shortcut_options",
        title=f"Shortcut options A/B/C/D at depth {depth}",
        designs=tuple((f"option {o}", _cifar(depth, shortcut=o)) for o in "ABCD"),
        look_for=(
            "All four train; the paper found B slightly better than A and C slightly better than "
            "B, small gains from a few extra parameters, so projections are not essential to "
            "the degradation fix. D (average pool before the 1x1) keeps the information a "
            "strided 1x1 throws away."
        ),
        source="He et al. 2015, Table 3; He et al. 2019 (Bag of Tricks) for D",
        config=dict(FAST_CPU),
    )


def zero_init(depth: int | None = None) -> Experiment:
    """Zero-initialised last BN of every residual branch, on and off."""
    depth = depth or 56
    return Experiment(
        name="zero_init",
        title=f"Zero-init residual at depth {depth}: on vs off",
        designs=(
            ("zero-init off", _cifar(depth)),
            ("zero-init on", _cifar(depth, zero_init_residual=True)),
        ),
        look_for=(
            "With zero-init every block starts as the identity, so the deep net starts as a "
            "shallow one: the first steps' loss falls faster and large learning rates are "
            "tolerated. The gap usually closes later in training."
        ),
        source="Goyal et al. 2017, Accurate, Large Minibatch SGD, Section 5.1",
        config=dict(FAST_CPU),
    )


def trio(depth: int) -> tuple[tuple[str, Design], ...]:
    """Plain, residual (option A) and full pre-activation CIFAR nets of ``depth`` layers, the
    comparison the gradient-flow views draw."""
    return (
        (f"plain{depth}", _cifar(depth, shortcut="none")),
        (f"resnet{depth}", _cifar(depth)),
        (f"preact{depth}", _cifar(depth, activation_order="full_preact")),
    )


#: The plain-vs-residual pairs the studies of trained weights offer: title -> depth.
STUDY_PAIRS: dict[str, int] = {"plain-20 vs ResNet-20": 20, "plain-56 vs ResNet-56": 56}


def study_pair(depth: int) -> tuple[tuple[str, Design], ...]:
    """Plain and residual (option A) CIFAR nets of ``depth`` layers."""
    return trio(depth)[:2]


EXPERIMENTS: dict[str, Callable[[int | None], Experiment]] = {
    "degradation": degradation,
    "activation_order": activation_order,
    "shortcut_options": shortcut_options,
    "zero_init": zero_init,
}


def names() -> list[str]:
    return list(EXPERIMENTS)


def get(name: str, depth: int | None = None) -> Experiment:
    """The experiment ``name`` (``depth`` picks the CIFAR depth where the experiment has one)."""
    key = name.replace("-", "_")
    if key not in EXPERIMENTS:
        raise ProbeError(f"experiment {name!r} is unknown; use one of {', '.join(EXPERIMENTS)}")
    return EXPERIMENTS[key](depth)
