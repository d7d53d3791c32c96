"""What `symflav derive` writes: JSON and LaTeX per stage, as strings.

:func:`render` is pure (a derivation in, ``{relative path: text}`` out); writing is
:func:`symflav.core.files.write_tree`. Output is deterministic: same input, same bytes.
"""

from __future__ import annotations

import importlib
import json
from typing import Callable, Mapping

from symflav.core.files import header_fields
from symflav.core.stages import Derivation
from symflav.report import printer

_DRAWERS = {"figures": "symflav.studies.calibbi2020.figures", "viability": "symflav.numerics.viability"}


def dump_json(obj) -> str:
    return json.dumps(obj, indent=1, ensure_ascii=False) + "\n"


def tex_header(derivation: Derivation) -> str:
    head = header_fields(derivation.model)
    return "".join(f"% {k}: {v}\n" for k, v in head.items())


def operators_tex(derivation: Derivation) -> str:
    return tex_header(derivation) + operators_body(derivation)


def operators_body(derivation: Derivation) -> str:
    table = derivation["operators"]
    model = derivation.model
    latex_names = [s.latex for s in model.scalars]
    rows = []
    for op in table.operators:
        coupling = printer.latex(op.coefficient) if op.in_potential else "--"
        status = op.status.replace("_", " ")
        herm = "yes" if op.monomial.is_hermitian else "no (+h.c.)"
        rows.append(f"${printer.operator(op.monomial, latex_names)}$ & {op.monomial.degree} & {herm} & ${coupling}$ & {status} \\\\")
    return (
        "\\begin{tabular}{lcccl}\n\\hline\noperator & degree & hermitian & coefficient & status \\\\\n\\hline\n"
        + "\n".join(rows)
        + "\n\\hline\n\\end{tabular}\n"
    )


def potential_tex(derivation: Derivation) -> str:
    return tex_header(derivation) + potential_body(derivation)


def potential_body(derivation: Derivation) -> str:
    """V as the paper writes it: hermitian terms, then (non-hermitian + h.c.)."""
    pot = derivation["potential"]
    model = derivation.model
    conv = pot.conventions
    latex_names = [s.latex for s in model.scalars]
    hermitian, other = [], []
    for op, _ in pot.contributions:
        sign = conv.quadratic_sign if op.monomial.degree == 2 else 1
        body = printer.operator(op.monomial, latex_names)
        target = hermitian if op.monomial.is_hermitian else other
        target.append(printer.signed_term(sign * op.coefficient, body, first=not target))
    lines = [" ".join(hermitian[i:i + 4]) for i in range(0, len(hermitian), 4)]
    if other:
        factor = "" if conv.nonhermitian_factor == 1 else printer.latex(conv.nonhermitian_factor) + " "
        lines.append(f"+ {factor}\\left( " + " ".join(other) + r" + \text{h.c.} \right)")
    body = " \\\\\n  & ".join(lines)
    return "\\begin{aligned}\n V = {} & " + body + "\n\\end{aligned}\n"


RENDERERS: dict[str, Callable[[Derivation], str]] = {
    "operators.json": lambda d: dump_json({"_": header_fields(d.model), **d["operators"].to_json()}),
    "potential.json": lambda d: dump_json(
        {"_": header_fields(d.model), **d["potential"].to_json(), "real": d["real_potential"].to_json()}
    ),
    "snippets/operators.tex": operators_tex,
    "snippets/potential.tex": potential_tex,
    "checks.json": lambda d: dump_json({"_": header_fields(d.model), **d["checks"].to_json()}),
    "report.tex": lambda d: _report().report_tex(d),
    "numeric.py": lambda d: d["codegen"].source,
}


def _report():
    from symflav.report import render as report_render  # jinja2 is only needed for the report

    return report_render


def _snippets(derivation: Derivation) -> dict[str, str]:
    return _report().snippets(derivation)


Drawn = Mapping[str, Callable[[], tuple[dict[str, bytes], float]]]


