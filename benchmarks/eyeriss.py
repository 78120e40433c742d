"""Row stationary against Eyeriss: the chip's AlexNet layers, and the energy by level against
nn_dataflow's reproduction of the Eyeriss analysis.

    python benchmarks/eyeriss.py          # prints the Markdown tables of docs/validation.md

1. The chip (Chen et al., JSSC 52(1) 2017, Table V: AlexNet CONV1-5, batch 4, 200 MHz, 1 V):
   devices/eyeriss.yaml, written from the published configuration, runs AlexNet layer by
   layer (as the chip does) at batch 4. Latency is the layer's span; power is its on-chip
   energy (dynamic without DRAM's, plus the chip's leakage over the span) over the span, as
   the chip's power is measured at its supply. Nothing is fitted to the
   table. The chip's figures are for real AlexNet data: the runs gate the shares of zero
   inputs that Table V reports (simulate's input_zeros; the data itself is random), and the
   PEs' flip-flops are clocked (systolic.clock_pj). The chip's run-length compression of
   activations in DRAM and its clock tree's wires are not modelled. Power is shown at the
   device's own prices (the component models), dense as well as with the zeros, and at
   Eyeriss's published per-level costs (ISCA 2016: register file 1x, PE-to-PE 2x, buffer
   6x a 16-bit MAC, the MAC from the model; no clock of its own), which separates the
   counts and timing from the component models.
2. Whole networks (the abstract: AlexNet's CONV layers at batch 4, VGG-16's at batch 3):
   frames/s, on-chip power and DRAM accesses per MAC. VGG-16 is held out: no decision here
   was made looking at it.
3. Energy by level: nn_dataflow (Gao et al.), an open reimplementation of the Eyeriss
   analysis framework, on AlexNet's CONV layers at batch 16 on 16 x 16 PEs with the ISCA 2016
   normalized costs (MAC 1, register file 1, array 2, buffer 6, DRAM 200 per 16-bit access).
   Its figures are in benchmarks/data/nn_dataflow_alexnet.json with the command that made
   them. accelsim runs the same array with the same prices (layer by layer, as nn_dataflow
   assumes).
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import accelsim  # noqa: E402
from accelsim.energy.table import action_label  # noqa: E402
from accelsim.spec import load_device  # noqa: E402
from benchmarks._common import per_level  # noqa: E402

# JSSC 2017, Table V (batch 4, 1 V, 200 MHz): power (mW), latency (ms), buffer and DRAM data
# accessed (MB). As transcribed (OCR) in github.com/cucapra/fodlam, data/eyeriss-alexnet.csv;
# consistent with the abstract (278 mW, 34.7 frames/s = 4 / 115.3 ms, 0.0029 DRAM accesses
# per MAC = 15.4 MB / 2 B / 2,663 M MACs) and with AlexNet's MACs (tests/test_workloads.py).
CHIP = {"conv1": (332, 20.9, 18.5, 5.0), "conv2": (288, 41.9, 77.6, 4.0),
        "conv3": (266, 23.6, 50.2, 3.0), "conv4": (235, 18.4, 37.4, 2.1),
        "conv5": (236, 10.5, 24.9, 1.3)}
# Table V's processing latency (ms): the time the PE array processes, within the total
# latency above (which adds the chip's I/O). From the table as transcribed (OCR) in
# github.com/cucapra/fodlam, raw/eyeriss-tableV.txt.
PROCESSING_MS = {"conv1": 16.5, "conv2": 39.2, "conv3": 21.3, "conv4": 16.0, "conv5": 10.0}
# JSSC 2017, Table III: the chip's own mapping of each layer, as transcribed (OCR) in
# github.com/cucapra/fodlam, raw/eyeriss-tableIII.txt: strip e, filters per PE p, channels per
# PE q, channel sets r, filter sets t, images per pass n (R' is the filter's height). CONV2's
# 27-row strip is a 5 x 27 set, folded onto the 14 columns (135 active PEs).
TABLE_III = {"conv1": dict(e=7, p=16, q=1, r=1, t=2, n=1),
             "conv2": dict(e=27, p=16, q=2, r=1, t=1, n=1),
             "conv3": dict(e=13, p=16, q=4, r=1, t=4, n=4),
             "conv4": dict(e=13, p=16, q=3, r=2, t=2, n=4),
             "conv5": dict(e=13, p=16, q=3, r=2, t=2, n=4)}
# Table V's zeros in the input feature maps (the same transcription): the share of each layer's
# inputs the chip's zero gating acts on, on its real AlexNet data. The runs below apply them
# (simulate's input_zeros), as the chip's figures were measured with them.
ZEROS = {"conv1": 0.0001, "conv2": 0.387, "conv3": 0.725, "conv4": 0.793, "conv5": 0.776}
# Table VI's zeros for VGG-16 (fodlam's data/eyeriss-vgg16.csv; its OCR reads CONV1-1 as 16 %,
# CONV3-2 and CONV4-1 differ from the raw text, 53 % and 74.3 %).
VGG_ZEROS = {"conv1_1": 0.16, "conv1_2": 0.477, "conv2_1": 0.248, "conv2_2": 0.387,
             "conv3_1": 0.397, "conv3_2": 0.581, "conv3_3": 0.587, "conv4_1": 0.643,
             "conv4_2": 0.747, "conv4_3": 0.854, "conv5_1": 0.794, "conv5_2": 0.874,
             "conv5_3": 0.885}
# JSSC 2017, Table VI: VGG-16's CONV layers at batch 3, 200 MHz, 1 V: power (mW), total and
# processing latency (ms), active PEs, global buffer and DRAM data accessed (MB). As
# transcribed in github.com/cucapra/fodlam, data/eyeriss-vgg16.csv (OCR of the paper, checked
# against its raw/eyeriss-tableVI.txt). CONV2-2's total latency (894.3) is below its
# processing latency (1110.3) there, so one of the two is misread or misprinted.
VGG_CHIP = {
    "conv1_1": (247, 76.2, 38.0, 156, 112.5, 15.4),
    "conv1_2": (218, 910.3, 810.6, 156, 2402.8, 54.0),
    "conv2_1": (242, 470.3, 405.3, 150, 1201.4, 33.4),
    "conv2_2": (231, 894.3, 1110.3, 156, 2402.3, 48.5),
    "conv3_1": (254, 241.1, 204.0, 156, 607.4, 20.2),
    "conv3_2": (235, 460.9, 408.1, 156, 1214.8, 32.2),
    "conv3_3": (233, 457.7, 408.1, 156, 1214.8, 30.8),
    "conv4_1": (278, 135.3, 105.1, 168, 321.3, 17.8),
    "conv4_2": (261, 254.8, 210.0, 168, 643.7, 20.6),
    "conv4_3": (240, 246.3, 210.0, 168, 643.7, 22.8),
    "conv5_1": (258, 54.3, 48.3, 168, 90.0, 6.3),
    "conv5_2": (236, 53.7, 48.5, 168, 90.0, 5.7),
    "conv5_3": (230, 53.7, 48.5, 168, 90.0, 5.6)}
LEVELS = ("ALU", "RF", "array", "buffer", "DRAM")


# (component, action) labels -> the levels of the Eyeriss analysis
LEVEL_OF = {"systolic/mac": "ALU", "systolic/register_file": "RF", "systolic/pe_to_pe": "array",
            "global_buffer": "buffer", "dram/read": "DRAM", "dram/write": "DRAM"}


EYERISS = load_device("eyeriss")


def published_costs(device):
    """``device`` with the per-level costs of Chen, Emer, Sze (ISCA 2016, Table IV: from a
    commercial 65 nm process, relative to a 16-bit MAC): register file 1x, PE-to-PE 2x and
    global buffer 6x per 16-bit access; the MAC's own energy stays the model's."""
    from accelsim.hardware.pricing import resolve
    mac = resolve(device).systolic.mac_pj
    per_word = 6 * mac * device.global_buffer.word_bits / 16
    # The published costs include each level's clocking: no clock of its own.
    return device.replace({"systolic.rf_access_pj": mac, "systolic.register_access_pj": mac,
                           "systolic.clock_pj": 0.0, "systolic.pe_hop_pj": 2 * mac,
                           "global_buffer.read_pj": per_word,
                           "global_buffer.write_pj": per_word})


# The JSSC 2017 abstract: AlexNet's CONV layers at 34.7 frames/s, 278 mW and 0.0029 DRAM
# accesses per MAC (batch 4); VGG-16's at 0.7 frames/s, 236 mW and 0.0035 (batch 3).
ABSTRACT = {"alexnet": (4, 34.7, 278, 0.0029), "vgg16": (3, 0.7, 236, 0.0035)}


def run(name: str, device=None, dense: bool = False):
    """``name`` on the chip layer by layer, at the batch its abstract figures are for, with
    the chip's published shares of zero inputs gated (unless ``dense``)."""
    zeros = None if dense else {"alexnet": ZEROS, "vgg16": VGG_ZEROS}[name]
    return accelsim.simulate(name, device or EYERISS, batch=ABSTRACT[name][0],
                             execution="layer_by_layer", input_zeros=zeros)


