"""The Jensen violation search: find ``a, b, t`` with ``f(t a + (1-t) b) > t f(a) + (1-t) f(b)``.

Candidates are evaluated in batches in float32 on the search device (symmetry constructions
first, then random pairs at growing scales, then adversarial refinement of the best pairs by
gradient ascent on the normalised gap). Any pair whose float32 gap looks positive is handed to
:class:`~convexcheck.numeric.verify.Verifier`, which recomputes it in float64 on the CPU against
a rounding margin; only a pair that passes becomes a witness. The search stops at the first
witness or when its effort is spent, and otherwise reports what it tried (the evidence of an
``unknown``).

Effort is counted in loss evaluations (``max_evaluations``, by default three per pair of
``max_pairs``), never in seconds, so the same seed tries the same candidates in the same order
on an idle laptop and on a loaded CI runner, and finds the same witness (issue 10: a wall-clock
budget let a busy machine try 1 pair instead of 2049). ``budget_s`` is only an outer wall-clock
cap for pathological models; the report's ``stopped_by`` says which limit ended the search
(``witness``, ``evaluations``, ``time`` or ``candidates``), so a result cut short by time is
visible as such.

Everything random comes from one ``torch.Generator`` seeded with ``seed`` on the CPU, so the same
seed gives the same candidates on any device.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor

from convexcheck.numeric.candidates import (
    Pairs,
    direction_pairs,
    find_unit_groups,
    multiplicative_pairs,
    random_pairs,
    symmetry_stages,
    tensor_scales,
)
from convexcheck.numeric.distributed import agreed
from convexcheck.numeric.functional import FunctionalLoss
from convexcheck.numeric.verify import Verification, Verifier

SCALES = (0.03, 0.1, 0.3, 1.0, 3.0)
ORIGIN_SCALES = (0.1, 0.3)  # pairs around zero, in units of the init scale
DEFAULT_TIME_CAP_S = 120.0  # outer wall-clock cap; effort itself is counted in evaluations
SCREEN_THRESHOLD = 1e-6  # relative float32 gap worth a float64 check
_TINY = 1e-30

ProgressFn = Callable[[float, str], None]


@dataclass
class JensenWitness:
    """A verified violation: the flat parameter vectors stay here (for ``--witness-out``);
    ``info`` is the JSON-ready witness."""

    a: Tensor
    b: Tensor
    t: float
    info: dict[str, Any]


@dataclass
class JensenSearchReport:
    """What the search did: the witness if any, and the evidence either way."""

    witness: JensenWitness | None
    pairs_tried: int = 0
    float64_checks: int = 0
    best_relative_gap: float = -math.inf
    best_source: str | None = None
    families: list[str] = field(default_factory=list)
    elapsed_s: float = 0.0
    stopped: str = ""
    stopped_by: str = ""
    evaluations: int = 0
    max_evaluations: int = 0
    time_cap_s: float = 0.0
    seed: int = 0
    batch_path: str | None = None
    rejected: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        best = self.best_relative_gap
        return {
            "found": self.witness is not None,
            "pairs_tried": self.pairs_tried,
            "float64_checks": self.float64_checks,
            "largest_relative_gap": best if math.isfinite(best) else None,
            "largest_gap_source": self.best_source,
            "families": list(self.families),
            "scales": list(SCALES),
            "seed": self.seed,
            "elapsed_s": round(self.elapsed_s, 4),
            "stopped": self.stopped,
            "stopped_by": self.stopped_by,
            "evaluations": self.evaluations,
            "max_evaluations": self.max_evaluations,
            "time_cap_s": self.time_cap_s,
            "batch_path": self.batch_path,
            "rejected_in_float64": self.rejected[:5],
        }


class JensenSearch:
    """One search over one :class:`FunctionalLoss` (the model's own, any dtype/device).

    ``device``: where the float32 search runs. ``max_pairs`` and ``max_evaluations`` (default
    ``3 * max_pairs``): the effort, in pairs and in loss evaluations, deterministic for a seed.
    ``budget_s``: an outer wall-clock cap only (``None``: no cap).
    """

    def __init__(
        self,
        floss: FunctionalLoss,
        *,
        device: str | torch.device = "cpu",
        seed: int = 0,
        budget_s: float | None = DEFAULT_TIME_CAP_S,
        max_pairs: int = 2048,
        max_evaluations: int | None = None,
        adversarial_steps: int = 30,
        progress: ProgressFn | None = None,
    ) -> None:
        self.source = floss
        if floss.dtype == torch.float32 and floss.device == torch.device(device):
            self.f = floss  # already the search precision and place: no copy needed
        else:
            self.f = floss.to(dtype=torch.float32, device=device)
        self.theta0 = self.f.theta0.detach()
        self.seed = seed
        self.budget_s = math.inf if budget_s is None else float(budget_s)
        self.max_pairs = max_pairs
        self.max_evaluations = 3 * max_pairs if max_evaluations is None else int(max_evaluations)
        self.adversarial_steps = adversarial_steps
        self.progress = progress
        self.gen = torch.Generator().manual_seed(seed)
        self._verifier: Verifier | None = None
        self._f0: float | None = None
        self._start = 0.0
        self._best: list[tuple[float, Tensor, Tensor, float, str]] = []  # for refinement
        self.report = JensenSearchReport(
            witness=None,
            seed=seed,
            max_evaluations=self.max_evaluations,
            time_cap_s=self.budget_s if math.isfinite(self.budget_s) else None,
        )

    # -- public -------------------------------------------------------------------------------
    @property
    def verifier(self) -> Verifier:
        if self._verifier is None:
            self._verifier = Verifier(self.source)
        return self._verifier

    def run(self) -> JensenSearchReport:
        """Search in the order cheap-and-likely first; stop at the first verified witness."""
        self._start = time.perf_counter()
        stages = self._stages()
        for label, make in stages:
            if self._done():
                break
            if label not in self.report.families:
                self.report.families.append(label)
            if label == "adversarial":
                self._adversarial()
                continue
            pairs = make()
            if pairs is not None and len(pairs):
                self._evaluate(pairs)
        if not self.report.stopped:
            self.report.stopped = "witness" if self.report.witness else "candidates exhausted"
            self.report.stopped_by = "witness" if self.report.witness else "candidates"
        self._finish()
        return self.report

    def try_directions(self, directions: list[tuple[Tensor, str]]) -> JensenSearchReport:
        """Segments along given directions (e.g. the Hessian's lambda_min eigenvector)."""
        start = time.perf_counter()
        rms_norm = float(self._rms().norm())
        for direction, source in directions:
            if self.report.witness is not None:
                break
            if source not in self.report.families:
                self.report.families.append(source)
            self._evaluate(direction_pairs(self.theta0, direction, rms_norm, source))
            if self.report.witness is not None:
                self.report.stopped = self.report.stopped_by = "witness"
        self.report.elapsed_s += time.perf_counter() - start
        self.report.batch_path = self.f.batch_path
        return self.report

    def refine(self, starts: list[tuple[Tensor, Tensor, float, str]]) -> JensenSearchReport:
        """Adversarial refinement from given pairs ``(a, b, t, source)`` only."""
        self._start = time.perf_counter()
        self._best = [
            (-math.inf, a.to(self.theta0), b.to(self.theta0), t, s) for a, b, t, s in starts
        ]
        if "adversarial" not in self.report.families:
            self.report.families.append("adversarial")
        self._adversarial()
        self._finish()
        return self.report

    # -- stages -------------------------------------------------------------------------------
    def _stages(self) -> list[tuple[str, Callable[[], Pairs | None]]]:
        groups = find_unit_groups(self.f.model, self.f)
        self.groups = groups
        stages: list[tuple[str, Callable[[], Pairs | None]]] = []
        # built when reached: the batch over all hidden layers is 2 x (3 per layer) vectors of
        # the model's size, not needed when the first batch already gives the witness; the
        # generator is drawn in the same order either way (nothing else draws in between)
        if groups:
            stages.extend(symmetry_stages(self.f, self.theta0, groups, self.gen))
        stages.append(("multiplicative", lambda: multiplicative_pairs(self.f, self.theta0)))
        rms, init = tensor_scales(self.f, self.theta0)
        self._rms_cache = rms
        k = 8
        for scale in SCALES:
            stages.append(
                (
                    f"random(scale={scale:g})",
                    lambda s=scale: random_pairs(self.theta0, rms, init, s, k, self.gen),
                )
            )
        for scale in SCALES:
            stages.append(
                (
                    f"segment(scale={scale:g})",
                    lambda s=scale: random_pairs(
                        self.theta0, rms, init, s, k, self.gen, kind="segment"
                    ),
                )
            )
        stages.append(
            (
                "init_scale",
                lambda: random_pairs(self.theta0, rms, init, 1.0, k, self.gen, kind="init"),
            )
        )
        for scale in ORIGIN_SCALES:
            stages.append(
                (
                    f"near_origin(scale={scale:g})",
                    lambda s=scale: random_pairs(
                        self.theta0, rms, init, s, k, self.gen, kind="origin"
                    ),
                )
            )
        stages.append(("adversarial", lambda: None))
        # then more random rounds until the budget or max_pairs is spent
        for _ in range(max(0, self.max_pairs // (2 * k))):
            for scale in SCALES:
                stages.append(
                    (
                        f"random(scale={scale:g})",
                        lambda s=scale: random_pairs(self.theta0, rms, init, s, k, self.gen),
                    )
                )
        return stages

    def _rms(self) -> Tensor:
        if not hasattr(self, "_rms_cache"):
            self._rms_cache, _ = tensor_scales(self.f, self.theta0)
        return self._rms_cache

    def _done(self) -> bool:
        if self.report.witness is not None:
            self.report.stopped = self.report.stopped_by = "witness"
            return True
        if self.report.pairs_tried >= self.max_pairs:
            self.report.stopped, self.report.stopped_by = "max_pairs", "evaluations"
            return True
        if self.report.evaluations >= self.max_evaluations:
            self.report.stopped, self.report.stopped_by = "max_evaluations", "evaluations"
            return True
        late = time.perf_counter() - self._start > self.budget_s  # outer cap only
        if agreed(late, self.f, "checking the time cap"):  # every rank stops at the same step
            self.report.stopped, self.report.stopped_by = "time budget", "time"
            return True
        return False

    def _f_theta0(self) -> float:
        # FunctionalLoss evaluated itself at theta0 when it was built (``loss0``, the same
        # computation as ``loss(theta0)``, checked to be deterministic): no evaluation here
        if self._f0 is None:
            self._f0 = float(self.f.loss0)
        return self._f0

    # -- evaluation ---------------------------------------------------------------------------
    def _evaluate(self, pairs: Pairs) -> None:
        """Gaps of a batch in float32; float64 checks of the most promising, best first."""
        dev = self.theta0.device
        b = pairs.b.to(dev)
        t = pairs.t.to(device=dev, dtype=self.theta0.dtype)
        a = pairs.a.to(dev) if pairs.a is not None else None
        a_rows = a if a is not None else self.theta0.expand_as(b)
        m = t[:, None] * a_rows + (1 - t[:, None]) * b
        with torch.no_grad():
            if a is None:
                fb_fm = self.f.batched_loss(torch.cat([b, m]))
                k = len(pairs)
                fa = torch.full((k,), self._f_theta0(), dtype=fb_fm.dtype, device=dev)
                fb, fm = fb_fm[:k], fb_fm[k:]
            else:
                vals = self.f.batched_loss(torch.cat([a, b, m]))
                fa, fb, fm = vals.chunk(3)
        self.report.evaluations += (2 if a is None else 3) * len(pairs)
        self.report.pairs_tried += len(pairs)
        self.report.batch_path = self.f.batch_path
        gap = fm - t * fa - (1 - t) * fb
        denom = (t * fa).abs() + ((1 - t) * fb).abs() + fm.abs() + _TINY
        rel = (gap / denom).double().cpu()
        rel = torch.where(torch.isfinite(rel), rel, torch.full_like(rel, -math.inf))
        order = torch.argsort(rel, descending=True)
        for i in order[:4].tolist():
            r = float(rel[i])
            self._remember(r, a_rows[i], b[i], float(pairs.t[i]), pairs.sources[i])
            if r > self.report.best_relative_gap:
                self.report.best_relative_gap = r
                self.report.best_source = pairs.sources[i]
        for i in order[:2].tolist():
            if float(rel[i]) <= SCREEN_THRESHOLD:
                break
            low = (float(fa[i]), float(fb[i]), float(fm[i]))
            result = self.verifier.check(a_rows[i], b[i], float(pairs.t[i]), low_precision=low)
            self.report.float64_checks += 1
            if result.accepted:
                self._accept(a_rows[i], b[i], result, pairs.sources[i], pairs.details[i])
                return
            self.report.rejected.append(
                {"source": pairs.sources[i], "gap": result.gap, "margin": result.margin}
            )
        self._tick()

    def _remember(self, rel: float, a: Tensor, b: Tensor, t: float, source: str) -> None:
        """Keep the four best pairs (a stable sort: ties keep the earlier pair). The rows are
        copied only when kept: a view would keep its whole batch alive, and for a large model
        a copy of a row that is dropped at once is 2 x n floats for nothing."""

        def key(x: float) -> float:
            return -x if math.isfinite(x) else math.inf

        if sum(1 for kept in self._best if key(kept[0]) <= key(rel)) >= 4:
            return
        self._best.append((rel, a.detach().clone(), b.detach().clone(), t, source))
        self._best.sort(key=lambda x: key(x[0]))
        del self._best[4:]

    def _accept(
        self, a: Tensor, b: Tensor, result: Verification, source: str, detail: dict[str, Any]
    ) -> None:
        info = result.to_dict()
        info.update({"source": source, "detail": detail, "seed": self.seed})
        self.report.witness = JensenWitness(
            a=a.detach().cpu().clone(), b=b.detach().cpu().clone(), t=result.t, info=info
        )

    def _tick(self) -> None:
        if self.progress is not None:
            elapsed = time.perf_counter() - self._start
            frac = max(
                elapsed / self.budget_s,
                self.report.pairs_tried / self.max_pairs,
                self.report.evaluations / max(1, self.max_evaluations),
            )
            self.progress(min(1.0, frac), f"{self.report.pairs_tried} pairs")

    # -- adversarial refinement ---------------------------------------------------------------
    def _adversarial(self) -> None:
        """Adam ascent on the normalised gap from the best pairs so far (t fixed per pair).

        Coordinates move in units of each tensor's RMS, so layers of very different scale are
        treated alike. The float32 value of each step is screened like any candidate.
        """
        if not self._best:
            return
        if self.f.in_place_only:  # values loaded in place carry no gradients
            return
        starts = self._best[:4]
        rms = self._rms()
        a0 = torch.stack([s[1] for s in starts])
        b0 = torch.stack([s[2] for s in starts])
        t = torch.tensor([s[3] for s in starts], dtype=self.theta0.dtype, device=a0.device)
        names = [f"adversarial(from={s[4]})" for s in starts]
        ua = torch.zeros_like(a0, requires_grad=True)
        ub = torch.zeros_like(b0, requires_grad=True)
        opt = _Adam([ua, ub], lr=0.05)
        k = len(starts)
        for step in range(self.adversarial_steps):
            if self._done():
                return
            a = a0 + rms * ua
            b = b0 + rms * ub
            m = t[:, None] * a + (1 - t[:, None]) * b
            vals = self.f.batched_loss(torch.cat([a, b, m]))
            fa, fb, fm = vals.chunk(3)
            gap = fm - t * fa - (1 - t) * fb
            denom = (t * fa).abs() + ((1 - t) * fb).abs() + fm.abs() + _TINY
            rel = gap / denom
            self.report.pairs_tried += k
            self.report.evaluations += 3 * k
            best = int(torch.argmax(torch.nan_to_num(rel.detach(), nan=-math.inf)))
            r = float(rel.detach()[best])
            if r > self.report.best_relative_gap:
                self.report.best_relative_gap = r
                self.report.best_source = names[best]
            if r > SCREEN_THRESHOLD and (step % 5 == 4 or r > 1e-3):
                low = tuple(float(v[best].detach()) for v in (fa, fb, fm))
                tb = float(t[best])
                ta, tbv = a[best].detach(), b[best].detach()
                result = self.verifier.check(ta, tbv, tb, low_precision=low)
                self.report.float64_checks += 1
                if result.accepted:
                    detail = {"steps": step, "start": starts[best][4]}
                    self._accept(ta, tbv, result, names[best], detail)
                    return
            objective = -torch.nan_to_num(rel, nan=0.0).sum()
            ua.grad = ub.grad = None
            objective.backward()
            opt.step()
            self._tick()

    def _finish(self) -> None:
        self.report.elapsed_s = time.perf_counter() - self._start
        self.report.batch_path = self.f.batch_path


class _Adam:
    """Adam (Kingma & Ba) with torch's defaults, step for step the arithmetic of
    ``torch.optim.Adam``'s single-tensor CPU path (no weight decay, no amsgrad).

    Written out because constructing ``torch.optim.Adam`` imports ``torch._dynamo``, 1-2 s on
    the first call in a process, which was most of the fixed cost of a small model's check.
    """

    def __init__(
        self, params: list[Tensor], lr: float, betas: tuple[float, float] = (0.9, 0.999)
    ) -> None:
        self.params = params
        self.lr = lr
        self.beta1, self.beta2 = betas
        self.eps = 1e-8
        self.steps = 0
        self.exp_avg = [torch.zeros_like(p, memory_format=torch.preserve_format) for p in params]
        self.exp_avg_sq = [torch.zeros_like(p, memory_format=torch.preserve_format) for p in params]

    @torch.no_grad()
    def step(self) -> None:
        self.steps += 1
        step = float(self.steps)
        bias_correction1 = 1 - self.beta1**step
        bias_correction2 = 1 - self.beta2**step
        step_size = self.lr / bias_correction1
        bias_correction2_sqrt = bias_correction2**0.5
        for param, m, v in zip(self.params, self.exp_avg, self.exp_avg_sq):
            grad = param.grad
            if grad is None:
                continue
            m.lerp_(grad, 1 - self.beta1)
            v.mul_(self.beta2).addcmul_(grad, grad, value=1 - self.beta2)
            denom = (v.sqrt() / bias_correction2_sqrt).add_(self.eps)
            param.addcdiv_(m, denom, value=-step_size)


def search_jensen(
    floss: FunctionalLoss,
    *,
    device: str | torch.device = "cpu",
    seed: int = 0,
    budget_s: float | None = DEFAULT_TIME_CAP_S,
    max_pairs: int = 2048,
    max_evaluations: int | None = None,
    progress: ProgressFn | None = None,
) -> JensenSearchReport:
    """Run one Jensen search (see :class:`JensenSearch`) and return its report."""
    search = JensenSearch(
        floss, device=device, seed=seed, budget_s=budget_s, max_pairs=max_pairs,
        max_evaluations=max_evaluations, progress=progress,
    )  # fmt: skip
    return search.run()
