"""The vectorized minimum search on potentials of degree above 4: a toy degree-6 potential of two
complex fields written for this test, its derivatives against finite differences, the batched
evaluator against the dense-tensor one on degree 4, and the global minima of several parameter
points found at once against scipy.optimize.minimize from many starts."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from scipy import optimize

from symflav.numerics import minimizer

X = sp.symbols("a1 a2 b1 b2", real=True)  # phi_i = a_i + i b_i
PHI = (X[0] + sp.I * X[2], X[1] + sp.I * X[3])

# (mu1^2, mu2^2, lambda_12, c_1, c_2, kappa): kappa phi1^3 phi2^dagger^3 + h.c. with
# 2 |kappa| < min(c_1, c_2), so that the sextics bound V from below (|phi1|^3 |phi2|^3 <=
# (|phi1|^6 + |phi2|^6)/2); the members differ in which of the two fields breaks, and how much.
MEMBERS = [(1.0, 0.6, 0.3, 0.5, 0.4, -0.15), (0.4, 1.2, -0.2, 0.3, 0.6, 0.1), (0.8, 0.8, 0.5, 0.4, 0.4, 0.19)]


def toy_potential(mu1, mu2, lam, c1, c2, kappa) -> sp.Expr:
    n1, n2 = (sp.expand(p * sp.conjugate(p)) for p in PHI)
    cubic = sp.expand(PHI[0] ** 3 * sp.conjugate(PHI[1]) ** 3)
    return sp.expand(-mu1 * n1 - mu2 * n2 + lam * n1 * n2 + c1 * n1**3 + c2 * n2**3 + 2 * kappa * sp.re(cubic))


def family_data(members):
    """Exponents (T, 4) over the union of monomials and coefficients (T, P)."""
    polys = [sp.Poly(toy_potential(*m), *X) for m in members]
    monomials = sorted({e for p in polys for e in p.monoms()})
    C = np.array([[float(p.coeff_monomial(e)) for p in polys] for e in monomials])
    return np.array(monomials, dtype=int), C


def test_the_toy_is_of_degree_six_so_the_dense_tensors_do_not_apply():
    E, _ = family_data(MEMBERS)
    assert int(E.sum(axis=1).max()) == 6
    assert not minimizer._Tensors.applies(E)


def test_degree_six_values_gradients_and_hessians_against_sympy_and_finite_differences():
    E, C = family_data(MEMBERS)
    family = minimizer.PotentialFamily(E, C, 2, 5)
    rng = np.random.default_rng(7)
    X0 = rng.normal(size=(len(MEMBERS) * 5, 4))
    V, G, H = family.derivatives(X0)
    for row, x in enumerate(X0):
        expr = toy_potential(*MEMBERS[row // 5])
        at = dict(zip(X, x))
        assert V[row] == pytest.approx(float(expr.xreplace(at)), rel=1e-12, abs=1e-12)
        h = 1e-5
        for j in range(4):
            step = np.eye(4)[j] * h
            up, down = family.derivatives(np.repeat((x + step)[None], len(X0), axis=0)), \
                family.derivatives(np.repeat((x - step)[None], len(X0), axis=0))
            assert G[row, j] == pytest.approx((up[0][row] - down[0][row]) / (2 * h), rel=1e-6, abs=1e-8)
            assert H[row, :, j] == pytest.approx((up[1][row] - down[1][row]) / (2 * h), rel=1e-5, abs=1e-6)
    assert family.values(X0) == pytest.approx(V, rel=1e-13, abs=1e-13)


def test_the_monomial_evaluator_equals_the_dense_tensors_on_degree_four():
    rng = np.random.default_rng(3)
    E = rng.integers(0, 3, size=(40, 6))
    E = np.unique(E[E.sum(axis=1) <= 4], axis=0)
    C = rng.normal(size=(len(E), 3))
    X0 = rng.normal(size=(3, 7, 6))
    dense, generic = minimizer._Tensors(E, C), minimizer._Monomials(E, C)
    for a, b in zip(dense.batch(X0), generic.batch(X0)):
        assert np.allclose(a, b, rtol=1e-12, atol=1e-12)
    assert np.allclose(dense.batch(X0[[2, 0]], False, [2, 0]), generic.batch(X0[[2, 0]], False, [2, 0]),
                       rtol=1e-12, atol=1e-12)


def scipy_global_minimum(expr, starts: int = 24, seed: int = 1):
    """The lowest of BFGS runs from ``starts`` seeded random points (scipy, analytic gradient)."""
    f = sp.lambdify([X], expr, "numpy")
    g = sp.lambdify([X], [sp.diff(expr, v) for v in X], "numpy")
    rng = np.random.default_rng(seed)
    best = None
    for _ in range(starts):
        run = optimize.minimize(f, rng.normal(size=4) * 1.5, jac=lambda x: np.array(g(x), dtype=float),
                                method="BFGS", options={"gtol": 1e-10})
        if best is None or run.fun < best.fun:
            best = run
    return best


@pytest.mark.slow
def test_global_minima_of_a_degree_six_family_against_scipy_from_many_starts():
    """Every member searched at once (find_minima_family, 12 random starts each) finds the
    global minimum that 24 scipy BFGS runs find: the same value and the same |phi_i|."""
    E, C = family_data(MEMBERS)
    starts = 12
    family = minimizer.PotentialFamily(E, C, 2, starts + 1)
    searches = minimizer.find_minima_family(family, [[("origin", np.array([0.1, 0.1j]))]] * len(MEMBERS),
                                            starts=starts, seeds_rng=[11, 12, 13], scales=[1.0] * len(MEMBERS))
    for member, search in zip(MEMBERS, searches):
        reference = scipy_global_minimum(toy_potential(*member))
        assert reference.fun < -1e-3  # a broken phase: the origin is not the minimum
        assert search.best.value == pytest.approx(reference.fun, rel=1e-8)
        found = np.abs(search.best.phi)
        expected = np.abs(reference.x[:2] + 1j * reference.x[2:])
        assert found == pytest.approx(expected, rel=1e-4, abs=1e-5)
