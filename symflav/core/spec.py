"""Read a derivation file (TOML) into a frozen :class:`~symflav.core.model.Model`.

The file is validated key by key; every problem raises :class:`~symflav.core.errors.SpecError`
naming the file, the key and the problem. Formulas and operators inside the file
are parsed by the whitelist parsers of :mod:`symflav.core.parsing` -- never executed.

A derivation is named on the command line by a folder (holding ``model.toml``), a
file, or the name of a built-in derivation (shipped inside the package).
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
import tomllib
from fractions import Fraction
from importlib import resources
from pathlib import Path
from typing import Any

import sympy as sp

from symflav.core import constants as builtin_constants
from symflav.core import limits, symbols
from symflav.core.errors import SpecError
from symflav.core.latex_parse import check_latex_name
from symflav.core.model import (
    Conventions,
    Drop,
    Fermion,
    Mediator,
    Model,
    Monomial,
    Parameter,
    SQUARE,
    Point,
    Scalar,
    ScanRange,
    ScanSpec,
    Spectator,
    Symmetry,
    Term,
    ALL_ALLOWED,
    Vacuum,
    Vertex,
    VertexSet,
    Yukawa,
    vertex_fields,
    vertex_instances,
)
from symflav.core.parsing import ParseError, parse_expression, parse_number, parse_operator

BUILTIN = "calibbi2020"
MODEL_FILE = "model.toml"
NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")

TOP_KEYS = {
    "derivation", "symmetries", "scalars", "spectators", "fermions", "mediators",
    "parameters", "terms", "drop", "conventions", "relations", "vacuum", "yukawa", "points", "scans",
}


# ------------------------------------------------------------------ locating files


def builtin_root() -> Path:
    """Folder holding the built-in derivations (source checkout or installed package)."""
    source = Path(__file__).resolve().parents[2] / "derivations"
    if (source / BUILTIN / MODEL_FILE).is_file():
        return source
    return Path(str(resources.files("symflav") / "derivations"))


def builtin_names() -> list[str]:
    root = builtin_root()
    return sorted(p.parent.name for p in root.glob(f"*/{MODEL_FILE}"))


def locate(derivation: str | None) -> Path:
    """Path of the model file for a folder, a file or a built-in name (default calibbi2020)."""
    if derivation is None:
        derivation = BUILTIN
    path = Path(derivation)
    if path.is_dir():
        candidate = path / MODEL_FILE
        if not candidate.is_file():
            raise SpecError(derivation, None, f"folder has no {MODEL_FILE}")
        return candidate
    if path.is_file():
        return path
    candidate = builtin_root() / derivation / MODEL_FILE
    if NAME.match(derivation) and candidate.is_file():
        return candidate
    known = ", ".join(builtin_names()) or "none"
    raise SpecError(derivation, None, f"no such file, folder or built-in derivation (built-in: {known})")


# ------------------------------------------------------------------ small validators


class _Reader:
    """Validation helpers bound to one file, so every error names it."""

    def __init__(self, path: Path):
        self.path = path
        self.taken: dict[str, str] = {}  # every declared name -> the key that declared it
        self.symmetries: list[Symmetry] = []

    def claim(self, item_name: str, key: str):
        """Declare ``item_name`` at ``key``; a name may be declared once in the whole file."""
        if item_name in self.taken:
            self.fail(key, f"duplicated name {item_name!r} (also {self.taken[item_name]})")
        self.taken[item_name] = key

    def charges(self, table, key: str, allow_lists: bool = False) -> list:
        """``(symmetry, charge)`` for every declared symmetry, in declaration order; with
        ``allow_lists`` each charge may be a list (or ``"any"`` for a Z_N) and comes back as one."""
        table = self.table(table, key)
        declared = [s.name for s in self.symmetries]
        for sname in table:
            if sname not in declared:
                self.fail(f"{key}.{sname}", f"unknown symmetry (declared: {', '.join(declared)})")
        result = []
        for sym in self.symmetries:
            if sym.name not in table:
                self.fail(f"{key}.{sym.name}", "missing charge")
            value = table[sym.name]
            values = value if (allow_lists and isinstance(value, list)) else [value]
            if allow_lists and value == "any":
                if sym.is_u1:
                    self.fail(f"{key}.{sym.name}", "'any' is only allowed for Z_N charges")
                values = range(sym.order)
            if allow_lists:
                self.limit(f"{key}.{sym.name}", limits.check_charge_list, len(values))
            parsed = [_charge(self, v, f"{key}.{sym.name}", sym) for v in values]
            if not parsed:
                self.fail(f"{key}.{sym.name}", "empty list of charges")
            result.append((sym.name, parsed if allow_lists else parsed[0]))
        return result

    def fail(self, key: str | None, problem: str):
        raise SpecError(str(self.path), key, problem)

    def table(self, value, key: str) -> dict:
        if not isinstance(value, dict):
            self.fail(key, f"expected a table, got {type(value).__name__}")
        return value

    def array(self, value, key: str) -> list:
        if not isinstance(value, list):
            self.fail(key, f"expected an array, got {type(value).__name__}")
        return value

    def string(self, value, key: str) -> str:
        if not isinstance(value, str):
            self.fail(key, f"expected a string, got {type(value).__name__}")
        return value

    def name(self, value, key: str) -> str:
        text = self.string(value, key)
        if not NAME.match(text):
            self.fail(key, f"{text!r} is not a valid name (letters, digits, _; starting with a letter)")
        return text

    def keys(self, table: dict, key: str, allowed: set[str], required: set[str] = frozenset()):
        for k in table:
            if k not in allowed:
                self.fail(f"{key}.{k}" if key else k, f"unknown key (allowed: {', '.join(sorted(allowed))})")
        for k in sorted(required):
            if k not in table:
                self.fail(f"{key}.{k}" if key else k, "missing required key")

    def integer(self, value, key: str, minimum: int | None = None) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(key, f"expected an integer, got {value!r}")
        self.limit(key, limits.check_integer_size, value)
        if minimum is not None and value < minimum:
            self.fail(key, f"must be at least {minimum}")
        return value

    def limit(self, key: str, check, *args):
        """``check(*args)`` from :mod:`symflav.core.limits`; a :class:`LimitError` names ``key``."""
        try:
            return check(*args)
        except limits.LimitError as exc:
            self.fail(key, str(exc))

    def latex(self, value, key: str) -> str:
        """A LaTeX name that is safe to typeset (:func:`~symflav.core.latex_parse.check_latex_name`)."""
        text = self.string(value, key)
        try:
            check_latex_name(text)
        except ParseError as exc:
            self.fail(key, str(exc))
        return text

    def rational(self, value, key: str) -> sp.Rational:
        try:
            return parse_number(value)
        except ParseError as exc:
            self.fail(key, str(exc))

    def formula(self, value, key: str, names: dict[str, sp.Expr]) -> sp.Expr:
        try:
            return parse_expression(value, names, real=True)
        except ParseError as exc:
            self.fail(key, str(exc))

    def operator(self, value, key: str, fields: list[str]) -> Monomial:
        try:
            powers = parse_operator(value, fields)
        except ParseError as exc:
            self.fail(key, str(exc))
        monomial = Monomial(powers)
        if monomial.degree == 0:
            self.fail(key, "operator has no fields")
        return monomial


# ------------------------------------------------------------------ the reader


def load(derivation: str | None = None, *, charges: list[str] | tuple[str, ...] = (),
         allow_outside_paths: bool = False) -> Model:
    """Read and validate a derivation; apply ``--charge`` overrides (``FIELD[.SYM]=Q``).

    Files the model names (``derivation.printed``) must lie inside the model's folder
    unless ``allow_outside_paths``."""
    path = locate(derivation)
    model = read_model(path, allow_outside_paths=allow_outside_paths)
    if charges:
        model = model.with_charges(parse_charge_overrides(model, charges))
    return model


def read_toml(path: Path) -> tuple[dict, bytes]:
    """Parsed TOML and the bytes of ``path``, within the file-size and nesting limits of
    :mod:`symflav.core.limits`; any failure is a :class:`SpecError` naming the file."""
    try:
        size = path.stat().st_size
        limits.check_file_size(size)
        raw_bytes = path.read_bytes()
    except OSError as exc:
        raise SpecError(str(path), None, f"cannot read ({exc.strerror or exc})") from None
    except limits.LimitError as exc:
        raise SpecError(str(path), None, str(exc)) from None
    try:
        data = tomllib.loads(raw_bytes.decode("utf-8"))
    except UnicodeDecodeError:
        raise SpecError(str(path), None, "not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(str(path), None, f"malformed TOML ({exc})") from None
    except ValueError as exc:  # an integer beyond Python's int-string limit, and the like
        raise SpecError(str(path), None, f"malformed TOML ({str(exc).splitlines()[0]})") from None
    except (RecursionError, MemoryError):
        raise SpecError(str(path), None, f"tables and arrays are nested more than {limits.MAX_TOML_DEPTH} "
                                         "levels deep") from None
    try:
        limits.check_toml_depth(data)
    except limits.LimitError as exc:
        raise SpecError(str(path), None, str(exc)) from None
    return data, raw_bytes


def confined(base: Path, name: str, allow_outside: bool) -> Path:
    """``base / name``, which must lie inside the folder ``base`` (after resolving links and
    ``..``) unless ``allow_outside``; raises :class:`ValueError` with the reason."""
    target = base / name
    if allow_outside:
        return target
    inside = base.resolve()
    resolved = target.resolve()
    if resolved != inside and inside not in resolved.parents:
        raise ValueError(f"{name!r} lies outside the derivation's folder (pass --allow-outside-paths "
                         "to allow it)")
    return target


def read_model(path: Path, allow_outside_paths: bool = False) -> Model:
    """Read and validate one model file (no ``--charge`` overrides; see :func:`load`)."""
    reader = _Reader(path)
    data, raw_bytes = read_toml(path)
    reader.keys(data, "", TOP_KEYS, {"derivation", "symmetries", "scalars"})
    head = reader.table(data["derivation"], "derivation")
    name, study, degree, printed_path = _read_head(reader, head, path, allow_outside_paths)
    reader.symmetries = _read_symmetries(reader, data["symmetries"])
    scalars = _read_scalars(reader, data["scalars"])
    parameters = _read_parameters(reader, data.get("parameters", {}))
    names = {p.name: p.symbol for p in parameters}
    spectators = _read_spectators(reader, data.get("spectators", []), names)
    fermions = _read_fermions(reader, data.get("fermions", []))
    mediators = _read_mediators(reader, data.get("mediators", []), names)
    scalar_names = [s.name for s in scalars]
    terms, drops = _read_terms(reader, data.get("terms", []), data.get("drop", []), scalar_names, names)
    conventions, variants = _read_conventions(reader, data.get("conventions", {}))
    relations = _read_relations(reader, data.get("relations", {}), names)
    vacuum = _read_vacuum(reader, data.get("vacuum"), scalars, names, parameters)
    names = {p.name: p.symbol for p in parameters}
    yukawa = _read_yukawa(reader, data.get("yukawa"), spectators, fermions, names, scalars)
    points = _read_points(reader, data.get("points", {}), names)
    constants = tuple(c for n, c in sorted(builtin_constants.load().items()) if n not in names)
    scans = _read_scans(reader, data.get("scans", {}), parameters, relations, vacuum, fermions, constants)

    model = Model(
        name=name,
        title=reader.string(head.get("title", name), "derivation.title"),
        reference=reader.string(head.get("reference", ""), "derivation.reference"),
        path=str(path),
        source_hash=hashlib.sha256(raw_bytes).hexdigest(),
        degree=degree,
        symmetries=tuple(reader.symmetries),
        scalars=tuple(scalars),
        spectators=tuple(spectators),
        fermions=tuple(fermions),
        mediators=tuple(mediators),
        parameters=tuple(parameters),
        terms=tuple(terms),
        drops=tuple(drops),
        conventions=conventions,
        variants=tuple(variants),
        relations=tuple(relations),
        vacuum=vacuum,
        points=tuple(points),
        yukawa=yukawa,
        printed_path=printed_path,
        scans=tuple(scans),
        study=study,
        constants=constants,
    )
    return _check_vertices(reader, model)


def _read_head(reader: _Reader, head: dict, path: Path, allow_outside_paths: bool):
    """``[derivation]``: name, study, degree and the printed registry's path (inside the folder)."""
    reader.keys(head, "derivation", {"name", "title", "reference", "degree", "printed", "study"}, {"name"})
    name = reader.name(head["name"], "derivation.name")
    study = reader.name(head["study"], "derivation.study") if "study" in head else None
    degree = reader.integer(head.get("degree", 4), "derivation.degree", minimum=1)
    reader.limit("derivation.degree", limits.check_degree, degree)
    printed_path = None
    if "printed" in head:
        try:
            printed_file = confined(path.parent, reader.string(head["printed"], "derivation.printed"),
                                    allow_outside_paths)
        except ValueError as exc:
            reader.fail("derivation.printed", str(exc))
        if not printed_file.is_file():
            reader.fail("derivation.printed", f"file {printed_file.name!r} not found next to the model")
        printed_path = str(printed_file)
    return name, study, degree, printed_path


