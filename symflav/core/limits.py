"""Every limit on input, stated and enforced in one place.

Each limit protects a step whose cost grows with the input (sympy arithmetic on huge
numbers, recursive parsers, the enumeration of operators, the expansion of the potential,
memory of a scan). A limit is checked before that step starts, and a value at the limit is
accepted: ``x <= MAX_X`` passes, ``MAX_X + 1`` fails with :class:`LimitError`, which the
readers turn into one line naming the file or option and the key.

===============================  =========================  =====================================
limit                            value                      what it bounds
===============================  =========================  =====================================
:data:`MAX_FILE_BYTES`           4 000 000 bytes            a model, printed registry, errata file
:data:`MAX_TOML_DEPTH`           16 levels                  tables and arrays inside each other
:data:`MAX_FORMULA_CHARS`        2000 characters            a formula
:data:`MAX_NESTING_DEPTH`        40 levels                  operators, calls, signs inside each other
:data:`MAX_FORMULA_TERMS`        2000 terms                 a formula, expanded (:func:`expanded_terms`)
:data:`MAX_POWER`                64                         a numeric exponent, also repeated powers
:data:`MAX_NUMBER_DIGITS`        30 digits                  an integer, numerator, denominator,
                                                            or the significand of a decimal
:data:`MAX_DECIMAL_EXPONENT`     300                        any nonzero number, also a constant part
                                                            of a formula: 1e-300 <= |x| <= 1e300
:data:`MAX_DEGREE`               8                          degree of the potential
:data:`MAX_SCALARS`              16                         scalars of the potential
:data:`MAX_ZN_ORDER`             1000                       N of a Z_N symmetry
:data:`MAX_CHARGE_LIST`          256 charges                one list of mediator charges
:data:`MAX_MEDIATOR_SPECIES`     256 species                one mediator family (product of its lists)
:data:`MAX_CANDIDATES`           2 000 000 monomials        enumerated operators (--force lifts it)
:data:`MAX_POTENTIAL_SECONDS`    900 s (estimated)          the symbolic stages (--force lifts it)
:data:`MAX_SCAN_POINTS`          100 000 000                points of a scan, and memory (below)
:data:`MAX_SEED`                 2**32 - 1                  --seed
===============================  =========================  =====================================

Numbers outside 1e-300..1e300 are refused rather than rounded: a float holds up to 1.8e308,
and a value that overflows (``inf``) or underflows to 0 would be written into generated code
as something other than what the file says.

The time estimate (:func:`potential_estimate`) is :data:`SECONDS_PER_TERM_OPERATOR` times
the number of operators times the terms of the real potential (3^d terms for an operator of
degree d, as each field is v + sigma + i varphi; twice for a non-hermitian one, its h.c.):
the stages after the real potential (tadpoles, mass matrices, spectrum, code) work on
derivatives whose size grows with both, so the cost grows faster than the term count. Measured with ``derive --code-only`` (sum of
the stage times, on this project's shared two-core machine, under load):

=====================================  =========  =========  ============  ===============
model                                  operators  terms      estimate      measured stages
=====================================  =========  =========  ============  ===============
calibbi2020 (degree 4)                 18         1 206      9 s           8.6 s (wall)
u1u1_sextic (degree 6)                 15         4 194      25 s          11.9 s
2 neutral scalars, degree 4            37         3 477      51 s          30 s
3 neutral scalars, degree 4            109        11 925     520 s         > 900 s (stopped)
calibbi2020 at degree 6                52         35 226     12 min        (not run)
calibbi2020 at degree 8                137        833 481    13 h          (refused)
8 neutral scalars, degree 4            2 444      337 260    92 h          (refused)
=====================================  =========  =========  ============  ===============

A linear count (seconds per term) missed the 3-scalar toy by more than ten times; this one
errs by a factor of about two either way on the measured models (it is low for the largest).
The estimate is a guide to refuse hours of work, not a promise; ``--force`` goes past it.
"""

from __future__ import annotations

import math
import os
from typing import Any, Iterable

MAX_FILE_BYTES = 4_000_000
MAX_TOML_DEPTH = 16
MAX_FORMULA_CHARS = 2000
MAX_NESTING_DEPTH = 40
MAX_FORMULA_TERMS = 2000
MAX_POWER = 64
MAX_NUMBER_DIGITS = 30
MAX_DECIMAL_EXPONENT = 300
MAX_DEGREE = 8
MAX_SCALARS = 16
MAX_ZN_ORDER = 1000
MAX_CHARGE_LIST = 256
MAX_MEDIATOR_SPECIES = 256
MAX_CANDIDATES = 2_000_000
MAX_POTENTIAL_SECONDS = 900.0
SECONDS_PER_TERM_OPERATOR = 4e-4
MAX_SCAN_POINTS = 100_000_000
SCAN_BYTES_PER_POINT = 2000
MAX_SEED = 2**32 - 1
MAX_STARTS = 10_000
MAX_WORKERS = 256

