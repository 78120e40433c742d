"""Component models: energy, leakage, area and latency of hardware components from their
parameters, the process node, the supply and the clock.

- technology: node and voltage scaling (Stillmaker & Baas), wires.
- adc: converters fitted to B. Murmann's ADC survey.
- sram: SRAM arrays fitted to CACTI.
- logic: adders, registers, multipliers (Horowitz energies, Nangate 45 nm areas).
- crossbar: crossbar cells by technology, row drivers, DACs and column lines.

The hardware units (accelsim.hardware) call these to fill every ``auto`` field of a device;
each figure is an Estimate that records where it came from, shown by ``accelsim devices
--explain NAME``.
"""

from __future__ import annotations

from dataclasses import dataclass

GIVEN = "given in the file"
# The word an estimate's detail carries when its model worked outside its fitted data.
EXTRAPOLATED = "extrapolated"


@dataclass(frozen=True)
class Estimate:
    """A figure of a device and its provenance: ``source`` is GIVEN for a number from the
    device file, else the model that computed it; ``detail`` the parameters it used."""

    value: float
    unit: str
    source: str = GIVEN
    detail: str = ""

    @property
    def given(self) -> bool:
        return self.source == GIVEN

    @property
    def extrapolated(self) -> bool:
        """Whether the model worked outside the data it was fitted on (its detail says what:
        models.sram.coverage, models.adc.coverage, a node beyond the scaling tables)."""
        return EXTRAPOLATED in self.detail


def outside_data(data: str, checks) -> str:
    """"" when every value lies in its fitted range, else a note for an estimate's detail
    naming what lies outside: ``checks`` are (value, (low, high), description)."""
    outside = [text for value, (low, high), text in checks if not low <= value <= high]
    return f"; {EXTRAPOLATED} beyond {data}: {', '.join(outside)}" if outside else ""


__all__ = ["EXTRAPOLATED", "GIVEN", "Estimate", "outside_data"]
