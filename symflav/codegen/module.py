"""Function specs -> the source of a module that imports only numpy.

A :class:`Function` says which symbols are read from which argument and which
expressions are returned in which shape; :func:`render_function` writes it as numpy
code that

* broadcasts every argument over leading axes (a vector argument has its components
  on the last axis; keyword parameters may be scalars or arrays);
* evaluates in chunks of ``CHUNK_SIZE`` points, so that the temporaries of the
  straight-line code (one CSE over all outputs) stay in cache;
* writes into caller-supplied ``out=`` buffers when given (no allocation);
* keeps scalar inputs as Python numbers inside a chunk (cheap arithmetic);
* checks every input before any work: a parameter that is missing, unknown, None, text or
  complex where the function is real raises a TypeError naming it, a wrong shape a
  ValueError naming it; NaN and inf propagate (IEEE arithmetic);
* keeps its own names out of the users' way: every local of its own starts with an
  underscore (model names cannot), positional arguments are positional-only, and a model
  name that is a Python keyword, a builtin or a module-level name of the generated module
  is read into a local ``_p_<name>`` (keyword arguments keep the model's names).

:class:`LoopFunction` is a one-variable function with series patches
(:mod:`symflav.codegen.series`). :func:`render_module` puts functions, constants and
the shared helpers into one module with a header naming the derivation and a hash of
the content (no timestamps).

``backend="numba"`` renders the same straight-line code as ``numba.njit`` loops over
points (optional; that module imports numba).
"""

from __future__ import annotations

import builtins
import hashlib
import textwrap
from dataclasses import dataclass, field

import sympy as sp

from symflav.codegen.cse import Block, straight_line
from symflav.codegen.printer import CodegenError, NumpyPrinter, finite_literal, is_identifier
from symflav.codegen.series import Stitched

CHUNK_SIZE = 8192
BACKENDS = ("numpy", "numba")

#: Names every generated function body may use besides its own underscore-prefixed locals:
#: a model name equal to one of them (or to a keyword, a builtin or a module-level name)
#: is read into a local ``_p_<name>``.
BODY_GLOBALS = frozenset({"np", "sys", "threading", "numba", "math", "CHUNK_SIZE", "RECYCLE_BYTES",
                          "SPARE_BLOCKS"})


@dataclass(frozen=True)
class Argument:
    """An input: one symbol per point, or (``vector``) one symbol per last-axis entry.

    * ``complex``: complex values are accepted (else a complex value is an error);
    * ``split``: a complex vector of n components read as its real parts then its imaginary
      parts (``symbols`` has 2n entries; the arithmetic is real);
    * ``internal``: the symbols are the generator's own (fields, their components), read into
      locals ``_<symbol>``; otherwise they are model names (vevs, parameters);
    * ``squared``: a keyword parameter m that the function reads as its square, from ``m`` or
      from ``m_sq`` (``symbols`` holds the symbol of the square).
    """

    name: str
    symbols: tuple[sp.Symbol, ...]
    description: str
    vector: bool = False
    complex: bool = False
    split: bool = False
    internal: bool = False
    squared: bool = False

    def __post_init__(self):
        if not self.name.isidentifier():
            raise CodegenError(f"argument name {self.name!r} is not a Python identifier")
        if not self.vector and len(self.symbols) != 1:
            raise CodegenError(f"scalar argument {self.name} must have one symbol")
        if self.split and (not self.vector or len(self.symbols) % 2):
            raise CodegenError(f"split argument {self.name} needs 2n symbols")

    @property
    def components(self) -> int:
        return len(self.symbols) // 2 if self.split else len(self.symbols)


@dataclass(frozen=True)
class Result:
    """An output: ``exprs`` in row-major order, ``shape`` the trailing shape."""

    name: str
    exprs: tuple[sp.Expr, ...]
    shape: tuple[int, ...]
    description: str

    def __post_init__(self):
        size = 1
        for n in self.shape:
            size *= n
        if size != len(self.exprs):
            raise CodegenError(f"result {self.name}: {len(self.exprs)} entries for shape {self.shape}")


@dataclass(frozen=True)
class Function:
    """A generated function: positional ``arguments``, keyword ``parameters``, ``results``."""

    name: str
    summary: str
    arguments: tuple[Argument, ...]
    parameters: tuple[Argument, ...]
    results: tuple[Result, ...]
    notes: str = ""
    substitutions: tuple[tuple[sp.Symbol, sp.Expr], ...] = ()  # e.g. phibar -> conjugate(phi)
    factor: bool = True
    examples: str = ""
    label: str = ""  # the name its error messages give (default: name)

    def __post_init__(self):
        if not is_identifier(self.name):
            raise CodegenError(f"function name {self.name!r} is not a Python identifier")
        for a in self.arguments:
            if not is_identifier(a.name):
                raise CodegenError(f"{self.name}: positional argument {a.name!r} is a Python keyword")

    @property
    def called(self) -> str:
        return self.label or self.name


@dataclass(frozen=True)
class LoopFunction:
    """A one-variable function of x > 0 with the patches of :func:`series.stitch`."""

    name: str
    summary: str
    stitched: Stitched
    notes: str = ""
    argument_description: str = "x = m/M > 0, dimensionless mass ratio"


