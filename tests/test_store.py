"""The library store: designs, profiles, runs; file recognition, migration, export / import."""

from __future__ import annotations

import json
import math
import sqlite3
from pathlib import Path

import pytest

from resnet_explorer import presets
from resnet_explorer.store import (
    EXPORT_SCHEMA,
    SCHEMA_VERSION,
    NameTakenError,
    NewerSchemaError,
    NotALibraryError,
    NotFoundError,
    Store,
    StoreError,
    default_path,
    dumps,
    loads,
)
from resnet_explorer.store.schema import APP_ID

R20 = presets.get("resnet20")
R50 = presets.get("resnet50")
R18 = presets.get("resnet18")


@pytest.fixture
def store(tmp_path):
    with Store(tmp_path / "lib.sqlite3") as s:
        yield s


def files_in(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


# --- designs ----------------------------------------------------------------------------------


def test_save_get_and_names_are_unique(store):
    saved = store.save_design("  baseline ", R20, tags="cifar, Small,cifar", notes="first try")
    assert saved.name == "baseline" and saved.design == R20 and saved.hash == R20.hash
    assert saved.tags == ("cifar", "Small") and saved.notes == "first try"
    assert saved.block_types == ("basic",)
    assert store.get_design("baseline") == saved
    with pytest.raises(NameTakenError, match="already saved"):
        store.save_design("baseline", R50)
    assert store.get_design("baseline").design == R20  # the refused save changed nothing
    # the same design under another name is fine
    assert store.save_design("baseline again", R20).hash == saved.hash
    replaced = store.save_design("baseline", R50, replace=True)
    assert replaced.design == R50 and replaced.created == saved.created
    assert replaced.updated >= saved.updated and replaced.tags == ()
    with pytest.raises(NotFoundError):
        store.get_design("nope")
    assert store.find_design("nope") is None


@pytest.mark.parametrize("name", ["", "   ", "a\nb", "x" * 121])
def test_bad_names_are_refused(store, name):
    with pytest.raises(StoreError):
        store.save_design(name, R20)
    assert store.counts()["designs"] == 0


def test_bad_tags_and_notes_are_refused(store):
    with pytest.raises(StoreError, match="tag"):
        store.save_design("a", R20, tags=["x" * 41])
    with pytest.raises(StoreError, match="notes"):
        store.save_design("a", R20, notes="n" * 20_001)


def test_search_filter_duplicate_rename_delete(store):
    store.save_design("ResNet-50 wide", R50, tags=["imagenet", "review"])
    store.save_design("cifar small", R20, tags=["CIFAR"])
    store.save_design("r18", R18, tags=["imagenet"])
    names = lambda found: [d.name for d in found]  # noqa: E731
    assert names(store.list_designs()) == ["cifar small", "r18", "ResNet-50 wide"]
    assert names(store.list_designs(query="RESNET")) == ["ResNet-50 wide"]
    assert names(store.list_designs(tag="cifar")) == ["cifar small"]
    assert names(store.list_designs(tag="imagenet", block="basic")) == ["r18"]
    assert names(store.list_designs(block="bottleneck")) == ["ResNet-50 wide"]
    assert names(store.list_designs(design_hash=R18.hash)) == ["r18"]
    assert names(store.list_designs(order="created", limit=1)) == ["r18"]
    assert store.all_tags() == ["CIFAR", "imagenet", "review"]
    with pytest.raises(StoreError, match="block type"):
        store.list_designs(block="transformer")

    copy = store.duplicate_design("r18")
    assert copy.name == "r18 (copy)" and copy.design == R18 and copy.tags == ("imagenet",)
    assert store.duplicate_design("r18").name == "r18 (copy 2)"
    assert store.duplicate_design("r18", "mine").name == "mine"
    with pytest.raises(NameTakenError):
        store.duplicate_design("r18", "mine")

    renamed = store.rename_design("mine", "theirs")
    assert renamed.name == "theirs" and store.find_design("mine") is None
    with pytest.raises(NameTakenError):
        store.rename_design("theirs", "r18")
    updated = store.update_design("theirs", notes="look at stage 3", tags="x")
    assert updated.notes == "look at stage 3" and updated.tags == ("x",)
    assert updated.design == R18

    gone = store.delete_design("theirs")
    assert gone.name == "theirs" and store.find_design("theirs") is None
    with pytest.raises(NotFoundError):
        store.delete_design("theirs")


# --- profiles and runs ------------------------------------------------------------------------


def test_profiles(store):
    first = store.add_profile(R20, device="cpu", settings={"batch": 8}, results={"ms": 1.5})
    store.add_profile(R20, device="cuda:0", settings={"batch": 8}, results={"ms": float("nan")})
    store.add_profile(R50, device="cpu", results={"ms": 30.0})
    assert first.design_hash == R20.hash and first.settings == {"batch": 8}
    assert [p.device for p in store.profiles(design_hash=R20.hash)] == ["cuda:0", "cpu"]
    assert store.profiles(device="cuda:0")[0].results == {"ms": None}  # NaN is stored as null
    with pytest.raises(StoreError, match="settings"):
        store.add_profile(R20, device="cpu", settings={"bad": object()})
    store.delete_profile(first.id)
    assert len(store.profiles()) == 2
    with pytest.raises(NotFoundError):
        store.delete_profile(first.id)


def test_run_lifecycle(store):
    run_id = store.start_run(R20, {"lr": 0.1, "steps": 3})
    run = store.get_run(run_id)
    assert run.status == "running" and run.finished is None and run.config["lr"] == 0.1
    assert run.design == R20 and run.steps == 0
    assert store.append_steps(run_id, [{"step": 0, "loss": 2.3, "acc": 0.1, "lr": 0.1}]) == 1
    store.append_steps(
        run_id,
        [
            {"step": 1, "loss": float("nan"), "acc": 0.2, "val_acc": 0.15},
            {"step": 2, "loss": 1.1, "val_loss": float("inf")},
        ],
    )
    steps = store.steps(run_id)
    assert [s.step for s in steps] == [0, 1, 2]
    assert steps[1].loss is None and steps[1].metrics == {"val_acc": 0.15}
    assert steps[2].row()["val_loss"] is None and steps[2].row()["loss"] == 1.1
    assert [s.step for s in store.steps(run_id, after=0)] == [1, 2]
    # a repeated step rolls back its whole batch
    with pytest.raises(StoreError, match="already recorded"):
        store.append_steps(run_id, [{"step": 3}, {"step": 2}])
    assert store.get_run(run_id).steps == 3
    with pytest.raises(StoreError, match="step"):
        store.append_steps(run_id, [{"loss": 1.0}])
    with pytest.raises(StoreError, match="loss"):
        store.append_steps(run_id, [{"step": 5, "loss": "low"}])

    done = store.finish_run(run_id, "completed")
    assert done.status == "completed" and done.finished is not None and done.last_step == 2
    with pytest.raises(StoreError, match="already ended"):
        store.finish_run(run_id, "failed")
    with pytest.raises(StoreError, match="completed"):
        store.append_steps(run_id, [{"step": 9}])
    with pytest.raises(StoreError, match="status"):
        store.finish_run(store.start_run(R20), "great")
    with pytest.raises(NotFoundError):
        store.append_steps("nope", [{"step": 0}])
    assert [r.run_id for r in store.runs(status="completed")] == [run_id]
    store.delete_run(run_id)
    assert store.counts()["steps"] == 0


def test_run_recorder_buffers_and_records_failure(store):
    with pytest.raises(RuntimeError), store.record_run(R20, {"lr": 0.1}, flush_every=2) as run:
        run.log(0, loss=2.0)
        assert store.get_run(run.run_id).steps == 0  # buffered
        run.log(1, loss=1.5)
        assert store.get_run(run.run_id).steps == 2  # committed
        run.log(2, loss=1.2)
        raise RuntimeError("diverged")
    ended = store.get_run(run.run_id)
    assert ended.status == "failed" and ended.error == "RuntimeError: diverged"
    assert ended.steps == 3  # the buffered step was flushed on the way out
    with store.record_run(R20) as ok:
        ok.log(0, acc=0.5)
    assert store.get_run(ok.run_id).status == "completed"


# --- locations and foreign files --------------------------------------------------------------


def test_default_path_precedence(monkeypatch, tmp_path):
    monkeypatch.delenv("RESNET_EXPLORER_DB", raising=False)
    monkeypatch.delenv("RESNET_EXPLORER_HOME", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert default_path() == tmp_path / "xdg" / "resnet-explorer" / "library.sqlite3"
    monkeypatch.setenv("RESNET_EXPLORER_HOME", str(tmp_path / "home"))
    assert default_path() == tmp_path / "home" / "library.sqlite3"
    monkeypatch.setenv("RESNET_EXPLORER_DB", str(tmp_path / "x.db"))
    assert default_path() == tmp_path / "x.db"
    assert Store(create=True).path == tmp_path / "x.db"
    assert Store(tmp_path / "y.db").path == tmp_path / "y.db"


def test_new_library_is_wal_and_recognisable(tmp_path):
    path = tmp_path / "deep" / "folder" / "lib.sqlite3"
    Store(path).close()
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA application_id").fetchone()[0] == APP_ID
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    conn.close()


def test_missing_file_without_create_makes_nothing(tmp_path):
    with pytest.raises(StoreError, match="no library"):
        Store(tmp_path / "none.sqlite3", create=False)
    assert list(tmp_path.iterdir()) == []


def test_empty_file_becomes_a_library(tmp_path):
    path = tmp_path / "empty.sqlite3"
    path.touch()
    Store(path).save_design("a", R20)
    assert Store(path).get_design("a").design == R20


def _foreign_sqlite(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT)")
    conn.execute("INSERT INTO notes (text) VALUES ('precious')")
    conn.commit()
    conn.close()


def _foreign_wal(path: Path) -> None:
    _foreign_sqlite(path)
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.close()


def _other_app(path: Path) -> None:
    _foreign_sqlite(path)
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA application_id = 1234")
    conn.close()


def _newer_library(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE future (x)")
    conn.execute(f"PRAGMA application_id = {APP_ID}")
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.commit()
    conn.close()


@pytest.mark.parametrize(
    ("make", "error", "message"),
    [
        (lambda p: p.write_text("my thesis\n" * 20), NotALibraryError, "not a SQLite"),
        (lambda p: p.write_bytes(b"SQLite format 3"), NotALibraryError, "not a SQLite"),
        (lambda p: p.write_bytes(bytes(range(256)) * 50), NotALibraryError, "not a SQLite"),
        (_foreign_sqlite, NotALibraryError, "tables: notes"),
        (_foreign_wal, NotALibraryError, "tables: notes"),
        (_other_app, NotALibraryError, "another application"),
        (_newer_library, NewerSchemaError, "newer ResNet Explorer"),
    ],
    ids=["text", "short", "binary", "sqlite", "sqlite-wal", "other-app", "newer-schema"],
)
def test_foreign_and_newer_files_are_refused_untouched(tmp_path, make, error, message):
    path = tmp_path / "lib.sqlite3"
    make(path)
    before = files_in(tmp_path)
    for create in (True, False):
        with pytest.raises(error, match=message) as info:
            Store(path, create=create)
        assert isinstance(info.value, ValueError) and "left untouched" in str(info.value)
    assert files_in(tmp_path) == before  # byte for byte, and no -wal / -shm left behind


def test_directory_is_refused(tmp_path):
    with pytest.raises(StoreError, match="directory"):
        Store(tmp_path)


# --- migration --------------------------------------------------------------------------------

V1_LAYOUT = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE designs (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,
    design_json TEXT NOT NULL, hash TEXT NOT NULL, tags TEXT NOT NULL DEFAULT '',
    notes TEXT NOT NULL DEFAULT '', created TEXT NOT NULL, updated TEXT NOT NULL);
CREATE TABLE profiles (id INTEGER PRIMARY KEY, design_hash TEXT NOT NULL,
    design_json TEXT NOT NULL, device TEXT NOT NULL, settings TEXT NOT NULL DEFAULT '{}',
    results TEXT NOT NULL DEFAULT '{}', created TEXT NOT NULL);
CREATE TABLE runs (run_id TEXT PRIMARY KEY, design_hash TEXT NOT NULL,
    design_json TEXT NOT NULL, config TEXT NOT NULL DEFAULT '{}', status TEXT NOT NULL,
    started TEXT NOT NULL, finished TEXT, error TEXT);
CREATE TABLE steps (run_id TEXT NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE,
    step INTEGER NOT NULL, loss REAL, acc REAL, lr REAL, time TEXT NOT NULL,
    PRIMARY KEY (run_id, step));
"""


def _v1_library(path: Path) -> None:
    """A schema-1 library as version 1 wrote it (rollback journal, tags as comma text)."""
    conn = sqlite3.connect(path)
    conn.executescript(V1_LAYOUT)
    t0 = "2024-05-01T10:00:00.000000Z"
    conn.execute("INSERT INTO meta VALUES ('created', ?)", (t0,))
    for name, design, tags in [("old r50", R50, "imagenet, review"), ("old r20", R20, "")]:
        conn.execute(
            "INSERT INTO designs (name, design_json, hash, tags, notes, created, updated) "
            "VALUES (?, ?, ?, ?, 'kept', ?, ?)",
            (name, design.to_json(), design.hash, tags, t0, t0),
        )
    conn.execute(
        "INSERT INTO profiles (design_hash, design_json, device, settings, results, created) "
        "VALUES (?, ?, 'cpu', '{}', '{\"ms\": 2.5}', ?)",
        (R20.hash, R20.to_json(), t0),
    )
    conn.execute(
        "INSERT INTO runs VALUES ('run1', ?, ?, '{\"lr\": 0.1}', 'completed', ?, ?, NULL)",
        (R20.hash, R20.to_json(), t0, "2024-05-01T11:00:00.000000Z"),
    )
    conn.executemany(
        "INSERT INTO steps VALUES ('run1', ?, ?, ?, 0.1, ?)",
        [(i, 2.0 / (i + 1), i / 10, t0) for i in range(5)],
    )
    conn.execute(f"PRAGMA application_id = {APP_ID}")
    conn.execute("PRAGMA user_version = 1")
    conn.commit()
    conn.close()


def test_migration_from_schema_1_keeps_everything(tmp_path):
    path = tmp_path / "lib.sqlite3"
    _v1_library(path)
    store = Store(path)
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    conn.close()

    r50 = store.get_design("old r50")
    assert r50.design == R50 and r50.tags == ("imagenet", "review") and r50.notes == "kept"
    assert r50.block_types == ("bottleneck",) and r50.created == "2024-05-01T10:00:00.000000Z"
    assert store.get_design("old r20").tags == ()
    assert [d.name for d in store.list_designs(tag="review")] == ["old r50"]
    assert [d.name for d in store.list_designs(block="basic")] == ["old r20"]
    assert store.profiles()[0].results == {"ms": 2.5}
    run = store.get_run("run1")
    assert run.status == "completed" and run.updated == "2024-05-01T11:00:00.000000Z"
    steps = store.steps("run1")
    assert [s.step for s in steps] == [0, 1, 2, 3, 4] and steps[4].acc == 0.4
    assert steps[0].metrics == {}
    # and the migrated library is fully usable
    run_id = store.start_run(R20)
    store.append_steps(run_id, [{"step": 0, "loss": 1.0, "val_acc": 0.3}])
    assert store.steps(run_id)[0].metrics == {"val_acc": 0.3}

    # the pre-migration copy is kept beside it, still a readable schema-1 library
    (backup,) = tmp_path.glob("lib.sqlite3.schema-v1-*.bak")
    conn = sqlite3.connect(backup)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 1
    assert conn.execute("SELECT tags FROM designs WHERE name = 'old r50'").fetchone()[0] == (
        "imagenet, review"
    )
    conn.close()
    Store(path).close()  # opening again migrates nothing more
    assert len(list(tmp_path.glob("*.bak"))) == 1


# --- export / import --------------------------------------------------------------------------


def _populate(store: Store) -> str:
    store.save_design("r50", R50, tags=["imagenet"], notes="the baseline")
    store.save_design("r20", R20, tags="cifar")
    store.add_profile(R50, device="cpu", settings={"batch": 1}, results={"ms": 40.0})
    run_id = store.start_run(R20, {"lr": 0.1})
    store.append_steps(
        run_id,
        [{"step": i, "loss": 2.0 - i / 10, "acc": i / 10, "val_acc": i / 20} for i in range(4)],
    )
    store.finish_run(run_id, "completed")
    return run_id


def _without_stamp(doc: dict) -> dict:
    return {k: v for k, v in doc.items() if k != "exported"}


def test_export_import_round_trip(tmp_path):
    a = Store(tmp_path / "a.sqlite3")
    run_id = _populate(a)
    doc = a.export_library()
    assert doc["schema"] == EXPORT_SCHEMA == "resnet-explorer/library/v1"
    text = dumps(doc)
    assert "NaN" not in text and loads(text) == doc

    b = Store(tmp_path / "b.sqlite3")
    report = b.import_library(text)
    assert report.designs_added == ["r50", "r20"] and report.runs_added == [run_id]
    assert report.profiles_added == 1
    assert _without_stamp(b.export_library()) == _without_stamp(doc)
    assert b.steps(run_id)[3].metrics == {"val_acc": 0.15}

    again = b.import_library(doc)  # importing twice adds nothing
    assert again.designs_unchanged == ["r50", "r20"] and again.runs_skipped == [run_id]
    assert again.profiles_unchanged == 1 and b.counts() == a.counts()

    only = a.export_library(["r20"])
    assert [d["name"] for d in only["designs"]] == ["r20"]
    assert [r["run_id"] for r in only["runs"]] == [run_id] and only["profiles"] == []
    with pytest.raises(NotFoundError):
        a.export_library(["nope"])


def test_import_never_overwrites(tmp_path):
    a = Store(tmp_path / "a.sqlite3")
    _populate(a)
    doc = a.export_library()
    b = Store(tmp_path / "b.sqlite3")
    mine = b.save_design("r50", R18, notes="my own r50")

    skipped = b.import_library(doc)
    assert skipped.designs_skipped == ["r50"] and skipped.designs_added == ["r20"]
    assert b.get_design("r50") == mine

    c = Store(tmp_path / "c.sqlite3")
    c.save_design("r50", R18)
    renamed = c.import_library(doc, on_conflict="rename")
    assert renamed.designs_renamed == [("r50", "r50 (imported)")]
    assert c.get_design("r50").design == R18 and c.get_design("r50 (imported)").design == R50
    with pytest.raises(StoreError, match="on_conflict"):
        c.import_library(doc, on_conflict="overwrite")


def test_bad_import_writes_nothing(tmp_path):
    a = Store(tmp_path / "a.sqlite3")
    _populate(a)
    doc = a.export_library()
    doc["designs"].append({"name": "broken", "design": {"stages": [{"blocks": 0, "width": 8}]}})
    b = Store(tmp_path / "b.sqlite3")
    with pytest.raises(StoreError, match=r"designs\[2\]\.design: invalid design"):
        b.import_library(doc)
    assert b.counts() == {"designs": 0, "profiles": 0, "runs": 0, "steps": 0}

    for bad, message in [
        ("{not json", "malformed"),
        ("[" * 5000 + "]" * 5000, "malformed"),
        ("[1, 2]", "not an object"),
        (json.dumps({"schema": "resnet-explorer/design/v1"}), "not a library export"),
        (json.dumps({"schema": "resnet-explorer/library/v1", "designs": {}}), "must be a list"),
    ]:
        with pytest.raises(StoreError, match=message):
            b.import_library(bad)
    with pytest.raises(NewerSchemaError, match="newer"):
        b.import_library({"schema": "resnet-explorer/library/v2", "designs": []})
    assert b.counts()["designs"] == 0


def test_non_finite_numbers_never_reach_json(store):
    run_id = store.start_run(R20, {"warmup": math.inf})
    store.append_steps(run_id, [{"step": 0, "acc": -math.inf}])
    text = dumps(store.export_library())
    assert json.loads(text)["runs"][0]["config"] == {"warmup": None}
