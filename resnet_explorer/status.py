"""The one status vocabulary of runs and jobs, and how one layer's status becomes another's.

Every background job, probe run, exploration and stored run goes through the same lifecycle::

    queued -> running -> done | cancelled | failed

Each layer uses these words; where it needs more detail it refines them, and says so here:

* a **job** (`probes.jobs`) is exactly the lifecycle: `JobState`.
* one design's **training run** inside a probe (`probes.runner`) waits as ``pending`` (its
  ``queued``) and can end two more ways, both refinements of how training stopped:
  ``diverged`` (the loss became NaN/inf: a result, not an error) and ``oom`` (out of memory):
  `RunState`.
* an **exploration** (`explore.runner`) splits ``running`` into its two phases, ``sampling``
  and ``evaluating``: `ExploreState`.
* the **library** (`store`) stores a run's outcome as ``running``, ``completed`` (its spelling
  of ``done``, kept so that saved libraries and exports stay readable), ``failed`` or
  ``cancelled``: `StoredStatus`; `stored_status` maps a training run's state onto it.

Nothing else defines a status word: the engine, the store and the UI import them from here.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal, get_args

JobState = Literal["queued", "running", "done", "cancelled", "failed"]
RunState = Literal["pending", "running", "done", "diverged", "oom", "cancelled", "failed"]
ExploreState = Literal["sampling", "evaluating", "done", "cancelled", "failed"]
StoredStatus = Literal["running", "completed", "failed", "cancelled"]
Phase = Literal["training", "analysis", "finished"]
"""Where a job with a post-training study is: training, then the study, then finished."""

JOB_STATES: tuple[JobState, ...] = get_args(JobState)
RUN_STATES: tuple[RunState, ...] = get_args(RunState)
EXPLORE_STATES: tuple[ExploreState, ...] = get_args(ExploreState)
STORED_STATUSES: tuple[StoredStatus, ...] = get_args(StoredStatus)

#: The lifecycle's final words (every layer's final states are these or refinements of them).
FINISHED: frozenset[str] = frozenset({"done", "cancelled", "failed"})
#: How a training run can end: the final states plus its two refinements.
RUN_FINAL: tuple[RunState, ...] = ("done", "diverged", "oom", "cancelled", "failed")
#: A stored run's final statuses.
STORED_FINAL: tuple[StoredStatus, ...] = ("completed", "failed", "cancelled")
#: Training runs that ended with a usable result (a diverged run is a result too).
RUN_RESULTS: frozenset[str] = frozenset({"done", "diverged"})
#: Training runs that ended because something went wrong.
RUN_ERRORS: frozenset[str] = frozenset({"oom", "failed"})
ACTIVE: frozenset[str] = frozenset({"queued", "pending", "running", "sampling", "evaluating"})

_STORED: dict[str, StoredStatus] = {
    "pending": "running",
    "running": "running",
    "done": "completed",
    "cancelled": "cancelled",
    "diverged": "failed",
    "oom": "failed",
    "failed": "failed",
}


def is_finished(state: str) -> bool:
    """True once a job, run or exploration has ended (however it ended)."""
    return state in FINISHED or state in RUN_FINAL or state in STORED_FINAL


def is_active(state: str) -> bool:
    """True while it waits or works."""
    return state in ACTIVE


def stored_status(state: str) -> StoredStatus:
    """The library's status for a training run's state: done -> completed, cancelled ->
    cancelled, diverged / oom / failed -> failed (the reason goes in the run's error)."""
    try:
        return _STORED[state]
    except KeyError:
        raise ValueError(f"{state!r} is not a run state; use one of {RUN_STATES}") from None


def job_outcome(run_states: Iterable[str], *, cancelled: bool) -> JobState:
    """A finished job's state from its runs: cancelled when asked to stop, failed when every
    run failed or ran out of memory, else done."""
    if cancelled:
        return "cancelled"
    states = list(run_states)
    if states and all(s in RUN_ERRORS for s in states):
        return "failed"
    return "done"
