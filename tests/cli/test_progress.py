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
