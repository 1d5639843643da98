"""Tensor atom rows that are not affine: elementwise functions, reductions and matrix functions.

Same row type and the same single composition rule as :mod:`convexcheck.tensor.atoms`. The
elementwise rows read their facts from :mod:`convexcheck.tensor.elementwise` (itself drawn from
the scalar atom table); the reductions declare theirs here, mostly "convex, nondecreasing" or
"convex, monotone by the sign of each entry"; the matrix rows' curvature may depend on data (a
``quad_form`` is convex exactly when its matrix is PSD, decided in :mod:`convexcheck.tensor.psd`).

Interval enclosures of monotone reductions use one trick throughout: a nondecreasing ``f`` maps
the box ``[lo, hi]`` into ``[f(lo), f(hi)]``, and each end is itself computed with rigorous
interval operations at that point, so the enclosure is tight at points (which the witness check
needs) and valid on boxes (which the ranges need).
"""

from __future__ import annotations

import contextvars
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

from convexcheck.tensor import elementwise as ew
from convexcheck.tensor import intervals as iv
from convexcheck.tensor.atoms import (
    AFFINE,
    Curvature,
    Row,
    increasing,
    reduce_bits,
    register,
    sign_bits,
)
from convexcheck.tensor.elementwise import CCV, CVX, DEC, INC
from convexcheck.tensor.expr import TExpr, broadcast_shapes, reduced_shape
from convexcheck.tensor.intervals import IArray

CONVEX: Curvature = (True, False, "")
CONCAVE: Curvature = (False, True, "")


# ---- the PSD context: data-dependent facts and the user's tolerance ----------------------------
@dataclass
class PSDContext:
    """What the matrix rows decided about constant matrices during one analysis, so that the
    certificate and ``explain()`` can state each decision (and any assumption) once."""

    tolerance: float | None = None
    decisions: dict[int, object] = field(default_factory=dict)


PSD_CONTEXT: contextvars.ContextVar[PSDContext] = contextvars.ContextVar("psd_context")


def psd_decision(matrix: np.ndarray, *, negate: bool = False):
    """The (memoised) PSD decision for the symmetric part of ``matrix`` (or of ``-matrix``)."""
    from convexcheck.tensor.psd import decide_nsd, decide_psd

    try:
        ctx = PSD_CONTEXT.get()
    except LookupError:
        ctx = PSDContext()
    key = (id(matrix), negate)
    hit = ctx.decisions.get(key)  # type: ignore[call-overload]
    if hit is None:
        decide = decide_nsd if negate else decide_psd
        hit = ctx.decisions[key] = decide(matrix, tolerance=ctx.tolerance)  # type: ignore[index]
    return hit


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
    from convexcheck.tensor.atoms import align

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
    from convexcheck.tensor.atoms import align

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


# ---- reductions --------------------------------------------------------------------------------
def _axis(node: TExpr) -> int | None:
    return node.params[0] if node.params else None


def _keep(node: TExpr) -> bool:
    return bool(node.params[1]) if len(node.params) > 1 else False


def _reduce_shape(shapes, params):
    return reduced_shape(
        shapes[0], params[0] if params else None, bool(params[1]) if len(params) > 1 else False
    )


def _monotone_enclosure(node: TExpr, r: IArray, at_point) -> IArray:
    """``[f(lo), f(hi)]`` for a nondecreasing reduction ``f``, each end computed rigorously at
    that point; an infinite end of any entry makes that end of the enclosure infinite (sound,
    if weak)."""
    shape = node.shape
    if np.any(np.isinf(r.lo)):
        lo = np.full(shape, -np.inf)
    else:
        lo = np.broadcast_to(at_point(IArray.point(r.lo)).lo, shape)
    if np.any(np.isinf(r.hi)):
        hi = np.full(shape, np.inf)
    else:
        hi = np.broadcast_to(at_point(IArray.point(r.hi)).hi, shape)
    return IArray(lo, hi)


