"""The committed generated/ folder equals a fresh `symflav derive` of the built-in model.

report.pdf is not committed (.gitignore): its bytes depend on the TeX installation.
It is reproducible on one machine (tests/cli/test_cli.py, tests/report/test_report.py). For the same
reason the .pdf entries of manifest.json (report and figures, whose bytes the test does not
compare either) are left out of the comparison of the manifests.
"""

from __future__ import annotations

import json

from conftest import REPO


def _without_pdf(manifest: bytes) -> dict:
    data = json.loads(manifest)
    data["files"] = {rel: sha for rel, sha in data["files"].items() if not rel.endswith(".pdf")}
    return data


def test_generated_files_are_in_sync(derived):
    result, tmp_path = derived["0"]
    assert result.returncode == 0, result.stderr
    committed = REPO / "generated" / "calibbi2020"
    fresh = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file() and p.suffix != ".pdf")
    stale = [rel for rel in fresh if not (committed / rel).is_file()
             or (committed / rel).read_bytes() != (tmp_path / rel).read_bytes() and rel.name != "manifest.json"]
    assert not stale, f"regenerate with `symflav derive` and commit: {stale}"
    manifest = _without_pdf((committed / "manifest.json").read_bytes())
    assert manifest == _without_pdf((tmp_path / "manifest.json").read_bytes())
    listed = set(json.loads((committed / "manifest.json").read_bytes())["files"]) - {"report.pdf"}
    on_disk = {str(p.relative_to(committed)) for p in committed.rglob("*") if p.is_file()} - {"manifest.json", "report.pdf"}
    assert on_disk == listed, "files in generated/calibbi2020 that the manifest does not list, or missing"
