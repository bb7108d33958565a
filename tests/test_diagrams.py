"""Diagrams: drawn from the traced model; structure (nodes, edges, labels, order), not pixels."""

from __future__ import annotations

import html
import importlib
import itertools
import json
import re
import shutil
import subprocess

import pytest
import torch
from test_cli import run_cli
from torch import nn
from torch.overrides import TorchFunctionMode

from resnet_explorer import Design, Stage, build_model, presets
from resnet_explorer.analysis.analytic import stage_totals
from resnet_explorer.builder import ResidualBlock
from resnet_explorer.design import ACTIVATION_ORDERS, SHORTCUTS
from resnet_explorer.diagrams import (
    DiagramError,
    DotNotFoundError,
    block_diagram,
    diff_diagram,
    dot_available,
    network_diagram,
    render,
    trace_network,
)
from resnet_explorer.diagrams.diff import differences, field_changes, marks, summary
from resnet_explorer.diagrams.network import ROW_WIDTH_PT, network_rows
from resnet_explorer.diagrams.style import human
from resnet_explorer.diagrams.trace import params_and_macs_by_part

render_module = importlib.import_module("resnet_explorer.diagrams.render")

needs_dot = pytest.mark.skipif(not dot_available(), reason="Graphviz 'dot' is not installed")

# --- reading DOT back -----------------------------------------------------------------------

_NODE = re.compile(r"^\t+(\"[^\"]+\"|[\w.]+) \[(.*)\]$")
_EDGE = re.compile(r"^\t+(\"[^\"]+\"|[\w.]+) -> (\"[^\"]+\"|[\w.]+)(?: \[(.*)\])?$")
_ATTR = re.compile(r'(\w+)=(<.*?>(?= \w+=|$)|"(?:[^"\\]|\\.)*"|[^ ]+)')


def _attrs(text: str) -> dict[str, str]:
    out = {}
    for key, value in _ATTR.findall(text or ""):
        if value.startswith('"'):
            value = value[1:-1].replace("\\n", "\n")
        out[key] = value
    return out


def _text(label: str) -> str:
    """Label text without HTML markup (lines joined with newlines)."""
    if label.startswith("<") and label.endswith(">"):
        label = label[1:-1]
    label = re.sub(r"<BR/>", "\n", label)
    return html.unescape(re.sub(r"<[^>]+>", "", label)).strip()


def parse(source: str) -> tuple[dict[str, dict[str, str]], list[tuple[str, str, dict[str, str]]]]:
    """(nodes in source order: id -> attrs, edges: (tail, head, attrs)) of a DOT source."""
    nodes: dict[str, dict[str, str]] = {}
    edges = []
    for line in source.splitlines():
        if m := _EDGE.match(line):
            edges.append((m[1].strip('"'), m[2].strip('"'), _attrs(m[3])))
        elif (m := _NODE.match(line)) and m[1] not in ("node", "edge", "graph"):
            nodes[m[1].strip('"')] = _attrs(m[2])
    return nodes, edges


def labels(source: str) -> dict[str, str]:
    nodes, _ = parse(source)
    return {k: _text(v.get("label", "")) for k, v in nodes.items()}


# --- block diagrams: every block type x shortcut option x activation order -------------------


def _small(block: str, shortcut: str, order: str, **kw) -> Design:
    return Design(
        image_size=8,
        num_classes=3,
        stem="cifar",
        stem_width=4,
        stages=(Stage(blocks=2, width=4), Stage(blocks=2, width=8, stride=2)),
        block=block,
        shortcut=shortcut,
        activation_order=order,
        **kw,
    )


class _AddLogger(TorchFunctionMode):
    """Logs additions made by a block itself (not inside its submodules)."""

    def __init__(self, log: list[str], depth: list[int]) -> None:
        super().__init__()
        self.log, self.depth = log, depth

    def __torch_function__(self, func, types, args=(), kwargs=None):
        if self.depth[0] == 0 and getattr(func, "__name__", "") in ("add", "__add__"):
            self.log.append("add")
        return func(*args, **(kwargs or {}))


