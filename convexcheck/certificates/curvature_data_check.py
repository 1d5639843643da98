"""Checking ``curvature-data`` certificates: ``mu <= λ(∇²f) <= L`` for a quadratic loss on data.

The document holds the expression's tensor tree (the format of :mod:`convexcheck.tensor.document`;
as for every tensor document the tree *is* the function, its constants checked against their
SHA-256 hashes), the variable order, the exact Hessian ``H`` and the bounds. Nothing the prover
(:mod:`convexcheck.tensor.curvature_data`) computed is believed:

1. a degree count over the decoded tree (constants 0, variables 1; sums, indexing, reshapes
   keep the degree, products add it, ``power(., 2)``, ``quad_over_lin(., c)`` with a positive
   constant ``c`` and ``power(pnorm(., 2), 2)`` double it, division only by a nonzero
   constant; any other operation is refused) shows ``f`` is a polynomial of degree at most 2
   in the stacked variable entries, so its Hessian is one constant matrix;
2. that matrix is computed here another way than the prover's: by exact evaluation of the tree
   (every float64 datum read as the dyadic rational it is) at ``0``, ``e_i``, ``2e_i`` and
   ``e_i + e_j``: ``H_ii = f(2e_i) - 2f(e_i) + f(0)``, ``H_ij = f(e_i + e_j) - f(e_i) - f(e_j)
   + f(0)``, exact for a quadratic; the stored ``H`` must equal it entry by entry;
3. ``H - mu·I`` and ``L·I - H`` are shown PSD by the checker's own exact LDLᵀ
   (:func:`~convexcheck.certificates.exact_linalg.decide_psd`).

Variables with a matrix attribute (symmetric, PSD) are refused: there the Hessian on the
domain's subspace is not ``H``.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import numpy as np

from convexcheck.certificates.context import CheckFailed, Report, require
from convexcheck.certificates.exact_linalg import decide_psd
from convexcheck.tensor.document import decode_tree
from convexcheck.tensor.expr import TExpr, postorder, variables_of

KIND = "curvature-data"
MAX_ENTRIES = 60  # the most stacked variable entries a document may have


def check_curvature_data(cert: dict[str, Any], name: str = "<curvature-data>") -> Report:
    """Re-check a curvature-data certificate; never raises on a bad document, reports it."""
    try:
        require(isinstance(cert, dict), "the certificate is not a JSON object")
        require(cert.get("kind") == KIND, f"not a {KIND} certificate")
        _check(cert)
    except CheckFailed as exc:
        return Report(name, False, [str(exc)])
    except Exception as exc:  # a malformed document is a failure, not a crash
        return Report(name, False, [f"malformed certificate: {type(exc).__name__}: {exc}"])
    return Report(name, True)


def _check(cert: dict[str, Any]) -> None:
    _built, root = decode_tree(cert["tree"])
    require(root.shape in ((), (1,)), "the function is not scalar")
    infos = {i.name: i for i in variables_of(root)}
    order = [str(v) for v in cert["order"]]
    require(len(set(order)) == len(order), "a variable is listed twice")
    require(set(order) == set(infos), "the variable order is not the tree's variables")
    for info in infos.values():
        require(not (info.symmetric or info.psd or info.nsd), f"{info.name} has a matrix attribute")
    n = sum(infos[v].size for v in order)
    require(0 < n <= MAX_ENTRIES, f"{n} variable entries (at most {MAX_ENTRIES})")
    degree = _degrees(root)
    require(degree[id(root)] <= 2, "the function is not shown to be a quadratic")
    h = _hessian(root, order, infos, n)
    stored = [[Fraction(str(v)) for v in row] for row in cert["hessian"]]
    require(len(stored) == n and all(len(r) == n for r in stored), "Hessian shape")
    for i in range(n):
        for j in range(n):
            require(stored[i][j] == h[i][j], f"Hessian entry ({i}, {j}) is not ∂²f")
    for key, sign in (("mu", 1), ("L", -1)):
        text = cert.get(key)
        if text is None:
            continue
        require(isinstance(text, str), f"{key} is not a string")
        t = Fraction(text)
        shifted = [[sign * (h[i][j] - (t if i == j else 0)) for j in range(n)] for i in range(n)]
        what = "H - mu I" if sign > 0 else "L I - H"
        require(decide_psd(shifted), f"{what} is not shown PSD ({key} = {text})")


def _constant_node(node: TExpr) -> bool:
    return node.op == "constant"


def _degrees(root: TExpr) -> dict[int, int]:
    """An upper bound of each node's polynomial degree (``CheckFailed`` outside the rules)."""
    deg: dict[int, int] = {}
    for node in postorder(root):
        op, p = node.op, node.params
        d = [deg[id(a)] for a in node.args]
        if op == "constant":
            out = 0
        elif op == "variable":
            out = 1
        elif op in ("add", "neg", "sum", "index", "concatenate", "reshape"):
            if op == "sum":
                require(len(p) >= 1, "sum without parameters")
            out = max(d)
        elif op in ("multiply", "matmul"):
            out = sum(d)
        elif op == "divide":
            b = node.args[1]
            require(_constant_node(b) and np.all(b.value != 0), "division by a non-constant")
            out = d[0]
        elif op == "power":
            require(bool(p) and Fraction(p[0]) == 2, "a power other than 2")
            out = 2 * d[0]  # also for ‖u‖₂² (power of a pnorm): a polynomial of twice u's
        elif op == "pnorm":
            require(len(p) >= 3 and p[0] is None and Fraction(p[2]) == 2, "a pnorm other than 2")
            out = d[0]  # not a polynomial: allowed only directly under power(., 2) (below)
        elif op == "quad_over_lin":
            y = node.args[1]
            require(_constant_node(y) and y.size == 1, "quad_over_lin by a non-constant")
            require(float(np.ravel(y.value)[0]) > 0, "quad_over_lin by a non-positive constant")
            out = 2 * d[0]
        else:
            raise CheckFailed(f"{op} is outside the quadratic fragment")
        deg[id(node)] = out
    for node in postorder(root):
        for child in node.args:
            if child.op == "pnorm":
                require(node.op == "power", "a 2-norm that is not squared")
    require(root.op != "pnorm", "a 2-norm that is not squared")
    return deg


