"""What a design costs: analytic counts, fvcore and torchinfo views, memory, measured latency.

`profile` gathers everything; each part is callable alone: `parameters`, `flops`,
`activations`, `memory`, `summary`, `latency`. Only `analytic` is needed to count; fvcore and
torchinfo are imported when their parts run.
"""

from resnet_explorer.analysis._common import AnalysisError
from resnet_explorer.analysis.analytic import LayerCount, Totals, layer_counts, stage_totals, totals
from resnet_explorer.analysis.flops import CONVENTIONS, FlopReport, flops, measure_fvcore
from resnet_explorer.analysis.latency import (
    LatencyError,
    LatencyOptions,
    LatencyReport,
    LatencyRow,
    latency,
)
from resnet_explorer.analysis.memory import MemoryReport, memory, saved_activations
from resnet_explorer.analysis.parameters import ParameterReport, parameters
from resnet_explorer.analysis.profile import ActivationReport, Profile, activations, profile
from resnet_explorer.analysis.summary import SummaryReport, summary

__all__ = [
    "CONVENTIONS",
    "ActivationReport",
    "AnalysisError",
    "FlopReport",
    "LatencyError",
    "LatencyOptions",
    "LatencyReport",
    "LatencyRow",
    "LayerCount",
    "MemoryReport",
    "ParameterReport",
    "Profile",
    "SummaryReport",
    "Totals",
    "activations",
    "flops",
    "latency",
    "layer_counts",
    "measure_fvcore",
    "memory",
    "parameters",
    "profile",
    "saved_activations",
    "stage_totals",
    "summary",
    "totals",
]
