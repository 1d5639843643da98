"""Soundness of issue 16's rules: Piecewise functions of one affine map (``piecewise-affine``)
and the exact ranges of PSD/NSD quadratic parts (``quadratic-form`` extrema).

Property tests draw random affine maps and random 2x2 / 3x3 quadratic forms (PSD by
construction and arbitrary, so mostly indefinite); every ``yes`` must pass the independent
checker and survive dense float Jensen sampling. Tampered documents must be rejected.
"""

from __future__ import annotations

import copy
from fractions import Fraction

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from convexcheck import check
from convexcheck.certificates import documents_of, verify_document
from convexcheck.symbolic.domains import parse_domain
from convexcheck.symbolic.parser import parse
from tests.jensen import worst_jensen_gap

SETTINGS = settings(
    max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)
NAMES = ("x", "y", "z")


def _affine_text(coefficients: list[int], offset: int) -> str:
    terms = [f"{c}*{v}" for c, v in zip(coefficients, NAMES, strict=False) if c]
    return " + ".join([*terms, str(offset)])


def _assert_sound(expr: str, variables: dict[str, str]) -> list[str]:
    """Every settled ``yes`` is checked and survives sampling; the questions proved."""
    result = check(expr, variables, stages=("dcp",))
    proved = []
    docs = {d["question"]: d for d in documents_of(result)}
    domains = {v: parse_domain(d) for v, d in variables.items()}
    for q in ("convex", "concave"):
        if getattr(result, q).answer != "yes":
            continue
        proved.append(q)
        report = verify_document(docs[q])
        assert report.ok, (expr, q, report.problems)
        gap, witness = worst_jensen_gap(parse(expr), domains, q, n=3000)
        assert gap <= 0, (expr, q, gap, witness)
    return proved


def _used(coefficients: list[int]) -> dict[str, str]:
    return {v: "real" for c, v in zip(coefficients, NAMES, strict=False) if c}


coefficient_lists = st.lists(st.integers(-3, 3), min_size=2, max_size=3).filter(any)


@SETTINGS
@given(
    coefficients=coefficient_lists,
    offset=st.integers(-2, 2),
    inner=st.sampled_from(["1/2", "1", "2", "-1"]),
    outer=st.sampled_from(["1", "2", "1/2", "-1", "0"]),
    shift=st.sampled_from(["-1/2", "0", "1/2", "-1", "-3/2"]),
    width=st.sampled_from(["1", "2"]),
    scale=st.sampled_from([1, 2, 3]),
)
def test_random_huber_of_an_affine_map(coefficients, offset, inner, outer, shift, width, scale):
    """Huber-like glues of a random affine map, right and wrong; the condition is written on a
    multiple of the map (``3*(a.x + b)``), the pieces on the map itself."""
    s = _affine_text(coefficients, offset)
    expr = (
        f"Piecewise(({inner}*({s})**2, Abs({scale}*({s})) <= {scale}*{width}), "
        f"({outer}*Abs({s}) + {shift}, True))"
    )
    _assert_sound(expr, _used(coefficients))


@SETTINGS
@given(
    coefficients=coefficient_lists,
    offset=st.integers(-2, 2),
    left=st.integers(-2, 2),
    right=st.integers(-2, 2),
    jump=st.sampled_from([0, 0, 1, -1]),
    at=st.integers(-1, 1),
)
def test_random_two_slopes_of_an_affine_map(coefficients, offset, left, right, jump, at):
    """Hinge and pinball shapes: two lines of ``s`` glued at ``s = at`` (with a random jump)."""
    s = _affine_text(coefficients, offset)
    expr = f"Piecewise(({left}*({s} - {at}), {s} <= {at}), ({right}*({s} - {at}) + {jump}, True))"
    proved = _assert_sound(expr, _used(coefficients))
    if jump == 0:
        # a continuous glue: the rule must see the curvature the slopes give
        assert ("convex" in proved) == (left <= right), (expr, proved)
        assert ("concave" in proved) == (left >= right), (expr, proved)


def _form(matrix: list[list[int]], names: tuple[str, ...]) -> str:
    terms = []
    for i, a in enumerate(names):
        for j, b in enumerate(names):
            if j < i:
                continue
            c = matrix[i][j] if i == j else 2 * matrix[i][j]
            if c:
                terms.append(f"{c}*{a}*{b}" if i != j else f"{c}*{a}**2")
    return " + ".join(terms) if terms else "0"


