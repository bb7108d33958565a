"""`scripts/gpu-check.sh` on a machine without CUDA, as CI runs it: every GPU check prints one
"skipped: no CUDA device" line, the report is written, exit code 0.

The child sees no GPU even where there is one (``CUDA_VISIBLE_DEVICES=""``): on a GPU machine run
the script itself for the real check.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_gpu_check_without_cuda_skips_every_check_and_exits_0(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_ADDOPTS"}
    env.update(GPU_CHECK_OUT=str(tmp_path), GPU_CHECK_PYTHON=sys.executable)
    env["CUDA_VISIBLE_DEVICES"] = ""  # no GPU for the child, even on a GPU machine
    out = subprocess.run(
        ["bash", str(ROOT / "scripts" / "gpu-check.sh")],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    doc = json.loads((tmp_path / "gpu-check.json").read_text())
    assert doc["schema"] == "resnet-explorer/gpu-check/v1"
    assert doc["result"] == "skipped: no CUDA device"
    assert doc["device"]["cuda_available"] is False and doc["device"]["torch"]
    assert doc["peaks"]["datasheet"]["known"] is False

    tests, figures = doc["tests"]["checks"], doc["bench"]["figures"]
    names = {c["name"] for c in tests}
    assert {"test_every_preset_on_cuda_equals_the_cpu_build_fp32",
            "test_out_of_memory_reports_the_largest_batch_and_frees_the_device",
            "test_one_job_per_gpu_while_a_cpu_job_runs_beside",
            "test_landscape_batched_on_the_gpu_equals_the_cpu"} <= names  # fmt: skip
    assert len(tests) >= 14 and len(figures) >= 11
    assert {(c["outcome"], c["message"]) for c in tests} == {("skipped", "no CUDA device")}
    assert {(f["status"], f["reason"]) for f in figures} == {("skipped", "no CUDA device")}

    lines = out.stdout.splitlines()
    skipped = [line for line in lines if line.endswith(": skipped: no CUDA device")]
    expected = [f"gpu test {c['name']}: skipped: no CUDA device" for c in tests]
    expected += [f"{f['title']}: skipped: no CUDA device" for f in figures]
    assert sorted(skipped) == sorted(expected)  # one line per check, no more
    md = (tmp_path / "gpu-check.md").read_text()
    assert "skipped: no CUDA device" in md and "## Benchmarks" in md


def test_gpu_check_without_the_venv_says_what_to_run(tmp_path):
    env = {**os.environ, "GPU_CHECK_OUT": str(tmp_path), "GPU_CHECK_PYTHON": "/nonexistent/py"}
    out = subprocess.run(
        ["bash", str(ROOT / "scripts" / "gpu-check.sh")],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert out.returncode == 2
    assert "scripts/test.sh" in out.stderr and "installs nothing" in out.stderr
    assert not any(tmp_path.iterdir())
