"""The example derivation ``u1z3_three_leptons`` (U(1)_F x Z3 flavons with cubic invariants, three
charged leptons), held against routes that do not use symflav's stages: the invariants by brute
force, the potential written out by hand, its global minimum by a numeric search, the mass
matrices by finite differences, the Froggatt-Nielsen chains counted by hand and by a transfer
matrix. The end-to-end runs of the command line are at the end (marked slow)."""

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
from symflav import cli
from symflav.core import spec

NAME = "u1z3_three_leptons"
PATH = EXAMPLES / NAME
FIELDS = ("phi1", "phi2", "s")
VEVS = ("v_1", "v_2", "v_s")
GENERIC = pytest.mark.slow  # whole commands on the example (formerly expected to fail)

# Charges as the model file states them, written again here: (U(1)_F, Z3).
SCALAR_CHARGES = {"phi1": (Q(1, 2), 0), "phi2": (Q(1), 0), "s": (Q(0), 1)}
LEPTONS = {"tau": ((Q(0), 0), (Q(1, 2), 0)), "mu": ((Q(0), 1), (Q(3, 2), 1)), "e": ((Q(0), 2), (Q(5, 2), 1))}
MEDIATORS = {(Q(k, 2), z) for k in range(1, 6) for z in range(3)}  # U(1)_F 1/2..5/2, every Z3


# ------------------------------------------------------------------ the model written by hand


def potential_by_hand(z, p):
    """V(phi1, phi2, s) of the model file, written out; ``z`` the complex fields (numpy or mpmath
    numbers), ``p`` the parameters by name (GeV)."""
    p1, p2, s = z
    n1, n2, ns = ((x * x.conjugate()).real for x in z)

    def square(name):  # a mu^2 given as its signed square (keyword mu_sq) or by mu
        return p[name + "_sq"] if name + "_sq" in p else p[name] ** 2

    return (-square("mu_1") * n1 - square("mu_2") * n2 - square("mu_s") * ns
            + p["lambda_1"] * n1**2 + p["lambda_2"] * n2**2 + p["lambda_s"] * ns**2
            + p["lambda_12"] * n1 * n2 + p["lambda_1s"] * n1 * ns + p["lambda_2s"] * n2 * ns
            + 2 * (p["kappa_12"] * p1**2 * p2.conjugate()).real
            + 2 * (p["kappa_s"] * s**3).real
            - 2 * (square("mup_1") * p1**2).real)


def real_potential(x, p):
    """V in real components x = (a_1, a_2, a_s, b_1, b_2, b_s), phi = (a + i b)/sqrt(2) (canonical)."""
    if isinstance(x[0], mpmath.mpf):
        root = mpmath.sqrt(2)
        return potential_by_hand([mpmath.mpc(x[i], x[i + 3]) / root for i in range(3)], p)
    x = np.asarray(x, dtype=float)
    return float(potential_by_hand((x[:3] + 1j * x[3:]) / np.sqrt(2), p))


def benchmark(model) -> dict[str, float]:
    return {k: float(v) for k, v in model.point("benchmark").values}


def with_tadpole_masses(derivation, p) -> dict[str, float]:
    """The benchmark with each mu^2 replaced by what the tadpoles stage eliminates at its vevs."""
    symbols = {q.name: q.symbol for q in derivation["operators"].parameters}
    values = {symbols[k]: sp.Float(v, 30) for k, v in p.items()}
    out = dict(p)
    for mu, expr in derivation["tadpoles"].eliminated:
        square = float(expr.xreplace(values))
        assert square > 0, f"{mu}^2 = {square} at the benchmark"
        out[str(mu)] = square**0.5
    return out


def evaluate(matrix, derivation, p) -> np.ndarray:
    symbols = {q.name: q.symbol for q in derivation["operators"].parameters}
    values = {symbols[k]: sp.Float(v, 30) for k, v in p.items() if k in symbols}
    return np.array(matrix.xreplace(values).evalf(30).tolist(), dtype=float)


