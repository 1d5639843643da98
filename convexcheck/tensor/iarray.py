"""The interval array and its exact or outward-rounded elementwise arithmetic.

:class:`IArray` holds, per entry, an interval of the values that entry of a tensor
sub-expression takes over the variables' domain. The public entry point is
:mod:`convexcheck.tensor.intervals`, whose docstring states the rounding rules; this module
holds the class, the directed-rounding primitives that every operation is built on, and the
piecewise-linear operations (``+``, ``*``, ``max``, ``abs``, ...).

The one invariant every primitive here keeps: a computed lower bound is either *exactly* the
real endpoint value (then the lower and upper bound of that value coincide) or *strictly*
below it. So "the two bounds differ" proves the end is not attained, and such ends may be
marked open; that is what keeps ``(0, oo) * (0, oo)`` positive after rounding.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from typing import Union

import numpy as np
from numpy.typing import ArrayLike

INF = math.inf
U = 2.0**-53  # unit roundoff of float64, round-to-nearest
_SAFE_LO = 2.0**-450  # inside [_SAFE_LO, _SAFE_HI] Dekker's product error is exact
_SAFE_HI = 2.0**450
_SPLIT = 134217729.0  # 2**27 + 1, Veltkamp's splitting constant

Operand = Union["IArray", ArrayLike]


def quiet(func):
    """Run ``func`` with NumPy's float warnings off: inf/NaN cases are handled explicitly."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with np.errstate(all="ignore"):
            return func(*args, **kwargs)

    return wrapper


class IArray:
    """Per-entry intervals over the extended reals with open or closed ends.

    ``lo``/``hi`` are float64 arrays of one shape (``lo <= hi``, no NaN, ``-inf``/``inf``
    allowed), ``lo_open``/``hi_open`` bool arrays of the same shape. An infinite end is always
    open and a one-point entry is always closed, so every entry is a nonempty set. The arrays
    are copied and made read-only, so an IArray never changes after it is built.
    """

    __slots__ = ("hi", "hi_open", "lo", "lo_open")

    def __init__(
        self,
        lo: ArrayLike,
        hi: ArrayLike,
        lo_open: ArrayLike = False,
        hi_open: ArrayLike = False,
    ) -> None:
        parts = np.broadcast_arrays(
            np.asarray(lo, dtype=np.float64),
            np.asarray(hi, dtype=np.float64),
            np.asarray(lo_open, dtype=bool),
            np.asarray(hi_open, dtype=bool),
        )
        lo_a, hi_a, lo_o, hi_o = (np.array(p) for p in parts)
        lo_a += 0.0  # -0.0 -> 0.0, so that printing and hashing see one zero
        hi_a += 0.0
        lo_o |= np.isinf(lo_a)
        hi_o |= np.isinf(hi_a)
        with np.errstate(invalid="ignore"):
            bad = (
                np.isnan(lo_a)
                | np.isnan(hi_a)
                | ~(lo_a <= hi_a)
                | (lo_a == INF)
                | (hi_a == -INF)
                | ((lo_a == hi_a) & (lo_o | hi_o))
            )
        if bad.any():
            where = np.argwhere(bad)[0].tolist() if bad.ndim else []
            raise ValueError(
                f"not an interval array: {int(bad.sum())} entries are empty or NaN "
                f"(first at index {where}: lo={lo_a[tuple(where)]!r}, hi={hi_a[tuple(where)]!r})"
            )
        for arr in (lo_a, hi_a, lo_o, hi_o):
            arr.setflags(write=False)
        self.lo, self.hi, self.lo_open, self.hi_open = lo_a, hi_a, lo_o, hi_o

    # ---- construction -------------------------------------------------------------------
    @staticmethod
    def point(values: ArrayLike) -> IArray:
        """Exact float64 points (closed one-point intervals); ``values`` must be finite."""
        v = np.asarray(values, dtype=np.float64)
        if not np.all(np.isfinite(v)):
            raise ValueError("a point interval needs finite values")
        return IArray(v, v)

    @staticmethod
    def from_bounds(
        lo: ArrayLike, hi: ArrayLike, lo_open: ArrayLike = False, hi_open: ArrayLike = False
    ) -> IArray:
        """Intervals from bounds; scalars and arrays broadcast against each other."""
        return IArray(lo, hi, lo_open, hi_open)

    # ---- shape ----------------------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, ...]:
        return self.lo.shape

    @property
    def ndim(self) -> int:
        return self.lo.ndim

    @property
    def size(self) -> int:
        return self.lo.size

    def __len__(self) -> int:
        return len(self.lo)

    def __getitem__(self, index: object) -> IArray:
        return IArray(self.lo[index], self.hi[index], self.lo_open[index], self.hi_open[index])

    def _map(self, fn) -> IArray:
        return IArray(fn(self.lo), fn(self.hi), fn(self.lo_open), fn(self.hi_open))

    def reshape(self, *shape: int | Sequence[int]) -> IArray:
        return self._map(lambda x: x.reshape(*shape))

    def transpose(self, *axes: int | Sequence[int]) -> IArray:
        return self._map(lambda x: x.transpose(*axes))

    @property
    def T(self) -> IArray:
        return self.transpose()

    def broadcast_to(self, shape: Sequence[int]) -> IArray:
        return self._map(lambda x: np.broadcast_to(x, tuple(shape)))

    # ---- per-entry predicates (bool arrays) -----------------------------------------------
    def nonneg(self) -> np.ndarray:
        return self.lo >= 0

    def positive(self) -> np.ndarray:
        return (self.lo > 0) | ((self.lo == 0) & self.lo_open)

    def nonpos(self) -> np.ndarray:
        return self.hi <= 0

    def negative(self) -> np.ndarray:
        return (self.hi < 0) | ((self.hi == 0) & self.hi_open)

    def bounded(self) -> np.ndarray:
        return np.isfinite(self.lo) & np.isfinite(self.hi)

    def is_point(self) -> np.ndarray:
        return self.lo == self.hi

    def contains(self, values: ArrayLike) -> np.ndarray:
        """Whether each float value lies in its entry's interval (openness respected)."""
        v = np.asarray(values, dtype=np.float64)
        above = (v > self.lo) | ((v == self.lo) & ~self.lo_open)
        below = (v < self.hi) | ((v == self.hi) & ~self.hi_open)
        return above & below

    # ---- the same predicates for all entries at once (Python bools) ------------------------
    def all_nonneg(self) -> bool:
        return bool(np.all(self.nonneg()))

    def all_positive(self) -> bool:
        return bool(np.all(self.positive()))

    def all_nonpos(self) -> bool:
        return bool(np.all(self.nonpos()))

    def all_negative(self) -> bool:
        return bool(np.all(self.negative()))

    def all_bounded(self) -> bool:
        return bool(np.all(self.bounded()))

    def all_points(self) -> bool:
        return bool(np.all(self.is_point()))

    def __repr__(self) -> str:
        if self.size > 12:
            return f"IArray(shape={self.shape})"
        items = [
            f"{'(' if lo_o else '['}{lo!r}, {hi!r}{')' if hi_o else ']'}"
            for lo, hi, lo_o, hi_o in zip(
                self.lo.ravel().tolist(),
                self.hi.ravel().tolist(),
                self.lo_open.ravel().tolist(),
                self.hi_open.ravel().tolist(),
            )
        ]
        return f"IArray(shape={self.shape}, [{', '.join(items)}])"


