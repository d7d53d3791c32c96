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
from typing import Sequence

import sympy as sp
from sympy.core.function import AppliedUndef
from sympy.printing.latex import LatexPrinter

from symflav.core import symbols
from symflav.core.errors import SpecError
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
    """Rough width of typeset LaTeX: a command counts as one character, braces as none, and a
    ``\\frac{A}{B}`` as the wider of ``A`` and ``B`` (they are set one above the other)."""
    total, position = 0, 0
    while (start := tex.find("\\frac{", position)) >= 0:
        numerator_end = _closing_brace(tex, start + 5)
        if numerator_end < 0 or tex[numerator_end + 1:numerator_end + 2] != "{":
            break  # not a well-formed fraction: the rest counts as text
        denominator_end = _closing_brace(tex, numerator_end + 1)
        if denominator_end < 0:
            break
        total += _plain_length(tex[position:start]) + max(
            visible_length(tex[start + 6:numerator_end]), visible_length(tex[numerator_end + 2:denominator_end]))
        position = denominator_end + 1
    return total + _plain_length(tex[position:])


def _plain_length(tex: str) -> int:
    return len(_COMMAND.sub("x", tex)) - tex.count("{") - tex.count("}")


def _closing_brace(tex: str, opening: int) -> int:
    """The index of the brace that closes the one at ``opening`` (-1 if none)."""
    depth = 0
    for i in range(opening, len(tex)):
        if tex[i] == "{" and tex[i - 1:i] != "\\":
            depth += 1
        elif tex[i] == "}" and tex[i - 1:i] != "\\":
            depth -= 1
            if depth == 0:
                return i
    return -1


def _signed(term: sp.Expr) -> tuple[bool, sp.Expr]:
    negative = term.could_extract_minus_sign()
    return negative, (-term if negative else term)


def _breakable(factor: sp.Expr) -> tuple[sp.Expr, sp.Expr] | None:
    """(sum, exponent) of a factor that is a sum or an integer power of one, else ``None``."""
    base, exponent = factor.as_base_exp()
    if isinstance(base, sp.Add) and exponent.is_Integer:
        return base, exponent
    return None


