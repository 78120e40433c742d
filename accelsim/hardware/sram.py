"""SRAM buffers: the global buffer and the optional tile buffers beside the crossbars. Their
prices per word (given, or ``auto`` from the bank size) and their leakage.
"""

from __future__ import annotations

from dataclasses import replace

from accelsim.energy.scaling import scale_energy, sram_read_64b_45nm
from accelsim.energy.table import BUFFER_READS, BUFFER_WRITES, Action
from accelsim.hardware.registry import Unit, register
from accelsim.spec.device import BufferSpec, DeviceSpec


def sized(buffer: BufferSpec, device: DeviceSpec) -> BufferSpec:
    """``buffer`` with ``auto`` energies per word worked out: the 64-bit read energy of one
    bank's capacity interpolated between Horowitz's 8 KB, 32 KB and 1 MB points
    (energy.scaling), times word_bits / 64, scaled to the device's node and voltage; a write
    taken equal to a read."""
    if "auto" not in (buffer.read_pj, buffer.write_pj):
        return buffer
    per_word = scale_energy(sram_read_64b_45nm(buffer.size_bytes / buffer.banks)
                            * buffer.word_bits / 64, node_nm=device.technology_nm,
                            voltage_v=device.voltage_v)
    return replace(buffer, **{name: per_word for name in ("read_pj", "write_pj")
                              if getattr(buffer, name) == "auto"})


@register
class GlobalBuffer(Unit):
    name = "global_buffer"
    section = "global_buffer"
    order = 10
    components = ("global_buffer",)

    def resolve(self, device: DeviceSpec) -> DeviceSpec:
        return replace(device, global_buffer=sized(device.global_buffer, device))

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

    def resolve(self, device: DeviceSpec) -> DeviceSpec:
        return replace(device, tile_buffer=sized(device.tile_buffer, device))

    def prices(self, device: DeviceSpec) -> dict[int, float]:
        return {Action.TILE_BUFFER_READ: device.tile_buffer.read_pj,
                Action.TILE_BUFFER_WRITE: device.tile_buffer.write_pj}

    def leakage_mw(self, device: DeviceSpec) -> dict[str, float]:
        return {"tile_buffer": device.tile_buffers * device.tile_buffer.leakage_mw}
