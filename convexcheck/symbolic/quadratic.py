"""Quadratic forms: exact semidefiniteness by LDL^T factorisation in rational arithmetic.

DCP cannot see that ``x**2 - 2*x*y + y**2`` is convex (it is ``(x - y)**2``); a quadratic
polynomial is convex exactly when the symmetric matrix ``Q`` of its quadratic part is positive
semidefinite. We decide that exactly with a symmetric-pivoted ``P Q P^T = L D L^T`` in
``Fraction`` arithmetic: ``Q`` is PSD iff every pivot ``D_k >= 0`` and a zero pivot leaves a
zero column. The factorisation *is* the certificate: anyone can multiply it back.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from convexcheck.symbolic.ir import Node, postorder
from convexcheck.symbolic.printer import format_number

Monomial = tuple[str, ...]  # sorted variable names, length 0, 1 or 2
Poly = dict[Monomial, Fraction]


def _mul_poly(a: Poly, b: Poly) -> Poly | None:
    out: Poly = {}
    for ma, ca in a.items():
        for mb, cb in b.items():
            m = tuple(sorted(ma + mb))
            if len(m) > 2:
                return None
            out[m] = out.get(m, Fraction(0)) + ca * cb
    return {m: c for m, c in out.items() if c != 0}


def as_quadratic(root: Node, memo: dict[int, Poly | None] | None = None) -> Poly | None:
    """``root`` as a polynomial of degree <= 2 with rational coefficients, else ``None``."""
    memo = {} if memo is None else memo
    for node in postorder(root):
        if id(node) in memo:
            continue
        memo[id(node)] = _poly_of(node, memo)
    return memo[id(root)]


def _poly_of(node: Node, memo: dict[int, Poly | None]) -> Poly | None:
    op = node.op
    if op == "num":
        return {(): Fraction(node.value)} if node.value != 0 else {}  # type: ignore[arg-type]
    if op == "var":
        return {(node.value,): Fraction(1)}  # type: ignore[dict-item]
    if op == "add":
        out: Poly = {}
        for a in node.args:
            p = memo.get(id(a))
            if p is None:
                return None
            for m, c in p.items():
                out[m] = out.get(m, Fraction(0)) + c
        return {m: c for m, c in out.items() if c != 0}
    if op == "mul":
        acc: Poly | None = {(): Fraction(1)}
        for a in node.args:
            p = memo.get(id(a))
            if p is None or acc is None:
                return None
            acc = _mul_poly(acc, p)
        return acc
    if op == "pow" and node.args[1].op == "num" and node.args[1].value == 2:
        p = memo.get(id(node.args[0]))
        if p is None:
            return None
        return _mul_poly(p, p)
    return None


def degree(p: Poly) -> int:
    return max((len(m) for m in p), default=0)


@dataclass
class QuadraticCertificate:
    """``P Q P^T = L D L^T`` for the Hessian-halved matrix ``Q`` of a quadratic form."""

    variables: list[str]
    matrix: list[list[Fraction]]  # Q, so the quadratic part is z^T Q z
    order: list[int]  # permutation: row k of P Q P^T is row order[k] of Q
    lower: list[list[Fraction]]
    pivots: list[Fraction]
    semidefinite: str | None  # "positive", "negative", "both" (Q = 0) or None

    def to_dict(self) -> dict:
        def fmt(rows: list[list[Fraction]]) -> list[list[str]]:
            return [[format_number(_n(v)) for v in row] for row in rows]

        return {
            "variables": self.variables,
            "Q": fmt(self.matrix),
            "permutation": self.order,
            "L": fmt(self.lower),
            "D": [format_number(_n(v)) for v in self.pivots],
            "semidefinite": self.semidefinite,
            "identity": "P Q P^T = L D L^T, quadratic part = z^T Q z",
        }


def _n(q: Fraction) -> int | Fraction:
    return q.numerator if q.denominator == 1 else q


def quadratic_matrix(p: Poly) -> tuple[list[str], list[list[Fraction]]]:
    names = sorted({v for m in p if len(m) == 2 for v in m})
    index = {v: i for i, v in enumerate(names)}
    q = [[Fraction(0)] * len(names) for _ in names]
    for m, c in p.items():
        if len(m) != 2:
            continue
        i, j = index[m[0]], index[m[1]]
        if i == j:
            q[i][i] += c
        else:
            q[i][j] += c / 2
            q[j][i] += c / 2
    return names, q


def ldl_psd(
    matrix: list[list[Fraction]],
) -> tuple[bool, list[int], list[list[Fraction]], list[Fraction]]:
    """Symmetric-pivoted LDL^T of a symmetric rational matrix; ``(is_psd, order, L, D)``.

    The largest remaining diagonal entry is the pivot. A negative pivot, or a zero pivot whose
    column is not zero, proves the matrix is not PSD (we stop there).
    """
    n = len(matrix)
    a = [row[:] for row in matrix]
    order = list(range(n))
    lower = [[Fraction(int(i == j)) for j in range(n)] for i in range(n)]
    pivots: list[Fraction] = []
    for k in range(n):
        p = max(range(k, n), key=lambda i: a[i][i])
        if p != k:
            a[k], a[p] = a[p], a[k]
            for row in a:
                row[k], row[p] = row[p], row[k]
            order[k], order[p] = order[p], order[k]
            for j in range(k):
                lower[k][j], lower[p][j] = lower[p][j], lower[k][j]
        d = a[k][k]
        if d < 0:
            return False, order, lower, pivots + [d]
        if d == 0:
            if any(a[i][k] != 0 for i in range(k + 1, n)):
                return False, order, lower, pivots + [d]
            pivots.append(Fraction(0))
            continue
        pivots.append(d)
        rows = [i for i in range(k + 1, n) if a[i][k] != 0]
        for i in rows:
            lower[i][k] = a[i][k] / d
        for i in rows:
            for j in rows:
                a[i][j] -= lower[i][k] * a[k][j]
        for i in range(k + 1, n):
            a[i][k] = Fraction(0)
            a[k][i] = Fraction(0)
    return True, order, lower, pivots


def _components(names: list[str], q: list[list[Fraction]]) -> list[list[int]]:
    """Connected components of the variables' interaction graph (nonzero off-diagonals)."""
    n = len(names)
    neighbours: list[list[int]] = [[] for _ in range(n)]
    for i in range(n):
        for j, v in q[i].items() if isinstance(q[i], dict) else enumerate(q[i]):
            if v != 0 and i != j:
                neighbours[i].append(j)
    seen = [False] * n
    out = []
    for start in range(n):
        if seen[start]:
            continue
        comp, stack = [], [start]
        seen[start] = True
        while stack:
            i = stack.pop()
            comp.append(i)
            for j in neighbours[i]:
                if not seen[j]:
                    seen[j] = True
                    stack.append(j)
        out.append(sorted(comp))
    return out


