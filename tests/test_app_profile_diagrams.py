"""AppTest: the Profile and Diagrams pages."""

from __future__ import annotations

import pytest
from apptest_helpers import assert_no_exception, finish_latency, pick_preset, run_page

from resnet_explorer import presets


@pytest.mark.parametrize("name", ["resnet50", "resnet56", "preact_resnet18", "resnet50d"])
def test_profile_page_renders_presets(name):
    at = pick_preset(run_page("pages/1_Profile.py"), name)
    assert_no_exception(at)
    assert at.title[0].value.startswith("Profile · ")
    labels = {m.label: m.value for m in at.metric}
    from resnet_explorer.analysis.analytic import totals

    counts = totals(presets.get(name))
    macs = counts.macs
    assert labels["MACs"] == f"{macs / 1e9:,.3f} GMACs"
    assert labels["pycls flops"] == f"{counts.pycls_flops / 1e9:,.3f} G"
    assert counts.pycls_flops > macs  # the classifier's bias additions at least
    assert labels["FLOPs (2 x MACs)"] == f"{2 * macs / 1e9:,.3f} GFLOPs"
    helps = {m.label: m.help for m in at.metric}
    assert "torchvision's 'GFLOPS'" in helps["MACs"] and f"{macs:,}" in helps["MACs"]
    assert "FlopCounterMode" in helps["FLOPs (2 x MACs)"]
    assert all(len(label) <= 16 for label in list(labels)[:4])  # four fit in a row at 1280 px
    assert "Saved activations" in labels


def test_profile_layer_table_filters_by_name():
    at = pick_preset(run_page("pages/1_Profile.py"), "resnet50")
    at = at.text_input[0].set_value("downsample").run()
    table = at.main.dataframe[0].value
    assert len(table) == 8  # 4 projection shortcuts: conv + norm each
    assert all("downsample" in name for name in table["name"])


def test_profile_memory_follows_the_batch_size():
    at = pick_preset(run_page("pages/1_Profile.py"), "resnet20")
    before = {m.label: m.value for m in at.metric}["Saved activations"]
    at = at.number_input(key="memory_batch").set_value(64).run()
    assert_no_exception(at)
    after = {m.label: m.value for m in at.metric}["Saved activations"]
    assert before != after


def test_profile_latency_runs_on_request_on_cpu():
    at = pick_preset(run_page("pages/1_Profile.py"), "resnet20")
    at.multiselect(key="latency_batches").set_value([1])
    at.multiselect(key="latency_modes").set_value(["inference"])
    at = finish_latency(at.button(key="latency_measure").click().run())
    assert_no_exception(at)
    text = " ".join(m.value for m in at.markdown)
    assert "CPU only" in text
    rows = at.main.dataframe[-1].value
    assert list(rows["batch_size"]) == [1]
    assert rows["status"].iloc[0] in ("ok", "over_budget")


def test_a_cut_short_sweep_says_why_each_row_was_not_measured():
    at = pick_preset(run_page("pages/1_Profile.py"), "resnet50")
    at.multiselect(key="latency_batches").set_value([1, 256])
    at.multiselect(key="latency_modes").set_value(["training"])
    at.number_input(key="latency_budget").set_value(5.0)
    at = finish_latency(at.button(key="latency_measure").click().run())
    assert_no_exception(at)
    rows = at.main.dataframe[-1].value
    assert list(rows.columns[:4]) == ["mode", "batch_size", "status", "message"]
    assert rows["status"].iloc[-1] == "over_budget"
    warning = " ".join(w.value for w in at.warning)
    assert "cut short" in warning and "training batch 256: " in warning
    assert rows["message"].iloc[-1] in warning


def test_profile_refuses_reduced_precision_on_cpu():
    at = pick_preset(run_page("pages/1_Profile.py"), "resnet20")
    at.multiselect(key="latency_batches").set_value([1])
    at.selectbox(key="latency_precision").set_value("bf16")
    at = finish_latency(at.button(key="latency_measure").click().run())
    assert_no_exception(at)
    assert any("bf16" in e.value for e in at.error)


@pytest.mark.parametrize(
    "name", ["resnet18", "resnet152", "resnext50_32x4d", "plain20", "wrn28_10"]
)
def test_diagrams_page_renders(name):
    at = pick_preset(run_page("pages/2_Diagrams.py"), name)
    assert_no_exception(at)
    assert at.title[0].value.startswith("Diagrams · ")
    assert len(at.get("graphviz_chart")) == 2  # network and block
    labels = [b.label for b in at.get("download_button")]
    assert "DOT" in labels


def test_diagrams_detail_and_stage_expansion():
    at = pick_preset(run_page("pages/2_Diagrams.py"), "resnet50")
    collapsed = at.get("graphviz_chart")[0].proto.spec
    at = at.radio[0].set_value(1).run()
    expanded = at.get("graphviz_chart")[0].proto.spec
    assert "layer3.5" in expanded and "layer3.5" not in collapsed
    at = at.radio[0].set_value(0).run()
    at = at.main.selectbox[0].set_value(2).run()
    one_stage = at.get("graphviz_chart")[0].proto.spec
    assert "layer3.5" in one_stage and "layer4.2" not in one_stage


def test_measured_latency_is_kept_in_the_library_for_compare(tmp_path, monkeypatch):
    monkeypatch.setenv("RESNET_EXPLORER_DB", str(tmp_path / "lib.sqlite3"))
    at = pick_preset(run_page("pages/1_Profile.py"), "resnet20")
    at.multiselect(key="latency_batches").set_value([1])
    at.multiselect(key="latency_modes").set_value(["inference"])
    at = finish_latency(at.button(key="latency_measure").click().run())
    assert_no_exception(at)
    from resnet_explorer.report.evidence import measured_latency
    from resnet_explorer.store import Store

    with Store(tmp_path / "lib.sqlite3") as store:
        profiles = store.profiles(design_hash=presets.get("resnet20").hash)
        assert len(profiles) == 1
        assert profiles[0].results["latency"]["device_name"] == "CPU only"
        kept = measured_latency(store, presets.get("resnet20").hash)
    rows = at.main.dataframe[-1].value
    if rows["status"].iloc[0] == "ok":
        assert kept is not None and kept.batch_size == 1
