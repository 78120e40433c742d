"""Layer by layer against ZigZag's analog-CIM example (aimc) on ResNet-18: energy by level,
ADC conversions and cycles per layer.

    python benchmarks/zigzag_aimc.py          # prints the tables of docs/validation.md

ZigZag's figures are in benchmarks/data/zigzag_aimc_resnet18.json, with the call that made
them. accelsim runs ZigZag's hardware (inputs/hardware/aimc.yaml) as a device: one 128-row
SRAM macro of 128 8-bit weights per row, each weight in 8 one-bit columns with an 8-bit ADC
per column, 2-bit input slices (4 input cycles), a 256 kB buffer, DRAM of 64 bits per cycle,
28 nm, 0.9 V, and ZigZag's clock for this array (its tclk, 14.07 ns: the ADC's delay).
Prices that ZigZag states as numbers or closed formulas are given as such: its memories'
per-access costs (buffer 416.16 / 378.4 pJ per 512-bit read / write, DRAM 700 / 750 pJ per
64 bits), an ADC conversion (100 fF per bit + 0.001 fF x 4^bits, times V²: 0.701 pJ at 8 bits)
and a 2-bit DAC drive (50 fF per bit, times V²: 0.081 pJ). The cells, lines and adders keep
accelsim's own models. Execution is layer by layer, ZigZag's assumption. Nothing is fitted.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import accelsim  # noqa: E402
from accelsim.energy.table import action_label, action_name  # noqa: E402
from benchmarks._common import (  # noqa: E402
    microjoules,
    peer_cycles,
    print_layer_table,
    print_level_table,
)

VDD = 0.9
ADC_PJ = (100 * 8 + 0.001 * 4 ** 8) * VDD ** 2 / 1000     # ZigZag imc_array.get_adc_cost
DAC_PJ = 50e-3 * 2 * VDD ** 2                               # ZigZag imc_array.get_dac_cost
TCLK_NS = 14.07244                                          # ZigZag's clock for this array

DEVICE = {
    "version": 1, "name": "zigzag-aimc",
    "description": "ZigZag's aimc example hardware (inputs/hardware/aimc.yaml)",
    "technology_nm": 28, "voltage_v": VDD, "clock_hz": 1e9 / TCLK_NS,
    "cim": {"tiles": 1, "rows": 128, "cols": 1024, "cell_bits": 1, "weight_bits": 8,
            "input_bits": 8, "output_bits": 8, "dac_bits": 2, "adc_bits": 8,
            "adcs_per_tile": 1024, "psum_bits": 16, "signed_weights": "cell",
            "write_cycles_per_row": 1, "cell": "sram-charge",
            "adc_pj": ADC_PJ, "dac_pj": DAC_PJ},
    "global_buffer": {"size_bytes": 262144, "word_bits": 512, "banks": 1, "read_pj": 416.16,
                      "write_pj": 378.4, "leakage_mw": 0.0},
    "interconnect": {"kind": "bus", "width_bits": 512, "latency_cycles": 1, "pj_per_bit": 0.0},
    "dram": {"kind": "DDR3", "bandwidth_bytes_per_s": 8e9 / TCLK_NS, "latency_ns": 0,
             "burst_bytes": 8, "read_pj_per_bit": 700 / 64, "write_pj_per_bit": 750 / 64},
    "digital": {"lanes": 64, "add_pj": 0.0, "mul_pj": 0.0, "compare_pj": 0.0,
                "leakage_mw": 0.0},
}

LEVELS = ("ADC", "DAC", "array (cells, lines, adders)", "weights into cells",
          "input/output registers", "SRAM", "DRAM weights", "DRAM inputs", "DRAM outputs")
# accelsim's (component, action) labels and action names -> levels
LABELS = {"adc/convert": "ADC", "dac/convert": "DAC", "array/read": LEVELS[2],
          "array/signal": LEVELS[2], "array/column": LEVELS[2], "array/leakage": LEVELS[2],
          "shift_add/add": LEVELS[2], "shift_add/clock": LEVELS[2], "accumulator/add": LEVELS[2],
          "array/write": "weights into cells", "global_buffer/read": "SRAM",
          "global_buffer/write": "SRAM"}
DRAM_OPERANDS = {"weights": "DRAM weights", "inputs": "DRAM inputs", "outputs": "DRAM outputs",
                 "psums": "DRAM outputs"}


def level_of(action: int) -> str | None:
    component, what = action_label(action)
    if component == "dram" and what in ("read", "write"):
        return DRAM_OPERANDS[action_name(action).rsplit("_", 1)[1]]
    return LABELS.get(f"{component}/{what}")


def zigzag_levels(z: dict) -> dict[str, float]:
    array = z["array_pj"]
    return {"ADC": array["adcs"], "DAC": array["dacs"],
            LEVELS[2]: sum(v for k, v in array.items() if k not in ("adcs", "dacs")),
            "weights into cells": z["cells_W_pj"],
            "input/output registers": z["rf_1B_I_pj"] + z["rf_2B_O_pj"],
            "SRAM": z["sram_256KB_I_pj"] + z["sram_256KB_O_pj"],
            "DRAM weights": z["dram_W_pj"], "DRAM inputs": z["dram_I_pj"],
            "DRAM outputs": z["dram_O_pj"]}


def compare() -> tuple[dict, dict]:
    reference = json.loads((ROOT / "benchmarks" / "data" / "zigzag_aimc_resnet18.json")
                           .read_text())["layers"]
    device = accelsim.device_from_dict(DEVICE, source="benchmarks/zigzag_aimc.py")
    res = accelsim.simulate("resnet18", device, execution="layer_by_layer")
    levels = {action: level_of(action) for action in range(res.action_counts.shape[1])}
    spent = res.action_counts.sum(axis=0) * res.prices_pj
    missing = [action_label(a) for a, level in levels.items() if level is None and spent[a] > 0]
    assert not missing, f"actions with energy but no level: {missing}"
    convert = [a for a in levels if action_label(a) == ("adc", "convert")][0]
    ours, theirs = {}, {}
    for layer, counts in zip(res.layers, res.action_counts):
        if layer.name not in reference:
            continue
        row = dict.fromkeys(LEVELS, 0.0)
        for action, level in levels.items():
            if level is not None:
                row[level] += counts[action] * res.prices_pj[action]
        ours[layer.name] = {**row, "cycles": layer.span_cycles,
                            "conversions": counts[convert]}
        z = reference[layer.name]
        theirs[layer.name] = {**zigzag_levels(z), "cycles": peer_cycles(z),
                              "conversions": z["array_pj"]["adcs"] / ADC_PJ}
    return ours, theirs


def main() -> None:
    ours, theirs = compare()
    conv = sum(row["conversions"] for row in ours.values())
    conv_z = sum(row["conversions"] for row in theirs.values())
    print_level_table(ours, theirs, LEVELS, "ZigZag", f" ADC conversions: {conv:.4g} against "
                      f"{conv_z:.4g} ({conv / conv_z - 1:+.0%}).")
    print_layer_table(ours, theirs, LEVELS, "ZigZag", [
        ("ADC conversions", "conversions", lambda v: f"{v:.3g}"),
        ("DRAM weights µJ", "DRAM weights", microjoules),
        ("DRAM inputs µJ", "DRAM inputs", microjoules)])


if __name__ == "__main__":
    main()
