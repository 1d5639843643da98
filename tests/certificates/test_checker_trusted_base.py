"""The certificate checker's own trusted base: its reader, its exact LDLᵀ, its sign reasoning,
and the quadratic-form and pattern checks built on them; and that it imports no prover.

Each function is tested on inputs it must accept *and* on inputs it must refuse (a wrong
factorisation, an indefinite matrix, a hostile expression string): a checker that accepts
everything would pass the first half alone.
"""

from __future__ import annotations

import ast
import copy
import json
from fractions import Fraction
from pathlib import Path

import pytest
import sympy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from convexcheck import check
from convexcheck.certificates import document, verify_document
from convexcheck.certificates.exact_linalg import (
    Factorisation,
    decide_psd,
    factorisation_holds,
    float_matrix_psd,
    form_sign,
    integer_psd,
    ldl,
    proves_psd,
    psd,
)
from convexcheck.certificates.sign_check import (
    bisection_shows,
    hessian_obstacle,
    polynomial_has_sign,
)
from convexcheck.certificates.trusted_reader import UnreadableExpression, read_node, read_sympy
from convexcheck.symbolic import ir
from convexcheck.symbolic.domains import parse_domain
from convexcheck.symbolic.parser import parse
from convexcheck.symbolic.printer import to_str
from convexcheck.symbolic.sympy_bridge import to_sympy

ROOT = Path(__file__).resolve().parents[2]
F = Fraction

# ---------------------------------------------------------------------------------------------
# the reader
# ---------------------------------------------------------------------------------------------

HOSTILE = [
    "__import__('os')",
    "__import__('os').system('true')",
    "x.__class__",
    "x[0]",
    "'x'",
    '"x"',
    "lambda: 1",
    "x if y else z",
    "exec('1')",
    "eval('1')",
    "getattr(x, 'y')",
    "x == 1",
    "x != 1",
    "x; y",
    "x = 1",
    "{x}",
    "f(x)",
    "_x + 1",
    "oo",
    "x + zoo",
    "nan",
    "I*x",
    "1/0",
    "x/(1 - 1)",
    "log(x, 2)",
    "exp",
    "x < 1",
    "Piecewise((x < 1, True))",
    "(x < 1) + 1",
    "x & y",
    "~x",
    "",
    "   ",
    "x +",
    "(x",
    "x)",
    "1e999",
    "x\u00e9",
    "(" * 300 + "x" + ")" * 300,
    "\\x",
    "x @ y",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_the_reader_refuses_what_is_not_an_expression(text):
    with pytest.raises(UnreadableExpression):
        read_node(text)
    with pytest.raises(UnreadableExpression):
        read_sympy(text)


def test_the_reader_refuses_what_is_not_a_string():
    for value in (None, 3, ["x"], {"x": 1}):
        with pytest.raises(UnreadableExpression):
            read_node(value)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "text",
    [
        "x**2 + 2*x*y - y/3",
        "-x**2",
        "2**-x**2",
        "x^2 + y^-1",
        "exp(-(2*w + b))",
        "log(1 + exp(x)) + abs(y) + ln(z)",
        "Max(0, 1 - x, y) - Min(x, 3)",
        "sqrt(x*y) + x**(1/3)",
        "Piecewise((x**2/2, Abs(x) <= 1), (Abs(x) - 1/2, True))",
        "Piecewise((x, (x > 1) & ~(y >= 2) | (y < 0)), (0, True))",
        "Piecewise((1, a < b < c), (2, True))",
        "Piecewise((1, And(x < 1, Or(y < 1, Not(z < 1)))), (0, True))",
        "pi*x + E - 0.25e1 + .5 + 1.",
        "tanh(x) + sinh(x) + cosh(x) + atan(x) + sin(x) + cos(x) + tan(x)",
        "x - (y - (z - 1))",
        "1/(1 + exp(-u))",
    ],
)
def test_the_reader_agrees_with_the_grammar(text):
    assert read_node(text) is parse(text)
    assert read_sympy(text) == to_sympy(parse(text))


def test_the_reader_reads_long_sums_without_recursion():
    text = " + ".join(f"x{i}**2" for i in range(20_000))
    node = read_node(text)
    assert node.op == "add" and len(node.args) == 20_000


