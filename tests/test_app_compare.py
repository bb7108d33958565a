"""AppTest: the Compare page (2 to 4 designs: table with deltas, charts, diagrams, curves)."""

from __future__ import annotations

import pytest
from apptest_helpers import assert_no_exception, pick_preset, run_page

from resnet_explorer import presets
from resnet_explorer.store import Store

PAGE = "pages/3_Compare.py"


@pytest.fixture
def db(app_db):
    return app_db


def _table(at):
    return at.table[0].value


def test_default_compares_the_editor_design_with_resnet34(db):
    at = run_page(PAGE)
    assert_no_exception(at)
    table = _table(at)
    assert list(table.columns) == ["kind", "current (resnet18)", "resnet34"]
    assert table.loc["Parameters", "current (resnet18)"] == "11.69 M"
    assert table.loc["Parameters", "resnet34"] == "21.80 M  [+10.11 M (+86.5%)]"
    assert table.loc["Inference latency", "resnet34"] == "not measured"
    assert table.loc["Training memory (batch 32)", "kind"] == "estimate"
    assert len(at.get("plotly_chart")) == 2  # stage bars, scatter
    assert len(at.get("graphviz_chart")) == 1  # one diff diagram
    assert any("Latency not measured" in i.value for i in at.info)
    assert any("No probe runs" in i.value for i in at.info)


def test_fewer_than_two_designs_asks_for_more(db):
    at = run_page(PAGE)
    at = at.multiselect(key="cmp_pick").set_value(["preset:resnet50"]).run()
    assert_no_exception(at)
    assert any("Pick at least two" in i.value for i in at.info)
    assert not at.table


def test_library_designs_latency_and_curves(db):
    store = Store(db)
    mine = presets.get("resnet20").replace(shortcut="B")
    store.save_design("r20 B", mine)
    store.add_profile(
        mine,
        device="cpu",
        results={
            "latency": {
                "device": "cpu",
                "device_name": "CPU only",
                "precision": "fp32",
                "rows": [{"mode": "inference", "batch_size": 4, "status": "ok", "median_s": 0.01}],
            }
        },
    )
    for design in (mine, presets.get("resnet20")):
        run_id = store.start_run(design)
        store.append_steps(run_id, [{"step": i, "loss": 2 - i / 5, "acc": i / 5} for i in range(4)])
    at = run_page(PAGE)
    at = (
        at.multiselect(key="cmp_pick")
        .set_value(["preset:resnet20", "library:r20 B", "preset:resnet56"])
        .run()
    )
    assert_no_exception(at)
    table = _table(at)
    assert list(table.columns) == ["kind", "resnet20", "r20 B", "resnet56"]
    assert table.loc["Inference latency", "r20 B"].startswith("2.50 ms/image")
    assert table.loc["Inference latency", "resnet20"] == "not measured"
    assert len(at.get("graphviz_chart")) == 3  # side by side
    # stage bars, scatter, latency scatter, curves
    assert len(at.get("plotly_chart")) == 4
    assert at.selectbox(key="cmp_metric").options[:2] == ["loss", "acc"]


def test_a_broken_library_still_compares_presets(db):
    db.write_bytes(b"not ours")
    at = run_page(PAGE)
    assert_no_exception(at)
    assert any("library cannot be opened" in w.value for w in at.warning)
    assert list(_table(at).columns) == ["kind", "current (resnet18)", "resnet34"]
    assert db.read_bytes() == b"not ours"


def test_designs_sent_from_explore_are_offered_and_picked():
    from apptest_helpers import run_page

    from resnet_explorer import presets

    at = run_page("pages/3_Compare.py")
    sent = presets.get("resnet20").replace(shortcut="B")
    at.session_state["compare_designs"] = [("explore #3", sent)]
    at.session_state["_cmp_new_sent"] = True
    at = at.run()
    assert not at.exception
    picked = at.multiselect(key="cmp_pick").value
    assert picked == ["editor", "sent:explore #3"]
    text = " ".join(str(t.value) for t in at.table)
    assert "explore #3" in text


def _picks(at, picks):
    return at.multiselect(key="cmp_pick").set_value(picks).run()


