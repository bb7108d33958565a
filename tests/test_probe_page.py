"""AppTest: the Probe page's wiring (designs, experiments, start, live status, run history,
gradient flow, lesion and landscape jobs)."""

from __future__ import annotations

import pytest
from apptest_helpers import assert_no_exception, button, run_page

from resnet_explorer.probes import experiments
from resnet_explorer.probes.jobs import get_manager
from resnet_explorer.store import Store

PAGE = "pages/5_Probe.py"


@pytest.fixture
def db(app_db):
    return app_db


def _frame(at, column: str):
    """The first dataframe with ``column`` (AppTest does not expose dataframe keys)."""
    return next(d.value for d in at.dataframe if column in d.value.columns)


def _markdown(at) -> str:
    return "\n".join(m.value for m in at.markdown)


def test_page_renders_with_defaults_and_experiments(db):
    at = run_page(PAGE)
    assert_no_exception(at)
    assert at.title[0].value == "Train and understand"
    assert at.multiselect(key="probe_designs").value == ["plain20", "resnet20"]
    assert not button(at, "probe_start").disabled
    for name in experiments.names():
        at.selectbox(key="probe_experiment").set_value(name).run()
        assert experiments.get(name).look_for in _markdown(at)
    # gradient flow at init: plain, residual and pre-activation, first block norms quoted
    caption = " ".join(c.value for c in at.caption)
    assert "plain56" in caption and "resnet56" in caption and "preact56" in caption
    assert any("Start a probe on the Train tab" in i.value for i in at.info)


def test_start_a_probe_see_it_finish_and_saved(db):
    at = run_page(PAGE)
    at.selectbox(key="probe_dataset").set_value("synthetic")
    at.number_input(key="probe_steps").set_value(4)
    at.number_input(key="probe_batch").set_value(16)
    at.number_input(key="probe_eval_every").set_value(2)
    at.multiselect(key="probe_designs").set_value(["resnet20"])
    at.number_input(key="probe_threads").set_value(1)
    at.number_input(key="probe_seeds").set_value(1)  # one run (the page's default is 3 seeds)
    at = button(at.run(), "probe_start").click().run()
    assert_no_exception(at)
    job_id = at.session_state["probe_job"]
    status = get_manager().wait(job_id, timeout=120)
    assert status["state"] == "done"
    at.run()
    assert_no_exception(at)
    assert any("Done in" in s.value for s in at.success)
    assert _frame(at, "held-out acc")["steps"].tolist() == [4]
    (run,) = Store(db).runs()
    assert run.status == "completed" and run.steps == 4 and run.config["label"] == "resnet20"
    assert any(run.run_id in c.value for c in at.caption)
    history = _frame(at, "of seeds")  # the run history: seed, of how many, budget, data order
    assert history["of seeds"].tolist() == [1]
    assert history["budget"].tolist() == ["4 steps, batch 16, 16 px"]
    assert any(c.value.startswith("Data order: batches drawn") for c in at.caption)
    # the per-block gradient norms recorded at steps 2 and 4 feed the heatmap
    assert not any("Start a probe on the Train tab" in i.value for i in at.info)


def test_a_second_session_waits_in_line(db):
    manager = get_manager()
    from resnet_explorer import presets
    from resnet_explorer.probes import ProbeConfig

    blocker = manager.submit(
        [presets.get("resnet20")],
        ProbeConfig(steps=10_000, dataset="synthetic", batch_size=8, image_size=8, threads=1),
    )
    try:
        at = run_page(PAGE)
        at.selectbox(key="probe_dataset").set_value("synthetic")
        at.number_input(key="probe_steps").set_value(2)
        at = button(at.run(), "probe_start").click().run()
        assert any("Queued: number 1 in line" in i.value for i in at.info)
        job = at.session_state["probe_job"]
        at = button(at, "probe_stop").click().run()
        assert manager.status(job)["state"] == "cancelled"
    finally:
        manager.cancel(blocker)
        manager.wait(blocker, timeout=60)


def _finished_study(inputs: dict[str, int], start: str, job: str):
    """The page after setting its number ``inputs``, pressing ``start`` and waiting for the
    study's job (session key ``job``) to finish."""
    at = run_page(PAGE)
    for key, value in inputs.items():
        at.number_input(key=key).set_value(value)
    at = button(at.run(), start).click().run()
    assert get_manager().wait(at.session_state[job], timeout=120)["state"] == "done"
    at.run()
    assert_no_exception(at)
    return at


