"""Series patches for removable singularities of one-variable functions.

Loop functions such as ``(1 - 4x^2 + x^4 (3 - 4 log x)) / (2 (1 - x^2)^3)`` are finite
for every x > 0, but their closed forms lose digits near x = 1 (numerator and
denominator vanish together) and may overflow or cancel at very small or large x.
:func:`stitch` turns such a closed form into a piecewise evaluation that is accurate to
``tolerance`` (default 1e-13) relative everywhere on x > 0:

* **where the closed form is trusted** is decided by a first-order rounding-error
  model of the printed formula (:class:`RoundingModel`): every operation adds one unit
  roundoff of its result, inputs' errors propagate with their derivatives; it is
  evaluated with mpmath (deterministic: the same cut-offs on every machine);
* **interior points** x0 > 0 where a denominator vanishes get a Taylor series, in
  ``t = x - x0`` or in ``s = log(x/x0)`` (whichever needs fewer terms: functions of x^2
  and log x converge much faster in s), with exact rational coefficients computed
  from the expression itself (:func:`expand`); a genuine pole is an error;
* **x -> 0 and x -> infinity** get, where the closed form fails (cancellation,
  overflow), an expansion ``w^v sum_n w^n P_n(log w)`` in ``w = x`` or ``w = 1/x``
  with exact coefficients polynomial in log w;
* cut-offs and orders come from error estimates: the closed form's modelled error
  must be below ``tolerance / SAFETY`` outside the patch, the series' truncation
  error (coefficient tail, extrapolated geometrically) plus the rounding of its
  Horner evaluation below ``tolerance / 2`` inside;
* anything the generator cannot guarantee (a zero of the function, a pole, an
  unsupported function) raises :class:`CodegenError` naming the place.

Only rational constants, ``+ * / **``, ``log``, ``exp`` and rational powers are
expanded exactly; that covers loop functions of one mass ratio.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from functools import reduce

import mpmath
import sympy as sp

from symflav.codegen.printer import CodegenError

#: Relative accuracy the stitched function guarantees on x > 0.
TOLERANCE = 1e-13
#: The closed form is trusted where its modelled error is below TOLERANCE / SAFETY.
SAFETY = 8
#: Largest series order tried.
MAX_ORDER = 90
UNIT_ROUNDOFF = 2.0**-53
_TINY = 2.2250738585072014e-308
_HUGE = 1e300
_MP_DPS = 60

# ====================================================================== exact series
# A coefficient is a polynomial in L = log(w) (only at x -> 0 / infinity):
# a tuple of Fractions (constant term first), trailing zeros stripped; () is zero.


def _padd(a, b):
    if not a:
        return b
    if not b:
        return a
    if len(a) < len(b):
        a, b = b, a
    out = list(a)
    for i, v in enumerate(b):
        out[i] += v
    while out and not out[-1]:
        out.pop()
    return tuple(out)


def _pmul(a, b):
    if not a or not b:
        return ()
    if len(a) == 1 and len(b) == 1:
        return (a[0] * b[0],)
    out = [Fraction(0)] * (len(a) + len(b) - 1)
    for i, u in enumerate(a):
        if u:
            for j, v in enumerate(b):
                out[i + j] += u * v
    while out and not out[-1]:
        out.pop()
    return tuple(out)


def _pscale(a, q):
    if not q:
        return ()
    return tuple(v * q for v in a)


def _integers(coeffs):
    """Logfree coefficients as (integers, common denominator)."""
    fracs = [c[0] if c else Fraction(0) for c in coeffs]
    den = math.lcm(*(f.denominator for f in fracs)) if fracs else 1
    return [f.numerator * (den // f.denominator) for f in fracs], den


def _const(q):
    q = Fraction(q)
    return (q,) if q else ()


class _NotExact(Exception):
    """The expression leaves the exactly expandable class."""


class Series:
    """Truncated Laurent series ``sum_{n=val}^{prec-1} c_n w^n + O(w^prec)``.

    ``coeffs[i]`` is the coefficient of ``w^(val+i)`` (a polynomial in L = log w).
    """

    __slots__ = ("val", "coeffs", "prec")

    def __init__(self, val: int, coeffs, prec: int):
        coeffs = list(coeffs[: max(prec - val, 0)])
        while coeffs and not coeffs[0]:
            coeffs.pop(0)
            val += 1
        if not coeffs:
            val = prec
        self.val, self.coeffs, self.prec = val, coeffs, prec

    def __repr__(self):
        return f"Series(val={self.val}, prec={self.prec}, {self.coeffs[:4]}...)"

    @staticmethod
    def constant(q, prec):
        return Series(0, [_const(q)], prec)

    def coeff(self, n):
        i = n - self.val
        return self.coeffs[i] if 0 <= i < len(self.coeffs) else ()

    @property
    def is_zero(self):
        return not self.coeffs

    @property
    def logfree(self):
        return all(len(c) <= 1 for c in self.coeffs)

    def __add__(self, other):
        val = min(self.val, other.val)
        prec = min(self.prec, other.prec)
        return Series(val, [_padd(self.coeff(n), other.coeff(n)) for n in range(val, prec)], prec)

    def __neg__(self):
        return Series(self.val, [_pscale(c, -1) for c in self.coeffs], self.prec)

    def scaled(self, q):
        return Series(self.val, [_pscale(c, Fraction(q)) for c in self.coeffs], self.prec)

    def __mul__(self, other):
        if self.is_zero or other.is_zero:
            prec = min(self.prec + other.val, other.prec + self.val)
            return Series(prec, [], prec)
        val = self.val + other.val
        prec = min(self.prec + other.val, other.prec + self.val)
        a, b = self.coeffs, other.coeffs
        n = prec - val
        out = [()] * n
        if self.logfree and other.logfree:
            # exact convolution in integers over common denominators (much faster than Fractions)
            ai, ad = _integers(a)
            bi, bd = _integers(b)
            den = ad * bd
            nb = len(bi)
            for m in range(n):
                s = 0
                for i in range(max(0, m - nb + 1), min(m + 1, len(ai))):
                    s += ai[i] * bi[m - i]
                out[m] = (Fraction(s, den),) if s else ()
        else:
            for m in range(n):
                s = ()
                for i in range(max(0, m - len(b) + 1), min(m + 1, len(a))):
                    s = _padd(s, _pmul(a[i], b[m - i]))
                out[m] = s
        return Series(val, out, prec)

    def inverse(self):
        """1/self by Newton's iteration y <- y + y (1 - self y), doubling the precision."""
        if self.is_zero:
            raise _NotExact("division by a series known to vanish to all computed orders")
        lead = self.coeffs[0]
        if len(lead) != 1:
            raise _NotExact("leading coefficient depends on log")
        n = self.prec - self.val  # relative precision
        shifted = Series(0, self.coeffs, n)
        y = Series(0, [(1 / lead[0],)], 1)
        p = 1
        while p < n:
            p = min(2 * p, n)
            yp = Series(0, y.coeffs + [()] * (p - len(y.coeffs)), p)
            residual = Series.constant(1, p) + -(Series(0, shifted.coeffs, p) * yp)
            y = yp + yp * residual
        return Series(-self.val, y.coeffs, -self.val + n)

    def __truediv__(self, other):
        return self * other.inverse()

    def power(self, k: int):
        if k < 0:
            return self.inverse().power(-k)
        if k == 0:
            return Series.constant(1, self.prec - self.val)
        result, base = None, self
        while k:
            if k & 1:
                result = base if result is None else result * base
            k >>= 1
            if k:
                base = base * base
        return result

    def split_lead(self):
        """(val, c0, r) with self = w^val c0 (1 + r), r of valuation >= 1, c0 rational."""
        lead = self.coeffs[0] if self.coeffs else ()
        if len(lead) != 1:
            raise _NotExact("leading coefficient is zero or depends on log")
        c0 = lead[0]
        rel = self.prec - self.val
        r = Series(0, [()] + [_pscale(c, 1 / c0) for c in self.coeffs[1:]], rel)
        return self.val, c0, r


