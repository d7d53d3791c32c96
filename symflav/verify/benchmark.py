"""A printed benchmark: the vacuum near it, and what an omitted invariant changes there.

:func:`minimum_near` re-minimizes the potential at a benchmark's couplings (the printed mu
included, the derivation's relations imposed, the couplings optionally rescaled to another
normalization) from the printed vevs: the vacuum that the printed inputs actually give.

An operator that the charges allow and the derivation drops (``[[drop]]`` of the model file,
status ``incomplete`` in ``check``) is switched on with a real coupling ``c`` in the
derivation's own normalization of its potential (``factor (c O + h.c.)`` for a non-hermitian
operator, ``c O`` for a hermitian one; ``factor`` = the conventions' ``nonhermitian_factor``).

The benchmark is the point that a printed point table names, on the route of ``check``: the
printed vevs, the derivation's relations and alignment imposed on the point's couplings, the
mu^2 eliminated with the tadpoles -- so at c = 0 the benchmark is an exact stationary point.
For each c the stationary point is re-solved from the benchmark with every coupling and mu^2
fixed (:mod:`symflav.numerics.deformation`: exact gradient and Hessian of the real potential in
all real components), and the masses are the exact eigenvalues of the mass matrices there (GeV),
labelled like the printed states (largest overlap with the leading-order eigenvectors; in
ascending order per CP block without a printed mixing matrix).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import numpy as np
import sympy as sp

from symflav.core import printer
from symflav.numerics import deformation
from symflav.physics import invariants
from symflav.physics import potential as potential_mod
from symflav.verify import providers as P
from symflav.verify.providers import Context, NotAvailable

VALUES = (-0.1, -0.01, 0.0, 0.01, 0.1)  # the coupling in its natural (dimensionless) normalization


@dataclass(frozen=True)
class OmittedTerm:
    """One omitted operator at one benchmark: the vacuum and the masses per coupling value."""

    operator: str
    operator_latex: str
    coupling: str
    coupling_latex: str
    normalization: str
    point: str
    vevs: tuple[str, ...]  # vev names
    vevs_latex: tuple[str, ...]
    labels: tuple[str, ...]  # mass labels (S1.., P1..)
    rows: tuple[dict, ...]  # per coupling value, see :meth:`to_json`
    first_order: tuple[float, ...]  # d v / d c at c = 0 (GeV), -H^{-1} dT/dc

    def to_json(self) -> dict:
        return {"operator": self.operator, "operator_latex": self.operator_latex, "coupling": self.coupling,
                "coupling_latex": self.coupling_latex, "normalization": self.normalization,
                "point": self.point, "vevs": list(self.vevs), "labels": list(self.labels),
                "first_order_dv_dc": dict(zip(self.vevs, (_round(v) for v in self.first_order))),
                "rows": [dict(r) for r in self.rows]}


def _round(value: float) -> float:
    return float(f"{float(value):.6g}")


def benchmark_values(ctx: Context, point: str, scale: Mapping | None = None) -> dict:
    """Symbol -> number at the benchmark: the point's values (the couplings in ``scale``
    multiplied by their factor), the vevs with the alignment imposed."""
    model = ctx.model
    values = {s: sp.nsimplify(v) * (scale or {}).get(s, 1) for s, v in P.point_values(ctx, point).items()}
    for _ in range(4):
        for lhs, rhs in model.vacuum.alignment:
            if rhs.free_symbols <= set(values):
                values[lhs] = rhs.xreplace(values)
    return values


def benchmark_potential(ctx: Context, point: str) -> tuple[sp.Expr, dict]:
    """The real potential at the benchmark as a polynomial in the real components (numbers
    for every coupling: relations imposed, mu^2 from the tadpoles) and the values used."""
    values = benchmark_values(ctx, point)
    expr = ctx.stage("tadpoles").impose(ctx.stage("real_potential").expr)
    missing = sorted(str(s) for s in expr.free_symbols - set(values) - _components(ctx))
    if missing:
        raise NotAvailable(f"the point {point} gives no value for {', '.join(missing)}")
    return sp.expand(expr.xreplace({k: sp.Float(v, 30) for k, v in values.items()})), values


def minimum_near(ctx: Context, point: str, scale: Mapping | None = None) -> dict:
    """The local minimum that a descent from the printed vevs reaches, at the point's couplings
    with the mu^2 as given (not from the tadpoles) and the relations imposed: vevs (GeV, real
    parts; the largest imaginary part), whether it converged and is a minimum, and the
    gradient at the printed vevs (GeV^3)."""
    real = ctx.stage("real_potential")
    values = benchmark_values(ctx, point, scale)
    expr = ctx.stage("tadpoles").impose(real.expr, eliminate=False)
    missing = sorted(str(s) for s in expr.free_symbols - set(values) - _components(ctx))
    if missing:
        raise NotAvailable(f"the point {point} gives no value for {', '.join(missing)}")
    v0 = sp.expand(expr.xreplace({k: sp.Float(v, 30) for k, v in values.items()}))
    variables = real.sigma + real.varphi
    poly = deformation.Polynomial.of(v0, sp.S.Zero, variables)
    found = deformation.local_minimum(poly, 0.0, factor=float(ctx.stage("potential").conventions.mass_matrix_factor))
    n = len(real.vevs)
    start = np.array([float(values[v]) for v in real.vevs])
    return {"vevs": dict(zip((str(v) for v in real.vevs), (float(v) for v in start + found.x[:n]))),
            "imaginary_parts_GeV": float(np.abs(found.x[n:]).max()), "converged": found.converged,
            "minimum": found.minimum, "V_minus_V_printed": found.value,
            "gradient_at_printed_vevs": float(np.linalg.norm(poly.gradient(np.zeros(2 * n), 0.0)))}


def _leading(ctx: Context) -> tuple:
    """The leading-order states of each CP block in the printed labels, or (None, None) without a
    printed mixing matrix (then the masses are in ascending order per block)."""
    if ctx.registry is None:
        return None, None
    try:
        return P._leading_columns(ctx, "spectrum.U_S"), P._leading_columns(ctx, "spectrum.U_P")
    except (NotAvailable, KeyError):
        return None, None


def _components(ctx: Context) -> set:
    real = ctx.stage("real_potential")
    return set(real.sigma) | set(real.varphi)


def _polynomial(pot, op, v0, subs, values, variables) -> deformation.Polynomial:
    """V0 + c V1 with V1 the operator's term in the potential's normalization (real c)."""
    term = potential_mod.monomial_expr(op.monomial, pot.phi, pot.phibar)
    if op.monomial.is_hermitian:
        body = term
    else:
        conj = potential_mod.monomial_expr(op.monomial.conjugate(), pot.phi, pot.phibar)
        body = pot.conventions.nonhermitian_factor * (term + conj)
    v1 = sp.expand(body.xreplace(subs).xreplace({k: sp.Float(v, 30) for k, v in values.items()}))
    return deformation.Polynomial.of(v0, v1, variables)


def deformed_potentials(ctx: Context, point: str) -> list[tuple]:
    """(operator, :class:`deformation.Polynomial` V0 + c V1 in the real components) for every
    dropped operator at the benchmark of ``point`` (what :func:`omitted_terms` follows)."""
    dropped = [op for op in ctx.stage("operators").operators if op.status == "dropped"]
    if not dropped:
        return []
    pot, real = ctx.stage("potential"), ctx.stage("real_potential")
    v0, values = benchmark_potential(ctx, point)
    subs = potential_mod.field_expansion(pot, real.vevs, real.sigma, real.varphi)
    return [(op, _polynomial(pot, op, v0, subs, values, real.sigma + real.varphi)) for op in dropped]


def omitted_terms(ctx: Context, point: str, couplings=VALUES) -> list[OmittedTerm]:
    """Every dropped operator of the derivation switched on at ``point`` (see the module)."""
    model = ctx.model
    if model.vacuum is None:
        raise NotAvailable("the model declares no vacuum")
    table = ctx.stage("operators")
    dropped = [op for op in table.operators if op.status == "dropped"]
    if not dropped:
        return []
    pot, real = ctx.stage("potential"), ctx.stage("real_potential")
    v0, values = benchmark_potential(ctx, point)
    variables = real.sigma + real.varphi
    subs = potential_mod.field_expansion(pot, real.vevs, real.sigma, real.varphi)
    factor = float(pot.conventions.mass_matrix_factor)
    taken = {p.name for p in table.parameters} | set(model.scalar_names)
    latex_names = [s.latex for s in model.scalars]
    return [_one(ctx, op, point, values, v0, subs, variables, factor, taken, latex_names, couplings) for op in dropped]


def _one(ctx, op, point, values, v0, subs, variables, factor, taken, latex_names, couplings) -> OmittedTerm:
    model, pot, real = ctx.model, ctx.stage("potential"), ctx.stage("real_potential")
    normalization = "c O" if op.monomial.is_hermitian else \
        f"{pot.conventions.nonhermitian_factor} (c O + h.c.), c real"
    poly = _polynomial(pot, op, v0, subs, values, variables)
    found = deformation.follow(poly, couplings, factor=factor)
    n = len(real.vevs)
    vev_values = np.array([float(values[v]) for v in real.vevs])
    columns = _leading(ctx)
    labels = tuple(f"S{i + 1}" for i in range(n)) + tuple(f"P{i + 1}" for i in range(n))
    rows = []
    for s in found:
        masses = []
        for block, lead in zip((slice(0, n), slice(n, 2 * n)), columns):
            w, U = np.linalg.eigh(factor * poly.hessian(s.x, s.coupling)[block, block])
            if lead is not None:
                w = w[list(P._assign(lead, U)[0])]
            masses.extend(float(np.sign(m) * np.sqrt(abs(m))) for m in w)
        phases = round(float(np.abs(s.x[n:]).max()), 6)  # GeV; below 1e-6 it is the solver's noise
        rows.append({"coupling": s.coupling, "vevs": [_round(v) for v in vev_values + s.x[:n]],
                     "imaginary_parts_GeV": _round(phases), "masses": [_round(m) for m in masses],
                     "converged": s.converged, "minimum": s.minimum,
                     "branch_end": s.branch_end,
                     "V_minus_V_benchmark": _round(s.value)})
    param = invariants._generated_parameter(model, op.monomial, taken)
    return OmittedTerm(op.text, printer.operator(op.monomial, latex_names), param.name, param.latex,
                       normalization, point, tuple(str(v) for v in real.vevs),
                       tuple(printer.latex(v) for v in real.vevs), labels, tuple(rows),
                       tuple(float(d) for d in deformation.first_order_shift(poly)[:n]))
