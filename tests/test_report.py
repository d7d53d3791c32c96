"""The LaTeX report: templates render strictly, the report compiles, the printer speaks paper."""

from __future__ import annotations

import os
import shutil
from types import SimpleNamespace

import jinja2
import pytest
import sympy as sp

from symflav import outputs, pipeline, symbols
from symflav.report import pdf, printer, render

NEED_PDFLATEX = bool(os.environ.get("SYMFLAV_REQUIRE_PDFLATEX"))
requires_pdflatex = pytest.mark.skipif(
    shutil.which("pdflatex") is None and not NEED_PDFLATEX, reason="pdflatex is not installed")


def _with_fake_stages(derivation):
    """The derivation plus stand-ins with the interfaces of INTERFACES.md (computed here, by hand)."""
    model = derivation.model
    real = derivation["real_potential"]
    zero = {s: 0 for s in real.components}
    general = tuple(sp.expand(sp.diff(real.expr, s).subs(zero)) for s in real.sigma)
    hess = sp.Matrix(4, 4, lambda i, j: sp.diff(real.expr, real.sigma[i], real.sigma[j]).subs(zero) / 2)
    x = sp.Symbol("x", positive=True)
    fake = {
        "tadpoles": SimpleNamespace(vevs=real.vevs, general=general, imposed=general, eliminated=(),
                                    stationary_points=()),
        "mass_matrices": SimpleNamespace(M_S2=hess, M_P2=hess, M_S2_vacuum=hess, M_P2_vacuum=hess),
        "spectrum": SimpleNamespace(scalar_masses2=(hess[0, 0],), pseudoscalar_masses2=(hess[1, 1],)),
        "loops": SimpleNamespace(x=x, closed_forms={"I_m": (1 - x**2 * (1 - 2 * sp.log(x))) / (1 - x**2)}),
    }
    return pipeline.Derivation(model, {**derivation.results, **fake}, derivation.reports)


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
    assert "Not available in this build" not in tex  # every stage ran
    assert "Eq.~(A.14)" in tex and "disagrees (erratum)" in tex
    assert render.report_tex(derivation) == tex  # deterministic


def test_sections_fill_in_when_the_stages_exist(derivation):
    tex = render.report_tex(_with_fake_stages(derivation))
    assert "\\texttt{tadpoles} did not run" not in tex
    assert r"\left\langle \partial V/\partial\sigma_{1} \right\rangle" in tex
    assert r"(M_S^2)_{1a}" in tex
    files = render.snippets(_with_fake_stages(derivation))
    assert {"snippets/tadpoles.tex", "snippets/mass_matrices.tex", "snippets/loops.tex", "snippets/charges.tex",
            "snippets/comparison.tex", "snippets/errata.tex", "snippets/table2.tex"} <= set(files)


@requires_pdflatex
def test_report_compiles_and_is_reproducible(derivation):
    files = outputs.render(derivation)  # report.tex and the figures it includes
    first = pdf.compile_report(files)
    assert first.startswith(b"%PDF") and pdf.compile_report(files) == first


@requires_pdflatex
def test_report_with_every_stage_compiles(derivation):
    files = {**outputs.render(derivation), "report.tex": render.report_tex(_with_fake_stages(derivation))}
    assert pdf.compile_report(files).startswith(b"%PDF")


@requires_pdflatex
def test_snippets_compile_in_a_paper(derivation):
    files = render.snippets(_with_fake_stages(derivation))
    body = "\n".join(
        f"\\section*{{{printer.text(name)}}}\n{text}" for name, text in sorted(files.items()))
    tex = ("\\documentclass{article}\\usepackage{amsmath,amssymb,graphicx,array,longtable}\n"
           "\\begin{document}\n" + body + "\n\\end{document}\n")
    assert pdf.compile_pdf(tex).startswith(b"%PDF")


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
