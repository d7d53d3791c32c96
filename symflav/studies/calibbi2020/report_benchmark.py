"""The report's sections on the printed benchmark (Table 2) under the inferred conventions and on
the invariant that the printed potential omits, switched on at the benchmark.

Both read the check's report (``checks`` stage: ``CheckReport.benchmarks``, ``.omitted``) and
render LaTeX through the templates ``benchmark_inferred.tex.j2`` and ``omitted_invariant.tex.j2``:
every name in the model's LaTeX, every number in math mode with a true minus sign.
"""

from __future__ import annotations

import math
from pathlib import Path

import sympy as sp

from symflav.core import printer
from symflav.core.stages import Derivation, available
from symflav.report import render
from symflav.report.bodies import lepton_latex

TEMPLATES = Path(__file__).resolve().parent / "templates"
GROUPS = {"vacuum": "vacuum", "spectrum": "exact mass", "mass insertion": "mass insertion",
          "mass basis": "mass basis"}


def number(value, digits: int = 4) -> str:
    """A number in LaTeX math: ``digits`` significant digits, powers of ten as ``\\times10^{n}``
    outside [1e-3, 10^digits), a true minus sign; empty for None."""
    if value is None:
        return ""
    x = float(value)
    if x == 0:
        return "$0$"
    if not math.isfinite(x):
        return "$\\infty$" if x > 0 else "$-\\infty$"
    exponent = math.floor(math.log10(abs(x)))
    if -3 <= exponent < digits:
        return f"${x:.{digits}g}$"
    mantissa = f"{x / 10 ** exponent:.{digits}g}"
    if mantissa in ("10", "-10"):
        mantissa, exponent = mantissa[:-1], exponent + 1
    mantissa = "" if mantissa == "1" else ("-" if mantissa == "-1" else mantissa + "\\times")
    return f"${mantissa}10^{{{exponent}}}$"


def printed_number(text: str) -> str:
    """A printed number as printed (its digits kept), in LaTeX math."""
    mantissa, _, exponent = str(text).lower().partition("e")
    return f"${mantissa}\\times10^{{{int(exponent)}}}$" if exponent else f"${mantissa}$"


def _symbols(model) -> dict[str, str]:
    """Parameter and vev names -> their LaTeX."""
    out = {name: printer.latex(sym) for name, sym in model.symbols().items()}
    if model.vacuum is not None:
        out.update({str(v): printer.latex(v) for _, v in model.vacuum.vevs})
    return out


def quantity_latex(name: str, names: dict[str, str]) -> str:
    """``v_1`` -> its LaTeX name; ``m_S1`` -> m_{S_1}; ``delta_a_mu`` -> Delta a_mu; ``c_e`` -> c_e."""
    if name in names:
        return f"${names[name]}$"
    if name.startswith("m_") and name[2:3].isalpha() and name[3:].isdigit():
        return f"$m_{{{name[2]}_{{{name[3:]}}}}}$"
    if name.startswith("delta_a_"):
        return f"$\\Delta a_{{{lepton_latex(name[len('delta_a_'):])}}}$"
    if name.startswith("c_"):
        return f"$c_{{{lepton_latex(name[2:])}}}$"
    return f"\\texttt{{{printer.text(name)}}}"


def conventions_latex(model, inferred: dict | None) -> str:
    """The inferred conventions: each rescaled coupling's LaTeX name and factor."""
    if not inferred or not inferred.get("factors"):
        return "the derivation's own"
    names = _symbols(model)
    parts = [f"${names.get(k, printer.text(k))} \\to {sp.latex(sp.sympify(v))}\\,{names.get(k, printer.text(k))}$"
             for k, v in inferred["factors"].items()]
    for key, label in (("field_normalization", "field normalization"), ("mass_matrix_factor", "mass-matrix factor")):
        if key in inferred:
            parts.append(f"{label} $\\times {sp.latex(sp.sympify(inferred[key]))}$")
    return ", ".join(parts)


