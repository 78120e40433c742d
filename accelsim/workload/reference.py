"""The workload YAML reference, rendered from the layer classes themselves (so it cannot drift
from what the loader accepts): ``python -m accelsim.workload.reference > docs/workloads.md``,
and tests/test_workloads.py checks that the file in docs/ is what this renders."""

from __future__ import annotations

import dataclasses
import sys
import typing

from accelsim.workload.layers import LAYER_TYPES

_INTRO = """# Workload files

A workload file lists layers in order; each layer's output feeds the next unless `inputs`
names its inputs. Shapes are (channels, height, width) per image. Load one with
`accelsim.load_workload("net.yaml")` or `accelsim run --workload net.yaml`.

How the file lists layers that do not depend on each other (a downsample before or after its
block's convs, q, k and v in any order) does not change any figure: accelsim orders the layers
by the graph alone (`Workload.order`), and placement, buffer residency and the engine's queues
all follow that order. The layer with the longest chain of layers still ahead of it comes first
(the critical path); ties go by the layer's parameters, then the shorter chain behind it, then
the input slot it feeds (the first operand of a matmul before the second); only layers alike in
all of these are left in the file's order. Reports list layers in this order; of several
network outputs, value mode's `Result.output` is the one the file lists last.

```yaml
version: 1
name: tiny-cnn
description: one line on what it is        # optional
layers:
  - {name: input, type: input, shape: [3, 32, 32]}
  - {name: conv1, type: conv2d, out_channels: 16, kernel: 3, padding: 1, activation: relu}
  - {name: pool1, type: pool2d, function: max, kernel: 2, stride: 2}
  - {name: flat, type: flatten}
  - {name: fc, type: linear, out_features: 10}
```

`kernel`, `stride`, `padding`, `dilation` and `scale` take an integer or an `[h, w]` pair. An
unknown key is refused with the closest known one (`kernel_size: unknown key: did you mean
'kernel'?`).
This page is generated from the layer classes (`python -m accelsim.workload.reference`).
In Python the same classes take the same keys (`Conv2d("conv1", ("input",), 16, kernel=3,
padding=1)`), and `Workload.from_layers(name, layers)` checks them as the loader does.

Every layer has `name` (a string, unique) and `inputs` (a list of layer names; default: the
previous layer). The other keys of each `type`:
"""


def _describe_type(annotation: typing.Any) -> str:
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Annotated:
        return _describe_type(args[0])
    if origin is typing.Literal:
        return "one of " + ", ".join(f"`{a}`" for a in args)
    if origin in (typing.Union, getattr(__import__("types"), "UnionType", None)):
        parts = [_describe_type(a) for a in args if a is not type(None)]
        text = " or ".join(parts)
        return text + (" or null" if type(None) in args else "")
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return f"list of {_describe_type(args[0])}s"
        if len(args) == 2:
            return "[h, w] pair of " + _describe_type(args[0]) + "s"
        return f"list of {len(args)} " + _describe_type(args[0]) + "s"
    names = {str: "string", int: "integer", float: "number", bool: "true or false"}
    return names.get(annotation, getattr(annotation, "__name__", str(annotation)))


def _doc(cls: type) -> str:
    doc = (cls.__doc__ or "").strip()
    if not doc or doc.startswith(cls.__name__ + "("):     # the dataclass default signature
        return ""
    return " ".join(doc.split("\n\n")[0].split())


def render() -> str:
    lines = [_INTRO]
    for kind, cls in LAYER_TYPES.items():
        lines.append(f"## `type: {kind}`\n")
        doc = _doc(cls)
        if doc:
            lines.append(doc + "\n")
        hints = typing.get_type_hints(cls, include_extras=True)
        rows = []
        for field in dataclasses.fields(cls):
            if field.name in ("name", "inputs"):
                continue
            if field.default is None:
                default = "`null` (none)"
            elif field.default is not dataclasses.MISSING:
                value = field.default
                default = f"`{list(value) if isinstance(value, tuple) else value}`"
            elif field.default_factory is not dataclasses.MISSING:
                default = f"`{field.default_factory()}`"
            else:
                default = "required"
            rows.append(f"| `{field.name}` | {_describe_type(hints[field.name])} | {default} |")
        if rows:
            lines.append("| key | value | default |\n|---|---|---|")
            lines.extend(rows)
            lines.append("")
        else:
            lines.append("No keys beyond `name` and `inputs`.\n")
    return "\n".join(lines).rstrip() + "\n"


if __name__ == "__main__":
    sys.stdout.write(render())
