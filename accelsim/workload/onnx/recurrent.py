"""ONNX LSTM and GRU, unrolled over time into the GEMMs and elementwise steps they are, as a
mixin of the importer's node handlers (see onnx.ops).

Each direction becomes one Linear layer over the whole sequence (the input projection,
X·Wᵀ for every step at once) and, per step, one Linear layer for the recurrent projection
h·Rᵀ followed by the gate activations and products. The steps depend on each other through
h (and c), so the simulation runs them in order, as hardware must. ONNX's default gate
functions only (sigmoid, tanh), no peepholes, no clipping.
"""

from __future__ import annotations

import numpy as np

from accelsim.workload.layers import Activation, Concat, Constant, Elementwise, Linear, Slice
from accelsim.workload.onnx.layouts import unbatched

GATES = {"LSTM": 4, "GRU": 3}


class RecurrentOps:
    """LSTM and GRU handlers; the importer provides error(), act(), const(), attrs(), add(),
    put(), materialize(), unique(), unknown() and the tensor tables they use."""

    def op_LSTM(self, node) -> None:
        self.recurrent(node)

    def op_GRU(self, node) -> None:
        self.recurrent(node)

    def recurrent(self, node) -> None:
        op, attrs = node.op_type, self.attrs(node)
        gates = GATES[op]
        w, r, b = self.const(node, 1), self.const(node, 2), self.setting(node, 3)
        if w is None or r is None:
            raise self.error(node, "W and R must be constants (initializers)")
        hidden = int(attrs.get("hidden_size", r.shape[-1]))
        directions = {"forward": 1, "reverse": 1, "bidirectional": 2}.get(
            attrs.get("direction", "forward"))
        why = self.unsupported_recurrence(node, attrs, gates, hidden, directions)
        if why:
            return self.unknown(node, f"{op} {why} is not supported (ONNX's default "
                                "activations, no peepholes or clipping)")
        if w.shape != (directions, gates * hidden, w.shape[2]) or r.shape != (
                directions, gates * hidden, hidden):
            raise self.error(node, f"W {list(w.shape)} and R {list(r.shape)} do not fit "
                             f"hidden_size {hidden} and {directions} direction(s)")
        b = np.zeros((directions, 2 * gates * hidden)) if b is None else b
        if np.shape(b) != (directions, 2 * gates * hidden):
            raise self.error(node, f"B {list(np.shape(b))} does not fit hidden_size {hidden} "
                             f"and {directions} direction(s)")
        layout = int(attrs.get("layout", 0))
        x = unbatched(self.act(node))
        if len(x.shape) != 3:
            raise self.error(node, f"needs a 3-D sequence, got {list(x.shape)}")
        steps, sequences = (x.shape[0], x.shape[1]) if layout == 0 else (x.shape[1],
                                                                            x.shape[0])
        lengths = self.setting(node, 4)
        if lengths is not None and np.any(np.asarray(lengths) != steps):
            return self.unknown(node, f"{op} with sequence_lens shorter than the sequence "
                                "is not supported")
        base = node.name or op
        sequence = self.materialize(x, (2, 0, 1) if layout == 0 else (2, 1, 0), 1, base)
        outputs = [[] for _ in range(directions)]        # h per step, in time order
        finals = []
        for d in range(directions):
            reverse = attrs.get("direction") == "reverse" or d == 1
            h0, c0 = (self.initial_state(node, index, d, hidden, sequences,
                                         f"{base}.d{d}.{which}")
                      for index, which in ((5, "h0"), (6, "c0")))
            hs, c = self.unroll(node, op, sequence, steps, reverse, w[d], r[d], b[d],
                                hidden, h0, c0, f"{base}.d{d}")
            outputs[d] = hs if not reverse else hs[::-1]
            finals.append((hs[-1], c))
        self.recurrent_outputs(node, outputs, finals, steps, sequences, hidden, layout, base)
        return None

    @staticmethod
    def unsupported_recurrence(node, attrs, gates, hidden, directions) -> str | None:
        defaults = (["Sigmoid", "Tanh", "Tanh"] if gates == 4 else ["Sigmoid", "Tanh"])
        given = [a.decode() if isinstance(a, bytes) else a
                 for a in attrs.get("activations", [])]
        if directions is None:
            return f"with direction '{attrs.get('direction')}'"
        if given and [g.lower() for g in given] != [d.lower() for d in defaults] * (
                len(given) // len(defaults)):
            return f"with activations {given}"
        if "clip" in attrs:
            return "with clipping"
        if attrs.get("input_forget", 0):
            return "with input_forget"
        peepholes = node.input[7] if gates == 4 and len(node.input) > 7 else ""
        if peepholes:
            return "with peepholes"
        return None

    def initial_state(self, node, index: int, direction: int, hidden: int, sequences: int,
                      label: str) -> str | None:
        """A Constant layer for initial_h or initial_c (zeros when absent), one column per
        sequence: (hidden, 1, sequences); None for an absent c of a GRU."""
        if index == 6 and node.op_type == "GRU":
            return None
        if index < len(node.input) and node.input[index] and node.input[index] not in self.consts:
            raise self.error(node, "an initial state computed by the network is not supported "
                             "(it must be a constant or absent)")
        value = self.const(node, index)
        if value is not None and (np.ndim(value) != 3 or np.shape(value)[0] <= direction):
            raise self.error(node, f"initial state of shape {list(np.shape(value))}: one "
                             f"[sequences, hidden_size] per direction expected")
        value = np.zeros((1, hidden)) if value is None else np.asarray(
            value, dtype=np.float64)[direction]
        if value.size % hidden or value.size // hidden not in (1, sequences):
            raise self.error(node, f"initial state of shape {list(value.shape)} for "
                             f"{sequences} sequence(s) of hidden_size {hidden}")
        # every sequence's state, so that each step's recurrent product counts S vectors
        value = np.broadcast_to(value.reshape(-1, hidden), (sequences, hidden))
        name = self.add(Constant(self.unique(label), (), shape=(hidden, 1, sequences)))
        self.weights[name] = value.T.reshape(hidden, 1, sequences)
        return name

    def unroll(self, node, op: str, sequence: str, steps: int, reverse: bool, w, r, b,
               hidden: int, h: str, c: str | None, base: str) -> tuple[list[str], str | None]:
        """The layers of one direction; returns h of every step (in processing order) and
        the last c."""
        gates = GATES[op]
        wb, rb = b[:gates * hidden], b[gates * hidden:]
        reset_after = op == "GRU" and int(self.attrs(node).get("linear_before_reset", 0))
        x_bias = wb + rb
        if op == "GRU":                          # the h gate's R bias goes with R·h
            x_bias = np.concatenate([wb[:2 * hidden] + rb[:2 * hidden], wb[2 * hidden:]])
        proj = self.add(Linear(self.unique(f"{base}.input_projection"), (sequence,),
                               out_features=gates * hidden))
        self.weights[proj], self.biases[proj] = w, x_bias

        def layer(cls, stem, inputs, **params):
            return self.add(cls(self.unique(f"{base}.{stem}"), tuple(inputs), **params))

        def channels(source, start, stop, stem):
            return layer(Slice, stem, [source], axis="channels", start=start, stop=stop)

        hs = []
        order = range(steps - 1, -1, -1) if reverse else range(steps)
        for t in order:
            stem = f"t{t}"
            xt = layer(Slice, f"{stem}.x", [proj], axis="height", start=t, stop=t + 1)
            if op == "LSTM":
                rh = layer(Linear, f"{stem}.recurrent", [h], out_features=4 * hidden)
                self.weights[rh] = r
                gates_ = layer(Elementwise, f"{stem}.gates", [xt, rh], function="add")
                sig = layer(Activation, f"{stem}.sigmoid",
                            [channels(gates_, 0, 3 * hidden, f"{stem}.iof")],
                            function="sigmoid")
                cand = layer(Activation, f"{stem}.candidate",
                             [channels(gates_, 3 * hidden, 4 * hidden, f"{stem}.g")],
                             function="tanh")
                i, o, f = (channels(sig, k * hidden, (k + 1) * hidden, f"{stem}.{g}")
                           for k, g in enumerate("iof"))
                kept = layer(Elementwise, f"{stem}.forget", [f, c], function="mul")
                new = layer(Elementwise, f"{stem}.input", [i, cand], function="mul")
                c = layer(Elementwise, f"{stem}.c", [kept, new], function="add")
                squashed = layer(Activation, f"{stem}.tanh_c", [c], function="tanh")
                h = layer(Elementwise, f"{stem}.h", [o, squashed], function="mul")
            else:
                rows = 3 * hidden if reset_after else 2 * hidden
                rh = layer(Linear, f"{stem}.recurrent", [h], out_features=rows)
                self.weights[rh] = r[:rows]
                if reset_after:
                    self.biases[rh] = np.concatenate([np.zeros(2 * hidden), rb[2 * hidden:]])
                zr = layer(Elementwise, f"{stem}.zr_sum",
                           [channels(xt, 0, 2 * hidden, f"{stem}.xzr"),
                            channels(rh, 0, 2 * hidden, f"{stem}.rzr")], function="add")
                zr = layer(Activation, f"{stem}.zr", [zr], function="sigmoid")
                z = channels(zr, 0, hidden, f"{stem}.z")
                reset = channels(zr, hidden, 2 * hidden, f"{stem}.r")
                if reset_after:
                    gated = layer(Elementwise, f"{stem}.reset",
                                  [reset, channels(rh, 2 * hidden, 3 * hidden, f"{stem}.rh")],
                                  function="mul")
                else:
                    rhh = layer(Elementwise, f"{stem}.reset", [reset, h], function="mul")
                    gated = layer(Linear, f"{stem}.recurrent_h", [rhh], out_features=hidden)
                    self.weights[gated] = r[2 * hidden:]
                    self.biases[gated] = rb[2 * hidden:]
                cand = layer(Elementwise, f"{stem}.h_sum",
                             [channels(xt, 2 * hidden, 3 * hidden, f"{stem}.xh"), gated],
                             function="add")
                cand = layer(Activation, f"{stem}.candidate", [cand], function="tanh")
                # h = (1 - z) * candidate + z * h = candidate + z * (h - candidate)
                step = layer(Elementwise, f"{stem}.delta", [h, cand], function="sub")
                step = layer(Elementwise, f"{stem}.update", [z, step], function="mul")
                h = layer(Elementwise, f"{stem}.h", [cand, step], function="add")
            hs.append(h)
        return hs, c

    def recurrent_outputs(self, node, outputs, finals, steps, sequences, hidden, layout,
                          base) -> None:
        """Y [T, D, S, H] (layout 1: [S, T, D, H]), Y_h and Y_c [D, S, H] ([S, D, H]), each
        held as (D·H, T, S) or (D·H, 1, S)."""
        directions = len(outputs)

        def joined(parts, axis, stem):
            if len(parts) == 1:
                return parts[0]
            return self.add(Concat(self.unique(f"{base}.{stem}"), tuple(parts), axis=axis))

        names = list(node.output) + [""] * (3 - len(node.output))
        if names[0]:
            per_direction = [joined(hs, "height", f"y{d}") for d, hs in enumerate(outputs)]
            y = joined(per_direction, "channels", "y")
            shape, perm = (((steps, directions, sequences, hidden), (1, 3, 0, 2))
                           if layout == 0 else
                           ((sequences, steps, directions, hidden), (2, 3, 1, 0)))
            self.put(names[0], y, shape, perm)
        for index, pick in ((1, 0), (2, 1)):
            if not names[index] or finals[0][pick] is None:
                continue
            state = joined([f[pick] for f in finals], "channels", "yh" if pick == 0 else "yc")
            shape, perm = (((directions, sequences, hidden), (0, 2, 1)) if layout == 0
                           else ((sequences, directions, hidden), (1, 2, 0)))
            self.put(names[index], state, shape, perm)
