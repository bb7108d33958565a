"""Analytic counts equal fvcore, torchinfo, the built model's parameters and published figures."""

from __future__ import annotations

import pytest
import torch
from fvcore.nn import ActivationCountAnalysis, FlopCountAnalysis
from hypothesis import given, settings
from strategies import designs

from resnet_explorer import Design, build_model, presets
from resnet_explorer.analysis import flops, layer_counts, parameters, summary, totals
from resnet_explorer.analysis._common import quiet
from resnet_explorer.analysis.flops import fvcore_batch

# fvcore traces the real model. Left out (their analytic counts are checked against the
# published figures below instead): the three >80 M-parameter ImageNet nets (a few seconds each
# to build and trace), and resnet1202 / preact_resnet1001, whose hundreds of identical blocks
# are the blocks of resnet110 / preact_resnet164, which are traced.
HEAVY = {"resnext101_32x8d", "resnext101_64x4d", "wide_resnet101_2", "resnet1202"}
HEAVY |= {"preact_resnet1001"}
# The 12-32 GF RegNets: their counts equal pycls's published figures (test_presets_family).
HEAVY |= {f"regnet{kind}_{gf}" for kind in "xy" for gf in ("120", "160", "320")}
TRACED = [n for n in presets.names() if n not in HEAVY]


def fvcore_counts(design: Design) -> tuple[int, int]:
    model = build_model(design).eval()
    batch = fvcore_batch(design)  # 2 only where torch refuses batch 1 (group norm, 1 value)
    x = torch.zeros(batch, design.in_channels, design.image_size, design.image_size)
    with quiet(), torch.no_grad():
        out = []
        for analysis in (FlopCountAnalysis(model, x), ActivationCountAnalysis(model, x)):
            analysis.unsupported_ops_warnings(False)
            analysis.uncalled_modules_warnings(False)
            out.append(int(analysis.total()) // batch)
    return out[0], out[1]


@pytest.mark.parametrize("name", TRACED)
def test_analytic_fvcore_and_activations_equal_fvcore_on_every_preset(name):
    design = presets.get(name)
    flop_total, activation_total = fvcore_counts(design)
    counts = totals(design)
    assert counts.fvcore == flop_total
    assert counts.activations == activation_total


@settings(max_examples=40, deadline=None)
@given(designs())
def test_analytic_counts_equal_fvcore_and_the_model_on_random_designs(design):
    flop_total, activation_total = fvcore_counts(design)
    counts = totals(design)
    assert counts.fvcore == flop_total
    assert counts.activations == activation_total
    assert sum(x.fvcore for x in layer_counts(design)) == counts.fvcore
    assert params_by_module(design) == analytic_params_by_module(design)


# figures.md: ImageNet networks (params, MACs, fvcore total) and CIFAR nets (params, option A)
PUBLISHED = {
    "resnet18": (11_689_512, 1_814_073_344, 1_819_065_856),
    "resnet34": (21_797_672, 3_663_761_408, 3_671_262_720),
    "resnet50": (25_557_032, 4_089_184_256, 4_111_512_576),
    "resnet101": (44_549_160, 7_801_405_440, 7_833_969_664),
    "resnet152": (60_192_808, 11_513_626_624, 11_558_835_200),
    "resnext50_32x4d": (25_028_904, 4_230_479_872, 4_259_381_248),
    "resnext101_32x8d": (88_791_336, 16_414_015_488, None),
    "resnext101_64x4d": (83_455_272, 15_460_270_080, None),
    "wide_resnet50_2": (68_883_240, 11_398_021_120, 11_426_922_496),
    "wide_resnet101_2": (126_886_696, 22_753_050_624, None),
    "resnet50d": (25_576_264, 4_328_824_832, None),
    "resnet18d": (11_708_744, None, None),
    "resnet50_paper": (None, 3_857_973_248, None),
    "resnet20": (269_722, None, None),
    "resnet56": (853_018, None, None),
    "resnet1202": (19_421_274, None, None),
    "wrn28_10": (36_479_194, None, None),
    "resnet18_cifar": (11_173_962, None, None),
    "preact_resnet18": (11_171_146, None, None),
}


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_analytic_counts_equal_published_figures(name):
    params, macs, fvcore_total = PUBLISHED[name]
    counts = totals(presets.get(name))
    report = flops(presets.get(name), measure=False)
    for expected, got in (
        (params, counts.params),
        (macs, report.macs),
        (fvcore_total, report.fvcore),
    ):
        if expected is not None:
            assert got == expected


def test_resnet50_conventions_are_the_three_published_numbers():
    report = flops(presets.get("resnet50"), measure=False)
    assert round(report.macs / 1e9, 2) == 4.09  # torchvision
    assert round(report.fvcore / 1e9, 2) == 4.11  # fvcore
    assert round(report.gflops, 2) == 8.18  # FlopCounterMode: 2 x MACs
    for figure in ("4.09", "4.11", "8.18"):
        assert figure in report.conventions


def params_by_module(design: Design) -> dict[str, int]:
    model = build_model(design, device="meta")
    out: dict[str, int] = {}
    for name, p in model.named_parameters():
        module = name.rsplit(".", 1)[0]
        out[module] = out.get(module, 0) + p.numel()
    return out


def analytic_params_by_module(design: Design) -> dict[str, int]:
    return {row.name: row.params for row in parameters(design).by_layer}


@pytest.mark.parametrize("name", presets.names())
def test_per_layer_parameters_equal_the_built_models_named_parameters(name):
    design = presets.get(name)
    assert analytic_params_by_module(design) == params_by_module(design)


@pytest.mark.parametrize(
    "name", ["resnet18", "resnet50", "resnet50d", "resnet20", "preact_resnet18"]
)
def test_torchinfo_totals_agree(name):
    design = presets.get(name)
    report = summary(design, depth=1)
    counts = totals(design)
    assert report.total_params == counts.params == report.trainable_params
    # torchinfo adds one "mult-add" per norm parameter and per fc bias element to the MACs
    norm = sum(x.params for x in layer_counts(design) if x.kind == "norm")
    assert report.total_mult_adds == counts.macs + norm + design.num_classes
    assert report.rows[0].mult_adds == report.total_mult_adds
    assert report.rows[0].output_shape == (1, design.num_classes)


@pytest.mark.parametrize("name", ["resnet50", "resnet50d", "preact_resnet18", "resnet20"])
def test_fvcore_breakdown_matches_the_analytic_one_by_stage_and_layer(name):
    design = presets.get(name)
    report = flops(design)
    measured = report.measured
    assert measured is not None and measured.matches_analytic
    assert measured.total == report.fvcore
    assert [(s.name, s.fvcore) for s in measured.by_stage] == [
        (s.name, s.fvcore) for s in report.by_stage
    ]
    by_module = {m.name: m.fvcore for m in measured.by_module}
    per_layer: dict[str, int] = {}
    for layer in layer_counts(design):
        if layer.fvcore:
            per_layer[layer.name] = per_layer.get(layer.name, 0) + layer.fvcore
    for layer_name, count in per_layer.items():
        assert by_module[layer_name] == count
    for block in report.by_block:
        assert by_module[block.name] == block.fvcore
    # fvcore's warnings are turned into a list of the ops it skipped
    assert set(measured.skipped_ops) <= {
        "aten::max_pool2d",
        "aten::add",
        "aten::avg_pool2d",
        "aten::pad",
    }
    if not design.is_plain:
        assert measured.skipped_ops["aten::add"] >= sum(s.blocks for s in design.stages)
