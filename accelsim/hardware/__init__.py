"""Hardware units behind one protocol (see registry): crossbar tiles, systolic arrays, the
digital unit, SRAM buffers, the interconnect and DRAM. Every module of this package is
imported here, so a unit registers itself by being in it.
"""

import importlib
import pkgutil

from accelsim.hardware.registry import REGISTRY, Unit, register, unit, units, weighted_units

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")

__all__ = ["REGISTRY", "Unit", "register", "unit", "units", "weighted_units"]
