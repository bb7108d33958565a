"""Server time of the costliest design the app accepts (issue 16: denial of service by a link).

Run: .venv/bin/python benchmarks/bench_worst_design.py
A share link may carry any valid design; the largest accepted is bounded by `MAX_BLOCKS` (1,000
blocks) and the size caps. This times, for that worst case (12 stages of 83-84 basic blocks of
width 8, ImageNet input) and for ResNet-1202 (the largest preset, 600 blocks) against ResNet-50
as the reference measured in the same run, what each page computes for a design it opens:
validation from the link, the exact counts, the layer table, a shapes-only (meta) build, the
fx trace the diagrams read, the collapsed network diagram, the saved-activation memory
(batch 32) and the torchinfo summary (the Profile page draws it only on request); then the
server time of every page opened on a link to each design. Each figure is one cold call (caches
cleared): a new link defeats every cache. Target: every page a few seconds at most.
"""

from __future__ import annotations

import logging
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

from resnet_explorer import Design, presets  # noqa: E402
from resnet_explorer.analysis import memory, summary  # noqa: E402
from resnet_explorer.builder import build_model  # noqa: E402
from resnet_explorer.design import MAX_BLOCKS  # noqa: E402
from resnet_explorer.diagrams import network_diagram  # noqa: E402
from resnet_explorer.diagrams.trace import clear_traces, trace_network  # noqa: E402
from resnet_explorer.plan.counts import clear_caches, layer_counts, totals  # noqa: E402


def worst_accepted() -> Design:
    """12 stages sharing `MAX_BLOCKS` basic blocks of width 8: the most blocks a link may ask."""
    per_stage = [MAX_BLOCKS // 12 + (1 if i < MAX_BLOCKS % 12 else 0) for i in range(12)]
    stages = [{"blocks": n, "width": 8, "stride": 1} for n in per_stage]
    return Design.from_dict({"block": "basic", "stages": stages})


def _clear() -> None:
    clear_caches()
    clear_traces()


def _time(call) -> float:
    _clear()
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def figures(design: Design) -> dict[str, float]:
    token = design.to_url()
    return {
        "from link": _time(lambda: Design.from_url(token)),
        "counts": _time(lambda: totals(design)),
        "layer table": _time(lambda: layer_counts(design)),
        "meta build": _time(lambda: build_model(design, device="meta")),
        "trace": _time(lambda: trace_network(design)),
        "diagram": _time(lambda: network_diagram(design).source),
        "memory b32": _time(lambda: memory(design, 32)),
        "summary": _time(lambda: summary(design)),
    }


def page_times(design: Design) -> dict[str, float]:
    """Server time of each page opened on a share link to ``design``, every cache cleared first
    (Streamlit's AppTest runs the page script as the server does)."""
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    times = {}
    for page in ["app.py", *sorted(p.name for p in (ROOT / "pages").glob("*.py"))]:
        _clear()
        st.cache_data.clear()
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=600)
        at.query_params["d"] = design.to_url()
        if page != "app.py":
            at.switch_page(f"pages/{page}")
        start = time.perf_counter()
        at.run()
        times[page.split("_", 1)[-1].removesuffix(".py")] = time.perf_counter() - start
        if at.exception:
            raise SystemExit(f"{page} raised: {at.exception[0].value}")
    return times


def main() -> None:
    warnings.filterwarnings("ignore")
    logging.disable(logging.CRITICAL)  # AppTest's bare-mode notices
    torch.set_num_threads(1)
    cases = {
        "resnet50 (reference)": presets.get("resnet50"),
        "resnet1202 (600 blocks)": presets.get("resnet1202"),
        f"worst accepted ({MAX_BLOCKS} blocks)": worst_accepted(),
    }
    figures(presets.get("resnet18"))  # imports and one-time set-up out of the figures
    rows = {name: figures(design) for name, design in cases.items()}
    reference = rows["resnet50 (reference)"]
    print(f"{'seconds, one cold call':30}" + "".join(f"{k:>12}" for k in reference))
    for name, row in rows.items():
        print(f"{name:30}" + "".join(f"{v:12.2f}" for v in row.values()))
    worst = rows[f"worst accepted ({MAX_BLOCKS} blocks)"]
    ratios = "  ".join(f"{k} {worst[k] / max(reference[k], 1e-6):.0f}x" for k in reference)
    print(f"worst / resnet50: {ratios}")
    print(f"slowest figure of the worst accepted design: {max(worst.values()):.2f} s")
    print("page server time on a share link (AppTest, s):")
    page_times(presets.get("resnet18"))  # the app's imports, warm
    for name, design in cases.items():
        times = page_times(design)
        print(f"  {name:30}" + "  ".join(f"{k} {v:.2f}" for k, v in times.items()))


if __name__ == "__main__":
    main()
