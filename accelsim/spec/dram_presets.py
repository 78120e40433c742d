"""DRAM types a device can name (``dram: {preset: hbm2, channels: 8}``); keys given beside
``preset`` override the preset's.

Bandwidth is per channel, from each standard's data rate and channel width. Latencies are
assumed (a row miss plus the controller).

Energy per bit of lpddr4, hbm2, gddr5 and ddr3 is the table that Accelergy's CACTI plug-in
(Accelergy-Project/accelergy-cacti-plug-in, ``CactiDRAM.type2energy``, used with Timeloop)
ships: one all-in figure per bit, reads and writes priced alike, no row-buffer model.

ddr4 is worked out from a datasheet instead, with Micron's method (TN-40-07, "Calculating
Memory Power for DDR4 SDRAM"): the IDD currents and timings of Micron's 4 Gb DDR4-2400 x8 die
as DRAMPower ships them (tukl-msd/DRAMPower, memspecs/MICRON_4Gb_DDR4-2400_8bit_A.json), eight
dies to a 64-bit rank. So it has a row-buffer model: reads and writes price the column access
(IDD4R/IDD4W above active standby, over one burst) and each row opened costs an activate plus
precharge (IDD0 above the standby it replaces, over tRC). It counts the DRAM dies' core
energy only: the VPP rail, I/O termination, background and refresh power are left out (the
memspec gives no IPP3N, and termination depends on the board), so it is a lower bound and
reads cheaper than the all-in figures above.
"""

from __future__ import annotations

# Micron 4 Gb DDR4-2400 x8 (DRAMPower memspec MICRON_4Gb_DDR4-2400_8bit_A): currents in mA,
# timings in clock cycles of 1/1200 MHz.
_DDR4_2400_X8 = {"vdd": 1.2, "idd0": 60.75, "idd2n": 38.25, "idd3n": 44.0, "idd4r": 184.5,
                 "idd4w": 168.75, "ras": 39, "rc": 55, "clock_mhz": 1200, "columns": 1024,
                 "dq": 8, "burst_length": 8}


def _energies_from_idd(die: dict, dies: int) -> dict[str, float]:
    """Per-bit read and write energy and per-row activate energy of a rank of ``dies`` dies
    (TN-40-07: mA x V x ns = pJ)."""
    tck_ns = 1e3 / die["clock_mhz"]
    burst_ns = die["burst_length"] / 2 * tck_ns            # two transfers per clock
    bits_per_burst = die["dq"] * die["burst_length"]
    activate = die["vdd"] * (die["idd0"] * die["rc"] - die["idd3n"] * die["ras"]
                             - die["idd2n"] * (die["rc"] - die["ras"])) * tck_ns
    return {
        "read_pj_per_bit": die["vdd"] * (die["idd4r"] - die["idd3n"]) * burst_ns
        / bits_per_burst,
        "write_pj_per_bit": die["vdd"] * (die["idd4w"] - die["idd3n"]) * burst_ns
        / bits_per_burst,
        "activate_pj": dies * activate,
        "row_bytes": dies * die["columns"] * die["dq"] // 8,
    }

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
    "ddr4": {
        "kind": "DDR4",
        "bandwidth_bytes_per_s": "19.2GB/s",  # DDR4-2400 x 64-bit channel (JESD79-4)
        "channels": 1,
        "burst_bytes": 64,                    # BL8 x 64 bits (JESD79-4)
        "latency_ns": 100,                    # assumed
        "page_policy": "open",
        # Micron DDR4-2400 x8 IDD figures (see the module docstring), eight dies per rank:
        # 8.78 / 7.80 pJ/bit, 8,106 pJ per 8 KiB row opened
        **_energies_from_idd(_DDR4_2400_X8, dies=8),
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