def _lse_point(node: TExpr, x: IArray) -> IArray:
    axis, keep = _axis(node), _keep(node)
    m = np.max(x.lo, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)
    shifted = iv.sub(x, IArray.point(np.broadcast_to(m, x.shape)))
    total = iv.sum(ew.EXP.image_of(shifted), axis=axis, keepdims=True)
    out = iv.add(ew.LOG.image_of(total), IArray.point(m))
    return out if keep else out.reshape(node.shape)


def _lse_numpy(node: TExpr, xs: list[np.ndarray]) -> np.ndarray:
    from convexcheck.tensor.atoms import batch_axis

    x = xs[0]
    ax = batch_axis(_axis(node), x.ndim - 1)
    m = np.max(x, axis=ax, keepdims=True)
    with np.errstate(all="ignore"):
        out = np.log(np.sum(np.exp(x - m), axis=ax, keepdims=True)) + m
    return out if _keep(node) else np.squeeze(out, axis=ax)


register(
    Row(
        "log_sum_exp",
        "reduction",
        _reduce_shape,
        lambda node, r: CONVEX,
        increasing,
        lambda node, r: _monotone_enclosure(node, r[0], lambda p: _lse_point(node, p)),
        _lse_numpy,
        cvxpy="log_sum_exp",
    )
)


def _extreme_reduction_interval(node: TExpr, r: list[IArray]) -> IArray:
    take = np.max if node.op == "max" else np.min
    axis, keep = _axis(node), _keep(node)
    lo = take(r[0].lo, axis=axis, keepdims=keep)
    hi = take(r[0].hi, axis=axis, keepdims=keep)
    return IArray(np.asarray(lo), np.asarray(hi), np.isinf(lo), np.isinf(hi))


def _extreme_reduction_numpy(node: TExpr, xs: list[np.ndarray]) -> np.ndarray:
    from convexcheck.tensor.atoms import batch_axis

    take = np.max if node.op == "max" else np.min
    return take(xs[0], axis=batch_axis(_axis(node), xs[0].ndim - 1), keepdims=_keep(node))


for _name in ("max", "min"):
    register(
        Row(
            _name,
            "reduction",
            _reduce_shape,
            lambda node, r: CONVEX if node.op == "max" else CONCAVE,
            increasing,
            _extreme_reduction_interval,
            _extreme_reduction_numpy,
            cvxpy=_name,
        )
    )


def _sum_largest_point(node: TExpr, x: IArray) -> IArray:
    k = int(node.params[0])
    top = np.sort(np.ravel(x.lo))[::-1][:k]
    return iv.sum(IArray.point(top))


register(
    Row(
        "sum_largest",
        "reduction",
        lambda shapes, params: (),
        lambda node, r: CONVEX,
        increasing,
        lambda node, r: _monotone_enclosure(node, r[0], lambda p: _sum_largest_point(node, p)),
        lambda node, xs: np.sum(
            np.sort(xs[0].reshape((xs[0].shape[0], -1)), axis=1)[:, ::-1][:, : int(node.params[0])],
            axis=1,
        ),
        cvxpy="sum_largest",
    )
)


def _p(node: TExpr) -> Fraction | float:
    """The exponent of a p-norm: a Fraction, or ``inf``."""
    p = node.params[2] if len(node.params) > 2 else 2
    return p


def _pnorm_interval(node: TExpr, r: list[IArray]) -> IArray:
    x = r[0]
    axis, keep = _axis(node), _keep(node)
    p = _p(node)
    if p == np.inf:
        a = ew.ABS.image_of(x)
        lo = np.max(a.lo, axis=axis, keepdims=keep)
        hi = np.max(a.hi, axis=axis, keepdims=keep)
        return IArray(np.asarray(lo), np.asarray(hi), np.isinf(lo), np.isinf(hi))
    p = Fraction(p)
    if p == 1:
        return iv.sum(ew.ABS.image_of(x), axis=axis, keepdims=keep)
    base = ew.ABS.image_of(x) if p > 1 else x
    powered = ew.power(p).image_of(base)
    total = iv.sum(powered, axis=axis, keepdims=keep)
    return ew.power(1 / p).image_of(total)


