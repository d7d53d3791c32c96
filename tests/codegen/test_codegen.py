"""The code generator: strict printer, CSE, the generated module's behaviour and contract.

Physics is checked by routes independent of the generated code: exact sympy
evaluation, and finite differences of the generated potential for its derivatives.
"""

from __future__ import annotations

import importlib.util
import itertools
import os
import random
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import sympy as sp

from conftest import REPO
from symflav.codegen import CodegenError
from symflav.codegen.assemble import build_numeric_module, numeric_module
from symflav.codegen.cse import straight_line
from symflav.codegen.module import content_hash_ok
from symflav.codegen.printer import print_expr

x, y, z = sp.symbols("x y z", real=True)
NAMES = {x: "x", y: "y", z: "z"}


# ------------------------------------------------------------------ printer


@pytest.mark.parametrize(
    "expr, text",
    [
        (x**3, "x*x*x"),
        (x**-2, "1/(x*x)"),
        (1 / x, "1/x"),
        (sp.sqrt(x), "np.sqrt(x)"),
        (x / (y + z) ** 2, "x/((y + z)*(y + z))"),
        (sp.Rational(1, 3) * x, "0.3333333333333333*x"),
        (-x * y, "-x*y"),
        (y - x**2, "y - x*x"),
        (-x - y, "-x - y"),
        (sp.log(x) + sp.exp(y), "np.exp(y) + np.log(x)"),
        (sp.Mul(2, sp.Add(x, y), evaluate=False), "2*(x + y)"),
        (sp.pi * x, "3.141592653589793*x"),
    ],
)
def test_printer_small_cases(expr, text):
    assert print_expr(expr, NAMES) == text


def test_printer_is_strict():
    with pytest.raises(CodegenError, match="function f"):
        print_expr(sp.Function("f")(x), NAMES)
    with pytest.raises(CodegenError, match="gamma"):
        print_expr(sp.gamma(x), NAMES)
    with pytest.raises(CodegenError, match="unknown symbol w"):
        print_expr(x + sp.Symbol("w"), NAMES)
    # a named function becomes a call only when the generated module defines it
    assert print_expr(sp.Function("I_m")(x), NAMES, {"I_m": "I_m"}) == "I_m(x)"


def test_printed_powers_evaluate_like_sympy():
    rng = np.random.default_rng(1)
    values = {x: rng.uniform(0.5, 2, 5), y: rng.uniform(0.5, 2, 5), z: rng.uniform(0.5, 2, 5)}
    for expr in [x**7 * y**-3, (x + y) ** 4 / z**5, sp.sqrt(x * y) - x ** sp.Rational(3, 2), x**11]:
        code = print_expr(expr, NAMES)
        got = eval(code, {"np": np}, {str(k): v for k, v in values.items()})
        exact = [float(expr.subs({k: sp.Float(v[i], 30) for k, v in values.items()})) for i in range(5)]
        np.testing.assert_allclose(got, exact, rtol=1e-14)


# ------------------------------------------------------------------ CSE


def _random_polynomial(rng, symbols, terms=12, degree=4):
    expr = sp.S.Zero
    for _ in range(terms):
        mono = sp.Integer(rng.randint(-5, 5))
        for s in symbols:
            mono *= s ** rng.randint(0, degree)
        expr += mono
    return expr


@pytest.mark.slow
def test_cse_is_exact_and_evaluates_like_the_direct_expressions():
    rng = random.Random(7)
    a, b, c, d = sp.symbols("a b c d", real=True)
    exprs = [_random_polynomial(rng, (a, b, c, d)) for _ in range(6)]
    exprs.append(exprs[0] * exprs[1] / (1 + a**2))
    exprs.append(sp.log(1 + b**2) * exprs[2])
    block = straight_line(exprs, prefix="_t")
    # symbolically identical
    for original, rebuilt in zip(exprs, block.substituted()):
        assert sp.expand(original - rebuilt) == 0
    # and the printed straight-line code gives the same numbers as exact evaluation
    names = {s: str(s) for s in (a, b, c, d)} | {s: str(s) for s, _ in block.assignments}
    point = {a: sp.Rational(3, 7), b: sp.Rational(-5, 3), c: sp.Rational(11, 13), d: sp.Rational(2, 9)}
    env = {str(k): float(v) for k, v in point.items()}
    for sym, rhs in block.assignments:
        env[str(sym)] = eval(print_expr(rhs, names), {"np": np}, env)
    for original, out in zip(exprs, block.outputs):
        got = eval(print_expr(out, names), {"np": np}, env)
        exact = float(original.subs(point).evalf(30))
        assert got == pytest.approx(exact, rel=1e-12, abs=1e-12)
    assert block.operations < sum(sp.count_ops(e) for e in exprs)


