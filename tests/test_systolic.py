"""The systolic array's compute cycles against SCALE-Sim 3.0.0, layer by layer.

SCALE_SIM holds values measured with SCALE-Sim itself, produced by

    python3 -m venv /tmp/ssvenv && /tmp/ssvenv/bin/pip install "numpy<2.4" scalesim==3.0.0
    /tmp/ssvenv/bin/python benchmarks/scalesim_reference.py

(SCALE-Sim's COMPUTE_REPORT "Total Cycles", 2026-11-23). Set ACCELSIM_SCALESIM_PYTHON to such
an interpreter to also compare on random shapes.
"""

import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest
from conftest import modified

import accelsim
from accelsim import SpecError, simulate
from accelsim.energy.table import Action
from accelsim.hardware.folds import compute_cycles, fold_schedule
from accelsim.hardware.systolic import merges_batch
from accelsim.workload import Conv2d, Input, Linear, Workload

# name: (ifmap h, ifmap w, filter h, filter w, channels, filters, stride), padding 0
CONVS = {"conv3x3": (10, 10, 3, 3, 4, 16, 1), "conv5x5": (32, 32, 5, 5, 3, 6, 1),
         "conv3x3s2": (17, 17, 3, 3, 8, 24, 2), "conv1x1": (14, 14, 1, 1, 64, 128, 1),
         "conv3x3wide": (16, 16, 3, 3, 32, 64, 1)}
# name: (M, N, K)
GEMMS = {"gemm_a": (50, 20, 30), "gemm_b": (128, 128, 128), "gemm_c": (7, 300, 500),
         "gemm_d": (1000, 64, 27), "gemm_e": (1, 1000, 512)}

