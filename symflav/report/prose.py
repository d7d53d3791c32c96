"""Prose with ASCII pseudo-maths, written as LaTeX text with inline maths.

Explanations, notes and table cells are one-line strings such as
``"the lambda_1ab term is -lambda_1ab v_1^2, not -lambda_1ab v_a^2/2"`` or
``"sqrt(2/3) < K < sqrt(6)"``. :func:`latex` turns them into LaTeX for a report: runs of
maths into ``$...$``, everything else escaped as text. It is a whitelist translator: the text
is cut into tokens by regular expressions, every token is classified (maths, text, an
equation reference), and each maths token is spelled from fixed tables -- nothing is
evaluated or parsed as an expression, and a character the tables do not know comes out
escaped, so any input gives LaTeX that compiles.

What it recognizes:

* names with subscripts and superscripts: ``v_a^2``, ``lambda'_13``, ``lambda~_1a``
  (``\\tilde\\lambda_{1a}``), ``phi_1^dagger``, ``F_{mu nu}``, ``(U_S)_32``; a full name that
  the derivation declares prints with the derivation's LaTeX name (``names``); Greek names
  (``lambda``, ``Delta``), lepton subscripts (``C_emu`` as ``C_{e\\mu}``, ``m_l`` as
  ``m_\\ell``), mass eigenstates (``m_S1`` as ``m_{S_1}``), ``delta_a_mu`` as ``\\Delta a_\\mu``;
* numbers: ``6.2e-7`` as ``6.2\\times 10^{-7}``, signs as true minus signs;
* ``sqrt(x)``/``sqrt5``, ``abs(x)``, ``Re``, ``Im``, ``Sign``, ``log``, ``BR(...)``;
* relations and operators ``= < > <= >= -> ~ +- + - / *``;
* equation references stay text: a number after ``eq.``, ``eqs.``, ``Table``, ``section``,
  ``appendix``, and parenthesized labels such as ``(B.7)`` or ``(B.7)-(B.9)`` (ranges with an en dash).

A single letter is maths only next to an operator or a number, after ``Delta``, or inside
maths brackets (the English article "a" stays text otherwise).
"""

from __future__ import annotations

import re
from typing import Mapping

from symflav.core import symbols

__all__ = ["latex", "math", "escape", "number", "symbol_names"]

GREEK = {name: "\\" + name for name in (
    "alpha beta gamma delta epsilon varepsilon zeta eta theta kappa lambda mu nu xi pi rho sigma tau "
    "upsilon phi varphi chi psi omega Gamma Delta Theta Lambda Xi Pi Sigma Upsilon Phi Psi Omega "
    "partial hbar ell").split()}
GREEK.update({"sum": r"\sum", "eps": r"\varepsilon", "lbar": r"\bar\ell", "nubar": r"\bar\nu", "infinity": r"\infty",
              "barl": r"\bar\ell", "ebar": r"\bar e", "mubar": r"\bar\mu", "taubar": r"\bar\tau",
              "psibar": r"\bar\psi", "gamma5": r"\gamma_5"})

FUNCTIONS = {"sqrt": r"\sqrt", "abs": "", "Re": r"\operatorname{Re}", "Im": r"\operatorname{Im}",
             "Sign": r"\operatorname{Sign}", "sign": r"\operatorname{sign}", "log": r"\log", "exp": r"\exp",
             "BR": r"\mathrm{BR}", "Tr": r"\operatorname{Tr}", "arg": r"\arg", "max": r"\max", "min": r"\min"}

OPERATORS = {"<~": r"\lesssim", ">~": r"\gtrsim", "->": r"\to", "<=": r"\le", ">=": r"\ge", "!=": r"\ne", "+-": r"\pm", "=": "=", "<": "<",
             ">": ">", "~": r"\sim", "+": "+", "-": "-", "/": "/", "*": r"\,", "..": r"\dots", "|": "|", "×": r"\times"}

ABBREVIATIONS = ("h.c.", "i.e.", "e.g.", "cf.", "eqs.", "eq.", "sec.", "Eq.", "Eqs.", "vs.", "etc.")

