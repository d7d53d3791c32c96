"""Declared Yukawa vertices: validation, chains counted by hand in both vertex modes, and the
closures (m^RAD, Delta a) that follow the chains of each mode. A toy model written here."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
import sympy as sp

from symflav import pipeline
from symflav.core import spec
from symflav.core.errors import SpecError
from symflav.physics import flavor

# U(1)_F: phi1 (1), phi2 (2); l_R (0) -> l_L (3), H neutral; mediators F like l_R of charge
# -1, 1, 2, 3; common mass M. Declared set "minimal": l_R -> F(1) with phi1, every F-F pair
# linked by phi1 or phi2 (the sum over charges of Fbar^(q+1) F^(q) phi1 + Fbar^(q+2) F^(q) phi2),
# F(3) -> l_L with H.
TOY = """
[derivation]
name = "toyvertices"
degree = 4

[symmetries.UF]
group = "U1"

[[scalars]]
name = "phi1"
label = "1"
charges = { UF = "1" }

[[scalars]]
name = "phi2"
label = "2"
charges = { UF = "2" }

[[spectators]]
name = "H"
charges = { UF = "0" }
vev = "v_H/sqrt(2)"
reason = "the Higgs closes the chains"

[[fermions]]
name = "l_L"
chirality = "L"
lepton = "l"
charges = { UF = "3" }

[[fermions]]
name = "l_R"
chirality = "R"
lepton = "l"
charges = { UF = "0" }

[[mediators]]
name = "F"
like = "R"
mass = "M"
charges = { UF = [-1, 1, 2, 3] }

[parameters]
mu_1 = { kind = "mass" }
mu_2 = { kind = "mass" }
lambda_1 = {}
lambda_2 = {}
lambda_12 = {}
kappa = { kind = "mass" }
v_1 = { kind = "vev" }
v_2 = { kind = "vev" }
v_H = { kind = "mass", default = 246 }
M = { kind = "mass" }
g = {}
h = {}

[[terms]]
operator = "phi1† phi1"
coefficient = "mu_1^2"
[[terms]]
operator = "phi2† phi2"
coefficient = "mu_2^2"
[[terms]]
operator = "(phi1† phi1)^2"
coefficient = "lambda_1"
[[terms]]
operator = "(phi2† phi2)^2"
coefficient = "lambda_2"
[[terms]]
operator = "(phi1† phi1) (phi2† phi2)"
coefficient = "lambda_12"
[[terms]]
operator = "phi2† phi1^2"
coefficient = "kappa"

[conventions]
field_expansion = "FIELD_EXPANSION"

[vacuum]
vevs = { phi1 = "v_1", phi2 = "v_2" }

[yukawa]
higgs = "H"
couplings = { l = "g" }
extra_insertions = EXTRA
vertex_set = "MODE"

