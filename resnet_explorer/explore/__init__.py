"""Explore a design space: define it, sample it under a budget, evaluate, compare distributions.

`Space` (space.py) defines knobs, body and constraints (JSON, docs/explore.md); `sample_space`
(sampling.py) draws seeded designs, rejecting invalid or out-of-budget ones with reasons, using
the plan's analytic counts only; `EvalOptions` / `evaluate_design` (evaluate.py) measure
latency and a short probe; `LocalBackend` / `RayBackend` (backends.py) run those measurements;
`explore` / `ExploreJob` (runner.py) tie it together; results.py reads and writes the JSON-lines
results and computes Pareto fronts, EDFs and top-k tables. Never imports Streamlit; torch and
ray are imported only when measuring.
"""

from resnet_explorer.explore.backends import (
    Backend,
    BackendError,
    LocalBackend,
    Outcome,
    RayBackend,
    Task,
)
from resnet_explorer.explore.evaluate import EvalError, EvalOptions, evaluate_design
from resnet_explorer.explore.results import (
    Results,
    ResultsError,
    edf,
    edfs,
    load_jsonl,
    pareto_front,
    top_k,
)
from resnet_explorer.explore.runner import ExploreJob, ExploreRun, explore
from resnet_explorer.explore.sampling import Sample, SampleReport, sample_space
from resnet_explorer.explore.space import Space, SpaceError, SpaceKnob

__all__ = [
    "Backend",
    "BackendError",
    "EvalError",
    "EvalOptions",
    "ExploreJob",
    "ExploreRun",
    "LocalBackend",
    "Outcome",
    "RayBackend",
    "Results",
    "ResultsError",
    "Sample",
    "SampleReport",
    "Space",
    "SpaceError",
    "SpaceKnob",
    "Task",
    "edf",
    "edfs",
    "evaluate_design",
    "explore",
    "load_jsonl",
    "pareto_front",
    "sample_space",
    "top_k",
]
