"""Viability scans: random points of the free parameters of the aligned vacuum, kept when the
vacuum is a minimum and the leptons' observables are allowed.

A model declares a scan in its file (``[scans.NAME]``): the free parameters after the relations
-- the couplings, the explicit-breaking masses, the free vevs (the tadpoles eliminate the mu^2)
and the mediator masses -- are sampled in its ranges. A coupling declared
``fixed_by = "m_<lepton>"`` is not sampled: every chain and closure of a lepton carries
g_l^(n+1), so g_l is solved from |m^FN + m^RAD| = m_l^exp and the point is kept only if g_l
lies in the declared range.

Per point, vectorized over a chunk with the generated numeric module (no sympy on a worker):

* the relations and the alignment (small generated kernel, see :func:`build`);
* mu^2 from the generated ``tadpoles``: V is affine in every mu^2, so T(mu^2) = T_0 + sum_k
  mu_k^2 A_k with T_0, A_k from the module at mu = 0 and mu_k = 1 (least squares over the
  tadpoles; the residual says whether the alignment is stationary);
* the mass matrices from the generated ``mass_matrices`` the same way, ``numpy.linalg.eigh``
  on the (N, n, n) stacks: every squared mass positive;
* the aligned vacuum the global minimum: the tadpoles stage's ``minimum_conditions`` (the
  nontrivial point is the global minimum of V restricted to the aligned subspace). They do
  not cover directions out of the aligned subspace (phases, other vev ratios); with positive
  squared masses the point is a local minimum of the full potential, and a subsample is
  confirmed by the numeric multi-start search of :mod:`symflav.numerics.minimizer` (agreement reported);
* Delta a_l in the flavon mass basis (the generated ``m_FN_l``, ``m_RAD_l_mass_basis``,
  ``delta_a_over_m_l_mass_basis`` with the sums DeltaI over the states; the r-vev-insertion
  loop functions as sums over mass-insertion members, :func:`symflav.physics.loops.vev_insertion_terms`,
  each from the generated module, or from the kernel when the module lacks it, see
  :func:`loop_function_source`) within ``n_sigma`` of the measured value, for every lepton that has one
  (:mod:`symflav.core.constants`, or the model's override);
* BR(l -> l' gamma) for every pair: from the generated flavor-changing dipoles
  ``dipole_<l>_<l'>_mass_basis`` when chains connect the pair, zero (with the reason) when the
  charges forbid every chain; below its bound for every pair that has one.

The evaluator carries only plain data (source texts, numbers), so it pickles for Dask.
"""

from __future__ import annotations

import hashlib
import io
import math
from dataclasses import dataclass, field
from typing import Mapping

import numpy as np
import sympy as sp

from symflav.codegen.printer import print_expr
from symflav.core import constants as names_of
from symflav.core.errors import SpecError
from symflav.core.stages import Unavailable, available
from symflav.numerics import minimizer as numeric
from symflav.numerics.scan import Axis, ScanPlan, load_generated, run_local
from symflav.physics import loops as loop_stage

CONFIRM_STARTS = 12  # random starts of the numeric confirmation, besides the aligned vacuum
STATIONARY_TOLERANCE = 1e-7  # largest tadpole left after the mu^2 elimination, relative to its terms
LOOP_SERIES_TERMS = 12  # Taylor coefficients at x = 1 of a loop function the generated module lacks


@dataclass(frozen=True)
class Kernel:
    """Everything a worker needs, as plain data (see the module docstring)."""

    numeric_source: str
    kernel_source: str
    fields: tuple[str, ...]
    vevs: tuple[str, ...]  # vev parameter of each field, in field order
    sampled: tuple[tuple[str, float, float, str], ...]  # (name, low, high, scale)
    fitted: tuple[tuple[str, str, str, int, float, float], ...]  # (coupling, lepton, mass parameter, power, low, high)
    eliminated: tuple[str, ...]  # mu whose mu^2 the tadpoles fix
    constants: tuple[tuple[str, float], ...]
    leptons: tuple[tuple[str, str, str, str | None, str | None], ...]  # (lepton, coupling, mass, central, sigma)
    sums: tuple[tuple[str, str, int, int, int, int], ...]  # (name, kind, a, b, pseudoscalar sign, r)
    conditions: tuple[tuple[str, str], ...]  # (description, ">0" or "<=0")
    exponents: np.ndarray = field(compare=False)  # terms of V in (Re phi, Im phi)
    field_norm: float = 1.0
    pairs: tuple[tuple[str, str, bool, bool, str | None, str | None, str], ...] = ()
    # (heavy, light, chains heavy <- light, chains light <- heavy, bound, BR(heavy -> light nu nu), reason)
    n_sigma: float = 2.0
    confirm: int = 16
    mediator: str = ""  # the mass parameter of the mediators (the figure's axis)
    scan: str = ""
    families: tuple[tuple[str, int, tuple[tuple[str, tuple[tuple[int, float], ...]], ...]], ...] = ()
    # (base, r, ((loop function, ((power of x, coefficient), ...)), ...)): F_r = sum c(x) function(x)


# ------------------------------------------------------------------ building the kernel (main process, sympy)


def _resolved(relations) -> dict:
    """The relations with every right side in free parameters only."""
    table = dict(relations)
    for _ in range(len(table) + 1):
        new = {k: sp.sympify(v).xreplace(table) for k, v in table.items()}
        if new == table:
            break
        table = new
    return table


