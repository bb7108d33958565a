"""The design-review report: one self-contained HTML file for a design or a comparison.

>>> from resnet_explorer import presets                          # doctest: +SKIP
>>> from resnet_explorer.report import Candidate, build_report
>>> text = build_report([Candidate("resnet18", presets.get("resnet18")),
...                      Candidate("resnet34", presets.get("resnet34"))], store=Store())

Diagrams are inline SVG (a notice replaces them where Graphviz's ``dot`` is missing), charts are
interactive plotly with plotly.js inlined, and every design's JSON is embedded, so the file opens
offline. The figures it shows (`metrics`, `figures`) are the Compare page's too. See
docs/report.md.
"""

from resnet_explorer.report.build import SCHEMA, ReportError, build_report, check_candidates
from resnet_explorer.report.evidence import RunCurve, curve_metrics, measured_latency, run_curves
from resnet_explorer.report.metrics import (
    MAX_CANDIDATES,
    METRICS,
    Candidate,
    DesignMetrics,
    Latency,
    comparison_rows,
    exact_rows,
    measure,
    stage_rows,
)

__all__ = [
    "MAX_CANDIDATES",
    "METRICS",
    "SCHEMA",
    "Candidate",
    "DesignMetrics",
    "Latency",
    "ReportError",
    "RunCurve",
    "build_report",
    "check_candidates",
    "comparison_rows",
    "curve_metrics",
    "exact_rows",
    "measure",
    "measured_latency",
    "run_curves",
    "stage_rows",
]
