"""The blocks the shared testbench can drive: component class and stream ports."""

from dataclasses import dataclass, field
from pathlib import Path

from amaranth.hdl import Shape
from amaranth.lib import wiring

from ..golden.bundle import LayerBundle
from ..hw.channel_dct import ChannelDCT
from ..hw.codec_layer import CodecLayer
from ..hw.compressor import Compressor
from ..hw.decompressor import Decompressor
from ..hw.fixed_width_decoder import FixedWidthDecoder
from ..hw.fixed_width_encoder import FixedWidthEncoder
from ..hw.haar_forward import HaarForward
from ..hw.haar_inverse import HaarInverse
from ..hw.huffman_decoder import HuffmanDecoder
from ..hw.huffman_encoder import HuffmanEncoder
from ..hw.pointwise_mac import PointwiseMAC
from ..hw.requantizer import Requantizer
from ..hw.wcc_layer import WccLayer, signature_taps
from ..hw.zero_flag_decoder import ZeroFlagDecoder
from ..hw.zero_flag_encoder import ZeroFlagEncoder
from .streams import (BlockOrderStream, EmissionOrderStream, FixedWidthByteStream, FrameStream, HuffmanByteStream,
                      VectorStream, WordStream, ZeroFlagByteStream)

__all__ = ["BLOCKS", "BlockSpec", "Tap", "signature_watch_points"]


@dataclass(frozen=True)
class Tap:
    """An internal stream the testbench watches (a ``tap_<name>`` output of the block)."""

    name: str
    block: str  #: the block that produces it, named in mismatch reports
    part: str  #: the block's stage, whose spec describes the stream (``WccLayerSpec.part``)
    stream: object  #: how its beats become a frame


#: How the beats of a watched stream make a frame, by the tap's ``framing``.
FRAMINGS = {"frame": FrameStream, "blocks": BlockOrderStream, "emission": EmissionOrderStream,
            "vectors": VectorStream,
            "words": lambda lanes: WordStream(),
            "tci_bytes": lambda lanes: HuffmanByteStream(), "dctcm_bytes": lambda lanes: ZeroFlagByteStream(),
            "cap_bytes": lambda lanes: FixedWidthByteStream()}


def signature_watch_points(signature):
    """The testbench's :class:`Tap` of every watch point of ``signature`` (``hw.wcc_layer.TapSignature``), in
    data path order."""
    return tuple(Tap(tap.name, tap.block, tap.part, FRAMINGS[tap.framing](tap.lanes))
                 for tap in signature_taps(signature))


@dataclass(frozen=True)
class BlockSpec:
    """How to build a block and which of its streams are input and output."""

    component: type  #: the component class (a ``SpecComponent``)
    source: str  #: input stream port, driven by the testbench
    sink: str  #: output stream port, collected by the testbench
    source_stream: object = FrameStream()  #: how a frame becomes input beats
    sink_stream: object = FrameStream()  #: how output beats become a frame
    status: tuple = field(default=())  #: output ports read into the report at the end
    load: str = None  #: second input stream (weights), driven before the frames that follow a load
    load_stream: object = FrameStream()  #: how a load frame becomes beats
    sink_block: str = None  #: block named for an output mismatch (default: the block itself)
    settings: tuple = field(default=())  #: input ports held at a value the run chooses (e.g. ``layer``), if present

    def make_spec(self, params):
        """The component's spec for ``params``; a layer's ``bundle`` (or each of its ``bundles``) may be the path
        of a saved bundle."""
        params = dict(params)
        if isinstance(params.get("bundle"), (str, Path)):
            params["bundle"] = getattr(self.component.Spec, "bundle_type", LayerBundle).load(params["bundle"])
        if isinstance(params.get("bundles"), (list, tuple)):
            params["bundles"] = tuple(LayerBundle.load(b) if isinstance(b, (str, Path)) else b
                                      for b in params["bundles"])
        return self.component.Spec(**params)

    def signature(self, spec):
        """The signature of the component made from ``spec``, read without building the component."""
        return wiring.Signature(self.component.members(spec))

    def bench_settings(self, signature):
        """The settings the block of ``signature`` has, by name, with the number of values each takes."""
        members = signature.members
        return {name: Shape.cast(members[name].shape) for name in self.settings if name in members}

    def taps(self, signature):
        """The internal streams compared too (the block's watch points), in data path order."""
        return signature_watch_points(signature)


BLOCKS = {
    "ChannelDCT": BlockSpec(ChannelDCT, source="pixels", sink="sums"),
    "HaarForward": BlockSpec(HaarForward, source="pixels", sink="coefficients", sink_stream=EmissionOrderStream()),
    "HaarInverse": BlockSpec(HaarInverse, source="coefficients", sink="pixels"),
    "CodecLayer": BlockSpec(CodecLayer, source="pixels", sink="output", source_stream=FrameStream("lanes_in"),
                            sink_stream=FrameStream("lanes_out"), sink_block="Requantizer",
                            status=("refused_frames", "last_error")),
    "Compressor": BlockSpec(Compressor, source="coefficients", sink="compressed",
                            source_stream=EmissionOrderStream(), sink_stream=WordStream()),
    "Decompressor": BlockSpec(Decompressor, source="compressed", sink="coefficients", source_stream=WordStream(),
                              status=("refused_frames",)),
    "FixedWidthDecoder": BlockSpec(FixedWidthDecoder, source="stream", sink="codes", source_stream=WordStream(),
                                   status=("refused_frames", "last_error")),
    "FixedWidthEncoder": BlockSpec(FixedWidthEncoder, source="codes", sink="stream",
                                   sink_stream=FixedWidthByteStream(), status=("miscounted_frames",)),
    "HuffmanDecoder": BlockSpec(HuffmanDecoder, source="stream", sink="symbols", source_stream=WordStream(),
                                status=("refused_frames", "last_error")),
    "HuffmanEncoder": BlockSpec(HuffmanEncoder, source="symbols", sink="stream", sink_stream=HuffmanByteStream(),
                                status=("miscounted_frames",)),
    "PointwiseMAC": BlockSpec(PointwiseMAC, source="codes", sink="sums", source_stream=VectorStream("lanes_in"),
                              sink_stream=VectorStream("lanes_out"), load="load",
                              load_stream=FrameStream("simd")),
    "Requantizer": BlockSpec(Requantizer, source="values", sink="pixels"),
    "WccLayer": BlockSpec(WccLayer, source="pixels", sink="output", source_stream=FrameStream("lanes_in"),
                          sink_stream=FrameStream("lanes_out"), sink_block="Requantizer", settings=("layer",)),
    "ZeroFlagDecoder": BlockSpec(ZeroFlagDecoder, source="stream", sink="codes", source_stream=WordStream(),
                                 status=("refused_frames", "last_error")),
    "ZeroFlagEncoder": BlockSpec(ZeroFlagEncoder, source="codes", sink="stream", sink_stream=ZeroFlagByteStream(),
                                 status=("miscounted_frames",)),
}
