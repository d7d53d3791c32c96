"""Invariant operators of the scalar potential, held against what the derivation names.

:func:`enumerate_invariants` lists every monomial in the scalars and their conjugates,
of degree 1 to D, invariant under every declared U(1) and Z_N. Each non-hermitian
operator appears once (the canonical one of O, O^dagger: first nonzero net power
positive); its h.c. is implied.

:func:`operator_table` then reconciles that list with the derivation file:
named terms keep their coefficients, allowed operators that are not named get
generated coupling names in the paper's style (``lambda_13ab``, ``lambdap_13``,
``mu_a`` ...), dropped operators are listed with their reasons, named terms that
break a symmetry must be declared as explicit breaking, and the result is compared
with every printed list of operators in the printed registry.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from fractions import Fraction

import sympy as sp

from symflav.core import symbols
from symflav.core.errors import SpecError
from symflav.core.model import Model, Monomial, Parameter
from symflav.core.parsing import ParseError, parse_operator
from symflav.core.spec import read_printed

STATUSES = ("named", "generated", "explicit_breaking", "dropped", "forbidden")


# ------------------------------------------------------------------ enumeration


def enumerate_invariants(model: Model, degree: int | None = None) -> tuple[Monomial, ...]:
    """Canonical invariant monomials of degree 1..``degree`` (default: the model's), sorted."""
    degree = model.degree if degree is None else degree
    n = len(model.scalars)
    symmetries = model.symmetries
    # Charge of each of the 2n "letters" phi_i, phi_i^dagger under each symmetry.
    letter_charges = []
    for s in model.scalars:
        q = tuple(s.charge(sym.name) for sym in symmetries)
        letter_charges.append(q)
        letter_charges.append(tuple(-x for x in q))
    found = []
    for d in range(1, degree + 1):
        for letters in itertools.combinations_with_replacement(range(2 * n), d):
            total = [Fraction(0)] * len(symmetries)
            for letter in letters:
                for k, q in enumerate(letter_charges[letter]):
                    total[k] += q
            if any(sym.reduce(t) != 0 for sym, t in zip(symmetries, total)):
                continue
            counts = [0] * (2 * n)
            for letter in letters:
                counts[letter] += 1
            monomial = Monomial(tuple((counts[2 * i], counts[2 * i + 1]) for i in range(n)))
            if monomial.is_canonical():
                found.append(monomial)
    return tuple(sorted(found, key=sort_key))


def sort_key(monomial: Monomial):
    """Canonical order: degree; hermitian first; then fewer distinct fields; then field order."""
    present = tuple(i for i, (a, b) in enumerate(monomial.powers) if a or b)
    return (
        monomial.degree,
        not monomial.is_hermitian,
        len(present),
        present,
        tuple(-a for a, _ in monomial.powers),
    )


def breaking(model: Model, monomial: Monomial) -> tuple[tuple[str, Fraction], ...]:
    """Symmetries under which ``monomial`` is not invariant, with its (reduced) charge."""
    return tuple(
        (sym.name, q)
        for sym in model.symmetries
        if (q := monomial.charge(sym, model.scalars)) != 0
    )


# ------------------------------------------------------------------ reconciliation


@dataclass(frozen=True)
class Operator:
    """One row of the operator table.

    ``status`` is one of :data:`STATUSES`. ``coefficient`` is the coupling as written in
    the file (or the generated symbol); conventions (signs, 1/2 factors) are applied
    by :mod:`symflav.physics.potential`, not here.
    """

    monomial: Monomial
    text: str
    coupling: str
    coefficient: sp.Expr
    status: str
    explicit_breaking: tuple[str, ...] = ()
    charges: tuple[tuple[str, Fraction], ...] = ()
    reason: str = ""
    source: str = ""

    @property
    def in_potential(self) -> bool:
        return self.status in ("named", "generated", "explicit_breaking")


@dataclass(frozen=True)
class PrintedComparison:
    """How a printed list of operators (an equation of the printed registry) compares with the derived table."""

    equation: str
    agree: tuple[str, ...]
    printed_not_invariant: tuple[tuple[str, str], ...]  # (operator, explanation)
    missing_from_print: tuple[tuple[str, str], ...]  # (operator, status/explanation)
    summary: str


@dataclass(frozen=True)
class OperatorTable:
    """Result of the invariants stage."""

    model: Model
    degree: int
    operators: tuple[Operator, ...]
    generated: tuple[Parameter, ...]
    comparisons: tuple[PrintedComparison, ...]
    notes: tuple[str, ...]

    @property
    def in_potential(self) -> tuple[Operator, ...]:
        return tuple(op for op in self.operators if op.in_potential)

    @property
    def parameters(self) -> tuple[Parameter, ...]:
        """Model parameters plus generated couplings."""
        return self.model.parameters + self.generated

    def to_json(self) -> dict:
        names = self.model.scalar_names
        return {
            "derivation": self.model.name,
            "degree": self.degree,
            "symmetries": [
                {"name": s.name, "group": "U1" if s.is_u1 else f"Z{s.order}"} for s in self.model.symmetries
            ],
            "charges": {
                s.name: {k: str(v) for k, v in s.charges} for s in self.model.scalars
            },
            "operators": [
                {
                    "fields": {name: list(p) for name, p in zip(names, op.monomial.powers) if p != (0, 0)},
                    "operator": op.text,
                    "degree": op.monomial.degree,
                    "hermitian": op.monomial.is_hermitian,
                    "coupling": op.coupling,
                    "coefficient": str(op.coefficient) if op.coefficient is not None else None,
                    "explicit_breaking": bool(op.explicit_breaking),
                    "breaks": {k: str(v) for k, v in op.charges},
                    "status": op.status,
                    "in_potential": op.in_potential,
                    "reason": op.reason,
                }
                for op in self.operators
            ],
            "printed_comparison": [
                {
                    "equation": c.equation,
                    "agree": list(c.agree),
                    "printed_but_not_invariant": [{"operator": o, "note": n} for o, n in c.printed_not_invariant],
                    "allowed_but_not_printed": [{"operator": o, "note": n} for o, n in c.missing_from_print],
                    "summary": c.summary,
                }
                for c in self.comparisons
            ],
            "notes": list(self.notes),
        }


def operator_table(model: Model, degree: int | None = None) -> OperatorTable:
    """Reconcile the invariant operators with the derivation's named terms and drops.

    Strict for a file as written (a named term that breaks an undeclared symmetry is a
    :class:`SpecError`); after ``--charge`` overrides such terms are reported as
    ``forbidden`` and left out, since the user asked for the new charges.
    """
    degree = model.degree if degree is None else degree
    problems = _Problems(model)
    invariants = enumerate_invariants(model, degree)
    rows, breaking_rows, forbidden_rows = _named_rows(model, degree, problems)
    names, allowed = model.scalar_names, set(invariants)
    for drop in model.drops:
        if drop.operator not in allowed:
            problems.report(f"{drop.key}.operator",
                            f"{drop.operator.text(names)!r} is not an allowed operator; nothing to drop")
    ordered, generated = _invariant_rows(model, invariants, rows)
    operators = tuple(ordered + sorted(breaking_rows, key=lambda r: sort_key(r.monomial)) + forbidden_rows)
    notes = tuple(problems.notes)
    table = OperatorTable(model, degree, operators, tuple(generated), (), notes)
    comparisons = tuple(_compare_printed(model, table))
    return OperatorTable(model, degree, operators, tuple(generated), comparisons, notes)


class _Problems:
    """A problem with the file's terms: a :class:`SpecError` for a file as written, a note after
    ``--charge`` overrides (the user asked for the new charges)."""

    def __init__(self, model: Model):
        self.model = model
        self.lenient = bool(model.charge_overrides)
        self.notes: list[str] = []

    def report(self, key: str, text: str):
        if not self.lenient:
            raise SpecError(self.model.path, key, text)
        self.notes.append(f"{key}: {text}")


def _named_rows(model: Model, degree: int, problems: _Problems):
    """Rows of the named terms: invariant ones (``named``), declared explicit breaking
    (``explicit_breaking``) and terms the charges forbid (``forbidden``, left out)."""
    names = model.scalar_names
    rows: list[Operator] = []
    breaking_rows: list[Operator] = []
    forbidden_rows: list[Operator] = []
    for term in model.terms:
        if term.operator.degree > degree:
            problems.report(f"{term.key}.operator",
                            f"degree {term.operator.degree} exceeds the derivation degree {degree}")
            continue
        broken = breaking(model, term.operator)
        broken_names = {name for name, _ in broken}
        undeclared = broken_names - set(term.explicit_breaking)
        needless = set(term.explicit_breaking) - broken_names
        text = term.operator.text(names)
        coupling = _coupling_name(term.coefficient)
        if undeclared:
            detail = ", ".join(f"{n} charge {q}" for n, q in broken if n in undeclared)
            problems.report(f"{term.key}.operator",
                            f"{text!r} is not invariant ({detail}); declare explicit_breaking if intended")
            forbidden_rows.append(
                Operator(term.operator, text, coupling, term.coefficient, "forbidden",
                         term.explicit_breaking, broken, "not invariant under the charges used", term.key)
            )
            continue
        if needless:
            problems.report(f"{term.key}.explicit_breaking",
                            f"{text!r} is invariant under {', '.join(sorted(needless))}; it breaks nothing there")
        status = "explicit_breaking" if broken else "named"
        row = Operator(term.operator, text, coupling, term.coefficient, status,
                       tuple(n for n in term.explicit_breaking if n in broken_names), broken,
                       term.reason, term.key)
        (breaking_rows if broken else rows).append(row)
    return rows, breaking_rows, forbidden_rows


def _invariant_rows(model: Model, invariants, rows: list[Operator]):
    """One row per invariant in enumeration order: the named row, the drop, or a generated
    coupling (a fresh name; squared for a quadratic operator). Returns the rows and the generated
    parameters."""
    names = model.scalar_names
    dropped = {d.operator: d for d in model.drops}
    taken = {p.name for p in model.parameters} | {s.name for s in model.symmetries} | set(model.all_charged())
    generated: list[Parameter] = []
    named_rows = {row.monomial: row for row in rows}
    ordered: list[Operator] = []
    for monomial in invariants:
        if monomial in named_rows:
            ordered.append(named_rows[monomial])
        elif monomial in dropped:
            d = dropped[monomial]
            ordered.append(Operator(monomial, monomial.text(names), "", sp.S.Zero, "dropped",
                                    reason=d.reason, source=d.key))
        else:
            param = _generated_parameter(model, monomial, taken)
            taken.add(param.name)
            generated.append(param)
            coefficient = param.symbol**2 if monomial.degree == 2 else param.symbol
            ordered.append(Operator(monomial, monomial.text(names), param.name, coefficient, "generated",
                                    reason="allowed by the charges; not named in the derivation"))
    return ordered, generated


def _coupling_name(coefficient: sp.Expr) -> str:
    """The parameter a coefficient is written in (``mu_1`` for ``mu_1**2``), else its text."""
    free = sorted(coefficient.free_symbols, key=str)
    if len(free) == 1:
        return str(free[0])
    return str(coefficient)


_PREFIX = {1: "t", 2: "mu", 3: "kappa", 4: "lambda"}


def _generated_parameter(model: Model, monomial: Monomial, taken: set[str]) -> Parameter:
    """Name in the paper's style: prefix by degree, primes (``p``) on collisions."""
    labels = "".join(s.label for s, (a, b) in zip(model.scalars, monomial.powers) if a or b)
    stem = _PREFIX.get(monomial.degree, f"c{monomial.degree}")
    primes = 0
    while True:
        name = f"{stem}{'p' * primes}_{labels}"
        if name not in taken:
            break
        primes += 1
    greek = {"mu": r"\mu", "lambda": r"\lambda", "kappa": r"\kappa", "t": "t"}.get(stem, f"c^{{({monomial.degree})}}")
    latex = f"{{{greek}{chr(39) * primes}_{{{labels}}}}}"  # braced: safe under a power
    kind = "mass" if monomial.degree == 2 else "coupling"
    return Parameter(name, symbols.parameter(name, kind, latex), latex, kind,
                     note=f"generated for {monomial.text(model.scalar_names)}", generated=True)


def _compare_printed(model: Model, table: OperatorTable):
    printed = read_printed(model)
    names = list(model.scalar_names)
    by_monomial = {op.monomial: op for op in table.operators}
    for label, entry in sorted(printed.get("equations", {}).items()):
        if "operators" not in entry:
            continue
        printed_ops = []
        for i, text in enumerate(entry["operators"]):
            try:
                printed_ops.append((text, Monomial(parse_operator(text, names)).canonical()))
            except ParseError as exc:
                if model.charge_overrides:
                    continue
                raise SpecError(model.printed_path, f"equations.{label}.operators[{i}]", str(exc)) from None
        agree, not_invariant = [], []
        printed_set = set()
        for text, monomial in printed_ops:
            printed_set.add(monomial)
            row = by_monomial.get(monomial)
            broken = breaking(model, monomial)
            if broken:
                detail = ", ".join(f"{n} charge {q}" for n, q in broken)
                declared = row is not None and row.status == "explicit_breaking"
                how = "declared explicit breaking" if declared else "NOT declared: not in the potential"
                not_invariant.append((monomial.text(names), f"breaks {detail}; {how}"))
            elif monomial.degree > table.degree:
                not_invariant.append((monomial.text(names), f"degree above {table.degree}"))
            else:
                agree.append(monomial.text(names))
        missing = []
        for op in table.operators:
            if op.monomial in printed_set or op.status == "forbidden":
                continue
            if op.status == "dropped":
                missing.append((op.text, f"allowed; dropped by the derivation: {op.reason}"))
            elif op.status == "generated":
                missing.append((op.text, f"allowed; enters the potential as {op.coupling}"))
            else:
                missing.append((op.text, f"allowed; named {op.coupling} in the derivation"))
        parts = [f"{_count(len(agree), 'printed operator')} invariant and derived"]
        if not_invariant:
            parts.append(f"{_count(len(not_invariant), 'printed operator')} breaking a symmetry ("
                         + "; ".join(f"{o}: {n}" for o, n in not_invariant) + ")")
        if missing:
            parts.append(f"{_count(len(missing), 'allowed operator')} not printed ("
                         + "; ".join(f"{o}: {n}" for o, n in missing) + ")")
        else:
            parts.append("no allowed operator is missing from the print")
        yield PrintedComparison(label, tuple(agree), tuple(not_invariant), tuple(missing),
                                f"eq. ({label}): " + "; ".join(parts) + ".")


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'} {'is' if n == 1 else 'are'}"
