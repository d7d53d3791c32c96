"""The compare stage: every printed equation against the derived object it claims.

Each part of the printed registry names a *provider* (:data:`PROVIDERS`): a small
function that takes the derivation and returns the derived object the part is
compared with, written in the registry's symbols. A provider whose stage did not
run yields ``not_checked`` with the reason "stage X not available"; a provider
registered without a function yet yields "provider P not wired yet".

Results follow the README ``check`` contract (``equation, object, entry, status,
printed, derived, difference, witness, note``, plus a ``summary``). Besides the equations, two
kinds of printed tables are checked, driven by the registry's data: a *charges table* (one
entry per symmetry, field -> printed charge) and a *point table* (``point`` names the model's
point it belongs to: its inputs, the relations and alignment within the printed rounding, the
masses and the caption's observables at that point). Providers that
depend on conventions are swept over the model's declared variants; an entry that
disagrees under the derivation's conventions but agrees under a variant gets status
``convention``. Disagreements listed in the derivation's errata file with a one-line
explanation (and, where given, a corrected formula that must agree) are *explained*.
:attr:`CheckReport.ok` is true when every disagreement is explained and no erratum is
contradicted -- ``symflav check`` exits 0 exactly then.
"""

from __future__ import annotations

import dataclasses
import re
import time
import zlib
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import sympy as sp

from symflav.core import symbols
from symflav.core.errors import SpecError
from symflav.core.model import Model, Monomial
from symflav.core.parsing import ParseError, parse_number, parse_operator
from symflav.core.printed import Equation, Part, Registry
from symflav.core.printed import load as load_registry
from symflav.core.spec import read_toml
from symflav.core.stages import Derivation, Rederive
from symflav.numerics import observables
from symflav.physics import potential
from symflav.core import printer
from symflav.verify import benchmark as benchmark_mod
from symflav.verify import compare
from symflav.verify import infer as infer_mod
from symflav.verify import providers as P
from symflav.verify import variants as variants_mod
from symflav.verify.compare import Expansion, Outcome
from symflav.verify.providers import Context, NotAvailable, Provider, select as _select  # noqa: F401 (re-exported)


def _potential_expr(ctx: Context, part: Part):
    return ctx.stage("potential").expr


def _field_expansion(ctx: Context, part: Part):
    pot = ctx.stage("potential")
    vevs = [v for _, v in ctx.model.vacuum.vevs]
    sigma = [symbols.sigma(label) for label in pot.labels]
    varphi = [symbols.varphi(label) for label in pot.labels]
    subs = potential.field_expansion(pot, vevs, sigma, varphi)
    return subs[pot.phi[ctx.field_index(part)]]


def _mass_matrix_factor(ctx: Context, part: Part):
    ctx.stage("potential")
    return ctx.model.conventions.mass_matrix_factor


def _tadpoles_general(ctx: Context, part: Part):
    return _select(ctx.stage("tadpoles").general, part, ctx)


def _attribute(stage: str, attribute: str):
    def get(ctx: Context, part: Part):
        value = getattr(ctx.stage(stage), attribute, None)
        if value is None:
            raise NotAvailable(f"stage {stage} has no attribute {attribute}")
        return value

    return get


def _orthogonal(ctx: Context, part: Part):
    n = part.formula.shape[1]
    return sp.eye(n)


def _numbers(ctx: Context, part: Part):
    raise NotAvailable("a table of numbers: compared in the table's own check")


# law: how the object follows a declared convention variant (symflav.verify.providers.Provider)
PROVIDERS: dict[str, Provider] = {p.name: p for p in [
    Provider("potential.expr", "potential", _potential_expr, "rederive", "V(phi, phi^dagger)"),
    Provider("potential.field_expansion", "potential", _field_expansion, "rederive",
             "phi_i in real components around the vacuum"),
    Provider("conventions.mass_matrix_factor", "potential", _mass_matrix_factor, "rederive",
             "(M^2)_ij / (d^2V/dsigma_i dsigma_j)"),
    Provider("property.orthogonal", None, _orthogonal, None,
             "U^T U = 1 for any orthogonal diagonalization"),
    Provider("tadpoles.general", "tadpoles", _tadpoles_general, "tadpole",
             "dV/dsigma_i at the vacuum, all parameters free"),
    Provider("tadpoles.stationary_points", "tadpoles", P.stationary_points, "points",
             "closed-form stationary points (squared free vevs, V) of the aligned potential"),
    Provider("mass_matrices.M_S2_vacuum", "mass_matrices", _attribute("mass_matrices", "M_S2_vacuum"), "mass2",
             "CP-even mass matrix, relations and alignment imposed, mu^2 eliminated"),
    Provider("mass_matrices.M_P2_vacuum", "mass_matrices", _attribute("mass_matrices", "M_P2_vacuum"), "mass2",
             "CP-odd mass matrix, relations and alignment imposed, mu^2 eliminated"),
    Provider("spectrum.scalar_masses2", "spectrum", P.masses2("even"), "mass2",
             "perturbative CP-even masses^2, in the printed labels (by leading-order content)"),
    Provider("spectrum.pseudoscalar_masses2", "spectrum", P.masses2("odd"), "mass2",
             "perturbative CP-odd masses^2, in the printed labels (by leading-order content)"),
    Provider("spectrum.U_S", "spectrum", P.mixing("even"), "mixing",
             "CP-even mixing matrix through the first order, sigma = U_S S, columns in the printed labels"),
    Provider("spectrum.U_P", "spectrum", P.mixing("odd"), "mixing",
             "CP-odd mixing matrix through the first order, varphi = U_P P, columns in the printed labels"),
    Provider("spectrum.point", "mass_matrices", _numbers, None,
             "exact spectrum at the inputs of a point table, vevs given and mu^2 from the tadpoles (GeV)"),
    Provider("loops.I_m", "loops", P.loop_function("I_m"), None, "closed form of I_m(x)"),
    Provider("loops.I_da", "loops", P.loop_function("I_da"), None, "closed form of I_Delta_a(x)"),
    Provider("loops.I_m_x", "loops", P.loop_function("I_m_x"), None, "closed form of I_m^x(x)"),
    Provider("loops.I_da_x", "loops", P.loop_function("I_da_x"), None, "closed form of I_Delta_a^x(x)"),
    Provider("observables.point", "observables", _numbers, None,
             "the caption's observables at the inputs of a point table (flavon mass basis)"),
]}


# ---------------------------------------------------------------- results


@dataclass(frozen=True)
class CheckResult:
    """One compared entry; keys of :meth:`to_json` follow the contract in docs/architecture.md ("Contracts")."""

    equation: str
    object: str
    entry: str | None
    status: str
    printed: str
    derived: str | None
    difference: str | None
    witness: dict | None
    note: str
    provider: str = ""
    relation: str = "="
    order: int | None = None
    order_found: int | None = None
    method: str = ""
    variants: tuple[tuple[str, str], ...] = ()
    erratum: str | None = None
    explained: bool = False
    root_cause: str | None = None

    @property
    def unexplained(self) -> bool:
        return self.status == "disagrees" and not self.explained

    def to_json(self) -> dict:
        return {
            "equation": self.equation, "object": self.object, "entry": self.entry, "status": self.status,
            "printed": self.printed, "derived": self.derived, "difference": self.difference,
            "witness": self.witness, "note": self.note, "provider": self.provider,
            "relation": self.relation, "order": self.order, "order_found": self.order_found,
            "method": self.method, "variants": dict(self.variants), "erratum": self.erratum,
            "explained": self.explained, "root_cause": self.root_cause,
        }


@dataclass(frozen=True)
class Erratum:
    """A recorded, understood misprint: where, why, and optionally the corrected formula."""

    equation: str
    object: str | None
    entry: tuple[str, ...] | None
    explanation: str
    corrected: Any = None  # sympy Expr/Matrix in registry symbols, or None
    definitions: tuple[tuple[sp.Symbol, sp.Expr], ...] = ()
    key: str = ""
    cause: str = ""  # the root cause it names (errata.toml ``cause``, described under ``[causes]``)

    def matches(self, result: CheckResult) -> bool:
        return (self.equation == result.equation
                and (self.object is None or self.object == result.object)
                and (self.entry is None or result.entry in self.entry))