def on_chip_pj(res, row: int) -> float:
    """Layer ``row``'s energy as the chip's supply sees it: without DRAM's, with the chip's
    leakage over the layer's span."""
    layer = res.layers[row]
    dram = sum(count * res.prices_pj[action]
               for action, count in enumerate(res.action_counts[row])
               if action_label(action)[0] == "dram")
    leakage_per_cycle = sum(res.leakage_pj.values()) / res.cycles
    return layer.energy_pj - dram + leakage_per_cycle * layer.span_cycles


def power_mw(res, row: int) -> float:
    """Layer ``row``'s power as the chip's is measured, at its supply: on_chip_pj over the
    layer's span."""
    return on_chip_pj(res, row) * 1e-12 / (res.layers[row].span_cycles / res.clock_hz) * 1e3


def chip(res) -> list[dict]:
    """AlexNet's CONV layers (``res``: run("alexnet", ...)) against Table V."""
    rows = []
    for row, layer in enumerate(res.layers):
        if layer.name not in CHIP:
            continue
        power, latency, buffer_mb, dram_mb = CHIP[layer.name]
        seconds = layer.span_cycles / res.clock_hz
        word_bytes = EYERISS.global_buffer.word_bits / 8
        buffer = sum(v for k, v in layer.traffic.items() if k.startswith("buffer_")) * word_bytes
        dram = sum(v for k, v in layer.traffic.items() if k.startswith("dram_"))
        rows.append({"layer": layer.name, "latency_ms": seconds * 1e3, "chip_latency_ms": latency,
                     "busy_ms": layer.compute_cycles / res.clock_hz * 1e3,
                     "chip_busy_ms": PROCESSING_MS[layer.name],
                     "power_mw": power_mw(res, row), "chip_power_mw": power,
                     "buffer_mb": buffer / 1e6, "chip_buffer_mb": buffer_mb,
                     "dram_mb": dram / 1e6, "chip_dram_mb": dram_mb,
                     "macs_per_cycle": layer.macs / layer.compute_cycles})
    return rows


