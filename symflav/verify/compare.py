"""Printed-vs-derived comparison of one formula (or matrix).

Routes, in the order they are tried:

* exact: ``printed - derived`` is expanded and, where cheap, cancelled; zero means
  ``agrees``. When that is inconclusive (logs, roots, opaque functions), the
  difference is evaluated with mpmath (30 digits) at random rational *witness
  points*; agreement there is ``agrees`` with method ``numeric``.
* to an order: for a "≃" formula claimed through ``epsilon^order``, both sides are
  written in the small parameter (``v_1 -> epsilon v_a``) and the Taylor (Laurent)
  coefficients of the difference are tested up to the claimed order:
  ``agrees_to_order``, with the first order at which they differ when they do.
* a bound ("<", ">"): the derived expression is evaluated on a wide grid of
  points and must stay on the printed side of the bound.

Every disagreement carries the difference (its leading term for the series route)
and a witness point: exact parameter values and the printed, derived and
difference values there. Points are drawn from a seeded generator, so the same
inputs give the same witness. Undefined functions (``I_m_x(x)``) are opaque: each
distinct call is treated as an independent number.
"""

from __future__ import annotations

import functools
import random
from dataclasses import dataclass
from typing import Iterable

import mpmath
import sympy as sp

STATUSES = ("agrees", "agrees_to_order", "disagrees", "convention", "incomplete", "not_checked")
DIGITS = 30
TOLERANCE = sp.Float("1e-20", DIGITS)
SAMPLES = 4
MAX_OPS_FOR_CANCEL = 4000


@dataclass(frozen=True)
class Witness:
    """A point where printed and derived were evaluated (exact inputs, 12-digit values)."""

    point: tuple[tuple[str, str], ...]
    printed: str
    derived: str
    difference: str

    def to_json(self) -> dict:
        return {"point": dict(self.point), "printed": self.printed, "derived": self.derived,
                "difference": self.difference}


@dataclass(frozen=True)
class Expansion:
    """The small parameter: ``parameter`` symbol and the substitutions that introduce it."""

    parameter: sp.Symbol
    substitutions: tuple[tuple[sp.Symbol, sp.Expr], ...]
    witness_value: sp.Rational = sp.Rational(1, 1000)

    def apply(self, expr):
        return expr.xreplace(dict(self.substitutions)) if self.substitutions else expr


@dataclass(frozen=True)
class Outcome:
    """Result of one comparison. ``difference`` is printed - derived (leading term for series)."""

    status: str
    method: str
    difference: sp.Expr | None = None
    witness: Witness | None = None
    order: int | None = None  # order through which printed and derived agree (series route)
    note: str = ""

    @property
    def agrees(self) -> bool:
        return self.status in ("agrees", "agrees_to_order")


# ---------------------------------------------------------------- numbers


def _opaque(exprs: Iterable[sp.Expr]) -> dict:
    """Undefined-function calls -> fresh real symbols (the same call, the same symbol)."""
    calls = set()
    for e in exprs:
        calls |= {f for f in sp.sympify(e).atoms(sp.core.function.AppliedUndef)}
    return {call: sp.Dummy(f"{call.func.__name__}", real=True) for call in sorted(calls, key=str)}


def _sample(sym: sp.Symbol, rng: random.Random) -> sp.Expr:
    """A generic exact value respecting the symbol's assumptions."""
    if sym.is_integer:
        return sp.Integer(rng.randint(2, 6))
    value = sp.Rational(rng.randint(11, 97), rng.randint(13, 61))
    if sym.is_positive or sym.is_nonnegative:
        return value
    if sym.is_real:
        return value if rng.random() < 0.5 else -value
    return value + sp.I * sp.Rational(rng.randint(11, 97), rng.randint(13, 61))


def witness_points(exprs, seed: int, count: int = SAMPLES, fixed: dict | None = None) -> list[dict]:
    """``count`` points over the free symbols of ``exprs`` (plus ``fixed`` values)."""
    free = set()
    for e in exprs:
        free |= sp.sympify(e).free_symbols
    free -= set(fixed or {})
    rng = random.Random(seed)
    points = []
    for _ in range(count):
        point = {s: _sample(s, rng) for s in sorted(free, key=lambda s: s.name)}
        point.update(fixed or {})
        points.append(point)
    return points


