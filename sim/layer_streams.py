"""What each stream of a ``WccLayer`` must carry, from the integer model's trace of every frame."""

from ..golden.wcc_layer import wcc_layer
from .streams import bytes_to_words

__all__ = ["layer_expectation"]


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
        "scattered": [t.scattered for t in traces],
        "inverse": [t.inverse for t in traces],
    }
    return traces, [t.output for t in traces], taps
