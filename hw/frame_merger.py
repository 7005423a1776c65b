"""Several streams of frames gathered into one, a frame from each in turn."""

from amaranth.hdl import Module, Mux, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from ..spec.checks import check_positive_int

__all__ = ["FrameMerger"]


class FrameMerger(wiring.Component):
    """Passes a frame from ``inputs[0]``, then one from ``inputs[1]``, ... and round again.

    The counterpart of :class:`~wccgen.hw.frame_splitter.FrameSplitter`:
    frames leave in the order the splitter dealt them, whichever input has
    its frame ready first. A frame ends with a beat marked ``last``.

    Parameters
    ----------
    payload_shape : shape-like
        A layout with a ``last`` field.
    ways : int
        Inputs.

    Attributes
    ----------
    inputs : In(stream.Signature(payload_shape)).array(ways)
    frames : Out(stream.Signature(payload_shape))
    """

    def __init__(self, payload_shape, ways):
        self.ways = check_positive_int(ways, "ways")
        super().__init__({
            "inputs": In(stream.Signature(payload_shape)).array(self.ways),
            "frames": Out(stream.Signature(payload_shape)),
        })

    def elaborate(self, platform):
        m = Module()
        turn = Signal(range(max(self.ways, 2)), name="turn")
        valid, payload = self.inputs[0].valid, self.inputs[0].payload.as_value()
        for index, source in enumerate(self.inputs):
            mine = turn == index
            m.d.comb += source.ready.eq(self.frames.ready & mine)
            if index:
                valid = Mux(mine, source.valid, valid)
                payload = Mux(mine, source.payload.as_value(), payload)
        m.d.comb += [self.frames.valid.eq(valid), self.frames.payload.eq(payload)]
        with m.If(self.frames.valid & self.frames.ready & self.frames.payload.last):
            m.d.sync += turn.eq(Mux(turn == self.ways - 1, 0, turn + 1))
        return m
