"""The example derivation ``u1u1_sextic`` (U(1)_a x U(1)_b flavons whose only non-hermitian invariant
is of degree 6; muon and tau), held against routes that do not use symflav's stages: the invariants
by brute force, the potential written out by hand, its global minimum by a numeric search, the mass
matrices by finite differences, the Froggatt-Nielsen chains counted by hand and the tau-mu selection
rule on the charge lattice. The end-to-end runs of the command line are at the end (marked slow)."""

from __future__ import annotations

import contextlib
import io
import itertools
import json
import py_compile
import re
from fractions import Fraction as Q

import mpmath
import numpy as np
import pytest
import sympy as sp

from conftest import EXAMPLES
from symflav import cli, pipeline
from symflav.core import spec

NAME = "u1u1_sextic"
PATH = EXAMPLES / NAME
FIELDS = ("phi1", "phi2", "phi3")
VEVS = ("v_1", "v_2", "v_3")
GENERIC = pytest.mark.slow  # whole commands on the example (formerly expected to fail)

# Charges as the model file states them, written again here: (U(1)_a, U(1)_b).
SCALAR_CHARGES = {"phi1": (Q(1), Q(0)), "phi2": (Q(0), Q(1)), "phi3": (Q(1, 3), Q(2, 3))}
LEPTONS = {"tau": ((Q(0), Q(0)), (Q(0), Q(1))), "mu": ((Q(0), Q(-1, 3)), (Q(1), Q(5, 3)))}
MEDIATORS = {(Q(a, 3), Q(b, 3)) for a in range(0, 4) for b in range(1, 6)}


# ------------------------------------------------------------------ the model written by hand


def potential_by_hand(z, p, c5=0.0):
    """V(phi1, phi2, phi3) of the model file, written out; ``z`` the complex fields (numpy or
    mpmath numbers), ``p`` the parameters by name (GeV). ``c5``: the coefficient of the degree-5
    operator phi1 phi2 phi3^dagger^3 that replaces the sextic one after phi3.U1b = 1/3."""
    p1, p2, p3 = z
    n1, n2, n3 = ((x * x.conjugate()).real for x in z)
    return (-p["mu_1"] ** 2 * n1 - p["mu_2"] ** 2 * n2 - p["mu_3"] ** 2 * n3
            + p["lambda_1"] * n1**2 + p["lambda_2"] * n2**2 + p["lambda_3"] * n3**2
            + p["lambda_12"] * n1 * n2 + p["lambda_13"] * n1 * n3 + p["lambda_23"] * n2 * n3
            + p["c_1"] * n1**3 + p["c_2"] * n2**3 + p["c_3"] * n3**3
            + 2 * (p["c_123"] * p1 * p2**2 * p3.conjugate() ** 3).real
            + 2 * (c5 * p1 * p2 * p3.conjugate() ** 3).real
            - 2 * (p["mup_1"] ** 2 * p1**2).real - 2 * (p["mup_2"] ** 2 * p2**2).real)


def real_potential(x, p, c5=0.0):
    """V in real components x = (a_1, a_2, a_3, b_1, b_2, b_3), phi = a + i b (unnormalized)."""
    if isinstance(x[0], mpmath.mpf):
        return potential_by_hand([mpmath.mpc(x[i], x[i + 3]) for i in range(3)], p, c5)
    x = np.asarray(x, dtype=float)
    return float(potential_by_hand(x[:3] + 1j * x[3:], p, c5))


def benchmark(model) -> dict[str, float]:
    return {k: float(v) for k, v in model.point("benchmark").values}


def symbols_of(derivation) -> dict[str, sp.Symbol]:
    return {q.name: q.symbol for q in derivation["operators"].parameters}


def with_tadpole_masses(derivation, p) -> dict[str, float]:
    """The benchmark with each mu^2 replaced by what the tadpoles stage eliminates at its vevs."""
    S = symbols_of(derivation)
    values = {S[k]: sp.Float(v, 30) for k, v in p.items()}
    out = dict(p)
    for mu, expr in derivation["tadpoles"].eliminated:
        square = float(expr.xreplace(values))
        assert square > 0, f"{mu}^2 = {square} at the benchmark"
        out[str(mu)] = square**0.5
    return out


def evaluate(matrix, derivation, p) -> np.ndarray:
    S = symbols_of(derivation)
    values = {S[k]: sp.Float(v, 30) for k, v in p.items() if k in S}
    return np.array(matrix.xreplace(values).evalf(30).tolist(), dtype=float)