TEXT = {"\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "$": r"\$", "&": r"\&", "#": r"\#",
        "^": r"\^{}", "_": r"\_", "%": r"\%", "~": r"\~{}", "<": r"\textless{}", ">": r"\textgreater{}",
        "|": r"\textbar{}", "†": r"$^\dagger$", "±": r"$\pm$", "≃": r"$\simeq$", "⊃": r"$\supset$",
        "≈": r"$\approx$", "→": r"$\to$", "−": r"$-$"}

WORDS = frozenset({"sum"})
"""Keys of :data:`GREEK` that are also English words: maths only when decorated (``sum_i``),
never alone in a sentence ("a sum over the mass eigenstates")."""

LEPTONS = {"e": "e", "mu": r"\mu", "tau": r"\tau", "l": r"\ell"}

_SCRIPT = r"(?:\{[^{}\n]*\}|\([^()\n]*\)|-?[A-Za-z0-9.]*[A-Za-z0-9])"
_DECOR = rf"(?:'(?!s(?![A-Za-z0-9_]))|~(?=[_^'])|_{_SCRIPT}|\^{_SCRIPT})"
_REFWORD = r"(?:[Ee]qs?\.|[Tt]ables?|[Ss]ections?|sec\.|[Aa]ppendix|[Ff]igures?)"
_ITEM = r"\(?(?:[A-Z]\.\d+|\d+(?:\.\d+)?|[A-Z](?![\w.]))\)?(?:'s)?"
_PAREN = r"\((?:[A-Z]\.\d+|\d+\.\d+)\)(?:'s)?"
_JOIN = r"(?:,\s*|-|\s+and\s+)"
_TOKEN = re.compile(
    r"(?P<ws>\s+)"
    rf"|(?P<eqref>{_REFWORD}\s+{_ITEM}(?:{_JOIN}{_ITEM})*|{_PAREN}(?:{_JOIN}{_PAREN})*|[A-Z]\.\d+(?![\w.]))"
    r"|(?P<angle><(?=[A-Za-z])[^<>\n]*[A-Za-z0-9_]>)"
    r"|(?P<abs>\|(?=\S)[^|\n]*?(?<=\S)\|(?:\^[0-9]+)?)"
    rf"|(?P<abbr>{'|'.join(re.escape(a) for a in ABBREVIATIONS)})"
    r"|(?P<code>[a-z][a-z0-9]{2,}(?:_[a-z0-9]+)+(?![\w'^~]))"
    rf"|(?P<number>\d+(?:\.\d+)?(?:[eE][-+]?\d+)?j?(?![A-Za-z_]){_DECOR}*)"
    rf"|(?P<sqrtn>sqrt\d+(?![\w(]))"
    rf"|(?P<name>[A-Za-z][A-Za-z0-9]*{_DECOR}*)"
    rf"|(?P<close>\){_DECOR}+)"
    r"|(?P<op>->|<=|>=|<~|>~|!=|\+-|\.\.|[=<>~+\-/*|×])"
    r"|(?P<other>.)",
    re.S)

_EXPONENT = re.compile(r"^(-?)(\d+(?:\.\d+)?)[eE]([-+]?)(\d+)$")


def escape(text: str) -> str:
    """Plain text for LaTeX: every special character escaped."""
    return "".join(TEXT.get(ch, ch) for ch in text)


def number(text: str) -> str:
    """``6.2e-7`` as ``6.2\\times 10^{-7}``, ``1e-10`` as ``10^{-10}``; other numbers as written."""
    m = _EXPONENT.match(text)
    if not m:
        return text
    sign, mantissa, esign, exponent = m.groups()
    power = f"10^{{{'-' if esign == '-' else ''}{int(exponent)}}}"
    if float(mantissa) == 1:
        return f"{sign}{power}"
    return f"{sign}{mantissa}\\times {power}"


