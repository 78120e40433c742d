"""The discrete-event engine (numba) and the Program it runs."""

from accelsim.engine.program import Program, ProgramBuilder, Timeline

__all__ = ["Program", "ProgramBuilder", "Timeline"]