def forward_order(block: ResidualBlock, x: torch.Tensor) -> list[str]:
    """The order a block's leaf modules (and its addition) run in, from hooks on a real forward."""
    log: list[str] = []
    depth = [0]
    handles = []
    for name, module in block.named_modules():
        if name and not list(module.children()) and not isinstance(module, nn.Identity):

            def pre(_m, _i, name=name):
                log.append(name)
                depth[0] += 1

            def post(_m, _i, _o):
                depth[0] -= 1

            handles += [module.register_forward_pre_hook(pre), module.register_forward_hook(post)]
    try:
        with torch.no_grad(), _AddLogger(log, depth):
            block(x)
    finally:
        for handle in handles:
            handle.remove()
    return log


def diagram_order(source: str, block_name: str) -> list[str]:
    """Op nodes of a block diagram in source order, as module paths relative to the block."""
    nodes, _ = parse(source)
    return [
        a["tooltip"].removeprefix(block_name + ".")
        for a in nodes.values()
        if a.get("tooltip", "").startswith(block_name + ".")
    ]


COMBOS = list(itertools.product(["basic", "bottleneck"], SHORTCUTS, ACTIVATION_ORDERS))


@pytest.mark.parametrize(("block", "shortcut", "order"), COMBOS)
def test_block_diagram_order_equals_the_forward_order(block, shortcut, order):
    design = _small(block, shortcut, order)
    model = build_model(design, seed=0).eval()
    for stage, index in ((1, 0), (1, 1), (0, 0)):  # shape-changing, identity, first block
        module = getattr(model, f"layer{stage + 1}")[index]
        trace = trace_network(design).block(stage, index)
        x = torch.randn(1, *trace.in_shape)
        graph = block_diagram(design, stage, index)
        order_drawn = diagram_order(graph.source, trace.name)
        assert order_drawn == forward_order(module, x), (stage, index)
        nodes, edges = parse(graph.source)
        ids = list(nodes)
        # every data-flow edge goes forward; the block's output is the last op
        for tail, head, _ in edges:
            if tail != "legend" and head not in ("legend",):
                assert ids.index(tail) < ids.index(head), (tail, head)
        # the shortcut is drawn by kind
        has_add = any(v == "+" for v in labels(graph.source).values())
        assert has_add == (shortcut != "none")
        kind = trace.shortcut
        into_add = [a for t, h, a in edges if h == "op_add"]
        if kind == "identity":
            assert any("identity" in a.get("label", "") for a in into_add)
            assert all(a.get("style", "solid") == "solid" for a in into_add)
        elif kind in ("projection", "avgpool_projection"):
            assert any(a.get("style") == "dashed" for a in into_add)
            texts = labels(graph.source)
            assert any(t.startswith("conv 1x1") and "downsample" in t for t in texts.values())
            if kind == "avgpool_projection" and trace.stride != 1:
                assert any(t.startswith("avg-pool 2x2") for t in texts.values())
        elif kind == "zero_pad":
            assert any(a.get("style") == "dotted" for a in into_add)
            assert any(t.startswith("zero-pad") for t in labels(graph.source).values())
        # shapes on edges come from the traced model
        out_edge = next(a for t, h, a in edges if h == "output")
        assert out_edge["label"] == " x ".join(map(str, tuple(module(x).shape[1:])))


@pytest.mark.parametrize(
    ("order", "ops"),
    [
        ("original", ["conv1", "bn1", "relu", "conv2", "bn2", "add", "relu"]),
        ("bn_after_add", ["conv1", "bn1", "relu", "conv2", "add", "bn2", "relu"]),
        ("relu_before_add", ["conv1", "bn1", "relu", "conv2", "bn2", "relu", "add"]),
        ("relu_only_preact", ["relu", "conv1", "bn1", "relu", "conv2", "bn2", "add"]),
        ("full_preact", ["bn1", "relu", "conv1", "bn2", "relu", "conv2", "add"]),
    ],
)
def test_activation_placement_follows_he_2016_figure_4(order, ops):
    design = _small("basic", "B", order)
    assert diagram_order(block_diagram(design, 0, 1).source, "layer1.1") == ops


def test_full_preact_projection_takes_the_preactivated_input():
    design = _small("basic", "B", "full_preact")
    _, edges = parse(block_diagram(design, 1, 0).source)
    assert ("op_relu", "op_downsample_0") in {(t, h) for t, h, _ in edges}
    assert ("input", "op_bn1") in {(t, h) for t, h, _ in edges}