def evaluate(expr, point: dict) -> mpmath.mpc:
    """``expr`` at ``point`` with mpmath at :data:`DIGITS` digits (complex in general)."""
    value = sp.sympify(expr).xreplace(point).evalf(DIGITS)
    with mpmath.workdps(DIGITS):
        try:
            return mpmath.mpc(complex(value)) if not value.is_real else mpmath.mpf(str(value))
        except (TypeError, ValueError):
            return mpmath.mpc(mpmath.nan)


def _fmt(value) -> str:
    with mpmath.workdps(DIGITS):
        if isinstance(value, mpmath.mpc) and abs(value.imag) > TOLERANCE * (abs(value.real) + 1):
            return mpmath.nstr(value, 12)
        return mpmath.nstr(mpmath.re(value), 12)


def _point_json(point: dict, opaque: dict) -> tuple[tuple[str, str], ...]:
    names = {v: str(k) for k, v in opaque.items()}
    return tuple(sorted((names.get(k, k.name), str(v)) for k, v in point.items()))


def _close(a, b) -> bool:
    with mpmath.workdps(DIGITS):
        if mpmath.isnan(a) or mpmath.isnan(b):
            return False
        scale = max(abs(a), abs(b), mpmath.mpf(1))
        return abs(a - b) <= TOLERANCE * scale


# ---------------------------------------------------------------- symbolic


MAX_OPS_FOR_SYMBOLIC = 600
MAX_NODES_FOR_SYMBOLIC = 400


def _nodes(expr) -> int:
    return sum(1 for _ in sp.preorder_traversal(expr))


def is_zero(expr) -> bool | None:
    """True/False when the symbolic route decides; None when it is inconclusive or too
    costly (more than :data:`MAX_OPS_FOR_SYMBOLIC` operations: the numeric route decides)."""
    expr = sp.sympify(expr)
    if _nodes(expr) > MAX_NODES_FOR_SYMBOLIC:
        return None
    logs = {f: sp.Dummy("log") for f in expr.atoms(sp.log)}
    if logs:  # a rational identity in x and L = log(...) is an identity in x
        if any(a.args[0].has(sp.log) for a in logs):
            return None
        return True if is_zero(expr.xreplace(logs)) else None  # otherwise the numeric route decides
    free = sorted(expr.free_symbols, key=lambda s: s.name)
    opaque = expr.atoms(sp.core.function.AppliedUndef, sp.Abs, sp.re, sp.im)
    if free and not opaque and not logs and expr.is_rational_function(*free):
        # the numerator over a common denominator, as a polynomial (no expansion of the quotient)
        numerator = expr if expr.is_polynomial(*free) else sp.fraction(sp.together(expr))[0]
        poly = sp.Poly(numerator, *free)
        if not poly.domain.is_EX:
            return poly.is_zero
    if sp.count_ops(expr) > MAX_OPS_FOR_SYMBOLIC:
        return None
    e = sp.expand(expr)
    if e == 0:
        return True
    free = e.free_symbols
    if free and e.is_polynomial(*free) and not e.atoms(sp.core.function.AppliedUndef, sp.Abs, sp.re, sp.im):
        return False  # an expanded nonzero polynomial
    if sp.count_ops(e) <= MAX_OPS_FOR_CANCEL:
        e = sp.cancel(sp.together(e))
        if e == 0:
            return True
        if e.has(sp.log) or e.has(sp.Pow) and any(not p.exp.is_integer for p in e.atoms(sp.Pow)):
            e2 = sp.cancel(sp.expand_log(sp.radsimp(e), force=True))
            if e2 == 0:
                return True
            return None
        if not e.atoms(sp.core.function.AppliedUndef, sp.Abs, sp.re, sp.im) and e.is_rational_function():
            return False  # a nonzero rational function in lowest terms
    return None


def forget() -> None:
    """Drop remembered comparisons (one run of the compare stage remembers its own)."""
    _remembered.cache_clear()


def compare(printed, derived, *, relation: str = "=", order: int | None = None,
            expansion: Expansion | None = None, seed: int = 0, brief: bool = False) -> Outcome:
    """Compare two scalar expressions (see the module docstring for the routes).

    ``brief``: only the status is needed (no difference is tidied). The same comparison
    asked twice (a formula printed twice) is answered once."""
    return _remembered(sp.sympify(printed), sp.sympify(derived), relation, order, expansion, seed, brief)


@functools.lru_cache(maxsize=4096)  # pure in immutable, hashable arguments: only saves comparing again
def _remembered(printed, derived, relation, order, expansion, seed, brief) -> Outcome:
    return _compare(printed, derived, relation=relation, order=order, expansion=expansion, seed=seed, brief=brief)