@dataclass(frozen=True)
class Rendered:
    """Source of one generated function and its operation count."""

    name: str
    source: str
    operations: int
    constants: tuple[str, ...] = field(default=())


# ====================================================================== helpers in the module

PARAMETERS_HELPER = '''
def _parameters(function, given, names, squared=(), complex_names=()):
    """The values of ``names`` from the keyword arguments ``given``. A name in ``squared`` is
    read as its square: from ``name`` (squared here) or from ``name_sq`` (any sign), not both."""
    unknown = sorted(set(given) - _KEYWORDS)
    if unknown:
        raise TypeError(f"{function}() got unknown parameter(s) {', '.join(unknown)}; "
                        f"known: {', '.join(PARAMETERS)}")
    values, missing = [], []
    for name in names:
        if name in squared:
            square = name + "_sq"
            if name in given and square in given:
                raise ValueError(f"{function}(): give {name} or {square}, not both")
            if square in given:
                values.append(_number(function, square, given[square]))
            elif name in given:
                value = _number(function, name, given[name])
                values.append(value * value)
            else:
                missing.append(f"{name} (or {square})")
        elif name in given:
            values.append(_number(function, name, given[name], name in complex_names))
        else:
            missing.append(name)
    if missing:
        raise TypeError(f"{function}() missing parameter(s): {', '.join(missing)}")
    return values

'''.strip("\n")
"""Reads the keyword arguments of a generated function (numpy and jax modules share it)."""

