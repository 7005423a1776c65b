"""Tables of several layers held side by side, for an engine that computes one layer at a time.

A block of a shared engine (quantizer, MAC array, requantizer) holds the
tables of every layer it serves, concatenated layer after layer, and a
``layer`` input says whose to use. ``layer`` is a setting, not a stream: it
holds while the engine has frames inside and changes only while it is empty,
so a block may take it through registers of its own, a few cycles late.
"""

from amaranth.hdl import Array, Cat, Const, Shape, Signal, Value
from amaranth.utils import ceil_log2

from ..spec.checks import check_positive_int
from .pipeline import RELAY

__all__ = ["MAX_LAYERS", "check_layers", "current_entries", "layer_address", "layer_read_address", "layer_stride",
           "split_layers", "stacked_init"]

#: Most layers one engine holds the tables of.
MAX_LAYERS = 64


def check_layers(layers):
    """Validate a count of layers held: an integer in ``[1, MAX_LAYERS]``."""
    layers = check_positive_int(layers, "layers")
    if layers > MAX_LAYERS:
        raise ValueError(f"layers: must lie in [1, {MAX_LAYERS}], got {layers}")
    return layers


def split_layers(table, layers, name, per_layer, unit="entry"):
    """``table`` (layer after layer) as one tuple per layer; raises unless it holds ``per_layer`` values each
    (one per ``unit``)."""
    table = tuple(table)
    if len(table) != layers * per_layer:
        what = f"one value per {unit} ({per_layer})" if layers == 1 else \
            f"one value per {unit} and layer ({per_layer} x {layers} layers = {per_layer * layers})"
        raise ValueError(f"{name}: must give {what}, got {len(table)}")
    return tuple(table[index * per_layer:(index + 1) * per_layer] for index in range(layers))


def current_entries(m, layer, table, layers, shape, name):
    """The entries of the current layer's part of ``table`` (layer after layer).

    With one layer they are constants (the design is that of a one-layer
    block); otherwise registers that follow ``layer`` a cycle late, so no
    table lookup lies on a data path.
    """
    shape = Shape.cast(shape)
    parts = split_layers(table, layers, name, len(table) // layers)
    if layers == 1:
        return [Const(value, shape) for value in parts[0]]
    entries = []
    for index in range(len(parts[0])):
        entry = Signal(shape, name=f"{name}{index}")
        m.d.sync += entry.eq(Array(Const(part[index], shape) for part in parts)[layer])
        entries.append(entry)
    return entries


def layer_stride(depth):
    """Entries between two layers' parts of a memory holding ``depth`` entries per layer: a power of two, so the
    address is the layer's bits above the entry's, with no adder."""
    return 1 << ceil_log2(max(depth, 1))


def layer_address(layer, address, depth):
    """The address of entry ``address`` of layer ``layer`` in a memory laid out by :func:`layer_stride`."""
    bits = ceil_log2(layer_stride(depth))
    low = Value.cast(address)[:bits]
    return Cat(low, Const(0, bits - len(low)), layer)


def layer_read_address(m, layer, address, depth, name):
    """The read address of a memory laid out by :func:`layer_stride`: ``address`` alone for one layer
    (``layer`` is ``None``), else the current layer above it, through a relay of the memory's own."""
    if layer is None:
        return address
    relay = Signal.like(layer, name=name, reset_less=True, attrs=RELAY)
    m.d.sync += relay.eq(layer)
    return layer_address(relay, address, depth)


def stacked_init(parts, depth):
    """Initial contents of such a memory: each layer's ``depth`` entries at its stride, zeros between."""
    stride = layer_stride(depth)
    words = []
    for part in parts:
        part = list(part)
        words += part + [0] * (stride - len(part))
    return words
