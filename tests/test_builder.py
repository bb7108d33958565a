"""The builder: presets equal torchvision / timm, structures match their names, any design runs."""

from __future__ import annotations

import time

import pytest
import torch
from hypothesis import given, settings
from strategies import designs
from torch import fx, nn

from resnet_explorer import Design, DesignTooLarge, Limits, build_model, presets
from resnet_explorer.analysis.analytic import totals
from resnet_explorer.builder import ResidualBlock
from resnet_explorer.builder.layers import ZeroPadShortcut


def n_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize("name", presets.names())
def test_every_preset_has_its_published_parameter_count(name):
    preset = presets.info(name)
    model = build_model(preset.design, device="meta")  # exact shapes, no memory
    assert n_params(model) == totals(preset.design).params
    if preset.params is not None:
        assert n_params(model) == preset.params


TORCHVISION_PRESETS = [n for n in presets.names() if presets.info(n).torchvision]


@pytest.mark.parametrize("name", TORCHVISION_PRESETS)
def test_torchvision_state_dict_keys_and_shapes_match(name, torchvision):
    preset = presets.info(name)
    kwargs = dict(preset.torchvision_kwargs)
    with torch.device("meta"):
        reference = getattr(torchvision.models, preset.torchvision)(**kwargs)
    ours = build_model(presets.get(name), device="meta")
    theirs = {k: tuple(v.shape) for k, v in reference.state_dict().items()}
    mine = {k: tuple(v.shape) for k, v in ours.state_dict().items()}
    assert mine == theirs


