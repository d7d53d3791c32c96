"""Mutation tests of the checker: synthetic papers printed from a derivation's own formulas.

Each synthetic paper prints the derivation's tadpoles and mass matrices with injected
changes -- a per-term normalization used consistently in several equations, a global
convention, a sign flipped in one entry, a factor dropped in one equation. ``check`` must
infer exactly the injected convention and report exactly the injected root causes (one cause
per injected slip, holding exactly the entries it was injected into). The injected changes are
applied to the derived objects by substituting numbers into the couplings and vevs -- not by
the laws the checker uses -- so the test does not compare the checker with itself.
"""

from __future__ import annotations

import sympy as sp
import pytest

from symflav import pipeline
from symflav.core import spec
from symflav.core.printed import Equation, Part, Registry
from symflav.verify import checks

TOY = """
[derivation]
name = "mutant"
degree = 4

[symmetries.U]
group = "U1"

[[scalars]]
name = "f1"
label = "1"
charges = { U = "1" }

[[scalars]]
name = "f2"
label = "2"
charges = { U = "2" }

[parameters]
m_1 = { kind = "mass" }
m_2 = { kind = "mass" }
A = { kind = "mass" }
l_1 = {}
l_2 = {}
l_12 = {}
v_1 = { kind = "vev" }
v_2 = { kind = "vev" }

[[terms]]
operator = "f1† f1"
coefficient = "m_1^2"
[[terms]]
operator = "f2† f2"
coefficient = "m_2^2"
[[terms]]
operator = "(f1† f1)^2"
coefficient = "l_1"
[[terms]]
operator = "(f2† f2)^2"
coefficient = "l_2"
[[terms]]
operator = "(f1† f1) (f2† f2)"
coefficient = "l_12"
[[terms]]
operator = "f2† f1^2"
coefficient = "A"

[conventions]
quadratic_sign = -1
nonhermitian_factor = "1"
field_expansion = "unnormalized"
mass_matrix_factor = "1/2"

[vacuum]
vevs = { f1 = "v_1", f2 = "v_2" }
"""


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    path = tmp_path_factory.mktemp("mutant") / "model.toml"
    path.write_text(TOY, encoding="utf-8")
    model = spec.load(str(path))
    return pipeline.run(model, until="mass_matrices")


def _part(label, index, obj, provider, formula, select=None):
    return Part(equation=label, index=index, object=obj, provider=provider, select=select, relation="=",
                order=None, formula=formula, formula_text=None, latex=None, parse_latex=False, latex_note="",
                assume=(), impose_relations=False, transform=None, column_signs="fixed", rows=None, columns=None,
                note="", key=f"{label}.{index}")


def _paper(derivation, *, couplings=None, rho=1, matrix=1, slips=()) -> Registry:
    """A synthetic paper: the derivation's tadpoles (eq. T), M_S^2 (eq. S) and M_P^2 (eq. P),
    printed under ``couplings`` (name -> factor of its operator; for a mu^2 term, of mu^2), the
    ratio ``rho`` of the field normalizations (vevs v -> rho v; the tadpoles carry one more rho,
    the mass matrices rho^2) and the ratio ``matrix`` of the mass-matrix factors; ``slips``:
    (equation, entry, factor) multiplies one printed entry (a matrix entry and its mirror)."""
    names = {p.symbol.name: p.symbol for p in derivation["operators"].parameters}
    squared = {sp.sympify(op.coefficient).base for op, _ in derivation["potential"].contributions
               if sp.sympify(op.coefficient).is_Pow}
    table = {}
    for name, factor in (couplings or {}).items():
        s = names[name]
        table[s] = sp.sqrt(sp.nsimplify(factor)) * s if s in squared else factor * s
    vevs = [v for _, v in derivation.model.vacuum.vevs]
    table.update({v: rho * v for v in vevs})
    tad = derivation["tadpoles"].general
    masses = derivation["mass_matrices"]
    printed = {
        "T": [rho * sp.expand(t.xreplace(table)) for t in tad],
        "S": (matrix * rho**2 * masses.M_S2_vacuum.xreplace(table)).applyfunc(sp.expand),
        "P": (matrix * rho**2 * masses.M_P2_vacuum.xreplace(table)).applyfunc(sp.expand),
    }
    for label, entry, factor in slips:
        if label == "T":
            printed["T"][entry] = factor * printed["T"][entry]
        else:
            i, j = entry
            printed[label][i, j] = factor * printed[label][i, j]
            if i != j:
                printed[label][j, i] = factor * printed[label][j, i]
    parts = {"T": tuple(_part("T", k, f"dV/dsigma_{k + 1}", "tadpoles.general", t, select=k)
                        for k, t in enumerate(printed["T"])),
             "S": (_part("S", 0, "M_S^2", "mass_matrices.M_S2_vacuum", printed["S"]),),
             "P": (_part("P", 0, "M_P^2", "mass_matrices.M_P2_vacuum", printed["P"]),)}
    equations = tuple(Equation(label, "", label, "", "=", None, "", "", ps) for label, ps in parts.items())
    return Registry("synthetic", equations, (), (), names=dict(names))


