"""Every row of the tensor atom table against independent numerics.

A row of :data:`convexcheck.tensor.atoms.ROWS` declares facts (shape, curvature, per-entry
monotonicity, an interval enclosure, a batched NumPy evaluation, a domain). A wrong fact is a
wrong certificate, so each row is built here over small random shapes (scalar, vector, matrix
where the row allows) and random argument boxes (nonnegative, nonpositive, mixed, open, narrow,
one-point, unbounded; per entry or uniform), and checked against numerics that share no code
with the engine:

* ``interval`` encloses the NumPy value at random points of the boxes (open ends respected),
  and at one-point boxes it encloses a high-precision mpmath value;
* ``numpy`` equals a straightforward NumPy/SciPy reference and CVXPY's own ``.value`` for the
  corresponding CVXPY atom (batched, with a batch size equal to an entry count on purpose);
* a declared curvature survives random and nearby midpoint pairs inside the boxes (per entry,
  no violation beyond 1e-9 relative);
* a declared INC (DEC) bit for entry j of argument i survives moving that entry up within its
  box: no output entry decreases (increases) beyond rounding;
* ``domain`` returning ``None`` means NumPy values at points of the boxes are finite.

Cases that once exercised an engine bug (now fixed) carry a one-line note naming it
(:data:`REGRESSIONS`): they run through every check like any other case, and once more through
the check that used to fail. A newly found engine bug would be a case with ``bug`` set (strict
xfail, :data:`KNOWN_BUGS`), so a fix turns it into a failure that asks for the mark to go.

The rows with CVXPY's domains (``power`` with params ``(p, "cvxpy")``, ``xexp`` with
``("cvxpy",)``: defined on x >= 0, x > 0 for p < 0, unless p is an even integer) are checked on
their domain, and ``domain`` must reject boxes leaving it (their NumPy evaluation is NaN there).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import mpmath
import numpy as np
import pytest
import scipy.special as sp

from convexcheck.tensor.atoms import ROWS, make
from convexcheck.tensor.elementwise import DEC, INC
from convexcheck.tensor.expr import TExpr, constant, variable
from convexcheck.tensor.intervals import IArray
from convexcheck.tensor.matrix_points import MATRIX_ROWS, enclose_matrix_atom

cp = pytest.importorskip("cvxpy")

INF = math.inf
REL = 1e-9  # relative slack for curvature and monotonicity (rounding only)
N_CASES = 30  # random cases per row (plus the fixed ones)
N_POINTS = 40  # points per case for enclosures and domains
N_PAIRS = 48  # midpoint pairs per case
MP_PREC = 300  # bits for the high-precision references (products of floats stay exact)

# ---- boxes ----------------------------------------------------------------------------------
BoxKind = str


def _box(kind: BoxKind, rng: np.random.Generator) -> tuple[float, float, bool, bool]:
    """One entry's interval ``(lo, hi, lo_open, hi_open)`` of the given kind."""
    a, b = sorted(float(v) for v in rng.uniform(0.05, 4.0, 2))
    c = float(rng.uniform(-4.0, 4.0))
    table = {
        "real": (-INF, INF, True, True),
        "nonneg": (0.0, INF, False, True),
        "pos": (0.0, INF, True, True),
        "nonpos": (-INF, 0.0, True, False),
        "neg": (-INF, 0.0, True, True),
        "mixed": (-a, b, False, False),
        "posbox": (a, b, False, False),
        "negbox": (-b, -a, False, False),
        "open": (c - a, c + a, True, True),
        "open_pos": (a, b + 0.1, True, True),
        "narrow": (c, c + 1e-6 * (1 + abs(c)), False, False),
        "narrow_pos": (a, a * (1 + 1e-7), False, False),
        "narrow_neg": (-a * (1 + 1e-7), -a, False, False),
        "point": (c, c, False, False),
        "point_pos": (a, a, False, False),
        "point_neg": (-a, -a, False, False),
        "point_zero": (0.0, 0.0, False, False),
        "one": (1.0, 1.0, False, False),
        "zero_closed": (0.0, b, False, False),
        "zero_open": (0.0, b, True, False),
        "to_zero": (-b, 0.0, False, False),
        "to_zero_open": (-b, 0.0, False, True),
        "half_pos": (a, INF, False, True),
        "half_neg": (-INF, -a, True, False),
    }
    return table[kind]


POS = ("pos", "posbox", "open_pos", "narrow_pos", "point_pos", "one", "zero_open", "half_pos")
NONNEG = (*POS, "nonneg", "zero_closed", "point_zero")
NEGATIVE = ("neg", "negbox", "narrow_neg", "point_neg", "to_zero_open", "half_neg")
NONZERO = POS + NEGATIVE
ANY = (
    *NONNEG,
    *NEGATIVE,
    "real",
    "nonpos",
    "mixed",
    "open",
    "narrow",
    "point",
    "to_zero",
)
BOUNDED = tuple(
    k for k in ANY if k not in ("real", "nonneg", "pos", "nonpos", "neg", "half_pos", "half_neg")
)


@dataclass
class Maker:
    """Builds the argument nodes of one case (fresh, uniquely named variables)."""

    rng: np.random.Generator
    count: int = 0

    def var(self, shape: tuple[int, ...], kinds: tuple[str, ...] = ANY, **attrs: Any) -> TExpr:
        self.count += 1
        name = f"v{self.count}"
        if attrs.get("psd"):
            return variable(name, shape, psd=True)
        n = int(np.prod(shape)) if shape else 1
        uniform = self.rng.random() < 0.5 or attrs.get("symmetric")
        picks = (
            [kinds[int(self.rng.integers(len(kinds)))]] * n
            if uniform
            else [kinds[int(k)] for k in self.rng.integers(len(kinds), size=n)]
        )
        if uniform:  # one box for every entry
            ends = [_box(picks[0], self.rng)] * n
        else:
            ends = [_box(k, self.rng) for k in picks]
        lo, hi, lo_open, hi_open = (np.array([e[i] for e in ends]).reshape(shape) for i in range(4))
        return variable(
            name,
            shape,
            lo=lo,
            hi=hi,
            lo_open=lo_open.astype(bool),
            hi_open=hi_open.astype(bool),
            **attrs,
        )

    def const(self, shape: tuple[int, ...], sign: str = "mixed", integer: bool = False) -> TExpr:
        if integer:
            v = self.rng.integers(-3, 4, size=shape).astype(float)
        else:
            v = self.rng.normal(size=shape) * float(self.rng.choice([0.5, 1.0, 3.0]))
            v = np.where(self.rng.random(shape) < 0.15, 0.0, v)
        if sign == "nonneg":
            v = np.abs(v)
        elif sign == "nonpos":
            v = -np.abs(v)
        elif sign == "pos":
            v = np.abs(v) + 0.25
        return constant(np.asarray(v, dtype=float))

    def shape(self, ndim_choices=(0, 1, 2)) -> tuple[int, ...]:
        ndim = int(self.rng.choice(ndim_choices))
        return tuple(int(s) for s in self.rng.integers(1, 4, size=ndim))


@dataclass
class Case:
    node: TExpr
    label: str
    bug: tuple[str, str] | None = None  # (check, reason): the check fails because of an engine bug
    fixed: tuple[str, str] | None = None  # (check, bug): a regression case for a fixed engine bug


@dataclass
class Spec:
    """How to build and how to judge one row."""

    cases: Callable[[Maker], list[Case]]
    ref: Callable[[TExpr, list[np.ndarray]], np.ndarray]  # float64 reference at one point
    cvxpy: Callable[[TExpr, list[np.ndarray]], Any] | None = None  # CVXPY expression at a point
    mp: Callable[[TExpr, list[np.ndarray]], np.ndarray] | None = None  # mpf values (required)
    fixed: Callable[[Maker], list[Case]] = field(default=lambda m: [])


SPECS: dict[str, Spec] = {}


def spec(name: str, **kw: Any) -> None:
    SPECS[name] = Spec(**kw)


def _repeat(fn: Callable[[Maker], Case | list[Case]]) -> Callable[[Maker], list[Case]]:
    def many(m: Maker) -> list[Case]:
        out: list[Case] = []
        for _ in range(N_CASES):
            got = fn(m)
            out.extend(got if isinstance(got, list) else [got])
        return out

    return many


def C(value: Any) -> Any:  # a CVXPY constant
    return cp.Constant(np.asarray(value, dtype=float))


# ---- high precision helpers -----------------------------------------------------------------
def _mp(x: np.ndarray) -> np.ndarray:
    return np.vectorize(mpmath.mpf, otypes=[object])(np.asarray(x, dtype=float))


def _mpmap(fn: Callable[..., Any], *xs: np.ndarray) -> np.ndarray:
    arrays = np.broadcast_arrays(*(np.asarray(x, dtype=float) for x in xs))
    return np.vectorize(lambda *v: fn(*(mpmath.mpf(t) for t in v)), otypes=[object])(*arrays)


def _mp_power(x: Any, p: Fraction) -> Any:
    if p.denominator == 1:
        return x ** int(p)
    if x == 0:
        return mpmath.mpf(0)
    return mpmath.power(x, mpmath.mpf(p.numerator) / p.denominator)


def _mixed_ndim(op: str, kinds: tuple[str, ...]) -> Callable[[Maker], list[Case]]:
    fixed = (
        "numpy",
        f"fixed: the {op} row broadcast batched arguments of different rank with plain NumPy "
        "broadcasting, aligning the batch axis of the lower-rank argument with an entry axis",
    )
    return lambda m: [
        Case(make(op, [m.var((3,), kinds), m.var((), kinds)]), f"{op} (3,) with ()", fixed=fixed),
        Case(
            make(op, [m.var((2, 3), kinds), m.var((3,), kinds)]),
            f"{op} (2,3) with (3,)",
            fixed=fixed,
        ),
    ]


