"""Result and LayerResult: typed simulation outputs that convert to dicts, JSON, CSV, pandas.

Energy is kept as action counts and prices; every total is computed from the same breakdown,
so the total always equals the sum of its parts.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from accelsim.energy.table import action_label, action_name
from accelsim.errors import AccelsimError
from accelsim.results.trace import TaskTrace
from accelsim.spec.device import DeviceSpec
from accelsim.units import format_pj


def _energy(pj: float) -> str:
    return format_pj(pj, ".4g")


@dataclass(frozen=True)
class LayerResult:
    """One layer's row.

    ``span_cycles`` (also ``cycles``) runs from the layer's first task start to its last task
    finish; layers overlap, so spans do not add up to the run. ``busy_cycles`` counts the
    cycles in which at least one of its tasks held a resource (buffer, bus, compute, DRAM).
    ``traffic`` gives its PE register-file accesses and operand moves into PEs, and its
    global-buffer words and DRAM bytes read and written, by operand (inputs, weights,
    outputs, psums), e.g. ``register_file_psums_accesses``, ``buffer_read_inputs_words``.
    """

    name: str
    kind: str
    unit: str
    macs: int
    start_cycle: int
    end_cycle: int
    energy_pj: float
    tiles: int
    utilization: float
    parts: int
    group: int | None           # layer group (tiles are reprogrammed between groups)
    first_tile: int | None      # first physical tile of the layer's (first) part in its group
    reason: str = ""            # why the layer runs on its unit (mapping policy)
    # A row-stationary layer's mapping, in the notation of Eyeriss's Table III: strip e,
    # filter rows R, channel sets r, filter sets t, filters p and channels q per PE, images n
    # per pass (and S, the taps of a row segment; "kept": the strip's input window stays in
    # the buffer). Empty for other layers.
    mapping: str = ""
    compute_cycles: int = 0     # cycles its crossbars or systolic array compute (all images)
    # Crossbar layers on a device with tile buffers: the share of their window inputs fetched
    # from the global buffer (1: the window does not fit or the layer reuses no input).
    inputs_fetched: float | None = None
    busy_cycles: int = 0
    traffic: dict[str, float] = field(default_factory=dict)
    # Silicon the layer occupies: its crossbar tiles, or the systolic array or digital unit
    # it runs on (mm²).
    area_mm2: float = 0.0
    # Value mode, weighted layers: the layer's product (its unit's quantization and
    # converters, before bias and activation) against the exact float64 product of the same
    # input vectors, on up to 32 of them: Pearson correlation (1 is exact) and relative
    # error ||product - exact|| / ||exact||. None otherwise, or when undefined (a product
    # without spread, an exact product of zeros).
    product_correlation: float | None = None
    product_error: float | None = None

    def __repr__(self) -> str:
        return (f"<LayerResult {self.name} ({self.kind}) on {self.unit}: "
                f"{self.span_cycles:,} cycles, {_energy(self.energy_pj)}, {self.macs:,} MACs>")

    @property
    def span_cycles(self) -> int:
        """First start to last finish of the layer's tasks (overlaps other layers)."""
        return self.end_cycle - self.start_cycle

    @property
    def cycles(self) -> int:
        """The layer's span (see span_cycles)."""
        return self.span_cycles

    def to_dict(self) -> dict:
        """A flat row: the fields, ``span_cycles``, and the traffic figures as columns."""
        row = asdict(self)
        traffic = row.pop("traffic")
        row["span_cycles"] = self.span_cycles
        row.update(traffic)
        return row


@dataclass(frozen=True)
class ResourceUse:
    """A shared resource over a run: cycles busy, busy over the run's cycles (crossbar tiles:
    tile-cycles over tiles x cycles), and cycles during which at least one ready task waited
    for it."""

    busy_cycles: int
    utilization: float
    waiting_cycles: int = 0


@dataclass(frozen=True)
class NocReport:
    """A mesh's traffic: bits times links crossed, links in all and used, the busiest link
    with its busy cycles and utilization, and busy cycles per link ("x,y->u,v")."""

    hop_bits: float
    links: int
    links_used: int
    busiest_link: str | None
    busiest_link_busy_cycles: int
    busiest_link_utilization: float
    link_busy_cycles: dict[str, int]


@dataclass(frozen=True)
class DramReport:
    """DRAM traffic under a row-buffer model: bursts, rows opened, the page policy and the
    share of bursts that found their row open."""

    bursts: float
    rows_opened: float
    page_policy: str
    row_hit_rate: float


