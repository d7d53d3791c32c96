"""Speed of the generated numeric module (prints tables and ratios; not a test).

    python benchmarks/bench_codegen.py [--backend numba] [--repeat 5]

1. ``symflav derive`` of the built-in model: time and operation count per stage, and the
   wall time of the command (``--code-only``: derivation and code generation; and the whole job).
2. Points per second for all tadpoles and mass-matrix entries (``tadpoles`` +
   ``mass_matrices``) at N = 1e3, 1e5, 1e6, every one of the 22 inputs varying per
   point, against ``sympy.lambdify(..., modules="numpy")`` of the same expressions in
   this process. Lambdify is given each symbol as a contiguous array (its best case);
   the ratio when it gets the columns of the same (N, 4) vev array is shown too.
3. Loop functions: cost of the patched generated function relative to the naive
   closed form (lambdify), N = 1e6. Without a ``loops`` stage the functions are
   stand-ins of the same type (Feynman-parameter integrals with removable poles of
   order 1 to 4 at x = 1), not the paper's.
4. Import time of the committed module in a fresh interpreter, sympy absent: compiled
   from source at every run, and from the bytecode Python caches after the first import.
5. ``--backend numba``: the same functions as numba kernels (skipped without numba).
6. The whole field space: the generated ``hessian`` (all 8 x 8 second derivatives at complex
   fields) at N = 1e6 against ``lambdify`` of the same matrix, and ``jax.jit`` of the jax
   module's ``hessian`` against the numpy module (skipped without jax). ``--only field-space``
   runs this section alone.

Timings are CPU times, the minimum over ``--repeat`` interleaved runs (the machine may
be shared with other work; CPU time does not count the time the process waits).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import sympy as sp

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from symflav import pipeline
from symflav.core import spec  # noqa: E402
from symflav.studies import study_for  # noqa: E402
from symflav.codegen import assemble, series  # noqa: E402
from symflav.codegen.fieldspace import EXPANSION_FACTOR, real_form  # noqa: E402
from symflav.codegen.module import LoopFunction, render_loop_function, render_module  # noqa: E402

SIZES = (1_000, 100_000, 1_000_000)


def best(function, repeat):
    """Smallest CPU time of ``repeat`` calls (CPU time: robust when the machine is shared)."""
    times = []
    for _ in range(repeat):
        start = time.process_time()
        function()
        times.append(time.process_time() - start)
    return min(times)


def load(source: str, name: str, folder: Path):
    path = folder / f"{name}.py"
    path.write_text(source, encoding="utf-8")
    spec_ = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec_)
    spec_.loader.exec_module(module)
    return module


def section(title):
    print()
    print(title)
    print("-" * len(title))


# ---------------------------------------------------------------- 1. derive


def bench_derive(model):
    section("1. symflav derive (built-in model)")
    start = time.perf_counter()
    derivation = pipeline.run(model, study=study_for(model))
    total = time.perf_counter() - start
    for r in derivation.reports:
        print(f"  {r.name:<16} {r.seconds:7.3f} s  {r.operations:>8} ops  ({r.description})")
    print(f"  total            {total:7.3f} s  (stages one after another, in this process)")
    return derivation


def bench_derive_command(folder: Path, repeat: int):
    """Wall time of the command in a fresh interpreter (imports, forked stages, writing)."""
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    cases = (("derive --code-only (derivation and code generation)", ["--code-only"], "   (target: under 10 s)"),
             ("derive (+ check, viability scan, figures, report, PDF)", [], ""))
    best_times = []
    for label, options, target in cases:
        times = []
        for i in range(max(1, min(repeat, 3))):
            start = time.perf_counter()
            subprocess.run([sys.executable, "-m", "symflav", "derive", *options, "-o", str(folder / f"derive{i}")],
                           env=env, check=True, capture_output=True)
            times.append(time.perf_counter() - start)
        print(f"  {label:<56} {min(times):6.2f} s wall (best of {len(times)}; "
              f"all: {', '.join(f'{t:.2f}' for t in times)}){target}")
        best_times.append(min(times))
    return best_times


# ---------------------------------------------------------------- 2. vacuum functions


def vacuum_expressions(derivation):
    results = derivation.results
    vacuum, hessian = results.get("tadpoles"), results.get("mass_matrices")
    tadpoles = list(vacuum.general)
    matrices = list(sp.Matrix(hessian.M_S2)) + list(sp.Matrix(hessian.M_P2))
    vevs = list(vacuum.vevs)
    params = sorted(set().union(*(sp.sympify(e).free_symbols for e in tadpoles + matrices)) - set(vevs), key=str)
    return vevs, params, tadpoles, matrices


def cpu(function, calls=1):
    """(user, user + system) CPU seconds and minor page faults per call, over ``calls`` calls
    (the clocks tick coarsely)."""
    before = resource.getrusage(resource.RUSAGE_SELF)
    for _ in range(calls):
        function()
    after = resource.getrusage(resource.RUSAGE_SELF)
    user = after.ru_utime - before.ru_utime
    faults = (after.ru_minflt - before.ru_minflt) / calls
    return user / calls, (user + after.ru_stime - before.ru_stime) / calls, faults


def bench_vacuum(derivation, numeric, repeat, label="numpy"):
    """Ratios against lambdify. Every round runs each variant twice in a row: a cold call
    (its memory last used by other variants, seconds ago) and warm calls right after it
    (a scan calling the function back to back). Each is the best over the rounds."""
    vevs, params, tadpoles, matrices = vacuum_expressions(derivation)
    lam_all = sp.lambdify(vevs + params, tadpoles + matrices, modules="numpy")
    lam_t = sp.lambdify(vevs + params, tadpoles, modules="numpy")
    lam_m = sp.lambdify(vevs + params, matrices, modules="numpy")
    rng = np.random.default_rng(2020)
    rows = []
    for n in SIZES:
        V = rng.uniform(20.0, 300.0, (n, 4)) * np.array([1, -1, 1, 1])
        values = {str(p): rng.uniform(0.5, 2.0, n) for p in params}
        contiguous = [np.ascontiguousarray(V[:, i]) for i in range(4)] + [values[str(p)] for p in params]
        columns = [V[:, i] for i in range(4)] + [values[str(p)] for p in params]
        out = numeric.tadpoles_and_mass_matrices(V, **values)  # buffers of the right shapes
        batch = max(1, 200_000 // n)
        calls = {
            "one": lambda: numeric.tadpoles_and_mass_matrices(V, **values),
            "lam": lambda: lam_all(*contiguous),
            "two": lambda: (numeric.tadpoles(V, **values), numeric.mass_matrices(V, **values)),
            "lam_two": lambda: (lam_t(*contiguous), lam_m(*contiguous)),
            "lam_cols": lambda: lam_all(*columns),
            "out": lambda: numeric.tadpoles_and_mass_matrices(V, out=out, **values),
        }
        runs = {phase: {k: [] for k in calls} for phase in ("cold", "warm")}
        for _ in range(repeat):  # interleaved, so that every variant sees the same load
            for key, call in calls.items():
                runs["cold"][key].append(cpu(call, 1))
                runs["warm"][key].append(cpu(call, batch))
        best = {phase: {k: (min(r[0] for r in v), min(r[1] for r in v), min(r[2] for r in v))
                        for k, v in by_key.items()} for phase, by_key in runs.items()}
        rows.append((n, best))
    print(f"  all 4 tadpoles + 32 mass-matrix entries, the 22 inputs varying per point ({label} backend)")
    print(f"  {'N':>7} | {'generated':>10} {'lambdify':>10} {'ratio':>6} {'user':>6} {'ratio*':>6} | "
          f"{'2 calls':>10} {'lambdify':>10} {'ratio':>6} | {'out=':>10} {'ratio':>6} | {'cold':>6}")
    for n, best in rows:
        t = {k: v[1] for k, v in best["warm"].items()}
        u = {k: v[0] for k, v in best["warm"].items()}
        c = {k: v[1] for k, v in best["cold"].items()}
        print(f"  {n:>7.0e} | {n / t['one']:>10.3e} {n / t['lam']:>10.3e} {t['lam'] / t['one']:>6.2f} "
              f"{u['lam'] / u['one']:>6.2f} {t['lam_cols'] / t['one']:>6.2f} | {n / t['two']:>10.3e} "
              f"{n / t['lam_two']:>10.3e} {t['lam_two'] / t['two']:>6.2f} | {n / t['out']:>10.3e} "
              f"{t['lam'] / t['out']:>6.2f} | " + (f"{c['lam'] / c['one']:>6.2f}" if n >= 100_000 else f"{'-':>6}"))
    print("  system CPU per call (ms) and minor page faults per call, warm (cold), generated | lambdify | out=:")
    for n, best in rows:
        if n < 100_000:
            continue
        cells = []
        for k in ("one", "lam", "out"):
            (wu, wt, wf), (cu, ct, cf) = best["warm"][k], best["cold"][k]
            cells.append(f"{(wt - wu) * 1e3:6.1f} ({(ct - cu) * 1e3:6.1f}) ms {wf:>6.0f} ({cf:>6.0f})")
        print(f"  {n:>7.0e} | " + " | ".join(cells))
    print("  points per second from CPU time (user + system), best of the interleaved rounds, warm calls.")
    print("  generated = tadpoles_and_mass_matrices(); lambdify = one lambdify of the same 36 expressions,")
    print("  each symbol a contiguous array (its best case); ratio = lambdify time / generated time;")
    print("  user = the same ratio of user CPU time only; ratio* = lambdify given the columns of the")
    print("  (N, 4) vev array; 2 calls = tadpoles() + mass_matrices() vs two lambdified functions;")
    print("  out= = generated, writing into caller-supplied buffers; cold = the ratio for the first call")
    print("  of each variant in a round (N >= 1e5). From 32 MiB of results on (N = 1e6 here) the module")
    print("  reuses the memory of results the caller dropped (release_memory()); the probe below shows")
    print("  what fresh memory of that size would cost at every call.")
    return rows


def bench_fresh_memory(n=1_000_000, pause=2.5):
    """System CPU to provide the generated function's fresh result memory at N (no arithmetic):
    right after the same memory was freed, and after ``pause`` seconds of idle. A virtual
    machine with free page reporting hands freed memory back to its host after about 2 s,
    and the host must provide it again, which the guest's system time shows."""
    def fill():
        block = np.empty((36, n))
        block.fill(1.0)
        return block

    def system_ms():
        before = resource.getrusage(resource.RUSAGE_SELF)
        fill()
        after = resource.getrusage(resource.RUSAGE_SELF)
        return (after.ru_stime - before.ru_stime) * 1e3

    fill()
    reused = min(system_ms() for _ in range(3))
    idle = []
    for _ in range(2):
        time.sleep(pause)
        idle.append(system_ms())
    try:
        reporting = "page_reporting" in Path("/proc/cmdline").read_text()
    except OSError:
        reporting = False
    print(f"  fresh memory for the results at N = {n:.0e} ({36 * n * 8 / 1e6:.0f} MB, written once, no arithmetic;")
    print("  what every call would pay without the module's reuse of dropped result memory):")
    print(f"    reused at once {reused:6.1f} ms system CPU; after {pause} s idle "
          f"{', '.join(f'{t:.1f}' for t in idle)} ms" + ("   (kernel command line: free page reporting on)"
                                                          if reporting else ""))
    return reused, idle


