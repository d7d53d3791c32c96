"""The scan engine: deterministic chunks, grid coverage, Dask equals the local run."""

from __future__ import annotations

import numpy as np
import pytest

from symflav.numerics.scan import Axis, ScanPlan, evaluate_chunk, run_local, to_csv


def paraboloid(columns):
    """A toy evaluator with a closed form to check against."""
    x, y = columns["x"], columns["y"]
    return {"f": (x - 1.0) ** 2 + 3.0 * y, "positive": (x > 1.0)}


def test_random_chunks_are_deterministic_and_independent_of_order():
    plan = ScanPlan((Axis("x", 0.0, 2.0), Axis("y", 1e-3, 1e3, "log")), "random", 1000, seed=7, chunk_size=128)
    forward = [plan.chunk(k) for k in range(plan.n_chunks)]
    backward = [plan.chunk(k) for k in reversed(range(plan.n_chunks))][::-1]
    for a, b in zip(forward, backward):
        np.testing.assert_array_equal(a["x"], b["x"])
    allx = np.concatenate([c["x"] for c in forward])
    assert allx.shape == (1000,) and 0 <= allx.min() and allx.max() <= 2
    ally = np.concatenate([c["y"] for c in forward])
    assert 1e-3 <= ally.min() and ally.max() <= 1e3
    # log axis: log10(y) roughly uniform on [-3, 3]
    assert abs(np.mean(np.log10(ally))) < 0.3
    other = ScanPlan(plan.axes, "random", 1000, seed=8, chunk_size=128)
    assert not np.array_equal(other.chunk(0)["x"], forward[0]["x"])


def test_grid_covers_the_product_exactly_once():
    plan = ScanPlan((Axis("x", 0.0, 1.0, points=5), Axis("y", 1.0, 100.0, "log", points=3)), "grid", chunk_size=4)
    result = run_local(plan, paraboloid, progress=False)
    pairs = set(zip(result.columns["x"].round(12), result.columns["y"].round(9)))
    assert len(pairs) == 15 == result.n
    assert sorted({round(v, 9) for v in result.columns["y"]}) == [1.0, 10.0, 100.0]
    np.testing.assert_allclose(result.columns["f"], (result.columns["x"] - 1) ** 2 + 3 * result.columns["y"])


def test_fixed_parameters_and_shape_check():
    plan = ScanPlan((Axis("x", 0.0, 1.0),), "random", 10, fixed=(("y", 2.0),))
    out = evaluate_chunk(plan, 0, paraboloid)
    assert np.all(out["y"] == 2.0)
    with pytest.raises(ValueError):
        evaluate_chunk(plan, 0, lambda c: {"bad": np.zeros(3)})


def test_csv_round_trip_with_numpy():
    plan = ScanPlan((Axis("x", 0.0, 2.0), Axis("y", 0.0, 1.0)), "random", 50, seed=1)
    result = run_local(plan, paraboloid, progress=False)
    import io

    table = np.genfromtxt(io.StringIO(to_csv(result.columns)), delimiter=",", names=True)
    np.testing.assert_array_equal(table["f"], result.columns["f"])  # exact: repr round-trips floats
    assert set(table.dtype.names) == {"x", "y", "f", "positive"}


@pytest.mark.slow
def test_dask_local_cluster_equals_local_run():
    pytest.importorskip("dask.distributed")
    from symflav.numerics.scan import run_dask

    plan = ScanPlan((Axis("x", 0.0, 2.0), Axis("y", 1e-2, 1e2, "log")), "random", 20_000, seed=11, chunk_size=3000)
    local = run_local(plan, paraboloid, progress=False)
    remote = run_dask(plan, paraboloid, workers=2, progress=False)
    assert remote.n == local.n
    for name in local.columns:
        np.testing.assert_array_equal(remote.columns[name], local.columns[name])
