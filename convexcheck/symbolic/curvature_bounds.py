"""``curvature_bounds``: the certified ``(mu, L)`` of a closed form, checked before it is shown.

The engine is :mod:`convexcheck.symbolic.curvature`; this module turns an expression and its
domains into the symbolic Hessian, runs the engine for ``mu`` (on ``H``) and for ``L`` (on
``-H``), writes the certificate document and hands it to the independent checker
(:mod:`convexcheck.certificates.curvature_check`). A bound the checker does not confirm is never
reported: it becomes ``None`` and the evidence says why (THE RULE: no claim without a checked
proof).
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from convexcheck.errors import ConvexcheckInputError
from convexcheck.symbolic import interval as iv
from convexcheck.symbolic.curvature import (
    DEFAULT_MAX_BOXES,
    Bound,
    Structure,
    centre,
    lower_bound_tree,
)
from convexcheck.symbolic.interval import INF, exact_text

KIND = "curvature-bounds"


def _as_float_down(q: Bound | None) -> float | None:
    return None if q is None else iv.float_down(q)


def _as_float_up(q: Bound | None) -> float | None:
    return None if q is None else iv.float_up(q)


@dataclass
class CurvatureBounds:
    """Proved curvature constants of ``f`` on the box of its variables' domains.

    ``mu <= λ_min(∇²f(x))`` and ``λ_max(∇²f(x)) <= L`` for every ``x`` in the domain. Each is an
    exact ``Fraction``, ``-inf``/``inf`` (proved, but unbounded: nothing finite could be shown),
    or ``None`` (nothing proved). ``checked`` is ``True`` only when the independent checker
    re-derived every reported bound from the certificate.
    """

    expression: str
    variables: dict[str, str]
    mu: Bound | None
    L: Bound | None
    certificate: dict[str, Any] | None
    checked: bool
    evidence: dict[str, Any] = field(default_factory=dict)

    @property
    def mu_float(self) -> float | None:
        """``mu`` rounded down to a float (still a proved lower bound)."""
        return _as_float_down(self.mu)

    @property
    def L_float(self) -> float | None:
        """``L`` rounded up to a float (still a proved upper bound)."""
        return _as_float_up(self.L)

    @property
    def step_size(self) -> float | None:
        """``1/L`` rounded down: a gradient step no larger than the classical safe step ``1/L``
        of an ``L``-smooth function; ``None`` unless ``0 < L < inf`` was proved."""
        if self.L is None or self.L == INF or self.L <= 0:
            return None
        return iv.float_down(1 / Fraction(self.L))

    @property
    def condition_number(self) -> float | None:
        """``L/mu`` rounded up (an upper bound of the Hessian's condition number on the domain),
        ``None`` unless ``0 < mu`` and ``L < inf`` were proved."""
        if self.mu is None or self.L is None or self.L == INF or self.mu == -INF:
            return None
        if self.mu <= 0:
            return None
        return iv.float_up(Fraction(self.L) / Fraction(self.mu))

    @property
    def strongly_convex(self) -> bool:
        """``mu > 0`` was proved: the function is ``mu``-strongly convex on the domain."""
        return self.mu is not None and self.mu > 0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: bounds as exact strings (``"oo"``/``"-oo"``) and as floats."""
        return {
            "expression": self.expression,
            "variables": dict(self.variables),
            "mu": None if self.mu is None else exact_text(self.mu),
            "L": None if self.L is None else exact_text(self.L),
            "mu_float": _json_float(self.mu_float),
            "L_float": _json_float(self.L_float),
            "step_size": self.step_size,
            "condition_number": self.condition_number,
            "checked": self.checked,
            "certificate": self.certificate,
            "evidence": self.evidence,
        }

    def explain(self) -> str:
        """What the numbers mean, in words."""
        lines = [f"Curvature constants of {self.expression} on the domain:"]
        if self.mu is None:
            lines.append("  mu: not proved (no lower bound on the Hessian's eigenvalues)")
        elif self.mu == -INF:
            lines.append("  mu: -oo (no finite lower bound could be proved)")
        else:
            what = (
                f"{self.mu_float:.6g}-strongly convex"
                if self.mu > 0
                else "convex"
                if self.mu == 0
                else "not shown convex by this bound"
            )
            lines.append(
                f"  mu = {_shown(self.mu)}: every Hessian eigenvalue "
                f"is at least mu, so f is {what} there"
            )
        if self.L is None:
            lines.append("  L: not proved (no upper bound on the Hessian's eigenvalues)")
        elif self.L == INF:
            lines.append("  L: oo (the curvature is not shown bounded; no safe constant step)")
        else:
            lines.append(
                f"  L = {_shown(self.L)}: every Hessian eigenvalue is "
                "at most L, so the gradient is L-Lipschitz there"
            )
        if self.step_size is not None:
            lines.append(f"  safe gradient step 1/L ≈ {self.step_size:.6g}")
        if self.condition_number is not None:
            lines.append(
                f"  condition number L/mu ≤ {self.condition_number:.6g} (gradient descent with "
                f"step 1/L contracts by 1 - mu/L per step)"
            )
        lines.append(
            "  checked by the independent checker" if self.checked else "  (nothing was checked)"
        )
        return "\n".join(lines)

    __str__ = explain


def _shown(q: Bound) -> str:
    """A bound for reading: exact when short (``3``, ``1/4``), else its outward float."""
    text = exact_text(q)
    if len(text) <= 16:
        return text
    return f"≈ {float(q):.10g}"


def _json_float(x: float | None) -> float | str | None:
    if x is None:
        return None
    if math.isinf(x):
        return "oo" if x > 0 else "-oo"
    return x


def curvature_bounds(
    expression: Any,
    variables: Mapping[str, Any] | None = None,
    *,
    seed: int = 0,
    budget_s: float | None = None,
    max_boxes: int = DEFAULT_MAX_BOXES,
) -> CurvatureBounds:
    """Proved ``mu <= λ_min(∇²f) <= λ_max(∇²f) <= L`` for ``f`` = ``expression`` on the box of
    ``variables`` (domains as for :func:`convexcheck.check`).

    ``max_boxes`` is the number of boxes the bisection may use per bound (it decides, so the
    answer is deterministic); ``budget_s`` is only an outer wall-clock cap (when it stops the
    search the evidence says so; the bounds are then looser, still proved). ``seed`` is
    accepted for symmetry with :func:`convexcheck.check` (nothing here is random). Every
    reported bound has been re-derived by the independent checker; one that is not is ``None``.

    A CVXPY expression (domains as variable attributes, no ``variables``) goes through the
    tensor engine: a quadratic loss on data such as ``sum_squares(A @ x - b) / n +
    lam * sum_squares(x)`` has the constant Hessian ``H = (2/n) AᵀA + 2 lam I``, formed
    exactly from the float64 data, and ``mu``/``L`` are float estimates of its extreme
    eigenvalues (``A``'s extreme singular values, squared and scaled), shrunk outward and proved
    by exact LDLᵀ of ``H - mu I`` and ``L I - H`` (at most 60 variable entries). Anything that
    is not such a quadratic gets ``None`` with the reason in the evidence.
    """
    from convexcheck.certificates.curvature_check import check_curvature
    from convexcheck.symbolic.check import to_problem
    from convexcheck.symbolic.domains import domain_word
    from convexcheck.symbolic.hessian import symbolic_hessian
    from convexcheck.symbolic.ir import free_variables
    from convexcheck.symbolic.parser import parse

    del seed
    if (type(expression).__module__ or "").startswith("cvxpy"):
        return _cvxpy_bounds(expression, variables)
    if not isinstance(max_boxes, int) or isinstance(max_boxes, bool) or max_boxes < 1:
        raise ConvexcheckInputError(f"max_boxes must be a positive integer, got {max_boxes!r}")
    if budget_s is not None and not budget_s > 0:
        raise ConvexcheckInputError(f"budget_s must be a positive number, got {budget_s!r}")
    problem = to_problem(expression, variables)
    names = free_variables(problem.root)
    words = {n: domain_word(d) for n, d in problem.domains.items()}
    if not problem.domains:
        raise ConvexcheckInputError("the expression has no variables: it has no Hessian")
    deadline = None if budget_s is None else time.perf_counter() + budget_s
    evidence: dict[str, Any] = {"max_boxes": max_boxes}
    if budget_s is not None:
        evidence["budget_s"] = budget_s

    def unproved(why: str) -> CurvatureBounds:
        evidence["reason"] = why
        return CurvatureBounds(problem.text, words, None, None, None, False, evidence)

    attempt = symbolic_hessian(problem.root, problem.domains, budget_s)
    if attempt.obstacle is not None or (attempt.matrix is None and attempt.names):
        return unproved(attempt.obstacle or "no Hessian")
    import sympy

    # the Hessian in every variable given: one the expression does not use adds a zero row
    names = list(attempt.names) + [n for n in problem.domains if n not in attempt.names]
    k = len(attempt.names)
    matrix = attempt.matrix
    texts = [
        [sympy.sstr(matrix[i, j]) if i < k and j < k else "0" for j in range(len(names))]
        for i in range(len(names))
    ]
    try:
        nodes = [[parse(t, max_length=None) for t in row] for row in texts]
    except Exception as exc:  # an entry SymPy wrote in a form the parser does not read
        return unproved(f"a Hessian entry could not be read back: {type(exc).__name__}")
    structure, structure_text = None, None
    found = find_structure(matrix, names, problem.domains, deadline) if k else None
    if found is not None:
        constant, pattern, g_text = found
        try:
            structure = Structure(constant, pattern, parse(g_text, max_length=None))
            structure_text = {
                "constant": [[exact_text(v) for v in row] for row in constant],
                "pattern": [[exact_text(v) for v in row] for row in pattern],
                "g": g_text,
            }
        except Exception:  # g in a form the parser does not read: go without the structure
            structure = None
    bounds: dict[str, Any] = {}
    for key, sign in (("mu", 1), ("L", -1)):
        value, tree, ev = lower_bound_tree(
            nodes,
            names,
            problem.domains,
            sign,
            max_boxes=max_boxes,
            deadline=deadline,
            structure=structure,
        )
        evidence[key] = ev
        if value is None:
            bounds[key] = None
            continue
        value = value if sign > 0 else -value
        bounds[key] = {"value": exact_text(value), "tree": tree}
    certificate = {
        "kind": KIND,
        "expression": problem.text,
        "variables": words,
        "order": names,
        "hessian": texts,
        "mu": bounds["mu"],
        "L": bounds["L"],
    }
    if structure_text is not None:
        certificate["structure"] = structure_text
    report = check_curvature(certificate)
    evidence["checker"] = {"ok": report.ok, "problems": report.problems, "trusted": report.trusted}
    if not report.ok:
        return CurvatureBounds(problem.text, words, None, None, certificate, False, evidence)
    mu = None if bounds["mu"] is None else _read(bounds["mu"]["value"])
    L = None if bounds["L"] is None else _read(bounds["L"]["value"])
    checked = mu is not None or L is not None
    return CurvatureBounds(problem.text, words, mu, L, certificate, checked, evidence)


def _cvxpy_bounds(expression: Any, variables: Mapping[str, Any] | None) -> CurvatureBounds:
    """The quadratic-on-data case (:mod:`convexcheck.tensor.curvature_data`), checked by
    :mod:`convexcheck.certificates.curvature_data_check` before anything is reported."""
    from convexcheck.certificates.curvature_data_check import check_curvature_data
    from convexcheck.tensor.curvature_data import (
        NotQuadratic,
        certificate,
        cvxpy_tree,
        exact_hessian,
        prove_bounds,
    )
    from convexcheck.tensor.expr import variables_of

    if variables:
        raise ConvexcheckInputError(
            "for a CVXPY expression, give domains as variable attributes, not as variables=..."
        )
    root, text = cvxpy_tree(expression)
    words = {info.name: info.domain_word() for info in variables_of(root)}
    evidence: dict[str, Any] = {"engine": "tensor (quadratic on data)"}
    try:
        names, h = exact_hessian(root)
    except NotQuadratic as exc:
        evidence["reason"] = f"not a quadratic with a constant Hessian: {exc}"
        return CurvatureBounds(text, words, None, None, None, False, evidence)
    mu, L, tried = prove_bounds(h)
    evidence.update(tried)
    cert = certificate(root, names, h, mu, L)
    report = check_curvature_data(cert)
    evidence["checker"] = {"ok": report.ok, "problems": report.problems, "trusted": report.trusted}
    if not report.ok:
        return CurvatureBounds(text, words, None, None, cert, False, evidence)
    checked = mu is not None or L is not None
    return CurvatureBounds(text, words, mu, L, cert, checked, evidence)


def find_structure(
    matrix: Any, names: list[str], domains: Mapping[str, Any], deadline: float | None
) -> tuple[list[list[Fraction]], list[list[Fraction]], str] | None:
    """``(C, P, g)`` with ``H = C + g·P`` identically (``C``, ``P`` rational), or ``None``.

    ``g`` is the shortest nonconstant entry; the ratio ``r`` of every other entry's variation to
    ``g``'s is read off two sample points (a guess, rationalised), and then *proved*: ``h - r·g``
    must simplify to a rational constant. The checker re-proves the identity entry by entry."""
    import sympy

    from convexcheck.symbolic.hessian import simplify_entry

    k = matrix.shape[0]
    n = len(names)
    nonconstant = [(i, j) for i in range(k) for j in range(i, k) if matrix[i, j].free_symbols]
    if not nonconstant:
        return None
    ref = min(nonconstant, key=lambda ij: (sympy.count_ops(matrix[ij]), ij))
    g = matrix[ref]
    symbols = {s.name: s for s in g.free_symbols | matrix.free_symbols}
    p0 = centre({name: domains[name] for name in names[:k]})
    p1 = {}
    for name, q in p0.items():
        d = domains[name]
        step = (Fraction(d.hi) - Fraction(d.lo)) / 7 if d.bounded else Fraction(1, 3)
        p1[name] = q + step * Fraction(len(p1) + 2, len(p1) + 3)

    def value(e: Any, point: dict[str, Fraction]) -> float:
        subs = {symbols[m]: sympy.Rational(q.numerator, q.denominator) for m, q in point.items()
                if m in symbols}  # fmt: skip
        return float(e.evalf(30, subs=subs))

    try:
        g0, g1 = value(g, p0), value(g, p1)
    except (TypeError, ValueError, OverflowError):
        return None
    if not (math.isfinite(g0) and math.isfinite(g1)) or abs(g1 - g0) <= 1e-12 * max(1, abs(g0)):
        return None
    constant = [[Fraction(0)] * n for _ in range(n)]
    pattern = [[Fraction(0)] * n for _ in range(n)]
    for i in range(k):
        for j in range(i, k):
            h = matrix[i, j]
            if (i, j) == ref:
                c, r = sympy.Integer(0), Fraction(1)
            else:
                try:
                    ratio = (value(h, p1) - value(h, p0)) / (g1 - g0)
                except (TypeError, ValueError, OverflowError):
                    return None
                if not math.isfinite(ratio):
                    return None
                r = Fraction(ratio).limit_denominator(10**6)
                c = simplify_entry(h - sympy.Rational(r.numerator, r.denominator) * g, deadline)
            if not c.is_Rational:
                return None
            constant[i][j] = constant[j][i] = Fraction(int(c.p), int(c.q))
            pattern[i][j] = pattern[j][i] = r
    return constant, pattern, _best_form(g, names[:k], domains, deadline)


def _best_form(g: Any, names: list[str], domains: Mapping[str, Any], deadline: float | None) -> str:
    """Of ``g`` and its hyperbolic rewriting (``e**z/(e**z + 1)**2`` is ``1/(4 cosh(z/2)**2)``,
    whose enclosure is tight where the first one's is not), the text whose enclosure on the
    domain is narrowest (the checker proves whichever is used equal to the Hessian's part)."""
    import sympy

    from convexcheck.symbolic.hessian import simplify_entry
    from convexcheck.symbolic.parser import parse
    from convexcheck.symbolic.ranges import enclose

    texts = [sympy.sstr(g)]
    rewritings = (
        lambda e: simplify_entry(e.rewrite(sympy.cosh), deadline),
        # factoring first exposes (exp(z) + 1)**2 in an expanded denominator
        lambda e: simplify_entry(simplify_entry(sympy.factor(e), deadline).rewrite(sympy.cosh)),
    )
    if sympy.count_ops(g) <= 60:
        for rewrite in rewritings:
            with contextlib.suppress(Exception):  # a rewriting SymPy cannot do: keep g
                texts.append(sympy.sstr(rewrite(g)))
    box = {n: domains[n] for n in names}

    def width(text: str) -> float:
        try:
            r = enclose(parse(text, max_length=None), box)
        except Exception:
            return math.inf
        if r is None or not r.bounded:
            return math.inf
        return iv.float_up(Fraction(r.hi) - Fraction(r.lo))

    return min(texts, key=width)


def _read(text: str) -> Bound:
    if text == "oo":
        return INF
    if text == "-oo":
        return -INF
    return Fraction(text)
