"""Cold and warm runs of the commands that read the on-disk cache (symflav/core/cache.py).

Run from the repository root: ``python benchmarks/bench_cache.py [--scan-points N]``. Every
command runs as ``python -m symflav ...`` in a subprocess with ``SYMFLAV_CACHE_DIR`` pointing at
a fresh temporary folder:

* spectrum, check, scan, and the spectrum of the example derivation ``u1z3_three_leptons``: once
  on an empty cache (cold) and once more (warm);
* then, on another empty cache, ``derive --no-pdf`` once (of the built-in model and of the
  example), and the same commands after it (what a user does: derive, then ask), and the derive
  again into another folder (every stage read from the cache; the two folders are compared byte
  for byte).

Prints seconds and the ratio warm/cold (and after-derive/cold) of each command; the outputs of
the cold and warm spectrum and check runs are compared byte for byte, and with the runs after
a derive up to the seconds the convention inference took. No assertions: the goal
(``spectrum --point table2`` under 1 s warm) is for humans to read off.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = "derivations/u1z3_three_leptons"


def timed(args: list[str], cache: Path, cwd: Path) -> tuple[float, subprocess.CompletedProcess]:
    env = {**os.environ, "SYMFLAV_CACHE_DIR": str(cache), "PYTHONPATH": str(REPO)}
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "symflav", *args], cwd=cwd, env=env,
                          capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(args)}: exit {done.returncode}: {done.stderr.strip()[-500:]}")
    return seconds, done


def _untimed(text: str) -> str:
    """The output without the seconds the convention inference took (they differ between runs)."""
    return re.sub(r'"seconds": [0-9.]+|in [0-9.]+ s(?=[;)])', "<seconds>", text)


def _tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scan-points", type=int, default=2000)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="symflav-bench-cache-") as tmp:
        tmp = Path(tmp)
        commands = {
            "spectrum --point table2": ["spectrum", "--point", "table2"],
            "check": ["check"],
            "scan": ["scan", "--scan", "viability", "--points", str(options.scan_points),
                     "-o", str(tmp / "scan.csv")],
            "spectrum u1z3_three_leptons": ["spectrum", EXAMPLE, "--point", "benchmark"],
        }
        print(f"{'command':<30} {'cold s':>8} {'warm s':>8} {'warm/cold':>10} {'after derive s':>15} {'ratio':>7}")
        derived, outputs = {}, {}
        first = tmp / "cache-after-derive"
        derive_seconds, _ = timed(["derive", "--no-pdf", "-o", str(tmp / "out")], first, REPO)
        example_seconds, _ = timed(["derive", EXAMPLE, "--no-pdf", "-o", str(tmp / "out-example")], first, REPO)
        for name, args in commands.items():
            derived[name], outputs[name] = timed(args, first, REPO)
        for number, (name, args) in enumerate(commands.items()):
            cache = tmp / f"cache-{number}"
            cold, a = timed(args, cache, REPO)
            warm, b = timed(args, cache, REPO)
            same = "" if name == "scan" or a.stdout == b.stdout else "  WARM OUTPUT DIFFERS"
            if name != "scan" and _untimed(a.stdout) != _untimed(outputs[name].stdout):
                same += "  AFTER-DERIVE OUTPUT DIFFERS"
            print(f"{name:<30} {cold:8.2f} {warm:8.2f} {warm / cold:10.3f} {derived[name]:15.2f} "
                  f"{derived[name] / cold:7.3f}{same}")
        again, _ = timed(["derive", "--no-pdf", "-o", str(tmp / "again")], first, REPO)
        same = "" if _tree(tmp / "out") == _tree(tmp / "again") else "  FILES DIFFER"
        print(f"derive {EXAMPLE} --no-pdf: cold {example_seconds:.2f} s")
        print(f"derive --no-pdf: cold {derive_seconds:.2f} s (then the runs 'after derive'), "
              f"warm {again:.2f} s, warm/cold {again / derive_seconds:.3f}{same}")


if __name__ == "__main__":
    main()
