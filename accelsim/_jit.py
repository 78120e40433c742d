"""The one place where numba compile flags are set, and where its cache lives.

``cache=True`` keeps compiled kernels on disk so a second process starts fast. The cache goes
to a per-user folder ($XDG_CACHE_HOME/accelsim/numba, else ~/.cache/accelsim/numba), never into
the installed package (numba's cache holds pickles: a shared, writable package folder would let
one user plant code that another loads). $NUMBA_CACHE_DIR, when set, wins.
``nogil`` lets a caller run simulations in threads.

Threads. The parallel kernels run under ``balanced()``: the loop is taken in dynamic chunks,
on one thread per usable core, or on one more when another process is running (seen in
/proc/loadavg at the call). A busy neighbour then shares the cores among four runnable
threads, three of them ours, instead of three, and the chunks go to whichever thread runs.
ResNet-18's value mode took 1.17-1.30x its idle time with a busy loop on the other core,
against 1.7-2.0x with one thread per core. An extra thread on an idle machine costs 8-15 %,
hence only when needed. So numba's pool gets that extra thread: $NUMBA_NUM_THREADS, when
set, wins, and when numba was imported before this module the pool has its default size.
After each kernel the calling thread's default goes back to one thread per core, for the
caller's own kernels.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

_CORES = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
if "numba" not in sys.modules:
    # Only before numba reads its configuration: numba re-reads the environment at every
    # compilation and refuses a thread count that differs from its launched pool's.
    os.environ.setdefault("NUMBA_NUM_THREADS", str(_CORES + 1))

import numba  # noqa: E402  (after the pool's size is set)

prange = numba.prange      # kernels import it from here, so that this module sets numba up


def _cache_dir() -> str:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return str(Path(base) / "accelsim" / "numba")


if not os.environ.get("NUMBA_CACHE_DIR"):
    numba.config.CACHE_DIR = _cache_dir()

jit = numba.njit(cache=True, nogil=True, error_model="numpy")


# Kernels whose outer loop is a numba.prange over independent vectors (thread-private writes).
# fastmath lets LLVM reorder sums: exact here because crossbar column sums are integers far below
# 2**53, and deterministic because each vector is computed by one thread in a fixed order.
jit_parallel = numba.njit(cache=True, nogil=True, error_model="numpy", parallel=True,
                          fastmath=True)


# Parallel kernels whose float results must equal numpy's bit for bit (quantization divides and
# rounds exactly as numpy does): no fastmath, so no reciprocals or reassociation.
jit_parallel_exact = numba.njit(cache=True, nogil=True, error_model="numpy", parallel=True)


def _others_running() -> bool:
    """Whether a thread of another process is running or waiting for a core now: the runnable
    count of /proc/loadavg less this process's runnable threads (its kernel threads may still
    spin after a parallel loop). Linux; elsewhere, assumed not."""
    try:
        with open("/proc/loadavg") as stat:
            runnable = int(stat.read().split()[3].split("/")[0])
        ours = 0
        for task in os.listdir("/proc/self/task"):
            with open(f"/proc/self/task/{task}/stat") as stat:
                ours += stat.read().rsplit(")", 1)[1].split()[0] == "R"
        return runnable > ours
    except (OSError, ValueError, IndexError):
        return False


@contextmanager
def balanced(iterations: int) -> Iterator[None]:
    """Run the parallel kernel called inside over a prange of ``iterations`` in dynamic chunks
    of about a sixteenth of each thread's share, on one thread per core, or on one more when
    another process is running (as far as numba's pool allows). Results do not depend on it:
    each iteration is one thread's, in a fixed order."""
    previous = numba.get_num_threads()
    threads = _CORES + 1 if _others_running() else _CORES
    try:
        numba.set_num_threads(threads)
    except ValueError:        # a smaller pool (numba started before this module, or the user's)
        threads = previous
    try:
        with numba.parallel_chunksize(max(1, iterations // (16 * threads))):
            yield
    finally:
        numba.set_num_threads(min(previous, _CORES))
