"""Block Lanczos for both extreme eigenvalues, with stored products and residual-bound stopping.

Why this module exists next to :func:`convexcheck.numeric.lanczos.lanczos_extremes`: a
convexity check wants ``λ_min`` and ``λ_max`` of a model's Hessian to a stated accuracy as cheaply
as possible, and the classic loop spends time outside the Hessian-vector products (HVPs) that this
one does not:

* **Stored products.** Every product ``H q_j`` is kept next to its basis vector ``q_j``. By
  linearity ``H x = Σ_j y_j H q_j`` for a Ritz vector ``x = Σ_j y_j q_j``, so the explicit
  residual ``‖Hx - θx‖`` is computed from products already made, not from two extra ones at the
  end, and it can be checked *during* the run (only when the cheap recurrence estimate says the
  tolerance is met, since one check reads the whole basis twice).
* **Basis in the products' precision.** With float32 products, float64 basis vectors carry no
  information the products did not already round away; storing them in float32 halves the memory
  traffic of full reorthogonalisation, which on a 269k-parameter MLP was a third of the run time.
  The small projected matrix and all reported norms stay in float64.
* **Blocks.** ``block=b > 1`` advances ``b`` vectors per step through one batched product
  ``V[b, n] -> H V`` (``batched``, e.g. :meth:`convexcheck.numeric.hessian.HVP.batched`). This
  pays only where a batched product costs less per vector than single ones (on a GPU, where one
  product does not fill the device). On a CPU one HVP of a batch-512 model already saturates a
  core and batching measured no faster per vector (see ``benchmarks/hessian_vs_pyhessian.py``),
  and a block Krylov space of ``b·m`` vectors approximates the extremes slightly worse than a
  single-vector one of the same size, so ``block=1`` is the CPU default.

Why no shifts or polynomial filters: a Krylov space is shift-invariant (``K(H - σI, v) = K(H, v)``),
so a shift cannot change a Lanczos run, and the Ritz values of the unrestarted space of dimension
``k`` are already optimal over *all* polynomial filters of degree ``k - 1`` applied to the start
vector. Filters and restarts only trade extra products for less memory; the basis here is small
(tens of vectors), so they would cost products for nothing. Both ends come from the one space.

Stopping rule: the residual bound, never a change between iterations. For a symmetric ``H`` and
a unit ``x`` with ``θ = xᵀHx`` some eigenvalue lies within ``‖Hx - θx‖`` of ``θ``. The run stops
when, for each requested end, that explicit residual is ``≤ tol·scale`` where ``scale`` is
``max(1, |θ|)`` (``scale="unit"``, as in ``lanczos_extremes``) or the spectral-radius estimate
``max(|θ_min|, |θ_max|)`` (``scale="radius"``: both ends then carry an error bound relative to
``‖H‖``, the scale on which a negative eigenvalue is judged). The caveats of the classic module
apply: the bound is about *an* eigenvalue near ``θ``; a start vector orthogonal to an eigenvector
hides it from any Krylov method (probability zero for a random start); rounding in the products
(about ``ε·‖H‖``) is not added.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch
from torch import Tensor

from convexcheck.numeric.eigen_result import ExtremeEigen
from convexcheck.numeric.eigen_result import rademacher as _rademacher

__all__ = ["block_lanczos_extremes"]

Batched = Callable[[Tensor], Tensor]


def _loop_batched(hvp: Callable[[Tensor], Tensor]) -> Batched:
    """A batched product made of single ones (what a block run uses without ``batched``)."""
    return lambda vs: torch.stack([hvp(v) for v in vs])


class _Rows:
    """A growable ``k × n`` row store (capacity doubles; untouched rows cost no memory pages)."""

    def __init__(self, n: int, dtype: torch.dtype, device: torch.device, capacity: int) -> None:
        self.data = torch.empty((max(1, capacity), n), dtype=dtype, device=device)
        self.size = 0

    def extend(self, rows: Tensor) -> None:
        need = self.size + rows.shape[0]
        if need > self.data.shape[0]:
            grown = torch.empty(
                (max(need, 2 * self.data.shape[0]), self.data.shape[1]),
                dtype=self.data.dtype,
                device=self.data.device,
            )
            grown[: self.size] = self.data[: self.size]
            self.data = grown
        self.data[self.size : need] = rows
        self.size = need

    @property
    def rows(self) -> Tensor:
        return self.data[: self.size]


def _combine(rows: Tensor, y: Tensor) -> Tensor:
    """``Σ_j y_j rows_j`` in the rows' precision (one pass over them), returned in float64.

    Rounding the combination to float32 costs about ``ε₃₂·‖x‖``, the level the float32
    products were already at; a float64 copy of the basis would cost more than the run's
    reorthogonalisation.
    """
    return (y.to(device=rows.device, dtype=rows.dtype) @ rows).to(torch.float64)


def _project_off(w: Tensor, basis: Tensor) -> Tensor:
    """Classical Gram-Schmidt of the rows of ``w`` against ``basis``, a second pass if needed.

    "Twice is enough" (Kahan, Parlett); the DGKS test skips the second pass unless a row lost
    more than ``1 - 1/√2`` of its norm, which in a healthy Lanczos step it does not.
    """
    if basis.shape[0] == 0:
        return w
    before = torch.linalg.vector_norm(w, dim=1)
    w = w - (w @ basis.T) @ basis
    after = torch.linalg.vector_norm(w, dim=1)
    if bool((after < 0.7071067811865476 * before).any()):
        w = w - (w @ basis.T) @ basis
    return w


def _bound(tol: float, scale: str, radius: float, theta: float) -> float:
    """The residual a Ritz value ``θ`` may have: ``tol·max(1, |θ|)`` or ``tol·radius``."""
    return tol * (radius if scale == "radius" else max(1.0, abs(theta)))


def _within_block(r: Tensor, done: list[Tensor]) -> Tensor:
    """Orthogonalise ``r`` against the block's earlier new rows, twice (they may be close)."""
    for _ in range(2):
        for prev in done:
            r = r - torch.dot(prev, r) * prev
    return r