def _read_scalars(reader: _Reader, raw_list) -> list[Scalar]:
    """``[[scalars]]``: names, labels (letters and digits, unique), LaTeX names and charges."""
    scalars = []
    labels: dict[str, str] = {}
    for i, raw in enumerate(reader.array(raw_list, "scalars")):
        key = f"scalars[{i}]"
        raw = reader.table(raw, key)
        reader.keys(raw, key, {"name", "label", "latex", "charges"}, {"name", "charges"})
        sname = reader.name(raw["name"], f"{key}.name")
        reader.claim(sname, key)
        label = str(raw.get("label", sname))
        if not re.fullmatch(r"[A-Za-z0-9]+", label):
            reader.fail(f"{key}.label", f"{label!r} must be letters and digits")
        if label in labels:
            reader.fail(f"{key}.label", f"label {label!r} already used by {labels[label]}")
        labels[label] = sname
        latex = reader.latex(raw.get("latex", sname), f"{key}.latex")
        scalars.append(Scalar(sname, latex, tuple(reader.charges(raw["charges"], f"{key}.charges")),
                              label=label))
    if not scalars:
        reader.fail("scalars", "at least one scalar is needed")
    reader.limit("scalars", limits.check_scalars, len(scalars))
    return scalars


def _read_parameters(reader: _Reader, raw_table) -> list[Parameter]:
    """``[parameters]``, declared before anything that uses formulas: kind, LaTeX, default, unit."""
    parameters = []
    for pname, raw in reader.table(raw_table, "parameters").items():
        key = f"parameters.{pname}"
        reader.name(pname, key)
        reader.claim(pname, key)
        raw = reader.table(raw, key)
        reader.keys(raw, key, {"kind", "latex", "default", "note", "unit"})
        kind = raw.get("kind", "coupling")
        if kind not in symbols.PARAMETER_KINDS:
            reader.fail(f"{key}.kind", f"{kind!r} is not one of {', '.join(symbols.PARAMETER_KINDS)}")
        latex = reader.latex(raw["latex"], f"{key}.latex") if "latex" in raw else _default_latex(pname)
        default = reader.rational(raw["default"], f"{key}.default") if "default" in raw else None
        note = reader.string(raw.get("note", ""), f"{key}.note")
        unit = reader.string(raw.get("unit", ""), f"{key}.unit")
        if kind in ("mass", "vev") and unit not in ("", "GeV"):
            reader.fail(f"{key}.unit", f"a parameter of kind {kind!r} is in GeV")
        parameters.append(Parameter(pname, symbols.parameter(pname, kind, latex), latex, kind, default, note,
                                    unit=unit))
    return parameters


