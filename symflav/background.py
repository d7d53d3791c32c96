"""Work in a forked process while the caller goes on (``symflav derive`` has two cores to fill).

:func:`start` runs ``fn(*args)`` in a child made with ``fork`` and returns a function that waits
for its value. Without ``fork`` (or if the child fails, or its value does not pickle) the
function computes ``fn(*args)`` in the caller when asked, so results and errors are the same
either way; only the wall time differs.
"""

from __future__ import annotations

import time
from typing import Any, Callable


def start(fn: Callable[..., Any], *args) -> Callable[[], tuple[Any, float]]:
    """Start ``fn(*args)``; the returned function gives ``(value, seconds spent computing it)``."""
    import multiprocessing

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
            answer = receive.recv()
        except EOFError:
            answer = None
        finally:
            receive.close()
            process.join()
        return answer if answer is not None else here()

    return wait


def _child(here: Callable[[], tuple[Any, float]], send, receive) -> None:
    receive.close()  # the parent's end: if the parent is gone, sending fails instead of blocking
    try:
        answer = here()
        send.send(answer)
    except Exception:  # computed again (and raised) in the parent
        try:
            send.send(None)
        except OSError:  # the parent has gone (it stopped on an error): nobody to tell
            pass
    finally:
        send.close()
