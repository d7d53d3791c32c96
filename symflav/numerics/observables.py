"""The observables of every lepton and every pair of leptons at a point, in numbers.

Three routes, each reported in full (:func:`evaluate`):

* ``mass_insertion``: the flavor stage's formulas, one insertion of ``c_ij = d^2V/dSbar dSbar``
  on propagators of unperturbed mass m_a (``x_a = m_a/M``), m_a^2 = |mu_a^2| the bilinear of
  the potential;
* ``mass_insertion_vacuum``: the same with m_a^2 = d^2V/dphi_a dphibar_a at the vacuum (the
  first order of the mass basis in the off-diagonal entries);
* ``mass_basis``: exact flavon propagators from a given spectrum (masses, U_S, U_P).

Per lepton: m^FN, m^RAD, c_l = |m^RAD|/m_l, Delta a_l, C_ll and the EDM; per pair of leptons
(heavier l, lighter l'): |C_ll'|, |C_l'l| from the flavor-changing chains and
BR(l -> l' gamma) = [BR(l -> l' gamma)/BR(l -> l' nu nu)] BR(l -> l' nu nu), zero with the reason
when no chain connects them. Lepton masses, Delta a measurements, bounds: the built-in constants
(:mod:`symflav.core.constants`) unless the model overrides them. Masses in GeV.
"""

from __future__ import annotations

from typing import Mapping

import mpmath
import numpy as np
import sympy as sp

from symflav.core import constants
from symflav.core.model import parameter_value
from symflav.physics import flavor, loops
from symflav.physics.observables import CONVENTIONS, chain_scalars, enhanced_part

ROUTES = ("mass_insertion", "mass_insertion_vacuum", "mass_basis")


class LoopValues:
    """Numeric loop functions at x > 0: closed forms in 40-digit mpmath, a Taylor patch at
    x ~ 1. One object per evaluation (it keeps the functions it has built, nothing global);
    ``derived``: loop functions by key, derived before (the others are derived when asked)."""

    def __init__(self, derived: Mapping[str, loops.LoopFunction] | None = None):
        self.derived = dict(derived or {})  # key -> a loop function derived before (a stage)
        self.functions: dict[str, tuple] = {}
        self.values: dict[tuple[str, float], float] = {}  # every closure asks for the same few x

    def __call__(self, key: str, x: float) -> float:
        if (key, x) not in self.values:
            self.values[key, x] = self._value(key, x)
        return self.values[key, x]

    def _value(self, key: str, x: float) -> float:
        if key not in self.functions:
            f = self.derived.get(key) or loops.loop_function(*loops.parse_key(key))
            self.functions[key] = (f, sp.lambdify(loops.X, f.closed_form, "mpmath"))
        f, closed_form = self.functions[key]
        with mpmath.workdps(40):
            xx = mpmath.mpf(x)
            eps = xx**2 - 1
            if abs(eps) < mpmath.mpf("1e-6"):
                return float(sum(mpmath.mpf(sp.Rational(c).p) / sp.Rational(c).q * eps**k
                                 for k, c in enumerate(f.taylor_one)))
            return float(closed_form(xx))


def closure_loop_keys(fl, transitions=()) -> list[str]:
    """The keys of the loop functions that the closures of a flavor stage ``fl`` and of the
    flavor-changing ``transitions`` (the observables stage's) evaluate at distinct unperturbed
    masses and in the mass basis (I_m and I_da with r vev insertions on the heavy line for every
    r of a closure), and at equal masses, for a closure of one flavon (the same with one mass
    insertion, :func:`_loop_factor_value`)."""
    closures = [cl for s in fl.leptons for cl in s.closures] + [cl for t in transitions for cl in t.closures]
    specs = {(0, cl.between) for cl in closures} | {(1, cl.between) for cl in closures
                                                     if cl.pair[0].scalar == cl.pair[1].scalar}
    return [loops.function_key(base, n, r) for n, r in sorted(specs) for base in ("I_m", "I_da")]


def loop_value(key: str, x: float) -> float:
    """One loop function at one x (see :class:`LoopValues`)."""
    return LoopValues()(key, x)


