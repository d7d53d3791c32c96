"""Shared fixtures: the built-in model, and runners for the command line (in this process, and
in a subprocess where the real entry point matters); the example derivations and the
independent numeric routes their tests hold them against.

The whole test session uses its own on-disk cache (``SYMFLAV_CACHE_DIR``, set here before any
test runs and inherited by the subprocesses): the tests never read or write the user's cache,
and a derivation one test stored is read back by the next one that asks for the same."""

from __future__ import annotations

import contextlib
import importlib.util
import inspect
import io
import itertools
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from types import SimpleNamespace

import mpmath
import numpy as np
import pytest
from scipy import optimize

from symflav import cli as command_line
from symflav import pipeline
from symflav.core import spec

REPO = Path(__file__).resolve().parent.parent
LISTED = ["1.4", "1.7", *[f"2.{i}" for i in range(3, 11)], *[f"3.{i}" for i in range(3, 12)], "4.1", "4.5",
          *[f"A.{i}" for i in range(2, 19)]]
"""The equations the built-in study's printed registry must hold (the paper's numbered claims),
for the tests of the registry and of `symflav check` (one list, importable from any folder)."""
SESSION_CACHE = Path(tempfile.mkdtemp(prefix="symflav-test-cache-"))
os.environ["SYMFLAV_CACHE_DIR"] = str(SESSION_CACHE)  # before any test: never the user's cache


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
    for seed, cache in (("0", ()), ("12345", ("--no-cache",))):  # the second derives again, from scratch
        folder = tmp_path_factory.mktemp(f"derive_seed{seed}")
        runs[seed] = (run_cli("derive", "-o", str(folder), *cache, env={"PYTHONHASHSEED": seed}), folder)
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


