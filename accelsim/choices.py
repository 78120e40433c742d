"""The choices simulate() offers, and the check of its options, in one light module the
command line and sweep files can read without importing the simulator."""

import math
from collections.abc import Mapping
from typing import Any

from accelsim.errors import AccelsimError

# Simulation modes (see mapping.lower): steps of vectors, or one event per tile MVM.
MODES = ("fast", "reference")

# Mapping policies (see mapping.assign): rules, per-layer estimates, or one unit forced.
POLICIES = ("rules", "energy", "latency", "edp", "cim", "systolic")

# Execution orders (see mapping.memory.layer_by_layer): layers pipelined on chip, or one at a
# time with every activation going through DRAM (as ZigZag and Timeloop assume).
EXECUTIONS = ("pipelined", "layer_by_layer")


# Integer options: (lowest, highest, the highest as shown, whether None means a default).
_INTEGERS = {"batch": (1, 10 ** 7, "10,000,000", True),
             "max_steps": (1, 10 ** 7, "10,000,000", False),
             "seed": (0, 2 ** 63 - 1, "2**63 - 1", False)}
_FLAGS = ("values", "trace", "preload_weights")


def check_options(**options: Any) -> None:
    """Refuse a simulate() option of the wrong type or range, naming it (AccelsimError). A
    flag must be a bool (numpy's too): a string such as "no" is not taken for its truth."""
    for name, value in options.items():
        if name == "mode" and value not in MODES:
            raise AccelsimError(f"mode must be one of {', '.join(MODES)}, got {value!r}")
        if name == "execution" and value not in EXECUTIONS:
            raise AccelsimError(f"execution must be one of {', '.join(EXECUTIONS)}, "
                                f"got {value!r}")
        if name in _INTEGERS:
            low, high, shown, optional = _INTEGERS[name]
            if not (optional and value is None) and (
                    isinstance(value, bool) or not isinstance(value, int)
                    or not low <= value <= high):
                raise AccelsimError(f"{name} must be an integer from {low} to {shown}, "
                                    f"got {value!r}")
        if name in _FLAGS and not (isinstance(value, bool) or (  # numpy's bool is one too
                getattr(value, "shape", None) == ()
                and getattr(getattr(value, "dtype", None), "kind", None) == "b")):
            raise AccelsimError(f"{name} must be True or False, got {value!r}")
        if name == "assign" and value is not None and not (isinstance(value, Mapping) and all(
                isinstance(key, str) and isinstance(unit, str) for key, unit in value.items())):
            raise AccelsimError("assign must map layer names to unit names "
                                f"({{'conv1': 'systolic'}}), got {value!r:.80}")
        if name == "input_zeros":
            check_input_zeros(value)


def check_input_zeros(value: Any) -> None:
    """Refuse an ``input_zeros`` that is not a fraction, or a mapping of layer names to one."""
    if value is None:
        return
    items = value.items() if isinstance(value, Mapping) else [(None, value)]
    for name, fraction in items:
        where = f"input_zeros['{name}']" if name is not None else "input_zeros"
        if name is not None and not isinstance(name, str):
            raise AccelsimError(f"input_zeros must map layer names to fractions, got the key "
                                f"{name!r}")
        if isinstance(fraction, bool) or not isinstance(fraction, (int, float)) or not (
                math.isfinite(fraction) and 0 <= fraction <= 1):
            raise AccelsimError(f"{where} must be a fraction from 0 to 1 (the share of the "
                                f"layer's input values that are zero), got {fraction!r:.60}")
