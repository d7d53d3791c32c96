"""The on-disk cache (symflav/core/cache.py): what it keeps is what a cold run computes, byte for
byte; a changed model file, option or code version is a new key; a corrupt entry is ignored,
removed and computed again; the folder stays within its bound. On small toy models, with the
cache in each test's own folder."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import pickle
import shutil
import subprocess
import sys

import pytest
import sympy as sp

import toymodels
from conftest import REPO, SESSION_CACHE, run_cli, run_main
from symflav import pipeline
from symflav.core import cache as disk
from symflav.core import serialize, spec, symbols
from symflav.numerics import points
from symflav.verify import checks


@pytest.fixture
def store(tmp_path, monkeypatch):
    """A fresh cache folder for the test, also seen by the command line (SYMFLAV_CACHE_DIR)."""
    folder = tmp_path / "cache"
    monkeypatch.setenv(disk.ENVIRONMENT, str(folder))
    return folder


@pytest.fixture
def toy(tmp_path):
    return toymodels.write_model(tmp_path / "twofields", toymodels.TWO_FIELDS)


def _no_evaluation(monkeypatch):
    """From here on, computing a spectrum fails the test: an answer must come from the cache."""
    def refuse(*args, **kwargs):
        raise AssertionError("computed again instead of read from the cache")
    monkeypatch.setattr(points, "evaluate", refuse)


# ------------------------------------------------------------------ the store itself


def test_a_stored_value_is_read_back_in_a_new_cache_object(tmp_path):
    value = {"x": sp.Rational(1, 3) * sp.Symbol("v", positive=True), "n": [1, 2.5]}
    key = disk.Cache.key("unit", "a", 1)
    assert disk.Cache(tmp_path).store(key, value)
    again = disk.Cache(tmp_path).load(key)
    assert again == value and again["x"].free_symbols.pop().is_positive
    assert disk.Cache(tmp_path).load(disk.Cache.key("unit", "a", 2)) is None


@pytest.mark.parametrize("damage", [
    lambda data: data[:-7],  # truncated
    lambda data: data[:-1] + bytes([data[-1] ^ 1]),  # one bit flipped in the payload
    lambda data: b"not a cache entry\n\n" + data,  # another format
])
def test_a_corrupt_entry_is_ignored_removed_and_noted(tmp_path, damage):
    key = disk.Cache.key("unit", "corrupt")
    disk.Cache(tmp_path).store(key, list(range(100)))
    (path,) = tmp_path.glob("*.entry")
    path.write_bytes(damage(path.read_bytes()))
    reader = disk.Cache(tmp_path)
    assert reader.load(key) is None and not path.exists()
    assert len(reader.notes) == 1 and "ignored" in reader.notes[0]


def test_the_least_recently_used_entries_are_evicted_beyond_the_bound(tmp_path):
    small = disk.Cache(tmp_path, max_bytes=3 * 1200)
    keys = [disk.Cache.key("unit", i) for i in range(6)]
    for i, key in enumerate(keys):
        small.store(key, bytes(1000))
        os.utime(small._path(key), ns=(i * 10**9, i * 10**9))  # distinct ages, oldest first
    survivors = {p.name for p in tmp_path.glob("*.entry")}
    assert survivors == {f"{k}.entry" for k in keys[-3:]}
    assert sum(p.stat().st_size for p in tmp_path.glob("*.entry")) <= small.max_bytes


def test_the_key_holds_the_code_version(monkeypatch):
    before = disk.Cache.key("unit", "same input")
    assert "sympy" in disk.code_version() and "source" in disk.code_version()
    monkeypatch.setattr(disk, "code_version", lambda: "symflav 9.9; sympy 9.9; source other")
    assert disk.Cache.key("unit", "same input") != before


def test_the_folder_comes_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv(disk.ENVIRONMENT, str(tmp_path / "here"))
    assert disk.default_root() == tmp_path / "here"
    monkeypatch.setenv(disk.ENVIRONMENT, "")
    assert disk.default_root() is None and not disk.Cache.from_environment().enabled
    monkeypatch.delenv(disk.ENVIRONMENT)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert disk.default_root() == tmp_path / "xdg" / "symflav"


# ------------------------------------------------------------------ stages


def test_a_warm_run_reads_every_stage_as_it_was_computed(toy, tmp_path):
    model = spec.load(str(toy))
    store = disk.Cache(tmp_path / "c")
    cold = pipeline.run(model, until="mass_matrices", cache=store)
    warm = pipeline.run(model, until="mass_matrices", cache=store)
    assert not any("(cached)" in r.description for r in cold.reports)
    assert all("(cached)" in r.description for r in warm.reports)
    assert [r.name for r in warm.reports] == [r.name for r in cold.reports]
    assert serialize.difference(dict(warm.results), dict(cold.results)) is None


def test_a_plain_pickle_loses_the_form_a_stored_stage_result_keeps(tmp_path):
    """Why stage results are stored with the exact pickle (core/serialize.py): a plain one gives
    2*(a + 9*b) back as 2*a + 18*b; a stored stage result gives it back as built."""
    a, b = sp.symbols("a b")
    built = {"f": sp.factor(2 * a + 18 * b), "abs": sp.Abs(1 / a, evaluate=False)}
    assert sp.srepr(pickle.loads(pickle.dumps(built["f"]))) != sp.srepr(built["f"])
    key = disk.Cache.key("unit", "factored")
    assert pipeline.keep_result(disk.Cache(tmp_path), key, "unit", built)
    loaded, _ = pipeline.read_result(disk.Cache(tmp_path), key)
    assert [sp.srepr(loaded[k]) for k in built] == [sp.srepr(built[k]) for k in built]


def test_a_stage_entry_brings_back_the_latex_names_of_its_symbols(toy, tmp_path, monkeypatch):
    """A symbol's LaTeX name is registered by the stage that creates it: a stage read from the
    cache registers the names its result holds, as computing it would have."""
    model = spec.load(str(toy))
    store = disk.Cache(tmp_path / "c")
    cold = pipeline.run(model, until="real_potential", cache=store)
    sigma = symbols.sigma("1")
    assert sigma in cold["real_potential"].expr.free_symbols
    entry = pipeline.read_result(store, pipeline.stage_key(cold.model, None, None, "real_potential"))
    assert entry[1]["symbols"][sigma] == r"\sigma_{1}"
    monkeypatch.delitem(symbols.LATEX_NAMES, sigma)  # as in a fresh process that computed nothing
    warm = pipeline.run(model, until="real_potential", cache=store)
    assert warm.reports[-1].description.endswith("(cached)")
    assert symbols.LATEX_NAMES[sigma] == r"\sigma_{1}"


def test_a_stage_entry_of_another_format_or_a_result_that_does_not_pickle_is_computed_again(toy, tmp_path):
    model = pipeline.bind(spec.load(str(toy)), None)
    store = disk.Cache(tmp_path / "c")
    assert not pipeline.keep_result(store, disk.Cache.key("unit", "f"), "unit", lambda: 1)  # does not pickle
    key = pipeline.stage_key(model, None, None, "operators")
    store.store(key, {"format": "stage 0", "result": b"", "latex": {}})
    warm = pipeline.run(model, until="operators", cache=store)
    assert "(cached)" not in warm.reports[0].description
    assert len(store.notes) == 1 and "ignored" in store.notes[0]
    assert pipeline.read_result(store, key) is not None  # stored again, in the current format


def test_a_changed_model_file_or_charge_is_another_key(toy):
    model = pipeline.bind(spec.load(str(toy)), None)
    key = pipeline.stage_key(model, None, None, "potential")
    assert pipeline.stage_key(model, None, 3, "potential") != key  # --degree
    text = (toy / "model.toml").read_text(encoding="utf-8")
    (toy / "model.toml").write_text(text.replace("start = 4", "start = 5"), encoding="utf-8")
    edited = pipeline.bind(spec.load(str(toy)), None)
    assert pipeline.stage_key(edited, None, None, "potential") != key
    (toy / "model.toml").write_text(text, encoding="utf-8")
    charged = pipeline.bind(spec.load(str(toy), charges=["s1.Ua=2"]), None)
    assert pipeline.stage_key(charged, None, None, "potential") != key
    assert pipeline.stage_key(pipeline.bind(spec.load(str(toy)), None), None, None, "potential") == key


def test_an_edited_printed_registry_or_errata_file_is_another_key(tmp_path):
    """The comparison stages read printed.toml and errata.toml: both are in every stage's key."""
    folder = tmp_path / "copy"
    shutil.copytree(spec.builtin_root() / "calibbi2020", folder)

    def key():
        return pipeline.stage_key(pipeline.bind(spec.load(str(folder)), None), None, None, "checks")

    first = key()
    for name in ("printed.toml", "errata.toml"):
        with open(folder / name, "a", encoding="utf-8") as handle:
            handle.write("\n# edited\n")
        assert key() != first
        first = key()


