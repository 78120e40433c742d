"""Simulations small enough to work out by hand, on cim-16x16 (numbers from its YAML).

Timeline conventions (see accelsim/mapping/plan.py): DRAM transfers move whole 64 B bursts at
51.2 B/cycle then wait 50 cycles (100 ns); the buffer serves 16 words per cycle; the 256-bit bus
moves one flit per cycle and adds 2 cycles; an 8-bit bit-serial MVM takes 8 input cycles of
(1 read + ceil(used columns / 4 ADCs) conversions).
"""

import math

import pytest
from conftest import modified

from accelsim import simulate
from accelsim.energy.table import BUFFER_READS, BUFFER_WRITES, DRAM_READS, Action
from accelsim.workload import Input, Linear, Workload


def linear(k, n, *more):
    layers = [Input("in", shape=(k, 1, 1)), Linear("fc", ("in",), n)]
    for index, width in enumerate(more, start=2):
        layers.append(Linear(f"fc{index}", (layers[-1].name,), width))
    return Workload.from_layers(f"linear-{k}x{n}", layers)


def leak_pj(device, cycles):
    seconds = cycles / device.clock_hz
    mw = (device.cim.tiles * device.cim.tile_leakage_mw + device.global_buffer.leakage_mw
          + device.digital.leakage_mw)
    return mw * 1e-3 * seconds * 1e12


def test_single_tile_mvm_cycles_and_every_energy_term(cim16):
    d = cim16
    res = simulate(linear(16, 16), d)
    # in: DRAM 16 B -> 1 burst: 2 cycles + 50 -> 52; buffer write 1 word -> 53.
    # fc: buffer read 1 -> 54; bus 1 flit -> 55 (+2) 57; MVM 8*(1+16/4) = 40 -> 97;
    #     bus out 1 flit -> 98 (+2) 100; no activation; buffer write 1 -> 101.
    # out: buffer read 1 -> 102; DRAM write 1 burst 2 (+50) -> 154.
    assert res.cycles == 154
    fc = next(layer for layer in res.layers if layer.name == "fc")
    assert (fc.start_cycle, fc.end_cycle, fc.tiles, fc.utilization) == (53, 101, 1, 1.0)
    c, g, bus = d.cim, d.global_buffer, d.interconnect.pj_per_bit
    assert c.cell_read_pj == 0                                 # charge-domain cells
    expected = {
        ("dac", "convert"): 16 * 8 * c.dac_pj,                 # 16 rows x 8 input cycles
        ("array", "signal"): 16 * 16 * 8 * 0.5 * c.cell_signal_pj,  # 256 cells at half scale
        ("array", "column"): 16 * 8 * c.column_read_pj,        # 16 columns x 8 cycles
        ("adc", "convert"): 16 * 8 * c.adc_pj,                 # 16 columns x 8 cycles
        ("shift_add", "add"): 16 * 8 * c.shift_add_pj,
        ("shift_add", "clock"): 16 * 8 * c.clock_pj,           # a register per converted value
        ("global_buffer", "read"): 2 * g.read_pj,              # fc inputs, output store
        ("global_buffer", "write"): 2 * g.write_pj,            # input load, fc outputs
        ("interconnect", "transfer"): (128 + 128) * bus,       # 16 x 8 bits in, 16 x 8 out
        ("dram", "read"): 512 * 20.3125,                       # one 64-byte burst
        ("dram", "write"): 512 * 20.3125,
        ("array", "leakage"): 65536 * c.tile_leakage_mw * 1e-3 * 154 / 500e6 * 1e12,
        ("global_buffer", "leakage"): g.leakage_mw * 1e-3 * 154 / 500e6 * 1e12,
        ("digital", "leakage"): d.digital.leakage_mw * 1e-3 * 154 / 500e6 * 1e12,
    }
    breakdown = res.energy_breakdown()
    assert set(breakdown) == set(expected)
    for key, pj in expected.items():
        assert breakdown[key] == pytest.approx(pj, rel=1e-12), key
    assert res.energy_pj == pytest.approx(sum(expected.values()), rel=1e-12)
    assert res.macs == 256
    assert res.tops_per_watt == pytest.approx(512 / res.energy_pj)
    assert res.one_time_programming_pj == pytest.approx(256 * c.cell_write_pj + 2048 * bus
                                                        + 4 * 512 * 20.3125)


