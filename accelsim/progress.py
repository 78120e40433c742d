"""Progress on long work (value mode, reference mode, ONNX import): a rich progress bar on
standard error when asked, nothing otherwise. The simulator itself never prints: callers
(the CLI on a terminal, a notebook) turn this on with ``progress=True``."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any


def in_notebook() -> bool:
    """Running inside a Jupyter kernel."""
    shell = sys.modules.get("IPython")
    if shell is None:
        return False
    try:
        return type(shell.get_ipython()).__name__ == "ZMQInteractiveShell"
    except Exception:
        return False


def wanted(progress: bool | None) -> bool:
    """``progress`` as asked; None: on in a notebook or when standard error is a terminal."""
    if progress is not None:
        return bool(progress)
    return in_notebook() or bool(getattr(sys.stderr, "isatty", lambda: False)())


def bar(*columns: Any, transient: bool = False) -> Any:
    """A rich Progress on standard error with the given columns (strings are text columns,
    e.g. "{task.description}"; ":bar", ":count", ":elapsed" and ":remaining" are rich's)."""
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )
    known = {":bar": BarColumn, ":count": MofNCompleteColumn, ":elapsed": TimeElapsedColumn,
             ":remaining": TimeRemainingColumn}
    built = [known[c]() if c in known else TextColumn(c) for c in columns]
    return Progress(*built, console=Console(stderr=True), transient=transient)


class Steps:
    """Phases of one run, each a bar with a known total of steps (a no-op when disabled)."""

    def __init__(self, enabled: bool) -> None:
        self._bar: Any = None
        if enabled:
            self._bar = bar("{task.description}", ":bar", ":count", ":elapsed", transient=True)
            self._bar.start()

    def phase(self, description: str, total: int | None) -> Callable[..., None]:
        """A new bar; returns advance(steps=1, label=None)."""
        if self._bar is None:
            return _nothing
        task = self._bar.add_task(description, total=total)

        def advance(steps: int = 1, label: str | None = None) -> None:
            self._bar.update(task, advance=steps,
                             **({"description": f"{description}: {label}"} if label else {}))
        return advance

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None

    def __enter__(self) -> Steps:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _nothing(steps: int = 1, label: str | None = None) -> None:
    return None
