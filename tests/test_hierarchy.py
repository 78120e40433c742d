"""Tile buffers beside the crossbars and the DRAM row-buffer model, against hand counts."""

import math

import pytest
from conftest import modified

import accelsim
from accelsim.energy.table import Action
from accelsim.errors import SpecError
from accelsim.hardware.pricing import resolve
from accelsim.models import sram
from accelsim.models.technology import technology
from accelsim.spec import available_devices, device_from_dict, load_device
from accelsim.spec.yamlfile import read_yaml
from accelsim.workload import Conv2d, Input, Linear, Workload

# A 512-byte buffer of one bank, 128-bit words, for every 16 crossbars.
TILE_BUFFER = {"size_bytes": "512B", "word_bits": 128, "banks": 1, "read_pj": "auto",
               "write_pj": "auto", "leakage_mw": 0.001, "crossbars": 16}


def with_tile_buffer(data, **changes):
    return modified({**data, "tile_buffer": {**TILE_BUFFER, **changes}})


def conv(stride=1, out_channels=16):
    # 16 x 8 x 8 input, 3x3 kernel, padding 1: K = 16 x 9 = 144 rows = 9 row tiles of 16.
    return Workload.from_layers("conv", [
        Input("in", shape=(16, 8, 8)),
        Conv2d("conv", ("in",), out_channels, kernel=(3, 3), stride=(stride, stride),
               padding=(1, 1))])


def conv_counts(device, workload):
    res = accelsim.simulate(workload, device)
    (row,) = [i for i, layer in enumerate(res.layers) if layer.name == "conv"]
    return res, dict(zip(Action, res.action_counts[row]))


@pytest.mark.parametrize("stride, vectors", [(1, 64), (2, 16)])
def test_a_window_that_fits_fetches_each_input_once(cim16_dict, stride, vectors):
    # Nine tiles share one buffer. Each output vector reads its 9 input slices of 16 8-bit
    # values (one 128-bit word each) from the buffer. The window holds 3 input rows x 8
    # columns x 16 channels = 384 bytes <= 512, so each of the 16 x 8 x 8 inputs leaves the
    # global buffer once: 1,024 bytes = 64 words, however many windows cover it.
    res, counts = conv_counts(with_tile_buffer(cim16_dict), conv(stride))
    assert counts[Action.TILE_BUFFER_READ] == pytest.approx(9 * vectors)
    assert counts[Action.TILE_BUFFER_WRITE] == pytest.approx(64)
    assert counts[Action.BUFFER_READ_INPUTS] == pytest.approx(64)
    # inputs once (8,192 bits) plus the outputs (16 channels x 8 bits per vector)
    assert counts[Action.BUS_BIT] == pytest.approx(64 * 128 + vectors * 16 * 8)
    assert res.layers[1].inputs_fetched == pytest.approx(64 / (9 * vectors))


def test_a_window_that_does_not_fit_refetches_every_window(cim16_dict):
    # 384 bytes of window in a 256-byte buffer: nothing is kept, so all 9 x 64 window words
    # come from the global buffer and pass through the tile buffer once each.
    res, counts = conv_counts(with_tile_buffer(cim16_dict, size_bytes="256B"), conv())
    assert res.layers[1].inputs_fetched == 1.0
    assert counts[Action.BUFFER_READ_INPUTS] == 9 * 64
    assert counts[Action.TILE_BUFFER_WRITE] == counts[Action.TILE_BUFFER_READ] == 9 * 64
    _, plain = conv_counts(modified(cim16_dict), conv())
    assert plain[Action.BUFFER_READ_INPUTS] == 9 * 64 and plain[Action.TILE_BUFFER_READ] == 0


