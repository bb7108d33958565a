"""AppTest: the Library page (save, find, open, duplicate, delete with confirmation, runs)."""

from __future__ import annotations

import pytest
from apptest_helpers import assert_no_exception, button, run_page

from resnet_explorer import presets
from resnet_explorer.store import Store

PAGE = "pages/4_Library.py"


@pytest.fixture
def db(app_db):
    return app_db


def _names(at) -> list[str]:
    return at.dataframe[0].value["name"].tolist()


def test_empty_library_renders(db):
    at = run_page(PAGE)
    assert_no_exception(at)
    assert at.title[0].value == "Library"
    assert any("library is empty" in i.value for i in at.info)
    assert any("No probe runs yet" in i.value for i in at.info)


def test_save_the_current_design_and_never_overwrite(db):
    at = run_page(PAGE)
    assert at.text_input(key="lib_name").value == "ResNet-18"
    at.text_input(key="lib_name").input("baseline")
    at.text_input(key="lib_tags").input("imagenet, review")
    at.text_area(key="lib_notes").input("the reference")
    at = at.button[0].click().run()
    assert_no_exception(at)
    assert any("Saved **baseline**" in s.value for s in at.success)
    saved = Store(db).get_design("baseline")
    assert saved.design == presets.get("resnet18")
    assert saved.tags == ("imagenet", "review") and saved.notes == "the reference"
    assert _names(at) == ["baseline"]

    at = at.button[0].click().run()  # the same name again
    assert_no_exception(at)
    assert any("Not saved" in e.value and "baseline" in e.value for e in at.error)
    assert Store(db).get_design("baseline").notes == "the reference"


def test_search_and_filter(db):
    store = Store(db)
    store.save_design("r50 review", presets.get("resnet50"), tags="review")
    store.save_design("r18 base", presets.get("resnet18"), tags="base")
    store.save_design("cifar r20", presets.get("resnet20"))
    at = run_page(PAGE)
    assert _names(at) == ["cifar r20", "r18 base", "r50 review"]
    at = at.text_input(key="lib_query").input("r5").run()
    assert _names(at) == ["r50 review"]
    at = at.text_input(key="lib_query").input("").run()
    at = at.selectbox(key="lib_tag").set_value("base").run()
    assert _names(at) == ["r18 base"]
    at = at.selectbox(key="lib_tag").set_value("(any)").run()
    at = at.selectbox(key="lib_block").set_value("bottleneck").run()
    assert _names(at) == ["r50 review"]
    at = at.text_input(key="lib_query").input("zzz").run()
    assert_no_exception(at)
    assert any("Nothing matches" in i.value for i in at.info)


def test_open_loads_the_design_into_the_editor(db):
    design = presets.get("resnet50").replace(shortcut="C")
    Store(db).save_design("r50 C", design)
    at = run_page(PAGE)
    at = button(at, "lib_open").click().run()
    assert_no_exception(at)
    assert at.session_state["design"] == design
    origin = at.session_state["design_origin"]  # the library design, no preset claimed
    assert (origin.preset, origin.library, origin.design) == (None, "r50 C", design)
    assert at.title[0].value == "Library"
    assert any("Opened **r50 C**" in s.value for s in at.success)
    assert at.sidebar.selectbox(key="ed_shortcut").value == "C"


def test_duplicate(db):
    Store(db).save_design("net", presets.get("resnet20"))
    at = run_page(PAGE)
    at = button(at, "lib_dup").click().run()
    assert_no_exception(at)
    assert _names(at) == ["net", "net (copy)"]
    at.text_input(key="lib_copy_name").input("my twin")
    at = button(at, "lib_dup").click().run()
    assert "my twin" in _names(at)


def test_delete_needs_confirmation_and_can_be_undone(db):
    Store(db).save_design("keep me", presets.get("resnet20"), notes="precious")
    at = run_page(PAGE)
    at = button(at, "lib_delete").click().run()
    assert any("Delete **keep me**" in w.value for w in at.warning)
    assert Store(db).find_design("keep me") is not None  # not yet
    at = button(at, "lib_delete_no").click().run()
    assert Store(db).find_design("keep me") is not None
    assert not any("Delete **keep me**" in w.value for w in at.warning)

    at = button(at, "lib_delete").click().run()
    at = button(at, "lib_delete_yes").click().run()
    assert_no_exception(at)
    assert Store(db).find_design("keep me") is None
    assert any("Deleted **keep me**" in i.value for i in at.info)
    at = button(at, "lib_undo").click().run()
    assert_no_exception(at)
    assert Store(db).get_design("keep me").notes == "precious"


def test_run_history_with_curves(db):
    store = Store(db)
    design = presets.get("resnet20")
    store.save_design("r20", design)
    run_id = store.start_run(design, {"lr": 0.1})
    store.append_steps(run_id, [{"step": i, "loss": 2 - i / 10, "acc": i / 10} for i in range(5)])
    store.finish_run(run_id, "completed")
    live = store.start_run(presets.get("plain20"))
    store.append_steps(live, [{"step": 0, "loss": 2.3}])
    at = run_page(PAGE)
    assert_no_exception(at)
    runs = at.dataframe[1].value
    assert set(runs["run"]) == {run_id, live}
    assert dict(zip(runs["run"], runs["design"], strict=True)) == {run_id: "r20", live: "plain20"}
    assert dict(zip(runs["run"], runs["status"], strict=True))[live] == "running"
    assert at.selectbox(key="lib_run_metric").options[:2] == ["loss", "acc"]
    assert len(at.get("plotly_chart")) == 1


def test_a_file_that_is_not_a_library_gets_a_message(db):
    db.write_bytes(b"SQLite? no: someone else's file")
    at = run_page(PAGE)
    assert_no_exception(at)
    assert any(
        "cannot be opened" in e.value and "not a ResNet Explorer library" in e.value
        for e in at.error
    )
    assert db.read_bytes() == b"SQLite? no: someone else's file"


def test_probe_runs_are_named_by_their_probe_label(db):
    store = Store(db)
    trained = presets.get("plain20").replace(image_size=16)  # as a probe trains it
    run_id = store.start_run(trained, {"label": "plain20", "job": "j1"})
    store.append_steps(run_id, [{"step": 0, "loss": 2.3}])
    at = run_page(PAGE)
    assert_no_exception(at)
    runs = next(d.value for d in at.main.dataframe if "run" in d.value.columns)
    assert dict(zip(runs["run"], runs["design"], strict=True)) == {run_id: "plain20"}