class _Token:
    __slots__ = ("kind", "text", "math")

    def __init__(self, kind: str, text: str):
        self.kind, self.text, self.math = kind, text, None

    def __repr__(self):  # pragma: no cover - debugging aid
        return f"{self.kind}:{self.text!r}:{self.math}"


def _tokens(text: str, names: Mapping[str, str]) -> list[_Token]:
    toks = [_Token(m.lastgroup, m.group()) for m in _TOKEN.finditer(text)]
    for t in toks:
        if t.kind == "code" and not _is_code(t.text, names):
            t.kind = "name"
    return toks


def _is_decorated(word: str) -> bool:
    return bool(re.search(r"[_^']|~[_^']", word))


def _is_code(word: str, names: Mapping[str, str]) -> bool:
    """A program identifier (``all_allowed``), not a symbol with a subscript."""
    head, *rest = word.split("_")
    if word in names or head in GREEK or head + "_" + rest[0] in names:
        return False
    return len(head) > 3 or any(len(p) > 2 for p in rest) or bool(re.search(r"\d", head))


def _strong(tok: _Token, names: Mapping[str, str]) -> bool:
    """Maths whatever the neighbours."""
    if tok.kind in ("number", "sqrtn", "close", "angle", "abs"):
        return True
    if tok.kind != "name":
        return False
    w = tok.text
    return _is_decorated(w) or (w in GREEK and w not in WORDS) or re.fullmatch(r"[A-Z]\d+", w) is not None \
        or (len(w) > 1 and w in names)


def _classify(toks: list[_Token], names: Mapping[str, str]) -> None:
    """Mark every token as maths (True) or text (False)."""
    n = len(toks)
    for t in toks:
        if t.kind == "ws":
            continue
        t.math = _strong(t, names) or (t.kind == "op" and t.text not in ("-", "/", "~", "*", "|", "..", "×"))
    solid = [i for i, t in enumerate(toks) if t.kind != "ws"]

    def neighbour(k: int, step: int):
        j = k + step
        return solid[j] if 0 <= j < len(solid) else None

    # operators that are maths only between maths: '-', '/', '~', '*', '|', '..'
    # single letters and function names: maths next to an operator, a number or Delta
    for _ in range(3):
        for k, i in enumerate(solid):
            t = toks[i]
            prev_i, next_i = neighbour(k, -1), neighbour(k, 1)
            prev = toks[prev_i] if prev_i is not None else None
            nxt = toks[next_i] if next_i is not None else None
            if t.kind == "op" and not t.math:
                left = prev is not None and (prev.math or prev.text == "(") and prev_i == i - 1 if t.text == "/" else \
                    prev is not None and bool(prev.math)
                right = nxt is not None and bool(nxt.math or nxt.text == "(" or _letter(nxt))
                unary = t.text in ("-", "+-") and (prev is None or prev.text in "(,;:=" or prev.kind == "op") \
                    and nxt is not None and (nxt.math or _letter(nxt))
                tight = t.text == "-" and next_i == i + 1 and nxt is not None and (
                    (prev_i != i - 1 and bool(nxt.math or _letter(nxt)))
                    or (prev_i == i - 1 and _letter(prev) and nxt.kind == "number"))
                if (left and right) or unary or tight or (t.text == "/" and right and prev is not None and prev_i == i - 1
                                                  and _letter(prev)):
                    t.math = True
            elif t.kind == "name" and not t.math:
                if t.text in FUNCTIONS and nxt is not None and next_i == i + 1 and nxt.text == "(":
                    t.math = True
                elif t.text in ("Re", "Im") and nxt is not None and (nxt.math or _letter(nxt)):
                    t.math = True
                elif _letter(t) and _letter_is_math(t, prev, nxt, prev_i, next_i, i):
                    t.math = True
        _brackets(toks)
    _plain_numbers(toks, solid)


def _plain_numbers(toks: list[_Token], solid: list[int]) -> None:
    """A plain unsigned number among words (``3 chains``, ``order 5``, ``the year 2020``) is text."""
    for k, i in enumerate(solid):
        t = toks[i]
        if t.kind != "number" or not re.fullmatch(r"\d+(?:\.\d+)?", t.text):
            continue
        near = [toks[solid[j]] for j in (k - 1, k + 1) if 0 <= j < len(solid)]
        if not any(n.math for n in near):
            t.math = False


