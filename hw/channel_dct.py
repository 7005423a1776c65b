"""The channel DCT of DCT-CM, without multipliers (golden: ``golden.channel_transform`` of the fixed-point
``golden.channel_dct`` rows)."""

from dataclasses import dataclass

from amaranth.hdl import Cat, Const, Module, Signal, signed
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from ..golden.channel_dct import dct_matrix
from ..golden.channel_transform import TRANSFORM_FRACTION_BITS, fixed_point_rows
from ..spec.checks import check_bits, check_lanes, check_positive_int, set_validated
from ..spec.fixed_point import signed_range, signed_width
from .frame_beat import frame_beat
from .output_queue import OutputQueue
from .pipeline import delay
from .spec_component import SpecComponent

__all__ = ["ChannelDCT", "ChannelDCTSpec", "signed_digits"]


def signed_digits(constant):
    """The non-adjacent form of ``constant``: ``[(shift, sign), ...]`` with ``constant = sum(sign << shift)``.

    No two digits are neighbours, so it has the fewest non-zero digits of any
    signed-digit form: the fewest shifted terms to add.
    """
    digits, shift, constant = [], 0, int(constant)
    while constant:
        if constant & 1:
            digit = 2 - (constant & 3)  # +1 or -1: leaves a multiple of 4
            digits.append((shift, digit))
            constant -= digit
        constant >>= 1
        shift += 1
    return digits


@dataclass(frozen=True)
class ChannelDCTSpec:
    """Parameters of a :class:`ChannelDCT` (see there), validated, and the facts derived from them."""

    channels: int
    lanes: int
    in_bits: int
    group: int = 8

    def __post_init__(self):
        set_validated(self, channels=check_positive_int(self.channels, "channels"),
                      in_bits=check_bits(self.in_bits, "in_bits"), group=check_positive_int(self.group, "group"))
        set_validated(self, lanes=check_lanes(self.lanes, self.channels))
        if self.lanes % self.group:
            raise ValueError(f"group: must divide lanes ({self.lanes}): a beat carries whole groups, got "
                             f"{self.group}")

    @property
    def rows(self):
        """The ``group x group`` fixed-point DCT rows (``TRANSFORM_FRACTION_BITS`` fraction bits), as tuples."""
        return tuple(tuple(int(v) for v in row) for row in fixed_point_rows(dct_matrix(self.group)))

    @property
    def half(self):
        """Input pairs ``(i, group - 1 - i)`` the butterfly folds: ``group // 2``."""
        return self.group // 2

    def parity(self, row):
        """``+1`` if row ``row`` is symmetric (it reads the pair sums), ``-1`` if antisymmetric (the differences).

        Every DCT-II row is one or the other; the fixed-point rounding, half
        away from zero, keeps it so.
        """
        values = self.rows[row]
        for sign in (1, -1):
            if all(values[self.group - 1 - i] == sign * values[i] for i in range(self.half)) and (
                    sign == 1 or self.group % 2 == 0 or values[self.half] == 0):
                return sign
        raise AssertionError(f"DCT row {row} is neither symmetric nor antisymmetric")  # dct_matrix guarantees it

    @property
    def sum_bits(self):
        """Width of a coefficient sum: the largest row's absolute sum times the widest input."""
        lo, hi = signed_range(self.in_bits)
        bound = max(sum(abs(v) for v in row) for row in self.rows) * max(-lo, hi)
        return signed_width(-bound, bound)

    @property
    def tree_depth(self):
        """Register stages of the deepest row's sum of shifted terms."""
        return max(_depth(len(self.row_terms(row))) for row in range(self.group))

    def row_terms(self, row):
        """Row ``row``'s sum as ``[(folded input index, shift, sign), ...]`` over the butterfly's outputs."""
        values, terms = self.rows[row], []
        for index in range(self.half + self.group % 2):
            terms += [(index, shift, sign) for shift, sign in signed_digits(values[index])]
        return terms

    @property
    def latency(self):
        """Cycles from an accepted beat to its sums entering the output queue: butterfly, tree, sign."""
        return 1 + self.tree_depth + 1


