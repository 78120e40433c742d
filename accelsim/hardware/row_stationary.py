"""Row-stationary (RS) dataflow on a PE array, after Eyeriss (Chen, Emer, Sze, ISCA 2016;
Chen et al., JSSC 52(1) 2017): the mapping, and each processing pass's cycles and accesses at
every level (register files, inter-PE network, global buffer).

Notation (one group of a conv): N images, M filters, C channels, R x S filter, E x F output,
stride U, an input row of W = (F - 1) U + S' values (S' = (S - 1) dilation + 1).

Mapping.
- A *PE set* of R' x e PEs computes an e-row strip of one output plane: PE (i, j) runs the 1-D
  convolution of filter row i over input row j U + i, giving psum row j; psums move up the
  set's column and add (R' = R, or the array's rows when R is larger: the filter rows are then
  folded into passes). E is cut into as few strips as fit the array's columns, of even
  width (as Eyeriss does: AlexNet's 55 output rows in strips of 14, 14, 14 and 13).
- ``floor(rows / R') x floor(cols / e)`` sets fit on the array; they take different filters
  (t of them) and different channels (r), so r t sets work at once.
- In its register file a PE keeps the rows of p filters for q channels (p q S weights), a
  window of q S input values and p psums, for n images in turn.
- A filter row longer than the input scratchpad (S > its entries: ViT's 16-wide patches on
  Eyeriss's 12) is cut into segments of at most S'' taps, as even as possible; each segment
  is a 1-D convolution of its own, over the input row shifted by the taps before it, and its
  passes add into the same psums (as filter-row folds do). Then the formulas below take
  S'' for S and W'' = (F - 1) U + (S'' - 1) dilation + 1 for W, per segment.

A pass: the array works on n images x p t filters x q r channels x one strip x R' filter rows.
The passes run with the channel groups (and filter-row folds and segments) innermost, so a
pass's psums stay in the global buffer until the channels are done; then the filter groups,
the strips and the image groups. Per pass:

    cycles       n p F (q S + a)                  (every PE one MAC per cycle; a = 1 when
                 psums arrive in the pass, from the PE below, another channel set or the
                 buffer: the PE adds each arriving psum to its own with its MAC's adder, a
                 cycle in which it does no MAC; a = 0 otherwise)
    MACs         n m c e F R' S                   (m, c, e: this pass's filters, channels, rows)
    RF           4 per MAC (weight, input and psum read, psum write), plus every value
                 written into a register file: the weights and inputs delivered and the psums
                 received from the PE below
    inter-PE     inputs delivered to each PE that uses them (n c R' e W per filter set), weights
                 broadcast along a set's rows (m c R' S e), psums moved up (n m e F (R' - 1))
                 and between channel sets (n m e F (r - 1))
    buffer       inputs n c ((e - 1) U + R'') W (R'' the rows the strip's window spans), read
                 once per pass and multicast to the filter sets; weights m c R' S; psums of
                 earlier channel groups read back and written (accumulator width); the
                 outputs written once

The mapping (r, t, p, q, n) is the one of least energy x delay at the device's own prices and
bandwidths, among those whose register files hold their rows and whose pass fits the global
buffer (if no pass of the whole array fits, narrower strips and fewer sets, leaving PEs
idle); DRAM traffic follows from the same passes (hardware.systolic: weights that do not fit
are read by every pass, and so is the share of the inputs the buffer cannot hold).

When the layer's input is in DRAM, a mapping may also *keep* the strip's whole window (every
channel and filter row of its input rows, for its n images) in the buffer beside one pass's
psums: the strip's first filter group brings the window from DRAM into the buffer, and the
other filter groups read it from there. The window then crosses the DRAM channel once per
strip instead of once per filter group (Eyeriss's CONV1: 3 channels of 63 rows of 227
values, 86 kB of its 108 kB). The search weighs both.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from accelsim.errors import MappingError

# Eyeriss's scratchpads per PE (JSSC 2017): 12 input, 224 weight and 24 psum entries. A PE's
# register file of ``rf_bytes`` is split in these proportions.
SPAD_SHARES = {"inputs": 12, "weights": 224, "psums": 24}


@dataclass(frozen=True)
class ConvShape:
    """One group of a conv (a linear layer is a 1 x 1 conv over its positions)."""

    images: int
    filters: int
    channels: int
    kernel: tuple[int, int]
    out: tuple[int, int]
    stride: tuple[int, int] = (1, 1)
    dilation: tuple[int, int] = (1, 1)

    @property
    def macs(self) -> int:
        r, s = self.kernel
        return self.images * self.filters * self.channels * self.out[0] * self.out[1] * r * s

    @property
    def row_width(self) -> int:
        """Input values in one input row the strip's PEs read: (F - 1) U + S'."""
        return self.segment_width(self.kernel[1])

    def segment_width(self, taps):
        """Input values one row segment of ``taps`` filter taps reads (an int or an array)."""
        return (self.out[1] - 1) * self.stride[1] + (taps - 1) * self.dilation[1] + 1


@dataclass(frozen=True)
class RsMapping:
    strip: int             # e: output rows per set
    filter_rows: int       # R': filter rows per set (the array's rows at most)
    channel_sets: int      # r
    filter_sets: int       # t
    filters_per_pe: int    # p
    channels_per_pe: int   # q
    images_per_pass: int   # n
    segment: int = 0       # S'': taps of a filter row per pass (0: the whole row)
    keep_inputs: bool = False  # the strip's window of every channel stays in the buffer

    @property
    def sets(self) -> int:
        return self.channel_sets * self.filter_sets

    @property
    def notation(self) -> str:
        """The mapping in the notation of Eyeriss's Table III (JSSC 2017): strip e, filter
        rows R', channel sets r, filter sets t, filters p and channels q per PE, images n per
        pass; S'' the taps of a row segment, and whether the strip's window is kept."""
        text = (f"e={self.strip} R={self.filter_rows} r={self.channel_sets} "
                f"t={self.filter_sets} p={self.filters_per_pe} q={self.channels_per_pe} "
                f"n={self.images_per_pass}")
        return text + (f" S={self.segment}" if self.segment else "") + \
            (" kept" if self.keep_inputs else "")