LARGEST = 10.0**MAX_DECIMAL_EXPONENT
SMALLEST_NONZERO_EXPONENT = -MAX_DECIMAL_EXPONENT


class LimitError(ValueError):
    """An input exceeds one of the limits above; the message names the limit."""


# ------------------------------------------------------------------ numbers


def check_digits(digits: str, what: str = "number") -> None:
    """At most :data:`MAX_NUMBER_DIGITS` significant digits (``digits``: ASCII digits only)."""
    significant = digits.lstrip("0")
    if len(significant) > MAX_NUMBER_DIGITS:
        raise LimitError(f"{what} has {len(significant)} digits (at most {MAX_NUMBER_DIGITS})")


def check_integer_size(value: int, what: str = "integer") -> None:
    """An int (from TOML or the command line) of at most :data:`MAX_NUMBER_DIGITS` digits,
    judged from its bit length (converting a huge int to text is itself slow)."""
    bits = abs(value).bit_length()
    if bits > 4 * MAX_NUMBER_DIGITS or abs(value) >= 10**MAX_NUMBER_DIGITS:
        raise LimitError(f"{what} has more than {MAX_NUMBER_DIGITS} digits")


def check_decimal(mantissa_digits: str, point_position: int, exponent: int, what: str = "number") -> None:
    """A decimal written ``d.ddd e X`` is within 1e-300..1e300 (or zero), judged from its text.

    ``mantissa_digits`` are the digits without the point, ``point_position`` how many of them
    stand before the point, ``exponent`` the written power of ten. Nothing is computed from
    the value, so ``1e99999999`` costs no time."""
    check_digits(mantissa_digits, what)
    stripped = mantissa_digits.lstrip("0")
    if not stripped:
        return  # zero
    leading_zeros = len(mantissa_digits) - len(stripped)
    # the value is 0.d1d2... * 10^(decimal_exponent)
    decimal_exponent = exponent + point_position - leading_zeros
    if decimal_exponent - 1 >= MAX_DECIMAL_EXPONENT + 1 or (
        decimal_exponent - 1 == MAX_DECIMAL_EXPONENT and stripped.rstrip("0") != "1"
    ):
        raise LimitError(f"{what} is larger than 1e{MAX_DECIMAL_EXPONENT} in magnitude (it would overflow)")
    if decimal_exponent - 1 < -MAX_DECIMAL_EXPONENT:
        raise LimitError(f"{what} is smaller than 1e-{MAX_DECIMAL_EXPONENT} in magnitude (it would underflow)")


def check_magnitude(value: float | int, what: str = "value") -> None:
    """A real number computed from the input is zero or within 1e-300..1e300."""
    if value != value or value in (math.inf, -math.inf):
        raise LimitError(f"{what} is not a finite number")
    magnitude = abs(value)
    if magnitude > LARGEST:
        raise LimitError(f"{what} is larger than 1e{MAX_DECIMAL_EXPONENT} in magnitude (it would overflow)")
    if magnitude and magnitude < 10.0**SMALLEST_NONZERO_EXPONENT:
        raise LimitError(f"{what} is smaller than 1e-{MAX_DECIMAL_EXPONENT} in magnitude (it would underflow)")


# ------------------------------------------------------------------ formulas


def check_formula_text(text: str) -> None:
    if len(text) > MAX_FORMULA_CHARS:
        raise LimitError(f"formula is too long ({len(text)} characters, at most {MAX_FORMULA_CHARS})")


def check_depth(depth: int, what: str = "formula") -> None:
    if depth > MAX_NESTING_DEPTH:
        raise LimitError(f"{what} is nested too deeply (more than {MAX_NESTING_DEPTH} levels of "
                         "parentheses, operators, functions or signs)")


def check_power(exponent, what: str = "power") -> None:
    """``exponent``: a sympy number; its absolute value is at most :data:`MAX_POWER`."""
    if abs(exponent) > MAX_POWER:
        shown = str(exponent) if len(str(exponent)) <= 20 else "of more than 20 digits"
        raise LimitError(f"{what} {shown} is too large (at most {MAX_POWER} in absolute value)")


def power_terms(terms: int, exponent: int) -> int:
    """Terms of ``(t_1 + ... + t_terms)^exponent`` expanded: monomials of that degree,
    C(terms + exponent - 1, exponent); saturates above :data:`MAX_FORMULA_TERMS`."""
    if terms <= 1 or exponent <= 1:
        return terms if exponent >= 1 else 1
    return min(math.comb(terms + exponent - 1, exponent), MAX_FORMULA_TERMS + 1)


def expanded_terms(count: int) -> int:
    """``count`` terms of an expanded formula, checked against :data:`MAX_FORMULA_TERMS`."""
    if count > MAX_FORMULA_TERMS:
        raise LimitError(f"formula expands to more than {MAX_FORMULA_TERMS} terms")
    return count


# ------------------------------------------------------------------ files


