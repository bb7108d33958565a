"""Assemble the review report of one design or a comparison: one self-contained HTML file."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from resnet_explorer import presets
from resnet_explorer.design import Design
from resnet_explorer.diagrams import (
    DiagramError,
    DotNotFoundError,
    RenderError,
    diff_diagram,
    network_diagram,
    render,
)
from resnet_explorer.diagrams.diff import differences, field_changes, marks, summary
from resnet_explorer.errors import DesignError, ResNetExplorerError
from resnet_explorer.report import evidence, figures
from resnet_explorer.report import html as h
from resnet_explorer.report.metrics import (
    MAX_CANDIDATES,
    MEMORY_BATCH,
    METRICS,
    Candidate,
    DesignMetrics,
    column_name,
    comparison_rows,
    exact_rows,
    measure,
    stage_rows,
)
from resnet_explorer.store import Store, StoreError

SCHEMA = "resnet-explorer/review-report/v1"
MAX_CURVE_METRICS = 4


class ReportError(ResNetExplorerError, ValueError):
    """The report cannot be made from what was given (no designs, too many)."""


@dataclass
class Evidence:
    """What the library says about the designs: latencies, run curves and any trouble."""

    latencies: dict[str, evidence.Latency | None] = field(default_factory=dict)
    curves: list[evidence.RunCurve] = field(default_factory=list)
    notice: str | None = None  # why the library could not be read, if it could not


def check_candidates(candidates: Sequence[Candidate]) -> list[Candidate]:
    """1 to `MAX_CANDIDATES` candidates, else `ReportError`."""
    items = list(candidates)
    if not items:
        raise ReportError("a report needs at least one design")
    if len(items) > MAX_CANDIDATES:
        raise ReportError(
            f"a report compares at most {MAX_CANDIDATES} designs; {len(items)} were given"
        )
    for c in items:
        if not isinstance(c, Candidate) or not isinstance(c.design, Design):
            raise ReportError(f"not a design candidate: {c!r}")
    return items


def gather_evidence(candidates: Sequence[Candidate], store: Store | None) -> Evidence:
    """Read latencies and runs of ``candidates`` from ``store`` (nothing when None)."""
    found = Evidence()
    if store is None:
        found.notice = "No library was consulted: latency and probe runs are not shown."
        return found
    try:
        for c in candidates:
            found.latencies[c.design.hash] = evidence.measured_latency(store, c.design.hash)
        found.curves = evidence.run_curves(store, [(c.name, c.design.hash) for c in candidates])
    except StoreError as exc:
        found.notice = f"The library could not be read, so latency and runs are missing: {exc}"
    return found


def build_report(
    candidates: Sequence[Candidate],
    *,
    store: Store | None = None,
    title: str | None = None,
    memory_batch: int | None = MEMORY_BATCH,
    now: dt.datetime | None = None,
) -> str:
    """The review report of ``candidates`` (1 to 4) as one HTML document (a str).

    Metrics with deltas against the first design, per-stage tables and bars, the MACs /
    parameters / measured-latency scatter, diagrams as inline SVG (or a notice where ``dot`` is
    missing), probe curves from ``store`` and each design's JSON. plotly.js is inlined.
    """
    items = check_candidates(candidates)
    found = gather_evidence(items, store)
    metrics = [
        measure(c, latency=found.latencies.get(c.design.hash), memory_batch=memory_batch)
        for c in items
    ]
    names = [column_name(metrics, i) for i in range(len(metrics))]
    title = title or (
        f"Design review: {names[0]}" if len(items) == 1 else "Design review: " + " vs ".join(names)
    )
    when = (now or dt.datetime.now(dt.UTC)).strftime("%Y-%m-%d %H:%M UTC")
    sections = [
        ("summary", "Summary", _summary(items, metrics, names)),
        ("stages", "Per stage", _stages(metrics)),
        ("costs", "Cost", _costs(metrics)),
        ("diagrams", "Diagrams", _diagrams(items, names)),
        ("runs", "Probe runs", _runs(found, names)),
        ("designs", "Designs (JSON)", _designs(items, names)),
    ]
    nav = "".join(f'<a href="#{key}">{h.esc(label)}</a>' for key, label, _ in sections)
    body = [
        f"<h1>{h.esc(title)}</h1>",
        f"<p class='meta'>Made by ResNet Explorer on {h.esc(when)}. Counts are exact "
        "(analytic, one image); training memory is an estimate; latency is measured and read "
        "from the library.</p>",
        f"<nav>{nav}</nav>",
    ]
    if found.notice:
        body.append(f"<p class='notice'>{h.esc(found.notice)}</p>")
    for key, label, content in sections:
        body.append(f'<section id="{key}"><h2>{h.esc(label)}</h2>{content}</section>')
    data = {
        "schema": SCHEMA,
        "title": title,
        "created": when,
        "designs": [
            {"name": n, "source": c.source, "hash": c.design.hash, "design": c.design.to_dict()}
            for n, c in zip(names, items, strict=True)
        ],
        "metrics": exact_rows(metrics),
    }
    body.append(h.json_script(data, "report-data"))
    return h.page(title, "\n".join(body))


def _summary(items: list[Candidate], metrics: list[DesignMetrics], names: list[str]) -> str:
    legend = "".join(
        f"<li><span class='chip' style='background:{figures.color(i)}'></span>"
        f"<b>{h.esc(n)}</b> {h.esc(_provenance(c))}</li>"
        for i, (n, c) in enumerate(zip(names, items, strict=True))
    )
    rows = comparison_rows(metrics)
    for row, metric in zip(rows, METRICS, strict=True):
        row["metric"] = f"{row['metric']} ({metric.kind})"
    parts = [f"<ul>{legend}</ul>", h.table(rows, ["metric", *names], numeric=names)]
    if len(items) > 1:
        parts.append(f"<p class='caption'>Deltas in brackets are against {h.esc(names[0])}.</p>")
        for n, c in zip(names[1:], items[1:], strict=True):
            changes = field_changes(items[0].design, c.design) or ["no differences"]
            lines = "".join(f"<li><code>{h.esc(x)}</code></li>" for x in changes)
            parts.append(
                f"<h3>{h.esc(n)} vs {h.esc(names[0])}</h3><ul class='changes'>{lines}</ul>"
            )
    return "".join(parts)


def _provenance(c: Candidate) -> str:
    match = presets.find(c.design)
    bits = [f"from the {c.source}" if c.source else ""]
    if match is not None:
        bits.append(f"equals preset {match.name} ({match.title}; {match.source})")
    bits.append(f"hash {c.design.hash}")
    return ", ".join(b for b in bits if b)


def _stages(metrics: list[DesignMetrics]) -> str:
    rows = stage_rows(metrics)
    return (
        h.figure(figures.stage_bars(metrics), "fig-stages")
        + h.table(rows, numeric=("params", "macs", "activations"))
        + "<p class='caption'>Exact counts for one image; 'stem + head' is everything outside "
        "the stages.</p>"
    )


def _costs(metrics: list[DesignMetrics]) -> str:
    parts = [h.figure(figures.cost_scatter(metrics), "fig-cost")]
    latency = figures.latency_scatter(metrics)
    if latency is not None:
        parts.append(h.figure(latency, "fig-latency"))
    missing = [m.name for m in metrics if m.latency is None]
    if missing:
        parts.append(
            "<p class='caption'>Latency not measured for "
            + h.esc(", ".join(missing))
            + " (no profile with latency in the library).</p>"
        )
    return "".join(parts)


def _diagrams(items: list[Candidate], names: list[str]) -> str:
    try:
        graphs = _graphs(items, names)
    except (DiagramError, DesignError) as exc:  # DesignTooLarge: over the size cap
        return f"<p class='notice'>The diagrams could not be drawn: {h.esc(exc)}</p>"
    cells = []
    for label, graph, reasons in graphs:
        try:
            svg = h.inline_svg(render(graph, "svg"))
        except DotNotFoundError:
            return (
                "<p class='notice'>The diagrams are left out: the Graphviz 'dot' program is not "
                "installed where this report was made, and a report never carries diagrams it "
                "cannot draw (install the Debian package 'graphviz'; "
                "<code>scripts/run-app.sh</code> does). The rest of the report is complete.</p>"
            )
        except (RenderError, ValueError) as exc:
            cells.append(
                f"<div class='diagram'><p class='notice'>{h.esc(label)}: could not be drawn "
                f"({h.esc(exc)})</p></div>"
            )
            continue
        listed = "".join(f"<li>{h.esc(x)}</li>" for x in reasons)
        listed = f"<ul class='changes'>{listed}</ul>" if listed else ""
        cells.append(f"<div class='diagram'><h3>{h.esc(label)}</h3>{svg}{listed}</div>")
    caption = (
        "What differs from the first design is outlined in red, with a note saying how."
        if len(items) > 1
        else "Each stage collapsed; a dashed outline marks a projection shortcut."
    )
    return f"<div class='diagrams'>{''.join(cells)}</div><p class='caption'>{caption}</p>"


def _graphs(items: list[Candidate], names: list[str]) -> list[tuple[str, object, list[str]]]:
    """(label, graph, why it differs from the first) for each diagram of the report."""
    if len(items) == 2:
        graph = diff_diagram(items[0].design, items[1].design, names=(names[0], names[1]))
        found = summary(differences(items[0].design, items[1].design))
        return [(f"{names[0]} vs {names[1]}", graph, found)]
    graphs = []
    for i, (n, c) in enumerate(zip(names, items, strict=True)):
        found = differences(items[0].design, c.design) if i else []
        graph = network_diagram(c.design, title=n, marks=marks(found))
        graphs.append((n, graph, summary(found)))
    return graphs


def _runs(found: Evidence, names: list[str]) -> str:
    if not found.curves:
        return (
            "<p class='note'>No probe runs of these designs are in the library yet "
            "(run <code>python -m resnet_explorer probe</code> or the Probes page).</p>"
        )
    parts = []
    metric_names = [m for m in evidence.curve_metrics(found.curves) if m != "lr"]
    for k, metric in enumerate(metric_names[:MAX_CURVE_METRICS]):
        parts.append(f"<h3>{h.esc(metric)}</h3>")
        parts.append(h.figure(figures.run_curves(found.curves, metric, names), f"fig-run-{k}"))
    rows = [
        {
            "design": c.design,
            "run": c.run.run_id,
            "status": c.run.status,
            "steps": len(c.rows),
            **_run_settings(c.run.config),
            "started": c.run.started,
            "finished": c.run.finished or "",
            "error": c.run.error or "",
        }
        for c in found.curves
    ]
    parts.append(h.table(rows, numeric=("steps",)))
    order = next((c.run.config.get("data_order") for c in found.curves if c.run.config), None)
    if order:
        parts.append(f"<p class='caption'>Data order of every run: {h.esc(str(order))}.</p>")
    return "".join(parts)


def _run_settings(config: dict) -> dict[str, str]:
    """What a run needs to be repeated: its seed (of how many), budget and dataset."""
    config = config if isinstance(config, dict) else {}
    budget = (
        f"{config['steps']} steps" if config.get("steps") else f"{config.get('seconds', '?')} s"
    )
    return {
        "seed": f"{config.get('seed', '?')} (one of {config.get('seeds', 1)})",
        "budget": budget,
        "dataset": str(config.get("dataset") or ""),
    }


def _designs(items: list[Candidate], names: list[str]) -> str:
    parts = []
    for i, (n, c) in enumerate(zip(names, items, strict=True)):
        parts.append(
            f"<h3>{h.esc(n)}</h3><p class='caption'>Share token: <code>{h.esc(c.design.to_url())}"
            "</code></p>"
            f"<pre id='design-json-{i}'>{h.esc(c.design.to_json(indent=2))}</pre>"
        )
    return "".join(parts)
