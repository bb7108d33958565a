"""What a browser session keeps across pages, behind typed accessors.

Pages and widgets never read or write shared ``st.session_state`` keys themselves; they call
this module. The session holds one valid `Design`, its `Origin` (the preset or library design
it started from, which deltas and titles refer to), the editor's last validation error, and
the designs other pages send to Compare. The editor widgets are seeded from the design; they
never own it, so the design survives moving between pages even when Streamlit drops widget
state. The address bar always holds the design and its origin (`sync_url`), so a copied URL
shows the recipient exactly what the sender saw.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import streamlit as st

from resnet_explorer import presets
from resnet_explorer.design import Design
from resnet_explorer.errors import DesignError

if TYPE_CHECKING:
    from resnet_explorer.analysis.latency import LatencyJob

#: URL query parameters: the design, the preset it came from, the library design it came from
#: (name and design token), and the Compare page's picks and baseline.
URL_PARAM = "d"
URL_PRESET = "from"
URL_LIBRARY = "lib"
URL_BASE = "base"
URL_COMPARE = "cmp"
URL_COMPARE_BASELINE = "cbase"
DEFAULT_PRESET = presets.DEFAULT

_DESIGN = "design"
_ORIGIN = "design_origin"
_ERROR = "design_error"
_WARNING = "design_warning"
_VERSION = "_editor_version"
_SEEDED_PAGE = "_editor_page"
_SEED = "_editor_seed"
_RUNS = "_script_runs"
_CLOCK = "_run_started"
_LATENCY_JOB = "_latency_job"
_LATENCY_RESULTS = "_latency_results"
_LATENCY_SECONDS = "_latency_seconds"
_STARTED = "_session_started"
_URL_NOTICE = "_url_notice"
_COMPARE_URL = "_compare_from_url"
#: (label, Design) pairs sent to the Compare page (the Explore page's "Send to Compare").
SENT_TO_COMPARE = "compare_designs"
_NEW_SENT = "_cmp_new_sent"


@dataclass(frozen=True)
class Origin:
    """Where the session's design came from: a preset, a saved (library) design, or both."""

    design: Design
    preset: str | None = None
    library: str | None = None

    @property
    def title(self) -> str:
        """The name people know it by: the library name, else the preset's title."""
        if self.library:
            return self.library
        if self.preset:
            return presets.info(self.preset).title
        return f"Custom design {self.design.hash[:8]}"

    @property
    def kind(self) -> str:
        return "library" if self.library else "preset" if self.preset else "custom"


# --- the design ---------------------------------------------------------------------------------


def current() -> Design:
    """The session's current (always valid) design."""
    ensure_started()
    return st.session_state[_DESIGN]


def origin() -> Origin | None:
    """The preset or saved design the current design started from (None: from scratch)."""
    return st.session_state.get(_ORIGIN)


def base_preset() -> presets.Preset | None:
    """The preset the current design started from, if any."""
    found = origin()
    return presets.info(found.preset) if found is not None and found.preset else None


def editor_version() -> int:
    """Bumped whenever the design is replaced wholesale, so editor widgets re-seed."""
    return st.session_state.get(_VERSION, 0)


def load(
    design: Design,
    *,
    preset: str | None = None,
    library: str | None = None,
    base: Design | None = None,
) -> None:
    """Replace the session's design (preset picked, file uploaded, library opened, link read).

    ``preset`` / ``library`` name its origin and ``base`` is the origin's design (default: the
    preset's design, else ``design``). Without either, the preset ``design`` equals is found."""
    if preset is None and library is None:
        match = presets.find(design)
        preset = match.name if match else None
    if base is None:
        base = presets.get(preset) if preset is not None and library is None else design
    st.session_state[_DESIGN] = design
    st.session_state[_ORIGIN] = (
        Origin(base, preset, library) if preset is not None or library is not None else None
    )
    st.session_state[_ERROR] = None
    st.session_state[_VERSION] = editor_version() + 1
    st.session_state[_SEEDED_PAGE] = None  # forces the editor to re-seed its widgets


def update(design: Design) -> None:
    """Accept an edit from the editor (keeps the origin)."""
    st.session_state[_DESIGN] = design
    st.session_state[_ERROR] = None


def set_error(message: str | None) -> None:
    """The editor's current validation error (None: what the editor holds is valid)."""
    st.session_state[_ERROR] = message


def error() -> str | None:
    return st.session_state.get(_ERROR)


def set_warning(message: str | None) -> None:
    """Why the (valid) current design cannot be built, e.g. over the size cap (None: it can)."""
    st.session_state[_WARNING] = message


def warning() -> str | None:
    return st.session_state.get(_WARNING)


def needs_seeding(page: str) -> bool:
    """True on the first run of a page (or after `load`): widgets must be set from the design.

    Each seeding starts a new `seed_generation` and records the design it was seeded from."""
    if st.session_state.get(_SEEDED_PAGE) != page:
        st.session_state[_SEEDED_PAGE] = page
        st.session_state[_SEED] = (seed_generation() + 1, current())
        return True
    return False


def seed_generation() -> int:
    """Changes whenever the editor re-seeds (design loaded, page changed): widget keys that
    include it start afresh, and keep their edits in between."""
    return st.session_state.get(_SEED, (0, None))[0]


def seeded_design() -> Design:
    """The design the editor widgets were last seeded from (edits are relative to it)."""
    return st.session_state.get(_SEED, (0, None))[1] or current()


