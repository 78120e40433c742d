"""Event timelines in the Chrome / Perfetto trace format: one track per resource.

Open the JSON in https://ui.perfetto.dev or chrome://tracing. Each task appears while it holds
its resource (its occupancy); tasks that need no resource are left out.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class TaskTrace:
    """Per-task arrays of a simulation, kept when simulate(..., trace=True)."""

    start: np.ndarray
    occupancy: np.ndarray
    resource: np.ndarray
    layer: np.ndarray
    stage: np.ndarray
    resource_names: tuple[str, ...]
    layer_names: tuple[str, ...]
    stage_names: tuple[str, ...]
    clock_hz: float

    def events(self) -> list[dict]:
        """Trace events: thread names for the tracks, then complete ("X") events in µs."""
        used = np.flatnonzero(self.resource >= 0)
        tracks = sorted(set(self.resource[used].tolist()), key=lambda r: self.resource_names[r])
        events: list[dict] = [{"name": "process_name", "ph": "M", "pid": 0,
                               "args": {"name": "accelsim"}}]
        for order, r in enumerate(tracks):
            events.append({"name": "thread_name", "ph": "M", "pid": 0, "tid": int(r),
                           "args": {"name": self.resource_names[r]}})
            events.append({"name": "thread_sort_index", "ph": "M", "pid": 0, "tid": int(r),
                           "args": {"sort_index": order}})
        us = 1e6 / self.clock_hz
        for i in used[np.argsort(self.start[used], kind="stable")]:
            layer = self.layer_names[self.layer[i]] if self.layer[i] >= 0 else ""
            events.append({"name": f"{layer} {self.stage_names[self.stage[i]]}".strip(),
                           "cat": self.stage_names[self.stage[i]], "ph": "X", "pid": 0,
                           "tid": int(self.resource[i]), "ts": float(self.start[i] * us),
                           "dur": float(self.occupancy[i] * us),
                           "args": {"start_cycle": int(self.start[i]),
                                    "cycles": int(self.occupancy[i])}})
        return events

    def write(self, path: str | Path) -> None:
        """Write the trace as JSON (Chrome trace event format)."""
        from accelsim.results.files import output_path, writing
        with writing(output_path(path, "to_trace")) as handle:     # streamed: traces are big
            json.dump({"traceEvents": self.events(), "displayTimeUnit": "ns"}, handle)
