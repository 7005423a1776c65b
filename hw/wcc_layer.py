"""The whole WCC layer: pixels in, compressed stream between, requantized pixels out (golden: ``wcc_layer``)."""

import dataclasses
import functools
from dataclasses import dataclass

import numpy as np

from amaranth.hdl import Module, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from ..golden.bundle import LayerBundle
from ..spec.checks import check_positive_int, set_validated
from .compressor import Compressor, CompressorSpec
from .frame_beat import frame_beat
from .frame_merger import FrameMerger
from .frame_splitter import FrameSplitter
from .haar_forward import HaarForward, HaarForwardSpec
from .kept_haar_inverse import KeptHaarInverseSpec
from .kept_inverse_buffer import KeptInverseBuffer
from .kept_reader import KeptReader, KeptReaderSpec
from .pointwise_mac import PointwiseMAC, PointwiseMACSpec
from .raster_reorder import RasterReorder, RasterReorderSpec
from .requantizer import Requantizer, RequantizerSpec
from .spec_component import SpecComponent
from .stream_relay import LayerRelays
from .topk_selector import MAX_DIGIT_BITS
from .unpacker import Unpacker, UnpackerSpec

__all__ = ["TAPS", "Tap", "TapSignature", "WccLayer", "WccLayerSpec", "balanced_array", "signature_taps"]


@dataclass(frozen=True)
class Tap:
    """An internal stream of the layer that a testbench can watch, as port ``tap_<name>``."""

    name: str
    block: str  #: the block named when the stream is the first to differ from the model
    part: str  #: the stage whose spec describes the stream (:meth:`WccLayerSpec.part`)
    component: type  #: that stage's component class
    port: str  #: the stream port of ``component`` whose payload the tap carries
    framing: str  #: how beats make a frame: ``frame`` (positions, ``lanes`` per beat), ``vectors`` or ``words``
    lanes: str = "lanes"  #: the part's fact that gives the values per beat


class TapSignature(wiring.Signature):
    """Signature of a watch point: ``valid`` is high in a cycle where the stream transfers ``payload``; ``tap``
    says which stream it is."""

    def __init__(self, tap, payload_shape):
        self.tap = tap
        super().__init__({"valid": Out(1), "payload": Out(payload_shape)})

    def __eq__(self, other):
        return type(other) is type(self) and other.tap == self.tap and other.members == self.members

    def __repr__(self):
        return f"TapSignature({self.tap.name!r}, {self.members['payload'].shape!r})"


#: The layer's internal streams a testbench can watch, in data path order (the one list of them: the layer's
#: signature, the testbench's comparisons and the manifest all come from it).
TAPS = (
    Tap("coefficients", "HaarForward", "haar_forward", HaarForward, "coefficients", "emission"),
    Tap("compressed", "Compressor", "compressor", Compressor, "compressed", "words"),
    Tap("codes", "Unpacker", "reader", KeptReader, "codes", "vectors"),
    Tap("sums", "PointwiseMAC", "mac", PointwiseMAC, "sums", "vectors", "lanes_out"),
    Tap("inverse", "KeptHaarInverse", "haar_inverse", KeptInverseBuffer, "pixels", "blocks"),
)


def signature_taps(signature):
    """The :class:`Tap` of every watch point of ``signature``, in data path order."""
    return tuple(member.signature.tap for member in signature.members.values()
                 if member.is_signature and isinstance(member.signature, TapSignature))


def _payload_shape(component, spec, port):
    """Payload shape of the stream ``port`` of a ``component`` class made from ``spec``."""
    return component.members(spec)[port].signature.members["payload"].shape


#: Narrowest radix digit tried for the selector: below it the passes over the energies dominate any frame.
MIN_DIGIT_BITS = 4


