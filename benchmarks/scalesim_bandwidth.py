"""Bandwidth-limited operand streaming against SCALE-Sim's user-bandwidth mode.

    python benchmarks/scalesim_bandwidth.py        # prints the table of docs/validation.md

SCALE-Sim 3.0.0 ran a GEMM and conv suite on a 32 x 32 weight-stationary array with 64 kB
double-buffered SRAMs per operand, at 10 and 100 words per cycle from DRAM (its figures and
the spec are in benchmarks/data/scalesim_bandwidth.json; benchmarks/scalesim_reference.py made
them). accelsim runs each layer alone, layer by layer, on the same array with 8-bit words, a
192 kB global buffer (the three SRAMs) and three DRAM channels of 10 or 100 bytes per cycle
each (one per SCALE-Sim SRAM, each of which has its own DRAM interface) with no latency; the
buffer and the bus are wide enough not to limit. Nothing is fitted.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import accelsim  # noqa: E402
from accelsim.spec import load_device  # noqa: E402
from accelsim.workload import Conv2d, Input, Linear, Workload  # noqa: E402


def device(spec: dict, bandwidth: int):
    return load_device("eyeriss-like").replace({
        "clock_hz": 1e9, "systolic.rows": spec["rows"], "systolic.cols": spec["cols"],
        "systolic.dataflow": spec["dataflow"], "systolic.operand_bits": 8,
        "systolic.accumulator_bits": 8,
        "global_buffer.size_bytes": 3 * spec["sram_kb"] * 1024, "global_buffer.word_bits": 8,
        "global_buffer.banks": 4096, "interconnect.width_bits": 1 << 15,
        "dram.bandwidth_bytes_per_s": bandwidth * 1e9, "dram.latency_ns": 0,
        "dram.burst_bytes": 1, "dram.channels": 3})


def layers(spec: dict):
    for name, h, w, fh, fw, c, f, s in spec["convs"]:
        yield "convs", name, Workload.from_layers(name, [
            Input("in", shape=(c, h, w)),
            Conv2d("layer", ("in",), out_channels=f, kernel=(fh, fw), stride=(s, s))])
    for name, m, n, k in spec["gemms"]:
        yield "gemms", name, Workload.from_layers(name, [Input("in", shape=(k, m, 1)),
                                                         Linear("layer", ("in",), n)])


def main() -> None:
    data = json.loads((ROOT / "benchmarks" / "data" / "scalesim_bandwidth.json").read_text())
    spec = data["spec"]
    print("| layer | words/cycle | accelsim cycles | SCALE-Sim cycles (stalls) | error "
          "| accelsim DRAM words | SCALE-Sim DRAM words |")
    print("|---|---|---|---|---|---|---|")
    index = {"convs": 0, "gemms": 0}
    for kind, name, workload in layers(spec):
        i = index[kind]
        index[kind] += 1
        for bandwidth in (10, 100):
            theirs = data["results"][f"bandwidth_{bandwidth}"][kind][i]
            res = accelsim.simulate(workload, device(spec, bandwidth),
                                    execution="layer_by_layer")
            dram = sum(v for k, v in res.action_totals.items()
                       if k.startswith(("dram_read_bit", "dram_write_bit"))) / 8
            words = (theirs["dram_ifmap_reads"] + theirs["dram_filter_reads"]
                     + theirs["dram_ofmap_writes"])
            print(f"| {name} | {bandwidth} | {res.cycles:,} | {theirs['total']:,} "
                  f"({theirs['stalls']:,}) | {res.cycles / theirs['total'] - 1:+.0%} | "
                  f"{dram:,.0f} | {words:,} |")


if __name__ == "__main__":
    main()
