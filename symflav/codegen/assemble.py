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
from symflav.codegen.contract import check_names, complete_points, points_literal, with_squares
from symflav.codegen.fieldspace import (
    EXPANSION_FACTOR,
    field_note,
    field_space_functions,
    thermal_function,
    vev_note,
)
from symflav.codegen.jax_backend import render_function_jax, render_jax_module, render_loop_function_jax
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
from symflav.codegen.printer import CodegenError
from symflav.codegen.units import formula_unit, parameter_units, square_unit
from symflav.codegen.vacua import VACUUM_HELPERS, quadratic_unknowns, tadpole_system, vacuum_constants
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


@dataclass(frozen=True)
class NumericModule:
    """Source of the generated module, with what it contains."""

    source: str
    functions: tuple[str, ...]
    operations: int
    stitched: tuple[tuple[str, series.Stitched], ...] = ()


def build_numeric_module(derivation, backend: str = "numpy", fields: str = "model") -> str:
    """Source of ``numeric.py`` for a :class:`~symflav.pipeline.Derivation`."""
    return numeric_module(derivation.model, derivation.results, backend, fields).source


FIELDS_OPTIONS = ("model", "canonical")
MODULE_FILES = {"numba": "numeric_numba.py", "jax": "numeric_jax.py"}


def extra_modules(model: Model, results: Mapping[str, Any], backend: str, fields: str,
                  exports: tuple[str, ...] = ()) -> dict[str, NumericModule]:
    """File name -> module that ``derive --backend/--fields`` writes besides (or instead of)
    the pipeline's numeric.py: with ``fields="canonical"`` numeric.py again, with the
    canonical functions; with a backend other than numpy its module too."""
    out = {}
    if fields != "model":
        out["numeric.py"] = numeric_module(model, results, "numpy", fields, exports)
    if backend in MODULE_FILES:
        out[MODULE_FILES[backend]] = numeric_module(model, results, backend, fields, exports)
    return out


def numeric_module(model: Model, results: Mapping[str, Any], backend: str = "numpy",
                   fields: str = "model", exports: tuple[str, ...] = ()) -> NumericModule:
    """Every function the results allow, rendered into one module (``backend`` numpy, numba
    or jax; ``fields="canonical"`` adds the functions of canonically normalized fields;
    ``exports``: names of further stages whose ``formulas`` are exported, before those of
    ``observables``)."""
    if fields not in FIELDS_OPTIONS:
        raise CodegenError(f"unknown field option {fields!r}; known: {', '.join(FIELDS_OPTIONS)}")
    table = results["operators"]
    results = {k: v for k, v in results.items() if not isinstance(v, Unavailable)}  # stages that do not apply
    sources = [results[name] for name in exports if name in results]
    if results.get("observables") is not None:
        sources.append(results["observables"])
    formulas = {name: expr for source in sources for name, expr in formulas_of(source).items()}
    declared = dict(sorted({n: u for source in sources for n, u in _declared_units(source).items()}.items()))
    units = parameter_units(model, table)
    loop_parts, stitched, loop_names = _loop_parts(model, results, formulas, backend)

    def args(symbols, documented=None):
        return _parameter_args(table, symbols, units, documented if documented is not None else declared)

    functions, squares, unknowns = _functions(model, results, table, formulas, declared, args, fields)
    constants = _module_constants(model, table, results, functions, squares, units, declared)
    helpers, exported = (), ()
    if unknowns and backend != "jax":
        constants += vacuum_constants(model, table, unknowns, _potential_parameters(functions),
                                      1 / (sp.sqrt(2) * EXPANSION_FACTOR[model.conventions.field_expansion]))
        helpers, exported = (VACUUM_HELPERS,), ("Minimum", "solve_mu2", "minimize")
    reserved = frozenset(name for name, _, _ in constants) | {f.name for f in functions} | set(exported) | \
        set(loop_names.values()) | {"Minimum", "release_memory", "collections"}
    rendered = list(loop_parts)
    for f in functions:
        if backend == "jax":
            rendered.append(render_function_jax(f, loop_names, reserved))
        else:
            rendered.append(render_function(f, loop_names, backend, reserved))
    _check_unique(rendered, constants, exported)
    header = header_fields(model)
    title = f"{model.name}: numeric functions (generated by symflav; do not edit)."
    description = _description(model, backend)
    if backend == "jax":
        source = render_jax_module(title, header, description, constants, rendered)
    else:
        source = render_module(title, header, description, constants, rendered, backend, helpers, exported)
    return NumericModule(
        source,
        tuple(r.name for r in rendered if not r.name.startswith("_")) + tuple(exported),
        sum(r.operations for r in rendered),
        tuple(stitched),
    )