def test_conv_labels_name_kernel_channels_stride_and_groups():
    text = "\n".join(labels(block_diagram(presets.get("resnext50_32x4d"), 1, 0).source).values())
    assert "conv 1x1, 256 -> 256, stride 1" in text
    assert "conv 3x3, 256 -> 256, stride 2, 32 groups" in text
    assert "conv 1x1, 256 -> 512, stride 2" in text  # the projection
    paper = labels(block_diagram(presets.get("resnet50_paper"), 1, 0).source).values()
    assert "conv 1x1, 256 -> 128, stride 2" in "\n".join(paper)  # stride on the first 1x1


def test_block_diagram_counts_and_title():
    design = presets.get("resnet50")
    source = block_diagram(design, 2, 0).source
    params, _ = params_and_macs_by_part(design)["layer3.0"]
    assert f"{human(params)} params" in source
    assert trace_network(design).block(2, 0).params == params  # built module == analytic
    assert "layer3.0: Bottleneck block, 512 x 28 x 28 -&gt; 1024 x 14 x 14" in source


def test_drop_path_and_group_norm_are_drawn():
    design = _small("basic", "B", "original", norm="group", stochastic_depth=0.2)
    text = "\n".join(labels(block_diagram(design, 1, 1).source).values())
    assert "group norm (8 groups, 8)" in text
    assert "drop path, p=0.2" in text


def test_no_norm_draws_no_norm_nodes():
    design = _small("bottleneck", "D", "original", norm="none")
    order = diagram_order(block_diagram(design, 0, 0).source, "layer1.0")
    assert not any(op.startswith("bn") for op in order)
    assert "downsample.0" not in order  # stride-1 avg-pool is an identity: not drawn


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((9, 0), "stage 9 does not exist"),
        ((0, 7), "block 7 does not exist"),
        ((-1, 0), "stage -1 does not exist"),
        (("0", 0), "stage must be a whole number"),
    ],
)
def test_bad_block_index_is_a_clear_error(args, message):
    with pytest.raises(DiagramError, match=message):
        block_diagram(presets.get("resnet18"), *args)


# --- network diagrams -------------------------------------------------------------------------


def test_collapsed_resnet152_is_small_and_labelled():
    design = presets.get("resnet152")
    graph = network_diagram(design)
    source = graph.source
    assert len(source.encode()) < 20_000
    text = labels(source)
    assert list(text) == ["input", "stem", "s0", "s1", "s2", "s3", "head", "output", "legend"]
    assert text["s2"].splitlines()[0] == "layer3: Bottleneck x 36, 512 -> 1024, /2"
    assert text["s0"].splitlines()[0] == "layer1: Bottleneck x 3, 64 -> 256"
    totals = stage_totals(design)
    assert f"{human(totals[2].params)} params, {human(totals[2].macs)} MACs" in text["s2"]
    assert "shortcuts: 1 1x1 projection, 35 identity" in text["s2"]
    _, edges = parse(source)
    shapes = [a["label"] for _, _, a in edges]
    assert shapes == [
        "3 x 224 x 224",
        "64 x 56 x 56",
        "256 x 56 x 56",
        "512 x 28 x 28",
        "1024 x 14 x 14",
        "2048 x 7 x 7",
        "1000",
    ]
    nodes, _ = parse(source)
    assert "dashed" in nodes["s2"]["style"]  # a projection shortcut inside
    assert "rankdir=TB" in source


def test_plain_network_has_no_shortcuts():
    source = network_diagram(presets.get("plain20"), depth=1).source
    assert source.count("no shortcuts (plain)") == 3
    assert not any(a.get("constraint") == "false" for _, _, a in parse(source)[1])
    assert "shortcut" not in labels(network_diagram(presets.get("plain20")).source)["legend"]


def test_depth_one_draws_every_block_with_its_shortcut():
    design = presets.get("resnet50")
    source = network_diagram(design, depth=1, rankdir="LR").source
    nodes, edges = parse(source)
    blocks = [k for k in nodes if re.fullmatch(r"s\db\d+", k)]
    assert len(blocks) == 16
    # the shortcuts skipping each block (left to right also has invisible row-ordering edges)
    skips = [a for _, _, a in edges if a.get("constraint") == "false" and "color" in a]
    assert len(skips) == 16
    assert sum(a["style"] == "dashed" for a in skips) == 4  # B: one projection per stage
    assert "rankdir=LR" in source
    assert _text(nodes["s2b0"]["label"]).startswith("layer3.0: 512 -> 1024, /2")


