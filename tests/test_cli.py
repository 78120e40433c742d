"""The command line: report contents, JSON equality, listings, and exit code 2 on bad input."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from accelsim.cli import main


def invoke(*args):
    return CliRunner().invoke(main, list(args))


def test_run_resnet18_reports_layers_and_totals_and_writes_matching_json(tmp_path):
    out = tmp_path / "r18.json"
    result = invoke("run", "--device", "cim-16x16", "--workload", "resnet18", "--json", str(out))
    assert result.exit_code == 0, result.output
    text = result.output
    for heading in ("layer", "tiles", "util %", "cycles", "energy", "layer4.1.conv2",
                    "Energy by component", "total cycles", "TOPS/W"):
        assert heading in text
    data = json.loads(out.read_text())
    assert f"{data['cycles']:,}" in text
    conv = next(row for row in data["layers"] if row["name"] == "layer1.0.conv1")
    line = next(layer for layer in text.splitlines() if "layer1.0.conv1" in layer)
    assert f"{conv['span_cycles']:,}" in line and f"{conv['tiles']:,}" in line
    assert f"{conv['busy_cycles']:,}" in line
    assert f"{100 * conv['utilization']:.2f}" in line


def test_listings():
    devices = invoke("devices")
    assert devices.exit_code == 0
    for name in ("cim-16x16", "cim-128x128-rram", "ania-like"):
        assert name in devices.output
    workloads = invoke("workloads")
    assert workloads.exit_code == 0
    assert "1,814,073,344" in workloads.output and "linear-20x20" in workloads.output


@pytest.mark.parametrize("args, fragment", [
    (["--device", "nope", "--workload", "mlp"], "unknown device"),
    (["--device", "cim-16x16", "--workload", "nope"], "unknown workload"),
    (["--device", "missing.yaml", "--workload", "mlp"], "missing.yaml: file not found"),
])
def test_bad_names_exit_2_with_one_line(args, fragment):
    result = CliRunner().invoke(main, ["run", *args])
    assert result.exit_code == 2
    assert result.output.startswith("error: ") and fragment in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_bad_file_exits_2_without_traceback(tmp_path):
    bad = tmp_path / "dev.yaml"
    bad.write_text("version: 1\nname: a\nname: b\n")
    proc = subprocess.run([sys.executable, "-m", "accelsim", "run", "--device", str(bad),
                           "--workload", "mlp"], capture_output=True, text=True)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip() == (f"error: {bad}: line 3: duplicate key 'name' (first given at "
                                   "line 2)")


def test_cyclic_workload_exits_2(tmp_path):
    wl = tmp_path / "w.yaml"
    wl.write_text("version: 1\nlayers:\n  - {name: i, type: input, shape: [4, 1, 1]}\n"
                  "  - {name: a, type: elementwise, inputs: [i, b]}\n"
                  "  - {name: b, type: activation, inputs: [a]}\n")
    result = invoke("run", "--device", "cim-16x16", "--workload", str(wl))
    assert result.exit_code == 2
    assert "cycle" in result.output and "Traceback" not in result.output


def test_quiet_and_csv(tmp_path):
    csv_path = tmp_path / "layers.csv"
    result = invoke("run", "-d", "cim-16x16", "-w", "linear-20x20", "-q", "--csv", str(csv_path))
    assert result.exit_code == 0
    assert "total energy" in result.output and "┃ layer" not in result.output
    assert csv_path.read_text().splitlines()[2].startswith("fc,linear,cim,400")


def test_hybrid_report_says_which_unit_and_why():
    result = invoke("run", "-d", "hybrid-cim-systolic", "-w", "mobilenetv2",
                    "--assign", "features.0=systolic")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "Mapping: which unit runs each layer, and why" in result.output
    line = next(layer for layer in lines if "features.1.depthwise" in layer and "rule" in layer)
    assert "systolic" in line and "rule: depthwise conv goes digital" in line
    line = next(layer for layer in lines if "features.0 " in layer and "assigned" in layer)
    assert "assigned by the user" in line and "systolic" in line
    bad = invoke("run", "-d", "hybrid-cim-systolic", "-w", "mlp", "--assign", "fc1")
    assert bad.exit_code == 2 and "LAYER=UNIT" in bad.output


def test_values_report_shows_what_sparsity_skipped():
    result = invoke("run", "-d", "cim-16x16", "-w", "lenet5", "--values", "--seed", "3")
    assert result.exit_code == 0, result.output
    assert "Skipped by sparsity" in result.output
    line = next(text for text in result.output.splitlines()
                if text.startswith("│ c3 ") and "J" in text)
    assert "nJ" in line or "µJ" in line or "pJ" in line


def test_explain_shows_every_figure_with_its_source():
    result = CliRunner().invoke(main, ["devices", "--explain", "cim-128x128-rram"],
                                env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    text = result.output
    for field in ("cim.adc_pj", "cim.cell_signal_pj", "global_buffer.read_pj",
                  "interconnect.pj_per_bit", "digital.mul_pj", "cim.tile_leakage_mw"):
        assert field in text, field
    assert "Murmann ADC survey fit" in text and "CACTI 7 fit" in text
    line = next(row for row in text.splitlines() if "cim.read_pulse_ns" in row)
    assert "given" in line                        # a number in the file stays as given
    assert "Area:" in text and "mm²" in text and "Latencies" in text


def test_a_device_beyond_its_supply_or_clock_is_refused_before_any_output(tmp_path):
    text = (Path(__file__).parents[1] / "devices" / "cim-16x16.yaml").read_text()
    for old, new, key in (("voltage_v: 0.8", "voltage_v: 5", "voltage_v"),
                          ("clock_hz: 500MHz", "clock_hz: 20GHz", "clock_hz")):
        assert old in text
        bad = tmp_path / f"{key}.yaml"
        bad.write_text(text.replace(old, new, 1))
        for args in (["devices", "--explain", str(bad)],
                     ["run", "-d", str(bad), "-w", "lenet5", "-q"]):
            result = invoke(*args)
            assert result.exit_code == 2, result.output
            # named by its file, not by the name inside it (which is the shipped device's)
            assert result.output.startswith(f"error: {bad}: {key}: "), result.output
            assert "Traceback" not in result.output


def test_area_in_the_report_and_the_area_plot(tmp_path):
    result = invoke("run", "-d", "eyeriss-like", "-w", "lenet5", "-q")
    assert result.exit_code == 0 and "silicon area" in result.output and "TOPS/mm²" in result.output
    assert "reticle" not in result.output            # 1.8 mm²
    # cim-16x16's 65,536 tiles of 4 ADCs each: 1,294 mm², over the 858 mm² of a 26 x 33 mm field
    big = invoke("run", "-d", "cim-16x16", "-w", "lenet5", "-q")
    assert big.exit_code == 0 and "1.5x a reticle (26 x 33 mm)" in big.output
    png = tmp_path / "area.png"
    plot = invoke("plot", "area", "-d", "cim-16x16", "-o", str(png))
    assert plot.exit_code == 0, plot.output
    assert png.stat().st_size > 1000
    missing = invoke("plot", "area")
    assert missing.exit_code == 2 and "needs --device" in missing.output


@pytest.mark.parametrize("columns", [80, 120])
@pytest.mark.parametrize("device, workload", [("cim-16x16", "resnet18"),
                                              ("hybrid-cim-systolic", "mobilenetv2")])
def test_reports_fit_the_terminal_and_never_cut_a_number(columns, device, workload):
    result = CliRunner().invoke(main, ["run", "-d", device, "-w", workload],
                                env={"COLUMNS": str(columns)})
    assert result.exit_code == 0, result.output
    for line in result.output.splitlines():
        assert "…" not in line, line
        assert len(line) <= columns, line
    assert "layer4.1.conv2" in result.output or "features.2.depthwise" in result.output


def test_result_reprs_are_short_and_notebooks_get_a_table():
    from accelsim import simulate
    res = simulate("lenet5", "cim-16x16")
    assert len(repr(res)) < 200 and "lenet5 on cim-16x16" in repr(res)
    assert len(repr(res.layers[1])) < 120
    html = res._repr_html_()
    assert html.startswith("<table>") and "TOPS/W" in html and "energy: adc" in html
    frame_columns = res._layer_rows()[0]
    assert "energy_adc_pj" in frame_columns and "energy_global_buffer_pj" in frame_columns
    # the components of a layer add up to its energy
    row = res._layer_rows()[1]
    assert sum(v for k, v in row.items() if k.startswith("energy_") and k != "energy_pj") \
        == pytest.approx(row["energy_pj"])


def test_wording_fits_what_the_run_is():
    text = invoke("run", "-d", "eyeriss-like", "-w", "lenet5", "-q").output
    assert "weight groups" not in text                       # no crossbars, no groups
    assert "per input" not in text                           # batch of one
    batch = invoke("run", "-d", "cim-16x16", "-w", "mlp", "-q", "--batch", "2").output
    assert "per input of the batch of 2" in batch
    hybrid = invoke("run", "-d", "hybrid-cim-systolic", "-w", "mobilenetv2", "-q").output
    assert "cannot see contention" in hybrid


def test_run_names_the_figures_extrapolated_beyond_their_models_data(tmp_path):
    shipped = (Path(__file__).parents[1] / "devices" / "hybrid-cim-systolic.yaml").read_text()
    assert invoke("run", "-d", "hybrid-cim-systolic", "-w", "lenet5", "-q").output.count(
        "extrapolated") == 0
    # 32 B register files lie below CACTI's smallest points (64 B)
    small = tmp_path / "small-rf.yaml"
    small.write_text(shipped.replace("  accumulator_bits: 24\n",
                                     "  accumulator_bits: 24\n  rf_bytes: 32\n"))
    result = invoke("run", "-d", str(small), "-w", "lenet5", "-q")
    assert result.exit_code == 0, result.output
    assert "2 figure(s) extrapolated beyond their models' data: systolic.rf_access_pj, " \
           "area: systolic" in " ".join(result.output.split())
