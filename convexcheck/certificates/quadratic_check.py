"""Checking a ``quadratic-form`` step of a DCP derivation: ``q(x) + sum of terms``, where ``q``
is a polynomial of degree at most 2 whose quadratic part ``zᵀQz`` is PSD (convex) or NSD.

Re-derived, not trusted: the checker reads the quadratic part from the document's text itself,
computes its polynomial and ``Q`` with its own walk over its own reading, decides the sign of
``Q`` by its own checked LDLᵀ block by block (:func:`~.exact_linalg.form_sign`), and, where the
document writes out its factorisation ``P Q Pᵀ = L D Lᵀ``, multiplies that back exactly too and
checks every pivot has the claimed sign. That the node is the quadratic part plus its children
is checked with the other steps' structure (:mod:`.dcp_structure`); that the children have the
claimed curvature, by the composition rule.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from convexcheck.certificates.context import Context, require
from convexcheck.certificates.exact_linalg import Factorisation, factorisation_holds, form_sign
from convexcheck.symbolic.ir import Node, postorder

Poly = dict[tuple[str, ...], Fraction]
MAX_WRITTEN = 60  # the prover writes L out up to this many variables


def quadratic_poly(root: Node) -> Poly | None:
    """``root`` as a polynomial of degree <= 2 with rational coefficients (monomials are sorted
    tuples of variable names), or ``None`` when it is not one."""
    memo: dict[int, Poly | None] = {}
    for node in postorder(root):
        memo[id(node)] = _poly(node, [memo[id(a)] for a in node.args])
    return memo[id(root)]


def _times(a: Poly, b: Poly) -> Poly | None:
    out: Poly = {}
    for ma, ca in a.items():
        for mb, cb in b.items():
            m = tuple(sorted(ma + mb))
            if len(m) > 2:
                return None
            out[m] = out.get(m, Fraction(0)) + ca * cb
    return {m: c for m, c in out.items() if c != 0}


def _poly(node: Node, kids: list[Poly | None]) -> Poly | None:
    op = node.op
    if op == "num":
        q = Fraction(node.value)  # type: ignore[arg-type]
        return {(): q} if q != 0 else {}
    if op == "var":
        return {(str(node.value),): Fraction(1)}
    if any(k is None for k in kids):
        return None
    if op == "add":
        out: Poly = {}
        for k in kids:
            for m, c in k.items():  # type: ignore[union-attr]
                out[m] = out.get(m, Fraction(0)) + c
        return {m: c for m, c in out.items() if c != 0}
    if op == "mul":
        acc: Poly | None = {(): Fraction(1)}
        for k in kids:
            acc = None if acc is None else _times(acc, k)  # type: ignore[arg-type]
        return acc
    if op == "pow" and node.args[1].op == "num" and node.args[1].value in (0, 1, 2):
        base = kids[0]
        power = int(node.args[1].value)  # type: ignore[arg-type]
        if power == 0:
            return None  # u**0 is 1 only where u is defined and nonzero: not a polynomial step
        return base if power == 1 else _times(base, base)  # type: ignore[arg-type]
    return None


def quadratic_matrix(p: Poly) -> tuple[list[str], dict[tuple[int, int], Fraction]]:
    """The variables of the degree-2 monomials (sorted) and ``Q`` with ``zᵀQz`` the quadratic
    part, as its nonzero entries."""
    names = sorted({v for m in p if len(m) == 2 for v in m})
    index = {v: i for i, v in enumerate(names)}
    q: dict[tuple[int, int], Fraction] = {}
    for m, c in p.items():
        if len(m) != 2:
            continue
        i, j = index[m[0]], index[m[1]]
        if i == j:
            q[(i, i)] = q.get((i, i), Fraction(0)) + c
        else:
            for key in ((i, j), (j, i)):
                q[key] = q.get(key, Fraction(0)) + c / 2
    return names, {k: v for k, v in q.items() if v != 0}


def check_quadratic_form(ctx: Context, entry: dict[str, Any], claimed: list[str]) -> None:
    """The quadratic part of ``entry`` is PSD for each claimed ``convex``, NSD for ``concave``."""
    detail = entry.get("detail") or {}
    text = detail.get("quadratic_terms")
    cert = detail.get("certificate")
    require(isinstance(text, str) and isinstance(cert, dict), "a quadratic-form step without Q")
    if text.endswith("..."):
        ctx.trusted.append(
            f"quadratic-form step for {entry['expr']}: its quadratic part is truncated in the "
            "document, so its semidefiniteness is taken as claimed"
        )
        return
    p = quadratic_poly(ctx.node_of(text))
    require(p is not None, f"{text[:60]} is not a polynomial of degree at most 2")
    names, q = quadratic_matrix(p)  # type: ignore[arg-type]
    sign = form_sign(len(names), q)
    for question in claimed:
        wanted = "positive" if question == "convex" else "negative"
        require(
            sign in (wanted, "both"),
            f"the quadratic part {text[:60]} is not shown {wanted} semidefinite "
            "(the checker's exact LDLᵀ)",
        )
    _check_written_factorisation(cert, names, q)


def _check_written_factorisation(
    cert: dict[str, Any], names: list[str], q: dict[tuple[int, int], Fraction]
) -> None:
    """Where the document writes ``Q`` and ``P Q Pᵀ = L D Lᵀ`` out, both must be right."""
    n = len(names)
    require(list(cert.get("variables", [])) == names, "the certificate's variables are not Q's")
    if "Q" in cert:
        written = [[Fraction(v) for v in row] for row in cert["Q"]]
        ours = [[q.get((i, j), Fraction(0)) for j in range(n)] for i in range(n)]
        require(written == ours, "the certificate's Q is not the quadratic part's")
    lower, pivots = cert.get("L"), cert.get("D")
    if n > MAX_WRITTEN or not lower or pivots is None or len(pivots) != n:
        return  # not written out: the checker's own LDLᵀ above is the proof
    sign = -1 if cert.get("semidefinite") == "negative" else 1
    f = Factorisation(
        [int(k) for k in cert["permutation"]],
        [[Fraction(v) for v in row] for row in lower],
        [sign * Fraction(d) for d in pivots],
    )
    matrix = [[sign * q.get((i, j), Fraction(0)) for j in range(n)] for i in range(n)]
    require(
        factorisation_holds(matrix, f),
        "the certificate's L D Lᵀ does not multiply back to P Q Pᵀ with pivots of its sign",
    )


def quadratic_form_range(ctx: Context, entry: dict[str, Any], kids: list[Any]):
    """The range of a ``quadratic-form`` step from its quadratic part's exact extremum, or ``None``.

    Why (issue 16, item 3): a PSD quadratic form is ``>= 0`` although interval arithmetic says
    ``(-oo, oo)``, and the rules above it (a square nondecreasing on ``[0, oo)``) need that. The
    document writes a point ``z*`` and the value there; nothing of it is believed: the checker
    reads the quadratic part itself, decides ``Q`` PSD (NSD) by its own LDLᵀ, evaluates its own
    gradient of the polynomial at ``z*`` (it must vanish exactly: a stationary point of a
    convex quadratic is a global minimum) and the polynomial there. The range is that bound
    plus the other terms' enclosures (the checker's own). Anything missing gives ``None``.
    """
    from convexcheck.symbolic import interval as iv

    detail = entry.get("detail") or {}
    extremum, text = detail.get("extremum"), detail.get("quadratic_terms")
    if not isinstance(extremum, dict) or not isinstance(text, str) or text.endswith("..."):
        return None
    if any(k is None for k in kids):
        return None
    p = quadratic_poly(ctx.node_of(text))
    if p is None:
        return None
    names, q = quadratic_matrix(p)
    sign = form_sign(len(names), q)
    bound = extremum.get("bound")
    if (bound, sign) not in (("lower", "positive"), ("upper", "negative")):
        return None
    written = extremum.get("point")
    variables = sorted({v for m in p for v in m})
    if not isinstance(written, dict) or set(written) != set(variables):
        return None
    point = {v: Fraction(str(written[v])) for v in variables}
    for v in variables:
        slope = Fraction(0)
        for m, c in p.items():
            if v not in m:
                continue
            rest = list(m)
            rest.remove(v)
            factor = Fraction(2 if len(m) == 2 and m[0] == m[1] else 1)
            slope += factor * c * (point[rest[0]] if rest else 1)
        if slope != 0:
            return None
    value = Fraction(0)
    for m, c in p.items():
        term = c
        for v in m:
            term *= point[v]
        value += term
    own = iv.make(value, iv.INF, False, True) if bound == "lower" else iv.make(-iv.INF, value, True)
    return iv.sum_all([own, *kids]) if kids else own


def check_norm_of_form(
    ctx: Context, entry: dict[str, Any], kids: list[dict[str, Any]], claimed: list[str]
) -> None:
    """``sqrt(q)`` is convex when ``q`` is a quadratic with ``Q`` PSD and minimum ``m >= 0``:
    ``q = (z - z*)ᵀQ(z - z*) + m`` and ``sqrt(q)`` is the norm of an affine map. The minimum
    is the checker's own (:func:`quadratic_form_range`: its LDLᵀ, its gradient at ``z*``)."""
    require(set(claimed) <= {"convex"}, f"{entry['expr']}: a norm is convex, not concave")
    require(
        len(kids) == 1 and kids[0]["rule"] == "quadratic-form" and not kids[0].get("children"),
        f"{entry['expr']}: the square root is not of a quadratic form alone",
    )
    node = ctx.node_of(entry["expr"])
    require(
        node.op == "pow"
        and node.args[1].op == "num"
        and Fraction(node.args[1].value) == Fraction(1, 2)  # type: ignore[arg-type]
        and not kids[0]["expr"].endswith("...")
        and node.args[0] is ctx.node_of(kids[0]["expr"]),
        f"{entry['expr']} is not the square root of {kids[0]['expr']}",
    )
    low = quadratic_form_range(ctx, kids[0], [])
    require(
        low is not None and low.nonneg,
        f"{kids[0]['expr']} is not shown nonnegative with a PSD matrix",
    )
