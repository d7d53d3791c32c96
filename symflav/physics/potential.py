"""The scalar potential from the operator table and the conventions.

V is built in holomorphic form, as a polynomial in independent symbols phi_i and
phibar_i (= phi_i^dagger):

    V = sum_{hermitian O}  s_O c_O O  +  sum_{non-hermitian O} kappa (s_O c_O O + c_O^* O^dagger),

with s_O = ``quadratic_sign`` for degree-2 operators (-1: V contains -mu^2 phi^dagger phi)
and 1 otherwise, and kappa = ``nonhermitian_factor``.

:func:`expand_real` substitutes the field expansion around the vacuum,
phi_i = v_i + sigma_i + i varphi_i ("unnormalized") or
phi_i = (v_i + sigma_i + i varphi_i)/sqrt 2 ("canonical"), giving a real polynomial.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from symflav.core import symbols
from symflav.physics.invariants import Operator, OperatorTable
from symflav.core.model import Conventions, Monomial


@dataclass(frozen=True)
class Potential:
    """V(phi, phi^dagger) with the contribution of every operator kept apart."""

    fields: tuple[str, ...]
    labels: tuple[str, ...]
    phi: tuple[sp.Symbol, ...]
    phibar: tuple[sp.Symbol, ...]
    contributions: tuple[tuple[Operator, sp.Expr], ...]
    conventions: Conventions

    @property
    def expr(self) -> sp.Expr:
        return sp.Add(*(c for _, c in self.contributions))

    def to_json(self) -> dict:
        return {
            "fields": list(self.fields),
            "conventions": self.conventions.as_dict(),
            "convention_statement": self.conventions.describe(),
            "variables": {
                "phi": [str(s) for s in self.phi],
                "phi_dagger": [str(s) for s in self.phibar],
            },
            "terms": [
                {"operator": op.text, "coupling": op.coupling, "contribution": str(expr)}
                for op, expr in self.contributions
            ],
            "V": str(self.expr),
        }


@dataclass(frozen=True)
class RealPotential:
    """V in real components around the vevs (all real symbols)."""

    expr: sp.Expr
    vevs: tuple[sp.Symbol, ...]
    sigma: tuple[sp.Symbol, ...]
    varphi: tuple[sp.Symbol, ...]
    field_expansion: str

    @property
    def components(self) -> tuple[sp.Symbol, ...]:
        return self.sigma + self.varphi

    def to_json(self) -> dict:
        return {
            "field_expansion": self.field_expansion,
            "vevs": [str(v) for v in self.vevs],
            "sigma": [str(s) for s in self.sigma],
            "varphi": [str(s) for s in self.varphi],
            "V": str(self.expr),
        }


def monomial_expr(monomial: Monomial, phi, phibar) -> sp.Expr:
    """The monomial as a product of the holomorphic symbols."""
    expr = sp.S.One
    for (n, m), p, pb in zip(monomial.powers, phi, phibar):
        expr *= p**n * pb**m
    return expr


def build_potential(table: OperatorTable, conventions: Conventions | None = None) -> Potential:
    """V from every operator in the potential (named, generated, explicit breaking)."""
    model = table.model
    conventions = conventions or model.conventions
    pairs = [symbols.holomorphic(s.label, s.latex) for s in model.scalars]
    phi = tuple(p for p, _ in pairs)
    phibar = tuple(pb for _, pb in pairs)
    contributions = []
    for op in table.in_potential:
        sign = conventions.quadratic_sign if op.monomial.degree == 2 else 1
        coefficient = sign * op.coefficient
        term = monomial_expr(op.monomial, phi, phibar)
        if op.monomial.is_hermitian:
            expr = coefficient * term
        else:
            conj = monomial_expr(op.monomial.conjugate(), phi, phibar)
            expr = conventions.nonhermitian_factor * (coefficient * term + sp.conjugate(coefficient) * conj)
        contributions.append((op, expr))
    return Potential(
        fields=model.scalar_names,
        labels=tuple(s.label for s in model.scalars),
        phi=phi,
        phibar=phibar,
        contributions=tuple(contributions),
        conventions=conventions,
    )


def field_expansion(potential: Potential, vevs, sigma, varphi) -> dict[sp.Symbol, sp.Expr]:
    """Substitution phi_i, phibar_i -> real components, per the declared expansion."""
    norm = sp.S.One if potential.conventions.field_expansion == "unnormalized" else 1 / sp.sqrt(2)
    subs = {}
    for p, pb, v, s, f in zip(potential.phi, potential.phibar, vevs, sigma, varphi):
        subs[p] = norm * (v + s + sp.I * f)
        subs[pb] = norm * (v + s - sp.I * f)
    return subs


def expand_real(potential: Potential, vevs) -> RealPotential:
    """V(v + sigma + i varphi) expanded into a real polynomial (the model's field expansion)."""
    sigma = tuple(symbols.sigma(label) for label in potential.labels)
    varphi = tuple(symbols.varphi(label) for label in potential.labels)
    subs = field_expansion(potential, vevs, sigma, varphi)
    expr = sp.expand(potential.expr.xreplace(subs))
    if expr.has(sp.I):
        raise ValueError("potential is not real after expansion; check the couplings' reality")
    return RealPotential(expr, tuple(vevs), sigma, varphi, potential.conventions.field_expansion)
