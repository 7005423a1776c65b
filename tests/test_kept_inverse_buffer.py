"""KeptInverseBuffer in Amaranth's simulator: frames of kept sums and their bitmaps in, their inverse Haar
transforms out in block order as ``kept_haar_inverse`` gives them, two frames in flight, under idle and
backpressure; its pace."""

import numpy as np
import pytest

from wccgen.hw.kept_inverse_buffer import KeptInverseBuffer

from helpers import run_kept_buffer
from test_kept_haar_inverse import beats_per_frame, inverse_case

@pytest.mark.parametrize("height,width,channels,lanes,value_bits,word_bits,keep,levels,idle,backpressure", [
    (16, 16, 4, 2, 12, 32, 64, 3, 0.0, 0.0),   # the default layer's geometry, fewer channels
    (8, 12, 3, 3, 9, 12, 17, 2, 0.3, 0.5),     # words across rows, odd groups
    (4, 6, 2, 1, 7, 5, 24, 1, 0.1, 0.3),       # one level, every position kept
    (8, 8, 6, 2, 16, 64, 1, 3, 0.0, 0.7),      # one kept position, one block, a 64-bit word
])
def test_kept_inverse_buffer_block_equals_kept_haar_inverse(rng, height, width, channels, lanes, value_bits,
                                                             word_bits, keep, levels, idle, backpressure):
    spec, cases, expected = inverse_case(rng, height, width, channels, lanes, value_bits, word_bits, keep, levels)
    dut = KeptInverseBuffer(spec)
    beats = beats_per_frame(spec)
    received = run_kept_buffer(dut, dut.pixels, spec, cases, beats, idle=idle, backpressure=backpressure, seed=keep)
    for n, (got, want) in enumerate(zip(received, expected)):
        assert got == want, f"beat {n} (frame {n // beats}): {got} != {want}"
    assert len(received) == len(expected)


def test_kept_inverse_buffer_keeps_pace_with_a_beat_per_cycle(rng):
    """Sums arrive faster than pixels leave, so the frames' pixels follow one another without gaps: each frame
    takes its beats plus at most a few cycles."""
    spec, cases, expected = inverse_case(rng, 16, 16, 8, 2, 12, 32, 64, 3, frames=5)
    dut = KeptInverseBuffer(spec)
    starts = []
    received = run_kept_buffer(dut, dut.pixels, spec, cases, beats_per_frame(spec), idle=0.0, backpressure=0.0, seed=1,
                               cycles=starts)
    assert received == expected
    intervals = np.diff(starts)
    assert len(intervals) == 4 and intervals.max() <= beats_per_frame(spec) + 2, intervals
