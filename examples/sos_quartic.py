"""SOS-convexity: proving quartics convex where the DCP rules cannot, with an exact certificate.

Run: ``python examples/sos_quartic.py``.

``x**4 + y**4 + x**2*y**2`` is convex, but DCP cannot say so: ``x**2*y**2`` is a product of two
non-constant factors, which no composition rule covers. A polynomial is *SOS-convex* when its
Hessian form ``v^T H(x) v`` is a sum of squares, ``z^T Q z`` with ``z`` a vector of monomials and
``Q`` positive semidefinite; then ``H(x)`` is PSD everywhere and the polynomial is convex.
convexcheck finds ``Q`` with a semidefinite program (CVXPY), rounds it to rationals, projects it
exactly onto the coefficient constraints and checks ``Q`` PSD by an exact LDL^T.

For each quartic the example prints what DCP alone says (and why it fails), the method that
proves it, the exact Gram matrix with its monomial basis, and then re-checks the certificate with
the independent checker (``convexcheck.certificates.verify_document``, the code behind
``convexcheck proofs verify``), which re-derives the Hessian form from the expression. Finally it
alters one entry of a Gram matrix and shows that the checker rejects the forgery.
"""

from __future__ import annotations

import copy
from fractions import Fraction

import numpy as np

import convexcheck as cc
from convexcheck.certificates import document, verify_document

QUARTICS = [
    # convex; DCP fails on the product term; SOS (and here also the exact Hessian test) proves it
    "x**4 + y**4 + x**2*y**2",
    # convex despite the indefinite -x**3*y term; the principal-minor Hessian test fails on it,
    # so the SOS certificate is what settles it
    "x**4 + x**2*y**2 + y**4 - x**3*y",
]


def print_gram(cert: dict) -> None:
    basis = cert["basis"]
    gram = [[Fraction(v) for v in row] for row in cert["gram"]]
    width = max(len(str(v)) for row in gram for v in row) + 2
    print(f"   Hessian form v^T H v (v = (y0, y1)): {cert['hessian_form']}")
    print(f"   monomial basis z = ({', '.join(basis)})")
    print(f"   exact Gram matrix Q (rounded to {cert['rounding_digits']} digits, then projected):")
    for label, row in zip(basis, gram):
        print(f"     {label:6s}" + "".join(f"{v!s:>{width}s}" for v in row))
    eigenvalues = np.linalg.eigvalsh(np.array(gram, dtype=float))
    print(f"   eigenvalues of Q (float, for reading only): {np.round(eigenvalues, 4).tolist()}")


def main() -> None:
    for text in QUARTICS:
        print(f"f = {text}")
        dcp_only = cc.check(text, stages=("dcp",))
        print(f"   DCP alone: convex {dcp_only.convex.answer}; {dcp_only.convex.summary}")

        ladder = cc.check(text)
        method = ladder.convex.method
        print(f"   full ladder: curvature {ladder.curvature}, convex proved by '{method}'")
        for stage in ladder.stages:
            settled = ", ".join(stage["settled"]) or "nothing"
            print(f"     stage {stage['stage']:8s} settled {settled}")

        r = cc.check(text, stages=("dcp", "sos"))
        cert = r.convex.certificate
        print(f"   SOS: convex {r.convex.answer} ({r.convex.method}): {r.convex.summary}")
        print_gram(cert)

        doc = document(r, "convex")
        report = verify_document(doc, name=f"{text} (sos)")
        verdict = "ok" if report.ok else "FAILED: " + "; ".join(report.problems)
        print(f"   independent checker (re-derives the Hessian form, exact LDL^T of Q): {verdict}")

        forged = copy.deepcopy(doc)
        g = forged["certificate"]["gram"]
        g[0][0] = str(Fraction(g[0][0]) + 1)  # still symmetric and PSD, but z^T Q z changes
        bad = verify_document(forged, name="forged")
        print(
            f"   forged certificate (Q[0][0] + 1): {'ok' if bad.ok else 'rejected'}: "
            f"{'; '.join(bad.problems)}"
        )
        print()


if __name__ == "__main__":
    main()
