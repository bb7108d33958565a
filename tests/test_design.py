"""The Design value: validation, immutability, JSON / URL round-trips, canonical hash."""

from __future__ import annotations

import base64
import json
import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import designs

from resnet_explorer import Design, DesignError, Stage, presets


def test_default_is_resnet18():
    assert Design() == presets.get("resnet18")


def test_design_is_immutable():
    design = Design()
    with pytest.raises(Exception):  # noqa: B017 - pydantic raises its frozen-instance error
        design.block = "bottleneck"
    with pytest.raises(Exception):  # noqa: B017
        design.stages[0].blocks = 5


def test_equal_designs_have_equal_hashes_and_json():
    a = Design(block="bottleneck", stages=[{"blocks": 1, "width": 8}])
    b = Design(stages=[Stage(blocks=1, width=8)], block="bottleneck")
    assert a == b
    assert a.hash == b.hash and len(a.hash) == 16
    assert a.to_json() == b.to_json()
    assert a.hash != Design().hash


def test_final_norm_is_derived_from_the_activation_order():
    assert Design(activation_order="full_preact").final_norm is True
    assert Design(activation_order="original").final_norm is False
    assert Design(activation_order="full_preact", final_norm=False).final_norm is False
    assert Design().replace(activation_order="full_preact").final_norm is True


@pytest.mark.parametrize("name", presets.names())
def test_presets_round_trip_through_json_and_url(name):
    design = presets.get(name)
    assert Design.from_json(design.to_json()) == design
    assert Design.from_url(design.to_url()) == design
    assert Design.from_json(design.to_json(indent=2)).hash == design.hash


def test_url_token_is_compact_and_url_safe():
    token = presets.get("resnet50").to_url()
    assert token.startswith("v1.")
    assert len(token) < 200
    assert all(c.isalnum() or c in "-_." for c in token)


@settings(max_examples=60, deadline=None)
@given(designs())
def test_generated_designs_round_trip(design):
    assert Design.from_json(design.to_json()) == design
    assert Design.from_url(design.to_url()) == design
    assert Design.from_dict(json.loads(design.to_json())).hash == design.hash


# --- invalid input: one error type, a message naming field, value and what is allowed ------

INVALID = [
    ({"stages": []}, "stages", "at least 1"),
    ({"stages": [{"blocks": 0, "width": 64}]}, "stages[0].blocks", "greater than or equal to 1"),
    ({"stages": [{"blocks": -3, "width": 64}]}, "stages[0].blocks", "-3"),
    ({"stages": [{"blocks": 2, "width": 0}]}, "stages[0].width", "greater than or equal to 1"),
    ({"stages": [{"blocks": 2, "width": 64, "stride": 3}]}, "stages[0].stride", "1 or 2"),
    ({"num_classes": 0}, "num_classes", "greater than or equal to 1"),
    ({"num_classes": -1}, "num_classes", "-1"),
    ({"image_size": 16}, "image_size=16", "image_size >= 32"),
    ({"shortcut": "E"}, "shortcut", "'A', 'B', 'C', 'D' or 'none'"),
    ({"stem": "huge"}, "stem", "'imagenet', 'cifar', 'deep', 'deep_tiered' or 'simple'"),
    ({"activation_order": "post"}, "activation_order", "'full_preact'"),
    ({"block": "triple"}, "block", "'basic' or 'bottleneck'"),
    ({"colour": "red"}, "colour", "unknown field"),
    ({"groups": 32, "width_per_group": 4}, "groups=32", "bottleneck blocks only"),
    (
        {
            "block": "bottleneck",
            "groups": 32,
            "width_per_group": 1,
            "stages": [{"blocks": 1, "width": 8}],
        },
        "stages[0].width=8",
        "each group would get 0.125 channels",
    ),
    (
        {
            "block": "bottleneck",
            "groups": 3,
            "width_per_group": 6,
            "stages": [{"blocks": 1, "width": 100}],
        },
        "stages[0].width=100",
        "not divisible",
    ),
    ({"shortcut": "none", "zero_init_residual": True}, "zero_init_residual", "needs a shortcut"),
    ({"shortcut": "A", "stem_width": 128}, "shortcut='A'", "zero-padding cannot"),
    ({"dropout": 1.0}, "dropout", "less than 1"),
    ({"width_factor": 0}, "width_factor", "greater than 0"),
    ({"width_factor": float("nan")}, "width_factor", "finite number"),
    ({"dropout": float("inf")}, "dropout", "finite number"),
]


@pytest.mark.parametrize(("fields", "names", "allowed"), INVALID)
def test_invalid_designs_raise_a_design_error_naming_the_field(fields, names, allowed):
    with pytest.raises(DesignError) as info:
        Design(**fields)
    message = str(info.value)
    assert isinstance(info.value, ValueError)
    assert names in message, message
    assert allowed in message, message


def test_malformed_json_is_a_design_error():
    for text in ["{", "[1, 2]", '"resnet"', "null", '{"stages": "many"}', "\xff"]:
        with pytest.raises(DesignError):
            Design.from_json(text)


def test_deeply_nested_json_is_a_design_error():
    nested = '{"stages": ' + "[" * 5000 + "]" * 5000 + "}"
    with pytest.raises(DesignError, match="malformed"):
        Design.from_json(nested)
    token = "v1." + base64.urlsafe_b64encode(zlib.compress(nested.encode(), 9)).decode()
    with pytest.raises(DesignError, match="damaged"):
        Design.from_url(token)


def test_oversized_json_is_refused_without_parsing():
    with pytest.raises(DesignError, match="at most"):
        Design.from_json("{" + " " * 100_000 + "}")


@pytest.mark.parametrize(
    "token",
    ["", "v2.abc", "v1.", "v1.!!!!", "v1.eNqrrgUAAXUA", "v1.AAAA", "v1." + "A" * 400_000],
)
def test_broken_url_tokens_are_design_errors(token):
    with pytest.raises(DesignError):
        Design.from_url(token)


def test_tampered_url_token_is_refused():
    good = Design(num_classes=7).to_url()
    tampered = good[:-3] + ("A" if good[-3] != "A" else "B") + good[-2:]
    with pytest.raises(DesignError):
        Design.from_url(tampered)


@settings(max_examples=60, deadline=None)
@given(
    field=st.sampled_from(["num_classes", "image_size", "stem_width", "in_channels", "groups"]),
    value=st.one_of(st.integers(max_value=0), st.integers(min_value=10**7), st.text(max_size=3)),
)
def test_generated_invalid_values_raise_design_error_with_the_field(field, value):
    with pytest.raises(DesignError) as info:
        Design(**{field: value})
    assert field in str(info.value)


def test_group_norm_over_single_values_is_refused():
    fields = {
        "image_size": 16,
        "stem_width": 8,
        "block": "bottleneck",
        "expansion": 1,
        "groups": 2,
        "width_per_group": 16,
        "norm": "group",
        "stages": [
            {"blocks": 1, "width": 4},
            {"blocks": 1, "width": 4, "stride": 2},
            {"blocks": 1, "width": 4, "stride": 2},
        ],
    }
    with pytest.raises(DesignError, match="norm='group': stage 2 normalizes 2 channels"):
        Design(**fields)
    assert Design(**{**fields, "norm": "batch"}).norm == "batch"
    assert Design(**{**fields, "image_size": 32}).image_size == 32  # 2x2 maps: fine
