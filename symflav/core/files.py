"""Deterministic, atomic output.

:func:`write_tree` writes a whole set of files or none: everything is first written
into a staging folder next to the destination, then each file is moved into place
with :func:`os.replace` (atomic on POSIX). If anything fails before the moves,
the destination is untouched.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import Mapping

import sympy

import symflav
from symflav.core.model import Model


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


def write_tree(out_dir: str | Path, files: Mapping[str, str | bytes]) -> list[Path]:
    """Write ``files`` (relative path -> content) under ``out_dir``, all or nothing."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".symflav-", dir=out_dir))
    written = []
    try:
        for rel, content in sorted(files.items()):
            target = staging / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            data = content.encode("utf-8") if isinstance(content, str) else content
            with open(target, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
        for rel in sorted(files):
            final = out_dir / rel
            final.parent.mkdir(parents=True, exist_ok=True)
            os.replace(staging / rel, final)
            written.append(final)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return written
