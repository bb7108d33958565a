"""A design space: which knobs vary, over which values, under which budget.

A space is a base design plus knobs. Each knob is fixed, a choice, or a range (uniform or
log-uniform, integer or real, optionally stepped). Scalar knobs are `Design` fields (``block``,
``expansion``, ``groups``, ``width_per_group``, ``shortcut``, ``activation_order``, ``stem``,
...). The body is either explicit stages (``num_stages``, ``depths``, ``widths``, ``strides``) or
RegNet's quantized linear widths (``regnet``: ``depth``, ``w0``, ``wa``, ``wm``, ``quantum``).
Constraints bound analytic figures (``params``, ``macs``, ``flops``, ``activations``,
``activation_mb``, ``depth``). The JSON format is documented in docs/explore.md.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from resnet_explorer import jsonio
from resnet_explorer.design import Design
from resnet_explorer.errors import DesignError, ResNetExplorerError

SCHEMA = "resnet-explorer/space/v1"
MAX_SPACE_BYTES = 256 * 1024
MAX_STAGES = 12
MAX_SAMPLES = 1_000_000
MAX_SEED = 2**63 - 1
#: Most values a stepped range may hold (numpy draws the step index as a 64-bit integer).
MAX_STEPS = 10**9

#: Design fields a space may vary (everything but ``stages``, which the body makes).
SCALAR_KNOBS: tuple[str, ...] = tuple(f for f in Design.model_fields if f != "stages")
#: Knobs that only mean something for bottleneck blocks (ignored for all-basic samples).
BOTTLENECK_ONLY: frozenset[str] = frozenset({"expansion", "groups", "width_per_group", "stride_on"})
#: Figures a constraint may bound, all analytic (per image).
CONSTRAINT_METRICS: tuple[str, ...] = (
    "params",
    "macs",
    "flops",
    "activations",
    "activation_mb",
    "depth",
)
_TOP_KEYS = {
    "schema",
    "name",
    "base",
    "knobs",
    "body",
    "constraints",
    "seed",
    "max_draws_per_sample",
}


class SpaceError(ResNetExplorerError, ValueError):
    """An invalid space definition; the message names the key and what is allowed."""


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def check_request(samples: Any, seed: Any) -> None:
    """Refuse (`SpaceError`) a sample count or a seed that sampling cannot use."""
    if not _whole(samples) or not 1 <= samples <= MAX_SAMPLES:
        raise SpaceError(f"samples={samples!r}: a whole number 1..{MAX_SAMPLES}")
    if not _whole(seed) or not 0 <= seed <= MAX_SEED:
        raise SpaceError(f"seed={seed!r}: a whole number 0..{MAX_SEED} (2**63 - 1)")


# --- knobs ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Knob:
    """One varying value: ``choices`` (uniform pick) or a range ``low``..``high``.

    A range is integer when ``integer`` (default: both bounds are ints), log-uniform when
    ``log``, and snapped to multiples of ``step`` when given. A fixed value is a one-choice knob.
    """

    choices: tuple[Any, ...] | None = None
    low: float | None = None
    high: float | None = None
    log: bool = False
    integer: bool = False
    step: float | None = None

    @property
    def fixed(self) -> bool:
        return self.choices is not None and len(self.choices) == 1

    def sample_many(self, gen: np.random.Generator, size: int) -> list[Any]:
        """Draw ``size`` values (plain Python values).

        Choices: uniform. Integer ranges without ``log``: uniform over the whole numbers (or the
        multiples of ``step``) in the range. ``log``: log-uniform, then rounded to the nearest
        whole number / multiple of ``step`` inside the range. Real ranges: uniform (or
        log-uniform), snapped to ``step`` when given.
        """
        if self.choices is not None:
            if len(self.choices) == 1:
                return [self.choices[0]] * size
            idx = gen.integers(0, len(self.choices), size)
            return [self.choices[i] for i in idx.tolist()]
        low, high, step = float(self.low), float(self.high), self.step  # type: ignore[arg-type]
        if not self.log and step:
            first, last = _ceil_to(low, step), _floor_to(high, step)
            count = round((last - first) / step) + 1
            values = first + step * gen.integers(0, count, size)
        elif not self.log and self.integer:
            return gen.integers(int(low), int(high) + 1, size).tolist()
        else:
            if self.log:
                values = np.exp(gen.uniform(math.log(low), math.log(high), size))
            else:
                values = gen.uniform(low, high, size)
            if step:
                values = np.clip(
                    np.round(values / step) * step, _ceil_to(low, step), _floor_to(high, step)
                )
        if self.integer:
            return (
                np.clip(np.rint(values), math.ceil(low), math.floor(high)).astype(np.int64).tolist()
            )
        return values.tolist()

    def to_json(self) -> Any:
        if self.choices is not None:
            return self.choices[0] if self.fixed else {"choices": list(self.choices)}
        out: dict[str, Any] = {"low": self.low, "high": self.high}
        if self.log:
            out["log"] = True
        if self.step:
            out["step"] = self.step
        if self.integer and not (isinstance(self.low, int) and isinstance(self.high, int)):
            out["integer"] = True
        return out

    def describe(self) -> str:
        """Short human text: ``{basic, bottleneck}``, ``16..256 log step 8``."""
        if self.choices is not None:
            return (
                str(self.choices[0])
                if self.fixed
                else "{" + ", ".join(map(str, self.choices)) + "}"
            )
        text = f"{self.low:g}..{self.high:g}"
        if self.log:
            text += " log"
        if self.step:
            text += f" step {self.step:g}"
        return text


def _ceil_to(x: float, step: float) -> float:
    return math.ceil(x / step - 1e-9) * step


def _floor_to(x: float, step: float) -> float:
    return math.floor(x / step + 1e-9) * step


def _is_number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def parse_knob(raw: Any, where: str, *, integer: bool | None = None) -> Knob:
    """A knob from JSON: a value, ``{"choices": [...]}`` or ``{"low", "high", "log"?, "step"?}``.

    ``integer`` forces (True) or forbids (False) integer ranges; None infers it from the bounds.
    """
    if not isinstance(raw, dict):
        if isinstance(raw, list):
            raise SpaceError(f'{where}: a list; write {{"choices": [...]}} for a choice')
        return Knob(choices=(raw,))
    keys = set(raw)
    if "choices" in raw:
        if keys - {"choices"}:
            raise SpaceError(
                f"{where}: 'choices' goes alone, got also {sorted(keys - {'choices'})}"
            )
        values = raw["choices"]
        if not isinstance(values, list) or not values:
            raise SpaceError(f"{where}.choices: a non-empty list, got {values!r:.60}")
        if any(isinstance(v, (dict, list)) for v in values):
            raise SpaceError(f"{where}.choices: plain values only")
        return Knob(choices=tuple(values))
    unknown = keys - {"low", "high", "log", "step", "integer"}
    if unknown or not {"low", "high"} <= keys:
        raise SpaceError(
            f"{where}: a range needs 'low' and 'high' (optional 'log', 'step', 'integer'); "
            f"got keys {sorted(keys)}"
        )
    low, high, step = raw["low"], raw["high"], raw.get("step")
    if not _is_number(low) or not _is_number(high) or low > high:
        raise SpaceError(f"{where}: low={low!r}, high={high!r}: numbers with low <= high")
    log = raw.get("log", False)
    if not isinstance(log, bool):
        raise SpaceError(f"{where}.log: true or false, got {log!r}")
    if log and low <= 0:
        raise SpaceError(f"{where}: a log-uniform range needs low > 0, got {low!r}")
    if step is not None and (not _is_number(step) or step <= 0):
        raise SpaceError(f"{where}.step: a number > 0, got {step!r}")
    is_int = raw.get("integer")
    if is_int is None:
        is_int = (
            isinstance(low, int) and isinstance(high, int) and (step is None or step == int(step))
        )
    if integer is True and not is_int:
        raise SpaceError(f"{where}: whole numbers only, got low={low!r}, high={high!r}")
    if integer is False:
        is_int = False
    if step is not None and (high - low) / step > MAX_STEPS:
        raise SpaceError(
            f"{where}.step: {step!r} cuts {low}..{high} into more than {MAX_STEPS:,} values; use "
            "a larger step, or none for a continuous range"
        )
    if step is not None and _ceil_to(low, step) > _floor_to(high, step) + 1e-9:
        raise SpaceError(f"{where}: no multiple of step {step} lies in {low}..{high}")
    return Knob(low=low, high=high, log=log, integer=bool(is_int), step=step)


# --- body -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StagesBody:
    """Explicit stages: a count, then per-stage depth (blocks) and width (planes).

    ``depths`` / ``widths`` hold one knob for every stage, or one per stage (the count is then
    fixed to that length). ``strides``: per stage (default: 1 for the first, 2 after).
    ``increasing``: require non-decreasing ``widths`` / ``depths`` (RegNet's AnyNetX_D/E);
    samples that break it are rejected.
    """

    num_stages: Knob
    depths: tuple[Knob, ...]
    widths: tuple[Knob, ...]
    strides: tuple[int, ...] | None = None
    increasing: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        def knobs(ks: tuple[Knob, ...]) -> Any:
            return ks[0].to_json() if len(ks) == 1 else [k.to_json() for k in ks]

        out = {
            "type": "stages",
            "num_stages": self.num_stages.to_json(),
            "depths": knobs(self.depths),
            "widths": knobs(self.widths),
        }
        if self.strides is not None:
            out["strides"] = list(self.strides)
        if self.increasing:
            out["increasing"] = list(self.increasing)
        return out


@dataclass(frozen=True)
class RegNetBody:
    """RegNet's quantized linear widths (Radosavovic et al. 2020, Sec. 3.3).

    Block j of ``depth`` gets ``u_j = w0 + wa * j``; ``s_j = round(log(u_j / w0) / log(wm))``;
    its width is ``w0 * wm ** s_j`` rounded to a multiple of ``quantum``. Consecutive blocks of
    equal width form a stage. ``num_stages`` (optional) keeps only samples with that many stages.
    """

    depth: Knob
    w0: Knob
    wa: Knob
    wm: Knob
    quantum: int = 8
    num_stages: Knob | None = None
    strides: tuple[int, ...] | None = None

    def to_json(self) -> dict[str, Any]:
        out = {
            "type": "regnet",
            "depth": self.depth.to_json(),
            "w0": self.w0.to_json(),
            "wa": self.wa.to_json(),
            "wm": self.wm.to_json(),
            "quantum": self.quantum,
        }
        if self.num_stages is not None:
            out["num_stages"] = self.num_stages.to_json()
        if self.strides is not None:
            out["strides"] = list(self.strides)
        return out


def regnet_widths(
    depth: int, w0: float, wa: float, wm: float, quantum: int
) -> list[tuple[int, int]]:
    """(blocks, width) per stage from RegNet's parameters (see `RegNetBody`)."""
    stages: list[tuple[int, int]] = []
    log_wm = math.log(wm)
    for j in range(depth):
        u = w0 + wa * j
        s = round(math.log(u / w0) / log_wm) if log_wm > 0 else 0
        w = int(round(w0 * wm**s / quantum) * quantum)
        w = max(w, quantum)
        if stages and stages[-1][1] == w:
            stages[-1] = (stages[-1][0] + 1, w)
        else:
            stages.append((1, w))
    return stages


def default_strides(n: int, given: tuple[int, ...] | None) -> list[int]:
    """Stride of each of ``n`` stages: ``given`` (padded with 2) or 1 then 2s."""
    if given:
        return [given[i] if i < len(given) else 2 for i in range(n)]
    return [1] + [2] * (n - 1)


def _knob_list(raw: Any, where: str, integer: bool) -> tuple[Knob, ...]:
    if isinstance(raw, list):
        if not raw or len(raw) > MAX_STAGES:
            raise SpaceError(f"{where}: one knob per stage, 1..{MAX_STAGES} of them")
        return tuple(parse_knob(k, f"{where}[{i}]", integer=integer) for i, k in enumerate(raw))
    return (parse_knob(raw, where, integer=integer),)


def _check_int_knob(knob: Knob, where: str, low: int, high: int) -> None:
    values = knob.choices if knob.choices is not None else (knob.low, knob.high)
    for v in values:
        if not isinstance(v, int) or isinstance(v, bool) or not low <= v <= high:
            raise SpaceError(f"{where}: whole numbers in {low}..{high}, got {v!r}")


def _strides(raw: Any, where: str) -> tuple[int, ...] | None:
    if raw is None:
        return None
    if not isinstance(raw, list) or not raw or any(s not in (1, 2) for s in raw):
        raise SpaceError(f"{where}: a list of 1s and 2s, got {raw!r:.60}")
    return tuple(raw)


def parse_body(raw: Any) -> StagesBody | RegNetBody | None:
    """The body from JSON (None: keep the base design's stages)."""
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise SpaceError(f"body: an object with 'type' 'stages' or 'regnet', got {raw!r:.60}")
    kind = raw.get("type", "stages")
    if kind == "stages":
        unknown = set(raw) - {"type", "num_stages", "depths", "widths", "strides", "increasing"}
        if unknown:
            raise SpaceError(f"body: unknown key(s) {sorted(unknown)} for type 'stages'")
        for key in ("depths", "widths"):
            if key not in raw:
                raise SpaceError(f"body.{key}: required (a knob, or a list of one per stage)")
        depths = _knob_list(raw["depths"], "body.depths", True)
        widths = _knob_list(raw["widths"], "body.widths", True)
        for i, k in enumerate(depths):
            _check_int_knob(k, f"body.depths[{i}]", 1, 1000)
        for i, k in enumerate(widths):
            _check_int_knob(k, f"body.widths[{i}]", 1, 8192)
        fixed_len = {len(ks) for ks in (depths, widths) if len(ks) > 1}
        if len(fixed_len) > 1:
            raise SpaceError("body: 'depths' and 'widths' lists must have the same length")
        if "num_stages" in raw:
            num = parse_knob(raw["num_stages"], "body.num_stages", integer=True)
        elif fixed_len:
            num = Knob(choices=(fixed_len.pop(),))
        else:
            raise SpaceError("body.num_stages: required when depths and widths are single knobs")
        _check_int_knob(num, "body.num_stages", 1, MAX_STAGES)
        if fixed_len and (not num.fixed or num.choices[0] != next(iter(fixed_len))):  # type: ignore[index]
            raise SpaceError("body.num_stages: must equal the length of the per-stage lists")
        increasing = raw.get("increasing", [])
        if not isinstance(increasing, list) or set(increasing) - {"depths", "widths"}:
            raise SpaceError(f"body.increasing: a list of 'depths' / 'widths', got {increasing!r}")
        return StagesBody(
            num, depths, widths, _strides(raw.get("strides"), "body.strides"), tuple(increasing)
        )
    if kind == "regnet":
        keys = {"type", "depth", "w0", "wa", "wm", "quantum", "num_stages", "strides"}
        unknown = set(raw) - keys
        if unknown:
            raise SpaceError(f"body: unknown key(s) {sorted(unknown)} for type 'regnet'")
        missing = [k for k in ("depth", "w0", "wa", "wm") if k not in raw]
        if missing:
            raise SpaceError(f"body: type 'regnet' needs {', '.join(missing)}")
        depth = parse_knob(raw["depth"], "body.depth", integer=True)
        _check_int_knob(depth, "body.depth", 1, 1000)
        w0 = parse_knob(raw["w0"], "body.w0")
        wa = parse_knob(raw["wa"], "body.wa", integer=False)
        wm = parse_knob(raw["wm"], "body.wm", integer=False)
        for name, knob, ok, allowed in (
            ("w0", w0, lambda v: v > 0, "> 0"),
            ("wa", wa, lambda v: v >= 0, ">= 0"),
            ("wm", wm, lambda v: v >= 1, ">= 1"),
        ):
            values = knob.choices if knob.choices is not None else (knob.low, knob.high)
            for v in values:
                if not _is_number(v) or not ok(v):
                    raise SpaceError(f"body.{name}: numbers {allowed}, got {v!r}")
        quantum = raw.get("quantum", 8)
        if not isinstance(quantum, int) or isinstance(quantum, bool) or not 1 <= quantum <= 512:
            raise SpaceError(f"body.quantum: a whole number 1..512, got {quantum!r}")
        num = None
        if "num_stages" in raw:
            num = parse_knob(raw["num_stages"], "body.num_stages", integer=True)
            _check_int_knob(num, "body.num_stages", 1, MAX_STAGES)
        return RegNetBody(
            depth, w0, wa, wm, quantum, num, _strides(raw.get("strides"), "body.strides")
        )
    raise SpaceError(f"body.type: 'stages' or 'regnet', got {kind!r}")


# --- the space --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Bound:
    """``min <= value <= max`` (either may be None)."""

    min: float | None = None
    max: float | None = None

    def to_json(self) -> dict[str, float]:
        return {k: v for k, v in (("min", self.min), ("max", self.max)) if v is not None}


@dataclass(frozen=True)
class Space:
    """A design space: a base design, knobs, a body and constraints. Build with `from_dict`."""

    name: str = "space"
    base: Design = field(default_factory=Design)
    base_name: str | None = None
    knobs: dict[str, Knob] = field(default_factory=dict)
    body: StagesBody | RegNetBody | None = None
    constraints: dict[str, Bound] = field(default_factory=dict)
    seed: int = 0
    max_draws_per_sample: int = 200

    # --- JSON ---------------------------------------------------------------------------

    @classmethod
    def from_dict(cls, data: Any) -> Space:
        """Validate a space given as a JSON object; raises `SpaceError` naming the key."""
        if not isinstance(data, dict):
            raise SpaceError(f"a space must be a JSON object, got {type(data).__name__}")
        unknown = set(data) - _TOP_KEYS
        if unknown:
            raise SpaceError(
                f"unknown key(s) {sorted(unknown)}; a space has {', '.join(sorted(_TOP_KEYS))}"
            )
        if data.get("schema", SCHEMA) != SCHEMA:
            raise SpaceError(f"schema {data['schema']!r}: this version reads {SCHEMA!r}")
        name = data.get("name", "space")
        if not isinstance(name, str) or not name.strip() or len(name) > 200:
            raise SpaceError(f"name: a short text, got {name!r:.60}")
        base, base_name = _parse_base(data.get("base"))
        knobs_raw = data.get("knobs", {})
        if not isinstance(knobs_raw, dict):
            raise SpaceError("knobs: an object of design field -> knob")
        knobs: dict[str, Knob] = {}
        for key, raw in knobs_raw.items():
            if key not in SCALAR_KNOBS:
                hint = " (stages come from 'body')" if key == "stages" else ""
                raise SpaceError(
                    f"knobs.{key}: not a design field{hint}; knobs: {', '.join(SCALAR_KNOBS)}"
                )
            knob = parse_knob(raw, f"knobs.{key}")
            _check_knob_values(key, knob)
            knobs[key] = knob
        body = parse_body(data.get("body"))
        constraints = _parse_constraints(data.get("constraints", {}))
        seed = data.get("seed", 0)
        if not isinstance(seed, int) or isinstance(seed, bool):
            raise SpaceError(f"seed: a whole number, got {seed!r}")
        draws = data.get("max_draws_per_sample", 200)
        if not isinstance(draws, int) or isinstance(draws, bool) or not 1 <= draws <= 100_000:
            raise SpaceError(f"max_draws_per_sample: 1..100000, got {draws!r}")
        return cls(name.strip(), base, base_name, knobs, body, constraints, seed, draws)

    @classmethod
    def from_json(cls, text: str | bytes) -> Space:
        if len(text) > MAX_SPACE_BYTES:
            raise SpaceError(f"space JSON is {len(text):,} bytes; at most {MAX_SPACE_BYTES:,}")
        return cls.from_dict(jsonio.parse(text, what="space JSON", error=SpaceError))

    @classmethod
    def load(cls, path: str | Path) -> Space:
        """Read a SPACE.json file (`SpaceError` when missing, unreadable or invalid)."""
        from resnet_explorer.files import read_text_limited

        path = Path(path)
        text = read_text_limited(path, MAX_SPACE_BYTES, what="space file", error=SpaceError)
        try:
            return cls.from_json(text)
        except SpaceError as exc:
            raise SpaceError(f"{path}: {exc}") from None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"schema": SCHEMA, "name": self.name}
        out["base"] = self.base_name if self.base_name else self.base.to_dict()
        out["knobs"] = {k: v.to_json() for k, v in self.knobs.items()}
        if self.body is not None:
            out["body"] = self.body.to_json()
        out["constraints"] = {k: b.to_json() for k, b in self.constraints.items()}
        out["seed"] = self.seed
        out["max_draws_per_sample"] = self.max_draws_per_sample
        return out

    def to_json(self, *, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent)

    # --- facts ------------------------------------------------------------------------------

    def knob_names(self) -> list[str]:
        """Names of the recorded knobs of every sample (columns for scatter plots and EDFs)."""
        names = [k for k, v in self.knobs.items() if not v.fixed]
        body = self.body
        if isinstance(body, StagesBody):
            names += ["num_stages", "blocks"]
            n = max(len(body.depths), len(body.widths), *_choices_max(body.num_stages))
            names += [f"d{i + 1}" for i in range(n)] + [f"w{i + 1}" for i in range(n)]
        elif isinstance(body, RegNetBody):
            names += ["regnet_depth", "w0", "wa", "wm", "num_stages"]
        return [*names, "depth"]


