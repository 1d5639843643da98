"""Certified ``(mu, L)`` of ridge least squares on random data, against NumPy's eigenvalues.

``PYTHONPATH=. python benchmarks/curvature_bounds_data.py``: for seeded Gaussian ``A`` (m x n)
and ``f = sum_squares(A @ x - b)/m + 0.01*sum_squares(x)``, ``cc.curvature_bounds`` proves and
re-checks ``mu`` and ``L``; the gaps to ``eigvalsh`` of ``(2/m) AᵀA + 0.02 I`` are relative to
``λ_max``. Seconds include the independent checker.
"""

from __future__ import annotations

import time

import cvxpy as cp
import numpy as np

import convexcheck as cc

for m, n in [(30, 8), (100, 20), (200, 40)]:
    rng = np.random.default_rng(0)
    A = rng.standard_normal((m, n))
    b = rng.standard_normal(m)
    x = cp.Variable(n)
    start = time.perf_counter()
    r = cc.curvature_bounds(cp.sum_squares(A @ x - b) / m + 0.01 * cp.sum_squares(x))
    seconds = time.perf_counter() - start
    w = np.linalg.eigvalsh(2 / m * A.T @ A + 0.02 * np.eye(n))
    print(
        f"| {m}x{n} | {r.mu_float:.10g} ({w[0]:.10g}) | {(w[0] - r.mu_float) / w[-1]:.1e} "
        f"| {r.L_float:.10g} ({w[-1]:.10g}) | {(r.L_float - w[-1]) / w[-1]:.1e} "
        f"| {r.checked} | {seconds:.2f} |"
    )
