"""The rest of the ResNet family: RegNetX/Y, squeeze-excitation, ECA, dilation, anti-aliasing,
ResNet-RS and the -T nets, equal to timm and pycls."""

from __future__ import annotations

import re

import pytest
import torch
from conftest import SHARED
from fvcore.nn import FlopCountAnalysis
from hypothesis import given, settings
from strategies import designs
from torch.utils.flop_counter import FlopCounterMode

from resnet_explorer import Design, build_model, presets
from resnet_explorer.analysis._common import quiet
from resnet_explorer.analysis.analytic import totals
from resnet_explorer.analysis.flops import fvcore_batch
from resnet_explorer.design import LATER_FIELDS
from resnet_explorer.errors import DesignError
from resnet_explorer.regnet import regnet_stages

TIMM_PRESETS = [n for n in presets.names() if presets.info(n).timm]
# The largest RegNets take seconds to build twice; their counts are checked against pycls below.
HEAVY = {f"regnet{kind}_{gf}" for kind in "xy" for gf in ("120", "160", "320")}


@pytest.mark.parametrize("name", [n for n in TIMM_PRESETS if n not in HEAVY])
def test_timm_checkpoint_loads_strictly_and_gives_the_same_logits(name, timm):
    torch.manual_seed(0)
    reference = timm.create_model(presets.info(name).timm, pretrained=False).eval()
    ours = build_model(presets.get(name)).eval()
    ours.load_state_dict(reference.state_dict(), strict=True)
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(ours(x), reference(x), rtol=1e-4, atol=1e-5)
    assert sum(p.numel() for p in reference.parameters()) == totals(presets.get(name)).params


def test_timm_module_names_where_torchvision_has_none():
    keys = build_model(presets.get("seresnet50"), device="meta").state_dict()
    assert "layer1.0.se.fc1.weight" in keys and "layer1.0.se.fc2.bias" in keys
    keys = build_model(presets.get("ecaresnet50d"), device="meta").state_dict()
    assert "conv1.0.weight" in keys and "layer1.0.se.conv.weight" in keys
    keys = build_model(presets.get("resnetrs50"), device="meta").state_dict()
    assert "maxpool.0.weight" in keys and "maxpool.1.running_var" in keys
    keys = build_model(presets.get("regnety_040"), device="meta").state_dict()
    assert "stem.conv.weight" in keys and "s1.b1.se.fc1.weight" in keys
    assert "s1.b1.downsample.conv.weight" in keys and "head.fc.bias" in keys


def test_dilated_resnet50_equals_torchvision_replace_stride_with_dilation(torchvision):
    torch.manual_seed(0)
    reference = torchvision.models.resnet50(replace_stride_with_dilation=[False, True, True])
    reference.eval()
    ours = build_model(presets.get("resnet50_os8")).eval()
    ours.load_state_dict(reference.state_dict(), strict=True)
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(ours(x), reference(x), rtol=1e-4, atol=1e-5)
        assert ours.forward_features(x).shape[-1] == 8  # output stride 8: 64 / 8
    assert ours.layer4[0].conv2.dilation == (2, 2) and ours.layer4[1].conv2.dilation == (4, 4)


def _pycls_table() -> dict[str, tuple[int, int, int]]:
    """shared/reference/figures.md's RegNet table: pycls name -> (params, flops, acts)."""
    text = (SHARED / "reference" / "figures.md").read_text()
    row = r"^\| (RegNet[XY]-[\w.]+) \| ([\d,]+) \| ([\d,]+) \| ([\d,]+) \|$"
    rows = re.findall(row, text, re.M)
    return {name: tuple(int(v.replace(",", "")) for v in values) for name, *values in rows}


def test_every_pycls_regnet_has_pycls_params_flops_and_acts():
    table = _pycls_table()
    assert len(table) == 24
    regnets = {presets.info(n).title.split(" ")[0]: n for n in presets.names() if "regnet" in n}
    for pycls_name, (params, flops, acts) in table.items():
        counts = totals(presets.get(regnets[pycls_name]))
        # pycls's conventions: "flops" add the bias additions (classifier, SE) to the MACs;
        # "acts" would add the stem max-pool's output, which RegNet's simple stem lacks.
        assert (counts.params, counts.pycls_flops, counts.activations) == (params, flops, acts)
        assert counts.macs < flops  # our MACs leave the bias additions out


def test_regnet_generator_equals_timm(timm):
    from timm.models import regnet as timm_regnet

    cases = [
        (13, 24, 36.44, 2.49, 8),
        (22, 96, 31.41, 2.24, 64),
        (23, 320, 69.86, 2.0, 168),
        (10, 16, 4.0, 3.1, 32),
    ]
    for depth, w0, wa, wm, group in cases:
        widths, _, groups = timm_regnet.generate_regnet(wa, w0, wm, depth, group)
        stage_widths = sorted(set(widths))
        depths = [widths.count(w) for w in stage_widths]
        widths_adj, groups_adj = timm_regnet.adjust_widths_groups_comp(
            stage_widths, [1.0] * len(stage_widths), groups[: len(stage_widths)]
        )
        ours = regnet_stages(depth, w0, wa, wm, group)
        assert [(s.blocks, s.width, s.group_width) for s in ours] == list(
            zip(depths, widths_adj, groups_adj, strict=True)
        )