def _compose(r: Series, coefficients) -> Series:
    """sum_k coefficients[k] r^k for r of valuation >= 1 (truncated to r's precision)."""
    prec = r.prec
    result = Series.constant(coefficients[0], prec)
    power = Series.constant(1, prec)
    for k in range(1, prec):
        if r.is_zero:
            break
        power = power * r
        if power.val >= prec:
            break
        if coefficients[k]:
            result = result + power.scaled(coefficients[k])
    return result


@dataclass(frozen=True)
class Expansion:
    """Where and in what variable to expand: ``x = x0 + w`` (``"t"``), ``x = x0 e^w``
    (``"s"``), ``x = w`` (``"zero"``) or ``x = 1/w`` (``"infinity"``)."""

    kind: str
    x0: Fraction = Fraction(0)

    def variable(self) -> str:
        return {
            "t": f"t = x - {self.x0}",
            "s": f"s = log(x/{self.x0})" if self.x0 != 1 else "s = log(x)",
            "zero": "w = x",
            "infinity": "w = 1/x",
        }[self.kind]


def expand(expr, x, where: Expansion, order: int) -> Series:
    """Exact series of ``expr`` in the variable of ``where``, relative order >= ``order``.

    Raises :class:`CodegenError` if ``expr`` has a pole there (interior points), or is
    outside the exactly expandable class.
    """
    extra = 8
    for _ in range(6):
        try:
            series = _expand(sp.sympify(expr), x, where, order + extra + 1)
        except _NotExact as exc:
            raise CodegenError(f"cannot expand {expr} at {where.variable()}: {exc}") from None
        if series.is_zero or series.prec - series.val < order + 1:
            extra *= 2
            continue
        return series
    raise CodegenError(f"series of {expr} at {where.variable()}: could not reach order {order}")


