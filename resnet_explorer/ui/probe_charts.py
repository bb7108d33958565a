"""Plotly figures of the Probe page, built from plain job events and study results (no
Streamlit here, so they are easy to test)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import plotly.graph_objects as go
from plotly.colors import qualitative
from plotly.subplots import make_subplots

from resnet_explorer.probes import stats
from resnet_explorer.probes.events import Eval, ProbeEvent, Step

COLORS = qualitative.Plotly
#: A log axis whose every label carries its magnitude: plotly's automatic minor labels between
#: decades read "2", "5" with no power of ten; these read 0.02, 0.05, 200, 5e+3.
LOG_AXIS = {"type": "log", "tickformat": ".2~g", "minor": {"showgrid": True}}


def _color(i: int) -> str:
    """The ``i``-th design's colour (the palette repeats)."""
    return COLORS[i % len(COLORS)]


def _log_y(fig: go.Figure, x_title: str, y_title: str) -> go.Figure:
    """``fig`` as a one-axis chart of the page: 360 px tall, ``y_title`` on a log axis."""
    fig.update_layout(
        height=360,
        xaxis_title=x_title,
        yaxis={**LOG_AXIS, "title": y_title},
        margin={"l": 10, "r": 10, "t": 20, "b": 10},
    )
    return fig


def curves(events: Sequence[ProbeEvent]) -> dict[str, dict[str, list[Any]]]:
    """Per design label (its first seed's run): the step events' ``step``/``elapsed``/``loss``/
    ``acc`` and the eval events' ``eval_step``/``eval_elapsed``/``val_loss``/``val_acc``."""
    return {label: runs[min(runs)] for label, runs in curves_by_seed(events).items()}


def curves_by_seed(events: Sequence[ProbeEvent]) -> dict[str, dict[int, dict[str, list[Any]]]]:
    """`curves` for every seed: ``{label: {seed: {...}}}``, in the order they appear."""
    out: dict[str, dict[int, dict[str, list[Any]]]] = {}
    keys = ("step", "elapsed", "loss", "acc", "eval_step", "eval_elapsed", "val_loss", "val_acc")
    for e in events:
        if not isinstance(e, (Step, Eval)):
            continue
        c = out.setdefault(e.label, {}).setdefault(e.seed, {k: [] for k in keys})
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


def _aligned(runs: dict[int, dict[str, list[Any]]], step: str, keys: tuple[str, ...]):
    """The seeds' values of ``keys`` aligned on the step numbers any of them reached."""
    steps = sorted({s for c in runs.values() for s in c[step]})
    out = {}
    for key in keys:
        out[key] = [
            [dict(zip(c[step], c[key], strict=True)).get(s) for s in steps] for c in runs.values()
        ]
    return steps, out


