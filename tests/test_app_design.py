"""AppTest: the Design (home) page and the shared sidebar editor."""

from __future__ import annotations

import pytest
from apptest_helpers import assert_no_exception, metrics, pick_preset, run_page, set_knob

from resnet_explorer import Design, DesignError, presets


def test_default_design_renders_resnet18():
    at = run_page()
    assert_no_exception(at)
    assert at.title[0].value == "ResNet-18"
    assert metrics(at)["Parameters"] == "11.69 M"
    assert "11,689,512 parameters" in at.caption[0].value or any(
        "11,689,512 parameters" in c.value for c in at.caption
    )
    assert any("matches the published figures" in s.value for s in at.success)


@pytest.mark.parametrize("name", presets.names())
def test_every_preset_renders_with_its_exact_counts(name):
    at = pick_preset(run_page(), name)
    assert_no_exception(at)
    preset = presets.info(name)
    text = " ".join(c.value for c in at.caption)
    if preset.params is not None:
        assert f"{preset.params:,} parameters" in text
    assert at.query_params["d"] == [preset.design.to_url()] or at.query_params["d"] == (
        preset.design.to_url()
    )


def test_editing_a_knob_updates_the_figures_with_deltas():
    at = pick_preset(run_page(), "resnet50")
    assert metrics(at)["Parameters"] == "25.56 M"
    at = set_knob(at, "shortcut", "C")
    assert_no_exception(at)
    params = metrics(at)["Parameters"]
    assert params != "25.56 M" and float(params.split()[0]) > 25.56
    assert at.title[0].value == "ResNet-50 (modified)"
    assert next(m.delta for m in at.metric).startswith("+")
    assert any("Modified from" in i.value for i in at.info)


def test_invalid_input_shows_the_error_and_keeps_the_last_valid_design():
    at = pick_preset(run_page(), "resnet50")
    at = set_knob(at, "image_size", 16)
    assert_no_exception(at)
    assert len(at.sidebar.error) == 1
    assert "image_size=16" in at.sidebar.error[0].value
    assert metrics(at)["Parameters"] == "25.56 M"  # the last valid design stays on screen
    at = set_knob(at, "image_size", 224)
    assert len(at.sidebar.error) == 0


def test_stage_table_shows_the_design_stages():
    at = pick_preset(run_page(), "resnet20")
    table = at.sidebar.dataframe[0].value
    assert table[["blocks", "width", "stride"]].values.tolist() == [
        [3, 16, 1],
        [3, 32, 2],
        [3, 64, 2],
    ]
    # the columns past the sidebar's edge are named, so nobody misses them
    (said,) = [c.value for c in at.sidebar.caption if c.value.startswith("Stages")]
    assert "Scroll the table right for groups, group_width, bottleneck_ratio." in said


def test_stage_rows_from_the_table_build_the_design_or_name_the_missing_cell():
    import pandas as pd

    from resnet_explorer.ui.editor import _stage_rows

    frame = pd.DataFrame(
        [
            {"blocks": 2.0, "width": 64.0, "stride": 1, "block": ""},
            {"blocks": 3.0, "width": 128.0, "stride": 2, "block": "bottleneck"},
            {"blocks": None, "width": 8.0, "stride": None, "block": None},
        ]
    )
    rows = _stage_rows(frame)
    assert rows[:2] == [
        {"blocks": 2, "width": 64, "stride": 1},
        {"blocks": 3, "width": 128, "stride": 2, "block": "bottleneck"},
    ]
    with pytest.raises(DesignError, match=r"stages\[2\].blocks: required field is missing"):
        Design(stages=rows)
    assert Design(stages=rows[:2]).block_type(1) == "bottleneck"


def test_design_from_the_url_is_restored():
    design = presets.get("resnet56").replace(shortcut="B")
    at = run_page(query={"d": design.to_url()})
    assert_no_exception(at)
    text = " ".join(c.value for c in at.caption)
    from resnet_explorer.analysis.analytic import totals

    assert f"{totals(design).params:,} parameters" in text


# A well-formed token whose JSON nests 5000 lists deep: '{"stages":' + "[" * 5000.
NESTED_TOKEN = "v1.eNrtwTERACAIAMAuxLAKk4NHANgsbwq3_7_Rs-t0rAQAAAAAvnvZfvUz"


@pytest.mark.parametrize("token", ["v1.garbage", "nonsense", "v1." + "A" * 50, NESTED_TOKEN])
def test_broken_url_gets_a_message_and_the_default_design(token):
    at = run_page(query={"d": token})
    assert_no_exception(at)
    assert any("could not be read" in w.value for w in at.warning)
    assert at.title[0].value == "ResNet-18"


def test_copy_as_code_builds_the_same_network():
    at = pick_preset(run_page(), "resnet50")
    code = next(c.value for c in at.code if "build_model" in c.value)
    namespace: dict = {}
    exec(code.split("# The same")[0], namespace)
    assert namespace["design"] == presets.get("resnet50")
    assert "torchvision.models.resnet50()" in code


def test_scratch_start_is_valid():
    at = pick_preset(run_page(), "(scratch)")
    assert_no_exception(at)
    assert at.title[0].value.startswith("Custom design")
    assert Design.from_url(
        at.query_params["d"][0] if isinstance(at.query_params["d"], list) else at.query_params["d"]
    )


def test_bottleneck_knobs_follow_the_block_type_at_once():
    at = run_page()
    assert at.sidebar.number_input(key="ed_expansion").disabled  # ResNet-18: basic blocks
    at = set_knob(at, "block", "bottleneck")
    assert_no_exception(at)
    assert not at.sidebar.number_input(key="ed_expansion").disabled
    assert not at.sidebar.selectbox(key="ed_stride_on").disabled
    at = set_knob(at, "block", "basic")
    assert at.sidebar.number_input(key="ed_expansion").disabled
    assert at.sidebar.selectbox(key="ed_stride_on").disabled