def _leaf_x(where: Expansion, prec: int) -> Series:
    """The expansion variable itself: x = x0 + t, x = x0 e^s, x near 0 or near infinity."""
    if where.kind == "t":
        return Series(0, [_const(where.x0), _const(1)] + [()] * prec, prec)
    if where.kind == "s":
        coeffs, term = [], Fraction(where.x0)
        for k in range(prec):
            coeffs.append(_const(term))
            term /= k + 1
        return Series(0, coeffs, prec)
    if where.kind == "zero":
        return Series(1, [_const(1)] + [()] * prec, prec)
    return Series(-1, [_const(1)] + [()] * (prec + 1), prec)


def _log_of(u: Series, where: Expansion) -> Series:
    """log u, exact in rationals (and the log of the expansion variable for a vanishing or
    diverging u at zero or infinity); :class:`_NotExact` otherwise."""
    val, c0, r = u.split_lead()
    if val and where.kind in ("t", "s"):
        raise _NotExact("logarithm of a function that vanishes or diverges at the point")
    if c0 <= 0:
        raise _NotExact("logarithm of a negative leading coefficient")
    if c0 != 1:
        raise _NotExact(f"log({c0}) is not rational")
    prec_rel = r.prec
    if r.logfree:
        # log(1 + r) = integral of r'/(1 + r)
        one_plus = Series.constant(1, prec_rel) + r
        deriv = Series(0, [_pscale(r.coeff(n + 1), n + 1) for n in range(prec_rel - 1)], prec_rel - 1)
        q = deriv * one_plus.inverse()
        body = Series(0, [()] + [_pscale(q.coeff(n), Fraction(1, n + 1)) for n in range(q.prec)], q.prec + 1)
    else:
        coeffs = [Fraction(0)] + [Fraction((-1) ** (k + 1), k) for k in range(1, prec_rel)]
        body = _compose(r, coeffs)
    if val:
        log_w = Series(0, [(Fraction(0), Fraction(val))], body.prec)  # val * L
        return log_w + body
    return body


def _exp_of(u: Series) -> Series:
    """exp u for an argument that vanishes at the point."""
    if not u.is_zero and u.val < 1:
        raise _NotExact("exp of an argument that does not vanish at the point")
    coeffs, f = [], Fraction(1)
    for k in range(u.prec):
        coeffs.append(f)
        f /= k + 1
    return _compose(u, coeffs)


def _rational_power(b: Series, e: Fraction) -> Series:
    """b**e for a rational e, when the leading coefficient has a rational root."""
    val, c0, r = b.split_lead()
    if (val * e).denominator != 1:
        raise _NotExact("fractional power of the expansion variable")
    root = sp.Rational(c0.numerator, c0.denominator) ** sp.Rational(e.numerator, e.denominator)
    if not root.is_Rational:
        raise _NotExact(f"{c0}**{e} is not rational")
    coeffs, binom = [], Fraction(1)
    for k in range(r.prec):
        coeffs.append(binom)
        binom = binom * (e - k) / (k + 1)
    body = _compose(r, coeffs).scaled(Fraction(int(root.p), int(root.q)))
    shift = int(val * e)
    return Series(body.val + shift, body.coeffs, body.prec + shift)


def _expand(expr, x, where: Expansion, prec: int) -> Series:
    """The series of ``expr`` in the variable ``x`` at ``where``, to ``prec`` orders, exact in
    rationals (a shared subexpression is expanded once); :class:`_NotExact` when it cannot be."""
    memo: dict = {}

    def go(node) -> Series:
        if node in memo:
            return memo[node]
        if node == x:
            result = _leaf_x(where, prec)
        elif node.is_Rational:
            result = Series.constant(Fraction(int(node.p), int(node.q)), prec)
        elif node.is_Float:
            result = Series.constant(Fraction(float(node)), prec)
        elif node.is_Symbol:
            raise _NotExact(f"free symbol {node}")
        elif node.is_Add:
            result = reduce(lambda a, b: a + b, (go(a) for a in node.args))
        elif node.is_Mul:
            result = reduce(lambda a, b: a * b, (go(a) for a in node.args))
        elif node.is_Pow:
            base, exp = node.args
            if exp.is_Integer:
                result = go(base).power(int(exp))
            elif exp.is_Rational:
                result = _rational_power(go(base), Fraction(int(exp.p), int(exp.q)))
            else:
                raise _NotExact(f"power with exponent {exp}")
        elif isinstance(node, sp.log):
            result = _log_of(go(node.args[0]), where)
        elif isinstance(node, sp.exp):
            result = _exp_of(go(node.args[0]))
        else:
            raise _NotExact(f"{type(node).__name__} is not supported")
        memo[node] = result
        return result

    return go(expr)