SCALE_SIM = [
    ("conv", "conv3x3", 8, 8, "ws", 859),
    ("conv", "conv5x5", 8, 8, "ws", 8059),
    ("conv", "conv3x3s2", 8, 8, "ws", 2321),
    ("conv", "conv1x1", 8, 8, "ws", 27903),
    ("conv", "conv3x3wide", 8, 8, "ws", 62783),
    ("gemm", "gemm_a", 8, 8, "ws", 863),
    ("gemm", "gemm_b", 8, 8, "ws", 38399),
    ("gemm", "gemm_c", 8, 8, "ws", 69425),
    ("gemm", "gemm_d", 8, 8, "ws", 32703),
    ("gemm", "gemm_e", 8, 8, "ws", 183999),
    ("conv", "conv3x3", 8, 8, "os", 799),
    ("conv", "conv5x5", 8, 8, "os", 8721),
    ("conv", "conv3x3s2", 8, 8, "os", 2063),
    ("conv", "conv1x1", 8, 8, "os", 31199),
    ("conv", "conv3x3wide", 8, 8, "os", 60399),
    ("gemm", "gemm_a", 8, 8, "os", 923),
    ("gemm", "gemm_b", 8, 8, "os", 36351),
    ("gemm", "gemm_c", 8, 8, "os", 19531),
    ("gemm", "gemm_d", 8, 8, "os", 40999),
    ("gemm", "gemm_e", 8, 8, "os", 65749),
    ("conv", "conv3x3", 8, 8, "is", 1519),
    ("conv", "conv5x5", 8, 8, "is", 27439),
    ("conv", "conv3x3s2", 8, 8, "is", 3311),
    ("conv", "conv1x1", 8, 8, "is", 29999),
    ("conv", "conv3x3wide", 8, 8, "is", 77399),
    ("gemm", "gemm_a", 8, 8, "is", 1175),
    ("gemm", "gemm_b", 8, 8, "is", 38399),
    ("gemm", "gemm_c", 8, 8, "is", 20285),
    ("gemm", "gemm_d", 8, 8, "is", 42999),
    ("gemm", "gemm_e", 8, 8, "is", 65407),
    ("conv", "conv3x3", 16, 16, "ws", 329),
    ("conv", "conv5x5", 16, 16, "ws", 4149),
    ("conv", "conv3x3s2", 16, 16, "ws", 1099),
    ("conv", "conv1x1", 16, 16, "ws", 7743),
    ("conv", "conv3x3wide", 16, 16, "ws", 17423),
    ("gemm", "gemm_a", 16, 16, "ws", 383),
    ("gemm", "gemm_b", 16, 16, "ws", 11135),
    ("gemm", "gemm_c", 16, 16, "ws", 32223),
    ("gemm", "gemm_d", 16, 16, "ws", 8367),
    ("gemm", "gemm_e", 16, 16, "ws", 94751),
    ("conv", "conv3x3", 16, 16, "os", 263),
    ("conv", "conv5x5", 16, 16, "os", 5144),
    ("conv", "conv3x3s2", 16, 16, "os", 815),
    ("conv", "conv1x1", 16, 16, "os", 9775),
    ("conv", "conv3x3wide", 16, 16, "os", 16535),
    ("gemm", "gemm_a", 16, 16, "os", 479),
    ("gemm", "gemm_b", 16, 16, "os", 10111),
    ("gemm", "gemm_c", 16, 16, "os", 10069),
    ("gemm", "gemm_d", 16, 16, "os", 14363),
    ("gemm", "gemm_e", 16, 16, "os", 34145),
    ("conv", "conv3x3", 16, 16, "is", 743),
    ("conv", "conv5x5", 16, 16, "is", 12739),
    ("conv", "conv3x3s2", 16, 16, "is", 1399),
    ("conv", "conv1x1", 16, 16, "is", 9047),
    ("conv", "conv3x3wide", 16, 16, "is", 25739),
    ("gemm", "gemm_a", 16, 16, "is", 527),
    ("gemm", "gemm_b", 16, 16, "is", 11135),
    ("gemm", "gemm_c", 16, 16, "is", 11071),
    ("gemm", "gemm_d", 16, 16, "is", 13859),
    ("gemm", "gemm_e", 16, 16, "is", 33471),
    ("conv", "conv3x3", 32, 32, "ws", 315),
    ("conv", "conv5x5", 32, 32, "ws", 2633),
    ("conv", "conv3x3s2", 32, 32, "ws", 473),
    ("conv", "conv1x1", 32, 32, "ws", 2319),
    ("conv", "conv3x3wide", 32, 32, "ws", 5219),
    ("gemm", "gemm_a", 32, 32, "ws", 143),
    ("gemm", "gemm_b", 32, 32, "ws", 3551),
    ("gemm", "gemm_c", 32, 32, "ws", 16159),
    ("gemm", "gemm_d", 32, 32, "ws", 2187),
    ("gemm", "gemm_e", 32, 32, "ws", 48639),
    ("conv", "conv3x3", 32, 32, "os", 195),
    ("conv", "conv5x5", 32, 32, "os", 3424),
    ("conv", "conv3x3s2", 32, 32, "os", 267),
    ("conv", "conv1x1", 32, 32, "os", 3527),
    ("conv", "conv3x3wide", 32, 32, "os", 4899),
    ("gemm", "gemm_a", 32, 32, "os", 183),
    ("gemm", "gemm_b", 32, 32, "os", 3039),
    ("gemm", "gemm_c", 32, 32, "os", 5619),
    ("gemm", "gemm_d", 32, 32, "os", 5695),
    ("gemm", "gemm_e", 32, 32, "os", 18367),
    ("conv", "conv3x3", 32, 32, "is", 439),
    ("conv", "conv5x5", 32, 32, "is", 7499),
    ("conv", "conv3x3s2", 32, 32, "is", 707),
    ("conv", "conv1x1", 32, 32, "is", 3107),
    ("conv", "conv3x3wide", 32, 32, "is", 9953),
    ("gemm", "gemm_a", 32, 32, "is", 227),
    ("gemm", "gemm_b", 32, 32, "is", 3551),
    ("gemm", "gemm_c", 32, 32, "is", 6303),
    ("gemm", "gemm_d", 32, 32, "is", 5055),
    ("gemm", "gemm_e", 32, 32, "is", 17503),
    ("conv", "conv3x3", 128, 128, "ws", 445),
    ("conv", "conv5x5", 128, 128, "ws", 1165),
    ("conv", "conv3x3s2", 128, 128, "ws", 445),
    ("conv", "conv1x1", 128, 128, "ws", 577),
    ("conv", "conv3x3wide", 128, 128, "ws", 1733),
    ("gemm", "gemm_a", 128, 128, "ws", 431),
    ("gemm", "gemm_b", 128, 128, "ws", 509),
    ("gemm", "gemm_c", 128, 128, "ws", 4667),
    ("gemm", "gemm_d", 128, 128, "ws", 1381),
    ("gemm", "gemm_e", 128, 128, "ws", 12255),
    ("conv", "conv3x3", 128, 128, "os", 289),
    ("conv", "conv5x5", 128, 128, "os", 2302),
    ("conv", "conv3x3s2", 128, 128, "os", 325),
    ("conv", "conv1x1", 128, 128, "os", 635),
    ("conv", "conv3x3wide", 128, 128, "os", 1083),
    ("gemm", "gemm_a", 128, 128, "os", 283),
    ("gemm", "gemm_b", 128, 128, "os", 381),
    ("gemm", "gemm_c", 128, 128, "os", 2261),
    ("gemm", "gemm_d", 128, 128, "os", 2247),
    ("gemm", "gemm_e", 128, 128, "os", 6127),
    ("conv", "conv3x3", 128, 128, "is", 397),
    ("conv", "conv5x5", 128, 128, "is", 2715),
    ("conv", "conv3x3s2", 128, 128, "is", 405),
    ("conv", "conv1x1", 128, 128, "is", 1019),
    ("conv", "conv3x3wide", 128, 128, "is", 2675),
    ("gemm", "gemm_a", 128, 128, "is", 401),
    ("gemm", "gemm_b", 128, 128, "is", 509),
    ("gemm", "gemm_c", 128, 128, "is", 2727),
    ("gemm", "gemm_d", 128, 128, "is", 3567),
    ("gemm", "gemm_e", 128, 128, "is", 5527),
    ("conv", "conv3x3", 12, 14, "ws", 599),
    ("conv", "conv5x5", 12, 14, "ws", 5739),
    ("conv", "conv3x3s2", 12, 14, "ws", 1199),
    ("conv", "conv1x1", 12, 14, "ws", 13919),
    ("conv", "conv3x3wide", 12, 14, "ws", 27839),
    ("gemm", "gemm_a", 12, 14, "ws", 515),
    ("gemm", "gemm_b", 12, 14, "ws", 18039),
    ("gemm", "gemm_c", 12, 14, "ws", 39731),
    ("gemm", "gemm_d", 12, 14, "ws", 15539),
    ("gemm", "gemm_e", 12, 14, "ws", 114551),
    ("conv", "conv3x3", 12, 14, "os", 719),
    ("conv", "conv5x5", 12, 14, "os", 6533),
    ("conv", "conv3x3s2", 12, 14, "os", 1151),
    ("conv", "conv1x1", 12, 14, "os", 14959),
    ("conv", "conv3x3wide", 12, 14, "os", 26519),
    ("gemm", "gemm_a", 12, 14, "os", 539),
    ("gemm", "gemm_b", 12, 14, "os", 16719),
    ("gemm", "gemm_c", 12, 14, "os", 11527),
    ("gemm", "gemm_d", 12, 14, "os", 21419),
    ("gemm", "gemm_e", 12, 14, "os", 38591),
    ("conv", "conv3x3", 12, 14, "is", 779),
    ("conv", "conv5x5", 12, 14, "is", 16463),
    ("conv", "conv3x3s2", 12, 14, "is", 1799),
    ("conv", "conv1x1", 12, 14, "is", 13775),
    ("conv", "conv3x3wide", 12, 14, "is", 33599),
    ("gemm", "gemm_a", 12, 14, "is", 671),
    ("gemm", "gemm_b", 12, 14, "is", 18039),
    ("gemm", "gemm_c", 12, 14, "is", 14111),
    ("gemm", "gemm_d", 12, 14, "is", 21599),
    ("gemm", "gemm_e", 12, 14, "is", 44547),
]


