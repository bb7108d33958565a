"""Sampling and analytic scoring of 10,000 designs (issue 9 target: < 2 s on a 2-core CPU).

Run: .venv/bin/python benchmarks/bench_explore.py
Prints the wall time of `sample_space(space, 10_000)` for each example space, the ResNet one on
CIFAR and the RegNet one on ImageNet (cold shape cache, then warm), the draws it took, and
per-design `analysis.analytic.totals` for reference.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from resnet_explorer.analysis.analytic import totals  # noqa: E402
from resnet_explorer.explore import Space, sample_space  # noqa: E402
from resnet_explorer.plan.counts import clear_caches  # noqa: E402

N = 10_000


SPACES = ("space_cifar.json", "space_regnet_imagenet.json")


def main() -> None:
    for name in SPACES:
        print(f"{name}:")
        bench(Space.load(ROOT / "examples" / name))


def bench(space: Space) -> None:
    sample_space(space, 50, seed=99)  # imports, presets
    clear_caches()
    t0 = time.perf_counter()
    report = sample_space(space, N, seed=0)
    cold = time.perf_counter() - t0
    t0 = time.perf_counter()
    sample_space(space, N, seed=1)
    warm = time.perf_counter() - t0
    designs = [s.design for s in report.samples[:1000]]
    totals.cache_clear()
    t0 = time.perf_counter()
    for d in designs:
        totals(d)
    ref = (time.perf_counter() - t0) / len(designs)
    print(
        f"  sample + score {N} designs ({report.draws} draws): cold cache {cold:.2f} s, "
        f"another seed {warm:.2f} s (target < 2 s)"
    )
    print(
        f"  per accepted design: {cold / N * 1e6:.0f} us; analysis.analytic.totals alone: "
        f"{ref * 1e6:.0f} us/design"
    )


if __name__ == "__main__":
    main()
