"""Headline figures of a design, with deltas against its preset and the 'matches' badge."""

from __future__ import annotations

import streamlit as st

from resnet_explorer import presets, units
from resnet_explorer.design import Design
from resnet_explorer.ui import cached
from resnet_explorer.ui.state import Origin


def headline(design: Design, base: Origin | None) -> None:
    """Parameters, GMACs and activations, with deltas against the design it started from."""
    now = cached.analytic_totals(design.to_json())
    ref = cached.analytic_totals(base.design.to_json()) if base else None
    cols = st.columns(4)
    figures = [
        ("Parameters", now.params, units.params, "learnable parameters (exact)"),
        ("GMACs", now.macs, units.gmacs, "multiply-accumulates of conv + fc, one image (exact)"),
        (
            "Activations",
            now.activations,
            units.count,
            "fvcore's activation count: outputs of conv and fc layers, one image (exact)",
        ),
    ]
    for col, (label, value, fmt, help_text) in zip(cols, figures, strict=False):
        delta = None
        if ref is not None and base.design != design:
            diff = value - getattr(ref, _field(label))
            delta = units.signed(diff, units.count) if diff else "no change"
        col.metric(
            label,
            fmt(value),
            delta=delta,
            help=help_text,
            delta_color="off" if delta == "no change" else "inverse",
        )
    cols[3].metric("Depth", f"{design.depth} layers", help="weighted layers on the main path")
    st.caption(
        f"Exact counts: {now.params:,} parameters, {now.macs:,} MACs "
        f"({now.flops / 1e9:,.3f} GFLOPs at 2 per MAC), fvcore total {now.fvcore:,}."
    )
    badge(design, base)


def _field(label: str) -> str:
    return {"Parameters": "params", "GMACs": "macs", "Activations": "activations"}[label]


def badge(design: Design, base: Origin | None) -> None:
    """Whether the design reproduces a published network, or how it departs from its preset."""
    match = presets.find(design)
    counts = cached.analytic_totals(design.to_json())
    if match is not None:
        verdict = match.matches(counts.params, counts.macs)
        published = []
        if match.params is not None:
            published.append(f"{match.params:,} parameters")
        if match.macs is not None:
            published.append(f"{units.gmacs(match.macs)}")
        if verdict:
            st.success(
                f"**{match.title}** matches the published figures "
                f"({', '.join(published)}). Source: {match.source}.",
                icon=":material/verified:",
            )
        elif verdict is None:
            st.info(f"**{match.title}**: no published size to compare. Source: {match.source}.")
        else:
            st.error(
                f"**{match.title}** does not match its published figures ({', '.join(published)})."
            )
        for result in match.results:
            st.caption(f"Published: {result.metric} = {result.value} ({result.source})")
        if match.note:
            st.caption(match.note)
    elif base is not None:
        where = "the library design" if base.library else "the preset"
        st.info(
            f"Modified from {where} **{base.title}**; deltas above are against it.",
            icon=":material/edit:",
        )


def stage_budget(design: Design) -> None:
    """Each stage's parameters, MACs and activations (exact, in M or G), each a bar of its
    share of the whole network; the stem and the head make up the rest. (A table, not a
    chart: the home page stays free of Plotly, whose 4.7 MB script a fresh browser would load
    before drawing any figure.)"""
    total = cached.analytic_totals(design.to_json())
    stages = cached.analytic_stages(design.to_json())
    rows = [
        {
            "stage": f"layer{i + 1}",
            "parameters": s.params / 1e6,
            "GMACs": s.macs / 1e9,
            "activations": s.activations / 1e6,
        }
        for i, s in enumerate(stages)
    ]
    rows.append(
        {
            "stage": "stem + head",
            "parameters": (total.params - sum(s.params for s in stages)) / 1e6,
            "GMACs": (total.macs - sum(s.macs for s in stages)) / 1e9,
            "activations": (total.activations - sum(s.activations for s in stages)) / 1e6,
        }
    )
    bars = {
        "parameters": ("parameters", total.params / 1e6, "%.2f M"),
        "GMACs": ("MACs", total.macs / 1e9, "%.3f G"),
        "activations": ("activations", total.activations / 1e6, "%.2f M"),
    }
    st.dataframe(
        rows,
        hide_index=True,
        key="stage_budget",
        column_config={
            column: st.column_config.ProgressColumn(
                column,
                help=f"the stage's {what}; the bar is its share of the network's total",
                min_value=0.0,
                max_value=max(whole, 1e-12),
                format=fmt,
            )
            for column, (what, whole, fmt) in bars.items()
        },
    )
