"""wccgen: hardware for CNN layers that keep their activations compressed."""

__version__ = "0.1.0"