# ====================================================================== rounding model


class RoundingModel:
    """First-order model of the rounding error of the printed closed form.

    Every operation of the printed form (products left to right, negative powers as
    one division, integer powers as products) adds one unit roundoff of its result;
    errors of operands propagate linearly; a result beyond 1e300 (overflow) is an
    infinite error, one below the smallest normal double (underflow) an absolute
    error of that size. Values are computed with mpmath at 60 digits, so the model
    (and every cut-off chosen from it) is the same on every machine.

    The expression is compiled once into a tape of operations.
    """

    def __init__(self, expr, x):
        self.expr = sp.sympify(expr)
        self.x = x
        self.tape: list[tuple] = []
        index: dict = {}

        def emit(op):
            self.tape.append(op)
            return len(self.tape) - 1

        def go(node):
            if node in index:
                return index[node]
            if node == x:
                i = emit(("x",))
            elif node.is_Number:
                with mpmath.workdps(_MP_DPS):
                    if node.is_Rational:
                        v = mpmath.mpf(int(node.p)) / int(node.q)
                    else:
                        v = mpmath.mpf(sp.Float(node, _MP_DPS))
                    e = 0.0 if mpmath.mpf(float(v)) == v else float(abs(v)) * UNIT_ROUNDOFF
                i = emit(("const", v, e))
            elif node.is_Add:
                i = emit(("add", tuple(go(a) for a in node.args)))
            elif node.is_Mul:
                num, den = [], []
                for arg in node.args:
                    if arg.is_Pow and arg.exp.is_Rational and arg.exp.is_negative:
                        base = arg.base if arg.exp == -1 else sp.Pow(arg.base, -arg.exp, evaluate=False)
                        den.append(go(base))
                    else:
                        num.append(go(arg))
                i = emit(("mul", tuple(num), tuple(den)))
            elif node.is_Pow:
                base, exp = node.args
                if exp.is_Integer and abs(exp) <= 8:
                    i = emit(("ipow", go(base), int(exp)))
                else:
                    with mpmath.workdps(_MP_DPS):
                        i = emit(("pow", go(base), mpmath.mpf(sp.Float(exp, _MP_DPS))))
            elif isinstance(node, sp.log):
                i = emit(("log", go(node.args[0])))
            elif isinstance(node, sp.exp):
                i = emit(("exp", go(node.args[0])))
            else:
                raise CodegenError(f"no rounding model for {type(node).__name__} in {expr}")
            index[node] = i
            return i

        go(self.expr)

    def evaluate(self, value) -> tuple[mpmath.mpf, float]:
        """(value of the expression, error bound of its float64 evaluation) at x = value."""
        u = UNIT_ROUNDOFF
        vals: list = []  # exact values (mpf)
        mags: list = []  # their magnitudes as floats
        errs: list = []  # error bounds (floats)
        inf = math.inf
        mpf = mpmath.mpf
        with mpmath.workdps(_MP_DPS):
            for op in self.tape:
                kind = op[0]
                if kind == "x":
                    v, e = mpf(value), 0.0
                elif kind == "const":
                    v, e = op[1], op[2]
                elif kind == "add":
                    v, e = mpf(0), 0.0
                    for k, i in enumerate(op[1]):
                        v += vals[i]
                        e += errs[i] + (abs(float(v)) * u if k else 0.0)
                elif kind == "mul":
                    v, e, m = _product(vals, mags, errs, op[1], u) if op[1] else (mpf(1), 0.0, 1.0)
                    if op[2]:
                        q, eq, mq = _product(vals, mags, errs, op[2], u)
                        if not q:
                            v, e = mpf(0), inf
                        else:
                            v = v / q
                            e = e / mq + (m / mq) * (eq / mq) + abs(float(v)) * u
                elif kind == "ipow":
                    b, eb, mb = vals[op[1]], errs[op[1]], mags[op[1]]
                    n = abs(op[2])
                    v = b**n
                    av = abs(float(v))
                    e = n * (av / mb if mb else 0.0) * eb + (n - 1) * av * u
                    if op[2] < 0:
                        if not v:
                            v, e = mpf(0), inf
                        else:
                            e = (e / av) / av + u / av
                            v = 1 / v
                elif kind == "pow":
                    b, eb, mb = vals[op[1]], errs[op[1]], mags[op[1]]
                    if not b:
                        v, e = mpf(0), inf
                    else:
                        v = mpmath.power(b, op[2])
                        e = abs(float(v)) * (abs(float(op[2])) * eb / mb + 2 * u)
                elif kind == "log":
                    a, ea, ma = vals[op[1]], errs[op[1]], mags[op[1]]
                    if a <= 0:
                        v, e = mpf(0), inf
                    else:
                        v = mpmath.log(a)
                        e = ea / ma + abs(float(v)) * 2 * u
                else:  # exp
                    a, ea = vals[op[1]], errs[op[1]]
                    v = mpmath.exp(a)
                    e = abs(float(v)) * (ea + 2 * u)
                av = abs(float(v))
                if av > _HUGE:
                    e = inf
                elif av < _TINY:
                    e += _TINY
                vals.append(v)
                mags.append(av)
                errs.append(e)
        return vals[-1], errs[-1]

    def relative_error(self, value) -> float:
        """Modelled relative error at x = value (inf where the closed form cannot be trusted)."""
        v, e = self.evaluate(value)
        if e == math.inf or not v:
            return math.inf
        return e / float(abs(v))