# ------------------------------------------------------------------ after a derive


@pytest.fixture(scope="module")
def derived_toy(tmp_path_factory):
    """A toy model derived once (``derive --no-pdf``, in this process) on an empty cache:
    (model folder, cache folder, output folder, the command's result)."""
    root = tmp_path_factory.mktemp("derived_toy")
    toy = toymodels.write_model(root / "twofields", toymodels.TWO_FIELDS)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(disk.ENVIRONMENT, str(root / "cache"))
        result = run_main("derive", toy, "--no-pdf", "-o", root / "cold")
    assert result.returncode == 0, result.stderr
    return toy, root / "cache", root / "cold", result


@pytest.fixture
def after_derive(derived_toy, monkeypatch):
    """The toy model folder, with the cache its derive filled as the user's cache."""
    monkeypatch.setenv(disk.ENVIRONMENT, str(derived_toy[1]))
    return derived_toy


def _no_stage_runs(monkeypatch) -> None:
    """From here on, running any stage fails the test: every result must come from the cache."""
    ordered = pipeline.ordered_stages

    def refuse(name):
        def run(model, results):
            raise AssertionError(f"stage {name} computed again instead of read from the cache")
        return run

    monkeypatch.setattr(pipeline, "ordered_stages", lambda *a, **k: [
        dataclasses.replace(s, run=refuse(s.name)) for s in ordered(*a, **k)])