def _letter(t: _Token) -> bool:
    return t.kind == "name" and len(t.text) == 1


def _letter_is_math(t, prev, nxt, prev_i, next_i, i) -> bool:
    def op(x):
        return x is not None and x.kind == "op" and (x.math or x.text in ("=", "<", ">", "/"))

    near_op = op(prev) or op(nxt)
    between = prev is not None and nxt is not None and bool(prev.math) and bool(nxt.math or _letter(nxt)) \
        and prev.kind != "op" and t.text not in ("a", "A", "I")
    after_number = prev is not None and prev.kind == "number" and t.text not in ("a", "A", "I")
    after_delta = prev is not None and prev.text in ("Delta", "delta", "lepton")
    before_number = nxt is not None and nxt.kind == "number" and next_i == i + 1
    applied = nxt is not None and nxt.text == "(" and next_i == i + 1 and t.text not in ("a", "I")
    return near_op or after_number or after_delta or before_number or applied or between


def _brackets(toks: list[_Token]) -> None:
    """Brackets are maths when all they hold is maths, or when they follow maths directly
    (a function's argument); then everything inside them is maths too."""
    stack: list[int] = []
    pairs = []
    for i, t in enumerate(toks):
        if t.text in ("(", "["):
            stack.append(i)
        elif (t.text in (")", "]") or t.kind == "close") and stack:
            pairs.append((stack.pop(), i))
    for open_i, close_i in sorted(pairs, key=lambda p: p[1] - p[0]):
        inner = [t for t in toks[open_i + 1:close_i] if t.kind != "ws"]
        before = toks[open_i - 1] if open_i > 0 else None
        applied = before is not None and before.math and before.kind in ("name", "number", "close", "sqrtn")
        closing = toks[close_i]
        all_math = inner and all(t.math or t.text in (",", "(", ")", "[", "]") or _letter(t) for t in inner) \
            and any(t.math for t in inner)
        if applied or all_math or closing.kind == "close":
            toks[open_i].math = closing.math = True
            for t in toks[open_i + 1:close_i]:
                if t.kind != "ws" and (t.kind != "name" or _strong_or_short(t)):
                    t.math = True


def _strong_or_short(t: _Token) -> bool:
    return t.math or len(t.text) <= 2 or t.text in FUNCTIONS


# ---------------------------------------------------------------- spelling maths


def _script(body: str, names: Mapping[str, str], base: str = "") -> str:
    """A sub- or superscript: ``1ab``, ``mu``, ``emu``, ``S1``, ``{mu nu}``, ``(n+1)``, ``dagger``."""
    if body.startswith(("{", "(")) and body.endswith(("}", ")")):
        inner = body[1:-1]
        if body.startswith("(") and re.fullmatch(r"[\w,]+", inner):
            return "{(" + ",".join(_script(p, names) for p in inner.split(",")) + ")}"
        return "{" + _math(inner, names) + "}"
    if body == "dagger":
        return r"\dagger"
    if body == "x" and base == "I":
        return r"\times"
    if body in GREEK:
        return GREEK[body]
    if body in ("Da", "da"):
        return r"{\Delta a}"
    m = re.fullmatch(r"(e|mu|tau|l)+", body)
    if m and body not in ("e", "l") or body == "l":
        return "{" + _glue(LEPTONS[x] for x in re.findall(r"mu|tau|e|l", body)) + "}"
    m = re.fullmatch(r"([A-Z])(\d+|[a-z])", body)
    if m:
        return f"{{{m.group(1)}_{{{m.group(2)}}}}}"
    if re.fullmatch(r"[A-Za-z]{2,}", body) and not re.fullmatch(r"[a-z]{2}", body):
        return r"{\mathrm{" + body + "}}"
    if re.fullmatch(r"-?[\d.]+", body) and len(body) == 1:
        return body
    return "{" + re.sub(r"[^A-Za-z0-9.\-+]", "", body) + "}"


