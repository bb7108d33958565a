"""Plotly charts shared by pages."""

from __future__ import annotations

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from resnet_explorer.analysis.analytic import Totals


def stage_budget(stages: list[Totals], names: list[str]) -> go.Figure:
    """Per-stage parameters, MACs and activations as three bar panels (share of the total)."""
    fig = make_subplots(
        rows=1, cols=3, subplot_titles=("Parameters (M)", "GMACs", "Activations (M)")
    )
    series = [
        ([s.params / 1e6 for s in stages], "%{y:.2f} M params"),
        ([s.macs / 1e9 for s in stages], "%{y:.3f} GMACs"),
        ([s.activations / 1e6 for s in stages], "%{y:.2f} M activations"),
    ]
    for col, (values, template) in enumerate(series, start=1):
        fig.add_trace(
            go.Bar(x=names, y=values, hovertemplate=template + "<extra></extra>", showlegend=False),
            row=1,
            col=col,
        )
    fig.update_layout(height=300, margin={"l": 10, "r": 10, "t": 40, "b": 10})
    return fig