def _tree(folder) -> dict:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _stage_lines(stdout: str) -> list[str]:
    return [line for line in stdout.splitlines() if line.startswith("  ") and " s " in line]


def test_a_warm_derive_writes_the_cold_files_byte_for_byte(after_derive, tmp_path, monkeypatch):
    toy, _, cold_folder, cold = after_derive
    _no_stage_runs(monkeypatch)
    warm = run_main("derive", toy, "--no-pdf", "-o", tmp_path / "warm")
    assert warm.returncode == 0, warm.stderr
    assert _tree(tmp_path / "warm") == _tree(cold_folder) and len(_tree(cold_folder)) > 5
    assert not any("(cached)" in line for line in _stage_lines(cold.stdout))
    lines = _stage_lines(warm.stdout)
    assert len(lines) == len(_stage_lines(cold.stdout)) and all("(cached)" in line for line in lines)


def test_a_spectrum_after_a_derive_reads_the_stages_and_prints_what_a_cold_one_does(after_derive, monkeypatch):
    toy = after_derive[0]
    cold = run_main("spectrum", toy, "--starts", "4", "--json", "--no-cache")
    assert cold.returncode == 0, cold.stderr
    _no_stage_runs(monkeypatch)

    def refuse(*args):
        raise AssertionError("the point's pieces derived again instead of read from the derive's stage")
    monkeypatch.setattr(points, "point_pieces", refuse)
    warm = run_main("spectrum", toy, "--starts", "4", "--json")
    assert (warm.returncode, warm.stdout) == (0, cold.stdout)


@pytest.fixture
def stages_of_the_derive(derived, tmp_path, monkeypatch):
    """A cache holding only the stage results that the ``derived`` fixture's derive of the built-in
    model stored (its seed-0 run uses the session's cache), as the user's cache."""
    folder = tmp_path / "stages"
    folder.mkdir()
    for entry in SESSION_CACHE.glob("stage-*.entry"):
        shutil.copyfile(entry, folder / entry.name)
    monkeypatch.setenv(disk.ENVIRONMENT, str(folder))
    return derived


def test_a_derive_of_the_built_in_model_after_a_derive_writes_the_same_files(stages_of_the_derive, tmp_path):
    """In a fresh process (nothing registered but what the cache brings): every stage read, and
    the files of the derive without the cache (the fixture's seed-12345 run), byte for byte."""
    warm = run_cli("derive", "-o", str(tmp_path / "warm"))
    assert warm.returncode == 0, warm.stderr
    lines = _stage_lines(warm.stdout)
    assert len(lines) >= 12 and all("(cached)" in line for line in lines)
    assert _tree(tmp_path / "warm") == _tree(stages_of_the_derive["12345"][1])


