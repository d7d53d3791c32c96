"""Loop functions: closed forms against mpmath quadrature, limits, signs, two routes, print.

Independent methods: mpmath quadrature of the Feynman-parameter integrals (the
representation the closed forms were integrated from) and of the Euclidean
momentum-space integrals (which do not use the Feynman parametrization at all).
"""

from __future__ import annotations

import mpmath as mp
import pytest
import sympy as sp

from symflav.physics import loops
from symflav.core.parsing import parse_expression
from symflav.core.spec import read_printed

X = loops.X
GRID = [mp.mpf(10) ** (k / mp.mpf(8)) for k in range(-24, 17) if k]  # 1e-3 .. 1e2 (x = 1 tested apart)
GRID += [mp.mpf("0.999"), mp.mpf("1.001"), mp.mpf("0.9999999"), mp.mpf("1.0000001")]
KEYS = ["I_m", "I_m_x", "I_da", "I_da_x", "I_da_S", "I_da_S_x", "I_m_r1", "I_m_x_r1", "I_da_r1", "I_da_x_r1"]


def quad_feynman(fn: loops.LoopFunction, x):
    f = sp.lambdify((loops.Z, X), fn.integrand, "mpmath")
    a = x**2
    # split where the integrand varies on the scale of x^2 (z ~ 1 - a for small a, z ~ 1/a for large a)
    points = sorted({mp.mpf(0), mp.mpf(1)} | {p for p in (1 - a, 1 - 10 * a, 1 / a, 10 / a) if 0 < p < 1})
    return mp.quad(lambda z: f(z, x), points)


def mpq(r):
    r = sp.Rational(r)
    return mp.mpf(int(r.p)) / int(r.q)


def closed_value(fn: loops.LoopFunction, x):
    return sp.lambdify(X, fn.closed_form, "mpmath")(x)


@pytest.mark.slow
@pytest.mark.parametrize("key", KEYS)
def test_closed_form_matches_quadrature_to_12_digits(key):
    fn = loops.loop_function(*loops.parse_key(key))
    worst = mp.mpf(0)
    for x in GRID:
        with mp.workdps(40):
            exact = quad_feynman(fn, x)
        with mp.workdps(90):  # the closed forms cancel like (1 - x^2)^k near x = 1
            value = closed_value(fn, mp.mpf(x))
        with mp.workdps(40):
            scale = max(abs(exact), mp.mpf("1e-30"))
            worst = max(worst, abs(value - exact) / scale)
    assert worst < 1e-12, (key, worst)


@pytest.mark.slow
def test_value_at_one_is_the_limit_of_the_closed_form():
    for key in KEYS:
        fn = loops.loop_function(*loops.parse_key(key))
        with mp.workdps(120):
            near = closed_value(fn, mp.mpf(1) + mp.mpf("1e-12"))
            assert abs(near - mpq(fn.at_one)) < 1e-10, key
        with mp.workdps(30):
            at_one = mp.quad(lambda z: sp.lambdify((loops.Z, X), fn.integrand, "mpmath")(z, 1), [0, 1])
            assert abs(at_one - mpq(fn.at_one)) < 1e-25, key
        # the Taylor coefficients in (x^2 - 1) reproduce the function near 1
        with mp.workdps(80):
            x = mp.mpf("1.001")
            eps = x**2 - 1
            taylor = sum(mpq(c) * eps**k for k, c in enumerate(fn.taylor_one))
            assert abs(taylor - closed_value(fn, x)) < 1e-7, key


