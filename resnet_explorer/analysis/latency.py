"""Measured latency and throughput with ``torch.utils.benchmark``.

For each batch size of a sweep: inference (eval, ``torch.inference_mode``) and a whole training
step (forward, cross-entropy, backward, SGD step). Each measurement warms up, then runs
``Timer.blocked_autorange``; the result gives the median and interquartile range, the thread
count, throughput and achieved TFLOP/s (and the fraction of the GPU's peak where it is known).

Safety: one measurement per device at a time in this process (a lock), a time budget per
measurement that cuts the sweep short and says so, and out-of-memory caught (CUDA and CPU) with
the largest batch that fitted reported. On the CPU a batch whose measured training memory would
not fit in the free RAM is refused before anything is allocated (the kernel would kill the
process rather than raise).
"""

from __future__ import annotations

import contextlib
import gc
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal, NamedTuple, get_args

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    PlainValidator,
    StrictBool,
    ValidationError,
)

from resnet_explorer.analysis._common import THREADS_LOCK, AnalysisError, plain, thread_count
from resnet_explorer.analysis.analytic import totals
from resnet_explorer.analysis.devices import (
    DEVICES,
    PRECISIONS,
    DeviceInfo,
    check_precision,
    gpu_peak,
    peak_tflops,
    resolve_device,
)
from resnet_explorer.analysis.memory import check_batch_size
from resnet_explorer.design import Design
from resnet_explorer.errors import ResNetExplorerError
from resnet_explorer.validation import checks, describe, is_finite_number, is_whole, short

Mode = Literal["inference", "training"]
MODES: tuple[Mode, ...] = get_args(Mode)
FLOPS_CONVENTION = (
    "achieved TFLOP/s = 2 x MACs per image x images / median time; a training step counts "
    "3 x the forward pass (backward ~ 2 x forward), the usual convention; norm, pooling and "
    "element-wise ops are not counted"
)


class LatencyError(AnalysisError):
    """Bad latency options, or the device is busy: the message says which."""


def _batch_sizes(value: Any) -> tuple[int, ...]:
    """One batch size or several, as a sorted tuple without repeats; each `check_batch_size`d."""
    if isinstance(value, str | bytes | dict) or not isinstance(value, int | Iterable):
        raise ValueError(f"a batch size or a list of them, got {short(value)}")
    sizes = (value,) if isinstance(value, int) else tuple(value)
    if not sizes:
        raise ValueError("give at least one")
    for b in sizes:
        try:
            check_batch_size(b)
        except AnalysisError as exc:
            raise ValueError(str(exc)) from None
    return tuple(sorted(set(sizes)))


def _seconds(*, optional: bool = False) -> PlainValidator:
    return checks(
        (
            lambda v: is_finite_number(v) and 0 < v <= 600,
            "{name} must be seconds in (0, 600], got {value}",
        ),
        optional=optional,
    )


def _modes_ok(value: Any) -> bool:
    return isinstance(value, list | tuple) and bool(value) and all(m in MODES for m in value)