def block_lanczos_extremes(
    hvp: Callable[[Tensor], Tensor],
    n: int,
    *,
    tol: float = 1e-6,
    max_iter: int | None = None,
    seed: int = 0,
    dtype: torch.dtype = torch.float64,
    device: torch.device | str | None = None,
    v0: Tensor | None = None,
    hvp_dtype: torch.dtype | None = None,
    max_restarts: int = 2,
    which: str = "both",
    block: int = 1,
    batched: Batched | None = None,
    scale: str = "unit",
    basis_dtype: torch.dtype | None = None,
) -> ExtremeEigen:
    """Smallest and largest eigenvalue of the symmetric operator ``hvp`` on ``R^n``.

    Block Lanczos with full reorthogonalisation and stored products (see the module docstring
    for why). ``max_iter`` bounds the basis size, i.e. the number of products (default
    ``min(n, 300)``); ``matvecs`` counts every product, ``k`` for a batched product of ``k``
    vectors, and ``iterations`` is the basis size. The run stops when each end named by
    ``which`` has an explicit residual ``‖Hx - θx‖ ≤ tol·scale`` (``scale`` "unit":
    ``max(1, |θ|)``; "radius": ``max(|θ_min|, |θ_max|)``), when the space is exhausted (then
    exact up to rounding), or at ``max_iter``. ``min_error``/``max_error`` are those explicit
    residual norms, from the stored products: no product is spent after the last step.

    ``block`` vectors advance per step; with ``block > 1`` each step calls ``batched`` (a map
    ``V[k, n] -> H V``) once, or ``hvp`` ``k`` times when ``batched`` is None. The start block is
    a seeded Rademacher block drawn on the CPU (``v0``, if given, is its first row), so a seed
    gives the same run on any device. ``hvp_dtype`` is the products' precision; ``basis_dtype``
    (default: ``hvp_dtype``, else ``dtype``) the stored vectors'; the projected matrix and the
    norms are float64. After ``max_restarts`` breakdowns (invariant subspaces) the space counts
    as exhausted.
    """
    if n < 1:
        raise ValueError("block_lanczos_extremes needs n >= 1")
    if tol <= 0:
        raise ValueError("tol must be positive")
    if which not in ("both", "min", "max") or scale not in ("unit", "radius"):
        raise ValueError("which must be 'both', 'min' or 'max'; scale 'unit' or 'radius'")
    if block < 1:
        raise ValueError("block must be >= 1")
    device = torch.device(device) if device is not None else torch.device("cpu")
    max_iter = min(n, 300) if max_iter is None else max(1, min(n, int(max_iter)))
    block = min(block, max_iter)
    prod_dtype = hvp_dtype if hvp_dtype is not None else dtype
    store = basis_dtype if basis_dtype is not None else prod_dtype
    generator = torch.Generator().manual_seed(seed)
    eps = torch.finfo(store).eps

    def products(vs: Tensor) -> Tensor:
        vs = vs.to(prod_dtype)
        if vs.shape[0] == 1:
            return hvp(vs[0]).reshape(1, -1).to(store)
        op = batched if batched is not None else _loop_batched(hvp)
        return op(vs).reshape(vs.shape[0], -1).to(store)

    def random_rows(k: int) -> Tensor:
        return torch.stack([_rademacher(n, generator, torch.float64) for _ in range(k)])

    start = random_rows(block)
    if v0 is not None:
        first = v0.detach().reshape(-1).to("cpu", torch.float64)
        if float(torch.linalg.vector_norm(first)) == 0.0:
            raise ValueError("v0 must be nonzero")
        start[0] = first
    q, _ = torch.linalg.qr(start.T)  # n × b, orthonormal in float64 before rounding to store
    current = q.T.to(dtype=store, device=device)

    basis = _Rows(n, store, device, min(max_iter, 64) + block)
    prods = _Rows(n, store, device, min(max_iter, 64) + block)
    t_blocks: list[tuple[int, int, np.ndarray]] = []  # (row0, col0, block) of upper T
    next_check = 1
    matvecs = 0
    restarts = 0
    exhausted = False
    converged = False
    anorm = 0.0
    prev64: Tensor | None = None
    prev_off = 0

    def t_matrix() -> np.ndarray:
        k = basis.size
        t = np.zeros((k, k))
        for r0, c0, blk in t_blocks:
            t[r0 : r0 + blk.shape[0], c0 : c0 + blk.shape[1]] = blk
            if r0 != c0:
                t[c0 : c0 + blk.shape[1], r0 : r0 + blk.shape[0]] = blk.T
        return (t + t.T) / 2

    def explicit(y: Tensor) -> tuple[float, float, Tensor]:
        x = _combine(basis.rows, y)
        hx = _combine(prods.rows, y)
        norm = float(torch.linalg.vector_norm(x))
        x, hx = x / norm, hx / norm
        lam = float(torch.dot(x, hx))
        return lam, float(torch.linalg.vector_norm(hx - lam * x)), x

    while True:
        b = current.shape[0]
        w = products(current)
        matvecs += b
        off = basis.size
        basis.extend(current)
        prods.extend(w)
        w64 = w.to(torch.float64)
        cur64 = current.to(torch.float64)
        a64 = cur64 @ w64.T
        a = a64.cpu().numpy()
        t_blocks.append((off, off, a))
        # the three-term part first (coefficients in float64), so that the DGKS test of the
        # full projection measures only what the recurrence left and its second pass stays rare
        local = w64 - a64.T @ cur64
        if prev64 is not None:
            c64 = prev64 @ w64.T
            t_blocks.append((prev_off, off, c64.cpu().numpy()))
            local = local - c64.T @ prev64
        res = _project_off(local.to(store), basis.rows)
        prev64, prev_off = cur64, off
        k = basis.size
        if k >= n:
            exhausted = converged = True
            break
        evals, evecs = np.linalg.eigh(t_matrix())
        lo, hi = float(evals[0]), float(evals[-1])
        radius = max(abs(lo), abs(hi))
        gram = (res @ res.T).to(torch.float64).cpu().numpy()
        anorm = max(anorm, float(np.abs(a).sum(axis=1).max()) + math.sqrt(float(gram.max())))
        tiny = 100.0 * eps * max(anorm, 1e-300)
        # an invariant subspace with restarts left: restart before trusting the (zero)
        # residuals, since the start block may simply have missed part of the spectrum
        breakdown = bool((np.sqrt(np.maximum(np.diag(gram), 0.0)) <= tiny).all())
        restart_first = breakdown and restarts < max_restarts and k < max_iter
        want = [c for c, end in ((0, "min"), (-1, "max")) if which in ("both", end)]
        # the recurrence's residual estimate ‖R_lastᵀ y_last‖ for each wanted end
        estimates = [
            math.sqrt(max(0.0, float(evecs[off:, c] @ gram @ evecs[off:, c]))) for c in want
        ]
        if (
            not restart_first
            and k >= next_check
            and all(
                e <= _bound(tol, scale, radius, float(evals[c])) for e, c in zip(estimates, want)
            )
        ):
            # the recurrence says done: confirm with the explicit residuals (from stored
            # products). Where they disagree (rounding floors the explicit residual above a
            # too-tight tol), back off so that the checks' reads of the basis stay a small
            # fraction of the run.
            ok = True
            for c in want:
                lam, err, _ = explicit(torch.from_numpy(evecs[:, c]))
                ok = ok and err <= _bound(tol, scale, radius, lam)
            if ok:
                converged = True
                break
            next_check = k + max(1, k // 8)
        if k >= max_iter:
            break
        # next block: orthonormalise the residual rows; a row that vanished (an invariant
        # subspace: rounding is all that is left of it) is replaced by a fresh random vector
        # orthogonal to the basis, a restart. Its coupling to the basis comes out ~0 from the
        # products themselves, so T needs no special case.
        nb = min(b, max_iter - k, n - k)
        rows = res[:nb]
        nxt: list[Tensor] = []
        stop = False
        for i in range(nb):
            r = _within_block(rows[i], nxt)
            norm = float(torch.linalg.vector_norm(r))
            if not math.isfinite(norm):
                raise FloatingPointError("Hessian-vector product returned a non-finite value")
            if norm <= tiny or norm == 0.0:
                if restarts >= max_restarts:
                    stop = True
                    break
                fresh = random_rows(1).to(device=device, dtype=store)
                fresh = _project_off(_project_off(fresh, basis.rows), basis.rows)
                r = _within_block(fresh[0], nxt)
                norm = float(torch.linalg.vector_norm(r))
                if norm <= math.sqrt(eps):  # numerically the basis already spans everything
                    stop = True
                    break
                restarts += 1
            nxt.append(r / norm)
        if stop:  # invariant subspace and no restarts left: T holds exact eigenvalues
            exhausted = converged = True
            break
        current = torch.stack(nxt)
    evals, evecs = np.linalg.eigh(t_matrix())
    lam_min, err_min, x_min = explicit(torch.from_numpy(evecs[:, 0]))
    lam_max, err_max, x_max = explicit(torch.from_numpy(evecs[:, -1]))
    return ExtremeEigen(
        min_eigenvalue=lam_min,
        max_eigenvalue=lam_max,
        min_vector=x_min.to(dtype),
        max_vector=x_max.to(dtype),
        min_error=err_min,
        max_error=err_max,
        iterations=basis.size,
        matvecs=matvecs,
        converged=converged,
        exhausted=exhausted,
        restarts=restarts,
        seed=seed,
    )
