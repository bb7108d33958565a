"""AppTest of the Explore page: a space, a run in the background, the views, Compare hand-off."""

from __future__ import annotations

from apptest_helpers import assert_no_exception, run_page

PAGE = "pages/6_Explore.py"


def test_explore_page_runs_and_sends_to_compare():
    at = run_page(PAGE)
    assert_no_exception(at)
    assert "Define a space" in at.info[0].value
    at.number_input(key="explore_samples").set_value(40).run()
    at.button(key="explore_start").click().run()
    assert_no_exception(at)
    job = at.session_state["explore_job"]
    assert job.wait(60)
    assert job.run.state == "done"
    assert len(job.run.results.records) == 40
    at.run()
    assert_no_exception(at)
    assert any("Done" in s.value for s in at.success)
    reasons = next(e for e in at.expander if e.label == "Why draws were rejected").markdown[0]
    assert " draws, e.g. " in reasons.value and "e+0" not in reasons.value, reasons.value
    assert at.dataframe  # the top-k table
    at.button(key=f"v{id(job)}_compare").click().run()
    assert_no_exception(at)
    pairs = at.session_state["compare_designs"]
    assert len(pairs) == 2 and pairs[0][0].startswith("explore #")


def test_bad_space_json_shows_error():
    at = run_page(PAGE)
    at.text_area(key="explore_space_text").set_value(
        '{"knobs": {"stem": {"choices": ["x"]}}}'
    ).run()
    assert_no_exception(at)
    assert "knobs.stem" in at.error[0].value
    assert at.button(key="explore_start").disabled


def test_the_probe_evaluation_takes_seeds_per_sample():
    from resnet_explorer.probes import experiments

    at = run_page(PAGE)
    assert at.number_input(key="explore_probe_seeds").value == experiments.default_seeds()
    at.number_input(key="explore_samples").set_value(1)
    at.number_input(key="explore_probe_steps").set_value(1)
    at.number_input(key="explore_probe_seeds").set_value(2).run()
    at.button(key="explore_start").click().run()
    assert_no_exception(at)
    job = at.session_state["explore_job"]
    assert job.options.probe["seeds"] == 2 and job.options.probe_config().seeds == 2
    job.cancel()
    assert job.wait(120)
