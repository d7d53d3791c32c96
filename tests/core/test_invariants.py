"""Invariant enumeration against an independent brute force, on several charge sets."""

from __future__ import annotations

import itertools
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from symflav.physics import invariants
from symflav.core.spec import load


def brute_force(charges_u1, charges_zn, order, degree):
    """Every exponent vector (n_i, m_i) with 1 <= sum <= degree, invariant; {O, O^dagger} pairs."""
    n = len(charges_u1)
    found = set()
    for exps in itertools.product(range(degree + 1), repeat=2 * n):
        total = sum(exps)
        if not 1 <= total <= degree:
            continue
        nets = [exps[2 * i] - exps[2 * i + 1] for i in range(n)]
        if sum(Fraction(q) * k for q, k in zip(charges_u1, nets)) != 0:
            continue
        if sum(z * k for z, k in zip(charges_zn, nets)) % order != 0:
            continue
        powers = tuple((exps[2 * i], exps[2 * i + 1]) for i in range(n))
        conj = tuple((m, k) for k, m in powers)
        found.add(frozenset({powers, conj}))
    return found


def enumerated(model, degree):
    return {frozenset({m.powers, m.conjugate().powers}) for m in invariants.enumerate_invariants(model, degree)}


CASES = [
    ({}, 4),  # Table 1
    ({}, 5),
    ({}, 6),
    ({"phi3": "2"}, 4),
    ({"phia": "1/3", "phib": "2/3"}, 5),
    ({"phi1": "0", "phi3": "0"}, 4),
    ({"phia": "-2/5", "phib": "1"}, 6),
]


@pytest.mark.slow
@pytest.mark.parametrize("overrides,degree", CASES)
def test_enumeration_matches_brute_force(overrides, degree):
    model = load(charges=[f"{k}={v}" for k, v in overrides.items()])
    u1 = [s.charge("U1f") for s in model.scalars]
    z2 = [int(s.charge("Z2")) for s in model.scalars]
    assert enumerated(model, degree) == brute_force(u1, z2, 2, degree)


@pytest.mark.slow
@settings(max_examples=25, deadline=None)
@given(
    st.lists(st.fractions(min_value=-3, max_value=3, max_denominator=5), min_size=4, max_size=4),
    st.lists(st.integers(0, 1), min_size=4, max_size=4),
    st.integers(1, 5),
)
def test_enumeration_random_charges(u1, z2, degree):
    overrides = [f"{name}={q}" for name, q in zip(["phi1", "phi3", "phia", "phib"], u1)]
    overrides += [f"{name}.Z2={z}" for name, z in zip(["phi1", "phi3", "phia", "phib"], z2)]
    model = load(charges=overrides)
    assert enumerated(model, degree) == brute_force(u1, z2, 2, degree)


def test_each_nonhermitian_operator_once_and_canonical(model):
    ops = invariants.enumerate_invariants(model, 6)
    assert len(set(ops)) == len(ops)
    for op in ops:
        assert op.is_canonical()
        if not op.is_hermitian:
            assert op.conjugate() not in ops


def test_built_in_table_against_eq_3_3(model):
    table = invariants.operator_table(model)
    by_text = {op.text: op for op in table.operators}
    # What eq. (3.3) names, with the paper's couplings attached
    assert by_text["phia† phib† phi1^2"].coupling == "lambda_1ab"
    assert by_text["phi3† phi1^3"].coupling == "lambdap_13"
    assert by_text["phia^2"].status == "explicit_breaking"
    # The operator that Table 1 allows but eq. (3.3) does not print
    missing = by_text["phi3† phi1 phia phib"]
    assert missing.status == "dropped" and "3.3" in missing.reason
    (comparison,) = table.comparisons
    assert comparison.equation == "3.3"
    assert [o for o, _ in comparison.missing_from_print] == ["phi3† phi1 phia phib"]
    assert sorted(o for o, _ in comparison.printed_not_invariant) == ["phia^2", "phib^2"]
    assert len(comparison.agree) == 16
    # 4 mass terms + 10 hermitian quartics + 3 non-hermitian quartics are invariant
    assert len(invariants.enumerate_invariants(model)) == 17


def test_generated_names_follow_the_paper_style(model):
    # Without the drop, the extra operator gets a generated name lambda_13ab.
    import dataclasses

    undropped = dataclasses.replace(model, drops=())
    table = invariants.operator_table(undropped)
    extra = [op for op in table.operators if op.status == "generated"]
    assert [(op.text, op.coupling) for op in extra] == [("phi3† phi1 phia phib", "lambda_13ab")]
    assert table.generated[0].latex == r"{\lambda_{13ab}}"


def test_charge_change_regenerates(model):
    # phi3 with charge 2: lambda'_13 phi3^dagger phi1^3 is no longer allowed; phi3^dagger phi1^2 is (degree 3)
    changed = load(charges=["phi3=2", "phi3.Z2=0"])
    table = invariants.operator_table(changed)
    by_text = {op.text: op for op in table.operators}
    assert by_text["phi3† phi1^3"].status == "forbidden"
    assert not by_text["phi3† phi1^3"].in_potential
    assert by_text["phi3† phi1^2"].status == "generated"
    assert by_text["phi3† phi1^2"].coupling == "kappa_13"
    assert any("not invariant" in note for note in table.notes)


def test_degree_five_and_six_operators(model):
    five = [m.text(model.scalar_names) for m in invariants.enumerate_invariants(model, 5) if m.degree == 5]
    assert five == ["phib† phia^4"]  # 8/5 = 4 x 2/5, Z2-even
    six = invariants.operator_table(model, 6)
    names = {op.coupling for op in six.operators if op.status == "generated"}
    assert "c5_ab" in names and "c6_1" in names
