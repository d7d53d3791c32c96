"""The printed registry: the paper's formulas, as data to compare against.

:func:`load` reads ``printed.toml`` (see the comment at its top for the layout) into
frozen :class:`Equation` / :class:`Part` objects. Formulas are parsed with the
whitelist parser of :mod:`symflav.core.parsing`; the paper's LaTeX is kept beside each
part and can be parsed with :mod:`symflav.core.latex_parse` (:meth:`Registry.parse_latex`)
to check the transcription. Nothing here produces a derived result: printed
formulas are only ever compared with derived ones (:mod:`symflav.verify.checks`).

Names a formula may use: the model's parameters (``mu_1``, ``lambda_1ab``, ``v_1``...),
the registry's ``[symbols]`` (``x_phi``, ``lambdat_1a``, ``phi1_dag``...), ``I`` (the
imaginary unit), ``pi``; functions: ``sqrt log exp abs``, ``Re Im``, ``hc`` (X + X^dagger:
fields swapped with their conjugates, complex symbols conjugated) and the registry's
``[functions]`` (``I_m_x``...), which stay opaque.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sympy as sp

from symflav.core import symbols
from symflav.core.errors import SpecError
from symflav.core.latex_parse import parse_latex, shape_key
from symflav.core.model import Model
from symflav.core.parsing import ParseError, parse_expression
from symflav.core.spec import read_printed

RELATIONS = ("=", "≃", "~", "≈", "<", ">")
EQUATION_KEYS = {"object", "section", "description", "relation", "order", "operators", "latex", "notes",
                 "not_checked", "parts"}
PART_KEYS = {"object", "provider", "select", "relation", "order", "formula", "latex", "parse_latex",
             "latex_note", "assume", "impose_relations", "transform", "column_signs", "rows", "columns", "note",
             "overall_sign", "sign_note"}
SYMBOL_KEYS = {"latex", "kind", "definition", "field", "dagger", "component", "source", "note"}


@dataclass(frozen=True)
class PrintedSymbol:
    name: str
    symbol: sp.Symbol
    latex: str
    kind: str
    definition: sp.Expr | None = None
    note: str = ""


@dataclass(frozen=True)
class Part:
    """One compared object of an equation (a scalar formula or a matrix)."""

    equation: str
    index: int
    object: str
    provider: str
    select: Any
    relation: str
    order: int | None
    formula: Any  # sympy Expr or Matrix, in registry symbols (definitions not expanded)
    formula_text: Any
    latex: str | None
    parse_latex: bool
    latex_note: str
    assume: tuple[tuple[sp.Symbol, sp.Expr], ...]
    impose_relations: bool
    transform: str | None
    column_signs: str
    rows: tuple[str, ...] | None
    columns: tuple[str, ...] | None
    note: str
    key: str
    overall_sign: str = "fixed"
    sign_note: str = ""

    @property
    def is_matrix(self) -> bool:
        return isinstance(self.formula, sp.MatrixBase)


@dataclass(frozen=True)
class Equation:
    label: str
    section: str
    description: str
    latex: str
    relation: str
    order: int | None
    notes: str
    not_checked: str
    parts: tuple[Part, ...]
    operators: tuple[str, ...] = ()


@dataclass(frozen=True)
class Registry:
    path: str
    equations: tuple[Equation, ...]
    symbols: tuple[PrintedSymbol, ...]
    functions: tuple[tuple[str, str], ...]  # (name, latex)
    tables: dict = field(default_factory=dict, compare=False, hash=False)
    names: dict = field(default_factory=dict, compare=False, hash=False)
    function_map: dict = field(default_factory=dict, compare=False, hash=False)
    latex_symbols: dict = field(default_factory=dict, compare=False, hash=False)
    latex_functions: dict = field(default_factory=dict, compare=False, hash=False)
    field_pairs: tuple = ()

    def equation(self, label: str) -> Equation:
        for eq in self.equations:
            if eq.label == label:
                return eq
        raise KeyError(label)

    @property
    def definitions(self) -> dict[sp.Symbol, sp.Expr]:
        return {s.symbol: s.definition for s in self.symbols if s.definition is not None}

    def expand_definitions(self, expr, overrides: dict | None = None):
        """Replace defined symbols (lambdat_1a, epsilon_1...) by their definitions."""
        table = self.definitions
        if overrides:
            table.update(overrides)
        return expr.xreplace(table) if table else expr

    def conjugate(self, expr):
        """X^dagger: fields and their conjugates swapped, complex numbers conjugated."""
        conj = sp.conjugate(expr)
        swap = {}
        for phi, phibar in self.field_pairs:
            swap[sp.conjugate(phi)] = phibar
            swap[sp.conjugate(phibar)] = phi
        return conj.xreplace(swap)

    def parse(self, text, where: str = "formula"):
        """A formula (string or rows of strings) in the registry's names."""
        if isinstance(text, list):
            rows = []
            for i, row in enumerate(text):
                if not isinstance(row, list) or not row:
                    raise ParseError(f"row {i + 1} of the matrix is not a list of formulas")
                rows.append([self.parse(cell, where) for cell in row])
            if len({len(r) for r in rows}) != 1:
                raise ParseError("matrix rows have different lengths")
            return sp.Matrix(rows)
        if not isinstance(text, str):
            raise ParseError(f"expected a formula (string), got {type(text).__name__}")
        return parse_expression(" ".join(text.split()), self.names, self.function_map)

    def parse_latex(self, latex: str):
        """The paper's LaTeX of a part, parsed with the whitelist LaTeX parser."""
        return parse_latex(latex, self.latex_symbols, self.latex_functions, self.conjugate)


