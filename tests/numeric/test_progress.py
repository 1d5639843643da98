"""The progress bar appears only after its delay, only when enabled, and goes to stderr."""

from __future__ import annotations

from convexcheck.numeric.progress import DelayedProgress


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
