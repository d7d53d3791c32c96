"""The Froggatt-Nielsen sector from the charges: mediator chains, tree and radiative masses.

Conventions (stated, not assumed by the paper):

* Mediators are vector-like with the gauge quantum numbers of ``like`` (here l_R):
  Dirac mass ``-M chibar chi``. Vertices allowed by gauge invariance, each with the
  lepton's coupling g_l (which vertices exist follows from the U(1) and Z_N charges):
  ``g chibar_L l_R S``, ``g chibar' chi S`` (both chiralities, a Dirac scalar coupling),
  ``g lbar_L chi_R H`` -- S any flavon or its conjugate, H the Higgs; ``+ h.c.``.
  No bare ``chibar_L l_R`` mass mixing (removed by a rotation of the R fields).
* Vertex modes: "all_allowed" (above: every vertex the charges allow) or a declared set of
  ``[yukawa.vertex_sets]`` (:class:`symflav.core.model.Vertex`): then the chains run only
  through the declared vertices, each with its own coupling (the lepton's when none is
  given), and the closures and Delta a below are those of these chains.
* Vevs: ``<phi> = v`` for the "unnormalized" field expansion, ``v/sqrt 2`` for the
  "canonical" one (:func:`expansion_factor`); the Higgs vev is the spectator's own.
* Lepton mass term ``L ⊃ -m lbar_L l_R + h.c.``: the chain runs from l_R to l_L and
  the operator ``lbar_L H l_R prod S_i`` carries the flavon charges, so
  q(l_L) = q(l_R) + q(H) + sum_i q(S_i) for every symmetry.
* Integrating out the mediators at zero momentum (each propagator 1/M) gives
  ``L_eff = prod(g) prod(<S_i>) <H> / prod(M) lbar_L l_R``, i.e.
  ``m^FN = -g^(n+1) (v_H/sqrt 2) prod_i <S_i> / prod M``: with L_Y = +g(...) the overall
  sign is minus that of m = +g^(n+1) <H> prod<S>/prod M; it is common to all chains
  and radiative terms, and drops out of Delta a, c_l and every ratio.
* Radiative masses: two flavon lines of a chain closed by one insertion of the
  quadratic vertex of the potential at the vacuum,
  ``c_ij = d^2 V / dSbar_i dSbar_j`` (holomorphic derivative, fields at their vevs):
  the pair of vevs ``<S_i><S_j>`` is replaced by ``c_ij Lambda(x)/(16 pi^2)`` with
  Lambda = I_m^x (adjacent lines) or its r-insertion family (r vevs between the lines,
  exact for Dirac mediator Yukawas, see :mod:`symflav.physics.loops`); different unperturbed
  masses give divided differences. Pairs S, S^dagger of one field (no insertion needed)
  renormalize the tree coupling (UV divergent) and are not radiative masses.
* The anomalous magnetic moment of each closure (photon on the mediator inside the
  loop, Q_chi = Q_l) follows from the same amplitude (:func:`symflav.physics.loops.amplitude_relation`):
  ``Delta a = -(m_l/(8 pi^2 M^2)) m_C c_ij Lambda_da(x)/(<S_i><S_j>)`` with m_l the signed
  total mass of the lepton in the same basis.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from fractions import Fraction

import sympy as sp

from symflav.physics import loops
from symflav.core import symbols
from symflav.core.errors import SpecError
from symflav.core.model import ALL_ALLOWED, Model, vertex_instances

MAX_SEARCH = 10  # largest number of flavon insertions searched for the leading chains


@dataclass(frozen=True)
class Insertion:
    """A flavon at a vertex of a chain: ``scalar`` or its conjugate."""

    scalar: str
    conjugate: bool

    @property
    def text(self) -> str:
        return self.scalar + ("†" if self.conjugate else "")

    def bar(self) -> "Insertion":
        return Insertion(self.scalar, not self.conjugate)


@dataclass(frozen=True)
class Chain:
    """l_R -> chi_1 -> ... -> chi_n -> l_L, with the flavon emitted at each step."""

    lepton: str
    insertions: tuple[Insertion, ...]
    mediators: tuple[str, ...]
    couplings: tuple[sp.Expr | None, ...] = ()  # per vertex (n + 1) in declared mode; None: the lepton's

    @property
    def order(self) -> int:
        return len(self.insertions)

    @property
    def text(self) -> str:
        steps = [f"{self.lepton}_R"]
        for ins, med in zip(self.insertions, self.mediators):
            steps.append(f"-[{ins.text}]-> {med}")
        steps.append("-[H]-> " + f"{self.lepton}_L")
        return " ".join(steps)


@dataclass(frozen=True)
class Closure:
    """Two flavon lines of a chain closed by one insertion of the potential."""

    chain: int  # index in LeptonSector.chains
    positions: tuple[int, int]
    between: int  # r: vev insertions on the mediator line inside the loop
    pair: tuple[Insertion, Insertion]
    coefficient: sp.Expr  # c_ij = d^2V/dSbar_i dSbar_j at the vacuum
    by_operator: tuple[tuple[str, tuple[str, ...], sp.Expr], ...]  # (operator, its scalars, part of c)
    mass_term: sp.Expr  # contribution to m^RAD (mass insertion)
    dipole_term: sp.Expr  # contribution to Delta a, per unit of the signed m_l

    @property
    def same_field(self) -> bool:
        return self.pair[0].scalar == self.pair[1].scalar


@dataclass(frozen=True)
class LeptonSector:
    lepton: str
    coupling: sp.Expr
    order: int
    chains: tuple[Chain, ...]
    multiplicities: tuple[tuple[str, int, sp.Expr], ...]  # (insertions, count, vev product)
    m_FN: sp.Expr
    closures: tuple[Closure, ...]
    m_RAD: sp.Expr
    delta_a_per_m: sp.Expr  # Delta a / m_l (m_l: signed total mass)
    yukawa_sigma: tuple[tuple[str, sp.Expr], ...]  # d m^FN / d sigma_a (phi = v + sigma + i varphi)
    yukawa_varphi: tuple[tuple[str, sp.Expr], ...]
    multiplicity_chains: tuple[tuple[int, ...], ...] = ()  # indices in chains behind each multiplicity

    def chain_mass(self, chain: Chain, model: Model) -> sp.Expr:
        return tree_mass(model, self.coupling, chain)


@dataclass(frozen=True)
class FlavorSector:
    """Result of the flavor stage."""

    model_name: str
    leptons: tuple[LeptonSector, ...]
    flavor_changing: tuple[tuple[str, str, int, int], ...]  # (l_R, l'_L, searched up to n, found)
    x: tuple[tuple[str, sp.Symbol], ...]  # unperturbed x_a = m_a/M per scalar (mass insertion)
    vertices: tuple[str, ...]
    notes: tuple[str, ...]
    vertex_mode: str = ALL_ALLOWED  # "all_allowed" or the name of the declared vertex set used
    vertex_modes: tuple[str, ...] = (ALL_ALLOWED,)  # every mode the model can run

    mediator_charges: tuple[tuple[str, str], ...] = ()  # (species, its charges as text) of every mediator

    def lepton(self, name: str) -> LeptonSector:
        return {s.lepton: s for s in self.leptons}[name]

    @property
    def _charges(self) -> dict[str, str]:
        return dict(self.mediator_charges)

    def to_json(self) -> dict:
        return {
            "conventions": CONVENTIONS,
            "vertex_mode": self.vertex_mode,
            "vertex_modes": list(self.vertex_modes),
            "vertices": list(self.vertices),
            "x": {name: str(sym) for name, sym in self.x},
            "leptons": {
                s.lepton: {
                    "coupling": str(s.coupling),
                    "order": s.order,
                    "chains": [
                        {"insertions": [i.text for i in c.insertions], "mediators": list(c.mediators), "path": c.text}
                        for c in s.chains
                    ],
                    "multiplicities": [
                        {"insertions": text, "chains": count, "vevs": str(vevs),
                         "chain_indices": list(indices),
                         "mediator_charges": [[self._charges[m] for m in s.chains[k].mediators] for k in indices]}
                        for (text, count, vevs), indices in zip(s.multiplicities, s.multiplicity_chains)
                    ],
                    "m_FN": str(s.m_FN),
                    "closures": [
                        {
                            "chain": cl.chain,
                            "positions": list(cl.positions),
                            "vevs_between": cl.between,
                            "pair": [i.text for i in cl.pair],
                            "coefficient": str(cl.coefficient),
                            "by_operator": {op: str(v) for op, _, v in cl.by_operator},
                            "m_RAD_term": str(cl.mass_term),
                            "delta_a_over_m_term": str(cl.dipole_term),
                        }
                        for cl in s.closures
                    ],
                    "m_RAD": str(s.m_RAD),
                    "delta_a_over_m": str(s.delta_a_per_m),
                    "yukawa_sigma": {k: str(v) for k, v in s.yukawa_sigma},
                    "yukawa_varphi": {k: str(v) for k, v in s.yukawa_varphi},
                }
                for s in self.leptons
            },
            "flavor_changing": [
                {"from": a, "to": b, "searched_up_to": n, "chains": k} for a, b, n, k in self.flavor_changing
            ],
            "notes": list(self.notes),
        }


CONVENTIONS = {
    "mass_term": "L ⊃ -m lbar_L l_R + h.c.; the chain runs l_R -> mediators -> l_L and lbar_L H l_R prod(S) carries the charges",
    "yukawa": "L_Y = g_l (chibar_L l_R S + chibar' chi S + lbar_L chi_R H) + h.c. for every vertex allowed by the charges",
    "mediator_yukawa": "Dirac scalar coupling g chibar' chi S (both chiralities, equal couplings)",
    "tree_mass": "m^FN = -g^(n+1) (v_H/sqrt2) prod<S_i>/prod M (the overall sign, common to all terms, follows from L_Y = +g(...))",
    "closure": "pair <S_i><S_j> -> c_ij Lambda/(16 pi^2), c_ij = d^2V/dSbar_i dSbar_j at the vacuum",
    "field_expansion": "<phi_a> = v_a (unnormalized: phi_a = v_a + sigma_a + i varphi_a) or v_a/sqrt2 (canonical: "
                       "phi_a = (v_a + sigma_a + i varphi_a)/sqrt2), v_a real; every vev of a chain, closure and "
                       "flavon coupling is <phi_a>",
    "dipole": "Delta a = -(m_l/(8 pi^2 M^2)) m_C c_ij Lambda_da/(<S_i><S_j>), m_l the signed total mass",
}


# ------------------------------------------------------------------ charges


def _charge_vector(model: Model, item) -> tuple[Fraction, ...]:
    return tuple(model.symmetry(s).reduce(item.charge(s)) for s in (sym.name for sym in model.symmetries))


def _add(model: Model, a, b, sign: int = 1) -> tuple[Fraction, ...]:
    return tuple(sym.reduce(x + sign * y) for sym, x, y in zip(model.symmetries, a, b))


def insertion_options(model: Model) -> list[tuple[Insertion, tuple[Fraction, ...]]]:
    """Every flavon and conjugate with its charge vector (Z_N charges reduced)."""
    options = []
    for s in model.scalars:
        q = _charge_vector(model, s)
        options.append((Insertion(s.name, False), q))
        options.append((Insertion(s.name, True), tuple(sym.reduce(-x) for sym, x in zip(model.symmetries, q))))
    return options


def with_vertex_set(model: Model, name: str) -> Model:
    """The model with the vertex mode ``name`` ("all_allowed" or a declared set) active: every
    stage run on it (chains, closures, transitions, observables) uses that vertex set."""
    if model.yukawa is None:
        raise SpecError(model.path, "yukawa", "the flavor stage needs a [yukawa] table")
    if name not in model.yukawa.modes:
        raise SpecError(model.path, "yukawa.vertex_set",
                        f"{name!r} is not a vertex mode of this model ({', '.join(model.yukawa.modes)})")
    return dataclasses.replace(model, yukawa=dataclasses.replace(model.yukawa, vertex_set=name))


@dataclass(frozen=True)
class _Step:
    target: str  # mediator species reached (or the L lepton, for the last vertex)
    insertion: Insertion | None  # None for the Higgs
    coupling: sp.Expr | None


def declared_steps(model: Model) -> tuple[dict, dict, dict]:
    """The graph of the active declared vertex set: (start, middle, end) with start[l_R] the
    steps l_R -> chi (flavon S of chibar l_R S), middle[chi] the steps chi -> chi' (chibar' chi S,
    and chi' -> chi with S^dagger from its h.c.), end[chi] the L leptons chi reaches with the Higgs.
    Vertices no longer invariant (after a charge change) have no instances and add no step."""
    start: dict = {}
    middle: dict = {}
    end: dict = {}
    for vertex in model.yukawa.declared.vertices:
        ins = Insertion(vertex.scalar, vertex.conjugate)
        for bar, fld in vertex_instances(model, vertex):
            if vertex.kind == "lepton_R":
                start.setdefault(fld, []).append(_Step(bar, ins, vertex.coupling))
            elif vertex.kind == "mediator":
                middle.setdefault(fld, []).append(_Step(bar, ins, vertex.coupling))
                middle.setdefault(bar, []).append(_Step(fld, ins.bar(), vertex.coupling))
            else:
                end.setdefault(fld, []).append(_Step(bar, None, vertex.coupling))
    return start, middle, end


def _enumerate_declared(model: Model, right, left, n: int) -> list[Chain]:
    """Chains with n flavon insertions through the declared vertices only (no direct l_L-l_R
    vertex: n = 0 gives none)."""
    if n == 0:
        return []
    start, middle, end = declared_steps(model)
    closing = {m: [s.coupling for s in steps if s.target == left.name] for m, steps in end.items()}
    # reachable[k]: mediators from which a closing mediator is reachable in k more steps
    reachable = [{m for m, c in closing.items() if c}]
    for _ in range(n - 1):
        reachable.append({m for m, steps in middle.items() if any(s.target in reachable[-1] for s in steps)})
    chains: list[Chain] = []

    def walk(med, path, meds, couplings):
        depth = len(path)
        if depth == n:
            for c in closing.get(med, []):
                chains.append(Chain(left.lepton, tuple(path), tuple(meds), tuple(couplings) + (c,)))
            return
        for step in middle.get(med, []):
            if step.target in reachable[n - depth - 1]:
                walk(step.target, path + [step.insertion], meds + [step.target], couplings + [step.coupling])

    for step in start.get(right.name, []):
        if step.target in reachable[n - 1]:
            walk(step.target, [step.insertion], [step.target], [step.coupling])
    return chains


def enumerate_chains(model: Model, right, left, n: int) -> list[Chain]:
    """All chains with exactly n flavon insertions from fermion ``right`` (R) to ``left`` (L):
    through every vertex the charges allow (mode "all_allowed") or through the active declared
    vertex set only."""
    if model.yukawa is None:
        raise SpecError(model.path, "yukawa", "the flavor stage needs a [yukawa] table")
    for m in model.mediators:
        if m.like != "R":
            raise SpecError(model.path, "mediators", f"{m.family}: mediators like L are not supported yet")
    if model.yukawa.declared is not None:
        return _enumerate_declared(model, right, left, n)
    higgs = {s.name: s for s in model.spectators}[model.yukawa.higgs]
    q_h = _charge_vector(model, higgs)
    target = _add(model, _charge_vector(model, left), q_h, -1)  # charge of the last mediator
    start = _charge_vector(model, right)
    if n == 0:
        if start == target:
            return [Chain(left.lepton, (), ())]
        return []
    mediators = [m for m in model.mediators if m.like == "R"]
    for m in model.mediators:
        if m.like != "R":
            raise SpecError(model.path, "mediators", f"{m.family}: mediators like L are not supported yet")
    by_charge: dict[tuple, list] = {}
    for m in mediators:
        by_charge.setdefault(_charge_vector(model, m), []).append(m)
    options = insertion_options(model)
    # charges as indices, with a transition table: step[i][k] is the charge index after
    # insertion k at charge i (None: no mediator has that charge); Fraction arithmetic once
    charges = list(by_charge) + [q for q in (target, start) if q not in by_charge]
    index = {q: i for i, q in enumerate(charges)}
    step = [[index.get(_add(model, q, dq)) for _, dq in options] for q in charges]
    mediator_ids = {index[q] for q in by_charge}
    goal = index[target]
    # reachable[k]: mediator charges from which the target is reachable in k more steps
    reachable = [{goal}]
    for _ in range(n - 1):
        reachable.append({i for i in mediator_ids if any(j in reachable[-1] for j in step[i])})
    chains: list[Chain] = []

    def walk(charge, path, meds):
        depth = len(path)
        if depth == n:
            if charge == goal:
                chains.append(Chain(left.lepton, tuple(path), tuple(meds)))
            return
        for (ins, _), new in zip(options, step[charge]):
            if new not in mediator_ids or new not in reachable[n - depth - 1]:
                continue
            for med in by_charge[charges[new]]:
                walk(new, path + [ins], meds + [med.name])

    walk(index[start], [], [])
    return chains


# ------------------------------------------------------------------ masses


def expansion_factor(model: Model) -> sp.Expr:
    """<phi> per unit of the vev parameter v_a: 1 for the "unnormalized" expansion
    (phi = v + sigma + i varphi), 1/sqrt 2 for the "canonical" one (phi = (v + sigma + i varphi)/sqrt 2).

    The Yukawa vertices and the potential are polynomials in the complex field phi itself, so every
    vev that enters a chain, a closure coefficient or a flavon coupling is <phi> = factor * v.
    """
    return sp.S.One if model.conventions.field_expansion == "unnormalized" else 1 / sp.sqrt(2)


def field_value(model: Model, scalar: str) -> sp.Expr:
    """<phi> of a flavon at the vacuum, in the model's field expansion (GeV)."""
    return expansion_factor(model) * model.vacuum.vev(scalar)


