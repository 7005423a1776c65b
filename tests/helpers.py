"""Helpers shared by the hardware tests."""


def assert_exact(report):
    """The simulation matched the golden model exactly and kept the stream rules."""
    assert report["mismatch"] is None, report["mismatch"]["message"]
    assert not report["protocol_errors"], report["protocol_errors"]
    assert "flag_errors" not in report, report["flag_errors"]
    assert report["passed"]


def padded(size, levels):
    return -(-size // 2**levels) * 2**levels
