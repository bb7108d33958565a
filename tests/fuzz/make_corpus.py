"""Write the combinatorial part of the hostile-input corpus that tests/test_fuzz.py replays:
designs.jsonl (every field times every lax or huge value), tokens.jsonl and environment.jsonl.

Run from the repository root: ``python tests/fuzz/make_corpus.py``. spaces.jsonl, imports.jsonl
and arguments.jsonl are written by hand (one case a line); format: README.md.
"""

from __future__ import annotations

import base64
import json
import zlib
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DIGITS = "${digits:5000}"  # a 5,000-digit integer, expanded by the test
FIELD_INTS = ["in_channels", "image_size", "num_classes", "stem_width", "expansion", "groups"]
LAX_INTS: list[tuple[str, Any]] = [
    ("text", '"224"'),
    ("float", "224.0"),
    ("true", "true"),
    ("false", "false"),
    ("null", "null"),
    ("list", "[224]"),
    ("object", '{"value": 224}'),
    ("negative", "-1"),
    ("zero", "0"),
    ("huge-float", "1e400"),
    ("5000-digits", DIGITS),
    ("30-digits", "1" + "0" * 30),
    ("nan", "NaN"),
    ("infinity", "-Infinity"),
]
LAX_FLOATS = [
    ("text", '"0.5"'),
    ("true", "true"),
    ("nan", "NaN"),
    ("infinity", "Infinity"),
    ("negative", "-1"),
    ("huge", "1e400"),
    ("null", "null"),
    ("5000-digits", DIGITS),
]
LAX_BOOLS = [("yes", '"yes"'), ("one", "1"), ("zero", "0"), ("text-true", '"true"'), ("list", "[]")]


def entry(eid: str, bullet: str, argv: list[str], **more: Any) -> dict[str, Any]:
    return {"id": eid, "bullet": bullet, "argv": argv, **more}


def designs() -> list[dict[str, Any]]:
    """Design files (CLI ``design FILE``) and the same text through ``Design.from_json``."""
    out = []

    def add(eid: str, text: str, bullet: str = "security/lax-values", expect: str = "") -> None:
        out.append(
            entry(
                f"design-{eid}",
                bullet,
                ["design", "{file}"],
                file={"name": "design.json", "text": text},
                api="design_json",
                expect=expect,
            )
        )

    for field in FIELD_INTS:
        for name, value in LAX_INTS:
            bullet = "tracebacks/huge-integers" if "digits" in name else "security/lax-values"
            add(f"{field}-{name}", f'{{"{field}": {value}}}', bullet, field)
    add(
        "nested-5000-digits",
        f'{{"stages": [{{"blocks": 2, "width": {DIGITS}}}]}}',
        "tracebacks/huge-integers",
        "stages[0].width is an integer of 5,000 digits",
    )
    for field in ["width_factor", "stochastic_depth", "dropout"]:
        for name, value in LAX_FLOATS:
            add(f"{field}-{name}", f'{{"{field}": {value}}}', expect=field)
    for field in ["zero_init_residual", "final_norm"]:
        for name, value in LAX_BOOLS:
            add(f"{field}-{name}", f'{{"{field}": {value}}}', expect=field)
    for key in ["blocks", "width", "stride"]:
        for name, value in [("text", '"2"'), ("float", "2.0"), ("true", "true"), ("huge", DIGITS)]:
            stage = {"blocks": 2, "width": 16, "stride": 1}
            text = json.dumps({"stages": [stage]}).replace(
                f'"{key}": {stage[key]}', f'"{key}": {value}'
            )
            add(f"stage-{key}-{name}", text, expect=f"stages[0].{key}")
    for eid, text, expect in [
        ("not-object", "[1, 2]", "JSON object"),
        ("string", '"resnet50"', "JSON object"),
        ("null", "null", "JSON object"),
        ("empty", "", "malformed"),
        ("truncated", '{"stages": [{"blocks": 2', "malformed"),
        ("trailing", '{"num_classes": 10} {"num_classes": 11}', "malformed"),
        ("deep", "${repeat:[:5000}${repeat:]:5000}", "malformed"),
        ("deep-object", '{"stages": ${repeat:[:3000}${repeat:]:3000}}', "malformed"),
        ("bad-utf8", "${bytes:/3+A}", "UTF-8"),
        ("unknown-field", '{"colour": "red"}', "unknown field"),
        ("stages-text", '{"stages": "many"}', "stages"),
        ("stages-empty", '{"stages": []}', "at least 1 stage"),
        ("stages-13", json.dumps({"stages": [{"blocks": 1, "width": 8}] * 13}), "stages"),
        ("shortcut", '{"shortcut": "E"}', "shortcut"),
        ("shortcut-number", '{"shortcut": 1}', "shortcut"),
        ("stem", '{"stem": "huge"}', "stem"),
        ("order", '{"activation_order": "post"}', "activation_order"),
        ("norm", '{"norm": "layer"}', "norm"),
        ("init", '{"init": "zeros"}', "init"),
        ("unicode-field", '{"\\u00e9tage": 1}', "unknown field"),
        ("oversized", '{"notes": "${repeat:x:70000}"}', "at most 65,536"),
    ]:
        bullet = "tracebacks/huge-integers" if "deep" in eid else "security/files-read-whole"
        add(eid, text, bullet, expect)
    return out