@pytest.mark.parametrize("name", ["resnet18", "resnet50", "resnext50_32x4d"])
def test_torchvision_checkpoint_loads_strictly_and_gives_the_same_outputs(name, torchvision):
    torch.manual_seed(0)
    reference = getattr(torchvision.models, presets.info(name).torchvision)().eval()
    # make the batch-norm statistics non-trivial so a misplaced norm would show
    for module in reference.modules():
        if isinstance(module, nn.BatchNorm2d):
            module.running_mean.uniform_(-0.1, 0.1)
            module.running_var.uniform_(0.5, 1.5)
    ours = build_model(presets.get(name)).eval()
    ours.load_state_dict(reference.state_dict(), strict=True)
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(ours(x), reference(x), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name", presets.names())
def test_copy_as_code_builds_the_preset_and_names_the_library_call(name, torchvision, timm):
    """'Copy as code': our part builds exactly the preset; the library part is the call that
    builds the same architecture (torchvision's, with its arguments, or timm's registry name)."""
    from resnet_explorer.codegen import python_code

    preset = presets.info(name)
    ours, _, library = python_code(preset.design).partition("# The same")
    namespace: dict = {}
    exec(ours, namespace)
    assert namespace["design"] == preset.design
    if preset.torchvision:
        args = ", ".join(f"{k}={v!r}" for k, v in preset.torchvision_kwargs.items())
        assert f"torchvision.models.{preset.torchvision}({args})" in library
    elif preset.timm:
        assert f'timm.create_model("{preset.timm}")' in library
        assert preset.timm in timm.list_models(preset.timm)
    else:
        assert library == ""


def test_the_dilated_resnet50_is_torchvisions_with_its_arguments(torchvision):
    """resnet50_os8's code runs torchvision's call; its weights load strictly, same outputs."""
    from resnet_explorer.codegen import python_code

    torch.manual_seed(0)
    namespace: dict = {}
    exec(python_code(presets.get("resnet50_os8")), namespace)
    reference = namespace["reference"].eval()
    ours = build_model(presets.get("resnet50_os8")).eval()
    ours.load_state_dict(reference.state_dict(), strict=True)
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        out = reference(x)
        torch.testing.assert_close(ours(x), out, rtol=1e-4, atol=1e-5)


# --- structure: each option builds what it names -------------------------------------------


def _block_ops(block: ResidualBlock) -> list[str]:
    """Forward order of a block's operations, from its fx graph ('add' for the addition)."""
    graph = fx.symbolic_trace(block).graph
    ops = []
    for node in graph.nodes:
        if node.op == "call_module":
            ops.append(node.target)
        elif node.op == "call_function" and "add" in getattr(node.target, "__name__", ""):
            ops.append("add")
    return ops


def _cifar(**kw) -> Design:
    return presets.get("resnet20").replace(**kw)


def test_option_a_has_no_shortcut_parameters_and_zero_pads():
    model = build_model(_cifar(shortcut="A"))
    shortcuts = [m.downsample for m in model.modules() if isinstance(m, ResidualBlock)]
    pads = [s for s in shortcuts if s is not None]
    assert len(pads) == 2 and all(isinstance(s, ZeroPadShortcut) for s in pads)
    assert all(n_params(s) == 0 for s in pads)
    x = torch.randn(2, 16, 32, 32)
    y = pads[0](x)
    assert y.shape == (2, 32, 16, 16)
    torch.testing.assert_close(y[:, :16], x[:, :, ::2, ::2])
    assert torch.count_nonzero(y[:, 16:]) == 0


def test_option_b_projects_only_where_the_shape_changes():
    model = build_model(_cifar(shortcut="B"))
    blocks = [m for m in model.modules() if isinstance(m, ResidualBlock)]
    projected = [b for b in blocks if b.downsample is not None]
    assert len(projected) == 2
    for block in projected:
        assert isinstance(block.downsample[0], nn.Conv2d)
        assert block.downsample[0].kernel_size == (1, 1)
        assert isinstance(block.downsample[1], nn.BatchNorm2d)


def test_option_c_projects_even_when_shapes_match():
    model = build_model(_cifar(shortcut="C"))
    blocks = [m for m in model.modules() if isinstance(m, ResidualBlock)]
    assert len(blocks) == 9
    assert all(isinstance(b.downsample[0], nn.Conv2d) for b in blocks)
    first = blocks[0]
    assert first.downsample[0].in_channels == first.downsample[0].out_channels == 16


def test_option_d_average_pools_then_projects():
    model = build_model(_cifar(shortcut="D"))
    block = model.layer2[0]
    assert isinstance(block.downsample[0], nn.AvgPool2d)
    assert block.downsample[1].stride == (1, 1)
    assert isinstance(block.downsample[2], nn.BatchNorm2d)
    assert model.layer1[0].downsample is None


def test_plain_network_has_no_addition():
    model = build_model(_cifar(shortcut="none"))
    for block in model.modules():
        if isinstance(block, ResidualBlock):
            assert "add" not in _block_ops(block)
            assert block.downsample is None


ORDERS = {
    "original": ["conv1", "bn1", "relu", "conv2", "bn2", "add", "relu"],
    "bn_after_add": ["conv1", "bn1", "relu", "conv2", "add", "bn2", "relu"],
    "relu_before_add": ["conv1", "bn1", "relu", "conv2", "bn2", "relu", "add"],
    "relu_only_preact": ["relu", "conv1", "bn1", "relu", "conv2", "bn2", "add"],
    "full_preact": ["bn1", "relu", "conv1", "bn2", "relu", "conv2", "add"],
}


@pytest.mark.parametrize(("order", "ops"), ORDERS.items())
def test_activation_orders_follow_he_2016_figure_4(order, ops):
    model = build_model(_cifar(activation_order=order))
    assert _block_ops(model.layer1[1]) == ops


def test_full_preact_has_the_final_norm_and_a_bare_stem():
    model = build_model(_cifar(activation_order="full_preact", shortcut="B"))
    assert isinstance(model.final_bn, nn.BatchNorm2d)
    assert not hasattr(model, "bn1")
    # the projection of a pre-activation block is a bare conv, fed the activated input
    assert len(model.layer2[0].downsample) == 1


def test_bottleneck_stride_placement():
    v15 = build_model(presets.get("resnet50"), device="meta")
    paper = build_model(presets.get("resnet50_paper"), device="meta")
    assert v15.layer2[0].conv2.stride == (2, 2) and v15.layer2[0].conv1.stride == (1, 1)
    assert paper.layer2[0].conv1.stride == (2, 2) and paper.layer2[0].conv2.stride == (1, 1)


@pytest.mark.parametrize("order", list(ORDERS))
@pytest.mark.parametrize("norm", ["batch", "group", "none"])
def test_zero_init_makes_every_residual_branch_output_zero(order, norm):
    design = _cifar(activation_order=order, norm=norm, zero_init_residual=True, shortcut="B")
    model = build_model(design, seed=0).eval()
    block = model.layer1[1]
    x = torch.randn(2, 16, 8, 8)
    expected = x
    if order == "bn_after_add":
        expected = block.bn2(x)
    if order in ("original", "bn_after_add"):
        expected = torch.relu(expected)
    with torch.no_grad():
        torch.testing.assert_close(block(x), expected)


def test_same_seed_same_weights():
    a = build_model(presets.get("resnet20"), seed=3).state_dict()
    b = build_model(presets.get("resnet20"), seed=3).state_dict()
    c = build_model(presets.get("resnet20"), seed=4).state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not all(torch.equal(a[k], c[k]) for k in a)


def test_oversized_design_is_refused_before_allocation():
    huge = Design(stages=[{"blocks": 250, "width": 8192}] * 4, block="bottleneck")
    start = time.perf_counter()
    with pytest.raises(DesignTooLarge, match="parameters; the cap is"):
        build_model(huge)
    assert time.perf_counter() - start < 5  # no allocation, no hang


def test_activation_cap_is_configurable(monkeypatch):
    design = presets.get("resnet18").replace(image_size=2048)
    with pytest.raises(DesignTooLarge, match="MiB"):
        build_model(design, limits=Limits(max_activation_bytes=256 * 1024**2))
    monkeypatch.setenv("RESNET_EXPLORER_MAX_PARAMS", "1000")
    with pytest.raises(DesignTooLarge, match="1,000"):
        build_model(presets.get("resnet20"))


@settings(max_examples=40, deadline=None)
@given(designs())
def test_every_valid_design_builds_and_maps_a_batch_to_logits(design):
    model = build_model(design, seed=0)
    assert n_params(model) == totals(design).params
    x = torch.randn(2, design.in_channels, design.image_size, design.image_size)
    model.train()
    y = model(x)
    assert y.shape == (2, design.num_classes)
    assert torch.isfinite(y).all()
    model.eval()
    with torch.no_grad():
        assert torch.isfinite(model(x[:1])).all()
