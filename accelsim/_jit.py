"""The one place where numba compile flags are set.

``cache=True`` writes compiled kernels beside the sources so a second process starts fast;
``nogil`` lets a caller run simulations in threads.
"""

from __future__ import annotations

import numba

jit = numba.njit(cache=True, nogil=True, error_model="numpy")


# Kernels whose outer loop is a numba.prange over independent vectors (thread-private writes).
# fastmath lets LLVM reorder sums: exact here because crossbar column sums are integers far below
# 2**53, and deterministic because each vector is computed by one thread in a fixed order.
jit_parallel = numba.njit(cache=True, nogil=True, error_model="numpy", parallel=True,
                          fastmath=True)
