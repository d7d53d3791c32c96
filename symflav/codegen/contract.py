"""What the generated module promises about names and values, checked at generation time.

* :func:`with_squares`: a mass parameter m that a function depends on only through m^2 is
  read as its square, given as ``m`` or as ``m_sq`` (GeV^2, any sign), so that a vacuum with
  mu^2 < 0 can be entered;
* :func:`check_names`: every keyword a generated function takes is usable (not a name the
  functions reserve for themselves, no clash between ``m_sq`` and a model name); a clash is a
  :class:`~symflav.core.errors.SpecError` naming the parameter;
* :func:`complete_points`: every named point carries every parameter a generated function
  needs (values as written, then the parameters' defaults, then the relations), each a finite
  double; anything else is a SpecError naming the point and the key.
"""

from __future__ import annotations

import math

import sympy as sp

from symflav.codegen.module import Argument, Function, Result
from symflav.codegen.printer import finite_literal, NonFiniteError
from symflav.core.errors import SpecError

#: Keywords the generated functions take for themselves: ``out=`` (every function) and the
#: options of ``minimize``. A model parameter of one of these names cannot be passed.
RESERVED_KEYWORDS = {"out": "the out= buffers of every function", "starts": "an option of minimize()",
                     "seed": "an option of minimize()", "guesses": "an option of minimize()"}


def square_symbol(symbol: sp.Symbol) -> sp.Symbol:
    return sp.Symbol(f"{symbol}_sq", real=True)


def squared_only(exprs, candidates) -> set:
    """The symbols of ``candidates`` that occur in ``exprs`` only as bases of even integer
    powers (one walk over the expression trees, shared sub-trees visited once)."""
    ok, seen = set(candidates), set()
    present = set()

    def visit(node):
        if node in seen:
            return
        seen.add(node)
        if node.is_Pow and node.base in candidates:
            present.add(node.base)
            if not (node.exp.is_Integer and int(node.exp) % 2 == 0):
                ok.discard(node.base)
            visit(node.exp)
            return
        if node.is_Symbol:
            if node in candidates:
                present.add(node)
                ok.discard(node)
            return
        for arg in node.args:
            visit(arg)

    for e in exprs:
        visit(sp.sympify(e))
    return ok & present


def with_squares(functions, masses) -> tuple[list[Function], dict]:
    """Each function with every mass parameter it reads only through m^2 read as that square.
    Returns the functions and {mass symbol: square symbol} of every parameter so read."""
    squares: dict[sp.Symbol, sp.Symbol] = {}
    out = []
    for fn in functions:
        exprs = [sp.sympify(e) for r in fn.results for e in r.exprs]
        candidates = {a.symbols[0] for a in fn.parameters if a.symbols[0] in masses and not a.squared}
        chosen = squared_only(exprs, candidates)
        if not chosen:
            out.append(fn)
            continue
        replace = {}
        parameters = []
        for a in fn.parameters:
            s = a.symbols[0]
            if s in chosen:
                squares[s] = square = square_symbol(s)
                replace[s] = sp.sqrt(square)
                parameters.append(Argument(
                    a.name, (square,), a.description.rstrip(".") + f"; or {a.name}_sq = {a.name}^2 (its "
                    f"square, any sign): the function depends on {a.name} only through {a.name}^2.",
                    squared=True))
            else:
                parameters.append(a)
        results = tuple(Result(r.name, tuple(sp.sympify(e).xreplace(replace) for e in r.exprs), r.shape,
                               r.description) for r in fn.results)
        out.append(Function(fn.name, fn.summary, fn.arguments, tuple(parameters), results, fn.notes,
                            fn.substitutions, fn.factor, fn.examples, fn.label))
    return out, squares


def check_names(model, keywords: dict[str, str], squares: dict[str, str]):
    """``keywords``: name -> where it comes from ("parameters.NAME" or a description);
    ``squares``: parameter -> its ``_sq`` keyword."""
    for name, where in keywords.items():
        if name in RESERVED_KEYWORDS:
            raise SpecError(model.path, where, f"the name {name!r} is reserved by the generated module "
                                               f"({RESERVED_KEYWORDS[name]}); rename the parameter")
    for name, square in squares.items():
        if square in keywords:
            raise SpecError(model.path, keywords[square],
                            f"{square!r} is the keyword of the signed square of {name!r} in the generated "
                            "module; rename one of them")
        if square in RESERVED_KEYWORDS:
            raise SpecError(model.path, keywords.get(name, name), f"{square!r} is reserved by the generated module")