def vev_of(model: Model, ins: Insertion) -> sp.Expr:
    """<S> of an insertion: <phi> or <phi^dagger> = conj(<phi>), in the model's field expansion."""
    v = field_value(model, ins.scalar)
    return sp.conjugate(v) if ins.conjugate else v


def chain_coupling(coupling: sp.Expr, chain: Chain) -> sp.Expr:
    """The product of the n + 1 vertex couplings of a chain: each declared vertex's own coupling,
    ``coupling`` (the lepton's) for the others and in the all-allowed mode."""
    if not chain.couplings:
        return coupling ** (chain.order + 1)
    return sp.Mul(*[coupling if c is None else c for c in chain.couplings])


def tree_mass(model: Model, coupling: sp.Expr, chain: Chain) -> sp.Expr:
    """m^FN of one chain (L ⊃ -m lbar_L l_R)."""
    higgs = {s.name: s for s in model.spectators}[model.yukawa.higgs]
    masses = {m.name: m.mass for m in model.mediators}
    value = -chain_coupling(coupling, chain) * higgs.vev
    for ins in chain.insertions:
        value *= vev_of(model, ins)
    for med in chain.mediators:
        value /= masses[med]
    return value


def _holomorphic(potential, ins: Insertion) -> sp.Symbol:
    """The symbol of the conjugate field Sbar for an insertion S (d/dSbar closes S)."""
    index = list(potential.fields).index(ins.scalar)
    return potential.phi[index] if ins.conjugate else potential.phibar[index]


