"""Hypothesis strategies for designs: small enough to build and run in milliseconds."""

from __future__ import annotations

from hypothesis import assume
from hypothesis import strategies as st

from resnet_explorer.design import (
    ACTIVATION_ORDERS,
    ACTIVATIONS,
    INIT_SCHEMES,
    NORMALIZATIONS,
    SHORTCUTS,
    STEMS,
    Design,
)
from resnet_explorer.errors import DesignError


@st.composite
def stage_dicts(draw, bottleneck_allowed: bool = True):
    n = draw(st.integers(1, 3))
    stages = []
    for i in range(n):
        stage = {
            "blocks": draw(st.integers(1, 2)),
            "width": draw(st.sampled_from([4, 8, 12, 16])),
            "stride": draw(st.sampled_from([1, 2])) if i else draw(st.sampled_from([1, 1, 2])),
        }
        if bottleneck_allowed and draw(st.booleans()) and draw(st.booleans()):
            stage["block"] = draw(st.sampled_from(["basic", "bottleneck"]))
        stages.append(stage)
    return stages


@st.composite
def design_dicts(draw):
    """Raw field dicts; some are invalid combinations (filtered by `designs`)."""
    block = draw(st.sampled_from(["basic", "bottleneck"]))
    grouped = block == "bottleneck" and draw(st.booleans())
    data = {
        "in_channels": draw(st.sampled_from([1, 3])),
        "image_size": draw(st.sampled_from([16, 24, 32, 33])),
        "num_classes": draw(st.integers(1, 12)),
        "stem": draw(st.sampled_from(STEMS)),
        "stem_width": draw(st.sampled_from([8, 16])),
        "stages": draw(stage_dicts(bottleneck_allowed=not grouped)),
        "block": block,
        "expansion": draw(st.sampled_from([1, 2, 4])),
        "stride_on": draw(st.sampled_from(["3x3", "1x1"])),
        "width_factor": draw(st.sampled_from([1.0, 1.5, 2.0])),
        "shortcut": draw(st.sampled_from(SHORTCUTS)),
        "activation_order": draw(st.sampled_from(ACTIVATION_ORDERS)),
        "activation": draw(st.sampled_from(ACTIVATIONS)),
        "norm": draw(st.sampled_from(NORMALIZATIONS)),
        "zero_init_residual": draw(st.booleans()),
        "stochastic_depth": draw(st.sampled_from([0.0, 0.1])),
        "init": draw(st.sampled_from(INIT_SCHEMES)),
        "dropout": draw(st.sampled_from([0.0, 0.2])),
    }
    if grouped:
        data["groups"] = draw(st.sampled_from([2, 4]))
        data["width_per_group"] = draw(st.sampled_from([16, 32]))
    data.update(draw(family_knobs(block, grouped)))
    return data


@st.composite
def family_knobs(draw, block: str, grouped: bool):
    """The RegNet / SE / ECA / dilation / anti-aliasing knobs (some draws are invalid)."""
    knobs: dict = {}
    if draw(st.booleans()):
        knobs["stem"] = draw(st.sampled_from(["simple", "imagenet", "deep"]))
        if knobs["stem"] != "simple" and draw(st.booleans()):
            knobs["stem_pool"] = "conv"
    attention = draw(st.sampled_from(["none", "none", "se", "eca"]))
    if attention != "none":
        knobs["attention"] = attention
        knobs["se_ratio"] = draw(st.sampled_from([0.0625, 0.25, 0.5]))
        if block == "bottleneck" and draw(st.booleans()):
            knobs["se_convention"] = "regnet"
    if block == "bottleneck" and not grouped and draw(st.booleans()):
        knobs["group_width"] = draw(st.sampled_from([2, 4, 8]))
        if draw(st.booleans()):
            knobs["bottleneck_ratio"] = draw(st.sampled_from([0.5, 1.0, 2.0]))
    if draw(st.integers(0, 3)) == 0:
        knobs["anti_alias"] = draw(st.sampled_from(["avg", "blur"]))
    elif draw(st.integers(0, 3)) == 0:
        knobs["output_stride"] = draw(st.sampled_from([8, 16]))
    return knobs


@st.composite
def designs(draw):
    data = draw(design_dicts())
    try:
        return Design(**data)
    except DesignError:
        assume(False)
