"""load_onnx(outputs=[...]) / accelsim run --onnx-output: the graph cut at chosen tensors (a
detector's heads without its data-dependent post-processing), and the one-image forms that a
detector's input transform exports (a Split of the batch into one part, a Gather of image 0).
The cut is checked against the same network built without its post-processing, by
onnxruntime's values and by simulating both."""

from __future__ import annotations

import numpy as np
import pytest

onnx = pytest.importorskip("onnx", reason="the onnx extra is not installed")
pytest.importorskip("onnxruntime", reason="onnxruntime is not installed")

from click.testing import CliRunner  # noqa: E402
from onnx import TensorProto, helper  # noqa: E402
from onnx_models import GraphBuilder  # noqa: E402
from test_onnx import check_values, save  # noqa: E402

import accelsim  # noqa: E402
from accelsim import SpecError  # noqa: E402
from accelsim.cli import main  # noqa: E402
from accelsim.workload.load import load_workload  # noqa: E402
from accelsim.workload.onnx import load_onnx  # noqa: E402

SIZE = 12


def detector(post: bool, batch: int = 1):
    """An image list of one image normalized and re-batched as torchvision's detectors export
    it (Split into one part, Squeeze, Sub, Div, Unsqueeze, Gather of image 0, Unsqueeze), a
    conv backbone, two heads and, when ``post``, an If on the boxes (the post-processing).
    Returns the model and its two heads' tensor names."""
    g = GraphBuilder(7)
    (part,) = [g.op("Split", ["images", g.const(np.array([batch]))], axis=0)]
    x = g.op("Squeeze", [part, g.const(np.array([0]))])
    x = g.op("Sub", [x, g.const(np.full((3, 1, 1), 0.5))])
    x = g.op("Div", [x, g.const(np.full((3, 1, 1), 0.25))])
    x = g.op("Unsqueeze", [x, g.const(np.array([0]))])
    x = g.op("Gather", [x, g.const(np.array(0))], axis=0)
    x = g.op("Unsqueeze", [x, g.const(np.array([0]))])
    x = g.op("Conv", [x, g.random(8, 3, 3, 3)], pads=[1, 1, 1, 1])
    x = g.op("Relu", [x])
    boxes = g.op("Conv", [x, g.random(4, 8, 1, 1)])
    scores = g.op("Conv", [x, g.random(5, 8, 1, 1)])
    outputs = [boxes, scores]
    if post:
        any_box = g.op("Cast", [g.op("ReduceMax", [boxes], keepdims=0)], to=TensorProto.BOOL)
        then = helper.make_graph([helper.make_node("Identity", [scores], ["kept"])], "then",
                                 [], [helper.make_tensor_value_info("kept", 1, None)])
        other = helper.make_graph([helper.make_node("Neg", [scores], ["dropped"])], "else",
                                  [], [helper.make_tensor_value_info("dropped", 1, None)])
        outputs = [g.op("If", [any_box], then_branch=then, else_branch=other)]
    return g.model({"images": [batch, 3, SIZE, SIZE]}, outputs), [boxes, scores]


def image(batch=1):
    return np.random.default_rng(3).normal(size=(batch, 3, SIZE, SIZE)).astype(np.float32)


def check_heads(plain, cut):
    """onnxruntime runs the detector without its post-processing (``plain``); check_values
    compares its first output with the last head accelsim lists (the scores)."""
    scores_first = onnx.ModelProto()
    scores_first.CopyFrom(plain)
    scores_first.graph.output.reverse()
    check_values(scores_first, cut, {"images": image()})


def test_a_detector_cut_at_its_heads_is_the_network_without_its_post_processing(tmp_path):
    full, heads = detector(post=True)
    with pytest.raises(SpecError, match="--onnx-output"):
        load_onnx(save(full, tmp_path, "full.onnx"))
    cut = load_onnx(save(full, tmp_path, "full.onnx"), outputs=heads)
    plain, plain_heads = detector(post=False)
    assert plain_heads == heads
    alone = load_onnx(save(plain, tmp_path, "plain.onnx"))
    # 8 x 27 per pixel for the backbone, 4 x 8 and 5 x 8 for the heads
    assert cut.macs == alone.macs == SIZE * SIZE * (8 * 27 + 4 * 8 + 5 * 8)
    for device in ("cim-16x16", "eyeriss-like"):
        a, b = accelsim.simulate(cut, device), accelsim.simulate(alone, device)
        assert a.cycles == b.cycles and a.energy_pj == pytest.approx(b.energy_pj, rel=1e-12)
    check_heads(plain, cut)


