"""Requantization of the layer's output pixels, per output channel (golden: ``golden.requantize``)."""

from dataclasses import dataclass

from amaranth.hdl import Cat, Module, Mux, Signal, signed
from amaranth.lib import stream, wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from ..spec.checks import check_bits, check_lanes, check_positive_int, check_word_bits, set_validated
from ..spec.fixed_point import BIAS_LIMIT, MAX_SHIFT, MULTIPLIER_BITS, signed_range, signed_width
from .frame_beat import frame_beat
from .layer_tables import check_layers, layer_read_address, layer_stride, split_layers, stacked_init
from .multiplier import Multiplier
from .output_queue import OutputQueue
from .pipeline import RELAY, compare_constant, delay
from .spec_component import SpecComponent

__all__ = ["RequantizerSpec", "Requantizer"]

#: Widest product ``value * multiplier`` (as docs/numerics.md bounds ``requant_width``).
MAX_PRODUCT_BITS = 61


def _check_integers(values, name, count, lo, hi, layers):
    values = tuple(values)
    split_layers(values, layers, name, count, "channel")
    for value in values:
        if isinstance(value, bool) or not hasattr(value, "__index__"):
            raise TypeError(f"{name}: must hold integers, got {type(value).__name__}")
        if not lo <= int(value) <= hi:
            raise ValueError(f"{name}: every entry must lie in [{lo}, {hi}], got {int(value)}")
    return tuple(int(v) for v in values)


def _check_int(value, name):
    if isinstance(value, bool) or not hasattr(value, "__index__"):
        raise TypeError(f"{name}: must be an integer, got {type(value).__name__}")
    return int(value)


@dataclass(frozen=True)
class RequantizerSpec:
    """Parameters of a :class:`Requantizer` (see there), validated, and the facts derived from them."""

    channels: int
    lanes: int
    value_bits: int
    out_bits: int
    multipliers: tuple
    shifts: tuple
    biases: tuple
    out_min: int
    out_max: int
    layers: int = 1
    group_run: int = 1

    def __post_init__(self):
        set_validated(self, channels=check_positive_int(self.channels, "channels"),
                      group_run=check_positive_int(self.group_run, "group_run"),
                      value_bits=check_word_bits(self.value_bits, "value_bits"),
                      out_bits=check_bits(self.out_bits, "out_bits"), layers=check_layers(self.layers))
        limit, count, layers = (1 << (MULTIPLIER_BITS - 1)) - 1, self.channels, self.layers
        set_validated(self, lanes=check_lanes(self.lanes, count),
                      multipliers=_check_integers(self.multipliers, "multipliers", count, -limit, limit, layers),
                      shifts=_check_integers(self.shifts, "shifts", count, 1, MAX_SHIFT, layers),
                      biases=_check_integers(self.biases, "biases", count, -BIAS_LIMIT, BIAS_LIMIT, layers),
                      out_min=_check_int(self.out_min, "out_min"), out_max=_check_int(self.out_max, "out_max"))
        lo, hi = signed_range(self.out_bits)
        if not lo <= self.out_min <= self.out_max <= hi:
            raise ValueError(f"out_min, out_max: must satisfy {lo} <= out_min <= out_max <= {hi} for "
                             f"out_bits={self.out_bits}, got [{self.out_min}, {self.out_max}]")
        if self.product_bits > MAX_PRODUCT_BITS:
            raise ValueError(f"value_bits: {self.value_bits}-bit values make {self.product_bits}-bit products; "
                             f"at most {MAX_PRODUCT_BITS - MULTIPLIER_BITS} bits are supported")

    @property
    def groups(self):
        """Beats per position."""
        return self.channels // self.lanes

    @property
    def product_bits(self):
        """Width of ``value * multiplier``."""
        bound = (1 << (self.value_bits - 1)) * (1 << (MULTIPLIER_BITS - 1))
        return signed_width(-bound, bound)

    @property
    def rounded_biases(self):
        """Per channel, the bias plus the rounding half ``2**(shift - 1)``."""
        return tuple(b + (1 << (s - 1)) for b, s in zip(self.biases, self.shifts))

    @property
    def sum_bits(self):
        """Width of ``value * multiplier + rounded bias``."""
        biases = self.rounded_biases
        return max(self.product_bits, signed_width(min(biases), max(biases))) + 1

    @property
    def product_latency(self):
        """Cycles of one lane's multiplier."""
        return Multiplier.latency_for(signed(self.value_bits), signed(MULTIPLIER_BITS))

    @property
    def latency(self):
        """Cycles from an accepted beat to its pixels entering the output queue: group copy, table read and its
        relay, product, bias sum, shift, range test, bound tests, clamp."""
        return Requantizer.TABLE_LATENCY + self.product_latency + 5