HELPERS = ('''
def _what(value):
    return "None" if value is None else f"a {type(value).__name__}"


def _number(function, name, value, complex_ok=False):
    """``value`` as an array of numbers. None, text, bools and other objects are a TypeError
    naming ``name``, and so is a complex value with a nonzero imaginary part where the
    function is real (complex input is never truncated to its real part)."""
    array = value if isinstance(value, np.ndarray) else np.asarray(value)
    kind = array.dtype.kind
    if kind == "O":
        items = array.reshape(-1).tolist()
        if not any(v is None or isinstance(v, (str, bytes, bool, np.bool_)) for v in items):
            try:
                array = array.astype(complex)
                kind = "c"
            except (TypeError, ValueError):
                pass
    if kind not in "iufc":
        raise TypeError(f"{function}(): {name} must be a number or an array of numbers, got {_what(value)}")
    if kind == "c":
        if complex_ok:
            return array
        if np.any(array.imag):
            raise TypeError(f"{function}(): {name} is complex but this function takes real values only "
                            "(the imaginary part is never dropped)")
        return array.real
    return array


''' + PARAMETERS_HELPER + "\n" + '''

def _vector(function, name, value, n, dtype):
    """The components of a vector argument (last axis of length n)."""
    value = _number(function, name, value, dtype is complex)
    if value.ndim == 0 or value.shape[-1] != n:
        raise ValueError(f"{function}(): {name} must have shape (..., {n}), got {value.shape}")
    value = value.astype(dtype, copy=False)
    return [value[..., i] for i in range(n)]


def _broadcast(function, names, values, dtypes):
    """Common leading shape; arrays flattened to it, 0-d values as Python numbers."""
    arrays = [np.asarray(v, dtype=t) for v, t in zip(values, dtypes)]
    shapes = {a.shape for a in arrays}
    shapes.discard(())
    if len(shapes) <= 1:  # the common case: scalars and arrays of one shape
        shape = shapes.pop() if shapes else ()
        return shape, [a if a.ndim == 1 else a.item() if a.ndim == 0 else a.reshape(-1) for a in arrays]
    try:
        shape = np.broadcast_shapes(*(a.shape for a in arrays))
    except ValueError:
        listed = ", ".join(dict.fromkeys(f"{n} {a.shape}" for n, a in zip(names, arrays) if a.shape))
        raise ValueError(f"{function}(): arguments do not broadcast: {listed}") from None
    flat = [a.item() if a.ndim == 0 else np.broadcast_to(a, shape).reshape(-1) for a in arrays]
    return shape, flat


def _held(spare, i):
    """Reference count of ``spare[i]`` as seen from here (compared with ``_FREE`` only)."""
    block = spare[i]
    return sys.getrefcount(block)


#: What _held() reports for a block that only the spare list holds (measured, not assumed:
#: interpreters differ in the references they count).
_FREE = _held([np.empty(0)], 0)


def _block(count, dtype):
    """A 1-d array of ``count`` elements for new results, contents undefined.

    Blocks of ``RECYCLE_BYTES`` or more are kept (at most ``SPARE_BLOCKS``) and handed out
    again once no array made from them is alive anywhere: for such sizes the C allocator
    always maps fresh memory, which the kernel must clear (and a virtual machine's host may
    have to provide again) at every call. ``release_memory()`` drops the kept blocks.
    """
    dtype = np.dtype(dtype)
    if count * dtype.itemsize < RECYCLE_BYTES:
        return np.empty(count, dtype)
    with _SPARE_LOCK:
        for i in range(len(_SPARE)):
            if _SPARE[i].shape[0] == count and _SPARE[i].dtype == dtype and _held(_SPARE, i) == _FREE:
                block = _SPARE.pop(i)
                _SPARE.append(block)
                return block
        block = np.empty(count, dtype)
        _SPARE.append(block)
        del _SPARE[:max(len(_SPARE) - SPARE_BLOCKS, 0)]
        return block


def release_memory():
    """Free the memory of large results that this module keeps for reuse.

    Results of ``RECYCLE_BYTES`` (32 MiB) or more, e.g. the mass matrices of a scan of
    10^6 points, are carved from blocks that the module keeps after the caller has dropped
    the results (at most ``SPARE_BLOCKS`` of them), so that the next call of the same size
    reuses the memory instead of asking the operating system for it again. Arrays still
    in use are never reused. Call this after a large scan to return that memory.
    """
    with _SPARE_LOCK:
        del _SPARE[:]


def _outputs(function, out, shape, trailing, dtypes, point_major=False):
    """Result arrays and, for each, a 2-d view that the evaluation writes into:
    (entries, points), or (points, entries) with ``point_major``.

    New results are allocated so that the view is contiguous (entry-major: every entry is
    written contiguously by the vectorized code; point-major for compiled loops); the
    returned arrays have shape (..., *trailing) either way. Results of one dtype are carved
    from one block of memory (``_block``): the allocator then reuses it from call to call
    instead of handing it back to the operating system (separate blocks of a few MB each
    are trimmed away and faulted in again). A caller's ``out`` may have any layout whose
    entries can be addressed without a copy.
    """
    size = _count(shape)
    if out is None:  # new arrays: the views are contiguous by construction
        counts = [_count(t) for t in trailing]
        block = _block(sum(counts) * size, dtypes[0]) if len(set(dtypes)) == 1 else None
        results, targets, start = [], [], 0
        for t, d, entries in zip(trailing, dtypes, counts):
            if block is None:
                memory = _block(entries * size, d)
            else:
                memory = block[start:start + entries * size]
                start += entries * size
            if point_major:
                result = memory.reshape(shape + t)
                targets.append(memory.reshape(size, entries))
            else:
                buffer = memory.reshape(entries, size)
                k = len(t)
                axes = tuple(range(k, k + len(shape))) + tuple(range(k))
                result = buffer.reshape(t + shape).transpose(axes)
                targets.append(buffer)
            results.append(result)
        return results, targets
    results = out if isinstance(out, tuple) else (out,)
    if len(results) != len(trailing):
        raise ValueError(f"{function}(): out must be {len(trailing)} array(s)")
    for o, t, d in zip(results, trailing, dtypes):
        if not isinstance(o, np.ndarray) or o.shape != shape + t or o.dtype != np.dtype(d):
            raise ValueError(f"{function}(): out must have shape {shape + t} and dtype {np.dtype(d).name}")
        if not o.flags.writeable:
            raise ValueError(f"{function}(): out must be writeable")
    targets = []
    for o, t in zip(results, trailing):
        entries = _count(t)
        if point_major:
            view = o.reshape(size, entries)
        else:
            view = np.moveaxis(o, tuple(range(-len(t), 0)), tuple(range(len(t)))).reshape(entries, size)
        if size and not np.may_share_memory(view, o):
            raise ValueError(f"{function}(): out has a layout that cannot be written in place")
        targets.append(view)
    return results, targets


def _count(dimensions):
    """The number of elements of an array of shape ``dimensions`` (a Python int)."""
    n = 1
    for d in dimensions:
        n *= d
    return n


def _chunk(flat, start, stop):
    """The inputs at points start:stop. A strided input (such as one column of an (N, 4)
    vev array) is copied to contiguous memory once per chunk: every operation that reads
    it is then a contiguous, vectorized loop (about 10% faster for the mass matrices)."""
    chunk = []
    for a in flat:
        if isinstance(a, np.ndarray):
            a = a[start:stop]
            if not a.flags.c_contiguous:
                a = a.copy()
        chunk.append(a)
    return chunk


def _finish(results, out, single):
    """Return the caller's out, or the results (0-d arrays as numpy scalars)."""
    if out is not None:
        return out
    results = tuple(r[()] if r.ndim == 0 else r for r in results)
    return results[0] if single else results


def _horner(w, coefficients):
    """sum_k coefficients[k] w**k by Horner's rule."""
    if len(coefficients) == 1:
        return np.full_like(w, coefficients[0])
    acc = w * coefficients[-1]
    acc += coefficients[-2]
    for c in coefficients[-3::-1]:
        acc *= w
        acc += c
    return acc


def _taylor_patch(x, r, lower, upper, x0, variable, coefficients, log_x=None):
    """Overwrite r where lower < x < upper by the series in t = x - x0 or s = log(x/x0)
    (s taken from ``log_x``, log(x) already computed for the closed form, when x0 = 1)."""
    inside = np.flatnonzero((x > lower) & (x < upper))  # indices once, for the gather and the scatter
    if inside.size:
        if variable == "s":
            w = log_x[inside] if log_x is not None else np.log(x[inside] / x0)
        else:
            w = x[inside] - x0
        r[inside] = _horner(w, coefficients)


def _end_patch(x, r, lower, upper, at_zero, valuation, step, table):
    """Overwrite r beyond the cut by w**valuation * sum_j log(w)**j * sum_n c_jn w**(step n),
    with w = x (at_zero) or w = 1/x."""
    inside = np.flatnonzero((x < upper) if at_zero else (x > lower))
    if inside.size:
        w = x[inside] if at_zero else 1.0 / x[inside]
        z = w
        for _ in range(step - 1):
            z = z * w
        acc = _horner(z, table[-1])
        if len(table) > 1:
            log_w = np.log(w)
            for row in table[-2::-1]:
                acc *= log_w
                acc += _horner(z, row)
        if valuation:
            acc *= w**valuation
        r[inside] = acc


def _unary(function, x, out):
    """x as a float array, the result array, and flat views of both."""
    x = _number(function, "x", x).astype(float, copy=False)
    if out is None:
        result = np.empty(x.shape)
    else:
        (result,), _ = _outputs(function, out, x.shape, [()], [float])
        if not result.flags.c_contiguous:
            raise ValueError(f"{function}(): out must be C-contiguous")
    return x, result, np.ascontiguousarray(x).reshape(-1), result.reshape(-1)
''').strip("\n")


