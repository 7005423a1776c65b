"""The integer model of a TCI / DCT-CM / CAP layer against its PyTorch layer on real activations, its streams
against independent decoders, and its bundle's files; the whole layer in hardware (``CodecLayer``) against the
integer model, every internal stream compared."""

import json

import numpy as np
import pytest
import torch
from helpers import assert_exact, pointwise_inputs, real_codec_input

from wccgen.golden.bundle import BundleError
from wccgen.golden.codec_bundle import CodecBundle
from wccgen.golden.codec_conv import ChannelCodecConv2d
from wccgen.golden.codec_export import codec_input_codes, export_codec_layer
from wccgen.golden.codec_layer import codec_layer, decode_codes, encode_codes
from wccgen.golden.export import apply_tail, calibrate_output_scale
from wccgen.golden.huffman import StreamError as HuffmanStreamError
from wccgen.golden.huffman import coded_bits
from wccgen.golden.unpacker import StreamError
from wccgen.sim.harness import run_block
from wccgen.sim.layer_streams import codec_layer_expectation

CASES = [(codec, rate, bits) for codec in ("tci", "dctcm", "cap") for rate, bits in ((1.0, 8), (0.25, 4))]


@pytest.fixture(scope="module")
def inputs():
    return pointwise_inputs()


@pytest.fixture(scope="module")
def exported(inputs):
    """Every codec at two rates on an expansion (ReLU6 after it) and a projection: ``{case: (layer, bundle,
    held-out input, output scale)}``; calibrated on the first half of the patches, checked on the second."""
    out = {}
    for name in ("blocks.1.expand", "blocks.1.project"):
        x, conv = inputs[name]
        activation = "relu6" if name.endswith("expand") else "none"
        for codec, rate, bits in CASES:
            layer = ChannelCodecConv2d(conv.in_channels, conv.out_channels, codec, rate=rate, bit_a=bits)
            with torch.no_grad():
                layer.weight.copy_(conv.weight)
                layer.bias.copy_(conv.bias)
                layer(x[:6])
            scale = calibrate_output_scale(layer, x[:6], activation=activation)
            bundle = export_codec_layer(layer, output_scale=scale, activation=activation, calibration=x[:6],
                                        name=name)
            out[name, codec, rate, bits] = layer, bundle, x[6:], scale, activation
    return out


@pytest.mark.parametrize("name", ["blocks.1.expand", "blocks.1.project"])
@pytest.mark.parametrize("codec, rate, bits", CASES)
def test_integer_layer_matches_the_pytorch_layer(exported, name, codec, rate, bits):
    """Codes equal the PyTorch layer's exactly; outputs within 0.51 codes of the float output (its clamp
    applied) before rounding: only the output rounding and the 15-bit multipliers differ."""
    layer, bundle, x, scale, activation = exported[name, codec, rate, bits]
    with torch.no_grad():
        quantized = layer.input_quant(x)
        codes = layer.coefficient_codes(quantized).to(torch.int64).numpy()
        reference = apply_tail(layer(x), activation=activation).numpy() / scale
    frames = codec_input_codes(layer, x)
    worst = 0.0
    for n, frame in enumerate(frames):
        trace = codec_layer(frame, bundle)
        np.testing.assert_array_equal(trace.codes, codes[n])
        expected = np.clip(reference[n], bundle.out_min, bundle.out_max)
        worst = max(worst, float(np.abs(trace.output - expected).max()))
    assert worst <= 0.51


def brute_force_huffman_decode(bits, count, table):
    """Decode by trying, at every position, each codeword of the table as a prefix (no canonical structure)."""
    words = {key: format(code, f"0{length}b") for key, (code, length) in table.codewords.items()}
    text = "".join(str(int(b)) for b in bits)
    out, position = [], 0
    for _ in range(count):
        matches = [key for key, word in words.items() if text.startswith(word, position)]
        assert len(matches) == 1
        position += len(words[matches[0]])
        if matches[0] == "escape":
            raw = int(text[position:position + table.raw_bits], 2)
            position += table.raw_bits
            out.append(raw - (raw >> (table.raw_bits - 1)) * (1 << table.raw_bits))
        else:
            out.append(matches[0])
    return out


def test_tci_stream_decodes_with_a_brute_force_decoder(exported):
    layer, bundle, x, _, _ = exported["blocks.1.project", "tci", 0.25, 4]
    frame = codec_input_codes(layer, x)[0][:, :6, :6]
    trace = codec_layer(frame, bundle)
    bits = np.unpackbits(trace.stream, bitorder="little")[:trace.stream_bits]
    symbols = brute_force_huffman_decode(bits, trace.codes.size, bundle.huffman)
    assert symbols == trace.codes.reshape(bundle.components, -1).T.ravel().tolist()
    assert trace.stream_bits == coded_bits(trace.codes, bundle.huffman)


@pytest.mark.parametrize("codec, rate, bits", CASES)
def test_a_cut_stream_is_refused(exported, codec, rate, bits):
    layer, bundle, x, _, _ = exported["blocks.1.expand", codec, rate, bits]
    frame = codec_input_codes(layer, x)[0][:, :4, :4]
    trace = codec_layer(frame, bundle)
    with pytest.raises((StreamError, HuffmanStreamError), match="stream: (truncated|cut short)"):
        decode_codes(trace.stream[:-1], bundle, 4, 4)
    with pytest.raises((StreamError, HuffmanStreamError), match="stream: over-long"):
        decode_codes(np.append(trace.stream, 0).astype(np.uint8), bundle, 4, 4)
    assert encode_codes(trace.codes, bundle)[1] == trace.stream_bits


