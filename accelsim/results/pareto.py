"""Pareto fronts of sweep rows: the designs no other design of their group beats."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np


def pareto_front(rows, x: str = "cycles", y: str = "energy_pj",
                 by: tuple[str, ...] = ("workload", "device")) -> np.ndarray:
    """Boolean mask of the rows no other row of the same group beats in both ``x`` and ``y``
    (lower is better). Rows are grouped by the ``by`` columns they have (by default one front
    per workload and base device: a small network must not hide a large one). ``rows``: a
    list of dicts, a SweepResult or a pandas DataFrame. Error rows are never on a front."""
    rows = as_rows(rows)
    for column in (x, y):
        missing = [i for i, row in enumerate(rows)
                   if row.get("status", "ok") == "ok" and column not in row]
        if missing:
            known = sorted(rows[missing[0]])
            raise KeyError(f"column {column!r} is not in sweep row {missing[0]} (its columns: "
                           f"{', '.join(map(str, known[:30]))})")
    groups: dict[tuple, list[int]] = {}
    for i, row in enumerate(rows):
        groups.setdefault(tuple(row.get(column) for column in by), []).append(i)
    mask = np.zeros(len(rows), dtype=bool)
    for members in groups.values():
        values = np.array([[_number(rows[i][x]), _number(rows[i][y])]
                           if rows[i].get("status", "ok") == "ok" else [np.inf, np.inf]
                           for i in members]).reshape(-1, 2)
        best_y = np.inf
        for j in np.lexsort((values[:, 1], values[:, 0])):
            if np.isfinite(values[j, 0]) and values[j, 1] < best_y:
                mask[members[j]], best_y = True, values[j, 1]
    return mask


def _number(value) -> float:
    """A row's figure as a float; an undefined one (None, empty or nan) as +inf, never on a
    front."""
    if value is None or value == "":
        return np.inf
    number = float(value)
    return np.inf if number != number else number


def as_rows(rows) -> list[dict]:
    """Sweep rows from a list of dicts, a SweepResult (anything with ``rows``) or a pandas
    DataFrame."""
    if hasattr(rows, "rows") and isinstance(rows.rows, list):
        return rows.rows
    if hasattr(rows, "to_dict") and hasattr(rows, "columns"):
        return rows.to_dict("records")
    if isinstance(rows, (str, bytes, Mapping)) or not isinstance(rows, Iterable):
        raise TypeError("sweep rows must be a list of dicts, a SweepResult or a pandas "
                        f"DataFrame, got {type(rows).__name__}")
    rows = list(rows)
    for i, row in enumerate(rows):
        if not isinstance(row, Mapping):
            raise TypeError(f"sweep row {i} must be a dict of columns, got "
                            f"{type(row).__name__}")
    return rows