# ------------------------------------------------------------------ operators


@pytest.mark.slow
def test_operators_are_every_monomial_invariant_under_both_u1s_to_degree_6(example, routes):
    table = example(NAME)["operators"]
    brute = routes.brute_force_invariants([SCALAR_CHARGES[f] for f in FIELDS], [None, None], degree=6)
    derived = {frozenset({op.monomial.powers, op.monomial.conjugate().powers})
               for op in table.operators if op.status in ("named", "generated", "dropped")}
    assert derived == brute
    assert len(brute) == 3 + 6 + 10 + 1
    assert [op.status for op in table.operators].count("dropped") == 7


def test_the_only_non_hermitian_invariant_is_of_degree_6(example, routes):
    """phi1^a phi2^b phi3^c is invariant iff c = 3k, a = -k, b = -2k: degree >= 6 unless k = 0."""
    brute = routes.brute_force_invariants([SCALAR_CHARGES[f] for f in FIELDS], [None, None], degree=6)
    non_hermitian = [pair for pair in brute if len(pair) == 2]
    assert len(non_hermitian) == 1
    assert set(non_hermitian[0]) == {((1, 0), (2, 0), (0, 3)), ((0, 1), (0, 2), (3, 0))}
    (op,) = [op for op in example(NAME)["operators"].operators
             if op.in_potential and not op.monomial.is_hermitian and not op.explicit_breaking]
    assert op.coupling == "c_123" and op.monomial.degree == 6


def test_each_soft_mass_breaks_one_u1(example, routes):
    table = example(NAME)["operators"]
    soft = {op.text: op.explicit_breaking for op in table.operators if op.status == "explicit_breaking"}
    assert soft == {"phi1^2": ("U1a",), "phi2^2": ("U1b",)}
    only_b = routes.brute_force_invariants([(SCALAR_CHARGES[f][1],) for f in FIELDS], [None], degree=2)
    only_a = routes.brute_force_invariants([(SCALAR_CHARGES[f][0],) for f in FIELDS], [None], degree=2)
    phi1_sq, phi2_sq = frozenset({((2, 0), (0, 0), (0, 0)), ((0, 2), (0, 0), (0, 0))}), \
        frozenset({((0, 0), (2, 0), (0, 0)), ((0, 0), (0, 2), (0, 0))})
    assert phi1_sq in only_b and phi1_sq not in only_a
    assert phi2_sq in only_a and phi2_sq not in only_b


def test_potential_stage_equals_the_potential_written_by_hand(example):
    derivation = example(NAME)
    pot = derivation["potential"]
    S = symbols_of(derivation)
    rng = np.random.default_rng(5)
    for _ in range(3):
        p = {name: float(rng.uniform(-2, 2)) for name in S}
        z = rng.normal(size=3) + 1j * rng.normal(size=3)
        values = {S[k]: sp.Float(v, 30) for k, v in p.items()}
        values.update({phi: sp.Float(w.real, 30) + sp.I * sp.Float(w.imag, 30) for phi, w in zip(pot.phi, z)})
        values.update({bar: sp.Float(w.real, 30) - sp.I * sp.Float(w.imag, 30) for bar, w in zip(pot.phibar, z)})
        derived = complex(pot.expr.xreplace(values).evalf(30))
        assert derived.imag == pytest.approx(0, abs=1e-12)
        assert derived.real == pytest.approx(float(potential_by_hand(z, p)), rel=1e-12)


def test_pure_sextics_bound_the_non_hermitian_one_as_the_file_states():
    """With c_1 = |c|/3, c_2 = 2|c|/3, c_3 = |c| (the file's bounds) the degree-6 part is >= 0 in
    every direction, and vanishes where |phi1| = |phi2| = |phi3| with the phases aligned (AM-GM)."""
    c = -1.0
    p = dict.fromkeys(("mu_1", "mu_2", "mu_3", "lambda_1", "lambda_2", "lambda_3", "lambda_12", "lambda_13",
                       "lambda_23", "mup_1", "mup_2"), 0.0)
    p.update(c_1=abs(c) / 3, c_2=2 * abs(c) / 3, c_3=abs(c), c_123=c)
    rng = np.random.default_rng(9)
    z = rng.normal(size=(3, 100_000)) + 1j * rng.normal(size=(3, 100_000))
    z /= np.linalg.norm(z, axis=0)
    assert potential_by_hand(z, p).min() > -1e-12
    assert abs(potential_by_hand(np.full(3, 1.0 + 0j), p)) < 1e-15