[yukawa.vertex_sets.minimal]
description = "a hand-picked subset"
vertices = [
  { bar = "F(1)", field = "l_R", scalar = "phi1" },
  { bar = "F", field = "F", scalar = "phi1" },
  { bar = "F", field = "F", scalar = "phi2", coupling = "h" },
  { bar = "l_L", field = "F(3)", scalar = "H" },
]
"""


def toy_model(tmp_path, mode="all_allowed", extra=0, expansion="unnormalized", replace=()):
    text = TOY
    for old, new in replace:
        assert old in text
        text = text.replace(old, new)
    text = text.replace("MODE", mode).replace("EXTRA", str(extra)).replace("FIELD_EXPANSION", expansion)
    folder = tmp_path / f"toy_{mode}_{extra}_{expansion}_{len(replace)}"
    folder.mkdir()
    (folder / "model.toml").write_text(text, encoding="utf-8")
    return spec.load(str(folder))


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    """The toy model with one extra insertion and its potential (the flavor stage's only input)."""
    model = toy_model(tmp_path_factory.mktemp("toy"), extra=1)
    return model, pipeline.run(model, until="potential")


def counted(sector, order):
    return Counter(" ".join(sorted(i.text for i in c.insertions)) for c in sector.chains if c.order == order)


def test_all_allowed_chains_are_counted_by_hand(toy):
    """Order 2: 0 -> 1 -> 3 (phi1, phi2) and 0 -> 2 -> 3 (phi2, phi1). Order 3: 0-1-2-3 (phi1^3),
    0-2-1-3 (phi2 phi1† phi2), 0-(-1)-1-3 (phi1† phi2 phi2); no other path stays on the charges
    -1, 1, 2, 3."""
    model, results = toy
    fl = flavor.derive_flavor(model, results)
    l = fl.lepton("l")
    assert fl.vertex_mode == "all_allowed" and fl.vertex_modes == ("all_allowed", "minimal")
    assert l.order == 2
    assert counted(l, 2) == Counter({"phi1 phi2": 2})
    assert counted(l, 3) == Counter({"phi1 phi1 phi1": 1, "phi1† phi2 phi2": 2})
    multiplicities = {text: count for text, count, _ in l.multiplicities}
    assert multiplicities == {"phi1 phi2": 2, "phi1 phi1 phi1": 1, "phi1† phi2 phi2": 2}


def test_declared_chains_are_counted_by_hand(toy):
    """Minimal set: l_R enters only F(1) (phi1) and leaves only from F(3). Order 2: 1 -> 3 with
    phi2 (coupling h): one chain. Order 3: 1 -> 2 -> 3 with phi1 phi1 (1 -> -1 -> 3 and 1 -> 3 -> 3
    have no vertex): one chain. The multiplicities list the chains behind them with their
    mediators."""
    model, results = toy
    fl = flavor.derive_flavor(model, results, vertex_set="minimal")
    l = fl.lepton("l")
    assert fl.vertex_mode == "minimal" and len(fl.vertices) == 4
    assert counted(l, 2) == Counter({"phi1 phi2": 1}) and counted(l, 3) == Counter({"phi1 phi1 phi1": 1})
    data = fl.to_json()
    assert data["vertex_mode"] == "minimal"
    rows = {row["insertions"]: row for row in data["leptons"]["l"]["multiplicities"]}
    assert rows["phi1 phi2"]["mediator_charges"] == [["UF=1", "UF=3"]]
    assert rows["phi1 phi1 phi1"]["mediator_charges"] == [["UF=1", "UF=2", "UF=3"]]
    s = model.symbols()
    g, h, vH, M, v1, v2 = (s[k] for k in ("g", "h", "v_H", "M", "v_1", "v_2"))
    # m^FN = -(product of the vertex couplings) <H> prod <S> / M^n
    expected = -(g**2 * h * v1 * v2 / M**2 + g**4 * v1**3 / M**3) * vH / sp.sqrt(2)
    assert sp.simplify(l.m_FN - expected) == 0


def test_tree_mass_is_the_light_eigenvalue_of_the_fermion_mass_matrix(tmp_path):
    """Independent route: the full mass matrix of (l, F(-1), F(1), F(2), F(3)) built here from
    the declared vertices, L ⊃ -psibar_L Mass psi_R with L_Y = +coupling (vertex) + h.c.; at
    small vevs the Schur complement -Mass_lF Mass_FF^-1 Mass_Fl of the heavy block is m^FN
    (canonical expansion: <phi> = v/sqrt 2)."""
    model = toy_model(tmp_path, mode="minimal", expansion="canonical")
    fl = flavor.derive_flavor(model, pipeline.run(model, until="potential"))
    values = {"g": 0.7, "h": 1.3, "v_H": 246.0, "M": 1000.0, "v_1": 0.02, "v_2": 0.03}
    s = model.symbols()
    m_fn = float(fl.lepton("l").m_FN.xreplace({s[k]: v for k, v in values.items()}))
    r = np.sqrt(2)
    p1, p2, H = values["v_1"] / r, values["v_2"] / r, values["v_H"] / r
    g, h, M = values["g"], values["h"], values["M"]
    index = {-1: 1, 1: 2, 2: 3, 3: 4}  # rows: lbar_L, Fbar_L(q); columns: l_R, F_R(q)
    mass = np.zeros((5, 5))
    for q in index:
        mass[index[q], index[q]] = M  # L ⊃ -M Fbar F
    mass[index[1], 0] = -g * p1  # +g Fbar(1) l_R phi1
    for q in index:  # Fbar(q+1) F(q) phi1 (g), Fbar(q+2) F(q) phi2 (h), both chiralities: Dirac
        for dq, c, vev in ((1, g, p1), (2, h, p2)):
            if q + dq in index:
                mass[index[q + dq], index[q]] = -c * vev
                mass[index[q], index[q + dq]] = -c * vev  # the h.c. (real couplings and vevs)
    mass[0, index[3]] = -g * H  # +g lbar_L F(3) H
    heavy = mass[1:, 1:]
    schur = mass[0, 0] - mass[0, 1:] @ np.linalg.solve(heavy, mass[1:, 0])
    assert m_fn == pytest.approx(schur, rel=1e-4)


def test_closures_follow_the_chains_of_each_mode(toy):
    """m^RAD and Delta a/m are sums over the closures of the mode's chains: at order 2 the only
    closure is the adjacent (phi1, phi2) pair, c = d^2V/dphibar_1 dphibar_2 = lambda_12 v_1 v_2
    (by hand from the (phi1† phi1)(phi2† phi2) term), once per chain: all-allowed has two such
    chains (coupling g^3), the minimal set one (g^2 h)."""
    model, results = toy
    s = model.symbols()
    g, h = s["g"], s["h"]
    sectors = {mode: flavor.derive_flavor(model, results, vertex_set=mode).lepton("l")
               for mode in ("all_allowed", "minimal")}
    per_chain = {}
    for mode, sector in sectors.items():
        order2 = [k for k, c in enumerate(sector.chains) if c.order == 2]
        closures = [cl for cl in sector.closures if cl.chain in order2]
        assert all(sp.expand(cl.coefficient - s["lambda_12"] * s["v_1"] * s["v_2"]) == 0 for cl in closures)
        assert {frozenset(i.scalar for i in cl.pair) for cl in closures} == {frozenset({"phi1", "phi2"})}
        assert len(closures) == len(order2)
        m_rad = sum((cl.mass_term for cl in closures), sp.S.Zero)
        d_a = sum((cl.dipole_term for cl in closures), sp.S.Zero)
        per_chain[mode] = (m_rad, d_a)
        # every closure of the sector belongs to one of its chains, and the totals are their sums
        assert {cl.chain for cl in sector.closures} <= set(range(len(sector.chains)))
        assert sp.expand(sector.m_RAD - sum((cl.mass_term for cl in sector.closures), sp.S.Zero)) == 0
        assert sp.expand(sector.delta_a_per_m - sum((cl.dipole_term for cl in sector.closures), sp.S.Zero)) == 0
    for k in (0, 1):
        ratio = sp.simplify(per_chain["all_allowed"][k] / per_chain["minimal"][k])
        assert ratio == 2 * g / h


def test_a_model_file_selects_its_vertex_mode(tmp_path):
    model = toy_model(tmp_path, mode="minimal")
    assert model.yukawa.vertex_set == "minimal" and model.yukawa.declared.name == "minimal"
    fl = flavor.derive_flavor(model, pipeline.run(model, until="potential"))
    assert fl.vertex_mode == "minimal" and counted(fl.lepton("l"), 2) == Counter({"phi1 phi2": 1})
    assert flavor.with_vertex_set(model, "all_allowed").yukawa.declared is None
    with pytest.raises(SpecError, match="not a vertex mode"):
        flavor.with_vertex_set(model, "eq9")


@pytest.mark.parametrize("old, new, key, problem", [
    ('{ bar = "F(1)", field = "l_R", scalar = "phi1" }', '{ bar = "F(2)", field = "l_R", scalar = "phi1" }',
     "vertices[0]", "not invariant under UF"),
    ('{ bar = "F", field = "F", scalar = "phi1" }', '{ bar = "G", field = "F", scalar = "phi1" }',
     "vertices[1].bar", "neither a lepton"),
    ('{ bar = "l_L", field = "F(3)", scalar = "H" }', '{ bar = "l_L", field = "F(3)", scalar = "phi1" }',
     "vertices[3]", "expected chibar l_R S"),
    ('{ bar = "F", field = "F", scalar = "phi1" }', '{ bar = "F", field = "F", scalar = "phi1 phi2" }',
     "vertices[1].scalar", "one scalar"),
    ('{ bar = "F", field = "F", scalar = "phi1" },', '{ bar = "F", field = "F", scalar = "phi1" }, '
     '{ bar = "F(2)", field = "F(3)", scalar = "phi1†" },', "vertices[2]", "repeats"),
    ('{ bar = "F", field = "F", scalar = "phi1" }', '{ bar = "F", field = "F", scalar = "phi1", coupling = "__import__" }',
     "vertices[1].coupling", ""),
    ('vertex_set = "MODE"', 'vertex_set = "eq9"', "yukawa.vertex_set", "neither"),
])
def test_bad_vertices_get_one_error_naming_the_vertex(tmp_path, old, new, key, problem):
    with pytest.raises(SpecError) as info:
        toy_model(tmp_path, replace=[(old, new)])
    message = str(info.value)
    assert key in message and problem in message


def test_a_charge_change_leaves_out_the_declared_vertices_it_breaks(tmp_path):
    """--charge l_R=1: chibar(1) l_R phi1 is no longer invariant (it would need F(2)); the minimal
    set then has no entry vertex for l_R, so no chain, and the stage says why."""
    model = toy_model(tmp_path, mode="minimal")
    folder = next(tmp_path.iterdir())
    changed = spec.load(str(folder), charges=["l_R=1"])
    fl = flavor.derive_flavor(changed, pipeline.run(changed, until="potential"))
    assert fl.lepton("l").chains == () and fl.lepton("l").order == -1
    assert any("F(1)bar l_R phi1" in note and "not invariant" in note for note in fl.notes)
    assert model.yukawa.declared.vertices[0].kind == "lepton_R"