@dataclass(frozen=True)
class ErratumUse:
    erratum: Erratum
    state: str  # "explains", "unconfirmed" (its entry was not checked), "contradicted", "stale",
    #             "redundant" (the inferred conventions already explain what it explains)
    note: str = ""

    def to_json(self) -> dict:
        e = self.erratum
        return {"equation": e.equation, "object": e.object, "entry": list(e.entry) if e.entry else None,
                "explanation": e.explanation, "root_cause": e.cause or None,
                "state": self.state, "note": self.note}


@dataclass(frozen=True)
class RootCause:
    """One reason that explains one or more disagreements."""

    id: str
    explanation: str
    equations: tuple[str, ...]
    entries: int

    def to_json(self) -> dict:
        return {"id": self.id, "explanation": self.explanation, "equations": list(self.equations),
                "disagreements": self.entries}


@dataclass(frozen=True)
class CheckReport:
    derivation: str
    results: tuple[CheckResult, ...]
    equations: tuple[tuple[str, str, str], ...]  # (label, overall status, note)
    errata: tuple[ErratumUse, ...]
    variants: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (label, variants under which it all agrees)
    banner: dict | None = None  # the derivation differs from its printed reference (Model.banner)
    inferred: dict | None = None  # infer.Inference.to_json(): the paper's inferred conventions
    root_causes: tuple[RootCause, ...] = ()
    inference_seconds: float = 0.0  # wall time of the inference (not in to_json: outputs are deterministic)
    benchmarks: tuple[dict, ...] = ()  # printed point tables under the printed and the inferred conventions
    omitted: tuple[dict, ...] = ()  # omitted invariants switched on at the printed benchmarks

    @property
    def unexplained(self) -> tuple[CheckResult, ...]:
        return tuple(r for r in self.results if r.unexplained)

    @property
    def problems(self) -> tuple[ErratumUse, ...]:
        return tuple(u for u in self.errata if u.state in ("stale", "contradicted", "redundant"))

    @property
    def ok(self) -> bool:
        return not self.unexplained and not self.problems

    def summary(self) -> dict:
        counts = {s: 0 for s in compare.STATUSES}
        for r in self.results:
            counts[r.status] += 1
        per_equation: dict[str, int] = {}
        for _, status, _ in self.equations:
            per_equation[status] = per_equation.get(status, 0) + 1
        return {
            "results": len(self.results),
            "by_status": counts,
            "explained_disagreements": sum(1 for r in self.results if r.status == "disagrees" and r.explained),
            "unexplained_disagreements": len(self.unexplained),
            "equations": len(self.equations),
            "equations_by_status": dict(sorted(per_equation.items())),
            "errata": {state: sum(1 for u in self.errata if u.state == state)
                       for state in ("explains", "unconfirmed", "contradicted", "stale", "redundant")},
            "root_causes": len(self.root_causes),
            "disagreements_with_root_cause": sum(c.entries for c in self.root_causes),
            "ok": self.ok,
        }

    def to_json(self) -> dict:
        head = {"differs_from_printed_reference": self.banner} if self.banner else {}
        return {
            "derivation": self.derivation,
            **head,
            "results": [r.to_json() for r in self.results],
            "equations": [{"equation": e, "status": s, "note": n, "agrees_under_variants": list(dict(self.variants).get(e, ()))}
                          for e, s, n in self.equations],
            "errata": [u.to_json() for u in self.errata],
            "inferred_conventions": self.inferred,
            "root_causes": [c.to_json() for c in self.root_causes],
            "benchmarks_under_inferred_conventions": list(self.benchmarks),
            "omitted_invariants_at_benchmarks": list(self.omitted),
            "summary": self.summary(),
        }


# ---------------------------------------------------------------- running


class _Variants:
    """Derived objects under each declared convention variant, computed once per run.

    Objects of cheap stages (``law == "rederive"``) are re-derived from the variant's
    potential (the operator table is convention independent and shared). Every other object
    follows from the derivation's own by the variant's law (:mod:`symflav.verify.variants`); when no
    law applies, the variant's stages are re-run (memoized per variant).
    """

    def __init__(self, ctx: Context, rederive: Rederive | None):
        self.ctx = ctx
        self.rederive = rederive
        self.laws: dict = {}
        self.light: dict = {}
        self.full: dict = {}

    def conventions(self, name: str):
        return dict(self.ctx.model.variants)[name]

    def law(self, name: str):
        if name not in self.laws:
            self.laws[name] = variants_mod.law(self.ctx.derivation, name, self.conventions(name))
        return self.laws[name]

    def _light(self, name: str) -> Derivation:
        if name not in self.light:
            base = self.ctx.derivation
            model = base.model.with_conventions(self.conventions(name))
            results = {"operators": base["operators"],
                       "potential": potential.build_potential(base["operators"], model.conventions)}
            self.light[name] = Derivation(model, results, ())
        return self.light[name]

    def _full(self, name: str, stage: str) -> Derivation:
        cached = self.full.get(name)
        if cached is None or stage not in cached.results:
            if self.rederive is None:
                raise NotAvailable("no re-derivation under the variant's conventions was provided")
            model = self.ctx.model.with_conventions(self.conventions(name))
            self.full[name] = self.rederive(model, stage)
        return self.full[name]

    def derived(self, name: str, provider: Provider, part: Part):
        """(object under the variant, None) or (None, the reason it has none)."""
        registry = self.ctx.registry
        try:
            if provider.law == "rederive":
                light = self._light(name)
                if provider.stage in light.results:
                    return provider.get(Context(light, registry), part), None
                return provider.get(Context(self._full(name, provider.stage), registry), part), None
            law = self.law(name)
            if law is not None and provider.law in variants_mod.VACUUM_KINDS and not law.stationary:
                return None, law.reason
            if law is None or (provider.law in variants_mod.VACUUM_KINDS and not law.commutes):
                return provider.get(Context(self._full(name, provider.stage), registry), part), None
            return law.apply(provider.law, derived_object(self.ctx, provider, part)), None
        except NotAvailable as exc:
            return None, str(exc)


def derived_object(ctx: Context, provider: Provider, part: Part):
    """The provider's object for the part, computed once per run."""
    return ctx.remember(("derived", part.key), lambda: provider.get(ctx, part))


def expansion_for(model: Model, registry: Registry) -> Expansion | None:
    """epsilon = v_1/v_a as v_1 -> epsilon v_a (the model's small parameter)."""
    vac = model.vacuum
    if vac is None or vac.small_value is None or vac.small_name not in registry.names:
        return None
    eps = registry.names[vac.small_name]
    num, den = sp.fraction(vac.small_value)
    if not (isinstance(num, sp.Symbol) and isinstance(den, sp.Symbol)):
        return None
    return Expansion(eps, ((num, eps * den),))


def _seed(*parts) -> int:
    return zlib.crc32("|".join(str(p) for p in parts).encode())


_LATEX: dict = {}


def _latex(value) -> str | None:
    """LaTeX of a compared object (remembered: the same entries recur across equations)."""
    if value is None:
        return None
    if isinstance(value, sp.MatrixBase):
        return printer.latex(value)
    value = sp.sympify(value)
    key = (value, tuple(sorted(symbols.FUNCTION_LATEX.items())))
    if key not in _LATEX:
        if len(_LATEX) > 4096:
            _LATEX.clear()
        _LATEX[key] = printer.latex(value)
    return _LATEX[key]


def _prepare(registry: Registry, model: Model, part: Part, printed, derived, definitions=None):
    """Both sides in model parameters, with the part's assumptions and relations applied."""
    printed = registry.expand_definitions(printed, definitions)
    if part.transform == "gram":
        printed = printed.T * printed
    if part.impose_relations:
        derived = _impose(derived, model)
    assume = dict(part.assume)
    if assume:
        printed = printed.xreplace(assume)
        derived = derived.xreplace(assume)
    return printed, derived


def _impose(expr, model: Model):
    relations = model.relation_map()
    for _ in range(4):
        new = expr.xreplace(relations)
        if new == expr:
            break
        expr = new
    return expr


