"""The viability scan: the ranges as data, every piece against an independent route, Dask = local."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import mpmath as mp
import numpy as np
import pytest
import sympy as sp

from conftest import REPO
from symflav import cli as symflav_cli
from symflav import pipeline
from symflav.numerics import points as benchmark
from symflav.physics import loops
from symflav.numerics import minimizer as numeric
from symflav.core import spec
from symflav.numerics import viability
from symflav.core.errors import SpecError
from symflav.numerics.scan import ScanPlan, run_local

MODEL = (spec.builtin_root() / "calibbi2020" / "model.toml").read_text(encoding="utf-8")
PRINTED = (spec.builtin_root() / "calibbi2020" / "printed.toml").read_text(encoding="utf-8")


def _write(tmp_path, text):
    path = tmp_path / "model.toml"
    path.write_text(text, encoding="utf-8")
    (tmp_path / "printed.toml").write_text(PRINTED, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def derivation(model):
    return pipeline.run(model, until="codegen")


@pytest.fixture(scope="module")
def evaluator(derivation):
    return viability.ViabilityEvaluator(viability.build(derivation, derivation.model.scan("viability")))


def _table2_columns(model, names):
    point = model.point("table2").as_dict()
    return {name: np.array([float(point[name])]) for name in names}


# ------------------------------------------------------------------ ranges as data


def test_ranges_are_read_from_the_model_file(model):
    scan = model.scan("viability")
    assert scan.points >= 1000 and scan.n_sigma == 2 and scan.confirm > 0
    r = scan.range("v_a")
    assert (r.low, r.high, r.scale, r.fixed_by) == (100.0, 3000.0, "log", None)
    assert scan.range("g_mu").fixed_by == "m_mu" and scan.range("g_e").fixed_by == "m_e"


@pytest.mark.parametrize("old,new,message", [
    ("lambda_1 = { low = 0, high = 8 }", "lambda_9 = { low = 0, high = 8 }", "scans.viability.ranges.lambda_9: unknown parameter"),
    ("lambda_1 = { low = 0, high = 8 }", "lambda_1 = { low = 8, high = 0 }", "need low < high"),
    ('mup_a = { low = 1, high = 100, scale = "log" }', 'mup_a = { low = 0, high = 100, scale = "log" }', "a log range needs low > 0"),
    ('mup_a = { low = 1, high = 100, scale = "log" }', 'mup_a = { low = 1, high = 100, scale = "cubic" }', "not one of linear, log"),
    ("lambda_1 = { low = 0, high = 8 }", "lambda_3 = { low = 0, high = 8 }", "fixed by a relation"),
    ("lambda_1 = { low = 0, high = 8 }", "v_3 = { low = 0, high = 8 }", "fixed by the vacuum alignment"),
    ("lambda_1 = { low = 0, high = 8 }", "lambda_1 = { low = 0, high = 8, step = 1 }", "unknown key"),
    ('g_mu = { low = 0.1, high = 3, fixed_by = "m_mu" }', 'g_mu = { low = 0.1, high = 3, fixed_by = "m_tau" }',
     "is not the mass of a lepton of [[fermions]] (one of m_e, m_mu)"),
    ('g_mu = { low = 0.1, high = 3, fixed_by = "m_mu" }', 'g_mu = { low = 0.1, high = 3, fixed_by = "v_H" }',
     "is not the mass of a lepton"),
])
def test_bad_ranges_fail_with_one_line(tmp_path, old, new, message):
    assert old in MODEL
    path = _write(tmp_path, MODEL.replace(old, new, 1))
    with pytest.raises(SpecError) as error:
        spec.read_model(path)
    assert message in error.value.line() and str(path) in error.value.line()


@pytest.mark.slow
def test_every_free_parameter_needs_a_range(tmp_path, derivation):
    path = _write(tmp_path, MODEL.replace("lambda_13 = { low = -2, high = 8 }\n", "", 1))
    model = spec.read_model(path)
    with pytest.raises(SpecError, match="no range for lambda_13"):
        viability.build(pipeline.Derivation(model, derivation.results, ()), model.scan("viability"))


# ------------------------------------------------------------------ pieces vs independent routes


def _quadrature(base: str, r: int, x: float) -> float:
    """The r-vev-insertion loop function at x by mpmath quadrature of its Feynman-parameter
    integrand (30 digits)."""
    integrand = sp.lambdify((loops.Z, loops.X), loops.loop_function(base, 0, r).integrand, "mpmath")
    with mp.workdps(30):
        return float(mp.quad(lambda z: integrand(z, mp.mpf(x)), [0, 0.5, 1]))


@pytest.fixture(scope="module")
def with_r2(derivation, evaluator):
    """The built-in scan's evaluator with the r = 2 families added to its kernel, as the kernel of
    a model with two vev insertions inside a loop gets them (the module exports I_m, I_m_x, I_da,
    I_da_x; I_m_xx and I_da_xx are written into the kernel)."""
    kernel = evaluator.kernel
    sums = kernel.sums + (("r2_m", "m", 0, 0, 1, 2), ("r2_da", "da", 0, 0, 1, 2))
    families, lines = viability._loop_families(sums, derivation["codegen"].functions)
    source = kernel.kernel_source + "\n\n" + "\n".join(lines)
    return viability.ViabilityEvaluator(dataclasses.replace(kernel, kernel_source=source, families=families)), lines


@pytest.mark.slow
def test_vev_insertion_families_are_sums_of_mass_insertion_members():
    """F_r = sum_k c_k(x) F^(k): from the d/dM operator on an undefined function, exactly the
    closed forms the loops stage integrates from the r-insertion integrands (r = 1, 2)."""
    X = loops.X
    assert loops.vev_insertion_terms("I_m", 1) == ((0, -1), (1, 2 * X**2))
    assert loops.vev_insertion_terms("I_da", 1) == ((0, 1), (1, 2 * X**2))
    for base in ("I_m", "I_da"):
        for r in (1, 2):
            summed = sum(c * loops.loop_function(base, k).closed_form for k, c in loops.vev_insertion_terms(base, r))
            assert loops.same_function(summed, loops.loop_function(base, 0, r).closed_form), (base, r)


@pytest.mark.slow
def test_r2_loop_functions_of_the_kernel_against_quadrature_and_the_limit_at_one(with_r2):
    """F_2 of the scan (generated I, I_x and the kernel's I_xx) against mpmath quadrature of the
    r = 2 Feynman-parameter integrands, across the switch from closed form to series at x = 1;
    at x = 1 the value is the x -> 1 limit of the closed form (120 digits at 1 +- 1e-15)."""
    evaluator, lines = with_r2
    assert {line.split("(")[0] for line in lines if line.startswith("def ")} == {"def I_m_xx", "def I_da_xx"}
    xs = np.concatenate([[0.02, 0.3, 0.8, 1.0, 1.5, 4.0, 20.0], np.sqrt(1 + np.linspace(-0.3, 0.3, 13))])
    for base in ("I_m", "I_da"):
        values = evaluator.loop_family(base, 2)(xs)
        for x, value in zip(xs, values):
            assert value == pytest.approx(_quadrature(base, 2, x), rel=1e-9, abs=1e-13), (base, x)
        closed = sp.lambdify(loops.X, loops.loop_function(base, 0, 2).closed_form, "mpmath")
        with mp.workdps(120):
            below, above = closed(1 - mp.mpf("1e-15")), closed(1 + mp.mpf("1e-15"))
        at_one = float(loops.loop_function(base, 0, 2).at_one)
        assert float(below) == pytest.approx(at_one, rel=1e-10) and float(above) == pytest.approx(at_one, rel=1e-10)
        assert evaluator.loop_family(base, 2)(np.array([1.0]))[0] == pytest.approx(at_one, rel=1e-12)


@pytest.mark.slow
def test_r1_loop_functions_are_the_generated_combination(evaluator):
    """The built-in scan's r = 1 families are -I_m + 2 x^2 I_m_x and I_da + 2 x^2 I_da_x of the
    generated module (the same numbers to the last bit) and agree with quadrature."""
    num, _ = evaluator.modules()
    xs = np.array([0.05, 0.3, 0.999999, 1.0, 1.000001, 2.5])
    for base, sign in (("I_m", -1), ("I_da", 1)):
        f, fx = getattr(num, base), getattr(num, base + "_x")
        family = evaluator.loop_family(base, 1)(xs)
        np.testing.assert_array_equal(family, sign * f(xs) + 2 * xs * xs * fx(xs))
        for x, value in zip(xs, family):
            assert value == pytest.approx(_quadrature(base, 1, x), rel=1e-11, abs=1e-14)


@pytest.mark.slow
def test_mu_squared_and_mass_matrices_match_the_eliminated_route(model, derivation, evaluator):
    """Generated tadpoles and mass matrices, affine in mu^2, against the symbolic vacuum
    matrices of the mass_matrices stage (symflav.numerics.points.eliminated_vacuum) at the point table2."""
    names = [n for n, *_ in evaluator.kernel.sampled]
    params, vevs, mu2, residual, M_S, M_P = evaluator.vacuum(_table2_columns(model, names))
    symbols = model.symbols()
    given, _, _ = benchmark.point_values(model, "table2", {})
    vacuum = benchmark.eliminated_vacuum(derivation, {symbols[k]: v for k, v in given.items()})
    expected = {str(mu): float(v) for mu, v in vacuum.mu_squared.items()}
    assert mu2[0] == pytest.approx([expected[mu] for mu in evaluator.kernel.eliminated], rel=1e-12)
    assert residual[0] < 1e-12
    assert np.allclose(M_S[0], vacuum.exact.M_S2, rtol=1e-12, atol=1e-9)
    assert np.allclose(M_P[0], vacuum.exact.M_P2, rtol=1e-12, atol=1e-9)


@pytest.mark.slow
def test_observables_match_the_mass_basis_route_at_table2(model, derivation, evaluator):
    """Delta a_l and c_l of the scan (grouped generated formulas, numpy) against
    symflav.numerics.observables.evaluate (closure by closure, mpmath loop functions) on the vacuum
    of the point table2 (vevs given, mu^2 from the tadpoles), with g_l refitted to the lepton masses."""
    names = [n for n, *_ in evaluator.kernel.sampled]
    out = evaluator(_table2_columns(model, names))
    d = pipeline.run(model, until="observables")
    fixed = benchmark.observables_at(d, "table2")["mass_basis"]["lepton_masses_fixed"]
    for lepton in ("mu", "e"):
        assert out[f"delta_a_{lepton}"][0] == pytest.approx(fixed[lepton]["delta_a"], rel=1e-9)
        assert out[f"c_{lepton}"][0] == pytest.approx(fixed[lepton]["c"], rel=1e-9)
        power = {"mu": 3, "e": 4}[lepton]
        g = float(model.point("table2").as_dict()[f"g_{lepton}"])
        assert out[f"g_{lepton}"][0] == pytest.approx(g * fixed[lepton]["coupling_power_factor"] ** (1 / power), rel=1e-9)
    assert out["BR_mu_e_gamma"][0] == 0.0 and out["positive_masses"][0] and out["analytic_minimum"][0]
    assert out["numeric_checked"][0] and out["numeric_global"][0]  # appendix A: the global minimum


@pytest.mark.slow
def test_masses_and_the_numeric_verdict_against_independent_searches(model, derivation, evaluator):
    """Masses of the scan against the numeric Hessian of the compiled potential; the numeric
    global-minimum verdict against scipy (BFGS, many starts) at points it accepts and rejects."""
    scipy_optimize = pytest.importorskip("scipy.optimize")
    plan = ScanPlan(tuple(viability.plan_and_evaluator(derivation, model.scan("viability"), 1, 0, 1)[0].axes),
                    "random", 4000, seed=3, chunk_size=4000)
    columns = plan.chunk(0)
    out = evaluator(columns)
    params, vevs, *_ = evaluator.vacuum(columns)
    _, kernel = evaluator.modules()
    checked = np.flatnonzero(out["numeric_checked"])
    accepted = [i for i in checked if out["numeric_global"][i]][:2]
    rejected = [i for i in checked if not out["numeric_global"][i]][:2]
    assert accepted and rejected
    for i in accepted + rejected:
        sub = {k: np.asarray(v)[[i]] for k, v in params.items()}
        c = np.asarray(kernel.potential_coefficients(sub)).reshape(len(evaluator.kernel.exponents), -1)[:, 0]
        V = numeric.PolynomialPotential.from_polynomial(evaluator.kernel.exponents, c, 4)
        H = 0.5 * V.hessian(V.point(vevs[i].astype(complex)))  # M^2 = (1/2) d^2V (the model's convention)
        assert np.allclose(np.sqrt(np.linalg.eigvalsh(H[:4, :4])), [out[f"m_S{j}"][i] for j in range(1, 5)], rtol=1e-7)
        here = V.value(V.point(vevs[i].astype(complex)))
        rng = np.random.default_rng(i)
        scale = 2 * np.max(np.abs(vevs[i]))
        best = min(scipy_optimize.minimize(V.value, rng.normal(size=8) * scale * rng.choice([0.3, 1, 3]),
                                           jac=V.gradient, method="BFGS", options={"gtol": 1e-8}).fun
                   for _ in range(40))
        assert (best >= here - 1e-9 * abs(here) - 1e-6) == bool(out["numeric_global"][i])


@pytest.mark.slow
def test_no_mu_e_gamma_chain(derivation):
    """The FN chains give no mu -> e transition (Z2): C_emu = C_mue = 0, BR = 0."""
    fl = derivation["flavor"]
    assert fl.flavor_changing and all(k == 0 and n >= 4 for *_, n, k in fl.flavor_changing)
    pairs = viability.build(derivation, derivation.model.scan("viability")).pairs
    assert [(h, l, hl, lh, bound) for h, l, hl, lh, bound, _, _ in pairs] == [("mu", "e", False, False, "BR_mu_e_gamma_max")]
    assert pairs[0][-1].startswith("no chain mu_R -> e_L or e_R -> mu_L")


# ------------------------------------------------------------------ scans: local, Dask, command line


@pytest.mark.slow
def test_summary_counts_and_the_paper_conditions_emerge(derivation, evaluator):
    plan, _ = viability.plan_and_evaluator(derivation, derivation.model.scan("viability"), 6000, 11, 3000)
    result = run_local(plan, evaluator, progress=False)
    s = evaluator.summary(result.columns)
    viable = result.columns["viable"]
    assert s["viable"]["count"] == int(viable.sum()) and s["viable"]["of"] == 6000
    p = viable.mean()
    assert s["viable"]["error"] == pytest.approx(np.sqrt(p * (1 - p) / 6000))
    assert s["numeric_confirmation"]["sample"] == 2 * evaluator.kernel.confirm
    positive = result.columns["positive_masses"]
    # m_P1^2 ~ -2 v_a^2 lambda_1ab and m_P2^2 ~ v_1^2 lambda'_13 / 2 (the perturbative spectrum): both signs forced
    assert np.all(result.columns["lambda_1ab"][positive] < 0) and np.all(result.columns["lambdap_13"][positive] > 0)
    assert np.all(result.columns["anomalies_within_n_sigma"][viable]) and np.all(result.columns["numeric_global"][viable])


@pytest.mark.slow
def test_the_summary_is_json_without_nan(evaluator):
    """A column that is NaN at every viable point has no range (null), a partly NaN one the range
    of its finite values; the stage's rounded copy turns any non-finite float into null."""
    n = 3
    columns = {name: np.ones(n, dtype=bool) for name in viability.CRITERIA + ("viable", "numeric_sample",
                                                                               "numeric_checked", "numeric_global")}
    columns.update({name: np.linspace(0.5, 1.5, n) for name, *_ in evaluator.kernel.sampled})
    columns["delta_a_mu"] = np.full(n, np.nan)
    columns["m_S1"] = np.array([2.0, np.nan, 3.0])
    summary = viability.summarize(evaluator.kernel, columns)
    assert summary["viable_ranges"]["delta_a_mu"] is None and summary["viable_ranges"]["m_S1"] == [2.0, 3.0]
    text = json.dumps(summary, allow_nan=False)
    assert "NaN" not in text
    sample = viability.ScanSample("s", "M", {"x": float("nan"), "y": [float("inf"), 1.0]}, {}, n, 0)
    assert json.loads(json.dumps(sample.to_json(), allow_nan=False))["y"] == [None, 1.0]


@pytest.mark.slow
def test_dask_local_cluster_equals_the_local_run(derivation, evaluator):
    pytest.importorskip("dask.distributed")
    from symflav.numerics.scan import run_dask

    plan, _ = viability.plan_and_evaluator(derivation, derivation.model.scan("viability"), 3000, 5, 1000)
    local = run_local(plan, evaluator, progress=False)
    remote = run_dask(plan, evaluator, workers=2, progress=False)
    assert remote.n == local.n == 3000
    assert set(remote.columns) == set(local.columns)
    for name in local.columns:
        np.testing.assert_array_equal(remote.columns[name], local.columns[name])


@pytest.mark.slow
def test_scan_command(cli, tmp_path):
    out = tmp_path / "viability.csv"
    result = cli("scan", "--scan", "viability", "--points", "1500", "--chunk", "1500", "--seed", "2", "-o", str(out))
    assert result.returncode == 0, result.stderr
    assert "viable:" in result.stdout
    summary = json.loads(out.with_suffix(".json").read_text())["viability"]
    assert summary["viable"]["of"] == 1500 and summary["ranges"]["M_chi"]["scale"] == "log"
    header = out.read_text().splitlines()[0].split(",")
    assert {"M_chi", "g_mu", "delta_a_mu", "m_S1", "viable", "numeric_global"} <= set(header)
    bad = cli("scan", "--scan", "viability", "--grid", "--points", "10")
    assert bad.returncode == 2 and "random points only" in bad.stderr


def test_report_and_figure_are_generated():
    folder = Path(REPO) / "generated" / "calibbi2020"
    data = json.loads((folder / "viability.json").read_text())
    assert data["scan"] == "viability" and data["viable"]["of"] == data["points"]
    assert (folder / "figures" / "viability.png").read_bytes()[:4] == b"\x89PNG"
    tex = (folder / "report.tex").read_text()
    assert "\\section{Viability scan \\texttt{viability}}" in tex and "figures/viability.pdf" in tex


@pytest.mark.slow
def test_a_model_the_scan_cannot_evaluate_gets_one_line_not_a_crash(tmp_path, capsys):
    """The three-lepton toy with a second mediator family of another mass: the state sums use one
    x = m/M, so the scan does not apply. derive succeeds and its report says so in one line;
    scan is exit 2 with one line naming the scan."""
    text = (Path(REPO) / "tests" / "models" / "three_leptons" / "model.toml").read_text(encoding="utf-8")
    text = text.replace("[parameters]\n", '[[mediators]]\nname = "G"\nlike = "R"\nmass = "M_G"\n'
                                          'charges = { U1 = [5], Z3 = "any" }\n\n[parameters]\nM_G = { kind = "mass" }\n', 1)
    (tmp_path / "model.toml").write_text(text, encoding="utf-8")
    reason = "scans.viability: the mediators have different masses (M_F, M_G); the scan evaluates the loops at one mediator mass"
    assert symflav_cli.main(["derive", str(tmp_path), "--no-pdf", "-o", str(tmp_path / "out")]) == 0
    tex = (tmp_path / "out" / "report.tex").read_text(encoding="utf-8")
    said = re.search(r"Not available: scans\.viability: the mediators have different masses \$\(M_\{?F\}?, M_\{?G\}?\)\$; "
                     r"the scan evaluates the loops at one mediator mass\.", tex)
    assert said, "the reason, with the masses in maths, in one line"
    assert not (tmp_path / "out" / "viability.json").exists()
    capsys.readouterr()
    assert symflav_cli.main(["scan", str(tmp_path), "--scan", "viability", "--points", "10", "-o", str(tmp_path / "v.csv")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and reason in err and not (tmp_path / "v.csv").exists()
