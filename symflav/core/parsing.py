"""Whitelist parsers for text found in derivation files.

Nothing from a file is ever executed: expressions are parsed with :mod:`ast`
(which only builds a syntax tree) and every node is checked against a short
whitelist before a sympy object is built from it by hand. ``eval``, ``sympify``
and ``parse_expr`` are never called on file content.

Grammar of expressions: numbers (integers, decimals -- kept exact), declared
names, ``+ - * / ** ^`` (``^`` means power), parentheses, and the functions
``sqrt, log, exp, abs`` and the constant ``pi``.

Grammar of operators (monomials in the scalar fields), e.g. ``"phia† phib† phi1^2"``
or ``"(phi1† phi1)^2"``: factors separated by spaces or ``*``; a factor is a field
name, optionally daggered with ``†`` or ``^dag``, optionally raised to a positive
integer power with ``^n`` or ``**n``; parenthesised products may be raised too.
"""

from __future__ import annotations

import ast
import math
import re
from fractions import Fraction
from typing import Callable, Mapping

import sympy as sp

from symflav.core import limits
from symflav.core.limits import LimitError

FUNCTIONS: dict[str, Callable] = {
    "sqrt": sp.sqrt,
    "log": sp.log,
    "exp": sp.exp,
    "abs": sp.Abs,
}
CONSTANTS: dict[str, sp.Expr] = {"pi": sp.pi}

MAX_EXPRESSION_LENGTH = limits.MAX_FORMULA_CHARS
MAX_POWER = limits.MAX_POWER
_NOT_FINITE = (sp.zoo, sp.oo, -sp.oo, sp.nan)
# a numeric subexpression is judged by its value at this precision (digits): enough to tell
# 1e300 from 1e301, cheap because every number is bounded as soon as it is built
_EVAL_DIGITS = 20
_LARGEST_EXP = limits.MAX_DECIMAL_EXPONENT * math.log(10)  # exp(x) <= 1e300
_MAX_RATIONAL_BITS = 4 * limits.MAX_DECIMAL_EXPONENT * 4  # numerator, denominator of exact numbers


class ParseError(ValueError):
    """Raised with a short description of what is wrong with the text."""


def parse_number(value) -> sp.Rational:
    """An exact rational from a TOML int/float or a string like ``"2/5"``, ``"0.4"``.

    Floats are read through their shortest decimal representation, so ``0.4`` is 2/5.
    Only ASCII digits count; the size is judged from the text before any value is
    computed (:mod:`symflav.core.limits`: at most ``MAX_NUMBER_DIGITS`` digits, a decimal
    within 1e-300..1e300 in magnitude, or zero), so ``"1e99999999"`` costs no time.
    """
    try:
        return _parse_number(value)
    except LimitError as exc:
        raise ParseError(str(exc)) from None


_DECIMAL = re.compile(r"([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?", re.ASCII)
_RATIO = re.compile(r"[+-]?(\d+)\s*/\s*[+-]?(\d+)", re.ASCII)