def _function(name: str, arguments, body_lines, returns: str) -> list[str]:
    lines = [f"def {name}(p):"]
    for a in arguments:
        lines.append(f"    {a} = p[{a!r}]")
    lines.extend("    " + line for line in body_lines)
    lines.append(f"    return {returns}")
    return lines + ["", ""]


def build(derivation, spec) -> Kernel:
    """The viability kernel of a declared scan ``spec`` (:class:`symflav.core.model.ScanSpec`);
    needs the tadpoles, mass_matrices, flavor, observables and codegen stages. A model the scan
    cannot evaluate is a :class:`SpecError` naming ``scans.NAME``."""
    model = derivation.model
    where = f"scans.{spec.name}.ranges"
    results = derivation.results
    _check_applies(model, spec, results)
    tadpoles, obs, fl = results["tadpoles"], results["observables"], results["flavor"]
    names = model.symbols()
    relations = _resolved(model.relations)
    eliminated = tuple(str(mu) for mu, _ in tadpoles.eliminated)
    squares = {names[mu]: sp.Symbol(f"{mu}_squared", real=True) for mu in eliminated}
    declared = {r.parameter: r for r in spec.ranges}
    _check_ranges(model, results, relations, declared, {names[mu] for mu in eliminated}, where)
    leptons, fitted = _leptons(model, fl, obs.formulas, declared, where, names)
    fitted_names = {f[0] for f in fitted}
    sampled = tuple((r.parameter, r.low, r.high, r.scale) for r in spec.ranges if r.parameter not in fitted_names)
    V = _affine_in_squares(model, results["potential"], relations, squares, names, where)
    exponents, potential_lines = _potential_source(results["potential"], V)
    sums = tuple((s.name, s.kind, s.a, s.b, s.pseudoscalar_sign, s.r) for s in obs.mass_basis_sums)
    families, loop_lines = _loop_families(sums, results["codegen"].functions)
    lines = ['"""Viability kernel (generated by symflav; plain numpy)."""', "", "import numpy as np", "", ""]
    lines += _dependent_source(relations, dict(tadpoles.alignment), names)
    conditions, condition_lines = _conditions_source(tadpoles, relations, squares)
    lines += condition_lines + potential_lines + loop_lines
    constants = tuple(sorted({**{c.name: float(c.value) for c in model.constants},
                              **{p.name: float(p.default) for p in model.parameters if p.default is not None}}.items()))
    return Kernel(
        numeric_source=results["codegen"].source,
        kernel_source="\n".join(lines).rstrip() + "\n",
        fields=model.scalar_names, vevs=tuple(str(model.vacuum.vev(f)) for f in model.scalar_names),
        sampled=sampled, fitted=tuple(fitted), eliminated=eliminated,
        constants=constants, leptons=tuple(leptons), sums=sums, conditions=conditions,
        exponents=exponents, field_norm=float(numeric.field_normalization(model.conventions)),
        pairs=_pairs(model, fl, dict(constants)), n_sigma=spec.n_sigma, confirm=spec.confirm,
        mediator=str(model.mediators[0].mass) if model.mediators else "", scan=spec.name, families=families,
    )


def _check_applies(model, spec, results) -> None:
    """The stages the scan needs are there, the alignment is stationary, and every mediator has
    the same mass (the state sums DeltaI are evaluated at one x = m/M per state)."""
    for stage in ("tadpoles", "mass_matrices", "flavor", "observables", "codegen"):
        if available(results, stage) is None:
            raise SpecError(model.path, f"scans.{spec.name}", f"the scan needs the {stage} stage, which is "
                            f"not available for this model")
    if not results["tadpoles"].stationary:
        raise SpecError(model.path, f"scans.{spec.name}.ranges",
                        "the alignment is not a stationary point for generic parameters")
    masses = sorted({str(m.mass) for m in model.mediators})
    if len(masses) > 1:
        raise SpecError(model.path, f"scans.{spec.name}", "the mediators have different masses "
                        f"({', '.join(masses)}); the scan evaluates the loops at one mediator mass")


def _check_ranges(model, results, relations, declared, eliminated, where) -> None:
    """Every free parameter of the aligned vacuum has a range, and every range is one: those of
    V (after relations and alignment), the free vevs, the mediator masses and the chain
    couplings, without the eliminated mu."""
    names = model.symbols()
    pot = results["potential"]
    fields = set(pot.phi) | set(pot.phibar)
    free = {s for s in pot.expr.xreplace(relations).free_symbols if s not in fields}
    free |= set(results["tadpoles"].free_vevs)
    free |= {m.mass for m in model.mediators}
    free |= {sp.sympify(g) for _, g in model.yukawa.couplings} if model.yukawa else set()
    free -= set(eliminated)
    missing = sorted(str(s) for s in free if str(s) not in declared)
    if missing:
        raise SpecError(model.path, where, "no range for " + ", ".join(missing))
    extra = sorted(n for n in declared if names[n] not in free)
    if extra:
        raise SpecError(model.path, where, "not a free parameter of the aligned vacuum: " + ", ".join(extra))


def _affine_in_squares(model, pot, relations, squares, names, where) -> sp.Expr:
    """V after the relations with every eliminated mu written as sqrt(mu_squared); V must be
    affine in each mu^2 (checked, not assumed)."""
    V = pot.expr.xreplace(relations)
    for mu, s in squares.items():
        Vs = sp.expand(V.xreplace({mu: sp.sqrt(s)}))
        if Vs.has(mu) or sp.expand(sp.diff(Vs, s, 2)) != 0:
            raise SpecError(model.path, where, f"V is not affine in {mu}^2")
    return V.xreplace({mu: sp.sqrt(s) for mu, s in squares.items()})