def _factor_rows(magnitude: sp.Expr, width: int, first_width: int | None = None) -> list[str] | None:
    """A product too wide for a row, over several rows (the first ``first_width`` wide, the others
    ``width``): its short factors lead, each wide factor that is a sum (or an integer power of
    one, e.g. a denominator) follows as ``\\Bigl( a + b ... \\Bigr)^{n}``, on the current row
    when it fits there, else whole on a new row when it fits one and the current row holds more
    than a short lead of factors (a quarter of a row), else cut at its terms
    (:func:`rows`); ``None`` when no factor is such a sum."""
    first_width = width if first_width is None else first_width
    factors = sorted(sp.Mul.make_args(magnitude), key=sp.default_sort_key)
    wide = [f for f in factors if _breakable(f) and visible_length(latex(f)) > first_width // 2]
    if not wide:
        return None
    rest = sp.Mul(*[f for f in factors if f not in wide])
    row = lead = "" if rest == 1 else latex(rest) + r"\, "
    out: list[str] = []
    for factor in sorted(wide, key=lambda f: (not _breakable(f)[1].is_negative, sp.default_sort_key(f))):
        base, exponent = _breakable(factor)
        power = "" if exponent == 1 else f"^{{{latex(exponent)}}}"
        limit = width if out else first_width
        whole = rf"\Bigl({latex(base)}\Bigr){power} "
        if visible_length(row + whole) <= limit:
            row += whole
            continue
        holds_more = row.strip() != lead.strip() or visible_length(lead) > width // 4  # not a lone "2"
        if holds_more and visible_length(whole) <= width:  # whole on a row of its own
            out.append(row.strip())
            row = whole
            continue
        inner = rows(base, width - 2, max(limit - visible_length(row) - 4, 8))
        inner[0] = rf"{row}\Bigl({inner[0]}"
        inner[-1] = rf"{inner[-1]}\Bigr){power}"
        out += inner[:-1]
        row = inner[-1] + " "
    return out + [row.strip()] if row.strip() else out


def _term_rows(term: sp.Expr, width: int, first: bool, first_width: int | None = None) -> list[str]:
    """The rows of one term of a sum, its sign in front (none for a positive first term); the
    first row ``first_width`` wide (default ``width``)."""
    negative, magnitude = _signed(term)
    sign = "-" if negative else ("" if first else "+")
    body = latex(magnitude)
    if isinstance(magnitude, sp.Add):
        body = rf"\left({body}\right)"
    if visible_length(body) > (width if first_width is None else first_width):
        broken = _factor_rows(magnitude, width, first_width)
        if broken is not None:
            broken[0] = f"{sign} {broken[0]}".strip()
            return broken
    return [f"{sign} {body}".strip()]


def rows(expr, width: int = 40, first_width: int | None = None) -> list[str]:
    """The LaTeX of ``expr`` in rows of about ``width`` characters (:func:`visible_length`; the
    first row ``first_width``, e.g. less the left-hand side): a sum is cut between its terms
    (in sympy's canonical order, signs pulled out), a term too wide for a row is cut inside
    its widest factor that is a sum (``c \\Bigl( ... \\Bigr)``), recursively. A single
    unbreakable factor stays whole."""
    expr = sp.sympify(expr)
    first_width = width if first_width is None else first_width
    terms = sorted(sp.Add.make_args(expr), key=sp.default_sort_key) if isinstance(expr, sp.Add) else [expr]
    out: list[str] = []
    current: list[str] = []
    size = 0
    for term in terms:
        limit = first_width if not out else width
        pieces = _term_rows(term, width, not (out or current), limit if not current else width)
        length = visible_length(pieces[0])
        if len(pieces) == 1 and (not current or size + length <= limit):
            current.append(pieces[0])
            size += length
            continue
        if current:
            out.append(" ".join(current))
            current, size = [], 0
            if len(pieces) == 1:
                current, size = [pieces[0]], length
                continue
        out.extend(pieces[:-1])
        current, size = [pieces[-1]], visible_length(pieces[-1])
    if current:
        out.append(" ".join(current))
    return out


def lines(expr, width: int = 75) -> list[str]:
    """The terms of a sum, signed, gathered into lines of about ``width`` characters
    (:func:`rows`)."""
    return rows(expr, width)


def equation(lhs: str, expr, width: int = 75, relation: str = "=") -> str:
    """``\\begin{aligned} lhs &= ... \\\\ &\\quad ... \\end{aligned}`` (one line if short)."""
    parts = rows(expr, width, max(width - visible_length(lhs), 12))
    body = " \\\\\n  &\\quad ".join(parts)
    return f"\\begin{{aligned}}\n  {lhs} &{relation} {body}\n\\end{{aligned}}"


COLUMN = 40
"""Characters (:func:`visible_length`) of a display row that fit one column of a two-column
JHEP/revtex page (about 246 pt at 10 pt type)."""

LABEL_PREFIX = "sf"
"""The default first part of every equation label (``\\label{sf:tadpoles:mu_1}``); ``symflav
derive --label-prefix`` replaces it (:func:`relabel`)."""

_LABEL_CHARS = re.compile(r"[^A-Za-z0-9_.+-]+")


def label(*parts: str) -> str:
    """``sf:stage:object``: a stable equation label from the object's names (characters other
    than letters, digits and ``_.+-`` become ``-``)."""
    cleaned = [_LABEL_CHARS.sub("-", str(p)).strip("-") for p in parts]
    return ":".join([LABEL_PREFIX, *[c for c in cleaned if c]])


def check_label_prefix(prefix: str) -> str:
    """``prefix`` when it can start a label (a letter, then letters, digits or ``_.-``), else
    :class:`~symflav.core.errors.SpecError`."""
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_.-]{0,39}", prefix):
        raise SpecError("--label-prefix", prefix, "a label prefix is a letter, then up to 39 letters, digits or _.-")
    return prefix


def relabel(tex: str, prefix: str) -> str:
    """``tex`` with the default label prefix of its ``\\label``, ``\\ref`` and ``\\eqref`` replaced
    by ``prefix``."""
    if prefix == LABEL_PREFIX:
        return tex
    return re.sub(r"\\(label|ref|eqref)\{" + LABEL_PREFIX + ":", lambda m: f"\\{m.group(1)}{{{prefix}:", tex)


def pack(pieces: list[str], width: int = COLUMN, first_width: int | None = None) -> list[str]:
    """Printed pieces (e.g. signed terms) joined into rows of about ``width`` characters."""
    out: list[str] = []
    current: list[str] = []
    size = 0
    for piece in pieces:
        limit = width if out else (width if first_width is None else first_width)
        length = visible_length(piece)
        if current and size + length > limit:
            out.append(" ".join(current))
            current, size = [], 0
        current.append(piece)
        size += length
    if current:
        out.append(" ".join(current))
    return out


def _cut(expr, width: int, first_width: int) -> list[str]:
    if isinstance(expr, str):
        return cut_latex(expr, width) if visible_length(expr) > first_width else [expr]
    return rows(expr, width, first_width)