def closure_coefficient(model: Model, potential, pair: tuple[Insertion, Insertion]):
    """c = d^2V/dSbar_i dSbar_j at the vacuum, total and per operator of the potential."""
    a, b = (_holomorphic(potential, ins) for ins in pair)
    vacuum = {}
    for name, p, pb in zip(potential.fields, potential.phi, potential.phibar):
        v = field_value(model, name)
        vacuum[p] = v
        vacuum[pb] = sp.conjugate(v)
    parts = []
    for op, contribution in potential.contributions:
        term = sp.diff(contribution, a, b).xreplace(vacuum)
        term = sp.expand(term)
        if term != 0:
            present = tuple(name for name, (n, m) in zip(potential.fields, op.monomial.powers) if n or m)
            parts.append((op.text, present, term))
    total = sp.expand(sum((t for _, _, t in parts), sp.S.Zero))
    return total, tuple(parts)


def x_symbol(scalar) -> sp.Symbol:
    return symbols.auxiliary(f"x_{scalar.label}", rf"x_{{{scalar.label}}}", positive=True)


def loop_factor(kind: str, r: int, xa: sp.Symbol, xb: sp.Symbol) -> sp.Expr:
    """Lambda for one closure: first-order insertion between unperturbed masses x_a, x_b.

    kind "m" or "da". Equal masses: the ``_x`` function of the r-family; different
    masses: the divided difference of the r-family in x^2.
    """
    base = "I_m" if kind == "m" else "I_da"
    xa, xb = sorted((xa, xb), key=str)
    if xa == xb:
        return loops.function_symbol(loops.function_key(base, 1, r))(xa)
    f = loops.function_symbol(loops.function_key(base, 0, r))
    return (f(xa) - f(xb)) / (xa**2 - xb**2)