def _eliminated_squares(tadpoles, exact: dict, squares: dict[str, str]) -> dict[str, sp.Expr]:
    """Signed squares of the mu that a point does not give, eliminated with the tadpoles.

    At the point's free vevs (and the alignment's vevs that follow from them), each mu^2 that the
    tadpoles fix (``tadpoles.eliminated``) is evaluated with the point's values; it is returned
    under its ``_sq`` keyword (``squares``: parameter name -> keyword), so the point becomes a
    stationary point of V. Empty when the point does not give every free vev."""
    if not hasattr(tadpoles, "eliminated") or not all(v in exact for v in tadpoles.free_vevs):
        return {}
    vevs = {v: exact[v] for v in tadpoles.free_vevs}
    for sym, expr in tadpoles.alignment:
        vevs.setdefault(sym, expr.xreplace(vevs))
    out = {}
    for mu, expr in tadpoles.eliminated:
        if mu in exact or mu.name not in squares:
            continue
        value = sp.expand(expr.xreplace({**exact, **vevs}))
        if not value.free_symbols:
            out[squares[mu.name]] = value
    return out


def complete_points(model, table, needed, squares=None, tadpoles=None) -> dict[str, dict[str, float]]:
    """Every point: its values as written, then every parameter in ``needed`` (names the
    generated functions read) from the defaults and the relations; floats, all finite.

    A mu that the point does not give, read only through its square (``squares``: name ->
    ``_sq`` keyword), is eliminated with the tadpoles (``tadpoles``, the tadpoles stage) at the
    point's vevs and written as its signed square (e.g. ``mu_1_sq``): the point is then a
    stationary point, and a negative mu^2 is written as it is."""
    squares = squares or {}
    symbols = {p.name: p.symbol for p in table.parameters}
    defaults = {p.symbol: p.default for p in table.parameters if p.default is not None}
    out = {}
    for point in model.points:
        exact = {symbols[k]: v for k, v in point.values if k in symbols}
        for sym, value in defaults.items():
            exact.setdefault(sym, value)
        for _ in range(len(model.relations) + 1):  # chains of relations
            added = False
            for sym, expr in model.relations:
                if sym not in exact and expr.free_symbols <= set(exact):
                    exact[sym] = expr.xreplace(exact)
                    added = True
            if not added:
                break
        solved = _eliminated_squares(tadpoles, exact, squares)
        values = {}
        for name, value in list(point.values) + [(str(s), v) for s, v in exact.items()] + list(solved.items()):
            if name in values or (name not in dict(point.values) and name not in needed and name not in solved):
                continue
            values[name] = _finite(model, f"points.{point.name}.{name}", value)
        missing = [name for name in needed if name not in values and squares.get(name) not in values]
        if missing:
            generated = {p.name: p for p in table.generated}
            hint = ("; it is the coupling generated for " + generated[missing[0]].note.removeprefix("generated for ")
                    + ": name that operator in [[terms]] with a declared coupling, or [[drop]] it"
                    if missing[0] in generated else "; give it in the point or a default under [parameters]")
            raise SpecError(model.path, f"points.{point.name}",
                            f"no value for {', '.join(missing)}, which the generated functions need{hint}")
        order = {name: i for i, name in enumerate(needed)}
        order.update({squares[n]: order[n] for n in needed if n in squares})
        written = [k for k, _ in point.values]
        out[point.name] = {k: values[k] for k in written + sorted(set(values) - set(written), key=order.get)}
    return out


def _finite(model, key: str, value) -> float:
    value = sp.sympify(value)
    if not value.is_real or value.has(sp.zoo, sp.oo, -sp.oo, sp.nan):
        raise SpecError(model.path, key, f"{value} is not a finite real number")
    try:
        return float(finite_literal(value, f"the value {value}"))
    except NonFiniteError as exc:
        raise SpecError(model.path, key, str(exc)) from None


def points_literal(points: dict[str, dict[str, float]]) -> str:
    lines = ["{"]
    for name, values in points.items():
        lines.append(f"    {name!r}: {{")
        for key, value in values.items():
            if not math.isfinite(value):  # complete_points refuses these; never write one
                raise NonFiniteError(f"points {name}.{key}: {value}")
            lines.append(f"        {key!r}: {value!r},")
        lines.append("    },")
    lines.append("}")
    return "\n".join(lines)
