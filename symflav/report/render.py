"""The LaTeX report and the per-object snippets, from jinja2 templates.

Templates live in ``templates/*.j2`` and use LaTeX-safe delimiters: ``\\VAR{x}`` for a
value, ``\\BLOCK{for ...}`` for control, ``%#`` for a template comment; undefined
names are errors (``StrictUndefined``). Everything a template shows is prepared
here as plain strings (LaTeX already printed), so templates hold layout only.
Sections whose stage did not run say so instead of showing anything.

The report is deterministic (no dates); :func:`symflav.report.pdf.compile_pdf`
turns it into a PDF when ``pdflatex`` exists.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2
import sympy as sp

from symflav.core import symbols
from symflav.core.files import header_fields
from symflav.core.parsing import ParseError, parse_expression
from symflav.core.stages import Derivation
from symflav.report import printer

TEMPLATES = Path(__file__).resolve().parent / "templates"


def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        block_start_string=r"\BLOCK{", block_end_string="}",
        variable_start_string=r"\VAR{", variable_end_string="}",
        comment_start_string=r"\#{", comment_end_string="}",
        line_statement_prefix="%%", line_comment_prefix="%#",
        trim_blocks=True, lstrip_blocks=True, autoescape=False, keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["tex"] = printer.text
    return env


def render(template: str, **context) -> str:
    return environment().get_template(template).render(**context)


# ---------------------------------------------------------------- sections


def _charges(derivation: Derivation) -> dict:
    model = derivation.model
    syms = [s for s in model.symmetries]
    rows = []
    groups = [("scalar", model.scalars), ("spectator", model.spectators), ("fermion", model.fermions)]
    for kind, items in groups:
        for item in items:
            rows.append({"field": f"${item.latex}$", "kind": kind,
                         "charges": [_charge_text(item.charge(s.name), s) for s in syms]})
    families: dict[str, list] = {}
    for m in model.mediators:
        families.setdefault(m.family, []).append(m)
    for family, members in families.items():
        charges = []
        for s in syms:
            values = sorted({m.charge(s.name) for m in members})
            charges.append(_range_text(values, s))
        rows.append({"field": f"${members[0].latex}$", "kind": f"mediators ({len(members)})", "charges": charges})
    return {"symmetries": [f"${s.latex}$" for s in syms], "rows": rows}


def _charge_text(q, sym) -> str:
    if sym.order == 2:
        return "$+$" if q == 0 else "$-$"
    return f"${q.numerator}/{q.denominator}$" if q.denominator != 1 else f"${q.numerator}$"


def _range_text(values, sym) -> str:
    if sym.order and len(values) == sym.order:
        return "all"
    if len(values) > 4:
        return f"${values[0]}, \\dots, {values[-1]}$ (no 0)" if 0 not in values else f"${values[0]}..{values[-1]}$"
    return ", ".join(_charge_text(v, sym) for v in values)


def _conventions(derivation: Derivation) -> list[str]:
    return [printer.text(v) for v in derivation.model.conventions.describe().values()]


def _relations(derivation: Derivation) -> list[str]:
    model = derivation.model
    items = [f"{printer.latex(lhs)} = {printer.latex(rhs)}" for lhs, rhs in model.relations]
    if model.vacuum:
        items += [f"{printer.latex(lhs)} = {printer.latex(rhs)}" for lhs, rhs in model.vacuum.alignment]
    return items


def _entries(matrix: sp.MatrixBase, names, symbol: str) -> list[str]:
    out = []
    n = matrix.shape[0]
    for i in range(n):
        for j in range(i, matrix.shape[1]):
            lhs = rf"({symbol})_{{{names[i]}{names[j]}}}"
            out.append(printer.equation(lhs, matrix[i, j]))
    return out


def _stage_items(derivation: Derivation) -> dict[str, list[str] | None]:
    """LaTeX items of each stage of the other branches; ``None`` when the stage is absent."""
    r = derivation.results
    labels = [s.label for s in derivation.model.scalars]
    items: dict[str, list[str] | None] = {}

    def safe(name, build):
        if name not in r:
            items[name] = None
            return
        try:
            items[name] = build(r[name])
        except (AttributeError, KeyError, TypeError, IndexError) as exc:
            items[name] = [printer.text(f"(stage {name} present; its interface is not the expected one: {exc})")]

    safe("tadpoles", lambda t: [printer.equation(rf"\left\langle \partial V/\partial\sigma_{{{lab}}} \right\rangle", e)
                                for lab, e in zip(labels, t.general)]
         + [printer.equation(printer.latex(mu**2), e) for mu, e in getattr(t, "eliminated", ())])
    safe("mass_matrices", lambda m: _entries(m.M_S2_vacuum, labels, "M_S^2") + _entries(m.M_P2_vacuum, labels, "M_P^2"))
    safe("spectrum", lambda s: [printer.equation(f"m_{{S_{i + 1}}}^2", e) for i, e in enumerate(s.scalar_masses2)]
         + [printer.equation(f"m_{{P_{i + 1}}}^2", e) for i, e in enumerate(s.pseudoscalar_masses2)])
    safe("loops", lambda lo: [printer.equation(lo[k].latex + r"(x)", e)
                              for k, e in sorted(lo.closed_forms.items())])
    from symflav.report import outputs  # the same rows as the snippets

    safe("flavor", lambda f: [item for lhs, rhs, c in outputs.flavor_items(derivation)
                              for item in ([r"\text{" + printer.text(c) + "}"] if c else []) + [printer.equation(lhs, rhs)]])
    safe("observables", lambda o: [printer.equation(lhs, rhs) + f" \\quad \\text{{({printer.text(label)})}}"
                                   for lhs, rhs, label in outputs.observables_items(derivation)])
    return items


def _display(latex: str) -> str:
    """A formula for display: aligned when it has line breaks, broken or scaled when long."""
    body = latex.strip().rstrip(",.").strip()
    if "\\\\" not in body and "\\begin" not in body and printer.visible_length(body) > 150:
        pieces = printer.break_latex(body, 90)
        if len(pieces) > 1:
            body = " \\\\ &\\quad ".join(pieces)
    if "\\\\" in body and "\\begin" not in body:
        body = "\\begin{aligned}&" + body.lstrip("& ") + "\\end{aligned}"
    widest = max(printer.visible_length(line) for line in body.split("\\\\"))
    if widest > 150:
        return "\\resizebox{\\linewidth}{!}{$\\displaystyle " + body + "$}"
    return "\\[ " + body + " \\]"


def _witness(w: dict | None, names: dict[str, str]) -> str:
    if not w:
        return ""
    parts = []
    for name, value in w["point"].items():
        parts.append(f"{names.get(name, printer.text(name))} = {_value(value)}")
    return ("$" + ",\\ ".join(parts) + "$" if parts else "") + \
        f" \\quad printed ${w['printed']}$, derived ${w['derived']}$, difference ${w['difference']}$"


def _value(text: str) -> str:
    try:
        return printer.latex(parse_expression(text, {"I": sp.I}))
    except ParseError:
        return printer.text(text)


STATUS_TEXT = {"agrees": "agrees", "agrees_to_order": "agrees to order", "disagrees": "disagrees",
               "convention": "convention", "not_checked": "not checked", "erratum": "erratum"}


def _comparison(derivation: Derivation) -> dict:
    report = derivation.results.get("checks")
    if report is None:
        return {"available": False}
    names = {str(s): tex for s, tex in symbols.latex_names().items()}
    labels = [eq for eq, _, _ in report.equations]
    registry_eqs = {}
    from symflav.core.printed import load as load_registry

    registry = load_registry(derivation.model)
    if registry:
        registry_eqs = {eq.label: eq for eq in registry.equations}
    equations = []
    for label, status, note in report.equations:
        mine = [r for r in report.results if r.equation == label]
        eq = registry_eqs.get(label)
        details = []
        for r in mine:
            if r.provider.startswith(("operators.", "model.")) and r.status == "agrees" \
                    and not r.note.startswith("allowed"):
                continue  # operators and table cells: summarized in the counts
            if label.startswith("Table"):
                continue  # shown in the Table 2 section
            if not r.provider and r.status == "not_checked":
                continue  # an equation that defines rather than claims: its reason is shown once
            details.append({
                "object": _object(r.object),
                "entry": printer.text(r.entry) if r.entry else "",
                "status": STATUS_TEXT[r.status] + (" (erratum)" if r.erratum else ""),
                "printed": _display(r.printed) if r.printed else "",
                "derived": _display(r.derived) if r.derived else "",
                "difference": _display(r.difference) if r.difference else "",
                "witness": _witness(r.witness, names),
                "note": printer.text(r.note),
                "variants": printer.text(", ".join(f"{k}: {v}" for k, v in r.variants)),
            })
        equations.append({
            "label": label,
            "status": STATUS_TEXT.get(status, status),
            "note": printer.text(note),
            "description": printer.text(eq.description) if eq else "",
            "source": _display(eq.latex) if eq and eq.latex else "",
            "relation": printer.text(eq.relation + (f" (order {eq.order})" if eq.order is not None else ""))
            if eq else "",
            "notes": printer.text(eq.notes) if eq else "",
            "not_checked": printer.text(eq.not_checked) if eq and eq.not_checked else "",
            "details": details,
            "counts": _counts(mine),
        })
    errata = []
    for use in report.errata:
        e = use.erratum
        hit = next((r for r in report.results if e.matches(r) and r.witness), None)
        corrected = ""
        if e.corrected is not None:
            corrected = _display(printer.latex(e.corrected))
        definitions = ", ".join(f"${printer.latex(k)} = {printer.latex(v)}$" for k, v in e.definitions)
        errata.append({"equation": e.equation, "object": _object(e.object or ""),
                       "entry": printer.text(", ".join(e.entry) if e.entry else "all entries"),
                       "explanation": printer.text(e.explanation), "state": printer.text(use.state),
                       "corrected": corrected, "definitions": definitions,
                       "witness": _witness(hit.witness, names) if hit else ""})
    summary = report.summary()
    return {"available": True, "equations": equations, "errata": errata, "summary": summary, "labels": labels,
            "ok": report.ok}


def _object(name: str) -> str:
    """An object's name: math when it is LaTeX, escaped text otherwise."""
    return f"${name}$" if any(ch in name for ch in "\\_^") else printer.text(name)


