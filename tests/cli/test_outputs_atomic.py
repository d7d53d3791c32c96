"""One run, one consistent output folder: ``symflav derive -o DIR`` replaces DIR as a whole.

Contract (symflav.core.files, docs/architecture.md "Output folders"): after an interrupt at any
moment DIR is, once the next run has cleaned up, the complete previous tree or the complete new
one, with no staging or backup folder left beside it; two concurrent runs give one complete
tree; a failing pdflatex leaves the previous output untouched (exit 2, one line); files of an
earlier run that this run did not write are gone; a foreign non-empty folder is not replaced.

Interrupts and concurrency need real processes: a small child (``_CHILD``) publishes a tree
with slowed renames and prints a marker before each step, so the test kills it at a known
moment. Everything else runs the command in-process on a toy model (tests/toymodels.CUBIC).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import REPO
from toymodels import CUBIC, write_model

from symflav import cli
from symflav.core import files
from symflav.core.errors import SpecError
from symflav.report import pdf

# The child: publish the tree given as JSON (argv[2]) into argv[1]. Each rename, each staged
# file write and the backup removal first print a marker and sleep argv[3] seconds.
_CHILD = r"""
import json, os, shutil, sys, time
from symflav.core import files
target, tree, delay = sys.argv[1], json.loads(sys.argv[2]), float(sys.argv[3])
def slow(name, real):
    def wrapped(*args, **kwargs):
        print(name, flush=True)
        time.sleep(delay)
        return real(*args, **kwargs)
    return wrapped
