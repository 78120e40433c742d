"""Design-space sweeps over dotted device-spec paths, on local processes or a Dask cluster.

    import accelsim
    res = accelsim.sweep("cim-16x16", ["resnet18"], grid={"cim.rows": [16, 32, 64, 128]},
                         output="sweep.csv")
    res.rows            # one dict per (point, workload); res.to_dataframe() with pandas

Running the same sweep again with the same ``output`` skips the points already in the file.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from accelsim._data import looks_like_path
from accelsim.choices import check_options
from accelsim.errors import AccelsimError, SpecError
from accelsim.progress import wanted
from accelsim.results.pareto import pareto_front
from accelsim.spec.load import available_devices, load_device
from accelsim.spec.yamlfile import path_kind, read_yaml
from accelsim.sweep.grid import apply, expand, split_point
from accelsim.sweep.run import (
    METRICS,
    VALUE_METRICS,
    Journal,
    Point,
    columns,
    components,
    execute,
    model_fingerprint,
)
from accelsim.workload.load import available_workloads, load_workload

__all__ = ["SweepResult", "load_results", "load_sweep", "pareto_front", "sweep"]

_OPTIONS = ("batch", "mode", "execution", "max_steps", "preload_weights", "policy", "assign",
            "input_zeros", "values", "value_options")
def _numeric() -> set[str]:
    return (set(METRICS) | set(VALUE_METRICS) | {f"energy_{c}_pj" for c in components()}
            | {"point"})


@dataclass(frozen=True)
class SweepResult:
    """Rows of a sweep (one per design point and workload) and where they were written."""

    rows: list[dict[str, Any]]
    path: Path | None
    parameters: tuple[str, ...]

    @property
    def errors(self) -> list[dict]:
        return [row for row in self.rows if row["status"] != "ok"]

    def to_dataframe(self):
        """The rows as a pandas DataFrame (pip install 'accelsim[pandas]')."""
        try:
            import pandas as pd
        except ImportError:
            raise ImportError("to_dataframe() needs pandas: pip install 'accelsim[pandas]'"
                              ) from None
        return pd.DataFrame(self.rows)


def sweep(device: str | Path, workloads: str | list[str], *, grid: dict[str, list],
          sample: int | None = None, seed: int = 0, output: str | Path | None = None,
          jobs: int | None = None, client=None, scheduler: str | None = None,
          progress: bool | None = None, retry_errors: bool = True,
          max_points: int = 100_000, **options) -> SweepResult:
    """Simulate every grid point (or ``sample`` random ones) for every workload.

    device: the base device (shipped name or YAML path); grid: {"cim.rows": [16, 32], ...};
    with values=True the grid may also vary value options: {"value_options.adc_full_scale":
    [0.25, 0.5, 1.0]}.
    seed: draws the ``sample`` points, and value mode's random weights and inputs.
    output: a .csv journal (a .parquet path writes Parquet at the end, journaling beside it).
    jobs: local worker processes (default: all cores). client / scheduler: a
    dask.distributed Client, or a scheduler address, to run the points on a cluster instead.
    progress: a progress bar with ETA on stderr (default: in a notebook, or when stderr is a
        terminal).
    retry_errors: on resume, run again the points whose rows in ``output`` are errors
    (False keeps those rows). max_points: a larger grid is refused unless ``sample`` draws
    from it (raise it to run every point anyway).
    Other keyword options go to simulate(): batch, mode, policy, assign, ... With
    ``values=True`` (and optionally ``value_options``) every point runs value mode, its
    random weights and inputs drawn from ``seed``, and its row adds output_correlation and
    output_error, the output against the float64 reference (Result.output_agreement).

    Rows are keyed by everything that defines them (the base device's content, the workload
    and its file, grid values, options, accelsim's version and a fingerprint of its source
    and shipped workloads), so one output file can collect sweeps of several devices, and a
    journal resumed after accelsim changed is simulated again rather than mixed with rows
    of the old model; each row names its base device in ``device``.
    """
    for name in options:
        if name not in _OPTIONS:
            raise AccelsimError(f"unknown sweep option '{name}' (simulate options: "
                                f"{', '.join(_OPTIONS)})")
    check_options(**options)
    base, base_name = _device_dict(device)
    workloads = [workloads] if isinstance(workloads, str) else list(workloads)
    if not workloads:
        raise AccelsimError("sweep: give at least one workload")
    if jobs is not None and (isinstance(jobs, bool) or not isinstance(jobs, int)
                             or not 1 <= jobs <= 1024):
        raise AccelsimError(f"jobs must be an integer from 1 to 1,024, got {jobs!r}")
    params = expand(grid, sample=sample, seed=seed, max_points=max_points)
    options = _value_mode(options, seed, params)
    for workload in workloads:
        _check_workload(workload)
    # Catch a wrong path before starting workers (each point would fail the same way).
    apply(base, split_point(params[0])[0], source=f"{base_name} with the first grid point")
    identities = {w: _identity(base, w) for w in workloads}
    model = model_fingerprint()
    points = [Point(index, workload, p, options, base_name, identities[workload], model)
              for index, (p, workload) in enumerate((p, w) for p in params for w in workloads)]
    paths = list(grid)
    path = Path(output) if output is not None else None
    _check_output_type(path)
    journal_path = path
    if path is not None and path.suffix == ".parquet":
        journal_path = path.with_name(path.name + ".journal.csv")
    journal = (Journal(journal_path, columns(paths, values=bool(options.get("values"))))
               if journal_path else None)
    owned = None
    try:
        if client is None and scheduler is not None:
            client = owned = _dask_client(scheduler)
        elif client is not None:
            _dask_client(None)  # only checks that dask is installed
        rows = execute(points, base, base_name, journal, jobs=jobs or os.cpu_count() or 1,
                       client=client,
                       progress=wanted(progress),
                       retry_errors=retry_errors)
    finally:
        if journal is not None:
            journal.close()
        if owned is not None:
            owned.close()
    rows = [_typed(row) for row in rows]
    if path is not None and path.suffix == ".parquet":
        SweepResult(rows, path, tuple(paths)).to_dataframe().to_parquet(path)
    return SweepResult(rows, path, tuple(paths))


def _value_mode(options: dict, seed: int, params: list[dict]) -> dict:
    """The simulate() options of a sweep's points: with ``values``, the sweep's seed for the
    weights and inputs, and the value options of every point (the sweep's, under the grid's
    value_options.NAME paths) checked now: a wrong one would fail its points."""
    swept = sorted({name for point in params for name in split_point(point)[1]})
    if not options.get("values"):
        if "value_options" in options:
            raise AccelsimError("value_options need values=True")
        if swept:
            raise AccelsimError(f"the grid sweeps value options ({', '.join(swept)}); "
                                "they need values=True")
        return options
    from accelsim.values.measure import resolve_options
    for point in params if swept else params[:1]:
        resolve_options({**(options.get("value_options") or {}), **split_point(point)[1]})
    return {**options, "seed": seed}


def _check_output_type(path: Path | None) -> None:
    """Refuse, before any point runs, an output the sweep cannot write: a file type other
    than .csv and .parquet (CSV rows in results.json would mislead), or Parquet without
    its libraries (found after the last point, the run would be lost)."""
    if path is None:
        return
    if path.suffix not in (".csv", ".parquet"):
        raise AccelsimError(f"{path}: a sweep writes its results as CSV (.csv) or Parquet "
                            f"(.parquet), not '{path.suffix or 'no extension'}'")
    if path.suffix == ".parquet":
        try:
            import pandas  # noqa: F401
            import pyarrow  # noqa: F401
        except ImportError:
            raise AccelsimError(f"{path}: writing Parquet needs pandas and pyarrow: pip "
                                "install 'accelsim[parquet]' (or write .csv)") from None


def load_sweep(path: str | Path) -> dict[str, Any]:
    """Read a sweep file (version 1) into keyword arguments for :func:`sweep`.

    Keys: device, workloads, grid, and optionally sample, seed, output, jobs, options
    (simulate() options, values and value_options among them).
    """
    data = read_yaml(path)
    source = str(path)
    allowed = {"version", "device", "workloads", "grid", "sample", "seed", "output", "jobs",
               "options", "description", "max_points"}
    for key in data:
        if key not in allowed:
            raise SpecError(source, key, f"unknown key (expected {', '.join(sorted(allowed))})")
    if data.get("version") != 1:
        raise SpecError(source, "version", "required, and must be 1")
    for key in ("device", "workloads", "grid"):
        if key not in data:
            raise SpecError(source, key, "required key is missing")
    options = data.get("options", {}) or {}
    if not isinstance(options, dict):
        raise SpecError(source, "options", "must be a mapping of simulate() options")
    for key in options:
        if key not in _OPTIONS:
            raise SpecError(source, f"options.{key}", f"unknown option (known: "
                            f"{', '.join(_OPTIONS)})")
        try:
            check_options(**{key: options[key]})
            if key == "value_options":
                from accelsim.values.measure import resolve_options
                resolve_options(options[key])
        except AccelsimError as exc:
            raise SpecError(source, f"options.{key}", str(exc)) from None
    if "value_options" in options and not options.get("values"):
        raise SpecError(source, "options.value_options", "needs values: true beside it")
    workloads = data["workloads"]
    if isinstance(workloads, str):
        workloads = [workloads]
    if not isinstance(workloads, list) or not all(isinstance(w, str) for w in workloads):
        raise SpecError(source, "workloads", "must be a workload name or a list of names")
    for key, low, high in (("jobs", 1, 1024), ("max_points", 1, 10 ** 9),
                           ("seed", 0, 2 ** 63 - 1)):
        value = data.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                  or not low <= value <= high):
            raise SpecError(source, key, f"must be an integer from {low:,} to {high:,} "
                            f"(got {value!r})")
    for key in ("output", "device"):
        if key in data and not isinstance(data[key], str):
            raise SpecError(source, key, f"must be a name or a path (got {data[key]!r})")
    # An empty value (null) is the default, as if the key were absent.
    max_points = 100_000 if data.get("max_points") is None else data["max_points"]
    seed = 0 if data.get("seed") is None else data["seed"]
    expand(data["grid"], sample=data.get("sample"), seed=seed, source=source,
           max_points=max_points)
    here = Path(source).parent
    device = data["device"]
    if looks_like_path(device):
        device = str(here / device)
    # Paths in the file are relative to the file, as the device's is.
    workloads = [str(here / w) if looks_like_path(w) else w for w in workloads]
    kwargs = {"device": device, "workloads": workloads, "grid": data["grid"],
              "sample": data.get("sample"), "seed": seed,
              "max_points": max_points, **options}
    if "output" in data:
        kwargs["output"] = str(here / data["output"])
    if "jobs" in data:
        kwargs["jobs"] = data["jobs"]
    return kwargs


def load_results(path: str | Path) -> SweepResult:
    """A sweep's results file (the .csv journal, or a .parquet file) as a SweepResult, numbers
    typed. Raises SpecError naming the file, and the row and column of a bad value."""
    import csv

    from accelsim.spec.yamlfile import check_regular_file
    if isinstance(path, bytes) or not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"load_results needs a path (str or os.PathLike), got "
                        f"{type(path).__name__}")
    path = Path(path)
    source = str(path)
    if path_kind(path) == "missing":
        raise SpecError(source, "", "file not found")
    check_regular_file(path, 2 ** 34)
    if path.suffix == ".parquet":
        try:
            import pandas as pd
            rows = pd.read_parquet(path).to_dict("records")
        except ImportError:
            raise AccelsimError("reading Parquet needs pandas and pyarrow: "
                                "pip install 'accelsim[parquet]'") from None
        except Exception as exc:
            raise SpecError(source, "", f"not a Parquet file ({type(exc).__name__})") from None
    else:
        try:
            with open(path, newline="", encoding="utf-8") as handle:
                rows = list(csv.DictReader(handle))
        except (UnicodeDecodeError, csv.Error) as exc:
            raise SpecError(source, "", f"not a sweep results CSV ({exc})") from None
    # Files written before area was reported lack its columns; they still load.
    needed = {"point", "key", "workload", "status",
              *(m for m in METRICS if m not in ("area_mm2", "tops_per_mm2"))}
    if not rows or not needed <= set(rows[0]):
        missing = sorted(needed - set(rows[0])) if rows else ["every row"]
        raise SpecError(source, "", f"not a sweep results file (missing {', '.join(missing)})")
    typed = []
    for number, row in enumerate(rows, start=2):
        if None in row or None in row.values():
            raise SpecError(source, f"line {number}", "a row with the wrong number of columns")
        try:
            typed.append(_typed(row) if row.get("status") == "ok" else row)
        except ValueError as exc:
            raise SpecError(source, f"line {number}", f"a value is not a number ({exc})") \
                from None
    parameters = tuple(column for column in rows[0]
                       if column not in set(columns([], values=True)) and column != "device")
    return SweepResult(typed, path, parameters)


def _identity(base: dict, workload: str) -> str:
    """What a row's key must cover beyond the grid point: the base device's content, the
    workload's file content (zoo networks and shipped workloads are part of the model),
    accelsim's version and a fingerprint of the model itself (model_fingerprint)."""
    from accelsim import __version__
    from accelsim.sweep.run import content_hash
    text = ""
    if looks_like_path(workload) and path_kind(Path(workload)) == "file":
        text = content_hash(Path(workload).read_bytes().hex())
    return content_hash({"device": base, "workload_file": text, "version": __version__,
                         "model": model_fingerprint()})


