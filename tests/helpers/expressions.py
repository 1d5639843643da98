"""Hypothesis strategies for random expression trees, shared by the soundness and robustness tests.

The grammar covers sums with coefficients of both signs from 1e-30 to 1e30, products, powers
with integer and rational exponents of both signs, every unary function, Max and Min of two to
five arguments and Piecewise with two to four pieces. It lives here rather than in
``tests/symbolic/test_soundness.py`` so that ``tests/test_robustness.py`` can use it without
importing another test module (which would make pytest collect that module's tests a second time).
"""

from __future__ import annotations

from fractions import Fraction

from hypothesis import strategies as st

from convexcheck.symbolic import ir

EXPONENTS = [
    Fraction(p)
    for p in ("-3", "-2", "-1", "-3/2", "-1/2", "1/3", "1/2", "2/3", "3/2", "5/3", "2", "3", "4")
]
CONSTANTS = [Fraction(c) for c in ("-3", "-1", "-1/2", "1/2", "1", "2", "5")]
# constants from 1e-30 to 1e30 in magnitude, both signs
WIDE_CONSTANTS = st.builds(
    lambda m, k: m * Fraction(10) ** k,
    st.sampled_from([Fraction(1), Fraction(-1), Fraction(3), Fraction(-7, 2)]),
    st.integers(-30, 30),
)
CONSTANT_VALUES = st.one_of(st.sampled_from(CONSTANTS), WIDE_CONSTANTS)


def conditions(names: list[str]):
    """A comparison of the first variable (or its absolute value, or an affine function of it)
    with a constant, sometimes negated or joined with a second comparison."""
    x = ir.var(names[0])
    sides = st.sampled_from([x, ir.func("Abs", x), ir.add(ir.mul(ir.num(2), x), ir.num(-1))])
    simple = st.builds(
        lambda op, u, c: ir.relation(op, u, ir.num(c)),
        st.sampled_from(["<", "<=", ">", ">="]),
        sides,
        st.one_of(st.sampled_from(CONSTANTS + [Fraction(0), Fraction(3)]), WIDE_CONSTANTS),
    )
    return st.one_of(
        simple,
        st.builds(lambda a: ir.logic("Not", a), simple),
        st.builds(lambda a, b: ir.logic("And", a, b), simple, simple),
        st.builds(lambda a, b: ir.logic("Or", a, b), simple, simple),
    )


def _piecewise(pieces, last):
    try:
        return ir.piecewise([*pieces, (last, ir.TRUE)])
    except ValueError:  # every condition folded to False: just the last piece
        return last


def expressions(names: list[str]):
    """Random expression trees over ``names`` with at most eight leaves."""
    leaves = st.one_of(
        st.sampled_from([ir.var(n) for n in names]),
        st.sampled_from([ir.num(c) for c in CONSTANTS]),
        st.builds(ir.num, WIDE_CONSTANTS),
    )

    def extend(children):
        unary = st.sampled_from(list(ir.UNARY_FUNCTIONS))
        return st.one_of(
            st.builds(lambda a, b: ir.add(a, b), children, children),
            st.builds(lambda c, a: ir.mul(ir.num(c), a), CONSTANT_VALUES, children),
            st.builds(lambda a, b: ir.mul(a, b), children, children),
            st.builds(lambda a, p: ir.power(a, ir.num(p)), children, st.sampled_from(EXPONENTS)),
            st.builds(lambda f, a: ir.func(f, a), unary, children),
            st.builds(lambda a, b: ir.func("Max", a, b), children, children),
            st.builds(lambda a, b: ir.func("Min", a, b), children, children),
            st.builds(
                lambda op, args: ir.func(op, *args),
                st.sampled_from(["Max", "Min"]),
                st.lists(children, min_size=3, max_size=5),
            ),
            st.builds(
                lambda a, b, c: ir.piecewise(
                    [(a, ir.relation("<=", ir.var(names[0]), ir.num(c))), (b, ir.TRUE)]
                ),
                children,
                children,
                st.sampled_from(CONSTANTS),
            ),
            st.builds(
                _piecewise,
                st.lists(st.tuples(children, conditions(names)), min_size=1, max_size=3),
                children,
            ),
            st.builds(lambda a: ir.func("log", ir.add(ir.ONE, ir.func("exp", a))), children),
            st.builds(
                lambda a, b: ir.sqrt(ir.add(ir.power(a, ir.num(2)), ir.power(b, ir.num(2)))),
                children,
                children,
            ),
            st.builds(
                lambda a, b: ir.mul(ir.power(a, ir.num(2)), ir.power(b, ir.MINUS_ONE)),
                children,
                children,
            ),
            st.builds(lambda a: ir.mul(a, ir.func("log", a)), children),
        )

    return st.recursive(leaves, extend, max_leaves=8)