def published_mappings(res) -> list[dict]:
    """The chip's own AlexNet mappings (Table III), timed and counted by the model's equations
    (row_stationary.totals; ``res``: run("alexnet")), against Table V's processing latency
    and buffer traffic, beside the mapping the model's search chose (LayerResult.mapping).
    The buffer traffic counted is the array's: input, weight and psum reads, psum and output
    writes, 16 bits each."""
    from accelsim.hardware.row_stationary import RsMapping, totals
    from accelsim.hardware.systolic import rs_shape
    from accelsim.workload.load import load_workload
    wl = load_workload(res.workload)
    rows = []
    for layer in res.layers:
        if layer.name not in TABLE_III:
            continue
        groups = wl.layers[layer.name].matrix(wl.input_shapes(layer.name))[2]
        shape = rs_shape(wl, layer.name, res.batch)
        m = TABLE_III[layer.name]
        figures = totals(shape, RsMapping(m["e"], shape.kernel[0], m["r"], m["t"], m["p"],
                                          m["q"], m["n"]))
        cycles = groups * figures["cycles"]
        values = groups * sum(figures[key] for key in ("input_reads", "weight_reads",
                                                       "psum_reads", "psum_writes",
                                                       "output_writes"))
        rows.append({"layer": layer.name, "chip_mapping": m, "model_mapping": layer.mapping,
                     "busy_ms": cycles / res.clock_hz * 1e3,
                     "chip_busy_ms": PROCESSING_MS[layer.name],
                     "buffer_mb": 2 * values / 1e6, "chip_buffer_mb": CHIP[layer.name][2]})
    return rows


