"""The generated module's promises about names and values: model names that collide with
Python or with the module's own names, complete and finite POINTS, units derived and checked
by dimensional analysis, every function callable with **POINTS[name]."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

from symflav.codegen.assemble import build_numeric_module
from symflav.codegen.units import format_unit, parse_unit
from symflav.core.errors import SpecError
from symflav.core.spec import builtin_root
from toymodels import CUBIC, TWO_FIELDS, generated, load, write_model


@pytest.fixture(scope="module")
def numeric(derivation, tmp_path_factory):
    path = tmp_path_factory.mktemp("contract") / "numeric_contract_under_test.py"
    path.write_text(build_numeric_module(derivation), encoding="utf-8")
    return load(path, "numeric_contract_under_test")


def _call_everything(module, point: dict, inputs: dict):
    """Every generated function of ``module`` called with **point (and the formula inputs it
    takes that are not parameters of the model); returns the names called."""
    n = len(module.FIELDS)
    rng = np.random.default_rng(0)
    field = rng.normal(size=n) * 50 + 1j * rng.normal(size=n) * 20
    vevs = np.array([point[v] for v in module.VEVS]) if all(v in point for v in module.VEVS) else np.ones(n) * 30
    first = {"phi": field, "z": np.sqrt(2) * field, "vevs": vevs, "x": np.array([0.5, 1.0, 2.0])}
    called = []
    for name in module.__all__:
        function = getattr(module, name)
        if not inspect.isfunction(function) or name == "release_memory":
            continue
        signature = inspect.signature(function)
        positional = [first[q.name] for q in signature.parameters.values() if q.kind is q.POSITIONAL_ONLY]
        if positional and positional[0] is first["x"]:
            result = function(*positional)
        else:
            doc = function.__doc__ or ""
            extra = {k: v for k, v in inputs.items() if f"\n    {k} :" in doc or f"\n    {k} or" in doc}
            result = function(*positional, **point, **extra)
        values = result.values() if isinstance(result, dict) else result if isinstance(result, tuple) else [result]
        if name != "minimize":
            for value in values:
                assert np.all(np.isfinite(np.asarray(value, dtype=complex))) or name == "solve_mu2", name
        called.append(name)
    return called


@pytest.mark.slow
def test_every_function_works_with_every_point_of_the_builtin_module(numeric):
    """f(**POINTS[name]) for every function; defaults (v_H, alpha, G_F) are in the points; the
    formula functions also take their formula inputs (INPUTS: no values in a model point)."""
    inputs = {name: 0.7 for name in numeric.INPUTS}
    for name, point in numeric.POINTS.items():
        assert point["v_H"] == 246.22 and "G_F" in point
        assert numeric.m_FN_mu(**point) > 0
        called = _call_everything(numeric, point, inputs)
        assert {"potential", "gradient", "hessian", "tadpoles", "mass_matrices", "minimize", "solve_mu2",
                "thermal_mass_coefficients", "perturbative_masses2", "m_FN_mu", "I_m"} <= set(called)
    assert not set(numeric.INPUTS) & {p for point in numeric.POINTS.values() for p in point}
    with pytest.raises(TypeError, match=r"missing parameter\(s\): ReC"):
        numeric.delta_a_from_C(**numeric.POINTS["table2"])


def test_points_keep_the_inputs_as_written_first(numeric, model):
    point = numeric.POINTS["table2"]
    written = [k for k, _ in model.point("table2").values]
    assert list(point)[: len(written)] == written
    assert point["lambda_1ab"] == -2.5 and point["mu_1"] == 122.0
    assert "Inputs, not vacua" in (numeric.__file__ and open(numeric.__file__, encoding="utf-8").read())


@pytest.mark.slow
def test_names_that_python_or_the_module_use_are_safe_in_a_toy_model(tmp_path):
    """Couplings named np, size, vevs, phi, sum, start (and a constant named lambda): the module
    imports, every function runs with **POINTS, and agrees with a hand-written potential."""
    toy = generated(write_model(tmp_path / "names", TWO_FIELDS), "names_toy")
    p = toy.POINTS["p"]
    assert {"np", "size", "vevs", "phi", "sum", "start", "lambda"} <= set(toy.PARAMETERS) and p["lambda"] == 0.25
    called = _call_everything(toy, p, {})
    assert {"potential", "gradient", "hessian", "tadpoles", "minimize", "solve_mu2"} <= set(called)
    w = np.array([30.0 + 5j, 40.0 - 7j])
    hand = (-p["size"] ** 2 * abs(w[0]) ** 2 - p["vevs"] ** 2 * abs(w[1]) ** 2 + p["np"] * abs(w[0]) ** 4
            + p["sum"] * abs(w[1]) ** 4 + p["start"] * abs(w[0] * w[1]) ** 2
            - 2 * p["phi"] ** 2 * (w[0] ** 2).real - 2 * p["phi"] ** 2 / 4 * (w[1] ** 2).real)
    assert toy.potential(w, **p) == pytest.approx(hand, rel=1e-13)
    assert toy.potential(w, **{**p, "phi": 0.0}) != toy.potential(w, **p)  # the parameter phi, not the field
    source = open(toy.__file__, encoding="utf-8").read()
    assert "_p_np" in source and "_p_sum" in source  # read into locals that cannot shadow numpy or sum()


@pytest.mark.slow
@pytest.mark.parametrize("name", ["out", "starts", "seed", "guesses"])
def test_a_parameter_named_like_a_keyword_of_the_module_is_one_clear_error(tmp_path, name, cli):
    folder = write_model(tmp_path / name, TWO_FIELDS, **{"start": name})
    with pytest.raises(SpecError, match=f"parameters.{name}: the name '{name}' is reserved"):
        generated(folder, f"reserved_{name}")
    if name == "out":  # the command line (the built-in model with one more parameter): one line, exit 2
        text = (builtin_root() / "calibbi2020" / "model.toml").read_text(encoding="utf-8")
        text = text.replace("[parameters]\n", '[parameters]\nout = { unit = "dimensionless", default = 1 }\n')
        builtin = write_model(tmp_path / "builtin_out", text.replace('printed = "printed.toml"', ""))
        result = cli("derive", str(builtin), "--code-only", "-o", str(tmp_path / "written"))
        assert result.returncode == 2 and result.stderr.count("\n") == 1, result.stderr
        assert "parameters.out" in result.stderr and "reserved" in result.stderr
        assert not (tmp_path / "written" / "numeric.py").exists()


def test_a_parameter_named_like_a_signed_square_is_an_error(tmp_path):
    text = TWO_FIELDS.replace("sum = {}", "sum = {}\nsize_sq = { unit = \"GeV^2\" }")
    with pytest.raises(SpecError, match="parameters.size_sq: 'size_sq' is the keyword of the signed square"):
        generated(write_model(tmp_path / "square", text), "square_clash")


@pytest.mark.slow
def test_points_are_finite_and_complete(tmp_path):
    with pytest.raises(SpecError, match=r"points.p.np: .*(does not fit a double|larger than 1e300)"):
        generated(write_model(tmp_path / "huge", TWO_FIELDS, **{"np = 0.5": "np = \"1e400\""}), "huge")
    with pytest.raises(SpecError, match=r"points.p: no value for sum"):
        generated(write_model(tmp_path / "partial", TWO_FIELDS, **{"sum = 1\n": ""}), "partial")
    # a default completes the point; a relation too
    text = TWO_FIELDS.replace("sum = {}", "sum = { default = 2 }").replace("sum = 1\n", "")
    assert generated(write_model(tmp_path / "default", text), "with_default").POINTS["p"]["sum"] == 2.0
    text = TWO_FIELDS.replace("sum = 1\n", "").replace("[points.p]", "[relations]\nsum = \"2*np\"\n\n[points.p]")
    assert generated(write_model(tmp_path / "relation", text), "with_relation").POINTS["p"]["sum"] == 1.0


@pytest.mark.slow
def test_units_are_derived_from_declarations_and_operator_degrees(numeric, tmp_path):
    units = numeric.UNITS
    assert units["G_F"] == "GeV^-2" and units["hbar_c"] == "GeV cm" and units["d_e_max"] == "e cm"
    assert units["mu_1"] == units["v_1"] == units["M_chi"] == "GeV" and units["mu_1_sq"] == "GeV^2"
    assert units["lambda_1"] == units["g_mu"] == units["alpha"] == "dimensionless"
    assert units["ReC"] == "GeV^-2" and set(units) == set(numeric.PARAMETERS) | set(numeric.SQUARES.values())
    toy = generated(write_model(tmp_path / "cubic", CUBIC), "cubic_units")
    assert toy.UNITS["k"] == "GeV" and toy.UNITS["l"] == "dimensionless"  # from the operator degrees 3 and 4
    wrong = CUBIC.replace("k = {}", 'k = { unit = "GeV^2" }')
    with pytest.raises(SpecError, match=r"terms\[1\].coefficient: k is in GeV\^2, but this place needs GeV"):
        generated(write_model(tmp_path / "wrong", wrong), "wrong_units")
    # a parameter that enters nothing has no unit to derive; the functions do not read it
    orphan = CUBIC.replace("l = {}", "l = {}\nc = { default = 1 }")
    module = generated(write_model(tmp_path / "orphan", orphan), "orphan_unit")
    assert "c" not in module.PARAMETERS and "c" not in module.UNITS and module.UNITS["k"] == "GeV"
    bad = CUBIC.replace("k = {}", 'k = { unit = "TeV" }')
    with pytest.raises(SpecError, match=r"parameters.k.unit: unit 'TeV'"):
        generated(write_model(tmp_path / "bad", bad), "bad_unit")


@pytest.mark.parametrize("text, vector", [("GeV^-2", (-2, 0, 0)), ("GeV cm", (1, 1, 0)), ("e cm", (0, 1, 1)),
                                          ("GeV^2/cm", (2, -1, 0)), ("dimensionless", (0, 0, 0)),
                                          ("GeV^(1/2)", (0.5, 0, 0))])
def test_unit_strings(text, vector):
    assert tuple(float(x) for x in parse_unit(text)) == vector
    assert parse_unit(format_unit(parse_unit(text))) == parse_unit(text)