def as_iarray(x: Operand) -> IArray:
    """An IArray as is; a constant (number or array) as exact points."""
    return x if isinstance(x, IArray) else IArray.point(x)


# ---- directed rounding primitives -----------------------------------------------------------
def down(v: np.ndarray, steps: int = 1) -> np.ndarray:
    """``steps`` floats below ``v`` (``-inf`` stays, ``inf`` becomes the largest float)."""
    for _ in range(steps):
        v = np.nextafter(v, -INF)
    return v


def up(v: np.ndarray, steps: int = 1) -> np.ndarray:
    """``steps`` floats above ``v``."""
    for _ in range(steps):
        v = np.nextafter(v, INF)
    return v


def _two_prod_err(x: np.ndarray, y: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Dekker: ``x*y - fl(x*y)`` exactly, for ``|x|, |y|`` in the safe range."""
    cx = _SPLIT * x
    xh = cx - (cx - x)
    xl = x - xh
    cy = _SPLIT * y
    yh = cy - (cy - y)
    yl = y - yh
    return xl * yl - (((p - xh * yh) - xl * yh) - xh * yl)


def _safe(x: np.ndarray) -> np.ndarray:
    ax = np.abs(x)
    return (ax >= _SAFE_LO) & (ax <= _SAFE_HI)


def product_is(x: ArrayLike, y: ArrayLike, target: ArrayLike) -> np.ndarray:
    """Where ``x*y == target`` holds exactly (decided in the safe range, else ``False``)."""
    x, y = np.broadcast_arrays(np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64))
    with np.errstate(all="ignore"):
        safe = _safe(x) & _safe(y)
        xs, ys = np.where(safe, x, 1.0), np.where(safe, y, 1.0)
        p = xs * ys
        return safe & (p == target) & (_two_prod_err(xs, ys, p) == 0)


@quiet
def mul_bounds(x: ArrayLike, y: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper float bounds of the exact products ``x*y`` (``0*inf`` counts as 0).

    Exact products (a zero or infinite factor, or a Dekker error of 0) give equal bounds;
    any other bound is strictly outside the exact product.
    """
    x, y = np.broadcast_arrays(np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64))
    zero = (x == 0) | (y == 0)
    p = np.where(zero, 0.0, x * y)
    safe = _safe(x) & _safe(y)
    xs, ys = np.where(safe, x, 1.0), np.where(safe, y, 1.0)
    err = _two_prod_err(xs, ys, xs * ys)
    exact = zero | np.isinf(x) | np.isinf(y) | (safe & (err == 0))
    lo = np.where(exact | (safe & (err > 0)), p, np.nextafter(p, -INF))
    hi = np.where(exact | (safe & (err < 0)), p, np.nextafter(p, INF))
    tiny = (p == 0) & ~zero  # a nonzero product that underflowed: its sign is still known
    same_sign = (x > 0) == (y > 0)
    lo = np.where(tiny & same_sign, 0.0, lo)
    hi = np.where(tiny & ~same_sign, 0.0, hi)
    return lo, hi