# ---- affine rows ------------------------------------------------------------------------------
def _broadcast_shapes_for(m: Maker, out: tuple[int, ...]) -> tuple[int, ...]:
    """A shape that broadcasts to ``out`` (a suffix, with some axes set to 1)."""
    k = int(m.rng.integers(0, len(out) + 1))
    tail = out[len(out) - k :]
    return tuple(1 if m.rng.random() < 0.3 else s for s in tail)


def _same_ndim(m: Maker, out: tuple[int, ...]) -> tuple[int, ...]:
    """A shape of ``out``'s ndim that broadcasts to it (some axes set to 1)."""
    return tuple(1 if m.rng.random() < 0.3 else s for s in out)


def _add_case(m: Maker) -> Case:
    # variables of a lower ndim than the result too (the fixed bug of _mixed_ndim)
    out = m.shape()
    args = []
    for i in range(int(m.rng.integers(2, 4))):
        if i == 0 or m.rng.random() < 0.5:
            shape = (
                out
                if i == 0
                else (_same_ndim if m.rng.random() < 0.5 else _broadcast_shapes_for)(m, out)
            )
            args.append(m.var(shape))
        else:
            args.append(m.const(_broadcast_shapes_for(m, out)))
    return Case(make("add", args), "add")


spec(
    "add",
    cases=_repeat(_add_case),
    ref=lambda n, v: sum(v[1:], start=np.asarray(v[0])),
    cvxpy=lambda n, v: sum((C(x) for x in v[1:]), start=C(v[0])),
    mp=lambda n, v: sum((_mp(x) for x in v[1:]), start=_mp(v[0])),
    fixed=_mixed_ndim("add", ANY),
)
spec(
    "neg",
    cases=_repeat(lambda m: Case(make("neg", [m.var(m.shape())]), "neg")),
    ref=lambda n, v: -v[0],
    cvxpy=lambda n, v: -C(v[0]),
    mp=lambda n, v: -_mp(v[0]),
)


def _multiply_case(m: Maker) -> Case:
    out = m.shape()
    other = _broadcast_shapes_for(m, out)
    x = m.var(out)
    kind = m.rng.integers(3)
    if kind == 0:
        y = m.const(other, str(m.rng.choice(["mixed", "nonneg", "nonpos", "pos"])))
    elif kind == 1:
        # a product of two variables (not affine; monotone by the other's sign), of any rank
        y = m.var((_same_ndim if m.rng.random() < 0.5 else _broadcast_shapes_for)(m, out))
    else:
        y = m.const(())
    args = [x, y] if m.rng.random() < 0.5 else [y, x]
    return Case(make("multiply", args), "multiply")


spec(
    "multiply",
    cases=_repeat(_multiply_case),
    ref=lambda n, v: np.multiply(v[0], v[1]),
    cvxpy=lambda n, v: cp.multiply(C(v[0]), C(v[1])),
    mp=lambda n, v: _mp(v[0]) * _mp(v[1]),
    fixed=_mixed_ndim("multiply", ANY),
)


def _divide_case(m: Maker) -> Case:
    out = m.shape()
    kind = m.rng.integers(3)
    if kind == 0:
        den = m.const(_broadcast_shapes_for(m, out), "pos")
        if m.rng.random() < 0.5:
            den = constant(-den.value)
        return Case(make("divide", [m.var(out), den]), "var / const")
    if kind == 1:
        den_shape = out if m.rng.random() < 0.5 else _broadcast_shapes_for(m, out)
        return Case(
            make(
                "divide",
                [m.var(out), m.var(den_shape, POS if m.rng.random() < 0.5 else NEGATIVE)],
            ),
            "var / var",
        )
    return Case(
        make("divide", [m.const(out), m.var(out, ("posbox", "negbox", "half_pos", "pos"))]),
        "const / var",
    )


spec(
    "divide",
    cases=_repeat(_divide_case),
    ref=lambda n, v: np.divide(v[0], v[1]),
    cvxpy=lambda n, v: C(v[0]) / C(v[1]),
    mp=lambda n, v: _mp(v[0]) / _mp(v[1]),
    fixed=_mixed_ndim("divide", POS),
)


def _matmul_case(m: Maker) -> Case:
    k, p, q = (int(s) for s in m.rng.integers(1, 4, size=3))
    forms = [((p, k), (k,)), ((p, k), (k, q)), ((k,), (k, q)), ((k,), (k,))]
    sa, sb = forms[int(m.rng.integers(len(forms)))]
    which = int(m.rng.integers(3))  # 0: const @ var, 1: var @ const, 2: var @ var
    sign = str(m.rng.choice(["mixed", "nonneg", "nonpos"]))
    a = m.const(sa, sign) if which == 0 else m.var(sa)
    b = m.const(sb, sign) if which == 1 else m.var(sb)
    return Case(make("matmul", [a, b]), f"matmul {sa}@{sb}")


spec(
    "matmul",
    cases=_repeat(_matmul_case),
    ref=lambda n, v: np.asarray(np.matmul(v[0], v[1])),
    cvxpy=lambda n, v: C(v[0]) @ C(v[1]),
    mp=lambda n, v: np.asarray(np.matmul(_mp(v[0]), _mp(v[1])), dtype=object),
)


def _axis_params(m: Maker, shape: tuple[int, ...], allow_keep: bool = True) -> tuple:
    choices: list[Any] = [None] + list(range(len(shape))) + ([-1] if shape else [])
    axis = choices[int(m.rng.integers(len(choices)))]
    keep = bool(m.rng.random() < 0.4) and allow_keep
    return (axis, keep) if (axis is not None or keep or m.rng.random() < 0.5) else ()


def _axis_of(n: TExpr) -> tuple[Any, bool]:
    return (n.params[0] if n.params else None), (bool(n.params[1]) if len(n.params) > 1 else False)


spec(
    "sum",
    cases=_repeat(
        lambda m: (lambda x: Case(make("sum", [x], _axis_params(m, x.shape)), "sum"))(
            m.var(m.shape())
        )
    ),
    ref=lambda n, v: np.asarray(np.sum(v[0], axis=_axis_of(n)[0], keepdims=_axis_of(n)[1])),
    cvxpy=lambda n, v: cp.sum(C(v[0]), axis=_axis_of(n)[0], keepdims=_axis_of(n)[1]),
    mp=lambda n, v: np.asarray(
        np.sum(_mp(v[0]), axis=_axis_of(n)[0], keepdims=_axis_of(n)[1]), dtype=object
    ),
)


def _cumsum_case(m: Maker) -> Case:
    shape = m.shape((1, 2))
    axis = int(m.rng.integers(-len(shape), len(shape)))  # negative axes too
    return Case(make("cumsum", [m.var(shape)], (axis,)), f"cumsum axis {axis}")


spec(
    "cumsum",
    cases=_repeat(_cumsum_case),
    ref=lambda n, v: np.cumsum(v[0], axis=n.params[0]),
    cvxpy=lambda n, v: cp.cumsum(C(v[0]), axis=n.params[0] % v[0].ndim),
    mp=lambda n, v: np.cumsum(_mp(v[0]), axis=n.params[0]),
    fixed=lambda m: [
        Case(
            make("cumsum", [m.var((2, 3))], (-1,)),
            "cumsum axis -1",
            # fixed: axis -1 was evaluated as np.cumsum(x, axis=-1 + 1), over the batch axis
            fixed=("numpy", "fixed: cumsum axis -1 summed over the batch axis"),
        )
    ],
)


def _index_keys(shape: tuple[int, ...]) -> list[Any]:
    if len(shape) == 1:
        n = shape[0]
        return [
            0,
            -1,
            slice(None, None, -1),
            slice(n - 1, None, -1) if n == 1 else slice(n - 1, 0, -1),  # never empty
            slice(None, None, 2),
            np.array([0, n - 1, 0]),
        ]
    m, n = shape
    return [
        (0, slice(None)),
        (-1, slice(None, None, -1)),
        (slice(None, None, -1), slice(n - 1, None, -2)),
        (np.array([m - 1, 0]), np.array([0, n - 1])),
        np.array([m - 1, 0, m - 1]),
        np.arange(m * n).reshape(shape) % 2 == 0,
    ]


def _index_case(m: Maker) -> list[Case]:
    shape = m.shape((1, 2))
    x = m.var(shape)
    return [Case(make("index", [x], (key,)), f"index {key!r}") for key in _index_keys(shape)]


spec(
    "index",
    cases=lambda m: [c for _ in range(4) for c in _index_case(m)],
    ref=lambda n, v: np.asarray(v[0][n.params[0]]),
    cvxpy=lambda n, v: C(v[0])[n.params[0]],
    mp=lambda n, v: np.asarray(_mp(v[0])[n.params[0]], dtype=object),
)


def _reshape_case(m: Maker) -> Case:
    shape = m.shape((1, 2))
    size = int(np.prod(shape))
    targets = [(size,), (1, size), (size, 1)] + ([(shape[1], shape[0])] if len(shape) == 2 else [])
    target = targets[int(m.rng.integers(len(targets)))]
    order = str(m.rng.choice(["C", "F"]))
    return Case(make("reshape", [m.var(shape)], (target, order)), f"reshape {order}")


spec(
    "reshape",
    cases=_repeat(_reshape_case),
    ref=lambda n, v: np.reshape(v[0], n.params[0], order=n.params[1]),
    cvxpy=lambda n, v: cp.reshape(C(v[0]), n.params[0], order=n.params[1]),
    mp=lambda n, v: np.reshape(_mp(v[0]), n.params[0], order=n.params[1]),
)
spec(
    "transpose",
    cases=_repeat(lambda m: Case(make("transpose", [m.var(m.shape((1, 2)))]), "transpose")),
    ref=lambda n, v: np.transpose(v[0]),
    cvxpy=lambda n, v: C(v[0]).T,
    mp=lambda n, v: np.transpose(_mp(v[0])),
)


def _permute_case(m: Maker) -> Case:
    shape = m.shape((1, 3))
    axes = tuple(int(a) for a in m.rng.permutation(len(shape)))
    return Case(make("permute", [m.var(shape)], (axes,)), f"permute {axes}")


