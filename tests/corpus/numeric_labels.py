"""Independent numeric check of the curvature labels in ``closed_forms.json``.

This module deliberately shares no code with :mod:`convexcheck`: the corpus strings are trusted
test data, so they are turned into NumPy functions with ``sympy.sympify`` / ``sympy.lambdify``.

For every entry the domain box is sampled (unbounded directions on a bounded sub-box plus some
large-magnitude points; open endpoints are never touched) and Jensen's inequality is tested on
random triples ``(a, b, t)``:

* a claim of convexity (``convex`` / ``affine``) must show no violation
  ``f(t a + (1-t) b) > t f(a) + (1-t) f(b) + tol`` with ``tol = 1e-9 * (1 + max |values|)``;
* a claim of non-convexity (``concave`` / ``neither``) must come with a witness whose relative gap
  exceeds ``1e-6``; the witness is re-evaluated with mpmath at 50 digits before it is accepted;
* concavity is handled symmetrically (by negating the gap).

Run ``python tests/corpus/numeric_labels.py`` to check every entry (exit status 1 on failure).
"""

from __future__ import annotations

import json
import re
import sys
import warnings
import zlib
from fractions import Fraction
from pathlib import Path

import mpmath
import numpy as np
import sympy

CORPUS_PATH = Path(__file__).with_name("closed_forms.json")
LABELS = ("convex", "concave", "affine", "neither")

N_TRIPLES = 20_000
N_LOCAL = 20_000
HOLD_TOL = 1e-9  # relative tolerance for "no violation"
WITNESS_GAP = 1e-6  # relative margin a violation witness must exceed
MP_DIGITS = 50
HUGE = 1e250  # values beyond this are treated like overflow and dropped

FUNCTION_NAMES = (
    "exp",
    "log",
    "sqrt",
    "Abs",
    "Max",
    "Min",
    "sin",
    "cos",
    "tan",
    "tanh",
    "sinh",
    "cosh",
    "atan",
    "Piecewise",
)
CONSTANT_NAMES = ("pi", "E", "True", "False")
RESERVED_NAMES = frozenset(FUNCTION_NAMES + CONSTANT_NAMES)

_TOKEN = re.compile(r"(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|[A-Za-z_][A-Za-z0-9_]*")
_INTERVAL = re.compile(r"^\s*([\[(])\s*([^,\s]+)\s*,\s*([^,\s]+)\s*([\])])\s*$")

NAMED_DOMAINS = {
    "real": (-np.inf, np.inf, False, False),
    "positive": (0.0, np.inf, False, False),
    "nonnegative": (0.0, np.inf, True, False),
    "negative": (-np.inf, 0.0, False, False),
    "nonpositive": (-np.inf, 0.0, False, True),
}


def expression_names(expr: str) -> set[str]:
    """Identifiers in ``expr`` that are neither function names nor constants."""
    names = set()
    for m in _TOKEN.finditer(expr):
        tok = m.group(0)
        if (tok[0].isalpha() or tok[0] == "_") and tok not in RESERVED_NAMES:
            names.add(tok)
    return names


def _endpoint(text: str) -> float:
    t = text.strip().lower()
    if t in ("oo", "+oo", "inf"):
        return np.inf
    if t in ("-oo", "-inf"):
        return -np.inf
    return float(Fraction(t))


def parse_domain(spec: str) -> tuple[float, float, bool, bool]:
    """``(lo, hi, lo_closed, hi_closed)`` for a domain word or interval string."""
    key = spec.strip().lower()
    if key in NAMED_DOMAINS:
        return NAMED_DOMAINS[key]
    m = _INTERVAL.match(spec)
    if not m:
        raise ValueError(f"unknown domain {spec!r}")
    lo, hi = _endpoint(m.group(2)), _endpoint(m.group(3))
    lo_closed = m.group(1) == "[" and np.isfinite(lo)
    hi_closed = m.group(4) == "]" and np.isfinite(hi)
    if not lo < hi:
        raise ValueError(f"empty or degenerate domain {spec!r}")
    return lo, hi, lo_closed, hi_closed


