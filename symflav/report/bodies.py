"""LaTeX bodies of derived objects, shared by the snippets and the report (no files here:
:mod:`symflav.report.outputs` writes them, :mod:`symflav.report.render` places them)."""

from __future__ import annotations

from symflav.core.stages import Derivation
from symflav.core import printer


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


def lepton_latex(lepton: str) -> str:
    """``mu`` -> ``\\mu`` (Greek lepton names), others unchanged."""
    return "\\" + lepton if lepton in ("mu", "tau") else lepton


def flavor_items(derivation: Derivation) -> list[tuple[str, object, str | None]]:
    """(lhs, rhs, comment) rows of the FN sector: chains per lepton, m^FN, m^RAD."""
    rows = []
    for s in derivation["flavor"].leptons:
        chains = "; ".join(f"{count} x ({text})" for text, count, _ in s.multiplicities)
        comment = (f"lepton {s.lepton}: {len(s.chains)} chains at order {s.order} "
                   f"({derivation['flavor'].vertex_mode} vertices): {chains}")
        ell = lepton_latex(s.lepton)
        rows.append((f"m_{{{ell}}}^{{\\rm FN}}", s.m_FN, comment))
        rows.append((f"m_{{{ell}}}^{{\\rm RAD}}", s.m_RAD, None))
    return rows


def observables_items(derivation: Derivation) -> list[tuple[str, object, str | None]]:
    """(lhs, rhs, label) rows of the observables stage: its relations, each tagged "derived"
    (with the study's reference when it has one)."""
    obs = derivation["observables"]
    names = {"delta_a_from_C": r"\Delta a_\ell", "d_from_C": r"d_\ell",
             "BR_ratio_from_C": r"\frac{\mathrm{BR}(\ell \to \ell'\gamma)}{\mathrm{BR}(\ell \to \ell'\nu\bar\nu')}",
             "delta_a_over_m_RAD": r"\frac{\Delta a_\ell}{m_\ell^{\rm RAD}}"}
    return [(names.get(name, name), expr, f"{eq}, derived" if eq else "derived") for name, eq, expr in obs.relations]
