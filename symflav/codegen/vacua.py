"""Vacua inside the generated module: ``solve_mu2(vevs, **p)`` and ``minimize(**p)``.

* ``solve_mu2`` eliminates the quadratic parameters with the tadpoles. The tadpoles are
  linear in the coefficients of the hermitian quadratic operators (mu^2 of ``-mu^2 phi^dagger
  phi``): T(v) = A(v) mu2 + b(v). The module gets A and b as one generated function
  (:func:`tadpole_system`) and solves A mu2 = -b point by point with numpy.
* ``minimize`` is a seeded multi-start damped-Newton search over all 2n real components (the
  same method as :mod:`symflav.numerics.minimizer`, here in numpy only, vectorized over the
  starts, on the generated ``potential_gradient_hessian``); the lowest minimum is rephased to
  real fields by the rephasing symmetries of the potential (:func:`rephasings`, computed here
  at generation time and written into the module as constants).
"""

from __future__ import annotations

import itertools

import numpy as np
import sympy as sp
from sympy.matrices.normalforms import invariant_factors

from symflav.codegen.module import Argument, Function, Result

#: Enumerate at most this many candidate rephasings when the group is written into the module.
MAX_REPHASINGS = 200_000


def rephasings(table) -> tuple[list[tuple[float, ...]], list[tuple[float, ...]]]:
    """Finite representatives theta (angles) and continuous generators (rows: fields) of the
    rephasings phi_i -> exp(i theta_i) phi_i that leave every operator of the potential
    invariant (explicit breaking included): N theta in 2 pi Z, N the net powers."""
    rows = [list(op.monomial.net()) for op in table.in_potential if not op.monomial.is_hermitian]
    n = len(table.model.scalars)
    N = sp.Matrix(rows) if rows else sp.zeros(0, n)
    generators = [[float(x) for x in v] for v in N.nullspace()] if rows else [list(r) for r in np.eye(n)]
    continuous = [tuple(generators[j][i] for j in range(len(generators))) for i in range(n)]
    if not rows:
        return [tuple(0.0 for _ in range(n))], continuous
    factors = [int(f) for f in invariant_factors(N, domain=sp.ZZ) if f != 0]
    L = int(np.lcm.reduce(factors)) if factors else 1
    if L**n > MAX_REPHASINGS:
        return [tuple(0.0 for _ in range(n))], continuous
    Nn = np.array(N.tolist(), dtype=float)
    finite = []
    for ks in itertools.product(range(L), repeat=n):
        theta = 2 * np.pi * np.array(ks) / L
        phase = Nn @ theta / (2 * np.pi)
        if np.allclose(phase, np.round(phase), atol=1e-9):
            finite.append(tuple(float(t) for t in theta))
    return finite, continuous


def quadratic_unknowns(table, squares: dict) -> list[tuple[str, sp.Symbol, str]]:
    """(parameter name, symbol the tadpoles are linear in, keyword of its value) for each
    hermitian quadratic operator whose coefficient is one parameter or its square:
    (``mu_1``, mu_1_sq, ``"mu_1_sq"``) for ``mu_1^2``, (``m2``, m2, ``"m2"``) for ``m2``."""
    out = []
    for op in table.in_potential:
        if op.monomial.degree != 2 or not op.monomial.is_hermitian:
            continue
        c = sp.sympify(op.coefficient)
        if isinstance(c, sp.Symbol):
            out.append((str(c), c, str(c)))
        elif c.is_Pow and isinstance(c.base, sp.Symbol) and c.exp == 2 and c.base in squares:
            out.append((str(c.base), squares[c.base], str(squares[c.base])))
    return out


