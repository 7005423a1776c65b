"""How a block's stream carries a frame: beats to and from the arrays the golden model uses.

Three kinds of stream exist. A :class:`FrameStream` carries a ``(C, H, W)``
frame of signed values, ``lanes`` channels per beat, in raster order (a
:class:`BlockOrderStream` in block order, square blocks in raster order, each
once per channel group, its pixels in Morton order; an :class:`EmissionOrderStream` a
coefficient frame in the forward transform's emission order). A
:class:`VectorStream` carries a ``(C, k)`` frame of kept vectors the same
way, vector after vector. A :class:`WordStream` carries a compressed frame as raw words: a ``(words,
bytes_per_word)`` uint8 array, each row one word little-endian, so any word
width and any (even corrupt) length fit. Beats are arrays, as
:class:`wccgen.sim.payload.PayloadCodec` reads and writes them.
"""

import numpy as np

from ..golden.huffman import decode, symbol_lengths
from ..golden.emission_order import emission_order
from ..golden.kept_haar_inverse import block_order, morton_offsets
from .compare import frame_mismatch
from .frames import beats_to_frame, frame_to_beats

__all__ = ["BlockOrderStream", "ByteStream", "EmissionOrderStream", "FixedWidthByteStream", "FrameStream",
           "HuffmanByteStream", "VectorStream", "WordStream", "ZeroFlagByteStream", "bytes_to_words", "words_to_bytes"]


class FrameStream:
    """A stream of ``frame_beat`` payloads: signed values of one position per beat.

    Parameters
    ----------
    lanes : str
        The attribute of the block's spec that says how many values a beat carries.
    """

    def __init__(self, lanes="lanes"):
        self.lanes = lanes

    def beats(self, facts, frame):
        return frame_to_beats(np.asarray(frame), getattr(facts, self.lanes))

    def beat_count(self, facts, frame):
        return np.asarray(frame).size // getattr(facts, self.lanes)

    def frame(self, facts, beats, want):
        return beats_to_frame(beats, *want.shape, getattr(facts, self.lanes))

    def mismatch(self, block, index, want, got, facts):
        return frame_mismatch(block, index, want, got)


