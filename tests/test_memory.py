"""Memory: DRAM-bound timing, global-buffer spills, resource utilization and stalls."""


import pytest
from conftest import modified

import accelsim
from accelsim.energy.table import DRAM_READS, DRAM_WRITES, Action
from accelsim.hardware.pricing import resolve
from accelsim.mapping.memory import spill_fractions
from accelsim.workload import Input, Linear, Workload


def test_a_dram_bound_load_takes_bytes_over_bandwidth_plus_latency(cim16_dict):
    # 500 MB/s at 500 MHz: 1 byte per cycle. 64 x 10 x 10 8-bit inputs = 6,400 bytes =
    # 100 bursts: 6,400 cycles of transfer and 50 cycles (100 ns) of latency. The load streams
    # a pixel (64 bytes, 64 cycles) per step, each written into the buffer as it arrives
    # (100 pixels x 4 words / 16 banks = 25 cycles shared by the steps in whole cycles: the
    # first gets 1, the last 0), so the layer after it starts on the first pixel: at
    # 64 + 50 + 1 = 115 cycles, and the load ends at 6,400 + 50.
    d = modified(cim16_dict, **{"dram.bandwidth_bytes_per_s": "500MB/s"})
    wl = Workload.from_layers("load", [Input("in", shape=(64, 10, 10)),
                                       Linear("fc", ("in",), 16)])
    res = accelsim.simulate(wl, d)
    load, fc = res.layers[0], res.layers[1]
    assert (load.start_cycle, load.end_cycle) == (0, 6400 + 50)
    assert fc.start_cycle == 64 + 50 + 1
    assert res.resources["dram"].busy_cycles >= 6400


def chain(channels=256, side=16):
    return Workload.from_layers("chain", [
        Input("in", shape=(channels, side, side)),
        Linear("fc1", ("in",), channels), Linear("fc2", ("fc1",), channels)])


def test_spill_fraction_and_dram_traffic_by_hand(cim16_dict):
    # Tensors of 256 x 16 x 16 bytes = 64 KiB. A 96 KiB buffer holds fc1's input and half its
    # output: half of fc1's output (32 KiB = 512 bursts) goes to DRAM and fc2 reads it back.
    # fc2 is the network's output: its spilled half goes to DRAM as it is produced, and the
    # final store moves only the other half, so the output is written once (64 KiB).
    d = modified(cim16_dict, **{"global_buffer.size_bytes": "96KiB"})
    fractions = spill_fractions(chain(), d)
    assert fractions["fc1"] == pytest.approx(0.5) and fractions["fc2"] == pytest.approx(0.5)
    res = accelsim.simulate(chain(), d)
    rows = {layer.name: dict(zip(Action, res.action_counts[i]))
            for i, layer in enumerate(res.layers)}
    half = 32 * 1024 * 8
    assert rows["fc1"][Action.DRAM_WRITE_BIT_OUTPUTS] == half
    assert rows["fc2"][Action.DRAM_READ_BIT_INPUTS] == half      # fc1's spilled half, read back
    assert rows["fc2"][Action.DRAM_WRITE_BIT_OUTPUTS] == half
    assert rows["output"][Action.DRAM_WRITE_BIT_OUTPUTS] == half  # the half in the buffer
    assert rows["output"][Action.BUFFER_READ_OUTPUTS] == 16 * 16 * 256 / 2 / 16   # words
    written = res.action_counts[:, DRAM_WRITES].sum()
    assert written == 2 * half + half                            # fc1's half, fc2's whole
    roomy = accelsim.simulate(chain(), modified(cim16_dict, **{"global_buffer.size_bytes": "1MiB"}))
    extra = res.energy_breakdown()[("dram", "write")] - roomy.energy_breakdown()[("dram", "write")]
    assert extra == pytest.approx(half * 20.3125)                # only fc1's spilled half


