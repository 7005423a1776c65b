"""Helpers shared by the hardware tests."""


def assert_exact(report):
    """The simulation matched the golden model exactly and kept the stream rules."""
    assert report["mismatch"] is None, report["mismatch"]["message"]
    assert not report["protocol_errors"], report["protocol_errors"]
    assert "flag_errors" not in report, report["flag_errors"]
    assert report["passed"]


def padded(size, levels):
    return -(-size // 2**levels) * 2**levels


def photograph_layer(photo, height, width, channels_in, channels_out, *, levels=3, rate=0.25, activation="relu6"):
    """A WCC layer calibrated on a photograph's activations, exported, and its integer trace on that photograph.

    Returns
    -------
    (LayerBundle, WccTrace)
    """
    import torch

    from wccgen.golden import (WCCConv2d, calibrate_output_scale, export_layer, input_codes, photograph_features,
                               wcc_layer)

    torch.manual_seed(7)
    x = photograph_features(photo, height, width, channels_in, seed=1)
    layer = WCCConv2d(channels_in, channels_out, levels=levels, rate=rate)
    batchnorm = torch.nn.BatchNorm2d(channels_out)
    with torch.no_grad():
        batchnorm.running_mean.uniform_(-0.5, 0.5)
        batchnorm.running_var.uniform_(0.5, 2.0)
        batchnorm.weight.uniform_(-1.5, 1.5)
        batchnorm.bias.uniform_(-0.5, 0.5)
    layer.eval()
    batchnorm.eval()
    scale = calibrate_output_scale(layer, x, batchnorm, activation)
    bundle = export_layer(layer, height, width, output_scale=scale, batchnorm=batchnorm, activation=activation)
    return bundle, wcc_layer(input_codes(layer, x)[0], bundle)
