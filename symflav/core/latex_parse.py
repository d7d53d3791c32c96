"""A small whitelist parser for the LaTeX of printed formulas.

It reads the subset of LaTeX the paper's formulas are written in, so that the
registry's LaTeX source can be checked against its hand transcription:

* numbers (decimals kept exact), ``+ - / \\cdot``, implicit products, powers ``^``;
* declared symbols, matched by their *shape*: base, primes, subscript and
  superscript decorations, so ``\\lambda'_{13}``, ``{\\lambda'_{13}}`` and
  ``\\lambda_{13}'`` are the same symbol, and in ``\\mu_a'^2`` the ``2`` is a power;
  ``\\tilde{\\lambda}_{1a}``, ``m_\\ell^{\\text{FN}}`` and ``I_m^\\times`` are names;
* ``\\frac{}{}``, ``\\sqrt{}``, ``\\log``, ``\\pi``, ``( ) [ ] { }``, ``\\left \\right``,
  absolute values ``| |``, declared functions ``I_m^\\times(x_\\phi)``, ``\\text{Re}(..)``;
* ``( X + \\text{h.c.} )`` (X plus its conjugate, via a caller-supplied function);
* matrices ``\\begin{array}{..} .. \\end{array}`` and ``pmatrix``; a cell
  ``lhs = rhs`` stands for its right-hand side.

Nothing is executed and sympy's own LaTeX parser is not used: tokens are matched
against a whitelist and the sympy object is built by hand. Anything else raises
:class:`~symflav.core.parsing.ParseError` naming the construct.
"""

from __future__ import annotations

import re
from typing import Callable, Mapping

import sympy as sp

from symflav.core import limits
from symflav.core.parsing import ParseError

_TOKEN = re.compile(
    r"(?P<ws>\s+)|(?P<rowsep>\\\\)|(?P<space>\\[,;:! ])|(?P<cmd>\\[A-Za-z]+)"
    r"|(?P<brace>\\[{}])|(?P<num>\d+(?:\.\d+)?)|(?P<char>[A-Za-z])|(?P<sym>[-+*/()\[\]{}^_'&|=<>,.])"
)
_SKIP = {r"\left", r"\right", r"\quad", r"\qquad", r"\displaystyle", r"\big", r"\Big", r"\bigg", r"\Bigg"}
_GREEK = {
    "alpha", "beta", "gamma", "delta", "epsilon", "varepsilon", "zeta", "eta", "theta", "vartheta",
    "iota", "kappa", "lambda", "mu", "nu", "xi", "rho", "sigma", "tau", "upsilon", "phi",
    "varphi", "chi", "psi", "omega", "Gamma", "Delta", "Theta", "Lambda", "Xi", "Pi", "Sigma",
    "Phi", "Psi", "Omega", "ell", "pi",
}
_ACCENTS = {r"\tilde", r"\hat", r"\bar", r"\overline", r"\widetilde"}
_DECORATIONS = {r"\times", r"\dagger", r"\prime", r"\ast", r"\star"}
MAX_LATEX_LENGTH = 6000


def tokenize(text: str) -> list[tuple[str, str]]:
    if len(text) > MAX_LATEX_LENGTH:
        raise ParseError("LaTeX is too long")
    tokens, pos = [], 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if not match:
            raise ParseError(f"unexpected {text[pos]!r} in LaTeX")
        kind, value = match.lastgroup, match.group(0)
        pos = match.end()
        if kind in ("ws", "space") or (kind == "cmd" and value in _SKIP):
            continue
        if kind == "brace":  # \{ \} are parentheses
            kind, value = "sym", "(" if value == "\\{" else ")"
        tokens.append((kind, value))
    return tokens


def _join(tokens) -> str:
    """Canonical text of a token run: commands keep a space before a letter."""
    out = []
    for i, (kind, value) in enumerate(tokens):
        out.append(value)
        if kind == "cmd" and i + 1 < len(tokens) and tokens[i + 1][0] in ("char", "num"):
            out.append(" ")
    return "".join(out)


