"""The one strict numpy printer.

:class:`NumpyPrinter` is sympy's ``NumPyPrinter`` with ``strict=True`` and a few
rules that matter for speed, accuracy and reproducibility:

* every symbol must be named in ``names`` (inputs and common sub-expressions); an
  unknown symbol, or a function with no numpy equivalent, raises :class:`CodegenError`
  -- never half-printed code;
* integer powers are written as products (``x*x*x``, ``1/(x*x)``): a multiplication
  costs far less than ``numpy.power`` and is exact to one rounding per factor;
  ``x**(1/2)`` is ``np.sqrt(x)``;
* a sum leads with a positive term when it has one (``a - b*c``, not ``-b*c + a``: one
  negation fewer per evaluation);
* numbers are printed as Python literals: integers as integers, rationals and floats
  as ``repr(float(...))`` (shortest round-trip form, the same on every machine);
* functions produced elsewhere in the generated module (loop functions) are printed
  as calls when named in ``functions``;
* numpy functions are printed as ``np.<name>``.
"""

from __future__ import annotations

import keyword
import math

import sympy as sp
from sympy.printing.codeprinter import PrintMethodNotImplementedError
from sympy.printing.numpy import NumPyPrinter as _SympyNumPyPrinter
from sympy.printing.precedence import PRECEDENCE, precedence

#: Integer powers up to this exponent are written as products; larger ones as ``**``.
MAX_PRODUCT_POWER = 8


class CodegenError(ValueError):
    """An expression cannot be turned into the requested code."""


class NonFiniteError(CodegenError):
    """A number that is not a finite double (inf, nan, zoo) would be written into code."""


def finite_literal(value, what: str = "a number") -> str:
    """``repr(float(value))``, or :class:`NonFiniteError` when that is not finite (a generated
    file never holds inf or nan: they are not even Python literals)."""
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        raise NonFiniteError(f"{what} is not a finite real number: {value}") from None
    if not math.isfinite(number):
        raise NonFiniteError(f"{what} does not fit a double: {value}")
    return repr(number)


def is_identifier(name: str) -> bool:
    return name.isidentifier() and not keyword.iskeyword(name)


