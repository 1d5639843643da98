"""Float64 re-verification of a Jensen violation found in lower precision.

The search runs in float32 (fast, on any device); a "no" is only ever said after the three
losses have been recomputed in float64 on the CPU and the gap

    g = f(t a + (1-t) b) - t f(a) - (1-t) f(b)

exceeds a stated rounding margin. The margin is deliberately generous and is the sum of:

* ``1e4 * eps64 * (|t f(a)| + |(1-t) f(b)| + |f(m)|)``: accumulated rounding in deep sums;
* ten times how much the three float64 losses move when the batch is summed in reverse order
  (a second summation order bounds order-dependent rounding; if reversing changes the loss
  beyond rounding, the loss depends on batch order and this term is reported as not applicable);
* ``10 * (eps64/eps32) * |f32 - f64|`` per term: the float32-vs-float64 discrepancy estimates the
  conditioning of the loss, so an ill-conditioned loss gets a proportionally larger margin;
* when ``t a + (1-t) b`` is not exactly representable, ten times the first-order effect of the
  rounding (the exact rounding error comes from an error-free TwoSum);
* an absolute ``1e-12``;
* data-parallel (:mod:`convexcheck.numeric.distributed`): twice ``(R + 1)·eps64`` times the
  sum over the three values of ``Σ_r |w_r L_r|``, the rounding of the weighted sum over the
  ``R`` ranks (``"reduction"``).

The three losses are those of the user's own program: the float64 values come from
``functional_call`` on the user's model and, for a pair that passes, once more with the values
loaded into the user's parameter objects in place (``program_check``); the gap must exceed the
margin both ways, and the reported ``loss_a``/``loss_b``/``loss_at_t`` are the in-place ones.
A closure over the parameters therefore sees exactly the point being checked.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from convexcheck.numeric.functional import FunctionalLoss

EPS64 = float(torch.finfo(torch.float64).eps)
EPS32 = float(torch.finfo(torch.float32).eps)
RELATIVE_FACTOR = 1e4
ABSOLUTE_MARGIN = 1e-12


@dataclass
class Verification:
    """Outcome of one float64 check; ``accepted`` only when ``gap > margin`` in both orders."""

    accepted: bool
    t: float
    loss_a: float
    loss_b: float
    loss_at_t: float
    gap: float
    margin: float
    reordered_gap: float | None
    midpoint_exact: bool
    margin_terms: dict[str, Any]
    program_check: str = "not run"

    def to_dict(self) -> dict[str, Any]:
        return {
            "t": self.t,
            "loss_a": self.loss_a,
            "loss_b": self.loss_b,
            "loss_at_t": self.loss_at_t,
            "gap": self.gap,
            "margin": self.margin,
            "relative_gap": self.gap
            / (
                abs(self.t * self.loss_a)
                + abs((1 - self.t) * self.loss_b)
                + abs(self.loss_at_t)
                + 1e-300
            ),
            "reordered_gap": self.reordered_gap,
            "midpoint_exact": self.midpoint_exact,
            "margin_terms": self.margin_terms,
            "program_check": self.program_check,
            "verified_in": "float64 on the cpu",
        }


class Verifier:
    """Holds the float64 CPU copy of the loss (and its batch-reversed twin), built once.

    The three losses of a check are computed one point at a time (no ``vmap``: three rows of a
    large model batched together triple the activations for no gain in float64), and the values
    at the model's own parameters ``theta0`` (the ``a`` of every symmetry candidate) are
    computed once per way of evaluating (``functional_call``, batch reversed, in place) and then
    reused: the loss is deterministic (:class:`FunctionalLoss` checks it), so the cached value is
    the value a fresh evaluation would give. ``evaluations`` counts the float64 losses computed.
    """

    def __init__(self, floss: FunctionalLoss) -> None:
        self.f64 = floss.to(dtype=torch.float64, device="cpu")
        self.f64_reversed = self.f64.reordered()
        self.checks = 0
        self.evaluations = 0
        self._theta0 = self.f64.theta0.detach()
        # FunctionalLoss.to evaluated the float64 loss at theta0 once (functional_call, no
        # grad): that is the functional value there, unless values are loaded in place
        self._at_theta0: dict[str, float] = {}
        # data-parallel: Σ_r |w_r L_r| of each value, which bounds the rounding of the sum
        self._spread_at_theta0: dict[str, float] = {}
        self._spreads: list[float] = []
        self._reduction_in_margin = 0.0
        if not self.f64.in_place_only:
            self._at_theta0["functional"] = float(self.f64.loss0)

    def worst_case_evaluations(self, a: Tensor, b: Tensor | None) -> int:
        """The most float64 losses :meth:`check` of ``(a, b, t)`` can compute (``b=None``: a
        point that is not ``theta0``): three ways of evaluating for each point, less the values
        at ``theta0`` already known."""
        kinds = ("functional", "reversed", "program")
        total = 0
        for point in (a, b, None):  # None: the midpoint, never theta0 for a != b
            if point is not None and self._is_theta0(point.detach().to("cpu", torch.float64)):
                total += sum(1 for k in kinds if k not in self._at_theta0)
            else:
                total += len(kinds)
        return total

    def _is_theta0(self, point: Tensor) -> bool:
        return point.shape == self._theta0.shape and bool(torch.equal(point, self._theta0))

    def _losses(self, kind: str, points: list[Tensor]) -> list[float]:
        """Float64 losses at ``points`` by ``functional_call`` (``"functional"``), the same with
        the batch reversed (``"reversed"``) or with the values loaded in place (``"program"``)."""
        out: list[float] = []
        self._spreads = []
        for point in points:
            is_theta0 = self._is_theta0(point)
            if is_theta0 and kind in self._at_theta0:
                out.append(self._at_theta0[kind])
                self._spreads.append(self._spread_at_theta0.get(kind, abs(out[-1])))
                continue
            source = self.f64
            with torch.no_grad():
                if kind == "program":
                    value = float(self.f64.program_losses(point.reshape(1, -1))[0])
                elif kind == "reversed":
                    assert self.f64_reversed is not None
                    source = self.f64_reversed
                    value = float(self.f64_reversed.loss(point))
                else:
                    value = float(self.f64.loss(point))
            self.evaluations += 1
            spread = getattr(source, "last_spread", None)  # sharded: Σ_r |w_r L_r|
            self._spreads.append(abs(value) if spread is None else float(spread.sum()))
            if is_theta0:
                self._at_theta0[kind] = value
                self._spread_at_theta0[kind] = self._spreads[-1]
            out.append(value)
        return out

    def _reduction_term(self, t: float) -> float | None:
        """The rounding of the sum over ranks for the latest three values (``None`` in one
        process): ``(R + 1)·eps64`` times ``t·S_a + (1-t)·S_b + S_m``, ``S = Σ_r |w_r L_r|``,
        doubled for the first-order bound's higher terms."""
        shards = getattr(self.f64, "shards", None)
        if shards is None:
            return None
        sa, sb, sm = self._spreads
        return 2.0 * shards.rounding_factor * (t * sa + (1.0 - t) * sb + sm)

    def midpoint(self, a: Tensor, b: Tensor, t: float) -> tuple[Tensor, Tensor]:
        """``t a + (1-t) b`` in float64 and its exact rounding error (TwoSum, elementwise).

        With ``t`` a multiple of 1/1024 and ``a``, ``b`` float32 values, both products are exact
        in float64, so the TwoSum error is the whole error of the computed midpoint.
        """
        x, y = t * a, (1.0 - t) * b
        s = x + y
        z = s - x
        err = (x - (s - z)) + (y - z)
        return s, err

    def check(
        self,
        a: Tensor,
        b: Tensor,
        t: float,
        *,
        low_precision: tuple[float, float, float] | None = None,
    ) -> Verification:
        """Recompute the gap of ``(a, b, t)`` in float64 and decide against the margin.

        ``low_precision`` are the search's float32 values ``(f(a), f(b), f(m))`` if known.
        """
        self.checks += 1
        a = a.detach().to(device="cpu", dtype=torch.float64)
        b = b.detach().to(device="cpu", dtype=torch.float64)
        t = float(t)
        if not 0.0 < t < 1.0:
            raise ValueError(f"t must lie in (0, 1), got {t}")
        products_exact = (
            t * 1024 == round(t * 1024)
            and bool(torch.equal(a, a.float().double()))
            and bool(torch.equal(b, b.float().double()))
        )
        m, err = self.midpoint(a, b, t)
        midpoint_exact = products_exact and not bool(err.any())
        fa, fb, fm = self._losses("functional", [a, b, m])
        gap = fm - t * fa - (1.0 - t) * fb
        scale = abs(t * fa) + abs((1.0 - t) * fb) + abs(fm)
        terms: dict[str, Any] = {
            "rounding": RELATIVE_FACTOR * EPS64 * scale,
            "absolute": ABSOLUTE_MARGIN,
        }
        if not all(math.isfinite(v) for v in (fa, fb, fm)):
            return Verification(False, t, fa, fb, fm, gap, math.inf, None, midpoint_exact, terms)
        if low_precision is not None:
            la, lb, lm = low_precision
            diff = t * abs(la - fa) + (1 - t) * abs(lb - fb) + abs(lm - fm)
            terms["conditioning"] = 10.0 * (EPS64 / EPS32) * diff if math.isfinite(diff) else 0.0
        reduction = self._reduction_term(t)
        if reduction is not None:
            terms["reduction"] = reduction
        if not midpoint_exact:
            terms["midpoint_rounding"] = self._midpoint_term(m, err, products_exact)
        reordered_gap = None
        margin_so_far = sum(v for v in terms.values() if isinstance(v, float))
        if self.f64_reversed is not None and gap > margin_so_far:
            ra, rb, rm = self._losses("reversed", [a, b, m])
            reversed_reduction = self._reduction_term(t)
            if reversed_reduction is not None:
                terms["reduction"] = max(float(terms["reduction"]), reversed_reduction)
            moved = t * abs(ra - fa) + (1 - t) * abs(rb - fb) + abs(rm - fm)
            if moved <= 1e-6 * scale + ABSOLUTE_MARGIN:
                terms["reordering"] = 10.0 * moved
                reordered_gap = rm - t * ra - (1.0 - t) * rb
            else:
                terms["reordering"] = "not applicable: the loss depends on batch order"
        margin = sum(v for v in terms.values() if isinstance(v, float))
        self._reduction_in_margin = float(terms.get("reduction", 0.0))
        accepted = gap > margin and (reordered_gap is None or reordered_gap > margin)
        program = "not run: the float64 gap does not exceed the margin"
        if accepted and not self.f64.in_place_only:
            accepted, (fa, fb, fm), gap, program = self._program_check(a, b, m, t, margin)
        elif self.f64.in_place_only:
            program = "passed: every value was computed with the parameters loaded in place"
        return Verification(
            accepted, t, fa, fb, fm, gap, margin, reordered_gap, midpoint_exact, terms, program
        )

    def _program_check(
        self, a: Tensor, b: Tensor, m: Tensor, t: float, margin: float
    ) -> tuple[bool, tuple[float, float, float], float, str]:
        """The three losses again with the values loaded into the user's parameter objects
        (what a closure over them sees); the gap must exceed the margin here too."""
        try:
            fa, fb, fm = self._losses("program", [a, b, m])
        except Exception as exc:
            status = f"not available ({type(exc).__name__}): functional_call on the model only"
            fa, fb, fm = self._losses("functional", [a, b, m])
            return True, (fa, fb, fm), fm - t * fa - (1.0 - t) * fb, status
        gap = fm - t * fa - (1.0 - t) * fb
        reduction = self._reduction_term(t)  # these values' own sums over ranks, if sharded
        if reduction is not None:
            margin += max(0.0, reduction - self._reduction_in_margin)
        ok = all(math.isfinite(v) for v in (fa, fb, fm)) and gap > margin
        status = "passed" if ok else f"failed: in-place gap {gap!r}"
        return ok, (fa, fb, fm), gap, status

    def _midpoint_term(self, m: Tensor, err: Tensor, products_exact: bool) -> float:
        """Ten times the first-order change of f when the computed midpoint moves to the exact
        one; infinite when the products themselves were not exact (no error-free bound)."""
        if not products_exact or self.f64.in_place_only:
            return math.inf
        x = m.clone().requires_grad_(True)
        value = self.f64.loss(x)
        (grad,) = torch.autograd.grad(value, x)
        return 10.0 * float((grad * err).abs().sum())
