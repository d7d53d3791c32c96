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
import re
from fractions import Fraction
from typing import Callable, Mapping

import sympy as sp

FUNCTIONS: dict[str, Callable] = {
    "sqrt": sp.sqrt,
    "log": sp.log,
    "exp": sp.exp,
    "abs": sp.Abs,
}
CONSTANTS: dict[str, sp.Expr] = {"pi": sp.pi}

MAX_EXPRESSION_LENGTH = 2000
MAX_POWER = 64


class ParseError(ValueError):
    """Raised with a short description of what is wrong with the text."""


def parse_number(value) -> sp.Rational:
    """An exact rational from a TOML int/float or a string like ``"2/5"``, ``"0.4"``.

    Floats are read through their shortest decimal representation, so ``0.4`` is 2/5.
    """
    if isinstance(value, bool):
        raise ParseError(f"{value!r} is not a number")
    if isinstance(value, int):
        return sp.Integer(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise ParseError(f"{value!r} is not a finite number")
        return sp.Rational(str(Fraction(repr(value))))
    if isinstance(value, str):
        text = value.strip()
        if re.fullmatch(r"[+-]?\d+(\.\d*)?([eE][+-]?\d+)?", text) or re.fullmatch(
            r"[+-]?\d+\s*/\s*[+-]?\d+", text
        ):
            try:
                frac = Fraction(text.replace(" ", ""))
            except (ValueError, ZeroDivisionError) as exc:
                raise ParseError(f"{value!r} is not a rational number ({exc})") from None
            return sp.Rational(frac.numerator, frac.denominator)
        raise ParseError(f"{value!r} is not a rational number (write an integer or p/q)")
    raise ParseError(f"{value!r} is not a number")


def parse_expression(
    text, names: Mapping[str, sp.Expr], functions: Mapping[str, Callable] | None = None
) -> sp.Expr:
    """Parse ``text`` into a sympy expression over the symbols in ``names``.

    ``functions`` adds declared function names (name -> callable taking sympy
    arguments) to the built-in ones; the printed registry declares e.g. ``I_m_x``.
    Raises :class:`ParseError` naming the offending construct.
    """
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        return parse_number(text)
    if not isinstance(text, str):
        raise ParseError(f"expected a formula (string), got {type(text).__name__}")
    if len(text) > MAX_EXPRESSION_LENGTH:
        raise ParseError("formula is too long")
    # '^' means power, with the precedence of '**' (Python would read it as xor,
    # binding more loosely than '*': "4*pi^2" must be 4*pi**2, not (4*pi)**2).
    source = text.strip().replace("^", "**")
    if not source:
        raise ParseError("empty formula")
    try:
        tree = ast.parse(source, mode="eval")
    except SyntaxError as exc:
        raise ParseError(f"{text!r} is not a formula ({exc.msg})") from None
    allowed = dict(FUNCTIONS)
    if functions:
        allowed.update(functions)
    return _build(tree.body, names, source, allowed)


_BINOPS = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a / b,
    ast.Pow: lambda a, b: a**b,
    ast.BitXor: lambda a, b: a**b,
}


def _build(node: ast.AST, names: Mapping[str, sp.Expr], text: str, functions=FUNCTIONS) -> sp.Expr:
    if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
        left = _build(node.left, names, text, functions)
        right = _build(node.right, names, text, functions)
        if isinstance(node.op, ast.Div) and right == 0:
            raise ParseError(f"division by zero in {text!r}")
        if isinstance(node.op, (ast.Pow, ast.BitXor)) and right.is_number and abs(right) > MAX_POWER:
            raise ParseError(f"power {right} is too large in {text!r}")
        return _BINOPS[type(node.op)](left, right)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        operand = _build(node.operand, names, text, functions)
        return -operand if isinstance(node.op, ast.USub) else operand
    if isinstance(node, ast.Constant):
        if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
            raise ParseError(f"{node.value!r} is not allowed in a formula")
        if isinstance(node.value, float):
            segment = ast.get_source_segment(text, node) or repr(node.value)
            return parse_number(segment)
        return sp.Integer(node.value)
    if isinstance(node, ast.Name):
        if node.id in names:
            return names[node.id]
        if node.id in CONSTANTS:
            return CONSTANTS[node.id]
        raise ParseError(f"unknown name {node.id!r}")
    if isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name) or node.func.id not in functions:
            what = f"function {node.func.id!r}" if isinstance(node.func, ast.Name) else "this call"
            raise ParseError(f"{what} is not allowed (only {', '.join(functions)})")
        if node.keywords or len(node.args) != 1:
            raise ParseError(f"{node.func.id} takes exactly one argument")
        return functions[node.func.id](_build(node.args[0], names, text, functions))
    kind = type(node).__name__
    raise ParseError(f"{kind} is not allowed in a formula {text!r}")


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
