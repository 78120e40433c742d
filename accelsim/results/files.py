"""Output files: one check of where a result, trace or plot may be written, made before the
work that fills it, and one error naming the file when writing fails."""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path

from accelsim.errors import AccelsimError, SpecError
from accelsim.spec.yamlfile import path_kind


def output_path(path, what: str) -> Path:
    """``path`` as a Path to write ``what`` to, or one clear error: not a path (TypeError),
    empty, a name the system refuses, a directory, FIFO or device (writing to a FIFO blocks
    until someone reads it), or in a directory that does not exist."""
    if isinstance(path, bytes) or not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"{what}: the path must be a str or an os.PathLike, got "
                        f"{type(path).__name__}")
    if not str(path).strip():
        raise AccelsimError(f"{what}: the path is empty")
    target = Path(path)
    try:
        kind = path_kind(target)
    except SpecError as exc:
        raise AccelsimError(f"{str(path)[:120]}: cannot write: {exc.message}") from None
    if kind == "other":
        raise AccelsimError(f"{target}: exists and is not a regular file; choose another "
                            "output")
    if not target.parent.is_dir():
        raise AccelsimError(f"{target}: cannot write: the directory {target.parent} does not "
                            "exist")
    return target


@contextmanager
def writing(target: Path):
    """``target`` (as output_path returned it) open for writing UTF-8 text; a failure to
    write is one AccelsimError naming the file."""
    try:
        with open(target, "w", encoding="utf-8") as handle:
            yield handle
    except OSError as exc:
        raise AccelsimError(f"{target}: cannot write: {exc.strerror or exc}") from None