class LatencyOptions(BaseModel):
    """What to measure and how: a frozen pydantic model (``extra="forbid"``), validated on
    construction; bad options raise one `LatencyError` naming each (field, value given, what is
    allowed). ``batch_sizes`` takes one size or several (kept sorted, without repeats). Change
    options with `replace` (validated; pydantic's ``model_copy`` is not)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    batch_sizes: Annotated[tuple[int, ...], BeforeValidator(_batch_sizes)] = (1, 32)
    device: Annotated[
        Literal["auto", "cpu", "cuda"],
        checks((lambda v: v in DEVICES, "{name} {value} is not known; use auto, cpu or cuda")),
    ] = "auto"
    # fp16 and bf16: autocast, CUDA only
    precision: Annotated[
        Literal["fp32", "bf16", "fp16"],
        checks((lambda v: v in PRECISIONS, "{name} {value} is not known; use fp32, bf16, fp16")),
    ] = "fp32"
    channels_last: StrictBool = False
    compile: StrictBool = False  # torch.compile the model (compile time is reported, not timed)
    modes: Annotated[
        tuple[Mode, ...],
        checks((_modes_ok, f"{{name}} {{value}}: use one or both of {MODES}")),
        AfterValidator(tuple),
    ] = MODES
    budget_s: Annotated[float, _seconds()] = 3.0  # per measurement; over it the sweep stops
    min_run_time_s: Annotated[float, _seconds()] = 1.0  # blocked_autorange's, within the budget
    # The whole sweep's time. Given, each row takes its share of what is left (never less
    # than budget_s) and measures fewer samples rather than none; a row is skipped only
    # when the sweep's time is spent. None: each row has budget_s, as above.
    sweep_budget_s: Annotated[float | None, _seconds(optional=True)] = None
    # CPU intra-op threads; None = torch.get_num_threads()
    num_threads: Annotated[
        int | None,
        checks(
            (lambda v: is_whole(v) and 1 <= v <= 1024, "{name} must be 1..1024, got {value}"),
            optional=True,
        ),
    ] = None
    # how long to wait for another measurement on the device
    lock_timeout_s: Annotated[float, _seconds()] = 120.0

    def __init__(self, **options: Any) -> None:
        try:
            super().__init__(**options)
        except ValidationError as exc:
            raise LatencyError("; ".join(describe(exc, root="latency options"))) from None

    def replace(self, **changes: Any) -> LatencyOptions:
        """A copy with ``changes``, validated (`LatencyError`) like new options."""
        return type(self)(**{**self.model_dump(), **changes})


@dataclass(frozen=True)
class LatencyRow:
    """One measurement. ``status``: ok, over_budget (not measured), out_of_memory, failed."""

    mode: str
    batch_size: int
    status: str
    median_s: float | None = None
    iqr_s: float | None = None
    p25_s: float | None = None
    p75_s: float | None = None
    samples: int = 0
    runs_per_sample: int = 0
    images_per_s: float | None = None
    achieved_tflops: float | None = None
    fraction_of_peak: float | None = None
    peak_memory_bytes: int | None = None  # CUDA only
    message: str = ""


@dataclass(frozen=True)
class LatencyReport:
    device: str  # cpu | cuda
    device_name: str  # the GPU's name, or "CPU only"
    device_requested: str
    precision: str
    channels_last: bool
    compiled: bool
    num_threads: int
    torch_version: str
    budget_s: float
    rows: tuple[LatencyRow, ...]
    cut_short: bool
    largest_batch_that_fitted: dict[str, int | None]
    peak_tflops: float | None
    peak_source: str | None
    lock_wait_s: float
    compile_s: float | None = None
    flops_convention: str = FLOPS_CONVENTION
    notes: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict:
        return plain(self)


# --- the per-device lock ------------------------------------------------------------------------

_LOCKS: dict[str, threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()


def device_lock(key: str) -> threading.Lock:
    """The process-wide lock of a device (``cpu``, ``cuda:0``): one measurement at a time."""
    with _LOCKS_GUARD:
        return _LOCKS.setdefault(key, threading.Lock())


@contextlib.contextmanager
def _hold(key: str, timeout: float) -> Iterator[float]:
    lock = device_lock(key)
    start = time.perf_counter()
    if not lock.acquire(timeout=timeout):
        raise LatencyError(
            f"device {key} is busy: another latency measurement has held it for over "
            f"{timeout:g} s; try again when it is done"
        )
    try:
        yield time.perf_counter() - start
    finally:
        lock.release()


# --- out of memory ------------------------------------------------------------------------------


def is_out_of_memory(exc: BaseException) -> bool:
    """CUDA's OutOfMemoryError, or a RuntimeError from an allocator that ran out."""
    import torch

    if isinstance(exc, torch.cuda.OutOfMemoryError):
        return True
    text = str(exc).lower()
    return isinstance(exc, RuntimeError) and (
        "out of memory" in text or "can't allocate memory" in text or "not enough memory" in text
    )


def _free_ram_bytes() -> int | None:
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError):
        return None


def _cpu_bytes_needed(design: Design, mode: str, batch: int) -> int:
    """Bytes a CPU measurement needs: measured saved activations for training, else outputs."""
    from resnet_explorer.analysis.memory import memory

    if mode == "training":
        return memory(design, batch, measure_peak=False).training_step_estimate_bytes
    return totals(design).params * 4 + 3 * _largest_output(design) * 4 * batch


def _largest_output(design: Design) -> int:
    from resnet_explorer.analysis.analytic import layer_counts

    return max(x.outputs for x in layer_counts(design))


# --- measuring ----------------------------------------------------------------------------------


