"""The generic pipeline on toy models written for the tests (tests/models): three leptons with a
tau -> mu gamma chain, no fermions, no small parameter; and the built-in model with a charge
changed. Every lepton gets its observables, every pair its BR(l -> l' gamma); a stage that does
not apply says why; generated code is valid; points may name generated couplings and signed
squares; a charge change drops what it forbids, with a note, and the report says so."""

from __future__ import annotations

import dataclasses
import json
import math

import mpmath as mp
import numpy as np
import pytest
import sympy as sp

from conftest import REPO
from symflav import cli, pipeline
from symflav.core import constants, spec
from symflav.core.errors import SpecError
from symflav.core.stages import Unavailable
from symflav.numerics import observables as numeric_observables
from symflav.numerics import points, viability
from symflav.numerics.scan import load_generated, run_local
from symflav.physics import flavor, loops
from symflav.studies import study_for

MODELS = REPO / "tests" / "models"


def _load(name: str, **changes):
    model = spec.load(str(MODELS / name))
    return dataclasses.replace(model, **changes) if changes else model


@pytest.fixture(scope="module")
def three():
    """The three-lepton toy, through code generation."""
    return pipeline.run(_load("three_leptons"), until="codegen")


@pytest.fixture(scope="module")
def bench(three):
    """Its point bench on the vacuum with the vevs given and the mu^2 from the tadpoles."""
    model = three.model
    given, _, _ = points.point_values(model, "bench", {})
    vacuum = points.eliminated_vacuum(three, points.given_symbols(model, given))
    exact = vacuum.exact
    spectrum = {"scalar_masses": np.sqrt(exact.scalar_masses2), "pseudoscalar_masses": np.sqrt(exact.pseudoscalar_masses2),
                "U_S": exact.U_S, "U_P": exact.U_P}
    values = {**vacuum.values, **vacuum.vevs}
    return values, spectrum, numeric_observables.evaluate(three, values, spectrum, route="test", point="bench")


# ------------------------------------------------------------------ every lepton, every pair


@pytest.mark.slow
def test_every_lepton_and_every_pair_is_derived(three):
    obs, fl = three["observables"], three["flavor"]
    assert [s.lepton for s in fl.leptons] == ["tau", "mu", "e"]
    assert all(s.chains and s.closures for s in fl.leptons)
    assert {(t.source, t.target) for t in obs.transitions} == {(a, b) for a in ("e", "mu", "tau")
                                                               for b in ("e", "mu", "tau") if a != b}
    functions = set(three["codegen"].functions)
    for lepton in ("e", "mu", "tau"):
        assert {f"m_FN_{lepton}", f"m_RAD_{lepton}_mass_basis", f"delta_a_over_m_{lepton}_mass_basis"} <= functions
    assert {"dipole_mu_tau_mass_basis", "dipole_tau_mu_mass_basis", "dipole_e_mu_mass_basis"} <= functions


def test_a_flavor_changing_chain_carries_the_geometric_mean_of_the_couplings(three):
    """tau_R -> mu_L through phi2† phi2†: m = -(g_tau g_mu)^(3/2) (v_H/sqrt 2) v_2^2/M^2, with
    the chain built by the flavor stage's own rule for a lepton (g_l at every vertex)."""
    model = three.model
    t = three["observables"].transition("tau", "mu")
    s = model.symbols()
    expected = -(s["g_tau"] * s["g_mu"]) ** sp.Rational(3, 2) * s["v_H"] / sp.sqrt(2) * s["v_2"] ** 2 / s["M_F"] ** 2
    assert sp.simplify(t.m_FN - expected) == 0
    chain = flavor.Chain("mu", (flavor.Insertion("phi2", True),) * 2, (model.mediators[0].name,) * 2)
    assert sp.simplify(flavor.tree_mass(model, sp.sqrt(s["g_tau"] * s["g_mu"]), chain) - expected) == 0