def _dependent_source(relations, alignment, names) -> list[str]:
    """``dependent(p)``: the parameters the relations and the alignment fix."""
    dependent = {**relations, **alignment}
    args = sorted({str(s) for e in dependent.values() for s in sp.sympify(e).free_symbols})
    pnames = {names[a]: a for a in args}
    body = [f"out[{str(k)!r}] = {print_expr(sp.sympify(v), pnames)}" for k, v in dependent.items()]
    return _function("dependent", args, ["out = {}"] + body, "out")


def _conditions_source(tadpoles, relations, squares):
    """((description, relation), ...) of the minimum conditions and ``conditions(p)``."""
    conditions, exprs = [], []
    for c in tadpoles.minimum_conditions:
        expr = sp.sympify(c.expr).xreplace(relations).xreplace({mu: sp.sqrt(s) for mu, s in squares.items()})
        conditions.append((c.description, c.relation))
        exprs.append(sp.expand(expr) if expr.is_polynomial() else expr)
    args = sorted({str(s) for e in exprs for s in e.free_symbols})
    pnames = {s: str(s) for e in exprs for s in e.free_symbols}
    return tuple(conditions), _function("conditions", args, [], "(" + "".join(f"{print_expr(e, pnames)}, "
                                                                               for e in exprs) + ")")


def _potential_source(pot, V):
    """(exponents (T, 2n), ``potential_coefficients(p)``): V as a real polynomial in
    x = (Re phi, Im phi), one coefficient row per monomial."""
    variables, complex_fields = numeric.real_components(pot)
    real = sp.expand(V.xreplace(complex_fields))
    if real.has(sp.I):
        real = sp.expand(sp.re(real))
    terms = sp.Poly(real, *variables).terms()
    exponents = np.array([t for t, _ in terms], dtype=int)
    coefficient_exprs = [sp.expand(c) for _, c in terms]
    args = sorted({str(s) for e in coefficient_exprs for s in e.free_symbols})
    pnames = {s: str(s) for e in coefficient_exprs for s in e.free_symbols}
    shape = f"np.broadcast({', '.join(args)}).shape" if args else "()"
    rows = [f"np.broadcast_to({print_expr(e, pnames)} + 0.0, shape)" for e in coefficient_exprs]
    return exponents, _function("potential_coefficients", args, [f"shape = {shape}"],
                                "np.stack([" + ", ".join(rows) + "])")


def _leptons(model, fl, formulas, declared, where, names):
    """(lepton, coupling, mass, central, sigma) of every lepton with a mass, and the couplings
    solved from a lepton mass (``fixed_by``): (coupling, lepton, mass, power, low, high)."""
    couplings = dict(model.yukawa.couplings)
    leptons, fitted = [], []
    for s in fl.leptons:
        g = str(couplings[s.lepton])
        mass = names_of.lepton_mass(s.lepton)
        r = declared.get(g)
        if model.constant(mass) is None:
            if r is not None and r.fixed_by:
                raise SpecError(model.path, f"{where}.{g}.fixed_by", f"{mass} has no value")
            continue
        central, sigma = names_of.anomaly(s.lepton)
        measured = model.constant(central) is not None and model.constant(sigma) is not None
        leptons.append((s.lepton, g, mass, central if measured else None, sigma if measured else None))
        if r is None or not r.fixed_by:
            continue
        if r.fixed_by != mass:
            raise SpecError(model.path, f"{where}.{g}.fixed_by", f"{g} couples to {s.lepton}: fix it by {mass}")
        if not s.chains:
            raise SpecError(model.path, f"{where}.{g}.fixed_by", f"{s.lepton} has no chain: {g} gives it no mass")
        power = sp.Poly(formulas[f"m_FN_{s.lepton}"], names[g]).degree()
        for name in (f"m_RAD_{s.lepton}_mass_basis", f"delta_a_over_m_{s.lepton}_mass_basis"):
            poly = sp.Poly(sp.expand(formulas[name]), names[g])
            if not poly.is_zero and set(m[0] for m in poly.monoms()) != {power}:
                raise SpecError(model.path, f"{where}.{g}", "m and Delta a are not homogeneous in the coupling")
        fitted.append((g, s.lepton, mass, int(power), r.low, r.high))
    return leptons, fitted


def _pairs(model, fl, constants: Mapping[str, float]):
    """(heavy, light, chains heavy_L <- light_R, chains light_L <- heavy_R, bound name, branching
    name, reason) of every pair of leptons with masses."""
    found = {(r.removesuffix("_R"), l.removesuffix("_L")): (n, k) for r, l, n, k in fl.flavor_changing}
    masses = {s.lepton: constants.get(names_of.lepton_mass(s.lepton)) for s in fl.leptons}
    known = sorted((l for l, m in masses.items() if m), key=lambda l: -masses[l])
    out = []
    for i, heavy in enumerate(known):
        for light in known[i + 1:]:
            hl, lh = found.get((light, heavy), (0, 0)), found.get((heavy, light), (0, 0))
            bound, branching = names_of.radiative_bound(heavy, light), names_of.leptonic_branching(heavy, light)
            reason = "" if hl[1] or lh[1] else (f"no chain {heavy}_R -> {light}_L or {light}_R -> {heavy}_L up to "
                                                f"{max(hl[0], lh[0])} insertions: BR = 0")
            out.append((heavy, light, bool(hl[1]), bool(lh[1]), bound if bound in constants else None,
                        branching if branching in constants else None, reason))
    return tuple(out)


