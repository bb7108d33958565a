"""Ready-made probes from the papers: each a set of designs, settings, what to look for, and
the paper's findings as claims a probe's seeds can confirm or not (`probes.claims`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from resnet_explorer.design import ACTIVATION_ORDERS, Design
from resnet_explorer.probes.claims import Claim, finding
from resnet_explorer.probes.config import FAST_CPU, ProbeConfig
from resnet_explorer.probes.errors import ProbeError

CIFAR_DEPTHS = (20, 32, 44, 56, 110)
LADDER_DEPTHS = (20, 32, 44, 56)
#: Depths where basic (6n + 2) and bottleneck (9m + 2) CIFAR nets both exist.
EQUAL_DEPTHS = (20, 38, 56, 74, 92, 110)


def default_seeds() -> int:
    """Seeds per design an experiment suggests: 3 on the CPU, 5 on a GPU."""
    import torch

    return 5 if torch.cuda.is_available() else 3


@dataclass(frozen=True)
class Experiment:
    """A named comparison: labelled designs trained under the same settings."""

    name: str
    title: str
    designs: tuple[tuple[str, Design], ...]
    look_for: str
    """Two or three sentences on what the curves should show."""
    source: str
    config: dict[str, Any] = field(default_factory=lambda: dict(FAST_CPU))
    """Settings this experiment suggests, `FAST_CPU` unless it says otherwise (the caller's
    explicit settings win)."""
    claims: tuple[Claim, ...] = ()
    """The paper's findings, as comparisons between two of the designs."""
    notes: str = ""
    """How the designs were made (e.g. the matched MACs), for the page and the report."""

    def probe_config(self, **overrides: Any) -> ProbeConfig:
        """The experiment's settings with ``overrides`` applied on top (one seed unless
        ``seeds`` is given: the page and the CLI ask for `default_seeds`)."""
        return ProbeConfig.from_dict({**self.config, **overrides})

    def finding(self, statistics: Mapping[str, Any] | None) -> dict[str, Any]:
        """Whether the paper's finding was reproduced (`probes.claims.finding`)."""
        return finding(self.claims, statistics)


def _cifar(depth: int, **changes: Any) -> Design:
    from resnet_explorer import presets

    if depth not in CIFAR_DEPTHS:
        raise ProbeError(f"depth={depth}: use one of {', '.join(map(str, CIFAR_DEPTHS))}")
    design = presets.get(f"resnet{depth}")
    return design.replace(**changes) if changes else design


#: The degradation settings: the fast CPU ones at lr 0.02. Measured with seeds 0 and 1
#: (benchmarks/degradation.py): ResNet-56 then ends below ResNet-20 within 400 steps; at 0.05 it
#: still trailed slightly.
DEGRADATION = {**FAST_CPU, "lr": 0.02}


def degradation(depth: int | None = None) -> Experiment:
    """Plain-20, plain-D, ResNet-20, ResNet-D (He et al. 2015, Fig. 1 and 6); D = 56 unless
    ``depth`` says otherwise (32, 44, 56 or 110)."""
    deep = depth or 56
    if deep == 20 or deep not in CIFAR_DEPTHS:
        raise ProbeError(
            f"depth={deep}: the degradation experiment compares 20 layers with a deeper net; "
            f"use one of {', '.join(map(str, CIFAR_DEPTHS[1:]))}"
        )
    return Experiment(
        name="degradation",
        title=f"Degradation: plain vs residual at 20 and {deep} layers",
        designs=(
            ("plain20", _cifar(20, shortcut="none")),
            (f"plain{deep}", _cifar(deep, shortcut="none")),
            ("resnet20", _cifar(20)),
            (f"resnet{deep}", _cifar(deep)),
        ),
        look_for=(
            "The deeper plain net ends with a higher training loss than the shallower one, even "
            "though it could copy it and add identity layers: an optimisation problem, not "
            f"overfitting. With shortcuts the {deep}-layer net does not degrade: it ends at or "
            "below the 20-layer one's training loss, as in the paper."
        ),
        source="He et al. 2015, Deep Residual Learning, Section 4.2, Figure 6",
        config=dict(DEGRADATION),
        claims=(
            Claim(f"plain{deep}", "plain20", "higher"),
            Claim(f"resnet{deep}", "resnet20", "not_higher"),
        ),
    )