def _depth(count):
    depth = 0
    while count > 1:
        count = -(-count // 2)
        depth += 1
    return depth


class ChannelDCT(SpecComponent):
    """The orthonormal DCT-II of every consecutive ``group`` channels of every pixel, in fixed point, exactly.

    Pixels arrive in raster order, ``lanes`` channels per beat (whole
    groups); each beat leaves with the same channels replaced by their
    coefficient sums ``sum_c rows[u, c] * x[c]`` (row ``u`` of group ``g`` at
    channel ``g * group + u``), the rows those of
    :func:`~wccgen.golden.channel_dct.dct_matrix` with
    :data:`~wccgen.golden.channel_transform.TRANSFORM_FRACTION_BITS` fraction
    bits. No multiplier: a butterfly folds the pairs ``x[i] +/- x[group-1-i]``
    (a DCT row is symmetric or antisymmetric), then each row adds its
    constants' signed digits as shifted terms in a registered adder tree.
    Fixed latency, one beat per clock with the sink ready, backpressure
    absorbed by an :class:`~wccgen.hw.output_queue.OutputQueue`.

    Parameters
    ----------
    channels, lanes : int
        Channels of a pixel, and channels per beat (a divisor, a multiple of ``group``).
    in_bits : int
        Width of an input code.
    group : int
        Channels per DCT (8 by default, as DCT-CM's layers).

    Attributes
    ----------
    pixels : In(stream.Signature(frame_beat(in_bits, lanes)))
    sums : Out(stream.Signature(frame_beat(sum_bits, lanes)))
    """

    Spec = ChannelDCTSpec

    #: Fraction bits of the constants.
    FRACTION_BITS = TRANSFORM_FRACTION_BITS

    @classmethod
    def members(cls, spec):
        return {
            "pixels": In(stream.Signature(frame_beat(spec.in_bits, spec.lanes))),
            "sums": Out(stream.Signature(frame_beat(spec.sum_bits, spec.lanes))),
        }

    def elaborate(self, platform):
        m = Module()
        m.submodules.queue = queue = OutputQueue(self.sums.payload.shape(), self.latency)
        wiring.connect(m, queue.o, wiring.flipped(self.sums))
        accept = Signal(name="accept")
        m.d.comb += [self.pixels.ready.eq(queue.room), accept.eq(self.pixels.valid & queue.room),
                     queue.issue.eq(accept)]
        beat = self.pixels.payload
        outputs = []
        for start in range(0, self.lanes, self.group):
            outputs += self._group(m, [beat.data[start + i] for i in range(self.group)], start // self.group)
        valid, first, last = (delay(m, v, self.latency, f"{n}_out") for v, n in
                              ((accept, "valid"), (beat.first, "first"), (beat.last, "last")))
        m.d.comb += [queue.push.valid.eq(valid), queue.push.payload.first.eq(first),
                     queue.push.payload.last.eq(last), queue.push.payload.data.eq(Cat(outputs))]
        return m

    def _group(self, m, inputs, index):
        """One group's butterfly and rows; returns the ``group`` registered sums."""
        lo, hi = signed_range(self.in_bits)
        folded = {1: [], -1: []}  # pair sums and differences, each with its bounds
        for i in range(self.half):
            j = self.group - 1 - i
            total = Signal(signed(self.in_bits + 1), name=f"g{index}_sum{i}")
            difference = Signal(signed(self.in_bits + 1), name=f"g{index}_diff{i}")
            m.d.sync += [total.eq(inputs[i] + inputs[j]), difference.eq(inputs[i] - inputs[j])]
            folded[1].append((total, 2 * lo, 2 * hi))
            folded[-1].append((difference, lo - hi, hi - lo))
        if self.group % 2:  # the middle channel: symmetric rows only
            middle = Signal(signed(self.in_bits), name=f"g{index}_middle")
            m.d.sync += middle.eq(inputs[self.half])
            folded[1].append((middle, lo, hi))
        sums = []
        for row in range(self.group):
            items = []
            for source, shift, sign in self.row_terms(row):
                value, low, high = folded[self.parity(row)][source]
                items.append((value << shift, sign, low << shift, high << shift))
            value, sign = self._tree(m, items, f"g{index}_row{row}")
            result = Signal(signed(self.sum_bits), name=f"g{index}_coef{row}")
            m.d.sync += result.eq(-value if sign < 0 else value)
            sums.append(result)
        return sums

    def _tree(self, m, items, name):
        """The sum of signed terms ``(value, sign, lo, hi)``, two at a time with a register after each addition,
        padded to the deepest row's stages; returns ``(value, sign)`` with the sum ``sign * value``."""
        if not items:  # a row of zeros (never a DCT row): the sign stage registers the constant
            return Const(0, signed(1)), 1
        # A positive term meets a negative one where it can: one subtraction instead of a negation and an addition.
        positive = [item for item in items if item[1] > 0]
        negative = [item for item in items if item[1] < 0]
        items = [item for pair in zip(positive, negative) for item in pair]
        items += positive[len(negative):] + negative[len(positive):]
        level = 0
        while len(items) > 1:
            merged = []
            for index in range(0, len(items), 2):
                pair = items[index:index + 2]
                if len(pair) == 1:
                    value, sign, low, high = pair[0]
                elif pair[0][1] == pair[1][1]:
                    (a, sign, a_lo, a_hi), (b, _, b_lo, b_hi) = pair
                    value, low, high = a + b, a_lo + b_lo, a_hi + b_hi
                else:
                    (a, _, a_lo, a_hi), (b, _, b_lo, b_hi) = sorted(pair, key=lambda item: -item[1])
                    value, sign, low, high = a - b, 1, a_lo - b_hi, a_hi - b_lo
                register = Signal(signed(signed_width(low, high)), name=f"{name}_l{level}_{index // 2}")
                m.d.sync += register.eq(value)
                merged.append((register, sign, low, high))
            items, level = merged, level + 1
        value, sign = items[0][0], items[0][1]
        return delay(m, value, self.tree_depth - level, f"{name}_pad"), sign