# ---------------------------------------------------------------- 3. loop functions


def stand_in_loop_functions():
    """Loop-type functions of x = m/M (not the paper's): int_0^1 P(z)/(z + (1-z) x^2) dz."""
    x, z = sp.Symbol("x", positive=True), sp.Symbol("z")

    def integral(numerator):
        q, r = sp.div(sp.expand(numerator), (1 - x**2) * z + x**2, z)
        return sp.integrate(q, (z, 0, 1)) - r * 2 * sp.log(x) / (1 - x**2)

    forms = {
        "pole1": integral(z),
        "pole2": integral(z**2),
        "pole3": integral(z**2 * (1 - z)),
        "pole4": integral(z**3),
    }
    return x, {k: sp.cancel(sp.together(v)) for k, v in forms.items()}


def bench_loops(derivation, repeat, folder):
    section("3. loop functions: generated (closed form + series patches) vs naive closed form, N = 1e6")
    loops = derivation.results.get("loops")
    if loops is not None:
        observables = derivation.results.get("observables")
        exported = assemble.loop_functions_to_export(loops, assemble.formulas_of(observables).values()
                                                     if observables is not None else ())
        x, forms = loops.x, {name: form for name, form, _ in exported}
        print("  the loop functions of the generated module")
    else:
        x, forms = stand_in_loop_functions()
        print("  stand-ins (no `loops` stage on this branch): removable poles of order 1-4 at x = 1")
    rendered, stitched = [], {}
    for name, expr in forms.items():
        st = series.stitch(expr, x)
        stitched[name] = st
        rendered.append(render_loop_function(LoopFunction(name, name, st)))
    module = load(render_module("bench loop functions", {}, "", [("PARAMETERS", "()", "none")], rendered),
                  "bench_loops_generated", folder)
    rng = np.random.default_rng(7)
    n = 1_000_000
    grids = {
        "log-uniform 1e-3..1e3": np.exp(rng.uniform(np.log(1e-3), np.log(1e3), n)),
        "uniform 0.5..2": rng.uniform(0.5, 2.0, n),
    }
    print(f"  {'function':<8} {'x':<22} {'generated':>10} {'naive':>10} {'cost ratio':>10}   patches")
    worst = 0.0
    for name, expr in forms.items():
        naive = sp.lambdify(x, expr, modules="numpy")
        generated = getattr(module, name)
        for label, xs in grids.items():
            tg, tn = [], []
            with np.errstate(all="ignore"):
                for _ in range(repeat):
                    tg.append(best(lambda: generated(xs), 1))
                    tn.append(best(lambda: naive(xs), 1))
            ratio = min(tg) / min(tn)
            worst = max(worst, ratio)
            patches = ", ".join(f"{p.expansion.kind}:{p.order}" for p in stitched[name].patches)
            print(f"  {name:<8} {label:<22} {min(tg)*1e3:>8.1f}ms {min(tn)*1e3:>8.1f}ms {ratio:>10.2f}   {patches}")
    print(f"  largest cost ratio: {worst:.2f} (target: at most 2)")
    return worst


