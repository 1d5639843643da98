"""Second-order proofs: the Hessian is positive (negative) semidefinite on the whole domain.

Why this is a proof: a function that is continuous on a box and twice differentiable inside it
is convex there exactly when its Hessian is PSD at every interior point. The stage therefore
insists on (1) only smooth operations (no ``Abs``, ``Max``, ``Min``, ``Piecewise``) and (2) the
function being defined on the whole closed box (its rigorous enclosure exists), and then proves
PSD-ness of the symbolic Hessian by one of:

``zero``
    every entry simplifies to 0: the function is affine (both convex and concave);
``second-derivative``
    one variable: ``f'' >= 0`` on the interval, by a sign proof from :mod:`.signs` (polynomial
    root counting, factorisation, enclosure, or bisection of a bounded interval);
``ldl``
    several variables: symbolic LDLᵀ with symmetric pivoting. Each pivot used to eliminate is
    proved *strictly* positive on the box (so the factorisation is an identity at every point),
    the last one nonnegative; ``H = P L D Lᵀ Pᵀ`` with ``D >= 0`` is PSD;
``principal-minors``
    the fallback when no pivot is strictly positive (``x**4 + y**4 + x**2*y**2`` at the origin):
    a symmetric matrix is PSD iff *all* its principal minors are nonnegative (not just the
    leading ones), each proved by a sign proof.

Entries are simplified by SymPy first (``cancel``, ``trigsimp``, bounded ``simplify``) so that
repeated variables (``x*log(x)``, ``(log x)**2``) do not blow the interval enclosures up.
Everything the proof rests on goes into the certificate, which
:mod:`convexcheck.certificates` re-derives independently (it recomputes the Hessian with SymPy's
own differentiation, multiplies the factorisation back and re-runs every sign proof).
"""

from __future__ import annotations

import contextlib
import itertools
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from convexcheck.budget import time_limit
from convexcheck.symbolic.atoms import UNARY_ATOMS
from convexcheck.symbolic.calculus import diff
from convexcheck.symbolic.domains import domain_word
from convexcheck.symbolic.interval import Interval
from convexcheck.symbolic.ir import NARY_FUNCTIONS, UNARY_FUNCTIONS, Node, free_variables, postorder
from convexcheck.symbolic.printer import to_str
from convexcheck.symbolic.ranges import node_range
from convexcheck.symbolic.signs import MAX_POLY_EXPONENT, SignProver, polys_safe

#: Ops without a second derivative somewhere in their domain: the rows marked not ``smooth``
#: (``Abs``), the n-ary ``Max``/``Min`` and ``Piecewise``.
NONSMOOTH_OPS = frozenset(
    {name for name in UNARY_FUNCTIONS if not UNARY_ATOMS[name].smooth}
    | {*NARY_FUNCTIONS, "Piecewise"}
)
#: SymPy names of the functions whose identities ``trigsimp`` knows (``sin**2 + cos**2``).
TRIG_SYMPY_NAMES = tuple(
    UNARY_ATOMS[name].sympy_name for name in UNARY_FUNCTIONS if UNARY_ATOMS[name].trig_identities
)
MAX_VARIABLES = 6
MAX_TREE_SIZE = 3000
MAX_DEPTH = 60  # nesting; each level multiplies into every derivative (150 nested exp hangs)
# A constant beyond this magnitude (exp(exp(exp(123456789)))) makes SymPy's numeric evaluation,
# which its simplification and ordering call, escalate precision without end.
MAX_CONSTANT = 2**1000
SIMPLIFY_OPS_LIMIT = 120
#: Seconds per question that the effort-bounded work may run past the stage's own cap (always
#: within the whole check's budget): the ``monotone`` sign proofs (bounded in derivatives) and the
#: simplification of the LDLᵀ multipliers, Schur complements and minors (bounded by the matrix
#: size, each call cut after :data:`SIMPLIFY_TIME_S`). Time is only their outer cap; an easy
#: input never gets near it.
EXTENDED_BUDGET_S = 12.0
SIMPLIFY_TIME_S = 1.0  # per expensive SymPy call (trigsimp, simplify)
UNTIMED_SIMPLIFY_OPS_LIMIT = 30  # outside the main thread no timer can stop SymPy


@dataclass
class HessianAttempt:
    """The symbolic Hessian of one problem, shared by the convex and concave questions."""

    names: list[str]
    matrix: Any = None  # sympy.Matrix, simplified
    obstacle: str | None = None
    notes: list[str] = field(default_factory=list)