def _cell(value, ok: bool) -> str:
    if value is None:
        return "none"
    return number(value) + ("$^\\ast$" if ok else "")


def benchmark_section(derivation: Derivation) -> str | None:
    """Every printed point table: printed, derived under the printed potential and under the
    inferred conventions, and the root cause of what remains."""
    report = available(derivation.results, "checks")
    tables = [t for t in getattr(report, "benchmarks", ()) if "rows" in t]
    if not tables:
        return None
    model = derivation.model
    names = _symbols(model)
    rendered = []
    for t in tables:
        rows = [{"quantity": quantity_latex(r["quantity"], names), "route": GROUPS.get(r["group"], r["group"]),
                 "printed": printed_number(r["printed"]), "derived": _cell(r["derived"], r["derived_agrees"]),
                 "inferred": _cell(r["inferred"], r["inferred_agrees"]),
                 "cause": ("agrees within rounding" if not r["root_cause"] else
                           ", ".join(f"\\texttt{{{printer.text(c.strip())}}}" for c in r["root_cause"].split(",")))}
                for r in t["rows"]]
        need = [{"mu": f"${names.get(mu, printer.text(mu))}^2$", "needed": number(n["needed"]),
                 "printed": number(n["printed"])} for mu, n in t.get("tadpoles_at_printed_vevs", {}).items()]
        rescaled = ", ".join(f"${names.get(k, printer.text(k))} = {number(v)[1:-1]}$"
                             for k, v in t["inputs_rescaled"].items())
        rendered.append({"label": printer.text(t["table"]), "point": printer.text(t["point"]), "rows": rows,
                         "need": need, "rescaled": rescaled,
                         "agree_printed": sum(r["derived_agrees"] for r in t["rows"]),
                         "agree_inferred": sum(r["inferred_agrees"] for r in t["rows"]), "total": len(t["rows"]),
                         "causes": [printer.text(c) for c in t.get("causes", {})]})
    return render.render("benchmark_inferred.tex.j2", TEMPLATES, tables=rendered,
                         conventions=conventions_latex(model, report.inferred)).lstrip("\n")


def omitted_section(derivation: Derivation) -> str | None:
    """Every omitted invariant switched on at the printed benchmark: the vacuum and the masses."""
    report = available(derivation.results, "checks")
    terms = list(getattr(report, "omitted", ()))
    if not terms:
        return None
    model = derivation.model
    names = _symbols(model)
    rendered = []
    for term in terms:
        rows = []
        for r in term["rows"]:
            note = "benchmark" if r["coupling"] == 0 else ""
            if r.get("branch_end") is not None:
                note = (f"the benchmark's branch ends beyond $c = {number(r['branch_end'])[1:-1]}$: "
                        "the minimum a descent from the benchmark reaches")
            elif not r["minimum"]:
                note = "stationary point, not a minimum"
            rows.append({"c": number(r["coupling"]), "vevs": [number(v) for v in r["vevs"]],
                         "masses": [number(m) for m in r["masses"]], "dV": number(r["V_minus_V_benchmark"]),
                         "note": note})
        rendered.append({"operator": term["operator_latex"], "coupling": term["coupling_latex"], "point": printer.text(term["point"]),
                         "vevs": [f"${names.get(v, printer.text(v))}$" for v in term["vevs"]],
                         "labels": [f"$m_{{{l[0]}_{{{l[1:]}}}}}$" for l in term["labels"]],
                         "first_order": [f"$d{names.get(v, printer.text(v))}/d{term['coupling_latex']} = "
                                         f"{number(term['first_order_dv_dc'][v])[1:-1]}$~GeV" for v in term["vevs"]],
                         "hermitian": term["normalization"].startswith("c O"),
                         "factor": "" if term["normalization"].startswith(("1 ", "c O")) else
                         sp.latex(sp.Rational(term["normalization"].split(" ")[0])),
                         "rows": rows, "columns": len(term["labels"]) + 1})
    return render.render("omitted_invariant.tex.j2", TEMPLATES, terms=rendered).lstrip("\n")
