"""wccgen: hardware for CNN layers that keep their activations compressed."""

__version__ = "0.1.0"


def __getattr__(name):
    # `wccgen.convert` (a model of one's own into WCC layers) without importing torch for every command.
    if name in ("convert", "Conversion", "UnsupportedModel"):
        from .gen import convert as conversion

        return getattr(conversion, name)
    raise AttributeError(f"module 'wccgen' has no attribute {name!r}")
