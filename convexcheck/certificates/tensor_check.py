"""Checking tensor documents: DCP derivations (``dcp-tensor``) and tensor Jensen witnesses.

A tensor document is recognised by its evidence: a ``yes`` whose certificate has
``kind: "dcp-tensor"``, or a ``no`` whose witness carries a ``tree`` (the expression tree in
the format of :mod:`convexcheck.tensor.document`; such a witness is also marked
``kind: "jensen-tensor"``). The tree *is* the function: the document's ``expression`` is
CVXPY's printed form, for people, and is not read. The tree's variables must be the
document's ``variables`` (same names, shapes and domain words).

DCP (``dcp-tensor``)
    The tree is decoded (its constants must match their SHA-256 hashes, every node's shape is
    re-derived by the atom table's shape rules and compared). Then every node is walked again,
    children first, with the checker's own composition rule (:func:`_compose`) from the atom
    rows' facts only — curvature on the argument ranges, per-entry monotonicity bits, the
    argument domain, the interval enclosure — on ranges the checker recomputes from the
    variables' domains; nothing the document claims about ranges or curvature is used. A
    pattern node (``as_atom``) is accepted only if :mod:`.tensor_patterns` finds the same
    reading and the written node is defined on the domain. ``quad_form`` curvature is the
    checker's own PSD decision of the exact matrix (a checked exact LDLᵀ,
    :mod:`.exact_linalg`, never the prover's :mod:`convexcheck.tensor.psd`); a matrix
    PSD only within a tolerance counts only where the document records that assumption (in
    ``assumptions`` and an ``assumed`` entry of ``psd_decisions``), and the assumption is then
    reported. The claimed curvature of every node must be implied by the re-derived one, and
    the root's must answer the question.

Witness (``jensen-tensor``)
    ``a`` and ``b`` give every entry of every variable as an exact string that must be exactly a
    float64; both points must lie in the domains (bounds with their open ends, exact symmetry,
    an exact PSD/NSD decision for PSD/NSD variables); ``t`` is a rational in (0, 1). The
    function is re-evaluated at ``a``, ``b`` and ``t*a + (1-t)*b`` (exactly formed) by the
    checker's own interval evaluator (:mod:`.tensor_eval`), and the gap at the stated ``entry``
    must have the refuting sign with a margin of ``1e-25 (1 + |f(a)| + |f(b)| + |f(m)|)``.
    Above :data:`~.tensor_eval.MAX_OPERATIONS` the three values come instead from the atom
    rows' rigorous float64 interval enclosures at the points (``t`` must then be ``1/2`` with a
    float64 midpoint), and the report says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

from convexcheck.certificates.context import CheckFailed, require
from convexcheck.certificates.exact_linalg import float_matrix_psd, float_matrix_within
from convexcheck.certificates.tensor_patterns import IDENTITIES, Canon, params_key, readings
from convexcheck.tensor import atoms_nonlinear  # noqa: F401  (registers the nonlinear rows)
from convexcheck.tensor.atoms import ROWS, make
from convexcheck.tensor.atoms_nonlinear import PSD_CONTEXT, PSDContext
from convexcheck.tensor.document import content_hash, decode_param, decode_tree
from convexcheck.tensor.elementwise import DEC, INC
from convexcheck.tensor.expr import TExpr, VariableInfo, variables_of
from convexcheck.tensor.intervals import IArray

TRUSTED_ROWS = (
    "the tensor atom rows (convexcheck.tensor.atoms, atoms_nonlinear, elementwise): shape rules, "
    "curvature on argument ranges, per-entry monotonicity, domains and interval enclosures"
)
TRUSTED_LIBM = (
    "NumPy/libm exp, log, log1p and power within 4 ulps, and BLAS dot products computed as dot "
    "products, inside the rows' float64 interval enclosures"
)
MAX_NODE_ENTRIES = 20_000_000  # entries of one variable, constant or node of a document's tree
CURVATURES = ("constant", "affine", "convex", "concave", "unknown")
_IMPLIED = {
    "constant": {"constant"},
    "affine": {"constant", "affine"},
    "convex": {"constant", "affine", "convex"},
    "concave": {"constant", "affine", "concave"},
    "unknown": set(CURVATURES),
}


# ---- the tree and its variables ---------------------------------------------------------------
def _entries(shape: Any, what: str) -> int:
    require(
        isinstance(shape, list)
        and len(shape) <= 8
        and all(isinstance(s, int) and s >= 0 for s in shape),
        f"{what} has a malformed shape {shape!r}",
    )
    size = int(np.prod(shape, dtype=object)) if shape else 1
    require(size <= MAX_NODE_ENTRIES, f"{what} has {size:,} entries (limit {MAX_NODE_ENTRIES:,})")
    return size


def _require_flags(domain: Any, name: str) -> None:
    """Domain flags must be JSON booleans (the shared decoder would read ``"false"`` as true)."""
    require(isinstance(domain, dict), f"variable {name} has no domain")

    def booleans(v: Any) -> bool:
        return isinstance(v, bool) or (isinstance(v, list) and all(booleans(x) for x in v))

    for key in ("lo_open", "hi_open"):
        require(booleans(domain.get(key)), f"variable {name}: {key} is not made of booleans")
    for key in ("symmetric", "psd", "nsd"):
        require(
            isinstance(domain.get(key, False), bool), f"variable {name}: {key} is not a boolean"
        )


def decode(tree: dict[str, Any], doc: dict[str, Any]) -> tuple[list[TExpr], TExpr]:
    """Decode ``tree`` and tie it to the document: root last, variables as the document says.

    Shapes are bounded before anything is built (a document declaring a 10^5 x 10^5 variable
    fails with that reason instead of exhausting memory)."""
    require(isinstance(tree, dict) and isinstance(tree.get("nodes"), list), "the tree has no nodes")
    require(int(tree["root"]) == len(tree["nodes"]) - 1, "the root is not the last node")
    for name, v in dict(tree.get("variables", {})).items():
        _entries(v.get("shape"), f"variable {name}")
        _require_flags(v.get("domain"), name)
    for ref, c in dict(tree.get("constants", {})).items():
        _entries(c.get("shape"), f"constant {ref}")
    for k, entry in enumerate(tree["nodes"]):
        _entries(entry.get("shape"), f"node {k}")
        for i in entry.get("args", []):
            require(0 <= int(i) < k, f"node {k} has an argument {i} that does not come before it")
    try:
        built, root = decode_tree(tree)
    except CheckFailed:
        raise
    except Exception as exc:
        raise CheckFailed(f"the tree does not decode: {exc}") from exc
    for k, node in enumerate(built):
        why = _structure(node)
        require(why is None, f"node {k} ({node.op}): {why}")
    stated = doc.get("variables", {})
    infos = {v.name: v for v in variables_of(root)}
    require(
        set(stated) == set(infos),
        f"the document's variables {sorted(stated)} are not the tree's {sorted(infos)}",
    )
    for name, info in infos.items():
        require(
            _describes(stated[name], info),
            f"variable {name}: {stated[name]!r} does not describe the tree's",
        )
    return built, root


def _structure(node: TExpr) -> str | None:
    """Argument shapes the checker requires itself (the rows' shape rules do not all check
    them): what the atom means is only clear for these."""
    shapes = [a.shape for a in node.args]
    square = lambda s: len(s) == 2 and s[0] == s[1]  # noqa: E731
    if node.op == "diag_vec" and len(shapes[0]) != 1:
        return "diag_vec needs a vector"
    if node.op == "quad_form" and not (
        len(shapes[0]) <= 2 and shapes[1] == (node.args[0].size,) * 2
    ):
        return "quad_form needs a vector x and a square P of its size"
    if node.op == "matrix_frac" and not (square(shapes[1]) and 1 <= len(shapes[0]) <= 2):
        return "matrix_frac needs a square P"
    if node.op == "matrix_frac" and shapes[0][0] != shapes[1][0]:
        return "matrix_frac needs X with as many rows as P"
    if node.op == "quad_over_lin" and node.args[1].size != 1:
        return "quad_over_lin needs a scalar denominator"
    if node.op in ("sum_largest", "lambda_sum_largest"):
        k = node.params[0] if node.params else None
        if not isinstance(k, int) or isinstance(k, bool) or k < 1:
            return f"{node.op} needs a positive integer k"
    if node.op in ("lambda_max", "lambda_sum_largest", "log_det", "tr_inv") and not square(
        shapes[0]
    ):
        return f"{node.op} needs a square matrix"
    if node.op in ("sigma_max", "normNuc") and len(shapes[0]) != 2:
        return f"{node.op} needs a matrix"
    if node.op == "conv" and (node.args[0].op != "constant" or len(node.params) > 1):
        return "conv needs a constant kernel"
    return None


def _describes(stated: Any, info: VariableInfo) -> bool:
    if isinstance(stated, str):
        return info.shape == () and stated == info.domain_word()
    if not isinstance(stated, dict):
        return False
    return (
        list(stated.get("shape", [])) == list(info.shape)
        and stated.get("domain") == info.domain_word()
    )


# ---- the DCP re-walk ----------------------------------------------------------------------------
@dataclass
class _Derived:
    curvature: str
    range: IArray
    defined: bool
    # defined on the whole domain, not only in CVXPY's extended-value reading (+-inf outside
    # an atom's domain); a pattern may only replace nodes that are
    whole: bool = True


def _everything(shape: tuple[int, ...]) -> IArray:
    return IArray(
        np.full(shape, -np.inf), np.full(shape, np.inf), np.ones(shape, bool), np.ones(shape, bool)
    )


def strict_domain(node: TExpr, ranges: list[IArray]) -> str | None:
    """Where CVXPY's meaning of a written atom is defined on less than the row's: ``power(p)``
    outside an even integer ``p >= 2`` needs ``x >= 0`` (``x > 0`` for ``p < 0``); ``xexp``
    needs ``x >= 0``."""
    if node.op == "power":
        p = Fraction(node.params[0])
        if (p.denominator == 1 and p > 0 and p.numerator % 2 == 0) or p in (0, 1):
            return None
        ok = np.all(ranges[0].positive()) if p < 0 else np.all(ranges[0].lo >= 0)
        return None if ok else f"CVXPY's power({p}) needs its argument {'> 0' if p < 0 else '>= 0'}"
    if node.op == "xexp" and not np.all(ranges[0].lo >= 0):
        return "CVXPY's xexp needs its argument >= 0"
    return None


class _PSDJudge:
    """The checker's PSD decisions for ``quad_form`` matrices, and the recorded assumptions."""

    def __init__(self, cert: dict[str, Any], trusted: list[str]) -> None:
        self.trusted = trusted
        self.memo: dict[tuple[str, bool], bool] = {}
        self.allowed: dict[tuple[str, bool], float] = {}
        if cert.get("assumptions"):
            for d in cert.get("psd_decisions", []):
                if d.get("assumed") and d.get("tolerance") is not None:
                    self.allowed[(str(d["matrix"]), bool(d["negated"]))] = float(d["tolerance"])

    def accepts(self, matrix: np.ndarray, negate: bool) -> bool:
        key = (content_hash(matrix), negate)
        if key in self.memo:
            return self.memo[key]
        word = "NSD" if negate else "PSD"
        ok = float_matrix_psd(matrix, negate)  # re-derived: nothing to list as trusted
        if not ok and key in self.allowed:
            tol = self.allowed[key]
            ok = float_matrix_within(matrix, negate, tol)
            if ok:
                self.trusted.append(
                    f"ASSUMPTION recorded in the document: the constant matrix {key[0][:19]}... "
                    f"taken as {word} within psd_tolerance={tol:g} (NumPy eigvalsh estimate: "
                    f"smallest eigenvalue >= -{tol:g} * max|S_ij|; the exact matrix is not "
                    f"shown {word})"
                )
        self.memo[key] = ok
        return ok