def next_run() -> int:
    """Count this script run of the session (1, 2, ...)."""
    st.session_state[_RUNS] = st.session_state.get(_RUNS, 0) + 1
    return st.session_state[_RUNS]


def run_number() -> int:
    """The number of the current script run (see `next_run`)."""
    return st.session_state.get(_RUNS, 0)


def start_clock() -> None:
    """Note when this script run started (`clock_ms` reads it)."""
    st.session_state[_CLOCK] = time.perf_counter()


def clock_ms() -> float:
    """Milliseconds since this script run started."""
    return (time.perf_counter() - st.session_state.get(_CLOCK, time.perf_counter())) * 1e3


# --- the URL ------------------------------------------------------------------------------------


def ensure_started() -> None:
    """First run of a session: take the design (and its origin) from the URL, else the default."""
    if st.session_state.get(_STARTED):
        return
    st.session_state[_STARTED] = True
    st.session_state[_COMPARE_URL] = (
        st.query_params.get_all(URL_COMPARE),
        st.query_params.get(URL_COMPARE_BASELINE),
    )
    token = st.query_params.get(URL_PARAM)
    if token:
        try:
            design = Design.from_url(token)
        except DesignError as exc:
            _notice(
                f"The design in this link could not be read ({exc}). Showing the default design."
            )
        else:
            load(design, **_origin_from_url(design))
            return
    load(presets.get(DEFAULT_PRESET), preset=DEFAULT_PRESET)


def _origin_from_url(design: Design) -> dict[str, object]:
    preset = st.query_params.get(URL_PRESET)
    library = st.query_params.get(URL_LIBRARY)
    if preset and preset not in presets.names():
        _notice(f"The link names a preset {preset!r} that this app does not have.")
        preset = None
    if library:
        base = design
        token = st.query_params.get(URL_BASE)
        if token:
            try:
                base = Design.from_url(token)
            except DesignError:
                _notice(f"The link's copy of the saved design {library!r} is damaged.")
        return {"preset": preset, "library": library, "base": base}
    if preset:
        return {"preset": preset}
    return {}  # load() finds the preset the design equals, if any


def _notice(text: str) -> None:
    st.session_state[_URL_NOTICE] = text


def pop_url_notice() -> str | None:
    """A message about a broken shared link, shown once."""
    return st.session_state.pop(_URL_NOTICE, None)


def url_params() -> dict[str, str | list[str]]:
    """The query parameters that describe the session's design and its origin."""
    design = current()
    params: dict[str, str | list[str]] = {URL_PARAM: design.to_url()}
    found = origin()
    if found is not None:
        if found.preset:
            params[URL_PRESET] = found.preset
        if found.library:
            params[URL_LIBRARY] = found.library
            params[URL_BASE] = found.design.to_url()
    return params


def sync_url(extra: dict[str, str | list[str]] | None = None, *, keep: Iterable[str] = ()) -> None:
    """Put the design, its origin and ``extra`` in the URL (the address bar is always a link);
    other parameters are dropped, except those named in ``keep``."""
    have = {k: st.query_params.get_all(k) for k in st.query_params}
    kept = {k: v for k, v in have.items() if k in set(keep)}
    wanted = {**kept, **url_params(), **(extra or {})}
    norm = {k: v if isinstance(v, list) else [v] for k, v in wanted.items()}
    if have != norm:
        st.query_params.from_dict(wanted)


# --- latency -----------------------------------------------------------------------------------


def latency_job() -> LatencyJob | None:
    """The session's latency sweep, running or finished."""
    found = st.session_state.get(_LATENCY_JOB)
    return found[1] if found else None


def latency_job_key() -> tuple | None:
    """What the session's latency sweep measures: (design hash, options)."""
    found = st.session_state.get(_LATENCY_JOB)
    return found[0] if found else None


def set_latency_job(key: tuple | None, job: LatencyJob | None) -> None:
    st.session_state[_LATENCY_JOB] = (key, job) if job is not None else None


def latency_results() -> dict:
    """Finished latency sweeps of this session, by (design hash, options): the report, or the
    message saying why it failed."""
    return st.session_state.setdefault(_LATENCY_RESULTS, {})


def latency_seconds() -> dict:
    """How long each finished sweep of `latency_results` took (seconds), by the same key."""
    return st.session_state.setdefault(_LATENCY_SECONDS, {})


# --- Compare ------------------------------------------------------------------------------------


def send_to_compare(pairs: Iterable[tuple[str, Design]]) -> None:
    """Offer ``(label, design)`` pairs on the Compare page, which starts from them."""
    sent = st.session_state.setdefault(SENT_TO_COMPARE, [])
    sent.extend(pairs)
    st.session_state[_NEW_SENT] = True


def offer_to_compare(label: str, design: Design) -> None:
    """Offer one design on the Compare page (from a link) without changing its picks."""
    sent = st.session_state.setdefault(SENT_TO_COMPARE, [])
    if (label, design) not in sent:
        sent.append((label, design))


def sent_to_compare() -> dict[str, Design]:
    """The designs sent to Compare, by label."""
    return dict(st.session_state.get(SENT_TO_COMPARE, []))


def take_new_sent() -> bool:
    """True once after designs were sent: Compare then starts from them."""
    return bool(st.session_state.pop(_NEW_SENT, False))


def compare_picks_from_url() -> tuple[list[str], str | None]:
    """The Compare picks and baseline the session's first URL held (once; then empty)."""
    picks, baseline = st.session_state.pop(_COMPARE_URL, None) or ([], None)
    return list(picks), baseline