# ---------------------------------------------------------------- 4. import


def bench_import(folder, repeat):
    """Import times in fresh interpreters. The module is compiled from source at every run
    (``PYTHONDONTWRITEBYTECODE``, as on a read-only install or the first import of a copy),
    then imported again from its cached bytecode (``__pycache__``, as a user's later runs)."""
    section("4. import of the committed generated/calibbi2020/numeric.py (fresh interpreter, sympy absent)")
    where = Path(folder) / "imp"
    where.mkdir()
    shutil.copy(REPO / "generated" / "calibbi2020" / "numeric.py", where / "numeric.py")
    code_all = ("import sys, time; t = time.perf_counter(); import numeric; d = time.perf_counter() - t; "
                "assert 'sympy' not in sys.modules; print(d)")
    code_mod = ("import sys, time; import numpy; t = time.perf_counter(); import numeric; "
                "d = time.perf_counter() - t; assert 'sympy' not in sys.modules; print(d)")
    code_numpy = "import time; t = time.perf_counter(); import numpy; print(time.perf_counter() - t)"
    plain = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONDONTWRITEBYTECODE")}
    no_cache = dict(plain, PYTHONDONTWRITEBYTECODE="1")
    cases = (("numpy + numeric", code_all, no_cache), ("numeric (numpy already imported)", code_mod, no_cache),
             ("numpy alone, for comparison", code_numpy, no_cache),
             ("numeric, bytecode cached", code_mod, plain))
    results = {}
    for label, code, env in cases:
        times = []
        for _ in range(repeat + (env is plain)):  # with the cache: the first run writes it
            out = subprocess.run([sys.executable, "-c", code], cwd=where, env=env,
                                 capture_output=True, text=True, check=True)
            times.append(float(out.stdout))
        results[label] = min(times[-repeat:])
        target = "   (target: under 100 ms)" if label.startswith("numeric (") else ""
        print(f"  {label:<34} {results[label] * 1e3:7.1f} ms{target}")
    print("  compiled from source at every run (PYTHONDONTWRITEBYTECODE=1) except the last line, which\n"
          "  imports the bytecode Python caches in __pycache__ after the first import")
    return results


