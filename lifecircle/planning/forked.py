"""Work handed to a forked child process while this one goes on (the report's pictures while the map is written).

Drawing with matplotlib and writing the map's HTML both hold Python's lock, so threads would take turns; a forked
child shares what this process has read without copying it and runs on another core. Where ``fork`` is missing (not
POSIX), the machine has one core, or the child cannot start, the work runs in this process when its result is
asked for: the result is the same either way.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from multiprocessing import get_all_start_methods, get_context
from typing import TypeVar

from lifecircle.geo.cores import machine_cores

log = logging.getLogger(__name__)

T = TypeVar("T")


def start_in_child(work: Callable[[], T]) -> Callable[[], T]:
    """Start ``work()`` in a forked child process; the returned function waits for its result.

    ``work`` and its result are pickled (a module-level function, or a ``functools.partial`` of one). An exception
    ``work`` raises is raised again by the returned function, as it would be in this process. A child that dies
    without an answer (killed, out of memory) is logged and the work is done again here.
    """
    if "fork" not in get_all_start_methods() or machine_cores() < 2:
        return work
    pool = ProcessPoolExecutor(max_workers=1, mp_context=get_context("fork"))
    try:
        future: Future[T] = pool.submit(work)
    except (BrokenProcessPool, OSError) as exc:
        pool.shutdown(wait=False)
        log.debug("no child process for %s (%s): done here", work, exc)
        return work

    def result() -> T:
        try:
            return future.result()
        except BrokenProcessPool as exc:
            log.debug("the child process of %s died (%s): done here", work, exc)
            return work()
        finally:
            pool.shutdown(wait=True, cancel_futures=True)

    return result
