"""Golden models of a WCC layer.

The PyTorch layers (float, trainable) define what the layer computes; the
integer reference model (NumPy int64, one function per hardware block, named
after the block) defines bit for bit what the hardware computes. docs/numerics.md
is the contract between the two and the hardware.
"""

from .bundle import BundleError, LayerBundle, random_bundle
from .config import WccConfig, keep_count, level_map
from .energy import energy
from .export import apply_tail, calibrate_output_scale, export_layer, input_codes
from .haar_forward import haar_forward
from .haar_inverse import align_levels, haar_inverse
from .pack import pack, stream_bits
from .photographs import PHOTOGRAPHS, photograph, photograph_features
from .pointwise_mac import pointwise_mac
from .quant_conv import QuantConv2d
from .quantize import quantize
from .requantize import requantize
from .scatter import scatter
from .topk_select import topk_select
from .unpack import StreamError, unpack
from .wcc_conv import WCCConv2d
from .wcc_layer import WccTrace, wcc_layer
from .wccify import wccify

__all__ = [
    "PHOTOGRAPHS", "BundleError", "LayerBundle", "QuantConv2d", "StreamError", "WCCConv2d", "WccConfig", "WccTrace",
    "align_levels", "apply_tail", "calibrate_output_scale", "energy", "export_layer", "haar_forward",
    "haar_inverse", "input_codes", "keep_count", "level_map", "pack", "photograph", "photograph_features", "pointwise_mac", "quantize", "random_bundle",
    "requantize", "scatter", "stream_bits", "topk_select", "unpack", "wcc_layer", "wccify",
]