# ====================================================================== functions


def local_names(fn: Function, reserved=frozenset()) -> dict:
    """Python local of every input symbol of ``fn``: ``_<name>`` for the generator's own
    symbols (fields and their components), the model's name for a model name unless that
    is a keyword, a builtin, or in ``reserved`` (names the module defines) or
    :data:`BODY_GLOBALS`: then ``_p_<name>``. Model names never start with an underscore,
    so no local of the generated code can take a model name's place."""
    names = {}
    for a in fn.arguments + fn.parameters:
        for s in a.symbols:
            text = str(s)
            if a.internal:
                names[s] = "_" + text
            elif (not is_identifier(text) or text in _BUILTINS or text in BODY_GLOBALS or text in reserved
                  or text.startswith("_")):
                names[s] = "_p_" + text
            else:
                names[s] = text
    for s, text in names.items():
        if not text.isidentifier():
            raise CodegenError(f"{fn.name}: {s} has no Python name")
    return names


_BUILTINS = frozenset(dir(builtins))


def _numpydoc(summary, parameters, returns, notes="", examples="", extended="") -> str:
    lines = [summary, ""]
    if extended:
        lines += [textwrap.fill(extended, 88), ""]
    lines += ["Parameters", "----------"]
    for name, kind, text in parameters:
        lines.append(f"{name} : {kind}")
        lines += ["    " + line for line in textwrap.wrap(text, 84)]
    lines += ["", "Returns", "-------"]
    for name, kind, text in returns:
        lines.append(f"{name} : {kind}")
        lines += ["    " + line for line in textwrap.wrap(text, 84)]
    if notes:
        lines += ["", "Notes", "-----"]
        for paragraph in notes.strip().split("\n\n"):
            lines += textwrap.wrap(paragraph.replace("\n", " "), 88) + [""]
        lines.pop()
    if examples:
        lines += ["", "Examples", "--------", examples.strip()]
    body = "\n".join(lines).replace("\\", "\\\\").replace('"""', r"\"\"\"")
    return textwrap.indent('"""' + body + '\n"""', "    ")


def _trailing(shape) -> str:
    return "".join(f", {n}" for n in shape)


def render_function(fn: Function, functions: dict | None = None, backend: str = "numpy",
                    reserved=frozenset()) -> Rendered:
    """Source of ``fn`` (see the module docstring); ``reserved``: module-level names of the
    generated module that its body must not shadow."""
    if backend not in BACKENDS:
        raise CodegenError(f"unknown backend {backend!r}; known: {', '.join(BACKENDS)}")
    block, names, inputs, is_complex = prepare(fn, functions, reserved)
    printer = NumpyPrinter(names, functions)
    if backend == "numba":
        source = _render_numba(fn, block, printer, names, inputs, is_complex)
    else:
        source = _render_numpy(fn, block, printer, names, inputs, is_complex)
    return Rendered(fn.name, source, block.operations)


def prepare(fn: Function, functions=None, reserved=frozenset()):
    """The straight-line block of ``fn``, its locals, its input symbols in order, and
    whether it computes in complex arithmetic (shared by every backend)."""
    inputs = [s for a in fn.arguments + fn.parameters for s in a.symbols]
    if len(set(inputs)) != len(inputs):
        raise CodegenError(f"{fn.name}: a symbol is read from two arguments")
    subs = dict(fn.substitutions)
    exprs = [sp.sympify(e).xreplace(subs) if subs else sp.sympify(e) for r in fn.results for e in r.exprs]
    allowed = set(inputs)
    for e in exprs:
        extra = e.free_symbols - allowed
        if extra:
            raise CodegenError(f"{fn.name}: {sorted(map(str, extra))} are not inputs of the function")
    block = straight_line(exprs, prefix="_t", factor=fn.factor)
    names = local_names(fn, reserved | set((functions or {}).values()))
    for sym, _ in block.assignments:
        names[sym] = str(sym)
    if len(set(names.values())) != len(names):
        raise CodegenError(f"{fn.name}: two inputs print to the same Python name")
    is_complex = any(a.complex and not a.split for a in fn.arguments + fn.parameters)
    return block, names, inputs, is_complex