def _compare_part(registry, model, part: Part, printed, derived, expansion, definitions=None, *, entries=None,
                  brief: bool = False):
    """Outcomes ``[(entry, Outcome)]`` of one part (``entries``: only these matrix entries;
    ``brief``: the status only, no difference or witness), and both sides as compared."""
    printed, derived = _prepare(registry, model, part, printed, derived, definitions)
    options = dict(relation=part.relation, order=part.order if part.relation != "=" else None,
                   expansion=expansion, seed=_seed(part.equation, part.index), brief=brief)
    if options["order"] is not None and expansion is None:
        options["order"] = None
    if part.is_matrix:
        if not isinstance(derived, sp.MatrixBase):
            return [(None, Outcome("disagrees", "symbolic", note="derived object is not a matrix"))], printed, derived
        rows, columns = _labels(model, part, printed.shape)
        if part.transform == "gram":
            rows = columns
        return compare.compare_matrix(printed, derived, rows=rows, columns=columns, entries=entries,
                                      column_signs=part.column_signs, **options), printed, derived
    outcome = compare.compare(printed, derived, **options)
    if part.overall_sign == "free" and not outcome.agrees:
        flipped = compare.compare(printed, -derived, **options)
        if flipped.agrees:
            outcome = Outcome("convention", flipped.method, None, outcome.witness, flipped.order,
                              _join(flipped.note, f"agrees with the opposite overall sign: {part.sign_note}"))
    return [(None, outcome)], printed, derived


def _labels(model: Model, part: Part, shape):
    n, m = shape
    names = list(model.scalar_names)
    rows = list(part.rows) if part.rows else (names if n == len(names) else None)
    columns = list(part.columns) if part.columns else (names if m == len(names) else None)
    return rows, columns


def _entry_value(value, entry: str | None, rows, columns):
    if entry is None or not isinstance(value, sp.MatrixBase):
        return value
    rows = rows or [str(i + 1) for i in range(value.shape[0])]
    columns = columns or [str(j + 1) for j in range(value.shape[1])]
    i, j = _split_entry(entry, rows, columns)
    return value[i, j]


def _split_entry(entry: str, rows, columns) -> tuple[int, int]:
    """Row and column index of an entry "row,column" (labels may contain commas)."""
    for i, r in enumerate(rows):
        for j, c in enumerate(columns):
            if entry == f"{r},{c}":
                return i, j
    raise KeyError(entry)


def check_part(ctx: Context, part: Part, expansion, variants: _Variants | None) -> list[CheckResult]:
    """All results of one part (one per matrix entry).

    Entries that disagree under the derivation's conventions are compared again under every
    declared convention variant; agreement under one gives status ``convention``."""
    registry, model = ctx.registry, ctx.model
    provider = ctx.providers.get(part.provider)
    printed_latex = part.latex if part.latex else _latex(part.formula)

    def not_checked(reason: str) -> list[CheckResult]:
        return [CheckResult(part.equation, part.object, None, "not_checked", printed_latex, None, None, None,
                            reason, part.provider, part.relation, part.order)]

    if provider is None:
        return not_checked(f"unknown provider {part.provider!r}")
    if provider.stage and provider.stage not in ctx.derivation.results:
        return not_checked(f"stage {provider.stage} not available")
    if provider.get is None:
        return not_checked(f"provider {provider.name} not wired yet (stage {provider.stage} present)")
    try:
        derived = derived_object(ctx, provider, part)
    except NotAvailable as exc:
        return not_checked(str(exc))
    outcomes, printed_full, derived_full = _compare_part(registry, model, part, part.formula, derived, expansion)
    rows, columns = _labels(model, part, printed_full.shape) if part.is_matrix else (None, None)
    if part.transform == "gram" and part.is_matrix:
        rows = columns
    bad = [entry for entry, o in outcomes if o.status == "disagrees"]
    sweep: dict[str, dict] = {}
    skipped: dict[str, str] = {}
    if bad and provider.conventional and variants is not None:
        for name, _ in model.variants:
            vderived, reason = variants.derived(name, provider, part)
            if vderived is None:
                skipped[name] = reason
                continue
            vmodel = model.with_conventions(variants.conventions(name))
            voutcomes, _, _ = _compare_part(registry, vmodel, part, part.formula, vderived, expansion,
                                            entries=bad if part.is_matrix else None, brief=True)
            sweep[name] = {entry: o for entry, o in voutcomes}
    results = []
    for entry, outcome in outcomes:
        variant_status = tuple((name, table[entry].status) for name, table in sweep.items() if entry in table)
        if entry in bad:
            variant_status += tuple((name, "not_checked") for name in skipped)
        status, note = outcome.status, outcome.note
        if status == "disagrees":
            agreeing = [name for name, s in variant_status if s in ("agrees", "agrees_to_order")]
            if agreeing:
                status = "convention"
                described = "; ".join(_describe_variant(model, n) for n in agreeing)
                note = _join(note, f"agrees under the declared variant(s) {described}; "
                                   f"the derivation uses {_describe(model.conventions, model)}")
            for name, reason in sorted(skipped.items()):
                note = _join(note, f"variant {name} not compared: {reason}")
        extra = _provider_note(ctx, part, entry)
        shown = _entry_value(derived_full, entry, rows, columns)
        if FLIPPED in outcome.note:
            shown = -shown
        results.append(CheckResult(
            equation=part.equation, object=part.object, entry=entry, status=status,
            printed=printed_latex if entry is None else _latex(_entry_value(printed_full, entry, rows, columns)),
            derived=_latex(shown),
            difference=_latex(outcome.difference) if outcome.difference is not None else None,
            witness=outcome.witness.to_json() if outcome.witness else None,
            note=_join(note, extra) if extra else note, provider=part.provider, relation=part.relation,
            order=part.order, order_found=outcome.order, method=outcome.method, variants=variant_status,
        ))
    return results


FLIPPED = "derived column taken with the opposite sign"


def _provider_note(ctx: Context, part: Part, entry) -> str:
    """Which derived state a label of the paper was matched with (spectrum parts)."""
    cp = {"spectrum.scalar_masses2": "even", "spectrum.pseudoscalar_masses2": "odd"}.get(part.provider)
    if cp is not None and isinstance(part.select, int):
        try:
            return P.label_note(ctx, cp, part.select)
        except NotAvailable:
            return ""
    return ""


def _join(a: str, b: str) -> str:
    return f"{a}; {b}" if a else b


def _describe(conventions, model: Model) -> str:
    base = model.conventions
    return ", ".join(f"{k}={v}" for k, v in conventions.as_dict().items()) if conventions is base else \
        ", ".join(f"{k}={v}" for k, v in conventions.as_dict().items() if v != base.as_dict()[k])


def _describe_variant(model: Model, name: str) -> str:
    conventions = dict(model.variants)[name]
    return f"{name} ({_describe(conventions, model)})"


# ---------------------------------------------------------------- special parts


def _check_operators(ctx: Context, eq: Equation) -> list[CheckResult]:
    """A printed list of operators against the invariant operators (invariants stage)."""
    table = ctx.derivation.results.get("operators")
    if table is None:
        return [CheckResult(eq.label, "operators", None, "not_checked", "", None, None, None,
                            "stage operators not available", "operators.table")]
    comparison = next((c for c in table.comparisons if c.equation == eq.label), None)
    if comparison is None:
        return []
    names = list(ctx.model.scalar_names)
    latex_names = [s.latex for s in ctx.model.scalars]

    def tex(text: str) -> str:
        try:
            return printer.operator(Monomial(parse_operator(text, names)), latex_names)
        except ParseError:
            return printer.text(text)

    results = []
    for text in comparison.agree:
        results.append(CheckResult(eq.label, "operators", text, "agrees", tex(text), tex(text), None, None,
                                   "printed, invariant and in the derived potential", "operators.table"))
    for text, note in comparison.printed_not_invariant:
        explained = "declared explicit breaking" in note
        results.append(CheckResult(eq.label, "operators", text, "agrees" if explained else "disagrees", tex(text),
                                   None if not explained else tex(text), None, None, note, "operators.table"))
    for text, note in comparison.missing_from_print:
        dropped = "dropped by the derivation" in note
        # an invariant the charges allow and the print omits is a finding even when the
        # derivation drops it on purpose to follow the paper
        results.append(CheckResult(eq.label, "operators", text, "incomplete" if dropped else "disagrees", "",
                                   tex(text), None, None,
                                   (f"allowed by {_charges_source(ctx)} but not printed; " + note) if dropped
                                   else note,
                                   "operators.table"))
    return results


def charges_tables(registry: Registry, model: Model) -> list[str]:
    """Labels of the registry's charges tables: tables with an entry per symmetry of the model."""
    names = {s.name for s in model.symmetries}
    return [label for label, table in sorted(registry.tables.items()) if names & set(table)]


