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

import dataclasses
from dataclasses import dataclass

import numpy as np
import sympy as sp

MAX_ITERATIONS = 100
CORRECTOR_ITERATIONS = 12  # Newton steps of a continuation step (from a tangent prediction)
SUBSTEPS = 8  # the largest continuation step is 1/SUBSTEPS of the way between two requested couplings


class Terms:
    """A real polynomial as coefficients and exponent rows: sum_k c_k prod_i x_i^E_ki."""

    def __init__(self, expr: sp.Expr, variables):
        poly = sp.Poly(sp.sympify(expr), *variables) if variables else None
        if poly is None or poly.is_zero:
            self.coefficients, self.exponents = np.zeros(0), np.zeros((0, len(variables)), dtype=int)
        else:
            self.coefficients = np.array([complex(c) for c in poly.coeffs()])
            if np.abs(self.coefficients.imag).max() > 1e-9 * max(np.abs(self.coefficients).max(), 1.0):
                raise ValueError("the potential is not real")
            self.coefficients = self.coefficients.real
            self.exponents = np.array(poly.monoms(), dtype=int)

        n = self.exponents.shape[1]
        self.degree = int(self.exponents.max()) if self.exponents.size else 0
        # d/dx_i and d^2/dx_i dx_j as weights and exponents of the same monomials, computed once
        first_w, first_e = [], []
        for i in range(n):
            e = self.exponents.copy()
            e[:, i] -= 1
            first_w.append(self.coefficients * self.exponents[:, i])
            first_e.append(np.maximum(e, 0))
        second_w, second_e, self._pairs = [], [], []
        for i in range(n):
            for j in range(i, n):
                e = self.exponents.copy()
                e[:, i] -= 1
                weight = self.exponents[:, i] * e[:, j]
                e[:, j] -= 1
                second_w.append(self.coefficients * weight)
                second_e.append(np.maximum(e, 0))
                self._pairs.append((i, j))
        self._first = (np.array(first_w).reshape(n, -1), np.array(first_e, dtype=int).reshape(n, -1, n))
        self._second = (np.array(second_w).reshape(len(self._pairs), -1),
                        np.array(second_e, dtype=int).reshape(len(self._pairs), -1, n))

    def _monomials(self, x, exponents):
        """prod_i x_i^E[..., i] over the last axis of an exponent array."""
        powers = np.power.outer(np.asarray(x, float), np.arange(self.degree + 1))  # [i, k] = x_i^k
        n = exponents.shape[-1]
        return np.prod(powers[np.arange(n), exponents], axis=-1)

    def value(self, x) -> float:
        return float(self.coefficients @ self._monomials(x, self.exponents))

    def gradient(self, x) -> np.ndarray:
        w, e = self._first
        return np.sum(w * self._monomials(x, e), axis=-1)

    def hessian(self, x) -> np.ndarray:
        w, e = self._second
        values = np.sum(w * self._monomials(x, e), axis=-1)
        n = self.exponents.shape[1]
        out = np.zeros((n, n))
        for (i, j), v in zip(self._pairs, values):
            out[i, j] = out[j, i] = v
        return out


@dataclass(frozen=True)
class Polynomial:
    """Value, gradient and Hessian of ``V0 + c V1`` (exact, from the monomials; numpy)."""

    variables: tuple[sp.Symbol, ...]
    v0: Terms
    v1: Terms

    @classmethod
    def of(cls, v0: sp.Expr, v1: sp.Expr, variables) -> "Polynomial":
        """``v0``, ``v1``: sympy polynomials whose only symbols are ``variables``."""
        variables = tuple(variables)
        extra = (sp.sympify(v0).free_symbols | sp.sympify(v1).free_symbols) - set(variables)
        if extra:
            raise ValueError(f"the potential has symbols without values: {', '.join(sorted(map(str, extra)))}")
        return cls(variables, Terms(v0, variables), Terms(v1, variables))

    def gradient(self, x, c: float) -> np.ndarray:
        return self.v0.gradient(x) + c * self.v1.gradient(x)

    def hessian(self, x, c: float) -> np.ndarray:
        return self.v0.hessian(x) + c * self.v1.hessian(x)

    def value(self, x, c: float) -> float:
        return self.v0.value(x) + c * self.v1.value(x)


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
    branch_end: float | None = None  # the benchmark's branch was last followed to this coupling (it ends before c)


def stationary_point(poly: Polynomial, c: float, start=None, *, factor: float = 1.0,
                     tolerance: float = 1e-9, iterations: int = MAX_ITERATIONS) -> Stationary:
    """Damped Newton from ``start`` (default: the benchmark x = 0) to grad V = 0 at coupling ``c``;
    converged when |grad V| <= tolerance * (|grad V(start)| + |dV/dx scale|) -- the scale is
    the norm of the Hessian times 1 GeV, so the criterion is in units of the curvature."""
    n = len(poly.variables)
    x = np.zeros(n) if start is None else np.asarray(start, float).copy()
    scale = max(np.linalg.norm(poly.hessian(np.zeros(n), 0.0)), 1.0)
    g = poly.gradient(x, c)
    limit, iterations, converged = iterations, 0, np.linalg.norm(g) <= tolerance * scale
    while not converged and iterations < limit:
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


