"""The facts the zero-flag encoder and decoder share, against the integer model's streams, and their parameters
refused with the field named."""

import numpy as np
import pytest

from wccgen.golden.zero_flag_coder import zero_flag_encode
from wccgen.hw.zero_flag_frame import ZeroFlagFrameSpec


@pytest.mark.parametrize("shape,bits", [((3, 4, 5), 4), ((1, 1, 1), 2), ((4, 4, 4), 8), ((1, 1, 7), 3)])
def test_the_flags_and_the_longest_frame_are_those_of_the_stream(shape, bits):
    """The flag bytes and their tail are where the stream's flags end; every code at +-Q reaches the longest
    frame, random frames stay within it."""
    spec = ZeroFlagFrameSpec(components=shape[0], height=shape[1], width=shape[2], bits=bits)
    assert spec.codes_per_frame == np.prod(shape) and spec.limit == (1 << (bits - 1)) - 1
    assert (spec.flag_bytes, spec.tail_flags) == (-(-spec.codes_per_frame // 8), spec.codes_per_frame % 8)
    ones = np.full(shape, spec.limit)
    stream = zero_flag_encode(ones, bits)
    flags = np.unpackbits(stream, bitorder="little")[:spec.flag_bytes * 8]
    assert flags[:spec.codes_per_frame].all()
    assert stream.size == spec.max_frame_bytes == zero_flag_encode(-ones, bits).size
    assert zero_flag_encode(np.zeros(shape, dtype=int), bits).size == spec.flag_bytes
    # A bank of flag bytes is addressed with the fewest bits that reach its last byte (at least one).
    assert 1 << spec.flag_address_bits >= spec.flag_bytes > 1 << (spec.flag_address_bits - 1) or \
        spec.flag_address_bits == 1 >= spec.flag_bytes - 1
    rng = np.random.default_rng(1)
    for _ in range(20):
        frame = rng.integers(-spec.limit, spec.limit + 1, shape)
        assert zero_flag_encode(frame, bits).size <= spec.max_frame_bytes


@pytest.mark.parametrize("bad,error,message", [
    (dict(bits=9), ValueError, "bits: the zero-flag blocks take codes of at most 8 bits, got 9"),
    (dict(bits=1), ValueError, "bits"),
    (dict(bits=4.0), TypeError, "bits"),
    (dict(components=0), ValueError, "components"),
    (dict(width=-1), ValueError, "width"),
    (dict(height="2"), TypeError, "height"),
])
def test_bad_parameters_are_refused_with_the_field_named(bad, error, message):
    params = dict(components=2, height=2, width=2, bits=4) | bad
    with pytest.raises(error, match=message):
        ZeroFlagFrameSpec(**params)
