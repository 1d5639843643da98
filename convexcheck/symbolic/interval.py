"""Interval arithmetic over the extended reals, with open or closed ends and outward rounding.

The DCP rules need the *sign* and the *range* of every argument (``Abs`` is increasing on
``x >= 0``, ``sin`` is convex on ``[pi, 2 pi]``, ``log`` needs a strictly positive argument), so
every subexpression gets an :class:`Interval` enclosing all the values it takes on the domain.

Soundness rules of this module:

* Endpoints are exact rationals (``int`` or ``Fraction``) or ``±inf``; rational operations
  (``+``, ``*``, integer powers) are exact, so signs are decided exactly (``1 - x`` on ``[0, 1]``
  really is ``>= 0``).
* Wherever floats enter (transcendental functions, fractional powers, huge rationals) the result
  is rounded *outward* (``math.nextafter`` by a margin above the libm error), so an enclosure is
  never too narrow; such endpoints are closed, which is the conservative choice.
* Open ends matter: ``positive`` is ``(0, oo)``, and ``1/x`` or ``log(x)`` are allowed only when
  the argument is bounded away from 0 or open at 0.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from fractions import Fraction
from typing import Union

INF = math.inf
Endpoint = Union[int, Fraction, float]  # float only for +-inf

_MAX_BITS = 256
_MAX_FLOAT = 1.7976931348623157e308  # rationals above this size are rounded outward to floats


class Interval:
    """A nonempty interval ``lo..hi`` with open/closed ends; infinite ends are always open."""

    __slots__ = ("hi", "hi_open", "lo", "lo_open")

    def __init__(
        self, lo: Endpoint, hi: Endpoint, lo_open: bool = False, hi_open: bool = False
    ) -> None:
        if lo == -INF or lo == INF:
            lo_open = True
        if hi == INF or hi == -INF:
            hi_open = True
        self.lo = lo
        self.hi = hi
        self.lo_open = lo_open
        self.hi_open = hi_open

    # ---- predicates -------------------------------------------------------------------------
    @property
    def is_point(self) -> bool:
        return self.lo == self.hi and not self.lo_open and not self.hi_open

    @property
    def nonneg(self) -> bool:
        return self.lo >= 0

    @property
    def positive(self) -> bool:
        return self.lo > 0 or (self.lo == 0 and self.lo_open)

    @property
    def nonpos(self) -> bool:
        return self.hi <= 0

    @property
    def negative(self) -> bool:
        return self.hi < 0 or (self.hi == 0 and self.hi_open)

    @property
    def bounded(self) -> bool:
        return self.lo != -INF and self.hi != INF

    def contains(self, q: Endpoint) -> bool:
        above = q > self.lo or (q == self.lo and not self.lo_open)
        below = q < self.hi or (q == self.hi and not self.hi_open)
        return above and below

    def within(self, other: Interval) -> bool:
        """Whether every point of ``self`` lies in ``other``."""
        lo_ok = self.lo > other.lo or (self.lo == other.lo and (self.lo_open or not other.lo_open))
        hi_ok = self.hi < other.hi or (self.hi == other.hi and (self.hi_open or not other.hi_open))
        return lo_ok and hi_ok

    def sign(self) -> str:
        """One word for the sign: positive, nonnegative, negative, nonpositive, zero, unknown."""
        if self.lo == 0 and self.hi == 0:
            return "zero"
        if self.positive:
            return "positive"
        if self.nonneg:
            return "nonnegative"
        if self.negative:
            return "negative"
        if self.nonpos:
            return "nonpositive"
        return "unknown"

    # ---- presentation -----------------------------------------------------------------------
    def __str__(self) -> str:
        if self.is_point:
            return f"{{{_fmt(self.lo)}}}"
        left = "(" if self.lo_open else "["
        right = ")" if self.hi_open else "]"
        return f"{left}{_fmt(self.lo)}, {_fmt(self.hi)}{right}"

    def __repr__(self) -> str:
        return f"Interval({self})"

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Interval)
            and self.lo == other.lo
            and self.hi == other.hi
            and self.lo_open == other.lo_open
            and self.hi_open == other.hi_open
        )

    def __hash__(self) -> int:
        return hash((self.lo, self.hi, self.lo_open, self.hi_open))

    def to_json(self) -> list:
        """``[lo, hi, lo_open, hi_open]`` with endpoints as exact strings (``"oo"`` for inf).

        Exact means ``Fraction(text)`` is the endpoint: an outward-rounded float endpoint is
        written as its exact value (``p/q`` or a decimal), never as its shortest ``repr``,
        whose decimal value differs from the float and would narrow the enclosure."""
        return [exact_text(self.lo), exact_text(self.hi), self.lo_open, self.hi_open]


def exact_text(q: Endpoint) -> str:
    """``q`` written exactly: ``Fraction(text) == q`` (and the domain reader reads it back).

    A finite decimal (a denominator with no prime factor but 2 and 5) is written as a decimal,
    in scientific notation when it is very large or small (``1e-300``, ``2.5e-30``); any other
    rational as ``p/q``; whichever is shorter when both apply. ``oo``/``-oo`` for infinities."""
    if q == INF:
        return "oo"
    if q == -INF:
        return "-oo"
    q = Fraction(q)
    decimal = _decimal(q)
    if q.denominator == 1 and (decimal is None or abs(q.numerator) < 10**21):
        return str(q.numerator)
    fraction = f"{q.numerator}/{q.denominator}"
    if decimal is not None and len(decimal) <= len(fraction):
        return decimal
    return fraction


MAX_EXACT_EXPONENT = 999  # scientific exponents the domain reader accepts (three digits)
_MAX_DECIMAL_BITS = 12_000  # about 3,600 digits: below Python's int <-> str conversion limit


def _decimal(q: Fraction) -> str | None:
    """Exact decimal text of ``q`` (``None`` when it is not a finite decimal or too long)."""
    d = q.denominator
    twos = fives = 0
    while d % 2 == 0:
        d //= 2
        twos += 1
    while d % 5 == 0:
        d //= 5
        fives += 1
    if d != 1:
        return None
    k = max(twos, fives)  # q = n / 10**k exactly
    n = abs(q.numerator) * (10**k // q.denominator)
    exponent = -k
    while n and n % 10 == 0:
        n //= 10
        exponent += 1
    if n.bit_length() > _MAX_DECIMAL_BITS:
        return None
    digits = str(n)  # q = ±digits * 10**exponent
    sign = "-" if q < 0 else ""
    point = len(digits) + exponent  # digits before the decimal point
    if -6 <= point <= 0:
        return f"{sign}0.{'0' * -point}{digits}"
    if 0 < point <= 21:
        whole, frac = (digits + "0" * max(exponent, 0))[:point], digits[point:]
        return f"{sign}{whole}.{frac}" if frac else f"{sign}{whole}"
    scientific = point - 1
    if abs(scientific) > MAX_EXACT_EXPONENT:
        return None
    mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
    return f"{sign}{mantissa}e{scientific}"


def _fmt(q: Endpoint) -> str:
    if q == INF:
        return "oo"
    if q == -INF:
        return "-oo"
    if isinstance(q, Fraction):
        if q.denominator == 1:
            return str(q.numerator)
        # short decimals read better than huge fractions when exact
        f = float(q)
        if Fraction(f) == q and len(repr(f)) < 20:
            return repr(f)
        return f"{q.numerator}/{q.denominator}"
    return str(q)


REALS = Interval(-INF, INF)
NONNEG = Interval(0, INF)
POSITIVE = Interval(0, INF, lo_open=True)
NONPOS = Interval(-INF, 0)
NEGATIVE = Interval(-INF, 0, hi_open=True)


def point(q: Endpoint) -> Interval:
    return Interval(q, q)


# ---------------------------------------------------------------------------------------------
# Exact <-> float with directed rounding
# ---------------------------------------------------------------------------------------------


def _norm(q: Endpoint) -> Endpoint:
    if isinstance(q, Fraction):
        if q.denominator == 1:
            return q.numerator
        if q.denominator.bit_length() > _MAX_BITS or q.numerator.bit_length() > _MAX_BITS * 4:
            raise _NeedsRounding
    elif isinstance(q, int):
        if q.bit_length() > _MAX_BITS * 4:  # beyond the float range: oo-side bound is enough
            raise _NeedsRounding
    elif isinstance(q, float) and not math.isinf(q):
        raise TypeError("finite float endpoint")  # internal invariant
    return q


class _NeedsRounding(Exception):
    pass


def float_down(q: Endpoint) -> float:
    """The largest float <= q."""
    if isinstance(q, float):
        return q
    try:
        f = float(q)
    except OverflowError:  # beyond the float range: the largest float is still below q > 0
        return _MAX_FLOAT if q > 0 else -INF
    if f > q:
        f = math.nextafter(f, -INF)
    return f


def float_up(q: Endpoint) -> float:
    """The smallest float >= q."""
    if isinstance(q, float):
        return q
    try:
        f = float(q)
    except OverflowError:
        return INF if q > 0 else -_MAX_FLOAT
    if f < q:
        f = math.nextafter(f, INF)
    return f


def exact(f: float) -> Endpoint:
    """A float as an exact endpoint (ints stay ints)."""
    if math.isinf(f):
        return f
    if f == int(f) and abs(f) < 2**63:
        return int(f)
    return Fraction(f)


def widen_down(f: float, ulps: int = 2) -> float:
    for _ in range(ulps):
        f = math.nextafter(f, -INF)
    return f


def widen_up(f: float, ulps: int = 2) -> float:
    for _ in range(ulps):
        f = math.nextafter(f, INF)
    return f


def _tidy_lo(q: Endpoint) -> Endpoint:
    try:
        return _norm(q)
    except _NeedsRounding:
        return exact(float_down(q))


def _tidy_hi(q: Endpoint) -> Endpoint:
    try:
        return _norm(q)
    except _NeedsRounding:
        return exact(float_up(q))


def make(lo: Endpoint, hi: Endpoint, lo_open: bool = False, hi_open: bool = False) -> Interval:
    """An interval with oversized rationals rounded outward (the rounded end becomes closed)."""
    try:
        lo = _norm(lo)
    except _NeedsRounding:
        lo, lo_open = exact(float_down(lo)), False
    try:
        hi = _norm(hi)
    except _NeedsRounding:
        hi, hi_open = exact(float_up(hi)), False
    return Interval(lo, hi, lo_open, hi_open)


# ---------------------------------------------------------------------------------------------
# Arithmetic
# ---------------------------------------------------------------------------------------------


def _plus(x: Endpoint, y: Endpoint) -> Endpoint:
    """``x + y`` where an infinite end absorbs a finite one without converting it to a float
    (``10**400 + inf`` raises OverflowError in Python)."""
    if isinstance(x, float):
        if isinstance(y, float):
            return x + y
        return x
    if isinstance(y, float):
        return y
    return x + y


def add(a: Interval, b: Interval) -> Interval:
    lo = _plus(a.lo, b.lo)
    hi = _plus(a.hi, b.hi)
    if isinstance(lo, float) and math.isnan(lo):  # inf + -inf cannot happen for lo, guard anyway
        lo = -INF
    if isinstance(hi, float) and math.isnan(hi):
        hi = INF
    return make(lo, hi, a.lo_open or b.lo_open, a.hi_open or b.hi_open)


def sum_all(items: list[Interval]) -> Interval:
    lo: Endpoint = 0
    hi: Endpoint = 0
    lo_open = hi_open = False
    for it in items:
        lo = _plus(lo, it.lo)
        hi = _plus(hi, it.hi)
        lo_open = lo_open or it.lo_open
        hi_open = hi_open or it.hi_open
    return make(lo, hi, lo_open, hi_open)


def neg(a: Interval) -> Interval:
    return Interval(-a.hi, -a.lo, a.hi_open, a.lo_open)


def scale(a: Interval, q: int | Fraction) -> Interval:
    if q == 0:
        return point(0)
    if q > 0:
        return make(_times(a.lo, q), _times(a.hi, q), a.lo_open, a.hi_open)
    return make(_times(a.hi, q), _times(a.lo, q), a.hi_open, a.lo_open)


def _times(x: Endpoint, y: Endpoint) -> Endpoint:
    # 0 * inf = 0: a closed zero end makes the product zero whatever the other factor is
    if x == 0 or y == 0:
        return 0
    if isinstance(x, float) or isinstance(y, float):  # an infinite factor: only signs matter
        return INF if (x > 0) == (y > 0) else -INF
    return x * y


def mul(a: Interval, b: Interval) -> Interval:
    """Product; an end is attained iff some corner attaining it is attained (or a factor is a
    closed 0), which keeps open ends open (``(0, 1] * (0, 1] = (0, 1]``)."""
    corners = []
    for x, x_open in ((a.lo, a.lo_open), (a.hi, a.hi_open)):
        for y, y_open in ((b.lo, b.lo_open), (b.hi, b.hi_open)):
            attained = (
                (not x_open and not y_open) or (x == 0 and not x_open) or (y == 0 and not y_open)
            )
            corners.append((_times(x, y), attained))
    lo = min(c[0] for c in corners)
    hi = max(c[0] for c in corners)
    lo_open = not any(att for v, att in corners if v == lo)
    hi_open = not any(att for v, att in corners if v == hi)
    return make(lo, hi, lo_open, hi_open)


def reciprocal(a: Interval) -> Interval | None:
    """``1/a``; ``None`` when ``a`` contains 0 (where 1/x is undefined)."""
    if a.positive:
        lo = 0 if a.hi == INF else Fraction(1) / a.hi
        hi = INF if a.lo == 0 else Fraction(1) / a.lo
    elif a.negative:
        lo = -INF if a.hi == 0 else Fraction(1) / a.hi
        hi = 0 if a.lo == -INF else Fraction(1) / a.lo
    else:
        return None
    return make(_norm_simple(lo), _norm_simple(hi), a.hi_open, a.lo_open)


def _norm_simple(q: Endpoint) -> Endpoint:
    if isinstance(q, Fraction) and q.denominator == 1:
        return q.numerator
    return q


def hull(a: Interval, b: Interval) -> Interval:
    if a.lo < b.lo or (a.lo == b.lo and not a.lo_open):
        lo, lo_open = a.lo, a.lo_open
    else:
        lo, lo_open = b.lo, b.lo_open
    if a.hi > b.hi or (a.hi == b.hi and not a.hi_open):
        hi, hi_open = a.hi, a.hi_open
    else:
        hi, hi_open = b.hi, b.hi_open
    return Interval(lo, hi, lo_open, hi_open)


def intersect(a: Interval, b: Interval) -> Interval | None:
    if a.lo > b.lo or (a.lo == b.lo and a.lo_open):
        lo, lo_open = a.lo, a.lo_open
    else:
        lo, lo_open = b.lo, b.lo_open
    if a.hi < b.hi or (a.hi == b.hi and a.hi_open):
        hi, hi_open = a.hi, a.hi_open
    else:
        hi, hi_open = b.hi, b.hi_open
    if lo > hi or (lo == hi and (lo_open or hi_open)):
        return None
    return Interval(lo, hi, lo_open, hi_open)


def image_monotone(
    f: Callable[[float], float],
    a: Interval,
    increasing: bool,
    limits: tuple[float, float] | None = None,
    exact_at: Callable[[Endpoint], Endpoint | None] | None = None,
) -> Interval:
    """The image of ``a`` under a monotone ``f`` (evaluated in floats, rounded outward).

    ``limits`` gives ``f(-inf)`` and ``f(+inf)`` when they differ from ``f``'s float value;
    ``exact_at`` returns ``f(q)`` exactly where it is rational (``log(1) = 0``), so that signs
    that hold exactly are not lost to rounding. Rounded ends are closed (a slightly larger
    enclosure is safe); exact ends keep the openness of the argument's end; limits at infinity
    are open.
    """

    def at(x: Endpoint, x_open: bool, rounding_down: bool) -> tuple[Endpoint, bool]:
        if x in (INF, -INF):
            if limits is not None:
                v = limits[0] if x == -INF else limits[1]
                if not math.isnan(v):
                    return exact(v), True
            v = _call(f, x)
            if math.isnan(v):
                return (-INF if rounding_down else INF), True
            if math.isinf(v):
                return v, True
            return exact(widen_down(v) if rounding_down else widen_up(v)), False
        if exact_at is not None:
            value = exact_at(x)
            if value is not None:
                return value, x_open
        xf = float_down(x) if rounding_down == increasing else float_up(x)
        v = _call(f, xf)
        if math.isnan(v):
            return (-INF if rounding_down else INF), True
        if rounding_down and v == INF:  # overflow: the largest float is still a lower bound
            return exact(_MAX_FLOAT), False
        if not rounding_down and v == -INF:
            return exact(-_MAX_FLOAT), False
        if math.isinf(v):
            return v, True
        return exact(widen_down(v) if rounding_down else widen_up(v)), False

    if increasing:
        lo, lo_open = at(a.lo, a.lo_open, True)
        hi, hi_open = at(a.hi, a.hi_open, False)
    else:
        lo, lo_open = at(a.hi, a.hi_open, True)
        hi, hi_open = at(a.lo, a.lo_open, False)
    if lo > hi:  # rounding can cross only on a single point; keep the enclosure valid
        lo, hi, lo_open, hi_open = hi, lo, False, False
    return Interval(lo, hi, lo_open, hi_open)


def _call(f: Callable[[float], float], x: float) -> float:
    try:
        return f(x)
    except OverflowError:
        # an overflow says |f(x)| is huge, not its sign (sinh(-1000)); nan makes the end
        # unbounded. Atoms pass a wrapper that reads the sign with mpmath and never raises.
        return math.nan
    except (ValueError, ZeroDivisionError):
        return math.nan
