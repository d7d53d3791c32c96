"""The on-disk cache (symflav/core/cache.py): what it keeps is what a cold run computes, byte for
byte; a changed model file, option or code version is a new key; a corrupt entry is ignored,
removed and computed again; the folder stays within its bound. On small toy models, with the
cache in each test's own folder."""

from __future__ import annotations

import contextlib
import json
import os
import pickle
import subprocess
import sys

import pytest
import sympy as sp

import toymodels
from conftest import REPO, run_main
from symflav import pipeline
from symflav.core import cache as disk
from symflav.core import spec
from symflav.numerics import points


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


def test_stage_results_are_computed_again_not_read_from_the_cache(toy, tmp_path):
    """Stage results stay out of the disk cache (pipeline.STAGE_CACHE): a SymPy expression does
    not come back from a pickle as it was, and the files of a derive would change after a hit."""
    model = spec.load(str(toy))
    store = disk.Cache(tmp_path / "c")
    cold = pipeline.run(model, until="codegen", cache=store)
    warm = pipeline.run(model, until="codegen", cache=store)
    assert not pipeline.STAGE_CACHE
    assert not any("(cached)" in r.description for r in cold.reports + warm.reports)
    assert warm["codegen"].source == cold["codegen"].source


def test_a_plain_pickle_does_not_keep_sympy_expressions_as_built():
    """Why the stage cache is off: 2*(a + 9*b) comes back as 2*a + 18*b."""
    a, b = sp.symbols("a b")
    built = sp.factor(2 * a + 18 * b)
    assert str(pickle.loads(pickle.dumps(built))) != str(built)


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