def _read_spectators(reader: _Reader, raw_list, names: dict[str, sp.Expr]) -> list[Spectator]:
    """``[[spectators]]``: fields that carry charges and a vev but are not in the potential."""
    spectators = []
    for i, raw in enumerate(reader.array(raw_list, "spectators")):
        key = f"spectators[{i}]"
        raw = reader.table(raw, key)
        reader.keys(raw, key, {"name", "latex", "charges", "vev", "reason"}, {"name", "charges", "reason"})
        sname = reader.name(raw["name"], f"{key}.name")
        reader.claim(sname, key)
        vev = reader.formula(raw.get("vev", 0), f"{key}.vev", names)
        spectators.append(
            Spectator(sname, reader.latex(raw.get("latex", sname), f"{key}.latex"),
                      tuple(reader.charges(raw["charges"], f"{key}.charges")), vev=vev,
                      reason=reader.string(raw["reason"], f"{key}.reason"))
        )
    return spectators


def _read_fermions(reader: _Reader, raw_list) -> list[Fermion]:
    """``[[fermions]]``: chiral lepton fields; each lepton needs exactly one L and one R field."""
    fermions = []
    for i, raw in enumerate(reader.array(raw_list, "fermions")):
        key = f"fermions[{i}]"
        raw = reader.table(raw, key)
        reader.keys(raw, key, {"name", "latex", "chirality", "lepton", "charges"},
                    {"name", "chirality", "lepton", "charges"})
        fname = reader.name(raw["name"], f"{key}.name")
        reader.claim(fname, key)
        chirality = raw["chirality"]
        if chirality not in ("L", "R"):
            reader.fail(f"{key}.chirality", f"{chirality!r} must be \"L\" or \"R\"")
        fermions.append(
            Fermion(fname, reader.latex(raw.get("latex", fname), f"{key}.latex"),
                    tuple(reader.charges(raw["charges"], f"{key}.charges")), chirality=chirality,
                    lepton=reader.name(raw["lepton"], f"{key}.lepton"))
        )
    for lepton in sorted({f.lepton for f in fermions}):
        have = sorted(f.chirality for f in fermions if f.lepton == lepton)
        if have != ["L", "R"]:
            reader.fail("fermions", f"lepton {lepton!r} needs exactly one L and one R field (has {have})")
    return fermions