def _state_sum_by_quadrature(model, state_sum, spectrum, M):
    """DeltaI of a closure: sum over mass states of U U I(m/M), I by mpmath quadrature of the
    Feynman-parameter integrand (an independent route from the generated closed forms)."""
    base = "I_m" if state_sum.kind == "m" else "I_da"
    integrand = sp.lambdify((loops.Z, loops.X), loops.loop_function(base, 0, state_sum.r).integrand, "mpmath")
    US, UP = np.asarray(spectrum["U_S"]), np.asarray(spectrum["U_P"])

    def I(m):
        x = m / M
        return float(mp.quad(lambda z: integrand(z, x), [0, 0.5, 1]))

    total = sum(US[state_sum.a, k] * US[state_sum.b, k] * I(m) for k, m in enumerate(spectrum["scalar_masses"]))
    total += state_sum.pseudoscalar_sign * sum(UP[state_sum.a, k] * UP[state_sum.b, k] * I(m)
                                               for k, m in enumerate(spectrum["pseudoscalar_masses"]))
    return total


def test_tau_to_mu_gamma_two_ways(three, bench):
    """D_mu_tau and D_tau_mu: the generated module's collected formulas with the state sums by
    quadrature, against the closure-by-closure route (mpmath closed forms); then BR(tau -> mu
    gamma) by hand from the built-in constants."""
    values, spectrum, evaluated = bench
    model = three.model
    module = load_generated(three["codegen"].source)
    M = float(values[model.symbols()["M_F"]])
    sums = {s.name: _state_sum_by_quadrature(model, s, spectrum, M) for s in three["observables"].mass_basis_sums}
    everything = {**numeric_observables.parameter_values(model), **values}
    arguments = {str(k): float(v) for k, v in everything.items() if str(k) in module.PARAMETERS}
    arguments.update({k: v for k, v in sums.items() if k in module.PARAMETERS})
    basis = evaluated["mass_basis"]
    D = {}
    for name in ("mu_tau", "tau_mu"):
        D[name] = float(getattr(module, f"dipole_{name}_mass_basis")(**arguments))
        assert D[name] == pytest.approx(basis["dipoles"][name], rel=1e-7)
        assert D[name] != 0
    data = constants.load()
    m_tau = float(data["m_tau"].value)
    C1, C2 = (abs(2 * math.pi**2 * D[n] / m_tau) for n in ("mu_tau", "tau_mu"))
    alpha, G_F = float(data["alpha"].value), float(data["G_F"].value)
    by_hand = 3 * alpha * (C1**2 + C2**2) / (math.pi * G_F**2) * float(data["BR_tau_mununu"].value)
    assert basis["radiative_decays"]["BR_tau_mu_gamma"]["value"] == pytest.approx(by_hand, rel=1e-7)
    assert basis["flavor_violation"]["BR_tau_mu_gamma"] == pytest.approx(by_hand, rel=1e-7)


def test_constants_are_built_in_and_a_model_may_override_them(three, bench):
    """The toy declares no constant: m_tau is the data file's; a model that declares m_tau in
    [parameters] overrides it, and C = 2 pi^2 D/m_tau follows (BR scales as 1/m_tau^2)."""
    values, spectrum, evaluated = bench
    model = three.model
    assert "m_tau" not in {p.name for p in model.parameters}
    assert model.constant("m_tau") == constants.load()["m_tau"].value == sp.Rational("1.77686")
    assert model.constant_info("m_tau") == ("GeV", "tau mass (PDG 2020)")
    heavier = dataclasses.replace(model, parameters=model.parameters + (
        dataclasses.replace(model.parameters[0], name="m_tau", symbol=sp.Symbol("m_tau", positive=True),
                            kind="mass", default=sp.Rational(2), note="an override"),))
    assert heavier.constant("m_tau") == 2
    other = numeric_observables.evaluate(pipeline.Derivation(heavier, three.results, ()), values, spectrum)
    ratio = other["mass_basis"]["radiative_decays"]["BR_tau_mu_gamma"]["value"] / \
        evaluated["mass_basis"]["radiative_decays"]["BR_tau_mu_gamma"]["value"]
    assert ratio == pytest.approx((1.77686 / 2) ** 2, rel=1e-12)
    assert other["mass_basis"]["leptons"]["tau"]["m_exp"] == 2


@pytest.mark.slow
def test_a_pair_without_chains_is_zero_with_the_reason(model, derivation):
    decays = points.observables_at(derivation, "table2")["mass_basis"]["radiative_decays"]
    assert decays["BR_mu_e_gamma"]["value"] == 0.0
    assert "no chain mu_R -> e_L or e_R -> mu_L" in decays["BR_mu_e_gamma"]["reason"]