def _extended_ranges(
    row, atom: TExpr, kids: list[_Derived], ranges: list[IArray]
) -> list[IArray] | None:
    """CVXPY's extended-value convention, re-derived: an atom with a domain is +inf (convex)
    or -inf (concave) outside it. Where an argument may leave the domain the composition is
    still a DCP one on the set where it is finite if that argument is affine, or concave with
    the domain a half-line [a, oo) (the extension is then monotone in the direction the usual
    premises, checked on the clipped ranges, require). Anything else stays undefined."""
    if row.arg_domain is None:
        return None
    out: list[IArray] = []
    for i, (kid, r) in enumerate(zip(kids, ranges)):
        dom = row.arg_domain(atom, i)
        if dom is None:
            out.append(r)
        elif dom in ("psd", "other"):
            if kid.curvature != "affine":
                return None
            out.append(r)
        else:
            lo, lo_open = dom
            below = (r.lo < lo) | ((r.lo == lo) & lo_open & ~r.lo_open)
            if not np.any(below):
                out.append(r)
                continue
            if kid.curvature not in ("affine", "concave"):
                return None
            never = (r.hi < lo) | ((r.hi == lo) & (lo_open | r.hi_open))
            if np.any(never):
                return None
            out.append(
                IArray(
                    np.where(below, lo, r.lo), r.hi, np.where(below, lo_open, r.lo_open), r.hi_open
                )
            )
    return out