# ---------------------------------------------------------------- 6. field space


def field_space_inputs(numeric, n, rng):
    """Complex fields (n, 4) and every parameter of the potential varying per point."""
    p = numeric.POINTS["table2"]
    phi = rng.uniform(-300, 300, (n, 4)) + 1j * rng.uniform(-100, 100, (n, 4))
    names = [a for a in numeric.PARAMETERS if a in p and a in numeric.hessian.__doc__]
    return phi, {k: p[k] * rng.uniform(0.9, 1.1, n) for k in names}


def bench_field_space(derivation, numeric, repeat, folder, sizes=(100_000, 1_000_000)):
    """(a) numpy hessian vs lambdify of the same 64 entries; (b) jax.jit vs the numpy module."""
    section("6. the whole field space: hessian(phi) (8 x 8 at complex fields)")
    model = derivation.model
    form = real_form(derivation["potential"], EXPANSION_FACTOR[model.conventions.field_expansion])
    entries = form.hessian()
    params = sorted(set().union(*(e.free_symbols for e in entries)) - set(form.components), key=str)
    lam = sp.lambdify(list(form.components) + params, entries, modules="numpy")
    jitted = fast = None
    try:
        import jax

        source = assemble.numeric_module(model, derivation.results, backend="jax").source
        fast = load(source, "bench_numeric_jax", folder)
    except ImportError:
        print("  jax is not installed: (b) skipped")
    rng = np.random.default_rng(6)
    ratios = {}
    print(f"  {'N':>7} | {'generated':>10} {'lambdify':>10} {'ratio':>6} | {'jax.jit':>10} {'ratio':>6}   "
          "(points per second; ratio = other time / generated time)")
    for n in sizes:
        phi, values = field_space_inputs(numeric, n, rng)
        args = [np.ascontiguousarray(phi[:, i].real) for i in range(4)] + \
               [np.ascontiguousarray(phi[:, i].imag) for i in range(4)] + [values[str(q)] for q in params]
        generated = lambda: numeric.hessian(phi, **values)  # noqa: E731
        lambdified = lambda: np.array(lam(*args))  # noqa: E731  (the (64, N) array of its list)
        np.testing.assert_allclose(generated()[:3].reshape(3, 64), lambdified()[:, :3].T, rtol=1e-9,
                                   atol=1e-9 * np.abs(lambdified()[:, :3]).max())
        times = {"gen": [], "lam": [], "jax": []}
        if fast is not None:
            jphi = jax.device_put(phi)
            jvalues = {k: jax.device_put(v) for k, v in values.items()}
            jitted = jax.jit(lambda phi, values: fast.hessian(phi, **values))
            jitted(jphi, jvalues).block_until_ready()  # compile once, outside the timing
            np.testing.assert_allclose(np.asarray(jitted(jphi, jvalues))[:3], generated()[:3], rtol=1e-11)
        wall = {"gen": [], "jax": []}
        for _ in range(repeat):  # interleaved
            times["gen"].append(best(generated, 1))
            times["lam"].append(best(lambdified, 1))
            start = time.perf_counter()
            generated()
            wall["gen"].append(time.perf_counter() - start)
            if fast is not None:
                times["jax"].append(best(lambda: jitted(jphi, jvalues).block_until_ready(), 1))
                start = time.perf_counter()
                jitted(jphi, jvalues).block_until_ready()
                wall["jax"].append(time.perf_counter() - start)
        t = {k: min(v) for k, v in times.items() if v}
        w = {k: min(v) for k, v in wall.items() if v}
        ratios[n] = (t["lam"] / t["gen"], t["gen"] / t["jax"] if "jax" in t else None)
        jax_cells = (f"{n / t['jax']:>10.3e} {t['gen'] / t['jax']:>6.2f} (wall {w['gen'] / w['jax']:.2f})"
                     if "jax" in t else f"{'-':>10} {'-':>6}")
        print(f"  {n:>7.0e} | {n / t['gen']:>10.3e} {n / t['lam']:>10.3e} {t['lam'] / t['gen']:>6.2f} | {jax_cells}")
        del phi, values, args
    print("  CPU time, best of the interleaved rounds; every parameter of V varies per point; lambdify gets")
    print("  contiguous arrays (its best case) and returns (64, N); the generated hessian returns (N, 8, 8).")
    print("  jax: the jit-compiled hessian of numeric_jax.py (compiled before timing), ratio = numpy time / jax time")
    print("  in CPU time (jax may run on both cores) and, in parentheses, in wall time.")
    return ratios