def _product(vals, mags, errs, indices, u):
    """Left-to-right product: (value, error bound, magnitude)."""
    p, e, m = vals[indices[0]], errs[indices[0]], mags[indices[0]]
    for i in indices[1:]:
        p = p * vals[i]
        mp = abs(float(p))
        e = e * mags[i] + m * errs[i] + mp * u
        m = mp
    return p, e, m


# ====================================================================== stitching


@dataclass(frozen=True)
class Patch:
    """A series used on ``lower < x < upper`` (``None``: unbounded).

    The value is ``w**valuation * sum_j L**j * sum_n coefficients[j][n] * z**n`` with
    ``z = w**step``, ``L = log(w)``, and ``w`` given by ``expansion``.
    """

    expansion: Expansion
    lower: float | None
    upper: float | None
    valuation: int
    step: int
    coefficients: tuple[tuple[float, ...], ...]
    error_estimate: float
    exact_value: Fraction | None = None  # the limit at the point (interior patches)

    @property
    def order(self) -> int:
        return self.valuation + self.step * (max(len(c) for c in self.coefficients) - 1)

    def describe(self) -> str:
        where = {
            "t": f"Taylor series in t = x - {_num(self.expansion.x0)}",
            "s": "Taylor series in s = " + ("log(x)" if self.expansion.x0 == 1 else f"log(x/{_num(self.expansion.x0)})"),
            "zero": "expansion in x and log(x) at x -> 0",
            "infinity": "expansion in 1/x and log(x) at x -> infinity",
        }[self.expansion.kind]
        lo = "0" if self.lower is None else repr(self.lower)
        hi = "inf" if self.upper is None else repr(self.upper)
        return f"{lo} < x < {hi}: {where}, order {self.order} (estimated error {self.error_estimate:.1e})"


@dataclass(frozen=True)
class Stitched:
    """A closed form and the patches that make it accurate on x > 0."""

    expr: sp.Expr
    x: sp.Symbol
    patches: tuple[Patch, ...]
    tolerance: float
    singular_points: tuple[Fraction, ...]


def _num(q) -> str:
    q = Fraction(q)
    return str(q.numerator) if q.denominator == 1 else f"{q.numerator}/{q.denominator}"


def singular_points(expr, x) -> tuple[Fraction, ...]:
    """Positive rational points where a denominator of ``expr`` vanishes."""
    points = set()
    for node in sp.preorder_traversal(expr):
        if node.is_Pow and node.exp.is_negative and node.base.has(x):
            points |= _positive_roots(node.base, x)
    _, den = sp.fraction(sp.together(expr))
    points |= _positive_roots(den, x)
    return tuple(sorted(points))


def _positive_roots(den, x) -> set:
    roots = set()
    for factor, _ in sp.factor_list(den)[1]:
        if not factor.has(x):
            continue
        if factor.is_polynomial(x):
            for root in sp.Poly(factor, x).real_roots():
                if root.is_positive:
                    if not root.is_Rational:
                        raise CodegenError(f"irrational singular point {root} of {den} is not supported")
                    roots.add(Fraction(int(root.p), int(root.q)))
        elif isinstance(factor, sp.log) and factor.args[0] == x:
            roots.add(Fraction(1))
        elif factor == x or (factor.is_Pow and factor.base == x):
            continue
        else:
            raise CodegenError(f"cannot locate the zeros of the denominator factor {factor}")
    return roots


