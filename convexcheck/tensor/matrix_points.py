"""Values of the eigenvalue and singular-value atoms near a point, for checking witnesses.

A witness is reported only when the Jensen gap survives a rigorous evaluation at three points.
For ``lambda_max``, ``log_det``, ``tr_inv``, ``sigma_max``, ``normNuc`` and ``matrix_frac`` there
is no cheap interval arithmetic, so the argument box ``[lo, hi]`` is handled as a point plus a
perturbation:

* the eigenvalues (singular values) of the exact float matrix ``lo`` are computed with mpmath
  at 50 significant digits and taken to be within ``1e-30`` (relative) of the exact ones: this is
  the one trusted step, an independent high-precision evaluation rather than a proof;
* every matrix in the box differs from ``lo`` by at most ``hi - lo`` entrywise, so by Weyl's
  inequality each eigenvalue (singular value) moves by at most the Frobenius norm of ``hi - lo``,
  computed with upward rounding.

Sizes are capped (:data:`MAX_N`): beyond that the witness is not verified and the answer stays
``unknown``, which is sound.
"""

from __future__ import annotations

import math

import mpmath
import numpy as np

from convexcheck.tensor.expr import TExpr
from convexcheck.tensor.intervals import IArray

MATRIX_ROWS = frozenset(
    {"lambda_max", "lambda_sum_largest", "log_det", "tr_inv", "sigma_max", "normNuc", "matrix_frac"}
)
MAX_N = 40
DIGITS = 50
RELATIVE_TRUST = 1e-30


def _frobenius_up(r: IArray) -> float:
    width = np.nextafter(r.hi - r.lo, np.inf)
    total = float(np.sum(width * width)) * (1 + 1e-12) + 1e-300
    return math.nextafter(math.sqrt(total), math.inf) * (1 + 1e-12)


def _mp_matrix(a: np.ndarray) -> mpmath.matrix:
    return mpmath.matrix([[mpmath.mpf(float(v)) for v in row] for row in a])


def _interval(lo: mpmath.mpf, hi: mpmath.mpf) -> IArray:
    lo_f = float(lo) if mpmath.isfinite(lo) else -math.inf
    hi_f = float(hi) if mpmath.isfinite(hi) else math.inf
    lo_f = math.nextafter(lo_f, -math.inf) if math.isfinite(lo_f) else lo_f
    hi_f = math.nextafter(hi_f, math.inf) if math.isfinite(hi_f) else hi_f
    return IArray(np.asarray(lo_f), np.asarray(hi_f))


def _spread(v: mpmath.mpf, rho: float) -> tuple[mpmath.mpf, mpmath.mpf]:
    slack = abs(v) * RELATIVE_TRUST + mpmath.mpf(rho) + mpmath.mpf(10) ** (-DIGITS + 10)
    return v - slack, v + slack


def enclose_matrix_atom(node: TExpr, args: list[IArray]) -> tuple[IArray | None, str]:
    """``(enclosure, "")`` or ``(None, why not)`` for one matrix atom on argument boxes."""
    if any(not np.all(np.isfinite(a.lo)) or not np.all(np.isfinite(a.hi)) for a in args):
        return None, f"{node.op}: an argument is unbounded"
    n = node.args[-1].shape[0] if node.op == "matrix_frac" else node.args[0].shape[0]
    if n > MAX_N:
        return (
            None,
            f"{node.op} of a {n} x {n} matrix is beyond the verified-evaluation size {MAX_N}",
        )
    with mpmath.workdps(DIGITS):
        if node.op == "matrix_frac":
            return _matrix_frac(args)
        m = args[0]
        rho = _frobenius_up(m)
        a = _mp_matrix(m.lo)
        if node.op in ("sigma_max", "normNuc"):
            sv = mpmath.svd_r(a, compute_uv=False)
            values = sorted(sv[i] for i in range(len(sv)))
            pairs = [_spread(s, rho) for s in values]
            if node.op == "sigma_max":
                lo, hi = pairs[-1]
                return _interval(max(lo, 0), hi), ""
            return _interval(sum(max(p[0], 0) for p in pairs), sum(p[1] for p in pairs)), ""
        sym = (a + a.T) / 2
        ev = mpmath.eigsy(sym, eigvals_only=True)
        values = sorted(ev[i] for i in range(n))
        pairs = [_spread(v, rho) for v in values]
        if node.op == "lambda_max":
            return _interval(*pairs[-1]), ""
        if node.op == "lambda_sum_largest":
            top = pairs[::-1][: int(node.params[0])]
            return _interval(sum(p[0] for p in top), sum(p[1] for p in top)), ""
        if pairs[0][0] <= 0:
            return None, f"{node.op}: the matrix is not provably positive definite at this point"
        if node.op == "log_det":
            return _interval(
                sum(mpmath.log(p[0]) for p in pairs), sum(mpmath.log(p[1]) for p in pairs)
            ), ""
        return _interval(sum(1 / p[1] for p in pairs), sum(1 / p[0] for p in pairs)), ""


def _matrix_frac(args: list[IArray]) -> tuple[IArray | None, str]:
    x, p = args
    if not (np.all(x.lo == x.hi) and np.all(p.lo == p.hi)):
        return None, "matrix_frac is verified only at exact points"
    pm = _mp_matrix(p.lo)
    sym = (pm + pm.T) / 2
    ev = mpmath.eigsy(sym, eigvals_only=True)
    if min(ev[i] for i in range(len(ev))) <= mpmath.mpf(10) ** (-20):
        return None, "matrix_frac: P is not provably positive definite at this point"
    xm = x.lo.reshape((p.shape[0], -1))
    total = mpmath.mpf(0)
    for j in range(xm.shape[1]):
        col = mpmath.matrix([mpmath.mpf(float(v)) for v in xm[:, j]])
        sol = mpmath.lu_solve(sym, col)
        total += sum(col[i] * sol[i] for i in range(len(col)))
    lo, hi = _spread(total, 0.0)
    return _interval(lo, hi), ""
