"""Figures 3 and 4 of the paper and its numeric claims of sections 1, 2 and 4.

Everything here is evaluated from *derived* relations -- the ``section2`` relations of the
study's ``paper`` stage and the dipole ``relations`` of the observables stage, with the loop
functions of the generated numeric module -- and set beside what the paper prints:

* eq. (2.9): Delta a_l / m_l^RAD = ratio(x_phi, m_l, M_chi). With |m^RAD| = c_l m_l (eq. 2.8),
  |Delta a_l| = c_l m_l |ratio|, and ratio scales as 1/M_chi^2, so
  M_chi = sqrt(c_l m_l |ratio(x, m_l, 1)| / |Delta a_l|)                       (figure 3);
* eq. (2.10): |lambda m^FN / m^RAD| = K(x_phi) (v_1/v_a)^2, and m_l = m^FN + m^RAD with
  |m^RAD| = c_l m_l gives |m^FN/m^RAD| = |1 - s_l/c_l|, s_l = Sign(m^RAD/m_l), fixed by the
  sign of Delta a_l (eqs. 1.1, 1.2) and the sign of ratio:
  v_1/v_a = sqrt(lambda |1 - s_l/c_l| / K(x_phi))                            (figure 4).
  The paper's sign rule (ratio > 0) gives s_mu = +1, s_e = -1, i.e. (c -+ 1)/c as printed.

Masses in GeV. ``x_phi = mu_phi1 / M_chi``. Random samples are seeded (reproducible).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable, Mapping

import numpy as np
import sympy as sp

from symflav.core import printed as printed_registry
from symflav.core.stages import available
from symflav.numerics.scan import load_generated
from symflav.numerics.viability import save_figure
from symflav.physics import loops

LEPTONS = ("mu", "e")
LEPTON_PARAMETERS = {
    # lepton: (mass, Delta a central value, its 1 sigma) -- parameters of the model file
    "mu": ("m_mu", "Delta_a_mu_exp", "Delta_a_mu_sigma"),
    "e": ("m_e", "Delta_a_e_exp", "Delta_a_e_sigma"),
}
LEPTON_LATEX = {"mu": r"\mu", "e": "e"}

X_RANGE = (0.05, 4.0)  # x_phi, sampled log-uniformly; the paper does not print its range
C_RANGE = (1.0, 10.0)  # eq. (2.8)
LAMBDA_RANGE = (math.pi / 6, 2 * math.pi)  # caption of figure 4
PRINTED_FN_OVER_RAD = {"mu": (0.5, 0.9), "e": (10 / 9, 2.0)}  # caption of figure 4, as printed


@dataclass(frozen=True)
class Constants:
    """Lepton masses (GeV) and Delta a of eqs. (1.1), (1.2): the model's parameter defaults."""

    mass: Mapping[str, float]
    delta_a: Mapping[str, float]
    sigma: Mapping[str, float]
    values: Mapping[str, float] = field(default_factory=dict)

    @classmethod
    def from_model(cls, model) -> "Constants":
        values = {c.name: float(c.value) for c in model.constants}
        values.update({p.name: float(p.default) for p in model.parameters if p.default is not None})
        mass, da, sig = {}, {}, {}
        for lepton, (m, central, sigma) in LEPTON_PARAMETERS.items():
            mass[lepton], da[lepton], sig[lepton] = values[m], values[central], values[sigma]
        return cls(mass, da, sig, values)

    def band(self, lepton: str, n_sigma: float = 2.0) -> tuple[float, float]:
        """(smallest, largest) |Delta a| within n_sigma of the central value."""
        centre, width = abs(self.delta_a[lepton]), n_sigma * self.sigma[lepton]
        return max(centre - width, 0.0), centre + width