# ------------------------------------------------------------------ evaluation (any process, numpy only)


def _load(source: str, name: str):
    return load_generated(source, name)


def _loop_families(sums, exported):
    """(families, kernel lines) of the loop functions the state sums ``sums`` need: each
    (base, r) as sum_k c_k(x) F^(k)(x) (:func:`symflav.physics.loops.vev_insertion_terms`,
    c_k as ((power of x, coefficient), ...)); every F^(k) the generated module does not
    export (its names: ``exported``) gets a kernel function (:func:`loop_function_source`)."""
    families, lines, rendered = [], [], set(exported)
    for base, r in sorted({("I_m" if kind == "m" else "I_da", r) for _, kind, _, _, _, r in sums}):
        terms = []
        for k, coefficient in loop_stage.vev_insertion_terms(base, r):
            key = loop_stage.function_key(base, k, 0)
            poly = sp.Poly(coefficient, loop_stage.X)
            terms.append((key, tuple((int(n), float(c)) for (n,), c in sorted(poly.terms()))))
            if key not in rendered:
                lines += loop_function_source(key)
                rendered.add(key)
        families.append((base, r, tuple(terms)))
    return tuple(families), lines


def loop_function_source(key: str, terms: int = LOOP_SERIES_TERMS) -> list[str]:
    """Kernel source of the loop function ``key`` (:func:`symflav.physics.loops.parse_key`)
    of x = m/M, vectorized: its closed form, and near the removable singularity x = 1 its
    Taylor series in c = x^2 - 1 (``terms`` exact coefficients from the Feynman-parameter
    integrand, :func:`symflav.physics.loops.taylor_at_one`). The closed form, over
    (1 - x^2)^k, loses about 1e-16/|c|^k by cancellation, the series |c|^terms: the series is
    used for |c| < 1e-16^(1/(terms + k)), where the two are equal."""
    f = loop_stage.loop_function(*loop_stage.parse_key(key))
    X = loop_stage.X
    taylor = loop_stage.taylor_at_one(f.integrand.subs(X, sp.sqrt(loop_stage.A2)), terms)
    k = sp.roots(sp.Poly(sp.fraction(sp.together(f.closed_form))[1], X)).get(sp.S.One, 0)
    radius = 1e-16 ** (1.0 / (terms + k))
    coefficients = ", ".join(repr(float(c)) for c in reversed(taylor))
    return [f"def {key}(x):",
            f'    """{key}(x), x = m/M: closed form, Taylor series in x^2 - 1 for |x^2 - 1| < {radius:.3g}."""',
            "    x = np.asarray(x, dtype=float)",
            "    c = x * x - 1.0",
            '    with np.errstate(all="ignore"):  # the series replaces the closed form at x = 1',
            f"        closed = {print_expr(f.closed_form, {X: 'x'})}",
            "    series = np.zeros_like(c)",
            f"    for coefficient in ({coefficients},):",
            "        series = series * c + coefficient",
            f"    return np.where(np.abs(c) < {radius!r}, series, closed)",
            "", ""]