def _gram(rows: list[list[int]]) -> list[list[int]]:
    n = len(rows[0])
    return [[sum(r[i] * r[j] for r in rows) for j in range(n)] for i in range(n)]


OUTERS = [
    "({q})**2",
    "({q})**(3/2)",
    "-({q})**2",
    "({q})**3",
    "({q} + 1)**(5/2)",
    "Max({q}, 1)**2",
    "({q} + exp(x))**2",
    "log(1 + {q})",
    "sqrt({q})",
    "sqrt({q} + 2)",
]


@SETTINGS
@given(
    n=st.sampled_from([2, 3]),
    rows=st.lists(st.lists(st.integers(-2, 2), min_size=3, max_size=3), min_size=1, max_size=3),
    psd=st.booleans(),
    negate=st.booleans(),
    linear=st.lists(st.integers(-2, 2), min_size=3, max_size=3),
    outer=st.sampled_from(OUTERS),
)
def test_random_functions_of_quadratic_forms(n, rows, psd, negate, linear, outer):
    """PSD forms ``LᵀL`` (possibly singular) and arbitrary symmetric ones (mostly indefinite),
    optionally negated (NSD), with a linear part, under convex and concave outer functions."""
    rows = [r[:n] for r in rows]
    if psd:
        matrix = _gram(rows)
    else:
        flat = [v for r in rows for v in r] + [1, -1, 2, 0, 1, -2, 1, 1, -1]
        matrix = [[0] * n for _ in range(n)]
        k = 0
        for i in range(n):
            for j in range(i, n):
                matrix[i][j] = matrix[j][i] = flat[k]
                k += 1
    if negate:
        matrix = [[-v for v in r] for r in matrix]
    names = NAMES[:n]
    q = _form(matrix, names)
    lin = " + ".join(f"{c}*{v}" for c, v in zip(linear, names, strict=False) if c)
    if lin:
        q = f"{q} + {lin}"
    expr = outer.format(q=q)
    variables = {v: "real" for v in names if v in expr}
    if "x" in expr:
        variables["x"] = "real"
    _assert_sound(expr, variables)


# ---- tampered documents ----------------------------------------------------------------------


def _yes(expr: str, variables: dict[str, str], question: str = "convex") -> dict:
    r = check(expr, variables, stages=("dcp",))
    doc = next(d for d in documents_of(r) if d["question"] == question)
    assert verify_document(doc).ok
    return doc


def _node(doc: dict, rule: str) -> dict:
    return next(n for n in doc["certificate"]["nodes"] if n["rule"] == rule)


HUBER = "Piecewise(((2*x - y + 1)**2/2, Abs(2*x - y + 1) <= 1), (Abs(2*x - y + 1) - 1/2, True))"
XY = {"x": "real", "y": "real"}


def _rejected(doc: dict) -> bool:
    return not verify_document(doc).ok


def test_piecewise_affine_records_the_scalar_form():
    detail = _node(_yes(HUBER, XY), "piecewise-affine")["detail"]
    assert detail["argument"] == "2*x - y + 1"
    assert detail["scalar"] == "Piecewise((s**2/2, Abs(s) <= 1), (Abs(s) - 1/2, True))"
    assert detail["scalar_domain"] in ("real", "(-oo, oo)")


def test_tampered_scalar_form_is_rejected():
    doc = _yes(HUBER, XY)
    bad = copy.deepcopy(doc)
    detail = _node(bad, "piecewise-affine")["detail"]
    # a convex scalar function that is *not* the expression at s = 2x - y + 1
    detail["scalar"] = "Piecewise((s**2/2, Abs(s) <= 1), (Abs(s) - 1/4, True))"
    assert _rejected(bad)
    bad = copy.deepcopy(doc)
    detail = _node(bad, "piecewise-affine")["detail"]
    detail["scalar"] = "Piecewise((s**2/2, Abs(s) <= 2), (Abs(s) - 1/2, True))"
    assert _rejected(bad)


def test_tampered_argument_and_domain_are_rejected():
    doc = _yes(HUBER, XY)
    for key, value in (
        ("argument", "2*x - y"),
        ("argument", "x*y + 1"),
        ("scalar_domain", "[-1, 1]"),
        ("variable", "x"),
    ):
        bad = copy.deepcopy(doc)
        _node(bad, "piecewise-affine")["detail"][key] = value
        assert _rejected(bad), (key, value)


