"""Helpers shared by the hardware tests."""

from collections import deque

import numpy as np
import pywt
import torch
from amaranth.lib import data
from amaranth.sim import Simulator

from wccgen.gen.lint import lint_verilog
from wccgen.golden import haar_forward, topk_select
from wccgen.golden.checkpoints import default_checkpoint_dir, load_checkpoint
from wccgen.golden.codec_conv import ChannelCodecConv2d
from wccgen.golden.codec_export import export_codec_layer
from wccgen.golden.codec_layer import codec_layer
from wccgen.golden.evaluation import noisy_photograph
from wccgen.golden.huffman import build_table
from wccgen.hw.verilog import emit_verilog
from wccgen.sim.simulators import simulation_models


def assert_exact(report):
    """The simulation matched the golden model exactly and kept the stream rules."""
    assert report["mismatch"] is None, report["mismatch"]["message"]
    assert not report["protocol_errors"], report["protocol_errors"]
    assert "flag_errors" not in report, report["flag_errors"]
    assert report["passed"]


def verilog_that_lints(tmp_path, make, name, target):
    """Emit the component ``make()`` builds as ``name``, twice: the texts must be identical; lint it with the
    target's primitive models. Returns the text."""
    text = emit_verilog(make(), name, {"case": 1}, target=target)
    assert text == emit_verilog(make(), name, {"case": 1}, target=target)
    path = tmp_path / f"{name}.v"
    path.write_text(text)
    lint_verilog(path, top=name, models=simulation_models(target))
    return text