class ViabilityEvaluator:
    """Picklable scan evaluator: columns of sampled parameters -> viability columns."""

    def __init__(self, kernel: Kernel):
        self.kernel = kernel
        self._modules = None

    def __getstate__(self):
        return {"kernel": self.kernel, "_modules": None}

    def modules(self):
        if self._modules is None:
            self._modules = (_load(self.kernel.numeric_source, "numeric"), _load(self.kernel.kernel_source, "kernel"))
        return self._modules

    # -- pieces
    def loop_family(self, base: str, r: int):
        """F_r(x) of the closures, x = m/M: r = 0 the loop function ``base``, r > 0 the family
        with r vev insertions on the mediator line (:mod:`symflav.physics.loops`), as
        sum_k c_k(x) F^(k)(x) over mass-insertion members, each from the generated module or
        the kernel (:func:`_loop_families`)."""
        num, kernel = self.modules()
        terms = dict(((b, r_), t) for b, r_, t in self.kernel.families).get((base, r))
        if terms is None:
            raise KeyError(f"the scan's state sums have no r = {r} family of {base}")

        def family(x):
            x = np.asarray(x, dtype=float)
            total = 0.0
            for key, polynomial in terms:
                function = getattr(num, key, None) or getattr(kernel, key)
                coefficient = sum(c * x**n for n, c in polynomial)
                total = total + coefficient * function(x)
            return total

        return family

    def _parameters(self, columns, overrides: Mapping[str, float]):
        k = self.kernel
        n = len(next(iter(columns.values())))
        p = {name: np.full(n, value) for name, value in k.constants}
        p.update({name: np.asarray(columns[name], dtype=float) for name, *_ in k.sampled})
        for g, *_ in k.fitted:
            p[g] = np.ones(n)
        for name, value in overrides.items():
            p[name] = np.full(n, float(value))
        _, kernel = self.modules()
        p.update({name: np.broadcast_to(np.asarray(v, dtype=float), (n,)) for name, v in kernel.dependent(p).items()})
        return p

    def vacuum(self, columns):
        """mu^2, the stationarity residual and the mass matrices at the aligned vacuum."""
        k = self.kernel
        num, _ = self.modules()
        base = self._parameters(columns, {mu: 0.0 for mu in k.eliminated})
        vevs = np.stack([base[v] for v in k.vevs], axis=-1)
        wanted = set(num.PARAMETERS)

        def call(function, p):
            return function(vevs, **{name: value for name, value in p.items() if name in wanted})

        T0 = call(num.tadpoles, base)
        S0, P0 = call(num.mass_matrices, base)
        A, dS, dP = [], [], []
        for mu in k.eliminated:
            unit = self._parameters(columns, {m: (1.0 if m == mu else 0.0) for m in k.eliminated})
            A.append(call(num.tadpoles, unit) - T0)
            S1, P1 = call(num.mass_matrices, unit)
            dS.append(S1 - S0)
            dP.append(P1 - P0)
        A = np.stack(A, axis=-1)  # (N, n_fields, n_mu)
        normal = np.einsum("nik,nil->nkl", A, A)
        rhs = -np.einsum("nik,ni->nk", A, T0)
        with np.errstate(all="ignore"):
            mu2 = np.linalg.solve(normal, rhs[..., None])[..., 0]
        residual = T0 + np.einsum("nik,nk->ni", A, mu2)
        scale = np.max(np.abs(T0), axis=1) + np.max(np.abs(A), axis=(1, 2)) * np.max(np.abs(mu2), axis=1) + 1e-300
        M_S = S0 + np.einsum("nk,knij->nij", mu2, np.array(dS))
        M_P = P0 + np.einsum("nk,knij->nij", mu2, np.array(dP))
        params = {**base, **{f"{mu}_squared": mu2[:, i] for i, mu in enumerate(k.eliminated)}}
        return params, vevs, mu2, np.max(np.abs(residual), axis=1) / scale, M_S, M_P

    def __call__(self, columns):
        k = self.kernel
        num, kernel = self.modules()
        params, vevs, mu2, residual, M_S, M_P = self.vacuum(columns)
        n = len(residual)
        out: dict[str, np.ndarray] = {}
        for i, mu in enumerate(k.eliminated):
            out[f"{mu}_squared"] = mu2[:, i]
        stationary = residual < STATIONARY_TOLERANCE
        with np.errstate(all="ignore"):
            wS, US = np.linalg.eigh(np.nan_to_num(M_S))
            wP, UP = np.linalg.eigh(np.nan_to_num(M_P))
        positive = (wS[:, 0] > 0) & (wP[:, 0] > 0) & stationary
        for j in range(wS.shape[1]):
            out[f"m_S{j + 1}"] = np.sign(wS[:, j]) * np.sqrt(np.abs(wS[:, j]))
        for j in range(wP.shape[1]):
            out[f"m_P{j + 1}"] = np.sign(wP[:, j]) * np.sqrt(np.abs(wP[:, j]))
        # analytic conditions: the aligned point is the global minimum of the aligned subspace
        with np.errstate(all="ignore"):
            values = kernel.conditions(params)
        analytic = np.ones(n, dtype=bool)
        for (_, relation), value in zip(k.conditions, values):
            value = np.broadcast_to(np.asarray(value, dtype=float), (n,))
            analytic &= (value > 0) if relation == ">0" else (value <= 0)
        # Delta a and c in the mass basis
        M = params[k.mediator]
        with np.errstate(all="ignore"):
            xS = np.sqrt(np.where(positive[:, None], wS, 1.0)) / M[:, None]
            xP = np.sqrt(np.where(positive[:, None], wP, 1.0)) / M[:, None]
        loops = {}
        sums = {}
        for name, kind, a, b, sign, r in k.sums:
            base = "I_m" if kind == "m" else "I_da"
            if (base, r) not in loops:
                F = self.loop_family(base, r)
                loops[(base, r)] = (F(xS), F(xP))
            FS, FP = loops[(base, r)]
            sums[name] = np.einsum("nk,nk->n", US[:, a, :] * US[:, b, :], FS) + \
                sign * np.einsum("nk,nk->n", UP[:, a, :] * UP[:, b, :], FP)
        wanted = set(num.PARAMETERS)
        arguments = {name: value for name, value in {**params, **sums}.items() if name in wanted}
        couplings_ok, anomalies_ok, couplings = self._leptons(num, arguments, params, positive, out)
        lfv_ok = self._radiative_decays(num, {**arguments, **couplings}, params, out)
        candidate = stationary & positive & analytic & couplings_ok & anomalies_ok & lfv_ok
        sample = np.zeros(n, dtype=bool)
        sample[np.flatnonzero(positive)[: k.confirm]] = True
        checked = sample | candidate
        numeric_global = self.confirm(params, vevs, checked)
        out.update({
            "stationary": stationary, "positive_masses": positive, "analytic_minimum": analytic,
            "couplings_in_range": couplings_ok, "anomalies_within_n_sigma": anomalies_ok,
            "radiative_decays_below_bounds": lfv_ok,
            "numeric_sample": sample, "numeric_checked": checked, "numeric_global": numeric_global,
        })
        out["viable"] = candidate & numeric_global
        return out

    def _leptons(self, num, arguments, params, positive, out):
        """Delta a_l and c_l of every lepton (couplings ``fixed_by`` a mass solved first): the
        columns, whether the fitted couplings lie in range and every measured Delta a within n sigma."""
        k = self.kernel
        n = len(positive)
        fitted = {g: (lepton, mass, power, low, high) for g, lepton, mass, power, low, high in k.fitted}
        couplings_ok, anomalies_ok, couplings = np.ones(n, dtype=bool), np.ones(n, dtype=bool), {}
        for lepton, g, mass, central, sigma in k.leptons:
            m_fn = getattr(num, f"m_FN_{lepton}")(**arguments)
            m_rad = getattr(num, f"m_RAD_{lepton}_mass_basis")(**arguments)
            per_m = getattr(num, f"delta_a_over_m_{lepton}_mass_basis")(**arguments)
            m_exp = params[mass]
            total = m_fn + m_rad
            if g in fitted:
                _, _, power, low, high = fitted[g]
                with np.errstate(all="ignore"):
                    factor = m_exp / np.abs(total)  # g^power at |m| = m_exp (computed at g = 1)
                    coupling = factor ** (1.0 / power)
                out[g] = couplings[g] = coupling
                couplings_ok &= (coupling >= low) & (coupling <= high)
                delta_a = m_exp * np.sign(total) * per_m * factor
                with np.errstate(all="ignore"):
                    c = np.abs(m_rad / total)
            else:
                delta_a = m_exp * np.sign(total) * per_m
                c = np.abs(m_rad) / m_exp
            out[f"delta_a_{lepton}"] = np.where(positive, delta_a, np.nan)
            out[f"c_{lepton}"] = np.where(positive, c, np.nan)
            if central is not None:
                anomalies_ok &= np.abs(out[f"delta_a_{lepton}"] - params[central]) <= k.n_sigma * params[sigma]
        return couplings_ok, anomalies_ok, couplings

    def _radiative_decays(self, num, arguments, params, out):
        """BR(l -> l' gamma) of every pair (``BR_<l>_<l'>_gamma`` columns) and whether each is
        below its bound: from the generated flavor-changing dipoles at the point (the couplings
        fixed by the masses included), C = 2 pi^2 D / m_l; zero when no chain connects the pair."""
        k = self.kernel
        n = len(next(iter(params.values())))
        ok = np.ones(n, dtype=bool)
        for heavy, light, hl, lh, bound, branching, _ in k.pairs:
            if not (hl or lh):
                br = np.zeros(n)
            else:
                m = params[names_of.lepton_mass(heavy)]
                C = []
                for present, name in ((hl, f"{heavy}_{light}"), (lh, f"{light}_{heavy}")):
                    D = getattr(num, f"dipole_{name}_mass_basis")(**arguments) if present else np.zeros(n)
                    C.append(np.abs(2 * np.pi**2 * D / m))
                ratio = num.BR_ratio_from_C(absC_ll2=C[0], absC_l2l=C[1], alpha=params["alpha"], G_F=params["G_F"])
                br = ratio * (params[branching] if branching else np.nan)
            out[f"BR_{heavy}_{light}_gamma"] = br
            if bound is not None:
                ok &= br <= params[bound]
        return ok

    def confirm(self, params, vevs, checked):
        """The numeric multi-start search at the ``checked`` points: is the aligned vacuum the
        global minimum of the full potential (all real components, phases included)?"""
        k = self.kernel
        n = len(checked)
        verdict = np.zeros(n, dtype=bool)
        chosen = np.flatnonzero(checked)
        if chosen.size == 0:
            return verdict
        _, kernel = self.modules()
        sub = {name: np.asarray(v)[chosen] if np.ndim(v) else v for name, v in params.items()}
        coefficients = np.asarray(kernel.potential_coefficients(sub), dtype=float).reshape(len(k.exponents), -1)
        family = numeric.PotentialFamily(k.exponents, coefficients, len(k.fields), 1 + CONFIRM_STARTS)
        phis = (k.field_norm * vevs[chosen]).astype(complex)
        seeds = [int.from_bytes(hashlib.sha256(np.ascontiguousarray(vevs[i]).tobytes() + coefficients[:, j].tobytes())
                                .digest()[:4], "little") for j, i in enumerate(chosen)]
        scales = 2.0 * np.max(np.abs(phis), axis=1)
        searches = numeric.find_minima_family(family, [[("aligned", phi)] for phi in phis], starts=CONFIRM_STARTS,
                                              seeds_rng=seeds, scales=scales)
        here = family.values(np.repeat(np.concatenate([phis.real, phis.imag], axis=1), family.S, axis=0))[::family.S]
        for j, (i, search) in enumerate(zip(chosen, searches)):
            best = search.best.value if search.minima else here[j]
            verdict[i] = here[j] <= best + 1e-9 * abs(here[j]) + 1e-6
        return verdict

    # -- summary
    def summary(self, columns) -> dict:
        return summarize(self.kernel, columns)


