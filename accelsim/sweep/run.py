"""Running design points: local processes or a Dask cluster, results journaled as they finish.

Every finished point (or its error) is appended to a CSV journal and flushed to disk at once.
Points are identified by a key (a hash of workload, parameters and options), so running the
same sweep again with the same output file skips what is already there: an interrupted sweep
(Ctrl-C, a killed process, a crashed worker) loses nothing.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import sys
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from accelsim.energy.table import ACTION_LABELS
from accelsim.errors import AccelsimError

COMPONENTS = sorted({component for component, _ in ACTION_LABELS.values()} | {"array"})
METRICS = ["cycles", "seconds", "energy_pj", "macs", "tops_per_watt", "average_power_mw",
           "weight_groups"]
MAX_CRASHES = 3


@dataclass(frozen=True)
class Point:
    index: int
    workload: str
    params: dict[str, Any]
    options: dict[str, Any]

    @cached_property
    def key(self) -> str:
        text = json.dumps({"workload": self.workload, "params": self.params,
                           "options": self.options}, sort_keys=True, default=str)
        return hashlib.sha1(text.encode()).hexdigest()[:16]

    def row(self, error: str = "") -> dict[str, Any]:
        """The row's identifying columns and status; an ``error`` makes it an error row."""
        return {"point": self.index, "key": self.key, "workload": self.workload,
                **self.params, "status": "error" if error else "ok", "error": error}


def columns(paths: list[str]) -> list[str]:
    return (["point", "key", "workload", *paths, "status", "error", *METRICS]
            + [f"energy_{c}_pj" for c in COMPONENTS])


def run_point(base: dict, base_name: str, point: Point) -> dict[str, Any]:
    """Simulate one point; never raises: errors become the row's ``error``."""
    from accelsim.simulate import simulate
    from accelsim.sweep.grid import apply

    row = point.row()
    try:
        label = f"{base_name} with " + ", ".join(f"{k}={v}" for k, v in point.params.items())
        device = apply(base, point.params, source=label)
        result = simulate(point.workload, device, **point.options)
        summary = result.summary()
        row.update({metric: summary[metric] for metric in METRICS})
        for component, pj in result.energy_by_component().items():
            row[f"energy_{component}_pj"] = pj
    except AccelsimError as exc:
        row = point.row(str(exc))
    except Exception as exc:  # a bug must not stop the sweep; the row says what happened
        row = point.row(f"{type(exc).__name__}: {exc}")
    return row


class Journal:
    """The output CSV, appended row by row; repairs a torn last line left by a kill."""

    def __init__(self, path: Path, fields: list[str]):
        self.path, self.fields = path, fields
        self.done: dict[str, dict] = {}
        if path.exists() and path.stat().st_size:
            self._recover()
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(path, "w", newline="", encoding="utf-8") as handle:
                csv.writer(handle).writerow(fields)

    def _recover(self) -> None:
        text = self.path.read_text(encoding="utf-8")
        lines = text.splitlines(keepends=True)
        if lines and not lines[-1].endswith("\n"):
            lines = lines[:-1]                               # a row cut off mid-write
        rows = list(csv.DictReader(lines))
        header = next(csv.reader(lines[:1]), [])
        if header != self.fields:
            raise AccelsimError(f"{self.path}: holds results of a different sweep (columns "
                                "differ); choose another output file")
        complete = [row for row in rows if None not in row and row.get("key")]
        self.done = {row["key"]: row for row in complete}
        if len(complete) != len(rows) or "".join(lines) != text:
            tmp = self.path.with_suffix(self.path.suffix + ".tmp")
            with open(tmp, "w", newline="", encoding="utf-8") as handle:
                writer = csv.DictWriter(handle, fieldnames=self.fields)
                writer.writeheader()
                writer.writerows(complete)
            os.replace(tmp, self.path)

    def append(self, row: dict) -> None:
        with open(self.path, "a", newline="", encoding="utf-8") as handle:
            csv.DictWriter(handle, fieldnames=self.fields, restval="").writerow(row)
            handle.flush()
            os.fsync(handle.fileno())
        self.done[row["key"]] = row


def execute(points: list[Point], base: dict, base_name: str, journal: Journal | None, *,
            jobs: int, client=None, progress: bool) -> list[dict]:
    """Run the points not yet in the journal; returns all rows, in point order."""
    done = dict(journal.done) if journal else {}
    todo = [p for p in points if p.key not in done]
    rows: dict[str, dict] = {}
    with _Progress(len(points), len(points) - len(todo), progress) as bar:
        def finished(row: dict) -> None:
            if journal:
                journal.append(row)
            rows[row["key"]] = row
            bar.advance(row)

        if client is not None:
            _on_dask(todo, base, base_name, client, finished)
        elif jobs == 1 or len(todo) <= 1:
            for point in todo:
                finished(run_point(base, base_name, point))
        else:
            _on_processes(todo, base, base_name, jobs, finished)
    merged = {**done, **rows}
    # Parameters come from the points, not from the journal's text, so types survive resuming.
    return [{**merged[p.key], **p.params} for p in points if p.key in merged]


def _on_processes(todo: list[Point], base: dict, base_name: str, jobs: int, finished) -> None:
    from accelsim.engine.program import warm_up

    warm_up()  # compiled once here; forked workers inherit the engine
    crashes = {p.key: 0 for p in todo}
    pending = list(todo)
    while pending:
        try:
            with ProcessPoolExecutor(max_workers=jobs) as pool:
                futures = {pool.submit(run_point, base, base_name, p): p for p in pending}
                while futures:
                    ready, _ = wait(futures, return_when=FIRST_COMPLETED)
                    for future in ready:
                        point = futures.pop(future)
                        finished(future.result())
                        pending.remove(point)
        except BrokenProcessPool:
            # A worker died (killed, out of memory, crashed). Its point is among the pending
            # ones: run them again on a fresh pool; a point that keeps crashing is an error.
            for point in list(pending):
                crashes[point.key] += 1
                if crashes[point.key] >= MAX_CRASHES:
                    pending.remove(point)
                    finished(point.row(f"worker crashed {MAX_CRASHES} times on this point"))


def _on_dask(todo: list[Point], base: dict, base_name: str, client, finished) -> None:
    from dask.distributed import as_completed

    futures = [client.submit(run_point, base, base_name, p, pure=False) for p in todo]
    for future in as_completed(futures):
        finished(future.result())


class _Progress:
    """A rich progress bar with ETA on stderr, or nothing."""

    def __init__(self, total: int, already: int, enabled: bool):
        self.enabled, self.errors = enabled, 0
        if enabled:
            from rich.console import Console
            from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn,
                                       TimeElapsedColumn, TimeRemainingColumn)
            self.bar = Progress(TextColumn("sweep"), BarColumn(), MofNCompleteColumn(),
                                TextColumn("{task.fields[errors]} errors"), TimeElapsedColumn(),
                                TextColumn("eta"), TimeRemainingColumn(),
                                console=Console(file=sys.stderr))
            self.task = self.bar.add_task("sweep", total=total, completed=already, errors=0)

    def __enter__(self):
        if self.enabled:
            self.bar.start()
        return self

    def advance(self, row: dict) -> None:
        if self.enabled:
            self.errors += row["status"] != "ok"
            self.bar.update(self.task, advance=1, errors=self.errors)

    def __exit__(self, *exc) -> None:
        if self.enabled:
            self.bar.stop()
