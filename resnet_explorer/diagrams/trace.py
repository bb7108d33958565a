"""The structure the diagrams draw, read off the built model.

The network is built on the ``meta`` device (no memory), traced with ``torch.fx`` (residual
blocks kept whole), and its shapes propagated with meta tensors. Each distinct block is then
traced on its own, so every operation, its order and the data flow between operations (main path,
shortcut, addition) come from the module's ``forward``, never from a second description of it.
Blocks with the same structure and input shape share one trace: a 200-block stage costs one.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import torch
from torch import fx, nn

from resnet_explorer.builder import ResidualBlock, build_model
from resnet_explorer.builder.layers import PLANNED_LEAVES
from resnet_explorer.design import Design
from resnet_explorer.diagrams.errors import DiagramError
from resnet_explorer.plan import BlockPlan, BlockSpec, Op, block_ops, label, plan, short_label
from resnet_explorer.plan.counts import block_totals
from resnet_explorer.plan.ops import cost, total

Shape = tuple[int, ...]

#: Id of the traced module's input in `Op.inputs`.
INPUT = "input"


@dataclass(frozen=True)
class TracedOp:
    """One operation of the built model, in the order its forward ran it.

    ``id`` is unique within its trace (the fx node name: ``relu``, ``relu_1``, ...); ``target`` is
    the module path relative to the traced module (``conv1``, ``downsample.0``), or ``add`` /
    ``flatten`` for functions. ``inputs`` are the ids of the producing ops (`INPUT` for the
    module's input); ``shape`` is the output shape without the batch dimension.
    """

    id: str
    target: str
    kind: str  # the planned op's kind (`plan.ops.OpKind`)
    label: str
    inputs: tuple[str, ...]
    shape: Shape
    shortcut: bool = False  # on the shortcut path (``downsample``)
    short: str = ""  # compact label for summaries ("conv 7x7/2, 3 -> 64", "BN")
    planned: Op | None = None  # the plan's op this call runs (None for a whole block)


@dataclass(frozen=True)
class BlockTrace:
    """One residual block of the built network, with its traced operations."""

    name: str  # module path, ``layer3.0``
    stage: int
    index: int
    block: str  # basic | bottleneck
    shortcut: str  # identity | zero_pad | projection | avgpool_projection | none
    order: str  # the design's activation order
    ops: tuple[TracedOp, ...]
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
    stem: tuple[TracedOp, ...]
    stages: tuple[tuple[BlockTrace, ...], ...]
    head: tuple[TracedOp, ...]

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
    """Keeps torch.nn layers, the option-A shortcut, drop path, squeeze-excitation and
    (optionally) blocks whole."""

    def __init__(self, blocks_are_leaves: bool) -> None:
        super().__init__()
        self.blocks_are_leaves = blocks_are_leaves
        self._thread = threading.get_ident()

    # While it traces, fx patches torch.nn.Module.__call__ and __getattr__ for the whole
    # process: a forward pass in another thread (a training job, another session's memory
    # measurement) must run as if nothing were traced, instead of failing in this tracer.
    def call_module(self, m: nn.Module, forward: Any, args: Any, kwargs: Any) -> Any:
        if threading.get_ident() != self._thread:
            return forward(*args, **kwargs)
        return super().call_module(m, forward, args, kwargs)

    def getattr(self, attr: str, attr_val: Any, parameter_proxy_cache: dict) -> Any:
        if threading.get_ident() != self._thread:
            return attr_val
        return super().getattr(attr, attr_val, parameter_proxy_cache)

    def is_leaf_module(self, m: nn.Module, module_qualified_name: str) -> bool:
        if isinstance(m, PLANNED_LEAVES):
            return True
        if isinstance(m, ResidualBlock):
            return self.blocks_are_leaves
        return super().is_leaf_module(m, module_qualified_name)


# --- labels: the plan's, looked up by module path --------------------------------------


_FUNCTION_KINDS = ("add", "mul", "flatten")


def _function_kind(node: fx.Node) -> str:
    name = getattr(node.target, "__name__", str(node.target))
    return next((kind for kind in _FUNCTION_KINDS if kind in name), name)


def _by_target(ops: tuple[Op, ...]) -> dict[str, Op]:
    """Planned ops by what a trace calls them: a module's path, or a function's kind."""
    return {(op.name if op.has_module else op.kind): op for op in ops}


def _planned(planned: dict[str, Op], target: str, traced: str) -> Op:
    """The planned op the traced module or function call ``target`` runs."""
    op = planned.get(target)
    if op is None:  # the model ran something its plan does not list: a builder bug
        raise DiagramError(f"the built model runs {traced} {target!r}, which its plan lacks")
    return op


# --- tracing --------------------------------------------------------------------------------


def _meta(shape: Shape) -> torch.Tensor:
    return torch.empty((1, *shape), device="meta")


def _ops(
    root: nn.Module, graph: fx.Graph, shapes: dict[str, Shape], planned: dict[str, Op]
) -> Iterator[TracedOp]:
    """Graph nodes as `TracedOp`s labelled by the ``planned`` ops (by name); ``nn.Identity``
    (a pool slot left empty) is skipped and bridged; residual blocks are passed through."""
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
            target = str(node.target)
            if isinstance(module, ResidualBlock):
                alias[node.name] = node.name
                yield TracedOp(node.name, target, "block", target, inputs, shapes[node.name])
                continue
            op = _planned(planned, target, "module")
        else:
            target = _function_kind(node)
            op = _planned(planned, target, "function")
        alias[node.name] = node.name
        yield TracedOp(
            node.name,
            target,
            op.kind,
            label(op),
            inputs,
            shapes[node.name],
            op.shortcut,
            short_label(op),
            op,
        )


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


@lru_cache(maxsize=1024)
def _trace_block_ops(spec: BlockSpec) -> tuple[TracedOp, ...]:
    """The traced ops of a block, once per distinct block: a block with this spec is built on
    the meta device and traced on its own (its drop-path rate changes no op)."""
    with torch.device("meta"):
        module = ResidualBlock(BlockPlan(0, 0, spec, 0.5 if spec.drop_path else 0.0))
    graph = _Tracer(blocks_are_leaves=False).trace(module)
    recorder = _ShapeRecorder(fx.GraphModule(module, graph))
    recorder.run(_meta((spec.in_channels, spec.in_size, spec.in_size)))
    planned = _by_target(block_ops(spec))
    return tuple(_ops(module, graph, recorder.shapes, planned))


def _block_trace(name: str, module: ResidualBlock, in_shape: Shape) -> BlockTrace:
    block = module.plan
    ops = _trace_block_ops(block.spec)
    return BlockTrace(
        name=name,
        stage=block.stage,
        index=block.index,
        block=block.block,
        shortcut=block.shortcut,
        order=block.spec.order,
        ops=ops,
        in_shape=in_shape,
        out_shape=ops[-1].shape if ops else in_shape,
        drop_path=block.drop_path,
        params=sum(p.numel() for p in module.parameters()),
    )


#: One trace at a time: a page asking for the design the server's warm-up (or another
#: session) is tracing waits for that trace and reads it from the cache instead of tracing
#: it a second time on the same cores.
_TRACING = threading.Lock()


def trace_network(design: Design) -> NetworkTrace:
    """Build ``design`` on the meta device and trace it (cached per design).

    Raises `DesignError` (e.g. `DesignTooLarge`) like `build_model`.
    """
    with _TRACING:
        return _trace_network(design)


@lru_cache(maxsize=16)
def _trace_network(design: Design) -> NetworkTrace:
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
    layout = plan(design)
    planned = _by_target(layout.stem + layout.final + layout.head)
    stem: list[TracedOp] = []
    head: list[TracedOp] = []
    seen_block = False
    for op in _ops(model, graph, recorder.shapes, planned):
        if op.kind == "block":
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


def clear_traces() -> None:
    """Forget every traced network and block (benchmarks and tests measure a fresh trace)."""
    _trace_network.cache_clear()
    _trace_block_ops.cache_clear()


def op_counts(design: Design, prefix: str, op: TracedOp) -> tuple[int, int]:
    """(params, MACs) of a traced op, from its planned op's cost (``design`` and ``prefix``
    locate it; kept for callers that draw by block)."""
    if op.planned is None:
        return 0, 0
    counts = cost(op.planned)
    return counts.params, counts.macs


@lru_cache(maxsize=16)
def params_and_macs_by_part(design: Design) -> dict[str, tuple[int, int]]:
    """Analytic (params, MACs) of every block (``layer3.0``), and of ``stem`` and ``head``."""
    layout = plan(design)
    stem = total(layout.stem)
    head = total(layout.final + layout.head)
    sums = {"stem": (stem.params, stem.macs)}
    for block in layout.blocks:
        counts = block_totals(block.spec)
        sums[block.name] = (counts.params, counts.macs)
    sums["head"] = (head.params, head.macs)
    return sums