# ---------------------------------------------------------------- main


def warm_ratio(rows, n):
    """lambdify time / generated time at N = n (warm calls, user + system CPU)."""
    best = dict(rows)[n]["warm"]
    return best["lam"][1] / best["one"][1]


def summary(targets):
    """One line per target of the issue: the value measured in this run, the target, met or not."""
    section("targets (this run)")
    for label, value, target, met in targets:
        verdict = "(for reference)" if met is None else "met" if met else "NOT MET"
        print(f"  {label:<58} {value:>9} {target:<14} {verdict}")
    print("  ratios of warm calls (back to back, as in a scan); the cold ratios at N = 1e6 are in the")
    print("  tables (the first call of each variant in a round, seconds after its previous call).")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("numpy", "numba"), default="numpy")
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--only", choices=("field-space",), default=None, help="run one section alone")
    args = parser.parse_args(argv)
    print(f"python {sys.version.split()[0]}, numpy {np.__version__}, sympy {sp.__version__}, "
          f"{os.cpu_count()} cores")
    model = spec.load()
    derivation = bench_derive(model)
    targets = []
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        numeric = load(assemble.build_numeric_module(derivation), "bench_numeric", folder)
        field_ratios = bench_field_space(derivation, numeric, min(args.repeat, 3), folder)
        lam_ratio, jax_ratio = field_ratios[1_000_000]
        targets.append(("numpy hessian vs lambdify of the same matrix, N = 1e6", f"{lam_ratio:.2f}x", "> 1x",
                        lam_ratio > 1))
        if jax_ratio is not None:
            targets.append(("jax.jit hessian vs the numpy module, N = 1e6", f"{jax_ratio:.2f}x", "", None))
        if args.only:
            summary(targets)
            return 0
        code_only, _ = bench_derive_command(folder, args.repeat)
        targets.append(("derive --code-only, wall", f"{code_only:.2f} s", "< 10 s", code_only < 10))
        section("2. tadpoles + mass matrices vs sympy.lambdify(modules='numpy')")
        rows = bench_vacuum(derivation, numeric, args.repeat)
        for n, goal in ((100_000, 2.0), (1_000_000, 3.0)):
            r = warm_ratio(rows, n)
            targets.append((f"numpy module vs lambdify, N = {n:.0e}", f"{r:.2f}x", f">= {goal:.0f}x", r >= goal))
        bench_fresh_memory()
        worst = bench_loops(derivation, args.repeat, folder)
        targets.append(("loop functions, cost vs the naive formula (worst)", f"{worst:.2f}x", "<= 2x", worst <= 2))
        imports = bench_import(folder, args.repeat)
        alone = imports["numeric (numpy already imported)"]
        targets.append(("import numeric.py (numpy already imported)", f"{alone * 1e3:.1f} ms", "< 100 ms",
                        alone < 0.1))
        both, numpy_alone = imports["numpy + numeric"], imports["numpy alone, for comparison"]
        targets.append((f"import numpy + numeric.py (numpy alone {numpy_alone * 1e3:.0f} ms)", f"{both * 1e3:.1f} ms",
                        "", None))
        cached = imports["numeric, bytecode cached"]
        targets.append(("import numeric.py, bytecode cached (numpy imported)", f"{cached * 1e3:.1f} ms", "", None))
        if args.backend == "numba":
            section("5. numba backend")
            try:
                import numba
            except ImportError:
                print("  numba is not installed: skipped (numpy stays the default and only requirement)")
                summary(targets)
                return 0
            source = assemble.numeric_module(model, derivation.results, backend="numba").source
            fast = load(source, "bench_numeric_numba", folder)
            params = numeric.POINTS["table2"]
            vevs = np.array([[params[v] for v in ("v_1", "v_3", "v_a", "v_b")]] * 4)
            start = time.perf_counter()
            fast.tadpoles_and_mass_matrices(vevs, **params)
            fast.tadpoles(vevs, **params), fast.mass_matrices(vevs, **params)
            print(f"  numba {numba.__version__}: compiled in {time.perf_counter() - start:.1f} s (first call)")
            rows = bench_vacuum(derivation, fast, args.repeat, label="numba")
            for n in SIZES:
                r = warm_ratio(rows, n)
                targets.append((f"numba kernels vs lambdify, N = {n:.0e}", f"{r:.2f}x", ">= 5x", r >= 5))
    summary(targets)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
