"""symflav.core.background: forked work gives the same values and errors as work done in the caller."""

from __future__ import annotations

import os
import time

import pytest

from symflav.core import background

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="forked work needs fork (else it runs in the caller)")


def _prepare():
    os.environ["SYMFLAV_TEST_PREPARED"] = str(os.getpid())


def _where(tag):
    """(tag, the server's pid if prepare() ran in this process, else None, this pid)."""
    return tag, os.environ.get("SYMFLAV_TEST_PREPARED"), os.getpid()


def _fail(message):
    raise ValueError(message)


def _blob(n):
    return b"x" * n


def test_server_runs_jobs_after_prepare_in_its_own_process():
    server = background.Server(_prepare)
    try:
        waits = [server.submit(_where, k) for k in range(3)]
        answers = [w() for w in reversed(waits)][::-1]  # taken in any order
    finally:
        server.close()
    assert "SYMFLAV_TEST_PREPARED" not in os.environ
    for k, ((tag, prepared, pid), seconds) in enumerate(answers):
        assert tag == k and prepared == str(pid) and pid != os.getpid() and seconds >= 0


def test_server_failures_are_the_callers():
    server = background.Server(_prepare)
    try:
        failing = server.submit(_fail, "bad point")
        unpicklable = server.submit(lambda: "computed elsewhere")  # a lambda cannot be sent
        with pytest.raises(ValueError, match="bad point"):
            failing()
        assert unpicklable()[0] == "computed elsewhere"
        large = server.submit(_blob, 4_000_000)  # larger than a pipe's buffer
        assert large()[0] == b"x" * 4_000_000
    finally:
        server.close()


def test_server_gone_means_work_in_the_caller():
    server = background.Server(_prepare)
    pending = server.submit(_where, "pending")
    time.sleep(0.2)
    server._process.terminate()  # the server dies: nothing more comes from it
    server._process.join()
    try:
        value = pending()[0]
        assert value[0] == "pending"
        later = server.submit(_where, "later")()[0]
        assert later[0] == "later" and later[1] is None  # not prepared: computed without the server
    finally:
        server.close()


@pytest.mark.slow
def test_closing_with_an_answer_never_taken_does_not_hang():
    server = background.Server(_prepare)
    server.submit(_blob, 4_000_000)  # its answer fills the pipe; nobody takes it
    time.sleep(0.5)
    start = time.perf_counter()
    server.close()
    assert time.perf_counter() - start < 20 and not server._process.is_alive()


def _unpicklable_value():
    return lambda: None


def test_server_value_that_does_not_pickle_is_computed_in_the_caller():
    server = background.Server(_prepare)
    try:
        value, _ = server.submit(_unpicklable_value)()
        assert callable(value)
        assert server.submit(_where, "after")()[0][1] is not None  # the server still serves
    finally:
        server.close()
