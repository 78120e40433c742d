"""Row stationary (Eyeriss): access counts per level against hand counts, the closed forms
against the passes they sum, and the mapping against the published Eyeriss configuration."""

import numpy as np
import pytest
from conftest import benchmark, modified
from hypothesis import given, settings
from hypothesis import strategies as st

import accelsim
from accelsim.energy.table import Action, Operand, buffer_read, pe_hop, rf_access
from accelsim.hardware.row_stationary import ConvShape, RsMapping, passes, spads, totals
from accelsim.workload import Conv2d, Input, Workload

# A 2-filter, 2-channel 3x3 conv over a 5x5 input: 3x3 outputs, 324 MACs.
SMALL = ConvShape(images=1, filters=2, channels=2, kernel=(3, 3), out=(3, 3))
# One 3x3 set, one filter and one channel per PE: four passes (2 filter groups x 2 channel
# groups), the channels inner.
ONE_SET = RsMapping(strip=3, filter_rows=3, channel_sets=1, filter_sets=1, filters_per_pe=1,
                    channels_per_pe=1, images_per_pass=1)


def test_small_conv_per_pass_by_hand():
    p = passes(SMALL, ONE_SET)
    # Each PE runs a 3-tap filter row over 3 outputs: 9 MACs, 9 PEs x 9 MACs per pass. The
    # PEs above the bottom row add the 3 psums of the PE below, a cycle each: 12 cycles.
    assert p["cycles"].tolist() == [12, 12, 12, 12]
    assert p["macs"].tolist() == [81] * 4
    # The strip's window is the whole 5x5 channel plane; 9 weights; 9 psums.
    assert p["input_reads"].tolist() == [25] * 4
    assert p["weight_reads"].tolist() == [9] * 4
    # Channel 0 writes its psums, channel 1 reads them back and writes the outputs.
    assert p["psum_writes"].tolist() == [9, 0, 9, 0]
    assert p["psum_reads"].tolist() == [0, 9, 0, 9]
    assert p["output_writes"].tolist() == [0, 9, 0, 9]
    # Network: PE (i, j) receives input row i + j (5 values): 45; each filter row goes to the
    # 3 PEs of its row: 27; each psum row (3 values) climbs 2 PEs: 18.
    assert p["pe_hops"].tolist() == [45 + 27 + 18] * 4
    # Register files: weight, input and psum read and a psum write per MAC, plus every value
    # written into them.
    assert p["rf_accesses"].tolist() == [4 * 81 + 45 + 27 + 18] * 4


def test_a_kept_window_comes_from_dram_once_for_every_filter_group():
    # SMALL on ONE_SET: passes (filter group, channel group) = (0, 0), (0, 1), (1, 0),
    # (1, 1). Not kept, every pass brings its 25 inputs; kept, the first filter group brings
    # both channels' planes and the second reads them from the buffer.
    assert passes(SMALL, ONE_SET)["new_inputs"].tolist() == [25, 25, 25, 25]
    kept = RsMapping(3, 3, 1, 1, 1, 1, 1, keep_inputs=True)
    assert passes(SMALL, kept)["new_inputs"].tolist() == [25, 25, 0, 0]
    assert passes(SMALL, kept)["input_reads"].tolist() == [25] * 4


def test_alexnet_conv1_reads_each_strip_window_from_dram_at_most_once():
    # Layer by layer, CONV1's input (4 x 3 x 227 x 227) is in DRAM and does not fit the
    # 108 kB buffer. Its strips of 14, 14, 14 and 13 output rows at stride 4 read windows of
    # 13 x 4 + 11 = 63 and 12 x 4 + 11 = 59 input rows: 248 rows of 227 values, 3 channels,
    # 4 images, 2 bytes. Before windows were kept, every one of its filter groups read them.
    res = accelsim.simulate("alexnet", "eyeriss", batch=4, execution="layer_by_layer")
    (layer,) = [layer for layer in res.layers if layer.name == "conv1"]
    read = layer.traffic["dram_read_inputs_bytes"]
    assert 0 < read <= 4 * 3 * 248 * 227 * 2