def _pnorm_numpy(node: TExpr, xs: list[np.ndarray]) -> np.ndarray:
    from convexcheck.tensor.atoms import batch_axis

    x = xs[0]
    ax = batch_axis(_axis(node), x.ndim - 1)
    p = _p(node)
    with np.errstate(all="ignore"):
        if p == np.inf:
            return np.max(np.abs(x), axis=ax, keepdims=_keep(node))
        p = float(p)
        if p == 1:
            return np.sum(np.abs(x), axis=ax, keepdims=_keep(node))
        if p == 2:
            return np.sqrt(np.sum(x * x, axis=ax, keepdims=_keep(node)))
        base = np.abs(x) if p > 1 else np.where(x < 0, np.nan, x)
        return np.sum(base**p, axis=ax, keepdims=_keep(node)) ** (1 / p)


def _pnorm_curvature(node: TExpr, r: list[IArray]) -> Curvature:
    p = _p(node)
    return CONVEX if p == np.inf or p >= 1 else CONCAVE


def _pnorm_mono(node: TExpr, i: int, r: list[IArray]) -> np.ndarray:
    p = _p(node)
    if p != np.inf and p < 1:
        return increasing(node, i, r)
    return sign_bits(r[0])


def _pnorm_domain(node: TExpr, r: list[IArray]) -> str | None:
    p = _p(node)
    if p == np.inf or p >= 1:
        return None
    if p > 0 and not np.all(r[0].lo >= 0):
        return f"pnorm with p = {p} needs a nonnegative argument"
    if p < 0 and not np.all(r[0].positive()):
        return f"pnorm with p = {p} needs a positive argument"
    return None


register(
    Row(
        "pnorm",
        "reduction",
        _reduce_shape,
        _pnorm_curvature,
        _pnorm_mono,
        _pnorm_interval,
        _pnorm_numpy,
        _pnorm_domain,
        cvxpy="pnorm",
        arg_domain=lambda node, i: (
            None if (_p(node) == np.inf or _p(node) >= 1) else (0.0, bool(_p(node) < 0))
        ),
    )
)


def _qol_interval(node: TExpr, r: list[IArray]) -> IArray:
    squares = iv.sum(ew.power(Fraction(2)).image_of(r[0]))
    return iv.mul(squares, iv.reciprocal(r[1].reshape(())))


def _qol_mono(node: TExpr, i: int, r: list[IArray]) -> np.ndarray:
    if i == 1:
        return np.full(node.args[1].shape, DEC, dtype=np.int8)
    return sign_bits(r[0])


def _qol_domain(node: TExpr, r: list[IArray]) -> str | None:
    return None if np.all(r[1].positive()) else "quad_over_lin needs a positive denominator"


register(
    Row(
        "quad_over_lin",
        "reduction",
        lambda shapes, params: (),
        lambda node, r: CONVEX,
        _qol_mono,
        _qol_interval,
        lambda node, xs: (
            np.sum(xs[0].reshape((xs[0].shape[0], -1)) ** 2, axis=1)
            / xs[1].reshape((xs[1].shape[0],))
        ),
        _qol_domain,
        cvxpy="quad_over_lin",
        arg_domain=lambda node, i: (0.0, True) if i == 1 else None,
    )
)


def _gm_weights(node: TExpr) -> tuple[Fraction, ...]:
    return tuple(Fraction(w) for w in node.params[0])


def _weight_enclosure(w: tuple[Fraction, ...]) -> IArray:
    """Float enclosures of rational weights (1/3 is not a float; exact ones stay points)."""
    wl = np.array([float(q) for q in w])
    exact = np.array([Fraction(float(q)) == q for q in w], dtype=bool)
    lo = np.where(exact, wl, np.nextafter(wl, -np.inf))
    hi = np.where(exact, wl, np.nextafter(wl, np.inf))
    return IArray(lo, hi, np.zeros(len(w), bool), np.zeros(len(w), bool))