@pytest.mark.parametrize("codec", ["tci", "dctcm", "cap"])
def test_bundle_files_round_trip(exported, tmp_path, codec):
    _, bundle, _, _, _ = exported["blocks.1.project", codec, 0.25, 4]
    path = bundle.save(tmp_path / "layer.json")
    again = CodecBundle.load(path, codec=codec)
    assert again.digest() == bundle.digest() and again.huffman == bundle.huffman
    other = "cap" if codec != "cap" else "tci"
    with pytest.raises(BundleError, match=f"codec: holds a '{codec}' layer, expected '{other}'"):
        CodecBundle.load(path, codec=other)


def edited(bundle, tmp_path, **changes):
    record = bundle.to_json()
    for key, value in changes.items():
        target = record
        *parents, leaf = key.split(".")
        for parent in parents:
            target = target[parent]
        target[leaf] = value
    path = tmp_path / "edited.json"
    path.write_text(json.dumps(record))
    return path


@pytest.mark.parametrize("changes, message", [
    ({"codec": "wcc"}, "codec: must be one of"),
    ({"huffman.lengths": None}, "huffman: symbols and lengths must be lists of integers"),
    ({"rows": [[1, 2]]}, r"rows: has shape \(1, 2\), expected"),
    ({"weights": [[0]]}, r"weights: has shape \(1, 1\), expected"),
    ({"components": 99}, "components: must lie in"),
    ({"huffman.max_length": 16}, "huffman.max_length: at most 15 bits"),
    ({"huffman.raw_bits": 5}, "huffman.raw_bits: must equal bit_a"),
    ({"coef_shift": 0}, r"coef_shift: value 0 at index 0 outside \[1, 62\]"),
    ({"format": "other"}, "format 'other', expected 'wccgen-codec-1'"),
])
def test_a_bad_bundle_is_named(exported, tmp_path, changes, message):
    _, bundle, _, _, _ = exported["blocks.1.project", "tci", 0.25, 4]
    with pytest.raises(BundleError, match=message):
        CodecBundle.load(edited(bundle, tmp_path, **changes))


def test_a_table_that_is_not_prefix_free_is_refused(exported, tmp_path):
    _, bundle, _, _, _ = exported["blocks.1.project", "tci", 0.25, 4]
    lengths = [1] * len(bundle.huffman.lengths)
    with pytest.raises(BundleError, match="huffman.lengths: not a prefix-free code"):
        CodecBundle.load(edited(bundle, tmp_path, **{"huffman.lengths": lengths, "huffman.escape_length": 1}))


def test_a_huffman_table_outside_tci_and_a_corrupt_file_are_refused(exported, tmp_path):
    _, tci, _, _, _ = exported["blocks.1.project", "tci", 0.25, 4]
    _, cap, _, _, _ = exported["blocks.1.project", "cap", 0.25, 4]
    record = cap.to_json()
    record["huffman"] = tci.to_json()["huffman"]
    path = tmp_path / "cap.json"
    path.write_text(json.dumps(record))
    with pytest.raises(BundleError, match="huffman: a cap bundle has no Huffman table"):
        CodecBundle.load(path)
    path.write_text("{not json")
    with pytest.raises(BundleError, match="corrupt JSON"):
        CodecBundle.load(path)


def test_codes_never_seen_in_calibration_travel_behind_the_escape(exported):
    """A table built from a calibration that saw only the codes -1, 0 and 1: every other code of a real frame is
    the escape's codeword and its raw bits, and the frame still decodes to the same codes."""
    from dataclasses import replace

    from wccgen.golden.huffman import build_table

    layer, bundle, x, _, _ = exported["blocks.1.project", "tci", 1.0, 8]
    narrow = replace(bundle, huffman=build_table({-1: 5, 0: 20, 1: 5}, 12, bundle.bit_a))
    frame = codec_input_codes(layer, x)[0][:, :4, :4]
    trace = codec_layer(frame, narrow)
    codewords = narrow.huffman.codewords
    escaped = int(np.sum(np.abs(trace.codes) > 1))
    assert escaped > 0
    expected = sum(codewords[int(c)][1] for c in trace.codes.ravel() if abs(c) <= 1) + \
        escaped * (codewords["escape"][1] + bundle.bit_a)
    assert trace.stream_bits == expected
    np.testing.assert_array_equal(trace.output, codec_layer(frame, bundle).output)


def simulate_codec_layer(tmp_path, bundle, frames, **options):
    """The layer for ``frames`` (input codes ``(C, H, W)``) against ``codec_layer``, every tap compared."""
    stem = tmp_path / "bundle" / "layer"
    bundle.save(stem)
    _, outputs, taps = codec_layer_expectation(bundle, frames)
    params = {"bundle": str(stem), "height": frames[0].shape[1], "width": frames[0].shape[2]}
    return run_block("CodecLayer", params, frames, outputs, tmp_path / "sim", taps_expected=taps, **options)


@pytest.mark.parametrize("checkpoint", ["tci25", "dctcm25", "cap25"])
def test_the_layer_in_hardware_on_real_activations(tmp_path, checkpoint):
    """The shipped model's first codec layer on a noisy photograph's activations, then on random codes with the
    extremes of the input range, with idle and backpressure: output and every internal stream bit-exact."""
    bundle, codes = real_codec_input(checkpoint)
    limit = (1 << (bundle.in_bits - 1)) - 1
    rng = np.random.default_rng(3)
    extremes = rng.choice([-limit, 0, limit], size=codes.shape)
    report = simulate_codec_layer(tmp_path, bundle, [codes, extremes], idle=0.1, backpressure=0.2, seed=2)
    assert_exact(report)
    assert report["status"] == {"refused_frames": 0, "last_error": 0}
    assert set(report["streams_compared"]) >= {"sums", "codes", "compressed", "decoded", "accumulators"}