def applicable(root: Node, domains: Mapping[str, Interval]) -> str | None:
    """Why the Hessian argument cannot be used here (``None`` when it can)."""
    if root.size > MAX_TREE_SIZE:
        return f"expression too large for symbolic Hessians ({root.size} nodes)"
    names = free_variables(root)
    if len(names) > MAX_VARIABLES:
        return f"{len(names)} variables (the symbolic Hessian stage handles up to {MAX_VARIABLES})"
    ranges: dict[int, Interval | None] = {}
    depth: dict[int, int] = {}
    constant: dict[int, bool] = {}
    for node in postorder(root):
        if node.op in NONSMOOTH_OPS:
            return f"not twice differentiable everywhere ({node.op})"
        depth[id(node)] = 1 + max((depth[id(a)] for a in node.args), default=0)
        if depth[id(node)] > MAX_DEPTH:
            return f"nested more than {MAX_DEPTH} levels deep (too deep for symbolic Hessians)"
        if (
            node.op == "pow"
            and node.args[1].op == "num"
            and _too_large_exponent(Fraction(node.args[1].value))  # type: ignore[arg-type]
        ):
            return (
                f"exponent {_short(node.args[1])} too large for symbolic Hessians "
                f"(numerator and denominator at most {MAX_POLY_EXPONENT})"
            )
        r = ranges[id(node)] = node_range(node, [ranges[id(a)] for a in node.args], domains)
        if r is None:
            return "not shown to be defined on the whole domain"
        constant[id(node)] = node.op != "var" and all(constant[id(a)] for a in node.args)
        if (
            constant[id(node)]
            and node.op != "num"
            and not (r.lo >= -MAX_CONSTANT and r.hi <= MAX_CONSTANT)
        ):
            return f"constant {_short(node)} beyond 2**1000 (too large for SymPy to evaluate)"
        if node.op == "pow" and not _integer_exponent(node.args[1]):
            # u**p with p not an integer (sqrt...) has no derivative where u = 0
            base = ranges[id(node.args[0])]
            if base is None or not base.positive:
                return (
                    f"not shown twice differentiable: the base of {to_str(node)} "
                    "may reach 0 on the domain"
                )
    return None


def _too_large_exponent(p: Fraction) -> bool:
    return abs(p.numerator) > MAX_POLY_EXPONENT or p.denominator > MAX_POLY_EXPONENT


def _short(node: Node) -> str:
    text = to_str(node)
    return text if len(text) <= 60 else text[:57] + "..."


def _integer_exponent(exponent: Node) -> bool:
    return exponent.op == "num" and Fraction(exponent.value).denominator == 1  # type: ignore[arg-type]


class _SimplifyTimeout(BaseException):
    """Raised by the timer inside SymPy; a BaseException so that no ``except Exception`` in
    SymPy swallows it and carries on unbounded."""


def _time_limit(seconds: float):
    """Interrupt the block after ``seconds`` (yields ``True``), or yield ``False`` where that is
    impossible (not the main thread, no ``setitimer``): the caller then skips the work.

    SymPy's ``trigsimp`` and ``simplify`` have no budget of their own and can run for minutes
    (``trigsimp`` of the second derivative of ``log(sqrt(x**2 + 4) + tanh(x))`` took 258 s),
    while a check must degrade to ``unknown``, never hang. The check's own outer timer (and any
    other, such as pytest-timeout's) is restored with its remaining time.
    """
    return time_limit(seconds, _SimplifyTimeout)


def _bounded(fn: Any, e: Any, deadline: float | None) -> Any:
    """``fn(e)`` within :data:`SIMPLIFY_TIME_S` (and the deadline), else ``None``."""
    seconds = SIMPLIFY_TIME_S
    if deadline is not None:
        seconds = min(seconds, deadline - time.perf_counter())
    if seconds <= 0:
        return None
    try:
        with _time_limit(seconds) as interruptible:
            if not interruptible:
                import sympy

                # no timer available: only small inputs, whose simplification is quick
                if sympy.count_ops(e) > UNTIMED_SIMPLIFY_OPS_LIMIT:
                    return None
            return fn(e)
    except _SimplifyTimeout:
        return None
    except Exception:
        return None


