"""Deterministic, atomic output: one run, one consistent folder.

The output folder ``DIR`` of ``symflav derive`` is owned by symflav and replaced as a whole
(:func:`publish_tree`):

1. the new tree, with its ``manifest.json`` (:func:`manifest_text`), is written into a
   staging folder ``.<name>.symflav-staging-<pid>-<random>`` next to ``DIR`` (same
   filesystem); the writing process holds an ``flock`` on the staging folder;
2. under an exclusive ``flock`` on ``.<name>.symflav-lock`` next to ``DIR``
   (:func:`output_lock`), leftovers of interrupted runs are cleaned (:func:`clean_leftovers`),
   ``DIR`` is renamed to ``.<name>.symflav-backup-<pid>-<random>``, the staging folder is
   renamed to ``DIR`` and the backup is removed. SIGINT and SIGTERM are held back during
   these renames.

After an interrupt at any moment (SIGKILL included) ``DIR`` is the complete previous tree,
the complete new one, or -- killed between the two renames -- missing with the complete
previous tree in the backup folder; the next run (or :func:`clean_leftovers`) puts the
backup back, removes staging folders whose writer is gone and any other backup. Files of an
earlier run that this run did not write are gone; only the folders named in ``keep`` (the
``scans/`` of ``symflav scan``) are carried over into the new tree (hard links). A non-empty
``DIR`` without a ``manifest.json`` is not replaced unless ``force`` is set.

:func:`publish_files` writes single files (``symflav scan``'s columns and summary) each
atomically (a temporary file beside it, then :func:`os.replace`), under the same lock.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import secrets
import shutil
import signal
from pathlib import Path
from typing import Iterator, Mapping

import sympy

import symflav
from symflav.core.errors import SpecError
from symflav.core.model import Model

MANIFEST = "manifest.json"
_STAGING, _BACKUP, _TMP = ".symflav-staging-", ".symflav-backup-", ".symflav-tmp-"


def input_hash(model: Model) -> str:
    """sha256 of the derivation's input files (model, printed registry, errata) and overrides."""
    digest = hashlib.sha256()
    digest.update(Path(model.path).read_bytes())
    if model.printed_path:
        digest.update(Path(model.printed_path).read_bytes())
    errata = Path(model.path).with_name("errata.toml")
    if errata.is_file():
        digest.update(errata.read_bytes())
    for field, sym, q in model.charge_overrides:
        digest.update(f"{field}.{sym}={q};".encode())
    return digest.hexdigest()


def header_fields(model: Model) -> dict[str, str]:
    """What every generated file states about its origin (no timestamps)."""
    return {
        "generated_by": f"symflav {symflav.__version__} (sympy {sympy.__version__})",
        "derivation": model.name,
        "input_sha256": input_hash(model),
        "warning": "generated file: do not edit; rerun `symflav derive`",
    }


def _bytes(content: str | bytes) -> bytes:
    return content.encode("utf-8") if isinstance(content, str) else content


def manifest_text(files: Mapping[str, str | bytes], model: Model, command: list[str]) -> str:
    """``manifest.json`` of a run: its origin, command and every file it wrote with its sha256.

    Deterministic: ``command`` holds only what decides the content (the caller leaves out the
    output folder, and the manifest holds no time, host or process id), so the same input and
    options give the same bytes. ``files`` maps relative paths to contents (the manifest itself
    excluded)."""
    return json.dumps({
        "_": header_fields(model),
        "manifest": 1,
        "command": command,
        "files": {rel: hashlib.sha256(_bytes(files[rel])).hexdigest() for rel in sorted(files)},
    }, indent=1, sort_keys=False) + "\n"


def _names(target: Path) -> tuple[Path, str]:
    target = Path(os.path.abspath(target))
    if not target.name:
        raise SpecError("--output", str(target), "cannot replace the root folder")
    return target, f".{target.name}"