def _compare(printed, derived, *, relation, order, expansion, seed, brief) -> Outcome:
    if relation in ("<", ">"):
        return compare_bound(printed, derived, relation, seed=seed)
    if relation in ("≃", "~", "≈") and order is not None:
        if expansion is None:
            raise ValueError(f"relation {relation} to order {order} needs an expansion parameter")
        return compare_to_order(printed, derived, order, expansion, seed=seed, brief=brief)
    return compare_exact(printed, derived, seed=seed, brief=brief)


def compare_exact(printed, derived, *, seed: int = 0, brief: bool = False) -> Outcome:
    """A numeric probe first (one witness point, 30 digits): a difference there decides
    ``disagrees`` at once; otherwise the symbolic route, then the other witness points."""
    printed, derived = sp.sympify(printed), sp.sympify(derived)
    diff = printed - derived
    if diff == 0:
        return Outcome("agrees", "symbolic")
    opaque = _opaque([printed, derived])
    p, d = printed.xreplace(opaque), derived.xreplace(opaque)
    points = witness_points([p, d], seed)
    vp, vd = evaluate(p, points[0]), evaluate(d, points[0])
    if not _close(vp, vd):
        witness = Witness(_point_json(points[0], opaque), _fmt(vp), _fmt(vd), _fmt(vp - vd))
        return Outcome("disagrees", "numeric", None if brief else _tidy(diff), witness)
    decided = is_zero(diff)
    if decided:
        return Outcome("agrees", "symbolic")
    for point in points[1:]:
        vp, vd = evaluate(p, point), evaluate(d, point)
        if not _close(vp, vd):
            witness = Witness(_point_json(point, opaque), _fmt(vp), _fmt(vd), _fmt(vp - vd))
            return Outcome("disagrees", "symbolic" if decided is False else "numeric",
                           None if brief else _tidy(diff), witness)
    if decided is False:  # cannot happen for a true nonzero rational function at generic points
        return Outcome("disagrees", "symbolic", None if brief else _tidy(diff), None, note="differs symbolically")
    return Outcome("agrees", "numeric", note=f"numerically at {len(points)} witness points "
                                             "(symbolic route inconclusive)")


MAX_OPS_FOR_FACTOR = 80
MAX_SYMBOLS_FOR_FACTOR = 8


MAX_NODES_FOR_TIDY = 120


def _tidy(expr):
    """A readable form of a difference: expanded, and factored when that is cheap and shorter;
    a large difference is left as it is (the witness point carries the numbers)."""
    if _nodes(expr) > MAX_NODES_FOR_TIDY:
        return expr
    e = sp.expand(expr)
    if sp.count_ops(e) <= MAX_OPS_FOR_FACTOR and len(e.free_symbols) <= MAX_SYMBOLS_FOR_FACTOR:
        f = sp.factor(sp.cancel(sp.together(e))) if e.is_rational_function() else e
        return f if sp.count_ops(f) < sp.count_ops(e) else e
    return e


def series_coefficients(expr, eps: sp.Symbol, upto: int):
    """Laurent coefficients ``{k: c_k}`` of ``expr`` in ``eps`` for k <= upto (rational case).

    Returns ``None`` when ``expr`` is not a rational function of ``eps``.
    """
    if expr.is_polynomial(eps):
        poly = sp.Poly(sp.expand(expr), eps)
        if not any(c.has(eps) for c in poly.coeffs()):
            terms = {k[0]: c for k, c in poly.terms()}
            return {k: terms.get(k, sp.S.Zero) for k in range(0, upto + 1)} if upto >= 0 else {}
    expr = sp.together(sp.expand(expr))
    num, den = sp.fraction(expr)
    try:
        pnum = sp.Poly(sp.expand(num), eps)
        pden = sp.Poly(sp.expand(den), eps)
    except sp.PolynomialError:
        return None
    if any(c.has(eps) for c in pnum.coeffs() + pden.coeffs()):
        return None
    dcoeffs = dict(((k[0], v) for k, v in pden.terms()))
    m = min(dcoeffs)
    d0 = dcoeffs[m]
    ncoeffs = dict(((k[0], v) for k, v in pnum.terms()))
    # series of num / (eps^m * dtilde), dtilde = sum_k d_{m+k} eps^k
    result: dict[int, sp.Expr] = {}
    quotient: list[sp.Expr] = []
    lowest = min(ncoeffs) if ncoeffs else 0
    for j in range(0, max(upto + m, lowest) + 1):
        acc = ncoeffs.get(j, sp.S.Zero)
        for i in range(1, j + 1):
            acc -= dcoeffs.get(m + i, sp.S.Zero) * quotient[j - i]
        q = sp.expand(acc / d0)
        quotient.append(q)
        if j - m <= upto:
            result[j - m] = q
    return result