# ------------------------------------------------------------------ the generated module


def _load(path, name):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def numeric(derivation, tmp_path_factory):
    path = tmp_path_factory.mktemp("numeric") / "numeric_under_test.py"
    path.write_text(build_numeric_module(derivation), encoding="utf-8")
    return _load(path, "numeric_under_test")


@pytest.fixture(scope="module")
def hessian(derivation, model):
    return derivation["mass_matrices"]


def _point(numeric):
    params = dict(numeric.POINTS["table2"])
    vevs = np.array([params[v] for v in ("v_1", "v_3", "v_a", "v_b")])
    return vevs, params


@pytest.mark.slow
def test_contract_names(numeric, model):
    assert numeric.FIELDS == ("phi1", "phi3", "phia", "phib")
    assert set(p.name for p in model.parameters) <= set(numeric.PARAMETERS)
    assert numeric.POINTS["table2"]["lambda_1ab"] == -2.5
    for name in ("potential", "tadpoles", "mass_matrices"):
        assert callable(getattr(numeric, name)) and name in numeric.__all__
        assert "Parameters\n    ----------" in getattr(numeric, name).__doc__


def test_mass_matrices_match_exact_evaluation(numeric, hessian):
    vevs, params = _point(numeric)
    M_S2, M_P2 = numeric.mass_matrices(vevs, **params)
    assert M_S2.shape == M_P2.shape == (4, 4)
    subs = {sp.Symbol(k, real=True): v for k, v in params.items()}
    by_name = {str(s): s for s in hessian.M_S2.free_symbols | hessian.M_P2.free_symbols}
    subs = {by_name[k]: sp.Rational(v) for k, v in params.items() if k in by_name}
    for got, matrix in ((M_S2, hessian.M_S2), (M_P2, hessian.M_P2)):
        exact = np.array(matrix.subs(subs).evalf(30), dtype=float)
        np.testing.assert_allclose(got, exact, rtol=1e-13, atol=1e-9 * np.abs(exact).max())


def test_derivatives_of_the_generated_potential(numeric):
    """Tadpoles and mass matrices = derivatives of potential(v + sigma + i varphi) (eq. A.1, A.4),
    by central finite differences of the generated potential (a quartic polynomial)."""
    vevs, params = _point(numeric)
    h = 1e-2
    unit = np.eye(4)

    def V(shift):
        return numeric.potential(vevs + shift, **params)

    grad = np.array([(V(h * unit[i]) - V(-h * unit[i])) / (2 * h) for i in range(4)])
    grad -= np.array([(V(2 * h * unit[i]) - 2 * V(h * unit[i]) + 2 * V(-h * unit[i]) - V(-2 * h * unit[i]))
                      / (12 * h) for i in range(4)])  # remove the h^2 term (exact for a quartic)
    np.testing.assert_allclose(numeric.tadpoles(vevs, **params), grad, rtol=1e-6, atol=1e-3)
    M_S2, M_P2 = numeric.mass_matrices(vevs, **params)
    for matrix, direction in ((M_S2, 1.0), (M_P2, 1j)):
        second = np.empty((4, 4))
        for i, j in itertools.product(range(4), repeat=2):
            ei, ej = direction * h * unit[i], direction * h * unit[j]
            second[i, j] = (V(ei + ej) - V(ei - ej) - V(-ei + ej) + V(-ei - ej)) / (4 * h * h)
        np.testing.assert_allclose(matrix, 0.5 * second, rtol=1e-6, atol=1e-3 * np.abs(matrix).max())


