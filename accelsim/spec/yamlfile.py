"""Strict YAML reading: duplicate keys and non-string keys are errors, with file and line.

PyYAML silently keeps the last of two equal keys (ZigZag's tpu_like.yaml lost a `ports:` entry
that way); accelsim refuses such files instead. Aliases may not expand a document beyond
MAX_VALUES values (a "billion laughs" bomb is a few lines long), and a file must be a regular
file of at most MAX_BYTES (a FIFO or a device would block or never end).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from accelsim.errors import SpecError

MAX_VALUES = 1_000_000        # values a document may hold once its aliases are expanded
MAX_BYTES = 64 * 2 ** 20      # size of a spec file


class _StrictLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # libyaml when present
    """SafeLoader that records the source name and rejects duplicate mapping keys."""


def _too_large(loader: _StrictLoader, where: str) -> SpecError:
    return SpecError(loader.source_name, where, f"aliases expand the document beyond "
                     f"{MAX_VALUES:,} values; refused (an alias bomb?)")


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False):
    loader.flatten_mapping(node)
    if len(node.value) > MAX_VALUES:              # merge keys (<<) copy entries as they go
        raise _too_large(loader, f"line {node.start_mark.line + 1}")
    mapping: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=deep)
        line = key_node.start_mark.line + 1
        if not isinstance(key, str):
            raise SpecError(loader.source_name, f"line {line}",
                            f"keys must be strings, got {key!r}")
        if key in mapping:
            raise SpecError(loader.source_name, f"line {line}",
                            f"duplicate key '{key}' (first given at line "
                            f"{loader.key_lines[id(mapping)][key]})")
        mapping[key] = loader.construct_object(value_node, deep=deep)
        loader.key_lines.setdefault(id(mapping), {})[key] = line
    return mapping


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def read_yaml(path: str | Path) -> dict[str, Any]:
    """Read one YAML file whose top level is a mapping. Raises SpecError naming the file."""
    path = Path(path)
    source = str(path)
    try:
        check_regular_file(path, MAX_BYTES)
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecError(source, "", "file not found") from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise SpecError(source, "", f"cannot read file: {exc}") from None
    return parse_yaml(text, source)


def path_kind(path: Path) -> str:
    """"file", "missing" or "other" (a directory, FIFO or device); a name the system
    refuses (too long, a NUL byte) raises SpecError naming it, not OSError."""
    import stat
    try:
        info = path.stat()
    except FileNotFoundError:
        return "missing"
    except (OSError, ValueError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise SpecError(str(path)[:120], "", f"cannot use this file name: {reason}") from None
    return "file" if stat.S_ISREG(info.st_mode) else "other"


def check_regular_file(path: Path, max_bytes: int) -> None:
    """Raise unless ``path`` is a regular file of at most ``max_bytes`` (a FIFO, a device or
    a directory given as a file would block or never end)."""
    import stat
    if path_kind(path) == "missing":
        raise FileNotFoundError(str(path))
    info = path.stat()
    if not stat.S_ISREG(info.st_mode):
        raise SpecError(str(path), "", "not a regular file (a directory, FIFO or device?)")
    if info.st_size > max_bytes:
        raise SpecError(str(path), "", f"the file has {info.st_size:,} bytes, more than the "
                        f"{max_bytes:,} accepted")


def parse_yaml(text: str, source: str) -> dict[str, Any]:
    """Parse YAML text strictly; ``source`` names it in errors."""
    try:
        loader = _StrictLoader(text)
    except yaml.YAMLError as exc:          # the reader refuses NUL and other control bytes
        raise SpecError(source, "", f"invalid YAML: {str(exc).splitlines()[0][:200]}") \
            from None
    loader.source_name = source
    loader.key_lines = {}
    try:
        data = loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise SpecError(source, where, f"invalid YAML: {exc.problem}") from None
    except yaml.YAMLError as exc:
        raise SpecError(source, "", f"invalid YAML: {str(exc).splitlines()[0][:200]}") \
            from None
    except RecursionError:
        raise SpecError(source, "", "invalid YAML: nested too deeply") from None
    finally:
        loader.dispose()
    if not isinstance(data, dict):
        raise SpecError(source, "", "the top level must be a mapping of keys to values")
    if _expanded_values(data, MAX_VALUES) > MAX_VALUES:
        raise SpecError(source, "", f"aliases expand the document beyond {MAX_VALUES:,} "
                        "values; refused (an alias bomb?)")
    return data


def _expanded_values(data: Any, limit: int) -> int:
    """How many values ``data`` holds with every alias expanded (shared objects counted each
    time they appear), counting no further than just past ``limit``."""
    count, stack = 0, [data]
    while stack:
        value = stack.pop()
        count += 1
        if count > limit:
            return count
        if isinstance(value, dict):
            stack.extend(value.values())
            count += len(value)
        elif isinstance(value, (list, tuple)):
            stack.extend(value)
    return count
