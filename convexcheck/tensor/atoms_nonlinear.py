"""Elementwise tensor rows.

Same row type and the same single composition rule as :mod:`convexcheck.tensor.atoms`. The
elementwise rows read their facts from :mod:`convexcheck.tensor.elementwise` (itself drawn from
the scalar atom table); ``kl_div``/``rel_entr`` and ``maximum``/``minimum`` declare theirs here.
The PSD context, which used to live here, is :mod:`.atoms_psd` (re-exported for old imports).
"""

from __future__ import annotations

import numpy as np

from convexcheck.tensor import elementwise as ew
from convexcheck.tensor import intervals as iv
from convexcheck.tensor.atoms_base import (
    AFFINE,
    CONCAVE,
    CONVEX,
    Curvature,
    Row,
    align,
    increasing,
    reduce_bits,
    register,
)
from convexcheck.tensor.atoms_psd import (  # re-exported for old imports
    PSD_CONTEXT,
    PSDContext,
    psd_decision,
)
from convexcheck.tensor.elementwise import CCV, CVX, DEC
from convexcheck.tensor.expr import TExpr, broadcast_shapes
from convexcheck.tensor.intervals import IArray


# ---- elementwise rows --------------------------------------------------------------------------
def _facts(node: TExpr) -> ew.Elementwise:
    return ew.facts(node.op, node.params)


def _ew_curvature(node: TExpr, r: list[IArray]) -> Curvature:
    bits = _facts(node).curvature_bits(r[0])
    cvx = bool(np.all(bits & CVX))
    ccv = bool(np.all(bits & CCV))
    why = (
        ""
        if cvx and ccv
        else f"{_facts(node).name} is not convex and not concave on its argument's range"
    )
    return (cvx, ccv, why)


def _ew_mono(node: TExpr, i: int, r: list[IArray]) -> np.ndarray:
    return _facts(node).monotonicity_bits(r[0])


def _ew_domain(node: TExpr, r: list[IArray]) -> str | None:
    facts = _facts(node)
    ok = facts.in_domain(r[0])
    if np.all(ok):
        return None
    bad = int(np.size(ok) - np.count_nonzero(ok))
    entries = "entry" if bad == 1 else "entries"
    return (
        f"{facts.name} needs its argument in {_domain_text(facts)}, which {bad} {entries} may leave"
    )


def _domain_text(facts: ew.Elementwise) -> str:
    parts = []
    for lo, hi, lo_open, hi_open in facts.domain:
        if lo == -np.inf and hi == np.inf:
            parts.append("the reals")
        else:
            parts.append(
                f"{'(' if lo_open else '['}{ew_fmt(lo)}, {ew_fmt(hi)}{')' if hi_open else ']'}"
            )
    return " or ".join(parts)


def ew_fmt(v: float) -> str:
    if v in (np.inf, -np.inf):
        return "oo" if v > 0 else "-oo"
    return repr(int(v)) if v == int(v) else repr(v)


def _ew_arg_domain(node: TExpr, i: int):
    dom = _facts(node).domain
    if len(dom) == 1 and dom[0][1] == np.inf and dom[0][0] > -np.inf:
        return (dom[0][0], dom[0][2])
    return None if dom == ((-np.inf, np.inf, True, True),) else "other"


def _ew_row(name: str, cvxpy: str) -> Row:
    return register(
        Row(
            name,
            "elementwise",
            lambda shapes, params: shapes[0],
            _ew_curvature,
            _ew_mono,
            lambda node, r: _facts(node).image_of(r[0]),
            lambda node, xs: _facts(node).fn(xs[0]),
            _ew_domain,
            cvxpy=cvxpy,
            arg_domain=_ew_arg_domain,
        )
    )


for _name, _cvx in (
    ("exp", "exp"),
    ("log", "log"),
    ("abs", "abs"),
    ("logistic", "logistic"),
    ("xlogx", "-entr"),
    ("xexp", "xexp"),
    ("power", "power"),
    ("huber", "huber"),
):
    _ew_row(_name, _cvx)


