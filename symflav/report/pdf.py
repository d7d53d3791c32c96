"""Compile the LaTeX report with pdflatex, when it is installed.

The PDF is made reproducible: ``SOURCE_DATE_EPOCH``/``FORCE_SOURCE_DATE`` fix the
dates pdfTeX writes, and the template sets ``\\pdftrailerid{}`` and
``\\pdfinfoomitdate``; the same TeX installation then gives the same bytes.
Compilation runs in a temporary folder with shell escape disabled.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Mapping

PASSES = 2  # the report has a cross-reference (\ref) and longtables


class LatexError(RuntimeError):
    """pdflatex failed or timed out; the message (one line) holds the first error of its log."""


def pdflatex() -> str | None:
    return shutil.which("pdflatex")


def compile_pdf(tex: str, *, timeout: float = 120.0, name: str = "report", extra_files=None) -> bytes:
    """The PDF of ``tex`` (raises :class:`LatexError` on failure, ``FileNotFoundError`` without pdflatex).

    ``extra_files`` (relative path -> bytes or str), e.g. the figures, are placed beside it."""
    return compile_with_log(tex, timeout=timeout, name=name, extra_files=extra_files)[0]


OVERFULL = re.compile(r"^Overfull \\hbox \((\d+(?:\.\d+)?)pt too wide\) (.*)$", re.MULTILINE)


def overfull(log: str, threshold: float = 5.0) -> list[tuple[float, str]]:
    """The "Overfull \\hbox" warnings of a pdflatex log wider than ``threshold`` pt: (pt, where)."""
    return [(float(pt), where) for pt, where in OVERFULL.findall(log) if float(pt) > threshold]


def compile_with_log(tex: str, *, timeout: float = 120.0, name: str = "report", extra_files=None,
                     passes: int = PASSES) -> tuple[bytes, str]:
    """:func:`compile_pdf` and the log of its last pass (e.g. for :func:`overfull`)."""
    program = pdflatex()
    if program is None:
        raise FileNotFoundError("pdflatex is not installed")
    env = dict(os.environ)
    env.update({"SOURCE_DATE_EPOCH": "0", "FORCE_SOURCE_DATE": "1", "TZ": "UTC", "LC_ALL": "C"})
    with tempfile.TemporaryDirectory(prefix="symflav-tex-") as tmp:
        folder = Path(tmp)
        (folder / f"{name}.tex").write_text(tex, encoding="utf-8")
        for rel, content in (extra_files or {}).items():
            target = folder / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
        for number in range(passes):
            draft = ["-draftmode"] if number < passes - 1 else []  # earlier passes only write the .aux
            try:
                result = subprocess.run(
                    [program, *draft, "-interaction=nonstopmode", "-halt-on-error", "-no-shell-escape",
                     f"{name}.tex"],
                    cwd=folder, env=env, capture_output=True, timeout=timeout, stdin=subprocess.DEVNULL,
                )
            except subprocess.TimeoutExpired:
                raise LatexError(f"pdflatex did not finish in {timeout:.0f} s "
                                 f"({first_error(folder / f'{name}.log', '')})") from None
            if result.returncode != 0:
                raise LatexError(first_error(folder / f"{name}.log", result.stdout.decode("utf-8", "replace")))
        log = (folder / f"{name}.log").read_text(encoding="utf-8", errors="replace")
        return (folder / f"{name}.pdf").read_bytes(), log


def compile_report(files, **options) -> bytes:
    """The PDF of ``files["report.tex"]`` with the figures it includes (``figures/*.pdf``)."""
    return compile_report_with_log(files, **options)[0]


def compile_report_with_log(files, **options) -> tuple[bytes, str]:
    """:func:`compile_report` and the log of its last pass."""
    figures = {k: v for k, v in files.items() if k.startswith("figures/") and k.endswith(".pdf")}
    return compile_with_log(files["report.tex"], extra_files=figures, **options)


def culprit(error: str, fields: Mapping[str, str]) -> str:
    """The fields (key -> LaTeX text, e.g. ``"scalars[0].latex"``) whose LaTeX appears in
    pdflatex's ``error`` (its first error and context line), as "; check KEY, KEY" or ""."""
    # TeX breaks the context line where it stopped ("l.12 ...$a^b^" / "c$"): compare without spaces
    context = "".join(error.split(" l.", 1)[-1].split())
    keys = [key for key, latex in fields.items() if len("".join(latex.split())) > 1
            and "".join(latex.split()) in context]
    return f"; check {', '.join(keys[:3])}" if keys else ""


def first_error(log: Path, stdout: str) -> str:
    text = log.read_text(encoding="utf-8", errors="replace") if log.is_file() else stdout
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("!"):
            return " ".join(x.strip() for x in lines[i:i + 3])
    return " ".join(lines[-1].split()) if lines else "pdflatex failed"


COLUMN_PT = 246
"""Width of one column of a two-column JHEP or revtex page (pt)."""


def snippet_document(snippet: str, input_name: str = "snippet.tex") -> str:
    """A plain ``article`` that loads only ``symflav.sty`` and ``\\input``'s ``input_name``
    (whose text is ``snippet``): a two-column page of :data:`COLUMN_PT` columns when the snippet
    holds displays only, a one-column page when it holds a table (longtable is one-column only)."""
    table = "tabular" in snippet or "longtable" in snippet
    layout = "" if table else (f"\\setlength{{\\columnsep}}{{18pt}}\\setlength{{\\textwidth}}{{{2 * COLUMN_PT + 18}pt}}\n")
    return (f"\\documentclass{'' if table else '[twocolumn]'}{{article}}\n\\usepackage{{symflav}}\n{layout}"
            f"\\begin{{document}}\n\\input{{{input_name}}}\n\\end{{document}}\n")


def compile_snippet(snippet: str, sty: str, **options) -> tuple[bytes, str]:
    """:func:`snippet_document` compiled with ``sty`` as symflav.sty: (PDF, log)."""
    files = {"symflav.sty": sty, "snippet.tex": snippet}
    return compile_with_log(snippet_document(snippet), name="paper", extra_files=files, passes=1, **options)
