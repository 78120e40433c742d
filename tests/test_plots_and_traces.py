"""Every plot function saves a PNG; traces parse and have one track per resource."""

import json

import matplotlib
import pytest

matplotlib.use("Agg")

import accelsim  # noqa: E402
from accelsim.analysis import tile_mismatch_curve
from accelsim.results import plots  # noqa: E402


@pytest.fixture(scope="module")
def result():
    return accelsim.simulate("mobilenetv2", "hybrid-cim-systolic")


def _saved(ax, path):
    assert ax is not None and hasattr(ax, "figure")
    ax.figure.savefig(path)
    assert path.stat().st_size > 1000
    import matplotlib.pyplot as plt
    plt.close(ax.figure)


def _labelled(ax, *units):
    """The axes have labels and a title, and the labels name the given units."""
    assert ax.get_title() and ax.get_xlabel() and ax.get_ylabel()
    text = ax.get_xlabel() + " " + ax.get_ylabel()
    for unit in units:
        assert unit in text, (unit, text)


def test_energy_breakdown(result, tmp_path):
    ax = plots.energy_breakdown(result, top=10)
    _labelled(ax, "µJ")
    assert len(ax.get_xticklabels()) == 10 and "10 most energetic" in ax.get_xlabel()
    _saved(ax, tmp_path / "breakdown.png")
    bert = accelsim.simulate("bert-base", "cim-16x16")            # 159 layers
    wide = plots.energy_breakdown(bert)
    assert wide.figure.get_size_inches()[0] <= 20 and len(wide.get_xticklabels()) <= 60
    _saved(wide, tmp_path / "bert.png")


def test_tile_mismatch(tmp_path):
    rows = tile_mismatch_curve("cim-16x16", range(14, 19))
    assert [r["tiles"] for r in rows] == [1, 1, 1, 4, 4]
    ax = plots.tile_mismatch(tile_mismatch_curve("cim-16x16", range(8, 40)), "cim-16x16")
    _labelled(ax, "pJ")
    _saved(ax, tmp_path / "mismatch.png")


def test_array_mismatch_on_a_digital_device(tmp_path):
    # eyeriss-like has no crossbars: the curve's unit part is its PE array's energy, at least
    # one MAC's price per MAC (and at most the whole layer's), and the plot says so.
    from accelsim.hardware.pricing import resolve
    mac_pj = resolve(accelsim.load_device("eyeriss-like")).systolic.mac_pj
    rows = tile_mismatch_curve("eyeriss-like", range(10, 16))
    assert {r["unit"] for r in rows} == {"systolic"}
    assert all(mac_pj <= r["tile_pj_per_mac"] < r["pj_per_mac"] for r in rows)
    ax = plots.tile_mismatch(rows, "eyeriss-like")
    assert "PE array" in " ".join(t.get_text() for t in ax.get_legend().get_texts())
    assert "12 x 14 PEs" in ax.get_title()
    _saved(ax, tmp_path / "array-mismatch.png")


def test_utilization_on_a_digital_device_is_per_layer_pe_use(tmp_path):
    # eyeriss has no crossbar tiles to map: the plot shows each layer's MACs over the array's
    # 168 PEs times its compute cycles. LeNet-5's c1 is 6 filters of 5 x 5 over a 28 x 28
    # output: 117,600 MACs.
    res = accelsim.simulate("lenet5", "eyeriss")
    ax = plots.array_utilization(res, "eyeriss")
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert labels[:2] == ["c1", "c3"] and "f6" in labels
    c1 = next(layer for layer in res.layers if layer.name == "c1")
    assert c1.macs == 6 * 28 * 28 * 25
    bar = ax.patches[0].get_height()
    assert bar == pytest.approx(100 * 117_600 / (168 * c1.compute_cycles))
    assert all(0 < patch.get_height() <= 100 for patch in ax.patches)
    _saved(ax, tmp_path / "array-utilization.png")
    with pytest.raises(accelsim.AccelsimError, match="no systolic array"):
        plots.array_utilization(accelsim.simulate("lenet5", "cim-16x16"), "cim-16x16")


def test_mismatch_sizes_follow_the_tile_size():
    from accelsim.analysis import mismatch_sizes
    sizes = mismatch_sizes("cim-128x128-rram")
    assert sizes[0] == 64 and sizes[-1] == 512 and 128 in sizes and 256 in sizes
    assert len(sizes) <= 70
    assert list(mismatch_sizes("cim-16x16")) == list(range(8, 65))
    assert list(mismatch_sizes("eyeriss")) == list(range(6, 49))      # 12 PE rows


def test_tile_utilization(result, tmp_path):
    ax = plots.tile_utilization(result, chip_tiles=1024)
    _labelled(ax)
    assert ax.get_legend() is not None
    assert "used cells" in ax.figure.axes[-1].get_ylabel()        # the colour bar says what
    _saved(ax, tmp_path / "utilization.png")