def workload(kind, name):
    if kind == "conv":
        h, w, fh, fw, c, f, s = CONVS[name]
        return Workload.from_layers(name, [
            Input("in", shape=(c, h, w)),
            Conv2d("layer", ("in",), out_channels=f, kernel=(fh, fw), stride=(s, s))])
    m, n, k = GEMMS[name]
    return Workload.from_layers(name, [Input("in", shape=(k, m, 1)), Linear("layer", ("in",), n)])


@pytest.fixture(scope="module")
def eyeriss_dict():
    from accelsim._data import data_dir
    from accelsim.spec.yamlfile import read_yaml
    return read_yaml(data_dir("devices") / "eyeriss-like.yaml")


@pytest.mark.parametrize("kind, name, rows, cols, dataflow, expected", SCALE_SIM)
def test_compute_cycles_equal_scale_sim(eyeriss_dict, kind, name, rows, cols, dataflow, expected):
    device = modified(eyeriss_dict, **{"systolic.rows": rows, "systolic.cols": cols,
                                       "systolic.dataflow": dataflow})
    result = simulate(workload(kind, name), device)
    layer = next(row for row in result.layers if row.name == "layer")
    assert layer.unit == "systolic"
    assert layer.compute_cycles == expected


def test_covers_all_dataflows_and_arrays_8_to_128():
    assert {row[4] for row in SCALE_SIM} == {"ws", "os", "is"}
    assert {(row[2], row[3]) for row in SCALE_SIM} >= {(8, 8), (16, 16), (32, 32), (128, 128)}
    assert len({row[1] for row in SCALE_SIM}) == len(CONVS) + len(GEMMS)


def test_array_busy_time_in_the_timeline_is_the_compute_cycles(eyeriss_dict):
    device = modified(eyeriss_dict, **{"systolic.dataflow": "os"})
    for mode in ("fast", "reference"):
        from accelsim.hardware.plan import SYSTOLIC
        from accelsim.mapping import lower, map_workload
        mapped = map_workload(workload("conv", "conv3x3wide"), device)
        program = lower(mapped.plans, placement=mapped.placement, mode=mode).program
        systolic = program.resource_names.index(SYSTOLIC)
        busy = int(program.occupancy[program.resource == systolic].sum())
        assert busy == compute_cycles(14 * 14, 64, 288, rows=12, cols=14, dataflow="os")


@pytest.mark.parametrize("dataflow", ["ws", "os", "is"])
def test_fold_traffic_conserves_macs_and_outputs(dataflow):
    folds = fold_schedule(37, 29, 53, rows=8, cols=16, dataflow=dataflow)
    assert folds.macs.sum() == 37 * 29 * 53
    assert folds.output_writes.sum() == 37 * 29          # every output written once, final
    assert folds.psum_writes.sum() == folds.psum_reads.sum()


def test_stationary_operands_per_pe_keep_partial_sums_in_the_array_by_hand():
    # M=5, K=10, N=6 on 4x4, ws: K tiles of 4, 4, 2 rows; N tiles of 4 and 2 columns. With
    # two weights per PE, K tiles {0, 1} and {2} are the groups: folds run group 0 (N tile 0:
    # K 0, K 1; N tile 1: K 0, K 1), then group 1 (N 0: K 2; N 1: K 2).
    folds = fold_schedule(5, 6, 10, rows=4, cols=4, dataflow="ws", depth=2)
    assert folds.macs.tolist() == [5 * 4 * 4, 5 * 4 * 4, 5 * 4 * 2, 5 * 4 * 2,
                                   5 * 2 * 4, 5 * 2 * 2]
    # Partial sums (M x columns) leave the array after group 0 and come back for group 1.
    assert folds.psum_writes.tolist() == [0, 20, 0, 10, 0, 0]
    assert folds.psum_reads.tolist() == [0, 0, 0, 0, 20, 10]
    assert folds.output_writes.tolist() == [0, 0, 0, 0, 20, 10]
    # One weight per PE: SCALE-Sim's order (K outer) and a round trip after every K tile.
    one = fold_schedule(5, 6, 10, rows=4, cols=4, dataflow="ws")
    assert one.macs.tolist() == [80, 40, 80, 40, 40, 20]
    assert one.psum_writes.tolist() == [20, 10, 20, 10, 0, 0]
    assert one.psum_reads.tolist() == [0, 0, 20, 10, 20, 10]
    # Deep enough for every K tile: no round trips; cycles and operands are unchanged.
    deep = fold_schedule(5, 6, 10, rows=4, cols=4, dataflow="is", depth=3)
    flat = fold_schedule(5, 6, 10, rows=4, cols=4, dataflow="is")
    assert deep.psum_reads.sum() == deep.psum_writes.sum() == 0
    for field in ("cycles", "macs", "input_reads", "weight_reads", "output_writes"):
        assert getattr(deep, field).sum() == getattr(flat, field).sum()