def display(lhs: str, expr, name: str | None = None, width: int = COLUMN, relation: str = "=",
            then: Sequence[tuple[str, object]] = ()) -> str:
    """One numbered display ``lhs = expr`` with ``\\label{name}`` (see :func:`label`): a
    single-line ``equation``, or rows (:func:`rows`) in a ``split`` aligned at the left margin,
    each about ``width`` characters; ``expr`` may be printed LaTeX (then cut only at top-level
    signs, :func:`break_latex`), or a list of printed rows. ``then``: further (relation,
    expression) steps, each starting a row (``f = \\int ... \\\\ = closed form``)."""
    first = max(width - visible_length(lhs) - 2, 12)
    parts = list(expr) if isinstance(expr, list) else _cut(expr, width - 2, first)
    for rel, more in then:
        step = _cut(more, width - 2, width - 4)
        parts += [f"{rel} {step[0]}", *step[1:]]
    tag = f"\\label{{{name}}}" if name else ""
    if len(parts) == 1:
        return f"\\begin{{equation}}{tag}\n  {lhs} {relation} {parts[0]}\n\\end{{equation}}"
    body = " \\\\\n  &\\qquad ".join(parts)
    return (f"\\begin{{equation}}{tag}\n\\begin{{split}}\n  &{lhs} {relation} {body}\n"
            f"\\end{{split}}\n\\end{{equation}}")


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


def _group_at(tex: str, i: int) -> int:
    """The index after the brace group that opens at ``tex[i] == "{"``."""
    depth = 0
    for j in range(i, len(tex)):
        depth += {"{": 1, "}": -1}.get(tex[j], 0)
        if depth == 0:
            return j + 1
    return len(tex)


def _widest_group(tex: str) -> tuple[int, int, str, list[str]] | None:
    """The widest ``\\frac{A}{B}`` or ``\\left( X \\right)`` outside braces: (start, end, kind,
    [parts])."""
    best, depth, i = None, 0, 0
    while i < len(tex):
        if depth == 0 and tex.startswith("\\frac{", i):
            a_end = _group_at(tex, i + 5)
            b_end = _group_at(tex, a_end) if a_end < len(tex) and tex[a_end] == "{" else a_end
            found = (i, b_end, "frac", [tex[i + 6:a_end - 1], tex[a_end + 1:b_end - 1]])
        elif depth == 0 and tex.startswith(("\\left(", "\\left[", "\\left\\{"), i):
            level, j = 0, i
            while j < len(tex):
                if tex.startswith("\\left", j):
                    level += 1
                elif tex.startswith("\\right", j):
                    level -= 1
                    if level == 0:
                        break
                j += 1
            opening = "\\{" if tex.startswith("\\left\\{", i) else tex[i + 5]
            closing = {"(": ")", "[": "]", "\\{": "\\}"}[opening]
            found = (i, min(j + 6 + len(closing), len(tex)), "paren",
                     [tex[i + 5 + len(opening):j].strip(), opening, closing])
        else:
            depth += {"{": 1, "}": -1}.get(tex[i], 0)
            i += 1
            continue
        if best is None or visible_length(tex[found[0]:found[1]]) > visible_length(tex[best[0]:best[1]]):
            best = found
        i = found[1]
    return best


def cut_latex(tex: str, width: int = COLUMN) -> list[str]:
    """Printed LaTeX in rows of about ``width`` characters: cut before top-level relations
    (``=``, ``\\simeq``, ``<``, ...) and after ``, \\quad`` separators, then at top-level signs
    (:func:`break_latex`), and a piece still too wide inside its widest ``\\frac{A}{B}`` (as
    ``\\frac{1}{B} \\Bigl( A \\Bigr)``, ``A \\Big/ \\Bigl( B \\Bigr)`` or
    ``\\Bigl( A \\Bigr) \\Big/ \\Bigl( B \\Bigr)``; a fraction whose parts are both short stays
    whole) or ``\\left( X \\right)`` (as ``\\Bigl( X \\Bigr)``, also for ``[`` and ``\\{``),
    recursively."""
    if visible_length(tex) <= width:
        return [tex]
    segments: list[str] = []
    for piece in _relation_pieces(tex):
        if segments and (_RELATIONS.match(piece) or _RELATIONS.match(" " + piece)) and visible_length(segments[-1]) <= width // 2 \
                and not _SEPARATOR.search(segments[-1]):
            segments[-1] = f"{segments[-1]} {piece}"  # a short left-hand side leads its relation
        else:
            segments.append(piece)
    if len(segments) > 1:
        return pack([row for segment in segments for row in _cut_inside(segment, width)], width)
    return _cut_inside(tex, width)


