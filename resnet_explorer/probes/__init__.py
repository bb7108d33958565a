"""Training probes: short, seeded training runs that show how designs train.

`run_probe` trains designs on the same batches and reports per-step and periodic metrics
(`runner`); `data` loads the offline MNIST digits, CIFAR-10, a synthetic set or an image folder;
`experiments` holds the seeds' comparisons (degradation, activation order, shortcut options,
zero-init); `jobs` runs probes in the background for the app; `metrics.gradient_flow_at_init`
measures per-block gradient norms at initialisation. The names that need PyTorch are imported
on first use (`lazy.exports`), so that a page reading a probe link does not import it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from resnet_explorer.lazy import exports
from resnet_explorer.probes.config import ProbeConfig
from resnet_explorer.probes.errors import DataError, ProbeError

if TYPE_CHECKING:
    from resnet_explorer.probes.metrics import gradient_flow_at_init
    from resnet_explorer.probes.runner import DesignRun, Probe, ProbeResult, iter_probe, run_probe

__all__ = [
    "DataError",
    "DesignRun",
    "Probe",
    "ProbeConfig",
    "ProbeError",
    "ProbeResult",
    "gradient_flow_at_init",
    "iter_probe",
    "run_probe",
]
__getattr__ = exports(
    __name__,
    {
        "gradient_flow_at_init": f"{__name__}.metrics",
        **{
            name: f"{__name__}.runner"
            for name in ("DesignRun", "Probe", "ProbeResult", "iter_probe", "run_probe")
        },
    },
)