def _round_out(value: float, up: bool) -> float:
    """Round to two significant digits, away from the point the patch surrounds."""
    if value <= 0:
        return value
    exponent = math.floor(math.log10(value)) - 1
    scale = 10.0**exponent
    q = value / scale
    q = math.ceil(q - 1e-9) if up else math.floor(q + 1e-9)
    return float(f"{q * scale:.2g}") if q < 100 else float(f"{q * scale:.3g}")


class _Scanner:
    """Memoized trust test of the closed form, and the sign of the function."""

    def __init__(self, model: RoundingModel, target: float):
        self.model = model
        self.target = target
        self.cache: dict[float, tuple[float, int]] = {}

    def _look(self, value: float):
        if value not in self.cache:
            v, e = self.model.evaluate(value)
            rel = math.inf if (e == math.inf or not v) else e / float(abs(v))
            self.cache[value] = (rel, int(mpmath.sign(v)))
        return self.cache[value]

    def trusted(self, value: float) -> bool:
        return self._look(value)[0] <= self.target

    def sign(self, value: float) -> int:
        return self._look(value)[1]


def stitch(expr, x, *, tolerance: float = TOLERANCE) -> Stitched:
    """The patches that make ``expr`` accurate to ``tolerance`` on x > 0 (see module doc).

    Two closed forms are considered, the expression as given and ``cancel(together(.))``
    (one fraction, common factors removed); the one the closed form can be trusted on
    more widely around the singular points is used.
    """
    expr = sp.sympify(expr)
    if expr.free_symbols - {x}:
        raise CodegenError(f"{expr}: a loop function must depend on {x} only")
    points = singular_points(expr, x)
    forms = [expr]
    single = sp.cancel(sp.together(expr))
    if single != expr:
        forms.append(single)
    failures: list[CodegenError] = []
    ranked = []
    for index, form in enumerate(forms):
        scan = _Scanner(RoundingModel(form, x), tolerance / SAFETY)
        try:
            bounds = [_trust_bounds(form, points, i, scan) for i in range(len(points))]
        except CodegenError as exc:
            failures.append(exc)
            continue
        width = sum(math.log(hi / lo) for lo, hi in bounds)
        ranked.append((width, index, form, scan, bounds))
    for _, _, form, scan, bounds in sorted(ranked, key=lambda r: r[:2]):
        try:
            return _stitch_form(form, x, points, scan, bounds, tolerance)
        except CodegenError as exc:
            failures.append(exc)
    raise failures[0]


def _stitch_form(expr, x, points, scan, bounds, tolerance) -> Stitched:
    interior = [_interior_patch(expr, x, x0, lo, hi, tolerance) for x0, (lo, hi) in zip(points, bounds)]
    low = min((p.lower for p in interior), default=1.0)
    high = max((p.upper for p in interior), default=1.0)
    zero_patch, zero_top = _end_patch(expr, x, "zero", low, scan, tolerance)
    inf_patch, inf_bottom = _end_patch(expr, x, "infinity", high, scan, tolerance)
    patches = ([zero_patch] if zero_patch else []) + interior + ([inf_patch] if inf_patch else [])
    _check_between(expr, patches, scan, zero_top, inf_bottom)
    return Stitched(expr, x, tuple(patches), tolerance, tuple(points))


def _trust_bounds(expr, points, i, scan) -> tuple[float, float]:
    """(lower, upper): the closed form is trusted outside, near points[i]."""
    x0 = points[i]
    fx0 = float(x0)
    left_room = float(x0 - (points[i - 1] if i else 0)) / (2 if i else 1)
    right_room = float(points[i + 1] - x0) / 2 if i + 1 < len(points) else 10 * fx0
    r_left = _scan_side(fx0, min(left_room, 0.999 * fx0), -1, scan)
    r_right = _scan_side(fx0, right_room, +1, scan)
    lower = _round_out(fx0 - 1.25 * r_left, up=False)
    upper = _round_out(fx0 + 1.25 * r_right, up=True)
    if lower <= 0:
        raise CodegenError(f"{expr}: the patch around x = {x0} would reach x = 0")
    return lower, upper


def _interior_patch(expr, x, x0: Fraction, lower, upper, tolerance) -> Patch:
    fx0 = float(x0)
    best: Patch | None = None
    failure = None
    for kind in ("s", "t"):
        where = Expansion(kind, x0)
        w_range = (lower - fx0, upper - fx0) if kind == "t" else (math.log(lower / fx0), math.log(upper / fx0))
        try:
            patch = _fit_taylor(expr, x, where, w_range, lower, upper, tolerance,
                                max_order=best.order if best else MAX_ORDER)
        except CodegenError as exc:
            failure = failure or exc
            continue
        if best is None or patch.order < best.order:
            best = patch
    if best is None:
        raise CodegenError(f"{expr}: no convergent series around x = {x0} ({failure})")
    return best


