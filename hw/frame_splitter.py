"""One stream of frames dealt out to several, frame by frame in turn."""

from amaranth.hdl import Module, Mux, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from ..spec.checks import check_positive_int

__all__ = ["FrameSplitter"]


class FrameSplitter(wiring.Component):
    """Sends frame 0 of ``frames`` to ``outputs[0]``, frame 1 to ``outputs[1]``, ... and round again.

    A frame ends with a beat marked ``last``. Beats pass straight through:
    ``valid`` and the payload go to the output whose turn it is, its
    ``ready`` comes back.

    Parameters
    ----------
    payload_shape : shape-like
        A layout with a ``last`` field.
    ways : int
        Outputs.

    Attributes
    ----------
    frames : In(stream.Signature(payload_shape))
    outputs : Out(stream.Signature(payload_shape)).array(ways)
    """

    def __init__(self, payload_shape, ways):
        self.ways = check_positive_int(ways, "ways")
        super().__init__({
            "frames": In(stream.Signature(payload_shape)),
            "outputs": Out(stream.Signature(payload_shape)).array(self.ways),
        })

    def elaborate(self, platform):
        m = Module()
        turn = Signal(range(max(self.ways, 2)), name="turn")
        ready = self.outputs[0].ready
        for index, output in enumerate(self.outputs):
            mine = turn == index
            m.d.comb += [output.valid.eq(self.frames.valid & mine), output.payload.eq(self.frames.payload)]
            if index:
                ready = Mux(mine, output.ready, ready)
        m.d.comb += self.frames.ready.eq(ready)
        with m.If(self.frames.valid & self.frames.ready & self.frames.payload.last):
            m.d.sync += turn.eq(Mux(turn == self.ways - 1, 0, turn + 1))
        return m
