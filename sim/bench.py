"""The testbench top: the block under test between stream players and recorders, all in HDL.

Every cycle's work (driving beats, random idle and backpressure, checking the
stream rules, recording transfers) happens inside the simulator, in
``hdl/wccgen_stream_player.v`` and ``hdl/wccgen_stream_recorder.v``. The
cocotb test (:mod:`wccgen.sim.tb`) only starts phases and waits for their end;
the comparison runs in NumPy afterwards (:mod:`wccgen.sim.harness`).

The top depends only on the block's ports, never on a job's frames, seeds or
probabilities (those are inputs), so one simulator build serves every job of
the same Verilog.
"""

from dataclasses import dataclass
from pathlib import Path

from amaranth.hdl import Shape
from amaranth.lib import data, wiring

from ..hw.axi_stream_ports import axi_lane_bits
from .payload import PayloadCodec

__all__ = ["BENCH_SOURCES", "BENCH_TOPLEVEL", "BenchStream", "bench_streams", "bench_verilog"]

BENCH_TOPLEVEL = "wccgen_bench"
_HDL = Path(__file__).resolve().parent / "hdl"
#: The player and recorder modules every bench instantiates.
BENCH_SOURCES = (_HDL / "wccgen_stream_player.v", _HDL / "wccgen_stream_recorder.v")


@dataclass(frozen=True)
class BenchStream:
    """A stream port of the block, as the bench serves it.

    ``role`` is ``"player"`` (the bench drives it), ``"recorder"`` (the bench
    takes it, with backpressure) or ``"monitor"`` (an internal stream's tap).
    Its files in the run directory are ``<port>.beats`` and ``<port>.accepted``
    (player), ``<port>.rec`` and ``<port>.err`` (recorder and monitor).
    """

    port: str
    role: str
    codec: PayloadCodec

    @property
    def width(self):
        return self.codec.width


def _payload_layout(member):
    return member.signature.members["payload"].shape


def bench_streams(signature, spec):
    """The streams of a block of ``signature`` the bench serves, players first, then the output, then the taps."""
    members = signature.members
    streams = [BenchStream(spec.source, "player", PayloadCodec(_payload_layout(members[spec.source])))]
    if spec.load in members:
        streams.append(BenchStream(spec.load, "player", PayloadCodec(_payload_layout(members[spec.load]))))
    streams.append(BenchStream(spec.sink, "recorder", PayloadCodec(_payload_layout(members[spec.sink]))))
    for tap in spec.taps(signature):
        port = f"tap_{tap.name}"
        streams.append(BenchStream(port, "monitor", PayloadCodec(_payload_layout(members[port]))))
    return streams


def _status_width(members, name):
    member = members[name]
    if not member.is_port or member.flow != wiring.Out:
        raise ValueError(f"status: {name!r} is not an output port of the block")
    return Shape.cast(member.shape).width


def _axi_lanes(codec):
    """``(lanes, width)`` of a frame stream's payload: its ``data`` lanes (the low bits), then ``first``, ``last``."""
    layout = data.Layout.cast(codec.layout)
    lanes = data.Layout.cast(dict(layout)["data"].shape)
    return lanes.length, Shape.cast(lanes.elem_shape).width


def _axi_player(p, codec):
    """Connections of a player's stream to the block's ``s_axis_*`` ports: each lane sign-extended to whole
    bytes in ``tdata``, ``first`` as ``tuser``, ``last`` as ``tlast``."""
    lanes, width = _axi_lanes(codec)
    pad = axi_lane_bits(width) - width
    parts = [f"{{{{{pad}{{{p}_payload[{lane * width + width - 1}]}}}}, {p}_payload[{lane * width} +: {width}]}}"
             if pad else f"{p}_payload[{lane * width} +: {width}]" for lane in reversed(range(lanes))]
    return [f"        .s_axis_tdata({{{', '.join(parts)}}})", f"        .s_axis_tvalid({p}_valid)",
            f"        .s_axis_tready({p}_ready)", f"        .s_axis_tuser({p}_payload[{lanes * width}])",
            f"        .s_axis_tlast({p}_payload[{lanes * width + 1}])"]


def _axi_recorder(p, codec):
    """Wires and connections of a recorder's stream from the block's ``m_axis_*`` ports: the lanes' low bits of
    ``tdata``, ``tuser`` as ``first``, ``tlast`` as ``last``."""
    lanes, width = _axi_lanes(codec)
    step = axi_lane_bits(width)
    parts = [f"{p}_tdata[{lane * step} +: {width}]" for lane in reversed(range(lanes))]
    body = (f"    wire [{lanes * step - 1}:0] {p}_tdata;\n    wire {p}_tuser, {p}_tlast;\n"
            f"    assign {p}_payload = {{{p}_tlast, {p}_tuser, {', '.join(parts)}}};")
    return body, [f"        .m_axis_tdata({p}_tdata)", f"        .m_axis_tvalid({p}_valid)",
                  f"        .m_axis_tready({p}_ready)", f"        .m_axis_tuser({p}_tuser)",
                  f"        .m_axis_tlast({p}_tlast)"]