def _scan_side(x0: float, room: float, sign: int, scan: _Scanner) -> float:
    """Smallest distance r such that the closed form is trusted at x0 + sign*r' for every
    scanned r' (20 per decade) from r out to 0.9 room."""
    top = math.log10(0.9 * room)
    last_good = None
    for j in range(int((top + 10) * 20) + 1):
        r = 10.0 ** (top - j / 20)
        if not scan.trusted(x0 + sign * r):
            break
        last_good = r
    if last_good is None:
        raise CodegenError(f"the closed form is not accurate anywhere near x = {x0}")
    return last_good


def _fit_taylor(expr, x, where, w_range, lower, upper, tolerance, max_order) -> Patch:
    order = min(24, max_order)
    while True:
        series = expand(expr, x, where, order + 8)
        if series.val < 0:
            raise CodegenError(f"{expr} has a pole of order {-series.val} at x = {where.x0}")
        if not series.logfree:
            raise CodegenError(f"{expr}: log terms in the expansion at x = {where.x0}")
        coeffs = [float(series.coeff(n)[0]) if series.coeff(n) else 0.0 for n in range(series.prec)]
        fitted = _choose_order(coeffs, w_range, tolerance)
        if fitted is not None and fitted[0] <= max_order:
            n, error = fitted
            c0 = series.coeff(0)
            return Patch(where, lower, upper, 0, 1, (tuple(coeffs[: n + 1]),), error,
                         c0[0] if c0 else Fraction(0))
        if order >= max_order:
            raise CodegenError(f"the series in {where.variable()} needs more than {max_order} terms on {w_range}")
        order = min(2 * order, max_order)


def horner_error(coeffs, w) -> tuple[float, float]:
    """(value, running rounding-error bound) of Horner's rule for sum coeffs[k] w^k.

    Higham's running bound u (2 sum_k |q_k| |w|^k - |q_0|), with q_k the intermediate
    Horner values; unlike the a-priori bound it does not grow with the number of
    terms when the terms decrease.
    """
    q = 0.0
    mu = 0.0
    for c in reversed(coeffs):
        q = q * w + c
        mu = mu * abs(w) + abs(q)
    return q, UNIT_ROUNDOFF * (2 * mu - abs(q))


def _choose_order(coeffs, w_range, tolerance):
    """Smallest order n such that at every sample w of ``w_range`` the truncation error
    (known tail + geometric extrapolation) plus Horner's rounding bound is below
    tolerance/2 relative to the value; None if the computed terms do not suffice."""
    radius = max(abs(w_range[0]), abs(w_range[1]))
    last = len(coeffs) - 1
    mags = [abs(c) * radius**k for k, c in enumerate(coeffs)]
    ratio = _geometric_ratio(mags)
    if ratio is None:
        return None
    samples = [w_range[0] + (w_range[1] - w_range[0]) * j / 32 for j in range(33)]
    values = [horner_error(coeffs, w)[0] for w in samples]
    if min(abs(v) for v in values) == 0:
        raise CodegenError("the function vanishes inside a series patch")
    for n in range(2, last - 5):
        worst = 0.0
        for w, v in zip(samples, values):
            a = abs(w)
            tail = sum(abs(coeffs[k]) * a**k for k in range(n + 1, last + 1))
            r = ratio * a / radius
            tail += max(abs(coeffs[k]) * a**k for k in range(last - 5, last + 1)) * r / (1 - r)
            rounding = horner_error(coeffs[: n + 1], w)[1]
            worst = max(worst, (tail + rounding) / abs(v))
            if worst > tolerance / 2:
                break
        if worst <= tolerance / 2:
            return n, worst
    return None


def _geometric_ratio(mags):
    """Decay per term of the envelope of the last computed terms (None if >= 0.95).

    Compares the largest of the last six terms with the largest of the six before, so
    that terms alternating in size (functions of x^2) do not fool the estimate.
    """
    tail = list(mags[-12:])
    if len(tail) < 12:
        return None
    before, last = max(tail[:6]), max(tail[6:])
    if last == 0:
        return 0.0
    if before == 0:
        return None
    ratio = (last / before) ** (1 / 6)
    return ratio if ratio < 0.95 else None


