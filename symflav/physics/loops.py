"""One-loop functions from their Feynman-parameter integrals.

The chirality-flipping loop of a heavy fermion F (mass M) and a scalar (mass m) is
derived with explicit Dirac matrices in :mod:`symflav.physics.dirac`; this module turns it
into dimensionless loop functions of ``x = m/M`` and integrates them with sympy:

* ``I_m``   -- self-energy at zero momentum, the finite part of B0(0; M, m) at mu = M:
  ``dm = -(a b M / 16 pi^2) I_m(x)``;
* ``I_da``  -- dipole with the photon on F:
  ``d = -(a b Q_F e / (32 pi^2 M)) I_da(x)``;
* ``I_da_S`` -- dipole with the photon on the scalar line (for generality):
  ``d = +(a b Q_S e / (32 pi^2 M)) I_da_S(x)``.

Mass insertions on the scalar line: one insertion of a quadratic vertex c is
``d/dm^2`` of the propagator, n insertions ``(1/n!) d^n/d(m^2)^n``; in x at fixed M
this is ``(1/n!) d^n/d(x^2)^n`` applied to the integrand before integrating (``_x``:
n = 1; ``_xx``: n = 2).

Vev insertions on the heavy line inside the loop (a flavon pair closed across r
intermediate vertices): with mediator-mediator Yukawas that couple both chiralities
with the same g (a Dirac-mass insertion), the loop is ``(-1)^r/r! d^r/dM^r`` of the
adjacent one, exactly. In x this gives the families (``_r1`` for r = 1)
``J_r = (-1)^r/r! M^(r-1) d^r/dM^r [M I_m(m/M)]`` and
``D_r = (-1)^r/r! M^(r+1) d^r/dM^r [I_da(m/M)/M]`` at fixed m.

Every closed form is brought to a canonical form: a polynomial in x and log x over
``c (1 - x^2)^k``.
"""

from __future__ import annotations

import collections
import dataclasses
from dataclasses import dataclass, field
from functools import lru_cache

import mpmath
import sympy as sp

from symflav.core import symbols
from symflav.physics import dirac

X = symbols.auxiliary("x", "x", positive=True)
A2 = symbols.auxiliary("x2sq", "x^2", positive=True)  # a = x^2 while integrating
Z = symbols.auxiliary("z", "z", positive=True)

FAMILIES = {
    "I_m": ("mass", r"I_m", "self-energy B0(0; M, m) at mu = M (finite part)"),
    "I_da": ("dipole_fermion", r"I_{\Delta a}", "dipole, photon on the heavy fermion"),
    "I_da_S": ("dipole_scalar", r"I_{\Delta a, S}", "dipole, photon on the charged scalar"),
}


@dataclass(frozen=True)
class LoopFunction:
    """A loop function of x = m/M: its integral representation and closed form.

    ``integrand`` is a function of (z, x) with the loop function = int_0^1 dz integrand
    (z: Feynman parameter of the scalar line). ``taylor_one`` holds c_k of
    sum_k c_k (x^2 - 1)^k at x = 1; ``asymptotic_zero`` the expansion for x -> 0.
    """

    key: str
    family: str
    insertions: int
    fermion_insertions: int
    latex: str
    description: str
    integrand: sp.Expr | None
    closed_form: sp.Expr
    at_zero: sp.Expr
    asymptotic_zero: sp.Expr
    at_one: sp.Expr
    taylor_one: tuple[sp.Expr, ...]
    sign: str
    equation: str | None = None
    parent: str | None = None

    def to_json(self) -> dict:
        return {
            "key": self.key,
            "equation": self.equation,
            "family": self.family,
            "mass_insertions": self.insertions,
            "fermion_insertions": self.fermion_insertions,
            "description": self.description,
            "integral_representation": {"variable": str(Z), "from": 0, "to": 1, "integrand": str(self.integrand)},
            "defined_from": self.parent,
            "closed_form": str(self.closed_form),
            "limit_x_to_0": str(self.at_zero),
            "asymptotic_x_to_0": str(self.asymptotic_zero),
            "value_x_to_1": str(self.at_one),
            "taylor_in_x2_minus_1": [str(c) for c in self.taylor_one],
            "sign": self.sign,
        }


