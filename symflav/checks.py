"""The compare stage: every printed equation against the derived object it claims.

Each part of the printed registry names a *provider* (:data:`PROVIDERS`): a small
function that takes the derivation and returns the derived object the part is
compared with, written in the registry's symbols. A provider whose stage did not
run yields ``not_checked`` with the reason "stage X not available"; a provider
registered without a function yet yields "provider P not wired yet".

Results follow the DESIGN.md ``check`` contract (``equation, object, entry, status,
printed, derived, difference, witness, note``, plus a ``summary``). Providers that
depend on conventions are swept over the model's declared variants; an entry that
disagrees under the derivation's conventions but agrees under a variant gets status
``convention``. Disagreements listed in the derivation's errata file with a one-line
explanation (and, where given, a corrected formula that must agree) are *explained*.
:attr:`CheckReport.ok` is true when every disagreement is explained and no erratum is
contradicted -- ``symflav check`` exits 0 exactly then.
"""

from __future__ import annotations

import re
import tomllib
import zlib
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any, Callable

import sympy as sp

from symflav import compare, pipeline
from symflav.compare import Expansion, Outcome
from symflav.errors import SpecError
from symflav.model import Model, Monomial
from symflav.parsing import ParseError, parse_number, parse_operator
from symflav.printed import Equation, Part, Registry
from symflav.printed import load as load_registry
from symflav.report import printer


class NotAvailable(Exception):
    """A provider cannot give its object; the message is the reason."""


@dataclass(frozen=True)
class Context:
    """What a provider sees: the derivation, its registry, the part being checked."""

    derivation: pipeline.Derivation
    registry: Registry

    @property
    def model(self) -> Model:
        return self.derivation.model

    def stage(self, name: str):
        if name not in self.derivation.results:
            raise NotAvailable(f"stage {name} not available")
        return self.derivation.results[name]

    def field_index(self, part: Part) -> int:
        names = list(self.model.scalar_names)
        if part.select in names:
            return names.index(part.select)
        if isinstance(part.select, int) and 0 <= part.select < len(names):
            return part.select
        raise NotAvailable(f"select {part.select!r} is not a field of the model")


@dataclass(frozen=True)
class Provider:
    """Where a printed part finds its derived counterpart.

    ``get(ctx, part)`` returns a sympy expression or matrix in the registry's symbols
    (or raises :class:`NotAvailable`); ``None`` means not wired yet. ``conventional``
    providers are re-derived under every declared convention variant.
    """

    name: str
    stage: str | None
    get: Callable[[Context, Part], Any] | None
    conventional: bool
    description: str


def _select(sequence, part: Part, ctx: Context):
    if isinstance(part.select, int):
        try:
            return sequence[part.select]
        except IndexError:
            raise NotAvailable(f"no entry {part.select}") from None
    return sequence[ctx.field_index(part)]


def _potential_expr(ctx: Context, part: Part):
    return ctx.stage("potential").expr


def _field_expansion(ctx: Context, part: Part):
    from symflav import potential, symbols

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


def _attribute(stage: str, attribute: str, pick: bool = False):
    def get(ctx: Context, part: Part):
        value = getattr(ctx.stage(stage), attribute, None)
        if value is None:
            raise NotAvailable(f"stage {stage} has no attribute {attribute}")
        return _select(value, part, ctx) if pick else value

    return get


def _orthogonal(ctx: Context, part: Part):
    n = part.formula.shape[1]
    return sp.eye(n)


def _unwired(name: str, stage: str, description: str, conventional: bool = False) -> Provider:
    return Provider(name, stage, None, conventional, description)


