"""What the store hands back (frozen dataclasses) and the checks on what it is given."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from resnet_explorer import jsonio
from resnet_explorer.design import Design
from resnet_explorer.errors import DesignError
from resnet_explorer.status import STORED_FINAL, STORED_STATUSES, StoredStatus
from resnet_explorer.store.errors import DamagedRowError, StoreError

MAX_NAME = 120
MAX_TAG = 40
MAX_TAGS = 20
MAX_NOTES = 20_000
MAX_JSON = 1 << 20  # one settings / results / config / metrics document
MAX_STEP = 2**63 - 1  # SQLite's INTEGER
#: A stored run's statuses (the one vocabulary of runs and jobs: `resnet_explorer.status`).
RUN_STATUSES = STORED_STATUSES
FINAL_STATUSES = STORED_FINAL
#: Step metrics kept in their own columns; any other key goes to ``metrics``.
STEP_COLUMNS = ("loss", "acc", "lr")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_RUN_ID = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


@dataclass(frozen=True)
class SavedDesign:
    """A design saved in the library under a unique name."""

    id: int
    name: str
    hash: str
    design_json: str
    tags: tuple[str, ...]
    notes: str
    created: str
    updated: str
    block_types: tuple[str, ...] = ()

    @property
    def design(self) -> Design:
        """The `Design` (parsed on access, so one stale row never breaks a listing)."""
        try:
            return Design.from_json(self.design_json)
        except DesignError as exc:
            message = f"design {self.name!r} in the library cannot be read: {exc}"
            raise DamagedRowError(message) from None

    @property
    def _what(self) -> str:
        return f"design {self.name!r}"

    def summary(self) -> dict[str, Any]:
        """Everything but the design, as ``library list --json`` shows it (docs/store.md)."""
        return _document(
            self, ("name", "hash", "tags", "notes", "block_types", "created", "updated")
        )

    def to_dict(self) -> dict[str, Any]:
        """As in the export format (docs/store.md)."""
        return _document(self, ("name", "hash", "tags", "notes", "created", "updated", "design"))


@dataclass(frozen=True)
class SavedProfile:
    """Measured costs of a design on a device, with the settings they were measured under."""

    id: int
    design_hash: str
    design_json: str
    device: str
    settings: dict[str, Any]
    results: dict[str, Any]
    created: str

    @property
    def _what(self) -> str:
        return f"profile {self.id}"

    def to_dict(self) -> dict[str, Any]:
        """As in the export format (docs/store.md)."""
        return _document(
            self, ("design_hash", "design", "device", "settings", "results", "created")
        )


@dataclass(frozen=True)
class Run:
    """A probe run: what was trained, how, and how it ended (``status`` "running" until then;
    a run that stays "running" with an old ``updated`` was interrupted)."""

    run_id: str
    design_hash: str
    design_json: str
    config: dict[str, Any]
    status: StoredStatus
    started: str
    updated: str
    finished: str | None
    error: str | None
    steps: int = 0
    last_step: int | None = None

    @property
    def design(self) -> Design:
        return Design.from_json(self.design_json)

    @property
    def _what(self) -> str:
        return f"run {self.run_id!r}"

    def to_dict(self) -> dict[str, Any]:
        """As in the export format (docs/store.md)."""
        return _document(
            self,
            (
                "run_id",
                "design_hash",
                "design",
                "config",
                "status",
                "started",
                "updated",
                "finished",
                "error",
            ),
        )


@dataclass(frozen=True)
class Step:
    """One step's metrics: ``loss``, ``acc``, ``lr`` and any others in ``metrics``."""

    step: int
    time: str
    loss: float | None = None
    acc: float | None = None
    lr: float | None = None
    metrics: dict[str, Any] = field(default_factory=dict)

    def row(self) -> dict[str, Any]:
        """Flat: ``{"step", "time", "loss", "acc", "lr", **metrics}`` (a table or chart row)."""
        out: dict[str, Any] = {"step": self.step, "time": self.time}
        out.update(loss=self.loss, acc=self.acc, lr=self.lr)
        out.update(self.metrics)
        return out


# --- checks -----------------------------------------------------------------------------------


def check_name(name: Any, what: str = "design name") -> str:
    if not isinstance(name, str):
        raise StoreError(f"{what} must be text, got {type(name).__name__}")
    name = name.strip()
    if not name:
        raise StoreError(f"{what} is empty")
    if len(name) > MAX_NAME:
        raise StoreError(f"{what} {name[:40]!r}... is {len(name)} characters; at most {MAX_NAME}")
    if _CONTROL.search(name):
        raise StoreError(f"{what} {name!r} contains control characters")
    return name