def sample_domain(spec: str, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` points of the domain ``spec``, mixing typical, tiny, large and endpoint values."""
    lo, hi, lo_closed, hi_closed = parse_domain(spec)
    u = rng.random(n)
    if np.isinf(lo) and np.isinf(hi):
        out = rng.uniform(-5.0, 5.0, n)
        sign = np.where(rng.random(n) < 0.5, -1.0, 1.0)
        small = u < 0.15
        out[small] = rng.uniform(-0.5, 0.5, small.sum())
        tiny = (u >= 0.15) & (u < 0.22)
        out[tiny] = sign[tiny] * 10.0 ** rng.uniform(-4, -1, tiny.sum())
        large = u >= 0.87
        out[large] = sign[large] * 10.0 ** rng.uniform(np.log10(5.0), 2, large.sum())
        return out
    if np.isinf(lo) or np.isinf(hi):
        # a half-line: offsets from the finite endpoint, log-uniform in [1e-3, 1e3] mostly
        offset = 10.0 ** rng.uniform(-3, 3, n)
        mid = (u >= 0.7) & (u < 0.9)
        offset[mid] = rng.uniform(0.0, 5.0, mid.sum())
        edge = u >= 0.9
        closed = lo_closed if np.isfinite(lo) else hi_closed
        offset[edge] = 0.0 if closed else 10.0 ** rng.uniform(-6, -3, edge.sum())
        if not closed:
            offset = np.maximum(offset, 1e-6)
        return lo + offset if np.isfinite(lo) else hi - offset
    width = hi - lo
    inset = 1e-7 * width
    a = lo if lo_closed else lo + inset
    b = hi if hi_closed else hi - inset
    out = rng.uniform(a, b, n)
    near = (u >= 0.8) & (u < 0.9)
    k = near.sum()
    side = rng.random(k) < 0.5
    delta = 1e-3 * width * rng.random(k)
    out[near] = np.where(side, a + delta, b - delta)
    ends = u >= 0.9
    out[ends] = np.where(rng.random(ends.sum()) < 0.5, a, b)
    return np.clip(out, a, b)


def _namespace(names: list[str]) -> dict[str, object]:
    ns: dict[str, object] = {
        "exp": sympy.exp,
        "log": sympy.log,
        "sqrt": sympy.sqrt,
        "Abs": sympy.Abs,
        "Max": sympy.Max,
        "Min": sympy.Min,
        "sin": sympy.sin,
        "cos": sympy.cos,
        "tan": sympy.tan,
        "tanh": sympy.tanh,
        "sinh": sympy.sinh,
        "cosh": sympy.cosh,
        "atan": sympy.atan,
        "Piecewise": sympy.Piecewise,
        "pi": sympy.pi,
        "E": sympy.E,
    }
    for name in names:
        ns[name] = sympy.Symbol(name, real=True)
    return ns


class Compiled:
    """An entry turned into vectorised NumPy and scalar mpmath evaluators."""

    def __init__(self, entry: dict) -> None:
        self.names = sorted(entry["vars"])
        self.domains = [entry["vars"][v] for v in self.names]
        ns = _namespace(self.names)
        self.sym = sympy.sympify(entry["expr"], locals=ns)
        symbols = [ns[v] for v in self.names]
        self._np = sympy.lambdify(symbols, self.sym, "numpy")
        self._mp = sympy.lambdify(symbols, self.sym, "mpmath")

    def f(self, pts: np.ndarray) -> np.ndarray:
        """Values at the rows of ``pts`` (shape ``(n, d)``); non-finite where NumPy fails."""
        n = pts.shape[0]
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            val = self._np(*(pts[:, i] for i in range(pts.shape[1])))
        val = np.broadcast_to(np.asarray(val, dtype=complex), (n,))
        real = val.real.astype(float)
        real[np.abs(val.imag) > 0] = np.nan
        return real

    def f_mp(self, point: np.ndarray) -> mpmath.mpf | None:
        """High-precision value at one point, ``None`` when not a finite real number."""
        with mpmath.workdps(MP_DIGITS):
            try:
                val = self._mp(*(mpmath.mpf(float(c)) for c in point))
            except (ValueError, ZeroDivisionError, OverflowError):
                return None
            val = mpmath.mpmathify(val)
            if isinstance(val, mpmath.mpc):
                if abs(val.imag) > mpmath.mpf(10) ** (-MP_DIGITS + 10) * (1 + abs(val.real)):
                    return None
                val = val.real
            if not mpmath.isfinite(val):
                return None
            return val

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        if not self.names:
            return np.zeros((n, 0))
        return np.stack([sample_domain(d, n, rng) for d in self.domains], axis=1)

    def clip(self, pts: np.ndarray) -> np.ndarray:
        out = pts.copy()
        for i, d in enumerate(self.domains):
            lo, hi, _, _ = parse_domain(d)
            out[:, i] = np.clip(out[:, i], lo, hi)
        return out

    def inside(self, pts: np.ndarray) -> np.ndarray:
        ok = np.ones(pts.shape[0], dtype=bool)
        for i, d in enumerate(self.domains):
            lo, hi, lo_closed, hi_closed = parse_domain(d)
            col = pts[:, i]
            ok &= (col >= lo) if lo_closed else (col > lo)
            ok &= (col <= hi) if hi_closed else (col < hi)
        return ok


class Triples:
    """Values on Jensen triples ``(a, b, m = t a + (1-t) b)``, non-finite rows dropped."""

    def __init__(self, comp: Compiled, a: np.ndarray, b: np.ndarray, t: np.ndarray) -> None:
        m = comp.clip(t[:, None] * a + (1 - t[:, None]) * b)
        fa, fb, fm = comp.f(a), comp.f(b), comp.f(m)
        keep = np.ones(len(t), dtype=bool)
        for v in (fa, fb, fm):
            keep &= np.isfinite(v) & (np.abs(v) < HUGE)
        self.a, self.b, self.m, self.t = a[keep], b[keep], m[keep], t[keep]
        self.fa, self.fb, self.fm = fa[keep], fb[keep], fm[keep]
        self.dropped = (~keep).nonzero()[0]
        self.all_a, self.all_b, self.all_m = a, b, m
        self.raw_values = (fa, fb, fm)

    def rel_gap(self, sign: float) -> np.ndarray:
        """Relative Jensen gap; positive means a violation of convexity of ``sign * f``."""
        chord = self.t * self.fa + (1 - self.t) * self.fb
        scale = 1.0 + np.maximum(np.maximum(np.abs(self.fa), np.abs(self.fb)), np.abs(self.fm))
        return sign * (self.fm - chord) / scale


def _seed(entry: dict, salt: str) -> int:
    return zlib.crc32(f"{entry['id']}|{salt}".encode())


def _check_defined(comp: Compiled, tri: Triples) -> str | None:
    """Non-finite NumPy values are allowed only for overflow, not for real undefinedness."""
    bad: list[np.ndarray] = []
    for pts, vals in zip((tri.all_a, tri.all_b, tri.all_m), tri.raw_values, strict=True):
        idx = np.nonzero(~np.isfinite(vals))[0][:10]
        bad.extend(pts[i] for i in idx)
    for p in bad[:20]:
        if comp.f_mp(p) is None:
            return f"not a finite real number at {dict(zip(comp.names, p.tolist(), strict=True))}"
    return None


def _confirm(comp: Compiled, a, b, t: float, sign: float) -> float | None:
    """Relative Jensen gap of ``sign * f`` recomputed with mpmath, or ``None``."""
    m = comp.clip((t * a + (1 - t) * b)[None, :])[0]
    fa, fb, fm = comp.f_mp(a), comp.f_mp(b), comp.f_mp(m)
    if fa is None or fb is None or fm is None:
        return None
    with mpmath.workdps(MP_DIGITS):
        tt = mpmath.mpf(float(t))
        gap = sign * (fm - (tt * fa + (1 - tt) * fb))
        return float(gap / (1 + max(abs(fa), abs(fb), abs(fm))))


def local_triples(comp: Compiled, entry: dict) -> Triples:
    """Short symmetric segments ``p +- h d`` (midpoint ``p``) around many centres ``p``."""
    rng = np.random.default_rng(_seed(entry, "local"))
    d = len(comp.names)
    p = comp.sample(N_LOCAL, rng)
    direction = rng.normal(size=(N_LOCAL, d))
    if d:
        axis = rng.random(N_LOCAL) < 0.3
        direction[axis] = np.eye(d)[rng.integers(0, d, axis.sum())]
    direction /= np.linalg.norm(direction, axis=1, keepdims=True) + 1e-300
    h = 10.0 ** rng.uniform(-3.0, 0.5, N_LOCAL)[:, None]
    a, b = p - h * direction, p + h * direction
    ok = comp.inside(a) & comp.inside(b)
    return Triples(comp, a[ok], b[ok], np.full(int(ok.sum()), 0.5))


def _find_violation(comp: Compiled, groups: list[Triples], sign: float):
    """A confirmed witness that ``sign * f`` is not convex, or ``None``."""
    for tri in groups:
        gap = tri.rel_gap(sign)
        order = np.argsort(gap)[::-1][:5]
        for i in order:
            if not gap[i] > WITNESS_GAP:
                break
            confirmed = _confirm(comp, tri.a[i], tri.b[i], float(tri.t[i]), sign)
            if confirmed is not None and confirmed > WITNESS_GAP:
                return tri.a[i], tri.b[i], float(tri.t[i]), confirmed
    return None


def _fmt(comp: Compiled, p: np.ndarray) -> str:
    return "{" + ", ".join(f"{n}={v:.6g}" for n, v in zip(comp.names, p, strict=True)) + "}"


def verify_entry(entry: dict) -> tuple[bool, str]:
    """Check ``entry['label']`` numerically; ``(ok, message)``."""
    label = entry["label"]
    if label not in LABELS:
        return False, f"unknown label {label!r}"
    try:
        comp = Compiled(entry)
    except Exception as exc:  # pragma: no cover - reported as a failure
        return False, f"cannot compile {entry['expr']!r}: {exc}"
    rng = np.random.default_rng(_seed(entry, "triples"))
    a = comp.sample(N_TRIPLES, rng)
    b = comp.sample(N_TRIPLES, rng)
    t = rng.random(N_TRIPLES)
    tri = Triples(comp, a, b, t)
    loc = local_triples(comp, entry)
    for group in (tri, loc):
        problem = _check_defined(comp, group)
        if problem:
            return False, problem
    if len(tri.t) < N_TRIPLES // 2:
        return False, f"only {len(tri.t)} of {N_TRIPLES} triples evaluate to finite values"

    messages = []
    ok = True
    for sign, kind, claimed in (
        (1.0, "convex", label in ("convex", "affine")),
        (-1.0, "concave", label in ("concave", "affine")),
    ):
        if claimed:
            for group, what in ((tri, "random triples"), (loc, "local segments")):
                gaps = group.rel_gap(sign)
                if gaps.size and gaps.max() > HOLD_TOL:
                    i = int(np.argmax(gaps))
                    ok = False
                    messages.append(
                        f"claimed {kind} but Jensen fails by {gaps[i]:.3g} (relative) at "
                        f"a={_fmt(comp, group.a[i])}, b={_fmt(comp, group.b[i])}, "
                        f"t={group.t[i]:.4g} ({what})"
                    )
                    break
            else:
                messages.append(
                    f"{kind}: no violation in {len(tri.t)} random triples "
                    f"and {len(loc.t)} local segments"
                )
        else:
            found = _find_violation(comp, [tri, loc], sign)
            if found is None:
                ok = False
                messages.append(f"claimed not {kind} but no violation witness was found")
            else:
                wa, wb, wt, gap = found
                messages.append(
                    f"not {kind}: a={_fmt(comp, wa)}, b={_fmt(comp, wb)}, t={wt:.4g}, gap={gap:.3g}"
                )
    return ok, "; ".join(messages)


def load_corpus(path: Path = CORPUS_PATH) -> list[dict]:
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    verbose = "-v" in argv
    entries = load_corpus()
    failures = 0
    counts = dict.fromkeys(LABELS, 0)
    for entry in entries:
        ok, msg = verify_entry(entry)
        counts[entry["label"]] = counts.get(entry["label"], 0) + 1
        if not ok:
            failures += 1
            print(f"FAIL {entry['id']}: {entry['expr']} [{entry['label']}]\n    {msg}")
        elif verbose:
            print(f"ok   {entry['id']}: {msg}")
    summary = ", ".join(f"{k}={v}" for k, v in counts.items())
    print(f"{len(entries)} entries ({summary}); {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())


def label_truth(label: str) -> dict[str, bool]:
    """Which questions a label answers yes: ``{"convex": ..., "concave": ...}``."""
    return {"convex": label in ("convex", "affine"), "concave": label in ("concave", "affine")}


def contradictions(entry: dict, result) -> list[str]:
    """The settled answers of ``result`` that contradict ``entry``'s label (a ``yes`` where the
    label says no, a ``no`` where it says yes), one line each; ``unknown`` never contradicts."""
    truth = label_truth(entry["label"])
    out = []
    for q in ("convex", "concave"):
        answer = getattr(result, q).answer
        if (answer == "yes" and not truth[q]) or (answer == "no" and truth[q]):
            out.append(f"{entry['id']}: {entry['expr']} {q}={answer} but label={entry['label']}")
    return out