def _counts(results) -> str:
    counts: dict[str, int] = {}
    for r in results:
        counts[r.status] = counts.get(r.status, 0) + 1
    return ", ".join(f"{n} {STATUS_TEXT[s]}" for s, n in sorted(counts.items()))


def _table2(derivation: Derivation) -> list[dict]:
    report = derivation.results.get("checks")
    if report is None:
        return []
    names = {str(s): tex for s, tex in symbols.latex_names().items()}
    rows = []
    for r in report.results:
        if r.equation != "Table 2":
            continue
        quantity = names.get(r.entry or "", None)
        rows.append({"group": printer.text(r.object),
                     "quantity": f"${quantity}$" if quantity else printer.text(r.entry or ""),
                     "printed": printer.text(r.printed),
                     "derived": f"${r.derived}$" if r.derived and r.object in ("relation", "alignment")
                     else printer.text(r.derived or "--"),
                     "status": STATUS_TEXT[r.status] + (" (erratum)" if r.erratum else ""),
                     "note": printer.text(r.note)})
    return rows


_LAST_CONTEXT: list[tuple[Derivation, dict[str, Any]]] = []  # report.tex and the snippets share it


def context(derivation: Derivation) -> dict[str, Any]:
    """Everything the templates show, as strings (computed once per derivation object)."""
    if _LAST_CONTEXT and _LAST_CONTEXT[0][0] is derivation:
        return _LAST_CONTEXT[0][1]
    _LAST_CONTEXT[:] = [(derivation, _context(derivation))]
    return _LAST_CONTEXT[0][1]


