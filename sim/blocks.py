"""The blocks the shared testbench can drive: component class and stream ports."""

from dataclasses import dataclass

from ..hw.haar_forward import HaarForward
from ..hw.haar_inverse import HaarInverse

__all__ = ["BLOCKS", "BlockSpec"]


@dataclass(frozen=True)
class BlockSpec:
    """How to build a block and which of its streams are input and output."""

    build: type
    source: str  #: input stream port, driven by the testbench
    sink: str  #: output stream port, collected by the testbench


BLOCKS = {
    "HaarForward": BlockSpec(HaarForward, source="pixels", sink="coefficients"),
    "HaarInverse": BlockSpec(HaarInverse, source="coefficients", sink="pixels"),
}
