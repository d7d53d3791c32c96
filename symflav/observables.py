"""Observables from the dipole coefficients: Delta a_l, BR(l -> l' gamma), d_e, flavon couplings.

Conventions: eq. (1.3), ``L ⊃ (e m/(8 pi^2)) C_ll' lbar sigma^{mu nu} P_R l' F_{mu nu} + h.c.``
with m the mass of the decaying (heavier) lepton of the pair; QED with
``D = d + i Q e A``, Q_l = -1, e > 0; EDM term ``L ⊃ -(i/2) d lbar sigma gamma5 l F``;
lepton mass ``L ⊃ -m lbar_L l_R + h.c.``. Every relation below is derived from
:mod:`symflav.dirac` (Feynman rule of the dipole term, Gordon identity, decay rate by
traces) and :mod:`symflav.flavor` (the radiative loops), not typed in.

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

from dataclasses import dataclass
from typing import Mapping

import math

import mpmath
import numpy as np
import sympy as sp

from symflav import dirac, flavor, loops, symbols
from symflav.spec import read_printed

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
        the section-2 relations (x_phi, m_l, M_chi, v_1, v_a, lambda_2_2) and the dipole
        relations of eqs. (1.4), (1.7), (4.5)."""
        out = {name: expr for name, _, expr in self.section2}
        out.update({name: expr for name, _, expr in self.relations if name != "delta_a_over_m_RAD"})
        return out


# ------------------------------------------------------------------ derived relations


def _sym(name, latex=None, positive=False):
    return symbols.auxiliary(name, latex, positive=positive)


def dipole_relations():
    """Delta a, d_e and BR(l -> l' gamma) in terms of C (eq. 1.3), from the Dirac algebra."""
    flip = dirac.chirality_flip()
    m = _sym("m_l", "m_\\ell", positive=True)
    e = _sym("e", "e", positive=True)
    alpha, G_F = _sym("alpha", r"\alpha", True), _sym("G_F", "G_F", True)
    ReC, ImC = _sym("ReC", r"\mathrm{Re}\,C_{\ell\ell}"), _sym("ImC", r"\mathrm{Im}\,C_{\ell\ell}")
    C1, C2 = _sym("absC_ll2", r"|C_{\ell\ell'}|", True), _sym("absC_l2l", r"|C_{\ell'\ell}|", True)
    Q = -1
    d_coeff = e * m / (8 * sp.pi**2)  # c = d_coeff * C  (eq. 1.3)
    # Pauli: the vertex of d is rule * sigma q P_R; F2 is the coefficient of
    # -i Q e (i sigma q / 2m):  F2 = rule * Re(c) * 2 m / (Q e)
    delta_a = sp.factor(flip.dipole_rule * d_coeff * ReC * 2 * m / (Q * e))
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
        rel = dipole_relations()
        relations = (("delta_a_from_C", "1.4", rel["delta_a"][0]), ("d_e_from_C", "4.5", rel["d_e"][0]),
                     ("BR_ratio_from_C", "1.7", rel["br_ratio"][0]))
        return Observables(relations, (), sp.S.Zero, (), {}, (), {})
    rel = dipole_relations()
    relations = [
        ("delta_a_from_C", "1.4", rel["delta_a"][0]),
        ("d_e_from_C", "4.5", rel["d_e"][0]),
        ("BR_ratio_from_C", "1.7", rel["br_ratio"][0]),
    ]
    lp = loops.amplitude_relation(loops.derive_loops())
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
    return Observables(tuple(relations), tuple(leptons), eff, tuple(paper), sign, tuple(conditions),
                       {"x": dict(fl.x)}, section2_relations(model, fl, rel_da_m))


X_PHI = ("x_phi", r"x_\phi")


def section2_relations(model, fl: flavor.FlavorSector, delta_a_over_dm: sp.Expr):
    """The model-independent relations of section 2 (eqs. 2.9, 2.10), derived, in x_phi.

    * ``ratio_da_mrad``: Delta a_l / m_l^RAD from the same loop (``delta_a_over_dm`` of
      :func:`symflav.loops.amplitude_relation`), one class of closures: Sigma -> I^x(x_phi).
    * ``m_rad_over_m_fn``: m^RAD / m^FN of one chain whose two phi_1 lines are closed by
      eq. (2.2)'s ``lambda (phi_a^dagger phi_1)^2 + h.c.``: the closure response per unit
      c / (v v) is read off the flavor stage, c = d^2V/dphi_1^2 = 2 lambda v_a^2 by sympy.
    * ``ratio_fn_rad``: |lambda m^FN / m^RAD| (the left side of eq. 2.10).
    Symbols: m_l (lepton mass), M_chi, x_phi, lambda_2_2 (eq. 2.2's lambda), and the
    vevs of the first chain flavon and of the first flavon outside every chain.
    """
    x = _sym(*X_PHI, positive=True)
    names = {str(s): s for s in delta_a_over_dm.free_symbols}
    m_l = names["m_l"]
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