def _loop_factor_value(values: LoopValues, kind: str, r: int, xa: float, xb: float) -> float:
    base = "I_m" if kind == "m" else "I_da"
    if abs(xa - xb) <= 1e-9 * max(xa, xb):
        return values(loops.function_key(base, 1, r), 0.5 * (xa + xb))
    key = loops.function_key(base, 0, r)
    return (values(key, xa) - values(key, xb)) / (xa**2 - xb**2)


def numeric(expr, values) -> float:
    """A float of a sympy expression at ``values`` (symbol -> number), 30 digits."""
    return float(sp.N(sp.sympify(expr).xreplace(values), 30))


class _Numbers:
    """Floats of sympy expressions at fixed values (30 digits, each expression once)."""

    def __init__(self, values):
        self.values = values
        self.cache: dict = {}

    def __call__(self, expr) -> float:
        if expr not in self.cache:
            self.cache[expr] = numeric(expr, self.values)
        return self.cache[expr]


def parameter_values(model, point: str | None = None, overrides: Mapping[str, float] | None = None):
    """Symbol -> value: defaults of the model, then the named point, then overrides (a key
    ``NAME^2`` gives NAME**2, see :func:`symflav.core.model.parameter_value`)."""
    values = {}
    for p in model.parameters:
        if p.default is not None:
            values[p.symbol] = p.default
    if point:
        values.update(model.point_symbols(point))
    for key, v in (overrides or {}).items():
        name, value = parameter_value(key, sp.nsimplify(v) if isinstance(v, float) else sp.sympify(v))
        values[model.parameter(name).symbol] = value
    return values


def unperturbed_mass_coefficients(model, results, choice: str = "bilinear") -> dict:
    """Field name -> the expression whose |value| is the unperturbed mass^2 (GeV^2) of
    :func:`unperturbed_masses`, in the parameters and vevs (the same at every point).

    "bilinear": d^2/dphi_a dphibar_a of the hermitian quadratic term, mu_a^2;
    "vacuum": d^2V/dphi_a dphibar_a at the vacuum.
    """
    pot = results["potential"]
    coefficients = {}
    vac = {}
    for n2, q, qb in zip(pot.fields, pot.phi, pot.phibar):
        vac[q] = vac[qb] = flavor.field_value(model, n2)
    for name, p, pb in zip(pot.fields, pot.phi, pot.phibar):
        if choice == "bilinear":
            quad = [c for op, c in pot.contributions if op.monomial.degree == 2 and op.monomial.is_hermitian
                    and c.has(p) and c.has(pb)]
            coefficients[name] = sp.diff(sum(quad, sp.S.Zero), p, pb)
        else:
            coefficients[name] = sp.diff(pot.expr, p, pb).xreplace(vac)
    return coefficients


def unperturbed_masses(model, results, values, choice: str = "bilinear", coefficients=None) -> dict[str, float]:
    """Unperturbed flavon masses for the mass-insertion route (GeV): sqrt of the absolute value
    at ``values`` of :func:`unperturbed_mass_coefficients` (``coefficients``: those of this
    ``choice``, prepared once; computed here when None)."""
    if coefficients is None:
        coefficients = unperturbed_mass_coefficients(model, results, choice)
    return {name: float(np.sqrt(abs(numeric(coeff, values)))) for name, coeff in coefficients.items()}


class Prepared:
    """What :func:`evaluate` needs at every point of one derivation and that does not depend on
    the point: the unperturbed-mass expressions of both choices and the numeric loop
    functions. Built once (:meth:`of`) and passed to every evaluation of the same derivation;
    an evaluation without it builds its own (same numbers)."""

    def __init__(self, coefficients: dict, loop_values: LoopValues):
        self.coefficients = coefficients
        self.loop_values = loop_values

    @classmethod
    def of(cls, derivation) -> "Prepared":
        model, results = derivation.model, derivation.results
        return cls({choice: unperturbed_mass_coefficients(model, results, choice) for choice in ("bilinear", "vacuum")},
                   LoopValues())