def test_tiles_reading_the_same_inputs_share_a_buffer(cim16_dict):
    # 32 output channels: 2 column tiles x 9 row tiles. Two crossbars per buffer pair the
    # column tiles of one row: 9 buffers, 9 reads per vector. One crossbar per buffer: 18.
    _, paired = conv_counts(with_tile_buffer(cim16_dict, crossbars=2), conv(out_channels=32))
    _, single = conv_counts(with_tile_buffer(cim16_dict, crossbars=1), conv(out_channels=32))
    assert paired[Action.TILE_BUFFER_READ] == 9 * 64
    assert single[Action.TILE_BUFFER_READ] == 18 * 64
    assert paired[Action.BUFFER_READ_INPUTS] == single[Action.BUFFER_READ_INPUTS] == 64


def test_tile_buffer_prices_busy_cycles_and_leakage_by_hand(cim16_dict):
    device = with_tile_buffer(cim16_dict)
    # 'auto': the SRAM model (checked against CACTI in test_models) for one 512-byte bank of
    # 128-bit words at the device's 22 nm and 0.8 V.
    expected = sram.read_pj(512, 128, technology(22, 0.8))
    assert resolve(device).tile_buffer.read_pj == pytest.approx(expected)
    assert device.tile_buffers == 65536 // 16
    res, counts = conv_counts(device, conv())
    breakdown = res.energy_breakdown()
    assert breakdown[("tile_buffer", "read")] == pytest.approx(9 * 64 * expected)
    seconds = res.cycles / 500e6
    assert breakdown[("tile_buffer", "leakage")] == pytest.approx(4096 * 0.001e-3 * seconds
                                                                  * 1e12)
    # Per vector the buffer is read 9 words and written 1 (on average): 10 cycles on its
    # single bank, 64 vectors; the crossbars take 8 x (1 + 16 / 4) = 40 cycles per vector.
    assert res.resources["tile buffers"].busy_cycles == 64 * 10


def test_tile_buffer_spec_errors(cim16_dict):
    with pytest.raises(SpecError, match="tile_buffer.crossbars: must be at least 1"):
        with_tile_buffer(cim16_dict, crossbars=0)
    with pytest.raises(SpecError, match="tile_buffer.cols: unknown key"):
        with_tile_buffer(cim16_dict, cols=4)
    eyeriss = read_yaml(available_devices()["eyeriss-like"])
    with pytest.raises(SpecError, match="tile_buffer sits beside crossbar tiles"):
        device_from_dict({**eyeriss, "tile_buffer": TILE_BUFFER})


def load_and_store():
    # 64 x 10 x 10 bytes in (6,400 bytes = 100 bursts of 64), 16 x 10 x 10 out (1,600 bytes =
    # 25 bursts); the weights are preloaded, so no other DRAM traffic.
    return Workload.from_layers("io", [Input("in", shape=(64, 10, 10)),
                                       Linear("fc", ("in",), 16)])


@pytest.mark.parametrize("policy, opened", [("open", math.ceil(6400 / 1024)
                                             + math.ceil(1600 / 1024)), ("closed", 125)])
def test_rows_opened_by_hand(cim16_dict, policy, opened):
    device = modified(cim16_dict, **{"dram.row_bytes": 1024, "dram.activate_pj": 1000.0,
                                     "dram.page_policy": policy})
    res = accelsim.simulate(load_and_store(), device)
    assert res.dram.bursts == 125
    assert res.dram.rows_opened == opened
    assert res.dram.row_hit_rate == pytest.approx(1 - opened / 125)
    assert res.energy_breakdown()[("dram", "activate")] == pytest.approx(1000.0 * opened)
    assert res.to_dict()["dram"]["rows_opened"] == opened


def test_without_row_buffers_nothing_changes(cim16):
    res = accelsim.simulate(load_and_store(), cim16)
    assert res.dram is None and ("dram", "activate") not in res.energy_breakdown()