def tadpole_system(model, vacuum, unknowns, parameter_args, squares) -> Function | None:
    """A (n, K) and b (n) with tadpoles T = A u + b in the unknowns u (``squares``: mass
    symbol -> symbol of its square, substituted first)."""
    if not unknowns:
        return None
    vevs = tuple(vacuum.vevs)
    symbols = [s for _, s, _ in unknowns]
    replace = {m: sp.sqrt(q) for m, q in squares.items()}
    tadpoles = [sp.expand(sp.sympify(t).xreplace(replace)) for t in vacuum.general]
    A = [sp.diff(t, u) for t in tadpoles for u in symbols]
    if any(sp.diff(a, u) != 0 for a in A for u in symbols):
        return None  # not linear in the quadratic coefficients: nothing to eliminate generically
    b = [t.xreplace({u: 0 for u in symbols}) for t in tadpoles]
    free = set().union(*(e.free_symbols for e in A + b)) - set(vevs)
    n = len(vevs)
    return Function(
        name="_tadpole_system", label="solve_mu2",
        summary="The tadpoles as A u + b, linear in the quadratic coefficients u (for solve_mu2).",
        arguments=(Argument("vevs", vevs, "Vacuum expectation values v_i (GeV), in the order FIELDS.", vector=True),),
        parameters=parameter_args(free),
        results=(Result("A", tuple(A), (n, len(symbols)), "dT_i/du_k (GeV)."),
                 Result("b", tuple(b), (n,), "T_i at u = 0 (GeV^3).")),
    )


