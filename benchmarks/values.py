"""Value mode: speed, the crossbar kernel against BLAS, and what sparsity saves.

    python benchmarks/values.py [--out benchmarks/out]

1. ResNet-18 on cim-16x16 with one real 224x224 photo (scikit-learn's sample image, centre
   crop, ImageNet normalization): wall time, and energy dense vs measured (skipping zero
   input cycles and gating zero inputs) vs measured with both policies off.
2. The crossbar kernels' rates (cell multiply-accumulates per second over every row and input
   cycle, for 16-row and 128-row tiles, drives taken from a real ReLU layer) against float32
   BLAS (numpy matmul) in the same run: the block kernel (crossbar_mvm, used with read
   noise) on one row of tiles, given its bit-planes ready, and the layer kernel value mode
   runs (crossbar_layer) on a 128-row layer, which takes the bit-planes inside.
3. A 256x256 Linear pruned to 50 % density: tile-aligned blocks vs unstructured.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from _common import blas_macs_per_second, shipped

import accelsim
from accelsim.kernels import crossbar_layer, crossbar_mvm, input_chunks


def photo() -> np.ndarray:
    from sklearn.datasets import load_sample_image
    image = load_sample_image("china.jpg").astype(np.float64) / 255.0     # 427 x 640 x 3
    top, left = (427 - 392) // 2, (640 - 392) // 2
    crop = image[top:top + 392, left:left + 392]
    rows = (np.arange(224) * 392 / 224).astype(int)        # nearest-neighbour resize to 224
    small = crop[rows][:, rows]
    mean, std = np.array([0.485, 0.456, 0.406]), np.array([0.229, 0.224, 0.225])
    return ((small - mean) / std).transpose(2, 0, 1)


def device(**changes):
    data = shipped()
    data["cim"].update(changes)
    return accelsim.device_from_dict(data)


def sparsity_on_resnet18() -> list[str]:
    x = photo()
    dense = accelsim.simulate("resnet18", "cim-16x16")
    began = time.perf_counter()
    measured = accelsim.simulate("resnet18", "cim-16x16", values=True, inputs=x)
    seconds = time.perf_counter() - began
    off = accelsim.simulate("resnet18", device(skip_zero_input_cycles=False,
                                               gate_zero_inputs=False), values=True, inputs=x)
    lines = ["| run | energy µJ | ADC conversions | rows driven |", "|---|---:|---:|---:|"]
    for label, r in (("dense (no values)", dense), ("values, policies off", off),
                     ("values, skip + gate", measured)):
        lines.append(f"| {label} | {r.energy_pj / 1e6:.1f} | {r.action_totals['adc_convert']:,.0f}"
                     f" | {r.action_totals['dac_convert']:,.0f} |")
    saved = 1 - measured.energy_pj / off.energy_pj
    lines.append(f"\nvalue-mode ResNet-18, one 224x224 photo: {seconds:.2f} s wall "
                 f"(including the event simulation); input-zero skipping and gating save "
                 f"{100 * saved:.1f} % of the energy")
    return lines


def kernel_against_blas() -> list[str]:
    rng = np.random.default_rng(0)
    # Drives from real data: ReLU outputs of a random layer, 8-bit, bit-serial.
    activations = np.maximum(rng.normal(size=(3136, 128)), 0)
    q = np.rint(activations / activations.max() * 255).astype(np.int64)
    drives = input_chunks(q, 8, 1, 8)
    lines = ["| rows x columns | block kernel | of BLAS | layer kernel | of BLAS |",
             "|---|---:|---:|---:|---:|"]
    rates = []
    # The kernels are timed before BLAS: OpenBLAS threads keep spinning for a while after a
    # matmul and would steal the cores from the kernels' threads.
    for rows, cols in ((16, 16), (16, 64), (16, 256), (128, 128), (128, 256)):
        cells = rng.integers(-127, 128, size=(128, cols))
        # The block kernel (crossbar_mvm, used with read noise): one row block of `rows` rows.
        block = np.ascontiguousarray(drives[:, :, :rows])
        acc = np.zeros((block.shape[0], cols))
        active = np.zeros(block.shape[:2], dtype=np.int32)
        args = (block, cells[:rows].astype(np.float64), 1.0, -np.inf, np.inf,
                2.0 ** np.arange(8), np.ones(cols), np.arange(cols), np.zeros(cols),
                np.zeros((0, 0, 0)), acc, active)
        crossbar_mvm(*args)
        began = time.perf_counter()
        repeats = 5
        for _ in range(repeats):
            crossbar_mvm(*args)
        block_rate = repeats * block.size * cols / (time.perf_counter() - began)
        # The layer kernel (crossbar_layer, what value mode runs): all 128 rows in blocks of
        # `rows`, with the int8 cells (summed in float32) value mode passes when the sums are exact.
        blocks = 128 // rows
        starts = np.arange(blocks, dtype=np.int64) * rows
        layer = (q, 1, 8, cells.astype(np.int8), starts, starts + rows,
                 np.zeros(blocks, np.int64), np.full(blocks, cols, np.int64),
                 np.zeros(blocks, np.int64), 1, 1.0, -np.inf, np.inf, 2.0 ** np.arange(8),
                 np.ones(cols), 0, np.zeros((blocks, cols)), np.zeros(128))

        outputs = (np.zeros((q.shape[0], cols)), np.zeros((blocks, q.shape[0]), np.int64),
                   np.zeros((blocks, q.shape[0]), np.int64), np.zeros((blocks, q.shape[0])),
                   np.empty(0, dtype=np.float32))
        crossbar_layer(*layer, *outputs)
        began = time.perf_counter()
        for _ in range(repeats):
            crossbar_layer(*layer, *outputs)
        layer_rate = repeats * drives.size * cols / (time.perf_counter() - began)
        rates.append((rows, cols, block_rate, layer_rate))
    blas = blas_macs_per_second()
    for rows, cols, block_rate, layer_rate in rates:
        lines.append(f"| {rows}x{cols} | {block_rate / 1e9:.1f} G | "
                     f"{100 * block_rate / blas:.0f} % | {layer_rate / 1e9:.1f} G | "
                     f"{100 * layer_rate / blas:.0f} % |")
    lines.append(f"\nCell multiply-accumulates per second over every row and input cycle; "
                 f"float32 BLAS (2048^3 matmul): {blas / 1e9:.1f} G MAC/s; drives are the "
                 f"bit-planes of ReLU outputs ({100 * (drives != 0).mean():.0f} % nonzero)")
    return lines


def pruning() -> list[str]:
    from accelsim.workload import Input, Linear, Workload, random_weights
    from accelsim.workload.pruning import block_prune, magnitude_prune
    wl = Workload.from_layers("linear-256", [Input("in", shape=(256, 1, 1)),
                                             Linear("fc", ("in",), 256)])
    wl = wl.with_weights(random_weights(wl, 0))
    x = np.random.default_rng(1).random((4, 256, 1, 1))
    lines = ["| weights | tiles | layer energy µJ | saved |", "|---|---:|---:|---:|"]
    dense = None
    for label, net in (("dense", wl), ("unstructured 50 %", magnitude_prune(wl, 0.5)),
                       ("tile blocks 50 %", block_prune(wl, "cim-16x16", 0.5))):
        r = accelsim.simulate(net, "cim-16x16", values=True, inputs=x)
        fc = next(layer for layer in r.layers if layer.name == "fc")
        dense = dense or fc.energy_pj
        lines.append(f"| {label} | {fc.tiles} | {fc.energy_pj / 1e6:.3f} | "
                     f"{100 * (1 - fc.energy_pj / dense):.1f} % |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.parse_args()
    accelsim.simulate("mlp", "cim-16x16", values=True)      # compile or load kernels first
    for title, lines in (("ResNet-18 sparsity", sparsity_on_resnet18()),
                         ("Crossbar kernel vs BLAS", kernel_against_blas()),
                         ("Pruning a 256x256 Linear", pruning())):
        print(f"\n### {title}\n")
        print("\n".join(lines))


if __name__ == "__main__":
    main()
