"""Loss-landscape slices around trained weights (Li et al. 2018, "Visualizing the Loss Landscape
of Neural Nets").

A random direction ``d`` with one entry per weight is *filter-normalised*: every filter (a slice
along the output dimension of a conv or linear weight) is rescaled to the norm of the same filter
of the trained weights, so that the scale invariance of batch-normalised nets does not distort
the picture; biases and norm parameters get no perturbation (``d = 0``), as in the paper. The
loss is then evaluated at ``theta + a d1`` (a 1-D line) and ``theta + a d1 + b d2`` (a 2-D
plane) on a fixed set of held-out images, with the trained batch-norm statistics (eval mode).

Evaluation is batched: ``points_per_batch`` grid points at once through `torch.func.vmap` over
`torch.func.functional_call` (a stacked copy of the weights per point), on the model's device;
on the CPU the default is one point at a time, which is as fast there and needs no extra memory.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from resnet_explorer.probes.errors import ProbeError
from resnet_explorer.probes.runner import Probe
from resnet_explorer.probes.trained import Cancel, Report, as_cancel, for_each_trained


@dataclass(frozen=True)
class LandscapeSpec:
    """What to evaluate: ``line`` points along one direction, a ``plane`` x ``plane`` grid (0 = no
    plane), both over ``[-span, span]``; ``images`` held-out images per point (the batch budget),
    evaluated ``batch_size`` at a time; ``points_per_batch`` grid points per forward pass (None =
    1 on the CPU, 8 on a GPU); ``seed`` for the directions."""

    line: int = 21
    plane: int = 9
    span: float = 1.0
    images: int = 256
    batch_size: int = 256
    points_per_batch: int | None = None
    seed: int = 0

    def __post_init__(self) -> None:
        problems = []
        if not (isinstance(self.line, int) and 0 <= self.line <= 201 and self.line != 1):
            problems.append(f"line={self.line!r}: 0 (none) or 2..201 points")
        if not (isinstance(self.plane, int) and 0 <= self.plane <= 51 and self.plane != 1):
            problems.append(f"plane={self.plane!r}: 0 (none) or 2..51 points a side")
        if self.line == 0 and self.plane == 0:
            problems.append("line and plane are both 0: nothing to evaluate")
        if not (isinstance(self.span, (int, float)) and math.isfinite(self.span) and self.span > 0):
            problems.append(f"span={self.span!r}: must be > 0")
        if not (isinstance(self.images, int) and 1 <= self.images <= 100_000):
            problems.append(f"images={self.images!r}: must be 1..100000")
        if not (isinstance(self.batch_size, int) and 1 <= self.batch_size <= 65536):
            problems.append(f"batch_size={self.batch_size!r}: must be 1..65536")
        ppb = self.points_per_batch
        if ppb is not None and not (isinstance(ppb, int) and 1 <= ppb <= 1024):
            problems.append(f"points_per_batch={ppb!r}: must be 1..1024")
        if problems:
            raise ProbeError("invalid landscape settings: " + "; ".join(problems))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def points(self) -> int:
        """How many weight vectors the spec evaluates."""
        return self.line + self.plane * self.plane


def filter_normalized_direction(
    model: nn.Module, generator: torch.Generator
) -> dict[str, torch.Tensor]:
    """A random direction per parameter, filter-normalised (Li et al. 2018, Section 4).

    Weights with two or more dimensions get Gaussian noise rescaled so that each filter (index
    along dim 0) has the norm of the trained filter; 1-D parameters (biases, norm scales and
    shifts) get zeros. Drawn on the CPU from ``generator`` (so it is the same on every device).
    """
    out = {}
    for name, p in model.named_parameters():
        w = p.detach()
        if w.dim() <= 1:
            out[name] = torch.zeros_like(w)
            continue
        d = torch.randn(w.shape, generator=generator, dtype=torch.float32).to(w.device, w.dtype)
        w_norm = w.flatten(1).norm(dim=1)
        d_norm = d.flatten(1).norm(dim=1)
        scale = (w_norm / (d_norm + 1e-10)).view(-1, *([1] * (w.dim() - 1)))
        out[name] = d * scale
    return out


class SliceEvaluator:
    """Evaluates the loss and accuracy of ``model`` at ``theta + sum_i c_i d_i`` for many
    coefficient vectors, on fixed images, ``points_per_batch`` points per forward pass."""

    def __init__(
        self,
        model: nn.Module,
        x: torch.Tensor,
        y: torch.Tensor,
        directions: Sequence[dict[str, torch.Tensor]],
        *,
        batch_size: int = 256,
        points_per_batch: int = 1,
    ) -> None:
        self.model = model.eval()
        self.x, self.y = x, y
        self.directions = list(directions)
        self.batch_size = batch_size
        self.points_per_batch = points_per_batch
        self.theta = {n: p.detach().clone() for n, p in model.named_parameters()}
        self.buffers = {n: b.detach() for n, b in model.named_buffers()}
        self.names = list(self.theta)

    def _params(self, coeffs: Sequence[float]) -> dict[str, torch.Tensor]:
        out = {}
        for n in self.names:
            t = self.theta[n]
            for c, d in zip(coeffs, self.directions, strict=True):
                if c:
                    t = t + c * d[n]
            out[n] = t
        return out

    @torch.no_grad()
    def _one(self, coeffs: Sequence[float]) -> tuple[float, float]:
        params = self._params(coeffs)
        total = torch.zeros((), device=self.x.device)
        correct = torch.zeros((), device=self.x.device)
        for start in range(0, len(self.y), self.batch_size):
            xb, yb = (
                self.x[start : start + self.batch_size],
                self.y[start : start + self.batch_size],
            )
            logits = torch.func.functional_call(self.model, (params, self.buffers), (xb,)).float()
            total += F.cross_entropy(logits, yb, reduction="sum")
            correct += (logits.argmax(1) == yb).sum()
        loss, right = torch.stack([total, correct]).cpu().tolist()
        return loss / len(self.y), right / len(self.y)

    @torch.no_grad()
    def _many(self, points: Sequence[Sequence[float]]) -> list[tuple[float, float]]:
        stacked = {}
        per_point = [self._params(c) for c in points]
        for n in self.names:
            stacked[n] = torch.stack([p[n] for p in per_point])
        model, buffers = self.model, self.buffers

        def forward(params: dict[str, torch.Tensor], xb: torch.Tensor) -> torch.Tensor:
            return torch.func.functional_call(model, (params, buffers), (xb,))

        batched = torch.func.vmap(forward, in_dims=(0, None))
        k = len(points)
        total = torch.zeros(k, device=self.x.device)
        correct = torch.zeros(k, device=self.x.device)
        for start in range(0, len(self.y), self.batch_size):
            xb, yb = (
                self.x[start : start + self.batch_size],
                self.y[start : start + self.batch_size],
            )
            logits = batched(stacked, xb).float()  # (k, B, classes)
            labels = yb.expand(k, -1)
            total += F.cross_entropy(logits.transpose(1, 2), labels, reduction="none").sum(1)
            correct += (logits.argmax(2) == labels).sum(1)
        values = torch.stack([total, correct]).cpu().tolist()
        n = len(self.y)
        return [(loss / n, right / n) for loss, right in zip(values[0], values[1], strict=True)]

    def evaluate(
        self,
        points: Sequence[Sequence[float]],
        *,
        cancel: Cancel | None = None,
        report: Report | None = None,
        done: int = 0,
        total: int | None = None,
    ) -> list[tuple[float, float]]:
        """(loss, accuracy) at every point (a coefficient per direction), in order. Stops early
        (returning what it has) when ``cancel()`` is true; ``report(fraction, text)`` after each
        chunk, counting from ``done`` of ``total``."""
        cancel = cancel or (lambda: False)
        total = total or len(points)
        out: list[tuple[float, float]] = []
        m = self.points_per_batch
        for start in range(0, len(points), m):
            if cancel():
                break
            chunk = points[start : start + m]
            out.extend(self._many(chunk) if len(chunk) > 1 else [self._one(chunk[0])])
            if report is not None:
                report((done + len(out)) / total, f"{done + len(out)}/{total} points")
        return out


def axis(n: int, span: float) -> list[float]:
    """``n`` evenly spaced coefficients over ``[-span, span]`` (0 included when ``n`` is odd)."""
    return [-span + 2 * span * i / (n - 1) for i in range(n)]


def default_points_per_batch(device: torch.device) -> int:
    """1 on the CPU (vmap gains nothing there), 8 on a GPU."""
    return 8 if device.type == "cuda" else 1


def landscape(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    spec: LandscapeSpec | None = None,
    *,
    cancel: threading.Event | Cancel | None = None,
    report: Report | None = None,
) -> dict[str, Any]:
    """The 1-D line and 2-D plane of ``spec`` around ``model``'s weights on ``x``, ``y``.

    Returns ``{"center": {"loss", "acc"}, "line": {"alphas", "loss", "acc"} | None,
    "plane": {"alphas", "betas", "loss": [[...]], "acc": [[...]]} | None, "points", "images",
    "points_per_batch", "device", "seconds", "complete"}``; ``plane["loss"][j][i]`` is at
    ``(alphas[i], betas[j])``. Non-finite losses are None.
    """
    spec = spec or LandscapeSpec()
    check = as_cancel(cancel)
    device = x.device
    ppb = spec.points_per_batch or default_points_per_batch(device)
    g = torch.Generator().manual_seed(spec.seed)
    d1 = filter_normalized_direction(model, g)
    d2 = filter_normalized_direction(model, g)
    evaluator = SliceEvaluator(
        model, x, y, [d1, d2], batch_size=spec.batch_size, points_per_batch=ppb
    )
    t0 = time.perf_counter()
    total = spec.points() + 1
    center = evaluator.evaluate([(0.0, 0.0)])[0]
    done = 1
    line = plane = None
    complete = True
    if spec.line:
        alphas = axis(spec.line, spec.span)
        values = evaluator.evaluate(
            [(a, 0.0) for a in alphas], cancel=check, report=report, done=done, total=total
        )
        done += len(values)
        complete &= len(values) == len(alphas)
        line = {
            "alphas": alphas[: len(values)],
            "loss": [_finite(v[0]) for v in values],
            "acc": [v[1] for v in values],
        }
    if spec.plane and not check():
        coeffs = axis(spec.plane, spec.span)
        grid = [(a, b) for b in coeffs for a in coeffs]
        values = evaluator.evaluate(grid, cancel=check, report=report, done=done, total=total)
        complete &= len(values) == len(grid)
        if len(values) == len(grid):
            n = spec.plane
            plane = {
                "alphas": coeffs,
                "betas": coeffs,
                "loss": [[_finite(values[j * n + i][0]) for i in range(n)] for j in range(n)],
                "acc": [[values[j * n + i][1] for i in range(n)] for j in range(n)],
            }
    else:
        complete &= not spec.plane
    return {
        "center": {"loss": _finite(center[0]), "acc": center[1]},
        "line": line,
        "plane": plane,
        "points": spec.points(),
        "images": len(y),
        "points_per_batch": ppb,
        "device": str(device),
        "seconds": round(time.perf_counter() - t0, 3),
        "complete": bool(complete),
    }


def _finite(v: float) -> float | None:
    return v if math.isfinite(v) else None


def study(
    probe: Probe,
    spec: LandscapeSpec | None = None,
    *,
    cancel: threading.Event | Cancel | None = None,
    report: Report | None = None,
) -> dict[str, Any]:
    """A landscape per trained design of a finished `Probe` (made with ``keep_models``), on the
    same held-out images and direction seed. Designs without a model (failed, diverged) are
    listed with ``"landscape": None``."""
    spec = spec or LandscapeSpec()
    out = for_each_trained(
        probe,
        "landscape",
        spec.images,
        lambda run, x, y, check, part: landscape(run.model, x, y, spec, cancel=check, report=part),
        cancel=cancel,
        report=report,
    )
    return {"spec": spec.to_dict(), "dataset": probe.result.dataset, "designs": out}


def then(spec: LandscapeSpec):
    """A ``then`` step for `jobs.JobManager.submit`: the landscape study of the trained designs."""

    def step(probe: Probe, cancel: threading.Event, report: Report) -> dict[str, Any]:
        return study(probe, spec, cancel=cancel, report=report)

    return step
