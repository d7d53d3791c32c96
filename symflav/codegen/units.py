"""Units of every keyword of the generated module, derived and checked by dimensional analysis.

A unit is a vector of rational exponents over the base units GeV, cm and e (the elementary
charge): ``"GeV^-2"`` is (-2, 0, 0), ``"e cm"`` is (0, 1, 1), ``"dimensionless"`` (or ``"1"``)
is (0, 0, 0). Where each parameter's unit comes from:

* kind ``mass`` or ``vev``: GeV;
* a declared ``unit = "..."`` string (parsed; an unreadable one is an error naming the key);
* a coupling of the potential: from its operator's degree d, since every term of V is in
  GeV^4 (fields in GeV): the coefficient of a degree-d operator is in GeV^(4 - d);
* a Yukawa coupling: dimensionless (lepton-mediator-scalar vertices are of dimension 4).

Everything is then checked: every potential term in GeV^4, both sides of every relation and
of the vacuum alignment alike, mediator masses and spectator vevs in GeV. A parameter whose
unit neither is declared nor follows from these is an error -- never "dimensionless" by
default. Symbols of the observables' formulas carry the unit the stage declares.
"""

from __future__ import annotations

import re
from fractions import Fraction

import sympy as sp

from symflav.codegen.printer import CodegenError
from symflav.core.errors import SpecError

BASE = ("GeV", "cm", "e")
DIMENSIONLESS = (Fraction(0),) * len(BASE)
GEV = (Fraction(1), Fraction(0), Fraction(0))
_FACTOR = re.compile(r"(GeV|cm|e)(?:\^\(?(-?\d+(?:/\d+)?)\)?)?\Z")


def parse_unit(text: str) -> tuple[Fraction, ...]:
    """Exponents of ``text`` ("GeV^-2", "GeV cm", "e cm", "GeV^2/cm", "dimensionless")."""
    text = text.strip()
    if text in ("", "1", "dimensionless"):
        return DIMENSIONLESS
    pieces = re.split(r"/(?![^()]*\))", text)  # a '/' inside ^(1/2) is an exponent
    if len(pieces) > 2:
        raise ValueError(f"unit {text!r}: at most one '/'")
    numerator, denominator = pieces[0], pieces[1] if len(pieces) == 2 else ""
    exponents = [Fraction(0)] * len(BASE)
    for sign, part in ((1, numerator), (-1, denominator)):
        factors = part.replace("*", " ").split()
        if not factors and sign == 1 and part.strip() not in ("", "1"):
            raise ValueError(f"unit {text!r} is not a product of GeV, cm and e powers")
        for factor in factors:
            if factor == "1" and sign == 1:
                continue
            match = _FACTOR.match(factor)
            if not match:
                raise ValueError(f"unit {text!r}: {factor!r} is not GeV, cm or e (with ^exponent)")
            exponents[BASE.index(match.group(1))] += sign * Fraction(match.group(2) or 1)
    return tuple(exponents)


def format_unit(exponents) -> str:
    """The readable form of an exponent vector (``GeV^-2``, ``GeV cm``, ``dimensionless``)."""
    parts = []
    for name, k in zip(BASE, exponents):
        if k == 1:
            parts.append(name)
        elif k:
            parts.append(f"{name}^{k}" if k.denominator == 1 else f"{name}^({k})")
    return " ".join(parts) or "dimensionless"


def _scaled(u, k) -> tuple[Fraction, ...]:
    return tuple(Fraction(k) * a for a in u)


def _plus(u, v) -> tuple[Fraction, ...]:
    return tuple(a + b for a, b in zip(u, v))


def _gev(power) -> tuple[Fraction, ...]:
    return _scaled(GEV, power)


class _Solver:
    """Known units of symbols; terms that must carry a unit, solved for one unknown at a time."""

    def __init__(self, path: str, known: dict):
        self.path = path
        self.known = dict(known)
        self.claims: list[tuple[sp.Expr, tuple, str]] = []

    def require(self, expr, unit, where: str):
        for term in sp.Add.make_args(sp.expand(sp.sympify(expr))):
            if term.is_Number:
                if term != 0 and unit != DIMENSIONLESS:
                    raise SpecError(self.path, where, f"the number {term} is dimensionless, the place needs "
                                                      f"{format_unit(unit)}")
                continue
            self.claims.append((term, unit, where))

    def _powers(self, term, where):
        powers = {}
        for base, exp in term.as_powers_dict().items():
            if base.is_Number:
                continue
            if not isinstance(base, sp.Symbol) or not exp.is_Rational:
                raise SpecError(self.path, where, f"cannot derive the unit of {term} (only powers of parameters)")
            powers[base] = powers.get(base, 0) + Fraction(int(exp.p), int(exp.q))
        return powers

    def solve(self):
        pending = list(self.claims)
        progress = True
        while pending and progress:
            progress, left = False, []
            for term, unit, where in pending:
                powers = self._powers(term, where)
                unknown = [s for s in powers if s not in self.known]
                if len(unknown) == 1:
                    s = unknown[0]
                    rest = DIMENSIONLESS
                    for t, k in powers.items():
                        if t is not s:
                            rest = _plus(rest, _scaled(self.known[t], k))
                    self.known[s] = _scaled(_plus(unit, _scaled(rest, -1)), 1 / powers[s])
                    progress = True
                left.append((term, unit, where))
            pending = [c for c in left if any(s not in self.known for s in self._powers(c[0], c[2]))]
        for term, unit, where in self.claims:
            powers = self._powers(term, where)
            if any(s not in self.known for s in powers):
                continue
            have = DIMENSIONLESS
            for s, k in powers.items():
                have = _plus(have, _scaled(self.known[s], k))
            if have != unit:
                raise SpecError(self.path, where, f"{term} is in {format_unit(have)}, but this place needs "
                                                  f"{format_unit(unit)} (every term of V is in GeV^4)")
        return self.known


