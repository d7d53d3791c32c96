"""Compile a derive output folder's report and each snippet alone; list overfull boxes (> 5 pt).

Usage (from the worktree root): python dev/latex_widths.py OUTPUT_DIR [--png PAGES_DIR]
Each equation snippet is compiled in a two-column page (246 pt columns, as JHEP/revtex), each
table snippet in a plain one-column article; both load only snippets/symflav.sty.
"""

from __future__ import annotations

import sys
from pathlib import Path

from symflav.report import pdf


def main(folder: Path) -> int:
    files = {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    sty = files["snippets/symflav.sty"]
    total = 0
    for name in sorted(files):
        if not (name.startswith("snippets/") and name.endswith(".tex")):
            continue
        _, log = pdf.compile_snippet(files[name].decode(), sty.decode())
        boxes = pdf.overfull(log)
        total += len(boxes)
        print(f"{name}: {len(boxes)} overfull" + "".join(f"\n   {pt:7.1f} pt  {w}" for pt, w in boxes))
    report = {k: v.decode() if k == "report.tex" else v for k, v in files.items()}
    _, log = pdf.compile_report_with_log(report)
    boxes = pdf.overfull(log)
    total += len(boxes)
    print(f"report.tex: {len(boxes)} overfull" + "".join(f"\n   {pt:7.1f} pt  {w}" for pt, w in boxes))
    return 1 if total else 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
