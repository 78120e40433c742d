"""Relations that must hold whatever the model's constants, on every shipped device.

    python benchmarks/relations.py [--out benchmarks/out]

1. A one-layer network is not slower pipelined than layer by layer (the input load and the
   output store stream as the layer's own DRAM traffic does layer by layer). A systolic
   layer's first fold (weight stationary: every fold) waits for the inputs it covers to be
   loaded, where layer by layer it reads them from DRAM as it runs, so systolic devices are
   reported, not held to it.
2. A Linear layer split into two (or four) Linears of the same input, joined by a concat,
   costs about what the whole layer costs (no tile rewritten for every image because of the
   split).
3. Renaming every layer changes nothing.
4. A conv of two groups costs about what its groups cost written as two channel slices, a
   conv on each and a concat (reported: on ania-like the two convs share its one macro's
   columns and run in turn).
5. Listing BERT-base's q, k and v in another valid order changes nothing (the workload's
   order is the graph's own, not the listing's).
6. A 3 x 3 conv written as four convs of the same input and a concat costs what the conv
   costs: siblings take their inputs from one bus transfer (mapping.siblings). Reported on
   every device; on ania-like the four stack in its one macro's rows and run in turn (and
   need two layer groups), and on hybrid-cim-systolic each takes tiles of its own (32 of 128
   columns used), four times the one conv's, and runs faster.
7. A network exported to ONNX costs what the same network built by hand costs: torchvision's
   ViT-B/16 and Hugging Face's ViT and BERT (tests/data/onnx) against the zoo's vit-b16 and
   bert-base (reported; needs the onnx extra). The exports add a few real operations (the
   attention scale as its own pass, the class token's concat), so they are not equal.
8. ResNet-50 with each block's downsample listed before its conv1 changes nothing (until
   the twenty-fourth session placement followed the listing: on cim-16x16 and
   hybrid-cim-systolic, which need two layer groups, it decided which layers stayed
   resident: +1.9 % and -1.4 % cycles).

9. Layer by layer, a network costs the sum of its layers, each run as a network of its own
   (its inputs network inputs; every weight write counted in, preload_weights=False):
   small-cnn, LeNet-5 and ResNet-18. Cycles within 0.5 % and energy within 0.01 % (on
   ania-like a layer alone may stack its parts in the one macro's rows, which a network of
   several layer groups does not: ResNet-18 -0.1 % in cycles, so in leakage).

10. ResNet-18 with every conv's padding written as a Pad layer of its own (a view; as
   TensorFlow's exports write SAME padding) costs exactly what ResNet-18 costs, pipelined and
   layer by layer (until the twenty-fifth session a consumer waited for the whole of a padded,
   row-sliced or row-concatenated tensor, and layer by layer read a padded input from DRAM
   padded).

Prints a Markdown table per relation and writes relations.csv; exits non-zero when a
crossbar device breaks relation 1 by more than 0.5 %, relation 2 by more than 10 % in
energy, or relation 3, 5 or 8 at all, or when relation 6 costs over 1 % more cycles or
energy on cim-16x16 or cim-128x128-rram, or relation 9 differs by over 0.5 % in cycles or
0.01 % in energy, or relation 10 differs at all.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import warnings
from pathlib import Path

from _common import arguments, write_csv

import accelsim
from accelsim.workload.graph import Workload
from accelsim.workload.layers import Conv2d, Input, Pad2d

CROSSBAR = {"cim-16x16", "cim-128x128-rram", "ania-like", "hybrid-cim-systolic"}


def one_conv() -> Workload:
    return accelsim.workload_from_dict({"version": 1, "name": "one-conv", "layers": [
        {"name": "input", "type": "input", "shape": [32, 28, 28]},
        {"name": "conv", "type": "conv2d", "out_channels": 64, "kernel": 3, "padding": 1}]})


def in_parts(name: str, shape: list[int], layer: dict, size: str, total: int, stem: str,
             parts: int) -> Workload:
    """One ``layer`` of ``total`` outputs (its field ``size``) on an input of ``shape``, or
    the same as ``parts`` such layers of the input joined by a concat."""
    layers = [{"name": "input", "type": "input", "shape": shape}]
    if parts == 1:
        layers.append({**layer, "name": stem, size: total})
    else:
        layers += [{**layer, "name": f"{stem}{p}", size: total // parts, "inputs": ["input"]}
                   for p in range(parts)]
        layers.append({"name": "cat", "type": "concat",
                       "inputs": [f"{stem}{p}" for p in range(parts)]})
    return accelsim.workload_from_dict({"version": 1, "name": f"{name}-{parts}",
                                        "layers": layers})


def split_linear(parts: int) -> Workload:
    return in_parts("split", [256, 1, 1], {"type": "linear"}, "out_features", 256, "fc", parts)


def grouped_conv(split: bool) -> Workload:
    """64 -> 128, 3 x 3, two groups on 16 x 16 positions; or the same as two slices, two
    convs and a concat."""
    conv = {"type": "conv2d", "out_channels": 64, "kernel": 3, "padding": 1}
    layers = [{"name": "input", "type": "input", "shape": [64, 16, 16]}]
    if split:
        layers += [{"name": f"s{g}", "type": "slice", "axis": "channels", "start": 32 * g,
                    "stop": 32 * (g + 1), "inputs": ["input"]} for g in (0, 1)]
        layers += [{**conv, "name": f"c{g}", "inputs": [f"s{g}"]} for g in (0, 1)]
        layers.append({"name": "cat", "type": "concat", "inputs": ["c0", "c1"]})
    else:
        layers.append({**conv, "name": "c", "out_channels": 128, "groups": 2})
    return accelsim.workload_from_dict({"version": 1, "name": f"grouped-{split}",
                                        "layers": layers})


def sibling_convs(parts: int) -> Workload:
    """32 -> 128, 3 x 3 on 28 x 28 positions; or ``parts`` convs of the input and a concat."""
    return in_parts("siblings", [32, 28, 28], {"type": "conv2d", "kernel": 3, "padding": 1},
                    "out_channels", 128, "c", parts)


def relisted(workload: Workload, placed: dict[str, tuple[str, ...]]) -> Workload:
    """The workload listed with each key of ``placed`` replaced by its names (each of which is
    then listed there only): another valid order when they all read what the key reads."""
    moved = {name for names in placed.values() for name in names}
    order = [listed for name in workload.order
             for listed in placed.get(name, () if name in moved else (name,))]
    return Workload.from_layers(workload.name, [workload.layers[n] for n in order])


def qkv_reversed(workload: Workload) -> Workload:
    """The workload with every attention block's q, k and v listed as v, k, q."""
    return relisted(workload, {name: tuple(name[:-1] + x for x in "vkq")
                               for name in workload.order if name.endswith("attn.q")})