def _gm_point(node: TExpr, x: IArray) -> IArray:
    w = _gm_weights(node)
    flat = x.reshape((x.size,))
    logs = ew.LOG.image_of(flat)
    weights = _weight_enclosure(w)
    keep = np.array([q != 0 for q in w])
    if np.any(flat.lo[keep] <= 0):  # a zero entry with positive weight: the mean is 0
        return IArray(np.asarray(0.0), np.asarray(0.0))
    total = iv.sum(iv.mul(logs[keep], weights[keep]))
    return ew.EXP.image_of(total)


def _gm_numpy(node: TExpr, xs: list[np.ndarray]) -> np.ndarray:
    w = np.array([float(q) for q in _gm_weights(node)])
    x = xs[0].reshape((xs[0].shape[0], -1))
    with np.errstate(all="ignore"):
        logs = np.where(w > 0, np.log(np.where(x < 0, np.nan, x)), 0.0)
        return np.exp(np.sum(w * logs, axis=1))


register(
    Row(
        "geo_mean",
        "reduction",
        lambda shapes, params: (),
        lambda node, r: CONCAVE,
        increasing,
        lambda node, r: _monotone_enclosure(node, r[0], lambda p: _gm_point(node, p)),
        _gm_numpy,
        lambda node, r: None if np.all(r[0].lo >= 0) else "geo_mean needs a nonnegative argument",
        cvxpy="geo_mean",
        arg_domain=lambda node, i: (0.0, False),
    )
)


# ---- matrix rows -------------------------------------------------------------------------------
def _quad_form_curvature(node: TExpr, r: list[IArray]) -> Curvature:
    p = node.args[1]
    if p.op != "constant":
        return (False, False, "quad_form needs a constant matrix")
    psd = psd_decision(p.value)
    nsd = psd_decision(p.value, negate=True)
    cvx = psd.accepted
    ccv = nsd.accepted
    why = "" if cvx or ccv else f"its matrix is neither PSD nor NSD ({psd.reason})"
    return (cvx, ccv, why)


def _quad_form_interval(node: TExpr, r: list[IArray]) -> IArray:
    x, p = node.args
    rx = r[0].reshape((x.size,))
    if p.op == "constant":
        px = iv.mul_const_matmul(np.asarray(p.value), rx)
    else:
        from convexcheck.tensor.atoms import interval_matmul

        px = interval_matmul(r[1], rx)
    return iv.sum(iv.mul(rx, px))


def _quad_form_numpy(node: TExpr, xs: list[np.ndarray]) -> np.ndarray:
    x, p = xs
    xb = x.reshape((x.shape[0], -1))
    if p.shape[0] == 1:
        return np.einsum("bi,bi->b", xb, xb @ p[0].T)
    return np.einsum("bi,bij,bj->b", xb, p, xb)


def _quad_form_mono(node: TExpr, i: int, r: list[IArray]) -> np.ndarray:
    if i == 1:
        return np.zeros(node.args[1].shape, dtype=np.int8)
    # with P >= 0 entrywise, d/dx_i x^T P x = 2 (P_sym x)_i has one sign only when every
    # entry of x has that sign (a single nonpositive x_i next to positive ones proves nothing)
    p = node.args[1]
    shape = node.args[0].shape
    if p.op == "constant" and np.all(p.value >= 0):
        if np.all(r[0].lo >= 0):
            return np.full(shape, INC, dtype=np.int8)
        if np.all(r[0].hi <= 0):
            return np.full(shape, DEC, dtype=np.int8)
    return np.zeros(shape, dtype=np.int8)


register(
    Row(
        "quad_form",
        "matrix",
        lambda shapes, params: (),
        _quad_form_curvature,
        _quad_form_mono,
        _quad_form_interval,
        _quad_form_numpy,
        cvxpy="quad_form",
    )
)


