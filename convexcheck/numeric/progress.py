"""How a long model check reports its progress without drawing anything itself.

The numeric core never prints (``shared/ARCHITECTURE.md``): a caller that wants a progress bar
passes a :class:`ProgressSink` (``convexcheck model`` passes its terminal bar, the
``DelayedProgress`` of ``cli/progress.py``); the check only calls ``phase`` when it starts a
stage and ``update`` as work is done. Without a sink nothing is reported.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable


@runtime_checkable
class ProgressSink(Protocol):
    """Receives a check's progress: the stage now running and the fraction of it done."""

    def phase(self, description: str) -> None:
        """A new stage starts (the first call marks the start of the reported work)."""

    def update(self, fraction: float, text: str = "") -> None:
        """``fraction`` (0 to 1) of the current stage is done; ``text`` says what, briefly."""


class NoProgress:
    """The sink that reports nothing (what ``progress=False`` means)."""

    def phase(self, description: str) -> None:
        return None

    def update(self, fraction: float, text: str = "") -> None:
        return None


def progress_sink(progress: object) -> ProgressSink:
    """The sink for ``check_model(progress=...)``: a :class:`ProgressSink` is used as is;
    anything else (``False``, ``None``, or ``True``, which asks for a display that only a
    caller such as the command line can draw) reports nothing."""
    if isinstance(progress, ProgressSink) and not isinstance(progress, bool):
        return progress
    return NoProgress()