def _check_workload(workload) -> None:
    """Refuse an unknown workload name or a missing file before any point runs (each point
    would fail the same way). Files are only checked to exist: importing them is each
    point's work."""
    if not isinstance(workload, (str, Path)):
        raise AccelsimError(f"sweep: a workload is a name or a path, got {workload!r}")
    text = str(workload)
    if isinstance(workload, Path) or looks_like_path(text):
        if path_kind(Path(text)) != "file":
            raise SpecError(text, "", "file not found")
    elif text not in available_workloads():
        load_workload(text)   # raises the usual "unknown workload" error


def _device_dict(device) -> tuple[dict, str]:
    text = str(device)
    if isinstance(device, Path) or looks_like_path(text):
        return read_yaml(Path(text)), text
    shipped = available_devices()
    if text not in shipped:
        load_device(text)   # raises the usual "unknown device" error
    return read_yaml(shipped[text]), text


def _dask_client(scheduler: str | None):
    """A client of the scheduler at ``scheduler`` (None: only check that dask is installed).
    The scheduler runs what it is sent: point it only at a cluster you trust."""
    try:
        from dask.distributed import Client
    except ImportError:
        raise AccelsimError("running a sweep on Dask needs dask.distributed: "
                            "pip install 'accelsim[dask]'") from None
    if scheduler is None:
        return None
    try:
        return Client(scheduler, timeout=10)
    except (OSError, TimeoutError, ValueError) as exc:
        raise AccelsimError(f"cannot reach the Dask scheduler at {scheduler!r} within 10 s "
                            f"({type(exc).__name__}: {str(exc)[:120]})") from None


_INTEGERS = {"point", "cycles", "macs", "weight_groups"}


def _typed(row: dict) -> dict:
    """Numbers read back from a CSV journal become numbers again ("" becomes None)."""
    def number(key, text):
        if text == "":
            return None
        return int(float(text)) if key in _INTEGERS else float(text)
    numeric = _numeric()
    return {key: number(key, value) if key in numeric and isinstance(value, str) else value
            for key, value in row.items()}
