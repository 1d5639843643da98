"""How a long check reports its progress without drawing anything itself.

The cores never print (``shared/ARCHITECTURE.md``). A caller that wants to show progress passes
either a :class:`ProgressSink` (the command line passes its terminal bar, the
``DelayedProgress`` of ``cli/progress.py``) or a plain callback that receives
:class:`ProgressEvent` records (a notebook widget, a log line, a test). The check only calls
``phase`` when it starts a stage and ``update`` as the stage's work is done; without either
nothing is reported and nothing is paid.

What a fraction counts is deterministic work, never seconds: pairs of points for the model's
Jensen search, questions settled for a closed-form prover stage. A stage with no countable steps
inside (one SDP solve) reports its start and its end.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, runtime_checkable


@dataclass(frozen=True)
class ProgressEvent:
    """One report to a progress callback.

    ``stage`` names the stage now running ("Jensen search", "Hessian proof", ...);
    ``fraction`` is how much of that stage is done (0 to 1), or ``None`` when the event only
    announces the stage; ``text`` says briefly what was just done."""

    stage: str
    fraction: float | None
    text: str = ""


ProgressCallback = Callable[[ProgressEvent], None]

#: What a closed-form check calls each of its stages when it reports them.
STAGE_TITLES: dict[str, str] = {
    "dcp": "DCP analysis",
    "witness": "Witness search",
    "hessian": "Hessian proof",
    "sos": "SOS certificate",
    "scalarised": "Scalarised check",
}


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


class CallbackProgress:
    """The sink that turns ``phase``/``update`` calls into :class:`ProgressEvent` records for a
    plain callback (what ``progress=callable`` means)."""

    def __init__(self, callback: ProgressCallback) -> None:
        self.callback = callback
        self.stage = ""

    def phase(self, description: str) -> None:
        self.stage = description
        self.callback(ProgressEvent(description, None))

    def update(self, fraction: float, text: str = "") -> None:
        self.callback(ProgressEvent(self.stage, max(0.0, min(1.0, float(fraction))), text))


def progress_sink(progress: object) -> ProgressSink:
    """The sink for ``progress=...``: a :class:`ProgressSink` is used as is, a callable gets
    :class:`ProgressEvent` records; anything else (``False``, ``None``, or ``True``, which asks
    for a display that only a caller such as the command line can draw) reports nothing."""
    if isinstance(progress, bool) or progress is None:
        return NoProgress()
    if isinstance(progress, ProgressSink):
        return progress
    if callable(progress):
        return CallbackProgress(progress)
    from convexcheck.errors import ConvexcheckInputError

    raise ConvexcheckInputError(
        "progress must be True, False, a callable taking a ProgressEvent, or an object with "
        f"phase() and update() methods; got {type(progress).__name__}"
    )
