"""The crossbar tiles' figures: prices, leakage, cycles and area from the component models
(models.crossbar for the cells and lines, models.adc for the converters, models.logic for the
shift-and-add units), and the clock check.

Clock legality: an ADC converting faster than the fastest single-channel converter of the
survey at its resolution and node, or an array read longer than the cycles given for it, is
refused with the limit; with ``adc_cycles: auto`` / ``read_cycles: auto`` the cycles are
derived from those limits instead (docs/models.md).
"""

from __future__ import annotations

import math
from dataclasses import replace

from accelsim.arith import ceil_div
from accelsim.hardware.figures import Figures, describe, logic_leakage_mw, tech_of
from accelsim.models import Estimate, logic
from accelsim.models import adc as adc_model
from accelsim.models import crossbar as xbar
from accelsim.spec.device import DeviceSpec
from accelsim.units import a_bits

ADC_SOURCE = "models.adc (Murmann ADC survey fit)"
CELL_SOURCE = "models.crossbar"


def _cell(figures: Figures, name: str) -> xbar.Cell:
    cim = figures.spec
    if cim.cell is None:
        raise figures.refuse(name, "is 'auto', which needs cim.cell (the cell technology: "
                             + ", ".join(xbar.CELLS) + "); give cim.cell or a number")
    return cell_of(cim)


def cell_of(cim) -> xbar.Cell:
    """The cell technology of ``cim``: its read pulse, compute capacitor and area as given,
    and an SRAM cell of ``cell_bits`` bits as that many bit-cells. The cell's area sets both
    the array's area and its wires' pitch, so a given area moves the line capacitances."""
    cell = xbar.cell(cim.cell)
    if cell.domain != "resistive":
        cell = replace(cell, bit_cells=int(cim.cell_bits))
    if cim.cell_area_f2 != "auto":
        cell = replace(cell, area_f2=float(cim.cell_area_f2))
    if cim.read_pulse_ns != "auto":
        cell = replace(cell, pulse_ns=float(cim.read_pulse_ns))
    if cim.cell_cap_ff != "auto":
        cell = replace(cell, cap_ff=float(cim.cell_cap_ff))
    return cell


def adc_rate_hz(device: DeviceSpec) -> float:
    """Conversions per second of one ADC (the resolved device)."""
    return device.clock_hz / device.cim.adc_cycles


