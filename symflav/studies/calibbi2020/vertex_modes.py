"""The paper's lepton sector under each Yukawa vertex mode of the model.

The model file declares two modes: ``all_allowed`` (every vertex the charges allow) and
``eq3_1`` (the vertices of eqs. (3.1)-(3.2) as written). For each mode this stage derives the
flavor sector again (:func:`symflav.physics.flavor.derive_flavor` with ``vertex_set``) and
compares it with the paper:

* eq. (2.3): m^FN over the single-chain formula of (2.3) at the leading order n with
  epsilon = v_1/M_chi, on the aligned vacuum -- the degeneracy factor (2.3) absorbs into g_l;
* eqs. (3.7), (3.8): the tree-level weights -- the coefficient of each vev monomial in
  m^FN / (g^(n+1) <H> / M^n) -- derived (the number of chains per monomial) and printed (read
  off the printed registry's formula with lambda_1ab = 0, never transcribed here);
* Table 2's g-2 statement (Delta a_mu, Delta a_e, c_mu, c_e and their signs) at the printed
  inputs by the mass-insertion route, against the caption.

The result says, per lepton, which modes reproduce the printed weights.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType

import sympy as sp

from symflav.core import printed as printed_registry
from symflav.core.stages import Derivation, Unavailable, available
from symflav.numerics.observables import evaluate, parameter_values
from symflav.physics import flavor
from symflav.physics.observables import derive_observables
from symflav.studies.calibbi2020.paper import printed_table2

MASS_EQUATIONS = {"mu": "3.7", "e": "3.8"}


@dataclass(frozen=True)
class ModeResult:
    """One vertex mode: per lepton the weights and the (2.3) factor; the Table 2 numbers."""

    mode: str
    vertices: tuple[str, ...]
    leptons: dict  # lepton -> {"order", "chains", "weights", "printed_weights", "follows_print", "factor_2_3"}
    table2: dict  # delta_a_mu, delta_a_e, c_mu, c_e (mass insertion at the printed inputs)
    polynomials: dict = None  # lepton -> (derived, printed) weight polynomials in the vevs (for the report)


@dataclass(frozen=True)
class VertexModes:
    """Result of the study's ``vertex_modes`` stage."""

    modes: tuple[ModeResult, ...]
    printed_caption: dict
    follows: dict  # lepton -> modes whose tree weights equal the printed ones

    def to_json(self) -> dict:
        return {
            "modes": {m.mode: {"vertices": list(m.vertices), "leptons": m.leptons, "table2": m.table2}
                      for m in self.modes},
            "printed_table2_caption": self.printed_caption,
            "printed_weights_follow": self.follows,
        }


def _weights(expr: sp.Expr, vevs) -> dict[sp.Expr, sp.Expr]:
    """Coefficient of each monomial in the vevs of a polynomial, keyed by the monomial."""
    poly = sp.Poly(sp.expand(expr), *vevs)
    return {sp.Mul(*[v**k for v, k in zip(vevs, powers)]): c for powers, c in poly.terms()}


def _tree_normalization(model, sector) -> sp.Expr:
    """g^(n+1) <H> / M^n of the leading chains (all of one order): m^FN in these units is the
    polynomial of weights (the overall sign of m^FN is the flavor stage's -1 convention)."""
    higgs = {s.name: s for s in model.spectators}[model.yukawa.higgs]
    mass = model.mediators[0].mass
    return -sector.coupling ** (sector.order + 1) * higgs.vev / mass**sector.order


def _printed_weights(model, registry, lepton: str, vevs) -> dict[sp.Expr, sp.Expr] | None:
    """The weights of the printed tree part of eq. (3.7)/(3.8): its first part at lambda_1ab = 0,
    divided by g^(n+1) (v_H/sqrt 2)/M^n, as a polynomial in the chain vevs."""
    try:
        part = registry.equation(MASS_EQUATIONS[lepton]).parts[0]
    except (KeyError, IndexError):
        return None
    symbols = model.symbols()
    expr = registry.expand_definitions(part.formula)
    by_name = {str(s): s for s in expr.free_symbols}
    expr = expr.xreplace({by_name[k]: 0 for k in ("lambda_1ab",) if k in by_name})
    expr = expr.xreplace({s: symbols[str(s)] for s in expr.free_symbols if str(s) in symbols})
    g = dict(model.yukawa.couplings)[lepton]
    mass = model.mediators[0].mass
    higgs = {s.name: s for s in model.spectators}[model.yukawa.higgs]
    scaled = sp.expand(expr)
    for n in range(1, 8):
        candidate = sp.expand(scaled * mass**n / (g ** (n + 1) * higgs.vev))
        if not candidate.has(mass, g, higgs.vev) and candidate != 0:
            return _weights(candidate, vevs)
    return None


def _factor_2_3(model, registry, sector, m_fn: sp.Expr) -> sp.Expr | None:
    """``m_fn`` (in the paper's phase) over eq. (2.3) at n = the leading order of ``sector``,
    epsilon = v_1/M_chi, on the aligned vacuum: the degeneracy factor (2.3) absorbs into g_l."""
    try:
        part = registry.equation("2.3").parts[0]
    except (KeyError, IndexError):
        return None
    symbols = model.symbols()
    first = model.vacuum.vev(model.scalars[0].name)
    mass = model.mediators[0].mass
    expr = registry.expand_definitions(part.formula)
    subs = {}
    for s in expr.free_symbols:
        name = str(s)
        if name == "n":
            subs[s] = sector.order
        elif name == "eps":
            subs[s] = first / mass
        elif name == "g_l":
            subs[s] = sector.coupling
        elif name in symbols:
            subs[s] = symbols[name]
    alignment = dict(model.vacuum.alignment)
    return sp.simplify((m_fn / expr.xreplace(subs)).xreplace(alignment))


def _table2(model, results, fl, point: str = "table2") -> dict:
    """Delta a_l and c_l by the mass-insertion route at the printed inputs (vevs as given)."""
    if point not in {p.name for p in model.points}:
        return {}
    observables = derive_observables(model, {**results, "flavor": fl})
    derivation = Derivation(model, MappingProxyType({**results, "flavor": fl, "observables": observables}), ())
    values = parameter_values(model, point)
    mi = evaluate(derivation, values, None, route="as printed (vevs as given)", point=point)["mass_insertion"]
    out = {}
    for lepton, row in mi["leptons"].items():
        for key in ("delta_a", "c", "m_FN", "m_RAD", "m_total"):
            if key in row:
                out[f"{key}_{lepton}"] = float(row[key])
    return out


def _mode(model, results, registry, mode: str) -> ModeResult:
    variant = flavor.with_vertex_set(model, mode)
    fl = flavor.derive_flavor(variant, results)
    leptons, polynomials = {}, {}
    for sector in fl.leptons:
        vevs = [model.vacuum.vev(s.name) for s in model.scalars]
        unit = _tree_normalization(model, sector) if sector.chains else None
        derived = _weights(sector.m_FN / unit, vevs) if sector.chains else {}
        printed = _printed_weights(model, registry, sector.lepton, vevs) if registry is not None else None
        factor = printed_factor = None
        if registry is not None and sector.chains:
            factor = _factor_2_3(model, registry, sector, -sector.m_FN)
            if printed is not None:
                tree = -unit * sum((k * v for k, v in printed.items()), sp.S.Zero)
                printed_factor = _factor_2_3(model, registry, sector, tree)
        polynomials[sector.lepton] = tuple(None if w is None else sum((k * v for k, v in w.items()), sp.S.Zero)
                                           for w in (derived, printed))
        leptons[sector.lepton] = {
            "order": sector.order,
            "chains": [c.text for c in sector.chains],
            "weights": {str(k): str(v) for k, v in derived.items()},
            "printed_weights": None if printed is None else {str(k): str(v) for k, v in printed.items()},
            "follows_print": printed is not None and derived == printed,
            "factor_2_3": None if factor is None else str(factor),
            "printed_factor_2_3": None if printed_factor is None else str(printed_factor),
        }
    return ModeResult(mode, fl.vertices, leptons, _table2(variant, results, fl), polynomials)


def derive_vertex_modes(model, results):
    """The ``vertex_modes`` stage: the comparison above for every vertex mode of the model."""
    fl = available(results, "flavor")
    if fl is None or not fl.leptons:
        return Unavailable("no flavor sector")
    if model.changed_charges():
        return Unavailable("the charges differ from the paper's: the vertex set of eqs. (3.1)-(3.2) belongs to Table 1")
    registry = printed_registry.load(model)
    modes = tuple(_mode(model, results, registry, mode) for mode in model.yukawa.modes)
    follows = {lepton: [m.mode for m in modes if m.leptons[lepton]["follows_print"]] for lepton in modes[0].leptons}
    caption = printed_table2(model)
    for m in modes:  # the g-2 statement of Table 2: the sign of each Delta a_l as printed?
        for key in ("delta_a_mu", "delta_a_e"):
            if key in m.table2 and isinstance(caption.get(key), float):
                m.table2[f"{key}_sign_as_printed"] = (m.table2[key] > 0) == (caption[key] > 0)
    return VertexModes(modes, caption, follows)