def _drawn_files(stage: str, data, drawn: Drawn | None) -> dict[str, bytes]:
    """The figure files of a stage's result: from ``drawn[stage]`` when they were started early
    (:func:`symflav.core.background.start` of the module's ``figure_files``), else drawn here."""
    if drawn and stage in drawn:
        return drawn[stage]()[0]
    module = importlib.import_module(_DRAWERS[stage])  # matplotlib only when figures are drawn
    return module.figure_files(data)


def _figures(derivation: Derivation, drawn: Drawn | None = None) -> dict[str, str | bytes]:
    """figures/figure3.*, figures/figure4.* and claims.json."""
    data = derivation.results.get("figures")
    if data is None:
        return {}
    files: dict[str, str | bytes] = dict(_drawn_files("figures", data, drawn))
    files["claims.json"] = dump_json({"_": header_fields(derivation.model), **data.to_json()})
    return files


def _viability(derivation: Derivation, drawn: Drawn | None = None) -> dict[str, str | bytes]:
    """figures/viability.* and viability.json."""
    data = derivation.results.get("viability")
    if data is None:
        return {}
    files: dict[str, str | bytes] = dict(_drawn_files("viability", data, drawn))
    files["viability.json"] = dump_json({"_": header_fields(derivation.model), **data.to_json()})
    return files


MULTI_RENDERERS: list[Callable[..., dict[str, str | bytes]]] = [_snippets, _figures, _viability]


def render(derivation: Derivation, drawn: Drawn | None = None, *, report: bool = True) -> dict[str, str]:
    """Every output file of the stages that ran (``drawn``: figure files started early, by
    stage name; see :func:`_drawn_files`); ``report=False`` leaves out report.tex."""
    files = {}
    for path, renderer in RENDERERS.items():
        if path == "report.tex" and not report:
            continue
        try:
            files[path] = renderer(derivation)
        except KeyError:
            continue  # stage not run
    for renderer in MULTI_RENDERERS:
        produced = renderer(derivation) if renderer is _snippets else renderer(derivation, drawn)
        for path, text in produced.items():
            files.setdefault(path, text)
    return files


# ------------------------------------------------------------------ loops, flavor, observables


def _tex_eq(lhs: str, rhs, label: str | None = None) -> str:
    tag = f" \\tag{{{label}}}" if label else ""
    body = rhs if isinstance(rhs, str) else printer.latex(rhs)
    return f"\\begin{{equation}}\n {lhs} = {body}{tag}\n\\end{{equation}}\n"


def loops_tex(derivation: Derivation) -> str:
    res = derivation["loops"]
    x, z = printer.latex(res.x), printer.latex(res.z)
    out = [tex_header(derivation), "% loop functions of x = m/M, derived from Feynman-parameter integrals\n"]
    for base, prefactor in res.prefactors:
        out.append(f"% amplitude: {base} enters with prefactor ${printer.latex(prefactor)}$\n")
    for f in res.functions:
        label = f"{f.equation}, derived" if f.equation else None
        out.append(_tex_eq(f"{f.latex}({x})", f"\\int_0^1 d{z}\\, " + printer.latex(f.integrand)
                           + " = " + printer.latex(f.closed_form), label))
        out.append(f"% {f.key}: x -> 0: {printer.latex(f.asymptotic_zero)}; x -> 1: {printer.latex(f.at_one)}; "
                   f"sign: {f.sign}\n")
    return "".join(out)


def lepton_latex(lepton: str) -> str:
    """``mu`` -> ``\\mu`` (Greek lepton names), others unchanged."""
    return "\\" + lepton if lepton in ("mu", "tau") else lepton


def flavor_items(derivation: Derivation) -> list[tuple[str, object, str | None]]:
    """(lhs, rhs, comment) rows of the FN sector: chains per lepton, m^FN, m^RAD."""
    rows = []
    for s in derivation["flavor"].leptons:
        chains = "; ".join(f"{count} x ({text})" for text, count, _ in s.multiplicities)
        comment = f"lepton {s.lepton}: {len(s.chains)} chains at order {s.order}: {chains}"
        ell = lepton_latex(s.lepton)
        rows.append((f"m_{{{ell}}}^{{\\rm FN}}", s.m_FN, comment))
        rows.append((f"m_{{{ell}}}^{{\\rm RAD}}", s.m_RAD, None))
    return rows


