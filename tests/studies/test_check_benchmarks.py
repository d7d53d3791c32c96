"""Printed benchmarks under the printed potential and under the inferred conventions.

``check`` carries, per printed quantity of a point table (vevs, every mass, the g-2 statement by
mass insertion and in the mass basis), the printed value, the value derived under the printed
potential and under the inferred conventions, and the root cause of what remains. The inferred
column is held against other routes: the spectrum command's vacuum (``numerics.points``) at the
rescaled couplings, and a scipy minimization of the potential from the printed vevs.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
import sympy as sp
from scipy import optimize

from symflav.numerics import points
from symflav.studies.calibbi2020 import paper, report_benchmark

QUANTITIES = ["v_1", "v_3", "v_a", "v_b"] + [f"m_S{i}" for i in range(1, 5)] + [f"m_P{i}" for i in range(1, 5)]
OBSERVABLES = ("delta_a_mu", "delta_a_e", "c_mu", "c_e")


@pytest.fixture(scope="module")
def table2(derivation):
    report = derivation.results["checks"]
    (table,) = [t for t in report.benchmarks if t["table"] == "Table 2"]
    return report, table


def _rows(table, group):
    return {r["quantity"]: r for r in table["rows"] if r["group"] == group}


def test_every_printed_quantity_of_table_2_has_a_row_under_both_conventions(table2):
    report, table = table2
    assert table["conventions"] == ["lambda_1ab: operator with factor 1/2"]
    assert table["inputs_rescaled"] == {"lambda_1ab": "-1.25"}
    names = [r["quantity"] for r in table["rows"] if r["group"] in ("vacuum", "spectrum")]
    assert names == QUANTITIES
    for group in ("mass insertion", "mass basis"):
        assert set(_rows(table, group)) == set(OBSERVABLES)
    for row in table["rows"]:
        assert row["derived"] is not None and row["inferred"] is not None
    assert "benchmarks_under_inferred_conventions" in report.to_json()


def test_the_printed_potential_column_is_the_checks_own_table_entry(table2):
    """Masses and the mass-basis caption under the printed potential are the check's Table 2 entries."""
    report, table = table2
    checked = {r.entry: r for r in report.results if r.equation == "Table 2" and r.object in ("spectrum", "caption")}
    for group in ("spectrum", "mass basis"):
        for name, row in _rows(table, group).items():
            assert row["derived"] == checked[name].derived
            assert row["derived_agrees"] == (checked[name].status == "agrees")


def test_inferred_column_is_the_spectrum_route_at_the_rescaled_coupling(derivation, table2):
    """numerics.points (the spectrum command's vacuum with mu^2 from the tadpoles) at
    lambda_1ab = -2.50/2 gives the same masses and g-2 statement by both routes."""
    _, table = table2
    evaluated = points.observables_at(derivation, "table2", {"lambda_1ab": -1.25})
    for route, group in (("mass_insertion", "mass insertion"), ("mass_basis", "mass basis")):
        for key, row in _rows(table, group).items():
            assert float(row["inferred"]) == pytest.approx(evaluated[route][key], rel=1e-5), (route, key)
    spectrum = evaluated["mass_basis"]["spectrum"]
    rows = _rows(table, "spectrum")
    for prefix, exact in (("m_S", spectrum["scalar_masses"]), ("m_P", spectrum["pseudoscalar_masses"])):
        mine = sorted(float(r["inferred"]) for k, r in rows.items() if k.startswith(prefix))
        assert np.allclose(mine, sorted(exact), rtol=1e-5)


def test_inferred_vacuum_is_the_minimum_scipy_reaches_from_the_printed_vevs(derivation, table2):
    """The vevs column: BFGS on the real-vev potential (printed mu, relations imposed,
    lambda_1ab halved) from the printed vevs."""
    _, table = table2
    model = derivation.model
    real = derivation.results["real_potential"]
    vevs = real.vevs
    values, _, _ = points.point_values(model, "table2", {"lambda_1ab": -1.25})
    symbols = model.symbols()
    numbers = {symbols[k]: v for k, v in values.items() if k in symbols and symbols[k] not in vevs}
    expr = real.expr.xreplace({s: 0 for s in real.sigma + real.varphi})
    expr = expr.xreplace(dict(model.relations)).xreplace(dict(model.relations)).xreplace(numbers)
    f = sp.lambdify([vevs], expr, "numpy")
    start = np.array([42.0, -84.0, 262.0, 262.0])
    found = optimize.minimize(lambda v: f(v) / 1e6, start, method="BFGS", options={"gtol": 1e-9})
    rows = _rows(table, "vacuum")
    assert np.allclose([float(rows[str(v)]["inferred"]) for v in vevs], found.x, rtol=1e-4)


def test_every_remaining_difference_has_a_root_cause_the_check_names(table2):
    report, table = table2
    ids = {c.id for c in report.root_causes} | {"not-stationary"}
    for row in table["rows"]:
        if row["inferred_agrees"]:
            assert row["root_cause"] is None and row["explanation"] == "agrees within rounding"
        else:
            causes = [c.strip() for c in row["root_cause"].split(",")]
            assert set(causes) <= ids and all(c in table["causes"] for c in causes)
    assert "mu_1^2 = 18501.3" in table["causes"]["not-stationary"]


def test_spectrum_shows_table_2_under_the_inferred_conventions_as_one_table(derivation):
    data = paper._under_inferred(derivation, "table2", {})
    lines = data["table"]["lines"]
    body = "\n".join(lines)
    for name in QUANTITIES:
        assert re.search(rf"^{re.escape(name)} \(", body, re.M), name
    assert sum(line.startswith(("delta_a_", "c_")) for line in lines) == 8
    assert [label for label, _ in data["rows"]] == ["inferred, mass insertion", "inferred, mass basis"]


ASCII_MATHS = re.compile(r"(?<![\\\w])(lambda|phi|mu|Delta)[_ ]|sqrt\(|\d[eE][+-]?\d|(?<![\\\w{])c_(mu|e)\b")


@pytest.mark.parametrize("section", [report_benchmark.benchmark_section, report_benchmark.omitted_section])
def test_report_sections_are_latex_without_ascii_maths(derivation, section):
    tex = section(derivation)
    assert tex and "\\section{" in tex
    prose = re.sub(r"\\texttt\{[^}]*\}", "", tex)  # identifiers of causes and points
    assert not ASCII_MATHS.search(prose), ASCII_MATHS.search(prose)
    assert "−" not in tex  # true minus signs come from math mode, not from a unicode dash


def test_report_table_2_section_has_one_row_per_quantity(derivation):
    tex = report_benchmark.benchmark_section(derivation)
    assert tex.count("\\Delta a_{\\mu}$ & ") == 2 and tex.count("$m_{S_{") == 4 and tex.count("$m_{P_{") == 4
    assert "$1.6\\times10^{-9}$" in tex and "$-1.8\\times10^{-13}$" in tex


def test_number_formats_powers_of_ten_and_minus_signs():
    assert report_benchmark.number(1.6e-9) == "$1.6\\times10^{-9}$"
    assert report_benchmark.number(-18501.3) == "$-1.85\\times10^{4}$"
    assert report_benchmark.number(-84) == "$-84$"
    assert report_benchmark.number(1e-9) == "$10^{-9}$"
    assert report_benchmark.printed_number("-1.8e-13") == "$-1.8\\times10^{-13}$"