def point_tables(registry: Registry) -> list[str]:
    """Labels of the registry's point tables: tables that name the model's point they print."""
    return [label for label, table in sorted(registry.tables.items()) if "point" in table]


def _charges_source(ctx: Context) -> str:
    labels = charges_tables(ctx.registry, ctx.model)
    return f"Table {labels[0]}" if labels else "the charges"


def _charges_table(ctx: Context, label: str) -> list[CheckResult]:
    """A printed charges table: every printed charge against the model's (Z_N reduced; a mediator
    family by its set of charges; "±" and "any" for every Z_N value)."""
    table = ctx.registry.tables[label]
    equation = f"Table {label}"
    model = ctx.model
    everything = model.all_charged()
    families: dict[str, list] = {}
    for m in model.mediators:
        families.setdefault(m.family, []).append(m)
    results = []
    for sym in model.symmetries:
        for fname, printed in table.get(sym.name, {}).items():
            entry = f"{fname},{sym.name}"
            family = next((f for f in families if fname.startswith(f)), None)
            if fname in everything:
                derived = {everything[fname].charge(sym.name)}
            elif family:
                derived = {m.charge(sym.name) for m in families[family]}
            else:
                results.append(CheckResult(equation, "charges", entry, "disagrees", _tex_cell(printed), None, None, None,
                                           f"{fname} is not a field of the model", "model.charges"))
                continue
            values = _printed_charges(printed, sym)
            shown = ", ".join(str(q) for q in sorted(derived))
            if values == derived:
                status, note = "agrees", ""
            elif values is not None and {abs(q) for q in derived} == values:
                status = "agrees"
                note = "the model holds both signs of the printed charges"
            elif values is None and sym.order and len(derived) == sym.order:
                status, note = "agrees", "every Z_N value"
            else:
                status, note = "disagrees", f"model charges: {shown}"
            results.append(CheckResult(equation, "charges", entry, status, _tex_cell(printed), shown, None, None, note,
                                       "model.charges"))
    return results


def _tex_cell(text: str) -> str:
    return text.replace("±", r"\pm").replace("...", r"\dots ")


def _printed_charges(text: str, sym) -> set | None:
    text = text.strip()
    if text in ("±", "+-", "any"):
        return None
    if sym.order == 2 and text in ("+", "-"):
        return {Fraction(0 if text == "+" else 1)}
    if "..." in text:  # "1, 2...6, 7, 8"
        numbers = [int(x) for x in re.findall(r"-?\d+", text)]
        return {Fraction(q) for q in range(min(numbers), max(numbers) + 1)}
    values = set()
    for item in text.split(","):
        q = parse_number(item.strip())
        values.add(sym.reduce(Fraction(int(q.p), int(q.q))))
    return values


def _expand_pair(name: str) -> list[str]:
    """``lambda_1(a,b)`` -> ``lambda_1a, lambda_1b``; ``mu_(1,3)`` -> ``mu_1, mu_3``."""
    match = re.fullmatch(r"(.*?)\((\w+),(\w+)\)(.*)", name)
    if not match:
        return [name]
    pre, a, b, post = match.groups()
    return [pre + a + post, pre + b + post]


def _half_unit(text: str) -> sp.Rational:
    """Half a unit in the last printed digit."""
    mantissa = text.lower().split("e")[0]
    digits = len(mantissa.split(".")[1]) if "." in mantissa else 0
    exponent = int(text.lower().split("e")[1]) if "e" in text.lower() else 0
    return sp.Rational(1, 2) * sp.Rational(10) ** (exponent - digits)


def _point_table(ctx: Context, label: str) -> list[CheckResult]:
    """A printed point table: inputs vs the model's point, vs the model's relations and alignment
    (within the rounding of the printed digits), and its masses and caption at that point."""
    table = ctx.registry.tables[label]
    equation = f"Table {label}"
    model = ctx.model
    names = model.symbols()
    point_name = table.get("point")
    printed: dict[str, tuple[str, sp.Rational]] = {}
    for column, text in table.get("inputs", {}).items():
        for name in _expand_pair(column):
            printed[name] = (text, parse_number(text))
    point = model.point(point_name).as_dict() if any(p.name == point_name for p in model.points) else {}
    results = []
    for name, (text, value) in printed.items():
        if name not in point:
            results.append(CheckResult(equation, "input", name, "disagrees", text, None, None, None,
                                       f"not in the model's point {point_name}", "model.point"))
            continue
        ok = point[name] == value
        results.append(CheckResult(equation, "input", name, "agrees" if ok else "disagrees", text,
                                   _num(point[name]), None if ok else _num(value - point[name]), None,
                                   "" if ok else f"the model's point {point_name} differs from the print",
                                   "model.point"))
    values = {names[k]: v for k, (_, v) in printed.items() if k in names}
    half = {names[k]: _half_unit(t) for k, (t, _) in printed.items() if k in names}
    checks = list(model.relations) + (list(model.vacuum.alignment) if model.vacuum else [])
    for lhs, rhs in checks:
        kind = "relation" if (lhs, rhs) in model.relations else "alignment"
        if lhs not in values or not rhs.free_symbols <= set(values):
            continue
        predicted = rhs.xreplace(values)
        tolerance = half[lhs] + sum(abs(sp.diff(rhs, s).xreplace(values)) * half[s] for s in rhs.free_symbols)
        diff = values[lhs] - predicted
        ok = abs(diff) <= tolerance
        witness = {"point": {str(s): str(v) for s, v in sorted(values.items(), key=lambda kv: kv[0].name)
                             if s == lhs or s in rhs.free_symbols},
                   "printed": _num(values[lhs]), "derived": _num(predicted), "difference": _num(diff)}
        note = (f"within the rounding of the printed digits (tolerance {_num(tolerance)})" if ok else
                f"the printed value violates the {kind} {lhs} = {rhs} by {_num(diff)} "
                f"(rounding allows {_num(tolerance)})")
        results.append(CheckResult(equation, kind, str(lhs), "agrees" if ok else "disagrees",
                                   printed_text(printed, lhs), printer.latex(rhs) + " = " + _num(predicted),
                                   None if ok else _num(diff), None if ok else witness, note, f"model.{kind}s"))
    for group, provider, compute in (("spectrum", "spectrum.point", _point_spectrum),
                                     ("caption", "observables.point", _point_caption)):
        results.extend(_numbers_of(ctx, equation, table.get(group, {}), group, provider, compute, point_name, printed))
    return results


def _numbers_of(ctx: Context, equation: str, items: dict, group: str, provider: str, compute, point_name,
                printed) -> list[CheckResult]:
    """The printed numbers of one group of a point table against ``compute(ctx, point, printed)``
    (name -> (value, spread from rounding the inputs, note)), within the printed digits."""
    if not items:
        return []
    results = []
    stage = ctx.providers[provider].stage
    try:
        if stage not in ctx.derivation.results:
            raise NotAvailable(f"stage {stage} not available")
        if not point_name:
            raise NotAvailable("the table names no point of the model")
        derived = compute(ctx, point_name, printed)
    except NotAvailable as exc:
        return [CheckResult(equation, group, name, "not_checked", text, None, None, None, str(exc), provider)
                for name, text in items.items()]
    for name, text in items.items():
        if name not in derived:
            results.append(CheckResult(equation, group, name, "not_checked", text, None, None, None,
                                       f"{name} is not derived", provider))
            continue
        value, tolerance, note = derived[name]
        allowed = float(_half_unit(text)) + float(tolerance)
        diff = float(parse_number(text)) - float(value)
        ok = abs(diff) <= allowed
        witness = {"point": {"point": point_name}, "printed": text, "derived": _num(value),
                   "difference": _num(diff)}
        rounding = f"printed digits and input rounding allow {_num(allowed)}"
        results.append(CheckResult(
            equation, group, name, "agrees" if ok else "disagrees", text, _num(value),
            None if ok else _num(diff), None if ok else witness,
            _join(note, rounding), provider, method="numeric"))
    return results


def _scaled(values: dict, scale: Mapping | None) -> dict:
    """The point's values with some couplings multiplied (``scale``: symbol -> factor)."""
    return {s: (v * scale[s] if scale and s in scale else v) for s, v in values.items()}


