"""Work in a forked process while the caller goes on (``symflav derive`` has two cores to fill).

:func:`start` runs ``fn(*args)`` in a child made with ``fork`` and returns a function that waits
for its value. Without ``fork`` (or if the child fails, or its value does not pickle) the
function computes ``fn(*args)`` in the caller when asked, so results and errors are the same
either way; only the wall time differs. A :class:`Server` is one forked process that prepares
once (slow imports, say, while a core is idle) and then runs the jobs sent to it, in order.

A value of :func:`start` comes back exactly (:mod:`symflav.core.serialize`: SymPy expressions
as built, not evaluated again), with the LaTeX names the child registered for its symbols
(:func:`symflav.core.symbols.latex_entries`): the caller gets what computing it there would
have given.
"""

from __future__ import annotations

import multiprocessing
import pickle
import time
from typing import Any, Callable

from symflav.core import serialize, symbols


def start(fn: Callable[..., Any], *args) -> Callable[[], tuple[Any, float]]:
    """Start ``fn(*args)``; the returned function gives ``(value, seconds spent computing it)``."""
    def here() -> tuple[Any, float]:
        begin = time.perf_counter()
        value = fn(*args)
        return value, time.perf_counter() - begin

    if "fork" not in multiprocessing.get_all_start_methods():
        return here
    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)
    process = context.Process(target=_child, args=(here, send, receive), daemon=True)
    process.start()
    send.close()

    def wait() -> tuple[Any, float]:
        try:
            data = receive.recv_bytes()
            if data:
                exact, latex = pickle.loads(data)
                answer = pickle.loads(exact)
            else:  # it failed there
                answer = None
        except Exception:  # noqa: BLE001  (no answer, or one that does not load: computed here)
            answer = None
        finally:
            receive.close()
            process.join()
        if answer is None:
            return here()
        symbols.restore_latex(latex)
        return answer

    return wait


def _child(here: Callable[[], tuple[Any, float]], send, receive) -> None:
    receive.close()  # the parent's end: if the parent is gone, sending fails instead of blocking
    try:
        data, found, functions = serialize.dumps(here())
        send.send_bytes(pickle.dumps((data, symbols.latex_entries(found, functions))))
    except Exception:  # computed again (and raised) in the parent
        try:
            send.send_bytes(b"")
        except OSError:  # the parent has gone (it stopped on an error): nobody to tell
            pass
    finally:
        send.close()


class Server:
    """A forked process that runs ``prepare()`` once, then the jobs :meth:`submit` sends it.

    Jobs run one after another, in the order sent; :meth:`submit` first collects the answer of
    the job before (so the two processes never both wait to send: no deadlock on full pipes).
    A job whose arguments do not pickle, or when the server is gone, goes to :func:`start`; a
    job that fails in the server is computed in the caller. Results are the same either way.
    """

    def __init__(self, prepare: Callable[[], Any]):
        self._connection = None
        self._answers: dict[int, Any] = {}  # answers not yet taken by their wait()
        self._arrived: set[int] = set()
        self._sent = 0
        if "fork" not in multiprocessing.get_all_start_methods():
            return
        context = multiprocessing.get_context("fork")
        ours, theirs = context.Pipe()
        self._process = context.Process(target=_serve, args=(prepare, theirs, ours), daemon=True)
        self._process.start()
        theirs.close()
        self._connection = ours

    def submit(self, fn: Callable[..., Any], *args) -> Callable[[], tuple[Any, float]]:
        """Like :func:`start`: a function that gives ``(value, seconds spent computing it)``."""
        key = self._sent
        if self._connection is None or (key and self._collect(key - 1) is _GONE):
            return start(fn, *args)
        try:
            self._connection.send((key, fn, args))
        except Exception:  # arguments that do not pickle (then nothing was sent), or no server
            return start(fn, *args)
        self._sent += 1

        def wait() -> tuple[Any, float]:
            answer = self._collect(key)
            self._answers.pop(key, None)
            if answer is None or answer is _GONE:
                begin = time.perf_counter()
                value = fn(*args)
                return value, time.perf_counter() - begin
            return answer

        return wait

    def _collect(self, key: int) -> Any:
        """The answer to job ``key`` (None: it failed there, or was taken; _GONE: no server)."""
        while key not in self._arrived:
            if self._connection is None:
                return _GONE
            try:
                done, answer = self._connection.recv()
            except (EOFError, OSError):
                self.close()
                return _GONE
            self._arrived.add(done)
            self._answers[done] = answer
        return self._answers.get(key)

    def close(self) -> None:
        """Stop the server: it ends after its current job (answers not collected are dropped)."""
        if self._connection is None:
            return
        try:
            self._connection.send(None)
        except OSError:
            pass
        self._connection.close()  # a server blocked sending an answer nobody takes fails, and ends
        self._connection = None
        self._process.join(timeout=30)
        if self._process.is_alive():
            self._process.terminate()
            self._process.join()


_GONE = object()


def _serve(prepare: Callable[[], Any], connection, parents_end) -> None:
    parents_end.close()
    try:
        prepare()
    except Exception:  # the jobs then prepare themselves
        pass
    while True:
        try:
            job = connection.recv()
        except (EOFError, OSError):
            break
        if job is None:
            break
        key, fn, args = job
        try:
            begin = time.perf_counter()
            value = fn(*args)
            answer = (value, time.perf_counter() - begin)
        except Exception:  # computed again (and raised) in the caller
            answer = None
        try:
            connection.send((key, answer))
        except OSError:  # the caller has gone
            break
        except Exception:  # a value that does not pickle (nothing was sent): the caller computes it
            try:
                connection.send((key, None))
            except OSError:
                break
    connection.close()