@contextlib.contextmanager
def output_lock(target: str | Path) -> Iterator[None]:
    """An exclusive ``flock`` on ``.<name>.symflav-lock`` next to ``target`` (blocks until free).

    The lock file stays (an empty file); removing it while another process waits would let
    two runs hold different locks."""
    target, stem = _names(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(target.parent / f"{stem}.symflav-lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def _writer_gone(folder: Path) -> bool:
    """True when no process holds the ``flock`` of a staging folder (its writer ended)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except OSError:
        return False
    finally:
        os.close(fd)


def _pid_gone(name: str) -> bool:
    try:
        pid = int(name.rsplit("-", 2)[-2])
    except (ValueError, IndexError):
        return True
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def clean_leftovers(target: str | Path) -> None:
    """Undo what interrupted runs left next to ``target``; call it holding :func:`output_lock`.

    A missing ``target`` with a backup folder gets the backup back (the newest, if several);
    other backups, staging folders whose writer is gone and temporary files of ended processes
    are removed."""
    target, stem = _names(target)
    if not target.parent.is_dir():
        return
    backups = sorted((p for p in target.parent.glob(f"{stem}{_BACKUP}*") if p.is_dir()),
                     key=lambda p: p.stat().st_mtime)
    if backups and not os.path.lexists(target):
        os.rename(backups.pop(), target)
    for backup in backups:
        shutil.rmtree(backup, ignore_errors=True)
    for staging in target.parent.glob(f"{stem}{_STAGING}*"):
        if staging.is_dir() and _writer_gone(staging):
            shutil.rmtree(staging, ignore_errors=True)
    if target.is_dir():
        for tmp in target.glob(f".*{_TMP}*"):
            if _pid_gone(tmp.name):
                tmp.unlink(missing_ok=True)


def _earlier_symflav_output(target: Path) -> bool:
    """A folder written by a symflav from before manifest.json: its operators.json says so."""
    try:
        head = json.loads((target / "operators.json").read_text(encoding="utf-8"))["_"]
        return str(head["generated_by"]).startswith("symflav ")
    except (OSError, ValueError, KeyError, TypeError):
        return False


def check_replaceable(target: str | Path, force: bool = False, option: str = "--output") -> None:
    """Refuse (:class:`SpecError`) to replace ``target`` unless it is missing, an empty folder, a
    folder with a ``manifest.json`` or one written by an earlier symflav (or ``force``)."""
    target, _ = _names(target)
    if force or not os.path.lexists(target):
        return
    if not target.is_dir() or target.is_symlink():
        raise SpecError(option, str(target), "exists and is not a folder (or is a symbolic link)")
    if (target / MANIFEST).is_file() or not any(target.iterdir()) or _earlier_symflav_output(target):
        return
    raise SpecError(option, str(target), f"is not empty and has no symflav {MANIFEST}: symflav replaces "
                    "its output folder as a whole; choose another folder or pass --force")


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _link_or_copy(src: str, dst: str) -> None:
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def _carry(old: Path, staging: Path, keep: tuple[str, ...]) -> None:
    """Hard-link (copy where links fail) the kept folders of the old tree into the staging one."""
    for name in keep:
        source = old / name
        if source.is_dir() and not (staging / name).exists():
            shutil.copytree(source, staging / name, copy_function=_link_or_copy, symlinks=True,
                            ignore=shutil.ignore_patterns(f".*{_TMP}*", ".*.symflav-lock"))


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    held = {signal.SIGINT, signal.SIGTERM}
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def replace_folder(staging: Path, target: Path) -> None:
    """Put ``staging`` in place of ``target`` with renames (``target`` to a backup name, staging
    to ``target``, backup removed); call it holding :func:`output_lock`."""
    target, stem = _names(target)
    backup = target.parent / f"{stem}{_BACKUP}{os.getpid()}-{secrets.token_hex(4)}"
    try:
        with _signals_held():  # a SIGINT that came during the renames is raised after them
            if os.path.lexists(target):
                os.rename(target, backup)
            os.rename(staging, target)
            _fsync_dir(target.parent)
    finally:
        shutil.rmtree(backup, ignore_errors=True)


def publish_tree(target: str | Path, files: Mapping[str, str | bytes], *, force: bool = False,
                 keep: tuple[str, ...] = (), option: str = "--output") -> list[Path]:
    """Replace the folder ``target`` as a whole by ``files`` (relative path -> content).

    ``files`` should hold the run's ``manifest.json`` (:func:`manifest_text`); the folders in
    ``keep`` of the previous tree are carried over. See the module docstring for the steps and
    what an interrupt leaves. Returns the written paths (below ``target``)."""
    target, stem = _names(target)
    check_replaceable(target, force, option)  # early: before anything is written
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.parent / f"{stem}{_STAGING}{os.getpid()}-{secrets.token_hex(4)}"
    staging.mkdir()
    fd = os.open(staging, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # tells clean_leftovers of other runs that this one is alive
        for rel in sorted(files):
            _write(staging / rel, _bytes(files[rel]))
        _fsync_dir(staging)
        with output_lock(target):
            clean_leftovers(target)
            check_replaceable(target, force, option)
            _carry(target, staging, keep)
            replace_folder(staging, target)
    finally:
        os.close(fd)
        shutil.rmtree(staging, ignore_errors=True)
    return [target / rel for rel in sorted(files)]


def publish_files(folder: str | Path, files: Mapping[str, str | bytes], lock: str | Path | None = None) -> list[Path]:
    """Write ``files`` (names -> content) into ``folder``, each atomically (a temporary file
    ``.<name>.symflav-tmp-<pid>-<random>`` beside it, then :func:`os.replace`), the replacements
    under :func:`output_lock` of ``lock`` (default: the folder; the folder of ``symflav derive``
    when ``folder`` lies in it, so that a derive does not swap it away meanwhile). Other files of
    the folder stay; temporary files of ended processes are removed."""
    folder = Path(os.path.abspath(folder))
    folder.mkdir(parents=True, exist_ok=True)
    temporary = {}
    try:
        for name in sorted(files):
            temporary[name] = folder / f".{name}{_TMP}{os.getpid()}-{secrets.token_hex(4)}"
            _write(temporary[name], _bytes(files[name]))
        with output_lock(folder if lock is None else lock), _signals_held():
            clean_leftovers(folder)
            for name in sorted(files):
                os.replace(temporary[name], folder / name)
            _fsync_dir(folder)
    finally:
        for path in temporary.values():
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
    return [folder / name for name in sorted(files)]


def write_tree(out_dir: str | Path, files: Mapping[str, str | bytes]) -> list[Path]:
    """Write ``files`` (relative path -> content) under ``out_dir``, each atomically; other files
    of ``out_dir`` stay. (Commands that own their folder use :func:`publish_tree`.)"""
    out_dir = Path(out_dir)
    written = []
    for sub in sorted({str(Path(rel).parent) for rel in files}):
        part = {Path(rel).name: files[rel] for rel in files if str(Path(rel).parent) == sub}
        written += publish_files(out_dir / sub, part)
    return written
