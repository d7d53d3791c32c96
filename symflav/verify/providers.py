"""Derived objects in the printed registry's symbols: what each printed part is compared with.

A part of the printed registry names a *provider* (:data:`symflav.verify.checks.PROVIDERS`, plus
those of the derivation's study): a function of the derivation that returns the derived object,
written in the registry's symbols -- the loop functions of :mod:`symflav.physics.loops` as the
registry's opaque functions of the same name, their argument the part's own symbol. A provider
that cannot give its object raises :class:`NotAvailable` with the reason.

One reading is stated here, never hidden in a comparison: **the printed labels of the mass
eigenstates.** S_i and P_i are the columns of U_S and U_P as printed (the registry's parts of
providers ``spectrum.U_S``, ``spectrum.U_P``), read at leading order in the small parameter
(its numerator -> 0). Each derived state is assigned the label whose leading-order column it
overlaps most (the best assignment over all permutations, which must be unique): by content,
not by position.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

import numpy as np
import sympy as sp

from symflav.core import symbols
from symflav.core.model import Model
from symflav.core.printed import Part, Registry
from symflav.core.stages import Derivation, Unavailable
from symflav.physics import loops


class NotAvailable(Exception):
    """A provider cannot give its object; the message is the reason."""


@dataclass(frozen=True)
class Context:
    """What a provider sees: the derivation and its registry (plus a per-run memo, and the
    providers of the run: the generic ones and the study's)."""

    derivation: Derivation
    registry: Registry
    memo: dict = field(default_factory=dict, compare=False, hash=False, repr=False)
    providers: Mapping[str, "Provider"] = field(default_factory=dict, compare=False, hash=False, repr=False)

    @property
    def model(self) -> Model:
        return self.derivation.model

    def stage(self, name: str):
        if name not in self.derivation.results:
            raise NotAvailable(f"stage {name} not available")
        value = self.derivation.results[name]
        if isinstance(value, Unavailable):
            raise NotAvailable(f"stage {name} {value}")
        return value

    def remember(self, key, build: Callable[[], Any]):
        """``build()`` once per context (results of a derivation never change)."""
        if key not in self.memo:
            self.memo[key] = build()
        return self.memo[key]

    def field_index(self, part: Part) -> int:
        names = list(self.model.scalar_names)
        if part.select in names:
            return names.index(part.select)
        if isinstance(part.select, int) and 0 <= part.select < len(names):
            return part.select
        raise NotAvailable(f"select {part.select!r} is not a field of the model")

    def name(self, name: str):
        """A registry name (symbol), or NotAvailable."""
        try:
            return self.registry.names[name]
        except KeyError:
            raise NotAvailable(f"the printed registry has no symbol {name!r}") from None


@dataclass(frozen=True)
class Provider:
    """Where a printed part finds its derived counterpart.

    ``get(ctx, part)`` returns a sympy expression or matrix in the registry's symbols (or
    raises :class:`NotAvailable`). ``law`` says how the object follows a declared convention
    variant (:mod:`symflav.verify.variants`): ``"rederive"`` (its stages are re-run, they are cheap),
    ``"couplings"`` (it depends on the conventions only through the couplings of the
    potential), ``"mixing"`` (evaluated at the vevs: couplings and vevs mapped, no factor; e.g.
    the FN and radiative masses, which read <phi> in the model's field normalization),
    ``"tadpole"``, ``"mass2"``, ``"points"`` (tadpoles, mass matrices and point tables at the
    vacuum), or ``None`` (convention independent); see :data:`symflav.verify.variants.KINDS`.
    """

    name: str
    stage: str | None
    get: Callable[[Context, Part], Any] | None
    law: str | None
    description: str

    @property
    def conventional(self) -> bool:
        return self.law is not None


def select(sequence, part: Part, ctx: Context):
    if isinstance(part.select, int):
        try:
            return sequence[part.select]
        except IndexError:
            raise NotAvailable(f"no entry {part.select}") from None
    return sequence[ctx.field_index(part)]


# ---------------------------------------------------------------- registry symbols


def registry_functions(ctx: Context, expr):
    """Loop functions of :mod:`symflav.physics.loops` -> the registry's opaque functions of the same
    name (a printed function of that name, with the loop function's LaTeX, if it has none)."""
    if isinstance(expr, sp.MatrixBase):
        return expr.applyfunc(lambda e: registry_functions(ctx, e))
    expr = sp.sympify(expr)
    calls = {}
    for call in expr.atoms(sp.Function):
        name = type(call).__name__
        parsed = loops.parse_key_or_none(name)
        if parsed is None:
            continue
        target = ctx.registry.function_map.get(name)
        if target is None:
            target = symbols.printed_function(name, loops.loop_function(*parsed).latex)
        calls[call] = target(*call.args)
    return expr.xreplace(calls) if calls else expr


def renamed(ctx: Context, expr, names: dict):
    """Derived symbols -> registry names (``{derived symbol or its name: registry name}``)."""
    expr = sp.sympify(expr)
    table = {}
    for s in expr.free_symbols:
        target = names.get(s, names.get(s.name))
        if target is not None:
            table[s] = ctx.name(target) if isinstance(target, str) else target
    return expr.xreplace(table)


# ---------------------------------------------------------------- loop functions


def loop_function(key: str, argument: str | None = None):
    """The closed form of a loop function, with its argument x the registry's symbol
    ``argument`` (default: the part's ``select``, else the only symbol of its formula)."""

    def get(ctx: Context, part: Part):
        lo = ctx.stage("loops")
        forms = lo.closed_forms
        if key not in forms:
            raise NotAvailable(f"the loops stage has no {key}")
        name = argument or (part.select if isinstance(part.select, str) else None)
        if name is None:
            free = sp.sympify(part.formula).free_symbols
            if len(free) != 1:
                raise NotAvailable(f"the argument of {key} is not the only symbol of the printed formula: "
                                   "name it with select")
            (x,) = free
        else:
            x = ctx.name(name)
        return forms[key].xreplace({lo.x: x})

    return get


# ---------------------------------------------------------------- vacuum and spectrum


def _vev_names(label: str) -> list[str]:
    return re.findall(r"\bv_\w+", label)


def stationary_points(ctx: Context, part: Part):
    """The stationary points: rows = the printed cases (which free vevs vanish, read off the row
    labels), columns = squared vevs and V at the point (tadpoles stage, closed forms)."""
    tad = ctx.stage("tadpoles")
    if not part.rows or not part.columns:
        raise NotAvailable(f"eq. ({part.equation}) needs row and column labels")
    free = {str(v): v for v in tad.free_vevs}
    points = {frozenset(p.nonzero): p for p in tad.stationary_points}
    rows = []
    for label in part.rows:
        named = [free[n] for n in _vev_names(label) if n in free]
        nonzero = frozenset(named) if "!=" in label else frozenset(free.values()) - set(named)
        point = points.get(nonzero)
        if point is None:
            raise NotAvailable(f"no closed-form stationary point for the case {label!r}")
        squares = dict(point.squares)
        row = []
        for column in part.columns:
            if column == "V":
                row.append(point.value)
                continue
            (vev,) = [free[n] for n in _vev_names(column)]
            row.append(squares.get(vev, sp.S.Zero))
        rows.append(row)
    return sp.Matrix(rows)


def _mixing_part(ctx: Context, provider: str) -> Part:
    for eq in ctx.registry.equations:
        for p in eq.parts:
            if p.provider == provider and p.is_matrix:
                return p
    raise NotAvailable(f"no printed {provider} to read the paper's state labels from")


def printed_labels(ctx: Context, cp: str) -> tuple[tuple[int, ...], tuple[float, ...]]:
    """Index of the derived state (``spectrum.scalars``/``pseudoscalars``) for each printed
    label, and the leading-order overlap |cos| of each assignment (see the module docstring)."""

    def build():
        spec = ctx.stage("spectrum")
        states = spec.scalars if cp == "even" else spec.pseudoscalars
        if not states:
            raise NotAvailable(f"no perturbative CP-{cp} spectrum")
        part = _mixing_part(ctx, "spectrum.U_S" if cp == "even" else "spectrum.U_P")
        num = sp.fraction(ctx.model.vacuum.small_value)[0]
        printed = ctx.registry.expand_definitions(part.formula).xreplace({num: 0})
        n = printed.shape[1]
        if n != len(states):
            raise NotAvailable(f"the printed mixing matrix has {n} columns, the derived spectrum {len(states)} states")
        derived = [sp.Matrix([sp.sympify(x).xreplace({num: 0}) for x in s.column]) for s in states]

        def cosine(a, b):
            products = [(a.T * a)[0], (b.T * b)[0], (a.T * b)[0]]
            if any(p.free_symbols for p in products):  # e.g. other charges: states that depend on couplings
                raise NotAvailable(f"the leading-order CP-{cp} states depend on the parameters: "
                                   "the paper's labels cannot be matched to them")
            na, nb = float(sp.N(sp.sqrt(products[0]))), float(sp.N(sp.sqrt(products[1])))
            if na == 0 or nb == 0:
                return 0.0
            return abs(float(sp.N(products[2]))) / (na * nb)

        overlap = [[cosine(printed[:, i], d) for d in derived] for i in range(n)]
        scored = sorted(((sum(overlap[i][p[i]] for i in range(n)), p) for p in itertools.permutations(range(n))),
                        reverse=True)
        (best, perm), (second, _) = scored[0], scored[1]
        if best - second < 1e-9:
            raise NotAvailable(f"the paper's CP-{cp} labels are ambiguous at leading order")
        return tuple(perm), tuple(overlap[i][perm[i]] for i in range(n))

    return ctx.remember(("labels", cp), build)


def label_note(ctx: Context, cp: str, label_index: int) -> str:
    spec = ctx.stage("spectrum")
    states = spec.scalars if cp == "even" else spec.pseudoscalars
    perm, overlaps = printed_labels(ctx, cp)
    prefix = "S" if cp == "even" else "P"
    equation = _mixing_part(ctx, "spectrum.U_S" if cp == "even" else "spectrum.U_P").equation
    return (f"paper's {prefix}_{label_index + 1} = derived {states[perm[label_index]].name} "
            f"(leading-order overlap with the printed {equation} column {overlaps[label_index]:.3g})")


def masses2(cp: str):
    def get(ctx: Context, part: Part):
        if not isinstance(part.select, int):
            raise NotAvailable(f"select {part.select!r}: expected the paper's label index (0 = first)")
        spec = ctx.stage("spectrum")
        states = spec.scalars if cp == "even" else spec.pseudoscalars
        perm, _ = printed_labels(ctx, cp)
        if not 0 <= part.select < len(perm):
            raise NotAvailable(f"no state {part.select + 1}")
        return states[perm[part.select]].mass2

    return get


def mixing(cp: str):
    def get(ctx: Context, part: Part):
        spec = ctx.stage("spectrum")
        states = spec.scalars if cp == "even" else spec.pseudoscalars
        perm, _ = printed_labels(ctx, cp)
        return sp.Matrix([[states[perm[j]].column[i] for j in range(len(perm))] for i in range(len(perm))])

    return get


# ---------------------------------------------------------------- points of printed tables (numbers)


def _leading_columns(ctx: Context, provider: str):
    """The derived states' columns at leading order (the small parameter's numerator -> 0), in the
    printed label order."""
    cp = "even" if provider == "spectrum.U_S" else "odd"
    spec = ctx.stage("spectrum")
    states = spec.scalars if cp == "even" else spec.pseudoscalars
    perm, _ = printed_labels(ctx, cp)
    num = sp.fraction(ctx.model.vacuum.small_value)[0]
    rows = [[sp.sympify(states[perm[j]].column[i]).xreplace({num: 0}) for j in range(len(perm))]
            for i in range(len(perm))]
    return np.array(sp.N(sp.Matrix(rows), 20).tolist(), dtype=float)


def _assign(printed_columns, vectors) -> tuple[tuple[int, ...], tuple[float, ...]]:
    """The permutation matching printed columns to vectors (max total |cos|)."""
    n = printed_columns.shape[1]
    norms = np.linalg.norm(printed_columns, axis=0) * np.linalg.norm(vectors, axis=0)[:, None]
    overlap = np.abs(printed_columns.T @ vectors).T / norms  # [derived, printed]
    best = max(itertools.permutations(range(n)), key=lambda p: sum(overlap[p[i], i] for i in range(n)))
    return tuple(best), tuple(float(overlap[best[i], i]) for i in range(n))


def point_spectrum(ctx: Context, values: dict):
    """Exact masses (GeV) and U at a point, in the paper's labels: the vacuum mass matrices
    of the mass_matrices stage (vevs given, relations imposed, mu^2 from the tadpoles)."""
    masses = ctx.stage("mass_matrices")
    out = {}
    for cp, matrix, provider in (("even", masses.M_S2_vacuum, "spectrum.U_S"),
                                 ("odd", masses.M_P2_vacuum, "spectrum.U_P")):
        M = np.array(sp.N(matrix.xreplace(values), 30).tolist(), dtype=float)
        w, U = np.linalg.eigh(M)
        perm, overlaps = _assign(_leading_columns(ctx, provider), U)
        out[cp] = (np.sign(w[list(perm)]) * np.sqrt(np.abs(w[list(perm)])), U[:, list(perm)], overlaps)
    return out


def point_values(ctx: Context, point: str) -> dict:
    """Symbol -> exact value: the model's defaults, then the named point."""
    model = ctx.model
    values = {p.symbol: sp.nsimplify(p.default, rational=True) for p in model.parameters if p.default is not None}
    values.update(model.point_symbols(point))
    return values