def certify_quadratic(p: Poly, max_block: int = 400) -> QuadraticCertificate:
    """Decide whether the quadratic part of ``p`` is PSD, NSD, zero or indefinite.

    The matrix is factorised block by block over the connected components of the variables'
    interaction graph (a separable sum of 10^5 squares is 10^5 blocks of size one); a block
    larger than ``max_block`` is not factorised (``semidefinite`` is then ``None``, i.e. not
    proved), which bounds the cost of exact arithmetic.
    """
    names, q = quadratic_matrix(p)
    n = len(names)
    blocks = _components(names, q)
    order: list[int] = []
    pivots: list[Fraction] = []
    lower = [[Fraction(0)] * n for _ in range(n)] if n <= 60 else []
    signs = set()
    for comp in blocks:
        if len(comp) > max_block:
            return QuadraticCertificate(names, q, list(range(n)), lower, [], None)
        sub = [[q[i][j] for j in comp] for i in comp]
        kind = _block_kind(sub)
        if kind is None:
            return QuadraticCertificate(names, q, list(range(n)), lower, [], None)
        signs.add(kind[0])
        _, b_order, b_lower, b_pivots = kind
        offset = len(order)
        order.extend(comp[k] for k in b_order)
        pivots.extend(b_pivots)
        if lower:
            for r in range(len(comp)):
                for c in range(len(comp)):
                    lower[offset + r][offset + c] = b_lower[r][c]
    signs.discard("both")
    if not signs:
        verdict = "both"
    elif len(signs) == 1:
        verdict = signs.pop()
    else:
        verdict = None
    return QuadraticCertificate(names, q, order, lower, pivots, verdict)


