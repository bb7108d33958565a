"""HTML pieces of the review report: escaping, tables, inline SVG, plotly divs, embedded JSON.

Everything is inlined (styles, plotly.js, SVG), so the file opens offline and has no external
``<script src>`` or ``<link href>``.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from functools import cache
from typing import Any

import plotly.graph_objects as go

STYLE = """
:root { color-scheme: light; --muted: #5b6270; --line: #d9dde4; --accent: #3056d3; }
* { box-sizing: border-box; }
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1d2330;
       margin: 0 auto; max-width: 1240px; padding: 24px 32px 64px; }
h1 { font-size: 1.7rem; margin: 0 0 4px; }
h2 { font-size: 1.25rem; margin: 36px 0 8px; padding-bottom: 4px;
     border-bottom: 1px solid var(--line); }
h3 { font-size: 1.05rem; margin: 20px 0 6px; }
p.meta, p.note, .caption { color: var(--muted); font-size: 0.9rem; }
nav a { margin-right: 14px; color: var(--accent); text-decoration: none; }
table { border-collapse: collapse; margin: 8px 0 4px; font-size: 0.9rem; }
th, td { border: 1px solid var(--line); padding: 4px 10px; text-align: left; vertical-align: top; }
th { background: #f3f5f9; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.kind { color: var(--muted); font-size: 0.8rem; }
.notice { border-left: 4px solid #d39b30; background: #fff8e8; padding: 8px 12px; margin: 8px 0; }
.diagrams { display: flex; gap: 16px; flex-wrap: wrap; align-items: flex-start; }
.diagram { flex: 1 1 280px; min-width: 0; overflow: auto; border: 1px solid var(--line);
           border-radius: 6px;
           padding: 8px; background: #fff; }
.diagram svg { max-width: 100%; height: auto; }
pre { background: #f6f8fa; border: 1px solid var(--line); border-radius: 6px; padding: 10px;
      overflow: auto; font-size: 0.82rem; }
ul.changes { margin: 4px 0; }
code { overflow-wrap: anywhere; }
.chip { display: inline-block; width: 12px; height: 12px; border-radius: 3px; margin-right: 6px;
        vertical-align: -1px; }
"""


def esc(text: Any) -> str:
    """``text`` escaped for HTML text and attribute values."""
    return html.escape(str(text), quote=True)


def table(
    rows: Sequence[Mapping[str, Any]],
    columns: Sequence[str] | None = None,
    *,
    numeric: Iterable[str] = (),
    headers: Mapping[str, str] | None = None,
) -> str:
    """An HTML table of ``rows`` (dicts); ``numeric`` columns are right-aligned."""
    if not rows:
        return "<p class='note'>Nothing to show.</p>"
    columns = list(columns or rows[0].keys())
    numeric = set(numeric)
    headers = headers or {}
    head = "".join(f"<th>{esc(headers.get(c, c))}</th>" for c in columns)
    body = []
    for row in rows:
        cells = []
        for c in columns:
            value = row.get(c, "")
            cls = " class='num'" if c in numeric else ""
            cells.append(f"<td{cls}>{esc(_cell(value))}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.4g}"
    return str(value)


_SVG_START = re.compile(r"<svg\b", re.IGNORECASE)


def inline_svg(svg: bytes | str) -> str:
    """An SVG document made fit to sit inside HTML: the XML declaration and DOCTYPE dropped."""
    text = svg.decode("utf-8") if isinstance(svg, bytes) else svg
    start = _SVG_START.search(text)
    if start is None:
        raise ValueError("not an SVG document")
    return text[start.start() :].strip()


def figure(fig: go.Figure, div_id: str) -> str:
    """A plotly figure as a div and the script that draws it (plotly.js comes from `head`)."""
    height = fig.layout.height or 400
    return fig.to_html(
        full_html=False,
        include_plotlyjs=False,
        div_id=div_id,
        default_height=f"{height}px",
        config={"displaylogo": False, "responsive": True},
    )


def json_script(data: Any, element_id: str) -> str:
    """``data`` as ``<script type="application/json">`` (``<``, ``>`` and ``&`` escaped so the
    text can never close the element; `json.loads` reads it back unchanged)."""
    text = json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False)
    text = text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")
    return f'<script type="application/json" id="{esc(element_id)}">{text}</script>'


@cache
def plotly_js() -> str:
    """The whole plotly.js bundle shipped with the plotly package (about 4.8 MB)."""
    from plotly.offline import get_plotlyjs

    return get_plotlyjs()


def page(title: str, body: str, *, plotly: bool = True) -> str:
    """A complete, self-contained HTML document."""
    script = f'<script type="text/javascript">{plotly_js()}</script>' if plotly else ""
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="generator" content="ResNet Explorer">\n'
        f"<title>{esc(title)}</title>\n<style>{STYLE}</style>\n{script}\n</head>\n"
        f"<body>\n{body}\n</body>\n</html>\n"
    )