def _compose(atom: TExpr, kids: list[_Derived], psd: _PSDJudge, written: bool) -> _Derived:
    """The DCP composition rule, per entry: ``f(g_1..g_k)`` is convex if ``f`` is convex on the
    argument ranges and each ``g_i`` is affine, or convex with ``f`` nondecreasing in every
    entry of it, or concave with ``f`` nonincreasing in every entry of it (mirrored for
    concave); constant if every argument is constant."""
    row = ROWS[atom.op]
    ranges = [k.range for k in kids]
    if not all(k.defined for k in kids):
        return _Derived("unknown", _everything(atom.shape), False, False)
    whole = all(k.whole for k in kids)
    if row.domain(atom, ranges) or (written and strict_domain(atom, ranges)):
        extended = _extended_ranges(row, atom, kids, ranges)
        if extended is None:
            return _Derived("unknown", _everything(atom.shape), False, False)
        ranges, whole = extended, False
    rng = row.interval(atom, ranges)
    require(tuple(rng.shape) == tuple(atom.shape), f"{atom.op}: an enclosure of the wrong shape")
    if atom.op == "quad_form":
        p = atom.args[1]
        is_const = p.op == "constant"
        convex = is_const and psd.accepts(p.value, negate=False)  # type: ignore[arg-type]
        concave = is_const and psd.accepts(p.value, negate=True)  # type: ignore[arg-type]
        if convex:
            rng = IArray(
                np.maximum(rng.lo, 0.0),
                np.maximum(rng.hi, 0.0),
                rng.lo_open & (rng.lo > 0),
                rng.hi_open,
            )
        elif concave:
            rng = IArray(
                np.minimum(rng.lo, 0.0),
                np.minimum(rng.hi, 0.0),
                rng.lo_open,
                rng.hi_open & (rng.hi < 0),
            )
    else:
        convex, concave, _ = row.curvature(atom, ranges)
    if all(k.curvature == "constant" for k in kids):
        return _Derived("constant", rng, True, whole)
    ok = {"convex": bool(convex), "concave": bool(concave)}
    for i, kid in enumerate(kids):
        if kid.curvature in ("constant", "affine"):
            continue
        bits = np.asarray(row.monotonicity(atom, i, ranges))
        require(
            bits.shape == tuple(atom.args[i].shape),
            f"{atom.op}: monotonicity bits of the wrong shape",
        )
        up = bool(np.all(bits & INC))
        down = bool(np.all(bits & DEC))
        for q, other in (("convex", "concave"), ("concave", "convex")):
            if kid.curvature == q:
                ok[q] = ok[q] and up
            elif kid.curvature == other:
                ok[q] = ok[q] and down
            else:
                ok[q] = False
    word = {(True, True): "affine", (True, False): "convex", (False, True): "concave"}.get(
        (ok["convex"], ok["concave"]), "unknown"
    )
    return _Derived(word, rng, True, whole)