PROVIDERS: dict[str, Provider] = {p.name: p for p in [
    # -- wired on this branch
    Provider("potential.expr", "potential", _potential_expr, True, "V(phi, phi^dagger) (eq. 3.3)"),
    Provider("potential.field_expansion", "potential", _field_expansion, True,
             "phi_i in real components around the vacuum (eq. A.1)"),
    Provider("conventions.mass_matrix_factor", "potential", _mass_matrix_factor, True,
             "(M^2)_ij / (d^2V/dsigma_i dsigma_j) (eq. A.4)"),
    Provider("property.orthogonal", None, _orthogonal, False,
             "U^T U = 1 for any orthogonal diagonalization (A.8, A.9)"),
    # -- from the stages of other branches (INTERFACES.md); wired where the interface is fixed
    Provider("tadpoles.general", "tadpoles", _tadpoles_general, True, "dV/dsigma_i at the vacuum, all parameters free"),
    Provider("mass_matrices.M_S2_vacuum", "mass_matrices", _attribute("mass_matrices", "M_S2_vacuum"), True,
             "CP-even mass matrix, relations and alignment imposed, mu^2 eliminated"),
    Provider("mass_matrices.M_P2_vacuum", "mass_matrices", _attribute("mass_matrices", "M_P2_vacuum"), True,
             "CP-odd mass matrix, relations and alignment imposed, mu^2 eliminated"),
    _unwired("tadpoles.stationary_points", "tadpoles", "stationary points (v_1^2, v_a^2, V) (eq. A.3)", True),
    _unwired("tadpoles.eliminated", "tadpoles", "mu^2 from the tadpoles, at the Table 2 point", True),
    _unwired("spectrum.scalar_masses2", "spectrum", "perturbative CP-even masses, paper's labels S_1..S_4", True),
    _unwired("spectrum.pseudoscalar_masses2", "spectrum", "perturbative CP-odd masses, paper's labels P_1..P_4", True),
    _unwired("spectrum.U_S", "spectrum", "CP-even mixing matrix at O(epsilon), sigma = U_S S", True),
    _unwired("spectrum.U_P", "spectrum", "CP-odd mixing matrix at O(epsilon), varphi = U_P P", True),
    _unwired("spectrum.point", "spectrum", "exact spectrum at the Table 2 point (GeV)", True),
    _unwired("loops.I_m", "loops", "closed form of I_m(x) (eq. A.18), x -> x_phi"),
    _unwired("loops.I_da", "loops", "closed form of I_Delta_a(x) (eq. A.18), x -> x_phi"),
    _unwired("loops.I_m_x", "loops", "closed form of I_m^x(x) (eq. 2.5), x -> x_phi"),
    _unwired("loops.I_da_x", "loops", "closed form of I_Delta_a^x(x) (eq. 2.7), x -> x_phi"),
    _unwired("flavor.m_FN", "flavor", "tree (FN) mass of one chain"),
    _unwired("flavor.m_RAD", "flavor", "radiative mass (mass-insertion or mass-basis route)"),
    _unwired("flavor.masses", "flavor", "m_mu, m_e: FN plus radiative (eqs. 3.7, 3.8)"),
    _unwired("flavor.lambda_eff", "flavor", "the quartic closing the loop (eq. 3.6)"),
    _unwired("observables.delta_a", "observables", "Delta a_l, mass-insertion route"),
    _unwired("observables.delta_a_mass_basis", "observables", "Delta a_l in the flavon mass basis (eq. A.16)"),
    _unwired("observables.delta_a_from_C", "observables", "Delta a_l from C_ll (eq. 1.4)"),
    _unwired("observables.br_ratio", "observables", "BR(l -> l' gamma)/BR(l -> l' nu nu) (eq. 1.7)"),
    _unwired("observables.ratio_da_mrad", "observables", "Delta a_l / m_l^RAD (eq. 2.9)"),
    _unwired("observables.ratio_fn_rad", "observables", "|lambda m_FN/m_RAD| (eq. 2.10)"),
    _unwired("observables.condition_3_11", "observables", "bounds and quantity of eq. (3.11)"),
    _unwired("observables.y_phi_l", "observables", "phi_1 coupling to leptons (eq. 4.1)"),
    _unwired("observables.d_e", "observables", "electron EDM (eq. 4.5)"),
    _unwired("observables.point", "observables", "Delta a_mu, Delta a_e, c_e, c_mu at the Table 2 point"),
]}


# ---------------------------------------------------------------- results


@dataclass(frozen=True)
class CheckResult:
    """One compared entry; keys of :meth:`to_json` follow the DESIGN.md contract."""

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
            "explained": self.explained,
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

    def matches(self, result: CheckResult) -> bool:
        return (self.equation == result.equation
                and (self.object is None or self.object == result.object)
                and (self.entry is None or result.entry in self.entry))


@dataclass(frozen=True)
class ErratumUse:
    erratum: Erratum
    state: str  # "explains", "unconfirmed" (its entry was not checked), "contradicted", "stale"
    note: str = ""

    def to_json(self) -> dict:
        e = self.erratum
        return {"equation": e.equation, "object": e.object, "entry": list(e.entry) if e.entry else None,
                "explanation": e.explanation,
                "state": self.state, "note": self.note}


