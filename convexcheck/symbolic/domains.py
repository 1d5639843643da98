"""Variable domains: the contract's words and interval strings, parsed into :class:`Interval`.

Accepted: ``real``, ``positive``, ``nonnegative``, ``negative``, ``nonpositive`` (and the
synonyms ``reals``, ``nonneg``, ``pos``, ``neg``, ``nonpos``), or an interval such as ``[0, 1]``,
``(0, oo)``, ``[-1, 2)``, ``[1/2, 3.5]``, ``[1e-300, 1]``. Endpoints are exact rationals
(integers, ``p/q``, decimals, scientific ``2.5e-30``) or ``oo``/``-oo`` (``inf`` accepted); an
infinite endpoint is always open. A single point is ``[2, 2]`` (``{2}``, which older versions
printed, is read too). Empty intervals are an error, because a claim about an empty set proves
nothing a user wants.

Whatever the tool prints as a domain (:func:`domain_word`, the ``variables`` of ``--json``
output and of certificate documents) is read back by :func:`parse_domain` to the same interval:
endpoints are written exactly, as the shorter of scientific notation (when the rational is a
finite decimal) and ``p/q``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from fractions import Fraction

from convexcheck.errors import DomainError
from convexcheck.symbolic.interval import (
    INF,
    NEGATIVE,
    NONNEG,
    NONPOS,
    POSITIVE,
    REALS,
    Interval,
    exact_text,
)

format_endpoint = exact_text  # an endpoint written so that parse_domain reads it back exactly

NAMED_DOMAINS: dict[str, Interval] = {
    "real": REALS,
    "reals": REALS,
    "positive": POSITIVE,
    "pos": POSITIVE,
    "nonnegative": NONNEG,
    "nonneg": NONNEG,
    "negative": NEGATIVE,
    "neg": NEGATIVE,
    "nonpositive": NONPOS,
    "nonpos": NONPOS,
}

_INTERVAL = re.compile(r"^\s*([\[(])\s*([^,\s]+)\s*,\s*([^,\s]+)\s*([\])])\s*$")
_POINT = re.compile(r"^\s*\{\s*([^,\s{}]+)\s*\}\s*$")
_NUMBER = re.compile(r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d{1,3})?(?:/\d+)?$")
# An endpoint's text may be long: a float such as 1e-300 written exactly has about 330 digits
# as p/q (and 750 as a decimal). The cap stays below Python's 4,300-digit limit on converting
# between int and str; exponents have at most three digits (10**999 is a 1,000-digit integer).
MAX_ENDPOINT_CHARS = 4_000


def _endpoint(text: str, domain: str) -> Fraction | float:
    t = text.strip().lower()
    if t in ("oo", "+oo", "inf", "+inf", "infinity"):
        return INF
    if t in ("-oo", "-inf", "-infinity"):
        return -INF
    if len(t) > MAX_ENDPOINT_CHARS:
        raise DomainError(
            f"domain {domain[:60]!r}...: an endpoint is {len(t)} characters long "
            f"(at most {MAX_ENDPOINT_CHARS})"
        )
    if not _NUMBER.match(t):
        raise DomainError(
            f"domain {domain!r}: endpoint {text!r} is not a rational number or oo "
            "(write e.g. 0, 1/2, 3.14, -oo)"
        )
    numerator, _, denominator = t.partition("/")
    value = Fraction(numerator)
    if denominator:
        if int(denominator) == 0:
            raise DomainError(f"domain {domain!r}: endpoint {text!r} divides by zero")
        value /= int(denominator)
    return value


def parse_domain(spec: str | Interval) -> Interval:
    """A domain word or interval string -> :class:`Interval` (raises :class:`DomainError`)."""
    if isinstance(spec, Interval):
        return spec
    if isinstance(spec, (tuple, list)) and len(spec) == 2:
        lo, hi = (_endpoint(str(v), str(spec)) for v in spec)
        return _checked(lo, hi, False, False, str(spec))
    if not isinstance(spec, str):
        raise DomainError(f"a domain must be a string such as 'real' or '[0, 1]', not {spec!r}")
    key = spec.strip().lower()
    if key in NAMED_DOMAINS:
        return NAMED_DOMAINS[key]
    point = _POINT.match(spec)
    if point:  # "{2}": the single point, as versions before 0.x printed it
        value = _endpoint(point.group(1), spec)
        return _checked(value, value, False, False, spec)
    m = _INTERVAL.match(spec)
    if not m:
        raise DomainError(
            f"domain {spec!r} is not understood: use real, positive, nonnegative, negative, "
            "nonpositive, or an interval such as '[0, 1]' or '(0, oo)'"
        )
    left, lo_text, hi_text, right = m.groups()
    lo = _endpoint(lo_text, spec)
    hi = _endpoint(hi_text, spec)
    return _checked(lo, hi, left == "(", right == ")", spec)


def _checked(lo, hi, lo_open: bool, hi_open: bool, spec: str) -> Interval:
    if lo == INF or hi == -INF:
        raise DomainError(f"domain {spec!r} is empty (an endpoint is on the wrong side)")
    if isinstance(lo, Fraction) and lo.denominator == 1:
        lo = lo.numerator
    if isinstance(hi, Fraction) and hi.denominator == 1:
        hi = hi.numerator
    if lo > hi or (lo == hi and (lo_open or hi_open)):
        raise DomainError(f"domain {spec!r} is empty")
    return Interval(lo, hi, lo_open, hi_open)


def resolve_domains(
    names: Iterable[str],
    given: Mapping[str, str | Interval] | None,
    defaults: Mapping[str, Interval] | None = None,
) -> dict[str, Interval]:
    """The domain of each variable in ``names``: given, else a default (e.g. from SymPy
    assumptions), else ``real``. A domain given for a name not in the expression is an error."""
    given = dict(given or {})
    names = list(names)
    unknown = [n for n in given if n not in names]
    if unknown:
        listed = ", ".join(names) if names else "none"
        raise DomainError(
            f"domain given for {', '.join(repr(u) for u in unknown)}, which does not occur in "
            f"the expression (its variables: {listed})"
        )
    out: dict[str, Interval] = {}
    for name in names:
        if name in given:
            out[name] = parse_domain(given[name])
        elif defaults and name in defaults:
            out[name] = defaults[name]
        else:
            out[name] = REALS
    return out


def domain_text(interval: Interval) -> str:
    """``interval`` as an interval string that :func:`parse_domain` reads back exactly
    (a single point as ``[2, 2]``, not ``{2}``)."""
    left = "(" if interval.lo_open else "["
    right = ")" if interval.hi_open else "]"
    return f"{left}{exact_text(interval.lo)}, {exact_text(interval.hi)}{right}"


def domain_word(interval: Interval) -> str:
    """The contract word for ``interval`` if it is one of the named domains, else its interval
    string (:func:`domain_text`); either is read back by :func:`parse_domain` unchanged."""
    for word in ("real", "positive", "nonnegative", "negative", "nonpositive"):
        if NAMED_DOMAINS[word] == interval:
            return word
    return domain_text(interval)
