"""Render a derive output folder's report to PNG pages, to read them as a referee would.

Usage (from the worktree root):
    python -m symflav derive -o /tmp/lx
    python dev/look_at_report.py /tmp/lx [PAGES_DIR] [--dpi 60]

Compiles OUTPUT_DIR/report.tex (with its figures) by :func:`symflav.report.pdf.compile_report_with_log`,
writes PAGES_DIR/report.pdf and PAGES_DIR/page-NN.png (``pdftoppm -r DPI``; default PAGES_DIR is
OUTPUT_DIR/pages, default 60 dpi), and prints the pages, the overfull boxes (> 5 pt) and the
undefined references of the log, so that the pages worth a closer look are known before opening them.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # this worktree's symflav, not an installed one
from symflav.report import pdf  # noqa: E402


def render_pages(folder: Path, pages: Path, dpi: int = 60) -> list[Path]:
    """The report of ``folder`` as PNG pages in ``pages`` (old pages there are removed)."""
    files = {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*")
             if p.is_file() and (p.name == "report.tex" or p.parent.name == "figures")}
    files["report.tex"] = files["report.tex"].decode("utf-8")
    document, log = pdf.compile_report_with_log(files)
    pages.mkdir(parents=True, exist_ok=True)
    for old in pages.glob("page-*.png"):
        old.unlink()
    (pages / "report.pdf").write_bytes(document)
    (pages / "report.log").write_text(log, encoding="utf-8")
    subprocess.run([shutil.which("pdftoppm") or "pdftoppm", "-r", str(dpi), "-png", "report.pdf", "page"],
                   cwd=pages, check=True)
    return sorted(pages.glob("page-*.png"))


def problems(log: str) -> list[str]:
    """What the log says a reader would see: overfull lines, undefined references and citations."""
    found = [f"overfull {pt:.1f} pt {where}" for pt, where in pdf.overfull(log)]
    found += sorted(set(re.findall(r"LaTeX Warning: (?:Reference|Citation) `[^']+' on page \d+ undefined", log)))
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output", type=Path, help="a `symflav derive -o` folder holding report.tex")
    parser.add_argument("pages", type=Path, nargs="?", help="where the pages go (default OUTPUT/pages)")
    parser.add_argument("--dpi", type=int, default=60)
    args = parser.parse_args(argv)
    if not (args.output / "report.tex").is_file():
        print(f"{args.output}: no report.tex (run `python -m symflav derive -o {args.output}` first)", file=sys.stderr)
        return 2
    if shutil.which("pdftoppm") is None:
        print("pdftoppm is not installed (poppler-utils)", file=sys.stderr)
        return 2
    pages = args.pages or args.output / "pages"
    rendered = render_pages(args.output, pages, args.dpi)
    print(f"{len(rendered)} pages in {pages}")
    for line in problems((pages / "report.log").read_text(encoding="utf-8")):
        print("  " + line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
