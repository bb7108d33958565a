"""The structure the diagrams draw, read off the built model.

The network is built on the ``meta`` device (no memory), traced with ``torch.fx`` (residual
blocks kept whole), and its shapes propagated with meta tensors. Each distinct block is then
traced on its own, so every operation, its order and the data flow between operations (main path,
shortcut, addition) come from the module's ``forward``, never from a second description of it.
Blocks with the same structure and input shape share one trace: a 200-block stage costs one.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import torch
from torch import fx, nn

from resnet_explorer.analysis.analytic import LayerCount, layer_counts
from resnet_explorer.builder import ResidualBlock, build_model
from resnet_explorer.builder.layers import DropPath, ZeroPadShortcut
from resnet_explorer.design import Design
from resnet_explorer.diagrams.errors import DiagramError

Shape = tuple[int, ...]

#: Id of the traced module's input in `Op.inputs`.
INPUT = "input"


@dataclass(frozen=True)
class Op:
    """One operation, in forward order.

    ``id`` is unique within its trace (the fx node name: ``relu``, ``relu_1``, ...); ``target`` is
    the module path relative to the traced module (``conv1``, ``downsample.0``), or ``add`` /
    ``flatten`` for functions. ``inputs`` are the ids of the producing ops (`INPUT` for the
    module's input); ``shape`` is the output shape without the batch dimension.
    """

    id: str
    target: str
    kind: str  # conv | norm | act | pool | zero_pad | drop_path | add | linear | flatten | dropout
    label: str
    inputs: tuple[str, ...]
    shape: Shape
    shortcut: bool = False  # on the shortcut path (``downsample``)
    short: str = ""  # compact label for summaries ("conv 7x7/2, 3 -> 64", "BN")


@dataclass(frozen=True)
class BlockTrace:
    """One residual block of the built network, with its traced operations."""

    name: str  # module path, ``layer3.0``
    stage: int
    index: int
    block: str  # basic | bottleneck
    shortcut: str  # identity | zero_pad | projection | avgpool_projection | none
    order: str  # the design's activation order
    ops: tuple[Op, ...]
    in_shape: Shape
    out_shape: Shape
    drop_path: float  # stochastic-depth rate of this block (0: none)
    params: int  # counted on the built module

    @property
    def stride(self) -> int:
        return max(1, self.in_shape[-1] // self.out_shape[-1]) if len(self.in_shape) == 3 else 1

    @property
    def signature(self) -> tuple[Any, ...]:
        """What the block is, without where it sits: equal signatures draw the same."""
        ops = tuple((o.kind, o.label, o.inputs, o.shape, o.shortcut) for o in self.ops)
        return (self.block, self.shortcut, self.order, self.in_shape, ops, self.drop_path > 0)


@dataclass(frozen=True)
class NetworkTrace:
    """The built network: stem ops, blocks per stage, head ops."""

    design: Design
    input_shape: Shape
    stem: tuple[Op, ...]
    stages: tuple[tuple[BlockTrace, ...], ...]
    head: tuple[Op, ...]

    @property
    def stem_shape(self) -> Shape:
        return self.stem[-1].shape if self.stem else self.input_shape

    def block(self, stage: int, index: int) -> BlockTrace:
        """Block ``index`` of stage ``stage`` (both from 0); a bad index raises `DiagramError`."""
        stage, index = _check_int(stage, "stage"), _check_int(index, "block")
        if not 0 <= stage < len(self.stages):
            raise DiagramError(
                f"stage {stage} does not exist: the design has {len(self.stages)} stages "
                f"(0-{len(self.stages) - 1})"
            )
        blocks = self.stages[stage]
        if not 0 <= index < len(blocks):
            raise DiagramError(
                f"block {index} does not exist in stage {stage} (layer{stage + 1}), which has "
                f"{len(blocks)} blocks (0-{len(blocks) - 1})"
            )
        return blocks[index]


def _check_int(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise DiagramError(f"{what} must be a whole number, got {value!r}")
    return value


class _Tracer(fx.Tracer):
    """Keeps torch.nn layers, the option-A shortcut, drop path and (optionally) blocks whole."""

    def __init__(self, blocks_are_leaves: bool) -> None:
        super().__init__()
        self.blocks_are_leaves = blocks_are_leaves

    def is_leaf_module(self, m: nn.Module, module_qualified_name: str) -> bool:
        if isinstance(m, (ZeroPadShortcut, DropPath)):
            return True
        if isinstance(m, ResidualBlock):
            return self.blocks_are_leaves
        return super().is_leaf_module(m, module_qualified_name)


# --- labels ---------------------------------------------------------------------------------


def _pair(value: Any) -> tuple[int, int]:
    return tuple(value) if isinstance(value, (tuple, list)) else (value, value)  # type: ignore[return-value]


def describe(module: nn.Module) -> tuple[str, str]:
    """(kind, label) of a leaf module, e.g. ``("conv", "conv 3x3, 64 -> 128, stride 2")``."""
    if isinstance(module, nn.Conv2d):
        kh, kw = _pair(module.kernel_size)
        stride = _pair(module.stride)[0]
        label = f"conv {kh}x{kw}, {module.in_channels} -> {module.out_channels}, stride {stride}"
        if module.groups > 1:
            label += f", {module.groups} groups"
        return "conv", label
    if isinstance(module, nn.BatchNorm2d):
        return "norm", f"batch norm ({module.num_features})"
    if isinstance(module, nn.GroupNorm):
        return "norm", f"group norm ({module.num_groups} groups, {module.num_channels})"
    if isinstance(module, (nn.ReLU, nn.GELU, nn.SiLU)):
        return "act", {nn.ReLU: "ReLU", nn.GELU: "GELU", nn.SiLU: "SiLU"}[type(module)]
    if isinstance(module, nn.MaxPool2d):
        k, s = _pair(module.kernel_size)[0], _pair(module.stride)[0]
        return "pool", f"max-pool {k}x{k}, stride {s}"
    if isinstance(module, nn.AvgPool2d):
        k, s = _pair(module.kernel_size)[0], _pair(module.stride)[0]
        return "pool", f"avg-pool {k}x{k}, stride {s}"
    if isinstance(module, nn.AdaptiveAvgPool2d):
        return "pool", "global avg-pool"
    if isinstance(module, ZeroPadShortcut):
        label = f"zero-pad {module.in_channels} -> {module.out_channels} channels"
        if module.stride != 1:
            label += f", subsample /{module.stride}"
        return "zero_pad", label
    if isinstance(module, DropPath):
        return "drop_path", "drop path"
    if isinstance(module, nn.Linear):
        return "linear", f"fc {module.in_features} -> {module.out_features}"
    if isinstance(module, nn.Dropout):
        return "dropout", f"dropout p={module.p:g}"
    return "other", type(module).__name__


def _short(module: nn.Module, label: str) -> str:
    """Compact label for one-line summaries (the stem and head of the collapsed network)."""
    if isinstance(module, nn.Conv2d):
        k, stride = _pair(module.kernel_size)[0], _pair(module.stride)[0]
        step = f"/{stride}" if stride != 1 else ""
        return f"conv {k}x{k}{step}, {module.in_channels} -> {module.out_channels}"
    if isinstance(module, (nn.MaxPool2d, nn.AvgPool2d)):
        k, stride = _pair(module.kernel_size)[0], _pair(module.stride)[0]
        kind = "max" if isinstance(module, nn.MaxPool2d) else "avg"
        return f"{kind}-pool {k}x{k}/{stride}"
    if isinstance(module, nn.BatchNorm2d):
        return "BN"
    if isinstance(module, nn.GroupNorm):
        return "GN"
    return label


def _function_kind(node: fx.Node) -> tuple[str, str]:
    name = getattr(node.target, "__name__", str(node.target))
    if "add" in name:
        return "add", "+"
    if "flatten" in name:
        return "flatten", "flatten"
    return "other", name


# --- tracing --------------------------------------------------------------------------------


def _meta(shape: Shape) -> torch.Tensor:
    return torch.empty((1, *shape), device="meta")


def _ops(root: nn.Module, graph: fx.Graph, shapes: dict[str, Shape]) -> Iterator[Op]:
    """Graph nodes as `Op`s; ``nn.Identity`` (no norm, no pool) is skipped and bridged."""
    alias: dict[str, str] = {}
    for node in graph.nodes:
        if node.op == "placeholder":
            alias[node.name] = INPUT
            continue
        if node.op in ("output", "get_attr"):
            continue
        inputs = tuple(
            alias[a.name] for a in node.all_input_nodes if a.name in alias
        )  # every producer is an earlier node
        if node.op == "call_module":
            module = root.get_submodule(node.target)
            if isinstance(module, nn.Identity):
                alias[node.name] = inputs[0]
                continue
            kind, label = describe(module)
            short = _short(module, label)
            target = str(node.target)
        else:
            kind, label = _function_kind(node)
            target = short = kind
        alias[node.name] = node.name
        shortcut = target.split(".")[0] == "downsample"
        yield Op(node.name, target, kind, label, inputs, shapes[node.name], shortcut, short)


class _ShapeRecorder(fx.Interpreter):
    """Runs a graph on meta tensors, recording each node's output shape (batch dropped).

    Blocks are not run: `block_trace` returns their output shape from the (cached) block trace.
    """

    def __init__(self, module: fx.GraphModule, on_block: Any = None) -> None:
        super().__init__(module)
        self.shapes: dict[str, Shape] = {}
        self.on_block = on_block

    def run_node(self, n: fx.Node) -> Any:
        if n.op == "call_module" and self.on_block is not None:
            module = self.fetch_attr(n.target)
            if isinstance(module, ResidualBlock):
                (x,) = (self.env[a] for a in n.all_input_nodes)
                out_shape = self.on_block(str(n.target), module, tuple(x.shape[1:]))
                self.shapes[n.name] = out_shape
                return _meta(out_shape)
        out = super().run_node(n)
        if isinstance(out, torch.Tensor):
            self.shapes[n.name] = tuple(out.shape[1:])
        return out


def _structure_key(block: ResidualBlock) -> tuple[Any, ...]:
    """Everything that decides a block's trace (the drop-path rate does not)."""
    parts = tuple(
        (name, "DropPath" if isinstance(m, DropPath) else repr(m))
        for name, m in block.named_modules()
        if name and not list(m.children())
    )
    return (block.order, block.shortcut_kind, block.has_shortcut, block.num_convs, parts)


#: Block traces by (structure, input shape); bounded, shared by every design.
_BLOCK_OPS: dict[tuple[Any, ...], tuple[Op, ...]] = {}
_BLOCK_OPS_MAX = 1024


def _trace_block_ops(module: ResidualBlock, in_shape: Shape) -> tuple[Op, ...]:
    """The ops of ``module`` for an input of ``in_shape``, traced once per distinct block."""
    key = (_structure_key(module), in_shape)
    ops = _BLOCK_OPS.get(key)
    if ops is None:
        graph = _Tracer(blocks_are_leaves=False).trace(module)
        recorder = _ShapeRecorder(fx.GraphModule(module, graph))
        recorder.run(_meta(in_shape))
        ops = tuple(_ops(module, graph, recorder.shapes))
        if len(_BLOCK_OPS) >= _BLOCK_OPS_MAX:
            _BLOCK_OPS.clear()
        _BLOCK_OPS[key] = ops
    return ops


def _block_trace(name: str, module: ResidualBlock, in_shape: Shape) -> BlockTrace:
    ops = _trace_block_ops(module, in_shape)
    stage, index = name.removeprefix("layer").split(".")
    return BlockTrace(
        name=name,
        stage=int(stage) - 1,
        index=int(index),
        block="bottleneck" if module.num_convs == 3 else "basic",
        shortcut=module.shortcut_kind,
        order=module.order,
        ops=ops,
        in_shape=in_shape,
        out_shape=ops[-1].shape if ops else in_shape,
        drop_path=module.drop_path.p if module.drop_path is not None else 0.0,
        params=sum(p.numel() for p in module.parameters()),
    )


@lru_cache(maxsize=16)
def trace_network(design: Design) -> NetworkTrace:
    """Build ``design`` on the meta device and trace it (cached per design).

    Raises `DesignError` (e.g. `DesignTooLarge`) like `build_model`.
    """
    model = build_model(design, device="meta").eval()
    graph = _Tracer(blocks_are_leaves=True).trace(model)
    blocks: dict[str, BlockTrace] = {}

    def on_block(name: str, module: ResidualBlock, in_shape: Shape) -> Shape:
        blocks[name] = _block_trace(name, module, in_shape)
        return blocks[name].out_shape

    recorder = _ShapeRecorder(fx.GraphModule(model, graph), on_block)
    input_shape = (design.in_channels, design.image_size, design.image_size)
    with torch.no_grad():
        recorder.run(_meta(input_shape))
    stem: list[Op] = []
    head: list[Op] = []
    seen_block = False
    for op in _ops(model, graph, recorder.shapes):
        if op.target in blocks:
            seen_block = True
        else:
            (head if seen_block else stem).append(op)
    stages: list[list[BlockTrace]] = [[] for _ in design.stages]
    for trace in blocks.values():  # insertion order is forward order
        stages[trace.stage].append(trace)
    return NetworkTrace(
        design=design,
        input_shape=input_shape,
        stem=tuple(stem),
        stages=tuple(tuple(s) for s in stages),
        head=tuple(head),
    )


@lru_cache(maxsize=16)
def _counts_by_name(design: Design) -> dict[str, LayerCount]:
    counts: dict[str, LayerCount] = {}
    for layer in layer_counts(design):
        counts.setdefault(layer.name, layer)
    return counts


def op_counts(design: Design, prefix: str, op: Op) -> tuple[int, int]:
    """(params, MACs) of ``op`` from the analytic counts; ``prefix`` is its block's path."""
    if op.kind not in ("conv", "norm", "linear"):
        return 0, 0
    layer = _counts_by_name(design).get(f"{prefix}.{op.target}" if prefix else op.target)
    return (layer.params, layer.macs) if layer else (0, 0)


@lru_cache(maxsize=16)
def block_counts(design: Design) -> dict[str, tuple[int, int]]:
    """Analytic (params, MACs) of every block (``layer3.0``), and of ``stem`` and ``head``."""
    sums: dict[str, list[int]] = {}
    seen_block = False
    for layer in layer_counts(design):
        if layer.stage is None:
            key = "head" if seen_block else "stem"
        else:
            seen_block = True
            key = ".".join(layer.name.split(".")[:2])
        entry = sums.setdefault(key, [0, 0])
        entry[0] += layer.params
        entry[1] += layer.macs
    sums.setdefault("stem", [0, 0])
    sums.setdefault("head", [0, 0])
    return {k: (v[0], v[1]) for k, v in sums.items()}
