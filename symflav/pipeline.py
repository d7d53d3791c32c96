"""The driver: runs the stages in order and reports time and size per stage, and the
:class:`Study` hook through which a paper adds what only it needs.

Each stage is a pure function of earlier results (a mapping name -> result); the
driver only composes them, so a stage never depends on hidden state or call order.
Order: the generic stages (:data:`STAGES`), the study's own stages, then the final
stages -- ``codegen`` (exports what the stages before it derived), ``viability``
(samples the declared scans with it), the study's final stages (figures, say) and
``checks`` (the comparison with a printed registry, when there is one).

A stage that does not apply to the model returns :class:`~symflav.core.stages.Unavailable`
with the reason; later stages see it as absent and the outputs say so.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import pickle
import time
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Callable, Mapping

import sympy as sp

from symflav.codegen import assemble
from symflav.core import background, serialize, spec, symbols
from symflav.core.cache import NO_CACHE, Cache
from symflav.core.files import input_hash
from symflav.core.model import Model
from symflav.core.stages import Derivation, Rederive, Stage, StageReport, Unavailable, available
from symflav.numerics import points, viability
from symflav.physics import flavor, hessian, invariants, loops, observables, perturbative, potential, vacuum
from symflav.report.sections import Section
from symflav.verify import checks
from symflav.verify.providers import Provider


def _ops(expr) -> int:
    return int(sp.count_ops(expr, visual=False))


def _spectrum(model: Model, r):
    result = perturbative.spectrum(model, r["operators"], r["tadpoles"], r["mass_matrices"])
    if not result.scalars and not result.pseudoscalars:
        return Unavailable("; ".join(result.notes) or "no perturbative spectrum")
    return result


def _flavor(model: Model, r):
    if model.yukawa is None or not model.fermions:
        return Unavailable("the model declares no fermions or no [yukawa] table: no Froggatt-Nielsen sector")
    return flavor.derive_flavor(model, r)


def _size(measure: Callable[[Any], int]) -> Callable[[Any], int]:
    return lambda result: 0 if isinstance(result, Unavailable) else measure(result)


STAGES: list[Stage] = [
    Stage(
        "operators",
        lambda model, r: invariants.operator_table(model, r["_degree"]),
        lambda table: len(table.operators),
        "invariant operators",
    ),
    Stage(
        "potential",
        lambda model, r: potential.build_potential(r["operators"]),
        lambda pot: _ops(pot.expr),
        "potential V(phi, phi^dagger)",
    ),
    Stage(
        "real_potential",
        lambda model, r: potential.expand_real(r["potential"], [v for _, v in model.vacuum.vevs]),
        lambda real: _ops(real.expr),
        "V in real components",
    ),
    Stage(
        "tadpoles",
        lambda model, r: vacuum.tadpoles(model, r["real_potential"], r["operators"]),
        lambda t: sum(_ops(e) for e in t.general + t.imposed),
        "tadpoles, elimination, stationary points",
    ),
    Stage(
        "mass_matrices",
        lambda model, r: hessian.mass_matrices(model, r["real_potential"], r["tadpoles"]),
        lambda m: _ops(m.M_S2_vacuum) + _ops(m.M_P2_vacuum),
        "scalar mass matrices at the vacuum",
    ),
    Stage(
        "spectrum",
        _spectrum,
        _size(lambda s: sum(_ops(m) for m in s.scalar_masses2 + s.pseudoscalar_masses2)),
        "perturbative spectrum in the small parameter",
    ),
    Stage(
        "loops",
        lambda model, r: loops.derive_loops(model, r),
        lambda res: sum(_ops(f.closed_form) for f in res.functions),
        "loop functions from Feynman parameters",
        independent=True,
        adopt=loops.adopt,
    ),
    Stage(
        "flavor",
        _flavor,
        _size(lambda res: sum(_ops(s.m_FN) + _ops(s.m_RAD) for s in res.leptons)),
        "FN chains, tree and radiative masses",
    ),
    Stage(
        "observables",
        lambda model, r: observables.derive_observables(model, r),
        _size(lambda res: sum(_ops(e) for _, _, e in res.relations)),
        "g-2, EDM, l -> l' gamma, flavon couplings",
    ),
]


def available_results(results: Mapping[str, Any]) -> Mapping[str, Any]:
    """The results of the stages that ran and apply to the model (no :class:`Unavailable`)."""
    return MappingProxyType({k: v for k, v in results.items() if not isinstance(v, Unavailable)})


@dataclass(frozen=True)
class Study:
    """What one paper adds on top of the generic toolkit (``symflav.studies``).

    * ``stages``: extra stages; the non-final ones run after the generic stages, the final
      ones after ``codegen`` and ``viability`` and before ``checks``;
    * ``providers``: derived objects named by the paper's printed registry (merged with the
      generic ones of :data:`symflav.verify.checks.PROVIDERS`);
    * ``scans``: named scans of ``symflav scan --scan NAME``, each a function
      ``(derivation, points, seed, chunk, grid) -> (ScanPlan, evaluator)``;
    * ``report_sections``: extra sections of ``report.tex`` (:class:`symflav.report.sections.Section`);
    * ``references``: derived object -> where the paper prints it (shown beside it, never used);
    * ``exports``: names of study stages whose ``formulas`` (and ``formula_units``) go into the
      generated numeric module, before the generic formulas;
    * ``drawers``: stage name -> ``figure_files(result) -> {path: bytes}`` (drawn in the background);
    * ``outputs``: ``(derivation) -> {path: text}``, extra files of ``symflav derive``;
    * ``spectrum_statement``: ``(derivation, point, evaluated, values) -> dict | None``, what
      ``symflav spectrum`` shows beside the observables of a point (the paper's statement):
      ``{"json": ..., "rows": [(label, {observable key: value})], "findings": [text]}``.
    """

    name: str
    stages: tuple[Stage, ...] = ()
    providers: Mapping[str, Provider] = field(default_factory=dict)
    scans: Mapping[str, Callable] = field(default_factory=dict)
    report_sections: tuple[Section, ...] = ()
    references: Mapping[str, str] = field(default_factory=dict)
    exports: tuple[str, ...] = ()
    drawers: Mapping[str, Callable[[Any], dict[str, bytes]]] = field(default_factory=dict)
    outputs: Callable[[Derivation], dict[str, str]] | None = None
    spectrum_statement: Callable[..., dict | None] | None = None


def _codegen(study: Study | None) -> Stage:
    exports = study.exports if study else ()
    return Stage(
        "codegen",
        lambda model, r: assemble.numeric_module(model, available_results(r), exports=exports),
        lambda module: module.operations,
        "numeric module numeric.py (numpy)",
        final=True,
    )


VIABILITY = Stage(
    "viability",
    lambda model, r: viability.derive_viability(model, available_results(r)),
    _size(lambda data: sum(d.points for d in data.scans)),
    "viability scans of the declared ranges (samples for the report)",
    final=True,
    background=True,
)


POINT_PIECES = Stage(
    "point_pieces",
    lambda model, r: points.point_pieces(model, available_results(r)),
    lambda pieces: len(pieces.expansion_terms),
    "point-independent pieces of symflav spectrum (V expanded, unperturbed masses, loop functions)",
    final=True,
)
"""Derived once and stored, so that ``symflav spectrum`` after a ``derive`` does not derive them
again at every point (:class:`symflav.numerics.points.PointPieces`)."""


def _checks(study: Study | None, cache: Cache = NO_CACHE) -> Stage:
    providers = dict(study.providers) if study else {}

    def run(model: Model, results: Mapping[str, Any]):
        if not model.printed_path:
            return Unavailable("the derivation has no printed registry to compare with")
        derivation = Derivation(model, MappingProxyType(dict(results)), ())
        return checks.run(derivation, rederive=rederive_for(study, cache), providers=providers)

    return Stage("checks", run, _size(lambda report: len(report.results)),
                 "printed vs derived, equation by equation", final=True)


def ordered_stages(study: Study | None = None, cache: Cache = NO_CACHE) -> list[Stage]:
    """Every stage in the order they run: generic, the study's, then the final ones
    (``cache``: where the comparison's convention sweep keeps its derivations)."""
    extra = list(study.stages) if study else []
    return (STAGES + [s for s in extra if not s.final] + [_codegen(study), VIABILITY, POINT_PIECES]
            + [s for s in extra if s.final] + [_checks(study, cache)])


def analysis_stages(study: Study | None = None) -> list[str]:
    """Names of the stages a comparison reads: every non-final stage."""
    return [s.name for s in ordered_stages(study) if not s.final]


def rederive(model: Model, until: str, study: Study | None = None, cache: Cache = NO_CACHE) -> Derivation:
    """The stages of ``model`` up to ``until`` (what the convention sweep re-runs)."""
    return run(model, until=until, study=study, cache=cache)


def rederive_for(study: Study | None, cache: Cache = NO_CACHE) -> Rederive:
    """:func:`rederive` with the study (and cache) bound (the ``Rederive`` of :mod:`symflav.verify.checks`)."""
    return functools.partial(rederive, study=study, cache=cache)


def fingerprint(model: Model) -> tuple[str, str]:
    """What decides every result of a (bound) model, for the keys of the on-disk cache: the sha256
    of its files (model, printed registry, errata; :func:`symflav.core.files.input_hash`) and of the
    model as loaded (its ``repr``: charge overrides, references, generated couplings, conventions)."""
    return input_hash(model), hashlib.sha256(repr(model).encode("utf-8")).hexdigest()


def stage_key(model: Model, study: Study | None, degree: int | None, stage: str) -> str:
    """The cache key of one stage's result for the bound ``model``."""
    return Cache.key("stage", fingerprint(model), study.name if study else None, degree, stage)


def bind(model: Model, study: Study | None, degree: int | None = None) -> Model:
    """The model as the stages see it: with the study's references (or without any), the
    couplings its operator enumeration generates (so that points and ``--set`` may name them),
    and -- after a ``--charge`` change -- without the relations and point entries that mention a
    coupling the new charges forbid (each dropped with a note, never re-imposed).
    A point that names an unknown parameter is a :class:`~symflav.core.errors.SpecError`."""
    model = model.with_references(study.references if study else {})
    table = invariants.operator_table(model, degree)
    quadratic = sorted({str(s) for op in table.in_potential if op.monomial.degree == 2
                        for s in sp.sympify(op.coefficient).free_symbols})
    model = dataclasses.replace(model, generated=table.generated, quadratic=tuple(quadratic))
    if model.charge_overrides:
        model = model.without(forbidden_couplings(table), "the charges forbid its operator")
    spec.check_point_names(model)
    return model


def forbidden_couplings(table) -> set[str]:
    """Couplings of the file's named terms that the charges forbid and no allowed operator uses."""
    used = {str(s) for op in table.in_potential for s in sp.sympify(op.coefficient).free_symbols}
    return {str(s) for op in table.operators if op.status == "forbidden"
            for s in sp.sympify(op.coefficient).free_symbols} - used


def run(
    model: Model,
    *,
    study: Study | None = None,
    degree: int | None = None,
    until: str | None = None,
    progress: Callable[[StageReport, int, int], None] | None = None,
    on_result: Callable[[str, Any], None] | None = None,
    parallel: bool = False,
    cache: Cache = NO_CACHE,
) -> Derivation:
    """Run every stage (or up to ``until``); ``progress`` is called after each stage, and
    ``on_result(name, result)`` too (e.g. to start drawing figures while later stages run).

    With ``parallel``, stages marked ``background`` run in a forked process while the later
    stages run, and stages marked ``independent`` start in a forked process at once (their
    ``adopt`` takes the result in) (:mod:`symflav.core.background`); the results are the same, the
    reported seconds are each stage's own computing time.

    ``cache`` (:mod:`symflav.core.cache`): a stage whose result is stored there (keyed by
    :func:`stage_key`) is read instead of run, and each result computed is stored
    (:func:`keep_result`); its report then says "(cached)" and gives the seconds of reading it."""
    model = bind(model, study, degree)
    results: dict[str, Any] = {"_degree": degree}
    reports: dict[str, StageReport] = {}
    stages = ordered_stages(study, cache)
    if until is not None:
        names = [s.name for s in stages]
        stages = stages[: names.index(until) + 1]
    stored = _stored(cache, model, study, degree, stages)
    pending: list[tuple[Stage, Callable[[], tuple[Any, float]]]] = []
    early = {}
    if parallel:
        nothing = MappingProxyType({"_degree": degree})
        early = {s.name: background.start(s.run, model, nothing) for s in stages[1:]
                 if s.independent and s.name not in stored}

    def finish(stage: Stage, result: Any, seconds: float, cached: bool = False) -> None:
        results[stage.name] = result
        description = stage.description + (" (cached)" if cached else "")
        if isinstance(result, Unavailable):
            description += f" -- {result}"
        reports[stage.name] = StageReport(stage.name, seconds, stage.size(result), description)
        if not cached:
            keep_result(cache, stage_key(model, study, degree, stage.name), stage.name, result)
        if progress:
            progress(reports[stage.name], len(reports), len(stages))
        if on_result:
            on_result(stage.name, result)

    for stage in stages:
        if stage.name in stored:
            result, seconds = stored[stage.name]
            finish(stage, stage.adopt(result) if stage.adopt else result, seconds, cached=True)
        elif parallel and stage.background and stage is not stages[-1]:
            pending.append((stage, background.start(stage.run, model, MappingProxyType(dict(results)))))
        elif stage.name in early:
            result, seconds = early.pop(stage.name)()
            finish(stage, stage.adopt(result) if stage.adopt else result, seconds)
        else:
            start = time.perf_counter()
            result = stage.run(model, MappingProxyType(results))
            finish(stage, result, time.perf_counter() - start)
    for stage, wait in pending:
        finish(stage, *wait())
    results.pop("_degree")
    ordered = tuple(reports[s.name] for s in stages)
    return Derivation(model, MappingProxyType({s.name: results[s.name] for s in stages}), ordered)


def with_stored(derivation: Derivation, study: Study | None, names: tuple[str, ...], cache: Cache,
                degree: int | None = None) -> Derivation:
    """``derivation`` (run up to some stage) with the results of the later stages ``names`` that
    the cache holds for its model (a ``derive`` stored them), e.g. the comparison a study reuses
    instead of computing its parts again; the stages' reports are unchanged. ``derivation.model``
    is the bound model (as :func:`run` returns it)."""
    extra = {}
    for name in names:
        if name not in derivation.results and cache.enabled:
            entry = read_result(cache, stage_key(derivation.model, study, degree, name))
            if entry is not None:
                extra[name] = entry[0]
    if not extra:
        return derivation
    return Derivation(derivation.model, MappingProxyType({**derivation.results, **extra}), derivation.reports)


STAGE_ENTRY = "stage 1"
"""The format of a stage's cache entry: ``{"format": STAGE_ENTRY, "result": exact pickle,
"latex": LaTeX-name registry entries of its symbols}``."""


def keep_result(cache: Cache, key: str, stage: str, result: Any) -> bool:
    """Store a stage's ``result`` under ``key``: its exact pickle (:mod:`symflav.core.serialize`:
    every SymPy expression comes back as built) and the LaTeX names of the symbols in it
    (:func:`symflav.core.symbols.latex_entries`). A result that does not pickle is not kept (it is
    computed again next time); one that would not come back exactly is not kept either, with a
    note. True if it was stored."""
    if not cache.enabled:
        return False
    try:
        data, found, functions = serialize.dumps(result, check=True)
    except serialize.NotExact as exc:
        cache.notes.append(f"result of stage {stage} not cached ({exc})")
        return False
    except Exception:  # noqa: BLE001  (pickling fails in many ways: such a result is simply recomputed)
        return False
    return cache.store(key, {"format": STAGE_ENTRY, "result": data,
                             "latex": symbols.latex_entries(found, functions)})


def read_result(cache: Cache, key: str) -> tuple[Any, dict] | None:
    """``(result, LaTeX-name entries)`` stored by :func:`keep_result` under ``key``, or None (none
    stored; an entry of another format or one that does not load is removed, with a note). The
    entries are registered (:func:`symflav.core.symbols.restore_latex`), as computing the result
    would have done."""
    entry = cache.load(key)
    if entry is None:
        return None
    try:
        if entry["format"] != STAGE_ENTRY:
            raise ValueError(entry["format"])
        result, latex = pickle.loads(entry["result"]), dict(entry["latex"])
    except Exception as exc:  # noqa: BLE001  (any failure to load means: compute again)
        cache.notes.append(f"cache entry {key} ignored (does not load: {type(exc).__name__}): computed again")
        cache.discard(key)
        return None
    symbols.restore_latex(latex)
    return result, latex


def _stored(cache: Cache, model: Model, study: Study | None, degree: int | None,
            stages: list[Stage]) -> dict[str, tuple[Any, float]]:
    """The results of ``stages`` the cache holds: name -> (result, seconds of reading it)."""
    found = {}
    if not cache.enabled:
        return found
    for stage in stages:
        start = time.perf_counter()
        entry = read_result(cache, stage_key(model, study, degree, stage.name))
        if entry is not None:
            found[stage.name] = (entry[0], time.perf_counter() - start)
    return found


def cached_result(model: Model, study: Study | None, stage: str, cache: Cache, degree: int | None = None):
    """The stored result of ``stage`` for ``model`` (bound here), or None; its LaTeX names are
    registered."""
    if not cache.enabled:
        return None
    entry = read_result(cache, stage_key(bind(model, study, degree), study, degree, stage))
    return entry[0] if entry is not None else None


__all__ = ["STAGES", "Study", "Derivation", "StageReport", "Unavailable", "available", "available_results",
           "ordered_stages",
           "analysis_stages", "rederive", "rederive_for", "bind", "run", "fingerprint", "stage_key",
           "cached_result", "keep_result", "read_result", "with_stored"]
