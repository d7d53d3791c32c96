"""Perturbative diagonalization in eps: symbolic U^T M U = diag and U^T U = 1 to the stated order,
numbers against numpy.linalg.eigh with the error falling like the next order in eps."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

from symflav.physics import perturbative as pt
from symflav import pipeline

eps = sp.Symbol("eps", positive=True)


def _series_check(T, result, order):
    """Coefficients of U^T M U - diag(lambda) and U^T U - 1 through eps^order (exact arithmetic)."""
    U, n = result.U, T[0].rows
    for k in range(order + 1):
        R, O = sp.zeros(n, n), sp.zeros(n, n)
        for a in range(min(k, len(U) - 1) + 1):
            for b in range(k - a + 1):
                c = k - a - b
                if c < len(U):
                    R += U[a].T * T[b] * U[c]
            if k - a < len(U):
                O += U[a].T * U[k - a]
        D = sp.diag(*[result.eigenvalues[i][k] for i in range(n)])
        assert (R - D).applyfunc(lambda x: sp.cancel(sp.radsimp(x))).is_zero_matrix, k
        assert (O - (sp.eye(n) if k == 0 else sp.zeros(n, n))).applyfunc(
            lambda x: sp.cancel(sp.radsimp(x))).is_zero_matrix, k


def _vacuum_series(derivation, which, top=8):
    s = derivation["spectrum"]
    M = derivation["mass_matrices"].M_S2_vacuum if which == "S" else derivation["mass_matrices"].M_P2_vacuum
    forward = dict(s.substitution)
    for sym, k in s.counting:
        forward[sym] = s.epsilon**k * sp.Symbol(sym.name + "_hat", positive=True)
    return pt.taylor(M.applyfunc(lambda e: sp.expand(e.xreplace(forward))), s.epsilon, top)


@pytest.mark.slow
@pytest.mark.parametrize("which", ["S", "P"])
def test_builtin_blocks_diagonalized_symbolically(derivation, which):
    T = _vacuum_series(derivation, which)
    result = pt.diagonalize(T, 2, 2)
    assert min(result.mixing_orders) >= 2
    _series_check(T, result, 2)


def test_stage_orders_and_structure(derivation):
    s = derivation["spectrum"]
    assert s.order == 2 and s.mixing_order == 1 and s.stationary
    assert str(s.definition) == "v_1/v_a"
    assert [st.level for st in s.scalars] == [2, 2, 0, 0]
    assert [st.level for st in s.pseudoscalars] == [2, 2, 2, 0]
    assert all(st.mixing_order >= 1 for st in s.scalars + s.pseudoscalars)
    # the a-b exchange symmetry splits both blocks into symmetric and antisymmetric sectors
    assert sorted(st.sector for st in s.scalars) == ["+", "+", "+", "-"]
    v_1 = sp.Symbol("v_1", real=True)
    assert all(sp.expand(st.mass2).has(v_1) for st in s.scalars[:2])


def test_reported_U_is_orthogonal_through_its_order(derivation):
    """U_S, U_P as reported (through eps^1): U^T U = 1 + O(eps^2), U^T M U off-diagonal O(eps^2)."""
    s = derivation["spectrum"]
    for U_series, which in ((s.U_S_series, "S"), (s.U_P_series, "P")):
        T = _vacuum_series(derivation, which, top=2)
        n = T[0].rows
        for k in range(2):
            O = sp.zeros(n, n)
            R = sp.zeros(n, n)
            for a in range(k + 1):
                O += U_series[a].T * U_series[k - a]
                for b in range(k - a + 1):
                    R += U_series[a].T * T[b] * U_series[k - a - b]
            O = O.applyfunc(lambda x: sp.cancel(sp.radsimp(x)))
            assert O == (sp.eye(n) if k == 0 else sp.zeros(n, n))
            R = R.applyfunc(lambda x: sp.cancel(sp.radsimp(x)))
            assert all(R[i, j] == 0 for i in range(n) for j in range(n) if i != j)


@pytest.mark.slow
def test_toy_hierarchy_with_seesaw_and_degeneracy():
    """Light 2x2 block degenerate at eps^0, split at eps^2 by the light block and the seesaw."""
    M0 = sp.Matrix([[0, 0, 0], [0, 0, 0], [0, 0, 3]])
    M1 = sp.Matrix([[0, 0, 1], [0, 0, 2], [1, 2, 0]])
    M2 = sp.Matrix([[2, 1, 0], [1, 5, 0], [0, 0, 1]])
    T = [M0, M1, M2] + [sp.zeros(3, 3)] * 6
    result = pt.diagonalize(T, 4, 4)
    assert min(result.mixing_orders) >= 4
    _series_check(T, result, 4)
    for e in (0.02, 0.01):
        M = np.array((M0 + e * M1 + e**2 * M2).tolist(), dtype=float)
        exact = np.sort(np.linalg.eigvalsh(M))
        approx = np.sort([float(sum(c * e**k for k, c in enumerate(ev))) for ev in result.eigenvalues])
        assert np.max(np.abs(exact - approx)) < 50 * e**5


def test_degenerate_block_beyond_the_orders_is_reported():
    """Fields 0 and 1 are degenerate through eps^2 and not exchange symmetric (they couple
    differently to field 2, at eps^3): with orders through eps^2 their basis is not fixed."""
    M2 = sp.diag(3, 3, 7)
    M3 = sp.Matrix([[0, 0, 1], [0, 0, 2], [1, 2, 0]])
    T = [sp.zeros(3, 3), sp.zeros(3, 3), M2, M3]
    result = pt.diagonalize(T, 2, 1, max_order=2)
    assert [ev[2] for ev in result.eigenvalues] == [3, 3, 7]
    assert result.mixing_orders[:2] == (-1, -1) and result.degenerate == ((0, 1),)
    assert any("degenerate" in note for note in result.notes)
    # with two more orders the seesaw through field 2 splits them: (2, -1)/sqrt5 stays at 3 eps^2
    resolved = pt.diagonalize(T + [sp.zeros(3, 3)] * 4, 4, 1)
    assert min(resolved.mixing_orders) >= 1 and not resolved.degenerate
    values = sorted(tuple(ev) for ev in resolved.eigenvalues)
    assert (0, 0, 3, 0, 0) in values


def test_irrational_leading_block_keeps_square_roots():
    a, b, c = sp.symbols("a b c", positive=True)
    M0 = sp.Matrix([[a, b], [b, c]])
    result = pt.diagonalize([M0, sp.zeros(2, 2)], 0, 0)
    found = sorted((sp.simplify(ev[0]) for ev in result.eigenvalues), key=str)
    expected = sorted((sp.simplify(x) for x in M0.eigenvals()), key=str)
    assert [sp.simplify(x - y) for x, y in zip(sorted(found, key=lambda e: e.subs({a: 1, b: 2, c: 3})),
                                                sorted(expected, key=lambda e: e.subs({a: 1, b: 2, c: 3})))] == [0, 0]
    assert any("square roots" in note for note in result.notes)


def _builtin_numbers(derivation, epsilon, values):
    """Exact eigenvalues (numpy) and perturbative ones of M_vacuum at v_1 = epsilon v_a, mu'_a = v_1 / 3."""
    s = derivation["spectrum"]
    m = derivation["mass_matrices"]
    sym = {p.name: p.symbol for p in derivation["operators"].parameters}
    point = {sym[k]: sp.nsimplify(v) for k, v in values.items()}
    point[sym["v_a"]] = sp.Integer(250)
    point[sym["v_1"]] = sp.nsimplify(epsilon) * 250
    point[sym["mup_a"]] = point[sym["v_1"]] / 3
    out = {}
    for cp, M, states in (("S", m.M_S2_vacuum, s.scalars), ("P", m.M_P2_vacuum, s.pseudoscalars)):
        exact = np.sort(np.linalg.eigvalsh(np.array(M.xreplace(point).tolist(), dtype=float)))
        approx = np.sort([float(st.mass2.xreplace(point)) for st in states])
        out[cp] = (exact, approx)
    return out


