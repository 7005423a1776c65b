"""Golden models of a WCC layer and of the channel codecs (TCI, DCT-CM, CAP).

The PyTorch layers (float, trainable) define what the layer computes; the
integer reference model (NumPy int64, one function per hardware block, in the
module of the block's name: ``golden/packer.py`` for ``hw/packer.py``) defines
bit for bit what the hardware computes. docs/numerics.md
is the contract between the two and the hardware.

The integer model imports only NumPy; the PyTorch names load PyTorch on first use.
"""

import importlib

from ..spec.frame import keep_count, level_map
from ..spec.wcc_config import WccConfig
from .bundle import BundleError, LayerBundle, random_bundle
from .codec_bundle import CodecBundle
from .codec_layer import CodecTrace, codec_layer
from .compressor import Compressed, compressor
from .haar_forward import haar_forward
from .haar_inverse import align_levels, haar_inverse
from .packer import pack, stream_bits
from .pointwise_mac import pointwise_mac
from .position_energy import energy
from .quantizer import quantize
from .requantizer import requantize
from .scatter import scatter
from .topk_selector import topk_select
from .unpacker import StreamError, unpack
from .wcc_layer import WccTrace, wcc_layer

# Names that need PyTorch (or scikit-image), by the module that defines them.
_LAZY = {
    "QuantConv2d": "quant_conv", "WCCConv2d": "wcc_conv", "wccify": "conversion", "codecify": "conversion",
    "ChannelCodecConv2d": "codec_conv", "export_codec_layer": "codec_export",
    "apply_tail": "export", "calibrate_output_scale": "export", "calibrated_layer": "export",
    "seeded_batchnorm": "export", "export_layer": "export", "input_codes": "export",
    "PHOTOGRAPHS": "photographs", "photograph": "photographs", "photograph_codes": "photographs",
    "grey_photograph": "photographs",
    "photograph_features": "photographs",
}

__all__ = [
    "BundleError", "CodecBundle", "CodecTrace", "Compressed", "LayerBundle", "StreamError", "WccConfig", "WccTrace", "align_levels", "compressor", "energy",
    "haar_forward", "haar_inverse", "keep_count", "level_map", "pack", "pointwise_mac", "quantize",
    "codec_layer", "random_bundle", "requantize", "scatter", "stream_bits", "topk_select", "unpack", "wcc_layer",
    *_LAZY,
]


def __getattr__(name):
    if name in _LAZY:
        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
