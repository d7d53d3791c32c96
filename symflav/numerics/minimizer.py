"""Numerics at a parameter point: global minimum, exact spectrum, perturbative formulas beside it.

* :class:`PolynomialPotential` compiles V(phi) at numeric parameter values into a real
  polynomial in the 2n real components x = (Re phi_1..n, Im phi_1..n) -- the fields
  themselves, before any expansion -- with analytic gradient and Hessian (numpy only).
* :func:`local_minimum`: damped Newton (Hessian eigenvalues replaced by their absolute
  values, floored; backtracking line search; escapes saddles along negative curvature).
* :func:`find_minima`: seeded multi-start (analytic stationary points, given vevs, random
  starts on several scales), all starts minimized at once (:func:`local_minima`, the same
  steps vectorized over the starts), every distinct minimum with its gap to the lowest.
  Minima related by a rephasing symmetry have equal |phi_i| and equal V and are merged.
* :func:`rephase`: the rephasings theta with N theta = 0 mod 2 pi for every operator of
  the potential, explicit breaking included (N: net powers), i.e. only true symmetries,
  used to bring a minimum to real fields when possible.
* :func:`exact_spectrum`: mass matrices from the numeric Hessian at a minimum
  (M^2 = mass_matrix_factor * d^2V/dsigma^2, sigma the field of the declared expansion),
  eigenvalues and orthogonal U from ``numpy.linalg.eigh`` (ascending).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import sympy as sp
from sympy.matrices.normalforms import invariant_factors

from symflav.physics.potential import Potential


# ------------------------------------------------------------------ the compiled potential


class _Compiled:
    """A real polynomial sum_t c_t prod_i x_i^E_ti with value, gradient and Hessian.

    Many points are evaluated at once (:meth:`batch`) by :func:`family_of`: symmetric
    coefficient tensors up to degree 4, the monomials of V and its derivatives above.
    """

    def __init__(self, E: np.ndarray, c: np.ndarray):
        E = np.asarray(E, dtype=int).reshape(len(c), -1)
        c = np.asarray(c, dtype=float)
        m = E.shape[1]
        self.degree = int(E.max()) if E.size else 0
        self.m = m
        self.E, self.c = E, c
        eye = np.eye(m, dtype=int)
        # gradient: d/dx_j lowers E_tj by one, coefficient c_t E_tj
        self.gE = np.clip(E[None, :, :] - eye[:, None, :], 0, None)  # (m, T, m)
        self.gc = c[None, :] * E.T  # (m, T)
        # Hessian: d^2/dx_j dx_k for j <= k only
        self.pairs = np.array([(j, k) for j in range(m) for k in range(j, m)], dtype=int)
        J, Kk = self.pairs[:, 0], self.pairs[:, 1]
        Ejk = E[None, :, :] - eye[J][:, None, :] - eye[Kk][:, None, :]  # (P, T, m)
        factor = E[:, J].T * (E[:, Kk].T - (J == Kk).astype(int)[:, None])  # (P, T)
        self.hE = np.clip(Ejk, 0, None)
        self.hc = c[None, :] * factor
        self.family = family_of(E, c[:, None])

    @classmethod
    def from_expr(cls, expr: sp.Expr, variables) -> "_Compiled":
        poly = sp.Poly(expr, *variables)
        terms = poly.terms() or [((0,) * len(variables), 0)]
        return cls(np.array([t for t, _ in terms], dtype=int), np.array([float(v) for _, v in terms]))

    def _powers(self, x):
        return x[:, None] ** np.arange(self.degree + 1)[None, :]  # (m, d+1)

    def value(self, x) -> float:
        pw = self._powers(x)
        return float(self.c @ np.prod(pw[np.arange(self.m), self.E], axis=-1))

    def gradient(self, x) -> np.ndarray:
        pw = self._powers(x)
        return np.sum(self.gc * np.prod(pw[np.arange(self.m), self.gE], axis=-1), axis=-1)

    def hessian(self, x) -> np.ndarray:
        pw = self._powers(x)
        upper = np.sum(self.hc * np.prod(pw[np.arange(self.m), self.hE], axis=-1), axis=-1)
        H = np.zeros((self.m, self.m))
        H[self.pairs[:, 0], self.pairs[:, 1]] = upper
        H[self.pairs[:, 1], self.pairs[:, 0]] = upper
        return H

    def batch(self, X, derivatives: bool = True):
        """V (K,), and with ``derivatives`` the gradients (K, m) and Hessians (K, m, m), at X (K, m)."""
        X = np.asarray(X, dtype=float).reshape(-1, self.m)
        out = self.family.batch(X[None], derivatives)
        return tuple(a[0] for a in out) if derivatives else out[0]


class _Tensors:
    """Polynomials of degree <= 4 sharing their monomials, one per column of the coefficients
    C (T, P): symmetric tensors A_d (P, m, ..., m) with V_p(x) = sum_d A_d[p][x, ..., x]."""

    def __init__(self, E: np.ndarray, C: np.ndarray):
        E = np.asarray(E, dtype=int)
        C = np.asarray(C, dtype=float).reshape(len(E), -1)
        m = E.shape[1]
        self.m, self.P = m, C.shape[1]
        total = E.sum(axis=1)
        basis = [np.zeros((len(E), m**d)) for d in range(5)]  # term -> its symmetric tensor, flattened
        for t, (exps, d) in enumerate(zip(E, total)):
            index = tuple(i for i, k in enumerate(exps) for _ in range(k))
            perms = set(itertools.permutations(index))
            for perm in perms:
                basis[d][t, np.ravel_multi_index(perm, (m,) * d) if d else 0] += 1.0 / len(perms)
        A = [C.T @ b for b in basis]  # (P, m^d)
        self.A0 = A[0][:, 0]
        self.A1 = A[1]
        self.A2 = A[2].reshape(self.P, m, m)
        self.A3 = A[3].reshape(self.P, m * m, m)
        self.A4 = A[4].reshape(self.P, m * m, m * m)

    @staticmethod
    def applies(E) -> bool:
        E = np.asarray(E)
        return E.size == 0 or int(E.sum(axis=1).max()) <= 4

    def batch(self, X, derivatives: bool = True, members=None):
        """X (P, S, m): S points for each polynomial (or for the polynomials ``members``).
        V (P, S), gradients (P, S, m), Hessians (P, S, m, m)."""
        P, S, m = X.shape
        sel = slice(None) if members is None else np.asarray(members)
        A0, A1, A2, A3, A4 = self.A0[sel], self.A1[sel], self.A2[sel], self.A3[sel], self.A4[sel]
        XX = (X[:, :, :, None] * X[:, :, None, :]).reshape(P, S, m * m)
        T2 = (XX @ A4).reshape(P, S, m, m)  # A4[., ., x, x]
        S2 = np.swapaxes(A3 @ np.swapaxes(X, 1, 2), 1, 2).reshape(P, S, m, m)  # A3[., ., x]
        A2 = A2[:, None, :, :]
        values = A0[:, None] + np.einsum("psi,pi->ps", X, A1) + np.einsum("psij,psi,psj->ps", T2 + S2 + A2, X, X)
        if not derivatives:
            return values
        G = A1[:, None, :] + ((4.0 * T2 + 3.0 * S2 + 2.0 * A2) @ X[..., None])[..., 0]
        H = 12.0 * T2 + 6.0 * S2 + 2.0 * A2
        return values, G, H


class _Monomials:
    """Polynomials of any degree sharing their monomials, one per column of the coefficients
    C (T, P), the same interface as :class:`_Tensors`.

    Every monomial that V, a first or a second derivative of V contains (derivatives of
    monomials are monomials) is evaluated once per point as a product of powers of the x_i;
    V, the gradient and the Hessian are then linear in these values, with coefficients
    (per polynomial) computed once from C: V = sum_u mon_u CV_u, dV/dx_j = sum_u mon_u CG_uj,
    d^2V/dx_j dx_k = sum_u mon_u CH_ujk.
    """

    def __init__(self, E: np.ndarray, C: np.ndarray):
        E = np.asarray(E, dtype=int)
        C = np.asarray(C, dtype=float).reshape(len(E), -1)
        T, m = E.shape
        self.m, self.P = m, C.shape[1]
        index: dict[tuple[int, ...], int] = {}

        def slot(exponents) -> int:
            return index.setdefault(tuple(int(e) for e in exponents), len(index))

        value_terms = [(slot(E[t]), t, 1.0) for t in range(T)]
        self.value_monomials = np.array(sorted({u for u, _, _ in value_terms}), dtype=int)
        eye = np.eye(m, dtype=int)
        gradient_terms = [(slot(E[t] - eye[j]), t, j, float(E[t, j])) for t in range(T) for j in range(m) if E[t, j]]
        hessian_terms = []
        for t in range(T):
            for j in range(m):
                for k in range(m):
                    lowered = E[t] - eye[j] - eye[k]
                    if lowered.min() >= 0:
                        hessian_terms.append((slot(lowered), t, j * m + k, float(E[t, j] * (E[t, k] - (j == k)))))
        U = len(index)
        self.exponents = np.array(list(index), dtype=int).reshape(U, m)
        self.degree = int(self.exponents.max()) if self.exponents.size else 0
        LV = np.zeros((U, T))
        for u, t, factor in value_terms:
            LV[u, t] += factor
        LG = np.zeros((U, m, T))
        for u, t, j, factor in gradient_terms:
            LG[u, j, t] += factor
        LH = np.zeros((U, m * m, T))
        for u, t, jk, factor in hessian_terms:
            LH[u, jk, t] += factor
        self.CV = (LV @ C).T.copy()  # (P, U)
        self.CV_values = self.CV[:, self.value_monomials]  # (P, U_V): the monomials of V only
        self.CG = np.moveaxis(LG @ C, -1, 0).copy()  # (P, U, m)
        self.CH = np.moveaxis(LH @ C, -1, 0).copy()  # (P, U, m*m)

    def _monomials(self, X, which):
        """prod_i x_i^e_ui at X (P, S, m) for the monomials ``which`` (rows of the exponents)."""
        powers = X[..., None] ** np.arange(self.degree + 1)  # (P, S, m, d+1)
        exponents = self.exponents[which]  # (U, m)
        return np.prod(powers[:, :, np.arange(self.m)[None, :], exponents], axis=-1)  # (P, S, U)

    def batch(self, X, derivatives: bool = True, members=None):
        """X (P, S, m): S points for each polynomial (or for the polynomials ``members``).
        V (P, S), gradients (P, S, m), Hessians (P, S, m, m)."""
        P, S, m = X.shape
        sel = slice(None) if members is None else np.asarray(members)
        if not derivatives:
            return (self._monomials(X, self.value_monomials) @ self.CV_values[sel][:, :, None])[..., 0]
        mon = self._monomials(X, slice(None))
        values = (mon @ self.CV[sel][:, :, None])[..., 0]
        return values, mon @ self.CG[sel], (mon @ self.CH[sel]).reshape(P, S, m, m)


def family_of(E, C):
    """The batched evaluator of the polynomials with exponents E (T, m) and coefficients
    C (T, P): :class:`_Tensors` up to degree 4 (dense tensors, fastest there),
    :class:`_Monomials` for any degree."""
    return _Tensors(E, C) if _Tensors.applies(E) else _Monomials(E, C)


def real_components(potential: Potential) -> tuple[tuple, dict]:
    """The real variables x = (Re phi, Im phi) of ``potential`` and phi, phibar -> x +- i y."""
    n = len(potential.phi)
    x = sp.symbols(f"x0:{n}", real=True)
    y = sp.symbols(f"y0:{n}", real=True)
    subs = {}
    for p, pb, xi, yi in zip(potential.phi, potential.phibar, x, y):
        subs[p] = xi + sp.I * yi
        subs[pb] = xi - sp.I * yi
    return tuple(x) + tuple(y), subs


def _exact_values(values: dict) -> dict:
    """The values as sympy numbers (a float through ``nsimplify``, as everywhere in V)."""
    return {k: sp.nsimplify(v) if isinstance(v, float) else v for k, v in values.items()}


def _check_values(potential: Potential, expr) -> None:
    missing = sorted(str(s) for s in expr.free_symbols if s not in potential.phi + potential.phibar)
    if missing:
        raise ValueError("no value for " + ", ".join(missing))


class PotentialExpansion:
    """One potential in x = (Re phi, Im phi), expanded once with its parameters as symbols: its
    monomials and their coefficients (polynomials in the parameters; ``terms`` as
    ``sympy.Poly.terms``, given when stored). :meth:`at` gives the :class:`PolynomialPotential` at
    numeric values without expanding V again when every coefficient comes out a rational number
    there: both routes then hold the same exact coefficients, so the floats are the same bit for
    bit. Otherwise (a surd or a float left in a coefficient) V is expanded at the values, as before."""

    def __init__(self, potential: Potential, terms: tuple | None = None):
        self.potential = potential
        self.variables, subs = real_components(potential)
        if terms is None:
            terms = tuple(sp.Poly(sp.expand(potential.expr.xreplace(subs)), *self.variables).terms())
        self.terms = terms

    def at(self, values: dict) -> "PolynomialPotential":
        exact = _exact_values(values)
        rows = []
        for e, c in self.terms:
            value = sp.re(c.xreplace(exact))
            if not value.is_Rational:
                return PolynomialPotential(self.potential, values)
            if value:
                rows.append((e, value))
        rows = rows or [((0,) * len(self.variables), 0)]
        potential = self.potential
        V = PolynomialPotential.from_polynomial([e for e, _ in rows], [float(c) for _, c in rows], len(potential.phi),
                                                potential.fields, potential.conventions)
        V.variables = self.variables
        return V


class PolynomialPotential:
    """V(x), grad V(x), Hessian V(x) for x = (Re phi, Im phi) at numeric parameter values.

    ``values``: {parameter symbol: number}. A mass parameter mu whose mu^2 is negative
    may be given as ``sympy.sqrt(mu2)``: only mu**2 enters V.
    """

    def __init__(self, potential: Potential, values: dict):
        self.n = len(potential.phi)
        self.fields = potential.fields
        self.conventions = potential.conventions
        self.variables, subs = real_components(potential)
        expr = potential.expr.xreplace(_exact_values(values))
        _check_values(potential, expr)
        expr = sp.expand(expr.xreplace(subs))
        if expr.has(sp.I):
            expr = sp.expand(sp.re(expr))
        self.expr = expr
        self._poly = _Compiled.from_expr(expr, self.variables)
        self.scale = max(1.0, float(np.max(np.abs(self._poly.c))))

    @classmethod
    def from_polynomial(cls, exponents, coefficients, n: int, fields=(), conventions=None) -> "PolynomialPotential":
        """The same object from plain data: V = sum_t c_t prod x^E_t with x = (Re phi, Im phi)
        (exponents (T, 2n) integers, coefficients (T,) floats); no sympy involved."""
        self = cls.__new__(cls)
        self.n = n
        self.fields = tuple(fields)
        self.conventions = conventions
        self.variables = ()
        self.expr = None
        self._poly = _Compiled(np.asarray(exponents, dtype=int), np.asarray(coefficients, dtype=float))
        self.scale = max(1.0, float(np.max(np.abs(self._poly.c)))) if len(self._poly.c) else 1.0
        return self

    def value(self, x) -> float:
        return self._poly.value(np.asarray(x, dtype=float))

    def values(self, X) -> np.ndarray:
        """V at many points X (K, 2n)."""
        return self._poly.batch(X, derivatives=False)

    def row_scale(self, K: int) -> np.ndarray:
        return np.full(K, self.scale)

    def rows_for(self, mask) -> np.ndarray:
        """Rows to evaluate so that every row of ``mask`` is covered (here: those rows)."""
        return np.flatnonzero(mask)

    def groups(self, K: int) -> tuple[int, int]:
        """(members, rows per member): every row belongs to the same V."""
        return 1, K

    def batch_rows(self, rows, X, derivatives: bool = True):
        return self._poly.batch(X, derivatives)

    def derivatives(self, X):
        """(V, gradient, Hessian) at many points X (K, 2n): shapes (K,), (K, 2n), (K, 2n, 2n)."""
        return self._poly.batch(X)

    def gradient(self, x) -> np.ndarray:
        return self._poly.gradient(np.asarray(x, dtype=float))

    def hessian(self, x) -> np.ndarray:
        return self._poly.hessian(np.asarray(x, dtype=float))

    def fields_of(self, x) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        return x[: self.n] + 1j * x[self.n:]

    def point(self, phi) -> np.ndarray:
        phi = np.asarray(phi, dtype=complex)
        return np.concatenate([phi.real, phi.imag])


class PotentialFamily:
    """P parameter points of one potential (the same monomials, coefficients (T, P)), each with
    S points x: arrays of rows are grouped by member, row r belongs to member r // S.
    Any degree (:func:`family_of`). Used to run many minimum searches at once
    (:func:`find_minima_family`)."""

    def __init__(self, exponents, coefficients, n: int, starts: int):
        E = np.asarray(exponents, dtype=int)
        C = np.asarray(coefficients, dtype=float).reshape(len(E), -1)
        self.exponents, self.coefficients = E, C
        self.n, self.P, self.S = n, C.shape[1], starts
        self.tensors = family_of(E, C)
        self.scale = np.maximum(1.0, np.max(np.abs(C), axis=0)) if len(C) else np.ones(self.P)

    def member(self, p: int) -> PolynomialPotential:
        return PolynomialPotential.from_polynomial(self.exponents, self.coefficients[:, p], self.n)

    def values(self, X) -> np.ndarray:
        X = np.asarray(X, dtype=float).reshape(self.P, self.S, 2 * self.n)
        return self.tensors.batch(X, derivatives=False).reshape(-1)

    def derivatives(self, X):
        m = 2 * self.n
        X = np.asarray(X, dtype=float).reshape(self.P, self.S, m)
        v, g, h = self.tensors.batch(X)
        return v.reshape(-1), g.reshape(-1, m), h.reshape(-1, m, m)

    def row_scale(self, K: int) -> np.ndarray:
        return np.repeat(self.scale, self.S)

    def groups(self, K: int) -> tuple[int, int]:
        return self.P, self.S

    def rows_for(self, mask) -> np.ndarray:
        """Every row of each member that has a row in ``mask`` (members are evaluated whole)."""
        members = np.flatnonzero(np.asarray(mask).reshape(self.P, self.S).any(axis=1))
        return (members[:, None] * self.S + np.arange(self.S)[None, :]).reshape(-1)

    def batch_rows(self, rows, X, derivatives: bool = True):
        m = 2 * self.n
        members = np.asarray(rows)[:: self.S] // self.S
        out = self.tensors.batch(np.asarray(X, dtype=float).reshape(len(members), self.S, m), derivatives, members)
        if not derivatives:
            return out.reshape(-1)
        v, g, h = out
        return v.reshape(-1), g.reshape(-1, m), h.reshape(-1, m, m)

    def fields_of(self, x) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        return x[: self.n] + 1j * x[self.n:]

    def point(self, phi) -> np.ndarray:
        phi = np.asarray(phi, dtype=complex)
        return np.concatenate([phi.real, phi.imag])


# ------------------------------------------------------------------ local and global minimization


@dataclass(frozen=True)
class LocalMinimum:
    x: np.ndarray
    value: float
    gradient_norm: float
    hessian_min: float  # smallest Hessian eigenvalue relative to the largest
    iterations: int
    converged: bool
    same_as: int | None = None  # index of a known minimum this run joined


def local_minimum(V: PolynomialPotential, x0, max_iter: int = 300, rng=None, known=None) -> LocalMinimum:
    """Damped Newton with |eigenvalue| modification and backtracking; escapes saddles.

    Converged when the Newton step is below 1e-10 of the field size, or when the predicted
    decrease is at the round-off level of V (then the step is taken without a line search).
    ``known(x, f)`` may return the index of an already found minimum that x has reached
    (same V to 1e-7 and |phi_i| to 1e-3): the search then stops there.
    """
    x = np.array(x0, dtype=float)
    rng = rng or np.random.default_rng(0)
    f = V.value(x)
    converged = False
    it = 0
    for it in range(1, max_iter + 1):
        g = V.gradient(x)
        w, Q = np.linalg.eigh(V.hessian(x))
        top = max(np.max(np.abs(w)), 1e-300)
        step = -Q @ ((Q.T @ g) / np.maximum(np.abs(w), 1e-10 * top))
        size = 1.0 + np.linalg.norm(x)
        slope = float(g @ step)
        roundoff = 1e-13 * (abs(f) + V.scale)
        if np.linalg.norm(step) < 1e-10 * size or -slope < roundoff:
            if w[0] < -1e-7 * top:  # a saddle: leave along the most negative direction
                direction = Q[:, 0] * size * 1e-3 * (1 if rng.random() < 0.5 else -1)
                if V.value(x + direction) < f:
                    x = x + direction
                    f = V.value(x)
                    continue
            x = x + step
            f = V.value(x)
            converged = True
            break
        t = 1.0
        for _ in range(60):
            trial = x + t * step
            ft = V.value(trial)
            if ft <= f + 1e-4 * t * slope:
                break
            t *= 0.5
        else:
            break
        x, f = trial, ft
        if known is not None and known(x, f) is not None:
            return LocalMinimum(x, float(f), 0.0, 0.0, it, True, known(x, f))
    w = np.linalg.eigvalsh(V.hessian(x))
    top = max(np.max(np.abs(w)), 1e-300)
    return LocalMinimum(x, float(f), float(np.linalg.norm(V.gradient(x))), float(w[0] / top), it, bool(converged))


@dataclass(frozen=True)
class Minimum:
    """A distinct local minimum (up to rephasing symmetries): representative, V, hits."""

    phi: np.ndarray
    value: float
    hits: int
    hessian_min: float
    gradient_norm: float
    starts: tuple[str, ...] = ()


@dataclass(frozen=True)
class MinimumSearch:
    minima: tuple[Minimum, ...]  # sorted by V
    starts: int
    seed: int
    converged: int

    @property
    def best(self) -> Minimum:
        return self.minima[0]


def _same(a: Minimum, phi, value, scale) -> bool:
    tol = 1e-6 * max(abs(a.value), abs(value), 1.0)
    return abs(a.value - value) <= tol and np.allclose(np.abs(a.phi), np.abs(phi), rtol=1e-5, atol=1e-6 * scale)


STEP_CAP = 0.5  # a batched Newton step moves at most this fraction of 1 + |x|


def local_minima(V, X0, max_iter: int = 300, rng=None) -> list[LocalMinimum]:
    """:func:`local_minimum` from many starts X0 (K, 2n) at once (the same steps, vectorized).

    Each start runs damped Newton with |eigenvalue| modification, a backtracking line
    search and saddle escapes, independently of the others; a start stops when its
    Newton step is below 1e-10 of its field size or its predicted decrease is at the
    round-off level of V, and fails when its line search does. ``V`` is a
    :class:`PolynomialPotential` (every row the same V) or a :class:`PotentialFamily`
    (rows evaluated by whole members); rows that stopped are masked.
    """
    X = np.array(X0, dtype=float).reshape(-1, 2 * V.n)
    K = X.shape[0]
    rng = rng or np.random.default_rng(0)
    scale = V.row_scale(K)
    f = V.batch_rows(np.arange(K), X, False)
    active = np.ones(K, dtype=bool)
    converged = np.zeros(K, dtype=bool)
    same_as = np.full(K, -1)
    iterations = np.zeros(K, dtype=int)
    for it in range(1, max_iter + 1):
        if not active.any():
            break
        rows = V.rows_for(active)
        on = active[rows]
        x, fx = X[rows], f[rows]
        iterations[rows[on]] = it
        _, g, H = V.batch_rows(rows, x)
        g = np.where(on[:, None], g, 0.0)
        w, Q = np.linalg.eigh(np.where(on[:, None, None], H, np.eye(H.shape[1])))
        top = np.maximum(np.max(np.abs(w), axis=1), 1e-300)
        coefficients = np.einsum("nji,nj->ni", Q, g) / np.maximum(np.abs(w), 1e-10 * top[:, None])
        step = -np.einsum("nij,nj->ni", Q, coefficients)
        size = 1.0 + np.linalg.norm(x, axis=1)
        length = np.linalg.norm(step, axis=1)
        step *= np.minimum(1.0, STEP_CAP * size / np.maximum(length, 1e-300))[:, None]
        slope = np.einsum("ni,ni->n", g, step)
        roundoff = 1e-13 * (np.abs(fx) + scale[rows])
        done = on & ((np.linalg.norm(step, axis=1) < 1e-10 * size) | (-slope < roundoff))
        moved = np.zeros(len(rows), dtype=bool)
        for j in np.flatnonzero(done & (w[:, 0] < -1e-7 * top)):  # a saddle: leave downhill
            trial = x.copy()
            trial[j] = x[j] + Q[j, :, 0] * size[j] * 1e-3 * (1 if rng.random() < 0.5 else -1)
            value = V.batch_rows(rows, trial, False)[j]
            if value < fx[j]:
                x[j], fx[j] = trial[j], value
                done[j] = False
                moved[j] = True
        x[done] += step[done]
        if done.any():
            fx = np.where(done, V.batch_rows(rows, x, False), fx)
        converged[rows[done]] = True
        pending = on & ~done & ~moved
        t = np.ones(len(rows))
        for _ in range(60):
            if not pending.any():
                break
            trial = x + (t * pending)[:, None] * step
            ft = V.batch_rows(rows, trial, False)
            ok = pending & (ft <= fx + 1e-4 * t * slope)
            x[ok], fx[ok] = trial[ok], ft[ok]
            pending &= ~ok
            t[pending] *= 0.5
        X[rows], f[rows] = x, fx
        active[rows[done | pending]] = False  # converged, or the line search failed (not converged)
        _join_known(V, X, f, active, converged, same_as)
    _, g, H = V.batch_rows(np.arange(K), X)
    w = np.linalg.eigvalsh(H)
    top = np.maximum(np.max(np.abs(w), axis=1), 1e-300)
    return [LocalMinimum(X[k], float(f[k]), float(np.linalg.norm(g[k])), float(w[k, 0] / top[k]),
                         int(iterations[k]), bool(converged[k]), int(same_as[k]) if same_as[k] >= 0 else None)
            for k in range(K)]


def _join_known(V, X, f, active, converged, same_as):
    """Stop the active rows that have reached a minimum another row of the same V converged
    to (the same V to 1e-7 and |phi_i| to 1e-3): slow crawls along nearly flat valleys (light
    pseudo-Goldstone directions) end there. ``same_as`` gets the row index within the member."""
    known = converged & (same_as < 0)
    if not active.any() or not known.any():
        return
    P, S = V.groups(len(f))
    moduli = np.abs(X[:, : V.n] + 1j * X[:, V.n:]).reshape(P, S, V.n)
    values = f.reshape(P, S)
    close_value = np.abs(values[:, :, None] - values[:, None, :]) <= 1e-7 * np.maximum(np.abs(values[:, None, :]), 1.0)
    top = np.max(moduli, axis=(1, 2))[:, None, None, None]
    close_fields = np.all(np.abs(moduli[:, :, None, :] - moduli[:, None, :, :])
                          <= 1e-3 * np.abs(moduli[:, None, :, :]) + 1e-4 * top, axis=3)
    match = close_value & close_fields & known.reshape(P, S)[:, None, :] & active.reshape(P, S)[:, :, None]
    joined = match.any(axis=2).reshape(-1)
    if joined.any():
        same_as[joined] = np.argmax(match, axis=2).reshape(-1)[joined]
        converged[joined] = True
        active[joined] = False


def _starts(V, seeds, starts: int, rng, scale: float):
    candidates = [(label, V.point(phi)) for label, phi in seeds]
    for k in range(starts):
        s = scale * (0.3, 1.0, 3.0)[k % 3]
        candidates.append((f"random {k}", rng.normal(size=2 * V.n) * s))
    return candidates


def _merge(V, candidates, results, scale: float, seed: int) -> MinimumSearch:
    minima: list[Minimum] = []
    converged = 0
    where: dict[int, int] = {}  # row -> index of its minimum
    order = [k for k, r in enumerate(results) if r.same_as is None] + \
        [k for k, r in enumerate(results) if r.same_as is not None]
    for k in order:
        (label, _), result = candidates[k], results[k]
        if result.same_as is not None and result.same_as in where:
            converged += 1
            i = where[result.same_as]
            m = minima[i]
            minima[i] = Minimum(m.phi, m.value, m.hits + 1, m.hessian_min, m.gradient_norm, m.starts + (label,))
            where[k] = i
            continue
        if not result.converged or result.hessian_min < -1e-7:
            continue
        converged += 1
        phi = V.fields_of(result.x)
        for i, m in enumerate(minima):
            if _same(m, phi, result.value, scale):
                best_phi = m.phi if m.value <= result.value else phi
                minima[i] = Minimum(best_phi, min(m.value, result.value), m.hits + 1,
                                    m.hessian_min, m.gradient_norm, m.starts + (label,))
                where[k] = i
                break
        else:
            where[k] = len(minima)
            minima.append(Minimum(phi, result.value, 1, result.hessian_min, result.gradient_norm, (label,)))
    minima.sort(key=lambda m: m.value)
    return MinimumSearch(tuple(minima), len(candidates), seed, converged)


def find_minima(V: PolynomialPotential, seeds=(), *, starts: int = 48, seed: int = 20200316,
                scale: float = 100.0) -> MinimumSearch:
    """Multi-start search: every seed (label, phi) plus ``starts`` random points, seeded;
    all starts are minimized at once (:func:`local_minima`)."""
    rng = np.random.default_rng(seed)
    candidates = _starts(V, seeds, starts, rng, scale)
    results = local_minima(V, np.array([x for _, x in candidates]), rng=rng) if candidates else []
    return _merge(V, candidates, results, scale, seed)


def find_minima_family(family: PotentialFamily, seeds, *, starts: int, seeds_rng, scales,
                       max_iter: int = 300) -> list[MinimumSearch]:
    """:func:`find_minima` for every member of a family at once: member p starts from its
    ``seeds[p]`` (the same number for every member) plus ``starts`` random points from
    ``numpy.random.default_rng(seeds_rng[p])`` on the scale ``scales[p]``."""
    candidates = [_starts(family, seeds[p], starts, np.random.default_rng(seeds_rng[p]), scales[p])
                  for p in range(family.P)]
    if len({len(c) for c in candidates}) > 1 or len(candidates[0]) != family.S:
        raise ValueError("every member needs the same number of starts as the family")
    X0 = np.array([x for c in candidates for _, x in c])
    rng = np.random.default_rng([int(s) for s in seeds_rng])
    results = local_minima(family, X0, max_iter=max_iter, rng=rng)
    S = family.S
    return [_merge(family, candidates[p], results[p * S:(p + 1) * S], scales[p], int(seeds_rng[p]))
            for p in range(family.P)]


# ------------------------------------------------------------------ rephasing symmetries


def net_power_matrix(table, include_breaking: bool = True, values=None) -> sp.Matrix:
    """Rows: net powers n_i - m_i of each non-hermitian operator in the potential
    (with ``values``: only operators whose coefficient is nonzero there)."""
    rows = []
    for op in table.in_potential:
        if op.monomial.is_hermitian:
            continue
        if not include_breaking and op.status == "explicit_breaking":
            continue
        if values is not None and sp.sympify(op.coefficient).xreplace(values) == 0:
            continue
        rows.append(list(op.monomial.net()))
    n = len(table.model.scalars)
    return sp.Matrix(rows) if rows else sp.zeros(0, n)


def u1_generators(table, include_breaking: bool = False) -> list[sp.Matrix]:
    """Independent U(1) rephasings of the potential (rational null space of the net powers)."""
    N = net_power_matrix(table, include_breaking)
    n = len(table.model.scalars)
    if N.rows == 0:
        return [sp.eye(n)[:, k] for k in range(n)]
    return N.nullspace()


def rephasing_group(table, values=None) -> tuple[np.ndarray, np.ndarray]:
    """Finite representatives (angles, shape (k, n)) and continuous generators (n, c) of the
    group of rephasings theta with N theta in 2 pi Z (explicit breaking included; with
    ``values``, operators with a vanishing coefficient there are left out)."""
    N = net_power_matrix(table, True, values)
    n = len(table.model.scalars)
    continuous = np.array([[float(x) for x in v] for v in N.nullspace()]).T if N.rows else np.eye(n)
    if continuous.size == 0:
        continuous = np.zeros((n, 0))
    if N.rows == 0:
        return np.zeros((1, n)), continuous
    factors = [int(f) for f in invariant_factors(N, domain=sp.ZZ) if f != 0]
    L = int(np.lcm.reduce(factors)) if factors else 1
    Nn = np.array(N.tolist(), dtype=float)
    if L**n > 200_000:  # too many to enumerate: keep the identity (rephasing may then be incomplete)
        return np.zeros((1, n)), continuous
    finite = []
    for ks in itertools.product(range(L), repeat=n):
        theta = 2 * np.pi * np.array(ks) / L
        phase = Nn @ theta / (2 * np.pi)
        if np.allclose(phase, np.round(phase), atol=1e-9):
            finite.append(theta)
    return np.array(finite), continuous


def rephase(phi: np.ndarray, group) -> tuple[np.ndarray, float]:
    """The rephased phi closest to real (signs allowed), and its largest |Im phi_i| / |phi|."""
    finite, continuous = group
    phi = np.asarray(phi, dtype=complex)
    scale = max(np.max(np.abs(phi)), 1e-300)
    nonzero = np.abs(phi) > 1e-9 * scale
    alpha = np.angle(phi)
    candidates = [(np.max(np.abs(phi.imag)) / scale, phi)]
    for theta in finite:
        angles = alpha + theta
        t = np.zeros(continuous.shape[1])
        if continuous.shape[1] and nonzero.any():
            for _ in range(4):
                target = np.pi * np.round((angles + continuous @ t) / np.pi)
                t, *_ = np.linalg.lstsq(continuous[nonzero], (target - angles)[nonzero], rcond=None)
        total = theta + continuous @ t if continuous.shape[1] else theta
        candidate = phi * np.exp(1j * total)
        candidates.append((np.max(np.abs(candidate.imag)) / scale, candidate))
    best_residual = min(r for r, _ in candidates)
    # among the (nearly) real representatives, the first nonzero field positive, then the next...
    near = [c for r, c in candidates if r <= best_residual + 1e-9]
    best = max(near, key=lambda c: tuple(np.sign(np.round(c.real / scale, 9))))
    if best_residual < 1e-7:
        best = best.real + 0j
    return best, float(best_residual)


# ------------------------------------------------------------------ exact spectrum


@dataclass(frozen=True)
class ExactSpectrum:
    """Masses^2 (GeV^2, ascending) and orthogonal U (columns) of each CP block; ``cp_conserving``
    False when the vevs are not real: then ``mixed`` holds the full 2n x 2n spectrum."""

    M_S2: np.ndarray
    M_P2: np.ndarray
    scalar_masses2: np.ndarray
    pseudoscalar_masses2: np.ndarray
    U_S: np.ndarray
    U_P: np.ndarray
    cp_conserving: bool
    mixed_masses2: np.ndarray | None = None


def field_normalization(conventions) -> float:
    """d phi / d sigma for the declared field expansion (1 or 1/sqrt 2)."""
    return 1.0 if conventions.field_expansion == "unnormalized" else 1 / np.sqrt(2)


def exact_spectrum(V: PolynomialPotential, phi) -> ExactSpectrum:
    """Mass matrices as factor * d^2V/dsigma dsigma at phi (numeric Hessian of the compiled V)."""
    n = V.n
    x = V.point(phi)
    factor = float(V.conventions.mass_matrix_factor) * field_normalization(V.conventions) ** 2
    H = factor * V.hessian(x)
    M_S2, M_P2, mixed = H[:n, :n], H[n:, n:], H[:n, n:]
    cp = np.max(np.abs(mixed)) <= 1e-9 * max(np.max(np.abs(H)), 1.0) and np.max(np.abs(np.imag(phi))) <= 1e-9 * max(np.max(np.abs(phi)), 1.0)
    wS, US = np.linalg.eigh(M_S2)
    wP, UP = np.linalg.eigh(M_P2)
    all_masses = None if cp else np.linalg.eigvalsh(H)
    return ExactSpectrum(M_S2, M_P2, wS, wP, _fix_signs(US), _fix_signs(UP), bool(cp), all_masses)


def _fix_signs(U: np.ndarray) -> np.ndarray:
    """Column signs: the largest component of each eigenvector positive (a convention)."""
    U = U.copy()
    for j in range(U.shape[1]):
        k = np.argmax(np.abs(U[:, j]))
        if U[k, j] < 0:
            U[:, j] = -U[:, j]
    return U


def signed_mass(m2: float) -> float:
    """sqrt(m^2) in GeV, negative when m^2 < 0 (tachyonic)."""
    return float(np.sign(m2) * np.sqrt(abs(m2)))


def match_states(U_exact: np.ndarray, U_approx: np.ndarray) -> list[int]:
    """For each exact column, the approximate column with the largest overlap (greedy, unique)."""
    overlap = np.abs(U_exact.T @ U_approx)
    n = overlap.shape[0]
    assignment = [-1] * n
    taken = set()
    for flat in np.argsort(-overlap, axis=None):
        i, j = divmod(int(flat), n)
        if assignment[i] < 0 and j not in taken:
            assignment[i] = j
            taken.add(j)
    return assignment
