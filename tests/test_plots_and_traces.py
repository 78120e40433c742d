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


def test_energy_breakdown(result, tmp_path):
    _saved(plots.energy_breakdown(result, top=10), tmp_path / "breakdown.png")


def test_tile_mismatch(tmp_path):
    rows = tile_mismatch_curve("cim-16x16", range(14, 19))
    assert [r["tiles"] for r in rows] == [1, 1, 1, 4, 4]
    _saved(plots.tile_mismatch(tile_mismatch_curve("cim-16x16", range(8, 40)), "cim-16x16"),
           tmp_path / "mismatch.png")


def test_tile_utilization(result, tmp_path):
    _saved(plots.tile_utilization(result, chip_tiles=1024), tmp_path / "utilization.png")


def test_roofline(result, tmp_path):
    roofs = plots.device_roofs("hybrid-cim-systolic")
    # 1024 tiles x 128 rows x 128 weights per 8 x (1 + 128/16) cycles, plus a 16x16 array.
    assert roofs["peak_macs_per_cycle"] == pytest.approx(1024 * 128 * 128 / 72 + 256)
    assert roofs["buffer_bytes_per_cycle"] == 16 * 16
    points = plots.roofline_points(result)
    assert sum(p["macs"] for p in points) == result.macs
    _saved(plots.roofline(result, "hybrid-cim-systolic"), tmp_path / "roofline.png")


def test_pareto(tmp_path):
    res = accelsim.sweep("cim-16x16", "mlp", grid={"cim.rows": [16, 32, 64],
                                                   "cim.adcs_per_tile": [1, 2, 4]},
                         jobs=1, progress=False)
    _saved(plots.pareto(res.rows, label="point"), tmp_path / "pareto.png")


def test_plot_cli(tmp_path):
    from click.testing import CliRunner

    from accelsim.cli import main
    out = tmp_path / "m.png"
    result = CliRunner().invoke(main, ["plot", "mismatch", "-d", "cim-16x16", "-o", str(out)])
    assert result.exit_code == 0 and out.stat().st_size > 1000
    result = CliRunner().invoke(main, ["plot", "roofline", "-d", "cim-16x16"])
    assert result.exit_code == 2 and "needs --workload" in result.output


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