def psd_argument_reason(node: TExpr, *, strict: bool = False) -> str | None:
    """``None`` when ``node`` provably lies in the PSD cone over the whole domain."""
    if node.op == "variable":
        info = node.variable
        if info is not None and info.psd:
            return None
        return f"{info.name if info else 'the argument'} is not declared PSD (use PSD=True)"
    if node.op == "constant":
        if node.shape and len(node.shape) == 2:
            d = psd_decision(node.value)
            if d.accepted and (not strict or d.status == "pd"):
                return None
            return f"the constant matrix is not {'PD' if strict else 'PSD'} ({d.reason})"
        return "a non-matrix constant"
    if node.op == "add":
        reasons = [psd_argument_reason(a, strict=strict) for a in node.args]
        bad = [x for x in reasons if x]
        return bad[0] if bad else None
    if node.op == "promote":
        return "a promoted scalar is not a PSD matrix"
    if (
        node.op == "multiply"
        and node.args[0].op == "constant"
        and node.args[0].size == 1
        and float(np.ravel(node.args[0].value)[0]) >= 0
    ):
        return psd_argument_reason(node.args[1], strict=strict)
    return "its argument is not provably PSD (declare the matrix variable PSD=True)"


def _sym(x: np.ndarray) -> np.ndarray:
    return (x + np.swapaxes(x, -1, -2)) / 2


def _eig_numpy(node: TExpr, xs: list[np.ndarray]) -> np.ndarray:
    with np.errstate(all="ignore"):
        x = _sym(xs[0])
        if not np.all(np.isfinite(x)):
            return np.full(x.shape[0], np.nan)
        w = np.linalg.eigvalsh(x)
        if node.op == "lambda_max":
            return w[:, -1]
        if node.op == "log_det":
            return np.where(w[:, 0] > 0, np.sum(np.log(np.where(w > 0, w, 1.0)), axis=1), np.nan)
        if node.op == "lambda_sum_largest":
            return np.sum(w[:, ::-1][:, : int(node.params[0])], axis=1)
        if node.op == "tr_inv":
            return np.where(w[:, 0] > 0, np.sum(1.0 / np.where(w > 0, w, 1.0), axis=1), np.nan)
    raise AssertionError(node.op)


def _svd_numpy(node: TExpr, xs: list[np.ndarray]) -> np.ndarray:
    x = xs[0]
    if not np.all(np.isfinite(x)):
        return np.full(x.shape[0], np.nan)
    s = np.linalg.svd(x, compute_uv=False)
    return s[:, 0] if node.op == "sigma_max" else np.sum(s, axis=1)


def _gershgorin(r: IArray) -> IArray:
    """Rigorous bounds on lambda_max of the symmetric part: >= max diagonal entry,
    <= max absolute row/column sum."""
    n = r.shape[0]
    diag_lo = r.lo[np.arange(n), np.arange(n)]
    a = ew.ABS.image_of(r)
    rows = iv.sum(a, axis=1).hi
    cols = iv.sum(a, axis=0).hi
    hi = float(np.max(np.maximum(rows, cols)))
    lo = float(np.max(diag_lo))
    return IArray(
        np.asarray(lo), np.asarray(max(hi, lo)), np.asarray(np.isinf(lo)), np.asarray(np.isinf(hi))
    )


def _unbounded_above_zero(node: TExpr, r: list[IArray]) -> IArray:
    return IArray(np.asarray(0.0), np.asarray(np.inf), np.asarray(False), np.asarray(True))


def _reals(node: TExpr, r: list[IArray]) -> IArray:
    return IArray(np.asarray(-np.inf), np.asarray(np.inf), np.asarray(True), np.asarray(True))


def _square_matrix_shape(shapes, params):
    s = shapes[0]
    if len(s) != 2 or s[0] != s[1]:
        from convexcheck.errors import ConvexcheckInputError

        raise ConvexcheckInputError(f"expected a square matrix, got shape {s}")
    return ()


