"""The independent certificate checker.

It trusts the whitelisted parser, the interval arithmetic and atom table (the *rule table*),
and SymPy's exact arithmetic; it trusts nothing the provers computed. Every claim in a document
is re-derived from the expression text:

``jensen-witness`` (a ``no``)
    the points are re-read as exact rationals, checked to lie in the domains, and the gap
    ``f(t*a + (1-t)*b) - t*f(a) - (1-t)*f(b)`` is recomputed with SymPy — exactly when it is
    rational, otherwise with ``evalf(strict=True)``, which raises rather than return digits it
    cannot guarantee — and must have the refuting sign.
``hessian``
    the Hessian is recomputed with SymPy's own differentiation (not the prover's), the stored
    matrix must equal ``±H`` identically, the factorisation is multiplied back (``ldl``) or every
    principal minor recomputed (``principal-minors``), and every sign condition is re-proved from
    its expression: enclosures re-evaluated, polynomial root counts redone, bisections rerun,
    factorisations re-multiplied.
``sos``
    ``yᵀHy`` is recomputed, the Gram matrix expanded against the monomial basis must equal it
    exactly, and the Gram matrix must be PSD by an exact rational LDLᵀ.
``dcp``
    the derivation is re-walked: the root must be the document's expression; every composition
    step's conclusion must follow from its atom's curvature and monotonicity and its children's
    curvatures (the DCP composition rule, written again here); for atoms of the rule table
    (elementary functions, powers, ``Max``/``Min``) curvature and monotonicity are re-read from the
    table on the child's claimed range, and each claimed range must contain a fresh enclosure of
    the child's expression. Pattern, rewrite, piecewise and quadratic-form steps are checked for
    the composition logic and against the checker's own table of pattern-atom curvatures; the
    identities behind them are listed in the report as ``trusted`` steps rather than passed
    silently.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import stat
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

from convexcheck.budget import BudgetSpent, time_limit
from convexcheck.certificates.documents import FORMAT

# The checker reads files anyone can write: it must end, with a failure and a reason, whatever
# is in them. Caps on what it reads and on the work it does for one document:
MAX_DOCUMENT_BYTES = 16 * 2**20
MAX_LITERAL_CHARS = 10_000  # a number written as text (witness coordinate, Gram entry...)
MAX_LITERAL_EXPONENT = 1000  # "1e100000000" would make a 332-megabit integer
CHECK_BUDGET_S = 60.0  # wall-clock seconds per document; past it the document fails
MAX_CLAIMED_BOXES = 256  # the sign prover's own limit (signs.MAX_BOXES): more is forged


@dataclass
class Report:
    """The outcome of checking one document: ``ok`` only when no problem was found."""

    name: str
    ok: bool
    problems: list[str] = field(default_factory=list)
    trusted: list[str] = field(default_factory=list)

    def line(self) -> str:
        if self.ok:
            count = len(self.trusted)
            extra = f" ({count} trusted step{'s' if count != 1 else ''})" if count else ""
            return f"ok    {self.name}{extra}"
        return f"FAIL  {self.name}: {'; '.join(self.problems)}"


class CheckFailed(Exception):
    pass


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise CheckFailed(message)


# ---------------------------------------------------------------------------------------------
# reading expressions and domains (parser + SymPy; nothing is ever evaluated as code)
# ---------------------------------------------------------------------------------------------


class Context:
    def __init__(self, doc: dict[str, Any]) -> None:
        import sympy

        from convexcheck.symbolic.domains import parse_domain
        from convexcheck.symbolic.parser import parse

        self.doc = doc
        self.root = parse(doc["expression"], max_length=None)
        self.domains = {name: parse_domain(spec) for name, spec in doc["variables"].items()}
        self.symbols = {name: sympy.Symbol(name, real=True) for name in self.domains}
        self.f = self.sympy_of(doc["expression"])
        self.trusted: list[str] = []

    def node_of(self, text: str):
        from convexcheck.symbolic.parser import parse

        return parse(text, max_length=None)

    def sympy_of(self, text: str):
        from convexcheck.symbolic.sympy_bridge import to_sympy

        return to_sympy(self.node_of(text), self.symbols)


def _is_zero(e: Any) -> bool:
    import sympy

    from convexcheck.symbolic.signs import polys_safe

    if e == 0:
        return True
    # cancel/simplify expand x**(10**9) densely: such identities are not checked, they fail
    _require(polys_safe(e), "exponents too large for the checker's identity tests")
    e = sympy.cancel(sympy.together(e))
    if e == 0:
        return True
    return sympy.simplify(e) == 0


# ---------------------------------------------------------------------------------------------
# witnesses
# ---------------------------------------------------------------------------------------------


def _require_defined(ctx: Context, points: dict[str, dict[str, Fraction]]) -> None:
    """Every point of a witness must be where the function is defined, on the reals.

    Checked on the expression as written, subexpression by subexpression (see
    :mod:`convexcheck.certificates.definedness`): the gap below is computed by SymPy, whose
    complex branch (``Abs(sqrt(-4)) = 2``) and automatic simplification (``sqrt(x)**2 = x``)
    would otherwise give a value where the user's function has none.
    """
    from convexcheck.certificates.definedness import Undecided, Undefined, evaluate_defined

    for label, point in points.items():
        try:
            evaluate_defined(ctx.root, point)
        except Undefined as exc:
            raise CheckFailed(f"the function is undefined at {label}: {exc}") from exc
        except Undecided as exc:
            raise CheckFailed(f"definedness at {label} cannot be certified: {exc}") from exc


def _check_witness(ctx: Context, question: str, w: dict[str, Any]) -> None:
    import sympy

    t = Fraction(w["t"])
    _require(0 < t < 1, f"t = {t} is not in (0, 1)")
    points = []
    for key in ("a", "b"):
        point = {name: Fraction(value) for name, value in w[key].items()}
        _require(set(point) == set(ctx.domains), f"point {key} does not give every variable")
        for name, q in point.items():
            _require(ctx.domains[name].contains(q), f"{key}.{name} = {q} is outside the domain")
        points.append(point)
    a, b = points
    mid = {n: t * a[n] + (1 - t) * b[n] for n in a}
    _require_defined(ctx, {"a": a, "b": b, "the point at t": mid})

    def at(point, evaluate: bool = True):
        subs = {
            ctx.symbols[n]: sympy.Rational(q.numerator, q.denominator) for n, q in point.items()
        }
        if evaluate:
            return ctx.f.subs(subs)
        # SymPy's Max/Min/Piecewise compare their arguments while being built and raise on
        # values they cannot order symbolically (a product of tiny logarithms); unevaluated,
        # the comparison happens inside evalf at the requested precision instead.
        with sympy.evaluate(False):
            return ctx.f.xreplace(subs)

    ts = sympy.Rational(t.numerator, t.denominator)
    try:
        gap = at(mid) - ts * at(a) - (1 - ts) * at(b)
    except (TypeError, ValueError):
        with sympy.evaluate(False):
            gap = at(mid, False) - ts * at(a, False) - (1 - ts) * at(b, False)
    if question == "concave":
        gap = -gap
    gap = sympy.nsimplify(gap) if gap.is_Rational else gap
    if gap.is_Rational:
        _require(gap > 0, f"the exact gap is {gap}, not positive")
        return
    try:
        value = gap.evalf(30, strict=True)
    except Exception as exc:  # PrecisionExhausted and friends: cannot certify the sign
        raise CheckFailed(f"the gap's sign could not be certified ({type(exc).__name__})") from exc
    _require(value.is_real and value > 0, f"the gap evaluates to {value}, not positive")


# ---------------------------------------------------------------------------------------------
# sign proofs (shared by the Hessian checks)
# ---------------------------------------------------------------------------------------------


def _check_sign(ctx: Context, proof: dict[str, Any], expected: Any = None) -> None:
    import sympy

    from convexcheck.symbolic.ranges import enclose
    from convexcheck.symbolic.signs import bisect_prove, meets, poly_sign_ok, polys_safe

    claim = proof["claim"]
    _require(claim in (">=0", ">0"), f"unknown claim {claim!r}")
    expr_text = proof["expr"]
    e = ctx.sympy_of(expr_text)
    if expected is not None:
        _require(
            _is_zero(e - expected), f"the sign condition on {expr_text} is about another value"
        )
    method = proof["method"]
    used = {s.name: ctx.domains[s.name] for s in e.free_symbols}
    if method == "enclosure":
        r = enclose(ctx.node_of(expr_text), used)
        _require(meets(r, claim), f"enclosure {r} of {expr_text} does not show {claim}")
    elif method == "polynomial":
        _require(polys_safe(e), f"exponents in {expr_text[:60]} too large for polynomial checks")
        (x,) = e.free_symbols
        poly = sympy.Poly(e, x)
        _require(poly.domain.is_QQ or poly.domain.is_ZZ, "not a rational polynomial")
        _require(poly_sign_ok(poly, ctx.domains[x.name], claim), f"{expr_text} is not {claim}")
    elif method == "bisection":
        boxes = proof["boxes"]
        _require(
            isinstance(boxes, int) and not isinstance(boxes, bool) and boxes >= 1,
            f"bisection box count {boxes!r} is not a positive integer",
        )
        _require(
            boxes <= MAX_CLAIMED_BOXES,
            f"bisection claims {boxes:,} boxes, more than the prover ever uses "
            f"({MAX_CLAIMED_BOXES})",
        )
        # some slack: the checker's tree (parsed from the printed text) may enclose differently
        count = bisect_prove(ctx.node_of(expr_text), used, claim, 4 * boxes + 4)
        _require(count is not None, f"bisection does not show {expr_text} {claim}")
    elif method == "factors":
        constant = ctx.sympy_of(proof["constant"])
        _require(constant.is_Rational and constant != 0, "the constant factor is not rational")
        product = constant
        sign = 1 if constant > 0 else -1
        strict = claim == ">0"
        for factor in proof["factors"]:
            base = ctx.sympy_of(factor["base"])
            exponent = int(factor["exponent"])
            product *= base**exponent
            kind = factor["sign"]
            if kind == "even":
                _require(exponent % 2 == 0 and exponent > 0 and not strict, "bad even factor")
                continue
            want = ">0" if kind in ("positive", "negative") else ">=0"
            _require(exponent > 0 or want == ">0", "a negative power needs a nonzero base")
            _require(not strict or want == ">0", "a strict claim needs strict factors")
            target = base if kind in ("positive", "nonneg") else -base
            _require(factor["proof"]["claim"] == want, "factor proof proves the wrong claim")
            _check_sign(ctx, factor["proof"], expected=target)
            if kind in ("negative", "nonpos") and exponent % 2 == 1:
                sign = -sign
        _require(sign > 0, "the factors' signs multiply to a negative number")
        _require(_is_zero(product - e), f"the factorisation does not multiply back to {expr_text}")
    else:
        raise CheckFailed(f"unknown sign-proof method {method!r}")


# ---------------------------------------------------------------------------------------------
# Hessian and SOS certificates
# ---------------------------------------------------------------------------------------------


def _check_hessian(ctx: Context, question: str, cert: dict[str, Any]) -> None:
    import sympy

    from convexcheck.symbolic.hessian import applicable

    why_not = applicable(ctx.root, ctx.domains)
    _require(why_not is None, f"the Hessian argument does not apply: {why_not}")
    names = list(cert["variables"])
    _require(sorted(names) == sorted(s.name for s in ctx.f.free_symbols), "wrong variable list")
    sign = 1 if question == "convex" else -1
    _require(cert["sign"] == sign, "the certificate is for the other question")
    syms = [ctx.symbols[n] for n in names]
    n = len(syms)
    hessian = sympy.Matrix(n, n, lambda i, j: sign * sympy.diff(ctx.f, syms[i], syms[j]))
    stored = sympy.Matrix(n, n, lambda i, j: ctx.sympy_of(cert["matrix"][i][j]))
    for i, j in itertools.product(range(n), repeat=2):
        _require(_is_zero(stored[i, j] - hessian[i, j]), f"matrix entry ({i}, {j}) is not ±H")
    method = cert["method"]
    conditions = cert["conditions"]
    if method == "zero":
        _require(all(_is_zero(v) for v in hessian), "the Hessian is not identically zero")
    elif method == "second-derivative":
        _require(n == 1 and len(conditions) == 1, "one variable, one condition expected")
        _require(conditions[0]["claim"] in (">=0", ">0"), "bad claim")
        _check_sign(ctx, conditions[0], expected=hessian[0, 0])
    elif method == "ldl":
        order = [int(k) for k in cert["order"]]
        _require(sorted(order) == list(range(n)), "the pivot order is not a permutation")
        lower = sympy.Matrix(n, n, lambda i, j: ctx.sympy_of(cert["L"][i][j]))
        pivots = [ctx.sympy_of(d) for d in cert["D"]]
        for i in range(n):
            _require(lower[i, i] == 1, "L must have a unit diagonal")
            for j in range(i + 1, n):
                _require(lower[i, j] == 0, "L must be lower triangular")
        permuted = hessian.extract(order, order)
        product = lower * sympy.diag(*pivots) * lower.T
        for i, j in itertools.product(range(n), repeat=2):
            _require(_is_zero(product[i, j] - permuted[i, j]), "L D Lᵀ is not the Hessian")
        # every pivot but a final zero/last one eliminates, so must be strictly positive
        proofs = iter(conditions)
        for p, d in enumerate(pivots):
            if d == 0 and all(v == 0 for v in pivots[p:]):
                break
            proof = next(proofs, None)
            _require(proof is not None, f"pivot {d} has no sign proof")
            need = ">=0" if p == n - 1 else ">0"
            _require(proof["claim"] in (need, ">0"), f"pivot {d} needs {need}")
            _check_sign(ctx, proof, expected=d)
    elif method == "principal-minors":
        subsets = [list(s) for k in range(1, n + 1) for s in itertools.combinations(range(n), k)]
        _require([list(m) for m in cert["minors"]] == subsets, "not all principal minors listed")
        for subset, proof in zip(subsets, conditions, strict=True):
            minor = hessian.extract(subset, subset).det(method="berkowitz")
            _require(proof["claim"] in (">=0", ">0"), "bad claim")
            _check_sign(ctx, proof, expected=minor)
    else:
        raise CheckFailed(f"unknown Hessian method {method!r}")


def _check_sos(ctx: Context, question: str, cert: dict[str, Any]) -> None:
    import sympy

    from convexcheck.symbolic.quadratic import ldl_psd
    from convexcheck.symbolic.sympy_bridge import to_sympy

    names = list(cert["variables"])
    sign = 1 if question == "convex" else -1
    _require(cert["sign"] == sign, "the certificate is for the other question")
    syms = [ctx.symbols[n] for n in names]
    _require(set(syms) >= ctx.f.free_symbols, "variables missing from the certificate")
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
    _require(len(gram) == size and all(len(r) == size for r in gram), "Gram matrix shape")
    for i in range(size):
        for j in range(i):
            _require(gram[i][j] == gram[j][i], "the Gram matrix is not symmetric")
    psd, _, _, _ = ldl_psd(gram)
    _require(psd, "the Gram matrix is not positive semidefinite")
    expansion = sympy.expand(
        sum(
            sympy.Rational(gram[i][j].numerator, gram[i][j].denominator) * basis[i] * basis[j]
            for i in range(size)
            for j in range(size)
        )
    )
    _require(sympy.expand(expansion - form) == 0, "zᵀQz is not the Hessian form")


# ---------------------------------------------------------------------------------------------
# DCP derivations
# ---------------------------------------------------------------------------------------------

# the checker's own table of the pattern atoms' curvature (monotonicity is range dependent and
# re-checked only for table atoms; for patterns it is taken as claimed and reported as trusted)
PATTERN_CURVATURE = {
    "logistic": "convex",
    "log_sum_exp": "convex",
    "norm2": "convex",
    "xlogx": "convex",
    "quad_over_lin": "convex",
    "rel_entr": "convex",
}


def _follows(atom_curvature: str | None, monotonicity, kids: list[str], question: str) -> bool:
    """The DCP composition rule: does ``question`` follow for the composed expression?"""
    if atom_curvature not in (question, "affine"):
        return False
    opposite = "concave" if question == "convex" else "convex"
    for mono, kid in zip(monotonicity, kids, strict=True):
        if kid in ("affine", "constant"):
            continue
        if mono == "nondecreasing" and kid == question:
            continue
        if mono == "nonincreasing" and kid == opposite:
            continue
        return False
    return True


def _proves(curvature: str, question: str) -> bool:
    return curvature in (question, "affine", "constant")


def _interval_of(entry) -> Any:
    from convexcheck.symbolic import interval as iv

    lo, hi, lo_open, hi_open = entry

    def end(text: str):
        if text in ("oo", "inf"):
            return iv.INF
        if text in ("-oo", "-inf"):
            return -iv.INF
        return Fraction(text)

    return iv.make(end(lo), end(hi), bool(lo_open), bool(hi_open))


def _check_dcp(ctx: Context, question: str, cert: dict[str, Any]) -> None:
    from convexcheck.symbolic.atoms import UNARY_ATOMS, power_atom
    from convexcheck.symbolic.ranges import enclose

    nodes = {int(entry["id"]): entry for entry in cert["nodes"]}
    root = nodes[int(cert["root"])]
    _require(_proves(root["curvature"], question), f"the root is {root['curvature']}")
    if not root["expr"].endswith("..."):
        _require(
            _is_zero(ctx.sympy_of(root["expr"]) - ctx.f), "the derivation is about another function"
        )
    for entry in nodes.values():
        rule = entry["rule"]
        curvature = entry["curvature"]
        if rule in ("variable", "constant"):
            continue
        kids = [nodes[int(c)] for c in entry.get("children", [])]
        kid_curvatures = [k["curvature"] for k in kids]
        claimed = [q for q in ("convex", "concave") if _proves(curvature, q)]
        atom = entry.get("atom")
        atom_curvature = entry.get("atom_curvature")
        monotonicity = entry.get("monotonicity", [])
        if rule == "piecewise" or rule == "quadratic-form":
            ctx.trusted.append(f"{rule} step for {entry['expr']}")
            continue
        if atom is None and rule.startswith("rewrite:"):
            # an equivalent form of the same function: its curvature is the rewritten one's
            _require(len(kids) == 1, f"{entry['expr']}: a rewrite has one rewritten form")
            for q in claimed:
                _require(_proves(kid_curvatures[0], q), f"{entry['expr']}: rewrite is not {q}")
            ctx.trusted.append(f"{rule} identity at {entry['expr']}")
            continue
        for q in claimed:
            _require(
                _follows(atom_curvature, monotonicity, kid_curvatures, q),
                f"{entry['expr']}: {q} does not follow from {atom} ({atom_curvature}, "
                f"{monotonicity}) and arguments {kid_curvatures}",
            )
        # re-derive table atoms from the rule table on the argument's claimed range
        table_atom = None
        if atom in UNARY_ATOMS:
            table_atom = UNARY_ATOMS[atom]
        elif atom and atom.startswith("x**"):
            exponent = atom[3:].strip("()")
            table_atom = power_atom(Fraction(exponent))
        if table_atom is not None and len(kids) == 1:
            r = _interval_of(kids[0]["range"])
            _require(table_atom.domain_ok(r), f"{atom} applied outside its domain ({r})")
            _require(
                table_atom.curvature_on(r) == atom_curvature
                or atom_curvature is None
                or (atom_curvature != "affine" and table_atom.curvature_on(r) == "affine"),
                f"{atom} is not {atom_curvature} on {r}",
            )
            derived = table_atom.monotonicity_on(r)
            _require(
                monotonicity[0] == "nonmonotone" or derived == monotonicity[0],
                f"{atom} is not {monotonicity[0]} on {r}",
            )
            if not kids[0]["expr"].endswith("..."):
                fresh = enclose(ctx.node_of(kids[0]["expr"]), ctx.domains)
                confirmed = fresh is not None and fresh.within(r)
                if not confirmed and kids[0]["rule"].startswith("pattern:"):
                    # a pattern atom's image is tighter than naive interval arithmetic
                    ctx.trusted.append(f"range {r} of {kids[0]['expr']} from {kids[0]['rule']}")
                else:
                    _require(
                        confirmed,
                        f"the range {r} claimed for {kids[0]['expr']} is not confirmed ({fresh})",
                    )
        elif rule.startswith("pattern:") and atom in PATTERN_CURVATURE:
            _require(PATTERN_CURVATURE[atom] == atom_curvature, f"{atom} is not {atom_curvature}")
            ctx.trusted.append(f"{rule} identity and monotonicity at {entry['expr']}")
        elif rule.startswith(("pattern:", "rewrite:")):
            ctx.trusted.append(f"{rule} at {entry['expr']}")
        elif rule in ("sum", "scale", "composition") and atom in ("Max", "Min"):
            expected = "convex" if atom == "Max" else "concave"
            _require(atom_curvature == expected, f"{atom} is not {atom_curvature}")
            _require(all(m == "nondecreasing" for m in monotonicity), f"{atom} is nondecreasing")
        elif rule == "sum":
            _require(atom_curvature == "affine", "a sum is affine in its terms")
            _require(all(m == "nondecreasing" for m in monotonicity), "a sum is nondecreasing")
        elif rule == "scale":
            _check_scale(entry, kids)
        else:
            ctx.trusted.append(f"{rule} at {entry['expr']}")


def _check_scale(entry: dict[str, Any], kids: list[dict[str, Any]]) -> None:
    atom = entry.get("atom", "")
    _require(atom.startswith("multiplication by "), f"unexpected scale atom {atom!r}")
    c = Fraction(atom.removeprefix("multiplication by "))
    mono = entry["monotonicity"]
    expected = "nondecreasing" if c >= 0 else "nonincreasing"
    _require(mono[-1] == expected, f"multiplication by {c} is {expected}")


# ---------------------------------------------------------------------------------------------
# entry points
# ---------------------------------------------------------------------------------------------

CHECKS = {"hessian": _check_hessian, "sos": _check_sos, "dcp": _check_dcp}


class UnreadableDocument(Exception):
    """A document file that is refused before parsing (not a regular file, too large...)."""


def read_document(path: str | Path, *, follow_symlinks: bool = False) -> Any:
    """The JSON content of a document file, read safely.

    Opened with ``O_NOFOLLOW`` (a symbolic link is refused unless ``follow_symlinks``) and
    ``O_NONBLOCK`` (a FIFO cannot block the open), then refused unless it is a regular file of
    at most :data:`MAX_DOCUMENT_BYTES`: a link to ``/dev/zero`` or a named pipe ends with an
    error instead of a hang. Raises :class:`UnreadableDocument` with the reason.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    if not follow_symlinks:
        flags |= getattr(os, "O_NOFOLLOW", 0)
        try:
            if stat.S_ISLNK(os.lstat(path).st_mode):
                raise UnreadableDocument("a symbolic link (not followed)")
        except OSError as exc:
            raise UnreadableDocument(exc.strerror or str(exc)) from None
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise UnreadableDocument(exc.strerror or str(exc)) from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise UnreadableDocument(f"not a regular file ({_file_kind(info.st_mode)})")
        if info.st_size > MAX_DOCUMENT_BYTES:
            raise UnreadableDocument(
                f"{info.st_size:,} bytes, more than the limit of {MAX_DOCUMENT_BYTES:,}"
            )
        chunks = []
        size = 0
        while size <= MAX_DOCUMENT_BYTES:  # the file may grow while it is read
            chunk = os.read(fd, 2**20)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > MAX_DOCUMENT_BYTES:
            raise UnreadableDocument(f"more than the limit of {MAX_DOCUMENT_BYTES:,} bytes")
    except OSError as exc:
        raise UnreadableDocument(exc.strerror or str(exc)) from None
    finally:
        os.close(fd)
    try:
        return json.loads(b"".join(chunks).decode("utf-8"))
    except (ValueError, RecursionError) as exc:  # also int strings past 4300 digits
        raise UnreadableDocument(f"not JSON: {type(exc).__name__}: {exc}"[:300]) from None


