"""LaTeX printing in the paper's notation.

Symbols print with the names declared in the derivation (``lambdap_13`` as
``\\lambda'_{13}``, ``phibar_1`` as ``\\phi_1^\\dagger``) via
:func:`symflav.symbols.latex_names`.
"""

from __future__ import annotations

import sympy as sp

from symflav import symbols
from symflav.model import Monomial


def latex(expr, **options) -> str:
    """sympy LaTeX with the derivation's symbol names."""
    return sp.latex(sp.sympify(expr), symbol_names=symbols.latex_names(), **options)


def operator(monomial: Monomial, latex_names) -> str:
    """``\\phi_a^\\dagger \\phi_b^\\dagger \\phi_1^{2}``; hermitian pairs as ``(\\phi^\\dagger\\phi)^k``."""
    names = list(latex_names)
    pairs, daggers, plain = monomial.factors()
    power = lambda k: f"^{{{k}}}" if k > 1 else ""  # noqa: E731
    return " ".join(
        [rf"\left({names[i]}^\dagger {names[i]}\right){power(k)}" for i, k in pairs]
        + [f"{names[i]}^\\dagger" if k == 1 else f"{names[i]}^{{\\dagger {k}}}" for i, k in daggers]
        + [f"{names[i]}{power(k)}" for i, k in plain]
    )


def signed_term(coefficient: sp.Expr, body: str, first: bool) -> str:
    """``+ c\\, body`` / ``- c\\, body`` with the sign pulled out of the coefficient."""
    negative = coefficient.could_extract_minus_sign()
    magnitude = -coefficient if negative else coefficient
    text = "" if magnitude == 1 else latex(magnitude) + r"\, "
    if isinstance(magnitude, sp.Add):
        text = r"\left(" + latex(magnitude) + r"\right) "
    sign = "-" if negative else ("" if first else "+")
    return f"{sign} {text}{body}".strip()