spec(
    "permute",
    cases=_repeat(_permute_case),
    ref=lambda n, v: np.transpose(v[0], n.params[0]),
    cvxpy=lambda n, v: cp.transpose(C(v[0]), n.params[0]) if np.ndim(v[0]) > 1 else C(v[0]),
    mp=lambda n, v: np.transpose(_mp(v[0]), n.params[0]),
)


def _promote_case(m: Maker) -> Case:
    forms = [
        ((), (3,)),
        ((), (2, 3)),
        ((1,), (3,)),
        ((3,), (2, 3)),
        ((2, 1), (2, 3)),
        ((1, 1), (2, 2)),
    ]
    src, dst = forms[int(m.rng.integers(len(forms)))]
    return Case(make("promote", [m.var(src)], (dst,)), f"promote {src}->{dst}")


spec(
    "promote",
    cases=_repeat(_promote_case),
    ref=lambda n, v: np.broadcast_to(v[0], n.params[0]),
    cvxpy=lambda n, v: cp.broadcast_to(C(v[0]), n.params[0]),
    mp=lambda n, v: np.broadcast_to(_mp(v[0]), n.params[0]),
)


def _concat_case(m: Maker, axis: int | None = None) -> Case:
    ndim = int(m.rng.integers(1, 3))
    axis = int(m.rng.integers(-ndim, ndim)) if axis is None else axis  # negative axes too
    base = [int(s) for s in m.rng.integers(1, 4, size=ndim)]
    args = []
    for i in range(int(m.rng.integers(1, 4))):
        shape = list(base)
        shape[axis] = int(m.rng.integers(1, 3))
        # constant parts too (the fixed bug CONCAT_CONSTANT), never only constants
        if i > 0 and m.rng.random() < 0.3:
            args.append(m.const(tuple(shape)))
        else:
            args.append(m.var(tuple(shape)))
    if m.rng.random() < 0.5:
        args.reverse()
    return Case(make("concatenate", args, (axis,)), f"concatenate axis {axis}")


# fixed: np.concatenate on batched arguments where a constant has batch size 1 raised
CONCAT_CONSTANT = ("numpy", "fixed: concatenate with a constant part raised for batches B > 1")


spec(
    "concatenate",
    cases=_repeat(_concat_case),
    ref=lambda n, v: np.concatenate(v, axis=n.params[0]),
    cvxpy=lambda n, v: cp.concatenate([C(x) for x in v], axis=n.params[0] % v[0].ndim),
    mp=lambda n, v: np.concatenate([_mp(x) for x in v], axis=n.params[0]),
    fixed=lambda m: [
        Case(
            make("concatenate", [m.var((2, 2)), m.var((2, 1))], (-1,)),
            "concatenate axis -1",
            # fixed: axis -1 was evaluated as np.concatenate(xs, axis=-1 + 1), the batch axis
            fixed=("numpy", "fixed: concatenate axis -1 joined along the batch axis"),
        ),
        Case(
            make("concatenate", [m.var((3,)), m.const((2,))], (0,)),
            "concatenate var, const",
            fixed=CONCAT_CONSTANT,
        ),
        Case(
            make("concatenate", [m.const((1, 2)), m.var((2, 2))], (0,)),
            "concatenate const, var",
            fixed=CONCAT_CONSTANT,
        ),
    ],
)
spec(
    "diag_vec",
    cases=_repeat(
        lambda m: Case(make("diag_vec", [m.var((int(m.rng.integers(1, 4)),))]), "diag_vec")
    ),
    ref=lambda n, v: np.diag(v[0]),
    cvxpy=lambda n, v: cp.diag(C(v[0])),
    mp=lambda n, v: _mp(np.diag(v[0])),
)


def _square(m: Maker, kinds: tuple[str, ...] = ANY) -> TExpr:
    k = int(m.rng.integers(1, 4))
    return m.var((k, k), kinds)


spec(
    "diag_mat",
    cases=_repeat(lambda m: Case(make("diag_mat", [_square(m)]), "diag_mat")),
    ref=lambda n, v: np.diag(v[0]).copy(),
    cvxpy=lambda n, v: cp.diag(C(v[0])),
    mp=lambda n, v: _mp(np.diag(v[0]).copy()),
)
spec(
    "trace",
    cases=_repeat(lambda m: Case(make("trace", [_square(m)]), "trace")),
    ref=lambda n, v: np.asarray(np.trace(v[0])),
    cvxpy=lambda n, v: cp.trace(C(v[0])),
    mp=lambda n, v: np.asarray(sum(_mp(np.diag(v[0]))), dtype=object),
)


def _conv_case(m: Maker) -> Case:
    kernel = m.const((int(m.rng.integers(1, 4)),), str(m.rng.choice(["mixed", "nonneg", "nonpos"])))
    return Case(make("conv", [kernel, m.var((int(m.rng.integers(1, 5)),))]), "conv")


def _mp_convolve(c: np.ndarray, x: np.ndarray) -> np.ndarray:
    out = np.array([mpmath.mpf(0)] * (len(c) + len(x) - 1), dtype=object)
    for i, ci in enumerate(c):
        for j, xj in enumerate(x):
            out[i + j] += mpmath.mpf(float(ci)) * mpmath.mpf(float(xj))
    return out


spec(
    "conv",
    cases=_repeat(_conv_case),
    ref=lambda n, v: np.convolve(v[0], v[1]),
    cvxpy=lambda n, v: cp.convolve(C(v[0]), C(v[1])),
    mp=lambda n, v: _mp_convolve(v[0], v[1]),
)


def _kron_case(m: Maker) -> Case:
    sa = tuple(int(s) for s in m.rng.integers(1, 3, size=2))
    sb = tuple(int(s) for s in m.rng.integers(1, 3, size=2))
    sign = str(m.rng.choice(["mixed", "nonneg", "nonpos"]))
    if m.rng.random() < 0.5:
        return Case(make("kron", [m.const(sa, sign), m.var(sb)]), "kron const, var")
    return Case(make("kron", [m.var(sa), m.const(sb, sign)]), "kron var, const")


spec(
    "kron",
    cases=_repeat(_kron_case),
    ref=lambda n, v: np.kron(v[0], v[1]),
    cvxpy=lambda n, v: cp.kron(C(v[0]), C(v[1])),
    mp=lambda n, v: np.kron(_mp(v[0]), _mp(v[1])),
)


def _boundary_cases(op: str, boxes: list[tuple[float, float]], params: tuple = ()):
    """Boxes that start or end exactly on a piece boundary of the row's facts."""

    def build(m: Maker) -> list[Case]:
        out = []
        for lo, hi in boxes:
            m.count += 1
            x = variable(f"b{m.count}", (2,), lo=lo, hi=hi)
            out.append(Case(make(op, [x], params), f"{op} on [{lo}, {hi}]"))
        return out

    return build


# ---- elementwise rows -------------------------------------------------------------------------
def _unary(op: str, kinds: tuple[str, ...], params: Callable[[Maker], tuple] = lambda m: ()):
    return _repeat(lambda m: Case(make(op, [m.var(m.shape(), kinds)], params(m)), op))


def _logistic_ref(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=float)
    with np.errstate(over="ignore"):
        return np.where(x > 0, x + np.log1p(np.exp(-np.abs(x))), np.log1p(np.exp(np.minimum(x, 0))))


spec(
    "exp",
    cases=_unary("exp", ANY),
    ref=lambda n, v: np.exp(v[0]),
    cvxpy=lambda n, v: cp.exp(C(v[0])),
    mp=lambda n, v: _mpmap(mpmath.exp, v[0]),
)
spec(
    "log",
    cases=_unary("log", POS),
    ref=lambda n, v: np.log(v[0]),
    cvxpy=lambda n, v: cp.log(C(v[0])),
    mp=lambda n, v: _mpmap(mpmath.log, v[0]),
)
spec(
    "abs",
    fixed=_boundary_cases("abs", [(0.0, 2.0), (-2.0, 0.0), (0.0, INF), (-INF, 0.0)]),
    cases=_unary("abs", ANY),
    ref=lambda n, v: np.abs(v[0]),
    cvxpy=lambda n, v: cp.abs(C(v[0])),
    mp=lambda n, v: _mpmap(abs, v[0]),
)
spec(
    "logistic",
    cases=_unary("logistic", ANY),
    ref=lambda n, v: _logistic_ref(v[0]),
    cvxpy=lambda n, v: cp.logistic(C(v[0])),
    mp=lambda n, v: _mpmap(lambda t: mpmath.log1p(mpmath.exp(t)), v[0]),
)
spec(
    "xlogx",
    cases=_unary("xlogx", NONNEG),
    ref=lambda n, v: sp.xlogy(v[0], v[0]),
    cvxpy=lambda n, v: -cp.entr(C(v[0])),
    mp=lambda n, v: _mpmap(lambda t: mpmath.mpf(0) if t == 0 else t * mpmath.log(t), v[0]),
)


def _xexp_fixed(m: Maker) -> list[Case]:
    boxes = [(-2.0, -1.0), (-1.0, 0.0), (-INF, -2.0), (-2.0, 3.0), (-INF, -1.0), (-3.0, -2.0)]
    cvxpy = [  # CVXPY's xexp (params ("cvxpy",)) on its domain x >= 0
        Case(make("xexp", [m.var(m.shape(), NONNEG)], ("cvxpy",)), "cvxpy xexp") for _ in range(8)
    ]
    return _boundary_cases("xexp", boxes)(m) + cvxpy


spec(
    "xexp",
    fixed=_xexp_fixed,
    cases=_unary("xexp", ANY),
    ref=lambda n, v: v[0] * np.exp(v[0]),
    cvxpy=lambda n, v: cp.xexp(C(v[0])),
    mp=lambda n, v: _mpmap(lambda t: t * mpmath.exp(t), v[0]),
)