def _file_kind(mode: int) -> str:
    for test, word in (
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISSOCK, "a socket"),
    ):
        if test(mode):
            return word
    return "not a plain file"


_NUMBER = re.compile(r"\s*[-+]?(\d[\d_]*\.?[\d_]*|\.\d[\d_]*)(?:[eE]([-+]?\d+))?\s*(?:/.*)?", re.S)


def _check_literals(doc: Any) -> None:
    """Every string that reads as a number must be of reasonable size: ``Fraction("1e100000000")``
    builds a 10**100000000 integer in one uninterruptible call, and everything after it crawls.
    (Expressions go through the parser, which has its own limits; this covers the values the
    checker converts with ``Fraction``: witness coordinates, ``t``, Gram entries, ends.)"""
    pending = [doc]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
        elif isinstance(item, str) and item[:1].strip("+-.0123456789") == "":
            for part in item.split("/"):
                match = _NUMBER.fullmatch(part)
                if match is None:
                    continue
                if len(part) > MAX_LITERAL_CHARS:
                    raise CheckFailed(
                        f"a number written with {len(part):,} characters (limit "
                        f"{MAX_LITERAL_CHARS:,})"
                    )
                exponent = match.group(2)
                if exponent is not None and abs(int(exponent)) > MAX_LITERAL_EXPONENT:
                    raise CheckFailed(
                        f"the number {item[:40]!r} has a decimal exponent beyond "
                        f"±{MAX_LITERAL_EXPONENT}"
                    )


