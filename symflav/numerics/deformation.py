"""A potential deformed by one coupling: the stationary point and the masses as the coupling grows.

``V(x; c) = V0(x) + c V1(x)`` is a real polynomial in the real field components ``x`` (GeV);
``x = 0`` is a stationary point of ``V0`` (the benchmark vacuum). For each value of ``c``
the stationary point is re-solved from the benchmark (damped Newton on the exact gradient
with the exact Hessian; the step is halved until |grad V| decreases), and the squared masses are
the eigenvalues of ``factor * d^2V/dx_i dx_j`` at that point (``factor``: the mass-matrix
normalization of the model's conventions). :func:`first_order_shift` gives the independent
first-order route ``dx/dc = -H^{-1} dT/dc`` (T = grad V).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sympy as sp

MAX_ITERATIONS = 200
SUBSTEPS = 8  # intermediate couplings between two requested ones (continuation of the branch)


@dataclass(frozen=True)
class Polynomial:
    """Gradient and Hessian of ``V0 + c V1`` compiled once (numpy functions of x)."""

    variables: tuple[sp.Symbol, ...]
    grad0: object
    hess0: object
    grad1: object
    hess1: object
    value0: object
    value1: object

    @classmethod
    def of(cls, v0: sp.Expr, v1: sp.Expr, variables) -> "Polynomial":
        """Compile ``v0``, ``v1`` (sympy polynomials whose only symbols are ``variables``)."""
        variables = tuple(variables)
        extra = (sp.sympify(v0).free_symbols | sp.sympify(v1).free_symbols) - set(variables)
        if extra:
            raise ValueError(f"the potential has symbols without values: {', '.join(sorted(map(str, extra)))}")

        def compile_(expr):
            grad = [sp.diff(expr, x) for x in variables]
            hess = [[sp.diff(g, y) for y in variables] for g in grad]
            return (sp.lambdify([variables], grad, "numpy"), sp.lambdify([variables], hess, "numpy"),
                    sp.lambdify([variables], expr, "numpy"))

        g0, h0, f0 = compile_(sp.sympify(v0))
        g1, h1, f1 = compile_(sp.sympify(v1))
        return cls(variables, g0, h0, g1, h1, f0, f1)

    def gradient(self, x, c: float) -> np.ndarray:
        return np.asarray(self.grad0(x), float) + c * np.asarray(self.grad1(x), float)

    def hessian(self, x, c: float) -> np.ndarray:
        return np.asarray(self.hess0(x), float) + c * np.asarray(self.hess1(x), float)

    def value(self, x, c: float) -> float:
        return float(self.value0(x)) + c * float(self.value1(x))


@dataclass(frozen=True)
class Stationary:
    """The stationary point at one value of the coupling."""

    coupling: float
    x: np.ndarray  # GeV, shifts of the field components from the benchmark
    gradient_norm: float  # GeV^3
    converged: bool
    iterations: int
    squared_masses: np.ndarray  # GeV^2, eigenvalues of factor * Hessian, ascending
    vectors: np.ndarray  # eigenvectors (columns), rows in the order of the variables
    minimum: bool  # every squared mass >= 0 (up to the tolerance of flat directions)
    value: float  # V(x; c) - V(0; 0), GeV^4


def stationary_point(poly: Polynomial, c: float, start=None, *, factor: float = 1.0,
                     tolerance: float = 1e-9) -> Stationary:
    """Damped Newton from ``start`` (default: the benchmark x = 0) to grad V = 0 at coupling ``c``;
    converged when |grad V| <= tolerance * (|grad V(start)| + |dV/dx scale|) -- the scale is
    the norm of the Hessian times 1 GeV, so the criterion is in units of the curvature."""
    n = len(poly.variables)
    x = np.zeros(n) if start is None else np.asarray(start, float).copy()
    scale = max(np.linalg.norm(poly.hessian(np.zeros(n), 0.0)), 1.0)
    g = poly.gradient(x, c)
    iterations, converged = 0, np.linalg.norm(g) <= tolerance * scale
    while not converged and iterations < MAX_ITERATIONS:
        iterations += 1
        H = poly.hessian(x, c)
        step = np.linalg.lstsq(H, -g, rcond=None)[0]
        t, norm = 1.0, np.linalg.norm(g)
        while t > 1e-6:
            trial = x + t * step
            g_trial = poly.gradient(trial, c)
            if np.linalg.norm(g_trial) < norm:
                break
            t /= 2
        x, g = trial, g_trial
        converged = np.linalg.norm(g) <= tolerance * scale
    w, U = np.linalg.eigh(factor * poly.hessian(x, c))
    minimum = bool((w >= -1e-9 * max(abs(w).max(), 1.0)).all())
    return Stationary(float(c), x, float(np.linalg.norm(g)), bool(converged), iterations, w, U, minimum,
                      poly.value(x, c) - poly.value(np.zeros(n), 0.0))


def follow(poly: Polynomial, couplings, *, factor: float = 1.0) -> list[Stationary]:
    """The stationary point at each coupling, continued from the benchmark through the smaller
    couplings of the same sign and :data:`SUBSTEPS` values between them (so each coupling
    starts near the benchmark's branch; ``converged`` is False where the branch has ended)."""
    out = {}
    for sign in (1, -1):
        x, previous = None, 0.0
        for c in sorted((float(c) for c in couplings if sign * float(c) > 0), key=abs):
            for between in np.linspace(previous, c, SUBSTEPS + 1)[1:-1]:  # continuation
                step = stationary_point(poly, float(between), x, factor=factor)
                x = step.x if step.converged else x
            out[c] = stationary_point(poly, c, x, factor=factor)
            x, previous = out[c].x, c
    if any(float(c) == 0 for c in couplings):
        out[0.0] = stationary_point(poly, 0.0, factor=factor)
    return [out[float(c)] for c in couplings]


def first_order_shift(poly: Polynomial) -> np.ndarray:
    """dx/dc at c = 0: -H^{-1} dT/dc with H the Hessian of V0 and dT/dc = grad V1 at the benchmark."""
    n = len(poly.variables)
    zero = np.zeros(n)
    return -np.linalg.lstsq(poly.hessian(zero, 0.0), np.asarray(poly.grad1(zero), float), rcond=None)[0]