# Exponents, binary fractions or not: 1/3, 2/3 and -1/3 are back (the fixed bug NON_DYADIC).
EXPONENTS = [Fraction(p) for p in (2, 3, 4, 5, -1, -2, -3)] + [
    Fraction(1, 2),
    Fraction(3, 2),
    Fraction(5, 2),
    Fraction(-1, 2),
    Fraction(7, 4),
    Fraction(-3, 4),
    Fraction(1, 3),
    Fraction(2, 3),
    Fraction(-1, 3),
]
# fixed: u**p for p not a binary fraction was enclosed from np.power(u, float(p)), float(p) != p
NON_DYADIC = ("enclosure", "fixed: p or 1/p not a binary fraction enclosed from float(p)")


def _non_dyadic(m: Maker) -> list[Case]:
    out = []
    for p in (Fraction(1, 3), Fraction(2, 3), Fraction(-1, 3)):
        m.count += 1
        x = variable(f"nd{m.count}", (3,), lo=[1e-300, 1.1e-7, 1e299], hi=[2e-300, 1.2e-7, 1e300])
        out.append(
            Case(make("power", [x], (p,)), f"power {p} at extreme magnitudes", fixed=NON_DYADIC)
        )
    return out


# fixed: a negative odd power on a box ending at 0 from the left was enclosed in [1.8e308, inf)
POWER_POLE = ("enclosure", "fixed: negative odd power at the pole 0 from the left")


def _power_pole(m: Maker) -> list[Case]:
    boundary = [
        c
        for p, boxes in (
            (Fraction(3), [(0.0, 2.0), (-2.0, 0.0), (-INF, 0.0)]),
            (Fraction(2), [(0.0, INF), (-INF, 0.0)]),
            (Fraction(1, 2), [(0.0, 1.0), (0.0, INF)]),
            (Fraction(-2), [(1.0, INF), (-INF, -1.0)]),
            (Fraction(-1), [(1.0, INF), (-INF, -1.0)]),
        )
        for c in _boundary_cases("power", boxes, (p,))(m)
    ]
    return (
        _non_dyadic(m)
        + boundary
        + [
            Case(
                make("power", [variable("pn1", (), hi=0.0, hi_open=True)], (Fraction(-1),)),
                "power -1 on (-oo, 0)",
                fixed=POWER_POLE,
            ),
            Case(
                make(
                    "power", [variable("pn3", (2,), lo=-3.0, hi=0.0, hi_open=True)], (Fraction(-3),)
                ),
                "power -3 on [-3, 0)",
                fixed=POWER_POLE,
            ),
        ]
        + _cvxpy_power_cases(m)
    )


def _power_kinds(m: Maker, p: Fraction) -> tuple[str, ...]:
    if p.denominator == 1 and p > 0:
        return ANY
    if p.denominator == 1:  # boxes ending at the pole 0 from the left too (POWER_POLE)
        return NONZERO if m.rng.random() < 0.5 else NEGATIVE
    return NONNEG if p > 0 else POS


def _power_case(m: Maker) -> Case:
    p = EXPONENTS[int(m.rng.integers(len(EXPONENTS)))]
    return Case(make("power", [m.var(m.shape(), _power_kinds(m, p))], (p,)), f"power {p}")


def _cvxpy_power_cases(m: Maker) -> list[Case]:
    """CVXPY's power (params ``(p, "cvxpy")``) on its domain: x >= 0 (x > 0 for p < 0), all
    reals for an even integer p."""
    out = []
    for p in EXPONENTS:
        even = p.denominator == 1 and p > 0 and p.numerator % 2 == 0
        for _ in range(2):
            kinds = ANY if even else (NONNEG if p > 0 else POS)
            x = m.var(m.shape(), kinds)
            out.append(Case(make("power", [x], (p, "cvxpy")), f"cvxpy power {p}"))
    return out


def _power_ref(x: np.ndarray, p: Fraction) -> np.ndarray:
    if p.denominator == 1:
        return np.asarray(x, dtype=float) ** int(p)
    with np.errstate(divide="ignore"):
        return np.where(
            x == 0, 0.0 if p > 0 else np.inf, np.exp(float(p) * np.log(np.where(x > 0, x, 1.0)))
        )


spec(
    "power",
    cases=_repeat(_power_case),
    ref=lambda n, v: _power_ref(v[0], Fraction(n.params[0])),
    cvxpy=lambda n, v: cp.power(C(v[0]), float(Fraction(n.params[0]))),
    mp=lambda n, v: _mpmap(lambda t: _mp_power(t, Fraction(n.params[0])), v[0]),
    fixed=_power_pole,
)
spec(
    "huber",
    fixed=_boundary_cases(
        "huber", [(0.0, 1.0), (-1.0, 0.0), (1.0, 3.0), (-3.0, -1.0), (-1.0, 1.0)], (1.0,)
    ),
    cases=_unary("huber", ANY, lambda m: (float(m.rng.choice([0.5, 1.0, 2.0])),)),
    ref=lambda n, v: 2 * sp.huber(n.params[0], v[0]),
    cvxpy=lambda n, v: cp.huber(C(v[0]), n.params[0]),
    mp=lambda n, v: _mpmap(
        lambda t: (
            t * t
            if abs(t) <= n.params[0]
            else 2 * n.params[0] * abs(t) - mpmath.mpf(n.params[0]) ** 2
        ),
        v[0],
    ),
)


def _nary_same_shape(
    op: str, kinds_of: Callable[[int], tuple[str, ...]], count: tuple[int, int] = (2, 4)
):
    """``op`` of variables of one shape and constants of any shape broadcasting to it."""

    def one(m: Maker) -> Case:
        out = m.shape()
        args = []
        for i in range(int(m.rng.integers(*count))):
            if i == 0 or m.rng.random() < 0.6:  # later variables may have a lower rank
                shape = out if i == 0 or m.rng.random() < 0.5 else _broadcast_shapes_for(m, out)
                args.append(m.var(shape, kinds_of(i)))
            else:
                c = m.const(_broadcast_shapes_for(m, out), "pos" if kinds_of(i) == POS else "mixed")
                args.append(c)
        return Case(make(op, args), op)

    return _repeat(one)


spec(
    "maximum",
    cases=_nary_same_shape("maximum", lambda i: ANY),
    ref=lambda n, v: np.maximum.reduce(np.broadcast_arrays(*v)),
    cvxpy=lambda n, v: cp.maximum(*(C(x) for x in v)),
    mp=lambda n, v: _mp(np.maximum.reduce(np.broadcast_arrays(*v))),  # a selection: exact
    fixed=_mixed_ndim("maximum", ANY),
)
spec(
    "minimum",
    cases=_nary_same_shape("minimum", lambda i: ANY),
    ref=lambda n, v: np.minimum.reduce(np.broadcast_arrays(*v)),
    cvxpy=lambda n, v: cp.minimum(*(C(x) for x in v)),
    mp=lambda n, v: _mp(np.minimum.reduce(np.broadcast_arrays(*v))),
    fixed=_mixed_ndim("minimum", ANY),
)


def _mp_kl(x: Any, y: Any, kl: bool) -> Any:
    core = mpmath.mpf(0) if x == 0 else x * mpmath.log(x / y)
    return core - x + y if kl else core


for _op, _sp, _cp in (("kl_div", sp.kl_div, cp.kl_div), ("rel_entr", sp.rel_entr, cp.rel_entr)):
    spec(
        _op,
        cases=_nary_same_shape(_op, lambda i: NONNEG if i == 0 else POS, (2, 3)),
        ref=lambda n, v, f=_sp: f(*np.broadcast_arrays(v[0], v[1])),
        cvxpy=lambda n, v, f=_cp: f(C(v[0]), C(v[1])),
        mp=lambda n, v, kl=_op == "kl_div": _mpmap(lambda a, b: _mp_kl(a, b, kl), v[0], v[1]),
        fixed=_mixed_ndim(_op, POS),
    )


# ---- reductions -------------------------------------------------------------------------------
def _reduce_case(op: str, kinds: tuple[str, ...], extra: Callable[[Maker], tuple] = lambda m: ()):
    def one(m: Maker) -> Case:
        x = m.var(m.shape(), kinds)
        params = _axis_params(m, x.shape)
        more = extra(m)
        if more:
            params = (params[0] if params else None, params[1] if params else False, *more)
        return Case(make(op, [x], params), f"{op} {params}")

    return _repeat(one)


def _mp_lse(x: np.ndarray, axis: Any, keep: bool) -> np.ndarray:
    e = _mpmap(mpmath.exp, x)
    s = np.sum(e, axis=axis, keepdims=keep)
    return np.vectorize(mpmath.log, otypes=[object])(np.asarray(s, dtype=object))


spec(
    "log_sum_exp",
    cases=_reduce_case("log_sum_exp", ANY),
    ref=lambda n, v: np.reshape(
        sp.logsumexp(v[0], axis=_axis_of(n)[0], keepdims=_axis_of(n)[1]),
        np.sum(v[0], axis=_axis_of(n)[0], keepdims=_axis_of(n)[1]).shape,  # scipy: 0-d keeps (1,)
    ),
    cvxpy=lambda n, v: cp.log_sum_exp(C(v[0]), axis=_axis_of(n)[0], keepdims=_axis_of(n)[1]),
    mp=lambda n, v: _mp_lse(v[0], *_axis_of(n)),
)
for _op, _np, _cp in (("max", np.max, cp.max), ("min", np.min, cp.min)):
    spec(
        _op,
        cases=_reduce_case(_op, ANY),
        ref=lambda n, v, f=_np: np.asarray(f(v[0], axis=_axis_of(n)[0], keepdims=_axis_of(n)[1])),
        cvxpy=lambda n, v, f=_cp: f(C(v[0]), axis=_axis_of(n)[0], keepdims=_axis_of(n)[1]),
        mp=lambda n, v, f=_np: _mp(f(v[0], axis=_axis_of(n)[0], keepdims=_axis_of(n)[1])),
    )


