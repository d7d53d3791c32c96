"""The LaTeX report and the per-object snippets, from jinja2 templates.

Templates live in ``templates/*.j2`` and use LaTeX-safe delimiters: ``\\VAR{x}`` for a
value, ``\\BLOCK{for ...}`` for control, ``%#`` for a template comment; undefined
names are errors (``StrictUndefined``). Everything a template shows is prepared
here as plain strings (LaTeX already printed), so templates hold layout only.
Sections whose stage did not run say so instead of showing anything.

A study adds sections (:class:`symflav.report.sections.Section`); when the derivation differs
from its printed reference (charges changed on the command line) the report opens with a
banner saying so, and the study's paper-only sections are left out with one line each.

The report is deterministic (no dates); :func:`symflav.report.pdf.compile_pdf`
turns it into a PDF when ``pdflatex`` exists.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Any, Sequence

import sympy as sp

from symflav.core.files import header_fields
from symflav.core.parsing import ParseError, parse_expression
from symflav.core.printed import load as load_registry
from symflav.core.stages import Derivation, Unavailable
from symflav.core import printer
from symflav.report import bodies, prose
from symflav.report.sections import Section
from symflav.verify.checks import point_tables

TEMPLATES = Path(__file__).resolve().parent / "templates"


def environment(folder: Path | None = None):
    """The jinja2 environment of the report's templates (``folder``: another folder of templates,
    e.g. a study's, searched first)."""
    import jinja2  # optional dependency: only the report needs it

    folders = ([str(folder)] if folder else []) + [str(TEMPLATES)]
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(folders),
        block_start_string=r"\BLOCK{", block_end_string="}",
        variable_start_string=r"\VAR{", variable_end_string="}",
        comment_start_string=r"\#{", comment_end_string="}",
        line_statement_prefix="%%", line_comment_prefix="%#",
        trim_blocks=True, lstrip_blocks=True, autoescape=False, keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["tex"] = printer.text
    env.filters["prose"] = functools.partial(prose.latex, names=prose.symbol_names())
    env.filters["uncommented"] = uncommented
    return env


def render(template: str, folder: Path | None = None, **context) -> str:
    return environment(folder).get_template(template).render(**context)


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
    names = _prose_names(derivation.model)
    return [prose.latex(v, names) for v in derivation.model.conventions.describe().values()]


def _relations(derivation: Derivation) -> list[str]:
    model = derivation.model
    items = [f"{printer.latex(lhs)} = {printer.latex(rhs)}" for lhs, rhs in model.relations]
    if model.vacuum:
        items += [f"{printer.latex(lhs)} = {printer.latex(rhs)}" for lhs, rhs in model.vacuum.alignment]
    return items


STAGE_BODIES = {"tadpoles": (("tadpoles", "real_potential"), bodies.tadpoles_body),
                "mass_matrices": (("mass_matrices",), bodies.mass_matrices_body),
                "spectrum": (("spectrum",), bodies.spectrum_body), "loops": (("loops",), bodies.loops_body),
                "flavor": (("flavor",), bodies.flavor_body), "observables": (("observables",), bodies.observables_body)}


def _stage_items(derivation: Derivation) -> dict[str, str | None]:
    """The LaTeX body of each stage's snippet (labelled displays, ``%`` comments); ``None`` when
    the stage is absent."""
    r = derivation.results
    items: dict[str, str | None] = {}
    for name, (needed, build) in STAGE_BODIES.items():
        if any(n not in r or isinstance(r[n], Unavailable) for n in needed):
            items[name] = None
            continue
        try:
            items[name] = build(derivation)
        except (AttributeError, KeyError, TypeError, IndexError) as exc:
            items[name] = printer.text(f"(stage {name} present; its interface is not the expected one: {exc})")
    return items


def uncommented(tex: str) -> str:
    """``tex`` without its comment lines (lines starting with ``%``)."""
    return "".join(line for line in tex.splitlines(keepends=True) if not line.lstrip().startswith("%"))


PACKAGES = ("amsmath", "amssymb", "array", "longtable", "graphicx")
"""The standard packages of ``snippets/symflav.sty`` (and of the report's preamble)."""

