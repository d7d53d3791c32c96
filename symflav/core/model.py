"""Frozen description of a flavor model: fields, charges, terms, conventions.

A :class:`Model` is pure data read from a derivation file by :mod:`symflav.core.spec`.
Stages never modify it; a charge change gives a new model (:meth:`Model.with_charges`).

Charges: U(1) charges are exact :class:`fractions.Fraction`; Z_N charges are
integers in ``0..N-1``. A monomial in the scalars is stored as powers
``((n_1, m_1), ..., (n_k, m_k))``: ``n_i`` of phi_i and ``m_i`` of phi_i^dagger, in the
order of :attr:`Model.scalars`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Iterable

import sympy as sp

from symflav.core.constants import Constant

Powers = tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class Symmetry:
    """A U(1) (``order is None``) or a Z_N (``order == N``)."""

    name: str
    order: int | None
    latex: str

    @property
    def is_u1(self) -> bool:
        return self.order is None

    def reduce(self, charge) -> Fraction:
        """Charge as compared for invariance (mod N for Z_N)."""
        return Fraction(charge) if self.is_u1 else Fraction(int(charge) % self.order)


@dataclass(frozen=True)
class Charged:
    """Something with a name, LaTeX and one charge per symmetry."""

    name: str
    latex: str
    charges: tuple[tuple[str, Fraction], ...]

    def charge(self, symmetry: str) -> Fraction:
        return dict(self.charges)[symmetry]


@dataclass(frozen=True)
class Scalar(Charged):
    """Complex scalar of the potential; ``label`` indexes couplings (lambda_1a)."""

    label: str = ""


@dataclass(frozen=True)
class Spectator(Charged):
    """Scalar of the Yukawa sector only (the Higgs); ``vev`` in GeV."""

    vev: sp.Expr = sp.S.Zero
    reason: str = ""


@dataclass(frozen=True)
class Fermion(Charged):
    """Chiral lepton field; ``chirality`` is "L" or "R"; ``lepton`` its flavor."""

    chirality: str = "L"
    lepton: str = ""


@dataclass(frozen=True)
class Mediator(Charged):
    """One vector-like mediator species of a family; ``like`` = SM chirality it copies."""

    family: str = ""
    like: str = "R"
    mass: sp.Expr = sp.S.Zero


@dataclass(frozen=True)
class Parameter:
    """A model parameter; ``kind`` in ("mass", "coupling", "vev"); GeV for mass/vev."""

    name: str
    symbol: sp.Symbol
    latex: str
    kind: str = "coupling"
    default: sp.Rational | None = None
    note: str = ""
    generated: bool = False
    unit: str = ""  # declared unit; empty: GeV for mass and vev, dimensionless for coupling

    @property
    def unit_name(self) -> str:
        return self.unit or {"mass": "GeV", "vev": "GeV"}.get(self.kind, "dimensionless")


@dataclass(frozen=True)
class Monomial:
    """Product of scalars and conjugates; see module docstring for ``powers``."""

    powers: Powers

    @property
    def degree(self) -> int:
        return sum(n + m for n, m in self.powers)

    @property
    def is_hermitian(self) -> bool:
        return all(n == m for n, m in self.powers)

    def conjugate(self) -> "Monomial":
        return Monomial(tuple((m, n) for n, m in self.powers))

    def net(self) -> tuple[int, ...]:
        """Net power n_i - m_i of each field (what charges act on)."""
        return tuple(n - m for n, m in self.powers)

    def is_canonical(self) -> bool:
        """Of O and O^dagger, the canonical one has its first nonzero net power positive."""
        for k in self.net():
            if k:
                return k > 0
        return True

    def canonical(self) -> "Monomial":
        return self if self.is_canonical() else self.conjugate()

    def charge(self, symmetry: Symmetry, scalars: Iterable[Scalar]) -> Fraction:
        total = sum((k * s.charge(symmetry.name) for k, s in zip(self.net(), scalars)), Fraction(0))
        return symmetry.reduce(total)

    def factors(self) -> tuple[list[tuple[int, int]], list[tuple[int, int]], list[tuple[int, int]]]:
        """Split into hermitian pairs, daggered fields and plain fields: lists of (field index, power).

        ``(phi1† phi1) phi3† phi1^3`` -> pairs [(0, 1)], daggers [(1, 1)], plain [(0, 3)].
        """
        pairs, daggers, plain = [], [], []
        for i, (n, m) in enumerate(self.powers):
            k = min(n, m)
            if k:
                pairs.append((i, k))
            if m - k:
                daggers.append((i, m - k))
            if n - k:
                plain.append((i, n - k))
        return pairs, daggers, plain

    def text(self, names: Iterable[str]) -> str:
        """Readable form such as ``phia† phib† phi1^2`` or ``(phi1† phi1) phi3† phi1^3``.

        Hermitian pairs are grouped as ``(phi† phi)^k``; the rest is written with the
        conjugated fields first. :func:`symflav.core.parsing.parse_operator`
        reads it back.
        """
        names = list(names)
        pairs, daggers, plain = self.factors()
        power = lambda k: f"^{k}" if k > 1 else ""  # noqa: E731
        return " ".join(
            [f"({names[i]}† {names[i]}){power(k)}" for i, k in pairs]
            + [f"{names[i]}†{power(k)}" for i, k in daggers]
            + [f"{names[i]}{power(k)}" for i, k in plain]
        )


@dataclass(frozen=True)
class Term:
    """A named potential term: ``coefficient`` times ``operator`` (+ h.c. if non-hermitian)."""

    operator: Monomial
    coefficient: sp.Expr
    key: str
    explicit_breaking: tuple[str, ...] = ()
    reason: str = ""


@dataclass(frozen=True)
class Drop:
    """An allowed operator deliberately left out of the potential, with the reason."""

    operator: Monomial
    reason: str
    key: str


@dataclass(frozen=True)
class Conventions:
    """Switchable conventions (docs/architecture.md, "Conventions").

    * ``quadratic_sign``: V contains ``quadratic_sign * mu^2 * O`` for degree-2 operators.
    * ``nonhermitian_factor``: V contains ``factor * (c O + h.c.)`` for non-hermitian O.
    * ``field_expansion``: "unnormalized" (phi = v + sigma + i varphi) or
      "canonical" (phi = (v + sigma + i varphi)/sqrt 2).
    * ``mass_matrix_factor``: (M^2)_ij = factor * d^2 V / d sigma_i d sigma_j.
    """

    quadratic_sign: int = -1
    nonhermitian_factor: sp.Rational = sp.S.One
    field_expansion: str = "unnormalized"
    mass_matrix_factor: sp.Rational = sp.Rational(1, 2)

    EXPANSIONS = ("unnormalized", "canonical")

    def as_dict(self) -> dict:
        return {
            "quadratic_sign": self.quadratic_sign,
            "nonhermitian_factor": str(self.nonhermitian_factor),
            "field_expansion": self.field_expansion,
            "mass_matrix_factor": str(self.mass_matrix_factor),
        }

    def describe(self) -> dict:
        """Human-readable statement of each convention."""
        expansion = {
            "unnormalized": "phi_i = v_i + sigma_i + i varphi_i",
            "canonical": "phi_i = (v_i + sigma_i + i varphi_i)/sqrt(2)",
        }[self.field_expansion]
        sign = "+" if self.quadratic_sign > 0 else "-"

        def times(factor) -> str:  # a factor 1 is not written
            return "" if factor == 1 else f"{factor} * "

        return {
            "quadratic_terms": f"V contains {sign}mu^2 phi^dagger phi (and {sign}mu'^2 phi^2 + h.c.)",
            "nonhermitian_terms": f"V contains {times(self.nonhermitian_factor)}(lambda O + h.c.)",
            "field_expansion": expansion,
            "mass_matrix": f"(M^2)_ij = {times(self.mass_matrix_factor)}d^2V/dsigma_i dsigma_j",
        }


@dataclass(frozen=True)
class Vacuum:
    """Vev symbol of each scalar, alignment substitutions, the small parameter."""

    vevs: tuple[tuple[str, sp.Symbol], ...]
    alignment: tuple[tuple[sp.Symbol, sp.Expr], ...] = ()
    small_name: str = "epsilon"
    small_latex: str = r"\epsilon"
    small_value: sp.Expr | None = None

    def vev(self, scalar: str) -> sp.Symbol:
        return dict(self.vevs)[scalar]


SQUARE = "^2"  # a point key "mu_1^2" gives the square of mu_1 directly (GeV^2, any sign)


@dataclass(frozen=True)
class Point:
    """A named parameter point; ``values`` are exact rationals as written (GeV), keyed by a
    parameter's name or, for the coupling of a quadratic operator, by ``NAME^2``: its signed
    square (GeV^2)."""

    name: str
    values: tuple[tuple[str, sp.Rational], ...]
    source: str = ""
    note: str = ""

    def as_dict(self) -> dict[str, sp.Rational]:
        return dict(self.values)


def parameter_value(name: str, value) -> tuple[str, sp.Expr]:
    """(parameter name, value of that parameter) for a point entry: ``NAME^2 = s`` gives NAME
    the value sqrt(s) -- imaginary for s < 0, which is what a quadratic coupling entering the
    potential only as NAME**2 needs (NAME**2 = s exactly)."""
    if name.endswith(SQUARE):
        return name[: -len(SQUARE)], sp.sqrt(sp.sympify(value))
    return name, value


@dataclass(frozen=True)
class Vertex:
    """One declared Yukawa vertex ``coupling * fbar field S + h.c.`` of the FN sector.

    ``kind``: "lepton_R" (``chibar_L l_R S``: a mediator and a right-handed lepton, S a flavon
    or its conjugate), "mediator" (``chibar' chi S``, a Dirac scalar coupling of two mediators;
    its h.c. ``chibar chi' S^dagger`` is the same vertex read backwards) or "lepton_L"
    (``lbar_L chi_R H``, H the Higgs). ``bar`` and ``field`` name a mediator species (as
    ``[[mediators]]`` expands them, e.g. ``chi(-1,1)``) or a mediator family (e.g. ``chi``:
    every species of the family for which the vertex is invariant, the sum over charges of a
    Lagrangian such as sum_q chibar^(q) chi^(q+1) phi), or a lepton field. ``coupling``: the
    vertex's coupling, or None for the coupling of the chain's lepton ([yukawa] couplings);
    couplings are taken real (the h.c. carries the same value)."""

    kind: str
    bar: str
    field: str
    scalar: str
    conjugate: bool
    coupling: sp.Expr | None
    text: str


@dataclass(frozen=True)
class VertexSet:
    """A named set of declared vertices (``[yukawa.vertex_sets.NAME]``)."""

    name: str
    vertices: tuple[Vertex, ...]
    description: str = ""


ALL_ALLOWED = "all_allowed"  # the vertex mode with every vertex the charges allow


def vertex_fields(model: "Model", name: str) -> tuple[Charged, ...]:
    """The fields a vertex slot names: a lepton field, a mediator species, or every species
    of a mediator family."""
    for group in (model.fermions, model.mediators):
        for item in group:
            if item.name == name:
                return (item,)
    return tuple(m for m in model.mediators if m.family == name)


def vertex_instances(model: "Model", vertex: Vertex) -> tuple[tuple[str, str], ...]:
    """(bar, field) pairs of fields for which ``bar^dagger field S`` is invariant under every
    symmetry: q(field) + q(S) = q(bar) (mod N for Z_N), with q(S) = -q(phi) for S = phi^dagger."""
    scalars = {s.name: s for s in model.scalars + model.spectators}
    sign = -1 if vertex.conjugate else 1
    out = []
    for bar in vertex_fields(model, vertex.bar):
        for fld in vertex_fields(model, vertex.field):
            if bar.name == fld.name:
                continue
            if all(sym.reduce(fld.charge(sym.name) + sign * scalars[vertex.scalar].charge(sym.name)
                              - bar.charge(sym.name)) == 0 for sym in model.symmetries):
                out.append((bar.name, fld.name))
    return tuple(out)


@dataclass(frozen=True)
class Yukawa:
    """Froggatt-Nielsen sector: Higgs name, per-lepton coupling, extra insertions, and the
    vertex mode: ``vertex_set`` is ALL_ALLOWED (every vertex the charges allow, each with the
    lepton's coupling) or the name of one of ``vertex_sets``."""

    higgs: str
    couplings: tuple[tuple[str, sp.Expr], ...]
    extra_insertions: int = 0
    vertex_sets: tuple[VertexSet, ...] = ()
    vertex_set: str = ALL_ALLOWED

    @property
    def modes(self) -> tuple[str, ...]:
        """Every vertex mode the model can run: ALL_ALLOWED and each declared set."""
        return (ALL_ALLOWED,) + tuple(v.name for v in self.vertex_sets)

    @property
    def declared(self) -> VertexSet | None:
        """The active declared vertex set, None in the all-allowed mode."""
        return {v.name: v for v in self.vertex_sets}.get(self.vertex_set)


@dataclass(frozen=True)
class ScanRange:
    """One parameter of a declared scan: sampled on [low, high] ("linear" or "log" scale), or,
    with ``fixed_by`` (the name of a lepton-mass parameter), solved from that mass and kept
    only inside [low, high]. GeV for masses and vevs."""

    parameter: str
    low: float
    high: float
    scale: str = "linear"
    fixed_by: str | None = None


@dataclass(frozen=True)
class ScanSpec:
    """A named parameter scan declared in the model file (``[scans.NAME]``)."""

    name: str
    description: str
    ranges: tuple[ScanRange, ...]
    points: int = 20000
    seed: int = 0
    confirm: int = 16
    n_sigma: float = 2.0

    def range(self, parameter: str) -> ScanRange:
        return {r.parameter: r for r in self.ranges}[parameter]


@dataclass(frozen=True)
class Model:
    """A whole derivation, as read from its file."""

    name: str
    title: str
    reference: str
    path: str
    source_hash: str
    degree: int
    symmetries: tuple[Symmetry, ...]
    scalars: tuple[Scalar, ...]
    spectators: tuple[Spectator, ...] = ()
    fermions: tuple[Fermion, ...] = ()
    mediators: tuple[Mediator, ...] = ()
    parameters: tuple[Parameter, ...] = ()
    terms: tuple[Term, ...] = ()
    drops: tuple[Drop, ...] = ()
    conventions: Conventions = field(default_factory=Conventions)
    variants: tuple[tuple[str, Conventions], ...] = ()
    relations: tuple[tuple[sp.Symbol, sp.Expr], ...] = ()
    vacuum: Vacuum | None = None
    points: tuple[Point, ...] = ()
    yukawa: Yukawa | None = None
    printed_path: str | None = None
    charge_overrides: tuple[tuple[str, str, Fraction], ...] = ()
    scans: tuple[ScanSpec, ...] = ()
    study: str | None = None  # [derivation] study: the name of a built-in study (symflav.studies)
    charges_in_file: tuple[tuple[str, str, Fraction], ...] = ()  # charges the overrides replaced, as in the file
    constants: tuple[Constant, ...] = ()  # built-in constants the file does not override
    references: tuple[tuple[str, str], ...] = ()  # derived object -> where its study's paper prints it
    generated: tuple[Parameter, ...] = ()  # couplings the operator enumeration named (known once it ran)
    quadratic: tuple[str, ...] = ()  # couplings entering V as NAME**2 (a point may give NAME^2), idem
    notes: tuple[str, ...] = ()  # what was left out of the file's data, and why (after --charge)

    # ---- look-ups
    @property
    def scalar_names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.scalars)

    def symmetry(self, name: str) -> Symmetry:
        return {s.name: s for s in self.symmetries}[name]

    def parameter(self, name: str) -> Parameter:
        """A declared parameter, or a coupling the operator enumeration generated."""
        return {p.name: p for p in self.parameters + self.generated}[name]

    def symbols(self) -> dict[str, sp.Symbol]:
        """Name -> symbol of every declared parameter and generated coupling."""
        return {p.name: p.symbol for p in self.parameters + self.generated}

    def point_symbols(self, name: str) -> dict[sp.Symbol, sp.Expr]:
        """The values of a named point by symbol (``NAME^2`` entries as NAME = sqrt(value))."""
        out = {}
        for key, value in self.point(name).values:
            pname, v = parameter_value(key, value)
            out[self.parameter(pname).symbol] = v
        return out

    def scan(self, name: str) -> ScanSpec:
        return {s.name: s for s in self.scans}[name]

    def point(self, name: str) -> Point:
        return {p.name: p for p in self.points}[name]

    @property
    def leptons(self) -> tuple[str, ...]:
        """The lepton flavors of [[fermions]], in the order of the file."""
        return tuple(dict.fromkeys(f.lepton for f in self.fermions))

    def constant(self, name: str) -> sp.Rational | None:
        """A physical constant: the default of the model's parameter of that name (an
        override), else the built-in value (:mod:`symflav.core.constants`), else None."""
        declared = {p.name: p for p in self.parameters}
        if name in declared:
            return declared[name].default
        return {c.name: c.value for c in self.constants}.get(name)

    def constant_info(self, name: str) -> tuple[str, str] | None:
        """(unit, description) of a constant: the model's parameter, else the built-in one."""
        declared = {p.name: p for p in self.parameters}
        if name in declared:
            p = declared[name]
            return p.unit_name, p.note or f"{p.kind} {name}"
        c = {c.name: c for c in self.constants}.get(name)
        return (c.unit, c.description) if c else None

    def reference_for(self, key: str) -> str | None:
        """Where the study's paper prints the derived object ``key`` (e.g. an equation label),
        or None; generic code only shows it."""
        return dict(self.references).get(key)

    def cite(self, key: str, template: str = " (eq. {})") -> str:
        """``template`` filled with :meth:`reference_for` of ``key``, or "" without one."""
        label = self.reference_for(key)
        return template.format(label) if label else ""

    def changed_charges(self) -> tuple[tuple[str, str, Fraction, Fraction], ...]:
        """(field, symmetry, charge in the file, charge now) for every charge a --charge
        option changed (an override that repeats the file's charge is no change)."""
        before = {(f, s): q for f, s, q in self.charges_in_file}
        now = {(f, s): q for f, s, q in self.charge_overrides}
        return tuple((f, s, before[(f, s)], q) for (f, s), q in now.items()
                     if (f, s) in before and before[(f, s)] != q)

    def all_charged(self) -> dict[str, Charged]:
        everything: dict[str, Charged] = {}
        for group in (self.scalars, self.spectators, self.fermions, self.mediators):
            for item in group:
                everything[item.name] = item
        return everything

    def relation_map(self) -> dict[sp.Symbol, sp.Expr]:
        return dict(self.relations)

    # ---- derived models
    def with_charges(self, overrides: Iterable[tuple[str, str, Fraction]]) -> "Model":
        """A copy with some charges replaced: ``(field, symmetry, value)`` triples."""
        overrides = tuple(overrides)
        if not overrides:
            return self
        table: dict[tuple[str, str], Fraction] = {(f, s): q for f, s, q in overrides}
        everything = self.all_charged()
        before = {(f, s): q for f, s, q in self.charges_in_file}
        for f, s, _ in overrides:
            before.setdefault((f, s), everything[f].charge(s))

        def recharge(item):
            charges = tuple((s, table.get((item.name, s), q)) for s, q in item.charges)
            return dataclasses.replace(item, charges=charges)

        return dataclasses.replace(
            self,
            scalars=tuple(recharge(s) for s in self.scalars),
            spectators=tuple(recharge(s) for s in self.spectators),
            fermions=tuple(recharge(s) for s in self.fermions),
            mediators=tuple(recharge(s) for s in self.mediators),
            charge_overrides=self.charge_overrides + overrides,
            charges_in_file=tuple((f, s, q) for (f, s), q in before.items()),
        )

    def without(self, forbidden: set[str], why: str) -> "Model":
        """A copy without the relations and point entries that mention a coupling of
        ``forbidden`` (e.g. one the charges no longer allow), each with a note saying so."""
        if not forbidden:
            return self
        notes, relations, points = list(self.notes), [], []
        for lhs, rhs in self.relations:
            named = sorted({str(s) for s in rhs.free_symbols | {lhs}} & forbidden)
            if named:
                notes.append(f"relations.{lhs}: dropped, it mentions {', '.join(named)} ({why})")
            else:
                relations.append((lhs, rhs))
        for point in self.points:
            kept = []
            for key, value in point.values:
                if parameter_value(key, value)[0] in forbidden:
                    notes.append(f"points.{point.name}.{key}: dropped ({why})")
                else:
                    kept.append((key, value))
            points.append(dataclasses.replace(point, values=tuple(kept)))
        return dataclasses.replace(self, relations=tuple(relations), points=tuple(points), notes=tuple(notes))

    def banner(self) -> dict | None:
        """When the derivation differs from its printed reference (a --charge option changed a
        charge of the file): which charges changed, what was dropped, and what that means for
        every comparison with the printed reference. None otherwise."""
        changed = self.changed_charges()
        if not changed:
            return None
        return {
            "differs_from_printed_reference": True,
            "charges_changed": [{"field": f, "symmetry": s, "file": str(before), "now": str(after)}
                                for f, s, before, after in changed],
            "dropped": list(self.notes),
            "note": "the charges differ from the derivation file's: comparisons with the printed reference "
                    "describe a different model than the printed one",
        }

    def with_references(self, references) -> "Model":
        """A copy that shows ``references`` (derived object -> label) beside derived objects."""
        return dataclasses.replace(self, references=tuple(sorted(dict(references).items())))

    def with_conventions(self, conventions: Conventions) -> "Model":
        return dataclasses.replace(self, conventions=conventions)

    def with_parameters(self, extra: Iterable[Parameter]) -> "Model":
        return dataclasses.replace(self, parameters=self.parameters + tuple(extra))
