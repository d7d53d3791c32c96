"""Eigenvalues and orthogonal mixing matrices as power series in a small parameter.

Input: a real symmetric matrix M(eps) given by its Taylor coefficients M_0, M_1, ... .
Output: eigenvalues lambda_i(eps) and an orthogonal U(eps) (columns = eigenvectors) with
U^T M U = diag(lambda) and U^T U = 1, both through the orders stated per state.

Method (quasi-degenerate perturbation theory, applied recursively):

1. *Exact symmetries first.* If swapping two fields leaves every M_k unchanged, the
   symmetric and antisymmetric combinations (e_i +- e_j)/sqrt 2 never mix and each sector
   is treated on its own. This is how an exactly degenerate diagonal (the a-b sector) is
   rotated to the basis the degeneracy picks.
2. *Leading order.* M_0 is diagonalized in closed form (its characteristic polynomial is
   factored over the parameters) and its eigenvalues are grouped into degenerate sets.
3. *Block diagonalization* (Schrieffer-Wolff): U_SW = exp(S), S antisymmetric,
   S = sum_k eps^k S_k coupling different degenerate sets only, solved order by order from
   (E_i - E_j) (S_k)_ij = -(R_k)_ij, R_k the order-k term of exp(-S_<k) M exp(S_<k). The
   effective blocks contain the seesaw terms (-M_lh M_hh^-1 M_hl at second order).
4. *Recursion.* A degenerate block B = E 1 + eps B_1 + ... is diagonalized by applying the
   same steps to (B - E 1)/eps: its eigenvalues are E + eps * (those of the shifted block).
   A block still degenerate when the orders run out is reported as such.

Orders: eigenvalues are exact through eps^N (absolute). A column reached through shifts
totalling s is exact through eps^(N - s); :func:`diagonalize` raises N until the requested
mixing order is reached (or a cap).

Arithmetic is exact, in the field of rational functions of the parameters
(:mod:`sympy.polys` domains, no ``simplify``). Square roots of normalizations are kept
out of the arithmetic: a basis with orthogonal but unnormalized columns V (V^T V = N
diagonal) represents a matrix X by X~ with X = N^-1/2 X~ N^-1/2, products become
X~ N^-1 Y~, and 1/sqrt(N) enters only the final U.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp
from sympy.polys.matrices import DomainMatrix

from symflav.core import symbols


class NoClosedForm(ValueError):
    """A leading-order block has no closed-form eigensystem."""


class _NeedsRadicals(Exception):
    """A 2x2 block has eigenvalues outside the field of the parameters (square roots)."""


class _NeedsExtension(Exception):
    """A 2x2 block needs the square root of a number: extend the ground field and start again."""

    def __init__(self, root: sp.Expr):
        super().__init__(str(root))
        self.root = root


# ------------------------------------------------------------------ exact field arithmetic


class _Algebra:
    """Small dense matrices over a sympy domain K; series are lists of matrices."""

    def __init__(self, K):
        self.K = K

    def zeros(self, n, m=None):
        m = n if m is None else m
        return [[self.K.zero] * m for _ in range(n)]

    def diag(self, values):
        n = len(values)
        A = self.zeros(n)
        for i, v in enumerate(values):
            A[i][i] = v
        return A

    def eye(self, n):
        return self.diag([self.K.one] * n)

    def is_zero(self, A):
        return all(not x for row in A for x in row)

    def add(self, A, B):
        return [[a + b for a, b in zip(ra, rb)] for ra, rb in zip(A, B)]

    def scale(self, A, c):
        return [[a * c for a in row] for row in A]

    def T(self, A):
        return [list(col) for col in zip(*A)] if A else []

    def mul(self, A, B, middle=None):
        """A diag(middle) B (``middle`` = inverse metric), or A B."""
        n, k, m = len(A), len(B), len(B[0]) if B else 0
        out = []
        for i in range(n):
            row = A[i]
            out_row = []
            for j in range(m):
                terms = []
                for l in range(k):
                    a = row[l]
                    if a:
                        b = B[l][j]
                        if b:
                            terms.append((a, b, middle[l]) if middle is not None else (a, b))
                out_row.append(self.sum_of_products(terms))
            out.append(out_row)
        return out

    def sum_of_products(self, terms):
        """sum of prod(t) over the tuples t of ``terms``.

        In a field of rational functions the products are summed per denominator with
        polynomial arithmetic, and common factors are cancelled once per distinct
        denominator (not after every operation): the same element, much less gcd work.
        """
        field = getattr(self.K, "field", None)
        if field is None or not terms:
            total = self.K.zero
            for t in terms:
                p = t[0]
                for f in t[1:]:
                    p = p * f
                total += p
            return total
        groups: dict = {}
        for t in terms:
            numer, denom = t[0].numer, t[0].denom
            for f in t[1:]:
                numer, denom = numer * f.numer, denom * f.denom
            groups[denom] = groups[denom] + numer if denom in groups else numer
        total = self.K.zero
        for denom, numer in groups.items():
            total += field.new(numer, denom)
        return total

    def extract(self, A, rows, cols):
        return [[A[i][j] for j in cols] for i in rows]

    # series (lists of matrices, coefficient of eps^k at index k)
    def smul(self, A, B, order, middle=None):
        n, m = len(A[0]), len(B[0][0])
        out = []
        for k in range(order + 1):
            C = self.zeros(n, m)
            for i in range(min(k, len(A) - 1) + 1):
                j = k - i
                if j < len(B) and not self.is_zero(A[i]) and not self.is_zero(B[j]):
                    C = self.add(C, self.mul(A[i], B[j], middle))
            out.append(C)
        return out

    def sexp(self, S, metric, order):
        """Tilde representation of exp(S) for tilde S (S_0 = 0) in a basis of metric ``metric``."""
        inverse = [self.K.one / x for x in metric]
        n = len(metric)
        result = [self.diag(metric)] + [self.zeros(n) for _ in range(order)]
        term = [self.zeros(n)] + [S[k] if k < len(S) else self.zeros(n) for k in range(1, order + 1)]
        result = [self.add(r, t) for r, t in zip(result, term)]
        for p in range(2, order + 1):
            term = self.smul(term, S, order, inverse)
            term = [self.scale(t, self.K.one / p) for t in term]
            result = [self.add(r, t) for r, t in zip(result, term)]
        return result

    def to_sympy(self, A):
        return sp.Matrix([[self.K.to_sympy(x) for x in row] for row in A])


# ------------------------------------------------------------------ exact leading order


def _components(alg: _Algebra, A) -> list[list[int]]:
    n = len(A)
    parent = list(range(n))

    def find(i):
        while parent[i] != i:
            i = parent[i]
        return i

    for i in range(n):
        for j in range(i + 1, n):
            if A[i][j]:
                parent[find(i)] = find(j)
    groups: dict[int, list[int]] = {}
    for i in range(n):
        groups.setdefault(find(i), []).append(i)
    return sorted(groups.values())


def _exact_sqrt(K, x):
    """sqrt(x) in K when x is a perfect square there (square-free decomposition), else None."""
    if not x:
        return K.zero
    field = getattr(K, "field", None)
    if field is not None and field.domain == sp.QQ and not x.numer.is_ground:
        return _exact_sqrt_rational_function(field, x)
    value = K.to_sympy(x)
    if value.is_number:
        try:
            return K.from_sympy(sp.sqrt(value))
        except Exception:
            return None
    num, den = sp.fraction(sp.cancel(value))
    root = sp.S.One
    for part, power in ((num, 1), (den, -1)):
        try:
            coefficient, factors = sp.sqf_list(sp.expand(part))
        except (sp.PolynomialError, NotImplementedError):
            return None
        if any(m % 2 for _, m in factors):
            return None
        c = sp.sqrt(coefficient)
        if not c.is_rational:
            return None
        root *= (c * sp.Mul(*(f ** (m // 2) for f, m in factors))) ** power
    return K.from_sympy(root)


def _exact_sqrt_rational_function(field, x):
    """:func:`_exact_sqrt` in QQ(parameters), from the square-free decompositions of the
    numerator and denominator polynomials (no conversion to expressions)."""
    coefficient = field.domain.one
    roots = []
    for part in (x.numer, x.denom):
        c, factors = part.sqf_list()
        if any(m % 2 for _, m in factors):
            return None
        coefficient = coefficient * c if not roots else coefficient / c
        root = part.ring.one
        for f, m in factors:
            root *= f ** (m // 2)
        roots.append(root)
    c = sp.sqrt(field.domain.to_sympy(coefficient))
    if not c.is_rational:
        return None
    return field.new(roots[0] * field.domain.from_sympy(c), roots[1])


def _roots(alg: _Algebra, A, metric) -> list:
    """Eigenvalues of diag(metric)^-1 A in K (closed form), with multiplicity."""
    K = alg.K
    n = len(A)
    if n == 2:
        trace = A[0][0] / metric[0] + A[1][1] / metric[1]
        det = (A[0][0] * A[1][1] - A[0][1] * A[1][0]) / (metric[0] * metric[1])
        disc = trace * trace - 4 * det
        root = _exact_sqrt(K, disc)
        if root is None:
            value = K.to_sympy(disc)
            if value.is_number:
                raise _NeedsExtension(sp.sqrt(value))
            raise _NeedsRadicals
        half = K.one / 2
        return [(trace - root) * half, (trace + root) * half]
    t = sp.Dummy("t")
    scaled = DomainMatrix([[A[i][j] / metric[i] for j in range(n)] for i in range(n)], (n, n), K)
    coefficients = scaled.charpoly()
    charpoly = sp.Add(*(K.to_sympy(c) * t ** (n - k) for k, c in enumerate(coefficients)))
    numerator = sp.fraction(sp.cancel(sp.together(charpoly)))[0]
    _, all_factors = sp.factor_list(sp.expand(numerator))
    roots: list = []
    for base, power in all_factors:
        if not base.has(t):
            continue
        poly = sp.Poly(base, t)
        if poly.degree() != 1:
            raise NoClosedForm(f"characteristic polynomial factor of degree {poly.degree()} in a {n}x{n} block")
        a, b = poly.all_coeffs()
        roots.extend([K.from_sympy(sp.cancel(-b / a))] * power)
    if len(roots) != n:
        raise NoClosedForm("characteristic polynomial not factored over the parameters")
    return roots


def _generalized_eigensystem(alg: _Algebra, A, metric):
    """Solutions of A w = lambda diag(metric) w for a connected block: [(lambda, [w, ...])].

    The w of one lambda are made orthogonal in the metric (Gram-Schmidt, unnormalized).
    """
    K = alg.K
    n = len(A)
    roots = _roots(alg, A, metric)
    distinct = []
    for r in roots:
        if not any(not (r - d) for d in distinct):
            distinct.append(r)
    result = []
    for r in distinct:
        shifted = [[A[i][j] - (r * metric[i] if i == j else K.zero) for j in range(n)] for i in range(n)]
        if n == 2 and shifted[0][1]:
            vectors = [[shifted[0][1], -shifted[0][0]]]
        else:
            basis = DomainMatrix(shifted, (n, n), K).nullspace()
            vectors = [list(row) for row in basis.to_list()]
        if not vectors:
            raise NoClosedForm("no eigenvector found")
        vectors = [_primitive(K, v) for v in vectors]
        orthogonal = []
        for v in vectors:
            w = list(v)
            for u in orthogonal:
                uu = sum((x * x * m for x, m in zip(u, metric)), K.zero)
                uv = sum((x * y * m for x, y, m in zip(u, v, metric)), K.zero)
                w = [wi - uv / uu * ui for wi, ui in zip(w, u)]
            orthogonal.append(w)
        result.append((r, orthogonal))
    return result


def _primitive(K, v):
    """Scale an eigenvector so that its first nonzero entry is 1 (plain numbers stay plain)."""
    lead = next(x for x in v if x)
    return [x / lead for x in v]


def _leading_eigensystem(alg: _Algebra, A, metric):
    """W (columns: generalized eigenvectors), energies, new metric, degenerate groups."""
    K = alg.K
    n = len(A)
    columns, energies = [], []
    for comp in _components(alg, A):
        if len(comp) == 1:
            e = [K.zero] * n
            e[comp[0]] = K.one
            columns.append(e)
            energies.append(A[comp[0]][comp[0]] / metric[comp[0]])
            continue
        block = alg.extract(A, comp, comp)
        for value, vectors in _generalized_eigensystem(alg, block, [metric[i] for i in comp]):
            for v in vectors:
                e = [K.zero] * n
                for k, i in enumerate(comp):
                    e[i] = v[k]
                columns.append(e)
                energies.append(value)
    W = alg.T(columns)
    new_metric = [sum((x * x * m for x, m in zip(col, metric)), K.zero) for col in columns]
    groups: list[list[int]] = []
    for i, value in enumerate(energies):
        for g in groups:
            if not (energies[g[0]] - value):
                g.append(i)
                break
        else:
            groups.append([i])
    return W, energies, new_metric, groups


# ------------------------------------------------------------------ Schrieffer-Wolff


def _schrieffer_wolff(alg: _Algebra, H, metric, energies, groups, order):
    """Tilde S and tilde exp(-S) H exp(S) (block diagonal through ``order``), metric ``metric``."""
    n = len(metric)
    inverse = [alg.K.one / x for x in metric]
    label = {i: g_index for g_index, g in enumerate(groups) for i in g}
    S = [alg.zeros(n) for _ in range(order + 1)]
    for k in range(1, order + 1):
        U = alg.sexp(S[:k], metric, k)
        Ut = [alg.T(u) for u in U]
        R = alg.zeros(n)
        for a in range(k + 1):
            if alg.is_zero(Ut[a]):
                continue
            for b in range(k + 1 - a):
                if alg.is_zero(H[b]):
                    continue
                left = alg.mul(Ut[a], H[b], inverse)
                c = k - a - b
                if not alg.is_zero(U[c]):
                    R = alg.add(R, alg.mul(left, U[c], inverse))
        Sk = alg.zeros(n)
        for i in range(n):
            for j in range(n):
                if label[i] != label[j] and R[i][j]:
                    Sk[i][j] = -R[i][j] / (energies[i] - energies[j])
        S[k] = Sk
    U = alg.sexp(S, metric, order)
    Ut = [alg.T(u) for u in U]
    Hp = alg.smul(alg.smul(Ut, H[: order + 1], order, inverse), U, order, inverse)
    for h in Hp:
        for i in range(n):
            for j in range(n):
                if label[i] != label[j]:
                    if h[i][j]:
                        raise AssertionError("Schrieffer-Wolff left an off-block term")
    return U, Hp


# ------------------------------------------------------------------ recursion


@dataclass(frozen=True)
class _Radical:
    """Eigenvalue (a + d)/2 + sign sqrt(((a - d)/2)^2 + b^2) of the symmetric 2x2 block
    N^-1/2 A~ N^-1/2 (A~, N in K): its eigenvalues are not in K."""

    A: tuple
    metric: tuple
    sign: int


@dataclass(frozen=True)
class _Result:
    eigenvalues: list  # per state: coefficients of eps^k (K elements; a _Radical ends a series)
    U: list  # tilde U series (metric_in -> metric_out)
    metric_out: list
    mixing_orders: list
    degenerate: list  # tuples of state indices degenerate through the order
    closed_form: list = ()  # ((i, j), tilde 2x2 block, metric pair): rotate columns i, j in closed form


def _closed_form_leaf(alg: _Algebra, T, metric, order) -> _Result:
    """A 2x2 block whose leading matrix has irrational eigenvalues: diagonalized exactly at this
    order (eigenvalues (trace +- sqrt(disc))/2, rotation applied to the final U), no further orders."""
    A = tuple(tuple(row) for row in T[0])
    eig = [[_Radical(A, tuple(metric), -1)], [_Radical(A, tuple(metric), 1)]]
    U = [alg.eye(2)] + [alg.zeros(2) for _ in range(order)]
    return _Result(eig, U, list(metric), [0, 0], [], [((0, 1), A, list(metric))])


def _diagonalize(alg: _Algebra, T, metric, order):
    """Tilde series T (metric ``metric``) -> eigenvalues, tilde U, output metric, orders."""
    K = alg.K
    n = len(metric)
    if n == 1:
        return _Result([[t[0][0] / metric[0] for t in T[: order + 1]]],
                       [alg.eye(1)] + [alg.zeros(1) for _ in range(order)], list(metric), [order], [])
    try:
        W, energies, new_metric, groups = _leading_eigensystem(alg, T[0], metric)
    except _NeedsRadicals:
        if n == 2:
            return _closed_form_leaf(alg, T, metric, order)
        raise NoClosedForm("a 2x2 block with irrational eigenvalues inside a larger leading block") from None
    if len(groups) == 1:  # T_0 = E 1: shift by one order
        E = energies[0]
        if order == 0:
            return _Result([[E] for _ in range(n)], [alg.eye(n)], list(metric), [-1] * n, [tuple(range(n))])
        sub = _diagonalize(alg, T[1: order + 1], metric, order - 1)
        return _Result([[E] + list(e) for e in sub.eigenvalues], list(sub.U) + [alg.zeros(n)],
                       sub.metric_out, list(sub.mixing_orders), list(sub.degenerate), list(sub.closed_form))
    Wt = alg.T(W)
    # tilde in the new basis: W^T T~ W (no metric in between: W maps tilde coordinates)
    Tp = [alg.mul(alg.mul(Wt, t), W) for t in T[: order + 1]]
    Usw, Hp = _schrieffer_wolff(alg, Tp, new_metric, energies, groups, order)
    eig: list = [None] * n
    orders = [order] * n
    degenerate, closed_form = [], []
    V = [alg.zeros(n) for _ in range(order + 1)]
    metric_out = list(new_metric)
    for g in groups:
        if len(g) == 1:
            i = g[0]
            eig[i] = [h[i][i] / new_metric[i] for h in Hp]
            V[0][i][i] = K.one
            continue
        block = [alg.extract(h, g, g) for h in Hp]
        sub = _diagonalize(alg, block, [new_metric[i] for i in g], order)
        for a, i in enumerate(g):
            eig[i] = sub.eigenvalues[a]
            orders[i] = sub.mixing_orders[a]
            metric_out[i] = sub.metric_out[a]
            for b, j in enumerate(g):
                for k in range(len(sub.U)):
                    V[k][j][i] = sub.U[k][b][a]
        degenerate.extend(tuple(g[a] for a in d) for d in sub.degenerate)
        closed_form.extend(((g[i], g[j]), A, m) for (i, j), A, m in sub.closed_form)
    # U~ = W N1^-1 E~ V~  (see module docstring); metric_in -> metric_out
    inverse_new = [K.one / x for x in new_metric]
    Wseries = [W] + [alg.zeros(n) for _ in range(order)]
    U = alg.smul(Wseries, alg.smul(Usw, V, order), order, inverse_new)
    return _Result(eig, U, metric_out, orders, degenerate, closed_form)


def _block_entries(K, A, metric):
    """a, b, d of the symmetric 2x2 block N^-1/2 A~ N^-1/2, each factored."""
    n0, n1 = K.to_sympy(metric[0]), K.to_sympy(metric[1])
    a = sp.factor(K.to_sympy(A[0][0]) / n0)
    d = sp.factor(K.to_sympy(A[1][1]) / n1)
    b = sp.factor(K.to_sympy(A[0][1])) / sp.sqrt(n0 * n1)
    return a, b, d


def _to_sympy(K, c) -> sp.Expr:
    if isinstance(c, _Radical):
        a, b, d = _block_entries(K, c.A, c.metric)
        return (a + d) / 2 + c.sign * sp.sqrt(sp.factor(sp.cancel((a - d) ** 2 / 4)) + b**2)
    return K.to_sympy(c)


def _rotation_2x2(K, A, metric) -> sp.Matrix:
    """Orthogonal R with R^T B R = diag(lower, upper) for B = N^-1/2 A~ N^-1/2, written with the
    mixing angle theta = atan2(2 b, a - d)/2 (columns (-sin, cos) and (cos, sin))."""
    a, b, d = _block_entries(K, A, metric)
    theta = sp.atan2(2 * b, a - d) / 2
    return sp.Matrix([[-sp.sin(theta), sp.cos(theta)], [sp.cos(theta), sp.sin(theta)]])


# ------------------------------------------------------------------ symmetries and driver


def exchange_symmetries(T: list) -> list[tuple[int, int]]:
    """Disjoint pairs (i, j) whose swap leaves every (sympy) T_k unchanged."""
    n = T[0].rows
    pairs, used = [], set()
    for i in range(n):
        for j in range(i + 1, n):
            if i in used or j in used:
                continue
            perm = list(range(n))
            perm[i], perm[j] = j, i
            if all(sp.expand(t.extract(perm, perm) - t).is_zero_matrix for t in T):
                pairs.append((i, j))
                used |= {i, j}
    return pairs


def sectors(T: list):
    """Integer matrix R~ (columns e_k or e_i +- e_j), the column indices of each sector, labels."""
    n = T[0].rows
    pairs = exchange_symmetries(T)
    paired = {i for p in pairs for i in p}
    columns, signs, firsts = [], [], []
    for i in range(n):
        if i not in paired:
            e = [0] * n
            e[i] = 1
            columns.append(e)
            signs.append(tuple(1 for _ in pairs))
            firsts.append(i)
    for a, (i, j) in enumerate(pairs):
        for s in (1, -1):
            e = [0] * n
            e[i], e[j] = 1, s
            columns.append(e)
            signs.append(tuple(s if b == a else 1 for b in range(len(pairs))))
            firsts.append(i)
    keys = sorted(set(signs), key=lambda s: tuple(-x for x in s))
    ordered, sector_index, labels = [], [], []
    for key in keys:
        idx = sorted((c for c in range(len(columns)) if signs[c] == key), key=lambda c: firsts[c])
        sector_index.append(list(range(len(ordered), len(ordered) + len(idx))))
        ordered.extend(columns[c] for c in idx)
        labels.append("".join("+" if x > 0 else "-" for x in key) or "+")
    return sp.Matrix(ordered).T, sector_index, labels


@dataclass(frozen=True)
class Diagonalization:
    """Eigenvalue series (per state, coefficients of eps^0..eps^order), U series, orders.

    ``mixing_orders[i]``: column i of U is exact through eps^that; -1 means the state is
    degenerate with its partners in ``degenerate`` through the computed order and its
    direction inside that subspace is not fixed by the expansion.
    ``sectors[i]``: exchange-symmetry sector label of state i.
    """

    order: int
    eigenvalues: tuple[tuple[sp.Expr, ...], ...]
    U: tuple[sp.Matrix, ...]
    mixing_orders: tuple[int, ...]
    degenerate: tuple[tuple[int, ...], ...]
    sectors: tuple[str, ...]
    notes: tuple[str, ...]

    def eigenvalue(self, i: int, eps: sp.Symbol) -> sp.Expr:
        return sp.Add(*(c * eps**k for k, c in enumerate(self.eigenvalues[i])))

    def U_matrix(self, eps: sp.Symbol, order: int | None = None) -> sp.Matrix:
        order = len(self.U) - 1 if order is None else order
        out = sp.zeros(*self.U[0].shape)
        for k in range(min(order, len(self.U) - 1) + 1):
            out += self.U[k] * eps**k
        return out


def _domain(exprs, extensions=()):
    """The field of rational functions of the parameters over QQ (or QQ with square roots)."""
    gens = sorted(set().union(*(e.free_symbols for e in exprs)), key=str)
    ground = sp.QQ.algebraic_field(*extensions) if extensions else sp.QQ
    K = ground.frac_field(*gens) if gens else ground
    for e in exprs:
        try:
            K.from_sympy(e)
        except Exception:
            raise NoClosedForm(f"matrix entry {e} is not a rational function of the parameters") from None
    return K


def diagonalize(T: list, order: int, mixing_order: int, max_order: int | None = None) -> Diagonalization:
    """Eigenvalues through eps^``order``; U columns through eps^``mixing_order`` where reachable.

    ``T``: sympy Taylor coefficients M_0, M_1, ... (at least ``max_order`` + 1 of them;
    default max_order = len(T) - 1). Entries must be rational functions of the parameters.
    """
    max_order = len(T) - 1 if max_order is None else min(max_order, len(T) - 1)
    n = T[0].rows
    R, sector_index, labels = sectors(T)
    notes: list[str] = []
    state_sector: list[str] = [""] * n
    eig: list = [None] * n
    orders = [0] * n
    degenerate: list[tuple[int, ...]] = []
    pieces = []
    for idx, label in zip(sector_index, labels):
        Rs = R.extract(list(range(n)), idx)
        block = [sp.expand(Rs.T * t * Rs) for t in T]
        entries = [x for b in block for x in b]
        metric_sym = [sum(x * x for x in Rs[:, c]) for c in range(len(idx))]
        extensions: list[sp.Expr] = []
        while True:
            K = _domain(entries + [sp.Integer(m) for m in metric_sym], tuple(extensions))
            alg = _Algebra(K)
            tilde = [[[K.from_sympy(x) for x in b.row(i)] for i in range(len(idx))] for b in block]
            metric = [K.from_sympy(sp.Integer(m)) for m in metric_sym]
            N = max(order, mixing_order)
            try:
                while True:
                    result = _diagonalize(alg, tilde, metric, N)
                    reached = [m for m in result.mixing_orders if m >= 0]
                    if not reached or min(reached) >= mixing_order or N >= max_order or result.closed_form:
                        break
                    N = min(max_order, N + mixing_order - min(reached))
                break
            except _NeedsExtension as exc:
                if len(extensions) >= 3:
                    raise NoClosedForm("too many square roots of numbers") from None
                extensions.append(exc.root)
        if extensions:
            notes.append(f"sector {label}: field extended by " + ", ".join(map(str, extensions)))
        if result.closed_form:
            notes.append(f"sector {label}: a 2x2 effective block has irrational eigenvalues; diagonalized in "
                         "closed form at its leading order (square roots kept)")
        pieces.append((idx, Rs, alg, result, N))
        for a, col in enumerate(idx):
            state_sector[col] = label
    top = max(N for *_, N in pieces)
    columns = [sp.zeros(n, n) for _ in range(top + 1)]
    for idx, Rs, alg, result, N in pieces:
        K = alg.K
        norms = [sp.sqrt(sp.factor(K.to_sympy(m))) for m in result.metric_out]
        local = [sp.zeros(n, len(idx)) for _ in range(N + 1)]
        for a, col in enumerate(idx):
            eig[col] = tuple(_to_sympy(K, c) for c in result.eigenvalues[a][: order + 1])
            orders[col] = result.mixing_orders[a]
            for k in range(N + 1):
                Uk = alg.to_sympy(result.U[k])
                local[k][:, a] = Rs * Uk[:, a] / norms[a]
        for (i, j), A, m in result.closed_form:
            R = _rotation_2x2(K, A, m)
            for k in range(N + 1):
                pair = local[k].extract(list(range(n)), [i, j]) * R
                local[k][:, i], local[k][:, j] = pair[:, 0], pair[:, 1]
        for a, col in enumerate(idx):
            for k in range(N + 1):
                columns[k][:, col] = local[k][:, a]
        degenerate.extend(tuple(idx[a] for a in d) for d in result.degenerate)
    closed = {idx[i] for idx, _, _, result, _ in pieces for (a, b), _, _ in result.closed_form for i in (a, b)}
    low = [m for c, m in enumerate(orders) if m >= 0 and c not in closed]
    if low and min(low) < mixing_order:
        notes.append(f"mixing reached only O(eps^{min(low)}) for some states (recursion capped at order {max_order})")
    if degenerate:
        notes.append("states degenerate through the computed order (their basis is not fixed by the "
                     "expansion): " + "; ".join(",".join(map(str, d)) for d in degenerate))
    return Diagonalization(order, tuple(eig), tuple(columns), tuple(orders), tuple(degenerate),
                           tuple(state_sector), tuple(notes))


@dataclass(frozen=True)
class EffectiveBlock:
    """One block of the Schrieffer-Wolff block diagonalization (quasi-degenerate / Loewdin
    partitioning): ``hamiltonian`` (coefficients of eps^k of the effective matrix in an
    orthonormal basis of the block) and ``basis`` (coefficients of eps^k of the field-basis
    columns of that orthonormal basis). Diagonalizing the summed ``hamiltonian`` exactly treats
    states of the block that are nearly degenerate at the point without expanding in their
    splitting; the error is O(eps^(order+1)) in the matrix."""

    hamiltonian: tuple[sp.Matrix, ...]
    basis: tuple[sp.Matrix, ...]


def block_diagonalize(T: list, order: int) -> tuple[EffectiveBlock, ...]:
    """Effective blocks of M(eps) through eps^order: one per degenerate set of M_0 in each
    exchange-symmetry sector (no further splitting inside a block)."""
    n = T[0].rows
    R, sector_index, _ = sectors(T)
    blocks = []
    for idx in sector_index:
        Rs = R.extract(list(range(n)), idx)
        block = [sp.expand(Rs.T * t * Rs) for t in T]
        entries = [x for b in block for x in b]
        metric_sym = [sum(x * x for x in Rs[:, c]) for c in range(len(idx))]
        extensions: list[sp.Expr] = []
        while True:
            K = _domain(entries + [sp.Integer(m) for m in metric_sym], tuple(extensions))
            alg = _Algebra(K)
            tilde = [[[K.from_sympy(x) for x in b.row(i)] for i in range(len(idx))] for b in block]
            metric = [K.from_sympy(sp.Integer(m)) for m in metric_sym]
            try:
                W, energies, new_metric, groups = _leading_eigensystem(alg, tilde[0], metric)
                break
            except _NeedsExtension as exc:
                extensions.append(exc.root)
            except _NeedsRadicals:
                W, energies, new_metric, groups = alg.eye(len(idx)), None, list(metric), [list(range(len(idx)))]
                break
        m = len(idx)
        if energies is None or len(groups) == 1:
            Usw = [alg.diag(new_metric)] + [alg.zeros(m) for _ in range(order)]
            Hp = [alg.mul(alg.mul(alg.T(W), t), W) for t in tilde[: order + 1]]
        else:
            Tp = [alg.mul(alg.mul(alg.T(W), t), W) for t in tilde[: order + 1]]
            Usw, Hp = _schrieffer_wolff(alg, Tp, new_metric, energies, groups, order)
        inverse = [K.one / x for x in new_metric]
        # field-basis columns: R~ W N1^-1 E~ N1^-1/2 (see the module docstring)
        left = alg.smul([W] + [alg.zeros(m) for _ in range(order)], Usw, order, inverse)
        roots = [sp.sqrt(sp.factor(K.to_sympy(x))) for x in new_metric]
        for g in groups:
            H = tuple(sp.Matrix([[K.to_sympy(h[i][j]) / (roots[i] * roots[j]) for j in g] for i in g]) for h in Hp)
            basis = tuple(Rs * alg.to_sympy(alg.extract(l, list(range(m)), g)) * sp.diag(*[1 / roots[i] for i in g])
                          for l in left)
            blocks.append(EffectiveBlock(H, basis))
    return tuple(blocks)


def taylor(M: sp.Matrix, eps: sp.Symbol, order: int) -> list:
    """Taylor coefficients (sympy matrices) of each entry of M in ``eps`` through ``order``."""
    n, m = M.shape
    coefficients = [sp.zeros(n, m) for _ in range(order + 1)]
    for i in range(n):
        for j in range(m):
            num, den = sp.fraction(sp.cancel(sp.together(M[i, j])))
            if den.has(eps):
                if sp.expand(den).subs(eps, 0) == 0:
                    raise ValueError(f"entry ({i},{j}) is singular at {eps} = 0")
                num, den = sp.expand(sp.series(num / den, eps, 0, order + 1).removeO()), sp.S.One
            poly = sp.Poly(sp.expand(num), eps)
            for (k,), c in poly.terms():
                if k <= order:
                    coefficients[k][i, j] = sp.cancel(c / den)
    return coefficients


# ------------------------------------------------------------------ the spectrum stage


@dataclass(frozen=True)
class State:
    """One mass eigenstate of the perturbative spectrum.

    ``terms``: (k, term) with term of order eps^k in the counting (explicit-breaking
    parameters carry their declared power of eps), written in the model's parameters;
    ``mass2`` is their sum. ``column``: the U column (eigenvector in the field basis)
    through eps^``mixing_order``; ``level``: the power of eps of the leading term.
    """

    name: str
    cp: str
    mass2: sp.Expr
    terms: tuple[tuple[int, sp.Expr], ...]
    level: int
    column: tuple[sp.Expr, ...]
    mixing_order: int
    sector: str


@dataclass(frozen=True)
class Spectrum:
    """Result of the ``spectrum`` stage: masses^2 and mixing as series in eps.

    Conventions: sigma = U_S S, varphi = U_P P (columns of U = eigenvectors,
    U^T M^2 U = diag); M^2 as in :mod:`symflav.physics.hessian`. ``epsilon`` = ``definition``
    (a ratio of vevs), applied as ``substitution``; ``counting``: parameters that are counted
    as small, with the power of eps each carries (mu'_a ~ eps v_a, i.e. mu'^2 ~ v_1^2).
    """

    epsilon: sp.Symbol
    definition: sp.Expr
    substitution: tuple[tuple[sp.Symbol, sp.Expr], ...]
    counting: tuple[tuple[sp.Symbol, int], ...]
    order: int
    mixing_order: int
    scalars: tuple[State, ...]
    pseudoscalars: tuple[State, ...]
    U_S: sp.Matrix
    U_P: sp.Matrix
    U_S_series: tuple[sp.Matrix, ...]
    U_P_series: tuple[sp.Matrix, ...]
    stationary: bool
    notes: tuple[str, ...]

    def to_json(self) -> dict:
        def state(s: State) -> dict:
            return {"name": s.name, "mass2": str(s.mass2), "terms": {str(k): str(t) for k, t in s.terms},
                    "level": s.level, "column": [str(x) for x in s.column], "mixing_order": s.mixing_order,
                    "sector": s.sector}

        return {
            "epsilon": str(self.epsilon),
            "definition": str(self.definition),
            "substitution": {str(k): str(v) for k, v in self.substitution},
            "counting": {str(k): f"O({self.epsilon}^{p}) in units of the heavy vev" for k, p in self.counting},
            "order": self.order,
            "mixing_order": self.mixing_order,
            "convention": "sigma = U_S S, varphi = U_P P (columns = eigenvectors), U^T M^2 U = diag; "
                          "terms keyed by their power of epsilon in the counting",
            "scalars": [state(s) for s in self.scalars],
            "pseudoscalars": [state(s) for s in self.pseudoscalars],
            "U_S": [[str(x) for x in self.U_S.row(i)] for i in range(self.U_S.rows)],
            "U_P": [[str(x) for x in self.U_P.row(i)] for i in range(self.U_P.rows)],
            "stationary": self.stationary,
            "notes": list(self.notes),
        }

    @property
    def scalar_masses2(self) -> tuple[sp.Expr, ...]:
        return tuple(s.mass2 for s in self.scalars)

    @property
    def pseudoscalar_masses2(self) -> tuple[sp.Expr, ...]:
        return tuple(s.mass2 for s in self.pseudoscalars)


def small_parameter(model) -> tuple[sp.Symbol, sp.Expr, tuple[tuple[sp.Symbol, sp.Expr], ...]]:
    """eps, its definition, and the substitution (a free vev -> expression in eps)."""
    vacuum = model.vacuum
    eps = symbols.small(vacuum.small_name, vacuum.small_latex)
    if vacuum.small_value is None:
        raise NoClosedForm("the derivation declares no small parameter (vacuum.small_parameter.value)")
    aligned = {s for s, _ in vacuum.alignment}
    numerator = sp.fraction(sp.together(eps - vacuum.small_value))[0]
    for _, v in vacuum.vevs:
        if v in aligned or not vacuum.small_value.has(v):
            continue
        poly = sp.Poly(sp.expand(numerator), v)
        if poly.degree() == 1:
            a, b = poly.all_coeffs()
            return eps, vacuum.small_value, ((v, sp.expand(sp.cancel(-b / a))),)
    raise NoClosedForm(f"cannot solve {vacuum.small_name} = {vacuum.small_value} for a free vev")


def counting(model, table) -> tuple[tuple[sp.Symbol, int], ...]:
    """Explicit-breaking parameters counted as small: masses ~ eps v (power 1), couplings ~ eps^2."""
    relations = model.relation_map()
    found: dict[sp.Symbol, int] = {}
    kinds = {p.symbol: p.kind for p in table.parameters}
    for op in table.in_potential:
        if op.status != "explicit_breaking":
            continue
        for sym in sorted(sp.sympify(op.coefficient).xreplace(relations).free_symbols, key=str):
            found.setdefault(sym, 1 if kinds.get(sym) == "mass" else 2)
    return tuple(sorted(found.items(), key=lambda kv: str(kv[0])))


def spectrum(model, table, tadpoles, masses, order: int = 2, mixing_order: int = 1) -> Spectrum:
    """The ``spectrum`` stage: perturbative diagonalization of M_S2_vacuum and M_P2_vacuum."""
    notes = []
    try:
        eps, definition, substitution = small_parameter(model)
    except NoClosedForm as exc:
        return Spectrum(sp.Symbol("epsilon"), sp.S.Zero, (), (), order, mixing_order, (), (), sp.Matrix(),
                        sp.Matrix(), (), (), tadpoles.stationary, (f"no perturbative spectrum: {exc}",))
    powers = counting(model, table)
    kinds = {p.symbol: p.kind for p in table.parameters}
    (_, image), = substitution
    scales = [v for v in image.free_symbols if v != eps]
    scale = scales[0] if len(scales) == 1 else sp.S.One  # the heavy vev: masses^2 in its units
    hats = {sym: sp.Symbol(f"{sym.name}_hat", positive=True) for sym, _ in powers}
    unit = {sym: (scale if kinds.get(sym) == "mass" else sp.S.One) for sym, _ in powers}
    forward = dict(substitution)
    forward.update({sym: eps**k * unit[sym] * hats[sym] for sym, k in powers})
    backward = {hats[sym]: sym / (eps**k * unit[sym]) for sym, k in powers}
    inverse_eps = {eps: definition}
    if not tadpoles.stationary:
        notes.append("the alignment is not stationary for generic parameters; the expansion below is of "
                     "the mass matrices at a point that is not a vacuum unless "
                     + "; ".join(f"{c} = 0" for c in tadpoles.constraints))
    top = order + mixing_order + 4
    results, factors = {}, {}
    for cp, M in (("even", masses.M_S2_vacuum), ("odd", masses.M_P2_vacuum)):
        expanded = M.applyfunc(lambda e: sp.expand(sp.sympify(e).xreplace(forward)))
        dimensionless = expanded.applyfunc(lambda e: sp.cancel(e / scale**2))
        if scale != 1 and not any(e.has(scale) for e in dimensionless):
            expanded, factors[cp] = dimensionless, scale**2  # diagonalize M / v_a^2 (one symbol fewer)
        else:
            factors[cp] = sp.S.One
        try:
            series = taylor(expanded, eps, top)
            results[cp] = diagonalize(series, order, mixing_order)
        except (NoClosedForm, ValueError) as exc:
            results[cp] = None
            notes.append(f"CP-{cp}: no perturbative spectrum ({exc})")

    def to_model(expr):
        expr = sp.sympify(expr).xreplace(backward)
        radical = any(p.exp == sp.S.Half and not p.base.is_number for p in expr.atoms(sp.Pow))
        if radical or expr.has(sp.atan2):  # a closed-form 2x2 block: keep its compact form
            return expr.xreplace(inverse_eps)
        return sp.factor(sp.expand(expr).xreplace(inverse_eps))

    def states(cp, prefix):
        result = results[cp]
        if result is None:
            return (), sp.Matrix(), ()
        n = len(result.eigenvalues)
        built = []
        for i in range(n):
            terms = tuple((k, to_model(factors[cp] * c * eps**k)) for k, c in enumerate(result.eigenvalues[i])
                          if c != 0)
            level = terms[0][0] if terms else result.order + 1
            column = tuple(
                to_model(sum((result.U[k][r, i] * eps**k for k in range(min(mixing_order, len(result.U) - 1) + 1)),
                             sp.S.Zero))
                for r in range(n))
            built.append((i, terms, level, column, result.mixing_orders[i], result.sectors[i]))
        built.sort(key=lambda b: (-b[2], b[0]))
        out = []
        for rank, (i, terms, level, column, mixing, sector) in enumerate(built, 1):
            out.append(State(f"{prefix}{rank}", cp, sp.Add(*(t for _, t in terms)), terms, level, column,
                             mixing, sector))
        order_index = [b[0] for b in built]
        U = sp.Matrix([[s.column[r] for s in out] for r in range(n)])
        series_U = tuple(u.extract(list(range(n)), order_index) for u in result.U[: mixing_order + 1])
        notes.extend(f"CP-{cp}: {note}" for note in result.notes)
        return tuple(out), U, series_U

    scalars, U_S, U_S_series = states("even", "S")
    pseudoscalars, U_P, U_P_series = states("odd", "P")
    return Spectrum(eps, definition, substitution, powers, order, mixing_order, scalars, pseudoscalars,
                    U_S, U_P, U_S_series, U_P_series, tadpoles.stationary, tuple(notes))
