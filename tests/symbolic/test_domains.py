"""Variable domains: named domains, interval strings, errors and resolution."""

from __future__ import annotations

from fractions import Fraction

import pytest

from convexcheck.errors import ConvexcheckInputError, DomainError
from convexcheck.symbolic.domains import domain_word, parse_domain, resolve_domains
from convexcheck.symbolic.interval import (
    INF,
    NEGATIVE,
    NONNEG,
    NONPOS,
    POSITIVE,
    REALS,
    Interval,
)


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("real", REALS),
        ("reals", REALS),
        ("positive", POSITIVE),
        ("pos", POSITIVE),
        ("nonnegative", NONNEG),
        ("nonneg", NONNEG),
        ("negative", NEGATIVE),
        ("neg", NEGATIVE),
        ("nonpositive", NONPOS),
        ("nonpos", NONPOS),
        ("  Positive ", POSITIVE),
        ("REAL", REALS),
    ],
)
def test_named_domains(spec, expected):
    assert parse_domain(spec) == expected


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("[0, 1]", Interval(0, 1)),
        ("(0, 1)", Interval(0, 1, True, True)),
        ("[0, 1)", Interval(0, 1, False, True)),
        ("(0, 1]", Interval(0, 1, True, False)),
        ("(0, oo)", POSITIVE),
        ("[0, oo)", NONNEG),
        ("[0, oo]", NONNEG),  # infinite ends are always open
        ("(-oo, 0)", NEGATIVE),
        ("(-oo, 0]", NONPOS),
        ("(-oo, oo)", REALS),
        ("[-inf, +inf]", REALS),
        ("(-infinity, infinity)", REALS),
        ("[1/2, 3.5]", Interval(Fraction(1, 2), Fraction(7, 2))),
        ("[-1/3, 2/3)", Interval(Fraction(-1, 3), Fraction(2, 3), False, True)),
        ("[0.1, 0.2]", Interval(Fraction(1, 10), Fraction(1, 5))),
        ("[1e-3, 1e3]", Interval(Fraction(1, 1000), 1000)),
        ("[.5, 5.]", Interval(Fraction(1, 2), 5)),
        ("[+1, 2]", Interval(1, 2)),
        ("[2, 2]", Interval(2, 2)),
        ("  [ -1 ,  2 ]  ", Interval(-1, 2)),
        ("[-1,2]", Interval(-1, 2)),
        ("[4/2, 3]", Interval(2, 3)),
    ],
)
def test_interval_strings(spec, expected):
    got = parse_domain(spec)
    assert got == expected
    # integer-valued ends are ints (exact, fast), others exact Fractions
    for end in (got.lo, got.hi):
        assert isinstance(end, (int, Fraction)) or end in (INF, -INF)
        if isinstance(end, Fraction):
            assert end.denominator != 1


def test_exactness_of_decimals():
    r = parse_domain("[0.1, 0.3]")
    assert r.lo == Fraction(1, 10) and r.hi == Fraction(3, 10)
    assert r.lo + r.lo + r.lo == r.hi


def test_interval_and_tuple_passthrough():
    r = Interval(0, 1)
    assert parse_domain(r) is r
    assert parse_domain((0, 1)) == Interval(0, 1)
    assert parse_domain(["-oo", "1/2"]) == Interval(-INF, Fraction(1, 2))
    assert parse_domain((0.5, float("inf"))) == Interval(Fraction(1, 2), INF)


@pytest.mark.parametrize(
    "spec",
    [
        "",
        "   ",
        "[]",
        "[1, 0]",  # reversed
        "(1, 1)",  # empty
        "[1, 1)",
        "(1, 1]",
        "[oo, oo]",
        "(oo, 1)",
        "(-oo, -oo)",
        "[0, 1",  # malformed
        "0, 1]",
        "[0; 1]",
        "[0, 1, 2]",
        "[0 1]",
        "<0, 1>",
        "[a, b]",  # non-numeric endpoints
        "[x, 1]",
        "[nan, 1]",
        "[pi, 4]",
        "[1, e]",
        "[1/0, 2]",  # division by zero
        "[0, 1/0]",
        "[1/x, 2]",
        "[1//2, 2]",
        "[1e5000, 1]",
        "[0x10, 20]",
        "[" + "1" * 300 + ", 1]",
        "unbounded",
        "positive real",
        "[__import__('os'), 1]",
    ],
)
def test_bad_domains(spec):
    with pytest.raises(DomainError) as info:
        parse_domain(spec)
    assert isinstance(info.value, ConvexcheckInputError)
    assert str(info.value)


@pytest.mark.parametrize("spec", [None, 3, 1.5, {"a": 1}, (1,), (1, 2, 3)])
def test_bad_domain_types(spec):
    with pytest.raises(DomainError):
        parse_domain(spec)  # type: ignore[arg-type]


def test_error_messages_are_specific():
    with pytest.raises(DomainError, match="empty"):
        parse_domain("[2, 1]")
    with pytest.raises(DomainError, match="divides by zero"):
        parse_domain("[1/0, 2]")
    with pytest.raises(DomainError, match="not a rational number"):
        parse_domain("[a, 2]")
    with pytest.raises(DomainError, match="not understood"):
        parse_domain("[0, 1")


def test_resolve_domains_defaults_and_given():
    out = resolve_domains(["x", "y", "z"], {"x": "positive", "y": "[0, 1]"})
    assert out == {"x": POSITIVE, "y": Interval(0, 1), "z": REALS}
    assert list(out) == ["x", "y", "z"]
    out = resolve_domains(["x", "y"], None, defaults={"y": NONNEG})
    assert out == {"x": REALS, "y": NONNEG}
    # a given domain beats a default
    out = resolve_domains(["y"], {"y": "negative"}, defaults={"y": NONNEG})
    assert out == {"y": NEGATIVE}
    assert resolve_domains([], None) == {}
    assert resolve_domains(["x"], {"x": Interval(1, 2)}) == {"x": Interval(1, 2)}


def test_resolve_domains_unknown_variable():
    with pytest.raises(DomainError, match="'w'"):
        resolve_domains(["x", "y"], {"w": "positive"})
    with pytest.raises(DomainError, match="none"):
        resolve_domains([], {"x": "real"})


def test_resolve_domains_propagates_bad_specs():
    with pytest.raises(DomainError):
        resolve_domains(["x"], {"x": "[1, 0]"})


def test_domain_word():
    assert domain_word(REALS) == "real"
    assert domain_word(POSITIVE) == "positive"
    assert domain_word(NONNEG) == "nonnegative"
    assert domain_word(NEGATIVE) == "negative"
    assert domain_word(NONPOS) == "nonpositive"
    assert domain_word(Interval(0, 1)) == "[0, 1]"