NAN_NOTE = ("NaN and inf in the inputs propagate to the results as IEEE arithmetic gives them "
            "(numpy may warn); they are not errors.")


def _signature_and_doc(fn: Function) -> tuple[str, str]:
    args = ", ".join(a.name for a in fn.arguments)
    signature = f"def {fn.name}({args}{', /, ' if args else ''}*, out=None, **params):"
    params = []
    for a in fn.arguments:
        kind = ("array_like, " + ("complex" if a.complex else "float")
                + (f", shape (..., {a.components})" if a.vector else ""))
        params.append((a.name, kind, a.description))
    for a in fn.parameters:
        params.append((a.name + (f" or {a.name}_sq" if a.squared else ""),
                       "array_like, " + ("complex" if a.complex else "float") + ", keyword", a.description))
    params.append((
        "out", "ndarray or tuple of ndarray, optional",
        "C-contiguous float arrays of the result shapes to write into (returned as given).",
    ))
    returns = []
    for r in fn.results:
        kind = "ndarray, shape (..." + _trailing(r.shape) + ")"
        returns.append((r.name, kind, r.description))
    extended = (
        "Every argument broadcasts over the leading axes '...'; parameters are keyword "
        "arguments (a dict of named values such as POINTS['name'] may be passed with **; "
        "entries this function does not use are ignored). A missing or unknown parameter, "
        "None or text is a TypeError naming it, and so is a complex value where a real one "
        "is needed; a wrong shape is a ValueError. " + NAN_NOTE
    )
    doc = _numpydoc(fn.summary, params, returns, fn.notes, fn.examples, extended)
    return signature, doc


def _inline_output_temporaries(block: Block) -> Block:
    """Drop assignments used only as whole outputs (they are computed into ``out``)."""
    inner_uses: dict = {}
    for _, rhs in block.assignments:
        for s in rhs.free_symbols:
            inner_uses[s] = inner_uses.get(s, 0) + 1
    for e in block.outputs:
        if not e.is_Symbol:
            for s in e.free_symbols:
                inner_uses[s] = inner_uses.get(s, 0) + 1
    whole = {e for e in block.outputs if e.is_Symbol}
    inline = {s: rhs for s, rhs in block.assignments if s in whole and s not in inner_uses}
    if not inline:
        return block
    return Block(
        tuple((s, rhs) for s, rhs in block.assignments if s not in inline),
        tuple(inline.get(e, e) for e in block.outputs),
    )


def _argument_prologue(fn: Function, complex_parameters: bool) -> tuple[list[str], list[str], list[str]]:
    """Lines that check a function's arguments and keyword parameters, the flat input names
    they give (one per symbol) and each input's dtype. The numba kernels take real parameters
    (``complex_parameters=False``)."""
    lines, flat_names, dtypes, labels = [], [], [], []
    called = fn.called
    for a in fn.arguments:
        dtype = "complex" if a.complex else "float"
        if a.vector:
            lines.append(f"    _{a.name} = _vector({called!r}, {a.name!r}, {a.name}, {a.components}, {dtype})")
            if a.split:
                flat_names += [f"_{a.name}[{i}].real" for i in range(a.components)]
                flat_names += [f"_{a.name}[{i}].imag" for i in range(a.components)]
            else:
                flat_names += [f"_{a.name}[{i}]" for i in range(a.components)]
        else:
            lines.append(f"    _{a.name} = _number({called!r}, {a.name!r}, {a.name}, {a.complex})")
            flat_names.append(f"_{a.name}")
        dtypes += ["float" if a.split else dtype] * len(a.symbols)
        labels += [a.name] * len(a.symbols)
    if fn.parameters:
        pnames = "".join(f"{a.name!r}, " for a in fn.parameters)
        extra = ""
        squared = "".join(f"{a.name!r}, " for a in fn.parameters if a.squared)
        complex_names = "".join(f"{a.name!r}, " for a in fn.parameters if a.complex and complex_parameters)
        if squared or complex_names:
            extra += f", frozenset(({squared}))"
        if complex_names:
            extra += f", frozenset(({complex_names}))"
        lines.append(f"    _p = _parameters({called!r}, params, ({pnames}){extra})")
        flat_names += [f"_p[{i}]" for i in range(len(fn.parameters))]
        dtypes += ["complex" if a.complex and complex_parameters else "float" for a in fn.parameters]
        labels += [a.name + ("_sq" if a.squared else "") for a in fn.parameters]
    else:
        lines.append(f"    _parameters({called!r}, params, ())")
    label_text = "(" + "".join(f"{n!r}, " for n in labels) + ")"
    lines.append(f"    _shape, _flat = _broadcast({called!r}, {label_text}, [{', '.join(flat_names)}], "
                 f"[{', '.join(dtypes)}])")
    return lines, flat_names, dtypes


