"""The 1x1 convolution of kept coefficient vectors: a PE x SIMD array of hard multipliers
(golden: ``golden.pointwise_mac``)."""

from dataclasses import dataclass

import numpy as np
from amaranth.hdl import Cat, Const, Module, Mux, Signal, signed
from amaranth.lib import stream, wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from ..spec.checks import check_bits, check_positive_int, set_validated
from ..spec.fixed_point import signed_width, symmetric_limit
from .frame_beat import frame_beat
from .layer_tables import check_layers, layer_read_address, layer_stride, stacked_init
from .multiplier import Multiplier
from .output_queue import OutputQueue
from .pipeline import RELAY, delay, sum_tree, sum_tree_depth, wrapping_counter
from .spec_component import SpecComponent

__all__ = ["PointwiseMACSpec", "PointwiseMAC"]

#: Cycles from a step to the multiplier operands: for the weights a relay of the address per PE, the
#: memory's read register and one in the fabric; for the codes a register, then one relay per PE.
OPERAND_DEPTH = 3
#: Registers from a hard multiplier to its PE's adder tree: the multipliers lie in rows across the device.
PRODUCT_RELAYS = 2
#: Hard multipliers up to which each accumulator takes the two flags that steer it through one register
#: of its own. A larger array spreads over the device's rows of multiplier sites, and its accumulators
#: take them through two: in a 128-multiplier array the flag clearing the addend crossed 2.2 ns of route.
SPREAD_MULTIPLIERS = 64


def _check_lanes(lanes, channels, name, default):
    if lanes is None:
        return default
    lanes = check_positive_int(lanes, name)
    if channels % lanes:
        raise ValueError(f"{name}: must divide the channel count ({channels}), got {lanes}")
    return lanes


