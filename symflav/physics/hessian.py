"""Scalar mass matrices at the vacuum.

(M_S^2)_ij = f * d^2V/dsigma_i dsigma_j and (M_P^2)_ij = f * d^2V/dvarphi_i dvarphi_j at
sigma = varphi = 0, with f = ``model.conventions.mass_matrix_factor`` (1/2 is
the physical mass^2 for the unnormalized expansion phi = v + sigma + i varphi, whose kinetic
terms are (d sigma)^2 + (d varphi)^2). Basis: the model's scalar order.

Three stages of substitution are kept:

* ``M_S2``, ``M_P2``: generic vevs, every parameter free;
* ``M_S2_imposed``, ``M_P2_imposed``: relations and alignment imposed, mu^2 still free;
* ``M_S2_vacuum``, ``M_P2_vacuum``: the mu^2 eliminated with the tadpoles.

``M_SP2`` is the CP-even/CP-odd mixing block; it vanishes for real couplings and real vevs.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from symflav.core.model import Model
from symflav.physics.potential import RealPotential
from symflav.physics.vacuum import Tadpoles


@dataclass(frozen=True)
class MassMatrices:
    """Result of the ``mass_matrices`` stage (see module docstring)."""

    fields: tuple[str, ...]
    factor: sp.Rational
    sigma: tuple[sp.Symbol, ...]
    varphi: tuple[sp.Symbol, ...]
    M_S2: sp.Matrix
    M_P2: sp.Matrix
    M_SP2: sp.Matrix
    M_S2_imposed: sp.Matrix
    M_P2_imposed: sp.Matrix
    M_S2_vacuum: sp.Matrix
    M_P2_vacuum: sp.Matrix
    stationary: bool
    notes: tuple[str, ...]


    def to_json(self) -> dict:
        def matrix(M):
            return [[str(x) for x in M.row(i)] for i in range(M.rows)]

        return {
            "fields": list(self.fields),
            "convention": f"(M^2)_ij = {self.factor} * d^2V/dsigma_i dsigma_j (resp. varphi)",
            "M_S2": matrix(self.M_S2),
            "M_P2": matrix(self.M_P2),
            "M_SP2_is_zero": bool(self.M_SP2.is_zero_matrix),
            "M_S2_imposed": matrix(self.M_S2_imposed),
            "M_P2_imposed": matrix(self.M_P2_imposed),
            "M_S2_vacuum": matrix(self.M_S2_vacuum),
            "M_P2_vacuum": matrix(self.M_P2_vacuum),
            "stationary": self.stationary,
            "notes": list(self.notes),
        }


def second_derivatives(real: RealPotential, factor) -> tuple[sp.Matrix, sp.Matrix, sp.Matrix]:
    """factor * d^2V at sigma = varphi = 0: the (sigma, sigma), (varphi, varphi), (sigma, varphi) blocks.

    Read off the quadratic part of the (expanded) polynomial: the coefficient of x_i x_j is
    d^2V/dx_i dx_j for i != j and half of it for i == j.
    """
    comps = real.components
    poly = sp.Poly(real.expr, *comps)
    n = len(comps)
    quad = {}
    for monom, coefficient in poly.terms():
        if sum(monom) == 2:
            quad[monom] = coefficient

    def d2(i, j):
        monom = [0] * n
        monom[i] += 1
        monom[j] += 1
        c = quad.get(tuple(monom), sp.S.Zero)
        return sp.expand(factor * (2 * c if i == j else c))

    k = len(real.sigma)
    H = sp.Matrix(n, n, lambda i, j: d2(i, j))
    return H[:k, :k], H[k:, k:], H[:k, k:]


def mass_matrices(model: Model, real: RealPotential, tadpoles: Tadpoles) -> MassMatrices:
    """The ``mass_matrices`` stage."""
    factor = model.conventions.mass_matrix_factor
    M_S2, M_P2, M_SP2 = second_derivatives(real, factor)
    notes = []
    if M_SP2.is_zero_matrix is not True:
        notes.append("CP-even and CP-odd fluctuations mix at real vevs")

    def imposed(M, eliminate):
        return M.applyfunc(lambda e: sp.factor_terms(tadpoles.impose(e, eliminate)))

    if not tadpoles.stationary:
        notes.append("the alignment is not stationary for generic parameters (see tadpoles.constraints): "
                     "M_S2_vacuum and M_P2_vacuum are evaluated with the mu^2 that could be eliminated")
    return MassMatrices(
        fields=model.scalar_names,
        factor=factor,
        sigma=real.sigma,
        varphi=real.varphi,
        M_S2=M_S2,
        M_P2=M_P2,
        M_SP2=M_SP2,
        M_S2_imposed=imposed(M_S2, False),
        M_P2_imposed=imposed(M_P2, False),
        M_S2_vacuum=imposed(M_S2, True),
        M_P2_vacuum=imposed(M_P2, True),
        stationary=tadpoles.stationary,
        notes=tuple(notes),
    )