@dataclass(frozen=True)
class Result:
    """Outcome of :func:`accelsim.simulate`. Energies in pJ, times in clock cycles."""

    device: str
    workload: str
    batch: int
    mode: str
    clock_hz: float
    cycles: int
    macs: int
    layers: tuple[LayerResult, ...]
    action_counts: np.ndarray = field(repr=False)     # [layer, action]
    prices_pj: np.ndarray = field(repr=False)         # [action]
    leakage_pj: dict[str, float] = field(repr=False)
    one_time_counts: np.ndarray = field(repr=False)   # [action]: writing resident weights
    one_time_programming_pj: float                    # preloaded weights; not in the totals
    weight_groups: int
    events: int
    engine_seconds: float          # the event loop alone
    compile_seconds: float         # building or loading the event loop (first run in a process)
    wall_seconds: float            # the whole simulate() call
    trace: TaskTrace | None = field(default=None, repr=False, compare=False)
    output: np.ndarray | None = field(default=None, repr=False, compare=False)  # value mode
    skipped: dict[str, dict] = field(default_factory=dict, repr=False)  # value mode sparsity
    # value mode: weighted layers whose every output quantization lost (see zeroed_message)
    zeroed_layers: tuple[str, ...] = field(default=(), repr=False)
    # value mode: the seed and the ValueOptions the values ran with (None without values)
    value_run: dict | None = field(default=None, repr=False)
    # value mode: a function returning the float64 reference's output on the same weights
    # and inputs, computed on its first call (output_agreement)
    reference: Callable[[], np.ndarray] | None = field(default=None, repr=False,
                                                       compare=False)
    # Per shared resource: busy cycles, utilization (crossbar tiles: tile-cycles used over
    # tiles x cycles) and waiting cycles (at least one ready task waited for it). Stalls by
    # cause: those waiting cycles, and compute units idle inside their span waiting for data;
    # each is at most the run's cycles. task_wait_cycles: waiting summed over tasks, which
    # overlaps in time (it can exceed the run's cycles many times).
    resources: dict[str, ResourceUse] = field(default_factory=dict, repr=False)
    stalls: dict[str, int] = field(default_factory=dict, repr=False)
    task_wait_cycles: dict[str, int] = field(default_factory=dict, repr=False)
    image_done_cycles: tuple[int, ...] = ()   # when each image of the batch was finished
    noc: NocReport | None = field(default=None, repr=False)     # mesh devices
    dram: DramReport | None = field(default=None, repr=False)   # DRAM with row buffers
    # Silicon area by component, mm² (the chip's, from the component models; no DRAM).
    area_by_component: dict[str, float] = field(default_factory=dict, repr=False)
    # "pipelined" (layers overlap on chip) or "layer_by_layer" (one at a time, activations
    # through DRAM): see simulate().
    execution: str = "pipelined"

    # -- display -----------------------------------------------------------------------
    def __repr__(self) -> str:
        order = ", layer by layer" if self.execution == "layer_by_layer" else ""
        return (f"<Result {self.workload} on {self.device}: batch {self.batch}, {self.mode} "
                f"mode{order}, {self.cycles:,} cycles, {_energy(self.energy_pj)}, "
                f"{self.tops_per_watt:.3g} TOPS/W, {len(self.layers)} layers>")

    def _repr_html_(self) -> str:
        """A summary table for notebooks: the totals and the energy by component."""
        import html
        rows = [("cycles", f"{self.cycles:,} ({self.seconds * 1e3:.4g} ms)"),
                ("energy", f"{_energy(self.energy_pj)} ({_energy(self.energy_pj / self.batch)} "
                           f"per input)"),
                ("MACs", f"{self.macs:,}"), ("efficiency", f"{self.tops_per_watt:.3g} TOPS/W"),
                ("average power", f"{self.average_power_mw:.4g} mW")]
        if self.area_mm2:
            rows.append(("area", f"{self.area_mm2:,.4g} mm², {self.tops_per_mm2:.3g} TOPS/mm²"))
        total = self.energy_pj or 1.0
        parts = sorted(self.energy_by_component().items(), key=lambda item: -item[1])
        rows += [(f"energy: {name}", f"{_energy(pj)} ({100 * pj / total:.1f} %)")
                 for name, pj in parts]
        body = "".join(f"<tr><th style='text-align:left'>{html.escape(k)}</th>"
                       f"<td style='text-align:right'>{html.escape(v)}</td></tr>"
                       for k, v in rows)
        return (f"<table><caption>{html.escape(self.workload)} on {html.escape(self.device)}"
                f" (batch {self.batch}, {self.mode} mode, {len(self.layers)} layers)"
                f"</caption>{body}</table>")

    # -- energy ------------------------------------------------------------------------
    def energy_breakdown(self) -> dict[tuple[str, str], float]:
        """{(component, action): pJ}, dynamic actions summed over layers, plus leakage."""
        totals = self.action_counts.sum(axis=0) * self.prices_pj
        breakdown: dict[tuple[str, str], float] = {}
        for action in range(totals.size):
            if totals[action] > 0:
                label = action_label(action)
                breakdown[label] = breakdown.get(label, 0.0) + float(totals[action])
        for component, pj in self.leakage_pj.items():
            if pj > 0:
                breakdown[(component, "leakage")] = pj
        return breakdown

    def energy_by_component(self) -> dict[str, float]:
        """{component: pJ}: the breakdown summed over actions, leakage included."""
        out: dict[str, float] = {}
        for (component, _), pj in self.energy_breakdown().items():
            out[component] = out.get(component, 0.0) + pj
        return out

    @property
    def energy_pj(self) -> float:
        """The run's energy (all images of the batch), pJ: the sum of energy_breakdown()."""
        return math.fsum(self.energy_breakdown().values())

    @property
    def action_totals(self) -> dict[str, float]:
        """Total count of each action (bits for transfers) over all layers."""
        totals = self.action_counts.sum(axis=0)
        return {action_name(action): float(totals[action]) for action in range(totals.size)}

    def repriced(self, device: DeviceSpec | str | Path) -> Result:
        """This run priced with ``device``'s energy table and static power, without simulating
        again. Only prices may differ: the device must have the same timing (what a sweep over
        energies or leakage varies). The schedule is this run's: where the run's decisions
        read prices (hardware.registry.prices_decide: the energy and edp mapping policies, a
        row-stationary mapping search), other prices may choose another schedule, and only
        simulating again gives it."""
        from accelsim.hardware.pricing import energy_per_action, leakage_power_mw
        from accelsim.spec.load import load_device
        device = load_device(device)
        prices = energy_per_action(device)
        layers = tuple(replace(layer, energy_pj=float(np.dot(counts, prices)))
                       for layer, counts in zip(self.layers, self.action_counts))
        leakage = {component: mw * 1e-3 * self.seconds * 1e12
                   for component, mw in leakage_power_mw(device).items()}
        index = {action_name(action): action for action in range(prices.size)}
        skipped = {name: {**entry, "energy_saved_pj": float(sum(
            count * prices[index[key]] for key, count in entry.items() if key in index))}
            for name, entry in self.skipped.items()}
        return replace(self, device=device.name, prices_pj=prices, leakage_pj=leakage,
                       layers=layers, skipped=skipped,
                       one_time_programming_pj=float(np.dot(self.one_time_counts, prices)))

    # -- derived figures ---------------------------------------------------------------
    @property
    def seconds(self) -> float:
        """The run's time: cycles over the device's clock."""
        return self.cycles / self.clock_hz

    @property
    def area_mm2(self) -> float:
        """The chip's silicon area, mm² (the sum of area_breakdown())."""
        return math.fsum(self.area_by_component.values())

    def area_breakdown(self) -> dict[str, float]:
        """{component: mm²}, summing to area_mm2."""
        return dict(self.area_by_component)

    @property
    def tops(self) -> float:
        """Useful tera-operations (2 per MAC) per second over the run."""
        return 2 * self.macs / self.seconds / 1e12 if self.cycles else 0.0

    @property
    def tops_per_mm2(self) -> float:
        """Useful throughput per silicon area: tops / area_mm2."""
        return self.tops / self.area_mm2 if self.area_mm2 else 0.0

    @property
    def tops_per_watt(self) -> float:
        """Useful operations (2 per MAC) per pJ equals tera-operations per second per watt."""
        return 2 * self.macs / self.energy_pj if self.energy_pj else 0.0

    @property
    def first_image_cycles(self) -> int:
        """Latency of the first image: the cycle its last task was done."""
        return self.image_done_cycles[0] if self.image_done_cycles else self.cycles

    @property
    def steady_state_cycles_per_image(self) -> float | None:
        """Mean cycles between successive images' completions, (last - first) / (batch - 1):
        the pipeline's interval once it is full. None for batch 1."""
        done = self.image_done_cycles
        if len(done) < 2:
            return None
        return (done[-1] - done[0]) / (len(done) - 1)

    @property
    def images_per_second(self) -> float:
        """Throughput over the whole run: batch images in ``cycles`` (so it can never exceed
        what the timeline shows). For batch 1, one over the latency."""
        return self.batch * self.clock_hz / self.cycles if self.cycles else 0.0

    @property
    def steady_state_images_per_second(self) -> float | None:
        """One image per steady-state interval: the rate a longer batch approaches once the
        pipeline is full. None for batch 1."""
        interval = self.steady_state_cycles_per_image
        if interval is None:
            return None
        return self.clock_hz / interval if interval else math.inf

    @property
    def average_power_mw(self) -> float:
        """energy_pj over seconds, mW (leakage included)."""
        return self.energy_pj * 1e-12 / self.seconds * 1e3 if self.cycles else 0.0

    @property
    def dram_energy_pj(self) -> float:
        """The off-chip DRAM's share of energy_pj (its reads and writes)."""
        dram = np.array([action_label(i)[0] == "dram" for i in range(self.prices_pj.size)])
        return float(np.dot(self.action_counts.sum(axis=0)[dram], self.prices_pj[dram]))

    @property
    def on_chip_energy_pj(self) -> float:
        """energy_pj without DRAM's: what a chip's measured power covers."""
        return self.energy_pj - self.dram_energy_pj

    @property
    def on_chip_power_mw(self) -> float:
        """on_chip_energy_pj over seconds, mW (leakage included): comparable with a chip's
        published power, which is measured at its supply."""
        return self.on_chip_energy_pj * 1e-12 / self.seconds * 1e3 if self.cycles else 0.0

    @property
    def on_chip_tops_per_watt(self) -> float:
        """tops_per_watt without DRAM's energy (how most chips quote it)."""
        energy = self.on_chip_energy_pj
        return 2 * self.macs / energy if energy > 0 else 0.0

    # -- value mode --------------------------------------------------------------------
    def output_agreement(self) -> dict[str, float | None]:
        """Value mode: how close the output comes to the float64 reference (no quantization,
        no converters; accelsim.values.reference_forward) on the same weights and inputs:
        ``correlation``, Pearson's over every output element (1 is exact), and
        ``relative_error``, ||output - reference|| / ||reference|| (each None when undefined:
        an output without spread, a reference of zeros). The reference runs on the
        first call (ResNet-18: 0.2 s) and is kept. Outputs of random weights and inputs say
        how much signal the converters keep, not a task's accuracy."""
        if self.reference is None or self.output is None:
            raise AccelsimError("output_agreement() needs a value-mode run "
                                "(simulate(..., values=True))")
        from accelsim.values.forward import output_agreement
        return output_agreement(self.output, self.reference())

    # -- export ------------------------------------------------------------------------
    def summary(self) -> dict:
        """The run's totals as a flat dict (what sweep rows and the CLI's -q print)."""
        return {
            "device": self.device, "workload": self.workload, "batch": self.batch,
            "mode": self.mode, "execution": self.execution, "cycles": self.cycles,
            "seconds": self.seconds,
            "energy_pj": self.energy_pj, "macs": self.macs,
            "tops_per_watt": self.tops_per_watt, "average_power_mw": self.average_power_mw,
            "on_chip_tops_per_watt": self.on_chip_tops_per_watt,
            "on_chip_power_mw": self.on_chip_power_mw,
            "area_mm2": self.area_mm2, "tops": self.tops, "tops_per_mm2": self.tops_per_mm2,
            "weight_groups": self.weight_groups,
            "first_image_cycles": self.first_image_cycles,
            "steady_state_cycles_per_image": self.steady_state_cycles_per_image,
            "images_per_second": self.images_per_second,
            "steady_state_images_per_second": self.steady_state_images_per_second,
            "one_time_programming_pj": self.one_time_programming_pj,
            "events": self.events, "engine_seconds": self.engine_seconds,
            "compile_seconds": self.compile_seconds, "wall_seconds": self.wall_seconds,
        }

    def to_dict(self) -> dict:
        """Everything as plain data: the summary, the energy breakdown, action counts, area,
        layers, resources and stalls (what to_json writes)."""
        return {
            **self.summary(),
            "energy_breakdown": [{"component": c, "action": a, "energy_pj": pj}
                                 for (c, a), pj in self.energy_breakdown().items()],
            "action_counts": self.action_totals,
            "area_breakdown": self.area_breakdown(),
            "layers": [layer.to_dict() for layer in self.layers],
            "resources": {name: asdict(use) for name, use in self.resources.items()},
            "stalls": self.stalls, "task_wait_cycles": self.task_wait_cycles,
            "noc": asdict(self.noc) if self.noc else {},
            **({"dram": asdict(self.dram)} if self.dram else {}),
            **({"skipped_by_sparsity": self.skipped} if self.skipped else {}),
            **({"zeroed_layers": list(self.zeroed_layers)} if self.zeroed_layers else {}),
            **({"value_run": dict(self.value_run)} if self.value_run else {}),
            **({"output_agreement": self.output_agreement()}
               if self.reference is not None else {}),
        }

    def to_json(self, path: str | Path | None = None, *, indent: int = 2) -> str:
        """The result as JSON; written to ``path`` when given."""
        from accelsim.results.files import output_path, writing
        target = None if path is None else output_path(path, "to_json")   # before the work
        if indent is not None and (isinstance(indent, bool) or not isinstance(
                indent, (int, np.integer)) or not 0 <= indent <= 64):
            raise ValueError(f"to_json: indent must be None or an integer from 0 to 64, got "
                             f"{indent!r}")
        text = json.dumps(self.to_dict(), indent=None if indent is None else int(indent))
        if target is not None:
            with writing(target) as handle:
                handle.write(text + "\n")
        return text

    def to_csv(self, path: str | Path | None = None) -> str:
        """Per-layer rows as CSV (with each component's energy); written to ``path`` when
        given."""
        from accelsim.results.files import output_path, writing
        target = None if path is None else output_path(path, "to_csv")
        rows = self._layer_rows()
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        if target is not None:
            with writing(target) as handle:
                handle.write(buffer.getvalue())
        return buffer.getvalue()

    def to_trace(self, path: str | Path) -> None:
        """Write the event timeline as a Chrome/Perfetto trace (needs simulate(trace=True))."""
        if self.trace is None:
            raise AccelsimError("this result has no timeline: run simulate(..., trace=True)")
        self.trace.write(path)

    def to_dataframe(self) -> Any:
        """Per-layer rows as a pandas DataFrame (needs pandas: pip install 'accelsim[pandas]')."""
        try:
            import pandas as pd
        except ImportError:
            raise ImportError("to_dataframe() needs pandas: pip install 'accelsim[pandas]'"
                              ) from None
        return pd.DataFrame(self._layer_rows())

    def _layer_rows(self) -> list[dict]:
        """Per-layer rows with each component's dynamic energy (``energy_<c>_pj``)."""
        totals = self.action_counts * self.prices_pj
        labels = [action_label(action)[0] for action in range(totals.shape[1])]
        components = sorted(set(labels))
        rows = []
        for layer, energies in zip(self.layers, totals):
            row = layer.to_dict()
            for component in components:
                row[f"energy_{component}_pj"] = float(sum(
                    e for e, c in zip(energies, labels) if c == component))
            rows.append(row)
        return rows


def zeroed_message(result: Result) -> str:
    """What to say when value mode lost a layer's whole signal to quantization."""
    names = result.zeroed_layers
    shown = ", ".join(f"'{name}'" for name in names[:3]) + (
        f" and {len(names) - 3} more" if len(names) > 3 else "")
    return (f"value mode: {len(names)} weighted layer(s) of {result.workload} on "
            f"{result.device} put out only zeros from inputs that were not all zero ({shown}). "
            "Quantization lost the whole signal there (on crossbars: each ADC step is coarser "
            "than every column sum), so what follows runs on zeros, and the sparsity, cycles "
            "and energy measured describe zeros, not the network. "
            + ("An ADC range calibrated on the data (value_options adc_range='calibrated', the "
               "default, or --value-option adc_range=calibrated on the command line), a "
               "smaller adc_full_scale, or more cim.adc_bits keeps the signal."
               if (result.value_run or {}).get("adc_range") == "array" else
               "More cim.adc_bits, or a smaller adc_full_scale (value_options, or "
               "--value-option adc_full_scale=0.5 on the command line), keeps more of it."))
