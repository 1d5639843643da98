"""The progress bar appears only after its delay, only when enabled, and goes to stderr."""

from __future__ import annotations

from convexcheck.cli.progress import DelayedProgress
from convexcheck.numeric.progress import NoProgress, ProgressSink, progress_sink


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
    import convexcheck.cli.model_api as model_api

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
