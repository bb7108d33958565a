"""Exploration results: the JSON-lines file, flat rows, Pareto fronts, EDFs and top-k.

``results.jsonl`` holds one JSON object per line, each with ``"schema"`` (`SCHEMA`) and
``"kind"``: one ``header`` (space, samples asked, seed, evaluation options, backend), one
``sampling`` (draws and rejection counts with reasons), one ``sample`` per sample as it finishes
(index, hash, design, knobs, metrics, status, failure, attempts), and a final ``summary``
(status, counts, seconds). A run cut short has no summary; `load_jsonl` still reads it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from resnet_explorer import jsonio
from resnet_explorer.errors import ResNetExplorerError

SCHEMA = "resnet-explorer/explore/v1"
MAX_RESULTS_BYTES = 1024**3
#: Columns of a row that are not knobs or metrics.
ID_COLUMNS = ("index", "hash", "status", "failure")


class ResultsError(ResNetExplorerError, ValueError):
    """A results file that cannot be read."""


@dataclass
class Results:
    """A run's results as read back (or as held in memory by a running exploration)."""

    header: dict[str, Any] = field(default_factory=dict)
    sampling: dict[str, Any] = field(default_factory=dict)
    records: list[dict[str, Any]] = field(default_factory=list)
    summary: dict[str, Any] | None = None

    def rows(self) -> list[dict[str, Any]]:
        """One flat dict per sample: index, hash, status, error, then knobs, then metrics."""
        return [flat_row(r) for r in sorted(self.records, key=lambda r: r["index"])]

    def knob_names(self) -> list[str]:
        return _keys(r.get("knobs", {}) for r in self.records)

    def metric_names(self) -> list[str]:
        return _keys(r.get("metrics", {}) for r in self.records)


def _keys(dicts: Iterable[dict[str, Any]]) -> list[str]:
    seen: dict[str, None] = {}
    for d in dicts:
        for k, v in d.items():
            if isinstance(v, (int, float, str, bool)) or v is None:
                seen.setdefault(k, None)
    return list(seen)


def flat_row(record: dict[str, Any]) -> dict[str, Any]:
    row = {k: record.get(k) for k in ID_COLUMNS}
    row.update(record.get("knobs", {}))
    row.update(record.get("metrics", {}))
    return row


class JsonlWriter:
    """Writes a results file line by line, flushing each line (a crash loses nothing written).

    The file follows `resnet_explorer.files`: a new file, or an existing regular file with
    ``force``; never a device or a FIFO. A write that fails (a full disk) is a `ResultsError`.
    """

    def __init__(self, path: str | Path, *, force: bool = False) -> None:
        from resnet_explorer.files import open_output

        self.path = Path(path)
        self._file: TextIO = open_output(path, force=force, what="results file", error=ResultsError)

    def write(self, kind: str, payload: dict[str, Any]) -> None:
        line = json.dumps({"schema": SCHEMA, "kind": kind, **payload}, allow_nan=False, default=str)
        try:
            self._file.write(line + "\n")
            self._file.flush()
        except OSError as exc:
            raise self._failed(exc) from None

    def close(self) -> None:
        try:
            self._file.close()
        except OSError as exc:
            raise self._failed(exc) from None

    def _failed(self, exc: OSError) -> ResultsError:
        return ResultsError(f"cannot write results file {str(self.path)!r}: {_why(exc)}")

    def __enter__(self) -> JsonlWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _why(exc: OSError) -> str:
    return exc.strerror or str(exc)


def load_jsonl(path: str | Path) -> Results:
    """Read a results file; a line that is not JSON or not ours raises `ResultsError`."""
    from resnet_explorer.files import read_text_limited

    return loads(
        read_text_limited(path, MAX_RESULTS_BYTES, what="results file", error=ResultsError)
    )


def loads(text: str) -> Results:
    """Parse results JSON lines (see the module docstring)."""
    out = Results()
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = jsonio.parse(line, what=f"line {number}")
        except jsonio.JsonError as exc:
            raise ResultsError(f"line {number}: not JSON ({exc})") from None
        if not isinstance(item, dict) or item.get("schema") != SCHEMA:
            raise ResultsError(f"line {number}: not an exploration result ({SCHEMA})")
        kind = item.pop("kind", None)
        item.pop("schema")
        if kind == "header":
            out.header = item
        elif kind == "sampling":
            out.sampling = item
        elif kind == "sample":
            out.records.append(item)
        elif kind == "summary":
            out.summary = item
        else:
            raise ResultsError(f"line {number}: unknown kind {kind!r}")
    return out