class Requantizer(SpecComponent):
    """``out = clamp(round_shift(v * multiplier[o] + bias[o], shift[o]), out_min, out_max)`` per channel ``o``.

    Pixels arrive ``lanes`` channels per beat, ``group_run`` beats of one
    channel group after another: in raster order (``group_run`` 1, a
    position's groups in turn, as :class:`~wccgen.hw.haar_inverse.HaarInverse`
    emits them) or in block order (``group_run`` ``4**levels``, as
    :class:`~wccgen.hw.kept_haar_inverse.KeptHaarInverse` emits them). The
    beat's channel group selects each lane's multiplier, shift and bias from a
    small table. The rounding half ``2**(shift-1)`` is folded into the bias,
    a lane's shift is a multiplexer over the shifts its channels use, and the
    clamp carries the activation (``out_min = 0`` is ReLU). A fixed-latency
    pipeline (``latency`` cycles) with one
    :class:`~wccgen.hw.multiplier.Multiplier` per lane (hard multipliers;
    several per lane when ``value_bits`` passes 18) feeds an
    :class:`~wccgen.hw.output_queue.OutputQueue`; one beat per clock with the
    sink ready. A beat marked ``first`` starts at channel group 0.

    Parameters
    ----------
    channels, lanes : int
        Output channels of the layer, and channels per beat (a divisor).
    value_bits : int
        Width of an input value (the inverse Haar output).
    out_bits : int
        Width of an output pixel.
    multipliers, shifts, biases : sequence of int
        One per channel (``LayerBundle.out_multiplier``, ``out_shift``,
        ``out_bias``): multipliers in ``[-(2**15 - 1), 2**15 - 1]``, shifts in
        ``[1, 62]``, biases of magnitude at most ``2**61``; with several
        layers, one per channel and layer, layer after layer.
    out_min, out_max : int
        The clamp, within the ``out_bits`` range (the same for every layer).
    layers : int
        Layers whose tables the requantizer holds; with more than one the
        ``layer`` input chooses (see :mod:`~wccgen.hw.layer_tables`).
    group_run : int
        Beats of one channel group in a row (default 1).

    Attributes
    ----------
    values : In(stream.Signature(frame_beat(value_bits, lanes)))
    pixels : Out(stream.Signature(frame_beat(out_bits, lanes)))
    layer : In(range(layers)), with several layers only
    """

    #: Cycles from an accepted beat to its table entries: the lanes' group copies, the tables' read registers,
    #: their relays by the multipliers.
    TABLE_LATENCY = 3

    Spec = RequantizerSpec

    @classmethod
    def members(cls, spec):
        members = {
            "values": In(stream.Signature(frame_beat(spec.value_bits, spec.lanes))),
            "pixels": Out(stream.Signature(frame_beat(spec.out_bits, spec.lanes))),
        }
        if spec.layers > 1:
            members["layer"] = In(range(spec.layers))
        return members

    def lane_shifts(self, lane):
        """The distinct shifts of the channels lane ``lane`` carries (in any layer), ascending."""
        return sorted({self.shifts[layer * self.channels + group * self.lanes + lane]
                       for layer in range(self.layers) for group in range(self.groups)})

    def elaborate(self, platform):
        m = Module()
        lanes, sum_bits = self.lanes, self.sum_bits
        m.submodules.queue = queue = OutputQueue(self.pixels.payload.shape(), self.latency)
        wiring.connect(m, queue.o, wiring.flipped(self.pixels))

        # Per lane, a table of its channels' multiplier, rounded bias and shift
        # choice by channel group. Each lane's table has its own copy of the
        # group register beside it: one shared address reaching every lane's
        # lookup logic was the longest route of a whole layer.
        bias_bits = sum_bits
        choice_bits = [max(1, (len(self.lane_shifts(lane)) - 1).bit_length()) for lane in range(lanes)]
        accept = Signal(name="accept")
        m.d.comb += [self.values.ready.eq(queue.room), accept.eq(self.values.valid & queue.room),
                     queue.issue.eq(accept)]
        beat = self.values.payload
        group = Signal(range(max(self.groups, 2)), name="group")
        at_group = Mux(beat.first, 0, group)
        next_group = Mux(at_group == self.groups - 1, 0, at_group + 1)
        if self.group_run > 1:
            run = Signal(range(self.group_run), name="group_run")
            at_run = Mux(beat.first, 0, run)
            run_last = at_run == self.group_run - 1
            next_group = Mux(run_last, next_group, at_group)
            with m.If(accept):
                m.d.sync += run.eq(Mux(run_last, 0, at_run + 1))
        with m.If(accept):
            m.d.sync += group.eq(next_group)

        params = []
        for lane in range(lanes):
            fields = (MULTIPLIER_BITS, bias_bits, choice_bits[lane])
            parts = []
            for layer in range(self.layers):
                words = []
                for group_index in range(self.groups):
                    channel = layer * self.channels + group_index * lanes + lane
                    choice = self.lane_shifts(lane).index(self.shifts[channel])
                    word, offset = 0, 0
                    for value, bits in zip((self.multipliers[channel], self.rounded_biases[channel], choice), fields):
                        word |= (value & ((1 << bits) - 1)) << offset
                        offset += bits
                    words.append(word)
                parts.append(words)
            if self.layers == 1:
                depth, init = max(self.groups, 2), parts[0]
            else:  # each layer's entries at a power-of-two stride: the layer is the address's high bits
                depth, init = self.layers * layer_stride(self.groups), stacked_init(parts, self.groups)
            table = Memory(shape=sum(fields), depth=depth, init=init)
            m.submodules[f"table{lane}"] = table
            # A lookup read by the lane's relay, then a register: the relay is
            # marked (RELAY), and so keeps its own flip-flop through synthesis.
            read = table.read_port(domain="comb")
            address = Signal.like(group, name=f"group_relay_{lane}", reset_less=True, attrs=RELAY)
            entry = Signal(sum(fields), name=f"entry{lane}")
            m.d.sync += [address.eq(at_group), entry.eq(read.data)]
            m.d.comb += read.addr.eq(layer_read_address(m, self.layer if self.layers > 1 else None, address,
                                                         self.groups, f"layer_relay_{lane}"))
            # The entry crosses to the lane's multiplier in a cycle of its own: the table sits by its relay, the
            # hard multiplier where the device has one (the read and that route in one cycle took 27 columns).
            entry = delay(m, entry, 1, f"entry{lane}_relay", relay=True)
            sliced, offset = [], 0
            for bits in fields:
                sliced.append(entry[offset:offset + bits])
                offset += bits
            params.append(sliced)

        # Stage 2: each lane's table entry arrives beside the registered values.
        values = delay(m, beat.data, self.TABLE_LATENCY, "values")
        valid, first, last = (delay(m, v, self.TABLE_LATENCY + self.product_latency + 5, f"{n}_out") for v, n in
                              ((accept, "valid"), (beat.first, "first"), (beat.last, "last")))

        pixels = []
        for lane in range(lanes):
            multiplier, bias, choice = params[lane]
            mul = Multiplier(signed(self.value_bits), signed(MULTIPLIER_BITS))
            m.submodules[f"product{lane}"] = mul
            m.d.comb += [mul.a.eq(values[lane]), mul.b.eq(multiplier.as_signed())]
            bias = delay(m, bias.as_signed(), self.product_latency, f"bias{lane}")
            choice = delay(m, choice, self.product_latency + 1, f"choice{lane}")
            total = Signal(signed(sum_bits), name=f"total{lane}")
            m.d.sync += total.eq(mul.p[:self.product_bits].as_signed() + bias)
            # The lane's shift: a multiplexer over the shifts its channels use;
            # the result is only as wide as the smallest shift leaves it.
            shifts = self.lane_shifts(lane)
            shifted = Signal(signed(max(sum_bits - shifts[0], self.out_bits + 1)), name=f"shifted{lane}")
            options = [total >> s for s in shifts]
            selected = options[0]
            for index in range(1, len(options)):
                selected = Mux(choice == index, options[index], selected)
            m.d.sync += shifted.eq(selected)
            # The clamp. A value whose high bits are not a sign extension lies
            # outside the out_bits range, hence beyond the bound on its sign's
            # side; one that fits is compared in out_bits only: no carry chain
            # spans the wide value.
            out_bits = self.out_bits
            high = shifted[out_bits - 1:]
            fits, negative = Signal(name=f"fits{lane}"), Signal(name=f"negative{lane}")
            kept = Signal(signed(out_bits), name=f"kept{lane}")
            m.d.sync += [fits.eq(high.all() | ~high.any()), negative.eq(shifted[-1]), kept.eq(shifted[:out_bits])]
            below, above = Signal(name=f"below{lane}"), Signal(name=f"above{lane}")
            under_min, _ = compare_constant(kept, self.out_min)
            _, over_max = compare_constant(kept, self.out_max)
            m.d.sync += [below.eq(Mux(fits, under_min, negative)), above.eq(Mux(fits, over_max, ~negative))]
            kept = delay(m, kept, 1, f"kept{lane}")
            pixel = Signal(self.out_bits, name=f"pixel{lane}")
            m.d.sync += pixel.eq(Mux(below, self.out_min, Mux(above, self.out_max, kept)))
            pixels.append(pixel)
        m.d.comb += [queue.push.valid.eq(valid), queue.push.payload.first.eq(first),
                     queue.push.payload.last.eq(last), queue.push.payload.data.eq(Cat(pixels))]
        return m
