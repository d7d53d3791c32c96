"""Speed of the vacuum/spectrum stages and of `symflav spectrum --point table2`.

Run from the repository root: ``python benchmarks/spectrum_speed.py``. Prints seconds and ratios to
the ``real_potential`` stage (the baseline every later stage builds on) and to the whole pipeline.
No assertions: budgets are for humans (derive well under 10 s, spectrum a few seconds).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from symflav import pipeline
from symflav.numerics import points as benchmark
from symflav.core import spec  # noqa: E402
from symflav.studies import study_for  # noqa: E402


def main() -> None:
    model = spec.load()
    start = time.perf_counter()
    derivation = pipeline.run(model, study=study_for(model))
    total = time.perf_counter() - start
    base = next(r.seconds for r in derivation.reports if r.name == "real_potential")
    print(f"pipeline: {total:.2f} s")
    for report in derivation.reports:
        print(f"  {report.name:<16} {report.seconds:7.3f} s  x{report.seconds / base:6.1f} real_potential"
              f"  {100 * report.seconds / total:5.1f}% of the pipeline")
    start = time.perf_counter()
    result = benchmark.evaluate(derivation, "table2")
    seconds = time.perf_counter() - start
    starts = sum(r.get("minimum_check", {}).get("starts", 0) for r in result["routes"].values())
    print(f"spectrum --point table2 numerics: {seconds:.2f} s for {starts} local minimizations "
          f"({1000 * seconds / max(starts, 1):.1f} ms each); x{seconds / total:.2f} the pipeline")


if __name__ == "__main__":
    main()
