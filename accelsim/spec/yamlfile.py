"""Strict YAML reading: duplicate keys and non-string keys are errors, with file and line.

PyYAML silently keeps the last of two equal keys (ZigZag's tpu_like.yaml lost a `ports:` entry
that way); accelsim refuses such files instead.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from accelsim.errors import SpecError


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that records the source name and rejects duplicate mapping keys."""


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False):
    loader.flatten_mapping(node)
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
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecError(source, "", "file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError(source, "", f"cannot read file: {exc}") from None
    return parse_yaml(text, source)


def parse_yaml(text: str, source: str) -> dict[str, Any]:
    """Parse YAML text strictly; ``source`` names it in errors."""
    loader = _StrictLoader(text)
    loader.source_name = source
    loader.key_lines = {}
    try:
        data = loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise SpecError(source, where, f"invalid YAML: {exc.problem}") from None
    except yaml.YAMLError as exc:
        raise SpecError(source, "", f"invalid YAML: {exc}") from None
    finally:
        loader.dispose()
    if not isinstance(data, dict):
        raise SpecError(source, "", "the top level must be a mapping of keys to values")
    return data