# ------------------------------------------------------------------ operators


def test_operators_are_every_monomial_invariant_under_u1f_and_z3(example, routes):
    table = example(NAME)["operators"]
    brute = routes.brute_force_invariants([SCALAR_CHARGES[f] for f in FIELDS], [None, 3], degree=4)
    derived = {frozenset({op.monomial.powers, op.monomial.conjugate().powers})
               for op in table.operators if op.status in ("named", "generated", "dropped")}
    assert derived == brute
    assert len(brute) == 11  # 3 masses, 2 cubics, 6 quartics


def test_the_cubic_invariants_are_s_cubed_and_phi1_squared_phi2_dagger(example):
    table = example(NAME)["operators"]
    cubic = {op.text: op.coupling for op in table.operators if op.monomial.degree == 3 and op.in_potential}
    assert cubic == {"s^3": "kappa_s", "phi2† phi1^2": "kappa_12"}
    assert not [op for op in table.operators if op.monomial.degree == 4 and not op.monomial.is_hermitian]


def test_the_soft_mass_breaks_u1f_and_keeps_z3(example, routes):
    """phi1^2 is not among the U(1)_F x Z3 invariants, but is among the invariants of Z3 alone."""
    table = example(NAME)["operators"]
    (soft,) = [op for op in table.operators if op.status == "explicit_breaking"]
    assert soft.text == "phi1^2" and soft.explicit_breaking == ("U1F",)
    key = frozenset({soft.monomial.powers, soft.monomial.conjugate().powers})
    z3_only = routes.brute_force_invariants([(SCALAR_CHARGES[f][1],) for f in FIELDS], [3], degree=2)
    both = routes.brute_force_invariants([SCALAR_CHARGES[f] for f in FIELDS], [None, 3], degree=2)
    assert key in z3_only and key not in both


def test_potential_stage_equals_the_potential_written_by_hand(example):
    derivation = example(NAME)
    pot = derivation["potential"]
    symbols = {q.name: q.symbol for q in derivation["operators"].parameters}
    rng = np.random.default_rng(5)
    for _ in range(3):
        p = {name: float(rng.uniform(-2, 2)) for name in symbols}
        z = rng.normal(size=3) + 1j * rng.normal(size=3)
        values = {symbols[k]: sp.Float(v, 30) for k, v in p.items()}
        values.update({phi: sp.Float(w.real, 30) + sp.I * sp.Float(w.imag, 30) for phi, w in zip(pot.phi, z)})
        values.update({bar: sp.Float(w.real, 30) - sp.I * sp.Float(w.imag, 30) for bar, w in zip(pot.phibar, z)})
        derived = complex(pot.expr.xreplace(values).evalf(30))
        assert derived.imag == pytest.approx(0, abs=1e-12)
        assert derived.real == pytest.approx(float(potential_by_hand(z, p)), rel=1e-12)


# ------------------------------------------------------------------ vacuum


def test_benchmark_mu_values_solve_the_tadpoles(example):
    derivation = example(NAME)
    p = benchmark(derivation.model)
    solved = with_tadpole_masses(derivation, p)
    for mu in ("mu_1", "mu_2", "mu_s"):
        assert solved[mu] == pytest.approx(p[mu], rel=1e-11)