def simplify_entry(e: Any, deadline: float | None = None) -> Any:
    """A short form of ``e``: the smallest of a few SymPy normal forms, the expensive ones
    (``trigsimp``, ``simplify``) each cut off after :data:`SIMPLIFY_TIME_S`."""
    import sympy

    candidates = [e]
    if not polys_safe(e):  # cancel/together would expand x**(10**9) densely
        return e
    with contextlib.suppress(Exception):
        candidates.append(sympy.cancel(sympy.together(e)))
    expensive = []
    if e.has(*(getattr(sympy, name) for name in TRIG_SYMPY_NAMES)):
        expensive.append(sympy.trigsimp)
    if sympy.count_ops(e) <= SIMPLIFY_OPS_LIMIT:
        expensive.append(sympy.simplify)
    for fn in expensive:
        value = _bounded(fn, e, deadline)
        if value is not None:
            candidates.append(value)
    return min(candidates, key=lambda c: (sympy.count_ops(c), len(sympy.sstr(c))))


def symbolic_hessian(
    root: Node, domains: Mapping[str, Interval], budget_s: float | None = None
) -> HessianAttempt:
    """The simplified symbolic Hessian (or the obstacle to one); ``budget_s`` bounds the time
    spent simplifying its entries (past it they are kept as differentiated)."""
    import sympy

    from convexcheck.symbolic.sympy_bridge import to_sympy

    names = free_variables(root)
    attempt = HessianAttempt(names)
    attempt.obstacle = applicable(root, domains)
    if attempt.obstacle is not None or not names:
        return attempt
    symbols = {n: sympy.Symbol(n, real=True) for n in names}
    deadline = None if budget_s is None else time.perf_counter() + budget_s
    n = len(names)
    rows: list[list[Any]] = [[None] * n for _ in range(n)]
    for i, xi in enumerate(names):
        gi = diff(root, xi)
        if gi is None:
            attempt.obstacle = "not differentiable"
            return attempt
        for j in range(i, n):
            hij = diff(gi, names[j])
            if hij is None:
                attempt.obstacle = "not twice differentiable"
                return attempt
            value = simplify_entry(to_sympy(hij, symbols), deadline)
            rows[i][j] = rows[j][i] = value
    attempt.matrix = sympy.Matrix(rows)
    return attempt


def prove_semidefinite(
    matrix: Any,
    names: list[str],
    domains: Mapping[str, Interval],
    deadline: float | None,
    chain_deadline: float | None = None,
    cuts: set[str] | None = None,
) -> dict[str, Any] | None:
    """A certificate that ``matrix`` is PSD on the box, or ``None`` (what the sign proofs cut
    short for lack of effort or time is added to ``cuts``)."""
    prover = SignProver(domains, deadline, chain_deadline)
    if cuts is not None:
        prover.cuts = cuts
    n = matrix.shape[0]
    if all(entry == 0 for entry in matrix):
        return {"method": "zero", "conditions": []}
    if n == 1:
        proof = prover.prove(matrix[0, 0], ">=0")
        return None if proof is None else {"method": "second-derivative", "conditions": [proof]}
    cert = _ldl(matrix, prover)
    if cert is not None:
        return cert
    return _principal_minors(matrix, prover)


def _ldl(matrix: Any, prover: SignProver) -> dict[str, Any] | None:
    import sympy

    n = matrix.shape[0]
    work = matrix.copy()
    remaining = list(range(n))
    order: list[int] = []
    pivots: list[Any] = []
    multipliers: dict[tuple[int, int], Any] = {}
    conditions: list[dict[str, Any]] = []
    while remaining:
        if all(work[i, j] == 0 for i in remaining for j in remaining):
            for k in remaining:
                order.append(k)
                pivots.append(sympy.Integer(0))
            remaining = []
            break
        chosen = None
        for k in remaining:
            if work[k, k] == 0:
                continue
            claim = ">=0" if len(remaining) == 1 else ">0"
            proof = prover.prove(work[k, k], claim)
            if proof is not None:
                chosen = k
                conditions.append(proof)
                break
        if chosen is None:
            return None
        k = chosen
        d = work[k, k]
        order.append(k)
        pivots.append(d)
        remaining.remove(k)
        for i in remaining:
            multipliers[(i, k)] = simplify_entry(work[i, k] / d, prover.chain_deadline)
        for i in remaining:
            for j in remaining:
                if j < i:
                    continue
                value = simplify_entry(
                    work[i, j] - work[i, k] * work[k, j] / d, prover.chain_deadline
                )
                work[i, j] = work[j, i] = value
    # L in the pivot order: row/column p of L corresponds to variable order[p]
    position = {k: p for p, k in enumerate(order)}
    lower = [[sympy.Integer(0)] * n for _ in range(n)]
    for p in range(n):
        lower[p][p] = sympy.Integer(1)
    for (i, k), value in multipliers.items():
        lower[position[i]][position[k]] = value
    return {
        "method": "ldl",
        "order": order,
        "L": [[sympy.sstr(v) for v in row] for row in lower],
        "D": [sympy.sstr(v) for v in pivots],
        "conditions": conditions,
    }