def test_regnet_rule_is_shared_with_the_explorer():
    from resnet_explorer.explore import Space, sample_space, sampling
    from resnet_explorer.regnet import quantized_widths_many

    assert sampling.quantized_widths_many is quantized_widths_many
    report = sample_space(Space.load("examples/space_regnet_imagenet.json"), 40, seed=1)
    for sample in report.samples:
        design = sample.design
        widths = [s.width for s in design.stages]
        assert widths == sorted(widths)  # RegNet's widths never decrease
        for stage in design.stages:  # every 3x3 is a whole number of groups (pycls's rule)
            assert stage.width % (stage.group_width or design.group_width) == 0
        depths = [s.blocks for s in sample.design.stages]
        assert depths == sorted(depths) and len(depths) == 4


def _flop_counter_total(design: Design) -> int:
    model = build_model(design, seed=0).eval()
    x = torch.zeros(1, design.in_channels, design.image_size, design.image_size)
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        model(x)
    return counter.get_total_flops()


@pytest.mark.parametrize(
    "name", ["seresnet50", "ecaresnet50d", "resnetaa50", "resnetrs50", "regnety_002"]
)
def test_flop_counter_mode_counts_two_flops_per_analytic_mac(name):
    design = presets.get(name).replace(image_size=64)
    assert _flop_counter_total(design) == totals(design).flops


@settings(max_examples=40, deadline=None)
@given(designs())
def test_fvcore_and_flop_counter_mode_agree_on_generated_family_designs(design):
    counts = totals(design)
    assert _flop_counter_total(design) == 2 * counts.macs
    model = build_model(design).eval()
    batch = fvcore_batch(design)
    x = torch.zeros(batch, design.in_channels, design.image_size, design.image_size)
    with quiet(), torch.no_grad():
        analysis = FlopCountAnalysis(model, x)
        analysis.unsupported_ops_warnings(False)
        analysis.uncalled_modules_warnings(False)
        assert int(analysis.total()) // batch == counts.fvcore


def test_squeeze_excitation_conventions_and_placement():
    senet = build_model(presets.get("seresnet50"), device="meta")
    assert senet.layer1[0].se.fc1.out_channels == 16  # 1/16 of 256, a multiple of 8
    regnety = build_model(presets.get("regnety_040"), device="meta")
    block = regnety.s2.b1
    # RegNetY: 0.25 of the block *input* (the previous stage's width), on the 3x3's channels
    assert block.se.fc1.in_channels == block.conv2.conv.out_channels
    assert block.se.fc1.out_channels == round(regnety.s1.b1.conv3.conv.out_channels * 0.25)
    order = [op.name for op in block.plan.ops]
    assert order.index("se") == order.index("conv2.act") + 1  # after the 3x3 and its act
    order = [op.name for op in senet.layer1[0].plan.ops]
    assert order.index("se") == order.index("bn3") + 1  # after the last norm, before the add


def test_anti_aliasing_moves_the_stride_after_the_strided_conv():
    model = build_model(presets.get("resnetaa50"), device="meta")
    block = model.layer2[0]
    assert block.conv2.stride == (1, 1) and isinstance(block.aa, torch.nn.AvgPool2d)
    names = [op.name for op in block.plan.ops]
    assert names.index("aa") == names.index("conv2") + 3  # conv2, bn2, relu, aa
    assert isinstance(model.maxpool, torch.nn.AvgPool2d)  # timm: the stem pool too


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"group_width": 8}, "group width and bottleneck ratio apply to bottleneck"),
        ({"block": "bottleneck", "groups": 4, "group_width": 8}, "not both"),
        ({"block": "bottleneck", "group_width": 24}, "not a multiple of group_width=24"),
        ({"block": "bottleneck", "bottleneck_ratio": 0.5, "width_per_group": 4}, "use one"),
        ({"stem": "cifar", "stem_pool": "conv"}, "has none"),
        ({"attention": "se", "se_convention": "regnet"}, "after a bottleneck's 3x3"),
        ({"output_stride": 8, "shortcut": "D"}, "use B"),
        ({"output_stride": 8, "anti_alias": "blur"}, "use one or the other"),
        ({"output_stride": 2}, "output_stride"),
        ({"anti_alias": "avg", "image_size": 226}, "needs an even size"),
        ({"module_names": "regnet"}, "RegNet-shaped designs only"),
        ({"module_names": "regnet"}, "set module_names='torchvision'"),
        ({"attention": "cbam"}, "attention"),
        ({"se_ratio": 0}, "se_ratio"),
        ({"stages": [{"blocks": 600, "width": 8}, {"blocks": 600, "width": 8}]}, "1,200 blocks"),
    ],
)
def test_family_knobs_are_validated_with_a_message(fields, message):
    with pytest.raises(DesignError, match=re.escape(message)):
        Design(**fields)


def test_canonical_json_of_older_designs_is_unchanged():
    # fields added with the family appear only when set, so saved designs keep their hashes
    for name in ("resnet50", "resnet20", "preact_resnet164", "resnet50d"):
        data = presets.get(name).to_dict()
        assert not set(LATER_FIELDS) & set(data)
        assert all(set(s) <= {"blocks", "width", "stride", "block"} for s in data["stages"])
    regnet = presets.get("regnety_040")
    assert Design.from_json(regnet.to_json()) == regnet
    assert Design.from_url(regnet.to_url()) == regnet