def test_three_designs_highlight_what_differs_from_a_chosen_baseline(db):
    at = _picks(
        run_page(PAGE), ["preset:resnet50", "preset:resnext50_32x4d", "preset:wide_resnet50_2"]
    )
    assert_no_exception(at)
    specs = [c.proto.spec for c in at.get("graphviz_chart")]
    assert len(specs) == 3
    assert "ResNet-50" in specs[0] and "ResNeXt-50 (32x4d)" in specs[1]
    assert "Wide ResNet-50-2" in specs[2]
    assert "cc0000" not in specs[0] and "cc0000" in specs[1] and "cc0000" in specs[2]
    assert "32 groups x 4 = 128 ch" in specs[1]
    reasons = " ".join(m.value for m in at.markdown)
    # one line a stage, saying what the boxes say (not 16 lines of per-block conv labels)
    assert "layer1: 3x3 conv: 64 ch -> 32 groups x 4 = 128 ch (every block)" in reasons.replace(
        "-&gt;", "->"
    )
    assert "layer2.0" not in reasons
    assert "3x3 conv: 64 ch -> 128 ch, width x2" in reasons.replace("-&gt;", "->")
    # another baseline: the table and the highlights follow it
    at = at.selectbox(key="cmp_baseline").set_value("preset:wide_resnet50_2").run()
    assert list(at.table[0].value.columns) == [
        "kind",
        "wide_resnet50_2",
        "resnet50",
        "resnext50_32x4d",
    ]
    specs = [c.proto.spec for c in at.get("graphviz_chart")]
    assert "Wide ResNet-50-2" in specs[0] and "cc0000" not in specs[0]
    params = at.query_params
    assert params["cmp"] == ["preset:resnet50", "preset:resnext50_32x4d", "preset:wide_resnet50_2"]
    assert params["cbase"] in ("2", ["2"])


def test_different_inputs_are_said_instead_of_per_image_deltas(db):
    at = _picks(run_page(PAGE), ["preset:resnet18", "preset:resnet20"])
    assert_no_exception(at)
    table = at.table[0].value
    assert table.loc["Input", "resnet20"] == "3 x 32 x 32 -> 10 classes"
    assert table.loc["MACs", "resnet20"].endswith("[other input]")
    assert "%" not in table.loc["MACs", "resnet20"]
    assert any("take different inputs" in w.value for w in at.warning)


def test_a_compare_link_opens_the_same_comparison(db):
    sent = presets.get("resnet20").replace(shortcut="B")
    query = {
        "cmp": ["preset:resnet34", f"sent:explore #3~{sent.to_url()}", "preset:resnet18"],
        "cbase": "1",
    }
    at = _run_with_query(query)
    assert_no_exception(at)
    assert at.multiselect(key="cmp_pick").value == [
        "preset:resnet34",
        "sent:explore #3",
        "preset:resnet18",
    ]
    assert at.selectbox(key="cmp_baseline").value == "sent:explore #3"
    assert list(at.table[0].value.columns)[1] == "explore #3"


def _run_with_query(query):
    from apptest_helpers import ROOT
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    for key, value in query.items():
        at.query_params[key] = value
    at.switch_page(PAGE)
    return at.run()


def test_resnet50_regnety_4gf_and_resnext50_side_by_side(db):
    """The family in one review: exact counts per design, diagrams titled with each preset and
    stage boxes saying what sets it apart (group width, bottleneck ratio, squeeze-excitation)."""
    from resnet_explorer.plan.counts import totals

    names = ["resnet50", "regnety_040", "resnext50_32x4d"]
    at = _picks(run_page(PAGE), [f"preset:{n}" for n in names])
    assert_no_exception(at)
    table = _table(at)
    assert list(table.columns)[1:] == names
    specs = [c.proto.spec for c in at.get("graphviz_chart")]
    assert len(specs) == 3
    for name, spec in zip(names, specs, strict=True):
        assert presets.info(name).title in spec
        assert f"{totals(presets.get(name)).params / 1e6:.2f} M params" in spec
    assert "17 groups x 64 = 1088 ch, bottleneck ratio 1, SE" in specs[1]
    assert "SE" not in specs[0].split("legend")[0] and "cc0000" in specs[1]


@pytest.mark.parametrize("name", ["regnety_040", "seresnext50_32x4d", "resnet50_os8"])
def test_two_designs_of_the_new_families_draw_their_diff(db, name):
    """The two-design diff of a family preset against ResNet-50 (fields the one sets and the
    other leaves at their default) is drawn, not a KeyError."""
    for picks in (["preset:resnet50", f"preset:{name}"], [f"preset:{name}", "preset:resnet50"]):
        at = _picks(run_page(PAGE), picks)
        assert_no_exception(at)
        (chart,) = at.get("graphviz_chart")
        assert presets.info(name).title in chart.proto.spec


def test_charts_name_designs_in_legends_and_diagrams_title_the_editor_preset(db):
    """The cost scatter names designs in a legend (texts beside close points overlapped and
    were cut at the edge), the stage bars' legend sits above the panels (below, it hid the
    first panel's "stem + head"), and the editor's diagram is titled with its preset's title."""
    import json

    at = pick_preset(run_page(PAGE), "regnety_040")
    assert_no_exception(at)
    bars, scatter = (json.loads(c.proto.spec) for c in at.get("plotly_chart"))
    assert bars["layout"]["legend"]["y"] > 1
    assert scatter["layout"]["showlegend"] is True
    assert all(t["mode"] == "markers" for t in scatter["data"])
    assert [t["name"] for t in scatter["data"]] == ["current (regnety_040)", "resnet34"]
    (chart,) = at.get("graphviz_chart")
    assert f"current: {presets.info('regnety_040').title}" in chart.proto.spec
