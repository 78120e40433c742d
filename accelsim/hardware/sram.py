"""SRAM buffers: the global buffer and the optional tile buffers beside the crossbars. Their
prices per word, leakage and area (given, or ``auto`` from the SRAM model fitted to CACTI,
models.sram: each bank is an SRAM of size / banks).
"""

from __future__ import annotations

from accelsim.energy.table import BUFFER_READS, BUFFER_WRITES, Action
from accelsim.hardware.figures import Figures, describe, tech_of
from accelsim.hardware.registry import Unit, register
from accelsim.models import Estimate
from accelsim.models import sram as sram_model
from accelsim.spec.device import BufferSpec, DeviceSpec

SOURCE = "models.sram (CACTI 7 fit)"


def buffer_estimates(device: DeviceSpec, section: str) -> dict[str, Estimate]:
    f = Figures(device, section)
    buffer: BufferSpec = f.spec
    tech = tech_of(device)
    bank = buffer.size_bytes / buffer.banks
    detail = (f"{buffer.banks} bank(s) of {_size(bank)}, {buffer.word_bits}-bit words; "
              f"{describe(device)}"
              f"{sram_model.coverage(bank, buffer.word_bits, tech.node_nm)}")
    f.add("read_pj", "pJ", lambda: Estimate(
        sram_model.read_pj(bank, buffer.word_bits, tech), "pJ", SOURCE, detail))
    f.add("write_pj", "pJ", lambda: Estimate(
        sram_model.write_pj(bank, buffer.word_bits, tech), "pJ", SOURCE, detail))
    f.add("leakage_mw", "mW", lambda: Estimate(
        buffer.banks * sram_model.leakage_mw(bank, buffer.word_bits, tech), "mW", SOURCE,
        detail))
    return f.out


def buffer_area(device: DeviceSpec, buffer: BufferSpec, count: int, name: str
                ) -> dict[str, Estimate]:
    tech = tech_of(device)
    bank = buffer.size_bytes / buffer.banks
    each = sram_model.area_mm2(bank, buffer.word_bits, tech, buffer.ports)
    return {name: Estimate(count * buffer.banks * each, "mm²", SOURCE,
                           f"{count:,} x {buffer.banks} bank(s) of {_size(bank)}, "
                           f"{buffer.ports} port(s); {describe(device)}"
                           f"{sram_model.coverage(bank, buffer.word_bits, tech.node_nm)}")}


def buffer_latency(device: DeviceSpec, buffer: BufferSpec) -> dict[str, Estimate]:
    bank = buffer.size_bytes / buffer.banks
    access = sram_model.access_ns(bank, buffer.word_bits, tech_of(device))
    period = 1e9 / device.clock_hz
    note = (f"within the {period:.3g} ns clock period" if access <= period else
            f"longer than the {period:.3g} ns clock period: the bank is taken as pipelined "
            "(one word per bank per cycle, as the timing model assumes)")
    return {"bank access": Estimate(access, "ns", SOURCE, note)}


def _size(size: float) -> str:
    for unit, scale in (("MiB", 2 ** 20), ("KiB", 2 ** 10)):
        if size >= scale:
            return f"{size / scale:g} {unit}"
    return f"{size:g} B"


@register
class GlobalBuffer(Unit):
    name = "global_buffer"
    section = "global_buffer"
    order = 10
    components = ("global_buffer",)

    def estimates(self, device: DeviceSpec) -> dict[str, Estimate]:
        return buffer_estimates(device, "global_buffer")

    def area(self, device: DeviceSpec) -> dict[str, Estimate]:
        return buffer_area(device, device.global_buffer, 1, "global_buffer")

    def latencies(self, device: DeviceSpec) -> dict[str, Estimate]:
        return buffer_latency(device, device.global_buffer)

    def prices(self, device: DeviceSpec) -> dict[int, float]:
        buffer = device.global_buffer
        return {**{a: buffer.read_pj for a in BUFFER_READS},
                **{a: buffer.write_pj for a in BUFFER_WRITES}}

    def leakage_mw(self, device: DeviceSpec) -> dict[str, float]:
        return {"global_buffer": device.global_buffer.leakage_mw}


@register
class TileBuffers(Unit):
    name = "tile_buffer"
    section = "tile_buffer"
    order = 40
    components = ("tile_buffer",)

    def estimates(self, device: DeviceSpec) -> dict[str, Estimate]:
        return buffer_estimates(device, "tile_buffer")

    def area(self, device: DeviceSpec) -> dict[str, Estimate]:
        return buffer_area(device, device.tile_buffer, device.tile_buffers, "tile_buffer")

    def latencies(self, device: DeviceSpec) -> dict[str, Estimate]:
        return buffer_latency(device, device.tile_buffer)

    def prices(self, device: DeviceSpec) -> dict[int, float]:
        return {Action.TILE_BUFFER_READ: device.tile_buffer.read_pj,
                Action.TILE_BUFFER_WRITE: device.tile_buffer.write_pj}

    def leakage_mw(self, device: DeviceSpec) -> dict[str, float]:
        return {"tile_buffer": device.tile_buffers * device.tile_buffer.leakage_mw}