@dataclass(frozen=True)
class CheckReport:
    derivation: str
    results: tuple[CheckResult, ...]
    equations: tuple[tuple[str, str, str], ...]  # (label, overall status, note)
    errata: tuple[ErratumUse, ...]
    variants: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (label, variants under which it all agrees)

    @property
    def unexplained(self) -> tuple[CheckResult, ...]:
        return tuple(r for r in self.results if r.unexplained)

    @property
    def problems(self) -> tuple[ErratumUse, ...]:
        return tuple(u for u in self.errata if u.state in ("stale", "contradicted"))

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
                       for state in ("explains", "unconfirmed", "contradicted", "stale")},
            "ok": self.ok,
        }

    def to_json(self) -> dict:
        return {
            "derivation": self.derivation,
            "results": [r.to_json() for r in self.results],
            "equations": [{"equation": e, "status": s, "note": n, "agrees_under_variants": list(dict(self.variants).get(e, ()))}
                          for e, s, n in self.equations],
            "errata": [u.to_json() for u in self.errata],
            "summary": self.summary(),
        }


# ---------------------------------------------------------------- running


class _Variants:
    """Derivations under each declared convention variant, run lazily as far as needed."""

    def __init__(self, derivation: pipeline.Derivation):
        self.base = derivation
        self.cache: dict[str, pipeline.Derivation] = {}

    def get(self, name: str, stage: str) -> pipeline.Derivation:
        cached = self.cache.get(name)
        if cached is not None and stage in cached.results:
            return cached
        if stage not in [s.name for s in pipeline.STAGES if not s.final]:
            raise NotAvailable(f"stage {stage} is not a pipeline stage")
        model = self.base.model
        self.cache[name] = pipeline.run(model.with_conventions(dict(model.variants)[name]), until=stage)
        return self.cache[name]


def expansion_for(model: Model, registry: Registry) -> Expansion | None:
    """epsilon = v_1/v_a as v_1 -> epsilon v_a (the model's small parameter)."""
    vac = model.vacuum
    if vac is None or vac.small_value is None:
        return None
    eps = registry.names[vac.small_name]
    num, den = sp.fraction(vac.small_value)
    if not (isinstance(num, sp.Symbol) and isinstance(den, sp.Symbol)):
        return None
    return Expansion(eps, ((num, eps * den),))


def _seed(*parts) -> int:
    return zlib.crc32("|".join(str(p) for p in parts).encode())


def _latex(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, sp.MatrixBase):
        return printer.latex(value)
    return printer.latex(value)


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


def _compare_part(registry, model, part: Part, printed, derived, expansion, definitions=None):
    printed, derived = _prepare(registry, model, part, printed, derived, definitions)
    options = dict(relation=part.relation, order=part.order if part.relation != "=" else None,
                   expansion=expansion, seed=_seed(part.equation, part.index))
    if options["order"] is not None and expansion is None:
        options["order"] = None
    if part.is_matrix:
        if not isinstance(derived, sp.MatrixBase):
            return [(None, Outcome("disagrees", "symbolic", note="derived object is not a matrix"))], printed, derived
        rows, columns = _labels(model, part, printed.shape)
        if part.transform == "gram":
            rows = columns
        return compare.compare_matrix(printed, derived, rows=rows, columns=columns,
                                      column_signs=part.column_signs, **options), printed, derived
    return [(None, compare.compare(printed, derived, **options))], printed, derived


def _labels(model: Model, part: Part, shape):
    n, m = shape
    names = list(model.scalar_names)
    rows = list(part.rows) if part.rows else (names if n == len(names) else None)
    columns = list(part.columns) if part.columns else (names if m == len(names) else None)
    return rows, columns


def _entry_value(value, entry: str | None, rows, columns):
    if entry is None or not isinstance(value, sp.MatrixBase):
        return value
    r, c = entry.split(",")
    rows = rows or [str(i + 1) for i in range(value.shape[0])]
    columns = columns or [str(j + 1) for j in range(value.shape[1])]
    return value[rows.index(r), columns.index(c)]


