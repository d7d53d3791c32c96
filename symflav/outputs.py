"""What `symflav derive` writes: JSON and LaTeX per stage, as strings.

:func:`render` is pure (a derivation in, ``{relative path: text}`` out); writing is
:func:`symflav.files.write_tree`. Output is deterministic: same input, same bytes.
"""

from __future__ import annotations

import json
from typing import Callable

from symflav.files import header_fields
from symflav.pipeline import Derivation
from symflav.report import printer


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


MULTI_RENDERERS: list[Callable[[Derivation], dict[str, str]]] = [_snippets]


def render(derivation: Derivation) -> dict[str, str]:
    """Every output file of the stages that ran."""
    files = {}
    for path, renderer in RENDERERS.items():
        try:
            files[path] = renderer(derivation)
        except KeyError:
            continue  # stage not run
    for renderer in MULTI_RENDERERS:
        for path, text in renderer(derivation).items():
            files.setdefault(path, text)
    return files
