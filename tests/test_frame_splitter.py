"""FrameSplitter in Amaranth's simulator: frames of varied lengths dealt to the outputs in turn, none lost or
reordered, under random idle and backpressure on every output."""

import numpy as np
import pytest

from wccgen.hw.frame_splitter import FrameSplitter

from helpers import BEAT, numbered_frames, simulate, stream_collector, stream_sender


@pytest.mark.parametrize("ways", [1, 2, 3])
@pytest.mark.parametrize("idle,backpressure", [(0.0, 0.0), (0.3, 0.5)])
def test_frame_splitter_deals_frames_in_turn(ways, idle, backpressure):
    rng = np.random.default_rng(ways)
    frames = numbered_frames(rng.integers(1, 7, size=3 * ways + 1))
    dut = FrameSplitter(BEAT, ways)
    wanted = [[beat for frame in frames[way::ways] for beat in frame] for way in range(ways)]
    received = [[] for _ in range(ways)]
    collectors = [stream_collector(dut.outputs[way], len(wanted[way]), received[way], backpressure=backpressure,
                                   seed=way) for way in range(ways)]
    simulate(dut, stream_sender(dut.frames, [beat for frame in frames for beat in frame], idle=idle), *collectors)
    assert received == wanted
