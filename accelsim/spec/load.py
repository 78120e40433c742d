"""Loading device specs by name (a file in devices/) or by path."""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

from accelsim._data import data_dir, looks_like_path
from accelsim.errors import SpecError
from accelsim.spec.device import DeviceSpec
from accelsim.spec.validate import build
from accelsim.spec.yamlfile import read_yaml


def available_devices() -> dict[str, Path]:
    """Shipped device names and their files."""
    return {p.stem: p for p in sorted(data_dir("devices").glob("*.yaml"))}


def load_device(name_or_path: DeviceSpec | str | Path | Mapping[str, Any]) -> DeviceSpec:
    """Load a device by shipped name (``"cim-16x16"``), by path to a YAML file, or from a
    dict as read from one (``device_from_dict``)."""
    if isinstance(name_or_path, DeviceSpec):
        return name_or_path
    if isinstance(name_or_path, Mapping):
        return device_from_dict(dict(name_or_path))
    if not isinstance(name_or_path, (str, Path)):
        raise SpecError(repr(name_or_path)[:60], "", "a device is a shipped name, a path to "
                        "a YAML file, a dict as read from one, or a DeviceSpec; got "
                        f"type {type(name_or_path).__name__}")
    text = str(name_or_path)
    if isinstance(name_or_path, Path) or looks_like_path(text):
        path = Path(text)
    else:
        shipped = available_devices()
        if text not in shipped:
            raise SpecError(text, "", "unknown device; shipped devices are: "
                            + ", ".join(shipped))
        path = shipped[text]
    try:
        info = path.stat()
    except (OSError, ValueError):
        return device_from_dict(read_yaml(path), source=str(path))   # raises, naming the file
    return _load(str(path), info.st_mtime_ns, info.st_size, info.st_ino)


@lru_cache(maxsize=64)
def _load(path: str, mtime_ns: int, size: int, inode: int) -> DeviceSpec:
    """A device file read and validated once while it does not change (specs are frozen, so
    every caller may share the result)."""
    return device_from_dict(read_yaml(Path(path)), source=path)


def device_from_dict(data: dict[str, Any], *, source: str = "<dict>") -> DeviceSpec:
    """Validate a device given as a plain dict (as read from YAML)."""
    if "version" not in data:
        raise SpecError(source, "version", "required key is missing (write 'version: 1')")
    from accelsim.spec.dram_presets import with_dram_preset
    device = build(DeviceSpec, with_dram_preset(data, source), source)
    if source != "<dict>":
        _SOURCES[device] = source
        while len(_SOURCES) > _MAX_SOURCES:
            del _SOURCES[next(iter(_SOURCES))]
    return device


# Where each recently validated device came from (its file, or a sweep point), so that a
# figure refused later, when the device is resolved, names the file and not only the device.
_SOURCES: dict[DeviceSpec, str] = {}
_MAX_SOURCES = 4096


def source_of(device: DeviceSpec) -> str:
    """The file (or sweep point) ``device`` was read from, if known; else its name."""
    return _SOURCES.get(device, device.name)
