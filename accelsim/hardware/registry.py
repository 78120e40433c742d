"""The unit registry: every hardware unit behind one protocol, registered by name.

A unit owns its spec section (an attribute of DeviceSpec), its prices, leakage and area (the
component models plug in here), its per-layer planning and its value-mode measurement.
Pricing, planning, the mapping policy, value mode and reports loop over the registry instead
of naming units. Every module of the ``accelsim.hardware`` package is imported when the
package is, so a new unit registers itself by being there (see docs/architecture.md).
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, ClassVar

import numpy as np

from accelsim.models import Estimate
from accelsim.spec.device import DeviceSpec

if TYPE_CHECKING:
    from accelsim.hardware.context import PlanContext
    from accelsim.hardware.plan import LayerPlan


class Unit:
    """Base class of a hardware unit. Subclasses set ``name`` and ``section`` and override
    what applies; the defaults describe a unit with no cost and no layers.

    name: the unit's name in reports and in ``assign=``/``policy=`` (for compute units).
    section: the DeviceSpec attribute holding its spec (None: always present).
    order: position in listings and in the pricing loop (lower first).
    weighted: it can run conv and linear layers (the mapping policy chooses among these).
    """

    name: ClassVar[str] = ""
    section: ClassVar[str | None] = None
    order: ClassVar[int] = 100
    weighted: ClassVar[bool] = False
    components: ClassVar[tuple[str, ...]] = ()    # its names in energy breakdowns

    def spec(self, device: DeviceSpec):
        return getattr(device, self.section) if self.section else None

    def present(self, device: DeviceSpec) -> bool:
        return self.section is None or self.spec(device) is not None

    # -- prices, leakage, area -------------------------------------------------------------
    def estimates(self, device: DeviceSpec) -> dict[str, Estimate]:
        """Every field of this unit's section that may be ``auto``: its value on ``device``
        (where earlier units are already resolved) and where it comes from (the file, or a
        component model). Raises SpecError when a figure cannot be worked out or the clock
        is too fast for a component."""
        return {}

    def resolve(self, device: DeviceSpec) -> DeviceSpec:
        """``device`` with this unit's ``auto`` fields replaced by their estimates."""
        spec = self.spec(device)
        if spec is None or self.section is None:
            return device
        changes = {name: estimate.value
                   for name, estimate in self.estimates(device).items()
                   if getattr(spec, name) == "auto"}
        if not changes:
            return device
        return replace(device, **{self.section: replace(spec, **changes)})

    def area(self, device: DeviceSpec) -> dict[str, Estimate]:
        """Silicon area by component, mm² (of the resolved device)."""
        return {}

    def latencies(self, device: DeviceSpec) -> dict[str, Estimate]:
        """Component latencies worth checking against the clock, ns (for --explain)."""
        return {}

    def prices(self, device: DeviceSpec) -> dict[int, float]:
        """pJ per action (indices into the action vocabulary) for the actions it counts, from
        the resolved device."""
        return {}

    def leakage_mw(self, device: DeviceSpec) -> dict[str, float]:
        """Static power by component (a chip-wide figure, leaking for the whole run)."""
        return {}

    def prices_decide(self, device: DeviceSpec) -> bool:
        """Whether its planning reads prices (a mapping search that weighs energy): then a
        run cannot be re-priced for other prices, it must be planned again."""
        return False

    # -- planning ---------------------------------------------------------------------------
    def claims(self, layer, device: DeviceSpec) -> bool:
        """It runs this non-weighted layer instead of the digital unit (units are asked in
        order; the digital unit runs what none claims)."""
        return False

    def plan(self, ctx: PlanContext, name: str) -> LayerPlan:
        """The plan of layer ``name`` on this unit."""
        raise NotImplementedError(f"{self.name} does not plan layers")

    # -- value mode -------------------------------------------------------------------------
    def product(self, ctx: PlanContext, plan: LayerPlan, columns: np.ndarray,
                matrix: np.ndarray, options, rng: np.random.Generator):
        """Value mode: the layer's product of input vectors [V, K] and weights [K, N] as the
        unit computes it, and what it measured (for ``measured``)."""
        raise NotImplementedError(f"{self.name} computes no weighted layers")

    def measured(self, plan: LayerPlan, stats, device: DeviceSpec,
                 batch: int) -> tuple[LayerPlan, np.ndarray, int]:
        """``plan`` with counts and cycles from what value mode measured; returns (plan,
        actions avoided against the dense plan, tiles not mapped)."""
        return plan, np.zeros(0), 0

    def given_zeros(self, plan: LayerPlan, fraction: float, workload, batch: int):
        """What ``measured`` takes, for a layer whose inputs are zero in the given ``fraction``
        (simulate's input_zeros, fast and reference mode)."""
        raise NotImplementedError(f"{self.name} takes no given input zeros")


REGISTRY: dict[str, Unit] = {}


def register(cls: type[Unit]) -> type[Unit]:
    """Class decorator: add one instance of the unit to the registry."""
    REGISTRY[cls.name] = cls()
    return cls


def units(device: DeviceSpec | None = None) -> list[Unit]:
    """The registered units (those present on ``device``, if given), in order."""
    found = sorted(REGISTRY.values(), key=lambda unit: (unit.order, unit.name))
    return [u for u in found if device is None or u.present(device)]


def unit(name: str) -> Unit:
    return REGISTRY[name]


def components() -> list[str]:
    """Every component an energy breakdown can name: those of the actions and of the units."""
    from accelsim.energy.table import action_count, action_label
    names = {action_label(action)[0] for action in range(action_count())}
    names.update(c for u in REGISTRY.values() for c in u.components)
    return sorted(names)


def weighted_units(device: DeviceSpec) -> list[Unit]:
    """The units of ``device`` that can run conv and linear layers."""
    return [u for u in units(device) if u.weighted]


def prices_decide(device: DeviceSpec, policy: str = "rules") -> bool:
    """Whether a run's decisions read prices, so that other prices may give another schedule:
    a mapping policy that weighs energy between units ("energy", "edp") on a device with a
    choice of them, or a unit whose own planning does (Unit.prices_decide)."""
    if policy in ("energy", "edp") and len(weighted_units(device)) > 1:
        return True
    return any(u.prices_decide(device) for u in units(device))
