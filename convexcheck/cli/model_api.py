"""``convexcheck.check_model`` as users call it: the numeric check, plus the progress bar
that ``progress=True`` asks for.

The numeric core never draws (``shared/ARCHITECTURE.md``): it reports to a
:class:`~convexcheck.numeric.progress.ProgressSink`. Drawing a bar on a terminal is this layer's
job, so the public name resolves here and turns ``progress=True`` into the same delayed stderr
bar that ``convexcheck model`` shows; a sink passed by the caller, or ``False``, goes through
unchanged. The module is imported only when ``convexcheck.check_model`` is first used; without
torch the name still resolves, and calling it raises the one-line
:class:`~convexcheck.errors.MissingDependencyError`.
"""

from __future__ import annotations

import functools
from typing import Any

from convexcheck.cli.progress import DelayedProgress
from convexcheck.errors import missing_dependency
from convexcheck.numeric.model_result import ModelCheckResult

__all__ = ["check_model"]

try:
    from convexcheck.numeric.check import check_model as _check_model
except ModuleNotFoundError as exc:  # the base install has no torch: say so when called
    _missing = missing_dependency(exc, "convexcheck.check_model")
    if _missing is None:
        raise

    def check_model(*args: Any, **kwargs: Any) -> ModelCheckResult:
        """Check a torch model's loss for convexity (needs torch: ``convexcheck[torch]``)."""
        raise _missing

else:

    @functools.wraps(_check_model)
    def check_model(*args: Any, progress: Any = False, **kwargs: Any) -> ModelCheckResult:
        if progress is True:
            with DelayedProgress("Checking the model") as bar:
                return _check_model(*args, progress=bar, **kwargs)
        return _check_model(*args, progress=progress, **kwargs)
