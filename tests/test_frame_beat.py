"""Beat layouts of the streams: a frame beat's lanes of signed values and its markers; a compressed word's raw bits
and markers; values round-trip through the layout's bits."""

from amaranth.hdl import Shape, signed, unsigned
from amaranth.lib import data

from wccgen.hw.frame_beat import frame_beat, word_beat


def test_a_frame_beat_holds_lanes_of_signed_values_then_the_markers():
    layout = frame_beat(9, 3)
    assert layout.size == 3 * 9 + 2
    assert layout["data"].shape == data.ArrayLayout(signed(9), 3)
    assert (layout["first"].offset, layout["last"].offset) == (27, 28)
    beat = layout.const({"data": [-256, 255, -1], "first": 1, "last": 0})
    assert list(beat.data) == [-256, 255, -1] and (beat.first, beat.last) == (1, 0)
    assert layout.from_bits(beat.as_bits()).data[0] == -256


def test_a_word_beat_holds_raw_bits_then_the_markers():
    layout = word_beat(40)
    assert layout.size == 42 and Shape.cast(layout["data"].shape) == unsigned(40)
    word = layout.const({"data": (1 << 40) - 1, "first": 0, "last": 1})
    assert word.data == (1 << 40) - 1 and word.last == 1
