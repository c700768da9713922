"""Units: conversions against hand values, errors for unknown units and wrong dimensions."""

import itertools

import numpy as np
import pytest

from workbench import units
from workbench.errors import UnitError


@pytest.mark.parametrize(("value", "src", "dst", "expected"), [
    (400, "Gbit/s", "bit/s", 4e11),
    (400, "Gbit/s", "GB/s", 50.0),  # 8 bit per byte
    (1, "Tbit/s", "Gbit/s", 1e3),
    (20, "MW", "W", 2e7),
    (1, "kWh", "J", 3.6e6),  # 1,000 W x 3,600 s
    (630, "CNY/MWh", "CNY/kWh", 0.63),
    (537, "g/kWh", "kg/kWh", 0.537),
    (1, "mi", "km", 1.609344),  # international mile (1959 agreement)
    (1, "yr", "h", 8760.0),  # 365 d x 24 h
    (4.9, "us/km", "ms/km", 0.0049),  # fibre 4.9 us/km (FIGURES 2)
    (989.4, "TFLOP/s", "FLOP/s", 9.894e14),  # H100 dense BF16 (FIGURES 3.3)
    (80, "GiB", "B", 85_899_345_920),  # 80 x 2^30
    (99.982, "%", "1", 0.99982),
    (250, "us", "ms", 0.25),
    (250, "µs", "ms", 0.25),
    (3600, "request/h", "request/s", 1.0),
    (1.2, "MUSD", "USD", 1.2e6),
])
def test_convert_matches_hand_values(value, src, dst, expected):
    assert units.convert(value, src, dst) == pytest.approx(expected, rel=1e-12)


def test_convert_arrays_elementwise_and_identity_returns_input():
    np.testing.assert_allclose(units.convert(np.array([1.0, 2.5, 10.0]), "km", "m"), [1e3, 2.5e3, 1e4])
    arr = np.array([1.0, 2.0])
    assert units.convert(arr, "W", "W") is arr  # same unit: no copy, no float coercion


def test_every_factor_pair_within_a_dimension_is_reciprocal():
    # factor(a, b) * factor(b, a) == 1 for every pair of units of one dimension (closed form)
    for dim in {units.dimension(u) for u in units.known_units()}:
        for a, b in itertools.combinations(units.units_of(dim), 2):
            assert units.factor(a, b) * units.factor(b, a) == pytest.approx(1.0, rel=1e-12), (a, b)


def test_unknown_unit_is_an_error_listing_the_expected_units():
    with pytest.raises(UnitError, match=r"unknown unit 'furlongs'.*Gbit/s"):
        units.convert(3, "furlongs", "bit/s")
    with pytest.raises(UnitError, match="unknown unit 'parsec'"):
        units.dimension("parsec")
    with pytest.raises(UnitError, match="unknown unit 'parsec'"):
        units.factor("km", "parsec")


@pytest.mark.parametrize(("src", "dst"), [("W", "km"), ("USD", "CNY"), ("degree", "km"), ("B", "bit/s"),
                                          ("TB", "FLOP/s")])
def test_wrong_dimension_is_an_error_naming_both_dimensions(src, dst):
    # no exchange rate, no degree-to-km, no bytes-to-rate is ever implied
    with pytest.raises(UnitError, match=rf"cannot convert '{src}' \(\w+\) to '{dst}' \(\w+\)"):
        units.convert(1.0, src, dst)


def test_dimension_and_unit_tables():
    assert units.dimension("MW") == "power"
    assert units.dimension(" Gbit/s ") == "data_rate"
    assert "" not in units.known_units()
    assert units.known_units() == sorted(units.known_units())
    assert units.units_of("power") == ["GW", "MW", "W", "kW", "mW"]


@pytest.mark.parametrize(("text", "unit", "expected"), [
    ("400 Gbit/s", "bit/s", 4e11),
    ("400Gbit/s", "bit/s", 4e11),
    ("  1e3 ", "km", 1e3),  # a bare number is read in the target unit
    (".5 ms", "s", 5e-4),
    ("-3 km", "m", -3000.0),
    ("989.4 TFLOP/s", "FLOP/s", 9.894e14),
    ("80 GB", "B", 8e10),
    (42, "W", 42.0),
])
def test_parse_quantity(text, unit, expected):
    assert units.parse_quantity(text, unit) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize(("text", "unit", "match"), [
    ("lots", "1", "expected a number"),
    ("12 furlongs", "km", "unknown unit 'furlongs'"),
    ("5 W", "km", r"cannot convert 'W' \(power\) to 'km' \(length\)"),
    ("", "W", "expected a number"),
])
def test_parse_quantity_errors(text, unit, match):
    with pytest.raises(UnitError, match=match):
        units.parse_quantity(text, unit)


@pytest.mark.parametrize(("header", "expected"), [
    ("capacity [MW]", ("capacity", "MW")),
    ("lon", ("lon", None)),
    ("  hbm_bw  [ TB/s ] ", ("hbm_bw", "TB/s")),
    ("count [1]", ("count", "1")),
    ("notes []", ("notes", "")),
    ("a [b] [c]", ("a [b] [c]", None)),  # not a header with one unit: kept whole, reported as unknown attribute
])
def test_split_header(header, expected):
    assert units.split_header(header) == expected