def test_which_output_vectors_each_fold_reads_and_completes_by_hand():
    # M=10, N=6, K=5 on 4x4. os: M blocks of 4, 4, 2 outer, N blocks of 4, 2 inner; a block
    # of M is read by both of its folds and done with its second.
    os_ = fold_schedule(10, 6, 5, rows=4, cols=4, dataflow="os")
    assert os_.reach.tolist() == [4, 4, 8, 8, 10, 10]
    assert os_.completes.tolist() == [0, 4, 0, 8, 0, 10]
    # is: K blocks of 4 and 1 outer, M blocks of 4, 4, 2 (the columns) inner; outputs are
    # done in the last K block only.
    is_ = fold_schedule(10, 6, 5, rows=4, cols=4, dataflow="is")
    assert is_.reach.tolist() == [4, 8, 10, 4, 8, 10]
    assert is_.completes.tolist() == [0, 0, 0, 4, 8, 10]
    # ws: every fold streams all of M; every output channel is done with the last fold.
    ws = fold_schedule(10, 6, 5, rows=4, cols=4, dataflow="ws")
    assert ws.reach.tolist() == [10] * 4 and ws.completes.tolist() == [0, 0, 0, 10]
    # A slice of input the folds share is brought by the first of them: ws folds (K 0, N 0),
    # (K 0, N 1), (K 1, N 0), (K 1, N 1) share M x 4 and M x 1 inputs; os folds share their
    # block of M's rows x K; is folds share nothing.
    assert ws.input_reads.tolist() == [40, 40, 10, 10]
    assert ws.first_inputs.tolist() == [40, 0, 10, 0]
    assert os_.first_inputs.tolist() == [20, 0, 20, 0, 10, 0]
    assert (is_.first_inputs == is_.input_reads).all()


