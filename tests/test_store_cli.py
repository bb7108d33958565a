"""``python -m resnet_explorer library ...``: exit codes, messages and the JSON contract."""

from __future__ import annotations

import json

import pytest

from resnet_explorer import Design, presets
from resnet_explorer.cli import main
from resnet_explorer.store import Store


@pytest.fixture
def db(tmp_path):
    return str(tmp_path / "lib.sqlite3")


def cli(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["library", *args])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out, err


def test_save_list_show(capsys, db, tmp_path):
    code, out, _ = cli(capsys, "save", "resnet56", "--db", db, "--tags", "cifar,deep", "--json")
    assert code == 0
    doc = json.loads(out)
    assert doc["schema"] == "resnet-explorer/library-save/v1"
    assert doc["name"] == "resnet56" and doc["tags"] == ["cifar", "deep"]
    assert doc["hash"] == presets.get("resnet56").hash

    token = presets.get("resnet50").replace(shortcut="C").to_url()
    assert cli(capsys, "--db", db, "save", token, "--name", "r50 C", "--notes", "all proj")[0] == 0
    path = tmp_path / "mine.json"
    path.write_text(presets.get("resnet18").to_json())
    assert cli(capsys, "save", str(path), "--db", db)[0] == 0

    code, out, _ = cli(capsys, "list", "--db", db, "--json")
    doc = json.loads(out)
    assert doc["schema"] == "resnet-explorer/library-list/v1" and doc["db"] == db
    assert [d["name"] for d in doc["designs"]] == ["mine", "r50 C", "resnet56"]
    code, out, _ = cli(capsys, "list", "--db", db, "--block", "bottleneck", "--json")
    assert [d["name"] for d in json.loads(out)["designs"]] == ["r50 C"]
    code, out, _ = cli(capsys, "list", "--db", db, "--tag", "CIFAR")
    assert code == 0 and out.startswith("resnet56") and "cifar, deep" in out

    code, out, _ = cli(capsys, "show", "r50 C", "--db", db, "--json")
    doc = json.loads(out)
    assert doc["schema"] == "resnet-explorer/library-show/v1" and doc["notes"] == "all proj"
    assert Design.from_dict(doc["design"]).shortcut == "C"
    assert Design.from_url(doc["url_token"]).hash == doc["hash"] and doc["runs"] == []
    code, out, _ = cli(capsys, "show", "resnet56", "--db", db)
    assert code == 0 and Design.from_json(out.split("\n#")[0]) == presets.get("resnet56")


def test_errors_exit_2_with_a_message(capsys, db, tmp_path):
    assert cli(capsys, "save", "resnet20", "--db", db)[0] == 0
    code, out, err = cli(capsys, "save", "resnet20", "--db", db)
    assert code == 2 and "already saved" in err and "--replace" in err and out == ""
    assert cli(capsys, "save", "resnet20", "--db", db, "--replace", "--notes", "v2")[0] == 0
    code, _, err = cli(capsys, "show", "nope", "--db", db)
    assert code == 2 and "no design named 'nope'" in err
    code, _, err = cli(capsys, "save", "resnet9000", "--db", db)
    assert code == 2 and "neither a preset" in err
    code, _, err = cli(capsys, "save", "resnet20", "--db", db, "--name", "x", "--tags", "a" * 50)
    assert code == 2 and "tag" in err

    thesis = tmp_path / "thesis.txt"
    thesis.write_text("years of work\n" * 10)
    code, _, err = cli(capsys, "list", "--db", str(thesis))
    assert code == 2 and "not a ResNet Explorer library" in err
    code, _, err = cli(capsys, "save", "resnet20", "--db", str(thesis))
    assert code == 2 and thesis.read_text() == "years of work\n" * 10


def test_reading_a_missing_library_creates_nothing(capsys, tmp_path):
    db = str(tmp_path / "none.sqlite3")
    code, out, _ = cli(capsys, "list", "--db", db, "--json")
    assert code == 0 and json.loads(out)["designs"] == []
    assert cli(capsys, "show", "x", "--db", db)[0] == 2
    code, out, _ = cli(capsys, "export", "--db", db)
    assert code == 0 and json.loads(out)["designs"] == []
    assert list(tmp_path.iterdir()) == []


def test_environment_variable_selects_the_library(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("RESNET_EXPLORER_DB", str(tmp_path / "env.sqlite3"))
    assert cli(capsys, "save", "resnet20")[0] == 0
    assert Store(tmp_path / "env.sqlite3").get_design("resnet20").design.num_classes == 10


def test_delete_needs_yes(capsys, db):
    cli(capsys, "save", "resnet20", "--db", db)
    code, _, err = cli(capsys, "delete", "resnet20", "--db", db)
    assert code == 2 and "--yes" in err
    assert Store(db).find_design("resnet20") is not None
    code, _, err = cli(capsys, "delete", "nope", "--db", db, "--yes")
    assert code == 2 and "no design named" in err
    code, out, _ = cli(capsys, "delete", "resnet20", "--db", db, "--yes", "--json")
    assert code == 0 and json.loads(out)["deleted"]["name"] == "resnet20"
    assert Store(db).find_design("resnet20") is None


def test_export_import(capsys, db, tmp_path):
    cli(capsys, "save", "resnet20", "--db", db, "--tags", "cifar")
    cli(capsys, "save", "resnet50", "--db", db)
    store = Store(db)
    run_id = store.start_run(presets.get("resnet20"), {"lr": 0.1})
    store.append_steps(run_id, [{"step": 0, "loss": 2.3}])
    out_file = tmp_path / "lib.json"

    code, _, err = cli(capsys, "export", "--db", db, "-o", str(out_file))
    assert code == 0 and "exported 2 designs" in err
    doc = json.loads(out_file.read_text())
    assert doc["schema"] == "resnet-explorer/library/v1" and len(doc["runs"]) == 1
    before = out_file.read_bytes()
    code, _, err = cli(capsys, "export", "--db", db, "-o", str(out_file))
    assert code == 2 and "--force" in err and out_file.read_bytes() == before
    code, out, _ = cli(capsys, "export", "resnet20", "--db", db, "--no-runs")
    assert [d["name"] for d in json.loads(out)["designs"]] == ["resnet20"]
    assert json.loads(out)["runs"] == []

    other = str(tmp_path / "other.sqlite3")
    cli(capsys, "save", "resnet18", "--db", other, "--name", "resnet50")  # a clash
    code, out, _ = cli(capsys, "import", str(out_file), "--db", other, "--json")
    doc = json.loads(out)
    assert code == 0 and doc["schema"] == "resnet-explorer/library-import/v1"
    assert doc["designs_added"] == ["resnet20"] and doc["designs_skipped"] == ["resnet50"]
    assert doc["runs_added"] == [run_id]
    code, out, _ = cli(capsys, "import", str(out_file), "--db", other, "--on-conflict", "rename")
    assert code == 0 and "'resnet50' saved as 'resnet50 (imported)'" in out
    assert Store(other).get_design("resnet50").design == presets.get("resnet18")

    code, _, err = cli(capsys, "import", str(tmp_path / "missing.json"), "--db", other)
    assert code == 2 and "does not exist" in err
    bad = tmp_path / "bad.json"
    bad.write_text('{"schema": "resnet-explorer/presets/v1"}')
    code, _, err = cli(capsys, "import", str(bad), "--db", other)
    assert code == 2 and "not a library export" in err