def test_two_filter_sets_share_the_input_reads():
    # Two sets side by side on a 3x6 array, one filter each: one pass per channel; each
    # input is read from the buffer once and delivered to both sets.
    mapping = RsMapping(3, 3, 1, 2, 1, 1, 1)
    p = passes(SMALL, mapping)
    assert p["cycles"].tolist() == [12, 12]
    assert p["input_reads"].tolist() == [25, 25]
    assert p["pe_hops"].tolist() == [2 * 45 + 2 * 27 + 2 * 18] * 2


shapes = st.builds(
    ConvShape, images=st.integers(1, 5), filters=st.integers(1, 40),
    channels=st.integers(1, 40), kernel=st.tuples(st.integers(1, 7), st.integers(1, 7)),
    out=st.tuples(st.integers(1, 30), st.integers(1, 30)),
    stride=st.tuples(st.integers(1, 4), st.integers(1, 4)),
    dilation=st.tuples(st.integers(1, 2), st.integers(1, 2)))
mappings = st.builds(RsMapping, strip=st.integers(1, 14), filter_rows=st.integers(1, 12),
                     channel_sets=st.integers(1, 6), filter_sets=st.integers(1, 6),
                     filters_per_pe=st.integers(1, 24), channels_per_pe=st.integers(1, 6),
                     images_per_pass=st.integers(1, 5), keep_inputs=st.booleans())


def test_psum_add_cycles_by_hand():
    # A 1x1 conv of 8 channels, 1 filter, 4x4 outputs on one 1x4 set (R' = 1, r = 1), 4
    # channels per PE: two passes. The first receives no psums: 4 channels x 4 outputs = 16
    # cycles. The second adds the first's psums, read back from the buffer: 16 + 4.
    shape = ConvShape(images=1, filters=1, channels=8, kernel=(1, 1), out=(4, 4))
    mapping = RsMapping(strip=4, filter_rows=1, channel_sets=1, filter_sets=1,
                        filters_per_pe=1, channels_per_pe=4, images_per_pass=1)
    assert passes(shape, mapping)["cycles"].tolist() == [16, 20]
    assert totals(shape, mapping)["cycles"] == 36
    # Two channel sets of 4 channels: one pass, whose upper set adds the lower set's psums.
    two_sets = RsMapping(4, 1, 2, 1, 1, 4, 1)
    assert passes(shape, two_sets)["cycles"].tolist() == [20]


@settings(max_examples=300, deadline=None)
@given(shapes, mappings)
def test_closed_forms_equal_the_sums_over_passes(shape, mapping):
    p = passes(shape, mapping)
    t = totals(shape, mapping)
    for key, value in t.items():
        assert int(p[key].sum()) == value, key
    assert t["macs"] == shape.macs


def test_eyeriss_spads_from_its_register_file():
    # 520 bytes of 16-bit entries: 12 input, 224 weight and 24 psum entries (JSSC 2017).
    assert spads(520, 16) == {"inputs": 12, "weights": 224, "psums": 24}


def rs_device(data, **changes):
    return modified(data, **{"systolic.dataflow": "rs", "systolic.rows": 3,
                             "systolic.cols": 3, "systolic.rf_bytes": 520, **changes})


def one_channel_conv():
    # 1 filter, 1 channel, 3x3 over 5x5: the only mapping on a 3x3 array is one 3x3 set.
    return Workload.from_layers("rs", [Input("in", shape=(1, 5, 5)),
                                       Conv2d("conv", ("in",), 1, kernel=(3, 3))])


@pytest.fixture
def eyeriss_dict():
    from accelsim.spec import available_devices
    from accelsim.spec.yamlfile import read_yaml
    return read_yaml(available_devices()["eyeriss-like"])


