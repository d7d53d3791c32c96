"""An omitted invariant switched on at a benchmark, and the vacuum near a printed benchmark.

The generic numerics (:mod:`symflav.numerics.deformation`) and the verify layer's use of them
(:mod:`symflav.verify.benchmark`) are held against independent routes: a potential written by
hand for a small toy model (its stationary point by scipy's root finder, its masses by mpmath
finite differences), first-order perturbation theory at small coupling, and, on the built-in
model, finite differences of the potential and the spectrum route of ``symflav spectrum``.
"""

from __future__ import annotations

import mpmath
import numpy as np
import pytest
import sympy as sp
from scipy import optimize

from symflav import pipeline
from symflav.core import spec
from symflav.core.printed import load as load_registry
from symflav.numerics import deformation
from symflav.physics import potential as potential_mod
from symflav.verify import benchmark
from symflav.verify.providers import Context

from conftest import finite_difference_hessian

# two fields of U(1) charges 1 and 2: the cubic f2† f1^2 is allowed and dropped
TOY = """
[derivation]
name = "dropper"
degree = 4

[symmetries.U]
group = "U1"

[[scalars]]
name = "f1"
label = "1"
charges = { U = "1" }

[[scalars]]
name = "f2"
label = "2"
charges = { U = "2" }

[parameters]
m_1 = { kind = "mass" }
m_2 = { kind = "mass" }
l_1 = {}
l_2 = {}
l_12 = {}
v_1 = { kind = "vev" }
v_2 = { kind = "vev" }

[[terms]]
operator = "f1† f1"
coefficient = "m_1^2"
[[terms]]
operator = "f2† f2"
coefficient = "m_2^2"
[[terms]]
operator = "(f1† f1)^2"
coefficient = "l_1"
[[terms]]
operator = "(f2† f2)^2"
coefficient = "l_2"
[[terms]]
operator = "(f1† f1) (f2† f2)"
coefficient = "l_12"

[[drop]]
operator = "f2† f1^2"
reason = "left out for the test"

[conventions]
quadratic_sign = -1
nonhermitian_factor = "1"
field_expansion = "unnormalized"
mass_matrix_factor = "1/2"

[vacuum]
vevs = { f1 = "v_1", f2 = "v_2" }

[points.bench]
v_1 = 100
v_2 = 60
l_1 = 0.5
l_2 = 0.8
l_12 = 0.3
m_1 = 1
m_2 = 1
"""
L1, L2, L12, V1, V2 = 0.5, 0.8, 0.3, 100.0, 60.0
COUPLINGS = (-2.0, -0.2, 0.0, 0.2, 2.0)  # GeV: the dropped operator is cubic


def toy_potential(z, c, m1s, m2s):
    """V of the toy by hand: z = (s1, s2, p1, p2) around (V1, V2), f_i = v_i + s_i + i p_i,
    V = -m1^2|f1|^2 - m2^2|f2|^2 + l1|f1|^4 + l2|f2|^4 + l12|f1|^2|f2|^2 + c (f2* f1^2 + h.c.)."""
    x1, x2, p1, p2 = V1 + z[0], V2 + z[1], z[2], z[3]
    a1, a2 = x1**2 + p1**2, x2**2 + p2**2
    cubic = (x1**2 - p1**2) * x2 + 2 * x1 * p1 * p2  # Re(f2* f1^2)
    return -m1s * a1 - m2s * a2 + L1 * a1**2 + L2 * a2**2 + L12 * a1 * a2 + 2 * c * cubic


def toy_mu_squared():
    """m_i^2 that make (V1, V2) stationary at c = 0 (the tadpoles solved by hand)."""
    return 2 * L1 * V1**2 + L12 * V2**2, 2 * L2 * V2**2 + L12 * V1**2