@dataclass(frozen=True)
class Loops:
    """Result of the loops stage (INTERFACES.md): ``x``, ``closed_forms`` and more."""

    x: sp.Symbol
    z: sp.Symbol
    functions: tuple[LoopFunction, ...]
    prefactors: tuple[tuple[str, sp.Expr], ...]  # family -> amplitude = prefactor * function
    couplings: dict = field(default_factory=dict, compare=False, hash=False)
    dipole_rule: sp.Expr | None = None  # vertex coefficient of the dipole operator (dirac.ChiralityFlip)

    def __getitem__(self, key: str) -> LoopFunction:
        return {f.key: f for f in self.functions}[key]

    @property
    def closed_forms(self) -> dict[str, sp.Expr]:
        return {f.key: f.closed_form for f in self.functions}

    @property
    def integral_representations(self) -> dict[str, sp.Expr]:
        return {f.key: f.integrand for f in self.functions if f.integrand is not None}

    def to_json(self) -> dict:
        return {
            "x": "m/M (scalar mass over heavy fermion mass)",
            "conventions": CONVENTIONS,
            "amplitudes": {name: str(expr) for name, expr in self.prefactors},
            "functions": [f.to_json() for f in self.functions],
        }


CONVENTIONS = {
    "loop": "heavy fermion F (mass M) and scalar S (mass m); L ⊃ a Fbar P_R l S + b lbar P_R F S^dagger + h.c.",
    "mass_term": "L ⊃ -m lbar_L l_R + h.c. = -m lbar P_R l + h.c.",
    "dipole_term": "L ⊃ d lbar sigma^{mu nu} P_R l F_{mu nu} + h.c. (d = e m C/(8 pi^2))",
    "qed": "D_mu = d_mu + i Q e A_mu, e > 0, Q_l = -1 (Peskin & Schroeder)",
    "renormalization": "MS-bar finite part of B0 at mu = M (I_m); the pole cancels in every sum of "
                       "scalar states whose weights sum to zero",
    "external_momenta": "neglected against M, m (leading order in m_l/M)",
}


# ------------------------------------------------------------------ canonical form


def canonical(expr: sp.Expr, x: sp.Symbol = X) -> sp.Expr:
    """Write expr as (polynomial in x and log x) / (c x^j (1 - x^2)^k)."""
    L = sp.Dummy("L")
    e = sp.expand_log(sp.sympify(expr), force=True).subs(sp.log(x), L)
    try:
        num, den = _fraction_in(e, (x, L))
    except (sp.CoercionFailed, sp.PolynomialError):  # not rational in x, log x
        num, den = sp.fraction(sp.cancel(sp.together(e)))
    return _canonical_parts(num, den, x, L)


def _fraction_in(expr: sp.Expr, gens) -> tuple[sp.Expr, sp.Expr]:
    """Reduced numerator and denominator of a rational function of ``gens`` (polynomial
    arithmetic over QQ: the expression tree is combined into one fraction without
    intermediate gcds, then common factors are cancelled once)."""
    ring, *ring_gens = sp.ring(tuple(gens), sp.QQ)
    num, den = _fraction_parts(sp.sympify(expr), ring, dict(zip(gens, ring_gens)))
    num, den = num.cancel(den)
    return num.as_expr(), den.as_expr()


def _fraction_parts(expr: sp.Expr, ring, gens: dict):
    """(numerator, denominator) polynomials of ``ring`` whose quotient is ``expr``."""
    if expr in gens:
        return gens[expr], ring.one
    if expr.is_Add:
        num, den = ring.zero, ring.one
        for arg in expr.args:
            n, d = _fraction_parts(arg, ring, gens)
            if d == den:
                num += n
            else:
                num, den = num * d + n * den, den * d
        return num, den
    if expr.is_Mul:
        num, den = ring.one, ring.one
        for arg in expr.args:
            n, d = _fraction_parts(arg, ring, gens)
            num, den = num * n, den * d
        return num, den
    if expr.is_Pow and expr.exp.is_Integer:
        n, d = _fraction_parts(expr.base, ring, gens)
        k = int(expr.exp)
        return (n**k, d**k) if k >= 0 else (d ** (-k), n ** (-k))
    if expr.is_Rational:
        return ring(expr.p), ring(expr.q)
    raise sp.CoercionFailed(f"{expr} is not a rational function of {tuple(gens)}")