def observables_items(derivation: Derivation) -> list[tuple[str, object, str | None]]:
    """(lhs, rhs, equation label) rows of the observables stage."""
    obs = derivation["observables"]
    names = {"delta_a_from_C": r"\Delta a_\ell", "d_e_from_C": "d_e",
             "BR_ratio_from_C": r"\frac{\mathrm{BR}(\ell \to \ell'\gamma)}{\mathrm{BR}(\ell \to \ell'\nu\bar\nu')}",
             "delta_a_over_m_RAD": r"\frac{\Delta a_\ell}{m_\ell^{\rm RAD}}"}
    rows = [(names.get(name, name), expr, f"{eq}, derived") for name, eq, expr in obs.relations]
    if obs.leptons:
        rows.append((r"\lambda", obs.effective_lambda, "3.6, derived"))
        for name, eq, expr in obs.paper_form:
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


def flavor_tex(derivation: Derivation) -> str:
    out = [tex_header(derivation)]
    for lhs, rhs, comment in flavor_items(derivation):
        if comment:
            out.append(f"% {comment}\n")
        out.append(_tex_eq(lhs, rhs))
    return "".join(out)


def observables_tex(derivation: Derivation) -> str:
    out = [tex_header(derivation)]
    for lhs, rhs, label in observables_items(derivation):
        out.append(_tex_eq(lhs, rhs, label))
    return "".join(out)


RENDERERS.update({
    "loops.json": lambda d: dump_json({"_": header_fields(d.model), **d["loops"].to_json()}),
    "flavor.json": lambda d: dump_json({"_": header_fields(d.model), **d["flavor"].to_json()}),
    "observables.json": lambda d: dump_json({"_": header_fields(d.model), **d["observables"].to_json()}),
    "snippets/loops.tex": loops_tex,
    "snippets/flavor.tex": flavor_tex,
    "snippets/observables.tex": observables_tex,
})


# ------------------------------------------------------------------ vacuum, mass matrices, spectrum


def _latex_matrix(M) -> str:
    rows = [" & ".join(printer.latex(x) for x in M.row(i)) for i in range(M.rows)]
    return "\\begin{pmatrix}\n" + " \\\\\n".join(rows) + "\n\\end{pmatrix}"


def tadpoles_tex(derivation: Derivation) -> str:
    """Eqs. A.2-A.3 as derived: tadpoles, imposed brackets, eliminated mu^2, stationary points."""
    import sympy as sp

    t = derivation["tadpoles"]
    real = derivation["real_potential"]
    lines = ["% tadpoles T_i = dV/dsigma_i at sigma = varphi = 0 (eq. A.2 normalization)", "\\begin{align}"]
    for s, expr in zip(real.sigma, t.general):
        lines.append(f"\\left\\langle \\frac{{\\partial V}}{{\\partial {printer.latex(s)}}} \\right\\rangle "
                     f"&= {printer.latex(sp.factor(expr))} \\\\")
    lines[-1] = lines[-1].rstrip(" \\")
    lines.append("\\end{align}")
    lines.append("% with the relations and the alignment imposed: independent conditions")
    lines.append("\\begin{align}")
    for c in t.conditions:
        which = ", ".join(f"{printer.latex(f)}\\,[\\ldots]\\ (\\sigma_{{{derivation.model.scalars[i].label}}})"
                          for i, f in zip(c.tadpoles, c.factors))
        lines.append(f"0 &= {printer.latex(c.bracket)} && {which} \\\\")
    for mu, expr in t.eliminated:
        lines.append(f"{printer.latex(mu**2)} &= {printer.latex(expr)} \\\\")
    for c in t.constraints:
        lines.append(f"0 &= {printer.latex(c)} && \\text{{(not solved: the alignment is not stationary)}} \\\\")
    lines[-1] = lines[-1].rstrip(" \\")
    lines.append("\\end{align}")
    if t.stationary_points:
        lines.append("% stationary points of the aligned potential (eq. A.3)")
        lines.append("\\begin{align}")
        for p in t.stationary_points:
            vevs = ",\\ ".join(f"{printer.latex(v**2)} = {printer.latex(X)}" for v, X in p.squares) or \
                ",\\ ".join(f"{printer.latex(v)} = 0" for v in t.free_vevs)
            lines.append(f"{p.name.replace('V_', 'V_{') + '}'} &= {printer.latex(p.value)} && {vevs} \\\\")
        lines[-1] = lines[-1].rstrip(" \\")
        lines.append("\\end{align}")
    if t.minimum_conditions:
        lines.append("% the nontrivial point is the minimum of the aligned subspace when")
        lines.append("\\begin{align}")
        for c in t.minimum_conditions:
            rel = "> 0" if c.relation == ">0" else "\\le 0"
            lines.append(f"{printer.latex(c.expr)} &{rel} \\\\")
        lines[-1] = lines[-1].rstrip(" \\")
        lines.append("\\end{align}")
    return tex_header(derivation) + "\n".join(lines) + "\n"


