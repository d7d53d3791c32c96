"""The derivation -> ``generated/<name>/numeric.py`` (README contract).

:func:`numeric_module` exports what the derivation has: ``FIELDS``, ``PARAMETERS``,
``UNITS``, ``POINTS`` and ``potential`` always; ``tadpoles`` and ``mass_matrices``
from the stages of the same names; perturbative masses from ``spectrum``; the loop
functions from ``loops``; observables from ``observables`` and the formulas of the stages a
study exports (``exports``) -- each only when that stage is in the results. It is the
``codegen`` stage of the pipeline.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import sympy as sp

from symflav.codegen import series
from symflav.codegen.module import (
    Argument,
    Function,
    LoopFunction,
    Rendered,
    Result,
    render_function,
    render_loop_function,
    render_module,
)
from symflav.core.files import header_fields
from symflav.core.model import Model
from symflav.core.stages import Unavailable
from symflav.physics import loops as loop_stage

#: Loop functions of the ``loops`` stage (the study's reference of each is shown beside it).
LOOP_FUNCTIONS = {
    "I_m": "radiative-mass loop function I_m(x)",
    "I_m_x": "radiative-mass loop function I_m^x(x) (chirally enhanced diagram)",
    "I_da": "g-2 loop function I_Delta a(x)",
    "I_da_x": "g-2 loop function I_Delta a^x(x) (chirally enhanced diagram)",
}

UNIT_NAMES = {"mass": "GeV", "vev": "GeV", "coupling": "dimensionless"}


@dataclass(frozen=True)
class NumericModule:
    """Source of the generated module, with what it contains."""

    source: str
    functions: tuple[str, ...]
    operations: int
    stitched: tuple[tuple[str, series.Stitched], ...] = ()


def build_numeric_module(derivation, backend: str = "numpy") -> str:
    """Source of ``numeric.py`` for a :class:`~symflav.pipeline.Derivation`."""
    return numeric_module(derivation.model, derivation.results, backend).source


def numeric_module(model: Model, results: Mapping[str, Any], backend: str = "numpy",
                   exports: tuple[str, ...] = ()) -> NumericModule:
    """Every function the results allow, rendered into one module (``exports``: names of further
    stages whose ``formulas`` are exported, before those of ``observables``)."""
    conv = model.conventions
    rendered: list[Rendered] = []
    stitched = []
    loop_names: dict[str, str] = {}
    results = {k: v for k, v in results.items() if not isinstance(v, Unavailable)}  # stages that do not apply

    sources = [results[name] for name in exports if name in results]
    observables = results.get("observables")
    if observables is not None:
        sources.append(observables)
    formulas = {name: expr for source in sources for name, expr in formulas_of(source).items()}
    units = dict(sorted({name: unit for source in sources for name, unit in _declared_units(source).items()}.items()))
    loops = results.get("loops")
    if loops is not None:
        for name, closed_form, summary in loop_functions_to_export(loops, formulas.values(), model):
            st = series.stitch(closed_form, loops.x)
            stitched.append((name, st))
            loop_names[name] = name
            rendered.append(render_loop_function(LoopFunction(
                name, summary, st, notes="Argument x = m/M: the scalar mass over the mediator mass.",
            )))

    functions: list[Function] = [potential_function(model, results["potential"])]
    vacuum = results.get("tadpoles")
    hessian = results.get("mass_matrices")
    tadpole_fn = tadpole_function(model, vacuum) if vacuum is not None else None
    matrix_fn = (mass_matrix_function(model, vacuum.vevs if vacuum else _vevs(model), hessian)
                 if hessian is not None else None)
    functions += [f for f in (tadpole_fn, matrix_fn) if f is not None]
    if tadpole_fn is not None and matrix_fn is not None:
        functions.append(combined_vacuum_function(tadpole_fn, matrix_fn))
    if "spectrum" in results:
        functions.append(perturbative_function(model, results["spectrum"]))
    functions += observable_functions(model, formulas, units)

    known = [p.name for p in model.parameters]
    extra = sorted({str(s) for f in functions for a in f.parameters for s in a.symbols} - set(known))
    for f in functions:
        rendered.append(render_function(f, loop_names, backend))

    units_of = {p.name: UNIT_NAMES[p.kind] for p in model.parameters}
    units_of.update({name: unit for name, (unit, _) in units.items() if name in extra})
    constants = [
        ("FIELDS", repr(model.scalar_names), "Complex scalars of the potential, in the order of every vector argument."),
        ("PARAMETERS", _tuple_literal(known + extra), "Names of the parameters (keyword arguments)."),
        ("UNITS", _dict_literal(units_of), "Unit of each parameter whose unit is declared (model parameters and "
                                        "the symbols of the observables' formulas)."),
        ("POINTS", _points_literal(model), "Named parameter points of the derivation (GeV), as written in it."),
    ]
    description = (
        f"{model.title}. {model.reference}. Numeric functions generated by symflav from the derivation "
        f"'{model.name}'; "
        + ("they need only numpy and the Python standard library" if backend == "numpy" else
           "they import numpy and numba (njit kernels, compiled at the first call of each function)")
        + ". Units: GeV. Conventions: "
        + "; ".join(conv.describe().values()) + "."
    )
    header = header_fields(model)
    source = render_module(
        f"{model.name}: numeric functions (generated by symflav; do not edit).",
        header, description, constants, rendered, backend,
    )
    return NumericModule(
        source,
        tuple(r.name for r in rendered),
        sum(r.operations for r in rendered),
        tuple(stitched),
    )


# ---------------------------------------------------------------- specs


def _parameter_args(model: Model, symbols, declared: Mapping[str, tuple[str, str]] | None = None
                    ) -> tuple[Argument, ...]:
    """Keyword arguments for ``symbols``, in the model's parameter order, then by name.

    Units and descriptions: ``declared`` (name -> (unit, description), e.g. the
    observables' ``formula_units``) first, then the model's parameter kinds; a symbol
    with neither is documented as "unit not declared" (never guessed).
    """
    declared = declared or {}
    order = {p.symbol: i for i, p in enumerate(model.parameters)}
    info = {p.symbol: p for p in model.parameters}
    args = []
    for s in sorted(symbols, key=lambda s: (order.get(s, len(order)), str(s))):
        name, p = str(s), info.get(s)
        if name in declared:
            unit, description = declared[name]
            text = f"{name} ({unit})" + (f": {_sentence(description)}" if description else ".")
        elif p:
            text = f"{name} ({UNIT_NAMES[p.kind]})." + (f" {_sentence(p.note)}" if p.note else "")
        else:
            text = f"{name} (unit not declared)."
        args.append(Argument(_py(name), (s,), text))
    return tuple(args)


def _sentence(text: str) -> str:
    text = text.strip()
    return text if text.endswith(".") else text + "."


def _declared_units(observables) -> dict[str, tuple[str, str]]:
    """``observables.formula_units`` (symbol name -> (unit, description)), when the stage has it."""
    units = getattr(observables, "formula_units", None) if observables is not None else None
    if not isinstance(units, Mapping):
        return {}
    out = {}
    for name, entry in units.items():
        unit, description = (entry, "") if isinstance(entry, str) else tuple(entry)[:2]
        out[str(name)] = (str(unit), str(description))
    return out


def formulas_of(observables) -> dict:
    formulas = getattr(observables, "formulas", observables)
    return dict(formulas) if isinstance(formulas, Mapping) else {}


def loop_functions_to_export(loops, formulas=(), model: Model | None = None) -> list[tuple[str, sp.Expr, str]]:
    """(name, closed form, summary) of the loop functions of the module: those of
    :data:`LOOP_FUNCTIONS` the stage derived, then any other member of the families
    (``_r1``, ``_S``, ...) that a formula calls, derived by :mod:`symflav.physics.loops`."""
    out, seen = [], set()
    for name, what in LOOP_FUNCTIONS.items():
        if name in loops.closed_forms:
            cite = model.cite(f"loop.{name}", ", eq. ({})") if model is not None else ""
            out.append((name, loops.closed_forms[name], f"The {what}{cite}, as derived."))
            seen.add(name)
    called = sorted({type(f).__name__ for e in formulas for f in sp.sympify(e).atoms(sp.Function)})
    for name in called:
        key = loop_stage.parse_key_or_none(name)
        if name in seen or key is None:
            continue
        form = loops.closed_forms[name] if name in loops.closed_forms else loop_stage.loop_function(*key).closed_form
        function = loop_stage.loop_function(*key)
        out.append((name, form, f"The loop function {name}(x) ({function.description}), as derived; "
                                f"used by the observables' formulas."))
        seen.add(name)
    return out


def _py(name: str) -> str:
    return name if name.isidentifier() else name + "_"


def _vevs(model: Model) -> tuple[sp.Symbol, ...]:
    return tuple(v for _, v in model.vacuum.vevs)


def _conventions_note(model: Model) -> str:
    return " ".join(f"{v}." for v in model.conventions.describe().values())


def potential_function(model: Model, pot) -> Function:
    """V(phi, phi^dagger) with phi^dagger = conj(phi)."""
    expr = pot.expr
    subs = tuple((pb, sp.conjugate(p)) for p, pb in zip(pot.phi, pot.phibar))
    params = expr.free_symbols - set(pot.phi) - set(pot.phibar)
    return Function(
        name="potential",
        summary="The scalar potential V(phi) in GeV^4.",
        arguments=(Argument("phi", tuple(pot.phi), "Complex field values (GeV), in the order FIELDS.",
                            vector=True, complex=True),),
        parameters=_parameter_args(model, params),
        results=(Result("V", (expr,), (), "V in GeV^4 (real)."),),
        notes=_conventions_note(model) + " Every operator allowed by the charges and kept by the "
        "derivation is included, with phi^dagger = conj(phi).",
        substitutions=subs,
    )


def tadpole_function(model: Model, vacuum) -> Function:
    """dV/dsigma_i at the vacuum, all parameters free."""
    vevs = tuple(vacuum.vevs)
    exprs = tuple(vacuum.general)
    params = set().union(*(sp.sympify(e).free_symbols for e in exprs)) - set(vevs)
    n = len(vevs)
    return Function(
        name="tadpoles",
        summary="The tadpoles dV/dsigma_i at sigma = varphi = 0 (GeV^3)"
                + model.cite("tadpoles", ", eq. ({}) normalization") + ".",
        arguments=(Argument("vevs", vevs, "Vacuum expectation values v_i (GeV), in the order FIELDS.",
                            vector=True),),
        parameters=_parameter_args(model, params),
        results=(Result("tadpoles", exprs, (n,), "dV/dsigma_i in GeV^3 (zero at a stationary point)."),),
        notes=_conventions_note(model) + " All parameters are free: no relation or vacuum alignment "
        "is imposed.",
    )


def mass_matrix_function(model: Model, vevs, hessian) -> Function:
    """M_S^2, M_P^2 at generic vevs, all parameters free."""
    vevs = tuple(vevs)
    ms, mp = sp.Matrix(hessian.M_S2), sp.Matrix(hessian.M_P2)
    n = ms.shape[0]
    params = (ms.free_symbols | mp.free_symbols) - set(vevs)
    return Function(
        name="mass_matrices",
        summary="The CP-even and CP-odd scalar mass matrices (GeV^2) at the vevs.",
        arguments=(Argument("vevs", vevs, "Vacuum expectation values v_i (GeV), in the order FIELDS.",
                            vector=True),),
        parameters=_parameter_args(model, params),
        results=(
            Result("M_S2", tuple(ms), (n, n), "CP-even mass matrix (GeV^2) in the basis sigma_i."),
            Result("M_P2", tuple(mp), (n, n), "CP-odd mass matrix (GeV^2) in the basis varphi_i."),
        ),
        notes=_conventions_note(model) + " The matrices are evaluated at the given vevs with all "
        "parameters free; they are the physical mass matrices only at a stationary point "
        "(tadpoles zero).",
    )


def combined_vacuum_function(tadpoles: Function, matrices: Function) -> Function:
    """Tadpoles and both mass matrices in one pass (one CSE over all their entries)."""
    by_name = {a.name: a for a in tadpoles.parameters + matrices.parameters}
    order = [a.name for a in matrices.parameters] + [a.name for a in tadpoles.parameters]
    parameters = tuple(by_name[n] for n in dict.fromkeys(order))
    return Function(
        name="tadpoles_and_mass_matrices",
        summary="tadpoles(vevs) and mass_matrices(vevs) in one pass (GeV^3, GeV^2).",
        arguments=tadpoles.arguments,
        parameters=parameters,
        results=tadpoles.results + matrices.results,
        notes="The same numbers as the two functions, computed together: their entries share "
        "sub-expressions and the inputs are read once, which makes scans faster. The three "
        "results share one block of memory. From RECYCLE_BYTES (32 MiB) on, that block is kept "
        "when all of them are dropped and reused by a later call of the same size, since fresh "
        "memory for hundreds of megabytes costs the operating system more than the evaluation; "
        "release_memory() frees it. Passing out= buffers avoids new memory altogether.",
    )


def perturbative_function(model: Model, spectrum) -> Function:
    """Perturbative squared masses of the ``spectrum`` stage."""
    scalar = tuple(spectrum.scalar_masses2)
    pseudo = tuple(spectrum.pseudoscalar_masses2)
    params = set().union(*(sp.sympify(e).free_symbols for e in scalar + pseudo))
    order = getattr(spectrum, "order", None)
    return Function(
        name="perturbative_masses2",
        summary="Perturbative squared masses of the CP-even and CP-odd scalars (GeV^2).",
        arguments=(),
        parameters=_parameter_args(model, params),
        results=(
            Result("scalar_masses2", scalar, (len(scalar),), "CP-even squared masses (GeV^2)."),
            Result("pseudoscalar_masses2", pseudo, (len(pseudo),), "CP-odd squared masses (GeV^2)."),
        ),
        notes=_conventions_note(model)
        + (f" Expanded to order {order} in the small parameter." if order is not None else ""),
    )


def observable_functions(model: Model, formulas: Mapping[str, sp.Expr],
                         declared: Mapping[str, tuple[str, str]]) -> list[Function]:
    """One function per named formula (the ``formulas`` of ``observables`` and of the exported
    stages); parameters documented from ``declared`` (their ``formula_units``)."""
    functions = []
    for name, expr in formulas.items():
        expr = sp.sympify(expr)
        if not isinstance(expr, sp.Expr):
            continue
        params = expr.free_symbols
        unit, description = declared.get(name, ("", ""))
        result = (f"{name} ({unit})" + (f": {_sentence(description)}" if description else ".")) if unit else f"{name}."
        functions.append(Function(
            name=_py(name),
            summary=f"The observable {name} (derived formula).",
            arguments=(),
            parameters=_parameter_args(model, params, declared),
            results=(Result(name, (expr,), (), result),),
        ))
    return functions


# ---------------------------------------------------------------- literals


def _tuple_literal(names) -> str:
    return "(\n" + "".join(f"    {n!r},\n" for n in names) + ")"


def _dict_literal(d: dict) -> str:
    return "{\n" + "".join(f"    {k!r}: {v!r},\n" for k, v in d.items()) + "}"


def _points_literal(model: Model) -> str:
    lines = ["{"]
    for point in model.points:
        lines.append(f"    {point.name!r}: {{")
        for name, value in point.values:
            lines.append(f"        {name!r}: {float(value)!r},")
        lines.append("    },")
    lines.append("}")
    return "\n".join(lines)