class _Exact:
    """An exact rational array as ``num / den``: ``num`` an object array of Python integers,
    ``den`` one positive integer (integer arithmetic is far cheaper than ``Fraction``'s)."""

    __slots__ = ("den", "num")

    def __init__(self, num: Any, den: int) -> None:
        self.num = np.asarray(num, dtype=object)
        self.den = den

    @staticmethod
    def of_floats(value: np.ndarray) -> _Exact:
        fracs = [Fraction(float(v)) for v in np.ravel(value)]
        den = 1
        for q in fracs:
            den = max(den, q.denominator)  # every denominator is a power of two
        num = [q.numerator * (den // q.denominator) for q in fracs]
        return _Exact(np.array(num, dtype=object).reshape(np.shape(value)), den)

    def scalar(self) -> Fraction:
        require(self.num.size == 1, "a scalar was expected")
        return Fraction(int(np.ravel(self.num)[0]), self.den)


def _add(a: _Exact, b: _Exact) -> _Exact:
    if a.den == b.den:
        return _Exact(a.num + b.num, a.den)
    return _Exact(a.num * b.den + b.num * a.den, a.den * b.den)


def _by(a: _Exact, q: Fraction) -> _Exact:
    """``a / q`` for a nonzero rational ``q``."""
    sign = 1 if q > 0 else -1
    return _Exact(a.num * (sign * q.denominator), a.den * abs(q.numerator))


def _evaluate(root: TExpr, point: dict[str, _Exact], consts: dict[int, _Exact]) -> Fraction:
    """``f`` at the point, exactly (a pnorm node evaluates to its square; it only ever stands
    directly under ``power(., 2)``, which then passes it through)."""
    val: dict[int, _Exact] = {}
    for node in postorder(root):
        op, p = node.op, node.params
        a = [val[id(c)] for c in node.args]
        if op == "constant":
            if id(node) not in consts:
                consts[id(node)] = _Exact.of_floats(np.asarray(node.value, dtype=np.float64))
            out = consts[id(node)]
        elif op == "variable":
            out = point[node.variable.name]  # type: ignore[union-attr]
        elif op == "add":
            out = a[0]
            for b in a[1:]:
                out = _add(out, b)
        elif op == "neg":
            out = _Exact(-a[0].num, a[0].den)
        elif op == "multiply":
            out = _Exact(a[0].num * a[1].num, a[0].den * a[1].den)
        elif op == "matmul":
            out = _Exact(a[0].num @ a[1].num, a[0].den * a[1].den)
        elif op == "divide":
            q = a[1].scalar()  # the degree count required a nonzero constant
            require(q != 0, "division by zero")
            out = _by(a[0], q)
        elif op == "sum":
            keep = bool(p[1]) if len(p) > 1 else False
            out = _Exact(np.sum(a[0].num, axis=p[0], keepdims=keep), a[0].den)
        elif op == "index":
            out = _Exact(a[0].num[p[0]], a[0].den)
        elif op == "concatenate":
            den = 1
            for x in a:
                den *= x.den
            out = _Exact(np.concatenate([x.num * (den // x.den) for x in a], axis=p[0]), den)
        elif op == "reshape":
            order = p[1] if len(p) > 1 else "C"
            out = _Exact(np.reshape(a[0].num, p[0], order=order), a[0].den)
        elif op in ("pnorm", "quad_over_lin"):
            u = a[0]
            out = _Exact(np.sum(u.num * u.num), u.den * u.den)
            if op == "quad_over_lin":
                out = _by(out, a[1].scalar())
        elif op == "power":
            u = a[0]
            out = u if node.args[0].op == "pnorm" else _Exact(u.num * u.num, u.den * u.den)
        else:  # the degree count refused it already
            raise CheckFailed(f"{op} cannot be evaluated")
        val[id(node)] = out
    return val[id(root)].scalar()


def _hessian(root: TExpr, order: list[str], infos: dict[str, Any], n: int) -> list[list[Fraction]]:
    consts: dict[int, _Exact] = {}

    def f(z: list[int]) -> Fraction:
        point, at = {}, 0
        for v in order:
            info = infos[v]
            flat = np.array(z[at : at + info.size], dtype=object)
            point[v] = _Exact(flat.reshape(info.shape), 1)
            at += info.size
        return _evaluate(root, point, consts)

    zero = [0] * n

    def unit(*idx: int) -> list[Fraction]:
        z = list(zero)
        for i in idx:
            z[i] += 1
        return z

    f0 = f(zero)
    fe = [f(unit(i)) for i in range(n)]
    h = [[Fraction(0)] * n for _ in range(n)]
    for i in range(n):
        h[i][i] = f(unit(i, i)) - 2 * fe[i] + f0
        for j in range(i):
            h[i][j] = h[j][i] = f(unit(i, j)) - fe[i] - fe[j] + f0
    return h
