"""LaTeX bodies of derived objects, shared by the snippets and the report (no files here:
:mod:`symflav.report.outputs` writes them, :mod:`symflav.report.render` places them)."""

from __future__ import annotations

import sympy as sp

from symflav.core import printer, symbols
from symflav.core.stages import Derivation


def operators_body(derivation: Derivation) -> str:
    table = derivation["operators"]
    model = derivation.model
    latex_names = [s.latex for s in model.scalars]
    rows = []
    for op in table.operators:
        coupling = f"${printer.latex(op.coefficient)}$" if op.in_potential else "--"
        status = op.status.replace("_", " ")
        herm = "yes" if op.monomial.is_hermitian else "+ h.c."
        rows.append(f"${printer.operator(op.monomial, latex_names)}$ & {op.monomial.degree} & {herm} & {coupling} & {status} \\\\")
    return (
        "\\begin{tabular}{@{}lcccl@{}}\n\\hline\noperator & deg. & hermitian & coefficient & status \\\\\n\\hline\n"
        + "\n".join(rows)
        + "\n\\hline\n\\end{tabular}\n"
    )


def potential_body(derivation: Derivation) -> str:
    """V as the reference writes it: hermitian terms, then (non-hermitian + h.c.), in rows of a
    column's width, one labelled display."""
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
    rows = printer.pack(hermitian, printer.COLUMN - 2, printer.COLUMN - 6)
    if other:
        factor = "" if conv.nonhermitian_factor == 1 else printer.latex(conv.nonhermitian_factor) + " "
        inner = printer.pack([*other, r"+ \text{h.c.}"], printer.COLUMN - 4, printer.COLUMN - 8)
        inner[0] = f"+ {factor}\\Bigl(" + inner[0]
        inner[-1] += r"\Bigr)"
        rows += inner
    return printer.display("V", rows or ["0"], printer.label("potential", "V")) + "\n"


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


OBSERVABLE_NAMES = {
    "delta_a_from_C": r"\Delta a_\ell", "d_from_C": r"d_\ell",
    "BR_ratio_from_C": r"\frac{\mathrm{BR}(\ell \to \ell'\gamma)}{\mathrm{BR}(\ell \to \ell'\nu\bar\nu')}",
    "delta_a_over_m_RAD": r"\frac{\Delta a_\ell}{m_\ell^{\rm RAD}}"}

STATE_SUMS = (r"where $\Sigma_m = \sum_k w_k I_m(x_k)$ and $\Sigma_{\Delta a} = \sum_k w_k I_{\Delta a}(x_k)$ "
              r"sum the loop functions over the scalar states $k$ of the loop with their weights $w_k$.")


def _one_notation(expr: sp.Expr, model) -> sp.Expr:
    """The generic amplitude's symbols in the model's notation: ``M`` as the model's mediator
    mass, ``m_l`` as :math:`m_\\ell`, the state sums as :math:`\\Sigma_m`, :math:`\\Sigma_{\\Delta a}`."""
    names = {"m_l": symbols.auxiliary("m_l", r"m_\ell"), "Sigma_m": symbols.auxiliary("Sigma_m", r"\Sigma_m"),
             "Sigma_da": symbols.auxiliary("Sigma_da", r"\Sigma_{\Delta a}")}
    if model.mediators and model.mediators[0].mass != 0:
        names["M"] = model.mediators[0].mass
    return sp.sympify(expr).xreplace({s: names[s.name] for s in sp.sympify(expr).free_symbols if s.name in names})


def observables_items(derivation: Derivation) -> list[tuple[str, object, str]]:
    """(lhs, rhs, name) rows of the observables stage, in the model's notation; the reference's
    equation of each, when it has one, is :func:`observables_references`."""
    obs = derivation["observables"]
    return [(OBSERVABLE_NAMES.get(name, name), _one_notation(expr, derivation.model), name)
            for name, _, expr in obs.relations]


def observables_references(derivation: Derivation) -> dict[str, str]:
    """relation name -> the reference's equation number (relations that have one)."""
    return {name: eq for name, eq, _ in derivation["observables"].relations if eq}


