"""Derived objects under a declared convention variant, without re-running the slow stages.

A variant (model.toml ``[conventions.variants]``) changes the potential only through the
coefficient of each operator -- the sign of the mu^2 terms, the factor of the non-hermitian
terms -- and through the field normalization and the mass-matrix factor. So, exactly,

    V_var(phi; p) = V(phi; K p),   V_var(v, sigma, varphi; p) = V(rho v, rho sigma, rho varphi; K p),

with K a rescaling of the couplings (read off the two potentials, operator by operator) and
rho = norm_var/norm the ratio of the field normalizations (phi = v + sigma + i varphi or (...)/sqrt 2).
It follows, with f the mass-matrix factor:

* tadpoles, all parameters free: ``T_var(v; p) = rho T(rho v; K p)``;
* mass matrices: ``M_var = (f_var/f) rho^2 M(rho v; K p)``, and so the perturbative masses
  (the same factor) and mixing matrices (no factor; epsilon = v_1/v_a is unchanged);
* stationary points: ``v_var^2 = v^2(K p)/rho^2``, ``V_var = V(K p)``;
* objects that see the conventions only through the couplings (the flavor closures
  c_ij = d^2V/dphibar dphibar at the vevs, and the observables built on them): ``D(K p)``.

Objects at the vacuum carry the derivation's relations. They follow the law
only when K commutes with the relations and rho with the alignment; a variant under which
the alignment is not a stationary point for generic parameters has no vacuum to compare
(it is reported as not applicable); otherwise the variant's stages are re-run. The laws are
checked against a full re-derivation in ``tests/verify/test_variants.py``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import sympy as sp

from symflav.core.stages import Derivation
from symflav.physics import potential
from symflav.core.model import Model

KINDS = ("couplings", "closure", "tadpole", "mass2", "mixing", "points")
VACUUM_KINDS = ("mass2", "mixing", "points")


@dataclass(frozen=True)
class Law:
    """How derived objects map from the derivation's conventions to variant ``name``."""

    name: str
    couplings: tuple[tuple[sp.Symbol, sp.Expr], ...]  # K: symbol -> image
    rho: sp.Expr
    matrix_factor: sp.Expr  # (f_var/f) rho^2
    vevs: tuple[sp.Symbol, ...]
    commutes: bool  # K with the relations, rho with the alignment
    stationary: bool  # the alignment is stationary for generic parameters under the variant
    reason: str = ""  # why vacuum objects are not mapped (empty when they are)

    def substitution(self, with_vevs: bool = True) -> dict:
        table = dict(self.couplings)
        if with_vevs and self.rho != 1:
            table.update({v: self.rho * v for v in self.vevs})
        return table

    def apply(self, kind: str, value):
        """The object of the given kind under the variant (see the module docstring)."""
        if kind == "couplings":
            return _map(value, self.substitution(with_vevs=False))
        if kind == "closure":  # a coefficient of phi^dagger phi-type closures: two field normalizations
            return _map(value, self.substitution(with_vevs=False), self.rho**2)
        table = self.substitution()
        if kind == "tadpole":
            return _map(value, table, self.rho)
        if kind == "mass2":
            return _map(value, table, self.matrix_factor)
        if kind == "mixing":
            return _map(value, table)
        if kind == "points":  # rows (v_1^2, v_a^2, ..., V): squared vevs scale by 1/rho^2
            K = self.substitution(with_vevs=False)
            value = _map(value, K)
            if self.rho == 1:
                return value
            out = value.copy()
            for i in range(out.rows):
                for j in range(out.cols - 1):
                    out[i, j] = out[i, j] / self.rho**2
            return out
        raise ValueError(f"unknown kind {kind!r}")


def _map(value, table, factor=sp.S.One):
    if isinstance(value, sp.MatrixBase):
        return value.applyfunc(lambda e: factor * sp.sympify(e).xreplace(table))
    return factor * sp.sympify(value).xreplace(table)


def coupling_rescaling(base: potential.Potential, variant: potential.Potential) -> dict | None:
    """K with V_variant(phi; p) = V(phi; K p), operator by operator; None if there is none."""
    K: dict[sp.Symbol, sp.Expr] = {}
    for (op, c0), (op1, c1) in zip(base.contributions, variant.contributions):
        if op.monomial != op1.monomial:
            return None
        if c0 == c1:
            continue
        ratio = sp.cancel(c1 / c0)
        if not ratio.is_number:
            return None
        coefficient = sp.sympify(op.coefficient)
        if coefficient.is_Symbol:
            image = ratio * coefficient
            symbol = coefficient
        elif coefficient.is_Pow and coefficient.exp == 2 and coefficient.base.is_Symbol:
            symbol = coefficient.base
            image = sp.sqrt(ratio) * symbol
        else:
            return None
        if K.get(symbol, image) != image:
            return None
        K[symbol] = image
    return K


