"""Prose with ASCII pseudo-maths becomes LaTeX text with inline maths (symflav.report.prose),
and the built-in derivation's report and snippets show no code-style names."""

from __future__ import annotations

import random
import re

import pytest

from latex_reading import code_style_names
from symflav import cli
from symflav.report import pdf, prose

NAMES = {"lambda_1ab": r"\lambda_{1ab}", "lambdap_13": r"{\lambda'_{13}}", "x_phi": r"x_\phi", "M_chi": r"M_\chi",
         "phi1": r"\phi_1", "I_m_x": r"I_m^\times"}

TRANSLATIONS = [
    # the examples of the issue
    ("lambda (phi_a^dagger phi_1)^2", r"$\lambda (\phi_{a}^\dagger \phi_1)^2$"),
    ("sqrt(2/3) < K < sqrt(6)", r"$\sqrt{2/3} < K < \sqrt{6}$"),
    ("m_S1", r"$m_{S_{1}}$"),
    ("delta_a_mu", r"$\Delta a_{\mu}$"),
    ("1.6e-9", r"$1.6\times 10^{-9}$"),
    ("-0.3", "$-0.3$"),
    ("lambda_1ab", r"$\lambda_{1ab}$"),
    ("mu_1^2", r"$\mu_1^2$"),
    ("v_a/v_1", r"$v_{a}/v_1$"),
    # numbers: powers of ten, true minus signs, plain numbers untouched
    ("1e-10", "$10^{-10}$"),
    ("-3.27e-09", r"$-3.27\times 10^{-9}$"),
    ("1.184e+04 GeV", r"$1.184\times 10^{4}$ GeV"),
    ("gives -1.53 from", "gives $-1.53$ from"),
    ("3 chains at order 2, the year 2020", "3 chains at order 2, the year 2020"),
    ("(-1-2j)", r"$(-1-2\,i)$"),
    # names: the derivation's own, Greek, primes, tildes, leptons, eigenstates
    ("lambda'_13 v_1^2", r"$\lambda'_{13} v_1^2$"),
    ("lambdap_13 v_1^2", r"${\lambda'_{13}} v_1^2$"),
    ("lambda~_1a^2", r"$\tilde{\lambda}_{1a}^2$"),
    ("x_phi -> 0", r"$x_\phi \to 0$"),
    ("entry 2*lambda_s*v_s**2 is not", r"entry $2\,\lambda_{s}\,v_{s}^2$ is not"),  # SymPy's str
    ("a sum over the mass eigenstates", "a sum over the mass eigenstates"),
    ("sum_i m_i^2", r"$\sum_{i} m_{i}^2$"),
    ("I_m^x(x_phi) < 0", r"$I_{m}^\times(x_\phi) < 0$"),
    ("C_emu and m_l", r"$C_{e\mu}$ and $m_{\ell}$"),
    ("m^RAD", r"$m^{\mathrm{RAD}}$"),
    ("phi1† phi1", r"$\phi_1^\dagger \phi_1$"),
    ("|C_emu| < 1e-10 GeV^-2", r"$|C_{e\mu}| < 10^{-10} \,\mathrm{GeV}^{-2}$"),
    ("<phi_1 phi_1>", r"$\langle \phi_1 \phi_1\rangle$"),
    ("BR(mu -> e gamma)", r"$\mathrm{BR}(\mu \to e \gamma)$"),
    ("Sign(Delta a) = -Sign(m^RAD)", r"$\operatorname{Sign}(\Delta a) = -\operatorname{Sign}(m^{\mathrm{RAD}})$"),
    ("charges +-1..+-8", r"charges $\pm1\dots\pm8$"),
    ("a_b_c", "${a_{b}}_{c}$"),
    # English stays text: the article "a", equation references, abbreviations, code identifiers
    ("with a phi_3 vev between them", r"with a $\phi_3$ vev between them"),
    ("as in eq. (2.4) and eqs. (3.7)-(3.10)", "as in eq. (2.4) and eqs. (3.7)--(3.10)"),
    ("Table 2's caption, appendix A's relation", "Table 2's caption, appendix A's relation"),
    ("the electron's closures + h.c.", "the electron's closures $+$ h.c."),
    ("mode all_allowed", r"mode \texttt{all\_\allowbreak{}allowed}"),
    ("within 10% of it", r"within 10\% of it"),
    ("muon g-2", "muon $g-2$"),
]


