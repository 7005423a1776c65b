"""Bad configurations raise errors that name the parameter; derived facts follow the formulas."""

import pytest
import torch

from wccgen.golden import QuantConv2d, WccConfig, WCCConv2d, keep_count, wccify

GOOD = dict(height=30, width=22, channels_in=8, channels_out=6)


@pytest.mark.parametrize("bad,match", [
    (dict(rate=0.0), "rate"), (dict(rate=1.01), "rate"), (dict(rate=-0.5), "rate"), (dict(rate=float("nan")), "rate"),
    (dict(rate="half"), "rate"), (dict(levels=0), "levels"), (dict(levels=-2), "levels"), (dict(levels=7), "levels"),
    (dict(in_bits=1), "in_bits"), (dict(bit_a=1), "bit_a"), (dict(bit_w=0), "bit_w"), (dict(out_bits=17), "out_bits"),
    (dict(height=0), "height"), (dict(width=-3), "width"), (dict(channels_in=0), "channels_in"),
    (dict(channels_out=2.0), "channels_out"), (dict(energy="max"), "energy"),
    (dict(height=1, width=1, rate=0.01), "rate"),  # 64 positions at 1 % keep none
    (dict(channels_in=10**6, in_bits=16, levels=6), "levels"),  # energy word over 63 bits
])
def test_bad_config_names_the_parameter(bad, match):
    with pytest.raises((ValueError, TypeError), match=rf"^{match}:"):
        WccConfig(**{**GOOD, **bad})


def test_derived_facts():
    cfg = WccConfig(**GOOD, levels=3, rate=0.25, bit_a=8)
    assert (cfg.padded_height, cfg.padded_width, cfg.positions) == (32, 24, 768)
    assert cfg.keep == 192
    assert cfg.compressed_bits == 8 * 192 * 8 + 768
    assert cfg.uncompressed_bits == 8 * 30 * 22 * 8
    assert cfg.coef_width_max == 14 and cfg.coef_width(1) == 10
    assert cfg.acc_width == (8 * 127 * 127).bit_length() + 1
    assert cfg.macs == 192 * 8 * 6
    # docs/numerics.md: a 27 + floor(log2 C)-bit energy and a 21-bit accumulator for 8/8, C = 64, L = 3.
    wide = WccConfig(height=8, width=8, channels_in=64, channels_out=1, levels=3)
    assert (wide.energy_width, wide.acc_width) == (33, 21)


@pytest.mark.parametrize("rate,bits_per_activation", [(0.5, 4), (0.25, 2), (0.125, 1)])
def test_bits_per_activation_match_the_paper(rate, bits_per_activation):
    cfg = WccConfig(height=64, width=64, channels_in=32, channels_out=32, rate=rate)
    assert cfg.bits_per_activation == pytest.approx(bits_per_activation + 1 / 32)


@pytest.mark.parametrize("bad,match", [
    (dict(rate=0), "rate"), (dict(levels=0), "levels"), (dict(bit_a=1), "bit_a"), (dict(bit_w=1), "bit_w"),
    (dict(in_bits=99), "in_bits"), (dict(energy="l3"), "energy"),
])
def test_bad_layer_arguments(bad, match):
    with pytest.raises((ValueError, TypeError), match=rf"^{match}:"):
        WCCConv2d(4, 4, **bad)


def test_layer_rejects_bad_tensors():
    layer = WCCConv2d(4, 4)
    with pytest.raises(ValueError, match=r"^x: must have shape \(N, 4, H, W\)"):
        layer(torch.zeros(1, 3, 8, 8))
    with pytest.raises(ValueError, match="^x: empty"):
        layer(torch.zeros(0, 4, 8, 8))
    small_rate = WCCConv2d(4, 4, rate=0.01)
    with pytest.raises(ValueError, match="^rate:"):
        small_rate(torch.ones(1, 4, 1, 1))  # 1 % of 64 padded positions keeps none
    assert not bool(small_rate.input_quant.initialized)  # the refused frame changed nothing


def test_wccify_bad_arguments():
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.Conv2d(4, 4, 1), torch.nn.Conv2d(4, 3, 3))
    with pytest.raises(ValueError, match="^rate:"):
        wccify(model, rate=2.0)
    with pytest.raises(ValueError, match="^bit_w:"):
        wccify(model, bit_w=1)
    with pytest.raises(ValueError, match="^model:"):
        wccify(torch.nn.Linear(3, 3))
    with pytest.raises(ValueError, match="^bit_a:"):
        QuantConv2d(3, 3, 3, bit_a=1)


def test_keep_count_forgives_float_rounding():
    assert keep_count(100, 0.29) == 29  # binary 0.29 * 100 is 28.999...
    for positions in (3, 768, 1000, 4096 * 3):
        counts = range(1, min(positions, 40) + 1)
        assert [keep_count(positions, n / positions) for n in counts] == list(counts)
    assert keep_count(100, 0.2999) == 29  # a true fraction still floors
    assert keep_count(64, 0.125) == 8
    assert keep_count(63, 0.5) == 31
    with pytest.raises(ValueError, match="rate: .* keeps no position"):
        keep_count(64, 0.01)
