"""The printed registry itself: complete, faithful to the paper, consistent with its LaTeX."""

from __future__ import annotations

import re
import shutil

import pytest
import sympy as sp

from conftest import LISTED, REPO
from symflav.core import printed, spec
from symflav.core.errors import SpecError
from symflav.core.latex_parse import parse_latex, shape_key
from symflav.core.parsing import ParseError, parse_expression

PAPER = REPO.parent / "shared" / "seed" / "000_c3f3727205dc373a.txt"


@pytest.fixture(scope="module")
def registry(model):
    return printed.load(model)


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def test_every_listed_equation_is_present_in_order(registry):
    labels = [eq.label for eq in registry.equations]
    assert set(LISTED) <= set(labels)
    key = lambda label: (label[0] == "A", [int(x) if x.isdigit() else 0 for x in label.split(".")])
    assert labels == sorted(labels, key=key), "one table per equation, in equation order"
    assert set(registry.tables) == {"1", "2"}


def test_every_equation_has_parts_or_a_reason(registry):
    for eq in registry.equations:
        assert eq.latex, eq.label
        assert eq.parts or eq.not_checked or eq.operators, eq.label
        for part in eq.parts:
            assert part.provider and part.object
            if part.relation == "≃":
                assert part.order is not None, f"{eq.label}: a ≃ formula states its order"


def test_part_fragments_are_cut_from_the_equation_source(registry):
    for eq in registry.equations:
        for part in eq.parts:
            if part.latex and part.provider != "property.orthogonal" and part.relation != "<":
                assert _squash(part.latex) in _squash(eq.latex), (eq.label, part.object)


@pytest.mark.skipif(not PAPER.is_file(), reason="the paper's text is not next to the checkout")
def test_equation_sources_are_verbatim_from_the_paper(registry):
    paper = _squash(PAPER.read_text(encoding="utf-8"))
    for eq in registry.equations:
        assert _squash(eq.latex) in paper, eq.label


def test_parsed_latex_agrees_with_the_transcription(registry):
    parsed = 0
    for eq in registry.equations:
        for part in eq.parts:
            if not part.parse_latex:
                assert part.latex_note, (eq.label, part.object)
                continue
            value = registry.parse_latex(part.latex)
            if part.is_matrix:
                assert value.shape == part.formula.shape, eq.label
                assert all(sp.expand(d) == 0 for d in value - part.formula), (eq.label, part.object)
            else:
                assert sp.expand(value - part.formula) == 0, (eq.label, part.object)
            parsed += 1
    assert parsed >= 47


def test_the_latex_parser_reads_paper_notation():
    lam, mup, x = sp.symbols("lambdap_13 mup_a x_phi")
    f = sp.Function("I_m_x")
    symbols = {shape_key("{\\lambda'_{13}}"): lam, shape_key("{\\mu'_a}"): mup, shape_key("x_\\phi"): x}
    functions = {shape_key("I_m^\\times"): f}
    assert parse_latex(r"\lambda'_{13} \mu_a'^2", symbols) == lam * mup**2
    assert parse_latex(r"\frac{1 + 2 \log x_\phi}{(1 - x_\phi^2)^2}", symbols) == (1 + 2 * sp.log(x)) / (1 - x**2) ** 2
    assert parse_latex(r"\frac{16\pi^2}{I_m^\times(x_\phi)} \left( x_\phi \right)^2", symbols, functions) == \
        16 * sp.pi**2 / f(x) * x**2
    assert parse_latex(r"\left| x_\phi \right|^2", symbols) == sp.Abs(x) ** 2
    with pytest.raises(ParseError):
        parse_latex(r"\lambda_{99} x_\phi", symbols)
    with pytest.raises(ParseError):
        parse_latex(r"\input{/etc/passwd}", symbols)


def test_caret_is_a_power_with_power_precedence():
    x, y = sp.symbols("x y")
    assert parse_expression("4*x^2", {"x": x}) == 4 * x**2
    assert parse_expression("-x^2*y", {"x": x, "y": y}) == -(x**2) * y
    assert parse_expression("x^2^3", {"x": x}) == x**8


def test_definitions_are_substituted_before_comparing(registry):
    expanded = registry.expand_definitions(registry.names["lambdat_1a"] * 2)
    names = registry.names
    assert expanded == 2 * names["lambda_1a"] + names["lambda_1ab"]


def _copy(tmp_path):
    target = tmp_path / "calibbi2020"
    shutil.copytree(REPO / "derivations" / "calibbi2020", target)
    return target


@pytest.mark.parametrize("old, new, problem", [
    ('relation = "≃"\norder = 2', 'relation = "≃"\norder = -2', "non-negative"),
    ('formula = "v_1^2*lambdap_13/2"', 'formula = "v_1^2*lambdap_13/2 + eval(1)"', "function 'eval'"),
    ('provider = "loops.I_m"\n', 'provider = "loops.I_m"\nsurprise = 1\n', "unknown keys"),
])
def test_a_malformed_registry_is_a_spec_error(tmp_path, old, new, problem):
    folder = _copy(tmp_path)
    path = folder / "printed.toml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(SpecError, match=problem):
        printed.load(spec.load(str(folder)))