@pytest.mark.parametrize("text, expected", TRANSLATIONS)
def test_pseudo_maths_becomes_inline_latex(text, expected):
    assert prose.latex(text, NAMES) == expected


HOSTILE = [
    ("{braces} \\back % & # ~ ^ _ $x$",
     r"\{braces\} \textbackslash{}back \% \& \# \~{} \^{} \_ \$x\$"),
    ("100% of #1 & 2", r"100\% of \#1 \& 2"),
    ("a^b^c", "${a^{b}}^{c}$"),
    ("x_{\\input{/etc/passwd}}", r"x\_\{\textbackslash{}input\{/etc/passwd\}\}"),
    ("v_{\\input x}", r"$v_{\text{\textbackslash{}}\mathrm{input} x}$"),
]


@pytest.mark.parametrize("text, expected", HOSTILE)
def test_latex_specials_in_text_come_out_escaped(text, expected):
    assert prose.latex(text) == expected


ALPHABET = "ab xyz_^{}\\$%&#~<>|()[]=+-/*'.,;:0123456789e sqrt lambda phi dagger mu†"


def _hostile_strings(count: int = 300) -> list[str]:
    rng = random.Random(18)
    pieces = list(ALPHABET) + ["sqrt(", "lambda_", "^dagger", "1e-9", " -> ", "eq. (2.4)", "|", "<", ">"]
    return ["".join(rng.choice(pieces) for _ in range(rng.randint(1, 25))) for _ in range(count)]


def _balanced(tex: str) -> bool:
    depth = 0
    for m in re.finditer(r"\\.|[{}]", tex):
        depth += {"{": 1, "}": -1}.get(m.group(), 0)
        if depth < 0:
            return False
    return depth == 0


def test_any_text_gives_balanced_braces_and_closed_maths():
    for text in _hostile_strings():
        tex = prose.latex(text, NAMES)
        assert _balanced(tex), (text, tex)
        assert len(re.findall(r"(?<!\\)\$", tex)) % 2 == 0, (text, tex)


@pytest.mark.skipif(pdf.pdflatex() is None, reason="pdflatex is not installed")
def test_hostile_and_random_texts_compile():
    lines = [prose.latex(t, NAMES) for t, _ in TRANSLATIONS + HOSTILE] + \
        [prose.latex(t, NAMES) for t in _hostile_strings()]
    body = "\n\n".join(lines)
    doc = ("\\documentclass{article}\\usepackage{amsmath,amssymb}\\begin{document}\n"
           + body + "\n\\end{document}\n")
    assert pdf.compile_pdf(doc, name="prose").startswith(b"%PDF")


# ---------------------------------------------------------------- the built-in report

@pytest.fixture(scope="module")
def derived(tmp_path_factory):
    out = tmp_path_factory.mktemp("prose") / "derive"
    assert cli.main(["derive", "-o", str(out)]) == 0
    return out


@pytest.mark.slow
def test_the_report_and_snippets_have_no_code_style_names(derived):
    files = [derived / "report.tex", *sorted((derived / "snippets").glob("*.tex"))]
    assert len(files) > 5
    found = [hit for path in files for hit in code_style_names(path.read_text(), path.name)]
    assert not found, "\n".join(found[:30])


@pytest.mark.slow
@pytest.mark.skipif(pdf.pdflatex() is None, reason="pdflatex is not installed")
def test_the_report_with_latex_prose_compiles(derived):
    assert (derived / "report.pdf").read_bytes().startswith(b"%PDF")