def test_simulated_counts_by_hand(eyeriss_dict):
    res = accelsim.simulate(one_channel_conv(), rs_device(eyeriss_dict))
    (row,) = [i for i, layer in enumerate(res.layers) if layer.name == "conv"]
    counts = dict(zip(Action, res.action_counts[row]))
    assert counts[Action.PE_MAC] == 81
    # Per operand, into the PEs: 9 PEs get 5 inputs each (45) and 3 weights each (27); 3
    # psums climb 2 PEs in each of 3 columns (18).
    hops = {op: counts[pe_hop(op)] for op in Operand}
    assert hops == {Operand.INPUTS: 45, Operand.WEIGHTS: 27, Operand.OUTPUTS: 0,
                    Operand.PSUMS: 18}
    # Register files: a weight and an input read per MAC plus each value written in; a psum
    # read and write per MAC plus each psum received from below.
    rf = {op: counts[rf_access(op)] for op in Operand}
    assert rf == {Operand.INPUTS: 81 + 45, Operand.WEIGHTS: 81 + 27, Operand.OUTPUTS: 0,
                  Operand.PSUMS: 2 * 81 + 18}
    layer = res.layers[row]
    assert layer.traffic["register_file_psums_accesses"] == 2 * 81 + 18
    assert layer.traffic["pe_hop_inputs_moves"] == 45
    # 25 inputs and 9 weights of 16 bits from the buffer's 16-bit words.
    assert counts[buffer_read(Operand.INPUTS)] == 25
    assert counts[buffer_read(Operand.WEIGHTS)] == 9
    assert res.layers[row].compute_cycles == 9 + 3     # 9 MACs, 3 psums added from below


def test_gating_zero_inputs_saves_three_register_file_accesses(eyeriss_dict):
    device = rs_device(eyeriss_dict, **{"systolic.zero_policy": "gating"})
    inputs = np.zeros((1, 5, 5))
    inputs[0, 2, 2] = 1.0            # one nonzero input: used by 9 of the 81 MACs
    res = accelsim.simulate(one_channel_conv(), device, values=True, inputs=inputs)
    (row,) = [i for i, layer in enumerate(res.layers) if layer.name == "conv"]
    counts = dict(zip(Action, res.action_counts[row]))
    zeros = 81 - 9
    assert counts[Action.PE_MAC] == 9
    # The weight read and the psum read and write are skipped; the input is read.
    assert counts[rf_access(Operand.WEIGHTS)] == 81 + 27 - zeros
    assert counts[rf_access(Operand.PSUMS)] == 2 * 81 + 18 - 2 * zeros
    assert counts[rf_access(Operand.INPUTS)] == 81 + 45