def test_two_tile_layer_adds_partial_sums(cim16):
    res = simulate(linear(32, 16), cim16)
    # in: 32 B -> 1 burst -> 52; 2 words -> 53. fc: 2 words read -> 54; 2 flits -> 56 (+2) 58;
    # MVM 40 -> 98; 1 flit out -> 99 (+2 bus +1 adder-tree level) 102; write -> 103.
    # out: 104; DRAM 2 (+50) -> 156.
    assert res.cycles == 156
    fc = next(layer for layer in res.layers if layer.name == "fc")
    assert (fc.tiles, fc.utilization) == (2, 1.0)
    counts = dict(zip(Action, res.action_counts[[layer.name for layer in res.layers].index("fc")]))
    assert counts[Action.ADC_CONVERT] == 2 * 16 * 8
    assert counts[Action.ACCUMULATE] == 16                 # one add per output
    assert counts[Action.BUFFER_READ_INPUTS] == 2          # two 16-element input words
    assert sum(counts[a] for a in BUFFER_READS) == 2       # and nothing else
    assert counts[Action.BUS_BIT] == 32 * 8 + 16 * 8


def test_20x20_pays_for_residual_words_and_tiles(cim16):
    res = simulate(linear(20, 20), cim16)
    fc = next(layer for layer in res.layers if layer.name == "fc")
    assert (fc.tiles, round(100 * fc.utilization, 2)) == (4, 39.06)
    counts = dict(zip(Action, res.action_counts[1]))
    assert counts[Action.BUFFER_READ_INPUTS] == 2          # 16 + 4 elements: two words
    assert counts[Action.BUFFER_WRITE_OUTPUTS] == 2        # 20 outputs: two words
    assert sum(counts[a] for a in BUFFER_READS + BUFFER_WRITES) == 4
    assert counts[Action.ADC_CONVERT] == (16 + 4 + 16 + 4) * 8
    assert counts[Action.DAC_CONVERT] == (16 + 16 + 4 + 4) * 8


def test_layers_that_do_not_fit_are_reprogrammed(cim16_dict):
    d = modified(cim16_dict, **{"cim.tiles": 1})
    res = simulate(linear(16, 16, 16), d)
    # Each layer needs the single tile: two groups. At t=0 the DRAM serves the input (0..2,
    # done 52) before fc's weights (2..7, done 57: 256 B = 4 bursts = 5 cycles). Weights cross
    # the bus 57..65 (+2) 67 and are written row by row 67..83. fc computes 83..123 (its inputs
    # were on the bus by 57), bus out 123..124 (+2) 126, write 126..127.
    # fc2's weights wait for fc's MVMs (123): DRAM 123..128 (+50) 178, bus 178..186 (+2) 188,
    # write 188..204; MVM 204..244, bus 244..245 (+2) 247, write 248. Output: 248..249,
    # DRAM 249..251 (+50) 301.
    assert res.weight_groups == 2
    assert res.cycles == 301
    assert res.one_time_programming_pj == 0
    counts = dict(zip(Action, res.action_counts.sum(axis=0)))
    assert counts[Action.CELL_WRITE] == 2 * 256
    assert counts[Action.DRAM_READ_BIT_INPUTS] == 512             # the input: one burst
    assert counts[Action.DRAM_READ_BIT_WEIGHTS] == 2 * 4 * 512    # 2 x 256 B of weights
    assert sum(counts[a] for a in DRAM_READS) == 512 + 2 * 4 * 512
    fc2 = next(layer for layer in res.layers if layer.name == "fc2")
    assert (fc2.start_cycle, fc2.end_cycle, fc2.group) == (123, 248, 1)


