"""Running design points: local processes or a Dask cluster, results journaled as they finish.

Every finished point (or its error) is appended to a CSV journal and flushed to disk at once.
Points are identified by a key: a hash of everything that defines the result (the base
device's content, the workload and its file's content, the grid values, the simulate()
options, the accelsim version and a fingerprint of its source). Running a sweep again with
the same output file skips the points already there and retries the ones that failed: an
interrupted sweep (Ctrl-C, a killed process, a crashed worker) loses nothing, and a sweep of
another device or of a changed accelsim adds its own rows instead of reusing stale ones.

Local points run in worker processes of our own: each worker runs one point at a time, so a
point that kills its worker (a crash, the out-of-memory killer) is retried on a fresh worker
and, after MAX_CRASHES, recorded as an error alone. Workers exit when the parent dies.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import json
import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from accelsim.errors import AccelsimError


def components() -> list[str]:
    """The energy components a row has a column for (every unit's, registered ones too)."""
    import accelsim.hardware
    return accelsim.hardware.registry.components()
METRICS = ["cycles", "seconds", "energy_pj", "macs", "tops_per_watt", "average_power_mw",
           "weight_groups", "area_mm2", "tops_per_mm2"]
MAX_CRASHES = 3


def content_hash(value: Any) -> str:
    """A short hash of a JSON-able value (dict keys sorted)."""
    text = json.dumps(value, sort_keys=True, default=str)
    return hashlib.sha1(text.encode()).hexdigest()[:16]


@functools.lru_cache(maxsize=1)
def model_fingerprint() -> str:
    """A short hash of accelsim's model: every source file of the package and every shipped
    workload file (their paths and bytes). Sweep rows are keyed by it, so rows simulated by
    a different accelsim (an upgrade, a local change, another checkout) are never taken for
    this one's, even under the same version number. Hashing the 1 MB takes a few ms."""
    from accelsim._data import data_dir
    package = Path(__file__).resolve().parent.parent
    digest = hashlib.sha1()
    files = [(f"accelsim/{path.relative_to(package).as_posix()}", path)
             for path in package.rglob("*.py")]
    workloads = data_dir("workloads")
    files += [(f"workloads/{path.relative_to(workloads).as_posix()}", path)
              for path in workloads.rglob("*") if path.is_file()]
    for name, path in sorted(files):
        digest.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


@dataclass(frozen=True)
class Point:
    index: int
    workload: str
    params: dict[str, Any]
    options: dict[str, Any]
    device: str = ""                 # the base device's name, as given
    identity: str = ""               # hash of the base device, workload file and version
    model: str = ""                  # the sweeping process's model_fingerprint()

    @cached_property
    def key(self) -> str:
        return content_hash({"workload": self.workload, "params": self.params,
                             "options": self.options, "identity": self.identity})

    def row(self, error: str = "") -> dict[str, Any]:
        """The row's identifying columns and status; an ``error`` makes it an error row."""
        return {"point": self.index, "key": self.key, "device": self.device,
                "workload": self.workload, **self.params, "status": "error" if error else "ok",
                "error": error}


# Value-mode sweeps: the output against the float64 reference (Result.output_agreement).
VALUE_METRICS = ["output_correlation", "output_error"]


def columns(paths: list[str], values: bool = False) -> list[str]:
    return (["point", "key", "device", "workload", *paths, "status", "error", *METRICS]
            + (VALUE_METRICS if values else [])
            + [f"energy_{c}_pj" for c in components()]
            + [f"area_{c}_mm2" for c in components()])


# Spec keys whose values are prices or static powers: they change energy, never timing, so
# points that differ only in them share one simulation, re-priced (Result.repriced), unless
# the run's own decisions read prices (hardware.registry.prices_decide: an energy mapping
# policy, a row-stationary mapping search), when each point is planned and run again.
PRICE_SUFFIXES = ("_pj", "_pj_per_bit", "_mw")
_TIMED: dict[str, Any] = {}      # per worker process: recent simulations by timing key
_TIMED_KEEP = 16


def timing_key(point: Point) -> str:
    """What a point's simulation depends on: everything but its price-only grid values."""
    timing = {path: value for path, value in point.params.items()
              if not path.endswith(PRICE_SUFFIXES)}
    return content_hash({"workload": point.workload, "params": timing,
                         "options": point.options, "identity": point.identity})


def run_point(base: dict, base_name: str, point: Point) -> dict[str, Any]:
    """Simulate one point (or re-price a simulation of a point that differs only in prices);
    never raises: errors become the row's ``error``."""
    from accelsim.hardware.pricing import resolve
    from accelsim.hardware.registry import prices_decide
    from accelsim.simulate import simulate
    from accelsim.sweep.grid import apply, split_point

    row = point.row()
    try:
        if point.model and point.model != model_fingerprint():
            # A cluster worker with another accelsim would simulate another model under this
            # row's key.
            return point.row(f"this worker's accelsim differs from the sweeping process's "
                             f"(model fingerprint {model_fingerprint()}, not {point.model}): "
                             "install the same accelsim on every worker")
        label = f"{base_name} with " + ", ".join(f"{k}={v}" for k, v in point.params.items())
        params, value_options = split_point(point.params)
        device = apply(base, params, source=label)
        options = point.options
        if value_options:                # value options of the grid over the sweep's own
            options = {**options, "value_options": {**(options.get("value_options") or {}),
                                                    **value_options}}
        key = timing_key(point)
        if prices_decide(resolve(device), point.options.get("policy", "rules")):
            key = point.key              # its schedule may move with its prices
        if key in _TIMED:
            result = _TIMED[key].repriced(device)
        else:
            result = simulate(point.workload, device, **options)
            _TIMED[key] = result
            while len(_TIMED) > _TIMED_KEEP:
                _TIMED.pop(next(iter(_TIMED)))
        summary = result.summary()
        row.update({metric: summary[metric] for metric in METRICS})
        if result.reference is not None:
            agreement = result.output_agreement()
            row.update(output_correlation=agreement["correlation"],
                       output_error=agreement["relative_error"])
        for component, pj in result.energy_by_component().items():
            row[f"energy_{component}_pj"] = pj
        for component, mm2 in result.area_breakdown().items():
            row[f"area_{component}_mm2"] = mm2
    except AccelsimError as exc:
        row = point.row(str(exc))
    except Exception as exc:  # a bug must not stop the sweep; the row says what happened
        row = point.row(f"{type(exc).__name__}: {exc}")
    return row


class Journal:
    """The output CSV, appended row by row; repairs a torn last line left by a kill.

    Each row is flushed to the operating system as soon as it is written (a killed process
    loses nothing) and synced to disk at most once a second (syncing every row cost a third
    of a 100,000-point sweep). One sweep at a time may write a journal: a lock file beside it
    refuses a second one. Use as a context manager, or call close()."""

    SYNC_SECONDS = 1.0

    def __init__(self, path: Path, fields: list[str]):
        import fcntl
        import time
        self.path, self.fields = path, fields
        self.done: dict[str, dict] = {}
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            if path.exists() and not path.is_file():
                raise AccelsimError(f"{path}: the sweep output is not a regular file")
            self._lock = open(path.with_name(path.name + ".lock"), "w")
        except OSError as exc:
            raise AccelsimError(f"{path}: cannot write beside the sweep output: "
                                f"{exc.strerror}") from None
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            self._lock.close()
            raise AccelsimError(f"{path}: another sweep is writing to this file; wait for it "
                                "to finish or choose another output") from None
        if path.exists() and path.stat().st_size:
            self._recover()
        else:
            with open(path, "w", newline="", encoding="utf-8") as handle:
                csv.writer(handle).writerow(fields)
        self._handle = open(path, "a", newline="", encoding="utf-8")
        self._writer = csv.DictWriter(self._handle, fieldnames=fields, restval="")
        self._synced = time.monotonic()

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        if not self._handle.closed:
            self._handle.flush()
            os.fsync(self._handle.fileno())
            self._handle.close()
        if not self._lock.closed:
            self._lock.close()         # releases the lock

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
        import time
        self._writer.writerow(row)
        self._handle.flush()
        if time.monotonic() - self._synced >= self.SYNC_SECONDS:
            os.fsync(self._handle.fileno())
            self._synced = time.monotonic()
        self.done[row["key"]] = row


def execute(points: list[Point], base: dict, base_name: str, journal: Journal | None, *,
            jobs: int, client=None, progress: bool, retry_errors: bool = True) -> list[dict]:
    """Run the points not yet in the journal (and, with ``retry_errors``, those that failed
    there); returns all rows, in point order."""
    done = {key: row for key, row in (journal.done.items() if journal else ())
            if row.get("status") == "ok" or not retry_errors}
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


def _worker(connection, parent: int) -> None:
    """A worker process: run the points it is sent, one at a time, until told to stop or
    until its parent is gone (a watchdog thread ends it then, even mid-point)."""
    import threading
    import time

    def watch() -> None:
        while True:
            if os.getppid() != parent:
                os._exit(1)
            time.sleep(0.5)

    threading.Thread(target=watch, daemon=True).start()
    while True:
        try:
            job = connection.recv()
        except (EOFError, OSError):
            return
        if job is None:
            return
        connection.send(run_point(*job))


def _on_processes(todo: list[Point], base: dict, base_name: str, jobs: int, finished) -> None:
    """Run the points on ``jobs`` worker processes of our own (fork: the compiled engine is
    inherited). A worker that dies takes only its own point with it: that point is retried on
    a new worker, and after MAX_CRASHES deaths it becomes an error row."""
    import multiprocessing
    from multiprocessing.connection import wait as wait_for

    from accelsim.engine import native
    from accelsim.engine.program import warm_up

    # Built or loaded once here, so that forked workers inherit both loops: the C one (fast
    # mode) and numba's (the fans of reference mode).
    native.available()
    warm_up()
    context = multiprocessing.get_context("fork")
    pending = list(reversed(todo))               # popped from the end: in point order
    crashes = {p.key: 0 for p in todo}
    busy: dict[Any, tuple[Any, Point]] = {}      # connection -> (process, its point)
    idle: list[tuple[Any, Any]] = []

    def start_worker():
        ours, theirs = context.Pipe()
        process = context.Process(target=_worker, args=(theirs, os.getpid()), daemon=True)
        process.start()
        theirs.close()
        return process, ours

    try:
        while pending or busy:
            while pending and len(busy) < jobs:
                process, connection = idle.pop() if idle else start_worker()
                point = pending.pop()
                connection.send((base, base_name, point))
                busy[connection] = (process, point)
            for connection in wait_for(list(busy)):
                process, point = busy.pop(connection)
                try:
                    row = connection.recv()
                except (EOFError, OSError):
                    # The worker died with this point: retry it alone on a new worker.
                    process.join(timeout=5)
                    connection.close()
                    crashes[point.key] += 1
                    if crashes[point.key] >= MAX_CRASHES:
                        finished(point.row(f"worker crashed {MAX_CRASHES} times on this point "
                                           f"(exit code {process.exitcode})"))
                    else:
                        pending.append(point)
                    continue
                idle.append((process, connection))
                finished(row)
    finally:
        for _, connection in idle:
            try:
                connection.send(None)
            except OSError:
                pass
        for process, _ in busy.values():      # interrupted mid-point (Ctrl-C)
            process.terminate()
        for process, _ in idle:
            process.join(timeout=5)
            if process.is_alive():
                process.terminate()


def _on_dask(todo: list[Point], base: dict, base_name: str, client, finished) -> None:
    from dask.distributed import as_completed

    done = 0
    try:
        futures = [client.submit(run_point, base, base_name, p, pure=False) for p in todo]
        for future in as_completed(futures):
            finished(future.result())
            done += 1
    except (OSError, TimeoutError) as exc:
        raise AccelsimError(f"the Dask cluster went away after {done} of {len(todo)} points "
                            f"({type(exc).__name__}); the finished points are kept: run the "
                            "same sweep again to resume") from None
    except Exception as exc:
        if type(exc).__name__ in ("CommClosedError", "CancelledError", "FutureCancelledError",
                                  "KilledWorker"):
            raise AccelsimError(f"the Dask cluster failed after {done} of {len(todo)} points "
                                f"({type(exc).__name__}); the finished points are kept: run "
                                "the same sweep again to resume") from None
        raise


class _Progress:
    """A rich progress bar with ETA on stderr, or nothing."""

    def __init__(self, total: int, already: int, enabled: bool):
        self.enabled, self.errors = enabled, 0
        if enabled:
            from accelsim.progress import bar
            self.bar = bar("sweep", ":bar", ":count", "{task.fields[errors]} errors",
                           ":elapsed", "eta", ":remaining")
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