def test_eyeriss_alexnet_uses_the_published_pe_counts(monkeypatch):
    # JSSC 2017, Table V: active PEs 154 (CONV1), 135 (CONV2), 156 (CONV3-5) of 168. Our
    # measure: MACs per cycle in which the PEs do MACs (CONV1's last strip has 13 rows of
    # 14, so it averages 151.25). A PE spends one cycle in q S + 1 adding the psum that
    # arrives from below, so the MAC cycles are the compute cycles x q S / (q S + 1).
    from accelsim.hardware import systolic
    chosen, search = {}, systolic._rs_mapping

    def recorded(shape, *args):
        chosen[shape.kernel, shape.filters] = found = search(shape, *args)
        return found
    monkeypatch.setattr(systolic, "_rs_mapping", recorded)
    # one search per layer: no trial of keeping weights in the buffer (mapping.plan), which
    # searches again and is not kept on these layers (benchmarks/eyeriss.py is unchanged)
    from accelsim.mapping import plan
    monkeypatch.setattr(plan, "_weights_to_stage", lambda *args: {})
    res = accelsim.simulate("alexnet", "eyeriss", batch=4)
    net = accelsim.load_workload("alexnet")
    active = {}
    for layer in res.layers:
        if layer.name.startswith("conv"):
            spec = net.layers[layer.name]
            _, mapping = chosen[tuple(spec.kernel), spec.out_channels // spec.groups]
            q_s = mapping.channels_per_pe * spec.kernel[1]
            active[layer.name] = layer.macs / (layer.compute_cycles * q_s / (q_s + 1))
    assert active == pytest.approx({"conv1": 154, "conv2": 135, "conv3": 156, "conv4": 156,
                                    "conv5": 156}, rel=0.02)


def test_eyeriss_conv1_on_its_published_mapping():
    """Eyeriss's own CONV1 mapping (JSSC 2017, Table III: strips of e = 7 output rows,
    p = 16 filters and q = 1 channel per PE, r = 1 channel set, t = 2 filter sets, n = 1
    image per pass) at batch 4, by hand:
    - passes: 4 images x 8 strips (55 rows: 7 x 7 + 6) x 3 filter groups (96 / (16 x 2)) x
      3 channel groups (3 / 1) = 288, each n p F (q S + 1) = 16 x 55 x 12 = 10,560 cycles
      (every pass adds psums arriving from the PE below: R' = 11): 3,041,280 cycles, 15.2 ms
      at 200 MHz, against the chip's processing latency of 16.5 ms (Table V);
    - buffer: inputs 4 x 3 channels x 227 values x 3 filter groups x 276 input rows (7
      strips of 6 x 4 + 11 rows, one of 5 x 4 + 11) = 2,255,472; weights 96 x 3 x 121 x
      4 image groups x 8 strips = 1,115,136; psums read and written 2 x 1,161,600 outputs
      each (two channel groups after the first); outputs 1,161,600: 9,178,608 16-bit values,
      18.4 MB, against the chip's 18.5 MB."""
    shape = ConvShape(4, 96, 3, (11, 11), (55, 55), (4, 4))
    figures = totals(shape, RsMapping(strip=7, filter_rows=11, channel_sets=1, filter_sets=2,
                                      filters_per_pe=16, channels_per_pe=1,
                                      images_per_pass=1))
    assert figures["passes"] == 288
    assert figures["cycles"] == 288 * 16 * 55 * 12
    values = sum(figures[key] for key in ("input_reads", "weight_reads", "psum_reads",
                                          "psum_writes", "output_writes"))
    assert values == 2_255_472 + 1_115_136 + 4 * 1_161_600 + 1_161_600
    assert figures["cycles"] / 200e6 == pytest.approx(16.5e-3, rel=0.10)
    assert 2 * values / 1e6 == pytest.approx(18.5, rel=0.02)


def test_the_report_and_the_rows_show_each_layers_mapping(eyeriss_dict):
    """The 40-byte buffer of the test below maps the conv in one-row strips: the report's
    mapping column and the CSV/JSON row carry it; a crossbar device's report has no such
    column."""
    import io

    from rich.console import Console

    from accelsim.results.report import layer_table
    res = accelsim.simulate(one_channel_conv(),
                            rs_device(eyeriss_dict, **{"global_buffer.size_bytes": 40}))
    (row,) = [row for row in res.to_dict()["layers"] if row["name"] == "conv"]
    assert row["mapping"] == "e=1 R=3 r=1 t=1 p=1 q=1 n=1"
    text = io.StringIO()
    Console(file=text, width=240).print(layer_table(res, width=240))
    assert "mapping" in text.getvalue() and "e=1 R=3 r=1 t=1 p=1 q=1 n=1" in text.getvalue()
    plain = io.StringIO()
    Console(file=plain, width=240).print(layer_table(accelsim.simulate("lenet5", "cim-16x16"),
                                                     width=240))
    assert "mapping" not in plain.getvalue()


def test_a_buffer_too_small_for_any_pass_names_the_layer(eyeriss_dict):
    from accelsim.errors import MappingError
    # 16 bytes cannot hold the smallest pass: 3 input rows of 5 values and 3 psums, 16 bits
    # each, 36 bytes.
    device = rs_device(eyeriss_dict, **{"global_buffer.size_bytes": 16})
    with pytest.raises(MappingError, match="layer 'conv': row stationary: no mapping of a "
                                           "3x3 filter fits: the smallest pass \\(one output "
                                           "row: 3 input row\\(s\\) of 5 values and 3 psums, "
                                           "36 bytes\\) does not fit the global buffer "
                                           "\\(16 bytes\\)"):
        accelsim.simulate(one_channel_conv(), device)


def test_a_buffer_too_small_for_the_whole_array_maps_on_fewer_pes(eyeriss_dict):
    # The 3x3 conv over 5x5 on a 3x3 array: the one full-array pass holds 25 inputs and 9
    # psums (68 bytes). A 40-byte buffer holds a pass of one output row (15 inputs and 3
    # psums, 36 bytes): three passes of one 3-PE column, each 3 outputs x (3 taps + 1 psum
    # added from below) = 12 cycles, 36 in all; the other 6 PEs idle.
    device = rs_device(eyeriss_dict, **{"global_buffer.size_bytes": 40})
    res = accelsim.simulate(one_channel_conv(), device)
    (layer,) = [layer for layer in res.layers if layer.name == "conv"]
    assert layer.macs == 81
    assert layer.compute_cycles == 36
    # one-row strips of one set of the 3 filter rows, one filter, channel and image per pass
    assert layer.mapping == "e=1 R=3 r=1 t=1 p=1 q=1 n=1"
    # Per pass, each of the 3 PEs receives its 5-value input row and its 3-tap filter row,
    # and the 3 psums climb 2 PEs.
    assert layer.traffic["pe_hop_inputs_moves"] == 3 * 3 * 5
    assert layer.traffic["pe_hop_weights_moves"] == 3 * 3 * 3
    assert layer.traffic["pe_hop_psums_moves"] == 3 * 3 * 2


def test_a_filter_row_longer_than_the_input_scratchpad_is_cut_into_segments():
    # A 1 x 5 filter over a 1 x 7 row, 3 outputs, with room for 3 input entries: segments of
    # 3 and 2 taps, one pass each. Segment 1 reads inputs 0-4 (3 outputs x 3 taps = 9 MACs,
    # 9 cycles); segment 2 reads inputs 3-6 (6 MACs) and adds segment 1's psums from the
    # buffer (3 cycles): 9 cycles.
    shape = ConvShape(images=1, filters=1, channels=1, kernel=(1, 5), out=(1, 3))
    mapping = RsMapping(strip=1, filter_rows=1, channel_sets=1, filter_sets=1,
                        filters_per_pe=1, channels_per_pe=1, images_per_pass=1, segment=3)
    p = passes(shape, mapping)
    assert p["macs"].tolist() == [9, 6]
    assert p["cycles"].tolist() == [9, 6 + 3]
    assert p["input_reads"].tolist() == [5, 4]
    assert p["weight_reads"].tolist() == [3, 2]
    assert p["psum_writes"].tolist() == [3, 0]
    assert p["psum_reads"].tolist() == [0, 3]
    assert p["output_writes"].tolist() == [0, 3]
    from accelsim.hardware.row_stationary import candidates
    found = list(candidates(shape, rows=1, cols=1, spad={"inputs": 3, "weights": 20,
                                                          "psums": 4},
                            buffer_bytes=1024, operand_bits=16, accumulator_bits=16))
    assert found and {m.segment for m in found} == {3}


def test_vit_patches_run_row_stationary_on_eyeriss():
    # ViT-B/16's 16 x 16 patch embedding has filter rows of 16 taps against Eyeriss's 12
    # input entries: two segments of 8.
    res = accelsim.simulate("vit-b16", "eyeriss")
    assert res.cycles > 0 and res.macs == accelsim.load_workload("vit-b16").macs


@pytest.mark.parametrize("workload", ["resnet50", "mobilenetv2"])
def test_a_wider_array_is_not_slower(workload):
    """The search may leave PEs idle, so four times the columns can always do what the narrow
    array does. When it only left them idle if nothing else fitted the buffer, keeping every
    PE set busy overloaded the buffer network: 4x the columns ran ResNet-50 31 % slower at
    32 % more energy. (Without the clock: four times the PEs clock four times the flip-flops,
    idle or not, which costs energy however the layers are mapped.)"""
    from accelsim import simulate
    from accelsim._data import data_dir
    from accelsim.spec.yamlfile import read_yaml
    from accelsim.sweep.grid import apply
    base = read_yaml(data_dir("devices") / "eyeriss.yaml")
    narrow = simulate(workload, apply(base, {"systolic.cols": 14, "systolic.clock_pj": 0.0},
                                      source="test"))
    wide = simulate(workload, apply(base, {"systolic.cols": 56, "systolic.clock_pj": 0.0},
                                    source="test"))
    assert wide.cycles <= narrow.cycles * 1.005
    assert wide.cycles * wide.energy_pj <= narrow.cycles * narrow.energy_pj * 1.005


def test_a_pointwise_layer_of_one_position_per_row_is_rearranged():
    """A linear layer over tokens arrives as T rows of one position. Its positions are
    independent, so the search also tries every E' x F' = T arrangement (row-major, so
    strips stay contiguous); layers whose rows hold several positions, or whose filters span
    several, keep their own."""
    from accelsim.hardware.row_stationary import layouts
    twelve = ConvShape(1, 8, 4, (1, 1), (12, 1))
    assert [s.out for s in layouts(twelve)] == [(12, 1), (6, 2), (4, 3), (3, 4), (2, 6),
                                                  (1, 12)]
    assert all(s.macs == twelve.macs for s in layouts(twelve))
    assert [s.out for s in layouts(ConvShape(1, 8, 4, (1, 1), (8, 8)))] == [(8, 8)]
    assert [s.out for s in layouts(ConvShape(1, 8, 4, (3, 3), (12, 1)))] == [(12, 1)]
    assert [s.out for s in layouts(ConvShape(1, 8, 4, (1, 1), (12, 1), (2, 2)))] == [(12, 1)]


def test_tokens_as_a_column_run_as_their_best_arrangement(monkeypatch, tmp_path):
    """A 128 -> 256 linear layer over 64 tokens (64 rows of 1) runs on eyeriss exactly as the
    same layer written as a 1 x 1 conv over the arrangement the search picked; the column as
    given (no search) took 104,698 cycles when measured, its weights re-read from DRAM by five
    strips, and must stay over twice as slow."""
    from accelsim.hardware import row_stationary, systolic
    from accelsim.workload.load import load_workload

    def workload(text):
        path = tmp_path / "w.yaml"
        path.write_text("version: 1\nname: w\nlayers:\n" + text)
        return load_workload(path)

    picked = []

    def recording(shape, **kwargs):
        chosen, mapping = row_stationary.best_mapping(shape, **kwargs)
        picked.append(chosen.out)
        return chosen, mapping

    systolic._rs_mapping.cache_clear()
    monkeypatch.setattr(systolic, "best_mapping", recording)
    # one search per layer (no trial of keeping the weights in the buffer: mapping.plan)
    from accelsim.mapping import plan
    monkeypatch.setattr(plan, "_weights_to_stage", lambda *args: {})
    column = workload("  - {name: x, type: input, shape: [128, 64, 1]}\n"
                      "  - {name: f, type: linear, out_features: 256}\n")
    searched = accelsim.simulate(column, "eyeriss")
    (height, width), = set(picked)
    assert height * width == 64 and width > 1
    row = workload(f"  - {{name: x, type: input, shape: [128, {height}, {width}]}}\n"
                   "  - {name: f, type: conv2d, out_channels: 256, kernel: 1}\n")
    same = accelsim.simulate(row, "eyeriss")
    assert (searched.cycles, searched.energy_pj) == (same.cycles, same.energy_pj)
    monkeypatch.setattr(row_stationary, "layouts", lambda shape: [shape])
    systolic._rs_mapping.cache_clear()
    try:
        given = accelsim.simulate(column, "eyeriss")
    finally:
        systolic._rs_mapping.cache_clear()
    assert given.cycles > 2 * searched.cycles


def test_a_spilled_input_that_fits_comes_back_once_on_row_stationary():
    """A 2 x 2 max pool on 64 x 56 x 56 (16-bit: 401 kB in, 100 kB out) then a 3 x 3 conv to 8
    channels, on eyeriss (108 kB buffer). The pool's working set spills its whole output to
    DRAM; the conv's input (100,352 bytes) fits the buffer beside the part of its output
    kept there. So the input comes back once, into the buffer: the conv reads from DRAM
    exactly what the pool wrote there. (Until the twenty-fourth session only weight-,
    output- and input-stationary layers did; the row-stationary strips re-read it: 122,880
    bytes.) A layer is planned both ways and keeps the one of lower energy x delay."""
    import accelsim
    from accelsim.workload import Conv2d, Input, Pool2d, Workload
    wl = Workload.from_layers("two", [
        Input("in", shape=(64, 56, 56)),
        Pool2d("pool", ("in",), function="max", kernel=2, stride=2),
        Conv2d("conv", ("pool",), 8, kernel=3, padding=1)])
    res = accelsim.simulate(wl, "eyeriss")
    pool, conv = (layer.traffic for layer in res.layers[1:3])
    assert pool["dram_write_outputs_bytes"] == 64 * 28 * 28 * 2
    assert conv["dram_read_inputs_bytes"] == pool["dram_write_outputs_bytes"]


def test_a_spilled_input_too_large_comes_back_as_far_as_it_fits():
    """The same pair on 64 x 64 x 64: the conv's input (131,072 bytes) no longer fits the
    110,592-byte buffer, so 110,592 bytes of it come back once and the rest (20,480) streams
    as the mapping search decides. Each byte is read at least once; and the conv reads about
    what it reads as a network of its own layer by layer (its input loaded as far as it
    fits): within 3 % (139,184 bytes there). Before the twenty-fourth session every strip
    re-read all of it: 165,376 bytes."""
    import accelsim
    from accelsim.workload import Conv2d, Input, Pool2d, Workload
    conv = Conv2d("conv", ("pool",), 8, kernel=3, padding=1)
    wl = Workload.from_layers("two", [
        Input("in", shape=(64, 64, 64)),
        Pool2d("pool", ("in",), function="max", kernel=2, stride=2), conv])
    alone = Workload.from_layers("conv", [Input("pool", shape=(64, 32, 32)), conv])
    reads = [run.layers[-2].traffic["dram_read_inputs_bytes"] for run in (
        accelsim.simulate(wl, "eyeriss"),
        accelsim.simulate(alone, "eyeriss", execution="layer_by_layer"))]
    assert reads[0] >= 64 * 32 * 32 * 2
    assert reads[0] <= 1.03 * reads[1]


def test_eyeriss_alexnet_power_and_array_time_against_the_chip():
    """Eyeriss (JSSC 2017, Table V) on AlexNet's CONV layers at batch 4 with the chip's shares
    of zero inputs gated: on-chip power within 20 % of the chip's on every layer (issue 18's
    target), and the array's busy time within 10 % of the chip's processing latency.
    (The layers' total latency misses 20 % on CONV1: docs/validation.md.)"""
    eyeriss = benchmark("eyeriss", "the chip's figures")
    rows = eyeriss.chip(eyeriss.run("alexnet"))
    assert [r["layer"] for r in rows] == ["conv1", "conv2", "conv3", "conv4", "conv5"]
    for r in rows:
        assert abs(r["power_mw"] / r["chip_power_mw"] - 1) <= 0.20, r
        assert abs(r["busy_ms"] / r["chip_busy_ms"] - 1) <= 0.10, r
