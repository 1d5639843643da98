"""The compiled scalar evaluator agrees with the interpreter, and the search that uses it."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import convexcheck as cc
from convexcheck.symbolic import compiled, ir
from convexcheck.symbolic import interval as iv
from convexcheck.symbolic.compiled import Program
from convexcheck.symbolic.evaluate import evaluate
from convexcheck.symbolic.parser import parse
from convexcheck.symbolic.witness import check_witness, search_witness

NAMES = ["x", "y", "z"]
NUMBERS = [Fraction(c) for c in ("-3", "-1", "-1/2", "0", "1/3", "1/2", "1", "2", "5", "1e30")]
EXPONENTS = [Fraction(p) for p in ("-3", "-2", "-1", "-1/2", "1/3", "1/2", "3/2", "2", "3", "7")]
VARIABLES = [ir.var(n) for n in NAMES]


def _relation(op, a, b):
    try:
        return ir.relation(op, a, b)
    except ValueError:
        return ir.TRUE


def conditions(children):
    simple = st.builds(_relation, st.sampled_from(["<", "<=", ">", ">="]), children, children)
    return st.one_of(
        simple,
        st.builds(lambda a: ir.logic("Not", a), simple),
        st.builds(lambda a, b: ir.logic("And", a, b), simple, simple),
        st.builds(lambda a, b: ir.logic("Or", a, b), simple, simple),
    )


def _piecewise(pieces, last, closed):
    try:
        return ir.piecewise([*pieces, (last, ir.TRUE)] if closed else pieces)
    except ValueError:  # every condition folded to False
        return last


def _power(a, b):
    try:
        return ir.power(a, b)
    except (ValueError, ZeroDivisionError, OverflowError):
        return a


LEAVES = st.one_of(
    st.sampled_from(VARIABLES),
    st.builds(ir.num, st.sampled_from(NUMBERS)),
    st.sampled_from([ir.const("pi"), ir.const("E")]),
)


def _extend(children):
    return st.one_of(
        st.builds(lambda args: ir.add(*args), st.lists(children, min_size=2, max_size=5)),
        st.builds(lambda args: ir.mul(*args), st.lists(children, min_size=2, max_size=4)),
        st.builds(lambda a, p: _power(a, ir.num(p)), children, st.sampled_from(EXPONENTS)),
        st.builds(_power, children, children),  # symbolic exponents: x**y
        st.builds(lambda a: _power(a, ir.num(2**63 + 1)), children),  # past int64
        st.builds(ir.func, st.sampled_from(list(ir.UNARY_FUNCTIONS)), children),
        st.builds(
            lambda op, args: ir.func(op, *args),
            st.sampled_from(["Max", "Min"]),
            st.lists(children, min_size=2, max_size=5),
        ),
        st.builds(
            _piecewise,
            st.lists(st.tuples(children, conditions(children)), min_size=1, max_size=3),
            children,
            st.booleans(),  # without a final True piece, NaN where no condition holds
        ),
    )


EXPRESSIONS = st.recursive(LEAVES, _extend, max_leaves=24)
POINT_VALUES = st.one_of(
    st.sampled_from([0.0, -0.0, 1.0, -1.0, 0.5, 2.0, -2.5, 700.0, -800.0, 1e-300, 1e300]),
    st.floats(-50, 50, allow_nan=False),
)


def _agree(root, env):
    expected = evaluate(root, env)
    program = Program(root, NAMES)
    got = program(env)
    assert got.shape == expected.shape
    # the same operations in the same order: equal to the bit, NaN and inf where the other has
    assert np.array_equal(got, expected, equal_nan=True), (str(root), got, expected)


@pytest.mark.slow  # 400 random programs against the interpreter
@settings(
    max_examples=400,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    EXPRESSIONS.filter(lambda e: not e.is_bool),
    st.lists(st.tuples(POINT_VALUES, POINT_VALUES, POINT_VALUES), min_size=1, max_size=12),
)
def test_compiled_program_agrees_with_the_interpreter(root, points):
    columns = np.array(points, dtype=float).T
    _agree(root, {n: columns[i] for i, n in enumerate(NAMES)})


def test_undefined_points_are_nan_in_both():
    root = parse("log(x) + sqrt(y) + x**(-1) + z**x + Piecewise((x, x > 1), (y, y < 0))")
    env = {
        "x": np.array([-1.0, 0.0, 2.0, 0.5, 3.0]),
        "y": np.array([1.0, 1.0, -1.0, -2.0, 4.0]),
        "z": np.array([1.0, 2.0, 3.0, 0.0, 2.0]),
    }
    _agree(root, env)
    values = Program(root, NAMES)(env)
    assert np.isnan(values[:4]).all() and np.isfinite(values[4])


def test_broadcast_and_constant_trees():
    root = parse("x*y + exp(2) + pi")
    env = {"x": np.arange(3.0)[:, None], "y": np.arange(4.0)[None, :], "z": 1.0}
    _agree(root, env)
    assert Program(parse("exp(2) + E"), NAMES)({"x": np.zeros(5)}).shape == (5,)


def test_chunked_batches_give_the_same_values(monkeypatch):
    text = " + ".join(f"exp(x{i}) + (x{i} - {i % 7})**2 + Max(x{i}, 1)" for i in range(50))
    root = parse(text)
    names = [f"x{i}" for i in range(50)]
    points = np.random.default_rng(0).normal(0, 3, (50, 1000))
    whole = Program(root, names).run(points)
    monkeypatch.setattr(compiled, "TABLE_ENTRIES", 5000)  # chunks of a dozen points
    program = Program(root, names)
    assert np.array_equal(program.run(points), whole)
    assert program.evaluations == 1000
    interpreted = evaluate(root, {n: points[i] for i, n in enumerate(names)})
    assert np.array_equal(whole, interpreted)


def test_wide_sums_compile_into_few_instructions():
    n = 500
    root = parse(" + ".join(f"exp(x{i}) + (x{i} - {i % 7})**2" for i in range(n)))
    program = Program(root, [f"x{i}" for i in range(n)])
    assert len(program.code) <= 8  # exp, x - c, squares, the sum: not one per node


def test_unknown_variable_is_an_error():
    with pytest.raises(KeyError):
        Program(parse("x + w"), NAMES)


def test_large_sum_is_refuted_with_a_simple_verified_witness():
    n = 400
    text = " + ".join(f"exp(x{i}) + (x{i} - {i % 7})**2" for i in range(n))
    result = cc.check(text, max_length=None)
    assert (result.convex.answer, result.concave.answer) == ("yes", "no")
    w = result.concave.witness
    moving = [v for v in w["a"] if w["a"][v] != w["b"][v]]
    assert 1 <= len(moving) <= 4  # simplified: the other coordinates frozen at 0
    assert all(w["a"][v] == "0" for v in w["a"] if v not in moving)
    # the exact verifier accepts it again from the printed rationals
    root = parse(text)
    domains = {f"x{i}": iv.REALS for i in range(n)}
    a = {v: Fraction(q) for v, q in w["a"].items()}
    b = {v: Fraction(q) for v, q in w["b"].items()}
    assert check_witness(root, domains, "concave", a, b, Fraction(w["t"])) is not None
    again = cc.check(text, max_length=None)
    assert again.concave.witness == w  # seeded: the same witness every time


def test_search_effort_stays_within_its_plan():
    root = parse(" + ".join(f"exp(x{i}) + x{i}**2" for i in range(400)))
    domains = {f"x{i}": iv.REALS for i in range(400)}
    report = search_witness(root, domains, "concave", seed=2, samples=200, rounds=2)
    assert report.witness is not None
    assert 0 < report.evaluations <= report.evaluation_budget
    # convex on its whole domain: nothing to find, the planned refinement is all spent
    report = search_witness(root, domains, "convex", seed=2, samples=200, rounds=2)
    assert report.witness is None
    assert report.evaluations == 3 * (200 + 2 * 8 * 64)