def test_ddr4_preset_from_the_datasheet_currents_by_hand(cim16_dict):
    # Micron 4 Gb DDR4-2400 x8, 1,200 MHz clock (0.8333 ns), eight dies to a 64-bit rank.
    # Read: 1.2 V x (184.5 - 44) mA over a 4-clock burst = 562.0 pJ for 8 x 8 = 64 bits.
    # Write: 1.2 V x (168.75 - 44) mA x 3.333 ns = 499.0 pJ for 64 bits.
    # Activate + precharge: 1.2 V x (60.75 x 55 - 44 x 39 - 38.25 x 16) mA-clocks x 0.8333 ns
    # = 1,013.25 pJ per die, 8,106 pJ per rank; a row is 1,024 columns x 8 dies = 8 KiB.
    device = modified(cim16_dict, dram={"preset": "ddr4"})
    dram = device.dram
    assert dram.read_pj_per_bit == pytest.approx(562.0 / 64)
    assert dram.write_pj_per_bit == pytest.approx(499.0 / 64)
    assert dram.activate_pj == pytest.approx(8106.0)
    assert dram.row_bytes == 8192
    assert dram.bandwidth_bytes_per_s == pytest.approx(2400e6 * 8)


def test_row_buffer_spec_errors(cim16_dict):
    with pytest.raises(SpecError, match="test: dram: activate_pj prices opening a row"):
        modified(cim16_dict, **{"dram.activate_pj": 5.0})
    with pytest.raises(SpecError, match="row_bytes .100. must be a whole number of bursts"):
        modified(cim16_dict, **{"dram.row_bytes": 100})
    with pytest.raises(SpecError, match="dram.page_policy"):
        modified(cim16_dict, **{"dram.row_bytes": 1024, "dram.page_policy": "lazy"})


def test_shipped_devices_have_no_tile_buffer_unless_they_say_so():
    assert load_device("cim-16x16").tile_buffer is None


@pytest.mark.parametrize("ports, span", [(1, 3 + 50 + 4 * 512 + 2 + 50),
                                         (2, 3 + 50 + 8 + 2 * 512 + 2 + 50)])
def test_a_second_port_lets_writes_overlap_reads(cim16_dict, ports, span):
    # relu over 64 vectors of 128 8-bit channels on a one-bank buffer: per vector 8 words
    # (8 cycles) written by the input load, read by relu, written by relu and read by the
    # output store: 512 cycles each. The load streams 128-byte vectors from DRAM (51.2 bytes
    # per cycle: the first in 3 cycles, +50 latency), the store the same way out (the last
    # in 2 cycles, +50). One port: the buffer does all four in turn, 4 x 512 cycles between
    # the first vector's arrival and the last's departure. Two ports: writes (load, relu) go
    # to one and reads (relu, store) to the other; the reads start when the first vector
    # is written (8 cycles) and the read port is then never idle: 2 x 512.
    from accelsim.workload import Activation
    device = modified(cim16_dict, **{"global_buffer.banks": 1, "global_buffer.ports": ports})
    wl = Workload.from_layers("relu", [Input("in", shape=(128, 1, 64)),
                                       Activation("relu", ("in",), function="relu")])
    res = accelsim.simulate(wl, device)
    assert res.cycles == span
    busy = {name: entry.busy_cycles for name, entry in res.resources.items()}
    # input load writes 512 words, relu reads and writes 512 each, the store reads 512
    if ports == 1:
        assert busy["global_buffer"] == 4 * 512
    else:
        assert busy["global_buffer"] == busy["global_buffer:write"] == 2 * 512


@pytest.mark.slow
def test_fast_and_reference_modes_agree_with_tile_buffers(cim16_dict):
    device = with_tile_buffer(cim16_dict, size_bytes="2KiB")
    fast = accelsim.simulate("resnet18", device)
    reference = accelsim.simulate("resnet18", device, mode="reference")
    assert fast.cycles == pytest.approx(reference.cycles, rel=0.01)
    assert fast.energy_pj == pytest.approx(reference.energy_pj, rel=0.01)


def test_sweeping_a_section_the_base_device_lacks_says_so(tmp_path):
    with pytest.raises(SpecError, match="tile_buffer: no such section in the base device; "
                                        "add one there to sweep tile_buffer.size_bytes"):
        accelsim.sweep("cim-16x16", "lenet5", grid={"tile_buffer.size_bytes": ["1KiB"]},
                       output=tmp_path / "sweep.csv", progress=False)
