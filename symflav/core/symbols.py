"""The one symbol factory.

All sympy symbols of a derivation are created here, so that the same name always
gives the same symbol with the same assumptions:

* parameters of kind ``mass`` (GeV, e.g. ``mu_1``, a mediator mass) are positive;
* couplings (``lambda_1ab``, ``g_mu``) and vevs (``v_3`` may be negative) are real;
* field components ``sigma_i``, ``varphi_i`` (phi_i = v_i + sigma_i + i varphi_i) are real;
* the holomorphic field symbols ``phi_i`` and ``phibar_i`` (for phi_i^dagger) are
  treated as independent complex variables.

LaTeX names are kept in :data:`LATEX_NAMES` (symbol -> LaTeX) and :data:`FUNCTION_LATEX`
(undefined function name -> LaTeX), filled when a symbol is created, and used by every printer
through :func:`latex_names`. A result read from the on-disk cache brings the entries of its
symbols with it (:func:`latex_entries`, :func:`restore_latex`).
"""

from __future__ import annotations

import sympy as sp

PARAMETER_KINDS = ("mass", "coupling", "vev")

LATEX_NAMES: dict[sp.Symbol, str] = {}


def parameter(name: str, kind: str = "coupling", latex: str | None = None) -> sp.Symbol:
    """A model parameter. ``kind`` is one of :data:`PARAMETER_KINDS`."""
    if kind not in PARAMETER_KINDS:
        raise ValueError(f"unknown parameter kind {kind!r}")
    sym = sp.Symbol(name, positive=True) if kind == "mass" else sp.Symbol(name, real=True)
    if latex:
        LATEX_NAMES[sym] = latex
    return sym


def _component(prefix: str, label: str, latex: str) -> sp.Symbol:
    sym = sp.Symbol(f"{prefix}_{label}", real=True)
    LATEX_NAMES.setdefault(sym, latex)
    return sym


def sigma(label: str) -> sp.Symbol:
    """CP-even fluctuation sigma_i of phi_i."""
    return _component("sigma", label, rf"\sigma_{{{label}}}")


def varphi(label: str) -> sp.Symbol:
    """CP-odd fluctuation varphi_i of phi_i."""
    return _component("varphi", label, rf"\varphi_{{{label}}}")


def holomorphic(label: str, latex: str) -> tuple[sp.Symbol, sp.Symbol]:
    """The pair (phi_i, phi_i^dagger) as independent symbols."""
    phi = sp.Symbol(f"phi_{label}")
    phibar = sp.Symbol(f"phibar_{label}")
    LATEX_NAMES.setdefault(phi, latex)
    LATEX_NAMES.setdefault(phibar, latex + r"^{\dagger}")
    return phi, phibar


def latex_names(extra: dict | None = None) -> dict[sp.Symbol, str]:
    """Symbol -> LaTeX mapping for ``sympy.latex(..., symbol_names=...)``."""
    names = dict(LATEX_NAMES)
    if extra:
        names.update(extra)
    return names


PRINTED_KINDS = ("positive", "real", "complex", "integer")


def printed(name: str, kind: str = "real", latex: str | None = None) -> sp.Symbol:
    """A symbol of the printed registry that is not a model parameter (x_phi, C_ll, n)."""
    if kind not in PRINTED_KINDS:
        raise ValueError(f"unknown symbol kind {kind!r}")
    assumptions = {"positive": {"positive": True}, "real": {"real": True},
                   "complex": {}, "integer": {"integer": True, "positive": True}}[kind]
    sym = sp.Symbol(name, **assumptions)
    if latex:
        LATEX_NAMES[sym] = latex
    return sym


def printed_function(name: str, latex: str | None = None):
    """An undefined function of the printed registry (I_m_x), kept opaque in comparisons."""
    func = sp.Function(name, real=True)
    if latex:
        FUNCTION_LATEX[name] = latex
    return func


FUNCTION_LATEX: dict[str, str] = {}


def auxiliary(name: str, latex: str | None = None, *, positive: bool = False) -> sp.Symbol:
    """A symbol that is not a model parameter: loop variables (x = m/M), Feynman
    parameters, couplings of generic amplitudes. Real; positive if asked."""
    sym = sp.Symbol(name, positive=True) if positive else sp.Symbol(name, real=True)
    if latex:
        LATEX_NAMES.setdefault(sym, latex)
    return sym


def small(name: str, latex: str | None = None) -> sp.Symbol:
    """The small expansion parameter of a derivation (e.g. epsilon = v_1/v_a), positive."""
    sym = sp.Symbol(name, positive=True)
    if latex:
        LATEX_NAMES[sym] = latex
    return sym


def latex_entries(symbols, functions=()) -> dict[str, dict]:
    """The registry entries of ``symbols`` and of the undefined functions named ``functions``
    (those that have one): ``{"symbols": {symbol: latex}, "functions": {name: latex}}``. A stage
    result read back from the on-disk cache carries them, since the stage that created its
    symbols did not run (:func:`restore_latex`)."""
    return {"symbols": {s: LATEX_NAMES[s] for s in sorted(symbols, key=sp.default_sort_key) if s in LATEX_NAMES},
            "functions": {n: FUNCTION_LATEX[n] for n in sorted(functions) if n in FUNCTION_LATEX}}


def restore_latex(entries: dict[str, dict]) -> None:
    """Put the entries of :func:`latex_entries` back into the registries, as they were when the
    result was computed."""
    LATEX_NAMES.update(entries.get("symbols", {}))
    FUNCTION_LATEX.update(entries.get("functions", {}))