def _fraction(k: int, n: int) -> dict:
    """Binomial fraction with its standard error and the Wilson 95% interval."""
    if n == 0:
        return {"count": 0, "of": 0, "fraction": None, "error": None, "wilson_95": None}
    p = k / n
    z = 1.959963984540054
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return {"count": int(k), "of": int(n), "fraction": p, "error": math.sqrt(p * (1 - p) / n),
            "wilson_95": [max(0.0, centre - half), min(1.0, centre + half)]}


CRITERIA = ("stationary", "positive_masses", "analytic_minimum", "couplings_in_range", "anomalies_within_n_sigma",
            "radiative_decays_below_bounds")


def summarize(kernel: Kernel, columns) -> dict:
    """Viable fraction (binomial error), the pass rate of each criterion and the cumulative
    funnel, the agreement of the analytic minimum conditions with the numeric search, the
    ranges used and those of the viable points."""
    n = len(columns["viable"])
    viable = np.asarray(columns["viable"], dtype=bool)
    out = {"points": n, "viable": _fraction(int(viable.sum()), n), "criteria": {}, "funnel": []}
    passed = np.ones(n, dtype=bool)
    for name in CRITERIA:
        mask = np.asarray(columns[name], dtype=bool)
        out["criteria"][name] = _fraction(int(mask.sum()), n)
        passed &= mask
        out["funnel"].append({"after": name, **_fraction(int(passed.sum()), n)})
    sample = np.asarray(columns["numeric_sample"], dtype=bool)
    analytic = np.asarray(columns["analytic_minimum"], dtype=bool)[sample]
    found = np.asarray(columns["numeric_global"], dtype=bool)[sample]
    candidates = np.asarray(columns["numeric_checked"], dtype=bool)
    for name in CRITERIA:
        candidates &= np.asarray(columns[name], dtype=bool)
    out["numeric_confirmation"] = {
        "sample": int(sample.sum()),
        "which": f"the first {kernel.confirm} points of each chunk with positive squared masses",
        "agreement": _fraction(int((analytic == found).sum()), int(sample.sum())),
        "analytic_yes_numeric_yes": int((analytic & found).sum()),
        "analytic_yes_numeric_no": int((analytic & ~found).sum()),
        "analytic_no_numeric_yes": int((~analytic & found).sum()),
        "analytic_no_numeric_no": int((~analytic & ~found).sum()),
        "candidates": int(candidates.sum()),
        "candidates_confirmed": int((candidates & np.asarray(columns["numeric_global"], dtype=bool)).sum()),
        "method": f"find_minima: the aligned vacuum plus {CONFIRM_STARTS} seeded random starts, full field space "
                  "(every point passing the other criteria is checked too, and is viable only if confirmed)",
    }
    out["ranges"] = {name: {"low": low, "high": high, "scale": scale} for name, low, high, scale in kernel.sampled}
    out["fitted"] = {g: {"lepton": lepton, "from": mass, "power": power, "allowed": [low, high]}
                     for g, lepton, mass, power, low, high in kernel.fitted}
    out["n_sigma"] = kernel.n_sigma
    out["radiative_decays"] = {f"{heavy} -> {light} gamma": (
        reason or ("flavor-changing chains: BR from the generated dipoles"
                   + (f", bound {bound}" if bound else ", no bound")))
        for heavy, light, _, _, bound, _, reason in kernel.pairs}
    out["anomalies"] = {lepton: (f"within {kernel.n_sigma:g} sigma of {central}" if central else "no measured value")
                        for lepton, _, _, central, _ in kernel.leptons}
    if viable.any():
        keep = [name for name, *_ in kernel.sampled] + [g for g, *_ in kernel.fitted] + \
            [c for c in columns if c.startswith(("m_S", "m_P", "delta_a_", "c_"))]
        out["viable_ranges"] = {name: _finite_range(np.asarray(columns[name], dtype=float)[viable])
                                for name in keep if name in columns}
    return out


