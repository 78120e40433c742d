"""Input zeros given as fractions, for fast and reference mode: the zero policies of a systolic
array (gating, skipping) applied to a layer whose share of zero inputs is known (a published
activation statistic, or a what-if), without running values.

Value mode measures the zeros from the data instead; the two are not combined.
"""

from __future__ import annotations

import difflib
import warnings
from collections.abc import Mapping

from accelsim.errors import AccelsimError, AccelsimWarning
from accelsim.hardware.plan import UnitKind
from accelsim.hardware.registry import unit


def apply_input_zeros(plans: list, wl, dev, input_zeros, batch: int):
    """``plans`` with each systolic layer's counts (and, when skipping, cycles) for the given
    share of zero inputs, weights taken as dense, and {layer: (actions avoided, 0)}.

    input_zeros: one fraction for every layer on the systolic array, or {layer: fraction}."""
    systolic = {plan.name for plan in plans if plan.unit == UnitKind.SYSTOLIC}
    if isinstance(input_zeros, Mapping):
        fractions = dict(input_zeros)
        for name in fractions:
            if name in systolic:
                continue
            if name not in wl.layers:
                close = difflib.get_close_matches(name, list(wl.layers), n=3)
                hint = f" (did you mean {', '.join(repr(c) for c in close)}?)" if close else ""
                raise AccelsimError(f"input_zeros names '{name}', which is not a layer of "
                                    f"{wl.name}{hint}")
            where = next((plan.unit for plan in plans if plan.name == name), None)
            raise AccelsimError(
                f"input_zeros names '{name}', which runs on {where or 'no compute unit'}, not "
                "on a systolic array: given zeros apply to systolic-array layers (their zero "
                "policy); crossbar zeros come from values (values=True)")
    else:
        if not systolic:
            raise AccelsimError(f"input_zeros is given, but no layer of {wl.name} runs on a "
                                f"systolic array of '{dev.name}': given zeros apply to "
                                "systolic-array layers; crossbar zeros come from values "
                                "(values=True)")
        fractions = dict.fromkeys(systolic, input_zeros)
    if any(fractions.values()) and dev.systolic.zero_policy == "none":
        warnings.warn(f"'{dev.name}' has systolic.zero_policy: none, so zero inputs cost what "
                      "other values do and input_zeros changes nothing", AccelsimWarning,
                      stacklevel=4)
    out, skipped = [], {}
    for plan in plans:
        if plan.name in fractions:
            stats = unit(plan.unit).given_zeros(plan, fractions[plan.name], wl, batch)
            plan, *skipped[plan.name] = unit(plan.unit).measured(plan, stats, dev, batch)
        out.append(plan)
    return out, skipped