def _make_step(model, mode: str, x, target, autocast, scaler) -> Callable[[], object]:
    import torch
    import torch.nn.functional as F

    if mode == "inference":

        def infer():
            with torch.inference_mode(), autocast():
                return model(x)

        return infer
    # lr 0: the same arithmetic as training, but the weights stay put (no drift into NaNs or
    # denormals that would change the speed)
    opt = torch.optim.SGD(model.parameters(), lr=0.0, momentum=0.9)

    def train():
        with autocast():
            loss = F.cross_entropy(model(x), target)
        opt.zero_grad(set_to_none=True)
        if scaler is not None:
            scaler.scale(loss).backward()
            scaler.step(opt)
            scaler.update()
        else:
            loss.backward()
            opt.step()

    return train


def _sync(device: DeviceInfo) -> None:
    import torch

    if device.type == "cuda":
        torch.cuda.synchronize()


@dataclass(frozen=True)
class LatencyProgress:
    """Where a sweep is: rows done of those planned, and the one being measured."""

    done: int
    total: int
    current: str  # 'inference, batch 8'


@dataclass
class _Sweep:
    """What every row of one sweep shares, and (with a sweep budget) its clock and costs."""

    design: Design
    options: LatencyOptions
    device: DeviceInfo
    threads: int
    macs: int
    peak_value: float | None
    autocast: Callable[[], contextlib.AbstractContextManager]
    started: float = field(default_factory=time.perf_counter)
    plan: list[tuple[str, int]] = field(default_factory=list)  # the rows not yet measured
    per_image: float | None = None  # seconds of one image's forward pass, as last measured
    models: dict[str, object] = field(default_factory=dict)  # CPU: one model per mode, reused

    def weight(self, mode: str, batch: int) -> float:
        """A row's expected cost in forward images (a training step ~ 3 forward passes)."""
        return batch * (3 if mode == "training" else 1)

    def row_budget(self, mode: str, batch: int) -> float:
        """This row's time: ``budget_s``, or (with a sweep budget) its share of what is left,
        in proportion to its expected cost (never less than ``budget_s``)."""
        if self.options.sweep_budget_s is None:
            return self.options.budget_s
        total = sum(self.weight(*row) for row in self.plan) or 1.0
        share = self.remaining() * self.weight(mode, batch) / total
        return max(min(self.options.budget_s, self.remaining()), share)

    def predicted(self, mode: str, batch: int) -> float | None:
        """Seconds one run of the row should take, from the rows measured so far."""
        return None if self.per_image is None else self.per_image * self.weight(mode, batch)

    def learn(self, mode: str, batch: int, seconds: float) -> None:
        self.per_image = seconds / self.weight(mode, batch)

    def remaining(self) -> float:
        """Seconds left of the sweep budget (infinite without one)."""
        if self.options.sweep_budget_s is None:
            return float("inf")
        return self.options.sweep_budget_s - (time.perf_counter() - self.started)


def _open_sweep(design: Design, options: LatencyOptions) -> tuple[_Sweep, str | None, list[str]]:
    """Resolve the device, the threads and the GPU's peak: (sweep, peak label, notes)."""
    import torch

    try:
        device = resolve_device(options.device)
        check_precision(options.precision, device)
    except AnalysisError as exc:
        raise LatencyError(str(exc)) from None
    peak = gpu_peak(device.name) if device.type == "cuda" else None
    peak_value, peak_label, notes = None, None, []
    if peak is not None:
        peak_value, label = peak_tflops(
            peak, options.precision, bool(torch.backends.cudnn.allow_tf32)
        )
        peak_label = f"{peak.source}, {label}, dense"
    if device.type == "cuda" and peak is None:
        notes.append(f"no known peak for {device.name}: fraction of peak not given")
    dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(options.precision)

    def autocast() -> contextlib.AbstractContextManager:
        if dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(device_type="cuda", dtype=dtype)

    threads = options.num_threads or torch.get_num_threads()
    sweep = _Sweep(design, options, device, threads, totals(design).macs, peak_value, autocast)
    return sweep, peak_label, notes