def test_expanding_one_stage_and_every_operation():
    design = presets.get("resnet20")
    nodes, _ = parse(network_diagram(design, expand_stage=1).source)
    assert {"s0", "s2"} <= set(nodes) and "s1" not in nodes
    assert {"s1b0", "s1b1", "s1b2"} <= set(nodes)
    nodes, _ = parse(network_diagram(design, depth=2, expand_stage=1).source)
    ops = [a["tooltip"] for a in nodes.values() if a.get("tooltip", "").startswith("layer2.0.")]
    assert ops == ["layer2.0." + x for x in forward_order_names(design, 1, 0)]


def forward_order_names(design: Design, stage: int, index: int) -> list[str]:
    model = build_model(design, seed=0).eval()
    trace = trace_network(design).block(stage, index)
    return forward_order(
        getattr(model, f"layer{stage + 1}")[index], torch.randn(1, *trace.in_shape)
    )


def test_long_stages_are_elided_at_depth_one():
    design = Design(
        image_size=8, num_classes=3, stem="cifar", stem_width=4, stages=(Stage(blocks=80, width=4),)
    )
    text = labels(network_diagram(design, depth=1, max_blocks=10).source)
    blocks = [k for k in text if re.fullmatch(r"s0b\d+", k)]
    assert blocks == [f"s0b{i}" for i in range(8)] + ["s0b79"]
    assert text["s0e"] == "... 71 more blocks like layer1.1"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"depth": 3}, "depth=3"),
        ({"rankdir": "BT"}, "rankdir='BT'"),
        ({"expand_stage": 4}, "stage 4 does not exist"),
        ({"max_blocks": 1}, "max_blocks=1"),
    ],
)
def test_bad_network_options_are_clear_errors(kwargs, message):
    with pytest.raises(DiagramError, match=re.escape(message)):
        network_diagram(presets.get("resnet18"), **kwargs)


def test_the_trace_is_cached_per_design():
    design = presets.get("resnet34")
    assert trace_network(design) is trace_network(presets.get("resnet34"))


# --- diffs --------------------------------------------------------------------------------------


def test_diff_highlights_the_stage_that_differs():
    a, b = presets.get("resnet50"), presets.get("resnet101")
    source = diff_diagram(a, b, names=("resnet50", "resnet101")).source
    nodes, _ = parse(source)
    red = {
        k for k, v in nodes.items() if v.get("color") == '"#cc0000"' or v.get("color") == "#cc0000"
    }
    assert red == {"a_s2", "b_s2"}
    assert "blocks 6 -&gt; 23" in nodes["a_s2"]["label"]
    assert "stages[2].blocks: 6 -&gt; 23" in source


def test_diff_of_blocks_and_of_equal_designs():
    a = presets.get("resnet20")
    b = a.replace(activation_order="full_preact", shortcut="B")
    assert "activation_order: original -> full_preact" in field_changes(a, b)
    nodes, _ = parse(diff_diagram(a, b, depth=1).source)
    red = {k for k, v in nodes.items() if "cc0000" in v.get("color", "")}
    assert {f"a_s{i}b{j}" for i in range(3) for j in range(3)} <= red
    nodes, _ = parse(diff_diagram(a, a).source)
    assert not any("cc0000" in v.get("color", "") for v in nodes.values())
    nodes, _ = parse(diff_diagram(a, presets.get("preact_resnet18")).source)
    assert "b_s3" in nodes and "cc0000" in nodes["b_s3"]["color"]  # a stage only in B


# --- rendering ------------------------------------------------------------------------------------


def test_render_dot_needs_no_program_and_unknown_formats_are_refused(monkeypatch):
    graph = network_diagram(presets.get("resnet18"))
    monkeypatch.setattr(render_module.shutil, "which", lambda _: None)
    assert render(graph, "dot") == graph.source.encode()
    assert not dot_available()
    with pytest.raises(DotNotFoundError, match="apt-get install graphviz"):
        render(graph, "svg")
    with pytest.raises(DiagramError, match="format 'gif'"):
        render(graph, "gif")


