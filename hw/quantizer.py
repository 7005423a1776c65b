"""Quantization of coefficients to symmetric codes, per level (golden: ``golden.quantize``)."""

from dataclasses import dataclass

from amaranth.hdl import Module, Mux, Signal, signed, unsigned
from amaranth.lib import data, stream
from amaranth.lib.wiring import In, Out

from ..spec.checks import check_bits, check_levels, check_positive_int, check_word_bits, set_validated
from ..spec.fixed_point import MAX_SHIFT, MULTIPLIER_BITS, symmetric_limit
from .frame_beat import lanes_beat
from .layer_tables import check_layers, current_entries, split_layers
from .multiplier import Multiplier
from .pipeline import delay
from .spec_component import SpecComponent

__all__ = ["QuantizerSpec", "Quantizer"]


def _check_table(values, name, levels, lo, hi, layers=1):
    values = tuple(values)
    split_layers(values, layers, name, levels, "level")
    for value in values:
        if isinstance(value, bool) or not isinstance(value, int) and not hasattr(value, "__index__"):
            raise TypeError(f"{name}: must hold integers, got {type(value).__name__}")
        if not lo <= int(value) <= hi:
            raise ValueError(f"{name}: every entry must lie in [{lo}, {hi}], got {int(value)}")
    return tuple(int(v) for v in values)


