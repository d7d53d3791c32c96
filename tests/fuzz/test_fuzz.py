"""Property-based fuzzing of the model file through the command line (in-process).

Every hostile case of the robustness issues (``fuzzcases.corpus``) is a regression test:
exit 2, one line, no traceback, nothing written. Random models and formulas
(``fuzzcases.models``) must end in exit 0 or 2 with no traceback and no partial output; a
model that loads keeps exactly the operators brute force finds invariant, each with phase 1
under every declared symmetry. The hypothesis runs are small and derandomized; the script
``tests/fuzz/run.py`` runs 500 and more cases once and prints the counts."""

from __future__ import annotations

import sympy as sp
import pytest
from hypothesis import HealthCheck, given, settings

import fuzzcases
from symflav.core.parsing import ParseError, parse_expression

FUZZ = settings(max_examples=25, derandomize=True, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


@pytest.mark.parametrize("name,text", fuzzcases.corpus(), ids=[name for name, _ in fuzzcases.corpus()])
def test_every_hostile_case_of_the_issues_is_refused_in_one_line_and_writes_nothing(name, text, tmp_path):
    outcome = fuzzcases.run_case(text, tmp_path / "case")
    assert outcome.codes == [2, 2], outcome.stderr
    assert not outcome.traceback and outcome.one_line and not outcome.timed_out
    assert "symflav: error: " in outcome.stderr
    assert not outcome.written


@pytest.mark.slow
@FUZZ
@given(model=fuzzcases.models())
def test_random_models_exit_0_or_2_without_traceback_or_partial_output(model, tmp_path_factory):
    folder = tmp_path_factory.mktemp("model")
    outcome = fuzzcases.run_case(model.text(), folder)
    assert not outcome.timed_out
    assert outcome.codes[0] in (0, 2) and set(outcome.codes) <= {0, 2}, outcome.stderr
    assert not outcome.traceback and outcome.one_line, outcome.stderr
    assert not outcome.written
    if outcome.codes == [0]:
        assert fuzzcases.invariance_failures(folder) == []


NAMES = {"p1": sp.Symbol("p1"), "p2": sp.Symbol("p2"), "M": sp.Symbol("M")}


@FUZZ
@given(text=fuzzcases.formulas())
def test_random_formulas_parse_to_finite_expressions_or_one_parse_error(text):
    try:
        expr = parse_expression(text, NAMES, real=True)
    except ParseError as exc:
        assert "\n" not in str(exc)
        return
    assert not expr.has(sp.zoo, sp.oo, -sp.oo, sp.nan)
    assert expr.free_symbols <= set(NAMES.values())