def _finite_range(values: np.ndarray) -> list[float] | None:
    """[min, max] of the finite values (a column may hold NaN, e.g. a BR without its measured
    leptonic branching ratio), None when there is none: NaN is not JSON."""
    finite = values[np.isfinite(values)]
    return [float(finite.min()), float(finite.max())] if finite.size else None


# ------------------------------------------------------------------ plan, evaluator, figure


def plan_and_evaluator(derivation, spec, n_points: int, seed: int, chunk_size: int, grid: bool = False):
    """(ScanPlan, evaluator) of the declared scan ``spec``; random points only."""
    if grid:
        raise SpecError("--grid", spec.name, "a viability scan samples random points only")
    kernel = build(derivation, spec)
    axes = tuple(Axis(name, low, high, scale) for name, low, high, scale in kernel.sampled)
    return ScanPlan(axes, "random", n_points, seed, chunk_size), ViabilityEvaluator(kernel)


def save_figure(fig, fmt: str, dpi: int = 120) -> bytes:
    """PNG or PDF bytes of a matplotlib figure without timestamps or version strings (same input,
    same bytes)."""
    buffer = io.BytesIO()
    metadata = {"Software": None} if fmt == "png" else {"Creator": None, "Producer": None, "CreationDate": None}
    fig.savefig(buffer, format=fmt, dpi=dpi, metadata=metadata)
    return buffer.getvalue()