def _read_mediators(reader: _Reader, raw_list, names: dict[str, sp.Expr]) -> list[Mediator]:
    """``[[mediators]]``: one family per entry, expanded into one species per combination of the
    listed charges (``"any"`` for every Z_N charge)."""
    mediators = []
    for i, raw in enumerate(reader.array(raw_list, "mediators")):
        key = f"mediators[{i}]"
        raw = reader.table(raw, key)
        reader.keys(raw, key, {"name", "latex", "like", "mass", "charges"}, {"name", "mass", "charges"})
        family = reader.name(raw["name"], f"{key}.name")
        reader.claim(family, key)
        like = raw.get("like", "R")
        if like not in ("L", "R"):
            reader.fail(f"{key}.like", f"{like!r} must be \"L\" or \"R\"")
        mass = reader.formula(raw["mass"], f"{key}.mass", names)
        latex = reader.latex(raw.get("latex", family), f"{key}.latex")
        charge_lists = reader.charges(raw["charges"], f"{key}.charges", allow_lists=True)
        reader.limit(f"{key}.charges", limits.check_species, [len(values) for _, values in charge_lists])
        for combo in _product([values for _, values in charge_lists]):
            charges = tuple((sname, q) for (sname, _), q in zip(charge_lists, combo))
            species = family + "(" + ",".join(_charge_text(q) for q in combo) + ")"
            mediators.append(Mediator(species, latex, charges, family=family, like=like, mass=mass))
    return mediators


def _read_terms(reader: _Reader, raw_terms, raw_drops, scalar_names: list[str],
                names: dict[str, sp.Expr]) -> tuple[list[Term], list[Drop]]:
    """``[[terms]]`` (named couplings, explicit breaking with a reason) and ``[[drop]]`` (operators
    left out with a reason); an operator may be named once, in canonical orientation."""
    sym_names = {s.name for s in reader.symmetries}
    terms = []
    seen_ops: dict[Monomial, str] = {}
    for i, raw in enumerate(reader.array(raw_terms, "terms")):
        key = f"terms[{i}]"
        raw = reader.table(raw, key)
        reader.keys(raw, key, {"operator", "coefficient", "explicit_breaking", "reason"},
                    {"operator", "coefficient"})
        op = reader.operator(raw["operator"], f"{key}.operator", scalar_names)
        coefficient = reader.formula(raw["coefficient"], f"{key}.coefficient", names)
        if not op.is_canonical():
            op, coefficient = op.conjugate(), coefficient.conjugate()
        if op in seen_ops:
            reader.fail(f"{key}.operator", f"operator already named by {seen_ops[op]}")
        seen_ops[op] = key
        breaking = tuple(reader.array(raw.get("explicit_breaking", []), f"{key}.explicit_breaking"))
        for j, sname in enumerate(breaking):
            if sname not in sym_names:
                reader.fail(f"{key}.explicit_breaking[{j}]", f"unknown symmetry {sname!r}")
        reason = reader.string(raw.get("reason", ""), f"{key}.reason")
        if breaking and not reason:
            reader.fail(f"{key}.reason", "explicit breaking must give a reason")
        terms.append(Term(op, coefficient, key, breaking, reason))
    drops = []
    for i, raw in enumerate(reader.array(raw_drops, "drop")):
        key = f"drop[{i}]"
        raw = reader.table(raw, key)
        reader.keys(raw, key, {"operator", "reason"}, {"operator", "reason"})
        op = reader.operator(raw["operator"], f"{key}.operator", scalar_names).canonical()
        if op in seen_ops:
            reader.fail(f"{key}.operator", f"operator is also named by {seen_ops[op]}")
        seen_ops[op] = key
        reason = reader.string(raw["reason"], f"{key}.reason")
        if not reason.strip():
            reader.fail(f"{key}.reason", "a dropped operator needs a reason")
        drops.append(Drop(op, reason, key))
    return terms, drops


def _product(lists):
    if not lists:
        yield ()
        return
    for head in lists[0]:
        for tail in _product(lists[1:]):
            yield (head,) + tail


def _charge_text(q: Fraction) -> str:
    return str(q)