def _point_spectrum(ctx: Context, point: str, printed: dict, scale: Mapping | None = None) -> dict:
    """m_S1..m_Pn at the inputs of a point table (mass_matrices stage at the vacuum, exact
    eigenvalues, in the printed labels), each with the spread from rounding the printed inputs
    (central differences). ``scale``: couplings multiplied first (symbol -> factor; the
    printed inputs under other conventions)."""
    values = _scaled(P.point_values(ctx, point), scale)
    masses = ctx.stage("mass_matrices")
    matrices = (masses.M_S2_vacuum, masses.M_P2_vacuum)
    inputs = sorted(set().union(*(m.free_symbols for m in matrices)), key=str)
    missing = [s for s in inputs if s not in values]
    if missing:
        raise NotAvailable(f"the point gives no value for {', '.join(map(str, missing))}")
    functions = [sp.lambdify(inputs, m.tolist(), "math") for m in matrices]
    columns = [P._leading_columns(ctx, "spectrum.U_S"), P._leading_columns(ctx, "spectrum.U_P")]

    def spectrum(vals):
        out = []
        for f, lead in zip(functions, columns):
            w, U = np.linalg.eigh(np.array(f(*[float(vals[s]) for s in inputs]), dtype=float))
            perm, overlaps = P._assign(lead, U)
            out.append((np.sign(w[list(perm)]) * np.sqrt(np.abs(w[list(perm)])), overlaps))
        return out

    central = spectrum(values)
    spread = [np.zeros(len(c[0])) for c in central]
    names = {str(s): s for s in inputs}
    for text_name, (text, _) in printed.items():
        s = names.get(text_name)
        if s is None:
            continue
        h = _half_unit(text) * (scale or {}).get(s, 1)
        up, down = dict(values), dict(values)
        up[s], down[s] = values[s] + h, values[s] - h
        for k, ((a, _), (b, _)) in enumerate(zip(spectrum(up), spectrum(down))):
            spread[k] += np.abs(a - b) / 2
    eliminated = "; ".join(f"{mu}^2 = {_num(e.xreplace(values))} GeV^2 (the point has {_num(values[mu] ** 2)})"
                           for mu, e in ctx.stage("tadpoles").eliminated if mu in values)
    route = ("exact eigenvalue of the vacuum mass matrix at the printed vevs, relations of the derivation imposed, "
             f"mu^2 from the tadpoles ({eliminated})")
    out = {}
    for k, prefix in enumerate(("m_S", "m_P")):
        masses_k, overlaps = central[k]
        for i, m in enumerate(masses_k):
            out[f"{prefix}{i + 1}"] = (float(m), float(spread[k][i]),
                                       f"{route}; labelled by its leading-order content (overlap {overlaps[i]:.3f})")
    return out


def _point_caption(ctx: Context, point: str, printed: dict, scale: Mapping | None = None,
                   route: str = "mass_basis") -> dict:
    """Delta a_l, c_l of every lepton at the inputs of a point table, flavon mass basis, with the
    exact spectrum of :func:`_point_spectrum`'s route (``route="mass_insertion"``: the
    mass-insertion formulas instead). ``scale`` as in :func:`_point_spectrum`."""
    values = _scaled(P.point_values(ctx, point), scale)
    spectrum = P.point_spectrum(ctx, values)
    given = {"scalar_masses": spectrum["even"][0], "pseudoscalar_masses": spectrum["odd"][0],
             "U_S": spectrum["even"][1], "U_P": spectrum["odd"][1]}
    if (np.asarray(given["scalar_masses"]) <= 0).any() or (np.asarray(given["pseudoscalar_masses"]) <= 0).any():
        raise NotAvailable("the spectrum at the point has a tachyon: no mass-basis loop")
    ctx.stage("flavor")
    if route != "mass_basis":  # the vacuum of the spectrum above: relations imposed, mu^2 from the tadpoles
        tadpoles = ctx.stage("tadpoles")
        for mu, expr in tadpoles.eliminated:
            values[mu] = sp.sqrt(tadpoles.impose(expr, eliminate=False).xreplace(values))
        for lhs, rhs in ctx.model.relations:
            values[lhs] = _impose(rhs, ctx.model).xreplace(values)
    evaluated = observables.evaluate(ctx.derivation, values, given, route="printed inputs", point=point)
    basis = evaluated[route]
    note = ("flavon mass basis (exact propagators of the spectrum above), every closure, "
            "sign of the lepton mass fixed by m_l > 0") if route == "mass_basis" else (
        "mass insertion (unperturbed masses sqrt|mu^2| from the tadpoles at the printed vevs), every closure")
    return {key: (float(basis[key]), 0.0, note) for key in observables.observable_keys(evaluated) if key in basis}


def printed_text(printed, symbol) -> str:
    return printed[str(symbol)][0]


def _num(value) -> str:
    return format(float(value), ".6g")


# ---------------------------------------------------------------- errata


def read_errata(model: Model, registry: Registry) -> tuple[Erratum, ...]:
    path = errata_path(model)
    if path is None:
        return ()
    raw = read_toml(path)[0]
    unknown = set(raw) - {"errata", "symbols", "functions", "causes"}
    if unknown:
        raise SpecError(str(path), None,
                        f"unknown tables {sorted(unknown)} (expected errata, causes, symbols, functions)")
    causes = read_causes(raw, path)
    registry = _with_errata_names(registry, raw, path)
    errata = []
    for i, item in enumerate(raw.get("errata", [])):
        key = f"errata[{i}]"
        if not isinstance(item, dict):
            raise SpecError(str(path), key, "expected a table")
        unknown = set(item) - {"equation", "object", "entry", "explanation", "corrected", "definitions", "witness",
                               "cause"}
        if unknown:
            raise SpecError(str(path), key, f"unknown keys {sorted(unknown)}")
        for required in ("equation", "explanation"):
            if not isinstance(item.get(required), str) or not item[required].strip():
                raise SpecError(str(path), f"{key}.{required}", "required (a string)")
        if "\n" in item["explanation"].strip():
            raise SpecError(str(path), f"{key}.explanation", "must be one line")
        corrected = None
        definitions = []
        try:
            if "corrected" in item:
                corrected = registry.parse(item["corrected"])
            for name, text in item.get("definitions", {}).items():
                if name not in registry.names:
                    raise ParseError(f"unknown name {name!r}")
                definitions.append((registry.names[name], registry.parse(text)))
        except ParseError as exc:
            raise SpecError(str(path), key, str(exc)) from None
        entry = item.get("entry")
        if isinstance(entry, str):
            entry = (entry,)
        elif entry is not None:
            if not isinstance(entry, list) or not all(isinstance(x, str) for x in entry):
                raise SpecError(str(path), f"{key}.entry", "expected an entry or a list of entries")
            entry = tuple(entry)
        cause = item.get("cause", "")
        if not isinstance(cause, str) or (cause and cause not in causes):
            raise SpecError(str(path), f"{key}.cause", f"expected the id of a root cause under [causes] "
                                                       f"({', '.join(sorted(causes)) or 'none declared'})")
        errata.append(Erratum(item["equation"], item.get("object"), entry,
                              item["explanation"].strip(), corrected, tuple(definitions), key, cause))
    return tuple(errata)


def read_causes(raw: dict, path) -> dict[str, str]:
    """errata.toml ``[causes]``: id = "one-line explanation" of a root cause errata name."""
    causes = raw.get("causes", {})
    if not isinstance(causes, dict):
        raise SpecError(str(path), "causes", "expected a table id = \"explanation\"")
    for cid, text in causes.items():
        if not isinstance(text, str) or not text.strip() or "\n" in text.strip():
            raise SpecError(str(path), f"causes.{cid}", "expected a one-line explanation")
    return {cid: text.strip() for cid, text in causes.items()}


def errata_causes(model: Model) -> dict[str, str]:
    path = errata_path(model)
    if path is None:
        return {}
    try:
        return read_causes(read_toml(path)[0], path)
    except SpecError:
        return {}  # read_errata reports it


