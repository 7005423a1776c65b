"""The canonical length-limited Huffman coder against independent oracles: a heap-built Huffman code, a brute-force
search over all length assignments, and a decoder that tries every codeword as a prefix."""

import heapq
import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wccgen.golden.huffman import (ESCAPE, HuffmanTable, StreamError, build_table, canonical_codes, code_lengths,
                                   coded_bits, decode, decode_frame_flagged, encode, symbol_lengths)


def heap_huffman_cost(counts):
    """Total coded length of an unlimited Huffman code, merged with a heap (textbook construction)."""
    if len(counts) == 1:
        return counts[0]
    heap = list(counts)
    heapq.heapify(heap)
    cost = 0
    while len(heap) > 1:
        merged = heapq.heappop(heap) + heapq.heappop(heap)
        cost += merged
        heapq.heappush(heap, merged)
    return cost


def brute_force_cost(counts, max_length):
    """The least total length over every assignment of lengths 1..max_length that satisfies Kraft's inequality."""
    best = None
    for lengths in itertools.product(range(1, max_length + 1), repeat=len(counts)):
        if sum(2.0 ** -length for length in lengths) <= 1:
            cost = sum(c * length for c, length in zip(counts, lengths))
            best = cost if best is None else min(best, cost)
    return best


@settings(max_examples=60, deadline=None, derandomize=True)
@given(counts=st.lists(st.integers(1, 1000), min_size=2, max_size=6), max_length=st.integers(3, 5))
def test_lengths_are_optimal_under_the_limit(counts, max_length):
    if len(counts) > 1 << max_length:
        return
    lengths = code_lengths(counts, max_length)
    assert max(lengths) <= max_length and sum(2.0 ** -length for length in lengths) <= 1
    assert sum(c * length for c, length in zip(counts, lengths)) == brute_force_cost(counts, max_length)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(counts=st.lists(st.integers(1, 10**6), min_size=1, max_size=40))
def test_without_a_binding_limit_the_lengths_are_huffman_s(counts):
    lengths = code_lengths(counts, 24)
    assert sum(c * length for c, length in zip(counts, lengths)) == heap_huffman_cost(counts)


def test_a_skewed_histogram_is_limited_and_canonical_codes_are_prefix_free():
    counts = [2**k for k in range(20)]  # Huffman would give lengths up to 19
    lengths = code_lengths(counts, 12)
    assert max(lengths) == 12 and sum(2.0 ** -length for length in lengths) == 1
    codes = canonical_codes(lengths)
    words = [format(code, f"0{length}b") for code, length in zip(codes, lengths)]
    assert not any(a != b and b.startswith(a) for a in words for b in words)
    assert all(code < 2**length for code, length in zip(codes, lengths))


def prefix_decoder(bits, count, table):
    """Oracle decoder: at every position, the one codeword the next bits start with, by trying all of them."""
    text = "".join(map(str, bits))
    words = {format(code, f"0{length}b"): key for key, (code, length) in table.codewords.items()}
    out, position = [], 0
    for _ in range(count):
        matches = [word for word in words if text.startswith(word, position)]
        assert len(matches) == 1
        position += len(matches[0])
        key = words[matches[0]]
        if key == ESCAPE:
            raw = int(text[position:position + table.raw_bits], 2)
            position += table.raw_bits
            key = raw - (1 << table.raw_bits) if raw >= 1 << (table.raw_bits - 1) else raw
        out.append(key)
    return out, position


@settings(max_examples=50, deadline=None, derandomize=True)
@given(calibration=st.lists(st.integers(-8, 8), min_size=1, max_size=200),
       data=st.lists(st.integers(-128, 127), min_size=0, max_size=100), max_length=st.integers(5, 15))
def test_encode_decode_round_trip_against_the_prefix_oracle(calibration, data, max_length):
    histogram = {symbol: calibration.count(symbol) for symbol in set(calibration)}
    table = build_table(histogram, max_length=max_length, raw_bits=8)
    bits = encode(data, table)
    got, used = decode(bits, len(data), table)
    assert got.tolist() == data and used == bits.size
    assert prefix_decoder(bits.tolist(), len(data), table) == (data, bits.size)
    seen = [symbol for symbol in data if symbol in histogram]
    # Symbols seen in calibration never take the escape: their own codeword is at most max_length bits.
    assert bits.size <= len(seen) * max_length + (len(data) - len(seen)) * (max_length + 8)