def test_a_streamed_input_comes_from_dram_once_per_slice(eyeriss_dict):
    """A Linear layer on 128 tokens of 768 values into 3072, layer by layer on a 12 x 14
    weight-stationary array with a 108 kB buffer: the 196,608-byte input does not fit, so
    it streams. Each K slice (128 tokens x 12 values, 3 kB) is read from DRAM once and kept
    for the 220 blocks of N that share it: the input is read once, not 220 times. In a
    4 kB buffer two slices take more than half of it: every fold reads its own."""
    wl = Workload.from_layers("ffn", [Input("in", shape=(768, 128, 1)),
                                      Linear("fc", ("in",), out_features=3072)])

    def input_reads(**changes):
        device = modified(eyeriss_dict, **{"systolic.dataflow": "ws", **changes})
        result = simulate(wl, device, execution="layer_by_layer")
        fc = next(row for row in result.layers if row.name == "fc")
        return fc.traffic["dram_read_inputs_bytes"]

    tensor = 768 * 128 * 2
    assert tensor <= input_reads() <= 1.05 * tensor
    blocks_of_n = -(-3072 // 14)
    assert input_reads(**{"global_buffer.size_bytes": 4096}) >= 0.95 * blocks_of_n * tensor


@pytest.mark.parametrize("dataflow", ["os", "is", "rs"])
def test_a_layer_starts_on_the_first_rows_of_its_input(eyeriss_dict, dataflow):
    """Two 3x3 convs on 56x56 at batch 1: with folds that read blocks of output rows (os,
    is, row stationary's strips), the second layer starts before the first ends, and the
    pair takes fewer cycles than the two layers back to back. ws folds stream every input
    vector, so its second layer waits for the first."""
    device = modified(eyeriss_dict, **{"systolic.dataflow": dataflow})
    wl = Workload.from_layers("two", [
        Input("in", shape=(16, 56, 56)),
        Conv2d("a", ("in",), out_channels=16, kernel=(3, 3), padding=(1, 1)),
        Conv2d("b", ("a",), out_channels=16, kernel=(3, 3), padding=(1, 1))])
    piped = simulate(wl, device)
    a, b = (next(row for row in piped.layers if row.name == n) for n in "ab")
    assert b.start_cycle < a.end_cycle
    serial = simulate(wl, device, execution="layer_by_layer")
    assert piped.cycles < serial.cycles
    ws = simulate(wl, modified(eyeriss_dict, **{"systolic.dataflow": "ws"}))
    a, b = (next(row for row in ws.layers if row.name == n) for n in "ab")
    assert b.start_cycle >= a.end_cycle - 1


def test_stationary_operands_per_pe_only_for_ws_and_is(eyeriss_dict):
    with pytest.raises(SpecError, match="stationary_per_pe.*os keeps"):
        modified(eyeriss_dict, **{"systolic.dataflow": "os", "systolic.stationary_per_pe": 2})


def test_depthwise_conv_runs_as_one_gemm_per_channel(eyeriss_dict):
    # SCALE-Sim runs a depthwise layer as one single-channel layer per channel ("DP" rows).
    device = modified(eyeriss_dict, **{"systolic.dataflow": "ws"})
    wl = Workload.from_layers("dw", [Input("in", shape=(5, 10, 10)),
                                     Conv2d("layer", ("in",), out_channels=5, kernel=(3, 3),
                                            groups=5)])
    layer = next(row for row in simulate(wl, device).layers if row.name == "layer")
    one = compute_cycles(64, 1, 9, rows=12, cols=14, dataflow="ws")
    assert layer.compute_cycles == 5 * one


SCALESIM_PYTHON = os.environ.get("ACCELSIM_SCALESIM_PYTHON")


@pytest.mark.skipif(not SCALESIM_PYTHON, reason="SCALE-Sim is not installed: set "
                    "ACCELSIM_SCALESIM_PYTHON to a Python with scalesim==3.0.0 and numpy<2.4")
@pytest.mark.parametrize("dataflow", ["ws", "os", "is"])
def test_random_shapes_against_a_live_scale_sim(tmp_path, eyeriss_dict, dataflow):
    rng = np.random.default_rng({"ws": 1, "os": 2, "is": 3}[dataflow])
    rows, cols = (int(x) for x in rng.choice([4, 8, 16, 32], size=2))
    # SCALE-Sim sizes outputs as ceil((h - k) / s) + 1, PyTorch and accelsim as
    # floor((h - k) / s) + 1: trim h so that the stride divides h - k and both mean one layer.
    convs = [(f"c{i}", int(h - (h - k) % s), int(h - (h - k) % s), int(k), int(k), int(c),
              int(f), int(s))
             for i, (h, k, c, f, s) in enumerate(zip(rng.integers(6, 20, 8), rng.integers(1, 4, 8),
                                                     rng.integers(1, 40, 8), rng.integers(1, 40, 8),
                                                     rng.integers(1, 3, 8)))]
    gemms = [(f"g{i}", int(m), int(n), int(k)) for i, (m, n, k) in
             enumerate(rng.integers(1, 200, size=(8, 3)))]
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps({"rows": rows, "cols": cols, "dataflow": dataflow,
                                "convs": convs, "gemms": gemms}))
    script = Path(__file__).parents[1] / "benchmarks" / "scalesim_reference.py"
    out = json.loads(subprocess.run([SCALESIM_PYTHON, str(script), "--json", str(spec)],
                                    capture_output=True, text=True, check=True).stdout)
    device = modified(eyeriss_dict, **{"systolic.rows": rows, "systolic.cols": cols,
                                       "systolic.dataflow": dataflow})
    for (name, h, w, fh, fw, c, f, s), expected in zip(convs, out["convs"]):
        CONVS[name] = (h, w, fh, fw, c, f, s)
        layer = next(r for r in simulate(workload("conv", name), device).layers
                     if r.name == "layer")
        assert layer.compute_cycles == expected, (name, rows, cols)
    for (name, m, n, k), expected in zip(gemms, out["gemms"]):
        GEMMS[name] = (m, n, k)
        layer = next(r for r in simulate(workload("gemm", name), device).layers
                     if r.name == "layer")
        assert layer.compute_cycles == expected, (name, rows, cols)


@pytest.mark.parametrize("dataflow", ["ws", "os", "is"])
def test_a_batch_is_one_gemm_with_m_merged(eyeriss_dict, dataflow):
    """A 9216 -> 4096 Linear at batch 16 is one GEMM with M = 16 (SCALE-Sim's formula on a
    12 x 14 array), not 16 GEMMs with M = 1."""
    wl = Workload.from_layers("fc", [Input("in", shape=(9216, 1, 1)),
                                     Linear("fc", ("in",), 4096)])
    device = modified(eyeriss_dict, **{"systolic.dataflow": dataflow})
    fc = next(layer for layer in simulate(wl, device, batch=16).layers if layer.name == "fc")
    per_fold, folds = {"ws": (2 * 12 + 14 + 16 - 2, 768 * 293),          # K/R x N/C
                       "os": (12 + 14 + 9216 - 2, 2 * 293),              # M/R x N/C
                       "is": (2 * 12 + 14 + 4096 - 2, 768 * 2)}[dataflow]  # K/R x M/C
    assert fc.compute_cycles == folds * per_fold - 1
    assert fc.compute_cycles == compute_cycles(16, 4096, 9216, rows=12, cols=14,
                                               dataflow=dataflow)


