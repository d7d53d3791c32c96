"""What `symflav derive` writes: JSON and LaTeX per stage, as strings.

:func:`render` is pure (a derivation in, ``{relative path: text}`` out); writing is
:func:`symflav.core.files.write_tree`. Output is deterministic: same input, same bytes.
"""

from __future__ import annotations

import json
from typing import Callable, Mapping, Sequence


from symflav.core.files import header_fields
from symflav.core.stages import Derivation, Unavailable
from symflav.numerics import viability
from symflav.core import printer
from symflav.report import render as report_render
from symflav.report.bodies import operators_body, potential_body
from symflav.report.sections import Section


def dump_json(obj) -> str:
    return json.dumps(obj, indent=1, ensure_ascii=False, allow_nan=False) + "\n"  # NaN is not JSON


def tex_header(derivation: Derivation) -> str:
    head = header_fields(derivation.model)
    return "".join(f"% {k}: {v}\n" for k, v in head.items())


def operators_tex(derivation: Derivation) -> str:
    body = operators_body(derivation)
    return report_render.needs(body) + tex_header(derivation) + body


def potential_tex(derivation: Derivation) -> str:
    body = potential_body(derivation)
    return report_render.needs(body) + tex_header(derivation) + body


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
           extra: Callable[[Derivation], dict[str, str]] | None = None,
           label_prefix: str = printer.LABEL_PREFIX) -> dict[str, str | bytes]:
    """Every output file of the stages that ran and apply (``drawn``: figure files started early,
    by stage name; ``drawers``: a study's stage -> figure files, besides :data:`DRAWERS`;
    ``sections``: a study's report sections; ``extra``: a study's own files); ``report=False``
    leaves out report.tex. ``label_prefix``: the first part of every equation label
    (``\\label{PREFIX:stage:object}``) in the report and the snippets."""
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
    if label_prefix != printer.LABEL_PREFIX:
        printer.check_label_prefix(label_prefix)
        files = {path: printer.relabel(text, label_prefix) if path.endswith((".tex", ".sty")) else text
                 for path, text in files.items()}
        if "snippets/symflav.sty" in files:
            files["snippets/symflav.sty"] = report_render.sty(label_prefix)
    return files


RENDERERS.update({
    "loops.json": (("loops",), _json_of("loops")),
    "flavor.json": (("flavor",), _json_of("flavor")),
    "observables.json": (("observables",), _json_of("observables")),
    "tadpoles.json": (("tadpoles",), _json_of("tadpoles")),
    "mass_matrices.json": (("mass_matrices",), _json_of("mass_matrices")),
    "spectrum.json": (("spectrum",), _json_of("spectrum")),
})