def test_the_reader_translates_function_names_through_the_atom_table(monkeypatch):
    """The SymPy function is the row's ``sympy_name``, not the text's name: a row that said
    ``tan`` for ``tanh`` would change the checker's reading (and be caught by the property
    test below, which compares with the prover's own translation)."""
    from convexcheck.symbolic import atoms

    row = atoms.UNARY_ATOMS["tanh"]
    monkeypatch.setitem(atoms.UNARY_ATOMS, "tanh", type(row)(**{**row.__dict__, "_cache": {}}))
    assert read_sympy("tanh(x)") == sympy.tanh(sympy.Symbol("x", real=True))
    wrong = type(row)(**{**row.__dict__, "_cache": {}, "sympy_name": "tan"})
    monkeypatch.setitem(atoms.UNARY_ATOMS, "tanh", wrong)
    assert read_sympy("tanh(x)") == sympy.tan(sympy.Symbol("x", real=True))


_X, _Y = ir.var("x"), ir.var("y")


def _leaves():
    return st.one_of(
        st.sampled_from([_X, _Y, ir.const("pi"), ir.const("E")]),
        st.integers(-5, 5).map(ir.num),
        st.fractions(min_value=-4, max_value=4, max_denominator=6).map(ir.num),
    )


def _tree():
    def extend(kids):
        exponent = st.sampled_from([F(2), F(3), F(-1), F(-2), F(1, 2), F(3, 2), F(1, 3)])
        return st.one_of(
            st.builds(lambda a, b: ir.add(a, b), kids, kids),
            st.builds(lambda a, b: ir.sub(a, b), kids, kids),
            st.builds(lambda a, b: ir.mul(a, b), kids, kids),
            st.builds(lambda a, b: ir.div(a, ir.add(b, ir.func("exp", b))), kids, kids),
            st.builds(
                lambda a, p: ir.power(ir.add(ir.mul(a, a), ir.ONE), ir.num(p)), kids, exponent
            ),
            st.builds(lambda a: ir.neg(a), kids),
            st.builds(lambda name, a: ir.func(name, a), st.sampled_from(ir.UNARY_FUNCTIONS), kids),
            st.builds(lambda a, b: ir.func("Max", a, b), kids, kids),
            st.builds(lambda a, b: ir.func("Min", a, b), kids, kids),
            st.builds(
                lambda a, b, c: ir.piecewise(
                    [
                        (a, ir.logic("And", ir.relation("<", _X, c), ir.relation(">=", _Y, c))),
                        (b, ir.TRUE),
                    ]
                ),
                kids,
                kids,
                _leaves().filter(lambda n: n.is_const),
            ),
        )

    return st.recursive(_leaves(), extend, max_leaves=8)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_tree())
def test_the_reader_round_trips_the_printer(tree):
    """The checker's reading of the printed tree is the prover's own translation of the tree:
    the same IR node (hash-consed: the identical object) and an equal SymPy expression (equal
    up to SymPy's automatic evaluation, which distributes ``-(x + y)`` read alone but not
    inside the product ``-(x + y)*x``: the difference expands to 0)."""
    text = to_str(tree)
    assert read_node(text) is parse(text, max_length=None)
    try:
        theirs = to_sympy(tree)
    except (ValueError, TypeError):  # Max(x, log(0)): SymPy cannot even build it
        theirs = sympy.zoo
    if theirs.has(sympy.zoo, sympy.nan, sympy.oo, -sympy.oo, sympy.I):  # log(0), 0**(-1)...
        with pytest.raises(UnreadableExpression):  # the checker refuses to differentiate it
            read_sympy(text)
        return
    ours = read_sympy(text)
    assert ours == theirs or _same_values(ours, theirs), text


def _same_values(a, b) -> bool:
    """Equal as functions where SymPy's normal forms differ (``Abs(x/(-c))`` and ``Abs(x/c)``
    after automatic evaluation): the same values to 25 digits at a few rational points."""
    if sympy.expand(a - b, log=False) == 0:
        return True
    x, y = sympy.Symbol("x", real=True), sympy.Symbol("y", real=True)
    for point in ({x: sympy.Rational(1, 3), y: sympy.Rational(7, 5)}, {x: 2, y: -3}):
        va, vb = (sympy.N(e.subs(point), 30) for e in (a, b))
        if va.is_real and vb.is_real:
            if abs(va - vb) > 1e-25 * (1 + abs(va)):
                return False
        elif sympy.N(va - vb, 30) != 0 and (va.is_finite or vb.is_finite):
            return False
    return True


