"""GPU figures, each printed beside its published anchor in the same run (issue 15).

    .venv/bin/python benchmarks/bench_gpu.py [--out artifacts/gpu] [--budget 300]
    .venv/bin/python benchmarks/bench_gpu.py --cpu-smoke     # the same flow on the CPU, tiny sizes

On CUDA (bf16 autocast + channels_last, synthetic data, torch.utils.benchmark / CUDA events):

- this device's peaks, measured: 8192^3 GEMMs (bf16, fp16, fp32, TF32) and a 1 GiB device copy;
- ResNet-50 inference, batch 1, 256 and 1,024 eager, then 256 and 1 with ``torch.compile``: img/s
  and % of the bf16 peak (anchor: timm's RTX 4090 AMP table, 4,218 img/s at batch 1,024);
- ResNet-50 training step, batch 256: img/s and % of peak (anchor: NVIDIA's ResNet-50 v1.5 A100
  AMP training, ~2,470 img/s; goal on an H100-class GPU: >= 3,000 img/s);
- CIFAR ResNet-20 probe: seconds per epoch of 50,000 32x32 images at batch 512, with cuDNN's
  autotuner off (the probe's default) and on (anchor: airbench94, 94 % on CIFAR-10 in 3.83 s on an
  A100; goal: one epoch < 2 s);
- latency fidelity: the engine's `latency` vs a hand-written CUDA-event loop on the same model,
  ResNet-50 batch 1 and 256, interleaved (goal: within 5 %).

Every figure goes to ``OUT/bench.json`` as soon as it is measured (a kill keeps what was done).
A time guard (``GPU_CHECK_DEADLINE``, set by scripts/gpu-check.sh, else ``--budget``) skips a part
that no longer fits and says so. Without CUDA every figure prints ``skipped: no CUDA device`` and
the script exits 0; ``--cpu-smoke`` runs every part on the CPU with tiny sizes instead.
Exit code 1 when a part failed (an exception), else 0; a goal not met is a figure, not a failure.
"""

from __future__ import annotations

import argparse
import contextlib
import re
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch
from torch.utils import benchmark

from benchmarks.gpu_report import (
    NO_CUDA,
    TimeGuard,
    bandwidth_for,
    check_line,
    datasheet_peaks,
    device_facts,
    peak_for,
    write_json,
)
from resnet_explorer import Design, build_model, presets
from resnet_explorer.analysis import LatencyOptions, latency
from resnet_explorer.analysis.analytic import totals

SCHEMA = "resnet-explorer/gpu-bench/v1"
H100_CLASS = re.compile(r"H100|H200|GH200")


@dataclass(frozen=True)
class Anchor:
    """A published figure to compare with: what it is, its value and unit, where it comes from."""

    text: str
    value: float
    unit: str
    source: str


TIMM_4090 = Anchor(
    "timm RTX 4090 AMP, batch 1,024: 4,218 img/s", 4217.6, "img/s",
    "huggingface/pytorch-image-models results/benchmark-infer-amp-nchw-pt240-cu124-rtx4090.csv "
    "(resnet50, 224 px, NCHW, torch 2.4)",
)  # fmt: skip
NVIDIA_A100 = Anchor(
    "NVIDIA ResNet-50 v1.5 A100 80GB AMP training, batch 256: ~2,470 img/s", 2470.0, "img/s",
    "NVIDIA DeepLearningExamples, ResNet-50 v1.5 for PyTorch, training performance (DALI data)",
)  # fmt: skip
AIRBENCH = Anchor(
    "airbench94: 94 % on CIFAR-10 in 3.83 s on an A100 (a small VGG-style net, whole training)",
    3.83, "s", "KellerJordan/cifar10-airbench README",
)  # fmt: skip


@dataclass(frozen=True)
class Sizes:
    """What a run measures: the GPU plan (`FULL`) or a tiny one that runs on the CPU (`TINY`)."""

    label: str
    design: Design
    infer_batches: tuple[int, ...]
    compiled_batches: tuple[int, ...]
    train_batch: int
    precision: str
    channels_last: bool
    gemm_n: int
    copy_mib: int
    epoch_design: Design
    epoch_images: int
    epoch_batch: int
    fidelity_batches: tuple[int, ...]
    fidelity_rounds: int
    min_run_time_s: float
    budget_s: float