@dataclass(frozen=True)
class Relations:
    """Numeric forms of the derived section-2 relations.

    ``ratio(x, m, M)`` is Delta a / m^RAD (eq. 2.9); ``K(x)`` is |lambda m^FN/m^RAD| at
    v_1 = v_a (eq. 2.10); ``sign_ratio`` is the sign of ``ratio`` (the derived sign rule).
    """

    ratio: Callable
    K: Callable
    sign_ratio: int
    source: str

    def mediator_mass(self, x, delta_a, c, m):
        """M_chi (GeV) from eq. (2.9) for |Delta a| and loop factor c."""
        return np.sqrt(np.asarray(c) * m * np.abs(self.ratio(x, m, 1.0)) / np.abs(delta_a))

    def loop_factor(self, x, delta_a, M, m):
        """c_l from eq. (2.9) for given M_chi (GeV) and Delta a (inverse of mediator_mass)."""
        return np.abs(delta_a) * np.asarray(M) ** 2 / (m * np.abs(self.ratio(x, m, 1.0)))

    def radiative_sign(self, lepton_delta_a: float) -> int:
        """s_l = Sign(m^RAD / m_l) in the basis m_l > 0, from the sign of Delta a_l."""
        return int(np.sign(lepton_delta_a)) * self.sign_ratio

    def vev_ratio(self, x, lam, c, s):
        """v_1/v_a from eq. (2.10) with |m^FN/m^RAD| = |1 - s/c|."""
        return np.sqrt(np.asarray(lam) * np.abs(1.0 - s / np.asarray(c)) / self.K(x))


def _numeric(expr: sp.Expr, args, numeric_module) -> Callable:
    """A numpy function of ``args`` for ``expr``; loop functions from the generated module."""
    functions = {}
    for f in expr.atoms(sp.Function):
        name = type(f).__name__
        if loops.parse_key_or_none(name) is not None:
            functions[name] = getattr(numeric_module, name)
    return sp.lambdify(args, expr, modules=[functions, "numpy"])


def derived_relations(numeric_module) -> Relations:
    """The derived section-2 relations, as exported into the generated numeric module
    (``ratio_da_mrad``, ``ratio_fn_rad``: formulas of the observables stage)."""

    def ratio(x, m, M):
        return numeric_module.ratio_da_mrad(x_phi=x, m_l=m, M_chi=M)

    def K(x):
        return numeric_module.ratio_fn_rad(x_phi=x, v_1=1.0, v_a=1.0, lambda_2_2=1.0)

    probe = float(np.asarray(ratio(np.array([0.5]), 1.0, 1.0))[0])
    return Relations(ratio, K, int(np.sign(probe)), "derived")


def printed_relations(registry, numeric_module) -> Relations:
    """The same relations as printed (eqs. 2.9, 2.10), for comparison only."""
    ratio_part = _part(registry, "2.9", "observables.ratio_da_mrad")
    fn_part = _part(registry, "2.10", "observables.ratio_fn_rad")
    names = {str(s): s for s in ratio_part.free_symbols | fn_part.free_symbols}
    x, m, M = names["x_phi"], names["m_l_exp"], names["M_chi"]
    K = fn_part.subs({names["v_1"]: 1, names["v_a"]: 1})
    ratio_f = _numeric(ratio_part, (x, m, M), numeric_module)
    K_f = _numeric(sp.Abs(K), (x,), numeric_module)  # the printed right side is negative: |.|
    probe = float(ratio_f(np.array([0.5]), 1.0, 1.0)[0])
    return Relations(ratio_f, K_f, int(np.sign(probe)), "printed")


def _part(registry, equation: str, provider: str) -> sp.Expr:
    for part in registry.equation(equation).parts:
        if part.provider == provider and part.relation == "=":
            return part.formula
    raise KeyError(f"eq. ({equation}): no part with provider {provider}")


# ------------------------------------------------------------------ figure samples


def figure3_sample(rel: Relations, const: Constants, lepton: str, n: int, seed: int) -> dict[str, np.ndarray]:
    """Points (x_phi, M_chi, c) with Delta a uniform in the 2 sigma band and c in [1, 10]."""
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(3, LEPTONS.index(lepton))))
    x = np.exp(rng.uniform(*np.log(X_RANGE), n))
    lo, hi = const.band(lepton)
    delta_a = rng.uniform(lo, hi, n)
    c = rng.uniform(*C_RANGE, n)
    return {"x_phi": x, "delta_a": delta_a, "c": c, "M_chi": rel.mediator_mass(x, delta_a, c, const.mass[lepton])}


