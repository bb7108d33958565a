"""Studies of trained probe models: train and keep the models, evaluation tensors, accuracy.

Shared by `landscape` (loss-surface slices) and `lesion` (removing blocks). A study trains its
designs with a `Probe` made with ``keep_models=True`` (the CLI), or runs as the ``then`` step of a
background job (`jobs.JobManager.submit`), which hands it the finished `Probe`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from resnet_explorer.design import Design
from resnet_explorer.probes.config import ProbeConfig
from resnet_explorer.probes.data import Dataset, normalize
from resnet_explorer.probes.runner import DesignSpec, Probe

Report = Callable[[float, str], None]
Cancel = Callable[[], bool]


def never() -> bool:
    """A cancel check that never cancels."""
    return False


def as_cancel(cancel: threading.Event | Cancel | None) -> Cancel:
    """A callable cancel check from an `Event`, a callable or None."""
    if cancel is None:
        return never
    if isinstance(cancel, threading.Event):
        return cancel.is_set
    return cancel


def eval_tensors(
    data: Dataset,
    design: Design,
    images: int,
    device: torch.device | str,
    *,
    split: str = "held_out",
) -> tuple[torch.Tensor, torch.Tensor]:
    """The first ``images`` held-out (or ``train``) images, adapted to ``design``'s input size and
    channels and normalised as in training (no augmentation), with their labels, on ``device``."""
    adapted = data.adapt(design.image_size, design.in_channels)
    xs, ys = (
        (adapted.test_x, adapted.test_y)
        if split == "held_out"
        else (
            adapted.train_x,
            adapted.train_y,
        )
    )
    n = max(1, min(int(images), len(ys)))
    shape = (1, -1, 1, 1)
    mean = torch.tensor(adapted.mean, device=device).view(shape)
    std = torch.tensor(adapted.std, device=device).view(shape)
    x = normalize(xs[:n].to(device), mean, std)
    return x, ys[:n].to(device)


@torch.no_grad()
def evaluate(
    model: nn.Module, x: torch.Tensor, y: torch.Tensor, *, batch_size: int = 512
) -> tuple[float, float]:
    """(mean cross-entropy, accuracy) of ``model`` in eval mode on ``x``, ``y``."""
    was_training = model.training
    model.eval()
    total = torch.zeros((), device=x.device)
    correct = torch.zeros((), device=x.device)
    try:
        for start in range(0, len(y), batch_size):
            logits = model(x[start : start + batch_size]).float()
            yb = y[start : start + batch_size]
            total += F.cross_entropy(logits, yb, reduction="sum")
            correct += (logits.argmax(1) == yb).sum()
    finally:
        model.train(was_training)
    loss, right = torch.stack([total, correct]).cpu().tolist()
    return loss / len(y), right / len(y)


def train(
    designs: Sequence[DesignSpec],
    config: ProbeConfig,
    *,
    data: Dataset | None = None,
    cancel: threading.Event | Cancel | None = None,
    on_event: Callable[[dict[str, Any]], None] | None = None,
) -> Probe:
    """Train ``designs`` under ``config`` and return the finished `Probe` with its models kept
    (``probe.result.runs[i].model``; None for a design that failed or diverged)."""
    probe = Probe(designs, config, data=data, cancel=as_cancel(cancel), keep_models=True)
    for event in probe.events():
        if on_event is not None:
            on_event(event)
    return probe


def run_header(probe: Probe, index: int) -> dict[str, Any]:
    """Label, hash, depth, training status and held-out accuracy of the probe's ``index``-th run."""
    run = probe.result.runs[index]
    summary = run.summary(probe.config.batch_size)
    return {
        "label": run.label,
        "hash": run.design.hash,
        "depth": run.design.depth,
        "shortcut": run.design.shortcut,
        "train_status": run.status,
        "train_steps": run.steps,
        "train_loss": summary["final_train_loss"],
        "held_out_acc": summary["held_out_acc"],
    }


#: ``analyse(run, images, labels, cancel, report) -> result`` for one trained design.
Analysis = Callable[[Any, torch.Tensor, torch.Tensor, Cancel, Report], Any]


def for_each_trained(
    probe: Probe,
    key: str,
    images: int,
    analyse: Analysis,
    *,
    cancel: threading.Event | Cancel | None = None,
    report: Report | None = None,
) -> list[dict[str, Any]]:
    """Run ``analyse`` on every trained model of a finished `Probe` (made with ``keep_models``),
    each on the same ``images`` held-out images; returns one `run_header` per design with the
    result under ``key`` (None for a design without a model: failed, diverged, or cancelled)."""
    check = as_cancel(cancel)
    runs = probe.result.runs
    out = []
    for i, run in enumerate(runs):
        header = run_header(probe, i)
        if run.model is None or check():
            out.append({**header, key: None})
            continue

        def part(fraction: float, text: str, i: int = i, label: str = run.label) -> None:
            if report is not None:
                report((i + fraction) / len(runs), f"{label}: {text}")

        x, y = eval_tensors(probe.data, run.design, images, probe.device)
        out.append({**header, key: analyse(run, x, y, check, part)})
    return out
