"""Lesion study (Veit et al. 2016, "Residual Networks Behave Like Ensembles of Relatively
Shallow Networks"): remove one block at a time from a trained network, at test time, and measure
the held-out accuracy.

Removing a residual block means keeping only its shortcut: the identity, or the zero-pad /
projection / pooled projection where the shapes change (for full pre-activation the projection
still sees the block's pre-activated input, as in training); the residual branch and anything
after the addition are dropped. A plain block (``shortcut="none"``) has no shortcut: it can be
removed only where it keeps the shape (stride 1, as many channels out as in), by replacing it
with the identity; where it changes the shape, removing it breaks the network, so it is skipped
and listed with the reason.

Residual nets degrade gracefully (the paths that skip the block still carry a useful signal);
plain nets collapse (every path runs through every block).
"""

from __future__ import annotations

import threading
import time
from typing import Any

import torch
from torch import nn

from resnet_explorer.design import Design
from resnet_explorer.plan import BlockPlan, plan
from resnet_explorer.probes.runner import Probe
from resnet_explorer.probes.trained import (
    Cancel,
    Report,
    as_cancel,
    evaluate,
    for_each_trained,
)


class ShortcutOnly(nn.Module):
    """A residual block reduced to its shortcut path (or the identity for a plain block)."""

    def __init__(self, block: nn.Module) -> None:
        super().__init__()
        self.block = block

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        block = self.block
        downsample = getattr(block, "downsample", None)
        if downsample is None:
            return x
        if getattr(block, "order", None) == "full_preact":
            x = block._act(block._norm(1)(x))
        return downsample(x)


def removable(block: BlockPlan) -> tuple[bool, str]:
    """Whether the block can be removed without breaking the network, and how (or why not)."""
    if block.shortcut != "none":
        how = {
            "identity": "identity shortcut",
            "zero_pad": "zero-padding shortcut (option A)",
            "projection": "projection shortcut",
            "avgpool_projection": "pooled projection shortcut (option D)",
        }[block.shortcut]
        return True, f"replaced by its {how}"
    if block.stride == 1 and block.in_channels == block.out_channels:
        return True, "plain block replaced by the identity (same shape in and out)"
    return False, (
        f"plain block changes the shape ({block.in_channels}->{block.out_channels} channels, "
        f"stride {block.stride}): removing it would break the network"
    )


def _parent_and_index(model: nn.Module, name: str) -> tuple[nn.Sequential, int]:
    stage, index = name.split(".")
    return getattr(model, stage), int(index)


def lesion(
    model: nn.Module,
    design: Design,
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    cancel: threading.Event | Cancel | None = None,
    report: Report | None = None,
) -> dict[str, Any]:
    """Held-out loss and accuracy of ``model`` (built from ``design``) with each block removed in
    turn (the model is restored afterwards).

    Returns ``{"baseline": {"loss", "acc"}, "blocks": [{"name", "stage", "index", "removable",
    "how", "loss", "acc", "acc_drop"}], "removed", "skipped", "mean_acc", "images", "seconds",
    "complete"}``; skipped blocks have ``loss``/``acc`` None. ``mean_acc`` averages the accuracy
    over the blocks removed.
    """
    check = as_cancel(cancel)
    t0 = time.perf_counter()
    base_loss, base_acc = evaluate(model, x, y)
    blocks = plan(design).blocks
    rows = []
    complete = True
    for i, b in enumerate(blocks):
        ok, how = removable(b)
        row: dict[str, Any] = {
            "name": b.name,
            "stage": b.stage,
            "index": b.index,
            "removable": ok,
            "how": how,
            "loss": None,
            "acc": None,
            "acc_drop": None,
        }
        if ok:
            if check():
                complete = False
                break
            parent, index = _parent_and_index(model, b.name)
            original = parent[index]
            parent[index] = ShortcutOnly(original)
            try:
                loss, acc = evaluate(model, x, y)
            finally:
                parent[index] = original
            row.update(loss=loss, acc=acc, acc_drop=base_acc - acc)
        rows.append(row)
        if report is not None:
            report((i + 1) / len(blocks), f"block {i + 1}/{len(blocks)}")
    done = [r for r in rows if r["acc"] is not None]
    return {
        "baseline": {"loss": base_loss, "acc": base_acc},
        "blocks": rows,
        "removed": len(done),
        "skipped": sum(1 for r in rows if not r["removable"]),
        "mean_acc": sum(r["acc"] for r in done) / len(done) if done else None,
        "images": len(y),
        "seconds": round(time.perf_counter() - t0, 3),
        "complete": complete,
    }


def study(
    probe: Probe,
    *,
    images: int = 1000,
    cancel: threading.Event | Cancel | None = None,
    report: Report | None = None,
) -> dict[str, Any]:
    """A lesion study per trained design of a finished `Probe` (made with ``keep_models``), on
    the same ``images`` held-out images. Designs without a model are listed with
    ``"lesion": None``."""
    out = for_each_trained(
        probe,
        "lesion",
        images,
        lambda run, x, y, check, part: lesion(
            run.model, run.design, x, y, cancel=check, report=part
        ),
        cancel=cancel,
        report=report,
    )
    return {"images": images, "dataset": probe.result.dataset, "designs": out}


def then(images: int = 1000):
    """A ``then`` step for `jobs.JobManager.submit`: the lesion study of the trained designs."""

    def step(probe: Probe, cancel: threading.Event, report: Report) -> dict[str, Any]:
        return study(probe, images=images, cancel=cancel, report=report)

    return step