def _check_bundles(bundle, bundles):
    """The layers an engine serves, as a tuple: ``bundle`` alone, or ``bundles``, all of one shape."""
    if bundles is None or isinstance(bundles, (str, bytes, LayerBundle)) or not hasattr(bundles, "__iter__"):
        raise TypeError(f"bundles: must be a sequence of LayerBundle, got {type(bundles).__name__}")
    bundles = tuple(bundles)
    if bundle is not None and bundles and bundles[0] is not bundle:  # (a validated spec holds both)
        raise ValueError("bundle, bundles: give one layer (bundle) or several (bundles), not both")
    if bundle is not None and not bundles:
        if not isinstance(bundle, LayerBundle):
            raise TypeError(f"bundle: must be a LayerBundle, got {type(bundle).__name__}")
        return (bundle,)
    if not bundles:
        raise TypeError("bundle: missing (give a LayerBundle, or several as bundles)")
    for index, one in enumerate(bundles):
        if not isinstance(one, LayerBundle):
            raise TypeError(f"bundles[{index}]: must be a LayerBundle, got {type(one).__name__}")
    first = bundles[0]
    for index, one in enumerate(bundles[1:], 1):
        differ = [f.name for f in dataclasses.fields(first.config)
                  if getattr(first.config, f.name) != getattr(one.config, f.name)]
        if differ:
            raise ValueError(f"bundles[{index}]: {one.name or 'the layer'} differs from bundles[0] "
                             f"({first.name or 'the first layer'}) in {', '.join(differ)}; one engine serves layers "
                             "of one shape")
        if (one.out_min, one.out_max) != (first.out_min, first.out_max):
            raise ValueError(f"bundles[{index}]: its output clamp [{one.out_min}, {one.out_max}] differs from "
                             f"bundles[0]'s [{first.out_min}, {first.out_max}]; one engine has one clamp")
    return bundles


def _divisor_at_most(number, limit):
    return max(d for d in range(1, min(number, limit) + 1) if number % d == 0)


#: The largest side of a MAC array by default (PE and SIMD each), and the sides a default array takes.
MAX_ARRAY_SIDE = 8
_ARRAY_SIDES = (1, 2, 4, 8)


def balanced_array(bundles, lanes_in=None, lanes_out=None, compressors=2):
    """``(pe, simd)`` of a layer by default: the fewest multipliers that keep the frame interval of the largest
    array (PE 8 x SIMD 8, or the channels if fewer); among equals, the squarest, then the most PEs.

    The layer's other stages bound its interval (the Haar transforms at their
    lanes), so an array faster than they are waits: in the default denoiser
    an expansion's 16 -> 64 needs PE 8 x SIMD 4 and a projection's 64 -> 16
    PE 4 x SIMD 4 to keep the frame interval of PE 8 x SIMD 8, so that the
    array is busy all of it rather than half or a quarter.

    Parameters
    ----------
    bundles : LayerBundle or sequence of LayerBundle
        The layer, or the layers of one shape an engine serves.
    lanes_in, lanes_out, compressors
        As :class:`WccLayerSpec` takes them (``lanes_out`` by default follows PE, as there).
    """
    bundles = _check_bundles(bundles if isinstance(bundles, LayerBundle) else None,
                             () if isinstance(bundles, LayerBundle) else bundles)
    cfg = bundles[0].config

    def bound(pe, simd):
        return WccLayerSpec(bundles=bundles, lanes_in=lanes_in, pe=pe, simd=simd, lanes_out=lanes_out,
                            compressors=compressors).cycle_bound

    largest = (min(cfg.channels_out, MAX_ARRAY_SIDE), min(cfg.channels_in, MAX_ARRAY_SIDE))
    target = bound(*largest)
    shapes = [(pe, simd) for pe in _ARRAY_SIDES if pe <= cfg.channels_out and cfg.channels_out % pe == 0
              for simd in _ARRAY_SIDES if simd <= cfg.channels_in and cfg.channels_in % simd == 0]
    fitting = [(pe, simd) for pe, simd in shapes if bound(pe, simd) <= target]
    return min(fitting, key=lambda shape: (shape[0] * shape[1], abs(shape[0] - shape[1]), -shape[0]),
               default=largest)