def test_limits_at_zero():
    expected = {"I_m": 1, "I_m_x": -sp.oo, "I_da": sp.Rational(1, 2), "I_da_x": -sp.Rational(1, 2)}
    for key, value in expected.items():
        fn = loops.loop_function(*loops.parse_key(key))
        assert fn.at_zero == value, key
        with mp.workdps(40):
            x = mp.mpf("1e-8")
            asym = sp.lambdify(X, fn.asymptotic_zero, "mpmath")(x)
            assert abs(asym - closed_value(fn, x)) < 1e-14, key
    # the logarithmic growth of I_m^x: 1 + 2 log x
    L = sp.Symbol("L")
    leading = loops.loop_function("I_m", 1).asymptotic_zero.subs(sp.log(X), L).subs(X, 0)
    assert sp.expand(leading) == 1 + 2 * L


@pytest.mark.slow
def test_signs_derived_from_the_integrands_and_checked_on_the_grid():
    signs = {key: loops.loop_function(*loops.parse_key(key)).sign for key in ("I_m", "I_m_x", "I_da", "I_da_x")}
    assert signs["I_m_x"].startswith("negative for all x > 0")
    assert signs["I_da_x"].startswith("negative for all x > 0")
    assert signs["I_da"].startswith("positive for all x > 0")
    assert signs["I_m"].startswith("positive for x < 1, negative for x > 1")
    with mp.workdps(30):
        for x in GRID:
            assert closed_value(loops.loop_function("I_m", 1), x) < 0
            assert closed_value(loops.loop_function("I_da", 1), x) < 0
            assert closed_value(loops.loop_function("I_da"), x) > 0
            assert (closed_value(loops.loop_function("I_m"), x) > 0) == (x < 1)


def test_momentum_space_representation_without_feynman_parameters():
    """-I_m^x(x) = int_0^inf dt t/((t+1)(t+x^2)^2): Euclidean k^2 = t M^2, no Feynman parameters.

    And the B0 difference I_m(x) - I_m(y) = int_0^inf dt t [1/((t+1)(t+x^2)) - 1/((t+1)(t+y^2))].
    """
    imx = sp.lambdify(X, loops.loop_function("I_m", 1).closed_form, "mpmath")
    im = sp.lambdify(X, loops.loop_function("I_m").closed_form, "mpmath")
    with mp.workdps(30):
        for x in (mp.mpf("0.003"), mp.mpf("0.07"), mp.mpf("0.5"), mp.mpf(2), mp.mpf(30)):
            direct = -mp.quad(lambda t: t / ((t + 1) * (t + x**2) ** 2), [0, x**2, 1, mp.inf])
            assert abs(direct - imx(x)) < 1e-20 * max(1, abs(direct))
            y = mp.mpf("0.3")
            diff = mp.quad(lambda t: t * (1 / ((t + 1) * (t + x**2)) - 1 / ((t + 1) * (t + y**2))),
                           [0, min(x, y) ** 2, 1, mp.inf])
            assert abs(diff - (im(x) - im(y))) < 1e-20


def test_vev_insertion_family_in_momentum_space():
    """r = 1 (one vev between the closed lines, Dirac mediator Yukawa): the loop
    numerator is M^2 + k^2 over (k^2 - M^2)^2; with one mass insertion
    -J_1^x = int dt t (1 - t)/((t+1)^2 (t+x^2)^2) (Euclidean, M = 1)."""
    f = sp.lambdify(X, loops.loop_function("I_m", 1, 1).closed_form, "mpmath")
    with mp.workdps(30):
        for x in (mp.mpf("0.01"), mp.mpf("0.2"), mp.mpf("0.9"), mp.mpf(5)):
            direct = -mp.quad(lambda t: t * (1 - t) / ((t + 1) ** 2 * (t + x**2) ** 2), [0, x**2, 1, mp.inf])
            assert abs(direct - f(x)) < 1e-20


@pytest.mark.parametrize("base,n", [("I_m", 1), ("I_m", 2), ("I_da", 1), ("I_da", 2), ("I_da_S", 1)])
def test_mass_insertions_two_routes(base, n):
    """Derivative under the integral (what the stage integrates) = derivative of the closed form."""
    integrated = loops.loop_function(base, n).closed_form
    a = sp.Symbol("a", positive=True)
    parent = loops.loop_function(base).closed_form.subs(X, sp.sqrt(a))
    differentiated = (sp.diff(parent, a, n) / sp.factorial(n)).subs(a, X**2)
    assert loops.same_function(integrated, differentiated)