def test_tadpole_vacuum_is_the_global_minimum_found_numerically(example, routes):
    """Every start of a numeric search ends at V >= V(vevs); the lowest minima are the vevs up to
    the symmetries of V: phi1 -> -phi1 (what the soft term phi1^2 leaves of U(1)_F) and s -> exp(2 pi i/3) s
    (Z3, broken by <s>), six degenerate vacua."""
    derivation = example(NAME)
    t = derivation["tadpoles"]
    assert t.stationary and [str(v) for v in t.free_vevs] == list(VEVS)
    p = with_tadpole_masses(derivation, benchmark(derivation.model))
    vacuum = np.array([p[v] for v in VEVS] + [0, 0, 0])
    V0 = real_potential(vacuum, p)
    minima = routes.numeric_minima(lambda x: real_potential(x, p), 6, scale=300.0)
    assert minima[0][0] >= V0 * (1 + 1e-10)  # V0 < 0: nothing found below it
    lowest = [x for value, x in minima if value <= V0 * (1 - 1e-9)]
    assert len(lowest) >= len(minima) // 2
    for x in lowest:
        z = x[:3] + 1j * x[3:]
        assert np.abs(z) == pytest.approx(vacuum[:3], rel=1e-5)
        assert abs(np.angle(z[1])) < 1e-5
        assert min(abs(np.angle(z[0])), np.pi - abs(np.angle(z[0]))) < 1e-5
        third = 3 * np.angle(z[2]) / (2 * np.pi)
        assert abs(third - round(third)) < 1e-5


# ------------------------------------------------------------------ masses


def test_mass_matrices_are_the_finite_difference_hessian_at_random_points(example, routes):
    """Canonical fields: (M^2)_ij = d^2V/dx_i dx_j (mass_matrix_factor 1), for any vevs and
    parameters (mu^2 free)."""
    derivation = example(NAME)
    mm = derivation["mass_matrices"]
    assert mm.factor == 1
    rng = np.random.default_rng(11)
    names = [q.name for q in derivation["operators"].parameters]
    for _ in range(2):
        p = {k: round(float(rng.uniform(-1, 1)) * (100 if k.startswith(("mu", "kappa", "v_", "M")) else 1), 6)
             for k in names}
        x = [p[v] for v in VEVS] + [0.0, 0.0, 0.0]
        H = routes.finite_difference_hessian(lambda y: real_potential(y, p), x)
        scale = np.max(np.abs(H))
        for block, rows, cols in ((mm.M_S2, slice(0, 3), slice(0, 3)), (mm.M_P2, slice(3, 6), slice(3, 6)),
                                  (mm.M_SP2, slice(0, 3), slice(3, 6))):
            assert np.allclose(evaluate(block, derivation, p), H[rows, cols], atol=1e-9 * scale, rtol=0)


def test_vacuum_mass_matrices_are_the_hessian_at_the_benchmark_and_positive(example, routes):
    derivation = example(NAME)
    mm = derivation["mass_matrices"]
    p = with_tadpole_masses(derivation, benchmark(derivation.model))
    H = routes.finite_difference_hessian(lambda y: real_potential(y, p), [p[v] for v in VEVS] + [0, 0, 0])
    M_S, M_P = evaluate(mm.M_S2_vacuum, derivation, p), evaluate(mm.M_P2_vacuum, derivation, p)
    scale = np.max(np.abs(H))
    assert np.allclose(M_S, H[:3, :3], atol=1e-9 * scale, rtol=0)
    assert np.allclose(M_P, H[3:, 3:], atol=1e-9 * scale, rtol=0)
    assert np.all(np.linalg.eigvalsh(H) > 0)


@pytest.mark.parametrize("switched_off, goldstones", [
    ((), 0), (("mup_1",), 1), (("mup_1", "kappa_12"), 2), (("mup_1", "kappa_12", "kappa_s"), 3)])
def test_goldstone_bosons_are_the_rephasings_left_unbroken(example, switched_off, goldstones):
    """U(1)^3 rephasings of (phi1, phi2, s): s^3 and phi1^2 phi2^dagger each fix one, the soft term
    the last (U(1)_F): as many massless CP-odd states as terms switched off."""
    derivation = example(NAME)
    p = benchmark(derivation.model)
    p.update({k: 0.0 for k in switched_off})
    M_P = evaluate(derivation["mass_matrices"].M_P2_vacuum, derivation, p)
    scale = np.max(np.abs(evaluate(derivation["mass_matrices"].M_S2_vacuum, derivation, p)))
    eigenvalues = np.linalg.eigvalsh(M_P)
    zero = np.abs(eigenvalues) < 1e-9 * scale
    assert zero.sum() == goldstones
    assert np.all(eigenvalues[~zero] > 0)


