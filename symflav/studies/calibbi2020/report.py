"""The paper's sections of ``report.tex`` and its own output files.

* "Figures 3 and 4 and the paper's numeric claims" (after the derived stages);
* "The paper's forms": eq. (3.6)'s lambda and the forms of eqs. (3.7)-(3.10) and (A.15)-(A.16),
  as the study's ``paper`` stage derives them (also ``snippets/paper_forms.tex``);
* ``claims.json`` (the figures stage) and ``paper.json`` (the paper stage).
"""

from __future__ import annotations

from pathlib import Path

from symflav.core.files import header_fields
from symflav.core.stages import Derivation, Unavailable, available
from symflav.core import printer
from symflav.report import render
from symflav.report.bodies import lepton_latex
from symflav.report.outputs import dump_json
from symflav.report.sections import Section

TEMPLATES = Path(__file__).resolve().parent / "templates"


def figures_section(derivation: Derivation) -> str | None:
    """Figures 3 and 4 (files written next to the report) and the claims table."""
    data = derivation.results.get("figures")
    if data is None or isinstance(data, Unavailable):
        return None
    rows = [{"where": printer.text(c.where), "statement": printer.text(c.statement), "printed": printer.text(c.printed),
             "from_printed": printer.text(c.from_printed), "derived": printer.text(c.derived),
             "note": printer.text(c.note)} for c in data.claims]
    sign = data.sign_rule
    figures = {"claims": rows, "points": data.points,
               "x_range": f"[{data.to_json()['x_phi_range'][0]}, {data.to_json()['x_phi_range'][1]}]",
               "derived_sign": "+" if sign.get("derived", 1) > 0 else "-",
               "printed_sign": "+" if sign.get("printed", 1) > 0 else "-"}
    return render.render("figures.tex.j2", TEMPLATES, figures=figures).lstrip("\n")


def paper_form_items(derivation: Derivation) -> list[tuple[str, object, str]]:
    """(lhs, rhs, label) rows of the paper stage: eq. (3.6)'s lambda, then the forms."""
    forms = available(derivation.results, "paper")
    if forms is None:
        return []
    rows = [(r"\lambda", forms.effective_lambda, "3.6, derived")]
    for name, eq, expr in forms.paper_form:
        basis = name.endswith("_mass_basis")
        parts = (name[: -len("_mass_basis")] if basis else name).split("_")
        if parts[0] == "m":
            lhs = f"m_{{{lepton_latex(parts[1])}}}^{{\\rm {parts[2]}}}"
        else:
            ell = lepton_latex(parts[2])
            lhs = f"\\Delta a_{{{ell}}} / m_{{{ell}}}"
        if basis:
            lhs += r"\big|_{\rm mass\ basis}"
        rows.append((lhs, expr, f"{eq}, derived"))
    return rows


def paper_forms_section(derivation: Derivation) -> str | None:
    """The paper's forms of the lepton masses and Delta a, one display each."""
    rows = paper_form_items(derivation)
    if not rows:
        return None
    items = [printer.equation(lhs, rhs) + f" \\quad \\text{{({printer.text(label)})}}" for lhs, rhs, label in rows]
    return ("\\section{The paper's forms of the lepton masses and $\\Delta a_\\ell$}\n"
            "Aligned vacuum, one common $x_\\phi$, the closures by operators with a flavon outside every chain\n"
            "(the study's \\texttt{paper} stage; compared with the printed equations in the comparison below).\n\n"
            + render.render("snippet_stage.tex.j2", items=items).strip("\n") + "\n\n")


SECTIONS = (
    Section("paper_forms", "The paper's forms of the lepton masses", paper_forms_section, snippet="paper_forms"),
    Section("figures", "Figures 3 and 4 and the paper's numeric claims", figures_section),
)


def outputs(derivation: Derivation) -> dict[str, str]:
    """``paper.json`` (the paper stage) and ``claims.json`` (the figures stage), when they ran."""
    files = {}
    head = {"_": header_fields(derivation.model)}
    forms = available(derivation.results, "paper")
    if forms is not None:
        files["paper.json"] = dump_json({**head, **forms.to_json()})
    figures = available(derivation.results, "figures")
    if figures is not None:
        files["claims.json"] = dump_json({**head, **figures.to_json()})
    return files
