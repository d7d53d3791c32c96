"""Tadpoles, elimination of the mass parameters, stationary points.

Conventions (from ``model.conventions``): the tadpoles are
``T_i = dV/dsigma_i`` at sigma = varphi = 0 (no factor 1/2), with the field
expansion of :func:`symflav.physics.potential.expand_real`.

Steps, each kept in the result:

* ``general``: T_i with every parameter free and generic vevs;
* ``imposed``: T_i with the derivation's relations and vacuum alignment substituted;
* ``conditions``: the independent brackets of the imposed tadpoles (each T_i is a
  product of powers of the free vevs, which are nonzero at the vacuum, and a bracket;
  equal brackets are merged);
* ``eliminated``: the brackets are linear in the squared masses mu^2 of the hermitian
  quadratic operators; they are solved for the free ones (those not fixed by a relation)
  in favour of the vevs. Conditions left over after the elimination are ``constraints``:
  if any is not identically zero, the alignment is not a stationary point for generic
  parameters (an overdetermined system) and the result says so;
* ``stationary_points``: in the aligned subspace, every choice of free vevs that vanish;
  where the brackets are linear in the squared vevs the point and its potential value are
  solved in closed form;
* ``minimum_conditions``: when V restricted to the aligned subspace is a quadratic form in
  the squared vevs, the conditions under which the point with all free vevs nonzero is the
  global minimum *of that subspace* (positive squared vevs, positive-definite form). The
  full field space is checked numerically (:mod:`symflav.numerics.minimizer`).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import sympy as sp
from sympy.polys.matrices import DomainMatrix

from symflav.core.model import Model
from symflav.physics.potential import RealPotential


@dataclass(frozen=True)
class Condition:
    """One independent tadpole bracket; ``tadpoles`` are the indices of the T_i it stands for,
    ``factors`` the vev factor each T_i carries (T_i = factor * bracket)."""

    bracket: sp.Expr
    tadpoles: tuple[int, ...]
    factors: tuple[sp.Expr, ...]


@dataclass(frozen=True)
class StationaryPoint:
    """A closed-form stationary point of the aligned potential.

    ``nonzero``: the free vevs that do not vanish; ``squares``: (v, v**2 value) for them;
    ``value``: V at the point (mass parameters free).
    """

    name: str
    nonzero: tuple[sp.Symbol, ...]
    squares: tuple[tuple[sp.Symbol, sp.Expr], ...]
    value: sp.Expr


@dataclass(frozen=True)
class MinimumCondition:
    """``expr`` must be positive (``relation == ">0"``) or not positive (``"<=0"``)."""

    description: str
    expr: sp.Expr
    relation: str = ">0"


@dataclass(frozen=True)
class Tadpoles:
    """Result of the ``tadpoles`` stage (see module docstring)."""

    fields: tuple[str, ...]
    vevs: tuple[sp.Symbol, ...]
    free_vevs: tuple[sp.Symbol, ...]
    general: tuple[sp.Expr, ...]
    cp_odd: tuple[sp.Expr, ...]
    relations: tuple[tuple[sp.Symbol, sp.Expr], ...]
    alignment: tuple[tuple[sp.Symbol, sp.Expr], ...]
    imposed: tuple[sp.Expr, ...]
    conditions: tuple[Condition, ...]
    mass_parameters: tuple[sp.Symbol, ...]
    eliminated: tuple[tuple[sp.Symbol, sp.Expr], ...]
    constraints: tuple[sp.Expr, ...]
    potential_at_vacuum: sp.Expr
    stationary_points: tuple[StationaryPoint, ...]
    minimum_conditions: tuple[MinimumCondition, ...]
    notes: tuple[str, ...]

    @property
    def stationary(self) -> bool:
        """True when the alignment solves every tadpole once the mu^2 are eliminated."""
        return not self.constraints

    def elimination_map(self) -> dict[sp.Symbol, sp.Expr]:
        """mu -> sqrt(mu^2 expression): substitute with ``xreplace`` (mu appears as mu**2)."""
        return {mu: sp.sqrt(expr) for mu, expr in self.eliminated}

    def to_json(self) -> dict:
        return {
            "fields": list(self.fields),
            "convention": "T_i = dV/dsigma_i at sigma = varphi = 0 (no factor 1/2)",
            "vevs": [str(v) for v in self.vevs],
            "free_vevs": [str(v) for v in self.free_vevs],
            "general": [str(t) for t in self.general],
            "cp_odd": [str(t) for t in self.cp_odd],
            "relations": {str(k): str(v) for k, v in self.relations},
            "alignment": {str(k): str(v) for k, v in self.alignment},
            "imposed": [str(t) for t in self.imposed],
            "conditions": [
                {"bracket": str(c.bracket), "tadpoles": [self.fields[i] for i in c.tadpoles],
                 "factors": [str(f) for f in c.factors]}
                for c in self.conditions
            ],
            "mass_parameters": [str(m) for m in self.mass_parameters],
            "eliminated": {f"{mu}**2": str(e) for mu, e in self.eliminated},
            "stationary": self.stationary,
            "constraints": [str(c) for c in self.constraints],
            "potential_at_vacuum": str(self.potential_at_vacuum),
            "stationary_points": [
                {"name": p.name, "nonzero": [str(v) for v in p.nonzero],
                 "squares": {f"{v}**2": str(X) for v, X in p.squares}, "V": str(p.value)}
                for p in self.stationary_points
            ],
            "minimum_conditions": [
                {"description": c.description, "expr": str(c.expr), "relation": c.relation}
                for c in self.minimum_conditions
            ],
            "notes": list(self.notes),
        }

    def impose(self, expr: sp.Expr, eliminate: bool = True) -> sp.Expr:
        """Relations, alignment and (optionally) the eliminated mu^2 substituted into ``expr``."""
        expr = sp.expand(expr.xreplace(dict(self.relations)).xreplace(dict(self.alignment)))
        if eliminate:
            expr = sp.expand(expr.xreplace(self.elimination_map()))
        return expr


# ------------------------------------------------------------------ helpers


def mass_parameters(model: Model, table) -> tuple[sp.Symbol, ...]:
    """Symbols mu of the hermitian quadratic operators (coefficient mu**2), not fixed by a relation."""
    related = {sym for sym, _ in model.relations}
    found = []
    for op in table.in_potential:
        if op.monomial.degree != 2 or not op.monomial.is_hermitian:
            continue
        coefficient = op.coefficient
        if isinstance(coefficient, sp.Pow) and coefficient.exp == 2 and coefficient.base.is_Symbol:
            mu = coefficient.base
            if mu not in related and mu not in found:
                found.append(mu)
    return tuple(found)


def split_vev_factor(expr: sp.Expr, vevs) -> tuple[sp.Expr, sp.Expr]:
    """``expr = factor * bracket`` with ``factor`` a number times powers of ``vevs``."""
    expr = sp.expand(expr)
    if expr == 0:
        return sp.S.Zero, sp.S.Zero
    content, factors = sp.factor_list(expr)
    factor, bracket = sp.S(content), sp.S.One
    for base, power in factors:
        if base in vevs:
            factor *= base**power
        else:
            bracket *= sp.expand(base) ** power
    bracket = sp.expand(bracket)
    # A fixed sign convention for the bracket: minus the coefficient of its mass terms if any.
    if bracket.could_extract_minus_sign():
        bracket, factor = sp.expand(-bracket), -factor
    return factor, bracket


def _same_up_to_number(a: sp.Expr, b: sp.Expr) -> bool:
    ratio = sp.cancel(a / b)
    return ratio.is_number


def independent_conditions(tadpoles, vevs) -> tuple[Condition, ...]:
    """Merge tadpoles whose brackets agree up to a number; drop identically zero ones."""
    groups: list[tuple[sp.Expr, list[int], list[sp.Expr]]] = []
    for i, t in enumerate(tadpoles):
        factor, bracket = split_vev_factor(t, vevs)
        if bracket == 0:
            continue
        for g in groups:
            if _same_up_to_number(g[0], bracket):
                ratio = sp.cancel(bracket / g[0])
                g[1].append(i)
                g[2].append(sp.expand(factor * ratio))
                break
        else:
            groups.append((bracket, [i], [factor]))
    return tuple(Condition(b, tuple(idx), tuple(f)) for b, idx, f in groups)


def eliminate(conditions, unknowns) -> tuple[tuple[tuple[sp.Symbol, sp.Expr], ...], tuple[sp.Expr, ...], tuple[str, ...]]:
    """Solve the brackets (linear in the mu^2 of ``unknowns``) for as many mu^2 as possible.

    Returns ``((mu, mu^2 expr), ...)``, the left-over constraints (not identically zero),
    and notes.
    """
    squares = {mu: sp.Dummy(f"{mu.name}_sq") for mu in unknowns}
    rows = [sp.expand(c.bracket).xreplace({mu**2: s for mu, s in squares.items()}) for c in conditions]
    notes = []
    for row in rows:
        if any(row.has(mu) for mu in unknowns):
            raise ValueError("tadpole bracket is not linear in the squared mass parameters")
    solved: dict[sp.Symbol, sp.Expr] = {}
    used: set[int] = set()
    for mu in unknowns:
        s = squares[mu]
        for k, row in enumerate(rows):
            if k in used:
                continue
            row = sp.expand(row.xreplace(solved))
            coefficient = row.coeff(s)
            if coefficient == 0:
                continue
            solution = sp.expand(sp.cancel(-(row - coefficient * s) / coefficient))
            used.add(k)
            solved = {key: sp.expand(val.xreplace({s: solution})) for key, val in solved.items()}
            solved[s] = solution
            break
        else:
            notes.append(f"{mu} is not fixed by the tadpoles; it stays free")
    constraints = []
    for k, row in enumerate(rows):
        if k in used:
            continue
        residual = sp.factor(sp.expand(row.xreplace(solved)))
        if residual != 0:
            constraints.append(residual)
    eliminated = tuple((mu, solved[squares[mu]]) for mu in unknowns if squares[mu] in solved)
    back = {s: mu**2 for mu, s in squares.items()}
    constraints = tuple(c.xreplace(back) for c in constraints)
    eliminated = tuple((mu, e.xreplace(back)) for mu, e in eliminated)
    return eliminated, constraints, tuple(notes)


def _even_in(expr: sp.Expr, vevs) -> bool:
    poly = sp.Poly(expr, *vevs)
    return all(all(k % 2 == 0 for k in monom) for monom in poly.monoms())


def _to_squares(expr: sp.Expr, vevs, squares) -> sp.Expr:
    poly = sp.Poly(sp.expand(expr), *vevs)
    out = sp.S.Zero
    for monom, coefficient in poly.terms():
        term = coefficient
        for k, X in zip(monom, squares):
            term *= X ** (k // 2)
        out += term
    return sp.expand(out)


def _quadratic_form(VX, squares):
    """V = V0 + c.X + X^T Q X (Q symmetric) when V is quadratic in the squared vevs X, else None."""
    poly = sp.Poly(VX, *squares)
    if poly.total_degree() > 2:
        return None
    zero = {X: 0 for X in squares}
    V0 = VX.xreplace(zero)
    c = sp.Matrix([sp.diff(VX, X).xreplace(zero) for X in squares])
    Q = sp.hessian(VX, squares) / 2
    return V0, c, Q


def stationary_points(conditions, free_vevs, potential0) -> tuple[tuple[StationaryPoint, ...], tuple[str, ...]]:
    """Closed-form stationary points of the aligned potential, one per set of vanishing vevs.

    The squared vevs solve the tadpole brackets (linear in them); V there is V0 + c.X/2 for
    V = V0 + c.X + X^T Q X (true at any point where dV/dX = 0).
    """
    points, notes = [], []
    order = sorted(
        (subset for r in range(len(free_vevs) + 1) for subset in itertools.combinations(free_vevs, r)),
        key=len,
    )
    for index, nonzero in enumerate(order):
        zero = {v: 0 for v in free_vevs if v not in nonzero}
        brackets: list[sp.Expr] = []
        for c in conditions:
            if all(sp.expand(f.xreplace(zero)) == 0 for f in c.factors):
                continue  # every tadpole of this condition vanishes with its vev
            b = sp.expand(c.bracket.xreplace(zero))
            if b != 0 and not any(_same_up_to_number(b, other) for other in brackets):
                brackets.append(b)
        V0 = sp.expand(potential0.xreplace(zero))
        squares = tuple(sp.Symbol(f"X_{v.name}") for v in nonzero)
        label = "V_" + str(index)
        if not nonzero:
            points.append(StationaryPoint(label, (), (), V0))
            continue
        if not all(_even_in(b, nonzero) for b in brackets) or not _even_in(V0, nonzero):
            notes.append(f"{label}: brackets are not functions of the squared vevs; no closed form")
            continue
        equations = [_to_squares(b, nonzero, squares) for b in brackets]
        form = _quadratic_form(_to_squares(V0, nonzero, squares), squares)
        if form is None or any(sp.Poly(e, *squares).total_degree() > 1 for e in equations):
            notes.append(f"{label}: not quadratic in the squared vevs; no closed form")
            continue
        solution = sp.linsolve(equations, *squares)
        if solution is sp.S.EmptySet or len(solution) != 1:
            notes.append(f"{label} ({', '.join(map(str, nonzero))} nonzero): no unique solution")
            continue
        (values,) = tuple(solution)
        if any(val.free_symbols & set(squares) for val in values):
            notes.append(f"{label}: a family of stationary points (not isolated); skipped")
            continue
        const, c, _ = form
        K = _field(list(values) + [const, *c])
        exact = [K.from_sympy(v) for v in values]
        values = tuple(_factored(v) for v in exact)
        V = _factored(K.from_sympy(const) + sum((K.from_sympy(ci) * X for ci, X in zip(c, exact)), K.zero) / 2)
        points.append(StationaryPoint(label, tuple(nonzero), tuple(zip(nonzero, values)), V))
    return tuple(points), tuple(notes)


def minimum_conditions(free_vevs, potential0, points) -> tuple[tuple[MinimumCondition, ...], tuple[str, ...]]:
    """Global-minimum conditions in the aligned subspace (a quadratic form in the squared vevs).

    With V = V0 + c.X + X^T Q X: the point with every X nonzero is the minimum over X >= 0 if
    Q is positive definite (leading minors > 0) and its X are positive. Its gap to the point
    with only X_S nonzero is V_F - V_S = -r^T C^-1 r / 4, C = Q/Q_SS (Schur complement),
    r = c_T - Q_TS Q_SS^-1 c_S (T the other vevs): negative when Q is positive definite.
    """
    squares = tuple(sp.Symbol(f"X_{v.name}") for v in free_vevs)
    if not _even_in(potential0, free_vevs):
        return (), ("V in the aligned subspace is not a function of the squared vevs; no conditions",)
    form = _quadratic_form(_to_squares(potential0, free_vevs, squares), squares)
    if form is None:
        return (), ("V in the aligned subspace is not quadratic in the squared vevs; no conditions",)
    _, c, Q = form
    K = _field(list(c) + list(Q))
    c = DomainMatrix([[K.from_sympy(e)] for e in c], (len(squares), 1), K)
    Q = DomainMatrix([[K.from_sympy(e) for e in Q.row(i)] for i in range(Q.rows)], Q.shape, K)
    out = []
    for k in range(1, len(squares) + 1):
        minor = _factored((Q.extract(range(k), range(k)) * K.from_sympy(2)).det())
        out.append(MinimumCondition(
            f"leading principal minor {k} of d^2V/dX dX (X = squared vevs {', '.join(map(str, free_vevs[:k]))}): "
            "V is a convex quadratic in the squared vevs", minor))
    full = next((p for p in points if len(p.nonzero) == len(free_vevs)), None)
    if full is None:
        return tuple(out), ("no closed-form point with every free vev nonzero",)
    for v, X in full.squares:
        out.append(MinimumCondition(f"{v}^2 > 0 at the nontrivial point", X))
    index = {v: i for i, v in enumerate(free_vevs)}
    for p in points:
        if p is full:
            continue
        S = [index[v] for v in p.nonzero]
        T = [i for i in range(len(free_vevs)) if i not in S]
        C, r = Q.extract(T, T), c.extract(T, [0])
        if S:  # Schur complement of Q_SS, in the field of rational functions
            Q_TS, inverse = Q.extract(T, S), Q.extract(S, S).inv()
            C = C - Q_TS * inverse * Q_TS.transpose()
            r = r - Q_TS * inverse * c.extract(S, [0])
        if len(T) == 1:
            difference = -_factored(r[0, 0].element) ** 2 / (4 * _factored(C[0, 0].element))
        else:
            quadratic = (r.transpose() * C.inv() * r)[0, 0].element
            difference = sp.cancel(-_expr(quadratic) / 4)
        out.append(MinimumCondition(f"{full.name} - {p.name} <= 0 (the nontrivial point lies below {p.name})",
                                    difference, "<=0"))
    return tuple(out), ()


def _field(exprs):
    """QQ(parameters): exact rational-function arithmetic without expression swell."""
    gens = sorted(set().union(*(sp.sympify(e).free_symbols for e in exprs)), key=str)
    return sp.QQ.frac_field(*gens) if gens else sp.QQ


def _expr(f) -> sp.Expr:
    return f.numer.as_expr() / f.denom.as_expr() if hasattr(f, "numer") else sp.sympify(f)


def _factored(f) -> sp.Expr:
    """``factor`` of an element of :func:`_field` (numerator and denominator are already coprime)."""
    return sp.factor(_expr(f))


# ------------------------------------------------------------------ the stage


def tadpoles(model: Model, real: RealPotential, table) -> Tadpoles:
    """The ``tadpoles`` stage: general and imposed tadpoles, elimination, stationary points."""
    notes: list[str] = []
    poly = sp.Poly(real.expr, *real.components)
    zero = (0,) * len(real.components)

    def linear(k: int) -> sp.Expr:
        monom = tuple(1 if i == k else 0 for i in range(len(real.components)))
        return sp.expand(poly.coeff_monomial(monom))

    n = len(real.sigma)
    general = tuple(linear(k) for k in range(n))
    cp_odd = tuple(linear(n + k) for k in range(n))
    if any(t != 0 for t in cp_odd):
        notes.append("dV/dvarphi does not vanish at real vevs: the vacuum is not CP conserving")
    potential0 = sp.expand(poly.coeff_monomial(zero))

    relations = tuple(model.relations)
    alignment = tuple(model.vacuum.alignment) if model.vacuum else ()
    aligned = {sym for sym, _ in alignment}
    free_vevs = tuple(v for v in real.vevs if v not in aligned)

    def impose(expr):
        return sp.expand(expr.xreplace(dict(relations)).xreplace(dict(alignment)))

    imposed = tuple(impose(t) for t in general)
    conditions = independent_conditions(imposed, free_vevs)
    masses = mass_parameters(model, table)
    present = tuple(mu for mu in masses if any(c.bracket.has(mu) for c in conditions))
    eliminated, constraints, elim_notes = eliminate(conditions, present)
    notes.extend(elim_notes)
    if constraints:
        notes.append(
            "the alignment is not a stationary point for generic parameters: "
            f"{len(conditions)} independent tadpole conditions for {len(eliminated)} mass parameters; "
            "left over: " + "; ".join(f"{c} = 0" for c in constraints)
        )
    V_aligned = impose(potential0)
    points, point_notes = stationary_points(conditions, free_vevs, V_aligned)
    notes.extend(point_notes)
    conditions_min, min_notes = minimum_conditions(free_vevs, V_aligned, points)
    notes.extend(min_notes)
    return Tadpoles(
        fields=model.scalar_names,
        vevs=tuple(real.vevs),
        free_vevs=free_vevs,
        general=general,
        cp_odd=cp_odd,
        relations=relations,
        alignment=alignment,
        imposed=imposed,
        conditions=conditions,
        mass_parameters=masses,
        eliminated=eliminated,
        constraints=constraints,
        potential_at_vacuum=V_aligned,
        stationary_points=points,
        minimum_conditions=conditions_min,
        notes=tuple(notes),
    )