def _context(derivation: Derivation) -> dict[str, Any]:
    model = derivation.model
    from symflav.report.outputs import operators_body, potential_body

    return {
        "header": header_fields(model),
        "model": {"name": printer.text(model.name), "title": printer.text(model.title),
                  "reference": printer.text(model.reference)},
        "charges": _charges(derivation),
        "conventions": _conventions(derivation),
        "relations": _relations(derivation),
        "small": (f"{model.vacuum.small_latex} = {printer.latex(model.vacuum.small_value)}"
                  if model.vacuum and model.vacuum.small_value is not None else ""),
        "operators": operators_body(derivation) if "operators" in derivation.results else "",
        "potential": potential_body(derivation) if "potential" in derivation.results else "",
        "stages": _stage_items(derivation),
        "comparison": _comparison(derivation),
        "table2": _table2(derivation),
        "figures": _figures(derivation),
        "viability": _viability(derivation),
    }


def _figures(derivation: Derivation) -> dict[str, Any]:
    """Figures 3 and 4 (files written next to the report) and the claims table."""
    data = derivation.results.get("figures")
    if data is None:
        return {"available": False}
    rows = [{"where": printer.text(c.where), "statement": printer.text(c.statement), "printed": printer.text(c.printed),
             "from_printed": printer.text(c.from_printed), "derived": printer.text(c.derived),
             "note": printer.text(c.note)} for c in data.claims]
    sign = data.sign_rule
    return {"available": True, "claims": rows, "points": data.points,
            "x_range": f"[{data.to_json()['x_phi_range'][0]}, {data.to_json()['x_phi_range'][1]}]",
            "derived_sign": "+" if sign.get("derived", 1) > 0 else "-",
            "printed_sign": "+" if sign.get("printed", 1) > 0 else "-"}