def _sum_largest_case(m: Maker) -> Case:
    x = m.var(m.shape((1, 2)))
    k = int(m.rng.integers(1, x.size + 1))
    return Case(make("sum_largest", [x], (k,)), f"sum_largest k={k}")


spec(
    "sum_largest",
    cases=_repeat(_sum_largest_case),
    ref=lambda n, v: np.asarray(np.sum(np.sort(np.ravel(v[0]))[::-1][: n.params[0]])),
    cvxpy=lambda n, v: cp.sum_largest(C(v[0]), n.params[0]),
    mp=lambda n, v: np.asarray(
        sum(sorted(np.ravel(_mp(v[0])), reverse=True)[: n.params[0]]), dtype=object
    ),
)

# p with p or 1/p not a binary fraction (3, 3/2, 1/3, 4/3) too: the fixed bug NON_DYADIC
P_VALUES: list[Any] = [
    Fraction(1),
    Fraction(2),
    INF,
    Fraction(1, 2),
    Fraction(-1),
    Fraction(4),
    Fraction(1, 4),
    Fraction(3),
    Fraction(3, 2),
    Fraction(1, 3),
    Fraction(4, 3),
]


def _pnorm_fixed(m: Maker) -> list[Case]:
    out = []
    for p in (Fraction(3), Fraction(3, 2), Fraction(1, 3)):
        m.count += 1
        x = variable(f"pb{m.count}", (2,), lo=[1e-100, 0.0], hi=[1e-100, 0.0])
        out.append(
            Case(
                make("pnorm", [x], (None, False, p)),
                f"pnorm p={p} at [1e-100, 0]",
                fixed=NON_DYADIC,
            )
        )
    x = variable("pb43", (2,), lo=1e154, hi=1e154)
    out.append(
        Case(
            make("pnorm", [x], (None, False, Fraction(4, 3))),
            "pnorm p=4/3 at [1e154, 1e154]",
            fixed=NON_DYADIC,
        )
    )
    return out


def _pnorm_case(m: Maker) -> Case:
    p = P_VALUES[int(m.rng.integers(len(P_VALUES)))]
    kinds = ANY if p == INF or p >= 1 else (NONNEG if p > 0 else POS)
    x = m.var(m.shape(), kinds)
    axis = _axis_params(m, x.shape)
    params = (axis[0] if axis else None, axis[1] if axis else False, p)
    return Case(make("pnorm", [x], params), f"pnorm p={p} {params[:2]}")


def _pnorm_ref(x: np.ndarray, p: Any, axis: Any, keep: bool) -> np.ndarray:
    x = np.asarray(x, dtype=float)
    if p == INF:
        return np.asarray(np.max(np.abs(x), axis=axis, keepdims=keep))
    base = np.abs(x) if p >= 1 else x
    with np.errstate(divide="ignore"):
        return np.asarray(np.sum(base ** float(p), axis=axis, keepdims=keep) ** (1 / float(p)))


def _mp_pnorm(x: np.ndarray, p: Any, axis: Any, keep: bool) -> np.ndarray:
    a = _mpmap(abs, x)
    if p == INF:
        return np.asarray(np.max(a, axis=axis, keepdims=keep), dtype=object)
    p = Fraction(p)
    powered = np.vectorize(lambda t: _mp_power(t, p), otypes=[object])(a)
    s = np.asarray(np.sum(powered, axis=axis, keepdims=keep), dtype=object)
    return np.vectorize(lambda t: _mp_power(t, 1 / p), otypes=[object])(s)


def _pnorm_cvxpy(n: TExpr, v: list[np.ndarray]) -> Any:
    axis, keep, p = n.params
    if axis is not None and p != 2:
        return None  # CVXPY: "The axis parameter is only supported for p=2"
    return cp.pnorm(C(v[0]), "inf" if p == INF else float(p), axis=axis, keepdims=keep)


spec(
    "pnorm",
    cases=_repeat(_pnorm_case),
    ref=lambda n, v: _pnorm_ref(v[0], n.params[2], n.params[0], n.params[1]),
    cvxpy=_pnorm_cvxpy,
    mp=lambda n, v: _mp_pnorm(v[0], n.params[2], n.params[0], n.params[1]),
    fixed=_pnorm_fixed,
)


def _qol_case(m: Maker) -> Case:
    x = m.var(m.shape())
    y = m.var((), POS) if m.rng.random() < 0.7 else m.const((), "pos")
    return Case(make("quad_over_lin", [x, y]), "quad_over_lin")


spec(
    "quad_over_lin",
    cases=_repeat(_qol_case),
    ref=lambda n, v: np.asarray(np.sum(np.square(v[0])) / v[1]),
    cvxpy=lambda n, v: cp.quad_over_lin(C(v[0]), C(v[1])),
    mp=lambda n, v: np.asarray(
        sum(t * t for t in np.ravel(_mp(v[0]))) / mpmath.mpf(float(v[1])), dtype=object
    ),
)


def _sum_squares_case(m: Maker) -> Case:
    return Case(make("sum_squares", [m.var(m.shape())]), "sum_squares")


spec(
    "sum_squares",
    cases=_repeat(_sum_squares_case),
    ref=lambda n, v: np.asarray(np.sum(np.square(v[0]))),
    cvxpy=lambda n, v: cp.sum_squares(C(v[0])),
    mp=lambda n, v: np.asarray(sum(t * t for t in np.ravel(_mp(v[0]))), dtype=object),
)


def _gm_case(m: Maker) -> Case:
    size = int(m.rng.integers(1, 5))
    raw = [int(w) for w in m.rng.integers(0, 4, size=size)]
    if sum(raw) == 0:
        raw[0] = 1
    weights = tuple(Fraction(w, sum(raw)) for w in raw)
    return Case(make("geo_mean", [m.var((size,), NONNEG)], (weights,)), f"geo_mean {raw}")


def _mp_gm(x: np.ndarray, w: tuple) -> np.ndarray:
    out = mpmath.mpf(1)
    for t, q in zip(_mp(x), w):
        q = Fraction(q)
        if q:
            out *= (
                mpmath.mpf(0)
                if t == 0
                else mpmath.power(t, mpmath.mpf(q.numerator) / q.denominator)
            )
    return np.asarray(out, dtype=object)


spec(
    "geo_mean",
    cases=_repeat(_gm_case),
    ref=lambda n, v: np.asarray(np.prod([t ** float(q) for t, q in zip(v[0], n.params[0]) if q])),
    cvxpy=lambda n, v: cp.geo_mean(C(v[0]), [Fraction(q) for q in n.params[0]]),
    mp=lambda n, v: _mp_gm(v[0], n.params[0]),
)


# ---- matrix rows ------------------------------------------------------------------------------
def _int_psd(m: Maker, k: int) -> np.ndarray:
    b = m.rng.integers(-3, 4, size=(k + 1, k))
    return (b.T @ b).astype(float)


def _quad_form_case(m: Maker) -> Case:
    k = int(m.rng.integers(1, 4))
    kind = int(m.rng.integers(5))
    if kind == 0:
        p = _int_psd(m, k)
    elif kind == 1:
        p = -_int_psd(m, k)
    elif kind == 2:
        c = m.rng.integers(-2, 3, size=(k, k))
        p = (c + c.T).astype(float)
    elif kind == 3:  # entrywise nonnegative and PSD (the row's monotone case)
        g = np.abs(m.rng.integers(0, 3, size=(k + 1, k)))
        p = (g.T @ g).astype(float)
    else:
        p = np.diag(m.rng.integers(-2, 3, size=k).astype(float))
    # x of any signs, also for an entrywise nonnegative P (the fixed bug of 'quad_form nonneg P')
    x = m.var((k,), ANY)
    return Case(make("quad_form", [x, constant(p)]), f"quad_form kind {kind}")


spec(
    "quad_form",
    cases=_repeat(_quad_form_case),
    ref=lambda n, v: np.asarray(v[0] @ v[1] @ v[0]),
    cvxpy=lambda n, v: cp.quad_form(C(v[0]), C(v[1])),
    mp=lambda n, v: np.asarray(np.dot(_mp(v[0]), np.dot(_mp(v[1]), _mp(v[0]))), dtype=object),
    fixed=lambda m: [
        Case(make("quad_form", [m.var((2,)), m.var((2, 2))]), "quad_form variable P"),
        Case(
            make(
                "quad_form",
                [variable("qx", (2,), lo=[0.0, -5.0], hi=[1.0, -4.0]), constant(np.ones((2, 2)))],
            ),
            "quad_form nonneg P, x0 >= 0 but x1 < 0",
            # fixed: INC was declared for x_j >= 0 from x's signs alone, but (x0 + x1)**2 isn't
            fixed=("monotonicity", "fixed: quad_form monotone in x only when x has one sign"),
        ),
    ],
)


def _mp_matrix(x: np.ndarray) -> Any:
    return mpmath.matrix([[mpmath.mpf(float(t)) for t in row] for row in np.atleast_2d(x)])


def _mp_eig(a: Any) -> list[Any]:
    got = mpmath.eig(a, left=False, right=False)
    return list(got[0] if isinstance(got, tuple) else got)  # mpmath returns a tuple for 1 x 1


def _mp_sym_eigs(x: np.ndarray) -> list[Any]:
    """Eigenvalues of the symmetric part by mpmath's general (QR) eigensolver."""
    a = _mp_matrix(x)
    s = (a + a.T) / 2
    return sorted(mpmath.re(e) for e in _mp_eig(s))


def _mp_singular_values(x: np.ndarray) -> list[Any]:
    a = _mp_matrix(x)
    gram = a.T * a if a.cols <= a.rows else a * a.T
    return sorted(mpmath.sqrt(max(mpmath.re(e), 0)) for e in _mp_eig(gram))


def _mp_matrix_frac(x: np.ndarray, p: np.ndarray) -> Any:
    xm = _mp_matrix(x.reshape(len(p), -1))
    pm = _mp_matrix(p)
    pm = (pm + pm.T) / 2
    q = xm.T * mpmath.inverse(pm) * xm
    return sum(q[i, i] for i in range(q.rows))


