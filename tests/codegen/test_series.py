"""Series patches: generated one-variable functions are accurate to 1e-13 relative for all x > 0.

The test functions are generic loop-type functions made here from Feynman-parameter
integrals (rational functions of y = x^2 and log x with removable poles of order 1 to 4
at x = 1), not the paper's loop functions. References: mpmath at 50 significant digits
(the closed form evaluated with enough working digits for its cancellations), the exact
limit at x = 1 from sympy, and mpmath.quad of the integral itself.
"""

from __future__ import annotations

from fractions import Fraction

import mpmath
import numpy as np
import pytest
import sympy as sp

from symflav.codegen import CodegenError
from symflav.codegen.module import LoopFunction, render_loop_function, render_module
from symflav.codegen.series import Expansion, expand, stitch

x = sp.Symbol("x", positive=True)
_z = sp.Symbol("z")


def feynman_integral(numerator):
    """Closed form of int_0^1 numerator(z) / (z + (1 - z) x^2) dz (a polynomial numerator)."""
    y = x**2
    quotient, remainder = sp.div(sp.expand(numerator), (1 - y) * _z + y, _z)
    # int_0^1 dz / (y + (1-y) z) = -log(y)/(1-y)
    return sp.integrate(quotient, (_z, 0, 1)) - remainder * 2 * sp.log(x) / (1 - y)


def integrand(numerator):
    f = sp.lambdify((_z, x), numerator / (_z + (1 - _z) * x**2), "mpmath")
    return lambda xv: mpmath.quad(lambda zv: f(zv, xv), [0, 1])


NUMERATORS = {
    "order1": _z,                                   # removable pole of order 1 at x = 1
    "order2": _z**2,                                # order 2
    "order3": _z**2 * (1 - _z),                     # order 3
    "order4": _z**3,                                # order 4
    "mixed": 3 * _z**3 - _z**2 + 2 * _z * (1 - _z) ** 2,
}


def _cases():
    cases = {name: feynman_integral(num) for name, num in NUMERATORS.items()}
    # the same function written as one fraction, expanded: a worse-conditioned closed form
    cases["order4_one_fraction"] = sp.together(sp.expand(cases["order4"]))
    # cancellation at x -> 0 and at x -> infinity (no singular point at x = 1)
    cases["small_x"] = (sp.log(1 + x**2) - x**2) / x**4
    cases["large_x"] = x**2 * sp.log(1 + 1 / x**2)
    return cases


CASES = _cases()


def _compile(name, expr):
    st = stitch(expr, x)
    rendered = render_loop_function(LoopFunction(f"f_{name}", f"test function {name}", st))
    source = render_module("test module", {}, "", [("PARAMETERS", "()", "none")], [rendered])
    namespace: dict = {}
    exec(compile(source, f"<generated {name}>", "exec"), namespace)
    return st, namespace[f"f_{name}"]


def _grid():
    t = np.logspace(-12, -0.05, 400)
    return np.unique(np.concatenate([
        [1.0, np.nextafter(1.0, 2), np.nextafter(1.0, 0)],
        1 + t, 1 - t / 1.0000001,
        np.logspace(-300, -20, 57), np.logspace(-20, 20, 801), np.logspace(20, 300, 57),
        np.linspace(0.05, 4, 400),
    ]))


def _reference(expr):
    f = sp.lambdify(x, expr, "mpmath")
    limit = sp.limit(expr, x, 1)

    def value(xv: float):
        if xv == 1.0:
            with mpmath.workdps(60):
                return mpmath.mpf(str(sp.N(limit, 60)))
        # the closed forms lose at most ~8 |log10 x| digits at extreme x and ~8 |log10|x - 1||
        # near x = 1 (poles of order <= 8 cancelled); start above that, then raise the working
        # precision until two evaluations agree to 50 digits
        lost = 8 * abs(np.log10(xv)) + 8 * max(0.0, -np.log10(abs(xv - 1)))
        dps, last = 60 + int(lost), None
        while dps <= 20000:
            with mpmath.workdps(dps):
                current = f(mpmath.mpf(xv))
            if last is not None and (current == last or abs(current - last) <= abs(current) * mpmath.mpf(10) ** -52):
                return current
            last, dps = current, 2 * dps
        raise AssertionError(f"no stable reference at x = {xv}")

    return value


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(CASES))
def test_generated_function_accurate_everywhere(name):
    expr = CASES[name]
    st, generated = _compile(name, expr)
    xs = _grid()
    values = generated(xs)
    reference = _reference(expr)
    worst, where = 0.0, None
    for xv, gv in zip(xs, values):
        ref = reference(float(xv))
        if abs(ref) < 1e-300:  # the true value is not a normal double
            continue
        with mpmath.workdps(50):
            err = float(abs((mpmath.mpf(float(gv)) - ref) / ref))
        if err > worst:
            worst, where = err, xv
    assert worst <= 1e-13, f"{name}: relative error {worst:.2e} at x = {where!r}; patches: " + "; ".join(
        p.describe() for p in st.patches)


