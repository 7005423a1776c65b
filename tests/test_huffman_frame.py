"""The facts the Huffman encoder and decoder share, against the integer model's table, and their parameters
refused with the field named."""

import dataclasses

import numpy as np
import pytest
from helpers import laplace_table

from wccgen.golden.huffman import ESCAPE, HuffmanTable
from wccgen.golden.huffman_encoder import encode_frame
from wccgen.hw.huffman_frame import HuffmanFrameSpec


def test_codewords_are_the_tables_in_canonical_order():
    table = laplace_table()
    spec = HuffmanFrameSpec(table=table, channels=3, height=4, width=5)
    assert {key: (code, length) for key, code, length in spec.codewords} == table.codewords
    # Canonical: within a length the codes count up by one, and each length starts after the shorter ones.
    for (_, code, length), (_, next_code, next_length) in zip(spec.codewords, spec.codewords[1:]):
        assert next_code == (code + 1) << (next_length - length)
    assert spec.symbols_per_frame == 60


def test_window_is_the_longest_symbol():
    table = laplace_table(max_length=10)
    escaped = table.codewords[ESCAPE][1] + table.raw_bits
    assert HuffmanFrameSpec(table=table, channels=1, height=1, width=1).window == max(escaped, *table.lengths)
    short = HuffmanTable(symbols=(0,), lengths=(1,), escape_length=1, raw_bits=4, max_length=12)
    assert HuffmanFrameSpec(table=short, channels=1, height=1, width=1).window == 12  # the length limit


@pytest.mark.parametrize("shape", [(3, 4, 5), (1, 1, 1), (4, 3, 3)])
def test_the_longest_frame_is_bounded_and_reached(shape):
    """Every symbol at its longest (escaped, or the longest codeword where that is longer) reaches the bound;
    random frames stay within it."""
    table = laplace_table()
    spec = HuffmanFrameSpec(table=table, channels=shape[0], height=shape[1], width=shape[2])
    codewords = table.codewords
    lengths = {value: codewords[value][1] if value in codewords else codewords[ESCAPE][1] + table.raw_bits
               for value in range(-128, 128)}
    longest = max(lengths, key=lengths.get)
    assert lengths[longest] == spec.longest_symbol_bits
    assert encode_frame(np.full(shape, longest), table)[0].size == spec.max_frame_bytes
    rng = np.random.default_rng(1)
    for _ in range(20):
        frame = rng.integers(-128, 128, shape)
        assert encode_frame(frame, table)[0].size <= spec.max_frame_bytes


def test_a_table_given_as_its_fields_is_the_same_table():
    table = laplace_table()
    spec = HuffmanFrameSpec(table=dataclasses.asdict(table), channels=1, height=2, width=2)
    assert spec.table == table


@pytest.mark.parametrize("bad,error,message", [
    (dict(table=dict(symbols=(0, 1, 2), lengths=(1, 1, 2), escape_length=2, raw_bits=8, max_length=12)),
     ValueError, "lengths: not a prefix-free code"),
    (dict(table=dict(symbols=(0, 1), lengths=(1, 20), escape_length=20, raw_bits=8, max_length=12)),
     ValueError, "max_length = 12"),
    (dict(table=[1, 2]), TypeError, "table: must be a HuffmanTable"),
    (dict(channels=0), ValueError, "channels"),
    (dict(height=-1), ValueError, "height"),
    (dict(width=2.5), (TypeError, ValueError), "width"),
])
def test_invalid_parameters_are_named(bad, error, message):
    params = dict(table=laplace_table(), channels=2, height=2, width=2) | bad
    with pytest.raises(error, match=message):
        HuffmanFrameSpec(**params)