def figure4_sample(rel: Relations, const: Constants, lepton: str, n: int, seed: int,
                   c_range: tuple[float, float] = C_RANGE) -> dict[str, np.ndarray]:
    """Points (x_phi, v_1/v_a, lambda) for lambda in [pi/6, 2 pi] and c in ``c_range``."""
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(4, LEPTONS.index(lepton))))
    x = np.exp(rng.uniform(*np.log(X_RANGE), n))
    lam = rng.uniform(*LAMBDA_RANGE, n)
    c = rng.uniform(*c_range, n)
    s = rel.radiative_sign(const.delta_a[lepton])
    return {"x_phi": x, "lambda": lam, "c": c, "v1_over_va": rel.vev_ratio(x, lam, c, s)}


def printed_c_range(lepton: str, rel: Relations, const: Constants) -> tuple[float, float]:
    """c range of figure 4's caption, from its printed window of m^FN/m^RAD and |1 - s/c|."""
    lo, hi = PRINTED_FN_OVER_RAD[lepton]
    # |1 - s/c| = r  =>  c = s/(1 - r) for s = +1 (r < 1), c = 1/(r - 1) for s = -1 (r > 1)
    ends = sorted(abs(1.0 / (1.0 - r)) for r in (lo, hi))
    return ends[0], ends[1]


# ------------------------------------------------------------------ claims


@dataclass(frozen=True)
class Claim:
    """One numeric statement of the paper, recomputed."""

    where: str
    statement: str
    printed: str
    from_printed: str
    derived: str
    note: str = ""


def _fmt(value: float, unit: str = "", digits: int = 2) -> str:
    if value is None or not np.isfinite(value):
        return "n/a"
    return f"{value:.{digits}g}{(' ' + unit) if unit else ''}"


def _max_mass(rel: Relations, const: Constants, lepton: str, c: float, xs: np.ndarray):
    lo, _ = const.band(lepton)
    masses = rel.mediator_mass(xs, lo, c, const.mass[lepton])
    k = int(np.argmax(masses))
    return float(masses[k]), float(xs[k])


def _overlap(rel: Relations, const: Constants, xs: np.ndarray) -> tuple[float, float]:
    """Range of M_chi reachable by both leptons at the same x_phi (2 sigma, c in [1, 10])."""
    lows, highs = [], []
    for lepton in LEPTONS:
        lo, hi = const.band(lepton)
        m = const.mass[lepton]
        lows.append(rel.mediator_mass(xs, hi, C_RANGE[0], m))
        highs.append(rel.mediator_mass(xs, lo, C_RANGE[1], m))
    low, high = np.maximum(*lows), np.minimum(*highs)
    ok = low <= high
    if not ok.any():
        return float("nan"), float("nan")
    return float(low[ok].min()), float(high[ok].max())


def evaluate(expr: sp.Expr, values: Mapping[str, complex]) -> complex:
    """Value of ``expr`` with every free symbol replaced by ``values[its name]``."""
    subs = {sym: values[str(sym)] for sym in expr.free_symbols}
    return complex(sp.N(expr.xreplace(subs), 30))


def dipole_relations(observables, registry) -> dict[str, dict[str, sp.Expr]]:
    """Eqs. (1.4), (1.7), (4.5): derived (observables stage) and printed (registry)."""
    derived = {name: expr for name, _, expr in observables.relations}
    printed = {
        "delta_a": _part(registry, "1.4", "observables.delta_a_from_C"),
        "br_ratio": _part(registry, "1.7", "observables.br_ratio"),
        "d_e": _part(registry, "4.5", "observables.d_e"),
    }
    return {
        "derived": {"delta_a": derived["delta_a_from_C"], "br_ratio": derived["BR_ratio_from_C"],
                    "d_e": derived["d_from_C"]},
        "printed": printed,
    }


