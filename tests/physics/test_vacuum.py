"""Tadpoles, elimination of the mu^2, closed-form stationary points (eqs. A.2-A.3)."""

from __future__ import annotations

import random

import pytest
import numpy as np
import sympy as sp

from symflav import pipeline
from symflav.numerics import minimizer as numeric
from symflav.core import spec


def _symbols(derivation):
    return {p.name: p.symbol for p in derivation["operators"].parameters}


def _random_values(symbols, seed, names=None):
    rng = random.Random(seed)
    return {s: sp.Rational(rng.randint(1, 40), rng.randint(3, 9)) * rng.choice([1, -1] if n.startswith("lambda") else [1])
            for n, s in symbols.items() if names is None or n in names}


def test_general_tadpoles_match_holomorphic_derivative(derivation):
    """dV/dsigma_i = (d/dphi_i + d/dphibar_i) V at phi = phibar = v: an independent route to A.2."""
    pot = derivation["potential"]
    t = derivation["tadpoles"]
    at_vacuum = {**dict(zip(pot.phi, t.vevs)), **dict(zip(pot.phibar, t.vevs))}
    for p, pb, tadpole in zip(pot.phi, pot.phibar, t.general):
        direct = (sp.diff(pot.expr, p) + sp.diff(pot.expr, pb)).xreplace(at_vacuum)
        assert sp.expand(direct - tadpole) == 0


def test_cp_odd_tadpoles_vanish_for_real_couplings(derivation):
    assert all(t == 0 for t in derivation["tadpoles"].cp_odd)


def test_imposed_tadpoles_collapse_to_two_brackets(derivation):
    t = derivation["tadpoles"]
    v_1, v_a = t.free_vevs
    assert [c.tadpoles for c in t.conditions] == [(0, 1), (2, 3)]
    # T_1 = 2 v_1 [..], T_3 = -4 v_1 [..] (v_3 = -2 v_1); T_a = T_b = 2 v_a [..]
    assert [sp.simplify(f) for f in t.conditions[0].factors] == [2 * v_1, -4 * v_1]
    assert [sp.simplify(f) for f in t.conditions[1].factors] == [2 * v_a, 2 * v_a]
    for c in t.conditions:
        for i, f in zip(c.tadpoles, c.factors):
            assert sp.expand(t.imposed[i] - f * c.bracket) == 0
    assert t.stationary and not t.constraints


def test_elimination_solves_every_imposed_tadpole(derivation):
    t = derivation["tadpoles"]
    assert [str(mu) for mu, _ in t.eliminated] == ["mu_1", "mu_a"]
    for tadpole in t.imposed:
        assert sp.expand(tadpole.xreplace(t.elimination_map())) == 0


def test_eliminated_vacuum_is_stationary_numerically(derivation, model):
    """Independent route: the compiled potential's gradient at the aligned vevs with the mu^2 eliminated."""
    t = derivation["tadpoles"]
    S = _symbols(derivation)
    values = _random_values(S, 7)
    values[S["v_1"]], values[S["v_a"]] = sp.Rational(31), sp.Rational(250)
    aligned = {sym: expr.xreplace(values) for sym, expr in t.alignment}
    vevs = {**{v: values[v] for v in t.free_vevs}, **aligned}
    params = {k: v for k, v in values.items() if k not in vevs}
    relations = dict(model.relations)
    for sym, expr in relations.items():
        params[sym] = expr.xreplace(params)
    for mu, expr in t.eliminated:
        params[mu] = sp.sqrt(expr.xreplace({**params, **vevs}))
    for sym, expr in relations.items():
        params[sym] = expr.xreplace(params)
    V = numeric.PolynomialPotential(derivation["potential"], params)
    x = V.point([float(vevs[v]) for v in t.vevs])
    gradient = V.gradient(x)
    assert np.max(np.abs(gradient)) < 1e-9 * abs(V.value(x)) / 250


