"""Shared fixtures: the built-in model, and a runner for the command line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from symflav import spec

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def model():
    return spec.load()


def run_cli(*args, cwd=None, timeout=600):
    """Run ``python -m symflav ARGS`` in a subprocess; return the CompletedProcess."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    return subprocess.run(
        [sys.executable, "-m", "symflav", *args],
        cwd=cwd or REPO, env=env, capture_output=True, text=True, timeout=timeout,
    )


@pytest.fixture
def cli():
    return run_cli
