"""The Probe page's signal-propagation views: per block, Var(F(x))/Var(x) and |dL/dx|, at
initialisation for the five activation orders with zero-init off and on, and after k steps
from the session's probe (`probes.signal`)."""

from __future__ import annotations

from typing import Any

import streamlit as st

from resnet_explorer.design import Design
from resnet_explorer.errors import DesignError
from resnet_explorer.probes import experiments, signal
from resnet_explorer.ui import probe, probe_charts

SHOWN = "probe_signal_depths"  # depths this session asked to measure (the results are cached)


EDITOR = "the editor's design"
CIFAR = "the paper's CIFAR net"
#: The editor's design is measured at no more than this input size (a batch of 16 through ten
#: freshly built ImageNet-size nets at 224 px would take minutes on a CPU).
MAX_SIZE = 64
#: Said under "after k steps" until the session has run a probe.
NO_SIGNAL = (
    "Start a probe on the Train tab with held-out evaluations: at every evaluation the probe "
    "measures the same per-block signal on 32 training images, shown here."
)


@st.cache_data(max_entries=8, show_spinner="Measuring 10 freshly built nets...")
def _sweep(depth: int, design_json: str | None = None) -> dict[str, dict[str, Any]]:
    design = Design.from_json(design_json) if design_json else None
    return signal.sweep(depth, design=design)


def measured_design(design: Design) -> Design:
    """``design`` at an input size of at most `MAX_SIZE` px (as it is where that is invalid)."""
    if design.image_size <= MAX_SIZE:
        return design
    try:
        return design.replace(image_size=MAX_SIZE)
    except DesignError:
        return design


def _ratio(r: dict[str, Any], i: int) -> float:
    return r["blocks"][i]["variance_ratio"] or 0.0


def _grad_span(r: dict[str, Any]) -> float:
    g = [b["grad_norm"] for b in r["blocks"] if b["grad_norm"]]
    return g[0] / g[-1] if g else float("nan")


def explain(results: dict[str, dict[str, Any]]) -> str:
    """What to see, with the measured figures."""
    if "full_preact" not in results or "bn_after_add" not in results:
        return (
            "This design cannot take every activation order (shown: "
            f"{', '.join(results)}): the comparison of full pre-activation with BN after the "
            "addition needs both."
        )
    pre, bn = results["full_preact"], results["bn_after_add"]
    n = len(pre["blocks"])
    bn_ratios = [b["variance_ratio"] or 0.0 for b in bn["blocks"][1:]]
    return (
        "With full pre-activation each block's residual branch adds "
        f"{_ratio(pre, 0):.2g}x its input's variance at the first block and "
        f"{_ratio(pre, n - 1):.2g}x at the last: the identity path keeps the signal and carries "
        "an ever larger share of it, every block adding a little. With BN after the addition "
        f"every sum is renormalised: the ratio stays between {min(bn_ratios):.2g} and "
        f"{max(bn_ratios):.2g} after the first block, the signal is reset in every block. "
        "The gradient reaching the first block is "
        f"{_grad_span(pre):.3g}x the last block's with full pre-activation and "
        f"{_grad_span(bn):.3g}x with BN after the addition. Zero-init (dashed) starts every "
        f"branch at zero (ratio 0, drawn at {probe_charts.RATIO_FLOOR:g}): each block starts as "
        "the identity, and within a stage the gradient reaches every block unchanged."
    )


def _which(design: Design | None) -> tuple[str, Design | None, int]:
    """(a cache key, the design to vary or None for the CIFAR net, its depth)."""
    kind = CIFAR
    if design is not None:
        kind = st.radio("Net", [CIFAR, EDITOR], horizontal=True, key="probe_signal_net")
    if kind == EDITOR and design is not None:
        measured = measured_design(design)
        return measured.hash, measured, measured.depth
    depth = st.select_slider("Depth", experiments.CIFAR_DEPTHS, value=20, key="probe_signal_depth")
    return f"cifar{depth}", None, depth


def at_init(design: Design | None = None) -> None:
    """The ten variants (five activation orders, zero-init off and on) of the paper's CIFAR net
    at a chosen depth, or of the editor's ``design``, overlaid, on request (cached)."""
    key, varied, depth = _which(design)
    shown = st.session_state.setdefault(SHOWN, [])
    what = f"depth {depth}" if varied is None else f"the editor's design ({depth} layers)"
    if key not in shown and st.button(
        f"Measure the 10 variants of {what}",
        key="probe_signal_go",
        icon=":material/monitoring:",
        help="Five activation orders, zero-init off and on: one seeded random batch of 16 "
        "through each freshly built net (training mode).",
    ):
        shown.append(key)
    if key not in shown:
        st.caption(
            "Per block: the variance of the residual branch's output over the variance of the "
            "block's input, and the norm of dL/dx at the block's input."
        )
        return
    results = _sweep(depth, varied.to_json() if varied is not None else None)
    st.plotly_chart(probe_charts.signal_chart(results), key="probe_signal_init")
    if varied is not None and varied.image_size != design.image_size:
        st.caption(f"Measured at {varied.image_size} px (the design's own is {design.image_size}).")
    st.caption(explain(results))


def after_training() -> None:
    """The same measurement at each evaluation step of the session's last probe."""
    data = probe.from_last_probe(
        probe_charts.signal_over_training, NO_SIGNAL, ":material/monitoring:"
    )
    if data is None:
        return
    steps = list(data)
    step = steps[0] if len(steps) == 1 else st.select_slider(
        "After step", steps, value=steps[-1], key="probe_signal_step"
    )  # fmt: skip
    st.plotly_chart(probe_charts.signal_chart(data[step]), key="probe_signal_trained")
    st.caption(
        f"After {step} training steps, on the first 32 training images (not augmented), each "
        "design's first seed. Press R or touch any widget to refresh while a run goes on."
    )
