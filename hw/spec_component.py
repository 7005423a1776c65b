"""The base of every block with parameters: one immutable spec holds them and the facts derived from them."""

from amaranth.lib import wiring

__all__ = ["SpecComponent"]


class SpecComponent(wiring.Component):
    """A component whose parameters and derived facts are one immutable spec.

    ``Block(**params)`` builds ``Block.Spec(**params)``, which validates them,
    before the component exists: refused parameters raise without leaving an
    unused elaboratable behind. ``Block(spec)`` takes a spec made already, so
    a parent reads its parts' facts (widths, cycles, latency) from their
    specs and builds the parts once, when it elaborates. ``block.spec`` is
    the spec; ``block.<name>`` reads ``block.spec.<name>`` for every name the
    component does not define itself (its ports included).

    Subclasses set ``Spec`` (a frozen dataclass) and define the class method
    ``members(spec)``, the members of their signature.
    """

    #: The spec class: a frozen dataclass whose fields are the parameters.
    Spec = None

    def __new__(cls, spec=None, /, **params):
        if spec is None:
            spec = cls.Spec(**params)
        elif params:
            raise TypeError(f"{cls.__name__}: give a {cls.Spec.__name__} or its parameters, not both")
        elif not isinstance(spec, cls.Spec):
            raise TypeError(f"{cls.__name__}: spec must be a {cls.Spec.__name__}, got {type(spec).__name__}")
        # src_loc_at=1: an unused component is reported where it was made, not here.
        self = super().__new__(cls, src_loc_at=1)
        self.spec = spec
        return self

    def __init__(self, spec=None, /, **params):
        members = self.members(self.spec)
        # A port hides a fact of the same name: ``block.x`` is the port, ``block.spec.x`` the fact.
        self._ports = frozenset(members)
        super().__init__(members)

    @classmethod
    def members(cls, spec):
        """The signature members of a component of ``spec`` (a parent reads its parts' port shapes here)."""
        raise NotImplementedError

    def __getattr__(self, name):
        spec = self.__dict__.get("spec")
        if spec is None or name.startswith("__") or name in self.__dict__.get("_ports", ()):
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        try:
            return getattr(spec, name)
        except AttributeError:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}") from None
