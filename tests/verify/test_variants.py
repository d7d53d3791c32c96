"""The convention laws of symflav.verify.variants against a full re-derivation under each variant."""

from __future__ import annotations

import dataclasses
import random

import pytest
import sympy as sp

from symflav import pipeline
from symflav.verify import checks
from symflav.core import printed
from symflav.verify import providers, variants


@pytest.fixture(scope="module")
def base(model, study):
    return pipeline.run(model, study=study, until="paper")


@pytest.fixture(scope="module", params=["eq3_3_sign", "half-nonhermitian", "canonical"])
def variant(request, model, base, study):
    name = request.param
    conventions = dict(model.variants)[name]
    full = pipeline.run(model.with_conventions(conventions), study=study, until="paper")
    return name, variants.law(base, name, conventions), full


def _same(a, b, seed=3):
    """Equal at random rational points (exactly, unevaluated functions kept opaque)."""
    a, b = sp.sympify(a), sp.sympify(b)
    calls = {c: sp.Dummy() for c in (a.atoms(sp.core.function.AppliedUndef) | b.atoms(sp.core.function.AppliedUndef))}
    a, b = a.xreplace(calls), b.xreplace(calls)
    free = sorted(a.free_symbols | b.free_symbols, key=str)
    rng = random.Random(seed)
    for _ in range(3):
        point = {s: sp.Rational(rng.randint(11, 97), rng.randint(13, 61)) for s in free}
        if sp.N(a.xreplace(point) - b.xreplace(point), 30) != 0 and \
                abs(complex(sp.N(a.xreplace(point) - b.xreplace(point), 30))) > 1e-20:
            return False
    return True


@pytest.mark.slow
def test_every_declared_variant_has_a_law(variant):
    name, law, _ = variant
    assert law is not None and law.name == name


@pytest.mark.slow
def test_tadpole_law(base, variant):
    _, law, full = variant
    for mine, theirs in zip(base["tadpoles"].general, full["tadpoles"].general):
        assert sp.expand(law.apply("tadpole", mine) - theirs) == 0


@pytest.mark.slow
def test_stationarity_claim_matches_the_rederivation(variant):
    _, law, full = variant
    assert law.stationary == full["tadpoles"].stationary


@pytest.mark.slow
def test_vacuum_laws(model, base, variant):
    name, law, full = variant
    if not (law.stationary and law.commutes):
        pytest.skip(f"{name}: vacuum objects are not mapped ({law.reason})")
    for attribute in ("M_S2_vacuum", "M_P2_vacuum"):
        mapped = law.apply("mass2", getattr(base["mass_matrices"], attribute))
        assert (mapped - getattr(full["mass_matrices"], attribute)).applyfunc(sp.expand).is_zero_matrix
    registry = printed.load(model)
    mine, theirs = providers.Context(base, registry), providers.Context(full, registry)
    for cp in ("even", "odd"):
        get = providers.masses2(cp)
        for i in range(4):
            part = dataclasses.replace(registry.equation("A.10").parts[0], select=i)
            assert _same(law.apply("mass2", get(mine, part)), get(theirs, part)), (name, cp, i)
    part = registry.equation("A.3").parts[0]
    assert (law.apply("points", providers.stationary_points(mine, part))
            - providers.stationary_points(theirs, part)).applyfunc(sp.cancel).is_zero_matrix


@pytest.mark.slow
def test_coupling_law_for_the_flavor_sector(base, variant):
    _, law, full = variant
    for mine, theirs in zip(base["flavor"].leptons, full["flavor"].leptons):
        # evaluated at the vevs: <phi> follows the field normalization (v/sqrt 2 when canonical)
        assert sp.expand(law.apply("mixing", mine.m_RAD) - theirs.m_RAD) == 0
        assert sp.expand(law.apply("mixing", mine.delta_a_per_m) - theirs.delta_a_per_m) == 0
    assert sp.expand(law.apply("closure", base["paper"].effective_lambda)
                     - full["paper"].effective_lambda) == 0


@pytest.mark.slow
def test_the_sweep_uses_the_laws(model, base, study):
    """A disagreeing entry is compared under every variant; half-nonhermitian is reported as not
    applicable to vacuum objects (its alignment is not stationary)."""
    report = checks.run(base, rederive=pipeline.rederive_for(study), providers=study.providers)
    v = next(r for r in report.results if r.equation == "3.3" and r.object == "V")
    assert dict(v.variants) == {"eq3_3_sign": "agrees", "half-nonhermitian": "disagrees", "canonical": "disagrees"}
    p1 = next(r for r in report.results if r.equation == "A.10" and r.object == "m_{P_1}^2")
    assert dict(p1.variants)["half-nonhermitian"] == "not_checked" and "not a stationary point" in p1.note
    conv = [r for r in report.results if r.equation == "A.6" and r.status == "convention"
            and r.root_cause != checks.INFERRED]
    assert {r.entry for r in conv} == {"phi1,phia", "phi1,phib", "phia,phi1", "phib,phi1"}
    assert all(dict(r.variants)["canonical"] == "agrees" for r in conv)
