"""Per-term convention inference: under which conventions does each printed entry agree?

The convention space is data (:class:`Space`): for every coupling of the potential (one per
operator, the coefficient symbol of :attr:`Potential.contributions`) a factor in
:data:`FACTORS` -- its sign and a normalization 1, 1/2, 2 (the h.c. convention of a real
coupling, ``c O + h.c.`` against ``c (O + h.c.)/2``, is the factor 1/2 or 2) -- and globally
the ratio ``rho`` of the field normalizations (phi = v + sigma + i varphi against
(v + sigma + i varphi)/sqrt 2: rho = 1/sqrt 2) and the ratio ``f`` of the mass-matrix factors.

An assignment A maps the derivation's potential onto ``V_A(phi; p) = V(phi; K_A p)``; the
derived objects follow the laws of :mod:`symflav.verify.variants` with symbolic K, rho, f.
Objects at the vacuum are taken with the derivation's relations imposed on the *independent*
couplings, so a relation (or an alignment condition) that the derivation solved is solved
again under A: ``K_A(dependent) = relation(K_A(independent))``, never kept as a fixed string.

Each entry's comparison is compiled once as a function of the convention parameters
(:func:`compile_entry`): the exact difference, or its Taylor coefficients in the small
parameter through the claimed order, at two random witness points of the other symbols, as
numpy functions of the factors; the whole grid of the entry's own parameters is then
evaluated at once. The assignment that explains the most entries is found by a local search
from the derivation's conventions (:func:`infer`), ties broken toward them (the printed
potential); the number of assignments scored and the time are reported.
"""

from __future__ import annotations

import itertools
import random
import time
from dataclasses import dataclass, field

import numpy as np
import sympy as sp

from symflav.verify import compare
from symflav.verify import variants as variants_mod

FACTORS = (sp.S.One, sp.Rational(1, 2), sp.Integer(2), -sp.S.One, -sp.Rational(1, 2), -sp.Integer(2))
RHOS = (sp.S.One, 1 / sp.sqrt(2), sp.sqrt(2))
MATRIX_FACTORS = (sp.S.One, sp.Rational(1, 2), sp.Integer(2))
RHO = sp.Symbol("conv_rho", positive=True)
MATRIX = sp.Symbol("conv_f", positive=True)
TOLERANCE = 1e-8
WITNESSES = 2
MAX_MOVES = 64  # agreeing partial assignments of one entry proposed per step of the search


@dataclass(frozen=True)
class Space:
    """The finite convention space: one factor per coupling, rho and f globally."""

    couplings: tuple[sp.Symbol, ...]
    squared: frozenset  # couplings that enter as their square (mu^2): the factor multiplies the square
    factor_symbols: tuple[sp.Symbol, ...]

    @classmethod
    def of(cls, potential) -> "Space":
        couplings, squared = [], set()
        for op, _ in potential.contributions:
            c = sp.sympify(op.coefficient)
            if c.is_Pow and c.exp == 2 and c.base.is_Symbol:
                c = c.base
                squared.add(c)
            if c.is_Symbol and c not in couplings:
                couplings.append(c)
        couplings.sort(key=lambda s: s.name)
        return cls(tuple(couplings), frozenset(squared),
                   tuple(sp.Symbol(f"conv_{c.name}") for c in couplings))

    def values(self, symbol: sp.Symbol) -> tuple:
        if symbol == RHO:
            return RHOS
        if symbol == MATRIX:
            return MATRIX_FACTORS
        return FACTORS

    def law(self, vevs) -> variants_mod.Law:
        """The symbolic law of a general assignment (factors, rho, f as symbols)."""
        table = []
        for c, k in zip(self.couplings, self.factor_symbols):
            table.append((c, sp.sqrt(k) * c if c in self.squared else k * c))
        return variants_mod.Law("assignment", tuple(table), RHO, MATRIX * RHO**2, tuple(vevs), True, True)

    def describe(self, symbol: sp.Symbol, value) -> str:
        if symbol == RHO:
            return "field normalization " + ("as the derivation's" if value == 1 else
                                             "phi = (v + sigma + i varphi)/sqrt2 relative to the derivation's"
                                             if value == 1 / sp.sqrt(2) else
                                             "sqrt2 (v + sigma + i varphi) relative to the derivation's")
        if symbol == MATRIX:
            return f"mass-matrix factor x{value}"
        name = self.couplings[self.factor_symbols.index(symbol)].name
        sign = "-" if value < 0 else ""
        magnitude = abs(value)
        what = "mu^2 term" if self.couplings[self.factor_symbols.index(symbol)] in self.squared else "operator"
        return f"{name}: {what} with factor {sign}{magnitude}"


GRID_MAX = 60000  # entries with a larger grid are evaluated lazily, assignment by assignment