def bench_verilog(signature, spec, dut_module, axi=False):
    """Verilog of the bench top ``wccgen_bench`` around the block's module ``dut_module``.

    With ``axi``, the block's input and output streams are its AXI4-Stream
    ports (``hw.axi_stream_ports.AxiStreamPorts``): the bench drives and reads
    them through the same players and recorders, lanes packed as ``tdata``.

    Ports of the top: ``clk``, ``rst`` (the block's reset), ``running`` (the
    random generators hold their seeds while low), ``cycle``; per player
    ``<port>_play`` (running total of beats to send), ``_seed``, ``_idle``,
    ``_sent``, ``_underrun``, ``_done``; per recorder and monitor ``<port>_seed``,
    ``_backpressure``, ``_expect``, ``_count``, ``_last``, ``_errors``,
    ``_done`` (count reached expect); ``status_<name>`` per status output;
    ``setting_<name>`` per setting input (held by the test from before reset).
    """
    members = signature.members
    streams = bench_streams(signature, spec)
    served = {stream.port for stream in streams}
    ports = ["    input wire clk", "    input wire rst", "    input wire running", "    output reg [31:0] cycle"]
    body, connections = [], ["        .clk(clk)", "        .rst(rst)"]
    for stream in streams:
        p, w = stream.port, stream.width
        body.append(f"    wire {p}_valid;\n    wire [{w - 1}:0] {p}_payload;")
        if stream.role == "player":
            ports += [f"    input wire [31:0] {p}_play", f"    input wire [31:0] {p}_seed",
                      f"    input wire [16:0] {p}_idle", f"    output wire [31:0] {p}_sent",
                      f"    output wire {p}_underrun", f"    output wire {p}_done"]
            body.append(
                f"    wire {p}_ready;\n"
                f"    assign {p}_done = {p}_sent == {p}_play;\n"
                f"    wccgen_stream_player #(.WIDTH({w}), .FILE(\"{p}.beats\"), .LOG(\"{p}.accepted\")) {p}_player (\n"
                f"        .clk(clk), .cycle(cycle), .running(running), .seed({p}_seed), .idle({p}_idle),\n"
                f"        .play({p}_play), .valid({p}_valid), .payload({p}_payload), .ready({p}_ready),\n"
                f"        .sent({p}_sent), .underrun({p}_underrun)\n    );")
            connections += _axi_player(p, stream.codec) if axi else [
                f"        .{p}__valid({p}_valid)", f"        .{p}__payload({p}_payload)",
                f"        .{p}__ready({p}_ready)"]
        else:
            monitor = int(stream.role == "monitor")
            ports += [f"    input wire [31:0] {p}_seed", f"    input wire [16:0] {p}_backpressure",
                      f"    input wire [31:0] {p}_expect", f"    output wire [31:0] {p}_count",
                      f"    output wire [31:0] {p}_last", f"    output wire [31:0] {p}_errors",
                      f"    output wire {p}_done"]
            body.append(
                f"    wire {p}_ready;\n"
                f"    assign {p}_done = {p}_count >= {p}_expect;\n"
                f"    wccgen_stream_recorder #(.WIDTH({w}), .FILE(\"{p}.rec\"), .ERRORS(\"{p}.err\"), "
                f".MONITOR({monitor})) {p}_recorder (\n"
                f"        .clk(clk), .cycle(cycle), .running(running), .seed({p}_seed),\n"
                f"        .backpressure({p}_backpressure), .valid({p}_valid), .payload({p}_payload),\n"
                f"        .ready({p}_ready), .count({p}_count), .last({p}_last), .errors({p}_errors)\n    );")
            if axi and not monitor:
                wires, axi_connections = _axi_recorder(p, stream.codec)
                body.append(wires)
                connections += axi_connections
                continue
            connections += [f"        .{p}__valid({p}_valid)", f"        .{p}__payload({p}_payload)"]
            if not monitor:
                connections.append(f"        .{p}__ready({p}_ready)")
    for name in spec.status:
        width = _status_width(members, name)
        ports.append(f"    output wire [{width - 1}:0] status_{name}")
        connections.append(f"        .{name}(status_{name})")
    settings = spec.bench_settings(signature)
    for name, shape in settings.items():
        ports.append(f"    input wire [{shape.width - 1}:0] setting_{name}")
        connections.append(f"        .{name}(setting_{name})")
    for name, member in members.items():
        # Input ports the bench does not serve are held at zero, never left floating.
        if name not in served and name not in settings and member.is_port and member.flow == wiring.In:
            connections.append(f"        .{name}({Shape.cast(member.shape).width}'d0)")
    return (
        f"// {BENCH_TOPLEVEL}: the wccgen testbench top around {dut_module}\n"
        f"module {BENCH_TOPLEVEL} (\n" + ",\n".join(ports) + "\n);\n"
        "    initial cycle = 32'd0;\n"
        "    always @(posedge clk) cycle <= cycle + 32'd1;\n"
        + "\n".join(body) + "\n"
        f"    {dut_module} dut (\n" + ",\n".join(connections) + "\n    );\n"
        "endmodule\n"
    )