# ---------------------------------------------------------------------------------------------
# exact LDLᵀ
# ---------------------------------------------------------------------------------------------


def _m(rows):
    return [[F(v) for v in row] for row in rows]


def test_ldl_multiplies_back_and_decides_psd():
    a = _m([[4, 2, -2], [2, 5, 1], [-2, 1, 6]])
    f = ldl(a)
    assert f is not None and factorisation_holds(a, f) and psd(a)
    assert psd(_m([[1, 1], [1, 1]]))  # singular PSD
    assert psd(_m([[0, 0], [0, 0]]))
    assert psd([])


@pytest.mark.parametrize(
    "rows",
    [
        [[1, 2], [2, 1]],  # indefinite
        [[-1, 0], [0, 1]],  # a negative diagonal entry
        [[0, 1], [1, 0]],  # a zero diagonal with a nonzero entry in its row
        [[1, 0, 0], [0, 1, 2], [0, 2, 1]],
        [[1, 2], [0, 1]],  # not symmetric
    ],
)
def test_non_psd_matrices_are_not_shown_psd(rows):
    assert not psd(_m(rows))
    assert not psd([[-v for v in row] for row in _m(rows)]) or rows == [[1, 2], [0, 1]]


def test_a_wrong_factorisation_is_rejected():
    a = _m([[4, 2], [2, 5]])
    good = ldl(a)
    assert good is not None and factorisation_holds(a, good)
    bad_l = Factorisation(good.order, [[F(1), F(0)], [F(1), F(1)]], good.pivots)
    bad_d = Factorisation(good.order, good.lower, [good.pivots[0], good.pivots[1] + 1])
    negative = Factorisation([0], [[F(1)]], [F(-1)])
    not_unit = Factorisation(good.order, [[F(2), F(0)], good.lower[1]], good.pivots)
    upper = Factorisation(good.order, [[F(1), F(1)], good.lower[1]], good.pivots)
    not_perm = Factorisation([0, 0], good.lower, good.pivots)
    for f in (bad_l, bad_d, not_unit, upper, not_perm):
        assert not factorisation_holds(a, f)
    assert not factorisation_holds(_m([[-1]]), negative)


@settings(max_examples=60, deadline=None)
@given(
    st.integers(1, 5).flatmap(
        lambda n: st.lists(
            st.lists(st.integers(-4, 4), min_size=n, max_size=n), min_size=n, max_size=n
        )
    )
)
def test_gram_matrices_are_psd_and_their_negatives_are_not(b):
    n = len(b)
    gram = [[F(sum(b[i][k] * b[j][k] for k in range(n))) for j in range(n)] for i in range(n)]
    assert proves_psd(gram) is not None
    shifted = [[-gram[i][j] - (i == j) for j in range(n)] for i in range(n)]
    assert not psd(shifted)


def test_the_integer_elimination_decides_large_matrices():
    import numpy as np

    n = 50  # past the size where the fraction LDLᵀ is multiplied back
    b = np.random.default_rng(1).integers(-3, 4, size=(n, n))
    gram = (b @ b.T).tolist()
    assert integer_psd(gram) and decide_psd(_m(gram))
    singular = (b[:, :10] @ b[:, :10].T).tolist()  # rank 10
    assert integer_psd(singular) and decide_psd(_m(singular))
    bad = [row[:] for row in gram]
    bad[7][7] = -1
    assert not integer_psd(bad) and not decide_psd(_m(bad))
    indefinite = [[int(i == j) - (i + j == n - 1) * 2 for j in range(n)] for i in range(n)]
    assert not integer_psd(indefinite) and not decide_psd(_m(indefinite))
    asymmetric = [row[:] for row in gram]
    asymmetric[0][1] += 1
    assert not integer_psd(asymmetric) and not decide_psd(_m(asymmetric))


