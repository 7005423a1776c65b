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
from .pipeline import RELAY, delay
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

    def fold(self, row):
        """Row ``row`` folded by butterflies as far as it goes: ``(parities, coefficients)``.

        A row symmetric (parity ``+1``) or antisymmetric (``-1``) over its
        sources reads only the pair sums or differences ``s[i] +/- s[n-1-i]``
        (the middle one, of an odd count, kept by a symmetric row and zero in
        an antisymmetric one), with the first half of its coefficients; the
        folded row is folded again while it can be. Every DCT-II row folds at
        least once (the rounding of the constants, half away from zero, keeps
        the symmetry); the even rows of the 8-point DCT fold two or three
        times, down to one or two constants.
        """
        values, parities = self.rows[row], ()
        while len(values) > 1:
            size, half = len(values), len(values) // 2
            for parity in (1, -1):
                if all(values[size - 1 - i] == parity * values[i] for i in range(half)) and (
                        parity == 1 or size % 2 == 0 or values[half] == 0):
                    break
            else:
                break
            values = values[:half] + (values[half:half + 1] if size % 2 and parity == 1 else ())
            parities += (parity,)
        return parities, values

    @property
    def sum_bits(self):
        """Width of a coefficient sum: the largest row's absolute sum times the widest input."""
        lo, hi = signed_range(self.in_bits)
        bound = max(sum(abs(v) for v in row) for row in self.rows) * max(-lo, hi)
        return signed_width(-bound, bound)

    @property
    def tree_depth(self):
        """Register stages of the deepest row after the input: its butterflies and its sum of shifted terms."""
        return max(len(self.fold(row)[0]) + _depth(len(self.row_terms(row))) for row in range(self.group))

    def row_terms(self, row):
        """Row ``row``'s sum as ``[(source index, shift, sign), ...]`` over its folded sources (:meth:`fold`)."""
        return [(index, shift, sign) for index, value in enumerate(self.fold(row)[1])
                for shift, sign in signed_digits(value)]

    @property
    def latency(self):
        """Cycles from an accepted beat to its sums entering the output queue: butterflies and tree, the rows'
        copies of their sources, sign."""
        return self.tree_depth + 2


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
    bits. No multiplier: butterflies fold the pairs ``x[i] +/- x[group-1-i]``
    (a DCT row is symmetric or antisymmetric), and again while a folded row
    is (:meth:`ChannelDCTSpec.fold`: row 0 of the 8-point DCT becomes one
    constant times the sum of all eight inputs); each row then adds its
    constants' signed digits as shifted terms in a registered adder tree,
    each adder only as wide as its higher term (the lower one's low bits
    pass by).
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
        # The sums of every lane are spread over the device: each slice of the queue takes them through
        # registers of its own (one push valid net to every slice was the longest route at 16 lanes).
        m.submodules.queue = queue = OutputQueue(self.sums.payload.shape(), self.latency, relay_push=True)
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
        """One group's butterflies and rows; returns the ``group`` registered sums."""
        lo, hi = signed_range(self.in_bits)
        sources = {(): [(value, lo, hi) for value in inputs]}  # by the parities folded so far

        def folded(parities):
            """The sources after the butterflies ``parities``, each registered once for every row reading it."""
            if parities not in sources:
                outer, parity = folded(parities[:-1]), parities[-1]
                size, half = len(outer), len(outer) // 2
                level, name = [], "".join("s" if p > 0 else "d" for p in parities)
                for i in range(half):
                    (a, a_lo, a_hi), (b, b_lo, b_hi) = outer[i], outer[size - 1 - i]
                    low, high = (a_lo + b_lo, a_hi + b_hi) if parity > 0 else (a_lo - b_hi, a_hi - b_lo)
                    value = Signal(signed(signed_width(low, high)), name=f"g{index}_{name}{i}")
                    m.d.sync += value.eq(a + b if parity > 0 else a - b)
                    level.append((value, low, high))
                if size % 2 and parity > 0:  # the middle source, registered to stay in step
                    value, low, high = outer[half]
                    level.append((delay(m, value, 1, f"g{index}_{name}_middle"), low, high))
                sources[parities] = level
            return sources[parities]

        sums = []
        for row in range(self.group):
            parities, _ = self.fold(row)
            level = folded(parities)
            # Each row reads its own copies of its sources: one copy read by every row's shifted terms was the
            # longest route.
            items, copies = [], {}
            for source, shift, sign in self.row_terms(row):
                if source not in copies:
                    value, low, high = level[source]
                    copy = Signal.like(value, name=f"g{index}_row{row}_in{source}", attrs=RELAY)
                    m.d.sync += copy.eq(value)
                    copies[source] = copy, low, high
                value, low, high = copies[source]
                items.append((value, shift, sign, low, high))
            value, shift, sign, levels = self._tree(m, items, f"g{index}_row{row}")
            value = delay(m, value, self.tree_depth - len(parities) - levels, f"g{index}_row{row}_pad")
            result = Signal(signed(self.sum_bits), name=f"g{index}_coef{row}")
            m.d.sync += result.eq((-value if sign < 0 else value) << shift)
            sums.append(result)
        return sums

    @staticmethod
    def _tree(m, items, name):
        """The sum of terms ``(value, shift, sign, lo, hi)``, each ``sign * value << shift`` with ``lo <= value
        <= hi``, two at a time with a register after each addition; returns ``(value, shift, sign, levels)``
        with the sum ``sign * value << shift``, after ``levels`` registers."""
        if not items:  # a row of zeros (never a DCT row): the sign stage registers the constant
            return Const(0, signed(1)), 0, 1, 0
        # Neighbours in shift meet: the lower term's low bits pass by the adder, which is no wider than the
        # higher term plus a carry. No negation inside the tree: a term of the other sign is subtracted, and the
        # sum keeps the lower term's sign.
        items, level = sorted(items, key=lambda item: (item[1], -item[2])), 0
        while len(items) > 1:
            merged = []
            for index in range(0, len(items), 2):
                if index + 1 == len(items):  # the odd one out, registered to stay in step
                    value, *rest = items[index]
                    merged.append((delay(m, value, 1, f"{name}_l{level}_{index // 2}"), *rest))
                    continue
                (a, a_shift, a_sign, a_lo, a_hi), (b, b_shift, b_sign, b_lo, b_hi) = items[index:index + 2]
                k, same = b_shift - a_shift, a_sign == b_sign
                low, high = (a_lo + (b_lo << k), a_hi + (b_hi << k)) if same else (a_lo - (b_hi << k),
                                                                                   a_hi - (b_lo << k))
                upper = signed_width(low >> k, high >> k)
                register = Signal(signed(k + upper), name=f"{name}_l{level}_{index // 2}")
                total = (a >> k) + b if same else (a >> k) - b
                m.d.sync += register.eq(Cat(a[:k], total[:upper]) if k else total)
                merged.append((register, a_shift, a_sign, low, high))
            # Keep the order by shift for the next level (a sum takes its lower term's shift).
            items, level = sorted(merged, key=lambda item: (item[1], -item[2])), level + 1
        value, shift, sign = items[0][:3]
        return value, shift, sign, level
