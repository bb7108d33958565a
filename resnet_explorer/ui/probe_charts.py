"""Plotly figures of the Probe page, built from plain job events and study results (no
Streamlit here, so they are easy to test)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import plotly.graph_objects as go
from plotly.colors import qualitative
from plotly.subplots import make_subplots

from resnet_explorer.probes.events import Eval, ProbeEvent, Step

COLORS = qualitative.Plotly
#: A log axis whose every label carries its magnitude: plotly's automatic minor labels between
#: decades read "2", "5" with no power of ten; these read 0.02, 0.05, 200, 5e+3.
LOG_AXIS = {"type": "log", "tickformat": ".2~g", "minor": {"showgrid": True}}


def curves(events: Sequence[ProbeEvent]) -> dict[str, dict[str, list[Any]]]:
    """Per design label: the step events' ``step``/``elapsed``/``loss``/``acc`` and the eval
    events' ``eval_step``/``eval_elapsed``/``val_loss``/``val_acc``, in order."""
    out: dict[str, dict[str, list[Any]]] = {}
    keys = ("step", "elapsed", "loss", "acc", "eval_step", "eval_elapsed", "val_loss", "val_acc")
    for e in events:
        if not isinstance(e, (Step, Eval)):
            continue
        c = out.setdefault(e.label, {k: [] for k in keys})
        if isinstance(e, Step):
            c["step"].append(e.step)
            c["elapsed"].append(e.elapsed)
            c["loss"].append(e.loss)
            c["acc"].append(e.acc)
        else:
            c["eval_step"].append(e.step)
            c["eval_elapsed"].append(e.elapsed)
            c["val_loss"].append(e.held_out_loss)
            c["val_acc"].append(e.held_out_acc)
    return out


def training_curves(events: Sequence[ProbeEvent], x: str = "step") -> go.Figure:
    """Loss and accuracy, training (lines) and held-out (markers), against ``x`` ("step" or
    "elapsed": training seconds), one colour per design."""
    by_label = curves(events)
    fig = make_subplots(rows=1, cols=2, subplot_titles=("Loss", "Accuracy"))
    ex = "eval_step" if x == "step" else "eval_elapsed"
    for i, (label, c) in enumerate(by_label.items()):
        color = COLORS[i % len(COLORS)]
        for col, (train, held) in enumerate((("loss", "val_loss"), ("acc", "val_acc")), start=1):
            fig.add_trace(
                go.Scatter(
                    x=c[x],
                    y=c[train],
                    mode="lines",
                    name=f"{label} train",
                    legendgroup=label,
                    line={"color": color, "width": 1.5},
                    showlegend=col == 1,
                ),
                row=1,
                col=col,
            )
            if c[held]:
                fig.add_trace(
                    go.Scatter(
                        x=c[ex],
                        y=c[held],
                        mode="lines+markers",
                        name=f"{label} held-out",
                        legendgroup=label,
                        line={"color": color, "dash": "dash"},
                        showlegend=col == 1,
                    ),
                    row=1,
                    col=col,
                )
    title = "step" if x == "step" else "training seconds"
    fig.update_xaxes(title_text=title)
    fig.update_yaxes(range=[0, 1.02], row=1, col=2)
    fig.update_layout(height=360, margin={"l": 10, "r": 10, "t": 40, "b": 10}, legend_x=1.02)
    return fig


def grad_flow_at_init(results: dict[str, dict[str, Any]]) -> go.Figure:
    """Per-block gradient norm at initialisation against depth (block index), one line per net,
    log scale: a plain net's early blocks get far smaller gradients than a residual one's."""
    fig = go.Figure()
    for i, (label, r) in enumerate(results.items()):
        blocks = r["blocks"]
        fig.add_trace(
            go.Scatter(
                x=list(range(1, len(blocks) + 1)),
                y=[max(b["grad_norm"], 1e-12) for b in blocks],
                mode="lines+markers",
                name=label,
                text=[b["name"] for b in blocks],
                hovertemplate="%{text}: %{y:.3g}<extra>" + label + "</extra>",
                line={"color": COLORS[i % len(COLORS)]},
            )
        )
    fig.update_layout(
        height=360,
        xaxis_title="block (input -> output)",
        yaxis={**LOG_AXIS, "title": "gradient norm at init"},
        margin={"l": 10, "r": 10, "t": 20, "b": 10},
    )
    return fig


def grad_flow_over_training(events: Sequence[ProbeEvent]) -> dict[str, dict[str, Any]]:
    """Per design: ``{"steps": [...], "blocks": [...], "z": [[norm per step] per block]}`` from
    the eval events that carry per-block gradient norms (stem and head left out)."""
    out: dict[str, dict[str, Any]] = {}
    for e in events:
        if not isinstance(e, Eval) or not e.grad_norm:
            continue
        blocks = {k: v for k, v in e.grad_norm["blocks"].items() if k not in ("stem", "head")}
        d = out.setdefault(e.label, {"steps": [], "rows": []})
        d["steps"].append(e.step)
        d["rows"].append(blocks)
    result = {}
    for label, d in out.items():
        names = sorted({n for row in d["rows"] for n in row}, key=_block_key)
        z = [[row.get(n) for row in d["rows"]] for n in names]
        result[label] = {"steps": d["steps"], "blocks": names, "z": z}
    return result


