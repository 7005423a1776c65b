"""Memory port signatures: the reader's side drives the address and takes the data; a holder takes the port
flipped, and ``wiring.connect`` joins the two only when depth and width agree."""

import pytest
from amaranth.hdl import Fragment, Module, Shape
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from wccgen.hw.memory_ports import read_port, write_port


def test_read_and_write_ports_have_the_memory_s_address_and_word():
    def widths(signature):
        return {name: (member.flow, Shape.cast(member.shape).width) for name, member in signature.members.items()}

    assert widths(read_port(600, 12)) == {"addr": (Out, 10), "data": (In, 12)}
    assert widths(write_port(3, 5)) == {"addr": (Out, 2), "data": (Out, 5), "en": (Out, 1)}
    assert widths(read_port(1, 4))["addr"] == (Out, 1)  # a one-word memory still has an address bit


def connect(*interfaces):
    """``wiring.connect`` in a module that is then elaborated (so none is left unused)."""
    m = Module()
    try:
        wiring.connect(m, *interfaces)
    finally:
        Fragment.get(m, None)


def test_a_reader_connects_to_a_holder_of_the_same_memory_only():
    reader = read_port(64, 8).create(path=("reader",))
    connect(reader, read_port(64, 8).flip().create(path=("holder",)))
    for other in (read_port(64, 9), read_port(600, 8)):
        with pytest.raises(wiring.ConnectionError):
            connect(read_port(64, 8).create(path=("r",)), other.flip().create(path=("h",)))
    with pytest.raises(wiring.ConnectionError):  # two readers: both drive the address
        connect(reader, read_port(64, 8).create(path=("other",)))
