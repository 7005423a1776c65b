"""What each stream of a ``WccLayer`` or a ``CodecLayer`` must carry, from the integer model's trace of every
frame."""

from ..golden.codec_layer import codec_layer
from ..golden.haar_inverse import haar_inverse
from ..golden.wcc_layer import wcc_layer
from .streams import bytes_to_words

__all__ = ["codec_layer_expectation", "layer_expectation"]


def layer_expectation(layer, frames, index=0):
    """The integer model's run of ``frames`` through ``layer.bundles[index]`` (the layer an engine computes
    with its ``layer`` input at ``index``), as the layer's streams carry it.

    Returns
    -------
    (list of WccTrace, list of numpy.ndarray, dict of str to list of numpy.ndarray)
        The traces, the output frames, and the frames of each tap (``hw.wcc_layer.TAPS``): the model's side of
        each watch point.
    """
    traces = [wcc_layer(frame, layer.bundles[index]) for frame in frames]
    compressor = layer.part("compressor")
    taps = {
        "coefficients": [t.coefficients for t in traces],
        "compressed": [bytes_to_words(t.stream, compressor.word_bits, compressor.words_per_frame) for t in traces],
        "codes": [t.codes for t in traces],
        "sums": [t.accumulators for t in traces],
        # The inverse of the padded frame: the layer crops once back in raster order.
        "inverse": [haar_inverse(t.scattered, layer.config.levels) for t in traces],
    }
    return traces, [t.output for t in traces], taps


def codec_layer_expectation(bundle, frames):
    """The integer model's run of ``frames`` through a TCI or DCT-CM layer of ``bundle``, as a ``CodecLayer``'s
    streams carry it.

    Returns
    -------
    (list of CodecTrace, list of numpy.ndarray, dict of str to list of numpy.ndarray)
        The traces, the output frames, and the frames of each tap (``hw.codec_layer.codec_taps``).
    """
    traces = [codec_layer(frame, bundle) for frame in frames]
    taps = {"sums": [t.sums for t in traces], "codes": [t.codes for t in traces],
            "compressed": [t.stream.reshape(-1, 1) for t in traces], "decoded": [t.codes for t in traces],
            "accumulators": [t.accumulators for t in traces]}
    return traces, [t.output for t in traces], taps
