"""Hostile and careless input: each class of bad input is refused with one clear line.

Every CLI case runs `python -m accelsim` in a subprocess under a memory and a time limit and
asserts exit code 2, a single line on stderr, and the key, node or value it names. The
property test at the end throws random device dicts at the loader and the simulator.
"""

from __future__ import annotations

import copy
import math
import os
import resource
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import accelsim
from accelsim._data import data_dir
from accelsim.spec.yamlfile import read_yaml

BASE = read_yaml(data_dir("devices") / "cim-16x16.yaml")
MEMORY_LIMIT = 3 * 2 ** 30      # bytes of address space for each CLI run
TIME_LIMIT = 60                 # seconds


def _limits() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def cli(*args, cwd=None, env=None):
    return subprocess.run([sys.executable, "-m", "accelsim", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=TIME_LIMIT,
                          preexec_fn=_limits, env={**os.environ, **(env or {})})


def device_text(**changes) -> str:
    """cim-16x16's YAML with dotted-path changes, as YAML text (values written raw)."""
    import yaml
    data = copy.deepcopy(BASE)
    raw = {}
    for path, value in changes.items():
        *parents, leaf = path.split(".")
        node = data
        for key in parents:
            node = node[key]
        node[leaf] = f"@@{path}@@"
        raw[path] = value
    text = yaml.safe_dump(data, sort_keys=False)
    for path, value in raw.items():
        text = text.replace(f"'@@{path}@@'", value)
    return text


def assert_refused(proc, *fragments):
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2, (proc.returncode, proc.stderr[-2000:])
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr[-2000:]
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    assert len(lines[0]) < 600


DEVICE_CASES = [
    # non-finite and absurd numbers, named with their allowed range
    ("cim.dac_pj", ".inf", "cim.dac_pj: must be a finite number"),
    ("cim.dac_pj", ".nan", "cim.dac_pj: must be a finite number"),
    ("dram.latency_ns", "2.0e19", "dram.latency_ns: must be at least 0 and at most"),
    ("cim.rows", "1000000000000", "cim.rows: must be at least 1 and at most 65,536"),
    ("cim.adc_bits", "64", "cim.adc_bits: must be at least 1 and at most 24"),
    ("cim.adc_bits", "2000", "cim.adc_bits: must be at least 1 and at most 24"),
    ("cim.input_bits", "64", "cim.input_bits: must be at least 1 and at most 32"),
    ("dram.channels", "1e9", "dram.channels:"),
    ("dram.channels", "1000000000", "dram.channels: must be at least 1 and at most 1,024"),
    ("clock_hz", "0", "clock_hz: must be at least 1,000"),
    ("voltage_v", "-0.8", "voltage_v:"),
    ("global_buffer.banks", "true", "global_buffer.banks: Input should be a valid integer"),
    ("interconnect.width_bits", "[1, 2]", "interconnect.width_bits"),
    ("cim.rows", "'sixteen'", "cim.rows"),
]


@pytest.mark.parametrize("path, value, fragment", DEVICE_CASES,
                         ids=[f"{p}={v}" for p, v, _ in DEVICE_CASES])
def test_bad_device_values_are_refused_naming_key_and_range(tmp_path, path, value, fragment):
    chip = tmp_path / "chip.yaml"
    chip.write_text(device_text(**{path: value}))
    assert_refused(cli("run", "-d", chip, "-w", "mlp", "-q"), "chip.yaml", fragment)


def test_a_number_yaml_reads_as_text_is_taken_as_a_number(tmp_path):
    chip = tmp_path / "chip.yaml"
    chip.write_text(device_text(**{"global_buffer.size_bytes": "2e6"}))
    assert accelsim.load_device(chip).global_buffer.size_bytes == 2e6


BOMB = "".join(f"{chr(97 + i)}: &{chr(97 + i)} [" + ",".join(
    [f"*{chr(96 + i)}"] * 10 if i else ["x"] * 10) + "]\n" for i in range(9))


@pytest.mark.parametrize("content, fragment", [
    (BOMB + device_text(), "aliases expand the document beyond"),
    (device_text(**{"cim.rows": "*h"}).replace("version: 1", BOMB + "version: 1"),
     "aliases expand the document beyond"),
    ("version: 1\nname: x\x00\n", "invalid YAML: unacceptable character"),
    ("- 1\n- 2\n", "the top level must be a mapping"),
    ("version: 1\nversion: 1\n", "duplicate key 'version'"),
    ("\x89PNG\r\n\x1a\n" + "\x00" * 40, "invalid YAML"),
    ("", "the top level must be a mapping"),
], ids=["alias-bomb", "bomb-in-a-typed-field", "nul-byte", "list", "duplicate", "binary",
        "empty"])
def test_malformed_files_are_refused_in_one_line(tmp_path, content, fragment):
    chip = tmp_path / "chip.yaml"
    chip.write_text(content)
    assert_refused(cli("run", "-d", chip, "-w", "mlp", "-q"), "chip.yaml", fragment)


def test_a_fifo_or_a_directory_is_not_read_or_written(tmp_path):
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    assert_refused(cli("run", "-d", fifo, "-w", "mlp", "-q"), "pipe.yaml", "not a regular file")
    assert_refused(cli("run", "-d", "cim-16x16", "-w", tmp_path / "x.onnx", "-q"), "x.onnx")
    out = tmp_path / "out.json"
    os.mkfifo(out)
    assert_refused(cli("run", "-d", "cim-16x16", "-w", "mlp", "-q", "--json", out),
                   "out.json", "not a regular file")
    directory = tmp_path / "d.yaml"
    directory.mkdir()
    assert_refused(cli("run", "-d", directory, "-w", "mlp", "-q"), "d.yaml")


def test_an_output_in_a_missing_directory_is_refused_before_the_run(tmp_path):
    proc = cli("run", "-d", "cim-16x16", "-w", "mlp", "--json", tmp_path / "no" / "x.json")
    assert_refused(proc, "x.json", "the directory", "does not exist")
    assert "MACs" not in proc.stdout          # refused before simulating, not after


@pytest.mark.parametrize("name, fragment", [
    ("a" * 300 + ".yaml", "cannot use this file name: File name too long"),
    ("a" * 300 + ".onnx", "cannot use this file name: File name too long"),
    ("x\0.yaml", "cannot use this file name: embedded null byte"),
    ("x\0.onnx", "cannot use this file name: embedded null byte"),
], ids=["long-yaml", "long-onnx", "nul-yaml", "nul-onnx"])
def test_file_names_the_system_refuses_are_spec_errors(name, fragment):
    """A name longer than the file system allows (255 bytes here), or with a NUL byte,
    raised OSError or ValueError from deep in pathlib; each loader names it instead. A long
    plain name is an unknown workload (it is not looked up as a file)."""
    from accelsim.sweep import load_sweep
    for load in (accelsim.load_workload, accelsim.load_device, load_sweep):
        with pytest.raises(accelsim.SpecError, match=fragment):
            load(name)
    with pytest.raises(accelsim.SpecError, match="unknown workload"):
        accelsim.load_workload("a" * 300)


def test_outputs_that_cannot_be_written_are_refused_before_the_run(tmp_path):
    """A plot file type matplotlib cannot write, an output name too long, a sweep result
    that is neither .csv nor .parquet, a sweep output where no lock file can be made:
    each one line, before any simulation."""
    proc = cli("plot", "breakdown", "-d", "cim-16x16", "-w", "mlp", "-o", tmp_path / "p.xyz")
    assert_refused(proc, "p.xyz: matplotlib cannot write '.xyz' files", ".png", ".svg")
    proc = cli("run", "-d", "cim-16x16", "-w", "mlp", "--json", "a" * 300 + ".json")
    assert_refused(proc, "cannot write: cannot use this file name: File name too long")
    assert "MACs" not in proc.stdout
    with pytest.raises(accelsim.AccelsimError, match=r"CSV \(.csv\) or Parquet "
                                                     r"\(.parquet\), not '.json'"):
        accelsim.sweep("cim-16x16", "mlp", grid={"cim.rows": [16]}, output=tmp_path / "r.json",
                       jobs=1, progress=False)
    assert not (tmp_path / "r.json").exists()
    with pytest.raises(accelsim.AccelsimError, match="cannot write beside the sweep output"):
        accelsim.sweep("cim-16x16", "mlp", grid={"cim.rows": [16]}, output="/proc/r.csv",
                       jobs=1, progress=False)


def test_results_written_from_python_are_checked_and_named(tmp_path):
    """Result.to_json/to_csv and the trace writer check where they write before writing
    (as the CLI does): empty, a directory, a missing directory, a non-path are one clear
    error, never IsADirectoryError from open(); pareto_front, tile_utilization and
    load_results refuse values of the wrong kind by name."""
    import matplotlib
    matplotlib.use("Agg")
    from accelsim.results import plots
    from accelsim.results.pareto import pareto_front
    from accelsim.sweep import load_results
    result = accelsim.simulate("mlp", "cim-16x16", trace=True)
    (tmp_path / "d").mkdir()
    for write in (result.to_json, result.to_csv, result.to_trace):
        for path, fragment in (("", "the path is empty"),
                               (tmp_path / "d", "not a regular file"),
                               (tmp_path / "no" / "r.out", "does not exist")):
            with pytest.raises(accelsim.AccelsimError, match=fragment):
                write(path)
        with pytest.raises(TypeError, match="must be a str or an os.PathLike, got int"):
            write(3)
    with pytest.raises(ValueError, match="indent"):
        result.to_json(tmp_path / "r.json", indent=1.5)
    assert not (tmp_path / "r.json").exists()
    rows = [{"cycles": 3, "energy_pj": 2.0}, {"cycles": 2, "energy_pj": 3.0},
            {"cycles": 3, "energy_pj": 3.0}]
    assert pareto_front(rows).tolist() == [True, True, False]   # the third is beaten by both
    with pytest.raises(TypeError, match="got str"):
        pareto_front("x")
    with pytest.raises(TypeError, match="sweep row 1 must be a dict"):
        pareto_front([rows[0], 5])
    with pytest.raises(KeyError, match="column 'area_mm2' is not in sweep row 0"):
        pareto_front(rows, x="area_mm2")
    used = max(layer.first_tile + layer.tiles for layer in result.layers if layer.tiles)
    for chip_tiles in (math.inf, 10 ** 30, used - 1, 2.5, True):
        with pytest.raises(ValueError, match="chip_tiles must be a whole number"):
            plots.tile_utilization(result, chip_tiles=chip_tiles)
    for path in (None, b"r.csv"):
        with pytest.raises(TypeError, match="load_results needs a path"):
            load_results(path)


@pytest.mark.parametrize("args, fragment", [
    (("--seed", "-1"), "--seed"),
    (("--batch", "1e20"), "--batch"),
    (("--batch", "0"), "--batch"),
    (("--policy", "fastest"), "--policy"),
    (("--assign", "nope=cim"), "'nope' is not a conv or linear layer"),
    (("--memory-limit-gib", "0"), "--memory-limit-gib"),
], ids=["seed", "batch-float", "batch-zero", "policy", "assign", "memory-limit"])
def test_bad_options_are_one_line_and_exit_2(args, fragment):
    assert_refused(cli("run", "-d", "cim-16x16", "-w", "mlp", "-q", *args), fragment)


def test_runs_too_large_for_memory_are_refused_with_the_estimate():
    # 64 images of ResNet-18 in reference mode: 3.7 G tile MVMs, about 4.5 GiB.
    proc = cli("run", "-d", "cim-16x16", "-w", "resnet18", "--batch", "64", "--mode",
               "reference", "-q")
    assert_refused(proc, "needs about", "GiB", "tasks", "tile MVMs", "mode='fast'")
    proc = cli("run", "-d", "cim-16x16", "-w", "resnet18", "--batch", "8", "--mode",
               "reference", "-q", env={"ACCELSIM_MEMORY_LIMIT_GIB": "0.3"})
    assert_refused(proc, "limit of 0.3 GiB", "a smaller batch")


def test_weights_and_tiles_count_in_the_memory_estimate_before_planning(tmp_path):
    """A 100,000 x 100,000 Linear layer on 16x16 crossbars: 1e10 float64 weights (74.5 GiB)
    for value mode, and 6,250 x 6,250 tiles to plan (about 4.6 GB measured in fast mode).
    Both used to pass the estimate and fail deep inside numpy, or exhaust the machine. Both
    are refused up front, before planning, with the figures and a remedy."""
    import re
    model = tmp_path / "wide.yaml"
    model.write_text("version: 1\nname: wide\nlayers:\n"
                     "  - {name: input, type: input, shape: [100000, 1, 1]}\n"
                     "  - {name: fc, type: linear, out_features: 100000}\n")
    proc = cli("run", "-d", "cim-16x16", "-w", model, "-q", "--values")
    assert_refused(proc, "needs about", "weights for value mode", "values=False",
                   "39,062,500 crossbar tiles")
    # 1e10 weights x 8 bytes kept, plus the layer's copy and cells at 16 bytes a weight
    gib = float(re.search(r"([\d.]+) GiB of activations and weights", proc.stderr)[1])
    assert gib >= 1e10 * 24 / 2 ** 30 - 0.1
    proc = cli("run", "-d", "cim-16x16", "-w", model, "-q")
    assert_refused(proc, "to plan 39,062,500 crossbar tiles", "for layer 'fc'",
                   "larger or more crossbars")
    # a tenth of the width (1.6 M tiles, about 0.2 GB) runs, and is refused below its need
    model.write_text(model.read_text().replace("100000", "20000"))
    assert cli("run", "-d", "cim-16x16", "-w", model, "-q").returncode == 0
    proc = cli("run", "-d", "cim-16x16", "-w", model, "-q",
               env={"ACCELSIM_MEMORY_LIMIT_GIB": "0.1"})
    assert_refused(proc, "1,562,500 crossbar tiles", "limit of 0.1 GiB")


def test_a_network_far_larger_than_a_tiny_chip_stays_bounded(tmp_path):
    """ResNet-18 on a chip of 16 tiles is cut into 2,853 weight groups, each reprogrammed
    (it needed 2.3 GB when every part had its own 2,048 steps): the fast mode's steps are
    shared by a layer's parts, so it runs in the 3 GiB the test allows."""
    chip = tmp_path / "chip.yaml"
    chip.write_text(device_text(**{"cim.tiles": "16"}))
    proc = cli("run", "-d", chip, "-w", "resnet18", "-q")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "weight groups     2853" in proc.stdout


def test_corrupt_results_files_are_refused(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("point,key\n1,2,3,\"\n")
    assert_refused(cli("plot", "pareto", "--sweep", bad), "bad.csv", "not a sweep results file")
    header = ("point,key,device,workload,status,error,cycles,seconds,energy_pj,macs,"
              "tops_per_watt,average_power_mw,weight_groups\n")
    bad.write_text(header + "1,k,d,w,ok,,abc,1,1,1,1,1,1\n")
    assert_refused(cli("plot", "pareto", "--sweep", bad), "bad.csv: line 2", "not a number")


SWEEP = "version: 1\ndevice: cim-16x16\nworkloads: mlp\ngrid:\n  cim.rows: {rows}\n{extra}"


@pytest.mark.parametrize("extra, rows, fragment", [
    ("jobs: -3\n", "[16]", "jobs: must be an integer from 1 to 1,024"),
    ("jobs: two\n", "[16]", "jobs: must be an integer"),
    ("seed: -1\n", "[16]", "seed: must be an integer"),
    ("", "[16, 32]\n  cim.cols: " + str(list(range(1, 400))) + "\n  cim.adcs_per_tile: "
     + str(list(range(1, 400))), "grid: has 318,402 points, more than 100,000"),
    ("sample: 0\n", "[16]", "sample: must be an integer from 1"),
    ("workloads2: mlp\n", "[16]", "workloads2: unknown key"),
], ids=["jobs-negative", "jobs-text", "seed", "huge-grid", "sample", "unknown"])
def test_bad_sweep_files(tmp_path, extra, rows, fragment):
    sweep_file = tmp_path / "s.yaml"
    sweep_file.write_text(SWEEP.format(rows=rows, extra=extra))
    assert_refused(cli("sweep", sweep_file, "--no-progress"), "s.yaml", fragment)


def test_a_huge_grid_runs_when_sampled(tmp_path):
    grid = {"cim.tiles": list(range(1000, 1100)), "cim.read_cycles": list(range(1, 101)),
            "digital.lanes": list(range(1, 101))}
    res = accelsim.sweep("cim-16x16", "mlp", grid=grid, sample=3, jobs=1, progress=False)
    assert len(res.rows) == 3


def test_workload_paths_in_a_sweep_file_are_relative_to_it(tmp_path):
    (tmp_path / "nets").mkdir()
    (tmp_path / "nets" / "tiny.yaml").write_text(
        "version: 1\nname: tiny\nlayers:\n  - {name: in, type: input, shape: [16, 1, 1]}\n"
        "  - {name: fc, type: linear, out_features: 16}\n")
    sweep_file = tmp_path / "s.yaml"
    sweep_file.write_text("version: 1\ndevice: cim-16x16\nworkloads: nets/tiny.yaml\n"
                          "grid: {cim.rows: [16]}\n")
    proc = cli("sweep", sweep_file, "--no-progress", "-j", "1", cwd=str(data_dir("devices")))
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "1 points, 0 errors" in proc.stdout


def test_two_sweeps_cannot_write_one_journal(tmp_path):
    from accelsim.sweep.run import Journal, columns
    out = tmp_path / "s.csv"
    with Journal(out, columns(["cim.rows"])):
        with pytest.raises(accelsim.AccelsimError, match="another sweep is writing"):
            Journal(out, columns(["cim.rows"]))
    with Journal(out, columns(["cim.rows"])):          # released when the first closes
        pass


def test_an_unreachable_scheduler_is_one_line(tmp_path):
    pytest.importorskip("dask.distributed", reason="dask is not installed")
    sweep_file = tmp_path / "s.yaml"
    sweep_file.write_text(SWEEP.format(rows="[16]", extra=""))
    proc = cli("sweep", sweep_file, "--no-progress", "--scheduler", "tcp://127.0.0.1:9")
    assert_refused(proc, "cannot reach the Dask scheduler")


def test_sweep_workers_exit_when_their_parent_is_killed(tmp_path):
    """kill -9 of the sweep: its workers notice within a second and exit."""
    import signal
    import time
    sweep_file = tmp_path / "s.yaml"
    sweep_file.write_text(SWEEP.format(rows=str(list(range(16, 600))), extra="jobs: 2\n")
                          .replace("workloads: mlp", "workloads: resnet18"))
    proc = subprocess.Popen([sys.executable, "-m", "accelsim", "sweep", str(sweep_file),
                             "--no-progress"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    children: list[int] = []
    while time.time() < deadline and len(children) < 2:
        children = [int(pid) for pid in subprocess.run(
            ["pgrep", "-P", str(proc.pid)], capture_output=True, text=True).stdout.split()]
        time.sleep(0.2)
    assert len(children) == 2
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    time.sleep(3)
    alive = [pid for pid in children if _alive(pid)]
    assert alive == []


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().split()[2] != "Z"
    except FileNotFoundError:
        return False


# -- value mode --------------------------------------------------------------------------
@pytest.mark.parametrize("value", [np.inf, -np.inf, np.nan])
def test_non_finite_inputs_are_refused(value):
    x = np.random.default_rng(0).random((784, 1, 1))
    x[3] = value
    with pytest.raises(accelsim.AccelsimError, match="not finite"):
        accelsim.simulate("mlp", "cim-16x16", values=True, inputs=x)


def test_complex_inputs_are_refused_not_cast():
    x = np.ones((784, 1, 1), dtype=complex)
    with pytest.raises(accelsim.AccelsimError, match="complex; value mode takes real numbers"):
        accelsim.simulate("mlp", "cim-16x16", values=True, inputs=x)


@pytest.mark.parametrize("options, fragment", [
    ({"read_noise": math.nan}, "value_options.read_noise must be a finite number"),
    ({"cell_variation": -1}, "value_options.cell_variation"),
    ({"adc_full_scale": 0}, "value_options.adc_full_scale"),
    ({"ideal_adc": "yes"}, "value_options.ideal_adc must be true or false"),
])
def test_bad_value_options_are_refused(options, fragment):
    with pytest.raises(accelsim.AccelsimError, match=fragment):
        accelsim.simulate("mlp", "cim-16x16", values=True, value_options=options)


@pytest.mark.parametrize("epsilon", [".nan", "-1", "0"])
def test_bad_layer_norm_epsilon_is_refused(tmp_path, epsilon):
    net = tmp_path / "net.yaml"
    net.write_text("version: 1\nname: ln\nlayers:\n  - {name: in, type: input, shape: [8, 4, 1]}\n"
                   f"  - {{name: ln, type: layer_norm, epsilon: {epsilon}}}\n")
    assert_refused(cli("run", "-d", "cim-16x16", "-w", net, "-q", "--values"),
                   "net.yaml", "ln", "epsilon")


@pytest.mark.parametrize("name", ["", "  "])
def test_a_layer_needs_a_name(name):
    from accelsim.workload import Input, Linear, Workload
    with pytest.raises(accelsim.WorkloadError, match="a layer's name must be a non-empty"):
        Workload.from_layers("t", [Input("in", shape=(4, 1, 1)), Linear(name, ("in",), 4)])


def test_a_short_shape_is_one_problem():
    from accelsim.workload import Input, Linear, Workload
    with pytest.raises(accelsim.WorkloadError) as caught:
        Workload.from_layers("t", [Input("in", shape=(784,)), Linear("fc", ("in",), 4)])
    assert str(caught.value) == "t: layer 'in': shape: has 1 item(s), too few (got (784,))"


def test_absurd_layer_shapes_are_refused(tmp_path):
    net = tmp_path / "net.yaml"
    net.write_text("version: 1\nname: big\nlayers:\n"
                   "  - {name: in, type: input, shape: [100000, 100000, 100000]}\n"
                   "  - {name: fc, type: linear, out_features: 16}\n")
    assert_refused(cli("run", "-d", "cim-16x16", "-w", net, "-q"), "net.yaml", "'in'",
                   "beyond what accelsim simulates")


# -- random device dicts -------------------------------------------------------------------
_LEAVES = [(section, key) for section, body in BASE.items() if isinstance(body, dict)
           for key in body] + [(key, None) for key, value in BASE.items()
                               if not isinstance(value, dict)]
_VALUES = st.one_of(
    st.integers(-5, 5), st.integers(0, 2 ** 70), st.sampled_from([1, 2, 7, 16, 64, 1024]),
    st.floats(allow_nan=True, allow_infinity=True, width=64),
    st.sampled_from(["16", "2e6", "1.5pJ", "500MHz", "64KiB", "x", "", "-3ns", "1e400pJ"]),
    st.none(), st.booleans(), st.lists(st.integers(0, 3), max_size=3))


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(_LEAVES), _VALUES), min_size=1, max_size=3))
def test_random_devices_are_refused_clearly_or_give_sound_figures(changes):
    data = copy.deepcopy(BASE)
    for (section, key), value in changes:
        if key is None:
            data[section] = value
        else:
            data[section][key] = value
    try:
        device = accelsim.device_from_dict(data, source="random.yaml")
    except accelsim.SpecError as exc:
        assert str(exc).startswith("random.yaml") and "\n" not in str(exc)
        assert len(str(exc)) < 1000
        return
    try:
        res = accelsim.simulate("small-cnn", device)
    except accelsim.AccelsimError as exc:          # e.g. a layer no tile can hold
        assert "\n" not in str(exc)
        return
    breakdown = res.energy_breakdown()
    assert all(math.isfinite(v) and v >= 0 for v in breakdown.values())
    assert math.isfinite(res.energy_pj) and res.energy_pj == pytest.approx(
        math.fsum(breakdown.values()), rel=1e-9)
    assert res.cycles > 0
    for name, entry in res.resources.items():
        if name not in ("crossbar tiles", "tile buffers", "mesh links"):
            assert entry.busy_cycles <= res.cycles, name
    for layer in res.layers:
        assert layer.energy_pj >= 0 and layer.busy_cycles <= res.cycles


_INTS = st.one_of(st.integers(-3, 40), st.sampled_from([0, 1, 2 ** 31, 2 ** 40]),
                  st.just("3"), st.just(2.5), st.none(), st.lists(st.integers(-1, 5),
                                                                    min_size=1, max_size=3))
_LAYERS = st.sampled_from([
    ("conv2d", ("out_channels", "kernel", "stride", "padding", "dilation", "groups")),
    ("linear", ("out_features",)), ("pool2d", ("kernel", "stride", "padding")),
    ("activation", ()), ("layer_norm", ("groups",)), ("softmax", ("groups",)),
    ("flatten", ()), ("global_avg_pool", ()), ("slice", ("start", "stop"))])


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.tuples(st.integers(1, 8), st.integers(1, 12), st.integers(1, 12)),
       st.lists(st.tuples(_LAYERS, st.lists(_INTS, min_size=6, max_size=6)), min_size=1,
                max_size=4))
def test_random_workloads_are_refused_clearly_or_run(shape, layers):
    entries = [{"name": "in", "type": "input", "shape": list(shape)}]
    for index, ((kind, keys), values) in enumerate(layers):
        entry = {"name": f"l{index}", "type": kind}
        for key, value in zip(keys, values):
            if value is not None:
                entry[key] = value
        entries.append(entry)
    try:
        workload = accelsim.workload_from_dict({"version": 1, "name": "random",
                                                "layers": entries}, source="random.yaml")
        res = accelsim.simulate(workload, "cim-16x16")
    except accelsim.AccelsimError as exc:
        assert "\n" not in str(exc) and len(str(exc)) < 1000
        return
    assert math.isfinite(res.energy_pj) and res.energy_pj > 0 and res.cycles > 0
