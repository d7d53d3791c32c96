"""Explicit 4x4 Dirac algebra for the chirality-flipping one-loop amplitudes.

Everything here is computed with explicit matrices (Dirac representation) and
explicit momenta; nothing is looked up. Conventions (Peskin & Schroeder):

* metric (+,-,-,-); ``gamma5 = i g^0 g^1 g^2 g^3``; ``P_R,L = (1 +- gamma5)/2``;
  ``sigma^{mu nu} = (i/2)[gamma^mu, gamma^nu]``.
* QED: ``D_mu = d_mu + i Q e A_mu`` with ``e > 0`` and ``Q_lepton = -1``, so
  ``L ⊃ -Q e psibar gamma^mu psi A_mu`` (vertex ``-i Q e gamma^mu``); a scalar of
  charge Q has the vertex ``-i Q e (k + k')^mu`` (momenta along the charge flow).
* Vertex factors are ``i`` times the coefficient in L; propagators
  ``i (kslash + M)/(k^2 - M^2)`` and ``i/(k^2 - m^2)``.
* Form factors: the photon vertex of a lepton is
  ``-i Q e ubar(p') [gamma^mu F1 + i sigma^{mu nu} q_nu F2 / (2 m)] u(p)``, ``q = p' - p``
  (incoming photon); the anomalous magnetic moment is ``a = F2(0)``.
* Lepton mass term ``L ⊃ -m lbar_L l_R + h.c.`` (= ``-m lbar P_R l + h.c.``); dipole
  term ``L ⊃ d lbar sigma^{alpha beta} P_R l F_{alpha beta} + h.c.`` (the observables write
  ``d = e m C / (8 pi^2)``).

Loop integrals after Feynman parametrization use the Minkowski master formulas
``int d^4l/(2pi)^4 1/(l^2 - D)^n = (-1)^n i/(16 pi^2) Gamma(n-2)/Gamma(n) D^(2-n)`` (n >= 3)
and, for n = 2, ``(i/(16 pi^2)) (Delta_UV - log D)`` (Delta_UV dropped: it cancels in
every physical combination used here). External lepton masses and momenta are
neglected against the heavy masses in the chirality-flip results (leading order in
m_l/M), except in :func:`vertex_form_factors`, which is exact in the lepton mass.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import sympy as sp
from sympy.polys.matrices import DomainMatrix

from symflav.core import symbols

I = sp.I
METRIC = (1, -1, -1, -1)


def _gammas() -> tuple[sp.ImmutableMatrix, ...]:
    one = sp.eye(2)
    zero = sp.zeros(2)
    pauli = (
        sp.Matrix([[0, 1], [1, 0]]),
        sp.Matrix([[0, -I], [I, 0]]),
        sp.Matrix([[1, 0], [0, -1]]),
    )
    g0 = sp.Matrix(sp.BlockMatrix([[one, zero], [zero, -one]]))
    gs = [sp.Matrix(sp.BlockMatrix([[zero, s], [-s, zero]])) for s in pauli]
    return tuple(sp.ImmutableMatrix(g) for g in [g0, *gs])


GAMMA = _gammas()
ONE = sp.ImmutableMatrix(sp.eye(4))
GAMMA5 = sp.ImmutableMatrix(I * GAMMA[0] * GAMMA[1] * GAMMA[2] * GAMMA[3])
PR = sp.ImmutableMatrix((ONE + GAMMA5) / 2)
PL = sp.ImmutableMatrix((ONE - GAMMA5) / 2)


@lru_cache(maxsize=16)  # pure in two indices 0..3: all 16 fit
def sigma(mu: int, nu: int) -> sp.ImmutableMatrix:
    """sigma^{mu nu} = (i/2)[gamma^mu, gamma^nu] (upper indices)."""
    g_mu, g_nu = (DomainMatrix.from_Matrix(GAMMA[k]).convert_to(sp.QQ_I) for k in (mu, nu))
    commutator = (g_mu * g_nu - g_nu * g_mu) * sp.QQ_I.from_sympy(I / 2)
    return sp.ImmutableMatrix(commutator.to_Matrix())


def dot(a, b) -> sp.Expr:
    """Minkowski product of two contravariant 4-vectors."""
    return sum(g * x * y for g, x, y in zip(METRIC, a, b))


def lower(v) -> tuple:
    return tuple(g * x for g, x in zip(METRIC, v))


def slash(v) -> sp.Matrix:
    """gamma^mu v_mu for a contravariant 4-vector v."""
    return sp.Matrix(sum((g * c * G for g, c, G in zip(METRIC, v, GAMMA)), sp.zeros(4)))


def vsum(*terms):
    """Sum of (coefficient, 4-vector) pairs."""
    return tuple(sum(c * v[i] for c, v in terms) for i in range(4))


def trace(m) -> sp.Expr:
    return sp.expand(sum(m[i, i] for i in range(4)))


def sigma_contract(q) -> list[sp.Matrix]:
    """sigma^{mu nu} q_nu for mu = 0..3."""
    ql = lower(q)
    return [sp.Matrix(sum((sigma(mu, nu) * ql[nu] for nu in range(4)), sp.zeros(4))) for mu in range(4)]


# ------------------------------------------------------------------ chirality-flip projection


# Light-like momenta used for the massless chirality-flip projections (any pair works:
# the result is Lorentz invariant; tests use a second pair).
LIGHTLIKE = ((1, 0, 0, 1), (5, 3, 0, 4))


def flip_coefficients(X, p=None, pp=None) -> tuple[sp.Expr, sp.Expr]:
    """(F, G) with ubar(p') X^mu P_R u(p) = (F P^mu + G q^mu) ubar(p') P_R u(p).

    Massless on-shell spinors; P = p + p', q = p' - p. Obtained from the spin sum
    S^mu = Tr[X^mu P_R pslash P_L p'slash] = 2 p.p' (F P^mu + G q^mu); the remainder is
    checked to vanish (otherwise X has a structure outside this basis).
    """
    p, pp = (LIGHTLIKE if p is None else (p, pp))
    if dot(p, p) != 0 or dot(pp, pp) != 0:
        raise ValueError("flip_coefficients needs light-like momenta")
    P = vsum((1, p), (1, pp))
    q = vsum((1, pp), (-1, p))
    middle = PR * slash(p) * PL * slash(pp)
    S = [trace(sp.Matrix(X[mu]) * middle) for mu in range(4)]
    norm = 2 * dot(p, pp)
    F = sp.cancel(dot(S, P) / (norm * dot(P, P)))
    G = sp.cancel(dot(S, q) / (norm * dot(q, q)))
    rest = [sp.cancel(S[mu] - norm * (F * P[mu] + G * q[mu])) for mu in range(4)]
    if any(r != 0 for r in rest):
        raise ValueError("X^mu has a chirality-flip structure outside {P^mu, q^mu}")
    return F, G


def dipole_vertex(q) -> list[sp.Matrix]:
    """Feynman rule (per unit d) of L = d psibar sigma^{ab} P_R psi F_{ab}, incoming photon q.

    A_b -> eps_b exp(-i q.x) gives F_ab -> -i (q_a eps_b - q_b eps_a); the vertex for
    polarization mu is i d sigma^{ab} (-i)(q_a delta_b^mu - q_b delta_a^mu).
    """
    ql = lower(q)
    rows = []
    for mu in range(4):
        m = sp.zeros(4)
        for a in range(4):
            for b in range(4):
                coeff = (ql[a] if b == mu else 0) - (ql[b] if a == mu else 0)
                if coeff:
                    m += I * sigma(a, b) * (-I) * coeff
        rows.append(sp.Matrix(m) * PR)  # V^mu, contracted with eps_mu
    return rows


# ------------------------------------------------------------------ fast products


class DiracAlgebra:
    """The same matrices as DomainMatrix over Q(i)[gens]: fast products of long chains.

    Loop numerators are chains of 4x4 matrices whose entries are polynomials in a few
    symbols (Feynman parameters, masses, couplings); sympy's generic Matrix is slow
    for these, a polynomial-ring DomainMatrix is not. Results convert back with
    :meth:`to_matrix`.
    """

    def __init__(self, *gens):
        self._DM = DomainMatrix
        self.domain = sp.QQ_I[gens] if gens else sp.QQ_I
        self.gamma = [self.matrix(g) for g in GAMMA]
        self.gamma5 = self.matrix(GAMMA5)
        self.pr, self.pl, self.one = self.matrix(PR), self.matrix(PL), self.matrix(ONE)
        # nonzero entries (i, j, value) of each gamma^mu: Tr[gamma^mu W] = sum gamma_ij W_ji
        self.gamma_entries = tuple(tuple((i, j, self.domain.convert(g[i, j])) for i in range(4) for j in range(4)
                                         if g[i, j]) for g in GAMMA)
        self._middles = {}

    def matrix(self, m):
        return self._DM.from_Matrix(sp.Matrix(m)).convert_to(self.domain)

    def scalar(self, expr):
        return self.domain.from_sympy(sp.sympify(expr))

    def flip_middle(self, p, pp):
        """P_R pslash P_L p'slash in the domain (the spin sum of the flip projection)."""
        key = (tuple(p), tuple(pp))
        if key not in self._middles:
            self._middles[key] = self.matrix(PR * slash(p) * PL * slash(pp))
        return self._middles[key]

    def times(self, expr, m):
        return m * self.scalar(expr)

    def slash(self, v):
        out = self._DM.zeros((4, 4), self.domain)
        for g, c, G in zip(METRIC, v, self.gamma):
            if c != 0:
                out = out + G * self.scalar(g * c)
        return out

    @staticmethod
    def to_matrix(m) -> sp.Matrix:
        return m.to_Matrix() if hasattr(m, "to_Matrix") else sp.Matrix(m)


# ------------------------------------------------------------------ loop machinery


def loop_average(numerator, components: int | None = None):
    """Symmetric integration of a numerator at most quadratic in the loop momentum l.

    ``numerator(l)`` returns a 4x4 matrix (sympy or DomainMatrix), or a list of them
    when ``components`` is given (one per Lorentz index, sharing work). Odd powers of l
    vanish and l^a l^b -> g^{ab} L/4 (L = l^2), so the result is
    (N(0), sum_a g^{aa} Q_aa / 4) with Q_aa = [N(e_a) + N(-e_a) - 2 N(0)]/2, e_a the unit
    vectors: exact for a quadratic numerator, no symbolic loop momentum needed.
    """
    def value(l):
        n = numerator(l)
        items = n if components else [n]
        return [m if isinstance(m, DomainMatrix) else DomainMatrix.from_Matrix(sp.Matrix(m)) for m in items]

    n0 = value((0, 0, 0, 0))
    quad = [None] * len(n0)
    for a in range(4):
        unit = tuple(1 if i == a else 0 for i in range(4))
        minus = tuple(-u for u in unit)
        for idx, (plus, neg) in enumerate(zip(value(unit), value(minus))):
            K = plus.domain.unify(n0[idx].domain)
            term = (plus.convert_to(K) + neg.convert_to(K) - n0[idx].convert_to(K) * K.convert(2))
            term = term * K.convert(sp.Rational(METRIC[a], 8))
            quad[idx] = term if quad[idx] is None else quad[idx].convert_to(K) + term
    zero = [m.to_Matrix().applyfunc(sp.expand) for m in n0]
    two = [m.to_Matrix().applyfunc(sp.expand) for m in quad]
    if components:
        return list(zip(zero, two))
    return zero[0], two[0]


def loop_average_scalar(f, domain=None) -> tuple[sp.Expr, sp.Expr]:
    """:func:`loop_average` for a scalar-valued numerator f(l) (e.g. after a projection,
    which is linear and commutes with the loop integration). With ``domain``, f returns
    elements of that polynomial domain and the sums are done there (no expression swell)."""
    if domain is None:
        convert, to_sympy = sp.sympify, sp.expand
    else:
        convert, to_sympy = domain.convert, domain.to_sympy
    f0 = f((0, 0, 0, 0))
    two = convert(0)
    for a in range(4):
        unit = tuple(1 if i == a else 0 for i in range(4))
        minus = tuple(-u for u in unit)
        two += (f(unit) + f(minus) - f0 * convert(2)) * convert(sp.Rational(METRIC[a], 8))
    return to_sympy(f0), to_sympy(two)


def flip_projection_fast(alg: "DiracAlgebra", vectors, left=None, right=None, line=None, p=None, pp=None):
    """F of :func:`flip_coefficients` for X^mu = left gamma^mu right (photon on the fermion)
    or X^mu = vectors[mu] line (photon on a scalar), without forming X^mu; an element of
    ``alg.domain`` (the traces are taken there).

    S^mu = Tr[X^mu P_R pslash P_L p'slash]: with W = right M left (M the numeric middle
    factor), Tr[left gamma^mu right M] = Tr[gamma^mu W].
    """
    p, pp = (LIGHTLIKE if p is None else (p, pp))
    K = alg.domain
    P = vsum((1, p), (1, pp))
    middle = alg.flip_middle(p, pp)
    norm = 2 * dot(p, pp)
    if line is None:
        W = (right * middle * left).to_list()
        S = [sum((W[j][i] * value for i, j, value in alg.gamma_entries[mu]), K.zero) for mu in range(4)]
    else:
        rows = (line * middle).to_list()
        t = sum((rows[i][i] for i in range(4)), K.zero)
        S = [alg.scalar(vectors[mu]) * t for mu in range(4)]
    total = sum((S[mu] * K.convert(sp.Rational(METRIC[mu]) * P[mu]) for mu in range(4) if P[mu]), K.zero)
    return total * K.convert(1 / sp.Rational(norm * dot(P, P)))


def feynman_parameters(denominators, params) -> tuple[tuple, sp.Expr]:
    """Shift s and D for prod_i 1/((k + r_i)^2 - m_i^2) with parameters x_i.

    ``denominators`` is a list of (r_i, m_i^2); sum_i x_i [(k + r_i)^2 - m_i^2] =
    (k + s)^2 - D with s = sum x_i r_i and D = sum x_i (m_i^2 - r_i^2) + s^2.
    """
    s = vsum(*[(x, r) for x, (r, _) in zip(params, denominators)])
    D = sum(x * (m2 - dot(r, r)) for x, (r, m2) in zip(params, denominators)) + dot(s, s)
    return s, sp.expand(D)


def _integrate_polynomial(expr: sp.Expr, x: sp.Symbol, lower, upper) -> sp.Expr:
    """int_lower^upper dx expr for expr = polynomial in x / (factor free of x), exactly
    (the antiderivative of the polynomial); other integrands go to sympy's integrate."""
    num, den = sp.fraction(sp.together(expr))
    if den.has(x) or not num.is_polynomial(x):
        return sp.integrate(sp.expand(expr), (x, lower, upper))
    antiderivative = sp.Poly(sp.expand(num), x).integrate()
    return (antiderivative.as_expr().subs(x, upper) - antiderivative.as_expr().subs(x, lower)) / den


@dataclass(frozen=True)
class ChiralityFlip:
    """The chirality-flipping self-energy and dipole of one loop, in the couplings.

    Loop: heavy fermion F (mass M, charge Q_F e) and scalar S (mass m), couplings
    ``L ⊃ a Fbar P_R l S + b lbar P_R F S^dagger + h.c.``; ``Q_S e`` is the charge carried
    by the scalar line from the l_R vertex to the l_L vertex (``Q_S = Q_l - Q_F``).

    * ``mass_integrand``: dm = int_0^1 dz mass_integrand, where L_eff ⊃ -dm lbar P_R l
      (finite part, UV pole dropped, renormalization scale mu = M);
    * ``dipole_fermion_integrand`` / ``dipole_scalar_integrand``: the dipole coefficient
      d (L_eff ⊃ d lbar sigma P_R l F) from the photon on F / on S is int_0^1 dz of it;
    * ``z``: the Feynman parameter of the scalar propagator.
    """

    a: sp.Symbol
    b: sp.Symbol
    M: sp.Symbol
    m: sp.Symbol
    e: sp.Symbol
    Q_F: sp.Symbol
    Q_S: sp.Symbol
    z: sp.Symbol
    mass_integrand: sp.Expr
    dipole_fermion_integrand: sp.Expr
    dipole_scalar_integrand: sp.Expr
    sigma_projection: sp.Expr  # F of i sigma^{mu nu} q_nu (Gordon identity, massless)
    dipole_rule: sp.Expr  # coefficient of sigma^{mu nu} q_nu P_R in the vertex of d = 1


@lru_cache(maxsize=1)  # no arguments: a constant of the module, derived once when first asked for
def chirality_flip() -> ChiralityFlip:
    """Derive the self-energy and both dipole diagrams with explicit Dirac matrices."""
    a, b = symbols.auxiliary("a"), symbols.auxiliary("b")
    M, m, e = (symbols.auxiliary(n, positive=True) for n in ("M", "m", "e"))
    Q_F, Q_S = symbols.auxiliary("Q_F"), symbols.auxiliary("Q_S")
    x1, x2, x3 = (symbols.auxiliary(f"x{i}", positive=True) for i in (1, 2, 3))
    z = symbols.auxiliary("z", positive=True)
    p, pp = LIGHTLIKE
    q = vsum((1, pp), (-1, p))
    zero = (0, 0, 0, 0)

    # --- i sigma^{mu nu} q_nu and the Feynman rule of the dipole term, projected
    sig = sigma_contract(q)
    F_sigma, _ = flip_coefficients([I * s * PR for s in sig])
    F_rule, _ = flip_coefficients(dipole_vertex(q))
    F_plain_sigma, _ = flip_coefficients([s * PR for s in sig])
    rule = sp.cancel(F_rule / F_plain_sigma)  # vertex of d=1 is rule * sigma^{mu nu} q_nu P_R

    # --- self-energy at zero external momentum: (i b P_R) S_F(k) (i a P_R) D_S(k)
    n0, n2 = loop_average(lambda l: PR * (slash(l) + M * ONE) * PR)
    coeff_R = sp.cancel(trace(n0 * PR) / 2)  # n0 = coeff_R P_R
    if n2 != sp.zeros(4):
        raise AssertionError("self-energy numerator has an l^2 flip part")
    constants = (I * b) * (I * a) * I * I  # vertices and the two propagator i's
    # int d^4k/(2pi)^4 1/((k^2-M^2)(k^2-m^2)) = (i/16pi^2) int dz [-log(D(z)/M^2)]
    _, D = feynman_parameters([(zero, M**2), (zero, m**2)], (1 - z, z))
    minus_i_sigma = constants * coeff_R * I / (16 * sp.pi**2) * (-sp.log(sp.expand(D / M**2)))
    sigma_R = sp.expand(I * minus_i_sigma)  # -i Sigma = amplitude;  L_eff ⊃ -Sigma_R lbar P_R l
    mass_integrand = sigma_R

    # --- dipole, photon on F: (i b P_R) S(k+q) (-i Q_F e gamma^mu) S(k) (i a P_R) D(k - p)
    s, D = feynman_parameters([(zero, M**2), (q, M**2), (vsum((-1, p)), m**2)], (x1, x2, x3))
    D0 = M**2 * (x1 + x2) + m**2 * x3  # external momenta neglected (leading order in m_l/M)

    alg = DiracAlgebra(x1, x2, x3, M)
    mass = alg.times(M, alg.one)

    def fermion_flip(l):
        k = vsum((1, l), (-1, s))
        kq = vsum((1, k), (1, q))
        left, right = alg.pr * (alg.slash(kq) + mass), (alg.slash(k) + mass) * alg.pr
        return flip_projection_fast(alg, None, left=left, right=right)

    F0, F2 = loop_average_scalar(fermion_flip, alg.domain)
    if sp.cancel(F2) != 0:
        raise AssertionError("l^2 part of the dipole numerator has a flip component")
    const = (I * b) * (I * a) * (-I * Q_F * e) * I**3 * 2 * (-I / (32 * sp.pi**2))
    integrand = const * F0 / D0  # coefficient of P^mu ubar P_R u, density over the simplex
    integrand = _integrate_polynomial(integrand.subs(x1, 1 - x2 - x3), x2, 0, 1 - x3).subs(x3, z)
    c_fermion = integrand / F_sigma * I  # coefficient of sigma^{mu nu} q_nu P_R (F_sigma is for i sigma)
    d_fermion = sp.factor(sp.cancel(c_fermion / rule))

    # --- dipole, photon on S: (i b P_R) S_F(k) (i a P_R), scalar momenta p-k -> p'-k
    s, D = feynman_parameters([(zero, M**2), (vsum((-1, p)), m**2), (vsum((-1, pp)), m**2)], (x1, x2, x3))
    D0 = M**2 * x1 + m**2 * (x2 + x3)

    def scalar_flip(l):
        k = vsum((1, l), (-1, s))
        current = vsum((1, p), (1, pp), (-2, k))  # (p - k) + (p' - k) along the line
        line = alg.pr * (alg.slash(k) + mass) * alg.pr
        return flip_projection_fast(alg, current, line=line)

    F0, F2 = loop_average_scalar(scalar_flip, alg.domain)
    if sp.cancel(F2) != 0:
        raise AssertionError("l^2 part of the scalar dipole numerator has a flip component")
    const = (I * b) * (I * a) * (-I * Q_S * e) * I**3 * 2 * (-I / (32 * sp.pi**2))
    integrand = const * F0 / D0
    # the density depends on x1 only: integrate the other simplex direction
    integrand = _integrate_polynomial(integrand.subs(x3, 1 - x1 - x2), x2, 0, 1 - x1).subs(x1, 1 - z)
    c_scalar = integrand / F_sigma * I
    d_scalar = sp.factor(sp.cancel(c_scalar / rule))

    return ChiralityFlip(
        a=a, b=b, M=M, m=m, e=e, Q_F=Q_F, Q_S=Q_S, z=z,
        mass_integrand=sp.factor(mass_integrand),
        dipole_fermion_integrand=d_fermion,
        dipole_scalar_integrand=d_scalar,
        sigma_projection=F_sigma,
        dipole_rule=rule,
    )


# ------------------------------------------------------------------ massive form factors


def breit_frame(m: sp.Expr, Q: sp.Expr):
    """On-shell p, p' of mass m with q = p' - p = (0, 0, 0, Q), so q^2 = -Q^2."""
    E = sp.sqrt(m**2 + Q**2 / 4)
    return (E, 0, 0, -Q / 2), (E, 0, 0, Q / 2)


def vertex_form_factors(Lambda, p, pp, m, on_shell=None) -> tuple[sp.Expr, sp.Expr]:
    """(F1, F2) of ubar(p') Lambda^mu u(p) = ubar(p')[gamma^mu F1 + i sigma^{mu nu} q_nu F2/(2m)]u(p).

    Projection with the two functionals Tr[(p'slash + m) Lambda^mu (pslash + m) gamma_mu] and
    Tr[(p'slash + m) Lambda^mu (pslash + m)] P_mu, inverted on the two structures
    (q^mu and parity-odd pieces project to zero). ``on_shell`` substitutes the energy
    symbol of the momenta after the traces.
    """
    q = vsum((1, pp), (-1, p))
    P = vsum((1, pp), (1, p))
    left, right = slash(pp) + m * ONE, slash(p) + m * ONE

    def project(L):
        t1 = sum(METRIC[mu] * trace(left * L[mu] * right * GAMMA[mu]) for mu in range(4))
        t2 = sum(METRIC[mu] * trace(left * L[mu] * right) * P[mu] for mu in range(4))
        out = sp.Matrix([sp.expand(t1), sp.expand(t2)])
        return out.subs(on_shell) if on_shell else out

    sig = sigma_contract(q)
    basis = [list(GAMMA), [I * s / (2 * m) for s in sig]]
    A = sp.Matrix.hstack(*[project(B) for B in basis])
    rhs = project(Lambda)
    sol = A.LUsolve(rhs)
    return tuple(sp.simplify(v) for v in sol)


# ------------------------------------------------------------------ radiative decay


def radiative_decay_rate() -> tuple[sp.Expr, tuple[sp.Symbol, ...]]:
    """Gamma(l -> l' gamma) for L = cR l'bar sigma P_R l F + cL l'bar sigma P_L l F + h.c.

    m_l' neglected. Spin-summed |M|^2 by traces with explicit matrices (photon
    polarization sum -g_{mu nu}), two-body phase space |p|/(8 pi m^2), average 1/2.
    Returns (Gamma, (m, cR, cL)) with real symbols standing for |cR|, |cL|.
    """
    m = symbols.auxiliary("m_l", positive=True)
    cR, cL = symbols.auxiliary("c_R", positive=True), symbols.auxiliary("c_L", positive=True)
    # rest frame of l; photon along +z with energy m/2, l' along -z
    k = (m / 2, 0, 0, m / 2)
    pp = (m / 2, 0, 0, -m / 2)
    p = (m, 0, 0, 0)
    kl = lower(k)
    total = sp.S.Zero
    for nu in range(4):  # photon polarization index, sum with -g_{nu nu}
        # outgoing photon: F^{mu nu} -> i (k^mu eps*^nu - k^nu eps*^mu); vertex = i * L-coefficient
        V = sp.zeros(4)
        for a in range(4):
            for b in range(4):
                coeff = (kl[a] if b == nu else 0) - (kl[b] if a == nu else 0)
                if coeff:
                    V += I * sigma(a, b) * I * coeff
        amp = V * (cR * PR + cL * PL)
        bar = GAMMA[0] * amp.H * GAMMA[0]
        total += -METRIC[nu] * trace((slash(pp)) * amp * (slash(p) + m * ONE) * bar)
    spin_sum = sp.factor(sp.expand(total))
    momentum = m / 2
    gamma = sp.factor(momentum / (8 * sp.pi * m**2) * spin_sum / 2)
    return gamma, (m, cR, cL)


@lru_cache(maxsize=8)  # pure in (boson name, flag): six possible calls
def lepton_loop_F2(boson: str, heavy: bool = False):
    """F2(0) of a lepton from a loop of a charged fermion and a neutral boson, exact in m.

    A check of the whole convention chain (vertex factors, photon coupling, F2 <-> a)
    against classic results: ``"photon"`` (QED, Feynman gauge, the photon mass as the
    boson mass), ``"scalar"`` (``L ⊃ -y lbar l s``) and ``"pseudoscalar"``
    (``L ⊃ -i y lbar gamma5 l s``), with the lepton itself in the loop. With
    ``heavy=True`` and ``boson="chiral"`` the loop fermion is a heavy F of mass M and the
    same charge, coupled by ``L ⊃ a Fbar P_R l s + b lbar P_R F s + h.c.`` (a, b real,
    s real): the massive counterpart of :func:`chirality_flip`.

    Returns (density, (x2, x3), symbols): F2(0) is the integral of the density over the
    simplex 0 <= x3 <= 1, 0 <= x2 <= 1 - x3 (x3: the boson); ``symbols`` maps names
    (m, m_b, M, y, a, b, e, Q_l) to the symbols used.
    """
    m, mb, M, Qmom = (symbols.auxiliary(n, positive=True) for n in ("m", "m_b", "M", "Q"))
    y, a, b = symbols.auxiliary("y"), symbols.auxiliary("a"), symbols.auxiliary("b")
    e = symbols.auxiliary("e", positive=True)
    Qch = symbols.auxiliary("Q_l")
    x1, x2, x3 = (symbols.auxiliary(f"x{i}", positive=True) for i in (1, 2, 3))
    mf = M if heavy else m
    E = symbols.auxiliary("E", positive=True)
    p, pp = (E, 0, 0, -Qmom / 2), (E, 0, 0, Qmom / 2)  # Breit frame, E^2 = m^2 + Q^2/4
    q = vsum((1, pp), (-1, p))
    s, D = feynman_parameters([((0, 0, 0, 0), mf**2), (q, mf**2), (vsum((-1, p)), mb**2)], (x1, x2, x3))
    alg = DiracAlgebra(x1, x2, x3, m, M, E, Qmom, a, b)
    photon_vertex = -I * Qch * e  # times gamma^mu
    if boson == "photon":
        def chain(Skq, G, Sk):
            total = alg.matrix(sp.zeros(4))
            for c in range(4):
                total = total + alg.times(METRIC[c], alg.gamma[c] * Skq * G * Sk * alg.gamma[c])
            return total
        const = (-I * Qch * e) ** 2 * photon_vertex * I * I * (-I)
    elif boson == "scalar":
        def chain(Skq, G, Sk):
            return Skq * G * Sk
        const = (-I * y) ** 2 * photon_vertex * I**3
    elif boson == "pseudoscalar":
        def chain(Skq, G, Sk):
            return alg.gamma5 * Skq * G * Sk * alg.gamma5
        const = y**2 * photon_vertex * I**3  # vertex i * (-i y gamma5) = y gamma5
    elif boson == "chiral":
        v_in = alg.times(I * a, alg.pr) + alg.times(I * b, alg.pl)    # a Fbar P_R l s + h.c. of b-term
        v_out = alg.times(I * b, alg.pr) + alg.times(I * a, alg.pl)   # b lbar P_R F s + h.c. of a-term

        def chain(Skq, G, Sk):
            return v_out * Skq * G * Sk * v_in
        const = photon_vertex * I**3
    else:
        raise ValueError(boson)

    mass = alg.times(mf, alg.one)

    def rows(l):
        k = vsum((1, l), (-1, s))
        kq = vsum((1, k), (1, q))
        return [chain(alg.slash(kq) + mass, alg.gamma[mu], alg.slash(k) + mass) for mu in range(4)]

    avg = loop_average(rows, components=4)
    on_shell = {E: sp.sqrt(m**2 + Qmom**2 / 4)}
    _, F2_zero = vertex_form_factors([r0 for r0, _ in avg], p, pp, m, on_shell)
    _, F2_two = vertex_form_factors([r2 for _, r2 in avg], p, pp, m, on_shell)
    if sp.simplify(F2_two) != 0:
        raise AssertionError("the l^2 part of the numerator contributes to F2")
    # symmetrize x1 <-> x2 (D is symmetric), then q -> 0
    sym = (F2_zero + F2_zero.subs({x1: x2, x2: x1}, simultaneous=True)) / 2
    sym = sp.limit(sp.simplify(sym.subs(x1, 1 - x2 - x3)), Qmom, 0)
    D0 = sp.expand(D.subs(on_shell).subs(x1, 1 - x2 - x3).subs(Qmom, 0))
    # amplitude = const * 2 * (-i/(32 pi^2 D)) * numerator;  Lambda = amplitude / (-i Q e)
    density = sp.simplify(const * 2 * (-I / (32 * sp.pi**2)) * sym / D0 / photon_vertex)
    names = {"m": m, "m_b": mb, "M": M, "y": y, "a": a, "b": b, "e": e, "Q_l": Qch}
    return density, (x2, x3), names