def latency(
    design: Design,
    options: LatencyOptions | None = None,
    *,
    progress: Callable[[LatencyProgress], None] | None = None,
    cancel: threading.Event | None = None,
) -> LatencyReport:
    """Measure ``design`` over the options' batch sizes and modes (see `LatencyOptions`).

    ``progress`` is called before each row and at the end; a set ``cancel`` event stops the
    sweep between rows (the report then says so in its notes)."""
    import torch

    options = options or LatencyOptions()
    sweep, peak_label, notes = _open_sweep(design, options)
    if sweep.device.type == "cpu" and (busy := _busy_note()) is not None:
        notes.append(busy)
    plan = [(mode, batch) for mode in options.modes for batch in options.batch_sizes]
    rows: list[LatencyRow] = []
    fitted: dict[str, int | None] = {m: None for m in options.modes}
    stopped: set[str] = set()
    compile_s: float | None = None
    with _hold(sweep.device.key, options.lock_timeout_s) as waited:
        sweep.started = time.perf_counter()  # the lock wait is not the sweep's time
        cpu = sweep.device.type == "cpu"
        with THREADS_LOCK if cpu else contextlib.nullcontext():
            for k, (mode, batch) in enumerate(plan):
                if cancel is not None and cancel.is_set():
                    notes.append(
                        "stopped on request: the rows after the last one were not measured"
                    )
                    break
                sweep.plan = [row for row in plan[k:] if row[0] not in stopped]
                if mode in stopped:
                    continue
                if progress is not None:
                    progress(LatencyProgress(k, len(plan), f"{mode}, batch {batch}"))
                row = _unaffordable(sweep, mode, batch)
                if row is None:
                    row, compiled_in = _measure_one(sweep, mode, batch)
                    if compiled_in is not None:
                        compile_s = max(compile_s or 0.0, compiled_in)
                rows.append(row)
                if row.status == "ok":
                    fitted[mode] = batch
                    sweep.learn(mode, batch, row.median_s)
                else:
                    stopped.add(mode)  # larger batches only take longer / need more memory
        sweep.models.clear()
        gc.collect()
    if progress is not None:
        progress(LatencyProgress(len(plan), len(plan), "done"))
    return LatencyReport(
        device=sweep.device.type,
        device_name=sweep.device.name,
        device_requested=options.device,
        precision=options.precision,
        channels_last=options.channels_last,
        compiled=options.compile,
        num_threads=sweep.threads,
        torch_version=torch.__version__,
        budget_s=options.budget_s,
        rows=tuple(rows),
        cut_short=bool(stopped),
        largest_batch_that_fitted=fitted,
        peak_tflops=sweep.peak_value,
        peak_source=peak_label,
        lock_wait_s=waited,
        compile_s=compile_s,
        notes=tuple(notes),
    )


def _busy_note() -> str | None:
    """A note when other work keeps this machine's cores busy (1-minute load average at least
    the number of cores): CPU latencies are then slower than on an idle machine, often by far
    (PyTorch's threads wait for each other)."""
    try:
        load = os.getloadavg()[0]
    except OSError:  # not on every platform
        return None
    cores = os.cpu_count() or 1
    if load < cores:
        return None
    return (
        f"this machine was busy while measuring (load average {load:.1f} on {cores} cores): "
        "CPU latencies are slower than on an idle machine"
    )


def _unaffordable(sweep: _Sweep, mode: str, batch: int) -> LatencyRow | None:
    """With a sweep budget: the row, not run, when a warm-up and one timed run of it would
    not fit in what is left (predicted from the rows measured so far)."""
    predicted = sweep.predicted(mode, batch)
    # a warm-up run and a timed run at least; per image, a larger batch is rarely slower
    if predicted is None or 2 * predicted <= sweep.remaining():
        return None
    return LatencyRow(
        mode, batch, "over_budget",
        message=f"one run would take about {predicted:.1f} s; {max(sweep.remaining(), 0):.1f} s "
        f"of the sweep's {sweep.options.sweep_budget_s:g} s budget are left: not run",
    )  # fmt: skip


@dataclass
class _Bench:
    """One row's model, input and step (released after the row)."""

    model: object = None
    x: object = None
    step: Callable[[], object] | None = None
    base_mem: int = 0