def _rgba(color: str, alpha: float) -> str:
    h = color.lstrip("#")
    r, g, b = (int(h[i : i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha})"


def _band_traces(fig, x, b, color: str, label: str, col: int) -> None:
    """A shaded band from ``b["lo"]`` to ``b["hi"]`` (the lower edge fills up to the upper)."""
    fig.add_trace(
        go.Scatter(x=x, y=b["hi"], mode="lines", line={"width": 0}, hoverinfo="skip",
                   legendgroup=label, showlegend=False),
        row=1, col=col,
    )  # fmt: skip
    fig.add_trace(
        go.Scatter(x=x, y=b["lo"], mode="lines", line={"width": 0}, fill="tonexty",
                   fillcolor=_rgba(color, 0.2), hoverinfo="skip", legendgroup=label,
                   name=f"{label} band", showlegend=False),
        row=1, col=col,
    )  # fmt: skip


def training_curves(events: Sequence[ProbeEvent], x: str = "step") -> go.Figure:
    """Loss and accuracy, training (lines) and held-out (dashed, markers), against ``x``
    ("step" or "elapsed": training seconds), one colour per design. With several seeds: the
    mean over seeds and a shaded band (bootstrap 95 % interval of the mean with 3 or more
    seeds, their min–max with 2), said in the legend."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=("Loss", "Accuracy"))
    for i, (label, runs) in enumerate(curves_by_seed(events).items()):
        color = _color(i)
        seeds = len(runs)
        name = label if seeds == 1 else f"{label} ({stats.band_method(seeds)})"
        steps, train = _aligned(runs, "step", ("loss", "acc", "elapsed"))
        e_steps, held = _aligned(runs, "eval_step", ("val_loss", "val_acc", "eval_elapsed"))
        xs = steps if x == "step" else stats.band(train["elapsed"])["mean"]
        ex = e_steps if x == "step" else stats.band(held["eval_elapsed"])["mean"]
        for col, (tk, hk) in enumerate((("loss", "val_loss"), ("acc", "val_acc")), start=1):
            b = stats.band(train[tk])
            if seeds > 1:
                _band_traces(fig, xs, b, color, label, col)
            fig.add_trace(
                go.Scatter(x=xs, y=b["mean"], mode="lines", name=f"{name} train",
                           legendgroup=label, line={"color": color, "width": 1.5},
                           showlegend=col == 1),
                row=1, col=col,
            )  # fmt: skip
            if e_steps:
                fig.add_trace(
                    go.Scatter(x=ex, y=stats.band(held[hk])["mean"], mode="lines+markers",
                               name=f"{label} held-out", legendgroup=label,
                               line={"color": color, "dash": "dash"}, showlegend=col == 1),
                    row=1, col=col,
                )  # fmt: skip
    title = "step" if x == "step" else "training seconds"
    fig.update_xaxes(title_text=title)
    fig.update_yaxes(range=[0, 1.02], row=1, col=2)
    fig.update_layout(height=380, margin={"l": 10, "r": 10, "t": 40, "b": 10}, legend_x=1.02)
    return fig


def depth_ladder(statistics: dict[str, Any], metric: str = "final_train_loss") -> go.Figure:
    """Final training loss against depth, one line plain, one line residual, with the
    intervals over the seeds as error bars (labels ``plainD`` / ``resnetD``)."""
    from resnet_explorer.probes.experiments import ladder

    fig = go.Figure()
    for i, (kind, points) in enumerate(ladder(statistics, metric).items()):
        if not points:
            continue
        fig.add_trace(
            go.Scatter(
                x=[p[0] for p in points],
                y=[p[1]["mean"] for p in points],
                error_y={
                    "type": "data",
                    "symmetric": False,
                    "array": [p[1]["hi"] - p[1]["mean"] for p in points],
                    "arrayminus": [p[1]["mean"] - p[1]["lo"] for p in points],
                },
                mode="lines+markers",
                name="plain" if kind == "plain" else "residual (option A)",
                line={"color": COLORS[i]},
            )
        )
    method = next(
        (d[metric]["method"] for d in statistics.get("designs", {}).values() if d.get(metric)), ""
    )
    fig.update_layout(
        height=360,
        xaxis_title="depth (layers)",
        yaxis_title=f"final training loss (mean; bars: {method})",
        margin={"l": 10, "r": 10, "t": 20, "b": 10},
    )
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
                line={"color": _color(i)},
            )
        )
    return _log_y(fig, "block (input -> output)", "gradient norm at init")


def grad_flow_over_training(events: Sequence[ProbeEvent]) -> dict[str, dict[str, Any]]:
    """Per design (its first seed): ``{"steps": [...], "blocks": [...], "z": [[norm per step]
    per block]}`` from the eval events that carry per-block gradient norms (stem and head left
    out)."""
    out: dict[str, dict[str, Any]] = {}
    first: dict[str, int] = {}
    for e in events:
        if not isinstance(e, Eval) or not e.grad_norm:
            continue
        if first.setdefault(e.label, e.seed) != e.seed:
            continue  # the first seed of each design
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
                line={"color": _color(i)},
            )
        )
    return _log_y(fig, "step along a filter-normalised random direction (alpha)", "held-out loss")


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
        color = _color(i)
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


#: Where a variance ratio of exactly 0 (zero-init: the branch starts at zero) is drawn on the log
#: axis; the caption says so.
RATIO_FLOOR = 1e-6


def signal_chart(results: dict[str, dict[str, Any]]) -> go.Figure:
    """Per block: Var(F(x))/Var(x) (left) and |dL/dx| (right), log scales, one line per
    design; designs whose label ends with ``+ zero-init`` are dashed in their order's colour."""
    fig = make_subplots(
        rows=1,
        cols=2,
        subplot_titles=("Var(residual branch) / Var(block input)", "|dL/dx| at the block input"),
    )
    colours: dict[str, str] = {}
    for label, r in results.items():
        base = label.removesuffix(" + zero-init")
        color = colours.setdefault(base, COLORS[len(colours) % len(COLORS)])
        blocks = r["blocks"]
        names = [b["name"] for b in blocks]
        dash = "dash" if label.endswith("zero-init") else None
        for col, key in ((1, "variance_ratio"), (2, "grad_norm")):
            values = [b[key] for b in blocks]
            if key == "variance_ratio":
                values = [None if v is None else max(v, RATIO_FLOOR) for v in values]
            fig.add_trace(
                go.Scatter(
                    x=list(range(1, len(blocks) + 1)),
                    y=values,
                    text=names,
                    mode="lines+markers",
                    marker={"size": 4},
                    name=label,
                    legendgroup=label,
                    showlegend=col == 1,
                    line={"color": color, "dash": dash, "width": 1.5},
                    hovertemplate="%{text}: %{y:.3g}<extra>" + label + "</extra>",
                ),
                row=1,
                col=col,
            )
    fig.update_xaxes(title_text="block (input -> output)")
    fig.update_yaxes(**LOG_AXIS)
    fig.update_layout(height=420, margin={"l": 10, "r": 10, "t": 40, "b": 10})
    return fig


def signal_over_training(events: Sequence[ProbeEvent]) -> dict[int, dict[str, dict[str, Any]]]:
    """``{step: {label: {"blocks": [{"name", "variance_ratio", "grad_norm"}]}}}`` from the
    evaluation events that carry a signal measurement (each design's first seed)."""
    out: dict[int, dict[str, dict[str, Any]]] = {}
    first: dict[str, int] = {}
    for e in events:
        if not isinstance(e, Eval) or not e.signal:
            continue
        if first.setdefault(e.label, e.seed) != e.seed:
            continue
        blocks = [{"name": n, **v} for n, v in sorted(e.signal["blocks"].items(), key=_by_block)]
        out.setdefault(e.step, {})[e.label] = {"blocks": blocks}
    return dict(sorted(out.items()))


def _by_block(item: tuple[str, Any]) -> tuple[int, int]:
    return _block_key(item[0])