def test_fixed_by_m_tau_solves_the_tau_coupling(three, bench):
    """Each of g_e, g_mu, g_tau is solved from its lepton mass: at the fitted couplings
    |m^FN + m^RAD| = m_l (the closure-by-closure route, evaluated again at those couplings)."""
    model = three.model
    evaluator = viability.ViabilityEvaluator(viability.build(three, model.scan("viability")))
    assert {g for g, *_ in evaluator.kernel.fitted} == {"g_e", "g_mu", "g_tau"}
    names = [n for n, *_ in evaluator.kernel.sampled]
    point = model.point("bench").as_dict()
    out = evaluator({n: np.array([float(point[n])]) for n in names})
    values, spectrum, _ = bench
    s = model.symbols()
    fitted = {**values, **{s[g]: sp.Float(out[g][0], 20) for g in ("g_e", "g_mu", "g_tau")}}
    again = numeric_observables.evaluate(three, fitted, spectrum)["mass_basis"]["leptons"]
    for lepton in ("e", "mu", "tau"):
        assert abs(again[lepton]["m_total"]) == pytest.approx(float(model.constant(f"m_{lepton}")), rel=1e-9)
        assert out[f"delta_a_{lepton}"][0] == pytest.approx(again[lepton]["delta_a"], rel=1e-7)
    assert out["BR_tau_mu_gamma"][0] > 0


def test_fixed_by_must_name_the_mass_of_a_declared_lepton(tmp_path):
    text = (MODELS / "three_leptons" / "model.toml").read_text(encoding="utf-8")
    (tmp_path / "model.toml").write_text(text.replace('fixed_by = "m_tau"', 'fixed_by = "m_nu"'), encoding="utf-8")
    with pytest.raises(SpecError, match="scans.viability.ranges.g_tau.fixed_by: 'm_nu' is not the mass of a lepton"):
        spec.read_model(tmp_path / "model.toml")


# ------------------------------------------------------------------ stages that do not apply


@pytest.mark.slow
def test_no_fermions_no_flavor_stage_and_the_rest_is_derived():
    d = pipeline.run(_load("no_fermions"), until="codegen")
    assert isinstance(d["flavor"], Unavailable) and "no fermions" in d["flavor"].reason
    assert [n for n, _, _ in d["observables"].relations] == ["delta_a_from_C", "d_from_C", "BR_ratio_from_C"]
    module = load_generated(d["codegen"].source)
    assert {"potential", "tadpoles", "mass_matrices", "perturbative_masses2"} <= set(dir(module))


@pytest.mark.slow
def test_no_small_parameter_no_perturbative_spectrum():
    d = pipeline.run(_load("no_small"), until="codegen")
    assert isinstance(d["spectrum"], Unavailable) and "no small parameter" in d["spectrum"].reason
    module = load_generated(d["codegen"].source)
    assert not hasattr(module, "perturbative_masses2") and hasattr(module, "m_FN_tau")


@pytest.mark.slow
def test_generated_code_is_valid_when_a_formula_is_a_constant():
    """A lepton whose chains have no closure has m^RAD = 0: a function without inputs."""
    text = (MODELS / "three_leptons" / "model.toml").read_text(encoding="utf-8")
    model = _load("three_leptons")
    # tau_L of charge -2 (Z3 1): one insertion phi2†, no closure
    fermions = tuple(dataclasses.replace(f, charges=(("U1", -2), ("Z3", 1))) if f.name == "tau_L" else f
                     for f in model.fermions)
    d = pipeline.run(dataclasses.replace(model, fermions=fermions, scans=()), until="codegen")
    assert d["flavor"].lepton("tau").closures == ()
    module = load_generated(d["codegen"].source)
    assert float(module.m_RAD_tau_mass_basis()) == 0.0
    assert "(,)" not in d["codegen"].source and text


@pytest.mark.slow
def test_a_model_without_scans_or_registry_says_so():
    d = pipeline.run(_load("no_small"))
    assert "no scan ranges" in d["viability"].reason and "no printed registry" in d["checks"].reason


# ------------------------------------------------------------------ points and parameters


