"""Zoo MAC counts against published figures; the YAML format; graph validation errors."""

import pytest

from accelsim import SpecError, WorkloadError, load_workload, workload_from_dict
from accelsim.workload import Conv2d, Input, Linear, Workload

# REFERENCES.md: conv + fully connected MACs, batch 1, 224x224.
PUBLISHED_MACS = {
    "resnet18": 1_814_073_344, "resnet34": 3_663_761_408, "resnet50": 4_089_184_256,
    "vgg16": 15_470_264_320, "mobilenetv2": 300_774_272,
}


@pytest.mark.parametrize("name, macs", PUBLISHED_MACS.items())
def test_zoo_macs_equal_published_counts(name, macs):
    assert load_workload(name).macs == macs


def test_alexnet_conv_macs_equal_eyeriss_table():
    # Eyeriss (JSSC 2017, Table V), batch 4: 422, 896, 598, 449 and 299 million MACs.
    wl = load_workload("alexnet")
    table = {"conv1": 422, "conv2": 896, "conv3": 598, "conv4": 449, "conv5": 299}
    assert {name: round(4 * wl.layer_macs(name) / 1e6) for name in table} == table


def test_lenet5_and_mlp_macs_by_hand():
    # LeNet-5: C1 28*28*6*25, C3 10*10*16*6*25, C5 120*400, F6 120*84, output 84*10.
    assert load_workload("lenet5").macs == 117_600 + 240_000 + 48_000 + 10_080 + 840
    assert load_workload("mlp").macs == 784 * 256 + 256 * 256 + 256 * 10


def test_resnet18_weights_match_torchvision_without_batchnorm_and_biases():
    # torchvision resnet18 has 11,689,512 parameters: 9,600 batch-norm parameters and the
    # fc bias (1,000) are not crossbar weights.
    assert load_workload("resnet18").weight_count == 11_689_512 - 9_600 - 1_000


def test_mobilenetv2_depthwise_layers():
    wl = load_workload("mobilenetv2")
    depthwise = [n for n in wl.order if isinstance(wl.layers[n], Conv2d) and wl.layers[n].depthwise]
    assert len(depthwise) == 17
    assert wl.shapes["features.1.depthwise"] == (32, 112, 112)


def test_shipped_yaml_workloads():
    wl = load_workload("linear-20x20")
    assert wl.macs == 400 and wl.shapes["fc"] == (20, 1, 1)
    cnn = load_workload("small-cnn")
    assert cnn.shapes["pool"] == (32, 16, 16)
    assert cnn.layers["add"].inputs == ("conv2", "conv1")
    tokens = load_workload("mlp-tokens")
    assert tokens.macs == 64 * 128 * 512 * 2


def _doc(*layers):
    return {"version": 1, "name": "t",
            "layers": [{"name": "in", "type": "input", "shape": [4, 8, 8]}, *layers]}