class NumpyPrinter(_SympyNumPyPrinter):
    """Strict numpy printer; see the module docstring for the rules."""

    _default_settings = {
        **_SympyNumPyPrinter._default_settings,
        "strict": True,
        "fully_qualified_modules": True,
        "names": None,
        "functions": None,
    }

    #: The name the generated module gives numpy (``jnp`` for jax.numpy).
    prefix = "np"

    def __init__(self, names: dict | None = None, functions: dict | None = None):
        super().__init__({"names": names or {}, "functions": functions or {}})
        self._names = {sym: str(name) for sym, name in (names or {}).items()}
        self._functions = dict(functions or {})
        for name in list(self._names.values()) + list(self._functions.values()):
            if not is_identifier(name):
                raise CodegenError(f"not a Python identifier: {name!r}")

    # ------------------------------------------------------------ entry point
    def doprint(self, expr, assign_to=None):  # noqa: D102
        try:
            return super().doprint(expr, assign_to)
        except PrintMethodNotImplementedError as exc:
            raise CodegenError(f"no numpy code for {_describe(expr, exc)}") from None

    def _module_format(self, fqn, register=True):
        if fqn.startswith("numpy."):
            return f"{self.prefix}." + fqn[len("numpy."):]
        raise CodegenError(f"the generated module imports only numpy, not {fqn}")

    # ------------------------------------------------------------ atoms
    def _print_Symbol(self, expr):
        try:
            return self._names[expr]
        except KeyError:
            raise CodegenError(f"unknown symbol {expr} (not an input of the generated function)") from None

    _print_Dummy = _print_Symbol

    def _print_Integer(self, expr):
        value = int(expr)
        return str(value) if abs(value) < 2**53 else finite_literal(value, f"the integer {expr}")

    def _print_Rational(self, expr):
        return finite_literal(expr, f"the rational {expr}")

    def _print_Float(self, expr):
        return finite_literal(expr, f"the number {expr}")

    def _print_Infinity(self, expr):
        raise NonFiniteError(f"{expr} cannot be written into code")

    _print_NegativeInfinity = _print_Infinity
    _print_ComplexInfinity = _print_Infinity
    _print_NaN = _print_Infinity

    def _print_Half(self, expr):
        return "0.5"

    def _print_Pi(self, expr):
        return repr(math.pi)

    def _print_Exp1(self, expr):
        return repr(math.e)

    def _print_ImaginaryUnit(self, expr):
        return "1j"

    # ------------------------------------------------------------ arithmetic
    def _print_Add(self, expr, order=None):
        terms = [(term, *term.as_coeff_mul()) for term in expr.args]
        signs = [coeff.is_extended_real and coeff.is_negative for _, coeff, _ in terms]
        if signs[0] and not all(signs):  # lead with a positive term: a - b, not -b + a
            first = signs.index(False)
            terms.insert(0, terms.pop(first))
            signs.insert(0, signs.pop(first))
        parts = []
        for i, ((term, coeff, factors), negative) in enumerate(zip(terms, signs)):
            if negative:
                text = self._product_text(-coeff, factors, PRECEDENCE["Add"])
            else:
                text = self.parenthesize(term, PRECEDENCE["Add"])
            if i == 0:
                parts.append("-" + text if negative else text)
            else:
                parts.append((" - " if negative else " + ") + text)
        return "".join(parts)

    def _print_Mul(self, expr):
        coeff, factors = expr.as_coeff_mul()
        if coeff.is_extended_real and coeff.is_negative:
            return "-" + self._product_text(-coeff, factors, PRECEDENCE["Mul"])
        return self._product_text(coeff, factors, PRECEDENCE["Mul"])

    def _product_text(self, coeff, factors, outer) -> str:
        """coeff * factors, with negative powers as one division (no evaluation)."""
        prec = PRECEDENCE["Mul"]
        numerator, denominator = [], []
        if coeff != 1 or not factors:
            numerator.append(self._print(coeff))
        for factor in factors:
            if factor.is_Pow and factor.exp.is_Rational and factor.exp.is_negative:
                base, exp = factor.args
                denominator.append(base if exp == -1 else sp.Pow(base, -exp, evaluate=False))
            else:
                numerator.append(self.parenthesize(factor, prec, strict=False))
        if not factors:
            return numerator[0]
        text = "*".join(numerator) if numerator else "1"
        if len(denominator) == 1:
            (d,) = denominator
            text += "/" + (f"({self._print(d)})" if _needs_parentheses_as_divisor(d) else self._print(d))
        elif denominator:
            text += "/(" + "*".join(self.parenthesize(d, prec, strict=False) for d in denominator) + ")"
        if len(numerator) + len(denominator) > 1 and outer > prec:
            return f"({text})"
        return text

    def _print_Pow(self, expr, rational=False):
        base, exp = expr.args
        prec = PRECEDENCE["Mul"]
        if exp.is_Integer and exp != 0 and abs(exp) <= MAX_PRODUCT_POWER:
            factor = self.parenthesize(base, prec, strict=False)
            product = "*".join([factor] * int(abs(exp)))
            if exp > 0:
                return product
            return "1/" + (product if abs(exp) == 1 and not _needs_parentheses_as_divisor(base) else f"({product})")
        if exp == sp.S.Half:
            return f"{self.prefix}.sqrt({self._print(base)})"
        if exp == -sp.S.Half:
            return f"1/{self.prefix}.sqrt({self._print(base)})"
        if exp.is_Integer:
            return f"{self.parenthesize(base, PRECEDENCE['Pow'], strict=True)}**{int(exp)}"
        return f"{self.prefix}.power({self._print(base)}, {self._print(exp)})"

    # ------------------------------------------------------------ functions
    def _print_Function(self, expr):
        name = expr.func.__name__
        if name in self._functions:
            return f"{self._functions[name]}({', '.join(self._print(a) for a in expr.args)})"
        return super()._print_Function(expr)

    def _print_conjugate(self, expr):
        return f"{self.prefix}.conjugate({self._print(expr.args[0])})"

    def _print_Abs(self, expr):
        return f"{self.prefix}.abs({self._print(expr.args[0])})"

    def _print_re(self, expr):
        return f"{self.prefix}.real({self._print(expr.args[0])})"

    def _print_im(self, expr):
        return f"{self.prefix}.imag({self._print(expr.args[0])})"

    def _print_exp(self, expr):
        return f"{self.prefix}.exp({self._print(expr.args[0])})"

    def _print_log(self, expr):
        if len(expr.args) != 1:
            raise CodegenError(f"log with a base: {expr}")
        return f"{self.prefix}.log({self._print(expr.args[0])})"

    def _print_not_supported(self, expr):
        raise CodegenError(f"no numpy code for {_describe(expr)}")

    def emptyPrinter(self, expr):
        raise CodegenError(f"no numpy code for {_describe(expr)}")


def _needs_parentheses_as_divisor(expr) -> bool:
    return not (expr.is_Atom or expr.is_Function) or precedence(expr) < PRECEDENCE["Atom"]


def _describe(expr, exc=None) -> str:
    if isinstance(expr, sp.Basic):
        for node in sp.preorder_traversal(expr):
            if isinstance(node, sp.Function) or isinstance(node, sp.core.function.AppliedUndef):
                head = type(node).__name__
                if head not in _SympyNumPyPrinter._kf and head not in (
                    "conjugate", "Abs", "re", "im", "exp", "log"
                ):
                    return f"the function {head} in {expr}"
    reason = f" ({exc})".split("\n")[0] if exc else ""
    return f"{expr}{reason}"


def print_expr(expr, names: dict, functions: dict | None = None) -> str:
    """``expr`` as a numpy expression; ``names`` maps every symbol to a Python name."""
    return NumpyPrinter(names, functions).doprint(sp.sympify(expr))
