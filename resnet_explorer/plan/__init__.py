"""The layer-level description of a design: every op with its shapes, in forward order.

``plan(design)`` gives the `NetworkPlan` (stem ops, stages of `BlockPlan`s, head ops) that the
builder builds, the counts sum and the diagrams label. Its parts:

* `plan.ops`: the `Op` type and what each op kind costs (`cost`) and is called (`label`);
* `plan.block`: the ops of one residual block (`block_ops`), the shortcut rule;
* `plan.network`: the stem and head ops;
* `plan.layout`: walking the stages (`plan`, `stage_layouts`);
* `plan.counts`: exact counts summed over the plan (`totals`, `layer_counts`, `stage_totals`).
"""

from resnet_explorer.plan.block import BlockSpec, ShortcutKind, block_ops, shortcut_kind
from resnet_explorer.plan.layout import BlockPlan, NetworkPlan, StagePlan, plan, stage_layouts
from resnet_explorer.plan.ops import Op, Totals, cost, label, short_label
from resnet_explorer.shapes import downsample

__all__ = [
    "BlockPlan",
    "BlockSpec",
    "NetworkPlan",
    "Op",
    "ShortcutKind",
    "StagePlan",
    "Totals",
    "block_ops",
    "cost",
    "downsample",
    "label",
    "plan",
    "short_label",
    "shortcut_kind",
    "stage_layouts",
]