# ------------------------------------------------------------------ vacuum


def test_benchmark_mu_squares_are_the_tadpole_solution_exactly(example):
    derivation = example(NAME)
    S = symbols_of(derivation)
    point = {S[k]: v for k, v in derivation.model.point("benchmark").values}
    squares = {str(mu): expr.xreplace(point) for mu, expr in derivation["tadpoles"].eliminated}
    assert squares == {"mu_1": sp.Rational(16625, 2), "mu_2": sp.Rational(31725, 2), "mu_3": sp.Rational(165375, 2)}
    p = benchmark(derivation.model)
    for mu, square in squares.items():
        assert p[mu] ** 2 == pytest.approx(float(square), rel=1e-11)


@pytest.mark.slow
def test_tadpole_vacuum_is_the_global_minimum_found_numerically(example, routes):
    """Every start ends at V >= V(vevs); the lowest minima are the vevs up to the symmetries of V:
    phi1 -> -phi1 and phi2 -> -phi2 (what the soft masses leave of the U(1)s) and the Z3
    phi3 -> exp(2 pi i/3) phi3 (the U(1)_a rotation by 2 pi): arg phi1, arg phi2 in {0, pi} and
    3 arg phi3 = arg phi1 mod 2 pi, where c_123 < 0 is lowest."""
    derivation = example(NAME)
    t = derivation["tadpoles"]
    assert t.stationary and [str(v) for v in t.free_vevs] == list(VEVS)
    p = with_tadpole_masses(derivation, benchmark(derivation.model))
    vacuum = np.array([p[v] for v in VEVS] + [0, 0, 0])
    V0 = real_potential(vacuum, p)
    minima = routes.numeric_minima(lambda x: real_potential(x, p), 6, scale=200.0)
    assert minima[0][0] >= V0 * (1 + 1e-10)
    lowest = [x for value, x in minima if value <= V0 * (1 - 1e-9)]
    assert len(lowest) >= len(minima) // 2
    for x in lowest:
        z = x[:3] + 1j * x[3:]
        assert np.abs(z) == pytest.approx(vacuum[:3], rel=1e-5)
        assert np.allclose(np.sin(np.angle(z[:2])), 0, atol=1e-5)
        assert np.sin(3 * np.angle(z[2]) - np.angle(z[0])) == pytest.approx(0, abs=1e-5)
        assert np.cos(3 * np.angle(z[2]) - np.angle(z[0])) == pytest.approx(1, abs=1e-5)


# ------------------------------------------------------------------ masses


def test_mass_matrices_are_half_the_finite_difference_hessian_at_random_points(example, routes):
    """phi = v + sigma + i varphi: (M^2)_ij = 1/2 d^2V/dx_i dx_j (mass_matrix_factor 1/2)."""
    derivation = example(NAME)
    mm = derivation["mass_matrices"]
    assert mm.factor == sp.Rational(1, 2)
    rng = np.random.default_rng(11)
    for _ in range(2):
        p = {k: round(float(rng.uniform(-1, 1)), 6) * (100 if k.startswith(("mu", "v_", "M")) else 1)
             for k in symbols_of(derivation)}
        p.update({k: p[k] * 1e-5 for k in ("c_1", "c_2", "c_3", "c_123")})
        x = [p[v] for v in VEVS] + [0.0, 0.0, 0.0]
        H = routes.finite_difference_hessian(lambda y: real_potential(y, p), x) / 2
        scale = np.max(np.abs(H))
        for block, rows, cols in ((mm.M_S2, slice(0, 3), slice(0, 3)), (mm.M_P2, slice(3, 6), slice(3, 6)),
                                  (mm.M_SP2, slice(0, 3), slice(3, 6))):
            assert np.allclose(evaluate(block, derivation, p), H[rows, cols], atol=1e-9 * scale, rtol=0)


def test_vacuum_mass_matrices_are_the_hessian_at_the_benchmark_and_positive(example, routes):
    derivation = example(NAME)
    mm = derivation["mass_matrices"]
    p = with_tadpole_masses(derivation, benchmark(derivation.model))
    H = routes.finite_difference_hessian(lambda y: real_potential(y, p), [p[v] for v in VEVS] + [0, 0, 0]) / 2
    scale = np.max(np.abs(H))
    assert np.allclose(evaluate(mm.M_S2_vacuum, derivation, p), H[:3, :3], atol=1e-9 * scale, rtol=0)
    assert np.allclose(evaluate(mm.M_P2_vacuum, derivation, p), H[3:, 3:], atol=1e-9 * scale, rtol=0)
    assert np.all(np.linalg.eigvalsh(H) > 0)