@needs_dot
def test_render_svg_and_png():
    graph = block_diagram(presets.get("resnet18"), 1, 0)
    assert render(graph, "svg").lstrip().startswith(b"<?xml")
    assert render(graph, "png").startswith(b"\x89PNG")


def _boxes(layout: dict) -> list[tuple[str, float, float, float, float]]:
    """Bounding boxes (points) of node shapes and of edge labels in `dot -Tjson` output."""
    boxes = []
    for obj in layout.get("objects", []):
        if "pos" in obj and "width" in obj:
            x, y = map(float, obj["pos"].split(","))
            w, h = float(obj["width"]) * 72, float(obj["height"]) * 72
            boxes.append((obj["name"], x - w / 2, y - h / 2, x + w / 2, y + h / 2))
    for edge in layout.get("edges", []):
        for op in edge.get("_ldraw_", []):
            if op["op"] == "T":
                x, y = op["pt"]
                w = op["width"]
                x0 = {"l": x, "c": x - w / 2, "r": x - w}[op["align"]]
                boxes.append((f"edge{edge['_gvid']}", x0, y - 3, x0 + w, y + 9))
    return boxes


@needs_dot
def test_collapsed_resnet152_renders_fast_without_overlapping_labels():
    graph = network_diagram(presets.get("resnet152"))
    layout = json.loads(_dot_json(graph.source))
    boxes = _boxes(layout)
    assert len(boxes) >= 9 + 7
    for (na, ax0, ay0, ax1, ay1), (nb, bx0, by0, bx1, by1) in itertools.combinations(boxes, 2):
        overlap = min(ax1, bx1) - max(ax0, bx0) > 0.5 and min(ay1, by1) - max(ay0, by0) > 0.5
        assert not overlap, (na, nb)


def _dot_json(source: str) -> str:
    done = subprocess.run(
        [shutil.which("dot"), "-Tjson"], input=source.encode(), capture_output=True, timeout=30
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.decode()


# --- CLI ---------------------------------------------------------------------------------------


def test_cli_prints_dot_and_json(capsys):
    code, out, _ = run_cli(capsys, "diagram", "resnet56")
    assert code == 0 and out.startswith("digraph network {")
    code, out, _ = run_cli(capsys, "diagram", "resnet56", "--block", "layer2.0", "--json")
    doc = json.loads(out)
    assert doc["schema"] == "resnet-explorer/diagram/v1"
    assert doc["kind"] == "block" and doc["format"] == "dot" and doc["name"] == "resnet56"
    assert "zero-pad 16 -&gt; 32 channels, subsample /2" in doc["dot"]
    code, out, _ = run_cli(capsys, "diagram", "resnet56", "--block", "1.0")
    assert code == 0 and "zero-pad" in out
    code, out, _ = run_cli(capsys, "diagram", "resnet20", "--compare", "resnet32", "--json")
    assert json.loads(out)["kind"] == "diff"


@needs_dot
def test_cli_writes_svg_and_png(capsys, tmp_path):
    code, out, _ = run_cli(
        capsys, "diagram", "resnet18", "--depth", "1", "-o", str(tmp_path / "n.svg")
    )
    assert code == 0 and "wrote" in out
    assert (tmp_path / "n.svg").read_bytes().lstrip().startswith(b"<?xml")
    code, _, _ = run_cli(
        capsys, "diagram", "resnet18", "--format", "png", "-o", str(tmp_path / "n")
    )
    assert code == 0 and (tmp_path / "n").read_bytes().startswith(b"\x89PNG")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["resnet18", "--block", "9.0"], "stage 9 does not exist"),
        (["resnet18", "--block", "x"], "STAGE.BLOCK"),
        (["resnet18", "--depth", "4"], "depth=4"),
        (["resnet18", "--stage", "7"], "stage 7 does not exist"),
        (["resnet18", "-o", "out.txt"], "cannot tell the format"),
        (["resnet18", "--block", "0.0", "--compare", "resnet34"], "cannot be combined"),
        (["nonesuch"], "neither a preset nor a design file"),
    ],
)
def test_cli_bad_input_exits_2_with_a_message(capsys, args, message):
    code, out, err = run_cli(capsys, "diagram", *args)
    assert code == 2 and out == ""
    assert err.startswith("error: ") and message in err and "Traceback" not in err


