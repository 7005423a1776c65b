"""Device capacities: a mapped design is checked against the device before place and route."""

import pytest

from wccgen.gen.synth import TARGETS, DoesNotFit, SynthesisError, check_fit


def test_a_design_at_capacity_fits_and_one_more_cell_does_not():
    capacity = TARGETS["ecp5-85f"]["capacity"]
    check_fit(dict(capacity), "ecp5-85f")  # exactly full: fits
    for cell, available in capacity.items():
        cells = {**capacity, cell: available + 1}
        with pytest.raises(DoesNotFit) as error:
            check_fit(cells, "ecp5-85f")
        assert f"it needs {available + 1} " in str(error.value) and f"the device has {available}" in str(error.value)
        assert str(error.value).startswith("ecp5-85f: the design does not fit the ECP5 LFE5U-85F")


def test_ice40_counts_pins_too():
    check_fit({"SB_LUT4": 100}, "ice40-up5k", io_bits=39)
    with pytest.raises(DoesNotFit, match="its ports need 40 pins, the package has 39"):
        check_fit({"SB_LUT4": 100}, "ice40-up5k", io_bits=40)
    with pytest.raises(DoesNotFit, match="needs 31 SB_RAM40_4K block RAMs, the device has 30"):
        check_fit({"SB_RAM40_4K": 31}, "ice40-up5k")
    assert issubclass(DoesNotFit, SynthesisError)
