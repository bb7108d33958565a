"""The CLI: `presets` and `design`, human and JSON output, clear errors with exit code 2."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from resnet_explorer import Design, presets
from resnet_explorer.cli import main


def run_cli(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_presets_json_contract(capsys):
    code, out, _ = run_cli(capsys, "presets", "--json")
    assert code == 0
    doc = json.loads(out)
    assert doc["schema"] == "resnet-explorer/presets/v1"
    by_name = {p["name"]: p for p in doc["presets"]}
    assert list(by_name) == presets.names()
    assert by_name["resnet50"]["params"] == 25_557_032
    assert by_name["resnet50"]["macs"] == 4_089_184_256
    assert by_name["resnet50"]["matches_published"] is True
    assert by_name["resnet20"]["published"]["results"][0]["value"] == 8.75


def test_presets_table(capsys):
    code, out, _ = run_cli(capsys, "presets")
    assert code == 0
    line = next(x for x in out.splitlines() if x.startswith("resnet152 "))
    assert "60,192,808" in line and "yes" in line


def test_design_json_is_canonical_and_loads_back(capsys, tmp_path):
    code, out, _ = run_cli(capsys, "design", "resnet56", "--json")
    assert code == 0
    doc = json.loads(out)
    assert doc["schema"] == "resnet-explorer/design/v1"
    design = Design.from_dict(doc["design"])
    assert design == presets.get("resnet56")
    assert doc["hash"] == design.hash
    assert Design.from_url(doc["url_token"]) == design
    path = tmp_path / "mine.json"
    path.write_text(design.to_json())
    code, out, _ = run_cli(capsys, "design", str(path))
    assert code == 0 and Design.from_json(out.split("\n#")[0]) == design


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["design", "resnet9000"], "neither a preset nor a design file"),
        (["design", "missing.json"], "does not exist"),
        (["design", "tests"], "is a folder, not a design file"),
    ],
)
def test_bad_references_exit_2_with_a_message(capsys, args, message):
    code, out, err = run_cli(capsys, *args)
    assert code == 2
    assert message in err and "Traceback" not in err
    assert out == ""


def test_invalid_design_file_names_file_and_field(capsys, tmp_path):
    path = tmp_path / "bad.json"
    path.write_text('{"stages": [{"blocks": 2, "width": 64, "stride": 5}]}')
    code, _, err = run_cli(capsys, "design", str(path))
    assert code == 2
    assert "bad.json" in err and "stages[0].stride" in err


def test_deeply_nested_design_file_exits_2_with_a_message(capsys, tmp_path):
    path = tmp_path / "nested.json"
    path.write_text('{"stages": ' + "[" * 5000 + "]" * 5000 + "}")
    code, out, err = run_cli(capsys, "design", str(path))
    assert code == 2
    assert out == ""
    assert err.startswith("error: ") and "malformed" in err


def test_module_entry_point_runs():
    result = subprocess.run(
        [sys.executable, "-m", "resnet_explorer", "design", "resnet20", "--json"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["params"] == 269_722