def mass_insertion_closure(m_chain, c, uu, M, r, xa, xb, loop_values: LoopValues | None = None
                           ) -> tuple[float, float]:
    """(m^RAD, Delta a / m_l) of one closure with one insertion c between unperturbed
    masses x_a M, x_b M; m_chain the chain's tree mass, uu the product of the two vevs."""
    values = loop_values or LoopValues()
    lam_m = _loop_factor_value(values, "m", r, xa, xb)
    lam_d = _loop_factor_value(values, "da", r, xa, xb)
    return m_chain * c * lam_m / (16 * np.pi**2 * uu), -m_chain * c * lam_d / (8 * np.pi**2 * M**2 * uu)


def mass_basis_closure(m_chain, uu, M, r, holomorphic_pair, US_a, US_b, UP_a, UP_b, mS, mP,
                       loop_values: LoopValues | None = None) -> tuple[float, float]:
    """(m^RAD, Delta a / m_l) of one closure from the exact flavon propagator.

    <S_i S_j> = (i/2) sum_k w_k/(k^2 - m_k^2), w = U_S,a U_S,b for the CP-even states and
    -+ U_P,a U_P,b for the CP-odd ones (- for <phi phi> or <phi^+ phi^+>, + for <phi phi^+>);
    m^RAD = m_chain M^2 sum w J_r(x)/(32 pi^2 uu), Delta a/m_l = -m_chain sum w D_r(x)/(16 pi^2 uu).
    """
    values = loop_values or LoopValues()
    weights = np.concatenate([np.asarray(US_a) * np.asarray(US_b),
                              (-1 if holomorphic_pair else 1) * np.asarray(UP_a) * np.asarray(UP_b)])
    masses = np.concatenate([np.asarray(mS, float), np.asarray(mP, float)])
    J = loops.function_key("I_m", 0, r)
    D = loops.function_key("I_da", 0, r)
    sum_m = sum(w * values(J, m / M) for w, m in zip(weights, masses))
    sum_d = sum(w * values(D, m / M) for w, m in zip(weights, masses))
    return m_chain * M**2 * sum_m / (32 * np.pi**2 * uu), -m_chain * sum_d / (16 * np.pi**2 * uu)


def lepton_mass(model, number, lepton: str) -> float | None:
    """m_l (GeV): the model's parameter at the point (an override), else the built-in constant."""
    name = constants.lepton_mass(lepton)
    if name in {p.name for p in model.parameters}:
        return number(model.parameter(name).symbol)
    value = model.constant(name)
    return float(value) if value is not None else None


def _closures(model, chains, closures, coupling, number, weights_fn, outside):
    """m^FN, m^RAD (and its part from closures through a flavon outside every chain), the
    dipole sum and the per-closure rows of one set of chains."""
    mediator_mass = {m.name: m.mass for m in model.mediators}
    tree = [number(flavor.tree_mass(model, coupling, chain)) for chain in chains]  # each chain once
    m_fn = sum(tree)
    m_rad = m_rad_enhanced = dipole = 0.0
    rows = []
    for cl in closures:
        chain = chains[cl.chain]
        m_c = tree[cl.chain]
        uu = number(flavor.vev_of(model, cl.pair[0]) * flavor.vev_of(model, cl.pair[1]))
        M = number(mediator_mass[chain.mediators[cl.positions[0]]])
        dm, da = weights_fn(cl, m_c, uu, M)
        m_rad += dm
        c_total = number(cl.coefficient)
        if c_total:
            m_rad_enhanced += dm * number(enhanced_part(cl, outside)) / c_total
        dipole += da
        rows.append({"chain": cl.chain, "pair": [i.text for i in cl.pair], "vevs_between": cl.between,
                     "m_RAD": float(dm), "delta_a_over_m": float(da)})
    return m_fn, m_rad, m_rad_enhanced, dipole, rows


