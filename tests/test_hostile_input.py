"""Hostile input (issue 16): each input that once gave a traceback now gives ``error: ...``
naming it, exit 2, and writes nothing. The fuzz corpus (tests/fuzz/) feeds many more."""

from __future__ import annotations

import base64
import json
import sys
import zlib

import pytest

from resnet_explorer import Design, DesignError, presets
from resnet_explorer.cli import main
from resnet_explorer.explore import BackendError, EvalOptions, Space, SpaceError, explore
from resnet_explorer.explore.backends import Outcome, make_backend
from resnet_explorer.limits import Limits

EXAMPLE = "examples/space_cifar.json"
BIG = "1" + "0" * 5000  # 5,001 digits: Python refuses to parse more than 4,300


def cli(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out, err


# --- JSON with huge integers ------------------------------------------------------------------


def test_5000_digit_integers_in_a_design_a_space_and_an_import(capsys, tmp_path):
    db = str(tmp_path / "lib.sqlite3")
    cases = [
        ("design.json", f'{{"image_size": {BIG}}}', ["design", "{}"]),
        ("space.json", f'{{"seed": {BIG}}}', ["explore", "{}", "--samples", "1"]),
        ("lib.json", f'{{"schema": {BIG}}}', ["library", "import", "{}", "--db", db]),
    ]
    for name, text, args in cases:
        path = tmp_path / name
        path.write_text(text)
        argv = [str(path) if a == "{}" else a for a in args]
        code, out, err = cli(capsys, *argv)
        assert code == 2 and out == "", argv
        assert err.startswith("error: ") and "5,001 digits" in err, err
    assert not (tmp_path / "lib.sqlite3").exists()
    with pytest.raises(DesignError, match="5,001 digits"):
        Design.from_json(f'{{"num_classes": {BIG}}}')
    with pytest.raises(SpaceError, match="5,001 digits"):
        Space.from_json(f'{{"knobs": {{"groups": {{"choices": [{BIG}]}}}}}}')


# --- the design is strict ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"image_size": "224"}, "image_size = '224': Input should be a valid integer"),
        ({"image_size": 224.0}, "image_size = 224.0: Input should be a valid integer"),
        ({"image_size": True}, "image_size = True: Input should be a valid integer"),
        ({"num_classes": "10"}, "num_classes = '10'"),
        ({"zero_init_residual": "yes"}, "zero_init_residual = 'yes': Input should be a valid bool"),
        ({"final_norm": 1}, "final_norm = 1: Input should be a valid boolean"),
        ({"dropout": "0.1"}, "dropout = '0.1': Input should be a valid number"),
        ({"width_factor": True}, "width_factor = True"),
        ({"stages": [{"blocks": "2", "width": 64}]}, "stages[0].blocks = '2'"),
        ({"stages": [{"blocks": 2, "width": 64.0}]}, "stages[0].width = 64.0"),
        ({"stages": [{"blocks": 2, "width": 64, "stride": True}]}, "stages[0].stride = True"),
        ({"stages": [{"blocks": 2, "width": 64, "stride": 2.0}]}, "Input should be 1 or 2"),
    ],
)
def test_lax_values_are_refused(fields, message):
    with pytest.raises(DesignError) as info:
        Design.from_dict(fields)
    assert message in str(info.value)


def test_strict_design_keeps_json_lists_and_whole_floats():
    design = Design.from_json(
        '{"stages": [{"blocks": 1, "width": 8, "stride": 1}], "width_factor": 2, "dropout": 0}'
    )
    assert design.stages[0].blocks == 1 and design.width_factor == 2.0
    assert Design(stages=[{"blocks": 1, "width": 8}]).stages[0].width == 8
    for name in presets.names():
        assert Design.from_json(presets.get(name).to_json()) == presets.get(name)


# --- share links ------------------------------------------------------------------------------


def _token(raw: bytes) -> str:
    return "v1." + base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.mark.parametrize(
    "extra",
    [b"trailing bytes", zlib.compress(b'{"num_classes": 3}'), b"\x00"],
    ids=["trailing-bytes", "second-stream", "one-zero-byte"],
)
def test_a_link_with_anything_after_the_design_is_refused(extra):
    good = Design(num_classes=7).to_url()
    body = good[3:]
    raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    assert Design.from_url(_token(raw)) == Design(num_classes=7)
    with pytest.raises(DesignError, match="damaged or incomplete"):
        Design.from_url(_token(raw + extra))


def test_link_errors_speak_of_the_link_not_of_zlib():
    good = Design(num_classes=7).to_url()
    for token in (good[:-6], good[:3] + "A" * 40, good + "!", "v1.eNo"):
        with pytest.raises(DesignError) as info:
            Design.from_url(token)
        assert "this design link is damaged or incomplete" in str(info.value)
        assert "Error -" not in str(info.value) and "decompress" not in str(info.value)


