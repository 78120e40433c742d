"""Design points: grids and random samples over dotted device-spec paths ("cim.rows"), and
in value mode over value options ("value_options.adc_full_scale")."""

from __future__ import annotations

import copy
import random
from typing import Any

from accelsim.errors import SpecError
from accelsim.spec.device import DeviceSpec
from accelsim.spec.load import device_from_dict
from accelsim.spec.validate import set_path


def expand(grid: dict[str, list], *, sample: int | None = None, seed: int = 0,
           source: str = "grid", max_points: int = 100_000) -> list[dict[str, Any]]:
    """Every combination of the grid's values (the last path varies fastest), or ``sample``
    combinations drawn without replacement, in grid order, with a seeded generator. A grid of
    more than ``max_points`` points is refused unless ``sample`` is given."""
    if not isinstance(grid, dict) or not grid:
        raise SpecError(source, "grid", "must map dotted spec paths to lists of values")
    for path, values in grid.items():
        if not isinstance(path, str) or not path:
            raise SpecError(source, "grid", f"keys must be dotted paths, got {path!r}")
        if not isinstance(values, (list, tuple)) or not values:
            raise SpecError(source, f"grid.{path}", "must be a non-empty list of values")
    paths = list(grid)
    sizes = [len(grid[p]) for p in paths]
    total = 1
    for size in sizes:
        total *= size
    if sample is None:
        if total > max_points:
            raise SpecError(source, "grid", f"has {total:,} points, more than {max_points:,}; "
                            "give sample: N to draw N of them, or raise max_points")
        chosen = range(total)
    else:
        if isinstance(sample, bool) or not isinstance(sample, int) or not 1 <= sample <= max_points:
            raise SpecError(source, "sample", f"must be an integer from 1 to {max_points:,}, "
                            f"got {sample!r}")
        chosen = sorted(random.Random(seed).sample(range(total), min(sample, total)))
    points = []
    for index in chosen:
        point, rest = {}, index
        for path, size in zip(reversed(paths), reversed(sizes)):
            rest, digit = divmod(rest, size)
            point[path] = grid[path][digit]
        points.append({p: point[p] for p in paths})
    return points


def apply(base: dict, point: dict[str, Any], *, source: str) -> DeviceSpec:
    """The device ``base`` (a YAML dict) with the point's dotted paths set, validated."""
    data = copy.deepcopy(base)
    for path, value in point.items():    # an unknown key is reported by the validation below
        set_path(data, path, value, source=source,
                 missing=f"no such section in the base device; add one there to sweep {path}")
    return device_from_dict(data, source=source)


VALUE_PREFIX = "value_options."


def split_point(point: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """A point's device paths, and its value options (paths "value_options.NAME", by NAME)."""
    device = {path: value for path, value in point.items() if not path.startswith(VALUE_PREFIX)}
    values = {path[len(VALUE_PREFIX):]: value for path, value in point.items()
              if path.startswith(VALUE_PREFIX)}
    return device, values
