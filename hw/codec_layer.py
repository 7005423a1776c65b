"""A whole TCI, DCT-CM or CAP layer: pixels in, the coded stream between, requantized pixels out (golden:
``golden.codec_layer.codec_layer``)."""

from dataclasses import dataclass

import numpy as np
from amaranth.hdl import Module
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from ..golden.codec_bundle import CodecBundle
from ..spec.checks import check_positive_int, set_validated
from ..spec.fixed_point import symmetric_limit
from .fixed_width_decoder import FixedWidthDecoder, FixedWidthDecoderSpec
from .fixed_width_encoder import FixedWidthEncoder, FixedWidthEncoderSpec
from .frame_beat import frame_beat
from .huffman_decoder import HuffmanDecoder, HuffmanDecoderSpec
from .huffman_encoder import HuffmanEncoder, HuffmanEncoderSpec
from .pointwise_mac import PointwiseMAC, PointwiseMACSpec
from .requantizer import Requantizer, RequantizerSpec
from .spec_component import SpecComponent
from .stream_relay import LayerRelays
from .wcc_layer import Tap, TapSignature
from .zero_flag_decoder import ZeroFlagDecoder, ZeroFlagDecoderSpec
from .zero_flag_encoder import ZeroFlagEncoder, ZeroFlagEncoderSpec

__all__ = ["CODERS", "CodecLayer", "CodecLayerSpec", "codec_taps"]

#: The coder and decoder blocks of each codec, with their specs.
CODERS = {
    "tci": (HuffmanEncoder, HuffmanEncoderSpec, HuffmanDecoder, HuffmanDecoderSpec),
    "dctcm": (ZeroFlagEncoder, ZeroFlagEncoderSpec, ZeroFlagDecoder, ZeroFlagDecoderSpec),
    "cap": (FixedWidthEncoder, FixedWidthEncoderSpec, FixedWidthDecoder, FixedWidthDecoderSpec),
}


def codec_taps(codec):
    """The internal streams of a ``codec`` layer a testbench can watch, in data path order."""
    encoder, _, decoder, _ = CODERS[codec]
    return (
        Tap("sums", "PointwiseMAC (transform)", "transform", PointwiseMAC, "sums", "frame", "lanes_out"),
        Tap("codes", "Requantizer (coefficients)", "coefficients", Requantizer, "pixels", "frame"),
        Tap("compressed", encoder.__name__, "encoder", encoder, "stream", f"{codec}_bytes"),
        Tap("decoded", decoder.__name__, "decoder", decoder, "symbols" if codec == "tci" else "codes", "frame"),
        Tap("accumulators", "PointwiseMAC", "mac", PointwiseMAC, "sums", "frame", "lanes_out"),
    )


def _row_bits(rows):
    """Narrowest width whose symmetric range holds every entry of the fixed-point rows."""
    return max(2, int(np.abs(rows).max(initial=0)).bit_length() + 1)


