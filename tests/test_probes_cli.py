"""``python -m resnet_explorer probe``: summary table, JSON, JSON lines, clear errors."""

from __future__ import annotations

import json

import pytest
from test_probes import TINY

from resnet_explorer.cli import main


@pytest.fixture
def tiny_file(tmp_path):
    path = tmp_path / "tiny.json"
    path.write_text(TINY.to_json())
    return str(path)


FAST = ["--dataset", "synthetic", "--batch-size", "8", "--threads", "1", "--eval-every", "0"]


def test_probe_json_and_jsonl(capsys, tmp_path, tiny_file):
    out_path = tmp_path / "runs.jsonl"
    code = main(
        [
            "probe",
            tiny_file,
            tiny_file,
            "--steps",
            "3",
            *FAST,
            "--json",
            "--json-out",
            str(out_path),
        ]
    )
    out, err = capsys.readouterr()
    assert code == 0, err
    doc = json.loads(out)
    assert doc["schema"] == "resnet-explorer/probe/v1" and doc["status"] == "done"
    assert [d["label"] for d in doc["designs"]] == ["tiny", "tiny#2"]
    assert all(d["steps"] == 3 and d["status"] == "done" for d in doc["designs"])
    assert doc["designs"][0]["final_train_loss"] == doc["designs"][1]["final_train_loss"]
    assert doc["config"]["steps"] == 3 and doc["dataset"]["name"] == "synthetic"
    lines = [json.loads(x) for x in out_path.read_text().splitlines()]
    assert all(x["schema"] == "resnet-explorer/probe/v1" for x in lines)
    assert sum(x["event"] == "step" for x in lines) == 6
    assert lines[-1]["event"] == "probe_end"
    assert "tiny" in err and "Traceback" not in err  # progress lines on stderr


def test_probe_table_with_an_experiment_and_a_time_budget(capsys):
    code = main(
        [
            "probe",
            "--experiment",
            "shortcut_options",
            "--seconds",
            "0.2",
            "--image-size",
            "8",
            *FAST,
        ]
    )
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "design" in out.splitlines()[1] and "train loss" in out
    for option in "ABCD":
        assert f"option {option}" in out
    assert "time budget" in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["probe"], "at least one design"),
        (["probe", "--experiment", "nope"], "unknown"),
        (["probe", "resnet9000"], "neither a preset"),
        (["probe", "resnet20", "--dataset", "imagenet"], "unknown"),
        (["probe", "resnet20", "--steps", "0"], "steps=0"),
        (["probe", "resnet20", "--depth", "20"], "--experiment"),
        (["probe", "--experiment", "zero_init", "--depth", "21"], "depth=21"),
    ],
)
def test_bad_input_exits_2_with_a_message(capsys, args, message):
    code = main(args)
    out, err = capsys.readouterr()
    assert code == 2 and message in err and "Traceback" not in err and out == ""


def test_steps_and_seconds_are_exclusive(capsys):
    with pytest.raises(SystemExit) as info:
        main(["probe", "resnet20", "--steps", "3", "--seconds", "1"])
    assert info.value.code == 2
    assert "not allowed with" in capsys.readouterr().err