def estimates(device: DeviceSpec) -> dict[str, Estimate]:
    f = Figures(device, "cim")
    cim = f.spec
    tech = tech_of(device)
    where = describe(device)
    period_ns = 1e9 / device.clock_hz
    limit = adc_model.max_rate_hz(cim.adc_bits, tech)

    def adc_cycles() -> Estimate:
        cycles = max(1, math.ceil(device.clock_hz / limit * (1 - 1e-12)))
        return Estimate(cycles, "cycles", ADC_SOURCE,
                        f"fastest single-channel {cim.adc_bits}-bit converter at "
                        f"{tech.node_nm:g} nm: {limit / 1e6:,.0f} MS/s")

    cycles = f.add("adc_cycles", "cycles", adc_cycles, integer=True)
    rate = device.clock_hz / cycles
    if rate > limit * (1 + 1e-9):
        need = math.ceil(device.clock_hz / limit * (1 - 1e-12))
        raise f.refuse("adc_cycles", f"{a_bits(cim.adc_bits)}-bit ADC converting every {cycles} "
                       f"cycle(s) of {device.clock_hz / 1e6:,.0f} MHz runs at "
                       f"{rate / 1e6:,.0f} MS/s, faster than the fastest single-channel "
                       f"converters of the ADC survey at {tech.node_nm:g} nm "
                       f"({limit / 1e6:,.0f} MS/s): use adc_cycles: {need} (or 'auto'), a "
                       "lower resolution or a slower clock")
    spec_cell = cell_of(cim) if cim.cell else None

    def read_cycles() -> Estimate:
        cell = _cell(f, "read_cycles")
        read = xbar.read_ns(cell, cim.rows, tech)
        return Estimate(max(1, math.ceil(read / period_ns * (1 - 1e-12))), "cycles",
                        CELL_SOURCE, f"array read {read:.3g} ns ({cell.name}, {cim.rows} rows)")

    reads = f.add("read_cycles", "cycles", read_cycles, integer=True)
    if spec_cell is not None:
        read = xbar.read_ns(spec_cell, cim.rows, tech)
        # read_cycles: 0 overlaps the read with the conversions: a column sampled and held (or
        # integrated) while the busiest converter converts the input cycle's columns in turn
        converting = ceil_div(cim.cols, cim.adcs_per_tile) * cycles
        window = (reads if reads else converting) * period_ns
        if read > window * (1 + 1e-9):
            what = f"read_cycles: {reads}" if reads else \
                f"read_cycles: 0 (the read within the input cycle's {converting} cycles of " \
                f"conversions)"
            raise f.refuse("read_cycles", f"the {spec_cell.name} array needs {read:.3g} ns per "
                           f"read but {what} gives {window:.3g} ns at "
                           f"{device.clock_hz / 1e6:,.0f} MHz: use more cycles or 'auto'")

    def model(compute, detail: str, source: str = CELL_SOURCE, field: str = ""):
        def run() -> Estimate:
            cell = _cell(f, field)
            value, unit = compute(cell)
            return Estimate(value, unit, f"{source}, {cell.name}", detail.format(cell=cell))
        return run

    if spec_cell is None or spec_cell.domain == "resistive":
        f.add("read_pulse_ns", "ns", model(lambda c: (c.pulse_ns, "ns"), "{cell.source}",
                                           field="read_pulse_ns"))
    if spec_cell is None or spec_cell.domain == "charge":
        f.add("cell_cap_ff", "fF", model(lambda c: (c.cap_ff, "fF"), "{cell.source}",
                                         field="cell_cap_ff"))
    f.add("cell_area_f2", "F²", model(
        lambda c: (xbar.cell_area_f2(c, tech), "F²"),
        "{cell.source}" + (f"; {cim.cell_bits} bit-cells per {cim.cell_bits}-bit cell"
                           if spec_cell is not None and spec_cell.bit_cells > 1 else ""),
        field="cell_area_f2"))
    f.add("dac_pj", "pJ", model(
        lambda c: (xbar.row_drive_pj(c, cim.cols, cim.dac_bits, tech), "pJ"),
        f"input line across {cim.cols} cells plus driver"
        + (f", {cim.dac_bits}-bit capacitive DAC" if cim.dac_bits > 1 else "") + f"; {where}",
        field="dac_pj"))
    f.add("cell_read_pj", "pJ", model(lambda c: (xbar.cell_read_pj(c, tech), "pJ"),
                                      f"{{cell.domain}}-domain cell, fixed part; {where}",
                                      field="cell_read_pj"))
    f.add("cell_signal_pj", "pJ", model(
        lambda c: (xbar.cell_signal_pj(c, tech, cim.cell_bits), "pJ"),
        f"full-scale {cim.cell_bits}-bit {{cell.domain}}-domain cell; {where}",
        field="cell_signal_pj"))
    f.add("column_read_pj", "pJ", model(
        lambda c: (xbar.column_read_pj(c, cim.rows, tech, cim.cell_bits), "pJ"),
        f"column line across {cim.rows} cells; {where}", field="column_read_pj"))
    f.add("adc_pj", "pJ", lambda: Estimate(
        adc_model.energy_pj(cim.adc_bits, rate, tech), "pJ", ADC_SOURCE,
        f"{cim.adc_bits} bits at {rate / 1e6:,.0f} MS/s; {where}"
        f"{adc_model.coverage(cim.adc_bits, rate, tech)}"))
    f.add("shift_add_pj", "pJ", lambda: Estimate(
        logic.add_pj(cim.psum_bits, tech) + logic.register_pj(cim.psum_bits, tech), "pJ",
        "models.logic (Horowitz adder, scaled)",
        f"{cim.psum_bits}-bit adder and register; {where}"))
    f.add("clock_pj", "pJ", lambda: Estimate(
        logic.clock_pj(cim.psum_bits, tech), "pJ", "models.logic clock (Nangate DFF_X1)",
        f"a {cim.psum_bits}-bit shift-and-add register clocked once as it takes a converted "
        f"value (enable-gated otherwise), without the clock tree's wires; {where}"))
    f.add("accumulate_pj", "pJ", lambda: Estimate(
        logic.add_pj(cim.psum_bits, tech), "pJ", "models.logic (Horowitz adder, scaled)",
        f"{cim.psum_bits}-bit adder; {where}"))
    f.add("cell_write_pj", "pJ", model(
        lambda c: (xbar.cell_write_pj(c, cim.rows, cim.cols, cim.cell_bits, tech), "pJ"),
        f"{cim.cell_bits}-bit {{cell.name}} cell in a {cim.rows} x {cim.cols} array; {where}",
        field="cell_write_pj"))

    def leakage() -> Estimate:
        cell = _cell(f, "tile_leakage_mw")
        cells = xbar.array_leakage_mw(cell, cim.rows, cim.cols, cim.cell_bits, tech)
        periphery = logic_leakage_mw(_periphery_um2(device), device)
        return Estimate(cells + periphery, "mW", f"{CELL_SOURCE} and models.sram",
                        f"cells {cells:.3g} mW (SRAM cells leak, resistive cells do not), "
                        f"periphery logic {periphery:.3g} mW; {where}")

    f.add("tile_leakage_mw", "mW", leakage)
    return f.out