def mass_matrices_tex(derivation: Derivation) -> str:
    """Eqs. A.5-A.6 as derived (relations and alignment imposed, mu^2 eliminated)."""
    m = derivation["mass_matrices"]
    return (tex_header(derivation)
            + f"% (M^2)_ij = {m.factor} d^2V/dsigma_i dsigma_j (eq. A.4); basis {', '.join(m.fields)}\n"
            + "\\begin{equation}\nM_S^2 = " + _latex_matrix(m.M_S2_vacuum) + "\n\\end{equation}\n"
            + "\\begin{equation}\nM_P^2 = " + _latex_matrix(m.M_P2_vacuum) + "\n\\end{equation}\n")


def spectrum_tex(derivation: Derivation) -> str:
    """Eqs. A.10-A.14 as derived: masses^2 through eps^order, U through eps^mixing_order."""
    s = derivation["spectrum"]
    lines = [f"% {printer.latex(s.epsilon)} = {printer.latex(s.definition)}; "
             + "".join(f"; {k} counted as O({s.epsilon}^{p}) in units of the heavy vev" for k, p in s.counting),
             f"% masses^2 through {s.epsilon}^{s.order}, mixing through {s.epsilon}^{s.mixing_order}",
             "\\begin{align}"]
    for state in s.scalars + s.pseudoscalars:
        letter = "S" if state.cp == "even" else "P"
        lines.append(f"m_{{{letter}_{{{state.name[1:]}}}}}^2 &\\simeq {printer.latex(state.mass2)} \\\\")
    lines[-1] = lines[-1].rstrip(" \\")
    lines.append("\\end{align}")
    if s.scalars:
        lines.append("\\begin{equation}\nU_S \\simeq " + _latex_matrix(s.U_S) + "\n\\end{equation}")
    if s.pseudoscalars:
        lines.append("\\begin{equation}\nU_P \\simeq " + _latex_matrix(s.U_P) + "\n\\end{equation}")
    for note in s.notes:
        lines.append(f"% note: {note}")
    return tex_header(derivation) + "\n".join(lines) + "\n"


RENDERERS.update({
    "tadpoles.json": lambda d: dump_json({"_": header_fields(d.model), **d["tadpoles"].to_json()}),
    "mass_matrices.json": lambda d: dump_json({"_": header_fields(d.model), **d["mass_matrices"].to_json()}),
    "spectrum.json": lambda d: dump_json({"_": header_fields(d.model), **d["spectrum"].to_json()}),
    "snippets/tadpoles.tex": tadpoles_tex,
    "snippets/mass_matrices.tex": mass_matrices_tex,
    "snippets/spectrum.tex": spectrum_tex,
})