@dataclass(frozen=True)
class QuantizerSpec:
    """Parameters of a :class:`Quantizer` (see there), validated, and the facts derived from them."""

    coef_bits: int
    lanes: int
    bits: int
    multipliers: tuple
    shifts: tuple
    layers: int = 1

    def __post_init__(self):
        set_validated(self, coef_bits=check_word_bits(self.coef_bits, "coef_bits"),
                      lanes=check_positive_int(self.lanes, "lanes"), bits=check_bits(self.bits, "bits"),
                      layers=check_layers(self.layers))
        set_validated(self, levels=check_levels(max(len(tuple(self.multipliers)) // self.layers, 1)))
        set_validated(self, multipliers=_check_table(self.multipliers, "multipliers", self.levels, 0,
                                                     (1 << (MULTIPLIER_BITS - 1)) - 1, self.layers),
                      shifts=_check_table(self.shifts, "shifts", self.levels, 1, MAX_SHIFT, self.layers))

    @property
    def distinct_shifts(self):
        """The shifts any level of any layer uses, ascending: the rounding stage chooses among these."""
        return sorted(set(self.shifts))

    @property
    def product_latency(self):
        """Cycles of one lane's multiplier."""
        return Multiplier.latency_for(signed(self.coef_bits), unsigned(MULTIPLIER_BITS - 1))

    @property
    def latency(self):
        """Cycles from a beat to its codes: multiplier selection, product, rounding sum, shift, clamp test, clamp."""
        return 1 + self.product_latency + 4


class Quantizer(SpecComponent):
    """``code = clamp(round_shift(coef * multiplier[l-1], shift[l-1]), -Q, Q)`` on every lane.

    A fixed-latency pipeline without backpressure (``latency`` cycles, both
    streams always ready); one
    :class:`~wccgen.hw.multiplier.Multiplier` (hard multipliers) per lane. ``round_shift`` adds half and shifts right
    arithmetically (round half up), as docs/numerics.md fixes.

    Parameters
    ----------
    coef_bits : int
        Width of a coefficient (signed).
    lanes : int
        Coefficients per beat.
    bits : int
        Code width; codes lie in ``[-(2**(bits-1) - 1), 2**(bits-1) - 1]``.
    multipliers, shifts : sequence of int
        One per level (per level and layer, layer after layer, with several
        layers): multipliers in ``[0, 2**15)``, shifts in ``[1, 62]``.
    layers : int
        Layers whose tables the quantizer holds; with more than one, the
        ``layer`` input chooses (it may change only while no beat is inside).

    Attributes
    ----------
    coefficients : In(stream.Signature(StructLayout({"data": ArrayLayout(signed(coef_bits), lanes),
    "level": range(1, levels + 1)}), always_ready=True))
        A beat of coefficients, and the Haar level of its position.
    codes : Out(stream.Signature(ArrayLayout(signed(bits), lanes), always_ready=True))
    layer : In(range(layers)), with several layers only
    """

    Spec = QuantizerSpec

    @classmethod
    def members(cls, spec):
        members = {
            "coefficients": In(stream.Signature(lanes_beat(spec.coef_bits, spec.lanes, level=range(spec.levels + 1)),
                                                always_ready=True)),
            "codes": Out(stream.Signature(data.ArrayLayout(signed(spec.bits), spec.lanes), always_ready=True)),
        }
        if spec.layers > 1:
            members["layer"] = In(range(spec.layers))
        return members

    def elaborate(self, platform):
        m = Module()
        levels, limit = self.levels, symmetric_limit(self.bits)

        def per_level(table, select):
            value = table[0]
            for index in range(1, levels):
                value = Mux(select == index + 1, table[index], value)
            return value

        def per_choice(options, select):
            value = options[0]
            for index in range(1, len(options)):
                value = Mux(select == index, options[index], value)
            return value

        product_bits = self.coef_bits + MULTIPLIER_BITS
        # The rounding sum needs room for the half-step of the widest shift.
        sum_bits = max(product_bits, max(self.shifts) + 1) + 1
        # The current layer's tables: constants for one layer, else registers.
        shifts = self.distinct_shifts
        layer = self.layer if self.layers > 1 else None
        multipliers = current_entries(m, layer, self.multipliers, self.layers, MULTIPLIER_BITS - 1, "multiplier_l")
        choices = current_entries(m, layer, [shifts.index(s) for s in self.shifts], self.layers,
                                  range(max(len(shifts), 2)), "shift_choice_l")
        # Stage 1: the level's multiplier and shift choice, registered beside the coefficients.
        multiplier = Signal(MULTIPLIER_BITS - 1, name="multiplier")
        choice = Signal(range(max(len(shifts), 2)), name="shift_choice")
        beat = self.coefficients.payload
        m.d.sync += [multiplier.eq(per_level(multipliers, beat.level)), choice.eq(per_level(choices, beat.level))]
        coefficients = delay(m, beat.data, 1, "coefficients")
        valid = delay(m, self.coefficients.valid, 1 + self.product_latency, "valid")
        choice = delay(m, choice, self.product_latency, "shift_choice_s4")
        # Stages 2-4: the products; then add half; then shift by the level's amount.
        rounded = []
        half = per_choice([1 << (s - 1) for s in shifts], choice)
        choice_after_sum = delay(m, choice, 1, "shift_choice_s5")
        for lane in range(self.lanes):
            product = Multiplier(coefficients[lane].shape(), multiplier.shape())
            m.submodules[f"product{lane}"] = product
            m.d.comb += [product.a.eq(coefficients[lane]), product.b.eq(multiplier)]
            total = Signal(signed(sum_bits), name=f"total{lane}")
            m.d.sync += total.eq(product.p[:product_bits].as_signed() + half)
            value = Signal(signed(sum_bits), name=f"rounded{lane}")
            m.d.sync += value.eq(per_choice([total >> s for s in shifts], choice_after_sum))
            rounded.append(value)
        # Clamp to [-Q, Q]: whether the value fits, from its high bits, then a multiplexer.
        bits = self.bits
        for lane, value in enumerate(rounded):
            low, negative, fits = (Signal(bits, name=f"low{lane}"), Signal(name=f"negative{lane}"),
                                   Signal(name=f"fits{lane}"))
            high = value[bits - 1:]
            m.d.sync += [low.eq(value[:bits]), negative.eq(value[-1]),
                         fits.eq(Mux(value[-1], (high == (1 << len(high)) - 1) & (value[:bits - 1] != 0),
                                     high == 0))]
            m.d.sync += self.codes.payload[lane].eq(Mux(fits, low, Mux(negative, -limit, limit)))
        m.d.sync += self.codes.valid.eq(delay(m, valid, 3, "valid_s5"))
        return m