FULL = Sizes(
    label="ResNet-50", design=presets.get("resnet50"), infer_batches=(1, 256, 1024),
    compiled_batches=(256, 1), train_batch=256, precision="bf16", channels_last=True,
    gemm_n=8192, copy_mib=1024, epoch_design=presets.get("resnet20"), epoch_images=50_000,
    epoch_batch=512, fidelity_batches=(1, 256), fidelity_rounds=3, min_run_time_s=1.0,
    budget_s=30.0,
)  # fmt: skip
TINY = replace(
    FULL, label="ResNet-20 at 16 px", design=presets.get("resnet20").replace(image_size=16),
    infer_batches=(1, 8), compiled_batches=(), train_batch=8, precision="fp32",
    channels_last=False, gemm_n=128, copy_mib=8,
    epoch_design=presets.get("resnet20").replace(image_size=16), epoch_images=256, epoch_batch=32,
    fidelity_batches=(4,), fidelity_rounds=1, min_run_time_s=0.05, budget_s=5.0,
)  # fmt: skip


@dataclass
class Context:
    """The device a run measures and what the parts share (the peaks, measured first)."""

    device: str
    sizes: Sizes
    peaks: dict[str, Any] = field(default_factory=dict)

    @property
    def tf32(self) -> bool:
        return self.device == "cuda" and bool(torch.backends.cudnn.allow_tf32)

    def mode_text(self) -> str:
        s = self.sizes
        return f"{s.precision}{' channels_last' if s.channels_last else ''}"


def figure(name: str, title: str, status: str, reason: str = "", **values: Any) -> dict[str, Any]:
    """One figure's record; ``line`` is what is printed for it."""
    line = check_line(title, status, reason) if status != "ok" else values.pop("line", title)
    return {"name": name, "title": title, "status": status, "reason": reason, "line": line,
            **values}  # fmt: skip