class _Parser:
    def __init__(self, tokens, symbols, functions, conjugate):
        self.tokens = tokens
        self.pos = 0
        self.symbols = symbols
        self.functions = functions
        self.conjugate = conjugate
        self.abs_depth = 0

    # ---------------------------------------------------------------- helpers
    def peek(self, offset: int = 0):
        i = self.pos + offset
        return self.tokens[i] if i < len(self.tokens) else (None, None)

    def next(self):
        if self.pos >= len(self.tokens):
            raise ParseError("LaTeX ends too early")
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def expect(self, value: str):
        kind, got = self.next()
        if got != value:
            raise ParseError(f"expected {value!r}, found {got!r}")

    def group_tokens(self) -> list:
        """The tokens of a balanced ``{...}`` group (braces removed)."""
        self.expect("{")
        depth, out = 1, []
        while True:
            kind, value = self.next()
            if value == "{":
                depth += 1
            elif value == "}":
                depth -= 1
                if depth == 0:
                    return out
            out.append((kind, value))

    def sub_parser(self, tokens) -> "_Parser":
        return _Parser(tokens, self.symbols, self.functions, self.conjugate)

    def parse_tokens(self, tokens):
        parser = self.sub_parser(tokens)
        value = parser.expr()
        if parser.pos != len(tokens):
            raise ParseError(f"unexpected {parser.tokens[parser.pos][1]!r}")
        return value

    # ---------------------------------------------------------------- grammar
    def expr(self):
        terms, hc = [], False
        sign = 1
        kind, value = self.peek()
        if value in ("+", "-"):
            self.next()
            sign = -1 if value == "-" else 1
        terms.append(sign * self.term())
        while self.peek()[1] in ("+", "-"):
            _, op = self.next()
            if self.peek() == ("cmd", r"\text") and self._text_ahead() == "h.c.":
                self.next()
                self.group_tokens()
                hc = True
                continue
            term = self.term()
            terms.append(term if op == "+" else -term)
        if len(terms) == 1 and not hc:
            return terms[0]
        total = sp.Add(*terms)
        if hc:
            if self.conjugate is None:
                raise ParseError("'+ h.c.' needs a conjugation rule")
            total = total + self.conjugate(total)
        return total

    def _text_ahead(self) -> str:
        save = self.pos
        try:
            self.next()
            return _join(self.group_tokens())
        except ParseError:
            return ""
        finally:
            self.pos = save

    def starts_atom(self) -> bool:
        kind, value = self.peek()
        if kind in ("num", "char"):
            return True
        if value in ("(", "[", "{"):
            return True
        if value == "|":
            return self.abs_depth == 0
        if kind == "cmd":
            if value == r"\text":
                return self._text_ahead() != "h.c."
            return value in (r"\frac", r"\sqrt", r"\log", r"\ln", r"\exp", r"\begin") or value in _ACCENTS \
                or value[1:] in _GREEK
        return False

    def term(self):
        value = self.power()
        while True:
            kind, tok = self.peek()
            if tok == "/":
                self.next()
                value = value / self.power()
            elif tok in (r"\cdot", "*"):
                self.next()
                value = value * self.power()
            elif self.starts_atom():
                value = value * self.power()
            else:
                return value

    def power(self):
        base = self.atom()
        while self.peek()[1] == "^":
            self.next()
            base = base ** self.script_expr()
        return base

    def script_expr(self):
        kind, value = self.peek()
        if value == "{":
            return self.parse_tokens(self.group_tokens())
        self.next()
        if kind == "num":
            if len(value) > 1:  # x^23 is x^2 3 in TeX: refuse rather than guess
                raise ParseError(f"ambiguous exponent {value!r}; write ^{{{value}}}")
            return sp.Integer(value)
        if kind == "char":
            return self.lookup(value, None)
        if kind == "cmd":
            return self.lookup(value, None)
        raise ParseError(f"unexpected {value!r} after '^'")

    def atom(self):
        kind, value = self.peek()
        if kind == "num":
            self.next()
            return sp.Rational(value) if "." in value else sp.Integer(value)
        if value in ("(", "["):
            self.next()
            inner = self.expr()
            self.expect(")" if value == "(" else "]")
            return inner
        if value == "{":
            return self.parse_tokens(self.group_tokens())
        if value == "|":
            self.next()
            self.abs_depth += 1
            inner = self.expr()
            self.abs_depth -= 1
            self.expect("|")
            return sp.Abs(inner)
        if value == r"\frac":
            self.next()
            num = self.parse_tokens(self.group_tokens())
            den = self.parse_tokens(self.group_tokens())
            if den == 0:
                raise ParseError("division by zero")
            return num / den
        if value == r"\sqrt":
            self.next()
            if self.peek()[1] == "[":
                raise ParseError("only square roots are supported")
            return sp.sqrt(self.parse_tokens(self.group_tokens()))
        if value in (r"\log", r"\ln"):
            self.next()
            if self.peek()[1] == "(":
                return sp.log(self.atom())
            return sp.log(self.power())
        if value == r"\begin":
            return self.matrix()
        if value == r"\text":
            self.next()
            name = _join(self.group_tokens())
            if name in self.functions and self.peek()[1] == "(":
                return self.call(name)
            raise ParseError(f"\\text{{{name}}} is not a declared function")
        if kind == "char" or (kind == "cmd" and (value[1:] in _GREEK or value in _ACCENTS)):
            key, exponent = self.symbol_key()
            if key in self.functions and self.peek()[1] == "(":
                result = self.call(key)
            else:
                result = self.lookup(key, None)
            return result if exponent is None else result**exponent
        raise ParseError(f"unexpected {value!r}" if value else "formula ends too early")

    def call(self, name):
        self.expect("(")
        args = [self.expr()]
        while self.peek()[1] == ",":
            self.next()
            args.append(self.expr())
        self.expect(")")
        return self.functions[name](*args)

    def lookup(self, key, default):
        if key in self.symbols:
            return self.symbols[key]
        if key == r"\pi":
            return sp.pi
        raise ParseError(f"unknown symbol {key!r}")

    def symbol_key(self) -> tuple[str, sp.Expr | None]:
        """Read a symbol's shape; return its key and a trailing power, if any."""
        kind, value = self.next()
        if value in _ACCENTS:
            inner = self.group_tokens()
            base = f"{value}{{{_join(inner)}}}"
        else:
            base = value
        primes, sub, decorations, exponent = 0, None, [], None
        while True:
            kind, value = self.peek()
            if value == "'":
                self.next()
                primes += 1
            elif value == "_" and sub is None:
                self.next()
                sub = self.script_text()
            elif value == "^" and self._decoration_ahead():
                self.next()
                kind, value = self.peek()
                if value == "{":
                    group = self.group_tokens()
                    rest = self._take_decorations(group, decorations)
                    if rest:
                        exponent = self.parse_tokens(rest)
                        break
                else:
                    self.next()
                    decorations.append(value)
            else:
                break
        key = base + "'" * primes
        if sub is not None:
            key += "_{" + sub + "}"
        if decorations:
            key += "^{" + ",".join(decorations) + "}"
        return key, exponent

    def _decoration_ahead(self) -> bool:
        kind, value = self.peek(1)
        if value in _DECORATIONS:
            return True
        if value == "{":
            kind2, value2 = self.peek(2)
            return value2 in _DECORATIONS or value2 == r"\text"
        return False

    def _take_decorations(self, group, decorations) -> list:
        i = 0
        while i < len(group):
            kind, value = group[i]
            if value in _DECORATIONS:
                decorations.append(value)
                i += 1
            elif value == r"\text":
                sub = self.sub_parser(group[i + 1:])
                decorations.append(_join(sub.group_tokens()))
                i += 1 + sub.pos
            else:
                break
        return group[i:]

    def script_text(self) -> str:
        kind, value = self.peek()
        if value == "{":
            return _join(self.group_tokens())
        self.next()
        if kind == "num":
            if len(value) > 1:
                raise ParseError(f"ambiguous subscript {value!r}; write _{{{value}}}")
            return value
        if kind in ("char", "cmd"):
            return value
        raise ParseError(f"unexpected {value!r} after '_'")

    def _skip_cell_lhs(self):
        """In a cell 'lhs = rhs' the value is the right-hand side: skip to it."""
        depth, i = 0, self.pos
        while i < len(self.tokens):
            kind, value = self.tokens[i]
            if value in ("{", "(", "["):
                depth += 1
            elif value in ("}", ")", "]"):
                depth -= 1
            elif depth == 0 and (value in ("&", r"\end") or kind == "rowsep"):
                return
            elif depth == 0 and value == "=":
                self.pos = i + 1
                return
            i += 1

    def matrix(self):
        self.expect(r"\begin")
        env = _join(self.group_tokens())
        if env == "array":
            self.group_tokens()  # column specification
        elif env not in ("pmatrix", "matrix", "bmatrix"):
            raise ParseError(f"environment {env!r} is not supported")
        rows, row = [], []
        while True:
            self._skip_cell_lhs()
            row.append(self.expr())
            kind, value = self.next()
            if value == "&":
                continue
            if kind == "rowsep":
                rows.append(row)
                row = []
                if self.peek()[1] == r"\end":
                    self.next()
                    break
                continue
            if value == r"\end":
                rows.append(row)
                break
            raise ParseError(f"unexpected {value!r} in a matrix")
        if _join(self.group_tokens()) != env:
            raise ParseError(f"\\begin{{{env}}} closed by another environment")
        if len({len(r) for r in rows}) != 1:
            raise ParseError("matrix rows have different lengths")
        return sp.Matrix(rows)