def _squares(masses):
    """Signed masses (GeV) back to squared masses (GeV^2)."""
    m = np.asarray(masses, float)
    return np.sign(m) * m**2


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    path = tmp_path_factory.mktemp("dropper") / "model.toml"
    path.write_text(TOY, encoding="utf-8")
    derivation = pipeline.run(spec.load(str(path)), until="mass_matrices")
    ctx = Context(derivation, None)
    (term,) = benchmark.omitted_terms(ctx, "bench", COUPLINGS)
    return term


@pytest.mark.slow
def test_the_toy_vacuum_with_the_dropped_term_is_the_root_of_the_hand_written_tadpoles(toy):
    """The real stationary point at each coupling (a minimum for c < 0; for c > 0 the relative
    phase turns tachyonic, so it is a saddle -- the masses test checks that sign)."""
    m1s, m2s = toy_mu_squared()
    for row in toy.rows:
        c = row["coupling"]

        def tadpoles(x, c=c):
            x1, x2 = x
            return [-2 * m1s * x1 + 4 * L1 * x1**3 + 2 * L12 * x1 * x2**2 + 4 * c * x1 * x2,
                    -2 * m2s * x2 + 4 * L2 * x2**3 + 2 * L12 * x1**2 * x2 + 2 * c * x1**2]

        root = optimize.fsolve(tadpoles, [V1, V2], xtol=1e-13)
        assert row["converged"] and row["minimum"] == (c <= 0)
        assert np.allclose(row["vevs"], root, rtol=1e-5), c


def test_the_toy_vevs_follow_first_order_perturbation_theory_at_small_coupling(toy):
    """v(c) - v(0) = c dv/dc + O(c^2), with dv/dc = -H^{-1} dT/dc from the hand-written potential."""
    m1s, m2s = toy_mu_squared()
    H = finite_difference_hessian(lambda z: toy_potential(z, 0, m1s, m2s), [0, 0, 0, 0])[:2, :2]
    dT = np.array([4 * V1 * V2, 2 * V1**2])  # d/ds_i of 2 (v1 + s1)^2 (v2 + s2) at the benchmark
    first = -np.linalg.solve(H, dT)
    assert np.allclose(toy.first_order[:2], first, rtol=1e-6)
    small = [r for r in toy.rows if abs(r["coupling"]) == 0.2]
    for row in small:
        shift = np.array(row["vevs"]) - [V1, V2]
        assert np.allclose(shift, row["coupling"] * first, rtol=0.05)


def test_the_toy_masses_are_the_eigenvalues_of_the_finite_difference_hessian(toy):
    m1s, m2s = toy_mu_squared()
    for row in toy.rows:
        c = row["coupling"]
        z = [row["vevs"][0] - V1, row["vevs"][1] - V2, 0, 0]
        H = finite_difference_hessian(lambda y, c=c: toy_potential(y, c, m1s, m2s), z)
        expected = np.concatenate([np.linalg.eigvalsh(H[:2, :2] / 2), np.linalg.eigvalsh(H[2:, 2:] / 2)])
        assert np.allclose(_squares(row["masses"]), expected, rtol=1e-5, atol=1e-5 * abs(expected).max()), c


def test_a_branch_that_ends_is_reported_with_the_minimum_a_descent_reaches():
    """V = x^4/4 - x^2/2 + c x around the minimum x = 1: the branch ends at c = 2/(3 sqrt3)
    (x = 1/sqrt3); beyond it the only minimum is the root of x^3 - x + c near -1.32."""
    u = sp.Symbol("u")
    x = 1 + u
    poly = deformation.Polynomial.of(sp.expand(x**4 / 4 - x**2 / 2), sp.expand(x), [u])
    near, far = deformation.follow(poly, (0.1, 1.0))
    assert near.converged and near.branch_end is None
    assert near.x[0] + 1 == pytest.approx(max(np.roots([1, 0, -1, 0.1]).real), rel=1e-9)
    assert far.branch_end is not None and 0.3 < far.branch_end < 2 / (3 * np.sqrt(3))
    assert far.minimum and far.x[0] + 1 == pytest.approx(min(np.roots([1, 0, -1, 1.0]).real), rel=1e-9)


