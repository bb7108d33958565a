"""Every preset builds on CUDA and computes what the CPU build computes (`pytest -m gpu`).

The seeded build on ``cuda`` must be the CPU's network: same weights (drawn on the CPU), same
logits for one fixed input, in eval mode. fp32 runs with TF32 off (cuDNN and matmul), so both
sides are true fp32; bf16 is autocast on the GPU against the CPU's fp32.

Tolerances: fp32 ``rtol=1e-4`` with ``atol=1e-4 x max|logit|`` (a logit near zero has no
meaningful relative error); bf16: normwise relative error ``||gpu - cpu|| / ||cpu|| <= 0.05``
(bf16 keeps 8 bits of mantissa; emulated on the CPU with oneDNN the worst preset gave 0.012).
ResNet-1202 and PreAct-ResNet-1001 overflow to inf in eval mode at initialisation (untrained
running statistics let activations grow with depth; the CPU gives inf/NaN too): they are compared
in training mode (batch statistics) instead, fp32 asserted, bf16 recorded only (batch statistics
of 1,000-layer nets amplify bf16 rounding: 0.05-0.13 emulated on the CPU).
"""

from __future__ import annotations

import os

import pytest
import torch
from gpu_support import GPU_MARKS, record, within_budget

from resnet_explorer import build_model, presets

pytestmark = GPU_MARKS

FP32_RTOL = 1e-4
BF16_NORM_TOL = 0.05


def _forward(model, x, *, bf16: bool) -> torch.Tensor:
    with torch.no_grad():
        if bf16:
            with torch.autocast("cuda", dtype=torch.bfloat16):
                return model(x).float().cpu()
        return model(x).float().cpu()


def _compare_one(name: str) -> dict:
    design = presets.get(name)
    g = torch.Generator().manual_seed(0)
    batch = 2
    x = torch.randn(batch, design.in_channels, design.image_size, design.image_size, generator=g)
    cpu = build_model(design, seed=0).eval()
    with torch.no_grad():
        ref = cpu(x)
    mode = "eval"
    if not torch.isfinite(ref).all():  # see the module docstring
        mode, batch = "train", 8
        x = torch.randn(batch, *x.shape[1:], generator=g)
        with torch.no_grad():
            ref = cpu.train()(x)
    del cpu
    gpu = build_model(design, seed=0, device="cuda").train(mode == "train")
    xg = x.cuda()
    fp32, bf16 = _forward(gpu, xg, bf16=False), _forward(gpu, xg, bf16=True)
    del gpu
    torch.cuda.empty_cache()
    scale = ref.abs().max().item()
    return {
        "mode": mode,
        "finite": bool(torch.isfinite(ref).all() and torch.isfinite(fp32).all()),
        "scale": scale,
        "fp32_max_abs_over_scale": ((fp32 - ref).abs().max() / scale).item(),
        "fp32_ok": torch.allclose(fp32, ref, rtol=FP32_RTOL, atol=FP32_RTOL * scale),
        "bf16_norm_error": ((bf16 - ref).norm() / ref.norm()).item(),
    }


@pytest.fixture(scope="module")
def preset_results():
    """Every preset once: CPU fp32 logits vs the CUDA build's fp32 and bf16 logits."""
    within_budget(120)
    saved = (torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32)
    threads = torch.get_num_threads()
    torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = False
    torch.set_num_threads(os.cpu_count() or 1)  # the CPU side is most of the time
    try:
        return {name: _compare_one(name) for name in presets.names()}
    finally:
        torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32 = saved
        torch.set_num_threads(threads)


def test_every_preset_on_cuda_equals_the_cpu_build_fp32(preset_results, request):
    record(
        request,
        presets=len(preset_results),
        worst_fp32_error=max(r["fp32_max_abs_over_scale"] for r in preset_results.values()),
        per_preset={n: r["fp32_max_abs_over_scale"] for n, r in preset_results.items()},
        train_mode=[n for n, r in preset_results.items() if r["mode"] == "train"],
    )
    bad = {n: r for n, r in preset_results.items() if not (r["fp32_ok"] and r["finite"])}
    assert not bad, f"fp32 logits differ from the CPU's beyond rtol {FP32_RTOL}: {bad}"


def test_every_preset_in_bf16_is_within_tolerance_of_the_cpu_fp32(preset_results, request):
    errors = {n: r["bf16_norm_error"] for n, r in preset_results.items()}
    asserted = {n: e for n, e in errors.items() if preset_results[n]["mode"] == "eval"}
    record(
        request,
        tolerance=BF16_NORM_TOL,
        worst_bf16_error=max(asserted.values()),
        per_preset=errors,
        recorded_only=sorted(set(errors) - set(asserted)),
    )
    bad = {n: e for n, e in asserted.items() if not e <= BF16_NORM_TOL}
    assert not bad, f"bf16 normwise error over {BF16_NORM_TOL}: {bad}"
