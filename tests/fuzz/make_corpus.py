"""Write the hostile-input corpus (tests/fuzz/*.jsonl) that tests/test_fuzz.py replays.

Run from the repository root: ``python tests/fuzz/make_corpus.py``. The corpus is data and is
committed; this script only makes it reproducible and easy to extend. Format: README.md.
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


def spaces() -> list[dict[str, Any]]:
    """Space files (CLI ``explore FILE --samples 1``) and ``Space.from_json``."""
    cases: list[tuple[str, Any, str]] = [
        ("knob-stages", {"knobs": {"stages": 3}}, "knobs.stages"),
        ("knob-stem", {"knobs": {"stem": {"choices": ["x"]}}}, "knobs.stem"),
        ("knob-reversed", {"knobs": {"groups": {"low": 4, "high": 1}}}, "knobs.groups"),
        ("knob-list", {"knobs": {"block": ["basic"]}}, "choices"),
        ("knob-empty-choices", {"knobs": {"groups": {"choices": []}}}, "non-empty"),
        ("knob-nested-choices", {"knobs": {"groups": {"choices": [[1]]}}}, "plain values"),
        ("knob-choices-and-range", {"knobs": {"groups": {"choices": [1], "low": 1}}}, "alone"),
        ("knob-half-range", {"knobs": {"groups": {"low": 1}}}, "'low' and 'high'"),
        ("knob-text-bound", {"knobs": {"groups": {"low": "1", "high": 4}}}, "finite number"),
        (
            "knob-log-zero",
            {"knobs": {"width_factor": {"low": 0, "high": 2, "log": True}}},
            "low > 0",
        ),
        ("knob-log-text", {"knobs": {"width_factor": {"low": 1, "high": 2, "log": "yes"}}}, "log"),
        ("knob-step-zero", {"knobs": {"width_factor": {"low": 1, "high": 2, "step": 0}}}, "step"),
        (
            "knob-step-tiny",
            {"knobs": {"width_factor": {"low": 0.5, "high": 2, "step": 1e-300}}},
            "larger step",
        ),
        (
            "knob-log-step-tiny",
            {"knobs": {"width_factor": {"low": 0.5, "high": 2, "log": True, "step": 1e-300}}},
            "larger step",
        ),
        (
            "knob-int-step-tiny",
            {"knobs": {"groups": {"low": 1, "high": 64, "step": 1e-12}}},
            "larger step",
        ),
        (
            "knob-no-multiple",
            {"knobs": {"width_factor": {"low": 1.1, "high": 1.2, "step": 1}}},
            "multiple",
        ),
        ("knob-float-int-field", {"knobs": {"groups": {"low": 1.0, "high": 4.0}}}, "knobs.groups"),
        ("knob-lax-choice", {"knobs": {"image_size": {"choices": ["224"]}}}, "knobs.image_size"),
        ("knob-bool-choice", {"knobs": {"image_size": {"choices": [True]}}}, "knobs.image_size"),
        ("knob-huge-choice", {"knobs": {"groups": {"choices": [DIGITS]}}}, "digits"),
        ("knob-huge-bound", {"knobs": {"groups": {"low": 1, "high": 1e308}}}, "knobs.groups"),
        ("knob-nan", {"knobs": {"width_factor": {"low": "NaN", "high": 2}}}, "finite"),
        ("knobs-list", {"knobs": []}, "knobs"),
        ("body-widths-missing", {"body": {"depths": 2}}, "body.widths"),
        ("body-count-missing", {"body": {"depths": 2, "widths": 8}}, "body.num_stages"),
        ("body-lengths", {"body": {"depths": [1, 2], "widths": [8, 16, 32]}}, "same length"),
        (
            "body-count-mismatch",
            {"body": {"num_stages": 3, "depths": [1, 2], "widths": [8, 16]}},
            "num_stages",
        ),
        (
            "body-depth-zero",
            {"body": {"num_stages": 1, "depths": 0, "widths": 8}},
            "body.depths[0]",
        ),
        (
            "body-width-huge",
            {"body": {"num_stages": 1, "depths": 1, "widths": 10**6}},
            "body.widths[0]",
        ),
        ("body-13-stages", {"body": {"num_stages": 13, "depths": 1, "widths": 8}}, "num_stages"),
        (
            "body-strides",
            {"body": {"num_stages": 2, "depths": 1, "widths": 8, "strides": [3]}},
            "strides",
        ),
        (
            "body-increasing",
            {"body": {"num_stages": 2, "depths": 1, "widths": 8, "increasing": ["x"]}},
            "increasing",
        ),
        ("body-type", {"body": {"type": "cubic"}}, "'stages'"),
        ("body-list", {"body": [1]}, "body"),
        (
            "body-unknown-key",
            {"body": {"num_stages": 1, "depths": 1, "widths": 8, "colour": 1}},
            "body.colour",
        ),
        (
            "regnet-wm-missing",
            {"body": {"type": "regnet", "depth": 10, "w0": 8, "wa": 8}},
            "body.wm",
        ),
        (
            "regnet-w0-huge",
            {"body": {"type": "regnet", "depth": 10, "w0": 1e308, "wa": 8, "wm": 2}},
            "body.w0",
        ),
        (
            "regnet-w0-tiny",
            {"body": {"type": "regnet", "depth": 10, "w0": 5e-324, "wa": 8, "wm": 2}},
            "body.w0",
        ),
        (
            "regnet-wm-huge",
            {"body": {"type": "regnet", "depth": 10, "w0": 8, "wa": 8, "wm": 1e300}},
            "body.wm",
        ),
        (
            "regnet-wa-negative",
            {"body": {"type": "regnet", "depth": 10, "w0": 8, "wa": -1, "wm": 2}},
            "body.wa",
        ),
        (
            "regnet-quantum",
            {"body": {"type": "regnet", "depth": 10, "w0": 8, "wa": 8, "wm": 2, "quantum": 0}},
            "quantum",
        ),
        ("constraint-metric", {"constraints": {"latency": {"max": 1}}}, "constraints.latency"),
        (
            "constraint-reversed",
            {"constraints": {"macs": {"min": 5, "max": 1}}},
            "constraints.macs",
        ),
        ("constraint-empty", {"constraints": {"macs": {}}}, "constraints.macs"),
        ("constraint-negative", {"constraints": {"macs": {"max": -1}}}, "constraints.macs.max"),
        ("constraint-text", {"constraints": {"macs": {"max": "1e9"}}}, "constraints.macs.max"),
        ("base-unknown", {"base": "resnet9000"}, "base"),
        ("base-invalid", {"base": {"stages": []}}, "base"),
        ("base-lax", {"base": {"image_size": "224"}}, "base"),
        ("seed-negative", {"seed": -1}, "seed"),
        ("seed-float", {"seed": 1.5}, "seed"),
        ("seed-huge", {"seed": DIGITS}, "digits"),
        ("seed-2-64", {"seed": 2**64}, "seed"),
        ("draws-zero", {"max_draws_per_sample": 0}, "max_draws_per_sample"),
        ("name-empty", {"name": "  "}, "name"),
        ("schema", {"schema": "resnet-explorer/space/v9"}, "schema"),
        ("unknown-key", {"oops": 1}, "unknown key"),
        ("not-object", [1, 2], "JSON object"),
    ]
    out = []
    for eid, data, expect in cases:
        text = json.dumps(data).replace(f'"{DIGITS}"', DIGITS)
        bullet = "tracebacks/explore" if "step" in eid or "seed" in eid else "measured/spaces"
        if "digits" in expect:
            bullet = "tracebacks/huge-integers"
        out.append(
            entry(
                f"space-{eid}",
                bullet,
                ["explore", "{file}", "--samples", "1"],
                file={"name": "space.json", "text": text},
                api="space_json",
                expect=expect,
            )
        )
    for eid, text in [
        ("deep", "${repeat:[:5000}${repeat:]:5000}"),
        ("oversized", "{${repeat: :300000}}"),
        ("bad-utf8", "${bytes:/3+A}"),
        ("empty", ""),
    ]:
        out.append(
            entry(
                f"space-{eid}",
                "security/files-read-whole",
                ["explore", "{file}", "--samples", "1"],
                file={"name": "space.json", "text": text},
                api="space_json",
            )
        )
    return out


def _doc(**parts: Any) -> dict[str, Any]:
    return {"schema": "resnet-explorer/library/v1", **parts}


def _run(**fields: Any) -> dict[str, Any]:
    return {"run_id": "r1", "design": {}, "status": "completed", **fields}


def imports() -> list[dict[str, Any]]:
    """Library exports (CLI ``library import FILE``, which must leave no library behind) and
    ``Store.import_library``."""
    cases: list[tuple[str, Any, str]] = [
        ("schema-huge-int", {"schema": DIGITS}, "digits"),
        ("schema-number", {"schema": 1}, "not a library export"),
        ("schema-other", {"schema": "resnet-explorer/design/v1"}, "not a library export"),
        ("schema-newer", {"schema": "resnet-explorer/library/v2"}, "newer"),
        ("schema-huge-version", {"schema": "resnet-explorer/library/v" + "9" * 5000}, "newer"),
        ("not-object", [1, 2], "not an object"),
        ("designs-object", _doc(designs={}), "must be a list"),
        ("designs-item-text", _doc(designs=["r50"]), "must be an object"),
        (
            "design-invalid",
            _doc(designs=[{"name": "x", "design": {"stages": []}}]),
            "designs[0].design",
        ),
        (
            "design-lax",
            _doc(designs=[{"name": "x", "design": {"image_size": "224"}}]),
            "designs[0].design",
        ),
        ("design-missing", _doc(designs=[{"name": "x"}]), "designs[0].design"),
        ("name-missing", _doc(designs=[{"design": {}}]), "designs[0].name"),
        ("name-number", _doc(designs=[{"name": 5, "design": {}}]), "designs[0].name"),
        ("name-control", _doc(designs=[{"name": "a\u0000b", "design": {}}]), "control characters"),
        ("name-long", _doc(designs=[{"name": "x" * 500, "design": {}}]), "at most 120"),
        ("tags-number", _doc(designs=[{"name": "x", "design": {}, "tags": [1]}]), "tag"),
        ("tags-comma", _doc(designs=[{"name": "x", "design": {}, "tags": ["a,b"]}]), "tag"),
        ("notes-list", _doc(designs=[{"name": "x", "design": {}, "notes": []}]), "notes"),
        ("stamp-number", _doc(designs=[{"name": "x", "design": {}, "created": 5}]), "time stamp"),
        (
            "stamp-long",
            _doc(designs=[{"name": "x", "design": {}, "created": "x" * 100}]),
            "time stamp",
        ),
        ("profile-device", _doc(profiles=[{"design": {}, "device": ""}]), "device"),
        (
            "profile-settings-list",
            _doc(profiles=[{"design": {}, "device": "cpu", "settings": []}]),
            "settings",
        ),
        (
            "profile-huge",
            _doc(profiles=[{"design": {}, "device": "cpu", "results": {"n": 10**25}}]),
            "64 bits",
        ),
        ("run-id", _doc(runs=[_run(run_id="../../etc/passwd")]), "run id"),
        ("run-status", _doc(runs=[_run(status="exploded")]), "status"),
        ("run-error-number", _doc(runs=[_run(error=5)]), "error"),
        ("run-config-text", _doc(runs=[_run(config="lr=0.1")]), "config"),
        ("run-steps-object", _doc(runs=[_run(steps={})]), "steps"),
        ("step-missing", _doc(runs=[_run(steps=[{"loss": 1.0}])]), "step"),
        ("step-negative", _doc(runs=[_run(steps=[{"step": -1}])]), "step"),
        ("step-float", _doc(runs=[_run(steps=[{"step": 1.5}])]), "step"),
        ("step-bool", _doc(runs=[_run(steps=[{"step": True}])]), "step"),
        ("step-2-63", _doc(runs=[_run(steps=[{"step": 2**63}])]), "step"),
        ("step-10-30", _doc(runs=[_run(steps=[{"step": 10**30}])]), "digits"),
        ("step-repeated", _doc(runs=[_run(steps=[{"step": 1}, {"step": 1}])]), "twice"),
        ("loss-text", _doc(runs=[_run(steps=[{"step": 1, "loss": "low"}])]), "loss"),
        ("loss-huge-int", _doc(runs=[_run(steps=[{"step": 1, "loss": 10**25}])]), "64 bits"),
        ("loss-400-digits", _doc(runs=[_run(steps=[{"step": 1, "loss": DIGITS}])]), "digits"),
        ("metric-huge", _doc(runs=[_run(steps=[{"step": 1, "grad": -(10**20)}])]), "64 bits"),
        ("metric-name-long", _doc(runs=[_run(steps=[{"step": 1, "m" * 100: 1}])]), "metric name"),
        ("time-number", _doc(runs=[_run(steps=[{"step": 1, "time": 5}])]), "time"),
        ("deep", "${repeat:[:5000}${repeat:]:5000}", "malformed"),
        ("bad-utf8", "${bytes:/3+A}", "UTF-8"),
        ("truncated", '{"schema": "resnet-explorer/library/v1", "designs": [', "malformed"),
    ]
    out = []
    for eid, data, expect in cases:
        text = data if isinstance(data, str) else json.dumps(data).replace(f'"{DIGITS}"', DIGITS)
        if eid == "loss-400-digits":
            text = text.replace(DIGITS, "${digits:400}")
        bullet = (
            "tracebacks/import-overflow"
            if any(k in eid for k in ("huge", "2-63", "10-30", "digits"))
            else "measured/imports"
        )
        out.append(
            entry(
                f"import-{eid}",
                bullet,
                ["library", "import", "{file}", "--db", "{db}"],
                file={"name": "export.json", "text": text},
                api="import",
                expect=expect,
                untouched=["{db}"],
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


def arguments() -> list[dict[str, Any]]:
    """Command lines: special files, output files, explore options, library files."""
    space = "examples/space_cifar.json"
    explore = ["explore", space, "--samples", "1"]
    cases: list[tuple[str, str, list[str], dict[str, Any]]] = [
        (
            "explore-seed-negative",
            "tracebacks/explore",
            [*explore, "--seed", "-1"],
            {"expect": "--seed"},
        ),
        ("explore-samples-zero", "tracebacks/explore", ["explore", space, "--samples", "0"], {}),
        (
            "explore-samples-huge",
            "tracebacks/explore",
            ["explore", space, "--samples", "10000000"],
            {},
        ),
        (
            "explore-out-dev-full",
            "tracebacks/explore",
            [*explore, "--out", "/dev/full"],
            {"expect": "device"},
        ),
        (
            "explore-out-dev-full-force",
            "security/force",
            [*explore, "--out", "/dev/full", "--force"],
            {"expect": "device"},
        ),
        (
            "explore-out-fifo",
            "security/force",
            [*explore, "--out", "{fifo}", "--force"],
            {"expect": "FIFO"},
        ),
        (
            "explore-out-folder",
            "security/force",
            [*explore, "--out", "{tmp}"],
            {"expect": "folder"},
        ),
        (
            "explore-out-exists",
            "security/force",
            [*explore, "--out", "{existing}"],
            {"expect": "--force", "untouched": ["{existing}"]},
        ),
        (
            "explore-out-no-folder",
            "security/force",
            [*explore, "--out", "{tmp}/no/such/r.jsonl"],
            {"expect": "does not exist"},
        ),
        (
            "explore-dataset-bogus",
            "tracebacks/explore",
            [*explore, "--probe-steps", "1", "--dataset", "bogus"],
            {"expect": "probe dataset"},
        ),
        (
            "explore-dataset-missing-dir",
            "tracebacks/explore",
            [*explore, "--probe-steps", "1", "--dataset", "{tmp}/nothing"],
            {"expect": "probe dataset"},
        ),
        (
            "explore-dataset-empty-dir",
            "tracebacks/explore",
            [*explore, "--probe-steps", "1", "--dataset", "{tmp}"],
            {"expect": "probe dataset"},
        ),
        (
            "explore-ray-not-installed",
            "tracebacks/explore",
            [*explore, "--backend", "ray", "--ray-address", "local"],
            {"expect": "pip install", "no_modules": ["ray"]},
        ),
        (
            "explore-ray-no-cluster",
            "tracebacks/explore",
            [*explore, "--backend", "ray"],
            {"expect": "RAY_ADDRESS", "env": {"RAY_ADDRESS": ""}},
        ),
        (
            "explore-ray-address-local-backend",
            "security/ray-address",
            [*explore, "--ray-address", "ray://evil:10001"],
            {"expect": "--backend ray"},
        ),
        (
            "explore-space-fifo",
            "security/files-read-whole",
            ["explore", "{fifo}", "--samples", "1"],
            {"expect": "FIFO"},
        ),
        (
            "explore-space-sparse",
            "security/files-read-whole",
            ["explore", "{sparse}", "--samples", "1"],
            {"expect": "bytes"},
        ),
        (
            "explore-space-chardev",
            "security/files-read-whole",
            ["explore", "/dev/zero", "--samples", "1"],
            {"expect": "device"},
        ),
        ("design-fifo", "security/files-read-whole", ["design", "{fifo}"], {"expect": "FIFO"}),
        (
            "design-sparse-4gib",
            "security/files-read-whole",
            ["design", "{sparse}"],
            {"expect": "4,294,967,296 bytes"},
        ),
        (
            "design-dev-zero",
            "security/files-read-whole",
            ["design", "/dev/zero"],
            {"expect": "device"},
        ),
        ("design-folder", "security/files-read-whole", ["design", "{tmp}"], {"expect": "folder"}),
        (
            "import-fifo",
            "security/files-read-whole",
            ["library", "import", "{fifo}", "--db", "{db}"],
            {"expect": "FIFO", "untouched": ["{db}"]},
        ),
        (
            "import-sparse",
            "security/files-read-whole",
            ["library", "import", "{sparse}", "--db", "{db}"],
            {"expect": "bytes", "untouched": ["{db}"]},
        ),
        (
            "export-dev-full",
            "security/force",
            ["library", "export", "--db", "{db}", "-o", "/dev/full", "--force"],
            {"expect": "device"},
        ),
        (
            "export-fifo",
            "security/force",
            ["library", "export", "--db", "{db}", "-o", "{fifo}", "--force"],
            {"expect": "FIFO"},
        ),
        (
            "export-link-to-device",
            "security/force",
            ["library", "export", "--db", "{db}", "-o", "{devlink}", "--force"],
            {"expect": "device"},
        ),
        (
            "export-exists",
            "security/force",
            ["library", "export", "--db", "{db}", "-o", "{existing}"],
            {"expect": "--force", "untouched": ["{existing}"]},
        ),
        (
            "report-dev-full",
            "security/force",
            ["report", "resnet20", "--no-library", "-o", "/dev/full", "--force"],
            {"expect": "device"},
        ),
        (
            "report-fifo",
            "security/force",
            ["report", "resnet20", "--no-library", "-o", "{fifo}", "--force"],
            {"expect": "FIFO"},
        ),
        (
            "report-exists",
            "security/force",
            ["report", "resnet20", "--no-library", "-o", "{existing}"],
            {"expect": "--force", "untouched": ["{existing}"]},
        ),
        (
            "report-db-fifo",
            "security/library-files",
            ["report", "resnet20", "--db", "{fifo}", "-o", "{tmp}/r.html"],
            {"expect": "FIFO"},
        ),
        (
            "diagram-dev-full",
            "security/force",
            ["diagram", "resnet20", "-o", "/dev/full", "--format", "dot", "--force"],
            {"expect": "device"},
        ),
        (
            "diagram-fifo",
            "security/force",
            ["diagram", "resnet20", "-o", "{fifo}", "--format", "dot"],
            {"expect": "FIFO"},
        ),
        (
            "diagram-exists",
            "security/force",
            ["diagram", "resnet20", "-o", "{existing}", "--format", "dot"],
            {"expect": "--force", "untouched": ["{existing}"]},
        ),
        ("diagram-block", "measured/argv", ["diagram", "resnet20", "--block", "9.9"], {}),
        (
            "diagram-block-text",
            "measured/argv",
            ["diagram", "resnet20", "--block", "../../x"],
            {"expect": "--block"},
        ),
        (
            "profile-batch-sizes",
            "measured/argv",
            ["profile", "resnet20", "--batch-sizes", "1,x"],
            {"expect": "--batch-sizes"},
        ),
        (
            "profile-batch-empty",
            "measured/argv",
            ["profile", "resnet20", "--batch-sizes", ","],
            {"expect": "--batch-sizes"},
        ),
    ]
    for action in (
        ["list"],
        ["save", "resnet20"],
        ["show", "x"],
        ["delete", "x", "--yes"],
        ["export"],
        ["import", "{export}"],
    ):
        for target, expect in (("{fifo}", "FIFO"), ("/dev/null", "device"), ("{tmp}", "directory")):
            name = {"{fifo}": "fifo", "/dev/null": "dev-null", "{tmp}": "folder"}[target]
            cases.append(
                (
                    f"library-{action[0]}-db-{name}",
                    "tracebacks/db-special-file",
                    ["library", *action, "--db", target],
                    {"expect": expect},
                )
            )
    for action, expect in (
        (["show", "bad tags"], "bad tags"),
        (["show", "bad design"], "bad design"),
        (["delete", "nope", "--yes"], "no design"),
    ):
        cases.append(
            (
                f"damaged-{action[0]}-{action[1].replace(' ', '-')}",
                "tracebacks/damaged-library",
                ["library", *action, "--db", "{damaged}"],
                {"expect": expect, "untouched": ["{damaged}"]},
            )
        )
    for eid, args, expect in (
        ("save-name-control", ["save", "resnet20", "--name", "a\u0007b"], "control characters"),
        ("save-name-long", ["save", "resnet20", "--name", "x" * 200], "at most 120"),
        ("save-tag-long", ["save", "resnet20", "--tags", "t" * 50], "tag"),
        ("save-taken", ["save", "resnet20", "--name", "good"], "already saved"),
        ("delete-without-yes", ["delete", "good"], "--yes"),
        ("fake-v1-list", ["list"], "library"),
    ):
        db = "{fake_v1}" if eid.startswith("fake") else "{damaged}"
        cases.append(
            (
                f"library-{eid}",
                "security/library-files",
                ["library", *args, "--db", db],
                {"expect": expect, "untouched": [db]},
            )
        )
    return [entry(eid, bullet, argv, **more) for eid, bullet, argv, more in cases]


def main() -> None:
    groups = {
        "designs": designs(),
        "tokens": tokens(),
        "spaces": spaces(),
        "imports": imports(),
        "environment": environment(),
        "arguments": arguments(),
    }
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
