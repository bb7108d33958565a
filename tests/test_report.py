"""The review report (engine and `report` command): a valid, self-contained HTML file."""

from __future__ import annotations

import json
from html.parser import HTMLParser

import pytest

from resnet_explorer import Design, presets
from resnet_explorer.cli import main
from resnet_explorer.diagrams import dot_available
from resnet_explorer.plan.counts import totals
from resnet_explorer.report import Candidate, ReportError, build_report, html
from resnet_explorer.report.evidence import latency_from_profile
from resnet_explorer.store import Store

VOID = {"meta", "br", "hr", "img", "input", "link", "area", "base", "col", "source", "wbr"}


class Parsed(HTMLParser):
    """Collects tags (checking they nest), external references and script texts."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.external: list[str] = []
        self.tags: dict[str, int] = {}
        self.ids: dict[str, str] = {}
        self._script_id: str | None = None
        self.pre: dict[str, str] = {}
        self._pre_id: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags[tag] = self.tags.get(tag, 0) + 1
        for key in ("src", "href"):
            value = (a.get(key) or "").strip().lower()
            if value.startswith(("http:", "https:", "//")) and tag in ("script", "link", "img"):
                self.external.append(f"<{tag} {key}={value}>")
        if tag == "script" and a.get("type") == "application/json":
            self._script_id = a.get("id")
            self.ids[self._script_id] = ""
        if tag == "pre" and a.get("id"):
            self._pre_id = a["id"]
            self.pre[self._pre_id] = ""
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.tags[tag] = self.tags.get(tag, 0) + 1

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
            if tag in self.stack:
                while self.stack and self.stack.pop() != tag:
                    pass
            return
        self.stack.pop()
        if tag == "script":
            self._script_id = None
        if tag == "pre":
            self._pre_id = None

    def handle_data(self, data):
        if self._script_id:
            self.ids[self._script_id] += data
        if self._pre_id:
            self.pre[self._pre_id] += data


def parse(text: str) -> Parsed:
    parser = Parsed()
    parser.feed(text)
    parser.close()
    return parser


@pytest.fixture
def store(tmp_path):
    return Store(tmp_path / "lib.sqlite3")


def _profile(store: Store, design: Design, rows: list[dict]) -> None:
    store.add_profile(
        design,
        device="cpu",
        results={"latency": {"device": "cpu", "device_name": "CPU only", "rows": rows}},
    )


@pytest.fixture(scope="module")
def two_presets_report(tmp_path_factory):
    store = Store(tmp_path_factory.mktemp("lib") / "lib.sqlite3")
    r18 = presets.get("resnet18")
    _profile(store, r18, [{"mode": "inference", "batch_size": 1, "status": "ok", "median_s": 0.02}])
    run_id = store.start_run(r18, {"lr": 0.1})
    store.append_steps(
        run_id,
        [{"step": i, "loss": 2.0 - i / 10, "acc": i / 10, "val_acc": i / 20} for i in range(8)],
    )
    store.finish_run(run_id, "completed")
    candidates = [
        Candidate("resnet18", r18, "preset"),
        Candidate("resnet34", presets.get("resnet34"), "preset"),
    ]
    return build_report(candidates, store=store), candidates


def test_report_is_valid_self_contained_html(two_presets_report):
    text, _ = two_presets_report
    assert text.startswith("<!DOCTYPE html>")
    parsed = parse(text)
    assert parsed.errors == []
    assert parsed.stack == []
    assert parsed.external == []  # no <script src=http...>, <link href=http...>
    assert "<script src" not in text.lower()
    assert "<link" not in text.lower()
    assert parsed.tags["html"] == 1 and parsed.tags["body"] == 1


def test_report_inlines_plotly_and_draws_its_charts(two_presets_report):
    text, _ = two_presets_report
    assert html.plotly_js()[:500] in text  # the whole bundle, inlined
    assert len(text) > len(html.plotly_js())
    for div in ("fig-stages", "fig-cost", "fig-latency", "fig-run-0"):
        assert f'id="{div}"' in text
    assert text.count("Plotly.newPlot(") >= 4


@pytest.mark.skipif(not dot_available(), reason="needs Graphviz dot")
def test_report_has_the_diff_diagram_as_inline_svg(two_presets_report):
    text, _ = two_presets_report
    parsed = parse(text)
    assert parsed.tags.get("svg", 0) >= 1
    assert "<?xml" not in text  # the SVG's XML declaration is dropped
    assert "resnet18 vs resnet34" in text
    assert "stages[1].blocks: 2 -&gt; 4" in text  # the fields that differ


def test_report_design_json_round_trips(two_presets_report):
    text, candidates = two_presets_report
    parsed = parse(text)
    data = json.loads(parsed.ids["report-data"])
    assert data["schema"] == "resnet-explorer/review-report/v1"
    designs = [Design.from_dict(d["design"]) for d in data["designs"]]
    assert designs == [c.design for c in candidates]
    assert [d["hash"] for d in data["designs"]] == [c.design.hash for c in candidates]
    for i, c in enumerate(candidates):
        assert Design.from_json(parsed.pre[f"design-json-{i}"]) == c.design
    assert data["metrics"][0]["params"] == 11_689_512
    assert data["metrics"][1]["params"] == 21_797_672


def test_report_shows_measured_latency_or_says_not_measured(two_presets_report):
    text, _ = two_presets_report
    data = json.loads(parse(text).ids["report-data"])
    assert data["metrics"][0]["latency_ms_per_image"] == pytest.approx(20.0)
    assert data["metrics"][1]["latency"] == "not measured"
    assert "Latency not measured for resnet34" in text
    assert "20.00 ms at batch 1 (CPU only, fp32)" in text


def test_report_without_dot_says_so(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))  # no `dot` on it
    text = build_report([Candidate("resnet20", presets.get("resnet20"))], memory_batch=None)
    assert "Graphviz &#x27;dot&#x27; program is not installed" in text or (
        "Graphviz 'dot' program is not installed" in text
    )
    assert "digraph" not in text and "rankdir" not in text  # never raw DOT
    assert "class='diagram'" not in text
    assert parse(text).errors == []


def test_single_design_report_and_no_library():
    text = build_report([Candidate("resnet20", presets.get("resnet20"))], memory_batch=None)
    assert "<h1>Design review: resnet20</h1>" in text
    assert "No library was consulted" in text
    assert "No probe runs" in text


def test_report_refuses_no_or_too_many_designs():
    with pytest.raises(ReportError, match="at least one"):
        build_report([])
    five = [Candidate(n, presets.get(n)) for n in presets.names()[:5]]
    with pytest.raises(ReportError, match="at most 4"):
        build_report(five)


def test_json_script_cannot_be_closed_from_inside():
    text = html.json_script({"x": "</script><script>alert(1)</script>"}, "d")
    assert text.count("</script>") == 1
    body = text.split(">", 1)[1].rsplit("</script>", 1)[0]
    assert json.loads(body) == {"x": "</script><script>alert(1)</script>"}


def test_latency_picks_the_smallest_ok_inference_batch(store):
    r18 = presets.get("resnet18")
    rows = [
        {"mode": "training", "batch_size": 1, "status": "ok", "median_s": 1.0},
        {"mode": "inference", "batch_size": 1, "status": "over_budget", "median_s": None},
        {"mode": "inference", "batch_size": 32, "status": "ok", "median_s": 0.64},
        {"mode": "inference", "batch_size": 8, "status": "ok", "median_s": 0.16},
    ]
    _profile(store, r18, rows)
    found = latency_from_profile(store.profiles()[0])
    assert found.batch_size == 8 and found.per_image_ms == pytest.approx(20.0)
    store.add_profile(r18, device="cpu", results={"params": 1})
    assert latency_from_profile(store.profiles()[0]) is None


# --- the `report` command -----------------------------------------------------------------


def test_cli_writes_the_report_and_never_overwrites(tmp_path, capsys):
    out = tmp_path / "review.html"
    db = tmp_path / "lib.sqlite3"
    Store(db).save_design("my net", presets.get("resnet20"), tags="cifar")
    code = main(["report", "resnet56", "my net", "--db", str(db), "-o", str(out), "--json"])
    assert code == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["schema"] == "resnet-explorer/report/v1"
    assert [d["name"] for d in doc["designs"]] == ["resnet56", "my net"]
    assert doc["designs"][1]["source"] == "library"
    text = out.read_text()
    assert doc["bytes"] == len(text.encode())
    assert "resnet56 vs my net" in text
    before = out.stat().st_mtime_ns
    assert main(["report", "resnet20", "-o", str(out), "--no-library"]) == 2
    assert "exists; pass --force" in capsys.readouterr().err
    assert out.stat().st_mtime_ns == before
    assert main(["report", "resnet20", "-o", str(out), "--no-library", "--force"]) == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nope"], "neither a preset"),
        (["resnet18", "resnet34", "resnet50", "resnet101", "resnet152"], "at most 4"),
        (["resnet18", "--memory-batch", "-1"], "--memory-batch"),
        (["resnet18", "--json"], "-o FILE"),
    ],
)
def test_cli_bad_input_exits_2(tmp_path, capsys, args, message):
    code = main(
        ["report", *args, "-o", str(tmp_path / "r.html")]
        if "--json" not in args
        else ["report", *args]
    )
    assert code == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "r.html").exists()


def test_cli_refuses_a_foreign_library(tmp_path, capsys):
    foreign = tmp_path / "other.db"
    foreign.write_bytes(b"not a database at all")
    code = main(["report", "resnet20", "--db", str(foreign), "-o", str(tmp_path / "r.html")])
    assert code == 2
    assert "not a ResNet Explorer library" in capsys.readouterr().err
    assert foreign.read_bytes() == b"not a database at all"


def test_a_design_over_the_size_cap_is_reported_without_diagrams_or_memory():
    huge = Design(stages=[{"blocks": 300, "width": 2048}] * 3, block="bottleneck")
    html = build_report(
        [Candidate("huge", huge, "file"), Candidate("r18", presets.get("resnet18"))]
    )
    assert "The diagrams could not be drawn" in html and "the cap is" in html
    assert "not computed" in html


@pytest.mark.parametrize("force", [[], ["--force"]])
def test_cli_refuses_a_folder_as_output(tmp_path, capsys, force):
    folder = tmp_path / "out"
    folder.mkdir()
    code = main(["report", "resnet20", "--no-library", "-o", str(folder), *force])
    assert code == 2
    assert "is a folder" in capsys.readouterr().err
    assert folder.is_dir() and not any(tmp_path.glob(".out.*"))


def test_cli_unwritable_output_exits_2_without_a_traceback(tmp_path, capsys):
    not_a_folder = tmp_path / "file.txt"
    not_a_folder.write_text("")
    code = main(["report", "resnet20", "--no-library", "-o", str(not_a_folder / "r.html")])
    assert code == 2
    assert capsys.readouterr().err.startswith("error: cannot write")


@pytest.mark.skipif(not dot_available(), reason="needs graphviz dot")
def test_report_compares_resnet50_with_regnety_4gf_and_resnext50():
    """A review of the family: each design's exact counts, its stage boxes saying what sets it
    apart (groups x group width, bottleneck ratio, SE), and no design drawn under another's name."""
    names = ["resnet50", "regnety_040", "resnext50_32x4d"]
    text = build_report([Candidate(n, presets.get(n), "preset") for n in names], memory_batch=None)
    parsed = parse(text)
    assert not parsed.errors
    for name in names:
        params, macs = totals(presets.get(name)).params, totals(presets.get(name)).macs
        assert f"{params / 1e6:.2f} M" in text and f"{macs / 1e9:.3f} GMACs" in text, name
        assert presets.info(name).title in text, name
    assert "17 groups x 64 = 1088 ch, bottleneck ratio 1, SE" in text
