"""Observables: mass basis vs mass insertion, the dipole relations, the built-in model's point."""

from __future__ import annotations

import math

import mpmath as mp
import numpy as np
import pytest
import sympy as sp

from symflav.numerics import observables as numeric_observables
from symflav.numerics import points
from symflav.physics import loops, observables


# ------------------------------------------------------------------ two routes on synthetic spectra


@pytest.mark.parametrize("r", [0, 1])
def test_mass_basis_tends_to_mass_insertion_for_a_small_split(r):
    """One complex flavon, V ⊃ m^2 |phi|^2 + delta (phi^2 + h.c.): canonical masses
    m_sigma^2 = m^2 + 2 delta, m_varphi^2 = m^2 - 2 delta, and c = d^2V/dphibar^2 = 2 delta.
    The exact sum over sigma and varphi approaches the one-insertion derivative with an
    error of order delta^2."""
    M, m, uu, m_chain = 1500.0, 300.0, 40.0**2, 0.2
    errors = []
    for eps in (1e-2, 1e-3):
        delta = eps * m**2
        mS, mP = [math.sqrt(m**2 + 2 * delta)], [math.sqrt(m**2 - 2 * delta)]
        basis = numeric_observables.mass_basis_closure(m_chain, uu, M, r, True, [1.0], [1.0], [1.0], [1.0], mS, mP)
        insertion = numeric_observables.mass_insertion_closure(m_chain, 2 * delta, uu, M, r, m / M, m / M)
        errors.append([abs(b / i - 1) for b, i in zip(basis, insertion)])
    for big, small in zip(*errors):
        assert small < 1e-5 and big / small > 50  # quadratic convergence


def test_mixed_pair_mass_basis_tends_to_divided_difference():
    """Two flavons with a small Dirac mixing eps (V ⊃ eps (phi1^dagger phi3 + h.c.)):
    <phi1 phi3^dagger> in the mass basis vs one insertion c = eps between m1 and m3."""
    M, m1, m3, uu, m_chain = 1500.0, 200.0, 500.0, 40.0 * 80.0, 0.3
    errors = []
    for eps in (1e-2 * m1**2, 1e-3 * m1**2):
        mass2 = np.array([[m1**2, eps], [eps, m3**2]])
        w, U = np.linalg.eigh(mass2)
        masses = np.sqrt(w)
        basis = numeric_observables.mass_basis_closure(m_chain, uu, M, 0, False, U[0], U[1], U[0], U[1], masses, masses)
        insertion = numeric_observables.mass_insertion_closure(m_chain, eps, uu, M, 0, m1 / M, m3 / M)
        errors.append([abs(b / i - 1) for b, i in zip(basis, insertion)])
    for big, small in zip(*errors):
        assert small < 1e-4 and big / small > 50


# ------------------------------------------------------------------ dipole relations (eqs. 1.4-1.8, 4.5-4.6)


def test_relations_derived_from_the_dirac_algebra(derivation):
    obs = derivation["observables"]
    rel = observables.dipole_relations()
    delta_a, ReC, m = rel["delta_a"]
    assert sp.simplify(delta_a - m**2 * ReC / (2 * sp.pi**2)) == 0
    d_e, ImC, m, e = rel["d"]
    assert sp.simplify(d_e + e * m * ImC / (4 * sp.pi**2)) == 0
    br, C1, C2, alpha, G_F = rel["br_ratio"]
    assert sp.simplify(br - 3 * alpha * (C1**2 + C2**2) / (sp.pi * G_F**2)) == 0
    assert obs.relation("delta_a_from_C") == delta_a


# ------------------------------------------------------------------ the point table2 of the built-in model


@pytest.fixture(scope="module")
def table2(derivation):
    return derivation, points.observables_at(derivation, "table2")


def test_evaluate_keys_and_route(table2):
    _, ev = table2
    assert ev["route"] == "vevs_with_mu_eliminated"
    for route in ("mass_insertion", "mass_insertion_vacuum", "mass_basis"):
        assert {"delta_a_mu", "delta_a_e", "c_mu", "c_e"} <= set(ev[route])
    assert ev["mass_basis"]["flavor_violation"]["BR_mu_e_gamma"] == 0.0
    assert ev["mass_basis"]["radiative_decays"]["BR_mu_e_gamma"]["reason"].startswith("no chain")