@dataclass
class Entry:
    """One compared entry, compiled: its convention parameters and where it agrees.

    ``checks``: per sign of the derived side (one, or two when a column sign is free), pairs
    of numpy functions (printed, derived) of the entry's parameters -- one pair per witness
    point and Taylor coefficient; the entry agrees where every pair of one sign agrees."""

    key: tuple  # (equation, object, entry)
    symbols: tuple[sp.Symbol, ...]  # convention parameters the entry depends on
    values: tuple[np.ndarray, ...]  # the values of each parameter (complex)
    checks: tuple[tuple[tuple, ...], ...]
    agrees: np.ndarray | None = None  # bool over the whole grid (None when it is too large)
    memo: dict = field(default_factory=dict, repr=False)

    def rows(self, indices: np.ndarray) -> np.ndarray:
        """Agreement at each row of value indices (N x len(symbols))."""
        indices = np.asarray(indices, dtype=int)
        indices = indices.reshape(-1, len(self.symbols)) if self.symbols else np.zeros((1, 0), dtype=int)
        args = [self.values[k][indices[:, k]] for k in range(len(self.symbols))]
        result = np.zeros(len(indices), dtype=bool)
        for pairs in self.checks:
            ok = np.ones(len(indices), dtype=bool)
            for fp, fd in pairs:
                with np.errstate(all="ignore"):
                    a = np.broadcast_to(np.asarray(fp(*args), dtype=complex), ok.shape)
                    b = np.broadcast_to(np.asarray(fd(*args), dtype=complex), ok.shape)
                ok &= _close(a, b)
            result |= ok
        return result

    def at(self, assignment: dict, space: "Space") -> bool:
        idx = tuple(assignment.get(s, 0) for s in self.symbols)
        if self.agrees is not None:
            return bool(self.agrees[idx]) if self.symbols else bool(self.agrees)
        if idx not in self.memo:
            self.memo[idx] = bool(self.rows(np.array([idx]))[0])
        return self.memo[idx]

    def agreeing(self, limit: int | None = None) -> list[tuple]:
        """Index tuples where the entry agrees (the precomputed grid only)."""
        if self.agrees is None or not self.symbols:
            return []
        return [tuple(i) for i in np.argwhere(self.agrees).tolist()]


def _float_point(symbols_, rng: random.Random) -> dict:
    return {s: compare._sample(s, rng) for s in sorted(symbols_, key=lambda s: s.name)}


def _close(a, b):
    return np.abs(a - b) <= TOLERANCE * (np.abs(a) + np.abs(b)) + 1e-250


def _function(symbols_, expr):
    expr = sp.sympify(expr)
    if not symbols_ or not (expr.free_symbols & set(symbols_)):
        value = complex(sp.N(expr))
        return lambda *args: value
    return sp.lambdify(symbols_, expr, "numpy")


def compile_entry(key, printed, derived, space: Space, *, relation="=", order=None, expansion=None,
                  signs=(1,), seed=0) -> Entry | None:
    """The entry's comparison as numpy functions of its convention parameters (``derived``
    already carries the symbolic law). ``signs``: (1, -1) when the derived side's sign is free.
    None for comparisons the numeric route does not decide (bounds, non-rational series)."""
    if relation in ("<", ">"):
        return None
    printed, derived = sp.sympify(printed), sp.sympify(derived)
    conv = set(space.factor_symbols) | {RHO, MATRIX}
    symbols_ = tuple(sorted(derived.free_symbols & conv, key=lambda s: s.name))
    series = relation in ("≃", "~", "≈") and order is not None and expansion is not None
    if series:
        printed, derived = expansion.apply(printed), expansion.apply(derived)
    opaque = compare._opaque([printed, derived])
    p, d = printed.xreplace(opaque), derived.xreplace(opaque)
    others = (p.free_symbols | d.free_symbols) - conv
    if series:
        others -= {expansion.parameter}
    rng = random.Random(seed)
    points = [_float_point(others, rng) for _ in range(WITNESSES)]
    checks = []
    for sign in signs:
        pairs = []
        for point in points:
            pp, dd = p.xreplace(point), sign * d.xreplace(point)
            if series:
                eps = expansion.parameter
                cp = compare.series_coefficients(sp.expand(pp), eps, order)
                cd = compare.series_coefficients(dd, eps, order)
                if cp is None or cd is None:
                    return None
                for k in sorted(set(cp) | set(cd)):
                    pairs.append((_function(symbols_, cp.get(k, 0)), _function(symbols_, cd.get(k, 0))))
            else:
                pairs.append((_function(symbols_, pp), _function(symbols_, dd)))
        checks.append(tuple(pairs))
    values = tuple(np.array([complex(v) for v in space.values(s)], dtype=complex) for s in symbols_)
    entry = Entry(tuple(key), symbols_, values, tuple(checks))
    size = grid_size(space, symbols_)
    if size <= GRID_MAX:
        shape = tuple(len(v) for v in values)
        indices = np.array(list(np.ndindex(*shape)), dtype=int) if symbols_ else np.zeros((1, 0), dtype=int)
        entry.agrees = entry.rows(indices).reshape(shape) if symbols_ else np.array(entry.rows(indices)[0])
    return entry