def _continue(poly: Polynomial, x, start: float, stop: float) -> tuple[np.ndarray, float]:
    """Predictor-corrector continuation of the stationary point ``x`` at ``start`` towards
    ``stop``: predict along the tangent dx/dc = -H^{-1} grad V1, correct by Newton, accept when
    the correction is small against the predicted move (else halve the step). Returns the last
    point and the coupling reached (``stop`` unless the branch ends: a fold, where the tangent
    diverges and no nearby stationary point continues it)."""
    c, step = start, (stop - start) / SUBSTEPS
    smallest = abs(stop - start) * 1e-3  # the fold is located to 1e-3 of the interval
    while (stop - c) * np.sign(stop - start) > 0:
        dc = step if abs(step) < abs(stop - c) else stop - c
        tangent = -np.linalg.lstsq(poly.hessian(x, c), poly.v1.gradient(x), rcond=None)[0]
        predicted = x + dc * tangent
        found = stationary_point(poly, c + dc, predicted, iterations=CORRECTOR_ITERATIONS)
        move = np.linalg.norm(dc * tangent)
        if found.converged and np.linalg.norm(found.x - predicted) <= 0.5 * move + 1e-8 * (1 + np.linalg.norm(x)):
            x, c = found.x, c + dc
            step = 2 * step if abs(2 * step) <= abs(stop - start) / SUBSTEPS else step
        else:
            step /= 2
            if abs(step) < smallest:
                return x, c
    return x, stop


def follow(poly: Polynomial, couplings, *, factor: float = 1.0) -> list[Stationary]:
    """The stationary point at each coupling, continued from the benchmark (c = 0, x = 0)
    through the smaller couplings of the same sign (:func:`_continue`), so each one lies on the
    benchmark's branch. Where the branch has ended before a coupling, the result is the minimum
    that a descent from the benchmark reaches there, with ``branch_end`` the coupling where the
    branch was last followed."""
    out = {}
    n = len(poly.variables)
    for sign in (1, -1):
        x, previous, ended = np.zeros(n), 0.0, None
        for c in sorted((float(c) for c in couplings if sign * float(c) > 0), key=abs):
            if ended is None:
                x, reached = _continue(poly, x, previous, c)
                if reached == c:
                    out[c] = stationary_point(poly, c, x, factor=factor)
                    previous = c
                    continue
                ended = reached
            out[c] = dataclasses.replace(local_minimum(poly, c, factor=factor), branch_end=ended)
    if any(float(c) == 0 for c in couplings):
        out[0.0] = stationary_point(poly, 0.0, factor=factor)
    return [out[float(c)] for c in couplings]


def first_order_shift(poly: Polynomial) -> np.ndarray:
    """dx/dc at c = 0: -H^{-1} dT/dc with H the Hessian of V0 and dT/dc = grad V1 at the benchmark."""
    n = len(poly.variables)
    zero = np.zeros(n)
    return -np.linalg.lstsq(poly.hessian(zero, 0.0), poly.v1.gradient(zero), rcond=None)[0]


def local_minimum(poly: Polynomial, c: float = 0.0, start=None, *, factor: float = 1.0,
                  tolerance: float = 1e-9) -> Stationary:
    """The local minimum that a descent from ``start`` (default: the benchmark) reaches at
    coupling ``c``: saddle-free Newton steps (the Hessian with its eigenvalues replaced by their
    absolute values, floored at 1e-12 of the largest; at a negative curvature also 1 GeV
    downhill along it), halved until V decreases; then
    :func:`stationary_point` polishes the result. ``minimum`` says whether it is one."""
    n = len(poly.variables)
    x = np.zeros(n) if start is None else np.asarray(start, float).copy()
    scale = max(np.linalg.norm(poly.hessian(np.zeros(n), 0.0)), 1.0)
    for _ in range(MAX_ITERATIONS):
        g = poly.gradient(x, c)
        w, U = np.linalg.eigh(poly.hessian(x, c))
        if np.linalg.norm(g) <= tolerance * scale and (w >= 0).all():
            break
        floor = 1e-12 * max(abs(w).max(), 1.0)
        step = -U @ ((U.T @ g) / np.maximum(np.abs(w), floor))
        if w[0] < 0:  # leave a saddle downhill along its most negative curvature (a 1 GeV probe)
            v = U[:, 0]
            step += -v if v @ g > 0 else v
        t, f0 = 1.0, poly.value(x, c)
        while t > 1e-8 and poly.value(x + t * step, c) >= f0:
            t /= 2
        if t <= 1e-8:
            break
        x = x + t * step
    return stationary_point(poly, c, x, factor=factor, tolerance=tolerance)