@pytest.fixture(scope="module")
def built_in(derivation):
    """The built-in derivation's context and its omitted operator switched on at Table 2."""
    ctx = Context(derivation, load_registry(derivation.model))
    (term,) = benchmark.omitted_terms(ctx, "table2", (0.0, 0.01))
    return ctx, term


@pytest.mark.slow
def test_built_in_omitted_term_at_c_0_is_the_benchmark_of_check(built_in, derivation):
    """At c = 0 the vevs are the printed ones and the masses the check's exact Table 2 masses."""
    _, term = built_in
    zero = next(r for r in term.rows if r["coupling"] == 0)
    assert zero["vevs"] == [42, -84, 262, 262] and zero["V_minus_V_benchmark"] == 0
    report = derivation.results["checks"]
    exact = {r.entry: float(r.derived) for r in report.results if r.equation == "Table 2" and r.object == "spectrum"}
    assert np.allclose(zero["masses"], [exact[f"m_{label}"] for label in term.labels], rtol=1e-5)


def test_built_in_vevs_at_small_coupling_follow_the_first_order_shift(built_in):
    """Central differences of the re-solved stationary point at c = +-1e-5 against -H^{-1} dT/dc;
    the reported first-order shifts are its vev components."""
    ctx, term = built_in
    ((_, poly),) = benchmark.deformed_potentials(ctx, "table2")
    down, up = deformation.follow(poly, (-1e-5, 1e-5))
    slope = (up.x - down.x) / 2e-5
    first = deformation.first_order_shift(poly)
    assert np.allclose(slope, first, rtol=1e-4, atol=1e-6 * abs(first).max())
    assert np.allclose(term.first_order, first[: len(term.vevs)], rtol=1e-12)


@pytest.mark.slow
def test_built_in_masses_at_c_001_are_the_finite_difference_hessian_eigenvalues(built_in):
    """The potential with the dropped operator written out by sympy, its Hessian by mpmath
    finite differences at the re-solved vacuum (c = 0.01): its eigenvalues (times the mass-matrix
    factor 1/2) are the reported squared masses."""
    ctx, term = built_in
    row = next(r for r in term.rows if r["coupling"] == 0.01)
    ((op, poly),) = benchmark.deformed_potentials(ctx, "table2")
    (found,) = deformation.follow(poly, (0.01,), factor=0.5)
    v0, values = benchmark.benchmark_potential(ctx, "table2")
    real, pot = ctx.stage("real_potential"), ctx.stage("potential")
    subs = potential_mod.field_expansion(pot, real.vevs, real.sigma, real.varphi)
    term_expr = (potential_mod.monomial_expr(op.monomial, pot.phi, pot.phibar)
                 + potential_mod.monomial_expr(op.monomial.conjugate(), pot.phi, pot.phibar)).xreplace(subs)
    full = v0 + sp.Rational(1, 100) * term_expr.xreplace({k: sp.Float(v, 30) for k, v in values.items()})
    g = sp.lambdify([real.sigma + real.varphi], full, "mpmath")
    f = lambda y: mpmath.re(g(y))  # noqa: E731  (the imaginary parts cancel)
    H = finite_difference_hessian(f, found.x, step="1e-4")
    n = len(real.vevs)
    expected = np.concatenate([np.linalg.eigvalsh(H[:n, :n] / 2), np.linalg.eigvalsh(H[n:, n:] / 2)])
    assert np.allclose(np.sort(found.squared_masses), np.sort(expected), rtol=1e-7, atol=1e-9 * abs(expected).max())
    reported = np.concatenate([np.sort(_squares(row["masses"][:n])), np.sort(_squares(row["masses"][n:]))])
    assert np.allclose(reported, expected, rtol=1e-5)
    assert np.allclose(row["vevs"], [float(values[v]) for v in real.vevs] + found.x[:n], rtol=5e-6)  # 6 digits
