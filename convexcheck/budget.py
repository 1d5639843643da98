"""Wall-clock budgets: a deadline that every stage reads, and a timer that enforces it.

A check must end within its budget whatever the input does: most of the time is spent in
loops we own (which ask :meth:`Budget.spent` between steps), but SymPy and mpmath can run for
minutes inside one call. :func:`time_limit` interrupts such a call with a ``SIGALRM`` timer
(main thread only; elsewhere the cooperative checks are all there is). The exception it raises
is a :class:`BaseException`, so that no ``except Exception`` inside a library swallows it and
carries on unbounded.

A budget only ever turns an answer into ``unknown``: the code that catches
:class:`BudgetSpent` discards the interrupted computation, never a partial proof of it.

Layer 0: standard library only (the certificate checker uses it too).
"""

from __future__ import annotations

import contextlib
import math
import signal
import threading
import time
from collections.abc import Iterator
from typing import Any


class BudgetSpent(BaseException):
    """The wall-clock budget of a check (or of the certificate checker) ran out."""


class Budget:
    """``seconds`` of wall-clock time from now (``time.monotonic``)."""

    __slots__ = ("seconds", "start")

    def __init__(self, seconds: float) -> None:
        self.seconds = float(seconds)
        self.start = time.monotonic()

    @property
    def deadline(self) -> float:
        return self.start + self.seconds

    def elapsed(self) -> float:
        return time.monotonic() - self.start

    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    def spent(self) -> bool:
        return self.remaining() <= 0

    def raise_if_spent(self) -> None:
        if self.spent():
            raise BudgetSpent

    def perf_deadline(self, cap: float | None = None) -> float:
        """The deadline as a ``time.perf_counter`` value, at most ``cap`` seconds from now (the
        provers compare against ``perf_counter``)."""
        left = self.remaining() if cap is None else min(cap, self.remaining())
        return time.perf_counter() + left


def timers_available() -> bool:
    return threading.current_thread() is threading.main_thread() and hasattr(signal, "setitimer")


@contextlib.contextmanager
def time_limit(seconds: float, raising: type[BaseException] = BudgetSpent) -> Iterator[bool]:
    """Interrupt the block after ``seconds`` by raising ``raising`` (yields ``True``), or
    yield ``False`` where that is impossible (not the main thread, no ``setitimer``).

    Nesting works: an inner limit never outlives the outer one (it is shortened to the time the
    outer timer had left), and on exit the outer timer is restored with its remaining time, at
    least 1 ms, so an outer deadline that passed meanwhile fires right after. A timer set by
    someone else (pytest-timeout, the user's own) is restored the same way.
    """
    if not timers_available():
        yield False
        return
    if math.isinf(seconds):  # no limit to enforce
        yield True
        return

    def interrupt(signum: int, frame: Any) -> None:
        raise raising()

    seconds = max(seconds, 1e-3)
    previous_delay, previous_interval = signal.getitimer(signal.ITIMER_REAL)
    if previous_delay:
        seconds = min(seconds, previous_delay)
    previous_handler = signal.signal(signal.SIGALRM, interrupt)
    start = time.monotonic()
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield True
    finally:
        for _ in range(3):  # an alarm that was already pending may still raise once in here
            try:
                signal.setitimer(signal.ITIMER_REAL, 0)
                # None: the old handler was not installed from Python; SIG_DFL is the best
                signal.signal(signal.SIGALRM, previous_handler or signal.SIG_DFL)
                if previous_delay:
                    remaining = max(previous_delay - (time.monotonic() - start), 1e-3)
                    signal.setitimer(signal.ITIMER_REAL, remaining, previous_interval)
                break
            except raising:  # the late alarm of a block that has ended anyway
                continue
