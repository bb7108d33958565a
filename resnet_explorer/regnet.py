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
from collections.abc import Sequence
from itertools import groupby
from typing import NamedTuple

import numpy as np


class RegNetStage(NamedTuple):
    """One stage of a RegNet: ``blocks`` blocks of ``width`` channels, 3x3 groups of
    ``group_width`` channels."""

    blocks: int
    width: int
    group_width: int


def quantized_widths_many(
    depth: Sequence[int], w0: Sequence[float], wa: Sequence[float], wm: Sequence[float],
    quantum: int = 8,
) -> list[list[tuple[int, int]]]:  # fmt: skip
    """`quantized_widths` for many parameter sets at once (numpy, as pycls computes it): the
    design-space sampler draws thousands of RegNets."""
    depth_a = np.asarray(depth, dtype=np.int64)
    w0_a, wa_a, wm_a = (np.asarray(v, dtype=np.float64)[:, None] for v in (w0, wa, wm))
    j = np.arange(int(depth_a.max(initial=1)), dtype=np.float64)[None, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        log_wm = np.log(wm_a)
        steps = np.where(log_wm > 0, np.round(np.log((w0_a + wa_a * j) / w0_a) / log_wm), 0.0)
        widths = np.round(w0_a * np.power(wm_a, steps) / quantum) * quantum
    widths = np.maximum(widths, quantum).astype(np.int64).tolist()
    out = []
    for row, n in zip(widths, depth_a.tolist(), strict=True):
        out.append([(len(list(run)), width) for width, run in groupby(row[:n])])
    return out


def quantized_widths(
    depth: int, w0: float, wa: float, wm: float, quantum: int = 8
) -> list[tuple[int, int]]:
    """(blocks, width) per stage from RegNet's parameters (see the module docstring)."""
    return quantized_widths_many([depth], [w0], [wa], [wm], quantum)[0]


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
