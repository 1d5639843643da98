"""A transient progress bar on stderr that only appears once a check has taken over a second.

Most checks finish well under a second, and a bar that flashes for 100 ms is noise; a search or
a proof that runs for seconds deserves one. The bar writes to stderr (stdout stays clean for
``--json`` and pipes) and disappears when done. It is a
:class:`convexcheck.progress.ProgressSink`: ``convexcheck expr`` and ``convexcheck model`` (and
``progress=True`` in the API) hand it to the check, which reports to it and never draws
anything itself.

A stage with nothing to count inside it (one symbolic simplification, one SDP solve) sends no
updates, so the delay is also watched by a timer thread: the bar appears on time and shows the
running stage with a pulsing bar and the elapsed seconds until a fraction arrives.
"""

from __future__ import annotations

import threading
import time
from types import TracebackType
from typing import Any

DELAY_S = 1.0


class DelayedProgress:
    """Context manager receiving ``phase``/``update`` calls; silent if ``enabled`` is false or
    the work ends within ``delay_s``. The delay counts from entering the context, or from the
    first :meth:`phase` call when the check reports one (the work before it, such as building
    the objective, is not what the bar shows)."""

    def __init__(self, description: str, *, enabled: bool = True, delay_s: float = DELAY_S):
        self.description = description
        self.enabled = enabled
        self.delay_s = delay_s
        self._start = 0.0
        self._progress: Any = None
        self._task: Any = None
        self._phased = False
        self._closed = False
        self._timer: threading.Timer | None = None
        self._lock = threading.RLock()
        self.shown = False

    def __enter__(self) -> DelayedProgress:
        self._start = time.perf_counter()
        self._arm()
        return self

    def _arm(self) -> None:
        """(Re)start the timer that shows the bar when the delay has passed without updates."""
        if not self.enabled:
            return
        if self._timer is not None:
            self._timer.cancel()
        self._timer = threading.Timer(self.delay_s, self._reveal)
        self._timer.daemon = True
        self._timer.start()

    def _reveal(self) -> None:
        with self._lock:
            if not self._closed and self._progress is None:
                self._show()

    def phase(self, description: str) -> None:
        """Rename the running phase (the bar, if shown, keeps its place and pulses until the
        new phase reports a fraction)."""
        with self._lock:
            self.description = description
            if not self._phased:
                self._phased = True
                if self._progress is None:
                    self._start = time.perf_counter()
                    self._arm()
            if self._progress is not None:
                self._progress.update(self._task, description=description, total=None, status="")

    def update(self, fraction: float, text: str = "") -> None:
        if not self.enabled:
            return
        with self._lock:
            if self._progress is None:
                if time.perf_counter() - self._start < self.delay_s:
                    return
                self._show()
            completed = max(0.0, min(1.0, fraction)) * 100
            self._progress.update(self._task, total=100, completed=completed, status=text)

    def _show(self) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.fields[status]}"),
            TimeElapsedColumn(),
            console=Console(stderr=True),
            transient=True,
        )
        self._progress.start()
        self._task = self._progress.add_task(self.description, total=None, status="")
        self.shown = True

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        with self._lock:
            self._closed = True
            if self._timer is not None:
                self._timer.cancel()
            if self._progress is not None:
                self._progress.stop()
                self._progress = None
