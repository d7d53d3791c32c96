"""Run many generated cases once and print the counts (not part of the test suite).

    nice /work/venv/bin/python tests/fuzz/run.py [--cases 500] [--seed 0]

The cases are the corpus of ``fuzzcases`` followed by random models from
``fuzzcases.models()`` (drawn with a fixed seed); each runs ``symflav terms`` in-process and,
when refused, ``symflav derive -o DIR``. Printed: cases, runs ending in exit 0, 2 and 1,
tracebacks, time-outs, partial outputs, the slowest case; exit status 1 if any case broke a
property (exit 1, traceback, time-out, partial output, more than one line)."""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parents[1]), str(HERE)]  # this checkout's symflav, and fuzzcases

import fuzzcases  # noqa: E402
from hypothesis import HealthCheck, given, settings  # noqa: E402


def generated(count: int, seed: int) -> list[str]:
    """``count`` model texts from the strategy, the same for the same ``seed``."""
    texts: list[str] = []

    @settings(max_examples=count, derandomize=False, database=None, deadline=None,
              suppress_health_check=list(HealthCheck))
    @given(model=fuzzcases.models())
    def collect(model):
        texts.append(model.text())

    collect._hypothesis_internal_use_seed = seed
    collect()
    return texts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=500, help="random cases besides the corpus (default 500)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    cases = [text for _, text in fuzzcases.corpus()] + generated(args.cases, args.seed)
    counts = dict.fromkeys(["cases", "exit 0", "exit 2", "exit 1", "other exit", "tracebacks", "time-outs",
                            "partial outputs", "not one line", "invariance failures"], 0)
    slowest, begin = (0.0, ""), time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="symflav-fuzz-") as tmp:
        for i, text in enumerate(cases):
            folder = Path(tmp) / f"case{i}"
            outcome = fuzzcases.run_case(text, folder)
            counts["cases"] += 1
            code = outcome.codes[0] if outcome.codes else None
            key = {0: "exit 0", 2: "exit 2", 1: "exit 1"}.get(code, "other exit")
            counts["time-outs" if outcome.timed_out else key] += 1
            counts["tracebacks"] += outcome.traceback
            counts["partial outputs"] += outcome.written
            counts["not one line"] += not outcome.one_line
            if code == 0 and fuzzcases.invariance_failures(folder):
                counts["invariance failures"] += 1
            if outcome.seconds > slowest[0]:
                slowest = (outcome.seconds, text[:200])
            if code not in (0, 2) or outcome.traceback or outcome.timed_out or outcome.written:
                print(f"case {i}: codes {outcome.codes}: {outcome.stderr[:300]!r}\n{text[:400]}", file=sys.stderr)
    print(", ".join(f"{k}: {v}" for k, v in counts.items()))
    print(f"total {time.perf_counter() - begin:.1f} s; slowest case {slowest[0]:.2f} s")
    broken = sum(counts[k] for k in ("exit 1", "other exit", "tracebacks", "time-outs", "partial outputs",
                                     "not one line", "invariance failures"))
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
