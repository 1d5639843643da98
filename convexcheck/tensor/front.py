"""The CVXPY entry point of :func:`convexcheck.check`: translate node for node, then check.

Kept apart from :mod:`convexcheck.tensor.check` so that the ladder itself does not know about
CVXPY (a torch graph will feed the same ladder).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from convexcheck.errors import ConvexcheckInputError
from convexcheck.result import CheckResult
from convexcheck.tensor.atoms import make
from convexcheck.tensor.check import check_tensor
from convexcheck.tensor.cvxpy_bridge import from_cvxpy_tensor
from convexcheck.tensor.expr import short_text

TENSOR_STAGES = ("dcp", "witness", "hessian", "sos")


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
    root, notes = from_cvxpy_tensor(expression)
    if root.shape in ((1,), (1, 1)):
        root = make("reshape", [root], ((), "C"))
    text = short_text(root)

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
