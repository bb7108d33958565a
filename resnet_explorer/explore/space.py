"""A design space: which knobs vary, over which values, under which budget.

A space is a base design plus knobs. Each knob is fixed, a choice, or a range (uniform or
log-uniform, integer or real, optionally stepped). Scalar knobs are `Design` fields (``block``,
``expansion``, ``groups``, ``width_per_group``, ``shortcut``, ``activation_order``, ``stem``,
...). The body is either explicit stages (``num_stages``, ``depths``, ``widths``, ``strides``) or
RegNet's quantized linear widths (``regnet``: ``depth``, ``w0``, ``wa``, ``wm``, ``quantum``).
Constraints bound analytic figures (``params``, ``macs``, ``flops``, ``activations``,
``activation_mb``, ``depth``). The JSON format is documented in docs/explore.md.

Every part is a frozen pydantic model (``extra="forbid"``); `Space.from_dict` validates a whole
space and raises one `SpaceError` whose message names each bad key, the value and what is
allowed (``knobs.groups: low=4, high=1: numbers with low <= high``).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationError,
    model_validator,
)

from resnet_explorer import jsonio, validation
from resnet_explorer.design import Design, StrictInt, Stride
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


def _is_number(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)


def check_request(samples: Any, seed: Any) -> None:
    """Refuse (`SpaceError`) a sample count or a seed that sampling cannot use."""
    if not _whole(samples) or not 1 <= samples <= MAX_SAMPLES:
        raise SpaceError(f"samples={samples!r}: a whole number 1..{MAX_SAMPLES}")
    if not _whole(seed) or not 0 <= seed <= MAX_SEED:
        raise SpaceError(f"seed={seed!r}: a whole number 0..{MAX_SEED} (2**63 - 1)")


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def _finite(value: Any) -> Any:
    if not _is_number(value):
        raise ValueError(f"a finite number, got {validation.short(value)}")
    return value


Number = Annotated[int | float, BeforeValidator(_finite)]


# --- knobs ------------------------------------------------------------------------------------


def _ceil_to(x: float, step: float) -> float:
    return math.ceil(x / step - 1e-9) * step


def _floor_to(x: float, step: float) -> float:
    return math.floor(x / step + 1e-9) * step


class SpaceKnob(_Model):
    """One varying value of a space: ``choices`` (uniform pick) or a range ``low``..``high``.

    A range is integer when ``integer`` (default: both bounds are ints), log-uniform when
    ``log``, and snapped to multiples of ``step`` when given. A fixed value is a one-choice knob.
    In JSON: a plain value (fixed), ``{"choices": [...]}`` or ``{"low", "high", "log"?,
    "step"?, "integer"?}``. (Named apart from the editor's widget `ui.editor.Knob`.)
    """

    choices: tuple[str | int | float | bool | None, ...] | None = Field(default=None, min_length=1)
    low: Number | None = None
    high: Number | None = None
    log: Annotated[bool, Field(strict=True)] = False
    integer: Annotated[bool, Field(strict=True)] = False
    step: Number | None = None

    @model_validator(mode="before")
    @classmethod
    def _from_json(cls, raw: Any) -> Any:
        if isinstance(raw, SpaceKnob):
            return raw
        if isinstance(raw, list):
            raise ValueError('a list; write {"choices": [...]} for a choice')
        if not isinstance(raw, dict):
            return {"choices": (raw,)}
        keys = set(raw)
        if "choices" in raw:
            if keys - {"choices"}:
                raise ValueError(f"'choices' goes alone, got also {sorted(keys - {'choices'})}")
            values = raw["choices"]
            if not isinstance(values, list | tuple) or not values:
                raise ValueError(f"choices: a non-empty list, got {validation.short(values)}")
            if any(isinstance(v, dict | list | tuple) for v in values):
                raise ValueError("choices: plain values only")
            return {"choices": tuple(values)}
        if keys - {"low", "high", "log", "step", "integer"} or not {"low", "high"} <= keys:
            raise ValueError(
                "a range needs 'low' and 'high' (optional 'log', 'step', 'integer'); got keys "
                f"{sorted(map(str, keys))}"
            )
        if raw.get("integer") is None:
            low, high, step = raw["low"], raw["high"], raw.get("step")
            whole_step = step is None or (_is_number(step) and step == int(step))
            raw = {**raw, "integer": _whole(low) and _whole(high) and whole_step}
        return raw

    @model_validator(mode="after")
    def _check_range(self) -> SpaceKnob:
        if self.choices is not None:
            return self
        low, high, step = self.low, self.high, self.step
        if low > high:  # type: ignore[operator]
            raise ValueError(f"low={low!r}, high={high!r}: numbers with low <= high")
        if self.log and low <= 0:  # type: ignore[operator]
            raise ValueError(f"a log-uniform range needs low > 0, got {low!r}")
        if step is not None:
            if step <= 0:
                raise ValueError(f"step: a number > 0, got {step!r}")
            if (high - low) / step > MAX_STEPS:  # type: ignore[operator]
                raise ValueError(
                    f"step {step!r} cuts {low}..{high} into more than {MAX_STEPS:,} values; use "
                    "a larger step, or none for a continuous range"
                )
            if _ceil_to(low, step) > _floor_to(high, step) + 1e-9:  # type: ignore[arg-type]
                raise ValueError(f"no multiple of step {step} lies in {low}..{high}")
        return self

    @property
    def fixed(self) -> bool:
        return self.choices is not None and len(self.choices) == 1

    def values(self) -> tuple[Any, ...]:
        """The choices, or the two bounds of a range."""
        return self.choices if self.choices is not None else (self.low, self.high)

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
        if self.integer and not (_whole(self.low) and _whole(self.high)):
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


def _whole_knob(low: int, high: int) -> AfterValidator:
    """A knob of whole numbers in ``low..high`` (stage counts, depths, widths)."""

    def check(knob: SpaceKnob) -> SpaceKnob:
        if knob.choices is None and not knob.integer:
            raise ValueError(f"whole numbers only, got low={knob.low!r}, high={knob.high!r}")
        for v in knob.values():
            if not _whole(v) or not low <= v <= high:
                raise ValueError(f"whole numbers in {low}..{high}, got {validation.short(v)}")
        return knob

    return AfterValidator(check)


def _real_knob(low: float, high: float, allowed: str, *, real: bool = True) -> AfterValidator:
    """A knob of numbers in ``low..high`` (RegNet's w0, wa, wm); ``real``: never rounded, even
    with whole bounds."""

    def check(knob: SpaceKnob) -> SpaceKnob:
        for v in knob.values():
            if not _is_number(v) or not low <= v <= high:
                raise ValueError(f"numbers {allowed}, got {validation.short(v)}")
        return knob.model_copy(update={"integer": False}) if real and knob.integer else knob

    return AfterValidator(check)


def _one_or_many(value: Any) -> Any:
    return value if isinstance(value, list | tuple) else [value]


StageCount = Annotated[SpaceKnob, _whole_knob(1, MAX_STAGES)]
DepthKnobs = Annotated[
    tuple[Annotated[SpaceKnob, _whole_knob(1, 1000)], ...],
    BeforeValidator(_one_or_many),
    Field(min_length=1, max_length=MAX_STAGES),
]
WidthKnobs = Annotated[
    tuple[Annotated[SpaceKnob, _whole_knob(1, 8192)], ...],
    BeforeValidator(_one_or_many),
    Field(min_length=1, max_length=MAX_STAGES),
]
Strides = Annotated[tuple[Stride, ...], Field(min_length=1)]


# --- body -------------------------------------------------------------------------------------


class StagesBody(_Model):
    """Explicit stages: a count, then per-stage depth (blocks) and width (planes).

    ``depths`` / ``widths`` hold one knob for every stage, or one per stage (the count is then
    fixed to that length). ``strides``: per stage (default: 1 for the first, 2 after).
    ``increasing``: require non-decreasing ``widths`` / ``depths`` (RegNet's AnyNetX_D/E);
    samples that break it are rejected.
    """

    type: Literal["stages"] = "stages"
    num_stages: StageCount | None = None  # given, or the length of the per-stage lists
    depths: DepthKnobs
    widths: WidthKnobs
    strides: Strides | None = None
    increasing: tuple[Literal["depths", "widths"], ...] = ()

    @model_validator(mode="before")
    @classmethod
    def _count(cls, raw: Any) -> Any:
        if not isinstance(raw, dict) or raw.get("num_stages") is not None:
            return raw
        lengths = {len(raw[k]) for k in ("depths", "widths") if isinstance(raw.get(k), list)}
        lengths.discard(1)
        if len(lengths) == 1:
            return {**raw, "num_stages": lengths.pop()}
        if not lengths and "depths" in raw and "widths" in raw:
            raise ValueError("body.num_stages: required when depths and widths are single knobs")
        return raw

    @model_validator(mode="after")
    def _lists_agree(self) -> StagesBody:
        lengths = {len(ks) for ks in (self.depths, self.widths) if len(ks) > 1}
        if len(lengths) > 1:
            raise ValueError("body: 'depths' and 'widths' lists must have the same length")
        if self.num_stages is None:
            raise ValueError("body.num_stages: required when depths and widths are single knobs")
        if lengths and (not self.num_stages.fixed or self.num_stages.choices[0] not in lengths):
            raise ValueError("body.num_stages: must equal the length of the per-stage lists")
        return self

    def to_json(self) -> dict[str, Any]:
        def knobs(ks: tuple[SpaceKnob, ...]) -> Any:
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


class RegNetBody(_Model):
    """RegNet's quantized linear widths (Radosavovic et al. 2020, Sec. 3.3).

    Block j of ``depth`` gets ``u_j = w0 + wa * j``; ``s_j = round(log(u_j / w0) / log(wm))``;
    its width is ``w0 * wm ** s_j`` rounded to a multiple of ``quantum``. Consecutive blocks of
    equal width form a stage. ``num_stages`` (optional) keeps only samples with that many stages;
    ``increasing: ["depths"]`` only those whose stage depths do not decrease (the widths never
    do). With ``group_width`` / ``bottleneck_ratio`` knobs (shared by every stage) the widths
    are made group-compatible as pycls does (`regnet.compatible_widths`).
    Bounds keep every width finite: ``w0`` 1..8192, ``wa`` 0..8192, ``wm`` 1..100.
    """

    type: Literal["regnet"] = "regnet"
    depth: Annotated[SpaceKnob, _whole_knob(1, 1000)]
    w0: Annotated[SpaceKnob, _real_knob(1, 8192, "in 1..8192", real=False)]
    wa: Annotated[SpaceKnob, _real_knob(0, 8192, "in 0..8192")]
    wm: Annotated[SpaceKnob, _real_knob(1, 100, "in 1..100")]
    quantum: StrictInt = Field(default=8, ge=1, le=512)
    num_stages: StageCount | None = None
    strides: Strides | None = None
    increasing: tuple[Literal["depths"], ...] = ()

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
        if self.increasing:
            out["increasing"] = list(self.increasing)
        return out


def _body_kind(raw: Any) -> str | None:
    if isinstance(raw, dict):
        kind = raw.get("type", "stages")
        return kind if kind in ("stages", "regnet") else None
    return getattr(raw, "type", None)


Body = Annotated[
    Annotated[StagesBody, Tag("stages")] | Annotated[RegNetBody, Tag("regnet")],
    Discriminator(
        _body_kind,
        custom_error_type="body_type",
        custom_error_message="an object with 'type' 'stages' (default) or 'regnet'",
    ),
]


def default_strides(n: int, given: tuple[int, ...] | None) -> list[int]:
    """Stride of each of ``n`` stages: ``given`` (padded with 2) or 1 then 2s."""
    if given:
        return [given[i] if i < len(given) else 2 for i in range(n)]
    return [1] + [2] * (n - 1)


# --- the space --------------------------------------------------------------------------------


class Bound(_Model):
    """``min <= value <= max`` (either may be None, not both)."""

    min: Annotated[Number, Field(ge=0)] | None = None
    max: Annotated[Number, Field(ge=0)] | None = None

    @model_validator(mode="after")
    def _ordered(self) -> Bound:
        if self.min is None and self.max is None:
            raise ValueError("an object with 'min' and/or 'max'")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min {self.min} > max {self.max}")
        return self

    def to_json(self) -> dict[str, float]:
        return {k: v for k, v in (("min", self.min), ("max", self.max)) if v is not None}


def _base(raw: Any) -> Design:
    from resnet_explorer import presets

    if raw is None:
        return Design()
    if isinstance(raw, Design):
        return raw
    if isinstance(raw, str):
        if raw not in presets.names():
            raise ValueError(f"{raw!r} is not a preset; presets: {', '.join(presets.names())}")
        return presets.get(raw)
    return Design.from_dict(raw)


def _name(raw: Any) -> str:
    if not isinstance(raw, str) or not raw.strip() or len(raw) > 200:
        raise ValueError(f"a short text, got {validation.short(raw)}")
    return raw.strip()


class Space(_Model):
    """A design space: a base design, knobs, a body and constraints. Build with `from_dict`
    (JSON data), `from_json` or `load` (a file); keywords work too (``Space(name="cifar")``)."""

    name: Annotated[str, BeforeValidator(_name)] = "space"
    base: Annotated[Design, BeforeValidator(_base)] = Field(default_factory=Design)
    base_name: str | None = None
    knobs: dict[str, SpaceKnob] = Field(default_factory=dict)
    body: Body | None = None
    constraints: dict[str, Bound] = Field(default_factory=dict)
    seed: StrictInt = Field(default=0, ge=0, le=MAX_SEED)
    max_draws_per_sample: StrictInt = Field(default=200, ge=1, le=100_000)

    @model_validator(mode="before")
    @classmethod
    def _keys(cls, data: Any) -> Any:
        """The checks whose message names a key pydantic would not (a knob that is not a field,
        a metric that cannot be bounded)."""
        if not isinstance(data, dict):
            raise ValueError(f"a space must be a JSON object, got {type(data).__name__}")
        data = dict(data)
        knobs = data.get("knobs", {})
        for key in knobs if isinstance(knobs, dict) else ():
            if key not in SCALAR_KNOBS:
                hint = " (stages come from 'body')" if key == "stages" else ""
                raise ValueError(
                    f"knobs.{key}: not a design field{hint}; knobs: {', '.join(SCALAR_KNOBS)}"
                )
        constraints = data.get("constraints", {})
        for key in constraints if isinstance(constraints, dict) else ():
            if key not in CONSTRAINT_METRICS:
                raise ValueError(f"constraints.{key}: use one of {', '.join(CONSTRAINT_METRICS)}")
        if isinstance(data.get("base"), str) and "base_name" not in data:
            data["base_name"] = data["base"]
        return data

    @model_validator(mode="after")
    def _knob_values(self) -> Space:
        for key, knob in self.knobs.items():
            _check_knob_values(key, knob)
        return self

    # --- JSON ---------------------------------------------------------------------------

    @classmethod
    def from_dict(cls, data: Any) -> Space:
        """Validate a space given as a JSON object; raises `SpaceError` naming the key."""
        if not isinstance(data, dict):
            raise SpaceError(f"a space must be a JSON object, got {type(data).__name__}")
        unknown = set(data) - _TOP_KEYS
        if unknown:
            raise SpaceError(
                f"unknown key(s) {sorted(map(str, unknown))}; a space has "
                f"{', '.join(sorted(_TOP_KEYS))}"
            )
        if data.get("schema", SCHEMA) != SCHEMA:
            raise SpaceError(
                f"schema {validation.short(data['schema'])}: this version reads {SCHEMA!r}"
            )
        data = {k: v for k, v in data.items() if k != "schema"}
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            problems = validation.describe(exc, root="space", clean=_loc)
            raise SpaceError("; ".join(problems)) from None

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


def _loc(loc: tuple[Any, ...]) -> tuple[Any, ...]:
    """Leave the body's union tag (``body.regnet.wm``) out of the names in messages."""
    if len(loc) > 1 and loc[0] == "body" and loc[1] in ("stages", "regnet"):
        return (loc[0], *loc[2:])
    return loc


def _choices_max(knob: SpaceKnob) -> tuple[int]:
    if knob.choices is not None:
        return (max(int(c) for c in knob.choices),)
    return (int(knob.high),)  # type: ignore[arg-type]


def _check_knob_values(key: str, knob: SpaceKnob) -> None:
    """Each choice (or each bound) must be a valid value of the field on its own.

    Problems of a combination (groups with basic blocks, widths not divisible into groups, ...)
    are not errors here: such samples are rejected, and counted, when drawn.
    """
    extra = {"block": "bottleneck"} if key in BOTTLENECK_ONLY else {}
    for value in knob.values():
        try:
            Design(**extra, **{key: value})
        except DesignError as exc:
            if exc.field is None:  # a model-level (combination) check
                continue
            message = str(exc).removeprefix("invalid design: ")
            raise ValueError(f"knobs.{key}: {message}") from None