def closures_of(model: Model, potential, chain_index: int, chain: Chain, m_chain: sp.Expr, x: dict,
                cache: dict | None = None):
    cache = {} if cache is None else cache
    result = []
    masses = {m.name: m.mass for m in model.mediators}
    n = chain.order
    for i in range(n):
        for j in range(i + 1, n):
            si, sj = chain.insertions[i], chain.insertions[j]
            if si.scalar == sj.scalar and si.conjugate != sj.conjugate:
                continue  # S S^dagger: renormalization of the tree coupling, not a radiative mass
            key = (si, sj)
            if key not in cache:
                cache[key] = closure_coefficient(model, potential, key)
            c, parts = cache[key]
            if c == 0:
                continue
            inside = {masses[med] for med in chain.mediators[i:j]}
            if len(inside) != 1:
                raise SpecError(model.path, "mediators", "mediators inside one loop must share a mass")
            M = inside.pop()
            r = j - i - 1
            uu = vev_of(model, si) * vev_of(model, sj)
            lam_m = loop_factor("m", r, x[si.scalar], x[sj.scalar])
            lam_d = loop_factor("da", r, x[si.scalar], x[sj.scalar])
            mass_term = m_chain * c * lam_m / (16 * sp.pi**2 * uu)
            dipole_term = -m_chain * c * lam_d / (8 * sp.pi**2 * M**2 * uu)
            result.append(Closure(chain_index, (i, j), r, (si, sj), c, parts, mass_term, dipole_term))
    return result