def depth_ladder(depths: tuple[int, ...] | None = None) -> Experiment:
    """Plain and residual (option A) CIFAR nets at 20, 32, 44, 56 layers (and 110 on a GPU),
    the paper's widths, the same budget and seeds (He et al. 2015, Fig. 6, Table 6)."""
    import torch

    depths = tuple(depths or (*LADDER_DEPTHS, *((110,) if torch.cuda.is_available() else ())))
    bad = [d for d in depths if d not in CIFAR_DEPTHS]
    if bad or len(set(depths)) < 2 or len(set(depths)) != len(depths):
        raise ProbeError(
            f"depths={','.join(map(str, depths))}: give two or more different depths from "
            f"{', '.join(map(str, CIFAR_DEPTHS))}"
        )
    depths = tuple(sorted(depths))
    low, high = depths[0], depths[-1]
    return Experiment(
        name="depth_ladder",
        title=f"Depth ladder: plain vs residual at {', '.join(map(str, depths))} layers",
        designs=tuple(
            (f"{kind}{d}", _cifar(d, shortcut="none") if kind == "plain" else _cifar(d))
            for kind in ("plain", "resnet")
            for d in depths
        ),
        look_for=(
            "Final training loss against depth, one line plain, one line residual, with "
            "intervals over the seeds. The plain nets' loss rises with depth (degradation); the "
            "residual nets' does not."
        ),
        source="He et al. 2015, Deep Residual Learning, Figure 6 and Table 6",
        config=dict(DEGRADATION),
        claims=(
            Claim(f"plain{high}", f"plain{low}", "higher"),
            Claim(f"resnet{high}", f"resnet{low}", "not_higher"),
            Claim(f"plain{high}", f"resnet{high}", "higher"),
        ),
    )


def ladder(
    statistics: Mapping[str, Any], metric: str = "final_train_loss"
) -> dict[str, list[tuple[int, dict[str, Any]]]]:
    """The depth ladder's points from `probes.stats.summarize` output: ``{"plain": [(depth,
    interval), ...], "resnet": [...]}``, by depth (labels ``plainD`` / ``resnetD``)."""
    out: dict[str, list[tuple[int, dict[str, Any]]]] = {"plain": [], "resnet": []}
    for label, d in statistics.get("designs", {}).items():
        for kind, points in out.items():
            depth = label[len(kind) :]
            if label.startswith(kind) and depth.isdigit() and d.get(metric):
                points.append((int(depth), d[metric]))
    return {kind: sorted(points, key=lambda p: p[0]) for kind, points in out.items()}


def _bottleneck_matching(basic: Design, blocks: int) -> tuple[Design, int, int]:
    """The bottleneck CIFAR net with ``blocks`` per stage whose MACs are closest to ``basic``'s:
    (design, its MACs, the base width)."""
    from resnet_explorer.analysis.analytic import totals

    target = totals(basic).macs
    best: tuple[int, Design, int] | None = None
    for width in range(4, 65):
        stages = [
            {"blocks": blocks, "width": width * m, "stride": s} for m, s in ((1, 1), (2, 2), (4, 2))
        ]
        design = basic.replace(block="bottleneck", stages=stages)
        macs = totals(design).macs
        if best is None or abs(macs - target) < abs(best[0] - target):
            best = (macs, design, width)
    assert best is not None
    return best[1], best[0], best[2]


