"""Checking a tensor Jensen witness (see :mod:`.tensor_check` for what is checked and why).

The points are read by the checker's own strict parser (an exact decimal, a rational ``p/q`` or
a C99 hex float, which must each be exactly a float64: ``float.fromhex`` would silently round
``0x1.00000000000001p0``), placed in the domains by exact comparisons and exact PSD decisions,
and the function is re-evaluated by :mod:`.tensor_eval` (or, above its work cap, by the atom
rows' rigorous enclosures at the points).
"""

from __future__ import annotations

import re
from fractions import Fraction
from typing import Any

import numpy as np

from convexcheck.certificates.context import CheckFailed, require
from convexcheck.certificates.exact_linalg import float_matrix_psd
from convexcheck.certificates.tensor_check import TRUSTED_LIBM, TRUSTED_ROWS, decode, strict_domain
from convexcheck.certificates.tensor_eval import MAX_OPERATIONS, evaluate, operation_count
from convexcheck.certificates.tensor_iv import PREC, Undefined, iv, precision
from convexcheck.certificates.tensor_matrix import MATRIX_OPS, MATRIX_TRUST, matrix_enclosure
from convexcheck.tensor import intervals as tiv
from convexcheck.tensor.atoms import ROWS
from convexcheck.tensor.atoms_nonlinear import PSD_CONTEXT, PSDContext
from convexcheck.tensor.expr import TExpr, VariableInfo, postorder, variables_of
from convexcheck.tensor.intervals import IArray

MARGIN = Fraction(1, 10**25)  # the gap must exceed MARGIN * (1 + |f(a)| + |f(b)| + |f(m)|)
_HEX = re.compile(r"([+-]?)0[xX]([0-9a-fA-F]*)(?:\.([0-9a-fA-F]*))?(?:[pP]([+-]?\d{1,5}))?")


def exact_float(text: Any) -> float:
    """The float64 that ``text`` denotes exactly; a failure if it denotes anything else."""
    require(isinstance(text, str), f"a coordinate {text!r} is not a string")
    require(len(text) <= 2000, "a coordinate written with more than 2,000 characters")
    t = text.strip()
    match = _HEX.fullmatch(t)
    if match:
        sign, whole, frac, exp = match.groups()
        frac = frac or ""
        require(bool(whole or frac), f"{text!r} is not a hex float")
        q = Fraction(int(whole + frac or "0", 16)) * Fraction(2) ** (int(exp or 0) - 4 * len(frac))
        q = -q if sign == "-" else q
    else:
        try:
            q = Fraction(t)
        except (ValueError, ZeroDivisionError):
            raise CheckFailed(f"{text!r} is not an exact number") from None
    try:
        f = float(q)
    except OverflowError:
        raise CheckFailed(f"{text!r} is beyond the float64 range") from None
    require(Fraction(f) == q, f"{text!r} is not exactly a float64")
    return -0.0 if f == 0 and t.startswith("-") else f


def _read_array(spec: Any, shape: tuple[int, ...], label: str) -> np.ndarray:
    def walk(v: Any, depth: int) -> Any:
        if isinstance(v, list):
            require(depth < len(shape), f"{label} is nested deeper than its shape {list(shape)}")
            return [walk(x, depth + 1) for x in v]
        return exact_float(v)

    arr = np.array(walk(spec, 0), dtype=np.float64)
    require(arr.shape == shape, f"{label} has shape {list(arr.shape)}, the variable {list(shape)}")
    return arr


def _check_in_domain(info: VariableInfo, x: np.ndarray, label: str, trusted: list[str]) -> None:
    above = (x > info.lo) | ((x == info.lo) & ~info.lo_open)
    below = (x < info.hi) | ((x == info.hi) & ~info.hi_open)
    require(bool(np.all(above & below)), f"{label} is outside the bounds of {info.name}")
    if info.symmetric:
        require(bool(np.array_equal(x, x.T)), f"{label} is not symmetric")
    if info.psd or info.nsd:
        word = "NSD" if info.nsd else "PSD"
        require(
            float_matrix_psd(x, negate=bool(info.nsd)),
            f"{label} is not proved {word} (the checker's exact LDLᵀ does not show it)",
        )


def _midpoint(a: np.ndarray, b: np.ndarray, t: Fraction) -> tuple[np.ndarray, bool]:
    """``t*a + (1-t)*b`` exactly: a float64 array when every entry is a float64, else Fractions."""
    exact = np.empty(a.shape, dtype=object)
    for idx in np.ndindex(a.shape):
        exact[idx] = t * Fraction(float(a[idx])) + (1 - t) * Fraction(float(b[idx]))
    floats = np.array([float(q) for q in np.ravel(exact)], dtype=np.float64).reshape(a.shape)
    if all(Fraction(float(f)) == q for f, q in zip(np.ravel(floats), np.ravel(exact), strict=True)):
        return floats, True
    return exact, False


def _entry(w: dict[str, Any], shape: tuple[int, ...]) -> tuple[int, ...]:
    entry = w.get("entry")
    if not shape:
        require(entry in (None, []), "a scalar function's witness names an entry")
        return ()
    require(
        isinstance(entry, list) and len(entry) == len(shape),
        f"the witness must name an entry of shape {list(shape)}",
    )
    idx = tuple(int(i) for i in entry)
    require(
        all(0 <= i < s for i, s in zip(idx, shape, strict=True)),
        f"entry {list(idx)} is outside {list(shape)}",
    )
    return idx


