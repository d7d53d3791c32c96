"""The exact pickle of derived results (symflav/core/serialize.py): every SymPy expression comes
back as it was built (``srepr`` unchanged: unevaluated forms, symbol assumptions, undefined
functions), for hand-made and random unevaluated expressions and for every stage of the toy
models and of the three derivations in derivations/ (those: slow)."""

from __future__ import annotations

import dataclasses
import os
import pickle

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

import toymodels
from conftest import EXAMPLES
from symflav import pipeline
from symflav.core import background, serialize, spec, symbols

x = sp.Symbol("x", real=True)
y = sp.Symbol("y", positive=True)
n = sp.Symbol("n", integer=True, nonnegative=True)


def round_trip(value):
    data, _, _ = serialize.dumps(value)
    return pickle.loads(data)


def srepr_walk(value) -> list[str]:
    """``srepr`` of every SymPy expression inside ``value`` (containers, dataclasses, matrices),
    in a fixed order: an independent statement of what :func:`serialize.difference` compares."""
    if isinstance(value, sp.MatrixBase):
        return [f"{value.shape}"] + [sp.srepr(e) for e in value]
    if isinstance(value, sp.Basic):
        return [sp.srepr(value)]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return [s for f in dataclasses.fields(value) for s in srepr_walk(getattr(value, f.name))]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in [repr(k), *srepr_walk(v)]]
    if isinstance(value, (list, tuple)):
        return [s for v in value for s in srepr_walk(v)]
    return []


BUILT = {
    "factored": sp.factor(2 * x + 18 * y),  # 2*(x + 9*y)
    "abs of a reciprocal": sp.Abs(1 / x, evaluate=False),
    "power": sp.Pow(x * y, 2, evaluate=False),
    "unsorted sum": sp.Add(y, x, 3, evaluate=False),
    "nested product": sp.Mul(2, sp.Mul(3, x, evaluate=False), evaluate=False),
    "unevaluated": sp.UnevaluatedExpr(x + x) * 2,
    "piecewise": sp.Piecewise((x ** 2, x > 0), (sp.Abs(x, evaluate=False), True), evaluate=False),
    "derivative": sp.Derivative(sp.Function("f", real=True)(x, y), (x, 2), evaluate=False),
    "integral": sp.Integral(sp.exp(-y * x ** 2), (x, 0, sp.oo)),
    "dummy": sp.Dummy("t", positive=True) + sp.sqrt(sp.Dummy("u")),
    "float": sp.Float("0.1", 30) * x,
    "relation": sp.Eq(x + x, 2 * x, evaluate=False),
    "sum over n": sp.Sum(y ** n / sp.factorial(n), (n, 0, sp.oo)),
    "min": sp.Min(x, y, 3),
}


@pytest.mark.parametrize("name", sorted(BUILT))
def test_an_expression_comes_back_as_built(name):
    built = BUILT[name]
    loaded = round_trip(built)
    assert sp.srepr(loaded) == sp.srepr(built)
    assert serialize.same(loaded, built)


def test_a_plain_pickle_evaluates_again_where_the_exact_one_does_not():
    """Why the exact pickle exists: a plain one gives 2*(x + 9*y) back as 2*x + 18*y."""
    built = BUILT["factored"]
    assert sp.srepr(pickle.loads(pickle.dumps(built))) != sp.srepr(built)
    assert sp.srepr(round_trip(built)) == sp.srepr(built)


def test_matrices_and_containers_keep_their_entries_as_built():
    value = {"m": sp.Matrix([[BUILT["factored"], 0], [BUILT["power"], 1]]),
             "i": sp.ImmutableMatrix([[BUILT["abs of a reciprocal"]]]),
             "t": (BUILT["unsorted sum"], [np.arange(3.0), "text"])}
    loaded = round_trip(value)
    assert serialize.same(loaded, value) and srepr_walk(loaded) == srepr_walk(value)
    assert isinstance(loaded["m"], sp.MutableDenseMatrix) and np.array_equal(loaded["t"][1][0], np.arange(3.0))


def test_the_symbols_and_functions_met_are_collected():
    _, found, functions = serialize.dumps({"d": BUILT["derivative"], "p": BUILT["power"]})
    assert found == {x, y} and functions == {"f"}


