"""Hostile libraries (issue 16): damaged rows, special files, read-only and foreign files, out
of range numbers. Reading never writes; a failed import leaves nothing behind."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import threading
from pathlib import Path

import pytest

from resnet_explorer import presets
from resnet_explorer.cli import main
from resnet_explorer.store import SCHEMA_VERSION, Store, StoreError
from resnet_explorer.store.schema import APP_ID

R20 = presets.get("resnet20")
R50 = presets.get("resnet50")


def cli(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["library", *args])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out, err


def files_in(folder: Path) -> dict[str, bytes]:
    """Every file but SQLite's -wal / -shm companions (a read-only reader of a WAL library may
    leave them, empty; the library itself is what must stay byte for byte)."""
    return {
        p.name: p.read_bytes()
        for p in sorted(folder.iterdir())
        if p.is_file() and not p.name.endswith(("-wal", "-shm"))
    }


def _damaged_library(path: Path) -> str:
    store = Store(path)
    store.save_design("good", R20, tags="cifar")
    store.save_design("bad tags", R50)
    store.save_design("bad design", R50)
    store.add_profile(R50, device="cpu", results={"ms": 1.0})
    store.add_profile(R20, device="cpu", results={"ms": 2.0})
    run_id = store.start_run(R20, {"lr": 0.1})
    store.append_steps(run_id, [{"step": 0, "loss": 1.0}, {"step": 1, "loss": 0.5}])
    bad_run = store.start_run(R50, {"lr": 0.2})
    store.close()
    conn = sqlite3.connect(path)
    conn.execute("UPDATE designs SET tags = '[not json' WHERE name = 'bad tags'")
    conn.execute("UPDATE designs SET design_json = '{\"stages\": [' WHERE name = 'bad design'")
    conn.execute("UPDATE profiles SET settings = 'NaN]' WHERE design_hash = ?", (R50.hash,))
    conn.execute("UPDATE runs SET config = '5' WHERE run_id = ?", (bad_run,))
    conn.execute("UPDATE steps SET metrics = '{' WHERE step = 1")
    conn.commit()
    conn.close()
    return run_id


def test_damaged_rows_are_skipped_and_named_and_nothing_is_rewritten(capsys, tmp_path):
    db = tmp_path / "lib.sqlite3"
    run_id = _damaged_library(db)
    before = files_in(tmp_path)

    code, out, err = cli(capsys, "list", "--db", str(db), "--json")
    assert code == 0
    assert [d["name"] for d in json.loads(out)["designs"]] == ["bad design", "good"]
    assert "design 'bad tags': its tags" in err and err.startswith("warning: ")

    code, out, err = cli(capsys, "show", "good", "--db", str(db), "--json")
    assert code == 0 and json.loads(out)["name"] == "good"
    code, _, err = cli(capsys, "show", "bad tags", "--db", str(db))
    assert code == 2 and "design 'bad tags'" in err and "not" in err
    code, _, err = cli(capsys, "show", "bad design", "--db", str(db))
    assert code == 2 and "error: " in err

    code, out, err = cli(capsys, "export", "--db", str(db))
    doc = json.loads(out)
    assert code == 0 and [d["name"] for d in doc["designs"]] == ["good"]
    assert len(doc["profiles"]) == 1 and [r["run_id"] for r in doc["runs"]] == [run_id]
    assert [s["step"] for s in doc["runs"][0]["steps"]] == [0]
    for named in ("design 'bad tags'", "design 'bad design'", "profile", "run '", "step 1"):
        assert named in err, (named, err)

    export = tmp_path / "good.json"
    export.write_text(out)
    code, out, err = cli(capsys, "import", str(export), "--db", str(db), "--json")
    assert code == 0 and json.loads(out)["designs_unchanged"] == ["good"]
    assert files_in(tmp_path)["lib.sqlite3"] == before["lib.sqlite3"]  # nothing to add

    api = Store(db, read_only=True)
    assert [d.name for d in api.list_designs(tag="CIFAR")] == ["good"]
    assert api.all_tags() == ["cifar"] and len(api.damaged) == 1


def test_reading_commands_never_write(capsys, tmp_path):
    db = tmp_path / "lib.sqlite3"
    _damaged_library(db)
    before = files_in(tmp_path)
    for args in (["list"], ["show", "good"], ["export"], ["list", "--tag", "x"]):
        cli(capsys, *args, "--db", str(db))
    assert files_in(tmp_path) == before
    store = Store(db, read_only=True)
    with pytest.raises(StoreError, match="reading only"):
        store.save_design("new", R20)
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        store._conn().execute("CREATE TABLE mine (x)")  # SQLite itself refuses


def _as_user_nobody(argv: list[str]) -> list:
    """Run the CLI in a forked child that dropped root (uid 65534): root may write anything, so
    only an ordinary user shows what a read-only library does. (code, stdout, stderr)"""
    import contextlib
    import io

    import resnet_explorer.cli.library_cmd  # imported before the privileges drop
    import resnet_explorer.store.library  # noqa: F401

    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        try:
            os.close(read)
            os.setgid(65534)
            os.setuid(65534)
            out, err = io.StringIO(), io.StringIO()
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                code = main(argv)
            os.write(write, json.dumps([code, out.getvalue(), err.getvalue()]).encode())
        except BaseException as exc:  # say why (e.g. the checkout is unreadable to nobody)
            os.write(write, json.dumps([-1, "", f"the child failed: {exc!r}"]).encode())
        finally:
            os._exit(0)
    os.close(write)
    data = b""
    while chunk := os.read(read, 1 << 16):
        data += chunk
    os.close(read)
    os.waitpid(pid, 0)
    return json.loads(data)


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to become an ordinary user")
def test_a_read_only_library_can_be_listed():
    import shutil
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="ro-library-", dir="/tmp"))  # not under /root
    try:
        db = folder / "lib.sqlite3"
        Store(db).save_design("kept", R20)
        db.chmod(0o444)
        folder.chmod(0o555)
        code, out, err = _as_user_nobody(["library", "list", "--db", str(db), "--json"])
        assert code == 0, err
        assert [d["name"] for d in json.loads(out)["designs"]] == ["kept"]
        code, out, err = _as_user_nobody(["library", "export", "--db", str(db)])
        assert code == 0 and json.loads(out)["designs"][0]["name"] == "kept", err
        code, _, err = _as_user_nobody(["library", "save", "resnet18", "--db", str(db)])
        assert code == 2 and "readonly" in err  # writing is refused with a message
        assert list(files_in(folder)) == ["lib.sqlite3"]
    finally:
        folder.chmod(0o755)
        shutil.rmtree(folder)


def _empty_sqlite(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA page_size = 4096")
    conn.execute("VACUUM")
    conn.close()


def _fake_v1(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE unrelated (x)")
    conn.execute("DROP TABLE unrelated")
    conn.execute(f"PRAGMA application_id = {APP_ID}")
    conn.execute("PRAGMA user_version = 1")
    conn.commit()
    conn.close()


@pytest.mark.parametrize("make", [Path.touch, _empty_sqlite], ids=["0-byte", "empty-sqlite"])
def test_read_commands_leave_empty_files_alone(capsys, tmp_path, make):
    db = tmp_path / "lib.sqlite3"
    make(db)
    before = files_in(tmp_path)
    for _ in range(2):
        code, out, _ = cli(capsys, "list", "--db", str(db), "--json")
        assert code == 0 and json.loads(out)["designs"] == []
        assert cli(capsys, "export", "--db", str(db))[0] == 0
        assert cli(capsys, "show", "x", "--db", str(db))[0] == 2
    assert files_in(tmp_path) == before
    assert cli(capsys, "save", "resnet20", "--db", str(db))[0] == 0  # writing initialises it
    assert Store(db).get_design("resnet20").design == R20


def test_a_fake_old_library_gets_no_backup_per_attempt(capsys, tmp_path):
    db = tmp_path / "lib.sqlite3"
    _fake_v1(db)
    before = files_in(tmp_path)
    for args in (["list"], ["export"], ["save", "resnet20"], ["save", "resnet20"]):
        code, _, err = cli(capsys, *args, "--db", str(db))
        assert code == 2 and "library" in err, args
    assert files_in(tmp_path) == before  # no .bak, no -wal / -shm, the file as it was


def test_an_old_library_is_read_without_being_migrated(tmp_path):
    from test_store import _v1_library

    db = tmp_path / "lib.sqlite3"
    _v1_library(db)
    before = files_in(tmp_path)
    store = Store(db, read_only=True)
    assert store.get_design("old r50").tags == ("imagenet", "review")
    assert store.steps("run1")[0].metrics == {}
    store.close()
    assert files_in(tmp_path) == before
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 1
    conn.close()
    Store(db).close()  # writing migrates (with its one backup)
    assert len(list(tmp_path.glob("*.bak"))) == 1
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    conn.close()


ACTIONS = [
    ["list"],
    ["save", "resnet20"],
    ["show", "x"],
    ["delete", "x", "--yes"],
    ["export"],
    ["import", "{export}"],
]


@pytest.mark.parametrize("action", ACTIONS, ids=[a[0] for a in ACTIONS])
def test_a_fifo_as_library_is_refused_at_once(capsys, tmp_path, action):
    fifo = tmp_path / "lib.fifo"
    os.mkfifo(fifo)
    export = tmp_path / "e.json"
    export.write_text(json.dumps({"schema": "resnet-explorer/library/v1"}))
    args = [a.replace("{export}", str(export)) for a in action]
    box: dict = {}
    thread = threading.Thread(
        target=lambda: box.update(result=cli(capsys, *args, "--db", str(fifo))), daemon=True
    )
    thread.start()
    thread.join(20)
    assert not thread.is_alive(), "the command waited on the FIFO"
    code, _, err = box["result"]
    assert code == 2 and "FIFO" in err
    assert stat.S_ISFIFO(fifo.lstat().st_mode)


def test_a_failed_import_leaves_no_new_library(capsys, tmp_path):
    db = tmp_path / "new" / "lib.sqlite3"
    bad = tmp_path / "bad.json"
    for doc in (
        {"schema": "resnet-explorer/library/v1", "designs": [{"name": "x", "design": {}}, {}]},
        {"schema": "resnet-explorer/library/v1", "runs": [{"run_id": "r", "design": {},
         "status": "completed", "steps": [{"step": 2**63}]}]},
    ):  # fmt: skip
        bad.write_text(json.dumps(doc))
        code, _, err = cli(capsys, "import", str(bad), "--db", str(db))
        assert code == 2 and err.startswith("error: ")
        assert not db.exists() and not db.parent.exists()


@pytest.mark.parametrize(
    ("step", "message"),
    [
        ({"step": 10**30}, "31 digits"),
        ({"step": 2**63}, "'step' must be a whole number 0..9,223,372,036,854,775,807"),
        ({"step": 1, "loss": 10**400}, "401 digits"),
        ({"step": 1, "grad": 10**25}, "does not fit in 64 bits"),
        ({"step": 1, "grad": {"deep": -(10**20)}}, "grad.deep"),
    ],
)
def test_numbers_out_of_range_in_an_import_are_refused(tmp_path, step, message):
    doc = {
        "schema": "resnet-explorer/library/v1",
        "runs": [{"run_id": "r1", "design": {}, "status": "completed", "steps": [step]}],
    }
    store = Store(tmp_path / "lib.sqlite3")
    for given in (json.dumps(doc), doc):
        if isinstance(given, dict) and "digits" in message:
            continue  # only text has digits to count
        with pytest.raises(StoreError, match=message):
            store.import_library(given)
    assert store.counts()["runs"] == 0
    with pytest.raises(StoreError, match="64 bits"):
        store.add_profile(R20, device="cpu", results={"n": 10**19})