@pytest.mark.parametrize("layers, error, fragment", [
    ([{"name": "c", "type": "conv2d", "out_channels": 0}], SpecError,
     "layers[1] (c).out_channels: must be at least 1"),
    ([{"name": "c", "type": "conv2d", "out_channels": 4, "kernl": 3}], SpecError,
     "layers[1] (c).kernl: unknown key"),
    ([{"name": "c", "type": "lstm"}], SpecError, "layers[1].type: unknown layer type 'lstm'"),
    # a type that is not a name at all (a list or mapping was a TypeError: unhashable)
    ([{"name": "c", "type": ["conv2d"]}], SpecError,
     "layers[1].type: unknown layer type ['conv2d']"),
    ([{"name": "c", "type": {"a": 1}}], SpecError, "layers[1].type: unknown layer type {'a': 1}"),
    ([{"name": "c", "type": "linear", "out_features": "4"}], SpecError,
     "out_features: Input should be a valid integer"),
    ([{"name": "c", "type": "conv2d", "out_channels": 4, "kernel": 9}], WorkloadError,
     "layer 'c': a 9x9 kernel does not fit the 8x8 input"),
    # the window a dilated kernel spans, and the input its padding makes (by hand)
    ([{"name": "c", "type": "conv2d", "out_channels": 4, "kernel": 3, "dilation": 5}],
     WorkloadError, "a 3x3 kernel (spanning 11x11 at dilation 5x5) does not fit the 8x8 input"),
    ([{"name": "c", "type": "conv2d", "out_channels": 4, "kernel": 11, "padding": 1}],
     WorkloadError, "a 11x11 kernel does not fit the 10x10 padded input (8x8 before padding)"),
    ([{"name": "c", "type": "conv2d", "out_channels": 6, "groups": 4}], WorkloadError,
     "layer 'c': groups=4 must divide"),
    ([{"name": "a", "type": "activation", "inputs": ["b"]},
      {"name": "b", "type": "activation", "inputs": ["a"]}], WorkloadError,
     "the layer graph has a cycle: a -> b -> a"),
    ([{"name": "x", "type": "input", "shape": [1, 1, 1]}], WorkloadError,
     "layer 'x': the layer graph is not connected: x not linked to 'in'"),
    ([{"name": "c", "type": "linear", "out_features": 3, "inputs": ["nope"]}], WorkloadError,
     "layer 'c': input 'nope' is not a layer of this workload"),
    ([{"name": "l", "type": "linear", "out_features": 3},
      {"name": "s", "type": "elementwise", "inputs": ["l", "in"]}], WorkloadError,
     "layer 's': input shapes (3, 8, 8), (4, 8, 8) do not broadcast"),
    ([{"name": "in", "type": "activation"}], WorkloadError, "layer 'in': two layers share"),
])
def test_bad_workloads_name_the_layer(layers, error, fragment):
    with pytest.raises(error) as caught:
        workload_from_dict(_doc(*layers), source="w.yaml")
    assert fragment in str(caught.value)
    assert str(caught.value).startswith("w.yaml")


def test_layers_built_in_python_take_square_pairs_and_are_validated():
    """As in YAML, one int is a square kernel, stride or padding; a field YAML would reject is
    named, not a TypeError from the shape arithmetic or a silently odd shape."""
    from accelsim.workload.layers import Pool2d, Upsample
    wl = Workload.from_layers("py", [Input("in", shape=(3, 12, 12)),
                                     Conv2d("c", ("in",), 8, kernel=3, padding=1, stride=1),
                                     Pool2d("p", ("c",), kernel=2, stride=2),
                                     Upsample("u", ("p",), scale=3)])
    assert wl.shapes["c"] == (8, 12, 12)          # 12 + 2 - 3 + 1
    assert wl.shapes["p"] == (8, 6, 6) and wl.shapes["u"] == (8, 18, 18)
    assert wl.layers["c"].kernel == (3, 3)
    for bad, fragment in ((dict(kernel="3"), "kernel: Input should be a valid tuple"),
                          (dict(kernel=(3,)), "kernel: has 1 item(s), too few (got (3,))"),
                          (dict(stride=0), "stride.0: must be at least 1"),
                          (dict(padding=-1), "padding.0: must be at least 0")):
        with pytest.raises(WorkloadError, match="layer 'c'") as caught:
            Workload.from_layers("py", [Input("in", shape=(3, 12, 12)),
                                        Conv2d("c", ("in",), 8, **bad)])
        assert fragment in str(caught.value)


def test_zoo_layers_pass_the_validation_they_skip():
    """The zoo builds its workloads with validated=True (no second pass of the layers' field
    validation on every load); each of its layers passes that validation."""
    from accelsim.workload import ZOO
    from accelsim.workload.graph import _validate
    for name in ZOO:
        for layer in load_workload(name).layers.values():
            _validate(name, layer)


def test_top_level_keys_and_version():
    with pytest.raises(SpecError, match="w.yaml: extra: unknown key"):
        workload_from_dict({**_doc(), "extra": 1}, source="w.yaml")
    with pytest.raises(SpecError, match="version: required, and must be 1"):
        workload_from_dict({"layers": []}, source="w.yaml")
    with pytest.raises(SpecError, match="layers: must be a non-empty list"):
        workload_from_dict({"version": 1, "layers": []}, source="w.yaml")