_RELATIONS = re.compile(r" = |\\simeq\b|\\approx\b|\\sim\b|\\le\b|\\ge\b|\\leq\b|\\geq\b| < | > |"
                        r"\\longrightarrow\b|\\rightarrow\b|\\to\b")
_SEPARATOR = re.compile(r"(?:\\q?quad\s*)?,\s*\\q?quad\b\s*")


def _relation_pieces(tex: str) -> list[str]:
    """``tex`` cut before each top-level relation and after each ``, \\quad``."""
    depth, cuts, i = 0, [], 0
    while i < len(tex):
        if tex.startswith(("\\left", "\\begin{"), i) and not tex.startswith("\\leftarrow", i):
            depth += 1
            i += 5
            continue
        if tex.startswith(("\\right", "\\end{"), i) and not tex.startswith("\\rightarrow", i):
            depth -= 1
            i += 4
            continue
        if depth == 0:
            separator = _SEPARATOR.match(tex, i)
            if separator:
                cuts.append(separator.end())
                i = separator.end()
                continue
            if i > 0 and _RELATIONS.match(tex, i):
                cuts.append(i)
        if tex[i] == "\\":
            i += 2 if i + 1 < len(tex) and not tex[i + 1].isalpha() else 1
            continue
        depth += {"{": 1, "}": -1}.get(tex[i], 0)
        i += 1
    pieces = [tex[a:b].strip() for a, b in zip([0, *cuts], [*cuts, len(tex)])]
    return [re.sub(r"\s*(?:\\q?quad\s*)?,\s*\\q?quad$", ",", p) for p in pieces if p]


def starts_statement(row: str) -> bool:
    """Whether a display row states something of its own (``lhs = rhs``, a matrix entry) rather
    than continuing the row before (``+ ...``, ``= ...``): a top-level relation with something
    before it (:func:`_relation_pieces`)."""
    return any(_RELATIONS.match(piece) or _RELATIONS.match(" " + piece) for piece in _relation_pieces(row)[1:])