def _route(model, fl, transitions, number, weights_fn) -> dict:
    """Common evaluation: m^FN, m^RAD, c_l, Delta a_l, C_ll, d_l for each lepton, C and BR for
    each pair (``number``: expr -> float). ``m_RAD_enhanced`` is the part of m^RAD from operators
    with a flavon outside every chain."""
    outside = chain_scalars(fl)
    out = {}
    hbar_c = model.constant("hbar_c")
    for s in fl.leptons:
        m_fn, m_rad, m_rad_enhanced, da_per_m, rows = _closures(model, s.chains, s.closures, s.coupling, number,
                                                                weights_fn, outside)
        m_tot = m_fn + m_rad
        m_exp = lepton_mass(model, number, s.lepton)
        entry = {"m_FN": float(m_fn), "m_RAD": float(m_rad), "m_RAD_enhanced": float(m_rad_enhanced),
                 "m_total": float(m_tot), "closures": rows}
        if m_exp:
            signed = m_exp * np.sign(m_tot)
            delta_a = signed * da_per_m
            C = 2 * np.pi**2 * delta_a / m_exp**2
            entry.update({
                "m_exp": m_exp,
                "c": float(abs(m_rad) / m_exp),
                "delta_a": float(delta_a),
                "C": float(C),
                "m_FN_over_m_RAD": float(m_fn / m_rad) if m_rad else None,
                "m_total_over_m_exp": float(m_tot / m_exp),
                # every parameter and vev real here: Im C_ll = 0, so d_l = -e m_l Im C/(4 pi^2) = 0
                "edm_e_cm": 0.0 if hbar_c is not None else None,
            })
        else:
            entry["note"] = (f"no mass for lepton {s.lepton} (declare {constants.lepton_mass(s.lepton)} in "
                             "[parameters]): c, Delta a and C not evaluated")
        out[s.lepton] = entry
    summary = {}
    for lepton, entry in out.items():
        if "delta_a" in entry:
            summary[f"delta_a_{lepton}"] = entry["delta_a"]
            summary[f"c_{lepton}"] = entry["c"]
    summary["leptons"] = out
    summary["dipoles"] = {t.name: float(_closures(model, t.chains, t.closures, t.coupling, number, weights_fn,
                                                  outside)[3]) for t in transitions}
    return summary


def lepton_pairs(model, number) -> list[tuple[str, str]]:
    """(heavier, lighter) for every pair of leptons with masses, heavier first."""
    masses = {l: lepton_mass(model, number, l) for l in model.leptons}
    known = sorted((l for l in masses if masses[l]), key=lambda l: -masses[l])
    return [(a, b) for i, a in enumerate(known) for b in known[i + 1:]]


def radiative_decays(model, fl, observables, entry, number) -> dict:
    """BR(l -> l' gamma) for every pair (heavier l), from the flavor-changing dipoles of a route
    (``entry["dipoles"]``): the ratio to BR(l -> l' nu nu) by the derived relation, times that
    branching ratio (a constant); zero, with the reason, for a pair no chain connects."""
    searched = {(a, b): (n, k) for a, b, n, k in
                ((r.removesuffix("_R"), l.removesuffix("_L"), n, k) for r, l, n, k in fl.flavor_changing)}
    relation = observables.relation("BR_ratio_from_C")
    symbols = {str(s): s for s in relation.free_symbols}
    out = {}
    for heavy, light in lepton_pairs(model, number):
        key = f"BR_{heavy}_{light}_gamma"
        chains = {d: searched.get(d, (0, 0)) for d in ((light, heavy), (heavy, light))}
        if not any(k for _, k in chains.values()):
            n = max(n for n, _ in chains.values())
            out[key] = {"value": 0.0, "reason": f"no chain {heavy}_R -> {light}_L or {light}_R -> {heavy}_L up to "
                                                f"{n} insertions: C_{heavy}{light} = C_{light}{heavy} = 0 at every "
                                                "order searched"}
            continue
        m = lepton_mass(model, number, heavy)
        C_hl = abs(2 * np.pi**2 * entry["dipoles"].get(f"{heavy}_{light}", 0.0) / m)
        C_lh = abs(2 * np.pi**2 * entry["dipoles"].get(f"{light}_{heavy}", 0.0) / m)
        constants_needed = {"alpha": model.constant("alpha"), "G_F": model.constant("G_F")}
        branching = model.constant(constants.leptonic_branching(heavy, light))
        if None in constants_needed.values() or branching is None:
            out[key] = {"value": None, "C_heavy_light": C_hl, "C_light_heavy": C_lh,
                        "reason": f"no value for alpha, G_F or {constants.leptonic_branching(heavy, light)}"}
            continue
        values = {symbols["absC_ll2"]: C_hl, symbols["absC_l2l"]: C_lh,
                  **{symbols[k]: v for k, v in constants_needed.items()}}
        ratio = numeric(relation, values)
        out[key] = {"value": float(ratio * branching), "C_heavy_light": C_hl, "C_light_heavy": C_lh,
                    "approximation": "dipoles in the flavor basis of the leptons (off-diagonal masses small)"}
    return out