def _block_key(name: str) -> tuple[int, int]:
    stage, _, index = name.partition(".")
    try:
        return int(stage.removeprefix("layer")), int(index or 0)
    except ValueError:
        return (0, 0)


def heatmaps(data: dict[str, dict[str, Any]]) -> go.Figure:
    """Side-by-side heatmaps of log10 gradient norm (blocks x steps), one colour scale."""
    labels = list(data)
    fig = make_subplots(rows=1, cols=max(1, len(labels)), subplot_titles=labels)
    values = [v for d in data.values() for row in d["z"] for v in row if v is not None and v > 0]
    lo = math.log10(min(values)) if values else -3
    hi = math.log10(max(values)) if values else 0
    for i, label in enumerate(labels, start=1):
        d = data[label]
        z = [[math.log10(v) if v else None for v in row] for row in d["z"]]
        fig.add_trace(
            go.Heatmap(
                x=[str(s) for s in d["steps"]],
                y=d["blocks"],
                z=z,
                zmin=lo,
                zmax=hi,
                coloraxis="coloraxis",
                hovertemplate="%{y} at step %{x}: 10^%{z:.2f}<extra></extra>",
            ),
            row=1,
            col=i,
        )
    fig.update_layout(
        height=max(300, 18 * max((len(d["blocks"]) for d in data.values()), default=10) + 120),
        coloraxis={"colorscale": "Viridis", "colorbar": {"title": "log10 |g|"}},
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
    )
    fig.update_xaxes(title_text="step")
    return fig


def landscape_line(result: dict[str, Any]) -> go.Figure:
    """The 1-D slices of every design on one axis (log loss)."""
    fig = go.Figure()
    for i, d in enumerate(result["designs"]):
        ls = d.get("landscape")
        if not ls or not ls.get("line"):
            continue
        fig.add_trace(
            go.Scatter(
                x=ls["line"]["alphas"],
                y=ls["line"]["loss"],
                mode="lines+markers",
                name=d["label"],
                line={"color": COLORS[i % len(COLORS)]},
            )
        )
    fig.update_layout(
        height=360,
        xaxis_title="step along a filter-normalised random direction (alpha)",
        yaxis={**LOG_AXIS, "title": "held-out loss"},
        margin={"l": 10, "r": 10, "t": 20, "b": 10},
    )
    return fig


def landscape_contours(result: dict[str, Any]) -> go.Figure | None:
    """2-D slices side by side, contours of log10 loss on one shared scale."""
    planes = [
        (d["label"], d["landscape"]["plane"])
        for d in result["designs"]
        if d.get("landscape") and d["landscape"].get("plane")
    ]
    if not planes:
        return None
    values = [v for _, p in planes for row in p["loss"] for v in row if v]
    lo, hi = math.log10(min(values)), math.log10(max(values))
    fig = make_subplots(rows=1, cols=len(planes), subplot_titles=[label for label, _ in planes])
    for i, (_, p) in enumerate(planes, start=1):
        fig.add_trace(
            go.Contour(
                x=p["alphas"],
                y=p["betas"],
                z=[[math.log10(v) if v else None for v in row] for row in p["loss"]],
                zmin=lo,
                zmax=hi,
                coloraxis="coloraxis",
                contours={"showlabels": True, "labelfont": {"size": 9, "color": "white"}},
                hovertemplate="a %{x:.2f}, b %{y:.2f}: 10^%{z:.2f}<extra></extra>",
            ),
            row=1,
            col=i,
        )
        fig.update_xaxes(title_text="alpha", row=1, col=i)
        fig.update_yaxes(title_text="beta", scaleanchor=f"x{i if i > 1 else ''}", row=1, col=i)
    fig.update_layout(
        height=420,
        coloraxis={"colorscale": "Viridis", "colorbar": {"title": "log10 loss"}},
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
    )
    return fig


def lesion_chart(result: dict[str, Any]) -> go.Figure:
    """Held-out accuracy with each block removed (markers), the intact accuracy (dashed)."""
    fig = go.Figure()
    for i, d in enumerate(result["designs"]):
        les = d.get("lesion")
        if not les:
            continue
        color = COLORS[i % len(COLORS)]
        names = [b["name"] for b in les["blocks"]]
        fig.add_trace(
            go.Scatter(
                x=names,
                y=[b["acc"] for b in les["blocks"]],
                mode="lines+markers",
                name=f"{d['label']} (one block removed)",
                line={"color": color},
                connectgaps=False,
            )
        )
        fig.add_trace(
            go.Scatter(
                x=[names[0], names[-1]],
                y=[les["baseline"]["acc"]] * 2,
                mode="lines",
                name=f"{d['label']} intact",
                line={"color": color, "dash": "dash"},
            )
        )
    fig.update_layout(
        height=380,
        xaxis_title="block removed",
        yaxis_title="held-out accuracy",
        yaxis_range=[0, 1.02],
        margin={"l": 10, "r": 10, "t": 20, "b": 10},
    )
    return fig