def _sync(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


# --- peaks --------------------------------------------------------------------------------------


def gemm_tflops(device: str, dtype: torch.dtype, n: int, min_run_time: float, *, tf32=False):
    """TFLOP/s of an n x n x n matrix product (torch.utils.benchmark, synchronised on CUDA)."""
    a = torch.randn(n, n, device=device).to(dtype)
    b = torch.randn(n, n, device=device).to(dtype)
    before = torch.backends.cuda.matmul.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = tf32
    try:
        timer = benchmark.Timer("torch.mm(a, b)", globals={"torch": torch, "a": a, "b": b})
        median = timer.blocked_autorange(min_run_time=min_run_time).median
    finally:
        torch.backends.cuda.matmul.allow_tf32 = before
    return 2 * n**3 / median / 1e12


def copy_gbs(device: str, mib: int, min_run_time: float) -> float:
    """GB/s of a device-to-device copy of ``mib`` MiB (bytes read + bytes written)."""
    src = torch.empty(mib * 2**20, dtype=torch.uint8, device=device)
    dst = torch.empty_like(src)
    timer = benchmark.Timer("dst.copy_(src)", globals={"dst": dst, "src": src})
    median = timer.blocked_autorange(min_run_time=min_run_time).median
    return 2 * src.numel() / median / 1e9


def measure_peaks(device: str, *, n: int, copy_mib: int, min_run_time: float) -> dict[str, Any]:
    """The GEMM and copy peaks of this device (on the CPU only fp32: the others are emulated)."""
    t = min_run_time / 2
    out: dict[str, Any] = {"gemm_n": n, "copy_mib": copy_mib}
    out["fp32_tflops"] = gemm_tflops(device, torch.float32, n, t)
    if device == "cuda":
        out["tf32_tflops"] = gemm_tflops(device, torch.float32, n, t, tf32=True)
        out["fp16_tflops"] = gemm_tflops(device, torch.float16, n, t)
        if torch.cuda.is_bf16_supported():
            out["bf16_tflops"] = gemm_tflops(device, torch.bfloat16, n, t)
    out["copy_gbs"] = copy_gbs(device, copy_mib, t)
    return out


def peaks_part(ctx: Context) -> list[dict[str, Any]]:
    s = ctx.sizes
    measured = measure_peaks(
        ctx.device, n=s.gemm_n, copy_mib=s.copy_mib, min_run_time=s.min_run_time_s
    )
    ctx.peaks["measured"] = measured
    sheet = ctx.peaks.get("datasheet") or {}
    bits = []
    for key in ("bf16", "fp16", "fp32", "tf32"):
        value = measured.get(f"{key}_tflops")
        if value is None:
            continue
        ref = sheet.get(f"{key}_tflops") if sheet.get("known") else None
        share = f" ({100 * value / ref:.0f} % of the datasheet's {ref:g})" if ref else ""
        bits.append(f"{key} {value:.3g} TFLOP/s{share}")
    bw, ref = measured["copy_gbs"], sheet.get("bandwidth_gbs") if sheet.get("known") else None
    share = f" ({100 * bw / ref:.0f} % of the datasheet's {ref:,.0f})" if ref else ""
    title = f"Measured peaks: {s.gemm_n}^3 GEMM, {s.copy_mib} MiB device copy"
    line = f"{title}: " + ", ".join(bits) + f"; copy {bw:,.0f} GB/s{share}"
    if not sheet.get("known"):
        line += f" | {sheet.get('fallback', '')}"
    return [figure("peaks", title, "ok", line=line, **measured)]


# --- throughput and latency ---------------------------------------------------------------------


def throughput(
    ctx: Context, *, name: str, title: str, mode: str, batch: int, compiled: bool = False,
    anchor: Anchor | None = None, goal: tuple[str, Callable[[float], bool | None]] | None = None,
) -> dict[str, Any]:  # fmt: skip
    """img/s and % of peak of the engine's `latency` for one mode and batch size."""
    s = ctx.sizes
    options = LatencyOptions(
        batch_sizes=(batch,), modes=(mode,), device=ctx.device, precision=s.precision,
        channels_last=s.channels_last, compile=compiled, budget_s=s.budget_s,
        min_run_time_s=s.min_run_time_s,
    )  # fmt: skip
    report = latency(s.design, options)
    row = report.rows[0]
    if row.status != "ok":
        return figure(name, title, row.status, row.message, compiled=compiled)
    peak, basis = peak_for(ctx.peaks, s.precision, tf32=ctx.tf32)
    percent = 100 * row.achieved_tflops / peak if peak else None
    values: dict[str, Any] = {
        "mode": mode, "batch_size": batch, "precision": s.precision,
        "channels_last": s.channels_last, "compiled": compiled, "compile_s": report.compile_s,
        "images_per_s": row.images_per_s, "median_ms": row.median_s * 1e3,
        "iqr_ms": row.iqr_s * 1e3, "samples": row.samples, "achieved_tflops": row.achieved_tflops,
        "percent_of_peak": percent, "peak_basis": basis, "peak_memory_bytes": row.peak_memory_bytes,
    }  # fmt: skip
    text = f"{row.images_per_s:,.0f} img/s ({row.median_s * 1e3:.3g} ms, IQR {row.iqr_s * 1e3:.2g})"
    text += f", {percent:.1f} % of {basis}" if percent is not None else f", {basis}"
    if compiled:
        text += f", compiled (compile {report.compile_s:.0f} s, not timed)"
    if mode == "inference" and batch == 1:
        values.update(_weight_traffic(ctx, row.median_s))
        text += f"; weights read at {values['weights_gbs']:,.3g} GB/s"
        if values["percent_of_bandwidth"] is not None:
            text += f" ({values['percent_of_bandwidth']:.1f} % of {values['bandwidth_basis']})"
    text += _compare(values, row.images_per_s, anchor, goal)
    return figure(name, title, "ok", line=f"{title}: {text}", **values)


def _weight_traffic(ctx: Context, median_s: float) -> dict[str, Any]:
    """At batch 1 the fp32 weights are read at least once per forward pass: a lower bound of the
    memory traffic, against the device's bandwidth."""
    weight_bytes = totals(ctx.sizes.design).params * 4
    gbs = weight_bytes / median_s / 1e9
    bandwidth, basis = bandwidth_for(ctx.peaks)
    return {
        "weights_gbs": gbs,
        "percent_of_bandwidth": 100 * gbs / bandwidth if bandwidth else None,
        "bandwidth_basis": basis,
    }


def _compare(values: dict[str, Any], value: float, anchor, goal) -> str:
    text = ""
    if anchor is not None:
        values["anchor"] = {"text": anchor.text, "value": anchor.value, "unit": anchor.unit,
                            "source": anchor.source}  # fmt: skip
        values["ratio_to_anchor"] = value / anchor.value
        text += f" | anchor: {anchor.text} -> {value / anchor.value:.2f}x"
    if goal is not None:
        met = goal[1](value)
        values["goal"] = {"text": goal[0], "met": met}
        verdict = "n/a on this GPU" if met is None else ("met" if met else "NOT met")
        text += f" | goal {goal[0]}: {verdict}"
    return text


def h100_goal(ctx: Context, threshold: float) -> Callable[[float], bool | None]:
    """The goal applies on an H100-class GPU only (None elsewhere)."""
    name = (ctx.peaks.get("datasheet") or {}).get("name") or ""
    return lambda value: (value >= threshold) if H100_CLASS.search(name) else None


def inference_part(ctx: Context, batch: int, compiled: bool) -> list[dict[str, Any]]:
    how = "compiled" if compiled else "eager"
    name = f"resnet50_inference_b{batch}_{how}"
    return [
        throughput(
            ctx, name=name, title=_infer_title(ctx.sizes, batch, how, ctx.mode_text()),
            mode="inference", batch=batch, compiled=compiled, anchor=TIMM_4090,
        )
    ]  # fmt: skip


def training_part(ctx: Context) -> list[dict[str, Any]]:
    b = ctx.sizes.train_batch
    return [
        throughput(
            ctx, name=f"resnet50_training_b{b}", title=_train_title(ctx.sizes, ctx.mode_text()),
            mode="training", batch=b, anchor=NVIDIA_A100,
            goal=(">= 3,000 img/s on an H100-class GPU", h100_goal(ctx, 3000.0)),
        )
    ]  # fmt: skip


def _infer_title(s: Sizes, batch: int, how: str, mode_text: str) -> str:
    return f"{s.label} inference, batch {batch}, {mode_text}, {how}"


def _train_title(s: Sizes, mode_text: str) -> str:
    return f"{s.label} training step, batch {s.train_batch}, {mode_text}, synthetic data"


# --- the CIFAR probe epoch ----------------------------------------------------------------------


def probe_epoch(
    design: Design, *, device: str, images: int, batch: int, cudnn_benchmark: bool
) -> dict[str, Any]:
    """Seconds per epoch of ``images`` synthetic CIFAR-shaped images through the probe runner
    (its defaults: bf16 autocast and channels_last on CUDA; evaluation and diagnostics off), after
    a 10-step warm-up. Partial last batches are dropped, as the probe's sampler does."""
    from resnet_explorer.probes import ProbeConfig, run_probe
    from resnet_explorer.probes.data import synthetic

    data = synthetic(
        num_classes=design.num_classes, image_size=design.image_size,
        channels=design.in_channels, train=images, held_out=64, seed=0,
    )  # fmt: skip
    steps = max(1, images // batch)
    config = ProbeConfig(
        steps=steps, batch_size=batch, device=device, dataset="synthetic", eval_every=0,
        final_eval=False, diagnostics=False, lr=0.05,
        threads=torch.get_num_threads() if device == "cpu" else None,  # the caller's choice
    )  # fmt: skip
    before = torch.backends.cudnn.benchmark
    torch.backends.cudnn.benchmark = cudnn_benchmark
    try:
        run_probe([("resnet20", design)], config.replace(steps=min(10, steps)), data=data)
        run = run_probe([("resnet20", design)], config, data=data).runs[0]
    finally:
        torch.backends.cudnn.benchmark = before
    if run.status != "done":
        raise RuntimeError(f"the probe ended {run.status}: {run.error or run.reason}")
    seen = run.steps * batch
    return {
        "epoch_s": run.train_seconds * images / seen,
        "images_per_s": seen / run.train_seconds,
        "steps": run.steps,
        "batch_size": batch,
        "images": images,
        "final_loss": run.losses()[-1],
        "cudnn_benchmark": cudnn_benchmark,
    }


def epoch_part(ctx: Context) -> list[dict[str, Any]]:
    s = ctx.sizes
    out = []
    for tuned in (False, True):
        title = _epoch_title(s, tuned)
        values = probe_epoch(
            s.epoch_design, device=ctx.device, images=s.epoch_images, batch=s.epoch_batch,
            cudnn_benchmark=tuned,
        )  # fmt: skip
        text = (
            f"{values['epoch_s']:.2f} s per epoch ({values['images_per_s']:,.0f} img/s, "
            f"{values['steps']} steps)"
        )
        text += _compare(values, values["epoch_s"], AIRBENCH, ("< 2 s", lambda v: v < 2.0))
        name = f"cifar_resnet20_epoch{'_cudnn_benchmark' if tuned else ''}"
        out.append(figure(name, title, "ok", line=f"{title}: {text}", **values))
    return out


def _epoch_title(s: Sizes, tuned: bool) -> str:
    return (
        f"CIFAR ResNet-20 probe, {s.epoch_images:,} images at batch {s.epoch_batch}, "
        f"cudnn.benchmark {'on' if tuned else 'off (the probe default)'}"
    )


# --- latency fidelity ---------------------------------------------------------------------------


def _elapsed(device: str, call: Callable[[], object], k: int) -> float:
    """Seconds for ``k`` calls: CUDA events around the block on a GPU; the host clock on the CPU,
    which has no events (and nothing to synchronise)."""
    if device == "cuda":
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        for _ in range(k):
            call()
        end.record()
        end.synchronize()
        return start.elapsed_time(end) / 1e3
    t0 = time.perf_counter()
    for _ in range(k):
        call()
    return time.perf_counter() - t0


def hand_event_loop(
    design: Design, *, batch: int, device: str, precision: str, channels_last: bool,
    min_run_time: float,
) -> float:  # fmt: skip
    """Median seconds per inference call of a plain loop timed with CUDA events: 3 warm-up calls,
    then blocks of k calls (about a tenth of ``min_run_time`` each) until that time is spent."""
    model = build_model(design, seed=0, device=device).eval()
    x = torch.randn(batch, design.in_channels, design.image_size, design.image_size, device=device)
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(precision)

    def call() -> None:
        cast = torch.autocast(device, dtype=dtype) if dtype else contextlib.nullcontext()
        with torch.inference_mode(), cast:
            model(x)

    for _ in range(3):
        call()
    _sync(device)
    one = _elapsed(device, call, 1)
    k = max(1, int(min_run_time / 10 / max(one, 1e-6)))
    per_call, spent = [], 0.0
    while spent < min_run_time or len(per_call) < 5:
        dt = _elapsed(device, call, k)
        per_call.append(dt / k)
        spent += dt
    return statistics.median(per_call)


def fidelity(ctx: Context, batch: int) -> dict[str, Any]:
    """The engine's latency median vs the hand-written event loop, interleaved rounds."""
    s = ctx.sizes
    options = LatencyOptions(
        batch_sizes=(batch,), modes=("inference",), device=ctx.device, precision=s.precision,
        channels_last=s.channels_last, budget_s=s.budget_s, min_run_time_s=s.min_run_time_s,
    )  # fmt: skip
    ours, hand = [], []
    for _ in range(s.fidelity_rounds):  # interleaved: a change of load or clocks hits both
        row = latency(s.design, options).rows[0]
        if row.status != "ok":
            raise RuntimeError(f"latency row {row.status}: {row.message}")
        ours.append(row.median_s)
        hand.append(
            hand_event_loop(
                s.design, batch=batch, device=ctx.device, precision=s.precision,
                channels_last=s.channels_last, min_run_time=s.min_run_time_s,
            )
        )  # fmt: skip
    a, b = statistics.median(ours), statistics.median(hand)
    diff = 100 * (a / b - 1)
    return {
        "batch_size": batch, "ours_ms": a * 1e3, "hand_ms": b * 1e3, "difference_percent": diff,
        "rounds": s.fidelity_rounds, "ours_all_ms": [t * 1e3 for t in ours],
        "hand_all_ms": [t * 1e3 for t in hand],
        "reference": "CUDA events around blocks of calls" if ctx.device == "cuda"
        else "host clock around blocks of calls (the CPU has no events)",
        "goal": {"text": "within 5 %", "met": abs(diff) <= 5.0},
    }  # fmt: skip


def fidelity_part(ctx: Context, batch: int) -> list[dict[str, Any]]:
    title = _fidelity_title(ctx.sizes, batch, ctx.mode_text())
    v = fidelity(ctx, batch)
    text = (
        f"ours {v['ours_ms']:.3g} ms vs event loop {v['hand_ms']:.3g} ms: "
        f"{v['difference_percent']:+.1f} % | goal within 5 %: "
        f"{'met' if v['goal']['met'] else 'NOT met'}"
    )
    return [figure(f"latency_fidelity_b{batch}", title, "ok", line=f"{title}: {text}", **v)]


def _fidelity_title(s: Sizes, batch: int, mode_text: str) -> str:
    return f"Latency fidelity, {s.label} inference, batch {batch}, {mode_text}"


# --- the run ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Part:
    """A piece of the run: the figures' titles (known without a GPU), its cost, what it does."""

    name: str
    titles: tuple[str, ...]
    cost_s: float
    run: Callable[[Context], list[dict[str, Any]]]


def plan(s: Sizes, mode_text: str) -> list[Part]:
    """Every part in order: peaks first (the others use them), compiled inference last (the
    slowest: compilation; the time guard drops it first)."""
    parts = [Part("peaks", (f"Measured peaks: {s.gemm_n}^3 GEMM, {s.copy_mib} MiB device copy",),
                  15, peaks_part)]  # fmt: skip
    for b in s.infer_batches:
        parts.append(Part(f"infer_eager_b{b}", (_infer_title(s, b, "eager", mode_text),), 15,
                          partial(inference_part, batch=b, compiled=False)))  # fmt: skip
    parts.append(Part("train", (_train_title(s, mode_text),), 20, training_part))
    parts.append(Part("epoch", (_epoch_title(s, False), _epoch_title(s, True)), 30, epoch_part))
    for b in s.fidelity_batches:
        parts.append(Part(f"fidelity_b{b}", (_fidelity_title(s, b, mode_text),), 25,
                          partial(fidelity_part, batch=b)))  # fmt: skip
    for b in s.compiled_batches:
        parts.append(Part(f"infer_compiled_b{b}", (_infer_title(s, b, "compiled", mode_text),),
                          100, partial(inference_part, batch=b, compiled=True)))  # fmt: skip
    return parts


def run_parts(
    parts: list[Part], ctx: Context, guard: TimeGuard, doc: dict[str, Any], out: Path
) -> int:
    """Run each part the guard allows, print its lines, write the JSON after each; returns the
    number of parts that raised (recorded as failed, the run goes on)."""
    failures = 0
    for part in parts:
        if not guard.allows(part.cost_s):
            figs = [figure(part.name, t, "skipped", guard.reason(part.cost_s)) for t in part.titles]
        else:
            try:
                figs = part.run(ctx)
            except Exception as exc:  # a benchmark part must not stop the others
                failures += 1
                text = f"{type(exc).__name__}: {str(exc).splitlines()[0][:300] if str(exc) else ''}"
                figs = [figure(part.name, t, "failed", text) for t in part.titles]
                if ctx.device == "cuda":
                    torch.cuda.empty_cache()
        for fig in figs:
            print(fig["line"], flush=True)
        doc["figures"].extend(figs)
        write_json(out / "bench.json", doc)
    return failures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("artifacts/gpu"))
    parser.add_argument("--budget", type=float, default=300.0,
                        help="seconds, unless GPU_CHECK_DEADLINE is set")  # fmt: skip
    parser.add_argument("--cpu-smoke", action="store_true",
                        help="run every part on the CPU with tiny sizes")  # fmt: skip
    args = parser.parse_args(argv)
    start = time.time()
    guard = TimeGuard.from_env(args.budget)
    cuda = torch.cuda.is_available() and not args.cpu_smoke
    device = "cuda" if cuda else "cpu"
    sizes = TINY if args.cpu_smoke else FULL
    facts = device_facts()
    ctx = Context(device, sizes, {"datasheet": datasheet_peaks(facts["name"] if cuda else None)})
    mode_text = ctx.mode_text()
    doc: dict[str, Any] = {"schema": SCHEMA, "plan": "cpu-smoke" if args.cpu_smoke else "full",
                           "device": facts, "peaks": ctx.peaks, "figures": []}  # fmt: skip
    parts = plan(sizes, mode_text)
    if not cuda and not args.cpu_smoke:
        for part in parts:
            for title in part.titles:
                fig = figure(part.name, title, "skipped", NO_CUDA)
                print(fig["line"])
                doc["figures"].append(fig)
        write_json(args.out / "bench.json", doc)
        return 0
    print(f"{facts['name']}: torch {facts['torch']}, CUDA {facts['cuda']}, cuDNN "
          f"{facts['cudnn']}, driver {facts['driver']}", flush=True)  # fmt: skip
    failures = run_parts(parts, ctx, guard, doc, args.out)
    doc["seconds"] = round(time.time() - start, 1)
    write_json(args.out / "bench.json", doc)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
