"""Signal propagation through a residual net (He et al. 2016, Identity Mappings, Sections 3-4).

For each block ``l`` of a design, on one batch:

* ``variance_ratio``: Var(F(x_l)) / Var(x_l), the variance of the residual branch's output over
  the variance of the block's input: how much each block adds to the signal the identity path
  carries (for a plain block, the block's output over its input);
* ``grad_norm``: the norm of dL/dx_l, the gradient of the loss with respect to the block's
  input: what reaches the block from the loss (dL/dx_l = dL/dx_L (1 + d/dx_l sum F) when the
  identity path is clean).

The residual branch's output is read off the block's own ``forward``: each block is traced with
``torch.fx``, the addition found, and of its two operands the one computed by the block's
convolutions (not the shortcut) recorded, so every block type, shortcut and activation order is
measured the same way, with no second description of the block. Nothing the measurement does
stays on the model: the batch-norm statistics are restored and no parameter gradient is
touched (the gradients are taken with respect to the block inputs only).

`measure` is the measurement on a given model and batch (the probes run it on the step an
evaluation follows); `at_init` builds a design and measures it on a seeded random batch;
`sweep` does that for the five activation orders with zero-init off and on.
"""

from __future__ import annotations

import operator
from typing import Any

import torch
import torch.nn.functional as F
from torch import fx, nn

from resnet_explorer.design import ACTIVATION_ORDERS, Design
from resnet_explorer.plan import plan


class _Tracer(fx.Tracer):
    """Keeps every module without children whole (convs, norms, the option-A shortcut...)."""

    def is_leaf_module(self, m: nn.Module, module_qualified_name: str) -> bool:
        return next(m.children(), None) is None or super().is_leaf_module(m, module_qualified_name)


def _convs_above(node: fx.Node) -> int:
    """How many of the block's own convolutions (not the shortcut's) ``node`` depends on."""
    seen, stack, count = set(), [node], 0
    while stack:
        n = stack.pop()
        if n in seen:
            continue
        seen.add(n)
        if n.op == "call_module":
            parts = str(n.target).split(".")
            count += parts[0] != "downsample" and parts[-1].startswith("conv")
        stack.extend(n.all_input_nodes)
    return count


def _branch_module(block: nn.Module) -> fx.GraphModule | None:
    """The block, traced, returning ``(output, residual branch output)``; None if untraceable."""
    try:
        graph = _Tracer().trace(block)
    except Exception:  # a block fx cannot trace: measured without its branch
        return None
    adds = [
        n
        for n in graph.nodes
        if n.op == "call_function" and n.target in (operator.add, operator.iadd, torch.add)
    ]
    output = next(n for n in graph.nodes if n.op == "output")
    result = output.args[0]
    if adds:
        operands = [a for a in adds[-1].args if isinstance(a, fx.Node)]
        branch = max(operands, key=_convs_above)
    else:  # a plain block: the block is its own branch
        branch = result
    output.args = ((result, branch),)
    graph.lint()
    return fx.GraphModule(block, graph)


class _Recording(nn.Module):
    """Stands in for a block: runs it (through its trace when there is one) and records its
    input and its branch's output."""

    def __init__(self, block: nn.Module, traced: fx.GraphModule | None, into: dict) -> None:
        super().__init__()
        self.block, self.traced, self.into = block, traced, into

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.into["input"] = x
        if self.traced is None:
            out = self.block(x)
            self.into["branch"] = None
            return out
        out, branch = self.traced(x)
        self.into["branch"] = branch
        return out


def _var(t: torch.Tensor | None) -> float | None:
    return None if t is None else float(t.detach().float().var())


def measure(
    model: nn.Module,
    design: Design,
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    traced: dict[str, fx.GraphModule | None] | None = None,
) -> dict[str, Any]:
    """Per block of ``design`` (its ``model``), on ``x``, ``y`` in training mode: variance
    ratio and input-gradient norm (see the module doc). ``traced``: a cache of the blocks'
    traces, kept between calls on the same model. Returns ``{"blocks": [{"name", "stage",
    "index", "variance_ratio", "grad_norm", "input_var", "branch_var"}], "loss"}``."""
    traced = {} if traced is None else traced
    blocks = plan(design).blocks
    buffers = {n: b.detach().clone() for n, b in model.named_buffers()}
    was_training = model.training
    records: dict[str, dict] = {b.name: {} for b in blocks}
    originals = {}
    try:
        for b in blocks:
            stage, index = b.name.split(".")
            parent = getattr(model, stage)
            block = parent[int(index)]
            originals[b.name] = (parent, int(index), block)
            if b.name not in traced:
                traced[b.name] = _branch_module(block)
            parent[int(index)] = _Recording(block, traced[b.name], records[b.name])
        model.train()
        with torch.enable_grad():
            loss = F.cross_entropy(model(x).float(), y)
            inputs = [records[b.name]["input"] for b in blocks]
            grads = torch.autograd.grad(loss, inputs, allow_unused=True)
    finally:
        for parent, index, block in originals.values():
            parent[index] = block
        with torch.no_grad():
            for name, b in model.named_buffers():
                b.copy_(buffers[name])
        model.train(was_training)
    rows = []
    for b, g in zip(blocks, grads, strict=True):
        rec = records[b.name]
        x_var, f_var = _var(rec["input"]), _var(rec.get("branch"))
        ratio = f_var / x_var if f_var is not None and x_var else None
        rows.append(
            {
                "name": b.name,
                "stage": b.stage,
                "index": b.index,
                "variance_ratio": ratio,
                "grad_norm": float(g.detach().float().norm()) if g is not None else None,
                "input_var": x_var,
                "branch_var": f_var,
            }
        )
    return {"blocks": rows, "loss": float(loss.detach())}


def at_init(design: Design, *, seed: int = 0, batch_size: int = 16) -> dict[str, Any]:
    """`measure` on ``design`` freshly built with ``seed``, on a seeded random batch."""
    from resnet_explorer.builder import build_model

    g = torch.Generator().manual_seed(seed)
    size = (batch_size, design.in_channels, design.image_size, design.image_size)
    x = torch.randn(size, generator=g)
    y = torch.randint(0, design.num_classes, (batch_size,), generator=g)
    out = measure(build_model(design, seed=seed), design, x, y)
    out["design"] = design.hash
    return out


def variants(depth: int = 56, design: Design | None = None) -> dict[str, Design]:
    """``design`` (default: the CIFAR net of ``depth`` layers, option A) in the five activation
    orders, each with zero-init off and on: ``"full_preact"``, ``"full_preact + zero-init"``,
    ... A variant the design cannot take (a `DesignError`) is left out."""
    from resnet_explorer.errors import DesignError
    from resnet_explorer.probes.experiments import _cifar

    base = design if design is not None else _cifar(depth)
    out = {}
    for order in ACTIVATION_ORDERS:
        for zero, suffix in ((False, ""), (True, " + zero-init")):
            try:
                out[f"{order}{suffix}"] = base.replace(
                    activation_order=order, zero_init_residual=zero
                )
            except DesignError:
                continue
    return out


def sweep(
    depth: int = 56, *, design: Design | None = None, seed: int = 0, batch_size: int = 16
) -> dict[str, dict[str, Any]]:
    """`at_init` for every one of `variants` (of ``design``, else of the CIFAR net of
    ``depth`` layers)."""
    return {
        label: at_init(d, seed=seed, batch_size=batch_size)
        for label, d in variants(depth, design).items()
    }
