"""Observables from the dipole coefficients: Delta a_l, BR(l -> l' gamma), d_e, flavon couplings.

Conventions: eq. (1.3), ``L ⊃ (e m/(8 pi^2)) C_ll' lbar sigma^{mu nu} P_R l' F_{mu nu} + h.c.``
with m the mass of the decaying (heavier) lepton of the pair; QED with
``D = d + i Q e A``, Q_l = -1, e > 0; EDM term ``L ⊃ -(i/2) d lbar sigma gamma5 l F``;
lepton mass ``L ⊃ -m lbar_L l_R + h.c.``. Every relation below is derived from
:mod:`symflav.physics.dirac` (Feynman rule of the dipole term, Gordon identity, decay rate by
traces) and :mod:`symflav.physics.flavor` (the radiative loops), not typed in.

Two numeric routes (:func:`evaluate`):

* ``mass_insertion``: the flavor-stage formulas, one insertion of ``c_ij = d^2V/dSbar dSbar``
  on propagators of unperturbed mass m_a (``x_a = m_a/M``); by default m_a^2 = |mu_a^2|, the
  bilinear of the potential (the paper's x_phi = mu_phi1/M_chi), optionally the diagonal
  ``d^2V/dphi dphibar`` at the vacuum;
* ``mass_basis``: exact flavon propagators from the scalar spectrum (masses, U_S, U_P):
  ``<phi_a phi_b> = (i/2) sum_k [U_S,ak U_S,bk/(k^2 - m_Sk^2) - U_P,ak U_P,bk/(k^2 - m_Pk^2)]``
  (``+`` for <phi_a phi_b^dagger>), eqs. A.15-A.17 rederived.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

import math

import mpmath
import numpy as np
import sympy as sp

from symflav.physics import dirac, flavor, loops
from symflav.core import symbols
from symflav.core.spec import read_printed

CONVENTIONS = {
    "dipole_operator": "L ⊃ (e m/(8 pi^2)) C_ll' lbar sigma^{mu nu} P_R l' F_{mu nu} + h.c. (eq. 1.3), m of the decaying lepton",
    "qed": "D_mu = d_mu + i Q e A_mu, e > 0, Q_l = -1",
    "edm": "L ⊃ -(i/2) d lbar sigma^{mu nu} gamma5 l F_{mu nu}",
    "mass_term": "L ⊃ -m lbar_L l_R + h.c.; Delta a uses the signed total mass of the basis (rephased to m > 0)",
    "loop_photon": "photon on the mediator inside the loop (Q_chi = Q_l); flavons neutral",
}


@dataclass(frozen=True)
class Observables:
    """Result of the observables stage: symbolic formulas and derived relations."""

    relations: tuple[tuple[str, str, sp.Expr], ...]  # (name, equation label, expression)
    leptons: tuple[tuple[str, dict], ...]
    effective_lambda: sp.Expr
    paper_form: tuple[tuple[str, str, sp.Expr], ...]
    sign_relation: dict
    conditions: tuple[tuple[str, str, object], ...]
    symbols_used: dict
    section2: tuple[tuple[str, str, sp.Expr], ...] = ()  # (name, equation, expression in x_phi)
    mass_basis: tuple[tuple[str, str, sp.Expr], ...] = ()  # (name, equation, expression in DeltaI sums)
    mass_basis_sums: tuple["StateSum", ...] = ()
    formula_units: Mapping[str, tuple[str, str]] = field(default_factory=dict)

    def relation(self, name: str) -> sp.Expr:
        return {n: e for n, _, e in self.relations}[name]

    def to_json(self) -> dict:
        return {
            "conventions": CONVENTIONS,
            "relations": [{"name": n, "equation": eq, "expression": str(e)} for n, eq, e in self.relations],
            "leptons": {name: {k: ({kk: str(vv) for kk, vv in v.items()} if isinstance(v, dict) else str(v))
                               for k, v in data.items()} for name, data in self.leptons},
            "effective_lambda_3_6": str(self.effective_lambda),
            "paper_form": [{"name": n, "equation": eq, "expression": str(e)} for n, eq, e in self.paper_form],
            "sign_relation": {k: (str(v) if isinstance(v, sp.Basic) else v) for k, v in self.sign_relation.items()},
            "conditions": [{"name": n, "equation": eq, "expression": str(e)} for n, eq, e in self.conditions],
            "section2": [{"name": n, "equation": eq, "expression": str(e)} for n, eq, e in self.section2],
        }

    def section2_relation(self, name: str) -> sp.Expr:
        return {n: e for n, _, e in self.section2}[name]

    @property
    def formulas(self) -> dict[str, sp.Expr]:
        """Formulas exported to the generated numeric module (name -> expression):
        the section-2 relations (x_phi, m_l, M_chi, v_1, v_a, lambda_2_2), the dipole
        relations of eqs. (1.4), (1.7), (4.5), and per lepton m^FN, m^RAD and Delta a/m in
        the flavon mass basis (eqs. A.15-A.17 for every closure; arguments the sums
        ``DeltaI_*`` of :attr:`mass_basis_sums`). Units of every symbol: :attr:`formula_units`."""
        out = {name: expr for name, _, expr in self.section2}
        out.update({name: expr for name, _, expr in self.relations if name != "delta_a_over_m_RAD"})
        out.update({name: expr for name, _, expr in self.mass_basis})
        return out


# ------------------------------------------------------------------ derived relations


def _sym(name, latex=None, positive=False):
    return symbols.auxiliary(name, latex, positive=positive)


def dipole_relations(dipole_rule: sp.Expr | None = None):
    """Delta a, d_e and BR(l -> l' gamma) in terms of C (eq. 1.3), from the Dirac algebra
    (``dipole_rule``: :attr:`symflav.physics.dirac.ChiralityFlip.dipole_rule`, derived here if not given)."""
    if dipole_rule is None:
        dipole_rule = dirac.chirality_flip().dipole_rule
    m = _sym("m_l", "m_\\ell", positive=True)
    e = _sym("e", "e", positive=True)
    alpha, G_F = _sym("alpha", r"\alpha", True), _sym("G_F", "G_F", True)
    ReC, ImC = _sym("ReC", r"\mathrm{Re}\,C_{\ell\ell}"), _sym("ImC", r"\mathrm{Im}\,C_{\ell\ell}")
    C1, C2 = _sym("absC_ll2", r"|C_{\ell\ell'}|", True), _sym("absC_l2l", r"|C_{\ell'\ell}|", True)
    Q = -1
    d_coeff = e * m / (8 * sp.pi**2)  # c = d_coeff * C  (eq. 1.3)
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
        "d_e": (d_edm, ImC, m, e),
        "br_ratio": (br_ratio, C1, C2, alpha, G_F),
    }


def enhanced_part(closure: flavor.Closure, chain_scalars: set[str]) -> sp.Expr:
    """The part of c_ij from operators with a flavon that enters no chain (the paper's
    enhanced lambda_1ab closures, sec. 3.1)."""
    return sum((t for _, present, t in closure.by_operator if set(present) - chain_scalars), sp.S.Zero)


def derive_observables(model, results) -> "Observables":
    """The observables stage (symbolic)."""
    fl: flavor.FlavorSector = results["flavor"]
    if not fl.leptons:
        rel = dipole_relations(results["loops"].dipole_rule)
        relations = (("delta_a_from_C", "1.4", rel["delta_a"][0]), ("d_e_from_C", "4.5", rel["d_e"][0]),
                     ("BR_ratio_from_C", "1.7", rel["br_ratio"][0]))
        return Observables(relations, (), sp.S.Zero, (), {}, (), {},
                           formula_units=formula_units(model, [e for _, _, e in relations], ()))
    rel = dipole_relations(results["loops"].dipole_rule)
    relations = [
        ("delta_a_from_C", "1.4", rel["delta_a"][0]),
        ("d_e_from_C", "4.5", rel["d_e"][0]),
        ("BR_ratio_from_C", "1.7", rel["br_ratio"][0]),
    ]
    lp = loops.amplitude_relation(results["loops"])
    rel_da_m = lp["delta_a_over_dm"]
    relations.append(("delta_a_over_m_RAD", "2.9", rel_da_m))

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

    # eq. (3.6): the phi1 phi1 closure, normalized as lambda (phi_a^dagger phi_1)^2 -> c = 2 lambda v_a^2
    eff, paper, sign, conditions = _paper_forms(model, fl)
    section2 = section2_relations(model, fl, rel_da_m)
    mass_basis, sums = mass_basis_formulas(model, fl)
    formulas = [e for _, _, e in section2] + [e for n, _, e in relations if n != "delta_a_over_m_RAD"] + \
        [e for _, _, e in mass_basis]
    return Observables(tuple(relations), tuple(leptons), eff, tuple(paper), sign, tuple(conditions),
                       {"x": dict(fl.x)}, section2, mass_basis, sums, formula_units(model, formulas, sums))


@dataclass(frozen=True)
class StateSum:
    """A sum over the flavon mass states (eq. A.17 generalized), an argument of the mass-basis
    formulas: name = sum_k [U_S,ak U_S,bk F(m_Sk/M) + sign U_P,ak U_P,bk F(m_Pk/M)], with
    F = the r-family of I_m (``kind`` "m") or I_da ("da") and sign = -1 for two insertions of
    the same conjugation (<phi_a phi_b>), +1 for a field and a conjugate (<phi_a phi_b^dagger>).
    ``a``, ``b``: indices in the model's field order; sigma = U_S S, varphi = U_P P."""

    name: str
    kind: str
    a: int
    b: int
    same_conjugation: bool
    r: int

    @property
    def pseudoscalar_sign(self) -> int:
        return -1 if self.same_conjugation else 1

    def describe(self, fields) -> str:
        F = ("I_m" if self.kind == "m" else "I_da") + (f"^({self.r})" if self.r else "")
        sign = "-" if self.same_conjugation else "+"
        a, b = fields[self.a], fields[self.b]
        return (f"sum_k [U_S,{a}k U_S,{b}k {F}(m_Sk/M_chi) {sign} U_P,{a}k U_P,{b}k {F}(m_Pk/M_chi)] "
                f"(eq. A.17 generalized)")


def state_sum(model, kind: str, pair, r: int) -> StateSum:
    order = {s.name: i for i, s in enumerate(model.scalars)}
    a, b = sorted((order[pair[0].scalar], order[pair[1].scalar]))
    same = pair[0].conjugate == pair[1].conjugate
    names = [s.name for s in model.scalars]
    name = f"DeltaI_{kind}_{names[a]}_{names[b]}_{'same' if same else 'conj'}" + (f"_r{r}" if r else "")
    return StateSum(name, kind, a, b, same, r)


def mass_basis_formulas(model, fl: flavor.FlavorSector):
    """Per lepton: m^FN, and m^RAD and Delta a/m in the flavon mass basis for every closure of the
    flavor stage (eqs. A.15, A.16 rederived and generalized): each closure contributes
    m_chain M^2 DeltaI_m/(32 pi^2 <S_i><S_j>) to m^RAD and -m_chain DeltaI_da/(16 pi^2 <S_i><S_j>)
    to Delta a/m (m the signed total lepton mass), with DeltaI the :class:`StateSum` of its pair."""
    formulas, sums = [], {}
    masses = {m.name: m.mass for m in model.mediators}
    for s in fl.leptons:
        m_fn = sp.S.Zero
        m_rad, da = sp.S.Zero, sp.S.Zero
        for chain in s.chains:
            m_fn += flavor.tree_mass(model, s.coupling, chain)
        for cl in s.closures:
            chain = s.chains[cl.chain]
            m_c = flavor.tree_mass(model, s.coupling, chain)
            M = masses[chain.mediators[cl.positions[0]]]
            uu = flavor.vev_of(model, cl.pair[0]) * flavor.vev_of(model, cl.pair[1])
            sm, sd = state_sum(model, "m", cl.pair, cl.between), state_sum(model, "da", cl.pair, cl.between)
            sums.setdefault(sm.name, sm)
            sums.setdefault(sd.name, sd)
            m_rad += m_c * M**2 * _sym(sm.name) / (32 * sp.pi**2 * uu)
            da += -m_c * _sym(sd.name) / (16 * sp.pi**2 * uu)
        formulas.append((f"m_FN_{s.lepton}", "3.7" if s.lepton == "mu" else "3.8", sp.factor(m_fn)))
        formulas.append((f"m_RAD_{s.lepton}_mass_basis", "A.15", sp.collect(sp.expand(m_rad), list(map(_sym, sums)))))
        formulas.append((f"delta_a_over_m_{s.lepton}_mass_basis", "A.16", sp.collect(sp.expand(da), list(map(_sym, sums)))))
    return tuple(formulas), tuple(sorted(sums.values(), key=lambda x: x.name))


AUXILIARY_UNITS = {
    "m_l": ("GeV", "lepton mass"),
    "x_phi": ("dimensionless", "mu_phi1/M_chi: the bilinear mass of the flavon in the loop over the mediator mass"),
    "lambda_2_2": ("dimensionless", "the quartic lambda of eq. (2.2), lambda (phi_a^dagger phi_1)^2 + h.c."),
    "ReC": ("GeV^-2", "Re C_ll, the diagonal dipole coefficient of eq. (1.3)"),
    "ImC": ("GeV^-2", "Im C_ll, the diagonal dipole coefficient of eq. (1.3)"),
    "absC_ll2": ("GeV^-2", "|C_ll'|, dipole coefficient of l -> l' gamma (eq. 1.3)"),
    "absC_l2l": ("GeV^-2", "|C_l'l|, dipole coefficient of l -> l' gamma (eq. 1.3)"),
    "e": ("dimensionless", "electromagnetic coupling, e = sqrt(4 pi alpha) > 0"),
}


def formula_units(model, formulas, sums) -> dict[str, tuple[str, str]]:
    """(unit, one-line description) of every symbol of the exported formulas."""
    params = {p.name: p for p in model.parameters}
    described = {s.name: ("dimensionless", s.describe(model.scalar_names)) for s in sums}
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
            elif name in AUXILIARY_UNITS:
                out[name] = AUXILIARY_UNITS[name]
            else:
                raise KeyError(f"no unit for the formula symbol {name}")
    return dict(sorted(out.items()))


X_PHI = ("x_phi", r"x_\phi")


def section2_relations(model, fl: flavor.FlavorSector, delta_a_over_dm: sp.Expr):
    """The model-independent relations of section 2 (eqs. 2.9, 2.10), derived, in x_phi.

    * ``ratio_da_mrad``: Delta a_l / m_l^RAD from the same loop (``delta_a_over_dm`` of
      :func:`symflav.physics.loops.amplitude_relation`), one class of closures: Sigma -> I^x(x_phi).
    * ``m_rad_over_m_fn``: m^RAD / m^FN of one chain whose two phi_1 lines are closed by
      eq. (2.2)'s ``lambda (phi_a^dagger phi_1)^2 + h.c.``: the closure response per unit
      c / (v v) is read off the flavor stage, c = d^2V/dphi_1^2 = 2 lambda v_a^2 by sympy.
    * ``ratio_fn_rad``: |lambda m^FN / m^RAD| (the left side of eq. 2.10).
    Symbols: m_l (lepton mass), M_chi, x_phi, lambda_2_2 (eq. 2.2's lambda), and the
    vevs of the first chain flavon and of the first flavon outside every chain.
    """
    x = _sym(*X_PHI, positive=True)
    names = {str(s): s for s in delta_a_over_dm.free_symbols}
    fm, fd = loops.function_symbol("I_m_x"), loops.function_symbol("I_da_x")
    M_chi = model.mediators[0].mass if model.mediators else names["M"]
    ratio = delta_a_over_dm.xreplace({names["Sigma_da"]: fd(x), names["Sigma_m"]: fm(x), names["M"]: M_chi})
    rows = [("ratio_da_mrad", "2.9", ratio)]
    chain_scalars = _chain_scalars(fl)
    others = [s for s in model.scalars if s.name not in chain_scalars]
    response = None
    for s in fl.leptons:
        for cl in s.closures:
            if cl.same_field and cl.between == 0 and cl.coefficient != 0:
                chain = s.chains[cl.chain]
                vv = flavor.vev_of(model, cl.pair[0]) * flavor.vev_of(model, cl.pair[1])
                m_chain = flavor.tree_mass(model, s.coupling, chain)
                response = sp.simplify(cl.mass_term * vv / (m_chain * cl.coefficient))
                scalar = cl.pair[0].scalar
                break
        if response is not None:
            break
    if response is None or not others:
        return tuple(rows)
    response = response.xreplace({sym: x for _, sym in fl.x})
    v1, va = model.vacuum.vev(scalar), model.vacuum.vev(others[0].name)
    lam = _sym("lambda_2_2", r"\lambda")
    phi, phia_bar = sp.symbols("phi phia_bar")
    closing = sp.diff(lam * phia_bar**2 * phi**2, phi, 2).subs(phia_bar, va)  # eq. (2.2)
    m_rad_over_m_fn = sp.simplify(response * closing / v1**2)
    rows.append(("m_rad_over_m_fn", "2.4", m_rad_over_m_fn))
    rows.append(("ratio_fn_rad", "2.10", sp.Abs(sp.simplify(lam / m_rad_over_m_fn))))
    return tuple(rows)


def _chain_scalars(fl: flavor.FlavorSector) -> set[str]:
    return {i.scalar for s in fl.leptons for c in s.chains for i in c.insertions}


def _paper_forms(model, fl: flavor.FlavorSector):
    """Eqs. (3.6)-(3.11) rederived: aligned vacuum, common x, enhanced closures only."""
    chain_scalars = _chain_scalars(fl)
    others = [s for s in model.scalars if s.name not in chain_scalars]
    align = dict(model.vacuum.alignment)
    eff = sp.S.Zero
    if others and chain_scalars:
        ref = others[0]
        v_ref = model.vacuum.vev(ref.name)
        first = next(s for s in model.scalars if s.name in chain_scalars)
        pot_closure = None
        for s in fl.leptons:
            for cl in s.closures:
                if cl.pair[0] == cl.pair[1] and cl.pair[0].scalar == first.name:
                    pot_closure = cl
                    break
            if pot_closure:
                break
        if pot_closure is not None:
            eff = sp.expand(pot_closure.coefficient / (2 * v_ref**2))
    x_common = _sym("x_phi", r"x_\phi", positive=True)
    R = _sym("R", r"R", positive=False)
    paper = []
    forms = {}
    for s in fl.leptons:
        xs = {sym: x_common for _, sym in fl.x}
        m_fn = sp.factor(s.m_FN.subs(align))
        m_rad_enh = sp.S.Zero
        da_enh = sp.S.Zero
        for cl in s.closures:
            part = enhanced_part(cl, chain_scalars)
            if part == 0:
                continue
            m_rad_enh += cl.mass_term * part / cl.coefficient
            da_enh += cl.dipole_term * part / cl.coefficient
        m_rad_enh = sp.factor(m_rad_enh.subs(align).subs(xs))
        da_enh = sp.factor(da_enh.subs(align).subs(xs))
        # eqs. (A.15), (A.16): the same enhanced closures with the exact flavon propagator,
        # Delta I = sum_k [(U_S)_ak (U_S)_bk I(x_Sk) -+ (U_P)_ak (U_P)_bk I(x_Pk)] (eq. A.17)
        mb_m, mb_d = sp.S.Zero, sp.S.Zero
        for cl in s.closures:
            if enhanced_part(cl, chain_scalars) == 0:
                continue
            chain = s.chains[cl.chain]
            m_c = flavor.tree_mass(model, s.coupling, chain)
            M = model.mediators[[m.name for m in model.mediators].index(chain.mediators[cl.positions[0]])].mass
            uu = flavor.vev_of(model, cl.pair[0]) * flavor.vev_of(model, cl.pair[1])
            suffix = f"_r{cl.between}" if cl.between else ""
            dJ = _sym(f"DeltaI_m{suffix}", rf"\Delta I_m{{}}^{{({cl.between})}}" if cl.between else r"\Delta I_m")
            dD = _sym(f"DeltaI_da{suffix}", rf"\Delta I_{{\Delta a}}{{}}^{{({cl.between})}}" if cl.between
                      else r"\Delta I_{\Delta a}")
            mb_m += m_c * M**2 * dJ / (32 * sp.pi**2 * uu)
            mb_d += -m_c * dD / (16 * sp.pi**2 * uu)
        paper.append((f"m_{s.lepton}_RAD_mass_basis", "A.15", sp.factor(mb_m.subs(align))))
        paper.append((f"delta_a_{s.lepton}_over_m_mass_basis", "A.16", sp.factor(mb_d.subs(align))))
        paper.append((f"m_{s.lepton}_FN", "3.7" if s.lepton == "mu" else "3.8", m_fn))
        paper.append((f"m_{s.lepton}_RAD", "3.7" if s.lepton == "mu" else "3.8", m_rad_enh))
        paper.append((f"delta_a_{s.lepton}_over_m", "3.9" if s.lepton == "mu" else "3.10", da_enh))
        forms[s.lepton] = (m_fn, m_rad_enh, da_enh)
    sign = {
        "statement": "Delta a_l = -(2 m_l/M^2) m_l^RAD (sum w I_da)/(sum w I_m) for one class of closures; "
                     "I_m and I_da both decrease with x, so the ratio is positive and "
                     "Sign(Delta a_l) = -Sign(m_l^RAD) in the basis where m_l > 0",
        "paper_relation": "Sign(Delta a_l) = Sign(m_l^RAD) (sec. 2)",
        "holds": False,
    }
    conditions = _sign_conditions(model, fl, forms, R)
    return eff, paper, sign, conditions


def positive_region(expr: sp.Expr, r: sp.Symbol) -> sp.Set:
    """Open set of real r where a polynomial expr(r) > 0 (roots, then the sign between them)."""
    roots = sorted({sp.nsimplify(z) for z in sp.Poly(expr, r).real_roots()})
    edges = [-sp.oo] + roots + [sp.oo]
    region = sp.S.EmptySet
    for lo, hi in zip(edges[:-1], edges[1:]):
        probe = (lo + hi) / 2 if lo.is_finite and hi.is_finite else (hi - 1 if lo == -sp.oo else lo + 1)
        if lo == -sp.oo and hi == sp.oo:
            probe = sp.S.Zero
        if expr.subs(r, probe) > 0:
            region = sp.Union(region, sp.Interval.open(lo, hi))
    return region


def _limit_small_x(expr: sp.Expr, x: sp.Symbol) -> sp.Expr:
    """x -> 0 of an expression in loop functions of x, from their asymptotic forms
    (polynomials in log x up to O(x^2)): a rational limit in L = log x -> -oo."""
    L = sp.Symbol("L", negative=True)
    for f in expr.atoms(sp.Function):
        parsed = loops.parse_key_or_none(f.func.__name__)
        if parsed is None:
            continue
        asym = loops.loop_function(*parsed).asymptotic_zero.subs(loops.X, f.args[0])
        expr = expr.xreplace({f: asym})
    expr = sp.expand(expr).subs(sp.log(x), L).subs(x, 0)
    return sp.limit(sp.cancel(expr), L, -sp.oo)


def _scale_set(region: sp.Set, a_sign: int) -> sp.Set:
    """{R : a R in region} for a coefficient of sign a_sign, in units of 1/|a|."""
    if a_sign > 0:
        return region
    parts = region.args if isinstance(region, sp.Union) else (region,)
    return sp.Union(*[sp.Interval.open(-i.end, -i.start) for i in parts])


def _sign_conditions(model, fl, forms, R):
    """Eq. (3.11) rederived: Delta a_mu > 0 and Delta a_e < 0 with the derived masses.

    With r_l = m_l^RAD/m_l^FN (enhanced closures, aligned vacuum, common x),
    Delta a_l has the sign of -m_l m_l^RAD = -m_FN^2 (1 + r_l) r_l. The required r_l
    follow; writing r_l = a_l R with R = c_11 I_m^x(x)/(32 pi^2 v_1^2) (= lambda_1ab
    v_a^2 I_m^x/(16 pi^2 v_1^2) in this model, the variable of eq. 3.11 squared
    inverse: K = 4 pi eps_1/(eps_a sqrt(lambda_1ab I_m^x)) = 1/sqrt(R)) gives the window
    in R, with the loop ratios a_l evaluated at x -> 0 for their sign.
    """
    conditions = []
    chain_scalars = _chain_scalars(fl)
    enhanced_ops, c11 = set(), None
    first = next((s.name for s in model.scalars if s.name in chain_scalars), None)
    for s in fl.leptons:
        for cl in s.closures:
            for op, present, _ in cl.by_operator:
                if set(present) - chain_scalars:
                    enhanced_ops.add(op)
            if c11 is None and cl.pair[0] == cl.pair[1] and cl.pair[0].scalar == first:
                c11 = enhanced_part(cl, chain_scalars)
    conditions.append(("enhanced_operators", "3.6", sorted(enhanced_ops)))
    if set(forms) != {"mu", "e"} or c11 is None or c11 == 0:
        return conditions
    align = dict(model.vacuum.alignment)
    x_common = _sym("x_phi", r"x_\phi", positive=True)
    v1 = model.vacuum.vev(first)
    R_def = sp.factor((c11 * loops.function_symbol("I_m_x")(x_common) / (32 * sp.pi**2 * v1**2)).subs(align))
    conditions.append(("R", "3.11", R_def))
    targets = {"mu": 1, "e": -1}  # signs of eqs. (1.1), (1.2)
    r = sp.Symbol("r", real=True)
    window = sp.Interval.open(0, sp.oo)
    for lepton, (m_fn, m_rad, _) in forms.items():
        if m_rad == 0 or lepton not in targets:
            continue
        ratio = sp.factor(m_rad / m_fn)
        need = positive_region(sp.expand(-(1 + r) * r * targets[lepton]), r)
        a = sp.factor(ratio / R_def)
        a0 = _limit_small_x(a, x_common) if a.has(x_common) else a
        a_sign = 1 if (a0.is_positive or a0 == sp.oo) else -1
        scale = sp.Abs(a0) if a0.is_finite else None
        conditions.append((f"m_RAD_over_m_FN_{lepton}", "3.11", ratio))
        conditions.append((f"required_m_RAD_over_m_FN_{lepton}", "3.11", need))
        conditions.append((f"a_{lepton}", "3.11", a))
        if scale is not None and scale != 0:
            region = _scale_set(need, a_sign)
            region = sp.Union(*[sp.Interval.open(i.start / scale, i.end / scale)
                                for i in (region.args if isinstance(region, sp.Union) else (region,))])
            window = sp.Intersection(window, region)
    conditions.append(("R_window_x_to_0", "3.11", window))
    return conditions


# ------------------------------------------------------------------ numeric evaluation


def _mp_function(key: str):
    return sp.lambdify(loops.X, loops.loop_function(*loops.parse_key(key)).closed_form, "mpmath")


_CACHE: dict[str, object] = {}


def loop_value(key: str, x: float) -> float:
    """Numeric loop function at x > 0: closed form in 40-digit mpmath, Taylor patch at x ~ 1."""
    if key not in _CACHE:
        _CACHE[key] = _mp_function(key)
    f = loops.loop_function(*loops.parse_key(key))
    with mpmath.workdps(40):
        xx = mpmath.mpf(x)
        eps = xx**2 - 1
        if abs(eps) < mpmath.mpf("1e-6"):
            return float(sum(mpmath.mpf(sp.Rational(c).p) / sp.Rational(c).q * eps**k
                             for k, c in enumerate(f.taylor_one)))
        return float(_CACHE[key](xx))


def _loop_factor_value(kind: str, r: int, xa: float, xb: float) -> float:
    base = "I_m" if kind == "m" else "I_da"
    if abs(xa - xb) <= 1e-9 * max(xa, xb):
        return loop_value(loops.function_key(base, 1, r), 0.5 * (xa + xb))
    key = loops.function_key(base, 0, r)
    return (loop_value(key, xa) - loop_value(key, xb)) / (xa**2 - xb**2)


def _numeric(expr, values) -> float:
    value = sp.sympify(expr).xreplace(values)
    return float(sp.N(value, 30))


def parameter_values(model, point: str | None = None, overrides: Mapping[str, float] | None = None):
    """Symbol -> value: defaults of the model, then the named point, then overrides."""
    values = {}
    for p in model.parameters:
        if p.default is not None:
            values[p.symbol] = p.default
    if point:
        for name, v in model.point(point).as_dict().items():
            values[model.parameter(name).symbol] = v
    for name, v in (overrides or {}).items():
        values[model.parameter(name).symbol] = sp.nsimplify(v) if isinstance(v, float) else sp.sympify(v)
    return values


def unperturbed_masses(model, results, values, choice: str = "bilinear") -> dict[str, float]:
    """Unperturbed flavon masses for the mass-insertion route (GeV).

    "bilinear": sqrt|mu_a^2| from the hermitian quadratic term (the paper's mu_phi);
    "vacuum": sqrt(d^2V/dphi_a dphibar_a) at the vacuum.
    """
    pot = results["potential"]
    masses = {}
    for name, p, pb in zip(pot.fields, pot.phi, pot.phibar):
        if choice == "bilinear":
            quad = [c for op, c in pot.contributions if op.monomial.degree == 2 and op.monomial.is_hermitian
                    and c.has(p) and c.has(pb)]
            coeff = sp.diff(sum(quad, sp.S.Zero), p, pb)
        else:
            vac = {}
            for n2, q, qb in zip(pot.fields, pot.phi, pot.phibar):
                vac[q] = vac[qb] = model.vacuum.vev(n2)
            coeff = sp.diff(pot.expr, p, pb).xreplace(vac)
        masses[name] = float(np.sqrt(abs(_numeric(coeff, values))))
    return masses


def mass_insertion_closure(m_chain, c, uu, M, r, xa, xb) -> tuple[float, float]:
    """(m^RAD, Delta a / m_l) of one closure with one insertion c between unperturbed
    masses x_a M, x_b M; m_chain the chain's tree mass, uu the product of the two vevs."""
    lam_m = _loop_factor_value("m", r, xa, xb)
    lam_d = _loop_factor_value("da", r, xa, xb)
    return m_chain * c * lam_m / (16 * np.pi**2 * uu), -m_chain * c * lam_d / (8 * np.pi**2 * M**2 * uu)


def mass_basis_closure(m_chain, uu, M, r, holomorphic_pair, US_a, US_b, UP_a, UP_b, mS, mP) -> tuple[float, float]:
    """(m^RAD, Delta a / m_l) of one closure from the exact flavon propagator.

    <S_i S_j> = (i/2) sum_k w_k/(k^2 - m_k^2), w = U_S,a U_S,b for the CP-even states and
    -+ U_P,a U_P,b for the CP-odd ones (- for <phi phi> or <phi^+ phi^+>, + for <phi phi^+>);
    m^RAD = m_chain M^2 sum w J_r(x)/(32 pi^2 uu), Delta a/m_l = -m_chain sum w D_r(x)/(16 pi^2 uu).
    """
    weights = np.concatenate([np.asarray(US_a) * np.asarray(US_b),
                              (-1 if holomorphic_pair else 1) * np.asarray(UP_a) * np.asarray(UP_b)])
    masses = np.concatenate([np.asarray(mS, float), np.asarray(mP, float)])
    J = loops.function_key("I_m", 0, r)
    D = loops.function_key("I_da", 0, r)
    sum_m = sum(w * loop_value(J, m / M) for w, m in zip(weights, masses))
    sum_d = sum(w * loop_value(D, m / M) for w, m in zip(weights, masses))
    return m_chain * M**2 * sum_m / (32 * np.pi**2 * uu), -m_chain * sum_d / (16 * np.pi**2 * uu)


def _route(model, fl, number, weights_fn) -> dict:
    """Common evaluation: m^FN, m^RAD, c_l, Delta a_l, C_ll for each lepton (``number``: expr -> float).
    ``m_RAD_enhanced`` is the part of m^RAD from operators with a flavon outside every chain
    (lambda_1ab here: the closures of eqs. 3.7-3.10)."""
    chain_scalars = _chain_scalars(fl)
    exp_mass = {"mu": number(model.parameter("m_mu").symbol) if _has(model, "m_mu") else None,
                "e": number(model.parameter("m_e").symbol) if _has(model, "m_e") else None}
    mediator_mass = {m.name: m.mass for m in model.mediators}
    out = {}
    for s in fl.leptons:
        m_fn = sum(number(flavor.tree_mass(model, s.coupling, chain)) for chain in s.chains)
        m_rad = m_rad_enhanced = 0.0
        da_per_m = 0.0
        closures = []
        for cl in s.closures:
            chain = s.chains[cl.chain]
            m_c = number(flavor.tree_mass(model, s.coupling, chain))
            uu = number(flavor.vev_of(model, cl.pair[0]) * flavor.vev_of(model, cl.pair[1]))
            M = number(mediator_mass[chain.mediators[cl.positions[0]]])
            dm, da = weights_fn(cl, m_c, uu, M)
            m_rad += dm
            c_total = number(cl.coefficient)
            if c_total:
                m_rad_enhanced += dm * number(enhanced_part(cl, chain_scalars)) / c_total
            da_per_m += da
            closures.append({"chain": cl.chain, "pair": [i.text for i in cl.pair], "vevs_between": cl.between,
                             "m_RAD": float(dm), "delta_a_over_m": float(da)})
        m_tot = m_fn + m_rad
        m_exp = exp_mass.get(s.lepton)
        entry = {"m_FN": float(m_fn), "m_RAD": float(m_rad), "m_RAD_enhanced": float(m_rad_enhanced),
                 "m_total": float(m_tot), "closures": closures}
        if m_exp:
            signed = m_exp * np.sign(m_tot)
            delta_a = signed * da_per_m
            entry.update({
                "m_exp": m_exp,
                "c": float(abs(m_rad) / m_exp),
                "delta_a": float(delta_a),
                "C": float(2 * np.pi**2 * delta_a / m_exp**2),
                "m_FN_over_m_RAD": float(m_fn / m_rad) if m_rad else None,
                "m_total_over_m_exp": float(m_tot / m_exp),
            })
        out[s.lepton] = entry
    summary = {}
    for lepton, entry in out.items():
        if "delta_a" in entry:
            summary[f"delta_a_{lepton}"] = entry["delta_a"]
            summary[f"c_{lepton}"] = entry["c"]
    summary["leptons"] = out
    return summary


def _has(model, name):
    return name in {p.name for p in model.parameters}


ROUTE_DEFAULT = "vevs_with_mu_eliminated"


def evaluate(derivation, point: str | None = "table2", overrides: Mapping[str, float] | None = None, *,
             values: Mapping | None = None, spectrum: Mapping | None = None, route: str | None = None) -> dict:
    """Delta a_l, c_l, C_ll, m^FN, m^RAD at a point, by the mass-insertion formulas and in the
    flavon mass basis.

    Where: by default the appendix-A vacuum of ``point`` (with ``overrides``): the point's free
    vevs, the alignment and the relations imposed, the mu^2 from the tadpoles -- the route
    ``vevs_with_mu_eliminated`` of ``symflav spectrum`` -- with its exact spectrum
    (:func:`symflav.numerics.points.appendix_a_vacuum`). Or at explicit ``values`` (parameter and vev
    symbol -> number; model defaults fill the rest) with ``spectrum`` = {"scalar_masses",
    "pseudoscalar_masses" (GeV), "U_S", "U_P" (columns = eigenvectors, rows in field order,
    sigma = U_S S)}; ``route`` then names where they come from.

    Routes of the result: ``mass_insertion`` (one insertion of d^2V, unperturbed masses
    sqrt|mu_a^2| from the bilinear terms: the paper's x_phi = mu_phi1/M_chi),
    ``mass_insertion_vacuum`` (unperturbed masses from the diagonal d^2V/dphi dphibar at the
    vacuum: the first order of the mass basis in the off-diagonal entries) and ``mass_basis``.
    """
    model = derivation.model
    results = derivation.results
    fl = results["flavor"]
    if values is None:
        from symflav.numerics import points as benchmark

        given_by_name, _, point = benchmark.point_values(model, point, dict(overrides or {}))
        names = model.symbols()
        vacuum = benchmark.appendix_a_vacuum(derivation, {names[k]: v for k, v in given_by_name.items()})
        if vacuum is None:
            raise ValueError(f"point {point!r}: no free vevs given, no appendix-A vacuum")
        values = {**vacuum.values, **vacuum.vevs}
        exact = vacuum.exact
        spectrum = {"scalar_masses": np.sqrt(np.abs(exact.scalar_masses2)) * np.sign(exact.scalar_masses2),
                    "pseudoscalar_masses": np.sqrt(np.abs(exact.pseudoscalar_masses2)) * np.sign(exact.pseudoscalar_masses2),
                    "U_S": exact.U_S, "U_P": exact.U_P}
        route = ROUTE_DEFAULT
    values = {**parameter_values(model), **dict(values)}
    field_index = {s.name: i for i, s in enumerate(model.scalars)}
    number = _Numbers(values)
    M = number(model.mediators[0].mass) if model.mediators else None

    # --- mass insertion, two choices of the unperturbed masses
    insertion = {}
    for key, choice in (("mass_insertion", "bilinear"), ("mass_insertion_vacuum", "vacuum")):
        m0 = unperturbed_masses(model, results, values, choice)

        def mi_weights(cl, m_c, uu, M, m0=m0):
            xa, xb = m0[cl.pair[0].scalar] / M, m0[cl.pair[1].scalar] / M
            return mass_insertion_closure(m_c, number(cl.coefficient), uu, M, cl.between, xa, xb)

        entry = _route(model, fl, number, mi_weights)
        entry["unperturbed_masses"] = {"choice": choice, **m0}
        entry["x"] = {name: m / M for name, m in m0.items()} if M else {}
        insertion[key] = (entry, m0)
    mass_insertion, m0_bilinear = insertion["mass_insertion"]
    mass_insertion_vacuum, _ = insertion["mass_insertion_vacuum"]

    # --- mass basis
    mass_basis = None
    if spectrum is not None:
        mS, mP = np.asarray(spectrum["scalar_masses"], float), np.asarray(spectrum["pseudoscalar_masses"], float)
        US, UP = np.asarray(spectrum["U_S"], float), np.asarray(spectrum["U_P"], float)
        if (mS <= 0).any() or (mP <= 0).any():
            raise ValueError("the mass-basis route needs a spectrum with positive squared masses")

        def mb_weights(cl, m_c, uu, M):
            a, b = (field_index[i.scalar] for i in cl.pair)
            holomorphic_pair = cl.pair[0].conjugate == cl.pair[1].conjugate
            return mass_basis_closure(m_c, uu, M, cl.between, holomorphic_pair, US[a], US[b], UP[a], UP[b], mS, mP)

        mass_basis = _route(model, fl, number, mb_weights)
        mass_basis["spectrum"] = {
            "scalar_masses": [float(v) for v in mS], "pseudoscalar_masses": [float(v) for v in mP],
            "x_scalar": [float(v / M) for v in mS] if M else [],
            "x_pseudoscalar": [float(v / M) for v in mP] if M else [],
            "route": route or "given",
        }
        mass_basis["flavon_couplings"] = _mass_basis_couplings(model, fl, number, US, UP)
        mass_basis["lepton_masses_fixed"] = lepton_masses_fixed({"mass_basis": mass_basis})
    mass_insertion["conditions"] = _conditions_at_point(model, results, values, m0_bilinear)
    for entry in (e for e in (mass_insertion, mass_insertion_vacuum, mass_basis) if e is not None):
        entry["conditions_2_8"] = {f"c_{l}_in_1_10": bool(1 <= entry[f"c_{l}"] <= 10)
                                   for l in ("mu", "e") if f"c_{l}" in entry}
        entry["flavor_violation"] = flavor_violation(fl)
        entry["d_e_e_cm"] = 0.0  # all couplings real: Im C_ee = 0 (eq. 4.5)
    return {
        "point": point,
        "route": route or "given",
        "conventions": CONVENTIONS,
        "sign_rule": dict(results["observables"].sign_relation) if "observables" in results else {},
        "mass_insertion": mass_insertion,
        "mass_insertion_vacuum": mass_insertion_vacuum,
        "mass_basis": mass_basis,
        "printed": printed_table2(model),
    }


def flavor_violation(fl) -> dict:
    """mu -> e gamma from the FN chains: C_emu = C_mue = 0 when no chain connects the flavors."""
    searched = {f"{a}->{b}": {"searched_up_to_insertions": n, "chains": k} for a, b, n, k in fl.flavor_changing}
    none = all(k == 0 for *_, k in fl.flavor_changing)
    return {
        "BR_mu_e_gamma": 0.0 if none else None,
        "chains": searched,
        "note": ("no chain l_R -> l'_L of another flavor (the Z2 parities forbid them): C_emu = C_mue = 0 "
                 "at every order searched, so BR(mu -> e gamma) = 0 here" if none else
                 "flavor-changing chains exist: BR(mu -> e gamma) needs their closures (not evaluated)"),
    }


class _Numbers:
    """Floats of sympy expressions at fixed values (30 digits, each expression once)."""

    def __init__(self, values):
        self.values = values
        self.cache: dict = {}

    def __call__(self, expr) -> float:
        if expr not in self.cache:
            self.cache[expr] = _numeric(expr, self.values)
        return self.cache[expr]


OBSERVABLE_KEYS = ("delta_a_mu", "delta_a_e", "c_mu", "c_e")
ROUTES = ("mass_insertion", "mass_insertion_vacuum", "mass_basis")


def summary(evaluated: dict) -> dict:
    """{"delta_a_mu": {"mass_insertion": .., "mass_insertion_vacuum": .., "mass_basis": .., "printed": ..}, ...}."""
    out = {}
    for key in OBSERVABLE_KEYS:
        out[key] = {r: _plain((evaluated.get(r) or {}).get(key)) for r in ROUTES}
        out[key]["printed"] = evaluated["printed"].get(key)
    return out


def spectrum_json(evaluated: dict, others: Mapping[str, dict] | None = None, explanation: dict | None = None) -> dict:
    """The ``observables`` object of ``symflav spectrum --json`` (DESIGN.md contract): the four
    observables by route (:func:`summary`), where they were evaluated (``route``), ``details``
    (x values, conventions, the derived sign rule, per-lepton masses and closures, conditions),
    the same four on the other vacua of the point (``by_route``: a route name -> its summary or
    the reason it is not available) and the comparison with the printed statement."""
    out = {"route": evaluated["route"], **summary(evaluated)}
    details = {
        "route": evaluated["route"],
        "point": evaluated["point"],
        "conventions": evaluated["conventions"],
        "sign_rule": _plain({k: (str(v) if isinstance(v, sp.Basic) else v) for k, v in evaluated["sign_rule"].items()}),
        "x": {"mass_insertion": _plain(evaluated["mass_insertion"]["x"]),
              "mass_insertion_vacuum": _plain(evaluated["mass_insertion_vacuum"]["x"]),
              "mass_basis": _plain({k: evaluated["mass_basis"]["spectrum"][k] for k in ("x_scalar", "x_pseudoscalar")})
              if evaluated.get("mass_basis") else None},
        "definitions": {
            "x": "x_a = m_a/M_chi: mass_insertion m_a = sqrt|mu_a^2| (bilinear of V: the paper's x_phi = "
                 "mu_phi1/M_chi), mass_insertion_vacuum m_a^2 = d^2V/dphi_a dphibar_a at the vacuum, "
                 "mass_basis the exact masses",
            "c_l": "|m_l^RAD| / m_l^exp (eq. 2.8)",
            "delta_a_l": "m_l^exp Sign(m_l^FN + m_l^RAD) (Delta a_l/m_l): the basis where the lepton mass is positive",
        },
    }
    for r in ROUTES:
        if evaluated.get(r) is not None:
            details[r] = _plain(evaluated[r])
    out["details"] = details
    if others is not None:
        out["by_route"] = {name: (_plain(v) if "reason" in v else summary(v)) for name, v in others.items()}
    if explanation is not None:
        out["printed_statement"] = _plain(explanation)
    return out


def lepton_masses_fixed(evaluated: dict, route: str = "mass_basis") -> dict:
    """The same point with g_l rescaled so that |m_l^FN + m_l^RAD| = m_l^exp: every chain and
    closure of lepton l carries g_l^(n+1), so m, m^RAD and Delta a scale together and
    c_l = |m^RAD / m_total|, Delta a_l = m_exp (Delta a_l/m_l) at the rescaled couplings."""
    out = {}
    for lepton, entry in evaluated[route]["leptons"].items():
        if "m_exp" not in entry or not entry["m_total"]:
            continue
        scale = entry["m_exp"] / abs(entry["m_total"])
        out[lepton] = {"coupling_power_factor": scale, "c": abs(entry["m_RAD"] / entry["m_total"]),
                       "delta_a": entry["delta_a"] * scale}
    return out


def table2_explanation(derivation, point: str = "table2") -> dict | None:
    """The printed statement of Table 2 beside what the printed and the derived formulas give.

    1. The printed mass-insertion formulas, eqs. (3.7)-(3.10) of the printed registry, at the
       printed inputs and x_phi = mu_1/M_chi (for comparison only).
    2. The derived mass-insertion formulas at the same inputs and x (mass_insertion route of
       :func:`evaluate` at the printed values, vevs as printed): the ratios derived/printed of
       m^FN and of the lambda_1ab (enhanced) part of m^RAD.
    """
    from symflav.core import printed as printed_registry

    model = derivation.model
    registry = printed_registry.load(model)
    if registry is None or point not in {p.name for p in model.points}:
        return None
    values = parameter_values(model, point)
    names = {str(k): v for k, v in values.items()}
    if "mu_1" not in names or "M_chi" not in names:
        return None
    x = float(names["mu_1"] / names["M_chi"])

    def printed_value(label: str, select: str, **zero) -> float:
        part = next(p for p in registry.equation(label).parts if p.select == select or p.select is None)
        expr = registry.expand_definitions(part.formula)
        subs = {sym: values[model.parameter(str(sym)).symbol] for sym in expr.free_symbols
                if str(sym) in {p.name for p in model.parameters}}
        subs.update({sym: zero[str(sym)] for sym in expr.free_symbols if str(sym) in zero})
        subs.update({sym: x for sym in expr.free_symbols if str(sym) == "x_phi"})
        expr = expr.xreplace(subs)
        for f in expr.atoms(sp.Function):
            if loops.parse_key_or_none(type(f).__name__):
                expr = expr.xreplace({f: sp.Float(loop_value(type(f).__name__, float(f.args[0])), 30)})
        return float(sp.N(expr, 30))

    try:
        printed_rows = {}
        for lepton, mass_eq, da_eq in (("mu", "3.7", "3.9"), ("e", "3.8", "3.10")):
            m_exp = float(names[f"m_{lepton}"])
            total = printed_value(mass_eq, lepton)
            fn = printed_value(mass_eq, lepton, lambda_1ab=0)
            printed_rows[lepton] = {"m_FN": fn, "m_RAD": total - fn, "m_total": total,
                                    "c": abs(total - fn) / m_exp, "delta_a": printed_value(da_eq, lepton)}
    except (KeyError, StopIteration, TypeError, ValueError):
        return None
    derived = evaluate(derivation, point, values=values, spectrum=None, route="as printed (vevs as given)")
    mi = derived["mass_insertion"]["leptons"]
    ratios = {lepton: {"m_FN": mi[lepton]["m_FN"] / row["m_FN"],
                       "m_RAD_lambda_1ab": mi[lepton]["m_RAD_enhanced"] / row["m_RAD"]}
              for lepton, row in printed_rows.items()}
    rho = loop_value("I_m_x_r1", x) / loop_value("I_m_x", x)
    ratios["expected_m_RAD_lambda_1ab"] = {
        "mu": -2.0, "e": -2 * (2 + rho),
        "note": "muon: two contractions of phi1^dagger^2 (and the common sign of m^FN); electron: two chains "
                "with adjacent phi1 lines and one with a vev between them, -2 (2 + rho), rho = "
                "I_m^x(1)(x)/I_m^x(x) = %.6g at x = mu_1/M_chi" % rho,
    }
    return {
        "printed": printed_table2(model),
        "x_phi": x,
        "printed_formulas_at_printed_inputs": {
            "equations": "3.7-3.10 (printed registry), x_phi = mu_1/M_chi, vevs and couplings as printed",
            **{f"delta_a_{l}": r["delta_a"] for l, r in printed_rows.items()},
            **{f"c_{l}": r["c"] for l, r in printed_rows.items()},
            "leptons": printed_rows,
        },
        "derived_mass_insertion_at_printed_inputs": {
            **{f"delta_a_{l}": mi[l]["delta_a"] for l in printed_rows},
            **{f"c_{l}": mi[l]["c"] for l in printed_rows},
            "leptons": {l: {k: mi[l][k] for k in ("m_FN", "m_RAD", "m_RAD_enhanced", "m_total")} for l in printed_rows},
        },
        "derived_over_printed": ratios,
        "notes": [
            "the printed formulas (3.7)-(3.10) at the printed inputs reproduce the caption's numbers",
            "m^FN: the derived chains count v1^2 + 2 v1 v3 (muon) and 3 v1^2 v3 + 2 v1 v3^2 (electron) where "
            "eqs. (3.7), (3.8) print v1^2 + v1 v3 and v1^2 v3 + 2 v1 v3^2 (ratios -3 and -1/3 at v3 = -2 v1; the sign "
            "is the common sign convention of m^FN)",
            "m^RAD: the phi1^dagger^2 closure by lambda_1ab counts two contractions (ratio -2), and the derived m^RAD "
            "has further closures (lambda_1, lambda'_13, lambda_13, lambda_3; the r = 1 electron loops)",
            "sign: the derived Delta a_l has the sign of -m_l^RAD in the basis m_l > 0, the paper's rule the opposite",
            "vacuum: the printed inputs are not a stationary point; the appendix-A route (vevs as printed, mu^2 from the "
            "tadpoles, relations imposed) changes mu_1^2 and lambda_3(a,b), hence x and the spectrum",
            "lepton masses: at the printed g_e, g_mu the derived m_FN + m_RAD is not m^exp (see lepton_masses_fixed)",
        ],
    }


def _plain(obj):
    """JSON-ready copy (numpy scalars and arrays to floats and lists)."""
    if isinstance(obj, dict):
        return {k: _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return [_plain(v) for v in obj.tolist()]
    if isinstance(obj, (np.floating, np.integer)):
        return float(obj)
    if isinstance(obj, np.bool_):
        return bool(obj)
    return obj


def _mass_basis_couplings(model, fl, number, US, UP) -> dict:
    """Couplings of the CP-even and CP-odd mass states to lbar_L l_R (eq. 4.1 generalized):
    L ⊃ -(y_Sk S_k + i y_Pk P_k) lbar_L l_R + h.c. for the fields of eq. A.7 (sigma = U_S S);
    for canonically normalized states divide by sqrt(2)."""
    out = {}
    for s in fl.leptons:
        ys = np.array([number(dict(s.yukawa_sigma)[sc.name]) for sc in model.scalars])
        yp = np.array([number(sp.im(dict(s.yukawa_varphi)[sc.name])) for sc in model.scalars])
        out[s.lepton] = {"S": (US.T @ ys).tolist(), "P": (UP.T @ yp).tolist()}
    return out


def _conditions_at_point(model, results, values, m0) -> dict:
    """The derived eq. (3.11) window at the point: R, the window (1/|a_e|, 1/|a_mu|), K = 1/sqrt(R)."""
    obs = results.get("observables")
    if obs is None:
        return {}
    cond = {name: expr for name, _, expr in obs.conditions}
    if "R" not in cond:
        return {}
    fl = results["flavor"]
    first = next(s.name for s in model.scalars if any(
        i.scalar == s.name for l in fl.leptons for c in l.chains for i in c.insertions))
    M = _numeric(model.mediators[0].mass, values)
    x = m0[first] / M
    x_phi = _sym("x_phi", r"x_\phi", positive=True)

    def at_x(expr):
        expr = expr.xreplace(values)
        for f in expr.atoms(sp.Function):
            parsed = loops.parse_key_or_none(f.func.__name__)
            if parsed:
                expr = expr.xreplace({f: sp.Float(loop_value(f.func.__name__, x), 30)})
        return float(sp.N(expr.subs(x_phi, x), 30))

    R = at_x(cond["R"])
    window = sp.Interval.open(0, sp.oo)
    for lepton in ("mu", "e"):
        if f"a_{lepton}" not in cond:
            continue
        a = at_x(cond[f"a_{lepton}"])
        need = cond[f"required_m_RAD_over_m_FN_{lepton}"]
        parts = need.args if isinstance(need, sp.Union) else (need,)
        mapped = [sp.Interval.open(min(i.start / a, i.end / a), max(i.start / a, i.end / a)) for i in parts]
        window = sp.Intersection(window, sp.Union(*mapped))
    parts = window.args if isinstance(window, sp.Union) else (window,)
    return {
        "x": x,
        "R": R,
        "K": 1 / math.sqrt(R) if R > 0 else None,
        "R_window": [[float(i.start), float(i.end)] for i in parts if isinstance(i, sp.Interval)],
        "signs_as_observed": any(isinstance(i, sp.Interval) and i.start < R < i.end for i in parts),
        "note": "Delta a_mu > 0 and Delta a_e < 0 need R inside R_window (derived eq. 3.11; "
                "enhanced closures only, aligned vacuum, common x)",
    }


def printed_table2(model) -> dict:
    """The Table 2 statement as printed (from the printed registry), for display beside the results."""
    printed = read_printed(model)
    table = printed.get("tables", {}).get("2", {})
    statement = table.get("caption", {})
    return {k: float(v) if isinstance(v, (int, float, str)) and _is_number(v) else v for k, v in statement.items()}


def _is_number(v) -> bool:
    try:
        float(v)
        return True
    except (TypeError, ValueError):
        return False
