"""ONNX Einsum in the forms attention and projections write it, as a mixin of the
importer's node handlers (see onnx.ops): two operands, each letter once per operand, one
contracted letter. With a constant operand it is a ``linear`` layer over the contracted
axis; between activations a ``matmul`` per batch letter. Only the layouts move: the
operands are read as transposes, and the result is transposed to the output's order."""

from __future__ import annotations

import numpy as np

from accelsim.workload.onnx.layouts import rebatched, transposed, unbatched


class EinsumOps:
    """The importer provides error(), act(), const(), attrs(), linear(), matmul(),
    unknown() and the tensor tables they use."""

    def op_Einsum(self, node) -> None:
        equation = str(self.attrs(node).get("equation", "")).replace(" ", "")
        inputs, _, output = equation.partition("->")
        operands = inputs.split(",")
        if (not _ or len(operands) != 2 or len(node.input) != 2 or "." in equation
                or any(len(set(o)) != len(o) for o in (*operands, output))):
            return self.unknown(node, f"Einsum '{equation}' is not supported (two operands, "
                                "an explicit output, each letter once per operand)")
        first, second = operands
        contracted = [c for c in first if c in second and c not in output]
        if len(contracted) != 1 or any(c not in first + second for c in output) or any(
                c not in output and c not in contracted for c in first + second):
            return self.unknown(node, f"Einsum '{equation}' is not supported (it must "
                                "contract exactly one letter and keep every other)")
        k = contracted[0]
        if self.const(node, 0) is not None:
            return self.unknown(node, "Einsum with a constant first operand is not supported")
        weight = self.const(node, 1)
        if weight is not None:
            return self.einsum_linear(node, first, second, output, k, weight)
        return self.einsum_matmul(node, first, second, output, k)

    def operand(self, node, index: int, letters: str):
        """The activation's per-image tensor and its letters (the batch letter dropped when
        the file's batch is held apart)."""
        x = self.act(node, index)
        if x.batched and self.batch == 1:
            return unbatched(x), letters
        if not x.batched:
            if self.batch > 1:
                raise self.error(node, "Einsum of a tensor that merges a batch of several "
                                 "images is not supported")
            return x, letters
        return x, letters[1:]

    def einsum_linear(self, node, first, second, output, k, weight) -> None:
        rest = [c for c in second if c != k]
        if len(rest) != 1 or weight.ndim != 2:
            return self.unknown(node, "Einsum with a constant is supported as a projection "
                                "(the constant a matrix of the contracted letter and one "
                                "other)")
        x, letters = self.operand(node, 0, first)
        if self.act(node).batched and self.batch > 1 and output[0] != first[0]:
            raise self.error(node, "the batch letter must stay first")
        keep = [c for c in letters if c != k]
        order = [letters.index(c) for c in (*keep, k)]
        matrix = weight if second.index(k) == 1 else weight.T          # (n, k)
        self.linear(node, transposed(x, order), np.asarray(matrix), None)
        self.reorder(node, [*keep, rest[0]], output)
        return None

    def einsum_matmul(self, node, first, second, output, k) -> None:
        m = [c for c in first if c not in second]
        n = [c for c in second if c not in first]
        batch = [c for c in output if c in first and c in second]
        if len(m) != 1 or len(n) != 1:
            return self.unknown(node, "Einsum between activations is supported as a "
                                "batched product with one row and one column letter")
        (a, la), (b, lb) = self.operand(node, 0, first), self.operand(node, 1, second)
        per_image = [c for c in batch if c in la]
        a = transposed(a, [la.index(c) for c in (*per_image, m[0], k)])
        b = transposed(b, [lb.index(c) for c in (*per_image, k, n[0])])
        self.matmul(node, a, b)
        self.reorder(node, [*per_image, m[0], n[0]], output)
        return None

    def reorder(self, node, letters: list[str], output: str) -> None:
        """The result (axes in ``letters``) transposed to the output's letter order."""
        result = self.tensors[node.output[0]]
        if result.batched and len(result.shape) == len(letters) - 1:
            result = unbatched(result)                   # one image: a leading 1 again
        held = [c for c in output if c in letters]
        if len(held) != len(result.shape):
            raise self.error(node, f"the result has {len(result.shape)} axes, the output "
                             f"letters '{output}' ask for {len(held)}")
        self.tensors[node.output[0]] = rebatched(transposed(
            result, [letters.index(c) for c in held]))
