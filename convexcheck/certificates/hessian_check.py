"""Checking ``hessian`` and ``sos`` certificates: the Hessian recomputed with SymPy's own
differentiation, factorisations multiplied back, every sign proof re-proved, Gram matrices
expanded and proved PSD exactly.
"""

from __future__ import annotations

import itertools
from fractions import Fraction
from typing import Any

from convexcheck.certificates.context import CheckFailed, Context, is_zero, require

MAX_CLAIMED_BOXES = 256  # the sign prover's own limit (signs.MAX_BOXES): more is forged

# ---------------------------------------------------------------------------------------------
# sign proofs (shared by the Hessian checks)
# ---------------------------------------------------------------------------------------------


def _check_sign(ctx: Context, proof: dict[str, Any], expected: Any = None) -> None:
    import sympy

    from convexcheck.symbolic.ranges import enclose
    from convexcheck.symbolic.signs import bisect_prove, meets, poly_sign_ok, polys_safe

    claim = proof["claim"]
    require(claim in (">=0", ">0"), f"unknown claim {claim!r}")
    expr_text = proof["expr"]
    e = ctx.sympy_of(expr_text)
    if expected is not None:
        require(
            is_zero(e - expected, ctx), f"the sign condition on {expr_text} is about another value"
        )
    method = proof["method"]
    used = {s.name: ctx.domains[s.name] for s in e.free_symbols}
    if method == "enclosure":
        r = enclose(ctx.node_of(expr_text), used)
        require(meets(r, claim), f"enclosure {r} of {expr_text} does not show {claim}")
    elif method == "polynomial":
        require(polys_safe(e), f"exponents in {expr_text[:60]} too large for polynomial checks")
        (x,) = e.free_symbols
        poly = sympy.Poly(e, x)
        require(poly.domain.is_QQ or poly.domain.is_ZZ, "not a rational polynomial")
        require(poly_sign_ok(poly, ctx.domains[x.name], claim), f"{expr_text} is not {claim}")
    elif method == "bisection":
        boxes = proof["boxes"]
        require(
            isinstance(boxes, int) and not isinstance(boxes, bool) and boxes >= 1,
            f"bisection box count {boxes!r} is not a positive integer",
        )
        require(
            boxes <= MAX_CLAIMED_BOXES,
            f"bisection claims {boxes:,} boxes, more than the prover ever uses "
            f"({MAX_CLAIMED_BOXES})",
        )
        # some slack: the checker's tree (parsed from the printed text) may enclose differently
        count = bisect_prove(ctx.node_of(expr_text), used, claim, 4 * boxes + 4)
        require(count is not None, f"bisection does not show {expr_text} {claim}")
    elif method == "factors":
        constant = ctx.sympy_of(proof["constant"])
        require(constant.is_Rational and constant != 0, "the constant factor is not rational")
        product = constant
        sign = 1 if constant > 0 else -1
        strict = claim == ">0"
        for factor in proof["factors"]:
            base = ctx.sympy_of(factor["base"])
            exponent = int(factor["exponent"])
            product *= base**exponent
            kind = factor["sign"]
            if kind == "even":
                require(exponent % 2 == 0 and exponent > 0 and not strict, "bad even factor")
                continue
            want = ">0" if kind in ("positive", "negative") else ">=0"
            require(exponent > 0 or want == ">0", "a negative power needs a nonzero base")
            require(not strict or want == ">0", "a strict claim needs strict factors")
            target = base if kind in ("positive", "nonneg") else -base
            require(factor["proof"]["claim"] == want, "factor proof proves the wrong claim")
            _check_sign(ctx, factor["proof"], expected=target)
            if kind in ("negative", "nonpos") and exponent % 2 == 1:
                sign = -sign
        require(sign > 0, "the factors' signs multiply to a negative number")
        require(is_zero(product - e), f"the factorisation does not multiply back to {expr_text}")
    else:
        raise CheckFailed(f"unknown sign-proof method {method!r}")


# ---------------------------------------------------------------------------------------------
# Hessian and SOS certificates
# ---------------------------------------------------------------------------------------------


def check_hessian(ctx: Context, question: str, cert: dict[str, Any]) -> None:
    import sympy

    from convexcheck.symbolic.hessian import applicable
    from convexcheck.symbolic.ir import free_variables

    why_not = applicable(ctx.root, ctx.domains)
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
        _check_sign(ctx, conditions[0], expected=hessian[0, 0])
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
            _check_sign(ctx, proof, expected=d)
    elif method == "principal-minors":
        subsets = [list(s) for k in range(1, n + 1) for s in itertools.combinations(range(n), k)]
        require([list(m) for m in cert["minors"]] == subsets, "not all principal minors listed")
        for subset, proof in zip(subsets, conditions, strict=True):
            minor = hessian.extract(subset, subset).det(method="berkowitz")
            require(proof["claim"] in (">=0", ">0"), "bad claim")
            _check_sign(ctx, proof, expected=minor)
    else:
        raise CheckFailed(f"unknown Hessian method {method!r}")


def check_sos(ctx: Context, question: str, cert: dict[str, Any]) -> None:
    import sympy

    from convexcheck.symbolic.quadratic import ldl_psd
    from convexcheck.symbolic.sympy_bridge import to_sympy

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
    # "y0*x**2": re-read with the whitelisted parser, then map y_i to the dummies
    basis = [to_sympy(ctx.node_of(text), {**ctx.symbols, **y_names}) for text in cert["basis"]]
    gram = [[Fraction(v) for v in row] for row in cert["gram"]]
    size = len(basis)
    require(len(gram) == size and all(len(r) == size for r in gram), "Gram matrix shape")
    for i in range(size):
        for j in range(i):
            require(gram[i][j] == gram[j][i], "the Gram matrix is not symmetric")
    psd, _, _, _ = ldl_psd(gram)
    require(psd, "the Gram matrix is not positive semidefinite")
    expansion = sympy.expand(
        sum(
            sympy.Rational(gram[i][j].numerator, gram[i][j].denominator) * basis[i] * basis[j]
            for i in range(size)
            for j in range(size)
        )
    )
    require(sympy.expand(expansion - form) == 0, "zᵀQz is not the Hessian form")