@dataclass
class Inference:
    """The outcome of :func:`infer`."""

    space: Space
    entries: list[Entry]
    assignment: dict  # symbol -> index into Space.values (absent: index 0, the derivation's)
    tried: int
    seconds: float
    identity_score: int = 0
    score: int = 0
    notes: list = field(default_factory=list)

    def changes(self, assignment: dict | None = None) -> list[tuple[sp.Symbol, object]]:
        assignment = self.assignment if assignment is None else assignment
        return [(s, self.space.values(s)[i]) for s, i in sorted(assignment.items(), key=lambda kv: kv[0].name) if i]

    def describe(self, assignment: dict | None = None) -> list[str]:
        return [self.space.describe(s, v) for s, v in self.changes(assignment)]

    def to_json(self) -> dict:
        factors = {self.space.couplings[self.space.factor_symbols.index(sym)].name: str(value)
                   for sym, value in self.changes() if sym in self.space.factor_symbols}
        globals_ = {("field_normalization" if sym == RHO else "mass_matrix_factor"): str(value)
                    for sym, value in self.changes() if sym not in self.space.factor_symbols}
        return {"changes": self.describe(), "factors": factors, **globals_, "assignments_tried": self.tried,
                "entries": len(self.entries), "agree_under_derivation": self.identity_score,
                "agree_under_inferred": self.score,
                "space": {"couplings": [c.name for c in self.space.couplings],
                          "factors": [str(v) for v in FACTORS], "field_normalization": [str(v) for v in RHOS],
                          "mass_matrix_factor": [str(v) for v in MATRIX_FACTORS]}}


def _score(entries, assignment, space) -> int:
    return sum(e.at(assignment, space) for e in entries)


def _changes(assignment) -> int:
    return sum(1 for i in assignment.values() if i)


def infer(entries: list[Entry], space: Space) -> Inference:
    """The assignment that explains the most entries (local search from the derivation's
    conventions: single changes, and every agreeing partial assignment of an entry that
    disagrees, merged into the current one; ties go to fewer changes, i.e. the printed potential)."""
    start = time.perf_counter()
    current: dict = {}
    best = _score(entries, current, space)
    identity = best
    tried = 1
    seen = {()}
    while True:
        candidates = []
        symbols_ = sorted({s for e in entries for s in e.symbols}, key=lambda s: s.name)
        for s in symbols_:
            for i in range(len(space.values(s))):
                if current.get(s, 0) != i:
                    candidates.append({**current, s: i})
        for e in entries:
            if e.symbols and not e.at(current, space):
                points = e.agreeing()
                if not points:
                    continue
                order = sorted(points, key=lambda idx: (sum(1 for s, i in zip(e.symbols, idx)
                                                                     if current.get(s, 0) != i), idx))
                for idx in order[:MAX_MOVES]:
                    candidates.append({**current, **dict(zip(e.symbols, idx))})
        step = None
        for c in candidates:
            c = {s: i for s, i in c.items() if i}
            key = tuple(sorted((s.name, i) for s, i in c.items()))
            if key in seen:
                continue
            seen.add(key)
            tried += 1
            score = _score(entries, c, space)
            rank = (score, -_changes(c))
            if step is None or rank > step[0]:
                step = (rank, c)
        if step is None or step[0][0] <= best:
            break
        best, current = step[0][0], step[1]
    inference = Inference(space, entries, current, tried, time.perf_counter() - start, identity, best)
    return inference


def nearest(entry: Entry, assignment: dict, space: Space, limit: int = 2) -> dict | None:
    """The agreeing assignment of the entry with the fewest changes from ``assignment`` (at
    most ``limit``), as the changed parameters only; None if there is none."""
    if not entry.symbols:
        return None
    if entry.agrees is not None:
        points = entry.agreeing()
    else:  # a large grid: the assignments within ``limit`` changes of ``assignment`` only
        base = [assignment.get(s, 0) for s in entry.symbols]
        rows = [tuple(base)]
        for k in range(1, limit + 1):
            for chosen in itertools.combinations(range(len(entry.symbols)), k):
                for values in itertools.product(*[[i for i in range(len(entry.values[c])) if i != base[c]]
                                                  for c in chosen]):
                    row = list(base)
                    for c, v in zip(chosen, values):
                        row[c] = v
                    rows.append(tuple(row))
        ok = entry.rows(np.array(rows))
        points = [r for r, good in zip(rows, ok) if good]
    best = None
    for idx in points:
        changed = {s: i for s, i in zip(entry.symbols, idx) if assignment.get(s, 0) != i}
        if len(changed) <= limit and (best is None or (len(changed), sorted((s.name, i) for s, i in changed.items()))
                                      < (len(best), sorted((s.name, i) for s, i in best.items()))):
            best = changed
    return best


def grid_size(space: Space, symbols_) -> int:
    return int(np.prod([len(space.values(s)) for s in symbols_])) if symbols_ else 1

