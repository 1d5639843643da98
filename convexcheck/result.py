"""Result objects: each answer carries its own evidence and renders itself.

The contract (``shared/CONTRACT.md``) asks two independent questions of every function, "is it
convex?" and "is it concave?". Each is answered by a :class:`Verdict`:

* ``yes`` must carry a ``certificate`` (a DCP derivation, a Hessian/SOS certificate, or a
  structural argument);
* ``no`` must carry a re-verified ``witness`` (points ``a``, ``b`` and ``t`` where Jensen fails);
* ``unknown`` carries the ``evidence`` gathered.

The constructors below enforce that pairing, so no prover can say ``yes`` or ``no`` without
attaching its proof: a wrong "proved" is the worst bug this tool can have, and the type is the
first line of defence.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from convexcheck.evidence import plain
from convexcheck.schemas import FORMATS

if TYPE_CHECKING:  # pragma: no cover (annotations only: the provers import this module)
    from convexcheck.symbolic.dcp import Analysis
    from convexcheck.tensor.dcp import TensorAnalysis
    from convexcheck.tensor.expr import TExpr

Answer = Literal["yes", "no", "unknown"]
Question = Literal["convex", "concave"]
CURVATURES = ("affine", "convex", "concave", "neither", "unknown")


class Verdict:
    """The answer to one question ("convex?" or "concave?") with what backs it.

    ``certificate`` may be given as a zero-argument callable: a DCP derivation of a 10^5-term
    sum is large, so it is built only when read (``verdict.certificate``) or serialised.

    ``witness`` and ``evidence`` are the producers' dicts or the typed records of
    :mod:`convexcheck.evidence` (which read like those dicts); ``to_dict()`` writes either the
    same way.
    """

    __slots__ = ("_certificate", "answer", "evidence", "method", "question", "summary", "witness")

    def __init__(
        self,
        question: Question,
        answer: Answer,
        method: str,
        summary: str,
        certificate: dict[str, Any] | Callable[[], dict[str, Any]] | None = None,
        witness: Mapping[str, Any] | None = None,
        evidence: Mapping[str, Any] | None = None,
    ) -> None:
        if answer not in ("yes", "no", "unknown"):
            raise ValueError(f"invalid answer {answer!r}")
        if answer == "yes" and not certificate:
            raise ValueError("a 'yes' verdict needs a certificate")
        if answer == "no" and not witness:
            raise ValueError("a 'no' verdict needs a verified witness")
        self.question = question
        self.answer = answer
        self.method = method
        self.summary = summary
        self._certificate = certificate
        self.witness = witness
        self.evidence = evidence

    @property
    def certificate(self) -> dict[str, Any] | None:
        if callable(self._certificate):
            self._certificate = self._certificate()
        return self._certificate

    def __repr__(self) -> str:
        return f"Verdict({self.question!r}, {self.answer!r}, method={self.method!r})"

    @classmethod
    def proved(
        cls,
        question: Question,
        method: str,
        summary: str,
        certificate: dict[str, Any] | Callable[[], dict[str, Any]],
    ) -> Verdict:
        return cls(question, "yes", method, summary, certificate=certificate)

    @classmethod
    def refuted(
        cls, question: Question, method: str, summary: str, witness: Mapping[str, Any]
    ) -> Verdict:
        return cls(question, "no", method, summary, witness=witness)

    @classmethod
    def unknown(
        cls, question: Question, method: str, summary: str, evidence: Mapping[str, Any]
    ) -> Verdict:
        return cls(question, "unknown", method, summary, evidence=evidence)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "answer": self.answer,
            "method": self.method,
            "summary": self.summary,
        }
        if self.certificate is not None:
            out["certificate"] = plain(self.certificate)
        if self.witness is not None:
            out["witness"] = plain(self.witness)
        if self.evidence is not None:
            out["evidence"] = plain(self.evidence)
        return out


def summarise_curvature(convex: Verdict, concave: Verdict) -> str:
    """Fold the two answers into the contract's single ``curvature`` word."""
    if convex.answer == "yes" and concave.answer == "yes":
        return "affine"
    if convex.answer == "yes":
        return "convex"
    if concave.answer == "yes":
        return "concave"
    if convex.answer == "no" and concave.answer == "no":
        return "neither"
    return "unknown"


EXPECTATIONS = ("convex", "concave", "affine", "nonconvex", "nonconcave", "neither")