def tree_spectrum(model, results, values) -> dict:
    """PRIVATE helper until the spectrum stage is merged: exact diagonalization of
    (1/2) d^2V at the given vevs, each mu_a^2 eliminated by its own tadpole.

    Returns {"scalar_masses", "pseudoscalar_masses", "U_S", "U_P"} (GeV; sigma = U_S S).
    """
    real = results["real_potential"]
    pot = results["potential"]
    quad_symbols = []
    for op, c in pot.contributions:
        if op.monomial.degree == 2 and op.monomial.is_hermitian:
            quad_symbols.append(op.coefficient)
    t = sp.symbols(f"t0:{len(quad_symbols)}")
    V = real.expr.xreplace({q: ti for q, ti in zip(quad_symbols, t)})
    zero = {c: 0 for c in real.components}
    fixed = {k: v for k, v in values.items() if k not in [s for q in quad_symbols for s in q.free_symbols]}
    tadpoles = [sp.expand(sp.diff(V, s).xreplace(zero).xreplace(fixed)) for s in real.sigma]
    solution = sp.solve(tadpoles, t, dict=True)
    if len(solution) != 1:
        raise ValueError("tadpoles do not fix the quadratic couplings uniquely")
    hessian = sp.hessian(V, real.components).xreplace(zero).xreplace(fixed).xreplace(solution[0])
    H = np.array(sp.N(hessian, 30).tolist(), dtype=float) * float(model.conventions.mass_matrix_factor)
    n = len(real.sigma)
    out = {}
    for label, block in (("scalar", H[:n, :n]), ("pseudoscalar", H[n:, n:])):
        w, U = np.linalg.eigh(block)
        out[f"{label}_masses"] = np.sign(w) * np.sqrt(np.abs(w))
        out["U_S" if label == "scalar" else "U_P"] = U
    return out


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


