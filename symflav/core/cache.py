"""The one on-disk cache of symflav: derived results kept between commands.

A derivation is a pure function of its inputs, so a result computed once may be read back
instead of computed again (``symflav spectrum``, ``check`` and ``scan`` after a ``derive`` do
not derive again). Each entry is one file named by the sha256 of everything that decides it
(:func:`Cache.key`):

* the code: the symflav, sympy and numpy versions and a digest of symflav's own source and data
  files (:func:`code_version`), so that any change of the code is a new key;
* the inputs, which the caller passes in: the derivation's files (model, printed registry,
  errata; :func:`symflav.core.files.input_hash`), the model as loaded (charge overrides and
  study references included), and every option that changes the result (``--charge``,
  ``--set``, ``--point``, ``--fields``, ``--degree``, seeds ...).

Where: ``$SYMFLAV_CACHE_DIR`` when set, else ``$XDG_CACHE_HOME/symflav``, else
``~/.cache/symflav`` (:func:`default_root`); ``--no-cache`` (or ``SYMFLAV_CACHE_DIR`` set to the
empty string) turns it off. An entry is written atomically (a temporary file beside it, then
:func:`os.replace`), so a reader sees a whole entry or none. It starts with a header holding the
sha256 of its payload: an entry that is truncated, corrupt, of an older format or does not load
is ignored, removed and computed again, with a note (:attr:`Cache.notes`). The folder is
bounded (``$SYMFLAV_CACHE_MAX_MB``, default :data:`DEFAULT_MAX_BYTES`): after each write the
least recently used entries are removed until it fits. A value that cannot be stored (it does
not pickle) is simply not cached.

The payload is a pickle (a stage result inside it is an exact one, which gives every SymPy
expression back as built: :func:`symflav.pipeline.keep_result`): the cache folder belongs to the user who runs symflav and is read
only by symflav (like Python's own ``__pycache__``); do not point it at a folder others write.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib.metadata
import os
import pickle
import secrets
import time
from pathlib import Path
from typing import Any, Iterable

import symflav

ENVIRONMENT = "SYMFLAV_CACHE_DIR"
SIZE_ENVIRONMENT = "SYMFLAV_CACHE_MAX_MB"
DEFAULT_MAX_BYTES = 1 << 30  # 1 GiB; a derive of the built-in model stores about 4 MB
STALE_SECONDS = 3600  # a temporary file this old was left by a writer that was killed
FORMAT = b"symflav-cache 1\n"
SUFFIX = ".entry"
_TMP = ".tmp-"


def default_root() -> Path | None:
    """The cache folder: ``$SYMFLAV_CACHE_DIR``, ``$XDG_CACHE_HOME/symflav`` or ``~/.cache/symflav``;
    None (no cache) when ``SYMFLAV_CACHE_DIR`` is set to the empty string."""
    chosen = os.environ.get(ENVIRONMENT)
    if chosen is not None:
        return Path(chosen).expanduser() if chosen.strip() else None
    xdg = os.environ.get("XDG_CACHE_HOME", "").strip()
    base = Path(xdg) if xdg and Path(xdg).is_absolute() else Path.home() / ".cache"
    return base / "symflav"


@functools.lru_cache(maxsize=1)  # of the installed files, which do not change while symflav runs
def code_version() -> str:
    """The symflav, sympy and numpy versions and a sha256 of every source and data file of the
    symflav package (``*.py``, ``*.toml``, ``*.j2``): part of every key."""
    package = Path(symflav.__file__).resolve().parent
    digest = hashlib.sha256()
    for path in sorted(p for p in package.rglob("*") if p.suffix in (".py", ".toml", ".j2") and p.is_file()):
        digest.update(str(path.relative_to(package)).encode() + b"\0" + path.read_bytes() + b"\0")
    sympy, numpy = (importlib.metadata.version(n) for n in ("sympy", "numpy"))  # not imported: a replay needs neither
    return f"symflav {symflav.__version__}; sympy {sympy}; numpy {numpy}; source {digest.hexdigest()}"


def _max_bytes() -> int:
    text = os.environ.get(SIZE_ENVIRONMENT, "").strip()
    return int(float(text) * (1 << 20)) if text.replace(".", "", 1).isdigit() else DEFAULT_MAX_BYTES


class Cache:
    """The cache in folder ``root`` (None: a cache that keeps nothing), at most ``max_bytes``.

    ``load(key)`` gives the stored value or None; ``store(key, value)`` keeps it. Notes about
    entries that were ignored (corrupt, unreadable) collect in :attr:`notes`."""

    def __init__(self, root: str | Path | None, max_bytes: int | None = None):
        self.root = Path(root) if root is not None else None
        self.max_bytes = _max_bytes() if max_bytes is None else max_bytes
        self.notes: list[str] = []

    @classmethod
    def from_environment(cls, enabled: bool = True) -> "Cache":
        """The user's cache (:func:`default_root`), or one that keeps nothing if not ``enabled``."""
        return cls(default_root() if enabled else None)

    @property
    def enabled(self) -> bool:
        return self.root is not None

    @staticmethod
    def key(kind: str, *parts: Any) -> str:
        """The sha256 key of an entry of ``kind`` (a name) decided by ``parts`` (their ``repr``,
        which must be deterministic: strings, numbers, tuples, sorted items) and the code."""
        digest = hashlib.sha256(code_version().encode())
        for part in (kind, *parts):
            digest.update(b"\0" + repr(part).encode("utf-8"))
        return f"{kind}-{digest.hexdigest()}"

    def _path(self, key: str) -> Path:
        return self.root / f"{key}{SUFFIX}"

    def load(self, key: str) -> Any | None:
        """The value stored under ``key``, or None (none stored, or the entry is unusable: then
        it is removed and a note says so)."""
        if self.root is None:
            return None
        path = self._path(key)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            self.notes.append(f"cache entry {path} not readable ({exc.strerror or exc}): computed again")
            return None
        header, _, payload = data.partition(b"\n\n")
        if not data.startswith(FORMAT) or header[len(FORMAT):].decode("ascii", "replace") != \
                hashlib.sha256(payload).hexdigest():
            return self._discard(path, "corrupt or of another format")
        try:
            value = pickle.loads(payload)
        except Exception as exc:  # noqa: BLE001  (any failure to load means: compute again)
            return self._discard(path, f"does not load ({type(exc).__name__})")
        with contextlib.suppress(OSError):
            os.utime(path)  # recently used: evicted last
        return value

    def discard(self, key: str) -> None:
        """Remove the entry under ``key`` (if any)."""
        if self.root is not None:
            with contextlib.suppress(OSError):
                self._path(key).unlink()

    def _discard(self, path: Path, why: str) -> None:
        self.notes.append(f"cache entry {path.name} ignored ({why}): computed again")
        with contextlib.suppress(OSError):
            path.unlink()
        return None

    def store(self, key: str, value: Any) -> bool:
        """Keep ``value`` under ``key`` (atomically); False if it was not kept (no cache, the
        value does not pickle, or the folder cannot be written)."""
        if self.root is None:
            return False
        try:
            payload = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception:  # noqa: BLE001  (a value that does not pickle is not cached)
            return False
        data = FORMAT + hashlib.sha256(payload).hexdigest().encode("ascii") + b"\n\n" + payload
        path = self._path(key)
        temporary = path.with_name(f"{path.name}{_TMP}{os.getpid()}-{secrets.token_hex(4)}")
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            with open(temporary, "wb") as handle:
                handle.write(data)
            os.replace(temporary, path)
        except OSError as exc:
            with contextlib.suppress(OSError):
                temporary.unlink()
            self.notes.append(f"cache folder {self.root} not writable ({exc.strerror or exc}): nothing cached")
            self.root = None  # do not try again in this run
            return False
        self.evict()
        return True

    def entries(self) -> list[Path]:
        """The entry files, least recently used first."""
        if self.root is None or not self.root.is_dir():
            return []
        found = []
        for path in self.root.iterdir():
            with contextlib.suppress(OSError):
                if path.name.endswith(SUFFIX):
                    found.append((path.stat().st_mtime_ns, path.name, path))
        return [path for _, _, path in sorted(found)]

    def evict(self) -> None:
        """Remove the least recently used entries until the folder holds at most ``max_bytes``
        (and temporary files that writers killed meanwhile left behind)."""
        now = time.time()
        for path in self.root.glob(f"*{SUFFIX}{_TMP}*") if self.root is not None else ():
            with contextlib.suppress(OSError):
                if now - path.stat().st_mtime > STALE_SECONDS:
                    path.unlink()
        entries = []
        for path in self.entries():
            with contextlib.suppress(OSError):
                entries.append((path, path.stat().st_size))
        total = sum(size for _, size in entries)
        for path, size in entries:
            if total <= self.max_bytes:
                break
            with contextlib.suppress(OSError):
                path.unlink()
                total -= size

    def remember(self, key: str, compute):
        """``load(key)``, or ``compute()`` stored under ``key``."""
        value = self.load(key)
        if value is None:
            value = compute()
            self.store(key, value)
        return value