def check_tensor_witness(
    doc: dict[str, Any], question: str, w: dict[str, Any], trusted: list[str]
) -> None:
    require(isinstance(w.get("tree"), dict), "a tensor witness needs its tree")
    _, root = decode(w["tree"], doc)
    t = Fraction(str(w["t"]))
    require(0 < t < 1, f"t = {t} is not in (0, 1)")
    infos = variables_of(root)
    points: dict[str, dict[str, np.ndarray]] = {}
    for key in ("a", "b"):
        spec = w[key]
        require(
            isinstance(spec, dict) and set(spec) == {i.name for i in infos},
            f"point {key} does not give exactly the variables",
        )
        points[key] = {i.name: _read_array(spec[i.name], i.shape, f"{key}.{i.name}") for i in infos}
        for i in infos:
            _check_in_domain(i, points[key][i.name], f"{key}.{i.name}", trusted)
    mid: dict[str, np.ndarray] = {}
    float_mid = True
    for i in infos:
        mid[i.name], is_float = _midpoint(points["a"][i.name], points["b"][i.name], t)
        float_mid = float_mid and is_float
    entry = _entry(w, root.shape)
    sign = 1 if question == "convex" else -1
    work = 3 * operation_count(root)
    if work <= MAX_OPERATIONS:
        _gap_by_intervals(root, points, mid, t, entry, sign)
        trusted.append(
            f"mpmath interval arithmetic (mpmath.iv) at {PREC} bits for the three values"
        )
        used = sorted({n.op for n in postorder(root) if n.op in MATRIX_OPS})
        if used:
            trusted.append(
                f"mpmath eigsy/svd_r/lu_solve at {PREC} bits for {', '.join(used)}, taken within "
                f"{MATRIX_TRUST} times the matrix's Frobenius norm (plus Weyl's bound for the "
                "argument widths)"
            )
        return
    require(
        t == Fraction(1, 2) and float_mid,
        "above the work cap, only t = 1/2 with a float64 midpoint is checked",
    )
    _gap_by_rows(root, points, mid, entry, sign)
    trusted.append(
        f"the evaluation needs about {work:,} interval operations (cap {MAX_OPERATIONS:,}): "
        "the three values come from the atom rows' rigorous float64 interval enclosures at the "
        "points"
    )
    trusted.extend([TRUSTED_ROWS, TRUSTED_LIBM])


def _gap_by_intervals(
    root: TExpr, points: dict, mid: dict, t: Fraction, entry: tuple, sign: int
) -> None:
    values = []
    cache: dict[int, np.ndarray] = {}
    for label, point in (("a", points["a"]), ("b", points["b"]), ("the point at t", mid)):
        try:
            values.append(evaluate(root, point, cache)[entry])
        except Undefined as exc:
            raise CheckFailed(f"the function is not certified defined at {label}: {exc}") from exc
    fa, fb, fm = values
    with precision():
        big_t = iv.mpf(t.numerator) / t.denominator
        gap = sign * (fm - big_t * fa - (1 - big_t) * fb)
        scale = 1 + abs(fa) + abs(fb) + abs(fm)
        margin = iv.mpf(MARGIN.numerator) / MARGIN.denominator * scale
        require(
            bool(gap.a > margin.b),
            f"the recomputed gap (about {float(gap.mid):.6g}) does not exceed the margin "
            f"{float(margin.b):.3g}",
        )


def _rows_at(root: TExpr, point: dict[str, np.ndarray], label: str) -> IArray:
    ranges: dict[int, IArray] = {}
    token = PSD_CONTEXT.set(PSDContext())
    try:
        for node in postorder(root):
            if node.op == "variable":
                out = IArray.point(point[node.variable.name])  # type: ignore[union-attr]
            elif node.op == "constant":
                out = IArray.point(node.value)  # type: ignore[arg-type]
            else:
                row = ROWS[node.op]
                args = [ranges[id(a)] for a in node.args]
                why = row.domain(node, args) or strict_domain(node, args)
                require(not why, f"the function is not certified defined at {label}: {why}")
                if node.op in MATRIX_OPS:
                    try:
                        lo, hi = matrix_enclosure(node, [(r.lo, r.hi) for r in args])
                    except Undefined as exc:
                        raise CheckFailed(
                            f"the function is not certified defined at {label}: {exc}"
                        ) from exc
                    out = IArray(np.asarray(lo), np.asarray(hi))
                else:
                    out = row.interval(node, args)
            ranges[id(node)] = out
    finally:
        PSD_CONTEXT.reset(token)
    return ranges[id(root)]


def _gap_by_rows(root: TExpr, points: dict, mid: dict, entry: tuple, sign: int) -> None:
    fa = _rows_at(root, points["a"], "a")
    fb = _rows_at(root, points["b"], "b")
    fm = _rows_at(root, mid, "the midpoint")
    diff = tiv.sub(fm, tiv.scale(tiv.add(fa, fb), 0.5))
    low = float(diff.lo[entry]) if sign > 0 else -float(diff.hi[entry])
    size = 1 + sum(max(abs(float(r.lo[entry])), abs(float(r.hi[entry]))) for r in (fa, fb, fm))
    require(
        low > float(MARGIN) * size * 1.01,
        f"the gap enclosed by the rows ({low!r}) does not exceed the margin",
    )


__all__ = ["check_tensor_witness", "exact_float"]
