"""The paper's own derived objects: the section-2 relations, the forms of eqs. (3.6)-(3.10)
and (A.15)-(A.16) for the enhanced closures, the sign rule and the eq. (3.11) window, and
what ``symflav spectrum`` shows beside the Table 2 caption.

Everything here is derived from the generic stages (flavor, loops, observables) of
:mod:`symflav.physics` and only *arranged* as the paper arranges it: one common x_phi, the
aligned vacuum, the closures by operators with a flavon outside every chain (lambda_1ab).
The printed formulas live in ``derivations/calibbi2020/printed.toml``; they are compared
with these (:mod:`symflav.studies.calibbi2020.providers`) and never used to produce them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Mapping

import sympy as sp

from symflav.core import printed as printed_registry
from symflav.core import symbols
from symflav.core.spec import read_printed
from symflav.core.stages import Unavailable, available
from symflav.numerics.observables import evaluate, loop_value, numeric, parameter_values
from symflav.physics import flavor, loops
from symflav.studies.calibbi2020 import inferred
from symflav.physics.observables import chain_scalars as _chain_scalars
from symflav.physics.observables import enhanced_part, formula_units

X_PHI = ("x_phi", r"x_\phi")
UNITS = {
    "x_phi": ("dimensionless", "mu_phi1/M_chi: the bilinear mass of the flavon in the loop over the mediator mass"),
    "lambda_2_2": ("dimensionless", "the quartic lambda of eq. (2.2), lambda (phi_a^dagger phi_1)^2 + h.c."),
}


def _sym(name, latex=None, positive=False):
    return symbols.auxiliary(name, latex, positive=positive)


@dataclass(frozen=True)
class PaperForms:
    """Result of the study's ``paper`` stage (names, equation labels, expressions)."""

    section2: tuple[tuple[str, str, sp.Expr], ...]  # (name, equation, expression in x_phi)
    effective_lambda: sp.Expr
    paper_form: tuple[tuple[str, str, sp.Expr], ...]
    sign_relation: dict
    conditions: tuple[tuple[str, str, object], ...]
    formula_units: Mapping[str, tuple[str, str]] = field(default_factory=dict)

    def section2_relation(self, name: str) -> sp.Expr:
        return {n: e for n, _, e in self.section2}[name]

    @property
    def formulas(self) -> dict[str, sp.Expr]:
        """The section-2 relations, exported to the generated numeric module."""
        return {name: expr for name, _, expr in self.section2}

    def to_json(self) -> dict:
        return {
            "section2": [{"name": n, "equation": eq, "expression": str(e)} for n, eq, e in self.section2],
            "effective_lambda_3_6": str(self.effective_lambda),
            "paper_form": [{"name": n, "equation": eq, "expression": str(e)} for n, eq, e in self.paper_form],
            "sign_relation": {k: (str(v) if isinstance(v, sp.Basic) else v) for k, v in self.sign_relation.items()},
            "conditions": [{"name": n, "equation": eq, "expression": str(e)} for n, eq, e in self.conditions],
        }


def derive_paper_forms(model, results):
    """The ``paper`` stage: needs the flavor, loops and observables stages."""
    fl = available(results, "flavor")
    if fl is None or not fl.leptons:
        return Unavailable("no flavor sector: the paper's forms are forms of its lepton masses")
    delta_a_over_dm = loops.amplitude_relation(results["loops"])["delta_a_over_dm"]
    eff, paper, sign, conditions = _paper_forms(model, fl)
    section2 = section2_relations(model, fl, delta_a_over_dm)
    units = formula_units(model, [e for _, _, e in section2], (), UNITS)
    return PaperForms(section2, eff, tuple(paper), sign, tuple(conditions), units)


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


def conditions_at_point(model, results, values, m0) -> dict:
    """The derived eq. (3.11) window at the point: R, the window (1/|a_e|, 1/|a_mu|), K = 1/sqrt(R);
    ``m0``: the unperturbed flavon masses of the mass-insertion route (GeV)."""
    forms = available(results, "paper")
    if forms is None:
        return {}
    cond = {name: expr for name, _, expr in forms.conditions}
    if "R" not in cond:
        return {}
    fl = results["flavor"]
    first = next(s.name for s in model.scalars if any(
        i.scalar == s.name for l in fl.leptons for c in l.chains for i in c.insertions))
    M = numeric(model.mediators[0].mass, values)
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


def table2_explanation(derivation, point: str = "table2") -> dict | None:
    """The printed statement of Table 2 beside what the printed and the derived formulas give.

    1. The printed mass-insertion formulas, eqs. (3.7)-(3.10) of the printed registry, at the
       printed inputs and x_phi = mu_1/M_chi (for comparison only).
    2. The derived mass-insertion formulas at the same inputs and x (mass_insertion route of
       :func:`symflav.numerics.observables.evaluate` at the printed values, vevs as printed): the ratios derived/printed of
       m^FN and of the lambda_1ab (enhanced) part of m^RAD.
    """
    model = derivation.model
    registry = printed_registry.load(model)
    if registry is None or point not in {p.name for p in model.points}:
        return None
    values = parameter_values(model, point)
    names = {str(k): v for k, v in values.items()}
    if "mu_1" not in names or "M_chi" not in names:
        return None
    x = float(names["mu_1"] / names["M_chi"])

    printed_rows = _printed_rows(registry, model, values, names, x)
    if printed_rows is None:
        return None
    derived = evaluate(derivation, values, None, route="as printed (vevs as given)", point=point)
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
        "notes": list(TABLE2_NOTES),
    }