def _dipole_numbers(rel: dict[str, sp.Expr], route: str, const: Constants, lepton: str) -> dict[str, float]:
    """Delta a per unit Re C, BR ratio per unit |C|^2, d_e/e per unit Im C, for ``lepton``."""
    m = const.mass[lepton]
    v = dict(const.values)
    if route == "derived":
        da = evaluate(rel["delta_a"], {"ReC": 1, "m_l": m}).real
        br = evaluate(rel["br_ratio"], {**v, "absC_ll2": 1, "absC_l2l": 0}).real
        de = evaluate(rel["d_e"], {"ImC": 1, "e": 1, "m_l": m}).real
    else:
        da = evaluate(rel["delta_a"], {"m_l_exp": m, "C_ll": 1}).real
        br = evaluate(rel["br_ratio"], {**v, "C_lm": 1, "C_ml": 0}).real
        de = evaluate(rel["d_e"], {"e_charge": 1, "m_e": m, "C_ee": 1j}).real
    return {"delta_a_per_ReC": da, "br_per_C2": br, "d_over_e_per_ImC": de}


def claims(derived: Relations, printed: Relations, const: Constants, dipole: dict) -> list[Claim]:
    """The paper's numeric claims of sections 1, 2 and 4, by the printed and the derived relations."""
    xs = np.exp(np.linspace(*np.log(X_RANGE), 4001))
    routes = (("printed", printed), ("derived", derived))
    out = []
    for lepton, printed_value in (("mu", "5.7 TeV"), ("e", "2.5 TeV")):
        cells = []
        for _, rel in routes:
            mass, at = _max_mass(rel, const, lepton, 10.0, xs)
            cells.append(f"{_fmt(mass / 1e3, 'TeV')} (x_phi = {at:.2f})")
        out.append(Claim("sec. 4", f"largest M_chi for Delta a_{lepton} at 2 sigma, c = 10", printed_value, *cells,
                         "eq. (2.9): printed and derived |ratio| coincide; only the sign differs"))
    cells = []
    for _, rel in routes:
        low, high = _overlap(rel, const, xs)
        cells.append(f"[{_fmt(low / 1e3)}, {_fmt(high / 1e3)}] TeV")
    out.append(Claim("secs. 2, 5", "M_chi where muon and electron overlap (2 sigma, c in [1, 10], same x_phi)",
                     "[0.6, 2.5] TeV", *cells, f"x_phi in [{X_RANGE[0]}, {X_RANGE[1]}]; the paper does not print its range"))
    cells = []
    for _, rel in routes:
        c_e = rel.loop_factor(0.6, const.band("e")[0], 2500.0, const.mass["e"])
        c_mu = [rel.loop_factor(0.6, d, 2500.0, const.mass["mu"]) for d in const.band("mu")]
        cells.append(f"c_e = {_fmt(float(c_e), digits=3)}, c_mu in [{_fmt(float(c_mu[0]))}, {_fmt(float(c_mu[1]))}]")
    out.append(Claim("sec. 4", "c_e, c_mu at M_chi = 2.5 TeV, x_phi = 0.6 (2 sigma)", "c_e = 10, c_mu in [2.2, 6.9]",
                     *cells, "c_e at the lower end of the electron band"))
    for lepton, printed_value in (("mu", "1.1"), ("e", "7.7")):
        args = (1.0, const.delta_a[lepton], 1000.0, const.mass[lepton])
        cells = [_fmt(float(rel.loop_factor(*args)), digits=3) for _, rel in routes]
        out.append(Claim("sec. 4", f"c_{lepton} for the central Delta a_{lepton} at M_chi = 1 TeV, x_phi = 1",
                         printed_value, *cells))
    m_mu = const.mass["mu"]
    naive = const.delta_a["mu"] * 2000.0**2 / (2 * m_mu)
    cells = []
    for _, rel in routes:
        full = abs(const.delta_a["mu"] / float(rel.ratio(np.array([1.0]), m_mu, 2000.0)[0]))
        cells.append(f"{_fmt(naive, 'GeV')}; with the loop functions at x_phi = 1: {_fmt(full, 'GeV')}")
    out.append(Claim("sec. 2", "m_mu^RAD ~ Delta a_mu M^2/(2 m_mu) at M = 2 TeV", "0.05 GeV", *cells,
                     "the estimate sets the two loop functions equal"))
    numbers = {route: {lepton: _dipole_numbers(dipole[route], route, const, lepton) for lepton in LEPTONS}
               for route in ("printed", "derived")}
    for lepton, printed_value, eq in (("e", "-7e-5 GeV^-2", "1.5"), ("mu", "5e-6 GeV^-2", "1.6")):
        cells = [_fmt(const.delta_a[lepton] / numbers[r][lepton]["delta_a_per_ReC"], "GeV^-2") for r, _ in routes]
        out.append(Claim(f"eq. ({eq})", f"Re C_{lepton}{lepton} for the central Delta a_{lepton}", printed_value,
                         *cells, "eq. (1.4) inverted"))
    bound = const.values["BR_mu_e_gamma_max"]
    cells = [_fmt(math.sqrt(bound / numbers[r]["mu"]["br_per_C2"]), "GeV^-2") for r, _ in routes]
    out.append(Claim("eq. (1.8)", "|C_emu| (or |C_mue|) for BR(mu -> e gamma) < 4.2e-13", "<~ 1e-10 GeV^-2", *cells,
                     "eq. (1.7), one coefficient at a time"))
    d_limit = const.values["d_e_max"] / const.values["hbar_c"]  # e cm -> e / GeV
    cells = [_fmt(d_limit / abs(numbers[r]["e"]["d_over_e_per_ImC"]), "GeV^-2") for r, _ in routes]
    out.append(Claim("eq. (4.6)", "|Im C_ee| for d_e < 1.1e-29 e cm", "< 6e-7 GeV^-2", *cells,
                     "eq. (4.5); hbar c = 1.9733e-14 GeV cm"))
    return out