@pytest.mark.parametrize("base,n", [("I_m", 0), ("I_m", 1), ("I_da", 0), ("I_da", 1)])
def test_vev_insertion_family_two_routes(base, n):
    """M-derivative under the integral = M-derivative of the closed form (for I_m up to a
    constant: only weighted sums with sum of weights zero are physical)."""
    family = loops.FAMILIES[base][0]
    direct = loops.loop_function(base, n, 1).closed_form
    via = loops.derivative_route(loops.loop_function(base).closed_form, family, 1)
    if n:
        a = sp.Symbol("a", positive=True)
        via = sp.diff(via.subs(X, sp.sqrt(a)), a).subs(a, X**2)
    difference = sp.cancel(sp.expand_log(direct - via, force=True))
    assert difference.free_symbols == set() if base == "I_m" and n == 0 else difference == 0


def test_amplitude_prefactors_and_relation():
    res = loops.derive_loops()
    pre = dict(res.prefactors)
    c = res.couplings
    assert sp.simplify(pre["I_m"] + c["M"] * c["a"] * c["b"] / (16 * sp.pi**2)) == 0
    assert sp.simplify(pre["I_da"] + c["Q_F"] * c["a"] * c["b"] * c["e"] / (32 * sp.pi**2 * c["M"])) == 0
    rel = loops.amplitude_relation(res)
    assert sp.simplify(rel["delta_a_over_dm"] + 2 * rel["m_l"] * rel["Sigma_da"] / (c["M"] ** 2 * rel["Sigma_m"])) == 0


def test_interfaces_closed_forms_are_plain_expressions_in_x():
    res = loops.derive_loops()
    forms = res.closed_forms
    for key in ("I_m", "I_m_x", "I_da", "I_da_x"):
        assert forms[key].free_symbols == {res.x}
        assert res.x.is_positive
        assert not forms[key].atoms(sp.Function) - forms[key].atoms(sp.log)


# ------------------------------------------------------------------ printed comparison (eqs. 2.5, 2.7, A.18)


def _printed(model):
    """The printed loop functions (eqs. 2.5, 2.7, A.18) from the printed registry, in x."""
    eqs = read_printed(model)["equations"]
    names = {"x_phi": X}
    found = {}
    for label in ("2.5", "2.7", "A.18"):
        for part in eqs[label]["parts"]:
            if part.get("relation", "=") == "=":
                found[part["provider"].split(".", 1)[1]] = parse_expression(part["formula"], names)
    assert set(found) == {"I_m_x", "I_da_x", "I_m", "I_da"}
    return found


def test_printed_loop_functions_agree_exactly_with_the_derived_ones(model):
    printed = _printed(model)
    for key, expr in printed.items():
        derived = loops.loop_function(*loops.parse_key(key)).closed_form
        assert loops.same_function(derived, expr), key


def test_adopt_makes_a_forked_loops_result_the_cached_one():
    """The pipeline computes the loops stage in a forked process; `adopt` registers its
    functions so later stages get them from `loop_function` instead of deriving them again."""
    import pickle

    from symflav.physics import loops

    result = loops.derive_loops()
    copy = pickle.loads(pickle.dumps(result))  # what arrives from the child
    key = ("I_m", 1, 0)
    saved = loops._DERIVED.pop(key)
    try:
        assert loops.adopt(copy) is copy
        adopted = loops.loop_function(*key)
        assert adopted is copy[loops.function_key(*key)] and adopted is not saved
        assert adopted.closed_form == saved.closed_form and adopted.taylor_one == saved.taylor_one
    finally:
        loops._DERIVED[key] = saved
