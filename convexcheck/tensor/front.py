"""The CVXPY entry point of :func:`convexcheck.check`: translate node for node, then check.

Kept apart from :mod:`convexcheck.tensor.check` so that the ladder itself does not know about
CVXPY (a torch graph will feed the same ladder).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from convexcheck.errors import ConvexcheckInputError
from convexcheck.result import CheckResult
from convexcheck.tensor.atoms import make
from convexcheck.tensor.check import check_tensor
from convexcheck.tensor.cvxpy_bridge import from_cvxpy_tensor

TENSOR_STAGES = ("dcp", "witness", "hessian", "sos")
# a budget above this (about 30 years) is no limit: setitimer overflows on 1e300 seconds
FOREVER_S = 1e9


def check_cvxpy(
    expression: Any,
    variables: Mapping[str, Any] | None = None,
    *,
    seed: int = 0,
    budget_s: float | None = None,
    stages: Sequence[str] | None = None,
    psd_tolerance: float | None = None,
) -> CheckResult:
    if variables:
        raise ConvexcheckInputError(
            "for a CVXPY expression, give domains as variable attributes (nonneg=True, "
            "bounds=[lo, hi], PSD=True), not as variables=..."
        )
    if budget_s is not None and budget_s > FOREVER_S:
        budget_s = math.inf  # the same in practice, and the interval timer cannot hold it
    root, notes = from_cvxpy_tensor(expression)
    if root.shape in ((1,), (1, 1)):
        root = make("reshape", [root], ((), "C"))
    text = _text_of(expression)

    def scalar_fallback(seconds: float) -> CheckResult:
        from convexcheck.symbolic.check import check as scalar_check

        wanted = [s for s in ("dcp", "witness", "hessian", "sos") if stages is None or s in stages]
        return scalar_check(expression, seed=seed, budget_s=seconds, stages=wanted, _scalarise=True)

    return check_tensor(
        root,
        text=text,
        notes=notes,
        seed=seed,
        budget_s=budget_s,
        stages=stages,
        psd_tolerance=psd_tolerance,
        scalar_fallback=scalar_fallback,
    )


def _text_of(expression: Any) -> str:
    """CVXPY's printed form, cut at 2,000 characters; CVXPY prints recursively, so a very deep
    tree (a chain of thousands of negations) gets a short description instead."""
    try:
        text = str(expression)
    except RecursionError:
        shape = getattr(expression, "shape", "?")
        return f"<a CVXPY {type(expression).__name__} of shape {shape}, too deep to print>"
    return text[:2000] + " ..." if len(text) > 2000 else text