def test_stationary_points_solve_the_tadpoles_and_give_V(derivation, model):
    t = derivation["tadpoles"]
    assert [p.name for p in t.stationary_points] == ["V_0", "V_1", "V_2", "V_3"]
    S = _symbols(derivation)
    # a parameter point where all four closed forms are real
    values = {S["lambda_1"]: sp.Rational(6), S["lambda_13"]: sp.Rational(3), S["lambdap_13"]: sp.Rational(1, 2),
              S["lambda_1a"]: sp.Rational(1, 5), S["lambda_1ab"]: sp.Rational(-1, 2), S["lambda_a"]: sp.Rational(6),
              S["lambda_ab"]: sp.Rational(2), S["mu_1"]: sp.Integer(150), S["mu_a"]: sp.Integer(1000),
              S["mup_a"]: sp.Integer(10)}
    for p in t.stationary_points:
        free = {v: 0 for v in t.free_vevs}
        squares = {v: X.xreplace(values) for v, X in p.squares}
        assert all(X > 0 for X in squares.values()), p.name
        free.update({v: sp.sqrt(X) for v, X in squares.items()})
        for tadpole in t.imposed:
            assert sp.simplify(tadpole.xreplace(values).xreplace(free)) == 0
        # V from the closed form equals V evaluated directly at the point
        direct = t.potential_at_vacuum.xreplace(values).xreplace(free)
        assert sp.simplify(direct - p.value.xreplace(values)) == 0


def test_minimum_conditions_order_the_stationary_values(derivation):
    """Where the conditions hold, V_3 lies below V_0, V_1, V_2 (checked at random points)."""
    t = derivation["tadpoles"]
    S = _symbols(derivation)
    rng = random.Random(11)
    checked = 0
    for _ in range(200):
        values = {S[n]: sp.Rational(rng.randint(-20, 60), 10) for n in
                  ("lambda_1", "lambda_13", "lambdap_13", "lambda_1a", "lambda_1ab", "lambda_a", "lambda_ab")}
        values.update({S["mu_1"]: sp.Integer(rng.randint(50, 300)), S["mu_a"]: sp.Integer(rng.randint(300, 1500)),
                       S["mup_a"]: sp.Integer(rng.randint(0, 30))})
        ok = all((c.expr.xreplace(values) > 0) for c in t.minimum_conditions if c.relation == ">0")
        if not ok:
            continue
        checked += 1
        V = {p.name: p.value.xreplace(values) for p in t.stationary_points}
        for c in t.minimum_conditions:
            if c.relation == "<=0":
                assert c.expr.xreplace(values) <= 0
        assert V["V_3"] <= min(V["V_0"], V["V_1"], V["V_2"])
    assert checked >= 5


@pytest.mark.slow
def test_changed_charge_reports_non_stationary_alignment():
    """phi3 with charge 2 forbids lambda'_13: the lambda_3 relation, which mentions it, is dropped
    (not re-imposed with a ghost lambda'_13), and T_1 = T_3 at v_3 = -2 v_1 now needs what that
    relation gave at lambda'_13 = 0: 2 lambda_1 + 3 lambda_13 - 8 lambda_3 = 0."""
    model = spec.load(charges=["phi3=2"])
    t = pipeline.run(model, until="tadpoles")["tadpoles"]
    assert not t.stationary
    assert len(t.conditions) == 3 and len(t.eliminated) == 2
    (constraint,) = t.constraints
    assert not constraint.has(sp.Symbol("lambdap_13", real=True))
    s = model.symbols()
    assert sp.cancel(constraint / (2 * s["lambda_1"] + 3 * s["lambda_13"] - 8 * s["lambda_3"])).free_symbols <= {s["v_1"]}
    assert any("not a stationary point" in n for n in t.notes)


@pytest.mark.slow
def test_changed_charge_with_adapted_relations_is_stationary(variant_path):
    """The same charge change with the lambda_3 relation adapted (no lambda'_13): stationary again."""
    model = spec.load(str(variant_path))
    t = pipeline.run(model, until="tadpoles")["tadpoles"]
    assert t.stationary and len(t.conditions) == 2
    assert [p.name for p in t.stationary_points] == ["V_0", "V_1", "V_2", "V_3"]