# maximum / minimum of several arguments, elementwise (broadcasting)
def _extreme_interval(node: TExpr, r: list[IArray]) -> IArray:
    parts = [x.broadcast_to(node.shape) for x in r]
    take = np.maximum if node.op == "maximum" else np.minimum
    lo, hi = parts[0].lo, parts[0].hi
    for x in parts[1:]:
        lo, hi = take(lo, x.lo), take(hi, x.hi)
    return IArray(lo, hi, np.isinf(lo), np.isinf(hi))


def _extreme_numpy(node: TExpr, xs: list[np.ndarray]) -> np.ndarray:
    take = np.maximum if node.op == "maximum" else np.minimum
    parts = align(node, xs)
    out = parts[0]
    for x in parts[1:]:
        out = take(out, x)
    return out


def _extreme_mono(node: TExpr, i: int, r: list[IArray]) -> np.ndarray:
    return increasing(node, i, r)


for _name in ("maximum", "minimum"):
    register(
        Row(
            _name,
            "elementwise",
            lambda shapes, params: broadcast_shapes(*shapes),
            lambda node, r: CONVEX if node.op == "maximum" else CONCAVE,
            _extreme_mono,
            _extreme_interval,
            lambda node, xs: _extreme_numpy(node, xs),
            cvxpy=_name,
        )
    )


# kl_div(x, y) = x log(x/y) - x + y and rel_entr(x, y) = x log(x/y): jointly convex on x >= 0,
# y > 0 (0 at x = 0); rel_entr is nonincreasing in y, neither is monotone in x.
def _entropy_interval(node: TExpr, r: list[IArray]) -> IArray:
    x, y = (a.broadcast_to(node.shape) for a in r)
    xlogx = ew.XLOGX.image_of(x)
    xlogy = iv.mul(x, ew.LOG.image_of(y))
    out = iv.sub(xlogx, xlogy)
    if node.op == "kl_div":
        out = iv.add(iv.sub(out, x), y)
        out = IArray(
            np.maximum(out.lo, 0.0),
            np.maximum(out.hi, 0.0),
            out.lo_open & (out.lo > 0),
            out.hi_open,
        )
    return out


def _entropy_numpy(node: TExpr, xs: list[np.ndarray]) -> np.ndarray:
    x, y = np.broadcast_arrays(*align(node, xs))
    with np.errstate(all="ignore"):
        core = np.where(
            x == 0, 0.0, x * np.log(np.where(x > 0, x, 1.0) / np.where(y > 0, y, np.nan))
        )
        core = np.where((x < 0) | (y <= 0), np.nan, core)
    return core - x + y if node.op == "kl_div" else core


def _entropy_mono(node: TExpr, i: int, r: list[IArray]) -> np.ndarray:
    shape = node.args[i].shape
    if i == 1 and node.op == "rel_entr":
        return np.full(shape, DEC, dtype=np.int8)
    return np.zeros(shape, dtype=np.int8)


def _entropy_domain(node: TExpr, r: list[IArray]) -> str | None:
    if not np.all(r[0].lo >= 0):
        return f"{node.op} needs a nonnegative first argument"
    if not np.all(r[1].positive()):
        return f"{node.op} needs a positive second argument"
    return None


for _name in ("kl_div", "rel_entr"):
    register(
        Row(
            _name,
            "elementwise",
            lambda shapes, params: broadcast_shapes(*shapes),
            lambda node, r: CONVEX,
            _entropy_mono,
            _entropy_interval,
            _entropy_numpy,
            _entropy_domain,
            cvxpy=_name,
            arg_domain=lambda node, i: (0.0, i == 1),
        )
    )


__all__ = [
    "AFFINE",
    "PSD_CONTEXT",
    "PSDContext",
    "psd_decision",
    "reduce_bits",
]
