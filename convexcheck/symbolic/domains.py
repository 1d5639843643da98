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
)

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
# between int and str, and the exponent below 10**999 (a 1,000-digit integer).
MAX_ENDPOINT_CHARS = 4_000
MAX_EXPONENT = 999


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


def format_endpoint(q) -> str:
    """``q`` written exactly, in a form :func:`parse_domain` reads back to the same value.

    A finite decimal (a denominator with no prime factor but 2 and 5) is written as a decimal,
    in scientific notation when it is very large or small (``1e-300``, ``2.5e-30``); any other
    rational as ``p/q``; whichever is shorter when both apply."""
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
    if n.bit_length() > 3 * MAX_ENDPOINT_CHARS:  # more digits than the reader accepts
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
    if abs(scientific) > MAX_EXPONENT:
        return None
    mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
    return f"{sign}{mantissa}e{scientific}"


def domain_text(interval: Interval) -> str:
    """``interval`` as an interval string that :func:`parse_domain` reads back exactly
    (a single point as ``[2, 2]``, not ``{2}``)."""
    left = "(" if interval.lo_open else "["
    right = ")" if interval.hi_open else "]"
    return f"{left}{format_endpoint(interval.lo)}, {format_endpoint(interval.hi)}{right}"


def domain_word(interval: Interval) -> str:
    """The contract word for ``interval`` if it is one of the named domains, else its interval
    string (:func:`domain_text`); either is read back by :func:`parse_domain` unchanged."""
    for word in ("real", "positive", "nonnegative", "negative", "nonpositive"):
        if NAMED_DOMAINS[word] == interval:
            return word
    return domain_text(interval)