def test_cli_without_dot_says_so(capsys, monkeypatch, tmp_path):
    monkeypatch.setattr(render_module.shutil, "which", lambda _: None)
    code, _, err = run_cli(capsys, "diagram", "resnet18", "-o", str(tmp_path / "x.svg"))
    assert code == 1 and "Graphviz 'dot' program" in err


# --- titles, stage labels, wrapping, differences ----------------------------------------------


def test_titles_name_the_design_and_stages_say_what_sets_them_apart():
    text = labels(network_diagram(presets.get("resnext50_32x4d")).source)
    source = network_diagram(presets.get("resnext50_32x4d")).source
    assert "ResNeXt-50 (32x4d)" in source and "ResNet-50 (16 blocks)" not in source
    assert "3x3 conv: 32 groups x 4 = 128 ch" in text["s0"]
    wide = labels(network_diagram(presets.get("wrn28_10")).source)
    assert "width x10" in wide["s0"]
    regnet = labels(network_diagram(presets.get("regnety_040")).source)
    assert "3x3 conv: 17 groups x 64 = 1088 ch, bottleneck ratio 1, SE" in regnet["s3"]
    dilated = labels(network_diagram(presets.get("resnet50_os8")).source)
    assert "dilation" not in dilated["s1"] and "dilation 2" in dilated["s2"]
    assert "dilation 4" in dilated["s3"]
    assert "ECA" in labels(network_diagram(presets.get("ecaresnet50d")).source)["s0"]
    assert "my net" in network_diagram(presets.get("resnet18"), title="my net").source
    custom = presets.get("resnet18").replace(shortcut="C")
    assert "Custom design, depth 18 (8 blocks)" in network_diagram(custom).source


def test_differences_from_a_baseline_say_why_in_one_line_each():
    base = presets.get("resnet50")
    found = differences(base, presets.get("resnext50_32x4d"))
    keys = {d.key for d in found}
    assert {"s0", "s1", "s2", "s3"} <= keys and "stem" not in keys and "head" not in keys
    assert all(d.reason and "\n" not in d.reason for d in found)
    lines = summary(found)
    # one line a stage, in the words of its box; its blocks counted, not listed one a line
    assert lines == [
        f"layer{i + 1}: 3x3 conv: {w} ch -> 32 groups x {w // 16} = {2 * w} ch (every block)"
        for i, w in enumerate((64, 128, 256, 512))
    ]
    wide = summary(differences(base, presets.get("wide_resnet50_2")))
    assert wide[0] == "layer1: 3x3 conv: 64 ch -> 128 ch, width x2 (every block)"
    projections = summary(differences(base, base.replace(shortcut="C")))
    assert projections[0] == "layer1: shortcut identity -> 1x1 projection (2 of 3 blocks)"
    deeper = differences(base, presets.get("resnet101"))
    assert [str(d) for d in deeper if d.key == "s2"] == ["layer3: blocks 6 -> 23"]
    assert sum(d.reason == "not in the baseline" for d in deeper) == 17
    assert summary(deeper) == ["layer3: blocks 6 -> 23"]  # the 17 new blocks are in that line
    assert differences(base, base) == []
    shallow = differences(presets.get("preact_resnet18"), presets.get("resnet20"))
    assert "layer4 of the baseline: not in this design" in str(shallow[-1])
    graph = network_diagram(presets.get("resnet101"), marks=marks(deeper))
    nodes, _ = parse(graph.source)
    assert "cc0000" in nodes["s2"]["color"] and "blocks 6 -&gt; 23" in nodes["s2"]["label"]
    assert "red outline" in labels(graph.source)["legend"]


@needs_dot
@pytest.mark.parametrize("depth", [0, 1])
def test_left_to_right_wraps_into_rows_that_fit_a_laptop(depth):
    """Every preset, left to right: at most 2.5 rows wide (rows share columns) and never a
    strip (ResNet-152's blocks were 1000 x 28 px when shrunk to fit)."""
    for name in presets.names():
        source = network_diagram(presets.get(name), depth=depth, rankdir="LR").source
        layout = json.loads(_dot_json(source))
        _, _, width, height = map(float, layout["bb"].split(","))
        assert width <= 2.5 * ROW_WIDTH_PT, (name, width)
        assert height >= width / 4, (name, width, height)
    source = network_diagram(presets.get("resnet152"), depth=1, rankdir="LR").source
    assert source.count("_start") >= 8  # 3 + 8 + 36 + 3 blocks in rows of a few