def check_part(ctx: Context, part: Part, expansion, variants: _Variants | None) -> list[CheckResult]:
    """All results of one part (one per matrix entry)."""
    registry, model = ctx.registry, ctx.model
    provider = PROVIDERS.get(part.provider)
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
        derived = provider.get(ctx, part)
    except NotAvailable as exc:
        return not_checked(str(exc))
    outcomes, printed_full, derived_full = _compare_part(registry, model, part, part.formula, derived, expansion)
    rows, columns = _labels(model, part, printed_full.shape) if part.is_matrix else (None, None)
    if part.transform == "gram" and part.is_matrix:
        rows = columns
    sweep: dict[str, dict] = {}
    if provider.conventional and variants is not None and model.variants:
        for name, _ in model.variants:
            try:
                vctx = Context(variants.get(name, provider.stage), registry)
                vderived = provider.get(vctx, part)
            except NotAvailable:
                continue
            voutcomes, _, _ = _compare_part(registry, vctx.model, part, part.formula, vderived, expansion)
            sweep[name] = {entry: o for entry, o in voutcomes}
    results = []
    for entry, outcome in outcomes:
        variant_status = tuple((name, table[entry].status) for name, table in sweep.items() if entry in table)
        status, note = outcome.status, outcome.note
        if status == "disagrees":
            agreeing = [name for name, s in variant_status if s in ("agrees", "agrees_to_order")]
            if agreeing:
                status = "convention"
                described = "; ".join(_describe_variant(model, n) for n in agreeing)
                note = _join(note, f"agrees under the declared variant(s) {described}; "
                                   f"the derivation uses {_describe(model.conventions, model)}")
        results.append(CheckResult(
            equation=part.equation, object=part.object, entry=entry, status=status,
            printed=printed_latex if entry is None else _latex(_entry_value(printed_full, entry, rows, columns)),
            derived=_latex(_entry_value(derived_full, entry, rows, columns)),
            difference=_latex(outcome.difference) if outcome.difference is not None else None,
            witness=outcome.witness.to_json() if outcome.witness else None,
            note=note, provider=part.provider, relation=part.relation, order=part.order,
            order_found=outcome.order, method=outcome.method, variants=variant_status,
        ))
    return results


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
    """Eq. (3.3)'s operator list against the invariant operators (invariants stage)."""
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
        results.append(CheckResult(eq.label, "operators", text, "agrees" if dropped else "disagrees", "",
                                   tex(text), None, None,
                                   ("allowed by Table 1 but not printed; " + note) if dropped else note,
                                   "operators.table"))
    return results