def test_roofline(result, tmp_path):
    roofs = plots.device_roofs("hybrid-cim-systolic")
    # 1024 tiles x 128 rows x 128 weights per 8 x (1 + 128/16) cycles, plus a 16x16 array.
    assert roofs["cim_macs_per_cycle"] == pytest.approx(1024 * 128 * 128 / 72)
    assert roofs["systolic_macs_per_cycle"] == 256
    assert roofs["peak_macs_per_cycle"] == pytest.approx(1024 * 128 * 128 / 72 + 256)
    assert roofs["buffer_bytes_per_cycle"] == 16 * 16
    assert roofs["interconnect_bytes_per_cycle"] == 256 / 8          # the 256-bit bus
    points = plots.roofline_points(result)
    assert sum(p["macs"] for p in points) == result.macs
    ax = plots.roofline(result, "hybrid-cim-systolic")
    _labelled(ax, "MACs per byte", "MACs per cycle")
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any("interconnect roof" in t for t in legend)
    assert any(t.startswith("systolic compute roof (256") for t in legend)   # its own roof
    _saved(ax, tmp_path / "roofline.png")
    memory = plots.roofline(result, "hybrid-cim-systolic", traffic="memory")
    assert "global buffer + DRAM" in memory.get_xlabel()
    _saved(memory, tmp_path / "roofline-memory.png")


def test_pareto(tmp_path):
    res = accelsim.sweep("cim-16x16", "mlp", grid={"cim.rows": [16, 32, 64],
                                                   "cim.adcs_per_tile": [1, 2, 4]},
                         jobs=1, progress=False)
    ax = plots.pareto(res.rows, label="point")
    _labelled(ax, "µJ")
    assert any(t.get_text() for t in ax.texts)                     # front points labelled
    _saved(ax, tmp_path / "pareto.png")
    import pandas as pd
    _saved(plots.pareto(pd.DataFrame(res.rows), x="area_mm2"), tmp_path / "pareto-area.png")
    _saved(plots.pareto(res, x="area_mm2"), tmp_path / "pareto-result.png")


def test_area_plot(tmp_path):
    ax = plots.area_breakdown("cim-16x16")
    assert "mm²" in ax.get_xlabel() and "mm²" in ax.get_title()
    assert ax.figure.get_size_inches()[1] <= 12
    _saved(ax, tmp_path / "area.png")


@pytest.mark.parametrize("execution", ["pipelined", "layer_by_layer"])
def test_timeline_draws_each_layer_from_its_start_to_its_finish(tmp_path, execution):
    res = accelsim.simulate("resnet18", "cim-16x16", execution=execution)
    ax = plots.timeline(res)
    _labelled(ax, "cycle", "layer")
    layers = [layer for layer in res.layers if layer.unit != "view"]
    spans, busy = ax.patches[:len(layers)], ax.patches[len(layers):2 * len(layers)]
    assert len(ax.patches) == 2 * len(layers)
    for bar, inner, layer in zip(spans, busy, layers):
        assert (bar.get_x(), bar.get_x() + bar.get_width()) == (layer.start_cycle,
                                                                 layer.end_cycle)
        assert inner.get_width() <= bar.get_width()
    if execution == "layer_by_layer":       # the bars follow each other
        ends = [bar.get_x() + bar.get_width() for bar in spans]
        assert all(b.get_x() >= end for b, end in zip(spans[1:], ends))
    else:                                   # pipelined layers overlap
        assert any(b.get_x() < a.get_x() + a.get_width() for a, b in zip(spans, spans[1:]))
    assert ax.get_xlim()[1] == res.cycles
    _saved(ax, tmp_path / "timeline.png")


def test_plot_cli(tmp_path):
    from click.testing import CliRunner

    from accelsim.cli import main
    out = tmp_path / "m.png"
    result = CliRunner().invoke(main, ["plot", "mismatch", "-d", "cim-16x16", "-o", str(out)])
    assert result.exit_code == 0 and out.stat().st_size > 1000
    result = CliRunner().invoke(main, ["plot", "roofline", "-d", "cim-16x16"])
    assert result.exit_code == 2 and "needs --workload" in result.output
    out = tmp_path / "t.png"
    result = CliRunner().invoke(main, ["plot", "timeline", "-d", "cim-16x16", "-w", "lenet5",
                                       "--execution", "layer-by-layer", "-o", str(out)])
    assert result.exit_code == 0 and out.stat().st_size > 1000


@pytest.mark.parametrize("mode", ["fast", "reference"])
def test_trace_has_one_track_per_resource_with_non_overlapping_events(tmp_path, mode):
    res = accelsim.simulate("small-cnn", "hybrid-cim-systolic", trace=True, mode=mode,
                            assign={"conv2": "systolic"})
    path = tmp_path / "trace.json"
    res.to_trace(path)
    events = json.loads(path.read_text())["traceEvents"]
    names = {e["tid"]: e["args"]["name"] for e in events if e["name"] == "thread_name"}
    complete = [e for e in events if e["ph"] == "X"]
    assert set(names) == {e["tid"] for e in complete}              # a track per resource used
    assert len(set(names.values())) == len(names)
    assert {"global_buffer", "interconnect", "dram", "digital", "systolic"} <= set(names.values())
    for tid in names:
        spans = sorted((e["args"]["start_cycle"], e["args"]["cycles"]) for e in complete
                       if e["tid"] == tid)
        for (start, length), (next_start, _) in zip(spans, spans[1:]):
            assert start + length <= next_start                     # no overlap on a track
    assert max(e["args"]["start_cycle"] + e["args"]["cycles"] for e in complete) <= res.cycles


def test_trace_needs_to_be_asked_for(tmp_path):
    with pytest.raises(accelsim.AccelsimError, match="trace=True"):
        accelsim.simulate("mlp", "cim-16x16").to_trace(tmp_path / "t.json")
