"""DRAM types a device can name (``dram: {preset: hbm2, channels: 8}``); keys given beside
``preset`` override the preset's.

Bandwidth is per channel, from each standard's data rate and channel width. Energy per bit is
the table that Accelergy's CACTI plug-in (Accelergy-Project/accelergy-cacti-plug-in,
``CactiDRAM.type2energy``, used with Timeloop) ships; reads and writes are priced alike there
and here. No DDR4 figure with a source was found, so there is no DDR4 preset: give its
numbers explicitly. Latencies are assumed (a row miss plus the controller).
"""

from __future__ import annotations

DRAM_PRESETS: dict[str, dict] = {
    "lpddr4": {
        "kind": "LPDDR4",
        "bandwidth_bytes_per_s": "6.4GB/s",   # LPDDR4-3200 on a 16-bit channel (JESD209-4)
        "channels": 4,                        # a x64 package: four 16-bit channels
        "burst_bytes": 32,                    # BL16 x 16 bits (JESD209-4)
        "latency_ns": 100,                    # assumed
        "read_pj_per_bit": "8pJ/b",           # Accelergy CACTI plug-in table ("public data")
        "write_pj_per_bit": "8pJ/b",
    },
    "hbm2": {
        "kind": "HBM2",
        "bandwidth_bytes_per_s": "32GB/s",    # 2 Gb/s per pin x 128-bit channel (JESD235A)
        "channels": 8,                        # one stack: eight 128-bit channels
        "burst_bytes": 32,                    # BL2 x 128 bits (JESD235A legacy mode)
        "latency_ns": 100,                    # assumed
        "read_pj_per_bit": "3.9pJ/b",         # Accelergy CACTI plug-in table; O'Connor et
        "write_pj_per_bit": "3.9pJ/b",        # al., MICRO 2017 (Fine-Grained DRAM)
    },
    "gddr5": {
        "kind": "GDDR5",
        "bandwidth_bytes_per_s": "32GB/s",    # 8 Gb/s per pin x 32-bit device (JESD212)
        "channels": 1,
        "burst_bytes": 32,                    # BL8 x 32 bits (JESD212)
        "latency_ns": 100,                    # assumed
        "read_pj_per_bit": "14pJ/b",          # Accelergy CACTI plug-in table
        "write_pj_per_bit": "14pJ/b",
    },
    "ddr3": {
        "kind": "DDR3",
        "bandwidth_bytes_per_s": "12.8GB/s",  # DDR3-1600 x 64-bit channel (JESD79-3)
        "channels": 1,
        "burst_bytes": 64,                    # BL8 x 64 bits (JESD79-3)
        "latency_ns": 100,                    # assumed
        "read_pj_per_bit": "70pJ/b",          # Accelergy CACTI plug-in table, citing
        "write_pj_per_bit": "70pJ/b",         # Chatterjee et al., MICRO 2017
    },
}


def with_dram_preset(data: dict, source: str) -> dict:
    """``data`` (a device dict) with its dram preset, if any, filled in."""
    from accelsim.errors import SpecError
    dram = data.get("dram")
    if not isinstance(dram, dict) or "preset" not in dram:
        return data
    name = dram["preset"]
    if not isinstance(name, str) or name not in DRAM_PRESETS:
        raise SpecError(source, "dram.preset", f"unknown DRAM preset {name!r}; known: "
                        + ", ".join(DRAM_PRESETS))
    merged = {**DRAM_PRESETS[name], **{k: v for k, v in dram.items() if k != "preset"}}
    return {**data, "dram": merged}
