"""A device resolved (every ``auto`` worked out by its unit), its prices and static power,
gathered from its units."""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from accelsim.energy.table import action_count
from accelsim.hardware.registry import units
from accelsim.spec.device import DeviceSpec


@lru_cache(maxsize=512)
def resolve(device: DeviceSpec) -> DeviceSpec:
    """``device`` with every ``auto`` field worked out by the unit that owns it (computed once
    per device)."""
    for unit in units(device):
        device = unit.resolve(device)
    return device


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