def _prepare(sweep: _Sweep, mode: str, batch: int, bench: _Bench) -> Callable[[], object]:
    """Build the model and the input on the device; the step one measured run calls."""
    import torch

    from resnet_explorer.builder import build_model

    device, options = sweep.device, sweep.options
    if device.type == "cuda":  # the row's peak counts what it allocates, not what was there
        torch.cuda.synchronize()
        bench.base_mem = torch.cuda.memory_allocated()
    reuse = device.type == "cpu" and not options.compile  # the next batch size uses it too
    if reuse and mode in sweep.models:
        bench.model = sweep.models[mode]
    else:
        bench.model = build_model(sweep.design, device=device.type, seed=0)
        bench.model.train(mode == "training")
        if reuse:
            sweep.models[mode] = bench.model
    size = (batch, sweep.design.in_channels, sweep.design.image_size, sweep.design.image_size)
    bench.x = torch.randn(size, device=device.type)
    if options.channels_last:
        bench.model = bench.model.to(memory_format=torch.channels_last)
        bench.x = bench.x.contiguous(memory_format=torch.channels_last)
    if options.compile:
        bench.model = torch.compile(bench.model)
    target = torch.zeros(batch, dtype=torch.long, device=device.type)
    scaler = None
    if mode == "training" and options.precision == "fp16":
        scaler = torch.amp.GradScaler("cuda")
    bench.step = _make_step(bench.model, mode, bench.x, target, sweep.autocast, scaler)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats()
    return bench.step


def _timed(step: Callable[[], object], device: DeviceInfo) -> float:
    start = time.perf_counter()
    step()
    _sync(device)
    return time.perf_counter() - start


def _warm_up(
    sweep: _Sweep, step: Callable[[], object], budget: float
) -> tuple[list[float], float | None]:
    """The first calls pick kernels (and compile, timed apart): one run, then up to 3 within a
    quarter of the row's ``budget`` (half without a sweep budget) and of what is left of the
    sweep's. Returns (run times, compile s)."""
    compile_s = _timed(step, sweep.device) if sweep.options.compile else None
    share = 4 if sweep.options.sweep_budget_s is not None else 2
    runs = [_timed(step, sweep.device)]
    while len(runs) < 3 and sum(runs) + runs[-1] < min(budget, sweep.remaining()) / share:
        runs.append(_timed(step, sweep.device))
    return runs, compile_s


def _refusal(sweep: _Sweep, mode: str, batch: int, runs: list[float]) -> LatencyRow | None:
    """The over-budget row, when even one more run does not fit (``None``: measure it)."""
    first = min(runs)
    if sweep.options.sweep_budget_s is None:
        if 3 * first <= sweep.options.budget_s:  # blocked_autorange: one sizing run, a block
            return None
        message = (
            f"one run takes {first:.2f} s; measuring needs ~{3 * first:.1f} s, over the "
            f"{sweep.options.budget_s:g} s budget: sweep stopped here"
        )
    else:
        if first <= sweep.remaining():
            return None
        sweep.learn(mode, batch, first)  # the rows after it are predicted from this run
        message = (
            f"one run takes {first:.2f} s; the sweep's {sweep.options.sweep_budget_s:g} s "
            "budget is spent: sweep stopped here"
        )
    return LatencyRow(mode, batch, "over_budget", message=message)


class _Timing(NamedTuple):
    """A row's timed samples: seconds per run of each, and how many runs each sample took."""

    times: list[float]
    number_per_run: int