def compare_to_order(printed, derived, order: int, expansion: Expansion, *, seed: int = 0,
                     brief: bool = False) -> Outcome:
    """Agreement through ``epsilon^order`` after the expansion substitutions.

    Numeric witnesses first: at random exact values of every other symbol, the difference
    is a function of epsilon alone, whose Taylor (Laurent) coefficients are cheap; a nonzero
    one decides ``disagrees`` at its order (the symbolic coefficient is then worked out for
    the report). Coefficients that vanish at two independent points are taken to vanish;
    a difference that vanishes identically is confirmed symbolically (``agrees``)."""
    eps = expansion.parameter
    p, d = expansion.apply(sp.sympify(printed)), expansion.apply(sp.sympify(derived))
    diff = p - d
    if diff == 0:
        return Outcome("agrees", "symbolic")
    opaque = _opaque([p, d])
    pp, dd = p.xreplace(opaque), d.xreplace(opaque)
    first = None
    for k_seed in (seed, seed + 1):
        point = witness_points([pp, dd], k_seed, count=1, fixed={eps: eps})[0]
        found = _first_nonzero_order(sp.expand((pp - dd).xreplace(point)), eps, order)
        if found is not None:
            first = found if first is None else min(first, found)
    if first is None:
        zero_at = witness_points([pp, dd], seed + 2, count=1)[0]
        if _close(evaluate(pp, zero_at), evaluate(dd, zero_at)) and is_zero(diff):
            return Outcome("agrees", "symbolic")
        return Outcome("agrees_to_order", "series", order=order, note=f"agrees through {eps}^{order}")
    witness = _series_witness(p, d, eps, expansion, opaque, seed)
    difference = None
    if not brief:
        coefficients = series_coefficients(diff, eps, first)
        if coefficients is None:
            series = sp.series(diff, eps, 0, first + 1).removeO()
            coefficients = {first: sp.expand(series).coeff(eps, first)}
        difference = _tidy(coefficients.get(first, sp.S.Zero)) * eps**first
    return Outcome("disagrees", "series", difference, witness, order=first - 1,
                   note=f"differs at order {eps}^{first}; claimed through {eps}^{order}")


def _first_nonzero_order(expr, eps, order: int) -> int | None:
    """Lowest k <= order with a nonzero coefficient of eps^k in expr (numbers otherwise)."""
    coefficients = series_coefficients(expr, eps, order)
    if coefficients is None:
        series = sp.series(expr, eps, 0, order + 1).removeO()
        coefficients = {k: sp.expand(series).coeff(eps, k) for k in range(-4, order + 1)}
    for k in sorted(coefficients):
        c = coefficients[k]
        if c != 0 and not _close(evaluate(c, {}), mpmath.mpf(0)):
            return k
    return None


def _numerically_zero(expr, seed: int) -> bool:
    for point in witness_points([expr], seed):
        if not _close(evaluate(expr, point), mpmath.mpf(0)):
            return False
    return True


def _series_witness(p, d, eps, expansion: Expansion, opaque, seed: int) -> Witness:
    fixed = {eps: expansion.witness_value}
    pp, dd = p.xreplace(opaque), d.xreplace(opaque)
    point = witness_points([pp, dd], seed, count=1, fixed=fixed)[0]
    vp, vd = evaluate(pp, point), evaluate(dd, point)
    return Witness(_point_json(point, opaque), _fmt(vp), _fmt(vd), _fmt(vp - vd))


