"""Ready-made designs from the papers and libraries, each with its source and published figures.

``names()`` lists them, ``get(name)`` returns the `Design`, ``info(name)`` the whole `Preset`
(source, published parameters / MACs / error rates, the equivalent torchvision or timm call).
The figures come from the papers and torchvision / timm (see ``shared/reference/figures.md``);
the tests check that every built preset reproduces its published parameter and MAC counts.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from resnet_explorer.design import Design, Stage
from resnet_explorer.errors import DesignError

HE_2015 = "He et al. 2015, Deep Residual Learning for Image Recognition"
HE_2016 = "He et al. 2016, Identity Mappings in Deep Residual Networks"
TORCHVISION = "torchvision 0.29 weights metadata (IMAGENET1K_V1)"


@dataclass(frozen=True)
class Result:
    """One published result: what was measured, its value and where it was published."""

    metric: str
    value: float
    source: str


@dataclass(frozen=True)
class Preset:
    """A named design with its provenance and published figures."""

    name: str
    title: str
    design: Design
    family: str  # "imagenet" | "cifar"
    source: str
    params: int | None = None
    macs: int | None = None
    fvcore: int | None = None
    results: tuple[Result, ...] = field(default=())
    torchvision: str | None = None  # e.g. "resnet50": torchvision.models.resnet50
    timm: str | None = None  # e.g. "resnet50d": timm.create_model("resnet50d")
    note: str = ""
    macs_precision: int = 1
    """Rounding of the published MACs (10,000 for "40.55 M"): a count matches within half."""

    def matches(self, params: int, macs: int) -> bool | None:
        """Whether counted ``params`` / ``macs`` equal the published ones (None: none published)."""
        checks = []
        if self.params is not None:
            checks.append(params == self.params)
        if self.macs is not None:
            checks.append(abs(macs - self.macs) * 2 <= self.macs_precision)
        return all(checks) if checks else None


def _stages(blocks: list[int], widths: list[int], first_stride: int = 1) -> tuple[Stage, ...]:
    return tuple(
        Stage(blocks=b, width=w, stride=first_stride if i == 0 else 2)
        for i, (b, w) in enumerate(zip(blocks, widths, strict=True))
    )


_IMAGENET_WIDTHS = [64, 128, 256, 512]
_CIFAR_WIDTHS = [16, 32, 64]


def _imagenet(blocks: list[int], block: str, **kw) -> Design:
    return Design(stages=_stages(blocks, _IMAGENET_WIDTHS), block=block, **kw)


def _cifar(n: int, **kw) -> Design:
    kw.setdefault("shortcut", "A")
    return Design(
        image_size=32,
        num_classes=10,
        stem="cifar",
        stem_width=16,
        stages=_stages([n] * 3, _CIFAR_WIDTHS),
        **kw,
    )


def _top1(value: float) -> tuple[Result, ...]:
    return (Result("ImageNet top-1 accuracy (%), single crop", value, TORCHVISION),)


def _build() -> dict[str, Preset]:
    presets: list[Preset] = []
    add = presets.append
    tv = "torchvision.models"
    # --- ImageNet, torchvision -----------------------------------------------------------
    add(
        Preset(
            "resnet18",
            "ResNet-18",
            _imagenet([2, 2, 2, 2], "basic"),
            "imagenet",
            f"{HE_2015}; {tv}.resnet18",
            11_689_512,
            1_814_073_344,
            1_819_065_856,
            (*_top1(69.758), Result("ImageNet top-1 error (%), 10-crop", 27.88, HE_2015)),
            torchvision="resnet18",
        )
    )
    add(
        Preset(
            "resnet34",
            "ResNet-34",
            _imagenet([3, 4, 6, 3], "basic"),
            "imagenet",
            f"{HE_2015}; {tv}.resnet34",
            21_797_672,
            3_663_761_408,
            3_671_262_720,
            (*_top1(73.314), Result("ImageNet top-1 error (%), 10-crop, option B", 24.52, HE_2015)),
            torchvision="resnet34",
        )
    )
    add(
        Preset(
            "resnet50",
            "ResNet-50",
            _imagenet([3, 4, 6, 3], "bottleneck"),
            "imagenet",
            f"{HE_2015}; {tv}.resnet50 (stride on the 3x3: 'v1.5')",
            25_557_032,
            4_089_184_256,
            4_111_512_576,
            _top1(76.130),
            torchvision="resnet50",
        )
    )
    add(
        Preset(
            "resnet101",
            "ResNet-101",
            _imagenet([3, 4, 23, 3], "bottleneck"),
            "imagenet",
            f"{HE_2015}; {tv}.resnet101",
            44_549_160,
            7_801_405_440,
            7_833_969_664,
            _top1(77.374),
            torchvision="resnet101",
        )
    )
    add(
        Preset(
            "resnet152",
            "ResNet-152",
            _imagenet([3, 8, 36, 3], "bottleneck"),
            "imagenet",
            f"{HE_2015}; {tv}.resnet152",
            60_192_808,
            11_513_626_624,
            11_558_835_200,
            _top1(78.312),
            torchvision="resnet152",
        )
    )
    add(
        Preset(
            "resnet50_paper",
            "ResNet-50 (paper: stride on the first 1x1)",
            _imagenet([3, 4, 6, 3], "bottleneck", stride_on="1x1"),
            "imagenet",
            f"{HE_2015}, Table 1 ('3.8 x 10^9 FLOPs')",
            25_557_032,
            3_857_973_248,
            note="The original paper strides the first 1x1 conv; torchvision moved the "
            "stride to the 3x3 ('ResNet v1.5'), which costs more MACs and is more accurate.",
        )
    )
    add(
        Preset(
            "resnext50_32x4d",
            "ResNeXt-50 (32x4d)",
            _imagenet([3, 4, 6, 3], "bottleneck", groups=32, width_per_group=4),
            "imagenet",
            f"Xie et al. 2017, Aggregated Residual Transformations; {tv}.resnext50_32x4d",
            25_028_904,
            4_230_479_872,
            4_259_381_248,
            _top1(77.618),
            torchvision="resnext50_32x4d",
        )
    )
    add(
        Preset(
            "resnext101_32x8d",
            "ResNeXt-101 (32x8d)",
            _imagenet([3, 4, 23, 3], "bottleneck", groups=32, width_per_group=8),
            "imagenet",
            f"Xie et al. 2017; {tv}.resnext101_32x8d",
            88_791_336,
            16_414_015_488,
            torchvision="resnext101_32x8d",
        )
    )
    add(
        Preset(
            "resnext101_64x4d",
            "ResNeXt-101 (64x4d)",
            _imagenet([3, 4, 23, 3], "bottleneck", groups=64, width_per_group=4),
            "imagenet",
            f"Xie et al. 2017; {tv}.resnext101_64x4d",
            83_455_272,
            15_460_270_080,
            torchvision="resnext101_64x4d",
        )
    )
    add(
        Preset(
            "wide_resnet50_2",
            "Wide ResNet-50-2",
            _imagenet([3, 4, 6, 3], "bottleneck", width_factor=2.0),
            "imagenet",
            f"Zagoruyko & Komodakis 2016, Wide Residual Networks; {tv}.wide_resnet50_2",
            68_883_240,
            11_398_021_120,
            11_426_922_496,
            _top1(78.468),
            torchvision="wide_resnet50_2",
        )
    )
    add(
        Preset(
            "wide_resnet101_2",
            "Wide ResNet-101-2",
            _imagenet([3, 4, 23, 3], "bottleneck", width_factor=2.0),
            "imagenet",
            f"Zagoruyko & Komodakis 2016; {tv}.wide_resnet101_2",
            126_886_696,
            22_753_050_624,
            torchvision="wide_resnet101_2",
        )
    )
    # --- ImageNet, timm's ResNet-D ---------------------------------------------------------
    add(
        Preset(
            "resnet50d",
            "ResNet-50-D (timm)",
            _imagenet([3, 4, 6, 3], "bottleneck", stem="deep", shortcut="D"),
            "imagenet",
            "He et al. 2019, Bag of Tricks (ResNet-C stem, ResNet-D shortcut); timm resnet50d",
            25_576_264,
            4_328_824_832,
            timm="resnet50d",
        )
    )
    add(
        Preset(
            "resnet18d",
            "ResNet-18-D (timm)",
            _imagenet([2, 2, 2, 2], "basic", stem="deep", shortcut="D"),
            "imagenet",
            "He et al. 2019, Bag of Tricks; timm resnet18d",
            11_708_744,
            timm="resnet18d",
        )
    )
    # --- ImageNet plain nets of the paper --------------------------------------------------
    add(
        Preset(
            "plain18",
            "Plain-18",
            _imagenet([2, 2, 2, 2], "basic", shortcut="none"),
            "imagenet",
            f"{HE_2015}, Table 2",
            results=(Result("ImageNet top-1 error (%), 10-crop", 27.94, HE_2015),),
        )
    )
    add(
        Preset(
            "plain34",
            "Plain-34",
            _imagenet([3, 4, 6, 3], "basic", shortcut="none"),
            "imagenet",
            f"{HE_2015}, Table 2",
            results=(Result("ImageNet top-1 error (%), 10-crop", 28.54, HE_2015),),
            note="Deeper than plain-18 and worse: the degradation problem.",
        )
    )
    # --- CIFAR-10 nets of the paper (option A) ---------------------------------------------
    cifar = {
        20: (269_722, 40_550_000, 10_000, 8.75),
        32: (464_154, 68_860_000, 10_000, 7.51),
        44: (658_586, 97_170_000, 10_000, 7.17),
        56: (853_018, 125_490_000, 10_000, 6.97),
        110: (1_727_962, 252_890_000, 10_000, 6.43),
        1202: (19_421_274, 2_829_000_000, 1_000_000, 7.93),
    }
    for depth, (params, macs, precision, error) in cifar.items():
        n = (depth - 2) // 6
        add(
            Preset(
                f"resnet{depth}",
                f"ResNet-{depth} (CIFAR)",
                _cifar(n),
                "cifar",
                f"{HE_2015}, Section 4.2 and Table 6 (option A)",
                params,
                macs,
                results=(Result("CIFAR-10 test error (%)", error, HE_2015),),
                macs_precision=precision,
                note="Published MACs are rounded (e.g. 40.55 M).",
            )
        )
    for depth in (20, 56):
        n = (depth - 2) // 6
        add(
            Preset(
                f"plain{depth}",
                f"Plain-{depth} (CIFAR)",
                _cifar(n, shortcut="none"),
                "cifar",
                f"{HE_2015}, Section 4.2, Figure 6 (no shortcuts)",
                cifar[depth][0],
                note="The paper shows plain-56 training and testing worse than plain-20 "
                "(figure only, no table).",
            )
        )
    # --- Pre-activation ResNets (CIFAR) ----------------------------------------------------
    preact = {"activation_order": "full_preact", "shortcut": "B"}
    add(
        Preset(
            "preact_resnet110",
            "Pre-act ResNet-110 (CIFAR)",
            _cifar(18, **preact),
            "cifar",
            f"{HE_2016}, Table 2 (full pre-activation)",
            results=(Result("CIFAR-10 test error (%), median of 5", 6.37, HE_2016),),
        )
    )
    add(
        Preset(
            "preact_resnet164",
            "Pre-act ResNet-164 (CIFAR)",
            _cifar(18, block="bottleneck", **preact),
            "cifar",
            f"{HE_2016}, Table 2 (1.7 M parameters)",
            results=(Result("CIFAR-10 test error (%), median of 5", 5.46, HE_2016),),
        )
    )
    add(
        Preset(
            "preact_resnet1001",
            "Pre-act ResNet-1001 (CIFAR)",
            _cifar(111, block="bottleneck", **preact),
            "cifar",
            f"{HE_2016}, Table 3",
            results=(
                Result("CIFAR-10 test error (%)", 4.92, HE_2016),
                Result("CIFAR-100 test error (%)", 22.71, HE_2016),
            ),
        )
    )
    cifar18 = {"image_size": 32, "num_classes": 10, "stem": "cifar"}
    add(
        Preset(
            "resnet18_cifar",
            "ResNet-18 (CIFAR stem)",
            _imagenet([2, 2, 2, 2], "basic", **cifar18),
            "cifar",
            "torchvision ResNet-18 with a 3x3 stride-1 stem and no max-pool (kuangliu/"
            "pytorch-cifar)",
            11_173_962,
        )
    )
    add(
        Preset(
            "preact_resnet18",
            "Pre-act ResNet-18 (CIFAR)",
            _imagenet([2, 2, 2, 2], "basic", final_norm=False, **cifar18, **preact),
            "cifar",
            f"{HE_2016}; kuangliu/pytorch-cifar PreActResNet18 (no final BN)",
            11_171_146,
        )
    )
    add(
        Preset(
            "wrn28_10",
            "WRN-28-10 (CIFAR)",
            _cifar(4, block="basic", width_factor=10.0, **preact),
            "cifar",
            "Zagoruyko & Komodakis 2016, Wide Residual Networks, Table 4",
            36_479_194,
            results=(
                Result("CIFAR-10 test error (%)", 4.00, "Zagoruyko & Komodakis 2016"),
                Result("CIFAR-10 test error (%), with dropout", 3.89, "Zagoruyko & Komodakis 2016"),
            ),
        )
    )
    return {p.name: p for p in presets}


_PRESETS = _build()


def names() -> list[str]:
    """Preset names, in a stable order (ImageNet first, then CIFAR)."""
    return list(_PRESETS)


def info(name: str) -> Preset:
    """The whole preset record; an unknown name raises `DesignError`."""
    try:
        return _PRESETS[name]
    except KeyError:
        raise DesignError(
            f"preset {name!r} does not exist; known presets: {', '.join(_PRESETS)}",
            field="preset",
        ) from None


def get(name: str) -> Design:
    """The design of preset ``name``."""
    return info(name).design


def find(design: Design) -> Preset | None:
    """The preset whose design equals ``design``, if any."""
    for preset in _PRESETS.values():
        if preset.design == design:
            return preset
    return None
