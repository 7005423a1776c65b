"""Comparison of hardware output with the golden model, reporting the first difference."""

import numpy as np

__all__ = ["frame_mismatch"]


def frame_mismatch(block, index, expected, got):
    """The first difference within frame ``index``, in stream order, or ``None``.

    Parameters
    ----------
    block : str
        Name of the block whose output this is (named in the report).
    index : int
        Frame number, named in the report.
    expected, got : numpy.ndarray, shape (C, H, W)

    Returns
    -------
    dict or None
        ``block``, ``frame``, ``channel``, ``row``, ``col``, ``position``
        (raster index), ``expected``, ``got``, ``differences`` (count in the
        frame) and a one-line ``message``.
    """
    if expected.shape != got.shape:
        return {"block": block, "frame": index,
                "message": f"{block}: frame {index} has shape {got.shape}, expected {expected.shape}"}
    differ = np.argwhere(expected != got)
    if not differ.size:
        return None
    # Stream order: position first, then channel.
    channel, row, col = min(differ.tolist(), key=lambda d: (d[1], d[2], d[0]))
    report = {
        "block": block, "frame": index, "channel": channel, "row": row, "col": col,
        "position": row * expected.shape[2] + col,
        "expected": int(expected[channel, row, col]), "got": int(got[channel, row, col]),
        "differences": int(differ.shape[0]),
    }
    report["message"] = (
        f"{block}: frame {index}, channel {channel}, position {report['position']} (row {row}, col {col}): "
        f"expected {report['expected']}, got {report['got']} ({report['differences']} values differ in this frame)"
    )
    return report