def _with_errata_names(registry: Registry, raw: dict, path) -> Registry:
    """The registry plus the names that corrected formulas use and the paper does not print
    (errata.toml ``[symbols]``: name = {kind, latex}; ``[functions]``: name = {latex})."""
    names, functions = dict(registry.names), dict(registry.function_map)
    for name, spec in raw.get("symbols", {}).items():
        if not isinstance(spec, dict) or name in names:
            raise SpecError(str(path), f"symbols.{name}", "expected a table {kind, latex} for a new name")
        kind = spec.get("kind", "real")
        if kind not in symbols.PRINTED_KINDS:
            raise SpecError(str(path), f"symbols.{name}.kind", f"expected one of {', '.join(symbols.PRINTED_KINDS)}")
        names[name] = symbols.printed(name, kind, spec.get("latex"))
    for name, spec in raw.get("functions", {}).items():
        if not isinstance(spec, dict) or "latex" not in spec or name in functions:
            raise SpecError(str(path), f"functions.{name}", "expected a table {latex} for a new function")
        functions[name] = symbols.printed_function(name, spec["latex"])
    if len(names) == len(registry.names) and len(functions) == len(registry.function_map):
        return registry
    return dataclasses.replace(registry, names=names, function_map=functions)


def errata_path(model: Model) -> Path | None:
    """``errata.toml`` next to the model file, if there is one."""
    path = Path(model.path).with_name("errata.toml")
    return path if path.is_file() else None


def _apply_errata(ctx: Context, results: list[CheckResult], errata, expansion, parts: dict):
    uses = []
    out = []
    claimed = {id(e): [] for e in errata}
    failed: dict[int, bool] = {}
    verified: dict[int, dict] = {}
    for r in results:
        matching = [e for e in errata if e.matches(r)]
        for e in errata:
            if e.matches(r) or (r.status == "not_checked" and r.entry is None and e.equation == r.equation
                                and e.object in (None, r.object)):
                claimed[id(e)].append(r)
        if r.status != "disagrees" or not matching:
            out.append(r)
            continue
        explained, notes = True, []
        part = parts.get((r.equation, r.object))
        for e in matching:
            note = f"erratum: {e.explanation}"
            if part is not None and (e.corrected is not None or e.definitions):
                if id(e) not in verified:
                    entries = [x.entry for x in results if e.matches(x) and x.status == "disagrees"]
                    verified[id(e)] = _verify_correction(ctx, part, e, entries, expansion)
                ok, detail = verified[id(e)].get(r.entry, (False, "not compared"))
                note += "; the corrected form agrees" if ok else f"; but the corrected form does not agree ({detail})"
                if not ok:
                    explained = False
                    failed[id(e)] = True
            notes.append(note)
        out.append(_replace(r, erratum=matching[0].explanation, explained=explained,
                            note=_join(r.note, "; ".join(notes)),
                            root_cause=matching[0].cause or f"erratum: eq. {matching[0].equation}"))
    for e in errata:
        hits = claimed[id(e)]
        if not hits:
            uses.append(ErratumUse(e, "stale", "matches no compared entry"))
        elif all(r.status == "not_checked" for r in hits):
            uses.append(ErratumUse(e, "unconfirmed", hits[0].note))
        elif any(r.status == "disagrees" for r in hits):
            bad = failed.get(id(e), False)
            uses.append(ErratumUse(e, "contradicted" if bad else "explains",
                                   "the corrected form does not agree" if bad else ""))
        elif all(r.root_cause == INFERRED for r in hits if r.status == "convention") and any(
                r.status == "convention" for r in hits):
            uses.append(ErratumUse(e, "redundant", "the inferred conventions explain its entries"))
        else:
            uses.append(ErratumUse(e, "stale", "the printed entry agrees: nothing to explain"))
    return out, uses


def _verify_correction(ctx: Context, part: Part, e: Erratum, entries, expansion) -> dict:
    """{entry: (the corrected form agrees, detail)} for the entries the erratum explains."""
    provider = ctx.providers[part.provider]
    try:
        derived = derived_object(ctx, provider, part)
    except NotAvailable as exc:
        return {entry: (False, str(exc)) for entry in entries}
    formula = part.formula
    matrix_entries = part.is_matrix and entries and entries[0] is not None
    if e.corrected is not None:
        if matrix_entries and not isinstance(e.corrected, sp.MatrixBase):
            if part.transform == "gram":
                return {entry: (False, "an entry correction of a transformed matrix") for entry in entries}
            rows, columns = _labels(ctx.model, part, formula.shape)
            rows = rows or [str(i + 1) for i in range(formula.shape[0])]
            columns = columns or [str(j + 1) for j in range(formula.shape[1])]
            formula = formula.copy()
            for entry in entries:
                formula[_split_entry(entry, rows, columns)] = e.corrected
        else:
            formula = e.corrected
    outcomes, _, _ = _compare_part(ctx.registry, ctx.model, part, formula, derived, expansion, dict(e.definitions),
                                   entries=entries if matrix_entries else None, brief=True)
    out = {}
    for entry, o in outcomes:
        ok = o.agrees or o.status == "convention"
        out[entry] = (ok, "" if ok else (o.note or o.status))
    return out


def _replace(r: CheckResult, **changes) -> CheckResult:
    data = dict(r.__dict__)
    data.update(changes)
    return CheckResult(**data)


# ---------------------------------------------------------------- inferred conventions

INFERRED = "inferred-conventions"
INCONSISTENT = "inconsistent-conventions"
_INFER_KINDS = ("couplings", "tadpole", "mass2", "mixing", "points")


def _compile_entries(ctx: Context, parts, expansion, space: infer_mod.Space, flipped=frozenset()) -> dict:
    """{(equation, object, entry): Entry} for every entry of a part whose object follows the
    conventions through a law (and the printed potential itself, through its couplings).
    A column whose sign is free keeps the sign the comparison chose for the whole column
    (``flipped``: the entries taken with the opposite sign)."""
    vevs = tuple(v for _, v in ctx.model.vacuum.vevs) if ctx.model.vacuum else ()
    law = space.law(vevs)
    out = {}
    for part in parts:
        provider = ctx.providers.get(part.provider)
        if provider is None or provider.get is None or part.transform == "gram":
            continue
        kind = "couplings" if part.provider == "potential.expr" else provider.law
        if kind not in _INFER_KINDS or (provider.stage and provider.stage not in ctx.derivation.results):
            continue
        try:
            derived = derived_object(ctx, provider, part)
        except NotAvailable:
            continue
        printed, derived = _prepare(ctx.registry, ctx.model, part, part.formula, derived)
        if part.is_matrix != isinstance(derived, sp.MatrixBase) or (
                part.is_matrix and printed.shape != derived.shape):
            continue
        derived = law.apply(kind, derived)
        options = dict(relation=part.relation, order=part.order, expansion=expansion,
                       signs=(1, -1) if part.overall_sign == "free" else (1,),
                       seed=_seed("infer", part.equation, part.index))
        if part.is_matrix:
            rows, columns = _labels(ctx.model, part, printed.shape)
            rows = rows or [str(i + 1) for i in range(printed.shape[0])]
            columns = columns or [str(j + 1) for j in range(printed.shape[1])]
            cells = [(f"{r},{c}", printed[i, j], derived[i, j]) for i, r in enumerate(rows)
                     for j, c in enumerate(columns)]
        else:
            cells = [(None, printed, derived)]
        for entry, p, d in cells:
            key = (part.equation, part.object, entry)
            if key in flipped:
                d = -d
            compiled = infer_mod.compile_entry(key, p, d, space, **options)
            if compiled is not None:
                out[key] = compiled
    return out


def _infer(ctx: Context, parts, expansion, results):
    """The inferred conventions and the compiled entries (None without a potential)."""
    flipped = frozenset((r.equation, r.object, r.entry) for r in results if FLIPPED in r.note)
    pot = ctx.derivation.results.get("potential")
    if pot is None or not hasattr(pot, "contributions"):
        return None, {}
    space = infer_mod.Space.of(pot)
    start = time.perf_counter()
    entries = _compile_entries(ctx, parts, expansion, space, flipped)
    inference = infer_mod.infer(list(entries.values()), space)
    inference.seconds += time.perf_counter() - start
    return inference, entries


def infer_conventions(derivation: Derivation, providers: Mapping[str, Provider] | None = None) -> dict | None:
    """The paper's inferred conventions alone (:meth:`infer.Inference.to_json`), without the rest
    of the check: only the parts whose objects follow the conventions are compared (for the
    column signs the comparison chooses) and compiled. None without a printed registry."""
    model = derivation.model
    registry = load_registry(model)
    if registry is None:
        return None
    ctx = Context(derivation, registry, providers={**PROVIDERS, **dict(providers or {})})
    inference, _ = _inference_alone(ctx, expansion_for(model, registry))
    return inference.to_json() if inference is not None else None


