"""Load a model file: a Python file defining ``build()`` or ``model``, ``loss_fn`` and ``data``.

**A model file is Python and is executed by design**, with the full rights of the user running
``convexcheck``: a model can only be described by running the code that builds it. Only check
files you would also run yourself. (Saved witnesses, by contrast, are read with
``torch.load(..., weights_only=True)``, which does not execute code.)

Every problem a user can cause here is a :class:`ConvexcheckInputError` with one clear line
(exit status 2 on the command line): a missing file, an exception while importing or in
``build()`` (named, with its message), missing names, or values of the wrong type.
"""

from __future__ import annotations

import contextlib
import importlib.util
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from convexcheck.errors import ConvexcheckInputError

_NAMES = ("model", "loss_fn", "data")


@dataclass
class ModelSpec:
    """What a model file provides (``penalties`` is optional)."""

    model: Any
    loss_fn: Any  # None only when the file leaves it out and that is allowed (wrt="inputs")
    data: Any  # (inputs, targets); the inputs tensor alone when loss_fn is None
    penalties: list[Any] | None = None
    path: str = ""


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    if len(text) > 200:
        text = text[:197] + "..."
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def load_model_file(path: str | Path, *, loss_optional: bool = False) -> ModelSpec:
    """Execute the model file and return its model, loss and data (see the module doc).

    ``loss_optional`` (``--wrt inputs``): the file may leave out ``loss_fn`` (then ``None``),
    and its ``data`` may then be the inputs tensor alone.

    The file's own directory is put on ``sys.path`` while it runs, so it can import its
    neighbours; anything it prints goes to stderr (stdout is reserved for the report or JSON).
    """
    file = Path(path)
    if not file.exists():
        raise ConvexcheckInputError(f"model file not found: {str(path)!r}")
    if not file.is_file():
        raise ConvexcheckInputError(f"model file is not a regular file: {str(path)!r}")
    module = _execute(file)
    namespace = vars(module)
    if callable(namespace.get("build")):
        try:
            with contextlib.redirect_stdout(sys.stderr):
                built = namespace["build"]()
        except Exception as exc:
            raise ConvexcheckInputError(f"build() in {file.name} raised {_one_line(exc)}") from exc
        if not isinstance(built, dict):
            raise ConvexcheckInputError(
                f"build() in {file.name} must return a dict with model, loss_fn and data, "
                f"got {type(built).__name__}"
            )
        values, where = built, "the dict returned by build()"
    else:
        values, where = namespace, file.name
    missing = [n for n in _NAMES if n not in values]
    if loss_optional and missing == ["loss_fn"]:
        values = {**values, "loss_fn": None}
        missing = []
    if missing:
        hint = " or, with --wrt inputs, leaves out loss_fn" if "loss_fn" in missing else ""
        raise ConvexcheckInputError(
            f"{where} does not define {', '.join(missing)} (a model file defines build() "
            f"returning a dict, or module-level model, loss_fn and data{hint})"
        )
    return _validated(values, where, str(file))


def _execute(file: Path) -> Any:
    name = f"_convexcheck_model_{abs(hash(str(file.resolve())))}"
    spec = importlib.util.spec_from_file_location(name, file)
    if spec is None or spec.loader is None:
        raise ConvexcheckInputError(f"cannot load {str(file)!r} as a Python file")
    module = importlib.util.module_from_spec(spec)
    folder = str(file.resolve().parent)
    sys.path.insert(0, folder)
    try:
        with contextlib.redirect_stdout(sys.stderr):
            spec.loader.exec_module(module)
    except SyntaxError as exc:
        raise ConvexcheckInputError(
            f"{file.name} is not valid Python: SyntaxError: {exc.msg} (line {exc.lineno})"
        ) from exc
    except (Exception, SystemExit) as exc:
        raise ConvexcheckInputError(f"importing {file.name} raised {_one_line(exc)}") from exc
    finally:
        with contextlib.suppress(ValueError):
            sys.path.remove(folder)
    return module


def _validated(values: Any, where: str, path: str) -> ModelSpec:
    import torch
    from torch import nn

    model, loss_fn, data = values["model"], values["loss_fn"], values["data"]
    if not isinstance(model, nn.Module):
        raise ConvexcheckInputError(
            f"model in {where} must be a torch.nn.Module, got {type(model).__name__}"
        )
    if loss_fn is None and isinstance(data, torch.Tensor):
        data = (data,)  # the inputs alone: nothing to compare them with
    if loss_fn is not None and not callable(loss_fn):
        raise ConvexcheckInputError(
            f"loss_fn in {where} must be callable, got {type(loss_fn).__name__}"
        )
    sizes = (1, 2) if loss_fn is None else (2,)
    if not isinstance(data, (tuple, list)) or len(data) not in sizes:
        raise ConvexcheckInputError(
            f"data in {where} must be an (inputs, targets) pair, got {type(data).__name__}"
        )
    for label, item in zip(("inputs", "targets"), data):
        if not isinstance(item, torch.Tensor):
            raise ConvexcheckInputError(
                f"data in {where}: {label} must be a torch.Tensor, got {type(item).__name__}"
            )
    penalties = values.get("penalties")
    if penalties is not None and not isinstance(penalties, (list, tuple)):
        raise ConvexcheckInputError(f"penalties in {where} must be a list of callables")
    return ModelSpec(
        model=model,
        loss_fn=loss_fn,
        data=(data[0], data[1]) if len(data) == 2 else data[0],
        penalties=list(penalties) if penalties is not None else None,
        path=path,
    )