# ------------------------------------------------------------------ replayed commands
# ``symflav spectrum`` and ``symflav check`` print a text that depends only on the command line,
# the derivation's files and the code: the whole output is kept, and the same command run again
# replays it before any derivation code (or sympy) is imported (``python -m symflav``).


def command_key(argv: Iterable[str]) -> str:
    """The key of a command's output: its arguments as given and the working folder (which
    relative paths in them are resolved against)."""
    return Cache.key("command", tuple(argv), os.getcwd())


def _digest(path: str) -> str | None:
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return None


def record_command(cache: Cache, argv: Iterable[str], inputs: Iterable[str], stdout: str, status: int) -> None:
    """Keep the output and exit status of a command that read the files ``inputs``."""
    cache.store(command_key(argv), {"inputs": [(str(p), _digest(p)) for p in inputs],
                                    "stdout": stdout, "status": status})


def replayed_command(cache: Cache, argv: Iterable[str]) -> tuple[str, int] | None:
    """(stdout, exit status) of the same command run before, if every file it read is unchanged;
    None otherwise (a changed input file: the entry is stale, removed, and the command runs)."""
    if "--no-cache" in argv or "--debug" in argv:
        return None
    entry = cache.load(command_key(argv))
    if not isinstance(entry, dict):
        return None
    changed = [path for path, digest in entry["inputs"] if _digest(path) != digest]
    if changed:
        cache.notes.append(f"cached output of this command is stale ({changed[0]} changed): computed again")
        cache.discard(command_key(argv))
        return None
    return entry["stdout"], entry["status"]


NO_CACHE = Cache(None)
"""A cache that keeps nothing (the default of the library functions)."""
