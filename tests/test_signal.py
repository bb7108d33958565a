"""Signal propagation: Var(F(x))/Var(x) and |dL/dx| per block, at init and after k steps."""

from __future__ import annotations

import pytest
import torch
from test_probes import TINY

from resnet_explorer import presets
from resnet_explorer.builder import build_model
from resnet_explorer.probes import ProbeConfig, run_probe, signal
from resnet_explorer.probes.data import synthetic


def _batch(design, n=8, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, design.in_channels, design.image_size, design.image_size, generator=g)
    return x, torch.randint(0, design.num_classes, (n,), generator=g)


def test_the_branch_is_read_off_the_block_and_matches_a_hook_on_its_last_norm():
    design = presets.get("resnet20").replace(image_size=16)
    model = build_model(design, seed=0)
    x, y = _batch(design)
    seen = {}
    hooks = [
        model.get_submodule(f"{name}.bn2").register_forward_hook(
            lambda _m, _i, out, name=name: seen.__setitem__(name, out.detach().var().item())
        )
        for name in ("layer1.0", "layer3.2")
    ]
    found = {b["name"]: b for b in signal.measure(model, design, x, y)["blocks"]}
    for h in hooks:
        h.remove()
    for name in ("layer1.0", "layer3.2"):  # original order: F(x) ends with bn2
        assert found[name]["branch_var"] == pytest.approx(seen[name], rel=1e-5)
        assert found[name]["variance_ratio"] > 0 and found[name]["grad_norm"] > 0


def test_measuring_leaves_the_model_as_it_was():
    design = presets.get("resnet20").replace(image_size=16)
    model = build_model(design, seed=0)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    signal.measure(model.eval(), design, *_batch(design))
    assert not model.training
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert all(p.grad is None for p in model.parameters())
    assert type(model.layer1[0]).__name__ == "ResidualBlock"


def test_identity_paths_keep_the_signal_and_zero_init_starts_at_the_identity():
    found = signal.sweep(20, batch_size=8)
    assert len(found) == 10
    pre = [b["variance_ratio"] for b in found["full_preact"]["blocks"]]
    assert pre[-1] < pre[0] / 4  # each block adds less and less to a growing identity path
    bn_after = [b["variance_ratio"] for b in found["bn_after_add"]["blocks"]]
    assert min(bn_after[1:]) > 5 * pre[-1]  # the sum is renormalised every block: reset
    zero = {b["name"]: b for b in found["full_preact + zero-init"]["blocks"]}
    assert all(b["variance_ratio"] == 0 for b in zero.values())
    # every block is the identity: the gradient crosses a stage unchanged
    assert zero["layer3.1"]["grad_norm"] == pytest.approx(zero["layer3.2"]["grad_norm"], rel=1e-4)
    assert zero["layer1.0"]["grad_norm"] == pytest.approx(zero["layer1.2"]["grad_norm"], rel=1e-4)


def test_plain_blocks_are_their_own_branch():
    design = presets.get("resnet20").replace(shortcut="none", image_size=16)
    found = signal.at_init(design, batch_size=8)
    assert all(b["variance_ratio"] is not None for b in found["blocks"])


def test_probes_record_the_signal_after_k_steps():
    data = synthetic(num_classes=4, image_size=8, channels=3, train=64, held_out=32)
    cfg = ProbeConfig(steps=6, batch_size=16, threads=1, eval_every=3, log_every=3)
    result = run_probe([("tiny", TINY)], cfg, data=data)
    evals = result.run("tiny").evals
    assert [e.step for e in evals] == [3, 6]
    blocks = evals[-1].signal["blocks"]
    assert set(blocks) == {"layer1.0", "layer2.0"}
    assert all(v["grad_norm"] > 0 for v in blocks.values())


def test_any_design_is_measured_in_every_order_with_zero_init_off_and_on():
    design = presets.get("resnet18").replace(image_size=32)
    found = signal.sweep(design=design, batch_size=4)
    assert set(found) == set(signal.variants(design=design)) and len(found) == 10
    assert {b["name"] for b in found["original"]["blocks"]} >= {"layer1.0", "layer4.1"}
    assert all(b["variance_ratio"] == 0 for b in found["full_preact + zero-init"]["blocks"])
    assert all(b["variance_ratio"] > 0 for b in found["full_preact"]["blocks"])
    assert found["original"]["design"] == design.replace(activation_order="original").hash