_DECOR_SPLIT = re.compile(rf"(~|'|[_^]{_SCRIPT})")


def _name(word: str, names: Mapping[str, str]) -> str:
    """One name with its decorations."""
    if word in names and ("_" in word or len(word) > 1):
        return names[word]
    m = re.fullmatch(r"([Dd]elta)_a_(e|mu|tau|l)(.*)", word)
    if m:
        return _decorations(m.group(3), names, "a", r"\Delta a_{" + LEPTONS[m.group(2)] + "}")
    m = re.fullmatch(r"([A-Za-z][A-Za-z0-9]*)(.*)", word)
    base, rest = m.group(1), m.group(2)
    head = rest.split("^")[0]
    if base + head in names and ("_" in head or (not head and len(base) > 1)):
        return _decorations(rest[len(head):], names, base, names[base + head])
    return _decorations(rest.lstrip("~"), names, base, _base(base, rest.startswith("~")))


UNITS = ("GeV", "MeV", "TeV", "keV", "eV", "cm")


def _base(base: str, tilde: bool) -> str:
    if base in UNITS:
        return r"\,\mathrm{" + base + "}"
    if base in GREEK:
        out = GREEK[base]
    elif re.fullmatch(r"[A-Z]\d+", base):
        out = f"{base[0]}_{{{base[1:]}}}"
    elif base == "l":
        out = r"\ell"  # a lepton: "l" is never a word of its own
    elif len(base) == 1:
        out = base
    elif re.fullmatch(r"[A-Za-z]+", base):
        out = r"\mathrm{" + base + "}"
    else:
        out = r"\mathrm{" + re.sub(r"[^A-Za-z0-9]", "", base) + "}"
    return r"\tilde{" + out + "}" if tilde else out


def _decorations(rest: str, names: Mapping[str, str], base: str, head: str = "") -> str:
    """Primes, subscripts and superscripts; a second subscript nests in the first
    (``a_b_c`` as ``a_{b_{c}}``), a second superscript braces what precedes it."""
    out, used = head, set()
    for part in _DECOR_SPLIT.findall(rest):
        if part == "'":
            out = "{" + out + "}'" if "^" in used else out + "'"
            continue
        if part == "~":
            continue
        kind, script = part[0], _script(part[1:], names, base)
        if kind in used:
            out = "{" + out + "}"
            used.clear()
        used.add(kind)
        out += kind + script
    return out


def _math(text: str, names: Mapping[str, str]) -> str:
    """Everything of ``text`` as maths."""
    toks = _tokens(text, names)
    for t in toks:
        t.math = True
    return _spell(toks, names)


def _spell(toks: list[_Token], names: Mapping[str, str]) -> str:
    out = []
    i = 0
    while i < len(toks):
        t = toks[i]
        if t.kind == "ws":
            out.append(" ")
        elif t.kind == "number":
            m = re.match(r"\d+(?:\.\d+)?(?:[eE][-+]?\d+)?j?", t.text)
            core = number(m.group().rstrip("j")) + (r"\,i" if m.group().endswith("j") else "")
            head = "{" + core + "}" if "times" in core and m.end() < len(t.text) else core
            out.append(_decorations(t.text[m.end():], names, "", head))
        elif t.kind == "angle":
            out.append(r"\langle " + _math(t.text[1:-1], names) + r"\rangle ")
        elif t.kind == "abs":
            bar = t.text.rindex("|")
            out.append("|" + _math(t.text[1:bar], names) + "|" + t.text[bar + 1:])
        elif t.kind == "sqrtn":
            out.append(r"\sqrt{" + t.text[4:] + "}")
        elif t.kind == "close":
            out.append(_decorations(t.text[1:], names, "", ")"))
        elif t.kind == "op":
            out.append(OPERATORS[t.text])
        elif t.kind == "name" and t.text in FUNCTIONS and i + 1 < len(toks) and toks[i + 1].text == "(":
            close = _matching(toks, i + 1)
            if close is not None and t.text in ("sqrt", "abs"):
                inner = _spell(toks[i + 2:close], names)
                left, right = (r"\sqrt{", "}") if t.text == "sqrt" else ("|", "|")
                out.append(_decorations(toks[close].text[1:], names, "", left + inner + right))
                i = close + 1
                continue
            out.append(FUNCTIONS[t.text])
        elif t.kind == "name" and t.text == "x" and 0 < i < len(toks) - 2 and toks[i - 2].kind == "number" \
                and toks[i + 2].text == "(":
            out.append(r"\times")
        elif t.kind == "code":
            out.append(r"\texttt{" + escape(t.text) + "}")
        elif t.kind == "name":
            out.append(FUNCTIONS.get(t.text) if t.text in ("Re", "Im", "Sign", "log", "exp", "BR")
                       else _name(t.text, names))
        elif t.kind in ("eqref", "abbr"):
            out.append(r"\text{" + escape(t.text) + "}")
        elif t.text in "()[],;:.!?":
            out.append(t.text)
        elif t.text in "{}":
            out.append("\\" + t.text)
        else:
            out.append(r"\text{" + escape(t.text) + "}")
        i += 1
    return _tidy(out)