# ------------------------------------------------------------------ snippet bodies: one labelled display
# per derived object (printer.display), comments for what a paper would say in its text


def printed_as(equation: str | None) -> str:
    """The reference's equation number, as text before a display (``\\sfprinted`` of symflav.sty)."""
    return f"\\sfprinted{{{equation}}}\n" if equation else ""


def _matrix(name: str, symbol: str, matrix: sp.MatrixBase, basis, relation: str = "=") -> list[str]:
    """A matrix as one pmatrix when its entries are short, otherwise entry by entry (upper
    triangle when symmetric), each a labelled display."""
    short = printer.matrix(matrix, width=printer.COLUMN // matrix.shape[1] - 2)
    if short:
        return [f"\\begin{{equation}}\\label{{{printer.label(name)}}}\n{symbol} {relation} {short}\n\\end{{equation}}"]
    symmetric = matrix.is_square and matrix == matrix.T
    out = []
    for i in range(matrix.shape[0]):
        for j in range(i if symmetric else 0, matrix.shape[1]):
            lhs = f"({symbol})_{{{basis[i]}{basis[j]}}}"
            out.append(printer.display(lhs, matrix[i, j], printer.label(name, f"{basis[i]}{basis[j]}"),
                                       relation=relation))
    return out


def tadpoles_body(derivation: Derivation) -> str:
    """The tadpoles as derived: tadpoles, imposed brackets, eliminated mu^2, stationary points."""
    t = derivation["tadpoles"]
    real = derivation["real_potential"]
    model = derivation.model
    labels = [s.label for s in model.scalars]
    out = [f"% tadpoles T_i = dV/dsigma_i at sigma = varphi = 0{model.cite('tadpoles', ' (eq. {} normalization)')}"]
    for s, lab, expr in zip(real.sigma, labels, t.general):
        lhs = f"\\left\\langle \\frac{{\\partial V}}{{\\partial {printer.latex(s)}}} \\right\\rangle"
        out.append(printer.display(lhs, sp.factor(expr), printer.label("tadpoles", "T", lab)))
    out.append("% with the relations and the alignment imposed: independent conditions")
    for n, c in enumerate(t.conditions):
        which = ", ".join(f"{printer.latex(f)} [...] (sigma_{labels[i]})" for i, f in zip(c.tadpoles, c.factors))
        out.append(f"% bracket {n + 1}: the factor of {which}")
        out.append(printer.display("0", c.bracket, printer.label("tadpoles", "bracket", labels[c.tadpoles[0]])))
    for mu, expr in t.eliminated:
        out.append(printer.display(printer.latex(mu**2), expr, printer.label("tadpoles", f"{mu}^2")))
    for n, c in enumerate(t.constraints):
        out.append("% not solved: the alignment is not stationary")
        out.append(printer.display("0", c, printer.label("tadpoles", "constraint", str(n + 1))))
    for p in t.stationary_points:
        vevs = ",\\ ".join(f"{printer.latex(v**2)} = {printer.latex(X)}" for v, X in p.squares) or \
            ",\\ ".join(f"{printer.latex(v)} = 0" for v in t.free_vevs)
        out.append(f"% stationary point {p.name}{model.cite('stationary_points')}: at ${vevs}$" if vevs
                   else f"% stationary point {p.name}")
        lhs = p.name.replace("V_", "V_{") + "}" if "V_" in p.name else printer.text(p.name)
        out.append(printer.display(lhs, p.value, printer.label("tadpoles", p.name)))
    if t.minimum_conditions:
        out.append("% the nontrivial point is the minimum of the aligned subspace when")
        for n, c in enumerate(t.minimum_conditions):
            out.append(printer.display("0 <" if c.relation == ">0" else "0 \\ge", c.expr,
                                       printer.label("tadpoles", "minimum", str(n + 1)), relation=""))
    return "\n".join(out) + "\n"


def mass_matrices_body(derivation: Derivation) -> str:
    """The vacuum mass matrices as derived (relations and alignment imposed, mu^2 eliminated)."""
    m = derivation["mass_matrices"]
    labels = [s.label for s in derivation.model.scalars]
    cite = derivation.model.cite("mass_matrix_factor")
    out = [f"% (M^2)_ij = {m.factor} d^2V/dsigma_i dsigma_j{cite}; basis {', '.join(m.fields)}"]
    out += _matrix("mass_matrices:M_S2", "M_S^2", m.M_S2_vacuum, labels)
    out += _matrix("mass_matrices:M_P2", "M_P^2", m.M_P2_vacuum, labels)
    return "\n".join(out) + "\n"


def spectrum_body(derivation: Derivation) -> str:
    """The perturbative spectrum as derived: masses^2 through eps^order, U through eps^mixing_order."""
    s = derivation["spectrum"]
    out = [f"% {s.epsilon} = {s.definition}"
           + "".join(f"; {k} counted as O({s.epsilon}^{p}) in units of the heavy vev" for k, p in s.counting),
           f"% masses^2 through {s.epsilon}^{s.order}, mixing through {s.epsilon}^{s.mixing_order}"]
    for state in s.scalars + s.pseudoscalars:
        letter = "S" if state.cp == "even" else "P"
        out.append(printer.display(f"m_{{{letter}_{{{state.name[1:]}}}}}^2", state.mass2,
                                   printer.label("spectrum", f"m_{letter}{state.name[1:]}^2"), relation="\\simeq"))
    states = [str(i + 1) for i in range(max(len(s.scalars), len(s.pseudoscalars)))]
    if s.scalars:
        out += _matrix("spectrum:U_S", "U_S", s.U_S, states, relation="\\simeq")
    if s.pseudoscalars:
        out += _matrix("spectrum:U_P", "U_P", s.U_P, states, relation="\\simeq")
    out += [f"% note: {note}" for note in s.notes]
    return "\n".join(out) + "\n"


def loops_body(derivation: Derivation) -> str:
    """Each loop function as its Feynman-parameter integral (sign pulled out) and closed form."""
    res = derivation["loops"]
    x, z = printer.latex(res.x), printer.latex(res.z)
    out = ["% loop functions of x = m/M, derived from Feynman-parameter integrals"]
    for base, prefactor in res.prefactors:
        out.append(f"% amplitude: {base} enters with prefactor {prefactor}")
    for f in res.functions:
        negative = f.integrand.could_extract_minus_sign()
        lhs = f"{f.latex}({x})"
        first = printer.COLUMN - 4  # a row of factors holds more than visible_length counts
        inner = printer.rows(-f.integrand if negative else f.integrand, printer.COLUMN - 4, first)
        sign = "-" if negative else ""
        if len(inner) == 1 and not isinstance(f.integrand, sp.Add):
            integral = [f"{sign}\\int_0^1 d{z}\\, {inner[0]}"]
        else:
            integral = [f"{sign}\\int_0^1 d{z}\\, \\Bigl({inner[0]}", *inner[1:]]
            integral[-1] += r"\Bigr)"
        out.append(printed_as(f.equation).rstrip("\n"))
        out.append(printer.display(lhs, integral, printer.label("loops", f.key),
                                   then=[("=", f.closed_form)]))
        out.append(f"% {f.key}: x -> 0: {f.asymptotic_zero}; x -> 1: {f.at_one}; sign: {f.sign}")
    return "\n".join(o for o in out if o) + "\n"


def flavor_body(derivation: Derivation) -> str:
    out = []
    for lhs, rhs, comment in flavor_items(derivation):
        if comment:
            out.append(f"% {comment}")
        out.append(printer.display(lhs, rhs, printer.label("flavor", lhs.replace("\\rm ", "").replace("\\", ""))))
    return "\n".join(out) + "\n"


def observables_body(derivation: Derivation) -> str:
    references = observables_references(derivation)
    out = []
    for lhs, rhs, name in observables_items(derivation):
        out.append(printed_as(references.get(name)).rstrip("\n") or None)
        out.append(printer.display(lhs, rhs, printer.label("observables", name)))
        if {"Sigma_m", "Sigma_da"} & {str(s) for s in sp.sympify(rhs).free_symbols}:
            out.append(STATE_SUMS)
    return "\n".join(o for o in out if o) + "\n"