def _none_mono(node: TExpr, i: int, r: list[IArray]) -> np.ndarray:
    return np.zeros(node.args[i].shape, dtype=np.int8)


register(
    Row(
        "lambda_max",
        "matrix",
        _square_matrix_shape,
        lambda node, r: CONVEX,
        _none_mono,
        lambda node, r: _gershgorin(r[0]),
        _eig_numpy,
        cvxpy="lambda_max",
        description="largest eigenvalue of the symmetric part (X + X^T)/2",
    )
)


def _lambda_sum_largest_range(node: TExpr, r: list[IArray]) -> IArray:
    """Each of the k largest eigenvalues is at most lambda_max: the sum is <= k * lambda_max."""
    g = _gershgorin(r[0])
    hi = float(np.nextafter(float(g.hi) * int(node.params[0]), np.inf))
    return IArray(np.asarray(-np.inf), np.asarray(hi))


register(
    Row(
        "lambda_sum_largest",
        "matrix",
        lambda shapes, params: _square_matrix_shape(shapes, params),
        lambda node, r: CONVEX,
        _none_mono,
        _lambda_sum_largest_range,
        _eig_numpy,
        cvxpy="lambda_sum_largest",
        description="sum of the k largest eigenvalues of the symmetric part",
    )
)
register(
    Row(
        "log_det",
        "matrix",
        _square_matrix_shape,
        lambda node, r: CONCAVE,
        _none_mono,
        _reals,
        _eig_numpy,
        lambda node, r: psd_argument_reason(node.args[0]),
        cvxpy="log_det",
        arg_domain=lambda node, i: "psd",
        description="log det X on the PSD cone (-inf where singular)",
    )
)
register(
    Row(
        "tr_inv",
        "matrix",
        _square_matrix_shape,
        lambda node, r: CONVEX,
        _none_mono,
        _unbounded_above_zero,
        _eig_numpy,
        lambda node, r: psd_argument_reason(node.args[0]),
        cvxpy="tr_inv",
        arg_domain=lambda node, i: "psd",
        description="trace of the inverse on the PSD cone (+inf where singular)",
    )
)
for _name in ("sigma_max", "normNuc"):
    register(
        Row(
            _name,
            "matrix",
            lambda shapes, params: (),
            lambda node, r: CONVEX,
            _none_mono,
            _unbounded_above_zero,
            _svd_numpy,
            cvxpy=_name,
        )
    )


def _matrix_frac_numpy(node: TExpr, xs: list[np.ndarray]) -> np.ndarray:
    x, p = xs
    b = max(x.shape[0], p.shape[0])
    n = node.args[1].shape[0]
    xm = np.broadcast_to(
        x.reshape((x.shape[0], n, -1)), (b, n, x.reshape((x.shape[0], n, -1)).shape[2])
    )
    pm = np.broadcast_to(_sym(p), (b, n, n))
    with np.errstate(all="ignore"):
        w = np.linalg.eigvalsh(pm)
        ok = w[:, 0] > 0
        safe = np.where(ok[:, None, None], pm, np.eye(n))
        sol = np.linalg.solve(safe, xm)
        val = np.sum(xm * sol, axis=(1, 2))
    return np.where(ok, val, np.nan)


register(
    Row(
        "matrix_frac",
        "matrix",
        lambda shapes, params: (),
        lambda node, r: CONVEX,
        _none_mono,
        _unbounded_above_zero,
        _matrix_frac_numpy,
        lambda node, r: psd_argument_reason(node.args[1]),
        cvxpy="matrix_frac",
        arg_domain=lambda node, i: "psd" if i == 1 else None,
        description="tr(X^T P^-1 X) for P in the PSD cone (+inf where singular)",
    )
)

__all__ = [
    "AFFINE",
    "PSD_CONTEXT",
    "PSDContext",
    "psd_argument_reason",
    "psd_decision",
    "reduce_bits",
]