@pytest.mark.parametrize("name", ["order1", "order4", "mixed"])
def test_closed_forms_are_the_integrals(name):
    """The test functions are what they claim to be (mpmath.quad of the integral)."""
    f = sp.lambdify(x, CASES[name], "mpmath")
    g = integrand(NUMERATORS[name])
    with mpmath.workdps(40):
        for xv in ("0.01", "0.7", "1.3", "25"):
            assert abs(f(mpmath.mpf(xv)) / g(mpmath.mpf(xv)) - 1) < 1e-30


@pytest.mark.slow
def test_value_at_one_is_the_exact_limit():
    for name in ("order1", "order2", "order3", "order4", "mixed"):
        st, generated = _compile(name, CASES[name])
        (patch,) = [p for p in st.patches if p.expansion.kind in ("s", "t")]
        exact = sp.limit(CASES[name], x, 1)
        assert sp.Rational(patch.exact_value.numerator, patch.exact_value.denominator) == exact
        assert generated(1.0) == pytest.approx(float(exact), rel=1e-15)


def test_patches_are_where_they_are_needed():
    st = stitch(CASES["order4"], x)
    kinds = [p.expansion.kind for p in st.patches]
    assert ("s" in kinds or "t" in kinds) and st.singular_points == (Fraction(1),)
    assert "zero" in [p.expansion.kind for p in stitch(CASES["small_x"], x).patches]
    assert "infinity" in [p.expansion.kind for p in stitch(CASES["large_x"], x).patches]
    for p in st.patches:
        assert p.error_estimate <= 1e-13 / 2


@pytest.mark.slow
def test_expansion_agrees_with_sympy_series():
    """Exact coefficients at x = 1 (variable t = x - 1) equal sympy's series."""
    expr = CASES["order2"]
    ours = expand(expr, x, Expansion("t", Fraction(1)), 5)
    t = sp.Symbol("t")
    reference = sp.series(expr.subs(x, 1 + t), t, 0, 5).removeO()
    for n in range(5):
        c = ours.coeff(n)
        assert (sp.Rational(c[0].numerator, c[0].denominator) if c else 0) == sp.nsimplify(reference.coeff(t, n))
    # in s = log x, with x = e^s
    ours_s = expand(expr, x, Expansion("s", Fraction(1)), 4)
    s = sp.Symbol("s")
    reference_s = sp.series(expr.subs(x, sp.exp(s)), s, 0, 4).removeO()
    for n in range(4):
        c = ours_s.coeff(n)
        assert (sp.Rational(c[0].numerator, c[0].denominator) if c else 0) == sp.nsimplify(reference_s.coeff(s, n))


@pytest.mark.slow
def test_expansion_at_infinity_with_logs():
    expr = CASES["order2"]
    ours = expand(expr, x, Expansion("infinity"), 6)
    w, L = sp.symbols("w L")
    reference = sp.series(expr.subs(x, 1 / w), w, 0, ours.val + 6).removeO().subs(sp.log(w), L)
    for n in range(ours.val, ours.val + 6):
        c = ours.coeff(n)
        mine = sum(sp.Rational(q.numerator, q.denominator) * L**j for j, q in enumerate(c))
        assert sp.expand(mine - sp.expand(reference).coeff(w, n)) == 0


@pytest.mark.parametrize(
    "expr, message",
    [
        (1 / (x - 1) + sp.log(x), "pole"),
        ((x - 2) / (x + 1), "changes sign"),
        (sp.besselj(0, x) / (1 + x), "not supported|no rounding model"),
        (sp.log(x) / (x - 1) + sp.Symbol("y"), "depend on x only"),
    ],
)
def test_what_cannot_be_guaranteed_is_an_error(expr, message):
    with pytest.raises(CodegenError, match=message):
        stitch(expr, x)


@pytest.mark.slow
def test_stitching_is_deterministic():
    a = stitch(CASES["mixed"], x)
    b = stitch(CASES["mixed"], x)
    assert a == b
