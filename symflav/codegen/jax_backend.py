"""The same functions as pure jax.numpy code (``symflav derive --backend jax``: numeric_jax.py).

Every function is functional -- no preallocated buffers, no in-place writes, no chunks --
so that ``jax.jit``, ``jax.grad``, ``jax.vmap`` apply. The module enables 64-bit floats
(``jax_enable_x64``) when imported. Inputs are checked as in the numpy module, with one
difference: under tracing values cannot be inspected, so a complex *dtype* where a function
is real is the error (the numpy module accepts complex arrays with zero imaginary parts).

Loop functions keep their series patches: both branches are computed at safe points and
selected with ``jnp.where`` (the closed form never sees a point where it is patched), so
values and gradients are finite wherever the function is.
"""

from __future__ import annotations

import math

import sympy as sp

from symflav.codegen.module import (
    PARAMETERS_HELPER,
    NAN_NOTE,
    Function,
    LoopFunction,
    Rendered,
    _numpydoc,
    _trailing,
    all_literal,
    constant_parts,
    module_source,
    prepare,
)
from symflav.codegen.printer import CodegenError, NumpyPrinter, finite_literal


class JaxPrinter(NumpyPrinter):
    """The strict printer with ``jnp.`` in place of ``np.``."""

    prefix = "jnp"


JAX_HELPERS = ('''
def _what(value):
    return "None" if value is None else f"a {type(value).__name__}"


def _number(function, name, value, complex_ok=False):
    """``value`` as a jax array of numbers; None, text, bools, other objects and (where the
    function is real) complex dtypes are a TypeError naming ``name``."""
    if value is None or isinstance(value, (str, bytes, bool)):
        raise TypeError(f"{function}(): {name} must be a number or an array of numbers, got {_what(value)}")
    try:
        array = jnp.asarray(value)
    except (TypeError, ValueError):
        raise TypeError(f"{function}(): {name} must be a number or an array of numbers, got {_what(value)}") from None
    if array.dtype == jnp.bool_ or not (jnp.issubdtype(array.dtype, jnp.number)):
        raise TypeError(f"{function}(): {name} must be a number or an array of numbers, got {_what(value)}")
    if jnp.iscomplexobj(array):
        if not complex_ok:
            raise TypeError(f"{function}(): {name} has a complex dtype but this function takes real values only "
                            "(the imaginary part is never dropped)")
        return array.astype(jnp.complex128)
    return array.astype(jnp.float64)


''' + PARAMETERS_HELPER + "\n" + '''

def _vector(function, name, value, n, complex_ok):
    value = _number(function, name, value, complex_ok)
    if value.ndim == 0 or value.shape[-1] != n:
        raise ValueError(f"{function}(): {name} must have shape (..., {n}), got {value.shape}")
    return [value[..., i] for i in range(n)]


def _shape(function, names, values):
    try:
        return jnp.broadcast_shapes(*(jnp.shape(v) for v in values))
    except ValueError:
        listed = ", ".join(dict.fromkeys(f"{n} {jnp.shape(v)}" for n, v in zip(names, values) if jnp.shape(v)))
        raise ValueError(f"{function}(): arguments do not broadcast: {listed}") from None


def _entries(shape, values, trailing):
    """The entries (row-major) as one float array of shape shape + trailing."""
    values = [jnp.broadcast_to(jnp.asarray(v, dtype=jnp.float64), shape) for v in values]
    if not trailing:
        return values[0]
    return jnp.stack(values, axis=-1).reshape(tuple(shape) + tuple(trailing))


def _horner(w, coefficients):
    acc = jnp.zeros_like(w) + coefficients[-1]
    for c in coefficients[-2::-1]:
        acc = acc * w + c
    return acc


def _end_series(w, valuation, step, table):
    z = w ** step
    acc = _horner(z, table[-1])
    if len(table) > 1:
        log_w = jnp.log(w)
        for row in table[-2::-1]:
            acc = acc * log_w + _horner(z, row)
    return acc * w ** valuation if valuation else acc
''').strip("\n")


