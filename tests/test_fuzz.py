"""Replays the hostile-input corpus (tests/fuzz/*.jsonl, see its README) through the CLI, in
process, and through the API: every entry must end in ``error: ...`` with exit code 2 (a
`ResNetExplorerError` from the API), never a traceback, and must write nothing."""

from __future__ import annotations

import base64
import json
import os
import re
import sys
from pathlib import Path
from typing import Any

import pytest
from test_store_hostile import _damaged_library, _fake_v1

from resnet_explorer.cli import main
from resnet_explorer.errors import ResNetExplorerError

FUZZ = Path(__file__).resolve().parent / "fuzz"
ENTRIES = [
    json.loads(line)
    for path in sorted(FUZZ.glob("*.jsonl"))
    for line in path.read_text(encoding="utf-8").splitlines()
    if line.strip()
]
_EXPAND = re.compile(r"\$\{(digits|repeat|bytes):([^}]*)\}")


def test_the_corpus_is_large_and_covers_every_bullet():
    assert len(ENTRIES) >= 300
    assert len({e["id"] for e in ENTRIES}) == len(ENTRIES)
    bullets = {e["bullet"] for e in ENTRIES}
    for needed in (
        "tracebacks/huge-integers",
        "tracebacks/import-overflow",
        "tracebacks/env-caps",
        "tracebacks/damaged-library",
        "tracebacks/db-special-file",
        "tracebacks/explore",
        "security/force",
        "security/ray-address",
        "security/files-read-whole",
        "security/library-files",
        "security/lax-values",
        "security/share-token",
    ):
        assert needed in bullets, needed


def _expand(text: str) -> bytes:
    out, pos = bytearray(), 0
    for match in _EXPAND.finditer(text):
        out += text[pos : match.start()].encode()
        kind, arg = match.groups()
        if kind == "digits":
            out += b"1" + b"0" * (int(arg) - 1)
        elif kind == "repeat":
            piece, _, times = arg.rpartition(":")
            out += piece.encode() * int(times)
        else:
            out += base64.b64decode(arg)
        pos = match.end()
    return bytes(out + text[pos:].encode())


def _places(tmp: Path, entry: dict[str, Any]) -> dict[str, str]:
    """The entry's placeholders, each made fresh in ``tmp``."""
    work = tmp / "work"
    work.mkdir()
    places = {"{tmp}": str(work), "{db}": str(tmp / "lib.sqlite3")}
    used = json.dumps([entry.get("argv"), entry.get("untouched")])
    if "file" in entry:
        path = tmp / entry["file"]["name"]
        path.write_bytes(_expand(entry["file"]["text"]))
        places["{file}"] = str(path)
    if "{fifo}" in used:
        os.mkfifo(tmp / "pipe.json")
        places["{fifo}"] = str(tmp / "pipe.json")
    if "{sparse}" in used:
        with (tmp / "big.json").open("wb") as fh:
            fh.truncate(4 * 1024**3)
        places["{sparse}"] = str(tmp / "big.json")
    if "{existing}" in used:
        (tmp / "existing.out").write_text("precious")
        places["{existing}"] = str(tmp / "existing.out")
    if "{devlink}" in used:
        (tmp / "devlink").symlink_to("/dev/full")
        places["{devlink}"] = str(tmp / "devlink")
    for key, make in (("{damaged}", _damaged_library), ("{fake_v1}", _fake_v1)):
        if key in used:
            make(tmp / f"{key[1:-1]}.sqlite3")
            places[key] = str(tmp / f"{key[1:-1]}.sqlite3")
    if "{export}" in used:
        (tmp / "e.json").write_text('{"schema": "resnet-explorer/library/v1"}')
        places["{export}"] = str(tmp / "e.json")
    return places


def _fill(text: str, places: dict[str, str]) -> str:
    for key, value in places.items():
        text = text.replace(key, value)
    return text


def _state(path: str) -> bytes | None:
    p = Path(path)
    return p.read_bytes() if p.is_file() else (b"<dir>" if p.exists() else None)


@pytest.fixture
def hostile_env(monkeypatch):
    def apply(entry: dict[str, Any]) -> None:
        for key, value in entry.get("env", {}).items():
            monkeypatch.setenv(key, value)
        for name in entry.get("no_modules", []):
            monkeypatch.setitem(sys.modules, name, None)

    return apply


@pytest.mark.parametrize("entry", ENTRIES, ids=[e["id"] for e in ENTRIES])
def test_hostile_input_is_refused_cleanly(entry, tmp_path, capsys, hostile_env):
    places = _places(tmp_path, entry)
    hostile_env(entry)
    watched = [_fill(p, places) for p in entry.get("untouched", [])]
    before = {p: _state(p) for p in watched}
    argv = [_fill(a, places) for a in entry["argv"]]
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse: usage and its own "error: ..." line
        code = exc.code
    out, err = capsys.readouterr()
    assert code == 2, (code, err)
    assert "Traceback" not in err and out == ""
    assert "error: " in err
    message = err.strip().splitlines()[-1]
    assert message.startswith("error: ") or ": error: " in message
    if entry.get("expect"):
        assert entry["expect"] in err, err
    for path in watched:
        assert _state(path) == before[path], f"{path} changed"
    if entry.get("api"):
        _through_the_api(entry, tmp_path)


def _through_the_api(entry: dict[str, Any], tmp: Path) -> None:
    from resnet_explorer import Design, Limits
    from resnet_explorer.explore import Space
    from resnet_explorer.store import Store

    kind = entry["api"]
    text = _expand(entry["file"]["text"]) if "file" in entry else None
    with pytest.raises(ResNetExplorerError) as info:
        if kind == "design_json":
            Design.from_json(text)
        elif kind == "design_url":
            Design.from_url(entry["token"])
        elif kind == "space_json":
            Space.from_json(text)
        elif kind == "import":
            store = Store(tmp / "api.sqlite3")
            try:
                store.import_library(text)
            finally:
                assert store.counts() == {"designs": 0, "profiles": 0, "runs": 0, "steps": 0}
        elif kind == "limits":
            Limits.from_env()
        else:
            raise AssertionError(f"unknown api {kind!r}")
    assert str(info.value).strip()
    if entry.get("expect") and entry["expect"] != "neither a preset":  # a CLI-only message
        assert entry["expect"] in str(info.value), str(info.value)