def test_unknown_names_and_file_types(tmp_path):
    with pytest.raises(SpecError, match="unknown workload; available: mlp"):
        load_workload("resnet1000")
    with pytest.raises(SpecError, match="m.txt: unsupported workload file type"):
        load_workload(tmp_path / "m.txt")
    with pytest.raises(SpecError, match="file not found"):
        load_workload(tmp_path / "missing.yaml")


def test_built_graph_is_a_held_networkx_digraph():
    wl = Workload.from_layers("w", [Input("in", shape=(3, 1, 1)), Linear("fc", ("in",), 2)])
    assert list(wl.graph.edges) == [("in", "fc")]
    assert wl.order == ("in", "fc")


def test_the_workload_reference_in_docs_is_the_schema():
    """docs/workloads.md is rendered from the layer classes; regenerate it with
    `python -m accelsim.workload.reference > docs/workloads.md` after changing a layer."""
    from pathlib import Path

    from accelsim.workload.reference import render
    doc = Path(__file__).parents[1] / "docs" / "workloads.md"
    assert doc.read_text() == render()
    for kind in ("conv2d", "pool2d", "layer_norm", "matmul"):
        assert f"## `type: {kind}`" in doc.read_text()


@pytest.mark.parametrize("entry, hint", [
    ("{name: c, type: conv2d, out_channels: 4, kernel_size: 3}", "did you mean 'kernel'?"),
    ("{name: p, type: pool2d, mode: max}", "did you mean 'function'?"),
    ("{name: f, type: linear, out_feature: 4}", "did you mean 'out_features'?"),
    ("{name: f, type: linear, in_features: 16, out_features: 4}", "works it out from the"),
])
def test_unknown_layer_keys_suggest_the_right_one(tmp_path, entry, hint):
    from accelsim.errors import SpecError
    from accelsim.workload.load import load_workload
    path = tmp_path / "w.yaml"
    path.write_text("version: 1\nname: w\nlayers:\n  - {name: input, type: input, shape: "
                    f"[16, 4, 4]}}\n  - {entry}\n")
    with pytest.raises(SpecError, match=hint):
        load_workload(path)


def test_order_is_topological_and_consumers_are_networkx_s():
    """The workload orders and links its layers without networkx: on every zoo network and
    on a graph listed out of order, each layer comes after its inputs, and the consumers and
    sinks are networkx's successors and zero out-degree nodes (in the workload's order)."""
    import accelsim
    from accelsim.workload import Elementwise
    shuffled = Workload.from_layers("shuffled", [
        Linear("late", ("mid",), 4), Input("in", shape=(8, 1, 1)), Linear("mid", ("in",), 8),
        Elementwise("sum", ("mid", "mid"), function="add"), Linear("early", ("in",), 8)])
    for wl in [shuffled, *(accelsim.load_workload(n) for n in accelsim.available_workloads())]:
        position = {name: i for i, name in enumerate(wl.order)}
        assert all(position[a] < position[b] for a, b in wl.graph.edges), wl.name
        for name in wl.order:
            assert wl.consumers(name) == tuple(sorted(wl.graph.successors(name),
                                                      key=position.__getitem__)), name
        assert wl.sinks == [n for n in wl.order if wl.graph.out_degree(n) == 0]
    # mid has two layers ahead of it, early one: mid first. Then late, sum and early each
    # have none ahead: an elementwise layer's parameters sort before a linear's, and
    # late's 4 outputs before early's 8.
    assert shuffled.order == ("in", "mid", "sum", "late", "early")


