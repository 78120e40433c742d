"""Helpers for units working out their figures: a section's given numbers kept, its ``auto``
fields computed by a component model, each with its provenance (accelsim.models.Estimate)."""

from __future__ import annotations

from collections.abc import Callable

from accelsim.errors import SpecError
from accelsim.models import EXTRAPOLATED, Estimate
from accelsim.models.technology import (
    MIN_FO4_PER_CYCLE,
    SUPPLY_RANGE,
    Technology,
    technology,
)
from accelsim.spec.device import DeviceSpec

# Leakage of logic per area: taken as that of a 64 KiB low-standby-power SRAM of the same node
# (models.sram, fitted to CACTI's ITRS LSTP devices, periphery included), which rises steeply
# at finer nodes (0.1 nW/µm² at 45 nm, 0.8 at 22 nm). Used for crossbar periphery, digital
# units and PEs.
LEAKAGE_SOURCE = "logic area x the leakage density of LSTP SRAM at the node (CACTI fit)"


def tech_of(device: DeviceSpec) -> Technology:
    return technology(device.technology_nm, device.voltage_v)


def check_operating_point(device: DeviceSpec) -> None:
    """Refuse a supply outside the range the models apply to at the node, and a clock faster
    than its logic switches (models.technology: SUPPLY_RANGE, MIN_FO4_PER_CYCLE)."""
    tech = tech_of(device)
    low, high = tech.supply_range()
    node = f"{device.technology_nm:g} nm"
    if not low * (1 - 1e-9) <= device.voltage_v <= high * (1 + 1e-9):
        raise SpecError(device.name, "voltage_v",
                        f"{device.voltage_v:g} V is outside {low:.3g}-{high:.3g} V, the supplies "
                        f"the component models apply to at {node} ({SUPPLY_RANGE[0]:g}-"
                        f"{SUPPLY_RANGE[1]:g}x its nominal {tech.nominal_v:.3g} V): below, "
                        "circuits near threshold; above, beyond any overdrive on record")
    limit = tech.max_logic_hz()
    if device.clock_hz > limit * (1 + 1e-9):
        raise SpecError(device.name, "clock_hz",
                        f"{device.clock_hz / 1e6:,.0f} MHz is faster than logic switches at "
                        f"{node} and {device.voltage_v:g} V: a clock period holds at least "
                        f"{MIN_FO4_PER_CYCLE} FO4 delays of {tech.fo4_ps:.3g} ps, so at most "
                        f"{limit / 1e6:,.0f} MHz; use a slower clock, a finer node or a higher "
                        "supply")


def logic_leakage_mw(area_um2: float, device: DeviceSpec) -> float:
    from accelsim.models import sram
    tech = tech_of(device)
    density = sram.leakage_mw(65536, 64, tech) / sram.area_mm2(65536, 64, tech)  # mW/mm²
    return density * area_um2 * 1e-6


def describe(device: DeviceSpec) -> str:
    tech = tech_of(device)
    note = f" (outside the 7-180 nm scaling tables: {EXTRAPOLATED})" if tech.extrapolated else ""
    return f"{device.technology_nm:g} nm{note}, {device.voltage_v:g} V"


class Figures:
    """The estimates of one spec section: ``add`` keeps a number given in the file or, for
    ``auto``, calls the model."""

    def __init__(self, device: DeviceSpec, section: str) -> None:
        self.device = device
        self.section = section
        self.spec = getattr(device, section)
        self.out: dict[str, Estimate] = {}

    def add(self, name: str, unit: str, model: Callable[[], Estimate], *,
            integer: bool = False) -> float:
        """The field's value (given, or from ``model``); recorded with its provenance."""
        value = getattr(self.spec, name)
        if value == "auto":
            estimate = model()
        else:
            estimate = Estimate(int(value) if integer else float(value), unit)
        self.out[name] = estimate
        return estimate.value

    def refuse(self, name: str, message: str) -> SpecError:
        return SpecError(self.device.name, f"{self.section}.{name}", message)