# ------------------------------------------------------------------ plotting


def _figure():
    """A figure of two scatter panels, each with its colour bar, laid out by hand.

    Fixed axes positions instead of a layout engine: a layout engine measures every text
    box on every save, which costs more than drawing the points. ``matplotlib.figure``
    without pyplot: no global figure registry, nothing to close.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # optional: only drawing needs matplotlib
    from matplotlib.figure import Figure  # optional: only drawing needs matplotlib

    fig = Figure(figsize=(10, 4.2))
    FigureCanvasAgg(fig)
    left, width, bottom, height = (0.065, 0.555), 0.325, 0.125, 0.8
    axes = [fig.add_axes((x, bottom, width, height)) for x in left]
    bars = [fig.add_axes((x + width + 0.012, bottom, 0.012, height)) for x in left]
    return fig, axes, bars


def _log_x_axis(ax):
    """Log x axis with plain tick labels (0.1, 1) instead of typeset powers of ten."""
    from matplotlib.ticker import FuncFormatter, NullFormatter  # optional: only drawing needs matplotlib

    ax.set_xscale("log")
    ax.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel(r"$x_\phi = \mu_{\phi_1}/M_\chi$")


PNG_DPI = 120  # also the resolution of the rasterized points inside the PDF


def _save(fig, fmt: str) -> bytes:
    """PNG or PDF bytes without timestamps or version strings (same input, same bytes)."""
    return save_figure(fig, fmt, PNG_DPI)


def plot_figure3(samples: Mapping[str, Mapping[str, np.ndarray]], formats=("png", "pdf")) -> dict[str, bytes]:
    """M_chi against x_phi, coloured by c_l, one panel per lepton (the paper's figure 3)."""
    fig, axes, bars = _figure()
    for ax, bar, lepton in zip(axes, bars, LEPTONS):
        s = samples[lepton]
        art = ax.scatter(s["x_phi"], s["M_chi"] / 1e3, c=s["c"], s=2, cmap="viridis", vmin=C_RANGE[0],
                         vmax=C_RANGE[1], rasterized=True)
        _log_x_axis(ax)
        ax.set_ylabel(r"$M_\chi$ [TeV]")
        ax.set_title(rf"${LEPTON_LATEX[lepton]}$: $\Delta a_{{{LEPTON_LATEX[lepton]}}}$ within $2\sigma$ (derived eq. 2.9)", y=1.01)
        fig.colorbar(art, cax=bar, label=r"$c_\ell$")
    return {fmt: _save(fig, fmt) for fmt in formats}


def plot_figure4(samples: Mapping[str, Mapping[str, np.ndarray]], printed: Mapping[str, Mapping[str, np.ndarray]],
                 formats=("png", "pdf")) -> dict[str, bytes]:
    """v_1/v_a against x_phi, coloured by lambda (derived), with the printed relation's
    envelope as grey points (the paper's figure 4)."""
    fig, axes, bars = _figure()
    for ax, bar, lepton in zip(axes, bars, LEPTONS):
        p = printed[lepton]
        ax.scatter(p["x_phi"], p["v1_over_va"], s=1, color="0.82", rasterized=True, label="printed eq. (2.10)")
        s = samples[lepton]
        art = ax.scatter(s["x_phi"], s["v1_over_va"], c=s["lambda"], s=2, cmap="plasma", vmin=LAMBDA_RANGE[0],
                         vmax=LAMBDA_RANGE[1], rasterized=True, label="derived")
        _log_x_axis(ax)
        ax.set_ylabel(r"$v_1/v_a$")
        ax.set_title(rf"${LEPTON_LATEX[lepton]}$ (derived eq. 2.10, $c_\ell \in [1, 10]$)", y=1.01)
        ax.legend(loc="upper left", markerscale=6, fontsize=8)
        fig.colorbar(art, cax=bar, label=r"$\lambda$")
    return {fmt: _save(fig, fmt) for fmt in formats}


# ------------------------------------------------------------------ the pipeline stage

FIGURE_POINTS = 3000  # per panel in `symflav derive`; `symflav scan` makes larger samples
FIGURE_SEED = 20200615


@dataclass(frozen=True)
class FigureData:
    """Result of the ``figures`` stage: samples for figures 3 and 4, and the claims."""

    figure3: Mapping[str, Mapping[str, np.ndarray]]
    figure4: Mapping[str, Mapping[str, np.ndarray]]
    figure4_printed: Mapping[str, Mapping[str, np.ndarray]]
    claims: tuple[Claim, ...]
    sign_rule: Mapping[str, int]
    points: int
    seed: int

    def to_json(self) -> dict:
        return {
            "x_phi_range": list(X_RANGE),
            "c_range": list(C_RANGE),
            "lambda_range": list(LAMBDA_RANGE),
            "points_per_panel": self.points,
            "seed": self.seed,
            "sign_of_delta_a_over_m_rad": dict(self.sign_rule),
            "claims": [
                {"where": c.where, "statement": c.statement, "printed": c.printed,
                 "from_printed_relations": c.from_printed, "from_derived_relations": c.derived, "note": c.note}
                for c in self.claims
            ],
        }


def load_numeric(source: str, name: str = "numeric"):
    """The generated module from its source (symflav's own output, not user input)."""
    return load_generated(source, name)


def derive_figures(model, results, points: int = FIGURE_POINTS, seed: int = FIGURE_SEED) -> FigureData | None:
    """The ``figures`` stage: needs the ``paper`` stage and ``codegen``; None without them."""
    forms = available(results, "paper")
    if forms is None or "codegen" not in results or not forms.section2:
        return None
    if "ratio_fn_rad" not in results["codegen"].functions:
        return None
    numeric = load_numeric(results["codegen"].source)
    registry = printed_registry.load(model)
    derived = derived_relations(numeric)
    const = Constants.from_model(model)
    fig3 = {lepton: figure3_sample(derived, const, lepton, points, seed) for lepton in LEPTONS}
    fig4 = {lepton: figure4_sample(derived, const, lepton, points, seed) for lepton in LEPTONS}
    claims_list: tuple[Claim, ...] = ()
    fig4_printed: dict = {}
    sign = {"derived": derived.sign_ratio}
    if registry is not None:
        printed = printed_relations(registry, numeric)
        sign["printed"] = printed.sign_ratio
        fig4_printed = {lepton: figure4_sample(printed, const, lepton, points, seed,
                                               printed_c_range(lepton, printed, const)) for lepton in LEPTONS}
        claims_list = tuple(claims(derived, printed, const, dipole_relations(results["observables"], registry)))
    return FigureData(fig3, fig4, fig4_printed, claims_list, sign, points, seed)


def figure_files(data: FigureData) -> dict[str, bytes]:
    """``figures/figure3.{png,pdf}``, ``figures/figure4.{png,pdf}``."""
    files = {f"figures/figure3.{fmt}": blob for fmt, blob in plot_figure3(data.figure3).items()}
    files.update({f"figures/figure4.{fmt}": blob
                  for fmt, blob in plot_figure4(data.figure4, data.figure4_printed or data.figure4).items()})
    return files