@dataclass(frozen=True)
class RsCosts:
    """What the mapping search weighs: prices (pJ) per MAC, RF access (of inputs, weights and
    psums), inter-PE move, buffer word read or write and DRAM bit; widths in bits; the bits
    per cycle the network between the buffer and the array and the DRAM channel move; and
    the array's clock per cycle of compute."""

    mac: float
    rf: tuple[float, float, float]
    hop: float
    buffer: float
    dram_bit: float
    operand_bits: int
    accumulator_bits: int
    word_bits: int
    bus_bits: float
    dram_bits_per_cycle: float
    clock: float = 0.0


def spads(rf_bytes: int, operand_bits: int) -> dict[str, int]:
    """Entries of each scratchpad in a PE's ``rf_bytes``, in Eyeriss's proportions."""
    entries = int(rf_bytes) * 8 // int(operand_bits)
    total = sum(SPAD_SHARES.values())
    return {name: max(1, entries * share // total) for name, share in SPAD_SHARES.items()}


def _spans(total: int, size: int) -> np.ndarray:
    count = -(-total // size)
    return np.minimum(size, total - size * np.arange(count, dtype=np.int64))


def passes(shape: ConvShape, mapping: RsMapping) -> dict[str, np.ndarray]:
    """Every pass's cycles and accesses, in execution order (see the module docstring)."""
    r_full, s = shape.kernel
    e_rows, f = shape.out
    u, dil = shape.stride[0], shape.dilation[0]
    m = mapping
    images = _spans(shape.images, m.images_per_pass)
    strips = _spans(e_rows, m.strip)
    filters = _spans(shape.filters, m.filters_per_pe * m.filter_sets)
    channels = _spans(shape.channels, m.channels_per_pe * m.channel_sets)
    rows = _spans(r_full, m.filter_rows)
    segments = _spans(s, min(m.segment or s, s))
    # Loop order, outer to inner: images, strips, filter groups, channel groups, row folds,
    # row segments.
    grid = np.meshgrid(images, strips, filters, channels, rows, segments, indexing="ij")
    n, e, mm, c, rr, ss = (g.ravel() for g in grid)
    inner = channels.size * rows.size * segments.size  # passes accumulating one psum tile
    # each pass's strip ends at this output row
    strip_end = np.cumsum(strips)[(np.arange(n.size) // (filters.size * inner)) % strips.size]
    # The first image group's first strip brings each weight on chip; later ones reuse it.
    fresh = (np.arange(n.size) // (filters.size * inner)) == 0
    # A kept window comes on chip with its strip's first filter group; the others reuse it.
    first_group = (np.arange(n.size) // inner) % filters.size == 0
    index = np.arange(n.size) % inner
    first, last = index == 0, index == inner - 1
    p = -(-mm // m.filter_sets)                        # filters per PE in this pass
    q = -(-c // m.channel_sets)                        # channels per PE
    r_sets = np.minimum(m.channel_sets, c)
    # psums arrive (and take an adder cycle each) from the PE below, another channel set or,
    # after the first pass of a psum tile, the buffer
    adds = ((rr > 1) | (r_sets > 1) | ~first).astype(np.int64)
    width = shape.segment_width(ss)
    span = (rr - 1) * dil + 1                          # input rows one filter row fold spans
    macs = n * mm * c * e * f * rr * ss
    weights = mm * c * rr * ss
    inputs = n * c * ((e - 1) * u + span) * width
    outputs = n * mm * e * f
    in_deliveries = n * c * rr * e * width * np.minimum(m.filter_sets, mm)
    w_deliveries = weights * e
    psum_moves = outputs * (rr - 1) + outputs * (r_sets - 1)
    # by operand: a read per MAC and a write per value delivered; psums read and written per
    # MAC and written once more when they arrive from the PE below
    rf = {"rf_inputs": macs + in_deliveries, "rf_weights": macs + w_deliveries,
          "rf_psums": 2 * macs + psum_moves}
    hops = {"hop_inputs": in_deliveries, "hop_weights": w_deliveries, "hop_psums": psum_moves}
    return {
        "cycles": n * p * f * (q * ss + adds),
        "macs": macs,
        **rf, **hops,
        "rf_accesses": sum(rf.values()),
        "pe_hops": sum(hops.values()),
        "input_reads": inputs,
        "weight_reads": weights,
        "psum_reads": np.where(first, 0, outputs),
        "psum_writes": np.where(last, 0, outputs),
        "output_writes": np.where(last, outputs, 0),
        "new_weights": np.where(fresh, weights, 0),
        "new_inputs": np.where(first_group, inputs, 0) if m.keep_inputs else inputs,
        "first_inputs": np.where(first_group, inputs, 0) if m.keep_inputs else inputs,
        # output vectors (rows of F) of one image: a pass reads the inputs of its strip's, and
        # the strip's outputs are done with the last pass of its last filter group
        "passes": np.ones(n.size, dtype=np.int64),
        "reach": strip_end * f,
        "completes": np.where(last & ((np.arange(n.size) // inner) % filters.size
                                      == filters.size - 1), strip_end * f, 0),
    }


class _Cut:
    """``total`` cut into pieces of ``size`` (the last one smaller), with the sums the closed
    forms need, in plain integers."""

    __slots__ = ("count", "full", "rest", "size", "total")

    def __init__(self, total: int, size: int):
        self.total, self.size = total, size
        self.full, self.rest = divmod(total, size)
        self.count = self.full + (self.rest > 0)

    def sum_ceil(self, by: int) -> int:
        """Sum over the pieces of ceil(piece / by)."""
        return self.full * -(-self.size // by) + (-(-self.rest // by) if self.rest else 0)

    def sum_min(self, cap: int) -> int:
        """Sum over the pieces of min(piece, cap)."""
        return self.full * min(self.size, cap) + (min(self.rest, cap) if self.rest else 0)


def totals(shape: ConvShape, mapping: RsMapping) -> dict[str, int]:
    """The sums of passes() over all passes, in closed form (the mapping search's inner loop:
    every figure is a product of sums over the six pass dimensions)."""
    r_full, s = shape.kernel
    e_rows, f = shape.out
    m = mapping
    images = shape.images
    strips = _Cut(e_rows, m.strip)
    filters = _Cut(shape.filters, m.filters_per_pe * m.filter_sets)
    channels = _Cut(shape.channels, m.channels_per_pe * m.channel_sets)
    rows = _Cut(r_full, m.filter_rows)
    segments = _Cut(s, min(m.segment or s, s))
    g_images = -(-images // m.images_per_pass)
    n_m, n_c = shape.filters, shape.channels
    outputs = images * n_m * e_rows * f
    # Sum over strips and row folds of the input rows a pass reads, (e - 1) U + (R' - 1) d + 1.
    input_rows = (rows.count * shape.stride[0] * (e_rows - strips.count)
                  + strips.count * (shape.dilation[0] * (r_full - rows.count) + rows.count))
    # Sum over the row segments of the input values each reads, (F - 1) U + (S'' - 1) d + 1.
    width = (segments.count * ((f - 1) * shape.stride[1] + 1)
             + shape.dilation[1] * (s - segments.count))
    in_deliveries = images * n_c * r_full * e_rows * width * filters.sum_min(m.filter_sets)
    w_deliveries = n_m * n_c * r_full * s * e_rows * g_images
    psum_moves = segments.count * (
        outputs * channels.count * (r_full - rows.count)
        + outputs * rows.count * (channels.sum_min(m.channel_sets) - channels.count))
    macs = shape.macs
    tile = channels.count * rows.count * segments.count
    # Passes whose PEs add arriving psums: all but a psum tile's first pass, unless that pass
    # has several filter rows or channel sets (its first pieces: min(R', R) rows and
    # min(q r, C) channels, over min(r, C) sets).
    quiet = int(min(m.filter_rows, r_full) == 1 and min(m.channel_sets, n_c) == 1)
    per_column = images * f * filters.sum_ceil(m.filter_sets) * strips.count
    return {
        "cycles": per_column * (s * channels.sum_ceil(m.channel_sets) * rows.count
                                + tile - quiet),
        "macs": macs,
        "rf_inputs": macs + in_deliveries, "rf_weights": macs + w_deliveries,
        "rf_psums": 2 * macs + psum_moves,
        "pe_hops": in_deliveries + w_deliveries + psum_moves,
        "input_reads": images * n_c * width * filters.count * input_rows,
        "new_inputs": images * n_c * width * input_rows * (1 if m.keep_inputs
                                                            else filters.count),
        "weight_reads": n_m * n_c * r_full * s * g_images * strips.count,
        "psum_reads": outputs * (tile - 1),
        "psum_writes": outputs * (tile - 1),
        "output_writes": outputs,
        "passes": g_images * strips.count * filters.count * tile,
    }


def _dram_inputs(figures: dict[str, int], mapping: RsMapping, inputs_in_dram: float):
    """(input values read from DRAM, of them written to the buffer): the share
    ``inputs_in_dram`` of every pass's inputs, or of each kept window's once, which the buffer
    then holds for the other filter groups."""
    fetched = inputs_in_dram * figures["new_inputs"]
    return fetched, fetched if mapping.keep_inputs else 0.0


def _energy(figures: dict[str, int], mapping: RsMapping, costs: RsCosts, weights_fit: bool,
            inputs_in_dram: float) -> float:
    """Energy of a mapping's totals at ``costs`` (buffer words without per-pass rounding).
    Weights that do not fit are read from DRAM by every pass, and so is the share
    ``inputs_in_dram`` of each pass's inputs (of each window once, if kept). The array's
    clock is paid in every compute cycle."""
    bits, acc = costs.operand_bits, costs.accumulator_bits
    streamed, staged = _dram_inputs(figures, mapping, inputs_in_dram)
    words = ((figures["input_reads"] + staged + figures["weight_reads"]
              + figures["output_writes"]) * bits
             + (figures["psum_reads"] + figures["psum_writes"]) * acc) / costs.word_bits
    if not weights_fit:
        streamed += figures["weight_reads"]
    dram = streamed * bits * costs.dram_bit
    rf_inputs, rf_weights, rf_psums = costs.rf
    return (costs.mac * figures["macs"] + rf_inputs * figures["rf_inputs"]
            + rf_weights * figures["rf_weights"] + rf_psums * figures["rf_psums"]
            + costs.hop * figures["pe_hops"] + costs.buffer * words + dram
            + costs.clock * figures["cycles"])


def _cycles(figures: dict[str, int], mapping: RsMapping, costs: RsCosts, weights_fit: bool,
            inputs_in_dram: float) -> float:
    """A mapping's cycles if the array, the buffer network and the DRAM channel overlap: the
    slowest of the three, plus the first pass's operands, which arrive before any pass can
    compute (one pass's share of the network's or the DRAM channel's time, whichever is
    longer). Without that fill a mapping of one long pass looked as fast as one of many that
    overlap: a 128 x 256 pointwise layer on 64 positions as one row of 64 (a single pass on
    eyeriss) was estimated at its 14,976 compute cycles and took 36,993 in the event
    simulation, waiting for its 64 kB of weights from DRAM."""
    bits, acc = costs.operand_bits, costs.accumulator_bits
    streamed, staged = _dram_inputs(figures, mapping, inputs_in_dram)
    network = ((figures["input_reads"] + staged + figures["weight_reads"]
                + figures["output_writes"]) * bits
               + (figures["psum_reads"] + figures["psum_writes"]) * acc)
    if not weights_fit:
        streamed += figures["weight_reads"]
    moved = max(network / costs.bus_bits, streamed * bits / costs.dram_bits_per_cycle)
    return max(figures["cycles"], moved) + moved / figures["passes"]


def candidates(shape: ConvShape, *, rows: int, cols: int, spad: dict[str, int],
               buffer_bytes: float, operand_bits: int, accumulator_bits: int,
               keep: bool = False, relaxed: bool = False):
    """Mappings that keep every set of the array busy while work remains (t = as many filter
    sets as fit beside r channel sets) on strips that keep the most PEs busy, whose register
    files hold their rows: for each number of images per pass, the most filters per PE whose
    pass fits the global buffer (more filters per PE only saves input reads). With ``keep``
    (inputs come from DRAM), also the most filters per PE whose pass fits beside the strip's
    whole window, every channel and filter row of it, kept for all filter groups.

    ``relaxed``: narrower strips (even cuts of the output height) and fewer channel and
    filter sets too (powers of two and their limits), leaving PEs idle, as a chip with a
    small buffer must and a wide array may do best to."""
    r_full, s = shape.kernel
    e_rows, f = shape.out
    filter_rows = min(r_full, rows)
    span = (filter_rows - 1) * shape.dilation[0] + 1
    full_span = (r_full - 1) * shape.dilation[0] + 1
    taps = _segment_taps(s, spad["inputs"])
    segment = taps if taps < s else 0
    width = shape.segment_width(taps)
    # Eyeriss's physical mapping: the strip is the whole output height when it fits the
    # array's columns, else the narrowest even cut into as few strips as possible.
    ideal = -(-e_rows // -(-e_rows // cols))
    # relaxed: even cuts of the output height (as the ideal strip is), and numbers of channel
    # and filter sets in powers of two and their limits
    cuts = {-(-e_rows // k) for k in range(1, e_rows + 1)} if relaxed else {ideal}
    strips = sorted((e for e in cuts if e <= ideal), reverse=True)
    for e in strips:
        sets = (rows // filter_rows) * (cols // e)
        pairs = [(r, t) for r in (_powers(min(sets, shape.channels)) if relaxed
                                  else range(1, min(sets, shape.channels) + 1))
                 for t in (_powers(min(sets // r, shape.filters)) if relaxed
                           else [min(sets // r, shape.filters)])]
        for r, t in pairs:
            for q in _powers(min(spad["inputs"] // taps, -(-shape.channels // r))):
                cap = min(spad["psums"], spad["weights"] // (q * taps), -(-shape.filters // t))
                for n in reversed(_powers(shape.images)):
                    # The most filters per PE whose pass (inputs and psums) fits the buffer,
                    # and with keep the most whose psums fit beside the whole window.
                    held = [(n * q * r * ((e - 1) * shape.stride[0] + span) * width, False)]
                    if keep:
                        held.append((n * shape.channels * ((e - 1) * shape.stride[0]
                                                           + full_span) * shape.row_width, True))
                    for held_inputs, kept in held:
                        for p in reversed(_powers(cap)):
                            psums = n * p * t * e * f * accumulator_bits
                            if (held_inputs * operand_bits + psums) / 8 <= buffer_bytes:
                                yield RsMapping(e, filter_rows, r, t, p, q, n, segment, kept)
                                break


def _segment_taps(taps: int, input_entries: int) -> int:
    """Taps per segment of a filter row of ``taps`` on a PE with ``input_entries`` input
    scratchpad entries: the whole row if it fits, else segments as even as possible."""
    return -(-taps // -(-taps // input_entries))


def _powers(limit: int) -> list[int]:
    """1, 2, 4, ... below ``limit``, and ``limit`` itself."""
    if limit < 1:
        return []
    out, k = {limit}, 1
    while k < limit:
        out.add(k)
        k *= 2
    return sorted(out)


def _search(shape: ConvShape, *, rows: int, cols: int, spad: dict[str, int],
            buffer_bytes: float, costs: RsCosts, weights_fit: bool,
            inputs_in_dram: float) -> tuple[tuple[float, float] | None, RsMapping | None]:
    """(key, mapping) of least energy x delay among candidates(), or (None, None)."""
    best, best_key = None, None
    for relaxed in (False, True):
        for mapping in candidates(shape, rows=rows, cols=cols, spad=spad,
                                  buffer_bytes=buffer_bytes, operand_bits=costs.operand_bits,
                                  accumulator_bits=costs.accumulator_bits,
                                  keep=inputs_in_dram > 0, relaxed=relaxed):
            figures = totals(shape, mapping)
            cycles = _cycles(figures, mapping, costs, weights_fit, inputs_in_dram)
            energy = _energy(figures, mapping, costs, weights_fit, inputs_in_dram)
            key = (energy * cycles, cycles)
            if best_key is None or key < best_key:
                best, best_key = mapping, key
    return best_key, best


def layouts(shape: ConvShape) -> list[ConvShape]:
    """The shape, and for a pointwise layer (a 1 x 1 filter at stride 1, or a linear layer)
    whose rows hold one position each (a linear layer over tokens arrives as T rows of 1)
    every other arrangement of its positions in rows: E' rows of F' for each divisor F' of
    the E positions. A pointwise layer's positions are independent, so any arrangement
    computes the same outputs; row-major order keeps each strip's positions contiguous (a
    strip of e rows covers positions up to its end row times F'). The given arrangement comes
    first.

    Layers whose rows already hold several positions keep them: searching every arrangement
    of those too made MobileNetV2 on eyeriss 2.9 % slower (some layers' busy time +70 %, the
    search's overlap estimate of their cycles too low) and its planning 9x slower."""
    e_rows, f = shape.out
    if shape.kernel != (1, 1) or shape.stride != (1, 1) or f != 1:
        return [shape]
    positions = e_rows * f
    others = [ConvShape(shape.images, shape.filters, shape.channels, (1, 1),
                        (positions // width, width))
              for width in range(1, positions + 1) if positions % width == 0 and width != f]
    return [shape, *others]


def best_mapping(shape: ConvShape, *, rows: int, cols: int, spad: dict[str, int],
                 buffer_bytes: float, costs: RsCosts, weights_fit: bool,
                 inputs_in_dram: float = 0.0) -> tuple[ConvShape, RsMapping]:
    """The arrangement of the layer's positions (layouts(): only a pointwise layer has more
    than its own) and the mapping of least energy x delay among candidates(): energy with the
    DRAM reads (_energy), delay the slowest of the array, the buffer network and DRAM
    (_cycles). Energy alone would trade a few DRAM reads for many psum round trips that the
    network cannot carry in time. Mappings that leave PEs idle (narrower strips, fewer sets)
    are searched too, after those that keep every PE set busy (which win ties): on a larger
    array, keeping every set busy can overload the buffer network, and without them a wider
    array came out slower and costlier than a narrow one (eyeriss, ResNet-50: 4x the columns,
    +31 % cycles and +32 % energy). A linear layer over 128 tokens arrives as 128 rows of one
    position, where each PE's row holds one output; the same layer as 8 rows of 16 ran 2.6x
    faster on eyeriss (a 128 x 256 pointwise conv on 64 positions: 104,698 cycles as 64 x 1
    against 39,808 as 8 x 8), so every arrangement is searched (ties keep the given one)."""
    best, best_key, best_shape = None, None, shape
    for layout in layouts(shape):
        key, mapping = _search(layout, rows=rows, cols=cols, spad=spad,
                               buffer_bytes=buffer_bytes, costs=costs, weights_fit=weights_fit,
                               inputs_in_dram=inputs_in_dram)
        if key is not None and (best_key is None or key < best_key):
            best, best_key, best_shape = mapping, key, layout
    if best is None:
        r_full, s = shape.kernel
        taps = _segment_taps(s, spad["inputs"])
        what = f"row stationary: no mapping of a {r_full}x{s} filter fits: "
        if spad["weights"] < taps:
            raise MappingError(
                what + f"a PE's {spad['weights']} weight entries cannot hold a filter row "
                f"segment of {taps} taps (the {spad['inputs']} input entries' worth); give the "
                "PEs larger register files (systolic.rf_bytes)")
        span = (min(r_full, rows) - 1) * shape.dilation[0] + 1
        width = shape.segment_width(taps)
        need = (span * width * costs.operand_bits + shape.out[1] * costs.accumulator_bits) / 8
        raise MappingError(
            what + f"the smallest pass (one output row: {span} input row(s) of {width} values "
            f"and {shape.out[1]} psums, {need:,.0f} bytes) does not fit the global buffer "
            f"({buffer_bytes:,.0f} bytes); give the chip a larger global_buffer")
    return best_shape, best