VACUUM_HELPERS = '''
#: A minimum of the potential found by minimize(); see its docstring for the fields.
Minimum = collections.namedtuple(
    "Minimum", "vevs V masses global_within_search phi masses2 mass_matrix minima starts converged runaway")


def solve_mu2(vevs, /, **params):
    """The parameters with the quadratic ones eliminated by the tadpoles at ``vevs``.

    The tadpoles dV/dsigma_i at real vevs are linear in the coefficients u_k of the hermitian
    quadratic operators (QUADRATIC: parameter -> keyword of its value, e.g. mu_1 -> mu_1_sq,
    the signed square, GeV^2). solve_mu2 solves T(vevs) = 0 for them, point by point
    (broadcasting like every function of the module), and returns ``params`` without those
    parameters (and without their _sq forms) plus the solved values: pass the result on with
    ``**`` (tadpoles(vevs, **solve_mu2(vevs, **p)) vanishes to rounding).

    Returns
    -------
    dict
        The parameters; each solved value is GeV^2 (any sign: a negative mu^2 is a maximum of
        the quadratic term), a float or an array of the broadcast shape. It is NaN where the
        tadpoles do not determine it (a vanishing vev: its mu^2 enters no tadpole) or where no
        value solves them (the vevs are then not a stationary point for any mu^2: a
        constraint of the other parameters is violated).

    Notes
    -----
    The vevs are v_i of the model's expansion (as for tadpoles()). Relations between
    parameters are not imposed: every other parameter is taken as given. The result is a
    stationary point, not necessarily a minimum: see minimize().
    """
    dropped = {key for name, key in QUADRATIC.items()} | set(QUADRATIC)
    given = {k: v for k, v in params.items() if k not in dropped}
    A, b = _tadpole_system(vevs, **given)
    A, b = np.asarray(A, dtype=float), np.asarray(b, dtype=float)
    u = -np.einsum("...kn,...n->...k", np.linalg.pinv(A), b)
    size = np.einsum("...nk,...k->...n", np.abs(A), np.abs(u)) + np.abs(b)
    residual = np.einsum("...nk,...k->...n", A, u) + b
    inconsistent = np.any(np.abs(residual) > 1e-9 * np.maximum(size, np.max(size, axis=-1, keepdims=True) * 1e-12),
                          axis=-1)
    undetermined = np.all(A == 0, axis=-2)
    u = np.where(undetermined | inconsistent[..., None], np.nan, u)
    out = dict(given)
    for k, key in enumerate(QUADRATIC.values()):
        value = u[..., k]
        out[key] = float(value) if value.ndim == 0 else value
    return out


def _field_scale(params):
    """A field scale (GeV) for the random starts: the largest mass of the potential's
    parameters (|m| for GeV, sqrt|m2| for GeV^2), at least 1 GeV."""
    scale = 1.0
    for name in _POTENTIAL_PARAMETERS:
        for key, power in ((name, 1), (name + "_sq", 2)):
            if key in params:
                unit = UNITS.get(key, "")
                if unit == "GeV" or unit == "GeV^2":
                    value = float(abs(np.asarray(params[key], dtype=float)))
                    scale = max(scale, value ** (1.0 / (2 if unit == "GeV^2" else 1)))
    return scale


def _values(X, params):
    n = X.shape[-1] // 2
    return potential(X[..., :n] + 1j * X[..., n:], **params)


def _descend(X, params, scale, rng, max_iter=300):
    """Damped Newton from every row of X at once: |eigenvalue| modification, steps capped at
    half the field size, backtracking line search, escape from saddles along the most negative
    curvature. A row stops when its step or its predicted decrease is at round-off, when its
    line search fails, or when it leaves 10^4 times the field scale (V unbounded below)."""
    K, m = X.shape
    n = m // 2
    f = _values(X, params)
    active = np.isfinite(f)
    converged = np.zeros(K, dtype=bool)
    runaway = np.zeros(K, dtype=bool)
    for _ in range(max_iter):
        rows = np.flatnonzero(active)
        if not rows.size:
            break
        x, fx = X[rows], f[rows]
        _, g, H = potential_gradient_hessian(x[:, :n] + 1j * x[:, n:], **params)
        w, Q = np.linalg.eigh(H)
        top = np.maximum(np.max(np.abs(w), axis=1), 1e-300)
        step = -np.einsum("kij,kj->ki", Q, np.einsum("kji,kj->ki", Q, g) / np.maximum(np.abs(w), 1e-10 * top[:, None]))
        size = 1.0 + np.linalg.norm(x, axis=1)
        step *= np.minimum(1.0, 0.5 * size / np.maximum(np.linalg.norm(step, axis=1), 1e-300))[:, None]
        slope = np.einsum("ki,ki->k", g, step)
        # round-off of V near x: its largest terms are of the size of |V|, |x||g| and |x|^2 |H|
        roundoff = 1e-13 * (np.abs(fx) + size * np.linalg.norm(g, axis=1) + size * size * top)
        done = (np.linalg.norm(step, axis=1) < 1e-10 * size) | (-slope < roundoff)
        moved = np.zeros(len(rows), dtype=bool)
        saddle = np.flatnonzero(done & (w[:, 0] < -1e-7 * top))
        if saddle.size:
            signs = np.where(rng.random(saddle.size) < 0.5, 1.0, -1.0)
            trial = x[saddle] + Q[saddle, :, 0] * (1e-3 * size[saddle] * signs)[:, None]
            ft = _values(trial, params)
            better = ft < fx[saddle]
            x[saddle[better]], fx[saddle[better]] = trial[better], ft[better]
            moved[saddle[better]] = True
            done[saddle[better]] = False
        take = np.flatnonzero(done)
        if take.size:
            x[take] += step[take]
            fx[take] = _values(x[take], params)
        pending = ~done & ~moved
        t = np.ones(len(rows))
        for _ in range(60):
            if not pending.any():
                break
            trial = x + (t * pending)[:, None] * step
            ft = np.where(pending, _values(trial, params), fx)
            ok = pending & (ft <= fx + 1e-4 * t * slope)
            x[ok], fx[ok] = trial[ok], ft[ok]
            pending &= ~ok
            t[pending] *= 0.5
        X[rows], f[rows] = x, fx
        converged[rows[done]] = True
        far = np.linalg.norm(x, axis=1) > 1e4 * scale
        runaway[rows[far & ~done]] = True
        active[rows[done | pending | far]] = False
    return X, f, converged, runaway


def _rephased(phi):
    """phi rephased by a symmetry of the potential as close to real as possible, and the
    largest |Im phi_i| / max|phi| left."""
    finite = np.asarray(_REPHASINGS, dtype=float).reshape(-1, len(FIELDS))
    continuous = np.asarray(_ROTATIONS, dtype=float).reshape(len(FIELDS), -1)
    scale = max(float(np.max(np.abs(phi))), 1e-300)
    nonzero = np.abs(phi) > 1e-9 * scale
    alpha = np.angle(phi)
    candidates = [(float(np.max(np.abs(phi.imag))) / scale, phi)]
    for theta in finite:
        angles = alpha + theta
        total = theta
        if continuous.shape[1] and nonzero.any():
            t = np.zeros(continuous.shape[1])
            for _ in range(4):
                target = np.pi * np.round((angles + continuous @ t) / np.pi)
                t = np.linalg.lstsq(continuous[nonzero], (target - angles)[nonzero], rcond=None)[0]
            total = theta + continuous @ t
        candidate = phi * np.exp(1j * total)
        candidates.append((float(np.max(np.abs(candidate.imag))) / scale, candidate))
    residual = min(r for r, _ in candidates)
    near = [c for r, c in candidates if r <= residual + 1e-9]
    best = max(near, key=lambda c: tuple(np.sign(np.round(c.real / scale, 9))))
    return (best.real + 0j if residual < 1e-7 else best), residual


def minimize(*, starts=32, seed=0, guesses=(), **params):
    """The lowest minimum of V found by a seeded multi-start search (numpy only).

    Parameters
    ----------
    starts : int, keyword
        Random starting points (normal, on 0.3, 1 and 3 times a field scale taken from the
        potential's mass parameters), besides ``guesses`` and the vevs in ``params``.
    seed : int, keyword
        Seed of numpy.random.default_rng: the same seed gives the same search.
    guesses : sequence of array_like, keyword
        Further starting points, each a complex field (n,) like the argument of potential().
    **params
        One parameter point (scalars), as for potential(); mu_1_sq and the like are accepted.
        If it holds every vev of the model (VEVS), that point is a start too.

    Returns
    -------
    Minimum
        A namedtuple: ``vevs`` the real vevs (n,) of the model's expansion when a symmetry of
        the potential brings the minimum to real fields (else None); ``V`` (GeV^4); ``masses``
        the signed masses sqrt(m^2) (GeV, negative for m^2 < 0), ascending; ``global_within_search``
        (see Notes); ``phi`` the minimum as a complex field (rephased as far as possible);
        ``mass_matrix`` (2n x 2n, GeV^2): d^2V over canonical real fields (h, a) = (Re z, Im z),
        z = sqrt(2) phi (for this module _CANONICAL**2 * hessian(phi)), and ``masses2`` its
        eigenvalues, the physical squared masses; ``minima`` every distinct minimum found, as
        (phi, V, hits) sorted by V; ``starts``, ``converged``, ``runaway`` counts of starts.

    Notes
    -----
    Damped Newton over all 2n real components with the generated gradient and Hessian, all
    starts at once. Minima that a rephasing symmetry relates (equal |phi_i| and V) are one.
    ``global_within_search`` is True when no start ran off to infinite fields (a sign that V
    is unbounded below) and the lowest minimum was reached from at least two starts; it is a
    statement about this search, not a proof.
    """
    for name, value in params.items():
        if np.ndim(value):
            raise ValueError(f"minimize(): one parameter point at a time; {name} has shape {np.shape(value)}")
    n = len(FIELDS)
    if isinstance(starts, bool) or not isinstance(starts, (int, np.integer)) or starts < 0:
        raise ValueError(f"minimize(): starts must be an integer >= 0, got {starts!r}")
    rng = np.random.default_rng(seed)
    scale = _field_scale(params)
    rows = []
    for k, guess in enumerate(guesses):
        guess = _vector("minimize", f"guesses[{k}]", guess, n, complex)
        rows.append(np.concatenate([np.real(guess), np.imag(guess)]))
    if all(name in params for name in VEVS):
        vevs = np.array([float(_number("minimize", name, params[name])) for name in VEVS])
        rows.append(np.concatenate([vevs, np.zeros(n)]))
    for k in range(int(starts)):
        rows.append(rng.normal(size=2 * n) * scale * (0.3, 1.0, 3.0)[k % 3])
    if not rows:
        raise ValueError("minimize(): no starting point (starts=0, no guesses, no vevs in the parameters)")
    potential(np.zeros(n, dtype=complex), **params)  # parameter errors before any work
    X, f, converged, runaway = _descend(np.array(rows, dtype=float), params, scale, rng)
    _, _, H = potential_gradient_hessian(X[:, :n] + 1j * X[:, n:], **params)
    w = np.linalg.eigvalsh(H)
    top = np.maximum(np.max(np.abs(w), axis=1), 1e-300)
    minima = []  # [phi, V, hits]
    for k in np.argsort(f, kind="stable"):
        if not converged[k] or w[k, 0] < -1e-6 * top[k]:
            continue
        phi = X[k, :n] + 1j * X[k, n:]
        for entry in minima:
            if (abs(entry[1] - f[k]) <= 1e-7 * max(abs(entry[1]), abs(f[k])) + 1e-12 * scale**4
                    and np.allclose(np.abs(entry[0]), np.abs(phi), rtol=1e-4, atol=1e-6 * scale)):
                entry[2] += 1
                break
        else:
            minima.append([phi, float(f[k]), 1])
    if not minima:
        raise ValueError("minimize(): no start converged to a minimum (V unbounded below, or too few starts)")
    phi, residual = _rephased(minima[0][0])
    M2 = _CANONICAL * _CANONICAL * hessian(phi, **params)
    masses2 = np.linalg.eigvalsh(M2)
    return Minimum(
        vevs=phi.real.copy() if residual < 1e-7 else None,
        V=minima[0][1],
        masses=np.sign(masses2) * np.sqrt(np.abs(masses2)),
        global_within_search=bool(not runaway.any() and minima[0][2] >= 2),
        phi=phi,
        masses2=masses2,
        mass_matrix=M2,
        minima=tuple((m[0], m[1], m[2]) for m in minima),
        starts=len(rows),
        converged=int(converged.sum()),
        runaway=int(runaway.sum()),
    )
'''.strip("\n")