def test_a_wrong_glue_passed_off_as_the_huber_is_rejected():
    """The document of the true Huber, re-labelled as a Huber with the wrong outer slope."""
    doc = _yes(HUBER, XY)
    wrong = "Piecewise(((2*x - y + 1)**2/2, Abs(2*x - y + 1) <= 1), (Abs(2*x - y + 1)/2, True))"
    bad = copy.deepcopy(doc)
    bad["expression"] = wrong
    node = _node(bad, "piecewise-affine")
    node["expr"] = wrong
    assert _rejected(bad)


def test_scalar_domain_on_a_box_is_the_image():
    doc = _yes(
        "Piecewise(((x + y)**2/2, Abs(x + y) <= 1), (Abs(x + y) - 1/2, True))",
        {"x": "[0, 3]", "y": "[-1, 1]"},
    )
    detail = _node(doc, "piecewise-affine")["detail"]
    assert parse_domain(detail["scalar_domain"]) == parse_domain("[-1, 4]")


Q = "3*u**2 - 2*u*v + v**2"
UV = {"u": "real", "v": "real"}


def test_quadratic_extremum_is_recorded_and_exact():
    doc = _yes(f"({Q} - 2*u + 5)**(3/2)", UV)
    node = _node(doc, "quadratic-form")
    extremum = node["detail"]["extremum"]
    assert extremum["bound"] == "lower"
    # 3u^2 - 2uv + v^2 - 2u + 5: gradient zero at u = v = 1/2, value 9/2
    assert {k: Fraction(v) for k, v in extremum["point"].items()} == {
        "u": Fraction(1, 2),
        "v": Fraction(1, 2),
    }
    assert Fraction(extremum["value"]) == Fraction(9, 2)


def test_tampered_extremum_is_rejected():
    doc = _yes(f"({Q})**2", UV)
    bad = copy.deepcopy(doc)
    _node(bad, "quadratic-form")["detail"]["extremum"]["point"] = {"u": "1", "v": "0"}
    assert _rejected(bad)
    bad = copy.deepcopy(doc)
    _node(bad, "quadratic-form")["detail"]["extremum"]["bound"] = "upper"
    assert _rejected(bad)
    bad = copy.deepcopy(doc)
    del _node(bad, "quadratic-form")["detail"]["extremum"]
    assert _rejected(bad)


def test_a_claimed_range_tighter_than_the_minimum_is_rejected():
    doc = _yes(f"({Q} - 2*u + 5)**(3/2)", UV)
    bad = copy.deepcopy(doc)
    _node(bad, "quadratic-form")["range"] = ["5", "oo", False, True]
    assert _rejected(bad)


def test_an_indefinite_form_passed_off_as_psd_is_rejected():
    """The certificate of (3u² - 2uv + v²)² re-labelled as the square of an indefinite form."""
    doc = _yes(f"({Q})**2", UV)
    indefinite = "u**2 - 4*u*v + v**2"
    bad = copy.deepcopy(doc)
    text = bad["expression"].replace(Q, indefinite)
    bad["expression"] = text
    for n in bad["certificate"]["nodes"]:
        n["expr"] = n["expr"].replace(Q, indefinite)
        detail = n.get("detail") or {}
        if "quadratic_terms" in detail:
            detail["quadratic_terms"] = indefinite
            detail["certificate"]["Q"] = [["1", "-2"], ["-2", "1"]]
    assert _rejected(bad)


# ---- the one-variable Piecewise step, now re-proved by the checker ----------------------------


def test_a_forged_slope_order_is_rejected():
    """``Piecewise((s, s <= 0), (0, True))`` is concave (slopes 1 then 0); its derivation
    re-labelled as convex has affine pieces that prove both, so only the slopes catch it."""
    doc = _yes("Piecewise((s, s <= 0), (0, True))", {"s": "real"}, "concave")
    bad = copy.deepcopy(doc)
    bad["question"] = "convex"
    _node(bad, "piecewise")["curvature"] = "convex"
    report = verify_document(bad)
    assert not report.ok and "slope" in report.problems[0]