class BlockOrderStream(FrameStream):
    """A stream of ``frame_beat`` payloads carrying a padded ``(C, H', W')`` frame in block order
    (:func:`~wccgen.golden.kept_haar_inverse.block_order`), over the ``levels`` of the block's spec."""

    def beats(self, facts, frame):
        return block_order(frame, facts.levels, getattr(facts, self.lanes))

    def frame(self, facts, beats, want):
        channels, height, width = np.shape(want)
        lanes, side = getattr(facts, self.lanes), 1 << facts.levels
        rows, cols = morton_offsets(facts.levels)
        beats = np.asarray(beats, dtype=np.int64).reshape(height // side, width // side, channels // lanes,
                                                          side * side, lanes)
        out = np.empty((channels, height, width), dtype=np.int64)
        for top in range(height // side):
            for left in range(width // side):
                for group in range(channels // lanes):
                    out[group * lanes:(group + 1) * lanes, top * side + rows, left * side + cols] = \
                        beats[top, left, group].T
        return out


class EmissionOrderStream(FrameStream):
    """A stream of ``frame_beat`` payloads carrying a padded ``(C, H', W')`` coefficient frame in the order
    :func:`~wccgen.golden.emission_order.emission_order` gives for the ``levels`` of the block's spec: position
    after position, ``C / lanes`` beats each."""

    def beats(self, facts, frame):
        frame = np.asarray(frame, dtype=np.int64)
        channels, height, width = frame.shape
        order = emission_order(height, width, facts.levels)
        return super().beats(facts, frame.reshape(channels, 1, -1)[:, :, order])

    def frame(self, facts, beats, want):
        channels, height, width = np.shape(want)
        order = emission_order(height, width, facts.levels)
        ordered = super().frame(facts, beats, np.empty((channels, 1, height * width)))
        out = np.empty((channels, height * width), dtype=np.int64)
        out[:, order] = ordered[:, 0, :]
        return out.reshape(channels, height, width)


class VectorStream(FrameStream):
    """A stream of ``frame_beat`` payloads carrying a ``(C, k)`` frame: vector ``0`` first, its channels in order."""

    def beats(self, facts, frame):
        return super().beats(facts, np.asarray(frame)[:, None, :])

    def frame(self, facts, beats, want):
        return super().frame(facts, beats, np.asarray(want)[:, None, :])[:, 0, :]

    def mismatch(self, block, index, want, got, facts):
        """The first difference in stream order, named by kept vector and channel."""
        report = frame_mismatch(block, index, np.asarray(want)[:, None, :], np.asarray(got)[:, None, :])
        if report is None or "channel" not in report:
            return report
        vector, channel = report.pop("col"), report["channel"]
        del report["row"], report["position"]
        report["kept"] = vector
        report["message"] = (f"{block}: frame {index}, kept position #{vector}, channel {channel}: expected "
                             f"{report['expected']}, got {report['got']} ({report['differences']} values differ "
                             f"in this frame)")
        return report


def bytes_to_words(stream, word_bits, words):
    """The first ``words`` words of ``word_bits`` bits of a byte stream (LSB first), zero-extended.

    Returns
    -------
    numpy.ndarray of uint8, shape (words, ceil(word_bits / 8))
    """
    bits = np.unpackbits(np.asarray(stream, dtype=np.uint8), bitorder="little")
    bits = np.concatenate([bits, np.zeros(max(0, words * word_bits - bits.size), dtype=np.uint8)])
    rows = bits[:words * word_bits].reshape(words, word_bits)
    pad = -word_bits % 8
    rows = np.concatenate([rows, np.zeros((words, pad), dtype=np.uint8)], axis=1)
    return np.packbits(rows, axis=1, bitorder="little")


def words_to_bytes(words, word_bits):
    """The bit sequence of ``words`` (rows of :func:`bytes_to_words`) as bytes, zero-padded at the end."""
    words = np.asarray(words, dtype=np.uint8)
    bits = np.unpackbits(words, axis=1, bitorder="little")[:, :word_bits].ravel()
    return np.packbits(bits, bitorder="little")


class WordStream:
    """A stream of ``word_beat`` payloads: one raw word of the compressed bit sequence per beat."""

    def beats(self, facts, frame):
        return np.asarray(frame, dtype=np.uint8)

    def beat_count(self, facts, frame):
        return len(frame)

    def frame(self, facts, beats, want):
        width = np.asarray(want).shape[1]
        return np.asarray(beats, dtype=np.uint8)[:, :width]

    def mismatch(self, block, index, want, got, facts):
        """The first differing bit, named by what it encodes: a bitmap position or a kept code."""
        want, got = np.asarray(want, dtype=np.uint8), np.asarray(got, dtype=np.uint8)
        w = facts.word_bits
        want_bits = np.unpackbits(want, axis=1, bitorder="little")[:, :w].ravel()
        got_bits = np.unpackbits(got, axis=1, bitorder="little")[:, :w].ravel()
        differ = np.flatnonzero(want_bits != got_bits)
        if not differ.size:
            return None
        bit = int(differ[0])
        positions, channels, bits = facts.positions, facts.channels, facts.bit_a
        report = {"block": block, "frame": index, "word": bit // w, "bit": bit,
                  "expected": int(want_bits[bit]), "got": int(got_bits[bit]), "differences": int(differ.size)}
        if bit < positions:
            report.update(field="bitmap", position=bit)
            where = f"bitmap bit of position {bit}"
        elif bit < facts.compressed_bits:
            vector, rest = divmod(bit - positions, channels * bits)
            report.update(field="code", kept=vector, channel=rest // bits)
            where = f"kept position #{vector}, channel {rest // bits}, code bit {rest % bits}"
        else:
            report.update(field="padding")
            where = "padding after the last code"
        report["message"] = (f"{block}: frame {index}, word {bit // w}, stream bit {bit} ({where}): expected "
                             f"{report['expected']}, got {report['got']} ({report['differences']} bits differ)")
        return report


class ByteStream(WordStream):
    """A compressed frame as bytes (``word_beat(8)``) whose first differing bit is named by what it encodes
    (``locate``, defined by each format)."""

    def locate(self, bit, want_bits, facts):
        """``(fields, where)``: what the report adds for stream bit ``bit`` of the expected frame, and how the
        message names it."""
        raise NotImplementedError

    def mismatch(self, block, index, want, got, facts):
        want, got = np.asarray(want, dtype=np.uint8).ravel(), np.asarray(got, dtype=np.uint8).ravel()
        if want.size != got.size:
            return {"block": block, "frame": index, "message": f"{block}: frame {index} has {got.size} bytes, "
                                                                f"expected {want.size}"}
        want_bits, got_bits = np.unpackbits(want, bitorder="little"), np.unpackbits(got, bitorder="little")
        differ = np.flatnonzero(want_bits != got_bits)
        if not differ.size:
            return None
        bit = int(differ[0])
        report = {"block": block, "frame": index, "byte": bit // 8, "bit": bit, "expected": int(want_bits[bit]),
                  "got": int(got_bits[bit]), "differences": int(differ.size)}
        fields, where = self.locate(bit, want_bits, facts)
        report.update(fields)
        report["message"] = (f"{block}: frame {index}, byte {bit // 8}, stream bit {bit} ({where}): expected "
                             f"{report['expected']}, got {report['got']} ({report['differences']} bits differ)")
        return report


class HuffmanByteStream(ByteStream):
    """A frame of Huffman-coded symbols as bytes; a difference is named by the symbol whose bits hold it (its
    position and channel), read from the expected stream with the block's table."""

    def locate(self, bit, want_bits, facts):
        table = facts.table
        symbols, _ = decode(want_bits, facts.symbols_per_frame, table)
        ends = np.cumsum(symbol_lengths(symbols, table))
        symbol = int(np.searchsorted(ends, bit, side="right"))
        if symbol >= len(symbols):
            return {"field": "padding"}, "padding after the last codeword"
        position, channel = divmod(symbol, facts.channels)
        value = int(symbols[symbol])
        return (dict(field="symbol", symbol=symbol, position=position, channel=channel, value=value),
                f"symbol #{symbol}, position {position} (row {position // facts.width}, col "
                f"{position % facts.width}), channel {channel}, value {value}")


class ZeroFlagByteStream(ByteStream):
    """A frame of zero-flag-coded codes as bytes; a difference is named by the code whose flag or bits hold it
    (its position and component), read from the expected stream's flags."""

    def locate(self, bit, want_bits, facts):
        count, bits = facts.codes_per_frame, facts.bits
        nonzero = np.flatnonzero(want_bits[:count])
        if bit < count:
            code, field = bit, "flag"
        elif bit < count + nonzero.size * bits:
            code, field = int(nonzero[(bit - count) // bits]), "code"
        else:
            return {"field": "padding"}, "padding after the last code"
        position, component = divmod(code, facts.components)
        return (dict(field=field, code=code, position=position, component=component),
                f"{field} of code #{code}, position {position} (row {position // facts.width}, col "
                f"{position % facts.width}), component {component}")


class FixedWidthByteStream(ByteStream):
    """A frame of fixed-width codes as bytes; a difference is named by the code whose bits hold it (its position
    and component)."""

    def locate(self, bit, want_bits, facts):
        code = bit // facts.bits
        if code >= facts.codes_per_frame:
            return {"field": "padding"}, "padding after the last code"
        position, component = divmod(code, facts.components)
        return (dict(field="code", code=code, position=position, component=component),
                f"code #{code}, position {position} (row {position // facts.width}, col {position % facts.width}), "
                f"component {component}")