def _narrowest_divisor(channels, beats):
    """Fewest lanes dividing ``channels`` that carry a vector in at most ``beats`` beats."""
    return next(d for d in range(1, channels + 1) if channels % d == 0 and channels // d <= beats)


@dataclass(frozen=True, eq=False)
class PointwiseMACSpec:
    """Parameters of a :class:`PointwiseMAC` (see there), validated, and the facts derived from them."""

    channels_in: int
    channels_out: int
    pe: int
    simd: int
    weights: np.ndarray
    bit_a: int = 8
    bit_w: int = 8
    lanes_in: int | None = None
    lanes_out: int | None = None
    writable: bool = False
    layers: int = 1

    def __post_init__(self):
        set_validated(self, **{name: check_positive_int(getattr(self, name), name)
                               for name in ("channels_in", "channels_out", "pe", "simd")})
        set_validated(self, layers=check_layers(self.layers))
        # A row or column of multipliers beyond the channels would never have work.
        for name, limit, what in (("pe", self.channels_out, "channels_out"), ("simd", self.channels_in, "channels_in")):
            if getattr(self, name) > limit:
                raise ValueError(f"{name}: must lie in [1, {what} ({limit})], got {getattr(self, name)}")
        set_validated(self, bit_a=check_bits(self.bit_a, "bit_a"), bit_w=check_bits(self.bit_w, "bit_w"))
        weights = self._check_weights(self.weights, self.layers)
        weights.flags.writeable = False  # the spec is immutable
        set_validated(self, weights=weights)
        period = max(self.folds, 2)
        set_validated(self, lanes_in=_check_lanes(self.lanes_in, self.channels_in, "lanes_in",
                                                  _narrowest_divisor(self.channels_in, period - 1)))
        set_validated(self, lanes_out=_check_lanes(self.lanes_out, self.channels_out, "lanes_out",
                                                   self.pe if self.channels_out % self.pe == 0 else
                                                   _narrowest_divisor(self.channels_out, period - 1)))
        if not isinstance(self.writable, bool):
            raise TypeError(f"writable: must be a bool, got {type(self.writable).__name__}")
        if self.writable and self.layers > 1:
            raise ValueError(f"writable: loads replace one layer's weights; an array holding {self.layers} layers "
                             "is not writable")

    @property
    def simd_folds(self):
        """Steps per output group: ``ceil(channels_in / simd)``."""
        return -(-self.channels_in // self.simd)

    @property
    def pe_folds(self):
        """Output groups per vector: ``ceil(channels_out / pe)``."""
        return -(-self.channels_out // self.pe)

    @property
    def folds(self):
        """Steps of the array per vector: ``simd_folds * pe_folds`` (the cycle bound per kept position)."""
        return self.simd_folds * self.pe_folds

    @property
    def input_beats(self):
        """Beats of one input vector."""
        return self.channels_in // self.lanes_in

    @property
    def output_beats(self):
        """Beats of one output vector."""
        return self.channels_out // self.lanes_out

    @property
    def direct_output(self):
        """Whether output groups are output beats (``lanes_out == pe`` dividing ``channels_out``): no output buffers."""
        return self.lanes_out == self.pe and self.channels_out % self.pe == 0

    @property
    def cycles_per_vector(self):
        """Cycles per vector with codes always available and the sink ready.

        The slowest of the array (``folds``), the input (a beat per cycle and
        one idle cycle), the output (a beat per cycle, and one idle cycle
        unless :attr:`direct_output`) and the hand-over between the input's two
        buffers (2).
        """
        output = self.output_beats if self.direct_output else self.output_beats + 1
        return max(self.folds, self.input_beats + 1, output, 2)

    @property
    def acc_bits(self):
        """Width of a sum: ``channels_in`` products of two symmetric codes."""
        bound = self.channels_in * symmetric_limit(self.bit_a) * symmetric_limit(self.bit_w)
        return signed_width(-bound, bound)

    @property
    def product_latency(self):
        """Cycles of one hard multiplier."""
        return Multiplier.latency_for(signed(self.bit_a), signed(self.bit_w))

    @property
    def sum_latency(self):
        """Cycles from a step to its products' sum at the accumulator: operands, product, relays, adder tree,
        a relay."""
        return OPERAND_DEPTH + self.product_latency + PRODUCT_RELAYS + sum_tree_depth(self.simd) + 1

    @property
    def pipeline_latency(self):
        """Cycles from a step to its sums entering the output queue: the sum, then the accumulator."""
        return self.sum_latency + 1

    @property
    def hard_multipliers(self):
        """Multipliers of the array: ``pe * simd``."""
        return self.pe * self.simd

    def _check_weights(self, weights, layers=1):
        array = np.asarray(weights)
        if array.dtype == np.bool_ or not np.issubdtype(array.dtype, np.integer):
            raise TypeError(f"weights: must hold integers, got dtype {array.dtype}")
        shape = (layers * self.channels_out, self.channels_in)
        if array.shape != shape:
            rows = "channels_out" if layers == 1 else f"{layers} layers x channels_out"
            raise ValueError(f"weights: must have shape {shape} ({rows}, channels_in), got {array.shape}")
        limit = symmetric_limit(self.bit_w)
        if array.size and (array.min() < -limit or array.max() > limit):
            raise ValueError(f"weights: must lie in [-{limit}, {limit}] for bit_w={self.bit_w}, "
                             f"got [{array.min()}, {array.max()}]")
        return array.astype(np.int64)  # a copy: the caller's array stays theirs

    def layer_weights(self, layer):
        """The weights of one layer, ``(channels_out, channels_in)``."""
        return self.weights[layer * self.channels_out:(layer + 1) * self.channels_out]

    def weight_words(self, pe, layer=0):
        """Initial contents of PE ``pe``'s weight memory for ``layer``: one word of ``simd`` weights per fold,
        LSB first."""
        words = []
        weights = self.layer_weights(layer)
        for fold in range(self.folds):
            out_fold, in_fold = divmod(fold, self.simd_folds)
            row = out_fold * self.pe + pe
            word = 0
            for lane in range(self.simd):
                column = in_fold * self.simd + lane
                if row < self.channels_out and column < self.channels_in:
                    word |= (int(weights[row, column]) & ((1 << self.bit_w) - 1)) << (lane * self.bit_w)
            words.append(word)
        return words

    def load_frame(self, weights):
        """The frame a ``load`` stream carries for ``weights``: shape ``(simd_folds * simd, 1, channels_out)``."""
        weights = self._check_weights(weights)
        padded = np.zeros((self.channels_out, self.simd_folds * self.simd), dtype=np.int64)
        padded[:, :self.channels_in] = weights
        return padded.T[:, None, :]


class PointwiseMAC(SpecComponent):
    """``sums[o] = sum_c weights[o, c] * codes[c]`` for every kept vector, on ``pe x simd`` hard multipliers.

    Each clock the array multiplies ``simd`` input channels by the weights of
    ``pe`` output channels, so a vector takes ``folds = ceil(C_in / simd) *
    ceil(C_out / pe)`` cycles: for each group of ``pe`` outputs (a PE fold),
    ``ceil(C_in / simd)`` steps (SIMD folds) whose products are summed (a
    registered adder tree per PE) and accumulated. Vectors arrive ``lanes_in``
    codes per beat into a fill buffer, and wait in a second one while the
    array works on the previous vector (held in a register that rotates by
    ``simd`` codes each step, so no multiplexer picks the fold). A vector moves
    up to wait only when the :class:`~wccgen.hw.output_queue.OutputQueue`
    behind the array has room for all its results (and those still to come
    from the array's vector), and once in the array it runs without a stall. Results leave from that
    queue, a PE's sums per beat, when ``lanes_out == pe`` divides
    ``channels_out`` (the default then); otherwise they gather into a vector
    and leave ``lanes_out`` sums per beat from a second buffer. With codes always
    available and the sink ready the array never idles between vectors:
    ``cycles_per_vector`` per vector.

    Weights live in one memory per PE, a word of ``simd`` weights per fold,
    initialized from ``weights``. With
    ``writable`` a ``load`` stream replaces them at run time: the weight
    matrix row by row, ``simd`` weights per beat, each row zero-padded to
    ``ceil(C_in / simd) * simd`` (the beats of a ``(C_in padded) x 1 x C_out``
    frame). A load waits until every vector accepted before it has been
    multiplied, and vectors wait while it runs; those after it use the new
    weights. Weights loaded at run time survive a reset.

    A frame is any number of vectors (the kept positions of one activation
    frame); ``first`` / ``last`` of the input beats carry over to the output.

    Parameters
    ----------
    channels_in, channels_out : int
    pe, simd : int
        Output and input channels multiplied per clock; any positive value
        (folds that pass the channel count multiply zeros).
    weights : array_like of int, shape (channels_out, channels_in)
        Symmetric ``bit_w``-bit weights.
    bit_a, bit_w : int
        Code and weight widths.
    lanes_in, lanes_out : int, optional
        Codes per input beat and sums per output beat, divisors of the channel
        counts. By default ``lanes_out`` is ``pe`` when that divides
        ``channels_out``, and otherwise, like ``lanes_in``, the narrowest that
        keeps up with the array.
    writable : bool
        Add the ``load`` stream.
    layers : int
        Layers whose weights the array holds (``weights`` then stacks them,
        ``(layers * channels_out, channels_in)``); with more than one the
        ``layer`` input chooses (see :mod:`~wccgen.hw.layer_tables`). Such an
        array is not writable.

    Attributes
    ----------
    codes : In(stream.Signature(frame_beat(bit_a, lanes_in)))
    sums : Out(stream.Signature(frame_beat(acc_bits, lanes_out)))
    load : In(stream.Signature(frame_beat(bit_w, simd))), with ``writable`` only
    layer : In(range(layers)), with several layers only
    """

    Spec = PointwiseMACSpec

    @classmethod
    def members(cls, spec):
        members = {
            "codes": In(stream.Signature(frame_beat(spec.bit_a, spec.lanes_in))),
            "sums": Out(stream.Signature(frame_beat(spec.acc_bits, spec.lanes_out))),
        }
        if spec.writable:
            members["load"] = In(stream.Signature(frame_beat(spec.bit_w, spec.simd)))
        if spec.layers > 1:
            members["layer"] = In(range(spec.layers))
        return members

    # -- hardware -----------------------------------------------------------
    def elaborate(self, platform):
        m = Module()
        a_bits, w_bits, acc_bits = self.bit_a, self.bit_w, self.acc_bits
        pe, simd = self.pe, self.simd
        entry = frame_beat(acc_bits, pe)
        # A vector moves up to wait for the array only with room for all its
        # output groups and those the array's vector has still to issue (and
        # one issued in that cycle, and one more as the move is decided a
        # cycle ahead); then it runs to its end: the array never stalls, and
        # no enable reaches its registers.
        m.submodules.queue = queue = OutputQueue(entry, self.pipeline_latency, burst=2 * self.pe_folds + 2)

        # -- fill buffer: a vector's codes shift in from the top, beat by beat --
        # A complete vector moves on to `next`, where it waits for the array.
        # No decision about the array reaches the input's `ready`, and none
        # about the input reaches the array's registers.
        fill = Signal(self.channels_in * a_bits, name="fill")
        fill_full = Signal(name="fill_full")
        fill_started = Signal(name="fill_started")  # beats of an incomplete vector are in
        fill_first, fill_last = Signal(name="fill_first"), Signal(name="fill_last")
        waiting = Signal(self.channels_in * a_bits, name="next")
        waiting_valid = Signal(name="next_valid")
        waiting_first, waiting_last = Signal(name="next_first"), Signal(name="next_last")
        promote = Signal(name="promote")  # fill -> next, a register
        accept = Signal(name="accept")
        handoff = Signal(name="handoff")  # next -> the array
        loading = Signal(name="loading")
        load_waiting = Const(0) if not self.writable else self.load.valid
        # An accepted beat lands in the fill buffer a cycle later, from a
        # register: the buffer's enable is a flip-flop, not the input's
        # `valid` through the `ready` logic.
        landing = Signal(name="landing")
        landing_data = Signal(self.lanes_in * a_bits, name="landing_data")
        # A full buffer moves on once its last beat has landed, with `next`
        # free, no load running and room in the queue. Decided a cycle ahead
        # (it fans out to every bit of `next`): a buffer full now and not
        # moving is still full and landed next cycle (it takes no beat), no
        # weight write can then be pending (a full buffer holds loads off),
        # and `next` is then free unless it holds a vector not handed off now.
        promote_next = fill_full & ~promote & ~(waiting_valid & ~handoff) & ~loading & queue.room
        m.d.sync += promote.eq(promote_next)
        # The buffer takes a beat when it is not full (or moves on now) and no
        # load runs: a register as well, set from the next values of those
        # terms, so the input's `ready` and the buffer's counters hang off
        # flip-flops beside them rather than off `promote`, which lies by
        # the wide `next` register it loads.
        input_open = Signal(name="input_open", init=1)
        loading_next = Signal(name="loading_next")
        m.d.comb += [
            self.codes.ready.eq(input_open & ~(load_waiting & ~fill_started)),
            accept.eq(self.codes.valid & self.codes.ready),
        ]
        beat = self.codes.payload
        m.d.sync += [landing.eq(accept), landing_data.eq(beat.data)]
        with m.If(landing):
            # (A promotion in the same cycle takes the buffer's old contents.)
            m.d.sync += fill.eq(Cat(fill[self.lanes_in * a_bits:], landing_data))
        _, beat_completes = wrapping_counter(m, accept, self.input_beats, "fill_count")
        fill_full_next = Mux(accept, beat_completes, fill_full & ~promote)
        m.d.sync += input_open.eq((~fill_full_next | promote_next) & ~loading_next)
        with m.If(accept):
            m.d.sync += [fill_started.eq(~beat_completes), fill_full.eq(beat_completes)]
            with m.If(~fill_started):
                m.d.sync += fill_first.eq(beat.first)
            with m.If(beat_completes):
                m.d.sync += fill_last.eq(beat.last)
        with m.Elif(promote):
            m.d.sync += fill_full.eq(0)
        with m.If(promote):
            m.d.sync += [waiting.eq(fill), waiting_valid.eq(1), waiting_first.eq(fill_first),
                         waiting_last.eq(fill_last)]
        with m.Elif(handoff):
            m.d.sync += waiting_valid.eq(0)

        # -- the array's vector: rotates by `simd` codes per step -------------
        work = Signal(self.simd_folds * simd * a_bits, name="work")
        work_valid = Signal(name="work_valid")
        work_first, work_last = Signal(name="work_first"), Signal(name="work_last")
        step = work_valid
        fold, fold_last, fold_last_next = wrapping_counter(m, step, self.folds, "fold", next_last=True)
        simd_fold, simd_fold_last = wrapping_counter(m, step, self.simd_folds, "simd_fold")
        # The hand-off is a register, decided a cycle ahead from the next
        # values of its terms: it fans out to every bit of the vector register.
        waiting_next = promote | (waiting_valid & ~handoff)
        work_next = handoff | (work_valid & ~fold_last)
        m.d.sync += handoff.eq(waiting_next & (~work_next | fold_last_next))
        # The vector rotates every cycle (harmless while idle), so each bit is one multiplexer.
        m.d.sync += work.eq(Mux(handoff, waiting, Cat(work[simd * a_bits:], work[:simd * a_bits])))
        with m.If(handoff):
            m.d.sync += [work_valid.eq(1), work_first.eq(waiting_first), work_last.eq(waiting_last)]
        with m.Elif(step & fold_last):
            m.d.sync += work_valid.eq(0)

        # -- weights: one memory per PE, read at the step's fold ----------------
        weights = []
        for lane in range(pe):
            if self.layers == 1:
                memory = Memory(shape=simd * w_bits, depth=self.folds, init=self.weight_words(lane))
            else:  # each layer's words at a power-of-two stride: the layer is the address's high bits
                memory = Memory(shape=simd * w_bits, depth=self.layers * layer_stride(self.folds),
                                init=stacked_init([self.weight_words(lane, layer) for layer in range(self.layers)],
                                                  self.folds))
            m.submodules[f"weights{lane}"] = memory
            read = memory.read_port()
            # Each memory gets its own copy of the address, near it.
            address = Signal.like(fold, name=f"fold_relay_{lane}", reset_less=True, attrs=RELAY)
            m.d.sync += address.eq(fold)
            m.d.comb += read.addr.eq(layer_read_address(m, self.layer if self.layers > 1 else None, address,
                                                         self.folds, f"layer_relay_{lane}"))
            weights.append(delay(m, read.data, OPERAND_DEPTH - 2, f"weights{lane}"))
        if self.writable:
            self._load_port(m, [m.submodules[f"weights{lane}"] for lane in range(pe)],
                            work_valid | waiting_valid | fill_full | fill_started | landing, loading, loading_next)

        # -- products, per-PE adder trees, accumulators --------------------------
        codes = delay(m, work[:simd * a_bits], OPERAND_DEPTH - 1, "codes")
        flags = {"valid": step, "sum_first": step & (simd_fold == 0), "sum_last": step & simd_fold_last,
                 "frame_first": work_first & (fold == 0), "frame_last": work_last & fold_last}
        at_sum = {name: delay(m, flags[name], self.sum_latency, f"mac_{name}")
                  for name in ("sum_first", "sum_last", "frame_first", "frame_last")}
        steer_relays = 1 if self.hard_multipliers <= SPREAD_MULTIPLIERS else 2
        before_sum = {name: delay(m, flags[name], self.sum_latency - steer_relays, f"mac_{name}_early")
                      for name in ("valid", "sum_first")}
        sums = []
        for lane in range(pe):
            # The multipliers spread over the device: each PE gets its own copy of the codes.
            # (Without a reset: a reset would put a shared gate in front of all the copies.)
            pe_codes = Signal.like(codes, name=f"codes_relay_{lane}", reset_less=True, attrs=RELAY)
            m.d.sync += pe_codes.eq(codes)
            products = []
            for s in range(simd):
                mul = Multiplier(signed(a_bits), signed(w_bits))
                m.submodules[f"mul{lane}_{s}"] = mul
                m.d.comb += [mul.a.eq(pe_codes[s * a_bits:(s + 1) * a_bits].as_signed()),
                             mul.b.eq(weights[lane][s * w_bits:(s + 1) * w_bits].as_signed())]
                products.append(delay(m, mul.p[:a_bits + w_bits].as_signed(), PRODUCT_RELAYS, f"product{lane}_{s}"))
            # The tree's sum is relayed too, to the accumulator.
            total = delay(m, sum_tree(m, products, signed(acc_bits), f"tree{lane}_"), 1, f"total{lane}")
            acc = Signal(signed(acc_bits), name=f"acc{lane}")
            # The accumulators lie apart: each takes its own copies of the two flags that steer it.
            if steer_relays == 1:  # (named as when the smaller arrays were measured)
                steer_valid = Signal(name=f"valid_relay_{lane}", attrs=RELAY)
                steer_first = Signal(name=f"sum_first_relay_{lane}", attrs=RELAY)
                m.d.sync += [steer_valid.eq(before_sum["valid"]), steer_first.eq(before_sum["sum_first"])]
            else:
                steer_valid = delay(m, before_sum["valid"], steer_relays, f"valid_relay_{lane}", relay=True)
                steer_first = delay(m, before_sum["sum_first"], steer_relays, f"sum_first_relay_{lane}", relay=True)
            with m.If(steer_valid):
                # Clearing the addend (not choosing after the adder) lets the adder drive the register.
                m.d.sync += acc.eq(Mux(steer_first, 0, acc) + total)
            sums.append(acc)
        # The frame flags of an output group: first from its first step, last from its last.
        group_first = Signal(name="group_first")
        with m.If(at_sum["sum_first"]):
            m.d.sync += group_first.eq(at_sum["frame_first"])
        push_valid, push_first, push_last = Signal(name="push_valid"), Signal(name="push_first"), \
            Signal(name="push_last")
        m.d.sync += [push_valid.eq(at_sum["sum_last"]),
                     push_first.eq(Mux(at_sum["sum_first"], at_sum["frame_first"], group_first)),
                     push_last.eq(at_sum["frame_last"])]
        m.d.comb += [queue.issue.eq(step & simd_fold_last), queue.push.valid.eq(push_valid),
                     queue.push.payload.first.eq(push_first), queue.push.payload.last.eq(push_last)]
        for lane in range(pe):
            m.d.comb += queue.push.payload.data[lane].eq(sums[lane])

        if self.direct_output:
            wiring.connect(m, queue.o, wiring.flipped(self.sums))
        else:
            self._emit(m, queue, acc_bits)
        return m

    def _emit(self, m, queue, acc_bits):
        """Output groups gather into a vector; a second buffer emits it ``lanes_out`` sums per beat."""
        pe, lanes_out = self.pe, self.lanes_out
        collect = Signal(self.pe_folds * pe * acc_bits, name="collect")
        collect_full = Signal(name="collect_full")
        collect_first, collect_last = Signal(name="collect_first"), Signal(name="collect_last")
        emit = Signal(self.channels_out * acc_bits, name="emit")
        emit_full = Signal(name="emit_full")  # holds a vector with beats still to move out
        emit_first, emit_last = Signal(name="emit_first"), Signal(name="emit_last")
        # Beats leave through a small queue that promises room for a whole
        # vector's beats: the emit buffer takes a vector only with that room,
        # then shifts a beat out every cycle without looking at anything (its
        # wide registers see one select, from three registers). One idle
        # cycle per vector.
        m.submodules.out_queue = out_queue = OutputQueue(self.sums.payload.shape(), 1, burst=self.output_beats)
        wiring.connect(m, out_queue.o, wiring.flipped(self.sums))
        to_emit = Signal(name="to_emit")
        m.d.comb += to_emit.eq(collect_full & ~emit_full & out_queue.room)

        pop = Signal(name="pop")
        m.d.comb += [queue.o.ready.eq(~collect_full | to_emit), pop.eq(queue.o.valid & queue.o.ready)]
        group_index, group_last = wrapping_counter(m, pop, self.pe_folds, "collect_group")
        with m.If(pop):
            # (A move to the emit buffer in the same cycle takes the old contents.)
            m.d.sync += [collect.eq(Cat(collect[pe * acc_bits:], queue.o.payload.data)),
                         collect_full.eq(group_last)]
            with m.If(group_index == 0):
                m.d.sync += collect_first.eq(queue.o.payload.first)
            with m.If(group_last):
                m.d.sync += collect_last.eq(queue.o.payload.last)
        with m.Elif(to_emit):
            m.d.sync += collect_full.eq(0)

        move = emit_full
        m.d.comb += out_queue.issue.eq(move)
        beat_index, beat_last = wrapping_counter(m, move, self.output_beats, "emit_beat")
        width = lanes_out * acc_bits
        # Loaded or shifted every cycle: past its last beat the contents are not looked at.
        m.d.sync += emit.eq(Mux(to_emit, collect, emit >> width))
        with m.If(to_emit):
            m.d.sync += [emit_full.eq(1), emit_first.eq(collect_first), emit_last.eq(collect_last)]
        with m.Elif(move & beat_last):
            m.d.sync += emit_full.eq(0)
        m.d.sync += [out_queue.push.valid.eq(move), out_queue.push.payload.data.eq(emit[:width]),
                     out_queue.push.payload.first.eq(emit_first & (beat_index == 0)),
                     out_queue.push.payload.last.eq(emit_last & beat_last)]

    def _load_port(self, m, memories, busy, loading, loading_next):
        """Write the ``load`` stream's beats into the weight memories once the array is idle.

        ``loading`` is high from a load's first beat to its last; ``loading_next`` is its next value.
        """
        simd_folds, pe, folds = self.simd_folds, self.pe, self.folds
        writes = [memory.write_port() for memory in memories]
        accept = Signal(name="load_accept")
        m.d.comb += [self.load.ready.eq(~busy), accept.eq(self.load.valid & self.load.ready)]
        beat = self.load.payload

        # Where the next beat goes: address (out_fold * simd_folds + in_fold),
        # the start of its row's address run, its PE as a one-hot lane, and
        # registered "last input fold" / "inside the matrix" flags, so no
        # comparison sits between a beat and its write.
        start = (0, 0, 0, int(simd_folds == 1), 1, 1)  # the first beat of a load
        addr = Signal(range(folds + 1), name="load_addr", init=start[0])
        row_start = Signal(range(folds + 1), name="load_row_start", init=start[1])
        in_fold = Signal(range(max(simd_folds, 2)), name="load_in_fold", init=start[2])
        in_last = Signal(name="load_in_last", init=start[3])
        lane = Signal(pe, name="load_lane", init=start[4])
        inside = Signal(name="load_inside", init=start[5])
        state = (addr, row_start, in_fold, in_last, lane, inside)

        def advance(addr, row_start, in_fold, in_last, lane, inside):
            """The position after a beat at the given one (works on signals and on integers)."""
            lane_last = lane >> (pe - 1) & 1 if isinstance(lane, int) else lane[pe - 1]
            row_end = in_last & lane_last
            rotated = ((lane << 1) | (lane >> (pe - 1))) & ((1 << pe) - 1) if isinstance(lane, int) \
                else Cat(lane[pe - 1], lane[:pe - 1])
            if isinstance(addr, int):
                return (row_start if in_last and not lane_last else addr + 1,
                        addr + 1 if row_end else row_start,
                        0 if in_last else in_fold + 1,
                        int(simd_folds == 1) if in_last else int(in_fold == simd_folds - 2),
                        rotated if in_last else lane,
                        int(addr + 1 < folds) if row_end else inside)
            return (Mux(in_last & ~lane_last, row_start, addr + 1), Mux(row_end, addr + 1, row_start),
                    Mux(in_last, 0, in_fold + 1), Mux(in_last, simd_folds == 1, in_fold == simd_folds - 2),
                    Mux(in_last, rotated, lane), Mux(row_end, addr < folds - 1, inside))

        after_start = advance(*start)
        after_this = advance(*state)
        m.d.comb += loading_next.eq(Mux(accept, ~beat.last, loading))
        m.d.sync += loading.eq(loading_next)
        with m.If(accept):
            with m.If(beat.last):
                m.d.sync += [register.eq(value) for register, value in zip(state, start)]
            with m.Elif(beat.first):
                m.d.sync += [register.eq(value) for register, value in zip(state, after_start)]
            with m.Else():
                m.d.sync += [register.eq(value) for register, value in zip(state, after_this)]

        # The write itself happens a cycle later, from registers; beats past the last row are dropped.
        write_addr = Signal(range(max(folds, 2)), name="load_write_addr")
        write_data = Signal(self.simd * self.bit_w, name="load_write_data")
        write_en = Signal(pe, name="load_write_en")
        m.d.sync += [write_addr.eq(Mux(beat.first, 0, addr)), write_data.eq(beat.data),
                     write_en.eq(Mux(accept & (beat.first | inside), Mux(beat.first, 1, lane), 0))]
        for index, write in enumerate(writes):
            m.d.comb += [write.addr.eq(write_addr), write.data.eq(write_data), write.en.eq(write_en[index])]
