"""Errors that convexcheck raises on purpose.

Every error a user can provoke with bad input is a :class:`ConvexcheckInputError`; the CLI turns
it into exit status 2 and a single ``convexcheck: error: ...`` line. Anything else escaping is a
bug, not a user mistake, which is why the two are kept apart.
"""

from __future__ import annotations


class ConvexcheckError(Exception):
    """Base class of every error convexcheck raises deliberately."""


class ConvexcheckInputError(ConvexcheckError, ValueError):
    """The input (expression, domain, model file, option) is malformed or unsupported."""


class ParseError(ConvexcheckInputError):
    """An expression string does not follow the contract's grammar.

    ``position`` is the 0-based character offset where parsing stopped, so a caller can point at
    it; the message already includes it in words.
    """

    def __init__(self, message: str, position: int | None = None) -> None:
        super().__init__(message)
        self.position = position


class DomainError(ConvexcheckInputError):
    """A variable domain is malformed, empty, or refers to an unknown or duplicated variable."""


#: The optional dependencies: the module, what needs it, and the extra that installs it.
OPTIONAL_DEPENDENCIES: dict[str, tuple[str, str]] = {
    "torch": ("models", "torch"),
    "matplotlib": ("plots", "report"),
}


class MissingDependencyError(ConvexcheckError, ModuleNotFoundError):
    """A feature needs an optional dependency that is not installed (torch for models,
    matplotlib for plots). The message is one line that says what to install; it is a
    ``ModuleNotFoundError`` too, so code that already handles a missing module keeps working."""


def missing_dependency(exc: BaseException, feature: str) -> MissingDependencyError | None:
    """The one-line error for ``exc`` when it is a missing optional dependency, else ``None``
    (a missing module of any other name is a broken install, not a choice of extras)."""
    top = (getattr(exc, "name", None) or "").split(".")[0]
    if not isinstance(exc, ModuleNotFoundError) or top not in OPTIONAL_DEPENDENCIES:
        return None
    extra = OPTIONAL_DEPENDENCIES[top][1]
    error = MissingDependencyError(f"{feature} needs {top}: pip install 'convexcheck[{extra}]'")
    error.name = top
    return error


class NotExpressibleError(ConvexcheckError):
    """A proof exists but cannot be rewritten in the requested target (for example CVXPY)."""
