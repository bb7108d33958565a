"""AppTest: the Compare page (2 to 4 designs: table with deltas, charts, diagrams, curves)."""

from __future__ import annotations

import pytest
from apptest_helpers import assert_no_exception, run_page

from resnet_explorer import presets
from resnet_explorer.store import Store

PAGE = "pages/3_Compare.py"


@pytest.fixture
def db(tmp_path, monkeypatch):
    path = tmp_path / "library.sqlite3"
    monkeypatch.setenv("RESNET_EXPLORER_DB", str(path))
    return path


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
