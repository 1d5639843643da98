"""Exact PSD decision for the symmetric part of a float64 matrix, in integer arithmetic.

Every float64 is a dyadic rational, so ``S = (P + P^T)/2`` is known exactly; scaling it by a
power of two makes it an integer matrix with the same inertia. We then run symmetric,
fraction-free (Bareiss) Gaussian elimination with diagonal pivoting. After eliminating a block
``S11`` with positive pivots, ``S`` is PSD iff the Schur complement ``T = S22 - S21 S11^{-1} S12``
is, and the Bareiss entries are ``T`` times the last pivot (a positive leading principal minor),
so their signs are the signs of ``T``. Three outcomes end the loop:

* a negative diagonal entry of ``T``: not PSD, ``u = e_i`` gives ``u^T T u < 0``;
* all diagonal entries of ``T`` zero but some ``T_ij != 0``: not PSD, ``u = t e_i + e_j`` with
  ``2 t T_ij + T_jj < 0``;
* ``T`` empty (all pivots positive: positive definite) or ``T = 0`` (PSD and singular).

A direction ``u`` for ``T`` lifts to ``v = (-S11^{-1} S12 u, u)`` with ``v^T S v = u^T T u``; the
lift is a back-substitution through the stored pivot rows, because those rows span the same space
as the rows of ``S`` indexed by the pivots. Python integers do the elimination (not Fractions:
a gcd per operation would dominate), and Fractions only the O(n^2) back-substitution.

The matrix is first scaled symmetrically by powers of two, ``D S D`` with ``D_ii ~ S_ii^{-1/2}``:
that keeps the inertia and, for matrices whose rows live on different scales (variables in
different units), keeps the integers short, which is what decides the elimination's cost.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

import numpy as np


@dataclass(frozen=True)
class ExactResult:
    """What the elimination found: ``status`` is ``"pd"``, ``"psd"`` or ``"not_psd"``; ``rank``
    is the number of positive pivots; ``direction`` is an exact rational ``v`` (for ``S``) with
    ``v^T S v < 0`` when not PSD; ``failure`` says which rule ended the elimination."""

    status: str
    rank: int
    direction: list[Fraction] | None
    failure: str


class ExactSymmetric:
    """The exact symmetric part of a float64 matrix as a scaled integer matrix.

    ``M = k * D S D`` for a positive rational ``k`` and ``D = diag(2**shift)``. Built once and used
    both to decide PSD-ness and to check candidate float directions exactly, which is why the
    scaling is kept: ``v^T S v`` has the sign of ``w^T M w`` with ``w = D^{-1} v``.
    """

    def __init__(self, P: np.ndarray) -> None:
        n = P.shape[0]
        self.n = n
        ratios = [[x.as_integer_ratio() for x in row] for row in P.tolist()]
        # S_ij = m * 2**e exactly.
        mant: list[list[int]] = [[0] * n for _ in range(n)]
        expo: list[list[int]] = [[0] * n for _ in range(n)]
        for i in range(n):
            for j in range(i, n):
                m, e = _half_sum(ratios[i][j], ratios[j][i])
                mant[i][j] = mant[j][i] = m
                expo[i][j] = expo[j][i] = e
        shift = []
        for i in range(n):
            m, e = mant[i][i], expo[i][i]
            # D_ii = 2**shift_i with shift_i ~ -log2(S_ii)/2 brings the diagonal near 1.
            shift.append(-((m.bit_length() + e) // 2) if m > 0 else 0)
        self.shift = shift
        lows = [expo[i][j] + shift[i] + shift[j] for i in range(n) for j in range(n) if mant[i][j]]
        low = min(lows, default=0)
        M = [
            [
                (mant[i][j] << (expo[i][j] + shift[i] + shift[j] - low)) if mant[i][j] else 0
                for j in range(n)
            ]
            for i in range(n)
        ]
        g = math.gcd(*(x for row in M for x in row)) if n else 0
        if g > 1:
            M = [[x // g for x in row] for row in M]
        self.M = M

    def max_bits(self) -> int:
        """The longest integer entry, in bits: the elimination's cost grows with it."""
        return max((abs(x).bit_length() for row in self.M for x in row), default=0)

    def quadratic_sign(self, v: np.ndarray) -> int:
        """The exact sign of ``v^T S v`` for a float64 vector ``v``."""
        w = []  # w_i = v_i * 2**-shift_i as (mantissa, exponent)
        for x, s in zip(v.tolist(), self.shift):
            num, den = x.as_integer_ratio()
            w.append((num, -(den.bit_length() - 1) - s))
        low = min((e for m, e in w if m), default=0)
        W = [(m << (e - low)) if m else 0 for m, e in w]
        total = 0
        for i, wi in enumerate(W):
            if wi:
                row = self.M[i]
                total += wi * sum(a * b for a, b in zip(row, W) if b)
        return (total > 0) - (total < 0)

    def decide(self) -> ExactResult:
        """Symmetric Bareiss elimination with diagonal pivoting (see the module docstring)."""
        T = [row[:] for row in self.M]
        idx = list(range(self.n))  # global index of each local row of T
        pivots: list[tuple[int, list[tuple[int, int]]]] = []
        prev = 1
        while idx:
            m = len(idx)
            diag = [T[i][i] for i in range(m)]
            neg = min(range(m), key=diag.__getitem__)
            if diag[neg] < 0:
                u = {idx[neg]: Fraction(1)}
                return self._fail(pivots, u, len(pivots), "a negative pivot")
            k = max(range(m), key=diag.__getitem__)
            p = diag[k]
            if p == 0:
                for i in range(m):
                    for j in range(m):
                        if T[i][j]:
                            t = Fraction(-(T[j][j] + abs(T[i][j])), 2 * T[i][j])
                            u = {idx[i]: t, idx[j]: Fraction(1)}
                            return self._fail(
                                pivots, u, len(pivots), "a zero pivot with a nonzero entry"
                            )
                return ExactResult("psd", len(pivots), None, "")
            rowk = T[k]
            pivots.append((idx[k], list(zip(idx, rowk))))
            rk = rowk[:k] + rowk[k + 1 :]
            rest = [i for i in range(m) if i != k]
            new: list[list[int]] = []
            for a, i in enumerate(rest):
                ri = T[i]
                ri = ri[:k] + ri[k + 1 :]
                aik = T[i][k]
                head = [new[b][a] for b in range(a)]  # symmetric: copy the upper triangle
                if aik == 0:
                    if prev == 1:
                        tail = [p * x for x in ri[a:]]
                    else:
                        tail = [p * x // prev for x in ri[a:]]
                elif prev == 1:
                    tail = [p * x - aik * y for x, y in zip(ri[a:], rk[a:])]
                else:
                    tail = [(p * x - aik * y) // prev for x, y in zip(ri[a:], rk[a:])]
                new.append(head + tail)
            T = new
            idx = [idx[i] for i in rest]
            prev = p
        return ExactResult("pd", len(pivots), None, "")

    def _fail(
        self,
        pivots: list[tuple[int, list[tuple[int, int]]]],
        u: dict[int, Fraction],
        rank: int,
        failure: str,
    ) -> ExactResult:
        """Lift the Schur-complement direction ``u`` to ``S`` (see the module docstring)."""
        v: dict[int, Fraction] = dict(u)
        for g, row in reversed(pivots):
            s = Fraction(0)
            diag = 0
            for c, val in row:
                if c == g:
                    diag = val
                elif val and v.get(c):
                    s += val * v[c]
            v[g] = -s / diag
        # Back from the scaled matrix D S D to S: v_S = D v.
        direction = [v.get(i, Fraction(0)) * Fraction(2) ** self.shift[i] for i in range(self.n)]
        return ExactResult("not_psd", rank, direction, failure)


def _half_sum(a: tuple[int, int], b: tuple[int, int]) -> tuple[int, int]:
    """``(a + b) / 2`` for float ratios ``(num, 2**k)``, as ``(m, e)`` meaning ``m * 2**e``."""
    ka, kb = a[1].bit_length() - 1, b[1].bit_length() - 1
    k = max(ka, kb)
    m = (a[0] << (k - ka)) + (b[0] << (k - kb))
    if m == 0:
        return 0, 0
    tz = (m & -m).bit_length() - 1
    return m >> tz, tz - k - 1


def rational_to_float(direction: list[Fraction]) -> np.ndarray:
    """Round an exact rational direction to float64, scaled so its largest entry is near 1.

    The direction's scale is free, so scaling first keeps the entries out of overflow and
    underflow; each entry is then correctly rounded (Python's int division is).
    """
    den = math.lcm(*(x.denominator for x in direction))
    ints = [x.numerator * (den // x.denominator) for x in direction]
    top = max(abs(x).bit_length() for x in ints)
    return np.array([x / (1 << (top - 1)) for x in ints], dtype=np.float64)
