"""Running a planned op sequence: create its modules under their planned names, then call them
in the planned order with the planned inputs.

This is how every part of the built network runs (stem, each block, head), so the module names,
the order of the calls and the data flow are the plan's. It traces with ``torch.fx`` like
hand-written code (the loop unrolls).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import NamedTuple

import torch
from torch import nn

from resnet_explorer.builder.layers import FUNCTIONS, make_module
from resnet_explorer.plan.ops import SEQUENCE_INPUT, Op


class Step(NamedTuple):
    """One call: a module path under the owner (or a function), its inputs, whether to keep it."""

    path: str | None
    function: Callable[..., torch.Tensor] | None
    inputs: tuple[int, ...] | None  # None: the previous step's output
    keep: bool  # a later step reads this output (not only the next one)


def _place(owner: nn.Module, path: str, module: nn.Module) -> None:
    """Register ``module`` at ``path``, creating containers on the way: ``nn.Sequential`` for
    numbered children (gaps filled with ``nn.Identity``, as timm's layouts have), else a plain
    module."""
    *parents, leaf = path.split(".")
    node = owner
    for depth, part in enumerate(parents):
        child = node._modules.get(part)
        if child is None:
            numbered = (parents[depth + 1] if depth + 1 < len(parents) else leaf).isdigit()
            child = nn.Sequential() if numbered else nn.Module()
            node.add_module(part, child)
        node = child
    if leaf.isdigit():
        while len(node._modules) < int(leaf):
            node.add_module(str(len(node._modules)), nn.Identity())
    node.add_module(leaf, module)


def install(owner: nn.Module, ops: Sequence[Op], *, drop_rate: float = 0.0) -> tuple[Step, ...]:
    """Create ``ops``' modules under ``owner`` and return the steps that run them.

    An op whose name repeats (the block's single ``relu``, called after each conv) reuses the
    module, as torchvision's blocks do; only parameter-free ops may repeat.
    """
    read_later = {i for k, op in enumerate(ops) for i in op.inputs if i != k - 1}
    steps = []
    existing = {name for name, _ in owner.named_modules()}
    for k, op in enumerate(ops):
        inputs = op.inputs if op.inputs and op.inputs != (k - 1,) else None
        if not op.has_module:
            steps.append(Step(None, FUNCTIONS[op.kind], inputs, k in read_later))
            continue
        if op.name in existing:
            if op.kind != "act":
                raise ValueError(f"planned op {op.name!r} appears twice")  # a bug in the plan
        else:
            _place(owner, op.name, make_module(op, drop_rate=drop_rate))
            existing.add(op.name)
        steps.append(Step(op.name, None, inputs, k in read_later))
    return tuple(steps)


def run(owner: nn.Module, steps: tuple[Step, ...], x: torch.Tensor) -> torch.Tensor:
    """Run ``steps`` (from `install`) on ``x``; returns the last step's output."""
    saved = {SEQUENCE_INPUT: x}
    out = x
    for k, step in enumerate(steps):
        call = step.function if step.path is None else owner.get_submodule(step.path)
        if step.inputs is None:
            out = call(out)
        else:
            out = call(*[out if i == k - 1 else saved[i] for i in step.inputs])
        if step.keep:
            saved[k] = out
    return out