def evaluate(derivation, values: Mapping, spectrum: Mapping | None = None, *, route: str = "given",
             point: str | None = None, prepared: Prepared | None = None) -> dict:
    """Delta a_l, c_l, C_ll, m^FN, m^RAD per lepton and BR(l -> l' gamma) per pair at ``values``
    (parameter and vev symbol -> number; model defaults fill the rest), by the mass-insertion
    formulas and, with ``spectrum`` = {"scalar_masses", "pseudoscalar_masses" (GeV), "U_S", "U_P"
    (columns = eigenvectors, rows in field order, sigma = U_S S)}, in the flavon mass basis.
    ``route`` names where the values come from, ``point`` the point they belong to.

    Routes of the result: ``mass_insertion`` (unperturbed masses sqrt|mu_a^2| from the bilinear
    terms), ``mass_insertion_vacuum`` (the diagonal d^2V/dphi dphibar at the vacuum) and
    ``mass_basis``. ``prepared``: :meth:`Prepared.of` this derivation, when several points
    are evaluated (the result is the same without it).
    """
    prepared = prepared or Prepared.of(derivation)
    model = derivation.model
    results = derivation.results
    fl = results["flavor"]
    obs = results["observables"]
    transitions = obs.transitions
    values = {**parameter_values(model), **dict(values)}
    field_index = {s.name: i for i, s in enumerate(model.scalars)}
    number = _Numbers(values)
    loop_values = prepared.loop_values
    M = number(model.mediators[0].mass) if model.mediators else None

    insertion = {}
    for key, choice in (("mass_insertion", "bilinear"), ("mass_insertion_vacuum", "vacuum")):
        m0 = unperturbed_masses(model, results, values, choice, prepared.coefficients[choice])

        def mi_weights(cl, m_c, uu, M, m0=m0):
            xa, xb = m0[cl.pair[0].scalar] / M, m0[cl.pair[1].scalar] / M
            return mass_insertion_closure(m_c, number(cl.coefficient), uu, M, cl.between, xa, xb, loop_values)

        entry = _route(model, fl, transitions, number, mi_weights)
        entry["unperturbed_masses"] = {"choice": choice, **m0}
        entry["x"] = {name: m / M for name, m in m0.items()} if M else {}
        insertion[key] = entry
    mass_basis = None
    if spectrum is not None:
        mS, mP = np.asarray(spectrum["scalar_masses"], float), np.asarray(spectrum["pseudoscalar_masses"], float)
        US, UP = np.asarray(spectrum["U_S"], float), np.asarray(spectrum["U_P"], float)
        if (mS <= 0).any() or (mP <= 0).any():
            raise ValueError("the mass-basis route needs a spectrum with positive squared masses")

        def mb_weights(cl, m_c, uu, M):
            a, b = (field_index[i.scalar] for i in cl.pair)
            holomorphic_pair = cl.pair[0].conjugate == cl.pair[1].conjugate
            return mass_basis_closure(m_c, uu, M, cl.between, holomorphic_pair, US[a], US[b], UP[a], UP[b], mS, mP,
                                      loop_values)

        mass_basis = _route(model, fl, transitions, number, mb_weights)
        mass_basis["spectrum"] = {
            "scalar_masses": [float(v) for v in mS], "pseudoscalar_masses": [float(v) for v in mP],
            "x_scalar": [float(v / M) for v in mS] if M else [],
            "x_pseudoscalar": [float(v / M) for v in mP] if M else [],
            "route": route,
        }
        mass_basis["flavon_couplings"] = _mass_basis_couplings(model, fl, number, US, UP)
        mass_basis["lepton_masses_fixed"] = lepton_masses_fixed({"mass_basis": mass_basis})
    for entry in (e for e in (insertion["mass_insertion"], insertion["mass_insertion_vacuum"], mass_basis)
                  if e is not None):
        entry["radiative_decays"] = radiative_decays(model, fl, obs, entry, number)
        entry["flavor_violation"] = flavor_violation(fl, entry["radiative_decays"])
    return {
        "point": point,
        "route": route,
        "conventions": CONVENTIONS,
        "mass_insertion": insertion["mass_insertion"],
        "mass_insertion_vacuum": insertion["mass_insertion_vacuum"],
        "mass_basis": mass_basis,
    }


