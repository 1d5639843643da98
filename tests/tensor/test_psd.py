"""Tests for the exact PSD decision: every proved answer is checked against an independent exact
oracle (all principal minors, SymPy's Berkowitz determinant on the exact rationals), and every
reported direction is re-verified in Fractions, because a wrong "proved" is the one bug that
matters here."""

from __future__ import annotations

import itertools
from fractions import Fraction

import numpy as np
import pytest
import sympy as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from convexcheck.tensor.psd import PSDDecision, decide_nsd, decide_psd

SETTINGS = settings(
    max_examples=300,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)


def exact_status(P: np.ndarray) -> str:
    """Independent oracle: PSD iff every principal minor of S is >= 0, PD iff every leading one
    is > 0 (Sylvester), computed with SymPy on the exact rationals."""
    n = P.shape[0]
    S = sp.Matrix(
        n,
        n,
        lambda i, j: (
            (
                sp.Rational(*float(P[i, j]).as_integer_ratio())
                + sp.Rational(*float(P[j, i]).as_integer_ratio())
            )
            / 2
        ),
    )
    for r in range(1, n + 1):
        for c in itertools.combinations(range(n), r):
            if S.extract(list(c), list(c)).det(method="berkowitz") < 0:
                return "not_psd"
    if all(S[:k, :k].det(method="berkowitz") > 0 for k in range(1, n + 1)):
        return "pd"
    return "psd"


def exact_quadratic(P: np.ndarray, v: np.ndarray) -> Fraction:
    """``v^T P v`` (= ``v^T S v``) in exact rationals."""
    f = [Fraction(x) for x in v.tolist()]
    rows = P.tolist()
    return sum(
        (fi * sum((Fraction(a) * fj for a, fj in zip(rows[i], f) if fj), Fraction(0)))
        for i, fi in enumerate(f)
        if fi
    )


def assert_refuted(P: np.ndarray, d: PSDDecision, need_direction: bool = True) -> None:
    assert d.status == "not_psd"
    assert not d.proved_psd and not d.accepted
    if need_direction:
        assert d.direction is not None
    if d.direction is not None:
        assert d.direction.dtype == np.float64 and d.direction.shape == (P.shape[0],)
        assert exact_quadratic(P, d.direction) < 0


def hadamard(n: int) -> np.ndarray:
    H = np.ones((1, 1))
    while H.shape[0] < n:
        H = np.block([[H, H], [H, -H]])
    return H


# --------------------------------------------------------------------------- small, exact


def test_identity_diagonal_zero_empty():
    d = decide_psd(np.eye(4))
    assert (d.status, d.method, d.proved_psd, d.accepted) == ("pd", "exact-ldl", True, True)
    assert decide_psd(np.diag([1.0, 0.0, 2.0])).status == "psd"
    z = decide_psd(np.zeros((3, 3)))
    assert z.status == "psd" and z.proved_psd
    assert decide_psd(np.zeros((0, 0))).status == "pd"
    tiny = np.diag([1.0, -5e-324])  # the smallest subnormal still counts
    assert_refuted(tiny, decide_psd(tiny))
    assert decide_psd(np.array([[-0.0]])).status == "psd"


def test_rank_deficient_exact_psd():
    v = np.array([1.0, -2.0, 3.0, 0.0])
    d = decide_psd(np.outer(v, v))
    assert d.status == "psd" and d.method == "exact-ldl" and "rank 1 of 4" in d.reason
    w = np.array([2.0, 1.0, -1.0, 5.0])
    d2 = decide_psd(np.outer(v, v) + np.outer(w, w))
    assert d2.status == "psd" and "rank 2 of 4" in d2.reason


def test_indefinite_and_zero_pivot_directions():
    P = np.array([[1.0, 2.0], [2.0, 1.0]])
    assert_refuted(P, decide_psd(P))
    Z = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 3.0]])
    assert_refuted(Z, decide_psd(Z))
    # zero pivot reached only after eliminating: [[1, 1, 1], [1, 1, 2], [1, 2, 5]]
    Y = np.array([[1.0, 1.0, 1.0], [1.0, 1.0, 2.0], [1.0, 2.0, 5.0]])
    assert exact_status(Y) == "not_psd"
    assert_refuted(Y, decide_psd(Y))


def test_float_gram_matrices_match_the_exact_answer():
    rng = np.random.default_rng(7)
    seen = set()
    for trial in range(60):
        n = int(rng.integers(1, 5))
        k = int(rng.integers(1, 6))
        X = rng.standard_normal((k, n)) * [1.0, 1e-4, 1e6][trial % 3]
        G = X.T @ X  # rounded: often indefinite by ~1e-17 although "a Gram matrix"
        d = decide_psd(G)
        expected = exact_status(G)
        assert d.status == expected, (G, d)
        seen.add(expected)
        if expected == "not_psd":
            assert_refuted(G, d)
    assert {"pd", "not_psd"} <= seen


