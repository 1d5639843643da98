"""Checking ``curvature-bounds`` certificates: ``mu <= λ_min(∇²f) <= λ_max(∇²f) <= L`` on a box.

Nothing the prover (:mod:`convexcheck.symbolic.curvature`) computed is believed. From the
document's expression text the checker

1. reads the function with its own reader and refuses a function that is not twice
   differentiable on the whole closed box (:func:`~convexcheck.certificates.sign_check
   .hessian_obstacle`, the same test a Hessian convexity certificate passes);
2. recomputes the Hessian with SymPy's differentiation and requires every stored entry to equal
   it identically on the domain (the stored, simplified entries are what gets enclosed);
3. replays each bound's bisection tree from the domain box: a split must cut a side strictly
   inside it, and the two halves (closed at the cut) cover the parent; at every leaf it encloses
   the stored entries itself (rule-table interval arithmetic, layer 0) and bounds the smallest
   eigenvalue of every symmetric matrix in that interval matrix, by Gershgorin's theorem
   (``λ_min >= min_i lo_ii - Σ_{j≠i} max|h_ij|``) or, for a ``shift`` leaf, by Weyl's
   inequality ``λ_min(M + E) >= λ_min(M) - ‖E‖₂`` with ``M`` the midpoint matrix, ``‖E‖₂`` at
   most the largest row sum of the radii, and ``λ_min(M) >= t`` shown by the checker's exact
   LDLᵀ of ``M - t I`` (:func:`~convexcheck.certificates.exact_linalg.psd`);
   or, for a ``segment`` leaf of a Hessian proved to be ``C + g(x) P`` identically (``C``,
   ``P`` rational), by the concavity of ``λ_min`` along that segment: ``C + e P - t I`` PSD
   at both ends ``e`` of the checker's enclosure of ``g`` (the structure of a logistic or
   log-sum-exp term plus a quadratic, which entry-wise enclosures cannot see);
4. requires every leaf's bound to be at least the document's ``mu`` (for ``L`` the same on
   ``-H`` against ``-L``). A ``-oo``/``oo`` bound claims nothing and passes.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from convexcheck.certificates.context import CheckFailed, Context, Report, is_zero, require
from convexcheck.certificates.exact_linalg import psd
from convexcheck.certificates.reading import check_literals
from convexcheck.certificates.sign_check import hessian_obstacle
from convexcheck.symbolic import interval as iv
from convexcheck.symbolic.interval import INF, Interval
from convexcheck.symbolic.ir import free_variables
from convexcheck.symbolic.ranges import enclose

KIND = "curvature-bounds"
MAX_LEAVES = 4096  # the most leaves a document may have (the prover's default is 256)


def check_curvature(cert: dict[str, Any], name: str = "<curvature>") -> Report:
    """Re-check a curvature-bounds certificate; never raises on a bad document, reports it."""
    ctx: Context | None = None
    try:
        require(isinstance(cert, dict), "the certificate is not a JSON object")
        check_literals(cert)
        require(cert.get("kind") == KIND, f"not a {KIND} certificate")
        ctx = Context(cert)
        _check(ctx, cert)
    except CheckFailed as exc:
        return Report(name, False, [str(exc)])
    except Exception as exc:  # a malformed document is a failure, not a crash
        return Report(name, False, [f"malformed certificate: {type(exc).__name__}: {exc}"])
    return Report(name, True, trusted=ctx.trusted)


def _check(ctx: Context, cert: dict[str, Any]) -> None:
    import sympy

    order = [str(v) for v in cert["order"]]
    require(len(set(order)) == len(order), "a variable is listed twice")
    require(sorted(order) == sorted(ctx.domains), "the variable order is not the domain's")
    require(set(free_variables(ctx.root)) <= set(order), "a variable of f is missing")
    why_not = hessian_obstacle(ctx.root, ctx.domains, ctx.trusted.append)
    require(why_not is None, f"the Hessian argument does not apply: {why_not}")
    n = len(order)
    texts = cert["hessian"]
    require(len(texts) == n and all(len(row) == n for row in texts), "Hessian shape")
    syms = [ctx.symbols[v] for v in order]
    nodes = []
    for i in range(n):
        row = []
        for j in range(n):
            require(texts[i][j] == texts[j][i], "the stored Hessian is not symmetric")
            exact = sympy.diff(ctx.f, syms[i], syms[j])
            stored = ctx.sympy_of(texts[i][j])
            require(is_zero(stored - exact, ctx), f"Hessian entry ({i}, {j}) is not ∂²f")
            row.append(ctx.node_of(texts[i][j]))
        nodes.append(row)
    structure = _structure(ctx, cert.get("structure"), order, n)
    box = {v: ctx.domains[v] for v in order}
    for key, sign in (("mu", 1), ("L", -1)):
        claim = cert.get(key)
        if claim is None:
            continue
        value = _read(claim["value"])
        target = value if sign > 0 else -value
        if target == -INF:
            continue  # -oo below λ_min (oo above λ_max) claims nothing
        require(target != INF, f"{key} = {claim['value']} is impossible")
        _replay(claim["tree"], nodes, box, order, sign, Fraction(target), key, structure)


def _structure(ctx: Context, doc: Any, order: list[str], n: int) -> Any:
    """``(C, P, g_node)`` after proving ``∂²f/∂x_i∂x_j = C_ij + P_ij·g`` identically on the
    domain for every entry (with the checker's own Hessian), or ``None`` without a structure."""
    import sympy

    if doc is None:
        return None
    constant = [[Fraction(v) for v in row] for row in doc["constant"]]
    pattern = [[Fraction(v) for v in row] for row in doc["pattern"]]
    require(len(constant) == n and all(len(r) == n for r in constant), "constant shape")
    require(len(pattern) == n and all(len(r) == n for r in pattern), "pattern shape")
    g = ctx.sympy_of(doc["g"])
    syms = [ctx.symbols[v] for v in order]
    for i in range(n):
        for j in range(i):
            require(constant[i][j] == constant[j][i], "the constant matrix is not symmetric")
            require(pattern[i][j] == pattern[j][i], "the pattern matrix is not symmetric")
    for i in range(n):
        for j in range(i, n):  # ∂²f/∂x_i∂x_j = ∂²f/∂x_j∂x_i: f is C² on the box (step 1)
            exact = sympy.diff(ctx.f, syms[i], syms[j])
            c, p = constant[i][j], pattern[i][j]
            model = (
                sympy.Rational(c.numerator, c.denominator)
                + sympy.Rational(p.numerator, p.denominator) * g
            )
            require(is_zero(exact - model, ctx), f"H[{i}][{j}] is not C + g·P there")
    return constant, pattern, ctx.node_of(doc["g"])


def _read(text: Any) -> Fraction | float:
    require(isinstance(text, str), "a bound is not a string")
    if text == "oo":
        return INF
    if text == "-oo":
        return -INF
    return Fraction(text)


def _replay(
    tree: dict[str, Any],
    nodes: list[list[Any]],
    box: dict[str, Interval],
    order: list[str],
    sign: int,
    target: Fraction,
    key: str,
    structure: Any = None,
) -> None:
    pending = [(tree, box)]
    leaves = 0
    while pending:
        node, current = pending.pop()
        require(isinstance(node, dict), "a tree node is not an object")
        if "split" in node:
            var = node["split"]
            require(var in order, f"split on an unknown variable {var!r}")
            d = current[var]
            at = Fraction(node["at"])
            require(d.lo < at < d.hi, f"split of {var} at {node['at']} is not inside {d}")
            low = iv.make(d.lo, at, d.lo_open, False)
            high = iv.make(at, d.hi, False, d.hi_open)
            pending.append((node["low"], {**current, var: low}))
            pending.append((node["high"], {**current, var: high}))
            continue
        leaves += 1
        require(leaves <= MAX_LEAVES, f"the {key} tree has more than {MAX_LEAVES} leaves")
        bound = _leaf_bound(node, nodes, current, sign, structure)
        require(
            bound >= target,
            f"{key}: on the box {_box_text(current)} only {bound} is shown, not {target}",
        )


def _leaf_bound(
    leaf: dict[str, Any],
    nodes: list[list[Any]],
    box: dict[str, Interval],
    sign: int,
    structure: Any = None,
) -> Fraction | float:
    """The checker's own lower bound of λ_min(sign·H) over the box."""
    n = len(nodes)
    method = leaf.get("method")
    if method == "segment":
        # λ_min(sign·(C + g P)) is concave in g (a minimum of affine functions of g), so over
        # the enclosure [lo, hi] of g it is at least its smaller value at the two ends
        require(structure is not None, "a segment leaf without a structure")
        constant, pattern, g_node = structure
        g = enclose(g_node, box)
        require(g is not None and g.bounded, f"g has no bounded enclosure on {_box_text(box)}")
        t = Fraction(leaf["t"])
        for e in (Fraction(g.lo), Fraction(g.hi)):
            m = [
                [sign * (constant[i][j] + e * pattern[i][j]) - (t if i == j else 0)
                 for j in range(n)]
                for i in range(n)
            ]  # fmt: skip
            require(psd(m), f"C + ({e}) P - ({leaf['t']}) I is not shown PSD")
        return t
    rows: list[list[Interval]] = []
    for i in range(n):
        row = []
        for j in range(n):
            r = enclose(nodes[i][j], box)
            require(r is not None, f"entry ({i}, {j}) has no enclosure on {_box_text(box)}")
            row.append(r if sign > 0 else iv.neg(r))
        rows.append(row)
    best: Fraction | float = INF
    for i in range(n):
        lo = rows[i][i].lo
        radius: Fraction | float = Fraction(0)
        for j in range(n):
            if j != i:
                radius = radius + max(abs(rows[i][j].lo), abs(rows[i][j].hi))
        value = -INF if lo == -INF or radius == INF else Fraction(lo) - Fraction(radius)
        best = min(best, value)
    if method == "shift":
        t = Fraction(leaf["t"])
        finite = all(r.lo != -INF and r.hi != INF for row in rows for r in row)
        require(finite, "a shift leaf with an unbounded entry")
        mid = [[(Fraction(r.lo) + Fraction(r.hi)) / 2 for r in row] for row in rows]
        rho = max(sum((Fraction(r.hi) - Fraction(r.lo)) / 2 for r in row) for row in rows)
        shifted = [[mid[i][j] - (t if i == j else 0) for j in range(n)] for i in range(n)]
        require(psd(shifted), f"M - ({leaf['t']}) I is not shown PSD")
        best = max(best, t - rho)
    else:
        require(method == "gershgorin", f"unknown leaf method {method!r}")
    return best


def _box_text(box: dict[str, Interval]) -> str:
    return ", ".join(f"{v} in {d}" for v, d in box.items())
