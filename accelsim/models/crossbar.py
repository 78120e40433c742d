"""Crossbar arrays by cell technology, with their row drivers, DACs and column lines.

What one input cycle of a tile costs (counted by hardware.crossbar, priced here):

- **Row drive** (``dac_pj``, per driven row): the row's input line runs across all ``cols``
  cells; its capacitance is the wire (cell pitch x cols x 0.2 fF/µm) plus one gate per cell,
  charged from the supply through a driver (a fan-out-of-4 chain adds a third). A multi-bit
  DAC adds a capacitive converter of 2^bits unit capacitors at half scale on average.
- **Cell read** (``cell_read_pj``, per cell in a driven row and a read column) and **cell
  signal** (``cell_signal_pj``, per full-scale cell of that kind): the energy a cell spends
  whatever it stores, and the part that grows with its stored level. Resistive cells dissipate
  V_read²·G·t_pulse, so the fixed part is G_off's and the level part (G_on - G_off)'s; a
  charge-domain SRAM cell charges its capacitor from the supply (C·V²) when its product bit is
  one; a current-domain SRAM cell discharges its share of the bit line. Fast mode assumes
  cells at half scale; value mode counts the levels actually stored in the driven rows.
- **Column read** (``column_read_pj``, per column read and converted): the column line spans
  ``rows`` cells (wire plus one junction per cell, and in the charge domain the cells' compute
  capacitors, joined for charge sharing), precharged or reset to its swing (the supply for
  charge and current domains, the read voltage for resistive cells).
- **Write** (``cell_write_pj``, per cell programmed): an SRAM cell is a bit written into a
  rows x cols SRAM array (models.sram); resistive cells take V_write²·G·t_write.

Cell areas are in F² at the node (F = the node): SRAM cells follow NeuroSim's per-node 6T
table (10F x 28F above 14 nm; 14, 10 and 7 nm from foundry cells), scaled by the extra devices
of each compute cell. Cell parameters without a citation are assumptions, labelled as such
in ``CELLS`` and shown by ``accelsim devices --explain``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from accelsim.models import logic
from accelsim.models import sram as sram_model
from accelsim.models.technology import WIRE_FF_PER_UM, Technology, interpolate_log

# NeuroSim V1.4 (Param.cpp) 6T SRAM cell, height x width in F, by node.
_SRAM_6T_F2 = {180: 280.0, 22: 280.0, 14: 10.6 * 30.8, 10: 12.8 * 31.25, 7: 16 * 34.43,
               5: 19.2 * 43.75, 3: 30 * 68.26}
GATE_FF_45 = 0.1            # assumed: one minimum gate per cell on the input line, 45 nm
JUNCTION_FF_45 = 0.1        # assumed: one drain junction per cell on the column line, 45 nm
DRIVER_OVERHEAD = 4 / 3     # fan-out-of-4 driver chain: 1 + 1/4 + 1/16 + ...
DAC_UNIT_FF = 0.5           # assumed: unit capacitor of a capacitive DAC


@dataclass(frozen=True)
class Cell:
    """A compute-in-memory cell technology (see the module docstring for the physics)."""

    name: str
    area_f2: float | None          # the whole cell; None: bit_cells 6T SRAM cells x sram_factor
    sram_factor: float             # area relative to a 6T SRAM cell (SRAM cells only)
    domain: str                    # "charge", "current" or "resistive"
    g_on_us: float = 0.0           # resistive cells: conductances (µS), read voltage, pulse
    g_off_us: float = 0.0
    read_v: float = 0.0
    pulse_ns: float = 0.0
    write_v: float = 0.0
    write_ns: float = 0.0
    cap_ff: float = 0.0            # charge domain: compute capacitor per cell (fF)
    source: str = ""
    # SRAM cells: bit-cells per cell (a multi-bit SRAM cell is that many bit-cells; a
    # resistive cell keeps several bits as levels of one device)
    bit_cells: int = 1


CELLS = {
    "sram-charge": Cell(
        "sram-charge", None, 1.8, "charge", cap_ff=1.2,
        source="Valavi et al., JSSC 2019: 1.2 fF MOM capacitor per cell, cell 80 % larger "
               "than 6T"),
    "sram-current": Cell(
        "sram-current", None, 1.3, "current",
        source="assumed: 8T cell with a decoupled read port, 1.3x a 6T cell; bit-line "
               "discharge per on-cell"),
    "rram": Cell(
        "rram", 48.0, 0.0, "resistive", g_on_us=4.0, g_off_us=1.0, read_v=0.5, pulse_ns=2.0,
        write_v=2.0, write_ns=50.0,
        source="Wan et al., Nature 2022 (NeuRRAM) as configured in CiMLoop: 250 kΩ to 1 MΩ, "
               "0.5 V read, 2 ns pulse; 1T1R 4F x 12F and 2 V write (NeuroSim V1.4 "
               "defaults), 50 ns set pulse (CiMLoop's NeuroSim cell)"),
    "pcm": Cell(
        "pcm", 48.0, 0.0, "resistive", g_on_us=40.0, g_off_us=0.4, read_v=0.2, pulse_ns=10.0,
        write_v=1.5, write_ns=100.0,
        source="assumed: 1T1R as RRAM; 25 kΩ set, on/off 100, 0.2 V read, 1.5 V 100 ns "
               "program pulse"),
    "fefet": Cell(
        "fefet", 24.0, 0.0, "resistive", g_on_us=10.0, g_off_us=0.1, read_v=0.1,
        pulse_ns=10.0, write_v=4.0, write_ns=0.1,
        source="assumed: 1T FeFET 24 F², 100 kΩ on, on/off 100, 0.1 V drain read, 4 V "
               "100 ps write"),
}


def cell(name: str) -> Cell:
    return CELLS[name]


def cell_area_f2(spec: Cell, tech: Technology) -> float:
    """Area of one whole cell (F²): as given, or its bit-cells' at the node. The same area
    sets the pitch of the row and column wires (pitch_um)."""
    if spec.area_f2 is not None:
        return spec.area_f2
    return interpolate_log(_SRAM_6T_F2, tech.node_nm)[0] * spec.sram_factor * spec.bit_cells


def cell_area_um2(spec: Cell, tech: Technology) -> float:
    return cell_area_f2(spec, tech) * tech.feature_um ** 2


def pitch_um(spec: Cell, tech: Technology) -> float:
    """Side of a (square) cell."""
    return math.sqrt(cell_area_um2(spec, tech))


def _wire_ff(length_um: float) -> float:
    return WIRE_FF_PER_UM * length_um


def row_line_ff(spec: Cell, cols: int, tech: Technology) -> float:
    """Capacitance (fF, at this node) of one row's input line."""
    gate = GATE_FF_45 * tech.capacitance_factor
    return cols * (_wire_ff(pitch_um(spec, tech)) + gate)