COMMANDS = r"\providecommand{\sfprinted}[1]{\par\noindent{\footnotesize (the reference's eq.~(#1))}\par\nobreak}"
"""The commands of ``snippets/symflav.sty`` (and of the report's preamble)."""

_NEEDS = {"amsmath": r"\begin{(equation|split|align|gather|multline)|\\text\{|\\operatorname|\\[Bb]igg?[lr]",
          "amssymb": r"\\(mathbb|lesssim|gtrsim|varnothing|checkmark)",
          "array": r"[<>]\{|\b[pmb]\{[0-9.]+(cm|em|pt|\\)", "longtable": r"\{longtable\}",
          "graphicx": r"\\(resizebox|includegraphics|scalebox)", "symflav": r"\\sfprinted"}


def needs(tex: str) -> str:
    """The first comment line of a snippet: the packages its LaTeX uses, all provided by
    ``\\usepackage{symflav}`` (``snippets/symflav.sty``)."""
    used = [p for p, pattern in _NEEDS.items() if re.search(pattern, tex)]
    return (f"% needs: \\usepackage{{symflav}} (snippets/symflav.sty), or {', '.join(used) or 'nothing'}"
            + (" (\\sfprinted: copy it from symflav.sty)" if "symflav" in used else "") + "\n")


def sty(prefix: str = printer.LABEL_PREFIX) -> str:
    """``snippets/symflav.sty``: the packages and commands of the snippets."""
    return render("symflav.sty.j2", packages=PACKAGES, commands=COMMANDS, prefix=prefix)


WIDE = printer.COLUMN * 4 // 3
"""Characters of a display row in the comparison, which is set on a one-column page (it holds
longtables) whose lines are at least 4/3 of a column of a two-column page."""


def _display(latex: str, width: int = printer.COLUMN) -> str:
    """A formula (printed LaTeX) for display: one line, or rows of about ``width`` characters in
    ``aligned`` (:func:`symflav.core.printer.display_rows`: cut at relations, signs and inside wide
    fractions; a wide matrix entry by entry), so that it fits a column of a two-column page."""
    body = latex.strip().rstrip(",.").strip()
    rows = printer.display_rows(body, width)
    if len(rows) == 1:
        return "\\[ " + rows[0] + " \\]"
    lines = [rows[0]] + [row if printer.starts_statement(row) else "\\quad " + row for row in rows[1:]]
    return "\\[ \\begin{aligned} &" + " \\\\ &".join(lines) + " \\end{aligned} \\]"


def _witness(w: dict | None, names: dict[str, str]) -> str:
    if not w:
        return ""
    parts = []
    for name, value in w["point"].items():
        parts.append(f"${names.get(name) or prose.math(name, names)} = {_value(value, names)}$")
    numbers = {k: prose.math(_rounded(w[k]), names) for k in ("printed", "derived", "difference")}
    return (", ".join(parts) + "; " if parts else "") + \
        f"printed ${numbers['printed']}$, derived ${numbers['derived']}$, difference ${numbers['difference']}$"


def _rounded(text: str) -> str:
    """A witness value with six significant digits (the text itself when it is not a real number)."""
    try:
        return format(float(text), ".6g")
    except (TypeError, ValueError):
        return str(text)


def _value(text: str, names: dict[str, str]) -> str:
    try:
        return printer.latex(parse_expression(text, {"I": sp.I}))
    except ParseError:
        return prose.math(text, names)


STATUS_TEXT = {"agrees": "agrees", "agrees_to_order": "agrees to order", "disagrees": "disagrees",
               "convention": "convention", "incomplete": "incomplete", "not_checked": "not checked",
               "erratum": "erratum"}


