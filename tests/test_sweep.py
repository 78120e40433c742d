"""Sweeps: grid expansion, error rows, resume after a kill, crashed workers, Dask."""

import csv
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import accelsim
from accelsim import AccelsimError, SpecError
from accelsim.sweep import load_sweep, pareto_front
from accelsim.sweep.grid import expand


def test_grid_expands_every_combination_last_path_fastest():
    points = expand({"a": [1, 2], "b": ["x", "y", "z"]})
    assert points == [{"a": 1, "b": "x"}, {"a": 1, "b": "y"}, {"a": 1, "b": "z"},
                      {"a": 2, "b": "x"}, {"a": 2, "b": "y"}, {"a": 2, "b": "z"}]


def test_random_sampling_is_seeded_and_without_replacement():
    grid = {"a": list(range(10)), "b": list(range(10))}
    first = expand(grid, sample=15, seed=3)
    assert first == expand(grid, sample=15, seed=3)
    assert first != expand(grid, sample=15, seed=4)
    assert len({(p["a"], p["b"]) for p in first}) == 15
    assert all(p in expand(grid) for p in first)
    assert len(expand(grid, sample=500)) == 100


@pytest.mark.parametrize("grid, fragment", [
    ({}, "must map dotted spec paths"), ({"cim.rows": []}, "grid.cim.rows: must be a non-empty"),
    ({"cim.rows": 16}, "must be a non-empty list"),
])
def test_bad_grids(grid, fragment):
    with pytest.raises(SpecError, match=fragment):
        expand(grid)


def test_rows_have_the_simulation_results():
    res = accelsim.sweep("cim-16x16", ["mlp", "lenet5"], grid={"cim.rows": [16, 32]}, jobs=1,
                         progress=False)
    assert [(r["workload"], r["cim.rows"]) for r in res.rows] == [
        ("mlp", 16), ("lenet5", 16), ("mlp", 32), ("lenet5", 32)]
    direct = accelsim.simulate("lenet5", "cim-16x16")
    row = res.rows[1]
    assert row["status"] == "ok" and row["cycles"] == direct.cycles
    assert row["energy_pj"] == pytest.approx(direct.energy_pj)
    assert row["energy_adc_pj"] == pytest.approx(direct.energy_by_component()["adc"])
    assert row["area_mm2"] == pytest.approx(direct.area_mm2)
    assert row["area_adc_mm2"] == pytest.approx(direct.area_breakdown()["adc"])
    assert row["tops_per_mm2"] == pytest.approx(direct.tops_per_mm2)
    # 32-row tiles: twice the cells (the column multiplexers stay), the same ADCs
    assert 1.8 < res.rows[3]["area_array_mm2"] / res.rows[1]["area_array_mm2"] < 2
    assert res.rows[3]["area_adc_mm2"] == pytest.approx(res.rows[1]["area_adc_mm2"])
    assert len(res.to_dataframe()) == 4
    import matplotlib
    matplotlib.use("Agg")
    from accelsim.results import plots
    ax = plots.pareto(res.rows, x="area_mm2", y="energy_pj")
    assert ax.get_xlabel()


def test_a_failing_point_records_its_error_and_the_sweep_goes_on(tmp_path):
    res = accelsim.sweep("cim-16x16", "mlp", grid={"cim.rows": [16, -4, 32]}, jobs=2,
                         output=tmp_path / "s.csv", progress=False)
    assert [r["status"] for r in res.rows] == ["ok", "error", "ok"]
    assert "cim.rows: must be at least 1 and at most 65,536 (got -4)" in res.rows[1]["error"]
    written = list(csv.DictReader(open(tmp_path / "s.csv")))
    assert [r["status"] for r in sorted(written, key=lambda r: int(r["point"]))] == [
        "ok", "error", "ok"]


def test_unknown_paths_and_options_are_refused():
    with pytest.raises(SpecError, match="cim.rowz: unknown key"):
        accelsim.sweep("cim-16x16", "mlp", grid={"cim.rowz": [1]}, progress=False)
    with pytest.raises(AccelsimError, match="unknown sweep option 'bach'"):
        accelsim.sweep("cim-16x16", "mlp", grid={"cim.rows": [16]}, bach=2)