def test_potential_matches_exact_evaluation(numeric, derivation):
    pot = derivation["potential"]
    vevs, params = _point(numeric)
    phi = np.array([30 + 4j, -70 + 11j, 250 - 20j, 240 + 35j])
    subs = {s: sp.Rational(params[str(s)]) for s in pot.expr.free_symbols if str(s) in params}
    for p, pb, value in zip(pot.phi, pot.phibar, phi):
        c = sp.Rational(value.real) + sp.I * sp.Rational(value.imag)
        subs[p], subs[pb] = c, sp.conjugate(c)
    exact = complex(pot.expr.subs(subs).evalf(30))
    assert abs(exact.imag) < 1e-6 * abs(exact.real)
    assert numeric.potential(phi, **params) == pytest.approx(exact.real, rel=1e-13)


def test_broadcasting_over_leading_axes(numeric):
    vevs, params = _point(numeric)
    rng = np.random.default_rng(3)
    grid = vevs * rng.uniform(0.9, 1.1, (3, 5, 4))
    lam = np.linspace(4, 6, 5)
    M_S2, M_P2 = numeric.mass_matrices(grid, **{**params, "lambda_1": lam})
    T = numeric.tadpoles(grid, **{**params, "lambda_1": lam})
    assert M_S2.shape == M_P2.shape == (3, 5, 4, 4) and T.shape == (3, 5, 4)
    for i, j in itertools.product(range(3), range(5)):
        s, p = numeric.mass_matrices(grid[i, j], **{**params, "lambda_1": lam[j]})
        assert np.array_equal(s, M_S2[i, j]) and np.array_equal(p, M_P2[i, j])
        assert np.array_equal(numeric.tadpoles(grid[i, j], **{**params, "lambda_1": lam[j]}), T[i, j])
    with pytest.raises(ValueError, match="broadcast"):
        numeric.tadpoles(grid, **{**params, "lambda_1": np.ones(4)})
    with pytest.raises(ValueError, match=r"shape \(\.\.\., 4\)"):
        numeric.tadpoles(vevs[:3], **params)


def test_parameter_errors(numeric):
    vevs, params = _point(numeric)
    with pytest.raises(TypeError, match="missing parameter.*lambda_1"):
        numeric.tadpoles(vevs, **{k: v for k, v in params.items() if k != "lambda_1"})
    with pytest.raises(TypeError, match="unknown parameter.*lamda_1"):
        numeric.tadpoles(vevs, lamda_1=1.0, **params)


def test_out_buffers(numeric):
    vevs, params = _point(numeric)
    grid = vevs * np.linspace(0.9, 1.1, 7)[:, None]
    expected = numeric.mass_matrices(grid, **params)
    for layout in ("C", "entry-major"):
        if layout == "C":
            out = (np.empty((7, 4, 4)), np.empty((7, 4, 4)))
        else:
            out = tuple(np.moveaxis(np.empty((4, 4, 7)), (0, 1), (-2, -1)) for _ in range(2))
        result = numeric.mass_matrices(grid, out=out, **params)
        assert result is out
        for got, want in zip(out, expected):
            assert np.array_equal(got, want)
    t_out = np.empty((7, 4))
    assert numeric.tadpoles(grid, out=t_out, **params) is t_out
    with pytest.raises(ValueError, match="2 array"):
        numeric.mass_matrices(grid, out=(np.empty((7, 4, 4)),), **params)
    with pytest.raises(ValueError, match="shape"):
        numeric.tadpoles(grid, out=np.empty((7, 3)), **params)


def test_results_of_one_call_are_separate_arrays(numeric):
    """The combined function carves its three results from one block: they must not overlap,
    and each must hold what the separate functions give (scalar, 1-d and 2-d leading shapes)."""
    vevs, params = _point(numeric)
    rng = np.random.default_rng(11)
    for leading in ((), (7,), (3, 5)):
        grid = vevs * rng.uniform(0.9, 1.1, leading + (4,))
        scan = {**params, "lambda_ab": rng.uniform(1.5, 2.0, leading)}
        T, M_S2, M_P2 = numeric.tadpoles_and_mass_matrices(grid, **scan)
        assert T.shape == leading + (4,) and M_S2.shape == M_P2.shape == leading + (4, 4)
        for a, b in itertools.combinations((T, M_S2, M_P2), 2):
            assert not np.shares_memory(a, b)
        # the same numbers up to rounding: the combined CSE orders the operations differently
        for got, want in zip((T, M_S2, M_P2), (numeric.tadpoles(grid, **scan),) + numeric.mass_matrices(grid, **scan)):
            np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-13 * np.abs(want).max())