def _render_numpy(fn, block: Block, printer, names, inputs, is_complex) -> str:
    block = _inline_output_temporaries(block)
    signature, doc = _signature_and_doc(fn)
    prologue, _, _ = _argument_prologue(fn, complex_parameters=True)
    lines = [signature, doc, *prologue]
    trailing = ", ".join("(" + "".join(f"{n}, " for n in r.shape) + ")" for r in fn.results)
    result_vars = [f"_r{i}" for i in range(len(fn.results))]
    lines.append(
        f"    _results, ({', '.join(result_vars)},) = _outputs({fn.called!r}, out, _shape, [{trailing}], "
        f"[{', '.join('float' for _ in fn.results)}])"
    )
    lines.append("    _size = _r0.shape[1]")
    # targets of every output entry
    targets = []
    for var, r in zip(result_vars, fn.results):
        for k in range(len(r.exprs)):
            targets.append((var, k if r.shape else None))
    constants, outputs = [], []
    first_seen: dict = {}
    for (var, k), expr in zip(targets, block.outputs):
        tgt_full = f"{var}[{k or 0}]"
        tgt = f"{var}[{k or 0}, _start:_stop]"
        if expr.is_Number:
            constants.append(f"    {tgt_full} = {printer.doprint(sp.re(expr))}")
            continue
        if expr in first_seen:
            outputs.append((expr, f"        {tgt} = {first_seen[expr]}"))
            continue
        first_seen[expr] = tgt
        outputs.append((expr, _assign(tgt, expr, printer, is_complex)))
    lines += constants
    input_names = ", ".join(names[s] for s in inputs)
    body = _schedule(block.assignments, outputs, printer, names)
    if inputs or body:  # constant results (no input, e.g. a lepton without closures) need no loop
        lines.append("    for _start in range(0, _size, CHUNK_SIZE):")
        lines.append("        _stop = min(_start + CHUNK_SIZE, _size)")
        if inputs:
            lines.append(f"        ({input_names},) = _chunk(_flat, _start, _stop)")
        lines += body or ["        pass"]
    lines.append(f"    return _finish(_results, out, {len(fn.results) == 1})")
    return "\n".join(lines) + "\n"


def _interleaved(assignments, outputs, printer, names) -> list[tuple]:
    """(expression, line) of the temporaries in order, each output (expression, line) placed
    right after the last temporary it needs (outputs that need none come first)."""
    temps = {sym for sym, _ in assignments}
    position = {sym: i for i, (sym, _) in enumerate(assignments)}
    ready_after: dict[int, list] = {}
    for expr, line in outputs:
        deps = [position[s] for s in expr.free_symbols if s in temps]
        ready_after.setdefault(max(deps, default=-1), []).append((expr, line))
    statements = list(ready_after.get(-1, []))
    for i, (sym, rhs) in enumerate(assignments):
        statements.append((rhs, f"        {names[sym]} = {printer.doprint(rhs)}"))
        statements += ready_after.get(i, [])
    return statements


def _schedule(assignments, outputs, printer, names) -> list[str]:
    """Statements in an order that keeps few temporaries alive (cache locality).

    Each output is written as soon as the last temporary it needs exists; a temporary
    is deleted after its last use, so that its memory is reused while still in cache.
    """
    temps = {sym for sym, _ in assignments}
    statements = [(line, _uses(expr, temps)) for expr, line in _interleaved(assignments, outputs, printer, names)]
    last_use: dict = {}
    for i, (_, used) in enumerate(statements):
        for sym in used:
            last_use[sym] = i
    lines = []
    for i, (line, _) in enumerate(statements):
        lines.append(line)
        dead = sorted((names[s] for s, j in last_use.items() if j == i), key=_natural)
        if dead:
            lines.append(f"        del {', '.join(dead)}")
    return lines


def _uses(expr, temps) -> set:
    return {s for s in expr.free_symbols if s in temps}


def _natural(name: str):
    head = name.rstrip("0123456789")
    tail = name[len(head):]
    return (head, int(tail) if tail else -1)


def _assign(target: str, expr, printer, is_complex: bool) -> str:
    """``target = expr``, with the last operation writing into the target directly."""
    if is_complex:
        return f"        {target} = ({printer.doprint(expr)}).real"
    if expr.is_Add and len(expr.args) >= 2:
        terms = list(expr.args)
        negative = [t for t in terms if t.as_coeff_Mul()[0].is_negative]
        last = negative[-1] if negative else terms[-1]  # a subtraction saves a negation
        terms.remove(last)
        head = printer.doprint(sp.Add(*terms, evaluate=False) if len(terms) > 1 else terms[0])
        if negative:
            return f"        np.subtract({head}, {printer.doprint(-last)}, out={target})"
        return f"        np.add({head}, {printer.doprint(last)}, out={target})"
    if expr.is_Mul and len(expr.args) >= 2:
        *rest, last = expr.args
        if not (last.is_Pow and last.exp.is_negative) and not any(
            r.is_Pow and r.exp.is_negative for r in rest
        ):
            head = printer.doprint(sp.Mul(*rest, evaluate=False) if len(rest) > 1 else rest[0])
            return f"        np.multiply({head}, {printer.doprint(last)}, out={target})"
    return f"        {target} = {printer.doprint(expr)}"