def _functions(model: Model, results, table, formulas, declared, args, fields: str):
    """The functions of the module before rendering: field functions, the perturbative spectrum,
    the observables, and (when the vacuum is ready) the tadpole system solved for the quadratic
    unknowns. Returns ``(functions, squares, unknowns)``: parameters read only through their
    square -> the square's symbol, and the unknowns of the tadpole system (empty without one)."""
    functions, vacuum_ready = _field_functions(model, results, args, fields)
    if "spectrum" in results:
        functions.append(perturbative_function(model, results["spectrum"], args))
    functions += observable_functions(formulas, declared, args)
    masses = {p.symbol for p in table.parameters if p.kind == "mass"}
    functions, squares = with_squares(functions, masses)
    unknowns = quadratic_unknowns(table, squares) if vacuum_ready else []
    eliminated = {m: q for m, q in squares.items() if q in {u for _, u, _ in unknowns}}
    system = tadpole_system(model, results["tadpoles"], unknowns, args, eliminated) if unknowns else None
    if system is None:
        return functions, squares, []
    (system,), more = with_squares([system], masses)
    squares.update(more)
    functions.append(system)
    return functions, squares, unknowns


def _module_constants(model: Model, table, results, functions, squares, units, declared) -> list:
    """``(name, literal, doc)`` of the module constants: FIELDS, FIELD_EXPANSION, PARAMETERS,
    SQUARES, INPUTS, UNITS and POINTS (the derivation's points completed for every keyword)."""
    known = [p.name for p in table.parameters if p.name in units]
    keywords = {a.name: (a.symbols[0], a) for f in functions for a in f.parameters}
    extra = sorted(set(keywords) - set(known))
    square_names = {str(m): str(q) for m, q in sorted(squares.items(), key=lambda kv: known.index(str(kv[0])))}
    check_names(model, {**{n: f"parameters.{n}" for n in known}, **{n: f"formula symbol {n}" for n in extra}},
                square_names)
    unit_map = dict(units)
    for name in extra:
        unit_map[name] = units[name] if name in units else formula_unit(name, declared)
    for name, square in square_names.items():
        unit_map[square] = square_unit(unit_map[name])
    needed = [n for n in known if n in keywords or n in square_names]
    points = complete_points(model, table, needed, square_names, results.get("tadpoles"))
    return [
        ("FIELDS", repr(model.scalar_names), "Complex scalars of the potential, in the order of every vector argument."),
        ("FIELD_EXPANSION", repr(model.conventions.field_expansion),
         "The model's field expansion: 'unnormalized' phi = v + sigma + i varphi, 'canonical' "
         "phi = (v + sigma + i varphi)/sqrt(2); field arguments w = v + sigma + i varphi (see gradient())."),
        ("PARAMETERS", _tuple_literal(known + extra), "Names of the parameters (keyword arguments)."),
        ("SQUARES", _dict_literal(square_names),
         "Parameters that the functions read only through their square -> the keyword of that square, "
         "accepted instead (any sign, e.g. a negative mu^2)."),
        ("INPUTS", _tuple_literal(extra), "Keywords of the formula functions that are not parameters of the model "
                                          "(no values in POINTS: results of other calculations, or free inputs)."),
        ("UNITS", _dict_literal({n: unit_map[n] for n in known + extra + list(square_names.values())}),
         "Unit of every keyword: GeV for masses and vevs, declared units, units that follow from the operator "
         "degrees of the potential (every term in GeV^4), dimensionless Yukawa couplings."),
        ("POINTS", points_literal(points),
         "Named parameter points (GeV): the inputs as written in the derivation, plus every parameter a "
         "function needs from the defaults and relations. Inputs, not vacua: a point's vevs need not be "
         "stationary; solve_mu2() and minimize() construct and find vacua. A mu the point does not give is "
         "eliminated with the tadpoles at the point's vevs and written as its signed square (the _sq keyword)."),
    ]