def _token(raw: bytes) -> str:
    return "v1." + base64.urlsafe_b64encode(raw).decode().rstrip("=")


def tokens() -> list[dict[str, Any]]:
    """Share links (CLI ``design TOKEN``) and ``Design.from_url``."""
    good = zlib.compress(json.dumps({"num_classes": 7}).encode(), 9)
    bomb = zlib.compress(b" " * (8 * 1024 * 1024), 9)  # 8 MiB of spaces in a few KiB
    cases = {
        "trailing-bytes": _token(good + b"junk"),
        "second-stream": _token(good + zlib.compress(b'{"num_classes": 3}')),
        "one-zero-byte": _token(good + b"\x00"),
        "truncated": _token(good)[:-6],
        "half": _token(good)[: len(_token(good)) // 2],
        "not-base64": "v1.!!!!$$$$",
        "padding-inside": "v1.eNo=rVUp",
        "wrong-prefix": "v2." + _token(good)[3:],
        "empty-body": "v1.",
        "not-zlib": _token(b"plain text, not deflate"),
        "zlib-bomb": _token(bomb),
        "json-list": _token(zlib.compress(b"[1, 2, 3]")),
        "json-string": _token(zlib.compress(b'"resnet50"')),
        "json-malformed": _token(zlib.compress(b'{"num_classes": ')),
        "json-deep": _token(zlib.compress(b"[" * 5000 + b"]" * 5000)),
        "json-huge-int": _token(zlib.compress(b'{"num_classes": 1' + b"0" * 5000 + b"}")),
        "lax-int": _token(zlib.compress(b'{"image_size": "224"}')),
        "lax-bool": _token(zlib.compress(b'{"image_size": true}')),
        "invalid-design": _token(zlib.compress(b'{"stages": []}')),
        "unknown-field": _token(zlib.compress(b'{"colour": "red"}')),
        "long": "v1." + "A" * 300_000,
        "bad-utf8": _token(zlib.compress(b"\xff\xfe{}")),
        "unicode-garbage": "v1.\u00e9\u00e8\u00ea",
        "spaces": "v1.   ",
    }
    expects = {
        "wrong-prefix": "neither a preset",
        "lax-int": "image_size = '224'",
        "lax-bool": "image_size = True",
        "invalid-design": "at least 1 stage",
        "unknown-field": "unknown field",
        "long": "too long",
    }
    out = []
    for eid, token in cases.items():
        out.append(
            entry(
                f"token-{eid}",
                "security/share-token",
                ["design", token],
                token=token,
                api="design_url",
                expect=expects.get(eid, "this design link is damaged or incomplete"),
            )
        )
    return out


def environment() -> list[dict[str, Any]]:
    """Caps from the environment (CLI ``explore`` reads them when it samples; ``Limits``)."""
    out = []
    for var in ("RESNET_EXPLORER_MAX_PARAMS", "RESNET_EXPLORER_MAX_ACTIVATION_MB"):
        for value in [
            "inf",
            "-inf",
            "Infinity",
            "nan",
            "1e400",
            "0",
            "-5",
            "lots",
            "1e16",
            "0x10",
            "0.5",
        ]:
            out.append(
                entry(
                    f"env-{var.split('_')[-1].lower()}-{value}",
                    "tracebacks/env-caps",
                    ["explore", "examples/space_cifar.json", "--samples", "1"],
                    env={var: value},
                    api="limits",
                    expect=var,
                )
            )
    return out


def main() -> None:
    groups = {"designs": designs(), "tokens": tokens(), "environment": environment()}
    total = 0
    for name, entries in groups.items():
        ids = [e["id"] for e in entries]
        assert len(ids) == len(set(ids)), name
        with open(HERE / f"{name}.jsonl", "w", encoding="utf-8") as fh:
            for e in entries:
                fh.write(json.dumps(e, ensure_ascii=True) + "\n")
        total += len(entries)
        print(f"{name}: {len(entries)}")
    print(f"total: {total}")


if __name__ == "__main__":
    main()
