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
from resnet_explorer.errors import DesignError, ResNetExplorerError
from resnet_explorer.regnet import regnet_stages
from resnet_explorer.shapes import (
    StageShape,
    network_depth,
    norm_groups,
    stage_shapes,
    stem_stride,
)
from resnet_explorer.validation import first_field, short

BlockType = Literal["basic", "bottleneck"]
StemType = Literal["imagenet", "cifar", "deep", "deep_tiered", "simple"]
StemPool = Literal["max", "conv"]
ShortcutOption = Literal["A", "B", "C", "D", "none"]
ActivationOrder = Literal[
    "original", "bn_after_add", "relu_before_add", "relu_only_preact", "full_preact"
]
ActivationFunction = Literal["relu", "gelu", "silu"]
Normalization = Literal["batch", "group", "none"]
StridePlacement = Literal["3x3", "1x1"]
InitScheme = Literal["kaiming_fan_out", "kaiming_fan_in", "xavier", "torch_default"]
Attention = Literal["none", "se", "eca"]
SEConvention = Literal["senet", "regnet"]
AntiAlias = Literal["none", "avg", "blur"]
ModuleNames = Literal["torchvision", "regnet"]

BLOCK_TYPES: tuple[str, ...] = ("basic", "bottleneck")
STEMS: tuple[str, ...] = ("imagenet", "cifar", "deep", "deep_tiered", "simple")
STEM_POOLS: tuple[str, ...] = ("max", "conv")
ATTENTIONS: tuple[str, ...] = ("none", "se", "eca")
SE_CONVENTIONS: tuple[str, ...] = ("senet", "regnet")
ANTI_ALIASES: tuple[str, ...] = ("none", "avg", "blur")
MODULE_NAMES: tuple[str, ...] = ("torchvision", "regnet")
OUTPUT_STRIDES: tuple[int, ...] = (8, 16, 32)

