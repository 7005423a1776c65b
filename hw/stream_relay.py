"""A register slice for a stream: every signal across it comes from a flip-flop."""

from amaranth.hdl import Module, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

__all__ = ["LayerRelays", "StreamRelay"]


class StreamRelay(wiring.Component):
    """Passes a stream on one cycle later, with ``valid``, ``payload`` and ``ready`` all registered.

    Placed between two blocks, it cuts the combinational paths a handshake
    would otherwise make from one block's logic through the other's (the
    blocks of a layer lie far apart on the device). It is a skid buffer:
    while ``o`` stalls, the one beat already accepted waits in a second
    register, so the relay passes one beat per clock with ``o`` always ready
    and loses no beat under backpressure.

    Parameters
    ----------
    payload_shape : shape-like

    Attributes
    ----------
    i : In(stream.Signature(payload_shape))
    o : Out(stream.Signature(payload_shape))
    """

    #: Cycles from a beat on ``i`` to the same beat on ``o`` (``o`` ready).
    LATENCY = 1

    def __init__(self, payload_shape):
        super().__init__({
            "i": In(stream.Signature(payload_shape)),
            "o": Out(stream.Signature(payload_shape)),
        })

    def elaborate(self, platform):
        m = Module()
        skid_valid = Signal(name="skid_valid")
        skid_payload = Signal.like(self.i.payload, name="skid_payload")
        # `ready` is the skid register's emptiness: from a flip-flop, never from `o.ready`.
        m.d.comb += self.i.ready.eq(~skid_valid)
        # While empty the skid register takes every payload offered, so its enable is its own emptiness: no
        # path from either side's handshake reaches the payload's flip-flops.
        with m.If(~skid_valid):
            m.d.sync += skid_payload.eq(self.i.payload)
        with m.If(~self.o.valid | self.o.ready):
            with m.If(skid_valid):
                m.d.sync += [self.o.valid.eq(1), self.o.payload.eq(skid_payload), skid_valid.eq(0)]
            with m.Else():
                m.d.sync += [self.o.valid.eq(self.i.valid), self.o.payload.eq(self.i.payload)]
        with m.Elif(self.i.valid & ~skid_valid):
            m.d.sync += skid_valid.eq(1)
        return m


class LayerRelays:
    """Joins a layer's blocks, stream to stream, each through a :class:`StreamRelay` added to ``m``.

    Every stream between two blocks of a layer crosses a register slice: the
    blocks lie far apart, and no handshake path spans two of them. A stream
    joined with ``tap`` is also shown on the layer's watch point
    ``tap_<tap>`` (its transfers: wires to the relay's input); ``tapped``
    says which were.
    """

    def __init__(self, m, layer):
        self.m, self.layer, self.tapped, self.count = m, layer, set(), 0

    def __call__(self, source, sink, tap=None):
        part = StreamRelay(source.payload.shape())
        self.m.submodules[f"relay{self.count}"] = part
        self.count += 1
        wiring.connect(self.m, source, part.i)
        wiring.connect(self.m, part.o, sink)
        if tap is not None:
            port = getattr(self.layer, f"tap_{tap}")
            self.m.d.comb += [port.valid.eq(source.valid & source.ready), port.payload.eq(source.payload)]
            self.tapped.add(tap)