def test_a_cut_keeps_only_the_inputs_and_weights_it_reads(tmp_path):
    g = GraphBuilder(2)
    a = g.op("MatMul", ["x", g.random(6, 4)])
    b = g.op("MatMul", ["y", g.random(6, 3)])
    model = g.model({"x": [1, 6], "y": [1, 6]}, [a, b])
    path = save(model, tmp_path)
    wl = load_onnx(path, outputs=[a])
    assert wl.macs == 6 * 4 and [o for o, *_ in wl.layouts.values()].count("y") == 0
    with pytest.raises(SpecError, match="not a graph input"):
        load_onnx(path, outputs=[a], input_shapes={"y": [1, 6]})


@pytest.mark.parametrize("outputs,message", [
    ([], "is empty"),
    (["w_missing"], "no node of the graph gives"),
    ([3], "is not a tensor name"),
    (["", "x"], "is not a tensor name"),
    (None, None),
])
def test_outputs_are_checked(tmp_path, outputs, message):
    g = GraphBuilder(2)
    a = g.op("MatMul", ["x", g.random(6, 4)])
    path = save(g.model({"x": [1, 6]}, [a]), tmp_path)
    if message is None:
        assert load_onnx(path, outputs=outputs).macs == 24
        return
    with pytest.raises(SpecError, match=message):
        load_onnx(path, outputs=outputs)


def test_a_misspelt_output_is_answered_with_the_closest_names(tmp_path):
    full, heads = detector(post=True)
    path = save(full, tmp_path)
    with pytest.raises(SpecError, match=f"did you mean '{heads[0]}'"):
        load_onnx(path, outputs=[heads[0] + "x"])
    with pytest.raises(SpecError, match="twice"):
        load_onnx(path, outputs=[heads[0], heads[0]])


def test_outputs_apply_to_onnx_files_only():
    with pytest.raises(SpecError, match="ONNX files only"):
        load_workload("resnet18", outputs=["x"])


def test_the_cli_cuts_with_onnx_output(tmp_path):
    full, heads = detector(post=True)
    path = str(save(full, tmp_path))
    runner = CliRunner()
    refused = runner.invoke(main, ["run", "-d", "cim-16x16", "-w", path, "-q"])
    assert refused.exit_code != 0 and "--onnx-output" in refused.output
    args = ["run", "-d", "cim-16x16", "-w", path, "-q"]
    for head in heads:
        args += ["--onnx-output", head]
    done = runner.invoke(main, args)
    assert done.exit_code == 0, done.output
    macs = SIZE * SIZE * (8 * 27 + 4 * 8 + 5 * 8)
    assert f"MACs              {macs:,}" in done.output
    wrong = runner.invoke(main, ["run", "-d", "cim-16x16", "-w", "resnet18", "-q",
                                 "--onnx-output", "x"])
    assert wrong.exit_code != 0 and "ONNX files only" in wrong.output


def test_the_whole_batch_in_one_part_and_a_gather_of_image_0_at_two_images(tmp_path):
    """With two images a Split of the batch into one part is still the whole batch (the same
    network as without it), but a Gather of image 0 would drop the other image: refused."""
    g = GraphBuilder(4)
    (part,) = [g.op("Split", ["images", g.const(np.array([2]))], axis=0)]
    y = g.op("Conv", [part, g.random(4, 3, 3, 3)])
    split = load_onnx(save(g.model({"images": [2, 3, SIZE, SIZE]}, [y]), tmp_path, "s.onnx"))
    g = GraphBuilder(4)                          # the same seeded weights as above
    y = g.op("Conv", ["images", g.random(4, 3, 3, 3)])
    plain = g.model({"images": [2, 3, SIZE, SIZE]}, [y])
    alone = load_onnx(save(plain, tmp_path, "p.onnx"))
    assert split.batch == alone.batch == 2 and split.macs == alone.macs
    check_values(plain, split, {"images": image(2)})
    g = GraphBuilder(4)
    x = g.op("Gather", ["images", g.const(np.array(0))], axis=0)
    x = g.op("Unsqueeze", [x, g.const(np.array([0]))])
    y = g.op("Conv", [x, g.random(4, 3, 3, 3)])
    with pytest.raises(SpecError, match="batch axis"):
        load_onnx(save(g.model({"images": [2, 3, SIZE, SIZE]}, [y]), tmp_path, "g.onnx"))