# ------------------------------------------------------------------ Froggatt-Nielsen chains


def _insertions():
    for name, (q, z) in SCALAR_CHARGES.items():
        yield name, (q, z)
        yield name + "†", (-q, (-z) % 3)


def chains_by_brute_force(lepton: str, n: int) -> set[tuple[str, ...]]:
    """Every sequence of n flavon insertions l_R -> F -> ... -> F -> l_L whose intermediate charges
    are mediators of the file (H is neutral, so the last mediator has the charges of l_L)."""
    (q, z), target = LEPTONS[lepton]
    found = set()
    for steps in itertools.product(list(_insertions()), repeat=n):
        charge, ok = (q, z), True
        for _, (dq, dz) in steps:
            charge = (charge[0] + dq, (charge[1] + dz) % 3)
            ok = ok and charge in MEDIATORS
        if ok and charge == target:
            found.add(tuple(name for name, _ in steps))
    return found


def chain_count_by_transfer_matrix(right: str, left: str, up_to: int) -> int:
    """Chains from lepton ``right``'s l_R to lepton ``left``'s l_L with 0..``up_to`` insertions,
    counted by powers of the mediator transfer matrix (no path is listed)."""
    states = sorted(MEDIATORS)
    index = {s: i for i, s in enumerate(states)}
    steps = list(_insertions())
    T = np.zeros((len(states), len(states)), dtype=object)
    for s in states:
        for _, (dq, dz) in steps:
            t = (s[0] + dq, (s[1] + dz) % 3)
            if t in index:
                T[index[t], index[s]] += 1
    start, target = LEPTONS[right][0], LEPTONS[left][1]
    first = np.zeros(len(states), dtype=object)
    for _, (dq, dz) in steps:
        t = (start[0] + dq, (start[1] + dz) % 3)
        if t in index:
            first[index[t]] += 1
    total = int(start == target)
    vector = first
    for _ in range(1, up_to + 1):
        total += int(vector[index[target]]) if target in index else 0
        vector = T.dot(vector)
    return total


def test_electron_chains_counted_by_hand_are_nine(example):
    """e: U(1)_F 5/2 and Z3 1 - 2 = 2 between e_R and e_L. With one s^dagger (Z3 2) the other three
    insertions must give 5/2 with charges 1/2 and 1: phi2 phi2 phi1 only; two s (Z3 2) leave two
    insertions for 5/2, too few. 4!/2! = 12 orderings; the 3 starting with s^dagger pass through
    a mediator (0, 1), which the F family does not have: 9 chains, none with fewer insertions."""
    sector = example(NAME)["flavor"].lepton("e")
    assert sector.order == 4 and len(sector.chains) == 9
    derived = {tuple(i.text for i in c.insertions) for c in sector.chains}
    orderings = set(itertools.permutations(("phi2", "phi2", "phi1", "s†")))
    assert len(orderings) == 12
    assert derived == {o for o in orderings if o[0] != "s†"}
    assert derived == chains_by_brute_force("e", 4)
    assert not any(chains_by_brute_force("e", n) for n in range(4))


def test_tau_and_muon_chains_counted_by_hand(example):
    flavor = example(NAME)["flavor"]
    tau, mu = flavor.lepton("tau"), flavor.lepton("mu")
    assert tau.order == 1 and [tuple(i.text for i in c.insertions) for c in tau.chains] == [("phi1",)]
    assert mu.order == 2
    assert {tuple(i.text for i in c.insertions) for c in mu.chains} == {("phi1", "phi2"), ("phi2", "phi1")}
    assert chains_by_brute_force("mu", 2) == {("phi1", "phi2"), ("phi2", "phi1")}


def test_flavor_changing_chain_counts_agree_with_a_transfer_matrix(example):
    flavor = example(NAME)["flavor"]
    right = {f"{l}_R": l for l in LEPTONS}
    left = {f"{l}_L": l for l in LEPTONS}
    assert len(flavor.flavor_changing) == 6
    for a, b, up_to, count in flavor.flavor_changing:
        assert count == chain_count_by_transfer_matrix(right[a], left[b], up_to) > 0