def _norm(pot: potential.Potential) -> sp.Expr:
    v = sp.Symbol("v_probe")
    subs = potential.field_expansion(pot, [v] * len(pot.phi), [0] * len(pot.phi), [0] * len(pot.phi))
    return sp.cancel(subs[pot.phi[0]] / v)


def _commutes(model: Model, K: dict, rho) -> bool:
    relations = model.relation_map()

    def impose(e):
        for _ in range(4):
            new = e.xreplace(relations)
            if new == e:
                break
            e = new
        return sp.expand(e)

    for dependent, rhs in relations.items():
        lhs = impose(sp.sympify(K.get(dependent, dependent)))
        if sp.expand(lhs - impose(rhs.xreplace(K))) != 0:
            return False
    if model.vacuum is not None and rho != 1:
        for v, rhs in model.vacuum.alignment:
            scaled = {w: rho * w for _, w in model.vacuum.vevs}
            if sp.expand(rhs.xreplace(scaled) - rho * rhs) != 0:
                return False
    return True


def _stationary(model: Model, tadpoles, law_table: dict, rho, seed: int = 7) -> bool:
    """Whether the variant's imposed tadpoles can be solved for the mass parameters at a
    generic (random rational) point: the law for the general tadpoles, then the relations."""
    relations = model.relation_map()
    alignment = dict(model.vacuum.alignment) if model.vacuum else {}
    masses = [mu for mu in tadpoles.mass_parameters]
    squares = {mu: sp.Dummy(f"{mu.name}_sq") for mu in masses}
    rows = []
    for t in tadpoles.general:
        e = rho * sp.sympify(t).xreplace(law_table)
        for _ in range(4):
            e = e.xreplace(relations)
        e = sp.expand(e.xreplace(alignment))
        rows.append(e.xreplace({mu**2: s for mu, s in squares.items()}))
    free = sorted(set().union(*(r.free_symbols for r in rows)) - set(squares.values()), key=str)
    rng = random.Random(seed)
    point = {s: sp.Rational(rng.randint(11, 97), rng.randint(13, 61)) for s in free}
    equations = [sp.expand(r.xreplace(point)) for r in rows]
    unknowns = [s for s in squares.values() if any(eq.has(s) for eq in equations)]
    if not unknowns:
        return all(eq == 0 for eq in equations)
    return sp.linsolve(equations, *unknowns) != sp.S.EmptySet


def law(derivation: Derivation, name: str, conventions) -> Law | None:
    """The law of variant ``name`` (its Conventions), or None when the potential of the
    variant is not the derivation's with rescaled couplings."""
    model = derivation.model
    base_pot = derivation.results.get("potential")
    table = derivation.results.get("operators")
    if base_pot is None or table is None:
        return None
    variant_pot = potential.build_potential(table, conventions)
    K = coupling_rescaling(base_pot, variant_pot)
    if K is None:
        return None
    rho = sp.nsimplify(_norm(variant_pot) / _norm(base_pot))
    factor = sp.nsimplify(conventions.mass_matrix_factor / model.conventions.mass_matrix_factor) * rho**2
    vevs = tuple(v for _, v in model.vacuum.vevs) if model.vacuum else ()
    commutes = _commutes(model, K, rho)
    stationary, reason = True, ""
    tadpoles = derivation.results.get("tadpoles")
    if tadpoles is not None and not commutes:  # a commuting law maps the stationary vacuum onto one
        table_k = dict(K)
        table_k.update({v: rho * v for v in vevs})
        stationary = _stationary(model, tadpoles, table_k, rho)
        if not stationary:
            reason = (f"under variant {name} the derivation's relations and alignment are not a stationary "
                      "point for generic parameters: there is no vacuum to compare")
        else:
            reason = f"variant {name} does not commute with the derivation's relations: re-derived"
    return Law(name, tuple(sorted(K.items(), key=lambda kv: kv[0].name)), rho, factor, vevs,
               commutes, stationary, reason)