def _comparison(derivation: Derivation) -> dict:
    report = derivation.results.get("checks")
    if report is None or isinstance(report, Unavailable):
        reason = report.reason if report is not None else "the comparison stage did not run"
        return {"available": False, "reason": printer.text(reason)}
    names = _prose_names(derivation.model)
    text = functools.partial(prose.latex, names=names)
    labels = [eq for eq, _, _ in report.equations]
    registry_eqs = {}
    registry = load_registry(derivation.model)
    shown_apart = set()
    if registry:
        registry_eqs = {eq.label: eq for eq in registry.equations}
        shown_apart = {f"Table {label}" for label in point_tables(registry)}
    equations = []
    for label, status, note in report.equations:
        mine = [r for r in report.results if r.equation == label]
        eq = registry_eqs.get(label)
        shown = [] if label in shown_apart else [r for r in mine if _shown_in_detail(r)]
        shared = _shared_parts([r.note for r in shown if r.note])
        equations.append({
            "label": label,
            "status": STATUS_TEXT.get(status, status),
            "note": text(note),
            "description": text(eq.description) if eq else "",
            "source": _display(eq.latex, WIDE) if eq and eq.latex else "",
            "relation": text(eq.relation + (f" (order {eq.order})" if eq.order is not None else ""))
            if eq else "",
            "notes": text(eq.notes) if eq else "",
            "not_checked": text(eq.not_checked) if eq and eq.not_checked else "",
            "every_entry": text("; ".join(shared)),
            "details": [_detail(r, text, names, shared) for r in shown],
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
                       "entry": text(", ".join(e.entry)) if e.entry else "all entries",
                       "explanation": text(e.explanation), "state": printer.text(use.state),
                       "corrected": corrected, "definitions": definitions,
                       "witness": _witness(hit.witness, names) if hit else ""})
    summary = report.summary()
    return {"available": True, "equations": equations, "errata": errata, "summary": summary, "labels": labels,
            "ok": report.ok}


def _shown_in_detail(r) -> bool:
    """Whether a result gets its own paragraph: operators and table cells that agree are
    summarized in the counts, and an equation that defines rather than claims shows its reason once."""
    if r.provider.startswith(("operators.", "model.")) and r.status == "agrees" and not r.note.startswith("allowed"):
        return False
    return bool(r.provider) or r.status != "not_checked"


def _shared_parts(notes: list[str]) -> list[str]:
    """The parts ("; "-separated) that every one of two or more notes carries, in the order of the
    first: said once for the equation instead of in each entry's note."""
    if len(notes) < 2:
        return []
    rest = [set(n.split("; ")) for n in notes[1:]]
    return [part for part in notes[0].split("; ") if part and all(part in r for r in rest)]


def _detail(r, text, names, shared: list[str]) -> dict:
    """One result's paragraph: status, printed, derived, their difference, witness and note
    (without the parts ``shared`` by every entry of its equation)."""
    return {
        "object": _object(r.object),
        "entry": text(re.sub(r",(?=\S)", ", ", r.entry)) if r.entry else "",
        "status": STATUS_TEXT[r.status] + (" (erratum)" if r.erratum else ""),
        "printed": _display(r.printed, WIDE) if r.printed else "",
        "derived": _display(r.derived, WIDE) if r.derived else "",
        "difference": _display(r.difference, WIDE) if r.difference else "",
        "witness": _witness(r.witness, names),
        "note": text("; ".join(p for p in r.note.split("; ") if p not in shared)),
        "variants": text(", ".join(f"{k}: {STATUS_TEXT.get(v, v)}" for k, v in r.variants)),
    }


def _prose_names(model) -> dict[str, str]:
    """The notation of prose: declared symbols and functions, and the fields by their names."""
    return prose.symbol_names({name: item.latex for name, item in model.all_charged().items()})


def _object(name: str) -> str:
    """An object's name: math when it is LaTeX, escaped text otherwise."""
    return f"${name}$" if any(ch in name for ch in "\\_^") else printer.text(name)


def _counts(results) -> str:
    counts: dict[str, int] = {}
    for r in results:
        counts[r.status] = counts.get(r.status, 0) + 1
    return ", ".join(f"{n} {STATUS_TEXT[s]}" for s, n in sorted(counts.items()))


def _point_table_rows(derivation: Derivation, label: str) -> list[dict]:
    report = derivation.results.get("checks")
    names = _prose_names(derivation.model)
    text = functools.partial(prose.latex, names=names)
    rows = []
    for r in report.results:
        if r.equation != f"Table {label}":
            continue
        quantity = names.get(r.entry or "", None)
        rows.append({"group": printer.text(r.object),
                     "quantity": f"${quantity}$" if quantity else text(r.entry or ""),
                     "printed": text(r.printed),
                     "derived": f"${r.derived}$" if r.derived and r.object in ("relation", "alignment")
                     else text(r.derived or "--"),
                     "status": STATUS_TEXT[r.status] + (" (erratum)" if r.erratum else ""),
                     "note": text(r.note)})
    return rows