def _fail(path, key, problem):
    raise SpecError(str(path), key, problem)


def load(model: Model) -> Registry | None:
    """The printed registry of ``model`` (``None`` if the derivation has none), validated as
    it is read: every problem is a :class:`SpecError` naming the file and the key."""
    if not model.printed_path:
        return None
    raw = read_printed(model)
    path = model.printed_path
    for key in raw:
        if key not in ("symbols", "functions", "equations", "tables"):
            _fail(path, key, "unknown section (expected symbols, functions, equations, tables)")

    names: dict[str, Any] = dict(model.symbols())
    if model.vacuum is not None:
        names.setdefault(model.vacuum.small_name, symbols.printed(model.vacuum.small_name, "positive",
                                                                   model.vacuum.small_latex))
    names["I"] = sp.I
    latex_symbols = _LatexNames(path)
    for p in model.parameters:
        if p.latex:
            latex_symbols.add(p.latex, p.symbol, f"(model parameter {p.name})")
    printed_symbols = _read_symbols(path, raw.get("symbols", {}), model, names, latex_symbols)
    function_map, latex_functions, functions = _read_functions(path, raw.get("functions", {}))

    field_pairs = tuple(symbols.holomorphic(s.label, s.latex) for s in model.scalars)
    registry = Registry(path, (), (), tuple(functions), raw.get("tables", {}), names, function_map,
                        latex_symbols.shapes, latex_functions, field_pairs)
    registry.function_map["hc"] = lambda x: x + registry.conjugate(x)

    defined = _define_symbols(registry, path, printed_symbols)
    equations = [_read_equation(registry, path, label, entry)
                 for label, entry in raw.get("equations", {}).items()]
    object.__setattr__(registry, "equations", tuple(equations))
    object.__setattr__(registry, "symbols", tuple(defined))
    return registry


class _LatexNames:
    """LaTeX name shape -> symbol; one shape may name one symbol only."""

    def __init__(self, path):
        self.path = path
        self.shapes: dict[Any, Any] = {}

    def add(self, latex: str, value, key: str):
        try:
            shape = shape_key(latex)
        except ParseError:
            return  # a composite name (\Delta I_m): printable, not parseable
        if shape in self.shapes and self.shapes[shape] != value:
            _fail(self.path, key, f"LaTeX {latex!r} already names another symbol")
        self.shapes[shape] = value


