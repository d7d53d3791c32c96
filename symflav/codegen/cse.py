"""One common sub-expression elimination over all outputs of a function.

:func:`straight_line` turns a list of expressions (every output of one generated
function: all matrix entries of both mass matrices, say) into a :class:`Block`:
assignments ``t_k = ...`` followed by the outputs in terms of the inputs and the
``t_k``. Three passes:

1. :func:`factor_sums` pulls common factors out of sums (numeric content first, then
   greedily the factor shared by most terms, recursively -- a multivariate Horner
   form), which saves multiplications and exposes shared pieces;
2. sympy's ``cse`` over all outputs at once (canonical order, deterministic);
3. bases of integer powers that are not symbols get their own assignment, so that
   ``(a + b)**2`` is printed ``t*t`` and never recomputed, and ``v**3`` is ``t*v`` when
   ``t = v**2`` exists. (Numeric factors pulled out of sums are held as symbols during
   the CSE, so that sympy does not distribute ``2*(a + b)`` again.)

The result is algebraically identical to the input (checked by the tests); only the
order of floating-point operations changes.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import sympy as sp

from symflav.codegen.printer import MAX_PRODUCT_POWER


@dataclass(frozen=True)
class Block:
    """Straight-line code: ``assignments`` in order, then ``outputs``."""

    assignments: tuple[tuple[sp.Symbol, sp.Expr], ...]
    outputs: tuple[sp.Expr, ...]

    @property
    def operations(self) -> int:
        """Arithmetic operations and function calls when printed (one per array op)."""
        return sum(count_operations(e) for _, e in self.assignments) + sum(
            count_operations(e) for e in self.outputs
        )

    def substituted(self) -> tuple[sp.Expr, ...]:
        """The outputs with every assignment substituted back (for checks)."""
        values: dict[sp.Symbol, sp.Expr] = {}
        for sym, rhs in self.assignments:
            values[sym] = rhs.xreplace(values)
        return tuple(e.xreplace(values) for e in self.outputs)


def count_operations(expr) -> int:
    """Number of binary operations and calls in the printed form of ``expr``."""
    if not isinstance(expr, sp.Basic) or expr.is_Atom:
        return 0
    if expr.is_Pow:
        base, exp = expr.args
        inner = count_operations(base)
        if exp.is_Integer and abs(exp) <= MAX_PRODUCT_POWER:
            return inner + abs(int(exp)) - 1 + (1 if exp < 0 else 0)
        return inner + 1
    if expr.is_Add or expr.is_Mul:
        args = expr.args
        if expr.is_Mul and args and args[0] == -1:
            args = args[1:]  # printed as unary minus, folded into the enclosing sum
        return sum(count_operations(a) for a in args) + max(len(args) - 1, 0)
    return sum(count_operations(a) for a in expr.args) + 1


# ---------------------------------------------------------------- factoring


def _factor_powers(term) -> tuple[sp.Expr, Counter]:
    """A term of a sum as (numeric coefficient, {factor: multiplicity})."""
    coeff, rest = term.as_coeff_Mul()
    powers: Counter = Counter()
    for factor in sp.Mul.make_args(rest):
        base, exp = factor.as_base_exp()
        if exp.is_Integer and exp > 0 and not base.is_Number:
            powers[base] += int(exp)
        elif factor is not sp.S.One:
            powers[factor] += 1
    return coeff, powers


def _rebuild(coeff, powers: Counter) -> sp.Expr:
    factors = [b**k if k > 1 else b for b, k in sorted(powers.items(), key=lambda kv: sp.default_sort_key(kv[0]))]
    if coeff != 1:
        factors.insert(0, coeff)
    if not factors:
        return coeff
    return sp.Mul(*factors, evaluate=False) if len(factors) > 1 else factors[0]


def factor_sums(expr, protect=None):
    """Pull common factors out of every sum in ``expr`` (same value).

    The result is unevaluated (sympy would distribute ``2*(a + b)`` again), unless
    ``protect`` maps the numeric contents to symbols, which keeps it safe to evaluate.
    """
    if not isinstance(expr, sp.Basic) or expr.is_Atom:
        return expr
    if expr.is_Add:
        return _factor_add(expr.args, protect)
    new_args = [factor_sums(a, protect) for a in expr.args]
    if all(n is o for n, o in zip(new_args, expr.args)):
        return expr
    return _build(expr, new_args)


def _build(expr, args):
    try:
        return expr.func(*args, evaluate=False)
    except TypeError:
        return expr.func(*args)


def _factor_add(terms, protect=None) -> sp.Expr:
    parts = [_factor_powers(t) for t in terms]
    # numeric content: 2*a + 4*b -> 2*(a + 2*b)
    coeffs = [c for c, _ in parts]
    content = _content(coeffs)
    if content != 1:
        parts = [(c / content, p) for c, p in parts]
    counts: Counter = Counter()
    for _, powers in parts:
        counts.update(powers.keys())
    shared = [f for f, n in counts.items() if n >= 2]
    if shared:
        best = max(sorted(shared, key=sp.default_sort_key), key=lambda f: counts[f])
        inside, outside = [], []
        for c, powers in parts:
            if best in powers:
                reduced = Counter(powers)
                reduced[best] -= 1
                if not reduced[best]:
                    del reduced[best]
                inside.append(_rebuild(c, reduced))
            else:
                outside.append(_rebuild(c, powers))
        inner = _factor_add(inside, protect) if len(inside) > 1 else factor_sums(inside[0], protect)
        product = sp.Mul(best, inner, evaluate=False)
        rest = [factor_sums(t, protect) for t in outside]
        if rest:
            result = sp.Add(*(_sorted_terms(rest) + [product]), evaluate=False)
        else:
            result = product
    else:
        result = sp.Add(*_sorted_terms([factor_sums(_rebuild(c, p), protect) for c, p in parts]), evaluate=False)
    if content != 1:
        result = sp.Mul(protect(content) if protect else content, result, evaluate=False)
    return result


def _sorted_terms(terms):
    return sorted(terms, key=sp.default_sort_key)


def _content(coeffs) -> sp.Expr:
    """Greatest common rational factor of the coefficients (sign of the first kept)."""
    if not coeffs or not all(c.is_Rational for c in coeffs):
        return sp.S.One
    nums = [abs(c.p) for c in coeffs]
    dens = [c.q for c in coeffs]
    g = sp.Rational(sp.igcd(*nums) if len(nums) > 1 else nums[0], sp.ilcm(*dens) if len(dens) > 1 else dens[0])
    if g == 0:
        return sp.S.One
    if all(c < 0 for c in coeffs):
        g = -g
    return g


# ---------------------------------------------------------------- the block


def straight_line(exprs, *, prefix: str = "t", factor: bool = True) -> Block:
    """One CSE over all ``exprs`` (see the module docstring)."""
    exprs = [sp.sympify(e) for e in exprs]
    taken = set().union(*(e.free_symbols for e in exprs)) if exprs else set()
    names = (s for s in sp.numbered_symbols(prefix, cls=sp.Symbol, real=True) if s not in taken)
    # numeric contents pulled out of sums stand for themselves as symbols during the CSE,
    # so that sympy does not distribute them again
    numbers: dict[sp.Symbol, sp.Expr] = {}

    def protect(value):
        sym = sp.Dummy(f"n{len(numbers)}", real=True)
        numbers[sym] = value
        return sym

    prepared = [factor_sums(e, protect) for e in exprs] if factor else exprs
    replacements, reduced = sp.cse(prepared, symbols=names, order="canonical")
    if factor:  # the CSE splits sums; factor the pieces again
        replacements = [(s, factor_sums(e, protect)) for s, e in replacements]
        reduced = [factor_sums(e, protect) for e in reduced]
    if numbers:
        replacements = [(s, _restore(e, numbers)) for s, e in replacements]
        reduced = [_restore(e, numbers) for e in reduced]
    return _hoist_power_bases(replacements, reduced, names)


def _restore(expr, numbers):
    """Put the numbers back for the protecting symbols, without re-evaluating."""
    if expr in numbers:
        return numbers[expr]
    if not isinstance(expr, sp.Basic) or expr.is_Atom or not expr.args:
        return expr
    args = [_restore(a, numbers) for a in expr.args]
    if all(n is o for n, o in zip(args, expr.args)):
        return expr
    return _build(expr, args)


def _hoist_power_bases(replacements, reduced, names) -> Block:
    """Give every compound base of an integer power its own assignment, and write a power
    of a symbol whose square (or higher power) is already assigned with that assignment."""
    out = []
    known: dict[sp.Expr, sp.Symbol] = {}
    powers: dict[sp.Symbol, list[tuple[int, sp.Symbol]]] = {}

    def visit(expr):
        if not isinstance(expr, sp.Basic) or expr.is_Atom:
            return expr
        args = [visit(a) for a in expr.args]
        if expr.is_Pow and expr.exp.is_Integer and abs(expr.exp) >= 2 and not args[0].is_Atom:
            base = args[0]
            if base not in known:
                known[base] = next(names)
                out.append((known[base], base))
            return sp.Pow(known[base], expr.exp, evaluate=False)
        if expr.is_Pow and expr.exp.is_Integer and expr.exp >= 3 and args[0].is_Symbol:
            usable = [(k, t) for k, t in powers.get(args[0], []) if k < expr.exp]
            if usable:
                k, t = max(usable, key=lambda kt: kt[0])
                rest = expr.exp - k
                return sp.Mul(t, args[0] if rest == 1 else sp.Pow(args[0], rest, evaluate=False), evaluate=False)
        if all(n is o for n, o in zip(args, expr.args)):
            return expr
        return _build(expr, args)

    for sym, rhs in replacements:
        new = visit(rhs)
        out.append((sym, new))
        if new.is_Pow and new.base.is_Symbol and new.exp.is_Integer and new.exp >= 2:
            powers.setdefault(new.base, []).append((int(new.exp), sym))
    outputs = tuple(visit(e) for e in reduced)
    return Block(tuple(out), outputs)
