"""The DCP engine: one iterative, memoised pass that derives curvature with reasons.

For every node it records a :class:`~convexcheck.symbolic.dcp_steps.Step`: the node's range over
the domain, whether it is proved convex and/or concave, the rule used, the atom's curvature and
monotonicity in each argument, the children the conclusion rests on and, for each question it
could not settle, the exact premise that failed (a ``Failure``), pointing at the child that
explains it further.

The composition rule is written once (:meth:`DCPEngine.compose`), in the textbook form: ``f(g1,
..., gn)`` is convex if ``f`` is convex on the arguments' ranges and each ``gi`` is affine, or
convex with ``f`` nondecreasing in it, or concave with ``f`` nonincreasing in it (and dually for
concave). The atoms' facts come from :mod:`convexcheck.symbolic.atoms`.

The engine knows no rule by name: it is given a table ``op -> (rule, ...)`` and, at each node,
tries that op's rules in order, keeping the step that proves the most. The table is built once
by :mod:`.dcp_rules` (generic rule first, then the patterns that read more structure than one
node: ``log(1 + exp(u))``, ``u**2/v``, quadratic forms...). Injecting it keeps the dependencies
one way: every rule module imports the engine, the engine imports none of them.

The walk uses an explicit stack, never recursion, so a 10^5-term sum or a deep chain cannot
overflow Python's stack; the memo is keyed on hash-consed node identity, so shared subtrees are
analysed once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from convexcheck.symbolic.atoms import AFFINE, CONCAVE, CONVEX, DECREASING, INCREASING
from convexcheck.symbolic.dcp_steps import (
    QUESTIONS,
    Failure,
    Step,
    article,
    curvature_words,
    short,
)
from convexcheck.symbolic.domains import domain_word
from convexcheck.symbolic.interval import REALS, Interval
from convexcheck.symbolic.ir import Node
from convexcheck.symbolic.printer import labels
from convexcheck.symbolic.ranges import enclose, node_range

#: Characters of a node's text in a certificate before it is cut (``...``): long enough that the
#: checker can read the expressions of real derivations in full (it rebuilds the cut ones from
#: their children), short enough that a deep tree's document stays linear in practice.
DOCUMENT_TEXT_LIMIT = 1000
# ops whose patterns can turn a one-sided proof into an affine one cheaply (Abs(u) = u, ...)
_UPGRADABLE = frozenset({"Abs", "Max", "Min"})

#: A rule: the step it proves for ``node`` (given the node's range), or None if it does not apply.
Rule = Callable[["DCPEngine", Node, "Interval | None"], "Step | None"]
#: The rules of each op, in the order the engine tries them.
RuleTable = Mapping[str, Sequence[Rule]]


def _composition_text(atom, atom_curvature, mono, i, n, child, kind) -> Callable[[], str]:
    def text() -> str:
        which = f" in argument {i + 1}" if n > 1 else ""
        desc = "affine" if atom_curvature == AFFINE else atom_curvature
        argument = (
            "an argument of unknown curvature"
            if kind.startswith("of ")
            else f"{article(kind)} {kind} argument"
        )
        return (
            f"{atom} is {desc} and {mono}{which}; its argument {short(child)} is {kind}; "
            f"{article(desc)} {desc} {mono} function of {argument} is not covered by the "
            "composition rules"
        )

    return text


def _atom_shape_text(atom, atom_curvature, kids, question) -> Callable[[], str]:
    def text() -> str:
        shape = atom_curvature or "neither convex nor concave"
        on = ""
        if len(kids) == 1 and kids[0].range is not None:
            on = f" on the argument range {kids[0].range}"
        return f"{atom} is {shape}{on}, so it cannot be {question} here"

    return text


class DCPEngine:
    """Analyses expressions over fixed variable domains with one rule table; one memo per engine."""

    def __init__(self, domains: Mapping[str, Interval], rules: RuleTable) -> None:
        self.domains = dict(domains)
        self.rules = rules
        self.steps: dict[Node, Step] = {}
        self.poly_memo: dict[int, Any] = {}

    def fork(self, domains: Mapping[str, Interval]) -> DCPEngine:
        """A fresh engine with the same rules over other domains (a Piecewise's segments)."""
        return DCPEngine(domains, self.rules)

    # ---- the walk ---------------------------------------------------------------------------
    def analyze(self, root: Node) -> Step:
        steps = self.steps
        stack = [root]
        while stack:
            node = stack[-1]
            if node in steps:
                stack.pop()
                continue
            pending = [a for a in node.value_args if a not in steps]
            if pending:
                stack.extend(pending)
                continue
            stack.pop()
            steps[node] = self._step(node)
        return steps[root]

    def _step(self, node: Node) -> Step:
        # conditions are not steps: the Piecewise rules judge them; for a constant Piecewise
        # the enclosure below walks them too (an undefined condition, the whole is undefined)
        child_ranges = [REALS if a.is_bool else self.steps[a].range for a in node.args]
        rng = node_range(node, child_ranges, self.domains)
        if node.op == "var":
            return Step(node, rng, True, True, "variable")
        if node.is_const:
            if node.op == "Piecewise":
                rng = enclose(node, self.domains)
            if rng is None:
                why = Failure(
                    f"the constant {short(node)} is undefined (a function is applied "
                    "outside its domain)"
                )
                return Step(
                    node, None, False, False, "constant", failures=dict.fromkeys(QUESTIONS, why)
                )
            return Step(node, rng, True, True, "constant")
        best: Step | None = None
        generic: Step | None = None
        specific: dict[str, Failure] = {}
        for rule in self.rules.get(node.op, ()):
            # patterns run only when the generic rule proved nothing: they exist to rescue
            # natural spellings, and some (quadratic forms) cost more than the generic rule
            if best is not None and best.score > 0 and node.op not in _UPGRADABLE:
                break
            if best is not None and best.score == 2:
                break
            step = rule(self, node, rng)
            if step is None:
                continue
            if generic is None:
                generic = step
            elif step.specific:
                for q, f in step.failures.items():
                    specific.setdefault(q, f)
            if best is None or step.score > best.score:
                best = step
        if best is None:
            why = Failure(f"no rule covers {node.op!r}")
            best = Step(node, rng, False, False, "none", failures=dict.fromkeys(QUESTIONS, why))
        for q, f in specific.items():
            if not best.proves(q):
                best.failures[q] = f
        if generic is not None and best is not generic:
            # for a question the pattern did not settle either, the generic rule's premise (the
            # textbook composition rule applied to what the user wrote) explains best
            for q in QUESTIONS:
                if not best.proves(q) and q in generic.failures and q not in specific:
                    best.failures[q] = generic.failures[q]
        if best.range is None and (best.convex or best.concave):
            why = Failure(f"{short(node)} is undefined on part of the domain")
            best = Step(node, None, False, False, best.rule, failures=dict.fromkeys(QUESTIONS, why))
        return best

    # ---- building blocks for rules ---------------------------------------------------------
    def step_of(self, node: Node) -> Step:
        """The step of ``node``, analysing it first if it is new (a pattern's synthetic node)."""
        step = self.steps.get(node)
        return step if step is not None else self.analyze(node)

    def compose(
        self,
        node: Node,
        rng: Interval | None,
        atom: str,
        atom_curvature: str | None,
        monotonicity: tuple[str, ...],
        children: tuple[Node, ...],
        rule: str = "composition",
        detail: dict[str, Any] | None = None,
    ) -> Step:
        """The composition rule, with the failing premise spelled out for each question."""
        kids = [self.step_of(c) for c in children]
        failures: dict[str, Failure] = {}
        verdict = {}
        for question in QUESTIONS:
            want = CONVEX if question == "convex" else CONCAVE
            if atom_curvature not in (want, AFFINE):
                failures[question] = Failure(_atom_shape_text(atom, atom_curvature, kids, question))
                verdict[question] = False
                continue
            ok = True
            for i, (child, kid, mono) in enumerate(zip(children, kids, monotonicity)):
                if kid.convex and kid.concave:
                    continue
                if mono == INCREASING and kid.proves(question):
                    continue
                opposite = "concave" if question == "convex" else "convex"
                if mono == DECREASING and kid.proves(opposite):
                    continue
                kind = curvature_words(kid)
                failures[question] = Failure(
                    _composition_text(atom, atom_curvature, mono, i, len(children), child, kind),
                    cause=child if kind == "of unknown curvature" else None,
                )
                ok = False
                break
            verdict[question] = ok
        return Step(
            node,
            rng,
            verdict["convex"],
            verdict["concave"],
            rule,
            atom=atom,
            atom_curvature=atom_curvature,
            monotonicity=monotonicity,
            children=children,
            failures=failures,
            detail=detail,
        )

    def apply_unary(
        self,
        node: Node,
        rng: Interval | None,
        atom: Any,
        label: str,
        child: Node,
        role: str = "argument",
        rule: str = "composition",
        detail: dict[str, Any] | None = None,
    ) -> Step:
        """A one-argument atom applied to ``child``: domain check, then the composition rule
        with the atom's curvature and monotonicity read off ``child``'s range."""
        r = self.step_of(child).range
        if r is None or not atom.domain_ok(r):
            where = (
                f"its {role} {short(child)} ranges over {r}"
                if r is not None
                else f"its {role} {short(child)} is undefined somewhere"
            )
            return self.domain_failure(
                node,
                rng,
                rule,
                label,
                f"needs its {role} in {atom.domain_text()}, but {where}",
                (child,),
            )
        return self.compose(
            node,
            rng,
            label,
            atom.curvature_on(r),
            (atom.monotonicity_on(r),),
            (child,),
            rule=rule,
            detail=detail,
        )

    def domain_failure(self, node: Node, rng, rule: str, atom: str, text: str, children=()) -> Step:
        why = Failure(f"{atom}: {text}")
        return Step(
            node,
            rng,
            False,
            False,
            rule,
            atom=atom,
            children=tuple(children),
            failures=dict.fromkeys(QUESTIONS, why),
        )

    def rewrite(
        self, node: Node, rng: Interval | None, replacement: Node, name: str, identity: str
    ) -> Step:
        """``node`` equals ``replacement`` on the domain (checked by the caller): inherit."""
        inner = self.step_of(replacement)
        failures = {
            q: Failure(
                f"after rewriting by {identity}: {inner.failures[q].text}", inner.failures[q].cause
            )
            for q in QUESTIONS
            if not inner.proves(q) and q in inner.failures
        }
        return Step(
            node,
            rng if rng is not None else inner.range,
            inner.convex,
            inner.concave,
            f"rewrite:{name}",
            children=(replacement,),
            failures=failures,
            detail={"identity": identity},
        )


# ---------------------------------------------------------------------------------------------
# The analysis of a whole expression
# ---------------------------------------------------------------------------------------------


class Analysis:
    """The DCP derivation of ``root`` over ``domains``: steps, certificate, failure chain."""

    def __init__(self, root: Node, domains: Mapping[str, Interval], engine: DCPEngine) -> None:
        self.root = root
        self.domains = dict(domains)
        self.engine = engine
        self.root_step = engine.steps[root]

    @property
    def proved(self) -> bool:
        return self.root_step.convex or self.root_step.concave

    def step(self, node: Node) -> Step:
        return self.engine.steps[node]

    def proof_nodes(self) -> list[Node]:
        """Nodes the derivation rests on (children before parents), from the root."""
        order: list[Node] = []
        seen: set[int] = set()
        stack: list[tuple[Node, bool]] = [(self.root, False)]
        while stack:
            node, expanded = stack.pop()
            if id(node) in seen:
                continue
            step = self.engine.steps[node]
            if expanded or not step.children:
                seen.add(id(node))
                order.append(node)
                continue
            stack.append((node, True))
            for child in reversed(step.children):
                if id(child) not in seen:
                    stack.append((child, False))
        return order

    def certificate(self) -> dict[str, Any]:
        """The derivation as data: every node with its rule, range and curvature.

        An independent checker can re-walk it against the atom table (issue: certificates).
        """
        nodes = self.proof_nodes()
        index = {id(n): i for i, n in enumerate(nodes)}
        texts: dict[int, str] = {}
        for n in reversed(nodes):  # root first; synthetic pattern nodes get their own pass
            if id(n) not in texts:
                texts.update(labels(n, limit=DOCUMENT_TEXT_LIMIT))
        entries = []
        for n in nodes:
            s = self.engine.steps[n]
            entry: dict[str, Any] = {
                "id": index[id(n)],
                "expr": texts[id(n)],
                "rule": s.rule,
                "curvature": s.curvature,
                "range": s.range.to_json() if s.range is not None else None,
            }
            if s.atom:
                entry["atom"] = s.atom
                entry["atom_curvature"] = s.atom_curvature
                entry["monotonicity"] = list(s.monotonicity)
            if s.children:
                entry["children"] = [index[id(c)] for c in s.children]
            if s.detail:
                entry["detail"] = s.detail
            entries.append(entry)
        return {
            "kind": "dcp",
            "domains": {name: domain_word(r) for name, r in self.domains.items()},
            "root": index[id(self.root)],
            "nodes": entries,
        }

    def failure_chain(self, question: str, limit: int = 12) -> list[str]:
        """The failed premise at the root, then at each child it blames, deepest last."""
        chain: list[str] = []
        node: Node | None = self.root
        seen: set[int] = set()
        while node is not None and len(chain) < limit and id(node) not in seen:
            seen.add(id(node))
            step = self.engine.steps.get(node)
            if step is None:
                break
            failure = step.failures.get(question)
            if failure is None:
                break
            chain.append(failure.text)
            node = failure.cause
        return chain


def analyze(root: Node, domains: Mapping[str, Interval], rules: RuleTable) -> Analysis:
    """The derivation of ``root`` over ``domains`` with ``rules`` (see :mod:`.dcp_rules`)."""
    engine = DCPEngine(domains, rules)
    engine.analyze(root)
    return Analysis(root, domains, engine)


__all__ = [
    "QUESTIONS",
    "Analysis",
    "DCPEngine",
    "Failure",
    "Rule",
    "RuleTable",
    "Step",
    "analyze",
]