def run_main(*args, cwd=None) -> SimpleNamespace:
    """Run ``symflav ARGS`` in this process (``symflav.cli.main``) in folder ``cwd`` (default:
    the repository); returns what :func:`run_cli` does: ``returncode``, ``stdout``, ``stderr``."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.chdir(cwd or REPO), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            status = command_line.main([str(a) for a in args])
        except SystemExit as exc:  # --help, --version
            status = exc.code
    return SimpleNamespace(returncode=status, stdout=out.getvalue(), stderr=err.getvalue())


@pytest.fixture
def run():
    """The command line in this process (:func:`run_main`)."""
    return run_main


@pytest.fixture(scope="session")
def variant_path(tmp_path_factory):
    """calibbi2020 with phi3 of charge 2 (lambda'_13 forbidden, its term and the dropped operator
    removed, the lambda_3 relation adapted, the eqs. (3.1)-(3.2) vertex set left out): a
    changed-charge model whose alignment is stationary."""
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
    start = text.index("[yukawa.vertex_sets.eq3_1]")  # its phi3 vertex needs phi3's old charge
    text = text[:start] + text[text.index("# ----", start):]
    (folder / "model.toml").write_text(text, encoding="utf-8")
    (folder / "printed.toml").write_text((source / "printed.toml").read_text(encoding="utf-8"), encoding="utf-8")
    return folder


# ------------------------------------------------------------------ example derivations
# Models written from scratch (derivations/<name>/model.toml), each with its own test file
# tests/test_example_<name>.py. The helpers below are routes that do not use symflav's stages:
# a brute-force enumeration of invariant monomials, a finite-difference Hessian, a numeric
# global minimum search.

EXAMPLES = REPO / "derivations"


@pytest.fixture(scope="session")
def example():
    """``example(name, until="flavor")``: the stages of ``derivations/NAME`` up to ``until``,
    run once per session for each pair (tests only read the result)."""
    runs = {}

    def run(name: str, until: str = "flavor"):
        if (name, until) not in runs:
            runs[name, until] = pipeline.run(spec.load(str(EXAMPLES / name)), until=until)
        return runs[name, until]

    return run


def brute_force_invariants(charges, orders, degree, seed=0):
    """Every monomial prod phi_i^n_i phibar_i^m_i of degree 1..``degree`` left unchanged by the
    symmetries, found by brute force: each monomial is evaluated at random complex fields
    before and after random group elements act on them (U(1): phi_i -> exp(i q_i alpha) phi_i for
    three random alpha; Z_N: the generator, phi_i -> exp(2 pi i z_i / N) phi_i).

    ``charges[i][k]``: charge of scalar i under symmetry k (a number); ``orders[k]``: None for a
    U(1), N for a Z_N. Returns a set of frozensets {O, O^dagger}, each O as its powers
    ((n_1, m_1), ..., (n_k, m_k)), so that no convention for which of the pair is written is used.
    """
    rng = np.random.default_rng(seed)
    n = len(charges)
    z = np.exp(1j * rng.uniform(0, 2 * np.pi, n))  # on the unit circle: every monomial has modulus 1
    rotated = []
    for k, order in enumerate(orders):
        q = np.array([float(c[k]) for c in charges])
        angles = rng.uniform(0, 2 * np.pi, 3) if order is None else [2 * np.pi / order]
        rotated.extend(z * np.exp(1j * q * a) for a in angles)
    exponents = np.array([e for e in itertools.product(range(degree + 1), repeat=2 * n)
                          if 1 <= sum(e) <= degree])

    def values(fields):  # every monomial at once: prod phi^n phibar^m = exp(sum n log phi + m log phibar)
        logs = np.concatenate([np.log(fields), np.log(np.conj(fields))])
        return np.exp(exponents @ logs)

    before = values(z)
    invariant = np.all([np.abs(values(w) - before) < 1e-9 for w in rotated], axis=0)
    found = set()
    for e in exponents[invariant]:
        powers = tuple(zip(map(int, e[:n]), map(int, e[n:])))
        found.add(frozenset({powers, tuple((b, a) for a, b in powers)}))
    return found


def finite_difference_hessian(f, x, step="1e-6", digits=40):
    """d^2 f / dx_i dx_j at ``x`` by central differences in mpmath at ``digits`` digits
    (``f`` takes a list of mpf; for a polynomial the error is of order step^2 times its fourth
    derivatives). Returns a float numpy array."""
    with mpmath.workdps(digits):
        h = mpmath.mpf(step)
        x = [mpmath.mpf(float(v)) for v in x]
        n = len(x)

        def at(*shifts):
            y = list(x)
            for i, s in shifts:
                y[i] += s * h
            return f(y)

        H = np.zeros((n, n))
        f0 = f(x)
        for i in range(n):
            H[i, i] = float((at((i, 1)) - 2 * f0 + at((i, -1))) / h**2)
            for j in range(i + 1, n):
                d = (at((i, 1), (j, 1)) - at((i, 1), (j, -1)) - at((i, -1), (j, 1)) + at((i, -1), (j, -1)))
                H[i, j] = H[j, i] = float(d / (4 * h**2))
        return H


def numeric_minima(f, dimension, scale, starts=24, seed=1):
    """Local minima of ``f`` (numpy vector -> float) found by BFGS from ``starts`` random points
    (normal, with widths scale x {0.3, 1, 3}), in variables divided by ``scale``; sorted by value.
    Returns a list of (value, x)."""
    rng = np.random.default_rng(seed)
    unit = f(np.full(dimension, scale))
    g = lambda y: f(y * scale) / abs(unit)  # noqa: E731
    found = []
    for k in range(starts):
        y0 = rng.normal(size=dimension) * (0.3, 1.0, 3.0)[k % 3]
        result = optimize.minimize(g, y0, method="BFGS", jac="3-point", options={"gtol": 1e-9, "maxiter": 10000})
        found.append((result.fun * abs(unit), result.x * scale))
    return sorted(found, key=lambda item: item[0])


def load_generated(path: Path, name: str):
    """Import a generated module from its file (compiled from source, as a user would)."""
    module_spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return module


def call_every_function(numeric, point, positional) -> list[str]:
    """Call every function of a generated module with ``point`` (``positional``: the value of each
    positional argument by name; the formula INPUTS get 0.5, any finite value); every numeric
    result must be finite. Returns the names called."""
    called = []
    for name in numeric.__all__:
        function = getattr(numeric, name)
        if not inspect.isfunction(function) or name == "release_memory":
            continue
        signature = inspect.signature(function).parameters
        args = [positional[q.name] for q in signature.values()
                if q.kind in (q.POSITIONAL_ONLY, q.POSITIONAL_OR_KEYWORD) and q.default is q.empty]
        takes_all = any(q.kind is q.VAR_KEYWORD for q in signature.values())
        inputs = {k: 0.5 for k in numeric.INPUTS}
        result = function(*args, **{k: v for k, v in {**point, **inputs}.items() if takes_all or k in signature})
        parts = result if isinstance(result, tuple) else (result,)
        for array in (p for p in parts if isinstance(p, (np.ndarray, float, complex))):
            assert np.all(np.isfinite(array)), name
        called.append(name)
    return called


@pytest.fixture(scope="session")
def routes():
    """The independent numeric routes above, for the example tests."""
    return SimpleNamespace(brute_force_invariants=brute_force_invariants,
                           finite_difference_hessian=finite_difference_hessian,
                           numeric_minima=numeric_minima, load_generated=load_generated,
                           call_every_function=call_every_function)


SLOW_FIXTURES = {"derived", "derivation"}
"""Fixtures that make every test using them slow: two whole derives in subprocesses (``derived``),
the whole built-in derivation with its study (``derivation``, about 40 s). The fast tests work on
toy models and on the early stages."""


def _uses_a_slow_fixture(item) -> bool:
    """Whether ``item`` uses one of :data:`SLOW_FIXTURES` as defined here (a test module's own
    fixture of the same name, e.g. a derivation of a toy model, does not count)."""
    info = getattr(item, "_fixtureinfo", None)
    for name in SLOW_FIXTURES & set(getattr(item, "fixturenames", ())):
        definitions = info.name2fixturedefs.get(name, ()) if info else ()
        if definitions and definitions[-1].func.__module__ == __name__:
            return True
    return False


def pytest_unconfigure(config):
    shutil.rmtree(SESSION_CACHE, ignore_errors=True)


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: end-to-end runs of the command line (seconds each)")


def pytest_collection_modifyitems(config, items):
    """Slow tests run when SYMFLAV_SLOW=1 (``.ci/run`` sets it) or when asked for with
    ``-m slow``; a plain ``pytest`` leaves them out and says so in the skip reason."""
    for item in items:  # a test of whole derivations of the built-in model is slow, wherever it is
        if _uses_a_slow_fixture(item):
            item.add_marker(pytest.mark.slow)
    if os.environ.get("SYMFLAV_SLOW") == "1" or "slow" in (config.getoption("markexpr") or ""):
        return
    skip = pytest.mark.skip(reason="slow: set SYMFLAV_SLOW=1 (CI does) or run pytest -m slow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)
