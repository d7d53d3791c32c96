"""Parameter scans: a grid or seeded random points, evaluated in chunks, locally or on Dask.

A scan is a :class:`ScanPlan` (axes, mode, size, seed, chunk size) and an *evaluator*: a
picklable callable taking a dict of parameter arrays (one chunk) and returning a dict
of result columns of the same length. Chunk ``k`` is a pure function of the plan and
``k`` (random points come from ``SeedSequence(seed, spawn_key=(k,))``), so the result
does not depend on where or in which order chunks run: a run on a Dask cluster equals
the single-process run for the same seed.
"""

from __future__ import annotations

import csv
import io
import math
import sys
import time
import types
from dataclasses import dataclass, field
from typing import Callable, Mapping

import numpy as np

Columns = dict[str, np.ndarray]
Evaluator = Callable[[Mapping[str, np.ndarray]], Mapping[str, np.ndarray]]

SCALES = ("linear", "log")


@dataclass(frozen=True)
class Axis:
    """One scanned parameter: range [low, high] (GeV for masses), linear or log scale.

    ``points`` is the number of grid points (grid scans only).
    """

    name: str
    low: float
    high: float
    scale: str = "linear"
    points: int = 0

    def __post_init__(self):
        if self.scale not in SCALES:
            raise ValueError(f"axis {self.name}: scale must be one of {SCALES}")
        if not (math.isfinite(self.low) and math.isfinite(self.high)) or self.high < self.low:
            raise ValueError(f"axis {self.name}: need finite low <= high")
        if self.scale == "log" and self.low <= 0:
            raise ValueError(f"axis {self.name}: a log axis needs low > 0")

    def from_unit(self, u: np.ndarray) -> np.ndarray:
        """Map u in [0, 1] onto the axis."""
        if self.scale == "log":
            return np.exp(np.log(self.low) + u * (np.log(self.high) - np.log(self.low)))
        return self.low + u * (self.high - self.low)

    def grid(self) -> np.ndarray:
        if self.points < 1:
            raise ValueError(f"axis {self.name}: a grid needs points >= 1")
        if self.points == 1:
            return np.array([self.low])
        return self.from_unit(np.linspace(0.0, 1.0, self.points))


@dataclass(frozen=True)
class ScanPlan:
    """What to sample. ``mode`` is "grid" (product of the axes' grids) or "random"."""

    axes: tuple[Axis, ...]
    mode: str = "random"
    n_points: int = 0
    seed: int = 0
    chunk_size: int = 50_000
    fixed: tuple[tuple[str, float], ...] = ()

    def __post_init__(self):
        if self.mode not in ("grid", "random"):
            raise ValueError("mode must be 'grid' or 'random'")
        if self.chunk_size < 1:
            raise ValueError("chunk_size must be positive")
        names = [a.name for a in self.axes] + [n for n, _ in self.fixed]
        if len(set(names)) != len(names):
            raise ValueError("a parameter is both scanned and fixed, or scanned twice")

    @property
    def size(self) -> int:
        if self.mode == "grid":
            return int(np.prod([a.points for a in self.axes])) if self.axes else 1
        return self.n_points

    @property
    def n_chunks(self) -> int:
        return max(1, -(-self.size // self.chunk_size))

    def chunk(self, index: int) -> Columns:
        """Parameter arrays of chunk ``index`` (deterministic)."""
        start = index * self.chunk_size
        stop = min(self.size, start + self.chunk_size)
        n = max(0, stop - start)
        columns: Columns = {}
        if self.mode == "grid":
            shape = tuple(a.points for a in self.axes)
            flat = np.arange(start, stop)
            indices = np.unravel_index(flat, shape) if self.axes else ()
            for axis, idx in zip(self.axes, indices):
                columns[axis.name] = axis.grid()[idx]
        else:
            rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(self.seed, spawn_key=(index,))))
            u = rng.random((n, len(self.axes)))
            for k, axis in enumerate(self.axes):
                columns[axis.name] = axis.from_unit(u[:, k])
        for name, value in self.fixed:
            columns[name] = np.full(n, float(value))
        return columns


def evaluate_chunk(plan: ScanPlan, index: int, evaluator: Evaluator) -> Columns:
    """Sample chunk ``index`` and evaluate it; parameters are kept as columns."""
    params = plan.chunk(index)
    results = evaluator(params)
    out: Columns = dict(params)
    n = len(next(iter(params.values()))) if params else 0
    for name, values in results.items():
        values = np.asarray(values)
        if values.shape[:1] != (n,):
            raise ValueError(f"evaluator column {name!r} has shape {values.shape}, expected ({n}, ...)")
        out[name] = values
    return out


