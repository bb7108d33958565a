"""Ready-made designs from the papers and libraries, each with its source and published figures.

``names()`` lists them, ``get(name)`` returns the `Design`, ``info(name)`` the whole `Preset`
(source, published parameters / MACs / error rates, the equivalent torchvision or timm call).
The presets are a registry of named entries, timm style: the tables below are data, one row a
network; names equal timm's where timm has the network. The figures come from the papers,
torchvision's weight metadata, timm's published results and pycls's model zoo (see
``shared/reference/figures.md``); the tests check that every preset reproduces them and that
torchvision's and timm's checkpoints load into it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from resnet_explorer.design import Design, Stage
from resnet_explorer.errors import DesignError
from resnet_explorer.plan.ops import Totals

HE_2015 = "He et al. 2015, Deep Residual Learning for Image Recognition"
HE_2016 = "He et al. 2016, Identity Mappings in Deep Residual Networks"
TORCHVISION = "torchvision 0.29 weights metadata (IMAGENET1K_V1)"
TIMM_RESULTS = "timm results-imagenet.csv"
TIMM_BENCHMARK = "timm benchmark-infer-amp-nchw-pt240-cu124-rtx4090.csv (fvcore GMACs, MActs)"
PYCLS = "Radosavovic et al. 2020, Designing Network Design Spaces; pycls model zoo"
PYCLS_COMPLEXITY = "pycls dev/model_complexity.json"
WRN = "Zagoruyko & Komodakis 2016, Wide Residual Networks"


@dataclass(frozen=True)
class Result:
    """One published result: what was measured, its value and where it was published."""

    metric: str
    value: float
    source: str


@dataclass(frozen=True)
class Preset:
    """A named design with its provenance and published figures.

    ``params``, ``macs`` and ``fvcore`` are published counts (MACs and fvcore's total rounded to
    ``macs_precision`` / ``fvcore_precision``); ``activations`` is fvcore's activation count
    (timm publishes it rounded, ``activations_precision``); ``pycls_flops`` / ``pycls_acts``
    are pycls's figures, in pycls's conventions (its "flops" add the bias additions to the
    MACs; its "acts" add the stem max-pool's output, which RegNet does not have).
    """

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
    torchvision_kwargs: Mapping[str, Any] = field(default_factory=dict)  # of that call
    timm: str | None = None  # e.g. "resnet50d": timm.create_model("resnet50d")
    note: str = ""
    macs_precision: int = 1
    """Rounding of the published MACs (10,000 for "40.55 M"): a count matches within half."""
    fvcore_precision: int = 1
    activations: int | None = None
    activations_precision: int = 1
    pycls_flops: int | None = None
    pycls_acts: int | None = None

    def published(self) -> list[tuple[str, int, int]]:
        """(figure, published value, rounding) for every count that was published."""
        figures = [
            ("params", self.params, 1),
            ("macs", self.macs, self.macs_precision),
            ("fvcore", self.fvcore, self.fvcore_precision),
            ("activations", self.activations, self.activations_precision),
            ("pycls_flops", self.pycls_flops, 1),
            ("pycls_acts", self.pycls_acts, 1),
        ]
        return [(name, value, step) for name, value, step in figures if value is not None]

    def matches(self, params: int, macs: int, *, counts: Totals | None = None) -> bool | None:
        """Whether the counted figures equal the published ones (None: none published).

        ``params`` and ``macs`` are always compared; with ``counts`` (the design's `Totals`)
        fvcore's total, the activations and pycls's figures too.
        """
        counted = {"params": params, "macs": macs}
        if counts is not None:
            counted.update(
                fvcore=counts.fvcore,
                activations=counts.activations,
                pycls_flops=counts.pycls_flops,
                pycls_acts=counts.activations,  # RegNet has no stem max-pool (see the class)
            )
        checks = [
            abs(counted[name] - value) * 2 <= step
            for name, value, step in self.published()
            if name in counted
        ]
        return all(checks) if checks else None


_REGISTRY: dict[str, Preset] = {}


def _register(preset: Preset) -> None:
    if preset.name in _REGISTRY:
        raise ValueError(f"preset {preset.name!r} registered twice")
    _REGISTRY[preset.name] = preset


def _stages(blocks: Iterable[int], widths: Iterable[int], first_stride: int = 1) -> list[Stage]:
    return [
        Stage(blocks=b, width=w, stride=first_stride if i == 0 else 2)
        for i, (b, w) in enumerate(zip(blocks, widths, strict=True))
    ]


_IMAGENET_WIDTHS = (64, 128, 256, 512)
_CIFAR_WIDTHS = (16, 32, 64)
#: Blocks per stage of the ImageNet nets (He et al. 2015, Table 1; timm's 10-T, 14-T and 26-T).
#: The depth in a name counts the weighted layers: the stem conv, the classifier and each block's
#: convs (2 in a basic block, 3 in a bottleneck), so (3, 4, 6, 3) is ResNet-34 or ResNet-50.
_STAGE_BLOCKS = ((1, 1, 1, 1), (2, 2, 2, 2), (3, 4, 6, 3), (3, 4, 23, 3), (3, 8, 36, 3))


def _imagenet(depth: int, block: str, **knobs: Any) -> Design:
    convs = 2 if block == "basic" else 3
    blocks = next(b for b in _STAGE_BLOCKS if 2 + convs * sum(b) == depth)
    return Design(stages=_stages(blocks, _IMAGENET_WIDTHS), block=block, **knobs)


def _cifar(n: int, **knobs: Any) -> Design:
    knobs.setdefault("shortcut", "A")
    return Design(
        image_size=32,
        num_classes=10,
        stem="cifar",
        stem_width=16,
        stages=_stages([n] * 3, _CIFAR_WIDTHS),
        **knobs,
    )


def _top1(value: float, source: str = TORCHVISION) -> tuple[Result, ...]:
    return (Result("ImageNet top-1 accuracy (%), single crop", value, source),)


# --- torchvision's ImageNet ResNets --------------------------------------------------------
# name, title, depth, block, knobs, params, MACs, fvcore, top-1, note
_TV = "torchvision.models"
_TORCHVISION = (
    ("resnet18", "ResNet-18", 18, "basic", {}, 11_689_512, 1_814_073_344, 1_819_065_856, 69.758,
     ("ImageNet top-1 error (%), 10-crop", 27.88)),
    ("resnet34", "ResNet-34", 34, "basic", {}, 21_797_672, 3_663_761_408, 3_671_262_720, 73.314,
     ("ImageNet top-1 error (%), 10-crop, option B", 24.52)),
    ("resnet50", "ResNet-50", 50, "bottleneck", {}, 25_557_032, 4_089_184_256, 4_111_512_576,
     76.130, None),
    ("resnet101", "ResNet-101", 101, "bottleneck", {}, 44_549_160, 7_801_405_440,
     7_833_969_664, 77.374, None),
    ("resnet152", "ResNet-152", 152, "bottleneck", {}, 60_192_808, 11_513_626_624,
     11_558_835_200, 78.312, None),
)  # fmt: skip
for _name, _title, _depth, _block, _knobs, _p, _m, _f, _acc, _paper in _TORCHVISION:
    _paper_results = (Result(_paper[0], _paper[1], HE_2015),) if _paper else ()
    _note = " (stride on the 3x3: 'v1.5')" if _block == "bottleneck" else ""
    _register(
        Preset(_name, _title, _imagenet(_depth, _block, **_knobs), "imagenet",
               f"{HE_2015}; {_TV}.{_name}{_note}", _p, _m, _f, (*_top1(_acc), *_paper_results),
               torchvision=_name)
    )  # fmt: skip

_register(
    Preset(
        "resnet50_paper",
        "ResNet-50 (paper: stride on the first 1x1)",
        _imagenet(50, "bottleneck", stride_on="1x1"),
        "imagenet",
        f"{HE_2015}, Table 1 ('3.8 x 10^9 FLOPs')",
        25_557_032,
        3_857_973_248,
        note="The original paper strides the first 1x1 conv; torchvision moved the "
        "stride to the 3x3 ('ResNet v1.5'), which costs more MACs and is more accurate.",
    )
)

# name, title, depth, knobs, params, MACs, fvcore, top-1, source
_XIE = "Xie et al. 2017, Aggregated Residual Transformations"
_WIDE_AND_GROUPED = (
    ("resnext50_32x4d", "ResNeXt-50 (32x4d)", 50, {"groups": 32, "width_per_group": 4},
     25_028_904, 4_230_479_872, 4_259_381_248, 77.618, _XIE),
    ("resnext101_32x8d", "ResNeXt-101 (32x8d)", 101, {"groups": 32, "width_per_group": 8},
     88_791_336, 16_414_015_488, None, None, _XIE),
    ("resnext101_64x4d", "ResNeXt-101 (64x4d)", 101, {"groups": 64, "width_per_group": 4},
     83_455_272, 15_460_270_080, None, None, _XIE),
    ("wide_resnet50_2", "Wide ResNet-50-2", 50, {"width_factor": 2.0}, 68_883_240,
     11_398_021_120, 11_426_922_496, 78.468, WRN),
    ("wide_resnet101_2", "Wide ResNet-101-2", 101, {"width_factor": 2.0}, 126_886_696,
     22_753_050_624, None, None, WRN),
)  # fmt: skip
for _name, _title, _depth, _knobs, _p, _m, _f, _acc, _src in _WIDE_AND_GROUPED:
    _register(
        Preset(_name, _title, _imagenet(_depth, "bottleneck", **_knobs), "imagenet",
               f"{_src}; {_TV}.{_name}", _p, _m, _f, _top1(_acc) if _acc else (),
               torchvision=_name)
    )  # fmt: skip

# --- timm's ResNet family (Bag of Tricks stems and shortcuts, attention, anti-aliasing, RS) --
_BAG = "He et al. 2019, Bag of Tricks (ResNet-C/D)"
_SE = "Hu et al. 2018, Squeeze-and-Excitation Networks"
_TIERED = "timm 'T' nets: tiered deep stem (24-32-64), average-pool shortcut"
# name, title, depth, block, knobs, params (timm's model), source, top-1 (timm tag, size),
# timm benchmark fvcore GMACs and MActs at 224 (None: not published)
_TIMM = (
    ("resnet50d", "ResNet-50-D (timm)", 50, "bottleneck", {"stem": "deep", "shortcut": "D"},
     25_576_264, _BAG, None, None),
    ("resnet18d", "ResNet-18-D (timm)", 18, "basic", {"stem": "deep", "shortcut": "D"},
     11_708_744, _BAG, None, None),
    ("resnet10t", "ResNet-10-T (timm)", 10, "basic",
     {"stem": "deep_tiered", "shortcut": "D"}, 5_435_488, _TIERED, ("c3_in1k", 68.354),
     (1.10, 2.43)),
    ("resnet14t", "ResNet-14-T (timm)", 14, "bottleneck",
     {"stem": "deep_tiered", "shortcut": "D"}, 10_081_632, _TIERED, ("c3_in1k", 72.242),
     (1.69, 5.80)),
    ("resnet26t", "ResNet-26-T (timm)", 26, "bottleneck",
     {"stem": "deep_tiered", "shortcut": "D"}, 16_011_872, _TIERED, None, None),
    ("resnet50t", "ResNet-50-T (timm)", 50, "bottleneck",
     {"stem": "deep_tiered", "shortcut": "D"}, 25_573_728, _TIERED, None, (4.32, 11.82)),
    ("seresnet50", "SE-ResNet-50 (timm)", 50, "bottleneck", {"attention": "se"}, 28_088_024,
     f"{_SE}; SE after the last norm, 1/16 of the block output", ("ra2_in1k", 80.260),
     (4.11, 11.13)),
    ("seresnext50_32x4d", "SE-ResNeXt-50 (32x4d, timm)", 50, "bottleneck",
     {"attention": "se", "groups": 32, "width_per_group": 4}, 27_559_896, f"{_SE}; {_XIE}",
     ("racm_in1k", 81.268), (4.26, 14.42)),
    ("ecaresnet50d", "ECA-ResNet-50-D (timm)", 50, "bottleneck",
     {"attention": "eca", "stem": "deep", "shortcut": "D"}, 25_576_350,
     "Wang et al. 2020, ECA-Net; Bag of Tricks stem and shortcut", ("miil_in1k", 80.634),
     (4.35, 11.93)),
    ("resnetaa50", "ResNet-50, anti-aliased (timm)", 50, "bottleneck", {"anti_alias": "avg"},
     25_557_032, "Zhang 2019, Making Convolutional Networks Shift-Invariant Again (2x2 "
     "average pool after each strided conv and in the stem)", ("a1h_in1k", 80.614),
     (5.15, 11.64)),
    ("resnetrs50", "ResNet-RS-50 (timm)", 50, "bottleneck",
     {"stem": "deep", "stem_pool": "conv", "shortcut": "D", "attention": "se",
      "se_ratio": 0.25}, 35_691_912,
     "Bello et al. 2021, Revisiting ResNets (deep stem, conv stem pool, ResNet-D, SE 0.25)",
     ("tf_in1k", 79.934), (4.48, 12.14)),
)  # fmt: skip
for _name, _title, _depth, _block, _knobs, _p, _src, _acc, _bench in _TIMM:
    _results = _top1(_acc[1], f"{TIMM_RESULTS}, {_name}.{_acc[0]} at 224") if _acc else ()
    _fvcore, _acts = (None, None) if _bench is None else _bench
    _register(
        Preset(
            _name, _title, _imagenet(_depth, _block, **_knobs), "imagenet",
            f"{_src}; timm {_name}", _p, None,
            None if _fvcore is None else int(_fvcore * 1e9), _results, timm=_name,
            fvcore_precision=10_000_000, activations=None if _acts is None else int(_acts * 1e6),
            activations_precision=10_000,
            note="" if _bench is None else f"fvcore figures: {TIMM_BENCHMARK}",
        )
    )  # fmt: skip

_register(
    Preset(
        "resnet50_os8",
        "ResNet-50, dilated (output stride 8)",
        _imagenet(50, "bottleneck", output_stride=8),
        "imagenet",
        "Yu & Koltun 2016 / Chen et al. 2017 (DeepLab) dilated backbone; "
        "torchvision.models.resnet50(replace_stride_with_dilation=[False, True, True])",
        25_557_032,
        torchvision="resnet50",
        torchvision_kwargs={"replace_stride_with_dilation": [False, True, True]},
        note="The same weights as ResNet-50 (dilation adds no parameters); layer3 and layer4 "
        "keep 28x28 maps, so the MACs grow about 4x.",
    )
)

# --- pycls's RegNets (timm names) -----------------------------------------------------------
# timm name, pycls name (after "RegNet"), (depth, w0, wa, wm, group width), then pycls's
# params, flops, acts and top-1 error
_REGNETS = (
    ("regnetx_002", "X-200MF", (13, 24, 36.44, 2.49, 8),
     2_684_792, 199_040_872, 2_164_056, 31.088),
    ("regnetx_004", "X-400MF", (22, 24, 24.48, 2.54, 16),
     5_157_512, 397_678_568, 3_143_272, 27.382),
    ("regnetx_006", "X-600MF", (16, 48, 36.97, 2.24, 24),
     6_196_040, 600_891_112, 3_975_096, 25.864),
    ("regnetx_008", "X-800MF", (16, 56, 35.73, 2.28, 16),
     7_259_656, 799_700_712, 5_148_744, 24.846),
    ("regnetx_016", "X-1.6GF", (18, 80, 34.01, 2.25, 24),
     9_190_136, 1_602_850_792, 7_933_512, 23.038),
    ("regnetx_032", "X-3.2GF", (25, 88, 26.31, 2.25, 48),
     15_296_552, 3_176_622_952, 11_367_432, 21.736),
    ("regnetx_040", "X-4.0GF", (23, 96, 38.65, 2.43, 40),
     22_118_248, 3_964_499_816, 12_201_608, 21.356),
    ("regnetx_064", "X-6.4GF", (17, 184, 60.83, 2.07, 56),
     26_209_256, 6_460_292_264, 16_369_744, 20.844),
    ("regnetx_080", "X-8.0GF", (23, 80, 49.56, 2.88, 120),
     39_572_648, 7_995_133_416, 14_059_688, 20.728),
    ("regnetx_120", "X-12GF", (19, 168, 73.36, 2.37, 112),
     46_106_056, 12_086_679_016, 21_366_568, 20.288),
    ("regnetx_160", "X-16GF", (22, 216, 55.59, 2.1, 128),
     54_278_536, 15_940_756_456, 25_515_496, 19.956),
    ("regnetx_320", "X-32GF", (23, 320, 69.86, 2.0, 168),
     107_811_560, 31_735_930_792, 36_302_160, 19.498),
    ("regnety_002", "Y-200MF", (13, 24, 36.44, 2.49, 8),
     3_162_996, 199_519_076, 2_168_052, 29.658),
    ("regnety_004", "Y-400MF", (16, 48, 27.89, 2.09, 8),
     4_344_144, 401_849_056, 3_892_496, 25.898),
    ("regnety_006", "Y-600MF", (15, 48, 32.54, 2.32, 16),
     6_055_160, 601_227_608, 4_334_296, 24.54),
    ("regnety_008", "Y-800MF", (14, 56, 38.84, 2.4, 16),
     6_263_168, 797_183_328, 5_249_888, 23.684),
    ("regnety_016", "Y-1.6GF", (27, 48, 20.71, 2.65, 24),
     11_202_430, 1_612_087_326, 8_044_814, 22.066),
    ("regnety_032", "Y-3.2GF", (21, 80, 42.63, 2.66, 24),
     19_436_338, 3_176_496_162, 11_263_418, 21.074),
    ("regnety_040", "Y-4.0GF", (22, 96, 31.41, 2.24, 64),
     20_646_656, 3_973_301_344, 12_287_200, 20.64),
    ("regnety_064", "Y-6.4GF", (25, 112, 33.22, 2.27, 72),
     30_583_252, 6_355_221_876, 16_407_188, 20.11),
    ("regnety_080", "Y-8.0GF", (17, 192, 76.82, 2.19, 56),
     39_180_068, 7_963_074_196, 17_968_916, 20.052),
    ("regnety_120", "Y-12GF", (19, 168, 73.36, 2.37, 112),
     51_822_544, 12_092_395_504, 21_384_496, 19.67),
    ("regnety_160", "Y-16GF", (18, 200, 106.23, 2.48, 112),
     83_590_140, 15_911_534_044, 23_041_228, 19.608),
    ("regnety_320", "Y-32GF", (20, 232, 115.89, 2.53, 232),
     145_046_770, 32_279_583_362, 30_261_570, 19.066),
)  # fmt: skip
for _name, _short, (_d, _w0, _wa, _wm, _g), _p, _fl, _ac, _err in _REGNETS:
    _y, _pycls = _name.startswith("regnety"), f"RegNet{_short}"
    _register(
        Preset(
            _name,
            f"{_pycls} (pycls, timm {_name})",
            Design.regnet(_d, _w0, _wa, _wm, _g, se=0.25 if _y else 0.0),
            "imagenet",
            f"{PYCLS} ({_pycls}: depth {_d}, w0 {_w0}, wa {_wa}, wm {_wm}, group width {_g}"
            f"{', SE 0.25' if _y else ''}); counts {PYCLS_COMPLEXITY}",
            _p,
            results=(Result("ImageNet top-1 error (%), pycls model zoo", _err, PYCLS),),
            timm=_name,
            pycls_flops=_fl,
            pycls_acts=_ac,
            note="pycls 'flops' = MACs + bias additions (classifier"
            + (", squeeze-excitation)" if _y else ")"),
        )
    )

# --- the paper's ImageNet plain nets ---------------------------------------------------------
_register(
    Preset("plain18", "Plain-18", _imagenet(18, "basic", shortcut="none"), "imagenet",
           f"{HE_2015}, Table 2",
           results=(Result("ImageNet top-1 error (%), 10-crop", 27.94, HE_2015),))
)  # fmt: skip
_register(
    Preset("plain34", "Plain-34", _imagenet(34, "basic", shortcut="none"), "imagenet",
           f"{HE_2015}, Table 2",
           results=(Result("ImageNet top-1 error (%), 10-crop", 28.54, HE_2015),),
           note="Deeper than plain-18 and worse: the degradation problem.")
)  # fmt: skip

# --- the paper's CIFAR-10 nets (option A) ------------------------------------------------------
# depth: params, MACs (as published, rounded), rounding, test error (%)
_CIFAR = {
    20: (269_722, 40_550_000, 10_000, 8.75),
    32: (464_154, 68_860_000, 10_000, 7.51),
    44: (658_586, 97_170_000, 10_000, 7.17),
    56: (853_018, 125_490_000, 10_000, 6.97),
    110: (1_727_962, 252_890_000, 10_000, 6.43),
    1202: (19_421_274, 2_829_000_000, 1_000_000, 7.93),
}
for _depth, (_p, _m, _precision, _error) in _CIFAR.items():
    _register(
        Preset(f"resnet{_depth}", f"ResNet-{_depth} (CIFAR)", _cifar((_depth - 2) // 6), "cifar",
               f"{HE_2015}, Section 4.2 and Table 6 (option A)", _p, _m,
               results=(Result("CIFAR-10 test error (%)", _error, HE_2015),),
               macs_precision=_precision, note="Published MACs are rounded (e.g. 40.55 M).")
    )  # fmt: skip
for _depth in (20, 56):
    _register(
        Preset(f"plain{_depth}", f"Plain-{_depth} (CIFAR)",
               _cifar((_depth - 2) // 6, shortcut="none"), "cifar",
               f"{HE_2015}, Section 4.2, Figure 6 (no shortcuts)", _CIFAR[_depth][0],
               note="The paper shows plain-56 training and testing worse than plain-20 "
               "(figure only, no table).")
    )  # fmt: skip

# --- pre-activation and wide nets (CIFAR) -----------------------------------------------------
_PREACT = {"activation_order": "full_preact", "shortcut": "B"}
_CIFAR18 = {"image_size": 32, "num_classes": 10, "stem": "cifar"}
_median = "CIFAR-10 test error (%), median of 5"
_CIFAR_OTHERS = (
    Preset("preact_resnet110", "Pre-act ResNet-110 (CIFAR)", _cifar(18, **_PREACT), "cifar",
           f"{HE_2016}, Table 2 (full pre-activation)",
           results=(Result(_median, 6.37, HE_2016),)),
    Preset("preact_resnet164", "Pre-act ResNet-164 (CIFAR)",
           _cifar(18, block="bottleneck", **_PREACT), "cifar",
           f"{HE_2016}, Table 2 (1.7 M parameters)", results=(Result(_median, 5.46, HE_2016),)),
    Preset("preact_resnet1001", "Pre-act ResNet-1001 (CIFAR)",
           _cifar(111, block="bottleneck", **_PREACT), "cifar", f"{HE_2016}, Table 3",
           results=(Result("CIFAR-10 test error (%)", 4.92, HE_2016),
                    Result("CIFAR-100 test error (%)", 22.71, HE_2016))),
    Preset("resnet18_cifar", "ResNet-18 (CIFAR stem)", _imagenet(18, "basic", **_CIFAR18),
           "cifar", "torchvision ResNet-18 with a 3x3 stride-1 stem and no max-pool (kuangliu/"
           "pytorch-cifar)", 11_173_962),
    Preset("preact_resnet18", "Pre-act ResNet-18 (CIFAR)",
           _imagenet(18, "basic", final_norm=False, **_CIFAR18, **_PREACT), "cifar",
           f"{HE_2016}; kuangliu/pytorch-cifar PreActResNet18 (no final BN)", 11_171_146),
    Preset("wrn28_10", "WRN-28-10 (CIFAR)",
           _cifar(4, block="basic", width_factor=10.0, **_PREACT), "cifar", f"{WRN}, Table 4",
           36_479_194, results=(Result("CIFAR-10 test error (%)", 4.00, WRN),
                                Result("CIFAR-10 test error (%), with dropout", 3.89, WRN))),
)  # fmt: skip
for _preset in _CIFAR_OTHERS:
    _register(_preset)


#: The preset a new app session (and a link without a design) starts from.
DEFAULT = "resnet18"


def names() -> list[str]:
    """Preset names, in a stable order (ImageNet first, then CIFAR)."""
    return list(_REGISTRY)


def info(name: str) -> Preset:
    """The whole preset record; an unknown name raises `DesignError`."""
    try:
        return _REGISTRY[name]
    except (KeyError, TypeError):
        raise DesignError(
            f"preset {name!r} does not exist; known presets: {', '.join(_REGISTRY)}",
            field="preset",
        ) from None


def get(name: str) -> Design:
    """The design of preset ``name``."""
    return info(name).design


def find(design: Design) -> Preset | None:
    """The preset whose design equals ``design``, if any."""
    return _BY_DESIGN.get(design)


_BY_DESIGN = {preset.design: preset for preset in reversed(_REGISTRY.values())}