def _principal_minors(matrix: Any, prover: SignProver) -> dict[str, Any] | None:
    n = matrix.shape[0]
    conditions = []
    minors = []
    for size in range(1, n + 1):
        for subset in itertools.combinations(range(n), size):
            sub = matrix.extract(list(subset), list(subset))
            det = (
                simplify_entry(sub.det(method="berkowitz"), prover.chain_deadline)
                if size > 1
                else sub[0, 0]
            )
            proof = prover.prove(det, ">=0")
            if proof is None:
                return None
            minors.append(list(subset))
            conditions.append(proof)
    return {"method": "principal-minors", "minors": minors, "conditions": conditions}


def hessian_certificate(
    root: Node,
    domains: Mapping[str, Interval],
    question: str,
    attempt: HessianAttempt,
    budget_s: float = 3.0,
    chain_budget_s: float | None = None,
) -> tuple[dict[str, Any] | None, str]:
    """``(certificate, why_not)`` for ``question`` in ``("convex", "concave")``; ``why_not``
    names the steps that were cut (a bisection at its box limit, a derivative chain at its
    depth, effort or time cap). ``chain_budget_s`` (default ``budget_s``), when larger, is the
    outer time cap of the whole proof: the Hessian stage passes :data:`EXTENDED_BUDGET_S`."""
    import sympy

    if attempt.obstacle is not None:
        return None, attempt.obstacle
    if not attempt.names:
        return None, "constant expression"
    matrix = attempt.matrix if question == "convex" else -attempt.matrix
    start = time.perf_counter()
    # every step of the proof is effort-bounded (boxes, derivatives, matrix size; each SymPy
    # simplification cut by its own timer), so the extended cap is only an outer limit
    cap = budget_s if chain_budget_s is None else max(chain_budget_s, budget_s)
    deadline = start + cap
    cuts: set[str] = set()
    proof = prove_semidefinite(matrix, attempt.names, domains, deadline, deadline, cuts)
    if proof is None:
        late = time.perf_counter() > deadline
        why = (
            f"time budget of {cap:.3g} s spent"
            if late
            else f"could not prove the Hessian {'PSD' if question == 'convex' else 'NSD'}"
        )
        if cuts:
            why += f" (cut: {'; '.join(sorted(cuts))})"
        return None, why
    certificate = {
        "kind": "hessian",
        "question": question,
        "variables": attempt.names,
        "domains": {n: domain_word(domains[n]) for n in attempt.names},
        "matrix": [[sympy.sstr(v) for v in matrix.row(i)] for i in range(matrix.shape[0])],
        "sign": 1 if question == "convex" else -1,
        **proof,
    }
    return certificate, ""


def describe(certificate: dict[str, Any]) -> str:
    """One line saying what the Hessian certificate establishes."""
    method = certificate["method"]
    what = "PSD" if certificate["question"] == "convex" else "NSD"
    if method == "zero":
        return "affine: the Hessian is identically zero on the domain"
    if method == "second-derivative":
        (cond,) = certificate["conditions"]
        sign = ">= 0" if certificate["question"] == "convex" else "<= 0"
        expr = cond["expr"] if certificate["sign"] == 1 else f"-({cond['expr']})"
        return f"{certificate['question']}: f'' = {expr} {sign} on the domain ({cond['method']})"
    if method == "ldl":
        return (
            f"{certificate['question']}: the Hessian is {what} (LDLᵀ with pivots "
            f"{', '.join(certificate['D'])} proved nonnegative)"
        )
    return (
        f"{certificate['question']}: the Hessian is {what} (all "
        f"{len(certificate['minors'])} principal minors proved nonnegative)"
    )
