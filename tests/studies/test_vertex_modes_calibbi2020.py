"""The built-in derivation under both Yukawa vertex modes (the study's ``vertex_modes`` stage)."""

from __future__ import annotations

import pytest

from symflav.physics import flavor


@pytest.fixture(scope="module")
def modes(derivation):
    data = derivation["vertex_modes"]
    return {m.mode: m for m in data.modes}


def test_the_model_declares_eq3_1_beside_the_default_all_allowed_mode(model, derivation):
    assert model.yukawa.vertex_set == "all_allowed" and model.yukawa.modes == ("all_allowed", "eq3_1")
    assert derivation["flavor"].vertex_mode == "all_allowed"
    assert derivation["flavor"].to_json()["vertex_mode"] == "all_allowed"


def test_weights_under_eq3_1_counted_by_hand(modes):
    """Eqs. (3.1)-(3.2) as read in the model file: mu_R enters chi(-1, odd) with phi1†, mu_L leaves
    chi(-2, even): one step -1 -> -2 (phi1†): v1^2 once. e_R enters chi(6, odd) with phi3, e_L leaves
    chi(8, odd): two steps of +-1 (phi1) or +-3 (phi3) from 6 to 8 -- 6-7-8 (phi1 phi1) and 6-5-8
    (phi1† phi3); 6-9-8 needs charge 9: v1^2 v3 + v1 v3^2."""
    eq = modes["eq3_1"].leptons
    assert eq["mu"]["weights"] == {"v_1**2": "1"} and eq["mu"]["order"] == 2
    assert eq["e"]["weights"] == {"v_1**2*v_3": "1", "v_1*v_3**2": "1"} and eq["e"]["order"] == 3
    every = modes["all_allowed"].leptons  # counted by hand in test_flavor.test_built_in_multiplicities
    assert every["mu"]["weights"] == {"v_1**2": "1", "v_1*v_3": "2"}
    assert every["e"]["weights"] == {"v_1**2*v_3": "3", "v_1*v_3**2": "2"}


def test_printed_weights_follow_neither_mode(derivation, modes):
    """Printed comparison: eqs. (3.7), (3.8) weigh v1^2 + v1 v3 and v1^2 v3 + 2 v1 v3^2."""
    for mode in modes.values():
        assert mode.leptons["mu"]["printed_weights"] == {"v_1**2": "1", "v_1*v_3": "1"}
        assert mode.leptons["e"]["printed_weights"] == {"v_1**2*v_3": "1", "v_1*v_3**2": "2"}
    assert derivation["vertex_modes"].follows == {"mu": [], "e": []}


def test_eq_2_3_factor_is_the_weight_polynomial_on_the_aligned_vacuum(modes):
    """At v3 = -2 v1 the weights give the (2.3) factor: mu 1 - 4 = -3 (all) and 1 (eq3_1), printed
    1 - 2 = -1; e 3(-2) + 2(4) = 2 in both modes, printed -2 + 8 = 6."""
    assert [modes[m].leptons["mu"]["factor_2_3"] for m in ("all_allowed", "eq3_1")] == ["-3", "1"]
    assert [modes[m].leptons["e"]["factor_2_3"] for m in ("all_allowed", "eq3_1")] == ["2", "2"]
    assert modes["eq3_1"].leptons["mu"]["printed_factor_2_3"] == "-1"
    assert modes["eq3_1"].leptons["e"]["printed_factor_2_3"] == "6"


def test_table2_tree_masses_change_with_the_mode_as_the_weights_say(modes):
    """At the printed inputs (v3 = -2 v1): m_FN_mu(all)/m_FN_mu(eq3_1) = -3 and m_FN_e equal."""
    a, b = modes["all_allowed"].table2, modes["eq3_1"].table2
    assert a["m_FN_mu"] / b["m_FN_mu"] == pytest.approx(-3, rel=1e-12)
    assert a["m_FN_e"] == pytest.approx(b["m_FN_e"], rel=1e-12)
    assert a["m_RAD_mu"] != pytest.approx(b["m_RAD_mu"], rel=1e-3)  # closures follow the chains


@pytest.mark.slow
def test_closures_under_eq3_1_are_those_of_its_chains(model, derivation):
    """The muon's one chain (phi1† phi1†) has one closure: the adjacent phi1† phi1† pair."""
    fl = flavor.derive_flavor(model, derivation.results, vertex_set="eq3_1")
    mu = fl.lepton("mu")
    assert [[i.text for i in cl.pair] for cl in mu.closures] == [["phi1†", "phi1†"]]
    every = derivation["flavor"].lepton("mu")
    same = next(cl for cl in every.closures if [i.text for i in cl.pair] == ["phi1†", "phi1†"])
    assert mu.closures[0].mass_term == same.mass_term and mu.closures[0].coefficient == same.coefficient


def test_table2_g2_signs_are_reported_against_the_caption(derivation, modes):
    """Printed comparison: the caption's Delta a_mu > 0 > Delta a_e; each mode says whether its
    mass-insertion signs at the printed inputs agree."""
    caption = derivation["vertex_modes"].printed_caption
    for mode in modes.values():
        t = mode.table2
        assert t["delta_a_mu_sign_as_printed"] == ((t["delta_a_mu"] > 0) == (caption["delta_a_mu"] > 0))
        assert t["delta_a_e_sign_as_printed"] == ((t["delta_a_e"] > 0) == (caption["delta_a_e"] > 0))