def test_gram_matrix_indefinite_by_rounding_is_not_accepted_without_tolerance():
    rng = np.random.default_rng(3)
    for _ in range(50):
        X = rng.standard_normal((2, 4))
        G = X.T @ X
        d = decide_psd(G)
        if d.status == "not_psd":
            break
    else:
        pytest.fail("no rounded Gram matrix was indefinite")
    assert_refuted(G, d)
    assert abs(d.min_eigenvalue) < 1e-14
    assert "within rounding of 0" in d.reason and "not PSD" in d.reason


def test_nonsymmetric_matrix_uses_symmetric_part():
    P = np.array([[1.0, 1.0], [-1.0, 1.0]])  # S = I
    assert decide_psd(P).status == "pd"
    Q = np.array([[1.0, 4.0], [0.0, 1.0]])  # S = [[1, 2], [2, 1]]
    assert_refuted(Q, decide_psd(Q))
    # symmetric part not representable entrywise: (1 + 2^-60)/2 off the diagonal
    R = np.array([[1.0, 1.0], [2.0**-60, 0.25 + 2.0**-62]])
    assert decide_psd(R).status == exact_status(R)


@st.composite
def dyadic_matrices(draw):
    n = draw(st.integers(1, 4))
    kind = draw(st.sampled_from(["random", "gram", "perturbed", "nonsymmetric"]))
    scale = 2.0 ** draw(st.integers(-4, 4))
    if kind == "random":
        vals = draw(st.lists(st.integers(-4, 4), min_size=n * n, max_size=n * n))
        A = np.array(vals, dtype=float).reshape(n, n)
        return (A + A.T) * scale
    k = draw(st.integers(1, n + 1))
    vals = draw(st.lists(st.integers(-3, 3), min_size=k * n, max_size=k * n))
    B = np.array(vals, dtype=float).reshape(k, n)
    G = B.T @ B * scale  # exact: small integers
    if kind == "perturbed":
        i, j = draw(st.integers(0, n - 1)), draw(st.integers(0, n - 1))
        delta = draw(st.sampled_from([-1.0, 1.0])) * 2.0 ** -draw(st.integers(1, 30))
        G[i, j] += delta * scale
        G[j, i] += delta * scale
    elif kind == "nonsymmetric":
        vals = draw(st.lists(st.integers(-3, 3), min_size=n * n, max_size=n * n))
        K = np.array(vals, dtype=float).reshape(n, n)
        G = G + (K - K.T) * 0.5 + np.triu(K) * 2.0**-20
    return G


@SETTINGS
@given(dyadic_matrices())
def test_property_matches_exact_oracle(P):
    d = decide_psd(P)
    assert d.status == exact_status(P)
    assert not d.assumed
    if d.status == "not_psd":
        assert_refuted(P, d)


@SETTINGS
@given(dyadic_matrices())
def test_property_large_path_is_sound(P):
    """The n > max_exact_n ladder may say "unknown", but anything it proves must be right."""
    d = decide_psd(P, max_exact_n=0)
    truth = exact_status(P)
    if d.status == "pd":
        assert truth == "pd"
    elif d.status == "psd":
        assert truth in ("pd", "psd")
    elif d.status == "not_psd":
        assert truth == "not_psd"
        assert_refuted(P, d, need_direction=False)
    else:
        assert d.status == "unknown"


def test_small_integer_pd_decided_by_large_path():
    P = np.array([[4.0, 1.0, 0.0], [1.0, 3.0, 1.0], [0.0, 1.0, 2.0]])
    d = decide_psd(P, max_exact_n=0)
    assert (d.status, d.method) == ("pd", "verified-cholesky")


# --------------------------------------------------------------------------- large n


def test_n200_random_pd_by_verified_cholesky():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((220, 200))
    d = decide_psd(X.T @ X)
    assert (d.status, d.method) == ("pd", "verified-cholesky")
    assert d.proved_psd and d.min_eigenvalue > 0


def test_n200_one_negative_eigenvalue_has_verified_direction():
    rng = np.random.default_rng(1)
    Q, _ = np.linalg.qr(rng.standard_normal((200, 200)))
    w = rng.uniform(1.0, 2.0, 200)
    w[17] = -1.0
    P = (Q * w) @ Q.T
    P = (P + P.T) / 2
    d = decide_psd(P)
    assert d.method == "exact-direction"
    assert_refuted(P, d)
    assert d.min_eigenvalue == pytest.approx(-1.0, abs=1e-8)


def test_n200_gram_indefinite_by_rounding_needs_the_exact_evaluation():
    rng = np.random.default_rng(2)
    X = rng.standard_normal((100, 200))
    G = X.T @ X  # exact rank 100, but rounded: the smallest eigenvalue is ~ -1e-13
    d = decide_psd(G)
    assert d.status in ("not_psd", "unknown")
    if d.status == "not_psd":
        assert_refuted(G, d)


