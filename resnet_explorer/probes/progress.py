"""What a background job reports: a `JobStatus` snapshot with a `DesignProgress` per design.

Both are frozen typed records (`typed.Record`), also readable as the plain mappings the Probe
page and the docs use (``status["state"]``). `Progress` is the mutable per-design state the
`jobs.JobManager` folds events into (`Progress.fold`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from resnet_explorer.probes.events import DesignEnd, DesignStart, Eval, ProbeEvent, RunSummary, Step
from resnet_explorer.status import FINISHED, JobState, Phase, RunState
from resnet_explorer.typed import Record, same_named


@dataclass(frozen=True, eq=False)
class DesignProgress(Record):
    """One design of a job, as far as it got: its state, last step's figures, last held-out
    figures, and once it ended the reason and its `RunSummary`."""

    label: str
    hash: str
    status: RunState = "pending"
    seed: int = 0
    key: str = ""
    """The run's key in the job: its label, with `` · seed N`` when it has several seeds."""
    step: int = 0
    steps: int | None = None
    loss: float | None = None
    acc: float | None = None
    lr: float | None = None
    elapsed: float | None = None
    images_per_s: float | None = None
    held_out_loss: float | None = None
    held_out_acc: float | None = None
    reason: str | None = None
    diverged_at: int | None = None
    error: str | None = None
    summary: RunSummary | None = None


@dataclass(frozen=True, eq=False)
class JobStatus(Record):
    """A snapshot of one job (`JobManager.status`): plain data, safe to keep and compare."""

    id: str
    name: str
    state: JobState
    position: int | None
    device: str
    config: dict[str, Any]
    designs: list[DesignProgress]
    submitted_at: float
    started_at: float | None
    finished_at: float | None
    error: str | None
    hook_errors: list[str]
    events: list[ProbeEvent]
    next: int
    phase: Phase
    analysis: Any
    analysis_progress: dict[str, Any]
    owner: str = ""
    """Who started it (a session's label), shown in every session's job list."""
    kind: str = "probe"
    watched: bool = False
    unwatched_for: float | None = None
    """Seconds since its page last touched it (watched jobs only)."""
    stop_reason: str | None = None
    """Why it was stopped when not at its owner's request (e.g. nobody watched it)."""

    @property
    def finished(self) -> bool:
        return self.state in FINISHED


#: The `DesignProgress` fields each kind of event sets: its own fields of the same names.
_KEPT: dict[type, tuple[str, ...]] = {
    Step: ("step", "loss", "acc", "lr", "elapsed", "images_per_s"),
    Eval: ("held_out_loss", "held_out_acc"),
    DesignEnd: ("reason", "diverged_at", "error", "summary"),
}


@dataclass
class Progress:
    """The mutable progress of one run (a design and a seed) inside the manager (see
    `DesignProgress`)."""

    label: str
    hash: str
    seed: int = 0
    status: RunState = "pending"
    values: dict[str, Any] = field(default_factory=dict)

    def fold(self, event: ProbeEvent) -> None:
        """Fold one event of this design into its progress."""
        if isinstance(event, DesignStart):
            self.status = "running"
        elif isinstance(event, DesignEnd):
            self.status = event.status
        self.values.update(same_named(event, _KEPT.get(type(event), ())))

    def snapshot(self, key: str, steps: int | None) -> DesignProgress:
        """A frozen copy for `JobStatus.designs`."""
        values = {"step": 0, "steps": steps, **self.values}
        return DesignProgress(
            label=self.label, hash=self.hash, status=self.status, seed=self.seed, key=key, **values
        )
