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


class NotExpressibleError(ConvexcheckError):
    """A proof exists but cannot be rewritten in the requested target (for example CVXPY)."""
