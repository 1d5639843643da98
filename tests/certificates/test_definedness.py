"""Soundness class: canonicalisation and witness checking keep the set where f is defined.

Issue 10 found the IR folding ``(x**(3/2))**2`` into ``x**3`` (defined for x < 0, the original
is not), collecting ``sqrt(x)*sqrt(x)`` into ``x``, and the certificate checker accepting a
witness at x = -4 for ``Abs(sqrt(x))`` because SymPy evaluates on the complex branch. Each such
rewrite makes the provers judge a different function. The property tests here compare, on random
expressions and random points, the definedness of the *text as written* (evaluated by
:mod:`tests.text_oracle`, which never goes through the IR) with

* the IR's form (printed back and evaluated by the same oracle), and
* the checker's own definedness walk (:mod:`convexcheck.certificates.definedness`),

and attack the end-to-end answers: no witness point where the text is undefined, no proof on a
domain where it is undefined somewhere.
"""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import convexcheck as cc
from convexcheck.certificates import definedness
from convexcheck.certificates.checker import verify_document
from convexcheck.symbolic.parser import parse
from convexcheck.symbolic.printer import to_str
from tests import text_oracle

EXPONENTS = ["0", "1", "2", "3", "-1", "-2", "(1/2)", "(3/2)", "(-1/2)", "(5/3)", "(2/3)", "(-3/2)"]


def _leaves():
    return st.sampled_from(["x", "y", "x", "y", "0", "1", "2", "-1", "(1/2)", "(x - 1)", "(1 - y)"])


def _extend(sub):
    unary = st.sampled_from(["sqrt({})", "log({})", "exp({})", "Abs({})", "-({})", "({})"])
    binary = st.sampled_from(["({}) + ({})", "({}) - ({})", "({}) * ({})", "({}) / ({})"])
    # the shapes that canonicalisation rewrites: the same subtree twice, powers of powers
    same_twice = st.sampled_from(
        [
            "({0}) - ({0})",
            "({0}) * ({0})**(-1)",
            "({0}) / ({0})",
            "sqrt({0})*sqrt({0})",
            "({0})**(1/2) * ({0})**(3/2)",
            "({0})**(-1) * ({0})**2",
            "0*({0})",
            "({0})**0",
            "2*({0}) - 3*({0}) + ({0})",
        ]
    )
    return st.one_of(
        st.tuples(unary, sub).map(lambda p: p[0].format(p[1])),
        st.tuples(binary, sub, sub).map(lambda p: p[0].format(p[1], p[2])),
        st.tuples(same_twice, sub).map(lambda p: p[0].format(p[1])),
        st.tuples(sub, st.sampled_from(EXPONENTS), st.sampled_from(EXPONENTS)).map(
            lambda p: f"(({p[0]})**{p[1]})**{p[2]}"
        ),
        st.tuples(sub, st.sampled_from(EXPONENTS)).map(lambda p: f"({p[0]})**{p[1]}"),
        st.tuples(sub, sub, sub).map(lambda p: f"Piecewise(({p[0]}, {p[1]} < 0), ({p[2]}, True))"),
    )


TEXTS = st.recursive(_leaves(), _extend, max_leaves=6)
RATIONALS = st.one_of(
    st.sampled_from([Fraction(v) for v in (0, 1, -1, 2, -2)] + [Fraction(1, 2), Fraction(-1, 2)]),
    st.fractions(min_value=-5, max_value=5, max_denominator=20),
)
POINTS = st.fixed_dictionaries({"x": RATIONALS, "y": RATIONALS})


def _oracle(text: str, point) -> bool | None:
    """Definedness by the oracle; ``None`` where a sign is too close to call."""
    try:
        return text_oracle.defined_at(text, point)
    except text_oracle.Ambiguous:
        return None


def _parsed(text: str):
    try:
        return parse(text)
    except (ValueError, ZeroDivisionError, OverflowError):
        return None  # rejected at input (e.g. a literal division by zero): nothing to compare


# ---------------------------------------------------------------------------------------------
# the IR keeps the set where the text is defined
# ---------------------------------------------------------------------------------------------


