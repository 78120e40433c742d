"""Planning and lowering reuse their work across layers of the same shape: a crossbar layer's
plan is a renamed copy of the first plan of its shape, and a part's step tasks come from a
block shared by parts of the same shape. Each must give what planning and lowering every
layer afresh gives."""

from __future__ import annotations

import dataclasses
import importlib

import numpy as np
import pytest
from conftest import modified

from accelsim import simulate
from accelsim._data import data_dir
from accelsim.hardware import crossbar
from accelsim.hardware.pricing import resolve
from accelsim.mapping import runs
from accelsim.mapping import tasks as lowering
from accelsim.mapping.plan import plan_workload
from accelsim.spec.load import load_device
from accelsim.spec.yamlfile import read_yaml
from accelsim.workload.graph import WorkloadBuilder
from accelsim.workload.layers import Conv2d, Input, Linear
from accelsim.workload.load import load_workload


def _same(a, b, path="plan") -> None:
    """Deep equality of plans: dataclasses field by field, arrays by value and dtype."""
    assert type(a) is type(b), path
    if dataclasses.is_dataclass(a):
        for field in dataclasses.fields(a):
            _same(getattr(a, field.name), getattr(b, field.name), f"{path}.{field.name}")
    elif isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b), path
    elif isinstance(a, (tuple, list)):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b)):
            _same(x, y, f"{path}[{i}]")
    elif isinstance(a, dict):
        assert a.keys() == b.keys(), path
        for key in a:
            _same(a[key], b[key], f"{path}[{key!r}]")
    else:
        assert a == b, path


def _small_chip():
    """cim-16x16 with 40 tiles: layers split into parts, weights written group by group."""
    return resolve(modified(read_yaml(data_dir("devices") / "cim-16x16.yaml"),
                            **{"cim.tiles": 40}))


@pytest.mark.parametrize("workload, device", [
    ("resnet18", "cim-16x16"), ("resnet50", "cim-128x128-rram"), ("bert-base", "ania-like"),
    ("mobilenetv2", "hybrid-cim-systolic"), ("lenet5", "small chip"),
    ("small-cnn", "small chip")])
def test_shared_plans_equal_plans_made_afresh(monkeypatch, workload, device):
    dev = _small_chip() if device == "small chip" else resolve(load_device(device))
    workload = load_workload(workload)
    shared = plan_workload(workload, dev, batch=2)
    cim = [plan.parts[0].counts for plan in shared if plan.unit == "cim"]
    reused = len(cim) - len({id(counts) for counts in cim})
    monkeypatch.setattr(crossbar, "_plan_key", lambda ctx, name: None)
    afresh = plan_workload(workload, dev, batch=2)
    assert len(shared) == len(afresh)
    for a, b in zip(shared, afresh):
        _same(a, b, a.name)
    if workload.name in ("resnet18", "resnet50", "bert-base"):
        assert reused > 0          # the test did see shared plans


def test_a_shared_plan_cannot_be_changed_in_place():
    builder = WorkloadBuilder("two")
    builder.add(Input, "input", shape=(64, 1, 1))
    builder.add(Linear, "a", out_features=64)
    builder.add(Linear, "b", out_features=64)
    plans = {plan.name: plan for plan in plan_workload(builder.build(),
                                                        resolve(load_device("cim-16x16")))}
    a, b = plans["a"].parts[0], plans["b"].parts[0]
    assert a.counts is b.counts and b.layer == "b"
    assert [str(s.resource) for s in b.stages if s.kind == "mvm"] == ["array:b#0"]
    with pytest.raises(ValueError):
        b.counts[0] += 1


@pytest.mark.parametrize("options", [
    {"workload": "resnet18", "device": "cim-16x16", "batch": 3},
    {"workload": "lenet5", "device": "small chip", "batch": 2},
    {"workload": "lenet5", "device": "small chip", "mode": "reference"},
    {"workload": "small-cnn", "device": "cim-16x16", "values": True, "mode": "reference"},
    {"workload": "bert-base", "device": "hybrid-cim-systolic", "max_steps": 16},
    {"workload": "small-cnn", "device": "cim-128x128-rram", "execution": "layer_by_layer"},
    {"workload": "three same", "device": "cim-16x16", "values": True, "batch": 2},
    {"workload": "three same", "device": "small chip", "values": True, "mode": "reference"},
    {"workload": "two sizes", "device": "cim-16x16", "max_steps": 16, "batch": 2},
    {"workload": "two sizes", "device": "cim-16x16", "max_steps": 16, "mode": "reference"}])