def basic_vs_bottleneck(depth: int | None = None) -> Experiment:
    """Basic and bottleneck blocks at equal depth (CIFAR stem, 3 stages, projection shortcuts)
    and matched MACs: the bottleneck net's widths are chosen so that its MACs match."""
    from resnet_explorer import presets
    from resnet_explorer.analysis.analytic import totals

    depth = depth or 20
    if depth not in EQUAL_DEPTHS:
        raise ProbeError(
            f"depth={depth}: basic (6n+2) and bottleneck (9n+2) nets share the depths "
            f"{', '.join(map(str, EQUAL_DEPTHS))}"
        )
    n_basic, n_bottleneck = (depth - 2) // 6, (depth - 2) // 9
    base = presets.get("resnet20").replace(shortcut="B")
    basic = base.replace(
        stages=[
            {"blocks": n_basic, "width": w, "stride": s} for w, s in ((16, 1), (32, 2), (64, 2))
        ]
    )
    bottleneck, macs, width = _bottleneck_matching(basic, n_bottleneck)
    b_macs = totals(basic).macs
    notes = (
        f"at {basic.image_size} px: basic: {n_basic} blocks a stage, widths 16/32/64, "
        f"{b_macs / 1e6:.1f} M MACs, "
        f"{totals(basic).params / 1e3:.0f} k params; bottleneck: {n_bottleneck} blocks a "
        f"stage, inner widths {width}/{2 * width}/{4 * width} (x4 out), {macs / 1e6:.1f} M MACs "
        f"({(macs - b_macs) / b_macs:+.1%}), {totals(bottleneck).params / 1e3:.0f} k params; "
        "both with projection shortcuts (option B) where shapes change"
    )
    return Experiment(
        name="basic_vs_bottleneck",
        title=f"Basic vs bottleneck blocks at {depth} layers and matched MACs",
        designs=((f"basic{depth}", basic), (f"bottleneck{depth}", bottleneck)),
        look_for=(
            "The course notes claim that at shallow depths (18 or 34 layers) bottleneck blocks "
            "often beat basic ones. Here both nets have the same depth (20 and 38 are the depths "
            "nearest 18 and 34 that both block types reach with three equal stages) and the "
            "same MACs: see whether the bottleneck net ends with the lower training loss, "
            "across the seeds."
        ),
        source="He et al. 2015, Section 4.1 (bottleneck design); the course notes' claim",
        claims=(Claim(f"bottleneck{depth}", f"basic{depth}", "lower"),),
        notes=notes,
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
        claims=(
            Claim("bn_after_add", "full_preact", "higher"),
            Claim("relu_before_add", "full_preact", "higher"),
        ),
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
        claims=(
            Claim("option B", "option A", "not_higher"),
            Claim("option C", "option B", "not_higher"),
        ),
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
        claims=(Claim("zero-init on", "zero-init off", "lower", metric="early_train_loss"),),
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


EXPERIMENTS: dict[str, Callable[..., Experiment]] = {
    "degradation": degradation,
    "depth_ladder": depth_ladder,
    "activation_order": activation_order,
    "shortcut_options": shortcut_options,
    "zero_init": zero_init,
    "basic_vs_bottleneck": basic_vs_bottleneck,
}


def names() -> list[str]:
    """Every experiment's name, in the order the page and the CLI list them."""
    return list(EXPERIMENTS)


def get(
    name: str, depth: int | None = None, *, depths: tuple[int, ...] | None = None
) -> Experiment:
    """The experiment ``name`` (``-`` or ``_``). ``depth`` picks the CIFAR depth where the
    experiment has one (the depth ladder takes ``depths`` instead); a setting the experiment
    does not take is an error that says so."""
    key = name.replace("-", "_")
    if key not in EXPERIMENTS:
        raise ProbeError(f"experiment {name!r} is unknown; use one of {', '.join(EXPERIMENTS)}")
    if key == "depth_ladder":
        if depth is not None:
            raise ProbeError("the depth ladder takes --depths (e.g. 20,32,44,56), not --depth")
        return depth_ladder(depths)
    if depths is not None:
        raise ProbeError(f"--depths goes with the depth ladder, not {key}; use --depth")
    return EXPERIMENTS[key](depth)