@pytest.mark.slow  # 600 random expressions, each compared with the text oracle
@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(TEXTS, st.lists(POINTS, min_size=1, max_size=4))
def test_ir_form_is_defined_exactly_where_the_text_is(text, points):
    root = _parsed(text)
    if root is None:
        return
    printed = to_str(root)
    for point in points:
        as_written, as_canonicalised = _oracle(text, point), _oracle(printed, point)
        if as_written is None or as_canonicalised is None:
            continue
        assert as_written == as_canonicalised, (text, printed, point)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(TEXTS, st.lists(POINTS, min_size=1, max_size=4))
def test_checker_definedness_agrees_with_the_text_as_written(text, points):
    root = _parsed(text)
    if root is None:
        return
    for point in points:
        expected = _oracle(text, point)
        if expected is None:
            continue
        try:
            definedness.evaluate_defined(root, point)
            got = True
        except definedness.Undefined:
            got = False
        except definedness.Undecided:
            continue
        assert got == expected, (text, point)


# ---------------------------------------------------------------------------------------------
# regressions from issue 10, and the end-to-end class
# ---------------------------------------------------------------------------------------------

WIDENING_CASES = [
    ("(x**(3/2))**2", "[-1, 1]"),
    ("sqrt(x)**2", "negative"),
    ("(x**(-1/2))**(-2)", "real"),
    ("(x**(1/2))**4", "[-1, 1]"),
    ("sqrt(x)*sqrt(x)", "real"),
    ("x*x**(-1)", "real"),
    ("x/x", "real"),
    ("log(x) - log(x)", "real"),
    ("0*log(x) + x", "real"),
    ("log(x)**0", "real"),
    ("(x**(-1))**(-1)", "real"),
]


def _witness_points(w):
    t = Fraction(w["t"])
    a = {k: Fraction(v) for k, v in w["a"].items()}
    b = {k: Fraction(v) for k, v in w["b"].items()}
    return a, b, {k: t * a[k] + (1 - t) * b[k] for k in a}


def _assert_no_wrong_answer(text: str, variables: dict[str, str], r) -> None:
    for q in ("convex", "concave"):
        v = getattr(r, q)
        if v.answer == "no":
            for p in _witness_points(v.witness):
                assert _oracle(text, p) is not False, (text, q, "witness point undefined", p)


@pytest.mark.parametrize(("text", "domain"), WIDENING_CASES)
def test_rewrites_that_widened_the_domain_now_give_no_wrong_answer(text, domain):
    r = cc.check(text, variables={"x": domain})
    _assert_no_wrong_answer(text, {"x": domain}, r)
    # each of these is undefined somewhere in its domain: nothing may be proved
    assert r.convex.answer != "yes" and r.concave.answer != "yes", (text, r.curvature)


def test_the_same_forms_are_still_proved_where_they_are_defined():
    assert cc.check("sqrt(x)**2", variables={"x": "positive"}).curvature == "affine"
    assert cc.check("(x**(3/2))**2", variables={"x": "nonnegative"}).convex.answer == "yes"
    assert cc.check("(x**2)**3").convex.answer == "yes"  # integer powers still fold
    assert cc.check("x/x", variables={"x": "positive"}).curvature == "affine"


def test_integer_powers_of_powers_fold_and_fractional_ones_do_not():
    assert to_str(parse("(x**2)**3")) == "x**6"
    assert to_str(parse("(x**(3/2))**3")) == "x**(9/2)"  # both need x >= 0
    assert to_str(parse("(x**2)**(-1)")) == to_str(parse("x**(-2)"))  # both need x != 0
    assert to_str(parse("(x**(3/2))**2")) != "x**3"
    assert to_str(parse("x - x")) == "0" and to_str(parse("0*exp(x)")) == "0"


@pytest.mark.parametrize(
    ("text", "a", "question"),
    [
        ("Abs(sqrt(x))", "-4", "concave"),
        ("sqrt(x)**2 - x**2", "-1", "concave"),
        ("(x**(3/2))**2", "-1", "convex"),
        ("log(x**2)", "0", "convex"),
        ("log(-x) + log(x) + x**2", "1", "concave"),
    ],
)
def test_checker_rejects_witnesses_where_the_function_is_undefined(text, a, question):
    doc = {
        "format": "convexcheck-certificate/1",
        "expression": text,
        "variables": {"x": "real"},
        "question": question,
        "answer": "no",
        "witness": {"a": {"x": a}, "b": {"x": "4"}, "t": "1/2"},
    }
    report = verify_document(doc)
    assert not report.ok and "undefined" in report.problems[0], report


