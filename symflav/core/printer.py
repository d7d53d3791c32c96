"""LaTeX printing in the paper's notation.

Symbols print with the names declared in the derivation (``lambdap_13`` as
``\\lambda'_{13}``, ``mup_a`` as ``\\mu'_a``, ``lambdat_1a`` as ``\\tilde{\\lambda}_{1a}``,
``phibar_1`` as ``\\phi_1^\\dagger``) via :func:`symflav.core.symbols.latex_names`; the
registry's functions print as declared (``I_m_x(x)`` as ``I_m^\\times(x_\\phi)``);
``log(x)`` prints as ``\\log x``; fractions as ``\\frac``. :func:`lines` and
:func:`equation` break long sums over several lines for ``aligned``.
"""

from __future__ import annotations

import re

import sympy as sp
from sympy.core.function import AppliedUndef
from sympy.printing.latex import LatexPrinter

from symflav.core import symbols
from symflav.core.model import Monomial


class PaperPrinter(LatexPrinter):
    """sympy's LaTeX printer with the derivation's symbol and function names."""

    def _print_Function(self, expr, exp=None):
        name = type(expr).__name__
        if isinstance(expr, AppliedUndef) and name in symbols.FUNCTION_LATEX:
            args = ", ".join(self._print(a) for a in expr.args)
            head = symbols.FUNCTION_LATEX[name]
            text = rf"{head}\left({args}\right)"
            return rf"\left[{text}\right]^{{{exp}}}" if exp else text
        return super()._print_Function(expr, exp)

    def _print_log(self, expr, exp=None):
        arg = expr.args[0]
        inner = self._print(arg)
        text = rf"\log {inner}" if arg.is_Symbol else rf"\log\left({inner}\right)"
        return rf"\left({text}\right)^{{{exp}}}" if exp else text

    def _print_re(self, expr, exp=None):
        text = rf"\operatorname{{Re}}\left({self._print(expr.args[0])}\right)"
        return rf"\left[{text}\right]^{{{exp}}}" if exp else text

    def _print_im(self, expr, exp=None):
        text = rf"\operatorname{{Im}}\left({self._print(expr.args[0])}\right)"
        return rf"\left[{text}\right]^{{{exp}}}" if exp else text


def latex(expr, **options) -> str:
    """LaTeX with the derivation's names (paper notation)."""
    settings = {"symbol_names": symbols.latex_names()}
    settings.update(options)
    return PaperPrinter(settings).doprint(sp.sympify(expr))


def operator(monomial: Monomial, latex_names) -> str:
    """``\\phi_a^\\dagger \\phi_b^\\dagger \\phi_1^{2}``; hermitian pairs as ``(\\phi^\\dagger\\phi)^k``."""
    names = list(latex_names)
    pairs, daggers, plain = monomial.factors()
    power = lambda k: f"^{{{k}}}" if k > 1 else ""  # noqa: E731
    return " ".join(
        [rf"\left({names[i]}^\dagger {names[i]}\right){power(k)}" for i, k in pairs]
        + [f"{names[i]}^\\dagger" if k == 1 else f"{names[i]}^{{\\dagger {k}}}" for i, k in daggers]
        + [f"{names[i]}{power(k)}" for i, k in plain]
    )


def signed_term(coefficient: sp.Expr, body: str, first: bool) -> str:
    """``+ c\\, body`` / ``- c\\, body`` with the sign pulled out of the coefficient."""
    negative = coefficient.could_extract_minus_sign()
    magnitude = -coefficient if negative else coefficient
    text = "" if magnitude == 1 else latex(magnitude) + r"\, "
    if isinstance(magnitude, sp.Add):
        text = r"\left(" + latex(magnitude) + r"\right) "
    sign = "-" if negative else ("" if first else "+")
    return f"{sign} {text}{body}".strip()


_COMMAND = re.compile(r"\\[A-Za-z]+")


def visible_length(tex: str) -> int:
    """Rough width of typeset LaTeX: a command counts as one character, braces as none."""
    return len(_COMMAND.sub("x", tex)) - tex.count("{") - tex.count("}")


def lines(expr, width: int = 75) -> list[str]:
    """The terms of a sum, signed, gathered into lines of about ``width`` characters."""
    expr = sp.sympify(expr)
    if not isinstance(expr, sp.Add):
        return [latex(expr)]
    terms = sp.Add.make_args(expr)
    terms = sorted(terms, key=sp.default_sort_key)
    out, current, size = [], [], 0
    for i, term in enumerate(terms):
        negative = term.could_extract_minus_sign()
        body = latex(-term if negative else term)
        if isinstance(-term if negative else term, sp.Add):
            body = rf"\left({body}\right)"
        sign = "-" if negative else ("+" if (current or out) else "")
        piece = f"{sign} {body}".strip()
        length = visible_length(piece)
        if current and size + length > width:
            out.append(" ".join(current))
            current, size = [], 0
        current.append(piece)
        size += length
    if current:
        out.append(" ".join(current))
    return out


def equation(lhs: str, expr, width: int = 75, relation: str = "=") -> str:
    """``\\begin{aligned} lhs &= ... \\\\ &\\quad ... \\end{aligned}`` (one line if short)."""
    parts = lines(expr, width)
    body = " \\\\\n  &\\quad ".join(parts)
    return f"\\begin{{aligned}}\n  {lhs} &{relation} {body}\n\\end{{aligned}}"


def matrix(mat: sp.MatrixBase, width: int = 30) -> str:
    """A pmatrix when the entries are short; ``None`` when they are too long for one."""
    cells = [[latex(mat[i, j]) for j in range(mat.shape[1])] for i in range(mat.shape[0])]
    if max(visible_length(c) for row in cells for c in row) > width:
        return ""
    rows = [" & ".join(row) for row in cells]
    return "\\begin{pmatrix}\n  " + " \\\\\n  ".join(rows) + "\n\\end{pmatrix}"


def text(value) -> str:
    """Escape plain text for LaTeX."""
    table = {"\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "$": r"\$", "&": r"\&", "#": r"\#",
             "^": r"\^{}", "_": r"\_", "%": r"\%", "~": r"\~{}", "†": r"$^\dagger$", "±": r"$\pm$",
             "≃": r"$\simeq$", "⊃": r"$\supset$", "|": r"$|$", "≈": r"$\approx$", "→": r"$\to$", "<": r"$<$", ">": r"$>$"}
    return "".join(table.get(ch, ch) for ch in str(value))


def break_latex(tex: str, width: int = 90) -> list[str]:
    """Split printed LaTeX at top-level ``+``/``-`` into pieces of about ``width`` characters."""
    depth, cuts = 0, []
    i = 0
    while i < len(tex):
        if tex.startswith("\\left", i):
            depth += 1
            i += 5
            continue
        if tex.startswith("\\right", i):
            depth -= 1
            i += 6
            continue
        ch = tex[i]
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        elif ch in "+-" and depth == 0 and i > 0 and tex[i - 1] == " ":
            cuts.append(i)
        i += 1
    pieces, current = [], 0
    last = 0
    for cut in cuts + [len(tex)]:
        if visible_length(tex[current:cut]) > width and last > current:
            pieces.append(tex[current:last].strip())
            current = last
        last = cut
    pieces.append(tex[current:].strip())
    return [p for p in pieces if p]
