"""Output queue of a fixed-latency pipeline: the pipeline never stalls, the queue absorbs backpressure."""

from amaranth.hdl import Module, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.fifo import SyncFIFOBuffered
from amaranth.lib.wiring import In, Out

__all__ = ["OutputQueue"]


class OutputQueue(wiring.Component):
    """A FIFO with room reserved for every beat issued into a pipeline of ``latency`` cycles.

    A producer issues a beat only while ``room`` is high and tells the queue
    with ``issue``; the beat arrives on ``push_valid``/``push_payload`` exactly
    ``latency`` cycles later and always finds a free entry. The pipeline in
    between therefore has no enable: no stall signal has to reach every
    register and block RAM of it, which is what keeps the clock fast. With the
    sink always ready, one beat per cycle flows.

    Parameters
    ----------
    payload_shape : shape-like
    latency : int
        Cycles from ``issue`` to ``push_valid``.

    Attributes
    ----------
    room : Out(1)
    issue : In(1)
    push_valid : In(1)
    push_payload : In(payload_shape)
    o : Out(stream.Signature(payload_shape))
    """

    #: Cycles from ``push_valid`` to the beat on ``o`` (the buffered FIFO's own latency).
    LATENCY = 2

    def __init__(self, payload_shape, latency):
        self.latency = latency
        # Room for every beat between issue and the sink, with the sink always ready.
        self.depth = latency + self.LATENCY + 2
        super().__init__({
            "room": Out(1),
            "issue": In(1),
            "push_valid": In(1),
            "push_payload": In(payload_shape),
            "o": Out(stream.Signature(payload_shape)),
        })

    def elaborate(self, platform):
        m = Module()
        width = len(self.push_payload.as_value())
        m.submodules.fifo = fifo = SyncFIFOBuffered(width=width, depth=self.depth)
        # Beats issued and not yet taken by the sink: in the pipeline or in the FIFO.
        outstanding = Signal(range(self.depth + 1))
        popped = self.o.valid & self.o.ready
        m.d.sync += outstanding.eq(outstanding + self.issue - popped)
        m.d.comb += [
            self.room.eq(outstanding < self.depth),
            fifo.w_en.eq(self.push_valid),
            fifo.w_data.eq(self.push_payload.as_value()),
            self.o.valid.eq(fifo.r_rdy),
            self.o.payload.eq(fifo.r_data),
            fifo.r_en.eq(self.o.ready),
        ]
        return m
