"""The checker's exact linear algebra: symmetric LDLᵀ over ``Fraction`` and PSD tests built on it.

Why its own: the SOS prover decides a Gram matrix PSD with :func:`convexcheck.symbolic.quadratic
.ldl_psd` and the tensor prover with :mod:`convexcheck.tensor.psd`; a checker that called them
would repeat their bugs. Here the factorisation is not believed either: every PSD answer comes
with ``P A Pᵀ = L D Lᵀ`` and is accepted only after that product has been multiplied out again,
entry by entry, in exact rationals, with ``L`` unit lower triangular and every ``D_k >= 0``.
``P A Pᵀ = L D Lᵀ`` with ``D >= 0`` is PSD (``zᵀ P A Pᵀ z = Σ D_k (Lᵀz)_k² >= 0``), and so is
``A``. A ``False`` only means "not shown": the checker never needs to prove a matrix indefinite.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

__all__ = [
    "Factorisation",
    "as_fractions",
    "decide_psd",
    "factorisation_holds",
    "float_matrix_psd",
    "float_matrix_within",
    "form_sign",
    "integer_psd",
    "ldl",
    "proves_psd",
    "psd",
    "symmetric_part",
]

Matrix = list[list[Fraction]]


@dataclass(frozen=True)
class Factorisation:
    """``P A Pᵀ = L D Lᵀ``: row ``k`` of ``P A Pᵀ`` is row ``order[k]`` of ``A``."""

    order: list[int]
    lower: Matrix
    pivots: list[Fraction]


def as_fractions(rows: Any) -> Matrix:
    """A square matrix of exact rationals from numbers or their strings (floats exactly)."""
    out = [[Fraction(v) for v in row] for row in rows]
    n = len(out)
    if any(len(row) != n for row in out):
        raise ValueError("the matrix is not square")
    return out


def symmetric_part(a: Matrix) -> Matrix:
    n = len(a)
    return [[(a[i][j] + a[j][i]) / 2 for j in range(n)] for i in range(n)]


def ldl(a: Matrix) -> Factorisation | None:
    """Symmetric-pivoted ``P A Pᵀ = L D Lᵀ`` of a symmetric matrix, or ``None`` when the
    elimination meets a negative pivot, or a zero pivot with a nonzero entry below it (either
    proves ``A`` is not PSD, but the checker only uses it as "not shown")."""
    n = len(a)
    work = [row[:] for row in a]
    order = list(range(n))
    lower = [[Fraction(int(i == j)) for j in range(n)] for i in range(n)]
    pivots: list[Fraction] = []
    for k in range(n):
        # the largest remaining diagonal entry as the pivot (a zero one only if all are <= 0)
        p = k
        for i in range(k + 1, n):
            if work[i][i] > work[p][p]:
                p = i
        if p != k:
            work[k], work[p] = work[p], work[k]
            for row in work:
                row[k], row[p] = row[p], row[k]
            order[k], order[p] = order[p], order[k]
            for j in range(k):
                lower[k][j], lower[p][j] = lower[p][j], lower[k][j]
        d = work[k][k]
        below = [i for i in range(k + 1, n) if work[i][k] != 0]
        if d < 0 or (d == 0 and below):
            return None
        pivots.append(d)
        for i in below:
            lower[i][k] = work[i][k] / d
        for i in below:
            for j in below:
                work[i][j] -= lower[i][k] * work[k][j]
        for i in range(k + 1, n):
            work[i][k] = work[k][i] = Fraction(0)
    return Factorisation(order, lower, pivots)


def factorisation_holds(a: Matrix, f: Factorisation) -> bool:
    """Whether ``f`` is a valid PSD factorisation of ``a``: ``order`` a permutation, ``L`` unit
    lower triangular, every pivot ``>= 0``, and ``L D Lᵀ`` equal to ``P A Pᵀ`` entry by entry."""
    n = len(a)
    if sorted(f.order) != list(range(n)) or len(f.pivots) != n or len(f.lower) != n:
        return False
    if any(len(row) != n for row in f.lower) or any(d < 0 for d in f.pivots):
        return False
    for i in range(n):
        if f.lower[i][i] != 1 or any(f.lower[i][j] != 0 for j in range(i + 1, n)):
            return False
    for i in range(n):
        li = f.lower[i]
        for j in range(i + 1):
            lj = f.lower[j]
            total = sum((li[k] * f.pivots[k] * lj[k] for k in range(j + 1)), Fraction(0))
            if total != a[f.order[i]][f.order[j]] or total != a[f.order[j]][f.order[i]]:
                return False
    return True


def proves_psd(a: Matrix) -> Factorisation | None:
    """A factorisation of ``a`` that :func:`factorisation_holds` confirmed, or ``None``."""
    f = ldl(a)
    return f if f is not None and factorisation_holds(a, f) else None


def psd(a: Matrix) -> bool:
    """``a`` (which must be symmetric) is positive semidefinite, shown by a checked LDLᵀ."""
    n = len(a)
    if any(a[i][j] != a[j][i] for i in range(n) for j in range(i)):
        return False
    return proves_psd(a) is not None


# ---------------------------------------------------------------------------------------------
# float64 matrices (the constants and points of tensor documents)
# ---------------------------------------------------------------------------------------------


MULTIPLY_BACK_MAX_N = 40  # above: fraction-free elimination, decided exactly but not re-multiplied


def float_matrix_psd(matrix: Any, negate: bool = False) -> bool:
    """The symmetric part ``S`` of the float64 matrix (``-S`` with ``negate``), taken exactly
    (every float64 is a dyadic rational), is PSD (:func:`decide_psd`). Floats that are not
    finite, or a matrix that is not square, are "not shown"."""
    import math

    rows = [[float(v) for v in row] for row in matrix]
    n = len(rows)
    if any(len(row) != n for row in rows) or not all(math.isfinite(v) for r in rows for v in r):
        return False
    sign = -1 if negate else 1
    return decide_psd(symmetric_part([[sign * Fraction(v) for v in row] for row in rows]))


def decide_psd(a: Matrix) -> bool:
    """The symmetric rational matrix ``a`` is PSD.

    ``a`` is first scaled to an integer matrix ``c * D a D`` (``D`` a diagonal of powers of two
    that brings the diagonal near 1, ``c > 0``): a congruence with a positive diagonal keeps
    PSD-ness, and the integers stay short. Up to :data:`MULTIPLY_BACK_MAX_N` rows the checked
    LDLᵀ over fractions decides it (multiplied back); above, where fractions cost too much
    (seconds at 40 rows, minutes at 100), the exact fraction-free elimination in integers
    (:func:`integer_psd`) decides it, without a multiplication back."""
    n = len(a)
    if any(a[i][j] != a[j][i] for i in range(n) for j in range(i)):
        return False
    m = _integer_congruent(a)
    if n <= MULTIPLY_BACK_MAX_N:
        return psd([[Fraction(v) for v in row] for row in m])
    return integer_psd(m)


def _integer_congruent(s: Matrix) -> list[list[int]]:
    """``c * D S D`` as integers, ``D = diag(2**e_i)`` with ``e_i`` about ``-log2(S_ii)/2``."""
    import math

    n = len(s)
    shift = [
        0
        if s[i][i] <= 0
        else -((s[i][i].numerator.bit_length() - s[i][i].denominator.bit_length()) // 2)
        for i in range(n)
    ]
    scaled = [[s[i][j] * Fraction(2) ** (shift[i] + shift[j]) for j in range(n)] for i in range(n)]
    common = 1
    for row in scaled:
        for v in row:
            common = math.lcm(common, v.denominator)
    return [[int(v * common) for v in row] for row in scaled]


def integer_psd(m: list[list[int]]) -> bool:
    """Exact: the symmetric integer matrix ``m`` is PSD, by fraction-free (Bareiss) symmetric
    elimination with diagonal pivoting.

    After eliminating pivots ``p_1..p_k`` (all positive), the remaining entries are the Schur
    complement times ``p_k`` (a positive leading principal minor), so their signs are the
    complement's: a negative diagonal entry, or a zero diagonal with a nonzero entry in its
    row, shows the matrix is not PSD; an all-zero remainder (or none) shows it is. Each division
    by the previous pivot is exact (Sylvester's identity), checked as it is made."""
    n = len(m)
    if any(m[i][j] != m[j][i] for i in range(n) for j in range(i)):
        return False
    a = [row[:] for row in m]
    remaining = list(range(n))
    previous = 1
    while remaining:
        p = max(remaining, key=lambda i: a[i][i])
        d = a[p][p]
        if d < 0:
            return False
        remaining.remove(p)
        if d == 0:
            return all(a[i][j] == 0 for i in remaining for j in remaining) and all(
                a[i][p] == 0 for i in remaining
            )
        row_p = a[p]
        for x, i in enumerate(remaining):
            row_i = a[i]
            aip = row_i[p]
            for j in remaining[x:]:
                value, rest = divmod(d * row_i[j] - aip * row_p[j], previous)
                if rest:
                    return False  # not an exact division: the elimination went wrong
                row_i[j] = value
                a[j][i] = value
        previous = d
    return True


def float_matrix_within(matrix: Any, negate: bool, tolerance: float) -> bool:
    """Float64 estimate: the smallest eigenvalue of ``±S`` is at least ``-tolerance *
    max|S_ij|`` (NumPy's ``eigvalsh``). Not a proof: the caller records it as an assumption."""
    import numpy as np

    a = np.asarray(matrix, dtype=np.float64)
    s = (a + a.T) / 2 * (-1.0 if negate else 1.0)
    if s.size == 0:
        return True
    return bool(np.linalg.eigvalsh(s).min() >= -tolerance * float(np.abs(s).max()))


# ---------------------------------------------------------------------------------------------
# sparse quadratic forms, block by block
# ---------------------------------------------------------------------------------------------


def blocks(n: int, entries: dict[tuple[int, int], Fraction]) -> list[list[int]]:
    """Connected components of the graph whose edges are the nonzero off-diagonal entries: a
    symmetric matrix is PSD iff each diagonal block on a component is (a separable sum of
    squares is ``n`` blocks of size one, not one ``n x n`` elimination)."""
    neighbours: list[set[int]] = [set() for _ in range(n)]
    for (i, j), v in entries.items():
        if i != j and v != 0:
            neighbours[i].add(j)
            neighbours[j].add(i)
    seen = [False] * n
    out = []
    for start in range(n):
        if seen[start]:
            continue
        seen[start] = True
        component, stack = [], [start]
        while stack:
            i = stack.pop()
            component.append(i)
            for j in neighbours[i]:
                if not seen[j]:
                    seen[j] = True
                    stack.append(j)
        out.append(sorted(component))
    return out


def form_sign(n: int, entries: dict[tuple[int, int], Fraction], max_block: int = 400) -> str | None:
    """``"positive"`` (PSD), ``"negative"`` (NSD), ``"both"`` (zero) for the symmetric matrix
    given by its nonzero ``entries`` (both ``(i, j)`` and ``(j, i)``), each block shown by a
    checked LDLᵀ; ``None`` when neither is shown (or a block is larger than ``max_block``)."""
    signs = set()
    for component in blocks(n, entries):
        if len(component) > max_block:
            return None
        sub = [[entries.get((i, j), Fraction(0)) for j in component] for i in component]
        if all(v == 0 for row in sub for v in row):
            continue
        if decide_psd(sub):
            signs.add("positive")
        elif decide_psd([[-v for v in row] for row in sub]):
            signs.add("negative")
        else:
            return None
    if not signs:
        return "both"
    return signs.pop() if len(signs) == 1 else None