def render_function_jax(fn: Function, functions: dict | None = None, reserved=frozenset()) -> Rendered:
    """``fn`` as a pure jax.numpy function (same signature as the numpy one, without ``out=``)."""
    block, names, inputs, is_complex = prepare(fn, functions, reserved)
    printer = JaxPrinter(names, functions)
    args = ", ".join(a.name for a in fn.arguments)
    lines = [f"def {fn.name}({args}{', /, ' if args else ''}**params):", _doc(fn)]
    called, values, labels = fn.called, [], []
    for a in fn.arguments:
        if a.vector:
            lines.append(f"    _{a.name} = _vector({called!r}, {a.name!r}, {a.name}, {a.components}, {a.complex})")
            if a.split:
                values += [f"jnp.real(_{a.name}[{i}])" for i in range(a.components)]
                values += [f"jnp.imag(_{a.name}[{i}])" for i in range(a.components)]
            else:
                values += [f"_{a.name}[{i}]" for i in range(a.components)]
        else:
            lines.append(f"    _{a.name} = _number({called!r}, {a.name!r}, {a.name}, {a.complex})")
            values.append(f"_{a.name}")
        labels += [a.name] * len(a.symbols)
    if fn.parameters:
        pnames = "".join(f"{a.name!r}, " for a in fn.parameters)
        squared = "".join(f"{a.name!r}, " for a in fn.parameters if a.squared)
        complex_names = "".join(f"{a.name!r}, " for a in fn.parameters if a.complex)
        extra = f", frozenset(({squared}))" if squared or complex_names else ""
        extra += f", frozenset(({complex_names}))" if complex_names else ""
        lines.append(f"    _p = _parameters({called!r}, params, ({pnames}){extra})")
        values += [f"_p[{i}]" for i in range(len(fn.parameters))]
        labels += [a.name + ("_sq" if a.squared else "") for a in fn.parameters]
    else:
        lines.append(f"    _parameters({called!r}, params, ())")
    local = [names[s] for s in inputs]
    if local:
        lines.append(f"    ({', '.join(local)},) = ({', '.join(values)},)")
    label_text = "(" + "".join(f"{n!r}, " for n in labels) + ")"
    lines.append(f"    _s = _shape({called!r}, {label_text}, ({''.join(v + ', ' for v in local)}))")
    for sym, rhs in block.assignments:
        lines.append(f"    {names[sym]} = {printer.doprint(rhs)}")
    k, results = 0, []
    for r in fn.results:
        entries = []
        for _ in r.exprs:
            text = printer.doprint(block.outputs[k])
            entries.append(f"jnp.real({text})" if is_complex else text)
            k += 1
        trailing = "(" + "".join(f"{n}, " for n in r.shape) + ")"
        results.append(f"_entries(_s, ({''.join(e + ', ' for e in entries)}), {trailing})")
    if len(results) == 1:
        lines.append(f"    return {results[0]}")
    else:
        lines.append("    return (\n" + "".join(f"        {r},\n" for r in results) + "    )")
    return Rendered(fn.name, "\n".join(lines) + "\n", block.operations)


def _doc(fn: Function) -> str:
    params = []
    for a in fn.arguments:
        kind = "array_like, " + ("complex" if a.complex else "float") + (f", shape (..., {a.components})" if a.vector else "")
        params.append((a.name, kind, a.description))
    for a in fn.parameters:
        params.append((a.name + (f" or {a.name}_sq" if a.squared else ""), "array_like, float, keyword", a.description))
    returns = [(r.name, "jax.Array, shape (..." + _trailing(r.shape) + ")", r.description) for r in fn.results]
    extended = ("Pure jax.numpy (jit-, grad- and vmap-compatible); every argument broadcasts over the leading "
                "axes '...'; parameters are keyword arguments (POINTS['name'] may be passed with **). A "
                "missing or unknown parameter, None, text or a complex dtype where a real value is needed is "
                "a TypeError naming it; a wrong shape is a ValueError. " + NAN_NOTE)
    return _numpydoc(fn.summary, params, returns, fn.notes, fn.examples, extended)


