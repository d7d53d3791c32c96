"""What a reader of generated LaTeX sees, and the code-style names that must not be there
(shared by the tests of the built-in report and of the example reports)."""

from __future__ import annotations

import re

CODE_STYLE = {
    "phi_a-style name": r"(?<![\\A-Za-z])(?:var)?phi\\?_",
    "lambda_ name outside a macro": r"(?<![\\A-Za-z])lambda\\?_\w+",
    "sqrt(": r"sqrt\(|(?<!\\)sqrt\d",
    "dagger without backslash": r"(?<!\\)dagger",
    "delta_a_mu-style name": r"(?<![\\A-Za-z])[Dd]elta\\?_a",
    "m_S1-style name": r"(?<![A-Za-z])m\\?_[SP]\d",
    "e-9-style number": r"(?<![0-9a-f])\d(?:\.\d+)?e[-+]?\d",
    "Greek name as a word": r"(?<![\\A-Za-z{])(?:lambda|sigma|varphi|epsilon|Delta|delta)(?![A-Za-z])",
    "escaped caret": r"\\\^\{\}",
    "Python power": r"\*\*",
    "Python product": r"[A-Za-z0-9)}]\*[A-Za-z0-9(\\]",
}


def _shown(tex: str) -> str:
    """What a reader sees: without comment lines, \\texttt names of files, scans and modes, and
    the keys of \\label/\\ref/\\eqref (identifiers for LaTeX, never typeset)."""
    lines = [re.sub(r"(?<!\\)%.*", "", line) for line in tex.splitlines()]
    text = re.sub(r"\\texttt\{[^{}]*\}", "", "\n".join(lines))
    return re.sub(r"\\(?:label|ref|eqref)\{[^{}]*\}", "", text)


def code_style_names(tex: str, where: str) -> list[str]:
    """Each code-style name in what a reader sees of ``tex``, with its context."""
    text = _shown(tex)
    return [f"{where}: {what}: ...{text[max(0, m.start() - 40):m.end() + 20]}..."
            for what, pattern in CODE_STYLE.items() for m in re.finditer(pattern, text)]