COUPLINGS = {"lambda_1": 5.93, "lambda_13": 6.08, "lambdap_13": 0.65, "lambda_1a": 0.97, "lambda_1ab": -2.5,
             "lambda_a": 6.54, "lambda_ab": 1.82}


def test_error_falls_like_the_next_order(derivation):
    """Masses^2 through eps^2: |exact - perturbative| / v_a^2 falls like eps^4 (the spectrum is even in eps)."""
    errors = []
    epsilons = (0.04, 0.02, 0.01)
    for e in epsilons:
        numbers = _builtin_numbers(derivation, e, COUPLINGS)
        errors.append(np.concatenate([np.abs(ex - ap) for ex, ap in numbers.values()]) / 250**2)
    errors = np.array(errors)
    for state in range(errors.shape[1]):
        if errors[0, state] < 1e-12:  # exact at this order (e.g. antisymmetric a-b states)
            continue
        slopes = np.log(errors[:-1, state] / errors[1:, state]) / np.log(2)
        assert np.all(np.abs(slopes - 4) < 0.3), (state, slopes)


@pytest.mark.slow
def test_higher_order_improves_by_two_powers(derivation, model):
    """Order 4 through the same machinery: the error falls like eps^6."""
    t = derivation["tadpoles"]
    m = derivation["mass_matrices"]
    s4 = pt.spectrum(model, derivation["operators"], t, m, order=4, mixing_order=1)
    sym = {p.name: p.symbol for p in derivation["operators"].parameters}
    errors = []
    for e in (0.04, 0.02):
        point = {sym[k]: sp.nsimplify(v) for k, v in COUPLINGS.items()}
        point.update({sym["v_a"]: sp.Integer(250), sym["v_1"]: sp.nsimplify(e) * 250})
        point[sym["mup_a"]] = point[sym["v_1"]] / 3
        exact = np.sort(np.linalg.eigvalsh(np.array(m.M_S2_vacuum.xreplace(point).tolist(), dtype=float)))
        approx = np.sort([float(st.mass2.xreplace(point)) for st in s4.scalars])
        errors.append(np.abs(exact - approx) / 250**2)
    errors = np.array(errors)
    for state in range(errors.shape[1]):
        if errors[0, state] < 1e-12:
            continue
        slope = np.log(errors[0, state] / errors[1, state]) / np.log(2)
        assert abs(slope - 6) < 0.4, (state, slope)


