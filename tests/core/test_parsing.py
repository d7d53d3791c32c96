"""The whitelist parser: "^" is a power with the precedence of a power."""

from __future__ import annotations

import sympy as sp

from symflav.core.parsing import parse_expression


def test_caret_binds_like_a_power():
    x = sp.Symbol("x")
    names = {"x": x}
    assert parse_expression("1 - x^2", names) == 1 - x**2
    assert parse_expression("2*x^2", names) == 2 * x**2
    assert parse_expression("(1 + 2*log(x) - x^2)/(1 - x^2)^2", names) == (1 + 2 * sp.log(x) - x**2) / (1 - x**2) ** 2
    assert parse_expression("x^2^3", names) == x ** (2**3)
