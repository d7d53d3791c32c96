"""The paper's sections of ``report.tex`` and its own output files.

* "Figures 3 and 4 and the paper's numeric claims" (after the derived stages);
* "The paper's forms": eq. (3.6)'s lambda and the forms of eqs. (3.7)-(3.10) and (A.15)-(A.16),
  as the study's ``paper`` stage derives them (also ``snippets/paper_forms.tex``);
* "Vertex modes": eqs. (2.3), (3.7), (3.8) and Table 2 under each Yukawa vertex mode;
* ``claims.json`` (the figures stage), ``paper.json`` (the paper stage) and ``vertex_modes.json``.
"""

from __future__ import annotations

import functools
from pathlib import Path

from symflav.core.files import header_fields
from symflav.core.stages import Derivation, Unavailable, available
from symflav.core import printer
from symflav.report import bodies, prose, render
from symflav.report.bodies import lepton_latex
from symflav.report.outputs import dump_json
from symflav.report.sections import Section
from symflav.studies.calibbi2020 import report_benchmark

TEMPLATES = Path(__file__).resolve().parent / "templates"


def figures_section(derivation: Derivation) -> str | None:
    """Figures 3 and 4 (files written next to the report) and the claims table."""
    data = derivation.results.get("figures")
    if data is None or isinstance(data, Unavailable):
        return None
    rows = [{"where": c.where, "statement": c.statement, "printed": c.printed, "from_printed": c.from_printed,
             "derived": c.derived, "note": c.note} for c in data.claims]
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
    """The paper's forms of the lepton masses and Delta a, one labelled display each; the paper's
    equation number once before the displays it covers."""
    rows = paper_form_items(derivation)
    if not rows:
        return None
    items, shown = [], None
    for lhs, rhs, label in rows:
        eq = label.split(",")[0]
        if eq != shown:
            items.append(bodies.printed_as(eq).rstrip("\n"))
            shown = eq
        name = lhs.replace("\\big|_{\\rm mass\\ basis}", "_mass_basis").replace("\\rm ", "").replace("\\", "")
        items.append(printer.display(lhs, rhs, printer.label("paper", name)))
    return ("\\section{The paper's forms of the lepton masses and $\\Delta a_\\ell$}\n"
            "Aligned vacuum, one common $x_\\phi$, the closures by operators with a flavon outside every chain\n"
            "(the study's \\texttt{paper} stage; compared with the printed equations in the comparison below).\n\n"
            + render.render("snippet_stage.tex.j2", body="\n".join(items)).strip("\n") + "\n\n")


def vertex_modes_section(derivation: Derivation) -> str | None:
    """The tree weights, the eq. (2.3) factor and the Table 2 numbers under each vertex mode."""
    data = available(derivation.results, "vertex_modes")
    if data is None:
        return None
    lines = ["\\section{Vertex modes: eqs. (2.3), (3.7), (3.8) and Table 2}",
             "Each Yukawa vertex mode of the model (all vertices the charges allow; the vertices of eqs.",
             "(3.1)--(3.2) as written) gives its own chains. Weights: coefficient of each vev monomial in",
             "$m^{\\rm FN}/(g^{n+1}\\langle H\\rangle/M_\\chi^n)$ (the number of chains), derived and printed;",
             "(2.3) factor: $m^{\\rm FN}$ over eq. (2.3) at $\\varepsilon = v_1/M_\\chi$ on the aligned vacuum",
             "(paper's phase); Table 2: mass insertion at the printed inputs.", "",
             "\\begin{itemize}"]
    text = functools.partial(prose.latex, names=prose.symbol_names())
    for mode in data.modes:
        lines.append(f"\\item \\texttt{{{printer.text(mode.mode)}}}:")
        for lepton, row in mode.leptons.items():
            derived, printed = mode.polynomials[lepton]
            shown = "?" if printed is None else f"${printer.latex(printed)}$"
            lines.append(f"  ${lepton_latex(lepton)}$: {len(row['chains'])} chain(s), weights ${printer.latex(derived)}$ "
                         f"(printed {shown}; {'equal' if row['follows_print'] else 'different'}); "
                         f"(2.3) factor {text(str(row['factor_2_3']))} (printed "
                         f"{text(str(row['printed_factor_2_3']))});")
        t = mode.table2
        if t:
            lines.append("  Table 2: " + text(
                f"Delta a_mu = {t.get('delta_a_mu', float('nan')):.3g}, Delta a_e = {t.get('delta_a_e', float('nan')):.3g}, "
                f"c_mu = {t.get('c_mu', float('nan')):.3g}, c_e = {t.get('c_e', float('nan')):.3g}; sign of "
                f"Delta a_mu {_as_printed(t.get('delta_a_mu_sign_as_printed'))}, of "
                f"Delta a_e {_as_printed(t.get('delta_a_e_sign_as_printed'))}") + ".")
    caption = data.printed_caption
    lines.append("\\end{itemize}")
    lines.append("Printed (Table 2 caption): " + text(", ".join(f"{k} = {v}" for k, v in caption.items())) + ". "
                 + "Modes whose tree weights equal the printed ones: "
                 + "; ".join(f"${lepton_latex(l)}$: " + (", ".join(f"\\texttt{{{printer.text(x)}}}" for x in m) or "none")
                             for l, m in data.follows.items()) + ".")
    return "\n".join(lines) + "\n\n"


def _as_printed(flag) -> str:
    """A sign check in words: "as printed", "opposite to the print" or "not compared"."""
    return {True: "as printed", False: "opposite to the print"}.get(flag, "not compared")


SECTIONS = (
    Section("paper_forms", "The paper's forms of the lepton masses", paper_forms_section, snippet="paper_forms"),
    Section("vertex_modes", "Vertex modes: eqs. (2.3), (3.7), (3.8) and Table 2", vertex_modes_section),
    Section("figures", "Figures 3 and 4 and the paper's numeric claims", figures_section),
    Section("benchmark_inferred", "The printed benchmark under the inferred conventions",
            report_benchmark.benchmark_section, place="after_comparison"),
    Section("omitted_invariants", "What the omitted invariants change at the benchmark",
            report_benchmark.omitted_section, place="after_comparison"),
)


def outputs(derivation: Derivation) -> dict[str, str]:
    """``paper.json`` (the paper stage) and ``claims.json`` (the figures stage), when they ran."""
    files = {}
    head = {"_": header_fields(derivation.model)}
    forms = available(derivation.results, "paper")
    if forms is not None:
        files["paper.json"] = dump_json({**head, **forms.to_json()})
    modes = available(derivation.results, "vertex_modes")
    if modes is not None:
        files["vertex_modes.json"] = dump_json({**head, **modes.to_json()})
    figures = available(derivation.results, "figures")
    if figures is not None:
        files["claims.json"] = dump_json({**head, **figures.to_json()})
    return files
