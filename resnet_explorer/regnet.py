"""RegNet's rule for stage widths and depths (Radosavovic et al. 2020, Sec. 3.3), written once.

`quantized_widths` is pycls's ``generate_regnet`` (and timm's): block ``j`` of ``depth`` gets
``u_j = w0 + wa * j``, ``s_j = round(log(u_j / w0) / log(wm))`` and the width ``w0 * wm ** s_j``
rounded to a multiple of ``quantum``; consecutive blocks of equal width form a stage.
`compatible_widths` is pycls's ``adjust_block_compatibility`` (timm's
``adjust_widths_groups_comp``): each stage's 3x3 width ``width x b`` is made a multiple of its
group width (which shrinks to the 3x3 width when larger). `Design.regnet` and the explorer's
RegNet design space both use these functions.
"""

from __future__ import annotations

import math
from typing import NamedTuple


class RegNetStage(NamedTuple):
    """One stage of a RegNet: ``blocks`` blocks of ``width`` channels, 3x3 groups of
    ``group_width`` channels."""

    blocks: int
    width: int
    group_width: int


def quantized_widths(
    depth: int, w0: float, wa: float, wm: float, quantum: int = 8
) -> list[tuple[int, int]]:
    """(blocks, width) per stage from RegNet's parameters (see the module docstring)."""
    stages: list[tuple[int, int]] = []
    log_wm = math.log(wm)
    for j in range(depth):
        u = w0 + wa * j
        s = round(math.log(u / w0) / log_wm) if log_wm > 0 else 0
        width = max(int(round(w0 * wm**s / quantum) * quantum), quantum)
        if stages and stages[-1][1] == width:
            stages[-1] = (stages[-1][0] + 1, width)
        else:
            stages.append((1, width))
    return stages


def compatible_widths(
    widths: list[int], bottleneck_ratio: float, group_width: int
) -> list[tuple[int, int]]:
    """(width, group width) per stage such that ``width x bottleneck_ratio`` is a whole number
    of groups (pycls's ``adjust_block_compatibility``)."""
    out = []
    for width in widths:
        inner = int(max(1, width * bottleneck_ratio))
        group = int(min(group_width, inner))
        multiple = math.lcm(group, int(bottleneck_ratio)) if bottleneck_ratio > 1 else group
        inner = max(multiple, int(round(inner / multiple) * multiple))
        out.append((int(inner / bottleneck_ratio), group))
    return out


def regnet_stages(
    depth: int,
    w0: float,
    wa: float,
    wm: float,
    group_width: int,
    bottleneck_ratio: float = 1.0,
    quantum: int = 8,
) -> list[RegNetStage]:
    """The stages of the RegNet with these parameters, exactly as pycls and timm build them."""
    stages = quantized_widths(depth, w0, wa, wm, quantum)
    adjusted = compatible_widths([w for _, w in stages], bottleneck_ratio, group_width)
    return [
        RegNetStage(blocks, width, group)
        for (blocks, _), (width, group) in zip(stages, adjusted, strict=True)
    ]
