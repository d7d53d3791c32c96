"""LaTeX that goes into a paper unchanged: every snippet compiles alone in a plain article that
loads only the generated ``symflav.sty``, and the displays fit a two-column page (no "Overfull
\\hbox" wider than 5 pt in the log)."""

from __future__ import annotations

import contextlib
import io
import os
import re
import shutil

import pytest

from conftest import REPO
from latex_reading import code_style_names
from symflav import cli
from symflav.report import outputs, pdf

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("pdflatex") is None and not os.environ.get("SYMFLAV_REQUIRE_PDFLATEX"),
                       reason="pdflatex is not installed"),
]

SNIPPETS = ("charges", "comparison", "errata", "flavor", "loops", "mass_matrices", "observables", "operators",
            "potential", "spectrum", "table2", "tadpoles")
"""Every snippet of the built-in derivation: each fits a column of a two-column page (displays)
or the line width of a one-column page (tables, which longtable sets in one column)."""


@pytest.fixture(scope="module")
def snippets(derivation):
    return {name: text for name, text in outputs.render(derivation).items() if name.startswith("snippets/")}


@pytest.fixture(scope="module")
def compiled(snippets):
    """name -> (PDF, log) of each snippet compiled alone with symflav.sty."""
    sty = snippets["snippets/symflav.sty"]
    return {name[len("snippets/"):-len(".tex")]: pdf.compile_snippet(text, sty)
            for name, text in sorted(snippets.items()) if name.endswith(".tex")}


def test_every_snippet_states_its_needs_in_its_first_line(snippets):
    for name, text in snippets.items():
        if name.endswith(".tex"):
            assert text.splitlines()[0].startswith("% needs: \\usepackage{symflav}"), name


def test_every_snippet_compiles_alone_in_a_plain_article(compiled):
    assert set(SNIPPETS) <= set(compiled)
    for name, (document, _) in compiled.items():
        assert document.startswith(b"%PDF"), name


@pytest.mark.parametrize("name", SNIPPETS)
def test_snippets_fit_a_two_column_page(compiled, name):
    assert pdf.overfull(compiled[name][1]) == []


def test_equations_have_stable_labels_and_no_hard_coded_tags(snippets):
    tex = "\n".join(text for name, text in snippets.items() if name.endswith(".tex"))
    assert "\\tag{" not in tex
    labels = [line.split("\\label{", 1)[1].split("}", 1)[0] for line in tex.splitlines() if "\\label{" in line]
    assert labels and len(labels) == len(set(labels))
    assert all(label.startswith("sf:") for label in labels)


def test_a_label_prefix_renames_every_label(derivation, snippets):
    renamed = outputs.render(derivation, label_prefix="flavon")
    before = snippets["snippets/tadpoles.tex"]
    after = renamed["snippets/tadpoles.tex"]
    assert before.count("\\label{sf:") == after.count("\\label{flavon:") > 0


# ------------------------------------------------------------------ models without a printed reference

EXAMPLES = ("u1z3_three_leptons", "u1u1_sextic")
"""Example derivations written from scratch (derivations/NAME): their report has no paper sections."""


@pytest.fixture(scope="module", params=EXAMPLES)
def example_output(request, tmp_path_factory):
    """(name, {relative path: bytes}) of one ``symflav derive NAME --no-pdf -o DIR`` run in-process."""
    folder = tmp_path_factory.mktemp(request.param)
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()) as err:
        status = cli.main(["derive", str(REPO / "derivations" / request.param), "--no-pdf", "-o", str(folder)])
    assert status == 0, err.getvalue()
    return request.param, {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_reports_of_models_without_a_reference_fit_their_page(example_output):
    name, files = example_output
    report = {k: v.decode("utf-8") if k == "report.tex" else v for k, v in files.items()}
    document, log = pdf.compile_report_with_log(report)
    assert document.startswith(b"%PDF"), name
    assert pdf.overfull(log) == [], name
    assert not re.search(r"Reference `[^']*' on page \d+ undefined", log), name  # no "??" in the text
    assert code_style_names(report["report.tex"], name) == []
    sty = files["snippets/symflav.sty"].decode("utf-8")
    snippets = sorted(k for k in files if k.startswith("snippets/") and k.endswith(".tex"))
    assert {"snippets/potential.tex", "snippets/tadpoles.tex", "snippets/mass_matrices.tex"} <= set(snippets)
    for snippet in snippets:
        assert pdf.overfull(pdf.compile_snippet(files[snippet].decode("utf-8"), sty)[1]) == [], (name, snippet)
