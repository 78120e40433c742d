"""accelsim beside its peers on the same jobs, whole processes, in one run.

    ACCELSIM_SCALESIM_PYTHON=/path/to/scalesim-env/bin/python \
    ACCELSIM_ZIGZAG_PYTHON=/path/to/zigzag-env/bin/python \
    python benchmarks/peers.py [--repeat 3]

Each peer runs in its own environment (SCALE-Sim 3.0.0 needs numpy < 2.4; ZigZag needs
zigzag-dse, six and onnx); a peer whose interpreter is not given is skipped. Every job is a
fresh process, timed from start to exit, so imports and JIT loading count for everyone; the
best of ``--repeat`` runs is kept, and the ratios are taken within this one run.

Jobs:
- ResNet-18's convolutions and fully connected layer on a 128 x 128 weight-stationary array
  (SCALE-Sim: its topology built from accelsim's zoo, with padding added to the input sizes,
  as SCALE-Sim has no padding field; accelsim: eyeriss-like resized);
- one 256 x 256 x 256 GEMM on the same array;
- ResNet-18 on ZigZag's tpu_like example (ZigZag: its own ONNX file, hardware and mapping;
  accelsim: the same hardware at ZigZag's prices, layer by layer, as benchmarks/zigzag.py).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.scalesim_reference import CONFIG as SCALESIM_CONFIG  # noqa: E402

ACCELSIM = [sys.executable]


_SCALESIM_RUN = """
import sys
from scalesim.scale_sim import scalesim
work, gemm = sys.argv[1], sys.argv[2] == "gemm"
sim = scalesim(save_disk_space=True, verbose=False, config=work + "/scalesim.cfg",
               topology=work + ("/gemm.csv" if gemm else "/resnet18.csv"),
               layout=work + "/layout.csv", input_type_gemm=gemm)
sim.run_scale(top_path=work + "/out")
"""

_ZIGZAG_RUN = """
import logging, os, zigzag
from zigzag import api
logging.disable(logging.CRITICAL)
inputs = os.path.join(os.path.dirname(zigzag.__file__), "inputs")
api.get_hardware_performance_zigzag(
    workload=inputs + "/workload/resnet18.onnx", accelerator=inputs + "/hardware/tpu_like.yaml",
    mapping=inputs + "/mapping/tpu_like.yaml", opt="energy",
    dump_folder=os.environ["ZZ_OUT"], pickle_filename=os.environ["ZZ_OUT"] + "/cmes.pickle")
"""

_ACCELSIM_SYSTOLIC = """
import sys
import accelsim
from accelsim.spec import load_device
from accelsim.workload import Input, Linear, Workload
device = load_device("eyeriss-like").replace({"systolic.rows": 128, "systolic.cols": 128,
                                              "systolic.dataflow": "ws"})
if sys.argv[1] == "gemm":
    workload = Workload.from_layers("gemm", [Input("in", shape=(256, 256, 1)),
                                             Linear("layer", ("in",), 256)])
else:
    workload = "resnet18"
accelsim.simulate(workload, device)
"""

_ACCELSIM_TPU_LIKE = """
import sys
sys.path.insert(0, sys.argv[1])
import accelsim
from benchmarks.zigzag import tpu_like
accelsim.simulate("resnet18", tpu_like(), execution="layer_by_layer")
"""


def resnet18_topology() -> str:
    """ResNet-18's conv and linear layers as a SCALE-Sim topology (padded input sizes)."""
    import accelsim
    from accelsim.workload.layers import Conv2d, Linear
    wl = accelsim.load_workload("resnet18")
    rows = ["Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, "
            "Num Filter, Strides,"]
    for name in wl.order:
        layer = wl.layers[name]
        if isinstance(layer, Conv2d):
            c, h, w = wl.input_shapes(name)[0]
            (ph, pw), (kh, kw) = layer.padding, layer.kernel
            rows.append(f"{name}, {h + 2 * ph}, {w + 2 * pw}, {kh}, {kw}, {c}, "
                        f"{layer.out_channels}, {layer.stride[0]},")
        elif isinstance(layer, Linear):
            c = wl.input_shapes(name)[0][0]
            rows.append(f"{name}, 1, 1, 1, 1, {c}, {layer.out_features}, 1,")
    return "\n".join(rows) + "\n"


def timed(command: list[str], repeat: int, env: dict | None = None) -> float:
    best = float("inf")
    for _ in range(repeat):
        began = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True, env=env, cwd=ROOT)
        best = min(best, time.perf_counter() - began)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    repeat = parser.parse_args().repeat
    scalesim = os.environ.get("ACCELSIM_SCALESIM_PYTHON")
    zigzag = os.environ.get("ACCELSIM_ZIGZAG_PYTHON")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "scalesim.cfg").write_text(SCALESIM_CONFIG.format(
            rows=128, cols=128, dataflow="ws", sram_kb=4096, bandwidth=10, mode="CALC"))
        (work / "layout.csv").write_text("")
        (work / "resnet18.csv").write_text(resnet18_topology())
        (work / "gemm.csv").write_text("Layer, M, N, K,\ngemm, 256, 256, 256,\n")
        for job in ("resnet18", "gemm"):
            ours = timed(ACCELSIM + ["-c", _ACCELSIM_SYSTOLIC, job], repeat)
            theirs = (timed([scalesim, "-c", _SCALESIM_RUN, str(work), job], repeat)
                      if scalesim else None)
            rows.append((f"{job} on 128x128 ws", "SCALE-Sim 3.0.0", ours, theirs))
        ours = timed(ACCELSIM + ["-c", _ACCELSIM_TPU_LIKE, str(ROOT)], repeat)
        theirs = None
        if zigzag:
            (work / "zz").mkdir()
            theirs = timed([zigzag, "-c", _ZIGZAG_RUN], repeat,
                           env={**os.environ, "ZZ_OUT": str(work / "zz")})
        rows.append(("resnet18 on tpu_like", "ZigZag", ours, theirs))
    print(f"Whole processes, best of {repeat}, {time.strftime('%Y-%m-%d')}:\n")
    print("| job | peer | accelsim s | peer s | accelsim faster by |")
    print("|---|---|---:|---:|---:|")
    for job, peer, ours, theirs in rows:
        if theirs is None:
            print(f"| {job} | {peer} (not installed) | {ours:.2f} | | |")
        else:
            print(f"| {job} | {peer} | {ours:.2f} | {theirs:.2f} | {theirs / ours:.1f}x |")


if __name__ == "__main__":
    main()