def check_tensor_dcp(
    doc: dict[str, Any], question: str, cert: dict[str, Any], trusted: list[str]
) -> None:
    require(cert.get("format") == 1, "not a format-1 dcp-tensor certificate")
    require(
        question in cert.get("proves", []), f"the certificate does not claim to prove {question}"
    )
    built, _ = decode(cert, doc)
    entries = cert["nodes"]
    psd = _PSDJudge(cert, trusted)
    canon = Canon()
    derived: dict[int, _Derived] = {}
    patterns: set[str] = set()
    token = PSD_CONTEXT.set(PSDContext())  # rows that ask about constant matrices: no tolerance
    try:
        for k, (entry, node) in enumerate(zip(entries, built, strict=True)):
            derived[id(node)] = step = _derive(k, entry, node, built, derived, psd, canon, patterns)
            claim = entry.get("curvature")
            require(claim in CURVATURES, f"node {k} ({node.op}): unknown curvature {claim!r}")
            require(
                step.curvature in _IMPLIED[claim],
                f"node {k} ({node.op}) claims {claim}, but the checker derives {step.curvature}",
            )
    finally:
        PSD_CONTEXT.reset(token)
    top = entries[-1]["curvature"]
    require(
        top in ("constant", "affine", question),
        f"the root is claimed {top}, which does not prove {question}",
    )
    trusted.append(TRUSTED_ROWS)
    trusted.append(TRUSTED_LIBM)
    for name in sorted(patterns):
        trusted.append(
            f"the identity behind pattern {name}: {IDENTITIES[name]} (its form re-matched by "
            "the checker)"
        )


