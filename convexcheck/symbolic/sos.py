"""SOS-convexity: a polynomial whose Hessian form ``yᵀH(x)y`` is a sum of squares is convex.

Why: if ``yᵀH(x)y = zᵀQz`` with ``Q`` positive semidefinite and ``z`` a vector of monomials,
then ``yᵀH(x)y >= 0`` for every ``x`` and ``y``, i.e. ``H(x)`` is PSD everywhere, so the
polynomial is convex on all of Rⁿ (and hence on any box). This proves quartics such as
``x**4 + y**4 + x**2*y**2`` that no composition rule reaches.

How (the Peyrl–Parrilo recipe, so that the answer is exact although the solver is not):

1. ``z`` = ``y_i * m(x)`` for monomials ``m`` of degree at most ``(d-2)/2``, pruned by a
   Newton-polytope bound: ``y_i² m(x)²`` must fit inside the support of ``H_ii`` (per-variable
   and total degree), since a square that appears nowhere in the form cannot be matched.
2. An SDP in CVXPY (Clarabel, else SCS): find ``Q`` with the coefficient constraints, maximising
   the smallest eigenvalue so that the numerical solution sits in the interior of the cone.
3. Round ``Q`` to rationals, project it *exactly* onto the affine space of the coefficient
   constraints (every constraint is a sum over a disjoint set of entries, so the projection
   spreads each residual evenly over its set), and check positive semidefiniteness exactly with
   a rational LDLᵀ. Only then is it a proof.

Failing to find a certificate is never a refutation: convex polynomials that are not
SOS-convex exist.
"""

from __future__ import annotations

import itertools
import math
import time
from fractions import Fraction
from typing import Any

from convexcheck.symbolic.ir import Node, free_variables, postorder
from convexcheck.symbolic.quadratic import ldl_psd

MAX_VARIABLES = 5
MAX_BASIS = 60
MAX_TREE_SIZE = 3000  # SymPy recurses; huge inputs are DCP's job
MAX_DEGREE = 40  # far past what a basis of MAX_BASIS monomials can certify
ROUNDING_DIGITS = (4, 6, 8, 10, 12)


def as_polynomial(root: Node) -> tuple[Any, list[Any]] | None:
    """``(Poly, symbols)`` with rational coefficients, or ``None`` if ``root`` is not one."""
    import sympy

    from convexcheck.symbolic.sympy_bridge import to_sympy

    names = free_variables(root)
    if not names or len(names) > MAX_VARIABLES or root.size > MAX_TREE_SIZE:
        return None
    degree: dict[int, int] = {}  # an upper bound on each node's degree, before expanding
    for node in postorder(root):
        kids = [degree[id(a)] for a in node.args]
        if node.op in ("num", "var", "add", "mul"):
            degree[id(node)] = (
                1 if node.op == "var" else sum(kids) if node.op == "mul" else max(kids, default=0)
            )
            if degree[id(node)] > MAX_DEGREE:
                return None
            continue
        exponent = node.args[1] if node.op == "pow" else None
        if exponent is None or exponent.op != "num" or exponent.value < 0:
            return None
        if Fraction(exponent.value).denominator != 1:  # type: ignore[arg-type]
            return None
        degree[id(node)] = kids[0] * int(exponent.value)  # type: ignore[arg-type]
        if degree[id(node)] > MAX_DEGREE:  # sympy.expand((x+1)**(10**9)) would never return
            return None
    symbols = [sympy.Symbol(n, real=True) for n in names]
    try:
        expr = sympy.expand(to_sympy(root, dict(zip(names, symbols))))
        poly = sympy.Poly(expr, *symbols)
    except (sympy.PolynomialError, sympy.GeneratorsNeeded):
        return None
    if not (poly.domain.is_ZZ or poly.domain.is_QQ):
        return None
    return poly, symbols


def hessian_form(poly: Any, symbols: list[Any]) -> tuple[Any, list[Any], list[list[Any]]]:
    """``(q, ys, H)``: the polynomial ``q(x, y) = yᵀH(x)y`` in ``symbols + ys``."""
    import sympy

    n = len(symbols)
    ys = [sympy.Symbol(f"_y{i}", real=True) for i in range(n)]
    expr = poly.as_expr()
    hessian = [[sympy.diff(expr, a, b) for b in symbols] for a in symbols]
    q = sympy.expand(sum(hessian[i][j] * ys[i] * ys[j] for i in range(n) for j in range(n)))
    return sympy.Poly(q, *symbols, *ys), ys, hessian