def _appendix_a_numbers(derivation, model):
    """Independent numbers at the appendix-A vacuum of Table 2: the potential (lambdified) at the
    printed vevs with the relations imposed, the two quadratic couplings (phi1, phi3 and phia,
    phib, tied by mu_3 = mu_1, mu_b = mu_a) from the four tadpoles by least squares, the Hessian
    by central differences, numpy.linalg.eigh."""
    pot = derivation["potential"]
    values = numeric_observables.parameter_values(model, "table2")
    for sym, expr in model.relations:
        values[sym] = expr.xreplace(values)
    quad = {op.coefficient: op for op, _ in pot.contributions if op.monomial.degree == 2 and op.monomial.is_hermitian}
    t1, ta = sp.symbols("t1 ta")
    tied = {}
    for coefficient, op in quad.items():
        field = next(name for name, (n, m) in zip(pot.fields, op.monomial.powers) if n)
        tied[coefficient] = t1 if field in ("phi1", "phi3") else ta
    expr = pot.expr.xreplace(tied).xreplace(values)
    Vf = sp.lambdify(list(pot.phi) + list(pot.phibar) + [t1, ta], expr, "numpy")
    vev = np.array([float(values[model.vacuum.vev(n)]) for n in pot.fields])

    def V(real, t):
        phi = vev + real[:4] + 1j * real[4:]
        return Vf(*phi, *np.conj(phi), *t).real

    # V is a quartic polynomial: central differences with steps h and 2h combined by Richardson
    # extrapolation are exact up to round-off (the h^2 term is the last one)
    h = 1.0

    def first(t, e):
        d = [(V(k * h * e, t) - V(-k * h * e, t)) / (2 * k * h) for k in (1, 2)]
        return (4 * d[0] - d[1]) / 3

    def second(t, ei, ej):
        d = [(V(k * h * (ei + ej), t) - V(k * h * (ei - ej), t) - V(k * h * (ej - ei), t) + V(-k * h * (ei + ej), t))
             / (4 * (k * h) ** 2) for k in (1, 2)]
        return (4 * d[0] - d[1]) / 3

    def grad(t):
        return np.array([first(t, e) for e in np.eye(8)[:4]])

    g0 = grad(np.zeros(2))
    A = np.column_stack([grad(e) - g0 for e in np.eye(2)])
    t, *_ = np.linalg.lstsq(A, -g0, rcond=None)
    assert np.max(np.abs(A @ t + g0)) < 1e-6 * np.max(np.abs(g0))  # the alignment is stationary
    H = np.array([[second(t, ei, ej) for ej in np.eye(8)] for ei in np.eye(8)])
    H *= float(model.conventions.mass_matrix_factor)
    return values, H


def _closure(entry, pair):
    return next(c for c in entry["leptons"]["mu"]["closures"] if c["pair"] == pair)


def test_mass_basis_route_against_an_independent_numeric_route(table2, model):
    """The muon's phi1† phi1† closure in the mass basis: spectrum from finite differences of the
    potential (numpy.linalg.eigh), the Feynman-parameter integral by mpmath quadrature."""
    derivation, ev = table2
    values, H = _appendix_a_numbers(derivation, model)
    wS, US = np.linalg.eigh(H[:4, :4])
    wP, UP = np.linalg.eigh(H[4:, 4:])
    assert np.allclose(np.sqrt(wS), ev["mass_basis"]["spectrum"]["scalar_masses"], rtol=1e-8)
    assert np.allclose(np.sqrt(wP), ev["mass_basis"]["spectrum"]["pseudoscalar_masses"], rtol=1e-8)
    # m^RAD = m_chain M^2 sum w I_m(x)/(32 pi^2 v1^2), w = (U_S)_1k^2, -(U_P)_1k^2 (a <phi1 phi1> propagator)
    M = float(values[model.parameter("M_chi").symbol])
    integrand = sp.lambdify((loops.Z, loops.X), loops.loop_function("I_m").integrand, "mpmath")
    total = 0.0
    for w, m2 in list(zip(US[0] ** 2, wS)) + list(zip(-UP[0] ** 2, wP)):
        x = math.sqrt(m2) / M
        total += w * float(mp.quad(lambda z: integrand(z, x), [0, 1 - x * x if x < 1 else 0.5, 1]))
    g, vH, v1 = (float(values[model.parameter(n).symbol]) for n in ("g_mu", "v_H", "v_1"))
    m_chain = -g**3 * vH / math.sqrt(2) * v1**2 / M**2
    independent = m_chain * M**2 * total / (32 * math.pi**2 * v1**2)
    assert _closure(ev["mass_basis"], ["phi1†", "phi1†"])["m_RAD"] == pytest.approx(independent, rel=1e-6)


