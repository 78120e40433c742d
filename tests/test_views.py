"""Views (slices, reshapes, padding, concatenation) move no data: what a layer needs through
one is what it would need of the stored tensor, so a consumer pipelines through it."""

import numpy as np
import pytest

import accelsim
from accelsim.workload import Workload
from accelsim.workload.layers import (
    Col2Im,
    Concat,
    Conv2d,
    Embedding,
    Flatten,
    Input,
    Linear,
    Pad2d,
    Pool2d,
    Reshape,
    Slice,
    Take,
    Upsample,
)
from accelsim.workload.ops import NeedRule, need


def _network(view: str | None) -> Workload:
    """conv (16 channels, 32 x 32) -> [view] -> 3 x 3 conv -> pool -> linear; every view
    leaves the second conv's input as the first conv's output."""
    layers = [Input("x", shape=(3, 32, 32)),
              Conv2d("c1", ("x",), 16, kernel=(3, 3), padding=(1, 1), activation="relu")]
    padding = (1, 1)
    if view == "rows":                     # all rows, as a slice
        layers.append(Slice("v", ("c1",), axis="height", start=0, stop=32))
    elif view == "reshape":                # (16, 32, 32) viewed as (16, 1024) and back
        layers.append(Reshape("v", ("c1",), source=(16, 1024), perm=(0, 1),
                              shape=(16, 32, 32)))
    elif view == "split":                  # rows 0-12 and 13-31, joined again
        layers += [Slice("a", ("c1",), axis="height", start=0, stop=13),
                   Slice("b", ("c1",), axis="height", start=13, stop=32),
                   Concat("v", ("a", "b"), axis="height")]
    elif view == "pad":                    # the second conv's padding as its own layer
        layers.append(Pad2d("v", ("c1",), pads=(1, 1, 1, 1)))
        padding = (0, 0)
    source = "c1" if view is None else "v"
    layers += [Conv2d("c2", (source,), 32, kernel=(3, 3), padding=padding, activation="relu"),
               Pool2d("p", ("c2",), kernel=(2, 2), stride=(2, 2)), Flatten("f", ("p",)),
               Linear("fc", ("f",), 10)]
    return Workload.from_layers("views", layers)


@pytest.mark.parametrize("view", ["rows", "reshape", "split", "pad"])
def test_a_view_that_keeps_the_tensor_costs_nothing(view):
    """The network with the view costs exactly what it costs without it, on every device,
    pipelined and layer by layer, at batch 1 and 2. Until the twenty-fifth session a row
    slice, a reshape or a row concat waited for the whole of its input, so the second conv
    no longer pipelined behind the first (cim-16x16: +87 % cycles, +33 % energy); layer by
    layer a padded input was read from DRAM padded (+13 % of its bytes); and in fast mode the
    view's own steps rounded the consumer's wait up a second time (padding, batch 2: +1.2 %)."""
    plain, viewed = _network(None), _network(view)
    for device in accelsim.available_devices():
        for execution, batch in (("pipelined", 1), ("pipelined", 2), ("layer_by_layer", 2)):
            a = accelsim.simulate(plain, device, execution=execution, batch=batch)
            b = accelsim.simulate(viewed, device, execution=execution, batch=batch)
            label = f"{device}, {execution}, batch {batch}"
            assert b.cycles == a.cycles, label
            assert b.energy_pj == pytest.approx(a.energy_pj, rel=1e-12), label


