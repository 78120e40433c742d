"""Simulation results and their exports and reports."""

from accelsim.results.result import LayerResult, Result

__all__ = ["LayerResult", "Result"]
