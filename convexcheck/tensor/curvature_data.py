"""Certified ``(mu, L)`` of a quadratic loss on data: ``c0·‖A x - b‖² + lam·‖x‖²`` and the like.

A CVXPY expression whose tensor tree is a polynomial of degree at most two in the variables
(affine maps with data matrices inside ``sum_squares``, ``quad_over_lin`` by a positive
constant, ``power(pnorm(., 2), 2)``, ``sum(power(., 2))``, scaled by constants and summed) has
one Hessian ``H`` everywhere, e.g. ``2·c0·AᵀA + 2·lam·I``. It is formed here *exactly*: every
float64 datum is a dyadic rational, the affine maps are composed in ``Fraction`` arithmetic.
The extreme eigenvalues of ``H`` (the data matrix's extreme singular values, squared and
scaled) are estimated in float64, shrunk outward to rational candidates ``mu`` and ``L``, and
proved by exact LDLᵀ: ``H - mu·I ⪰ 0`` and ``L·I - H ⪰ 0``. The certificate (the tree, the
exact ``H``, ``mu``, ``L``) is re-checked by
:mod:`convexcheck.certificates.curvature_data_check`, which recomputes ``H`` its own way.

Anything outside that fragment, or too large for exact arithmetic, gives ``None`` with the
reason (never an unproved number).
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import numpy as np

from convexcheck.tensor.document import encode_tree
from convexcheck.tensor.expr import TExpr, postorder, variables_of

KIND = "curvature-data"
MAX_VARIABLES = 60  # entries of all variables together: exact arithmetic above is too slow
MAX_WORK = 4_000_000  # Fraction multiply-adds one matrix product may cost

_frac = np.vectorize(Fraction, otypes=[object])


class NotQuadratic(Exception):
    """The tree is outside the quadratic fragment (the message says where)."""


class _Affine:
    """``value = M @ z + c`` over the stacked variable entries ``z``: ``M`` has shape
    ``(*shape, n)``, ``c`` has ``shape`` (object arrays of ``Fraction``)."""

    def __init__(self, m: np.ndarray, c: np.ndarray) -> None:
        self.m, self.c = np.asarray(m, dtype=object), np.asarray(c, dtype=object)


class _Quadratic:
    """A scalar quadratic: only its (constant) Hessian ``h`` (``n x n``) matters."""

    def __init__(self, h: np.ndarray) -> None:
        self.h = h


def exact_hessian(root: TExpr) -> tuple[list[str], np.ndarray]:
    """The variable names (stacking order) and the exact Hessian of the scalar tree ``root``;
    raises :class:`NotQuadratic` outside the fragment."""
    infos = variables_of(root)
    for info in infos:
        if info.symmetric or info.psd or info.nsd:
            raise NotQuadratic(f"{info.name} has a matrix attribute (symmetric/PSD)")
    n = sum(info.size for info in infos)
    if n == 0:
        raise NotQuadratic("the expression has no variables")
    if n > MAX_VARIABLES:
        raise NotQuadratic(f"{n} variable entries: exact arithmetic is limited to {MAX_VARIABLES}")
    offsets, at = {}, 0
    for info in infos:
        offsets[info.name] = at
        at += info.size
    zero = Fraction(0)
    values: dict[int, Any] = {}
    for node in postorder(root):
        args = [values[id(a)] for a in node.args]
        try:
            values[id(node)] = _step(node, args, n, offsets, zero)
        except NotQuadratic:
            raise
        except (TypeError, ValueError, IndexError, AttributeError) as exc:  # not in the fragment
            raise NotQuadratic(f"{node.op} could not be read: {type(exc).__name__}") from exc
    out = values[id(root)]
    if root.shape not in ((), (1,)):
        raise NotQuadratic("the expression is not scalar")
    if isinstance(out, _Squares) and out.m.size == n:
        out = _Quadratic(_gram(out.m, n))
    if isinstance(out, _Affine):
        return [i.name for i in infos], np.full((n, n), zero, dtype=object)
    if not isinstance(out, _Quadratic):
        raise NotQuadratic("the expression is not a quadratic")
    return [i.name for i in infos], out.h


def _const(node: TExpr) -> np.ndarray:
    return _frac(np.asarray(node.value, dtype=np.float64))


def _scalar_constant(v: Any) -> Fraction | None:
    if isinstance(v, _Affine) and v.c.size == 1 and not any(e != 0 for e in v.m.ravel()):
        return Fraction(v.c.ravel()[0])
    return None


def _gram(m: np.ndarray, n: int) -> np.ndarray:
    rows = m.reshape(-1, n)
    if rows.shape[0] * n * n > MAX_WORK:
        raise NotQuadratic("the data matrix is too large for exact arithmetic")
    return 2 * (rows.T @ rows)


def _step(node: TExpr, args: list[Any], n: int, offsets: dict[str, int], zero: Fraction) -> Any:
    op = node.op
    if op == "constant":
        c = _const(node)
        return _Affine(np.full((*c.shape, n), zero, dtype=object), c)
    if op == "variable":
        info = node.variable
        assert info is not None
        eye = np.full((info.size, n), zero, dtype=object)
        for k in range(info.size):
            eye[k, offsets[info.name] + k] = Fraction(1)
        return _Affine(eye.reshape(*info.shape, n), np.full(info.shape, zero, dtype=object))
    kinds = {type(a) for a in args}
    if kinds <= {_Affine}:
        return _affine_step(node, args, n)
    if op == "power" and _is_square(node) and isinstance(args[0], _Norm2):
        return _Quadratic(_gram(args[0].m, n))
    if op == "sum" and isinstance(args[0], _Squares) and node.size == 1:
        return _Quadratic(_gram(args[0].m, n))
    if op == "reshape" and isinstance(args[0], _Squares) and node.size == 1:
        return args[0]
    if not kinds <= {_Affine, _Quadratic}:
        raise NotQuadratic(f"{op} of a norm or of elementwise squares")
    # a quadratic somewhere below: only scalar combinations of quadratics are allowed
    if op == "add":
        h = np.full((n, n), zero, dtype=object)
        for a in args:
            if isinstance(a, _Quadratic):
                h = h + a.h
            elif a.c.size != 1:
                raise NotQuadratic("a vector added to a quadratic")
        return _Quadratic(h)
    if op == "neg":
        return _Quadratic(-args[0].h)
    if op == "multiply" and len(args) == 2:
        q = [a for a in args if isinstance(a, _Quadratic)]
        k = [_scalar_constant(a) for a in args if not isinstance(a, _Quadratic)]
        if len(q) == 1 and len(k) == 1 and k[0] is not None:
            return _Quadratic(q[0].h * k[0])
        raise NotQuadratic("a quadratic multiplied by a non-constant")
    if op == "divide" and isinstance(args[0], _Quadratic):
        k = _scalar_constant(args[1])
        if k is not None and k != 0:
            return _Quadratic(args[0].h / k)
        raise NotQuadratic("a quadratic divided by a non-constant")
    if op in ("reshape", "sum") and node.size == 1:
        return args[0]
    raise NotQuadratic(f"{op} is outside the quadratic fragment")


class _Norm2:
    """``‖M z + c‖₂`` (not a polynomial): allowed only under ``power(., 2)``."""

    def __init__(self, m: np.ndarray) -> None:
        self.m = m


class _Squares:
    """``(M z + c)**2`` elementwise: allowed only under a full ``sum``."""

    def __init__(self, m: np.ndarray) -> None:
        self.m = m


def _is_square(node: TExpr) -> bool:
    return bool(node.params) and Fraction(node.params[0]) == 2


def _affine_step(node: TExpr, args: list[_Affine], n: int) -> Any:
    op, p = node.op, node.params
    if op == "add":
        m, c = args[0].m, args[0].c
        for a in args[1:]:
            m, c = m + a.m, c + a.c
        return _Affine(m, c)
    if op == "neg":
        return _Affine(-args[0].m, -args[0].c)
    if op == "multiply":
        a, b = args
        ka, kb = _constant_array(a), _constant_array(b)
        if ka is None and kb is None:
            raise NotQuadratic("a product of two affine expressions")
        k, v = (ka, b) if ka is not None else (kb, a)
        return _Affine(np.asarray(k)[..., None] * v.m, k * v.c)
    if op == "divide":
        k = _scalar_constant(args[1])
        if k is None or k == 0:
            raise NotQuadratic("division by a non-constant")
        return _Affine(args[0].m / k, args[0].c / k)
    if op == "matmul":
        a, b = args
        ka = _constant_array(a)
        if ka is None or ka.ndim not in (1, 2) or b.c.ndim != 1:
            raise NotQuadratic("a matrix product that is not constant @ vector")
        if ka.size * n > MAX_WORK:
            raise NotQuadratic("the data matrix is too large for exact arithmetic")
        return _Affine(ka @ b.m, ka @ b.c)
    if op == "sum":
        axis, keep = p[0], bool(p[1]) if len(p) > 1 else False
        if axis is None and not keep:
            return _Affine(args[0].m.reshape(-1, n).sum(axis=0), np.asarray(args[0].c.sum()))
        raise NotQuadratic("a partial sum")
    if op == "index":
        key = p[0]
        return _Affine(args[0].m[key], args[0].c[key])
    if op == "concatenate" and p and p[0] == 0 and all(a.c.ndim == 1 for a in args):
        return _Affine(
            np.concatenate([a.m for a in args], axis=0), np.concatenate([a.c for a in args])
        )
    if op == "reshape" and (node.size == args[0].c.size) and (len(p) < 2 or p[1] == "C"):
        return _Affine(args[0].m.reshape(*node.shape, n), args[0].c.reshape(node.shape))
    if op == "reshape" and node.size == 1:
        return _Affine(args[0].m.reshape(*node.shape, n), args[0].c.reshape(node.shape))
    if op == "quad_over_lin":
        k = _scalar_constant(args[1])
        if k is None or k <= 0:
            raise NotQuadratic("quad_over_lin by a non-constant or non-positive denominator")
        return _Quadratic(_gram(args[0].m, n) / k)
    if op == "pnorm" and len(p) >= 3 and p[0] is None and Fraction(p[2]) == 2:
        return _Norm2(args[0].m)
    if op == "power" and _is_square(node):
        return _Squares(args[0].m)
    raise NotQuadratic(f"{op} is outside the quadratic fragment")


def _constant_array(v: _Affine) -> np.ndarray | None:
    return None if any(e != 0 for e in v.m.ravel()) else v.c


# ---------------------------------------------------------------------------------------------
# the bounds
# ---------------------------------------------------------------------------------------------


def _ldl_psd(a: list[list[Fraction]]) -> bool:
    """Exact symmetric LDLᵀ with diagonal pivoting: ``a`` is PSD (the prover's own test)."""
    n = len(a)
    w = [row[:] for row in a]
    rest = list(range(n))
    while rest:
        p = max(rest, key=lambda i: w[i][i])
        d = w[p][p]
        rest.remove(p)
        if d < 0:
            return False
        if d == 0:
            if any(w[i][p] != 0 for i in rest):
                return False
            continue
        for i in rest:
            f = w[i][p] / d
            if f:
                for j in rest:
                    w[i][j] -= f * w[p][j]
    return True


def _shifted(h: list[list[Fraction]], t: Fraction, sign: int) -> list[list[Fraction]]:
    n = len(h)
    return [[sign * (h[i][j] - (t if i == j else 0)) for j in range(n)] for i in range(n)]


def prove_bounds(h: np.ndarray) -> tuple[Fraction | None, Fraction | None, dict[str, Any]]:
    """Proved ``mu <= λ_min(h)`` and ``λ_max(h) <= L`` (or ``None``), with what was tried."""
    rows = [[Fraction(v) for v in row] for row in h]
    approx = np.array([[float(v) for v in row] for row in rows], dtype=np.float64)
    lam = np.linalg.eigvalsh(approx)
    lo, hi = float(lam[0]), float(lam[-1])
    scale = max(abs(lo), abs(hi), 1e-300)
    tiny = 1e-12 * scale + 1e-300
    evidence: dict[str, Any] = {"estimate": {"lambda_min": lo, "lambda_max": hi}, "tries": {}}

    def attempt(key: str, guesses: list[float], sign: int) -> Fraction | None:
        tried = []
        for g in guesses:
            t = Fraction(g)
            tried.append(g)
            if _ldl_psd(_shifted(rows, t, sign)):
                evidence["tries"][key] = tried
                return t
        evidence["tries"][key] = tried
        return None

    steps = [(abs(lo) * 1e-9 + tiny) * 1000.0**k for k in range(4)]
    mu_guesses = [lo - d for d in steps]
    if mu_guesses[-1] < 0 and lo >= -1e-6 * scale:
        mu_guesses.append(0.0)  # a PSD, rank-deficient H: mu = 0 is exact
    mu_guesses = sorted(set(mu_guesses), reverse=True)
    l_guesses = [hi + d for d in steps]
    mu = attempt("mu", list(dict.fromkeys(mu_guesses)), 1)
    L = attempt("L", l_guesses, -1)
    return mu, L, evidence


def certificate(root: TExpr, names: list[str], h: np.ndarray, mu: Any, L: Any) -> dict[str, Any]:
    return {
        "kind": KIND,
        "tree": encode_tree(root),
        "order": names,
        "hessian": [[str(Fraction(v)) for v in row] for row in h],
        "mu": None if mu is None else str(mu),
        "L": None if L is None else str(L),
    }


def cvxpy_tree(expression: Any) -> tuple[TExpr, str]:
    """The tensor tree of a CVXPY expression (a ``(1,)`` result read as a scalar) and its
    short text."""
    from convexcheck.tensor.atoms import make
    from convexcheck.tensor.cvxpy_bridge import translate_with_variables
    from convexcheck.tensor.expr import short_text

    root, _notes, _originals = translate_with_variables(expression)
    if root.shape in ((1,), (1, 1)):
        root = make("reshape", [root], ((), "C"))
    return root, short_text(root)
