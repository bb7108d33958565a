"""Exact analytic counts from a `Design` alone: no model is built, no tensor allocated.

The counts are sums over the design's layer-level plan (`resnet_explorer.plan`), each op costed
by the one table in `plan.ops` (params, MACs, fvcore's count, activations, outputs, bias adds).
This module is the analysis package's face for them. All counts are for one image; multiply by
the batch size. The tests check every figure against fvcore and torchinfo on built models.
"""

from resnet_explorer.plan.counts import LayerCount, layer_counts, stage_totals, totals
from resnet_explorer.plan.ops import Totals

__all__ = ["LayerCount", "Totals", "layer_counts", "stage_totals", "totals"]
