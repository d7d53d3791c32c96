"""`symflav derive --backend jax` and `--fields canonical` on the command line."""

from __future__ import annotations

import importlib.util
import sys

import numpy as np
import pytest

from conftest import run_main


def _import(path, name):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_derive_backend_jax_without_jax_is_one_clear_error(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "jax", None)  # import jax raises ImportError, as if not installed
    out = tmp_path / "out"
    result = run_main("derive", "--code-only", "--backend", "jax", "-o", out)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "--backend: jax: jax is not installed" in lines[0], result.stderr
    assert not out.exists()


@pytest.mark.slow
def test_derive_backend_jax_with_canonical_fields(cli, tmp_path):
    """numeric_jax.py beside numeric.py, both with the canonical-field functions; the jax
    module's jitted Hessian is the numpy module's."""
    jax = pytest.importorskip("jax")
    result = cli("derive", "--code-only", "--backend", "jax", "--fields", "canonical", "-o", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "numeric_jax.py" in result.stdout
    fast, plain = _import(tmp_path / "numeric_jax.py", "cli_numeric_jax"), _import(tmp_path / "numeric.py", "cli_numeric")
    assert "hessian_canonical" in plain.__all__ and "hessian_canonical" in fast.__all__
    p = plain.POINTS["table2"]
    z = np.sqrt(2) * np.array([[30 + 4j, -70 + 11j, 250 - 20j, 240 + 35j]] * 3)
    want = plain.hessian_canonical(z, **p)
    got = jax.jit(lambda z: fast.hessian_canonical(z, **p))(z)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12 * np.abs(want).max())
