"""Is the EXACT float64 matrix given positive semidefinite?

``quad_form(x, P)`` is convex iff the symmetric part ``S = (P + P^T)/2`` of ``P`` is PSD, and
users hand us float data: a Gram matrix ``A.T @ A`` computed in floating point is often
indefinite by ~1e-17. CVXPY silently accepts such a matrix up to a tolerance. We decide for the
exact matrix given (every float64 is a dyadic rational, so ``S`` is exact and is never rounded)
and say so; accepting "PSD up to rounding" is the caller's explicit choice (``tolerance``) and is
recorded as an assumption, never as a proof.

The ladder, cheapest sound step first:

1. ``n <= max_exact_n``: an exact decision by fraction-free elimination (:mod:`.psd_exact`),
   including singular PSD matrices; when not PSD, an exact direction rounded to float64 and
   re-verified exactly.
2. Larger ``n``: exact structure checks first (a negative diagonal entry, or a zero one with a
   nonzero entry in its row, refutes; zero rows are dropped, which is how a singular matrix can
   still be proved PSD); then a verified Cholesky test proves positive definiteness (theorem
   below); failing that, the eigenvector of the smallest eigenvalue is tried as a direction,
   its quadratic form bounded rigorously in floating point or evaluated exactly; otherwise
   "unknown".
3. ``tolerance``: an unproved or refuted matrix whose smallest eigenvalue estimate is
   ``>= -tolerance * max_ij |S_ij|`` (relative to the largest entry, so the test does not depend
   on the units of the data) is *accepted* with ``assumed=True``.

**Verified Cholesky (after Rump, "Verification of positive definiteness", BIT 2006).** Let ``A``
be a symmetric float64 matrix and suppose floating-point Cholesky runs to completion with a
finite ``R`` with positive diagonal. The standard error analysis (Demmel 1989; Higham, *Accuracy
and Stability of Numerical Algorithms*, Thm 10.3) gives ``R^T R = A + dA`` with
``|dA| <= gamma_{n+1} |R^T| |R|``, ``gamma_k = k u / (1 - k u)``, ``u = 2^-53``, for any order of
the inner products (blocked, FMA, a reciprocal in the triangular solve); LAPACK's ``potrf``,
which ``numpy.linalg.cholesky`` calls, evaluates these recurrences (a BLAS that solved triangular
systems through an explicit inverse would not be covered). We use ``gamma_K`` with
``K = 2n + 4`` as a margin, and add ``alpha = 8 (n + 2) 2^-1021 (1 + max_j r_jj)`` to every entry
of ``|dA|`` for underflow: each entry comes from at most ``2n + 2`` operations, each off by at
most ``2^-1022`` in absolute terms when it underflows (also under flush-to-zero), a division's
error multiplied by ``r_jj`` when moved across. Then, for a unit ``x``,
``x^T A x > -|x^T dA x| >= -(gamma ||R||_F^2 + n alpha)``, and the diagonal of ``R^T R`` gives
``||R||_F^2 <= (tr A + n alpha) / (1 - gamma)``, so (Rump's argument)

    ``lambda_min(A) > -B``,  ``B = gamma / (1 - gamma) (tr A + n alpha) + n alpha``.

We factor ``A = fl(H - c I)`` where ``H`` is the float64 symmetric part and ``c`` an a-priori
shift ``~ gamma tr(H)``. With ``|G_ii| <= u |A_ii| + 2^-1021`` the rounding of the shifted
diagonal and ``F >= ||S - H||_2`` (Gershgorin on an entrywise bound; 0 when ``P`` is symmetric),

    ``lambda_min(S) > c - max|G_ii| - F - B``,

and the right side is evaluated a posteriori in exact rationals from the computed ``A`` and ``R``.
When it is ``>= 0``, ``S`` is positive definite: the proof depends only on the error bound above,
not on the choice of ``c``.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field, replace
from fractions import Fraction
from typing import Any

import numpy as np

from convexcheck.tensor.psd_exact import ExactSymmetric, rational_to_float

__all__ = ["PSDDecision", "decide_nsd", "decide_psd"]

_U = Fraction(1, 2**53)  # unit roundoff of float64
_MU = Fraction(1, 2**1021)  # absolute error bound of one underflowing operation, with margin
_MAX_EIGH_N = 3000  # above this, no O(n^3) eigen-decomposition unless a tolerance needs it
_MAX_EXACT_CHECK_N = 2000  # exact evaluation of v^T S v: 4 n^2 error-free terms
_NEAR_ZERO = 64.0  # |lambda| <= 64 n eps max|S_ij| counts as "within rounding of 0"


@dataclass(frozen=True)
class PSDDecision:
    """The answer for one matrix, with the evidence and the caveat that go with it.

    ``status``: ``"pd"``, ``"psd"`` (proved PSD, maybe singular), ``"not_psd"`` (proved: an exact
    ``v`` with ``v^T S v < 0`` exists; ``direction`` holds a float64 one when one verified), or
    ``"unknown"``. With ``assumed=True`` the status is ``"psd"`` only because ``tolerance``
    accepted it. ``min_eigenvalue`` is a float *estimate* (``numpy.linalg.eigvalsh``; NaN when
    not computed) for messages only. For :func:`decide_nsd` every field refers to ``-S``.
    """

    status: str
    method: str
    min_eigenvalue: float
    reason: str
    assumed: bool = False
    tolerance: float | None = None
    direction: np.ndarray | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.direction is not None:
            self.direction.flags.writeable = False  # frozen means frozen

    @property
    def proved_psd(self) -> bool:
        """PSD (or PD) proved for the exact matrix, with no tolerance involved."""
        return self.status in ("pd", "psd") and not self.assumed

    @property
    def accepted(self) -> bool:
        """Proved PSD, or accepted as PSD under the caller's tolerance."""
        return self.proved_psd or self.assumed

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready rendering (the direction as a list of floats)."""
        return {
            "status": self.status,
            "method": self.method,
            "min_eigenvalue": self.min_eigenvalue,
            "reason": self.reason,
            "assumed": self.assumed,
            "tolerance": self.tolerance,
            "direction": None if self.direction is None else self.direction.tolist(),
        }


@dataclass(frozen=True)
class _Kind:
    """Wording for PSD versus NSD, so both read naturally in messages."""

    name: str
    definite: str
    extreme: str  # which eigenvalue of S the decision is about
    sign: float  # eigenvalue of S = sign * eigenvalue of the matrix decided


_PSD = _Kind("PSD", "positive definite", "smallest", 1.0)
_NSD = _Kind("NSD", "negative definite", "largest", -1.0)


def decide_psd(
    P: np.ndarray, *, tolerance: float | None = None, max_exact_n: int = 60
) -> PSDDecision:
    """Decide whether the symmetric part of the exact float64 matrix ``P`` is PSD.

    Raises ``ValueError`` (one line) for a matrix that is not real, finite, 2-D and square, for a
    negative or non-finite ``tolerance`` and for a negative ``max_exact_n``.
    """
    return _decide(_as_matrix(P), tolerance, max_exact_n, _PSD)


def decide_nsd(
    P: np.ndarray, *, tolerance: float | None = None, max_exact_n: int = 60
) -> PSDDecision:
    """Decide whether the symmetric part of ``P`` is negative semidefinite, as PSD of ``-P``
    (negation is exact); the fields of the result refer to ``-S``."""
    return _decide(-_as_matrix(P), tolerance, max_exact_n, _NSD)


def _as_matrix(P: Any) -> np.ndarray:
    """The input as a C-contiguous float64 array, refusing anything that float64 would change."""
    A = np.asarray(P)
    if A.ndim != 2 or A.shape[0] != A.shape[1]:
        raise ValueError(f"expected a square 2-D matrix, got shape {A.shape}")
    if A.dtype.kind not in "biuf":
        raise ValueError(f"expected a real numeric matrix, got dtype {A.dtype}")
    F = np.array(A, dtype=np.float64, order="C")
    if not np.isfinite(F).all():
        raise ValueError("the matrix has NaN or infinite entries")
    if A.dtype.kind in "iu" and A.size and int(np.abs(A).max()) > 2**53:
        big = np.abs(A) > 2**53
        if any(int(x) != int(y) for x, y in zip(A[big].tolist(), F[big].tolist())):
            raise ValueError("the integer matrix is not exactly representable in float64")
    if A.dtype.kind == "f" and A.dtype.itemsize > 8 and not np.array_equal(F.astype(A.dtype), A):
        raise ValueError(f"the {A.dtype} matrix is not exactly representable in float64")
    return F


def _decide(A: np.ndarray, tolerance: Any, max_exact_n: Any, kind: _Kind) -> PSDDecision:
    tol = _check_tolerance(tolerance)
    if isinstance(max_exact_n, bool) or not isinstance(max_exact_n, (int, np.integer)):
        raise ValueError(f"max_exact_n must be an integer, got {max_exact_n!r}")
    if max_exact_n < 0:
        raise ValueError(f"max_exact_n must be >= 0, got {max_exact_n}")
    n = A.shape[0]
    if n == 0:
        return PSDDecision("pd", "exact-ldl", math.inf, "empty matrix: vacuously positive definite")
    symmetric = bool(np.array_equal(A, A.T))
    H = A if symmetric else A * 0.5 + A.T * 0.5  # float symmetric part (exactly S if symmetric)
    if n <= max_exact_n:
        decision = _exact(A, H, kind)
    else:
        decision = _large(A, H, symmetric, kind)
    return _apply_tolerance(decision, tol, H, kind)


def _check_tolerance(tolerance: Any) -> float | None:
    if tolerance is None:
        return None
    try:
        tol = float(tolerance)
    except (TypeError, ValueError):
        raise ValueError(f"psd_tolerance must be a number, got {tolerance!r}") from None
    if not math.isfinite(tol) or tol < 0:
        raise ValueError(f"psd_tolerance must be finite and >= 0, got {tolerance!r}")
    return tol


def _min_eig(H: np.ndarray) -> float:
    return float(np.linalg.eigvalsh(H)[0])


def _eig_phrase(lam: float, H: np.ndarray, kind: _Kind) -> str:
    """``"smallest eigenvalue -1.3e-17 is within rounding of 0"``-style wording (of ``S``)."""
    if math.isnan(lam):
        return f"{kind.extreme} eigenvalue not estimated"
    text = f"{kind.extreme} eigenvalue {kind.sign * lam:.3g}"
    scale = float(np.abs(H).max())
    if abs(lam) <= _NEAR_ZERO * H.shape[0] * 2.0**-52 * scale:
        text += " is within rounding of 0"
    return text


# ----------------------------------------------------------------------------- exact (small n)


def _exact(A: np.ndarray, H: np.ndarray, kind: _Kind) -> PSDDecision:
    """Exact elimination; a float direction is searched for only when the matrix is not PSD."""
    n = A.shape[0]
    lam = _min_eig(H)
    exact = ExactSymmetric(A)
    result = exact.decide()
    if result.status == "pd":
        reason = f"exact LDL^T: all {n} pivots positive; the exact matrix is {kind.definite}"
        return PSDDecision("pd", "exact-ldl", lam, reason)
    if result.status == "psd":
        reason = (
            f"exact LDL^T: pivots >= 0 (rank {result.rank} of {n}); "
            f"the exact matrix is {kind.name} and singular"
        )
        return PSDDecision("psd", "exact-ldl", lam, reason)
    assert result.direction is not None
    candidates = [lambda: rational_to_float(result.direction)]
    candidates.append(lambda: np.linalg.eigh(H)[1][:, 0].copy())
    direction = None
    for make in candidates:
        v = make()
        if np.isfinite(v).all() and v.any() and exact.quadratic_sign(v) < 0:
            direction = v
            break
    found = "" if direction is not None else " (no float64 direction verified)"
    reason = (
        f"{_eig_phrase(lam, H, kind)}; exact LDL^T found {result.failure}: "
        f"the exact matrix is not {kind.name}{found}"
    )
    return PSDDecision("not_psd", "exact-ldl", lam, reason, direction=direction)


# ----------------------------------------------------------------------------- large n


def _large(A: np.ndarray, H: np.ndarray, symmetric: bool, kind: _Kind) -> PSDDecision:
    """Structure checks, verified Cholesky, then an eigenvector as a candidate direction."""
    n = A.shape[0]
    diag = np.diag(A).copy()  # S_ii = P_ii exactly
    if (diag < 0).any():
        i = int(np.argmin(diag))
        v = np.zeros(n)
        v[i] = 1.0
        reason = f"S[{i},{i}] = {diag[i]:.3g} < 0: the exact matrix is not {kind.name}"
        return PSDDecision("not_psd", "exact-direction", math.nan, reason, direction=v)
    zero_rows = (A == -A.T).all(axis=1)  # rows of S that are exactly 0
    bad = np.flatnonzero((diag == 0) & ~zero_rows)
    if bad.size:
        return _zero_diagonal(A, int(bad[0]), kind)
    keep = np.flatnonzero(~zero_rows)
    if keep.size == 0:
        reason = f"every entry of the symmetric part is 0: the exact matrix is {kind.name}"
        return PSDDecision("psd", "exact-structure", 0.0, reason)
    do_eigh = n <= _MAX_EIGH_N
    offset = 0.0 if symmetric else _asymmetry_bound(H)
    Hk = H[np.ix_(keep, keep)] if keep.size < n else H
    shift = _verified_cholesky(Hk, offset)
    if shift is not None:
        lam = _min_eig(H) if do_eigh else math.nan
        status = "pd" if keep.size == n else "psd"
        what = kind.definite if status == "pd" else f"{kind.name} ({n - keep.size} zero rows)"
        reason = (
            f"Cholesky of S - c*I succeeded with c = {shift:.3g}, which proves the exact matrix "
            f"{what}; {_eig_phrase(lam, H, kind)}"
        )
        return PSDDecision(status, "verified-cholesky", lam, reason)
    if not do_eigh:
        reason = (
            f"verified Cholesky failed and n = {n} > {_MAX_EIGH_N}: no eigen-decomposition "
            f"attempted; {kind.name} unproved"
        )
        return PSDDecision("unknown", "eigenvalue", math.nan, reason)
    w, V = np.linalg.eigh(H)
    lam = float(w[0])
    v = _prepare_direction(V[:, 0])
    if v is not None and (
        _negative_by_bound(A, v) or (n <= _MAX_EXACT_CHECK_N and _negative_exactly(A, v))
    ):
        reason = (
            f"{_eig_phrase(lam, H, kind)}; its eigenvector v has v^T S v < 0 (verified): "
            f"the exact matrix is not {kind.name}"
        )
        return PSDDecision("not_psd", "exact-direction", lam, reason, direction=v)
    reason = (
        f"{_eig_phrase(lam, H, kind)}: verified Cholesky failed and no direction with "
        f"v^T S v < 0 was verified (n = {n} is above max_exact_n); {kind.name} unknown"
    )
    return PSDDecision("unknown", "eigenvalue", lam, reason)


def _zero_diagonal(A: np.ndarray, i: int, kind: _Kind) -> PSDDecision:
    """``S_ii = 0`` but ``S_ij != 0``: ``v = t e_i + e_j`` has ``v^T S v = 2 t S_ij + S_jj``,
    negative for a power of two ``t`` of the right sign and size."""
    row = A[i] != -A[:, i]
    j = int(np.flatnonzero(row)[0])
    sij = (Fraction(A[i, j]) + Fraction(A[j, i])) / 2
    sjj = Fraction(A[j, j])
    k = 0
    while 2 * Fraction(2) ** k * abs(sij) <= sjj:
        k += 1
    t = (-1.0 if sij > 0 else 1.0) * 2.0**k if k <= 1023 else None
    direction = None
    if t is not None:
        value = 2 * Fraction(t) * sij + sjj
        if value < 0:
            direction = np.zeros(A.shape[0])
            direction[i], direction[j] = t, 1.0
    reason = (
        f"S[{i},{i}] = 0 but S[{i},{j}] = {float(sij):.3g} != 0: the 2x2 principal submatrix is "
        f"indefinite, so the exact matrix is not {kind.name}"
    )
    return PSDDecision("not_psd", "exact-direction", math.nan, reason, direction=direction)


def _gamma(k: int) -> Fraction:
    return k * _U / (1 - k * _U)


def _up(x: Fraction) -> float:
    """The smallest float64 >= ``x`` (inf when out of range)."""
    try:
        f = float(x)
    except OverflowError:
        return math.inf
    if Fraction(f) < x:
        f = math.nextafter(f, math.inf)
    return f


def _asymmetry_bound(H: np.ndarray) -> Fraction:
    """An upper bound on ``||S - H||_2`` for ``H = fl(P/2 + P^T/2)``.

    Per entry ``|S_ij - H_ij| <= 2u |H_ij| + 4 mu`` (two halvings and one addition, each
    possibly underflowing), and ``||E||_2 <= max row sum of |E|`` for symmetric ``E``; the
    float row sums of nonnegative terms are low by at most a factor ``1 - gamma_n``.
    """
    n = H.shape[0]
    rows = Fraction(float(np.abs(H).sum(axis=1).max()))
    rows = rows / (1 - _gamma(n)) + n * _MU
    return 2 * _U * rows + 4 * n * _MU


def _verified_cholesky(H: np.ndarray, offset: Fraction) -> float | None:
    """The shift ``c`` if Cholesky of ``fl(H - cI)`` proves ``S`` PD (module docstring), else
    None. ``offset`` bounds ``||S - H||_2``."""
    n = H.shape[0]
    d = np.diag(H)
    gam = _gamma(2 * n + 4)
    factor = gam / (1 - gam)
    top = float(d.max())
    if top <= 0:
        return None
    r_est = Fraction(2 * math.sqrt(top) + 1)
    alpha_est = 8 * (n + 2) * _MU * (1 + r_est)
    trace = sum((Fraction(x) for x in d.tolist()), Fraction(0))
    c0 = factor * (trace + n * alpha_est) + n * alpha_est + offset + 2 * _U * Fraction(top) + _MU
    c = _up(c0 * (1 + Fraction(1, 1024)))
    if not math.isfinite(c):
        return None
    shifted = H.copy()
    shifted[np.diag_indices(n)] = d - c
    try:
        R = np.linalg.cholesky(shifted)
    except np.linalg.LinAlgError:
        return None
    r = np.diag(R)
    if not np.isfinite(R).all() or not (r > 0).all():
        return None
    a = np.diag(shifted)
    alpha = 8 * (n + 2) * _MU * (1 + Fraction(float(r.max())))
    trace_a = sum((Fraction(x) for x in a.tolist()), Fraction(0))
    g = _U * Fraction(float(np.abs(a).max())) + _MU
    bound = factor * (trace_a + n * alpha) + n * alpha
    lower = Fraction(c) - g - offset - bound
    return c if lower >= 0 else None


def _prepare_direction(v: np.ndarray) -> np.ndarray | None:
    """Scale ``v`` by a power of two so ``max |v_i|`` is in [1/2, 1) and zero its entries below
    ``2^-200``: the direction is free, and this keeps both checks below inside their
    error-free ranges."""
    if not np.isfinite(v).all() or not v.any():
        return None
    e = math.frexp(float(np.abs(v).max()))[1]
    v = np.ldexp(v, -e)
    v[np.abs(v) < 2.0**-200] = 0.0
    return v


def _negative_by_bound(A: np.ndarray, v: np.ndarray) -> bool:
    """``v^T S v = v^T P v < 0`` proved by a rigorous floating-point bound.

    With ``q = fl(v^T fl(P v))`` and ``t = fl(|v|^T fl(|P| |v|))``: any-order dot products give
    ``|q - v^T P v| <= gamma_{2n} T + a`` and ``T <= (t + a) / (1 - gamma_{2n})`` for
    ``T = |v|^T |P| |v|``, where ``a = 8 (n + 1)^2 mu`` covers underflow (``|v_i| <= 1``).
    """
    n = v.size
    q = float(v @ (A @ v))
    av = np.abs(v)
    t = float(av @ (np.abs(A) @ av))
    if not (math.isfinite(q) and math.isfinite(t)):
        return False
    gam = _gamma(2 * n + 2)
    a = 8 * (n + 1) ** 2 * _MU
    upper = Fraction(q) + gam * (Fraction(t) + a) / (1 - gam) + a
    return upper < 0


def _split(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    c = 134217729.0 * x  # 2^27 + 1 (Veltkamp)
    hi = c - (c - x)
    return hi, x - hi


def _two_product(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Dekker: ``a * b = p + e`` exactly when nothing overflows and the exponents of ``a``
    and ``b`` sum to at least -970 (no underflow); callers keep inside that range."""
    p = a * b
    ah, al = _split(a)
    bh, bl = _split(b)
    e = ((ah * bh - p) + ah * bl + al * bh) + al * bl
    return p, e


