"""Loading workloads: a zoo name, a shipped workloads/*.yaml name, or a path to a YAML file.

YAML format (version 1)::

    version: 1
    name: linear-20x20
    layers:
      - {name: input, type: input, shape: [20, 1, 1]}
      - {name: fc, type: linear, out_features: 20}      # input: the previous layer

``inputs: [a, b]`` names a layer's inputs explicitly; ``kernel``, ``stride``, ``padding`` and
``dilation`` take an int or an [h, w] pair.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from accelsim._data import data_dir, looks_like_path
from accelsim.errors import SpecError
from accelsim.spec.validate import build
from accelsim.spec.yamlfile import read_yaml
from accelsim.workload.graph import Workload
from accelsim.workload.layers import LAYER_TYPES, PAIR_FIELDS, Layer
from accelsim.workload.zoo import ZOO


def available_workloads() -> dict[str, str]:
    """Names that :func:`load_workload` accepts, with a one-line description each."""
    names = {name: (builder.__doc__ or "").strip().splitlines()[0] if builder.__doc__
             else f"built-in {name}" for name, builder in ZOO.items()}
    for path in sorted(data_dir("workloads").glob("*.yaml")):
        try:
            about = read_yaml(path).get("description")
        except SpecError:
            about = None
        names[path.stem] = " ".join(str(about).split()) if about else f"{path.name}"
    return names


def load_workload(name_or_path: str | Path | Workload | Mapping[str, Any], *,
                  unsupported: str = "error", progress: bool = False,
                  input_shapes: Mapping[str, Any] | None = None,
                  inputs: list[str] | None = None,
                  outputs: list[str] | None = None) -> Workload:
    """A Workload from a zoo name ("resnet18"), a shipped YAML name, a YAML path, an ONNX
    path or a dict as read from YAML (``workload_from_dict``). ``unsupported``,
    ``progress``, ``input_shapes``, ``inputs`` and ``outputs`` apply to ONNX files: see
    :func:`accelsim.workload.onnx.load_onnx`."""
    onnx_file = isinstance(name_or_path, (str, Path)) and str(name_or_path).endswith(".onnx")
    for name, given, why in (("input_shapes", input_shapes, "the shapes of other workloads "
                              "are in their layers"),
                             ("inputs", inputs, "other workloads start where their layers "
                              "do"),
                             ("outputs", outputs, "other workloads end where their layers "
                              "do")):
        if given and not onnx_file:
            raise SpecError(str(name_or_path)[:120], name, f"applies to ONNX files only "
                            f"({why})")
    if isinstance(name_or_path, Workload):
        return name_or_path
    if isinstance(name_or_path, Mapping):
        return workload_from_dict(dict(name_or_path))
    if not isinstance(name_or_path, (str, Path)):
        raise SpecError(repr(name_or_path)[:60], "", "a workload is a zoo or shipped name, a "
                        "path to a YAML or ONNX file, a dict as read from YAML, or a Workload; "
                        f"got type {type(name_or_path).__name__}")
    text = str(name_or_path)
    if isinstance(name_or_path, Path) or looks_like_path(text):
        path = Path(text)
        if path.suffix == ".onnx":
            from accelsim.workload.onnx import load_onnx
            return load_onnx(path, unsupported=unsupported, progress=progress,
                             input_shapes=input_shapes, inputs=inputs, outputs=outputs)
        if path.suffix not in (".yaml", ".yml"):
            raise SpecError(text, "", f"unsupported workload file type '{path.suffix}' "
                            "(expected .yaml or .onnx)")
        return workload_from_dict(read_yaml(path), source=str(path))
    if text in ZOO:
        return ZOO[text]()
    shipped = data_dir("workloads") / f"{text}.yaml"
    if shipped in data_dir("workloads").glob("*.yaml"):   # (no stat of an arbitrary name)
        return workload_from_dict(read_yaml(shipped), source=str(shipped))
    raise SpecError(text, "", "unknown workload; available: "
                    + ", ".join(available_workloads()))


def workload_from_dict(data: dict[str, Any], *, source: str = "<dict>") -> Workload:
    """Validate a workload given as a plain dict (as read from YAML)."""
    for key in data:
        if key not in ("version", "name", "description", "layers"):
            raise SpecError(source, key, "unknown key (expected version, name, description, "
                            "layers)")
    if data.get("version") != 1:
        raise SpecError(source, "version", "required, and must be 1"
                        + ("" if "version" not in data else f" (got {data['version']!r})"))
    name = data.get("name", Path(source).stem)
    if not isinstance(name, str):
        raise SpecError(source, "name", f"must be a string (got {name!r})")
    entries = data.get("layers")
    if not isinstance(entries, list) or not entries:
        raise SpecError(source, "layers", "must be a non-empty list of layers")
    layers: list[Layer] = []
    for index, entry in enumerate(entries):
        layers.append(_layer(entry, index, layers, source))
    return Workload.from_layers(name, layers, source=source, validated=True)


def _square_pairs(params: dict) -> dict:
    """``params`` with each int of layers.PAIR_FIELDS given as a square pair."""
    return {key: (value, value) if key in PAIR_FIELDS and isinstance(value, int)
            and not isinstance(value, bool) else value for key, value in params.items()}


def _layer(entry: Any, index: int, previous: list[Layer], source: str) -> Layer:
    where = f"layers[{index}]"
    if not isinstance(entry, dict):
        raise SpecError(source, where, "each layer must be a mapping with name and type")
    params = dict(entry)
    kind = params.pop("type", None)
    if not isinstance(kind, str) or kind not in LAYER_TYPES:
        raise SpecError(source, f"{where}.type", f"unknown layer type {kind!r}; known: "
                        + ", ".join(LAYER_TYPES))
    if "name" in params:
        where = f"layers[{index}] ({params['name']})"
    if "inputs" not in params:
        params["inputs"] = [previous[-1].name] if previous and kind != "input" else []
    elif isinstance(params["inputs"], str):
        params["inputs"] = [params["inputs"]]
    try:
        return build(LAYER_TYPES[kind], _square_pairs(params), source)
    except SpecError as exc:
        raise SpecError(source, f"{where}.{exc.path}" if exc.path else where,
                        exc.message) from None
