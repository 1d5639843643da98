"""Checking a ``dcp`` derivation: re-walked against the rule table, every range re-derived by
the checker and compared by containment, Piecewise segments re-proved.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from convexcheck.certificates.context import CheckFailed, Context, require
from convexcheck.certificates.dcp_structure import check_structure, rebuilds
from convexcheck.certificates.pattern_check import check_pattern_facts, pattern_atom
from convexcheck.certificates.piecewise_affine_check import scalar_context
from convexcheck.certificates.piecewise_check import (
    check_piecewise_step,
    enclose_piece,
    truth_split,
)
from convexcheck.certificates.quadratic_check import (
    check_norm_of_form,
    check_quadratic_form,
    quadratic_form_range,
)
from convexcheck.symbolic.interval import REALS

# ---------------------------------------------------------------------------------------------
# DCP derivations
# ---------------------------------------------------------------------------------------------


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


class _Ranges:
    """The checker's own enclosure of every derivation node, never the document's claim.

    A node's enclosure is the intersection of two that each contain its true values: a fresh
    enclosure of its expression over the domains, and one derived from its children's own
    enclosures by the rule table (the image of the atom, the sum, the product, the extremes),
    the same interval rules the prover used, so a range written by the prover is re-derived up
    to the same outward rounding. A claimed range is accepted when it *contains* the checker's
    (containment, never equality). Piecewise nodes are enclosed over the segments where each
    piece is active, each segment re-proved from the conditions; pattern atoms, whose images
    are tighter than interval arithmetic, fall back to the claim and are listed as trusted."""

    def __init__(self, ctx: Context, nodes: dict[int, dict[str, Any]]) -> None:
        self.ctx = ctx
        self.nodes = nodes
        self.memo: dict[int, Any] = {}

    def of(self, node_id: int):
        """The checker's enclosure of node ``node_id`` (``None``: none could be established)."""
        # iterative post-order over the derivation (deep nests must not hit the recursion limit)
        stack = [node_id]
        while stack:
            top = stack[-1]
            if top in self.memo:
                stack.pop()
                continue
            kids = [int(c) for c in self.nodes[top].get("children", [])]
            pending = [k for k in kids if k not in self.memo and k != top]
            require(all(k in self.nodes for k in kids), f"node {top} has a missing child")
            if pending:
                require(len(stack) <= 4 * len(self.nodes) + 4, "the derivation has a cycle")
                stack.extend(pending)
                continue
            stack.pop()
            self.memo[top] = self._compute(self.nodes[top], [self.memo.get(k) for k in kids])
        return self.memo[node_id]

    def confirm(self, node_id: int, claimed) -> None:
        entry = self.nodes[node_id]
        own = self.of(node_id)
        if own is not None and own.within(claimed):
            return
        if entry["rule"].startswith("pattern:"):
            # a pattern atom's image is tighter than naive interval arithmetic
            self.ctx.trusted.append(f"range {claimed} of {entry['expr']} from {entry['rule']}")
            return
        raise CheckFailed(
            f"the range {claimed} claimed for {entry['expr']} is not confirmed ({own})"
        )

    def _compute(self, entry: dict[str, Any], kids: list[Any]):
        from convexcheck.symbolic import interval as iv
        from convexcheck.symbolic.ranges import enclose

        ctx = self.ctx
        text = entry["expr"]
        rule = entry["rule"]
        if rule == "variable":
            require(text in ctx.domains, f"{text} is not a variable of the document")
            return ctx.domains[text]
        truncated = text.endswith("...")
        fresh = None if truncated else enclose(ctx.node_of(text), ctx.domains)
        derived = self._derived(entry, kids) if not truncated or rule != "piecewise" else None
        if fresh is None:
            own = derived
        elif derived is None:
            own = fresh
        else:
            own = iv.intersect(fresh, derived)
            require(own is not None, f"two enclosures of {text} do not meet")
        if rule.startswith("pattern:") and entry.get("range"):
            # a pattern atom's image (x*log(x) >= -1/e) is tighter than interval arithmetic:
            # the claim is taken, as trusted, for this node and so for its parents' ranges
            claimed = _interval_of(entry["range"])
            if own is None or not own.within(claimed):
                ctx.trusted.append(f"range {claimed} of {text} from {rule}")
                narrowed = None if own is None else iv.intersect(own, claimed)
                return claimed if narrowed is None else narrowed
        return own

    def _derived(self, entry: dict[str, Any], kids: list[Any]):
        """The enclosure implied by the children's enclosures and the step's atom."""
        from convexcheck.symbolic import interval as iv
        from convexcheck.symbolic.atoms import UNARY_ATOMS, power_image

        rule, atom = entry["rule"], entry.get("atom")
        if rule == "piecewise":
            return self._piecewise(entry)
        if rule == "quadratic-form":
            return quadratic_form_range(self.ctx, entry, kids)
        if rule == "pattern:norm_psd_form":
            if len(kids) != 1 or kids[0] is None or not kids[0].nonneg:
                return None
            return power_image(kids[0], Fraction(1, 2))
        if rule == "piecewise-affine":
            # the scalar Piecewise's enclosure over the image of its affine argument
            sub, cert = scalar_context(self.ctx, entry)
            scalar_nodes = {int(e["id"]): e for e in cert["nodes"]}
            return _Ranges(sub, scalar_nodes).of(int(cert["root"]))
        if any(k is None for k in kids) or not kids:
            return None
        if rule.startswith("rewrite:") and atom is None and len(kids) == 1:
            return kids[0]  # the same function (the identity is listed as trusted)
        if rule == "scale" or (rule == "sum" and atom == "sum"):
            if rule == "sum":
                return iv.sum_all(kids)
            out = kids[0]
            for k in kids[1:]:
                out = iv.mul(out, k)
            return out
        if atom in ("Max", "Min") and rule in ("sum", "scale", "composition"):
            out = kids[0]
            for k in kids[1:]:
                out = _extreme(out, k, atom)
            return out
        if rule == "composition" and len(kids) == 1:
            if atom in UNARY_ATOMS:
                table = UNARY_ATOMS[atom]
                return table.image_of(kids[0]) if table.domain_ok(kids[0]) else None
            if atom and atom.startswith("x**"):
                return power_image(kids[0], Fraction(atom[3:].strip("()")))
        return None

    def _piecewise(self, entry: dict[str, Any]):
        """Hull of each piece's enclosure over the segments where it is the active piece.

        Every segment is re-proved: on it the earlier conditions are false and the piece's own
        condition true (by enclosures of ``left - right``), and the segments together cover
        the variable's domain. A piece on no segment is unreachable and adds nothing."""
        from convexcheck.symbolic import interval as iv
        from convexcheck.symbolic.domains import parse_domain

        detail = entry.get("detail") or {}
        active = detail.get("active")
        name = detail.get("variable")
        if not active or name not in self.ctx.domains:
            return None
        node = self.ctx.node_of(entry["expr"])
        require(node.op == "Piecewise", f"{entry['expr']} is not a Piecewise")
        values, conditions = node.args[0::2], node.args[1::2]
        domains = self.ctx.domains
        domain = domains[name]
        segments = []
        out = None
        for item in active:
            seg = parse_domain(item["interval"])
            k = int(item["piece"])
            require(0 <= k < len(values), f"piece {k} does not exist")
            require(seg.within(domain), f"segment {seg} leaves the domain {domain}")
            box = {**domains, name: seg}
            for j in range(k):
                require(
                    truth_split(conditions[j], box, name) is False,
                    f"condition {j} may hold on {seg}",
                )
            require(
                truth_split(conditions[k], box, name) is True, f"condition {k} may fail on {seg}"
            )
            r = enclose_piece(values[k], box, name)
            if r is None:
                return None
            out = r if out is None else iv.hull(out, r)
            segments.append(seg)
        segments.sort(key=lambda r: (r.lo, r.lo_open))
        cover = segments[0]
        for seg in segments[1:]:
            joined = seg.lo < cover.hi or (
                seg.lo == cover.hi and not (seg.lo_open and cover.hi_open)
            )
            require(joined, f"the segments leave a gap at {cover.hi}")
            cover = iv.hull(cover, seg)
        require(domain.within(cover), f"the segments do not cover {domain}")
        return out