def _negative_exactly(A: np.ndarray, v: np.ndarray) -> bool:
    """The exact sign of ``v^T P v`` from error-free products summed by ``math.fsum``.

    ``P`` is scaled by a power of two so its largest entry is in ``[2^400, 2^401)`` and refused
    when its nonzero entries span more than ``2^400`` (that scaling must be exact); ``v`` has
    entries 0 or in ``[2^-200, 1)``. Then ``v_i v_j = p + q`` and ``P_ij p``, ``P_ij q`` split
    exactly (every exponent sum is far above -970, no value comes near underflow, so even a
    flush-to-zero mode cannot interfere), and ``fsum`` of the ``4 n^2`` float terms is their
    correctly rounded exact sum, whose sign is the exact sign.
    """
    mags = np.abs(A)
    top = float(mags.max())
    if top == 0:
        return False
    low = float(mags[mags > 0].min())
    e_top, e_low = math.frexp(top)[1], math.frexp(low)[1]
    if e_top - e_low > 399:
        return False
    As = np.ldexp(A, 401 - e_top)
    n = v.size

    def terms() -> Any:
        for i0 in range(0, n, 128):
            p, q = _two_product(v[i0 : i0 + 128, None], v[None, :])
            block = As[i0 : i0 + 128]
            for part in (*_two_product(block, p), *_two_product(block, q)):
                yield part.ravel().tolist()

    return math.fsum(itertools.chain.from_iterable(terms())) < 0


