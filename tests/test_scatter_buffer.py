"""ScatterBuffer in Amaranth's simulator: frames of kept sums and their bitmaps in, full frames out as ``scatter``
places them, two frames in flight, under backpressure."""

import numpy as np
import pytest

from wccgen.golden import scatter, topk_select
from wccgen.hw.scatter import ScatterSpec
from wccgen.hw.scatter_buffer import ScatterBuffer

from helpers import frame_beats, run_kept_buffer


def run_buffer(spec, frames, *, idle, backpressure, seed):
    """Frames through a ScatterBuffer (see ``helpers.run_kept_buffer``); the output frames' beats."""
    dut = ScatterBuffer(spec)
    return run_kept_buffer(dut, dut.values, spec, frames, spec.beats, idle=idle, backpressure=backpressure,
                           seed=seed)


@pytest.mark.parametrize("height,width,channels,lanes,value_bits,word_bits,keep,idle,backpressure", [
    (4, 4, 2, 2, 8, 16, 5, 0.0, 0.0), (6, 5, 6, 3, 19, 12, 7, 0.3, 0.5), (2, 4, 1, 1, 4, 3, 8, 0.1, 0.8),
])
def test_scatter_buffer_block_equals_scatter(height, width, channels, lanes, value_bits, word_bits, keep, idle,
                                             backpressure):
    rng = np.random.default_rng(height * width * keep)
    spec = ScatterSpec(padded_height=height, padded_width=width, channels=channels, lanes=lanes,
                       value_bits=value_bits, word_bits=word_bits, keep=keep)
    top = 2 ** (value_bits - 1)
    frames, expected = [], []
    for _ in range(4):
        mask, indices = topk_select(rng.integers(0, 5, size=(height, width)), keep)
        values = rng.integers(-top, top, size=(channels, keep))
        frames.append((mask, values))
        expected += frame_beats(scatter(indices, values, height, width), lanes)
    assert run_buffer(spec, frames, idle=idle, backpressure=backpressure, seed=keep) == expected