def _canonical_parts(num: sp.Expr, den: sp.Expr, x: sp.Symbol, L: sp.Symbol) -> sp.Expr:
    """:func:`canonical` of num/den (reduced; den a polynomial in x; num in x and L = log x)."""
    den_poly = sp.Poly(den, x)
    coeff, factors = sp.factor_list(den_poly)
    k_minus = k_plus = j = 0
    rest = sp.S.One
    for f, k in factors:
        fx = f.as_expr()
        if sp.expand(fx - (x - 1)) == 0:
            k_minus = k
        elif sp.expand(fx - (x + 1)) == 0:
            k_plus = k
        elif sp.expand(fx - x) == 0:
            j = k
        else:
            rest *= fx**k
    k = min(k_minus, k_plus)
    rest *= (x - 1) ** (k_minus - k) * (x + 1) ** (k_plus - k)
    sign = (-1) ** k  # (x^2 - 1)^k = (-1)^k (1 - x^2)^k
    numerator = sp.collect(sp.expand(sign * num / coeff), L).subs(L, sp.log(x))
    denominator = x**j * (1 - x**2) ** k * rest
    return sp.Mul(numerator, sp.Pow(denominator, -1))


def same_function(f: sp.Expr, g: sp.Expr, x: sp.Symbol = X) -> bool:
    """Exact identity of two closed forms (log x treated as an independent symbol)."""
    L = sp.Dummy("L")
    diff = sp.expand_log(f - g, force=True).subs(sp.log(x), L)
    return sp.cancel(sp.together(diff)) == 0


# ------------------------------------------------------------------ integration


U = symbols.auxiliary("u", positive=True)
C = symbols.auxiliary("c")  # c = x^2 - 1 while integrating


@lru_cache(maxsize=64)
def _power_log_integral(k: int, j: int) -> sp.Expr:
    """int_1^(1+c) du u^k log(u)^j, by sympy (pure in its two integers: the bounded cache only
    saves integrating again)."""
    return sp.integrate(U**k * sp.log(U) ** j, (U, 1, 1 + C))


def _integrate(integrand: sp.Expr) -> sp.Expr:
    """int_0^1 dz of an integrand in (z, a = x^2); closed form in x.

    The integrands are rational in z with denominators (1 + c z)^n, c = x^2 - 1,
    possibly times powers of log(1 + c z). The linear substitution u = 1 + c z
    (dz = du/c, u from 1 to 1 + c) turns them into Laurent polynomials in u times
    powers of log u, integrated term by term with sympy; c is kept as one symbol until
    the end (a generic c != 0: x = 1 is reached as a limit, see ``taylor_one``).
    The arithmetic is done with polynomials over QQ (log u and log(1 + c) as generators).
    """
    Lu, Lc, Lx = sp.Dummy("log_u"), sp.Dummy("log_1_plus_c"), sp.Dummy("log_x")
    h = integrand.xreplace(_log_symbols(integrand, Lu)).xreplace({A2: 1 + C, Z: (U - 1) / C}) / C
    num, den = _fraction_in(h, (U, C, Lu))
    num_poly, den_poly = sp.Poly(num, U, Lu), sp.Poly(den, U, Lu)
    if len(den_poly.terms()) != 1:
        raise ArithmeticError(f"denominator {den} is not a power of u")
    ((n, _),), den_coeff = den_poly.monoms(), den_poly.coeffs()[0]
    G = sp.QQ.frac_field(C, Lc)
    total = G.zero
    for (k, j), coeff in num_poly.terms():
        total += G.from_sympy(coeff / den_coeff) * _power_log_integral_in(G, Lc, k - n, j)
    # c = x^2 - 1 and log(1 + c) = 2 log x
    back = {C: X**2 - 1, Lc: 2 * Lx}
    num, den = _fraction_in(total.numer.as_expr().xreplace(back) / total.denom.as_expr().xreplace(back), (X, Lx))
    return _canonical_parts(num, den, X, Lx)


