"""SpecComponent: a block is made from a spec or from its parameters, validated before the component exists; its
facts are read from the spec, its ports win over facts of the same name."""

import warnings
from dataclasses import FrozenInstanceError, dataclass

import pytest
from amaranth.hdl import Fragment, Module, Signal
from amaranth.lib.wiring import Out

from wccgen.hw.packer import Packer, PackerSpec
from wccgen.hw.spec_component import SpecComponent
from wccgen.hw.topk_selector import TopKSelector, TopKSelectorSpec


def elaborated(*components):
    """Elaborate the components (as a design would), so none is reported unused."""
    for component in components:
        Fragment.get(component, None)


def test_a_block_from_its_spec_equals_one_from_its_parameters():
    spec = PackerSpec(positions=37, word_bits=8)
    made, given = Packer(positions=37, word_bits=8), Packer(spec)
    assert made.spec == given.spec == spec and given.spec is spec
    assert made.signature == given.signature
    assert made.tail_bits == spec.tail_bits == 5  # a fact, read through the component
    elaborated(made, given)


def test_refused_parameters_raise_before_any_component_exists():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an unused elaboratable left behind would warn
        with pytest.raises(ValueError, match="keep: must lie in"):
            TopKSelector(positions=8, keep=9, energy_bits=10)
        with pytest.raises(TypeError, match="positions: must be an integer"):
            Packer(positions=3.5, word_bits=8)


def test_a_spec_and_parameters_together_or_a_foreign_spec_are_refused():
    spec = PackerSpec(positions=8, word_bits=8)
    with pytest.raises(TypeError, match="Packer: give a PackerSpec or its parameters, not both"):
        Packer(spec, positions=8)
    with pytest.raises(TypeError, match="Packer: spec must be a PackerSpec, got TopKSelectorSpec"):
        Packer(TopKSelectorSpec(positions=8, keep=2, energy_bits=10))


@dataclass(frozen=True)
class CounterSpec:
    width: int
    done: int = 7  # a fact named like a port


class Counter(SpecComponent):
    Spec = CounterSpec

    @classmethod
    def members(cls, spec):
        return {"done": Out(1), "value": Out(spec.width)}

    def elaborate(self, platform):
        return Module()


def test_ports_win_over_facts_and_unknown_names_are_errors():
    counter = Counter(width=4)
    assert isinstance(counter.done, Signal) and counter.spec.done == 7
    assert counter.width == 4 and len(counter.value) == 4
    with pytest.raises(AttributeError, match="'Counter' object has no attribute 'nonsense'"):
        counter.nonsense
    with pytest.raises(FrozenInstanceError):
        counter.spec.width = 3
    selector = TopKSelector(positions=8, keep=2, energy_bits=10)
    assert selector.keep == 2 and selector.digits == selector.spec.digits
    elaborated(counter, selector)
