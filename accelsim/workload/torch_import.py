"""PyTorch models through ONNX: ``from_torch(module, example_input)``.

Needs torch (``pip install 'accelsim[torch]'``). The module is exported in inference mode
(``eval()``, restored afterwards) with torch's ONNX exporter into a temporary folder, and read
back with :func:`accelsim.workload.onnx.load_onnx`.
"""

from __future__ import annotations

import contextlib
import io
import tempfile
import warnings
from pathlib import Path

from accelsim.errors import AccelsimError
from accelsim.workload.graph import Workload


def from_torch(module, example_input, *, name: str | None = None, unsupported: str = "error",
               dynamo: bool | None = None) -> Workload:
    """A Workload from a ``torch.nn.Module`` and one example input (batch 1).

    example_input: a tensor, or a tuple of tensors for a module with several inputs.
    dynamo: use torch's torch.export-based exporter (needs onnxscript) or the TorchScript one;
    by default the former when onnxscript is installed.
    """
    try:
        import torch
    except ImportError:
        raise AccelsimError("from_torch needs PyTorch: pip install 'accelsim[torch]'") from None
    from accelsim.workload.onnx import load_onnx

    if not isinstance(module, torch.nn.Module):
        raise AccelsimError(f"from_torch needs a torch.nn.Module, got {type(module).__name__}")
    args = example_input if isinstance(example_input, tuple) else (example_input,)
    if dynamo is None:
        try:
            import onnxscript  # noqa: F401
            dynamo = True
        except ImportError:
            dynamo = False
    training = module.training
    module.eval()
    try:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / f"{name or type(module).__name__}.onnx"
            with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
                warnings.simplefilter("ignore")
                try:
                    torch.onnx.export(module, args, str(path), dynamo=dynamo,
                                      **({} if dynamo else {"opset_version": 17}))
                except Exception as exc:
                    raise AccelsimError(f"torch could not export {type(module).__name__} to "
                                        f"ONNX: {type(exc).__name__}: {str(exc)[:300]}") \
                        from None
            workload = load_onnx(path, unsupported=unsupported)
    finally:
        module.train(training)
    if name:
        from dataclasses import replace
        workload = replace(workload, name=name)
    return workload
