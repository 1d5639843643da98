"""Elementwise scalar functions on arrays: their facts read, vectorised, from one table.

The scalar atom table (:mod:`convexcheck.symbolic.atoms`) already declares, for ``exp``, ``log``,
``Abs``, the softplus, ``x*log(x)`` and every power ``u**p``, the pieces of the real line on
which each is convex/concave and nondecreasing/nonincreasing, its domain and its image. This
module turns those declarations into NumPy arrays so that a vector argument with 10^5 entries
gets its per-entry curvature, monotonicity and range in a few vectorised passes instead of
10^5 calls; the facts themselves are not restated (one source of truth, one set of tests). The
few CVXPY atoms the scalar table lacks (``huber``, ``xexp``, ``entr``) are declared here in the
same piece form.

Per-entry codes: :data:`INC`, :data:`DEC` (monotonicity), :data:`CVX`, :data:`CCV` (curvature),
combined as bit flags; ``INC | DEC`` means constant on that entry's range (a point), and 0 means
the entry's range meets pieces that disagree.

Rigour: a piece boundary is widened outward to floats before comparing (a range *might* meet a
piece unless it provably does not), and every image end is the float value at a float endpoint
widened by :data:`ULPS` ulps, then clipped to the atom's declared image.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache

import numpy as np

from convexcheck.symbolic import atoms as scalar_atoms
from convexcheck.symbolic.interval import INF, Interval, float_down, float_up
from convexcheck.tensor.intervals import IArray

INC, DEC = 1, 2  # monotonicity bits
CVX, CCV = 1, 2  # curvature bits
ULPS = 8  # libm and NumPy elementary functions are within 4 ulps; 8 float steps cover that
# even where the spacing halves at a power of two

_LABEL_BITS = {
    scalar_atoms.INCREASING: INC,
    scalar_atoms.DECREASING: DEC,
    scalar_atoms.CONVEX: CVX,
    scalar_atoms.CONCAVE: CCV,
    scalar_atoms.AFFINE: CVX | CCV,
}


@dataclass(frozen=True)
class Piece:
    lo: float  # outward-rounded float bounds of the piece
    hi: float
    bits: int


@dataclass(frozen=True)
class Elementwise:
    """One elementwise function: its vectorised evaluation and its declared facts."""

    name: str
    fn: Callable[[np.ndarray], np.ndarray]
    domain: tuple[tuple[float, float, bool, bool], ...]  # (lo, hi, lo_open, hi_open) pieces
    image: tuple[float, float, bool, bool]
    curvature: tuple[Piece, ...]
    monotonicity: tuple[Piece, ...]
    limits: tuple[float, float]  # values at -inf and +inf (nan: not defined there)
    exact_points: tuple[tuple[float, float], ...] = ()
    cvxpy: str = ""
    exponent: Fraction | None = None
    # the limit at 0 from the left where it differs from fn(0.0) (x**-3 -> -inf, np.power
    # gives +inf, the limit from the right)
    left_of_zero: float | None = None
    # an absolute error bound of fn(x) beyond the ULPS widening, where float evaluation can
    # be worse (x**p with p not a float; x*exp(x) when exp(x) is subnormal)
    extra_error: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None

    # ---- per-entry facts ------------------------------------------------------------------
    def in_domain(self, r: IArray) -> np.ndarray:
        """Per entry: the range lies inside one piece of the domain."""
        ok = np.zeros(r.shape, dtype=bool)
        for lo, hi, lo_open, hi_open in self.domain:
            above = (r.lo > lo) | ((r.lo == lo) & (r.lo_open | (not lo_open)))
            below = (r.hi < hi) | ((r.hi == hi) & (r.hi_open | (not hi_open)))
            ok |= above & below
        return ok

    def _label_bits(self, pieces: tuple[Piece, ...], r: IArray) -> np.ndarray:
        point = (r.lo == r.hi) & ~r.lo_open & ~r.hi_open
        agree = np.full(r.shape, 3, dtype=np.int8)
        touched = np.zeros(r.shape, dtype=bool)
        for p in pieces:
            meets = ~((p.hi <= r.lo) | (p.lo >= r.hi))
            agree = np.where(meets, agree & p.bits, agree)
            touched |= meets
        agree = np.where(touched, agree, 0)
        return np.where(point, 3, agree).astype(np.int8)

    def curvature_bits(self, r: IArray) -> np.ndarray:
        return self._label_bits(self.curvature, r)

    def monotonicity_bits(self, r: IArray) -> np.ndarray:
        return self._label_bits(self.monotonicity, r)

    # ---- ranges ---------------------------------------------------------------------------
    def image_of(self, r: IArray) -> IArray:
        """A rigorous per-entry enclosure of ``fn`` over ``r`` (entries in the domain)."""
        lo_out = np.full(r.shape, np.inf)
        hi_out = np.full(r.shape, -np.inf)
        for p in self.monotonicity:
            a = np.maximum(r.lo, p.lo)
            b = np.minimum(r.hi, p.hi)
            # a piece touching the range only at an open end does not meet it
            meets = (a < b) | ((a == b) & ~((a == r.hi) & r.hi_open) & ~((a == r.lo) & r.lo_open))
            if not np.any(meets):
                continue
            left = (b == 0) & (p.hi <= 0) if self.left_of_zero is not None else None
            fa, fb = self._at(a, down=True), self._at(b, down=True, left_of_zero=left)
            ga, gb = self._at(a, down=False), self._at(b, down=False, left_of_zero=left)
            if p.bits == INC:
                lo_p, hi_p = fa, gb
            elif p.bits == DEC:
                lo_p, hi_p = fb, ga
            else:  # pragma: no cover - monotonicity pieces are INC or DEC
                lo_p, hi_p = np.full(r.shape, -np.inf), np.full(r.shape, np.inf)
            lo_out = np.where(meets, np.minimum(lo_out, lo_p), lo_out)
            hi_out = np.where(meets, np.maximum(hi_out, hi_p), hi_out)
        empty = lo_out > hi_out
        img_lo, img_hi, img_lo_open, img_hi_open = self.image
        lo_out = np.where(empty, img_lo, lo_out)
        hi_out = np.where(empty, img_hi, hi_out)
        lo_open = np.zeros(r.shape, dtype=bool)
        hi_open = np.zeros(r.shape, dtype=bool)
        clip_lo = lo_out <= img_lo
        clip_hi = hi_out >= img_hi
        lo_out = np.where(clip_lo, img_lo, lo_out)
        hi_out = np.where(clip_hi, img_hi, hi_out)
        # a value of -inf (log at 0) or +inf is only reached outside the domain; keep the
        # enclosure a valid nonempty interval there
        big = np.finfo(np.float64).max
        hi_out = np.where(hi_out == -np.inf, -big, hi_out)
        lo_out = np.where(lo_out == np.inf, big, lo_out)
        lo_out = np.minimum(lo_out, hi_out)
        lo_open = np.where(clip_lo, img_lo_open, lo_open) | np.isinf(lo_out)
        hi_open = np.where(clip_hi, img_hi_open, hi_open) | np.isinf(hi_out)
        return IArray(lo_out, hi_out, lo_open, hi_open)

    def _at(self, x: np.ndarray, down: bool, left_of_zero: np.ndarray | None = None) -> np.ndarray:
        with np.errstate(all="ignore"):
            v = self.fn(x)
        exact = np.zeros(x.shape, dtype=bool)
        # limits at infinity are exact values of the extended function: not widened
        if not math.isnan(self.limits[0]):
            v = np.where(x == -np.inf, self.limits[0], v)
            exact |= x == -np.inf
        if not math.isnan(self.limits[1]):
            v = np.where(x == np.inf, self.limits[1], v)
            exact |= x == np.inf
        if left_of_zero is not None:
            v = np.where(left_of_zero, self.left_of_zero, v)
        for at, value in self.exact_points:
            hit = x == at
            v = np.where(hit, value, v)
            exact |= hit
        direction = -np.inf if down else np.inf
        w = v
        for _ in range(ULPS):
            w = np.nextafter(w, direction)
        if self.extra_error is not None:
            with np.errstate(all="ignore"):
                err = self.extra_error(x, v)
                w = np.where(np.isfinite(v), w - err if down else w + err, w)
        w = np.where(exact | np.isinf(v), v, w)
        # NaN (undefined at that end) means nothing is known: the safe infinite end
        return np.where(np.isnan(w), direction, w)


def _pieces_from(pieces) -> tuple[Piece, ...]:
    out = []
    for p in pieces:
        lo = -INF if p.lo.lo == -INF else float_down(p.lo.lo)
        hi = INF if p.hi.hi == INF else float_up(p.hi.hi)
        out.append(Piece(lo, hi, _LABEL_BITS[p.label]))
    return tuple(out)


def _interval_tuple(r: Interval) -> tuple[float, float, bool, bool]:
    lo = -INF if r.lo == -INF else float_down(r.lo)
    hi = INF if r.hi == INF else float_up(r.hi)
    # an end rounded outward is no longer the exact end: it is then closed (a superset)
    lo_open = bool(r.lo_open) and (lo == r.lo or math.isinf(lo))
    hi_open = bool(r.hi_open) and (hi == r.hi or math.isinf(hi))
    return lo, hi, lo_open, hi_open


def _domain_for_facts(r: Interval) -> tuple[float, float, bool, bool]:
    """A domain piece rounded *inward* (a range must provably lie inside the true domain)."""
    lo = -INF if r.lo == -INF else float_up(r.lo)
    hi = INF if r.hi == INF else float_down(r.hi)
    lo_open = bool(r.lo_open) and lo == r.lo
    hi_open = bool(r.hi_open) and hi == r.hi
    return lo, hi, lo_open, hi_open


def from_scalar_atom(
    atom: scalar_atoms.UnaryAtom, fn=None, cvxpy: str | None = None, exact_points=()
) -> Elementwise:
    """The elementwise row of a scalar atom row: its facts, and by default the row's NumPy
    ufunc and CVXPY name (``fn``/``cvxpy`` for the atoms whose rows name neither)."""
    lim = atom.limits or (math.nan, math.nan)
    if fn is None:
        fn = getattr(np, atom.numpy)  # type: ignore[arg-type]
    return Elementwise(
        name=atom.name,
        fn=fn,
        domain=tuple(_domain_for_facts(d) for d in atom.domain),
        image=_interval_tuple(atom.image),
        curvature=_pieces_from(atom.curvature),
        monotonicity=_pieces_from(atom.monotonicity),
        limits=(float(lim[0]), float(lim[1])),
        exact_points=tuple(exact_points),
        cvxpy=cvxpy if cvxpy is not None else atom.cvxpy_name,  # type: ignore[arg-type]
        exponent=Fraction(atom.exponent) if atom.exponent is not None else None,
    )


def _xlogx(x: np.ndarray) -> np.ndarray:
    with np.errstate(all="ignore"):
        return np.where(
            x == 0, 0.0, x * np.log(np.where(x > 0, x, 1.0)) + np.where(x < 0, np.nan, 0)
        )


def _softplus(x: np.ndarray) -> np.ndarray:
    return np.logaddexp(0.0, x)


_U = scalar_atoms.UNARY_ATOMS
EXP = from_scalar_atom(_U["exp"], exact_points=((0.0, 1.0),))
LOG = from_scalar_atom(_U["log"], exact_points=((1.0, 0.0),))
ABS = from_scalar_atom(_U["Abs"], exact_points=((0.0, 0.0),))
LOGISTIC = from_scalar_atom(_U["logistic"], _softplus)
XLOGX = from_scalar_atom(_U["xlogx"], _xlogx, exact_points=((0.0, 0.0), (1.0, 0.0)))


@lru_cache(maxsize=256)
def power(p: Fraction) -> Elementwise:
    """``u**p`` for rational ``p`` not 0 or 1 (facts from the scalar table's derivation)."""
    p = Fraction(p)
    atom = scalar_atoms.power_atom(p)
    pf = float(p)
    if p.denominator == 1:
        n = p.numerator

        def fn(x: np.ndarray, n=n) -> np.ndarray:
            with np.errstate(all="ignore"):
                return np.power(x, float(n))
    elif p == Fraction(1, 2):
        fn = np.sqrt
    else:

        def fn(x: np.ndarray, pf=pf) -> np.ndarray:
            with np.errstate(all="ignore"):
                return np.where(x < 0, np.nan, np.power(np.maximum(x, 0.0), pf))

    exact_points = [(1.0, 1.0)]
    if p > 0:
        exact_points.append((0.0, 0.0))
    facts = from_scalar_atom(atom, fn, "power", exact_points)
    left = None
    if p.denominator == 1 and p < 0:
        left = -INF if p.numerator % 2 else INF
    extra = None
    delta = abs(p - Fraction(pf))
    if delta != 0:
        # x**float(p) = x**p * x**(float(p) - p): off by a relative |ln x| * |float(p) - p|
        bound = float(delta) * 1.0001 + 1e-300

        def extra(x: np.ndarray, v: np.ndarray, bound=bound) -> np.ndarray:
            ln = np.abs(np.log(np.where(x > 0, x, 1.0)))
            return np.abs(v) * (ln * bound * 2.0) + 1e-320

    from dataclasses import replace

    if p < 0:
        limits = (0.0, 0.0)
    elif p.denominator == 1:
        limits = (INF if p.numerator % 2 == 0 else -INF, INF)
    else:
        limits = (math.nan, INF)
    return replace(facts, left_of_zero=left, extra_error=extra, limits=limits)


def _huber_fn(m: float) -> Callable[[np.ndarray], np.ndarray]:
    def fn(x: np.ndarray) -> np.ndarray:
        a = np.abs(x)
        with np.errstate(all="ignore"):
            return np.where(a <= m, x * x, 2 * m * a - m * m)

    return fn


@lru_cache(maxsize=64)
def huber(m: float) -> Elementwise:
    """CVXPY's ``huber(x, M)``: ``x**2`` for ``|x| <= M``, ``2M|x| - M**2`` beyond; convex,
    decreasing on x <= 0 and increasing on x >= 0, never negative."""
    return Elementwise(
        name=f"huber(M={m!r})",
        fn=_huber_fn(m),
        domain=((-INF, INF, True, True),),
        image=(0.0, INF, False, True),
        curvature=(Piece(-INF, INF, CVX),),
        monotonicity=(Piece(-INF, 0.0, DEC), Piece(0.0, INF, INC)),
        limits=(INF, INF),
        exact_points=((0.0, 0.0),),
        cvxpy="huber",
    )


def _xexp(x: np.ndarray) -> np.ndarray:
    with np.errstate(all="ignore"):
        return np.where(x == -np.inf, 0.0, x * np.exp(x))


# x*exp(x): f' = (1+x)e^x, f'' = (2+x)e^x; minimum -1/e at x = -1.
XEXP = Elementwise(
    name="xexp",
    fn=_xexp,
    domain=((-INF, INF, True, True),),
    image=(-0.36787944117144245, INF, False, True),  # -1/e rounded down
    curvature=(Piece(-INF, -2.0, CCV), Piece(-2.0, INF, CVX)),
    monotonicity=(Piece(-INF, -1.0, DEC), Piece(-1.0, INF, INC)),
    limits=(0.0, INF),
    exact_points=((0.0, 0.0),),
    cvxpy="xexp",
    # where exp(x) is subnormal its absolute error is up to a few 2**-1074, times |x|
    extra_error=lambda x, v: np.where(x < -700, (np.abs(x) + 1.0) * 16 * 5e-324, 0.0),
)

ELEMENTWISE: dict[str, Elementwise] = {
    "exp": EXP,
    "log": LOG,
    "abs": ABS,
    "logistic": LOGISTIC,
    "xlogx": XLOGX,
    "xexp": XEXP,
}


def restricted(e: Elementwise, lo: float, lo_open: bool) -> Elementwise:
    """``e`` on the half-line ``[lo, oo)`` (``(lo, oo)``) only: CVXPY defines ``power(x, 3)``,
    ``sqrt``, ``inv_pos`` and ``xexp`` there, whatever the formula gives elsewhere. Pieces are
    clipped to the half-line and the evaluation is NaN (undefined) outside it, so a witness can
    never use a point CVXPY's function does not have."""

    def clip(pieces: tuple[Piece, ...]) -> tuple[Piece, ...]:
        return tuple(Piece(max(p.lo, lo), p.hi, p.bits) for p in pieces if p.hi > lo)

    def fn(x: np.ndarray, base=e.fn) -> np.ndarray:
        inside = (x > lo) | ((x == lo) & (not lo_open))
        with np.errstate(all="ignore"):
            return np.where(inside, base(np.where(inside, x, lo + 1.0)), np.nan)

    from dataclasses import replace

    return replace(
        e,
        name=f"{e.name} on {'(' if lo_open else '['}{lo:g}, oo)",
        fn=fn,
        domain=((lo, INF, lo_open, True),),
        curvature=clip(e.curvature),
        monotonicity=clip(e.monotonicity),
        left_of_zero=None,
    )


def cvxpy_domain(name: str, p: Fraction | None = None) -> tuple[float, bool] | None:
    """CVXPY's own domain of an atom where it is smaller than the formula's: ``(lo, open)``."""
    if name == "power" and p is not None:
        # CVXPY restricts every power to x >= 0 (x > 0 for p < 0) but the powers of two
        # 2, 4, 8...: it approximates p = 6 through x >= 0 (the bridge reads its .domain)
        if (
            p > 0
            and p.denominator == 1
            and p.numerator & (p.numerator - 1) == 0
            and p.numerator > 1
        ):
            return None
        return (0.0, bool(p < 0))
    if name == "xexp":
        return (0.0, False)
    return None


def facts(name: str, params: tuple = ()) -> Elementwise:
    """The row for ``name`` (``power`` and ``huber`` take their parameter; a trailing
    ``"cvxpy"`` parameter restricts the atom to CVXPY's domain of it)."""
    cvxpy = bool(params) and isinstance(params[-1], str) and params[-1] == "cvxpy"
    if name == "power":
        e = power(Fraction(params[0]))
    elif name == "huber":
        e = huber(float(params[0]))
    else:
        e = ELEMENTWISE[name]
    if cvxpy:
        dom = cvxpy_domain(name, Fraction(params[0]) if name == "power" else None)
        if dom is not None:
            return _restricted_cached(name, params, dom)
    return e


@lru_cache(maxsize=256)
def _restricted_cached(name: str, params: tuple, dom: tuple[float, bool]) -> Elementwise:
    base = facts(name, params[:-1])
    return restricted(base, dom[0], dom[1])