# --- analysis ---------------------------------------------------------------------------------


def _number(x: Any) -> float | None:
    if isinstance(x, bool) or not isinstance(x, (int, float)) or not math.isfinite(x):
        return None
    return float(x)


def pareto_front(rows: Sequence[dict[str, Any]], x: str, y: str) -> list[dict[str, Any]]:
    """Rows not dominated when both ``x`` and ``y`` are minimized (e.g. MACs and error).

    Rows missing either value are ignored. The front is sorted by ``x``; of rows with equal
    values, the first (lowest index) is kept.
    """
    points = [(_number(r.get(x)), _number(r.get(y)), i, r) for i, r in enumerate(rows)]
    points = [p for p in points if p[0] is not None and p[1] is not None]
    points.sort(key=lambda p: (p[0], p[1], p[2]))
    front: list[dict[str, Any]] = []
    best = math.inf
    for _, yv, _, row in points:
        if yv < best:  # type: ignore[operator]
            front.append(row)
            best = yv  # type: ignore[assignment]
    return front


def edf(values: Iterable[Any]) -> tuple[list[float], list[float]]:
    """Empirical distribution function: sorted values and the fraction <= each (RegNet Eq. 1)."""
    xs = sorted(v for v in (_number(v) for v in values) if v is not None)
    n = len(xs)
    return xs, [(i + 1) / n for i in range(n)]


def group_label(value: Any) -> str:
    return "none" if value is None else str(value)


def edfs(
    rows: Sequence[dict[str, Any]], metric: str, by: str | None = None, *, max_groups: int = 8
) -> dict[str, tuple[list[float], list[float]]]:
    """EDF of ``metric`` per sub-space: rows grouped by the value of knob ``by``.

    A numeric knob with more than ``max_groups`` values is split into ``max_groups`` bins of
    about equal size (labelled ``lo..hi``). ``by=None``: one EDF, labelled ``all``. Groups with no
    value of ``metric`` are left out.
    """
    if by is None:
        out = {"all": edf(r.get(metric) for r in rows)}
        return {k: v for k, v in out.items() if v[0]}
    values = [r.get(by) for r in rows]
    distinct = {group_label(v) for v in values}
    numeric = [_number(v) for v in values]
    if len(distinct) > max_groups and all(v is not None for v in numeric):
        labels = _bins(numeric, max_groups)  # type: ignore[arg-type]
    else:
        labels = [group_label(v) for v in values]
    groups: dict[str, list[Any]] = {}
    for label, row in zip(labels, rows, strict=True):
        groups.setdefault(label, []).append(row.get(metric))
    out = {label: edf(vals) for label, vals in groups.items()}
    return {k: v for k, v in sorted(out.items(), key=lambda kv: _sort_key(kv[0])) if v[0]}


def _sort_key(label: str) -> tuple[int, float, str]:
    head = label.split("..")[0]
    try:
        return (0, float(head), label)
    except ValueError:
        return (1, 0.0, label)


def _bins(values: list[float], count: int) -> list[str]:
    ordered = sorted(values)
    n = len(ordered)
    edges = [ordered[min(n - 1, (n * k) // count)] for k in range(count)] + [ordered[-1]]
    edges = sorted(set(edges))
    labels = []
    for v in values:
        k = max(i for i, e in enumerate(edges[:-1]) if v >= e) if len(edges) > 1 else 0
        lo, hi = edges[k], edges[min(k + 1, len(edges) - 1)]
        labels.append(f"{lo:g}..{hi:g}")
    return labels


def top_k(
    rows: Sequence[dict[str, Any]], metric: str, k: int = 10, *, ascending: bool = True
) -> list[dict[str, Any]]:
    """The ``k`` rows with the lowest (``ascending``) or highest ``metric``; rows without it last
    out."""
    have = [r for r in rows if _number(r.get(metric)) is not None]
    have.sort(key=lambda r: (_number(r[metric]) * (1 if ascending else -1), r.get("index", 0)))  # type: ignore[operator]
    return have[: max(0, k)]