@dataclass(frozen=True, eq=False, kw_only=True)
class CodecLayerSpec:
    """Parameters of a :class:`CodecLayer` (see there), validated, and the facts derived from them.

    ``parts`` holds the spec of every block of the layer, by the name of its
    stage; the layer builds each block once, from its spec, when it elaborates.
    """

    bundle: CodecBundle
    height: int
    width: int
    pe: int | None = None
    lanes_out: int | None = None

    #: The kind of bundle a path given for ``bundle`` holds.
    bundle_type = CodecBundle

    def __post_init__(self):
        bundle = self.bundle
        if not isinstance(bundle, CodecBundle):
            raise TypeError(f"bundle: must be a CodecBundle, got {type(bundle).__name__}")
        set_validated(self, height=check_positive_int(self.height, "height"),
                      width=check_positive_int(self.width, "width"))
        k, channels_in, channels_out = bundle.components, bundle.channels_in, bundle.channels_out
        # The coder takes one code per cycle, k per position: the transform (one row per cycle) and the
        # consumer's array (ceil(C_out / pe) steps per position) keep that pace.
        pe = -(-channels_out // k) if self.pe is None else check_positive_int(self.pe, "pe")
        transform = PointwiseMACSpec(channels_in=channels_in, channels_out=k, pe=1, simd=channels_in,
                                     weights=bundle.rows, bit_a=bundle.in_bits, bit_w=_row_bits(bundle.rows),
                                     lanes_out=1)
        limit = symmetric_limit(bundle.bit_a)
        coefficients = RequantizerSpec(channels=k, lanes=1, value_bits=transform.acc_bits, out_bits=bundle.bit_a,
                                       multipliers=(bundle.coef_multiplier,) * k, shifts=(bundle.coef_shift,) * k,
                                       biases=tuple(int(b) for b in bundle.coef_bias), out_min=-limit,
                                       out_max=limit)
        _, encoder_spec, _, decoder_spec = CODERS[bundle.codec]
        shape = dict(height=self.height, width=self.width)
        if bundle.codec == "tci":
            coder = dict(table=bundle.huffman, channels=k, **shape)
        else:
            coder = dict(components=k, bits=bundle.bit_a, **shape)
        mac = PointwiseMACSpec(channels_in=k, channels_out=channels_out, pe=pe, simd=k, weights=bundle.weights,
                               bit_a=bundle.bit_a, bit_w=bundle.bit_w, lanes_in=1, lanes_out=self.lanes_out)
        requantizer = RequantizerSpec(channels=channels_out, lanes=mac.lanes_out, value_bits=mac.acc_bits,
                                      out_bits=bundle.out_bits,
                                      multipliers=tuple(int(v) for v in bundle.out_multiplier),
                                      shifts=tuple(int(v) for v in bundle.out_shift),
                                      biases=tuple(int(v) for v in bundle.out_bias), out_min=bundle.out_min,
                                      out_max=bundle.out_max)
        set_validated(self, pe=mac.pe, lanes_out=mac.lanes_out)
        object.__setattr__(self, "parts", {"transform": transform, "coefficients": coefficients,
                                           "encoder": encoder_spec(**coder), "decoder": decoder_spec(**coder),
                                           "mac": mac, "requantizer": requantizer})

    def part(self, name):
        """The spec of one stage's block (for its facts): ``transform``, ``coefficients``, ``encoder``, ..."""
        return self.parts[name]

    @property
    def lanes_in(self):
        """Channels per beat of the input pixels (the transform's)."""
        return self.parts["transform"].lanes_in

    @property
    def taps(self):
        """The internal streams a testbench can watch."""
        return codec_taps(self.bundle.codec)

    @property
    def tap_signatures(self):
        """The :class:`~wccgen.hw.wcc_layer.TapSignature` of each internal stream, by tap name."""
        return {tap.name: TapSignature(tap, tap.component.members(self.part(tap.part))[tap.port]
                                       .signature.members["payload"].shape)
                for tap in self.taps}

    @property
    def codes_per_frame(self):
        """Coefficient codes of one frame: ``components`` per position."""
        return self.bundle.components * self.height * self.width

    @property
    def stage_cycles(self):
        """Cycles per frame each stage needs on its own, with its input always there and its sink ready."""
        positions = self.height * self.width
        return {"transform": positions * self.parts["transform"].cycles_per_vector,
                "coder": self.codes_per_frame,
                "mac": positions * self.parts["mac"].cycles_per_vector}

    @property
    def cycle_bound(self):
        """Cycles per frame of the slowest stage: what the layer's frame interval comes to."""
        return max(self.stage_cycles.values())

    def header_parameters(self):
        """The parameters as generated files record them: the bundle by name and content digest."""
        return {"bundle": {"name": self.bundle.name, "codec": self.bundle.codec, "sha256": self.bundle.digest()},
                "height": self.height, "width": self.width, "pe": self.pe, "lanes_out": self.lanes_out}


class CodecLayer(SpecComponent):
    """A whole TCI, DCT-CM or CAP layer, bit-exact against ``golden.codec_layer.codec_layer``.

    A frame of ``channels_in x height x width`` input codes (``lanes_in``
    channels per beat, position after position) goes through the channel
    transform (the bundle's fixed-point rows on a ``PointwiseMAC``), the
    coefficient ``Requantizer``, the codec's coder (``HuffmanEncoder`` for
    TCI, ``ZeroFlagEncoder`` for DCT-CM, ``FixedWidthEncoder`` for CAP) and
    decoder, the consumer's folded
    weights on a second ``PointwiseMAC`` and the output ``Requantizer``.
    Each block takes the ``components`` codes of a position in
    ``components`` cycles, so the coder's one code per cycle sets the pace.
    Every stream between two blocks crosses a register slice. Every internal
    stream is also an output ``tap_<name>`` (:func:`codec_taps`), the coded
    bytes among them: what would go to memory between two layers.

    Parameters
    ----------
    bundle : CodecBundle
        The layer (a TCI, DCT-CM or CAP bundle).
    height, width : int
        The frame's positions.
    pe : int, optional
        Rows of the consumer's multiplier array (default: ``ceil(channels_out
        / components)``, its pace the coder's).
    lanes_out : int, optional
        Channels per output beat (default: the array's choice).

    Attributes
    ----------
    pixels : In(stream.Signature(frame_beat(in_bits, lanes_in)))
    output : Out(stream.Signature(frame_beat(out_bits, lanes_out)))
    refused_frames, last_error : Out
        The decoder's count of refused frames and the kind of the last.
    tap_<name> : Out(TapSignature(...))
    """

    Spec = CodecLayerSpec

    @classmethod
    def members(cls, spec):
        bundle = spec.bundle
        members = {
            "pixels": In(stream.Signature(frame_beat(bundle.in_bits, spec.lanes_in))),
            "output": Out(stream.Signature(frame_beat(bundle.out_bits, spec.lanes_out))),
            "refused_frames": Out(16),
            "last_error": Out(3),
        }
        for name, signature in spec.tap_signatures.items():
            members[f"tap_{name}"] = Out(signature)
        return members

    def elaborate(self, platform):
        m = Module()
        specs = self.parts
        encoder_class, _, decoder_class, _ = CODERS[self.bundle.codec]
        m.submodules.transform = transform = PointwiseMAC(specs["transform"])
        m.submodules.coefficients = coefficients = Requantizer(specs["coefficients"])
        m.submodules.encoder = encoder = encoder_class(specs["encoder"])
        m.submodules.decoder = decoder = decoder_class(specs["decoder"])
        m.submodules.mac = mac = PointwiseMAC(specs["mac"])
        m.submodules.requantizer = requantizer = Requantizer(specs["requantizer"])
        coder_in, coder_out = (encoder.symbols, decoder.symbols) if self.bundle.codec == "tci" else \
            (encoder.codes, decoder.codes)
        relay = LayerRelays(m, self)

        wiring.connect(m, wiring.flipped(self.pixels), transform.codes)
        relay(transform.sums, coefficients.values, tap="sums")
        relay(coefficients.pixels, coder_in, tap="codes")
        relay(encoder.stream, decoder.stream, tap="compressed")
        relay(coder_out, mac.codes, tap="decoded")
        relay(mac.sums, requantizer.values, tap="accumulators")
        wiring.connect(m, requantizer.pixels, wiring.flipped(self.output))
        m.d.comb += [self.refused_frames.eq(decoder.refused_frames), self.last_error.eq(decoder.last_error)]

        assert relay.tapped == {tap.name for tap in self.taps}
        return m