def downsample_first(workload: Workload) -> Workload:
    """The workload with each residual block's downsample listed before the block's conv1
    (both read the block's input; either order is a valid listing)."""
    return relisted(workload, {name: (name[:-5] + "downsample", name)
                               for name in workload.order if name.endswith(".conv1")
                               and name[:-5] + "downsample" in workload.layers})


def padding_apart(workload: Workload) -> Workload:
    """The workload with every padded conv's padding as a Pad layer of its own before it (as
    TensorFlow's exports write SAME padding)."""
    layers = []
    for name in workload.order:
        layer = workload.layers[name]
        if isinstance(layer, Conv2d) and any(layer.padding):
            (ph, pw), pad = layer.padding, f"{name}.pad"
            layers += [Pad2d(pad, layer.inputs, pads=(ph, pw, ph, pw)),
                       dataclasses.replace(layer, inputs=(pad,), padding=(0, 0))]
        else:
            layers.append(layer)
    return Workload.from_layers(workload.name, layers)


def alone(workload: Workload, name: str) -> Workload:
    """Layer ``name`` as a network of its own: what it reads becomes that network's inputs."""
    layer = workload.layers[name]
    sources = [Input(source, shape=workload.shapes[source])
               for source in dict.fromkeys(layer.inputs)]
    return Workload.from_layers(name, [*sources, layer])


def summed(rows: list, failures: list) -> None:
    """Relation 9: layer by layer, a network against the sum of its layers alone."""
    print("\n| network | device | layer by layer: cycles | sum of layers alone | energy |")
    print("|---|---|---:|---:|---:|")
    for net in ("small-cnn", "lenet5", "resnet18"):
        workload = accelsim.load_workload(net)
        for device in accelsim.available_devices():
            whole, *parts = [
                accelsim.simulate(w, device, execution="layer_by_layer", preload_weights=False)
                for w in [workload, *(alone(workload, name) for name in workload.order
                                      if workload.layers[name].kind != "input")]]
            cycles = sum(r.cycles for r in parts) / whole.cycles - 1
            energy = sum(r.energy_pj for r in parts) / whole.energy_pj - 1
            rows.append({"relation": "layer by layer, summed", "device": device,
                         "a": whole.cycles, "b": sum(r.cycles for r in parts),
                         "change": cycles})
            print(f"| {net} | {device} | {whole.cycles:,} | {cycles:+.3%} | {energy:+.4%} |")
            if abs(energy) > 1e-4 or abs(cycles) > 0.005:
                failures.append(f"{device} {net}: layers alone sum to {cycles:+.3%} cycles, "
                                f"{energy:+.4%} energy")


