"""What the `pytest -m gpu` tests share: their marks, the time guard, recording figures, and the
same-seed probe pair that runs in a child process with cuDNN's determinism flags.

The tests skip cleanly without CUDA (reason ``no CUDA device``). Under `scripts/gpu-check.sh`
a test whose expected cost no longer fits in the check's deadline skips with a ``time guard``
reason, and the figures each test records land in ``$GPU_CHECK_FIGURES`` (JSON lines) for the
report.

    python tests/gpu_support.py same-seed DATASET STEPS    # prints the two runs' losses as JSON
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script, too

import pytest
import torch

from benchmarks.gpu_report import FIGURES_ENV, NO_CUDA, TimeGuard, append_figures, clean

ROOT_DIR = Path(__file__).resolve().parent.parent
HAS_CUDA = torch.cuda.is_available()
GPU_MARKS = [pytest.mark.gpu, pytest.mark.skipif(not HAS_CUDA, reason=NO_CUDA)]

#: cuDNN/cuBLAS settings of the same-seed check (see docs/gpu.md, "Determinism").
DETERMINISM_ENV = {"CUBLAS_WORKSPACE_CONFIG": ":4096:8"}


def within_budget(cost_s: float) -> None:
    """Skip (saying so) when the GPU check's deadline leaves less than ``cost_s`` seconds."""
    guard = TimeGuard.from_env(3600.0)
    if not guard.allows(cost_s):
        pytest.skip(guard.reason(cost_s))


def record(request: pytest.FixtureRequest, **figures: Any) -> None:
    """Keep a test's figures: a JUnit property, and a line in ``$GPU_CHECK_FIGURES`` if set."""
    figures = clean(figures)
    request.node.user_properties.append(("figures", json.dumps(figures)))
    path = os.environ.get(FIGURES_ENV)
    if path:
        append_figures(path, {"nodeid": request.node.nodeid, "figures": figures})


def set_determinism() -> None:
    """cuDNN deterministic algorithms, no autotuner, and torch's deterministic mode (warn-only:
    an op without a deterministic CUDA kernel warns instead of failing; `same_seed_runs` lists
    them)."""
    torch.backends.cudnn.deterministic = True
    torch.backends.cudnn.benchmark = False
    torch.use_deterministic_algorithms(True, warn_only=True)


def same_seed_runs(dataset: str, steps: int) -> dict[str, Any]:
    """Two probes of ResNet-20 with the same seed on CUDA, under the determinism flags (call in a
    fresh process: the flags are process-wide and cuBLAS reads its workspace setting at start)."""
    import warnings

    from resnet_explorer import presets
    from resnet_explorer.probes import ProbeConfig, run_probe

    set_determinism()
    config = ProbeConfig(
        steps=steps, dataset=dataset, image_size=16, batch_size=128, device="cuda",
        eval_every=0, final_eval=False, diagnostics=False, lr=0.05,
    )  # fmt: skip
    runs, nondeterministic = [], set()
    for _ in range(2):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = run_probe([("resnet20", presets.get("resnet20"))], config)
        nondeterministic |= {
            str(w.message).split(" does not have a deterministic")[0]
            for w in caught
            if "deterministic" in str(w.message)
        }
        runs.append(result.runs[0].losses())
    return {
        "losses": runs,
        "nondeterministic_ops": sorted(nondeterministic),
        "flags": {
            "cudnn.deterministic": torch.backends.cudnn.deterministic,
            "cudnn.benchmark": torch.backends.cudnn.benchmark,
            "use_deterministic_algorithms": "warn_only",
            **DETERMINISM_ENV,
        },
    }


if __name__ == "__main__":
    if len(sys.argv) != 4 or sys.argv[1] != "same-seed":
        sys.exit("usage: python tests/gpu_support.py same-seed DATASET STEPS")
    print(json.dumps(same_seed_runs(sys.argv[2], int(sys.argv[3]))))
