"""Viability scan of the toy model (issue 7, item 3): random points of its free parameters.

The free parameters after the appendix-A relations -- the couplings, mu'_a and the free vevs
v_1, v_a (the tadpoles eliminate mu_1^2, mu_a^2), plus M_chi -- are sampled in the ranges of
the model file's ``[scans.viability]`` table. A coupling declared ``fixed_by = "m_mu"`` is not
sampled: every chain and closure of a lepton carries g_l^(n+1), so g_l is solved from
|m^FN + m^RAD| = m_l^exp and the point is kept only if g_l lies in the declared range.

Per point, vectorized over a chunk with the generated numeric module (no sympy on a worker):

* the relations and the alignment (small generated kernel, see :func:`build`);
* mu^2 from the generated ``tadpoles``: V is affine in every mu^2, so T(mu^2) = T_0 + sum_k
  mu_k^2 A_k with T_0, A_k from the module at mu = 0 and mu_k = 1 (least squares over the four
  tadpoles; the residual says whether the alignment is stationary);
* the mass matrices from the generated ``mass_matrices`` the same way, ``numpy.linalg.eigh``
  on the (N, 4, 4) stacks: every squared mass positive;
* the aligned vacuum the global minimum: the tadpoles stage's ``minimum_conditions`` (the
  nontrivial point is the global minimum of V restricted to the aligned subspace: V is a
  convex quadratic in the squared vevs and lies below the other stationary points). They do
  not cover directions out of the aligned subspace (phases, v_3 != -2 v_1); with positive
  squared masses the point is a local minimum of the full potential, and a subsample is
  confirmed by the numeric multi-start search of :mod:`symflav.numerics.minimizer` (agreement reported);
* Delta a_mu, Delta a_e in the flavon mass basis (the generated ``m_FN_l``,
  ``m_RAD_l_mass_basis``, ``delta_a_over_m_l_mass_basis`` with the sums DeltaI over the states,
  from the generated loop functions) within ``n_sigma`` of eqs. (1.1), (1.2);
* mu -> e gamma: zero in this model. The Z2 parities forbid every chain l_R -> l'_L of another
  flavor (the flavor stage searches them), so C_emu = C_mue = 0 and BR = 0 < 4.2e-13; the
  generated ``BR_ratio_from_C`` is evaluated at C = 0 to say so.

The evaluator carries only plain data (source texts, numbers), so it pickles for Dask.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field
from typing import Mapping

import numpy as np
import sympy as sp

from symflav.numerics import minimizer as numeric
from symflav.core.errors import SpecError

SCAN = "viability"
CONFIRM_STARTS = 12  # random starts of the numeric confirmation, besides the aligned vacuum
STATIONARY_TOLERANCE = 1e-7  # largest tadpole left after the mu^2 elimination, relative to its terms
LEPTON_DATA = {
    # lepton: (mass, Delta a central value, its 1 sigma): parameters of the model file
    "mu": ("m_mu", "Delta_a_mu_exp", "Delta_a_mu_sigma"),
    "e": ("m_e", "Delta_a_e_exp", "Delta_a_e_sigma"),
}


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
    leptons: tuple[tuple[str, str, str, str, str], ...]  # (lepton, coupling, mass, central, sigma)
    sums: tuple[tuple[str, str, int, int, int, int], ...]  # (name, kind, a, b, pseudoscalar sign, r)
    conditions: tuple[tuple[str, str], ...]  # (description, ">0" or "<=0")
    exponents: np.ndarray = field(compare=False)  # terms of V in (Re phi, Im phi)
    field_norm: float = 1.0
    lepton_flavor_violation: bool = False
    n_sigma: float = 2.0
    confirm: int = 16
    br_bound: float = 4.2e-13
    ranges_source: str = ""


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


def build(derivation, spec=None) -> Kernel:
    """The viability kernel of a derivation (needs the tadpoles, flavor, observables and codegen stages)."""
    from symflav.codegen.printer import print_expr

    model = derivation.model
    if spec is None:
        if not any(s.name == SCAN for s in model.scans):
            raise SpecError(model.path, f"scans.{SCAN}", "no such table: declare the ranges of the viability scan")
        spec = model.scan(SCAN)
    where = f"scans.{spec.name}.ranges"
    results = derivation.results
    for stage in ("tadpoles", "mass_matrices", "flavor", "observables", "codegen"):
        if stage not in results:
            raise ValueError(f"the viability scan needs the {stage} stage")
    tadpoles, obs, fl = results["tadpoles"], results["observables"], results["flavor"]
    if not tadpoles.stationary:
        raise SpecError(model.path, where, "the alignment is not a stationary point for generic parameters")
    names = model.symbols()
    relations = _resolved(model.relations)
    alignment = dict(tadpoles.alignment)
    eliminated = tuple(str(mu) for mu, _ in tadpoles.eliminated)
    squares = {names[mu]: sp.Symbol(f"{mu}_squared", real=True) for mu in eliminated}

    # which parameters are free: those of V (after relations and alignment), the free vevs,
    # the mediator masses and the chain couplings
    pot = results["potential"]
    fields = set(pot.phi) | set(pot.phibar)
    free = {s for s in pot.expr.xreplace(relations).free_symbols if s not in fields}
    free |= set(tadpoles.free_vevs)
    free |= {m.mass for m in model.mediators}
    free |= {sp.sympify(g) for _, g in model.yukawa.couplings} if model.yukawa else set()
    free -= set(names[mu] for mu in eliminated)
    declared = {r.parameter: r for r in spec.ranges}
    missing = sorted(str(s) for s in free if str(s) not in declared)
    if missing:
        raise SpecError(model.path, where, "no range for " + ", ".join(missing))
    extra = sorted(n for n in declared if names[n] not in free)
    if extra:
        raise SpecError(model.path, where, "not a free parameter of the aligned vacuum: " + ", ".join(extra))

    # leptons and the couplings solved from their masses
    couplings = dict(model.yukawa.couplings) if model.yukawa else {}
    formulas = obs.formulas
    leptons, fitted = [], []
    for s in fl.leptons:
        mass, central, sigma = LEPTON_DATA.get(s.lepton, (None, None, None))
        g = str(couplings[s.lepton])
        if mass is None:
            continue
        leptons.append((s.lepton, g, mass, central, sigma))
        r = declared.get(g)
        if r is not None and r.fixed_by:
            if r.fixed_by != mass:
                raise SpecError(model.path, f"{where}.{g}.fixed_by", f"{g} couples to {s.lepton}: fix it by {mass}")
            power = sp.Poly(formulas[f"m_FN_{s.lepton}"], names[g]).degree()
            for name in (f"m_RAD_{s.lepton}_mass_basis", f"delta_a_over_m_{s.lepton}_mass_basis"):
                poly = sp.Poly(sp.expand(formulas[name]), names[g])
                if set(m[0] for m in poly.monoms()) != {power}:
                    raise SpecError(model.path, f"{where}.{g}", "m and Delta a are not homogeneous in the coupling")
            fitted.append((g, s.lepton, mass, int(power), r.low, r.high))
    fitted_names = {f[0] for f in fitted}
    sampled = tuple((r.parameter, r.low, r.high, r.scale) for r in spec.ranges if r.parameter not in fitted_names)

    # V is affine in each eliminated mu^2 (after the relations): checked, not assumed
    V = pot.expr.xreplace(relations)
    for mu in eliminated:
        s = squares[names[mu]]
        Vs = sp.expand(V.xreplace({names[mu]: sp.sqrt(s)}))
        if Vs.has(names[mu]) or sp.expand(sp.diff(Vs, s, 2)) != 0:
            raise SpecError(model.path, where, f"V is not affine in {mu}^2")
    V = V.xreplace({mu: sp.sqrt(s) for mu, s in squares.items()})

    # the kernel source: relations and alignment, minimum conditions, coefficients of V
    lines = ['"""Viability kernel (generated by symflav; plain numpy)."""', "", "import numpy as np", "", ""]
    dependent = {**{k: v for k, v in relations.items()}, **alignment}
    args = sorted({str(s) for e in dependent.values() for s in sp.sympify(e).free_symbols})
    pnames = {names[a]: a for a in args}
    body = [f"out[{str(k)!r}] = {print_expr(sp.sympify(v), pnames)}" for k, v in dependent.items()]
    lines += _function("dependent", args, ["out = {}"] + body, "out")

    conditions = []
    cond_exprs = []
    for c in tadpoles.minimum_conditions:
        expr = sp.sympify(c.expr).xreplace(relations).xreplace({mu: sp.sqrt(s) for mu, s in squares.items()})
        conditions.append((c.description, c.relation))
        cond_exprs.append(sp.expand(expr) if expr.is_polynomial() else expr)
    args = sorted({str(s) for e in cond_exprs for s in e.free_symbols})
    pnames = {s: str(s) for e in cond_exprs for s in e.free_symbols}
    lines += _function("conditions", args, [], "(" + "".join(f"{print_expr(e, pnames)}, " for e in cond_exprs) + ")")

    x = sp.symbols(f"x0:{len(pot.phi)}", real=True)
    y = sp.symbols(f"y0:{len(pot.phi)}", real=True)
    complex_fields = {}
    for p_, pb, xi, yi in zip(pot.phi, pot.phibar, x, y):
        complex_fields[p_] = xi + sp.I * yi
        complex_fields[pb] = xi - sp.I * yi
    real = sp.expand(V.xreplace(complex_fields))
    if real.has(sp.I):
        real = sp.expand(sp.re(real))
    poly = sp.Poly(real, *x, *y)
    terms = poly.terms()
    exponents = np.array([t for t, _ in terms], dtype=int)
    coefficient_exprs = [sp.expand(c) for _, c in terms]
    args = sorted({str(s) for e in coefficient_exprs for s in e.free_symbols})
    pnames = {s: str(s) for e in coefficient_exprs for s in e.free_symbols}
    shape = f"np.broadcast({', '.join(args)}).shape" if args else "()"
    rows = [f"np.broadcast_to({print_expr(e, pnames)} + 0.0, shape)" for e in coefficient_exprs]
    lines += _function("potential_coefficients", args, [f"shape = {shape}"], "np.stack([" + ", ".join(rows) + "])")

    constants = tuple((p.name, float(p.default)) for p in model.parameters if p.default is not None)
    sums = tuple((s.name, s.kind, s.a, s.b, s.pseudoscalar_sign, s.r) for s in obs.mass_basis_sums)
    vevs = tuple(str(model.vacuum.vev(f)) for f in model.scalar_names)
    lfv = any(k for *_, k in fl.flavor_changing)
    bound = dict(constants).get("BR_mu_e_gamma_max", 4.2e-13)
    return Kernel(
        numeric_source=results["codegen"].source,
        kernel_source="\n".join(lines).rstrip() + "\n",
        fields=model.scalar_names, vevs=vevs, sampled=sampled, fitted=tuple(fitted), eliminated=eliminated,
        constants=constants, leptons=tuple(leptons), sums=sums, conditions=tuple(conditions),
        exponents=exponents, field_norm=float(numeric.field_normalization(model.conventions)),
        lepton_flavor_violation=lfv, n_sigma=spec.n_sigma, confirm=spec.confirm, br_bound=bound,
    )


# ------------------------------------------------------------------ evaluation (any process, numpy only)


def _load(source: str, name: str):
    from symflav.studies.calibbi2020.figures import load_numeric

    return load_numeric(source, name)


def loop_family(module, base: str, r: int):
    """F_r(x) of the closures from the generated loop functions (x = m/M).

    r = 0: I_m, I_da. r = 1 (one vev insertion on the mediator line inside the loop,
    :mod:`symflav.physics.loops`): J_1 = -d/dM [M I_m(m/M)] = -(I_m - x I_m') and
    D_1 = -M^2 d/dM [I_da(m/M)/M] = I_da + x I_da', with x I' = 2 x^2 dI/d(x^2) = 2 x^2 I_x
    (the mass-insertion functions I_m_x, I_da_x of the module)."""
    f, fx = getattr(module, base), getattr(module, base + "_x")
    if r == 0:
        return f
    if r == 1 and base == "I_m":
        return lambda x: -(f(x) - 2 * x * x * fx(x))
    if r == 1 and base == "I_da":
        return lambda x: f(x) + 2 * x * x * fx(x)
    raise ValueError(f"no generated form of the r = {r} family of {base}")


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
        M = params["M_chi"]
        with np.errstate(all="ignore"):
            xS = np.sqrt(np.where(positive[:, None], wS, 1.0)) / M[:, None]
            xP = np.sqrt(np.where(positive[:, None], wP, 1.0)) / M[:, None]
        loops = {}
        sums = {}
        for name, kind, a, b, sign, r in k.sums:
            base = "I_m" if kind == "m" else "I_da"
            if (base, r) not in loops:
                F = loop_family(num, base, r)
                loops[(base, r)] = (F(xS), F(xP))
            FS, FP = loops[(base, r)]
            sums[name] = np.einsum("nk,nk->n", US[:, a, :] * US[:, b, :], FS) + \
                sign * np.einsum("nk,nk->n", UP[:, a, :] * UP[:, b, :], FP)
        wanted = set(num.PARAMETERS)
        arguments = {name: value for name, value in {**params, **sums}.items() if name in wanted}
        fitted = {g: (lepton, mass, power, low, high) for g, lepton, mass, power, low, high in k.fitted}
        couplings_ok = np.ones(n, dtype=bool)
        anomalies_ok = np.ones(n, dtype=bool)
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
                out[g] = coupling
                couplings_ok &= (coupling >= low) & (coupling <= high)
                delta_a = m_exp * np.sign(total) * per_m * factor
                with np.errstate(all="ignore"):
                    c = np.abs(m_rad / total)
            else:
                delta_a = m_exp * np.sign(total) * per_m
                c = np.abs(m_rad) / m_exp
            out[f"delta_a_{lepton}"] = np.where(positive, delta_a, np.nan)
            out[f"c_{lepton}"] = np.where(positive, c, np.nan)
            window = np.abs(out[f"delta_a_{lepton}"] - params[central]) <= k.n_sigma * params[sigma]
            anomalies_ok &= window
        # mu -> e gamma: C_emu = C_mue = 0 without flavor-changing chains
        if k.lepton_flavor_violation:
            br = np.full(n, np.nan)
        else:
            zero = np.zeros(n)
            br = num.BR_ratio_from_C(absC_ll2=zero, absC_l2l=zero, alpha=params["alpha"], G_F=params["G_F"]) * \
                params.get("BR_mu_enunu", 1.0)
        out["BR_mu_e_gamma"] = br
        lfv_ok = br <= k.br_bound
        candidate = stationary & positive & analytic & couplings_ok & anomalies_ok & lfv_ok
        sample = np.zeros(n, dtype=bool)
        sample[np.flatnonzero(positive)[: k.confirm]] = True
        checked = sample | candidate
        numeric_global = self.confirm(params, vevs, checked)
        out.update({
            "stationary": stationary, "positive_masses": positive, "analytic_minimum": analytic,
            "couplings_in_range": couplings_ok, "anomalies_2sigma": anomalies_ok, "mu_e_gamma_ok": lfv_ok,
            "numeric_sample": sample, "numeric_checked": checked, "numeric_global": numeric_global,
        })
        out["viable"] = candidate & numeric_global
        return out

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


CRITERIA = ("stationary", "positive_masses", "analytic_minimum", "couplings_in_range", "anomalies_2sigma",
            "mu_e_gamma_ok")


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
    out["mu_e_gamma"] = ("no flavor-changing FN chain (Z2): C_emu = C_mue = 0, BR(mu -> e gamma) = 0"
                         if not kernel.lepton_flavor_violation else "flavor-changing chains: not evaluated")
    if viable.any():
        keep = [name for name, *_ in kernel.sampled] + [g for g, *_ in kernel.fitted] + \
            [c for c in columns if c.startswith(("m_S", "m_P", "delta_a_", "c_"))]
        out["viable_ranges"] = {name: [float(np.min(columns[name][viable])), float(np.max(columns[name][viable]))]
                                for name in keep if name in columns}
    return out


# ------------------------------------------------------------------ plan, evaluator, figure


def plan_and_evaluator(derivation, n_points: int, seed: int, chunk_size: int, grid: bool = False):
    """(ScanPlan, evaluator) of the declared viability scan; random points only."""
    from symflav.numerics.scan import Axis, ScanPlan

    if grid:
        raise SpecError("--grid", SCAN, "the viability scan samples random points only")
    kernel = build(derivation)
    axes = tuple(Axis(name, low, high, scale) for name, low, high, scale in kernel.sampled)
    return ScanPlan(axes, "random", n_points, seed, chunk_size), ViabilityEvaluator(kernel)


def plot(columns, viable, formats=("png", "pdf")) -> dict[str, bytes]:
    """Mediator and flavon masses of the viable points: M_chi (histogram, against every
    sampled point) and the CP-even and CP-odd masses against M_chi."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from symflav.studies.calibbi2020.figures import _save

    fig = Figure(figsize=(10, 4.2))  # no pyplot, fixed layout (as symflav.studies.calibbi2020.figures)
    FigureCanvasAgg(fig)
    axes = [fig.add_axes((x, 0.125, 0.4, 0.78)) for x in (0.07, 0.57)]
    M = np.asarray(columns["M_chi"])
    bins = np.geomspace(max(M.min(), 1e-9), M.max(), 25) if M.size else 10
    axes[0].hist(M / 1e3, bins=np.asarray(bins) / 1e3, color="0.8", label="all points")
    axes[0].hist(M[viable] / 1e3, bins=np.asarray(bins) / 1e3, color="C3", label="viable")
    axes[0].set_xscale("log")
    axes[0].set_yscale("log")
    _tev_ticks(axes[0], M / 1e3)
    axes[0].set_xlabel(r"$M_\chi$ [TeV]")
    axes[0].set_ylabel("points")
    axes[0].legend(fontsize=8)
    axes[0].set_title(r"mediator mass")
    for j in range(1, 5):
        for kind, marker in (("S", "o"), ("P", "x")):
            name = f"m_{kind}{j}"
            if name in columns:
                axes[1].scatter(M[viable] / 1e3, np.asarray(columns[name])[viable], s=8, marker=marker,
                                color=f"C{j - 1}", label=f"${kind}_{j}$", rasterized=True)
    axes[1].set_xscale("log")
    axes[1].set_yscale("log")
    _tev_ticks(axes[1], M[viable] / 1e3)
    axes[1].set_xlabel(r"$M_\chi$ [TeV]")
    axes[1].set_ylabel("flavon mass [GeV]")
    axes[1].set_title(r"flavon masses of the viable points ($S$: o, $P$: x)")
    axes[1].legend(fontsize=7, ncol=2)
    return {fmt: _save(fig, fmt) for fmt in formats}


def _tev_ticks(ax, values):
    """Plain tick labels (0.5, 1, 2 ...) on a log axis in TeV."""
    from matplotlib.ticker import FixedLocator, FormatStrFormatter, NullFormatter, NullLocator

    candidates = np.array([0.1, 0.2, 0.3, 0.5, 0.7, 1, 1.5, 2, 3, 5, 7, 10])
    if len(values):
        inside = candidates[(candidates >= np.min(values) * 0.95) & (candidates <= np.max(values) * 1.05)]
        if len(inside) >= 2:
            ax.xaxis.set_major_locator(FixedLocator(inside))
            ax.xaxis.set_major_formatter(FormatStrFormatter("%g"))
            ax.xaxis.set_minor_locator(NullLocator())
            ax.xaxis.set_minor_formatter(NullFormatter())


@dataclass(frozen=True)
class ViabilityData:
    """Result of the ``viability`` stage: the summary of a seeded sample, and the masses of its
    viable points (for the figure)."""

    summary: Mapping
    columns: Mapping[str, np.ndarray]
    points: int
    seed: int

    def to_json(self) -> dict:
        """The summary, floats to 10 significant digits (the same file on machines whose last
        bits of linear algebra differ)."""
        return _rounded({"scan": SCAN, "points": self.points, "seed": self.seed, **self.summary})


def _rounded(obj):
    if isinstance(obj, dict):
        return {k: _rounded(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_rounded(v) for v in obj]
    if isinstance(obj, float):
        return float(f"{obj:.10g}")
    return obj


def derive_viability(model, results) -> ViabilityData | None:
    """The ``viability`` stage: the declared scan's ``points`` at its ``seed``, one chunk, locally.

    None without a ``[scans.viability]`` table or the stages it needs, with ``--charge``
    overrides (the declared ranges belong to the file's charges) or when the alignment is not
    a stationary point for generic parameters."""
    if not any(s.name == SCAN for s in model.scans) or model.charge_overrides:
        return None
    if any(stage not in results for stage in ("tadpoles", "mass_matrices", "flavor", "observables", "codegen")):
        return None
    if not results["tadpoles"].stationary or not results["flavor"].leptons:
        return None
    from symflav.pipeline import Derivation
    from symflav.numerics.scan import run_local

    spec = model.scan(SCAN)
    plan, evaluator = plan_and_evaluator(Derivation(model, results, ()), spec.points, spec.seed, spec.points)
    result = run_local(plan, evaluator, progress=False)
    keep = ("M_chi", "viable") + tuple(f"m_{k}{j}" for k in "SP" for j in range(1, 5))
    columns = {name: np.asarray(result.columns[name]) for name in keep if name in result.columns}
    return ViabilityData(evaluator.summary(result.columns), columns, spec.points, spec.seed)


def figure_files(data: ViabilityData) -> dict[str, bytes]:
    viable = np.asarray(data.columns["viable"], dtype=bool)
    return {f"figures/viability.{fmt}": blob for fmt, blob in plot(data.columns, viable).items()}