def _end_patch(expr, x, kind, inner, scan, tolerance):
    """(patch or None, decade where the scan of the inner region starts) at x -> 0 or infinity.

    Walks outward from the interior (a decade at a time to 1e-40, then every fourth
    decade to 1e-300; likewise to 1e300), then refines the first failure to a tenth
    of a decade.
    """
    sgn = -1 if kind == "zero" else 1
    start = math.floor(math.log10(inner)) + (0 if kind == "zero" else 1)
    # a decade at a time to 1e-40 (1e40), then every fourth decade to 1e-300 (1e300)
    near = list(range(start, sgn * 40, sgn))
    ks = near + list(range(sgn * 40, sgn * 301, sgn * 4))
    index = next((i for i, k in enumerate(ks) if not scan.trusted(10.0**k)), None)
    if index is None:
        return None, start
    previous = ks[index - 1] if index else start - sgn
    steps = round(abs(ks[index] - previous) * 10)
    # innermost failure on a grid of a tenth of a decade between the last good point and the failure
    last_bad = next(k for k in (previous + sgn * j / 10 for j in range(1, steps + 1)) if not scan.trusted(10.0**k))
    # one and a half grid steps inward of the innermost failure (this may reach inward of the
    # scan's start: the expansion then covers more)
    cut_k = last_bad - sgn * 0.15
    cut = _round_out(10.0**cut_k, up=(kind == "zero"))
    w_cut = cut if kind == "zero" else 1 / cut
    where = Expansion(kind)
    order = 8
    while True:
        series = expand(expr, x, where, order)
        fitted = _fit_end(series, w_cut, tolerance)
        if fitted is not None:
            valuation, step, table, error = fitted
            lower, upper = (None, cut) if kind == "zero" else (cut, None)
            return Patch(where, lower, upper, valuation, step, table, error), start
        if order >= MAX_ORDER:
            raise CodegenError(f"{expr}: the expansion in {where.variable()} does not reach the tolerance at x = {cut}")
        order = min(2 * order, MAX_ORDER)


def _fit_end(series: Series, w_cut: float, tolerance):
    """(valuation, step, coefficient table, error), or None if more terms are needed.

    The relative truncation error of an expansion in w at w -> 0 is largest at the cut.
    """
    v = series.val
    offsets = [n - v for n in range(v, series.prec) if series.coeff(n)]
    step = reduce(math.gcd, [o for o in offsets if o], 0) or 1
    log_w = math.log(w_cut)

    def term(n):
        return sum(float(q) * log_w**j for j, q in enumerate(series.coeff(n))) * w_cut ** (n - v)

    def size(n):
        return sum(abs(float(q)) * abs(log_w) ** j for j, q in enumerate(series.coeff(n))) * w_cut ** (n - v)

    terms = list(range(v, series.prec, step))
    mags = [size(n) for n in terms]
    ratio = _geometric_ratio(mags) if len(mags) >= 12 else None
    if ratio is None:
        return None
    for i in range(len(terms) - 3):
        tail = sum(mags[i + 1:]) + max(mags[-6:]) * ratio / (1 - ratio)
        value = abs(sum(term(n) for n in terms[: i + 1]))
        if value == 0:
            return None
        rounding = 4 * (i + 2) * UNIT_ROUNDOFF * sum(mags[: i + 1])
        error = (tail + rounding) / value
        if error <= tolerance / 2:
            kept = terms[: i + 1]
            degree = max(len(series.coeff(n)) for n in kept)
            table = tuple(
                tuple(float(series.coeff(n)[j]) if j < len(series.coeff(n)) else 0.0 for n in kept)
                for j in range(degree)
            )
            return v, step, table, error
    return None


def _check_between(expr, patches, scan: _Scanner, zero_top: int, inf_bottom: int):
    """Outside the patches the closed form must be trusted (50 points per decade between
    the end scans), and the function must keep its sign on the whole scanned range."""

    def covered(value):
        return any((p.lower is None or p.lower < value) and (p.upper is None or value < p.upper) for p in patches)

    for j in range(int((inf_bottom - zero_top) * 50) + 1):
        value = 10.0 ** (zero_top + j / 50)
        if not covered(value) and not scan.trusted(value):
            raise CodegenError(f"{expr}: the closed form loses accuracy at x = {value:.4g} and no patch covers it")
    def zero_in_patch(a, b):
        """A simple zero exactly at a patch's centre (I_m at x = 1) is harmless: the series
        there has no constant term, so it keeps its relative accuracy through the zero."""
        return any(p.exact_value == 0 and p.lower is not None and p.upper is not None
                   and a <= p.lower and p.upper <= b for p in patches)

    signs = [(value, scan.sign(value)) for value in sorted(scan.cache) if not covered(value)]
    for (a, sa), (b, sb) in zip(signs, signs[1:]):
        if (sa * sb < 0 and not zero_in_patch(a, b)) or (sa == 0 and a > 0):
            raise CodegenError(
                f"{expr} changes sign between x = {a:.4g} and {b:.4g}: relative accuracy cannot be "
                "guaranteed near a zero of the function"
            )