def render_loop_function_jax(lf: LoopFunction) -> Rendered:
    """The patched function: every piece evaluated at safe points, selected with jnp.where."""
    st = lf.stitched
    printer = JaxPrinter({st.x: "_x"})
    closed = printer.doprint(st.expr)
    safe = _safe_point(st)
    conditions, pieces, constants = [], [], []
    const = lf.name.upper()
    for i, p in enumerate(st.patches):
        lower = "0.0" if p.lower is None else repr(p.lower)
        upper = "math.inf" if p.upper is None else repr(p.upper)
        cond = f"(x > {lower}) & (x < {upper})" if p.lower is not None and p.upper is not None else \
            (f"x < {upper}" if p.lower is None else f"x > {lower}")
        cname = f"_{const}_PATCH{i}"
        inside = _inside_point(p)
        if p.expansion.kind in ("s", "t"):
            constants.append(f"{cname} = ({''.join(finite_literal(c, 'a series coefficient') + ', ' for c in p.coefficients[0])})")
            x0 = finite_literal(p.expansion.x0, "a patch point")
            w = f"jnp.log(_xi / {x0})" if p.expansion.kind == "s" else f"_xi - {x0}"
            value = f"_horner({w}, {cname})"
        else:
            rows = "".join("(" + "".join(finite_literal(c, "a series coefficient") + ", " for c in row) + "), "
                           for row in p.coefficients)
            constants.append(f"{cname} = ({rows})")
            w = "_xi" if p.expansion.kind == "zero" else "1.0 / _xi"
            value = f"_end_series({w}, {p.valuation}, {p.step}, {cname})"
        conditions.append(cond)
        pieces.append((cond, inside, value))
    notes = (lf.notes + "\n\n" if lf.notes else "") + (
        f"Closed form: {sp.sstr(st.expr)}, patched by series where it loses accuracy: "
        + "; ".join(p.describe() for p in st.patches) + ". Pure jax.numpy: each piece is evaluated at safe "
        "points and selected with jnp.where, so values and derivatives are finite for every x > 0."
    )
    doc = _numpydoc(lf.summary, [("x", "array_like, float", lf.argument_description)],
                    [(lf.name, "jax.Array", "The function at x, same shape as x.")], notes)
    lines = [f"def {lf.name}(x, /):", doc, f"    x = _number({lf.name!r}, 'x', x)"]
    if conditions:
        lines.append(f"    patched = {' | '.join(f'({c})' for c in conditions)}")
        lines.append(f"    _x = jnp.where(patched, {safe!r}, x)")
    else:
        lines.append("    _x = x")
    lines.append(f"    r = {closed}")
    for cond, inside, value in pieces:
        lines.append(f"    inside = {cond}")
        lines.append(f"    _xi = jnp.where(inside, x, {inside!r})")
        lines.append(f"    r = jnp.where(inside, {value}, r)")
    lines.append("    return r")
    return Rendered(lf.name, "\n".join(lines) + "\n", 0, tuple(constants))


def _inside_point(p) -> float:
    """A point inside a patch (where its series is evaluated harmlessly elsewhere)."""
    if p.lower is not None and p.upper is not None:
        return float(p.expansion.x0) if p.expansion.kind in ("s", "t") else math.sqrt(p.lower * p.upper)
    if p.lower is None:
        return p.upper / 2
    return p.lower * 2


def _safe_point(st) -> float:
    """A point where the closed form is used (outside every patch), with a finite value."""
    cuts = sorted({c for p in st.patches for c in (p.lower, p.upper) if c is not None})
    candidates = [math.sqrt(a * b) for a, b in zip(cuts, cuts[1:])] + [c * 1.5 for c in cuts] + [2.0, 0.5, 3.0]
    for x in candidates:
        inside = any((p.lower is None or x > p.lower) and (p.upper is None or x < p.upper) for p in st.patches)
        if inside:
            continue
        value = complex(sp.N(st.expr.subs(st.x, sp.Float(x, 30)), 20))
        if math.isfinite(value.real) and value.imag == 0:
            return float(x)
    raise CodegenError(f"no point outside the patches where {st.expr} is finite")


JAX_IMPORTS = 'import math\n\nimport jax\n\njax.config.update("jax_enable_x64", True)\n\nimport jax.numpy as jnp  # noqa: E402\n'


def render_jax_module(title: str, header: dict, description: str, constants, functions: list[Rendered]) -> str:
    """numeric_jax.py: the constants, the jax helpers and the functions."""
    parts = [JAX_IMPORTS, all_literal(constants, functions)]
    parts += constant_parts(constants, functions)
    parts.append(JAX_HELPERS + "\n")
    parts += [f.source for f in functions]
    return module_source(title, header, description, parts)