def test_tree_masses_scale_as_the_flavon_insertions(example):
    """m^FN = -(count) g^(n+1) (v_H/sqrt 2) prod(k v_i) / M_F^n with one vev normalization k for
    every insertion (k is tested below): tau 1 chain of v_1, mu 2 of v_1 v_2, e 9 of v_1 v_2^2 v_s."""
    derivation = example(NAME)
    S = {q.name: q.symbol for q in derivation["operators"].parameters}
    expected = {"tau": (S["g_tau"] ** 2 * S["v_1"] / S["M_F"], 1, 1),
                "mu": (S["g_mu"] ** 3 * S["v_1"] * S["v_2"] / S["M_F"] ** 2, 2, 2),
                "e": (S["g_e"] ** 5 * S["v_1"] * S["v_2"] ** 2 * S["v_s"] / S["M_F"] ** 4, 9, 4)}
    per_insertion = None
    for lepton, (monomial, count, n) in expected.items():
        ratio = sp.simplify(-derivation["flavor"].lepton(lepton).m_FN / (count * monomial * S["v_H"] / sp.sqrt(2)))
        assert ratio.is_number and ratio > 0, lepton
        per_insertion = per_insertion or ratio
        assert sp.simplify(ratio - per_insertion**n) == 0, lepton


def test_tree_masses_use_the_canonical_vev(example):
    """With phi = (v + sigma + i varphi)/sqrt(2), <phi> = v/sqrt(2) and <H> = v_H/sqrt(2):
    m^FN = -g^(n+1) <H> sum over chains prod <S_i> / M_F^n (L contains -m lbar_L l_R)."""
    derivation = example(NAME)
    S = {q.name: q.symbol for q in derivation["operators"].parameters}
    r = sp.sqrt(2)
    H = S["v_H"] / r
    v1, v2, vs, M = S["v_1"] / r, S["v_2"] / r, S["v_s"] / r, S["M_F"]
    expected = {"tau": -S["g_tau"] ** 2 * H * v1 / M,
                "mu": -2 * S["g_mu"] ** 3 * H * v1 * v2 / M**2,
                "e": -9 * S["g_e"] ** 5 * H * v1 * v2**2 * vs / M**4}
    for lepton, mass in expected.items():
        assert sp.simplify(derivation["flavor"].lepton(lepton).m_FN - mass) == 0, lepton


# ------------------------------------------------------------------ the command line, end to end