def test_lesion_study_from_the_page(db):
    at = _finished_study(
        {"probe_lesion_steps": 3, "probe_lesion_images": 40},
        "probe_lesion_start",
        "probe_lesion_job",
    )
    text = _markdown(at)
    assert "**plain20**: intact" in text and "2 shape-changing blocks cannot be removed" in text
    assert "**resnet20**: intact" in text


def test_landscape_from_the_page(db):
    inputs = {"probe_ls_steps": 3, "probe_ls_line": 3, "probe_ls_plane": 2, "probe_ls_images": 16}
    at = _finished_study(inputs, "probe_ls_start", "probe_landscape_job")
    table = _frame(at, "points per pass")
    assert table["design"].tolist() == ["plain20", "resnet20"]
    assert table["points per pass"].tolist() == [1, 1]


def test_a_probe_link_carries_picks_and_settings(db):
    from resnet_explorer.probes import link

    token = link.encode(
        {
            "probe_designs": ["resnet32", "plain20"],
            "probe_steps": 321,
            "probe_lr": 0.02,
            "probe_dataset": "synthetic",
            "probe_experiment": "zero_init",
        }
    )
    at = run_page(PAGE, query={"probe": token})
    assert_no_exception(at)
    assert at.multiselect(key="probe_designs").value == ["resnet32", "plain20"]
    assert at.number_input(key="probe_steps").value == 321
    assert at.number_input(key="probe_lr").value == pytest.approx(0.02)
    assert at.selectbox(key="probe_dataset").value == "synthetic"
    assert at.selectbox(key="probe_experiment").value == "zero_init"
    # the page writes its own settings back into the address bar: the same link
    again = link.decode(at.query_params["probe"])
    assert again["probe_steps"] == 321 and again["probe_designs"] == ["resnet32", "plain20"]
    at.number_input(key="probe_steps").set_value(50).run()
    assert link.decode(at.query_params["probe"])["probe_steps"] == 50


def test_a_damaged_probe_link_says_so_and_keeps_the_defaults(db):
    from resnet_explorer.probes import link

    at = run_page(PAGE, query={"probe": "p1.garbage!!"})
    assert_no_exception(at)
    assert any("damaged or incomplete" in w.value for w in at.warning)
    assert at.number_input(key="probe_steps").value == 200
    bad = link.encode({"probe_steps": -3, "probe_designs": ["nope"], "probe_x": 1})
    at = run_page(PAGE, query={"probe": bad})
    text = " ".join(w.value for w in at.warning)
    assert "probe_steps=-3" in text and "nope" in text and "probe_x" in text
    assert at.number_input(key="probe_steps").value == 200


def test_every_session_lists_every_job_with_its_owner_and_can_stop_it(db):
    from resnet_explorer import presets
    from resnet_explorer.probes import ProbeConfig

    manager = get_manager()
    other = manager.submit(
        [presets.get("resnet20")],
        ProbeConfig(steps=10_000, dataset="synthetic", batch_size=8, image_size=8, threads=1),
        owner="Ada",
    )
    try:
        at = run_page(PAGE)
        rows = [m.value for m in at.markdown if "started by **Ada**" in m.value]
        assert rows and "resnet20" in rows[0]
        button(at, f"probe_jobs_stop_{other}").click().run()
        status = manager.wait(other, timeout=60)
        assert status.state == "cancelled"
        assert status.stop_reason.startswith("stopped from another session, by session ")
    finally:
        manager.cancel(other)
        manager.wait(other, timeout=60)


