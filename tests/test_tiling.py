"""Crossbar tiling against the worked example and a naive cell-by-cell placement."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accelsim.hardware.tiling import tile_layer


def test_20x20_on_16x16_takes_four_tiles_at_39_percent():
    t = tile_layer(20, 20, 1, rows=16, cols=16, cells_per_weight=1)
    assert t.tiles == 4
    assert t.utilization == pytest.approx(400 / 1024)
    assert round(100 * t.utilization, 2) == 39.06
    assert sorted(t.rows_used * t.cols_used) == [16, 64, 64, 256]
    assert list(t.input_slices) == [16, 4]


def test_bit_sliced_weights_take_cells_side_by_side():
    # 8-bit weights in 2-bit cells, differential pairs: 8 cells each, 16 weights per 128 columns.
    t = tile_layer(128, 64, 1, rows=128, cols=128, cells_per_weight=8)
    assert t.tiles == 4 and t.utilization == 1.0


def test_depthwise_groups_share_tiles_block_diagonally():
    # 96 depthwise 3x3 channels: 9x1 per group; 128 rows hold 14 groups, 128/4 columns hold 32.
    t = tile_layer(9, 1, 96, rows=128, cols=128, cells_per_weight=4)
    assert t.groups_per_tile == 14
    assert t.tiles == math.ceil(96 / 14)
    assert t.written_cells == 6 * (14 * 9) * (14 * 4) + (12 * 9) * (12 * 4)


def naive_tiles(k, n, groups, rows, cols, s):
    """Place every weight of every group cell by cell; count the distinct tiles touched."""
    per_tile = cols // s
    if k <= rows and n <= per_tile:
        packed = min(rows // k, per_tile // n)
        return {g // packed for g in range(groups)}, groups * k * n * s
    touched = set()
    for g in range(groups):
        for i in range(k):
            for j in range(n):
                touched.add((g, i // rows, j // per_tile))
    return touched, groups * k * n * s


@settings(max_examples=60, deadline=None)
@given(k=st.integers(1, 70), n=st.integers(1, 40), groups=st.integers(1, 5),
       rows=st.sampled_from([4, 8, 16, 32]), cols=st.sampled_from([4, 8, 16, 32]),
       s=st.sampled_from([1, 2, 4]))
def test_tile_count_and_utilization_match_naive_placement(k, n, groups, rows, cols, s):
    if s > cols:
        return
    t = tile_layer(k, n, groups, rows=rows, cols=cols, cells_per_weight=s)
    touched, useful = naive_tiles(k, n, groups, rows, cols, s)
    assert t.tiles == len(touched)
    assert t.utilization == pytest.approx(useful / (len(touched) * rows * cols))
    assert int(t.weights.sum()) == k * n * groups
    assert np.all(t.rows_used <= rows) and np.all(t.cols_used <= cols)
    assert int(t.input_slices.sum()) == k * groups
    assert int(t.output_slices.sum()) == n * groups


@pytest.mark.parametrize("tiles, tile_buffer", [(1, False), (3, False), (5, True), (64, True)])
def test_alike_parts_share_a_plan_equal_to_planning_each(tiles, tile_buffer):
    """A layer larger than the chip splits into parts; parts of equal signature share one
    plan, renamed. Each must equal what planning that part alone gives (_part called for it):
    the same counts, stages (resources included), tile cycles and weight writes."""
    from accelsim import load_workload
    from accelsim._data import data_dir
    from accelsim.hardware.context import PlanContext
    from accelsim.hardware.crossbar import Crossbars, _part, _split
    from accelsim.hardware.pricing import resolve
    from accelsim.spec.load import device_from_dict
    from accelsim.spec.yamlfile import read_yaml
    data = read_yaml(data_dir("devices") / "cim-16x16.yaml")
    data["cim"]["tiles"] = tiles
    if tile_buffer:
        data["tile_buffer"] = {"size_bytes": 2048, "word_bits": 64, "banks": 1, "crossbars": 2}
    device = resolve(device_from_dict(data, source="test"))
    workload = load_workload("lenet5")
    parted = False
    for name in ("c3", "c5", "f6"):
        ctx = PlanContext(workload, device)
        plan = Crossbars()._plan(ctx, name)
        layer = workload.layers[name]
        split = _split(plan.tiling, tiles)
        assert len(plan.parts) == len(split)
        shared = len({id(part.counts) for part in plan.parts})
        assert tiles > 3 or shared < len(plan.parts)     # small chips do share
        parted = parted or len(split) > 1
        for index, chunk in enumerate(split):
            alone = _part(ctx, name, layer, plan.tiling, index, chunk)
            part = plan.parts[index]
            assert part.part == index and np.array_equal(part.tile_indices, chunk)
            assert np.array_equal(part.counts, alone.counts)
            assert part.stages == alone.stages
            assert np.array_equal(part.tile_cycles, alone.tile_cycles)
            assert part.programming.stages == alone.programming.stages
            assert np.array_equal(part.programming.counts, alone.programming.counts)
            assert part.staging == alone.staging
            assert part.carries_from_previous_part == alone.carries_from_previous_part
    assert parted


def test_tile_count_is_the_tiles_tile_layer_maps():
    """tile_count (the memory check's, before planning) against tile_layer's arrays, packed
    and unpacked, over random shapes."""
    from accelsim.hardware.tiling import tile_count, tile_layer
    rng = np.random.default_rng(5)
    for _ in range(300):
        k, n, groups = (int(x) for x in rng.integers(1, 300, size=3))
        rows, cols = (int(x) for x in rng.choice([8, 16, 32, 128], size=2))
        cells = int(rng.choice([1, 2, 4]))
        tiling = tile_layer(k, n, groups, rows=rows, cols=cols, cells_per_weight=cells)
        assert tile_count(k, n, groups, rows=rows, cols=cols,
                          cells_per_weight=cells) == tiling.tiles