def flavor_violation(fl, decays: Mapping[str, dict]) -> dict:
    """The flavor-changing chains searched per ordered pair and BR(l -> l' gamma) per pair."""
    searched = {f"{a}->{b}": {"searched_up_to_insertions": n, "chains": k} for a, b, n, k in fl.flavor_changing}
    out: dict = {key: decay["value"] for key, decay in decays.items()}
    out["chains"] = searched
    out["notes"] = [f"{key}: {decay['reason']}" for key, decay in decays.items() if "reason" in decay]
    return out


def observable_keys(evaluated: dict) -> list[str]:
    """delta_a_l and c_l of every lepton with a mass, in the model's order."""
    entry = evaluated.get("mass_basis") or evaluated["mass_insertion"]
    leptons = [l for l, e in entry["leptons"].items() if "delta_a" in e]
    return [f"delta_a_{l}" for l in leptons] + [f"c_{l}" for l in leptons]


def summary(evaluated: dict, printed: Mapping | None = None) -> dict:
    """{"delta_a_l": {"mass_insertion": .., "mass_insertion_vacuum": .., "mass_basis": .., "printed": ..}, ...}."""
    out = {}
    for key in observable_keys(evaluated):
        out[key] = {r: _plain((evaluated.get(r) or {}).get(key)) for r in ROUTES}
        out[key]["printed"] = (printed or {}).get(key)
    return out


def spectrum_json(evaluated: dict, others: Mapping[str, dict] | None = None, printed: Mapping | None = None
                  ) -> dict:
    """The ``observables`` object of ``symflav spectrum --json`` (README contract): the observables
    by route (:func:`summary`), where they were evaluated (``route``), ``details`` (x values,
    conventions, per-lepton masses and closures, decays) and the same on the other vacua of the
    point (``by_route``: a route name -> its summary or the reason it is not available)."""
    out = {"route": evaluated["route"], **summary(evaluated, printed)}
    details = {
        "route": evaluated["route"],
        "point": evaluated["point"],
        "conventions": evaluated["conventions"],
        "x": {"mass_insertion": _plain(evaluated["mass_insertion"]["x"]),
              "mass_insertion_vacuum": _plain(evaluated["mass_insertion_vacuum"]["x"]),
              "mass_basis": _plain({k: evaluated["mass_basis"]["spectrum"][k] for k in ("x_scalar", "x_pseudoscalar")})
              if evaluated.get("mass_basis") else None},
        "definitions": {
            "x": "x_a = m_a/M (M the mediator mass): mass_insertion m_a = sqrt|mu_a^2| (the bilinear of V), "
                 "mass_insertion_vacuum m_a^2 = d^2V/dphi_a dphibar_a at the vacuum, mass_basis the exact masses",
            "c_l": "|m_l^RAD| / m_l^exp",
            "delta_a_l": "m_l^exp Sign(m_l^FN + m_l^RAD) (Delta a_l/m_l): the basis where the lepton mass is positive",
        },
    }
    for r in ROUTES:
        if evaluated.get(r) is not None:
            details[r] = _plain(evaluated[r])
    out["details"] = details
    if others is not None:
        out["by_route"] = {name: (_plain(v) if "reason" in v else summary(v)) for name, v in others.items()}
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
    """Couplings of the CP-even and CP-odd mass states to lbar_L l_R:
    L ⊃ -(y_Sk S_k + i y_Pk P_k) lbar_L l_R + h.c. for phi = v + sigma + i varphi, sigma = U_S S;
    for canonically normalized states divide by sqrt(2)."""
    out = {}
    for s in fl.leptons:
        ys = np.array([number(dict(s.yukawa_sigma)[sc.name]) for sc in model.scalars])
        yp = np.array([number(sp.im(dict(s.yukawa_varphi)[sc.name])) for sc in model.scalars])
        out[s.lepton] = {"S": (US.T @ ys).tolist(), "P": (UP.T @ yp).tolist()}
    return out
