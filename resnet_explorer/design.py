"""The `Design`: one validated, immutable value that says exactly which network to build.

Everything in ResNet Explorer consumes a `Design`: the builder turns it into a `torch.nn.Module`,
the analysis counts it, the diagrams draw it, the probes train it and the store keeps it.

Conventions (shared with torchvision's ``models/resnet.py``):

* A stage's ``width`` is its "planes": a basic block outputs ``width`` channels (times the
  width factor), a bottleneck outputs ``width * expansion``.
* A bottleneck's inner (3x3) width is ``int(width * width_factor * width_per_group / 64) * groups``,
  which is torchvision's ResNeXt / Wide ResNet formula.
* ``stem_width`` is the number of channels that leave the stem.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import math
import zlib
from typing import Annotated, Any, Literal, NamedTuple

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    Strict,
    ValidationError,
    model_validator,
)
from pydantic_core import PydanticCustomError

from resnet_explorer import jsonio, validation
from resnet_explorer.errors import DesignError
from resnet_explorer.shapes import (
    channels_per_group,
    network_depth,
    norm_groups,
    stage_shapes,
    stem_stride,
)
from resnet_explorer.validation import first_field, short

BlockType = Literal["basic", "bottleneck"]
StemType = Literal["imagenet", "cifar", "deep", "deep_tiered"]
ShortcutOption = Literal["A", "B", "C", "D", "none"]
ActivationOrder = Literal[
    "original", "bn_after_add", "relu_before_add", "relu_only_preact", "full_preact"
]
ActivationFunction = Literal["relu", "gelu", "silu"]
Normalization = Literal["batch", "group", "none"]
StridePlacement = Literal["3x3", "1x1"]
InitScheme = Literal["kaiming_fan_out", "kaiming_fan_in", "xavier", "torch_default"]

BLOCK_TYPES: tuple[str, ...] = ("basic", "bottleneck")
STEMS: tuple[str, ...] = ("imagenet", "cifar", "deep", "deep_tiered")
SHORTCUTS: tuple[str, ...] = ("A", "B", "C", "D", "none")
ACTIVATION_ORDERS: tuple[str, ...] = (
    "original",
    "bn_after_add",
    "relu_before_add",
    "relu_only_preact",
    "full_preact",
)
ACTIVATIONS: tuple[str, ...] = ("relu", "gelu", "silu")
NORMALIZATIONS: tuple[str, ...] = ("batch", "group", "none")
INIT_SCHEMES: tuple[str, ...] = ("kaiming_fan_out", "kaiming_fan_in", "xavier", "torch_default")

#: Human descriptions, for the app, the CLI and the docs.
SHORTCUT_DESCRIPTIONS: dict[str, str] = {
    "A": "identity; zero-pad channels and subsample where the shape changes (no parameters)",
    "B": "identity; 1x1 projection where the shape changes",
    "C": "1x1 projection in every block",
    "D": "identity; 2x2 average pool then 1x1 projection where the shape changes (ResNet-D)",
    "none": "no shortcut: a plain network",
}
ACTIVATION_ORDER_DESCRIPTIONS: dict[str, str] = {
    "original": "(a) conv-BN-ReLU ... conv-BN, add, then ReLU",
    "bn_after_add": "(b) BN after the addition: conv-BN-ReLU ... conv, add, BN, ReLU",
    "relu_before_add": "(c) ReLU before the addition: conv-BN-ReLU ... conv-BN-ReLU, add",
    "relu_only_preact": "(d) ReLU-only pre-activation: ReLU-conv-BN ..., add",
    "full_preact": "(e) full pre-activation: BN-ReLU-conv ..., add",
}
PREACT_ORDERS: frozenset[str] = frozenset({"relu_only_preact", "full_preact"})


def default_final_norm(activation_order: str) -> bool:
    """``final_norm``'s default: the pre-activation head (norm + activation after the last stage)
    belongs to full pre-activation, whose blocks end on a bare addition."""
    return activation_order == "full_preact"


FORMAT_VERSION = 1
_URL_PREFIX = "v1."
MAX_JSON_BYTES = 64 * 1024
_DAMAGED_LINK = "this design link is damaged or incomplete; copy the whole link again"

# Strict values: JSON's "224", 224.0, true or "yes" are not an image size or a flag (lax
# coercion once turned `true` into image size 1). Floats accept whole numbers (2 -> 2.0).
StrictInt = Annotated[int, Strict()]
StrictFloat = Annotated[float, Strict()]
StrictBool = Annotated[bool, Strict()]


def _whole_stride(value: Any) -> Any:
    # Literal[1, 2] alone accepts True and 2.0 (they compare equal); a stride is a whole number.
    if isinstance(value, bool) or not isinstance(value, int):
        raise PydanticCustomError("literal_error", "Input should be 1 or 2")
    return value


Stride = Annotated[Literal[1, 2], BeforeValidator(_whole_stride)]


class Stage(BaseModel):
    """One stage: ``blocks`` residual blocks of ``width`` planes, the first with ``stride``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    blocks: StrictInt = Field(ge=1, le=1000, description="number of blocks in the stage")
    width: StrictInt = Field(
        ge=1, le=8192, description="planes (bottleneck output is width x expansion)"
    )
    stride: Stride = Field(default=1, description="stride of the stage's first block")
    block: BlockType | None = Field(
        default=None, description="block type of this stage; None = the design's block type"
    )