def test_mass_insertion_route_against_an_independent_numeric_route(table2, model):
    """The same closure by one insertion: c = d^2V/dphi1^2 = (M_S^2 - M_P^2)_11 / 2 (finite
    differences), unperturbed mass sqrt|mu_1^2| (bilinear; mu_1^2 from the tadpoles) or the
    vacuum diagonal (M_S^2 + M_P^2)_11 / 2, and I_m^x by mpmath quadrature of its integrand."""
    derivation, ev = table2
    values, H = _appendix_a_numbers(derivation, model)
    c = (H[0, 0] - H[4, 4]) / 2
    M = float(values[model.parameter("M_chi").symbol])
    g, vH, v1, va = (float(values[model.parameter(n).symbol]) for n in ("g_mu", "v_H", "v_1", "v_a"))
    mu1_squared = ev["mass_insertion"]["unperturbed_masses"]["phi1"] ** 2
    # mu_1^2 from the phi1 tadpole: dV/dsigma_1 = 0 with V ⊃ -mu_1^2 |phi1|^2 (appendix A sign)
    lam = {n: float(values[model.parameter(n).symbol]) for n in ("lambda_1", "lambda_13", "lambda_1a", "lambda_1ab",
                                                                  "lambdap_13")}
    tadpole_mu1 = (2 * lam["lambda_1"] + 4 * lam["lambda_13"] - 6 * lam["lambdap_13"]) * v1**2 \
        + 2 * (lam["lambda_1a"] + lam["lambda_1ab"]) * va**2
    assert mu1_squared == pytest.approx(abs(tadpole_mu1), rel=1e-12) and tadpole_mu1 < 0
    integrand = sp.lambdify((loops.Z, loops.X), loops.loop_function("I_m", 1).integrand, "mpmath")
    m_chain = -g**3 * vH / math.sqrt(2) * v1**2 / M**2
    for route, m0 in (("mass_insertion", math.sqrt(mu1_squared)), ("mass_insertion_vacuum", math.sqrt((H[0, 0] + H[4, 4]) / 2))):
        x = m0 / M
        Imx = float(mp.quad(lambda z: integrand(z, x), [0, 1]))
        independent = m_chain * c * Imx / (16 * math.pi**2 * v1**2)
        assert _closure(ev[route], ["phi1†", "phi1†"])["m_RAD"] == pytest.approx(independent, rel=1e-8)


def test_mass_insertion_is_the_first_order_of_the_mass_basis(table2):
    """Shrink every insertion at the Table 2 vacuum: with D = (M_S^2 + M_P^2)/2 (the
    d^2V/dphi dphibar block) and C = (M_S^2 - M_P^2)/2 (d^2V/dphi^2), the deformed matrices
    diag D + s (offdiag D +- C) give a mass basis whose m^RAD and Delta a/m, divided by s,
    tend to the mass-insertion route with the vacuum diagonal as unperturbed masses, with an
    error linear in s."""
    derivation, ev = table2
    names = derivation.model.symbols()
    given, _, _ = points.point_values(derivation.model, "table2", {})
    vacuum = points.eliminated_vacuum(derivation, {names[k]: v for k, v in given.items()})
    D = (vacuum.exact.M_S2 + vacuum.exact.M_P2) / 2
    C = (vacuum.exact.M_S2 - vacuum.exact.M_P2) / 2
    diagonal, off = np.diag(np.diag(D)), D - np.diag(np.diag(D))
    reference = ev["mass_insertion_vacuum"]["leptons"]
    errors = []
    for s in (1e-2, 1e-3):
        wS, US = np.linalg.eigh(diagonal + s * (off + C))
        wP, UP = np.linalg.eigh(diagonal + s * (off - C))
        deformed = numeric_observables.evaluate(
            derivation, {**vacuum.values, **vacuum.vevs},
            {"scalar_masses": np.sqrt(wS), "pseudoscalar_masses": np.sqrt(wP), "U_S": US, "U_P": UP},
            route="deformed")["mass_basis"]["leptons"]
        errors.append(max(abs(deformed[l][k] / s / reference[l][k] - 1)
                          for l in ("mu", "e") for k in ("m_RAD",)))
        for lepton in ("mu", "e"):
            per_closure = [abs(d["delta_a_over_m"] / s / r["delta_a_over_m"] - 1) for d, r in
                           zip(deformed[lepton]["closures"], reference[lepton]["closures"])]
            errors[-1] = max(errors[-1], *per_closure)
    assert errors[1] < 1e-2 and 5 < errors[0] / errors[1] < 20  # linear in s


