"""The choices simulate() offers, in one light module the command line can read without
importing the simulator."""

# Simulation modes (see mapping.lower): steps of vectors, or one event per tile MVM.
MODES = ("fast", "reference")

# Mapping policies (see mapping.assign): rules, per-layer estimates, or one unit forced.
POLICIES = ("rules", "energy", "latency", "edp", "cim", "systolic")

# Execution orders (see mapping.memory.layer_by_layer): layers pipelined on chip, or one at a
# time with every activation going through DRAM (as ZigZag and Timeloop assume).
EXECUTIONS = ("pipelined", "layer_by_layer")