@pytest.mark.parametrize("switched_off, goldstones", [
    ((), 0), (("mup_1",), 1), (("mup_1", "mup_2"), 2), (("mup_1", "mup_2", "c_123"), 3)])
def test_goldstone_bosons_are_the_rephasings_left_unbroken(example, switched_off, goldstones):
    """U(1)^3 rephasings: c_123 fixes one combination, each soft mass one U(1)."""
    derivation = example(NAME)
    p = benchmark(derivation.model)
    p.update({k: 0.0 for k in switched_off})
    mm = derivation["mass_matrices"]
    scale = np.max(np.abs(evaluate(mm.M_S2_vacuum, derivation, p)))
    eigenvalues = np.linalg.eigvalsh(evaluate(mm.M_P2_vacuum, derivation, p))
    zero = np.abs(eigenvalues) < 1e-9 * scale
    assert zero.sum() == goldstones
    assert np.all(eigenvalues[~zero] > 0)


# ------------------------------------------------------------------ Froggatt-Nielsen chains


def _insertions():
    for name, (a, b) in SCALAR_CHARGES.items():
        yield name, (a, b)
        yield name + "†", (-a, -b)


def chains_by_brute_force(lepton: str, n: int) -> set[tuple[str, ...]]:
    """Every sequence of n insertions l_R -> F ... F -> l_L through mediators of the file."""
    start, target = LEPTONS[lepton]
    found = set()
    for steps in itertools.product(list(_insertions()), repeat=n):
        charge, ok = start, True
        for _, (da, db) in steps:
            charge = (charge[0] + da, charge[1] + db)
            ok = ok and charge in MEDIATORS
        if ok and charge == target:
            found.add(tuple(name for name, _ in steps))
    return found


def test_muon_chains_counted_by_hand_are_three(example):
    """mu: (1, 2) between mu_R and mu_L. Two insertions cannot make it (phi1 phi2 gives (1, 1), and
    phi3 with anything else has a third); with three: phi3^3 (one ordering) or phi1 phi2 phi2 (three
    orderings, of which phi1 first passes through (1, -1/3), not a mediator of the file): 3 chains."""
    sector = example(NAME)["flavor"].lepton("mu")
    derived = {tuple(i.text for i in c.insertions) for c in sector.chains}
    assert sector.order == 3
    assert derived == {("phi3", "phi3", "phi3"), ("phi2", "phi1", "phi2"), ("phi2", "phi2", "phi1")}
    assert derived == chains_by_brute_force("mu", 3)
    assert not any(chains_by_brute_force("mu", n) for n in range(3))
    tau = example(NAME)["flavor"].lepton("tau")
    assert [tuple(i.text for i in c.insertions) for c in tau.chains] == [("phi2",)]


def test_tree_masses_are_the_chains_written_out(example):
    """<phi> = v here: m^FN = -g^(n+1) (v_H/sqrt 2) sum prod v / M_F^n (L contains -m lbar_L l_R)."""
    derivation = example(NAME)
    S = symbols_of(derivation)
    H = S["v_H"] / sp.sqrt(2)
    expected = {"tau": -S["g_tau"] ** 2 * H * S["v_2"] / S["M_F"],
                "mu": -S["g_mu"] ** 4 * H * (S["v_3"] ** 3 + 2 * S["v_1"] * S["v_2"] ** 2) / S["M_F"] ** 3}
    for lepton, mass in expected.items():
        assert sp.simplify(derivation["flavor"].lepton(lepton).m_FN - mass) == 0, lepton


def test_benchmark_couplings_give_the_tau_and_muon_masses(example):
    derivation = example(NAME)
    S = symbols_of(derivation)
    model = derivation.model
    point = {S[k]: v for k, v in model.point("benchmark").values}
    point[S["v_H"]] = model.parameter("v_H").default
    for lepton in ("tau", "mu"):
        m_fn = float(derivation["flavor"].lepton(lepton).m_FN.xreplace(point))
        assert -m_fn == pytest.approx(float(model.parameter(f"m_{lepton}").default), rel=1e-10)


