"""Memory: DRAM-bound timing, global-buffer spills, resource utilization and stalls."""

import math

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
