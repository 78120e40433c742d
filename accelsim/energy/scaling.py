"""Technology scaling of energies and the Horowitz (ISSCC 2014) 45 nm reference table.

Rule used for every derived number in devices/: dynamic energy is C·V², and switched capacitance
scales with feature size, so E(node, V) = E45 · (node / 45 nm) · (V / 0.9 V)².
"""

from __future__ import annotations

import math

# M. Horowitz, "Computing's energy problem (and what we can do about it)", ISSCC 2014, 45 nm 0.9 V.
HOROWITZ_45NM_PJ: dict[str, float] = {
    "int8_add": 0.03,
    "int32_add": 0.1,
    "int8_mul": 0.2,
    "int32_mul": 3.1,
    "fp16_add": 0.4,
    "fp32_add": 0.9,
    "fp16_mul": 1.1,
    "fp32_mul": 3.7,
    "sram_64b_read_8KB": 10.0,
    "sram_64b_read_32KB": 20.0,
    "sram_64b_read_1MB": 100.0,
    "dram_64b_access_low": 1300.0,
    "dram_64b_access_high": 2600.0,
}

REFERENCE_NODE_NM = 45.0
REFERENCE_VOLTAGE_V = 0.9


def scale_energy(pj_at_45nm: float, *, node_nm: float, voltage_v: float) -> float:
    """Energy of the same operation at ``node_nm`` and ``voltage_v`` (C·V² rule above)."""
    return (pj_at_45nm * (node_nm / REFERENCE_NODE_NM)
            * (voltage_v / REFERENCE_VOLTAGE_V) ** 2)


def sram_read_64b_45nm(size_bytes: float) -> float:
    """64-bit SRAM read energy at 45 nm for an array of ``size_bytes``.

    Log-linear interpolation between Horowitz's 8 KB, 32 KB and 1 MB points (energy grows by a
    fixed amount per doubling of capacity), extrapolated linearly in log2(size) above 1 MB.
    Below 8 KB the energy scales with the square root of the capacity (bit and word lines as
    long as the side of a square array), which is also what the 8 KB -> 32 KB step shows
    (4x the capacity, 2x the energy); log-linear extrapolation would go negative below 2 KB.
    """
    points = [(8 * 1024, 10.0), (32 * 1024, 20.0), (1024 * 1024, 100.0)]
    if size_bytes < points[0][0]:
        return points[0][1] * math.sqrt(size_bytes / points[0][0])
    x = math.log2(size_bytes)
    (s0, e0), (s1, e1) = (points[0], points[1]) if size_bytes <= points[1][0] else (points[1],
                                                                                   points[2])
    x0, x1 = math.log2(s0), math.log2(s1)
    return e0 + (e1 - e0) * (x - x0) / (x1 - x0)