def vacuum_constants(model, table, unknowns, potential_parameters, canonical_factor) -> list[tuple[str, str, str]]:
    """Module constants that ``solve_mu2`` and ``minimize`` read."""
    finite, continuous = rephasings(table)
    vevs = tuple(str(v) for _, v in model.vacuum.vevs) if model.vacuum else ()

    def rows(table_):
        return "(\n" + "".join("    (" + "".join(f"{x!r}, " for x in row) + "),\n" for row in table_) + ")"

    return [
        ("VEVS", repr(vevs), "The vev parameters of the model, in the order FIELDS (minimize() starts from them "
                             "when they are given)."),
        ("QUADRATIC", "{" + ", ".join(f"{name!r}: {key!r}" for name, _, key in unknowns) + "}",
         "Quadratic parameters that solve_mu2() eliminates -> the keyword of the value it returns."),
        ("_POTENTIAL_PARAMETERS", repr(tuple(potential_parameters)), "Parameters of the potential."),
        ("_CANONICAL", repr(float(canonical_factor)), "d phi-argument / d canonical field: hessian_canonical = "
                                                        "_CANONICAL**2 * hessian."),
        ("_REPHASINGS", rows(finite), "Rephasings (angles) of the fields that leave V invariant (finite part)."),
        ("_ROTATIONS", rows(continuous), "Continuous rephasings of V: generators, one row per field."),
    ]
