"""The atom table: what is known about each function, as data.

Each atom *declares facts* and nothing else: its domain, its global image, the pieces of the real
line on which it is convex or concave, the pieces on which it is nondecreasing or nonincreasing, and
(for ``sin``/``cos``/``tan``) its period. One generic routine (:func:`label_on`) reads the curvature
or monotonicity of an atom on any argument range off those pieces, and one generic routine
(:meth:`UnaryAtom.image_of`) computes the range. The DCP engine (:mod:`convexcheck.symbolic.dcp`)
composes them; ``tests/symbolic/test_atoms.py`` checks every piece of every entry numerically
(second differences, midpoint inequalities, finite differences), which is the test that catches a
wrong table entry before it turns into a wrong certificate.

A row also carries what every other interpreter reads (see :class:`UnaryAtom`): the NumPy and mpmath
names, the derivative, exact values at rational points, the SymPy and CVXPY names. The tree
(:mod:`convexcheck.symbolic.ir`) takes its list of functions from here, and the parser, printer,
evaluators, differentiation, bridges and Hessian prover all read rows, so adding a function of one
argument is one row here plus its mpmath reference in ``tests/symbolic/test_atoms.py`` (which then
checks every field of the row against independent numerics).

Powers ``u**p`` are generated per exponent from the signs of ``p*(p-1)*x**(p-2)`` and
``p*x**(p-1)`` (see :func:`power_atom`), not from a hand-written case per exponent sign.

The table is split by what a change to it means. The row type (:class:`UnaryAtom`,
:class:`Piece`, :class:`Bound`, with the rigorous enclosures of irrational piece boundaries) and
the generic routines that read rows are in :mod:`convexcheck.symbolic.atoms_pieces`: code shared
by every entry. This module holds the one-argument rows, the data: the named functions, the atoms
only patterns produce, and the generated powers ``u**p`` and exponentials ``c**u``. The atoms of
several arguments, whose facts depend on the argument ranges and so are small classes, are in
:mod:`convexcheck.symbolic.atoms_nary`. Every public name of both is re-exported here, so
``from convexcheck.symbolic.atoms import ...`` stays the one import for all of them.
"""

from __future__ import annotations

import math
from fractions import Fraction
from functools import lru_cache

from convexcheck.symbolic.atoms_nary import (  # noqa: F401  (re-exported)
    LOG_SUM_EXP,
    NARY_ATOMS,
    REL_ENTR,
    LogSumExpAtom,
    MaxAtom,
    MinAtom,
    NaryAtom,
    NormAtom,
    PowerProductAtom,
    QuadOverLinAtom,
    RelEntrAtom,
)
from convexcheck.symbolic.atoms_pieces import (  # noqa: F401  (re-exported)
    AFFINE,
    CONCAVE,
    CONVEX,
    DECREASING,
    INCREASING,
    INV_E_HI,
    INV_E_LO,
    MINUS_INF,
    NONMONOTONE,
    PI_HI,
    PI_LO,
    PLUS_INF,
    ZERO,
    Bound,
    Piece,
    UnaryAtom,
    _pieces,
    exact_values,
    label_on,
    pieces_touching,
)
from convexcheck.symbolic.interval import INF, NONNEG, POSITIVE, REALS, Interval
from convexcheck.symbolic.interval_powers import ipow_int, ipow_rational


def _log1pexp(x: float) -> float:
    if x > 30:
        return x + math.log1p(math.exp(-x))
    return math.log1p(math.exp(x))