#: At most this many blocks in a design (ResNet-1202 has 600): bounds what one design, one
#: share link, may cost to count, build, trace and draw.
MAX_BLOCKS = 1000
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
STEM_DESCRIPTIONS: dict[str, str] = {
    "imagenet": "7x7/2 conv, norm, activation, 3x3/2 max-pool (torchvision)",
    "cifar": "3x3/1 conv, norm, activation, no pool (He et al. 2015, CIFAR)",
    "deep": "three 3x3 convs, the first /2, then the pool (ResNet-C, timm 'deep')",
    "deep_tiered": "three 3x3 convs of widening width, then the pool (timm 'deep_tiered')",
    "simple": "3x3/2 conv, norm, activation, no pool (pycls / RegNet)",
}
ATTENTION_DESCRIPTIONS: dict[str, str] = {
    "none": "no channel attention",
    "se": "squeeze-excitation (Hu et al. 2018)",
    "eca": "efficient channel attention, a 1-D conv over pooled channels (Wang et al. 2020)",
}
SE_CONVENTION_DESCRIPTIONS: dict[str, str] = {
    "senet": "SE-ResNet / timm: after the branch's last norm, ratio of the block's output "
    "(1/16), rounded to a multiple of 8",
    "regnet": "RegNetY / pycls: after the bottleneck's 3x3, ratio of the block's input (0.25)",
}
ANTI_ALIAS_DESCRIPTIONS: dict[str, str] = {
    "none": "strided convs and the max-pool downsample directly",
    "avg": "stride moved to a 2x2 average pool after the strided conv (timm aa_layer=AvgPool2d)",
    "blur": "stride moved to a 3x3 binomial blur pool (Zhang 2019, timm BlurPool2d)",
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


class TokenError(ResNetExplorerError, ValueError):
    """A link token `unpack_token` cannot unpack; ``problem`` says why: ``"prefix"`` (it is
    not a token of the kind asked for), ``"length"`` (longer than any it could hold) or
    ``"damaged"`` (not one whole packed document). Its callers turn it into their own error
    (`DesignError`, `ProbeError`), so it never reaches a user."""

    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem


def pack_token(prefix: str, raw: bytes) -> str:
    """``raw`` as a link token: ``prefix``, then ``raw`` compressed and URL-safe base64 encoded
    without padding. Design links and probe links (`probes.link`) are such tokens."""
    return prefix + base64.urlsafe_b64encode(zlib.compress(raw, 9)).rstrip(b"=").decode()


def unpack_token(token: Any, prefix: str, max_bytes: int) -> bytes:
    """The bytes `pack_token` packed into ``token``; `TokenError` when ``token`` does not start
    with ``prefix``, is longer than ``max_bytes`` bytes could make it, or is not one whole
    compressed stream of at most ``max_bytes`` bytes with nothing after it."""
    if not isinstance(token, str) or not token.startswith(prefix):
        raise TokenError("prefix")
    body = token[len(prefix) :]
    if len(body) > 4 * max_bytes:
        raise TokenError("length")
    try:
        packed = base64.b64decode(body + "=" * (-len(body) % 4), b"-_", validate=True)
        inflater = zlib.decompressobj()
        raw = inflater.decompress(packed, max_bytes)
    except (binascii.Error, ValueError, zlib.error):
        raise TokenError("damaged") from None
    # truncated, larger than max_bytes, or bytes (a second stream) after the document
    if not inflater.eof or inflater.unconsumed_tail or inflater.unused_data:
        raise TokenError("damaged")
    return raw


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


def _whole_output_stride(value: Any) -> Any:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
        raise PydanticCustomError("literal_error", "Input should be 8, 16, 32 or null")
    return value


OutputStride = Annotated[Literal[8, 16, 32] | None, BeforeValidator(_whole_output_stride)]


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
    groups: StrictInt | None = Field(
        default=None, ge=1, le=1024, description="groups of this stage's 3x3; None = design's"
    )
    group_width: StrictInt | None = Field(
        default=None, ge=1, le=8192, description="channels per group of this stage's 3x3"
    )
    bottleneck_ratio: StrictFloat | None = Field(
        default=None, gt=0, le=16, allow_inf_nan=False, description="this stage's 3x3 width / width"
    )


#: Stage fields that appear in a design's JSON only when set (they came after format 1, so
#: older designs keep their canonical JSON and hash).
_OPTIONAL_STAGE_FIELDS = ("block", "groups", "group_width", "bottleneck_ratio")


class DesignDraft:
    """A design's fields, unvalidated, as attributes (`Design.unvalidated`)."""

    def __init__(self, data: dict[str, Any]) -> None:
        fields = {**_FIELD_DEFAULTS, **data}
        if data.get("final_norm") is None:
            fields["final_norm"] = default_final_norm(fields["activation_order"])
        fields["stages"] = tuple(
            s
            if isinstance(s, Stage)
            else StageDraft(
                s["blocks"],
                s["width"],
                s.get("stride", 1),
                s.get("block"),
                s.get("groups"),
                s.get("group_width"),
                s.get("bottleneck_ratio"),
            )
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
    groups: int | None = None
    group_width: int | None = None
    bottleneck_ratio: float | None = None


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
    stem_pool: StemPool = Field(
        default="max",
        description="the stem's downsampling pool: 3x3/2 max-pool, or (ResNet-RS, timm "
        "replace_stem_pool) a 3x3/2 conv with norm and activation",
    )
    # body
    stages: tuple[Stage, ...] = Field(default=_DEFAULT_STAGES, min_length=1, max_length=12)
    block: BlockType = "basic"
    expansion: StrictInt = Field(default=4, ge=1, le=16)
    stride_on: StridePlacement = "3x3"
    groups: StrictInt = Field(default=1, ge=1, le=1024)
    width_per_group: StrictInt = Field(default=64, ge=1, le=4096)
    width_factor: StrictFloat = Field(default=1.0, gt=0, le=32, allow_inf_nan=False)
    group_width: StrictInt | None = Field(
        default=None,
        ge=1,
        le=8192,
        description="channels per group of the bottleneck's 3x3 (RegNet): groups = inner width "
        "/ group width; instead of groups",
    )
    bottleneck_ratio: StrictFloat | None = Field(
        default=None,
        gt=0,
        le=16,
        allow_inf_nan=False,
        description="the bottleneck's 3x3 width over the stage width (RegNet's b, 1.0); "
        "instead of width_per_group",
    )
    attention: Attention = "none"
    se_ratio: StrictFloat = Field(default=0.0625, gt=0, le=1, allow_inf_nan=False)
    se_convention: SEConvention = "senet"
    output_stride: OutputStride = Field(
        default=None,
        description="downsampling kept at most this (8, 16, 32): later strides become dilations "
        "(segmentation backbones)",
    )
    anti_alias: AntiAlias = "none"
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
    # checkpoints
    module_names: ModuleNames = Field(
        default="torchvision",
        description="module names of the built model: torchvision/timm ResNet (conv1, "
        "layer1.0.conv1, fc) or timm RegNet (stem.conv, s1.b1.conv1.conv, head.fc)",
    )

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
    def regnet(
        cls,
        depth: int,
        w0: float,
        wa: float,
        wm: float,
        group_width: int,
        bottleneck_ratio: float = 1.0,
        se: float = 0.0,
        **fields: Any,
    ) -> Design:
        """The RegNet with these parameters (Radosavovic et al. 2020), as pycls and timm build
        it: the simple stem (32 channels), stages of the quantized widths (`regnet.py`), each
        of stride 2, bottlenecks of ratio ``bottleneck_ratio`` with 3x3 groups of
        ``group_width`` channels, squeeze-excitation of ratio ``se`` of the block input
        (RegNetY; 0: RegNetX), timm's module names. ``fields`` override any other field.
        """
        try:
            stages = regnet_stages(depth, w0, wa, wm, group_width, bottleneck_ratio)
        except (ValueError, ZeroDivisionError, OverflowError) as exc:
            raise DesignError(
                f"RegNet parameters depth={depth!r}, w0={w0!r}, wa={wa!r}, wm={wm!r} give no "
                f"network ({exc}); use depth >= 1, w0 > 0, wa >= 0, wm > 1"
            ) from None
        data: dict[str, Any] = {
            "stem": "simple",
            "stem_width": 32,
            "block": "bottleneck",
            "expansion": 1,
            "bottleneck_ratio": float(bottleneck_ratio),
            "group_width": group_width,
            "stages": [
                {"blocks": s.blocks, "width": s.width, "stride": 2}
                | ({"group_width": s.group_width} if s.group_width != group_width else {})
                for s in stages
            ],
            "module_names": "regnet",
        }
        if se:
            data.update(attention="se", se_ratio=float(se), se_convention="regnet")
        return cls(**{**data, **fields})

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
        # One pass, cheap: the design-space sampler validates thousands of designs.
        self._check_size()
        self._check_block_knobs()
        self._check_stem_knobs()
        self._check_attention_and_dilation()
        self._check_module_names()
        self._check_shapes(stage_shapes(self))  # stage_shapes refuses impossible widths
        return self

    def _check_size(self) -> None:
        blocks = sum(stage.blocks for stage in self.stages)
        if blocks > MAX_BLOCKS:
            raise ValueError(
                f"stages: the design has {blocks:,} blocks; at most {MAX_BLOCKS:,} are accepted "
                "(ResNet-1202 has 600)"
            )

    def _check_block_knobs(self) -> None:
        kinds = {stage.block or self.block for stage in self.stages}
        if "basic" in kinds and (self.groups != 1 or self.width_per_group != 64):
            raise ValueError(
                f"groups={self.groups}, width_per_group={self.width_per_group}: grouped "
                "convolutions (ResNeXt) apply to bottleneck blocks only; use groups=1 and "
                "width_per_group=64 with basic blocks"
            )
        for name in ("group_width", "bottleneck_ratio"):
            if "basic" in kinds and getattr(self, name) is not None:
                raise ValueError(
                    f"{name}={getattr(self, name):g}: group width and bottleneck ratio apply to "
                    "bottleneck blocks only, and this design has basic blocks"
                )
        if self.group_width is not None and self.groups != 1:
            raise ValueError(
                f"groups={self.groups}, group_width={self.group_width}: set the number of "
                "groups or the width of a group, not both"
            )
        if self.bottleneck_ratio is not None and self.width_per_group != 64:
            raise ValueError(
                f"bottleneck_ratio={self.bottleneck_ratio:g}, width_per_group="
                f"{self.width_per_group}: both set the 3x3 width; use one (width_per_group=64)"
            )
        for i, stage in enumerate(self.stages):
            self._check_stage_knobs(i, stage)
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

    def _check_stage_knobs(self, i: int, stage: Stage) -> None:
        overrides = {
            name: getattr(stage, name)
            for name in ("groups", "group_width", "bottleneck_ratio")
            if getattr(stage, name) is not None
        }
        if not overrides:
            return
        if (stage.block or self.block) == "basic":
            name, value = next(iter(overrides.items()))
            raise ValueError(
                f"stages[{i}].{name}={value:g}: groups, group width and bottleneck ratio apply "
                f"to bottleneck blocks only, and stage {i} has basic blocks"
            )
        group_width = stage.group_width or self.group_width
        if stage.groups is not None and group_width is not None:
            raise ValueError(
                f"stages[{i}].groups={stage.groups} with group_width={group_width}: set the "
                "number of groups or the width of a group, not both"
            )

    def _check_stem_knobs(self) -> None:
        if self.stem == "deep_tiered" and self.stem_width < 8:
            raise ValueError(f"stem_width={self.stem_width}: the tiered deep stem needs >= 8")
        if self.stem == "deep" and self.stem_width < 2:
            raise ValueError(f"stem_width={self.stem_width}: the deep stem needs >= 2")
        if self.stem_pool == "conv" and self.stem in ("cifar", "simple"):
            raise ValueError(
                f"stem_pool='conv' replaces the stem's max-pool, and the {self.stem!r} stem has "
                "none; use the imagenet or a deep stem"
            )

    def _check_attention_and_dilation(self) -> None:
        kinds = {stage.block or self.block for stage in self.stages}
        if self.attention == "se" and self.se_convention == "regnet" and "basic" in kinds:
            raise ValueError(
                "se_convention='regnet' places squeeze-excitation after a bottleneck's 3x3; "
                "basic blocks take se_convention='senet'"
            )
        stride = self.output_stride
        if stride is None or stride >= self.downsampling():
            return  # nothing is dilated
        if stride < self.stem_stride():
            raise ValueError(
                f"output_stride={stride} is below the stem's own downsampling "
                f"(/{self.stem_stride()}); use one of {OUTPUT_STRIDES} that is at least that"
            )
        if self.shortcut == "D":
            raise ValueError(
                f"shortcut='D' with output_stride={stride}: timm pools that shortcut with a "
                "'same'-padded 2x2 average in dilated stages, which is not built here; use B"
            )
        if self.anti_alias != "none":
            raise ValueError(
                f"anti_alias={self.anti_alias!r} with output_stride={stride}: the anti-aliasing "
                "pool replaces a stride that dilation removes; use one or the other"
            )

    def _check_module_names(self) -> None:
        if self.module_names != "regnet":
            return
        problems = []
        if self.stem != "simple":
            problems.append(f"stem={self.stem!r} (needs 'simple')")
        if any((stage.block or self.block) != "bottleneck" for stage in self.stages):
            problems.append("basic blocks (needs bottlenecks)")
        if self.activation_order != "original":
            problems.append(f"activation_order={self.activation_order!r} (needs 'original')")
        if self.shortcut not in ("B", "D"):
            problems.append(f"shortcut={self.shortcut!r} (needs B or D)")
        if self.anti_alias != "none" or self.final_norm:
            problems.append("anti-aliasing or a final norm (RegNet has neither)")
        if problems:
            raise ValueError(
                "module_names='regnet' gives timm RegNet's names, which exist for RegNet-shaped "
                "designs only; this design has " + "; ".join(problems) + ". Keep those and "
                "set module_names='torchvision' (the Module names knob), or undo them"
            )

    def _check_shapes(self, shapes: tuple[StageShape, ...]) -> None:
        channels = self.stem_width
        if self.anti_alias == "avg" and self.stem_stride() == 4:
            self._check_even(-1, -(-self.image_size // 2))
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
            if self.anti_alias == "avg" and shape.stride != 1:
                self._check_even(i, shape.in_size)
            channels = shape.out_channels
        factor = self.downsampling()
        if self.image_size < factor:
            raise ValueError(
                f"image_size={self.image_size} is too small: the design downsamples by {factor} "
                f"(stem /{self.stem_stride()}, stages /{factor // self.stem_stride()}); use "
                f"image_size >= {factor}"
            )

    def _check_even(self, stage: int, size: int) -> None:
        """timm's average anti-aliasing pool (2x2, stride 2) floors odd sizes where the
        shortcut rounds up: refuse the sizes where they would disagree."""
        if size % 2:
            where = "the stem's pool" if stage < 0 else f"stage {stage}"
            raise ValueError(
                f"anti_alias='avg': {where} downsamples a {size}x{size} map, and timm's 2x2 "
                "average pool needs an even size there; use anti_alias='blur' or an image_size "
                "that stays even"
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
        """Plain JSON-able dict: every field of format 1, and the later fields (`LATER_FIELDS`)
        only where they differ from their default, so that a design's canonical JSON, and its
        hash, did not change when the format grew."""
        data = self.model_dump(mode="json")
        for name in LATER_FIELDS:
            if data[name] == _FIELD_DEFAULTS[name]:
                del data[name]
        for stage in data["stages"]:
            for name in _OPTIONAL_STAGE_FIELDS:
                if stage[name] is None:
                    del stage[name]
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
        diff = {k: v for k, v in data.items() if defaults.get(k) != v and k != "final_norm"}
        if self.final_norm != default_final_norm(self.activation_order):
            diff["final_norm"] = self.final_norm  # only when it differs from the derived default
        raw = json.dumps(diff, sort_keys=True, separators=(",", ":")).encode()
        return pack_token(_URL_PREFIX, raw)

    @classmethod
    def from_url(cls, token: str) -> Design:
        """Decode `to_url`'s token; a broken or tampered token raises `DesignError`."""
        try:
            raw = unpack_token(token, _URL_PREFIX, MAX_JSON_BYTES)
        except TokenError as exc:
            if exc.problem == "prefix":
                message = f"design link {short(token)} is not a ResNet Explorer design (v1.)"
            else:
                message = "design link is too long" if exc.problem == "length" else _DAMAGED_LINK
            raise DesignError(message) from None
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

#: Fields added after format 1 (the RegNet / SE / dilation family): written only when set.
LATER_FIELDS = (
    "stem_pool",
    "group_width",
    "bottleneck_ratio",
    "attention",
    "se_ratio",
    "se_convention",
    "output_stride",
    "anti_alias",
    "module_names",
)


def _format_validation_error(exc: ValidationError) -> str:
    """One line per problem: field, value given, what is allowed (`validation.describe`)."""
    return "invalid design: " + "; ".join(validation.describe(exc))
