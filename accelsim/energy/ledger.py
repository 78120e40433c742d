"""The energy ledger: what every layer counted, gathered from its plans.

Components only count actions; energy is counts x prices plus leakage, computed afterwards,
so the same ledger can be priced for another device's energy table without simulating again
(Result.repriced). Plans are read by their fields (counts, batch_counts, images,
programming), so this module depends on no hardware unit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from accelsim.energy.table import action_count


@dataclass(frozen=True)
class Ledger:
    """Action counts per layer ([layer, action]) and the one-time weight write ([action])
    that the totals leave out."""

    counts: np.ndarray
    one_time: np.ndarray

    @classmethod
    def of(cls, plans, *, batch: int, written_in_run: frozenset) -> Ledger:
        """Count every part of every plan over the batch: its measured counts (value mode)
        or its per-pass counts times the passes; and crossbar weight writes, counted in the
        run for the parts in ``written_in_run`` (their tiles change hands between layer
        groups, or preloading is off), else set apart as one-time."""
        counts = np.zeros((len(plans), action_count()))
        one_time = np.zeros(action_count())
        # Part by part in each plan's order (so that every row adds up in the same order),
        # the plans' n-th parts at once.
        depth = max((len(plan.parts) for plan in plans), default=0)
        for position in range(depth):
            rows, added, scales, written, writes = [], [], [], [], []
            for index, plan in enumerate(plans):
                if position >= len(plan.parts):
                    continue
                part = plan.parts[position]
                rows.append(index)
                if part.batch_counts is not None:
                    added.append(part.batch_counts)
                    scales.append(1)
                else:
                    added.append(part.counts)
                    scales.append(batch // part.images)
                if (part.layer, part.part) in written_in_run:
                    written.append(index)
                    writes.append(part.programming.counts)
                elif part.programming is not None:
                    one_time += part.programming.counts
            if rows:
                counts[rows] += np.stack(added) * np.array(scales, dtype=np.float64)[:, None]
            if written:
                counts[written] += np.stack(writes)
        return cls(counts, one_time)

    def layer_energy(self, prices: np.ndarray) -> np.ndarray:
        """pJ per layer (dynamic energy only; leakage is chip-wide)."""
        return np.array([float(np.dot(row, prices)) for row in self.counts])


def leakage_energy(power_mw: dict[str, float], cycles: int, clock_hz: float) -> dict[str, float]:
    """pJ by component of each static power over ``cycles`` clock cycles."""
    return {component: mw * 1e-3 * (cycles / clock_hz) * 1e12
            for component, mw in power_mw.items()}