def _description(model: Model, backend: str) -> str:
    """The module docstring's paragraph: model, reference, requirements of the backend, units and
    conventions."""
    return (
        f"{model.title}. {model.reference}. Numeric functions generated by symflav from the derivation "
        f"'{model.name}'; "
        + {"numpy": "they need only numpy and the Python standard library",
           "numba": "they import numpy and numba (njit kernels, compiled at the first call of each function)",
           "jax": "pure jax.numpy functions (jit- and grad-compatible; importing this module enables "
                  "jax_enable_x64)"}[backend]
        + ". Units: GeV. Conventions: "
        + "; ".join(model.conventions.describe().values()) + "."
    )


def _loop_parts(model, results, formulas, backend):
    rendered, stitched, loop_names = [], [], {}
    loops = results.get("loops")
    if loops is not None:
        for name, closed_form, summary in loop_functions_to_export(loops, formulas.values(), model):
            st = series.stitch(closed_form, loops.x)
            stitched.append((name, st))
            loop_names[name] = name
            lf = LoopFunction(name, summary, st, notes="Argument x = m/M: the scalar mass over the mediator mass.")
            rendered.append(render_loop_function_jax(lf) if backend == "jax" else render_loop_function(lf))
    return rendered, stitched, loop_names


def _field_functions(model, results, args, fields):
    """potential, the field-space functions, thermal masses, tadpoles and mass matrices;
    whether the vacuum helpers can be written (they need the field-space functions and the
    tadpoles)."""
    pot = results["potential"]
    functions = [potential_function(model, pot, args)]
    functions += field_space_functions(model, pot, args)
    if fields == "canonical":
        functions += field_space_functions(model, pot, args, canonical=True)
    functions.append(thermal_function(model, pot, args))
    vacuum = results.get("tadpoles")
    hessian = results.get("mass_matrices")
    tadpole_fn = tadpole_function(model, vacuum, args) if vacuum is not None else None
    matrix_fn = (mass_matrix_function(model, vacuum.vevs if vacuum else _vevs(model), hessian, args)
                 if hessian is not None else None)
    functions += [f for f in (tadpole_fn, matrix_fn) if f is not None]
    if tadpole_fn is not None and matrix_fn is not None:
        functions.append(combined_vacuum_function(tadpole_fn, matrix_fn))
    return functions, vacuum is not None and model.vacuum is not None


def _potential_parameters(functions) -> list[str]:
    return [a.name for f in functions if f.name == "potential" for a in f.parameters]


def _check_unique(rendered, constants, exported):
    names = [r.name for r in rendered] + [c for c, _, _ in constants] + list(exported)
    clashes = sorted({n for n in names if names.count(n) > 1})
    if clashes:
        raise CodegenError(f"two objects of the generated module would be named {', '.join(clashes)}")


# ---------------------------------------------------------------- specs


def _parameter_args(table, symbols, units: Mapping[str, str], declared: Mapping[str, tuple[str, str]]
                    ) -> tuple[Argument, ...]:
    """Keyword arguments for ``symbols``, in the order of the model's parameters (generated
    couplings after them), then by name. Units: the model's (``units``, derived and checked
    by :mod:`symflav.codegen.units`), else the unit the observables stage declares for a
    formula symbol; a symbol with neither is an error (a unit is never guessed)."""
    parameters = table.parameters
    order = {p.symbol: i for i, p in enumerate(parameters)}
    info = {p.symbol: p for p in parameters}
    args = []
    for s in sorted(symbols, key=lambda s: (order.get(s, len(order)), str(s))):
        name, p = str(s), info.get(s)
        if p is not None:
            text = f"{name} ({units[name]})." + (f" {_sentence(p.note)}" if p.note else "")
        elif name in units:  # the small parameter of the expansion
            text = f"{name} ({units[name]}): the expansion parameter of the perturbative spectrum."
        else:
            unit = formula_unit(name, declared)
            description = declared[name][1]
            text = f"{name} ({unit})" + (f": {_sentence(description)}" if description else ".")
        args.append(Argument(name, (s,), text))
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


