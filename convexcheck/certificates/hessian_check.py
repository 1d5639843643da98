"""Checking ``hessian`` and ``sos`` certificates: the Hessian recomputed with SymPy's
differentiation of the checker's own reading of the expression, factorisations multiplied back,
every sign proof re-proved by the checker's own sign reasoning
(:mod:`~convexcheck.certificates.sign_check`), Gram matrices expanded and proved PSD by the
checker's own exact LDLᵀ (:mod:`~convexcheck.certificates.exact_linalg`).
"""

from __future__ import annotations

import itertools
from fractions import Fraction
from typing import Any

from convexcheck.certificates.context import CheckFailed, Context, is_zero, require
from convexcheck.certificates.exact_linalg import decide_psd
from convexcheck.certificates.sign_check import check_sign, hessian_obstacle
from convexcheck.certificates.trusted_reader import read_sympy
from convexcheck.symbolic.ir import free_variables

# ---------------------------------------------------------------------------------------------
# Hessian and SOS certificates
# ---------------------------------------------------------------------------------------------


def check_hessian(ctx: Context, question: str, cert: dict[str, Any]) -> None:
    import sympy

    why_not = hessian_obstacle(ctx.root, ctx.domains, ctx.trusted.append)
    require(why_not is None, f"the Hessian argument does not apply: {why_not}")
    names = list(cert["variables"])
    # the variables of the function as written: SymPy's form may have lost some (9*x/x is 9)
    written = free_variables(ctx.root)
    require(sorted(names) == sorted(written), "wrong variable list")
    sign = 1 if question == "convex" else -1
    require(cert["sign"] == sign, "the certificate is for the other question")
    syms = [ctx.symbols[n] for n in names]
    n = len(syms)
    hessian = sympy.Matrix(n, n, lambda i, j: sign * sympy.diff(ctx.f, syms[i], syms[j]))
    stored = sympy.Matrix(n, n, lambda i, j: ctx.sympy_of(cert["matrix"][i][j]))
    for i, j in itertools.product(range(n), repeat=2):
        require(is_zero(stored[i, j] - hessian[i, j], ctx), f"matrix entry ({i}, {j}) is not ±H")
    method = cert["method"]
    conditions = cert["conditions"]
    if method == "zero":
        require(all(is_zero(v, ctx) for v in hessian), "the Hessian is not identically zero")
    elif method == "second-derivative":
        require(n == 1 and len(conditions) == 1, "one variable, one condition expected")
        require(conditions[0]["claim"] in (">=0", ">0"), "bad claim")
        check_sign(ctx, conditions[0], expected=hessian[0, 0])
    elif method == "ldl":
        order = [int(k) for k in cert["order"]]
        require(sorted(order) == list(range(n)), "the pivot order is not a permutation")
        lower = sympy.Matrix(n, n, lambda i, j: ctx.sympy_of(cert["L"][i][j]))
        pivots = [ctx.sympy_of(d) for d in cert["D"]]
        for i in range(n):
            require(lower[i, i] == 1, "L must have a unit diagonal")
            for j in range(i + 1, n):
                require(lower[i, j] == 0, "L must be lower triangular")
        permuted = hessian.extract(order, order)
        product = lower * sympy.diag(*pivots) * lower.T
        for i, j in itertools.product(range(n), repeat=2):
            require(is_zero(product[i, j] - permuted[i, j], ctx), "L D Lᵀ is not the Hessian")
        # every pivot but a final zero/last one eliminates, so must be strictly positive
        proofs = iter(conditions)
        for p, d in enumerate(pivots):
            if d == 0 and all(v == 0 for v in pivots[p:]):
                break
            proof = next(proofs, None)
            require(proof is not None, f"pivot {d} has no sign proof")
            need = ">=0" if p == n - 1 else ">0"
            require(proof["claim"] in (need, ">0"), f"pivot {d} needs {need}")
            check_sign(ctx, proof, expected=d)
    elif method == "principal-minors":
        subsets = [list(s) for k in range(1, n + 1) for s in itertools.combinations(range(n), k)]
        require([list(m) for m in cert["minors"]] == subsets, "not all principal minors listed")
        for subset, proof in zip(subsets, conditions, strict=True):
            minor = hessian.extract(subset, subset).det(method="berkowitz")
            require(proof["claim"] in (">=0", ">0"), "bad claim")
            check_sign(ctx, proof, expected=minor)
    else:
        raise CheckFailed(f"unknown Hessian method {method!r}")


def check_sos(ctx: Context, question: str, cert: dict[str, Any]) -> None:
    import sympy

    names = list(cert["variables"])
    sign = 1 if question == "convex" else -1
    require(cert["sign"] == sign, "the certificate is for the other question")
    syms = [ctx.symbols[n] for n in names]
    require(set(syms) >= ctx.f.free_symbols, "variables missing from the certificate")
    ys = [sympy.Dummy(f"y{i}", real=True) for i in range(len(syms))]
    f = sign * ctx.f
    form = sympy.expand(
        sum(
            sympy.diff(f, a, b) * ys[i] * ys[j]
            for i, a in enumerate(syms)
            for j, b in enumerate(syms)
        )
    )
    y_names = {f"y{i}": ys[i] for i in range(len(ys))}
    # "y0*x**2": read by the checker's reader, with y_i mapped to the dummies
    require(not set(y_names) & set(ctx.symbols), "a variable is named like a basis dummy")
    basis = [read_sympy(text, {**ctx.symbols, **y_names}) for text in cert["basis"]]
    gram = [[Fraction(v) for v in row] for row in cert["gram"]]
    size = len(basis)
    require(len(gram) == size and all(len(r) == size for r in gram), "Gram matrix shape")
    for i in range(size):
        for j in range(i):
            require(gram[i][j] == gram[j][i], "the Gram matrix is not symmetric")
    require(decide_psd(gram), "the Gram matrix is not shown positive semidefinite (exact LDLᵀ)")
    expansion = sympy.expand(
        sum(
            sympy.Rational(gram[i][j].numerator, gram[i][j].denominator) * basis[i] * basis[j]
            for i in range(size)
            for j in range(size)
        )
    )
    require(sympy.expand(expansion - form) == 0, "zᵀQz is not the Hessian form")