def _default_latex(name: str) -> str:
    return sp.latex(sp.Symbol(name))


def _charge(reader: _Reader, value, key: str, sym: Symmetry) -> Fraction:
    if not sym.is_u1 and sym.order == 2 and value in ("+", "-"):
        return Fraction(0 if value == "+" else 1)
    try:
        q = parse_number(value)
    except ParseError as exc:
        reader.fail(key, f"charge {exc}")
    frac = Fraction(int(q.p), int(q.q))
    if not sym.is_u1:
        if frac.denominator != 1 or not 0 <= frac < sym.order:
            reader.fail(key, f"Z_{sym.order} charge must be an integer from 0 to {sym.order - 1}, got {value!r}")
    return frac


def _read_symmetries(reader: _Reader, raw) -> list[Symmetry]:
    raw = reader.table(raw, "symmetries")
    result = []
    for sname, spec in raw.items():
        key = f"symmetries.{sname}"
        reader.name(sname, key)
        reader.claim(sname, key)
        spec = reader.table(spec, key)
        reader.keys(spec, key, {"group", "latex"}, {"group"})
        group = reader.string(spec["group"], f"{key}.group")
        if group == "U1":
            order = None
        else:
            match = re.fullmatch(r"Z([0-9]+)", group)
            if not match:
                reader.fail(f"{key}.group", f"{group!r} is not \"U1\" or \"Z<N>\" with N >= 2")
            order = reader.limit(f"{key}.group", limits.check_zn_order, match.group(1))
        result.append(Symmetry(sname, order, reader.latex(spec.get("latex", sname), f"{key}.latex")))
    if not result:
        reader.fail("symmetries", "declare at least one symmetry")
    return result


CONVENTION_KEYS = {"quadratic_sign", "nonhermitian_factor", "field_expansion", "mass_matrix_factor"}


def _conventions_from(reader: _Reader, raw: dict, key: str, base: Conventions) -> Conventions:
    values = {}
    if "quadratic_sign" in raw:
        sign = raw["quadratic_sign"]
        if sign not in (1, -1) or isinstance(sign, bool):
            reader.fail(f"{key}.quadratic_sign", f"must be 1 or -1, got {sign!r}")
        values["quadratic_sign"] = sign
    for name in ("nonhermitian_factor", "mass_matrix_factor"):
        if name in raw:
            value = reader.rational(raw[name], f"{key}.{name}")
            if value <= 0:
                reader.fail(f"{key}.{name}", "must be positive")
            values[name] = value
    if "field_expansion" in raw:
        expansion = raw["field_expansion"]
        if expansion not in Conventions.EXPANSIONS:
            reader.fail(f"{key}.field_expansion", f"{expansion!r} is not one of {', '.join(Conventions.EXPANSIONS)}")
        values["field_expansion"] = expansion
    return dataclasses.replace(base, **values)


def _read_conventions(reader: _Reader, raw) -> tuple[Conventions, list[tuple[str, Conventions]]]:
    raw = reader.table(raw, "conventions")
    reader.keys(raw, "conventions", CONVENTION_KEYS | {"variants"})
    base = _conventions_from(reader, raw, "conventions", Conventions())
    variants = []
    for vname, vraw in reader.table(raw.get("variants", {}), "conventions.variants").items():
        key = f"conventions.variants.{vname}"
        vraw = reader.table(vraw, key)
        reader.keys(vraw, key, CONVENTION_KEYS)
        variants.append((vname, _conventions_from(reader, vraw, key, base)))
    return base, variants


def _read_relations(reader: _Reader, raw, names: dict[str, sp.Symbol]):
    raw = reader.table(raw, "relations")
    parsed: dict[sp.Symbol, tuple[str, sp.Expr]] = {}
    for lhs, rhs in raw.items():
        key = f"relations.{lhs}"
        if lhs not in names:
            reader.fail(key, f"unknown parameter {lhs!r}")
        parsed[names[lhs]] = (key, reader.formula(rhs, key, names))
    # Resolve chains (lambda_3b = lambda_3a = lambda_1a + lambda_1ab) to a fixed point.
    resolved = {sym: expr for sym, (_, expr) in parsed.items()}
    for _ in range(len(resolved) + 1):
        updated = {sym: expr.xreplace(resolved) for sym, expr in resolved.items()}
        if updated == resolved:
            break
        resolved = updated
    for sym, expr in resolved.items():
        if sym in expr.free_symbols or any(s in resolved for s in expr.free_symbols):
            reader.fail(parsed[sym][0], "relations refer to each other in a cycle")
    return [(sym, resolved[sym]) for sym in parsed]


