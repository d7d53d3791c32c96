"""A printed benchmark under the paper's inferred conventions (``symflav spectrum``, the report).

``symflav check`` infers, term by term, the conventions under which the most printed equations
agree (:mod:`symflav.verify.infer`). Under an assignment that rescales couplings, the paper's
potential is the derivation's at rescaled couplings, V_paper(phi; p) = V(phi; K p): the printed
inputs of a benchmark mean the derivation's inputs K p. So the benchmark under the inferred
conventions is the derivation evaluated at K p, with the derivation's relations imposed on the
rescaled couplings (the relations re-solved under the paper's normalization).
"""

from __future__ import annotations

from symflav.core.stages import Unavailable
from symflav.numerics import points
from symflav.verify import checks
from symflav.studies.calibbi2020 import providers

MASS_LABELS = ("S1", "S2", "S3", "S4", "P1", "P2", "P3", "P4")
OBSERVABLES = ("delta_a_mu", "delta_a_e", "c_mu", "c_e")


def table(derivation, point: str) -> dict | None:
    """The printed table of ``point`` under the printed potential and the inferred conventions,
    with the root cause of every remaining difference (``checks.benchmark_tables``; the check's
    own result when the derivation ran it), and the omitted invariants at that point."""
    report = derivation.results.get("checks")
    if report is not None and not isinstance(report, Unavailable) and report.benchmarks:
        data = {"inferred_conventions": report.inferred,
                "benchmarks_under_inferred_conventions": list(report.benchmarks),
                "omitted_invariants_at_benchmarks": list(report.omitted)}
    else:
        data = checks.benchmark_tables(derivation, providers.PROVIDERS)
    if data is None:
        return None
    found = [t for t in data["benchmarks_under_inferred_conventions"] if t.get("point") == point and "rows" in t]
    if not found:
        return None
    return {**found[0], "omitted": [o for o in data["omitted_invariants_at_benchmarks"] if o["point"] == point],
            "inferred_conventions": data["inferred_conventions"]}


def text_lines(data: dict) -> list[str]:
    """The table as fixed-width text: quantity, printed, derived under the printed potential and
    under the inferred conventions (``*``: within the printed digits), the remaining cause."""
    def cell(value, ok):
        return "-" if value is None else f"{value}{'*' if ok else ''}"

    lines = [f"{'quantity':<26}{'printed':>10}{'printed V':>13}{'inferred':>13}   remaining difference"]
    for row in data["rows"]:
        name = f"{row['quantity']} ({row['group']})" if row["group"] != "vacuum" else f"{row['quantity']} (vev)"
        cause = row["root_cause"] or "agrees within rounding"
        lines.append(f"{name:<26}{row['printed']:>10}{cell(row['derived'], row['derived_agrees']):>13}"
                     f"{cell(row['inferred'], row['inferred_agrees']):>13}   {cause}")
    lines.append("* within the printed digits and the rounding of the inputs; inferred: "
                 + ("; ".join(data["conventions"]) or "the derivation's own") + " (printed inputs mean "
                 + (", ".join(f"{k} = {v}" for k, v in data["inputs_rescaled"].items()) or "themselves") + ")")
    lines.extend(f"{c}: {t}" for c, t in data.get("causes", {}).items())
    return lines


def inferred_conventions(derivation) -> dict | None:
    """The check's inferred conventions (infer.Inference.to_json), or None without a registry."""
    return checks.infer_conventions(derivation, providers.PROVIDERS)


def benchmark(derivation, point: str, inferred: dict, *, starts: int = 8, seed: int = 20200316) -> dict | None:
    """Vevs, masses (GeV) and the g-2 statement at ``point`` under the inferred conventions:
    the route with the printed vevs and mu^2 from the tadpoles, couplings K p."""
    factors = inferred.get("factors", {})
    if not factors:
        return None
    model = derivation.model
    values, _, _ = points.point_values(model, point, {})
    overrides = {}
    for name, factor in factors.items():
        if name in values:
            overrides[name] = float(values[name]) * float(_number(factor))
    result = points.evaluate(derivation, point, overrides, starts=starts, seed=seed)
    route = result["routes"].get("vevs_with_mu_eliminated", {})
    if not route.get("available"):
        return None
    masses = dict(zip(MASS_LABELS, list(route["scalar_masses"]) + list(route["pseudoscalar_masses"])))
    obs = result["observables"]
    by_route = obs if obs.get("route") == "vevs_with_mu_eliminated" else \
        obs.get("by_route", {}).get("vevs_with_mu_eliminated", {})
    observables = {key: {"mass_insertion": by_route.get(key, {}).get("mass_insertion"),
                         "mass_basis": by_route.get(key, {}).get("mass_basis")} for key in OBSERVABLES}
    relations = [line for line in result["findings"] if line.startswith("relation ")]
    unapplied = {k: v for k, v in inferred.items() if k in ("field_normalization", "mass_matrix_factor")}
    return {"changes": inferred["changes"], "inputs_rescaled": overrides, "vevs": route.get("vevs"),
            "mu_squared": route.get("mu_squared"), "masses": masses, "observables": observables,
            "relations": relations, "not_applied": unapplied}


def _number(text: str) -> float:
    if "/" in text:
        a, b = text.split("/")
        return float(a) / float(b)
    return float(text)
