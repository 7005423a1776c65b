"""Per-position energy summed over channels (golden: ``golden.energy``)."""

from dataclasses import dataclass

from amaranth.hdl import Module, Mux, Signal, signed
from amaranth.lib import stream
from amaranth.lib.wiring import In, Out

from ..spec.checks import check_lanes, check_levels, check_positive_int, check_word_bits, set_validated
from ..spec.wcc_config import ENERGY_MODES
from .frame_beat import lanes_beat
from .multiplier import Multiplier
from .pipeline import delay, sum_tree, sum_tree_depth
from .spec_component import SpecComponent

__all__ = ["PositionEnergySpec", "PositionEnergy"]


@dataclass(frozen=True)
class PositionEnergySpec:
    """Parameters of a :class:`PositionEnergy` (see there), validated, and the facts derived from them."""

    coef_bits: int
    channels: int
    lanes: int
    levels: int
    mode: str = "square"

    def __post_init__(self):
        set_validated(self, coef_bits=check_word_bits(self.coef_bits, "coef_bits"),
                      channels=check_positive_int(self.channels, "channels"), levels=check_levels(self.levels))
        set_validated(self, lanes=check_lanes(self.lanes, self.channels))
        if self.mode not in ENERGY_MODES:
            raise ValueError(f"mode: must be one of {ENERGY_MODES}, got {self.mode!r}")

    @property
    def term_bits(self):
        """Width of one lane's unscaled term: ``coef**2`` or ``|coef|`` (unsigned)."""
        magnitude = 1 << (self.coef_bits - 1)
        return (magnitude * magnitude if self.mode == "square" else magnitude).bit_length()

    @property
    def gain_shift(self):
        """Left shift per unit of gain: 2 for squares, 1 for magnitudes."""
        return 2 if self.mode == "square" else 1

    @property
    def energy_bits(self):
        """Width of the energy word (``WccConfig.energy_width``).

        A coefficient with gain ``g`` comes from level ``levels - g`` and lies
        within ``coef_bits - 2 * g`` bits (as ``HaarForward`` emits it); its
        scaled term is then largest at gain 0, so the largest energy is the
        largest unscaled term times ``channels``.
        """
        magnitude = 1 << (self.coef_bits - 1)
        largest = magnitude * magnitude if self.mode == "square" else magnitude
        return (largest * self.channels).bit_length()

    @property
    def latency(self):
        """Cycles from a position's last beat to its energy: the term and its register, the lanes' sum tree,
        the scale, the total."""
        return self.term_latency + 1 + sum_tree_depth(self.lanes) + 2

    @property
    def term_latency(self):
        """Cycles of one lane's square."""
        return Multiplier.latency_for(signed(self.coef_bits), signed(self.coef_bits))


class PositionEnergy(SpecComponent):
    """Energy of each position of a coefficient stream, on the common scale of docs/numerics.md.

    A fixed-latency pipeline without backpressure (both streams always
    ready): every beat presented enters, and ``latency`` cycles after the
    last beat of a position (``group_last``) its energy leaves. Each
    beat carries ``lanes`` coefficients of one position and the gain of the
    position's level, ``levels - level``; ``mode="square"`` sums
    ``coef**2 << 2*gain`` (one :class:`~wccgen.hw.multiplier.Multiplier` per
    lane), ``mode="abs"`` sums ``|coef| << gain`` (no multiplier). Each
    coefficient must lie in its level's range, ``coef_bits - 2 * gain`` bits,
    as ``HaarForward`` emits it; the energy word is sized for that.

    Parameters
    ----------
    coef_bits : int
        Width of a coefficient (signed).
    channels, lanes : int
        Channels per position, channels per beat.
    levels : int
        Haar levels (the gain lies in ``0 .. levels - 1``).
    mode : {"square", "abs"}

    Attributes
    ----------
    coefficients : In(stream.Signature(StructLayout({"data": ArrayLayout(signed(coef_bits), lanes),
    "gain": range(levels), "group_last": 1}), always_ready=True))
        A beat of a position, its gain, and whether it is the position's last.
    energies : Out(stream.Signature(energy_bits, always_ready=True))
        A position's energy.
    """

    Spec = PositionEnergySpec

    @classmethod
    def members(cls, spec):
        return {
            "coefficients": In(stream.Signature(lanes_beat(spec.coef_bits, spec.lanes, gain=range(max(spec.levels, 2)),
                                                           group_last=1), always_ready=True)),
            "energies": Out(stream.Signature(spec.energy_bits, always_ready=True)),
        }

    def elaborate(self, platform):
        m = Module()
        # Each lane's term, from a pipelined hard multiplier for squares.
        terms = []
        for lane in range(self.lanes):
            coef = self.coefficients.payload.data[lane]
            if self.mode == "square":
                multiplier = Multiplier(coef.shape(), coef.shape())
                m.submodules[f"square{lane}"] = multiplier
                m.d.comb += [multiplier.a.eq(coef), multiplier.b.eq(coef)]
                term = multiplier.p[:self.term_bits]
            else:
                term = delay(m, Mux(coef < 0, -coef, coef).as_unsigned()[:self.term_bits], self.term_latency,
                             f"magnitude{lane}")
            terms.append(term)
        beat = self.coefficients.payload
        # Each term registered in the fabric (the hard multipliers lie apart), then summed two at a time.
        terms = [delay(m, term, 1, f"term{lane}") for lane, term in enumerate(terms)]
        lane_sum = sum_tree(m, terms, self.term_bits + (self.lanes - 1).bit_length(), "lane_sum")
        gain, group_last, valid = (delay(m, v, self.latency - 2, n) for v, n in (
            (beat.gain, "gain"), (beat.group_last, "group_last"), (self.coefficients.valid, "valid")))
        # On the common scale.
        scaled = Signal(self.energy_bits, name="scaled")
        options = [lane_sum << (self.gain_shift * g) for g in range(self.levels)]
        selected = options[0]
        for g in range(1, self.levels):
            selected = Mux(gain == g, options[g], selected)
        m.d.sync += scaled.eq(selected)
        group_last, valid = (delay(m, v, 1, f"{n}_s3") for v, n in ((group_last, "group_last"), (valid, "valid")))
        # Accumulated over the position's beats.
        total = Signal(self.energy_bits, name="total")
        fresh = Signal(init=1, name="fresh")  # the next beat starts a position
        with m.If(valid):
            m.d.sync += [total.eq(Mux(fresh, 0, total) + scaled), fresh.eq(group_last)]
        m.d.sync += self.energies.valid.eq(valid & group_last)
        m.d.comb += self.energies.payload.eq(total)
        return m