# ----------------------------------------------------------------------------- tolerance


def _apply_tolerance(
    decision: PSDDecision, tol: float | None, H: np.ndarray, kind: _Kind
) -> PSDDecision:
    """Accept an unproved or refuted matrix when ``lambda_min >= -tol * max_ij |S_ij|``.

    A proved result is never changed; the acceptance is marked ``assumed=True``.
    """
    if tol is None or decision.status in ("pd", "psd"):
        return decision
    lam = decision.min_eigenvalue
    if math.isnan(lam):
        lam = _min_eig(H)
    scale = float(np.abs(H).max())
    limit = -tol * scale
    exact = (
        f"the exact matrix is not {kind.name}"
        if decision.status == "not_psd"
        else f"{kind.name} of the exact matrix is unproved"
    )
    ev = f"{kind.extreme} eigenvalue {kind.sign * lam:.3g}"
    if lam >= limit:
        reason = (
            f"accepted as {kind.name} with psd_tolerance={tol:g}: {ev} is within "
            f"{tol:g} * max|S_ij| = {abs(limit):.3g} of 0; {exact}"
        )
        return replace(
            decision,
            status="psd",
            method="tolerance",
            min_eigenvalue=lam,
            reason=reason,
            assumed=True,
            tolerance=tol,
        )
    reason = f"{decision.reason}; psd_tolerance={tol:g} does not cover it ({ev})"
    return replace(decision, min_eigenvalue=lam, reason=reason, tolerance=tol)