def seq2seq(host: bool):
    """Token ids, and (when ``host``) mBART's shift of them: each sentence's last id before
    its padding, found by a data-dependent GatherElements, moved to the front; then an
    embedding and a projection. Returns the model and the shifted ids' tensor name."""
    g = GraphBuilder(9)
    if host:
        real = g.op("Cast", [g.op("Not", [g.op("Equal", ["ids", g.const(np.array(1))])])],
                    to=TensorProto.INT64)
        last = g.op("Sub", [g.op("ReduceSum", [real, g.const(np.array([1]))], keepdims=0),
                            g.const(np.array(1))])
        first = g.op("GatherElements", ["ids", g.op("Unsqueeze", [last, g.const(
            np.array([1]))])], axis=1)
        rest = g.op("Slice", ["ids", g.const(np.array([0])), g.const(np.array([5])),
                              g.const(np.array([1]))])
        ids = g.op("Concat", [first, rest], axis=1)
    else:
        ids = "shifted"
    y = g.op("Gather", [g.const(np.random.default_rng(1).normal(size=(20, 8))), ids], axis=0)
    y = g.op("MatMul", [y, g.random(8, 4)])
    inputs = {"ids": [1, 6]} if host else {"shifted": [1, 6]}
    return g.model(inputs, [y], types={"ids": TensorProto.INT64,
                                       "shifted": TensorProto.INT64}), ids


def test_host_work_on_token_ids_cut_away_with_inputs(tmp_path):
    full, shifted = seq2seq(host=True)
    path = save(full, tmp_path, "full.onnx")
    with pytest.raises(SpecError, match="--onnx-input"):
        load_onnx(path)
    cut = load_onnx(path, inputs=[shifted])
    plain, _ = seq2seq(host=False)
    alone = load_onnx(save(plain, tmp_path, "plain.onnx"))
    assert cut.macs == alone.macs == 6 * 8 * 4
    a, b = accelsim.simulate(cut, "cim-16x16"), accelsim.simulate(alone, "cim-16x16")
    assert a.cycles == b.cycles and a.energy_pj == pytest.approx(b.energy_pj, rel=1e-12)
    ids = np.array([[4, 9, 17, 3, 0, 12]], dtype=np.int64)
    renamed = onnx.ModelProto()
    renamed.CopyFrom(plain)
    for node in renamed.graph.node:
        node.input[:] = [shifted if name == "shifted" else name for name in node.input]
    renamed.graph.input[0].name = shifted
    check_values(renamed, cut, {shifted: ids})
    assert [onnx_name for onnx_name, *_ in cut.layouts.values()][0] == shifted
    runner = CliRunner()
    done = runner.invoke(main, ["run", "-d", "cim-16x16", "-w", str(path), "-q",
                                "--onnx-input", shifted])
    assert done.exit_code == 0 and "MACs              192" in done.output, done.output


def test_inputs_are_checked(tmp_path):
    full, shifted = seq2seq(host=True)
    path = save(full, tmp_path)
    with pytest.raises(SpecError, match="did you mean"):
        load_onnx(path, inputs=[shifted + "x"])
    model, heads = detector(post=False)
    path = save(model, tmp_path, "detector.onnx")
    with pytest.raises(SpecError, match="not needed by the outputs"):
        load_onnx(path, inputs=[heads[0]], outputs=[heads[1]])
    g = GraphBuilder(3)
    a, b = g.op("Split", ["x", g.const(np.array([2, 2]))], n_out=2, axis=1)
    ya, yb = g.op("MatMul", [a, g.random(2, 3)]), g.op("MatMul", [b, g.random(2, 3)])
    split = save(g.model({"x": [1, 4]}, [ya, yb]), tmp_path, "split.onnx")
    assert load_onnx(split, inputs=[b], outputs=[yb]).macs == 2 * 3
    with pytest.raises(SpecError, match="also needs for its other outputs"):
        load_onnx(split, inputs=[b])              # the Split is needed for a, and gives b
    # an input that already is one changes nothing
    assert load_onnx(path, inputs=["images"]).macs == load_onnx(path).macs
    with pytest.raises(SpecError, match="ONNX files only"):
        load_workload("resnet18", inputs=["x"])