def test_float_matrices_are_decided_exactly():
    import numpy as np

    rng = np.random.default_rng(0)
    b = rng.standard_normal((6, 3))
    gram = b @ b.T  # rank 3: PSD in exact arithmetic, indefinite after rounding
    exact = [[F(float(v)) for v in row] for row in gram]
    assert float_matrix_psd(gram) == psd(exact)
    assert float_matrix_psd(np.eye(4) * 2 + 0.5) and not float_matrix_psd(-np.eye(2))
    assert float_matrix_psd(-np.eye(2), negate=True)
    assert not float_matrix_psd(np.array([[1.0, np.nan], [np.nan, 1.0]]))


def test_form_sign_works_block_by_block():
    # a separable sum of 10^4 squares is 10^4 blocks of size one
    n = 10_000
    assert form_sign(n, {(i, i): F(1) for i in range(n)}) == "positive"
    assert form_sign(2, {(0, 0): F(-1), (1, 1): F(-2)}) == "negative"
    assert form_sign(2, {(0, 0): F(1), (1, 1): F(-2)}) is None
    assert form_sign(2, {(0, 1): F(1), (1, 0): F(1)}) is None
    assert form_sign(3, {}) == "both"


# ---------------------------------------------------------------------------------------------
# sign reasoning
# ---------------------------------------------------------------------------------------------


def _poly(text):
    x = sympy.Symbol("x", real=True)
    return sympy.Poly(read_sympy(text, {"x": x}), x)


@pytest.mark.parametrize(
    "text, domain, claim, expected",
    [
        ("(x - 1)**2", "reals", ">=0", True),
        ("(x - 1)**2", "reals", ">0", False),
        ("(x - 1)**2", "(1, oo)", ">0", True),
        ("x**2 - 1", "[2, 5]", ">0", True),
        ("x**2 - 1", "[0, 5]", ">=0", False),
        ("x**3", "nonneg", ">=0", True),
        ("x**3", "nonneg", ">0", False),
        ("x**3", "positive", ">0", True),
        ("x**3", "reals", ">=0", False),
        ("x**4 - 2*x**2 + 1", "reals", ">=0", True),
        ("-x**2 - 1", "reals", ">=0", False),
        ("0*x", "reals", ">0", False),
        ("x - 3", "[3, 3]", ">=0", True),
    ],
)
def test_polynomial_signs(text, domain, claim, expected):
    assert polynomial_has_sign(_poly(text), parse_domain(domain), claim) is expected


def test_bisection_shows_true_signs_and_never_false_ones():
    node = read_node("2 - 2*log(x) + (x - 2)**2/10")
    box = {"x": parse_domain("[1, 2]")}
    assert bisection_shows(node, box, ">=0", 256) is not None
    assert bisection_shows(read_node("x - 3/2"), box, ">=0", 256) is None
    assert bisection_shows(node, {"x": parse_domain("positive")}, ">=0", 256) is None


def test_hessian_obstacles():
    trusted: list[str] = []
    reals = {"x": parse_domain("reals"), "y": parse_domain("positive")}
    assert hessian_obstacle(read_node("exp(x)/y"), reals, trusted.append) is None
    assert "Abs" in hessian_obstacle(read_node("Abs(x) + y"), reals, trusted.append)
    assert "Max" in hessian_obstacle(read_node("Max(x, y)"), reals, trusted.append)
    assert hessian_obstacle(read_node("log(x)"), reals, trusted.append) is not None
    nonneg = {"x": parse_domain("nonneg")}
    assert hessian_obstacle(read_node("sqrt(x)"), nonneg, trusted.append) is not None
    assert hessian_obstacle(read_node("x**3"), nonneg, trusted.append) is None
    assert trusted == []


# ---------------------------------------------------------------------------------------------
# the checks built on them
# ---------------------------------------------------------------------------------------------


def _doc(expr, variables, question, stages=None):
    kwargs = {"stages": stages} if stages else {}
    return json.loads(json.dumps(document(check(expr, variables, **kwargs), question)))


def _quadratic_node(doc):
    return next(n for n in doc["certificate"]["nodes"] if n["rule"] == "quadratic-form")


