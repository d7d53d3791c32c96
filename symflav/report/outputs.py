"""What `symflav derive` writes: JSON and LaTeX per stage, as strings.

:func:`render` is pure (a derivation in, ``{relative path: text}`` out); writing is
:func:`symflav.core.files.write_tree`. Output is deterministic: same input, same bytes.
"""

from __future__ import annotations

import json
from typing import Callable, Mapping, Sequence

import sympy as sp

from symflav.core.files import header_fields
from symflav.core.stages import Derivation, Unavailable
from symflav.numerics import viability
from symflav.core import printer
from symflav.report import render as report_render
from symflav.report.bodies import flavor_items, observables_items, operators_body, potential_body
from symflav.report.sections import Section


def dump_json(obj) -> str:
    return json.dumps(obj, indent=1, ensure_ascii=False, allow_nan=False) + "\n"  # NaN is not JSON


def tex_header(derivation: Derivation) -> str:
    head = header_fields(derivation.model)
    return "".join(f"% {k}: {v}\n" for k, v in head.items())


def operators_tex(derivation: Derivation) -> str:
    return tex_header(derivation) + operators_body(derivation)


def potential_tex(derivation: Derivation) -> str:
    return tex_header(derivation) + potential_body(derivation)


def _json_of(stage: str, extra: Callable[[Derivation], dict] | None = None):
    def render_json(d: Derivation) -> str:
        return dump_json({"_": header_fields(d.model), **d[stage].to_json(), **(extra(d) if extra else {})})

    return render_json


# path -> (the stages it needs, the renderer); a file whose stage did not run or does not apply
# to the model is not written (the report says why)
RENDERERS: dict[str, tuple[tuple[str, ...], Callable[[Derivation], str]]] = {
    "operators.json": (("operators",), _json_of("operators")),
    "potential.json": (("potential", "real_potential"),
                       _json_of("potential", lambda d: {"real": d["real_potential"].to_json()})),
    "snippets/operators.tex": (("operators",), operators_tex),
    "snippets/potential.tex": (("potential",), potential_tex),
    "checks.json": (("checks",), _json_of("checks")),
    "numeric.py": (("codegen",), lambda d: d["codegen"].source),
}

Drawn = Mapping[str, Callable[[], tuple[dict[str, bytes], float]]]
Drawers = Mapping[str, Callable[[object], dict[str, bytes]]]
DRAWERS: Drawers = {"viability": viability.figure_files}  # stage -> figure files of its result


def _drawn_files(stage: str, data, drawn: Drawn | None, drawers: Drawers) -> dict[str, bytes]:
    """The figure files of a stage's result: from ``drawn[stage]`` when they were started early
    (:func:`symflav.core.background.start` of the stage's drawer), else drawn here."""
    if drawn and stage in drawn:
        return drawn[stage]()[0]
    return drawers[stage](data)


def _scans(derivation: Derivation) -> dict[str, str]:
    """``<scan>.json`` of every viability scan sampled for the report."""
    data = derivation.results.get("viability")
    if data is None or isinstance(data, Unavailable):
        return {}
    return {f"{sample.scan}.json": dump_json({"_": header_fields(derivation.model), **sample.to_json()})
            for sample in data.scans}


def _ran(derivation: Derivation, stages: Sequence[str]) -> bool:
    return all(s in derivation.results and not isinstance(derivation.results[s], Unavailable) for s in stages)


def render(derivation: Derivation, drawn: Drawn | None = None, *, report: bool = True,
           sections: Sequence[Section] = (), drawers: Drawers | None = None,
           extra: Callable[[Derivation], dict[str, str]] | None = None) -> dict[str, str | bytes]:
    """Every output file of the stages that ran and apply (``drawn``: figure files started early,
    by stage name; ``drawers``: a study's stage -> figure files, besides :data:`DRAWERS`;
    ``sections``: a study's report sections; ``extra``: a study's own files); ``report=False``
    leaves out report.tex."""
    drawers = {**DRAWERS, **dict(drawers or {})}
    files: dict[str, str | bytes] = {}
    for path, (stages, renderer) in RENDERERS.items():
        if _ran(derivation, stages):
            files[path] = renderer(derivation)
    ctx = report_render.context(derivation, sections)  # report.tex and the snippets share it
    if report:
        files["report.tex"] = report_render.report_tex(derivation, sections, ctx)
    produced = [report_render.snippets(derivation, sections, ctx), _scans(derivation)]
    for stage, drawer in drawers.items():
        data = derivation.results.get(stage)
        if data is not None and not isinstance(data, Unavailable):
            produced.append(_drawn_files(stage, data, drawn, drawers))
    if extra is not None:
        produced.append(extra(derivation))
    for more in produced:
        for path, text in more.items():
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
    "loops.json": (("loops",), _json_of("loops")),
    "flavor.json": (("flavor",), _json_of("flavor")),
    "observables.json": (("observables",), _json_of("observables")),
    "snippets/loops.tex": (("loops",), loops_tex),
    "snippets/flavor.tex": (("flavor",), flavor_tex),
    "snippets/observables.tex": (("observables",), observables_tex),
})


# ------------------------------------------------------------------ vacuum, mass matrices, spectrum


def _latex_matrix(M) -> str:
    rows = [" & ".join(printer.latex(x) for x in M.row(i)) for i in range(M.rows)]
    return "\\begin{pmatrix}\n" + " \\\\\n".join(rows) + "\n\\end{pmatrix}"


def tadpoles_tex(derivation: Derivation) -> str:
    """The tadpoles as derived: tadpoles, imposed brackets, eliminated mu^2, stationary points."""

    t = derivation["tadpoles"]
    real = derivation["real_potential"]
    model = derivation.model
    lines = [f"% tadpoles T_i = dV/dsigma_i at sigma = varphi = 0{model.cite('tadpoles', ' (eq. {} normalization)')}",
             "\\begin{align}"]
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
        lines.append(f"% stationary points of the aligned potential{model.cite('stationary_points')}")
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
    """The vacuum mass matrices as derived (relations and alignment imposed, mu^2 eliminated)."""
    m = derivation["mass_matrices"]
    cite = derivation.model.cite("mass_matrix_factor")
    return (tex_header(derivation)
            + f"% (M^2)_ij = {m.factor} d^2V/dsigma_i dsigma_j{cite}; basis {', '.join(m.fields)}\n"
            + "\\begin{equation}\nM_S^2 = " + _latex_matrix(m.M_S2_vacuum) + "\n\\end{equation}\n"
            + "\\begin{equation}\nM_P^2 = " + _latex_matrix(m.M_P2_vacuum) + "\n\\end{equation}\n")


def spectrum_tex(derivation: Derivation) -> str:
    """The perturbative spectrum as derived: masses^2 through eps^order, U through eps^mixing_order."""
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
    "tadpoles.json": (("tadpoles",), _json_of("tadpoles")),
    "mass_matrices.json": (("mass_matrices",), _json_of("mass_matrices")),
    "spectrum.json": (("spectrum",), _json_of("spectrum")),
    "snippets/tadpoles.tex": (("tadpoles", "real_potential"), tadpoles_tex),
    "snippets/mass_matrices.tex": (("mass_matrices",), mass_matrices_tex),
    "snippets/spectrum.tex": (("spectrum",), spectrum_tex),
})
