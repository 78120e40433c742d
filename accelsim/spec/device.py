"""Device specifications: frozen dataclasses for a chip and its components.

Field names carry units (``clock_hz``, ``read_pj``); YAML may give either plain numbers in that
unit or unit strings ("500MHz", "0.2pJ") that are converted when the file is loaded.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import ConfigDict

from accelsim.arith import ceil_div
from accelsim.spec.validate import (
    ActivationName,
    Bytes,
    BytesPerSecond,
    Hertz,
    Integer,
    Milliwatts,
    Nanoseconds,
    Number,
    Picojoules,
    PicojoulesPerBit,
    Quantity,
    build,
    set_path,
)
from accelsim.units import a_bits

# Ranges of the integer fields (see spec.validate): wide enough for any chip on record.
Tiles = Integer(1, 2 ** 24)
Side = Integer(1, 65536)            # rows or columns of an array
Cycles = Integer(1, 10 ** 6)
Bits = Integer(1, 32)               # operand widths: value mode quantizes into int64
WideBits = Integer(1, 64)           # partial sums and accumulators
Routers = Integer(1, 1024)
RouterIndex = Integer(0, 1023)
CellBits = Integer(1, 16)
AdcBits = Integer(1, 24)           # no ADC on record resolves more than 24 bits
WordBits = Integer(1, 8192)
LatencyCycles = Integer(0, 10 ** 6)
BurstBytes = Integer(1, 2 ** 20)
Channels = Integer(1, 1024)
RowBytes = Integer(1, 2 ** 30)
Lanes = Integer(1, 2 ** 20)
Nanometers = Quantity("nm", 1, 1000, " nm")
Volts = Quantity("v", 0.1, 5, " V")

_STRICT = ConfigDict(extra="forbid")
Auto = Literal["auto"]
CellKind = Literal["sram-charge", "sram-current", "rram", "pcm", "fefet"]
ReadCycles = Integer(0, 10 ** 6)
CellArea = Number(1, 100000, " F²")
CapFemto = Number(0, 10000, " fF")





@dataclass(frozen=True)
class CrossbarSpec:
    """Analog compute-in-memory tiles: ``tiles`` crossbars of ``rows`` x ``cols`` cells.

    Timing per input cycle: one array read (``read_cycles``; 0 when the read overlaps the
    conversions: a converter that works while the array is read, or columns sampled and held
    while they are converted in turn; the read must then fit in the input cycle's
    conversions) then the used columns converted by ``adcs_per_tile`` ADCs, columns
    interleaved across ADCs, ``adc_cycles`` per conversion.

    Every price, the leakage, ``read_cycles``, ``adc_cycles`` and ``cell_area_f2`` may be
    ``auto`` (the default for prices): worked out from ``cell``, the array's shape, node,
    supply and clock by the component models (accelsim.models; ``accelsim devices
    --explain NAME`` shows each figure and its source). A number is kept as given.
    """

    __pydantic_config__ = _STRICT
    tiles: Tiles
    rows: Side
    cols: Side
    cell_bits: CellBits
    weight_bits: Bits
    input_bits: Bits
    output_bits: Bits
    dac_bits: Bits
    adc_bits: AdcBits
    adcs_per_tile: Side
    psum_bits: WideBits
    signed_weights: Literal["cell", "offset", "differential"]
    write_cycles_per_row: Cycles
    read_cycles: ReadCycles | Auto = "auto"
    adc_cycles: Cycles | Auto = "auto"
    cell: CellKind | None = None  # the cell technology (needed by every 'auto' figure)
    cell_area_f2: CellArea | Auto = "auto"
    read_pulse_ns: Nanoseconds | Auto = "auto"  # resistive cells: the read pulse (energy, time)
    cell_cap_ff: CapFemto | Auto = "auto"  # charge-domain cells: compute capacitance per bit
    dac_pj: Picojoules | Auto = "auto"          # per row driven, per input cycle
    cell_read_pj: Picojoules | Auto = "auto"    # per cell in a driven row and read column
    cell_signal_pj: Picojoules | Auto = "auto"  # extra per full-scale cell read (x its level)
    column_read_pj: Picojoules | Auto = "auto"  # per column read and converted
    adc_pj: Picojoules | Auto = "auto"          # per conversion
    shift_add_pj: Picojoules | Auto = "auto"    # per converted column value
    accumulate_pj: Picojoules | Auto = "auto"   # per partial-sum addition across row tiles
    clock_pj: Picojoules | Auto = "auto"        # a shift-and-add register clocked, per value
    cell_write_pj: Picojoules | Auto = "auto"   # per cell programmed
    tile_leakage_mw: Milliwatts | Auto = "auto"  # per tile
    # Sparsity policies, applied in value mode (simulate(values=True)):
    skip_zero_input_cycles: bool = True  # an input cycle with no nonzero drive is not run
    gate_zero_inputs: bool = True        # rows whose input chunk is zero are not driven
    skip_zero_weight_tiles: bool = True  # tiles holding only zero weights are never mapped

    def __post_init__(self) -> None:
        if self.cells_per_weight > self.cols:
            raise ValueError(
                f"{a_bits(self.weight_bits)}-bit weight needs {self.cells_per_weight} cells "
                f"({self.signed_weights} signed weights, {self.cell_bits}-bit cells) but a tile "
                f"has only {self.cols} columns")
        if self.adcs_per_tile > self.cols:
            raise ValueError(f"adcs_per_tile ({self.adcs_per_tile}) exceeds cols ({self.cols})")
        if self.dac_bits > self.input_bits:
            raise ValueError(f"dac_bits ({self.dac_bits}) exceeds input_bits ({self.input_bits}): "
                             f"a DAC drives at most one input's bits per input cycle")
        if self.psum_bits < max(self.adc_bits, self.output_bits):
            raise ValueError(f"psum_bits ({self.psum_bits}) is narrower than "
                             f"{'adc_bits' if self.adc_bits >= self.output_bits else 'output_bits'}"
                             f" ({max(self.adc_bits, self.output_bits)}): partial sums add shifted "
                             f"ADC results and hold the output before it is quantized")

    @property
    def cells_per_weight(self) -> int:
        """Cells side by side per weight: ceil(weight_bits / cell_bits), doubled for pairs."""
        slices = math.ceil(self.weight_bits / self.cell_bits)
        return 2 * slices if self.signed_weights == "differential" else slices

    @property
    def input_cycles(self) -> int:
        """Input cycles per matrix-vector product: ceil(input_bits / dac_bits)."""
        return math.ceil(self.input_bits / self.dac_bits)

    def cycles_per_input_cycle(self, cols_used):
        """Cycles of one input cycle of a tile using ``cols_used`` columns (int or array):
        one array read, then the busiest ADC's conversions (columns interleaved over ADCs).
        Needs the resolved device (hardware.resolve): cycles given as 'auto' are numbers there."""
        return self.read_cycles + ceil_div(cols_used, self.adcs_per_tile) * self.adc_cycles


@dataclass(frozen=True)
class SystolicSpec:
    """A digital systolic array of ``rows`` x ``cols`` PEs (SCALE-Sim's timing model).

    ``dataflow`` is weight- (ws), output- (os) or input-stationary (is), with SCALE-Sim's
    timing: each MAC reads or updates one register-file entry and passes two operands on to
    neighbouring PEs. ``rs`` is Eyeriss's row stationary (hardware.row_stationary): PE sets
    of filter rows x output rows, register files split into input, weight and psum
    scratchpads, accesses counted per level from the mapping's reuse. ``register_spads``
    names the scratchpads built of flip-flops rather than SRAM (Eyeriss: inputs and psums):
    their accesses cost ``register_access_pj``, and their bits are clocked every cycle.

    ``clock_pj``: one PE's flip-flops (its operand and accumulator registers, and any
    register scratchpads) clocked for one cycle; counted for every PE in every cycle the
    array computes (an idle array is taken as clock-gated, its PEs as not).

    ``stationary_per_pe`` (ws and is): stationary operands each PE holds. SCALE-Sim's array
    holds one, so a reduction longer than the rows adds its partial sums in the buffer fold
    after fold; a PE holding D (a TPU-like array with a weight register file) runs D K folds
    of an output tile back to back and keeps their partial sums in the array.
    """

    __pydantic_config__ = _STRICT
    rows: Side
    cols: Side
    dataflow: Literal["ws", "os", "is", "rs"]
    operand_bits: Bits              # weights and activations
    accumulator_bits: WideBits      # partial sums spilled to the buffer between folds
    mac_pj: Picojoules | Auto = "auto"        # one multiply-accumulate at operand_bits
    rf_access_pj: Picojoules | Auto = "auto"  # one register-file read or write
    pe_hop_pj: Picojoules | Auto = "auto"     # one operand moved to a neighbouring PE
    clock_pj: Picojoules | Auto = "auto"      # one PE's flip-flops clocked for one cycle
    register_access_pj: Picojoules | Auto = "auto"  # one register-scratchpad read or write
    leakage_mw: Milliwatts | Auto = "auto"
    rf_bytes: Bytes = 64            # register file (scratchpad) per PE, for 'auto' figures
    # rs: the scratchpads built of flip-flops (the rest of rf_bytes is SRAM)
    register_spads: tuple[Literal["inputs", "weights", "psums"], ...] = ()
    # ws and is: stationary operands each PE holds (1: one, as in SCALE-Sim). Up to this many
    # K folds of one output tile run back to back and keep their partial sums in the array.
    stationary_per_pe: Side = 1
    # Value mode: MACs with a zero operand are gated (energy saved, cycles not) or skipped
    # (both saved, plus an index read per remaining MAC).
    zero_policy: Literal["none", "gating", "skipping"] = "none"
    index_pj: Picojoules = 0.0      # one index read when skipping zeros

    def __post_init__(self) -> None:
        if self.accumulator_bits < self.operand_bits:
            raise ValueError(f"accumulator_bits ({self.accumulator_bits}) is narrower than "
                             f"operand_bits ({self.operand_bits}): a partial sum of products "
                             f"needs at least an operand's bits")
        if self.register_spads and self.dataflow != "rs":
            raise ValueError(f"register_spads names row-stationary scratchpads (dataflow: "
                             f"rs); a {self.dataflow} PE's register file is one array "
                             f"(rf_bytes)")
        if len(set(self.register_spads)) != len(self.register_spads):
            raise ValueError(f"register_spads names a scratchpad twice: "
                             f"{list(self.register_spads)}")
        if self.stationary_per_pe > 1 and self.dataflow not in ("ws", "is"):
            raise ValueError(f"stationary_per_pe applies to the ws and is dataflows (a PE "
                             f"holding several weights or inputs); {self.dataflow} keeps "
                             f"its own operands, so it must be 1, not {self.stationary_per_pe}")


@dataclass(frozen=True)
class BufferSpec:
    """An SRAM buffer accessed in whole words; ``banks`` words per cycle.

    ``ports: 1``: reads and writes share each bank's port. ``ports: 2``: each bank has a read
    port and a write port, so a read and a write of every bank fit in one cycle (the energy
    per access is as given; price a dual-ported array accordingly).

    ``read_pj`` and ``write_pj`` (per word) may be ``auto``: worked out from the bank size,
    node and voltage by the buffer's unit (hardware.sram; hardware.resolve gives the device
    with every ``auto`` filled in).
    """

    __pydantic_config__ = _STRICT
    size_bytes: Bytes
    word_bits: WordBits
    banks: Side
    read_pj: Picojoules | Auto = "auto"     # per word
    write_pj: Picojoules | Auto = "auto"    # per word
    leakage_mw: Milliwatts | Auto = "auto"
    ports: Literal[1, 2] = 1


@dataclass(frozen=True)
class TileBufferSpec(BufferSpec):
    """SRAM beside the crossbars: one buffer per ``crossbars`` crossbar tiles (ISAAC's tile
    eDRAM serves 96). Inputs arrive here from the global buffer and are read from here into
    the crossbars' rows. A layer's buffers keep a sliding window of input rows when it fits
    (see mapping.plan), so each input leaves the global buffer once instead of once per
    window that covers it. ``size_bytes``, energies and leakage are per buffer.
    """

    crossbars: Tiles = 1


@dataclass(frozen=True)
class InterconnectSpec:
    """The on-chip interconnect.

    ``kind: bus``: one shared bus moves ``width_bits`` per cycle, ``latency_cycles`` after it
    is granted, at ``pj_per_bit``. ``kind: mesh``: ``cols`` x ``rows`` routers with XY routing
    (first along x, then along y); every link carries ``width_bits`` per cycle in each
    direction, and each hop adds ``latency_cycles`` and costs ``pj_per_bit`` per bit. The
    global buffer, the digital unit, the DRAM interface and any systolic array sit at
    ``memory_router``; the crossbar tiles are spread evenly over the routers in row-major order.
    """

    __pydantic_config__ = _STRICT
    kind: Literal["bus", "mesh"]
    width_bits: Side
    latency_cycles: LatencyCycles
    pj_per_bit: PicojoulesPerBit | Auto = "auto"   # 'auto': wire length from the floorplan
    cols: Routers | None = None
    rows: Routers | None = None
    memory_router: tuple[RouterIndex, RouterIndex] = (0, 0)

    def __post_init__(self) -> None:
        if self.kind == "bus":
            if self.cols is not None or self.rows is not None:
                raise ValueError("cols and rows describe a mesh; a bus has neither")
            return
        if self.cols is None or self.rows is None:
            raise ValueError("a mesh needs cols and rows (routers along x and y)")
        x, y = self.memory_router
        if x >= self.cols or y >= self.rows:
            raise ValueError(f"memory_router {list(self.memory_router)} is outside the "
                             f"{self.cols} x {self.rows} mesh")

    @property
    def routers(self) -> int:
        return (self.cols or 1) * (self.rows or 1)

    @property
    def links(self) -> int:
        """Directed links of the mesh (one each way between neighbouring routers)."""
        cols, rows = self.cols or 1, self.rows or 1
        return 2 * ((cols - 1) * rows + (rows - 1) * cols)


@dataclass(frozen=True)
class DramSpec:
    """Off-chip memory: ``channels`` channels of ``bandwidth_bytes_per_s`` each, accessed in
    bursts; successive transfers are interleaved over the channels.

    Row buffers (optional): with ``row_bytes`` given, every row opened costs ``activate_pj``
    (activate plus precharge of one row across the rank) on top of the per-bit read and write
    energies, which then price the column accesses alone. Each transfer is one sequential
    stream starting at a row boundary, in its own bank: with the ``open`` page policy it opens
    ceil(bytes / row_bytes) rows and every other burst hits the open row; with ``closed``
    every burst opens its row.
    """

    __pydantic_config__ = _STRICT
    kind: str
    bandwidth_bytes_per_s: BytesPerSecond
    latency_ns: Nanoseconds
    burst_bytes: BurstBytes
    read_pj_per_bit: PicojoulesPerBit
    write_pj_per_bit: PicojoulesPerBit
    channels: Channels = 1          # independent channels, each of bandwidth_bytes_per_s
    row_bytes: RowBytes | None = None    # one row (page) across the rank
    activate_pj: Picojoules = 0.0           # per row opened (activate + precharge)
    page_policy: Literal["open", "closed"] = "open"

    def __post_init__(self) -> None:
        if self.row_bytes is None:
            if self.activate_pj:
                raise ValueError("activate_pj prices opening a row: give row_bytes too")
            return
        if self.row_bytes < self.burst_bytes or self.row_bytes % self.burst_bytes:
            raise ValueError(f"row_bytes ({self.row_bytes}) must be a whole number of bursts "
                             f"of burst_bytes ({self.burst_bytes})")

    def burst_bits(self, bits: float) -> int:
        """Bits actually moved to transfer ``bits``: whole bursts."""
        return math.ceil(bits / 8 / self.burst_bytes) * self.burst_bytes * 8

    def activations(self, bits: float) -> int:
        """Rows opened by one sequential transfer of ``bits`` (0 without a row-buffer model)."""
        if self.row_bytes is None or bits <= 0:
            return 0
        step = self.burst_bytes if self.page_policy == "closed" else self.row_bytes
        return math.ceil(self.burst_bits(bits) / 8 / step)


@dataclass(frozen=True)
class DigitalUnitSpec:
    """Digital vector unit for pooling, elementwise ops and activations: ``lanes`` ops/cycle."""

    __pydantic_config__ = _STRICT
    lanes: Lanes
    add_pj: Picojoules | Auto = "auto"
    mul_pj: Picojoules | Auto = "auto"
    compare_pj: Picojoules | Auto = "auto"
    leakage_mw: Milliwatts | Auto = "auto"


@dataclass(frozen=True)
class LutSpec:
    """Lookup tables for smooth activation functions (hardware.lut): ``lanes`` elements looked
    up per cycle, ``lookup_pj`` each."""

    __pydantic_config__ = _STRICT
    lanes: Lanes
    lookup_pj: Picojoules | Auto = "auto"
    leakage_mw: Milliwatts | Auto = "auto"
    entries: Integer(2, 2 ** 20) = 256    # table entries per function, for 'auto' figures
    functions: tuple[ActivationName, ...] = ("sigmoid", "silu", "tanh", "gelu", "gelu_tanh",
                                             "erf", "hardswish")


@dataclass(frozen=True)
class DeviceSpec:
    """A whole chip. Load one with :func:`accelsim.load_device`."""

    __pydantic_config__ = _STRICT
    version: Literal[1]
    name: str
    description: str
    technology_nm: Nanometers
    voltage_v: Volts
    clock_hz: Hertz
    global_buffer: BufferSpec
    interconnect: InterconnectSpec
    dram: DramSpec
    digital: DigitalUnitSpec
    cim: CrossbarSpec | None = None
    systolic: SystolicSpec | None = None
    tile_buffer: TileBufferSpec | None = None
    lut: LutSpec | None = None

    def __post_init__(self) -> None:
        if self.cim is None and self.systolic is None:
            raise ValueError("a device needs at least one compute unit: cim or systolic")
        if self.tile_buffer is not None and self.cim is None:
            raise ValueError("tile_buffer sits beside crossbar tiles; this device has no cim "
                             "section")
        if self.interconnect.kind == "mesh" and self.cim is None:
            raise ValueError("a mesh interconnect places crossbar tiles on its routers; this "
                             "device has no cim section")

    def replace(self, changes: dict[str, Any] | None = None, /, **fields: Any) -> DeviceSpec:
        """A copy with some values changed, validated like a file:
        ``dev.replace({"cim.rows": 32, "global_buffer.size_bytes": "1MiB"})`` or
        ``dev.replace(clock_hz="1GHz")``. A bad value raises SpecError naming its key."""
        import dataclasses
        data = dataclasses.asdict(self)
        changed = {**(changes or {}), **fields}
        for path, value in changed.items():
            set_path(data, path, value, source=self.name, missing="no such section in this device")
        shown = ", ".join(f"{k}={v}" for k, v in changed.items())
        return build(DeviceSpec, data, f"{self.name} with {shown}")

    @property
    def tile_buffers(self) -> int:
        """Tile buffers on the chip: one per ``tile_buffer.crossbars`` crossbar tiles."""
        if self.tile_buffer is None:
            return 0
        return ceil_div(self.cim.tiles, self.tile_buffer.crossbars)

    @property
    def activation_bits(self) -> int:
        """Bits of an activation in buffers and on the bus (inputs to the next layer)."""
        return self.cim.input_bits if self.cim else self.systolic.operand_bits

    @property
    def output_bits(self) -> int:
        """Bits of a layer output as written to the buffer."""
        return self.cim.output_bits if self.cim else self.systolic.operand_bits

    def cycles(self, nanoseconds: float) -> int:
        """Whole clock cycles covering ``nanoseconds``."""
        return math.ceil(nanoseconds * 1e-9 * self.clock_hz - 1e-9)

    @property
    def dram_bytes_per_cycle(self) -> float:
        return self.dram.bandwidth_bytes_per_s / self.clock_hz
