"""Regenerate the certificate catalogue in this directory.

    python proofs/generate.py            # rewrites proofs/*.json, proofs/*.md and the index
    convexcheck proofs verify proofs     # re-checks every document independently

Each entry is checked with the full ladder (or the stages named), the settled answer the entry
is about is written as a certificate document (JSON) and as a Markdown page a person reads as
the proof, and the run stops with an error if an entry does not come out as catalogued — the
catalogue never contains a claim the library cannot currently prove.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from convexcheck import check
from convexcheck.certificates import document, verify_document

HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Tensor:
    """A CVXPY (vector/matrix) entry: ``text`` for the pages, ``build()`` makes the expression
    (with seeded data, so the documents are reproducible)."""

    text: str
    build: Callable[[], Any]

    def __str__(self) -> str:
        return self.text


def _lasso():
    import cvxpy as cp

    rng = np.random.default_rng(11)
    a, b = rng.standard_normal((20, 5)), rng.standard_normal(20)
    x = cp.Variable(5, name="x")
    return cp.sum_squares(a @ x - b) + 0.5 * cp.norm1(x)


def _logistic_regression():
    import cvxpy as cp

    rng = np.random.default_rng(12)
    a, y = rng.standard_normal((20, 4)), np.sign(rng.standard_normal(20))
    w = cp.Variable(4, name="w")
    return cp.sum(cp.log(1 + cp.exp(-cp.multiply(y, a @ w))))


def _int_matrix(seed: int, psd: bool) -> np.ndarray:
    b = np.random.default_rng(seed).integers(-3, 4, size=(5, 4))
    if psd:
        return (b.T @ b).astype(np.float64)
    p = (b[:4] + b[:4].T).astype(np.float64)
    p[0, 0], p[1, 1] = 2.0, -3.0
    return p


def _written_quad_form(psd: bool):
    import cvxpy as cp

    x = cp.Variable(4, name="x")
    return x @ (_int_matrix(13, psd) @ x)

# (name, title, expression, variables, question, expected answer, stages or None)
CATALOGUE = [
    ("mse", "Mean squared error of a linear model (3 data points)",
     "((2*w + b - 1)**2 + (b - w - 3)**2 + (w/2 + b)**2)/3", {}, "convex", "yes", None),
    ("mae", "Mean absolute error of a linear model",
     "(Abs(2*w + b - 1) + Abs(b - w - 3))/2", {}, "convex", "yes", None),
    ("huber", "Huber loss (delta = 1)",
     "Piecewise((r**2/2, Abs(r) <= 1), (Abs(r) - 1/2, True))", {}, "convex", "yes", None),
    ("hinge", "Hinge loss of a linear classifier",
     "Max(0, 1 - (2*w + b))", {}, "convex", "yes", None),
    ("logistic", "Logistic loss (softplus of the negative margin)",
     "log(1 + exp(-(2*w + b)))", {}, "convex", "yes", None),
    ("softmax_cross_entropy", "Cross-entropy of a softmax (log-sum-exp minus the true logit)",
     "log(exp(z1) + exp(z2) + exp(z3)) - z1", {}, "convex", "yes", None),
    ("l1", "L1 norm", "Abs(x) + Abs(y)", {}, "convex", "yes", None),
    ("l2", "L2 norm", "sqrt(x**2 + y**2)", {}, "convex", "yes", None),
    ("elastic_net", "Elastic net: squared loss + L1 + L2 penalties",
     "(2*x - y - 1)**2 + Abs(x) + Abs(y) + (x**2 + y**2)/2", {}, "convex", "yes", None),
    ("negative_entropy", "Negative entropy",
     "x*log(x) + y*log(y)", {"x": "positive", "y": "positive"}, "convex", "yes", None),
    ("quad_over_lin", "Quadratic over linear", "x**2/y", {"y": "positive"}, "convex", "yes",
     None),
    ("geometric_mean", "Geometric mean", "sqrt(x*y)", {"x": "positive", "y": "positive"},
     "concave", "yes", None),
    ("log_barrier", "Log barrier of the interval (0, 1)", "-log(x) - log(1 - x)",
     {"x": "(0, 1)"}, "convex", "yes", None),
    ("exp_over_y", "exp(x)/y (a Hessian LDL proof)", "exp(x)/y", {"y": "positive"}, "convex",
     "yes", None),
    ("x_exp_x", "x*exp(x) on [0, 5] (a second-derivative proof)", "x*exp(x)", {"x": "[0, 5]"},
     "convex", "yes", None),
    ("log_squared", "(log x)**2 on [1, 2]", "(log(x))**2", {"x": "[1, 2]"}, "convex", "yes",
     None),
    ("quartic_sos", "x**4 + y**4 + x**2*y**2 (an SOS-convexity proof)",
     "x**4 + y**4 + x**2*y**2", {}, "convex", "yes", ("sos",)),
    ("bilinear", "x*y is not convex", "x*y", {}, "convex", "no", None),
    ("squared_bilinear", "x**2*y**2 is not convex", "x**2*y**2", {}, "convex", "no", None),
    ("two_layer_linear_net", "A two-layer linear net's squared loss (w2*w1*x - y)**2",
     "(w2*w1*3 - 2)**2", {}, "convex", "no", None),
    ("sigmoid_unit", "Squared loss of one sigmoid unit",
     "(1/(1 + exp(-(2*w + b))) - 1)**2", {}, "convex", "no", None),
    ("rosenbrock", "Rosenbrock's function", "(1 - x)**2 + 100*(y - x**2)**2", {}, "convex",
     "no", None),
    # tensor (CVXPY) entries: dcp-tensor certificates and a tensor witness
    ("tensor_lasso", "Lasso: a least-squares loss plus an L1 penalty (A is 20 x 5)",
     Tensor("sum_squares(A @ x - b) + 0.5 * norm1(x)", _lasso), {}, "convex", "yes", None),
    ("tensor_logistic_regression", "Logistic regression written with log(1 + exp(...))",
     Tensor("sum(log(1 + exp(-multiply(y, A @ w))))", _logistic_regression), {}, "convex", "yes",
     None),
    ("tensor_quad_form", "A quadratic form written out, x @ (P @ x), with an integer PSD P",
     Tensor("x @ (P @ x), P = B.T @ B", lambda: _written_quad_form(True)), {}, "convex", "yes",
     None),
    ("tensor_indefinite_quad_form", "x @ (P @ x) with an indefinite P is not convex",
     Tensor("x @ (P @ x), P indefinite", lambda: _written_quad_form(False)), {}, "convex", "no",
     None),
]


def _domain_text(d: Any) -> str:
    if isinstance(d, dict):  # a tensor variable: {"shape": [...], "domain": word}
        return f"{d['domain']} (shape {tuple(d['shape'])})"
    return str(d)


def markdown(name: str, title: str, expression: str, result, doc: dict) -> str:
    lines = [f"# {title}", ""]
    domains = ", ".join(f"`{n}` in {_domain_text(d)}" for n, d in result.variables.items())
    lines += [f"`f = {expression}` with {domains}.", ""]
    verdict = "proved" if doc["answer"] == "yes" else "refuted"
    lines += [f"**{doc['question']}: {doc['answer']}** ({verdict}, method `{doc['method']}`).", ""]
    lines += [doc["summary"], ""]
    if doc["answer"] == "no" and doc["witness"].get("kind") == "jensen-tensor":
        w = doc["witness"]
        lines += [
            "## The counterexample",
            "",
            f"- a = {w['a']}",
            f"- b = {w['b']}",
            f"- t = {w['t']}",
            f"- enclosures: f(a) in {w['f_a']}, f(b) in {w['f_b']}, f((a+b)/2) in {w['f_t']}",
            f"- gap f((a+b)/2) - (f(a) + f(b))/2 >= {w['gap_lower_bound']} > 0, verified by "
            f"{w['verified']}; every coordinate is an exact float64 (hex floats are exact)",
            "",
            "A convex function never lies above its chords, so these points prove f is not convex.",
            "The document carries the expression tree (constants with their SHA-256 hashes); the "
            "checker re-evaluates f at the three points in its own interval arithmetic.",
        ]
    elif doc["answer"] == "no":
        w = doc["witness"]
        lines += [
            "## The counterexample, to check by hand",
            "",
            f"- a = {w['a']}",
            f"- b = {w['b']}",
            f"- t = {w['t']}",
            f"- f(a) = {w['f_a']}, f(b) = {w['f_b']}, f(t*a + (1-t)*b) = {w['f_at_t']}",
            f"- gap = f(t*a + (1-t)*b) - (t*f(a) + (1-t)*f(b)) = {w['gap']} "
            f"(about {w['gap_float']:.6g}) > 0, verified by {w['verified']}",
            "",
            "A convex function never lies above its chords, so this point proves f is not convex.",
        ]
    else:
        cert = doc["certificate"]
        lines += ["## The proof", ""]
        if cert["kind"] == "hessian":
            lines += [
                f"The Hessian matrix (times {cert['sign']}) is `{cert['matrix']}` on "
                f"{cert['domains']}; method `{cert['method']}`. Each condition below is proved on "
                "the whole domain:",
                "",
            ]
            lines += [f"- `{c['expr']} {c['claim'][:-1]} 0` by {c['method']}" for c in
                      cert["conditions"]]
        elif cert["kind"] == "sos":
            lines += [
                f"`yᵀHy = {cert['hessian_form']}` equals `zᵀQz` for the monomials "
                f"`z = {cert['basis']}` and the exact rational matrix Q below, which is positive "
                "semidefinite (exact LDLᵀ), so H(x) is PSD for every x.",
                "",
                "```",
                *(" ".join(row) for row in cert["gram"]),
                "```",
            ]
        elif cert["kind"] == "dcp-tensor":
            lines += [
                "The derivation, node by node (each node's curvature from the DCP composition rule, "
                "its range over the domain, and for a pattern the atom it is read as):",
                "",
                "```",
                *result.derivation.derivation_lines(),
                "```",
            ]
            decisions = cert.get("psd_decisions") or []
            if decisions:
                lines += ["", "PSD decisions for constant matrices:", ""]
                lines += [f"- {'-P' if d['negated'] else 'P'}: {d['status']} ({d['reason']})" for d in decisions]
        else:
            lines += ["```", result.explain(), "```"]
    lines += ["", f"Re-check: `convexcheck proofs verify proofs` (document `{name}.json`).", ""]
    return "\n".join(lines)


def main() -> int:
    index = ["# Certificate catalogue", "",
             "Generated by `python proofs/generate.py`; re-checked by "
             "`convexcheck proofs verify proofs` and by the test suite.", "",
             "| entry | function | question | answer | method |", "| --- | --- | --- | --- | --- |"]
    for name, title, expr, variables, question, expected, stages in CATALOGUE:
        kwargs = {"stages": stages} if stages else {}
        if isinstance(expr, Tensor):
            result = check(expr.build(), **kwargs)
        else:
            result = check(expr, variables, **kwargs)
        text = str(expr) if isinstance(expr, Tensor) else result.expression
        answer = getattr(result, question).answer
        if answer != expected:
            print(f"{name}: expected {question} = {expected}, got {answer}", file=sys.stderr)
            return 1
        doc = document(result, question)
        report = verify_document(json.loads(json.dumps(doc)), name)
        if not report.ok:
            print(f"{name}: the checker rejects the certificate: {report.problems}", file=sys.stderr)
            return 1
        (HERE / f"{name}.json").write_text(json.dumps(doc, indent=2) + "\n")
        (HERE / f"{name}.md").write_text(markdown(name, title, text, result, doc))
        index.append(f"| [{name}]({name}.md) | `{text}` | {question} | {answer} | "
                     f"{doc['method']} |")
        print(f"{name}: {question} = {answer} ({doc['method']})")
    (HERE / "README.md").write_text("\n".join(index) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