def _viability(derivation: Derivation) -> dict[str, Any]:
    """The viability scan's sample: fraction, criteria, ranges, numeric confirmation (strings)."""
    data = derivation.results.get("viability")
    if data is None:
        return {"available": False}
    s = data.summary
    v, check = s["viable"], s["numeric_confirmation"]
    names = {str(k): tex for k, tex in symbols.latex_names().items()}

    def tex(name):
        return f"${names[name]}$" if name in names else printer.text(name)

    ranges = [{"name": tex(n), "range": f"[{r['low']:g}, {r['high']:g}]", "scale": r["scale"]}
              for n, r in s["ranges"].items()]
    ranges += [{"name": tex(g), "range": f"[{f['allowed'][0]:g}, {f['allowed'][1]:g}]",
                "scale": printer.text(f"fixed by {f['from']}")} for g, f in s["fitted"].items()]
    viable = s.get("viable_ranges", {})
    masses = [{"name": tex(n) if n == "M_chi" else printer.text(n), "range": f"[{lo:.4g}, {hi:.4g}]"}
              for n, (lo, hi) in viable.items() if n == "M_chi" or n.startswith(("m_S", "m_P"))]
    return {"available": True, "points": data.points, "seed": data.seed, "count": v["count"],
            "fraction": f"{v['fraction']:.3g}" if v["fraction"] is not None else "--",
            "error": f"{v['error']:.2g}" if v["error"] is not None else "--",
            "n_sigma": f"{s['n_sigma']:g}",
            "funnel": [{"after": printer.text(f["after"].replace("_", " ")), "count": f["count"]} for f in s["funnel"]],
            "ranges": ranges, "masses": masses,
            "agree": check["agreement"]["count"], "sample": check["sample"],
            "candidates": check["candidates"], "confirmed": check["candidates_confirmed"],
            "lfv": printer.text(s["mu_e_gamma"])}


def report_tex(derivation: Derivation) -> str:
    return render("report.tex.j2", **context(derivation))


SNIPPETS = {
    "charges": "snippet_charges.tex.j2",
    "comparison": "snippet_comparison.tex.j2",
    "errata": "snippet_errata.tex.j2",
    "table2": "snippet_table2.tex.j2",
    "stages": "snippet_stage.tex.j2",
}


def snippets(derivation: Derivation) -> dict[str, str]:
    """``snippets/<object>.tex`` for pasting into a paper (objects whose stage ran)."""
    ctx = context(derivation)
    head = "".join(f"% {k}: {v}\n" for k, v in ctx["header"].items())
    files = {"snippets/charges.tex": head + render(SNIPPETS["charges"], **ctx)}
    if ctx["comparison"]["available"]:
        files["snippets/comparison.tex"] = head + render(SNIPPETS["comparison"], **ctx)
        files["snippets/errata.tex"] = head + render(SNIPPETS["errata"], **ctx)
        files["snippets/table2.tex"] = head + render(SNIPPETS["table2"], **ctx)
    for name, items in ctx["stages"].items():
        if items is not None:
            files[f"snippets/{name}.tex"] = head + render(SNIPPETS["stages"], items=items)
    return files
