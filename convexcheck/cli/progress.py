"""A transient progress bar on stderr that only appears once a phase has taken over a second.

Most checks finish well under a second, and a bar that flashes for 100 ms is noise; a search that
runs for its whole budget deserves one. The bar writes to stderr (stdout stays clean for
``--json`` and pipes) and disappears when done. It is a
:class:`convexcheck.numeric.progress.ProgressSink`: ``convexcheck model`` hands it to
``check_model``, which reports to it and never draws anything itself.
"""

from __future__ import annotations

import time
from types import TracebackType
from typing import Any

DELAY_S = 1.0


class DelayedProgress:
    """Context manager giving ``update(fraction, text)`` callbacks; silent if ``enabled`` is
    false or the work ends within ``delay_s``. The delay counts from entering the context, or
    from the first :meth:`phase` call when the check reports one (the work before it, such as
    building the objective, is not what the bar shows)."""

    def __init__(self, description: str, *, enabled: bool = True, delay_s: float = DELAY_S):
        self.description = description
        self.enabled = enabled
        self.delay_s = delay_s
        self._start = 0.0
        self._progress: Any = None
        self._task: Any = None
        self._phased = False
        self.shown = False

    def __enter__(self) -> DelayedProgress:
        self._start = time.perf_counter()
        return self

    def phase(self, description: str) -> None:
        """Rename the running phase (the bar, if shown, keeps its place)."""
        self.description = description
        if not self._phased:
            self._phased = True
            if self._progress is None:
                self._start = time.perf_counter()
        if self._progress is not None:
            self._progress.update(self._task, description=description)

    def update(self, fraction: float, text: str = "") -> None:
        if not self.enabled:
            return
        if self._progress is None:
            if time.perf_counter() - self._start < self.delay_s:
                return
            self._show()
        self._progress.update(self._task, completed=max(0.0, min(1.0, fraction)) * 100, status=text)

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
        self._task = self._progress.add_task(self.description, total=100, status="")
        self.shown = True

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None