def test_the_order_is_the_graph_s_not_the_listing_s():
    """Any valid listing of a graph gives one order: the layer with the longest chain ahead
    first; ties by the layer's parameters, then the chain behind it (a downsample reading
    the block's input before the conv3 after two convs), then the input slot it feeds (q,
    the first operand of q @ k^T, before k). Twenty shuffled listings of each zoo network
    give its order."""
    import random

    import accelsim
    from accelsim.workload import Elementwise, MatMul
    for name in accelsim.available_workloads():
        wl = accelsim.load_workload(name)
        rng = random.Random(0)
        for _ in range(20):
            waiting = {n: len(set(wl.layers[n].inputs)) for n in wl.order}
            ready, listing = [n for n in wl.order if not waiting[n]], []
            while ready:
                layer = wl.layers[ready.pop(rng.randrange(len(ready)))]
                listing.append(layer)
                for user in wl.consumers(layer.name):
                    waiting[user] -= 1
                    if not waiting[user]:
                        ready.append(user)
            assert Workload.from_layers(wl.name, listing).order == wl.order, name
    block = [Input("x", shape=(8, 4, 4)),
             Conv2d("down", ("x",), 8, kernel=1), Conv2d("c1", ("x",), 8, kernel=1),
             Conv2d("c2", ("c1",), 8, kernel=1), Conv2d("c3", ("c2",), 8, kernel=1),
             Elementwise("add", ("down", "c3"), function="add")]
    assert Workload.from_layers("b", block).order == ("x", "c1", "c2", "down", "c3", "add")
    tokens = [Input("t", shape=(8, 4, 1)), Linear("k", ("t",), 8), Linear("q", ("t",), 8),
              MatMul("s", ("q", "k"), transpose_b=True)]
    assert Workload.from_layers("a", tokens).order == ("t", "q", "k", "s")


def test_padding_as_its_own_layer_moves_no_data():
    """A Pad layer (an ONNX Pad, or the uneven part of TensorFlow's SAME padding) before a
    3 x 3 conv of 64 channels on 32 x 32 is a view: the conv's reads supply the zeros, as its
    own padding would, so the pair costs what the padded conv costs, within 0.5 % (as a copy
    on the digital unit it cost 22 % more on eyeriss-like), and the pad itself nothing."""
    from accelsim import simulate
    padded = workload_from_dict({"version": 1, "name": "a", "layers": [
        {"name": "x", "type": "input", "shape": [64, 32, 32]},
        {"name": "c", "type": "conv2d", "out_channels": 64, "kernel": 3, "padding": 1}]})
    separate = workload_from_dict({"version": 1, "name": "b", "layers": [
        {"name": "x", "type": "input", "shape": [64, 32, 32]},
        {"name": "p", "type": "pad2d", "pads": [1, 1, 1, 1]},
        {"name": "c", "type": "conv2d", "out_channels": 64, "kernel": 3}]})
    assert padded.macs == separate.macs
    for device in ("eyeriss-like", "eyeriss", "cim-16x16"):
        a, b = simulate(padded, device), simulate(separate, device)
        assert b.energy_pj == pytest.approx(a.energy_pj, rel=0.005), device
        (pad,) = [layer for layer in b.layers if layer.name == "p"]
        assert pad.energy_pj == 0


def test_upsample_to_any_size_picks_the_rows_onnx_places_by_hand():
    """3 x 3 to 7 x 7, nearest, half_pixel rounded half down: output row i reads
    input row round((i + 0.5) · 3/7 - 0.5), by hand 0, 0, 1, 1, 1, 2, 2. Fast mode and
    reference mode plan it alike."""
    import numpy as np

    import accelsim
    from accelsim.values import reference_forward
    wl = workload_from_dict({"version": 1, "name": "u", "layers": [
        {"name": "input", "type": "input", "shape": [1, 3, 3]},
        {"name": "up", "type": "upsample", "size": [7, 7]}]})
    assert wl.shapes["up"] == (1, 7, 7)
    x = np.arange(9.0).reshape(1, 1, 3, 3)
    rows = [0, 0, 1, 1, 1, 2, 2]
    np.testing.assert_array_equal(reference_forward(wl, x), x[:, :, rows][:, :, :, rows])
    fast, ref = (accelsim.simulate(wl, "cim-16x16", mode=m) for m in ("fast", "reference"))
    assert fast.cycles == ref.cycles > 0