def test_an_unknown_workload_or_missing_file_is_refused_before_any_point_runs(tmp_path):
    out = tmp_path / "s.csv"
    with pytest.raises(SpecError, match="resnet81: unknown workload; available: mlp"):
        accelsim.sweep("cim-16x16", ["mlp", "resnet81"], grid={"cim.rows": [16]},
                       output=out, progress=False)
    with pytest.raises(SpecError, match="file not found"):
        accelsim.sweep("cim-16x16", str(tmp_path / "net.onnx"), grid={"cim.rows": [16]},
                       output=out, progress=False)
    assert not out.exists()


SWEEP_YAML = """version: 1
device: cim-16x16
workloads: [lenet5]
grid:
  cim.rows: [16, 32, 64, 128, 256]
  cim.cols: [16, 32, 64, 128, 256]
  cim.adcs_per_tile: [1, 2, 4, 8]
output: results.csv
jobs: 1
"""


def test_killed_sweep_resumes_without_losing_or_repeating_points(tmp_path):
    sweep_file = tmp_path / "sweep.yaml"
    sweep_file.write_text(SWEEP_YAML)
    out = tmp_path / "results.csv"
    proc = subprocess.Popen([sys.executable, "-m", "accelsim", "sweep", str(sweep_file),
                             "--no-progress"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline:
        if out.exists() and len(out.read_text().splitlines()) > 8:
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    before = {row["key"]: row for row in csv.DictReader(open(out))}
    assert 7 <= len(before) < 100, "the kill should land mid-way"
    with open(out, "a") as handle:
        handle.write("99,deadbeef,lenet5,16")            # a row torn by the kill
    done = subprocess.run([sys.executable, "-m", "accelsim", "sweep", str(sweep_file),
                           "--no-progress"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    after = list(csv.DictReader(open(out)))
    keys = [row["key"] for row in after]
    assert len(keys) == len(set(keys)) == 100
    assert sorted(int(row["point"]) for row in after) == list(range(100))
    for key, row in before.items():                   # the first run's rows are kept as they were
        assert next(r for r in after if r["key"] == key) == row


def _crash_once(base, base_name, point):
    from accelsim.sweep import run
    marker = Path(os.environ["ACCELSIM_TEST_CRASH_MARKER"])
    if point.index == 1 and not marker.exists():
        marker.write_text("crashed")
        os._exit(3)
    return run._original_run_point(base, base_name, point)


def test_a_crashed_worker_loses_no_points(tmp_path, monkeypatch):
    from accelsim.sweep import run
    monkeypatch.setenv("ACCELSIM_TEST_CRASH_MARKER", str(tmp_path / "marker"))
    monkeypatch.setattr(run, "_original_run_point", run.run_point, raising=False)
    monkeypatch.setattr(run, "run_point", _crash_once)
    res = accelsim.sweep("cim-16x16", "mlp", grid={"cim.rows": [16, 32, 64, 128]}, jobs=2,
                         output=tmp_path / "s.csv", progress=False)
    assert (tmp_path / "marker").exists()
    assert [r["status"] for r in res.rows] == ["ok"] * 4


def test_dask_local_cluster(tmp_path):
    distributed = pytest.importorskip("dask.distributed", reason="dask is not installed "
                                      "(pip install 'accelsim[dask]')")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        res = accelsim.sweep("cim-16x16", "mlp", grid={"cim.rows": [16, 32, 64]},
                             client=client, output=tmp_path / "d.csv", progress=False)
    local = accelsim.sweep("cim-16x16", "mlp", grid={"cim.rows": [16, 32, 64]}, jobs=1,
                           progress=False)
    assert [r.get("cycles") for r in res.rows] == [r["cycles"] for r in local.rows], \
        [r.get("error") for r in res.rows]


def test_sweep_file_and_cli(tmp_path):
    sweep_file = tmp_path / "s.yaml"
    sweep_file.write_text("version: 1\ndevice: cim-16x16\nworkloads: mlp\n"
                          "grid: {cim.rows: [16, 32], cim.adcs_per_tile: [1, 4]}\n")
    kwargs = load_sweep(sweep_file)
    assert kwargs["workloads"] == ["mlp"] and kwargs["grid"]["cim.rows"] == [16, 32]
    proc = subprocess.run([sys.executable, "-m", "accelsim", "sweep", str(sweep_file),
                           "--no-progress", "-j", "2"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "4 points, 0 errors" in proc.stdout and "Pareto front" in proc.stdout
    assert (tmp_path / "s.csv").exists()
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\ndevice: cim-16x16\nworkloads: mlp\ngrid: {cim.rows: [16]}\n"
                   "speed: 3\n")
    proc = subprocess.run([sys.executable, "-m", "accelsim", "sweep", str(bad)],
                          capture_output=True, text=True)
    assert proc.returncode == 2 and "bad.yaml: speed: unknown key" in proc.stderr


def test_empty_sweep_keys_take_their_defaults(tmp_path):
    """``max_points:`` or ``seed:`` left empty (YAML null) mean what leaving them out means:
    100,000 points at most and seed 0 (an empty max_points was a TypeError from the grid)."""
    sweep_file = tmp_path / "s.yaml"
    sweep_file.write_text("version: 1\ndevice: cim-16x16\nworkloads: mlp\nsample: 2\n"
                          "grid: {cim.rows: [16, 32, 64]}\nmax_points:\nseed:\n")
    kwargs = load_sweep(sweep_file)
    assert kwargs["max_points"] == 100_000 and kwargs["seed"] == 0
    sweep_file.write_text("version: 1\ndevice: cim-16x16\nworkloads: mlp\nsample: 2\n"
                          "grid: {cim.rows: [16, 32, 64]}\n")
    assert load_sweep(sweep_file) == kwargs


def test_a_sweep_file_option_of_the_wrong_type_is_refused_before_running(tmp_path):
    """An option simulate() would refuse at every point is refused once, naming the file and
    key (a flag given as 1 ran, taken for its truth, before flags had to be bools)."""
    sweep_file = tmp_path / "s.yaml"
    for option, fragment in (("preload_weights: 1", "preload_weights must be True or False"),
                             ("assign: 5", "assign must map layer names to unit names"),
                             ("max_steps: 0", "max_steps must be an integer from 1"),
                             ("input_zeros: 1.5", "input_zeros must be a fraction from 0 to 1")):
        sweep_file.write_text("version: 1\ndevice: cim-16x16\nworkloads: mlp\n"
                              f"grid: {{cim.rows: [16]}}\noptions: {{{option}}}\n")
        with pytest.raises(SpecError, match=re.escape(f"options.{option.split(':')[0]}: "
                                                      f"{fragment}")):
            load_sweep(sweep_file)


def test_pareto_front_by_hand():
    rows = [{"cycles": 10, "energy_pj": 5}, {"cycles": 5, "energy_pj": 10},
            {"cycles": 12, "energy_pj": 6}, {"cycles": 7, "energy_pj": 7},
            {"cycles": 1, "energy_pj": 100, "status": "error"}]
    assert list(pareto_front(rows)) == [True, True, False, True, False]


def test_parquet_output_and_resume(tmp_path):
    pytest.importorskip("pyarrow", reason="Parquet needs pyarrow: pip install 'accelsim[parquet]'")
    import pandas as pd
    grid = {"cim.rows": [16, 32]}
    first = accelsim.sweep("cim-16x16", "mlp", grid=grid, output=tmp_path / "s.parquet",
                           jobs=1, progress=False)
    table = pd.read_parquet(tmp_path / "s.parquet")
    assert list(table["cycles"]) == [row["cycles"] for row in first.rows]
    again = accelsim.sweep("cim-16x16", "mlp", grid=grid, output=tmp_path / "s.parquet",
                           jobs=1, progress=False)
    assert [r["key"] for r in again.rows] == [r["key"] for r in first.rows]


def test_two_devices_into_one_file_give_their_own_rows(tmp_path):
    out = tmp_path / "s.csv"
    first = accelsim.sweep("cim-16x16", "mlp", grid={"cim.adcs_per_tile": [1, 4]}, jobs=1,
                           output=out, progress=False)
    second = accelsim.sweep("cim-128x128-rram", "mlp", grid={"cim.adcs_per_tile": [1, 4]},
                            jobs=1, output=out, progress=False)
    written = list(csv.DictReader(open(out)))
    assert len(written) == 4                                      # 2x the rows, none reused
    assert sorted(r["device"] for r in written) == ["cim-128x128-rram"] * 2 + ["cim-16x16"] * 2
    direct = accelsim.simulate("mlp", "cim-128x128-rram")
    rram = [r for r in second.rows if r["cim.adcs_per_tile"] == 4][0]
    assert rram["device"] == "cim-128x128-rram"
    assert rram["cycles"] != first.rows[1]["cycles"]
    assert rram["energy_pj"] != pytest.approx(first.rows[1]["energy_pj"])
    base = accelsim.load_device("cim-128x128-rram")
    assert base.cim.adcs_per_tile == 16 and direct.cycles > 0


def test_a_workload_file_that_changed_is_simulated_again(tmp_path):
    workload = tmp_path / "net.yaml"
    text = ("version: 1\nname: net\nlayers:\n  - {name: in, type: input, shape: [16, 1, 1]}\n"
            "  - {name: fc, type: linear, out_features: WIDTH}\n")
    workload.write_text(text.replace("WIDTH", "16"))
    out = tmp_path / "s.csv"
    one = accelsim.sweep("cim-16x16", str(workload), grid={"cim.rows": [16]}, jobs=1,
                         output=out, progress=False)
    workload.write_text(text.replace("WIDTH", "64"))
    two = accelsim.sweep("cim-16x16", str(workload), grid={"cim.rows": [16]}, jobs=1,
                         output=out, progress=False)
    assert one.rows[0]["key"] != two.rows[0]["key"]
    assert two.rows[0]["macs"] == 16 * 64 and one.rows[0]["macs"] == 16 * 16


def _fail_once(base, base_name, point):
    from accelsim.sweep import run
    marker = Path(os.environ["ACCELSIM_TEST_FAIL_MARKER"])
    if point.index == 0 and not marker.exists():
        marker.write_text("failed")
        return point.row("a passing failure")
    return run._original_run_point(base, base_name, point)


def test_error_rows_are_retried_on_resume_unless_kept(tmp_path, monkeypatch):
    from accelsim.sweep import run
    monkeypatch.setenv("ACCELSIM_TEST_FAIL_MARKER", str(tmp_path / "marker"))
    monkeypatch.setattr(run, "_original_run_point", run.run_point, raising=False)
    monkeypatch.setattr(run, "run_point", _fail_once)
    out = tmp_path / "s.csv"
    grid = {"cim.rows": [16, 32]}
    first = accelsim.sweep("cim-16x16", "mlp", grid=grid, jobs=1, output=out, progress=False)
    assert [r["status"] for r in first.rows] == ["error", "ok"]
    kept = accelsim.sweep("cim-16x16", "mlp", grid=grid, jobs=1, output=out, progress=False,
                          retry_errors=False)
    assert [r["status"] for r in kept.rows] == ["error", "ok"]
    retried = accelsim.sweep("cim-16x16", "mlp", grid=grid, jobs=1, output=out, progress=False)
    assert [r["status"] for r in retried.rows] == ["ok", "ok"]
    again = accelsim.sweep("cim-16x16", "mlp", grid=grid, jobs=1, output=out, progress=False)
    assert [r["status"] for r in again.rows] == ["ok", "ok"]     # the last row of a key wins


def _crash_always(base, base_name, point):
    from accelsim.sweep import run
    if point.index in (1, 4, 5, 7):
        os._exit(9)
    return run._original_run_point(base, base_name, point)


def test_points_that_kill_their_worker_fail_alone(tmp_path, monkeypatch):
    from accelsim.sweep import run
    monkeypatch.setattr(run, "_original_run_point", run.run_point, raising=False)
    monkeypatch.setattr(run, "run_point", _crash_always)
    res = accelsim.sweep("cim-16x16", "mlp", grid={"cim.adcs_per_tile": list(range(1, 11))},
                         jobs=2, output=tmp_path / "s.csv", progress=False)
    status = [r["status"] for r in res.rows]
    assert [i for i, s in enumerate(status) if s == "error"] == [1, 4, 5, 7]
    assert all("worker crashed 3 times" in res.rows[i]["error"] for i in (1, 4, 5, 7))


def test_pareto_front_is_per_workload():
    rows = [{"workload": "small", "cycles": 10, "energy_pj": 10},
            {"workload": "small", "cycles": 20, "energy_pj": 5},
            {"workload": "small", "cycles": 30, "energy_pj": 30},
            {"workload": "large", "cycles": 1000, "energy_pj": 900},
            {"workload": "large", "cycles": 2000, "energy_pj": 800},
            {"workload": "large", "cycles": 3000, "energy_pj": 950}]
    # One front over all rows would hold only the small network's points.
    assert list(pareto_front(rows)) == [True, True, False, True, True, False]
    pd = pytest.importorskip("pandas")
    assert list(pareto_front(pd.DataFrame(rows))) == list(pareto_front(rows))


def test_a_sweep_over_prices_simulates_once_and_reprices(monkeypatch):
    """Points that differ only in energies or leakage share one simulation: the sweep
    re-prices it (Result.repriced), and every row equals a simulation of its own."""
    from accelsim.sweep import run
    simulate_module = sys.modules["accelsim.simulate"]
    calls = []
    real = simulate_module.simulate

    def counted(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(simulate_module, "simulate", counted)
    run._TIMED.clear()
    grid = {"cim.adc_pj": [0.5, 1.0, 2.0], "global_buffer.leakage_mw": [0.1, 1.0]}
    res = accelsim.sweep("cim-16x16", "lenet5", grid=grid, jobs=1, progress=False)
    assert len(calls) == 1
    for row in res.rows:
        device = accelsim.device_from_dict({**_cim16(), "cim": {**_cim16()["cim"],
                                            "adc_pj": row["cim.adc_pj"]},
                                            "global_buffer": {**_cim16()["global_buffer"],
                                            "leakage_mw": row["global_buffer.leakage_mw"]}})
        direct = real("lenet5", device)
        assert row["cycles"] == direct.cycles
        assert row["energy_pj"] == pytest.approx(direct.energy_pj, rel=1e-12)
        assert row["energy_adc_pj"] == pytest.approx(direct.energy_by_component()["adc"])


@pytest.mark.parametrize("device, workload, path, values, options", [
    # the energy policy weighs each layer's energy on the crossbars against the array's:
    # dear ADCs send MobileNetV2's layers to the array, cheap MACs too
    ("hybrid-cim-systolic", "mobilenetv2", "cim.adc_pj", [1.0, 50.0], {"policy": "energy"}),
    ("hybrid-cim-systolic", "mobilenetv2", "systolic.mac_pj", [0.01, 50.0],
     {"policy": "energy"}),
    # the row-stationary mapping search picks the mapping of least energy x delay
    ("eyeriss", "alexnet", "dram.read_pj_per_bit", [20.06, 2000.0], {}),
    # weight stationary too: whether a layer keeps its weights in the buffer weighs its
    # energy x delay both ways (re-priced before the twenty-fourth session)
    ("eyeriss-like", "resnet18", "dram.read_pj_per_bit", [0.2, 2000.0], {}),
])
def test_a_sweep_over_prices_that_decide_the_schedule_plans_each_point(
        device, workload, path, values, options):
    """Re-pricing one simulation is only right when the schedule does not read prices.
    Here it does: every row must equal a simulation of its own point (re-priced, these
    rows were up to twice the truth), and the points' schedules do differ."""
    from accelsim.hardware.pricing import resolve
    from accelsim.hardware.registry import prices_decide
    from accelsim.sweep import run
    from accelsim.sweep.grid import apply
    run._TIMED.clear()
    base = read_yaml_device(device)
    assert prices_decide(resolve(apply(base, {}, source="test")), options.get("policy", "rules"))
    res = accelsim.sweep(device, workload, grid={path: values}, jobs=1, progress=False,
                         **options)
    cycles = []
    for row, value in zip(res.rows, values):
        direct = accelsim.simulate(workload, apply(base, {path: value}, source="test"),
                                   **options)
        assert row["cycles"] == direct.cycles
        assert row["energy_pj"] == pytest.approx(direct.energy_pj, rel=1e-12)
        cycles.append(direct.cycles)
    assert len(set(cycles)) == len(values)


@pytest.mark.parametrize("device, policy, decide", [
    ("cim-16x16", "rules", False), ("cim-16x16", "energy", False),   # one weighted unit
    ("cim-128x128-rram", "latency", False), ("ania-like", "rules", False),
    # any device with a systolic array: its layers weigh energy x delay when they choose to
    # keep their weights in the buffer and to merge a batch (under "rules" the hybrid's
    # depthwise convs run there)
    ("hybrid-cim-systolic", "rules", True), ("hybrid-cim-systolic", "latency", True),
    ("hybrid-cim-systolic", "energy", True), ("hybrid-cim-systolic", "edp", True),
    ("eyeriss-like", "rules", True), ("eyeriss", "rules", True)])
def test_which_runs_read_their_prices(device, policy, decide):
    from accelsim.hardware.pricing import resolve
    from accelsim.hardware.registry import prices_decide
    assert prices_decide(resolve(accelsim.load_device(device)), policy) == decide


def read_yaml_device(name: str) -> dict:
    from accelsim._data import data_dir
    from accelsim.spec.yamlfile import read_yaml
    return read_yaml(data_dir("devices") / f"{name}.yaml")


def _cim16() -> dict:
    from accelsim._data import data_dir
    from accelsim.spec.yamlfile import read_yaml
    return read_yaml(data_dir("devices") / "cim-16x16.yaml")


def test_a_journal_resumed_by_a_changed_accelsim_is_simulated_again(tmp_path, monkeypatch):
    """Rows are keyed by a fingerprint of accelsim's source, not only its version number:
    the same version with another model (an upgrade, a local change) must not reuse them."""
    import importlib
    sweep_module = importlib.import_module("accelsim.sweep")
    from accelsim.sweep import run
    out = tmp_path / "s.csv"
    grid = {"cim.rows": [16, 32]}
    first = accelsim.sweep("cim-16x16", "mlp", grid=grid, jobs=1, output=out, progress=False)
    again = accelsim.sweep("cim-16x16", "mlp", grid=grid, jobs=1, output=out, progress=False)
    assert [r["key"] for r in again.rows] == [r["key"] for r in first.rows]
    monkeypatch.setattr(sweep_module, "model_fingerprint", lambda: "0123456789abcdef")
    monkeypatch.setattr(run, "model_fingerprint", lambda: "0123456789abcdef")
    changed = accelsim.sweep("cim-16x16", "mlp", grid=grid, jobs=1, output=out,
                             progress=False)
    assert not {r["key"] for r in changed.rows} & {r["key"] for r in first.rows}
    assert all(row["status"] == "ok" for row in changed.rows)
    with open(out, newline="") as handle:
        assert len(list(csv.DictReader(handle))) == 4      # both models' rows, apart


def test_a_worker_with_another_accelsim_gives_error_rows(monkeypatch):
    """A cluster worker whose accelsim differs from the sweeping process's would simulate
    another model under the row's key: its rows are errors that say so."""
    import importlib
    sweep_module = importlib.import_module("accelsim.sweep")
    from accelsim.sweep.run import model_fingerprint
    monkeypatch.setattr(sweep_module, "model_fingerprint", lambda: "0123456789abcdef")
    result = accelsim.sweep("cim-16x16", "mlp", grid={"cim.rows": [16]}, jobs=1,
                            progress=False)
    (row,) = result.rows
    assert row["status"] == "error"
    assert model_fingerprint() in row["error"] and "0123456789abcdef" in row["error"]
    assert "same accelsim on every worker" in row["error"]


def test_the_model_fingerprint_covers_the_source_and_shipped_workloads():
    from accelsim.sweep.run import model_fingerprint
    fingerprint = model_fingerprint()
    assert len(fingerprint) == 16 and int(fingerprint, 16) >= 0
    model_fingerprint.cache_clear()
    assert model_fingerprint() == fingerprint          # deterministic