def _inference_alone(ctx: Context, expansion):
    """The convention inference on the parts whose objects follow the conventions, without the
    rest of the check (only the parts with free column signs are compared first, for the signs
    the comparison chooses): ``(inference or None, its entries)``."""
    parts, flips = [], []
    for eq in ctx.registry.equations:
        for part in eq.parts:
            provider = ctx.providers.get(part.provider)
            if provider is not None and (provider.law in _INFER_KINDS or part.provider == "potential.expr"):
                parts.append(part)
                if part.column_signs == "free":
                    flips.extend(check_part(ctx, part, expansion, None))
    return _infer(ctx, parts, expansion, flips)


def benchmark_tables(derivation: Derivation, providers: Mapping[str, Provider] | None = None) -> dict | None:
    """The printed point tables under the printed and the inferred conventions, and the omitted
    invariants at their points (the keys ``benchmarks_under_inferred_conventions`` and
    ``omitted_invariants_at_benchmarks`` of checks.json), without the rest of the check: the
    inference as in :func:`infer_conventions`, the point tables' entries with their errata and
    root causes. None without a printed registry or without a point table."""
    model = derivation.model
    registry = load_registry(model)
    if registry is None or not point_tables(registry):
        return None
    ctx = Context(derivation, registry, providers={**PROVIDERS, **dict(providers or {})})
    expansion = expansion_for(model, registry)
    inference, entries = _inference_alone(ctx, expansion)
    results = [r for label in point_tables(registry) for r in _point_table(ctx, label)]
    results, _ = _apply_errata(ctx, results, read_errata(model, registry), expansion, {})
    results, causes = _root_causes(results, inference, entries, errata_causes(model))
    benchmarks, omitted = _benchmarks(ctx, registry, results, inference, causes)
    return {"inferred_conventions": inference.to_json() if inference is not None else None,
            "benchmarks_under_inferred_conventions": list(benchmarks),
            "omitted_invariants_at_benchmarks": list(omitted)}


def _apply_inference(results: list[CheckResult], inference, entries: dict) -> list[CheckResult]:
    """Entries that disagree under the derivation's conventions and agree under the inferred
    ones become ``convention`` (root cause: the inferred conventions); entries that agree only
    under the derivation's conventions are marked as an inconsistency of the paper."""
    if inference is None or not inference.assignment:
        return results
    described = "; ".join(inference.describe())
    out = []
    for r in results:
        e = entries.get((r.equation, r.object, r.entry))
        if e is None:
            out.append(r)
            continue
        under_inferred = e.at(inference.assignment, inference.space)
        if r.status == "disagrees" and under_inferred:
            r = _replace(r, status="convention", root_cause=INFERRED,
                         note=_join(r.note, f"agrees under the inferred conventions ({described})"))
        elif r.status in ("agrees", "agrees_to_order") and not under_inferred:
            r = _replace(r, root_cause=INCONSISTENT,
                         note=_join(r.note, "agrees under the derivation's conventions, not under the paper's "
                                            f"inferred ones ({described})"))
        out.append(r)
    return out


def _root_causes(results: list[CheckResult], inference, entries: dict, causes: dict) -> tuple:
    """Every entry that disagrees under the derivation's conventions (or agrees only under
    them) gets one root cause; causes are grouped: the inferred conventions, an erratum's named
    cause, another assignment under which the entry agrees (a per-entry slip of the paper's
    conventions), or else the entry's own equation."""
    out, members = [], {}
    texts = dict(causes)
    described = "; ".join(inference.describe()) if inference is not None else ""
    if inference is not None and inference.assignment:
        texts[INFERRED] = f"the paper's conventions differ from the derivation's: {described}"
        texts[INCONSISTENT] = (f"agree under the derivation's conventions but not under the paper's inferred ones "
                               f"({described}): the paper is not consistent in its conventions")
    for r in results:
        cause = r.root_cause
        counted = r.status == "disagrees" or (r.status == "convention") or cause == INCONSISTENT
        if not counted:
            out.append(r)
            continue
        if cause is None and r.status == "convention":
            cause = "declared-variant"
            texts.setdefault(cause, "agree under a declared convention variant of the model")
        if cause is None:
            e = entries.get((r.equation, r.object, r.entry))
            alternative = infer_mod.nearest(e, inference.assignment, inference.space) if (
                e is not None and inference is not None) else None
            if alternative:
                changes = "; ".join(inference.describe({**inference.assignment, **alternative}))
                cause = "assignment: " + changes
                texts.setdefault(cause, f"agree only under another assignment ({changes}) than the inferred one "
                                        f"({described or 'the derivation conventions'}): the paper is not "
                                        "consistent in its conventions")
        if cause is None:
            cause = f"eq. {r.equation}"
            texts.setdefault(cause, f"a disagreement of eq. {r.equation} that no convention explains")
        members.setdefault(cause, []).append(r)
        out.append(_replace(r, root_cause=cause))
    ordered = sorted(members.items(), key=lambda kv: (-len(kv[1]), kv[0]))
    roots = tuple(RootCause(c, texts.get(c, c), tuple(dict.fromkeys(r.equation for r in rs)), len(rs))
                  for c, rs in ordered)
    return out, roots


# ---------------------------------------------------------------- driver


_ORDER = {"disagrees": 0, "convention": 1, "incomplete": 2, "agrees_to_order": 3, "agrees": 4, "not_checked": 5}


def run(derivation: Derivation, *, sweep: bool = True, rederive: Rederive | None = None,
        providers: Mapping[str, Provider] | None = None, registry: Registry | None = None) -> CheckReport:
    """Compare every equation and table of the derivation's printed registry with what was derived.

    ``providers``: a study's providers, merged over :data:`PROVIDERS`. ``rederive(model, until)``
    runs the stages again for a model under other conventions (the sweep over declared variants
    needs it when no law maps the derived objects). ``registry``: compare with this printed
    registry instead of the derivation's own (a synthetic paper). With ``sweep``, the paper's
    conventions are inferred per term (:mod:`symflav.verify.infer`) and every disagreement gets
    a root cause."""
    model = derivation.model
    own = registry is None  # the derivation's errata belong to its own printed registry only
    registry = load_registry(model) if own else registry
    if registry is None:
        return CheckReport(model.name, (), (), (), banner=model.banner())
    compare.forget()
    _LATEX.clear()
    ctx = Context(derivation, registry, providers={**PROVIDERS, **dict(providers or {})})
    expansion = expansion_for(model, registry)
    variants = _Variants(ctx, rederive) if sweep else None
    results: list[CheckResult] = []
    parts = {}
    every_part = []
    for eq in registry.equations:
        if eq.operators:
            results.extend(_check_operators(ctx, eq))
        if eq.not_checked and not eq.parts:
            results.append(CheckResult(eq.label, eq.description, None, "not_checked", eq.latex, None, None, None,
                                       eq.not_checked, "", eq.relation, eq.order))
        for part in eq.parts:
            parts[(eq.label, part.object)] = part
            every_part.append(part)
            results.extend(check_part(ctx, part, expansion, variants))
    for label in charges_tables(registry, model):
        results.extend(_charges_table(ctx, label))
    for label in point_tables(registry):
        results.extend(_point_table(ctx, label))
    inference, entries = _infer(ctx, every_part, expansion, results) if sweep else (None, {})
    results = _apply_inference(results, inference, entries)
    errata = read_errata(model, registry) if own else ()
    results, uses = _apply_errata(ctx, results, errata, expansion, parts)
    results, causes = _root_causes(results, inference, entries, errata_causes(model) if own else {})
    labels = [eq.label for eq in registry.equations] + [f"Table {t}" for t in registry.tables]
    benchmarks, omitted = ((), ()) if not sweep else _benchmarks(ctx, registry, results, inference, causes)
    return CheckReport(model.name, tuple(results), tuple(_overall(label, results) for label in labels), tuple(uses),
                       tuple((label, _agreeing_variants(label, results)) for label in labels), model.banner(),
                       inference.to_json() if inference is not None else None, causes,
                       inference.seconds if inference is not None else 0.0, benchmarks, omitted)


