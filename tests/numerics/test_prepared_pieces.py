"""The point-independent pieces of the observables (``observables.Prepared``), built once per
derivation and passed to the evaluation of every point, change nothing: the same numbers as an
evaluation that builds its own, on a toy model (three leptons) at two different points, and the
unperturbed masses they give agree with an independent route (the diagonal of the numeric
Hessian of V in the complex fields, by central finite differences). The same for the potential
expanded once in x = (Re phi, Im phi): at rational values, the same polynomial as V expanded at
the point."""

from __future__ import annotations

import json
import pickle

import numpy as np
import pytest
import sympy as sp

from conftest import REPO
from symflav import pipeline
from symflav.core import serialize, spec
from symflav.core.stages import Derivation
from symflav.numerics import minimizer as numeric
from symflav.numerics import observables, points
from symflav.physics import flavor


@pytest.fixture(scope="module")
def three():
    """The three-lepton toy through the observables stage, and two points on its vacuum with the
    mu^2 eliminated: ``bench`` and the same with other free vevs (a different spectrum)."""
    derivation = pipeline.run(spec.load(str(REPO / "tests" / "models" / "three_leptons")), until="observables")
    model = derivation.model
    given, _, _ = points.point_values(model, "bench", {})
    evaluations = []
    for scale in (1, sp.Rational(5, 4)):
        symbols = points.given_symbols(model, given)
        for _, v in model.vacuum.vevs:
            symbols[v] = symbols[v] * scale
        vacuum = points.eliminated_vacuum(derivation, symbols)
        exact = vacuum.exact
        spectrum = {"scalar_masses": np.sqrt(exact.scalar_masses2),
                    "pseudoscalar_masses": np.sqrt(exact.pseudoscalar_masses2), "U_S": exact.U_S, "U_P": exact.U_P}
        evaluations.append(({**vacuum.values, **vacuum.vevs}, spectrum))
    return derivation, evaluations


def _text(result) -> str:
    return json.dumps(observables._plain(result), sort_keys=True)


def test_shared_prepared_pieces_give_the_same_observables_at_every_point(three):
    derivation, evaluations = three
    prepared = observables.Prepared.of(derivation)
    for values, spectrum in evaluations:
        alone = observables.evaluate(derivation, values, spectrum, route="test", point="bench")
        shared = observables.evaluate(derivation, values, spectrum, route="test", point="bench", prepared=prepared)
        assert _text(shared) == _text(alone)
    first, second = (observables.evaluate(derivation, v, s, prepared=prepared) for v, s in evaluations)
    assert first["mass_basis"]["leptons"] != second["mass_basis"]["leptons"]  # two different points


def test_vacuum_unperturbed_masses_are_the_diagonal_of_the_complex_hessian(three):
    derivation, evaluations = three
    model, pot = derivation.model, derivation["potential"]
    values, _ = evaluations[1]
    prepared = observables.Prepared.of(derivation)
    masses = observables.unperturbed_masses(model, derivation.results, values, "vacuum",
                                            prepared.coefficients["vacuum"])
    V = sp.lambdify(pot.phi + pot.phibar, pot.expr.xreplace(values), "mpmath")
    vacuum = [complex(sp.N(flavor.field_value(model, name).xreplace(values), 30)) for name in pot.fields]
    h = 1e-2
    for a, name in enumerate(pot.fields):
        # d^2V/dphi_a dphibar_a with phi and phibar independent: a mixed central difference
        def at(dp, dq):
            phi = list(vacuum)
            bar = [z.conjugate() for z in vacuum]
            phi[a] += dp
            bar[a] += dq
            return complex(V(*phi, *bar))
        second = (at(h, h) - at(h, -h) - at(-h, h) + at(-h, -h)) / (4 * h * h)
        assert masses[name] == pytest.approx(np.sqrt(abs(second.real)), rel=1e-6), name


def test_potential_expanded_once_is_the_potential_expanded_at_the_point(three):
    derivation, evaluations = three
    pot = derivation["potential"]
    expansion = numeric.PotentialExpansion(pot)
    rational = {k: sp.nsimplify(v) for k, v in evaluations[0][0].items() if k in pot.expr.free_symbols}
    rational = {k: v if v.is_Rational else sp.Rational(str(sp.N(v, 12))) for k, v in rational.items()}
    fast, general = expansion.at(rational), numeric.PolynomialPotential(pot, rational)
    assert fast.expr is None  # the prepared route was taken
    assert np.array_equal(fast._poly.E, general._poly.E) and np.array_equal(fast._poly.c, general._poly.c)
    # an independent route: V(phi, phibar) itself, phi = x + i y
    f = sp.lambdify(pot.phi + pot.phibar, pot.expr.xreplace(rational), "numpy")
    rng = np.random.default_rng(3)
    for x in rng.normal(scale=300.0, size=(5, 2 * len(pot.phi))):
        phi = x[: len(pot.phi)] + 1j * x[len(pot.phi):]
        assert fast.value(x) == pytest.approx(complex(f(*phi, *phi.conjugate())).real, rel=1e-10)
    surd = {**rational, next(iter(rational)): sp.sqrt(2)}
    assert expansion.at(surd).expr is not None  # not rational: expanded at the point, as before


def test_a_spectrum_from_the_stored_pieces_is_the_spectrum_without_them(three):
    """The pieces as the stage cache keeps them (exact pickle, read back) give the same spectrum,
    byte for byte, as an evaluation that derives them itself."""
    derivation, _ = three
    pieces = points.point_pieces(derivation.model, derivation.results)
    data, _, _ = serialize.dumps(pieces, check=True)
    stored = Derivation(derivation.model, {**derivation.results, "point_pieces": pickle.loads(data)},
                        derivation.reports)
    assert pieces.unperturbed and len(pieces.expansion_terms) > 5
    with_pieces, without = (json.dumps(points.evaluate(d, "bench", starts=4), sort_keys=True)
                            for d in (stored, derivation))
    assert with_pieces == without