def _route(model, fl, values, weights_fn, masses_x, M_values) -> dict:
    """Common evaluation: m^FN, m^RAD, c_l, Delta a_l, C_ll for each lepton."""
    exp_mass = {"mu": _numeric(model.parameter("m_mu").symbol, values) if _has(model, "m_mu") else None,
                "e": _numeric(model.parameter("m_e").symbol, values) if _has(model, "m_e") else None}
    out = {}
    for s in fl.leptons:
        m_fn = 0.0
        m_rad = 0.0
        da_per_m = 0.0
        closures = []
        for k, chain in enumerate(s.chains):
            m_fn += _numeric(flavor.tree_mass(model, s.coupling, chain), values)
        for cl in s.closures:
            chain = s.chains[cl.chain]
            m_c = _numeric(flavor.tree_mass(model, s.coupling, chain), values)
            uu = _numeric(flavor.vev_of(model, cl.pair[0]) * flavor.vev_of(model, cl.pair[1]), values)
            M = _numeric(model.mediators[[m.name for m in model.mediators].index(chain.mediators[cl.positions[0]])].mass, values)
            dm, da = weights_fn(cl, m_c, uu, M)
            m_rad += dm
            da_per_m += da
            closures.append({"chain": cl.chain, "pair": [i.text for i in cl.pair], "vevs_between": cl.between,
                             "m_RAD": dm, "delta_a_over_m": da})
        m_tot = m_fn + m_rad
        m_exp = exp_mass.get(s.lepton)
        entry = {"m_FN": m_fn, "m_RAD": m_rad, "m_total": m_tot, "closures": closures}
        if m_exp:
            signed = m_exp * np.sign(m_tot)
            delta_a = signed * da_per_m
            entry.update({
                "m_exp": m_exp,
                "c": abs(m_rad) / m_exp,
                "delta_a": delta_a,
                "C": 2 * np.pi**2 * delta_a / m_exp**2,
                "m_FN_over_m_RAD": m_fn / m_rad if m_rad else None,
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


def evaluate(derivation, point: str | None = "table2", overrides: Mapping[str, float] | None = None,
             spectrum: Mapping | None = None, unperturbed: str = "bilinear") -> dict:
    """Delta a_l, c_l, C_ll, m^FN, m^RAD at a point, by both routes.

    ``derivation``: a :class:`symflav.pipeline.Derivation` with the flavor stage.
    ``spectrum``: {"scalar_masses", "pseudoscalar_masses", "U_S", "U_P"} in the model's
    field order (sigma = U_S S); if None, the private :func:`tree_spectrum` is used.
    """
    model = derivation.model
    results = derivation.results
    fl = results["flavor"]
    values = parameter_values(model, point, overrides)
    field_index = {s.name: i for i, s in enumerate(model.scalars)}

    # --- mass insertion
    m0 = unperturbed_masses(model, results, values, unperturbed)

    def mi_weights(cl, m_c, uu, M):
        c = _numeric(cl.coefficient, values)
        xa, xb = m0[cl.pair[0].scalar] / M, m0[cl.pair[1].scalar] / M
        return mass_insertion_closure(m_c, c, uu, M, cl.between, xa, xb)

    mass_insertion = _route(model, fl, values, mi_weights, None, None)
    mass_insertion["unperturbed_masses"] = {"choice": unperturbed, **m0}

    # --- mass basis
    spec = dict(spectrum) if spectrum is not None else tree_spectrum(model, results, values)
    mS, mP = np.asarray(spec["scalar_masses"], float), np.asarray(spec["pseudoscalar_masses"], float)
    US, UP = np.asarray(spec["U_S"], float), np.asarray(spec["U_P"], float)
    if (mS <= 0).any() or (mP <= 0).any():
        raise ValueError("the mass-basis route needs a spectrum with positive squared masses")

    def mb_weights(cl, m_c, uu, M):
        a, b = (field_index[i.scalar] for i in cl.pair)
        holomorphic_pair = cl.pair[0].conjugate == cl.pair[1].conjugate
        return mass_basis_closure(m_c, uu, M, cl.between, holomorphic_pair, US[a], US[b], UP[a], UP[b], mS, mP)

    mass_basis = _route(model, fl, values, mb_weights, None, None)
    mass_basis["spectrum"] = {
        "scalar_masses": [float(v) for v in mS], "pseudoscalar_masses": [float(v) for v in mP],
        "source": "given" if spectrum is not None else "symflav.observables.tree_spectrum (private helper: "
                  "(1/2) d^2V at the point's vevs, each mu^2 from its tadpole)",
    }
    mass_basis["flavon_couplings"] = _mass_basis_couplings(model, fl, values, US, UP)
    mass_insertion["conditions"] = _conditions_at_point(model, results, values, m0)
    for route in (mass_insertion, mass_basis):
        route["conditions_2_8"] = {f"c_{l}_in_1_10": bool(1 <= route[f"c_{l}"] <= 10)
                                   for l in ("mu", "e") if f"c_{l}" in route}
        route["flavor_violation"] = {
            "BR_mu_e_gamma": 0.0 if all(k == 0 for *_, k in fl.flavor_changing) else None,
            "note": "no l_R -> l'_L chain up to the searched order: C_e mu = C_mu e = 0",
        }
        route["d_e_e_cm"] = 0.0  # all couplings real: Im C_ee = 0 (eq. 4.5)
    printed = printed_table2(model)
    return {
        "point": point,
        "conventions": CONVENTIONS,
        "mass_insertion": mass_insertion,
        "mass_basis": mass_basis,
        "printed": printed,
    }


def spectrum_json(evaluated: dict) -> dict:
    """The ``observables`` object of ``symflav spectrum --json`` (DESIGN.md contract):
    {"delta_a_mu": {"mass_insertion": .., "mass_basis": .., "printed": ..}, ..., "details": ...}."""
    out = {}
    for key in ("delta_a_mu", "delta_a_e", "c_mu", "c_e"):
        out[key] = {
            "mass_insertion": _plain(evaluated["mass_insertion"].get(key)),
            "mass_basis": _plain(evaluated["mass_basis"].get(key)),
            "printed": evaluated["printed"].get(key),
        }
    out["details"] = _plain(evaluated)
    return out


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


def _mass_basis_couplings(model, fl, values, US, UP) -> dict:
    """Couplings of the CP-even and CP-odd mass states to lbar_L l_R (eq. 4.1 generalized):
    L ⊃ -(y_Sk S_k + i y_Pk P_k) lbar_L l_R + h.c. for the fields of eq. A.7 (sigma = U_S S);
    for canonically normalized states divide by sqrt(2)."""
    out = {}
    for s in fl.leptons:
        ys = np.array([_numeric(dict(s.yukawa_sigma)[sc.name], values) for sc in model.scalars])
        yp = np.array([_numeric(sp.im(dict(s.yukawa_varphi)[sc.name]), values) for sc in model.scalars])
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
