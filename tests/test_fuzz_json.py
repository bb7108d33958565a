"""Arbitrary JSON (deep, wide, huge numbers, unicode) fed to designs, spaces and library
imports: the only outcomes are a valid value or the engine's own error with a message."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from resnet_explorer.cli import main
from resnet_explorer.design import Design, Stage
from resnet_explorer.errors import DesignError
from resnet_explorer.explore.space import (
    Bound,
    RegNetBody,
    Space,
    SpaceError,
    SpaceKnob,
    StagesBody,
)
from resnet_explorer.store import StoreError
from resnet_explorer.store.exchange import DesignEntry, ExportDocument, RunEntry, parse_document

HUGE = 987_654_321_012_345_678  # stands for a 5,000-digit integer once the text is written
#: Keys the validators know, so that generated objects reach past the first check.
KEYS = sorted(
    {
        *Design.model_fields,
        *Stage.model_fields,
        *Space.model_fields,
        *SpaceKnob.model_fields,
        *StagesBody.model_fields,
        *RegNetBody.model_fields,
        *Bound.model_fields,
        *ExportDocument.model_fields,
        *DesignEntry.model_fields,
        *RunEntry.model_fields,
        "schema",
    }
)
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-(10**40), 10**40)
    | st.integers(-3, 300)
    | st.just(HUGE)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=12)
    | st.sampled_from(["basic", "bottleneck", "A", "B", "regnet", "stages", "resnet20", "224"])
)
VALUES = st.recursive(
    SCALARS,
    lambda children: (
        st.lists(children, max_size=8)
        | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=8), children, max_size=8)
    ),
    max_leaves=60,
)


@st.composite
def json_texts(draw, schema: str | None = None) -> str:
    value = draw(VALUES)
    if schema is not None and isinstance(value, dict) and draw(st.booleans()):
        value["schema"] = schema
    if draw(st.booleans()):  # wide: many keys at the top
        extra = draw(st.dictionaries(st.text(min_size=1, max_size=6), SCALARS, max_size=120))
        value = {**extra, **value} if isinstance(value, dict) else value
    text = json.dumps(value)
    text = text.replace(str(HUGE), "1" + "0" * 4999)
    depth = draw(st.sampled_from([0, 0, 0, 50, 3000]))  # deep: nested far past recursion limits
    return "[" * depth + text + "]" * depth


def _only_clean(fn, text: str, error: type[Exception]) -> None:
    try:
        fn(text)
    except error as exc:
        assert str(exc).strip()
        assert "Traceback" not in str(exc)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(json_texts())
def test_designs_from_arbitrary_json(text):
    _only_clean(Design.from_json, text, DesignError)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(json_texts("resnet-explorer/space/v1"))
def test_spaces_from_arbitrary_json(text):
    _only_clean(Space.from_json, text, SpaceError)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(json_texts("resnet-explorer/library/v1"))
def test_imports_from_arbitrary_json(text):
    _only_clean(parse_document, text, StoreError)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(text=json_texts())
def test_the_cli_on_arbitrary_design_files(tmp_path, capsys, text):
    path = tmp_path / "d.json"
    path.write_text(text)
    code = main(["design", str(path)])
    out, err = capsys.readouterr()
    assert code in (0, 2)
    if code == 2:
        assert err.startswith("error: ") and "Traceback" not in err and out == ""