def vgg_layers(res) -> list[dict]:
    """VGG-16's CONV layers (``res``: run("vgg16")) against Table VI: the array's busy time
    against the chip's processing latency, MACs per cycle over it, and the buffer's bytes per
    output value (partial sums that go back to the buffer between passes dominate them)."""
    from accelsim.workload.load import load_workload
    shapes = load_workload(res.workload).shapes
    rows = []
    word_bytes = EYERISS.global_buffer.word_bits / 8
    for row, layer in enumerate(res.layers):
        if layer.name not in VGG_CHIP:
            continue
        power, total_ms, busy_ms, pes, buffer_mb, dram_mb = VGG_CHIP[layer.name]
        outputs = res.batch * math.prod(shapes[layer.name])
        buffer = sum(v for k, v in layer.traffic.items() if k.startswith("buffer_")) * word_bytes
        rows.append({"layer": layer.name,
                     "busy_ms": layer.compute_cycles / res.clock_hz * 1e3,
                     "chip_busy_ms": busy_ms, "span_ms": layer.span_cycles / res.clock_hz * 1e3,
                     "chip_total_ms": total_ms,
                     "macs_per_cycle": layer.macs / layer.compute_cycles,
                     "chip_macs_per_cycle": layer.macs / (busy_ms * 1e-3 * res.clock_hz),
                     "buffer_per_output": buffer / outputs,
                     "chip_buffer_per_output": buffer_mb * 1e6 / outputs,
                     "power_mw": power_mw(res, row),
                     "chip_power_mw": power})
    return rows