def field_couplings(model: Model, lepton_chains, coupling):
    """d m^FN/d sigma_a and d m^FN/d varphi_a at the vacuum: the couplings of the flavon
    components to lbar_L l_R, with phi_a = factor (v_a + sigma_a + i varphi_a) of the model's
    field expansion (factor 1 or 1/sqrt 2, :func:`expansion_factor`)."""
    sig = {s.name: symbols.sigma(s.label) for s in model.scalars}
    vphi = {s.name: symbols.varphi(s.label) for s in model.scalars}
    higgs = {s.name: s for s in model.spectators}[model.yukawa.higgs]
    masses = {m.name: m.mass for m in model.mediators}
    total = sp.S.Zero
    factor = expansion_factor(model)
    for chain in lepton_chains:
        value = -chain_coupling(coupling, chain) * higgs.vev
        for ins in chain.insertions:
            v = model.vacuum.vev(ins.scalar)
            sign = -1 if ins.conjugate else 1
            value *= factor * (v + sig[ins.scalar] + sign * sp.I * vphi[ins.scalar])
        for med in chain.mediators:
            value /= masses[med]
        total += value
    zero = {s: 0 for s in list(sig.values()) + list(vphi.values())}
    ys = tuple((name, sp.factor(sp.diff(total, s).xreplace(zero))) for name, s in sig.items())
    yp = tuple((name, sp.factor(sp.diff(total, s).xreplace(zero))) for name, s in vphi.items())
    return ys, yp


