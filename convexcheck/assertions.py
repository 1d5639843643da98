"""Assertions for any test suite: ``assert_convex(expr, variables)`` and friends.

A failed assertion raises :class:`ConvexityAssertionError` (an ``AssertionError``, so every test
runner reports it as a failure, not an error) whose message is the explanation: the verdicts,
the DCP premise that failed, the witness when there is one, and what was tried.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from convexcheck.result import CheckResult


class ConvexityAssertionError(AssertionError):
    """A convexity assertion did not hold; ``result`` carries the full evidence."""

    def __init__(self, message: str, result: CheckResult) -> None:
        super().__init__(message)
        self.result = result


def _assert(
    expect: str, what: str, expression: Any, variables: Mapping[str, Any] | None, **kw: Any
) -> CheckResult:
    from convexcheck.symbolic.check import check

    result = check(expression, variables, **kw)
    if not result.establishes(expect):
        message = (
            f"expected {what}, but convexcheck could not establish it "
            f"(curvature: {result.curvature})\n{result.explain()}"
        )
        raise ConvexityAssertionError(message, result)
    return result


def assert_convex(
    expression: Any, variables: Mapping[str, Any] | None = None, **kw: Any
) -> CheckResult:
    """Pass only if ``expression`` is *proved* convex on the domains."""
    return _assert("convex", "a convex function", expression, variables, **kw)


def assert_concave(
    expression: Any, variables: Mapping[str, Any] | None = None, **kw: Any
) -> CheckResult:
    """Pass only if ``expression`` is *proved* concave on the domains."""
    return _assert("concave", "a concave function", expression, variables, **kw)


def assert_affine(
    expression: Any, variables: Mapping[str, Any] | None = None, **kw: Any
) -> CheckResult:
    """Pass only if ``expression`` is proved both convex and concave."""
    return _assert("affine", "an affine function", expression, variables, **kw)


def assert_nonconvex(
    expression: Any, variables: Mapping[str, Any] | None = None, **kw: Any
) -> CheckResult:
    """Pass only if ``expression`` is *refuted* convex by a verified witness."""
    return _assert(
        "nonconvex", "a non-convex function (with a verified witness)", expression, variables, **kw
    )