def test_weights_that_do_not_fit_stream_from_dram_fold_by_fold(eyeriss_dict):
    """A 24 -> 28 Linear on the 12 x 14 array: 2 x 2 WS folds of 12 x 14 16-bit weights
    (336 bytes, 6 bursts of 64 = 384 bytes each). With a 1 KiB buffer the 1,344 bytes of
    weights do not fit beside the 104 bytes of activations, so each fold reads its own from
    DRAM (4 x 384 bytes) and none pass through the buffer. With room they are staged once
    per batch: the weight tensor read in order (1,344 bytes = 21 bursts), each fold's share
    arriving as it first needs it, written to the buffer and read by the folds."""
    wl = Workload.from_layers("fc", [Input("in", shape=(24, 1, 1)), Linear("fc", ("in",), 28)])
    small = modified(eyeriss_dict, **{"global_buffer.size_bytes": "1KiB"})
    res = simulate(wl, small)
    counts = dict(zip(Action, res.action_counts[1]))
    assert counts[Action.DRAM_READ_BIT_WEIGHTS] == 4 * 384 * 8
    assert counts[Action.BUFFER_READ_WEIGHTS] == counts[Action.BUFFER_WRITE_WEIGHTS] == 0
    roomy = simulate(wl, modified(eyeriss_dict))
    counts = dict(zip(Action, roomy.action_counts[1]))
    assert counts[Action.DRAM_READ_BIT_WEIGHTS] == 1344 * 8
    assert counts[Action.BUFFER_WRITE_WEIGHTS] == 1344 / 2       # 16-bit words
    assert counts[Action.BUFFER_READ_WEIGHTS] == 24 * 28          # each weight read once (ws)


def test_a_batch_that_only_overflows_the_buffer_merged_runs_image_by_image(eyeriss_dict):
    """A 3 x 3 depthwise conv of 16 channels of 32 x 32 (16-bit): input and output are
    2 x 16 x 32 x 32 x 2 = 65,536 bytes per image. A 96 KiB buffer holds one image's but not
    two: merged, 2 x 65,536 - 98,304 = 32,768 bytes would spill, written and read back
    (65,536 bytes), to save 288 bytes of weights (16 x 9 x 2) fetched again. So the layer
    runs image by image, and at batch 2 costs exactly twice batch 1, with no spill."""
    wl = Workload.from_layers("dw", [Input("in", shape=(16, 32, 32)),
                                     Conv2d("dw", ("in",), out_channels=16, kernel=(3, 3),
                                            padding=(1, 1), groups=16)])
    device = modified(eyeriss_dict, **{"systolic.dataflow": "ws",
                                       "global_buffer.size_bytes": "96KiB"})
    one, two = simulate(wl, device), simulate(wl, device, batch=2)
    assert np.array_equal(two.action_counts[1], 2 * one.action_counts[1])
    assert two.layers[1].traffic["dram_write_outputs_bytes"] == 0
    assert two.layers[1].compute_cycles == 2 * one.layers[1].compute_cycles


def test_merging_a_layer_does_not_spill_its_neighbours_for_less_than_it_saves():
    """small-cnn on eyeriss: conv2's 64 kB input and 64 kB output overflow the 108 kB buffer
    even for one image, so its own test merges the batch (its mapping tiles images per
    pass). Merged, though, its input and output are live for both images, and conv1, the
    add and conv3 spilled too: batch 2 cost 2.27x batch 1 (DRAM reads 2.66x). A merge that
    spills its neighbours for more than the weights it saves now runs image by image, so a
    batch never costs more per image than one image does."""
    for device in ("eyeriss", "eyeriss-like"):
        for workload in ("small-cnn", "mlp-tokens"):
            one = simulate(workload, device).energy_pj
            for batch in (2, 4):
                assert simulate(workload, device, batch=batch).energy_pj <= batch * one * 1.001


def test_a_batch_stays_merged_when_its_weights_outweigh_what_it_spills(eyeriss_dict):
    """A 4096 -> 1024 Linear: (4096 + 1024) x 2 = 10,240 bytes of activations per image fit a
    96 KiB buffer, 16 images' do not (65,536 bytes spill, 131,072 written and read), but 15
    more fetches of its 8 MiB of weights would cost far more: the batch stays one GEMM and
    reads its weights from DRAM as often as one image does."""
    wl = Workload.from_layers("fc", [Input("in", shape=(4096, 1, 1)),
                                     Linear("fc", ("in",), 1024)])
    device = modified(eyeriss_dict, **{"global_buffer.size_bytes": "96KiB"})
    one, many = simulate(wl, device), simulate(wl, device, batch=16)
    weights = [run.layers[1].traffic["dram_read_weights_bytes"] for run in (one, many)]
    assert weights[0] == weights[1] >= 4096 * 1024 * 2
    assert many.layers[1].compute_cycles == compute_cycles(16, 1024, 4096, rows=12, cols=14,
                                                           dataflow="ws")


