"""Numeric back end for PyTorch models: ``check_model`` and the pieces it is built from.

Importing this package does not import torch; the public names are resolved on first access, so
``convexcheck.numeric.hessian`` (or any submodule) can be imported on its own and the package
itself stays cheap. ``import convexcheck`` never imports this package at all.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = ["FunctionalLoss", "ModelCheckResult", "check_model", "load_model_file"]

if TYPE_CHECKING:  # pragma: no cover
    from convexcheck.numeric.check import check_model
    from convexcheck.numeric.functional import FunctionalLoss
    from convexcheck.numeric.loading import load_model_file
    from convexcheck.numeric.model_result import ModelCheckResult


def __getattr__(name: str) -> Any:
    # Plain imports, one per public name, so that every edge is visible to a reader and to
    # tests/test_architecture.py (a name-based lookup would hide it).
    if name == "check_model":
        from convexcheck.numeric.check import check_model as value
    elif name == "ModelCheckResult":
        from convexcheck.numeric.model_result import ModelCheckResult as value
    elif name == "FunctionalLoss":
        from convexcheck.numeric.functional import FunctionalLoss as value
    elif name == "load_model_file":
        from convexcheck.numeric.loading import load_model_file as value
    else:
        raise AttributeError(f"module 'convexcheck.numeric' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