def padded(size, levels):
    return -(-size // 2**levels) * 2**levels


def simulate(dut, *benches, background=()):
    """Run ``dut`` in Amaranth's simulator with a clock and the async ``benches`` (``add_testbench``), until they
    end; the ``background`` ones (memory models) run alongside."""
    sim = Simulator(dut)
    sim.add_clock(1e-6)
    for bench in benches:
        sim.add_testbench(bench)
    for bench in background:
        sim.add_testbench(bench, background=True)
    sim.run()


def as_python(value):
    """A value read from the simulator as plain Python: lists for arrays, dicts for structs, else int."""
    if isinstance(value, data.Const):
        layout = value.shape()
        if isinstance(layout, data.ArrayLayout):
            return [as_python(value[index]) for index in range(layout.length)]
        return {name: as_python(value[name]) for name, _ in layout}
    return int(value)


def run_always_ready(dut, source, sink, payloads, *, idle=0.0, seed=0, drain=64):
    """Present ``payloads`` on the always-ready stream ``source`` (with random idle cycles); collect ``sink``.

    Returns
    -------
    (list, list, list)
        The payloads received (plain Python), the cycle each payload was sent,
        and the cycle each was received.
    """
    gaps = np.random.default_rng(seed).random(10 * len(payloads) + 10) < idle
    received, sent_cycles, received_cycles = [], [], []

    async def bench(ctx):
        sent, cycle, quiet = 0, 0, 0
        while quiet < drain:
            offer = sent < len(payloads) and not gaps[cycle % len(gaps)]
            ctx.set(source.valid, offer)
            if offer:
                ctx.set(source.payload, payloads[sent])
                sent_cycles.append(cycle)
                sent += 1
            if ctx.get(sink.valid):
                received.append(as_python(ctx.get(sink.payload)))
                received_cycles.append(cycle)
            quiet = quiet + 1 if sent == len(payloads) else 0
            await ctx.tick()
            cycle += 1

    simulate(dut, bench)
    return received, sent_cycles, received_cycles


def read_port_server(port, memory, latency):
    """A background testbench that answers the read port ``port`` (reader's side) from the list ``memory``:
    the word at an address comes ``latency`` cycles after it, as from a ``BlockRAM``."""
    async def serve(ctx):
        requested = deque([0] * latency)
        while True:
            requested.append(ctx.get(port.addr))
            address = requested.popleft()
            ctx.set(port.data, memory[address] if address < len(memory) else 0)
            await ctx.tick()
    return serve


def bitmap_words(mask, word_bits):
    """The bitmap of ``mask`` (raster order) as ``word_bits``-bit integers, LSB first, the last one partial."""
    bits = [int(b) for b in np.asarray(mask).ravel()]
    return [sum(b << i for i, b in enumerate(bits[start:start + word_bits]))
            for start in range(0, len(bits), word_bits)]


def run_kept_buffer(dut, output, spec, frames, beats, *, idle, backpressure, seed, cycles=None):
    """Frames ``(mask, values)`` into a buffer of kept sums (a ``ScatterBuffer`` or alike): each claimed when the
    buffer is free, its bitmap copied, its sums sent with random gaps (probability ``idle``); ``beats`` per frame
    collected from the stream ``output``. With a list ``cycles``, the cycle of each frame's first output beat is
    appended to it."""
    rng = np.random.default_rng(seed)
    received = []

    async def feed(ctx):
        for mask, values in frames:
            await ctx.tick().until(dut.free)
            ctx.set(dut.claim, 1)
            await ctx.tick()
            ctx.set(dut.claim, 0)
            for address, word in enumerate(bitmap_words(mask, spec.word_bits)):
                ctx.set(dut.copy_write.addr, address)
                ctx.set(dut.copy_write.data, word)
                ctx.set(dut.copy_write.en, 1)
                await ctx.tick()
            ctx.set(dut.copy_write.en, 0)
            sums = [{"data": [int(v) for v in values[start:start + spec.lanes, p]], "first": 0, "last": 0}
                    for p in range(spec.keep) for start in range(0, spec.channels, spec.lanes)]
            sums[0]["first"], sums[-1]["last"] = 1, 1
            for beat in sums:
                while rng.random() < idle:
                    await ctx.tick()
                ctx.set(dut.sums.valid, 1)
                ctx.set(dut.sums.payload, beat)
                await ctx.tick()
                ctx.set(dut.sums.valid, 0)

    async def watch(ctx):
        cycle = 0
        while True:
            if ctx.get(output.valid) & ctx.get(output.ready) & ctx.get(output.payload.first):
                cycles.append(cycle)
            cycle += 1
            await ctx.tick()

    simulate(dut, feed, stream_collector(output, len(frames) * beats, received, backpressure=backpressure, seed=seed),
             background=() if cycles is None else (watch,))
    return received


def code_entries(codes, lanes, bits):
    """Kept codes ``(C, k)`` as code-memory entries: per kept position, beats of ``lanes`` codes, LSB first."""
    codes = np.asarray(codes)
    return [sum((int(c) & ((1 << bits) - 1)) << (bits * n) for n, c in enumerate(codes[start:start + lanes, p]))
            for p in range(codes.shape[1]) for start in range(0, codes.shape[0], lanes)]


def stream_collector(port, beats, received, *, backpressure=0.0, seed=0):
    """A testbench that takes ``beats`` payloads from the stream ``port`` into ``received``, with ``ready`` low at
    random (probability ``backpressure``)."""
    rng = np.random.default_rng(seed)

    async def collect(ctx):
        while len(received) < beats:
            ready = rng.random() >= backpressure
            ctx.set(port.ready, ready)
            if ready and ctx.get(port.valid):
                received.append(as_python(ctx.get(port.payload)))
            await ctx.tick()
        ctx.set(port.ready, 0)
    return collect


#: A beat of the frame-routing tests: a number and the frame's end.
BEAT = data.StructLayout({"data": 8, "last": 1})


def numbered_frames(lengths):
    """Frames of the given lengths, each beat numbered in order of sending, ``last`` on each frame's final beat."""
    frames, number = [], 0
    for length in lengths:
        frames.append([{"data": (number + n) % 256, "last": int(n == length - 1)} for n in range(length)])
        number += length
    return frames


def stream_sender(port, beats, *, idle=0.0, seed=0):
    """A testbench that sends ``beats`` on the stream ``port``, holding each until taken, with random idle."""
    rng = np.random.default_rng(seed)

    async def send(ctx):
        for beat in beats:
            while rng.random() < idle:
                await ctx.tick()
            ctx.set(port.valid, 1)
            ctx.set(port.payload, beat)
            await ctx.tick().until(port.ready)
            ctx.set(port.valid, 0)
    return send


def frame_beats(frame, lanes):
    """A ``(C, H, W)`` frame as the beats of a frame stream: per position in raster order, ``C / lanes`` beats of
    ``lanes`` channels; ``first`` on the first beat, ``last`` on the final one."""
    channels, height, width = np.shape(frame)
    beats = [{"data": [int(v) for v in frame[start:start + lanes, y, x]], "first": 0, "last": 0}
             for y in range(height) for x in range(width) for start in range(0, channels, lanes)]
    beats[0]["first"], beats[-1]["last"] = 1, 1
    return beats


def random_frame(rng, height=8, width=8, channels=3, keep=11, bits=5):
    """A bitmap of ``keep`` positions and ``channels x keep`` symmetric ``bits``-bit codes."""
    mask, _ = topk_select(rng.integers(0, 50, size=(height, width)), keep)
    limit = 2 ** (bits - 1) - 1
    codes = rng.integers(-limit, limit + 1, size=(channels, keep))
    return mask, codes


# -- Haar transforms ---------------------------------------------------------------------------------------------

def pywt_mallat(frame, levels):
    """Orthonormal coefficients of one zero-padded 2-D frame, laid out as Mallat by hand."""
    padded_h = -(-frame.shape[0] // 2**levels) * 2**levels
    padded_w = -(-frame.shape[1] // 2**levels) * 2**levels
    padded = np.zeros((padded_h, padded_w))
    padded[: frame.shape[0], : frame.shape[1]] = frame
    bands = pywt.wavedec2(padded, "haar", level=levels, mode="periodization")
    out = np.zeros_like(padded)
    h, w = padded_h >> levels, padded_w >> levels
    out[:h, :w] = bands[0]
    for level, (horizontal, vertical, diagonal) in zip(range(levels, 0, -1), bands[1:]):
        h, w = padded_h >> level, padded_w >> level
        out[:h, w : 2 * w] = horizontal
        out[h : 2 * h, :w] = vertical
        out[h : 2 * h, w : 2 * w] = diagonal
    return out


def from_mallat(coeffs, levels):
    """The inverse mapping: Mallat layout to PyWavelets' coefficient list."""
    padded_h, padded_w = coeffs.shape
    h, w = padded_h >> levels, padded_w >> levels
    bands = [coeffs[:h, :w]]
    for level in range(levels, 0, -1):
        h, w = padded_h >> level, padded_w >> level
        bands.append((coeffs[:h, w : 2 * w], coeffs[h : 2 * h, :w], coeffs[h : 2 * h, w : 2 * w]))
    return bands


#: Parameters both Haar units refuse, and the start of each message.
HAAR_BAD_PARAMETERS = [
    (dict(lanes=3), r"^lanes: must divide channels \(4\), got 3"),
    (dict(lanes=0), "^lanes"), (dict(height=0), "^height"), (dict(width=-1), "^width"),
    (dict(channels=0), "^channels"), (dict(levels=0), "^levels"), (dict(levels=7), "^levels"),
    (dict(in_bits=1), "^in_bits"),
]


def extreme_frames(channels, height, width, bits):
    """Frames at the extremes of a ``bits``-bit range: all highest, all lowest, and two checkerboards of both."""
    lo, hi = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
    rows, cols = np.indices((height, width))
    checker = np.where((rows + cols) % 2 == 0, hi, lo)
    return [np.full((channels, height, width), hi), np.full((channels, height, width), lo),
            np.broadcast_to(checker, (channels, height, width)).copy(),
            np.broadcast_to(lo + hi - checker, (channels, height, width)).copy()]


# -- compressed-stream cases (Compressor, Decompressor) ------------------------------------------------------------

IN_BITS, BIT_A = 8, 8


def factors(levels, seed=0):
    """Quantizer factors that put typical coefficients into the middle of the code range."""
    rng = np.random.default_rng(seed)
    multipliers = [int(m) for m in rng.integers(1 << 14, 1 << 15, size=levels)]
    shifts = [15 + IN_BITS - BIT_A + level for level in range(1, levels + 1)]
    return multipliers, shifts


def random_coefficients(rng, channels, height, width, levels, count=3):
    return [haar_forward(rng.integers(-128, 128, size=(channels, height, width)), levels) for _ in range(count)]


CODEC_CASES = [
    # height, width, channels, lanes, levels, rate
    (8, 8, 2, 1, 2, 0.5),
    (13, 10, 4, 2, 2, 0.25),
    (9, 14, 3, 3, 3, 0.125),
    (12, 20, 8, 4, 1, 0.5),
]


def pointwise_inputs(patches=12, patch=24, seed=3):
    """``{layer name: (input, conv)}`` of every 1x1 convolution of the shipped 8/8 model, on noisy patches of the
    training photographs: real activations for the layers that compress them."""
    import torch

    from wccgen.golden.checkpoints import default_checkpoint_dir, load_checkpoint
    from wccgen.golden.training import PatchSampler

    model, _, _ = load_checkpoint(default_checkpoint_dir() / "q8a8.pt")
    inputs, hooks = {}, []
    for name, module in model.named_modules():
        if name.endswith(("expand", "project")):
            hooks.append(module.register_forward_pre_hook(
                lambda module, args, name=name: inputs.__setitem__(name, (args[0].detach(), module))))
    with torch.no_grad():
        model(PatchSampler(patch, patches, seed).sample()[0])
    for hook in hooks:
        hook.remove()
    return inputs


def laplace_table(seed=0, spread=2.0, max_length=10):
    """A code built on Laplace-distributed symbols in [-20, 20]: the others take the escape."""
    rng = np.random.default_rng(seed)
    calibration = np.clip(np.round(rng.laplace(0, spread, 2000)), -20, 20).astype(int)
    return build_table({int(v): int((calibration == v).sum()) for v in np.unique(calibration)},
                       max_length=max_length, raw_bits=8)


def real_tci_frame():
    """The shipped TCI 25 % model's first expansion: its bundle (the Huffman table built on one photograph) and
    the integer model's trace of a frame from another."""
    return real_codec_frame("tci25")


def real_codec_frame(checkpoint):
    """The first codec layer of a shipped model (``tci25``, ``dctcm25``, ...): its bundle (calibrated, and a
    Huffman table built, on one photograph) and the integer model's trace of a frame from another."""
    bundle, codes = real_codec_input(checkpoint)
    trace = codec_layer(codes, bundle)
    assert np.unique(trace.codes).size > 5
    return bundle, trace


def real_codec_input(checkpoint):
    """The first codec layer of a shipped model: its bundle (as :func:`real_codec_frame`) and the input codes
    ``(C, 16, 16)`` of a noisy photograph's activations at that layer."""
    model, _, _ = load_checkpoint(default_checkpoint_dir() / f"{checkpoint}.pt")
    name, layer = next((n, m) for n, m in model.named_modules() if isinstance(m, ChannelCodecConv2d))
    seen = {}
    hook = layer.register_forward_pre_hook(lambda module, args: seen.__setitem__("x", args[0]))
    with torch.no_grad():
        model(noisy_photograph(1, "chelsea", 32)[0])
        calibration = seen["x"]
        model(noisy_photograph(0, "astronaut", 16)[0])
    hook.remove()
    bundle = export_codec_layer(layer, output_scale=0.05, calibration=calibration, name=name)
    return bundle, layer.input_quant.codes(layer.input_quant(seen["x"])).to(torch.int64).numpy()[0]


def random_codes(seed, count, bits, zeros, shape):
    """``count`` frames of symmetric ``bits``-bit codes of ``shape``, a fraction ``zeros`` of them 0."""
    rng = np.random.default_rng(seed)
    limit = (1 << (bits - 1)) - 1
    return [np.where(rng.random(shape) < zeros, 0, rng.integers(-limit, limit + 1, shape)) for _ in range(count)]


def flagged_agrees_with_decoder(decode, decode_flagged, errors, stream, shape, bits):
    """Every cut of a good frame's ``stream``, the stream with a byte appended and with each bit flipped: the
    flagged decoder names a kind (a key of ``errors``) exactly when ``decode`` raises ``StreamError``, and gives
    its codes when it does not. Returns how many variants were refused."""
    from wccgen.golden.unpacker import StreamError

    variants = [stream[:size] for size in range(len(stream))] + [np.append(stream, 0).astype(np.uint8)]
    for bit in range(len(stream) * 8):
        flipped = stream.copy()
        flipped[bit // 8] ^= 1 << (bit % 8)
        variants.append(flipped)
    refused = 0
    for variant in variants:
        decoded, kind = decode_flagged(variant, *shape, bits)
        try:
            expected = decode(variant, *shape, bits)
        except StreamError:
            assert kind in errors
            refused += 1
        else:
            assert kind is None
            np.testing.assert_array_equal(decoded, expected)
    assert refused > len(stream)  # every cut and the appended byte at least
    return refused


def stream_order(codes):
    """A frame of codes ``(k, H, W)`` in the order a coder takes them: position after position, the components of
    each."""
    return np.asarray(codes).reshape(codes.shape[0], -1).T.ravel()


def as_frame(flat, shape):
    """Codes in stream order as a frame of ``shape`` ``(k, H, W)`` (the inverse of :func:`stream_order`)."""
    components, height, width = shape
    return np.asarray(flat).reshape(height * width, components).T.reshape(shape)


def wrong_length_frames(bits, shape, zeros=0.1):
    """Frames of a coder of ``shape`` sent with a frame too short and one too long between good ones, and the
    frames the coder must make of them: the short one completed with zero codes, the long one cut after its
    count."""
    components, height, width = shape
    good = random_codes(5, 1, bits, zeros, shape)[0]
    short = random_codes(6, 1, bits, zeros, (components, height, width - 2))[0]
    long = random_codes(7, 1, bits, zeros, (components, height, width + 2))[0]
    count = int(np.prod(shape))
    completed = as_frame(np.concatenate([stream_order(short), np.zeros(count - short.size, dtype=int)]), shape)
    cut = as_frame(stream_order(long)[:count], shape)
    return [good, short, good, long, good], [good, completed, good, cut, good]