def _table1(ctx: Context) -> list[CheckResult]:
    table = ctx.registry.tables.get("1")
    if not table:
        return []
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
                results.append(CheckResult("Table 1", "charges", entry, "disagrees", _tex_cell(printed), None, None, None,
                                           f"{fname} is not a field of the model", "model.charges"))
                continue
            values = _printed_charges(printed, sym)
            shown = ", ".join(str(q) for q in sorted(derived))
            if values == derived:
                status, note = "agrees", ""
            elif values is not None and {abs(q) for q in derived} == values:
                status = "agrees"
                note = "the model holds both signs of the printed charges (eq. 3.1 uses chi^(-2), chi^(-6), chi^(-8))"
            elif values is None and sym.order and len(derived) == sym.order:
                status, note = "agrees", "every Z_N value"
            else:
                status, note = "disagrees", f"model charges: {shown}"
            results.append(CheckResult("Table 1", "charges", entry, status, _tex_cell(printed), shown, None, None, note,
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


def _table2(ctx: Context) -> list[CheckResult]:
    """Table 2: inputs vs the model's point, and vs the model's relations and alignment."""
    table = ctx.registry.tables.get("2")
    if not table:
        return []
    model = ctx.model
    names = model.symbols()
    printed: dict[str, tuple[str, sp.Rational]] = {}
    for column, text in table.get("inputs", {}).items():
        for name in _expand_pair(column):
            printed[name] = (text, parse_number(text))
    point = model.point("table2").as_dict() if any(p.name == "table2" for p in model.points) else {}
    results = []
    for name, (text, value) in printed.items():
        if name not in point:
            results.append(CheckResult("Table 2", "input", name, "disagrees", text, None, None, None,
                                       "not in the model's point table2", "model.point"))
            continue
        ok = point[name] == value
        results.append(CheckResult("Table 2", "input", name, "agrees" if ok else "disagrees", text,
                                   _num(point[name]), None if ok else _num(value - point[name]), None,
                                   "" if ok else "the model's point table2 differs from the print", "model.point"))
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
        results.append(CheckResult("Table 2", kind, str(lhs), "agrees" if ok else "disagrees",
                                   printed_text(printed, lhs), printer.latex(rhs) + " = " + _num(predicted),
                                   None if ok else _num(diff), None if ok else witness, note, f"model.{kind}s"))
    for group, provider in (("spectrum", "spectrum.point"), ("caption", "observables.point")):
        items = table.get(group, {})
        if not items:
            continue
        stage = PROVIDERS[provider].stage
        reason = (f"stage {stage} not available" if stage not in ctx.derivation.results
                  else f"provider {provider} not wired yet (stage {stage} present)")
        for name, text in items.items():
            results.append(CheckResult("Table 2", group, name, "not_checked", text, None, None, None, reason,
                                       provider))
    return results


def printed_text(printed, symbol) -> str:
    return printed[str(symbol)][0]


def _num(value) -> str:
    return format(float(value), ".6g")


# ---------------------------------------------------------------- errata


def read_errata(model: Model, registry: Registry) -> tuple[Erratum, ...]:
    path = errata_path(model)
    if path is None:
        return ()
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError(str(path), None, f"cannot read ({exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(str(path), None, f"malformed TOML ({exc})") from None
    errata = []
    for i, item in enumerate(raw.get("errata", [])):
        key = f"errata[{i}]"
        if not isinstance(item, dict):
            raise SpecError(str(path), key, "expected a table")
        unknown = set(item) - {"equation", "object", "entry", "explanation", "corrected", "definitions", "witness"}
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
        errata.append(Erratum(item["equation"], item.get("object"), entry,
                              item["explanation"].strip(), corrected, tuple(definitions), key))
    return tuple(errata)


def errata_path(model: Model) -> Path | None:
    """``errata.toml`` next to the model file, if there is one."""
    path = Path(model.path).with_name("errata.toml")
    return path if path.is_file() else None


def _apply_errata(ctx: Context, results: list[CheckResult], errata, expansion, parts: dict):
    uses = []
    out = []
    claimed = {id(e): [] for e in errata}
    failed: dict[int, bool] = {}
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
                ok, detail = _verify_correction(ctx, part, e, r.entry, expansion)
                note += "; the corrected form agrees" if ok else f"; but the corrected form does not agree ({detail})"
                if not ok:
                    explained = False
                    failed[id(e)] = True
            notes.append(note)
        out.append(_replace(r, erratum=matching[0].explanation, explained=explained,
                            note=_join(r.note, "; ".join(notes))))
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
        else:
            uses.append(ErratumUse(e, "stale", "the printed entry agrees: nothing to explain"))
    return out, uses


def _verify_correction(ctx: Context, part: Part, e: Erratum, entry, expansion):
    provider = PROVIDERS[part.provider]
    derived = provider.get(ctx, part)
    formula = part.formula
    if e.corrected is not None:
        if entry is not None and part.is_matrix and not isinstance(e.corrected, sp.MatrixBase):
            rows, columns = _labels(ctx.model, part, formula.shape)
            if part.transform == "gram":
                return False, "an entry correction of a transformed matrix"
            formula = formula.copy()
            r, c = entry.split(",")
            formula[(rows or []).index(r), (columns or []).index(c)] = e.corrected
        else:
            formula = e.corrected
    outcomes, _, _ = _compare_part(ctx.registry, ctx.model, part, formula, derived, expansion, dict(e.definitions))
    selected = [o for en, o in outcomes if entry is None or en == entry]
    bad = [o for o in selected if not o.agrees]
    return (not bad), (bad[0].note or bad[0].status) if bad else ""


def _replace(r: CheckResult, **changes) -> CheckResult:
    data = dict(r.__dict__)
    data.update(changes)
    return CheckResult(**data)


# ---------------------------------------------------------------- driver


_ORDER = {"disagrees": 0, "convention": 1, "agrees_to_order": 2, "agrees": 3, "not_checked": 4}


def run(derivation: pipeline.Derivation, *, sweep: bool = True) -> CheckReport:
    """Compare every equation of the derivation's printed registry with what was derived."""
    model = derivation.model
    registry = load_registry(model)
    if registry is None:
        return CheckReport(model.name, (), (), ())
    ctx = Context(derivation, registry)
    expansion = expansion_for(model, registry)
    variants = _Variants(derivation) if sweep else None
    results: list[CheckResult] = []
    parts = {}
    for eq in registry.equations:
        if eq.operators:
            results.extend(_check_operators(ctx, eq))
        if eq.not_checked and not eq.parts:
            results.append(CheckResult(eq.label, eq.description, None, "not_checked", eq.latex, None, None, None,
                                       eq.not_checked, "", eq.relation, eq.order))
        for part in eq.parts:
            parts[(eq.label, part.object)] = part
            results.extend(check_part(ctx, part, expansion, variants))
    results.extend(_table1(ctx))
    results.extend(_table2(ctx))
    results, uses = _apply_errata(ctx, results, read_errata(model, registry), expansion, parts)
    labels = [eq.label for eq in registry.equations] + [f"Table {t}" for t in registry.tables]
    return CheckReport(model.name, tuple(results), tuple(_overall(label, results) for label in labels), tuple(uses),
                       tuple((label, _agreeing_variants(label, results)) for label in labels))


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
