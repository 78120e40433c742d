"""Where the shipped devices/ and workloads/ folders are, installed or in a source checkout."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def data_dir(kind: str) -> Path:
    """The folder of shipped ``kind`` files ("devices" or "workloads")."""
    installed = _PACKAGE / "_data" / kind
    if installed.is_dir():
        return installed
    return _PACKAGE.parent / kind


def looks_like_path(name: str) -> bool:
    """True if ``name`` is a file path rather than the name of a shipped file."""
    return "/" in name or "\\" in name or name.endswith((".yaml", ".yml", ".onnx"))
