"""Energy: countable actions and the ledger of what a run counted (technology scaling and
component models live in accelsim.models).
Prices come from the hardware units (accelsim.hardware.pricing)."""

from accelsim.energy.table import (
                                   ACTION_LABELS,
                                   BUFFER_READS,
                                   BUFFER_WRITES,
                                   DRAM_READS,
                                   DRAM_WRITES,
                                   N_ACTIONS,
                                   TRAFFIC,
                                   Action,
                                   Operand,
                                   action_count,
                                   action_label,
                                   action_name,
                                   leakage_pj,
                                   register_action,
)

__all__ = ["ACTION_LABELS", "BUFFER_READS", "BUFFER_WRITES", "DRAM_READS", "DRAM_WRITES",
           "N_ACTIONS", "TRAFFIC", "Action", "Operand", "action_count", "action_label",
           "action_name", "leakage_pj", "register_action"]