def test_when_even_one_image_overflows_the_buffer_the_weights_decide(eyeriss_dict):
    """A 1 x 1 conv of 64 to 64 channels on 32 x 32 (16-bit): 2 x 64 x 32 x 32 x 2 = 262,144
    bytes per image overflow a 96 KiB buffer. Merging two images spills one more buffer's
    worth (98,304 bytes, 196,608 written and read) to share 8,192 bytes of weights: a
    weight-stationary layer runs image by image, exactly twice batch 1. A row-stationary
    layer stays merged (its mapping tiles the batch): it fetches its weights less often than
    two images one at a time would."""
    wl = Workload.from_layers("pw", [Input("in", shape=(64, 32, 32)),
                                     Conv2d("pw", ("in",), out_channels=64)])
    for dataflow in ("ws", "rs"):
        device = modified(eyeriss_dict, **{"systolic.dataflow": dataflow,
                                           "global_buffer.size_bytes": "96KiB"})
        assert merges_batch(wl, device, 2, "pw") == (dataflow == "rs")
        # and with more weights: 64 x 1,024 x 2 = 131,072 bytes shared against 196,608
        # spilled, not merged; 64 x 2,048: 262,144 bytes outweigh the spill, but merged, the
        # two images' K slices no longer stay in the buffer for the column folds that share
        # them, and the 163,840 input bytes beyond it would be re-read by 147 folds (one
        # image's slices stay: read once). Until the twenty-third session this one merged
        # and cost 2.4x the energy per image of batch 1.
        for out, merged in ((1024, False), (2048, False)):
            wide = Workload.from_layers("pw", [Input("in", shape=(64, 32, 32)),
                                               Conv2d("pw", ("in",), out_channels=out)])
            wide_bytes = 2 * (64 + out) * 32 * 32
            assert wide_bytes > 98_304
            if dataflow == "ws":
                assert merges_batch(wide, device, 2, "pw") == merged
    device = modified(eyeriss_dict, **{"systolic.dataflow": "ws",
                                       "global_buffer.size_bytes": "96KiB"})
    one, two = simulate(wl, device), simulate(wl, device, batch=2)
    assert np.array_equal(two.action_counts[1], 2 * one.action_counts[1])


def test_a_batch_whose_input_stops_fitting_keeps_its_slices_and_merges(eyeriss_dict):
    """MobileNetV2's last projection: a 1 x 1 conv of 960 to 320 channels on 7 x 7, 16-bit,
    on a 108 KiB (110,592-byte) buffer, weight stationary. One image's input (94,080 bytes)
    fits and is read once; two images' (188,160) do not. Merged, the 77,568 bytes beyond the
    buffer come from DRAM once all the same: each K slice of 12 channels x 98 positions stays
    in the buffer for the 23 column folds that share it (two slices, 4,704 bytes, within half
    the buffer). So the estimate reads each input element once, and sharing 614,400 bytes of
    weights (960 x 320 x 2) outweighs a buffer's worth more spilled (2 x 110,592): the batch
    is merged, fetches its weights once and costs less than two images one at a time. (Until
    the twentieth session the estimate had every column fold re-read its slice, 23 reads,
    and ran the layer image by image at exactly twice batch 1.)"""
    from accelsim.hardware.pricing import resolve
    from accelsim.hardware.systolic import _input_reads
    wl = Workload.from_layers("pw", [Input("in", shape=(960, 7, 7)),
                                     Conv2d("pw", ("in",), out_channels=320)])
    device = modified(eyeriss_dict, **{"systolic.dataflow": "ws"})
    assert device.global_buffer.size_bytes == 110_592
    assert _input_reads(wl, resolve(device), "pw", 2) == 1.0
    assert 614_400 >= 2 * 110_592
    assert merges_batch(wl, device, 2, "pw")
    one, two = simulate(wl, device), simulate(wl, device, batch=2)
    traffic = [run.layers[1].traffic for run in (one, two)]
    assert traffic[0]["dram_read_weights_bytes"] == traffic[1]["dram_read_weights_bytes"]
    # the spilled part once (not once per column fold: 23 x 77,568 = 1.8 MB), less than
    # the two images' whole input
    assert 2 * 94_080 - 110_592 <= traffic[1]["dram_read_inputs_bytes"] < 2 * 94_080
    assert two.energy_pj < 2 * one.energy_pj


def test_a_batch_whose_slices_stop_staying_runs_image_by_image(eyeriss_dict):
    """ViT-B/16's MLP projection: 197 tokens of 768 (16-bit, 302,592 bytes) to 3,072 on a
    108 KiB buffer, weight stationary. One image's input does not fit, but each K slice stays
    in the buffer for the column folds that share it, so each element comes from DRAM once.
    Eight images merged make slices too large to stay: every column fold would re-read its
    own, hundreds of times the 4.7 MB of weights merging saves. The layer runs image by
    image: batch 8 costs eight images one at a time, no more. (Until the twenty-third session
    the estimate counted re-reads only when one image's input fits; ViT-B/16 at batch 8 then
    took 3.6x the energy and 1.8x the cycles per image of batch 1.)"""
    wl = Workload.from_layers("mlp", [Input("in", shape=(768, 197, 1)),
                                      Linear("fc", ("in",), 3072)])
    device = modified(eyeriss_dict, **{"systolic.dataflow": "ws"})
    assert not merges_batch(wl, device, 8, "fc")
    one, eight = simulate(wl, device), simulate(wl, device, batch=8)
    inputs = [run.layers[1].traffic["dram_read_inputs_bytes"] for run in (one, eight)]
    assert inputs[1] == 8 * inputs[0]
    assert eight.energy_pj <= 8 * one.energy_pj * (1 + 1e-9)
    assert eight.cycles <= 8 * one.cycles


