"""The committed generated/ folder equals a fresh `symflav derive` of the built-in model.

report.pdf is not committed (.gitignore): its bytes depend on the TeX installation.
It is reproducible on one machine (tests/test_cli.py, tests/test_report.py).
"""

from __future__ import annotations

from conftest import REPO


def test_generated_files_are_in_sync(derived):
    result, tmp_path = derived["0"]
    assert result.returncode == 0, result.stderr
    committed = REPO / "generated" / "calibbi2020"
    fresh = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file() and p.suffix != ".pdf")
    stale = [rel for rel in fresh if not (committed / rel).is_file()
             or (committed / rel).read_bytes() != (tmp_path / rel).read_bytes()]
    assert not stale, f"regenerate with `symflav derive` and commit: {stale}"
