"""A device resolved (every ``auto`` worked out by its unit), its prices and static power,
gathered from its units."""

from __future__ import annotations

from contextlib import contextmanager
from functools import lru_cache

import numpy as np

from accelsim.energy.table import action_count
from accelsim.errors import SpecError
from accelsim.hardware.figures import check_operating_point, tech_of
from accelsim.hardware.registry import units
from accelsim.models import Estimate
from accelsim.models.technology import MIN_FO4_PER_CYCLE
from accelsim.spec.device import DeviceSpec
from accelsim.spec.load import source_of


def resolve(device: DeviceSpec) -> DeviceSpec:
    """``device`` with every ``auto`` field worked out by the unit that owns it (computed once
    per device). Refuses a supply or clock the models do not apply to (figures.
    check_operating_point), naming the device's file when it came from one."""
    with _naming_the_file(device):
        return _resolve(device)


@lru_cache(maxsize=512)
def _resolve(device: DeviceSpec) -> DeviceSpec:
    check_operating_point(device)
    for unit in units(device):
        device = unit.resolve(device)
    return device


@contextmanager
def _naming_the_file(device: DeviceSpec):
    """Re-raise a figure refused for ``device`` (a SpecError naming the device) naming the
    file or sweep point it was read from instead."""
    try:
        yield
    except SpecError as exc:
        source = source_of(device)
        if exc.source != device.name or source == device.name:
            raise
        raise SpecError(source, exc.path, exc.message) from None


def energy_per_action(device: DeviceSpec) -> np.ndarray:
    """pJ per counted action, indexed by action (0 for a unit the device does not have)."""
    device = resolve(device)
    price = np.zeros(action_count())
    for unit in units(device):
        for action, pj in unit.prices(device).items():
            price[action] = pj
    return price


def leakage_power_mw(device: DeviceSpec) -> dict[str, float]:
    """Static power of each component, mW (chip-wide: everything leaks for the whole run)."""
    device = resolve(device)
    power: dict[str, float] = {}
    for unit in units(device):
        power.update(unit.leakage_mw(device))
    return power


def area_by_component(device: DeviceSpec) -> dict[str, Estimate]:
    """Silicon area of each component, mm², with its provenance (off-chip DRAM excluded;
    computed once per device, and a fresh dict each call: changing it changes nothing)."""
    return dict(_area_by_component(device))


@lru_cache(maxsize=512)
def _area_by_component(device: DeviceSpec) -> dict[str, Estimate]:
    device = resolve(device)
    area: dict[str, Estimate] = {}
    for unit in units(device):
        area.update(unit.area(device))
    return area


def estimates(device: DeviceSpec) -> dict[str, dict[str, Estimate]]:
    """Every figure a unit works out, by spec section: given numbers and model estimates."""
    out: dict[str, dict[str, Estimate]] = {}
    with _naming_the_file(device):
        check_operating_point(device)
        for unit in units(device):
            figures = unit.estimates(device)
            if figures:
                out.setdefault(unit.section or unit.name, {}).update(figures)
            device = unit.resolve(device)
    return out


def extrapolated(device: DeviceSpec) -> list[str]:
    """The figures of ``device`` that its models extrapolated beyond their data: price and
    leakage fields as "section.field", areas as "area: component"."""
    names = [f"{section}.{name}" for section, figures in estimates(device).items()
             for name, figure in figures.items() if figure.extrapolated]
    return names + [f"area: {component}" for component, figure in
                    area_by_component(device).items() if figure.extrapolated]


def latencies(device: DeviceSpec) -> dict[str, Estimate]:
    """Component latencies (ns) to hold against the clock period, with their sources: the
    shortest period of the chip's logic first, then each unit's."""
    device = resolve(device)
    tech = tech_of(device)
    slower = (f", {tech.delay_factor:.3g}x its delay at the nominal {tech.nominal_v:.3g} V"
              if tech.delay_factor > 1 else "")
    out: dict[str, Estimate] = {"logic: shortest clock period": Estimate(
        MIN_FO4_PER_CYCLE * tech.fo4_ps * 1e-3, "ns",
        "models.technology (Stillmaker & Baas FO4 delay fit)",
        f"{MIN_FO4_PER_CYCLE} FO4 delays of {tech.fo4_ps:.3g} ps{slower}: clocks up to "
        f"{tech.max_logic_hz() / 1e6:,.0f} MHz")}
    for unit in units(device):
        out.update({f"{unit.name}: {k}": v for k, v in unit.latencies(device).items()})
    return out
