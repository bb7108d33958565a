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
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from resnet_explorer.analysis._common import THREADS_LOCK, AnalysisError, plain
from resnet_explorer.analysis.analytic import totals
from resnet_explorer.analysis.devices import (
    DeviceInfo,
    check_precision,
    gpu_peak,
    peak_tflops,
    resolve_device,
)
from resnet_explorer.analysis.memory import check_batch_size
from resnet_explorer.design import Design

MODES = ("inference", "training")
FLOPS_CONVENTION = (
    "achieved TFLOP/s = 2 x MACs per image x images / median time; a training step counts "
    "3 x the forward pass (backward ~ 2 x forward), the usual convention; norm, pooling and "
    "element-wise ops are not counted"
)


class LatencyError(AnalysisError):
    """Bad latency options, or the device is busy: the message says which."""


@dataclass(frozen=True)
class LatencyOptions:
    """What to measure and how. Validated on construction (`LatencyError`)."""

    batch_sizes: tuple[int, ...] = (1, 32)
    device: str = "auto"  # auto | cpu | cuda
    precision: str = "fp32"  # fp32 | bf16 | fp16 (autocast, CUDA only)
    channels_last: bool = False
    compile: bool = False  # torch.compile the model (compile time is reported, not timed)
    modes: tuple[str, ...] = MODES
    budget_s: float = 3.0  # per measurement; over it the sweep stops and says so
    min_run_time_s: float = 1.0  # blocked_autorange's measuring time, within the budget
    num_threads: int | None = None  # CPU intra-op threads; None = torch.get_num_threads()
    lock_timeout_s: float = 120.0  # how long to wait for another measurement on the device

    def __post_init__(self) -> None:
        sizes = self.batch_sizes
        if isinstance(sizes, int):
            sizes = (sizes,)
        sizes = tuple(sizes)
        if not sizes:
            raise LatencyError("batch sizes: give at least one")
        for b in sizes:
            try:
                check_batch_size(b)
            except AnalysisError as exc:
                raise LatencyError(str(exc)) from None
        object.__setattr__(self, "batch_sizes", tuple(sorted(set(sizes))))
        bad = [m for m in self.modes if m not in MODES]
        if bad or not self.modes:
            raise LatencyError(f"modes {list(self.modes)!r}: use one or both of {MODES}")
        for name in ("budget_s", "min_run_time_s", "lock_timeout_s"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or not 0 < value <= 600:
                raise LatencyError(f"{name} must be seconds in (0, 600], got {value!r}")
        if self.num_threads is not None and not (
            isinstance(self.num_threads, int) and 1 <= self.num_threads <= 1024
        ):
            raise LatencyError(f"num_threads must be 1..1024, got {self.num_threads!r}")
        if self.device not in ("auto", "cpu", "cuda"):
            raise LatencyError(f"device {self.device!r} is not known; use auto, cpu or cuda")
        if self.precision not in ("fp32", "bf16", "fp16"):
            raise LatencyError(f"precision {self.precision!r} is not known; use fp32, bf16, fp16")


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


def latency(design: Design, options: LatencyOptions | None = None) -> LatencyReport:
    """Measure ``design`` over the options' batch sizes and modes (see `LatencyOptions`)."""
    import torch
    from torch.utils import benchmark

    from resnet_explorer.builder import build_model

    options = options or LatencyOptions()
    try:
        device = resolve_device(options.device)
        check_precision(options.precision, device)
    except AnalysisError as exc:
        raise LatencyError(str(exc)) from None
    threads = options.num_threads or torch.get_num_threads()
    macs = totals(design).macs
    peak = gpu_peak(device.name) if device.type == "cuda" else None
    peak_value, peak_label = (None, None)
    if peak is not None:
        peak_value, label = peak_tflops(
            peak, options.precision, bool(torch.backends.cudnn.allow_tf32)
        )
        peak_label = f"{peak.source}, {label}, dense"
    notes: list[str] = []
    if device.type == "cuda" and peak is None:
        notes.append(f"no known peak for {device.name}: fraction of peak not given")
    rows: list[LatencyRow] = []
    fitted: dict[str, int | None] = {m: None for m in options.modes}
    cut_short = False
    compile_s: float | None = None
    dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(options.precision)

    def autocast():
        if dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(device_type="cuda", dtype=dtype)

    with _hold(device.key, options.lock_timeout_s) as waited:
        threads_guard = THREADS_LOCK if device.type == "cpu" else contextlib.nullcontext()
        with threads_guard:
            for mode in options.modes:
                for batch in options.batch_sizes:
                    row, compiled_in = _measure_one(
                        design, options, device, mode, batch, threads, macs, peak_value,
                        autocast, benchmark, build_model,
                    )  # fmt: skip
                    if compiled_in is not None:
                        compile_s = max(compile_s or 0.0, compiled_in)
                    rows.append(row)
                    if row.status == "ok":
                        fitted[mode] = batch
                        continue
                    cut_short = True
                    break  # larger batches only take longer / need more memory
    return LatencyReport(
        device=device.type,
        device_name=device.name,
        device_requested=options.device,
        precision=options.precision,
        channels_last=options.channels_last,
        compiled=options.compile,
        num_threads=threads,
        torch_version=torch.__version__,
        budget_s=options.budget_s,
        rows=tuple(rows),
        cut_short=cut_short,
        largest_batch_that_fitted=fitted,
        peak_tflops=peak_value,
        peak_source=peak_label,
        lock_wait_s=waited,
        compile_s=compile_s,
        notes=tuple(notes),
    )


def _measure_one(
    design, options, device, mode, batch, threads, macs, peak_value, autocast, benchmark, build
) -> tuple[LatencyRow, float | None]:
    import torch

    if device.type == "cpu":
        need, free = _cpu_bytes_needed(design, mode, batch), _free_ram_bytes()
        if free is not None and need > 0.8 * free:
            return LatencyRow(
                mode, batch, "out_of_memory",
                message=f"needs about {need / 2**30:.1f} GiB; {free / 2**30:.1f} GiB of RAM is "
                "free: not attempted",
            ), None  # fmt: skip
    model = x = step = None
    compile_s = None
    base_mem = 0
    try:
        if device.type == "cuda":  # the row's peak counts what it allocates, not what was there
            torch.cuda.synchronize()
            base_mem = torch.cuda.memory_allocated()
        model = build(design, device=device.type, seed=0)
        model.train(mode == "training")
        size = (batch, design.in_channels, design.image_size, design.image_size)
        x = torch.randn(size, device=device.type)
        if options.channels_last:
            model = model.to(memory_format=torch.channels_last)
            x = x.contiguous(memory_format=torch.channels_last)
        if options.compile:
            model = torch.compile(model)
        target = torch.zeros(batch, dtype=torch.long, device=device.type)
        scaler = None
        if mode == "training" and options.precision == "fp16":
            scaler = torch.amp.GradScaler("cuda")
        step = _make_step(model, mode, x, target, autocast, scaler)
        if device.type == "cuda":
            torch.cuda.reset_peak_memory_stats()
        with _thread_count(threads, device):
            if options.compile:  # the first call compiles: reported apart, outside the budget
                start = time.perf_counter()
                step()
                _sync(device)
                compile_s = time.perf_counter() - start
            # warm-up: the first calls pick kernels; up to 3 runs, within half the budget; the
            # fastest tells what one measured run costs
            runs: list[float] = []
            while len(runs) < 3 and sum(runs) < options.budget_s / 2:
                start = time.perf_counter()
                step()
                _sync(device)
                runs.append(time.perf_counter() - start)
            first = min(runs)
        # blocked_autorange runs once to size its blocks, then at least one more block
        if 3 * first > options.budget_s:
            return LatencyRow(
                mode, batch, "over_budget",
                message=f"one run takes {first:.2f} s; measuring needs ~{3 * first:.1f} s, over "
                f"the {options.budget_s:g} s budget: sweep stopped here",
            ), compile_s  # fmt: skip
        timer = benchmark.Timer(
            stmt="step()",
            globals={"step": step},
            num_threads=threads,
            label=f"{mode} batch {batch}",
        )
        run_time = min(options.min_run_time_s, options.budget_s - 2 * first)
        measurement = timer.blocked_autorange(min_run_time=max(run_time, first))
        peak_mem = None
        if device.type == "cuda":
            peak_mem = int(torch.cuda.max_memory_allocated()) - base_mem
    except Exception as exc:
        if isinstance(exc, ValueError):  # e.g. a group norm with one value per group at batch 1
            return LatencyRow(
                mode, batch, "failed", message=f"the model refused batch {batch}: {exc}"
            ), compile_s  # fmt: skip
        if not is_out_of_memory(exc):
            raise
        return LatencyRow(
            mode, batch, "out_of_memory",
            message=f"out of memory at batch {batch}: {str(exc).splitlines()[0][:200]}",
        ), compile_s  # fmt: skip
    finally:
        del model, x, step
        if options.compile:
            torch.compiler.reset()  # drop the compiled code and what it holds of this model
        gc.collect()
        if device.type == "cuda":
            torch.cuda.empty_cache()
    median = float(measurement.median)
    flops = 2 * macs * batch * (3 if mode == "training" else 1)
    achieved = flops / median / 1e12
    return LatencyRow(
        mode=mode,
        batch_size=batch,
        status="ok",
        median_s=median,
        iqr_s=float(measurement.iqr),
        p25_s=float(measurement._p25),
        p75_s=float(measurement._p75),
        samples=len(measurement.times),
        runs_per_sample=int(measurement.number_per_run),
        images_per_s=batch / median,
        achieved_tflops=achieved,
        fraction_of_peak=achieved / peak_value if peak_value else None,
        peak_memory_bytes=peak_mem,
    ), compile_s


@contextlib.contextmanager
def _thread_count(threads: int, device: DeviceInfo) -> Iterator[None]:
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)
