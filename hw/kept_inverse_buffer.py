"""Two frames of kept sums and their bitmaps, inverse-transformed in block order (golden: ``kept_haar_inverse``)."""

from amaranth.hdl import Cat, Mux, Signal

from .kept_haar_inverse import COUNT_CHUNK, KeptHaarInverse, KeptHaarInverseSpec
from .pipeline import delay, sum_tree, sum_tree_depth
from .scatter_buffer import ScatterBuffer

__all__ = ["KeptInverseBuffer"]


class KeptInverseBuffer(ScatterBuffer):
    """Holds the sums of up to two frames and inverse-transforms the older one while the newer one fills.

    As :class:`~wccgen.hw.scatter_buffer.ScatterBuffer` (claims, the bitmap
    copy, sums in ascending position order), but a filled frame is read by a
    :class:`~wccgen.hw.kept_haar_inverse.KeptHaarInverse`: the pixels of its
    inverse Haar transform leave in block order, and no full coefficient frame
    is ever stored. As the bitmap is copied, each word is stored beside its
    base rank (the kept positions before it), which the reader adds to the
    kept bits below a position to find that position's sums.

    Parameters
    ----------
    padded_height, padded_width, channels, lanes, value_bits, word_bits, keep, levels : int
        As for the :class:`~wccgen.hw.kept_haar_inverse.KeptHaarInverse` inside
        (one :class:`~wccgen.hw.kept_haar_inverse.KeptHaarInverseSpec` describes both).

    Attributes
    ----------
    claim : In(1)
    free : Out(1)
    copy_write : In(write_port(mask_words, word_bits))
        The frame's bitmap words, in ascending order from word 0.
    sums : In(stream.Signature(frame_beat(value_bits, lanes), always_ready=True))
    pixels : Out(stream.Signature(frame_beat(out_bits, lanes)))
    """

    Spec = KeptHaarInverseSpec
    reader, output = KeptHaarInverse, "pixels"
    # The reader's ``done`` comes with its last value: its bank is free at once.
    settle_cycles = 1

    @property
    def mask_address_lag(self):
        return self.spec.mask_address_lag

    @property
    def value_address_lag(self):
        return self.spec.value_address_lag

    def read_turn(self, reader, release):
        """The reader turns to the next frame as soon as its last read is issued: the addresses in flight keep
        their bank (``*_address_lag``), and the queues carry the pixels on without a gap."""
        return reader.issued

    def copy_bitmap(self, m, masks, address):
        """Each word with its base rank: the word's kept bits counted in chunks, summed, added to a running total
        that word 0 restarts."""
        copy = self.copy_write
        counts = []
        for chunk in range(self.chunks):
            count = Signal(range(COUNT_CHUNK + 1), name=f"copy_count{chunk}")
            piece = copy.data[chunk * COUNT_CHUNK:(chunk + 1) * COUNT_CHUNK]
            m.d.sync += count.eq(sum(piece[i] for i in range(len(piece))))
            counts.append(count)
        word_count = sum_tree(m, counts, range(self.word_bits + 1), "copy_count_sum")
        later = 1 + sum_tree_depth(self.chunks)
        en, first, word, where = (
            delay(m, value, later, f"copy_{name}") for value, name in
            ((copy.en, "en"), (copy.addr == 0, "first"), (copy.data, "word"), (address, "address")))
        running = Signal(self.rank_bits, name="copy_running")
        base = Mux(first, 0, running)
        with m.If(en):
            m.d.sync += running.eq(base + word_count)
        m.d.comb += [masks.write_addr.eq(where), masks.write_data.eq(Cat(word, base)),
                     masks.write_en.eq(en)]