os.rename = slow("rename", os.rename)
files._write = slow("write", files._write)
shutil.rmtree = slow("rmtree", shutil.rmtree)
print("start", flush=True)
files.publish_tree(target, tree)
print("done", flush=True)
"""

OLD = {"manifest.json": '{"manifest": 1, "run": "old"}\n', "a.txt": "old a\n", "sub/b.txt": "old b\n",
       "report.tex": "old report\n"}
NEW = {"manifest.json": '{"manifest": 1, "run": "new"}\n', "a.txt": "new a\n", "sub/c.txt": "new c\n"}


def tree(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): p.read_text() for p in sorted(folder.rglob("*")) if p.is_file()}


def siblings(folder: Path) -> list[str]:
    """What a run left beside DIR apart from DIR and its lock file."""
    return sorted(p.name for p in folder.parent.iterdir()
                  if p.name != folder.name and not p.name.endswith(".symflav-lock"))


def child(target: Path, content: dict, delay: float) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    return subprocess.Popen([sys.executable, "-c", _CHILD, str(target), json.dumps(content), str(delay)],
                            cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for(process: subprocess.Popen, marker: str, count: int) -> None:
    seen = 0
    for line in process.stdout:
        seen += line.strip() == marker
        if seen == count:
            return
    raise AssertionError(f"child ended before marker {marker} #{count}: {process.stderr.read()}")


def next_run_cleanup(target: Path) -> None:
    """What the next run does first, under the lock."""
    with files.output_lock(target):
        files.clean_leftovers(target)


# (signal, marker, occurrence, expected tree after the next run's clean-up)
MOMENTS = [
    (signal.SIGKILL, "write", 2, OLD),    # staging half written
    (signal.SIGKILL, "rename", 1, OLD),   # staging complete, before DIR moves away
    (signal.SIGKILL, "rename", 2, OLD),   # DIR already moved to the backup, new tree not yet in place
    (signal.SIGKILL, "rmtree", 1, NEW),   # new tree in place, the backup not yet removed
    (signal.SIGINT, "write", 2, OLD),     # KeyboardInterrupt: the staging folder is removed
    (signal.SIGINT, "rename", 1, NEW),    # SIGINT is held back during the renames: they complete
    (signal.SIGINT, "rename", 2, NEW),
]


@pytest.mark.slow
@pytest.mark.parametrize("signum, marker, count, expected", MOMENTS,
                         ids=[f"{signal.Signals(s).name}-{m}{c}" for s, m, c, _ in MOMENTS])
def test_an_interrupt_leaves_the_whole_old_or_the_whole_new_tree(tmp_path, signum, marker, count, expected):
    target = tmp_path / "out"
    files.publish_tree(target, OLD)
    process = child(target, NEW, delay=0.25)
    try:
        wait_for(process, marker, count)
        process.send_signal(signum)
        process.wait(timeout=30)
    finally:
        process.kill()
        process.wait()
        process.stdout.close()
        process.stderr.close()
    next_run_cleanup(target)
    assert tree(target) == expected
    assert siblings(target) == []
    files.publish_tree(target, {**NEW, "manifest.json": '{"manifest": 1, "run": "third"}\n'})
    assert tree(target)["manifest.json"].endswith('"third"}\n') and siblings(target) == []


@pytest.mark.slow
def test_a_killed_run_between_the_renames_is_restored_by_the_next_run_itself(tmp_path):
    target = tmp_path / "out"
    files.publish_tree(target, OLD)
    process = child(target, NEW, delay=0.25)
    wait_for(process, "rename", 2)
    process.kill()
    process.communicate()
    assert not target.exists()  # the gap: DIR is in the backup folder
    newer = {**NEW, "a.txt": "newer a\n"}
    files.publish_tree(target, newer)  # restores, checks the manifest of the restored DIR, replaces
    assert tree(target) == newer and siblings(target) == []


@pytest.mark.slow
def test_a_staging_folder_of_a_running_writer_survives_another_runs_cleanup(tmp_path):
    target = tmp_path / "out"
    files.publish_tree(target, OLD)
    process = child(target, NEW, delay=0.25)
    try:
        wait_for(process, "write", 1)
        next_run_cleanup(target)  # the child holds the flock of its staging folder
        assert any(".symflav-staging-" in name for name in siblings(target))
    finally:
        process.communicate(timeout=30)
    assert process.returncode == 0 and tree(target) == NEW and siblings(target) == []


@pytest.mark.slow
def test_two_concurrent_runs_into_one_folder_give_one_complete_tree(tmp_path):
    target = tmp_path / "out"
    files.publish_tree(target, OLD)
    first = {**NEW, "manifest.json": '{"manifest": 1, "run": "first"}\n', "only_first.txt": "1\n"}
    second = {**NEW, "manifest.json": '{"manifest": 1, "run": "second"}\n', "sub/only_second.txt": "2\n"}
    processes = [child(target, first, delay=0.15), child(target, second, delay=0.15)]
    results = [p.communicate(timeout=60) for p in processes]
    assert [p.returncode for p in processes] == [0, 0], results
    assert tree(target) in (first, second)
    assert siblings(target) == []


def test_a_non_empty_folder_without_manifest_is_refused_unless_forced(tmp_path, capsys):
    foreign = tmp_path / "mine"
    (foreign / "notes").mkdir(parents=True)
    (foreign / "notes" / "thesis.tex").write_text("mine\n")
    status = cli.main(["derive", str(write_model(tmp_path / "m", CUBIC)), "-o", str(foreign)])
    err = capsys.readouterr().err
    assert status == 2 and err.count("\n") == 1 and "manifest.json" in err and "--force" in err
    assert tree(foreign) == {"notes/thesis.tex": "mine\n"}
    with pytest.raises(SpecError):
        files.publish_tree(foreign, NEW)
    files.publish_tree(foreign, NEW, force=True)
    assert tree(foreign) == NEW


def test_a_folder_of_an_earlier_symflav_without_manifest_is_replaced(tmp_path):
    earlier = tmp_path / "generated"
    earlier.mkdir()
    (earlier / "operators.json").write_text('{"_": {"generated_by": "symflav 0.1.0 (sympy 1.14.0)"}}\n')
    (earlier / "report.tex").write_text("old\n")
    files.publish_tree(earlier, NEW)
    assert tree(earlier) == NEW


def test_only_the_kept_folders_of_an_earlier_tree_are_carried_over(tmp_path):
    target = tmp_path / "out"
    files.publish_tree(target, {**OLD, "scans/viability.csv": "x\n1\n"})
    (target / "stray.txt").write_text("left by hand\n")
    files.publish_tree(target, NEW, keep=("scans",))
    assert tree(target) == {**NEW, "scans/viability.csv": "x\n1\n"}


# ------------------------------------------------------------------ the command, in-process


@pytest.fixture(scope="module")
def full_output(tmp_path_factory):
    """A full ``symflav derive --no-pdf`` of the toy model, plus what an earlier symflav left:
    an old-style staging folder inside DIR and a scan; (model folder, output folder)."""
    root = tmp_path_factory.mktemp("outputs")
    model = write_model(root / "model", CUBIC)
    out = root / "full"
    assert cli.main(["derive", str(model), "--no-pdf", "-o", str(out)]) == 0
    (out / ".symflav-a1b2c3d4").mkdir()  # the leftover of a SIGKILL under the old writer
    (out / ".symflav-a1b2c3d4" / "numeric.py").write_text("partial")
    (out / "scans").mkdir()
    (out / "scans" / "viability.csv").write_text("x\n1\n")
    return model, out


def sha256_of(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.slow
def test_code_only_over_a_full_output_leaves_only_its_own_files(full_output, tmp_path, capsys):
    model, full = full_output
    out = tmp_path / "out"
    shutil.copytree(full, out)
    assert "report.tex" in tree(out) and "checks.json" not in tree(out)  # the toy has no printed registry
    assert cli.main(["derive", str(model), "--code-only", "-o", str(out)]) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    on_disk = sha256_of(out)
    assert on_disk.pop("scans/viability.csv")  # the scans of `symflav scan` are kept
    assert on_disk.pop("manifest.json")
    assert manifest["files"] == on_disk  # every file is of this run, with its hash
    assert "report.tex" not in on_disk and "numeric.py" in on_disk
    assert manifest["command"] == ["symflav", "derive", "cubic", "--code-only"]
    assert manifest["_"]["input_sha256"] == files.input_hash(cli.spec.load(str(model)))
    assert not any(".symflav-" in p.name for p in out.rglob("*")) and siblings(out) == []


@pytest.mark.slow
def test_a_failing_pdflatex_leaves_the_previous_output_untouched(full_output, tmp_path, capsys):
    if pdf.pdflatex() is None:
        pytest.skip("pdflatex is not installed")
    _, full = full_output
    # a name the LaTeX-name check lets through but TeX refuses ("Double superscript")
    bad = write_model(tmp_path / "bad", CUBIC, **{"k = {}": 'k = { latex = "k^{a}^{b}" }'})
    out = tmp_path / "o" / "out"
    shutil.copytree(full, out)  # (creates o/)
    before = sha256_of(out)
    os.utime(out / "numeric.py", (0, 0))
    status = cli.main(["derive", str(bad), "-o", str(out)])
    err = capsys.readouterr().err
    assert status == 2 and err.count("\n") == 1 and "pdflatex failed" in err and "superscript" in err
    assert sha256_of(out) == before and (out / "numeric.py").stat().st_mtime == 0
    assert siblings(out) == []


@pytest.mark.slow
def test_a_derive_killed_during_the_swap_leaves_the_old_output(full_output, tmp_path):
    """The real command in a child process, killed between its two renames."""
    model, full = full_output
    out = tmp_path / "out"
    shutil.copytree(full, out)
    before = sha256_of(out)
    script = ("import os, sys, time\nreal = os.rename\n"
              "def slow(*a):\n    print('rename', flush=True)\n    time.sleep(0.5)\n    return real(*a)\n"
              "os.rename = slow\nfrom symflav import cli\n"
              f"sys.exit(cli.main(['derive', {str(model)!r}, '--code-only', '-o', {str(out)!r}]))\n")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    process = subprocess.Popen([sys.executable, "-c", script], cwd=REPO, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    wait_for(process, "rename", 2)
    time.sleep(0.1)
    process.kill()
    process.communicate()
    assert not out.exists()
    next_run_cleanup(out)
    assert sha256_of(out) == before and siblings(out) == []


def test_single_files_are_replaced_and_dead_temporaries_removed(tmp_path):
    """``symflav scan``'s writer: its two files replaced, the other files of the folder kept, a
    temporary file of an ended process (pid 2^22 + 1 is above Linux's pid_max) removed."""
    folder = tmp_path / "scans"
    folder.mkdir()
    (folder / "other.csv").write_text("kept\n")
    (folder / f".v.csv.symflav-tmp-{2**22 + 1}-abcd0123").write_text("partial")
    files.publish_files(folder, {"v.csv": "x\n1\n", "v.json": "{}\n"})
    assert tree(folder) == {"other.csv": "kept\n", "v.csv": "x\n1\n", "v.json": "{}\n"}
