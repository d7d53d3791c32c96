"""Numerics: compiled potential, minimum search confirmed by scipy, rephasing, exact spectrum."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

from symflav.numerics import points as benchmark
from symflav.numerics import minimizer as numeric

scipy_optimize = pytest.importorskip("scipy.optimize")


def _values(derivation, model, point="table2", **changes):
    sym = {p.name: p.symbol for p in derivation["operators"].parameters}
    values = {sym[k]: v for k, v in model.point(point).as_dict().items()}
    values.update({sym[k]: sp.nsimplify(v) for k, v in changes.items()})
    vevs = {v for _, v in model.vacuum.vevs}
    return {k: v for k, v in values.items() if k not in vevs}


def _scipy_global(V, n_starts=80, seed=1, scale=400.0):
    """Independent search: scipy BFGS from many random starts (gradient checked against finite
    differences in the first test)."""
    rng = np.random.default_rng(seed)
    best = None
    for _ in range(n_starts):
        x0 = rng.normal(size=2 * V.n) * scale * rng.choice([0.3, 1.0, 3.0])
        result = scipy_optimize.minimize(V.value, x0, jac=V.gradient, method="BFGS",
                                         options={"gtol": 1e-6, "maxiter": 2000})
        if best is None or result.fun < best.fun:
            best = result
    return best


def test_compiled_potential_matches_direct_complex_evaluation(derivation, model):
    pot = derivation["potential"]
    values = _values(derivation, model)
    V = numeric.PolynomialPotential(pot, values)
    f = sp.lambdify(pot.phi + pot.phibar, pot.expr.xreplace(values), "numpy")
    rng = np.random.default_rng(3)
    for _ in range(5):
        x = rng.normal(size=8) * 200
        phi = x[:4] + 1j * x[4:]
        direct = f(*phi, *np.conj(phi)).real
        assert V.value(x) == pytest.approx(direct, rel=1e-12)
        h = 1e-3
        fd = np.array([(V.value(x + h * e) - V.value(x - h * e)) / (2 * h) for e in np.eye(8)])
        assert np.allclose(V.gradient(x), fd, rtol=1e-6, atol=1e-6 * np.max(np.abs(fd)))
        fdH = np.array([(V.gradient(x + h * e) - V.gradient(x - h * e)) / (2 * h) for e in np.eye(8)])
        assert np.allclose(V.hessian(x), fdH, rtol=1e-6, atol=1e-6 * np.max(np.abs(fdH)))


@pytest.mark.slow
def test_global_minimum_as_printed_confirmed_by_scipy(derivation, model):
    values = _values(derivation, model)
    V = numeric.PolynomialPotential(derivation["potential"], values)
    ours = numeric.find_minima(V, [("printed", [42, -84, 262, 262])], starts=24, scale=500)
    theirs = _scipy_global(V)
    assert theirs.fun >= ours.best.value - 1e-9 * abs(ours.best.value)
    assert ours.best.value <= theirs.fun + 1e-7 * abs(theirs.fun)
    moduli = np.sort(np.abs(V.fields_of(theirs.x)))
    assert np.allclose(np.sort(np.abs(ours.best.phi)), moduli, rtol=1e-4)
    # not the printed vacuum: the printed vevs are not even stationary
    assert V.value(V.point([42, -84, 262, 262])) > ours.best.value + 1e9


@pytest.mark.slow
def test_appendix_a_vacuum_is_the_global_minimum(derivation):
    """mu^2 eliminated at the printed vevs: the aligned point is the global minimum (scipy agrees)."""
    result = benchmark.evaluate(derivation, "table2", starts=16)
    route = result["routes"]["vevs_with_mu_eliminated"]
    assert route["requested_alignment_is_global_minimum"] and route["local_minimum"]
    assert route["hessian_cross_check"] < 1e-12
    model = derivation.model
    sym = {p.name: p.symbol for p in derivation["operators"].parameters}
    values = _values(derivation, model)
    for s, expr in model.relations:
        values[s] = expr.xreplace(values)
    vevs = {sym["v_1"]: 42, sym["v_a"]: 262}
    for mu, expr in derivation["tadpoles"].eliminated:
        values[mu] = sp.sqrt(expr.xreplace({**values, **vevs}))
    for s, expr in model.relations:
        values[s] = expr.xreplace(values)
    V = numeric.PolynomialPotential(derivation["potential"], values)
    theirs = _scipy_global(V, n_starts=60)
    assert theirs.fun >= route["potential_at_vacuum"] - 1e-9 * abs(route["potential_at_vacuum"])


@pytest.mark.slow
def test_closed_form_point_is_what_the_search_finds(derivation):
    result = benchmark.evaluate(derivation, "table2", starts=16)
    route = result["routes"]["relations_imposed"]
    v3 = next(p for p in route["closed_form_points"] if p["name"] == "V_3")
    assert v3["local_minimum"]
    assert route["potential_min"] == pytest.approx(v3["potential"], rel=1e-10)
    assert route["vevs"]["phi1"] == pytest.approx(v3["vevs"]["phi1"], rel=1e-6)
    assert route["aligned"] and len(route["minimum_check"]["distinct_minima"]) == 1


@pytest.mark.slow
def test_every_distinct_minimum_is_found_with_its_gap(derivation, model):
    """A point with two minima (phi_1,3 vs phi_a,b sectors repel): both found, confirmed by scipy."""
    values = _values(derivation, model, lambda_1a=20, lambda_1b=20, lambda_3a=20, lambda_3b=20, mu_1=800, mu_3=800)
    V = numeric.PolynomialPotential(derivation["potential"], values)
    search = numeric.find_minima(V, starts=32, scale=500)
    assert len(search.minima) == 2
    low, high = search.minima
    assert high.value - low.value > 1e10
    for m in search.minima:
        local = scipy_optimize.minimize(V.value, V.point(m.phi) * 1.01, method="BFGS", options={"gtol": 1e-6})
        assert local.fun == pytest.approx(m.value, rel=1e-9)
    assert _scipy_global(V, n_starts=60).fun >= low.value - 1e-9 * abs(low.value)


def test_rephasing_group_holds_only_symmetries(derivation, model):
    table = derivation["operators"]
    finite, continuous = numeric.rephasing_group(table)
    assert continuous.shape[1] == 0 and len(finite) == 8  # mu' breaks both U(1)s; a discrete group remains
    V = numeric.PolynomialPotential(derivation["potential"], _values(derivation, model))
    rng = np.random.default_rng(0)
    phi = rng.normal(size=4) * 100 + 1j * rng.normal(size=4) * 100
    for theta in finite:
        assert V.value(V.point(phi * np.exp(1j * theta))) == pytest.approx(V.value(V.point(phi)), rel=1e-12)
    real = np.array([140.0, -27.0, 265.0, 265.0])
    rotated, _ = numeric.rephase(real * np.exp(1j * finite[3]), (finite, continuous))
    assert np.allclose(rotated.imag, 0) and np.allclose(np.abs(rotated), np.abs(real))
    # a U(1) rotation that is not a symmetry is not undone
    broken = real * np.exp(1j * np.array([0.3, 0.9, 0.3, 0.3]))
    _, residual = numeric.rephase(broken, (finite, continuous))
    assert residual > 1e-3


def test_goldstones_at_the_numeric_minimum_without_explicit_breaking(derivation, model):
    values = _values(derivation, model, mup_a=0, mup_b=0)
    for s, expr in model.relations:
        values[s] = expr.xreplace(values)
    V = numeric.PolynomialPotential(derivation["potential"], values)
    search = numeric.find_minima(V, starts=16, scale=500)
    group = numeric.rephasing_group(derivation["operators"], values)
    assert group[1].shape[1] == 2  # the two U(1)s of footnote 5 are exact symmetries at mu' = 0
    phi, residual = numeric.rephase(search.best.phi, group)
    assert residual < 1e-7
    spectrum = numeric.exact_spectrum(V, phi.real)
    top = np.max(np.abs(spectrum.pseudoscalar_masses2))
    assert np.sum(np.abs(spectrum.pseudoscalar_masses2) < 1e-7 * top) == 2
    assert np.sum(np.abs(spectrum.scalar_masses2) < 1e-7 * top) == 0
