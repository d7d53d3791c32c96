"""The compare engine on synthetic printed/derived pairs.

Each case is checked against an independent evaluation (mpmath at the witness point,
or a hand-computed series coefficient), not against the engine itself.
"""

from __future__ import annotations

import mpmath
import pytest
import sympy as sp

from symflav.verify import compare
from symflav.verify.compare import Expansion

x = sp.Symbol("x", positive=True)
a, b = sp.symbols("a b", real=True)
eps, v1, va = sp.symbols("epsilon v_1 v_a", positive=True)
EXPANSION = Expansion(eps, ((v1, eps * va),))


def _at(expr, point: dict) -> mpmath.mpf:
    values = {sp.Symbol(k, positive=True) if k in ("x", "epsilon", "v_1", "v_a") else sp.Symbol(k, real=True):
              sp.Rational(v) for k, v in point.items()}
    return mpmath.mpf(str(sp.N(expr.xreplace(values), 30)))


def test_exact_agreement_of_rearranged_expressions():
    printed = (a + b) ** 2 / (2 * (1 - x)) + a
    derived = (a**2 + 2 * a * b + b**2) / (2 - 2 * x) + a
    outcome = compare.compare(printed, derived)
    assert outcome.status == "agrees" and outcome.method == "symbolic" and outcome.witness is None


def test_numeric_witnesses_decide_when_the_symbolic_route_cannot():
    printed = sp.sqrt(x**2 + 2 * x + 1)
    derived = x + 1
    assert compare.is_zero(printed - derived) is None  # the symbolic route is inconclusive
    outcome = compare.compare(printed, derived)
    assert outcome.status == "agrees" and outcome.method == "numeric"


def test_a_deliberate_typo_is_caught_with_a_witness():
    # eq. (A.18) I_m with the sign of the log flipped
    derived = (1 - x**2 * (1 - 2 * sp.log(x))) / (1 - x**2)
    printed = (1 - x**2 * (1 + 2 * sp.log(x))) / (1 - x**2)
    outcome = compare.compare(printed, derived)
    assert outcome.status == "disagrees"
    w = outcome.witness.to_json()
    assert set(w["point"]) == {"x"}
    p, d = _at(printed, w["point"]), _at(derived, w["point"])
    assert abs(p - d) > 1e-6
    assert float(w["printed"]) == pytest.approx(float(p), rel=1e-10)
    assert float(w["derived"]) == pytest.approx(float(d), rel=1e-10)
    # the reported difference is printed - derived
    assert sp.simplify(outcome.difference - (printed - derived)) == 0


def test_witnesses_are_reproducible():
    first = compare.compare(a * x + b, a * x - b, seed=7).witness
    second = compare.compare(a * x + b, a * x - b, seed=7).witness
    assert first == second and first is not None


def test_agreement_to_the_claimed_order_with_a_root():
    # lighter eigenvalue of [[va^2, v1 va],[v1 va, 0]] is va^2 (1 - sqrt(1 + 4 eps^2))/2 = -v1^2 + v1^4/va^2 - ...
    m = sp.Matrix([[va**2, v1 * va], [v1 * va, 0]])
    derived = sorted(m.eigenvals(), key=lambda e: float(e.subs({va: 1, v1: sp.Rational(1, 10)})))[0]
    outcome = compare.compare(-v1**2, derived, relation="≃", order=2, expansion=EXPANSION)
    assert outcome.status == "agrees_to_order" and outcome.order == 2
    wrong = compare.compare(-2 * v1**2, derived, relation="≃", order=2, expansion=EXPANSION)
    assert wrong.status == "disagrees" and wrong.order == 1
    # leading difference: (-2 + 1) eps^2 va^2
    assert sp.simplify(wrong.difference - (-eps**2 * va**2)) == 0
    assert wrong.witness.to_json()["point"]["epsilon"] == "1/1000"


def test_order_counting_with_a_rational_function_and_a_pole():
    derived = va**2 / (v1 * (1 - v1 / va))  # = va/eps (1 + eps + eps^2 + ...)
    printed = va / eps * (1 + eps)
    printed = printed.subs(eps, v1 / va)
    assert compare.compare(printed, derived, relation="≃", order=0, expansion=EXPANSION).status == "agrees_to_order"
    outcome = compare.compare(printed, derived, relation="≃", order=1, expansion=EXPANSION)
    assert outcome.status == "disagrees" and outcome.order == 0
    assert sp.simplify(outcome.difference + va * eps) == 0


def test_series_coefficients_match_sympy_series():
    expr = (1 + 3 * eps) / (eps**2 * (2 - eps))
    coefficients = compare.series_coefficients(expr, eps, 2)
    reference = sp.series(expr, eps, 0, 3).removeO()
    for k in range(-2, 3):
        assert sp.simplify(coefficients[k] - reference.coeff(eps, k)) == 0


def test_matrices_entry_by_entry_with_labels():
    printed = sp.Matrix([[a, b], [b, a + x]])
    derived = sp.Matrix([[a, b], [-b, a + x]])
    results = dict(compare.compare_matrix(printed, derived, rows=["phi1", "phi3"], columns=["phi1", "phi3"]))
    assert [k for k, o in results.items() if not o.agrees] == ["phi3,phi1"]
    assert results["phi3,phi1"].witness is not None


def test_eigenvector_columns_may_flip_sign():
    printed = sp.Matrix([[2, 1], [-1, 2]]) / sp.sqrt(5)
    derived = sp.Matrix([[-2, 1], [1, 2]]) / sp.sqrt(5)
    fixed = dict(compare.compare_matrix(printed, derived))
    free = dict(compare.compare_matrix(printed, derived, column_signs="free"))
    assert not fixed["1,1"].agrees
    assert all(o.agrees for o in free.values())
    assert "opposite sign" in free["1,1"].note


def test_bounds_on_a_grid():
    negative = (1 + 2 * sp.log(x) - x**2) / (1 - x**2) ** 2  # eq. (2.5)
    assert compare.compare(0, negative, relation="<").status == "agrees"
    outcome = compare.compare(0, -negative, relation="<")
    assert outcome.status == "disagrees" and outcome.witness is not None
    point = outcome.witness.to_json()["point"]
    assert _at(-negative, point) > 0


def test_opaque_functions_compare_as_independent_numbers():
    f = sp.Function("I_m_x", real=True)
    assert compare.compare(2 * f(x) / 3, f(x) * sp.Rational(2, 3)).status == "agrees"
    outcome = compare.compare(f(x) / f(2 * x), f(x) / f(x))
    assert outcome.status == "disagrees"