def symflav(*args: str) -> tuple[int, str, str]:
    """``symflav ARGS`` in this process: (exit status, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = cli.main(list(args))
    return status, out.getvalue(), err.getvalue()


def masses_by_hand(p, routes, vevs) -> list[float]:
    """Physical masses (GeV) at real ``vevs``: square roots of the eigenvalues of the
    finite-difference Hessian (canonical fields), CP-even then CP-odd, each ascending."""
    H = routes.finite_difference_hessian(lambda y: real_potential(y, p), list(vevs) + [0, 0, 0])
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
def test_terms_lists_the_invariants():
    status, out, err = symflav("terms", str(PATH), "--json")
    assert status == 0, err
    rows = {row["operator"]: row["status"] for row in json.loads(out)["operators"]}
    assert rows["s^3"] == rows["phi2† phi1^2"] == "named"
    assert rows["phi1^2"] == "explicit_breaking" and len(rows) == 12


@pytest.mark.slow
def test_charge_change_moves_the_cubic_operator_to_a_generated_coupling():
    """phi2 -> charge -1 is phi2 -> phi2^dagger: the named phi2^dagger phi1^2 is forbidden and
    phi1^2 phi2 enters with a generated coupling."""
    status, out, err = symflav("terms", str(PATH), "--charge", "phi2=-1", "--json")
    assert status == 0, err
    rows = {row["operator"]: row for row in json.loads(out)["operators"]}
    assert rows["phi2† phi1^2"]["status"] == "forbidden"
    assert rows["phi1^2 phi2"]["status"] == "generated" and rows["phi1^2 phi2"]["coupling"] == "kappap_12"


@pytest.mark.slow
@GENERIC
def test_spectrum_after_the_charge_change_is_the_relabelled_model(routes):
    """With the generated coupling set to kappa_12, the changed model is the original one with
    phi2 renamed phi2^dagger: the same masses."""
    status, out, err = symflav("spectrum", str(PATH), "--charge", "phi2=-1", "--set", "kappap_12=-50", "--json")
    assert status == 0, err
    result = json.loads(out)
    p = benchmark(spec.load(str(PATH)))
    expected = masses_by_hand(p, routes, [p[v] for v in VEVS])
    assert result["scalar_masses"] + result["pseudoscalar_masses"] == pytest.approx(expected, rel=1e-6)


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
    assert {"potential", "tadpoles", "mass_matrices"} <= set(called)
    # the field argument is w = v + sigma + i varphi (FIELD_EXPANSION canonical: phi = w/sqrt 2)
    assert numeric.potential(fields, **point) == pytest.approx(potential_by_hand(fields / np.sqrt(2), point),
                                                               rel=1e-10)
    assert np.max(np.abs(numeric.tadpoles(vevs, **point))) < 1e-6 * np.max(vevs) ** 3
    M_S2, M_P2 = numeric.mass_matrices(vevs, **point)
    H = routes.finite_difference_hessian(lambda y: real_potential(y, point), list(vevs) + [0, 0, 0])
    assert np.allclose(M_S2, H[:3, :3], rtol=0, atol=1e-8 * np.max(np.abs(H)))
    assert np.allclose(M_P2, H[3:, 3:], rtol=0, atol=1e-8 * np.max(np.abs(H)))


@pytest.mark.slow
@GENERIC
def test_derive_writes_a_report_without_paper_sections(tmp_path):
    status, out, err = symflav("derive", str(PATH), "--no-pdf", "-o", str(tmp_path))
    assert status == 0, err
    report = (tmp_path / "report.tex").read_text(encoding="utf-8")
    assert not re.search(r"table2|Table 2|M_\\?chi|[Ff]igure ?[34]|Calibbi|with the paper|\\section\{Errata", report)
    assert all(lepton in report for lepton in (r"\tau", r"\mu", "e_L"))
    for path in sorted(tmp_path.rglob("*.py")):
        py_compile.compile(str(path), doraise=True)


@pytest.mark.slow
@GENERIC
def test_spectrum_gives_the_hessian_masses_and_every_lepton(routes, example):
    status, out, err = symflav("spectrum", str(PATH), "--json")
    assert status == 0, err
    result = json.loads(out)
    p = benchmark(example(NAME).model)
    assert [result["vevs"][f] for f in FIELDS] == pytest.approx([p[v] for v in VEVS], rel=1e-6)
    expected = masses_by_hand(p, routes, [p[v] for v in VEVS])
    assert result["scalar_masses"] + result["pseudoscalar_masses"] == pytest.approx(expected, rel=1e-6)
    keys = set()
    collect_keys(result["observables"], keys)
    assert {"delta_a_tau", "delta_a_mu", "delta_a_e"} <= keys


@pytest.mark.slow
@GENERIC
def test_scan_runs_the_declared_scan(tmp_path):
    out_file = tmp_path / "viability.csv"
    status, out, err = symflav("scan", str(PATH), "--scan", "viability", "--points", "400", "--chunk", "200",
                               "-o", str(out_file))
    assert status == 0, err
    rows = out_file.read_text(encoding="utf-8").splitlines()
    assert len(rows) == 401
    header = rows[0].split(",")
    assert {"g_tau", "g_mu", "g_e", "v_1", "v_2", "v_s"} <= set(header)
    assert json.loads(out_file.with_suffix(".json").read_text(encoding="utf-8"))
