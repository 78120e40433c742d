"""The one place where numba compile flags are set.

``cache=True`` writes compiled kernels beside the sources so a second process starts fast;
``nogil`` lets a caller run simulations in threads.
"""

from __future__ import annotations

import numba

jit = numba.njit(cache=True, nogil=True, error_model="numpy")

