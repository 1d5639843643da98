"""The tensor atom table: every row, and :func:`make`, which builds a node by its row's rules.

A row of :data:`ROWS` declares the facts of one operation (shape rule, curvature on the argument
ranges, per-entry monotonicity, domain, interval enclosure, batched NumPy evaluation; see
:class:`~convexcheck.tensor.atoms_base.Row`). The composition rule that combines these facts is
written once, in :mod:`convexcheck.tensor.dcp`, and ``tests/tensor/test_tensor_atoms.py`` checks
every row against independent numerics.

The rows live by family: the arithmetic affine rows in :mod:`.atoms_affine`, the structural ones
(indexing, reshape, stacking, diag, conv, kron...) in :mod:`.atoms_structural`, the elementwise
ones in :mod:`.atoms_nonlinear`, the reductions in :mod:`.atoms_reductions` and the matrix atoms
in :mod:`.atoms_matrix`. Importing this module imports them all, so any code that reads
:data:`ROWS` or calls :func:`make` sees the whole table (no import for its side effect).
"""

from __future__ import annotations

from convexcheck.errors import ConvexcheckInputError
from convexcheck.tensor import (  # noqa: F401  (each registers its rows into ROWS)
    atoms_affine,
    atoms_matrix,
    atoms_nonlinear,
    atoms_reductions,
    atoms_structural,
)
from convexcheck.tensor import atoms_base as _base
from convexcheck.tensor.atoms_affine import batched_matmul
from convexcheck.tensor.atoms_base import (
    AFFINE,
    BOTH,
    CONCAVE,
    CONVEX,
    ROWS,
    Curvature,
    Row,
    affine_curvature,
    align,
    batch_axis,
    constant_range,
    decreasing,
    increasing,
    interval_matmul,
    reduce_bits,
    register,
    sign_bits,
)
from convexcheck.tensor.expr import TExpr


def make(op: str, args: list[TExpr] | tuple[TExpr, ...], params: tuple = ()) -> TExpr:
    """Build a node, applying the row's shape rule (raises a one-line input error)."""
    row = ROWS.get(op)
    if row is None:
        raise ConvexcheckInputError(f"unknown tensor operation {op!r}")
    args = tuple(args)
    _check_arguments(op, row, args, tuple(params))
    try:
        shape = row.shape([a.shape for a in args], params)
    except ConvexcheckInputError:
        raise
    except (IndexError, TypeError, ValueError, KeyError) as exc:
        raise ConvexcheckInputError(f"{op}: bad arguments or parameters ({exc})") from None
    return TExpr(op, args, shape, params)


# how many arguments each row takes (None: one or more)
_ARITY = {
    "neg": 1, "sum": 1, "cumsum": 1, "index": 1, "reshape": 1, "transpose": 1, "permute": 1,
    "promote": 1,
    "diag_vec": 1, "diag_mat": 1, "trace": 1, "exp": 1, "log": 1, "abs": 1, "logistic": 1,
    "xlogx": 1, "xexp": 1, "power": 1, "huber": 1, "log_sum_exp": 1, "max": 1, "min": 1,
    "sum_largest": 1, "pnorm": 1, "geo_mean": 1, "sum_squares": 1, "lambda_max": 1,
    "lambda_sum_largest": 1, "log_det": 1, "tr_inv": 1, "sigma_max": 1, "normNuc": 1,
    "multiply": 2, "divide": 2, "matmul": 2, "conv": 2, "kron": 2, "kl_div": 2, "rel_entr": 2,
    "quad_over_lin": 2, "quad_form": 2, "matrix_frac": 2,
}  # fmt: skip


def _check_arguments(op: str, row: Row, args: tuple[TExpr, ...], params: tuple) -> None:
    """Argument counts, parameters and the shapes a row's shape rule does not see, as one-line
    input errors (a tree built with ``make`` is refused here, not half-judged later)."""
    n = _ARITY.get(op)
    if (n is not None and len(args) != n) or (n is None and not args):
        want = f"{n} argument{'s' if n != 1 else ''}" if n is not None else "arguments"
        raise ConvexcheckInputError(f"{op} takes {want}, got {len(args)}")
    if op in ("power", "huber", "sum_largest", "lambda_sum_largest", "geo_mean") and not params:
        raise ConvexcheckInputError(f"{op} needs its parameter")
    shapes = [a.shape for a in args]
    if op == "quad_form":
        x, p = shapes
        if len(x) != 1 or p != (x[0], x[0]):
            raise ConvexcheckInputError(
                f"quad_form needs x of shape (n,) and P (n, n), got {x}, {p}"
            )
    if op == "matrix_frac":
        x, p = shapes
        if len(p) != 2 or p[0] != p[1] or not x or x[0] != p[0] or len(x) > 2:
            raise ConvexcheckInputError(
                f"matrix_frac needs X with {p[0] if p else '?'} rows and a square P, got {x}, {p}"
            )
    if op == "quad_over_lin" and shapes[1] != ():
        raise ConvexcheckInputError(
            f"quad_over_lin needs a scalar denominator, got shape {shapes[1]}"
        )
    if op == "geo_mean" and len(params[0]) != args[0].size:
        raise ConvexcheckInputError(
            f"geo_mean has {len(params[0])} weights for {args[0].size} entries"
        )
    if op == "conv" and (len(shapes[0]) > 1 or len(shapes[1]) > 1):
        raise ConvexcheckInputError("conv takes two vectors")
    if op == "diag_vec" and len(shapes[0]) != 1:
        raise ConvexcheckInputError(f"diag_vec takes a vector, got shape {shapes[0]}")
    if op == "cumsum":
        axis = params[0] if params else 0
        if not -max(1, len(shapes[0])) <= int(axis) < max(1, len(shapes[0])):
            raise ConvexcheckInputError(f"cumsum axis {axis} is out of range for shape {shapes[0]}")
    if op == "pnorm" and len(params) > 2 and params[2] == 0:
        raise ConvexcheckInputError("pnorm needs p != 0")


def clear_caches() -> None:
    """Forget the rows' memos of constant data (a check calls this when it ends)."""
    _base.clear_caches()
    atoms_affine.clear_caches()


__all__ = [
    "AFFINE",
    "BOTH",
    "CONCAVE",
    "CONVEX",
    "ROWS",
    "Curvature",
    "Row",
    "affine_curvature",
    "align",
    "batch_axis",
    "batched_matmul",
    "clear_caches",
    "constant_range",
    "decreasing",
    "increasing",
    "interval_matmul",
    "make",
    "reduce_bits",
    "register",
    "sign_bits",
]