def _parse_number(value) -> sp.Rational:
    if isinstance(value, bool):
        raise ParseError(f"{value!r} is not a number")
    if isinstance(value, int):
        limits.check_integer_size(value, "integer")
        return sp.Integer(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise ParseError(f"{value!r} is not a finite number")
        limits.check_magnitude(value, "number")
        return sp.Rational(str(Fraction(repr(value))))
    if isinstance(value, str):
        text = value.strip()
        decimal = _DECIMAL.fullmatch(text)
        if decimal and (decimal.group(2) or decimal.group(3)):
            whole, fraction, exponent = decimal.group(2), decimal.group(3) or "", decimal.group(4)
            if exponent is not None and len(exponent.lstrip("+-")) > 12:
                exponent_value = 10**13 if not exponent.startswith("-") else -10**13
            else:
                exponent_value = int(exponent or 0)
            limits.check_decimal(whole + fraction, len(whole), exponent_value, "number")
            frac = Fraction(text)
            return sp.Rational(frac.numerator, frac.denominator)
        ratio = _RATIO.fullmatch(text)
        if ratio:
            limits.check_digits(ratio.group(1), "numerator")
            limits.check_digits(ratio.group(2), "denominator")
            try:
                frac = Fraction(text.replace(" ", ""))
            except (ValueError, ZeroDivisionError) as exc:
                raise ParseError(f"{value!r} is not a rational number ({exc})") from None
            return sp.Rational(frac.numerator, frac.denominator)
        raise ParseError(f"{value!r} is not a rational number (write an integer or p/q, ASCII digits)")
    raise ParseError(f"{value!r} is not a number")


def parse_expression(
    text, names: Mapping[str, sp.Expr], functions: Mapping[str, Callable] | None = None, *, real: bool = False
) -> sp.Expr:
    """Parse ``text`` into a sympy expression over the symbols in ``names``.

    ``functions`` adds declared function names (name -> callable taking sympy
    arguments) to the built-in ones; the printed registry declares e.g. ``I_m_x``.
    Raises :class:`ParseError` naming the offending construct.

    Bounded work (:mod:`symflav.core.limits`): the text, its nesting depth, the terms it
    would expand to, every exponent and every number are checked before sympy works on
    them. A value that is not a number -- ``log(0)``, ``0^(-1)``, anything that overflows
    1e300 -- is refused; with ``real=True`` so is a number that is not real (``sqrt(-1)``).
    """
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        return parse_number(text)
    if not isinstance(text, str):
        raise ParseError(f"expected a formula (string), got {type(text).__name__}")
    try:
        limits.check_formula_text(text)
        # '^' means power, with the precedence of '**' (Python would read it as xor,
        # binding more loosely than '*': "4*pi^2" must be 4*pi**2, not (4*pi)**2).
        source = " ".join(text.split()).replace("^", "**")  # one line: segments by column
        if not source:
            raise ParseError("empty formula")
        try:
            tree = ast.parse(source, mode="eval")
        except SyntaxError as exc:
            raise ParseError(f"{_short(text)} is not a formula ({exc.msg})") from None
        except (RecursionError, MemoryError):  # the parser's own stack: nesting far above the limit
            limits.check_depth(limits.MAX_NESTING_DEPTH + 1)
        limits.check_depth(max(_depth(tree.body), _parentheses(source)))
        allowed = dict(FUNCTIONS)
        if functions:
            allowed.update(functions)
        expr, _ = _Builder(names, source, allowed, real, text).build(tree.body)
        return expr
    except LimitError as exc:
        raise ParseError(str(exc)) from None


def _short(text: str) -> str:
    return repr(text if len(text) <= 60 else text[:57] + "...")


def _depth(node: ast.AST) -> int:
    """Nesting depth of an expression tree, counted without recursion. A chain of sums
    (``a + b - c``) or of products (``a * b / c``) is one level, however long."""
    deepest, stack = 0, [(node, 1)]
    while stack:
        item, depth = stack.pop()
        deepest = max(deepest, depth)
        if deepest > limits.MAX_NESTING_DEPTH:
            break
        for child in ast.iter_child_nodes(item):
            if isinstance(child, (ast.operator, ast.unaryop, ast.expr_context)):
                continue
            same_chain = child is getattr(item, "left", None) and _chain(item) and _chain(child) == _chain(item)
            stack.append((child, depth if same_chain else depth + 1))
    return deepest


def _parentheses(text: str) -> int:
    """Deepest nesting of parentheses in ``text``."""
    depth = deepest = 0
    for char in text:
        if char == "(":
            depth += 1
            deepest = max(deepest, depth)
        elif char == ")":
            depth -= 1
    return deepest


def _chain(node: ast.AST) -> str | None:
    """``"sum"`` or ``"product"`` for a binary node of that kind, else None."""
    if isinstance(node, ast.BinOp):
        if isinstance(node.op, (ast.Add, ast.Sub)):
            return "sum"
        if isinstance(node.op, (ast.Mult, ast.Div)):
            return "product"
    return None


_BINOPS = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a / b,
    ast.Pow: lambda a, b: a**b,
    ast.BitXor: lambda a, b: a**b,
}