def renamed(workload: Workload) -> Workload:
    names = {name: f"z{k:05d}" for k, name in enumerate(reversed(workload.order))}
    return Workload.from_layers(workload.name, [
        dataclasses.replace(workload.layers[name], name=names[name],
                            inputs=tuple(names[i] for i in workload.layers[name].inputs))
        for name in workload.order])


def exported(rows: list) -> None:
    """Relation 7: each ONNX export against the zoo's network, cycles and energy."""
    try:
        import onnx  # noqa: F401
    except ImportError:
        print("\nrelation 7 skipped: the onnx extra is not installed")
        return
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
    from test_onnx_corpus import load
    pairs = (("vit_b_16", "vit-b16"), ("vit-base", "vit-b16"), ("bert-base-uncased",
                                                               "bert-base"))
    zoo = {name: accelsim.load_workload(name) for name in ("vit-b16", "bert-base")}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        onnx_models = {name: load(name) for name, _ in pairs}
    print("\n| device | " + " | ".join(f"{a} over {b}: cycles | energy" for a, b in pairs)
          + " |")
    print("|---|" + "---:|---:|" * len(pairs))
    for device in accelsim.available_devices():
        cells = []
        for a, b in pairs:
            x, y = (accelsim.simulate(w, device) for w in (zoo[b], onnx_models[a]))
            cells += [f"{y.cycles / x.cycles - 1:+.1%}", f"{y.energy_pj / x.energy_pj - 1:+.1%}"]
            rows.append({"relation": f"{a} over {b}", "device": device, "a": x.cycles,
                         "b": y.cycles, "change": y.cycles / x.cycles - 1})
        print(f"| {device} | " + " | ".join(cells) + " |")


def rounded_to(expected: float, value: float) -> float:
    """``expected`` when ``value`` equals it to 1e-12 (energies summed in another order)."""
    return expected if abs(value - expected) <= 1e-12 * abs(expected) else value