def _scan(numeric, n, seed):
    vevs, params = _point(numeric)
    rng = np.random.default_rng(seed)
    return vevs * rng.uniform(0.9, 1.1, (n, 4)), {**params, "lambda_ab": rng.uniform(1.5, 2.0, n)}


def _block_address(result):
    return result.base.__array_interface__["data"][0]


@pytest.fixture
def recycling(numeric, monkeypatch):
    """The module with a recycling threshold small enough for test-sized scans."""
    numeric.release_memory()
    monkeypatch.setattr(numeric, "RECYCLE_BYTES", 1024)
    yield numeric
    numeric.release_memory()


def test_large_results_reuse_dropped_memory_only(recycling):
    """Large results reuse the memory of earlier results once every array made from it is
    gone, and never while any view of it is alive."""
    numeric = recycling
    grid, scan = _scan(numeric, 50, 1)
    cases = [_scan(numeric, 50, seed) for seed in (2, 3, 4)]
    expected = [tuple(r.copy() for r in (numeric.tadpoles(g, **s),) + numeric.mass_matrices(g, **s))
                for g, s in cases]
    numeric.release_memory()
    first = numeric.tadpoles_and_mass_matrices(grid, **scan)
    address = _block_address(first[1])
    corner = first[1][:, :2, :2]  # a view of the first results outlives them
    kept = corner.copy()
    del first
    for (g, s), want_all in zip(cases, expected):  # the same size, other points: the view must survive
        again = numeric.tadpoles_and_mass_matrices(g, **s)
        assert not np.shares_memory(again[1], corner)
        assert np.array_equal(corner, kept)
        for got, want in zip(again, want_all):
            np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-13 * np.abs(want).max())
        del again, got  # got: a view of the last result
    # the view kept the first block busy: one more block was made, and then reused
    kept_blocks = [b.__array_interface__["data"][0] for b in numeric._SPARE]
    assert len(kept_blocks) == 2 and address in kept_blocks
    del corner
    for _ in range(3):  # every block is free now: no new memory is asked for
        reused = numeric.tadpoles_and_mass_matrices(grid, **scan)
        assert _block_address(reused[0]) in kept_blocks
        del reused


def test_release_memory_frees_the_kept_blocks(recycling):
    import weakref

    numeric = recycling
    grid, scan = _scan(numeric, 50, 5)
    block = weakref.ref(numeric.mass_matrices(grid, **scan)[0].base)
    assert block() is not None  # dropped by the caller, kept by the module
    numeric.release_memory()
    assert block() is None
    numeric.SPARE_BLOCKS = 0  # keeping none: every call gets fresh memory
    try:
        block = weakref.ref(numeric.mass_matrices(grid, **scan)[0].base)
        assert block() is None and not numeric._SPARE
    finally:
        numeric.SPARE_BLOCKS = 4


def test_recycling_is_safe_across_threads(recycling):
    """Threads calling at once never get results that share memory with another live result."""
    import threading

    numeric = recycling
    cases = [_scan(numeric, 40, seed) for seed in range(6)]
    expected = [tuple(m.copy() for m in numeric.mass_matrices(g, **s)) for g, s in cases]
    failures = []

    def work(k):
        held = []  # every thread keeps its last results while the others call
        for i in range(30):
            g, s = cases[(k + i) % len(cases)]
            held = held[-2:] + [((k + i) % len(cases), numeric.mass_matrices(g, **s))]
            for j, got in held:
                if not all(np.array_equal(a, b) for a, b in zip(got, expected[j])):
                    failures.append(k)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(len(cases))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures


def test_strided_inputs_give_the_same_numbers(numeric):
    """Strided inputs (copied per chunk to contiguous memory) give exactly the numbers of
    contiguous ones, over several chunks."""
    grid, scan = _scan(numeric, numeric.CHUNK_SIZE + 1000, 3)
    wide = np.zeros((len(grid), 8))
    wide[:, ::2] = grid  # every vev strided by 64 bytes
    coupling = np.zeros(2 * len(grid))
    coupling[::2] = scan["lambda_ab"]
    strided = numeric.tadpoles_and_mass_matrices(wide[:, ::2], **{**scan, "lambda_ab": coupling[::2]})
    contiguous = numeric.tadpoles_and_mass_matrices(np.ascontiguousarray(grid), **scan)
    for a, b in zip(strided, contiguous):
        assert np.array_equal(a, b)


def test_chunked_equals_unchunked(numeric, monkeypatch):
    vevs, params = _point(numeric)
    rng = np.random.default_rng(5)
    grid = vevs * rng.uniform(0.5, 1.5, (1000, 4))
    scan = {**params, "mu_a": rng.uniform(900, 1100, 1000)}
    whole = numeric.mass_matrices(grid, **scan) + (numeric.tadpoles(grid, **scan),)
    monkeypatch.setattr(numeric, "CHUNK_SIZE", 37)
    chunked = numeric.mass_matrices(grid, **scan) + (numeric.tadpoles(grid, **scan),)
    for a, b in zip(whole, chunked):
        assert np.array_equal(a, b)


@pytest.mark.slow
def test_content_hash_and_no_timestamps(derivation):
    source = build_numeric_module(derivation)
    assert content_hash_ok(source)
    assert not content_hash_ok(source.replace("CHUNK_SIZE = 8192", "CHUNK_SIZE = 8193"))
    assert "derivation: calibbi2020" in source and "input_sha256: " in source
    for word in ("date", "time:", "timestamp", "2025", "2026"):
        assert word not in source.split('"""', 2)[1].lower()


def test_generation_is_deterministic_across_hash_seeds(derived):
    outputs = []
    for seed in ("0", "12345"):
        done, target = derived[seed]
        assert done.returncode == 0, done.stderr
        outputs.append((target / "numeric.py").read_bytes())
    assert outputs[0] == outputs[1]


def test_module_works_copied_alone_without_sympy(tmp_path):
    """The committed module, copied alone, imports and runs with sympy and symflav unavailable;
    it loads no module beyond numpy and the standard library."""
    (tmp_path / "numeric.py").write_bytes((REPO / "generated" / "calibbi2020" / "numeric.py").read_bytes())
    script = textwrap.dedent("""
        import sys
        sys.modules["sympy"] = None      # any attempt to import sympy fails
        sys.modules["symflav"] = None
        import numpy as np
        before = set(sys.modules)
        import numeric
        p = numeric.POINTS["table2"]
        vevs = np.array([p["v_1"], p["v_3"], p["v_a"], p["v_b"]])
        M_S2, M_P2 = numeric.mass_matrices(vevs, **p)
        assert M_S2.shape == (4, 4) and np.allclose(M_S2, M_S2.T)
        assert numeric.tadpoles(vevs, **p).shape == (4,)
        assert np.isfinite(numeric.potential(vevs.astype(complex), **p))
        new = sorted(set(sys.modules) - before)
        third_party = [m for m in new if m != "numeric" and m.split(".")[0] not in ("numpy", *sys.stdlib_module_names)]
        assert not third_party, third_party
        print("ok")
    """)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr


def test_codegen_stage_reports_operations(derivation):
    report = {r.name: r for r in derivation.reports}["codegen"]
    module = derivation["codegen"]
    assert report.operations == module.operations > 0
    assert set(module.functions) >= {"potential", "tadpoles", "mass_matrices"}