def shape_key(latex: str) -> str:
    """The key a declared symbol's LaTeX is looked up by (see module docstring)."""
    tokens = tokenize(latex)
    while len(tokens) >= 2 and tokens[0][1] == "{" and tokens[-1][1] == "}" and _balanced(tokens[1:-1]):
        tokens = tokens[1:-1]
    parser = _Parser(tokens, {}, {}, None)
    kind, value = parser.peek()
    if not (kind == "char" or (kind == "cmd" and (value[1:] in _GREEK or value in _ACCENTS))):
        raise ParseError(f"{latex!r} is not a symbol")
    key, exponent = parser.symbol_key()
    if exponent is not None or parser.pos != len(tokens):
        raise ParseError(f"{latex!r} is not a single symbol")
    return key


def _balanced(tokens) -> bool:
    depth = 0
    for _, value in tokens:
        depth += value == "{"
        depth -= value == "}"
        if depth < 0:
            return False
    return depth == 0


def parse_latex(
    latex: str,
    symbols: Mapping[str, sp.Expr],
    functions: Mapping[str, Callable] | None = None,
    conjugate: Callable[[sp.Expr], sp.Expr] | None = None,
):
    """Parse a formula (a right-hand side, or a matrix) into sympy.

    ``symbols`` maps LaTeX shapes (:func:`shape_key`) to sympy objects, ``functions``
    maps shapes (or ``\\text`` names) to callables, ``conjugate`` implements ``+ h.c.``.
    """
    if not isinstance(latex, str) or not latex.strip():
        raise ParseError("empty LaTeX")
    tokens = tokenize(latex.strip())
    if not any(value == r"\begin" for _, value in tokens):
        # alignment marks of an aligned/multline display carry no meaning here
        tokens = [t for t in tokens if t[1] != "&" and t[0] != "rowsep"]
    while tokens and tokens[-1][1] in (",", "."):
        tokens.pop()
    parser = _Parser(tokens, dict(symbols), dict(functions or {}), conjugate)
    value = parser.expr()
    if parser.pos != len(tokens):
        raise ParseError(f"unexpected {tokens[parser.pos][1]!r} in LaTeX")
    return value