def _measure(
    sweep: _Sweep, step: Callable[[], object], runs: list[float], budget: float, label: str
) -> _Timing:
    """Time ``step``: ``blocked_autorange`` where the row's time allows, else as many single
    runs as fit in the row's and the sweep's time (at least one): a slow row gets fewer
    samples instead of none, and the sweep's budget is a ceiling (torch's ``Timer.timeit``
    would add two untimed runs to each)."""
    first, budget = min(runs), min(budget - sum(runs), sweep.remaining())
    if sweep.options.sweep_budget_s is None or budget >= 3 * first:
        from torch.utils import benchmark

        timer = benchmark.Timer(
            stmt="step()", globals={"step": step}, num_threads=sweep.threads, label=label
        )
        run_time = min(sweep.options.min_run_time_s, budget - 2 * first)
        measured = timer.blocked_autorange(min_run_time=max(run_time, first))
        return _Timing(list(measured.times), int(measured.number_per_run))
    count = max(1, int(budget // first))
    return _Timing([_timed(step, sweep.device) for _ in range(count)], 1)


def _quartiles(times: list[float]) -> tuple[float, float, float]:
    import numpy as np

    p25, p50, p75 = np.percentile(times, [25, 50, 75])
    return float(p25), float(p50), float(p75)


def _measure_one(sweep: _Sweep, mode: str, batch: int) -> tuple[LatencyRow, float | None]:
    """One row of the sweep: refused before allocating, over budget, failed, or measured."""
    import torch

    if sweep.device.type == "cpu":
        need, free = _cpu_bytes_needed(sweep.design, mode, batch), _free_ram_bytes()
        if free is not None and need > 0.8 * free:
            return LatencyRow(
                mode, batch, "out_of_memory",
                message=f"needs about {need / 2**30:.1f} GiB; {free / 2**30:.1f} GiB of RAM is "
                "free: not attempted",
            ), None  # fmt: skip
    bench, compile_s = _Bench(), None
    try:
        budget = sweep.row_budget(mode, batch)
        step = _prepare(sweep, mode, batch, bench)
        with thread_count(sweep.threads):
            runs, compile_s = _warm_up(sweep, step, budget)
            refused = _refusal(sweep, mode, batch, runs)
            if refused is not None:
                return refused, compile_s
            measurement = _measure(sweep, step, runs, budget, f"{mode} batch {batch}")
        peak_mem = None
        if sweep.device.type == "cuda":
            peak_mem = int(torch.cuda.max_memory_allocated()) - bench.base_mem
    except Exception as exc:
        return _failure(mode, batch, exc), compile_s
    finally:
        _release(sweep, bench)
    return _ok_row(sweep, mode, batch, measurement, peak_mem), compile_s


def _failure(mode: str, batch: int, exc: Exception) -> LatencyRow:
    """A model that refused the batch (ValueError) or ran out of memory; else re-raised."""
    if isinstance(exc, ValueError):  # e.g. a group norm with one value per group at batch 1
        return LatencyRow(mode, batch, "failed", message=f"the model refused batch {batch}: {exc}")
    if not is_out_of_memory(exc):
        raise exc
    return LatencyRow(
        mode, batch, "out_of_memory",
        message=f"out of memory at batch {batch}: {str(exc).splitlines()[0][:200]}",
    )  # fmt: skip


def _release(sweep: _Sweep, bench: _Bench) -> None:
    import torch

    bench.model = bench.x = bench.step = None
    if sweep.options.compile:
        torch.compiler.reset()  # drop the compiled code and what it holds of this model
    gc.collect()
    if sweep.device.type == "cuda":
        torch.cuda.empty_cache()


def _ok_row(
    sweep: _Sweep, mode: str, batch: int, measurement: _Timing, peak_mem: int | None
) -> LatencyRow:
    p25, median, p75 = _quartiles(measurement.times)
    achieved = 2 * sweep.macs * batch * (3 if mode == "training" else 1) / median / 1e12
    samples = len(measurement.times)
    return LatencyRow(
        mode=mode,
        batch_size=batch,
        status="ok",
        median_s=median,
        iqr_s=p75 - p25,
        p25_s=p25,
        p75_s=p75,
        samples=samples,
        runs_per_sample=int(measurement.number_per_run),
        images_per_s=batch / median,
        achieved_tflops=achieved,
        fraction_of_peak=achieved / sweep.peak_value if sweep.peak_value else None,
        peak_memory_bytes=peak_mem,
        message=f"{samples} timed run(s) within the sweep's budget" if samples < 3 else "",
    )


class LatencyJob:
    """A latency sweep run in a background thread (it never touches the app): the page that
    started it polls `progress`, `report` and `error`, and may `cancel` it between rows."""

    def __init__(self, design: Design, options: LatencyOptions) -> None:
        self.design, self.options = design, options
        self.progress = LatencyProgress(0, len(options.modes) * len(options.batch_sizes), "")
        self.report: LatencyReport | None = None
        self.error: str | None = None
        self.started = time.perf_counter()
        self.seconds: float | None = None  # how long the sweep took, once finished
        self._cancel = threading.Event()
        self._thread = threading.Thread(target=self._run, name="latency-sweep", daemon=True)

    def start(self) -> LatencyJob:
        self._thread.start()
        return self

    def _run(self) -> None:
        try:
            self.report = latency(
                self.design, self.options, progress=self._on_progress, cancel=self._cancel
            )
        except ResNetExplorerError as exc:  # a busy device, a design over the caps...
            self.error = str(exc)
        except Exception as exc:  # the page says so instead of waiting on a dead thread
            self.error = f"the measurement failed: {type(exc).__name__}: {exc}"
        finally:
            self.seconds = time.perf_counter() - self.started

    def _on_progress(self, progress: LatencyProgress) -> None:
        self.progress = progress

    @property
    def finished(self) -> bool:
        return self.seconds is not None

    def cancel(self) -> None:
        """Stop after the row being measured."""
        self._cancel.set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the sweep ends (``timeout`` seconds at most); True when it has."""
        self._thread.join(timeout)
        return self.finished