def main() -> None:
    args = arguments(argparse.ArgumentParser(description=__doc__.splitlines()[0]))
    rows, failures = [], []
    print("| device | one conv pipelined | layer by layer | pipelined over layer by layer |")
    print("|---|---:|---:|---:|")
    for device in accelsim.available_devices():
        piped = accelsim.simulate(one_conv(), device)
        serial = accelsim.simulate(one_conv(), device, execution="layer_by_layer")
        ratio = piped.cycles / serial.cycles - 1
        rows.append({"relation": "one layer", "device": device, "a": piped.cycles,
                     "b": serial.cycles, "change": ratio})
        print(f"| {device} | {piped.cycles:,} | {serial.cycles:,} | {ratio:+.2%} |")
        if device in CROSSBAR and ratio > 0.005:
            failures.append(f"{device}: one conv {ratio:+.2%} pipelined")
    print("\n| device | whole Linear µJ | two halves | four quarters |")
    print("|---|---:|---:|---:|")
    for device in accelsim.available_devices():
        energy = [accelsim.simulate(split_linear(p), device).energy_pj for p in (1, 2, 4)]
        for parts, pj in zip((2, 4), energy[1:]):
            rows.append({"relation": f"split in {parts}", "device": device, "a": energy[0],
                         "b": pj, "change": pj / energy[0] - 1})
            if pj > 1.10 * energy[0]:
                failures.append(f"{device}: a Linear split in {parts} costs "
                                f"{pj / energy[0] - 1:+.1%}")
        print(f"| {device} | {energy[0] / 1e6:.4f} | {energy[1] / energy[0] - 1:+.1%} | "
              f"{energy[2] / energy[0] - 1:+.1%} |")
    mismatches = 0
    for name in ("resnet18", "mobilenetv2", "bert-base"):
        workload = accelsim.load_workload(name)
        other = renamed(workload)
        for device in accelsim.available_devices():
            for execution in ("pipelined", "layer_by_layer"):
                a = accelsim.simulate(workload, device, execution=execution)
                b = accelsim.simulate(other, device, execution=execution)
                same = (a.cycles, a.energy_pj) == (b.cycles, b.energy_pj)
                mismatches += not same
                if not same:
                    failures.append(f"{device} {name} {execution}: renaming changed "
                                    f"{a.cycles} -> {b.cycles} cycles")
    print(f"\nrenaming every layer: {mismatches} mismatches in "
          f"{3 * len(accelsim.available_devices()) * 2} runs")
    print("\n| device | groups=2 cycles | split: cycles | energy | "
          "BERT-base q,k,v listed v,k,q: cycles |")
    print("|---|---:|---:|---:|---:|")
    bert = accelsim.load_workload("bert-base")
    listed = qkv_reversed(bert)
    for device in accelsim.available_devices():
        one = accelsim.simulate(grouped_conv(False), device)
        two = accelsim.simulate(grouped_conv(True), device)
        first, second = (accelsim.simulate(w, device) for w in (bert, listed))
        a, b = first.cycles, second.cycles
        change = b / a - 1
        if (a, first.energy_pj) != (b, second.energy_pj):
            failures.append(f"{device}: BERT-base listed v,k,q {change:+.3%} cycles")
        rows.append({"relation": "split conv", "device": device, "a": one.cycles,
                     "b": two.cycles, "change": two.cycles / one.cycles - 1})
        rows.append({"relation": "listing order", "device": device, "a": a, "b": b,
                     "change": change})
        print(f"| {device} | {one.cycles:,} | {two.cycles / one.cycles - 1:+.1%} | "
              f"{two.energy_pj / one.energy_pj - 1:+.1%} | {change:+.3%} |")
    print("\n| device | one conv: cycles | µJ | four convs of its input: cycles | energy |")
    print("|---|---:|---:|---:|---:|")
    for device in accelsim.available_devices():
        one, four = (accelsim.simulate(sibling_convs(p), device) for p in (1, 4))
        cycles, energy = four.cycles / one.cycles - 1, four.energy_pj / one.energy_pj - 1
        rows.append({"relation": "four convs of one input", "device": device,
                     "a": one.cycles, "b": four.cycles, "change": cycles})
        print(f"| {device} | {one.cycles:,} | {one.energy_pj / 1e6:.3f} | {cycles:+.1%} | "
              f"{energy:+.1%} |")
        if device in ("cim-16x16", "cim-128x128-rram") and max(cycles, energy) > 0.01:
            failures.append(f"{device}: four convs of one input {cycles:+.1%} cycles, "
                            f"{energy:+.1%} energy")
    print("\n| device | ResNet-50, downsample listed before conv1: cycles | energy |")
    print("|---|---:|---:|")
    resnet = accelsim.load_workload("resnet50")
    relisted = downsample_first(resnet)
    for device in accelsim.available_devices():
        a, b = (accelsim.simulate(w, device) for w in (resnet, relisted))
        cycles, energy = b.cycles / a.cycles - 1, b.energy_pj / a.energy_pj - 1
        rows.append({"relation": "downsample listed first", "device": device,
                     "a": a.cycles, "b": b.cycles, "change": cycles})
        print(f"| {device} | {cycles:+.2%} | {energy:+.2%} |")
        if (a.cycles, a.energy_pj) != (b.cycles, b.energy_pj):
            failures.append(f"{device}: ResNet-50 downsample listed first {cycles:+.2%} "
                            f"cycles, {energy:+.2%} energy")
    print("\n| device | ResNet-18, padding as Pad layers: pipelined cycles | energy | "
          "layer by layer cycles | energy |")
    print("|---|---:|---:|---:|---:|")
    padded = padding_apart(resnet18 := accelsim.load_workload("resnet18"))
    for device in accelsim.available_devices():
        changes = []
        for execution in ("pipelined", "layer_by_layer"):
            a, b = (accelsim.simulate(w, device, execution=execution) for w in (resnet18, padded))
            cycles, energy = b.cycles / a.cycles - 1, b.energy_pj / a.energy_pj - 1
            changes += [cycles, energy]
            rows.append({"relation": f"padding apart, {execution}", "device": device,
                         "a": a.cycles, "b": b.cycles, "change": cycles})
            if (a.cycles, a.energy_pj) != (b.cycles, rounded_to(a.energy_pj, b.energy_pj)):
                failures.append(f"{device} {execution}: ResNet-18 with Pad layers "
                                f"{cycles:+.3%} cycles, {energy:+.3%} energy")
        print(f"| {device} | " + " | ".join(f"{c:+.3%}" for c in changes) + " |")
    summed(rows, failures)
    exported(rows)
    write_csv(rows, args.out / "relations.csv")
    if failures:
        print("\n".join(["", "FAILED:", *failures]))
        sys.exit(1)


if __name__ == "__main__":
    main()