def _point_tables(derivation: Derivation) -> list[dict]:
    """The printed point tables of the registry, row by row (when the comparison ran)."""
    report = derivation.results.get("checks")
    registry = load_registry(derivation.model)
    if report is None or isinstance(report, Unavailable) or registry is None:
        return []
    return [{"label": label, "rows": _point_table_rows(derivation, label)} for label in point_tables(registry)]


def context(derivation: Derivation, sections: Sequence[Section] = ()) -> dict[str, Any]:
    """Everything the templates show, as strings. Compute it once per derivation and pass it to
    :func:`report_tex` and :func:`snippets` (they compute it themselves when not given one)."""
    return _context(derivation, sections)


def _context(derivation: Derivation, sections: Sequence[Section]) -> dict[str, Any]:
    model = derivation.model
    r = derivation.results
    viability = r.get("viability")
    names = _prose_names(model)
    return {
        "header": header_fields(model),
        "packages": PACKAGES,
        "commands": COMMANDS,
        "model": {"name": printer.text(model.name), "title": prose.latex(model.title, names),
                  "reference": printer.text(model.reference)},
        "banner": _banner(model),
        "charges": _charges(derivation),
        "conventions": _conventions(derivation),
        "relations": _relations(derivation),
        "small": (f"{model.vacuum.small_latex} = {printer.latex(model.vacuum.small_value)}"
                  if model.vacuum and model.vacuum.small_value is not None else ""),
        "operators": bodies.operators_body(derivation) if "operators" in r else "",
        "potential": bodies.potential_body(derivation) if "potential" in r else "",
        "stages": _stage_items(derivation),
        "stage_status": {name: prose.latex(getattr(r.get(name), "reason", "the stage did not run"), names)
                         for name in ("tadpoles", "mass_matrices", "spectrum", "loops", "flavor", "observables")},
        "comparison": _comparison(derivation),
        "point_tables": _point_tables(derivation),
        "study": _study_sections(derivation, sections),
        "viability": _viability(derivation),
        "viability_status": prose.latex(getattr(viability, "reason", "the stage did not run"), names),
    }


def _banner(model) -> dict | None:
    changed = model.changed_charges()
    if not changed:
        return None
    latex = {s.name: s.latex for s in model.symmetries}
    fields = model.all_charged()
    dropped = "".join(f" {printer.text(note)}." for note in model.notes)
    return {"charges": [f"${fields[f].latex}$ under ${latex[s]}$: {printer.text(str(a))} $\\to$ {printer.text(str(b))}"
                        for f, s, a, b in changed],
            "note": "The comparisons with the printed reference below therefore describe a different model than "
                    "the printed one, and the sections that belong to the printed model only are left out." + dropped}


def _study_sections(derivation: Derivation, sections: Sequence[Section]) -> dict[str, list[str]]:
    """The study's sections by place, rendered; a paper-only one is one line when the derivation
    differs from its printed reference, and nothing when its data is absent."""
    differs = bool(derivation.model.changed_charges())
    out: dict[str, list[str]] = {"after_stages": [], "after_comparison": []}
    for section in sections:
        if section.paper_only and differs:
            out[section.place].append(f"\\section{{{printer.text(section.title)}}}\n"
                                      "Left out: the derivation differs from its printed reference.\n\n")
            continue
        body = section.render(derivation)
        if body:
            out[section.place].append(body)
    return out


def _viability(derivation: Derivation) -> list[dict[str, Any]]:
    """Every viability scan's sample: fraction, criteria, ranges, numeric confirmation (strings)."""
    data = derivation.results.get("viability")
    if data is None or isinstance(data, Unavailable):
        return []
    return [_viability_sample(derivation, sample) for sample in data.scans]


