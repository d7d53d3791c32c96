"""Every limit of symflav.core.limits holds at its value and refuses one step above it.

Each test puts an input just below (or at) the limit and just above it, through the
reader that enforces it (the formula parser, the model reader, the command line), and
checks the refusal is one ParseError / SpecError naming the key -- never a hang."""

from __future__ import annotations

import itertools

import pytest
import sympy as sp

from symflav.core import limits, spec
from symflav.core.errors import SpecError
from symflav.core.parsing import ParseError, parse_expression, parse_number

NAMES = {n: sp.Symbol(n) for n in "abcdefghijxyz"}


def parses(text: str) -> sp.Expr:
    return parse_expression(text, NAMES, real=True)


def refused(text: str, words: str) -> None:
    with pytest.raises(ParseError, match=words):
        parses(text)


# ------------------------------------------------------------------ formulas


def test_formula_length_is_accepted_at_the_limit_and_refused_one_character_above():
    at_limit = "x " + "+0" * ((limits.MAX_FORMULA_CHARS - 2) // 2)
    assert len(at_limit) == limits.MAX_FORMULA_CHARS
    assert parses(at_limit) == NAMES["x"]
    refused(at_limit + " ", "too long")


def test_nesting_depth_is_accepted_at_the_limit_and_refused_one_level_above():
    # a chain of n unary minus signs over a name is n + 1 levels deep
    at_limit = "-" * (limits.MAX_NESTING_DEPTH - 1) + "x"
    assert parses(at_limit) == (-1) ** (limits.MAX_NESTING_DEPTH - 1) * NAMES["x"]
    refused("-" + at_limit, "nested too deeply")


def test_thousands_of_signs_or_parentheses_are_refused_without_recursion_error():
    refused("-" * 1990 + "x", "nested too deeply")
    refused("(" * 190 + "x" + ")" * 190, "nested")
    refused("sqrt(" * 60 + "x" + ")" * 60, "nested")


def test_expanded_terms_are_counted_before_expanding():
    ten = "(a+b+c+d+e+f+g+h+i+j)"
    # 10 * 10 * C(4 + 3 - 1, 3) = 10 * 10 * 20 = 2000 monomials: at the limit
    assert limits.MAX_FORMULA_TERMS == 2000
    parses(f"{ten}*{ten}*(a+b+c+d)^3")
    refused(f"{ten}*{ten}*(a+b+c+d+1)^3", "more than 2000 terms")  # 10 * 10 * 35


def test_power_terms_is_the_number_of_monomials_of_the_expanded_power():
    x, y, z = sp.symbols("x y z")
    for terms, exponent in ((2, 5), (3, 4), (3, 1)):
        expanded = sp.expand(sum((x, y, z)[:terms]) ** exponent)
        assert limits.power_terms(terms, exponent) == len(sp.Add.make_args(expanded))


def test_exponent_is_accepted_at_the_limit_and_refused_above_also_after_joining_powers():
    assert parses("x^64") == NAMES["x"] ** 64
    refused("x^65", "power 65 is too large")
    assert parses("(x^8)^8") == NAMES["x"] ** 64
    refused("(x^8)^9", "power 72 is too large")
    refused("((((x^64)^64)^64)^64)^64", "too large")


# ------------------------------------------------------------------ numbers


def test_integer_digits_are_accepted_at_the_limit_and_refused_one_digit_above():
    digits = "9" * limits.MAX_NUMBER_DIGITS
    assert parse_number(digits) == sp.Integer(digits)
    assert parse_number(int(digits)) == sp.Integer(digits)
    assert parses(f"x*{digits}") == NAMES["x"] * sp.Integer(digits)
    for too_many in (digits + "9", "1" * 5000):
        with pytest.raises(ParseError, match="digits"):
            parse_number(too_many)
    with pytest.raises(ParseError, match="digits"):
        parse_number(int(digits + "9"))
    refused(f"x*{digits}9", "digits")


def test_rational_digits_are_bounded_in_numerator_and_denominator():
    digits = "7" * limits.MAX_NUMBER_DIGITS
    assert parse_number(f"1/{digits}") == sp.Rational(1, int(digits))
    with pytest.raises(ParseError, match="denominator"):
        parse_number(f"1/{digits}7")
    with pytest.raises(ParseError, match="numerator"):
        parse_number(f"{digits}7/3")


def test_decimal_exponent_range_is_judged_from_the_text():
    assert parse_number("1e300") == sp.Integer(10) ** 300
    assert parse_number("1e-300") == sp.Rational(1, 10**300)
    assert parse_number(1e300) > 0 and parse_number(1e-300) > 0
    for text, words in (("1.1e300", "larger"), ("1e301", "larger"), ("1e-301", "smaller"),
                        ("1e99999999", "larger"), ("-1e99999999999999999999", "larger")):
        with pytest.raises(ParseError, match=words):
            parse_number(text)
    for value in (float("inf"), float("nan"), 1e-310):
        with pytest.raises(ParseError):
            parse_number(value)


def test_constant_subexpressions_stay_within_the_float_range():
    parses("exp(690)")  # 1.1e299
    refused("exp(691)", "overflow")
    refused("exp(exp(exp(1000)))", "overflow")
    refused("(10^64)^5", "larger than 1e300")  # 1e320
    refused("x*2^64^64", "too large")


def test_only_ascii_digits_are_numbers():
    for text in ("٣", "３", "1٣"):
        with pytest.raises(ParseError, match="ASCII"):
            parse_number(text)


# ------------------------------------------------------------------ files and model sizes


def model_text(scalars: int = 1, group: str = "U1", degree: int = 4, charge: str = '"1"') -> str:
    lines = ["[derivation]", 'name = "toy"', f"degree = {degree}", "[symmetries.S]", f'group = "{group}"']
    for i in range(scalars):
        lines += ["[[scalars]]", f'name = "s{i}"', f'label = "{i}"', f"charges = {{ S = {charge} }}"]
    return "\n".join(lines) + "\n"


def load_text(tmp_path, text: str):
    path = tmp_path / "model.toml"
    path.write_text(text, encoding="utf-8")
    return spec.load(str(path))


def refused_model(tmp_path, text: str, key: str, words: str) -> None:
    with pytest.raises(SpecError, match=words) as info:
        load_text(tmp_path, text)
    assert info.value.key == key


def test_toml_nesting_is_accepted_at_the_limit_and_refused_above(tmp_path):
    # the document, [points] and [points.p] are three levels, each array one more
    def nested(arrays: int) -> str:
        return model_text() + "[points.p]\n" + "x = " + "[" * arrays + "1" + "]" * arrays + "\n"

    path = tmp_path / "m.toml"
    path.write_text(nested(limits.MAX_TOML_DEPTH - 3), encoding="utf-8")
    data, _ = spec.read_toml(path)
    assert limits.toml_depth(data) == limits.MAX_TOML_DEPTH
    path.write_text(nested(limits.MAX_TOML_DEPTH - 2), encoding="utf-8")
    with pytest.raises(SpecError, match="nested more than"):
        spec.read_toml(path)
    path.write_text(nested(10_000), encoding="utf-8")
    with pytest.raises(SpecError, match="nested more than"):
        spec.read_toml(path)


def test_file_size_is_accepted_at_the_limit_and_refused_one_byte_above(tmp_path, monkeypatch):
    text = model_text()
    monkeypatch.setattr(limits, "MAX_FILE_BYTES", len(text.encode()))
    assert load_text(tmp_path, text).name == "toy"
    refused_model(tmp_path, text + "\n", None, "too large")


def test_degree_is_accepted_at_the_limit_and_refused_above(tmp_path):
    assert load_text(tmp_path, model_text(degree=limits.MAX_DEGREE)).degree == limits.MAX_DEGREE
    refused_model(tmp_path, model_text(degree=limits.MAX_DEGREE + 1), "derivation.degree", "between 1 and 8")


def test_number_of_scalars_is_accepted_at_the_limit_and_refused_above(tmp_path):
    assert len(load_text(tmp_path, model_text(scalars=limits.MAX_SCALARS)).scalars) == limits.MAX_SCALARS
    refused_model(tmp_path, model_text(scalars=limits.MAX_SCALARS + 1), "scalars", "at most 16")


def test_zn_order_is_accepted_at_the_limit_and_refused_above(tmp_path):
    assert load_text(tmp_path, model_text(group=f"Z{limits.MAX_ZN_ORDER}")).symmetries[0].order == 1000
    refused_model(tmp_path, model_text(group=f"Z{limits.MAX_ZN_ORDER + 1}"), "symmetries.S.group", "between 2")
    refused_model(tmp_path, model_text(group="Z" + "9" * 40), "symmetries.S.group", "between 2")


def mediator_model(charges: str, group: str = "U1") -> str:
    return (model_text(group=group).replace('S = "1"', 'S = 1')
            + '[parameters]\nM = { kind = "mass" }\n'
            + f'[[mediators]]\nname = "F"\nmass = "M"\ncharges = {{ S = {charges} }}\n')


def test_mediator_charge_list_is_accepted_at_the_limit_and_refused_above(tmp_path):
    at_limit = "[" + ", ".join(str(q) for q in range(limits.MAX_CHARGE_LIST)) + "]"
    assert len(load_text(tmp_path, mediator_model(at_limit)).mediators) == limits.MAX_CHARGE_LIST
    above = "[" + ", ".join(str(q) for q in range(10_000)) + "]"
    refused_model(tmp_path, mediator_model(above), "mediators[0].charges.S", "10000 charges")
    # "any" of a large Z_N is as long as N
    refused_model(tmp_path, mediator_model('"any"', group="Z1000"), "mediators[0].charges.S", "1000 charges")


def test_mediator_species_are_bounded_by_the_product_of_the_lists():
    limits.check_species([16, 16])
    with pytest.raises(limits.LimitError, match="257|272"):
        limits.check_species([16, 17])


def test_candidate_count_is_the_number_of_monomials_and_force_lifts_its_bound():
    # brute force: monomials of degree 1..D in 2n variables
    for n, degree in ((1, 3), (2, 4), (3, 2)):
        count = sum(1 for d in range(1, degree + 1)
                    for _ in itertools.combinations_with_replacement(range(2 * n), d))
        assert limits.candidate_count(n, degree) == count
    assert limits.candidate_count(9, 8) <= limits.MAX_CANDIDATES < limits.candidate_count(10, 8)
    limits.check_candidates(9, 8, force=False)
    with pytest.raises(limits.LimitError, match="--force"):
        limits.check_candidates(10, 8, force=False)
    limits.check_candidates(10, 8, force=True)


def test_estimated_symbolic_time_is_accepted_at_the_bound_and_refused_above_unless_forced():
    quartic = (4, True)  # 3^4 = 81 terms of the real potential
    # n operators of 81 terms: estimate c * n * 81 n; the largest n within the bound
    below = int((limits.MAX_POTENTIAL_SECONDS / (limits.SECONDS_PER_TERM_OPERATOR * 81)) ** 0.5)
    assert limits.potential_estimate([quartic] * below)[1] <= limits.MAX_POTENTIAL_SECONDS
    limits.check_potential([quartic] * below, force=False)
    with pytest.raises(limits.LimitError, match="--force"):
        limits.check_potential([quartic] * (below + 1), force=False)
    limits.check_potential([quartic] * (below + 1), force=True)
    # a non-hermitian operator counts twice (its h.c.)
    assert limits.real_potential_terms([(3, False), (2, True)]) == 2 * 27 + 9


def test_scan_points_are_bounded_by_the_limit_and_by_memory():
    limits.check_scan_points(limits.MAX_SCAN_POINTS, memory=2**60)
    for points in (0, limits.MAX_SCAN_POINTS + 1):
        with pytest.raises(limits.LimitError, match="between 1 and"):
            limits.check_scan_points(points, memory=2**60)
    memory = 1000 * limits.SCAN_BYTES_PER_POINT
    limits.check_scan_points(1000, memory=memory)
    with pytest.raises(limits.LimitError, match="memory"):
        limits.check_scan_points(1001, memory=memory)


def test_seed_is_accepted_at_both_ends_and_refused_outside():
    for seed in (0, limits.MAX_SEED):
        limits.check_seed(seed)
    for seed in (-1, limits.MAX_SEED + 1):
        with pytest.raises(limits.LimitError, match="between 0 and"):
            limits.check_seed(seed)
