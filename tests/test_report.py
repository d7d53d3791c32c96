"""The LaTeX report: templates render strictly, the report compiles, the printer speaks paper."""

from __future__ import annotations

import os
import shutil
import jinja2
import pytest
import sympy as sp

from symflav.report import outputs
from symflav.core import symbols
from symflav.core import printer
from symflav.report import pdf, render

NEED_PDFLATEX = bool(os.environ.get("SYMFLAV_REQUIRE_PDFLATEX"))
requires_pdflatex = pytest.mark.skipif(
    shutil.which("pdflatex") is None and not NEED_PDFLATEX, reason="pdflatex is not installed")




def test_templates_are_strict():
    env = render.environment()
    assert env.undefined is jinja2.StrictUndefined
    with pytest.raises(jinja2.UndefinedError):
        env.from_string(r"\VAR{missing}").render()
    assert env.from_string(r"\BLOCK{for x in xs}\VAR{x}\BLOCK{endfor}").render(xs=[1, 2]) == "12"


def test_report_has_every_section(derivation):
    tex = render.report_tex(derivation)
    for title in ("Model", "Generated potential", "Tadpoles", "Mass matrices", "Perturbative spectrum",
                  "Loop functions", "Froggatt", "Observables", "Comparison with the paper", "Errata", "Table 2"):
        assert f"\\section{{{title}" in tex, title
    assert "Not available in this build" not in tex and "did not run" not in tex  # every stage ran
    assert "Eq.~(A.14)" in tex and "disagrees (erratum)" in tex
    assert render.report_tex(derivation) == tex  # deterministic


def test_every_equation_shows_its_status_with_printed_and_derived(derivation):
    """Each equation of the registry has its subsection: status, the printed source, and for every
    compared part the printed and the derived LaTeX (or the reason it is not checked)."""
    text = render.snippets(derivation)["snippets/comparison.tex"]
    report = derivation["checks"]
    for label, status, _ in report.equations:
        if label.startswith("Table"):
            continue
        start = text.index(f"\\subsection*{{Eq.~({label}):")
        end = text.find("\\subsection*", start + 1)
        section = text[start:end if end > 0 else None]
        assert f"Status: \\textbf{{{render.STATUS_TEXT.get(status, status)}}}" in section, label
        mine = [r for r in report.results if r.equation == label and r.provider and r.printed and r.derived]
        if status == "not_checked":
            assert "Not checked:" in section, label
        else:
            assert "Printed:" in section and "Derived:" in section, label
            assert mine, label
    for e in ("1.4", "2.6", "A.11", "3.8"):
        assert f"Eq.~({e})" in render.snippets(derivation)["snippets/errata.tex"]
    assert "Corrected:" in render.snippets(derivation)["snippets/errata.tex"]


def test_stage_sections_fill_in(derivation):
    tex = render.report_tex(derivation)
    assert r"\label{sf:tadpoles:T:1}" in tex and r"\frac{\partial V}{\partial \sigma_{1}}" in tex
    assert r"(M_S^2)_{1a}" in tex
    files = render.snippets(derivation)
    assert {"snippets/tadpoles.tex", "snippets/mass_matrices.tex", "snippets/loops.tex", "snippets/charges.tex",
            "snippets/comparison.tex", "snippets/errata.tex", "snippets/table2.tex", "snippets/spectrum.tex",
            "snippets/flavor.tex", "snippets/observables.tex"} <= set(files)


@requires_pdflatex
def test_report_compiles_and_is_reproducible(derivation):
    files = outputs.render(derivation)  # report.tex and the figures it includes
    first = pdf.compile_report(files)
    assert first.startswith(b"%PDF") and pdf.compile_report(files) == first


@requires_pdflatex
def test_snippets_compile_in_a_paper(derivation):
    files = render.snippets(derivation)
    body = "\n".join(
        f"\\section*{{{printer.text(name)}}}\n{text}" for name, text in sorted(files.items()) if name.endswith(".tex"))
    tex = "\\documentclass{article}\\usepackage{symflav}\n\\begin{document}\n" + body + "\n\\end{document}\n"
    sty = {"symflav.sty": files["snippets/symflav.sty"]}
    assert pdf.compile_pdf(tex, extra_files=sty).startswith(b"%PDF")


@requires_pdflatex
def test_latex_errors_are_reported():
    with pytest.raises(pdf.LatexError, match="Undefined control sequence"):
        pdf.compile_pdf("\\documentclass{article}\\begin{document}\\nosuchmacro\\end{document}")


def test_printer_uses_the_paper_notation(model):
    s = model.symbols()
    assert printer.latex(s["lambdap_13"] * s["mup_a"] ** 2) == r"{\lambda'_{13}} {\mu'_a}^{2}"
    assert printer.latex(s["lambda_1ab"]) == r"\lambda_{1ab}"
    x = symbols.printed("x_phi", "positive", r"x_\phi")
    f = symbols.printed_function("I_m_x", r"I_m^\times")
    assert printer.latex(sp.log(x)) == r"\log x_\phi"
    assert printer.latex(sp.log(1 + x)) == r"\log\left(x_\phi + 1\right)"
    assert printer.latex(f(x) / 2) == r"\frac{I_m^\times\left(x_\phi\right)}{2}"


def test_long_sums_break_over_lines(derivation):
    lines = printer.lines(derivation["potential"].expr, width=60)
    assert len(lines) > 3
    assert all(printer.visible_length(line) <= 110 for line in lines)
    text = printer.equation("V", derivation["potential"].expr, width=60)
    assert text.count("\\\\") == len(lines) - 1 and text.startswith("\\begin{aligned}")
    pieces = printer.break_latex(" + ".join(["a_{1}"] * 80), 40)
    assert len(pieces) > 3 and all(p.strip() for p in pieces)