def _matching(toks: list[_Token], open_i: int) -> int | None:
    depth = 0
    for j in range(open_i, len(toks)):
        if toks[j].text == "(":
            depth += 1
        elif toks[j].text == ")" or toks[j].kind == "close":
            depth -= 1
            if depth == 0:
                return j
    return None


def _tidy(parts: list[str]) -> str:
    """Pieces joined, with a space where a command would run into a following letter."""
    return re.sub(r"\s+", " ", _glue(parts)).strip()


def _glue(parts) -> str:
    out = ""
    for part in parts:
        if part and re.search(r"\\[A-Za-z]+$", out) and re.match(r"[A-Za-z]", part):
            out += " "
        out += part
    return out


_DERIVATIVE = re.compile(r"(?<![A-Za-z])d(\^2)?(?=(?:[A-Z]|sigma|varphi|phi|chi)(?![A-Za-z]))")


def latex(text: str, names: Mapping[str, str] | None = None) -> str:
    """``text`` (one line of prose with ASCII pseudo-maths, or SymPy's ``str`` of an expression:
    ``**`` is a power) as LaTeX: maths in ``$...$``, the rest escaped. ``names``: full names -> LaTeX (the derivation's symbols), used for
    names with a subscript (``lambda_1ab``, ``x_phi``)."""
    names = names or {}
    text = re.sub(r"(?<=\d) x (?=\()", " × ", str(text).replace("†", "^dagger").replace("**", "^"))
    text = _DERIVATIVE.sub(lambda m: "partial" + (m.group(1) or "") + " ", text)
    toks = _tokens(text, names)
    _classify(toks, names)
    out: list[str] = []
    i = 0
    while i < len(toks):
        t = toks[i]
        if t.math:
            j = i
            while j + 1 < len(toks) and (toks[j + 1].math or (toks[j + 1].kind == "ws" and j + 2 < len(toks)
                                                               and toks[j + 2].math)):
                j += 1
            out.append("$" + _spell(toks[i:j + 1], names) + "$")
            i = j + 1
            continue
        if t.kind == "code":
            out.append(r"\texttt{" + escape(t.text).replace(r"\_", r"\_\allowbreak{}") + "}")
        elif t.kind == "eqref":
            out.append(escape(t.text).replace("-", "--"))
        else:
            out.append(escape(t.text))
        i += 1
    return "".join(out)


def math(text: str, names: Mapping[str, str] | None = None) -> str:
    """``text`` read entirely as maths (no ``$``): for a value or a name inside a formula."""
    return _math(str(text), names or {})


def symbol_names(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """Name -> LaTeX of every declared symbol and function (the derivation's notation), plus
    ``extra`` (e.g. field names)."""
    names = {str(s): tex for s, tex in symbols.latex_names().items()}
    names.update(symbols.FUNCTION_LATEX)
    names.update(extra or {})
    return names
