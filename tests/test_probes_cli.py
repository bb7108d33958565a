"""``python -m resnet_explorer probe``: summary table, JSON, JSON lines, clear errors."""

from __future__ import annotations

import json

import pytest

from resnet_explorer.cli import main

FAST = [
    *("--dataset", "synthetic", "--batch-size", "8", "--threads", "1", "--eval-every", "0"),
    *("--seeds", "1"),  # one run per design (the default is 3 seeds, 5 on a GPU)
]


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


# --- hostile input: devices, seeds, output files, probes that cannot fit -----------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--device", "meta"], "device='meta'"),
        (["--device", "cuda:x"], "device='cuda:x'"),
        (["--seed", str(2**70)], "seed=1180591620717411303424: must be 0..4294967295"),
        (["--seed", "-1"], "seed=-1"),
    ],
)
def test_bad_devices_and_seeds_exit_2(capsys, tiny_file, args, message):
    code = main(["probe", tiny_file, "--steps", "1", *FAST, *args])
    out, err = capsys.readouterr()
    assert code == 2 and err.startswith("error: ") and message in err, err
    assert "Traceback" not in err and out == ""


def test_json_out_to_a_device_or_an_existing_file_is_refused(capsys, tmp_path, tiny_file):
    code = main(["probe", tiny_file, "--steps", "1", *FAST, "--json-out", "/dev/full"])
    out, err = capsys.readouterr()
    assert code == 2 and err.startswith("error: ") and "/dev/full" in err and out == ""
    assert "character device" in err and "Traceback" not in err
    existing = tmp_path / "runs.jsonl"
    existing.write_text("keep me\n")
    code = main(["probe", tiny_file, "--steps", "1", *FAST, "--json-out", str(existing)])
    assert code == 2 and "--force" in capsys.readouterr().err
    assert existing.read_text() == "keep me\n"
    assert (
        main(["probe", tiny_file, "--steps", "1", *FAST, "--json-out", str(existing), "--force"])
        == 0
    )
    assert existing.read_text().count("\n") > 3


def test_a_disk_that_fills_up_mid_run_stops_the_probe_with_a_message(
    capsys, tmp_path, tiny_file, monkeypatch
):
    import resnet_explorer.files as files

    class Full:
        def write(self, _text):
            raise OSError(28, "No space left on device")

        def flush(self):
            pass

        def close(self):
            pass

    monkeypatch.setattr(files, "open_output", lambda *a, **k: Full())
    code = main(["probe", tiny_file, "--steps", "50", *FAST, "--json-out", str(tmp_path / "x")])
    err = capsys.readouterr().err
    assert code == 2 and "cannot write events file" in err and "No space left" in err
    assert "Traceback" not in err


_HUGE = {
    "stem_width": 525,
    "stages": [
        {"blocks": 2, "width": 525 * m, "stride": s} for m, s in ((1, 1), (2, 2), (4, 2), (8, 2))
    ],
}


@pytest.mark.parametrize(
    ("args", "limit_mb"),
    [
        (["resnet18", "--image-size", "2048"], None),  # 5,000 digits at 2,048 px, and its batch
        (["resnet18", "--image-size", "1024", "--dataset", "synthetic"], None),
        (["HUGE", "--image-size", "32"], 8000),  # 755 M parameters: 11 GiB of weights and state
    ],
)
def test_a_probe_that_cannot_fit_is_refused_before_it_starts(
    capsys, tmp_path, monkeypatch, args, limit_mb
):
    from resnet_explorer import presets

    if args[0] == "HUGE":
        path = tmp_path / "huge.json"
        path.write_text(presets.get("resnet18").replace(**_HUGE).to_json())
        args = [str(path), *args[1:]]
    if limit_mb:
        monkeypatch.setenv("RESNET_EXPLORER_PROBE_MEMORY_MB", str(limit_mb))
    code = main(["probe", *args, "--steps", "1", "--threads", "1"])
    out, err = capsys.readouterr()
    assert code == 2 and err.startswith("error: this probe would need about "), err
    assert "GiB" in err and "the limit is" in err and "Traceback" not in err and out == ""
