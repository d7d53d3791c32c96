"""The paper's providers: its printed registry's lepton-sector objects, in its symbols.

A part of ``derivations/calibbi2020/printed.toml`` names a provider; the generic ones (potential,
tadpoles, mass matrices, spectrum, loop functions) are :data:`symflav.verify.checks.PROVIDERS`,
these are the paper's own: the section-2 chain of eq. (2.3), the forms of eqs. (3.6)-(3.11) and
(A.15)-(A.16) (the study's ``paper`` stage), and the dipole relations in the registry's names
(``C_ll``, ``m_l_exp``, ``x_phi``, eq. (2.2)'s lambda as ``lam``).

One reading is stated here, never hidden in a comparison: **the paper's phase of the lepton
fields.** The flavor stage writes ``L ⊃ -m lbar_L l_R`` with ``L_Y = +g(...)``, which gives every
tree and radiative mass the sign opposite to eq. (2.3) -- a common sign, i.e. a rephasing of
l_R. Lepton masses, and the signed lepton mass in ``Delta a = m_l (Delta a / m_l)``, are compared
in the phase where eq. (2.3)'s m^FN has its printed sign (:func:`paper_mass_sign`); Delta a
itself is rephasing invariant.
"""

from __future__ import annotations

import sympy as sp

from symflav.core.printed import Part
from symflav.physics import flavor
from symflav.physics.observables import enhanced_part
from symflav.verify.providers import Context, NotAvailable, Provider, loop_function, registry_functions, renamed


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
    forms = ctx.stage("paper")
    try:
        expr = forms.section2_relation(name)
    except KeyError:
        raise NotAvailable(f"the paper stage has no section-2 relation {name}") from None
    return registry_functions(ctx, renamed(ctx, expr, {"lambda_2_2": "lam", "x_phi": "x_phi"}))


def _paper_form(ctx: Context, name: str):
    forms = {n: e for n, _, e in ctx.stage("paper").paper_form}
    if name not in forms:
        raise NotAvailable(f"the paper stage has no form {name}")
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
        enhanced = enhanced_part(cl, chain_scalars)
        if enhanced != 0:
            radiative += cl.mass_term * enhanced / cl.coefficient
    radiative = registry_functions(ctx, sp.factor(radiative.xreplace(align).xreplace(common)))
    return paper_mass_sign(ctx) * (sector.m_FN + radiative)


def lambda_eff(ctx: Context, part: Part):
    """Eq. (3.6): the phi_1 phi_1 closure coefficient d^2V/dphibar_1^2 in units of eq. (2.2)'s
    normalization, lambda (phi_a^dagger phi_1)^2 -> 2 lambda v_a^2."""
    return ctx.stage("paper").effective_lambda


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
    return renamed(ctx, _relation(ctx, "d_from_C"),
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
    conditions = {n: e for n, _, e in ctx.stage("paper").conditions}
    if "R" not in conditions or "R_window_x_to_0" not in conditions:
        raise NotAvailable("the paper stage derived no eq. (3.11) window")
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


PROVIDERS: dict[str, Provider] = {p.name: p for p in [
    Provider("loops.I_m", "loops", loop_function("I_m", "x_phi"), None, "closed form of I_m(x) (eq. A.18), x -> x_phi"),
    Provider("loops.I_da", "loops", loop_function("I_da", "x_phi"), None,
             "closed form of I_Delta_a(x) (eq. A.18), x -> x_phi"),
    Provider("loops.I_m_x", "loops", loop_function("I_m_x", "x_phi"), None,
             "closed form of I_m^x(x) (eq. 2.5), x -> x_phi"),
    Provider("loops.I_da_x", "loops", loop_function("I_da_x", "x_phi"), None,
             "closed form of I_Delta_a^x(x) (eq. 2.7), x -> x_phi"),
    Provider("flavor.m_FN", "flavor", m_fn, None, "tree (FN) mass of a chain with n insertions, paper's phase"),
    Provider("flavor.m_RAD", "paper", m_rad, "mixing",
             "radiative mass: eq. (2.2)'s closure of the eq. (2.3) chain, or the mass-basis form (A.15)"),
    Provider("flavor.masses", "paper", lepton_mass, "mixing",
             "m_mu, m_e: FN plus the lambda_1ab-enhanced radiative mass (eqs. 3.7, 3.8), paper's phase"),
    Provider("flavor.lambda_eff", "paper", lambda_eff, "closure",
             "the phi_1 phi_1 closure in eq. (2.2)'s normalization (eq. 3.6)"),
    Provider("observables.delta_a", "paper", delta_a, "mixing",
             "Delta a_l, mass insertion (eqs. 2.6, 3.9, 3.10)"),
    Provider("observables.delta_a_mass_basis", "paper", delta_a_mass_basis, "mixing",
             "Delta a_l in the flavon mass basis (eq. A.16)"),
    Provider("observables.delta_a_from_C", "observables", delta_a_from_c, None, "Delta a_l from C_ll (eq. 1.4)"),
    Provider("observables.br_ratio", "observables", br_ratio, None,
             "BR(l -> l' gamma)/BR(l -> l' nu nu) (eq. 1.7)"),
    Provider("observables.ratio_da_mrad", "paper", ratio_da_mrad, None, "Delta a_l / m_l^RAD (eq. 2.9)"),
    Provider("observables.ratio_fn_rad", "paper", ratio_fn_rad, None, "|lambda m_FN/m_RAD| (eq. 2.10)"),
    Provider("observables.condition_3_11", "paper", condition_3_11, "couplings",
             "bounds and quantity of eq. (3.11)"),
    Provider("observables.y_phi_l", "flavor", y_phi_l, None, "phi_1 coupling to leptons (eq. 4.1)"),
    Provider("observables.d_e", "observables", d_e, None, "electron EDM (eq. 4.5)"),
]}