def check_file_size(size: int) -> None:
    if size > MAX_FILE_BYTES:
        raise LimitError(f"file is too large ({size} bytes, at most {MAX_FILE_BYTES})")


def toml_depth(data: Any) -> int:
    """Deepest nesting of tables and arrays in parsed TOML (iterative: no recursion limit)."""
    deepest, stack = 0, [(data, 0)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            children: Iterable = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        depth += 1
        deepest = max(deepest, depth)
        if depth > MAX_TOML_DEPTH:
            break
        stack.extend((child, depth) for child in children)
    return deepest


def check_toml_depth(data: Any) -> None:
    if toml_depth(data) > MAX_TOML_DEPTH:
        raise LimitError(f"tables and arrays are nested more than {MAX_TOML_DEPTH} levels deep")


# ------------------------------------------------------------------ model sizes


def check_degree(degree: int) -> None:
    if not 1 <= degree <= MAX_DEGREE:
        raise LimitError(f"must be between 1 and {MAX_DEGREE}")


def check_scalars(count: int) -> None:
    if count > MAX_SCALARS:
        raise LimitError(f"{count} scalars in the potential (at most {MAX_SCALARS})")


def check_zn_order(order_text: str) -> int:
    """N of ``Z<N>`` from its ASCII digits: 2 <= N <= :data:`MAX_ZN_ORDER`."""
    if len(order_text) > len(str(MAX_ZN_ORDER)) or not 2 <= int(order_text) <= MAX_ZN_ORDER:
        raise LimitError(f"N must be between 2 and {MAX_ZN_ORDER}")
    return int(order_text)


def check_charge_list(length: int) -> None:
    if length > MAX_CHARGE_LIST:
        raise LimitError(f"{length} charges in one list (at most {MAX_CHARGE_LIST})")


def check_species(lengths: Iterable[int]) -> None:
    count = math.prod(lengths)
    if count > MAX_MEDIATOR_SPECIES:
        raise LimitError(f"the charge lists give {count} mediator species (at most {MAX_MEDIATOR_SPECIES})")


def candidate_count(scalars: int, degree: int) -> int:
    """Monomials of degree 1..``degree`` in the scalars and their conjugates: what the
    operator enumeration walks through, C(2n + D, D) - 1."""
    return math.comb(2 * scalars + degree, degree) - 1


def real_potential_terms(operators: Iterable[tuple[int, bool]]) -> int:
    """Estimated terms of the real potential from (degree, hermitian) of each operator."""
    return sum(3**degree * (1 if hermitian else 2) for degree, hermitian in operators)


def potential_estimate(operators: Iterable[tuple[int, bool]]) -> tuple[int, float]:
    """(terms of the real potential, estimated seconds of the symbolic stages):
    :data:`SECONDS_PER_TERM_OPERATOR` x operators x terms."""
    operators = list(operators)
    terms = real_potential_terms(operators)
    return terms, SECONDS_PER_TERM_OPERATOR * len(operators) * terms


def check_candidates(scalars: int, degree: int, force: bool) -> None:
    count = candidate_count(scalars, degree)
    if count > MAX_CANDIDATES and not force:
        raise LimitError(f"{scalars} scalars to degree {degree} means enumerating {count:,} monomials "
                         f"(more than {MAX_CANDIDATES:,}); lower the degree, or pass --force")


def check_potential(operators: list[tuple[int, bool]], force: bool) -> None:
    terms, seconds = potential_estimate(operators)
    if seconds > MAX_POTENTIAL_SECONDS and not force:
        raise LimitError(f"{len(operators)} operators, about {terms:,} terms in the real potential: an estimated "
                         f"{_duration(seconds)} of symbolic work (more than {_duration(MAX_POTENTIAL_SECONDS)}); "
                         "lower the degree, or pass --force")


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.0f} h"


# ------------------------------------------------------------------ command line


def check_seed(seed: int) -> None:
    if not 0 <= seed <= MAX_SEED:
        raise LimitError(f"must be between 0 and {MAX_SEED}")


def available_memory() -> int | None:
    """Bytes of memory available now (Linux: MemAvailable), or None when unknown."""
    try:
        with open("/proc/meminfo", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def check_scan_points(points: int, memory: int | None = None) -> None:
    """At least 1, at most :data:`MAX_SCAN_POINTS`, and their columns and CSV text
    (:data:`SCAN_BYTES_PER_POINT`, measured on the widest scan) fit in ``memory``
    (default: :func:`available_memory`)."""
    if not 1 <= points <= MAX_SCAN_POINTS:
        raise LimitError(f"must be between 1 and {MAX_SCAN_POINTS:,}")
    memory = available_memory() if memory is None else memory
    need = points * SCAN_BYTES_PER_POINT
    if memory is not None and need > memory:
        raise LimitError(f"{points:,} points need about {need / 2**30:.1f} GiB of memory "
                         f"({SCAN_BYTES_PER_POINT} bytes per point), {memory / 2**30:.1f} GiB are available")
