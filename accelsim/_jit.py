"""The one place where numba compile flags are set, and where its cache lives.

``cache=True`` keeps compiled kernels on disk so a second process starts fast. The cache goes
to a per-user folder ($XDG_CACHE_HOME/accelsim/numba, else ~/.cache/accelsim/numba), never into
the installed package (numba's cache holds pickles: a shared, writable package folder would let
one user plant code that another loads). $NUMBA_CACHE_DIR, when set, wins.
``nogil`` lets a caller run simulations in threads.
"""

from __future__ import annotations

import os
from pathlib import Path

import numba


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
