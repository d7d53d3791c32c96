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
    compared part the printed and the derived LaTeX, shown once when they coincide (or the reason
    it is not checked)."""
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
            both = "Printed:" in section and "Derived:" in section
            assert both or "Printed and derived:" in section, label  # one display when they coincide
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


@pytest.fixture(scope="module")
def report_files(derivation):
    """report.tex and the figures it includes, as ``symflav derive`` writes them."""
    return outputs.render(derivation)


@pytest.fixture(scope="module")
def compiled_report(report_files):
    """(PDF, log of the last pass) of the built-in derivation's report."""
    return pdf.compile_report_with_log(report_files)


@requires_pdflatex
@pytest.mark.slow
def test_report_compiles_and_is_reproducible(report_files, compiled_report):
    first = compiled_report[0]
    assert first.startswith(b"%PDF") and pdf.compile_report(report_files) == first


@requires_pdflatex
@pytest.mark.slow
def test_report_fits_its_page(compiled_report):
    """No line of the report (displays, tables, prose) is wider than the text by more than 5 pt."""
    assert pdf.overfull(compiled_report[1]) == []


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


def test_printed_formulas_break_at_relations_and_inside_wide_fractions():
    tex = (r"\Delta a_\ell = \frac{a_1 + a_2 + a_3 + a_4 + a_5 + a_6 + a_7 + a_8 + a_9 + a_{10} + a_{11}}"
           r"{b_1 + b_2} \simeq c_1 + c_2")
    rows = printer.display_rows(tex, width=30)
    assert len(rows) > 2 and all(printer.visible_length(r) <= 40 for r in rows)
    assert rows[-1].endswith(r"\Bigr) \simeq c_1 + c_2")  # rows are packed up to the width
    assert printer.cut_latex("a_1 + a_2 + a_3 = b_1 + b_2 + b_3", 16) == ["a_1 + a_2 + a_3", "= b_1 + b_2 + b_3"]
    assert r"\frac{1}{b_1 + b_2}\Bigl(" in "".join(rows)  # the long numerator in its own rows
    assert printer.display_rows(r"x = \frac{a}{b}", width=30) == [r"x = \frac{a}{b}"]
    # a short fraction stays whole even in a row that is too wide
    product = r"\frac{a + b}{c + d}\, x_1 x_2 x_3 x_4 x_5 x_6 x_7 x_8 x_9"
    assert printer.cut_latex(product, 20) == [product]


def test_a_group_that_is_not_cut_keeps_its_delimiters():
    """Only a group split over rows becomes \\Bigl( ... \\Bigr); one that fits stays \\left( \\right)."""
    argument = r"g_1 g_2 g_3 g_4 g_5 g_6 g_7 g_8 I\left(x_\phi\right)"
    assert printer.cut_latex(argument, 12) == [argument]
    wide = r"c \left(a_1 + a_2 + a_3 + a_4 + a_5 + a_6 + a_7 + a_8 + a_9\right)"
    rows = printer.cut_latex(wide, 20)
    assert len(rows) > 1 and rows[0].startswith(r"c \Bigl(") and rows[-1].endswith(r"\Bigr)")


def test_a_wide_printed_matrix_is_shown_entry_by_entry():
    wide = r"M^2 \simeq \left( \begin{array}{cc} a_1 + a_2 + a_3 + a_4 & b_1 + b_2 + b_3 \\ b_1 + b_2 + b_3 & c \end{array} \right),"
    rows = printer.display_rows(wide, width=40)
    assert rows[0] == r"\left(M^2\right)_{11} \simeq a_1 + a_2 + a_3 + a_4"
    assert r"\left(M^2\right)_{21}" not in "".join(rows)  # symmetric: the upper triangle
    assert rows[-1].endswith(r"\text{symmetric},")
    narrow = r"U = \begin{pmatrix} 1 & -x \\ x & 1 \end{pmatrix}"
    assert printer.display_rows(narrow, width=30) == [narrow]  # fits: never cut inside
    assert printer.break_latex(r"\begin{pmatrix} 1 & -x \\ x & 1 \end{pmatrix} - y", 5) == \
        [r"\begin{pmatrix} 1 & -x \\ x & 1 \end{pmatrix}", "- y"]
    cases = r"\left( \begin{array}{cc} v = 0 & V = 0 \\ v = a & V = -b \end{array} \right)"
    assert printer.display_rows(cases, width=8) == ["v = 0", "V = 0", "v = a", "V = -b"]


def test_a_fraction_is_as_wide_as_its_wider_part():
    assert printer.visible_length(r"\frac{a_1 + a_2}{b}") == printer.visible_length("a_1 + a_2")
    assert printer.visible_length(r"x \frac{\frac{a}{b}}{c d e} y") == printer.visible_length("x c d e y")
    assert printer.visible_length(r"\frac{a") == 2  # not a fraction: counted as text
    short = r"V = - \frac{5 \mu_1^{4}}{4 \left(\lambda_1 + 2 \lambda_{13} - 3 \lambda'_{13}\right)}"
    assert printer.cut_latex(short, 40) == [short]