def test_a_scalar_activation_is_refused_naming_its_node(tmp_path):
    """An entry picked from a 1-D tensor (a cut at a Shape's output makes one an input) is a
    scalar per image: refused, naming the node (it raised an IndexError)."""
    g = GraphBuilder(1)
    x = g.op("Gather", ["x", g.const(np.array(0))], axis=0)
    x = g.op("Unsqueeze", [x, g.const(np.array([0, 1]))])
    y = g.op("MatMul", [x, g.random(1, 4)])
    with pytest.raises(SpecError, match="Gather.*scalar"):
        load_onnx(save(g.model({"x": [3]}, [y]), tmp_path))


def test_an_input_of_no_known_shape_takes_the_one_given(tmp_path):
    g = GraphBuilder(1)
    y = g.op("MatMul", ["x", g.random(4, 4)])
    model = g.model({"x": [1, 3, 4]}, [y])
    model.graph.input[0].type.tensor_type.ClearField("shape")
    path = save(model, tmp_path)
    with pytest.raises(SpecError, match="input 'x': has no known shape; give input_shapes"):
        load_onnx(path)
    assert load_onnx(path, input_shapes={"x": [1, 3, 4]}).macs == 3 * 4 * 4


def test_the_cli_lists_the_tensors_a_cut_can_name(tmp_path):
    model, heads = detector(post=True)
    path = str(save(model, tmp_path))
    runner = CliRunner()
    listed = runner.invoke(main, ["tensors", path], terminal_width=200)
    assert listed.exit_code == 0, listed.output
    assert f"{len([o for n in model.graph.node for o in n.output])} tensors" in listed.output
    one = runner.invoke(main, ["tensors", path, "--match", heads[1]], terminal_width=200)
    assert "1 tensor given" in one.output and f"{heads[1]}" in one.output
    assert f"[1, 5, {SIZE}, {SIZE}]" in one.output        # its shape, not read as markup
    missing = runner.invoke(main, ["tensors", str(tmp_path / "none.onnx")])
    assert missing.exit_code != 0 and "no such file" in missing.output


def test_the_cli_writes_a_cut_model_that_imports_as_the_cut(tmp_path):
    full, heads = detector(post=True)
    path = str(save(full, tmp_path, "full.onnx"))
    out = tmp_path / "heads.onnx"
    runner = CliRunner()
    args = ["cut", path, str(out)] + [arg for head in heads for arg in ("--output", head)]
    done = runner.invoke(main, args)
    assert done.exit_code == 0 and "wrote" in done.output, done.output
    written = onnx.load(str(out))
    assert [o.name for o in written.graph.output] == heads
    assert not any(n.op_type == "If" for n in written.graph.node)
    cut = load_onnx(out)
    assert cut.macs == load_onnx(path, outputs=heads).macs
    plain, _ = detector(post=False)
    check_heads(plain, cut)
    for bad, fragment in ((["cut", path, str(tmp_path / "x.txt"), "--output", heads[0]],
                           "written as ONNX"),
                          (["cut", path, str(tmp_path / "x.onnx")], "give the tensors"),
                          (["cut", path, str(tmp_path / "x.onnx"), "--output", "nowhere"],
                           "no node of the graph gives"),
                          (["cut", path, str(tmp_path / "x.onnx"), "--output", heads[0],
                            "--input", heads[0]], "keeps no node")):
        refused = runner.invoke(main, bad)
        assert refused.exit_code != 0 and fragment in refused.output, refused.output


def test_a_file_of_symbolic_axes_written_static_can_be_swept(tmp_path):
    """accelsim cut --input-shape writes the shapes into the file; a sweep, which takes
    workloads by name or path only, then runs it."""
    g = GraphBuilder(5)
    y = g.op("MatMul", ["x", g.random(8, 4)])
    path = str(save(g.model({"x": [1, "tokens", 8]}, [y]), tmp_path, "symbolic.onnx"))
    with pytest.raises(SpecError, match="'tokens'.* is symbolic"):
        load_onnx(path)
    out = tmp_path / "static.onnx"
    runner = CliRunner()
    done = runner.invoke(main, ["cut", path, str(out), "--input-shape", "x=1,5,8"])
    assert done.exit_code == 0, done.output
    assert load_onnx(out).macs == load_onnx(path, input_shapes={"x": [1, 5, 8]}).macs == 5 * 8 * 4
    rows = accelsim.sweep("cim-16x16", [str(out)], grid={"cim.adcs_per_tile": [1, 2]},
                          jobs=1, progress=False).rows
    assert [row["status"] for row in rows] == ["ok", "ok"]
    wrong = runner.invoke(main, ["cut", path, str(out), "--input-shape", "x=1,5"])
    assert wrong.exit_code != 0 and "gives 2 dimensions, the model has 3" in wrong.output
