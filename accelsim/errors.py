"""Exceptions raised for bad user input.

Every error a user can cause derives from AccelsimError and says where the problem is
(file, key path, or layer); the CLI turns them into one line on stderr and exit code 2.
"""

from __future__ import annotations


class AccelsimError(Exception):
    """Base class for errors caused by user input (specs, workloads, options)."""


class AccelsimWarning(UserWarning):
    """A run that completed, but whose figures need a caveat (warnings.warn category)."""


class SpecError(AccelsimError):
    """A device, workload or sweep file is malformed.

    ``source`` names the file (or "<dict>"), ``path`` the dotted key path inside it.
    """

    def __init__(self, source: str, path: str, message: str):
        self.source = source
        self.path = path
        self.message = message
        where = f"{source}: {path}" if path else source
        super().__init__(f"{where}: {message}")


class WorkloadError(AccelsimError):
    """A layer graph is invalid: cycles, disconnected parts, shapes that do not chain."""

    def __init__(self, workload: str, message: str, *, layer: str | None = None):
        self.workload = workload
        self.layer = layer
        where = f"{workload}: layer '{layer}'" if layer else workload
        super().__init__(f"{where}: {message}")


class MappingError(AccelsimError):
    """A workload cannot be mapped onto a device (for example a layer type with no unit)."""
