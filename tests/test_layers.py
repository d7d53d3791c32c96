"""The layers of docs/architecture.md: the generic code knows no paper, imports only go
downwards, and imports sit at the top of a module (only optional dependencies inside a function)."""

from __future__ import annotations

import ast
import io
import re
import tokenize
from pathlib import Path

import pytest

from conftest import REPO

PACKAGE = REPO / "symflav"
STUDIES = PACKAGE / "studies"

# what the paper's study may say and the generic code may not (the grep, line by line)
PAPER_WORDS = re.compile(r'table2|Table 2|M_chi|figure ?[34]|"mu", "e"')
# equation labels of a paper in strings and comments: "eq. 2.5", "eqs. (A.15)", "(3.7)", "A.18",
# a bare "2.10" or "3.11-", a section or appendix of a paper, a numbered table
LABELS = re.compile(r"\b[Ee]qs?\.\s*\(?(?:[1-9]|A)\.\d+|\((?:[1-9]|A)\.\d+\)|\bA\.\d{1,2}\b"
                    r"|(?<![\w.])[1-4]\.(?:[1-9]|1[01])(?![\w.])|\bsecs?\.\s*\d|\bsections?\s+[1-9]\b"
                    r"|appendix[ _-]?A\b|\bTable [1-9]\b|Calibbi")
OPTIONAL = {"matplotlib", "jinja2", "numba", "dask", "tqdm"}  # imported where they are needed, with a comment


def generic_modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if STUDIES not in p.parents)


def test_the_study_layer_exists_and_the_generic_list_is_not_empty():
    assert (STUDIES / "calibbi2020" / "__init__.py").is_file()
    assert len(generic_modules()) > 40


def test_no_paper_words_in_the_generic_code():
    found = [f"{p.relative_to(REPO)}:{n}: {line.strip()}" for p in generic_modules()
             for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1) if PAPER_WORDS.search(line)]
    assert not found, "\n".join(found)


def test_no_paper_equation_labels_in_the_generic_code():
    found = []
    for p in generic_modules():
        source = p.read_text(encoding="utf-8")
        for tok in tokenize.generate_tokens(io.StringIO(source).readline):
            if tok.type in (tokenize.STRING, tokenize.COMMENT) and LABELS.search(tok.string):
                found.append(f"{p.relative_to(REPO)}:{tok.start[0]}: {LABELS.search(tok.string).group()!r}")
    assert not found, "\n".join(found)


@pytest.mark.parametrize("text,flagged", [
    ("(eq. A.1)", True), ("eqs. 2.9, 2.10", True), ("printed (3.7)-(3.10)", True), ("as in A.18", True),
    ("appendix A", True), ("Table 2", True), ("sec. 4", True), ("x in [0.05, 4.0]", False),
    ("tolerance 1e-9", False), ("version 3.11 of Python", True), ("within 2 sigma", False),
])
def test_the_label_pattern_catches_labels_and_not_numbers(text, flagged):
    assert bool(LABELS.search(text)) is flagged


def test_import_contracts_hold():
    """The layers and the absence of cycles, as pyproject.toml states them (import-linter)."""
    cli = pytest.importorskip("importlinter.cli")
    assert cli.lint_imports(config_filename=str(REPO / "pyproject.toml"), no_cache=True, no_logo=True) == 0


def _function_imports(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for inner in ast.walk(node):
                if isinstance(inner, (ast.Import, ast.ImportFrom)):
                    yield node.name, inner


def test_imports_inside_functions_are_only_optional_dependencies_with_a_comment():
    found = []
    for p in sorted(PACKAGE.rglob("*.py")):
        source = p.read_text(encoding="utf-8")
        lines = source.splitlines()
        for function, node in _function_imports(ast.parse(source)):
            modules = [node.module or ""] if isinstance(node, ast.ImportFrom) else [a.name for a in node.names]
            top = {m.split(".")[0] for m in modules}
            commented = "#" in lines[node.lineno - 1] or lines[node.lineno - 2].strip().startswith("#")
            if not top <= OPTIONAL or getattr(node, "level", 0) or not commented:
                found.append(f"{p.relative_to(REPO)}:{node.lineno}: {function}: {', '.join(modules)}")
    assert not found, "\n".join(found)


def test_a_function_level_import_of_a_symflav_module_is_caught():
    tree = ast.parse("def f():\n    from symflav.core import spec\n")
    assert [name for name, _ in _function_imports(tree)] == ["f"]