class DesignDraft:
    """A design's fields, unvalidated, as attributes (`Design.unvalidated`)."""

    def __init__(self, data: dict[str, Any]) -> None:
        fields = {**_FIELD_DEFAULTS, **data}
        if data.get("final_norm") is None:
            fields["final_norm"] = default_final_norm(fields["activation_order"])
        fields["stages"] = tuple(
            s
            if isinstance(s, Stage)
            else StageDraft(s["blocks"], s["width"], s.get("stride", 1), s.get("block"))
            for s in fields["stages"]
        )
        self.__dict__ = fields

    @property
    def depth(self) -> int:
        return network_depth(self)


class StageDraft(NamedTuple):
    """An unvalidated stage, for counting a draw (`Design.unvalidated`)."""

    blocks: int
    width: int
    stride: int = 1
    block: str | None = None


def _stages(*spec: tuple[int, int, int]) -> tuple[Stage, ...]:
    return tuple(Stage(blocks=b, width=w, stride=s) for b, w, s in spec)


_DEFAULT_STAGES = _stages((2, 64, 1), (2, 128, 2), (2, 256, 2), (2, 512, 2))


class Design(BaseModel):
    """A ResNet-family architecture. Immutable; construct with keywords or `Design.from_json`.

    ``Design()`` is torchvision's ResNet-18. Invalid input raises `DesignError`.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    # input
    in_channels: StrictInt = Field(default=3, ge=1, le=64)
    image_size: StrictInt = Field(default=224, ge=1, le=2048)
    num_classes: StrictInt = Field(default=1000, ge=1, le=100_000)
    # stem
    stem: StemType = "imagenet"
    stem_width: StrictInt = Field(default=64, ge=1, le=1024)
    # body
    stages: tuple[Stage, ...] = Field(default=_DEFAULT_STAGES, min_length=1, max_length=12)
    block: BlockType = "basic"
    expansion: StrictInt = Field(default=4, ge=1, le=16)
    stride_on: StridePlacement = "3x3"
    groups: StrictInt = Field(default=1, ge=1, le=1024)
    width_per_group: StrictInt = Field(default=64, ge=1, le=4096)
    width_factor: StrictFloat = Field(default=1.0, gt=0, le=32, allow_inf_nan=False)
    shortcut: ShortcutOption = "B"
    activation_order: ActivationOrder = "original"
    activation: ActivationFunction = "relu"
    norm: Normalization = "batch"
    zero_init_residual: StrictBool = False
    stochastic_depth: StrictFloat = Field(default=0.0, ge=0, lt=1, allow_inf_nan=False)
    init: InitScheme = "kaiming_fan_out"
    # head
    final_norm: StrictBool = Field(
        default=False,
        description="norm + activation after the last stage (the pre-activation head); "
        "defaults to True for full_preact",
    )
    dropout: StrictFloat = Field(default=0.0, ge=0, lt=1, allow_inf_nan=False)

    # --- construction -------------------------------------------------------------------

    def __init__(self, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise DesignError(_format_validation_error(exc), field=first_field(exc)) from None

    @classmethod
    def model_validate(cls, obj: Any, **kwargs: Any) -> Design:  # type: ignore[override]
        try:
            return super().model_validate(obj, **kwargs)
        except ValidationError as exc:
            # pydantic calls our __init__, which already raised a DesignError: pass it on.
            for err in exc.errors():
                if isinstance(err.get("ctx", {}).get("error"), DesignError):
                    raise err["ctx"]["error"] from None
            raise DesignError(_format_validation_error(exc), field=first_field(exc)) from None

    @classmethod
    def unvalidated(cls, data: dict[str, Any]) -> DesignDraft:
        """The fields of a design from ``data`` WITHOUT validation, defaults and derived
        defaults filled in: for counting a draw before paying for its validation (the
        design-space sampler). Counting reads fields only; never build from a draft."""
        return DesignDraft(data)

    @model_validator(mode="before")
    @classmethod
    def _fill_derived_defaults(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        data = dict(data)
        if data.get("final_norm") is None:
            data["final_norm"] = default_final_norm(data.get("activation_order", "original"))
        return data

    @model_validator(mode="after")
    def _check_consistency(self) -> Design:
        self._check_knob_combinations()
        self._check_group_shares()
        shapes = stage_shapes(self)
        channels = self.stem_width
        for i, shape in enumerate(shapes):
            if self.shortcut == "A" and shape.out_channels < channels:
                raise ValueError(
                    f"shortcut='A': stage {i} narrows {channels} -> {shape.out_channels} "
                    "channels, which zero-padding cannot do; use B, C or D, or widen the stage"
                )
            if self.norm == "group":
                # a stage's own norms see its inner and output widths at its output size; its
                # input width was checked with the stage before (or is the stem's)
                self._check_group_norm(i, (shape.inner, shape.out_channels), shape.out_size)
            channels = shape.out_channels
        factor = self.downsampling()
        if self.image_size < factor:
            raise ValueError(
                f"image_size={self.image_size} is too small: the design downsamples by {factor} "
                f"(stem /{self.stem_stride()}, stages /{factor // self.stem_stride()}); use "
                f"image_size >= {factor}"
            )
        return self

    def _check_knob_combinations(self) -> None:
        kinds = {stage.block or self.block for stage in self.stages}
        if "basic" in kinds and (self.groups != 1 or self.width_per_group != 64):
            raise ValueError(
                f"groups={self.groups}, width_per_group={self.width_per_group}: grouped "
                "convolutions (ResNeXt) apply to bottleneck blocks only; use groups=1 and "
                "width_per_group=64 with basic blocks"
            )
        if self.shortcut == "none" and self.zero_init_residual:
            raise ValueError(
                "zero_init_residual=True: a plain network (shortcut 'none') would output zeros; "
                "zero-init needs a shortcut"
            )
        if self.shortcut == "none" and self.stochastic_depth > 0:
            raise ValueError(
                f"stochastic_depth={self.stochastic_depth}: dropping a block of a plain network "
                "(shortcut 'none') drops the whole signal; use 0"
            )
        if self.stem == "deep_tiered" and self.stem_width < 8:
            raise ValueError(f"stem_width={self.stem_width}: the tiered deep stem needs >= 8")
        if self.stem == "deep" and self.stem_width < 2:
            raise ValueError(f"stem_width={self.stem_width}: the deep stem needs >= 2")

    def _check_group_shares(self) -> None:
        """Each group of a stage's 3x3 conv must get a whole number (>= 1) of channels."""
        for i, stage in enumerate(self.stages):
            kind = stage.block or self.block
            per_group = channels_per_group(self, kind, stage.width)
            if per_group < 1 or per_group != int(per_group):
                knobs = f"width_factor={self.width_factor:g}"
                if kind == "bottleneck":
                    knobs += f", groups={self.groups}, width_per_group={self.width_per_group}"
                raise ValueError(
                    f"stages[{i}].width={stage.width} is not divisible into groups: with {knobs} "
                    f"each group would get {per_group:g} channels; it must be a whole number "
                    ">= 1 (change the width, width_per_group or width_factor)"
                )

    def _check_group_norm(self, stage: int, widths: tuple[int, ...], size: int) -> None:
        """A group norm over a single value per group (1x1 maps, one channel per group)
        outputs zeros and cannot be trained; refuse such a design."""
        for width in widths:
            if width // norm_groups(width) * size * size < 2:
                raise ValueError(
                    f"norm='group': stage {stage} normalizes {width} channels in groups of "
                    f"{width // norm_groups(width)} on {size}x{size} maps, a single value per "
                    "group, which cannot be trained; use batch norm, wider stages or a larger "
                    "image_size"
                )

    # --- derived facts ---------------------------------------------------------------------

    def block_type(self, stage: int) -> str:
        """Block type of stage ``stage`` (its own, else the design's)."""
        return self.stages[stage].block or self.block

    def stem_stride(self) -> int:
        """Downsampling done by the stem (4 with a max-pool stem, 1 for the CIFAR stem)."""
        return stem_stride(self.stem)

    def downsampling(self) -> int:
        """Total downsampling factor of stem and stages."""
        return self.stem_stride() * math.prod(s.stride for s in self.stages)

    @property
    def depth(self) -> int:
        """Layers with weights on the main path, as the papers count them (e.g. 50, 110)."""
        return network_depth(self)

    @property
    def is_plain(self) -> bool:
        """True when the network has no shortcuts."""
        return self.shortcut == "none"

    # --- serialization ---------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able dict with every field."""
        data = self.model_dump(mode="json")
        for stage in data["stages"]:
            if stage["block"] is None:
                del stage["block"]
        return data

    def to_json(self, *, indent: int | None = None) -> str:
        """Canonical JSON (sorted keys). Equal designs give equal strings."""
        separators = (",", ":") if indent is None else (",", ": ")
        return json.dumps(self.to_dict(), sort_keys=True, indent=indent, separators=separators)

    @classmethod
    def from_json(cls, text: str | bytes) -> Design:
        """Parse a design from JSON text; malformed input raises `DesignError`."""
        if len(text) > MAX_JSON_BYTES:
            raise DesignError(
                f"design JSON is {len(text):,} bytes; at most {MAX_JSON_BYTES:,} are accepted"
            )
        return cls.from_dict(jsonio.parse(text, what="design JSON", error=DesignError))

    @classmethod
    def from_dict(cls, data: Any) -> Design:
        """Build a design from a dict such as `to_dict` returns."""
        if not isinstance(data, dict):
            raise DesignError(
                f"a design must be a JSON object, got {type(data).__name__}: {short(data)}"
            )
        return cls.model_validate(data)

    @property
    def hash(self) -> str:
        """Canonical hash: 16 hex digits of the SHA-256 of the canonical JSON."""
        return hashlib.sha256(self.to_json().encode()).hexdigest()[:16]

    def to_url(self) -> str:
        """Compact URL-safe encoding (only fields that differ from `Design()`), see `from_url`."""
        data = self.to_dict()
        defaults = Design().to_dict()
        diff = {k: v for k, v in data.items() if defaults[k] != v and k != "final_norm"}
        if self.final_norm != default_final_norm(self.activation_order):
            diff["final_norm"] = self.final_norm  # only when it differs from the derived default
        raw = json.dumps(diff, sort_keys=True, separators=(",", ":")).encode()
        packed = base64.urlsafe_b64encode(zlib.compress(raw, 9)).rstrip(b"=").decode()
        return _URL_PREFIX + packed

    @classmethod
    def from_url(cls, token: str) -> Design:
        """Decode `to_url`'s token; a broken or tampered token raises `DesignError`."""
        if not isinstance(token, str) or not token.startswith(_URL_PREFIX):
            raise DesignError(f"design link {short(token)} is not a ResNet Explorer design (v1.)")
        body = token[len(_URL_PREFIX) :]
        if len(body) > 4 * MAX_JSON_BYTES:
            raise DesignError("design link is too long")
        try:
            packed = base64.b64decode(body + "=" * (-len(body) % 4), b"-_", validate=True)
            inflater = zlib.decompressobj()
            raw = inflater.decompress(packed, MAX_JSON_BYTES)
        except (binascii.Error, ValueError, zlib.error):
            raise DesignError(_DAMAGED_LINK) from None
        # truncated, larger than any design, or bytes (a second stream) after the design
        if not inflater.eof or inflater.unconsumed_tail or inflater.unused_data:
            raise DesignError(_DAMAGED_LINK)
        try:
            data = jsonio.parse(raw, what="design link", error=DesignError)
        except DesignError:
            raise DesignError(_DAMAGED_LINK) from None
        if not isinstance(data, dict):
            raise DesignError(f"{_DAMAGED_LINK}: it does not hold a design")
        return cls.from_dict(data)

    def replace(self, **changes: Any) -> Design:
        """A copy with ``changes`` applied and validated (``final_norm`` re-derived if unset)."""
        data = self.to_dict()
        if "activation_order" in changes and "final_norm" not in changes:
            data.pop("final_norm")
        data.update(changes)
        return Design.from_dict(data)


_FIELD_DEFAULTS = {name: field.default for name, field in Design.model_fields.items()}


def _format_validation_error(exc: ValidationError) -> str:
    """One line per problem: field, value given, what is allowed (`validation.describe`)."""
    return "invalid design: " + "; ".join(validation.describe(exc))