def test_numba_backend_renders_the_same_functions(derivation, tmp_path):
    """The optional numba backend gives the same numbers (skipped without numba)."""
    pytest.importorskip("numba")
    source = numeric_module(derivation.model, derivation.results, backend="numba").source
    path = tmp_path / "numeric_numba_under_test.py"
    path.write_text(source, encoding="utf-8")
    fast = _load(path, "numeric_numba_under_test")
    vevs, params = _point(fast)
    grid = vevs * np.linspace(0.9, 1.1, 11)[:, None]
    plain_path = tmp_path / "numeric_plain_under_test.py"
    plain_path.write_text(build_numeric_module(derivation), encoding="utf-8")
    plain = _load(plain_path, "numeric_plain_under_test")
    for a, b in zip(fast.mass_matrices(grid, **params), plain.mass_matrices(grid, **params)):
        np.testing.assert_allclose(a, b, rtol=1e-13)
    np.testing.assert_allclose(fast.tadpoles(grid, **params), plain.tadpoles(grid, **params), rtol=1e-12)


@pytest.mark.slow
def test_numba_kernels_run_as_plain_python_and_agree(derivation, tmp_path, monkeypatch):
    """The numba backend's kernels, run as plain Python (numba.njit replaced by the identity,
    so this runs without numba), give the numpy module's numbers for every function, at
    points where every parameter and vev varies."""
    import inspect
    import types

    stub = types.ModuleType("numba")
    stub.njit = lambda *args, **kwargs: (lambda f: f)
    monkeypatch.setitem(sys.modules, "numba", stub)
    kernels_path, plain_path = tmp_path / "kernels_as_python.py", tmp_path / "plain_for_kernels.py"
    kernels_path.write_text(numeric_module(derivation.model, derivation.results, backend="numba").source,
                            encoding="utf-8")
    plain_path.write_text(build_numeric_module(derivation), encoding="utf-8")
    kernels, plain = _load(kernels_path, "kernels_as_python"), _load(plain_path, "plain_for_kernels")
    rng = np.random.default_rng(8)
    point = plain.POINTS["table2"]
    vevs = np.array([point[v] for v in ("v_1", "v_3", "v_a", "v_b")]) * rng.uniform(0.8, 1.2, (6, 4))
    params = {k: point.get(k, 0.7) * rng.uniform(0.9, 1.1, 6) for k in plain.PARAMETERS}
    fields = vevs * np.exp(1j * rng.uniform(0, 0.3, (6, 4)))
    first_argument = {"vevs": vevs, "phi": fields, "z": np.sqrt(2) * fields, "x": rng.uniform(0.2, 5.0, 6)}
    compared = []
    for name in plain.__all__:
        function = getattr(plain, name)
        if not callable(function) or name in ("release_memory", "minimize", "Minimum"):
            continue
        positional = [first_argument[p.name] for p in inspect.signature(function).parameters.values()
                      if p.kind is p.POSITIONAL_ONLY]
        keywords = {} if positional and positional[0] is first_argument.get("x") else params
        got, want = getattr(kernels, name)(*positional, **keywords), function(*positional, **keywords)
        if isinstance(got, dict):  # solve_mu2: the parameters with the solved ones
            got, want = tuple(got.values()), tuple(want.values())
        for g, w in zip(got if isinstance(got, tuple) else (got,), want if isinstance(want, tuple) else (want,)):
            np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-12 * np.abs(w).max(), err_msg=name)
        compared.append(name)
    assert {"potential", "tadpoles_and_mass_matrices", "perturbative_masses2", "m_RAD_mu_mass_basis", "hessian",
            "potential_gradient_hessian", "thermal_mass_coefficients", "solve_mu2"} <= set(compared)
    assert "_kernel(" in kernels_path.read_text(encoding="utf-8")


@pytest.mark.slow
def test_readme_example_runs(tmp_path):
    """The README's example of the generated module, run against the committed module."""
    import re

    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text[text.index("## Fast functions for scans"):]
    first, vacua = re.findall(r"```python\n(.*?)```", section, re.S)[:2]
    script = "import sys\nsys.modules['sympy'] = None\n" + first + (
        "\nassert T.shape == (1000, 4) and M_S2.shape == M_P2.shape == (1000, 4, 4) and V.shape == (1000,)\n") + vacua + (
        "\nassert q['mu_1_sq'] < 0 and np.allclose(vacuum.vevs, [42, -84, 262, 262]) and vacuum.global_within_search\n"
        "print('ok')\n")
    (tmp_path / "numeric.py").write_bytes((REPO / "generated" / "calibbi2020" / "numeric.py").read_bytes())
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr
