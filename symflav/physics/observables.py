"""Observables from the dipole coefficients: Delta a_l, BR(l -> l' gamma), the EDMs, for every
declared lepton and every pair of leptons (symbolic; numbers at a point: :mod:`symflav.numerics.observables`).

Conventions: ``L ⊃ (e m/(8 pi^2)) C_ll' lbar sigma^{mu nu} P_R l' F_{mu nu} + h.c.``
with m the mass of the decaying (heavier) lepton of the pair; QED with
``D = d + i Q e A``, Q_l = -1, e > 0; EDM term ``L ⊃ -(i/2) d lbar sigma gamma5 l F``;
lepton mass ``L ⊃ -m lbar_L l_R + h.c.``. Every relation below is derived from
:mod:`symflav.physics.dirac` (Feynman rule of the dipole term, Gordon identity, decay rate by
traces) and :mod:`symflav.physics.flavor` (the radiative loops), not typed in.

Per lepton l (chains l_R -> l_L of the flavor stage): m^FN, m^RAD and Delta a/m, by one
insertion of ``c_ij = d^2V/dSbar dSbar`` (the flavor stage) and in the flavon mass basis,
``<phi_a phi_b> = (i/2) sum_k [U_S,ak U_S,bk/(k^2 - m_Sk^2) - U_P,ak U_P,bk/(k^2 - m_Pk^2)]``
(``+`` for <phi_a phi_b^dagger>). Per ordered pair a != b (chains a_R -> b_L, when the charges
allow any): the off-diagonal tree mass and the flavor-changing dipole D_ba, the same closures
of the same loops; ``C_ba = 2 pi^2 D_ba / m`` with m the mass of the decaying lepton.
A flavor-changing chain carries ``sqrt(g_a g_b)`` at every vertex (``g_l`` for a = b).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

import sympy as sp

from symflav.core import symbols
from symflav.core.stages import available
from symflav.physics import dirac, flavor, loops

CONVENTIONS = {
    "dipole_operator": "L ⊃ (e m/(8 pi^2)) C_ll' lbar sigma^{mu nu} P_R l' F_{mu nu} + h.c., m of the decaying lepton",
    "qed": "D_mu = d_mu + i Q e A_mu, e > 0, Q_l = -1",
    "edm": "L ⊃ -(i/2) d lbar sigma^{mu nu} gamma5 l F_{mu nu}",
    "mass_term": "L ⊃ -m lbar_L l_R + h.c.; Delta a uses the signed total mass of the basis (rephased to m > 0)",
    "loop_photon": "photon on the mediator inside the loop (Q_chi = Q_l); flavons neutral",
    "flavor_changing": "a chain a_R -> b_L carries sqrt(g_a g_b) at every vertex; its closures give D_ba, "
                       "C_ba = 2 pi^2 D_ba/m (m of the decaying lepton), in the flavor basis of the leptons",
}


@dataclass(frozen=True)
class Transition:
    """The chains a_R -> b_L of two different leptons and what they give.

    ``m_FN``: the off-diagonal tree mass (L ⊃ -m_FN bbar_L a_R); ``closures``: two flavon
    lines closed as in the flavor stage; ``dipole``: D_ba (GeV^-1) by one insertion, the
    flavor-changing analogue of Delta a/m (C_ba = 2 pi^2 D_ba/m). ``searched``: the largest
    number of insertions searched; no chain up to it means D_ba = 0 at every order searched."""

    source: str
    target: str
    coupling: sp.Expr
    order: int
    searched: int
    chains: tuple[flavor.Chain, ...]
    closures: tuple[flavor.Closure, ...]
    m_FN: sp.Expr
    dipole: sp.Expr

    @property
    def name(self) -> str:
        return f"{self.target}_{self.source}"

    def to_json(self) -> dict:
        return {"from": f"{self.source}_R", "to": f"{self.target}_L", "coupling": str(self.coupling),
                "order": self.order, "searched_up_to": self.searched, "chains": [c.text for c in self.chains],
                "m_FN": str(self.m_FN), "dipole": str(self.dipole)}


@dataclass(frozen=True)
class Observables:
    """Result of the observables stage: symbolic formulas and derived relations."""

    relations: tuple[tuple[str, str | None, sp.Expr], ...]  # (name, reference or None, expression)
    leptons: tuple[tuple[str, dict], ...] = ()
    transitions: tuple[Transition, ...] = ()
    mass_basis: tuple[tuple[str, str | None, sp.Expr], ...] = ()  # (name, reference, expression in DeltaI sums)
    mass_basis_sums: tuple["StateSum", ...] = ()
    formula_units: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    def relation(self, name: str) -> sp.Expr:
        return {n: e for n, _, e in self.relations}[name]

    def transition(self, source: str, target: str) -> Transition | None:
        return next((t for t in self.transitions if (t.source, t.target) == (source, target)), None)

    def to_json(self) -> dict:
        return {
            "conventions": CONVENTIONS,
            "relations": [{"name": n, "equation": eq, "expression": str(e)} for n, eq, e in self.relations],
            "leptons": {name: {k: ({kk: str(vv) for kk, vv in v.items()} if isinstance(v, dict) else str(v))
                               for k, v in data.items()} for name, data in self.leptons},
            "transitions": [t.to_json() for t in self.transitions],
            "mass_basis": [{"name": n, "equation": eq, "expression": str(e)} for n, eq, e in self.mass_basis],
            "notes": list(self.notes),
        }

    @property
    def formulas(self) -> dict[str, sp.Expr]:
        """Formulas exported to the generated numeric module (name -> expression): the dipole
        relations, and per lepton m^FN, m^RAD and Delta a/m in the flavon mass basis (per
        flavor-changing pair the tree mass and D_ba), arguments the sums ``DeltaI_*`` of
        :attr:`mass_basis_sums`. Units of every symbol: :attr:`formula_units`."""
        out = {name: expr for name, _, expr in self.relations if name != "delta_a_over_m_RAD"}
        out.update({name: expr for name, _, expr in self.mass_basis})
        return out


# ------------------------------------------------------------------ derived relations


def _sym(name, latex=None, positive=False):
    return symbols.auxiliary(name, latex, positive=positive)


def dipole_relations(dipole_rule: sp.Expr | None = None):
    """Delta a, the EDM d and BR(l -> l' gamma) in terms of C, from the Dirac algebra
    (``dipole_rule``: :attr:`symflav.physics.dirac.ChiralityFlip.dipole_rule`, derived here if not given)."""
    if dipole_rule is None:
        dipole_rule = dirac.chirality_flip().dipole_rule
    m = _sym("m_l", "m_\\ell", positive=True)
    e = _sym("e", "e", positive=True)
    alpha, G_F = _sym("alpha", r"\alpha", True), _sym("G_F", "G_F", True)
    ReC, ImC = _sym("ReC", r"\mathrm{Re}\,C_{\ell\ell}"), _sym("ImC", r"\mathrm{Im}\,C_{\ell\ell}")
    C1, C2 = _sym("absC_ll2", r"|C_{\ell\ell'}|", True), _sym("absC_l2l", r"|C_{\ell'\ell}|", True)
    Q = -1
    d_coeff = e * m / (8 * sp.pi**2)  # c = d_coeff * C
    # Pauli: the vertex of d is rule * sigma q P_R; F2 is the coefficient of
    # -i Q e (i sigma q / 2m):  F2 = rule * Re(c) * 2 m / (Q e)
    delta_a = sp.factor(dipole_rule * d_coeff * ReC * 2 * m / (Q * e))
    # c P_R + c* P_L = Re c + i Im c gamma5 (checked in the tests with matrices);
    # -(i/2) d_EDM = i Im c  =>  d_EDM = -2 Im c
    d_edm = sp.factor(-2 * d_coeff * ImC)
    gamma, (mg, cR, cL) = dirac.radiative_decay_rate()
    gamma_c = gamma.subs({cR: d_coeff.subs(m, mg) * C1, cL: d_coeff.subs(m, mg) * C2})
    gamma_nu = G_F**2 * mg**5 / (192 * sp.pi**3)  # Gamma(l -> l' nu nu), input (Fermi theory)
    br_ratio = sp.factor(sp.expand((gamma_c / gamma_nu).subs(e, sp.sqrt(4 * sp.pi * alpha))))
    return {
        "delta_a": (delta_a, ReC, m),
        "d": (d_edm, ImC, m, e),
        "br_ratio": (br_ratio, C1, C2, alpha, G_F),
    }


def enhanced_part(closure: flavor.Closure, chain_scalars: set[str]) -> sp.Expr:
    """The part of c_ij from operators with a flavon that enters no chain."""
    return sum((t for _, present, t in closure.by_operator if set(present) - chain_scalars), sp.S.Zero)


def chain_scalars(fl: flavor.FlavorSector) -> set[str]:
    """The flavons that enter some chain of some lepton."""
    return {i.scalar for s in fl.leptons for c in s.chains for i in c.insertions}


def _relations(model, lo) -> list[tuple[str, str | None, sp.Expr]]:
    rel = dipole_relations(lo.dipole_rule)
    return [(name, model.reference_for(f"relation.{name}"), expr) for name, expr in
            (("delta_a_from_C", rel["delta_a"][0]), ("d_from_C", rel["d"][0]),
             ("BR_ratio_from_C", rel["br_ratio"][0]))]


def derive_observables(model, results) -> Observables:
    """The observables stage (symbolic): the dipole relations always; with a flavor sector, per
    lepton and per flavor-changing pair the masses and dipoles (:class:`Transition`)."""
    lo = results["loops"]
    relations = _relations(model, lo)
    fl = available(results, "flavor")
    if fl is None or not fl.leptons:
        return Observables(tuple(relations), formula_units=formula_units(model, [e for _, _, e in relations], ()),
                           notes=("no flavor sector: the dipole relations only",))
    relations.append(("delta_a_over_m_RAD", model.reference_for("relation.delta_a_over_m_RAD"),
                      loops.amplitude_relation(lo)["delta_a_over_dm"]))
    leptons = []
    for s in fl.leptons:
        ml = _sym(f"m_{s.lepton}_signed", rf"m_{{{s.lepton}}}")
        leptons.append((s.lepton, {
            "m_FN": s.m_FN,
            "m_RAD": s.m_RAD,
            "delta_a": ml * s.delta_a_per_m,
            "signed_mass_symbol": ml,
            "C": 2 * sp.pi**2 * s.delta_a_per_m / ml,
            "yukawa_sigma": dict(s.yukawa_sigma),
        }))
    transitions = derive_transitions(model, fl, results["potential"])
    mass_basis, sums = mass_basis_formulas(model, fl, transitions)
    formulas = [e for n, _, e in relations if n != "delta_a_over_m_RAD"] + [e for _, _, e in mass_basis]
    notes = tuple(f"{a} -> {b}: no chain up to {n} insertions, D = 0 at every order searched"
                  for a, b, n, k in _pairs(fl) if not k)
    return Observables(tuple(relations), tuple(leptons), transitions, mass_basis, sums,
                       formula_units(model, formulas, sums), notes)


def _pairs(fl: flavor.FlavorSector):
    """(source, target, searched up to, number of chains) of every ordered pair of leptons."""
    for right, left, searched, found in fl.flavor_changing:
        yield right.removesuffix("_R"), left.removesuffix("_L"), searched, found


def derive_transitions(model, fl: flavor.FlavorSector, potential) -> tuple[Transition, ...]:
    """Chains a_R -> b_L (the leading order that has any, plus the model's extra insertions) with
    their closures, for every ordered pair of leptons the flavor stage found connected."""
    couplings = dict(model.yukawa.couplings)
    fermions = {(f.lepton, f.chirality): f for f in model.fermions}
    out = []
    for a, b, searched, found in _pairs(fl):
        if not found:
            continue
        right, left = fermions[(a, "R")], fermions[(b, "L")]
        g = sp.sqrt(couplings[a] * couplings[b])
        leading = next(n for n in range(searched + 1) if flavor.enumerate_chains(model, right, left, n))
        chains = []
        for n in range(leading, leading + model.yukawa.extra_insertions + 1):
            chains.extend(flavor.enumerate_chains(model, right, left, n))
        x = dict(fl.x)
        m_fn, closures, cache = sp.S.Zero, [], {}
        for k, chain in enumerate(chains):
            mc = flavor.tree_mass(model, g, chain)
            m_fn += mc
            closures.extend(flavor.closures_of(model, potential, k, chain, mc, x, cache))
        dipole = sum((c.dipole_term for c in closures), sp.S.Zero)
        out.append(Transition(a, b, g, leading, searched, tuple(chains), tuple(closures), sp.factor(m_fn), dipole))
    return tuple(out)


@dataclass(frozen=True)
class StateSum:
    """A sum over the flavon mass states, an argument of the mass-basis formulas:
    name = sum_k [U_S,ak U_S,bk F(m_Sk/M) + sign U_P,ak U_P,bk F(m_Pk/M)], with
    F = the r-family of I_m (``kind`` "m") or I_da ("da") and sign = -1 for two insertions of
    the same conjugation (<phi_a phi_b>), +1 for a field and a conjugate (<phi_a phi_b^dagger>).
    ``a``, ``b``: indices in the model's field order; sigma = U_S S, varphi = U_P P;
    M the mass of the mediators inside the loop."""

    name: str
    kind: str
    a: int
    b: int
    same_conjugation: bool
    r: int

    @property
    def pseudoscalar_sign(self) -> int:
        return -1 if self.same_conjugation else 1

    def describe(self, fields, mediator: str = "M", reference: str = "") -> str:
        F = ("I_m" if self.kind == "m" else "I_da") + (f"^({self.r})" if self.r else "")
        sign = "-" if self.same_conjugation else "+"
        a, b = fields[self.a], fields[self.b]
        return (f"sum_k [U_S,{a}k U_S,{b}k {F}(m_Sk/{mediator}) {sign} U_P,{a}k U_P,{b}k {F}(m_Pk/{mediator})]"
                + reference)


def state_sum(model, kind: str, pair, r: int) -> StateSum:
    order = {s.name: i for i, s in enumerate(model.scalars)}
    a, b = sorted((order[pair[0].scalar], order[pair[1].scalar]))
    same = pair[0].conjugate == pair[1].conjugate
    names = [s.name for s in model.scalars]
    name = f"DeltaI_{kind}_{names[a]}_{names[b]}_{'same' if same else 'conj'}" + (f"_r{r}" if r else "")
    return StateSum(name, kind, a, b, same, r)


def _mass_basis_sums(model, chains, closures, coupling, sums):
    """(m^RAD, Delta a/m or D) in the flavon mass basis for ``closures`` of ``chains``: each closure
    gives m_chain M^2 DeltaI_m/(32 pi^2 <S_i><S_j>) and -m_chain DeltaI_da/(16 pi^2 <S_i><S_j>)."""
    masses = {m.name: m.mass for m in model.mediators}
    m_rad, da = sp.S.Zero, sp.S.Zero
    for cl in closures:
        chain = chains[cl.chain]
        m_c = flavor.tree_mass(model, coupling, chain)
        M = masses[chain.mediators[cl.positions[0]]]
        uu = flavor.vev_of(model, cl.pair[0]) * flavor.vev_of(model, cl.pair[1])
        sm, sd = state_sum(model, "m", cl.pair, cl.between), state_sum(model, "da", cl.pair, cl.between)
        sums.setdefault(sm.name, sm)
        sums.setdefault(sd.name, sd)
        m_rad += m_c * M**2 * _sym(sm.name) / (32 * sp.pi**2 * uu)
        da += -m_c * _sym(sd.name) / (16 * sp.pi**2 * uu)
    return m_rad, da


def mass_basis_formulas(model, fl: flavor.FlavorSector, transitions: tuple[Transition, ...] = ()):
    """Per lepton: m^FN, and m^RAD and Delta a/m in the flavon mass basis for every closure of the
    flavor stage; per flavor-changing pair b <- a: the tree mass m_FN_b_a and D_ba
    (``dipole_b_a_mass_basis``). Each closure contributes m_chain M^2 DeltaI_m/(32 pi^2 <S_i><S_j>)
    to m^RAD and -m_chain DeltaI_da/(16 pi^2 <S_i><S_j>) to Delta a/m (m the signed total lepton
    mass), with DeltaI the :class:`StateSum` of its pair."""
    formulas, sums = [], {}

    def collect(expr):
        return sp.collect(sp.expand(expr), [_sym(name) for name in sums])

    for s in fl.leptons:
        m_fn = sum((flavor.tree_mass(model, s.coupling, chain) for chain in s.chains), sp.S.Zero)
        m_rad, da = _mass_basis_sums(model, s.chains, s.closures, s.coupling, sums)
        formulas.append((f"m_FN_{s.lepton}", None, sp.factor(m_fn)))
        formulas.append((f"m_RAD_{s.lepton}_mass_basis", model.reference_for("mass_basis.m_RAD"), collect(m_rad)))
        formulas.append((f"delta_a_over_m_{s.lepton}_mass_basis", model.reference_for("mass_basis.delta_a_over_m"),
                         collect(da)))
    for t in transitions:
        _, dipole = _mass_basis_sums(model, t.chains, t.closures, t.coupling, sums)
        formulas.append((f"m_FN_{t.name}", None, t.m_FN))
        formulas.append((f"dipole_{t.name}_mass_basis", None, collect(dipole)))
    return tuple(formulas), tuple(sorted(sums.values(), key=lambda x: x.name))


AUXILIARY_UNITS = {
    "m_l": ("GeV", "lepton mass"),
    "ReC": ("GeV^-2", "Re C_ll, the diagonal dipole coefficient"),
    "ImC": ("GeV^-2", "Im C_ll, the diagonal dipole coefficient"),
    "absC_ll2": ("GeV^-2", "|C_ll'|, dipole coefficient of l -> l' gamma"),
    "absC_l2l": ("GeV^-2", "|C_l'l|, dipole coefficient of l -> l' gamma"),
    "e": ("dimensionless", "electromagnetic coupling, e = sqrt(4 pi alpha) > 0"),
}


def formula_units(model, formulas, sums, extra: Mapping[str, tuple[str, str]] | None = None
                  ) -> dict[str, tuple[str, str]]:
    """(unit, one-line description) of every symbol of the exported formulas: model parameters,
    the built-in constants, the state sums, the relations' own symbols and ``extra``."""
    params = {p.name: p for p in model.parameters}
    mediator = model.mediators[0].mass if model.mediators else "M"
    reference = model.cite("state_sum", " (eq. {} generalized)")
    described = {s.name: ("dimensionless", s.describe(model.scalar_names, mediator, reference)) for s in sums}
    out = {}
    for expr in formulas:
        for sym in sorted(sp.sympify(expr).free_symbols, key=str):
            name = str(sym)
            if name in out:
                continue
            if name in params:
                p = params[name]
                out[name] = (p.unit_name, p.note or f"{p.kind} {name}")
            elif name in described:
                out[name] = described[name]
            elif model.constant_info(name):
                out[name] = model.constant_info(name)
            elif extra and name in extra:
                out[name] = extra[name]
            elif name in AUXILIARY_UNITS:
                out[name] = AUXILIARY_UNITS[name]
            else:
                raise KeyError(f"no unit for the formula symbol {name}")
    return dict(sorted(out.items()))