def test_checker_ignores_pieces_that_are_not_taken():
    doc = {
        "format": "convexcheck-certificate/1",
        "expression": "Piecewise((log(x), x > 0), (x**2, True))",
        "variables": {"x": "real"},
        "question": "concave",
        "answer": "no",
        "witness": {"a": {"x": "-2"}, "b": {"x": "0"}, "t": "1/2"},
    }
    assert verify_document(doc).ok


DOMAINS = st.sampled_from(["real", "positive", "negative", "[-1, 1]", "[0, 2]", "(0, 1)"])


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(TEXTS, DOMAINS, DOMAINS, st.lists(POINTS, min_size=6, max_size=6))
def test_answers_judge_the_text_as_written(text, dx, dy, probes):
    """No witness where the text is undefined; no proof on a domain where it is undefined."""
    root = _parsed(text)
    if root is None:
        return
    from convexcheck.symbolic.ir import free_variables

    names = free_variables(root)
    variables = {n: d for n, d in (("x", dx), ("y", dy)) if n in names}
    r = cc.check(text, variables=variables, budget_s=2)
    _assert_no_wrong_answer(text, variables, r)
    if "yes" not in (r.convex.answer, r.concave.answer):
        return
    from convexcheck.symbolic.domains import parse_domain

    doms = {n: parse_domain(s) for n, s in variables.items()}
    for p in probes:
        if all(doms[n].contains(p[n]) for n in doms):
            assert _oracle(text, p) is not False, (text, variables, r.curvature, p)


@pytest.mark.parametrize(
    ("text", "variables"),
    [
        ("9*x/x", {"x": "positive"}),
        ("x*y/y", {"y": "positive"}),
        ("log(x) - log(x) + y**2", {"x": "positive"}),
    ],
)
def test_forms_kept_as_written_round_trip_through_the_checker(text, variables):
    """Found by the 10,000-example run after the IR fix: ``9*x/x`` stays as written (it is
    undefined at 0), SymPy's form is ``9``, and the checker compared the certificate's variable
    list with SymPy's free symbols instead of the function's own variables."""
    import json

    from convexcheck.certificates.documents import document

    r = cc.check(text, variables=variables)
    settled = [q for q in ("convex", "concave") if getattr(r, q).answer != "unknown"]
    assert "convex" in settled
    for q in settled:
        report = verify_document(json.loads(json.dumps(document(r, q))))
        assert report.ok, (text, q, report.problems)


@pytest.mark.parametrize(
    "text",
    [
        "Piecewise((0, ((x) - (x))**-1 < 0), (0, True))",  # found by the property above
        "Piecewise((1, (2 - 2)**-1 < 1), (1, True))",
        "Piecewise((0, log(-1) < 0), (0, True)) + x",
        "Max(x, 1) + Piecewise((0, (2 - 2)**-1 < 1), (1, True))",
    ],
)
def test_a_constant_piecewise_with_an_undefined_condition_is_undefined(text):
    """Issue 13's suite run: a constant ``Piecewise`` was enclosed by its pieces alone, so one
    whose every piece is 0 was "constant, convex" although its condition divides by zero
    everywhere (the text is defined nowhere). Conditions now count: an undefined operand makes
    the condition, and the Piecewise reading it, undefined (``symbolic/ranges.node_range``)."""
    r = cc.check(text)
    assert r.convex.answer != "yes" and r.concave.answer != "yes", r.convex.summary
    assert r.convex.answer != "no" and r.concave.answer != "no"  # no witness where undefined
    from convexcheck.symbolic.interval import REALS
    from convexcheck.symbolic.parser import parse_with_names
    from convexcheck.symbolic.ranges import enclose

    root, names = parse_with_names(text)
    assert enclose(root, dict.fromkeys(names, REALS)) is None
