"""The probe runner: train designs briefly, one after another, on the same seeded batches.

`run_probe` trains and returns a `ProbeResult`, calling ``on_event`` with each event;
`Probe.events` is the same run as an iterator. Events are the typed records of
`probes.events`, each also a read-only mapping of its JSON form (``"event"`` names the kind;
non-finite numbers become None):

* ``probe_start``: config, dataset, designs (label, hash, params, depth).
* ``design_start``: label, index, the design actually trained (after input-size overrides).
* ``step``: label, step, loss, acc, lr, step_time (s), images_per_s, elapsed (training seconds).
  Flushed in groups every ``log_every`` steps, the loop's only host-device syncs.
* ``eval``: every ``eval_every`` steps and at the end: held_out_loss / held_out_acc, train_loss /
  train_acc (mean since the last eval), grad_norm (total, per stage, per block), update_ratio per
  stage, activations (mean/std per stage).
* ``design_end``: label, status (``done`` / ``diverged`` / ``oom`` / ``cancelled`` / ``failed``),
  reason, steps, diverged_at, summary.
* ``probe_end``: status (``done`` or ``cancelled``) and every design's summary.

Every design is built with the run's seed and sees the same batches in the same order (the
sampler and the augmentation draw from generators seeded by the run's seed), so on CPU a probe
is deterministic. With ``seeds`` N > 1 each design is trained N times, seeds ``seed`` ..
``seed + N - 1``, one seed after another (every design with the first seed, then every design
with the next), so the designs of one seed always saw the same batches; events carry ``seed``.
A NaN or inf training loss stops that design (``diverged`` at its first
non-finite step) and the next design goes on; out-of-memory is caught and reported the same way.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from resnet_explorer.analysis.devices import resolve_device
from resnet_explorer.design import Design
from resnet_explorer.errors import DesignError
from resnet_explorer.probes.config import ProbeConfig
from resnet_explorer.probes.data import BatchSampler, Dataset, augment, load_dataset, normalize
from resnet_explorer.probes.errors import ProbeError
from resnet_explorer.probes.events import (
    DesignEnd,
    DesignInfo,
    DesignStart,
    Eval,
    ProbeEnd,
    ProbeEvent,
    ProbeStart,
    RunSummary,
    Step,
)
from resnet_explorer.probes.metrics import ActivationStats, ParamSnapshot, grad_norms
from resnet_explorer.status import RunState
from resnet_explorer.typed import same_named

Event = ProbeEvent
DesignSpec = Design | tuple[str, Design]
CancelCheck = Callable[[], bool]


def _finite(x: float | None) -> float | None:
    return x if x is not None and math.isfinite(x) else None


def lr_at(config: ProbeConfig, progress: float) -> float:
    """Learning rate at ``progress`` (0..1 of the budget): linear warm-up, then cosine to 0."""
    progress = min(max(progress, 0.0), 1.0)
    if config.warmup > 0 and progress < config.warmup:
        return config.lr * progress / config.warmup
    rest = (progress - config.warmup) / max(1.0 - config.warmup, 1e-12)
    return config.lr * 0.5 * (1.0 + math.cos(math.pi * rest))


def make_optimizer(model: nn.Module, config: ProbeConfig) -> torch.optim.Optimizer:
    """SGD with (Nesterov-free) momentum or AdamW; no weight decay on norms and biases."""
    decay, no_decay = [], []
    for p in model.parameters():
        (no_decay if p.ndim <= 1 else decay).append(p)
    groups = [
        {"params": decay, "weight_decay": config.weight_decay},
        {"params": no_decay, "weight_decay": 0.0},
    ]
    if config.optimizer == "adamw":
        return torch.optim.AdamW(groups, lr=config.lr)
    return torch.optim.SGD(groups, lr=config.lr, momentum=config.momentum)


def training_device(name: str) -> torch.device:
    """The training device: ``auto`` (CUDA when available, else CPU), ``cpu``, ``cuda`` or
    ``cuda:N``, as `analysis.devices.resolve_device` reads them; anything else (``meta``, a GPU
    that is not there) is a `ProbeError` naming the setting."""
    from resnet_explorer.analysis._common import AnalysisError

    try:
        return resolve_device(name).torch_device()
    except AnalysisError as exc:
        raise ProbeError(f"device={name!r}: {exc}") from None


def is_oom(exc: BaseException) -> bool:
    """True for CUDA and CPU out-of-memory errors."""
    if isinstance(exc, torch.OutOfMemoryError):
        return True
    text = str(exc).lower()
    return isinstance(exc, RuntimeError) and (
        "out of memory" in text or "can't allocate memory" in text
    )


@dataclass
class DesignRun:
    """What one design's run recorded. ``steps_log`` / ``evals`` hold the step / eval events."""

    label: str
    design: Design
    status: RunState = "pending"
    seed: int = 0
    key: str = ""
    """Unique within the probe: the label, with `` · seed N`` when there are several seeds."""
    steps: int = 0
    diverged_at: int | None = None
    reason: str = ""
    error: str | None = None
    stop_reason: str | None = None
    """Why it was cancelled when not at its owner's request (``jobs.JobManager.cancel``)."""
    train_seconds: float = 0.0
    steps_log: list[Step] = field(default_factory=list)
    evals: list[Eval] = field(default_factory=list)
    model: nn.Module | None = field(default=None, repr=False, compare=False)
    """The trained model (eval mode), kept only when the probe was made with ``keep_models``."""

    def losses(self) -> list[float | None]:
        return [s.loss for s in self.steps_log]

    def summary(self, batch_size: int) -> RunSummary:
        """Final figures: training loss/acc averaged over the last tenth of the steps."""
        finite = [s for s in self.steps_log if s.loss is not None]
        tail = finite[-max(1, len(finite) // 10) :] if finite else []
        last_eval = self.evals[-1] if self.evals else None
        early = finite[: max(1, len(finite) // 10)] if finite else []
        return {
            "label": self.label,
            "seed": self.seed,
            "hash": self.design.hash,
            "depth": self.design.depth,
            "status": self.status,
            "reason": self.reason,
            "steps": self.steps,
            "diverged_at": self.diverged_at,
            "error": self.error,
            "train_seconds": round(self.train_seconds, 4),
            "images_per_s": _finite(self.steps * batch_size / self.train_seconds)
            if self.train_seconds > 0
            else None,
            "final_train_loss": _finite(sum(s.loss for s in tail) / len(tail)) if tail else None,
            "final_train_acc": _finite(sum(s.acc for s in tail) / len(tail)) if tail else None,
            "early_train_loss": _finite(sum(s.loss for s in early) / len(early)) if early else None,
            "held_out_loss": last_eval.held_out_loss if last_eval else None,
            "held_out_acc": last_eval.held_out_acc if last_eval else None,
        }


#: The fields of `DesignEnd` that a `DesignRun` holds under the same names (all but the summary).
_END_FIELDS = ("label", "status", "reason", "steps", "diverged_at", "error", "stop_reason", "seed")


@dataclass
class ProbeResult:
    """Every design's run, in order, and the probe's state (running, done, cancelled)."""

    config: ProbeConfig
    dataset: dict[str, Any]
    runs: list[DesignRun]
    status: str = "running"

    def run(self, label: str, seed: int | None = None) -> DesignRun:
        """The run of ``label`` (its first seed unless ``seed`` is given); also by run key."""
        for r in self.runs:
            if r.key == label or (r.label == label and (seed is None or r.seed == seed)):
                return r
        raise KeyError(label)

    def summaries(self) -> list[RunSummary]:
        return [r.summary(self.config.batch_size) for r in self.runs]

    def statistics(self) -> dict[str, Any]:
        """Across seeds: per design the mean and interval of the final figures, and a verdict
        for every pair of designs (`probes.stats.summarize`)."""
        from resnet_explorer.probes import stats

        return stats.summarize(self.summaries())


def run_key(label: str, seed: int, seeds: int) -> str:
    """A run's key in a probe: its label, with `` · seed N`` when each design has several."""
    return label if seeds == 1 else f"{label} · seed {seed}"


def plan_runs(
    labelled: Sequence[tuple[str, Design]], config: ProbeConfig
) -> list[tuple[str, Design, int]]:
    """(label, design, seed) of every run, in the order they train: seed after seed."""
    return [(label, design, seed) for seed in config.seed_list() for label, design in labelled]


def label_designs(designs: Sequence[DesignSpec]) -> list[tuple[str, Design]]:
    """(label, design) pairs: a preset's name where the design is one, unique labels."""
    from resnet_explorer import presets

    out: list[tuple[str, Design]] = []
    seen: dict[str, int] = {}
    for spec in designs:
        if isinstance(spec, Design):
            preset = presets.find(spec)
            label, design = (preset.name if preset else f"design-{spec.hash[:6]}"), spec
        elif isinstance(spec, tuple) and len(spec) == 2 and isinstance(spec[1], Design):
            label, design = str(spec[0]), spec[1]
        else:
            raise ProbeError(f"a probe takes Designs or (label, Design) pairs, got {spec!r:.80}")
        seen[label] = seen.get(label, 0) + 1
        out.append((label if seen[label] == 1 else f"{label}#{seen[label]}", design))
    if not out:
        raise ProbeError("a probe needs at least one design")
    return out


class Probe:
    """One probe: designs x config x data. Iterate `events` once to run it; read `result`.

    ``keep_models``: keep each trained model (eval mode, on the device) in `DesignRun.model`,
    for studies of the trained weights (loss landscape, lesions).
    """

    def __init__(
        self,
        designs: Sequence[DesignSpec],
        config: ProbeConfig | None = None,
        *,
        data: Dataset | None = None,
        cancel: CancelCheck | Any | None = None,
        keep_models: bool = False,
    ) -> None:
        self.keep_models = keep_models
        self.config = config or ProbeConfig()
        self.device = training_device(self.config.device)
        labelled = label_designs(designs)
        check_fits(labelled, self.config, data=data, keep_models=keep_models)
        first = labelled[0][1]
        size = self.config.image_size
        self.data = data or load_dataset(
            self.config.dataset,
            image_size=size or first.image_size,
            channels=first.in_channels,
            num_classes=first.num_classes,
            seed=self.config.seed,
        )
        runs = []
        for label, design, seed in plan_runs(labelled, self.config):
            changes: dict[str, Any] = {}
            if design.num_classes != self.data.num_classes:
                changes["num_classes"] = self.data.num_classes
            if size is not None and design.image_size != size:
                changes["image_size"] = size
            trained = design.replace(**changes) if changes else design
            key = run_key(label, seed, self.config.seeds)
            runs.append(DesignRun(label, trained, seed=seed, key=key))
        self.result = ProbeResult(self.config, self.data.describe(), runs)
        self._cancel = _cancel_check(cancel)
        self._stop_signal = cancel  # a jobs.StopSignal carries why it was set
        self._adapted: dict[tuple[int, int], Dataset] = {}

    # --- public ---------------------------------------------------------------------------

    def events(self) -> Iterator[Event]:
        """Run the probe, yielding events as they happen (see the module docstring)."""
        cpu = self.device.type == "cpu"
        old_threads = torch.get_num_threads()
        if cpu:
            torch.set_num_threads(self.config.resolved_threads())
        try:
            yield ProbeStart(
                config=self.config.to_dict(),
                device=str(self.device),
                threads=torch.get_num_threads() if cpu else None,
                dataset=self.result.dataset,
                designs=[
                    DesignInfo(
                        label=r.label,
                        hash=r.design.hash,
                        depth=r.design.depth,
                        params=_params(r.design),
                    )
                    for r in self.result.runs
                    if r.seed == self.config.seed
                ],
            )
            for index, run in enumerate(self.result.runs):
                if self._cancel():
                    run.status, run.reason = "cancelled", "cancelled before it started"
                    run.stop_reason = self.stop_reason()
                    yield self._end_event(run)
                    continue
                yield from self._train(index, run)
            cancelled = any(r.status == "cancelled" for r in self.result.runs)
            self.result.status = "cancelled" if cancelled else "done"
            yield ProbeEnd(
                status=self.result.status,
                summary=self.result.summaries(),
                statistics=self.result.statistics(),
            )
        finally:
            if cpu:
                torch.set_num_threads(old_threads)

    def stop_reason(self) -> str | None:
        """Why the probe was asked to stop, when its cancel flag says (`jobs.StopSignal`)."""
        return getattr(self._stop_signal, "reason", None)

    # --- one design -----------------------------------------------------------------------

    def _data_for(self, design: Design) -> Dataset:
        key = (design.image_size, design.in_channels)
        if key not in self._adapted:
            self._adapted[key] = self.data.adapt(*key).to(self.device)
        return self._adapted[key]

    def _end_event(self, run: DesignRun) -> DesignEnd:
        summary = run.summary(self.config.batch_size)
        return DesignEnd(**same_named(run, _END_FIELDS), summary=summary)

    def _train(self, index: int, run: DesignRun) -> Iterator[Event]:
        run.status = "running"
        yield DesignStart(
            label=run.label,
            index=index,
            hash=run.design.hash,
            design=run.design.to_dict(),
            seed=run.seed,
        )
        cuda = self.device.type == "cuda"
        loop = None
        try:
            with torch.random.fork_rng(devices=[self.device] if cuda else []):
                torch.manual_seed(run.seed)
                loop = _TrainLoop(self, run)
                yield from loop.run()
                if self.keep_models and run.status in ("done", "cancelled"):
                    run.model = loop.model.eval()
        except Exception as exc:  # a failing design must not stop the others
            if is_oom(exc):
                run.status, run.reason = "oom", "out of memory"
                run.error = f"out of memory at step {run.steps + 1}: {str(exc).splitlines()[0]}"
            else:
                run.status, run.reason = "failed", type(exc).__name__
                run.error = f"{type(exc).__name__}: {exc}"
        # Free the model, optimizer and batch now, not when this generator is closed; the cache
        # is emptied only here, once the exception (whose frames hold the step's tensors) is gone.
        loop = None
        if cuda and run.status in ("oom", "failed"):
            torch.cuda.empty_cache()
        yield self._end_event(run)


def check_fits(
    labelled: Sequence[tuple[str, Design]],
    config: ProbeConfig,
    *,
    data: Dataset | None = None,
    keep_models: bool = False,
) -> None:
    """Before anything is loaded or built: every design (at the probe's input size) within the
    size caps, and the probe's data, activations and optimizer state within the memory the
    machine has free (`probes.budget`); `DesignError` / `ProbeError` otherwise."""
    from resnet_explorer.limits import check_limits
    from resnet_explorer.probes import budget

    size = config.image_size
    trained = []
    for label, design in labelled:
        try:
            at_size = design.replace(image_size=size) if size else design
            check_limits(at_size)
        except DesignError as exc:
            raise DesignError(f"{label}: {exc}", field=exc.field) from None
        trained.append(at_size)
    loaded = None
    if data is not None:
        loaded = (len(data.train_y) + len(data.test_y), data.channels, data.image_size)
    budget.check(
        trained,
        dataset=config.dataset,
        batch_size=config.batch_size,
        optimizer=config.optimizer,
        diagnostics=config.diagnostics and config.eval_every > 0,
        keep_models=keep_models,
        device=str(training_device(config.device)),
        loaded=loaded,
    )


def _params(design: Design) -> int:
    from resnet_explorer.analysis.analytic import totals

    return totals(design).params


def _cancel_check(cancel: Any) -> CancelCheck:
    if cancel is None:
        return lambda: False
    if hasattr(cancel, "is_set"):  # threading.Event
        return cancel.is_set
    if callable(cancel):
        return lambda: bool(cancel())
    raise ProbeError(f"cancel must be a threading.Event or a callable, got {cancel!r:.60}")


class _TrainLoop:
    """The hot loop of one design. Only flushes and evaluations talk to the host."""

    def __init__(self, probe: Probe, run: DesignRun) -> None:
        from resnet_explorer.builder import build_model

        cfg = probe.config
        self.cfg, self.run_, self.probe = cfg, run, probe
        self.device = probe.device
        cuda = self.device.type == "cuda"
        self.cuda = cuda
        self.data = probe._data_for(run.design)
        self.bf16 = cfg.precision == "bf16" or (cfg.precision == "auto" and cuda)
        self.channels_last = cfg.channels_last if cfg.channels_last is not None else cuda
        self.model = build_model(run.design, seed=run.seed, device=self.device)
        if self.channels_last:
            self.model = self.model.to(memory_format=torch.channels_last)
        self.model.train()
        self.optimizer = make_optimizer(self.model, cfg)
        self.sampler = BatchSampler(
            len(self.data.train_y), cfg.batch_size, seed=run.seed, device=self.device
        )
        self.aug_generator = torch.Generator(device=self.device).manual_seed(run.seed + 1)
        self.augment = self.data.augment if cfg.augment == "auto" else cfg.augment
        shape = (1, -1, 1, 1)
        self.mean = torch.tensor(self.data.mean, device=self.device).view(shape)
        self.std = torch.tensor(self.data.std, device=self.device).view(shape)
        self.loss_fn = nn.CrossEntropyLoss(label_smoothing=cfg.label_smoothing)
        self.batch = self.sampler.batch_size
        self.pending: list[tuple[int, torch.Tensor, torch.Tensor, float, float]] = []
        self.train_time = 0.0  # training seconds flushed so far (evaluations excluded)
        self.interval_start = time.perf_counter()
        self.since_eval: list[Step] = []
        self.signal_batch: tuple[torch.Tensor, torch.Tensor] | None = None
        self.traced: dict[str, Any] = {}  # the blocks' fx traces, for `_signal`

    def _autocast(self) -> contextlib.AbstractContextManager:
        if self.bf16:
            return torch.autocast(device_type=self.device.type, dtype=torch.bfloat16)
        return contextlib.nullcontext()

    def _inputs(self, x: torch.Tensor) -> torch.Tensor:
        x = normalize(x, self.mean, self.std)
        return x.contiguous(memory_format=torch.channels_last) if self.channels_last else x

    def elapsed(self) -> float:
        return self.train_time + (time.perf_counter() - self.interval_start)

    def progress(self, step: int) -> float:
        cfg = self.cfg
        parts = []
        if cfg.steps is not None:
            parts.append(step / cfg.steps)
        if cfg.seconds is not None:
            parts.append(self.elapsed() / cfg.seconds)
        return max(parts)

    def run(self) -> Iterator[Event]:
        cfg, run = self.cfg, self.run_
        model, opt = self.model, self.optimizer
        eval_every = cfg.eval_every
        step = 0
        while True:
            if cfg.steps is not None and step >= cfg.steps:
                run.status, run.reason = "done", f"{cfg.steps} steps"
                break
            if cfg.seconds is not None and self.elapsed() >= cfg.seconds:
                run.status, run.reason = "done", f"time budget of {cfg.seconds:g} s"
                break
            if self.probe._cancel():
                run.status, run.reason = "cancelled", f"cancelled after step {step}"
                run.stop_reason = self.probe.stop_reason()
                break
            t0 = time.perf_counter()
            lr = lr_at(cfg, self.progress(step))
            for group in opt.param_groups:
                group["lr"] = lr
            idx = self.sampler.next()
            x = self._inputs(augment(self.data.train_x[idx], self.augment, self.aug_generator))
            y = self.data.train_y[idx]
            with self._autocast():
                logits = model(x)
            loss = self.loss_fn(logits.float(), y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            step += 1
            diagnose = cfg.diagnostics and eval_every > 0 and step % eval_every == 0
            if diagnose:
                norms = grad_norms(model)
                snapshot = ParamSnapshot(model)
            opt.step()
            acc = (logits.detach().argmax(1) == y).float().mean()
            self.pending.append((step, loss.detach(), acc, lr, time.perf_counter() - t0))
            if step % cfg.log_every == 0 or (eval_every > 0 and step % eval_every == 0):
                yield from self._flush()
                if run.status == "diverged":
                    return
            if eval_every > 0 and step % eval_every == 0:
                extra: dict[str, Any] = {}
                if diagnose:
                    extra = {
                        "grad_norm": norms,
                        "update_ratio": snapshot.update_ratios(model),
                        "signal": self._signal(),
                    }
                yield self._eval(step, extra)
        yield from self._flush()
        if run.status == "diverged":
            return
        if cfg.final_eval and run.status == "done" and (eval_every == 0 or step % eval_every):
            yield self._eval(step, {})

    def _flush(self) -> Iterator[Event]:
        """Move the pending steps to the host (one sync), emit them, check for NaN/inf."""
        if not self.pending:
            return
        run = self.run_
        values = torch.stack(
            [
                torch.stack([p[1].float() for p in self.pending]),
                torch.stack([p[2] for p in self.pending]),
            ]
        ).cpu()  # the sync
        now = time.perf_counter()
        interval = now - self.interval_start
        even = interval / len(self.pending)
        losses, accs = values[0].tolist(), values[1].tolist()
        base = self.train_time
        for (step, _, _, lr, host), loss, acc in zip(self.pending, losses, accs, strict=True):
            # On CUDA the host runs ahead of the device: spread the interval evenly.
            step_time = even if self.cuda else host
            base += step_time
            finite = math.isfinite(loss)
            record = Step(
                label=run.label,
                step=step,
                loss=loss if finite else None,
                acc=acc,
                lr=lr,
                step_time=step_time,
                images_per_s=self.batch / step_time if step_time > 0 else None,
                elapsed=base,
                seed=run.seed,
            )
            run.steps_log.append(record)
            self.since_eval.append(record)
            run.steps = step
            yield record
            if not finite:
                run.status, run.diverged_at = "diverged", step
                run.reason = f"loss became {'NaN' if math.isnan(loss) else 'inf'} at step {step}"
                break
        self.train_time += interval
        run.train_seconds = self.train_time
        self.pending.clear()
        self.interval_start = time.perf_counter()

    def _signal(self) -> dict[str, Any]:
        """Signal propagation after this step (`probes.signal`) on the first 32 training images
        (normalised, not augmented): per block Var(F(x))/Var(x) and the norm of dL/dx."""
        from resnet_explorer.probes import signal

        if self.signal_batch is None:
            n = min(32, len(self.data.train_y))
            self.signal_batch = (self._inputs(self.data.train_x[:n]), self.data.train_y[:n])
        x, y = self.signal_batch
        with self._autocast():
            found = signal.measure(self.model, self.run_.design, x, y, traced=self.traced)
        return {
            "blocks": {
                b["name"]: {"variance_ratio": b["variance_ratio"], "grad_norm": b["grad_norm"]}
                for b in found["blocks"]
            }
        }

    @torch.no_grad()
    def _eval(self, step: int, extra: dict[str, Any]) -> Eval:
        """Held-out loss/accuracy (plain cross-entropy) and, with diagnostics, activation stats."""
        cfg, model, data = self.cfg, self.model, self.data
        n = min(cfg.eval_size, len(data.test_y))
        batch = max(self.batch, 256)
        total = torch.zeros((), device=self.device)
        correct = torch.zeros((), device=self.device)
        stats = ActivationStats(model)
        recording = stats.recording() if cfg.diagnostics else contextlib.nullcontext()
        model.eval()
        try:
            with recording:
                for start in range(0, n, batch):
                    x = self._inputs(data.test_x[start : min(start + batch, n)])
                    y = data.test_y[start : min(start + batch, n)]
                    with self._autocast():
                        logits = model(x).float()
                    total += F.cross_entropy(logits, y, reduction="sum")
                    correct += (logits.argmax(1) == y).sum()
        finally:
            model.train()
        loss, right = torch.stack([total, correct]).cpu().tolist()
        train = [s for s in self.since_eval if s.loss is not None]
        self.since_eval = []
        event = Eval(
            label=self.run_.label,
            step=step,
            elapsed=self.train_time,
            held_out_loss=_finite(loss / n),
            held_out_acc=right / n,
            train_loss=_finite(sum(s.loss for s in train) / len(train)) if train else None,
            train_acc=sum(s.acc for s in train) / len(train) if train else None,
            held_out_size=n,
            seed=self.run_.seed,
            activations=_clean(stats.result()) if cfg.diagnostics else None,
            **_clean(extra),
        )
        self.run_.evals.append(event)
        self.interval_start = time.perf_counter()  # evaluation time is not training time
        return event


def _clean(value: Any) -> Any:
    """Non-finite floats -> None, recursively (JSON has no NaN)."""
    if isinstance(value, float):
        return _finite(value)
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


def run_probe(
    designs: Sequence[DesignSpec],
    config: ProbeConfig | None = None,
    *,
    data: Dataset | None = None,
    on_event: Callable[[ProbeEvent], None] | None = None,
    cancel: CancelCheck | Any | None = None,
) -> ProbeResult:
    """Train each design under ``config`` (default `ProbeConfig()`), calling ``on_event`` per event.

    ``data`` overrides ``config.dataset`` (already loaded data, e.g. a test fixture); ``cancel``
    is a `threading.Event` or a callable checked before every step. Returns the `ProbeResult`.
    Bad input raises `ProbeError` / `DesignError` before anything trains.
    """
    probe = Probe(designs, config, data=data, cancel=cancel)
    for event in probe.events():
        if on_event is not None:
            on_event(event)
    return probe.result


def iter_probe(
    designs: Sequence[DesignSpec],
    config: ProbeConfig | None = None,
    *,
    data: Dataset | None = None,
    cancel: CancelCheck | Any | None = None,
) -> Iterator[Event]:
    """`run_probe` as an iterator of events (closing it stops the probe at the next step)."""
    return Probe(designs, config, data=data, cancel=cancel).events()
