"""Latency, peak memory and out-of-memory on CUDA (`pytest -m gpu`).

- Latency synchronises with the device (torch.utils.benchmark's timer and the warm-up both call
  synchronize), warms up, and reports median and IQR for fp32, bf16 and fp16, channels_last off
  and on; our median agrees with a hand-written CUDA event loop within 10 % here
  (`benchmarks/bench_gpu.py` reports the 5 % goal on ResNet-50). ``torch.compile``:
  `test_gpu_torch_compile.py`.
- The peak of a training step (``torch.cuda.max_memory_allocated``) against the app's estimate:
  the estimate leaves out cuDNN workspaces and allocator rounding; the ratio measured/estimate
  must lie in [0.7, 1.6] and is recorded.
- Out of memory: a batch whose saved activations need 1.25x the GPU's memory is reported
  ``out_of_memory`` with the largest batch that fitted, allocated memory goes back to its level
  before (within 16 MiB), and the device measures again afterwards.
"""

from __future__ import annotations

import gc
import math

import pytest
import torch
from gpu_support import GPU_MARKS, record, within_budget

from benchmarks.bench_gpu import hand_event_loop
from resnet_explorer import presets
from resnet_explorer.analysis import LatencyOptions, latency, memory
from resnet_explorer.analysis.analytic import layer_counts
from resnet_explorer.analysis.devices import gpu_peak, peak_tflops

pytestmark = GPU_MARKS

RESNET50 = presets.get("resnet50")
QUICK = {"budget_s": 5.0, "min_run_time_s": 0.3}


@pytest.fixture
def sync_calls(monkeypatch):
    """Counts device synchronisations (torch.cuda's and torch.accelerator's) during a test."""
    calls = [0]
    for module in (torch.cuda, torch.accelerator):
        real = module.synchronize

        def spy(*args, _real=real, **kwargs):
            calls[0] += 1
            return _real(*args, **kwargs)

        monkeypatch.setattr(module, "synchronize", spy)
    return calls


@pytest.mark.parametrize("precision", ["fp32", "bf16", "fp16"])
def test_latency_synchronises_and_reports_median_and_iqr(precision, sync_calls, request):
    within_budget(40)
    figures = {}
    peak = gpu_peak(torch.cuda.get_device_name())
    peak_known = peak is not None and peak_tflops(peak, precision, tf32=True)[0] is not None
    for channels_last in (False, True):
        before = sync_calls[0]
        report = latency(
            RESNET50,
            LatencyOptions(batch_sizes=(32,), device="cuda", precision=precision,
                           channels_last=channels_last, **QUICK),
        )  # fmt: skip
        assert (report.device, report.precision, report.channels_last) == (
            "cuda", precision, channels_last
        )
        assert not report.compiled and report.device_name == torch.cuda.get_device_name()
        for row in report.rows:
            assert row.status == "ok", row.message
            assert row.p25_s <= row.median_s <= row.p75_s and row.iqr_s >= 0 and row.samples >= 1
            assert row.peak_memory_bytes > 0
            assert (row.fraction_of_peak is not None) == peak_known
            figures[f"{row.mode} channels_last={channels_last}"] = {
                "images_per_s": row.images_per_s, "median_ms": row.median_s * 1e3,
                "iqr_ms": row.iqr_s * 1e3, "fraction_of_peak": row.fraction_of_peak,
            }  # fmt: skip
        # warm-up (3 runs) and every timed block synchronise, per row
        assert sync_calls[0] - before >= 4 * len(report.rows)
    record(request, precision=precision, batch=32, design="resnet50", rows=figures)


def test_latency_agrees_with_a_cuda_event_loop(request):
    within_budget(40)
    options = LatencyOptions(batch_sizes=(64,), modes=("inference",), device="cuda",
                             precision="bf16", channels_last=True, **QUICK)  # fmt: skip
    ours = latency(RESNET50, options).rows[0].median_s
    hand = hand_event_loop(RESNET50, batch=64, device="cuda", precision="bf16",
                           channels_last=True, min_run_time=0.3)  # fmt: skip
    record(request, ours_ms=ours * 1e3, events_ms=hand * 1e3, difference=ours / hand - 1)
    assert ours == pytest.approx(hand, rel=0.10)


def test_training_peak_memory_against_the_estimate(request):
    within_budget(40)
    ratios = {}
    for name, batch in (("resnet50", 32), ("resnet20", 256)):
        report = memory(presets.get(name), batch, measure_peak=True)
        ratios[f"{name} batch {batch}"] = {
            "measured_bytes": report.measured_peak_bytes,
            "estimate_bytes": report.training_step_estimate_bytes,
            "ratio": report.measured_peak_bytes / report.training_step_estimate_bytes,
        }
    # what else the process holds on the GPU is not counted in the step's peak
    ballast = torch.empty(2**30, dtype=torch.uint8, device="cuda")
    with_ballast = memory(presets.get("resnet20"), 256, measure_peak=True).measured_peak_bytes
    del ballast
    alone = ratios["resnet20 batch 256"]["measured_bytes"]
    record(request, designs=ratios, with_1gib_held=with_ballast)
    for name, r in ratios.items():
        assert 0.7 <= r["ratio"] <= 1.6, (name, r)
    assert abs(with_ballast - alone) <= 0.01 * alone + 32 * 2**20


def test_out_of_memory_reports_the_largest_batch_and_frees_the_device(request):
    within_budget(60)
    total = torch.cuda.get_device_properties(torch.cuda.current_device()).total_memory
    # the saved activations alone need 1.25x the GPU's memory: the forward pass runs out
    per_image = memory(RESNET50, 1, measure_peak=False).saved_activation_bytes
    too_big = math.ceil(1.25 * total / per_image)
    largest = max(x.outputs for x in layer_counts(RESNET50)) * too_big
    if too_big > 4096 or largest >= 2**31:  # past the batch cap, or past 32-bit indexing
        pytest.skip(f"this GPU ({total / 2**30:.0f} GiB) needs batch {too_big} to run out")
    quick = {**QUICK, "modes": ("training",), "device": "cuda"}
    latency(RESNET50, LatencyOptions(batch_sizes=(8,), **quick))  # cuBLAS/cuDNN handles exist
    gc.collect()
    before = torch.cuda.memory_allocated()
    report = latency(RESNET50, LatencyOptions(batch_sizes=(8, 32, too_big), **quick))
    gc.collect()
    after = torch.cuda.memory_allocated()
    again = latency(RESNET50, LatencyOptions(batch_sizes=(32,), **quick))
    record(
        request, too_big_batch=too_big, total_memory=total,
        statuses=[r.status for r in report.rows], message=report.rows[-1].message,
        largest_batch_that_fitted=report.largest_batch_that_fitted,
        allocated_before=before, allocated_after=after,
    )  # fmt: skip
    assert [r.status for r in report.rows] == ["ok", "ok", "out_of_memory"]
    assert report.largest_batch_that_fitted == {"training": 32} and report.cut_short
    assert "out of memory" in report.rows[-1].message
    assert after - before <= 16 * 2**20
    assert again.rows[0].status == "ok"