def verify_document(
    doc: dict[str, Any], name: str = "<document>", *, budget_s: float | None = CHECK_BUDGET_S
) -> Report:
    """Re-check one certificate document; never raises on a bad document, reports it.

    ``budget_s`` caps the wall-clock time spent on it (``None``: no cap); a document whose check
    runs out of time fails with that reason, it never passes.
    """
    try:
        with time_limit(budget_s if budget_s is not None else float("inf")):
            return _verify(doc, name)
    except BudgetSpent:
        return Report(
            name,
            False,
            [f"the checker's time budget of {budget_s:g} s ran out (not verified)"],
        )


def _verify(doc: dict[str, Any], name: str) -> Report:
    try:
        _require(isinstance(doc, dict), "the document is not a JSON object")
        _check_literals(doc)
        _require(doc.get("format") == FORMAT, f"not a {FORMAT} document")
        question = doc["question"]
        _require(question in ("convex", "concave"), f"bad question {question!r}")
        ctx = Context(doc)
        if doc["answer"] == "no":
            _check_witness(ctx, question, doc["witness"])
        elif doc["answer"] == "yes":
            cert = doc["certificate"]
            kind = cert.get("kind")
            _require(kind in CHECKS, f"unknown certificate kind {kind!r}")
            CHECKS[kind](ctx, question, cert)
        else:
            raise CheckFailed(f"answer {doc['answer']!r} has nothing to check")
    except CheckFailed as exc:
        return Report(name, False, [str(exc)])
    except Exception as exc:  # a malformed document is a failure, not a crash
        return Report(name, False, [f"malformed document: {type(exc).__name__}: {exc}"])
    return Report(name, True, trusted=ctx.trusted)


def verify_directory(
    directory: str | Path, *, budget_s: float | None = CHECK_BUDGET_S
) -> list[Report]:
    """Check every ``*.json`` document under ``directory`` (sorted, recursively; links to
    directories are not entered, and a document that is a link, a FIFO or a device is refused
    unread); ``budget_s`` caps each document's check."""
    reports = []
    for path in sorted(Path(directory).rglob("*.json")):
        try:
            doc = read_document(path)
        except UnreadableDocument as exc:
            reports.append(Report(str(path), False, [f"refused: {exc}"]))
            continue
        reports.append(verify_document(doc, str(path), budget_s=budget_s))
    return reports
