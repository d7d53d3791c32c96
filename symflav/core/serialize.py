"""An exact pickle of derived results: SymPy expressions come back exactly as they were built.

A plain :mod:`pickle` rebuilds a SymPy expression by calling its class on its arguments, which
evaluates it again: ``factor(2*a + 18*b)`` = ``2*(a + 9*b)`` comes back as ``2*a + 18*b``, and
an ``Abs(1/x)`` built unevaluated is simplified. Printed LaTeX and generated code then differ
from those of the expression as built. :class:`ExactPickler` stores every compound SymPy object
as its class and arguments and rebuilds it without evaluation (:func:`rebuild`):

* ``Add`` and ``Mul`` from their arguments as they are (``_from_args``: no flattening, sorting or
  collecting);
* any other class with ``evaluate=False`` when its constructor takes it, by name or as
  ``**options`` (``Pow``, ``Abs`` and the other functions, undefined functions, ``Piecewise``,
  ``Derivative``, relations, ``Tuple``, ...), else called on its arguments (``ExprCondPair``,
  ``UnevaluatedExpr``, immutable matrices: constructors that do not evaluate);
* atoms (symbols and dummies with their assumptions, numbers, singletons) and every object that is
  not a SymPy ``Basic`` (mutable matrices, numpy arrays, dataclasses, containers) as the plain
  pickle does; their SymPy contents go through the same rules.

The output is an ordinary pickle (:func:`pickle.loads` reads it). :func:`same` is the structural
comparison that states the contract: ``same(loads(dumps(x)), x)`` for every derived result, i.e.
``srepr`` of each expression inside is unchanged (:func:`dumps` with ``check=True`` verifies it).
While it dumps, the pickler collects the symbols and undefined-function names it meets
(:attr:`ExactPickler.symbols`, :attr:`ExactPickler.functions`), so that the caller can keep their
LaTeX names beside the value (:mod:`symflav.core.symbols`).
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import io
import pickle
from types import MappingProxyType
from typing import Any

import sympy as sp
from sympy.core.function import AppliedUndef
from sympy.matrices import MatrixBase
from sympy.polys.polytools import Poly

_KEEPS_FORM = (sp.Add, sp.Mul)  # rebuilt with _from_args: arguments kept in order, nothing collected


class NotExact(ValueError):
    """A value does not come back from :func:`dumps` as it went in (:func:`dumps` with ``check``)."""


@functools.lru_cache(maxsize=None)  # of classes, which do not change while symflav runs
def _takes_evaluate(cls: type) -> bool | None:
    """Whether the constructor of ``cls`` accepts ``evaluate=``: True if it names it, None if it
    may (it takes ``**options``: functions and relations read it there, ``Integral`` refuses
    it), False if not (matrices take other keywords and evaluate nothing)."""
    if issubclass(cls, MatrixBase):
        return False
    try:
        parameters = inspect.signature(cls.__new__).parameters
    except (TypeError, ValueError):
        return False
    if "evaluate" in parameters:
        return True
    return None if any(p.kind is p.VAR_KEYWORD for p in parameters.values()) else False


def rebuild(cls: type, args: tuple) -> sp.Basic:
    """``cls`` on ``args`` without evaluation (the unpickling side of :class:`ExactPickler`)."""
    if cls in _KEEPS_FORM:
        return cls._from_args(args)
    takes = _takes_evaluate(cls)
    if takes is not False:
        try:
            return cls(*args, evaluate=False)
        except TypeError:  # a constructor whose **options do not include evaluate
            if takes:
                raise
    return cls(*args)


class ExactPickler(pickle.Pickler):
    """A pickler that keeps SymPy objects as built (module docstring); collects the symbols
    (:attr:`symbols`) and the names of undefined functions (:attr:`functions`) of the value."""

    def __init__(self, file, protocol: int = pickle.HIGHEST_PROTOCOL):
        super().__init__(file, protocol=protocol)
        self.symbols: set[sp.Symbol] = set()
        self.functions: set[str] = set()

    def reducer_override(self, obj):
        if not isinstance(obj, sp.Basic):
            return NotImplemented
        if isinstance(obj, sp.Symbol):
            self.symbols.add(obj)
            return NotImplemented
        if not obj.args or isinstance(obj, Poly):  # atoms; a Poly keeps its domain in its own state
            return NotImplemented
        if isinstance(obj, AppliedUndef):
            self.functions.add(type(obj).__name__)
        return rebuild, (type(obj), obj.args)


def dumps(value: Any, check: bool = False) -> tuple[bytes, set[sp.Symbol], set[str]]:
    """``(pickle, symbols, function names)`` of ``value`` (:class:`ExactPickler`). With ``check``,
    the pickle is read back and compared (:func:`same`); :class:`NotExact` if it differs.
    Errors of pickling (an object that does not pickle) propagate."""
    buffer = io.BytesIO()
    pickler = ExactPickler(buffer)
    pickler.dump(value)
    data = buffer.getvalue()
    if check:
        where = difference(pickle.loads(data), value)
        if where is not None:
            raise NotExact(f"not kept exactly: {where}")
    return data, pickler.symbols, pickler.functions


def same(a: Any, b: Any) -> bool:
    """Whether ``a`` and ``b`` are the same structure (:func:`difference` finds none)."""
    return difference(a, b) is None


def difference(a: Any, b: Any, where: str = "value") -> str | None:
    """Where ``a`` and ``b`` first differ, or None: SymPy objects by class and arguments down to
    the atoms (what ``srepr`` shows, symbol assumptions included), matrices entry by entry,
    dataclasses field by field, mappings, sequences and numpy arrays item by item, anything else
    by ``==``."""
    seen: set[tuple[int, int]] = set()
    stack = [(a, b, where)]
    while stack:
        x, y, at = stack.pop()
        if x is y or (id(x), id(y)) in seen:
            continue
        seen.add((id(x), id(y)))
        if type(x) != type(y):  # classes of undefined functions are equal by name and assumptions
            return f"{at}: {type(x).__name__} != {type(y).__name__}"
        found = _children(x, y, at)
        if isinstance(found, str):
            return found
        stack.extend(reversed(found))  # the first child is compared first
    return None


def _children(x: Any, y: Any, at: str) -> list | str:
    """The pairs to compare below ``x`` and ``y`` (of one type), or where they differ."""
    if isinstance(x, sp.Basic) and not isinstance(x, MatrixBase):
        if not x.args or isinstance(x, Poly):
            same_atom = sp.srepr(x) == sp.srepr(y) and x._hashable_content() == y._hashable_content()
            return [] if same_atom else f"{at}: {sp.srepr(x)} != {sp.srepr(y)}"
        if len(x.args) != len(y.args):
            return f"{at}: {type(x).__name__} with {len(x.args)} != {len(y.args)} arguments"
        return [(p, q, f"{at}.args[{i}]") for i, (p, q) in enumerate(zip(x.args, y.args))]
    if isinstance(x, MatrixBase):
        if x.shape != y.shape:
            return f"{at}: shape {x.shape} != {y.shape}"
        return [(p, q, f"{at}[{i}]") for i, (p, q) in enumerate(zip(list(x), list(y)))]
    if dataclasses.is_dataclass(x) and not isinstance(x, type):
        return [(getattr(x, f.name), getattr(y, f.name), f"{at}.{f.name}") for f in dataclasses.fields(x)]
    if isinstance(x, (dict, MappingProxyType)):
        if list(x) != list(y):
            return f"{at}: keys {sorted(map(str, x))} != {sorted(map(str, y))}"
        return [(x[k], y[k], f"{at}[{k!r}]") for k in x]
    if isinstance(x, (list, tuple)):
        if len(x) != len(y):
            return f"{at}: length {len(x)} != {len(y)}"
        return [(p, q, f"{at}[{i}]") for i, (p, q) in enumerate(zip(x, y))]
    if type(x).__module__ == "numpy":
        return [] if _same_array(x, y) else f"{at}: arrays differ"
    if isinstance(x, (set, frozenset)):
        return [] if x == y else f"{at}: sets differ"
    if hasattr(x, "__dict__") and not callable(x):
        return [(x.__dict__, y.__dict__, f"{at}.__dict__")]
    try:
        equal = bool(x == y)
    except Exception:  # noqa: BLE001  (an object that cannot be compared counts as different)
        equal = False
    return [] if equal else f"{at}: {x!r} != {y!r}"


def _same_array(x, y) -> bool:
    shape = (getattr(x, "shape", None), getattr(x, "dtype", None))
    if shape != (getattr(y, "shape", None), getattr(y, "dtype", None)):
        return False
    if getattr(x, "dtype", None) is not None and x.dtype == object:
        return all(same(p, q) for p, q in zip(x.ravel().tolist(), y.ravel().tolist()))
    return bytes(memoryview(x.tobytes() if hasattr(x, "tobytes") else x)) == \
        bytes(memoryview(y.tobytes() if hasattr(y, "tobytes") else y))


__all__ = ["ExactPickler", "NotExact", "dumps", "rebuild", "same", "difference"]