def _cut_inside(tex: str, width: int) -> list[str]:
    out: list[str] = []
    for piece in break_latex(tex, width):
        group = _widest_group(piece) if visible_length(piece) > width else None
        if group is None or visible_length(piece[group[0]:group[1]]) < width // 3:
            out.append(piece)
            continue
        start, end, kind, parts = group
        head, tail = piece[:start], piece[end:]
        if kind == "paren":
            inner = [(f"\\Bigl{parts[1]}", parts[0], f"\\Bigr{parts[2]}")]
        elif max(visible_length(parts[0]), visible_length(parts[1])) <= max(width, COLUMN) // 2:
            out.append(piece)  # a short fraction: not worth cutting
            continue
        elif visible_length(parts[1]) <= width // 2:
            inner = [(f"\\frac{{1}}{{{parts[1]}}}\\Bigl(", parts[0], "\\Bigr)")]
        elif visible_length(parts[0]) <= width // 2:
            inner = [(f"{parts[0]} \\Big/\\Bigl(", parts[1], "\\Bigr)")]
        else:
            inner = [("\\Bigl(", parts[0], "\\Bigr)"), ("\\Big/\\Bigl(", parts[1], "\\Bigr)")]
        rows_: list[str] = []
        for open_, part, close in inner:
            body = cut_latex(part, max(width - visible_length(head + open_) - 2, width // 2))
            rows_ += [open_ + body[0], *body[1:]]
            rows_[-1] += close
        if len(rows_) == 1:
            out.append(piece)  # nothing was cut: the group keeps its \left( \right) or \frac
            continue
        rows_[0] = head + rows_[0]
        rows_[-1] += tail
        out += rows_
    return out


def break_latex(tex: str, width: int = 90) -> list[str]:
    """Split printed LaTeX at top-level ``+``/``-`` into pieces of about ``width`` characters."""
    depth, cuts = 0, []
    i = 0
    while i < len(tex):
        if tex.startswith(("\\left", "\\begin{"), i):
            depth += 1
            i += 5
            continue
        if tex.startswith(("\\right", "\\end{"), i):
            depth -= 1
            i += 4
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


def _split_top(tex: str, separator: str) -> list[str]:
    """``tex`` cut at ``separator`` (``&`` or ``\\\\``) outside braces and ``\\left``/``\\right``."""
    parts, depth, start, i = [], 0, 0, 0
    while i < len(tex):
        if (tex.startswith("\\left", i) and not tex[i + 5:i + 6].isalpha()) or tex.startswith("\\begin{", i):
            depth += 1
        elif (tex.startswith("\\right", i) and not tex[i + 6:i + 7].isalpha()) or tex.startswith("\\end{", i):
            depth -= 1
        elif tex[i] == "\\" and depth == 0 and tex.startswith(separator, i):
            parts.append(tex[start:i])
            i = start = i + len(separator)
            continue
        elif tex[i] == "\\":
            i += 2
            continue
        elif tex[i] in "{}":
            depth += 1 if tex[i] == "{" else -1
        elif tex[i] == separator and depth == 0:
            parts.append(tex[start:i])
            start = i + 1
        i += 1
    parts.append(tex[start:])
    return [p.strip() for p in parts]


_MATRIX = re.compile(r"(\\left\(\s*)?\\begin\{(array|pmatrix)\}(\{[a-z|]*\})?(.*?)\\end\{\2\}(\s*\\right\))?", re.S)
_RELATION = re.compile(r"(.*?)\s*(\\simeq|\\approx|=)\s*$", re.S)


def matrix_rows(tex: str, width: int = COLUMN) -> list[str] | None:
    """Rows for a printed matrix display (``LHS \\simeq \\left( \\begin{array} ... \\right)`` or a
    ``pmatrix``) that is wider than ``width`` (:func:`visible_length`): entry by entry,
    ``(LHS)_{ij} \\simeq entry`` (only ``i <= j`` when the matrix is symmetric), or, without a
    left-hand side, its rows with the cells separated by commas. ``None`` when ``tex`` holds no
    matrix or the matrix fits."""
    found = _MATRIX.search(tex)
    if found is None:
        return None
    cells = [_split_top(row, "&") for row in _split_top(found.group(4), "\\\\") if row.strip()]
    widest = max(sum(visible_length(c) + 3 for c in row) for row in cells)
    head, tail = tex[:found.start()].strip(), tex[found.end():].strip()
    if widest + visible_length(head) <= width:
        return None
    relation = _RELATION.fullmatch(head) if head else None
    out = _cut_rows(head, width) if head and relation is None else []
    if relation is None:
        for row in cells:
            joined = ",\\quad ".join(row)
            out += [joined] if visible_length(joined) <= width else [r for c in row for r in _cut_rows(c, width)]
        return out + _tail_rows(out, tail, width)
    name, rel = relation.group(1).strip(), relation.group(2)
    symmetric = all(len(row) == len(cells) for row in cells) and all(
        "".join(cells[i][j].split()) == "".join(cells[j][i].split())
        for i in range(len(cells)) for j in range(i))
    out = []
    for i, row in enumerate(cells):
        for j, cell in enumerate(row):
            if symmetric and j < i:
                continue
            out += _cut_rows(f"\\left({name}\\right)_{{{i + 1}{j + 1}}} {rel} {cell}", width)
    if symmetric:
        out[-1] += ",\\quad \\text{symmetric}"
    return out + _tail_rows(out, tail, width)


def _cut_rows(tex: str, width: int) -> list[str]:
    return cut_latex(tex, width) if visible_length(tex) > width else [tex]


def _tail_rows(rows_: list[str], tail: str, width: int) -> list[str]:
    """The rows of what follows a matrix; a leading comma or period ends ``rows_``' last row."""
    if tail[:1] in (",", ".") and rows_:
        rows_[-1] += tail[0]
        tail = tail[1:].strip().removeprefix("\\quad").strip()
    return display_rows(tail, width) if tail else []


def display_rows(tex: str, width: int = COLUMN) -> list[str]:
    """Printed LaTeX of one formula (e.g. a reference's equation) as rows of about ``width``
    characters for an ``aligned`` display: its own rows (``\\\\`` outside environments, or an
    ``aligned`` environment's; alignment marks dropped, empty rows left out), a wide matrix entry by entry (:func:`matrix_rows`), and each row cut at
    top-level signs or inside its widest fraction (:func:`cut_latex`)."""
    tex = tex.strip()
    aligned = re.fullmatch(r"\\begin\{aligned\}(.*)\\end\{aligned\}", tex, re.S)
    lines_ = _split_top(aligned.group(1) if aligned else tex, "\\\\")
    if len(lines_) > 1:  # rows of its own (alignment marks dropped, empty rows left out)
        return [row for line in lines_ if line.strip("& ")
                for row in display_rows(" ".join(p for p in _split_top(line, "&") if p), width)]
    matrix_ = matrix_rows(tex, width)
    if matrix_ is not None:
        return matrix_
    return _cut_rows(tex, width)