def potential_function(model: Model, pot, args) -> Function:
    """V(w) with phi = c w (c from the model's expansion) and phi^dagger = conj(phi)."""
    factor = EXPANSION_FACTOR[model.conventions.field_expansion]
    expr = pot.expr
    subs = tuple((pb, sp.conjugate(p)) for p, pb in zip(pot.phi, pot.phibar))
    if factor != 1:
        expr = expr.xreplace({p: factor * p for p in pot.phi + pot.phibar})
    params = expr.free_symbols - set(pot.phi) - set(pot.phibar)
    return Function(
        name="potential",
        summary="The scalar potential V(phi) in GeV^4.",
        arguments=(Argument("phi", tuple(pot.phi), "Complex field values w (GeV), in the order FIELDS (see Notes).",
                            vector=True, complex=True, internal=True),),
        parameters=args(params),
        results=(Result("V", (expr,), (), "V in GeV^4 (real)."),),
        notes=field_note(model.conventions.field_expansion, False) + " " + _conventions_note(model)
        + " Every operator allowed by the charges and kept by the derivation is included, with "
        "phi^dagger = conj(phi).",
        substitutions=subs,
    )


def tadpole_function(model: Model, vacuum, args) -> Function:
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
        parameters=args(params),
        results=(Result("tadpoles", exprs, (n,), "dV/dsigma_i in GeV^3 (zero at a stationary point)."),),
        notes=_conventions_note(model) + " All parameters are free: no relation or vacuum alignment "
        "is imposed. " + vev_note(model.conventions.field_expansion),
    )


def mass_matrix_function(model: Model, vevs, hessian, args) -> Function:
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
        parameters=args(params),
        results=(
            Result("M_S2", tuple(ms), (n, n), "CP-even mass matrix (GeV^2) in the basis sigma_i."),
            Result("M_P2", tuple(mp), (n, n), "CP-odd mass matrix (GeV^2) in the basis varphi_i."),
        ),
        notes=_conventions_note(model) + " The matrices are evaluated at the given vevs with all "
        "parameters free; they are the physical mass matrices only at a stationary point "
        "(tadpoles zero). " + vev_note(model.conventions.field_expansion),
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
        "release_memory() frees it. Passing out= buffers avoids new memory altogether.\n\n" + matrices.notes,
    )


def perturbative_function(model: Model, spectrum, args) -> Function:
    """Perturbative squared masses of the ``spectrum`` stage."""
    scalar = tuple(spectrum.scalar_masses2)
    pseudo = tuple(spectrum.pseudoscalar_masses2)
    params = set().union(*(sp.sympify(e).free_symbols for e in scalar + pseudo))
    order = getattr(spectrum, "order", None)
    return Function(
        name="perturbative_masses2",
        summary="Perturbative squared masses of the CP-even and CP-odd scalars (GeV^2).",
        arguments=(),
        parameters=args(params),
        results=(
            Result("scalar_masses2", scalar, (len(scalar),), "CP-even squared masses (GeV^2)."),
            Result("pseudoscalar_masses2", pseudo, (len(pseudo),), "CP-odd squared masses (GeV^2)."),
        ),
        notes=_conventions_note(model)
        + (f" Expanded to order {order} in the small parameter." if order is not None else ""),
    )


def observable_functions(formulas: Mapping[str, sp.Expr], declared: Mapping[str, tuple[str, str]],
                         args) -> list[Function]:
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
            parameters=args(params, declared),
            results=(Result(name, (expr,), (), result),),
        ))
    return functions


# ---------------------------------------------------------------- literals


def _tuple_literal(names) -> str:
    if not names:
        return "()"
    return "(\n" + "".join(f"    {n!r},\n" for n in names) + ")"


def _dict_literal(d: dict) -> str:
    return "{\n" + "".join(f"    {k!r}: {v!r},\n" for k, v in d.items()) + "}"


