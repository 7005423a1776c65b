"""FrameMerger in Amaranth's simulator: a frame from each input in turn, whichever is ready first, under random
idle on every input and backpressure on the output; and a FrameSplitter's frames gathered back in order."""

import numpy as np
import pytest
from amaranth.hdl import Module
from amaranth.lib import wiring

from wccgen.hw.frame_merger import FrameMerger
from wccgen.hw.frame_splitter import FrameSplitter

from helpers import BEAT, numbered_frames, simulate, stream_collector, stream_sender


@pytest.mark.parametrize("ways", [1, 2, 3])
@pytest.mark.parametrize("idle,backpressure", [(0.0, 0.0), (0.4, 0.3)])
def test_frame_merger_takes_a_frame_from_each_input_in_turn(ways, idle, backpressure):
    rng = np.random.default_rng(ways + 10)
    frames = numbered_frames(rng.integers(1, 7, size=3 * ways))
    dut = FrameMerger(BEAT, ways)
    # Later inputs idle more: their frames are ready late, and must still wait their turn.
    senders = [stream_sender(dut.inputs[way], [beat for frame in frames[way::ways] for beat in frame],
                             idle=min(0.9, idle * (1 + way)), seed=way) for way in range(ways)]
    received = []
    total = sum(len(frame) for frame in frames)
    simulate(dut, *senders, stream_collector(dut.frames, total, received, backpressure=backpressure))
    assert received == [beat for frame in frames for beat in frame]


def test_splitter_then_merger_return_the_frames_in_order():
    ways = 3
    m = Module()
    m.submodules.splitter = splitter = FrameSplitter(BEAT, ways)
    m.submodules.merger = merger = FrameMerger(BEAT, ways)
    for way in range(ways):
        wiring.connect(m, splitter.outputs[way], merger.inputs[way])
    frames = numbered_frames(np.random.default_rng(5).integers(1, 9, size=10))
    beats = [beat for frame in frames for beat in frame]
    received = []
    simulate(m, stream_sender(splitter.frames, beats, idle=0.2),
             stream_collector(merger.frames, len(beats), received, backpressure=0.3))
    assert received == beats
