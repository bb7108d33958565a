"""Look and feel shared by every diagram: colours per kind of layer, labels, the legend."""

from __future__ import annotations

import html
from collections.abc import Iterable

import graphviz

from resnet_explorer import units
from resnet_explorer.diagrams.errors import DiagramError

#: One font name graphviz knows the metrics of: a list ("Helvetica,Arial,...") is measured as
#: Times, narrower than what the browser draws, which clipped labels. Browsers map Helvetica to
#: Arial or Liberation Sans, which have the same metrics.
FONT = "Helvetica"
RANKDIRS = ("TB", "LR")

#: One fill colour per kind of node.
COLOURS: dict[str, str] = {
    "io": "#eeeeee",
    "stem": "#d0e0e3",
    "basic": "#c9daf8",
    "bottleneck": "#b4a7d6",
    "head": "#f4cccc",
    "conv": "#cfe2f3",
    "norm": "#fff2cc",
    "act": "#d9ead3",
    "pool": "#d9d2e9",
    "zero_pad": "#fce5cd",
    "se": "#f9cb9c",
    "eca": "#f9cb9c",
    "aa": "#ead1dc",
    "drop_path": "#f3f3f3",
    "dropout": "#f3f3f3",
    "flatten": "#f3f3f3",
    "linear": "#f4cccc",
    "add": "#ffffff",
    "elided": "#ffffff",
    "other": "#ffffff",
}
KIND_NAMES: dict[str, str] = {
    "io": "input / output",
    "stem": "stem",
    "basic": "basic block (stage)",
    "bottleneck": "bottleneck block (stage)",
    "head": "head",
    "conv": "convolution",
    "norm": "normalization",
    "act": "activation",
    "pool": "pooling",
    "zero_pad": "zero-pad shortcut (A)",
    "se": "squeeze-excitation (channel attention)",
    "eca": "efficient channel attention (ECA)",
    "aa": "anti-aliased downsampling",
    "drop_path": "drop path",
    "dropout": "dropout",
    "flatten": "flatten",
    "linear": "fully connected",
    "add": "addition",
    "elided": "identical blocks, elided",
    "other": "other",
}
BLOCK_NAMES = {"basic": "Basic", "bottleneck": "Bottleneck"}
SHORTCUT_NAMES: dict[str, str] = {
    "identity": "identity",
    "zero_pad": "zero-pad",
    "projection": "1x1 projection",
    "avgpool_projection": "avg-pool + 1x1 projection",
    "none": "none (plain)",
}
#: Edge style of each kind of shortcut (as in He et al. 2015, Fig. 3: dashed = projection).
SHORTCUT_STYLES: dict[str, str] = {
    "identity": "solid",
    "zero_pad": "dotted",
    "projection": "dashed",
    "avgpool_projection": "dashed",
}
HIGHLIGHT = "#cc0000"


def check_rankdir(rankdir: str) -> str:
    """``TB`` (top to bottom) or ``LR`` (left to right); anything else raises `DiagramError`."""
    if not isinstance(rankdir, str) or rankdir.upper() not in RANKDIRS:
        raise DiagramError(f"rankdir={rankdir!r}: use 'TB' (top to bottom) or 'LR' (left to right)")
    return rankdir.upper()


#: Counts on diagrams read like everywhere else ('1.23 M'): one formatter, in `units`.
human = units.count


def counts_text(params: int, macs: int) -> str:
    """'1.2 M params, 3.4 G MACs' (MACs left out where there are none)."""
    text = f"{human(params)} params"
    return f"{text}, {human(macs)} MACs" if macs else text


def shape_text(shape: Iterable[int]) -> str:
    """(C, H, W) -> '64 x 56 x 56'."""
    return " x ".join(str(d) for d in shape)


def html_label(title: str, *lines: str, note: str = "", size: int = 9) -> str:
    """An HTML-like label: ``title`` on top, smaller grey ``lines`` below, a red ``note``."""
    parts = [f"<B>{html.escape(title)}</B>" if lines or note else html.escape(title)]
    parts += [f'<FONT POINT-SIZE="{size}" COLOR="#444444">{html.escape(x)}</FONT>' for x in lines]
    if note:
        parts.append(f'<FONT POINT-SIZE="{size}" COLOR="{HIGHLIGHT}">{html.escape(note)}</FONT>')
    return "<" + "<BR/>".join(parts) + ">"


def new_graph(name: str, rankdir: str, title: str, *subtitle: str) -> graphviz.Digraph:
    """An empty digraph with the house style and a title on top (none when ``title`` is '')."""
    graph = graphviz.Digraph(name)
    label = {"label": html_label(title, *subtitle, size=10), "labelloc": "t"} if title else {}
    graph.attr(
        rankdir=check_rankdir(rankdir),
        fontname=FONT,
        fontsize="13",
        nodesep="0.3",
        ranksep="0.35",
        newrank="true",
        bgcolor="white",  # dark text and edges stay readable on the app's dark theme
        pad="0.2",
        **label,
    )
    graph.attr("node", shape="box", style="rounded,filled", fontname=FONT, fontsize="11")
    graph.attr("edge", fontname=FONT, fontsize="9", color="#555555", arrowsize="0.7")
    return graph


class Legend:
    """Collects the kinds of nodes and shortcut edges a diagram uses and draws their key."""

    def __init__(self) -> None:
        self.kinds: list[str] = []
        self.edges: list[str] = []

    def kind(self, kind: str) -> str:
        """Record ``kind``; returns its fill colour."""
        if kind not in self.kinds:
            self.kinds.append(kind)
        return COLOURS.get(kind, COLOURS["other"])

    def edge(self, shortcut: str) -> str:
        """Record a shortcut edge of kind ``shortcut``; returns its style."""
        style = SHORTCUT_STYLES[shortcut]
        if shortcut not in self.edges:
            self.edges.append(shortcut)
        return style

    def draw(self, graph: graphviz.Digraph, extra: Iterable[tuple[str, str]] = ()) -> None:
        """Add the legend as one HTML-table node (it cannot overlap itself)."""
        rows = ['<TR><TD COLSPAN="2"><B>legend</B></TD></TR>']
        for kind in self.kinds:
            colour = COLOURS.get(kind, COLOURS["other"])
            rows.append(
                f'<TR><TD BGCOLOR="{colour}" WIDTH="18" HEIGHT="12" FIXEDSIZE="TRUE" BORDER="1">'
                " </TD>"
                f'<TD ALIGN="LEFT">{html.escape(KIND_NAMES.get(kind, kind))}</TD></TR>'
            )
        glyphs = {"solid": "----", "dashed": "- - -", "dotted": "....."}
        seen: set[str] = set()
        for shortcut in self.edges:
            style = SHORTCUT_STYLES[shortcut]
            names = [SHORTCUT_NAMES[s] for s in self.edges if SHORTCUT_STYLES[s] == style]
            if style in seen:
                continue
            seen.add(style)
            rows.append(
                f'<TR><TD>{glyphs[style]}</TD><TD ALIGN="LEFT">'
                f"{html.escape(' / '.join(names))} shortcut</TD></TR>"
            )
        for key, text in extra:
            # one cell: browsers measure text wider than dot's estimate of a narrow column
            text = f"{html.escape(key)}: {html.escape(text)}"
            rows.append(f'<TR><TD COLSPAN="2" ALIGN="LEFT">{text}</TD></TR>')
        table = "".join(rows)
        graph.node(
            "legend",
            label=f'<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="2">{table}</TABLE>>',
            shape="plain",
            style="",
            fontsize="9",
        )
