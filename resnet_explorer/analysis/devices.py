"""Which device a measurement runs on, what precision it supports, and known GPU peaks."""

from __future__ import annotations

import re
from dataclasses import dataclass

from resnet_explorer.analysis._common import AnalysisError

DEVICES = ("auto", "cpu", "cuda")
PRECISIONS = ("fp32", "bf16", "fp16")


@dataclass(frozen=True)
class GpuPeak:
    """Dense (no sparsity) tensor/vector peaks in TFLOP/s and memory bandwidth in GB/s, from the
    vendor's datasheet."""

    fp32: float
    tf32: float | None
    bf16: float | None
    fp16: float
    source: str
    bandwidth_gbs: float | None = None


# NVIDIA datasheets list tensor-core figures "with sparsity"; the dense peaks are half of those.
# H100 SXM / PCIe / NVL: "NVIDIA H100 Tensor Core GPU" datasheet (2023).
# H200 SXM / NVL: "NVIDIA H200 Tensor Core GPU" datasheet (2024).
# A100: "NVIDIA A100 Tensor Core GPU" datasheet (2021), SXM and PCIe alike (bandwidth: 40 GB
# 1,555 GB/s; 80 GB PCIe 1,935 GB/s; 80 GB SXM 2,039 GB/s).
# L40S, L4, A10, T4, V100: their NVIDIA product datasheets.
# GeForce RTX 4090: "NVIDIA Ada GPU Architecture" whitepaper, Appendix A (tensor figures with
# FP32 accumulate, as PyTorch uses; dense).
_PEAKS: list[tuple[str, GpuPeak]] = [
    (r"H100.*NVL", GpuPeak(60.0, 417.5, 835.5, 835.5, "NVIDIA H100 NVL datasheet", 3900.0)),
    (r"H100.*PCIe", GpuPeak(51.0, 378.0, 756.0, 756.0, "NVIDIA H100 PCIe datasheet", 2000.0)),
    (r"H100", GpuPeak(67.0, 494.5, 989.5, 989.5, "NVIDIA H100 SXM5 datasheet", 3350.0)),
    (r"H200.*NVL", GpuPeak(60.0, 417.5, 835.5, 835.5, "NVIDIA H200 NVL datasheet", 4800.0)),
    (r"H200", GpuPeak(67.0, 494.5, 989.5, 989.5, "NVIDIA H200 SXM datasheet", 4800.0)),
    (r"A100.*80GB.*PCIe", GpuPeak(19.5, 156.0, 312.0, 312.0, "NVIDIA A100 datasheet", 1935.0)),
    (r"A100.*80GB", GpuPeak(19.5, 156.0, 312.0, 312.0, "NVIDIA A100 datasheet", 2039.0)),
    (r"A100", GpuPeak(19.5, 156.0, 312.0, 312.0, "NVIDIA A100 datasheet", 1555.0)),
    (r"L40S", GpuPeak(91.6, 183.0, 362.05, 362.05, "NVIDIA L40S datasheet", 864.0)),
    (r"\bL4\b", GpuPeak(30.3, 60.0, 121.0, 121.0, "NVIDIA L4 datasheet", 300.0)),
    (r"\bA10\b", GpuPeak(31.2, 62.5, 125.0, 125.0, "NVIDIA A10 datasheet", 600.0)),
    (r"V100.*PCIe", GpuPeak(14.0, None, None, 112.0, "NVIDIA V100 PCIe datasheet", 900.0)),
    (r"V100", GpuPeak(15.7, None, None, 125.0, "NVIDIA V100 SXM2 datasheet", 900.0)),
    (r"\bT4\b", GpuPeak(8.1, None, None, 65.0, "NVIDIA T4 datasheet", 320.0)),
    (
        r"RTX 4090",
        GpuPeak(82.6, 82.6, 165.2, 165.2, "NVIDIA Ada GPU Architecture whitepaper", 1008.0),
    ),
]


