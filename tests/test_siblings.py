"""Sibling crossbar layers that read the same inputs share the bus transfers (mapping.siblings)."""

from __future__ import annotations

import math

import pytest
from conftest import modified

import accelsim
from accelsim.hardware.pricing import resolve
from accelsim.mapping.plan import map_workload
from accelsim.spec.load import load_device


def convs(parts: int, *, k: int = 3, cin: int = 32, cout: int = 128, hw: int = 28):
    """One k x k conv cin -> cout on hw x hw, or the same as ``parts`` convs of the input and a
    concat of their outputs."""
    conv = {"type": "conv2d", "kernel": k, "padding": k // 2}
    layers = [{"name": "input", "type": "input", "shape": [cin, hw, hw]}]
    if parts == 1:
        layers.append({**conv, "name": "c", "out_channels": cout})
    else:
        layers += [{**conv, "name": f"c{p}", "out_channels": cout // parts,
                    "inputs": ["input"]} for p in range(parts)]
        layers.append({"name": "cat", "type": "concat",
                       "inputs": [f"c{p}" for p in range(parts)]})
    return accelsim.workload_from_dict({"version": 1, "name": f"convs-{parts}",
                                        "layers": layers})


@pytest.mark.parametrize("parts", [2, 4])
def test_convs_of_one_input_send_it_once(parts):
    """On cim-16x16 each of 784 output vectors needs 288 inputs (32 channels x 3 x 3) of 8
    bits and gives 128 outputs of 8 bits. Sent once, the bus moves 784 x (288 + 128) x 8 =
    2,609,152 bits and the buffer reads 784 x 288 x 8 / 128 = 14,112 words of inputs, however
    many convs share them. Until the twenty-second session each conv sent its own copy: four
    convs took twice the cycles of one (the bus is the bottleneck) and 25 % more energy."""
    device = resolve(load_device("cim-16x16"))
    word = device.global_buffer.word_bits
    one, split = (accelsim.simulate(convs(n), device) for n in (1, parts))
    for result in (one, split):
        assert result.action_totals["bus_bit"] == 784 * (288 + 128) * 8
        assert result.action_totals["buffer_read_inputs"] == pytest.approx(
            784 * math.ceil(288 * 8 / word))
    assert split.cycles == pytest.approx(one.cycles, rel=0.005)
    assert split.energy_pj == pytest.approx(one.energy_pj, rel=0.005)


def test_the_first_sibling_sends_and_the_others_wait_for_it():
    plans = {plan.name: plan for plan in
             map_workload(convs(4), resolve(load_device("cim-16x16"))).plans}
    assert plans["c0"].parts[0].inputs_from is None
    for name in ("c1", "c2", "c3"):
        part = plans[name].parts[0]
        assert part.inputs_from == ("c0", 0)
        assert [stage.kind for stage in part.stages][0] != "buffer_read"


@pytest.mark.parametrize("options", [{"mode": "reference"}, {"batch": 3},
                                     {"values": True}, {"preload_weights": False}])
def test_shared_inputs_in_every_mode(options):
    """The same relation in reference mode (a task per vector and tile), over a batch, in
    value mode (measured counts) and with the weights written in the run."""
    small = {"cin": 16, "cout": 64, "hw": 12}
    one, split = (accelsim.simulate(convs(n, **small), "cim-16x16", **options) for n in (1, 4))
    assert split.cycles == pytest.approx(one.cycles, rel=0.01)
    assert split.energy_pj == pytest.approx(one.energy_pj, rel=0.005)


def test_siblings_whose_tiles_are_rewritten_send_their_own(cim16_dict):
    """On 80 tiles the four convs (18 x 2 tiles each) fall in two layer groups of two, whose
    tiles are rewritten for every image. A sibling's MVMs start once its weights are written,
    and a sender held back by it would delay the layers that need only the sender (BERT-base
    on cim-128x128-rram: 44,000 cycles), so such siblings send their own inputs. On 144
    tiles, all four stay resident and share."""
    for tiles, shared in ((80, 0), (144, 3)):
        device = resolve(modified(cim16_dict, **{"cim.tiles": tiles}))
        mapping = map_workload(convs(4), device)
        assert mapping.placement.groups == (2 if tiles == 80 else 1)
        assert sum(part.inputs_from is not None for plan in mapping.plans
                   for part in plan.parts) == shared
        assert accelsim.simulate(convs(4), device).cycles > 0


def test_no_sharing_layer_by_layer_or_on_a_mesh(cim16_dict):
    """Layer by layer each layer runs alone; on a mesh each tile's slices take their own
    links."""
    device = resolve(load_device("cim-16x16"))
    mesh = resolve(modified(cim16_dict, **{"interconnect.kind": "mesh", "interconnect.cols": 16,
                                           "interconnect.rows": 16,
                                           "interconnect.memory_router": [8, 8]}))
    for mapping in (map_workload(convs(4), device, execution="layer_by_layer"),
                    map_workload(convs(4), mesh)):
        assert all(part.inputs_from is None for plan in mapping.plans for part in plan.parts)


def test_different_windows_do_not_share():
    """A 3 x 3 and a 1 x 1 conv of one input read different vectors."""
    workload = accelsim.workload_from_dict({"version": 1, "name": "windows", "layers": [
        {"name": "input", "type": "input", "shape": [16, 8, 8]},
        {"name": "a", "type": "conv2d", "out_channels": 16, "kernel": 3, "padding": 1},
        {"name": "b", "type": "conv2d", "out_channels": 16, "kernel": 1, "inputs": ["input"]},
        {"name": "c", "type": "conv2d", "out_channels": 16, "kernel": 3, "padding": 1,
         "stride": 2, "inputs": ["input"]},
        {"name": "d", "type": "conv2d", "out_channels": 8, "kernel": 3, "padding": 1,
         "inputs": ["input"]}]})
    plans = {plan.name: plan for plan in
             map_workload(workload, resolve(load_device("cim-16x16"))).plans}
    assert [plans[name].parts[0].inputs_from for name in "abcd"] == [None, None, None,
                                                                     ("a", 0)]
