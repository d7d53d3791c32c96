"""`symflav spectrum`: the DESIGN.md JSON contract, the routes at Table 2, options and bad input.

Run in this process (``symflav.cli.main``); the text output reads the result the JSON run
stored in the session's cache, and the changed-charge run (a whole derivation of another
model, covered at the pipeline layer by tests/test_any_model.py) is marked slow."""

from __future__ import annotations

import json

import pytest

from conftest import run_main

CONTRACT = {"point", "conventions", "vevs", "potential_min", "scalar_masses", "pseudoscalar_masses", "U_S", "U_P",
            "perturbative", "minimum_check", "observables"}


@pytest.fixture(scope="module")
def table2():
    result = run_main("spectrum", "--point", "table2", "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.mark.slow
def test_json_contract(table2):
    assert CONTRACT <= set(table2)
    assert table2["point"] == "table2"
    assert {"scalar_masses", "pseudoscalar_masses"} <= set(table2["perturbative"])
    for key in ("scalar_masses", "pseudoscalar_masses"):
        assert table2[key] == sorted(table2[key]) and len(table2[key]) == 4
    assert set(table2["vevs"]) == {"phi1", "phi3", "phia", "phib"}
    assert all(isinstance(v, float) for v in table2["vevs"].values())  # real after rephasing
    assert len(table2["U_S"]) == 4 and len(table2["U_P"][0]) == 4
    assert table2["conventions"]["mass_matrix_factor"] == "1/2"
    assert set(table2["routes"]) == {"as_given", "relations_imposed", "vevs_with_mu_eliminated"}


@pytest.mark.slow
def test_observables_in_the_json(table2, model):
    """Delta a_l and c_l on the vacuum with the given vevs and the mu^2 from the tadpoles, both
    routes, the printed statement beside them (the study's); the same numbers as
    symflav.numerics.points.observables_at (the library call) at the same point."""
    from symflav import pipeline
    from symflav.numerics import points

    obs = table2["observables"]
    assert obs["route"] == "vevs_with_mu_eliminated" == obs["details"]["route"]
    printed = {"delta_a_mu": 1.6e-9, "delta_a_e": -1.8e-13, "c_mu": 1.6, "c_e": 7.1}
    for key, value in printed.items():
        assert set(obs[key]) == {"mass_insertion", "mass_insertion_vacuum", "mass_basis", "printed"}
        assert obs[key]["printed"] == value
    assert obs["delta_a_mu"]["mass_basis"] > 0 > obs["delta_a_e"]["mass_basis"]
    details = obs["details"]
    sign_rule = obs["printed_statement"]["sign_rule"]
    assert sign_rule["holds"] is False and "Sign(Delta a_l) = -Sign(m_l^RAD)" in sign_rule["statement"]
    assert details["x"]["mass_insertion"]["phi1"] == pytest.approx((153109.0 ** 0.5) / 1658, rel=1e-4)
    assert len(details["x"]["mass_basis"]["x_scalar"]) == 4
    assert details["mass_basis"]["flavor_violation"]["BR_mu_e_gamma"] == 0.0
    assert set(obs["by_route"]) == {"as_given", "relations_imposed"}
    assert set(obs["by_route"]["relations_imposed"]) == set(printed)
    statement = obs["printed_statement"]["printed_formulas_at_printed_inputs"]
    for key, value in printed.items():
        assert statement[key] == pytest.approx(value, rel=0.12)  # the printed formulas give the caption
    library = points.observables_at(pipeline.run(model, until="observables"), "table2")
    for key in printed:
        for route in ("mass_insertion", "mass_insertion_vacuum", "mass_basis"):
            assert obs[key][route] == pytest.approx(library[route][key], rel=1e-9)
    assert any(f.startswith("observables: the printed Table 2 statement") for f in table2["findings"])


@pytest.mark.slow
def test_routes_at_table2(table2):
    routes = table2["routes"]
    printed = table2["printed"]
    assert printed["masses"]["S1"] == 123 and printed["scalar_masses"] == [123, 337, 1245, 1430]
    # as printed: the printed vevs are not stationary; the global minimum lies elsewhere and is not aligned
    as_given = routes["as_given"]
    assert not as_given["given_vevs"]["stationary"] and not as_given["aligned"]
    assert as_given["given_vevs"]["gap_to_global"] > 1e9
    # the relations fix lambda_3(a,b) = lambda_1a + lambda_1ab = -1.53, not the printed -0.31
    conflicts = {c["parameter"]: c for c in routes["relations_imposed"]["conflicts"]}
    assert conflicts["lambda_3a"]["relation_value"] == pytest.approx(-1.53)
    assert routes["relations_imposed"]["aligned"]
    # appendix A: the printed vevs with mu^2 eliminated are the global minimum; m_S1 agrees with print
    app = routes["vevs_with_mu_eliminated"]
    assert app["requested_alignment_is_global_minimum"]
    assert app["mu_squared"]["mu_1"] < 0
    assert app["scalar_masses"][0] == pytest.approx(123.4, abs=0.05)
    first = app["perturbative"]["scalar_states"][0]
    assert first["relative_error"] == pytest.approx(0, abs=1e-12)  # (2,1)/sqrt5 is an exact eigenvector
    assert table2["perturbative"]["route"] == "vevs_with_mu_eliminated"
    # the light pseudoscalars are nearly degenerate: the plain expansion is off by tens of percent,
    # the effective blocks through eps^4 (quasi-degenerate treatment) by a few percent at most
    plain = [abs(r["relative_error"]) for r in app["perturbative"]["pseudoscalar_states"]]
    effective = [abs(x) for x in app["perturbative"]["effective_blocks"]["pseudoscalar_relative_error"]]
    assert max(plain) > 0.2 and max(effective) < 0.03
    assert any("not a stationary point" in f for f in table2["findings"])


@pytest.mark.slow
def test_text_output_puts_printed_values_beside(table2):
    result = run_main("spectrum", "--point", "table2")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "printed (Table 2)" in out and "perturbative" in out and "convention:" in out
    assert out.count("[as_given]") == 1 and "[vevs_with_mu_eliminated]" in out
    assert "[observables] on the vevs_with_mu_eliminated vacuum" in out and "printed eqs (3.x)" in out


OVERRIDES = ("spectrum", "--json", "--starts", "4", "--set", "lambda_3a=-1.53", "--set", "lambda_3b=-1.53",
             "--set", "lambda_3=3.315625")


@pytest.fixture(scope="module")
def overridden():
    return run_main(*OVERRIDES)


@pytest.mark.slow
def test_set_overrides_the_point(overridden):
    assert overridden.returncode == 0, overridden.stderr
    data = json.loads(overridden.stdout)
    assert data["routes"]["relations_imposed"]["conflicts"] == []
    assert data["overrides"]["lambda_3a"] == "-153/100"
    assert data["routes"]["as_given"]["aligned"]  # relations hold: the global minimum is aligned


@pytest.mark.slow
def test_spectrum_computed_again_gives_the_same_bytes(overridden):
    again = run_main(*OVERRIDES, "--no-cache")  # computes again, from the stages on
    assert again.returncode == 0 and again.stdout == overridden.stdout


@pytest.mark.parametrize("args,fragment", [
    (("--set", "lambda_9=1"), "--set: lambda_9: unknown parameter"),
    (("--set", "lambda_1=abc"), "--set: lambda_1=abc"),
    (("--set", "lambda_1"), "expected PARAM=VALUE"),
    (("--point", "nowhere"), "--point: nowhere: no such point"),
])
def test_bad_input_is_one_line_exit_2(args, fragment):
    result = run_main("spectrum", *args)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and fragment in result.stderr and "Traceback" not in result.stderr


@pytest.mark.slow
def test_changed_charge_runs_and_reports_the_alignment(cli):
    """phi3 = 2 forbids lambda'_13: the relation for lambda_3 that mentions it is dropped with a
    note (not re-imposed), so the alignment is no longer stationary for generic parameters."""
    result = cli("spectrum", "--charge", "phi3=2", "--json", "--starts", "4")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    route = data["routes"]["vevs_with_mu_eliminated"]
    assert route["stationary"] is False and "lambdap_13" not in route["note"] and "lambda_3" in route["note"]
    assert any(n.startswith("relations.lambda_3: dropped") for n in data["notes"])
    assert data["differs_from_printed_reference"]["charges_changed"][0]["now"] == "2"
    assert data["routes"]["as_given"]["available"]
