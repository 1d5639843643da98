"""Hostile inputs: every check ends with a correct answer, ``unknown`` or a one-line error.

Regression tests for the hangs, crashes and file-safety findings of issue 10, and property
tests for their classes. Nothing here asserts on seconds: a test bounds work (the answer came
from a size cap, not from the wall-clock budget; an evaluation count; a box count), and runs in
a subprocess with a generous timeout only as a safety net against a regression that hangs.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import convexcheck as cc
from convexcheck.budget import Budget
from convexcheck.certificates import document, documents_of, verify_document
from convexcheck.certificates.checker import UnreadableDocument, read_document
from convexcheck.errors import ConvexcheckInputError
from convexcheck.symbolic import interval as iv
from convexcheck.symbolic import interval_powers as ivp
from convexcheck.symbolic import ir
from convexcheck.symbolic.check import STAGES
from convexcheck.symbolic.witness import search_witness
from tests.helpers.expressions import expressions

SAFETY_NET_S = 300  # a hang guard for subprocesses, never an assertion about speed


def cli(*args: str, cwd: str | None = None, timeout: float = SAFETY_NET_S):
    return subprocess.run(
        [sys.executable, "-m", "convexcheck", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": os.getcwd()},
    )


def _one_error_line(p) -> None:
    assert p.returncode == 2, (p.returncode, p.stderr)
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("convexcheck: error:"), p.stderr


def _not_stopped_by_budget(data: dict) -> None:
    """The answer came from the size caps: the work was bounded without the wall clock."""
    for q in ("convex", "concave"):
        assert (data[q].get("evidence") or {}).get("stopped_by") != "budget", data[q]


# ---------------------------------------------------------------------------------------------
# hangs: each ends with a correct answer or unknown, by a cap (not by running out of time)
# ---------------------------------------------------------------------------------------------

NESTED_EXP = "exp(" * 150 + "x" + ")" * 150
HANGS = [
    # expression, --var, expected (convex, concave) answers; None = any sound answer
    ("x**1000000001", ["x=[-1, 1]"], ("no", "no")),
    ("x**(10**9)", [], ("yes", None)),
    ("2**(10**9)*x", [], ("yes", "yes")),
    (NESTED_EXP, [], ("yes", None)),
    ("log(1 + exp(123456789*123456789*x))", ["x=[-0.5, 0.5]"], ("yes", None)),
    ("exp(exp(exp(123456789)))", [], ("yes", "yes")),
    ("exp(exp(exp(123456789)))*sin(x)", [], (None, None)),
    ("x**2*exp(exp(exp(123456789))) - x**4", [], (None, None)),
    ("exp(123456789*123456789*x)*sin(x)", [], (None, None)),
    ("x**1e400", [], ("yes", None)),
]


@pytest.mark.parametrize(("expr", "var", "expected"), HANGS)
def test_hostile_sizes_end_by_a_cap(expr, var, expected):
    args = ["expr", expr, "--json"]
    for v in var:
        args += ["--var", v]
    p = cli(*args)
    assert p.returncode == 0, p.stderr
    data = json.loads(p.stdout)
    for question, want in zip(("convex", "concave"), expected):
        if want is not None:
            assert data[question]["answer"] == want, data[question]
    _not_stopped_by_budget(data)


def test_huge_powers_are_enclosed_not_computed():
    # x**1000000001 at 3/7 would be a 3-gigabit integer; the enclosure is rounded outward
    r = ivp.ipow_int(iv.point(Fraction(3, 7)), 1_000_000_001)
    assert r.lo == 0 and 0 < r.hi < 1e-300
    r = ivp.ipow_int(iv.point(Fraction(-7, 3)), 1_000_000_001)
    assert r.lo == -iv.INF and r.hi < -1e300
    assert ivp.ipow_int(iv.Interval(-1, 1), 1_000_000_001) == iv.Interval(-1, 1)
    # an oo end absorbs an integer past the float range instead of raising OverflowError
    assert iv.add(iv.point(10**400), iv.REALS) == iv.REALS
    assert iv.mul(iv.point(10**400), iv.POSITIVE).hi == iv.INF
    assert iv.sum_all([iv.point(-(10**400)), iv.NONNEG]).hi == iv.INF


@settings(max_examples=150, deadline=None, derandomize=True)
@given(
    st.fractions(min_value=-4, max_value=4, max_denominator=50),
    st.integers(min_value=1, max_value=3000),
)
def test_rounded_powers_enclose_the_exact_power(q, n):
    """The class behind the x**1000000001 hang: past the exact cap x**n is computed by
    outward-rounded repeated squaring. Force that path and compare with the exact power."""
    exact = q**n
    lo, hi, is_exact = ivp._power_bounds(q if q.denominator != 1 else int(q), n)
    if is_exact:
        assert lo == hi == exact
        return
    assert lo <= exact <= hi, (q, n, lo, hi)
    # and through ipow_int, with the cap lowered so small cases take the rounded path too
    original = ivp._EXACT_POW_BITS
    ivp._EXACT_POW_BITS = 8
    try:
        r = ivp.ipow_int(iv.point(q), n)
    finally:
        ivp._EXACT_POW_BITS = original
    assert r.contains(exact if exact.denominator != 1 else exact.numerator) or (
        r.lo <= exact <= r.hi
    )


# ---------------------------------------------------------------------------------------------
# the budget caps the whole check
# ---------------------------------------------------------------------------------------------


def test_budget_caps_every_stage(monkeypatch):
    """A stage that never returns (pure Python, as SymPy is) is interrupted by the check's
    budget: unknown, with the stage named and stopped_by = budget; what was settled before
    stays settled."""
    from convexcheck.symbolic import check as check_module

    def endless(problem, open_questions):
        while True:
            pass

    monkeypatch.setattr(check_module, "STAGES", [*STAGES[:1], ("endless", endless)])
    result = check_module.check("x**3", budget_s=0.5)
    for verdict in (result.convex, result.concave):
        assert verdict.answer == "unknown"
        assert verdict.evidence["stopped_by"] == "budget"
        assert verdict.evidence["budget"]["stage"] == "endless"
        assert "budget of 0.5 s ran out" in verdict.summary
    assert result.stages[-1]["stopped_by"] == "budget"
    result.explain()
    json.dumps(result.to_dict())
    # a question settled before the stall keeps its answer
    result = check_module.check("x**2", budget_s=0.5)
    assert result.convex.answer == "yes"
    assert result.concave.answer == "unknown"
    assert result.concave.evidence["stopped_by"] == "budget"


def test_witness_effort_is_counted_in_evaluations():
    root = ir.func("sin", ir.var("x"))
    domains = {"x": iv.Interval(0, 1)}
    # sin is concave on [0, 1]: nothing to find, the search uses exactly its planned effort
    a = search_witness(root, domains, "concave", seed=3, samples=500, rounds=2)
    b = search_witness(root, domains, "concave", seed=3, samples=500, rounds=2)
    assert a.witness is None and a.stopped_by == "evaluations"
    assert a.evaluations == a.evaluation_budget == 3 * (500 + 2 * 8 * 64)
    assert (a.evaluations, a.largest_gap) == (b.evaluations, b.largest_gap)
    # a spent wall-clock budget is only an outer cap, and the report says it stopped the search
    spent = Budget(1e-9)
    c = search_witness(root, domains, "concave", seed=3, samples=500, rounds=2, budget=spent)
    assert c.stopped_by == "budget" and c.evaluations < c.evaluation_budget
    result = cc.check("x*exp(x) + Abs(x - 1)", {"x": "[0, 5]"})  # convex, but not proved
    evidence = result.convex.evidence["witness_search"]
    assert evidence["stopped_by"] == "evaluations"
    assert evidence["evaluations"] == evidence["evaluation_budget"]


def test_bad_budget_and_seed_are_input_errors():
    for budget in (0, -1, "3", True):
        with pytest.raises(ConvexcheckInputError):
            cc.check("x", budget_s=budget)
    for seed in (-1, 1.5, "0"):
        with pytest.raises(ConvexcheckInputError):
            cc.check("sin(x)", seed=seed)


# ---------------------------------------------------------------------------------------------
# crashes
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "convex"),
    [
        (["exp(x)", "--var", "x=[1e999, oo)"], "yes"),
        (["x**1e400"], "yes"),
        (["Min(x, exp(1e30)*log(exp(1e30)))", "--var", "x=positive"], None),
    ],
)
def test_overflowing_inputs_answer(args, convex):
    p = cli("expr", *args, "--json")
    assert p.returncode == 0, p.stderr
    data = json.loads(p.stdout)
    if convex is not None:
        assert data["convex"]["answer"] == convex
    assert data["concave"]["answer"] in ("yes", "no", "unknown")


def test_negative_seed_is_one_error_line():
    _one_error_line(cli("expr", "sin(x)", "--seed", "-5"))
    _one_error_line(cli("expr", "sin(x)", "--budget", "0"))


def test_explain_with_an_abbreviated_sum_whose_last_child_was_shown_before():
    # the "... 2 more terms" placeholder used to reach analysis.step(None): KeyError: None
    text = "exp(x)+sqrt(x**2+y**2)+y+exp(x)*y+x**2+Abs(x)+x*y+log(1+exp(x))"
    result = cc.check(text, stages=("dcp",))
    assert "more terms" in result.explain()


@pytest.mark.slow  # 120 random sums, each checked, explained and serialised
@settings(
    max_examples=120,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    st.lists(expressions(["x", "y"]), min_size=1, max_size=9),
    st.sampled_from(["real", "positive", "[0, 1]", "[-1, 2]"]),
)
def test_explain_and_to_dict_are_total(terms, domain):
    """The class behind the KeyError: explain() asked for a node that has no step. Random sums
    of random terms (abbreviated sums with shared subtrees) and every answer kind."""
    terms = [t for t in terms if not t.is_bool] or [ir.var("x")]
    expr = ir.add(*terms)
    names = ir.free_variables(expr)
    result = cc.check(expr, dict.fromkeys(names, domain), stages=("dcp", "witness"))
    assert isinstance(result.explain(), str)
    json.dumps(result.to_dict())


# ---------------------------------------------------------------------------------------------
# files
# ---------------------------------------------------------------------------------------------


def _a_document(tmp_path) -> dict:
    result = cc.check("x**2")
    return next(d for d in documents_of(result) if d["answer"] == "yes")


def test_proofs_verify_refuses_links_fifos_and_devices(tmp_path):
    (tmp_path / "zero.json").symlink_to("/dev/zero")
    os.mkfifo(tmp_path / "pipe.json")
    (tmp_path / "good.json").write_text(json.dumps(_a_document(tmp_path)))
    p = cli("proofs", "verify", str(tmp_path), "--json")
    assert p.returncode == 1, p.stderr
    data = json.loads(p.stdout)
    problems = {os.path.basename(d["name"]): d for d in data["documents"]}
    assert problems["good.json"]["ok"]
    assert "symbolic link" in problems["zero.json"]["problems"][0]
    assert "FIFO" in problems["pipe.json"]["problems"][0]


def test_read_document_caps_size(tmp_path, monkeypatch):
    from convexcheck.certificates import reading

    path = tmp_path / "big.json"
    path.write_text(json.dumps({"pad": "x" * 5000}))
    monkeypatch.setattr(reading, "MAX_DOCUMENT_BYTES", 1000)
    with pytest.raises(UnreadableDocument, match="limit"):
        read_document(path)
    (tmp_path / "deep.json").write_text("[" * 100_000 + "]" * 100_000)
    monkeypatch.setattr(reading, "MAX_DOCUMENT_BYTES", 10**6)
    with pytest.raises(UnreadableDocument):
        read_document(tmp_path / "deep.json")


def test_expr_certificates_into_a_fifo_is_refused(tmp_path):
    os.mkfifo(tmp_path / "convex.json")
    p = cli("expr", "x**2", "--certificates", str(tmp_path))
    _one_error_line(p)
    assert "not a regular file" in p.stderr
    assert p.stdout == ""  # refused before any work


def test_expr_certificates_replace_a_link_and_leave_its_target_alone(tmp_path):
    target = tmp_path / "precious.txt"
    target.write_text("do not touch\n")
    out = tmp_path / "out"
    out.mkdir()
    (out / "convex.json").symlink_to(target)
    p = cli("expr", "x**2", "--certificates", str(out))
    assert p.returncode == 0, p.stderr
    assert target.read_text() == "do not touch\n"
    assert not (out / "convex.json").is_symlink()
    assert json.loads((out / "convex.json").read_text())["expression"] == "x**2"
    assert sorted(f.name for f in out.iterdir()) == ["concave.json", "convex.json"]


def test_a_huge_witness_literal_fails_without_building_it():
    result = cc.check("sin(x)")
    doc = document(result, "convex")
    doc["witness"]["a"]["x"] = "1e100000000"
    report = verify_document(doc)
    assert not report.ok and "exponent" in report.problems[0]


def test_a_forged_bisection_box_count_is_refused():
    result = cc.check("exp(x) - x**3/3", {"x": "[0, 1]"})
    doc = document(result, "convex")
    text = json.dumps(doc)
    assert '"bisection"' in text and verify_document(doc).ok
    for boxes in (10**12, -1, "3", 257):
        forged = json.loads(text)
        _set_boxes(forged, boxes)
        report = verify_document(forged)
        assert not report.ok and "box" in report.problems[0], (boxes, report.problems)


def _set_boxes(item, boxes) -> None:
    if isinstance(item, dict):
        if item.get("method") == "bisection":
            item["boxes"] = boxes
        for value in item.values():
            _set_boxes(value, boxes)
    elif isinstance(item, list):
        for value in item:
            _set_boxes(value, boxes)


def test_the_checker_has_a_time_budget():
    result = cc.check("exp(x) - x**3/3", {"x": "[0, 1]"})
    doc = document(result, "convex")
    report = verify_document(doc, budget_s=1e-6)
    assert not report.ok and "time budget" in report.problems[0]
    assert verify_document(doc).ok


# ---------------------------------------------------------------------------------------------
# the class: hostile constants, exponents and nesting, all at once
# ---------------------------------------------------------------------------------------------

_X = ir.var("x")


def _hostile_leaves():
    big = st.sampled_from([10**3, 10**9, 10**9 + 1, 123456789**2, 2**200, 10**400])
    return st.one_of(
        st.just(_X),
        st.builds(lambda n: ir.power(_X, ir.num(n)), big),
        st.builds(lambda n: ir.power(ir.num(2), ir.num(n)), big),
        st.builds(lambda n: ir.func("exp", ir.mul(ir.num(n), _X)), big),
        st.builds(lambda k: ir.num(Fraction(10) ** k), st.integers(-300, 300)),
        st.builds(lambda n: ir.func("exp", ir.func("exp", ir.num(n))), big),
    )


def _hostile():
    depth_nesting = st.integers(1, 160)

    def nest(leaf, depth, fname):
        node = leaf
        for _ in range(depth):
            node = ir.func(fname, node)
        return node

    def extend(children):
        return st.one_of(
            st.builds(lambda a, b: ir.add(a, b), children, children),
            st.builds(lambda a, b: ir.mul(a, b), children, children),
            st.builds(
                nest, children, depth_nesting, st.sampled_from(["exp", "log", "sin", "atan"])
            ),
            st.builds(lambda a, b: ir.func("Min", a, b), children, children),
            st.builds(lambda a: ir.func("log", ir.add(ir.ONE, ir.func("exp", a))), children),
        )

    return st.recursive(_hostile_leaves(), extend, max_leaves=4)


_CHILD = textwrap.dedent(
    """
    import json, sys
    import convexcheck as cc
    from convexcheck.certificates import document, verify_document
    from convexcheck.symbolic.ir import free_variables
    from convexcheck.symbolic.parser import parse
    from convexcheck.errors import ParseError
    for line in sys.stdin:
        item = json.loads(line)
        try:
            names = free_variables(parse(item["expr"], max_length=None))
        except ParseError as exc:  # nested past the parser's depth limit: a one-line refusal
            assert "nested too deeply" in str(exc), exc
            print(json.dumps({"expr": item["expr"], "stopped_by": [], "convex": "refused",
                              "concave": "refused"}), flush=True)
            continue
        variables = {"x": item["domain"]} if names else None
        result = cc.check(item["expr"], variables, max_length=None)
        out = {"expr": item["expr"], "stopped_by": []}
        for q in ("convex", "concave"):
            v = getattr(result, q)
            out[q] = v.answer
            if (v.evidence or {}).get("stopped_by") == "budget":
                out["stopped_by"].append(q)
            if v.answer == "no":
                out[q + "_checked"] = verify_document(document(result, q), budget_s=None).ok
        result.explain()
        print(json.dumps(out), flush=True)
    """
)


@pytest.mark.slow  # a subprocess per example, each checking five hostile expressions
@settings(
    max_examples=4,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    st.lists(
        st.tuples(_hostile(), st.sampled_from(["real", "[-1, 1]", "[-0.5, 0.5]", "positive"])),
        min_size=5,
        max_size=5,
    )
)
def test_hostile_inputs_end_by_bounded_work_and_stay_sound(items):
    """Each check of a batch of hostile expressions ends (the subprocess timeout is only a
    guard), through the size caps rather than the 30 s default budget, and every ``no`` it
    gives is accepted by the independent checker."""
    from convexcheck.symbolic.printer import to_str

    lines = "".join(
        json.dumps({"expr": to_str(expr), "domain": domain}) + "\n" for expr, domain in items
    )
    p = subprocess.run(
        [sys.executable, "-c", _CHILD],
        input=lines,
        capture_output=True,
        text=True,
        timeout=SAFETY_NET_S * 2,
        env={**os.environ, "PYTHONPATH": os.getcwd()},
    )
    assert p.returncode == 0, p.stderr[-3000:]
    results = [json.loads(line) for line in p.stdout.splitlines()]
    assert len(results) == len(items)
    for out in results:
        assert not out["stopped_by"], out
        for q in ("convex", "concave"):
            if out[q] == "no":
                assert out[q + "_checked"], out


def test_proofs_verify_budget_option(tmp_path):
    (tmp_path / "good.json").write_text(json.dumps(_a_document(tmp_path)))
    p = cli("proofs", "verify", str(tmp_path), "--budget", "30")
    assert p.returncode == 0, p.stderr
    _one_error_line(cli("proofs", "verify", str(tmp_path), "--budget", "-1"))
