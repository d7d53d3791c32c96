"""cosmoTransitions on a generated module (symflav.adapters.cosmotransitions).

A toy model with two minima of different depth (tests/toymodels.py): the bounce action of
the tunnelling between them with the adapter's exact gradient equals the same calculation
with finite-difference gradients, and the calculation with a potential written by hand in
canonical real fields (so the field normalization is right: with (Re phi, Im phi) taken as
canonical fields the action differs)."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("cosmoTransitions")
from cosmoTransitions import helper_functions, pathDeformation  # noqa: E402

from symflav.adapters.cosmotransitions import GeneratedPotential  # noqa: E402
from toymodels import TWO_FIELDS, derive, write_model  # noqa: E402

QUIET = {"deformation_deform_params": {"verbose": False}}


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    from symflav.codegen.assemble import numeric_module

    folder = write_model(tmp_path_factory.mktemp("adapter") / "two", TWO_FIELDS)
    model, derivation = derive(folder)
    path = folder / "numeric.py"
    path.write_text(numeric_module(model, derivation.results).source, encoding="utf-8")
    return path


def _hand_potential(p):
    """The toy potential written by hand in canonical real fields X = (h1, h2, a1, a2),
    phi_i = (h_i + i a_i)/sqrt 2 (the model's expansion is phi = v + sigma + i varphi)."""
    def V(X):
        X = np.asarray(X, dtype=float)
        phi1 = (X[..., 0] + 1j * X[..., 2]) / np.sqrt(2)
        phi2 = (X[..., 1] + 1j * X[..., 3]) / np.sqrt(2)
        a1, a2 = np.abs(phi1) ** 2, np.abs(phi2) ** 2
        return (-p["size"] ** 2 * a1 - p["vevs"] ** 2 * a2 + p["np"] * a1 * a1 + p["sum"] * a2 * a2
                + p["start"] * a1 * a2 - 2 * p["phi"] ** 2 * (phi1**2).real - 2 * p["phi"] ** 2 / 4 * (phi2**2).real)
    return V


@pytest.mark.slow
def test_bounce_action_with_exact_and_finite_difference_gradients(toy):
    import importlib.util

    spec = importlib.util.spec_from_file_location("adapter_toy", toy)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    p = module.POINTS["p"]
    m = GeneratedPotential(str(toy), **p)  # the user's lines: a path and a point
    true, false = m.minima()[:2]
    assert m.V0(true) < m.V0(false)
    np.testing.assert_allclose(m.dV0(true), 0, atol=1e-6 * np.abs(m.dV0(false + 1.0)).max())
    exact = pathDeformation.fullTunneling([true, false], m.V0, m.dV0, **QUIET).action
    fd = helper_functions.gradientFunction(m.V0, 1e-3, m.Ndim, 4)
    finite = pathDeformation.fullTunneling([true, false], m.V0, fd, **QUIET).action
    assert exact > 0 and finite == pytest.approx(exact, rel=1e-4)
    # the same tunnelling with the potential written by hand in canonical fields
    V = _hand_potential(p)
    hand = helper_functions.gradientFunction(V, 1e-3, 4, 4)
    np.testing.assert_allclose(V(np.array([true, false])), m.V0(np.array([true, false])), rtol=1e-12)
    by_hand = pathDeformation.fullTunneling([true, false], V, hand, **QUIET).action
    assert by_hand == pytest.approx(exact, rel=1e-4)
    # (Re phi, Im phi) taken as canonical fields: a different (wrong) action
    naive = GeneratedPotential(module, **p)
    naive.scale = 1.0
    wrong = pathDeformation.fullTunneling([true / np.sqrt(2), false / np.sqrt(2)], naive.V0, naive.dV0, **QUIET)
    assert abs(wrong.action / exact - 1) > 0.3


def test_generic_potential_pieces(toy):
    import importlib.util

    spec = importlib.util.spec_from_file_location("adapter_toy2", toy)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    p = module.POINTS["p"]
    m = GeneratedPotential(module, **p)
    assert m.Ndim == 4
    X = np.array([[10.0, 20.0, -3.0, 4.0], [100.0, 0.0, 0.0, 0.0]])
    H = helper_functions.hessianFunction(m.V0, 1e-2, 4, 4)(X)
    np.testing.assert_allclose(m.massSqMatrix(X), H, rtol=1e-6, atol=1e-6 * np.abs(H).max())
    masses, dof, c = m.boson_massSq(X, np.array([0.0, 50.0]))
    np.testing.assert_allclose(masses[0], np.linalg.eigvalsh(m.d2V0(X[0])), rtol=1e-12)
    thermal = np.linalg.eigvalsh(m.d2V0(X[1]) + 50.0**2 * m.thermal_masses(X[1]))
    np.testing.assert_allclose(masses[1], thermal, rtol=1e-12)
    assert dof.shape == c.shape == (4,)
    assert np.isfinite(m.Vtot(X, 50.0)).all()
    np.testing.assert_allclose(m.approxZeroTMin()[0], m.minima()[0])
    with pytest.raises(TypeError, match="np must be a number"):
        GeneratedPotential(module, **{**p, "np": None})


@pytest.mark.slow
def test_readme_example_runs(tmp_path):
    """The README's cosmoTransitions lines, on the committed built-in module at a point with two
    minima (the phi_1,3 and phi_a,b sectors repel)."""
    import re
    import shutil

    from conftest import REPO

    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text[text.index("**Tunnelling and phase transitions.**"):]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    assert len([line for line in code.splitlines() if line.strip()]) <= 5
    (tmp_path / "generated" / "calibbi2020").mkdir(parents=True)
    shutil.copy(REPO / "generated" / "calibbi2020" / "numeric.py", tmp_path / "generated" / "calibbi2020")
    import os

    here = os.getcwd()
    os.chdir(tmp_path)
    try:
        from symflav.adapters.cosmotransitions import load_module

        numeric = load_module("generated/calibbi2020/numeric.py")
        point = {**numeric.POINTS["table2"], "lambda_1a": 20, "lambda_1b": 20, "lambda_3a": 20, "lambda_3b": 20,
                 "mu_1": 800, "mu_3": 800}
        scope = {"point": point}
        exec(code, scope)
    finally:
        os.chdir(here)
    assert scope["action"] > 0 and scope["m"].V0(scope["true"]) < scope["m"].V0(scope["false"])