def chip_mapping_rates(res) -> list[dict]:
    """The chip's own mapping, as far as Table VI tells it, timed by the model's equations.

    A pass that accumulates q r channels sends each output's partial sum back to the buffer
    and again to the array C / (q r) times: 4 C / (q r) bytes per output value at 16 bits,
    which dominates the chip's buffer traffic. So the chip's q r is about 4 C over its
    buffer bytes per output value (rounded to a power of two). With that q r (q up to the 4
    channels a 12-entry input scratchpad holds for 3 taps, then channel sets), the strip and
    sets of Eyeriss's physical mapping and the most filters per PE whose pass fits the
    108 kB buffer, row_stationary.totals gives the array's cycles and the traffic; the
    network then carries it either pooled (the device's one 256-bit bus) or as Eyeriss's
    64-bit networks per data type (inputs, weights, psums in; psums and outputs out)."""
    from accelsim.hardware.row_stationary import ConvShape, RsMapping, totals
    from accelsim.workload.load import load_workload
    wl = load_workload(res.workload)
    rows = []
    for layer in res.layers:
        if layer.name not in VGG_CHIP:
            continue
        _, _, busy_ms, _, buffer_mb, _ = VGG_CHIP[layer.name]
        channels, (filters, e_out, f_out) = wl.input_shapes(layer.name)[0][0], \
            wl.shapes[layer.name]
        per_output = buffer_mb * 1e6 / (res.batch * filters * e_out * f_out)
        qr = 2 ** max(0, round(math.log2(max(1.0, 4 * channels / per_output))))
        qr = min(qr, channels)
        q, r = min(qr, 4), max(1, qr // 4)
        strip = -(-e_out // -(-e_out // 14))
        t = 4 * (14 // strip) // r
        shape = ConvShape(res.batch, filters, channels, (3, 3), (e_out, f_out))
        width = f_out + 2
        p = max(k for k in (1, 2, 4, 8, 16, 24) if k * q * 3 <= 224 and (
            q * r * (strip + 2) * width * 16 + k * t * strip * f_out * 16) / 8 <= 108 * 1024)
        f = totals(shape, RsMapping(strip, 3, r, t, p, q, 1))
        pooled = max(f["cycles"], 16 * (f["input_reads"] + f["weight_reads"] + f["psum_reads"]
                                         + f["psum_writes"] + f["output_writes"]) / 256)
        split = max(f["cycles"], 16 * f["input_reads"] / 64, 16 * f["weight_reads"] / 64,
                    16 * f["psum_reads"] / 64, 16 * (f["psum_writes"] + f["output_writes"]) / 64)
        rows.append({"layer": layer.name, "qr": qr, "p": p, "pooled": f["macs"] / pooled,
                     "split": f["macs"] / split,
                     "chip": layer.macs / (busy_ms * 1e-3 * res.clock_hz),
                     "buffer_per_output": 2 * (f["input_reads"] + f["weight_reads"]
                                               + f["psum_reads"] + f["psum_writes"]
                                               + f["output_writes"])
                     / (res.batch * filters * e_out * f_out),
                     "chip_buffer_per_output": per_output})
    return rows


def whole_network(res) -> dict:
    """A network's CONV layers on the chip (``res``: run(name)), as the abstract reports them:
    frames/s over the layers' spans, on-chip power and DRAM accesses (16-bit words) per MAC.
    VGG-16 enters no decision made here: a held-out check."""
    rows = [row for row, layer in enumerate(res.layers) if layer.kind == "conv2d"]
    span = sum(res.layers[row].span_cycles for row in rows)
    energy = sum(on_chip_pj(res, row) for row in rows)
    dram_bytes = sum(v for row in rows for k, v in res.layers[row].traffic.items()
                     if k.startswith("dram_"))
    macs = sum(res.layers[row].macs for row in rows)
    seconds = span / res.clock_hz
    return {"frames_per_s": res.batch / seconds, "power_mw": energy * 1e-12 / seconds * 1e3,
            "dram_per_mac": dram_bytes / 2 / macs}


def normalized_device():
    """Eyeriss's analysis setting: 16 x 16 PEs, 512 B register files, a 128 kB buffer of
    16-bit words, and the normalized prices per 16-bit access (no leakage, no clock, free
    bus)."""
    return EYERISS.replace({
        "systolic.rows": 16, "systolic.cols": 16, "systolic.rf_bytes": 512,
        "systolic.mac_pj": 1.0, "systolic.rf_access_pj": 1.0, "systolic.pe_hop_pj": 2.0,
        "systolic.register_access_pj": 1.0, "systolic.clock_pj": 0.0,
        "systolic.leakage_mw": 0.0, "systolic.zero_policy": "none",
        "global_buffer.size_bytes": 131072, "global_buffer.word_bits": 16,
        "global_buffer.banks": 64, "global_buffer.read_pj": 6.0, "global_buffer.write_pj": 6.0,
        "global_buffer.leakage_mw": 0.0, "interconnect.pj_per_bit": 0.0,
        "interconnect.width_bits": 4096, "dram.read_pj_per_bit": 200 / 16,
        "dram.write_pj_per_bit": 200 / 16, "dram.bandwidth_bytes_per_s": 1e12,
        "digital.add_pj": 0.0, "digital.mul_pj": 0.0, "digital.compare_pj": 0.0,
        "digital.leakage_mw": 0.0})


def by_level() -> dict:
    reference = json.loads((ROOT / "benchmarks" / "data" / "nn_dataflow_alexnet.json")
                           .read_text())["layers"]
    res = accelsim.simulate("alexnet", normalized_device(), batch=16,
                            execution="layer_by_layer")
    rows = per_level(res, LEVEL_OF, reference).values()
    ours = {lv: sum(row[lv][0] for row in rows) for lv in LEVELS}
    # accesses of 16-bit values (DRAM is counted in bits)
    ours_accesses = {lv: sum(row[lv][1] for row in rows) / (16 if lv == "DRAM" else 1)
                     for lv in LEVELS}
    theirs, theirs_accesses = {lv: 0.0 for lv in LEVELS}, {lv: 0.0 for lv in LEVELS}
    for figures in reference.values():
        theirs["ALU"] += figures["macs"]
        theirs_accesses["ALU"] += figures["macs"]
        for lv, key, cost in (("DRAM", "dram", 200), ("buffer", "gbuf", 6), ("array", "itcn", 2),
                              ("RF", "regf", 1)):
            theirs[lv] += sum(figures[key]) * cost
            theirs_accesses[lv] += sum(figures[key])
    return {"ours": ours, "theirs": theirs, "ours_accesses": ours_accesses,
            "theirs_accesses": theirs_accesses}


def main() -> None:
    alexnet = run("alexnet")
    rows = chip(alexnet)
    published = chip(run("alexnet", published_costs(EYERISS)))
    dense = chip(run("alexnet", dense=True))
    print("| layer | latency ms (chip) | error | array busy ms (chip's processing latency) | "
          "error | power mW (chip) | error | power mW at "
          "published level costs | error | buffer MB (chip) | DRAM MB (chip) | MACs per "
          "cycle |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r, other in zip(rows, published):
        print(f"| {r['layer']} | {r['latency_ms']:.1f} ({r['chip_latency_ms']}) | "
              f"{r['latency_ms'] / r['chip_latency_ms'] - 1:+.0%} | {r['busy_ms']:.1f} "
              f"({r['chip_busy_ms']}) | {r['busy_ms'] / r['chip_busy_ms'] - 1:+.0%} | "
              f"{r['power_mw']:.0f} "
              f"({r['chip_power_mw']}) | {r['power_mw'] / r['chip_power_mw'] - 1:+.0%} | "
              f"{other['power_mw']:.0f} | {other['power_mw'] / r['chip_power_mw'] - 1:+.0%} | "
              f"{r['buffer_mb']:.1f} ({r['chip_buffer_mb']}) | {r['dram_mb']:.2f} "
              f"({r['chip_dram_mb']}) | {r['macs_per_cycle']:.1f} |")
    print("\n| layer | zeros in inputs (Table V) | power mW, Table V's zeros gated (chip) | "
          "error | power mW, dense | error |")
    print("|---|---|---|---|---|---|")
    for r, d in zip(rows, dense):
        print(f"| {r['layer']} | {ZEROS[r['layer']]:.1%} | {r['power_mw']:.0f} "
              f"({r['chip_power_mw']}) | {r['power_mw'] / r['chip_power_mw'] - 1:+.0%} | "
              f"{d['power_mw']:.0f} | {d['power_mw'] / d['chip_power_mw'] - 1:+.0%} |")
    print("\n| layer | the chip's mapping (Table III) | array busy ms at the chip's mapping "
          "(chip's processing latency) | error | buffer MB at the chip's mapping (chip) | "
          "error | the model's own mapping |")
    print("|---|---|---|---|---|---|---|")
    for r in published_mappings(alexnet):
        chip_m = " ".join(f"{k}={v}" for k, v in r["chip_mapping"].items())
        print(f"| {r['layer']} | {chip_m} | {r['busy_ms']:.1f} ({r['chip_busy_ms']}) | "
              f"{r['busy_ms'] / r['chip_busy_ms'] - 1:+.0%} | {r['buffer_mb']:.1f} "
              f"({r['chip_buffer_mb']}) | {r['buffer_mb'] / r['chip_buffer_mb'] - 1:+.0%} | "
              f"{r['model_mapping']} |")
    total = sum(r["latency_ms"] for r in rows)
    chip_total = sum(r["chip_latency_ms"] for r in rows)
    print(f"\nCONV1-5: {total:.1f} ms against {chip_total:.1f} ms "
          f"({total / chip_total - 1:+.0%}); {4 / total * 1e3:.1f} frames/s against "
          f"{4 / chip_total * 1e3:.1f}.\n")
    print("| network (batch) | frames/s (chip) | error | on-chip power mW (chip) | error | "
          "DRAM accesses per MAC (chip) | error |")
    print("|---|---|---|---|---|---|---|")
    vgg = run("vgg16")
    for name, (batch, fps, mw, per_mac) in ABSTRACT.items():
        w = whole_network(alexnet if name == "alexnet" else vgg)
        print(f"| {name} CONV ({batch}) | {w['frames_per_s']:.3g} ({fps}) | "
              f"{w['frames_per_s'] / fps - 1:+.0%} | {w['power_mw']:.0f} ({mw}) | "
              f"{w['power_mw'] / mw - 1:+.0%} | {w['dram_per_mac']:.4f} ({per_mac}) | "
              f"{w['dram_per_mac'] / per_mac - 1:+.0%} |")
    print("\n| VGG-16 layer | array busy ms (chip's processing latency) | error | span ms "
          "(chip's total latency) | MACs per cycle (chip) | buffer bytes per output value "
          "(chip) | power mW (chip) | error |")
    print("|---|---|---|---|---|---|---|---|")
    for r in vgg_layers(vgg):
        print(f"| {r['layer']} | {r['busy_ms']:.1f} ({r['chip_busy_ms']}) | "
              f"{r['busy_ms'] / r['chip_busy_ms'] - 1:+.0%} | {r['span_ms']:.1f} "
              f"({r['chip_total_ms']}) | {r['macs_per_cycle']:.0f} "
              f"({r['chip_macs_per_cycle']:.0f}) | {r['buffer_per_output']:.1f} "
              f"({r['chip_buffer_per_output']:.1f}) | {r['power_mw']:.0f} "
              f"({r['chip_power_mw']}) | {r['power_mw'] / r['chip_power_mw'] - 1:+.0%} |")
    print("\n| VGG-16 layer | channels per pass, from the chip's buffer traffic | MACs per "
          "cycle, the model's equations: one 256-bit network | 64-bit networks per data type "
          "| chip | buffer bytes per output value (chip) |")
    print("|---|---|---|---|---|---|")
    for r in chip_mapping_rates(vgg):
        print(f"| {r['layer']} | {r['qr']} | {r['pooled']:.0f} | {r['split']:.0f} | "
              f"{r['chip']:.0f} | {r['buffer_per_output']:.0f} "
              f"({r['chip_buffer_per_output']:.0f}) |")
    print()
    levels = by_level()
    ours, theirs = levels["ours"], levels["theirs"]
    total_ours, total_theirs = sum(ours.values()), sum(theirs.values())
    print("| level | accesses (nn_dataflow) | share of energy (nn_dataflow) |")
    print("|---|---|---|")
    for lv in LEVELS:
        print(f"| {lv} | {levels['ours_accesses'][lv]:.3g} "
              f"({levels['theirs_accesses'][lv]:.3g}) | {100 * ours[lv] / total_ours:.1f} % "
              f"({100 * theirs[lv] / total_theirs:.1f} %) |")
    print(f"\nTotal energy {total_ours:.3g} against {total_theirs:.3g} "
          f"({total_ours / total_theirs - 1:+.0%}), in MAC units.")


if __name__ == "__main__":
    main()
