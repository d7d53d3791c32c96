"""Vacua in the generated module: solve_mu2 and minimize, checked against the tadpoles stage's
own elimination of mu^2 (sympy), scipy's minimizer from many starts, and the rephasing group
of the numeric minimum search."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

from symflav.codegen.vacua import rephasings
from symflav.numerics import minimizer
from toymodels import TWO_FIELDS, generated, load, write_model

scipy_optimize = pytest.importorskip("scipy.optimize")


@pytest.fixture(scope="module")
def numeric(derivation, tmp_path_factory):
    from symflav.codegen.assemble import build_numeric_module

    path = tmp_path_factory.mktemp("vacua") / "numeric_vacua_under_test.py"
    path.write_text(build_numeric_module(derivation), encoding="utf-8")
    return load(path, "numeric_vacua_under_test")


def _point(numeric):
    p = dict(numeric.POINTS["table2"])
    return np.array([p[v] for v in numeric.VEVS]), p


@pytest.mark.slow
def test_solve_mu2_gives_the_elimination_of_the_tadpoles_stage(numeric, derivation):
    """The appendix-A route: mu^2 from the tadpoles at the printed vevs; the same numbers as the
    tadpoles stage's symbolic elimination (relations and alignment imposed), and a stationary point."""
    vevs, p = _point(numeric)
    q = numeric.solve_mu2(vevs, **p)
    assert set(numeric.QUADRATIC) == {"mu_1", "mu_3", "mu_a", "mu_b"}
    assert not {"mu_1", "mu_3", "mu_a", "mu_b"} & set(q) and q["M_chi"] == p["M_chi"]
    T = numeric.tadpoles(vevs, **q)
    assert np.abs(T).max() < 1e-12 * np.abs(numeric.tadpoles(vevs, **p)).max()
    model = derivation.model
    symbols = {p_.name: p_.symbol for p_ in derivation["operators"].parameters}
    values = {symbols[k]: sp.Rational(str(v)) for k, v in p.items() if k in symbols}
    for s, expr in model.relations:  # the stage imposes the relations (Table 2 does not satisfy all of them)
        values[s] = expr.xreplace(values)
    related = numeric.solve_mu2(vevs, **{**p, **{str(s): float(values[s]) for s, _ in model.relations}})
    for mu, expr in derivation["tadpoles"].eliminated:  # mu**2 in terms of the free vevs
        assert related[f"{mu}_sq"] == pytest.approx(float(expr.xreplace(values)), rel=1e-12)
    assert q["mu_1_sq"] == pytest.approx(-153108.72, rel=1e-9)  # mu_1^2 < 0 at the appendix-A vacuum


def test_solve_mu2_broadcasts_and_marks_what_the_tadpoles_do_not_fix(numeric):
    vevs, p = _point(numeric)
    grid = vevs * np.linspace(0.9, 1.1, 5)[:, None]
    q = numeric.solve_mu2(grid, **p)
    assert q["mu_a_sq"].shape == (5,)
    assert np.abs(numeric.tadpoles(grid, **q)).max() < 1e-6
    zero = vevs.copy()
    zero[0] = 0.0  # phi1 without vev: mu_1^2 enters no tadpole
    q0 = numeric.solve_mu2(zero, **p)
    assert np.isnan(q0["mu_1_sq"]) and np.isfinite(q0["mu_a_sq"])


def _scipy_global(numeric, p, starts=60, scale=500.0, seed=3):
    rng = np.random.default_rng(seed)
    best = None
    for _ in range(starts):
        x0 = rng.normal(size=8) * scale * rng.choice([0.3, 1.0, 3.0])
        result = scipy_optimize.minimize(lambda x: numeric.potential(x[:4] + 1j * x[4:], **p), x0,
                                         jac=lambda x: numeric.gradient(x[:4] + 1j * x[4:], **p), method="BFGS",
                                         options={"gtol": 1e-6, "maxiter": 3000})
        if best is None or result.fun < best.fun:
            best = result
    return best


@pytest.mark.slow
def test_minimize_finds_the_global_minimum_that_scipy_finds(numeric):
    vevs, p = _point(numeric)
    for point in (p, numeric.solve_mu2(vevs, **p)):
        found = numeric.minimize(**point, seed=7)
        theirs = _scipy_global(numeric, point)
        assert found.V <= theirs.fun + 1e-9 * abs(theirs.fun)
        assert theirs.fun >= found.V - 1e-9 * abs(found.V)
        assert found.global_within_search and found.runaway == 0
        assert found.vevs is not None and np.allclose(np.sort(np.abs(found.vevs)),
                                                      np.sort(np.abs(theirs.x[:4] + 1j * theirs.x[4:])), rtol=1e-4)
        assert found.masses2.min() > -1e-6 * found.masses2.max()
        np.testing.assert_allclose(np.linalg.eigvalsh(numeric.hessian(found.phi, **point) / 2), found.masses2,
                                   rtol=1e-9, atol=1e-6 * found.masses2.max())
    # with mu^2 eliminated at the printed vevs, they are the global minimum (appendix A)
    assert np.allclose(numeric.minimize(**numeric.solve_mu2(vevs, **p)).vevs, vevs, rtol=1e-7)


def test_minimize_is_seeded_and_checks_its_input(numeric):
    _, p = _point(numeric)
    a, b = numeric.minimize(**p, seed=3), numeric.minimize(**p, seed=3)
    assert a.V == b.V and np.array_equal(a.phi, b.phi)
    with pytest.raises(ValueError, match="one parameter point at a time; lambda_1"):
        numeric.minimize(**{**p, "lambda_1": [1.0, 2.0]})
    with pytest.raises(TypeError, match="lambda_1 must be a number"):
        numeric.minimize(**{**p, "lambda_1": None})
    with pytest.raises(ValueError, match="no starting point"):
        numeric.minimize(**{k: v for k, v in p.items() if k != "v_1"}, starts=0)


def test_rephasing_group_written_into_the_module_is_that_of_the_minimum_search(derivation):
    finite, continuous = rephasings(derivation["operators"])
    ref_finite, ref_continuous = minimizer.rephasing_group(derivation["operators"])
    assert sorted(map(tuple, np.round(finite, 12))) == sorted(map(tuple, np.round(ref_finite, 12)))
    assert np.asarray(continuous).size == ref_continuous.size == 0


def test_two_minima_of_a_toy_model(tmp_path):
    """Both minima, lowest first, with the analytic depths -(m^2 + 2 m'^2)^2 / (4 lambda)."""
    toy = generated(write_model(tmp_path / "two", TWO_FIELDS), "two_minima")
    p = toy.POINTS["p"]
    found = toy.minimize(**p)
    assert len(found.minima) == 2 and found.global_within_search
    depth1 = -(p["size"] ** 2 + 2 * p["phi"] ** 2) ** 2 / (4 * p["np"])
    depth2 = -(p["vevs"] ** 2 + 2 * p["phi"] ** 2 / 4) ** 2 / (4 * p["sum"])
    assert [m[1] for m in found.minima] == pytest.approx(sorted([depth1, depth2]), rel=1e-12)
    assert found.vevs[0] == 0 and abs(found.vevs[1]) == pytest.approx(np.sqrt((p["vevs"] ** 2 + p["phi"] ** 2 / 2)
                                                                             / (2 * p["sum"])), rel=1e-10)