def test_shared_work_gives_the_results_of_work_done_afresh(monkeypatch, options):
    options = dict(options)
    if options["device"] == "small chip":
        options["device"] = _small_chip()
    if options["workload"] == "three same":       # shared plans, each with its own weights
        builder = WorkloadBuilder("three same")
        builder.add(Input, "input", shape=(48, 1, 1))
        for name in ("a", "b", "c"):
            builder.add(Linear, name, out_features=48, activation="relu")
        options["workload"] = builder.build()
    if options["workload"] == "two sizes":      # equal stages per vector, on 256 and 64 vectors
        builder = WorkloadBuilder("two sizes")
        builder.add(Input, "input", shape=(16, 16, 16))
        for name, stride in (("a", 1), ("b", 2), ("c", 1)):
            builder.add(Conv2d, name, out_channels=16, kernel=(3, 3), stride=(stride, stride),
                        padding=(1, 1))
        options["workload"] = builder.build()
    shared = simulate(**options).to_dict()
    _forget_everything(monkeypatch)
    afresh = simulate(**options).to_dict()
    for timing in ("engine_seconds", "wall_seconds", "compile_seconds"):
        shared.pop(timing), afresh.pop(timing)
    assert shared == afresh


def test_a_column_joins_its_pieces_in_order():
    """Short pieces gathered as a list and long ones as arrays come out in the order given,
    with the column's dtype, as one concatenation of the pieces would."""
    rng = np.random.default_rng(3)
    column, expected = lowering.Column(np.int32), []
    for _ in range(200):
        n = int(rng.choice([0, 1, 5, lowering.Column.SHORT, lowering.Column.SHORT + 1, 300]))
        kind = rng.integers(4)
        if kind == 0:
            values = rng.integers(-9, 9, size=n)
            column.put(values, n)
        elif kind == 1:
            values = rng.integers(-9, 9, size=(1, n))       # any shape of n values
            column.put(values, n)
        elif kind == 2:
            values = rng.integers(-9, 9, size=n).tolist()
            column.put(values, n)
        else:
            values = np.full(n, int(rng.integers(-9, 9)))
            column.put(int(values[0]) if n else 0, n)
        expected.append(np.asarray(values).reshape(-1))
        so_far = np.concatenate(expected)
        for n in {0, 1, 7, so_far.size // 2, so_far.size}:
            assert np.array_equal(column.tail(n), so_far[so_far.size - n:])
        assert len(column) == so_far.size
    joined = column.take()
    assert joined.dtype == np.int32
    assert np.array_equal(joined, np.concatenate(expected))
    with pytest.raises(ValueError, match="3 values where 4"):
        lowering.Column().put([1, 2, 3], 4)


class _Forgetful(dict):
    """A cache that keeps nothing."""

    def __setitem__(self, key, value) -> None:
        pass


def _forget_everything(monkeypatch) -> None:
    """Plan, lower and count every layer afresh: no shared plans, step blocks, waited-for
    steps, runs of identical layers or mapped-tile counts."""
    from accelsim.results import build
    monkeypatch.setattr(crossbar, "_plan_key", lambda ctx, name: None)
    monkeypatch.setattr(lowering.Tasks, "block", lambda self, *shape: lowering.make_block(*shape))
    initialize = lowering.Tasks.__init__

    def forgetful_tasks(self, *args, **kwargs):
        initialize(self, *args, **kwargs)
        self.fast_blocks = _Forgetful()

    monkeypatch.setattr(lowering.Tasks, "__init__", forgetful_tasks)
    monkeypatch.setattr(runs.Runs, "replay", lambda self, *args: False)
    lower_module = importlib.import_module("accelsim.mapping.lower")
    wanted = lower_module._wanted
    monkeypatch.setattr(lower_module, "_wanted",
                        lambda need, bounds, producer, known: wanted(need, bounds, producer, {}))
    mapped = build._mapped_tiles
    monkeypatch.setattr(build, "_mapped_tiles", lambda plan, known: mapped(plan, {}))


def test_a_layer_whose_parameters_cannot_be_hashed_is_planned_not_shared(monkeypatch):
    builder = WorkloadBuilder("listed padding")
    builder.add(Input, "input", shape=(4, 8, 8))
    for name in ("a", "b"):      # a list where a tuple is usual: the layer cannot be hashed
        builder.add(Conv2d, name, out_channels=4, kernel=(3, 3), stride=(1, 1), padding=[1, 1])
    workload = builder.build()
    device = resolve(load_device("cim-16x16"))
    plans = {plan.name: plan for plan in plan_workload(workload, device)}
    assert plans["a"].parts[0].counts is not plans["b"].parts[0].counts
    shared = simulate(workload, device).to_dict()
    _forget_everything(monkeypatch)
    afresh = simulate(workload, device).to_dict()
    for timing in ("engine_seconds", "wall_seconds", "compile_seconds"):
        shared.pop(timing), afresh.pop(timing)
    assert shared == afresh


def _chain(widths, name="chain") -> object:
    """Linear layers of these widths, each reading the one before; a width given as a string
    ("c16") is a 3x3 convolution with that many channels on 12x12 images."""
    builder = WorkloadBuilder(name)
    first = widths[0]
    if isinstance(first, str):
        builder.add(Input, "input", shape=(int(first[1:]), 12, 12))
    else:
        builder.add(Input, "input", shape=(first, 1, 1))
    for i, width in enumerate(widths[1:]):
        if isinstance(width, str):
            builder.add(Conv2d, f"conv{i}", out_channels=int(width[1:]), kernel=(3, 3),
                        padding=(1, 1), activation="relu")
        else:
            builder.add(Linear, f"fc{i}", out_features=width, activation="relu")
    return builder.build()


@pytest.mark.parametrize("widths, device, options, counted_at_least", [
    ([64] * 200, "cim-16x16", {}, 190),
    ([16] * 200, "small chip", {"batch": 3}, 150),        # a layer group every 40 layers
    ([16] * 60 + [32] * 60 + [16] * 60, "small chip", {"max_steps": 16}, 100),
    ([64] * 100, "small chip", {}, 0),                    # two layers per group: no runs
    ([48, 64, 64, 64, 32, 32, 32, 32], "cim-128x128-rram", {"preload_weights": False}, 1),
    ([64] * 120, "cim-16x16", {"batch": 2, "max_steps": 1}, 110),
    ([64] * 80, "hybrid-cim-systolic", {"batch": 2}, 0),
    (["c16"] * 40, "cim-16x16", {"batch": 2}, 30),         # convolutions: windows of rows
    (["c16"] * 40, "cim-16x16", {"max_steps": 16}, 30),
])
def test_runs_of_identical_layers_lower_to_the_program_of_the_general_path(
        monkeypatch, widths, device, options, counted_at_least):
    """A run of identical layers, counted and added at once, gives the very program (task
    arrays, successor lists, labels, task ranges) that lowering each layer gives."""
    from accelsim.mapping.lower import lower
    from accelsim.mapping.plan import place_and_route
    dev = _small_chip() if device == "small chip" else resolve(load_device(device))
    workload = _chain(widths)
    batch = options.pop("batch", 1)
    plans = plan_workload(workload, dev, batch=batch)
    mapping = place_and_route(plans, dev)
    counted = []
    replay = runs.Runs.replay

    def counting(self, *args):
        counted.append(replay(self, *args))
        return counted[-1]

    monkeypatch.setattr(runs.Runs, "replay", counting)
    fast = lower(mapping.plans, placement=mapping.placement, batch=batch, **options)
    monkeypatch.setattr(runs.Runs, "replay", lambda self, *args: False)
    general = lower(mapping.plans, placement=mapping.placement, batch=batch, **options)
    _same(fast, general, "lowered")
    assert sum(counted) >= counted_at_least, sum(counted)      # the runs the case is for
