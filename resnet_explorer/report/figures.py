"""Plotly figures of a comparison, shared by the Compare page and the HTML report."""

from __future__ import annotations

import math
from collections.abc import Sequence

import plotly.graph_objects as go
from plotly.colors import qualitative
from plotly.subplots import make_subplots

from resnet_explorer.report.evidence import RunCurve
from resnet_explorer.report.metrics import DesignMetrics, column_name

COLORS = qualitative.Plotly
_DASHES = ("solid", "dash", "dot", "dashdot", "longdash")


def color(i: int) -> str:
    """The colour of the ``i``-th design, the same in every figure."""
    return COLORS[i % len(COLORS)]


def stage_bars(metrics: Sequence[DesignMetrics]) -> go.Figure:
    """Per-stage parameters, MACs and activations, one bar per design (exact counts)."""
    fig = make_subplots(
        rows=1, cols=3, subplot_titles=("Parameters (M)", "GMACs", "Activations (M)")
    )
    for i, m in enumerate(metrics):
        name = column_name(metrics, i)
        parts = [*m.stage_totals, m.other]
        stages = [f"layer{k + 1}" for k in range(len(m.stage_totals))] + ["stem + head"]
        series = (
            ([p.params / 1e6 for p in parts], "%{y:.3f} M params"),
            ([p.macs / 1e9 for p in parts], "%{y:.3f} GMACs"),
            ([p.activations / 1e6 for p in parts], "%{y:.3f} M activations"),
        )
        for col, (values, template) in enumerate(series, start=1):
            fig.add_trace(
                go.Bar(
                    x=stages,
                    y=values,
                    name=name,
                    legendgroup=name,
                    showlegend=col == 1,
                    marker_color=color(i),
                    hovertemplate=f"{name}<br>%{{x}}: {template}<extra></extra>",
                ),
                row=1,
                col=col,
            )
    fig.update_layout(
        barmode="group",
        height=340,
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
        legend={"orientation": "h", "y": -0.15},
    )
    return fig


def cost_scatter(metrics: Sequence[DesignMetrics]) -> go.Figure:
    """MACs against parameters, one point per design; the measured latency is in the label and
    the marker colour where the library has one, 'latency not measured' otherwise."""
    fig = go.Figure()
    for i, m in enumerate(metrics):
        name = column_name(metrics, i)
        latency = m.latency.text() if m.latency else "latency not measured"
        marker = {
            "size": 16,
            "symbol": "circle" if m.latency else "circle-open",
            "line": {"width": 2, "color": color(i)},
        }
        text = f"{name}<br>{latency}"
        fig.add_trace(
            _macs_point(name, i, m, m.params / 1e6, "M params", latency, text=text, marker=marker)
        )
    _macs_layout(fig, 380, "Parameters (M)")
    _axis(fig.update_xaxes, [m.macs / 1e9 for m in metrics], 1.25)
    _axis(fig.update_yaxes, [m.params / 1e6 for m in metrics], 1.3)
    return fig


def _macs_point(
    name: str, i: int, m: DesignMetrics, y: float, unit: str, note: str, *, text: str, marker: dict
) -> go.Scatter:
    """Design ``i`` (``m``) as a point at its GMACs and ``y``, labelled ``text``, in its colour;
    the hover names it and gives both values (``y`` in ``unit``) and ``note``."""
    return go.Scatter(
        x=[m.macs / 1e9],
        y=[y],
        mode="markers+text",
        name=name,
        text=[text],
        textposition="top center",
        marker={**marker, "color": color(i)},
        hovertemplate=f"{name}<br>%{{x:.3f}} GMACs<br>%{{y:.2f}} {unit}<br>{note}<extra></extra>",
    )


def _macs_layout(fig: go.Figure, height: int, y_title: str) -> None:
    """The layout of a figure of one point per design against its GMACs."""
    fig.update_layout(
        height=height,
        xaxis_title="GMACs (one image)",
        yaxis_title=y_title,
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        showlegend=False,
    )


def _axis(update, values: list[float], headroom: float) -> None:
    """Linear from zero with room for the labels; logarithmic when values span > 30x."""
    positive = [v for v in values if v > 0]
    if not positive:
        return
    low, high = min(positive), max(positive)
    if high / low > 30:
        update(type="log", range=[math.log10(low) - 0.3, math.log10(high) + 0.5])
    else:
        update(range=[-high * 0.08, high * headroom])


def latency_scatter(metrics: Sequence[DesignMetrics]) -> go.Figure | None:
    """Measured latency (ms per image) against MACs, for the designs that have one."""
    measured = [(i, m) for i, m in enumerate(metrics) if m.latency is not None]
    if not measured:
        return None
    fig = go.Figure()
    for i, m in measured:
        name = column_name(metrics, i)
        per_image, hover = m.latency.per_image_ms, m.latency.text()
        fig.add_trace(
            _macs_point(name, i, m, per_image, "ms/image", hover, text=name, marker={"size": 14})
        )
    _macs_layout(fig, 340, "Measured latency (ms per image)")
    return fig


def run_curves(curves: Sequence[RunCurve], metric: str, names: Sequence[str] = ()) -> go.Figure:
    """``metric`` against the step for every run, overlaid: one colour per design (in the order
    of ``names``), one dash style per run of that design."""
    fig = go.Figure()
    order = list(names) or list(dict.fromkeys(c.design for c in curves))
    seen: dict[str, int] = {}
    for curve in curves:
        points = [(r["step"], r.get(metric)) for r in curve.rows if r.get(metric) is not None]
        if not points:
            continue
        index = order.index(curve.design) if curve.design in order else len(order)
        dash = _DASHES[seen.get(curve.design, 0) % len(_DASHES)]
        seen[curve.design] = seen.get(curve.design, 0) + 1
        fig.add_trace(
            go.Scatter(
                x=[p[0] for p in points],
                y=[p[1] for p in points],
                mode="lines",
                name=curve.label,
                line={"color": color(index), "dash": dash},
            )
        )
    fig.update_layout(
        height=360,
        xaxis_title="step",
        yaxis_title=metric,
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        legend={"orientation": "h", "y": -0.2},
    )
    return fig