def _power_log_integral_in(G, Lc, k: int, j: int):
    """:func:`_power_log_integral` as an element of G = QQ(c, log(1 + c))."""
    return G.from_sympy(_power_log_integral(k, j).xreplace({sp.log(1 + C): Lc}))


def taylor_at_one(integrand: sp.Expr, order: int = 3) -> tuple[sp.Expr, ...]:
    """Coefficients c_k of the loop function = sum_k c_k (x^2 - 1)^k near x = 1.

    c_k = int_0^1 dz (1/k!) d^k/d(x^2)^k integrand at x = 1, where the integrand is a
    polynomial in z. Gives the x -> 1 value (removable singularity of the closed form)
    and the coefficients a series patch needs. The derivatives are taken in the field of
    rational functions of (z, a, L), L = log(1 + (a - 1) z) with dL/da = z/(1 + (a - 1) z).
    """
    Lz = sp.Dummy("log_1_plus_cz")
    F = sp.QQ.frac_field(Z, A2, Lz)
    _, a, L = F.gens
    current = F.from_sympy(integrand.xreplace(_log_symbols(integrand, Lz)))
    dL = F.from_sympy(Z / (1 + (A2 - 1) * Z))
    coeffs = []
    for k in range(order):
        at_one = current.subs([(a, 1), (L, 0)])
        if at_one.denom.degree(0) > 0:
            raise ArithmeticError(f"the integrand at x = 1 is not a polynomial in z: {at_one}")
        antiderivative = sp.Poly(at_one.numer.as_expr(), Z).integrate()
        coeffs.append((antiderivative.eval(1) - antiderivative.eval(0)) / at_one.denom.as_expr())
        current = (current.diff(a) + current.diff(L) * dL) * F.from_sympy(sp.Rational(1, k + 1))
    return tuple(coeffs)


def _log_symbols(integrand: sp.Expr, symbol: sp.Symbol) -> dict:
    """{log(1 + (a - 1) z): symbol} for every log in the integrand (others are an error)."""
    logs = {}
    for term in integrand.atoms(sp.log):
        if sp.expand(term.args[0] - (1 + (A2 - 1) * Z)) != 0:
            raise ArithmeticError(f"log argument {term.args[0]} is not 1 + (x^2 - 1) z")
        logs[term] = symbol
    return logs


def _in_a(integrand_x: sp.Expr) -> sp.Expr:
    return integrand_x.subs(X, sp.sqrt(A2))


@lru_cache(maxsize=1)
def base_integrands() -> dict[str, tuple[sp.Expr, sp.Expr]]:
    """Feynman-parameter integrands in (z, a = x^2) and amplitude prefactors, from the Dirac algebra
    (no arguments: a constant of the module, derived once when first asked for)."""
    flip = dirac.chirality_flip()
    pieces = {
        "I_m": flip.mass_integrand,
        "I_da": flip.dipole_fermion_integrand,
        "I_da_S": flip.dipole_scalar_integrand,
    }
    result = {}
    for key, expr in pieces.items():
        e = sp.factor(sp.expand_log(expr.subs({flip.m: X * flip.M, flip.z: Z}), force=True))
        prefactor, integrand = e.as_independent(Z, as_Add=False)
        # normalize: positive integrand at x -> 0, z = 1/2
        probe = integrand.subs(X, 0).subs(Z, sp.Rational(1, 2))
        if probe.is_negative:
            prefactor, integrand = -prefactor, -integrand
        integrand = sp.expand_log(sp.logcombine(integrand, force=True), force=True)
        result[key] = (_in_a(integrand), sp.factor(prefactor))
    return result


def mass_insertion(integrand_a: sp.Expr, n: int) -> sp.Expr:
    """n insertions on the scalar line: (1/n!) d^n/d(x^2)^n of the integrand."""
    return sp.diff(integrand_a, A2, n) / sp.factorial(n)