def test_what_each_view_needs_by_hand():
    """The last input vector each output vector needs (-1: none), worked out by hand from
    row-major positions (a vector is one position's channels)."""
    wl = Workload.from_layers("n", [
        Input("x", shape=(4, 3, 5)), Input("y", shape=(4, 2, 5)),
        Slice("rows", ("x",), axis="height", start=1, stop=3),       # rows 1-2 of x
        Pad2d("pad", ("x",), pads=(2, 1, 1, 0)),                    # (4, 6, 6)
        Concat("cat", ("x", "y"), axis="height"),                   # (4, 5, 5)
        Reshape("flat", ("x",), source=(4, 15), perm=(0, 1), shape=(4, 15, 1)),
        Reshape("regroup", ("x",), source=(60,), perm=(0,), shape=(2, 6, 5))])
    last = lambda layer, source, vectors: need(wl, layer, source).last_needed(  # noqa: E731
        np.array(vectors), int(np.prod(wl.shapes[source][1:]))).tolist()
    # a row slice from row 1: output vector j is input vector 5 + j
    assert last("rows", "x", [0, 4, 9]) == [5, 9, 14]
    # two rows of padding above: rows 0-1 need nothing, row 2 x's row 0 (vectors 0-4),
    # row 4 x's row 2, row 5 (padding below) all of x
    assert last("pad", "x", [0, 11, 12, 17, 29, 35]) == [-1, -1, 4, 4, 14, 14]
    # rows 0-2 are x's, rows 3-4 y's
    assert last("cat", "x", [0, 14, 15, 24]) == [4, 14, 14, 14]
    assert last("cat", "y", [0, 14, 15, 24]) == [-1, -1, 4, 9]
    # (4, 3, 5) as (4, 15, 1): position j stays position j; a regrouping of channels needs all
    assert need(wl, "flat", "x").rule == NeedRule.SAME
    assert last("flat", "x", [0, 7, 14]) == [0, 7, 14]
    assert need(wl, "regroup", "x").rule == NeedRule.ALL


def test_a_step_of_a_sequence_waits_only_for_its_own_row():
    """An LSTM's time step reads its row of the input projection through a row slice: it
    starts as soon as that row is computed, before the projection's later rows (until the
    twenty-fifth session it waited for all 20)."""
    wl = Workload.from_layers("seq", [
        Input("x", shape=(64, 20, 1)), Linear("proj", ("x",), 512),
        Slice("x0", ("proj",), axis="height", start=0, stop=1), Linear("step", ("x0",), 128)])
    for device in ("cim-16x16", "cim-128x128-rram", "hybrid-cim-systolic"):
        result = accelsim.simulate(wl, device)
        layers = {layer.name: layer for layer in result.layers}
        assert layers["step"].start_cycle < layers["proj"].end_cycle, device


def test_padding_as_its_own_layer_changes_nothing_where_inputs_spill():
    """ResNet-18 with each conv's padding as a Pad layer before it (as TensorFlow's exports
    write SAME padding) costs exactly what ResNet-18 costs on the systolic devices, whose
    108-182 kB buffers spill its inputs to DRAM: pipelined and layer by layer, the padded
    input is stored, read, brought back and streamed at its stored size. (Until the
    twenty-fifth session the padding counted as stored data there: on eyeriss +0.58 %
    energy pipelined, and layer by layer stride-2 convs read less than their whole input.)"""
    from dataclasses import replace
    resnet = accelsim.load_workload("resnet18")
    layers = []
    for name in resnet.order:
        layer = resnet.layers[name]
        if isinstance(layer, Conv2d) and any(layer.padding):
            (ph, pw) = layer.padding
            layers += [Pad2d(f"{name}.pad", layer.inputs, pads=(ph, pw, ph, pw)),
                       replace(layer, inputs=(f"{name}.pad",), padding=(0, 0))]
        else:
            layers.append(layer)
    padded = Workload.from_layers("resnet18", layers)
    for device in ("eyeriss", "eyeriss-like"):
        for execution in ("pipelined", "layer_by_layer"):
            a = accelsim.simulate(resnet, device, execution=execution)
            b = accelsim.simulate(padded, device, execution=execution)
            assert b.cycles == a.cycles, (device, execution)
            assert b.energy_pj == pytest.approx(a.energy_pj, rel=1e-12), (device, execution)


