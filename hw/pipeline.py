"""Pipeline registers."""

from amaranth.hdl import Signal

__all__ = ["delay"]


def delay(m, value, cycles, name, en=None):
    """``value`` delayed by ``cycles`` registers, each moving only while ``en`` (always, if ``None``)."""
    for stage in range(cycles):
        register = Signal.like(value, name=f"{name}_d{stage + 1}")
        update = register.eq(value)
        if en is None:
            m.d.sync += update
        else:
            with m.If(en):
                m.d.sync += update
        value = register
    return value
