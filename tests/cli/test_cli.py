"""The command line contracts of DESIGN.md section 4, and the README's quick start.

Run in this process (``symflav.cli.main``) where the exit code and the output are what matter;
the tests of whole derives (``derived``: subprocesses under two hash seeds) are slow."""

from __future__ import annotations

import json
import re
import sys

import pytest

from conftest import REPO, run_main


def test_terms_json_contract():
    result = run_main("terms", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    ops = data["operators"]
    assert len(ops) == 19
    for op in ops:
        assert set(op) >= {"fields", "degree", "hermitian", "coupling", "explicit_breaking"}
        assert all(isinstance(v, list) and len(v) == 2 for v in op["fields"].values())
        assert op["degree"] == sum(sum(v) for v in op["fields"].values())
    lam = next(o for o in ops if o["coupling"] == "lambda_1ab")
    assert lam["fields"] == {"phi1": [2, 0], "phia": [0, 1], "phib": [0, 1]} and not lam["hermitian"]
    assert [o["explicit_breaking"] for o in ops if o["coupling"] in ("mup_a", "mup_b")] == [True, True]
    (cmp,) = data["printed_comparison"]
    assert cmp["equation"] == "3.3"
    assert [m["operator"] for m in cmp["allowed_but_not_printed"]] == ["phi3† phi1 phia phib"]


def test_terms_from_any_directory(tmp_path):
    result = run_main("terms", cwd=tmp_path)
    assert result.returncode == 0 and "lambda_1ab" in result.stdout


def test_charge_option_changes_the_table():
    base = json.loads(run_main("terms", "--json").stdout)
    changed = json.loads(run_main("terms", "--json", "--charge", "phi3=2").stdout)
    assert base != changed
    forbidden = [o["operator"] for o in changed["operators"] if o["status"] == "forbidden"]
    assert forbidden == ["phi3† phi1^3"]


def test_derive_is_deterministic(derived):
    """Two runs (with different hash seeds) write the same files, byte for byte."""
    (run_a, first), (run_b, second) = derived["0"], derived["12345"]
    assert run_a.returncode == 0 and run_b.returncode == 0, run_a.stderr + run_b.stderr
    files = sorted(p.relative_to(first) for p in first.rglob("*") if p.is_file())
    assert files and files == sorted(p.relative_to(second) for p in second.rglob("*") if p.is_file())
    for rel in files:
        assert (first / rel).read_bytes() == (second / rel).read_bytes(), rel
    assert not list(first.glob(".symflav-*")), "staging folder left behind"


def _quick_start():
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = re.search(r"## [^\n]*quick start.*?```sh\n(.*?)```", text, re.S).group(1)
    return [line for line in section.splitlines() if line.strip() and not line.startswith("#")]


def test_readme_quick_start_is_two_commands_and_ci_runs_the_test_one():
    commands = _quick_start()
    assert len(commands) == 2
    assert "symflav derive" in commands[0]
    assert "pytest" in commands[1]
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert commands[1] in ci


def test_derive_backend_numba_without_numba_is_one_clear_error(tmp_path, monkeypatch):
    """`--backend numba` where numba cannot be imported: exit 2, one line naming the option and
    what to do, no traceback, nothing written (numba is blocked in sys.modules)."""
    monkeypatch.setitem(sys.modules, "numba", None)  # import numba raises ImportError
    out = tmp_path / "out"
    result = run_main("derive", "--code-only", "--backend", "numba", "-o", out)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "--backend: numba: numba is not installed" in lines[0], result.stderr
    assert "Traceback" not in result.stderr and not out.exists()


@pytest.mark.slow
def test_derive_backend_numba_writes_kernels_that_agree_with_numpy(cli, tmp_path):
    """`--backend numba`: numeric_numba.py beside numeric.py; its functions give the numpy
    module's numbers (to rounding) on a grid of points with every parameter varying."""
    pytest.importorskip("numba")
    import numpy as np

    result = cli("derive", "--code-only", "--backend", "numba", "-o", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "numeric_numba.py" in result.stdout
    kernels, plain = (_import(tmp_path / f, f[:-3]) for f in ("numeric_numba.py", "numeric.py"))
    assert "import numba" in (tmp_path / "numeric_numba.py").read_text(encoding="utf-8")
    rng = np.random.default_rng(4)
    point = plain.POINTS["table2"]
    vevs = np.array([point[v] for v in ("v_1", "v_3", "v_a", "v_b")]) * rng.uniform(0.8, 1.2, (50, 4))
    params = {k: v * rng.uniform(0.9, 1.1, 50) for k, v in point.items()}
    for name in ("tadpoles", "mass_matrices", "tadpoles_and_mass_matrices"):
        got, want = getattr(kernels, name)(vevs, **params), getattr(plain, name)(vevs, **params)
        for g, w in zip(got if isinstance(got, tuple) else (got,), want if isinstance(want, tuple) else (want,)):
            np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-12 * np.abs(w).max())


@pytest.mark.parametrize("module", ["matplotlib", "jinja2"])
def test_derive_without_a_runtime_dependency_is_one_line_naming_it(tmp_path, monkeypatch, module):
    """A missing runtime dependency of `derive` (its figures, its report): exit 2 before any work,
    one line naming the package and the pip command, nothing written; --code-only needs neither."""
    monkeypatch.setitem(sys.modules, module, None)  # as if not installed
    out = tmp_path / "out"
    result = run_main("derive", "-o", out)
    assert result.returncode == 2 and not result.stdout and not out.exists()
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"symflav: error: {module}: not installed") and f"pip install {module}" in line
    assert "internal error" not in line and "--code-only" in line


def _import(path, name):
    import importlib.util

    spec_ = importlib.util.spec_from_file_location(f"cli_{name}", path)
    module = importlib.util.module_from_spec(spec_)
    spec_.loader.exec_module(module)
    return module


def test_derive_code_only_writes_the_generated_code_and_no_report(cli, tmp_path, derived):
    """`derive --code-only`: the numeric module and formula files, byte-identical to the full
    run's, and none of the files of the check, scan, figures or report."""
    result = cli("derive", "--code-only", "-o", str(tmp_path))
    assert result.returncode == 0, result.stderr
    written = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file())
    assert "numeric.py" in written and "snippets/loops.tex" in written
    for absent in ("report.tex", "report.pdf", "checks.json", "viability.json", "claims.json"):
        assert absent not in written, absent
    assert not [w for w in written if w.startswith("figures/")]
    full = derived["0"][1]
    for rel in written:
        if rel == "manifest.json":  # says --code-only and lists only these files
            continue
        assert (tmp_path / rel).read_bytes() == (full / rel).read_bytes(), rel
    stages = [line.split()[0] for line in result.stdout.splitlines()[1:]]
    assert stages[-1] == "codegen" and "checks" not in stages and "viability" not in stages
