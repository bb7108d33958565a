"""The Probe page's signal-propagation views: per block, Var(F(x))/Var(x) and |dL/dx|, at
initialisation for the five activation orders with zero-init off and on, and after k steps
from the session's probe (`probes.signal`)."""

from __future__ import annotations

from typing import Any

import streamlit as st

from resnet_explorer.probes import experiments, signal
from resnet_explorer.ui import probe, probe_charts

SHOWN = "probe_signal_depths"  # depths this session asked to measure (the results are cached)


@st.cache_data(max_entries=8, show_spinner="Measuring 10 freshly built nets...")
def _sweep(depth: int) -> dict[str, dict[str, Any]]:
    return signal.sweep(depth)


def _ratio(r: dict[str, Any], i: int) -> float:
    return r["blocks"][i]["variance_ratio"] or 0.0


def _grad_span(r: dict[str, Any]) -> float:
    g = [b["grad_norm"] for b in r["blocks"] if b["grad_norm"]]
    return g[0] / g[-1] if g else float("nan")


def explain(results: dict[str, dict[str, Any]]) -> str:
    """What to see, with the measured figures."""
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


def at_init() -> None:
    """The ten variants of a chosen depth, overlaid, on request (cached per depth)."""
    depth = st.select_slider("Depth", experiments.CIFAR_DEPTHS, value=20, key="probe_signal_depth")
    shown = st.session_state.setdefault(SHOWN, [])
    if depth not in shown and st.button(
        f"Measure the 10 variants at depth {depth}",
        key="probe_signal_go",
        icon=":material/monitoring:",
        help="Five activation orders, zero-init off and on: one seeded random batch of 16 "
        "through each freshly built net (training mode).",
    ):
        shown.append(depth)
    if depth not in shown:
        st.caption(
            "Per block: the variance of the residual branch's output over the variance of the "
            "block's input, and the norm of dL/dx at the block's input."
        )
        return
    results = _sweep(depth)
    st.plotly_chart(probe_charts.signal_chart(results), key="probe_signal_init")
    st.caption(explain(results))


def after_training() -> None:
    """The same measurement at each evaluation step of the session's last probe."""
    data = probe_charts.signal_over_training(probe.current_events())
    if not data:
        st.info(
            "Start a probe on the Train tab with held-out evaluations: at every evaluation the "
            "probe measures the same per-block signal on 32 training images, shown here.",
            icon=":material/monitoring:",
        )
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
