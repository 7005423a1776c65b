"""A network's WCC layer engines side by side in one design, for synthesis on one device."""

from dataclasses import dataclass

from amaranth.hdl import Module
from amaranth.lib import wiring

from .spec_component import SpecComponent
from .wcc_layer import WccLayer, WccLayerSpec

__all__ = ["WccNetwork", "WccNetworkSpec"]


@dataclass(frozen=True, eq=False)
class WccNetworkSpec:
    """Parameters of a :class:`WccNetwork`: its engines, by name (each a :class:`WccLayerSpec`)."""

    engines: dict

    def __post_init__(self):
        if not isinstance(self.engines, dict) or not self.engines:
            raise TypeError(f"engines: must be a non-empty dict of name to WccLayerSpec, got {self.engines!r}")
        for name, spec in self.engines.items():
            if not isinstance(name, str) or not name.isidentifier():
                raise ValueError(f"engines: an engine name must be an identifier, got {name!r}")
            if not isinstance(spec, WccLayerSpec):
                raise TypeError(f"engines[{name!r}]: must be a WccLayerSpec, got {type(spec).__name__}")


class WccNetwork(SpecComponent):
    """The WCC layer engines of a network in one design: each engine's ports, prefixed with its name.

    Nothing lies between the engines: the layers between the WCC layers
    (depthwise 3x3, residual adds, the float head and tail) run elsewhere,
    and an engine serving several layers is told which by its ``layer``
    input (see :class:`~wccgen.hw.wcc_layer.WccLayer`). The design is what a
    device must hold to run the network's WCC layers; every engine is the
    ``WccLayer`` simulated on its own, its internal watch points left
    unconnected.

    Attributes
    ----------
    <engine>_pixels, <engine>_output, <engine>_layer
        The ports ``pixels``, ``output`` and (serving several layers) ``layer`` of each engine.
    """

    Spec = WccNetworkSpec

    #: The ports of an engine the network brings out.
    PORTS = ("pixels", "output", "layer")

    @classmethod
    def members(cls, spec):
        members = {}
        for name, engine in spec.engines.items():
            ports = WccLayer.members(engine)
            for port in cls.PORTS:
                if port in ports:
                    members[f"{name}_{port}"] = ports[port]
        return members

    def elaborate(self, platform):
        m = Module()
        for name, spec in self.engines.items():
            engine = m.submodules[name] = WccLayer(spec)
            wiring.connect(m, wiring.flipped(getattr(self, f"{name}_pixels")), engine.pixels)
            wiring.connect(m, engine.output, wiring.flipped(getattr(self, f"{name}_output")))
            if spec.layers > 1:
                m.d.comb += engine.layer.eq(getattr(self, f"{name}_layer"))
        return m