def test_tau_mu_chains_are_forbidden_to_all_orders(example):
    """q(l_L) - q(l'_R) must be a a + b + c (1/3, 2/3) with integers a, b, c (a phi1^a phi2^b phi3^c
    with conjugates for negative powers): for tau_R -> mu_L (1, 5/3) and mu_R -> tau_L (0, 4/3) no
    such integers exist (the lattice is checked here out to |a|, |b|, |c| <= 12), and the flavor
    stage finds no chain in its search."""
    lattice = {(a + Q(c, 3), b + Q(2 * c, 3)) for a, b, c in itertools.product(range(-12, 13), repeat=3)}
    for right, left in (("tau", "mu"), ("mu", "tau")):
        difference = tuple(x - y for x, y in zip(LEPTONS[left][1], LEPTONS[right][0]))
        assert difference not in lattice
    for lepton in ("tau", "mu"):  # the diagonal ones are on it, of course
        assert tuple(x - y for x, y in zip(LEPTONS[lepton][1], LEPTONS[lepton][0])) in lattice
    changing = example(NAME)["flavor"].flavor_changing
    assert {(a, b) for a, b, _, _ in changing} == {("tau_R", "mu_L"), ("mu_R", "tau_L")}
    assert all(count == 0 and searched >= 7 for _, _, searched, count in changing)


# ------------------------------------------------------------------ the command line, end to end