@quiet
def add_bounds(x: ArrayLike, y: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper float bounds of the exact sums ``x+y`` (Knuth's TwoSum for exactness).

    ``inf + -inf`` (an unknown sum) gives ``(-inf, inf)``; overflow rounds outward.
    """
    x, y = np.broadcast_arrays(np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64))
    s = x + y
    finite = np.isfinite(x) & np.isfinite(y) & np.isfinite(s)
    xs, ys = np.where(finite, x, 0.0), np.where(finite, y, 0.0)
    ss = xs + ys
    bv = ss - xs
    err = (xs - (ss - bv)) + (ys - bv)
    exact = ((np.isinf(x) | np.isinf(y)) & ~np.isnan(s)) | (finite & (err == 0))
    lo = np.where(exact | (finite & (err > 0)), s, np.nextafter(s, -INF))
    hi = np.where(exact | (finite & (err < 0)), s, np.nextafter(s, INF))
    unknown = np.isnan(s)
    return np.where(unknown, -INF, lo), np.where(unknown, INF, hi)


def ends(
    lo_dn: np.ndarray,
    lo_up: np.ndarray,
    lo_open: ArrayLike,
    hi_dn: np.ndarray,
    hi_up: np.ndarray,
    hi_open: ArrayLike,
) -> IArray:
    """An IArray from bounds of the exact end values.

    ``lo_dn <= e_lo <= lo_up`` bound the exact lower end value ``e_lo``; where they are equal
    the value is exact and the end keeps ``lo_open`` (the attainment of that exact value),
    elsewhere ``lo_dn`` is strictly below every value and the end is open. Likewise above.
    """
    return IArray(
        lo_dn,
        hi_up,
        np.where(lo_dn == lo_up, lo_open, True),
        np.where(hi_dn == hi_up, hi_open, True),
    )


def clamp_lo(a: IArray, where: ArrayLike, floor: float, open_at_floor: ArrayLike = False) -> IArray:
    """Raise the lower end to ``floor`` where all values are known to be ``>= floor``.

    ``open_at_floor`` must be true only where the values are known to be ``> floor``.
    """
    where = np.asarray(where, dtype=bool)
    below = where & (a.lo < floor)
    at = where & (a.lo == floor)
    lo = np.where(below, floor, a.lo)
    lo_open = np.where(below, open_at_floor, np.where(at, a.lo_open | open_at_floor, a.lo_open))
    return IArray(lo, a.hi, lo_open, a.hi_open)


def clamp_hi(a: IArray, where: ArrayLike, ceil: float, open_at_ceil: ArrayLike = False) -> IArray:
    """Lower the upper end to ``ceil`` where all values are known to be ``<= ceil``."""
    return neg(clamp_lo(neg(a), where, -ceil, open_at_ceil))


# ---- piecewise-linear operations --------------------------------------------------------------
def neg(a: Operand) -> IArray:
    """``-a`` (exact)."""
    a = as_iarray(a)
    return IArray(-a.hi, -a.lo, a.hi_open, a.lo_open)


def add(a: Operand, b: Operand) -> IArray:
    """``a + b`` elementwise with broadcasting; exact sums keep their openness."""
    a, b = as_iarray(a), as_iarray(b)
    lo_dn, lo_up = add_bounds(a.lo, b.lo)
    hi_dn, hi_up = add_bounds(a.hi, b.hi)
    return ends(lo_dn, lo_up, a.lo_open | b.lo_open, hi_dn, hi_up, a.hi_open | b.hi_open)


def sub(a: Operand, b: Operand) -> IArray:
    """``a - b``; ``[0, oo) - [0, oo)`` is the whole line (no ``inf - inf``)."""
    return add(a, neg(b))


def mul(a: Operand, b: Operand) -> IArray:
    """``a * b`` elementwise with broadcasting, from the four corner products.

    A corner's value is attained when both of its ends are closed, or when one of them is
    a closed 0 (then every value of the other factor gives 0); ``0 * inf`` corners count as 0.
    """
    a, b = as_iarray(a), as_iarray(b)
    corners = []
    for x, xo in ((a.lo, a.lo_open), (a.hi, a.hi_open)):
        for y, yo in ((b.lo, b.lo_open), (b.hi, b.hi_open)):
            dn, upb = mul_bounds(x, y)
            attained = (~xo & ~yo) | ((x == 0) & ~xo) | ((y == 0) & ~yo)
            corners.append((dn, upb, attained & (dn == upb)))
    lo = np.minimum.reduce([c[0] for c in corners])
    hi = np.maximum.reduce([c[1] for c in corners])
    lo_closed = np.logical_or.reduce([(c[0] == lo) & c[2] for c in corners])
    hi_closed = np.logical_or.reduce([(c[1] == hi) & c[2] for c in corners])
    return IArray(lo, hi, ~lo_closed, ~hi_closed)


def scale(a: Operand, c: ArrayLike) -> IArray:
    """``c * a`` for an exact finite constant (array) ``c``; ``0 * a`` is the point 0."""
    return mul(a, IArray.point(c))


def _pick_lo(alo, ao, blo, bo, smaller: bool):
    """The lower end of a hull (``smaller``) or of a maximum, with its openness."""
    if smaller:
        v = np.minimum(alo, blo)
        first, second, tie = alo < blo, blo < alo, ao & bo
    else:
        v = np.maximum(alo, blo)
        first, second, tie = alo > blo, blo > alo, ao | bo
    return v, np.where(first, ao, np.where(second, bo, tie))


def hull(a: Operand, b: Operand) -> IArray:
    """The smallest interval containing both ``a`` and ``b`` (per entry)."""
    a, b = as_iarray(a), as_iarray(b)
    lo, lo_open = _pick_lo(a.lo, a.lo_open, b.lo, b.lo_open, smaller=True)
    mhi, hi_open = _pick_lo(-a.hi, a.hi_open, -b.hi, b.hi_open, smaller=True)
    return IArray(lo, -mhi, lo_open, hi_open)


def maximum(a: Operand, b: Operand) -> IArray:
    """``max(a, b)`` elementwise: ``[max(lo), max(hi)]``; exact."""
    a, b = as_iarray(a), as_iarray(b)
    lo, lo_open = _pick_lo(a.lo, a.lo_open, b.lo, b.lo_open, smaller=False)
    # the supremum max(hi) is attained if the larger hi is attained (or either, at a tie)
    mhi, hi_open = _pick_lo(-a.hi, a.hi_open, -b.hi, b.hi_open, smaller=True)
    return IArray(lo, -mhi, lo_open, hi_open)


def minimum(a: Operand, b: Operand) -> IArray:
    """``min(a, b)`` elementwise; exact."""
    return neg(maximum(neg(a), neg(b)))


def pos(a: Operand) -> IArray:
    """``max(a, 0)``."""
    return maximum(a, 0.0)


def neg_part(a: Operand) -> IArray:
    """``max(-a, 0)``."""
    return maximum(neg(a), 0.0)


def abs_(a: Operand) -> IArray:
    """``|a|`` elementwise; exact. A sign-changing entry has the closed lower end 0."""
    a = as_iarray(a)
    nonneg, nonpos = a.lo >= 0, a.hi <= 0
    lo = np.where(nonneg, a.lo, np.where(nonpos, -a.hi, 0.0))
    lo_open = np.where(nonneg, a.lo_open, np.where(nonpos, a.hi_open, False))
    mhi, hi_open = _pick_lo(a.lo, a.lo_open, -a.hi, a.hi_open, smaller=True)
    return IArray(lo, -mhi, lo_open, hi_open)


def concatenate(items: Sequence[IArray], axis: int = 0) -> IArray:
    """Join interval arrays along an existing axis (as ``np.concatenate``)."""
    items = [as_iarray(x) for x in items]
    return IArray(
        np.concatenate([x.lo for x in items], axis),
        np.concatenate([x.hi for x in items], axis),
        np.concatenate([x.lo_open for x in items], axis),
        np.concatenate([x.hi_open for x in items], axis),
    )


def stack(items: Sequence[IArray], axis: int = 0) -> IArray:
    """Join interval arrays along a new axis (as ``np.stack``)."""
    items = [as_iarray(x) for x in items]
    return IArray(
        np.stack([x.lo for x in items], axis),
        np.stack([x.hi for x in items], axis),
        np.stack([x.lo_open for x in items], axis),
        np.stack([x.hi_open for x in items], axis),
    )
