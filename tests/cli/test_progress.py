"""The progress bar appears only after its delay, only when enabled, and goes to stderr."""

from __future__ import annotations

import pytest

from convexcheck.cli.progress import DelayedProgress
from convexcheck.progress import NoProgress, ProgressSink, progress_sink


def test_bar_shows_after_the_delay_when_enabled(capsys) -> None:
    with DelayedProgress("search", delay_s=0.0) as bar:
        bar.update(0.5, "10 pairs")
        bar.phase("hessian")
        assert bar.shown
    assert capsys.readouterr().out == ""  # never on stdout


def test_bar_stays_silent_when_disabled_or_fast() -> None:
    with DelayedProgress("search", enabled=False, delay_s=0.0) as bar:
        bar.update(0.5)
        assert not bar.shown
    with DelayedProgress("search", delay_s=60.0) as bar:
        bar.update(0.9)
        assert not bar.shown


def test_the_check_reports_to_a_sink_and_never_draws() -> None:
    """The numeric core takes the caller's sink; ``True``/``False`` give one that is silent."""
    bar = DelayedProgress("search", delay_s=60.0)
    assert isinstance(bar, ProgressSink)
    assert progress_sink(bar) is bar
    for flag in (True, False, None):
        assert isinstance(progress_sink(flag), NoProgress)


def test_the_first_phase_restarts_the_delay(monkeypatch) -> None:
    """Time spent before the check's first stage (loading, the structural proof) does not
    count towards the delay: the bar measures the stage it names."""
    import convexcheck.cli.progress as progress_module

    now = [0.0]
    monkeypatch.setattr(progress_module.time, "perf_counter", lambda: now[0])
    with DelayedProgress("search", delay_s=1.0) as bar:
        now[0] = 5.0
        bar.phase("Jensen search")
        bar.update(0.1)
        assert not bar.shown
        now[0] = 6.5
        bar.update(0.2)
        assert bar.shown


def test_public_check_model_draws_the_bar_for_progress_true(monkeypatch):
    """``cc.check_model(progress=True)`` hands the check a terminal bar; the numeric core only
    reports to the sink it is given."""
    import torch

    import convexcheck as cc
    import convexcheck.cli.api as model_api

    seen = []

    class Recording(model_api.DelayedProgress):
        def phase(self, description):
            seen.append(description)
            return super().phase(description)

    monkeypatch.setattr(model_api, "DelayedProgress", Recording)
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(2, 4), torch.nn.Tanh(), torch.nn.Linear(4, 1))
    data = (torch.randn(8, 2), torch.randn(8, 1))
    result = cc.check_model(model, torch.nn.functional.mse_loss, data, progress=True)
    assert result.convex.answer == "no"
    assert seen, "progress=True reached the check without a sink"
    seen.clear()
    cc.check_model(model, torch.nn.functional.mse_loss, data, progress=False)
    assert not seen


# ---------------------------------------------------------------------------------------------
# Closed forms: cc.check(progress=...) and the bar of `convexcheck expr`
# ---------------------------------------------------------------------------------------------


def test_a_closed_form_check_reports_its_stages_and_question_fractions_to_a_callback() -> None:
    import convexcheck as cc
    from convexcheck.progress import ProgressEvent

    events: list[ProgressEvent] = []
    result = cc.check("x**4 + x**2*y**2 + y**4 - x*y", progress=events.append)
    stages = [e.stage for e in events if e.fraction is None]
    ran = ["Reading the expression"] + [
        {"dcp": "DCP analysis", "witness": "Witness search", "hessian": "Hessian proof",
         "sos": "SOS certificate"}[s["stage"]]
        for s in result.stages
    ]  # fmt: skip
    assert stages == ran  # every stage that ran was announced, in order
    for stage in stages[1:]:
        fractions = [e.fraction for e in events if e.stage == stage and e.fraction is not None]
        if stage != "DCP analysis":
            assert fractions == sorted(fractions) and fractions[-1] == 1.0, (stage, fractions)
        assert all(0.0 <= f <= 1.0 for f in fractions)
    # the reports count work, not time: the same check reports the same events
    again: list[ProgressEvent] = []
    cc.check("x**4 + x**2*y**2 + y**4 - x*y", progress=again.append)
    assert again == events


def test_a_cvxpy_check_reports_its_tensor_stages() -> None:
    import cvxpy as cp

    import convexcheck as cc

    stages: list[str] = []
    x = cp.Variable(3)
    cc.check(cp.sum_squares(x) - cp.norm1(x), progress=lambda e: stages.append(e.stage))
    assert stages[0] == "Reading the expression"
    assert "DCP analysis" in stages and "Witness search" in stages


def test_public_check_draws_the_bar_for_progress_true_and_rejects_odd_values(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import convexcheck as cc
    import convexcheck.cli.api as api
    from convexcheck.errors import ConvexcheckInputError

    phases: list[str] = []

    class Recording(api.DelayedProgress):
        def phase(self, description: str) -> None:
            phases.append(description)
            super().phase(description)

    monkeypatch.setattr(api, "DelayedProgress", Recording)
    assert cc.check("exp(x)", progress=True).convex.answer == "yes"
    assert phases[:2] == ["Reading the expression", "DCP analysis"]
    phases.clear()
    cc.check("exp(x)", progress=False)
    assert phases == []
    with pytest.raises(ConvexcheckInputError, match="progress must be"):
        cc.check("exp(x)", progress="yes please")  # type: ignore[arg-type]


def test_the_bar_appears_on_time_for_a_stage_that_sends_no_updates() -> None:
    """One SDP solve or one simplification reports nothing until it ends; the timer thread
    still shows the bar once the delay has passed."""
    import time

    with DelayedProgress("SOS certificate", delay_s=0.01) as bar:
        bar.phase("SOS certificate")
        for _ in range(1000):  # wait for the timer thread, however loaded the machine is
            if bar.shown:
                break
            time.sleep(0.01)
        assert bar.shown
    with DelayedProgress("quick", delay_s=60.0) as bar:
        bar.phase("quick")
    assert not bar.shown


def test_expr_shows_the_bar_only_on_a_terminal_and_never_with_json(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import sys

    import convexcheck.cli.progress as progress_module
    from convexcheck.cli import main

    made: list[DelayedProgress] = []

    class Recording(progress_module.DelayedProgress):
        def __init__(self, *args: object, **kwargs: object) -> None:
            kwargs["delay_s"] = 0.0
            super().__init__(*args, **kwargs)  # type: ignore[arg-type]
            made.append(self)

    monkeypatch.setattr(progress_module, "DelayedProgress", Recording)
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    assert main(["expr", "x**4 - x**2"]) == 0
    assert made and made[-1].enabled and made[-1].shown
    assert main(["expr", "x**4 - x**2", "--json"]) == 0
    assert not made[-1].enabled and not made[-1].shown
    monkeypatch.setattr(sys.stderr, "isatty", lambda: False)
    assert main(["expr", "x**4 - x**2"]) == 0
    assert not made[-1].enabled and not made[-1].shown
    capsys.readouterr()