def _viability_sample(derivation: Derivation, sample) -> dict[str, Any]:
    s = sample.summary
    v, check = s["viable"], s["numeric_confirmation"]
    names = _prose_names(derivation.model)
    text = functools.partial(prose.latex, names=names)

    def tex(name):
        return f"${names[name]}$" if name in names else text(name)

    ranges = [{"name": tex(n), "range": text(f"[{r['low']:g}, {r['high']:g}]"), "scale": r["scale"]}
              for n, r in s["ranges"].items()]
    ranges += [{"name": tex(g), "range": text(f"[{f['allowed'][0]:g}, {f['allowed'][1]:g}]"),
                "scale": text(f"fixed by {f['from']}")} for g, f in s["fitted"].items()]
    viable = s.get("viable_ranges", {})
    masses = [{"name": tex(n), "range": text(f"[{lo:.4g}, {hi:.4g}]")}
              for n, (lo, hi) in viable.items() if n == sample.mediator or n.startswith(("m_S", "m_P"))]
    tadpoles = derivation.results.get("tadpoles")
    eliminated = ", ".join(f"${printer.latex(mu**2)}$" for mu, _ in getattr(tadpoles, "eliminated", ())) or "nothing"
    measured = [lepton for lepton, text in s.get("anomalies", {}).items() if text.startswith("within")]
    lfv = "; ".join(f"{pair}: {text}" for pair, text in s.get("radiative_decays", {}).items()) or "no pair of leptons"
    return {"name": printer.text(sample.scan), "points": sample.points, "seed": sample.seed, "count": v["count"],
            "fraction": f"${prose.number(format(v['fraction'], '.3g'))}$" if v["fraction"] is not None else "--",
            "error": f"${prose.number(format(v['error'], '.2g'))}$" if v["error"] is not None else "--",
            "n_sigma": f"{s['n_sigma']:g}",
            "eliminated": eliminated,
            "fitted": ", ".join(tex(g) for g in s["fitted"]),
            "anomalies": ", ".join(f"$\\Delta a_{{{bodies.lepton_latex(l)}}}$" for l in measured),
            "funnel": [{"after": text(f["after"].replace("_", " ")), "count": f["count"]} for f in s["funnel"]],
            "ranges": ranges, "masses": masses,
            "agree": check["agreement"]["count"], "sample": check["sample"],
            "candidates": check["candidates"], "confirmed": check["candidates_confirmed"],
            "lfv": text(lfv)}


def report_tex(derivation: Derivation, sections: Sequence[Section] = (), ctx: dict | None = None) -> str:
    """``report.tex``; ``ctx``: :func:`context` of the same derivation and sections, when known."""
    return render("report.tex.j2", **(ctx if ctx is not None else context(derivation, sections)))


SNIPPETS = {
    "charges": "snippet_charges.tex.j2",
    "comparison": "snippet_comparison.tex.j2",
    "errata": "snippet_errata.tex.j2",
    "point_table": "snippet_point_table.tex.j2",
    "stages": "snippet_stage.tex.j2",
}


def snippets(derivation: Derivation, sections: Sequence[Section] = (), ctx: dict | None = None) -> dict[str, str]:
    """``snippets/<object>.tex`` for pasting into a paper (objects whose stage ran; a printed
    point table as ``snippets/table<label>.tex``; a study section that names a snippet).
    ``ctx``: :func:`context` of the same derivation and sections, when known."""
    ctx = ctx if ctx is not None else context(derivation, sections)
    head = "".join(f"% {k}: {v}\n" for k, v in ctx["header"].items())
    bodies_ = {"charges": render(SNIPPETS["charges"], **ctx)}
    if ctx["comparison"]["available"]:
        bodies_["comparison"] = render(SNIPPETS["comparison"], **ctx)
        bodies_["errata"] = render(SNIPPETS["errata"], **ctx)
    for table in ctx["point_tables"]:
        bodies_[f"table{table['label']}"] = render(SNIPPETS["point_table"], rows=table["rows"])
    for name, body in ctx["stages"].items():
        if body is not None:
            bodies_[name] = render(SNIPPETS["stages"], body=body)
    differs = bool(derivation.model.changed_charges())
    for section in sections:
        if section.snippet and not (section.paper_only and differs):
            body = section.render(derivation)
            if body:
                bodies_[section.snippet] = body
    files = {f"snippets/{name}.tex": needs(body) + head + body for name, body in bodies_.items()}
    files["snippets/symflav.sty"] = sty()
    return files
