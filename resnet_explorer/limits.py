"""Caps that keep an absurd design from exhausting memory: checked before anything is built."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

from resnet_explorer.design import Design
from resnet_explorer.errors import DesignTooLarge
from resnet_explorer.plan.counts import totals
from resnet_explorer.plan.ops import Totals

BYTES_PER_VALUE = 4  # fp32
_MAX_CAP = 1e15  # far above any machine; keeps the cap a plain 64-bit integer


def _env_int(name: str, default: int) -> int:
    """``$name`` as a positive whole number (``1e9`` and ``4096`` are fine; ``inf``, ``nan``,
    ``1e400``, ``0``, ``-5`` or ``lots`` are refused with a message naming the variable)."""
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < 1 or value > _MAX_CAP:
        raise DesignTooLarge(
            f"{name}={raw.strip()[:40]!r} is not a usable cap: give a finite positive number "
            f"(at most {_MAX_CAP:.0e}), e.g. {name}={default}, or unset it for the default"
        )
    return int(value)


@dataclass(frozen=True)
class Limits:
    """Largest design the engine will build.

    ``max_params``: learnable parameters. ``max_activation_bytes``: fp32 bytes of every layer's
    output for one image (a lower bound on a forward pass's memory).
    Defaults come from ``RESNET_EXPLORER_MAX_PARAMS`` and ``RESNET_EXPLORER_MAX_ACTIVATION_MB``.
    """

    max_params: int = 1_000_000_000
    max_activation_bytes: int = 4 * 1024**3

    @classmethod
    def from_env(cls) -> Limits:
        return cls(
            max_params=_env_int("RESNET_EXPLORER_MAX_PARAMS", cls.max_params),
            max_activation_bytes=_env_int(
                "RESNET_EXPLORER_MAX_ACTIVATION_MB", cls.max_activation_bytes // 1024**2
            )
            * 1024**2,
        )

    def exceeded(self, counts: Totals) -> tuple[str, str] | None:
        """Which cap ``counts`` (one image) exceeds, as (field, message); None when within."""
        if counts.params > self.max_params:
            return "stages", (
                f"design has {counts.params:,} parameters; the cap is {self.max_params:,} "
                "(set RESNET_EXPLORER_MAX_PARAMS to change it)"
            )
        activation_bytes = counts.outputs * BYTES_PER_VALUE
        if activation_bytes > self.max_activation_bytes:
            return "image_size", (
                f"one image's activations need {activation_bytes / 1024**2:,.0f} MiB; the cap is "
                f"{self.max_activation_bytes / 1024**2:,.0f} MiB (lower image_size, or set "
                "RESNET_EXPLORER_MAX_ACTIVATION_MB)"
            )
        return None


def check_limits(design: Design, limits: Limits | None = None) -> None:
    """Raise `DesignTooLarge` when ``design`` exceeds ``limits`` (analytic counts only)."""
    problem = (limits or Limits.from_env()).exceeded(totals(design))
    if problem is not None:
        field, message = problem
        raise DesignTooLarge(message, field=field)