def _extreme(a, b, atom: str):
    """Enclosure of Max(u, v) / Min(u, v) from enclosures of u and v."""
    from convexcheck.symbolic.interval import Interval

    def pick(x, x_open, y, y_open, larger: bool):
        if x == y:
            return x, x_open and y_open
        take_x = (x > y) == larger
        return (x, x_open) if take_x else (y, y_open)

    larger = atom == "Max"
    lo, lo_open = pick(a.lo, a.lo_open, b.lo, b.lo_open, larger)
    hi, hi_open = pick(a.hi, a.hi_open, b.hi, b.hi_open, larger)
    return Interval(lo, hi, lo_open, hi_open)


def check_dcp(ctx: Context, question: str, cert: dict[str, Any]) -> None:
    from convexcheck.symbolic.atoms import UNARY_ATOMS, power_atom

    nodes = {int(entry["id"]): entry for entry in cert["nodes"]}
    ranges = _Ranges(ctx, nodes)
    root = nodes[int(cert["root"])]
    require(_proves(root["curvature"], question), f"the root is {root['curvature']}")
    check_structure(ctx, nodes, int(cert["root"]))
    for entry in nodes.values():
        rule = entry["rule"]
        curvature = entry["curvature"]
        if rule in ("variable", "constant"):
            continue
        kid_ids = [int(c) for c in entry.get("children", [])]
        kids = [nodes[c] for c in kid_ids]
        kid_curvatures = [k["curvature"] for k in kids]
        claimed = [q for q in ("convex", "concave") if _proves(curvature, q)]
        atom = entry.get("atom")
        atom_curvature = entry.get("atom_curvature")
        monotonicity = entry.get("monotonicity", [])
        if rule == "piecewise":
            # segments, each piece's derivation, continuity and slopes, all re-proved
            check_piecewise_step(ctx, entry, claimed, check_dcp)
            continue
        if rule == "piecewise-affine":
            # S(A(x)) with A affine: the match, the image of A and S's own derivation
            sub, cert = scalar_context(ctx, entry)
            for q in claimed:
                check_dcp(sub, q, cert)
            ctx.trusted.extend(f"in the scalar form {cert_expr(cert)}: {t}" for t in sub.trusted)
            continue
        if rule == "quadratic-form":
            # q(x) + terms: q's matrix re-derived and decided here, the terms by the sum rule
            check_quadratic_form(ctx, entry, claimed)
            require(
                len(monotonicity) == len(kids) and all(m == "nondecreasing" for m in monotonicity),
                f"{entry['expr']}: a sum is nondecreasing in its terms",
            )
            for q in claimed:
                require(
                    _follows("affine", monotonicity, kid_curvatures, q),
                    f"{entry['expr']}: {q} does not follow from its terms {kid_curvatures}",
                )
            continue
        if rule == "pattern:norm_psd_form":
            # sqrt of a quadratic with PSD Q and minimum >= 0: a norm of an affine map
            check_norm_of_form(ctx, entry, kids, claimed)
            continue
        if atom is None and rule.startswith("rewrite:"):
            # an equivalent form of the same function: its curvature is the rewritten one's
            require(len(kids) == 1, f"{entry['expr']}: a rewrite has one rewritten form")
            for q in claimed:
                require(_proves(kid_curvatures[0], q), f"{entry['expr']}: rewrite is not {q}")
            ctx.trusted.append(f"{rule} identity at {entry['expr']}")
            continue
        for q in claimed:
            require(
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
            require(table_atom.domain_ok(r), f"{atom} applied outside its domain ({r})")
            require(
                table_atom.curvature_on(r) == atom_curvature
                or atom_curvature is None
                or (atom_curvature != "affine" and table_atom.curvature_on(r) == "affine"),
                f"{atom} is not {atom_curvature} on {r}",
            )
            derived = table_atom.monotonicity_on(r)
            require(
                monotonicity[0] == "nonmonotone" or derived == monotonicity[0],
                f"{atom} is not {monotonicity[0]} on {r}",
            )
            ranges.confirm(kid_ids[0], r)
            _trust_unrebuilt_identity(ctx, entry, len(kids))
        elif rule.startswith("pattern:") and pattern_atom(entry) is not None:
            rs = [_interval_of(k["range"]) if k.get("range") else REALS for k in kids]
            for kid_id, r in zip(kid_ids, rs, strict=True):
                ranges.confirm(kid_id, r)
            check_pattern_facts(entry, pattern_atom(entry), rs)  # type: ignore[arg-type]
            _trust_unrebuilt_identity(ctx, entry, len(kids))
        elif rule.startswith(("pattern:", "rewrite:")):
            ctx.trusted.append(f"{rule} at {entry['expr']}")
        elif rule in ("sum", "scale", "composition") and atom in ("Max", "Min"):
            expected = "convex" if atom == "Max" else "concave"
            require(atom_curvature == expected, f"{atom} is not {atom_curvature}")
            require(all(m == "nondecreasing" for m in monotonicity), f"{atom} is nondecreasing")
        elif rule == "sum":
            require(atom_curvature == "affine", "a sum is affine in its terms")
            require(all(m == "nondecreasing" for m in monotonicity), "a sum is nondecreasing")
        elif rule == "scale":
            _check_scale(entry, kid_ids, ranges)
        else:
            ctx.trusted.append(f"{rule} at {entry['expr']}")


def cert_expr(cert: dict[str, Any]) -> str:
    """The expression at the root of a derivation (for the report's trusted list)."""
    nodes = {int(e["id"]): e for e in cert["nodes"]}
    return str(nodes[int(cert["root"])]["expr"])


def _trust_unrebuilt_identity(ctx: Context, entry: dict[str, Any], arity: int) -> None:
    """A pattern step whose node the structure check cannot rebuild from its children: its
    identity is taken as claimed, and said so."""
    if entry["rule"].startswith("pattern:") and not rebuilds(entry, arity):
        ctx.trusted.append(f"{entry['rule']} identity at {entry['expr']} (not rebuilt)")


def _check_scale(entry: dict[str, Any], kid_ids: list[int], ranges: _Ranges) -> None:
    """``c * u``: affine in ``u``, nondecreasing for ``c >= 0`` and nonincreasing for ``c <= 0``.

    ``c`` is the number in the atom's name, or (``multiplication by a constant``: ``sqrt(3)``,
    ``log(exp(2) + 1)``) the first child, a constant whose sign is read off the checker's own
    enclosure of it."""
    atom = entry.get("atom", "")
    require(atom.startswith("multiplication by "), f"unexpected scale atom {atom!r}")
    require(entry.get("atom_curvature") == "affine", "multiplication by a constant is affine")
    mono = entry["monotonicity"]
    require(len(mono) == 2 and len(kid_ids) == 2, "a scale step has a factor and an argument")
    factor = atom.removeprefix("multiplication by ")
    if factor == "a constant":
        factor_entry = ranges.nodes[kid_ids[0]]
        require(factor_entry["rule"] == "constant", "the constant factor is not a constant")
        require(ranges.ctx.node_of(factor_entry["expr"]).is_const, "the factor has variables")
        enclosure = ranges.of(kid_ids[0])
        require(enclosure is not None, f"the constant {factor_entry['expr']} cannot be enclosed")
        if mono[-1] == "nondecreasing":
            require(enclosure.nonneg, f"the factor {factor_entry['expr']} is not >= 0")
        else:
            require(mono[-1] == "nonincreasing", f"multiplication is not {mono[-1]}")
            require(enclosure.nonpos, f"the factor {factor_entry['expr']} is not <= 0")
        return
    c = Fraction(factor)
    expected = "nondecreasing" if c >= 0 else "nonincreasing"
    require(mono[-1] == expected, f"multiplication by {c} is {expected}")