def _kernel_body(assignments, stores, arrays, printer, names) -> list[str]:
    """The statements of one point of a numba kernel, each input read just before its first
    use and each output stored as soon as the temporaries it needs exist. Short live ranges
    keep the values in registers (all loads first and all stores last spill them; about 10%
    slower)."""
    order = {s: k for k, s in enumerate(arrays)}
    lines, loaded = [], set()
    for expr, line in _interleaved(assignments, stores, printer, names):
        for s in sorted((expr.free_symbols & order.keys()) - loaded, key=order.get):
            lines.append(f"        {names[s]} = {arrays[s]}[_i]")
            loaded.add(s)
        lines.append(line)
    return lines


def _render_numba(fn, block: Block, printer, names, inputs, is_complex) -> str:
    """``fn`` as a numba kernel over points plus a numpy wrapper for the arguments."""
    signature, doc = _signature_and_doc(fn)
    kernel = f"_{fn.name}_kernel"
    arrays = [f"_a{i}" for i in range(len(inputs))]
    outs = [f"_o{i}" for i in range(len(fn.results))]
    k_lines = ["@numba.njit(cache=False, nogil=True)", f"def {kernel}({', '.join(arrays + outs)}):"]
    k_lines.append(f"    for _i in range({outs[0]}.shape[0]):")
    stores = []
    k = 0
    for o, r in zip(outs, fn.results):
        for j in range(len(r.exprs)):
            text = printer.doprint(block.outputs[k])
            if is_complex:
                text = f"({text}).real"
            stores.append((block.outputs[k], f"        {o}[_i, {j}] = {text}"))
            k += 1
    k_lines += _kernel_body(block.assignments, stores, dict(zip(inputs, arrays)), printer, names)
    prologue, _, _ = _argument_prologue(fn, complex_parameters=False)
    lines = [signature, doc, *prologue]
    trailing = ", ".join("(" + "".join(f"{n}, " for n in r.shape) + ")" for r in fn.results)
    lines.append(
        f"    _results, _targets = _outputs({fn.called!r}, out, _shape, [{trailing}], "
        f"[{', '.join('float' for _ in fn.results)}], point_major=True)"
    )
    lines.append("    _size = _targets[0].shape[0]")
    lines.append("    _arrays = [a if isinstance(a, np.ndarray) else np.broadcast_to(np.asarray(a), (_size,)) "
                 "for a in _flat]")
    lines.append(f"    {kernel}(*_arrays, *_targets)")
    lines.append(f"    return _finish(_results, out, {len(fn.results) == 1})")
    return "\n".join(k_lines) + "\n\n\n" + "\n".join(lines) + "\n"


# ====================================================================== loop functions


def render_loop_function(lf: LoopFunction, functions: dict | None = None) -> Rendered:
    """Source of a patched one-variable function (closed form + series patches)."""
    st = lf.stitched
    expr, names = st.expr, {st.x: "x"}
    log_x = sp.Symbol("log_x", real=True)
    in_log_x = [p.expansion.kind == "s" and p.expansion.x0 == 1 for p in st.patches]  # series in s = log(x)
    shares_log = st.expr.has(sp.log(st.x)) and any(in_log_x)
    if shares_log:  # log(x) once per chunk, for the closed form and the series in s = log(x)
        expr, names[log_x] = st.expr.xreplace({sp.log(st.x): log_x}), "log_x"
    block = straight_line([expr], prefix="_t", factor=False)
    for sym, _ in block.assignments:
        names[sym] = str(sym)
    printer = NumpyPrinter(names, functions)
    const = lf.name.upper()
    constants = []
    patch_lines = []
    for i, p in enumerate(st.patches):
        cname = f"_{const}_PATCH{i}"
        if p.expansion.kind in ("s", "t"):
            constants.append(f"{cname} = {_float_tuple(p.coefficients[0])}")
            patch_lines.append(
                f"            _taylor_patch(x, r, {p.lower!r}, {p.upper!r}, {float(p.expansion.x0)!r}, "
                f"{p.expansion.kind!r}, {cname}"
                + (", log_x)" if shares_log and in_log_x[i] else ")")
            )
        else:
            rows = ",\n    ".join(_float_tuple(row) for row in p.coefficients)
            constants.append(f"{cname} = (\n    {rows},\n)")
            patch_lines.append(
                f"            _end_patch(x, r, {p.lower!r}, {p.upper!r}, {p.expansion.kind == 'zero'}, "
                f"{p.valuation}, {p.step}, {cname})"
            )
    notes = (lf.notes + "\n\n" if lf.notes else "") + (
        f"Closed form: {sp.sstr(st.expr)}.\n\n"
        f"Accuracy: relative error below {st.tolerance:g} for every x > 0 (closed form where its "
        "modelled rounding error is small; series generated from the closed form elsewhere): "
        + "; ".join(p.describe() for p in st.patches) + "."
    )
    doc = _numpydoc(
        lf.summary,
        [("x", "array_like, float", lf.argument_description),
         ("out", "ndarray, optional", "C-contiguous float array of x's shape to write into (returned as given).")],
        [(lf.name, "ndarray or float", "The function at x, same shape as x.")],
        notes,
    )
    lines = [f"def {lf.name}(x, /, *, out=None):", doc]
    lines.append(f"    x_in, result, flat_x, flat_r = _unary({lf.name!r}, x, out)")
    lines.append('    with np.errstate(all="ignore"):  # patched points are overwritten below')
    lines.append("        for start in range(0, flat_x.shape[0], CHUNK_SIZE):")
    lines.append("            x = flat_x[start:start + CHUNK_SIZE]")
    lines.append("            r = flat_r[start:start + CHUNK_SIZE]")
    if shares_log:
        lines.append("            log_x = np.log(x)")
    for sym, rhs in block.assignments:
        lines.append(f"            {names[sym]} = {printer.doprint(rhs)}")
    lines.append(_assign("r[:]", block.outputs[0], printer, False).replace("        ", "            ", 1))
    lines += patch_lines
    lines.append("    return _finish((result,), out, True)")
    return Rendered(lf.name, "\n".join(lines) + "\n", block.operations, tuple(constants))