def _multiplicities(model: Model, chains):
    """Chains grouped by their multiset of insertions (one monomial in the vevs): (insertions,
    number of chains, vev product) per group, and the indices of the chains behind each."""
    groups: dict[tuple, list[int]] = {}
    for k, c in enumerate(chains):
        groups.setdefault(tuple(sorted(i.text for i in c.insertions)), []).append(k)
    result, indices = [], []
    for key, members in sorted(groups.items()):
        vevs = sp.Mul(*[vev_of(model, i) for i in chains[members[0]].insertions])
        result.append((" ".join(key), len(members), vevs))
        indices.append(tuple(members))
    return tuple(result), tuple(indices)


ALL_ALLOWED_VERTICES = (
    "chibar_L l_R S: q(chi) = q(l_R) + q(S)",
    "chibar' chi S: q(chi') = q(chi) + q(S)",
    "lbar_L chi_R H: q(l_L) = q(chi) + q(H)",
)


def _lepton_sector(model: Model, potential, lepton: str, x: dict, notes: list) -> LeptonSector:
    """Chains of the leading order (plus the model's extra insertions), m^FN, the closures of
    each chain with their m^RAD and Delta a/m terms, and the flavon couplings of one lepton."""
    right = next(f for f in model.fermions if f.lepton == lepton and f.chirality == "R")
    left = next(f for f in model.fermions if f.lepton == lepton and f.chirality == "L")
    g = dict(model.yukawa.couplings)[lepton]
    leading = next((n for n in range(MAX_SEARCH + 1) if enumerate_chains(model, right, left, n)), None)
    chains: list[Chain] = []
    if leading is None:
        notes.append(f"{lepton}: no chain up to {MAX_SEARCH} insertions; massless at tree level")
    else:
        for n in range(leading, leading + model.yukawa.extra_insertions + 1):
            chains.extend(enumerate_chains(model, right, left, n))
    m_fn = sp.S.Zero
    closures = []
    cache: dict = {}
    for k, chain in enumerate(chains):
        mc = tree_mass(model, g, chain)
        m_fn += mc
        closures.extend(closures_of(model, potential, k, chain, mc, x, cache))
    m_rad = sum((c.mass_term for c in closures), sp.S.Zero)
    da = sum((c.dipole_term for c in closures), sp.S.Zero)
    ys, yp = field_couplings(model, chains, g)
    multiplicities, behind = _multiplicities(model, chains)
    return LeptonSector(
        lepton=lepton, coupling=g, order=leading if leading is not None else -1, chains=tuple(chains),
        multiplicities=multiplicities, m_FN=sp.factor(m_fn), closures=tuple(closures),
        m_RAD=m_rad, delta_a_per_m=da, yukawa_sigma=ys, yukawa_varphi=yp, multiplicity_chains=behind,
    )


