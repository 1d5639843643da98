"""Numeric back end for PyTorch models: ``check_model`` and the pieces it is built from.

Importing this package does not import torch; the public names are resolved on first access, so
``convexcheck.numeric.hessian`` (or any submodule) can be imported on its own and the package
itself stays cheap. ``import convexcheck`` never imports this package at all.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = ["FunctionalLoss", "ModelCheckResult", "check_model", "load_model_file"]

_LAZY: dict[str, tuple[str, str]] = {
    "check_model": ("convexcheck.numeric.check", "check_model"),
    "ModelCheckResult": ("convexcheck.numeric.model_result", "ModelCheckResult"),
    "FunctionalLoss": ("convexcheck.numeric.functional", "FunctionalLoss"),
    "load_model_file": ("convexcheck.numeric.loading", "load_model_file"),
}

if TYPE_CHECKING:  # pragma: no cover
    from convexcheck.numeric.check import check_model
    from convexcheck.numeric.functional import FunctionalLoss
    from convexcheck.numeric.loading import load_model_file
    from convexcheck.numeric.model_result import ModelCheckResult


def __getattr__(name: str) -> Any:
    try:
        module_name, attribute = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'convexcheck.numeric' has no attribute {name!r}") from None
    import importlib

    value = getattr(importlib.import_module(module_name), attribute)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