def test_a_tensor_waiting_for_a_later_reader_keeps_its_place_in_the_buffer(cim16_dict):
    # in -> fc1 -> fc2 -> add(in, fc2), tensors of 64 KiB in a 160 KiB buffer. fc1 reads in
    # and writes fc1: 128 KiB, fits. fc2 reads fc1 and writes fc2 while in waits for the add:
    # 192 KiB, so half of fc2's output (32 KiB) goes to DRAM. Until the twenty-first session
    # a layer's working set was its inputs and output only, and fc2 spilled nothing.
    from accelsim.workload import Elementwise
    wl = Workload.from_layers("skip", [
        Input("in", shape=(256, 16, 16)), Linear("fc1", ("in",), 256),
        Linear("fc2", ("fc1",), 256), Elementwise("add", ("in", "fc2"), function="add")])
    fractions = spill_fractions(wl, modified(cim16_dict, **{"global_buffer.size_bytes": "160KiB"}))
    assert fractions["fc1"] == 0 and fractions["fc2"] == pytest.approx(0.5)
    # the add reads both (128 KiB) and writes 64 KiB: 192 KiB, half of its output spills
    assert fractions["add"] == pytest.approx(0.5)


def test_an_input_that_does_not_fit_is_read_from_dram_once(cim16_dict):
    # A 64 KiB input in a 48 KiB buffer: fc1's working set is input + output = 128 KiB, so the
    # input layer keeps 48 KiB (its working set is the input alone) and leaves 16 KiB in DRAM,
    # which fc1 reads from there. Every input byte leaves DRAM once: 64 KiB = 524,288 bits.
    d = modified(cim16_dict, **{"global_buffer.size_bytes": "48KiB"})
    assert spill_fractions(chain(), d)["in"] == pytest.approx(0.25)
    res = accelsim.simulate(chain(), d)
    rows = {layer.name: dict(zip(Action, res.action_counts[i]))
            for i, layer in enumerate(res.layers)}
    assert rows["in"][Action.DRAM_READ_BIT_INPUTS] == 48 * 1024 * 8
    assert rows["in"][Action.BUFFER_WRITE_INPUTS] == 48 * 1024 / 16      # 128-bit words
    assert rows["fc1"][Action.DRAM_READ_BIT_INPUTS] == 16 * 1024 * 8
    reads_of_input = (rows["in"][Action.DRAM_READ_BIT_INPUTS]
                      + rows["fc1"][Action.DRAM_READ_BIT_INPUTS])
    assert reads_of_input == 64 * 1024 * 8


def test_the_input_is_stored_and_loaded_at_the_activation_width(cim16_dict):
    # Activations live in memory at the chip's output width (here 4 bits, against 8-bit
    # inputs to the DACs), the network's input too: 256 x 16 x 16 values are 32 KiB. A
    # 24 KiB buffer keeps 24 KiB of them and fc1 reads the other 8 KiB from DRAM, so every
    # byte of the stored input leaves DRAM once (the load once read its share at 8 bits).
    d = modified(cim16_dict, **{"global_buffer.size_bytes": "24KiB", "cim.output_bits": 4})
    assert spill_fractions(chain(), d)["in"] == pytest.approx(0.25)
    for execution in ("pipelined", "layer_by_layer"):
        res = accelsim.simulate(chain(), d, execution=execution)
        rows = {layer.name: dict(zip(Action, res.action_counts[i]))
                for i, layer in enumerate(res.layers)}
        reads_of_input = (rows["in"][Action.DRAM_READ_BIT_INPUTS]
                          + rows["fc1"][Action.DRAM_READ_BIT_INPUTS])
        assert reads_of_input == 32 * 1024 * 8, execution


@pytest.mark.parametrize("device", ["cim-16x16", "eyeriss-like", "hybrid-cim-systolic"])
def test_dram_is_busy_as_long_as_its_bytes_take(cim16_dict, device):
    # 3 bytes per cycle (1.5 GB/s at 500 MHz): a 256-byte activation vector is 85 1/3 cycles
    # of transfer. Layer by layer, each layer streams its input in and its output out, a few
    # bytes per vector or fold; back-to-back transfers share cycles, so the channel is busy
    # for the bytes over the bandwidth, not a whole cycle more per vector (which was 86 x 256
    # per tensor instead of 21,846 on cim-16x16).
    from accelsim._data import data_dir
    from accelsim.spec.yamlfile import read_yaml
    spec = (cim16_dict if device == "cim-16x16"
            else read_yaml(data_dir("devices") / f"{device}.yaml"))
    d = modified(spec, **{"dram.bandwidth_bytes_per_s": "1.5GB/s", "clock_hz": "500MHz"})
    wl = Workload.from_layers("chain", [
        Input("in", shape=(256, 16, 16)), Linear("fc1", ("in",), 256),
        Linear("fc2", ("fc1",), 256)])
    for workload in (wl, "mobilenetv2"):
        res = accelsim.simulate(workload, d, execution="layer_by_layer")
        moved = sum(res.action_counts.sum(axis=0)[a] for a in (*DRAM_READS, *DRAM_WRITES)) / 8
        busy = res.resources["dram"].busy_cycles
        # (energy counts whole bursts, time the bytes: within a burst per transfer below)
        assert 0.999 * moved / 3 <= busy <= moved / 3 + 2 * len(res.layers), (workload, busy)


