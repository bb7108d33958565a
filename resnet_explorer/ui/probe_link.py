"""The Probe page's picks and settings: their defaults, kept across page changes, and carried by
the address bar (``?probe=p1....``, `probes.link`) so that a shared link opens the same probe.

`seed` runs before the page draws its widgets: a link's settings (once per link), else what this
session had before it left the page, else the defaults, go into ``st.session_state`` under the
widgets' keys (the widgets take no default of their own, so nothing is set twice). `publish`
runs after them: it remembers the values and writes the token into the address bar.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import streamlit as st

from resnet_explorer.probes import ProbeError, experiments
from resnet_explorer.probes import link as probe_link
from resnet_explorer.probes.config import MAX_SEEDS
from resnet_explorer.probes.data import DATASETS

PARAM = probe_link.URL_PARAM
SAVED = "_probe_settings"
APPLIED = "_probe_link_applied"
NOTICE = "_probe_link_notice"
IMAGE_SIZES = ("16", "28", "32", "design's own")


@dataclass(frozen=True)
class Setting:
    """One widget's value: its key, default and what a link may set it to."""

    key: str
    default: Any
    options: tuple[Any, ...] | None = None
    low: float | None = None
    high: float | None = None

    def check(self, value: Any) -> Any:
        """``value`` if this widget can hold it, else `ProbeError` naming the setting."""
        if self.options is not None:
            if value not in self.options:
                raise ProbeError(f"{self.key}={value!r} is not one of the choices")
            return value
        number = isinstance(value, (int, float)) and not isinstance(value, bool)
        if not number or (isinstance(self.default, int) and not isinstance(value, int)):
            raise ProbeError(f"{self.key}={value!r} must be a {type(self.default).__name__}")
        if not (self.low is not None and self.high is not None and self.low <= value <= self.high):
            raise ProbeError(f"{self.key}={value!r} must be {self.low:g}..{self.high:g}")
        return float(value) if isinstance(self.default, float) else value


SETTINGS: tuple[Setting, ...] = (
    Setting("probe_experiment", experiments.names()[0], tuple(experiments.names())),
    Setting("probe_experiment_seeds", experiments.default_seeds(), low=1, high=MAX_SEEDS),
    Setting("probe_dataset", "mnist", tuple(DATASETS)),
    Setting("probe_budget", "steps", ("steps", "seconds")),
    Setting("probe_steps", 200, low=1, high=100_000),
    Setting("probe_seconds", 30, low=1, high=3600),
    Setting("probe_image_size", "16", IMAGE_SIZES),
    Setting("probe_optimizer", "sgd", ("sgd", "adamw")),
    Setting("probe_lr", 0.05, low=0.0, high=10.0),
    Setting("probe_batch", 64, low=1, high=4096),
    Setting("probe_eval_every", 50, low=0, high=100_000),
    Setting("probe_seed", 0, low=0, high=2**31 - 1),
    Setting("probe_seeds", experiments.default_seeds(), low=1, high=MAX_SEEDS),
    Setting("probe_wd", 5e-4, low=0.0, high=1.0),
    Setting("probe_warmup", 0.1, low=0.0, high=0.9),
    Setting("probe_ls", 0.0, low=0.0, high=0.9),
    Setting("probe_threads", 1, low=0, high=256),
)
DESIGNS = "probe_designs"
EXPERIMENT_SEEDS = "probe_experiment_seeds"
DEFAULT_PICKS = ["plain20", "resnet20"]
MAX_PICKS = 4
_BY_KEY = {s.key: s for s in SETTINGS}


def seed(design_options: list[str]) -> None:
    """Put every setting into the session before the widgets are drawn (see the module doc)."""
    token = st.query_params.get(PARAM)
    if token and st.session_state.get(APPLIED) != token:
        st.session_state[APPLIED] = token
        _apply(token, design_options)
    saved = st.session_state.get(SAVED, {})
    for s in SETTINGS:
        if s.key not in st.session_state:
            st.session_state[s.key] = saved.get(s.key, s.default)
    if DESIGNS not in st.session_state:
        picks = saved.get(DESIGNS, DEFAULT_PICKS)
        st.session_state[DESIGNS] = [p for p in picks if p in design_options]


def _apply(token: str, design_options: list[str]) -> None:
    try:
        values = probe_link.decode(token)
    except ProbeError as exc:
        st.session_state[NOTICE] = f"The probe settings in this link could not be read: {exc}."
        return
    problems = []
    for key, value in values.items():
        if key == DESIGNS:
            picks = value if isinstance(value, list) else []
            known = [p for p in picks if isinstance(p, str) and p in design_options]
            missing = [str(p) for p in picks if p not in known]
            if missing:
                problems.append(f"designs not found here: {', '.join(missing)}")
            st.session_state[DESIGNS] = known[:MAX_PICKS]
        elif key in _BY_KEY:
            try:
                st.session_state[key] = _BY_KEY[key].check(value)
            except ProbeError as exc:
                problems.append(str(exc))
        else:
            problems.append(f"unknown setting {key!r}")
    if problems:
        st.session_state[NOTICE] = "Some probe settings in this link were left out: " + (
            "; ".join(problems)
        )


def notice() -> str | None:
    """A message about a link's settings, shown once."""
    return st.session_state.pop(NOTICE, None)


def publish() -> str:
    """Remember the settings for this session and put them in the address bar; the token."""
    values = {s.key: st.session_state.get(s.key, s.default) for s in SETTINGS}
    values[DESIGNS] = list(st.session_state.get(DESIGNS, []))
    st.session_state[SAVED] = values
    changed = {k: v for k, v in values.items() if v != _default(k)}
    token = probe_link.encode(changed)
    if st.query_params.get(PARAM) != token:
        st.query_params[PARAM] = token
        st.session_state[APPLIED] = token  # our own token: nothing to apply on the next run
    return token


def _default(key: str) -> Any:
    return DEFAULT_PICKS if key == DESIGNS else _BY_KEY[key].default


def share_link() -> str:
    """The address of this page as the address bar holds it: the design (and where it came
    from) and the probe settings."""
    from urllib.parse import urlencode

    base = str(st.context.url or "").split("?")[0]
    params = urlencode({k: st.query_params.get_all(k) for k in st.query_params}, doseq=True)
    return f"{base}?{params}" if params else base