def test_a_spilled_input_that_fits_beside_the_layer_comes_back_once(eyeriss_dict):
    """1 x 1 convs, 16-bit, 16 x 16 positions: 16 -> 64 channels (A), then 64 -> 32 (B), with
    a 37 KiB (37,888-byte) buffer. A's working set is 8,192 + 32,768 bytes: 3,072 bytes of its
    output spill to DRAM. B's is 32,768 + 16,384: its output spills 11,264 bytes, so its whole
    input fits beside the rest. B then reads A's 3,072 spilled bytes from DRAM once, into the
    buffer (48 bursts of 64 bytes), not once per column fold (32 outputs on 14 columns: 3)."""
    wl = Workload.from_layers("chain", [Input("in", shape=(16, 16, 16)),
                                        Conv2d("a", ("in",), out_channels=64),
                                        Conv2d("b", ("a",), out_channels=32)])
    device = modified(eyeriss_dict, **{"systolic.dataflow": "ws",
                                       "global_buffer.size_bytes": 37 * 1024,
                                       "dram.burst_bytes": 64})
    res = simulate(wl, device)
    a, b = (next(row for row in res.layers if row.name == name) for name in ("a", "b"))
    assert a.traffic["dram_write_outputs_bytes"] == 3072
    assert b.traffic["dram_read_inputs_bytes"] == 3072
    assert b.traffic["dram_write_outputs_bytes"] == 11264


def test_depthwise_groups_share_a_weight_stationary_fold_when_they_fit(eyeriss_dict):
    """A depthwise 3 x 3 conv of 16 channels on 8 x 8 (M 64, K 9, N 1 per group). On 16 x 16
    weight-stationary PEs one group fills a fold: 16 folds of SCALE-Sim's 2 x 16 + 16 + 64 - 2
    cycles, less one each. On 64 rows, min(64 // 9, 16 // 1) = 7 groups sit side by side
    (block-diagonal), so 3 folds (7, 7, 2 groups) of 2 x 64 + 16 + 64 - 2 - 1; the MACs and
    every count but cycles are those of the 16 groups either way."""
    wl = Workload.from_layers("dw", [Input("in", shape=(16, 8, 8)),
                                     Conv2d("dw", ("in",), out_channels=16, kernel=(3, 3),
                                            padding=(1, 1), groups=16)])
    runs = {}
    for rows in (16, 64):
        device = modified(eyeriss_dict, **{"systolic.dataflow": "ws", "systolic.rows": rows,
                                           "systolic.cols": 16})
        runs[rows] = simulate(wl, device)
    assert runs[16].layers[1].compute_cycles == 16 * (2 * 16 + 16 + 64 - 2 - 1)
    assert runs[64].layers[1].compute_cycles == 3 * (2 * 64 + 16 + 64 - 2 - 1)
    macs = [int(run.action_counts[1][Action.PE_MAC]) for run in runs.values()]
    assert macs == [16 * 64 * 9] * 2
    assert runs[64].cycles < runs[16].cycles


def test_a_batch_runs_the_schedule_of_lower_energy_delay_in_every_mode():
    """small-cnn on eyeriss: every row-stationary layer fits the buffer merged, so each
    merges the batch (weights fetched once for both images). But a merged pass waits for both
    images' inputs and its consumers for its last pass, so the digital adds and pools stop
    overlapping the array: batch 2 took 1.32x the cycles of two single images for 0.98x the
    energy (until the twenty-fourth session). The batch now also runs image by image and
    keeps the schedule of lower energy x delay: that one, so the batch costs no more than
    two single images in cycles (energy within 0.1 %), and reference mode picks the same
    schedule (equal counts, so equal energy but for leakage over its cycles)."""
    from accelsim.mapping.plan import plan_workload
    from accelsim.simulate import _merges_batch
    wl, device = accelsim.load_workload("small-cnn"), accelsim.load_device("eyeriss")
    assert _merges_batch(plan_workload(wl, device, batch=2))
    assert not _merges_batch(plan_workload(wl, device, batch=2, merge=False))
    one, two = simulate(wl, device), simulate(wl, device, batch=2)
    assert two.cycles <= 2 * one.cycles
    assert two.energy_pj <= 2 * one.energy_pj * 1.001
    reference = simulate(wl, device, batch=2, mode="reference")
    dynamic = [run.energy_pj - sum(v for k, v in run.energy_breakdown().items()
                                   if k[1] == "leakage") for run in (two, reference)]
    assert dynamic[1] == pytest.approx(dynamic[0], rel=1e-9)


def test_a_spilled_input_comes_back_as_far_as_it_fits_weight_stationary():
    """A 2 x 2 max pool on 64 x 112 x 112 (16-bit) then a 1 x 1 conv to 256 channels on
    eyeriss-like (weight stationary, 108 KiB buffer), the shape of ResNet-50's first
    bottleneck conv3. The pool spills its whole 401,408-byte output; the conv's input does
    not fit, so as much as fits comes back once and the rest streams. The conv then reads
    from DRAM what it reads as a network of its own layer by layer (its input loaded as far
    as it fits), 5,636,096 bytes; before the twenty-fourth session every fold streamed it
    all: 7,626,752 bytes."""
    from accelsim.workload import Pool2d
    conv = Conv2d("conv", ("pool",), out_channels=256)
    wl = Workload.from_layers("two", [Input("in", shape=(64, 112, 112)),
                                      Pool2d("pool", ("in",), function="max", kernel=2,
                                             stride=2), conv])
    alone = Workload.from_layers("conv", [Input("pool", shape=(64, 56, 56)), conv])
    reads = [run.layers[-2].traffic["dram_read_inputs_bytes"] for run in (
        simulate(wl, "eyeriss-like"), simulate(alone, "eyeriss-like", execution="layer_by_layer"))]
    assert reads[0] == reads[1]
