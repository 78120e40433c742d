"""SRAM arrays: energy per access, leakage, area and access time by capacity, word width and
node, fitted to CACTI 7 (tools/data/cacti_sram.csv: plain single-bank, single-port SRAMs with
ITRS low-standby-power devices, 22-90 nm, 64 B-2 MB, 8-512-bit words; see tools/fit_sram.py).

Each quantity q is exp(features · β) with features 1, s, w, n, s², s·w, w² (s = ln bits,
w = ln word bits, n = ln node nm). Dynamic energies are C·V² (the fit is of E / V_CACTI²) and
leakage I·V (of P / V_CACTI), so both follow the device's supply. Outside the fitted range the
model keeps the edge's slope in capacity (a power law) and scales energy per access in
proportion to the word width (bits read); nodes outside 22-90 nm are extrapolated along the
fitted node exponent.

Banks: a buffer of ``banks`` banks is that many SRAMs of size/banks each. Ports: a second port
(``ports: 2``) makes each cell 8T instead of 6T; the area is taken 30 % larger (assumed, the
8T/6T cell area ratio of published 8T designs) and the energy per access unchanged.

Errors against CACTI (tools/fit_sram.py): read energy median 12 %, worst 0.57-1.74x on the
held-out 45 nm points; against Horowitz's published 45 nm 64-bit reads see docs/validation.md.
"""

from __future__ import annotations

import math

from accelsim.models import outside_data
from accelsim.models.technology import Technology

# tools/fit_sram.py, fitted on tools/data/cacti_sram.csv (22, 32, 65, 90 nm).
_BETA = {
    "read_nj": (-16.8493, 0.582803, -0.0964692, 1.20218, 0.000862156, -0.0166458, 0.105194),
    "write_nj": (-16.0742, 0.377164, 0.0943718, 1.29486, 0.00535669, -0.0127366, 0.094328),
    "leakage_mw": (-11.6815, 0.75736, -0.174338, -0.79027, 0.00737264, -0.000175128,
                   0.0194204),
    "area_mm2": (-20.5592, 0.765619, 0.0266273, 1.95127, 0.0131987, -0.0385377, 0.0700744),
    "access_ns": (-3.46729, -0.143282, -0.06227, 0.915682, 0.0153932, 0.00130122, 0.00220409),
}
SIZE_RANGE = (64 * 8, 2097152 * 8)        # bits covered by the CACTI points
WIDTH_RANGE = (8, 512)
NODE_RANGE = (22, 90)
DUAL_PORT_AREA = 1.3                       # assumed: 8T vs 6T cell (see module docstring)


def _log_q(name: str, bits: float, width: float, node: float) -> float:
    b = _BETA[name]
    s, w, n = math.log(bits), math.log(width), math.log(node)
    return b[0] + b[1] * s + b[2] * w + b[3] * n + b[4] * s * s + b[5] * s * w + b[6] * w * w


def _quantity(name: str, size_bytes: float, word_bits: float, node_nm: float) -> float:
    bits = max(size_bytes * 8.0, 1.0)
    width = min(max(word_bits, WIDTH_RANGE[0]), WIDTH_RANGE[1])
    clamped = min(max(bits, SIZE_RANGE[0]), SIZE_RANGE[1])
    value = _log_q(name, clamped, width, node_nm)
    if clamped != bits:      # keep the edge's slope d(log q)/d(log bits)
        b = _BETA[name]
        slope = b[1] + 2 * b[4] * math.log(clamped) + b[5] * math.log(width)
        value += slope * (math.log(bits) - math.log(clamped))
    result = math.exp(value)
    if name in ("read_nj", "write_nj") and width != word_bits:
        result *= word_bits / width         # energy in proportion to the bits accessed
    return result


def read_pj(size_bytes: float, word_bits: float, tech: Technology) -> float:
    """Energy of reading one word, pJ."""
    return _quantity("read_nj", size_bytes, word_bits, tech.node_nm) * 1e3 * tech.voltage_v ** 2


def write_pj(size_bytes: float, word_bits: float, tech: Technology) -> float:
    """Energy of writing one word, pJ."""
    return _quantity("write_nj", size_bytes, word_bits, tech.node_nm) * 1e3 * tech.voltage_v ** 2


def leakage_mw(size_bytes: float, word_bits: float, tech: Technology) -> float:
    """Static power of the array, mW."""
    return _quantity("leakage_mw", size_bytes, word_bits, tech.node_nm) * tech.voltage_v


def area_mm2(size_bytes: float, word_bits: float, tech: Technology, ports: int = 1) -> float:
    """Area of the array with its decoders, sense amplifiers and drivers, mm²."""
    area = _quantity("area_mm2", size_bytes, word_bits, tech.node_nm)
    return area * (DUAL_PORT_AREA if ports == 2 else 1.0)


def access_ns(size_bytes: float, word_bits: float, tech: Technology) -> float:
    """Access time, ns: CACTI's at its supply for the node, slowed as gates are below the
    node's nominal supply (Technology.delay_factor)."""
    return _quantity("access_ns", size_bytes, word_bits, tech.node_nm) * tech.delay_factor


def coverage(size_bytes: float, word_bits: float, node_nm: float) -> str:
    """"" when an SRAM of this size, word and node lies among the CACTI points the model is
    fitted on, else a note saying what is extrapolated (for the figures' provenance)."""
    return outside_data("the CACTI points", [
        (size_bytes * 8, SIZE_RANGE, f"{size_bytes:g} B (points: {SIZE_RANGE[0] // 8} B-"
                                     f"{SIZE_RANGE[1] // 8 // 2 ** 20} MiB)"),
        (word_bits, WIDTH_RANGE,
         f"{word_bits:g}-bit words (points: {WIDTH_RANGE[0]}-{WIDTH_RANGE[1]})"),
        (node_nm, NODE_RANGE, f"{node_nm:g} nm (points: {NODE_RANGE[0]}-{NODE_RANGE[1]} nm)")])