def _block_kind(sub: list[list[Fraction]]):
    psd, order, lower, pivots = ldl_psd(sub)
    if psd:
        return ("both" if all(v == 0 for v in pivots) else "positive", order, lower, pivots)
    neg = [[-v for v in row] for row in sub]
    nsd, order2, lower2, pivots2 = ldl_psd(neg)
    if nsd:
        return ("negative", order2, lower2, [-v for v in pivots2])
    return None


def check_certificate(cert: QuadraticCertificate) -> bool:
    """Multiply the factorisation back and compare with ``Q`` (independent re-check)."""
    n = len(cert.variables)
    if cert.semidefinite is None or len(cert.pivots) != n or len(cert.lower) != n:
        return False
    sign = -1 if cert.semidefinite == "negative" else 1
    if any(sign * d < 0 for d in cert.pivots):
        return False
    for i in range(n):
        for j in range(n):
            total = sum(cert.lower[i][k] * cert.pivots[k] * cert.lower[j][k] for k in range(n))
            if total != cert.matrix[cert.order[i]][cert.order[j]]:
                return False
    return True


#: Variables above which :func:`stationary_point` is not attempted (exact elimination is cubic).
MAX_STATIONARY = 60


def stationary_point(p: Poly) -> dict[str, Fraction] | None:
    """A point where the gradient of the quadratic polynomial ``p`` vanishes, or ``None``.

    Why: a quadratic ``zᵀQz + bᵀz + c`` with ``Q`` PSD attains its minimum exactly at its
    stationary points, so one exact stationary point ``z*`` gives the exact range
    ``[p(z*), oo)`` (and ``(-oo, p(z*)]`` for ``Q`` NSD). Interval arithmetic cannot see that
    ``3*u**2 - 2*u*v + v**2 >= 0``; this range is what lets ``(...)**2`` compose as a
    nondecreasing square. ``None`` when ``2Qz = -b`` has no solution (then ``p`` is unbounded)
    or the system is too large; free unknowns are set to 0. The checker re-verifies the point
    by evaluating the gradient there, so nothing here is trusted.
    """
    names = sorted({v for m in p for v in m})
    n = len(names)
    if n == 0 or n > MAX_STATIONARY:
        return None
    index = {v: i for i, v in enumerate(names)}
    # row i: d p / d names[i] = sum_j A[i][j] z_j + b_i
    rows = [[Fraction(0)] * (n + 1) for _ in range(n)]
    for m, c in p.items():
        if len(m) == 1:
            rows[index[m[0]]][n] -= c
        elif len(m) == 2:
            i, j = index[m[0]], index[m[1]]
            rows[i][j] += c
            rows[j][i] += c
    pivots: list[int] = []
    r = 0
    for col in range(n):
        pick = next((k for k in range(r, n) if rows[k][col] != 0), None)
        if pick is None:
            continue
        rows[r], rows[pick] = rows[pick], rows[r]
        lead = rows[r][col]
        rows[r] = [v / lead for v in rows[r]]
        for k in range(n):
            if k != r and rows[k][col] != 0:
                f = rows[k][col]
                rows[k] = [a - f * b for a, b in zip(rows[k], rows[r])]
        pivots.append(col)
        r += 1
    if any(rows[k][n] != 0 for k in range(r, n)):
        return None  # inconsistent: the linear part leaves the range of Q
    point = dict.fromkeys(names, Fraction(0))
    for k, col in enumerate(pivots):
        point[names[col]] = rows[k][n]
    return point


def evaluate_poly(p: Poly, point: dict[str, Fraction]) -> Fraction:
    """``p`` at ``point``, exactly."""
    total = Fraction(0)
    for m, c in p.items():
        term = Fraction(c)
        for v in m:
            term *= point[v]
        total += term
    return total