def _scalar(v: Any) -> np.ndarray:
    return np.asarray(v, dtype=object)


def _sym_eigs(x: np.ndarray) -> np.ndarray:
    return np.linalg.eigvalsh((x + x.T) / 2)


def _symmetric_only(build: Callable[[np.ndarray], Any]) -> Callable[[TExpr, list[np.ndarray]], Any]:
    """CVXPY's eigenvalue atoms are defined on symmetric matrices only."""

    def make_expr(n: TExpr, v: list[np.ndarray]) -> Any:
        if not np.array_equal(v[0], v[0].T):
            return None
        return build(v[0]) if len(v) == 1 else build(*v)

    return make_expr


def _eig_case(op: str, params: Callable[[int], tuple] = lambda k: ()):
    def one(m: Maker) -> Case:
        k = int(m.rng.integers(1, 4))
        x = m.var((k, k), BOUNDED, symmetric=bool(m.rng.random() < 0.5))
        return Case(make(op, [x], params(k)), op)

    return _repeat(one)


spec(
    "lambda_max",
    cases=_eig_case("lambda_max"),
    ref=lambda n, v: np.asarray(_sym_eigs(v[0])[-1]),
    cvxpy=_symmetric_only(lambda x: cp.lambda_max(C(x))),
    mp=lambda n, v: _scalar(_mp_sym_eigs(v[0])[-1]),
)
spec(
    "lambda_sum_largest",
    cases=_eig_case(
        "lambda_sum_largest", lambda k: (int(np.random.default_rng(k).integers(1, k + 1)),)
    ),
    ref=lambda n, v: np.asarray(np.sum(_sym_eigs(v[0])[::-1][: n.params[0]])),
    cvxpy=lambda n, v: _symmetric_only(lambda x: cp.lambda_sum_largest(C(x), n.params[0]))(n, v),
    mp=lambda n, v: _scalar(sum(_mp_sym_eigs(v[0])[::-1][: n.params[0]])),
)


def _psd_case(op: str):
    return _repeat(
        lambda m: Case(make(op, [m.var((int(m.rng.integers(1, 4)),) * 2, psd=True)]), op)
    )


spec(
    "log_det",
    cases=_psd_case("log_det"),
    ref=lambda n, v: np.asarray(np.linalg.slogdet(v[0])[1]),
    cvxpy=lambda n, v: cp.log_det(C(v[0])),
    mp=lambda n, v: _scalar(mpmath.log(mpmath.det(_mp_matrix(v[0])))),
)
spec(
    "tr_inv",
    cases=_psd_case("tr_inv"),
    ref=lambda n, v: np.asarray(np.trace(np.linalg.inv(v[0]))),
    cvxpy=lambda n, v: cp.tr_inv(C(v[0])),
    mp=lambda n, v: _scalar(sum(mpmath.inverse(_mp_matrix(v[0]))[i, i] for i in range(len(v[0])))),
)


def _rect_case(op: str):
    return _repeat(
        lambda m: Case(
            make(op, [m.var(tuple(int(s) for s in m.rng.integers(1, 4, size=2)), BOUNDED)]), op
        )
    )


spec(
    "sigma_max",
    cases=_rect_case("sigma_max"),
    ref=lambda n, v: np.asarray(np.linalg.norm(v[0], 2)),
    cvxpy=lambda n, v: cp.sigma_max(C(v[0])),
    mp=lambda n, v: _scalar(_mp_singular_values(v[0])[-1]),
)
spec(
    "normNuc",
    cases=_rect_case("normNuc"),
    ref=lambda n, v: np.asarray(np.linalg.norm(v[0], "nuc")),
    cvxpy=lambda n, v: cp.normNuc(C(v[0])),
    mp=lambda n, v: _scalar(sum(_mp_singular_values(v[0]))),
)


def _matrix_frac_case(m: Maker) -> Case:
    k = int(m.rng.integers(1, 4))
    x_shape = (k,) if m.rng.random() < 0.5 else (k, int(m.rng.integers(1, 3)))
    return Case(
        make("matrix_frac", [m.var(x_shape, BOUNDED), m.var((k, k), psd=True)]), "matrix_frac"
    )


spec(
    "matrix_frac",
    cases=_repeat(_matrix_frac_case),
    ref=lambda n, v: np.asarray(
        np.trace(np.atleast_2d(v[0].T) @ np.linalg.solve(v[1], v[0].reshape(len(v[1]), -1)))
    ),
    cvxpy=lambda n, v: cp.matrix_frac(C(v[0]), C(v[1])),
    mp=lambda n, v: _scalar(_mp_matrix_frac(v[0], v[1])),
)


# ---- sampling ---------------------------------------------------------------------------------
def _ranges(node: TExpr) -> list[IArray]:
    out = []
    for a in node.args:
        if a.op == "variable":
            info = a.variable
            out.append(IArray(info.lo, info.hi, info.lo_open, info.hi_open))
        else:
            out.append(IArray.point(a.value))
    return out


def _sample_box(info: Any, count: int, rng: np.random.Generator) -> np.ndarray:
    shape = (count,) + info.shape
    if info.psd:
        k = info.shape[0]
        scale = float(rng.choice([0.1, 1.0, 5.0]))
        g = rng.normal(size=(count, k, k)) * scale
        s = g @ np.swapaxes(g, 1, 2) / k + 0.05 * scale**2 * np.eye(k)
        return (s + np.swapaxes(s, 1, 2)) / 2
    lo = np.broadcast_to(info.lo, shape)
    hi = np.broadcast_to(info.hi, shape)
    lo_open = np.broadcast_to(info.lo_open, shape)
    hi_open = np.broadcast_to(info.hi_open, shape)
    scale = rng.choice([1e-6, 1e-2, 1.0, 8.0], size=shape)
    e = rng.exponential(1.0, shape) * scale
    z = rng.standard_normal(shape) * scale
    u = rng.random(shape)
    fin_lo, fin_hi = np.isfinite(lo), np.isfinite(hi)
    with np.errstate(invalid="ignore", over="ignore"):
        x = np.where(
            fin_lo & fin_hi,
            lo + (hi - lo) * u,
            np.where(fin_lo, lo + e, np.where(fin_hi, hi - e, z)),
        )
    r = rng.random(shape)
    x = np.where((r < 0.12) & fin_lo & ~lo_open, lo, x)
    x = np.where((r > 0.88) & fin_hi & ~hi_open, hi, x)
    x = np.clip(x, lo, hi)
    with np.errstate(invalid="ignore"):
        mid = np.where(
            fin_lo & fin_hi,
            lo / 2 + hi / 2,
            np.where(fin_lo, lo + 1, np.where(fin_hi, hi - 1, 0.0)),
        )
    x = np.where(((x == lo) & lo_open) | ((x == hi) & hi_open), mid, x)
    if info.symmetric:
        x = (x + np.swapaxes(x, -1, -2)) / 2
    assert np.all(IArray(info.lo, info.hi, info.lo_open, info.hi_open).contains(x)), (
        "sampler left the box"
    )
    return x


