import pytest
from neurogate.numerics.formats import IntFormat, signed_width_for


def test_construction_and_ranges():
    assert (IntFormat(8).min, IntFormat(8).max) == (-128, 127)
    assert (IntFormat(4, signed=False).min, IntFormat(4, signed=False).max) == (0, 15)
    assert IntFormat(64).max == 2**63 - 1
    assert IntFormat(16, frac=8).describe() == "int16(frac=8)"


@pytest.mark.parametrize("width", [0, 65, -3])
def test_width_out_of_range_is_named(width):
    with pytest.raises(ValueError, match=f"width must be an integer from 1 to 64, not {width}"):
        IntFormat(width)


def test_width_must_be_an_integer():
    with pytest.raises(ValueError, match="width must be an integer, not 8.0"):
        IntFormat(8.0)


def test_fits_in_and_signed_width():
    assert IntFormat(8, signed=False).fits_in(width=9)
    assert not IntFormat(8, signed=False).fits_in(width=8)
    assert signed_width_for(0, 255) == 9
    assert signed_width_for(-128, 127) == 8
    assert signed_width_for(-129, 0) == 9
