"""AXI4-Stream ports around a block of frame streams: the names and framing FPGA integrators wire to."""

from amaranth.hdl import Cat, Module, Shape
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

__all__ = ["AxiStreamPorts", "axi_lane_bits"]


def axi_lane_bits(width):
    """Bits a value of ``width`` bits takes in ``tdata``: the next whole byte (AXI4-Stream's byte lanes)."""
    return -(-width // 8) * 8


def _lanes(member, port):
    """``(lanes, width)`` of a stream member whose payload is a frame beat (``data``, ``first``, ``last``)."""
    layout = data.Layout.cast(member.signature.members["payload"].shape)
    fields = dict(layout)
    if not isinstance(layout, data.StructLayout) or set(fields) != {"data", "first", "last"}:
        raise TypeError(f"{port}: AXI4-Stream ports need a frame stream (data, first, last), got {layout!r}")
    lanes = fields["data"].shape
    if not isinstance(lanes, data.ArrayLayout):
        raise TypeError(f"{port}: AXI4-Stream ports need a frame stream of lanes of values, got data of {lanes!r}")
    return lanes.length, Shape.cast(lanes.elem_shape).width


class AxiStreamPorts(wiring.Component):
    """``inner`` with its input and output frame streams as AXI4-Stream ports.

    The input stream ``source`` becomes ``s_axis_*``, the output stream
    ``sink`` ``m_axis_*``: ``tdata`` holds the beat's lanes, lane 0 in the
    low bits, each sign-extended to a whole number of bytes (a lane of 8 bits
    is a byte; one of 21 bits takes 24); ``tuser`` marks a frame's first beat
    and ``tlast`` its last, as the streams' ``first`` and ``last`` do;
    ``tvalid`` and ``tready`` are the streams' handshake. The bits of an
    input lane above its width are not read. Every other port of ``inner``
    (its watch points, status and settings) keeps its name. It is wiring
    only: no register, no cycle of latency.

    Parameters
    ----------
    inner : wiring.Component
    source, sink : str
        Names of ``inner``'s input and output stream ports.

    Attributes
    ----------
    s_axis_tdata, s_axis_tvalid, s_axis_tlast, s_axis_tuser : In
    s_axis_tready : Out(1)
    m_axis_tdata, m_axis_tvalid, m_axis_tlast, m_axis_tuser : Out
    m_axis_tready : In(1)
    """

    def __new__(cls, inner, source, sink):
        # Refused before the component exists: no unused elaboratable is left behind.
        members = inner.signature.members
        for port in (source, sink):
            if port not in members:
                raise ValueError(f"{port}: {type(inner).__name__} has no such port")
            _lanes(members[port], port)
        return super().__new__(cls, src_loc_at=1)

    def __init__(self, inner, source, sink):
        members = inner.signature.members
        self.inner, self.source, self.sink = inner, source, sink
        self.source_lanes = _lanes(members[source], source)
        self.sink_lanes = _lanes(members[sink], sink)
        ports = {name: member for name, member in members.items() if name not in (source, sink)}
        for prefix, (lanes, width), flow in (("s_axis", self.source_lanes, In), ("m_axis", self.sink_lanes, Out)):
            back = Out if flow is In else In
            ports.update({f"{prefix}_tdata": flow(lanes * axi_lane_bits(width)), f"{prefix}_tvalid": flow(1),
                          f"{prefix}_tready": back(1), f"{prefix}_tlast": flow(1), f"{prefix}_tuser": flow(1)})
        super().__init__(ports)

    def elaborate(self, platform):
        m = Module()
        m.submodules.inner = inner = self.inner
        for name, member in self.signature.members.items():
            if name.startswith(("s_axis_", "m_axis_")):
                continue
            if member.is_signature:
                wiring.connect(m, getattr(inner, name), wiring.flipped(getattr(self, name)))
            elif member.flow == In:
                m.d.comb += getattr(inner, name).eq(getattr(self, name))
            else:
                m.d.comb += getattr(self, name).eq(getattr(inner, name))

        source = getattr(inner, self.source)
        lanes, width = self.source_lanes
        step = axi_lane_bits(width)
        m.d.comb += [source.valid.eq(self.s_axis_tvalid), self.s_axis_tready.eq(source.ready),
                     source.payload.first.eq(self.s_axis_tuser), source.payload.last.eq(self.s_axis_tlast)]
        m.d.comb += [source.payload.data[lane].eq(self.s_axis_tdata[lane * step:lane * step + width])
                     for lane in range(lanes)]

        sink = getattr(inner, self.sink)
        lanes, width = self.sink_lanes
        step = axi_lane_bits(width)
        values = [sink.payload.data[lane] for lane in range(lanes)]
        m.d.comb += [self.m_axis_tvalid.eq(sink.valid), sink.ready.eq(self.m_axis_tready),
                     self.m_axis_tuser.eq(sink.payload.first), self.m_axis_tlast.eq(sink.payload.last),
                     self.m_axis_tdata.eq(Cat(*[Cat(value, value[-1].replicate(step - width)) for value in values]))]
        return m