def _causes(report):
    """{cause id: {(equation, object, entry)}} of every entry with a root cause."""
    out = {}
    for r in report.results:
        if r.root_cause:
            out.setdefault(r.root_cause, set()).add((r.equation, r.entry))
    return out


def _check(derivation, registry):
    return checks.run(derivation, registry=registry)


def test_a_faithful_paper_has_no_root_cause(toy):
    report = _check(toy, _paper(toy))
    assert report.inferred["changes"] == []
    assert report.root_causes == ()
    assert all(r.status == "agrees" for r in report.results)


def test_a_per_term_normalization_used_consistently_is_one_inferred_convention(toy):
    """The cubic operator printed with 1/2 everywhere: the tadpoles, M_S^2 and M_P^2 disagree
    in many entries, all explained by one inferred convention."""
    report = _check(toy, _paper(toy, couplings={"A": sp.Rational(1, 2)}))
    assert report.inferred["changes"] == ["A: operator with factor 1/2"]
    causes = _causes(report)
    assert set(causes) == {checks.INFERRED}
    assert len(causes[checks.INFERRED]) >= 6 and {e for e, _ in causes[checks.INFERRED]} == {"T", "S", "P"}
    assert [c.id for c in report.root_causes] == [checks.INFERRED]


def test_a_flipped_quadratic_sign_is_inferred_from_the_tadpoles(toy):
    report = _check(toy, _paper(toy, couplings={"m_1": -1, "m_2": -1}))
    assert sorted(report.inferred["changes"]) == ["m_1: mu^2 term with factor -1", "m_2: mu^2 term with factor -1"]
    assert set(_causes(report)) == {checks.INFERRED}
    assert {e for e, _ in _causes(report)[checks.INFERRED]} == {"T"}


def test_a_global_field_normalization_is_inferred(toy):
    """phi = (v + sigma + i varphi)/sqrt2 throughout with the mass-matrix factor 1 (twice the
    derivation's 1/2): every entry that depends on the vevs is explained by the two global settings."""
    report = _check(toy, _paper(toy, rho=1 / sp.sqrt(2), matrix=2))
    changes = report.inferred["changes"]
    assert any("field normalization" in c and "/sqrt2" in c for c in changes)
    assert "mass-matrix factor x2" in changes and len(changes) == 2
    assert set(_causes(report)) == {checks.INFERRED}


def test_a_sign_flipped_in_one_entry_is_its_own_root_cause(toy):
    """On top of a consistent normalization, one entry of M_P^2 printed with the wrong sign:
    the convention is still inferred, and exactly that entry (and its mirror) has another cause."""
    report = _check(toy, _paper(toy, couplings={"A": sp.Rational(1, 2)}, slips=[("P", (0, 0), -1)]))
    assert report.inferred["changes"] == ["A: operator with factor 1/2"]
    causes = _causes(report)
    others = {c: e for c, e in causes.items() if c != checks.INFERRED}
    assert list(others.values()) == [{("P", "phi1,phi1")}] or list(others.values()) == [{("P", "f1,f1")}]
    assert len(report.root_causes) == 2


def test_a_factor_dropped_in_one_equation_is_one_root_cause(toy):
    """A factor 2 dropped in the first tadpole equation (a slip of one equation, under the
    derivation's own conventions): one cause, holding that equation only."""
    report = _check(toy, _paper(toy, slips=[("T", 0, sp.Rational(1, 2))]))
    assert report.inferred["changes"] == []
    causes = _causes(report)
    assert len(causes) == 1
    (entries,) = causes.values()
    assert entries == {("T", None)} and len(report.root_causes) == 1


@pytest.mark.slow
def test_the_built_in_derivation_with_one_term_renormalized(derivation):
    """The built-in derivation printed with its quartic lambda_13 operator normalized with 2 in
    the tadpoles and both mass matrices: exactly that convention is inferred, no other cause."""
    report = _check(derivation, _paper(derivation, couplings={"lambda_13": 2}))
    assert report.inferred["changes"] == ["lambda_13: operator with factor 2"]
    assert set(_causes(report)) == {checks.INFERRED}