class _Builder:
    """Builds a sympy expression from a checked syntax tree, bounding it node by node.

    Each node returns ``(expr, terms)``; ``terms`` estimates how many terms the node
    expands to (sums add, products multiply, ``(a + b)^n`` counts monomials), kept at
    most ``MAX_FORMULA_TERMS``. A constant subexpression is evaluated as soon as it is
    built and must be a finite number within 1e-300..1e300 (or zero).
    """

    def __init__(self, names: Mapping[str, sp.Expr], source: str, functions, real: bool, text: str):
        self.names, self.source, self.functions, self.real = names, source, functions, real
        self.text = text  # as written, for messages
        self.encoded = source.encode("utf-8")  # ast's columns count UTF-8 bytes

    def build(self, node: ast.AST) -> tuple[sp.Expr, int]:
        expr, terms = self._node(node)
        return self._checked(expr, node), terms

    def segment(self, node: ast.AST) -> str:
        """The text of ``node`` (``ast.get_source_segment`` is linear in the text: too slow here)."""
        return self.encoded[node.col_offset:node.end_col_offset].decode("utf-8", "replace")

    def _node(self, node: ast.AST) -> tuple[sp.Expr, int]:
        if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
            return self._binop(node)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            operand, terms = self.build(node.operand)
            return (-operand if isinstance(node.op, ast.USub) else operand), terms
        if isinstance(node, ast.Constant):
            return self._constant(node), 1
        if isinstance(node, ast.Name):
            if node.id in self.names:
                return self.names[node.id], 1
            if node.id in CONSTANTS:
                return CONSTANTS[node.id], 1
            raise ParseError(f"unknown name {node.id!r}")
        if isinstance(node, ast.Call):
            return self._call(node)
        kind = type(node).__name__
        raise ParseError(f"{kind} is not allowed in a formula {_short(self.text)}")

    def _binop(self, node: ast.BinOp) -> tuple[sp.Expr, int]:
        kind = _chain(node)
        if kind is None:
            left, left_terms = self.build(node.left)
            return self._combine(node, left, left_terms)
        spine = [node]  # a long sum or product is walked as a list, not by recursion
        while _chain(spine[-1].left) == kind:
            spine.append(spine[-1].left)
        value, terms = self.build(spine[-1].left)
        for link in reversed(spine):
            value, terms = self._combine(link, value, terms)
            value = self._checked(value, link)
        return value, terms

    def _combine(self, node: ast.BinOp, left: sp.Expr, left_terms: int) -> tuple[sp.Expr, int]:
        right, right_terms = self.build(node.right)
        if isinstance(node.op, ast.Div) and right == 0:
            raise ParseError(f"division by zero in {_short(self.text)}")
        if isinstance(node.op, (ast.Pow, ast.BitXor)):
            if right.is_number:
                limits.check_power(right)
                if left == 0 and right.is_negative:
                    raise ParseError(f"division by zero (0 to a negative power) in {_short(self.text)}")
                exponent = int(abs(right)) if right.is_Integer else 1
                terms = limits.power_terms(left_terms, exponent)
            else:
                terms = left_terms * right_terms
        elif isinstance(node.op, (ast.Add, ast.Sub)):
            terms = left_terms + right_terms
        else:
            terms = left_terms * right_terms
        limits.expanded_terms(terms)
        return _BINOPS[type(node.op)](left, right), terms

    def _constant(self, node: ast.Constant) -> sp.Expr:
        if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
            raise ParseError(f"{node.value!r} is not allowed in a formula")
        segment = self.segment(node) or repr(node.value)
        return parse_number(segment)

    def _call(self, node: ast.Call) -> tuple[sp.Expr, int]:
        if not isinstance(node.func, ast.Name) or node.func.id not in self.functions:
            what = f"function {node.func.id!r}" if isinstance(node.func, ast.Name) else "this call"
            raise ParseError(f"{what} is not allowed (only {', '.join(self.functions)})")
        if node.keywords or len(node.args) != 1:
            raise ParseError(f"{node.func.id} takes exactly one argument")
        argument, terms = self.build(node.args[0])
        name = node.func.id
        if argument.is_number and name in ("log", "sqrt"):
            value = _value(argument)
            if name == "log" and value.real <= 0 and value.imag == 0:
                raise ParseError(f"log of {'zero' if value == 0 else 'a negative number'} in {_short(self.text)}")
            if name == "sqrt" and self.real and value.real < 0 and value.imag == 0:
                raise ParseError(f"sqrt of a negative number in {_short(self.text)}")
        if argument.is_number and name == "exp" and _value(argument).real > _LARGEST_EXP:
            raise LimitError(f"exp of {float(_value(argument).real):.4g} is larger than "
                             f"1e{limits.MAX_DECIMAL_EXPONENT} (it would overflow)")
        return self.functions[name](argument), terms

    def _checked(self, expr: sp.Expr, node: ast.AST) -> sp.Expr:
        """``expr`` holds no infinity or NaN; a constant is a bounded (and, if asked, real) number;
        no exponent exceeds ``MAX_POWER`` after sympy joined repeated powers."""
        if isinstance(expr, sp.Basic) and expr.has(*_NOT_FINITE):
            raise ParseError(f"{_short(self.segment(node) or self.text)} is not a finite "
                             "number (a division by zero or a logarithm of zero)")
        if isinstance(expr, sp.Rational):
            for part in (expr.p, expr.q):
                if abs(part).bit_length() > _MAX_RATIONAL_BITS:
                    raise LimitError("an exact number in the formula has too many digits")
        if isinstance(expr, sp.Pow) and expr.exp.is_number:
            limits.check_power(expr.exp)
        if isinstance(expr, sp.Basic) and expr.is_number and not isinstance(expr, sp.Integer) or (
                isinstance(expr, sp.Integer) and abs(int(expr)).bit_length() > 900):
            value = _value(expr)
            if self.real and value.imag != 0:
                raise ParseError(f"{_short(self.segment(node) or self.text)} is not a real number")
            for part in (value.real, value.imag):
                limits.check_magnitude(part, "a number in the formula")
        return expr