def monomial_basis(hessian: list[list[Any]], symbols: list[Any]) -> list[tuple[int, tuple]]:
    """``(i, alpha)`` pairs: ``z = y_i * x**alpha``, pruned against the support of ``H_ii``."""
    import sympy

    n = len(symbols)
    basis = []
    for i in range(n):
        diag = sympy.Poly(hessian[i][i], *symbols)
        if diag.is_zero:
            continue
        monoms = diag.monoms()
        top = [max(m[j] for m in monoms) for j in range(n)]
        low = [min(m[j] for m in monoms) for j in range(n)]
        total_hi = max(sum(m) for m in monoms)
        total_lo = min(sum(m) for m in monoms)
        for alpha in itertools.product(*(range(top[j] // 2 + 1) for j in range(n))):
            double = [2 * a for a in alpha]
            if any(double[j] < low[j] for j in range(n)):
                continue
            if not total_lo <= sum(double) <= total_hi:
                continue
            basis.append((i, alpha))
    return basis


def _exponent(z: tuple[int, tuple], w: tuple[int, tuple], n: int) -> tuple:
    (i, a), (j, b) = z, w
    ys = [0] * n
    ys[i] += 1
    ys[j] += 1
    return tuple(a[k] + b[k] for k in range(n)) + tuple(ys)


def _groups(basis, n) -> dict[tuple, list[tuple[int, int]]]:
    groups: dict[tuple, list[tuple[int, int]]] = {}
    for k, l in itertools.combinations_with_replacement(range(len(basis)), 2):
        groups.setdefault(_exponent(basis[k], basis[l], n), []).append((k, l))
    return groups


def _reduce_faces(basis, target, n):
    """Drop ``z_k`` whose square can only come from ``Q_kk`` while its coefficient is 0.

    Then ``Q_kk = 0`` in every solution, so the whole row is 0 (``Q`` is PSD): keeping ``z_k``
    would leave the feasible set without interior and no rounding could be exactly PSD.
    Repeated until nothing changes (a simple form of facial reduction).
    """
    while True:
        groups = _groups(basis, n)
        drop = {
            k
            for k in range(len(basis))
            if groups[_exponent(basis[k], basis[k], n)] == [(k, k)]
            and target.get(_exponent(basis[k], basis[k], n), 0) == 0
        }
        if not drop:
            return basis, groups
        basis = [z for k, z in enumerate(basis) if k not in drop]


def sos_certificate(
    root: Node, question: str, budget_s: float = 5.0
) -> tuple[dict[str, Any] | None, str]:
    """``(certificate, why_not)``: an exact SOS certificate of ``yᵀ(±H)y``, or the reason."""
    import sympy

    start = time.perf_counter()
    found = as_polynomial(root)
    if found is None:
        return None, (
            "not a polynomial with rational coefficients in at most 5 variables "
            f"(and {MAX_TREE_SIZE} nodes, degree at most {MAX_DEGREE})"
        )
    poly, symbols = found
    if question == "concave":
        poly = -poly
    degree = poly.total_degree()
    if degree <= 1:
        return None, "affine polynomial (nothing to prove beyond the DCP stage)"
    if degree % 2 == 1:
        return None, f"odd degree {degree}: not SOS-convex on the whole space"
    q, _ys, hessian = hessian_form(poly, symbols)
    n = len(symbols)
    basis = monomial_basis(hessian, symbols)
    if not basis:
        return None, "empty monomial basis"
    if len(basis) > MAX_BASIS:
        return None, f"monomial basis of {len(basis)} exceeds {MAX_BASIS}"
    target = {m: Fraction(int(c.p), int(c.q)) for m, c in zip(q.monoms(), q.coeffs())}
    basis, groups = _reduce_faces(basis, target, n)
    if not basis:
        return None, "empty monomial basis after facial reduction"
    if any(m not in groups for m in target):
        return None, "the Hessian form has a term no product of basis monomials can produce"
    gram_float = _solve_sdp(len(basis), groups, target, budget_s)
    if gram_float is None:
        return None, "the SDP found no SOS decomposition (not a refutation)"
    for attempt, digits in enumerate(ROUNDING_DIGITS):
        # the work is bounded by counts (MAX_BASIS, len(ROUNDING_DIGITS)); the clock is only an
        # outer cap, and never before the first rounding, so a loaded machine still gets the
        # same certificate whenever the coarsest rounding is already exactly PSD
        if attempt and time.perf_counter() - start > budget_s:
            return None, f"time budget of {budget_s:g} s spent while rounding"
        gram = _round_and_project(gram_float, groups, target, digits)
        if gram is None:
            return None, "the SDP's Gram matrix is not finite (coefficients too large)"
        psd, _, _, _ = ldl_psd(gram)
        if psd:
            names = [s.name for s in symbols]
            return {
                "kind": "sos",
                "question": question,
                "variables": names,
                "sign": 1 if question == "convex" else -1,
                "basis": [_monomial_text(z, names) for z in basis],
                "gram": [[_q(v) for v in row] for row in gram],
                "hessian_form": sympy.sstr(q.as_expr()).replace("_y", "y"),
                "rounding_digits": digits,
            }, ""
    return None, "no rounding of the SDP solution is exactly PSD"


def _solve_sdp(size: int, groups, target, budget_s: float):
    import cvxpy as cp
    import numpy as np

    gram = cp.Variable((size, size), symmetric=True)
    t = cp.Variable()
    constraints = [gram - t * np.eye(size) >> 0, t <= 1]
    scale = max((abs(float(c)) for c in target.values()), default=1.0)
    for monomial, entries in groups.items():
        total = sum(gram[k, l] * (1 if k == l else 2) for k, l in entries)
        constraints.append(total == float(target.get(monomial, 0)) / scale)
    problem = cp.Problem(cp.Maximize(t), constraints)
    for solver in ("CLARABEL", "SCS"):
        try:
            problem.solve(solver=solver)
        except Exception:
            continue
        if gram.value is not None and t.value is not None and t.value > -1e-9:
            return gram.value * scale
    return None


def _round_and_project(gram_float, groups, target, digits: int) -> list[list[Fraction]] | None:
    """``None`` when the solver's Gram matrix is not finite (huge coefficients overflow it):
    there is nothing to round, so no certificate."""
    size = len(gram_float)
    denominator = 10**digits
    if not all(
        math.isfinite(float(gram_float[i][j]) * denominator)
        for i in range(size)
        for j in range(size)
    ):
        return None
    denominator = 10**digits
    gram = [
        [Fraction(round(float(gram_float[i][j]) * denominator), denominator) for j in range(size)]
        for i in range(size)
    ]
    for i in range(size):
        for j in range(i):
            gram[i][j] = gram[j][i]
    for monomial, entries in groups.items():
        weights = [1 if k == l else 2 for k, l in entries]
        current = sum(w * gram[k][l] for w, (k, l) in zip(weights, entries))
        residual = target.get(monomial, Fraction(0)) - current
        if residual == 0:
            continue
        shift = residual / sum(weights)
        for k, l in entries:
            gram[k][l] += shift
            if k != l:
                gram[l][k] += shift
    return gram


def _monomial_text(z: tuple[int, tuple], names: list[str]) -> str:
    i, alpha = z
    parts = [f"y{i}"]
    for name, a in zip(names, alpha):
        if a == 1:
            parts.append(name)
        elif a > 1:
            parts.append(f"{name}**{a}")
    return "*".join(parts)


def _q(v: Fraction) -> str:
    return str(v.numerator) if v.denominator == 1 else f"{v.numerator}/{v.denominator}"


def describe(certificate: dict[str, Any]) -> str:
    size = len(certificate["basis"])
    return (
        f"{certificate['question']}: yᵀ{'H' if certificate['sign'] == 1 else '(-H)'}y is a sum "
        f"of squares (exact rational {size}x{size} Gram matrix, PSD by exact LDLᵀ)"
    )