@dataclass(frozen=True)
class ScanResult:
    plan: ScanPlan
    columns: Columns
    seconds: float
    backend: str
    notes: tuple[str, ...] = field(default=())

    @property
    def n(self) -> int:
        return len(next(iter(self.columns.values()))) if self.columns else 0


def _concatenate(parts: list[Columns]) -> Columns:
    if not parts:
        return {}
    return {name: np.concatenate([p[name] for p in parts]) for name in parts[0]}


def _progress_bar(total: int, enabled: bool | None):
    if enabled is None:
        enabled = sys.stderr.isatty()
    if not enabled:
        return None
    try:
        from tqdm import tqdm  # optional here: progress is a nicety, not a requirement
    except ImportError:
        return None
    return tqdm(total=total, unit="chunk", file=sys.stderr, leave=False)


def run_local(plan: ScanPlan, evaluator: Evaluator, progress: bool | None = None) -> ScanResult:
    """Evaluate every chunk in this process, in order."""
    start = time.perf_counter()
    bar = _progress_bar(plan.n_chunks, progress)
    parts = []
    for k in range(plan.n_chunks):
        parts.append(evaluate_chunk(plan, k, evaluator))
        if bar:
            bar.update(1)
    if bar:
        bar.close()
    return ScanResult(plan, _concatenate(parts), time.perf_counter() - start, "local")


def run_dask(
    plan: ScanPlan,
    evaluator: Evaluator,
    address: str | None = None,
    workers: int = 2,
    progress: bool | None = None,
) -> ScanResult:
    """Evaluate the chunks on dask.distributed: ``address`` of a scheduler, or a LocalCluster."""
    try:
        from dask.distributed import Client, LocalCluster, as_completed  # optional dependency (symflav[scan])
    except ImportError as exc:
        raise RuntimeError("the Dask backend needs dask[distributed]: pip install 'symflav[scan]'") from exc
    start = time.perf_counter()
    cluster = None
    if address is None:
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                               dashboard_address=None, silence_logs=40)
        client = Client(cluster)
    else:
        client = Client(address)
    try:
        # one copy of the evaluator per worker, reused by its chunks (compiled functions cached there)
        shared = client.scatter(evaluator, broadcast=True, hash=False)
        futures = [client.submit(evaluate_chunk, plan, k, shared, pure=False) for k in range(plan.n_chunks)]
        index = {f.key: k for k, f in enumerate(futures)}
        parts: list[Columns | None] = [None] * len(futures)
        bar = _progress_bar(len(futures), progress)
        for future in as_completed(futures):
            parts[index[future.key]] = future.result()
            if bar:
                bar.update(1)
        if bar:
            bar.close()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    return ScanResult(plan, _concatenate(parts), time.perf_counter() - start,
                      "dask" if address is None else f"dask@{address}")


def to_csv(columns: Columns) -> str:
    """Columnar text (one column per quantity, header row): pandas.read_csv and
    numpy.genfromtxt(names=True, delimiter=",") read it. Floats with 17 significant digits."""
    names = list(columns)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(names)
    arrays = [np.asarray(columns[n]) for n in names]
    for row in zip(*arrays):
        writer.writerow([_format(v) for v in row])
    return buffer.getvalue()


def _format(value) -> str:
    if isinstance(value, (bool, np.bool_)):
        return "1" if value else "0"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    return repr(float(value)) if np.isfinite(value) else ("nan" if np.isnan(value) else ("inf" if value > 0 else "-inf"))


# ------------------------------------------------------------------ generated modules on a worker


def load_generated(source: str, name: str = "numeric") -> types.ModuleType:
    """A generated module from its source text (symflav's own output, never user input): how a
    scan evaluator rebuilds the generated functions on a worker without sympy or the derivation."""
    module = types.ModuleType(name)
    exec(compile(source, f"<generated {name}>", "exec"), module.__dict__)  # noqa: S102 - generated by us
    return module


def summary(result: ScanResult) -> dict:
    """Count, ranges and timing of a scan (for the JSON summary next to the CSV)."""
    out = {"points": result.n, "seconds": round(result.seconds, 3), "backend": result.backend,
           "mode": result.plan.mode, "seed": result.plan.seed, "chunks": result.plan.n_chunks, "columns": {}}
    for name, values in result.columns.items():
        values = np.asarray(values, dtype=float)
        finite = values[np.isfinite(values)]
        out["columns"][name] = {"min": float(finite.min()) if finite.size else None,
                                "max": float(finite.max()) if finite.size else None,
                                "finite": int(finite.size)}
    return out
