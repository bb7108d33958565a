"""The 'Download review report' button: the HTML is made only when the button is clicked."""

from __future__ import annotations

import re
from collections.abc import Sequence

import streamlit as st

from resnet_explorer.report import Candidate, build_report
from resnet_explorer.store import Store, StoreError, default_path


def report_html(candidates: Sequence[Candidate], db_path: str | None = None) -> str:
    """The report of ``candidates``, with latency and runs from the library when it opens."""
    try:
        store = Store(db_path or default_path(), create=False)
    except StoreError:
        store = None
    return build_report(candidates, store=store)


def file_name(candidates: Sequence[Candidate]) -> str:
    """'review-resnet18-vs-resnet34.html' (safe characters only)."""
    stem = "-vs-".join(re.sub(r"[^A-Za-z0-9_.-]+", "_", c.name).strip("_") for c in candidates)
    return f"review-{stem[:120] or 'design'}.html"


def report_button(candidates: Sequence[Candidate], *, key: str, label: str | None = None) -> None:
    """A download button for the review report of ``candidates`` (made on click)."""
    items = list(candidates)
    db_path = str(default_path())
    st.download_button(
        label or "Download review report (HTML)",
        data=lambda: report_html(items, db_path),
        file_name=file_name(items),
        mime="text/html",
        key=key,
        on_click="ignore",
        icon=":material/description:",
        help="One self-contained HTML file: tables, interactive charts, diagrams as SVG and the "
        "design JSON. Opens offline in any browser.",
    )
