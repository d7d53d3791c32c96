"""Points per second of the viability scan: single process vs a local Dask cluster.

    python benchmarks/bench_scan.py [--points 40000] [--chunk 5000] [--workers 2] [--seed 1]

The same plan (seeded random points in the ranges of ``[scans.viability]``, fixed chunks)
runs in this process (``run_local``) and on a ``dask.distributed.LocalCluster`` with
``--workers`` single-threaded worker processes (``run_dask``); the results are checked equal.
The cluster's start-up is timed apart from the scan. Wall-clock seconds; the machine may be
shared, so the load average is printed beside. No assertions on speed.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from symflav import pipeline
from symflav.core import spec
from symflav.numerics import viability  # noqa: E402
from symflav.numerics.scan import run_dask, run_local  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=40_000)
    parser.add_argument("--chunk", type=int, default=5_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    model = spec.load()
    derivation = pipeline.run(model, until="codegen")
    plan, evaluator = viability.plan_and_evaluator(derivation, model.scan("viability"), args.points, args.seed,
                                                   args.chunk)
    print(f"viability scan: {plan.size} points in {plan.n_chunks} chunks of {plan.chunk_size}; "
          f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}")

    local = run_local(plan, evaluator, progress=False)
    rate_local = local.n / local.seconds
    print(f"  single process       : {local.seconds:7.2f} s  {rate_local:9.0f} points/s")

    from dask.distributed import LocalCluster

    start = time.perf_counter()
    cluster = LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True,
                           dashboard_address=None, silence_logs=40)
    startup = time.perf_counter() - start
    try:
        remote = run_dask(plan, evaluator, address=cluster.scheduler_address, progress=False)
    finally:
        cluster.close()
    rate_remote = remote.n / remote.seconds
    print(f"  local cluster ({args.workers} w.) : {remote.seconds:7.2f} s  {rate_remote:9.0f} points/s "
          f"(+ {startup:.2f} s cluster start-up)")
    print(f"  ratio cluster / single: {rate_remote / rate_local:.2f}x "
          f"({local.n / (remote.seconds + startup) / rate_local:.2f}x with the start-up)")
    same = all(np.array_equal(local.columns[k], remote.columns[k], equal_nan=True) for k in local.columns)
    summary = evaluator.summary(local.columns)
    print(f"  results equal: {same}; viable {summary['viable']['count']} of {summary['viable']['of']} "
          f"({summary['viable']['fraction']:.3g} +- {summary['viable']['error']:.2g}); load average now "
          f"{os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