def _derive(
    k: int,
    entry: dict[str, Any],
    node: TExpr,
    built: list[TExpr],
    derived: dict[int, _Derived],
    psd: _PSDJudge,
    canon: Canon,
    patterns: set[str],
) -> _Derived:
    rule = entry.get("rule")
    if node.op == "variable":
        require(rule == "variable", f"node {k}: a variable with rule {rule!r}")
        v = node.variable
        return _Derived("affine", IArray(v.lo, v.hi, v.lo_open, v.hi_open), True)  # type: ignore[union-attr]
    if node.op == "constant":
        require(rule == "constant", f"node {k}: a constant with rule {rule!r}")
        return _Derived("constant", IArray.point(node.value), True)  # type: ignore[arg-type]
    kids = [derived[id(a)] for a in node.args]
    written = _compose(node, kids, psd, written=True)
    if "as_atom" not in entry:
        require(rule == node.op, f"node {k} ({node.op}) has rule {rule!r}")
        return written
    require(
        isinstance(rule, str) and rule.startswith("pattern:"),
        f"node {k}: as_atom without a pattern rule",
    )
    name = rule[len("pattern:") :]
    spec = entry["as_atom"]
    arg_ids = [int(i) for i in spec.get("args", [])]
    require(
        all(0 <= i < k for i in arg_ids),
        f"node {k}: as_atom refers to a node that does not come before it",
    )
    args = tuple(built[i] for i in arg_ids)
    params = tuple(decode_param(spec["params"])) if "params" in spec else ()
    claimed = (str(spec.get("op")), tuple(canon.of(a) for a in args), params_key(params))
    legit = {
        (op, tuple(canon.of(a) for a in a_args), params_key(p))
        for op, a_args, p in readings(name, node, canon)
    }
    require(
        claimed in legit,
        f"node {k} ({node.op}): {spec.get('op')} is not a reading of it by pattern {name!r}",
    )
    require(
        written.defined and written.whole,
        f"node {k} ({node.op}): pattern {name} replaces nodes not defined on the whole domain",
    )
    atom = make(str(spec["op"]), list(args), params)
    require(
        atom.shape == node.shape,
        f"node {k}: the pattern's atom has shape {atom.shape}, the node {node.shape}",
    )
    patterns.add(name)
    return _compose(atom, [derived[id(a)] for a in args], psd, written=False)


__all__ = [
    "check_tensor_dcp",
    "decode",
    "strict_domain",
]
