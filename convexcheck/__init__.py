"""convexcheck: prove a function convex or concave, or refute it with a checked witness.

The public API is deliberately small and lazily imported, so ``import convexcheck`` stays fast
(no SymPy, CVXPY or torch until a function that needs them is called)::

    import convexcheck as cc
    r = cc.check("x**2/y", variables={"x": "real", "y": "positive"})
    r.convex.answer, r.concave.answer, r.curvature
    cc.assert_convex("log(1 + exp(x))")        # in any test suite; see docs/assertions.md
    m = cc.check_model(model, loss_fn, (inputs, targets))
    b = cc.curvature_bounds("x**2 + exp(x)", {"x": "[0, 1]"})   # proved mu, L; b.step_size
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from convexcheck.version import __version__

__all__ = [
    "CheckResult",
    "ConvexcheckError",
    "ConvexcheckInputError",
    "ConvexityAssertionError",
    "CurvatureBounds",
    "ModelCheckResult",
    "NotConvexError",
    "Verdict",
    "__version__",
    "assert_affine",
    "assert_concave",
    "assert_convex",
    "assert_model_convex",
    "assert_model_nonconvex",
    "assert_nonconcave",
    "assert_nonconvex",
    "check",
    "check_model",
    "curvature_bounds",
    "hessian_density",
    "hessian_extremes",
    "parse",
]

# name -> (module, attribute); resolved on first access by __getattr__ below.
_LAZY: dict[str, tuple[str, str]] = {
    "check": ("convexcheck.cli.api", "check"),
    "parse": ("convexcheck.symbolic.parser", "parse_to_sympy"),
    "check_model": ("convexcheck.cli.api", "check_model"),
    "curvature_bounds": ("convexcheck.cli.api", "curvature_bounds"),
    "CurvatureBounds": ("convexcheck.symbolic.curvature_bounds", "CurvatureBounds"),
    "hessian_extremes": ("convexcheck.cli.api", "hessian_extremes"),
    "hessian_density": ("convexcheck.cli.api", "hessian_density"),
    "assert_convex": ("convexcheck.assertions", "assert_convex"),
    "assert_concave": ("convexcheck.assertions", "assert_concave"),
    "assert_affine": ("convexcheck.assertions", "assert_affine"),
    "assert_nonconvex": ("convexcheck.assertions", "assert_nonconvex"),
    "assert_nonconcave": ("convexcheck.assertions", "assert_nonconcave"),
    "assert_model_convex": ("convexcheck.assertions", "assert_model_convex"),
    "assert_model_nonconvex": ("convexcheck.assertions", "assert_model_nonconvex"),
    "ConvexityAssertionError": ("convexcheck.assertions", "ConvexityAssertionError"),
    "ModelCheckResult": ("convexcheck.numeric.model_result", "ModelCheckResult"),
    "NotConvexError": ("convexcheck.assertions", "ConvexityAssertionError"),
    "CheckResult": ("convexcheck.result", "CheckResult"),
    "Verdict": ("convexcheck.result", "Verdict"),
    "ConvexcheckError": ("convexcheck.errors", "ConvexcheckError"),
    "ConvexcheckInputError": ("convexcheck.errors", "ConvexcheckInputError"),
}

if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from convexcheck.assertions import (
        ConvexityAssertionError,
        assert_affine,
        assert_concave,
        assert_convex,
        assert_model_convex,
        assert_model_nonconvex,
        assert_nonconcave,
        assert_nonconvex,
    )
    from convexcheck.assertions import (
        ConvexityAssertionError as NotConvexError,
    )
    from convexcheck.cli.api import (
        check,
        check_model,
        curvature_bounds,
        hessian_density,
        hessian_extremes,
    )
    from convexcheck.errors import ConvexcheckError, ConvexcheckInputError
    from convexcheck.numeric.model_result import ModelCheckResult
    from convexcheck.result import CheckResult, Verdict
    from convexcheck.symbolic.curvature_bounds import CurvatureBounds
    from convexcheck.symbolic.parser import parse_to_sympy as parse


def __getattr__(name: str) -> Any:
    try:
        module_name, attribute = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'convexcheck' has no attribute {name!r}") from None
    import importlib

    value = getattr(importlib.import_module(module_name), attribute)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