def fermion_insertions(integrand_a: sp.Expr, family: str, r: int) -> sp.Expr:
    """Integrand of the r-vev-insertion family: (-1)^r/r! d^r/dM^r of the adjacent loop.

    At fixed m, with a = m^2/M^2 and the amplitude's M-dependence M * I_m (mass) or
    I_da / M (dipoles); normalized back by M^(r-1) (mass) or M^(r+1) (dipoles), M = 1.
    """
    M = sp.Symbol("M_", positive=True)
    m2 = sp.Symbol("m2_", positive=True)
    f = integrand_a.subs(A2, m2 / M**2)
    body, power = (M * f, r - 1) if family == "mass" else (f / M, r + 1)
    derived = (-1) ** r / sp.factorial(r) * M**power * sp.diff(body, M, r)
    return sp.expand_log(sp.factor(derived.subs(m2, A2 * M**2).subs(M, 1)), force=True)


def vev_insertion_terms(base: str, r: int) -> tuple[tuple[int, sp.Expr], ...]:
    """The r-vev-insertion member of ``base`` as a sum over its mass-insertion members:
    ``F_r(x) = sum_k c_k(x) F^(k)(x)`` with ``F^(k)`` = :func:`loop_function` (base, k, 0);
    pairs (k, c_k) with c_k != 0, c_k a polynomial in x.

    :func:`fermion_insertions` applied to an undefined g(a), a = x^2, gives
    sum_k p_k(a) d^k g/da^k; k mass insertions are (1/k!) d^k/da^k of the integrand
    (:func:`mass_insertion`) and the z-integral commutes with d/da, so c_k = k! p_k(x^2)
    for every integrand of the family."""
    family = FAMILIES[base][0]
    g = sp.Function("g")
    derived = fermion_insertions(g(A2), family, r).doit()
    slots = sp.symbols(f"g0:{r + 1}")
    for k in range(r, 0, -1):
        derived = derived.subs(sp.Derivative(g(A2), (A2, k)), slots[k])
    derived = sp.expand(derived.subs(g(A2), slots[0]))
    poly = sp.Poly(derived, *slots)
    terms = []
    for k in range(r + 1):
        coefficient = poly.coeff_monomial(slots[k])
        if coefficient != 0:
            terms.append((k, sp.expand(sp.factorial(k) * coefficient.subs(A2, X**2))))
    return tuple(terms)


def derivative_route(closed: sp.Expr, family: str, r: int) -> sp.Expr:
    """The same family from the closed form (second route, used by the tests)."""
    M, m = sp.Symbol("M_", positive=True), sp.Symbol("m_", positive=True)
    f = closed.subs(X, m / M)
    body, power = (M * f, r - 1) if family == "mass" else (f / M, r + 1)
    derived = (-1) ** r / sp.factorial(r) * M**power * sp.diff(body, M, r)
    return canonical(sp.expand_log(derived.subs(m, X * M), force=True).subs(M, 1))


# ------------------------------------------------------------------ limits and signs


