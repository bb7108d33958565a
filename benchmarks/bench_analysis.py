"""Speed of the analysis: analytic vs fvcore, whole profile, latency vs plain torch.utils.benchmark.

Run: ``.venv/bin/python benchmarks/bench_analysis.py``. Prints figures; every comparison is
against a reference measured in the same run (the machine may be shared and noisy).
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch
from torch.utils import benchmark

from resnet_explorer import build_model, presets
from resnet_explorer.analysis import (
    LatencyOptions,
    analytic,
    latency,
    profile,
)
from resnet_explorer.analysis.flops import measure_fvcore
from resnet_explorer.plan import plan


def best_of(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def analytic_vs_fvcore() -> None:
    design = presets.get("resnet152")

    def count():
        analytic.totals.cache_clear()  # count from scratch, not from the caches
        plan.cache_clear()
        analytic.totals(design)

    t_analytic = best_of(count, 20)
    t_layers = best_of(lambda: analytic.layer_counts(design), 20)
    t_fvcore = best_of(lambda: measure_fvcore(design), 2)
    print(
        f"ResNet-152 analytic count {t_analytic * 1e3:.2f} ms; fvcore build + trace "
        f"{t_fvcore:.2f} s; ratio {t_fvcore / t_analytic:,.0f}x "
        f"(targets: >= 100x and < 5 ms); every layer listed: {t_layers * 1e3:.2f} ms"
    )


def whole_profile() -> None:
    design = presets.get("resnet50")
    cold = best_of(lambda: profile(design, batch_size=32), 1)
    warm = [best_of(lambda: profile(design, batch_size=32), 1) for _ in range(3)]
    print(
        f"ResNet-50 whole profile without latency: first call {cold:.2f} s (imports, meta "
        f"kernels), then {min(warm):.2f} s best / {statistics.median(warm):.2f} s median "
        "(target < 1.5 s)"
    )


def latency_vs_plain(threads: int = 1, rounds: int = 3) -> None:
    design = presets.get("resnet50")
    model = build_model(design, seed=0).eval()
    x = torch.randn(1, 3, 224, 224)
    ours, plain = [], []
    options = LatencyOptions(
        batch_sizes=(1,), modes=("inference",), device="cpu", num_threads=threads,
        budget_s=10.0, min_run_time_s=2.0,
    )  # fmt: skip
    for _ in range(rounds):  # interleaved, so load changes hit both alike
        timer = benchmark.Timer("model(x)", globals={"model": model, "x": x}, num_threads=threads)
        with torch.inference_mode():
            plain.append(timer.blocked_autorange(min_run_time=2.0).median)
        ours.append(latency(design, options).rows[0].median_s)
    a, b = statistics.median(ours), statistics.median(plain)
    print(
        f"ResNet-50 inference, batch 1, {threads} thread(s): ours {a * 1e3:.1f} ms, plain "
        f"torch.utils.benchmark {b * 1e3:.1f} ms; difference {100 * (a / b - 1):+.1f} % "
        "(target within 5 %)"
    )


if __name__ == "__main__":
    torch.set_num_threads(1)  # single-threaded traces: see analysis._common.cpu_threads
    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread(s)")
    analytic_vs_fvcore()
    whole_profile()
    latency_vs_plain()