def test_shrinking_the_buffer_moves_energy_to_dram(cim16_dict):
    dram = []
    for size in ("2MiB", "256KiB", "64KiB"):
        res = accelsim.simulate("resnet18", modified(cim16_dict,
                                                     **{"global_buffer.size_bytes": size}))
        dram.append(res.energy_by_component()["dram"])
    assert dram[0] < dram[1] < dram[2]


def test_resource_busy_cycles_by_hand(cim16):
    # The single-tile example of test_hand_computed: buffer 4 accesses of 1 cycle, bus 2 flits,
    # DRAM 2 transfers of 2 cycles, the tile 40 cycles; nothing ever waits.
    wl = Workload.from_layers("one", [Input("in", shape=(16, 1, 1)), Linear("fc", ("in",), 16)])
    res = accelsim.simulate(wl, cim16)
    busy = {name: entry.busy_cycles for name, entry in res.resources.items()}
    assert busy == {"global_buffer": 4, "interconnect": 2, "dram": 4, "digital": 0,
                    "crossbar tiles": 40}
    assert res.resources["crossbar tiles"].utilization == pytest.approx(40 / (65536 * 154))
    assert res.stalls == {}


def test_contention_shows_as_stalls():
    res = accelsim.simulate("resnet18", "cim-16x16")
    assert res.stalls["waiting for the interconnect"] > 0
    assert 0 < res.resources["interconnect"].utilization <= 1


@pytest.mark.parametrize("mode", ["fast", "reference"])
def test_double_buffered_pipeline_by_hand(cim16, mode):
    """Two images through one 16x16 layer. Image 0 alone takes 154 cycles (see
    test_hand_computed). Image 1's input load (DRAM 2..4, done 54, buffer write 54..55)
    overlaps image 0's compute; its layer reads 55..56, crosses the bus 56..57 (+2: 59) and
    waits for the tile, busy with image 0 until 97: MVM 97..137, bus 137..138 (+2: 140), write
    140..141, output read 141..142, DRAM write 142..144 (+50): done at 194, not 2 x 154."""
    wl = Workload.from_layers("one", [Input("in", shape=(16, 1, 1)), Linear("fc", ("in",), 16)])
    res = accelsim.simulate(wl, cim16, batch=2, mode=mode)
    assert res.image_done_cycles == (154, 194)
    assert res.cycles == 194
    assert res.first_image_cycles == 154
    assert res.steady_state_cycles_per_image == 40         # the MVM is the bottleneck
    assert res.steady_state_images_per_second == pytest.approx(500e6 / 40)
    assert res.images_per_second == pytest.approx(2 * 500e6 / 194)   # 2 images in 194 cycles


@pytest.mark.parametrize("channels", [1, 2])
def test_dram_channels_are_separate_resources(cim16_dict, channels):
    """Two images, each a 6,400-byte input load and a 1,600-byte output store (100 pixels of
    16 bytes) at 1 byte per cycle per channel: 16,000 cycles of transfers. On one channel they
    queue one after another, so the run takes them all plus the last write's 50 cycles of
    latency; successive transfers take two channels in turn, so each carries half and the
    run takes about half as long."""
    d = modified(cim16_dict, **{"dram.bandwidth_bytes_per_s": "500MB/s",
                                "dram.channels": channels})
    wl = Workload.from_layers("load", [Input("in", shape=(64, 10, 10)),
                                       Linear("fc", ("in",), 16)])
    res = accelsim.simulate(wl, d, batch=2)
    busy = {name: entry.busy_cycles for name, entry in res.resources.items()
            if name.startswith("dram")}
    if channels == 1:
        assert busy == {"dram": 16000}
        assert res.cycles == 16000 + 50
    else:
        assert busy == {"dram:0": 8000, "dram:1": 8000}
        assert 8000 + 50 <= res.cycles < 8000 + 300