def _choices_max(knob: Knob) -> tuple[int]:
    if knob.choices is not None:
        return (max(int(c) for c in knob.choices),)
    return (int(knob.high),)  # type: ignore[arg-type]


def _parse_base(raw: Any) -> tuple[Design, str | None]:
    from resnet_explorer import presets

    if raw is None:
        return Design(), None
    if isinstance(raw, str):
        if raw not in presets.names():
            raise SpaceError(
                f"base: {raw!r} is not a preset; presets: {', '.join(presets.names())}"
            )
        return presets.get(raw), raw
    try:
        return Design.from_dict(raw), None
    except DesignError as exc:
        raise SpaceError(f"base: {exc}") from None


def _check_knob_values(key: str, knob: Knob) -> None:
    """Each choice (or each bound) must be a valid value of the field on its own.

    Problems of a combination (groups with basic blocks, widths not divisible into groups, ...)
    are not errors here: such samples are rejected, and counted, when drawn.
    """
    values = knob.choices if knob.choices is not None else (knob.low, knob.high)
    extra = {"block": "bottleneck"} if key in BOTTLENECK_ONLY else {}
    for value in values:
        try:
            Design(**extra, **{key: value})
        except DesignError as exc:
            if exc.field is None:  # a model-level (combination) check
                continue
            message = str(exc).removeprefix("invalid design: ")
            raise SpaceError(f"knobs.{key}: {message}") from None


def _parse_constraints(raw: Any) -> dict[str, Bound]:
    if not isinstance(raw, dict):
        raise SpaceError("constraints: an object of metric -> {min?, max?}")
    out: dict[str, Bound] = {}
    for key, bound in raw.items():
        if key not in CONSTRAINT_METRICS:
            raise SpaceError(f"constraints.{key}: use one of {', '.join(CONSTRAINT_METRICS)}")
        if not isinstance(bound, dict) or not bound or set(bound) - {"min", "max"}:
            raise SpaceError(f"constraints.{key}: an object with 'min' and/or 'max'")
        lo, hi = bound.get("min"), bound.get("max")
        for name, v in (("min", lo), ("max", hi)):
            if v is not None and (not _is_number(v) or v < 0):
                raise SpaceError(f"constraints.{key}.{name}: a number >= 0, got {v!r}")
        if lo is not None and hi is not None and lo > hi:
            raise SpaceError(f"constraints.{key}: min {lo} > max {hi}")
        out[key] = Bound(lo, hi)
    return out