def test_points_name_generated_couplings_and_signed_squares(tmp_path, derivation):
    """A charge change that creates phib† phia^2 (generated kappa_ab): the point may set it, and
    mu_1 by its signed square; without a value the command is one line, exit 2."""
    text = (spec.builtin_root() / "calibbi2020" / "model.toml").read_text(encoding="utf-8")
    text = text.replace("mu_1 = 122\n", '"mu_1^2" = -153109\nkappa_ab = 10\n')
    path = tmp_path / "model.toml"
    path.write_text(text.replace('printed = "printed.toml"', "").replace('study = "calibbi2020"', ""),
                    encoding="utf-8")
    model = pipeline.bind(spec.load(str(path), charges=["phib=4/5"]), None)
    assert "kappa_ab" in {p.name for p in model.generated} and "mu_1" in model.quadratic
    values = model.point_symbols("table2")
    s = model.symbols()
    assert values[s["kappa_ab"]] == 10 and sp.expand(values[s["mu_1"]] ** 2) == -153109
    with pytest.raises(SpecError, match=r"points.table2.kappa_ab: unknown parameter 'kappa_ab'"):
        pipeline.bind(spec.load(str(path)), None)  # without the charge change there is no such operator
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "model.toml").write_text(text.replace("g_e = 0.72", '"g_e^2" = 0.5'), encoding="utf-8")
    (bad / "printed.toml").write_text((spec.builtin_root() / "calibbi2020" / "printed.toml").read_text(encoding="utf-8"),
                                      encoding="utf-8")
    with pytest.raises(SpecError, match=r"points.table2.g_e\^2: g_e is not the coupling of a quadratic operator"):
        pipeline.bind(spec.load(str(bad / "model.toml"), charges=["phib=4/5"]), None)
    (bad / "model.toml").write_text(text.replace('"mu_1^2" = -153109', '"mu_1^2" = -153109\nmu_1 = 3'), encoding="utf-8")
    with pytest.raises(SpecError, match=r"points.table2.mu_1\^2: give mu_1 or mu_1\^2, not both"):
        spec.load(str(bad / "model.toml"))


@pytest.mark.slow
def test_a_missing_value_is_one_line_exit_2(capsys):
    status = cli.main(["spectrum", "--charge", "phib=4/5", "--starts", "1"])
    err = capsys.readouterr().err
    assert status == 2 and err.count("\n") == 1 and "no value for kappa_ab" in err
    status = cli.main(["spectrum", "--charge", "phib=4/5", "--starts", "1", "--set", "kappa_ab^2=1"])
    assert status == 2 and "kappa_ab is not the coupling of a quadratic operator" in capsys.readouterr().err


@pytest.mark.slow
def test_a_negative_signed_square_reaches_the_vacuum(model, derivation):
    """With V ⊃ -mu_1^2 |phi1|^2 the phi1 tadpole at the aligned vevs vanishes for
    mu_1^2 = (2 lambda_1 + 4 lambda_13 - 6 lambda'_13) v_1^2 + 2 (lambda_1a + lambda_1ab) v_a^2 (by
    hand), which is negative at the printed point: given as the signed square "mu_1^2", the given
    vevs are stationary in phi1; with the printed mu_1 = 122 they are not."""
    p = model.point("table2").as_dict()
    square = ((2 * p["lambda_1"] + 4 * p["lambda_13"] - 6 * p["lambdap_13"]) * p["v_1"] ** 2
              + 2 * (p["lambda_1a"] + p["lambda_1ab"]) * p["v_a"] ** 2)
    assert square < 0
    signed = points.evaluate(derivation, "table2", {"mu_1^2": square}, starts=1)
    printed = points.evaluate(derivation, "table2", {}, starts=1)
    tadpole = signed["routes"]["as_given"]["given_vevs"]["tadpoles"][0]
    assert abs(tadpole) < 1e-9 * abs(printed["routes"]["as_given"]["given_vevs"]["tadpoles"][0])
    assert signed["overrides"]["mu_1^2"] == str(square)


@pytest.mark.slow
def test_a_charge_change_drops_what_mentions_a_forbidden_coupling(model):
    """phi3 = 2 forbids lambda'_13: the relation that mentions it and the point entry are dropped
    with a note, never re-imposed; lambda'_13 is in no derived matrix."""
    d = pipeline.run(spec.load(charges=["phi3=2"]), until="mass_matrices")
    bound = d.model
    assert not any(str(lhs) == "lambda_3" for lhs, _ in bound.relations)
    assert "lambdap_13" not in dict(bound.point("table2").values)
    assert any("relations.lambda_3: dropped" in n and "lambdap_13" in n for n in bound.notes)
    assert any(n.startswith("points.table2.lambdap_13: dropped") for n in bound.notes)
    names = {str(s) for s in d["mass_matrices"].M_S2_vacuum.free_symbols | d["mass_matrices"].M_P2_vacuum.free_symbols}
    assert "lambdap_13" not in names
    assert bound.banner()["charges_changed"] == [{"field": "phi3", "symmetry": "U1f", "file": "3", "now": "2"}]