def column_line_ff(spec: Cell, rows: int, tech: Technology, cell_bits: int = 1) -> float:
    """Capacitance (fF, at this node) of one column line: its wire and one junction per cell,
    and in the charge domain every cell's compute capacitors, which the line connects for
    charge sharing."""
    per_cell = _wire_ff(pitch_um(spec, tech)) + JUNCTION_FF_45 * tech.capacitance_factor
    if spec.domain == "charge":
        per_cell += charge_cap_ff(spec, tech) * cell_bits
    return rows * per_cell


def charge_cap_ff(spec: Cell, tech: Technology) -> float:
    """The compute capacitor of one bit-cell (fF). Not scaled with the node: it is sized for
    matching and kT/C noise, not by lithography (assumed; Valavi's 1.2 fF at 65 nm, the 2 fF
    unit capacitors of Wang's 22 nm C-2C ladder)."""
    return spec.cap_ff


def row_drive_pj(spec: Cell, cols: int, dac_bits: int, tech: Technology) -> float:
    """Driving one row for one input cycle: its line (with the driver) and its DAC."""
    v = tech.voltage_v
    line = row_line_ff(spec, cols, tech) * 1e-3 * v * v * DRIVER_OVERHEAD
    dac = 0.0
    if dac_bits > 1:
        dac = 0.5 * 2 ** dac_bits * DAC_UNIT_FF * tech.capacitance_factor * 1e-3 * v * v
    return line + dac