def symflav(*args: str) -> tuple[int, str, str]:
    """``symflav ARGS`` in this process: (exit status, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = cli.main(list(args))
    return status, out.getvalue(), err.getvalue()


def masses_by_hand(p, routes, vevs, c5=0.0) -> list[float]:
    """Physical masses (GeV) at real ``vevs``: square roots of the eigenvalues of half the
    finite-difference Hessian (unnormalized fields), CP-even then CP-odd, each ascending."""
    H = routes.finite_difference_hessian(lambda y: real_potential(y, p, c5), list(vevs) + [0, 0, 0]) / 2
    return list(np.sqrt(np.linalg.eigvalsh(H[:3, :3]))) + list(np.sqrt(np.linalg.eigvalsh(H[3:, 3:])))


def collect_keys(value, keys: set) -> None:
    """Every key of every dict inside a JSON value."""
    if isinstance(value, dict):
        keys.update(value)
        value = list(value.values())
    if isinstance(value, list):
        for item in value:
            collect_keys(item, keys)


@pytest.mark.slow
def test_terms_lists_the_invariants_to_degree_6():
    status, out, err = symflav("terms", str(PATH), "--json")
    assert status == 0, err
    table = json.loads(out)
    assert table["degree"] == 6
    statuses = [row["status"] for row in table["operators"]]
    assert statuses.count("dropped") == 7 and statuses.count("explicit_breaking") == 2 and len(statuses) == 22


@pytest.mark.slow
def test_charge_change_opens_a_degree_5_operator_and_changes_the_muon_chains():
    """phi3 with U(1)_b charge 1/3: phi1 phi2 phi3^dagger^3 (degree 5) replaces the sextic, and the
    muon keeps only the two phi1 phi2 phi2 chains (phi3^3 now carries (1, 1))."""
    status, out, err = symflav("terms", str(PATH), "--charge", "phi3.U1b=1/3", "--json")
    assert status == 0, err
    rows = {row["operator"]: row for row in json.loads(out)["operators"]}
    assert rows["phi3†^3 phi1 phi2"]["status"] == "generated" and rows["phi3†^3 phi1 phi2"]["coupling"] == "c5_123"
    assert rows["phi3†^3 phi1 phi2^2"]["status"] == "forbidden"
    model = spec.load(str(PATH), charges=["phi3.U1b=1/3"])
    mu = pipeline.run(model, until="flavor")["flavor"].lepton("mu")
    assert {tuple(i.text for i in c.insertions) for c in mu.chains} == {("phi2", "phi1", "phi2"),
                                                                         ("phi2", "phi2", "phi1")}


@pytest.mark.slow
@GENERIC
def test_spectrum_after_the_charge_change_takes_the_generated_coupling(routes):
    """The degree-5 coupling set with --set: the vacuum found is stationary for the potential with
    that operator, and its masses are those of the finite-difference Hessian there."""
    c5 = -1e-4
    status, out, err = symflav("spectrum", str(PATH), "--charge", "phi3.U1b=1/3", "--set", f"c5_123={c5}",
                               "--json")
    assert status == 0, err
    result = json.loads(out)
    p = benchmark(spec.load(str(PATH)))
    p["c_123"] = 0.0
    vevs = [result["vevs"][f] for f in FIELDS]
    gradient = [float(mpmath.diff(lambda t, i=i: real_potential(
        [mpmath.mpf(v) + (t if j == i else 0) for j, v in enumerate(vevs + [0, 0, 0])], p, c5), 0))
        for i in range(6)]
    assert np.max(np.abs(gradient)) < 1e-6 * max(abs(v) for v in vevs) ** 3
    expected = masses_by_hand(p, routes, vevs, c5)
    assert result["scalar_masses"] + result["pseudoscalar_masses"] == pytest.approx(expected, rel=1e-5)


@pytest.mark.slow
@GENERIC
def test_derive_code_only_writes_modules_that_compile_and_run_at_the_benchmark(tmp_path, routes):
    status, out, err = symflav("derive", str(PATH), "--code-only", "-o", str(tmp_path))
    assert status == 0, err
    for path in sorted(tmp_path.rglob("*.py")):
        py_compile.compile(str(path), doraise=True)
    numeric = routes.load_generated(tmp_path / "numeric.py", f"{NAME}_numeric")
    point = numeric.POINTS["benchmark"]
    vevs = np.array([point[v] for v in VEVS])
    rng = np.random.default_rng(3)
    fields = rng.normal(size=3) * 100 + 1j * rng.normal(size=3) * 100
    positional = {"x": np.array([0.3, 1.0, 2.5]), "vevs": vevs, "phi": fields, "z": fields}
    called = routes.call_every_function(numeric, point, positional)
    assert {"potential", "tadpoles", "mass_matrices", "m_FN_tau", "m_FN_mu"} <= set(called)
    assert numeric.potential(fields, **point) == pytest.approx(potential_by_hand(fields, point), rel=1e-10)
    assert np.max(np.abs(numeric.tadpoles(vevs, **point))) < 1e-6 * np.max(vevs) ** 3
    M_S2, M_P2 = numeric.mass_matrices(vevs, **point)
    H = routes.finite_difference_hessian(lambda y: real_potential(y, point), list(vevs) + [0, 0, 0]) / 2
    assert np.allclose(M_S2, H[:3, :3], rtol=0, atol=1e-8 * np.max(np.abs(H)))
    assert np.allclose(M_P2, H[3:, 3:], rtol=0, atol=1e-8 * np.max(np.abs(H)))
    assert -numeric.m_FN_tau(**{"v_H": 246.22, **point}) == pytest.approx(1.77686, rel=1e-9)
    assert -numeric.m_FN_mu(**{"v_H": 246.22, **point}) == pytest.approx(0.1056583755, rel=1e-9)


@pytest.mark.slow
@GENERIC
def test_derive_writes_a_report_without_paper_sections(tmp_path):
    status, out, err = symflav("derive", str(PATH), "--no-pdf", "-o", str(tmp_path))
    assert status == 0, err
    report = (tmp_path / "report.tex").read_text(encoding="utf-8")
    assert not re.search(r"table2|Table 2|M_\\?chi|[Ff]igure ?[34]|Calibbi|with the paper|\\section\{Errata", report)
    assert r"\tau" in report and "c_{123}" in report
    for path in sorted(tmp_path.rglob("*.py")):
        py_compile.compile(str(path), doraise=True)


@pytest.mark.slow
@GENERIC
def test_spectrum_gives_the_hessian_masses_and_both_leptons(routes, example):
    status, out, err = symflav("spectrum", str(PATH), "--json")
    assert status == 0, err
    result = json.loads(out)
    p = benchmark(example(NAME).model)
    assert [result["vevs"][f] for f in FIELDS] == pytest.approx([p[v] for v in VEVS], rel=1e-6)
    expected = masses_by_hand(p, routes, [p[v] for v in VEVS])
    assert result["scalar_masses"] + result["pseudoscalar_masses"] == pytest.approx(expected, rel=1e-6)
    keys = set()
    collect_keys(result["observables"], keys)
    assert {"delta_a_tau", "delta_a_mu"} <= keys and "delta_a_e" not in keys


@pytest.mark.slow
@GENERIC
def test_scan_runs_the_declared_scan(tmp_path):
    out_file = tmp_path / "masses.csv"
    status, out, err = symflav("scan", str(PATH), "--scan", "masses", "--points", "400", "--chunk", "200",
                               "-o", str(out_file))
    assert status == 0, err
    rows = out_file.read_text(encoding="utf-8").splitlines()
    assert len(rows) == 401
    assert {"g_tau", "g_mu", "c_123", "v_3"} <= set(rows[0].split(","))
    assert json.loads(out_file.with_suffix(".json").read_text(encoding="utf-8"))
