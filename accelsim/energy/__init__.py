"""Energy: countable actions, per-action prices, leakage, and technology scaling."""

from accelsim.energy.table import (ACTION_LABELS, N_ACTIONS, Action, energy_per_action,
                                   leakage_pj, leakage_power_mw)

__all__ = ["ACTION_LABELS", "N_ACTIONS", "Action", "energy_per_action", "leakage_pj",
           "leakage_power_mw"]