def _points(node: TExpr, count: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    return {
        a.variable.name: _sample_box(a.variable, count, rng)
        for a in node.args
        if a.op == "variable"
    }


def _batched_args(node: TExpr, points: dict[str, np.ndarray]) -> list[np.ndarray]:
    return [
        points[a.variable.name] if a.op == "variable" else np.asarray(a.value)[None]
        for a in node.args
    ]


def _evaluate(node: TExpr, points: dict[str, np.ndarray]) -> np.ndarray:
    count = next(iter(points.values())).shape[0]
    with np.errstate(all="ignore"):
        out = np.asarray(ROWS[node.op].numpy(node, _batched_args(node, points)), dtype=float)
    assert out.shape in ((count,) + node.shape, (1,) + node.shape), (out.shape, node.shape)
    return np.broadcast_to(out, (count,) + node.shape)


def _args_at(node: TExpr, points: dict[str, np.ndarray], k: int) -> list[np.ndarray]:
    return [
        points[a.variable.name][k] if a.op == "variable" else np.asarray(a.value) for a in node.args
    ]


# ---- the cases of each row --------------------------------------------------------------------
def _all_cases() -> dict[str, list[Case]]:
    out = {}
    for name, s in SPECS.items():
        m = Maker(np.random.default_rng(sum(ord(ch) * (i + 1) for i, ch in enumerate(name))))
        out[name] = s.cases(m) + s.fixed(m)
    return out


CASES = _all_cases()
KNOWN_BUGS = [(name, c) for name, cases in CASES.items() for c in cases if c.bug is not None]
REGRESSIONS = [(name, c) for name, cases in CASES.items() for c in cases if c.fixed is not None]


def _cases_for(name: str) -> list[Case]:
    return [c for c in CASES[name] if c.bug is None]


def _defined(node: TExpr) -> bool:
    return ROWS[node.op].domain(node, _ranges(node)) is None


def _rng_for(name: str, check: str) -> np.random.Generator:
    return np.random.default_rng([sum(map(ord, name)), sum(map(ord, check))])


ROW_NAMES = sorted(ROWS)


def test_every_row_has_a_spec():
    """A row added to the table without a spec here fails this test (and vice versa)."""
    assert set(SPECS) == set(ROWS)
    assert all(s.mp is not None for s in SPECS.values())


def _undefined_cases() -> list[tuple[str, TExpr]]:
    """Boxes holding a point where the row's formula is undefined: ``domain`` must say so."""

    def v(lo, hi, shape=(2,), **kw):
        return variable("u", shape, lo=lo, hi=hi, **kw)

    def w(lo, hi, shape=(2,), **kw):
        return variable("w", shape, lo=lo, hi=hi, **kw)

    half = (Fraction(1, 2),)
    return [
        ("log on [0, 1]", make("log", [v(0.0, 1.0)])),
        ("log on [-1, 1]", make("log", [v(-1.0, 1.0)])),
        ("xlogx on [-1e-300, 1]", make("xlogx", [v(-1e-300, 1.0)])),
        ("sqrt on [-1, 1]", make("power", [v(-1.0, 1.0)], half)),
        ("power -1 on [0, 1]", make("power", [v(0.0, 1.0)], (Fraction(-1),))),
        ("power -1 on [-1, 1]", make("power", [v(-1.0, 1.0)], (Fraction(-1),))),
        ("power -1/2 on [0, 1]", make("power", [v(0.0, 1.0)], (Fraction(-1, 2),))),
        ("power 3/2 on [-1, 0]", make("power", [v(-1.0, 0.0)], (Fraction(3, 2),))),
        # CVXPY's power and xexp: x >= 0 (x > 0 for p < 0) whatever the formula gives elsewhere
        ("cvxpy power 3 on [-1, 1]", make("power", [v(-1.0, 1.0)], (Fraction(3), "cvxpy"))),
        ("cvxpy power 5 on [-1, -0.5]", make("power", [v(-1.0, -0.5)], (Fraction(5), "cvxpy"))),
        ("cvxpy power 1 on [-1, 1]", make("power", [v(-1.0, 1.0)], (Fraction(1), "cvxpy"))),
        (
            "cvxpy power 1/3 on [-1e-300, 1]",
            make("power", [v(-1e-300, 1.0)], (Fraction(1, 3), "cvxpy")),
        ),
        ("cvxpy power -1 on [0, 1]", make("power", [v(0.0, 1.0)], (Fraction(-1), "cvxpy"))),
        ("cvxpy power -2 on [-2, -1]", make("power", [v(-2.0, -1.0)], (Fraction(-2), "cvxpy"))),
        ("cvxpy power -3 on [-2, -1]", make("power", [v(-2.0, -1.0)], (Fraction(-3), "cvxpy"))),
        ("cvxpy xexp on [-1, 1]", make("xexp", [v(-1.0, 1.0)], ("cvxpy",))),
        ("cvxpy xexp on [-2, -1]", make("xexp", [v(-2.0, -1.0)], ("cvxpy",))),
        ("kl_div x on [-1, 1]", make("kl_div", [v(-1.0, 1.0), w(1.0, 2.0)])),
        ("kl_div y on [0, 1]", make("kl_div", [v(0.0, 1.0), w(0.0, 1.0)])),
        ("rel_entr y on [-1, 1]", make("rel_entr", [v(0.0, 1.0), w(-1.0, 1.0)])),
        ("divide by [-1, 1]", make("divide", [v(1.0, 2.0), w(-1.0, 1.0)])),
        ("divide by [0, 1]", make("divide", [v(1.0, 2.0), w(0.0, 1.0)])),
        ("quad_over_lin by [0, 1]", make("quad_over_lin", [v(1.0, 2.0), w(0.0, 1.0, ())])),
        (
            "geo_mean on [-1, 1]",
            make("geo_mean", [v(-1.0, 1.0)], ((Fraction(1, 2), Fraction(1, 2)),)),
        ),
        ("pnorm 1/2 on [-1, 1]", make("pnorm", [v(-1.0, 1.0)], (None, False, Fraction(1, 2)))),
        ("pnorm -1 on [0, 1]", make("pnorm", [v(0.0, 1.0)], (None, False, Fraction(-1)))),
        ("log_det of a box", make("log_det", [v(-1.0, 1.0, (2, 2))])),
        ("log_det of a symmetric box", make("log_det", [v(-1.0, 1.0, (2, 2), symmetric=True)])),
        ("tr_inv of a box", make("tr_inv", [v(0.0, 1.0, (2, 2))])),
        ("matrix_frac with a box P", make("matrix_frac", [v(0.0, 1.0), w(0.0, 1.0, (2, 2))])),
        (
            "matrix_frac with an indefinite P",
            make("matrix_frac", [v(0.0, 1.0), constant(np.diag([1.0, -1.0]))]),
        ),
    ]


@pytest.mark.parametrize(
    ("label", "node"), _undefined_cases(), ids=lambda x: x if isinstance(x, str) else ""
)
def test_domain_rejects_boxes_with_undefined_points(label, node):
    assert ROWS[node.op].domain(node, _ranges(node)) is not None, label


@pytest.mark.parametrize(
    ("op", "params", "strict"),
    [
        ("power", (Fraction(3), "cvxpy"), False),
        ("power", (Fraction(5), "cvxpy"), False),
        ("power", (Fraction(1, 3), "cvxpy"), False),
        ("power", (Fraction(3, 2), "cvxpy"), False),
        ("power", (Fraction(-1), "cvxpy"), True),
        ("power", (Fraction(-2), "cvxpy"), True),
        ("power", (Fraction(-1, 3), "cvxpy"), True),
        ("xexp", ("cvxpy",), False),
    ],
    ids=str,
)
def test_cvxpy_rows_are_undefined_outside_cvxpys_domain(op, params, strict):
    """NaN below the domain (so no witness can use such a point), the formula inside it, and a
    box reaching below the domain is undefined for ``domain``."""
    pts = np.array([-1e300, -3.0, -1.0, -1e-300, 0.0, 1e-100, 0.5, 2.0, 50.0])
    node = make(op, [variable("x", pts.shape)], params)
    plain = make(op, [node.args[0]], params[:-1])  # the formula's row on all reals
    with np.errstate(all="ignore"):
        got = np.asarray(ROWS[op].numpy(node, [pts[None]]))[0]
        formula = np.asarray(ROWS[op].numpy(plain, [pts[None]]))[0]
    inside = pts > 0 if strict else pts >= 0
    assert np.all(np.isnan(got[~inside])), got
    assert np.all(np.isfinite(got[inside])), got
    assert np.array_equal(got[inside], formula[inside]), (got, formula)
    node_in = make(op, [variable("x", (int(inside.sum()),))], params)
    assert ROWS[op].domain(node_in, [IArray.point(pts[inside])]) is None
    assert ROWS[op].domain(node, [IArray.point(pts)]) is not None
    for bad in pts[~inside]:
        one = make(op, [variable("x", (1,))], params)
        assert ROWS[op].domain(one, [IArray.point(np.array([bad]))]) is not None, bad


@pytest.mark.parametrize("p", [Fraction(2), Fraction(4)], ids=str)
def test_cvxpy_even_powers_are_defined_on_all_reals(p):
    node = make("power", [variable("x", (2,), lo=-INF, hi=INF)], (p, "cvxpy"))
    assert ROWS["power"].domain(node, _ranges(node)) is None
    with np.errstate(all="ignore"):
        got = np.asarray(ROWS["power"].numpy(node, [np.array([[-3.0, 2.0]])]))[0]
    assert np.array_equal(got, np.array([-3.0, 2.0]) ** int(p)), got


# ---- checks (one function per check; a known-bug case runs the same function, xfailed) -------
MP_TOL = mpmath.mpf(2) ** -200  # relative: mp references carry 300 bits; allow their rounding
MP_TINY = mpmath.mpf(2) ** -1200  # absolute, far below the smallest float


def _mp_inside(v: Any, at: IArray, idx: tuple) -> bool:
    lo, hi = at.lo[idx], at.hi[idx]
    tol = MP_TOL * abs(v) + MP_TINY
    ok_lo = v > lo or (v == lo and not at.lo_open[idx]) or (v < lo and lo - v <= tol)
    ok_hi = v < hi or (v == hi and not at.hi_open[idx]) or (v > hi and v - hi <= tol)
    return bool(ok_lo and ok_hi)


def _exact_values(node: TExpr, args: list[np.ndarray]) -> np.ndarray:
    with mpmath.workprec(MP_PREC):
        return np.broadcast_to(np.asarray(SPECS[node.op].mp(node, args), dtype=object), node.shape)


def _check_enclosure(case: Case, rng: np.random.Generator) -> int:
    """The box enclosure holds NumPy's values (loosely: they are rounded) at every sampled
    point and the high-precision values (tightly) at the first few, box ends included; the
    one-point enclosures (what a witness check uses) hold the high-precision values."""
    node, row = case.node, ROWS[case.node.op]
    ranges = _ranges(node)
    if row.domain(node, ranges) is not None:
        return 0
    box = row.interval(node, ranges)
    assert box.shape == node.shape, (case.label, box.shape, node.shape)
    points = _points(node, N_POINTS, rng)
    values = _evaluate(node, points)
    slack = 1e-12 * np.abs(values) + 1e-300
    loose = (values >= box.lo - slack) & (values <= box.hi + slack)
    bad = np.argwhere(~loose)
    assert not bad.size, (case.label, f"NumPy value {values[tuple(bad[0])]!r} far outside {box}")
    checked = 0
    for k in range(6):
        args = _args_at(node, points, k)
        exact = _exact_values(node, args)
        for idx in np.ndindex(node.shape):
            assert _mp_inside(exact[idx], box, idx), (
                case.label,
                "box",
                args,
                idx,
                mpmath.nstr(exact[idx], 30),
                box,
            )
        pr = [IArray.point(v) for v in args]
        assert row.domain(node, pr) is None, (case.label, "a point of a defined box is undefined")
        enclosures = [row.interval(node, pr)]
        if node.op in MATRIX_ROWS:
            enc, why = enclose_matrix_atom(node, pr)
            assert enc is not None, (case.label, why)
            enclosures.append(enc)
        for at in enclosures:
            for idx in np.ndindex(node.shape):
                assert _mp_inside(exact[idx], at, idx), (
                    case.label,
                    "point",
                    args,
                    idx,
                    mpmath.nstr(exact[idx], 30),
                    at,
                )
        checked += 1
    return checked


def _check_numpy(case: Case, rng: np.random.Generator) -> int:
    node = case.node
    if not _defined(node):
        return 0
    s = SPECS[node.op]
    checked = 0
    for count in (1, 3, 5):
        points = _points(node, count, rng)
        got = _evaluate(node, points)
        for k in range(count):
            args = _args_at(node, points, k)
            with np.errstate(all="ignore"):
                want = np.asarray(s.ref(node, args), dtype=float)
            assert want.shape == node.shape, (case.label, want.shape)
            assert got[k] == pytest.approx(want, rel=1e-9, abs=1e-12), (case.label, count, k, args)
            if s.cvxpy is not None:
                expr = s.cvxpy(node, args)
                if expr is not None:
                    cv = np.asarray(expr.value, dtype=float).reshape(node.shape)
                    assert got[k] == pytest.approx(cv, rel=1e-9, abs=1e-12), (
                        case.label,
                        "cvxpy",
                        args,
                    )
            checked += 1
    return checked


def _gap_scale(*fs: np.ndarray) -> np.ndarray:
    return REL * (1 + sum(np.abs(f) for f in fs))


def _check_curvature(case: Case, rng: np.random.Generator) -> int:
    node, row = case.node, ROWS[case.node.op]
    ranges = _ranges(node)
    if row.domain(node, ranges) is not None:
        return 0
    convex, concave, _ = row.curvature(node, ranges)
    if not (convex or concave):
        return 0
    a = _points(node, N_PAIRS, rng)
    c = _points(node, N_PAIRS, rng)
    t = np.where(np.arange(N_PAIRS) % 2 == 0, 1.0, 10.0 ** -rng.integers(1, 7, N_PAIRS))
    b = {}
    for n_, v in a.items():
        tt = t.reshape((-1,) + (1,) * (v.ndim - 1))
        b[n_] = np.where(tt == 1.0, c[n_], v + tt * (c[n_] - v))  # nearby pairs stay in the box
    mid = {n_: (a[n_] + b[n_]) / 2 for n_ in a}
    fa, fb, fm = _evaluate(node, a), _evaluate(node, b), _evaluate(node, mid)
    gap = fm - (fa + fb) / 2
    slack = _gap_scale(fa, fb, fm)
    if convex:
        worst = np.argmax(gap - slack)
        assert np.all(gap <= slack), (case.label, "declared convex", np.ravel(gap)[worst])
    if concave:
        worst = np.argmin(gap + slack)
        assert np.all(gap >= -slack), (case.label, "declared concave", np.ravel(gap)[worst])
    return 1


def _raise_entry(info: Any, x: np.ndarray, idx: tuple, rng: np.random.Generator) -> np.ndarray:
    """``x`` (a batch) with entry ``idx`` moved up inside its box (or kept, at the top)."""
    lo, hi, hi_open = info.lo[idx], info.hi[idx], info.hi_open[idx]
    cur = x[(slice(None), *idx)]
    count = cur.shape[0]
    if np.isfinite(hi):
        u = rng.random(count)
        new = cur + (hi - cur) * np.where(rng.random(count) < 0.2, 1.0, u)
        if hi_open:
            new = np.where(new >= hi, cur + (hi - cur) / 2, new)
    else:
        new = cur + rng.exponential(1.0, count) * rng.choice([1e-3, 1.0, 5.0], size=count)
    new = np.maximum(new, cur)
    out = x.copy()
    out[(slice(None), *idx)] = new
    del lo
    return out


def _check_monotonicity(case: Case, rng: np.random.Generator) -> int:
    node, row = case.node, ROWS[case.node.op]
    ranges = _ranges(node)
    if row.domain(node, ranges) is not None:
        return 0
    checked = 0
    base = _points(node, 12, rng)
    f0 = _evaluate(node, base)
    for i, arg in enumerate(node.args):
        bits = np.asarray(row.monotonicity(node, i, ranges))
        assert bits.shape == arg.shape, (case.label, i, bits.shape, arg.shape)
        if arg.op != "variable" or not np.any(bits):
            continue
        info = arg.variable
        assert not info.symmetric, (case.label, "monotone bits on a structured matrix argument")
        for idx in np.ndindex(arg.shape):
            flag = int(bits[idx])
            if not flag:
                continue
            moved = dict(base)
            moved[info.name] = _raise_entry(info, base[info.name], idx, rng)
            f1 = _evaluate(node, moved)
            slack = _gap_scale(f0, f1)
            diff = f1 - f0
            if flag & INC:
                assert np.all(diff >= -slack), (
                    case.label,
                    f"arg {i} entry {idx} declared INC",
                    diff.min(),
                )
            if flag & DEC:
                assert np.all(diff <= slack), (
                    case.label,
                    f"arg {i} entry {idx} declared DEC",
                    diff.max(),
                )
            checked += 1
    return checked


def _check_domain(case: Case, rng: np.random.Generator) -> int:
    node = case.node
    if not _defined(node):
        return 0
    values = _evaluate(node, _points(node, N_POINTS, rng))
    assert np.all(np.isfinite(values)), (case.label, "domain() is None but a value is not finite")
    return 1


CHECKS = {
    "enclosure": _check_enclosure,
    "numpy": _check_numpy,
    "curvature": _check_curvature,
    "monotonicity": _check_monotonicity,
    "domain": _check_domain,
}
# rows whose facts must be exercised at least once (a vacuous check hides a broken generator)
NO_MONOTONE_ENTRIES = {
    "lambda_max",
    "lambda_sum_largest",
    "log_det",
    "tr_inv",
    "sigma_max",
    "normNuc",
    "matrix_frac",
    "kl_div",
}


@pytest.mark.parametrize("check", list(CHECKS))
@pytest.mark.parametrize("name", ROW_NAMES)
def test_row(name, check):
    rng = _rng_for(name, check)
    done = sum(CHECKS[check](case, rng) for case in _cases_for(name))
    if check in ("enclosure", "numpy", "domain", "curvature"):
        assert done > 0, f"no case of {name} was defined on its boxes (or claimed a curvature)"
    if check == "monotonicity" and name not in NO_MONOTONE_ENTRIES:
        assert done > 0, f"no monotone entry of {name} was exercised"


def test_regressions_are_kept():
    """The cases of the fixed engine bugs stay in the table (a guard against losing them)."""
    assert len(REGRESSIONS) >= 28
    assert not KNOWN_BUGS, "a known engine bug needs a strict xfail test of its own"


@pytest.mark.parametrize(
    ("name", "case"), [pytest.param(n, c, id=f"{n}-{c.label}") for n, c in REGRESSIONS]
)
def test_fixed_row_bug(name, case):
    """Each fixed bug's case passes the check that used to fail (and, in test_row, all others)."""
    done = CHECKS[case.fixed[0]](case, _rng_for(name, case.fixed[0]))
    if case.fixed[0] != "monotonicity":  # a fixed monotonicity claim may be no claim at all
        assert done > 0, case.fixed[1]


def test_quad_form_nonneg_p_with_mixed_signs_claims_no_monotonicity():
    # fixed: quad_form with P >= 0 declared INC in x0 >= 0 although x1 < 0 ((x0 + x1)**2)
    x = variable("qx", (2,), lo=[0.0, -5.0], hi=[1.0, -4.0])
    node = make("quad_form", [x, constant(np.ones((2, 2)))])
    bits = np.asarray(ROWS["quad_form"].monotonicity(node, 0, _ranges(node)))
    assert not bits[0] & INC, bits


# ---- one-point enclosures far from 1: subnormals, overflow edges, poles ------------------------
EXTREME_POINTS = {
    "exp": [-745.1, -744.5, -708.4, -1e-300, 0.0, 5e-324, 709.7, 710.0, -1e300],
    "log": [5e-324, 1e-300, 1 - 2**-53, 1.0, 1 + 2**-52, 1e300, 1.7e308],
    "logistic": [-1e300, -745.5, -40.0, -1e-300, 0.0, 36.0, 40.0, 1e300],
    "xlogx": [0.0, 5e-324, 1e-300, 1 - 2**-53, 1.0, 1 + 2**-52, 1e300],
    # -745, -740, -720: subnormal exp(x) (the fixed bug of the test below)
    "xexp": [-1e300, -1e4, -745.0, -740.0, -720.0, -40.0, -2.0, -1.0, -1e-300, 0.0, 700.0],
    "abs": [-1e308, -5e-324, 0.0, 5e-324, 1e308],
    "huber": [-1e300, -1.0, -5e-324, 0.0, 1.0, 1e300],
}


@pytest.mark.parametrize("op", sorted(EXTREME_POINTS))
def test_elementwise_point_enclosures_at_extreme_magnitudes(op):
    params = (1.0,) if op == "huber" else ()
    pts = np.array(EXTREME_POINTS[op])
    node = make(op, [variable("x", pts.shape)], params)
    at = ROWS[op].interval(node, [IArray.point(pts)])
    exact = _exact_values(node, [pts])
    bad = [
        (float(pts[i]), mpmath.nstr(exact[i], 20), at[i])
        for i in range(len(pts))
        if not _mp_inside(exact[i], at, (i,))
    ]
    assert not bad, bad


# fixed: xexp was enclosed from x * np.exp(x) widened by 4 ulps, too little for subnormal exp(x)
def test_xexp_point_enclosures_in_the_subnormal_range():
    pts = np.array([-745.0, -740.0, -720.0])
    node = make("xexp", [variable("x", pts.shape)])
    at = ROWS["xexp"].interval(node, [IArray.point(pts)])
    exact = _exact_values(node, [pts])
    assert all(_mp_inside(exact[i], at, (i,)) for i in range(len(pts)))


@pytest.mark.parametrize("p", EXPONENTS, ids=str)
def test_power_point_enclosures_at_extreme_magnitudes(p):
    pts = np.array([5e-324, 1e-300, 1e-20, 1.0, 3.0, 1e20, 1e300])
    if p.denominator == 1:
        pts = np.concatenate([pts, -pts])
    if p < 0:
        pts = pts[pts != 0]
    node = make("power", [variable("x", pts.shape)], (p,))
    at = ROWS["power"].interval(node, [IArray.point(pts)])
    exact = _exact_values(node, [pts])
    bad = [
        (float(pts[i]), mpmath.nstr(exact[i], 20), at[i])
        for i in range(len(pts))
        if not _mp_inside(exact[i], at, (i,))
    ]
    assert not bad, bad
