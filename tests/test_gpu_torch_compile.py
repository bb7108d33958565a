"""``torch.compile`` on CUDA (`pytest -m gpu`): the compiled latency is measured and labelled.

In its own module so that it runs last of the GPU tests: compilation is the slowest check, and
the time guard drops it first.
"""

from __future__ import annotations

from gpu_support import GPU_MARKS, record, within_budget

from resnet_explorer import presets
from resnet_explorer.analysis import LatencyOptions, latency

pytestmark = GPU_MARKS


def test_compiled_latency_is_measured_and_labelled(request):
    within_budget(150)
    design = presets.get("resnet20")
    options = LatencyOptions(
        batch_sizes=(256,), modes=("inference",), device="cuda", precision="bf16",
        channels_last=True, budget_s=5.0, min_run_time_s=0.3,
    )  # fmt: skip
    eager = latency(design, options)
    compiled = latency(design, options.replace(compile=True))
    assert compiled.compiled and not eager.compiled
    assert compiled.compile_s is not None and compiled.compile_s > 0
    assert [r.status for r in compiled.rows] == ["ok"], compiled.rows[0].message
    record(
        request, design="resnet20", batch=256,
        eager_images_per_s=eager.rows[0].images_per_s,
        compiled_images_per_s=compiled.rows[0].images_per_s, compile_s=compiled.compile_s,
    )  # fmt: skip