def column_read_pj(spec: Cell, rows: int, tech: Technology, cell_bits: int = 1) -> float:
    """Precharging (or resetting) and sensing one column line."""
    swing = spec.read_v if spec.domain == "resistive" else tech.voltage_v
    return column_line_ff(spec, rows, tech, cell_bits) * 1e-3 * tech.voltage_v * swing


def cell_read_pj(spec: Cell, tech: Technology) -> float:
    """The fixed part of one cell's read energy (whatever it stores)."""
    if spec.domain == "resistive":
        return spec.read_v ** 2 * spec.g_off_us * 1e-6 * spec.pulse_ns * 1e-9 * 1e12
    return 0.0


def cell_signal_pj(spec: Cell, tech: Technology, cell_bits: int) -> float:
    """The part of a cell's read energy at full scale that grows with its stored level."""
    v = tech.voltage_v
    if spec.domain == "resistive":
        return spec.read_v ** 2 * (spec.g_on_us - spec.g_off_us) * 1e-6 * spec.pulse_ns * 1e3
    if spec.domain == "charge":
        # one capacitor per bit of the cell, charged from the supply when its product is one
        return charge_cap_ff(spec, tech) * cell_bits * 1e-3 * v * v
    # current domain: the cell's share of the bit line (a junction and its wire) at full swing
    return (JUNCTION_FF_45 * tech.capacitance_factor + _wire_ff(pitch_um(spec, tech))) * 1e-3 \
        * v * v * cell_bits


def cell_write_pj(spec: Cell, rows: int, cols: int, cell_bits: int, tech: Technology) -> float:
    """Programming one cell."""
    if spec.domain == "resistive":
        return spec.write_v ** 2 * spec.g_on_us * 1e-6 * spec.write_ns * 1e3 * cell_bits
    bits = rows * cols * cell_bits
    per_bit = sram_model.write_pj(bits / 8, cols * cell_bits, tech) / (cols * cell_bits)
    return per_bit * cell_bits


def array_leakage_mw(spec: Cell, rows: int, cols: int, cell_bits: int,
                     tech: Technology) -> float:
    """Static power of one tile's cells: SRAM cells leak (models.sram); resistive cells hold
    their state without power."""
    if spec.domain == "resistive":
        return 0.0
    bits = rows * cols * cell_bits
    return sram_model.leakage_mw(bits / 8, cols * cell_bits, tech) * spec.sram_factor


def read_ns(spec: Cell, rows: int, tech: Technology) -> float:
    """Time the array needs per input cycle: the read pulse of resistive cells, or settling
    the column line through a minimum device (taken as one FO4 delay per 64 rows, assumed;
    the FO4 delay of the node and supply from Technology.fo4_ps)."""
    if spec.domain == "resistive":
        return spec.pulse_ns
    return tech.fo4_ps * 1e-3 * max(1.0, rows / 64)


def row_periphery_um2(cols: int, dac_bits: int, tech: Technology) -> float:
    """Driver (and DAC) of one row: a BUF_X4 per row, plus 2^bits unit capacitors of about
    1 µm² each for a multi-bit DAC (assumed)."""
    area = logic.buffer_um2(tech)
    if dac_bits > 1:
        area += 2 ** dac_bits * 1.0 * tech.area_factor
    return area


def column_periphery_um2(tech: Technology) -> float:
    """Column multiplexer and precharge of one column: two NAND2 equivalents (assumed)."""
    return logic.gates_um2(2, tech)