def test_upsampling_and_transposed_convs_need_only_the_rows_they_read():
    """An upsampling or the scatter of a transposed conv needs the input rows its output row
    is made of, not the whole input (by hand: nearest 2x repeats row r // 2; bilinear 2x
    with half-pixel centres reads rows 0, 0-1, 0-1, 1-2, 1-2, 2 for output rows 0-5; a
    3 x 3 transposed conv of stride 2 cropped by 1 adds input row i into output rows
    2i - 1 .. 2i + 1)."""
    wl = Workload.from_layers("n", [
        Input("x", shape=(4, 3, 5)), Upsample("near", ("x",), scale=(2, 2)),
        Upsample("bilinear", ("x",), scale=(2, 2), mode="linear")])
    transposed = Workload.from_layers("t", [
        Input("t", shape=(18, 3, 5)),
        Col2Im("scatter", ("t",), out_channels=2, kernel=(3, 3), stride=(2, 2),
               padding=(1, 1, 1, 1))])

    def last(layer, source, rows, width):
        workload = transposed if layer == "scatter" else wl
        return need(workload, layer, source).last_needed(np.array(rows) * width, 15).tolist()

    # a vector of output row r needs input rows up to rows[r]: its last vector (rows[r] + 1) 5 - 1
    assert last("near", "x", range(6), 10) == [4, 4, 9, 9, 14, 14]
    assert last("bilinear", "x", range(6), 10) == [4, 9, 9, 14, 14, 14]
    assert transposed.shapes["scatter"] == (2, 5, 9)
    assert last("scatter", "t", range(5), 9) == [4, 9, 9, 14, 14]
    # end to end: the conv after a 2x upsampling starts before the upsampling ends
    unet = Workload.from_layers("up", [
        Input("x", shape=(8, 16, 16)), Conv2d("c1", ("x",), 16, kernel=(3, 3), padding=(1, 1)),
        Upsample("up", ("c1",)), Conv2d("c2", ("up",), 8, kernel=(3, 3), padding=(1, 1))])
    for device in ("cim-16x16", "cim-128x128-rram"):
        layers = {layer.name: layer for layer in accelsim.simulate(unet, device).layers}
        assert layers["c2"].start_cycle < layers["up"].end_cycle, device


def test_picked_rows_and_channels_need_only_what_they_pick():
    """A strided slice or gather of rows needs, for output row r, every row picked up to r
    (rows 0, 2, 4 of a 5-row input: input vectors up to 2, 8, 14 of width 3; a gather of
    rows 3, 1, 4 needs row 3 from its first row on); picked channels come from the vector's
    own position; a token embedding needs its own position's index."""
    base = [Input("x", shape=(4, 5, 3))]
    strided = Workload.from_layers("s", [*base, Take("t", ("x",), axis="height", count=3)])
    gathered = Workload.from_layers("g", [*base, Take("t", ("x",), axis="height", count=3)])
    channels = Workload.from_layers("c", [*base, Take("t", ("x",), axis="channels", count=2)])
    strided = strided.with_weights({"t": np.array([0, 2, 4])})
    gathered = gathered.with_weights({"t": np.array([3, 1, 4])})
    rows = np.array([0, 3, 6])               # the first vector of each output row
    assert need(strided, "t", "x").last_needed(rows, 15).tolist() == [2, 8, 14]
    assert need(gathered, "t", "x").last_needed(rows, 15).tolist() == [11, 11, 14]
    assert need(channels, "t", "x").rule == NeedRule.SAME
    # a token embedding of one index per position looks up its own position's index
    tokens = Workload.from_layers("e", [Input("ids", shape=(1, 6, 1)),
                                        Embedding("emb", ("ids",), rows=10, dim=4)])
    assert need(tokens, "emb", "ids").rule == NeedRule.SAME
    assert need(tokens, "emb", "ids").last_needed(np.array([0, 3, 5]), 6).tolist() == [0, 3, 5]


@pytest.mark.parametrize("view", ["rows", "reshape", "split", "pad"])
def test_view_steps_found_chunk_by_chunk_are_the_same(view, monkeypatch):
    """A view's steps are found over its vectors a chunk at a time (one array per vector of
    a 2^30-element slice took 12 GB, now 0.1 GB). Chunks of 5 vectors, so that cuts fall on
    chunk edges, give the same figures as the whole view at once (these views have at most
    1,024 vectors, one chunk by default)."""
    import importlib
    lower = importlib.import_module("accelsim.mapping.lower")
    runs = [(device, mode) for device in ("cim-16x16", "eyeriss-like")
            for mode in ("fast", "reference")]
    whole = {run: accelsim.simulate(_network(view), run[0], mode=run[1]) for run in runs}
    monkeypatch.setattr(lower, "VIEW_CHUNK", 5)
    for run, expected in whole.items():
        got = accelsim.simulate(_network(view), run[0], mode=run[1])
        assert (got.cycles, got.energy_pj) == (expected.cycles, expected.energy_pj)