def _agreeing_variants(label: str, results) -> tuple[str, ...]:
    """Declared variants under which every swept entry of the equation agrees."""
    swept = [dict(r.variants) for r in results if r.equation == label and r.variants]
    if not swept:
        return ()
    names = set(swept[0])
    return tuple(sorted(n for n in names if all(v.get(n) in ("agrees", "agrees_to_order") for v in swept)))


def _overall(label: str, results) -> tuple[str, str, str]:
    mine = [r for r in results if r.equation == label]
    if not mine:
        return (label, "not_checked", "no compared entry")
    checked = [r for r in mine if r.status != "not_checked"]
    if not checked:
        reasons = sorted({r.note for r in mine})
        return (label, "not_checked", "; ".join(reasons))
    worst = min(checked, key=lambda r: _ORDER[r.status])
    status = worst.status
    if status == "disagrees" and all(r.explained for r in checked if r.status == "disagrees"):
        status = "erratum"
    skipped = len(mine) - len(checked)
    note = f"{skipped} of {len(mine)} entries not checked" if skipped else ""
    return (label, status, note)


# ---------------------------------------------------------------- benchmarks under the inferred conventions

AGREES = "agrees within rounding"
NOT_STATIONARY = "not-stationary"


def inferred_scale(model: Model, inference) -> dict:
    """Symbol -> factor: the printed inputs in the derivation's normalization under the inferred
    conventions (V_paper(phi; p) = V(phi; K p); a coupling that enters squared gets sqrt(K))."""
    if inference is None:
        return {}
    names = model.symbols()
    out = {}
    for sym, value in inference.changes():
        if sym in inference.space.factor_symbols:
            coupling = inference.space.couplings[inference.space.factor_symbols.index(sym)]
            if coupling.name in names:
                out[names[coupling.name]] = sp.sqrt(value) if coupling in inference.space.squared else value
    return out


def _benchmarks(ctx: Context, registry: Registry, results, inference, causes) -> tuple[tuple, tuple]:
    """Every printed point table under the printed potential and the inferred conventions, and the
    omitted invariants switched on at its point (:mod:`symflav.verify.benchmark`)."""
    tables, omitted = [], []
    scale = inferred_scale(ctx.model, inference)
    texts = {c.id: c.explanation for c in causes}
    for label in point_tables(registry):
        point = registry.tables[label].get("point")
        if not point or not any(p.name == point for p in ctx.model.points):
            continue
        try:
            tables.append(_benchmark_table(ctx, label, point, results, scale, inference, texts))
        except NotAvailable as exc:
            tables.append({"table": f"Table {label}", "point": point, "not_available": str(exc)})
        try:
            omitted.extend(t.to_json() for t in benchmark_mod.omitted_terms(ctx, point))
        except NotAvailable:
            pass
    return tuple(tables), tuple(omitted)


def _benchmark_table(ctx: Context, label: str, point: str, results, scale: dict, inference, texts) -> dict:
    """Rows (printed, derived under the printed potential, derived under the inferred
    conventions, the root cause of what remains) for the vevs, the masses and the caption."""
    table = ctx.registry.tables[label]
    equation = f"Table {label}"
    printed = {name: (text, parse_number(text)) for column, text in table.get("inputs", {}).items()
               for name in _expand_pair(column)}
    mine = [r for r in results if r.equation == equation]
    info: dict = {}
    rows = _vacuum_rows(ctx, point, printed, scale, mine, texts, info)
    groups = [("spectrum", "spectrum", "spectrum.point", _point_spectrum, {}),
              ("caption", "mass insertion", "observables.point", _point_caption, {"route": "mass_insertion"}),
              ("caption", "mass basis", "observables.point", _point_caption, {})]
    for group, route, provider, compute, options in groups:
        items = table.get(group, {})
        if not items:
            continue
        derived = _numbers_of(ctx, equation, items, group, provider,
                              lambda c, p, pr, o=options, f=compute: f(c, p, pr, **o), point, printed)
        under = _numbers_of(ctx, equation, items, group, provider,
                            lambda c, p, pr, o=options, f=compute: f(c, p, pr, scale=scale, **o), point, printed)
        checked = {r.entry: r for r in mine if r.object == group}
        for d, u in zip(derived, under):
            rows.append(_row(route, d.entry, d.printed, d, u, checked, mine, group, texts))
    used = dict.fromkeys(c.strip() for r in rows if r["root_cause"] for c in r["root_cause"].split(","))
    return {"table": equation, "point": point, "conventions": inference.describe() if inference else [],
            "causes": {c: texts.get(c, c) for c in used},
            "inputs_rescaled": {str(s): _num(float(f) * float(printed[str(s)][1])) for s, f in scale.items()
                                if str(s) in printed},
            "not_applied": [d for s, d in zip(*_globals(inference))], **info,
            "rows": rows}


def _globals(inference):
    if inference is None:
        return [], []
    pairs = [(s, inference.space.describe(s, v)) for s, v in inference.changes()
             if s not in inference.space.factor_symbols]
    return [p[0] for p in pairs], [p[1] for p in pairs]


def _row(group: str, quantity: str, printed: str, derived: CheckResult, under: CheckResult, checked, mine,
         check_group: str, texts) -> dict:
    """One row; the root cause of what remains under the inferred conventions: the check's cause
    of the same entry, else the causes of the other disagreements of its group."""
    ok = under.status == "agrees"
    cause = None
    if not ok:
        own = checked.get(quantity)
        cause = own.root_cause if own is not None and own.root_cause else None
        if cause is None:
            others = sorted({r.root_cause for r in mine if r.object == check_group and r.root_cause})
            cause = ", ".join(others) or None
    explanation = AGREES if ok else "; ".join(texts.get(c.strip(), c.strip()) for c in cause.split(",")) if cause \
        else "no root cause found"
    return {"group": group, "quantity": quantity, "printed": printed,
            "derived": derived.derived, "derived_agrees": derived.status == "agrees",
            "inferred": under.derived, "inferred_agrees": ok, "root_cause": cause, "explanation": explanation}


def _vacuum_rows(ctx: Context, point: str, printed: dict, scale: dict, mine, texts, info: dict) -> list[dict]:
    """The vevs that a descent from the printed vevs reaches at the printed couplings (mu^2 as
    printed, relations imposed), under the printed potential and under the inferred conventions;
    agreement within the printed digits. ``info`` gets ``tadpoles_at_printed_vevs``: mu -> the
    mu^2 that make the printed vevs stationary under the inferred conventions and the printed mu^2."""
    if ctx.model.vacuum is None:
        return []
    try:
        both = [benchmark_mod.minimum_near(ctx, point), benchmark_mod.minimum_near(ctx, point, scale)]
    except NotAvailable:
        return []
    inputs = [r for r in mine if r.object in ("input", "relation", "alignment") and r.root_cause]
    values = _scaled(P.point_values(ctx, point), scale)
    need = {str(mu): {"needed": _num(ctx.stage("tadpoles").impose(e, eliminate=False).xreplace(values)),
                      "printed": _num(values[mu] ** 2)}
            for mu, e in ctx.stage("tadpoles").eliminated if mu in values}
    info["tadpoles_at_printed_vevs"] = need
    eliminated = "; ".join(f"{mu}^2 = {n['needed']} GeV^2 (printed {n['printed']})" for mu, n in need.items())
    texts.setdefault(NOT_STATIONARY, "the printed vevs are not a stationary point of the potential at the printed "
                                     "couplings (relations imposed" + (", inferred conventions" if scale else "")
                                     + f"): the tadpoles need {eliminated}")
    rows = []
    for name, vev in ctx.model.vacuum.vevs:
        key = str(vev)
        if key not in printed:
            continue
        text, value = printed[key]
        half = float(_half_unit(text))
        found = [b["vevs"][key] if b["converged"] and b["minimum"] else None for b in both]
        agrees = [v is not None and abs(v - float(value)) <= half for v in found]
        cause = None if agrees[1] else ", ".join([NOT_STATIONARY] + sorted({r.root_cause for r in inputs}))
        explanation = AGREES if agrees[1] else "; ".join(texts.get(c.strip(), c.strip()) for c in cause.split(","))
        rows.append({"group": "vacuum", "quantity": key, "printed": text,
                     "derived": None if found[0] is None else _num(found[0]), "derived_agrees": agrees[0],
                     "inferred": None if found[1] is None else _num(found[1]), "inferred_agrees": agrees[1],
                     "root_cause": cause, "explanation": explanation})
    return rows