def test_several_seeds_give_intervals_verdicts_and_the_papers_finding(db):
    from resnet_explorer import presets
    from resnet_explorer.probes import ProbeConfig
    from resnet_explorer.ui import probe_results

    at = run_page(PAGE)
    assert at.number_input(key="probe_seeds").value == experiments.default_seeds()
    base = presets.get("resnet20")
    job = get_manager().submit(
        [("zero-init off", base), ("zero-init on", base.replace(zero_init_residual=True))],
        ProbeConfig(steps=3, seeds=2, dataset="synthetic", batch_size=8, image_size=8,
                    threads=1, eval_every=0),
    )  # fmt: skip
    assert get_manager().wait(job, timeout=120).state == "done"
    at.session_state["probe_job"] = job
    at.session_state[probe_results.EXPERIMENT] = "zero_init"
    at.run()
    assert_no_exception(at)
    intervals = _frame(at, "final train loss: mean [interval]")
    assert intervals["design"].tolist() == ["zero-init off", "zero-init on"]
    assert intervals["seeds"].tolist() == [2, 2]
    assert _frame(at, "held-out acc")["seed"].tolist() == [0, 0, 1, 1]
    text = _markdown(at)
    assert "Across 2 seeds" in text and "min–max" in text
    assert "zero-init off vs zero-init on" in text or "ends lower than" in text
    found = [m.value for m in (*at.success, *at.warning, *at.info) if "Zero-init" in m.value]
    assert found and "early training loss" in found[0]


def test_signal_propagation_at_init_on_request_and_after_k_steps(db):
    at = run_page(PAGE)
    assert not any("pre-activation each block" in c.value for c in at.caption)
    charts = len(at.get("plotly_chart"))
    at = button(at, "probe_signal_go").click().run()
    assert_no_exception(at)
    caption = next(c.value for c in at.caption if "pre-activation each block" in c.value)
    assert "BN after the addition" in caption and "Zero-init" in caption
    assert len(at.get("plotly_chart")) == charts + 1  # the ten variants, overlaid
    at.radio(key="probe_signal_net").set_value("the editor's design").run()
    at = button(at, "probe_signal_go").click().run()  # the editor's ResNet-18, at 64 px
    assert_no_exception(at)
    assert any(c.value == "Measured at 64 px (the design's own is 224)." for c in at.caption)
    assert any("BN after the addition" in c.value for c in at.caption)
    assert any("evaluation the probe measures" in i.value for i in at.info)


def test_a_one_click_experiment_runs_its_seeds(db):
    at = run_page(PAGE)
    assert at.number_input(key="probe_experiment_seeds").value == experiments.default_seeds()
    at.selectbox(key="probe_experiment").set_value("depth_ladder")
    at.number_input(key="probe_experiment_seeds").set_value(2).run()
    assert any("2 seeds each" in c.value for c in at.caption)
    at = button(at, "probe_run_experiment").click().run()
    assert_no_exception(at)
    job = at.session_state["probe_job"]
    try:
        status = get_manager().status(job)
        assert status.config["seeds"] == 2 and status.config["steps"] == 400
        labels = [d.label for d in status.designs]
        assert labels[:4] == ["plain20", "plain32", "plain44", "plain56"] and len(labels) % 2 == 0
        assert [d.seed for d in status.designs].count(1) == len(labels) // 2
    finally:
        get_manager().cancel(job)
        get_manager().wait(job, timeout=60)


def test_a_job_stopped_in_its_first_seed_shows_what_it_reached():
    """Stopped at step 46 of its first seed (of 3): the bar is 46/5000 of a third, no seed
    counts as done, and it speaks of that seed, not of one cancelled before its first step."""
    from resnet_explorer.probes.progress import DesignProgress
    from resnet_explorer.ui.probe_results import _fraction, shown_run

    cfg = {"steps": 5000, "seconds": None}
    runs = [
        DesignProgress(label="plain20", hash="h", status="cancelled", seed=0, step=46),
        DesignProgress(label="plain20", hash="h", status="cancelled", seed=1),
        DesignProgress(label="plain20", hash="h", status="cancelled", seed=2),
    ]
    assert shown_run(runs).seed == 0
    assert sum(_fraction(d, cfg) for d in runs) / 3 == pytest.approx(46 / 5000 / 3)
    done = DesignProgress(label="plain20", hash="h", status="done", seed=0, step=5000)
    diverged = DesignProgress(label="plain20", hash="h", status="diverged", seed=1, step=9)
    assert _fraction(done, cfg) == _fraction(diverged, cfg) == 1.0
    running = DesignProgress(label="plain20", hash="h", status="running", seed=1, step=2500)
    assert shown_run([done, running]).seed == 1 and _fraction(running, cfg) == 0.5