def gpu_peak(name: str) -> GpuPeak | None:
    """The peak table entry for a GPU name as CUDA reports it, None when it is not known."""
    for pattern, peak in _PEAKS:
        if re.search(pattern, name):
            return peak
    return None


def peak_tflops(peak: GpuPeak, precision: str, tf32: bool) -> tuple[float | None, str]:
    """Peak TFLOP/s that applies to ``precision`` (TF32 for fp32 convs when cuDNN allows it)."""
    if precision == "fp32":
        if tf32 and peak.tf32 is not None:
            return peak.tf32, "TF32 tensor cores (torch.backends.cudnn.allow_tf32)"
        return peak.fp32, "FP32"
    value = peak.bf16 if precision == "bf16" else peak.fp16
    return value, precision.upper() + " tensor cores"


@dataclass(frozen=True)
class DeviceInfo:
    """The device a measurement ran on: ``type`` cpu or cuda, ``name`` the GPU or 'CPU only'."""

    requested: str
    type: str
    name: str
    index: int | None = None

    @property
    def key(self) -> str:
        """``cpu`` or ``cuda:N``: what ``torch.device`` takes, one name per device."""
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def torch_device(self):  # -> torch.device (torch is imported lazily)
        """The `torch.device`."""
        import torch

        return torch.device(self.key)


def resolve_device(requested: str = "auto") -> DeviceInfo:
    """``auto`` = CUDA when torch sees a GPU, else the CPU; ``cpu``, ``cuda`` (the current GPU)
    or ``cuda:N``. Anything else (``meta``, ``mps``, ...) or a GPU that is not there is an error
    that says what is available."""
    import torch

    index = _cuda_index(requested)
    if requested not in DEVICES and index is None:
        raise AnalysisError(
            f"device {requested!r} is not known; use auto, cpu, cuda or cuda:N (N = a GPU index)"
        )
    has_cuda = torch.cuda.is_available()
    wants_cuda = requested == "cuda" or index is not None
    if wants_cuda and not has_cuda:
        build = "a CUDA build" if torch.version.cuda else "a CPU-only build"
        raise AnalysisError(
            f"device {requested!r} was requested but torch sees no CUDA GPU (torch "
            f"{torch.__version__}, {build}); use --device cpu or auto"
        )
    if index is not None and index >= torch.cuda.device_count():
        count = torch.cuda.device_count()
        raise AnalysisError(
            f"device {requested!r} was requested but torch sees {count} CUDA GPU"
            f"{'s' if count != 1 else ''} (cuda:0 to cuda:{count - 1})"
        )
    if requested in ("auto", "cuda") and has_cuda:
        index = torch.cuda.current_device()
    if index is not None:
        return DeviceInfo(requested, "cuda", torch.cuda.get_device_name(index), index)
    return DeviceInfo(requested, "cpu", "CPU only")


def _cuda_index(requested: object) -> int | None:
    """N for ``cuda:N`` (a plain decimal index), else None."""
    if not isinstance(requested, str) or not requested.startswith("cuda:"):
        return None
    digits = requested[len("cuda:") :]
    return int(digits) if digits.isascii() and digits.isdigit() and len(digits) <= 3 else None


def check_precision(precision: str, device: DeviceInfo) -> None:
    """fp32 everywhere; bf16/fp16 are autocast on a CUDA GPU that supports them."""
    import torch

    if precision not in PRECISIONS:
        raise AnalysisError(
            f"precision {precision!r} is not known; use one of {', '.join(PRECISIONS)}"
        )
    if precision == "fp32":
        return
    if device.type != "cuda":
        raise AnalysisError(
            f"precision {precision!r} is measured with autocast on a CUDA GPU; this run is on "
            "the CPU (CPU only): use fp32"
        )
    if precision == "bf16" and not torch.cuda.is_bf16_supported():
        raise AnalysisError(f"precision 'bf16' is not supported by {device.name}; use fp16")
