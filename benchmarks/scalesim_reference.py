"""Run SCALE-Sim on a fixed set of layers and print its compute cycles (for tests/test_systolic.py).

SCALE-Sim needs its own environment (scalesim 3.0.0 crashes on numpy 2.4):

    python3 -m venv /tmp/ssvenv && /tmp/ssvenv/bin/pip install "numpy<2.4" scalesim==3.0.0
    /tmp/ssvenv/bin/python benchmarks/scalesim_reference.py           # the table in the test
    /tmp/ssvenv/bin/python benchmarks/scalesim_reference.py --json spec.json   # custom layers

In a spec, "bandwidth" (words per cycle) runs SCALE-Sim's user-bandwidth mode, where operands
stream from DRAM through double-buffered SRAMs of "sram_kb" kB each; the result then gives each
layer's reports (total cycles with prefetch and stalls, compute and stall cycles, DRAM words).

This script does not import accelsim. SCALE-Sim has no padding field, so conv rows give the
padded input size; GEMM rows are M (output rows), N (output columns), K (reduction).
"""

from __future__ import annotations

import csv
import sys
import tempfile
from pathlib import Path

ARRAYS = [(8, 8), (16, 16), (32, 32), (128, 128), (12, 14)]
DATAFLOWS = ["ws", "os", "is"]
# name, ifmap h, ifmap w, filter h, filter w, channels, filters, stride
CONVS = [("conv3x3", 10, 10, 3, 3, 4, 16, 1), ("conv5x5", 32, 32, 5, 5, 3, 6, 1),
         ("conv3x3s2", 17, 17, 3, 3, 8, 24, 2), ("conv1x1", 14, 14, 1, 1, 64, 128, 1),
         ("conv3x3wide", 16, 16, 3, 3, 32, 64, 1)]
# name, M, N, K
GEMMS = [("gemm_a", 50, 20, 30), ("gemm_b", 128, 128, 128), ("gemm_c", 7, 300, 500),
         ("gemm_d", 1000, 64, 27), ("gemm_e", 1, 1000, 512)]

CONFIG = """[general]
run_name = run
[architecture_presets]
ArrayHeight = {rows}
ArrayWidth = {cols}
ifmapsramszkB = {sram_kb}
filtersramszkB = {sram_kb}
ofmapsramszkB = {sram_kb}
IfmapOffset = 0
FilterOffset = 10000000
OfmapOffset = 20000000
Bandwidth = {bandwidth}
Dataflow = {dataflow}
ReadRequestBuffer = 32
WriteRequestBuffer = 32
[layout]
IfmapCustomLayout = False
FilterCustomLayout = False
IfmapSRAMBankBandwidth = 10
IfmapSRAMBankNum = 10
IfmapSRAMBankPort = 2
FilterSRAMBankBandwidth = 10
FilterSRAMBankNum = 10
FilterSRAMBankPort = 2
[sparsity]
SparsitySupport = false
SparseRep = ellpack_block
OptimizedMapping = false
BlockSize = 8
RandomNumberGeneratorSeed = 40
[run_presets]
InterfaceBandwidth = {mode}
UseRamulatorTrace = False
"""


def run_layers(rows: int, cols: int, dataflow: str, layers: list[tuple], gemm: bool,
               work: Path, *, bandwidth: int | None = None, sram_kb: int = 4096) -> list[dict]:
    """SCALE-Sim's reports for each layer: total cycles including prefetch and stalls, compute
    cycles ('Total Cycles'), stall cycles, and the DRAM words it read and wrote per operand.
    ``bandwidth``: words per cycle in user-bandwidth mode (default: SCALE-Sim's CALC mode)."""
    from scalesim.scale_sim import scalesim

    tag = f"{'gemm' if gemm else 'conv'}_{rows}x{cols}_{dataflow}_{bandwidth}"
    config, topology, layout = work / f"{tag}.cfg", work / f"{tag}.csv", work / "layout.csv"
    config.write_text(CONFIG.format(rows=rows, cols=cols, dataflow=dataflow,
                                     bandwidth=bandwidth or 10, sram_kb=sram_kb,
                                     mode="CALC" if bandwidth is None else "USER"))
    layout.write_text("")
    header = "Layer, M, N, K," if gemm else ("Layer name, IFMAP Height, IFMAP Width, Filter "
                                            "Height, Filter Width, Channels, Num Filter, Strides,")
    topology.write_text(header + "\n" + "".join(
        ", ".join(str(v) for v in layer) + ",\n" for layer in layers))
    sim = scalesim(save_disk_space=True, verbose=False, config=str(config),
                   topology=str(topology), layout=str(layout), input_type_gemm=gemm)
    sim.run_scale(top_path=str(work / tag))
    with open(work / tag / "run" / "COMPUTE_REPORT.csv") as handle:
        compute = list(csv.reader(handle))[1:]
    with open(work / tag / "run" / "DETAILED_ACCESS_REPORT.csv") as handle:
        access = list(csv.reader(handle))[1:]
    return [{"total": int(float(c[1])), "compute": int(float(c[2])), "stalls": int(float(c[3])),
             "dram_ifmap_reads": int(float(a[12])), "dram_filter_reads": int(float(a[15])),
             "dram_ofmap_writes": int(float(a[18]))} for c, a in zip(compute, access)]


def compute_cycles(rows: int, cols: int, dataflow: str, layers: list[tuple], gemm: bool,
                   work: Path) -> list[int]:
    """SCALE-Sim's 'Total Cycles' (compute, without prefetch) for each layer."""
    return [layer["compute"] for layer in run_layers(rows, cols, dataflow, layers, gemm, work)]


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--json":
        # {"rows": R, "cols": C, "dataflow": df, "convs": [...], "gemms": [...]} -> cycles
        import json
        spec = json.loads(Path(sys.argv[2]).read_text())
        with tempfile.TemporaryDirectory() as tmp:
            if "bandwidth" in spec:      # the whole reports
                out = {kind: run_layers(spec["rows"], spec["cols"], spec["dataflow"],
                                        [tuple(layer) for layer in spec[kind]],
                                        kind == "gemms", Path(tmp), bandwidth=spec["bandwidth"],
                                        sram_kb=spec.get("sram_kb", 64)) if spec[kind] else []
                       for kind in ("convs", "gemms")}
            else:                        # compute cycles
                out = {kind: compute_cycles(spec["rows"], spec["cols"], spec["dataflow"],
                                            [tuple(layer) for layer in spec[kind]],
                                            kind == "gemms", Path(tmp)) if spec[kind] else []
                       for kind in ("convs", "gemms")}
        print(json.dumps(out))
        return
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        print("# (kind, name, array rows, array cols, dataflow, compute cycles)")
        for rows, cols in ARRAYS:
            for dataflow in DATAFLOWS:
                for gemm, layers in ((False, CONVS), (True, GEMMS)):
                    cycles = compute_cycles(rows, cols, dataflow, layers, gemm, work)
                    for layer, value in zip(layers, cycles):
                        kind = "gemm" if gemm else "conv"
                        print(f"    (\"{kind}\", \"{layer[0]}\", {rows}, {cols}, \"{dataflow}\", "
                              f"{value}),", flush=True)
    print(f"# scalesim run with Python {sys.version.split()[0]}", file=sys.stderr)


if __name__ == "__main__":
    main()