def test_a_quadratic_form_step_is_re_derived_not_trusted():
    doc = _doc("x**2 - 2*x*y + y**2 + exp(x)", {}, "convex")
    report = verify_document(doc)
    assert report.ok and not report.trusted, report.trusted
    node = _quadratic_node(doc)
    assert node["detail"]["certificate"]["semidefinite"] == "positive"
    forged = copy.deepcopy(doc)
    _quadratic_node(forged)["detail"]["certificate"]["D"][1] = "1"
    assert "multiply back" in verify_document(forged).problems[0]
    forged = copy.deepcopy(doc)
    _quadratic_node(forged)["detail"]["certificate"]["Q"][0][1] = "1"
    assert "Q" in verify_document(forged).problems[0]
    forged = copy.deepcopy(doc)  # an indefinite quadratic part, consistently forged
    forged["expression"] = "x**2 - 3*x*y + y**2 + exp(x)"
    for n in forged["certificate"]["nodes"]:
        n["expr"] = n["expr"].replace("2*x*y", "3*x*y")
        if n["rule"] == "quadratic-form":
            n["detail"]["quadratic_terms"] = "x**2 - 3*x*y + y**2"
    assert not verify_document(forged).ok


def test_a_negative_semidefinite_quadratic_form_checks():
    doc = _doc("-x**2 + x*y - y**2 + log(z)", {"z": "positive"}, "concave")
    report = verify_document(doc)
    assert report.ok and not report.trusted
    forged = copy.deepcopy(doc)
    forged["question"] = "convex"
    forged["certificate"]["nodes"] = [
        {**n, "curvature": "convex" if n["curvature"] == "concave" else n["curvature"]}
        for n in forged["certificate"]["nodes"]
    ]
    assert not verify_document(forged).ok


def _node(doc, rule):
    return next(n for n in doc["certificate"]["nodes"] if n["rule"] == rule)


def test_pattern_steps_are_checked_against_the_table():
    doc = _doc("log(exp(x) + exp(y)) + sqrt(x**2 + y**2) + x**2/z", {"z": "positive"}, "convex")
    report = verify_document(doc)
    assert report.ok and not report.trusted, report.trusted
    bad = copy.deepcopy(doc)
    _node(bad, "pattern:log_sum_exp")["monotonicity"][0] = "nonincreasing"
    assert not verify_document(bad).ok
    bad = copy.deepcopy(doc)
    _node(bad, "pattern:norm2")["detail"]["weights"][0] = "-1"
    assert not verify_document(bad).ok
    bad = copy.deepcopy(doc)
    _node(bad, "pattern:quad_over_lin")["monotonicity"][1] = "nondecreasing"
    assert not verify_document(bad).ok


def test_a_power_product_step_is_checked_against_the_table():
    doc = _doc("sqrt(x)*sqrt(y)", {"x": "positive", "y": "positive"}, "concave")
    report = verify_document(doc)
    assert report.ok, report.problems
    bad = copy.deepcopy(doc)
    _node(bad, "pattern:power_product")["detail"]["exponents"] = ["1", "1/2"]
    assert not verify_document(bad).ok


def test_the_checker_still_rejects_a_hostile_expression_as_malformed():
    doc = _doc("x*y", {}, "convex")
    doc["expression"] = "__import__('os').system('echo hacked')"
    report = verify_document(doc)
    assert not report.ok and "malformed" in report.problems[0]


# ---------------------------------------------------------------------------------------------
# the checker imports no prover, and its tensor checks do not import each other
# ---------------------------------------------------------------------------------------------

PROVERS = {
    f"convexcheck.symbolic.{m}"
    for m in [
        "dcp",
        "patterns",
        "piecewise",
        "hessian",
        "quadratic",
        "sos",
        "signs",
        "witness",
        "compiled",
        "check",
        "parser",
        "sympy_bridge",
        "cvxpy_bridge",
    ]
} | {
    f"convexcheck.tensor.{m}"
    for m in ["dcp", "psd", "psd_exact", "witness", "check", "certificate", "front", "cvxpy_bridge"]
}


def _imports(path: Path) -> set[str]:
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            out.add(node.module)
            out.update(f"{node.module}.{a.name}" for a in node.names)
    return out


def test_the_checker_imports_no_prover():
    for path in sorted((ROOT / "convexcheck" / "certificates").glob("*.py")):
        found = {m for m in _imports(path) if any(m == p or m.startswith(p + ".") for p in PROVERS)}
        assert not found, (path.name, found)


def test_the_tensor_checks_do_not_import_each_other():
    base = ROOT / "convexcheck" / "certificates"
    assert "convexcheck.certificates.tensor_witness" not in _imports(base / "tensor_check.py")