def three_layers():
    """Three 16 -> 16 linear layers on one 16 x 8 x 8 input: one crossbar tile each."""
    return Workload.from_layers("three", [Input("in", shape=(16, 8, 8)),
                                          Linear("a", ("in",), 16), Linear("c", ("in",), 16),
                                          Linear("b", ("in",), 16)])


def mesh_line(cim16_dict, memory_router):
    """A 3 x 1 mesh, one tile per router (a, c, b from left to right), 2-bit links so that
    the links are the bottleneck, and buffer banks to spare."""
    return modified(cim16_dict, **{"cim.tiles": 3, "interconnect.kind": "mesh",
                                   "interconnect.cols": 3, "interconnect.rows": 1,
                                   "interconnect.memory_router": memory_router,
                                   "interconnect.width_bits": 2, "global_buffer.banks": 64})


def test_two_tiles_over_one_mesh_link_take_twice_as_long_as_over_disjoint_links(cim16_dict):
    # Each layer moves 64 vectors of 16 8-bit values each way: 64 x 128 / 2 = 4,096 link
    # cycles per layer and direction. With the memory router in the middle, a and b use
    # disjoint links (c sits at the memory router and uses none). With it at the left end,
    # c's and b's traffic share the first link each way.
    disjoint = accelsim.simulate(three_layers(), mesh_line(cim16_dict, [1, 0]))
    shared = accelsim.simulate(three_layers(), mesh_line(cim16_dict, [0, 0]))
    assert disjoint.noc.link_busy_cycles == {"0,0->1,0": 4096, "1,0->0,0": 4096,
                                                "1,0->2,0": 4096, "2,0->1,0": 4096}
    assert shared.noc.link_busy_cycles == {"0,0->1,0": 8192, "1,0->0,0": 8192,
                                              "1,0->2,0": 4096, "2,0->1,0": 4096}
    assert shared.noc.busiest_link_busy_cycles == 2 * disjoint.noc.busiest_link_busy_cycles
    # bits x hops: 64 vectors x (128 in + 128 out) bits per layer and hop
    per_hop = 64 * 256
    assert disjoint.noc.hop_bits == 2 * per_hop            # a and b one hop each
    assert shared.noc.hop_bits == 3 * per_hop              # c one hop, b two
    # The layers end when the busiest link has carried its load: twice as long when shared
    # (up to the fill of the pipeline: the input load, one vector's stages, the store).
    b_disjoint, b_shared = (next(layer for layer in r.layers if layer.name == "b")
                            for r in (disjoint, shared))
    assert 4096 <= b_disjoint.end_cycle - b_disjoint.start_cycle < 4096 + 250
    assert 8192 <= b_shared.end_cycle - b_shared.start_cycle < 8192 + 250
    assert 1.9 < shared.cycles / disjoint.cycles < 2.0
    assert "waiting for a mesh link" in shared.stalls


def test_mesh_energy_counts_bit_hops(cim16_dict):
    result = accelsim.simulate(three_layers(), mesh_line(cim16_dict, [0, 0]))
    price = result.prices_pj[Action.BUS_BIT]
    assert result.energy_breakdown()[("interconnect", "transfer")] == pytest.approx(
        3 * 64 * 256 * price)
    with pytest.raises(accelsim.SpecError, match="outside the 3 x 1 mesh"):
        mesh_line(cim16_dict, [3, 0])


def test_mesh_report_line_and_resnet18_runs(cim16_dict):
    from accelsim.results.report import totals_lines
    device = modified(cim16_dict, **{"interconnect.kind": "mesh", "interconnect.cols": 16,
                                     "interconnect.rows": 16,
                                     "interconnect.memory_router": [8, 8]})
    result = accelsim.simulate("resnet18", device)
    assert result.noc.links == 2 * (15 * 16 + 15 * 16)
    line = next(line for line in totals_lines(result) if line.startswith("mesh"))
    assert "bit-hops" in line and result.noc.busiest_link in line