def test_check_after_a_derive_reads_its_comparison(stages_of_the_derive, monkeypatch):
    _no_stage_runs(monkeypatch)
    monkeypatch.setattr(checks, "run", lambda *a, **k: pytest.fail("compared again instead of read"))
    result = run_main("check", "--json")
    assert result.returncode == 0, result.stderr
    cold = json.loads((stages_of_the_derive["12345"][1] / "checks.json").read_text(encoding="utf-8"))
    cold.pop("_")  # the generated-file marker
    shown = json.loads(result.stdout)
    assert shown["inferred_conventions"].pop("seconds") >= 0
    assert shown == cold


# ------------------------------------------------------------------ commands


@pytest.mark.parametrize("form", [(), ("--json",)])
def test_a_warm_spectrum_prints_the_cold_output_byte_for_byte(store, toy, monkeypatch, form):
    cold = run_main("spectrum", toy, "--starts", "4", *form)
    assert cold.returncode == 0, cold.stderr
    _no_evaluation(monkeypatch)
    warm = run_main("spectrum", toy, "--starts", "4", *form)
    assert (warm.returncode, warm.stdout, warm.stderr) == (0, cold.stdout, cold.stderr)
    if form:
        assert json.loads(warm.stdout)["point"] == "p"


def test_a_changed_file_option_or_code_is_computed_again(store, toy, monkeypatch):
    first = run_main("spectrum", toy, "--starts", "4", "--json")
    assert first.returncode == 0, first.stderr
    computed = []
    evaluate = points.evaluate
    monkeypatch.setattr(points, "evaluate", lambda *a, **k: computed.append(1) or evaluate(*a, **k))
    other = run_main("spectrum", toy, "--starts", "4", "--json", "--set", "start=5")  # an option
    assert other.returncode == 0 and other.stdout != first.stdout and computed == [1]
    text = (toy / "model.toml").read_text(encoding="utf-8")
    (toy / "model.toml").write_text(text.replace("start = 4", "start = 5"), encoding="utf-8")
    edited = run_main("spectrum", toy, "--starts", "4", "--json")  # the model file
    assert edited.returncode == 0 and computed == [1, 1]
    same = ("vevs", "scalar_masses", "pseudoscalar_masses", "potential_min")  # --set start=5 = the edited file
    assert [json.loads(edited.stdout)[k] for k in same] == [json.loads(other.stdout)[k] for k in same]
    monkeypatch.setattr(disk, "code_version", lambda: "symflav 9.9; sympy 9.9; source other")
    assert run_main("spectrum", toy, "--starts", "4", "--json").stdout == edited.stdout  # the code
    assert computed == [1, 1, 1]


def test_corrupt_cache_files_are_ignored_with_a_note(store, toy):
    cold = run_main("spectrum", toy, "--starts", "4")
    entries = sorted(store.glob("*.entry"))
    assert entries
    for path in entries:
        path.write_bytes(path.read_bytes()[:40])
    again = run_main("spectrum", toy, "--starts", "4")
    assert again.returncode == 0 and again.stdout == cold.stdout
    assert "note: cache entry" in again.stderr and "ignored" in again.stderr


def test_no_cache_neither_reads_nor_writes(store, toy):
    result = run_main("spectrum", toy, "--starts", "4", "--no-cache")
    assert result.returncode == 0 and not store.exists()


def test_python_m_symflav_replays_a_command_without_deriving(store, toy):
    """The entry point answers a command seen before from the cache (nothing derived: the
    derivation modules are not even imported), and computes again once a file it read changed."""
    cold = run_main("spectrum", toy, "--starts", "4")
    probe = ("import runpy, sys; sys.argv = ['symflav', 'spectrum', %r, '--starts', '4']\n"
             "try:\n    runpy.run_module('symflav', run_name='__main__')\n"
             "except SystemExit as e:\n    print('pipeline imported:', 'symflav.pipeline' in sys.modules,"
             " file=sys.stderr); raise\n") % str(toy)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    warm = subprocess.run([sys.executable, "-c", probe], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=120)
    assert warm.returncode == 0 and warm.stdout == cold.stdout
    assert "pipeline imported: False" in warm.stderr
    (toy / "model.toml").write_text((toy / "model.toml").read_text(encoding="utf-8") + "\n", encoding="utf-8")
    with contextlib.chdir(REPO):
        assert disk.replayed_command(disk.Cache(store), ["spectrum", str(toy), "--starts", "4"]) is None


def test_the_entry_point_replays_the_commands_the_command_line_records():
    from symflav import __main__ as entry
    from symflav import cli

    assert entry.REPLAYED == cli.REPLAYED
