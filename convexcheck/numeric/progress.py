"""Where ``ProgressSink`` used to live (docs before 2026-12 pointed here): kept so that code
importing it from here keeps working. The protocol is :mod:`convexcheck.progress` now, shared by
the closed-form and the model checks."""

from __future__ import annotations

from convexcheck.progress import NoProgress, ProgressSink, progress_sink

__all__ = ["NoProgress", "ProgressSink", "progress_sink"]