@pytest.mark.parametrize("mode", ["fast", "reference"])
def test_small_layers_share_a_tile_instead_of_reprogramming(cim16_dict, mode):
    # One 16x16 tile. 8 -> 8 -> 16: fc takes 8 rows and 8 columns, fc2 8 rows and 16
    # columns; stacked in the tile's rows (8 + 8 = 16) both stay resident, so nothing is
    # rewritten per image: 8 x 8 + 8 x 16 = 192 cells written once, before the run. Each MVM
    # drives only its own layer's rows; the tile does one at a time (two images: the MVMs of
    # both layers never overlap).
    d = modified(cim16_dict, **{"cim.tiles": 1})
    res = simulate(linear(8, 8, 16), d, batch=2, mode=mode, trace=True)
    assert res.weight_groups == 1
    assert res.one_time_programming_pj > 0
    counts = dict(zip(Action, res.action_counts.sum(axis=0)))
    assert counts[Action.CELL_WRITE] == 0
    assert counts[Action.DRAM_READ_BIT_WEIGHTS] == 0
    assert counts[Action.DAC_CONVERT] == 2 * (8 + 8) * 8          # rows driven x input cycles
    trace = res.trace
    mvm = [i for i, s in enumerate(trace.stage_names) if str(getattr(s, "value", s)) == "mvm"]
    spans = sorted((int(trace.start[i]), int(trace.start[i] + trace.occupancy[i]))
                   for i in range(len(trace.start)) if trace.stage[i] in mvm)
    assert len(spans) == 4
    assert all(end <= start for (_, end), (start, _) in zip(spans, spans[1:]))
    # 8 -> 8 -> 16 -> 8: 8 + 8 + 16 = 32 rows do not fit one tile, so the weights are
    # rewritten for every image whatever is shared: each layer takes the tile in turn, as
    # without sharing (three groups)
    three = simulate(linear(8, 8, 16, 8), d)
    assert three.weight_groups == 3


def dynamic_pj(result):
    return sum(pj for (_, action), pj in result.energy_breakdown().items() if action != "leakage")


def test_preloading_can_be_turned_off(cim16):
    resident = simulate(linear(16, 16), cim16)
    loaded = simulate(linear(16, 16), cim16, preload_weights=False)
    assert loaded.one_time_programming_pj == 0
    assert dynamic_pj(loaded) == pytest.approx(dynamic_pj(resident)
                                               + resident.one_time_programming_pj)
    assert loaded.cycles > resident.cycles


def test_layer_larger_than_the_chip_is_split_with_partial_sums(cim16_dict):
    # 32x16 needs 2 row tiles; with one tile the rows run one after the other and the first
    # part's 16 partial sums (24 bits: 3 words) go through the buffer to the second part.
    d = modified(cim16_dict, **{"cim.tiles": 1})
    res = simulate(linear(32, 16), d)
    fc = next(layer for layer in res.layers if layer.name == "fc")
    assert fc.parts == 2 and res.weight_groups == 2
    counts = dict(zip(Action, res.action_counts[1]))
    psum_words = math.ceil(16 * 24 / 128)
    assert counts[Action.BUFFER_WRITE_PSUMS] == psum_words
    assert counts[Action.BUFFER_WRITE_OUTPUTS] == 1
    assert counts[Action.BUFFER_READ_INPUTS] == 2
    assert counts[Action.BUFFER_READ_PSUMS] == psum_words
    assert sum(counts[a] for a in BUFFER_READS + BUFFER_WRITES) == 2 * psum_words + 3
    assert counts[Action.ACCUMULATE] == 16


@pytest.mark.parametrize("mode", ["fast", "reference"])
def test_banks_and_lanes_serve_successive_narrow_vectors_side_by_side(cim16, mode):
    # relu over 64 vectors of 16 8-bit channels: one 128-bit word per vector, 16 compares.
    # The buffer's 16 banks take 16 vectors' words a cycle: the input load's writes, relu's
    # reads and writes and the store's reads are 64 words, 4 cycles each: 16 in all (a whole
    # cycle per vector would be 4 x 64 = 256). The 64 lanes do 4 vectors' compares a cycle:
    # 64 x 16 / 64 = 16 cycles (not 64). DRAM: 1,024 bytes each way at 51.2 bytes a cycle.
    from accelsim.workload import Activation
    wl = Workload.from_layers("relu", [Input("in", shape=(16, 1, 64)),
                                       Activation("relu", ("in",), function="relu")])
    res = simulate(wl, cim16, mode=mode)
    busy = {name: entry.busy_cycles for name, entry in res.resources.items()}
    assert (busy["global_buffer"], busy["digital"], busy["dram"]) == (16, 16, 2 * 20)