def _periphery_um2(device: DeviceSpec) -> float:
    """Drivers, column multiplexers and shift-and-add units of one tile (µm²)."""
    cim, tech = device.cim, tech_of(device)
    return (cim.rows * xbar.row_periphery_um2(cim.cols, cim.dac_bits, tech)
            + cim.cols * xbar.column_periphery_um2(tech)
            + cim.adcs_per_tile * (logic.adder_um2(cim.psum_bits, tech)
                                   + logic.register_um2(cim.psum_bits, tech)))


def area(device: DeviceSpec) -> dict[str, Estimate]:
    """Area of all tiles by component (the resolved device), mm²."""
    cim, tech = device.cim, tech_of(device)
    tiles = cim.tiles
    where = describe(device)
    cell_um2 = cim.cell_area_f2 * tech.feature_um ** 2
    rate = adc_rate_hz(device)
    adc_mm2 = adc_model.area_mm2(cim.adc_bits, rate, tech)
    shift_add = logic.adder_um2(cim.psum_bits, tech) + logic.register_um2(cim.psum_bits, tech)
    return {
        "array": Estimate(tiles * cim.rows * cim.cols * (cell_um2 + xbar.column_periphery_um2(
            tech) / cim.rows) * 1e-6, "mm²", CELL_SOURCE,
            f"{tiles:,} tiles x {cim.rows} x {cim.cols} cells of {cim.cell_area_f2:.0f} F² "
            f"({cell_um2:.4g} µm²) and column multiplexers; {where}"),
        "dac": Estimate(tiles * cim.rows * xbar.row_periphery_um2(cim.cols, cim.dac_bits, tech)
                        * 1e-6, "mm²", "models.crossbar and models.logic",
                        f"a driver{' and DAC' if cim.dac_bits > 1 else ''} per row; {where}"),
        "adc": Estimate(tiles * cim.adcs_per_tile * adc_mm2, "mm²", ADC_SOURCE,
                        f"{tiles * cim.adcs_per_tile:,} ADCs of {adc_mm2 * 1e6:,.0f} µm² "
                        f"({cim.adc_bits} bits, {rate / 1e6:,.0f} MS/s); {where}"
                        f"{adc_model.coverage(cim.adc_bits, rate, tech)}"),
        "shift_add": Estimate(tiles * cim.adcs_per_tile * shift_add * 1e-6, "mm²",
                              "models.logic (Nangate 45 nm cells, scaled)",
                              f"{a_bits(cim.psum_bits)}-bit adder and register per ADC; {where}"),
    }


def latencies(device: DeviceSpec) -> dict[str, Estimate]:
    cim, tech = device.cim, tech_of(device)
    note = f"limit {1e9 / adc_model.max_rate_hz(cim.adc_bits, tech):.3g} ns per conversion"
    period = cim.cycles_per_input_cycle(cim.cols)
    busy = period - cim.read_cycles
    if cim.read_cycles > busy:
        # A converter idle through most of each input cycle is priced (speed term, area) at
        # the rate its own cycles give it, not the slower rate the tile uses it at.
        used = device.clock_hz * busy / cim.adc_cycles / period
        note += (f"; converting {busy} of the {period} cycles of an input cycle, it is priced "
                 f"at {adc_rate_hz(device) / 1e6:,.0f} MS/s, not the {used / 1e6:,.0f} MS/s it "
                 "is used at (docs/models.md: a converter working during the read)")
    out = {"adc conversion": Estimate(1e9 / adc_rate_hz(device), "ns", ADC_SOURCE, note)}
    if cim.cell:
        out["array read"] = Estimate(xbar.read_ns(cell_of(cim), cim.rows, tech), "ns",
                                     CELL_SOURCE, f"{cim.read_cycles} cycle(s) allowed")
    return out