def _read_symbols(path, raw: dict, model: Model, names: dict[str, Any], latex_names: _LatexNames) -> list:
    """``[symbols.NAME]``: the paper's own symbols (fields, their components, printed parameters);
    each is added to ``names`` and ``latex_names``. Returns ``(name, symbol, latex, kind, spec)``."""
    scalars = {s.name: s for s in model.scalars}
    printed_symbols = []
    for name, spec in raw.items():
        key = f"symbols.{name}"
        if not isinstance(spec, dict):
            _fail(path, key, "expected a table")
        unknown = set(spec) - SYMBOL_KEYS
        if unknown:
            _fail(path, key, f"unknown keys {sorted(unknown)}")
        if name in names:
            _fail(path, key, "already a model parameter")
        latex = spec.get("latex", name)
        if "field" in spec:
            scalar = scalars.get(spec["field"])
            if scalar is None:
                _fail(path, f"{key}.field", f"{spec['field']!r} is not a scalar of the model")
            phi, phibar = symbols.holomorphic(scalar.label, scalar.latex)
            if "component" in spec:
                maker = {"sigma": symbols.sigma, "varphi": symbols.varphi}.get(spec["component"])
                if maker is None:
                    _fail(path, f"{key}.component", "expected 'sigma' or 'varphi'")
                sym = maker(scalar.label)
            else:
                sym = phibar if spec.get("dagger") else phi
            kind = "field"
        else:
            kind = spec.get("kind", "real")
            if kind not in symbols.PRINTED_KINDS:
                _fail(path, f"{key}.kind", f"expected one of {', '.join(symbols.PRINTED_KINDS)}")
            sym = symbols.printed(name, kind, latex)
        names[name] = sym
        latex_names.add(latex, sym, f"{key}.latex")
        printed_symbols.append((name, sym, latex, kind, spec))
    return printed_symbols


def _read_functions(path, raw: dict):
    """``[functions.NAME]``: the paper's named functions; returns the name map, the LaTeX-shape map
    and ``(name, latex)`` pairs (``Re`` and ``Im`` are always known)."""
    function_map: dict[str, Any] = {"Re": sp.re, "Im": sp.im}
    latex_functions: dict[str, Any] = {"Re": sp.re, "Im": sp.im}
    functions = []
    for name, spec in raw.items():
        key = f"functions.{name}"
        if not isinstance(spec, dict) or "latex" not in spec:
            _fail(path, key, "expected a table with a latex key")
        func = symbols.printed_function(name, spec["latex"])
        function_map[name] = func
        try:
            latex_functions[shape_key(spec["latex"])] = func
        except ParseError as exc:
            _fail(path, f"{key}.latex", str(exc))
        functions.append((name, spec["latex"]))
    return function_map, latex_functions, functions


def _define_symbols(registry: Registry, path, printed_symbols: list) -> list[PrintedSymbol]:
    """The printed symbols with their definitions, which must be written in model parameters."""
    defined = []
    for name, sym, latex, kind, spec in printed_symbols:
        definition = None
        if "definition" in spec:
            try:
                definition = registry.parse(spec["definition"])
            except ParseError as exc:
                _fail(path, f"symbols.{name}.definition", str(exc))
        defined.append(PrintedSymbol(name, sym, latex, kind, definition,
                                     spec.get("source", "") or spec.get("note", "")))
    with_definition = {d.symbol for d in defined if d.definition is not None}
    for s in defined:
        if s.definition is not None and s.definition.free_symbols & with_definition:
            _fail(path, f"symbols.{s.name}.definition", "definitions must be written in model parameters")
    return defined