# ------------------------------------------------------------------ studies and the commands, end to end


def test_an_unknown_study_is_one_line_naming_the_key(tmp_path, capsys):
    text = (MODELS / "no_fermions" / "model.toml").read_text(encoding="utf-8")
    (tmp_path / "model.toml").write_text(text.replace('degree = 4', 'degree = 4\nstudy = "nowhere"', 1),
                                         encoding="utf-8")
    with pytest.raises(SpecError, match=r"derivation.study: unknown study 'nowhere' \(built-in studies: calibbi2020\)"):
        study_for(spec.load(str(tmp_path / "model.toml")))
    assert cli.main(["terms", str(tmp_path)]) == 2 and "derivation.study" in capsys.readouterr().err


@pytest.mark.slow
@pytest.mark.parametrize("name", ["three_leptons", "no_fermions", "no_small"])
def test_derive_spectrum_and_scan_of_a_model_without_a_paper(name, tmp_path, capsys):
    """derive (report, generated module that imports), spectrum, and the declared scan; the report
    of a model without a study has no paper sections and says in one line what does not apply."""
    out = tmp_path / "out"
    assert cli.main(["derive", str(MODELS / name), "-o", str(out), "--no-pdf"]) == 0
    tex = (out / "report.tex").read_text(encoding="utf-8")
    assert "Figures 3 and 4" not in tex and "paper's forms" not in tex and "Comparison with the paper" not in tex
    assert "Not available: the derivation has no printed registry to compare with." in tex
    module = load_generated((out / "numeric.py").read_text(encoding="utf-8"))
    assert module.FIELDS and callable(module.potential)
    capsys.readouterr()
    assert cli.main(["spectrum", str(MODELS / name), "--starts", "2", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["routes"]["vevs_with_mu_eliminated"]["available"]
    if name == "three_leptons":
        assert (out / "viability.json").is_file() and (out / "figures" / "viability.png").is_file()
        assert result["observables"]["delta_a_tau"]["mass_basis"] is not None
        assert cli.main(["scan", str(MODELS / name), "--scan", "viability", "--points", "300", "--chunk", "300",
                         "-o", str(tmp_path / "v.csv")]) == 0
        header = (tmp_path / "v.csv").read_text().splitlines()[0].split(",")
        assert {"g_tau", "delta_a_tau", "BR_tau_mu_gamma", "radiative_decays_below_bounds", "viable"} <= set(header)
    if name == "no_fermions":
        assert "Not available: the model declares no fermions" in tex
        assert result["observables"] == {"available": False, "reason": result["observables"]["reason"]}
    if name == "no_small":
        assert "Not available: no perturbative spectrum: the derivation declares no small parameter" in tex
        assert "not available" in result["perturbative"]["note"]


@pytest.mark.slow
def test_derive_with_a_changed_charge_says_so(tmp_path):
    """The built-in model with phi3 = 2: a banner in report.tex and checks.json, the paper-only
    sections left out, no ghost lambda'_13 in the matrices or the points."""
    out = tmp_path / "out"
    assert cli.main(["derive", "--charge", "phi3=2", "-o", str(out), "--no-pdf"]) == 0
    checks = json.loads((out / "checks.json").read_text(encoding="utf-8"))
    banner = checks["differs_from_printed_reference"]
    assert banner["charges_changed"] == [{"field": "phi3", "symmetry": "U1f", "file": "3", "now": "2"}]
    assert any("lambdap_13" in note for note in banner["dropped"])
    tex = (out / "report.tex").read_text(encoding="utf-8")
    assert "This derivation differs from its printed reference." in tex
    assert "\\section{Figures 3 and 4 and the paper's numeric claims}\nLeft out:" in tex
    assert "The printed table belongs to the printed model" in tex
    assert not (out / "claims.json").exists() and not (out / "viability.json").exists()
    assert "lambdap_13" not in (out / "mass_matrices.json").read_text(encoding="utf-8")
    module = load_generated((out / "numeric.py").read_text(encoding="utf-8"))
    assert "lambdap_13" not in module.POINTS["table2"]
