"""The GPU check's machinery, run on the CPU so that it cannot rot where CI has no GPU.

Covers what `scripts/gpu-check.sh` relies on that does not need CUDA: the latency path with
``torch.compile`` (backend ``eager`` here, inductor on a GPU), the peak table, the benchmark's
measurement functions on a CPU device with tiny sizes, the time guard and the report writer.
"""

from __future__ import annotations

import functools

import pytest
import torch

from resnet_explorer import presets
from resnet_explorer.analysis import LatencyOptions, latency

TINY = presets.get("resnet20").replace(image_size=16)


@pytest.fixture
def eager_compile(monkeypatch):
    """``torch.compile`` with the eager backend: dynamo traces, nothing is code-generated."""
    monkeypatch.setattr(torch, "compile", functools.partial(torch.compile, backend="eager"))


def test_compiled_latency_times_the_compilation_apart_from_the_budget(eager_compile):
    options = LatencyOptions(
        batch_sizes=(2,), compile=True, budget_s=1.0, min_run_time_s=0.05, num_threads=1
    )
    report = latency(TINY, options)
    assert report.compiled and report.compile_s is not None and report.compile_s > 0
    # the compilation may take longer than the budget; the rows are measured all the same
    assert [(r.mode, r.status) for r in report.rows] == [("inference", "ok"), ("training", "ok")]
    assert not report.cut_short


def test_job_queues_are_keyed_by_physical_device():
    from resnet_explorer.probes.jobs import queue_key

    assert queue_key("cpu") == queue_key(torch.device("cpu")) == "cpu"
    assert queue_key("cuda:1") == "cuda:1"  # an explicit index needs no GPU to name its queue
    if torch.cuda.is_available():
        assert queue_key("cuda") == f"cuda:{torch.cuda.current_device()}"


def test_peak_table_has_bandwidth_and_the_gpus_the_check_quotes():
    from resnet_explorer.analysis.devices import gpu_peak

    h200, h100 = gpu_peak("NVIDIA H200"), gpu_peak("NVIDIA H100 80GB HBM3")
    assert (h200.bf16, h200.bandwidth_gbs) == (989.5, 4800.0)  # same compute as H100 SXM
    assert (h100.bf16, h100.bandwidth_gbs) == (989.5, 3350.0)
    assert gpu_peak("NVIDIA GeForce RTX 4090").bf16 == 165.2  # FP32 accumulate, dense
    assert gpu_peak("NVIDIA L4").bandwidth_gbs == 300.0
    a100 = {n: gpu_peak(n).bandwidth_gbs for n in ("NVIDIA A100-SXM4-80GB", "NVIDIA A100 80GB "
            "PCIe", "NVIDIA A100-SXM4-40GB")}  # fmt: skip
    assert list(a100.values()) == [2039.0, 1935.0, 1555.0]