def test_an_invalid_edit_is_explained_at_the_top_of_the_main_area():
    at = pick_preset(run_page(), "resnet50")
    at = set_knob(at, "image_size", 16)
    assert_no_exception(at)
    banner = at.main.error[0].value
    assert "image_size=16" in banner and "last valid design" in banner
    # above everything else the page shows, in a container kept in view (sticky)
    first = next(e for e in at.main.children.values() if e.type != "html")  # style, marker
    assert first.key == "design_status" and first.children[0].value == banner
    assert metrics(at)["Parameters"] == "25.56 M"
    at = set_knob(at, "image_size", 224)
    assert not at.main.error


@pytest.mark.parametrize(
    ("field", "value", "named"),
    [("image_size", 5000, "image_size"), ("stem_width", 0, "stem_width")],
)
def test_a_value_out_of_range_gets_a_message_naming_the_field(field, value, named):
    at = set_knob(run_page(), field, value)
    assert_no_exception(at)
    assert named in at.main.error[0].value
    assert metrics(at)["Parameters"] == "11.69 M"


def test_a_zero_width_stage_is_refused_with_a_message():
    import pandas as pd

    from resnet_explorer.ui.editor import _stage_rows

    rows = _stage_rows(pd.DataFrame([{"blocks": 2, "width": 0, "stride": 1, "block": None}]))
    with pytest.raises(DesignError, match=r"stages\[0\]\.width = 0"):
        Design(stages=rows)


def test_a_new_stage_row_starts_as_a_copy_of_the_last_stage():
    import pandas as pd

    from resnet_explorer import Stage
    from resnet_explorer.ui.editor import _column_config, _stage_rows

    last = Stage(blocks=3, width=512, stride=2, block="bottleneck")
    config = _column_config(last)
    assert {c: config[c]["default"] for c in config} == {
        "blocks": 3,
        "width": 512,
        "stride": 2,
        "block": "bottleneck",
        "groups": None,
        "group_width": None,
        "bottleneck_ratio": None,
    }
    # a row the user emptied again is left out instead of being an error
    empty = {"blocks": None, "width": None, "stride": None, "block": None}
    frame = pd.DataFrame([{"blocks": 2, "width": 64, "stride": 1, "block": None}, empty])
    assert _stage_rows(frame) == [{"blocks": 2, "width": 64, "stride": 1}]


def test_editor_bounds_and_options_are_read_from_the_design_fields():
    from typing import get_args

    from resnet_explorer.ui.editor import KNOBS, field_spec

    assert field_spec(Design, "groups").bounds == "1 to 1024"
    assert field_spec(Design, "width_factor").bounds == "> 0 and <= 32"
    shortcut = Design.model_fields["shortcut"].annotation
    assert field_spec(Design, "shortcut").options == get_args(shortcut)
    # every field of the design has its knob (the stage table edits the stages)
    assert {k.field for k in KNOBS} == set(Design.model_fields) - {"stages"}
    at = run_page()
    groups = at.sidebar.number_input(key="ed_groups")
    assert "allowed: 1 to 1024" in groups.help


def test_final_norm_follows_the_activation_order_as_the_design_derives_it():
    at = set_knob(run_page(), "activation_order", "full_preact")
    assert at.sidebar.checkbox(key="ed_final_norm").value is Design(
        activation_order="full_preact"
    ).final_norm
    at = set_knob(at, "activation_order", "original")
    assert at.sidebar.checkbox(key="ed_final_norm").value is False


def test_a_link_carries_the_preset_and_library_design_it_came_from():
    modified = presets.get("resnet50").replace(shortcut="C")
    at = run_page()
    at = pick_preset(at, "resnet50")
    at = set_knob(at, "shortcut", "C")
    params = {k: at.query_params[k] for k in at.query_params}
    link = {k: v[0] if isinstance(v, list) else v for k, v in params.items()}
    assert link == {"d": modified.to_url(), "from": "resnet50"}
    # the recipient sees what the sender saw: the title, the deltas, "modified from"
    seen = run_page(query=link)
    assert_no_exception(seen)
    assert seen.title[0].value == "ResNet-50 (modified)"
    assert next(m.delta for m in seen.metric).startswith("+")
    assert any("Modified from the preset **ResNet-50**" in i.value for i in seen.info)
    # a design opened from the library: its name, and deltas against the saved design
    saved = presets.get("resnet20").replace(stochastic_depth=0.1)
    edited = saved.replace(shortcut="B")
    seen = run_page(query={"d": edited.to_url(), "lib": "my r20", "base": saved.to_url()})
    assert seen.title[0].value == "my r20 (modified)"
    assert any("library design **my r20**" in i.value for i in seen.info)
    assert next(m.delta for m in seen.metric).startswith("+")
    assert seen.query_params["lib"] in ("my r20", ["my r20"])


def test_every_start_from_option_fits_the_sidebar_select():
    """The select is an input (it cannot wrap): 306 px at the sidebar's width holds about 47
    characters; RegNet titles ran to 53 and were cut ("... (pycls, timm regnety")."""
    from resnet_explorer.ui.editor import SCRATCH, start_label

    labels = [start_label(n) for n in [SCRATCH, *presets.names()]]
    assert max(len(label) for label in labels) <= 44, max(labels, key=len)
    assert start_label("regnety_040") == "regnety_040 - RegNetY-4.0GF"
    assert start_label("resnet50") == "resnet50 - ResNet-50"