def check_tags(tags: Iterable[str] | str | None) -> tuple[str, ...]:
    """Tags, stripped and de-duplicated (case-insensitively, first spelling kept).
    A string is split on commas."""
    if tags is None:
        return ()
    if isinstance(tags, str):
        tags = tags.split(",")
    out: list[str] = []
    seen: set[str] = set()
    for tag in tags:
        if not isinstance(tag, str):
            raise StoreError(f"tag {tag!r} must be text")
        tag = tag.strip()
        if not tag:
            continue
        if len(tag) > MAX_TAG or "," in tag or _CONTROL.search(tag):
            raise StoreError(
                f"tag {tag[:60]!r} is not allowed: at most {MAX_TAG} characters, no commas or "
                "control characters"
            )
        if tag.casefold() not in seen:
            seen.add(tag.casefold())
            out.append(tag)
    if len(out) > MAX_TAGS:
        raise StoreError(f"{len(out)} tags given; at most {MAX_TAGS}")
    return tuple(out)


def check_notes(notes: Any) -> str:
    if notes is None:
        return ""
    if not isinstance(notes, str):
        raise StoreError(f"notes must be text, got {type(notes).__name__}")
    if len(notes) > MAX_NOTES:
        raise StoreError(f"notes are {len(notes):,} characters; at most {MAX_NOTES:,}")
    return notes


def check_run_id(run_id: Any) -> str:
    if not isinstance(run_id, str) or not _RUN_ID.match(run_id):
        raise StoreError(
            f"run id {run_id!r} is not valid: 1 to 64 letters, digits, '_', '.' or '-'"
        )
    return run_id


def _design_doc(text: str, what: str) -> Any:
    """A stored design's JSON as data (a row damaged on disk is a `DamagedRowError`)."""
    try:
        value = jsonio.parse(text, what="design_json")
    except jsonio.JsonError as exc:
        raise DamagedRowError(f"{what}: its design_json column is not valid JSON ({exc})") from None
    if not isinstance(value, dict):
        raise DamagedRowError(f"{what}: its design_json is not a JSON object")
    return value


def _document(record: Any, fields: Iterable[str]) -> dict[str, Any]:
    """The ``fields`` of a record, in that order, as a JSON document: tuples as lists, and
    ``design`` the record's ``design_json`` as data (`_design_doc`)."""
    out: dict[str, Any] = {}
    for name in fields:
        if name == "design":
            out[name] = _design_doc(record.design_json, record._what)
        else:
            value = getattr(record, name)
            out[name] = list(value) if isinstance(value, tuple) else value
    return out


def _plain(value: Any, where: str) -> Any:
    """``value`` as plain JSON: non-finite floats become None (documented), tuples lists,
    integers must fit in 64 bits (`jsonio.plain`)."""
    return jsonio.plain(value, where, error=StoreError)


def json_doc(value: Mapping[str, Any] | None, what: str) -> str:
    """A mapping as compact JSON text (checked, size-capped)."""
    if value is None:
        value = {}
    if not isinstance(value, Mapping):
        raise StoreError(f"{what} must be a mapping, got {type(value).__name__}")
    text = json.dumps(_plain(value, what), sort_keys=True, separators=(",", ":"))
    if len(text) > MAX_JSON:
        raise StoreError(f"{what} is {len(text):,} bytes of JSON; at most {MAX_JSON:,}")
    return text


def step_row(row: Mapping[str, Any], where: str) -> tuple[Any, ...]:
    """``(step, loss, acc, lr, metrics_json)`` from one flat row; ``time`` is ignored here."""
    if not isinstance(row, Mapping):
        raise StoreError(f"{where} must be a mapping of metric -> value")
    step = row.get("step")
    if isinstance(step, bool) or not isinstance(step, int) or not 0 <= step <= MAX_STEP:
        raise StoreError(
            f"{where}: 'step' must be a whole number 0..{MAX_STEP:,} (2**63 - 1), got {step!r:.40}"
        )
    columns = []
    for key in STEP_COLUMNS:
        value = _plain(row.get(key), f"{where}.{key}")
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise StoreError(f"{where}.{key} must be a number, got {value!r:.60}")
        columns.append(None if value is None else float(value))
    extra = {k: v for k, v in row.items() if k not in ("step", "time", *STEP_COLUMNS)}
    for key in extra:
        if not isinstance(key, str) or not 0 < len(key) <= 64:
            raise StoreError(f"{where}: metric name {key!r} must be text of 1 to 64 characters")
    return (int(step), *columns, json_doc(extra, f"{where} metrics"))