def expectation_established(expect: str, convex: Verdict, concave: Verdict) -> bool:
    """Whether the verdicts *establish* ``expect`` (a claim needs proof or witness, not silence)."""
    if expect == "convex":
        return convex.answer == "yes"
    if expect == "concave":
        return concave.answer == "yes"
    if expect == "affine":
        return convex.answer == "yes" and concave.answer == "yes"
    if expect == "nonconvex":
        return convex.answer == "no"
    if expect == "nonconcave":
        return concave.answer == "no"
    if expect == "neither":
        return convex.answer == "no" and concave.answer == "no"
    raise ValueError(f"unknown expectation {expect!r}; expected one of {', '.join(EXPECTATIONS)}")


@dataclass
class CheckResult:
    """Outcome of :func:`convexcheck.check` on a closed-form expression.

    ``derivation`` is the DCP derivation (a :class:`convexcheck.symbolic.dcp.Analysis`) when the
    DCP stage ran; it powers :meth:`explain` and :meth:`to_cvxpy`.
    """

    expression: str
    variables: dict[str, Any]  # a tensor variable: {"shape": [...], "domain": ...}
    convex: Verdict
    concave: Verdict
    derivation: Analysis | TensorAnalysis | None = None
    stages: list[dict[str, Any]] = field(default_factory=list)
    # a tensor expression's tree (a convexcheck.tensor.expr.TExpr): a witness document needs it
    tree: TExpr | None = None
    # questions a tensor check settled on the scalarised form, with that form's expression and
    # variables: {"expression": ..., "variables": ..., "questions": [...]} (their documents are
    # scalar documents about it)
    scalarised: dict[str, Any] | None = None
    # for a CVXPY expression proved on its scalarised form: the scalar names (x_0, x_1_2...)
    # as entries of the user's own variables, so that to_cvxpy() speaks about them
    cvxpy_entries: dict[str, Any] | None = None

    @property
    def curvature(self) -> str:
        return summarise_curvature(self.convex, self.concave)

    def establishes(self, expect: str) -> bool:
        return expectation_established(expect, self.convex, self.concave)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "format": FORMATS["expr"],
            "expression": self.expression,
            "variables": dict(self.variables),
            "curvature": self.curvature,
            "convex": self.convex.to_dict(),
            "concave": self.concave.to_dict(),
        }
        if self.stages:
            out["stages"] = self.stages
        return out

    def explain(self) -> str:
        """Plain text: verdicts, what backs each answer, the DCP derivation.

        A convenience method: the renderer (layer 3) is imported here, the documented upward
        edge; it reads this class only for annotations, so there is no cycle."""
        from convexcheck.explain.text import explain_check_result

        return explain_check_result(self)

    def _repr_html_(self) -> str:
        """What a Jupyter notebook shows: verdicts, the witness plotted along its segment (with
        matplotlib; a table otherwise), the derivation tree collapsed (the documented upward
        edge, as for :meth:`explain`)."""
        from convexcheck.explain.notebook import check_html

        return check_html(self)

    def _repr_markdown_(self) -> str:
        """The notebook view for front ends that render Markdown but not HTML."""
        from convexcheck.explain.notebook import check_markdown

        return check_markdown(self)

    def to_cvxpy(self, variables: dict[str, Any] | None = None) -> Any:
        """An equivalent CVXPY expression that CVXPY itself accepts as DCP.

        ``variables`` optionally maps names to existing ``cvxpy.Variable`` objects; missing ones
        are created with sign attributes matching their domains.

        A convenience method: the translators (layer 2) are imported here, the documented
        upward edge; neither imports this module.
        """
        from convexcheck.errors import NotExpressibleError

        if self.derivation is None or not self.derivation.proved:
            raise NotExpressibleError(
                "to_cvxpy() needs a DCP proof of convexity or concavity; this result has none"
            )
        if variables is None and self.cvxpy_entries:
            variables = dict(self.cvxpy_entries)
        from convexcheck.symbolic.dcp import Analysis

        if isinstance(self.derivation, Analysis):
            from convexcheck.symbolic.to_cvxpy import derivation_to_cvxpy

            return derivation_to_cvxpy(self.derivation, variables)
        from convexcheck.tensor.to_cvxpy import tensor_to_cvxpy

        return tensor_to_cvxpy(self.derivation, variables)

    def __repr__(self) -> str:
        return (
            f"CheckResult({self.expression!r}, curvature={self.curvature!r}, "
            f"convex={self.convex.answer!r}, concave={self.concave.answer!r})"
        )