def _float_tuple(values) -> str:
    return "(" + ", ".join(finite_literal(v, "a series coefficient") for v in values) + ("," if len(values) == 1 else "") + ")"


# ====================================================================== the module


def render_module(
    title: str,
    header: dict,
    description: str,
    constants: list[tuple[str, str, str]],
    functions: list[Rendered],
    backend: str = "numpy",
    helpers: tuple[str, ...] = (),
    exported: tuple[str, ...] = (),
) -> str:
    """The whole module. ``constants`` are (name, Python literal, comment); ``header`` are
    provenance fields (no timestamps); ``helpers``: more module-level code after the shared
    helpers, defining the names ``exported`` (added to ``__all__``). A ``content_sha256`` of
    everything below the header is added, so that an edit of the body is detectable."""
    parts = ["import collections\nimport sys\nimport threading\n\nimport numpy as np\n"
             + ("import numba\n" if backend == "numba" else "")]
    parts.append(all_literal(constants, functions, tuple(exported) + ("release_memory",)))
    parts.append(f"#: Points per chunk of the vectorized evaluation (cache locality).\nCHUNK_SIZE = {CHUNK_SIZE}\n")
    parts.append(
        "#: New results of at least this many bytes reuse the memory of dropped earlier results\n"
        "#: (see release_memory()).\nRECYCLE_BYTES = 32 * 2**20\n\n"
        "#: How many such blocks are kept for reuse (the most recently used).\nSPARE_BLOCKS = 4\n\n"
        "_SPARE = []\n_SPARE_LOCK = threading.Lock()\n"
    )
    parts += constant_parts(constants, functions)
    parts.append(HELPERS + "\n")
    parts += [h + "\n" for h in helpers]
    parts += [f.source for f in functions]
    return module_source(title, header, description, parts)


def all_literal(constants, functions, exported=()) -> str:
    """``__all__``: the constants, the public functions, then ``exported``."""
    names = [name for name, _, _ in constants] + [f.name for f in functions if not f.name.startswith("_")]
    return "__all__ = [\n" + "".join(f"    {name!r},\n" for name in names + list(exported)) + "]\n"


def constant_parts(constants, functions) -> list[str]:
    """The constants with their comments, the keyword set, the series coefficients."""
    parts = [f"#: {comment}\n{name} = {literal}\n" for name, literal, comment in constants]
    squares = " | frozenset(SQUARES.values())" if any(name == "SQUARES" for name, _, _ in constants) else ""
    parts.append(f"#: Every keyword a function of this module accepts.\n_KEYWORDS = frozenset(PARAMETERS){squares}\n")
    helper_constants = [c for f in functions for c in f.constants]
    if helper_constants:
        parts.append("# series coefficients of the loop functions\n" + "\n".join(helper_constants) + "\n")
    return parts


def module_source(title: str, header: dict, description: str, parts: list[str]) -> str:
    """The module docstring (title, description, provenance, content hash) and the body."""
    body = "\n\n\n".join(p.strip("\n") for p in parts) + "\n"
    digest = hashlib.sha256(body.encode("utf-8")).hexdigest()
    head_lines = [title, ""]
    head_lines += textwrap.wrap(description, 88) if description else []
    head_lines += [""] + [f"{k}: {v}" for k, v in header.items()] + [f"content_sha256: {digest}"]
    head = '"""' + "\n".join(head_lines).replace('"""', "'''") + '\n"""\n'
    return head + "\n" + body


def content_hash_ok(source: str) -> bool:
    """True if the module's ``content_sha256`` matches its body (no hand edits)."""
    head, sep, body = source.partition('\n"""\n\n')
    for line in head.splitlines():
        if line.startswith("content_sha256: "):
            return line.split(": ", 1)[1] == hashlib.sha256(body.encode("utf-8")).hexdigest()
    return False