@dataclass(frozen=True, eq=False, kw_only=True)
class WccLayerSpec:
    """Parameters of a :class:`WccLayer` (see there), validated, and the facts derived from them.

    ``parts`` holds the spec of every block of the layer, by the name of its
    stage; the layer builds each block once, from its spec, when it elaborates.
    """

    bundle: LayerBundle | None = None
    lanes_in: int | None = None
    pe: int | None = None
    simd: int | None = None
    lanes_out: int | None = None
    digit_bits: int | None = None
    compressors: int = 2
    bundles: tuple = ()

    def __post_init__(self):
        set_validated(self, bundles=_check_bundles(self.bundle, self.bundles))
        set_validated(self, bundle=self.bundles[0])
        cfg = self.config
        lanes_in = _divisor_at_most(cfg.channels_in, 4) if self.lanes_in is None else \
            check_positive_int(self.lanes_in, "lanes_in")
        if cfg.channels_in % lanes_in:
            raise ValueError(f"lanes_in: must divide channels_in ({cfg.channels_in}), got {lanes_in}")
        if self.pe is None and self.simd is None:
            pe, simd = balanced_array(self.bundles, lanes_in=lanes_in, lanes_out=self.lanes_out,
                                      compressors=self.compressors)
        else:
            pe = min(cfg.channels_out, MAX_ARRAY_SIDE) if self.pe is None else check_positive_int(self.pe, "pe")
            simd = min(cfg.channels_in, MAX_ARRAY_SIDE) if self.simd is None else \
                check_positive_int(self.simd, "simd")
        lanes_out = _divisor_at_most(cfg.channels_out, pe) if self.lanes_out is None else \
            check_positive_int(self.lanes_out, "lanes_out")
        if cfg.channels_out % lanes_out:
            raise ValueError(f"lanes_out: must divide channels_out ({cfg.channels_out}), got {lanes_out}")
        set_validated(self, lanes_in=lanes_in, pe=pe, simd=simd, lanes_out=lanes_out,
                      compressors=check_positive_int(self.compressors, "compressors"))
        if self.digit_bits is None:
            set_validated(self, digit_bits=self._fastest_digit())
        _ = self.parts  # every part's spec checks the parameters it takes

    @property
    def config(self):
        """The layer's :class:`~wccgen.spec.wcc_config.WccConfig`."""
        return self.bundle.config

    @property
    def layers(self):
        """Layers whose weights and tables the engine holds (its ``layer`` input chooses when more than one)."""
        return len(self.bundles)

    def _stacked(self, name):
        """The bundles' ``name`` tables, layer after layer, as ints."""
        return [int(v) for bundle in self.bundles for v in getattr(bundle, name)]

    def _compressor(self, digit_bits):
        cfg = self.config
        return CompressorSpec(height=cfg.height, width=cfg.width, levels=cfg.levels, channels=cfg.channels_in,
                              lanes=self.lanes_in, in_bits=cfg.in_bits, rate=cfg.rate, bit_a=cfg.bit_a,
                              multipliers=self._stacked("coef_multiplier"), shifts=self._stacked("coef_shift"),
                              energy=cfg.energy, digit_bits=digit_bits, layers=self.layers)

    def _fastest_digit(self):
        """The selector's radix digit that makes the compressor's frame shortest (small frames favour small
        histograms, large ones few passes)."""
        cycles = {digit: self._compressor(digit).cycles_per_frame
                  for digit in range(MIN_DIGIT_BITS, MAX_DIGIT_BITS + 1)}
        return min(cycles, key=lambda digit: (cycles[digit], digit))

    @functools.cached_property
    def parts(self):
        """The spec of each stage's block: ``haar_forward``, ``compressor``, ``unpacker``, ``reader``, ``mac``,
        ``haar_inverse``, ``requantizer``, ``reorder``."""
        cfg, bundle = self.config, self.bundle
        geometry = dict(height=cfg.height, width=cfg.width, levels=cfg.levels)
        compressed = dict(positions=cfg.positions, keep=cfg.keep, channels=cfg.channels_in, lanes=self.lanes_in,
                          bit_a=cfg.bit_a)
        mac = PointwiseMACSpec(channels_in=cfg.channels_in, channels_out=cfg.channels_out, pe=self.pe,
                               simd=self.simd, weights=np.concatenate([b.weights for b in self.bundles]),
                               bit_a=cfg.bit_a, bit_w=cfg.bit_w, lanes_in=self.lanes_in, lanes_out=self.lanes_out,
                               layers=self.layers)
        inverse = KeptHaarInverseSpec(padded_height=cfg.padded_height, padded_width=cfg.padded_width,
                                      channels=cfg.channels_out, lanes=self.lanes_out, value_bits=mac.acc_bits,
                                      word_bits=self.lanes_in * cfg.bit_a, keep=cfg.keep, levels=cfg.levels)
        return {
            "haar_forward": HaarForwardSpec(channels=cfg.channels_in, lanes=self.lanes_in, in_bits=cfg.in_bits,
                                            **geometry),
            "compressor": self._compressor(self.digit_bits),
            # Two banks: the next compressed frame arrives while the array works on this one.
            "unpacker": UnpackerSpec(**compressed, banks=2),
            "reader": KeptReaderSpec(**compressed),
            "mac": mac,
            "haar_inverse": inverse,
            "requantizer": RequantizerSpec(channels=cfg.channels_out, lanes=self.lanes_out,
                                           value_bits=inverse.out_bits, out_bits=cfg.out_bits,
                                           multipliers=self._stacked("out_multiplier"),
                                           shifts=self._stacked("out_shift"), biases=self._stacked("out_bias"),
                                           out_min=bundle.out_min, out_max=bundle.out_max, layers=self.layers,
                                           group_run=inverse.block_pixels),
            "reorder": RasterReorderSpec(channels=cfg.channels_out, lanes=self.lanes_out, bits=cfg.out_bits,
                                         **geometry),
        }

    def part(self, name):
        """The spec of one stage's block (for its facts): ``haar_forward``, ``compressor``, ``mac``, ..."""
        return self.parts[name]

    @property
    def tap_signatures(self):
        """The :class:`TapSignature` of each internal stream a testbench can watch, by tap name, in data path
        order; each payload shape is that of the port of the block that makes the stream."""
        return {tap.name: TapSignature(tap, _payload_shape(tap.component, self.part(tap.part), tap.port))
                for tap in TAPS}

    def header_parameters(self):
        """The parameters as generated files record them: the bundle by name and content digest."""
        layers = [{"name": bundle.name, "sha256": bundle.digest()} for bundle in self.bundles]
        return {**({"bundle": layers[0]} if self.layers == 1 else {"bundles": layers}), "lanes_in": self.lanes_in,
                "pe": self.pe, "simd": self.simd, "lanes_out": self.lanes_out, "digit_bits": self.digit_bits,
                "compressors": self.compressors}

    @property
    def stage_cycles(self):
        """Cycles per frame each stage needs on its own, with its input always there and its sink ready."""
        parts, cfg = self.parts, self.config
        return {
            "haar_forward": parts["haar_forward"].cycles_per_frame,
            # Compressors take frames in turn, each from its arrival to its last word.
            "compressor": -(-parts["compressor"].cycles_per_frame // self.compressors),
            # The unpacker takes a frame's words into one bank while the array reads the other.
            "unpacker": parts["unpacker"].receive_cycles,
            "mac": cfg.keep * parts["mac"].cycles_per_vector,
            "haar_inverse": parts["haar_inverse"].beats,
            "reorder": max(parts["reorder"].beats_in, parts["reorder"].beats_out),
        }

    @property
    def cycle_bound(self):
        """Cycles per frame of the slowest stage: what the layer's frame interval comes to."""
        return max(self.stage_cycles.values())

    @property
    def mac_bound(self):
        """Array steps per frame: ``keep * ceil(C_in / simd) * ceil(C_out / pe)``."""
        return self.config.keep * self.parts["mac"].folds


class WccLayer(SpecComponent):
    """One WCC layer of a :class:`~wccgen.golden.LayerBundle` as a streaming pipeline.

    Encoder: :class:`HaarForward` -> ``compressors`` :class:`Compressor` s
    (energy, exact top-k, quantizer, packer) taking frames in turn, between a
    :class:`FrameSplitter` and a :class:`FrameMerger` -> the compressed
    stream, which is what would cross the memory interface between layers.
    Compute: an :class:`Unpacker` stores and checks each compressed frame
    (two banks: the next frame arrives while this one is read); a
    :class:`KeptReader` feeds its kept vectors to the :class:`PointwiseMAC`
    and copies its bitmap to a :class:`KeptInverseBuffer`, which holds two
    frames of sums and inverse-transforms the older one straight from its
    kept sums (no full coefficient frame is stored) while the array fills the
    other. Its pixels leave in block order; the :class:`Requantizer` (bias,
    batch-norm, activation, clamp) makes them output pixels, and a
    :class:`RasterReorder` returns them to raster order, a band of blocks at
    a time. Stages
    overlap across frames: while one frame is inverse-transformed the next is
    multiplied and further ones compressed. Every stream between two blocks
    crosses a :class:`StreamRelay` (a register slice, one cycle).

    Every internal stream is also an output ``tap_<name>`` (see :data:`TAPS`):
    the payload and a ``valid`` that marks its transfers, so a testbench can
    compare each with the integer model. They are wires to existing
    registers.

    An engine may serve several layers of one shape (a network's three
    expansions, say): built from ``bundles``, it holds every layer's weights
    and quantizer and requantizer tables, and its ``layer`` input says which
    layer it computes. ``layer`` is a setting: it must hold while frames are
    inside, and change only once the engine has sent every output of the
    frames it took (the blocks take it through registers of their own).

    Parameters
    ----------
    bundle : LayerBundle
        The layer (``LayerBundle.load`` reads a saved one).
    bundles : sequence of LayerBundle
        Instead of ``bundle``: the layers the engine serves, all of one
        :class:`~wccgen.spec.wcc_config.WccConfig` and one output clamp.
    lanes_in : int, optional
        Input channels per beat, a divisor of ``channels_in`` (default: the largest at most 4).
    pe, simd : int, optional
        MAC array shape. Given neither: :func:`balanced_array`, the fewest
        multipliers that keep the frame interval of the largest array (8 x 8,
        capped by the channel counts). Given one: the other at most 8, capped
        by its channel count.
    lanes_out : int, optional
        Output channels per beat, a divisor of ``channels_out`` (default: ``pe`` if it divides, else the
        largest divisor below it).
    digit_bits : int, optional
        Radix digit of the top-k selector (default: the one that makes the compressor's frame shortest).
    compressors : int
        Compressors taking frames in turn (default 2): one compressor takes a
        frame at a time, from its arrival to its last word, so a second one
        lets the next frame arrive while the first selects and emits.

    Attributes
    ----------
    pixels : In(stream.Signature(frame_beat(in_bits, lanes_in)))
    output : Out(stream.Signature(frame_beat(out_bits, lanes_out)))
    layer : In(range(len(bundles))), with several layers only
    tap_<name> : Out(TapSignature(...))
    """

    Spec = WccLayerSpec

    @classmethod
    def members(cls, spec):
        cfg = spec.config
        members = {
            "pixels": In(stream.Signature(frame_beat(cfg.in_bits, spec.lanes_in))),
            "output": Out(stream.Signature(frame_beat(cfg.out_bits, spec.lanes_out))),
        }
        if spec.layers > 1:
            members["layer"] = In(range(spec.layers))
        for name, signature in spec.tap_signatures.items():
            members[f"tap_{name}"] = Out(signature)
        return members

    def elaborate(self, platform):
        m = Module()
        specs = self.parts
        m.submodules.haar_forward = forward = HaarForward(specs["haar_forward"])
        m.submodules.unpacker = unpacker = Unpacker(specs["unpacker"])
        m.submodules.reader = reader = KeptReader(specs["reader"])
        m.submodules.mac = mac = PointwiseMAC(specs["mac"])
        m.submodules.haar_inverse = inverse = KeptInverseBuffer(specs["haar_inverse"])
        m.submodules.requantizer = requantizer = Requantizer(specs["requantizer"])
        m.submodules.reorder = reorder = RasterReorder(specs["reorder"])
        compressors = [Compressor(specs["compressor"]) for _ in range(self.compressors)]
        for index, compressor in enumerate(compressors):
            m.submodules["compressor" if index == 0 else f"compressor{index}"] = compressor
        if self.layers > 1:
            # The layer setting, through a register of its own (it changes only while the engine is empty).
            layer = Signal.like(self.layer, name="layer_setting")
            m.d.sync += layer.eq(self.layer)
            m.d.comb += [block.layer.eq(layer) for block in (*compressors, mac, requantizer)]

        relay = LayerRelays(m, self)

        wiring.connect(m, wiring.flipped(self.pixels), forward.pixels)
        if len(compressors) == 1:
            relay(forward.coefficients, compressors[0].coefficients, tap="coefficients")
            compressed = compressors[0].compressed
        else:
            # Frames dealt to the compressors in turn, their streams gathered in the same order.
            coefficient_shape = forward.coefficients.payload.shape()
            m.submodules.splitter = splitter = FrameSplitter(coefficient_shape, len(compressors))
            m.submodules.merger = merger = FrameMerger(compressors[0].compressed.payload.shape(), len(compressors))
            relay(forward.coefficients, splitter.frames, tap="coefficients")
            for index, compressor in enumerate(compressors):
                relay(splitter.outputs[index], compressor.coefficients)
                relay(compressor.compressed, merger.inputs[index])
            compressed = merger.frames
        relay(compressed, unpacker.words, tap="compressed")
        relay(reader.codes, mac.codes, tap="codes")
        relay(mac.sums, inverse.sums, tap="sums")
        relay(inverse.pixels, requantizer.values, tap="inverse")
        relay(requantizer.pixels, reorder.blocks)
        wiring.connect(m, reorder.pixels, wiring.flipped(self.output))

        # A stored frame is read out once, when the inverse's buffer has a bank for its sums.
        started = Signal(name="started")
        m.d.comb += [reader.start.eq(unpacker.stored & ~started & inverse.free), inverse.claim.eq(reader.start),
                     unpacker.release.eq(reader.done)]
        with m.If(reader.start):
            m.d.sync += started.eq(1)
        with m.If(reader.done):
            m.d.sync += started.eq(0)
        # The reader reads the stored frame through the unpacker's memory ports and copies its bitmap.
        wiring.connect(m, reader.mask_read, unpacker.mask_read)
        wiring.connect(m, reader.code_read, unpacker.code_read)
        wiring.connect(m, reader.copy_write, inverse.copy_write)

        assert relay.tapped == {tap.name for tap in TAPS}
        return m