def _read_vacuum(reader: _Reader, raw, scalars, names, parameters: list[Parameter]) -> Vacuum:
    if raw is None:
        vevs = []
        for s in scalars:
            vname = f"v_{s.label}"
            if vname not in names:
                latex = f"v_{{{s.label}}}"
                param = Parameter(vname, symbols.parameter(vname, "vev", latex), latex, "vev", generated=True)
                parameters.append(param)
                names[vname] = param.symbol
            vevs.append((s.name, names[vname]))
        return Vacuum(tuple(vevs))
    raw = reader.table(raw, "vacuum")
    reader.keys(raw, "vacuum", {"vevs", "alignment", "small_parameter"}, {"vevs"})
    table = reader.table(raw["vevs"], "vacuum.vevs")
    vevs = []
    by_name = {p.name: p for p in parameters}
    for s in scalars:
        key = f"vacuum.vevs.{s.name}"
        if s.name not in table:
            reader.fail(key, "missing vev for this scalar")
        vname = reader.string(table[s.name], key)
        if vname not in by_name or by_name[vname].kind != "vev":
            reader.fail(key, f"{vname!r} is not a declared parameter of kind \"vev\"")
        vevs.append((s.name, names[vname]))
    for extra in table:
        if extra not in {s.name for s in scalars}:
            reader.fail(f"vacuum.vevs.{extra}", "not a scalar of the potential")
    vev_symbols = {sym for _, sym in vevs}
    alignment = []
    for lhs, rhs in reader.table(raw.get("alignment", {}), "vacuum.alignment").items():
        key = f"vacuum.alignment.{lhs}"
        if lhs not in names or names[lhs] not in vev_symbols:
            reader.fail(key, f"{lhs!r} is not one of the vevs")
        expr = reader.formula(rhs, key, names)
        alignment.append((names[lhs], expr))
    aligned = {sym for sym, _ in alignment}
    for sym, expr in alignment:
        if expr.free_symbols & aligned:
            reader.fail(f"vacuum.alignment.{sym}", "alignment must be written in the free vevs")
    small = reader.table(raw.get("small_parameter", {}), "vacuum.small_parameter")
    reader.keys(small, "vacuum.small_parameter", {"name", "latex", "value"})
    small_value = None
    if "value" in small:
        small_value = reader.formula(small["value"], "vacuum.small_parameter.value", names)
    return Vacuum(
        tuple(vevs),
        tuple(alignment),
        reader.name(small.get("name", "epsilon"), "vacuum.small_parameter.name"),
        reader.latex(small.get("latex", r"\epsilon"), "vacuum.small_parameter.latex"),
        small_value,
    )


def _read_yukawa(reader: _Reader, raw, spectators, fermions, names, scalars) -> Yukawa | None:
    """``[yukawa]``: the Higgs, one coupling per lepton, extra insertions, the declared vertex
    sets (``[yukawa.vertex_sets.NAME]``) and the active mode (``vertex_set``: "all_allowed",
    the default, or the name of a declared set)."""
    if raw is None:
        return None
    raw = reader.table(raw, "yukawa")
    reader.keys(raw, "yukawa", {"higgs", "couplings", "extra_insertions", "vertex_sets", "vertex_set"},
                {"higgs", "couplings"})
    higgs = reader.string(raw["higgs"], "yukawa.higgs")
    if higgs not in {s.name for s in spectators}:
        reader.fail("yukawa.higgs", f"{higgs!r} is not a declared spectator scalar")
    couplings = []
    leptons = {f.lepton for f in fermions}
    table = reader.table(raw["couplings"], "yukawa.couplings")
    for lepton in sorted(leptons):
        if lepton not in table:
            reader.fail(f"yukawa.couplings.{lepton}", "missing coupling for this lepton")
    for lepton, value in table.items():
        key = f"yukawa.couplings.{lepton}"
        if lepton not in leptons:
            reader.fail(key, f"{lepton!r} is not a lepton of [[fermions]]")
        couplings.append((lepton, reader.formula(value, key, names)))
    extra = reader.integer(raw.get("extra_insertions", 0), "yukawa.extra_insertions", minimum=0)
    if extra > 4:
        reader.fail("yukawa.extra_insertions", "at most 4 extra insertions")
    sets = []
    for set_name, body in reader.table(raw.get("vertex_sets", {}), "yukawa.vertex_sets").items():
        key = f"yukawa.vertex_sets.{set_name}"
        reader.name(set_name, key)
        if set_name == ALL_ALLOWED:
            reader.fail(key, f"{ALL_ALLOWED!r} is the mode of every allowed vertex; choose another name")
        body = reader.table(body, key)
        reader.keys(body, key, {"description", "vertices"}, {"vertices"})
        items = reader.array(body["vertices"], f"{key}.vertices")
        if not items:
            reader.fail(f"{key}.vertices", "a vertex set needs at least one vertex")
        vertices = tuple(_read_vertex(reader, item, f"{key}.vertices[{k}]", names, scalars, higgs)
                         for k, item in enumerate(items))
        sets.append(VertexSet(set_name, vertices, reader.string(body.get("description", ""), f"{key}.description")))
    mode = reader.string(raw.get("vertex_set", ALL_ALLOWED), "yukawa.vertex_set")
    if mode not in {ALL_ALLOWED} | {v.name for v in sets}:
        reader.fail("yukawa.vertex_set", f"{mode!r} is neither {ALL_ALLOWED!r} nor a set of [yukawa.vertex_sets]")
    return Yukawa(higgs, tuple(couplings), extra, tuple(sets), mode)


def _read_vertex(reader: _Reader, raw, key: str, names, scalars, higgs) -> Vertex:
    """One vertex ``{ bar = ..., field = ..., scalar = ..., coupling = ... }``: the Lagrangian term
    ``coupling * bar^dagger field scalar + h.c.``; ``scalar`` one flavon, its conjugate
    (``"phi1†"``) or the Higgs, parsed with the operator whitelist; ``coupling`` optional (the
    lepton's coupling of [yukawa] couplings). Which kind of vertex it is follows from the fields
    (checked with the model in :func:`_check_vertices`)."""
    raw = reader.table(raw, key)
    reader.keys(raw, key, {"bar", "field", "scalar", "coupling"}, {"bar", "field", "scalar"})
    bar = reader.string(raw["bar"], f"{key}.bar")
    fld = reader.string(raw["field"], f"{key}.field")
    text = reader.string(raw["scalar"], f"{key}.scalar")
    fields = [s.name for s in scalars] + [higgs]
    powers = reader.operator(text, f"{key}.scalar", fields).powers
    if sum(n + m for n, m in powers) != 1:
        reader.fail(f"{key}.scalar", f"{text!r}: one scalar (or its conjugate) per vertex")
    index = next(i for i, (n, m) in enumerate(powers) if n or m)
    conjugate = bool(powers[index][1])
    coupling = reader.formula(raw["coupling"], f"{key}.coupling", names) if "coupling" in raw else None
    shown = f"{bar}bar {fld} {text}" + (f" ({raw['coupling']})" if "coupling" in raw else "")
    return Vertex("", bar, fld, fields[index], conjugate, coupling, shown)