def _value(expr: sp.Expr) -> complex:
    """The value of a constant expression (whose parts were bounded when they were built)."""
    try:
        real, imag = (float(part) for part in sp.N(expr, _EVAL_DIGITS).as_real_imag())
    except (TypeError, ValueError, OverflowError, ZeroDivisionError):
        raise LimitError("a number in the formula cannot be evaluated to a finite value") from None
    for part in (real, imag):
        if part != part:
            raise LimitError("a number in the formula is not a number (NaN)")
        if part in (float("inf"), float("-inf")):
            raise LimitError(f"a number in the formula is larger than 1e{limits.MAX_DECIMAL_EXPONENT} in magnitude "
                             "(it would overflow)")
    return complex(real, imag)


# ---------------------------------------------------------------- operators

_TOKEN = re.compile(
    r"\s*(?:(?P<lpar>\()|(?P<rpar>\))|(?P<name>[A-Za-z][A-Za-z0-9_]*)"
    r"|(?P<dag>†|\^dag\b|\^\*)|(?P<pow>(?:\^|\*\*)\s*(?P<n>\d+))|(?P<star>\*)|(?P<bad>\S))"
)


def parse_operator(text: str, fields: list[str]) -> tuple[tuple[int, int], ...]:
    """Parse a monomial; return ``((n_1, m_1), ...)`` in the order of ``fields``.

    ``n_i`` is the power of field i, ``m_i`` the power of its conjugate.
    """
    if not isinstance(text, str) or not text.strip():
        raise ParseError("expected an operator such as \"phia† phib† phi1^2\"")
    tokens = []
    for match in _TOKEN.finditer(text):
        kind = match.lastgroup if match.lastgroup != "n" else "pow"
        if match.group("pow"):
            kind = "pow"
        if kind == "bad":
            raise ParseError(f"unexpected {match.group('bad')!r} in operator {text!r}")
        tokens.append((kind, match))
    index = {name: i for i, name in enumerate(fields)}
    pos = 0

    def product() -> list[int]:
        nonlocal pos
        total = [0] * (2 * len(fields))
        seen = False
        while pos < len(tokens) and tokens[pos][0] != "rpar":
            if tokens[pos][0] == "star":
                pos += 1
                continue
            part = factor()
            total = [a + b for a, b in zip(total, part)]
            seen = True
        if not seen:
            raise ParseError(f"empty product in operator {text!r}")
        return total

    def factor() -> list[int]:
        nonlocal pos
        kind, match = tokens[pos]
        if kind == "lpar":
            pos += 1
            inner = product()
            if pos >= len(tokens) or tokens[pos][0] != "rpar":
                raise ParseError(f"unbalanced parenthesis in operator {text!r}")
            pos += 1
            powers = inner
        elif kind == "name":
            name = match.group("name")
            if name not in index:
                raise ParseError(f"unknown field {name!r} in operator {text!r}")
            pos += 1
            dagger = pos < len(tokens) and tokens[pos][0] == "dag"
            if dagger:
                pos += 1
            powers = [0] * (2 * len(fields))
            powers[2 * index[name] + (1 if dagger else 0)] = 1
        else:
            raise ParseError(f"unexpected {match.group(0).strip()!r} in operator {text!r}")
        if pos < len(tokens) and tokens[pos][0] == "pow":
            exponent = int(tokens[pos][1].group("n"))
            if exponent < 1:
                raise ParseError(f"power must be a positive integer in {text!r}")
            powers = [p * exponent for p in powers]
            pos += 1
        return powers

    flat = product()
    if pos != len(tokens):
        raise ParseError(f"unbalanced parenthesis in operator {text!r}")
    return tuple((flat[2 * i], flat[2 * i + 1]) for i in range(len(fields)))
