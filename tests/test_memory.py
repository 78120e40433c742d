"""Memory: DRAM-bound timing, global-buffer spills, resource utilization and stalls."""


import pytest

import accelsim
from accelsim.energy.table import Action
from accelsim.mapping.memory import spill_fractions
from accelsim.workload import Input, Linear, Workload
from conftest import modified


def test_a_dram_bound_load_takes_bytes_over_bandwidth_plus_latency(cim16_dict):
    # 500 MB/s at 500 MHz: 1 byte per cycle. 64 x 10 x 10 8-bit inputs = 6,400 bytes =
    # 100 bursts: 6,400 cycles of transfer, 50 cycles (100 ns) of latency, then 100 pixels x
    # 4 words / 16 banks = 25 cycles to write them into the buffer.
    d = modified(cim16_dict, **{"dram.bandwidth_bytes_per_s": "500MB/s"})
    wl = Workload.from_layers("load", [Input("in", shape=(64, 10, 10)),
                                       Linear("fc", ("in",), 16)])
    res = accelsim.simulate(wl, d)
    load = res.layers[0]
    assert (load.start_cycle, load.end_cycle) == (0, 6400 + 50 + 25)
    assert res.resources["dram"]["busy_cycles"] >= 6400


def chain(channels=256, side=16):
    return Workload.from_layers("chain", [
        Input("in", shape=(channels, side, side)),
        Linear("fc1", ("in",), channels), Linear("fc2", ("fc1",), channels)])


def test_spill_fraction_and_dram_traffic_by_hand(cim16_dict):
    # Tensors of 256 x 16 x 16 bytes = 64 KiB. A 96 KiB buffer holds fc1's input and half its
    # output: half of fc1's output (32 KiB = 512 bursts) goes to DRAM and fc2 reads it back.
    d = modified(cim16_dict, **{"global_buffer.size_bytes": "96KiB"})
    fractions = spill_fractions(chain(), d)
    assert fractions["fc1"] == pytest.approx(0.5) and fractions["fc2"] == pytest.approx(0.5)
    res = accelsim.simulate(chain(), d)
    rows = {layer.name: dict(zip(Action, res.action_counts[i]))
            for i, layer in enumerate(res.layers)}
    half = 32 * 1024 * 8
    assert rows["fc1"][Action.DRAM_WRITE_BIT] == half
    assert rows["fc2"][Action.DRAM_READ_BIT] == half            # fc1's spilled half, read back
    assert rows["fc2"][Action.DRAM_WRITE_BIT] == half
    roomy = accelsim.simulate(chain(), modified(cim16_dict, **{"global_buffer.size_bytes": "1MiB"}))
    extra = res.energy_breakdown()[("dram", "write")] - roomy.energy_breakdown()[("dram", "write")]
    assert extra == pytest.approx(2 * half * 20.3125)


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
    busy = {name: entry["busy_cycles"] for name, entry in res.resources.items()}
    assert busy == {"global_buffer": 4, "interconnect": 2, "dram": 4, "digital": 0,
                    "crossbar tiles": 40}
    assert res.resources["crossbar tiles"]["utilization"] == pytest.approx(40 / (65536 * 154))
    assert res.stalls == {}


def test_contention_shows_as_stalls():
    res = accelsim.simulate("resnet18", "cim-16x16")
    assert res.stalls["waiting for the interconnect"] > 0
    assert 0 < res.resources["interconnect"]["utilization"] <= 1


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
    assert res.images_per_second == pytest.approx(500e6 / 40)


@pytest.mark.parametrize("channels, second_load_done", [(1, 12800 + 50), (2, 6400 + 50)])
def test_dram_channels_are_separate_resources(cim16_dict, channels, second_load_done):
    """Two images' 6,400-byte input loads at 1 byte per cycle per channel: on one channel the
    second waits for the first; on two they run side by side."""
    d = modified(cim16_dict, **{"dram.bandwidth_bytes_per_s": "500MB/s",
                                "dram.channels": channels})
    wl = Workload.from_layers("load", [Input("in", shape=(64, 10, 10)),
                                       Linear("fc", ("in",), 16)])
    res = accelsim.simulate(wl, d, batch=2, trace=True)
    trace = res.trace
    loads = [i for i in range(len(trace.start))
             if trace.stage_names[trace.stage[i]] == "dram_read" and trace.layer[i] == 0]
    done = sorted(int(trace.start[i] + trace.occupancy[i]) + 50 for i in loads)
    assert done == [6400 + 50, second_load_done]
    names = set(res.resources)
    assert names >= ({"dram"} if channels == 1 else {"dram:0", "dram:1"})