def _vertex_kind(reader: _Reader, model: Model, vertex: Vertex, key: str) -> str:
    """lepton_R, mediator or lepton_L from the fields of the vertex (SpecError if none fits)."""
    fermions = {f.name: f for f in model.fermions}
    for slot, name in (("bar", vertex.bar), ("field", vertex.field)):
        if not vertex_fields(model, name):
            reader.fail(f"{key}.{slot}", f"{name!r} is neither a lepton of [[fermions]] nor a mediator species or family")
    bar, fld = fermions.get(vertex.bar), fermions.get(vertex.field)
    is_higgs = vertex.scalar == model.yukawa.higgs
    if bar is None and fld is not None and fld.chirality == "R" and not is_higgs:
        return "lepton_R"
    if bar is None and fld is None and not is_higgs:
        return "mediator"
    if bar is not None and bar.chirality == "L" and fld is None and is_higgs and not vertex.conjugate:
        return "lepton_L"
    reader.fail(key, f"vertex {vertex.text!r}: expected chibar l_R S, chibar' chi S (S a flavon or its "
                     f"conjugate) or lbar_L chi H (H = {model.yukawa.higgs})")


def _check_vertices(reader: _Reader, model: Model) -> Model:
    """Every declared vertex: its kind, its invariance under every symmetry (a family: at least
    one species), and no vertex declared twice in one set (the h.c. of chibar' chi S is
    chibar chi' S^dagger, the same vertex)."""
    if model.yukawa is None or not model.yukawa.vertex_sets:
        return model
    sets = []
    for vset in model.yukawa.vertex_sets:
        seen: dict = {}
        vertices = []
        for k, vertex in enumerate(vset.vertices):
            key = f"yukawa.vertex_sets.{vset.name}.vertices[{k}]"
            vertex = dataclasses.replace(vertex, kind=_vertex_kind(reader, model, vertex, key))
            instances = vertex_instances(model, vertex)
            if not instances:
                symmetries = ", ".join(s.name for s in model.symmetries)
                reader.fail(key, f"vertex {vertex.text!r} is not invariant under {symmetries}"
                                 + (" for any species of the family" if len(vertex_fields(model, vertex.bar))
                                    + len(vertex_fields(model, vertex.field)) > 2 else ""))
            for bar, fld in instances:
                same = frozenset({(bar, fld, vertex.scalar, vertex.conjugate), (fld, bar, vertex.scalar, not vertex.conjugate)})
                if same in seen:
                    reader.fail(key, f"vertex {vertex.text!r} repeats {seen[same]!r} ({bar}bar {fld})")
                seen[same] = vertex.text
            vertices.append(vertex)
        sets.append(dataclasses.replace(vset, vertices=tuple(vertices)))
    return dataclasses.replace(model, yukawa=dataclasses.replace(model.yukawa, vertex_sets=tuple(sets)))


def _read_points(reader: _Reader, raw, names) -> list[Point]:
    """``[points.NAME]``: values by parameter name; ``"NAME^2" = s`` (a quoted key) gives the signed
    square of a quadratic coupling. A name the file does not declare may be a coupling the
    operator enumeration generates: :func:`check_point_names` validates it once those are known."""
    raw = reader.table(raw, "points")
    points = []
    for pname, table in raw.items():
        key = f"points.{pname}"
        reader.name(pname, key)
        table = reader.table(table, key)
        values = []
        for k, v in table.items():
            if k in ("source", "note"):
                reader.string(v, f"{key}.{k}")
                continue
            base = k.removesuffix(SQUARE)
            if not NAME.match(base):
                reader.fail(f"{key}.{k}", f"{k!r} is not a parameter name (or NAME^2 for a signed square)")
            if base != k and base in table:
                reader.fail(f"{key}.{k}", f"give {base} or {k}, not both")
            values.append((k, reader.rational(v, f"{key}.{k}")))
        points.append(Point(pname, tuple(values), table.get("source", ""), table.get("note", "")))
    return points


def check_point_names(model: Model) -> None:
    """Every key of every point names a parameter (declared or generated) or, as ``NAME^2``, a
    coupling of ``model.quadratic`` (those entering V as NAME**2); else one :class:`SpecError`."""
    known, quadratic = model.symbols(), set(model.quadratic)
    for point in model.points:
        for key, _ in point.values:
            base = key.removesuffix(SQUARE)
            where = f"points.{point.name}.{key}"
            if base not in known:
                raise SpecError(model.path, where, f"unknown parameter {base!r} (not declared, not generated "
                                                   "by the operators of the charges)")
            if base != key and base not in quadratic:
                raise SpecError(model.path, where, f"{base} is not the coupling of a quadratic operator: "
                                                   "give its value, not its square")


SCAN_KEYS = {"description", "points", "seed", "confirm", "n_sigma", "ranges"}
RANGE_KEYS = {"low", "high", "scale", "fixed_by"}


