"""Energy: countable actions, per-action prices, leakage, and technology scaling."""

from accelsim.energy.table import (ACTION_LABELS, BUFFER_READS, BUFFER_WRITES, DRAM_READS,
                                   DRAM_WRITES, N_ACTIONS, TRAFFIC, Action, Operand,
                                   energy_per_action, leakage_pj, leakage_power_mw)

__all__ = ["ACTION_LABELS", "BUFFER_READS", "BUFFER_WRITES", "DRAM_READS", "DRAM_WRITES",
           "N_ACTIONS", "TRAFFIC", "Action", "Operand", "energy_per_action", "leakage_pj",
           "leakage_power_mw"]
