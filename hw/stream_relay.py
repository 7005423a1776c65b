"""A register slice for a stream: every signal across it comes from a flip-flop."""

from amaranth.hdl import Module, Signal, Value
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from .pipeline import RELAY

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

    #: Payload bits per slice with flags of its own.
    CHUNK_BITS = 32

    def __init__(self, payload_shape):
        super().__init__({
            "i": In(stream.Signature(payload_shape)),
            "o": Out(stream.Signature(payload_shape)),
        })

    def elaborate(self, platform):
        m = Module()
        payload_in, payload_out = Value.cast(self.i.payload), Value.cast(self.o.payload)
        width = len(payload_in)
        # A wide payload is a set of slices of CHUNK_BITS, each a complete skid buffer of its own (flags and
        # registers) in lockstep with the others: one `skid_valid` choosing every bit of a wide payload reached
        # slices across the device. Only `i.valid`, `i.payload` and `o.ready` reach all slices.
        flags = [self._slice(m, index, payload_in[low:low + self.CHUNK_BITS], payload_out[low:low + self.CHUNK_BITS])
                 for index, low in enumerate(range(0, max(width, 1), self.CHUNK_BITS))]
        skid_valid, out_valid = flags[0]
        # `ready` is the skid register's emptiness: from a flip-flop, never from `o.ready`.
        m.d.comb += [self.i.ready.eq(~skid_valid), self.o.valid.eq(out_valid)]
        return m

    def _slice(self, m, index, payload_in, payload_out):
        """One slice of the payload with its own flags; its ``(skid_valid, out_valid)``."""
        suffix, attrs = (f"_relay_{index}", RELAY) if index else ("", {})
        skid_valid = Signal(name=f"skid_valid{suffix}", attrs=attrs)
        out_valid = Signal(name=f"out_valid{suffix}", attrs=attrs)
        skid_payload = Signal(len(payload_in), name=f"skid_payload{suffix}")
        out_payload = Signal(len(payload_out), name=f"out_payload{suffix}")
        m.d.comb += payload_out.eq(out_payload)
        # While empty the skid register takes every payload offered, so its enable is its own emptiness: no
        # path from either side's handshake reaches the payload's flip-flops.
        with m.If(~skid_valid):
            m.d.sync += skid_payload.eq(payload_in)
        with m.If(~out_valid | self.o.ready):
            with m.If(skid_valid):
                m.d.sync += [out_valid.eq(1), out_payload.eq(skid_payload), skid_valid.eq(0)]
            with m.Else():
                m.d.sync += [out_valid.eq(self.i.valid), out_payload.eq(payload_in)]
        with m.Elif(self.i.valid & ~skid_valid):
            m.d.sync += skid_valid.eq(1)
        return skid_valid, out_valid


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
