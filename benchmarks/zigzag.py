"""Layer by layer against ZigZag's tpu_like example on ResNet-18: energy per memory level and
cycles per layer.

    python benchmarks/zigzag.py          # prints the tables of docs/validation.md

ZigZag's figures are in benchmarks/data/zigzag_tpu_like_resnet18.json, with the call that
made them. accelsim runs the same hardware with ZigZag's own prices: a 32 x 32
weight-stationary array of 8-bit MACs (0.04 pJ), a weight register file per PE (0.095 pJ per
access) holding 128 weights (ZigZag's rf_128B: 1024 bits of 8-bit weights, so K folds run in
groups of 128 and keep their partial sums in the array), an output register per PE
(0.021 pJ per access: priced here as the array's PE-to-PE moves, of which a
weight-stationary array makes two per MAC, as ZigZag's output register makes a read and a
write), a 2 MB SRAM (416.16 pJ per 2048-bit read, 378.4 per
write) and DRAM at 700 / 750 pJ per 64-bit read / write and 64 bits per cycle. Execution is
layer by layer, ZigZag's assumption. Nothing is fitted.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import accelsim  # noqa: E402
from accelsim.spec import load_device  # noqa: E402
from benchmarks._common import (  # noqa: E402
    microjoules,
    peer_cycles,
    per_level,
    print_layer_table,
    print_level_table,
)

LEVELS = ("MAC", "weight RF", "output register", "SRAM", "DRAM")
ZIGZAG_KEYS = {"MAC": "mac_pj", "weight RF": "weight_rf_pj", "output register": "output_rf_pj",
               "SRAM": "sram_pj", "DRAM": "dram_pj"}


def tpu_like():
    return load_device("eyeriss-like").replace({
        "clock_hz": 1e9, "systolic.rows": 32, "systolic.cols": 32, "systolic.dataflow": "ws",
        "systolic.operand_bits": 8, "systolic.accumulator_bits": 16, "systolic.mac_pj": 0.04,
        "systolic.rf_access_pj": 0.095, "systolic.pe_hop_pj": 0.021,
        "systolic.leakage_mw": 0.0, "systolic.zero_policy": "none",
        "systolic.clock_pj": 0.0,            # ZigZag prices no clock network
        "systolic.stationary_per_pe": 128,
        "global_buffer.size_bytes": 2 * 2 ** 20, "global_buffer.word_bits": 2048,
        "global_buffer.banks": 1, "global_buffer.read_pj": 416.16,
        "global_buffer.write_pj": 378.4, "global_buffer.leakage_mw": 0.0,
        "interconnect.pj_per_bit": 0.0, "interconnect.width_bits": 2048,
        "dram.read_pj_per_bit": 700 / 64, "dram.write_pj_per_bit": 750 / 64,
        "dram.bandwidth_bytes_per_s": 8e9, "dram.burst_bytes": 8, "dram.latency_ns": 0,
        "digital.add_pj": 0.0, "digital.mul_pj": 0.0, "digital.compare_pj": 0.0,
        "digital.leakage_mw": 0.0})


# (component, action) labels -> ZigZag's levels
LEVEL_OF = {"systolic/mac": "MAC", "systolic/register_file": "weight RF",
            "systolic/pe_to_pe": "output register", "global_buffer": "SRAM",
            "dram/read": "DRAM", "dram/write": "DRAM"}


def compare() -> tuple[dict, dict]:
    reference = json.loads((ROOT / "benchmarks" / "data" / "zigzag_tpu_like_resnet18.json")
                           .read_text())["layers"]
    res = accelsim.simulate("resnet18", tpu_like(), execution="layer_by_layer")
    energy = per_level(res, LEVEL_OF, reference)
    ours, theirs = {}, {}
    for layer in res.layers:
        if layer.name not in reference:
            continue
        ours[layer.name] = {**{lv: energy[layer.name][lv][0] for lv in LEVELS},
                            "cycles": layer.span_cycles}
        z = reference[layer.name]
        theirs[layer.name] = {**{lv: z[ZIGZAG_KEYS[lv]] for lv in LEVELS},
                              "cycles": peer_cycles(z)}
    return ours, theirs


def main() -> None:
    ours, theirs = compare()
    print_level_table(ours, theirs, LEVELS, "ZigZag")
    print_layer_table(ours, theirs, LEVELS, "ZigZag",
                      [("SRAM µJ", "SRAM", microjoules), ("DRAM µJ", "DRAM", microjoules)])


if __name__ == "__main__":
    main()