def _mediator_charges(model: Model) -> tuple[tuple[str, str], ...]:
    return tuple((m.name, ", ".join(f"{sym.name}={sym.reduce(m.charge(sym.name))}" for sym in model.symmetries))
                 for m in model.mediators)


def derive_flavor(model: Model, results, vertex_set: str | None = None) -> FlavorSector:
    """The flavor stage: chains, m^FN, closures, m^RAD, Delta a/m, flavon couplings.

    ``vertex_set``: the vertex mode ("all_allowed" or a declared set of [yukawa.vertex_sets]);
    None: the model's own ([yukawa] vertex_set). Closures and Delta a are computed on the chains
    of that mode, so they change with it. A model without a [yukawa] table has no
    Froggatt-Nielsen sector: empty result.
    """
    if model.yukawa is None or not model.fermions:
        return FlavorSector(model.name, (), (), (), (), ("no [yukawa] table or no fermions: no FN sector",))
    if vertex_set is not None:
        model = with_vertex_set(model, vertex_set)
    potential = results["potential"]
    leptons = sorted({f.lepton for f in model.fermions}, key=lambda l: [f.lepton for f in model.fermions].index(l))
    x = {s.name: x_symbol(s) for s in model.scalars}
    notes: list[str] = []
    sectors = [_lepton_sector(model, potential, lepton, x, notes) for lepton in leptons]
    # flavor-changing chains l_R -> l'_L (mu -> e gamma would need them)
    changing = []
    search = max([s.order for s in sectors if s.order >= 0] or [0]) + 4
    for a in leptons:
        for b in leptons:
            if a == b:
                continue
            right = next(f for f in model.fermions if f.lepton == a and f.chirality == "R")
            left = next(f for f in model.fermions if f.lepton == b and f.chirality == "L")
            found = sum(len(enumerate_chains(model, right, left, n)) for n in range(search + 1))
            changing.append((f"{a}_R", f"{b}_L", search, found))
    declared = model.yukawa.declared
    if declared is None:
        vertices = ALL_ALLOWED_VERTICES
    else:
        vertices = tuple(f"{v.kind}: {v.text}" for v in declared.vertices)
        for v in declared.vertices:
            if not vertex_instances(model, v):
                notes.append(f"declared vertex {v.text!r} is not invariant under the present charges: left out")
    return FlavorSector(model.name, tuple(sectors), tuple(changing), tuple(x.items()), vertices, tuple(notes),
                        vertex_mode=model.yukawa.vertex_set, vertex_modes=model.yukawa.modes,
                        mediator_charges=_mediator_charges(model))