def plot(columns, viable, mediator: str, formats=("png", "pdf")) -> dict[str, bytes]:
    """Mediator and flavon masses of the viable points: the mediator mass (histogram, against
    every sampled point) and the CP-even and CP-odd masses against it."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # optional: only drawing needs matplotlib
    from matplotlib.figure import Figure  # optional: only drawing needs matplotlib

    fig = Figure(figsize=(10, 4.2))  # no pyplot, fixed layout
    FigureCanvasAgg(fig)
    axes = [fig.add_axes((x, 0.125, 0.4, 0.78)) for x in (0.07, 0.57)]
    label = "$" + sp.latex(sp.Symbol(mediator)) + "$"
    M = np.asarray(columns[mediator])
    bins = np.geomspace(max(M.min(), 1e-9), M.max(), 25) if M.size else 10
    axes[0].hist(M / 1e3, bins=np.asarray(bins) / 1e3, color="0.8", label="all points")
    axes[0].hist(M[viable] / 1e3, bins=np.asarray(bins) / 1e3, color="C3", label="viable")
    axes[0].set_xscale("log")
    axes[0].set_yscale("log")
    _tev_ticks(axes[0], M / 1e3)
    axes[0].set_xlabel(rf"{label} [TeV]")
    axes[0].set_ylabel("points")
    axes[0].legend(fontsize=8)
    axes[0].set_title(r"mediator mass")
    for j in range(1, 9):
        for kind, marker in (("S", "o"), ("P", "x")):
            name = f"m_{kind}{j}"
            if name in columns:
                axes[1].scatter(M[viable] / 1e3, np.asarray(columns[name])[viable], s=8, marker=marker,
                                color=f"C{j - 1}", label=f"${kind}_{j}$", rasterized=True)
    if viable.any():
        axes[1].set_xscale("log")
        axes[1].set_yscale("log")
        _tev_ticks(axes[1], M[viable] / 1e3)
    else:
        axes[1].text(0.5, 0.5, "no viable point", ha="center", va="center", transform=axes[1].transAxes)
    axes[1].set_xlabel(rf"{label} [TeV]")
    axes[1].set_ylabel("flavon mass [GeV]")
    axes[1].set_title(r"flavon masses of the viable points ($S$: o, $P$: x)")
    if viable.any():
        axes[1].legend(fontsize=7, ncol=2)
    return {fmt: save_figure(fig, fmt) for fmt in formats}


def _tev_ticks(ax, values):
    """Plain tick labels (0.5, 1, 2 ...) on a log axis in TeV."""
    from matplotlib.ticker import FixedLocator, FormatStrFormatter, NullFormatter, NullLocator  # optional dependency

    candidates = np.array([0.1, 0.2, 0.3, 0.5, 0.7, 1, 1.5, 2, 3, 5, 7, 10])
    if len(values):
        inside = candidates[(candidates >= np.min(values) * 0.95) & (candidates <= np.max(values) * 1.05)]
        if len(inside) >= 2:
            ax.xaxis.set_major_locator(FixedLocator(inside))
            ax.xaxis.set_major_formatter(FormatStrFormatter("%g"))
            ax.xaxis.set_minor_locator(NullLocator())
            ax.xaxis.set_minor_formatter(NullFormatter())


@dataclass(frozen=True)
class ScanSample:
    """A seeded sample of one declared scan: its summary, and the masses of its viable points
    (for the figure)."""

    scan: str
    mediator: str
    summary: Mapping
    columns: Mapping[str, np.ndarray]
    points: int
    seed: int

    def to_json(self) -> dict:
        """The summary, floats to 10 significant digits (the same file on machines whose last
        bits of linear algebra differ)."""
        return _rounded({"scan": self.scan, "points": self.points, "seed": self.seed, **self.summary})


@dataclass(frozen=True)
class ViabilityData:
    """Result of the ``viability`` stage: one :class:`ScanSample` per declared scan."""

    scans: tuple[ScanSample, ...]


def _rounded(obj):
    if isinstance(obj, dict):
        return {k: _rounded(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_rounded(v) for v in obj]
    if isinstance(obj, float):
        return float(f"{obj:.10g}") if math.isfinite(obj) else None  # NaN and inf are not JSON
    return obj


def derive_viability(model, results):
    """The ``viability`` stage: each declared scan's ``points`` at its ``seed``, one chunk, locally.

    Not available without a ``[scans.NAME]`` table or the stages a scan needs, with ``--charge``
    overrides (the declared ranges belong to the file's charges) or when the alignment is not a
    stationary point for generic parameters."""
    if not model.scans:
        return Unavailable("the model file declares no scan ranges ([scans.NAME])")
    if model.charge_overrides:
        return Unavailable("the charges were changed on the command line: the declared ranges belong to the file's")
    for stage in ("tadpoles", "mass_matrices", "flavor", "observables", "codegen"):
        if available(results, stage) is None:
            return Unavailable(f"the scans need the {stage} stage, which is not available")
    if not results["tadpoles"].stationary:
        return Unavailable("the alignment is not a stationary point for generic parameters")
    if not results["flavor"].leptons:
        return Unavailable("no leptons")
    derivation = _Derivation(model, results)
    samples = []
    for spec in model.scans:
        try:
            plan, evaluator = plan_and_evaluator(derivation, spec, spec.points, spec.seed, spec.points)
        except SpecError as exc:  # `symflav scan` reports it as an error; the report says it in one line
            return Unavailable(f"scans.{spec.name}: {exc.problem}")
        result = run_local(plan, evaluator, progress=False)
        mediator = evaluator.kernel.mediator
        keep = (mediator, "viable") + tuple(c for c in result.columns if c.startswith(("m_S", "m_P")))
        columns = {name: np.asarray(result.columns[name]) for name in keep if name in result.columns}
        samples.append(ScanSample(spec.name, mediator, evaluator.summary(result.columns), columns, spec.points,
                                  spec.seed))
    return ViabilityData(tuple(samples))


@dataclass(frozen=True)
class _Derivation:
    """The model and the results the stage was given (what :func:`build` reads)."""

    model: object
    results: Mapping

    def __getitem__(self, name):
        return self.results[name]


def figure_files(data: ViabilityData) -> dict[str, bytes]:
    """``figures/<scan>.{png,pdf}`` of every sample."""
    files = {}
    for sample in data.scans:
        viable = np.asarray(sample.columns["viable"], dtype=bool)
        files.update({f"figures/{sample.scan}.{fmt}": blob
                      for fmt, blob in plot(sample.columns, viable, sample.mediator).items()})
    return files