def test_a_cut_or_corrupt_stream_is_refused():
    table = build_table({0: 100, 1: 30, -1: 30, 2: 5}, max_length=6, raw_bits=8)
    bits = encode([0, 1, 2, 100, -1], table)
    for cut in range(bits.size):
        with pytest.raises(StreamError, match="cut short"):
            decode(bits[:cut], 5, table)
    # An incomplete code (Kraft sum 0.75): codewords 0, 100 and the escape 101; bits 11 begin none.
    incomplete = HuffmanTable(symbols=(0, 1), lengths=(1, 3), escape_length=3, raw_bits=8, max_length=6)
    assert {key: format(code, f"0{length}b") for key, (code, length) in incomplete.codewords.items()} == {
        0: "0", 1: "100", ESCAPE: "101"}
    with pytest.raises(StreamError, match="bits 1..6 begin no codeword"):
        decode(np.array([0, 1, 1, 0, 0, 0, 0, 0, 0], dtype=np.uint8), 2, incomplete)


@pytest.mark.parametrize("fields,message", [
    (dict(symbols=(0, 1), lengths=(1,), escape_length=1), "lengths: 1 lengths for 2 symbols"),
    (dict(symbols=(0, 0), lengths=(1, 2), escape_length=2), "appears twice"),
    (dict(symbols=(0, 1, 2), lengths=(1, 1, 2), escape_length=2), "not a prefix-free code"),
    (dict(symbols=(0, 1), lengths=(1, 20), escape_length=20), "max_length = 12"),
    (dict(symbols=(1, 0), lengths=(1, 2), escape_length=2), None),
    (dict(symbols=(0, 1), lengths=(2, 1), escape_length=2), "canonical order"),
    (dict(symbols=(0, 300), lengths=(1, 2), escape_length=2), "does not fit raw_bits"),
])
def test_tables_that_are_not_a_limited_prefix_free_code_are_refused(fields, message):
    if message is None:
        HuffmanTable(**fields, raw_bits=8, max_length=12)  # valid: canonical by length, then value
        return
    with pytest.raises(ValueError, match=message):
        HuffmanTable(**fields, raw_bits=8, max_length=12)


def test_bad_histograms_and_limits_are_refused():
    with pytest.raises(ValueError, match="no symbol"):
        build_table({3: 0})
    with pytest.raises(ValueError, match="more than 2 bits"):
        code_lengths([1, 1, 1, 1, 1], 2)
    with pytest.raises(ValueError, match="at least once"):
        code_lengths([1, 0], 4)
    table = build_table({0: 5}, max_length=4, raw_bits=4)
    with pytest.raises(ValueError, match="does not fit the escape"):
        encode([9], table)


def test_a_frame_is_refused_with_its_kind_and_the_symbols_read_before_the_error():
    """Each way a frame can be wrong, made by hand from a good one; the symbols kept are the prefix oracle's."""
    table = build_table({0: 100, 1: 30, -1: 30, 2: 5}, max_length=6, raw_bits=8)
    symbols = [0, 1, 2, 100, -1, 0, 0, 0]
    bits = encode(symbols, table)
    stream = np.packbits(bits, bitorder="little")
    got, kind = decode_frame_flagged(stream, 8, table)
    assert kind is None and got.tolist() == symbols
    # Cut: the last byte gone; the symbols whose bits all remain are read, by the oracle on those bits.
    cut = stream[:-1]
    got, kind = decode_frame_flagged(cut, 8, table)
    whole = max(n for n in range(9) if prefix_decoder(bits.tolist(), n, table)[1] <= cut.size * 8)
    assert kind == "cut" and 0 < whole < 8 and got.tolist() == symbols[:whole] + [0] * (8 - whole)
    got, kind = decode_frame_flagged(np.append(stream, 0), 8, table)
    assert kind == "over_long" and got.tolist() == symbols
    padded = stream.copy()
    assert bits.size % 8, "the frame needs padding bits for this case"
    padded[-1] |= 0x80  # the last padding bit
    got, kind = decode_frame_flagged(padded, 8, table)
    assert kind == "padding" and got.tolist() == symbols
    incomplete = HuffmanTable(symbols=(0, 1), lengths=(1, 3), escape_length=3, raw_bits=8, max_length=6)
    # 0, 0, then 11 begins no codeword: two symbols read.
    stream = np.packbits(np.array([0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], dtype=np.uint8), bitorder="little")
    got, kind = decode_frame_flagged(stream, 4, incomplete)
    assert kind == "no_codeword" and got.tolist() == [0, 0, 0, 0]


def test_symbol_lengths_are_what_encode_writes_for_each_symbol():
    rng = np.random.default_rng(8)
    table = build_table({int(v): int(c) for v, c in zip(range(-6, 7), rng.integers(1, 50, 13))}, max_length=8)
    symbols = rng.integers(-128, 128, 200)
    assert symbol_lengths(symbols, table).tolist() == [encode([s], table).size for s in symbols.tolist()]
    assert coded_bits(symbols, table) == encode(symbols, table).size
    with pytest.raises(ValueError, match="does not fit"):
        symbol_lengths([200], table)
