"""The potential: conventions applied, hermiticity, real expansion (eq. A.1)."""

from __future__ import annotations

import dataclasses

import pytest
import sympy as sp

from symflav.physics import invariants, potential
from symflav.core import symbols


def _build(model, **conv):
    conventions = dataclasses.replace(model.conventions, **conv)
    table = invariants.operator_table(model)
    return potential.build_potential(table, conventions)


def test_potential_is_hermitian(model):
    pot = _build(model)
    swap = {**dict(zip(pot.phi, pot.phibar)), **dict(zip(pot.phibar, pot.phi))}
    assert sp.expand(pot.expr.xreplace(swap) - pot.expr) == 0


@pytest.mark.slow
def test_real_expansion_is_real_and_matches_direct_substitution(model):
    pot = _build(model)
    vevs = [v for _, v in model.vacuum.vevs]
    real = potential.expand_real(pot, vevs)
    assert not real.expr.has(sp.I)
    # Independent route: numbers for every symbol, complex arithmetic on phi = v + s + i f.
    rng = __import__("random").Random(3)
    values = {s: sp.Rational(rng.randint(-9, 9), rng.randint(1, 5)) for s in real.expr.free_symbols}
    phis = [values.get(v, 0) + values.get(s, 0) + sp.I * values.get(f, 0)
            for v, s, f in zip(vevs, real.sigma, real.varphi)]
    direct = pot.expr.xreplace({**dict(zip(pot.phi, phis)), **dict(zip(pot.phibar, [sp.conjugate(p) for p in phis]))})
    direct = direct.xreplace(values)
    assert sp.simplify(real.expr.xreplace(values) - direct) == 0


def test_quadratic_sign_and_nonhermitian_factor(model):
    mu_1 = symbols.parameter("mu_1", "mass")
    mup_a = symbols.parameter("mup_a", "mass")
    lam = symbols.parameter("lambda_1ab")
    minus = _build(model)
    plus = _build(model, quadratic_sign=1, nonhermitian_factor=sp.Rational(1, 2))
    gens = minus.phi + minus.phibar

    def coefficient(pot, monomial):
        return sp.Poly(pot.expr, *gens).coeff_monomial(monomial)

    p1, pb1, pa, pba, pbb = minus.phi[0], minus.phibar[0], minus.phi[2], minus.phibar[2], minus.phibar[3]
    assert coefficient(minus, p1 * pb1) == -mu_1**2
    assert coefficient(plus, p1 * pb1) == mu_1**2
    assert coefficient(minus, pa**2) == -mup_a**2
    assert coefficient(plus, pa**2) == mup_a**2 / 2
    assert coefficient(plus, p1**2 * pba * pbb) == lam / 2
    assert coefficient(minus, p1**2 * pba * pbb) == lam


def test_canonical_expansion_rescales_fields(model):
    pot = _build(model, field_expansion="canonical")
    vevs = [v for _, v in model.vacuum.vevs]
    real = potential.expand_real(pot, vevs)
    lam = symbols.parameter("lambda_1")
    v1 = vevs[0]
    # lambda_1 |phi_1|^4 with phi_1 = v_1/sqrt(2): lambda_1 v_1^4 / 4
    at_vacuum = real.expr.xreplace({c: 0 for c in real.components})
    assert sp.expand(at_vacuum).coeff(v1**4) == lam / 4