def test_a_forged_jump_is_rejected():
    """A derivation of a continuous glue moved onto a function with a jump at the join."""
    doc = _yes("Piecewise((0, s <= 0), (s, True))", {"s": "real"})
    bad = copy.deepcopy(doc)
    jump = "Piecewise((0, s <= 0), (s + 1, True))"
    bad["expression"] = jump
    node = _node(bad, "piecewise")
    node["expr"] = jump
    for item in node["detail"]["active"]:
        if item["piece"] == 1:
            for n in item["certificate"]["nodes"]:
                n["expr"] = n["expr"].replace("s", "s + 1") if n["expr"] == "s" else n["expr"]
    assert _rejected(bad)


def test_a_segment_without_its_derivation_is_rejected():
    doc = _yes(HUBER.replace("2*x - y + 1", "s"), {"s": "real"})
    bad = copy.deepcopy(doc)
    for item in _node(bad, "piecewise")["detail"]["active"]:
        item.pop("certificate", None)
    assert _rejected(bad)


@SETTINGS
@given(
    left=st.sampled_from(["s**2", "-s**2", "2*s", "-s", "exp(s) - 1", "0", "Abs(s)", "s**3"]),
    right=st.sampled_from(["s**2", "-s**2", "2*s", "-s", "log(1 + s)", "0", "s/2", "-Abs(s)"]),
    at=st.sampled_from(["0", "0", "1", "-1"]),
    op=st.sampled_from(["<=", "<"]),
    domain=st.sampled_from(["real", "[-2, 3]", "positive"]),
)
def test_random_one_variable_glues(left, right, at, op, domain):
    """Two pieces of assorted curvature glued at a point: every yes is checked and sampled."""
    expr = f"Piecewise(({left}, s {op} {at}), ({right}, True))"
    try:
        _assert_sound(expr, {"s": domain})
    except Exception as exc:  # a domain the expression does not allow is not a finding
        if "DomainError" not in type(exc).__name__:
            raise


def test_norm_of_a_psd_form_is_checked_and_tampering_rejected():
    doc = _yes(f"sqrt({Q} - 2*u + 5)", UV)
    assert _node(doc, "pattern:norm_psd_form")
    bad = copy.deepcopy(doc)
    _node(bad, "quadratic-form")["detail"]["extremum"]["point"] = {"u": "0", "v": "0"}
    assert _rejected(bad)
    # the same derivation moved onto a quadratic whose minimum is negative (-1/2)
    bad = copy.deepcopy(doc)
    old, new = f"{Q} - 2*u + 5", f"{Q} - 2*u"
    bad["expression"] = bad["expression"].replace(old, new)
    for n in bad["certificate"]["nodes"]:
        n["expr"] = n["expr"].replace(old, new)
        detail = n.get("detail") or {}
        if "quadratic_terms" in detail:
            detail["quadratic_terms"] = detail["quadratic_terms"].replace(" + 5", "")
            detail["extremum"]["value"] = "1/2"
    assert _rejected(bad)
    # and claimed concave
    bad = copy.deepcopy(doc)
    bad["question"] = "concave"
    _node(bad, "pattern:norm_psd_form")["curvature"] = "concave"
    assert _rejected(bad)


@SETTINGS
@given(
    coefficients=coefficient_lists,
    offset=st.integers(-2, 2),
    inner=st.sampled_from(["1/2", "1", "-1"]),
    at=st.integers(-1, 1),
    right=st.sampled_from(["{s}", "2*({s})", "-({s})", "({s})**2", "0"]),
)
def test_random_sums_whose_affine_terms_are_one_term(coefficients, offset, inner, at, right):
    """``c*(a.x + b)**2 + a.x + b`` written without parentheses: the sum's terms ``2*x``,
    ``-y``, ... are affine only together, and the scalar form reads them as one term."""
    s = _affine_text(coefficients, offset)
    expr = f"Piecewise(({inner}*({s})**2 + {s}, {s} <= {at}), ({right.format(s=s)}, True))"
    _assert_sound(expr, _used(coefficients))


def test_a_sum_of_affine_terms_is_proved():
    doc = _yes("Piecewise(((x - y)**2/2 + x - y, x - y <= 0), (x - y, True))", XY)
    detail = _node(doc, "piecewise-affine")["detail"]
    assert detail["scalar"] == "Piecewise((s + s**2/2, s <= 0), (s, True))"