def test_effective_blocks_handle_near_degeneracy():
    """Light states split at eps^2 by a tiny delta and mixed at eps^3: expanding in the splitting
    fails, the effective 2x2 block (through eps^4) diagonalized exactly does not."""
    delta = sp.Rational(1, 1000)
    M0 = sp.diag(0, 0, 4)
    M1 = sp.Matrix([[0, 0, 2], [0, 0, 0], [2, 0, 0]])  # seesaw -1 on field 0
    M2 = sp.diag(2, 1 + delta, 0)  # light block at eps^2: diag(1, 1 + delta)
    M3 = sp.Matrix([[0, 1, 0], [1, 0, 0], [0, 0, 0]])
    T = [M0, M1, M2, M3] + [sp.zeros(3, 3)] * 4
    e = 0.05
    M = np.array((M0 + e * M1 + e**2 * M2 + e**3 * M3).tolist(), dtype=float)
    exact = np.sort(np.linalg.eigvalsh(M))
    blocks = pt.block_diagonalize(T, 4)
    assert sorted(b.hamiltonian[0].shape[0] for b in blocks) == [1, 2]
    effective = []
    for b in blocks:
        H = sum((h * e**k for k, h in enumerate(b.hamiltonian)), sp.zeros(*b.hamiltonian[0].shape))
        effective.extend(np.linalg.eigvalsh(np.array(H.tolist(), dtype=float)))
        # the basis is orthonormal through eps^4
        B = sum((c * e**k for k, c in enumerate(b.basis)), sp.zeros(*b.basis[0].shape))
        B = np.array(B.tolist(), dtype=float)
        assert np.allclose(B.T @ B, np.eye(B.shape[1]), atol=10 * e**5)
    assert np.max(np.abs(np.sort(effective) - exact)) < 10 * e**5
    expanded = pt.diagonalize(T, 4, 1)
    series = np.sort([float(sum(c * e**k for k, c in enumerate(ev))) for ev in expanded.eigenvalues])
    assert np.max(np.abs(series - exact)) > 100 * np.max(np.abs(np.sort(effective) - exact))


@pytest.mark.slow
def test_changed_charge_variant_spectrum(variant_path):
    """phi3 of charge 2: the phi3 rephasing stays an exact symmetry (mu' breaks only the a, b
    phases), so one CP-odd state is exactly massless; the expansion is checked symbolically."""
    from symflav.core import spec

    derivation = pipeline.run(spec.load(str(variant_path)), until="spectrum")
    s = derivation["spectrum"]
    assert s.stationary and len(s.scalars) == 4 and len(s.pseudoscalars) == 4
    assert sum(1 for st in s.pseudoscalars if st.mass2 == 0) == 1
    for which in ("S", "P"):
        T = _vacuum_series(derivation, which)
        result = pt.diagonalize(T, 2, 2)
        _series_check(T, result, 2)