def parameter_units(model, table) -> dict[str, str]:
    """Unit of every parameter of the model and of the generated couplings (see module doc).

    A parameter that enters no potential term, relation, alignment, mediator mass or Yukawa
    coupling (e.g. a coupling the charges forbid after ``--charge``) is left out, unless it
    declares its unit: the generated functions do not read it."""
    known, declared = {}, {}
    for p in model.parameters:
        if p.kind in ("mass", "vev"):
            known[p.symbol] = GEV
        if p.unit:
            try:
                unit = parse_unit(p.unit)
            except ValueError as exc:
                raise SpecError(model.path, f"parameters.{p.name}.unit", str(exc)) from None
            if p.symbol in known and known[p.symbol] != unit:
                raise SpecError(model.path, f"parameters.{p.name}.unit", f"a {p.kind} is in GeV, not {p.unit}")
            known[p.symbol] = unit
            declared[p.symbol] = p.unit.strip()
    solver = _Solver(model.path, known)
    keys = {t.operator: t.key for t in model.terms}
    for op in table.in_potential:
        where = keys.get(op.monomial.canonical(), keys.get(op.monomial, f"operator {op.text}")) + ".coefficient"
        solver.require(op.coefficient, _gev(4 - op.monomial.degree), where)
    for sym, expr in model.relations:  # every term of the right side in the unit of the left
        for term in sp.Add.make_args(sp.expand(expr)):
            solver.claims.append((sym if term.is_Number else term / sym, DIMENSIONLESS, f"relations.{sym}"))
    if model.vacuum is not None:
        for sym, expr in model.vacuum.alignment:
            solver.require(expr, GEV, f"vacuum.alignment.{sym}")
    for m in model.mediators:
        solver.require(m.mass, GEV, f"mediators ({m.family}).mass")
    for s in model.spectators:
        solver.require(s.vev, GEV, f"spectators ({s.name}).vev")
    if model.yukawa is not None:
        for lepton, coupling in model.yukawa.couplings:
            solver.require(coupling, DIMENSIONLESS, f"yukawa.couplings.{lepton}")
    units = solver.solve()
    used = set().union(*(sp.sympify(term).free_symbols for term, _, _ in solver.claims))
    out = {}
    for p in tuple(model.parameters) + tuple(table.generated):
        if p.symbol not in units and p.symbol not in used:
            continue  # enters nothing (e.g. a coupling the charges forbid): no unit, not in the module
        if p.symbol not in units:
            raise SpecError(model.path, f"parameters.{p.name}",
                            "no unit: it enters no potential term, relation or Yukawa coupling that fixes one; "
                            "declare it, e.g. unit = \"GeV^-2\" (unit = \"dimensionless\" for a pure number)")
        out[p.name] = declared.get(p.symbol) or format_unit(units[p.symbol])
    vacuum = model.vacuum
    if vacuum is not None and vacuum.small_value is not None:  # the expansion parameter, e.g. v_1/v_a
        unit = unit_of(vacuum.small_value, units)
        if unit is None:
            raise SpecError(model.path, "vacuum.small_parameter.value", "its terms have different units")
        out[vacuum.small_name] = format_unit(unit)
    return out


def unit_of(expr, units: dict):
    """The unit of ``expr`` (a sum of products of powers of symbols of known ``units``), or None
    when its terms disagree or a symbol has no unit."""
    found = set()
    for term in sp.Add.make_args(sp.expand(sp.sympify(expr))):
        unit = DIMENSIONLESS
        for base, exp in term.as_powers_dict().items():
            if base.is_Number:
                continue
            if base not in units or not exp.is_Rational:
                return None
            unit = _plus(unit, _scaled(units[base], Fraction(int(exp.p), int(exp.q))))
        found.add(unit)
    return found.pop() if len(found) == 1 else (DIMENSIONLESS if not found else None)


def formula_unit(name: str, declared: dict) -> str:
    """The declared unit of a symbol of the observables' formulas; none is an error."""
    if name not in declared:
        raise CodegenError(f"the formula symbol {name} has no declared unit (formula_units of the observables "
                           "stage); a unit is never guessed")
    unit = declared[name][0]
    try:
        parse_unit(unit)
    except ValueError as exc:
        raise CodegenError(f"formula symbol {name}: {exc}") from None
    return unit


def square_unit(unit: str) -> str:
    return format_unit(_scaled(parse_unit(unit), 2))