def _sigmoid(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def _xlogx(x: float) -> float:
    return 0.0 if x == 0 else x * math.log(x)


def _tan(x: float) -> float:
    # near the poles a float argument may sit on the other side of pi/2, where tan wraps
    # around; NaN makes the interval code use the safe infinite end instead
    if abs(x) > 1.5707963:
        return math.nan
    return math.tan(x)


def _abs_cvxpy(cp, u, monotonicity: str | None):
    """``Abs(u)`` is ``u`` where the proof knows ``u >= 0`` (the atom is nondecreasing there)
    and ``-u`` where ``u <= 0``: CVXPY then needs no sign of its own."""
    if monotonicity == INCREASING:
        return u
    if monotonicity == DECREASING:
        return -u
    return cp.abs(u)


def _cosh_cvxpy(cp, u, monotonicity: str | None):
    """CVXPY has no ``cosh``; ``(exp(u) + exp(-u))/2`` is the same function, and DCP."""
    return (cp.exp(u) + cp.exp(-u)) / 2


HALF_PI = Bound.pi_times(Fraction(1, 2))
PI = Bound.pi_times(1)
TWO_PI = Bound.pi_times(2)
INV_E = Bound(INV_E_LO, INV_E_HI, "1/e")
BELOW_ZERO = (MINUS_INF, ZERO)
ABOVE_ZERO = (ZERO, PLUS_INF)

UNARY_ATOMS: dict[str, UnaryAtom] = {
    "exp": UnaryAtom(
        "exp",
        math.exp,
        (REALS,),
        POSITIVE,
        _pieces((MINUS_INF, PLUS_INF, CONVEX)),
        _pieces((MINUS_INF, PLUS_INF, INCREASING)),
        limits=(0.0, INF),
        sympy_name="exp",
        cvxpy_name="exp",
        numpy="exp",
        mpmath="exp",
        derivative=lambda ir, u, f: f,
        exact_at=exact_values({0: 1}),
    ),
    "log": UnaryAtom(
        "log",
        math.log,
        (POSITIVE,),
        REALS,
        _pieces((ZERO, PLUS_INF, CONCAVE)),
        _pieces((ZERO, PLUS_INF, INCREASING)),
        limits=(-INF, INF),
        sympy_name="log",
        cvxpy_name="log",
        numpy="log",
        mpmath="log",
        derivative=lambda ir, u, f: ir.power(u, ir.MINUS_ONE),
        exact_at=exact_values({1: 0}),
    ),
    "Abs": UnaryAtom(
        "Abs",
        abs,
        (REALS,),
        NONNEG,
        _pieces((MINUS_INF, PLUS_INF, CONVEX)),
        _pieces((*BELOW_ZERO, DECREASING), (*ABOVE_ZERO, INCREASING)),
        limits=(INF, INF),
        sympy_name="Abs",
        cvxpy_name="abs",
        cvxpy_form=_abs_cvxpy,
        numpy="abs",
        mpmath="fabs",
        # u/|u|: undefined exactly at the kink, so no slope is ever read off there
        derivative=lambda ir, u, f: ir.mul(u, ir.power(f, ir.MINUS_ONE)),
        exact_at=abs,
        smooth=False,
    ),
    "sin": UnaryAtom(
        "sin",
        math.sin,
        (REALS,),
        Interval(-1, 1),
        _pieces((ZERO, PI, CONCAVE), (PI, TWO_PI, CONVEX)),
        _pieces(
            (Bound.pi_times(Fraction(-1, 2)), HALF_PI, INCREASING),
            (HALF_PI, Bound.pi_times(Fraction(3, 2)), DECREASING),
        ),
        period=TWO_PI,
        sympy_name="sin",
        numpy="sin",
        mpmath="sin",
        derivative=lambda ir, u, f: ir.func("cos", u),
        exact_at=exact_values({0: 0}),
        trig_identities=True,
    ),
    "cos": UnaryAtom(
        "cos",
        math.cos,
        (REALS,),
        Interval(-1, 1),
        _pieces(
            (Bound.pi_times(Fraction(-1, 2)), HALF_PI, CONCAVE),
            (HALF_PI, Bound.pi_times(Fraction(3, 2)), CONVEX),
        ),
        _pieces((ZERO, PI, DECREASING), (PI, TWO_PI, INCREASING)),
        period=TWO_PI,
        sympy_name="cos",
        numpy="cos",
        mpmath="cos",
        derivative=lambda ir, u, f: ir.neg(ir.func("sin", u)),
        exact_at=exact_values({0: 1}),
        trig_identities=True,
    ),
    "tan": UnaryAtom(
        "tan",
        _tan,
        # one branch at a time: the argument must stay inside (k pi - pi/2, k pi + pi/2)
        (Interval(-HALF_PI.lo, HALF_PI.lo, True, True),),
        REALS,
        _pieces((Bound.pi_times(Fraction(-1, 2)), ZERO, CONCAVE), (ZERO, HALF_PI, CONVEX)),
        _pieces((Bound.pi_times(Fraction(-1, 2)), HALF_PI, INCREASING)),
        sympy_name="tan",
        numpy="tan",
        mpmath="tan",
        derivative=lambda ir, u, f: ir.add(ir.ONE, ir.power(f, ir.num(2))),
        exact_at=exact_values({0: 0}),
        trig_identities=True,
        note="only the principal branch (-pi/2, pi/2) is supported",
    ),
    "tanh": UnaryAtom(
        "tanh",
        math.tanh,
        (REALS,),
        Interval(-1, 1, True, True),
        _pieces((*BELOW_ZERO, CONVEX), (*ABOVE_ZERO, CONCAVE)),
        _pieces((MINUS_INF, PLUS_INF, INCREASING)),
        limits=(-1.0, 1.0),
        sympy_name="tanh",
        numpy="tanh",
        mpmath="tanh",
        derivative=lambda ir, u, f: ir.sub(ir.ONE, ir.power(f, ir.num(2))),
        exact_at=exact_values({0: 0}),
        trig_identities=True,
    ),
    "atan": UnaryAtom(
        "atan",
        math.atan,
        (REALS,),
        Interval(-HALF_PI.hi, HALF_PI.hi, True, True),
        _pieces((*BELOW_ZERO, CONVEX), (*ABOVE_ZERO, CONCAVE)),
        _pieces((MINUS_INF, PLUS_INF, INCREASING)),
        sympy_name="atan",
        numpy="arctan",
        mpmath="atan",
        derivative=lambda ir, u, f: ir.power(ir.add(ir.ONE, ir.power(u, ir.num(2))), ir.MINUS_ONE),
        exact_at=exact_values({0: 0}),
    ),
    "sinh": UnaryAtom(
        "sinh",
        math.sinh,
        (REALS,),
        REALS,
        _pieces((*BELOW_ZERO, CONCAVE), (*ABOVE_ZERO, CONVEX)),
        _pieces((MINUS_INF, PLUS_INF, INCREASING)),
        limits=(-INF, INF),
        sympy_name="sinh",
        numpy="sinh",
        mpmath="sinh",
        derivative=lambda ir, u, f: ir.func("cosh", u),
        exact_at=exact_values({0: 0}),
        trig_identities=True,
    ),
    "cosh": UnaryAtom(
        "cosh",
        math.cosh,
        (REALS,),
        Interval(1, INF),
        _pieces((MINUS_INF, PLUS_INF, CONVEX)),
        _pieces((*BELOW_ZERO, DECREASING), (*ABOVE_ZERO, INCREASING)),
        limits=(INF, INF),
        sympy_name="cosh",
        cvxpy_form=_cosh_cvxpy,
        numpy="cosh",
        mpmath="cosh",
        derivative=lambda ir, u, f: ir.func("sinh", u),
        exact_at=exact_values({0: 1}),
        trig_identities=True,
    ),
    "asinh": UnaryAtom(
        "asinh",
        math.asinh,
        (REALS,),
        REALS,
        _pieces((*BELOW_ZERO, CONVEX), (*ABOVE_ZERO, CONCAVE)),
        _pieces((MINUS_INF, PLUS_INF, INCREASING)),
        limits=(-INF, INF),
        sympy_name="asinh",
        numpy="arcsinh",
        mpmath="asinh",
        derivative=lambda ir, u, f: ir.power(
            ir.add(ir.ONE, ir.power(u, ir.num(2))), ir.num(Fraction(-1, 2))
        ),
        exact_at=exact_values({0: 0}),
    ),
    # ---- atoms that only patterns produce (see convexcheck.symbolic.patterns) -----------------
    "logistic": UnaryAtom(
        "logistic",
        _log1pexp,
        (REALS,),
        POSITIVE,
        _pieces((MINUS_INF, PLUS_INF, CONVEX)),
        _pieces((MINUS_INF, PLUS_INF, INCREASING)),
        limits=(0.0, INF),
        cvxpy_name="logistic",
        pattern_only=True,
        note="log(1 + exp(u)), the softplus",
    ),
    "sigmoid": UnaryAtom(
        "sigmoid",
        _sigmoid,
        (REALS,),
        Interval(0, 1, True, True),
        _pieces((*BELOW_ZERO, CONVEX), (*ABOVE_ZERO, CONCAVE)),
        _pieces((MINUS_INF, PLUS_INF, INCREASING)),
        limits=(0.0, 1.0),
        exact_at=exact_values({0: Fraction(1, 2)}),
        pattern_only=True,
        note="1/(1 + exp(-u))",
    ),
    "xlogx": UnaryAtom(
        "xlogx",
        _xlogx,
        (NONNEG,),
        Interval(-INV_E_HI, INF),
        _pieces((ZERO, PLUS_INF, CONVEX)),
        _pieces((ZERO, INV_E, DECREASING), (INV_E, PLUS_INF, INCREASING)),
        limits=(math.nan, INF),
        cvxpy_name="-entr",
        exact_at=exact_values({0: 0, 1: 0}),
        pattern_only=True,
        note="u*log(u), the negative entropy (0 at u = 0)",
    ),
}


#: The one-argument functions of the grammar: every row a user can write (the rows that only
#: patterns produce are not). The tree, the parser and every interpreter read this list.
UNARY_FUNCTIONS: tuple[str, ...] = tuple(
    name for name, row in UNARY_ATOMS.items() if not row.pattern_only
)


def _sign(q: Fraction | int) -> int:
    return (q > 0) - (q < 0)


@lru_cache(maxsize=512)
def power_atom(p: Fraction | int) -> UnaryAtom:
    """``u**p`` for a rational ``p`` (not 0 or 1), derived from the signs of its derivatives.

    On ``u > 0``: ``f'' = p(p-1) u**(p-2)`` has the sign of ``p(p-1)`` and ``f' = p u**(p-1)``
    the sign of ``p``. On ``u < 0`` (integer ``p`` only; SymPy's ``u**(1/3)`` is complex there):
    ``u**(p-2)`` has the sign ``(-1)**(p-2)`` and ``u**(p-1)`` the sign ``(-1)**(p-1)``.
    """
    p = Fraction(p)
    integer = p.denominator == 1
    curv = {1: CONVEX, -1: CONCAVE, 0: AFFINE}
    mono = {1: INCREASING, -1: DECREASING, 0: INCREASING}
    right_curv = curv[_sign(p * (p - 1))]
    right_mono = mono[_sign(p)]
    curvature: list[Piece] = [Piece(ZERO, PLUS_INF, right_curv)]
    monotonicity: list[Piece] = [Piece(ZERO, PLUS_INF, right_mono)]
    if integer:
        n = p.numerator
        left_curv = curv[_sign(p * (p - 1)) * (-1) ** ((n - 2) % 2)]
        left_mono = mono[_sign(p) * (-1) ** ((n - 1) % 2)]
        curvature.insert(0, Piece(MINUS_INF, ZERO, left_curv))
        monotonicity.insert(0, Piece(MINUS_INF, ZERO, left_mono))
        if n > 0:
            domain: tuple[Interval, ...] = (REALS,)
        else:
            domain = (POSITIVE, Interval(-INF, 0, True, True))
    else:
        domain = (NONNEG,) if p > 0 else (POSITIVE,)
    q = p.numerator if integer else p

    def fn(x: float, q=q) -> float:
        if x == 0 and q < 0:
            return INF
        return x**q if integer else float(x) ** float(q)

    if integer:
        n = p.numerator
        if n > 0 and n % 2 == 0:
            image = NONNEG
        elif n > 0:
            image = REALS
        elif n % 2 == 0:
            image = POSITIVE
        else:
            image = Interval(-INF, INF)
    else:
        image = NONNEG if p > 0 else POSITIVE
    return UnaryAtom(
        f"power({p})",
        fn,
        domain,
        image,
        tuple(curvature),
        tuple(monotonicity),
        sympy_name="Pow",
        cvxpy_name="power",
        exponent=q,
        image_rule=lambda r, p=p: power_image(r, p),
    )


def power_image(r: Interval, p: Fraction | int) -> Interval | None:
    """Exact-where-possible range of ``u**p`` (``None`` if ``r`` leaves the domain)."""
    p = Fraction(p)
    if p.denominator == 1:
        return ipow_int(r, p.numerator)
    return ipow_rational(r, p)


def _safe_float(q: Fraction | int) -> float:
    try:
        return float(q)
    except OverflowError:  # (1e400)**x: the float form is only used for sampling
        return INF


@lru_cache(maxsize=256)
def exp_base_atom(base: Fraction | int) -> UnaryAtom:
    """``c**u`` for a constant ``c > 0``: ``exp(u*log(c))``, convex, monotone by ``c >= 1``."""
    c = _safe_float(base)
    increasing = base >= 1
    return UnaryAtom(
        f"{base}**u",
        lambda x, c=c: c**x,
        (REALS,),
        POSITIVE,
        _pieces((MINUS_INF, PLUS_INF, CONVEX)),
        _pieces((MINUS_INF, PLUS_INF, INCREASING if increasing else DECREASING)),
        limits=(0.0, INF) if increasing else (INF, 0.0),
        image_rule=lambda r, base=base: _exp_base_image(base, r),
    )


def _exp_base_image(base: Fraction | int, r: Interval) -> Interval:
    """``c**u = exp(u*log(c))`` with ``log(c)`` enclosed first, so the error does not grow
    with ``|u|`` (a float ``c**u`` loses ``|u|*eps`` of relative precision)."""
    from convexcheck.symbolic.interval import mul, point

    log_c = UNARY_ATOMS["log"].image_of(point(base))
    return UNARY_ATOMS["exp"].image_of(mul(r, log_c))
