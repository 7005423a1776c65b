"""The facts of a frame of codes and of CAP's fixed-width frames, against the integer model's streams, and the
parameters refused with the field named."""

import numpy as np
import pytest

from wccgen.golden.fixed_width_coder import fixed_width_encode
from wccgen.hw.code_frame import CodeFrameSpec, FixedWidthFrameSpec, address_bits


@pytest.mark.parametrize("shape,bits", [((3, 4, 5), 5), ((1, 1, 1), 2), ((4, 4, 4), 8), ((1, 1, 7), 3)])
def test_the_bytes_and_padding_are_those_of_the_stream(shape, bits):
    spec = FixedWidthFrameSpec(components=shape[0], height=shape[1], width=shape[2], bits=bits)
    assert spec.codes_per_frame == np.prod(shape) and spec.limit == (1 << (bits - 1)) - 1
    stream = fixed_width_encode(np.full(shape, -spec.limit), bits)
    assert stream.size == spec.frame_bytes
    # The padding bits are the zero bits at the top of the last byte, after the last code's sign bit (1 at -Q).
    top = np.unpackbits(stream, bitorder="little")[::-1]
    assert int(np.argmax(top)) == spec.padding_bits and spec.padding_bits < 8


def test_address_bits_reach_the_last_entry():
    assert [address_bits(depth) for depth in (1, 2, 3, 4, 5, 1024, 1025)] == [1, 1, 2, 2, 3, 10, 11]


@pytest.mark.parametrize("spec_class,blocks", [(CodeFrameSpec, "coder"), (FixedWidthFrameSpec, "fixed-width")])
@pytest.mark.parametrize("bad,error,message", [
    (dict(bits=9), ValueError, "bits: the {blocks} blocks take codes of at most 8 bits, got 9"),
    (dict(bits=1), ValueError, "bits"),
    (dict(bits=4.0), TypeError, "bits"),
    (dict(components=0), ValueError, "components"),
    (dict(width=-1), ValueError, "width"),
    (dict(height="2"), TypeError, "height"),
])
def test_bad_parameters_are_refused_with_the_field_named(spec_class, blocks, bad, error, message):
    params = dict(components=2, height=2, width=2, bits=4) | bad
    with pytest.raises(error, match=message.format(blocks=blocks)):
        spec_class(**params)