def compare_bound(bound, derived, relation: str, *, seed: int = 0) -> Outcome:
    """``derived relation bound`` on a wide grid (each positive variable 1e-3 .. 1e3)."""
    derived, bound = sp.sympify(derived), sp.sympify(bound)
    opaque = _opaque([derived, bound])
    if opaque:
        return Outcome("not_checked", "bound", note="the derived side calls an undefined function")
    free = sorted((derived - bound).free_symbols, key=lambda s: s.name)
    grid = [sp.Rational(f"{10 ** ((2 * k + 1) / 8):.6g}") for k in range(-12, 12)]  # rational, never 1
    grid += [sp.Rational(999, 1000), sp.Rational(1001, 1000)]
    points = [{}] if not free else []
    rng = random.Random(seed)
    if len(free) == 1:
        points = [{free[0]: g if free[0].is_positive else (g if rng.random() < 0.5 else -g)} for g in grid]
    elif free:
        points = [{s: rng.choice(grid) for s in free} for _ in range(len(grid))]
    f_derived = sp.lambdify(free, derived, "mpmath") if free else None
    f_bound = sp.lambdify(free, bound, "mpmath") if free else None

    def at(f, expr, point):
        if f is None:
            return evaluate(expr, point)
        with mpmath.workdps(DIGITS):
            try:
                return mpmath.mpmathify(f(*[mpmath.mpf(point[s].p) / point[s].q if point[s].is_Rational
                                            else mpmath.mpmathify(complex(point[s])) for s in free]))
            except (TypeError, ValueError, ZeroDivisionError):
                return mpmath.mpc(mpmath.nan)

    for point in points:
        vd, vb = at(f_derived, derived, point), at(f_bound, bound, point)
        with mpmath.workdps(DIGITS):
            real = not isinstance(vd, mpmath.mpc) or abs(vd.imag) <= TOLERANCE * (abs(vd) + 1)
            ok = real and (mpmath.re(vd) < mpmath.re(vb) if relation == "<" else mpmath.re(vd) > mpmath.re(vb))
        if not ok:
            witness = Witness(_point_json(point, {}), _fmt(vb), _fmt(vd), _fmt(vb - vd))
            return Outcome("disagrees", "bound", None, witness, note=f"derived is not {relation} {bound} here")
    return Outcome("agrees", "bound", note=f"derived {relation} {bound} at {len(points)} grid points")


# ---------------------------------------------------------------- matrices


def compare_matrix(printed: sp.MatrixBase, derived: sp.MatrixBase, *, rows=None, columns=None,
                   column_signs: str = "fixed", entries=None, **options) -> list[tuple[str, Outcome]]:
    """Entry by entry; ``column_signs='free'`` lets each derived column flip sign (eigenvectors);
    ``entries``: compare only these ("row,column") entries."""
    if printed.shape != derived.shape:
        return [("shape", Outcome("disagrees", "symbolic",
                                  note=f"printed is {printed.shape}, derived is {derived.shape}"))]
    n, m = printed.shape
    rows = rows or [str(i + 1) for i in range(n)]
    columns = columns or [str(j + 1) for j in range(m)]
    results = []
    wanted = None if entries is None else set(entries)
    for j in range(m):
        picked = [i for i in range(n) if wanted is None or f"{rows[i]},{columns[j]}" in wanted]
        if not picked:
            continue
        every = list(range(n)) if column_signs == "free" else picked  # a sign is chosen for the whole column
        outcomes = {i: compare(printed[i, j], derived[i, j], **options) for i in every}
        if column_signs == "free" and not all(o.agrees for o in outcomes.values()):
            flipped = {i: compare(printed[i, j], -derived[i, j], **options) for i in every}
            if _column_score(printed, j, flipped) > _column_score(printed, j, outcomes):
                outcomes = {i: _noted(o, "derived column taken with the opposite sign") for i, o in flipped.items()}
        for i in picked:
            results.append((f"{rows[i]},{columns[j]}", outcomes[i]))
    order = {f"{r},{c}": (a, b) for a, r in enumerate(rows) for b, c in enumerate(columns)}
    return sorted(results, key=lambda item: order[item[0]])


def _column_score(printed, j, outcomes) -> tuple[int, float]:
    """Agreeing entries of a column, then their printed size (a tie goes to the sign under
    which the larger entries agree)."""
    count, size = 0, 0.0
    for i, o in outcomes.items():
        if o.agrees:
            count += 1
            size += _size(printed[i, j])
    return count, size


def _size(expr) -> float:
    """|expr| at the point where every symbol is 1/2 and every undefined call 1/3 (a rough size)."""
    expr = sp.sympify(expr)
    calls = {c: sp.Rational(1, 3) for c in expr.atoms(sp.core.function.AppliedUndef)}
    value = expr.xreplace(calls).xreplace({s: sp.Rational(1, 2) for s in expr.free_symbols})
    try:
        return abs(complex(sp.N(value)))
    except (TypeError, ValueError):
        return 0.0


def _noted(outcome: Outcome, note: str) -> Outcome:
    joined = f"{outcome.note}; {note}" if outcome.note else note
    return Outcome(outcome.status, outcome.method, outcome.difference, outcome.witness, outcome.order, joined)