def asymptotic_zero(f: sp.Expr, order: int = 3) -> sp.Expr:
    """Expansion for x -> 0 through x^(order-1), log x kept exact.

    Uses the canonical form N(x, log x) / (c x^j (1 - x^2)^k) and
    (1 - x^2)^(-k) = sum_i binomial(k + i - 1, i) x^(2 i).
    """
    num, den = sp.fraction(f)
    powers = sp.Mul.make_args(den)
    j, k, c = 0, 0, sp.S.One
    for factor in powers:
        base, exp = factor.as_base_exp()
        if base == X:
            j += int(exp)
        elif sp.expand(base - (1 - X**2)) == 0:
            k += int(exp)
        elif not factor.has(X):
            c *= factor
        else:
            L = sp.Symbol("L_")
            g = sp.expand_log(f, force=True).subs(sp.log(X), L)
            return sp.collect(sp.expand(sp.series(g, X, 0, order).removeO()), L).subs(L, sp.log(X))
    top = order + j
    L = sp.Symbol("L_")
    geometric = sum(sp.binomial(k + i - 1, i) * X ** (2 * i) for i in range((top + 1) // 2 + 1))
    product = sp.Poly(sp.expand(num.subs(sp.log(X), L) * geometric), X)
    kept = sum((coeff * X**n for (n,), coeff in product.terms() if n < top), sp.S.Zero)
    result = sp.expand(kept / (c * X**j))
    return sp.collect(result, L).subs(L, sp.log(X))


def limit_zero(asymptotic: sp.Expr) -> sp.Expr:
    """x -> 0 limit from the asymptotic expansion (log x -> -oo, x^-k -> oo)."""
    L = sp.Symbol("L_")
    g = sp.expand(asymptotic.subs(sp.log(X), L))
    lead_negative = [t for t in sp.Add.make_args(g) if sp.degree(t.as_independent(L)[1], L) == 0
                     and t.as_powers_dict().get(X, 0) < 0]
    if lead_negative:
        return sp.oo * sp.sign(sum(t.as_independent(X)[0] for t in lead_negative))
    constant = sp.expand(g.subs(X, 0)) if not g.has(X) or True else g
    constant = sum((t for t in sp.Add.make_args(g) if not t.has(X)), sp.S.Zero)
    log_coeff = sp.expand(constant).coeff(L, 1)
    if log_coeff != 0:
        return -sp.oo * sp.sign(log_coeff)
    return constant


def _sign_of(expr: sp.Expr, factored: bool = False) -> int | None:
    """+1/-1 if expr (in positive symbols) has a definite sign, else None."""
    if not factored and not expr.has(sp.log):
        return _rational_sign(expr)
    if not factored:
        expr = sp.factor(sp.together(expr))
    if expr.is_positive:
        return 1
    if expr.is_negative:
        return -1
    if isinstance(expr, sp.Mul):
        sign = 1
        for f in expr.args:
            s = _sign_of(f, True)
            if s is None:
                return None
            sign *= s
        return sign
    if isinstance(expr, sp.Pow) and expr.exp.is_integer:
        base = _sign_of(expr.base, True)
        if base is None:
            return None
        return base ** int(expr.exp % 2) if base < 0 else 1
    if isinstance(expr, sp.log):
        return _sign_of(sp.together(expr.args[0] - 1))
    return None


def _rational_sign(expr: sp.Expr) -> int | None:
    """:func:`_sign_of` for a rational function of positive symbols: factor numerator and
    denominator; an irreducible factor has a definite sign when all its coefficients have
    the same sign (an even power of an indefinite factor stays indefinite, as above)."""
    gens = sorted(expr.free_symbols, key=str)
    if not gens:
        return 1 if expr.is_positive else -1 if expr.is_negative else None
    num, den = _fraction_in(expr, gens)
    sign = 1
    for part in (num, den):
        content, factors = sp.factor_list(sp.Poly(part, *gens))
        if content < 0:
            sign = -sign
        for factor, _power in factors:
            coefficients = factor.coeffs()
            if all(c > 0 for c in coefficients):
                continue
            if all(c < 0 for c in coefficients) and _power % 2:
                sign = -sign
            elif not all(c < 0 for c in coefficients):
                return None
    return sign


def derive_sign(integrand_a: sp.Expr, closed: sp.Expr) -> str:
    """Sign of int_0^1 dz integrand for all x > 0, from the sign of the integrand.

    z = t/(1 + t) maps (0, 1) to t > 0; x < 1 and x > 1 are treated separately with
    x^2 = 1/(1 + b) and x^2 = 1 + b, b > 0. "not sign-definite" when the integrand's
    sign is not fixed (then the function may still have one sign; see the scan).
    """
    t, b = sp.Symbol("t", positive=True), sp.Symbol("b", positive=True)
    on_t = integrand_a.subs(Z, t / (1 + t))
    below = _sign_of(on_t.subs(A2, 1 / (1 + b)))
    above = _sign_of(on_t.subs(A2, 1 + b))
    at_one = _sign_of(on_t.subs(A2, 1))
    names = {1: "positive", -1: "negative"}
    if below is not None and below == above and at_one in (below, None):
        return names[below] + " for all x > 0 (sign-definite integrand)"
    if below is not None and above is not None and below != above:
        return f"{names[below]} for x < 1, {names[above]} for x > 1, zero at x = 1 (sign of the integrand)"
    return "integrand not sign-definite; " + _numeric_sign(closed)


def _numeric_sign(closed: sp.Expr) -> str:
    """Sign of a closed form on a logarithmic grid x in [1e-3, 1e2] (mpmath, 30 digits)."""
    f = sp.lambdify(X, closed, "mpmath")
    with mpmath.workdps(30):
        values = [f(mpmath.mpf(10) ** (k / 10)) for k in range(-30, 21) if k != 0]
    if all(v > 0 for v in values):
        return "positive on x in [1e-3, 1e2] (numerical scan)"
    if all(v < 0 for v in values):
        return "negative on x in [1e-3, 1e2] (numerical scan)"
    return "changes sign on x in [1e-3, 1e2] (numerical scan)"


# ------------------------------------------------------------------ assembly


def function_key(base: str, insertions: int, r: int) -> str:
    return base + ("_" + "x" * insertions if insertions else "") + (f"_r{r}" if r else "")


def function_latex(base_latex: str, insertions: int, r: int) -> str:
    tex = base_latex
    if insertions:
        tex += "^{" + r"\times" * insertions + "}"
    if r:
        tex = rf"{tex}{{}}^{{({r})}}"
    return tex


REMEMBERED = 64
"""How many loop functions :func:`loop_function` remembers (the most recently derived)."""
_DERIVED: collections.OrderedDict[tuple[str, int, int], LoopFunction] = collections.OrderedDict()


def loop_function(base: str, insertions: int = 0, r: int = 0) -> LoopFunction:
    """Any member of the families: base in FAMILIES, n mass insertions on the scalar line, r vev
    insertions on the heavy line inside the loop.

    A pure function of its (immutable) arguments, returning a frozen result; the last
    :data:`REMEMBERED` results are kept in ``_DERIVED`` (like a bounded ``lru_cache``, which
    :func:`adopt` can also fill) only so that later stages do not derive them again."""
    spec = (base, insertions, r)
    if spec not in _DERIVED:
        _remember(spec, _derive_loop_function(base, insertions, r))
    return _DERIVED[spec]


def _remember(spec: tuple[str, int, int], function: LoopFunction) -> None:
    _DERIVED.setdefault(spec, function)
    while len(_DERIVED) > REMEMBERED:
        _DERIVED.popitem(last=False)


def adopt(loops: "Loops") -> "Loops":
    """Remember the functions of a loops stage computed in another process (the pipeline
    forks it) or read from the on-disk cache, so that later stages asking
    :func:`loop_function` do not derive them again."""
    for f in loops.functions:
        _remember(parse_key(f.key), f)
    return loops


def _derive_loop_function(base: str, insertions: int, r: int) -> LoopFunction:
    family, latex, description = FAMILIES[base]
    key = function_key(base, insertions, r)
    integrand, _ = base_integrands()[base]
    parent = None
    if r:
        integrand = fermion_insertions(integrand, family, r)
        parent = f"(-1)^{r}/{r}! d^{r}/dM^{r} of the adjacent loop ({base})"
        description += f", {r} vev insertion(s) on the heavy line inside the loop"
    if insertions:
        integrand = mass_insertion(integrand, insertions)
        description += f", {insertions} mass insertion(s) on the scalar line"
    closed = _integrate(integrand)
    asym = asymptotic_zero(closed)
    taylor = taylor_at_one(integrand)
    return LoopFunction(
        key=key,
        family=family,
        insertions=insertions,
        fermion_insertions=r,
        latex=function_latex(latex, insertions, r),
        description=description,
        integrand=integrand.subs(A2, X**2),
        closed_form=closed,
        at_zero=limit_zero(asym),
        asymptotic_zero=asym,
        at_one=taylor[0],
        taylor_one=taylor,
        sign=derive_sign(integrand, closed),
        equation=None,
        parent=parent,
    )


STAGE_FUNCTIONS = (
    ("I_m", 0, 0), ("I_m", 1, 0), ("I_da", 0, 0), ("I_da", 1, 0),
    ("I_da_S", 0, 0), ("I_da_S", 1, 0),
    ("I_m", 0, 1), ("I_m", 1, 1), ("I_da", 0, 1), ("I_da", 1, 1),
)


def derive_loops(model=None, results=None) -> Loops:
    """The loops stage: closed forms of every function in :data:`STAGE_FUNCTIONS`, each with
    the study's reference (``loop.<key>``) when the model has one."""
    functions = tuple(loop_function(*spec) for spec in STAGE_FUNCTIONS)
    if model is not None:
        functions = tuple(dataclasses.replace(f, equation=model.reference_for(f"loop.{f.key}")) for f in functions)
    prefactors = tuple((base, pref) for base, (_, pref) in base_integrands().items())
    flip = dirac.chirality_flip()
    return Loops(
        x=X,
        z=Z,
        functions=functions,
        prefactors=prefactors,
        couplings={"a": flip.a, "b": flip.b, "M": flip.M, "e": flip.e, "Q_F": flip.Q_F, "Q_S": flip.Q_S},
        dipole_rule=flip.dipole_rule,
    )


def amplitude_relation(loops: Loops) -> dict[str, sp.Expr]:
    """The general chirality-flip formula and the sign relation it implies.

    For one loop (or a sum over scalar states with weights w_k summing to zero):
    dm = -(a b M/16 pi^2) sum w I_m,  d = -(a b Q_F e/(32 pi^2 M)) sum w I_da, and with
    Delta a = -4 m_l d/(Q_l e) (Pauli term; m_l the signed lepton mass in the same basis):
    Delta a = -(2 m_l/M^2) dm (sum w I_da)/(sum w I_m)   for Q_F = Q_l.
    """
    pre = dict(loops.prefactors)
    c = loops.couplings
    ml, Ql = sp.Symbol("m_l", real=True), sp.Symbol("Q_l", real=True)
    Sm, Sd = sp.Symbol("Sigma_m"), sp.Symbol("Sigma_da")  # sum_k w_k I(x_k)
    dm = pre["I_m"] * Sm
    d = pre["I_da"] * Sd
    delta_a = -4 * ml * d / (Ql * c["e"])
    ratio = sp.factor(sp.cancel((delta_a / dm).subs(c["Q_F"], Ql)))
    return {"dm": dm, "d": d, "delta_a": delta_a, "delta_a_over_dm": ratio, "m_l": ml,
            "Sigma_m": Sm, "Sigma_da": Sd}


# ------------------------------------------------------------------ symbolic use elsewhere


def parse_key(key: str) -> tuple[str, int, int]:
    """Inverse of :func:`function_key`: "I_da_x_r1" -> ("I_da", 1, 1)."""
    r = 0
    if "_r" in key and key.rsplit("_r", 1)[1].isdigit():
        key, tail = key.rsplit("_r", 1)
        r = int(tail)
    insertions = 0
    head, _, tail = key.rpartition("_")
    if head and tail and set(tail) == {"x"}:
        key, insertions = head, len(tail)
    if key not in FAMILIES:
        raise KeyError(key)
    return key, insertions, r


def _function_latex(self, printer, exp=None):
    tex = loop_function(*parse_key(type(self).__name__)).latex
    args = ", ".join(printer._print(a) for a in self.args)
    body = rf"{tex}\left({args}\right)"
    return rf"\left[{body}\right]^{{{exp}}}" if exp else body


@lru_cache(maxsize=None)  # an interning table, not a speed-up: one class per key, so expressions compare equal
def function_symbol(key: str) -> type[sp.Function]:
    """An unevaluated sympy function named ``key`` (e.g. ``I_m_x``) printing as in the paper
    (always the same class for the same key; the keys are those of :func:`parse_key`)."""
    parse_key(key)
    return type(key, (sp.Function,), {"nargs": 1, "is_real": True, "_latex": _function_latex})


def closed(expr: sp.Expr) -> sp.Expr:
    """Replace every loop-function symbol in expr by its closed form."""
    found = {f.func for f in expr.atoms(sp.Function) if parse_key_or_none(f.func.__name__)}
    for func in found:
        form = loop_function(*parse_key(func.__name__)).closed_form
        expr = expr.replace(func, sp.Lambda(X, form))
    return expr


def parse_key_or_none(name: str):
    try:
        return parse_key(name)
    except KeyError:
        return None


def __getattr__(name: str):
    """``symflav.physics.loops.I_m_x`` is :func:`function_symbol` ``("I_m_x")``: the module
    attribute under which pickle finds a loop-function symbol (the on-disk cache stores
    expressions that hold them)."""
    if parse_key_or_none(name) is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return function_symbol(name)