def test_dram_presets_fill_in_the_standard_figures(cim16_dict):
    cim16_dict["dram"] = {"preset": "hbm2"}
    dram = accelsim.device_from_dict(cim16_dict).dram
    # 2 Gb/s per pin x 128 pins = 32 GB/s per channel, 8 channels; 3.9 pJ/bit
    assert (dram.kind, dram.bandwidth_bytes_per_s, dram.channels) == ("HBM2", 32e9, 8)
    assert dram.read_pj_per_bit == pytest.approx(3.9)
    cim16_dict["dram"] = {"preset": "lpddr4", "channels": 2, "latency_ns": 50}
    dram = accelsim.device_from_dict(cim16_dict).dram
    assert (dram.channels, dram.latency_ns, dram.bandwidth_bytes_per_s) == (2, 50, 6.4e9)
    cim16_dict["dram"] = {"preset": "ddr5"}
    with pytest.raises(accelsim.SpecError, match="dram.preset: unknown DRAM preset 'ddr5'"):
        accelsim.device_from_dict(cim16_dict, source="chip.yaml")
    cim16_dict["dram"] = {"preset": ["hbm2"]}
    with pytest.raises(accelsim.SpecError, match=r"dram.preset: unknown DRAM preset \['hbm2'\]"):
        accelsim.device_from_dict(cim16_dict, source="chip.yaml")


def test_dram_type_changes_time_and_energy_of_a_spilling_network(cim16_dict):
    results = {}
    for preset in ("lpddr4", "hbm2"):
        data = {**cim16_dict, "dram": {"preset": preset}}
        data["global_buffer"] = {**data["global_buffer"], "size_bytes": "64KiB"}
        results[preset] = accelsim.simulate("resnet18", accelsim.device_from_dict(data))
    lp, hbm = results["lpddr4"], results["hbm2"]
    # same bits move; priced 8 against 3.9 pJ per bit
    bits = [r.action_counts[:, DRAM_READS].sum() for r in (lp, hbm)]
    assert bits[0] == bits[1]
    assert (lp.energy_by_component()["dram"] / hbm.energy_by_component()["dram"]
            == pytest.approx(8 / 3.9))
    assert hbm.cycles < lp.cycles                # 256 GB/s against 25.6 GB/s


def test_auto_sram_energy_scales_with_bank_size(cim16_dict):
    data = modified(cim16_dict, **{"global_buffer.read_pj": "auto",
                                   "global_buffer.write_pj": "auto"})
    # 2 MiB in 16 banks: a 128 KiB bank of 128-bit words at 22 nm. CACTI 7 (itrs-lstp, 0.8 V
    # at 22 nm; tools/data/cacti_sram.csv) reads one in 13.8 pJ and writes it in 12.3 pJ; the
    # fitted model is within its stated error of those points.
    data = resolve(data)
    assert data.global_buffer.read_pj == pytest.approx(13.8026, rel=0.25)
    assert data.global_buffer.write_pj == pytest.approx(12.2676, rel=0.25)
    small = modified(cim16_dict, **{"global_buffer.read_pj": "auto",
                                    "global_buffer.write_pj": "auto",
                                    "global_buffer.size_bytes": "128KiB"})
    # 8 KiB banks: CACTI reads 128 bits in 2.35 pJ
    small = resolve(small)
    assert small.global_buffer.read_pj == pytest.approx(2.35335, rel=0.25)
    assert small.global_buffer.read_pj < data.global_buffer.read_pj


def test_weights_take_buffer_room_from_a_spilling_output_when_it_pays():
    """A 3 x 3 conv of 32 to 32 channels on 32 x 32 on eyeriss (row stationary, 16-bit,
    110,592-byte buffer). Input and output are 32 x 32 x 32 x 2 = 65,536 bytes each: 131,072
    against the buffer, so 20,480 bytes of the output spill. The weights (3 x 3 x 32 x 32 x 2
    = 18,432 bytes) would stream from DRAM, read again by each strip's passes (5 strips:
    92,160 bytes, as until the twenty-third session). Kept in the buffer, they are read once,
    and the output spills their bytes more: 38,912. On eyeriss-like (weight stationary)
    each fold reads its own weights once already, and keeping them does not pay: that layer's
    output spills 20,480 bytes, as before."""
    wl = accelsim.workload_from_dict({"version": 1, "name": "conv", "layers": [
        {"name": "input", "type": "input", "shape": [32, 32, 32]},
        {"name": "conv", "type": "conv2d", "out_channels": 32, "kernel": 3, "padding": 1}]})
    run = accelsim.simulate(wl, "eyeriss")
    assert run.layers[1].traffic["dram_read_weights_bytes"] == 18_432
    assert run.layers[1].traffic["dram_write_outputs_bytes"] == 38_912
    assert run.layers[2].traffic["dram_write_outputs_bytes"] == 65_536 - 38_912
    other = accelsim.simulate(wl, "eyeriss-like")
    assert other.layers[1].traffic["dram_write_outputs_bytes"] == 20_480
