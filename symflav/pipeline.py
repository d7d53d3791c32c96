"""The driver: runs the stages in order and reports time and size per stage.

Each stage is a pure function of earlier results (a mapping name -> result); the
driver only composes them, so a stage never depends on hidden state or call order.
Stages are listed in :data:`STAGES`; later work appends to it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Callable, Mapping

import sympy as sp

from symflav.physics import flavor, hessian, invariants, loops, observables, perturbative, potential, vacuum
from symflav.codegen import assemble
from symflav.core.model import Model
from symflav.core.stages import Derivation, Stage, StageReport


def _ops(expr) -> int:
    return int(sp.count_ops(expr, visual=False))


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
        "V in real components (eq. A.1)",
    ),
    Stage(
        "tadpoles",
        lambda model, r: vacuum.tadpoles(model, r["real_potential"], r["operators"]),
        lambda t: sum(_ops(e) for e in t.general + t.imposed),
        "tadpoles, elimination, stationary points (A.2-A.3)",
    ),
    Stage(
        "mass_matrices",
        lambda model, r: hessian.mass_matrices(model, r["real_potential"], r["tadpoles"]),
        lambda m: _ops(m.M_S2_vacuum) + _ops(m.M_P2_vacuum),
        "scalar mass matrices (A.4-A.6)",
    ),
    Stage(
        "spectrum",
        lambda model, r: perturbative.spectrum(model, r["operators"], r["tadpoles"], r["mass_matrices"]),
        lambda s: sum(_ops(m) for m in s.scalar_masses2 + s.pseudoscalar_masses2),
        "perturbative spectrum in epsilon (A.10-A.14)",
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
        lambda model, r: flavor.derive_flavor(model, r),
        lambda res: sum(_ops(s.m_FN) + _ops(s.m_RAD) for s in res.leptons),
        "FN chains, tree and radiative masses",
    ),
    Stage(
        "observables",
        lambda model, r: observables.derive_observables(model, r),
        lambda res: sum(_ops(e) for _, _, e in res.relations),
        "g-2, LFV, EDM, flavon couplings",
    ),
    # Final stages run after every other stage, in this order: `codegen` exports
    # whatever the stages before it derived; `viability` samples the model with it (in the
    # background when run(parallel=True)); `checks` compares everything with the paper.
    Stage(
        "codegen",
        lambda model, r: assemble.numeric_module(model, r),
        lambda module: module.operations,
        "numeric module numeric.py (numpy)",
        final=True,
    ),
    Stage(
        "figures",
        lambda model, r: _figures(model, r),
        lambda data: 0 if data is None else 4,
        "figures 3 and 4, the paper's numeric claims",
        final=True,
    ),
    Stage(
        "viability",
        lambda model, r: _viability(model, r),
        lambda data: 0 if data is None else data.points,
        "viability scan of the toy model (sample for the report)",
        final=True,
        background=True,
    ),
    Stage(
        "checks",
        lambda model, r: _checks(model, r),
        lambda report: len(report.results),
        "printed vs derived, equation by equation",
        final=True,
    ),
]


def _checks(model: Model, results: Mapping[str, Any]):
    from symflav.verify import checks  # the compare stage reads every other stage

    return checks.run(Derivation(model, MappingProxyType(dict(results)), ()), rederive=rederive)


def rederive(model: Model, until: str) -> Derivation:
    """The stages of ``model`` up to ``until`` (what the convention sweep re-runs)."""
    return run(model, until=until)


def _viability(model: Model, results: Mapping[str, Any]):
    from symflav.numerics import viability  # matplotlib is only needed when the figure is drawn

    return viability.derive_viability(model, results)


def _figures(model: Model, results: Mapping[str, Any]):
    from symflav.studies.calibbi2020 import figures  # matplotlib is only needed when the figures are drawn

    return figures.derive_figures(model, results)


def ordered_stages() -> list[Stage]:
    """:data:`STAGES` with the final stages last."""
    return [s for s in STAGES if not s.final] + [s for s in STAGES if s.final]


def run(
    model: Model,
    *,
    degree: int | None = None,
    until: str | None = None,
    progress: Callable[[StageReport, int, int], None] | None = None,
    on_result: Callable[[str, Any], None] | None = None,
    parallel: bool = False,
) -> Derivation:
    """Run every stage (or up to ``until``); ``progress`` is called after each stage, and
    ``on_result(name, result)`` too (e.g. to start drawing figures while later stages run).

    With ``parallel``, stages marked ``background`` run in a forked process while the later
    stages run, and stages marked ``independent`` start in a forked process at once (their
    ``adopt`` takes the result in) (:mod:`symflav.core.background`); the results are the same, the
    reported seconds are each stage's own computing time."""
    from symflav.core import background

    results: dict[str, Any] = {"_degree": degree}
    reports: dict[str, StageReport] = {}
    stages = ordered_stages()
    if until is not None:
        names = [s.name for s in stages]
        stages = stages[: names.index(until) + 1]
    pending: list[tuple[Stage, Callable[[], tuple[Any, float]]]] = []
    early = {}
    if parallel:
        nothing = MappingProxyType({"_degree": degree})
        early = {s.name: background.start(s.run, model, nothing) for s in stages[1:] if s.independent}

    def finish(stage: Stage, result: Any, seconds: float) -> None:
        results[stage.name] = result
        reports[stage.name] = StageReport(stage.name, seconds, stage.size(result), stage.description)
        if progress:
            progress(reports[stage.name], len(reports), len(stages))
        if on_result:
            on_result(stage.name, result)

    for stage in stages:
        if parallel and stage.background and stage is not stages[-1]:
            pending.append((stage, background.start(stage.run, model, MappingProxyType(dict(results)))))
            continue
        if stage.name in early:
            result, seconds = early.pop(stage.name)()
            finish(stage, stage.adopt(result) if stage.adopt else result, seconds)
            continue
        start = time.perf_counter()
        result = stage.run(model, MappingProxyType(results))
        finish(stage, result, time.perf_counter() - start)
    for stage, wait in pending:
        finish(stage, *wait())
    results.pop("_degree")
    ordered = tuple(reports[s.name] for s in stages)
    return Derivation(model, MappingProxyType({s.name: results[s.name] for s in stages}), ordered)
