"""Derived objects in the printed registry's symbols: what each printed part is compared with.

A part of the printed registry names a *provider* (:data:`symflav.verify.checks.PROVIDERS`): a
function of the derivation that returns the derived object, written in the registry's
symbols -- ``x -> x_phi``, the loop functions of :mod:`symflav.physics.loops` as the registry's
opaque functions of the same name, eq. (2.2)'s lambda as ``lam``. A provider that cannot
give its object raises :class:`NotAvailable` with the reason.

Two readings are stated here, never hidden in a comparison:

* **The paper's phase of the lepton fields.** The flavor stage writes ``L ⊃ -m lbar_L l_R``
  with ``L_Y = +g(...)``, which gives every tree and radiative mass the sign opposite to
  eq. (2.3) -- a common sign, i.e. a rephasing of l_R. Lepton masses, and the signed lepton
  mass in ``Delta a = m_l (Delta a / m_l)``, are compared in the phase where eq. (2.3)'s
  m^FN has its printed sign (:func:`paper_mass_sign`); Delta a itself is rephasing invariant.
* **The paper's labels of the mass eigenstates.** S_i and P_i are the columns of U_S and U_P
  as printed in eq. (A.14), read at leading order in the small parameter (v_1 -> 0). Each
  derived state is assigned the label whose leading-order column it overlaps most (the best
  assignment over all permutations, which must be unique): by content, not by position.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from typing import Any, Callable

import sympy as sp

from symflav.core.stages import Derivation
from symflav.physics import flavor, loops
from symflav.core import symbols
from symflav.core.model import Model
from symflav.core.printed import Part, Registry


class NotAvailable(Exception):
    """A provider cannot give its object; the message is the reason."""


@dataclass(frozen=True)
class Context:
    """What a provider sees: the derivation and its registry (plus a per-run memo)."""

    derivation: Derivation
    registry: Registry
    memo: dict = field(default_factory=dict, compare=False, hash=False, repr=False)

    @property
    def model(self) -> Model:
        return self.derivation.model

    def stage(self, name: str):
        if name not in self.derivation.results:
            raise NotAvailable(f"stage {name} not available")
        return self.derivation.results[name]

    def remember(self, key, build: Callable[[], Any]):
        """``build()`` once per context (results of a derivation never change)."""
        if key not in self.memo:
            self.memo[key] = build()
        return self.memo[key]

    def field_index(self, part: Part) -> int:
        names = list(self.model.scalar_names)
        if part.select in names:
            return names.index(part.select)
        if isinstance(part.select, int) and 0 <= part.select < len(names):
            return part.select
        raise NotAvailable(f"select {part.select!r} is not a field of the model")

    def name(self, name: str):
        """A registry name (symbol), or NotAvailable."""
        try:
            return self.registry.names[name]
        except KeyError:
            raise NotAvailable(f"the printed registry has no symbol {name!r}") from None


@dataclass(frozen=True)
class Provider:
    """Where a printed part finds its derived counterpart.

    ``get(ctx, part)`` returns a sympy expression or matrix in the registry's symbols (or
    raises :class:`NotAvailable`). ``law`` says how the object follows a declared convention
    variant (:mod:`symflav.verify.variants`): ``"rederive"`` (its stages are re-run, they are cheap),
    ``"couplings"`` (it depends on the conventions only through the couplings of the
    potential), ``"vacuum"`` (tadpoles, mass matrices and spectrum at the vacuum), or ``None``
    (convention independent).
    """

    name: str
    stage: str | None
    get: Callable[[Context, Part], Any] | None
    law: str | None
    description: str

    @property
    def conventional(self) -> bool:
        return self.law is not None


def select(sequence, part: Part, ctx: Context):
    if isinstance(part.select, int):
        try:
            return sequence[part.select]
        except IndexError:
            raise NotAvailable(f"no entry {part.select}") from None
    return sequence[ctx.field_index(part)]


# ---------------------------------------------------------------- registry symbols


def registry_functions(ctx: Context, expr):
    """Loop functions of :mod:`symflav.physics.loops` -> the registry's opaque functions of the same
    name (a printed function of that name, with the loop function's LaTeX, if it has none)."""
    if isinstance(expr, sp.MatrixBase):
        return expr.applyfunc(lambda e: registry_functions(ctx, e))
    expr = sp.sympify(expr)
    calls = {}
    for call in expr.atoms(sp.Function):
        name = type(call).__name__
        parsed = loops.parse_key_or_none(name)
        if parsed is None:
            continue
        target = ctx.registry.function_map.get(name)
        if target is None:
            target = symbols.printed_function(name, loops.loop_function(*parsed).latex)
        calls[call] = target(*call.args)
    return expr.xreplace(calls) if calls else expr


def renamed(ctx: Context, expr, names: dict):
    """Derived symbols -> registry names (``{derived symbol or its name: registry name}``)."""
    expr = sp.sympify(expr)
    table = {}
    for s in expr.free_symbols:
        target = names.get(s, names.get(s.name))
        if target is not None:
            table[s] = ctx.name(target) if isinstance(target, str) else target
    return expr.xreplace(table)


# ---------------------------------------------------------------- lepton masses


def paper_mass_sign(ctx: Context) -> int:
    """+1 or -1: the flavor stage's m^FN of a chain over eq. (2.3)'s g^(n+1) <H> prod<S>/prod M."""

    def build():
        fl = ctx.stage("flavor")
        model = ctx.model
        sector = next((s for s in fl.leptons if s.chains), None)
        if sector is None:
            raise NotAvailable("no Froggatt-Nielsen chain")
        chain = sector.chains[0]
        higgs = {s.name: s for s in model.spectators}[model.yukawa.higgs]
        masses = {m.name: m.mass for m in model.mediators}
        naive = sector.coupling ** (chain.order + 1) * higgs.vev
        for ins in chain.insertions:
            naive *= flavor.vev_of(model, ins)
        for med in chain.mediators:
            naive /= masses[med]
        sign = sp.cancel(flavor.tree_mass(model, sector.coupling, chain) / naive)
        if sign not in (1, -1):
            raise NotAvailable(f"the tree mass is not +-(eq. 2.3's product): ratio {sign}")
        return int(sign)

    return ctx.remember("paper_mass_sign", build)


def _chain_scalars(ctx: Context) -> list[str]:
    fl = ctx.stage("flavor")
    present = {i.scalar for s in fl.leptons for c in s.chains for i in c.insertions}
    return [s.name for s in ctx.model.scalars if s.name in present]


def generic_chain_mass(ctx: Context):
    """m^FN of a chain with n insertions, two of them the first chain flavon (phi_1) and n - 2
    of size eps = <S>/M (eq. 2.3's counting), in the paper's phase; n symbolic.

    Built with :func:`symflav.physics.flavor.tree_mass` for n = 2, 3, 4 (one factor per insertion,
    checked) and continued in n."""

    def build():
        model = ctx.model
        fl = ctx.stage("flavor")
        chain_scalars = _chain_scalars(ctx)
        if not chain_scalars or not model.mediators:
            raise NotAvailable("no Froggatt-Nielsen chain")
        first = chain_scalars[0]
        other = next((s.name for s in model.scalars if s.name != first), None)
        if other is None:
            raise NotAvailable("a single flavon: no further insertions")
        g, n, eps = ctx.name("g_l"), ctx.name("n"), ctx.name("eps")
        mediator = model.mediators[0]
        lepton = fl.leptons[0].lepton

        def mass(extra: int):
            inserted = (flavor.Insertion(first, False),) * 2 + (flavor.Insertion(other, False),) * extra
            chain = flavor.Chain(lepton, inserted, (mediator.name,) * len(inserted))
            return flavor.tree_mass(model, g, chain)

        m2, m3, m4 = mass(0), mass(1), mass(2)
        step = sp.cancel(m3 / m2)
        if sp.cancel(m4 / m3 - step) != 0:
            raise NotAvailable("the tree mass is not a product over insertions")
        step = step.xreplace({model.vacuum.vev(other): eps * mediator.mass})
        return sp.powsimp(paper_mass_sign(ctx) * m2 * step ** (n - 2), combine="exp")

    return ctx.remember("generic_chain_mass", build)


def _section2(ctx: Context, name: str):
    obs = ctx.stage("observables")
    try:
        expr = obs.section2_relation(name)
    except KeyError:
        raise NotAvailable(f"the observables stage has no section-2 relation {name}") from None
    return registry_functions(ctx, renamed(ctx, expr, {"lambda_2_2": "lam", "x_phi": "x_phi"}))


def _paper_form(ctx: Context, name: str):
    obs = ctx.stage("observables")
    forms = {n: e for n, _, e in obs.paper_form}
    if name not in forms:
        raise NotAvailable(f"the observables stage has no form {name}")
    return registry_functions(ctx, forms[name])


def _lepton(part: Part) -> str:
    if part.select not in ("mu", "e"):
        raise NotAvailable(f"select {part.select!r}: expected a lepton (mu, e) or a generic chain")
    return part.select


def _lepton_mass_symbol(ctx: Context, lepton: str):
    return ctx.name({"mu": "m_mu", "e": "m_e"}[lepton])


GENERIC = "chain with n insertions"


def m_fn(ctx: Context, part: Part):
    """Eq. (2.3): the tree mass of one chain with n insertions (paper's phase)."""
    if part.select != GENERIC:
        raise NotAvailable(f"select {part.select!r}: only {GENERIC!r}")
    return generic_chain_mass(ctx)


def m_rad(ctx: Context, part: Part):
    """Eq. (2.4): m^RAD of the chain of eq. (2.3) closed by eq. (2.2)'s lambda (section-2
    relation m^RAD/m^FN of the observables stage); eq. (A.15): the enhanced closures with
    the exact flavon propagator, Delta I_m of eq. (A.17). Paper's phase."""
    if part.select == GENERIC:
        return sp.powsimp(sp.expand(generic_chain_mass(ctx) * _section2(ctx, "m_rad_over_m_fn")), combine="exp")
    lepton = _lepton(part)
    return paper_mass_sign(ctx) * _paper_form(ctx, f"m_{lepton}_RAD_mass_basis")


def lepton_mass(ctx: Context, part: Part):
    """Eqs. (3.7), (3.8): m^FN of every chain plus the radiative mass of the closures by the
    operators with a flavon outside every chain (the lambda_1ab-enhanced ones), one common
    x_phi; the alignment of the flavons outside the chains (v_b = v_a) imposed, v_3 kept free
    (the printed first forms keep eps_3). Paper's phase."""
    from symflav.physics import observables

    lepton = _lepton(part)
    fl = ctx.stage("flavor")
    sector = fl.lepton(lepton)
    chain_scalars = set(_chain_scalars(ctx))
    outside = {ctx.model.vacuum.vev(s.name) for s in ctx.model.scalars if s.name not in chain_scalars}
    align = {k: v for k, v in ctx.model.vacuum.alignment if k in outside}
    x_phi = ctx.name("x_phi")
    common = {sym: x_phi for _, sym in fl.x}
    radiative = sp.S.Zero
    for cl in sector.closures:
        enhanced = observables.enhanced_part(cl, chain_scalars)
        if enhanced != 0:
            radiative += cl.mass_term * enhanced / cl.coefficient
    radiative = registry_functions(ctx, sp.factor(radiative.xreplace(align).xreplace(common)))
    return paper_mass_sign(ctx) * (sector.m_FN + radiative)


def lambda_eff(ctx: Context, part: Part):
    """Eq. (3.6): the phi_1 phi_1 closure coefficient d^2V/dphibar_1^2 in units of eq. (2.2)'s
    normalization, lambda (phi_a^dagger phi_1)^2 -> 2 lambda v_a^2."""
    return ctx.stage("observables").effective_lambda


def delta_a(ctx: Context, part: Part):
    """Eq. (2.6): Delta a_l = (Delta a/m^RAD) m^RAD for the chain of eq. (2.3); eqs. (3.9),
    (3.10): m_l (Delta a/m_l) of the enhanced closures. m_l in the paper's phase."""
    if part.select == GENERIC:
        ratio = renamed(ctx, _section2(ctx, "ratio_da_mrad"), {"m_l": "m_l"})
        return sp.powsimp(sp.expand(ratio * m_rad(ctx, part)), combine="exp")
    lepton = _lepton(part)
    m = paper_mass_sign(ctx) * _lepton_mass_symbol(ctx, lepton)
    return sp.expand(m * _paper_form(ctx, f"delta_a_{lepton}_over_m"))


def delta_a_mass_basis(ctx: Context, part: Part):
    """Eq. (A.16): m_l (Delta a/m_l) with the exact flavon propagator (paper's phase)."""
    lepton = _lepton(part)
    m = paper_mass_sign(ctx) * _lepton_mass_symbol(ctx, lepton)
    return sp.expand(m * _paper_form(ctx, f"delta_a_{lepton}_over_m_mass_basis"))


def _relation(ctx: Context, name: str):
    obs = ctx.stage("observables")
    try:
        return obs.relation(name)
    except KeyError:
        raise NotAvailable(f"the observables stage has no relation {name}") from None


def delta_a_from_c(ctx: Context, part: Part):
    """Eq. (1.4): Delta a from Re C (Pauli term of eq. 1.3), with m_l = m_l^exp."""
    C = ctx.name("C_ll")
    return renamed(ctx, _relation(ctx, "delta_a_from_C"), {"ReC": sp.re(C), "m_l": "m_l_exp"})


def br_ratio(ctx: Context, part: Part):
    """Eq. (1.7): BR(l -> l' gamma)/BR(l -> l' nu nu) from |C_ll'|, |C_l'l|."""
    return renamed(ctx, _relation(ctx, "BR_ratio_from_C"),
                   {"absC_ll2": sp.Abs(ctx.name("C_lm")), "absC_l2l": sp.Abs(ctx.name("C_ml")),
                    "alpha": "alpha", "G_F": "G_F"})


def d_e(ctx: Context, part: Part):
    """Eq. (4.5): the electron EDM from Im C_ee (L ⊃ -(i/2) d lbar sigma gamma5 l F)."""
    return renamed(ctx, _relation(ctx, "d_e_from_C"),
                   {"ImC": sp.im(ctx.name("C_ee")), "e": "e_charge", "m_l": "m_e"})


def ratio_da_mrad(ctx: Context, part: Part):
    """Eq. (2.9): Delta a_l/m_l^RAD from the same loop, with m_l = m_l^exp (m_l > 0)."""
    return renamed(ctx, _section2(ctx, "ratio_da_mrad"), {"m_l": "m_l_exp"})


def ratio_fn_rad(ctx: Context, part: Part):
    """Eq. (2.10): |lambda m^FN/m^RAD| for eq. (2.2)'s lambda."""
    return _section2(ctx, "ratio_fn_rad")


def condition_3_11(ctx: Context, part: Part):
    """Eq. (3.11): K = 4 pi eps_1/(eps_a sqrt(lambda_1ab I_m^x)) = 1/sqrt(R) and the window
    of K for Delta a_mu > 0, Delta a_e < 0 (derived window in R, loop ratios at x -> 0)."""
    conditions = {n: e for n, _, e in ctx.stage("observables").conditions}
    if "R" not in conditions or "R_window_x_to_0" not in conditions:
        raise NotAvailable("the observables stage derived no eq. (3.11) window")
    R = registry_functions(ctx, conditions["R"])
    window = conditions["R_window_x_to_0"]
    if not isinstance(window, sp.Interval):
        raise NotAvailable(f"the derived window in R is not one interval: {window}")
    if part.select == "lower":
        return 1 / sp.sqrt(window.end)
    if part.select == "upper":
        return 1 / sp.sqrt(window.start)
    if part.select == "quantity":
        num, den = sp.fraction(ctx.model.vacuum.small_value)
        ratio = num / den
        rest = sp.cancel(R * ratio**2)
        if rest.has(num) or rest.has(den):
            raise NotAvailable("R is not (v_a/v_1)^2 times a function of the couplings")
        return ratio / sp.sqrt(rest)
    raise NotAvailable(f"select {part.select!r}: expected lower, quantity or upper")


def y_phi_l(ctx: Context, part: Part):
    """Eq. (4.1): d m/d sigma_1 of a chain with n_phi insertions of phi_1 (field expansion of
    eq. A.1), in units of the chain's tree mass: ``n_phi m^FN / v_1`` if it holds for n = 1, 2, 3."""
    model = ctx.model
    chain_scalars = _chain_scalars(ctx)
    if not chain_scalars or not model.mediators:
        raise NotAvailable("no Froggatt-Nielsen chain")
    first = chain_scalars[0]
    g = next(s.coupling for s in ctx.stage("flavor").leptons)
    mediator = model.mediators[0].name
    per_insertion = None
    for k in (1, 2, 3):
        chain = flavor.Chain("l", (flavor.Insertion(first, False),) * k, (mediator,) * k)
        ys, _ = flavor.field_couplings(model, [chain], g)
        ratio = sp.cancel(dict(ys)[first] / flavor.tree_mass(model, g, chain) / k)
        if per_insertion is None:
            per_insertion = ratio
        elif sp.cancel(ratio - per_insertion) != 0:
            raise NotAvailable("d m/d sigma_1 is not proportional to the number of phi_1 insertions")
    return ctx.name("n_phi") * ctx.name("m_l_FN") * per_insertion


# ---------------------------------------------------------------- loop functions


def loop_function(key: str):
    def get(ctx: Context, part: Part):
        lo = ctx.stage("loops")
        forms = lo.closed_forms
        if key not in forms:
            raise NotAvailable(f"the loops stage has no {key}")
        return forms[key].xreplace({lo.x: ctx.name("x_phi")})

    return get


# ---------------------------------------------------------------- vacuum and spectrum


def _vev_names(label: str) -> list[str]:
    return re.findall(r"\bv_\w+", label)


def stationary_points(ctx: Context, part: Part):
    """Eq. (A.3): rows = the printed cases (which free vevs vanish, read off the row labels),
    columns = squared vevs and V at the point (tadpoles stage, closed forms)."""
    tad = ctx.stage("tadpoles")
    if not part.rows or not part.columns:
        raise NotAvailable("eq. (A.3) needs row and column labels")
    free = {str(v): v for v in tad.free_vevs}
    points = {frozenset(p.nonzero): p for p in tad.stationary_points}
    rows = []
    for label in part.rows:
        named = [free[n] for n in _vev_names(label) if n in free]
        nonzero = frozenset(named) if "!=" in label else frozenset(free.values()) - set(named)
        point = points.get(nonzero)
        if point is None:
            raise NotAvailable(f"no closed-form stationary point for the case {label!r}")
        squares = dict(point.squares)
        row = []
        for column in part.columns:
            if column == "V":
                row.append(point.value)
                continue
            (vev,) = [free[n] for n in _vev_names(column)]
            row.append(squares.get(vev, sp.S.Zero))
        rows.append(row)
    return sp.Matrix(rows)


def _mixing_part(ctx: Context, provider: str) -> Part:
    for eq in ctx.registry.equations:
        for p in eq.parts:
            if p.provider == provider and p.is_matrix:
                return p
    raise NotAvailable(f"no printed {provider} to read the paper's state labels from")


def paper_labels(ctx: Context, cp: str) -> tuple[tuple[int, ...], tuple[float, ...]]:
    """Index of the derived state (``spectrum.scalars``/``pseudoscalars``) for each paper
    label, and the leading-order overlap |cos| of each assignment (see the module docstring)."""

    def build():
        spec = ctx.stage("spectrum")
        states = spec.scalars if cp == "even" else spec.pseudoscalars
        if not states:
            raise NotAvailable(f"no perturbative CP-{cp} spectrum")
        part = _mixing_part(ctx, "spectrum.U_S" if cp == "even" else "spectrum.U_P")
        num = sp.fraction(ctx.model.vacuum.small_value)[0]
        printed = ctx.registry.expand_definitions(part.formula).xreplace({num: 0})
        n = printed.shape[1]
        if n != len(states):
            raise NotAvailable(f"the printed mixing matrix has {n} columns, the derived spectrum {len(states)} states")
        derived = [sp.Matrix([sp.sympify(x).xreplace({num: 0}) for x in s.column]) for s in states]

        def cosine(a, b):
            products = [(a.T * a)[0], (b.T * b)[0], (a.T * b)[0]]
            if any(p.free_symbols for p in products):  # e.g. other charges: states that depend on couplings
                raise NotAvailable(f"the leading-order CP-{cp} states depend on the parameters: "
                                   "the paper's labels cannot be matched to them")
            na, nb = float(sp.N(sp.sqrt(products[0]))), float(sp.N(sp.sqrt(products[1])))
            if na == 0 or nb == 0:
                return 0.0
            return abs(float(sp.N(products[2]))) / (na * nb)

        overlap = [[cosine(printed[:, i], d) for d in derived] for i in range(n)]
        scored = sorted(((sum(overlap[i][p[i]] for i in range(n)), p) for p in itertools.permutations(range(n))),
                        reverse=True)
        (best, perm), (second, _) = scored[0], scored[1]
        if best - second < 1e-9:
            raise NotAvailable(f"the paper's CP-{cp} labels are ambiguous at leading order")
        return tuple(perm), tuple(overlap[i][perm[i]] for i in range(n))

    return ctx.remember(("labels", cp), build)


def label_note(ctx: Context, cp: str, label_index: int) -> str:
    spec = ctx.stage("spectrum")
    states = spec.scalars if cp == "even" else spec.pseudoscalars
    perm, overlaps = paper_labels(ctx, cp)
    prefix = "S" if cp == "even" else "P"
    return (f"paper's {prefix}_{label_index + 1} = derived {states[perm[label_index]].name} "
            f"(leading-order overlap with the printed A.14 column {overlaps[label_index]:.3g})")


def masses2(cp: str):
    def get(ctx: Context, part: Part):
        if not isinstance(part.select, int):
            raise NotAvailable(f"select {part.select!r}: expected the paper's label index (0 = first)")
        spec = ctx.stage("spectrum")
        states = spec.scalars if cp == "even" else spec.pseudoscalars
        perm, _ = paper_labels(ctx, cp)
        if not 0 <= part.select < len(perm):
            raise NotAvailable(f"no state {part.select + 1}")
        return states[perm[part.select]].mass2

    return get


def mixing(cp: str):
    def get(ctx: Context, part: Part):
        spec = ctx.stage("spectrum")
        states = spec.scalars if cp == "even" else spec.pseudoscalars
        perm, _ = paper_labels(ctx, cp)
        return sp.Matrix([[states[perm[j]].column[i] for j in range(len(perm))] for i in range(len(perm))])

    return get


# ---------------------------------------------------------------- Table 2 (numbers)


def _leading_columns(ctx: Context, provider: str):
    """The derived states' columns at leading order (v_1 -> 0), in the paper's label order."""
    import numpy as np

    cp = "even" if provider == "spectrum.U_S" else "odd"
    spec = ctx.stage("spectrum")
    states = spec.scalars if cp == "even" else spec.pseudoscalars
    perm, _ = paper_labels(ctx, cp)
    num = sp.fraction(ctx.model.vacuum.small_value)[0]
    rows = [[sp.sympify(states[perm[j]].column[i]).xreplace({num: 0}) for j in range(len(perm))]
            for i in range(len(perm))]
    return np.array(sp.N(sp.Matrix(rows), 20).tolist(), dtype=float)


def _assign(printed_columns, vectors) -> tuple[tuple[int, ...], tuple[float, ...]]:
    """The permutation matching printed columns to vectors (max total |cos|)."""
    import numpy as np

    n = printed_columns.shape[1]
    norms = np.linalg.norm(printed_columns, axis=0) * np.linalg.norm(vectors, axis=0)[:, None]
    overlap = np.abs(printed_columns.T @ vectors).T / norms  # [derived, printed]
    best = max(itertools.permutations(range(n)), key=lambda p: sum(overlap[p[i], i] for i in range(n)))
    return tuple(best), tuple(float(overlap[best[i], i]) for i in range(n))


def point_spectrum(ctx: Context, values: dict):
    """Exact masses (GeV) and U at a point, in the paper's labels: the vacuum mass matrices
    of the mass_matrices stage (vevs given, relations imposed, mu^2 from the tadpoles)."""
    import numpy as np

    masses = ctx.stage("mass_matrices")
    out = {}
    for cp, matrix, provider in (("even", masses.M_S2_vacuum, "spectrum.U_S"),
                                 ("odd", masses.M_P2_vacuum, "spectrum.U_P")):
        M = np.array(sp.N(matrix.xreplace(values), 30).tolist(), dtype=float)
        w, U = np.linalg.eigh(M)
        perm, overlaps = _assign(_leading_columns(ctx, provider), U)
        out[cp] = (np.sign(w[list(perm)]) * np.sqrt(np.abs(w[list(perm)])), U[:, list(perm)], overlaps)
    return out


def point_values(ctx: Context, point: str) -> dict:
    """Symbol -> exact value: the model's defaults, then the named point."""
    model = ctx.model
    values = {p.symbol: sp.nsimplify(p.default, rational=True) for p in model.parameters if p.default is not None}
    for name, value in model.point(point).as_dict().items():
        values[model.parameter(name).symbol] = value
    return values
