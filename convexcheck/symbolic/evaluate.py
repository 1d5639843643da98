"""Vectorised float64 evaluation of expression trees with NumPy (for sampling and searches).

Semantics follow SymPy's on the reals: ``u**p`` for non-integer ``p`` is undefined (NaN) for
``u < 0``, ``log`` of a nonpositive number is NaN/-inf, a ``Piecewise`` takes the first piece
whose condition holds (NaN where none does). NumPy warnings are silenced: callers look at
``numpy.isfinite`` instead. This is a *search* tool, never a proof: exact re-verification lives
elsewhere.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from fractions import Fraction
from typing import Any

import numpy as np

from convexcheck.symbolic.atoms import UNARY_ATOMS
from convexcheck.symbolic.ir import UNARY_FUNCTIONS, Node, postorder

_CONSTANTS = {"pi": np.pi, "E": np.e}
#: The NumPy ufunc of every function of the grammar, named by its atom row.
_UNARY = {name: getattr(np, UNARY_ATOMS[name].numpy) for name in UNARY_FUNCTIONS}


def to_float(q: Any) -> float:
    """``float(q)`` for an int or Fraction, ``±inf`` past the float range (no OverflowError)."""
    try:
        return float(Fraction(q))
    except OverflowError:
        return math.inf if q > 0 else -math.inf


def _power(base: np.ndarray, exponent: Any, exponent_node: Node) -> np.ndarray:
    if exponent_node.op == "num":
        p = exponent_node.value
        if isinstance(p, int):
            if p < 0 or p > 2**62:  # NumPy cannot raise to a Python int beyond int64
                return np.power(base, to_float(p))
            return base**p
        q = to_float(p)
        return np.where(base >= 0, np.power(np.abs(base), q), np.nan)
    return np.where(base > 0, np.power(np.abs(base), exponent), np.nan)


def evaluate(root: Node, env: Mapping[str, Any]) -> np.ndarray:
    """``root`` at the points ``env`` (name -> array, all broadcastable), as float64 arrays."""
    values: dict[int, Any] = {}
    shape: tuple[int, ...] = ()
    for v in env.values():  # pairwise: np.broadcast takes at most 64 arrays
        shape = np.broadcast_shapes(shape, np.shape(v))
    with np.errstate(all="ignore"):
        for node in postorder(root):
            op = node.op
            args = [values[id(a)] for a in node.args]
            if op == "num":
                v: Any = to_float(node.value)
            elif op == "const":
                v = _CONSTANTS[node.value]  # type: ignore[index]
            elif op == "var":
                v = np.asarray(env[node.value], dtype=float)  # type: ignore[index]
            elif op == "add":
                v = args[0]
                for a in args[1:]:
                    v = v + a
            elif op == "mul":
                v = args[0]
                for a in args[1:]:
                    v = v * a
            elif op == "pow":
                v = _power(np.asarray(args[0], dtype=float), args[1], node.args[1])
            elif op in _UNARY:
                v = _UNARY[op](args[0])
            elif op == "Max":
                v = functools.reduce(np.maximum, args)
            elif op == "Min":
                v = functools.reduce(np.minimum, args)
            elif op == "<":
                v = args[0] < args[1]
            elif op == "<=":
                v = args[0] <= args[1]
            elif op == "And":
                v = functools.reduce(np.logical_and, args)
            elif op == "Or":
                v = functools.reduce(np.logical_or, args)
            elif op == "Not":
                v = np.logical_not(args[0])
            elif op == "True":
                v = True
            elif op == "False":
                v = False
            elif op == "Piecewise":
                v = np.full(shape, np.nan)
                done = np.zeros(shape, dtype=bool)
                for value, cond in zip(args[0::2], args[1::2]):
                    take = np.broadcast_to(cond, shape) & ~done
                    v = np.where(take, value, v)
                    done = done | take
            else:  # pragma: no cover - every IR op is listed above
                raise ValueError(f"cannot evaluate {op!r}")
            values[id(node)] = v
    return np.broadcast_to(np.asarray(values[id(root)], dtype=float), shape).copy()