# ---------------------------------------------------------------- LaTeX names typeset in reports

MAX_LATEX_NAME = 200
_NAME_COMMANDS = _GREEK | {
    "varpi", "varrho", "varsigma", "varphi", "Upsilon", "hbar", "imath", "jmath", "prime", "dagger", "ddagger",
    "ast", "star", "times", "cdot", "pm", "mp", "to", "rightarrow", "leftarrow", "infty", "partial", "nabla",
    "sim", "simeq", "approx", "le", "leq", "ge", "geq", "neq", "in", "langle", "rangle", "quad", "qquad",
    # accents and fonts (each takes an argument in braces or one token)
    "bar", "hat", "tilde", "check", "breve", "dot", "ddot", "vec", "overline", "underline", "widetilde",
    "widehat", "mathrm", "mathit", "mathbf", "mathsf", "mathtt", "mathcal", "mathbb", "mathfrak",
    "boldsymbol", "text", "textrm", "textit", "textbf", "rm", "it", "bf", "operatorname",
    "frac", "sqrt", "left", "right", "big", "Big", "log", "exp", "ln", "sin", "cos", "min", "max",
}
_NAME_TOKEN = re.compile(r"\\([A-Za-z]+)|\\[,;:! {}_|]|[A-Za-z0-9 _^{}',.+\-()\[\]|/*=<>!:;]", re.ASCII)