def _read_equation(registry: Registry, path, label: str, entry) -> Equation:
    key = f"equations.{label}"
    if not isinstance(entry, dict):
        _fail(path, key, "expected a table")
    unknown = set(entry) - EQUATION_KEYS
    if unknown:
        _fail(path, key, f"unknown keys {sorted(unknown)}")
    relation = entry.get("relation", "=")
    if relation not in RELATIONS:
        _fail(path, f"{key}.relation", f"expected one of {' '.join(RELATIONS)}")
    order = entry.get("order")
    if order is not None and (not isinstance(order, int) or isinstance(order, bool) or order < 0):
        _fail(path, f"{key}.order", "expected a non-negative integer")
    parts = []
    for i, raw in enumerate(entry.get("parts", [])):
        parts.append(_read_part(registry, path, label, i, raw, relation, order))
    if not parts and not entry.get("not_checked") and "operators" not in entry:
        _fail(path, key, "has neither parts nor a not_checked reason")
    return Equation(
        label=label,
        section=str(entry.get("section", "")),
        description=entry.get("description", ""),
        latex=entry.get("latex", "").strip(),
        relation=relation,
        order=order,
        notes=entry.get("notes", ""),
        not_checked=entry.get("not_checked", ""),
        parts=tuple(parts),
        operators=tuple(entry.get("operators", ())),
    )


def _read_part(registry: Registry, path, label, i, raw, relation, order) -> Part:
    key = f"equations.{label}.parts[{i}]"
    if not isinstance(raw, dict):
        _fail(path, key, "expected a table")
    unknown = set(raw) - PART_KEYS
    if unknown:
        _fail(path, key, f"unknown keys {sorted(unknown)}")
    for required in ("object", "provider", "formula"):
        if required not in raw:
            _fail(path, key, f"missing {required!r}")
    try:
        formula = registry.parse(raw["formula"])
    except ParseError as exc:
        _fail(path, f"{key}.formula", str(exc))
    part_relation = raw.get("relation", relation)
    if part_relation not in RELATIONS:
        _fail(path, f"{key}.relation", f"expected one of {' '.join(RELATIONS)}")
    part_order = raw.get("order", order)
    assume = []
    for name, value in raw.get("assume", {}).items():
        if name not in registry.names:
            _fail(path, f"{key}.assume.{name}", "unknown name")
        try:
            assume.append((registry.names[name], registry.parse(value)))
        except ParseError as exc:
            _fail(path, f"{key}.assume.{name}", str(exc))
    parse_flag = raw.get("parse_latex", True)
    if parse_flag and "latex" not in raw:
        _fail(path, key, "give the part's latex, or parse_latex = false with a latex_note")
    if not parse_flag and not raw.get("latex_note"):
        _fail(path, key, "parse_latex = false needs a latex_note saying why")
    column_signs = raw.get("column_signs", "fixed")
    if column_signs not in ("fixed", "free"):
        _fail(path, f"{key}.column_signs", "expected 'fixed' or 'free'")
    overall_sign = raw.get("overall_sign", "fixed")
    if overall_sign not in ("fixed", "free"):
        _fail(path, f"{key}.overall_sign", "expected 'fixed' or 'free'")
    if overall_sign == "free" and not raw.get("sign_note"):
        _fail(path, key, "overall_sign = 'free' needs a sign_note saying which convention fixes the sign")
    transform = raw.get("transform")
    if transform not in (None, "gram"):
        _fail(path, f"{key}.transform", "expected 'gram'")
    return Part(
        equation=label,
        index=i,
        object=raw["object"],
        provider=raw["provider"],
        select=raw.get("select"),
        relation=part_relation,
        order=part_order,
        formula=formula,
        formula_text=raw["formula"],
        latex=raw.get("latex"),
        parse_latex=bool(parse_flag),
        latex_note=raw.get("latex_note", ""),
        assume=tuple(assume),
        impose_relations=bool(raw.get("impose_relations", False)),
        transform=transform,
        column_signs=column_signs,
        rows=tuple(raw["rows"]) if "rows" in raw else None,
        columns=tuple(raw["columns"]) if "columns" in raw else None,
        note=raw.get("note", ""),
        key=key,
        overall_sign=overall_sign,
        sign_note=raw.get("sign_note", ""),
    )