@pytest.mark.parametrize("a, b, where", [
    (sp.Symbol("x", real=True), sp.Symbol("x", positive=True), "value"),  # assumptions
    (BUILT["factored"], sp.expand(BUILT["factored"]), "value"),  # Mul against Add
    (sp.Add(x, y, evaluate=False), sp.Add(y, x, evaluate=False), "value.args[0]"),  # order of arguments
    ({"a": [1, x]}, {"a": [1, y]}, "value['a'][1]"),
    (sp.Matrix([[x, y]]), sp.Matrix([[x], [y]]), "value"),  # shape
    (np.zeros(2), np.ones(2), "value"),
    (sp.Function("g", real=True)(x), sp.Function("g")(x), "value"),  # a function's assumptions
])
def test_the_comparison_finds_where_two_structures_differ(a, b, where):
    found = serialize.difference(a, b)
    assert found is not None and found.split(":")[0] == where
    assert serialize.difference(a, a) is None


def test_a_value_that_would_not_come_back_exactly_is_refused(monkeypatch):
    monkeypatch.setattr(serialize, "_KEEPS_FORM", ())  # as a plain pickle: every class evaluates again
    monkeypatch.setattr(serialize, "_takes_evaluate", lambda cls: False)
    with pytest.raises(serialize.NotExact, match="Add != Mul"):
        serialize.dumps(BUILT["factored"], check=True)


# ------------------------------------------------------------------ random unevaluated expressions

ATOMS = st.sampled_from([x, y, n, sp.Integer(2), sp.Integer(-3), sp.Rational(1, 3), sp.Float("0.25", 20),
                         sp.pi, sp.I, sp.S.Half, sp.S.Zero, sp.Dummy("d", real=True)])


def _compound(children):
    pairs = st.tuples(children, children)
    several = st.lists(children, min_size=2, max_size=3)
    return st.one_of(
        several.map(lambda a: sp.Add(*a, evaluate=False)),
        several.map(lambda a: sp.Mul(*a, evaluate=False)),
        pairs.map(lambda p: sp.Pow(*p, evaluate=False)),
        children.map(lambda e: sp.Abs(e, evaluate=False)),
        children.map(lambda e: sp.exp(e, evaluate=False)),
        children.map(lambda e: sp.sqrt(e, evaluate=False)),
        children.map(sp.UnevaluatedExpr),
        pairs.map(lambda p: sp.Piecewise((p[0], x > 0), (p[1], True), evaluate=False)),
    )


@settings(max_examples=60, derandomize=True, deadline=None)
@given(st.recursive(ATOMS, _compound, max_leaves=8))
def test_random_unevaluated_expressions_come_back_as_built(built):
    loaded = round_trip(built)
    assert sp.srepr(loaded) == sp.srepr(built)
    assert sp.srepr(round_trip([built, sp.Matrix([[built]])])) == sp.srepr([built, sp.Matrix([[built]])])


# ------------------------------------------------------------------ stage results


def _every_stage_round_trips(derivation):
    for name, result in derivation.results.items():
        loaded = round_trip(result)
        assert serialize.difference(loaded, result) is None, name
        assert srepr_walk(loaded) == srepr_walk(result), name


@pytest.mark.parametrize("text", [toymodels.TWO_FIELDS, toymodels.CUBIC], ids=["two_fields", "cubic"])
def test_every_stage_of_a_toy_model_comes_back_as_built(tmp_path, text):
    folder = toymodels.write_model(tmp_path / "toy", text)
    _every_stage_round_trips(pipeline.run(spec.load(str(folder))))


@pytest.mark.slow
def test_every_stage_of_the_built_in_derivation_comes_back_as_built(derivation):
    _every_stage_round_trips(derivation)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["u1z3_three_leptons", "u1u1_sextic"])
def test_every_stage_of_the_example_derivations_comes_back_as_built(name):
    _every_stage_round_trips(pipeline.run(spec.load(str(EXAMPLES / name))))


def _factored_with_a_new_name():
    zeta = symbols.auxiliary("zeta_t", r"\zeta_{t}")
    return sp.factor(2 * zeta + 18 * y)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="forked work needs fork (else it runs in the caller)")
def test_forked_work_comes_back_as_built_with_the_latex_names_it_registered(monkeypatch):
    """A stage run in a forked process (core/background.py) gives its caller what running it
    there would: the expression as built, and the LaTeX names the child registered."""
    monkeypatch.setattr(symbols, "LATEX_NAMES", dict(symbols.LATEX_NAMES))  # the child's names land here
    zeta = sp.Symbol("zeta_t", real=True)
    assert zeta not in symbols.LATEX_NAMES
    value, seconds = background.start(_factored_with_a_new_name)()
    assert sp.srepr(value) == sp.srepr(sp.Mul(2, sp.Add(zeta, 9 * y), evaluate=False)) and seconds >= 0
    assert symbols.LATEX_NAMES[zeta] == r"\zeta_{t}"
