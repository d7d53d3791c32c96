"""Shared fixtures: the built-in model, and a runner for the command line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from symflav.core import spec

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def model():
    return spec.load()


@pytest.fixture(scope="session")
def study(model):
    """The built-in model's study (calibbi2020)."""
    from symflav.studies import study_for

    return study_for(model)


@pytest.fixture(scope="session")
def derivation(model, study):
    """The whole pipeline for the built-in model and its study, run once per session (tests only read it)."""
    from symflav import pipeline

    return pipeline.run(model, study=study)


@pytest.fixture(scope="session")
def derived(tmp_path_factory):
    """``symflav derive -o DIR`` of the built-in model, run twice with different hash seeds:
    {seed: (CompletedProcess, DIR)}. Shared by the tests of the command, of the committed
    files and of determinism (one pair of runs instead of one or two per test)."""
    runs = {}
    for seed in ("0", "12345"):
        folder = tmp_path_factory.mktemp(f"derive_seed{seed}")
        runs[seed] = (run_cli("derive", "-o", str(folder), env={"PYTHONHASHSEED": seed}), folder)
    return runs


def run_cli(*args, cwd=None, timeout=600, env=None):
    """Run ``python -m symflav ARGS`` in a subprocess (``env``: extra variables); return the CompletedProcess."""
    env = {**os.environ, **(env or {})}
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    return subprocess.run(
        [sys.executable, "-m", "symflav", *args],
        cwd=cwd or REPO, env=env, capture_output=True, text=True, timeout=timeout,
    )


@pytest.fixture
def cli():
    return run_cli


@pytest.fixture(scope="session")
def variant_path(tmp_path_factory):
    """calibbi2020 with phi3 of charge 2 (lambda'_13 forbidden, its term and the dropped operator
    removed, the lambda_3 relation adapted): a changed-charge model whose alignment is stationary."""
    folder = tmp_path_factory.mktemp("variant")
    source = spec.builtin_root() / "calibbi2020"
    text = (source / "model.toml").read_text(encoding="utf-8")
    text = text.replace('charges = { U1f = "3", Z2 = "-" }', 'charges = { U1f = "2", Z2 = "-" }')
    text = text.replace('lambda_3 = "(4*lambda_1 + 6*lambda_13 - 11*lambdap_13)/16"',
                        'lambda_3 = "(4*lambda_1 + 6*lambda_13)/16"')
    start = text.index('[[terms]]\noperator = "phi3† phi1^3"')
    text = text[:start] + text[text.index("[[terms]]", start + 5):]
    start = text.index("\n[[drop]]\n")
    text = text[:start] + text[text.index("# ----", start):]
    (folder / "model.toml").write_text(text, encoding="utf-8")
    (folder / "printed.toml").write_text((source / "printed.toml").read_text(encoding="utf-8"), encoding="utf-8")
    return folder
