"""The generated module over the whole field space: V, gradient and Hessian over all 2n real
components at complex points, the canonical-field functions, the thermal masses, the jax
backend. Independent routes: central finite differences of the generated potential, exact
sympy evaluation of the real-component potential, jax autodiff, the tadpoles and mass-matrix
stages, and fourth derivatives by finite differences for the thermal masses."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import sympy as sp

from symflav.codegen.assemble import numeric_module
from toymodels import CUBIC, TWO_FIELDS, generated, load, write_model


@pytest.fixture(scope="module")
def canonical(derivation, tmp_path_factory):
    path = tmp_path_factory.mktemp("fieldspace") / "numeric_canonical_under_test.py"
    path.write_text(numeric_module(derivation.model, derivation.results, fields="canonical").source, encoding="utf-8")
    return load(path, "numeric_canonical_under_test")


def _point(numeric):
    p = dict(numeric.POINTS["table2"])
    return np.array([p[v] for v in numeric.VEVS]), p


PHI = np.array([30 + 4j, -70 + 11j, 250 - 20j, 240 + 35j])


def _fd_gradient(f, x, h):
    """Fourth-order central differences (exact for the quartic up to rounding)."""
    e = np.eye(len(x))
    return np.array([(-f(x + 2 * h * u) + 8 * f(x + h * u) - 8 * f(x - h * u) + f(x - 2 * h * u)) / (12 * h)
                     for u in e])


@pytest.mark.slow
def test_gradient_and_hessian_are_the_derivatives_of_the_potential_at_complex_points(canonical):
    numeric = canonical
    _, p = _point(numeric)
    rng = np.random.default_rng(4)
    for phi in (PHI, rng.normal(size=4) * 200 + 1j * rng.normal(size=4) * 150):
        x = np.concatenate([phi.real, phi.imag])

        def V(x):
            return numeric.potential(x[:4] + 1j * x[4:], **p)

        def G(x):
            return numeric.gradient(x[:4] + 1j * x[4:], **p)

        g, H = numeric.gradient(phi, **p), numeric.hessian(phi, **p)
        assert g.shape == (8,) and H.shape == (8, 8)
        np.testing.assert_allclose(g, _fd_gradient(V, x, 0.5), rtol=1e-7, atol=1e-8 * np.abs(g).max())
        fd = np.array([(-G(x + 2 * u) + 8 * G(x + u) - 8 * G(x - u) + G(x - 2 * u)) / 12 for u in np.eye(8)])
        np.testing.assert_allclose(H, fd, rtol=1e-9, atol=1e-9 * np.abs(H).max())
        assert np.abs(H[:4, 4:]).max() > 1e-3 * np.abs(H).max()  # the mixing block is there at complex phi
        np.testing.assert_array_equal(H, H.T)
        V0, g0, H0 = numeric.potential_gradient_hessian(phi, **p)
        assert V0 == pytest.approx(numeric.potential(phi, **p), rel=1e-13)
        np.testing.assert_allclose(g0, g, rtol=1e-12, atol=1e-12 * np.abs(g).max())
        np.testing.assert_allclose(H0, H, rtol=1e-12, atol=1e-12 * np.abs(H).max())


@pytest.mark.slow
def test_hessian_equals_exact_second_derivatives_of_the_real_potential(canonical, derivation):
    """An independent route: V(phi = x + i y) expanded by sympy, differentiated, evaluated exactly."""
    numeric = canonical
    pot = derivation["potential"]
    _, p = _point(numeric)
    x = sp.symbols("x0:4", real=True)
    y = sp.symbols("y0:4", real=True)
    subs = {}
    for ph, pb, xi, yi in zip(pot.phi, pot.phibar, x, y):
        subs[ph], subs[pb] = xi + sp.I * yi, xi - sp.I * yi
    values = {s: sp.Rational(str(p[str(s)])) for s in pot.expr.free_symbols if str(s) in p}
    V = sp.expand(pot.expr.xreplace(values).xreplace(subs))
    point = {**{xi: sp.Rational(int(v.real)) for xi, v in zip(x, PHI)}, **{yi: sp.Rational(int(v.imag)) for yi, v in zip(y, PHI)}}
    comps = x + y
    exact = np.array([[float(sp.re(sp.diff(V, a, b).xreplace(point))) for b in comps] for a in comps])
    np.testing.assert_allclose(numeric.hessian(PHI, **p), exact, rtol=1e-12, atol=1e-12 * np.abs(exact).max())


def test_field_space_functions_agree_with_the_tadpoles_and_mass_matrices(canonical):
    numeric = canonical
    vevs, p = _point(numeric)
    np.testing.assert_allclose(numeric.gradient(vevs, **p)[:4], numeric.tadpoles(vevs, **p), rtol=1e-12)
    assert np.all(numeric.gradient(vevs, **p)[4:] == 0)
    H = numeric.hessian(vevs, **p)
    M_S2, M_P2 = numeric.mass_matrices(vevs, **p)
    np.testing.assert_allclose(0.5 * H[:4, :4], M_S2, rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(0.5 * H[4:, 4:], M_P2, rtol=1e-12, atol=1e-9)
    assert np.all(H[:4, 4:] == 0)  # no CP mixing at real vevs with real couplings


def test_batches_of_any_shape(canonical):
    numeric = canonical
    _, p = _point(numeric)
    rng = np.random.default_rng(2)
    phi = rng.normal(size=(3, 5, 4)) * 100 + 1j * rng.normal(size=(3, 5, 4)) * 50
    lam = np.linspace(5, 7, 5)
    H = numeric.hessian(phi, **{**p, "lambda_1": lam})
    g = numeric.gradient(phi, **{**p, "lambda_1": lam})
    assert H.shape == (3, 5, 8, 8) and g.shape == (3, 5, 8)
    for i, j in itertools.product(range(3), range(5)):
        np.testing.assert_allclose(H[i, j], numeric.hessian(phi[i, j], **{**p, "lambda_1": lam[j]}), rtol=1e-13)


def test_canonical_functions_are_the_model_functions_rescaled(canonical):
    """z = sqrt(2) phi: V equal, gradient / sqrt 2, Hessian / 2 (the squared-mass matrix)."""
    numeric = canonical
    vevs, p = _point(numeric)
    z = np.sqrt(2) * PHI
    assert numeric.potential_canonical(z, **p) == pytest.approx(numeric.potential(PHI, **p), rel=1e-13)
    np.testing.assert_allclose(numeric.gradient_canonical(z, **p), numeric.gradient(PHI, **p) / np.sqrt(2),
                               rtol=1e-10, atol=1e-10 * np.abs(numeric.gradient(PHI, **p)).max())
    np.testing.assert_allclose(numeric.hessian_canonical(z, **p), numeric.hessian(PHI, **p) / 2, rtol=1e-11,
                               atol=1e-11 * np.abs(numeric.hessian(PHI, **p)).max())
    # at the vevs the canonical Hessian is the mass matrices of the model's convention (factor 1/2)
    M_S2, M_P2 = numeric.mass_matrices(vevs, **p)
    H = numeric.hessian_canonical(np.sqrt(2) * vevs, **p)
    np.testing.assert_allclose(H[:4, :4], M_S2, rtol=1e-11, atol=1e-8)
    for name in ("potential_canonical", "gradient_canonical", "hessian_canonical", "potential", "gradient",
                 "hessian", "tadpoles", "thermal_mass_coefficients"):
        doc = getattr(numeric, name).__doc__
        assert "sqrt(2)" in doc and ("canonical" in doc.lower()), name


def _fourth_difference_trace(V, x, h):
    """(1/24) sum_k d^4 V / dx_i dx_j dx_k dx_k by central differences (exact for a quartic)."""
    m = len(x)
    e = np.eye(m)
    out = np.zeros((m, m))
    for i, j in itertools.product(range(m), repeat=2):
        total = 0.0
        for k in range(m):
            # d^2/dx_k^2 of d^2V/dx_i dx_j, each second difference with step h
            def second(y):
                return (V(y + h * e[i] + h * e[j]) - V(y + h * e[i] - h * e[j]) - V(y - h * e[i] + h * e[j])
                        + V(y - h * e[i] - h * e[j])) / (4 * h * h)
            total += (second(x + h * e[k]) - 2 * second(x) + second(x - h * e[k])) / (h * h)
        out[i, j] = total / 24
    return out


@pytest.mark.slow
def test_thermal_masses_are_the_trace_of_fourth_derivatives(canonical, tmp_path):
    """Pi_ij / T^2 = (1/24) sum_k d^4 V/dh_i dh_j dh_k dh_k in canonical real fields, by finite
    differences of the generated canonical potential (built-in model) and of a hand-written
    potential (a toy model with a cubic coupling, which must not contribute)."""
    numeric = canonical
    _, p = _point(numeric)

    def V(x):
        return numeric.potential_canonical(x[:4] + 1j * x[4:], **p)

    want = _fourth_difference_trace(V, np.array([1.0, -2.0, 3.0, 0.5, 0.2, -0.4, 1.0, 0.3]), 2.0)
    got = numeric.thermal_mass_coefficients(np.zeros(4), **p)
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)
    toy = generated(write_model(tmp_path / "cubic", CUBIC), "cubic_thermal")
    q = toy.POINTS["p"]
    m, k, lam = q["m"], q["k"], q["l"]

    def V_hand(x):  # phi = (h + i a)/sqrt 2: -m^2 |phi|^2 + k (phi^3 + h.c.) + l |phi|^4
        phi = (x[0] + 1j * x[1]) / np.sqrt(2)
        return (-m * m * abs(phi) ** 2 + 2 * k * (phi**3).real + lam * abs(phi) ** 4)

    want = _fourth_difference_trace(V_hand, np.array([3.0, -1.0]), 1.0)
    np.testing.assert_allclose(toy.thermal_mass_coefficients([0.0], **q), want, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(want, np.eye(2) * lam / 3, rtol=1e-6, atol=1e-9)  # Pi = lambda T^2/3 (textbook)


def test_complex_input_to_a_real_function_is_an_error_never_a_truncation(canonical):
    numeric = canonical
    vevs, p = _point(numeric)
    for call in (lambda: numeric.tadpoles(vevs + 1j, **p), lambda: numeric.mass_matrices(vevs * (1 + 1e-9j), **p),
                 lambda: numeric.potential(PHI, **{**p, "lambda_1": 5.93 + 0.1j}), lambda: numeric.I_m(1 + 1j)):
        with pytest.raises(TypeError, match="complex"):
            call()
    # a complex dtype with zero imaginary parts is exact, so it is accepted
    np.testing.assert_array_equal(numeric.tadpoles(vevs.astype(complex), **p), numeric.tadpoles(vevs, **p))


@pytest.mark.parametrize("value, words", [(None, "got None"), ("5.93", "got a str"), (True, "got a bool"),
                                          ([1, None], "got a list"), (object(), "got a object")])
def test_parameters_that_are_not_numbers_are_named(canonical, value, words):
    numeric = canonical
    vevs, p = _point(numeric)
    with pytest.raises(TypeError, match=f"tadpoles\\(\\): lambda_1 must be a number.*{words}"):
        numeric.tadpoles(vevs, **{**p, "lambda_1": value})
    with pytest.raises(TypeError, match="vevs must be a number"):
        numeric.tadpoles(["a", "b", "c", "d"], **p)


def test_shapes_and_missing_parameters_are_named(canonical):
    numeric = canonical
    vevs, p = _point(numeric)
    with pytest.raises(ValueError, match=r"gradient\(\): phi must have shape \(\.\.\., 4\)"):
        numeric.gradient(PHI[:3], **p)
    with pytest.raises(ValueError, match="do not broadcast: .*lambda_1 \\(3,\\)"):
        numeric.hessian(np.tile(PHI, (4, 1)), **{**p, "lambda_1": np.ones(3)})
    with pytest.raises(TypeError, match=r"missing parameter\(s\): mu_1 \(or mu_1_sq\)"):
        numeric.hessian(PHI, **{k: v for k, v in p.items() if k != "mu_1"})


def test_nan_and_inf_propagate(canonical):
    numeric = canonical
    vevs, p = _point(numeric)
    with np.errstate(invalid="ignore", over="ignore"):
        T = numeric.tadpoles(np.array([vevs, [np.nan, 1, 2, 3]]), **p)
        assert np.all(np.isfinite(T[0])) and np.isnan(T[1, 0])
        assert not np.isfinite(numeric.potential(np.array([np.inf, 0, 0, 0]), **p))  # inf - inf: NaN
    assert "NaN and inf" in numeric.hessian.__doc__


def test_signed_squares_enter_any_vacuum(canonical):
    """mu_1_sq = mu_1^2 of any sign; mu_1 and mu_1_sq together are an error naming both."""
    numeric = canonical
    vevs, p = _point(numeric)
    assert numeric.SQUARES["mu_1"] == "mu_1_sq" and numeric.UNITS["mu_1_sq"] == "GeV^2"
    signed = {k: v for k, v in p.items() if k != "mu_1"}
    np.testing.assert_array_equal(numeric.hessian(PHI, **signed, mu_1_sq=122.0**2), numeric.hessian(PHI, **p))
    shifted = numeric.tadpoles(vevs, **signed, mu_1_sq=-153109.0) - numeric.tadpoles(vevs, **p)
    # dT_1/d(mu_1^2) = -2 v_1 (V contains -mu_1^2 |phi_1|^2): the sign goes through
    assert shifted[0] == pytest.approx(-2 * vevs[0] * (-153109.0 - 122.0**2), rel=1e-12)
    with pytest.raises(ValueError, match="give mu_1 or mu_1_sq, not both"):
        numeric.potential(PHI, **p, mu_1_sq=1.0)
    with pytest.raises(TypeError, match="mu_1 is complex"):
        numeric.potential(PHI, **{**p, "mu_1": 391.3j})


@pytest.mark.slow
def test_jax_backend_is_functional_and_agrees_with_autodiff(derivation, canonical, tmp_path):
    """jax.grad of the jax potential = the generated gradient; jit and hessian agree with numpy."""
    jax = pytest.importorskip("jax")
    jnp = pytest.importorskip("jax.numpy")
    path = tmp_path / "numeric_jax_under_test.py"
    path.write_text(numeric_module(derivation.model, derivation.results, backend="jax", fields="canonical").source,
                    encoding="utf-8")
    fast = load(path, "numeric_jax_under_test")
    numeric = canonical
    _, p = _point(numeric)
    x, y = jnp.asarray(PHI.real), jnp.asarray(PHI.imag)
    gx, gy = jax.grad(lambda x, y: fast.potential(x + 1j * y, **p), argnums=(0, 1))(x, y)
    want = numeric.gradient(PHI, **p)
    np.testing.assert_allclose(np.concatenate([gx, gy]), want, rtol=1e-12, atol=1e-12 * np.abs(want).max())
    H_auto = jax.hessian(lambda v: fast.potential(v[:4] + 1j * v[4:], **p))(jnp.concatenate([x, y]))
    np.testing.assert_allclose(H_auto, numeric.hessian(PHI, **p), rtol=1e-11, atol=1e-11 * np.abs(H_auto).max())
    hessian = jax.jit(lambda phi, lam: fast.hessian(phi, **{**p, "lambda_1": lam}))
    batch = np.stack([PHI, 2 * PHI])
    np.testing.assert_allclose(hessian(batch, 5.93), numeric.hessian(batch, **p), rtol=1e-13,
                               atol=1e-13 * np.abs(numeric.hessian(batch, **p)).max())
    # every other function agrees with the numpy module, loop functions included (patches)
    xs = np.array([1e-5, 0.3, 1 - 1e-9, 1.0, 1 + 1e-7, 3.0, 1e4])
    for name in ("I_m", "I_m_x", "I_da", "I_da_x"):
        np.testing.assert_allclose(getattr(fast, name)(xs), getattr(numeric, name)(xs), rtol=1e-13, atol=1e-300)
        assert np.isfinite(jax.grad(getattr(fast, name))(1.0))
    np.testing.assert_allclose(fast.thermal_mass_coefficients(PHI, **p), numeric.thermal_mass_coefficients(PHI, **p),
                               rtol=1e-14)
    np.testing.assert_allclose(fast.m_FN_mu(**p), numeric.m_FN_mu(**p), rtol=1e-14)
    with pytest.raises(TypeError, match="complex dtype"):
        fast.tadpoles(PHI, **p)
    with pytest.raises(TypeError, match="lambda_1 must be a number"):
        fast.potential(PHI, **{**p, "lambda_1": None})
    assert "jax_enable_x64" in path.read_text(encoding="utf-8") and "import numpy" not in path.read_text(encoding="utf-8")


def test_a_toy_model_with_the_canonical_expansion(tmp_path):
    """A model whose own expansion is canonical: its functions take w = sqrt(2) phi, and the
    Hessian at the vevs is the squared-mass matrix; gradient(v)[:n] = tadpoles(v)."""
    folder = write_model(tmp_path / "canon", TWO_FIELDS, **{"[points.p]": '[conventions]\nfield_expansion = '
                                                            '"canonical"\nmass_matrix_factor = "1"\n\n[points.p]'})
    toy = generated(folder, "toy_canonical")
    p = toy.POINTS["p"]
    assert toy.FIELD_EXPANSION == "canonical"
    v = np.array([30.0, 40.0])
    np.testing.assert_allclose(toy.gradient(v, **p)[:2], toy.tadpoles(v, **p), rtol=1e-13)
    M_S2, M_P2 = toy.mass_matrices(v, **p)
    np.testing.assert_allclose(toy.hessian(v, **p)[:2, :2], M_S2, rtol=1e-13)
    # V(w) = V(phi = w / sqrt 2) by hand: -size^2 |phi1|^2 + np |phi1|^4 - phi^2 (phi1^2 + h.c.) ...
    w = np.array([30.0 + 5j, 40.0 - 7j])
    phi1, phi2 = w / np.sqrt(2)
    hand = (-p["size"] ** 2 * abs(phi1) ** 2 - p["vevs"] ** 2 * abs(phi2) ** 2 + p["np"] * abs(phi1) ** 4
            + p["sum"] * abs(phi2) ** 4 + p["start"] * abs(phi1 * phi2) ** 2
            - 2 * p["phi"] ** 2 * (phi1**2).real - 2 * p["phi"] ** 2 / 4 * (phi2**2).real)
    assert toy.potential(w, **p) == pytest.approx(hand, rel=1e-13)


@pytest.mark.slow
def test_readme_jax_example_runs(derivation, canonical, tmp_path, monkeypatch):
    """The README's jax lines, on a fresh numeric_jax.py: the autodiff gradient is the generated one."""
    import re

    from conftest import REPO

    pytest.importorskip("jax")
    (tmp_path / "numeric_jax.py").write_text(
        numeric_module(derivation.model, derivation.results, backend="jax").source, encoding="utf-8")
    text = (REPO / "README.md").read_text(encoding="utf-8")
    code = re.search(r"```python\n(.*?)```", text[text.index("**Autodiff.**"):], re.S).group(1)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(__import__("sys").modules, "numeric_jax", raising=False)
    scope = {}
    exec(code, scope)
    want = canonical.gradient(np.array([42.0, -84, 262, 262]), **canonical.POINTS["table2"])
    np.testing.assert_allclose(np.concatenate([scope["gx"], scope["gy"]]), want, rtol=1e-12, atol=1e-6)
