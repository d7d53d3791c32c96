"""A parameter point, evaluated along every route that makes sense (``symflav spectrum``).

Routes (each reported in full; none silently preferred):

* ``as_given``: the parameters exactly as given (a missing dependent parameter is filled
  from the relations, and says so). The vacuum is the global minimum of the full potential
  over all real field components (multi-start search), rephased to real fields by true
  symmetries when possible; exact spectrum there. The given vevs, if any, are diagnosed
  (stationary? local minimum? gap to the global minimum).
* ``relations_imposed``: the same with every relation of the derivation imposed (the
  dependent parameters recomputed; conflicts with given values listed); the closed-form
  stationary points of the tadpoles stage are evaluated and compared with the search.
* ``vevs_with_mu_eliminated``: the given free vevs, the alignment and the relations imposed,
  the mu^2 eliminated with the tadpoles; exact spectrum of that vacuum, the perturbative
  formulas beside it, and whether it is the global minimum.

The observables of every lepton (:mod:`symflav.numerics.observables`) are evaluated on each
route's vacuum, the ``vevs_with_mu_eliminated`` one first; a study may add its paper's
statement beside them (``statement``: :attr:`symflav.pipeline.Study.spectrum_statement`).

Conventions are those of the derivation (stated in the output); masses in GeV, ascending
within each CP block; a negative mass means m^2 < 0.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sympy as sp

from symflav.core.errors import SpecError
from symflav.core.model import SQUARE, parameter_value
from symflav.core.spec import read_printed
from symflav.core.stages import available
from symflav.numerics import minimizer as numeric
from symflav.numerics import observables
from symflav.physics import loops, perturbative

ROUTES = ("as_given", "relations_imposed", "vevs_with_mu_eliminated")
ELIMINATED = "vevs_with_mu_eliminated"  # the route whose vacuum has the given free vevs
TOL_ALIGNED = 1e-6
TOL_GLOBAL = 1e-9


# ------------------------------------------------------------------ values


def point_values(model, point: str | None, overrides) -> tuple[dict[str, sp.Rational], str, str]:
    """Parameter values of a named point (default: the first) with ``--set`` overrides applied,
    by name as given (``NAME^2`` for a signed square; a generated coupling by its name once the
    model knows them, :func:`symflav.pipeline.bind`)."""
    names = set(model.symbols())
    if point is None:
        if not model.points:
            base, source, name = {}, "", "(none)"
        else:
            base, source, name = model.points[0].as_dict(), model.points[0].source, model.points[0].name
    else:
        known = [p.name for p in model.points]
        if point not in known:
            raise SpecError("--point", point, f"no such point (points: {', '.join(known) or 'none'})")
        p = model.point(point)
        base, source, name = p.as_dict(), p.source, p.name
    values = dict(base)
    for key, value in overrides.items():
        base_name = key.removesuffix(SQUARE)
        if base_name not in names:
            raise SpecError("--set", key, f"unknown parameter (parameters: {', '.join(sorted(names))})")
        if base_name != key and base_name not in model.quadratic:
            raise SpecError("--set", key, f"{base_name} is not the coupling of a quadratic operator: give its value")
        for other in (base_name, base_name + SQUARE):  # NAME and NAME^2: the last one given counts
            values.pop(other, None)
        values[key] = value
    return values, source, name


def _no_route_without_values(model, name, routes, missing, missing2) -> None:
    """When no route can be evaluated because the point lacks values: one line naming them."""
    if any(r.get("available") for r in routes.values()):
        return
    absent = sorted(set(missing) | set(missing2) | set(routes.get(ELIMINATED, {}).get("missing", [])))
    if absent:
        raise SpecError(model.path, f"points.{name}" if model.points else None,
                        f"no value for {', '.join(absent)}: give it in the point or with --set")


def given_symbols(model, values_by_name) -> dict:
    """Symbol -> value of :func:`point_values` (``NAME^2 = s`` as NAME = sqrt(s))."""
    symbols = model.symbols()
    return {symbols[k]: v for k, v in (parameter_value(key, value) for key, value in values_by_name.items())}


def _num(x) -> float:
    return float(sp.N(x, 20)) if not isinstance(x, (float, int)) else float(x)


def _shown(value):
    """A parameter value for the JSON: a float, or {"square": s} for an imaginary value (a
    quadratic coupling given by a negative signed square)."""
    number = complex(sp.N(value, 20))
    if abs(number.imag) > 1e-12 * max(abs(number), 1.0):
        return {"square": _json_float((number**2).real)}
    return _json_float(number.real)


def _text(shown) -> str:
    """:func:`_shown` as text."""
    return f"sqrt({shown['square']:.6g})" if isinstance(shown, dict) else f"{shown:.6g}"


def _json_float(x: float, digits: int = 10):
    x = float(x)
    if not np.isfinite(x):
        return None
    return float(f"{x:.{digits}g}")


def _relations_applied(model, values_by_symbol):
    """Every relation imposed; returns values and the conflicts (name, given, relation value)."""
    out = dict(values_by_symbol)
    conflicts = []
    for sym, expr in model.relations:
        if not expr.free_symbols <= set(out):
            continue
        value = expr.xreplace(out)
        if sym in values_by_symbol and values_by_symbol[sym] != value:
            conflicts.append({"parameter": sym.name, "given": _shown(values_by_symbol[sym]),
                              "relation": str(expr), "relation_value": _shown(value)})
        out[sym] = value
    return out, conflicts


def _fill_missing(model, values_by_symbol):
    out = dict(values_by_symbol)
    filled = []
    for sym, expr in model.relations:
        if sym not in out and expr.free_symbols <= set(out):
            out[sym] = expr.xreplace(out)
            filled.append(sym.name)
    return out, filled


# ------------------------------------------------------------------ pieces of a route


def _fields_from_vevs(model, vev_values) -> np.ndarray:
    norm = numeric.field_normalization(model.conventions)
    return np.array([norm * _num(vev_values[v]) for _, v in model.vacuum.vevs], dtype=complex)


def _vevs_from_fields(model, phi) -> dict:
    norm = numeric.field_normalization(model.conventions)
    out = {}
    scale = max(float(np.max(np.abs(phi))), 1e-300)
    for (name, _), value in zip(model.vacuum.vevs, phi):
        value = complex(value) / norm
        value = complex(0.0 if abs(value.real) < 1e-12 * scale else value.real,
                        0.0 if abs(value.imag) < 1e-12 * scale else value.imag)
        out[name] = _json_float(value.real) if abs(value.imag) <= 1e-9 * max(abs(value), 1.0) else \
            {"re": _json_float(value.real), "im": _json_float(value.imag)}
    return out


def _masses(values2):
    return [_json_float(numeric.signed_mass(m2)) for m2 in values2]


def _matrix(U):
    return [[_json_float(x) for x in row] for row in np.asarray(U)]


def _spectrum_json(exact: numeric.ExactSpectrum) -> dict:
    out = {
        "cp_conserving": exact.cp_conserving,
        "scalar_masses": _masses(exact.scalar_masses2),
        "pseudoscalar_masses": _masses(exact.pseudoscalar_masses2),
        "scalar_masses2": [_json_float(x) for x in exact.scalar_masses2],
        "pseudoscalar_masses2": [_json_float(x) for x in exact.pseudoscalar_masses2],
        "U_S": _matrix(exact.U_S),
        "U_P": _matrix(exact.U_P),
    }
    if not exact.cp_conserving:
        out["mixed_masses"] = _masses(exact.mixed_masses2)
        out["note"] = "complex vevs: CP-even and CP-odd fluctuations mix; mixed_masses is the full spectrum"
    return out


def _search_json(search: numeric.MinimumSearch, model, group) -> dict:
    best = search.best.value
    minima = []
    for m in search.minima:
        phi, residual = numeric.rephase(m.phi, group)
        minima.append({
            "vevs": _vevs_from_fields(model, phi),
            "potential": _json_float(m.value, 15),
            "gap_to_global": _json_float(m.value - best, 6),
            "hits": m.hits,
            "real_after_rephasing": residual < 1e-7,
        })
    return {
        "method": "damped Newton (analytic gradient and Hessian) from seeded multi-start, numpy",
        "starts": search.starts,
        "converged": search.converged,
        "seed": search.seed,
        "distinct_minima": minima,
    }


def _aligned(model, vev_values: dict) -> bool:
    """Does the real vev vector satisfy the alignment (relative tolerance)?"""
    scale = max(abs(_num(v)) for v in vev_values.values()) or 1.0
    for sym, expr in model.vacuum.alignment:
        if abs(_num(vev_values[sym]) - _num(expr.xreplace(vev_values))) > TOL_ALIGNED * scale:
            return False
    return True


def _real_vevs(model, phi):
    norm = numeric.field_normalization(model.conventions)
    return {v: sp.Float(float(np.real(value)) / norm, 17) for (_, v), value in zip(model.vacuum.vevs, phi)}


def _global_minimum(model, expansion, values, seeds, group, starts, seed, scale):
    V = expansion.at(values)
    search = numeric.find_minima(V, seeds, starts=starts, seed=seed, scale=scale)
    if not search.minima:
        return V, search, None, None
    phi, residual = numeric.rephase(search.best.phi, group)
    if residual < 1e-7:  # polish in the real subspace
        polished = numeric.local_minimum(V, V.point(phi.real))
        phi = V.fields_of(polished.x)
    return V, search, phi, residual


def _perturbative_at(spectrum, values, vev_values) -> dict | None:
    """The perturbative masses^2 and U columns of the ``spectrum`` stage, numerically."""
    if spectrum is None or not spectrum.scalars:
        return None
    subs = dict(values)
    subs.update(vev_values)

    def number(expr):
        return _num(sp.sympify(expr).xreplace(subs))

    def block(states, U):
        masses2 = [number(s.mass2) for s in states]
        columns = np.array([[number(x) for x in row] for row in U.tolist()]) if U.shape[0] else np.zeros((0, 0))
        return masses2, columns

    S2, US = block(spectrum.scalars, spectrum.U_S)
    P2, UP = block(spectrum.pseudoscalars, spectrum.U_P)
    return {"scalar": (S2, US, [s.name for s in spectrum.scalars]),
            "pseudoscalar": (P2, UP, [s.name for s in spectrum.pseudoscalars])}


EFFECTIVE_ORDER = 4


def _effective_at(derivation, values, vev_values, order: int = EFFECTIVE_ORDER) -> dict | None:
    """Quasi-degenerate perturbation theory at the point: effective blocks of M(eps) through
    eps^order (numbers for the couplings, eps formal), each diagonalized exactly (numpy)."""
    spectrum = available(derivation.results, "spectrum")
    if spectrum is None or not spectrum.substitution:
        return None
    eps = spectrum.epsilon
    subs = {**values, **vev_values}
    eps0 = sp.nsimplify(spectrum.definition.xreplace(subs))
    if eps0 == 0:
        return None
    (v_small, image), = spectrum.substitution
    forward = {v_small: image.xreplace({k: v for k, v in subs.items() if k != v_small})}
    for sym, k in spectrum.counting:
        forward[sym] = eps**k * sp.nsimplify(subs[sym]) / eps0**k
    rest = {k: v for k, v in subs.items() if k not in forward}
    out = {"order": order}
    masses = derivation["mass_matrices"]
    for key, M in (("scalar", masses.M_S2_vacuum), ("pseudoscalar", masses.M_P2_vacuum)):
        try:
            expanded = M.applyfunc(lambda e: sp.expand(sp.sympify(e).xreplace(forward).xreplace(rest)))
            blocks = perturbative.block_diagonalize(perturbative.taylor(expanded, eps, order + 2), order)
        except (perturbative.NoClosedForm, ValueError):
            return None
        values2, columns = [], []
        for b in blocks:
            H = sum((h * eps0**k for k, h in enumerate(b.hamiltonian)), sp.zeros(*b.hamiltonian[0].shape))
            B = sum((c * eps0**k for k, c in enumerate(b.basis)), sp.zeros(*b.basis[0].shape))
            w, V = np.linalg.eigh(np.array(H.evalf(30).tolist(), dtype=float))
            values2.extend(w)
            columns.append(np.array(B.evalf(30).tolist(), dtype=float) @ V)
        out[key] = (values2, np.hstack(columns), [f"{key[0].upper()}~{i + 1}" for i in range(len(values2))])
    return out


def _compare(exact: numeric.ExactSpectrum, pert: dict, spectrum) -> dict:
    """Perturbative beside exact: states matched by eigenvector overlap, relative errors."""
    out = {"order": spectrum.order, "mixing_order": spectrum.mixing_order,
           "epsilon": str(spectrum.definition)}
    top = max([abs(numeric.signed_mass(m)) for m in list(exact.scalar_masses2) + list(exact.pseudoscalar_masses2)]
              + [1.0])
    for key, masses2, U in (("scalar", exact.scalar_masses2, exact.U_S),
                            ("pseudoscalar", exact.pseudoscalar_masses2, exact.U_P)):
        p2, Up, names = pert[key]
        assignment = numeric.match_states(U, Up) if Up.size else list(range(len(p2)))
        rows = []
        for i, j in enumerate(assignment):
            m_exact = numeric.signed_mass(masses2[i])
            m_pert = numeric.signed_mass(p2[j])
            overlap = float(abs(U[:, i] @ Up[:, j]) / max(np.linalg.norm(Up[:, j]), 1e-300)) if Up.size else None
            rows.append({
                "state": names[j],
                "exact": _json_float(m_exact),
                "perturbative": _json_float(m_pert),
                # massless states (Goldstones): differences relative to 1e-4 of the heaviest mass
                "relative_error": _json_float((m_pert - m_exact) / max(abs(m_exact), 1e-4 * top), 4),
                "relative_error_mass2": _json_float((p2[j] - masses2[i]) / max(abs(masses2[i]), 1e-8 * top**2), 4),
                "eigenvector_overlap": _json_float(overlap, 6) if overlap is not None else None,
            })
        out[key + "_masses"] = [r["perturbative"] for r in rows]
        out[key + "_states"] = rows
        out["U_S" if key == "scalar" else "U_P"] = _matrix(Up[:, assignment]) if Up.size else []
    return out


def _effective_compare(exact: numeric.ExactSpectrum, effective: dict) -> dict:
    out = {"order": effective["order"],
           "method": "Schrieffer-Wolff block diagonalization through eps^order at the point, each block "
                     "(e.g. nearly degenerate light states) diagonalized exactly; no expansion in the splittings"}
    for key, masses2, U in (("scalar", exact.scalar_masses2, exact.U_S),
                            ("pseudoscalar", exact.pseudoscalar_masses2, exact.U_P)):
        p2, Up, _ = effective[key]
        assignment = numeric.match_states(U, Up)
        top = max(abs(numeric.signed_mass(m)) for m in masses2)
        masses, errors = [], []
        for i, j in enumerate(assignment):
            m_exact, m_eff = numeric.signed_mass(masses2[i]), numeric.signed_mass(p2[j])
            masses.append(_json_float(m_eff))
            errors.append(_json_float((m_eff - m_exact) / max(abs(m_exact), 1e-4 * max(top, 1.0)), 4))
        out[key + "_masses"] = masses
        out[key + "_relative_error"] = errors
    return out


# ------------------------------------------------------------------ the routes


def _route_search(model, derivation, values, given_vevs, label, starts, seed, expansion):
    """Global minimum of V at ``values`` (dict symbol -> number); shared by the first two routes
    (``expansion``: the :class:`~symflav.numerics.minimizer.PotentialExpansion` of V)."""
    table = derivation["operators"]
    group = numeric.rephasing_group(table, values)
    seeds = []
    if given_vevs is not None:
        seeds.append(("given vevs", _fields_from_vevs(model, given_vevs)))
    scale = _scale(values, given_vevs)
    V, search, phi, residual = _global_minimum(model, expansion, values, seeds, group, starts, seed, scale)
    route = {"available": True}
    if phi is None:
        route.update({"available": False, "reason": "no local minimum found (potential unbounded below?)"})
        return route, None, None, None
    exact = numeric.exact_spectrum(V, phi)
    vev_values = _real_vevs(model, phi) if exact.cp_conserving else None
    route.update({
        "vevs": _vevs_from_fields(model, phi),
        "potential_min": _json_float(V.value(V.point(phi)), 15),
        **_spectrum_json(exact),
        "aligned": _aligned(model, vev_values) if vev_values else False,
        "minimum_check": _search_json(search, model, group),
    })
    if given_vevs is not None:
        route["given_vevs"] = _diagnose(model, derivation, V, values, given_vevs, search)
    return route, V, exact, vev_values


def _scale(values, given_vevs) -> float:
    if given_vevs:
        scale = max(abs(_num(v)) for v in given_vevs.values())
        if scale > 0:
            return 2.0 * scale
    masses = [abs(complex(sp.N(v, 20))) for k, v in values.items() if k.name.startswith("mu")]
    return max(masses + [100.0])


def _diagnose(model, derivation, V, values, given_vevs, search) -> dict:
    """Is the given vev vector stationary / a minimum / the global minimum?"""
    tadpoles = derivation["tadpoles"]
    subs = dict(values)
    subs.update(given_vevs)
    tads = [_num(t.xreplace(subs)) for t in tadpoles.general]
    x = V.point(_fields_from_vevs(model, given_vevs))
    w = np.linalg.eigvalsh(V.hessian(x))
    value = V.value(x)
    scale = max(abs(_num(v)) for v in given_vevs.values()) or 1.0
    typical = max(abs(value) / scale, 1.0)
    return {
        "vevs": {name: _json_float(_num(given_vevs[v])) for name, v in model.vacuum.vevs},
        "tadpoles": [_json_float(t) for t in tads],
        "stationary": bool(max(abs(t) for t in tads) <= 1e-9 * typical),
        "hessian_min_eigenvalue": _json_float(w[0]),
        "potential": _json_float(value, 15),
        "gap_to_global": _json_float(value - search.best.value, 6),
    }


def _closed_form_points(model, derivation, values, V) -> list:
    """The closed-form stationary points evaluated at ``values``: each point's vevs (if real) and V,
    closed form vs compiled."""
    tadpoles = derivation["tadpoles"]
    out = []
    for p in tadpoles.stationary_points:
        squares = {v: _num(X.xreplace(values)) for v, X in p.squares}
        entry = {"name": p.name, "nonzero": [str(v) for v in p.nonzero],
                 "vev_squares": {str(v): _json_float(X) for v, X in squares.items()},
                 "potential": _json_float(_num(p.value.xreplace(values)), 15)}
        if all(X >= 0 for X in squares.values()):
            free = {v: sp.Float(np.sqrt(squares.get(v, 0.0)), 17) for v in tadpoles.free_vevs}
            full = dict(free)
            for sym, expr in tadpoles.alignment:
                full[sym] = expr.xreplace(free)
            phi = _fields_from_vevs(model, full)
            entry["vevs"] = {name: _json_float(_num(full[v])) for name, v in model.vacuum.vevs}
            entry["potential_compiled"] = _json_float(V.value(V.point(phi)), 15)
            w = np.linalg.eigvalsh(V.hessian(V.point(phi)))
            entry["local_minimum"] = bool(w[0] >= -1e-7 * max(abs(w[-1]), 1.0))
        else:
            entry["vevs"] = None
            entry["note"] = "a squared vev is negative: no real point"
        out.append(entry)
    return out


@dataclass(frozen=True)
class PointPieces:
    """What :func:`evaluate` needs at every point of one derivation and that does not depend on
    the point, derived once (the pipeline's ``point_pieces`` stage, stored with the other
    stages): V expanded in x = (Re phi, Im phi) with the parameters as symbols
    (``expansion_terms``, the terms of :class:`~symflav.numerics.minimizer.PotentialExpansion`)
    and the unperturbed-mass expressions of the observables (``unperturbed``: choice ->
    field -> expression, :func:`~symflav.numerics.observables.unperturbed_mass_coefficients`)
    and the loop functions their closures evaluate (``loop_functions``,
    :func:`~symflav.numerics.observables.closure_loop_keys`: with vev insertions on the heavy
    line, they are not all in the loops stage); both empty without a flavor sector, where no
    observable is evaluated."""

    expansion_terms: tuple
    unperturbed: dict
    loop_functions: tuple = ()


def point_pieces(model, results) -> PointPieces:
    """:class:`PointPieces` of a derivation (``results``: its stages, ``potential`` at least)."""
    expansion = numeric.PotentialExpansion(results["potential"])
    fl = available(results, "flavor")
    if fl is None:
        return PointPieces(expansion.terms, {})
    unperturbed = {choice: observables.unperturbed_mass_coefficients(model, results, choice)
                   for choice in ("bilinear", "vacuum")}
    obs = available(results, "observables")
    keys = observables.closure_loop_keys(fl, obs.transitions if obs is not None else ())
    return PointPieces(expansion.terms, unperturbed, tuple(loops.loop_function(*loops.parse_key(k)) for k in keys))


def _pieces(derivation) -> tuple:
    """(PotentialExpansion, observables.Prepared) from the stored ``point_pieces`` stage, or
    derived here when the derivation does not hold it (the same pieces)."""
    pieces = available(derivation.results, "point_pieces") or point_pieces(derivation.model, derivation.results)
    return (numeric.PotentialExpansion(derivation["potential"], pieces.expansion_terms),
            observables.Prepared(pieces.unperturbed, observables.LoopValues({f.key: f for f in pieces.loop_functions})))


def evaluate(derivation, point: str | None = None, overrides=None, *, starts: int = 32,
             seed: int = 20200316, statement=None) -> dict:
    """The ``spectrum`` JSON (README contract plus ``routes``, ``printed``, ``findings``);
    ``statement(derivation, point, evaluated)``: what a study shows beside the observables."""
    model = derivation.model
    overrides = dict(overrides or {})
    values_by_name, source, name = point_values(model, point, overrides)
    given = given_symbols(model, values_by_name)
    vev_syms = [v for _, v in model.vacuum.vevs]
    given_vevs = {v: given[v] for v in vev_syms} if all(v in given for v in vev_syms) else None
    without_vevs = {k: v for k, v in given.items() if k not in vev_syms}
    spectrum = available(derivation.results, "spectrum")
    routes: dict[str, dict] = {}
    findings: list[str] = []
    expansion, prepared = _pieces(derivation)
    search = (given_vevs, starts, seed, findings, expansion)
    routes["as_given"], vacuum1, missing = _route_as_given(derivation, without_vevs, *search)
    routes["relations_imposed"], vacuum2, missing2 = _route_relations(derivation, without_vevs, spectrum, *search)
    routes["vevs_with_mu_eliminated"], vacuum3 = _route_eliminated(model, derivation, given, spectrum, starts, seed,
                                                                    findings, search[-1])
    _no_route_without_values(model, name, routes, missing, missing2)
    vacua = {
        "as_given": vacuum1 if routes["as_given"].get("available") else None,
        "relations_imposed": vacuum2 if routes["relations_imposed"].get("available") else None,
        "vevs_with_mu_eliminated": (vacuum3.values, vacuum3.vevs, vacuum3.exact) if vacuum3 else None,
    }
    printed = printed_table(model, name)
    observables_json = _observables(derivation, name, vacua, findings, printed, statement, prepared)
    _perturbative_findings(routes, findings)
    primary = next((r for r in ROUTES if routes.get(r, {}).get("available")), None)
    top = routes.get(primary, {}) if primary else {}
    if printed:
        _printed_findings(printed, routes, findings)
    banner = model.banner()
    return {
        "derivation": model.name,
        "point": name,
        "source": source,
        **({"differs_from_printed_reference": banner} if banner else {}),
        "notes": list(model.notes),
        "overrides": {k: str(v) for k, v in sorted(overrides.items())},
        "conventions": conventions_json(model),
        "primary_route": primary,
        "vevs": top.get("vevs"),
        "potential_min": top.get("potential_min"),
        "scalar_masses": top.get("scalar_masses", []),
        "pseudoscalar_masses": top.get("pseudoscalar_masses", []),
        "U_S": top.get("U_S", []),
        "U_P": top.get("U_P", []),
        "perturbative": _perturbative_summary(derivation, routes, spectrum),
        "minimum_check": top.get("minimum_check", {}),
        "observables": observables_json,
        "routes": routes,
        "printed": printed,
        "findings": findings,
    }


def _potential_symbols(derivation) -> set:
    pot = derivation["potential"]
    return {s for s in pot.expr.free_symbols if s not in pot.phi + pot.phibar}


def _route_as_given(derivation, given, given_vevs, starts, seed, findings, expansion):
    """Route 1, the parameters as given: (route, (values, vevs, exact) or None, missing names).
    ``given`` without the vevs; the global minimum of the full potential, compared with the
    given vevs when there are any."""
    model = derivation.model
    description = "parameters as given; global minimum of the full potential"
    values, filled = _fill_missing(model, given)
    missing = sorted(s.name for s in _potential_symbols(derivation) if s not in values)
    if missing:
        return {"available": False, "reason": "no value for " + ", ".join(missing), "description": description}, \
            None, missing
    route, _, exact, vevs = _route_search(model, derivation, values, given_vevs, "as_given", starts, seed, expansion)
    route["description"] = description
    route["filled_from_relations"] = filled
    if given_vevs is not None and route.get("available"):
        g = route["given_vevs"]
        if not g["stationary"]:
            findings.append("as given: the given vevs are not a stationary point of the potential "
                            f"(tadpoles {', '.join(f'{t:.4g}' for t in g['tadpoles'])} GeV^3)")
        if g["gap_to_global"] and g["gap_to_global"] > TOL_GLOBAL * abs(route["potential_min"]):
            findings.append(f"as given: the global minimum is at {route['vevs']}, "
                            f"V lower by {g['gap_to_global']:.6g} GeV^4 than at the given vevs")
    return route, (values, vevs, exact), missing


def _route_relations(derivation, given, spectrum, given_vevs, starts, seed, findings, expansion):
    """Route 2, every relation imposed on the given parameters: (route, (values, vevs, exact) or
    None, missing names); the closed-form stationary points and, when the global minimum has
    the alignment, the perturbative spectrum beside the exact one."""
    model = derivation.model
    description = ("every relation of the derivation imposed on the given parameters; "
                   "global minimum of the full potential")
    values, conflicts = _relations_applied(model, given)
    missing = sorted(s.name for s in _potential_symbols(derivation) if s not in values)
    if missing:
        return {"available": False, "reason": "no value for " + ", ".join(missing), "description": description}, \
            None, missing
    route, V, exact, vevs = _route_search(model, derivation, values, given_vevs, "relations_imposed", starts, seed,
                                           expansion)
    route["description"] = description
    route["conflicts"] = conflicts
    if route.get("available"):
        route["closed_form_points"] = _closed_form_points(model, derivation, values, V)
        if route["aligned"] and spectrum is not None and spectrum.stationary and vevs:
            pert = _perturbative_at(spectrum, values, vevs)
            if pert:
                route["perturbative"] = _compare(exact, pert, spectrum)
                effective = _effective_at(derivation, values, vevs)
                if effective:
                    route["perturbative"]["effective_blocks"] = _effective_compare(exact, effective)
        elif not route["aligned"]:
            route["perturbative"] = None
            route["perturbative_note"] = "the global minimum does not have the alignment: formulas do not apply"
    for c in conflicts:
        findings.append(f"relation {c['parameter']} = {c['relation']} gives {_text(c['relation_value'])}, "
                        f"the point has {_text(c['given'])}")
    return route, (values, vevs, exact), missing


def _perturbative_findings(routes, findings) -> None:
    """A finding for every route whose perturbative masses are off by more than 5%."""
    for route_name in ROUTES:
        pert = routes.get(route_name, {}).get("perturbative")
        if not pert:
            continue
        poor = [r for r in pert["scalar_states"] + pert["pseudoscalar_states"]
                if r["relative_error"] is not None and abs(r["relative_error"]) > 0.05]
        if poor:
            findings.append(f"{route_name}: perturbative masses off by more than 5% for "
                            + ", ".join(f"{r['state']} ({r['perturbative']:.4g} vs exact {r['exact']:.4g} GeV, "
                                        f"eigenvector overlap {r['eigenvector_overlap']:.3f})" for r in poor)
                            + ": the expansion in eps is not reliable for these states at this point "
                              "(nearly degenerate states mixed at higher order)")


def _perturbative_summary(derivation, routes, spectrum) -> dict:
    """The top-level ``perturbative`` entry: that of the first route (mu^2 eliminated, then
    relations imposed) where the formulas apply, or a note why there is none."""
    pert_route = next((r for r in ("vevs_with_mu_eliminated", "relations_imposed")
                       if routes.get(r, {}).get("perturbative")), None)
    perturbative = dict(routes[pert_route]["perturbative"]) if pert_route else {
        "scalar_masses": [], "pseudoscalar_masses": [], "note": "no route where the formulas apply"}
    if pert_route:
        perturbative["route"] = pert_route
    elif spectrum is None:
        perturbative["note"] = f"not available: {_spectrum_reason(derivation)}"
    return perturbative


class MissingValues(ValueError):
    """The point gives no value for these parameters (names)."""

    def __init__(self, names):
        self.names = tuple(names)
        super().__init__("no value for " + ", ".join(self.names))


def _spectrum_reason(derivation) -> str:
    value = derivation.results.get("spectrum")
    return getattr(value, "reason", "the spectrum stage did not run")


@dataclass(frozen=True)
class EliminatedVacuum:
    """The vacuum of a point with its free vevs given: the alignment and the relations imposed,
    the mu^2 eliminated with the tadpoles, and the exact spectrum there.

    ``values``: parameter symbol -> number (a mu with mu^2 < 0 is sqrt of a negative number:
    only mu**2 enters V); ``vevs``: vev symbol -> number; ``mu_squared``: mu -> mu^2.
    """

    values: dict
    vevs: dict
    mu_squared: dict
    conflicts: list
    exact: numeric.ExactSpectrum


def eliminated_vacuum(derivation, given: dict) -> EliminatedVacuum | None:
    """:class:`EliminatedVacuum` for the given values (symbol -> number), or None when the point
    does not give the free vevs. The spectrum is from the symbolic vacuum mass matrices
    (``mass_matrices.M_S2_vacuum``, ``M_P2_vacuum``) evaluated there, numpy ``eigh``."""
    model = derivation.model
    tadpoles = derivation["tadpoles"]
    masses = derivation["mass_matrices"]
    free = tadpoles.free_vevs
    if not all(v in given for v in free):
        return None
    base, conflicts = _relations_applied(model, {k: v for k, v in given.items()})
    vevs = {v: given[v] for v in free}
    for sym, expr in tadpoles.alignment:
        value = expr.xreplace(vevs)
        if sym in given and given[sym] != value:
            conflicts.append({"parameter": sym.name, "given": _json_float(_num(given[sym])),
                              "relation": f"alignment {sym} = {expr}", "relation_value": _json_float(_num(value))})
        vevs[sym] = value
    values = {k: v for k, v in base.items() if k not in vevs}
    mu2 = {}
    for mu, expr in tadpoles.eliminated:
        value = sp.expand(expr.xreplace({**values, **vevs}))
        mu2[mu] = value
        values[mu] = sp.sqrt(value)
    dependent = {sym for sym, _ in model.relations}
    values, _ = _fill_missing(model, {k: v for k, v in values.items() if k not in dependent})
    all_values = {**values, **vevs}
    needed = masses.M_S2_vacuum.free_symbols | masses.M_P2_vacuum.free_symbols
    missing = sorted(str(sym) for sym in needed if sym not in all_values)
    if missing:
        raise MissingValues(missing)
    M_S = np.array([[_num(x.xreplace(all_values)) for x in row] for row in masses.M_S2_vacuum.tolist()])
    M_P = np.array([[_num(x.xreplace(all_values)) for x in row] for row in masses.M_P2_vacuum.tolist()])
    wS, US = np.linalg.eigh(M_S)
    wP, UP = np.linalg.eigh(M_P)
    exact = numeric.ExactSpectrum(M_S, M_P, wS, wP, numeric._fix_signs(US), numeric._fix_signs(UP), True)
    return EliminatedVacuum(values, vevs, mu2, conflicts, exact)


def _route_eliminated(model, derivation, given, spectrum, starts, seed, findings, expansion) -> dict:
    tadpoles = derivation["tadpoles"]
    free = tadpoles.free_vevs
    try:
        vacuum = eliminated_vacuum(derivation, given)
    except MissingValues as exc:
        return {"available": False, "reason": str(exc), "missing": list(exc.names)}, None
    if vacuum is None:
        return {"available": False, "reason": "the point does not give the free vevs "
                + ", ".join(str(v) for v in free)}, None
    values, vevs, mu2, exact = vacuum.values, vacuum.vevs, vacuum.mu_squared, vacuum.exact
    route = {"description": "given free vevs, alignment and relations imposed, mu^2 eliminated with the "
                            "tadpoles", "available": True, "conflicts": vacuum.conflicts}
    if not tadpoles.stationary:
        route["stationary"] = False
        route["note"] = ("the alignment is not a stationary point for generic parameters: "
                         + "; ".join(f"{c} = 0" for c in tadpoles.constraints))
        residual = [_num(c.xreplace({**values, **vevs})) if c.free_symbols <= set(values) | set(vevs) else None
                    for c in tadpoles.constraints]
        route["constraint_values"] = [_json_float(r) if r is not None else None for r in residual]
    for mu, value in mu2.items():
        if mu in given:
            findings.append(f"{ELIMINATED} route: {mu}^2 = {_num(value):.6g} GeV^2 from the tadpoles, "
                            f"the point has {mu}^2 = {_num(given[mu] ** 2):.6g}")
        if _num(value) < 0:
            findings.append(f"{ELIMINATED} route: {mu}^2 = {_num(value):.6g} < 0 (no real {mu}: "
                            "the quadratic term has the other sign)")
    route["mu_squared"] = {str(mu): _json_float(_num(v)) for mu, v in mu2.items()}
    route["vevs"] = {name: _json_float(_num(vevs[v])) for name, v in model.vacuum.vevs}
    M_S, M_P = exact.M_S2, exact.M_P2
    wS, wP = exact.scalar_masses2, exact.pseudoscalar_masses2
    route.update(_spectrum_json(exact))
    V = expansion.at(values)
    phi = _fields_from_vevs(model, vevs)
    hessian = numeric.exact_spectrum(V, phi)
    route["hessian_cross_check"] = _json_float(max(np.max(np.abs(hessian.M_S2 - M_S)),
                                                   np.max(np.abs(hessian.M_P2 - M_P))) /
                                               max(np.max(np.abs(M_S)), 1.0), 3)
    x = V.point(phi)
    route["potential_at_vacuum"] = _json_float(V.value(x), 15)
    group = numeric.rephasing_group(derivation["operators"], values)
    search = numeric.find_minima(V, [("aligned vevs", phi)], starts=starts, seed=seed,
                                 scale=_scale(values, vevs))
    route["minimum_check"] = _search_json(search, model, group)
    gap = V.value(x) - search.best.value if search.minima else None
    local = bool(min(wS[0], wP[0]) >= -1e-7 * max(abs(wS[-1]), 1.0))
    route["local_minimum"] = local
    route["gap_to_global"] = _json_float(gap, 6) if gap is not None else None
    gradient = np.max(np.abs(V.gradient(x))) / max(abs(V.value(x)) / max(abs(_num(v)) for v in vevs.values()), 1.0)
    stationary = bool(gradient < 1e-9)
    route["stationary_here"] = stationary
    is_global = bool(stationary and local and gap is not None and gap <= TOL_GLOBAL * abs(V.value(x)) + 1e-6)
    route["requested_alignment_is_global_minimum"] = is_global
    if not is_global:
        where = route["minimum_check"]["distinct_minima"][0]["vevs"] if search.minima else "?"
        what = ("not a stationary point" if not stationary else
                "a local minimum but not the global one" if local else "a saddle point (some m^2 < 0)")
        findings.append(f"{ELIMINATED} route: the aligned point is {what}; the global minimum is at {where}, "
                        f"lower by {gap:.6g} GeV^4")
    if spectrum is not None and spectrum.scalars:
        pert = _perturbative_at(spectrum, values, vevs)
        route["perturbative"] = _compare(exact, pert, spectrum)
        effective = _effective_at(derivation, values, vevs)
        if effective:
            route["perturbative"]["effective_blocks"] = _effective_compare(exact, effective)
    return route, vacuum


def _observables(derivation, point, vacua, findings, printed=None, statement=None, prepared=None) -> dict:
    """The ``observables`` object: Delta a_l and c_l of every lepton on the vacuum with the given
    free vevs, by the mass-insertion formulas and in the mass basis, the same on the other
    routes' vacua (``by_route``), the printed values of the point's table beside them, and the
    study's statement (``statement``) when it has one (``prepared``: the observables' pieces of
    this derivation, derived here when None)."""
    if available(derivation.results, "flavor") is None or not derivation["flavor"].leptons:
        reason = getattr(derivation.results.get("flavor"), "reason", "no flavor stage")
        return {"available": False, "reason": reason}
    evaluated: dict[str, dict] = {}
    prepared = prepared or observables.Prepared.of(derivation)
    for name in ROUTES:
        vacuum = vacua.get(name)
        if vacuum is None:
            evaluated[name] = {"available": False, "reason": "the route has no vacuum"}
            continue
        values, vevs, exact = vacuum
        if vevs is None:
            evaluated[name] = {"available": False, "reason": "complex vevs: CP-even and CP-odd states mix"}
            continue
        if min(np.min(exact.scalar_masses2), np.min(exact.pseudoscalar_masses2)) <= 0:
            evaluated[name] = {"available": False, "reason": "a squared mass is not positive there"}
            continue
        spectrum = {"scalar_masses": np.sqrt(exact.scalar_masses2), "pseudoscalar_masses": np.sqrt(exact.pseudoscalar_masses2),
                    "U_S": exact.U_S, "U_P": exact.U_P}
        evaluated[name] = observables.evaluate(derivation, {**values, **vevs}, spectrum, route=name, point=point,
                                               prepared=prepared)
    main = evaluated.get(ELIMINATED, {})
    if "reason" in main:
        return {"available": False, "reason": f"{ELIMINATED}: {main['reason']}",
                "by_route": {k: v for k, v in evaluated.items() if "reason" in v}}
    caption = printed or {}
    others = {k: v for k, v in evaluated.items() if k != ELIMINATED}
    out = observables.spectrum_json(main, others, caption)
    if statement is not None:
        values, vevs, _ = vacua[ELIMINATED]
        said = statement(derivation, point, main, {**values, **vevs})
        if said:
            out["printed_statement"] = observables._plain(said["json"])
            out["statement_rows"] = [[label, observables._plain(row)] for label, row in said.get("rows", ())]
            if said.get("table"):  # the study's own table: {"title": str, "lines": [str]}
                out["statement_table"] = observables._plain(said["table"])
            findings.extend(f.format(**{k: out[k]["mass_basis"] for k in observables.observable_keys(main)})
                            for f in said.get("findings", ()))
    return out


def observables_at(derivation, point: str | None = None, overrides=None) -> dict:
    """Delta a_l, c_l, C_ll, m^FN, m^RAD and BR(l -> l' gamma) on the vacuum of ``point`` with its
    free vevs given (the ``vevs_with_mu_eliminated`` route, ``overrides`` applied), by every
    route of :func:`symflav.numerics.observables.evaluate`, with its exact spectrum."""
    model = derivation.model
    given_by_name, _, name = point_values(model, point, dict(overrides or {}))
    vacuum = eliminated_vacuum(derivation, given_symbols(model, given_by_name))
    if vacuum is None:
        raise ValueError(f"point {name!r}: no free vevs given, no vacuum with the mu^2 eliminated")
    exact = vacuum.exact
    spectrum = {"scalar_masses": np.sqrt(np.abs(exact.scalar_masses2)) * np.sign(exact.scalar_masses2),
                "pseudoscalar_masses": np.sqrt(np.abs(exact.pseudoscalar_masses2)) * np.sign(exact.pseudoscalar_masses2),
                "U_S": exact.U_S, "U_P": exact.U_P}
    return observables.evaluate(derivation, {**vacuum.values, **vacuum.vevs}, spectrum, route=ELIMINATED, point=name)


# ------------------------------------------------------------------ printed values and conventions


def printed_table(model, point_name: str) -> dict | None:
    """The printed-registry table whose ``point`` is this point, as printed: masses (by the
    printed labels) and the caption's values (by observable key, e.g. ``delta_a_mu``)."""
    printed = read_printed(model)
    for label, table in sorted(printed.get("tables", {}).items()):
        if table.get("point") == point_name:
            # spectrum = {m_S1 = "123", ...}; caption = {delta_a_mu = "1.6e-9", ...} (strings, as printed)
            masses = {k.removeprefix("m_"): float(v) for k, v in table.get("spectrum", {}).items()}
            scalars = sorted((k, v) for k, v in masses.items() if k.startswith("S"))
            pseudos = sorted((k, v) for k, v in masses.items() if k.startswith("P"))
            out = {"table": label, "masses": masses,
                   "scalar_masses": sorted(v for _, v in scalars),
                   "pseudoscalar_masses": sorted(v for _, v in pseudos),
                   "note": "printed masses in GeV; compared after sorting each CP block ascending"}
            for key, value in table.get("caption", {}).items():
                out[key] = float(value)
            return out
    return None


def _printed_findings(printed, routes, findings):
    for route_name in ROUTES:
        route = routes.get(route_name, {})
        if not route.get("available") or "scalar_masses" not in route:
            continue
        diffs = []
        for key in ("scalar_masses", "pseudoscalar_masses"):
            for p, c in zip(printed[key], route[key]):
                if c is not None and p:
                    diffs.append(abs(c - p) / abs(p))
        if diffs:
            findings.append(f"{route_name}: exact masses differ from the printed ones by up to "
                            f"{100 * max(diffs):.3g}% (ascending order per CP block)")
        pert = route.get("perturbative")
        if pert:
            diffs = []
            for key in ("scalar_masses", "pseudoscalar_masses"):
                for p, c in zip(printed[key], sorted(x for x in pert[key] if x is not None)):
                    diffs.append(abs(c - p) / abs(p))
            findings.append(f"{route_name}: perturbative masses differ from the printed ones by up to "
                            f"{100 * max(diffs):.3g}%")


def conventions_json(model) -> dict:
    conv = model.conventions
    out = dict(conv.as_dict())
    out["statement"] = conv.describe()
    out["vevs"] = ("v_i = <phi_i>" if conv.field_expansion == "unnormalized" else "v_i = sqrt(2) <phi_i>") + \
        " at the minimum, rephased to real values by symmetries of the potential (explicit breaking included) when possible; " \
        "the first nonzero vev is made positive by such a symmetry"
    out["mixing"] = ("sigma = U_S S, varphi = U_P P: columns of U are the eigenvectors, U^T M^2 U = diag "
                     "(ascending); each column's largest component is positive")
    out["units"] = "GeV (masses, vevs), GeV^4 (potential); negative mass = tachyonic (m^2 < 0)"
    return out


# ------------------------------------------------------------------ text report


def _row(label: str, values, width: int = 11) -> str:
    cells = "".join(f"{'-' if v is None else format(v, '.6g' if abs(v) >= 1e-3 or v == 0 else '.2e'):>{width}}"
                    for v in values)
    return f"    {label:<18}{cells}"


def format_text(result: dict) -> str:
    """A readable report of :func:`evaluate` (the JSON has everything)."""
    lines = _header_text(result)
    banner = result.get("differs_from_printed_reference")
    printed = result.get("printed")
    for name in ROUTES:
        route = result["routes"].get(name)
        if route is None:
            continue
        lines.append("")
        lines.append(f"[{name}] {route.get('description', '')}")
        if not route.get("available"):
            lines.append(f"  not available: {route.get('reason')}")
            continue
        lines.extend(_route_vacuum_text(route))
        lines.extend(_route_masses_text(route, printed, banner))
    lines.extend(_observables_text(result.get("observables") or {}, printed))
    table = (result.get("observables") or {}).get("statement_table")
    if table:  # a study's own table: {"title": str, "lines": [str]}
        lines.extend(["", f"[{table['title']}]"] + [f"  {line}" for line in table["lines"]])
    if result["findings"]:
        lines.append("")
        lines.append("findings:")
        lines.extend(f"  - {f}" for f in result["findings"])
    return "\n".join(lines)


def _header_text(result: dict) -> list[str]:
    """The point, its overrides, the banner of a changed derivation, notes and conventions."""
    lines = [f"symflav spectrum: {result['derivation']}, point {result['point']}"
             + (f" ({result['source']})" if result["source"] else "")]
    if result["overrides"]:
        lines.append("  --set " + ", ".join(f"{k}={v}" for k, v in result["overrides"].items()))
    banner = result.get("differs_from_printed_reference")
    if banner:
        changed = ", ".join(f"{c['field']}.{c['symmetry']} {c['file']} -> {c['now']}" for c in banner["charges_changed"])
        lines.append(f"  charges changed: {changed}: {banner['note']}")
    lines.extend(f"  note: {note}" for note in result.get("notes", ()))
    conv = result["conventions"]
    for text in conv["statement"].values():
        lines.append(f"  convention: {text}")
    lines.append(f"  convention: {conv['units']}; masses ascending per CP block")
    return lines


def _route_vacuum_text(route: dict) -> list[str]:
    """The vacuum of one route: imposed relations, mu^2, vevs, V, the minimum search, the aligned
    and the given vevs, the closed-form stationary points."""
    lines = []
    for c in route.get("conflicts", []):
        lines.append(f"  imposed {c['parameter']} = {c['relation']} = {_text(c['relation_value'])} "
                     f"(point: {_text(c['given'])})")
    if route.get("note"):
        lines.append(f"  note: {route['note']}")
    if "mu_squared" in route:
        lines.append("  mu^2 from the tadpoles (GeV^2): "
                     + ", ".join(f"{k}^2 = {v:.6g}" for k, v in route["mu_squared"].items()))
    vevs = ", ".join(f"{k} = {v:.6g}" if isinstance(v, float) else f"{k} = {v}" for k, v in route["vevs"].items())
    lines.append(f"  vevs (GeV): {vevs}")
    V = route.get("potential_min", route.get("potential_at_vacuum"))
    lines.append(f"  V = {V:.10g} GeV^4" + (f"; alignment holds: {'yes' if route.get('aligned') else 'no'}"
                                              if "aligned" in route else ""))
    check = route.get("minimum_check", {})
    if check:
        minima = check.get("distinct_minima", [])
        lines.append(f"  minimum search: {check['starts']} starts (seed {check['seed']}), {check['converged']} "
                     f"converged, {len(minima)} distinct minima"
                     + ("; gaps to the global one (GeV^4): " + ", ".join(f"{m['gap_to_global']:.4g}" for m in minima[1:])
                        if len(minima) > 1 else ""))
    if "requested_alignment_is_global_minimum" in route:
        lines.append(f"  aligned point: stationary {'yes' if route['stationary_here'] else 'NO'}; "
                     f"local minimum {'yes' if route['local_minimum'] else 'NO'}; global minimum "
                     f"{'yes' if route['requested_alignment_is_global_minimum'] else 'NO'}"
                     f" (gap {route['gap_to_global']:.4g} GeV^4)")
    given = route.get("given_vevs")
    if given:
        lines.append(f"  given vevs: {'stationary' if given['stationary'] else 'NOT stationary'} "
                     f"(tadpoles {', '.join(f'{t:.4g}' for t in given['tadpoles'])} GeV^3); "
                     f"V - V_min = {given['gap_to_global']:.6g} GeV^4")
    for p in route.get("closed_form_points", []):
        if p.get("vevs") is None:
            lines.append(f"  closed form {p['name']}: no real point ({p['vev_squares']})")
            continue
        lines.append(f"  closed form {p['name']}: V = {p['potential']:.10g} GeV^4 at "
                     + ", ".join(f"{k} = {v:.6g}" for k, v in p["vevs"].items())
                     + f"; local minimum: {'yes' if p['local_minimum'] else 'no'}")
    return lines


def _route_masses_text(route: dict, printed: dict | None, banner) -> list[str]:
    """The mass table of one route: exact, perturbative (and its effective blocks), printed."""
    n_s = len(route["scalar_masses"])
    header = [f"S{i}" for i in range(1, n_s + 1)] + [f"P{i}" for i in range(1, len(route["pseudoscalar_masses"]) + 1)]
    lines = [_row("masses (GeV)", []) + "".join(f"{h:>11}" for h in header),
             _row("exact", route["scalar_masses"] + route["pseudoscalar_masses"])]
    pert = route.get("perturbative")
    if pert:
        lines.append(_row("perturbative", [r["perturbative"] for r in pert["scalar_states"]]
                          + [r["perturbative"] for r in pert["pseudoscalar_states"]]))
        lines.append(_row("relative error", [r["relative_error"] for r in pert["scalar_states"]]
                          + [r["relative_error"] for r in pert["pseudoscalar_states"]]))
        eff = pert.get("effective_blocks")
        if eff:
            lines.append(_row(f"eff. blocks e^{eff['order']}", eff["scalar_masses"] + eff["pseudoscalar_masses"]))
            lines.append(_row("relative error", eff["scalar_relative_error"] + eff["pseudoscalar_relative_error"]))
    elif route.get("perturbative_note"):
        lines.append(f"    perturbative: {route['perturbative_note']}")
    if printed:
        other = ", other charges" if banner else ""
        lines.append(_row(f"printed (Table {printed['table']}{other})",
                          printed["scalar_masses"] + printed["pseudoscalar_masses"]))
    return lines


def _observables_text(obs: dict, printed: dict | None = None) -> list[str]:
    if not obs:
        return []
    if not obs.get("route"):
        return ["", f"[observables] not available: {obs.get('reason', '')}"]
    keys = [k for k in obs if k.startswith(("delta_a_", "c_"))]
    lines = ["", f"[observables] on the {obs['route']} vacuum (x = m/M, M the mediator mass; "
                 "Delta a_l in the basis m_l > 0)",
             _row("", []) + "".join(f"{k:>11}" for k in keys)]
    labels = [("mass_insertion", "mass insertion"), ("mass_insertion_vacuum", "MI, vacuum masses"),
              ("mass_basis", "mass basis")]
    if printed:
        labels.append(("printed", f"printed (Table {printed['table']})"))
    for key, label in labels:
        lines.append(_row(label, [obs[k].get(key) for k in keys]))
    for label, row in obs.get("statement_rows", ()):
        lines.append(_row(label, [row.get(k) for k in keys]))
    fixed = obs["details"].get("mass_basis", {}).get("lepton_masses_fixed", {})
    leptons = [k.removeprefix("delta_a_") for k in keys if k.startswith("delta_a_")]
    if leptons and set(fixed) >= set(leptons):
        lines.append(_row("basis, m_l fitted", [fixed[l]["delta_a"] for l in leptons] + [fixed[l]["c"] for l in leptons]))
    for name, other in (obs.get("by_route") or {}).items():
        if "reason" in other:
            lines.append(f"    {name}: not available ({other['reason']})")
        else:
            short = {"as_given": "as given", "relations_imposed": "relations"}.get(name, name)
            lines.append(_row(f"{short} (basis)", [other[k]["mass_basis"] for k in keys]))
    x = obs["details"]["x"]["mass_insertion"]
    lines.append("    x (mass insertion, sqrt|mu^2|/M): " + ", ".join(f"{k} = {v:.4g}" for k, v in x.items()))
    lines.append("    m_l fitted: g_l rescaled so that |m^FN + m^RAD| = m_l^exp (c_l = |m^RAD/m_l|)")
    decays = obs["details"].get("mass_basis", {}).get("radiative_decays", {})
    for key, decay in decays.items():
        value = "n/a" if decay["value"] is None else f"{decay['value']:.3g}"
        lines.append(f"    {key} (mass basis): {value}" + (f" ({decay['reason']})" if "reason" in decay else ""))
    return lines