TABLE2_NOTES = (
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
)
"""What the comparison of Table 2's statement shows, for the reader of the explanation."""


def _printed_rows(registry, model, values, names, x) -> dict | None:
    """The printed eqs. (3.7)-(3.10) at the printed inputs, per lepton: m^FN (the lambda_1ab
    closure switched off), m^RAD, their sum, c = |m^RAD|/m^exp and Delta a; ``None`` when the
    registry or the point lacks a piece."""
    try:
        rows = {}
        for lepton, mass_eq, da_eq in (("mu", "3.7", "3.9"), ("e", "3.8", "3.10")):
            m_exp = float(names[f"m_{lepton}"])
            total = _printed_value(registry, model, values, x, mass_eq, lepton)
            fn = _printed_value(registry, model, values, x, mass_eq, lepton, lambda_1ab=0)
            rows[lepton] = {"m_FN": fn, "m_RAD": total - fn, "m_total": total,
                            "c": abs(total - fn) / m_exp,
                            "delta_a": _printed_value(registry, model, values, x, da_eq, lepton)}
    except (KeyError, StopIteration, TypeError, ValueError):
        return None
    return rows


def _printed_value(registry, model, values, x: float, label: str, select: str, **zero) -> float:
    """One printed formula at the point's values, x_phi = x, the couplings in ``zero`` set to
    them, and its loop functions evaluated (30 digits)."""
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


def spectrum_statement(derivation, point: str, evaluated: dict, values: Mapping) -> dict | None:
    """What ``symflav spectrum`` shows beside the observables of a point whose printed table
    has a caption (Table 2): the printed formulas at the printed inputs, the derived/printed
    ratios, the derived eq. (3.11) window on the evaluated vacuum, the derived sign rule."""
    model = derivation.model
    if model.changed_charges():
        return None
    explanation = table2_explanation(derivation, point)
    if explanation is None:
        return None
    forms = available(derivation.results, "paper")
    m0 = evaluated["mass_insertion"]["unperturbed_masses"]
    values = {**parameter_values(model), **dict(values)}
    explanation["conditions_at_point"] = conditions_at_point(model, derivation.results, values,
                                                            {k: v for k, v in m0.items() if k != "choice"})
    explanation["sign_rule"] = dict(forms.sign_relation) if forms else {}
    p = explanation["printed_formulas_at_printed_inputs"]
    printed = explanation["printed"]
    finding = ("observables: the printed Table 2 statement (Delta a_mu, Delta a_e, c_mu, c_e) = "
               f"({printed['delta_a_mu']:.2g}, {printed['delta_a_e']:.2g}, {printed['c_mu']:.2g}, "
               f"{printed['c_e']:.2g}) follows from the printed eqs. (3.7)-(3.10) at the printed inputs: "
               f"({p['delta_a_mu']:.3g}, {p['delta_a_e']:.3g}, {p['c_mu']:.3g}, {p['c_e']:.3g}); derived, mass basis, "
               "appendix-A vacuum: ({delta_a_mu:.3g}, {delta_a_e:.3g}, {c_mu:.3g}, {c_e:.3g})")
    rows, findings = [("printed eqs (3.x)", p)], [finding]
    under = _under_inferred(derivation, point, printed)
    if under is not None:
        explanation["inferred_conventions"] = under["json"]
        rows.extend(under["rows"])
        findings.extend(under["findings"])
    return {"json": explanation, "rows": rows, "findings": findings, "table": under["table"] if under else None}


def _under_inferred(derivation, point: str, printed: Mapping) -> dict | None:
    """Table 2 under the conventions ``check`` infers (:mod:`.inferred`): the table of every
    printed quantity (printed, under the printed potential, under the inferred conventions, the
    root cause of what remains) and the two rows of observables under the inferred conventions."""
    data = inferred.table(derivation, point)
    if data is None:
        return None
    rows = []
    for route in ("mass insertion", "mass basis"):
        values = {r["quantity"]: float(r["inferred"]) for r in data["rows"]
                  if r["group"] == route and r["inferred"] is not None}
        rows.append((f"inferred, {route}", values))
    changes = "; ".join(data["conventions"]) or "the derivation's own"
    agree = sum(r["inferred_agrees"] for r in data["rows"])
    before = sum(r["derived_agrees"] for r in data["rows"])
    findings = [f"Table 2 under the inferred conventions ({changes}): {agree} of {len(data['rows'])} printed "
                f"quantities agree within rounding ({before} under the printed potential); see the table above"]
    # the host formats findings with the derived observables: braces of ours are literal
    findings = [f.replace("{", "{{").replace("}", "}}") for f in findings]
    title = f"Table 2 under the inferred conventions (point {point})"
    return {"json": data, "rows": rows, "findings": findings,
            "table": {"title": title, "lines": inferred.text_lines(data)}}

