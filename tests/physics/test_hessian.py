"""Mass matrices (eqs. A.4-A.6): symmetry, an independent numeric Hessian, the Goldstone theorem."""

from __future__ import annotations

import random

import mpmath
import pytest
import sympy as sp

from symflav import pipeline
from symflav.numerics import minimizer as numeric
from symflav.core import spec
from symflav.physics import vacuum


def _derivation(charges=()):
    return pipeline.run(spec.load(charges=list(charges)), until="mass_matrices")


@pytest.fixture(scope="module")
def derivation():
    return _derivation()


VARIANTS = [(), ("phi3=2",), ("phia=1/2", "phib=3/2")]


@pytest.mark.slow
@pytest.mark.parametrize("charges", VARIANTS)
def test_mass_matrices_are_symmetric_and_cp_blocks_decouple(charges):
    m = _derivation(charges)["mass_matrices"]
    for M in (m.M_S2, m.M_P2, m.M_S2_imposed, m.M_P2_imposed, m.M_S2_vacuum, m.M_P2_vacuum):
        assert sp.expand(M - M.T).is_zero_matrix
    assert m.M_SP2.is_zero_matrix


@pytest.mark.slow
def test_hessian_matches_mpmath_finite_differences(derivation):
    """Independent route: central differences of the holomorphic V at 40 digits."""
    pot = derivation["potential"]
    m = derivation["mass_matrices"]
    t = derivation["tadpoles"]
    rng = random.Random(5)
    values = {s: sp.Rational(rng.randint(-30, 30), 7) for s in pot.expr.free_symbols
              if s not in pot.phi + pot.phibar}
    vevs = [sp.Rational(rng.randint(20, 300), 3) * rng.choice([1, -1]) for _ in t.vevs]
    values.update(dict(zip(t.vevs, vevs)))
    mpmath.mp.dps = 40
    f = sp.lambdify(pot.phi + pot.phibar, pot.expr.xreplace(values), "mpmath")
    n = len(pot.phi)

    def V(shift_re, shift_im):
        phi = [mpmath.mpf(sp.Rational(v).p) / sp.Rational(v).q + shift_re[i] + 1j * shift_im[i] for i, v in enumerate(vevs)]
        return f(*phi, *[mpmath.conj(p) for p in phi]).real

    h = mpmath.mpf("1e-12")
    for block, M in (("re", m.M_S2), ("im", m.M_P2)):
        numeric_M = M.xreplace(values)
        for i in range(n):
            for j in range(n):
                def shifted(a, b):
                    s = [mpmath.mpf(0)] * n
                    s[i] += a
                    s[j] += b
                    zero = [mpmath.mpf(0)] * n
                    return V(s, zero) if block == "re" else V(zero, s)
                d2 = (shifted(h, h) - shifted(h, -h) - shifted(-h, h) + shifted(-h, -h)) / (4 * h * h)
                expected = float(m.factor) * d2
                assert abs(float(numeric_M[i, j]) - float(expected)) <= 1e-9 * (1 + abs(float(expected)))


def _goldstone_count(derivation, with_breaking: bool) -> int:
    """Zero eigenvalues of M_P^2 at a generic stationary point (every mu_i^2 eliminated, no relations)."""
    table = derivation["operators"]
    t = derivation["tadpoles"]
    masses = []
    for op in table.in_potential:
        if op.monomial.degree == 2 and op.monomial.is_hermitian:
            masses.append(op.coefficient.base)
    conditions = vacuum.independent_conditions(t.general, t.vevs)
    eliminated, constraints, _ = vacuum.eliminate(conditions, tuple(masses))
    assert not constraints and len(eliminated) == len(t.vevs)
    off = {}
    if not with_breaking:
        for op in table.in_potential:
            if op.status == "explicit_breaking":
                off.update({s: 0 for s in op.coefficient.free_symbols})
    subs = {mu: sp.sqrt(e.xreplace(off)) for mu, e in eliminated}
    M = derivation["mass_matrices"].M_P2.applyfunc(lambda e: sp.cancel(e.xreplace(off).xreplace(subs)))
    lam = sp.Dummy("lam")
    coefficients = M.charpoly(lam).all_coeffs()[::-1]
    zeros = 0
    for c in coefficients:
        if sp.cancel(c) != 0:
            break
        zeros += 1
    return zeros, M


@pytest.mark.slow
@pytest.mark.parametrize("charges,expected", [((), 2), (("phi3=2",), 3), (("phia=1/2", "phib=3/2"), 1)])
def test_goldstone_theorem(charges, expected):
    """Explicit breaking off: #massless CP-odd states = #U(1)s of the operator table (footnote 5: 2)."""
    derivation = _derivation(charges)
    generators = numeric.u1_generators(derivation["operators"], include_breaking=False)
    assert len(generators) == expected
    zeros, M = _goldstone_count(derivation, with_breaking=False)
    assert zeros == expected
    # each U(1) direction (q_i v_i) is a massless mode
    vevs = derivation["tadpoles"].vevs
    for q in generators:
        direction = sp.Matrix([qi * v for qi, v in zip(q, vevs)])
        assert (M * direction).applyfunc(sp.cancel).is_zero_matrix


@pytest.mark.slow
def test_explicit_breaking_lifts_the_goldstones(derivation):
    assert numeric.u1_generators(derivation["operators"], include_breaking=True) == []
    zeros, _ = _goldstone_count(derivation, with_breaking=True)
    assert zeros == 0


def test_vacuum_matrices_have_the_alignment_structure(derivation):
    """With the relations, the heavy fields couple to sigma_1 - 2 sigma_3 only: (2, 1)/sqrt5 is exact."""
    M = derivation["mass_matrices"].M_S2_vacuum
    light = sp.Matrix([2, 1, 0, 0])
    image = (M * light).applyfunc(sp.expand)
    assert image[2] == 0 and image[3] == 0
    ratio = sp.cancel(image[0] / light[0] - image[1] / light[1])
    assert ratio == 0