def check_latex_name(text: str) -> None:
    """A LaTeX name from a model file is safe to typeset; else :class:`ParseError`.

    Whitelist: ASCII letters, digits, spaces, ``_ ^ { } ' , . + - ( ) [ ] | / * = < > ! : ;``,
    the spacing and escaped characters ``\\, \\; \\: \\! \\ \\{ \\} \\_ \\|`` and the control words of
    :data:`_NAME_COMMANDS` (Greek letters, accents, fonts, a few symbols). Braces must balance
    (at most ``MAX_NESTING_DEPTH`` deep), ``^^`` (TeX's character-code escape) is refused, and
    the name is at most :data:`MAX_LATEX_NAME` characters. So no file or definition primitive
    (``\\input``, ``\\write``, ``\\def``, ``\\catcode``, ``\\csname``, ...) can reach pdflatex, and
    no ``% # $ & ~`` or line break can change what the rest of the report means."""
    if not isinstance(text, str):
        raise ParseError(f"expected a LaTeX string, got {type(text).__name__}")
    if len(text) > MAX_LATEX_NAME:
        raise ParseError(f"LaTeX name is too long ({len(text)} characters, at most {MAX_LATEX_NAME})")
    if "^^" in text:
        raise ParseError("'^^' (a TeX character-code escape) is not allowed in a LaTeX name")
    depth, pos = 0, 0
    while pos < len(text):
        match = _NAME_TOKEN.match(text, pos)
        if not match:
            shown = text[pos] if text[pos] != "\\" else text[pos:pos + 2]
            raise ParseError(f"{shown!r} is not allowed in a LaTeX name (letters, digits, Greek letters, "
                             "accents, fonts, sub- and superscripts)")
        word = match.group(1)
        if word is not None and word not in _NAME_COMMANDS:
            raise ParseError(f"\\{word} is not allowed in a LaTeX name (not a symbol, accent or font)")
        token = match.group(0)
        if token == "{":
            depth += 1
            if depth > limits.MAX_NESTING_DEPTH:
                raise ParseError("braces are nested too deeply in a LaTeX name")
        elif token == "}":
            depth -= 1
            if depth < 0:
                raise ParseError("unbalanced braces in a LaTeX name (a '}' without its '{')")
        pos = match.end()
    if depth:
        raise ParseError("unbalanced braces in a LaTeX name (a '{' without its '}')")