@needs_dot
def test_left_to_right_rows_each_fit_a_laptop_window():
    """The app draws each row as its own graph: every row of every preset at most 900 pt
    wide (1,200 px at full size), with every block and op of the network in exactly one row."""
    for name in presets.names():
        for depth in (0, 1):
            rows = network_rows(presets.get(name), depth=depth)
            for graph in rows[:-1]:  # the last is the legend
                width = float(json.loads(_dot_json(graph.source))["bb"].split(",")[2])
                assert width <= 900, (name, depth, width)
    rows = network_rows(presets.get("resnet152"), depth=1)
    blocks = [k for g in rows for k in parse(g.source)[0] if re.fullmatch(r"s\db\d+", k)]
    assert len(blocks) == len(set(blocks)) == 50
    assert "legend" in parse(rows[-1].source)[0]
    assert "ResNet-152" in rows[0].source


def test_tracing_does_not_break_forward_passes_in_other_threads():
    """fx patches torch.nn.Module.__call__ process-wide while it traces: a training job or
    another session's measurement running meanwhile failed with 'module is not installed as
    a submodule'."""
    import threading

    from resnet_explorer.analysis.memory import saved_activations
    from resnet_explorer.diagrams import trace as trace_module

    errors: list[str] = []
    busy = threading.Event()

    def trace_repeatedly():
        busy.set()
        for name in ("resnet18", "resnet50", "resnext50_32x4d", "resnet101"):
            trace_module.clear_traces()
            trace_network(presets.get(name))

    def forward_repeatedly():
        busy.wait()
        for batch in (1, 2, 3):
            try:
                saved_activations(presets.get("resnet50"), batch)
            except Exception as exc:  # the failure this test is about
                errors.append(repr(exc))

    threads = [
        threading.Thread(target=trace_repeatedly),
        threading.Thread(target=forward_repeatedly),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


def test_attention_and_anti_aliasing_are_nodes_of_their_own_kind_in_block_diagrams():
    """SE after the 3x3 (RegNetY), ECA after the last norm (timm), the blur/avg pool after the
    strided 3x3 (timm aa_layer): each a node with its own colour and legend entry."""
    cases = [
        ("regnety_040", 1, "squeeze-excitation 192 -&gt; 32 -&gt; 192", "conv2.act"),
        ("ecaresnet50d", 0, "ECA, 1-D conv k=5 over 256 channels", "bn3"),
        ("resnetaa50", 1, "anti-alias avg-pool 2x2, stride 2", "relu"),
    ]
    for name, stage, label, after in cases:
        source = block_diagram(presets.get(name), stage, 0).source
        nodes, edges = parse(source)
        (key,) = [k for k, a in nodes.items() if label in a.get("label", "")]
        assert nodes[key]["fillcolor"] not in ("#ffffff", "white"), name
        (before,) = [s for s, d, _ in edges if d == key]
        assert after.replace(".", "_") in before, (name, before)
        assert "legend" in source


@pytest.mark.parametrize("other", ["regnety_040", "seresnext50_32x4d", "resnet50_os8"])
def test_field_changes_name_fields_only_one_side_sets(other):
    """Fields added after format 1 (attention, output_stride, group_width, ...) are left out of
    a design's JSON at their default: the diff must still name them, either way round."""
    a, b = presets.get("resnet50"), presets.get(other)
    forward, backward = field_changes(a, b), field_changes(b, a)
    assert forward and len(forward) == len(backward)
    field = {"regnety_040": "attention", "seresnext50_32x4d": "attention",
             "resnet50_os8": "output_stride"}[other]  # fmt: skip
    assert any(line.startswith(f"{field}: ") for line in forward)
    assert diff_diagram(a, b).source and diff_diagram(b, a).source


def test_a_stochastic_depth_difference_reads_as_each_stage_s_range_of_rates():
    base = presets.get("resnet50")
    said = {d.where: d.reason for d in differences(base, base.replace(stochastic_depth=0.1))}
    assert said["layer1"] == "drop path 0 -> 0..0.013"  # the network's first block keeps 0
    assert said["layer4"] == "drop path 0 -> 0.087..0.1"
    assert said["layer4.2"] == "drop path 0 -> 0.1"
    assert not any("and more" in reason or "e-" in reason for reason in said.values())
