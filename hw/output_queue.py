"""Output queue of a fixed-latency pipeline: the pipeline never stalls, the queue absorbs backpressure."""

from amaranth.hdl import Cat, Module, Mux, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from .pipeline import RELAY, stepped_count, wrapping_counter

__all__ = ["OutputQueue"]


class OutputQueue(wiring.Component):
    """A FIFO with room reserved for every beat issued into a pipeline of ``latency`` cycles.

    (The FIFO is its own, not ``amaranth.lib.fifo``: its level logic sat on the
    critical path from the sink's ``ready``.)

    A producer issues a beat only while ``room`` is high and tells the queue
    with ``issue``; the beat arrives on ``push`` exactly
    ``latency`` cycles later and always finds a free entry. The pipeline in
    between therefore has no enable: no stall signal has to reach every
    register and block RAM of it, which is what keeps the clock fast. With the
    sink always ready, one beat per cycle flows.

    With ``burst`` above 1, ``room`` high promises room for ``burst`` beats
    issued from that cycle on, whatever ``room`` does meanwhile: a producer may
    commit to a burst at once (each beat is still told with ``issue``) and then
    run it without looking at ``room``.

    Parameters
    ----------
    payload_shape : shape-like
    latency : int
        Cycles from ``issue`` to the beat on ``push``.
    burst : int
        Beats one sight of ``room`` allows (default 1).
    relay_push : bool
        Each slice takes the pushed beat through registers of its own, one
        cycle more (:meth:`push_latency`): for producers whose data come from
        all over the device, where the push's valid alone would be one net to
        every slice's write enable.

    Attributes
    ----------
    room : Out(1)
    issue : In(1)
    push : In(stream.Signature(payload_shape, always_ready=True))
        The beat issued ``latency`` cycles before.
    o : Out(stream.Signature(payload_shape))
    """

    #: Cycles from a beat on ``push`` to the beat on ``o`` without the push relays: the write, the output register.
    LATENCY = 2

    #: Cycles ``room`` lags the count it is computed from.
    ROOM_DELAY = 2

    #: Payload bits per slice of storage with its own pointers. (At 32 a pointer reached 16 LUT RAM cells and
    #: more, and its route to the slice's `advance` was the MAC array's critical path: with 16 the array placed
    #: 13-23 MHz faster alone in three seeds, with 8 no faster than with 16.)
    CHUNK_BITS = 16

    def __init__(self, payload_shape, latency, burst=1, relay_push=False):
        self.latency = latency
        self.burst = burst
        self.relay_push = bool(relay_push)
        # Room for every beat between issue and the sink with the sink always
        # ready, plus the beats issued while `room` catches up, plus the one
        # issued beat not yet counted and the one taken beat not yet counted,
        # plus the rest of a burst.
        self.depth = latency + self.push_latency(self.relay_push) + 2 + 2 * self.ROOM_DELAY + 2 + (burst - 1)
        super().__init__({
            "room": Out(1),
            "issue": In(1),
            "push": In(stream.Signature(payload_shape, always_ready=True)),
            "o": Out(stream.Signature(payload_shape)),
        })

    @classmethod
    def push_latency(cls, relay_push=False):
        """Cycles from a beat on ``push`` to the beat on ``o``."""
        return cls.LATENCY + int(relay_push)

    def elaborate(self, platform):
        m = Module()
        width = len(self.push.payload.as_value())
        # LUT RAM with read pointers and output registers: the sink's ready
        # reaches only those and a counter.
        entries = self.depth + 1  # the credit count keeps it from ever filling
        # A wide queue is a set of slices of CHUNK_BITS, each a complete queue
        # of its own (pointers, output register) in lockstep with the others:
        # one set of pointers and controls reaching every LUT RAM of a few
        # hundred bits crossed half the device. Only the push's valid (through a
        # relay of each slice's own, with `relay_push`) and the sink's `ready`
        # reach all slices.
        payload = self.push.payload.as_value()
        slices = [self._slice(m, entries, index, payload[low:low + self.CHUNK_BITS])
                  for index, low in enumerate(range(0, width, self.CHUNK_BITS))]
        out_valid = slices[0][0]
        m.d.comb += [self.o.valid.eq(out_valid), self.o.payload.eq(Cat(*(value for _, value in slices)))]

        # Beats issued and not yet taken by the sink: in the pipeline, stored or
        # in the output register. `room` reaches the issuing logic through two
        # registers (it may sit far away), so it reserves ROOM_DELAY spare entries.
        # `issue` and the sink's transfers are counted a cycle late, through
        # registers: the first may come from far away and from several
        # producers, the second from logic behind the sink's `ready`; neither
        # then reaches the counter's adder in the same cycle.
        issued, taken = Signal(name="issued"), Signal(name="taken")
        m.d.sync += [issued.eq(self.issue), taken.eq(out_valid & self.o.ready)]
        outstanding = Signal(range(self.depth + 1))
        m.d.sync += outstanding.eq(outstanding + issued - taken)
        room = Signal(name="room_relay_0", attrs=RELAY)
        m.d.sync += room.eq(outstanding < self.depth - self.ROOM_DELAY - self.burst)
        m.d.sync += self.room.eq(room)
        return m

    def _slice(self, m, entries, index, push_data):
        """One slice of the storage with its own pointers and output register; its ``(valid, data)``."""
        # Every slice after the first is a relay of the first: its registers are kept apart from the first's.
        relay = index > 0
        suffix = f"_relay_{index}" if relay else ""
        push_valid, push_relay = self.push.valid, push_data
        if self.relay_push:
            push_valid = Signal(name=f"push_valid_relay_{index}", attrs=RELAY)
            push_relay = Signal(len(push_data), name=f"push_data_relay_{index}", attrs=RELAY)
            m.d.sync += [push_valid.eq(self.push.valid), push_relay.eq(push_data)]
        # (Counters with registered wrap flags: no comparator before a pointer's register.)
        advance = Signal(name=f"advance{suffix}")
        write_pointer, _ = wrapping_counter(m, push_valid, entries, f"write_pointer{suffix}", relay=relay)
        read_pointer, _ = wrapping_counter(m, advance, entries, f"read_pointer{suffix}", relay=relay)
        # LUT RAM whatever the depth: its read is combinational, which a block RAM would make slow.
        storage = Memory(shape=len(push_data), depth=entries, init=[], attrs={"ram_style": "distributed"})
        m.submodules[f"storage{index}"] = storage
        write, read = storage.write_port(), storage.read_port(domain="comb")
        m.d.comb += [write.addr.eq(write_pointer), write.data.eq(push_relay), write.en.eq(push_valid),
                     read.addr.eq(read_pointer)]
        attrs = RELAY if relay else {}
        out_valid = Signal(name=f"out_valid{suffix}", attrs=attrs)
        out_data = Signal(len(push_data), name=f"out_data{suffix}", attrs=attrs)
        # Entries stored and not yet loaded, and a register of whether there is one: the sink's `ready` reaches
        # the read pointer's enable through one gate (a comparison of the two pointers was a block's critical
        # path). `stored` is `held != 0` by induction: a push leaves at least one, an advance only from one.
        held = Signal(range(entries + 1), name=f"held{suffix}", attrs=attrs)
        stored = Signal(name=f"stored{suffix}", attrs=attrs)
        load = ~out_valid | self.o.ready
        m.d.comb += advance.eq(load & stored)
        m.d.sync += [held.eq(stepped_count(held, push_valid, advance)),
                     stored.eq(push_valid | Mux(advance, held != 1, stored))]
        with m.If(load):
            m.d.sync += [out_valid.eq(stored), out_data.eq(read.data)]
        return out_valid, out_data