def _read_scans(reader: _Reader, raw, parameters, relations, vacuum, fermions, constants) -> list[ScanSpec]:
    """``[scans.NAME]``: parameter ranges of a declared scan (data, like the points)."""
    raw = reader.table(raw, "scans")
    by_name = {p.name: p for p in parameters}
    masses = {builtin_constants.lepton_mass(f.lepton) for f in fermions}
    known_masses = {m for m in masses if (m in by_name and by_name[m].default is not None)
                    or m in {c.name for c in constants}}
    dependent = {str(sym) for sym, _ in relations}
    aligned = {str(sym) for sym, _ in (vacuum.alignment if vacuum else ())}
    scans = []
    for sname, table in raw.items():
        key = f"scans.{sname}"
        reader.name(sname, key)
        table = reader.table(table, key)
        reader.keys(table, key, SCAN_KEYS, {"ranges"})
        ranges = []
        for pname, entry in reader.table(table["ranges"], f"{key}.ranges").items():
            rkey = f"{key}.ranges.{pname}"
            if pname not in by_name:
                reader.fail(rkey, f"unknown parameter {pname!r}")
            if pname in dependent:
                reader.fail(rkey, "fixed by a relation of [relations]: it cannot be scanned")
            if pname in aligned:
                reader.fail(rkey, "fixed by the vacuum alignment: it cannot be scanned")
            entry = reader.table(entry, rkey)
            reader.keys(entry, rkey, RANGE_KEYS, {"low", "high"})
            low = float(reader.rational(entry["low"], f"{rkey}.low"))
            high = float(reader.rational(entry["high"], f"{rkey}.high"))
            scale = reader.string(entry.get("scale", "linear"), f"{rkey}.scale")
            if scale not in ("linear", "log"):
                reader.fail(f"{rkey}.scale", f"{scale!r} is not one of linear, log")
            if not low < high:
                reader.fail(rkey, f"need low < high, got [{low}, {high}]")
            if scale == "log" and low <= 0:
                reader.fail(f"{rkey}.low", "a log range needs low > 0")
            fixed_by = None
            if "fixed_by" in entry:
                fixed_by = reader.string(entry["fixed_by"], f"{rkey}.fixed_by")
                if fixed_by not in masses:
                    reader.fail(f"{rkey}.fixed_by", f"{fixed_by!r} is not the mass of a lepton of [[fermions]] "
                                f"(one of {', '.join(sorted(masses)) or 'none'})")
                if fixed_by not in known_masses:
                    reader.fail(f"{rkey}.fixed_by", f"{fixed_by!r} has no value: declare it in [parameters] "
                                "with a default (no built-in constant of that name)")
            ranges.append(ScanRange(pname, low, high, scale, fixed_by))
        if not ranges:
            reader.fail(f"{key}.ranges", "no parameter to scan")
        points = reader.integer(table.get("points", 20000), f"{key}.points", minimum=1)
        seed = reader.integer(table.get("seed", 0), f"{key}.seed", minimum=0)
        confirm = reader.integer(table.get("confirm", 16), f"{key}.confirm", minimum=0)
        reader.limit(f"{key}.points", limits.check_scan_points, points, limits.MAX_SCAN_POINTS * limits.SCAN_BYTES_PER_POINT)
        reader.limit(f"{key}.seed", limits.check_seed, seed)
        if confirm > limits.MAX_STARTS:
            reader.fail(f"{key}.confirm", f"at most {limits.MAX_STARTS}")
        n_sigma = float(reader.rational(table.get("n_sigma", 2), f"{key}.n_sigma"))
        if n_sigma <= 0:
            reader.fail(f"{key}.n_sigma", "must be positive")
        description = reader.string(table.get("description", ""), f"{key}.description")
        scans.append(ScanSpec(sname, description, tuple(ranges), points, seed, confirm, n_sigma))
    return scans


# ------------------------------------------------------------------ --charge


def parse_charge_overrides(model: Model, items) -> list[tuple[str, str, Fraction]]:
    """Parse ``FIELD=Q`` (first U(1)) or ``FIELD.SYMMETRY=Q`` options."""
    everything = model.all_charged()
    families = {m.family for m in model.mediators}
    u1 = [s for s in model.symmetries if s.is_u1]
    result = []
    for item in items:
        if "=" not in item:
            raise SpecError("--charge", item, "expected FIELD=Q or FIELD.SYMMETRY=Q")
        target, value = item.split("=", 1)
        target = target.strip()
        if "." in target:
            fname, sname = target.split(".", 1)
        else:
            if not u1:
                raise SpecError("--charge", item, "the model has no U(1); write FIELD.SYMMETRY=Q")
            fname, sname = target, u1[0].name
        if fname in families:
            raise SpecError("--charge", item, f"{fname!r} is a mediator family; edit its charges in the file")
        if fname not in everything:
            raise SpecError("--charge", item, f"unknown field {fname!r} (fields: {', '.join(everything)})")
        if sname not in {s.name for s in model.symmetries}:
            raise SpecError("--charge", item, f"unknown symmetry {sname!r}")
        sym = model.symmetry(sname)
        try:
            q = parse_number(value.strip())
        except ParseError as exc:
            raise SpecError("--charge", item, f"charge {exc}") from None
        frac = Fraction(int(q.p), int(q.q))
        if not sym.is_u1 and (frac.denominator != 1 or not 0 <= frac < sym.order):
            raise SpecError("--charge", item, f"Z_{sym.order} charge must be an integer from 0 to {sym.order - 1}")
        result.append((fname, sname, frac))
    return result


def read_printed(model: Model) -> dict[str, Any]:
    """The printed registry (raw TOML tables) of a derivation, or {} if it has none."""
    if not model.printed_path:
        return {}
    return read_toml(Path(model.printed_path))[0]