def test_hadamard_matrices_with_known_exact_spectrum():
    """``H diag(w) H`` with a Sylvester Hadamard matrix is an exact integer matrix with
    eigenvalues ``n w``: singular PSD must never be called PD, a tiny negative eigenvalue must
    not be accepted."""
    n = 128
    H = hadamard(n)
    w = np.full(n, 2.0**20)
    w[5] = 0.0
    singular = (H * w) @ H
    d = decide_psd(singular)
    assert d.status in ("psd", "unknown") and d.status != "pd"
    w[5] = -1.0  # relative size 2^-20
    indefinite = (H * w) @ H
    assert_refuted(indefinite, decide_psd(indefinite))
    small = hadamard(16)
    w16 = np.full(16, 3.0)
    w16[2] = 0.0
    assert decide_psd((small * w16) @ small).status == "psd"


def test_large_path_structure():
    rng = np.random.default_rng(4)
    X = rng.standard_normal((80, 70))
    G = np.zeros((72, 72))
    G[:70, :70] = X.T @ X
    G[:70, :70] = (G[:70, :70] + G[:70, :70].T) / 2
    d = decide_psd(G)  # two zero rows: PSD, singular, proved on the nonzero block
    assert (d.status, d.method) == ("psd", "verified-cholesky")
    G2 = G.copy()
    G2[71, 3] = G2[3, 71] = 1e-3  # zero diagonal with a nonzero entry
    assert_refuted(G2, decide_psd(G2))
    G3 = G.copy()
    G3[70, 70] = -1e-300
    assert_refuted(G3, decide_psd(G3))
    assert decide_psd(np.zeros((70, 70))).status == "psd"


def test_large_nonsymmetric_uses_symmetric_part():
    rng = np.random.default_rng(5)
    X = rng.standard_normal((90, 80))
    K = rng.standard_normal((80, 80))
    P = X.T @ X + (K - K.T)
    assert decide_psd(P).status == "pd"
    assert_refuted(P - 1e6 * np.eye(80), decide_psd(P - 1e6 * np.eye(80)))


# --------------------------------------------------------------------------- tolerance, nsd


def test_tolerance_accepts_and_records_the_assumption():
    rng = np.random.default_rng(3)
    for _ in range(50):
        G = (lambda X: X.T @ X)(rng.standard_normal((2, 4)))
        if decide_psd(G).status == "not_psd":
            break
    d = decide_psd(G, tolerance=1e-12)
    assert (d.status, d.method, d.assumed, d.tolerance) == ("psd", "tolerance", True, 1e-12)
    assert d.accepted and not d.proved_psd
    assert d.reason.startswith("accepted as PSD with psd_tolerance=1e-12")
    assert d.direction is not None and exact_quadratic(G, d.direction) < 0
    strict = decide_psd(G, tolerance=0.0)
    assert strict.status == "not_psd" and not strict.accepted
    far = np.diag([1.0, -1.0])
    assert decide_psd(far, tolerance=1e-8).status == "not_psd"
    proved = decide_psd(np.eye(3), tolerance=0.5)
    assert proved.status == "pd" and not proved.assumed  # a proof is never replaced


def test_tolerance_is_relative_to_the_largest_entry():
    P = np.diag([1e6, -1e-3])
    assert decide_psd(P, tolerance=1e-10).status == "not_psd"  # limit -1e-4
    assert decide_psd(P, tolerance=2e-9).assumed  # limit -2e-3


def test_nsd():
    d = decide_nsd(-np.eye(3))
    assert d.status == "pd" and "negative definite" in d.reason
    e = decide_nsd(np.diag([-1.0, 2.0]))
    assert e.status == "not_psd" and e.direction is not None
    assert exact_quadratic(np.diag([-1.0, 2.0]), e.direction) > 0


def test_invalid_input():
    for bad in (np.array([[1.0, np.nan], [0.0, 1.0]]), np.array([[np.inf]])):
        with pytest.raises(ValueError, match="NaN or infinite"):
            decide_psd(bad)
    for shape in ((2, 3), (3,), (2, 2, 2)):
        with pytest.raises(ValueError, match="square 2-D"):
            decide_psd(np.ones(shape))
    with pytest.raises(ValueError, match="real numeric"):
        decide_psd(np.eye(2) * 1j)
    for tol in (-1e-9, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="psd_tolerance"):
            decide_psd(np.eye(2), tolerance=tol)
    with pytest.raises(ValueError, match="float64"):
        decide_psd(np.array([[2**60 + 1, 0], [0, 1]], dtype=np.int64))
    assert decide_psd(np.array([[2, 1], [1, 2]], dtype=np.int64)).status == "pd"


def test_result_object():
    d = decide_psd(np.array([[0.0, 1.0], [1.0, 0.0]]))
    with pytest.raises(ValueError):
        d.direction[0] = 1.0  # read-only evidence
    data = d.to_dict()
    assert data["status"] == "not_psd" and len(data["direction"]) == 2
    assert d == decide_psd(np.array([[0.0, 1.0], [1.0, 0.0]]))