# --- size caps from the environment -----------------------------------------------------------


@pytest.mark.parametrize("value", ["inf", "1e400", "-inf", "nan", "0", "-5", "lots", "1e16"])
@pytest.mark.parametrize(
    "name", ["RESNET_EXPLORER_MAX_PARAMS", "RESNET_EXPLORER_MAX_ACTIVATION_MB"]
)
def test_a_cap_that_is_not_a_finite_positive_number_is_refused(monkeypatch, capsys, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(DesignError, match=name):
        Limits.from_env()
    token = Design(num_classes=913).to_url()  # a design no other test drew (diagrams are cached)
    code, out, err = cli(capsys, "diagram", token)
    assert code == 2 and out == "" and name in err and "finite positive number" in err


def test_usable_caps_still_work(monkeypatch):
    monkeypatch.setenv("RESNET_EXPLORER_MAX_PARAMS", "1e6")
    monkeypatch.setenv("RESNET_EXPLORER_MAX_ACTIVATION_MB", "64")
    assert Limits.from_env() == Limits(max_params=1_000_000, max_activation_bytes=64 * 1024**2)


# --- explore ----------------------------------------------------------------------------------


def test_a_tiny_step_is_refused_when_the_space_is_read(capsys, tmp_path):
    for knob in (
        {"low": 0.5, "high": 2.0, "step": 1e-300},
        {"low": 0.5, "high": 2.0, "step": 1e-300, "log": True},
    ):
        path = tmp_path / "space.json"
        path.write_text(json.dumps({"base": "resnet20", "knobs": {"width_factor": knob}}))
        code, _, err = cli(capsys, "explore", str(path), "--samples", "2")
        assert code == 2 and "knobs.width_factor: step 1e-300" in err and "larger step" in err


def test_a_negative_seed_is_refused(capsys, tmp_path):
    out = tmp_path / "r.jsonl"
    argv = ["explore", EXAMPLE, "--samples", "2", "--seed", "-1", "--out", str(out)]
    code, _, err = cli(capsys, *argv)
    assert code == 2 and "--seed -1" in err
    assert not out.exists()
    with pytest.raises(SpaceError, match="seed=-1"):
        explore(Space.load(EXAMPLE), 2, seed=-1)
    path = tmp_path / "space.json"
    path.write_text('{"seed": -3}')
    code, _, err = cli(capsys, "explore", str(path), "--samples", "1")
    assert code == 2 and "seed" in err


@pytest.mark.parametrize("dataset", ["bogus", "/no/such/folder", "{tmp}"])
def test_a_bad_probe_dataset_is_refused_before_any_work(capsys, tmp_path, dataset):
    dataset = dataset.replace("{tmp}", str(tmp_path))  # a folder without images
    out = tmp_path / "r.jsonl"
    code, _, err = cli(
        capsys, "explore", EXAMPLE, "--samples", "1", "--probe-steps", "1", "--dataset", dataset,
        "--out", str(out),
    )  # fmt: skip
    assert code == 2 and "probe dataset" in err and dataset in err, err
    assert not out.exists()


def test_ray_without_the_package_says_how_to_install_it(capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray -> ImportError
    code, _, err = cli(
        capsys, "explore", EXAMPLE, "--samples", "1", "--backend", "ray", "--ray-address", "local"
    )
    assert code == 2 and "pip install 'ray" in err
    with pytest.raises(BackendError, match="pip install"):
        make_backend("ray", address="ray://example:10001")


def test_ray_without_a_cluster_address_is_refused(monkeypatch):
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    pytest.importorskip("ray")
    with pytest.raises(BackendError, match="RAY_ADDRESS"):
        make_backend("ray")
    with pytest.raises(BackendError, match="use local or ray"):
        make_backend("dask")


class _Gappy:
    """A backend whose worker 'measured' nothing: what a loaded Ray cluster once sent back."""

    name = "gappy"

    def describe(self) -> str:
        return self.name

    def run(self, tasks, on_result, cancel=None) -> None:
        for task in tasks:
            on_result(
                Outcome(
                    task.index,
                    "ok",
                    {
                        "latency_status": "over_budget",
                        "latency_ms": None,
                        "latency_message": "one run takes 0.40 s",
                    },
                )
            )


def test_a_metric_that_was_not_measured_is_never_ok():
    run = explore(Space.load(EXAMPLE), 3, options=EvalOptions(latency=True), backend=_Gappy())
    assert run.counts() == {"cut_short": 3}
    for record in run.results.records:
        assert record["status"] == "cut_short"
        assert record["failure"] == "latency over_budget: one run takes 0.40 s"
