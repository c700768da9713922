"""Units on pint: conversions against hand values, errors for unknown units and wrong dimensions,
currencies only with a rate, unit text that could hang pint, thousands separators."""


import math

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


def test_factor_pairs_are_reciprocal():
    pairs = [("Gbit/s", "GB/s"), ("kWh", "MJ"), ("CNY/MWh", "CNY/kWh"), ("us/km", "ms/km"), ("TFLOP/s", "POP/s"),
             ("GiB", "TB"), ("%", "pu"), ("request/h", "request/s"), ("yr", "d"), ("degree_east", "deg")]
    for a, b in pairs:
        assert units.factor(a, b) * units.factor(b, a) == pytest.approx(1.0, rel=1e-12), (a, b)


def test_unknown_unit_is_an_error_with_a_suggestion():
    with pytest.raises(UnitError, match=r"unknown unit 'gigabitz/s'"):
        units.convert(3, "gigabitz/s", "bit/s")
    with pytest.raises(UnitError, match="unknown unit 'wombat'"):
        units.dimension("wombat")
    with pytest.raises(UnitError, match=r"unknown unit 'kilowat'; did you mean"):
        units.factor("km", "kilowat")


@pytest.mark.parametrize(("src", "dst"), [("W", "km"), ("USD", "CNY"), ("degree", "km"), ("B", "bit/s"),
                                          ("TB", "FLOP/s"), ("degree_north", "1"), ("Hz", "bit/s"),
                                          ("EUR/kWh", "CNY/kWh")])
def test_wrong_dimension_is_an_error_naming_both_dimensions(src, dst):
    # no exchange rate, no degree-to-km or degree-to-number, no bytes-to-rate is ever implied
    with pytest.raises(UnitError, match=rf"cannot convert '{src}' \(.+\) to '{dst}' \(.+\)"):
        units.convert(1.0, src, dst)


def test_currencies_convert_only_with_an_explicit_rate():
    with pytest.raises(UnitError, match="exchange rate: set the scenario parameters cny_per_usd"):
        units.factor("USD/kWh", "CNY/kWh")
    assert units.factor("USD/kWh", "CNY/kWh", rates={"USD": 7.2}) == pytest.approx(7.2, rel=1e-12)
    # EUR -> USD through CNY: 7.8 CNY/EUR / 7.2 CNY/USD
    assert units.factor("EUR", "USD", rates={"USD": 7.2, "EUR": 7.8}) == pytest.approx(7.8 / 7.2, rel=1e-12)
    with pytest.raises(UnitError, match="cny_per_eur"):
        units.factor("EUR", "USD", rates={"USD": 7.2})


def test_micro_sign_and_greek_mu_are_both_microseconds():
    assert units.convert(250, "\u00b5s", "ms") == pytest.approx(0.25)  # MICRO SIGN
    assert units.convert(250, "\u03bcs", "ms") == pytest.approx(0.25)  # GREEK SMALL LETTER MU


def test_project_units_and_networking_conventions():
    assert units.convert(1, "Gb/s", "bit/s") == 1e9  # Gb = gigabit (pint's default: gilbert)
    assert units.convert(1, "kCNY", "CNY") == 1e3
    assert units.convert(2, "token/s", "token/min") == pytest.approx(120)
    assert units.dimension("MW") == "power" and units.dimension(" Gbit/s ") == "data rate"
    assert units.convert(1, "julian_year", "h") == pytest.approx(8766.0)  # pint's year stays available
    assert units.convert(np.array([0.0, 10.0]), "dBm", "mW") == pytest.approx([1.0, 10.0])  # logarithmic


@pytest.mark.parametrize("text", ["10**10**10 m", "m**(10**10)", "km" * 40, "m; import os", "2**99 s"])
def test_unit_text_that_could_hang_pint_is_refused(text):
    with pytest.raises(UnitError):
        units.factor(text, "m")


@pytest.mark.parametrize(("text", "match"), [
    ("1,000 km", r"thousands separator ',' in '1,000 km'.*'1000 km'"),
    ("1 000 000", r"thousands separator ' '.*'1000000'"),
    ("12,345.5 MW", r"thousands separator ','"),
    ("1,5 ms", r"decimal comma in '1,5 ms'.*'1.5 ms'"),
])
def test_thousands_separators_and_decimal_commas_are_refused_with_a_hint(text, match):
    with pytest.raises(UnitError, match=match):
        units.parse_quantity(text, "m")


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
    ("12 wombats", "km", "unknown unit 'wombats'"),
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


@pytest.mark.parametrize(("text", "unit", "match"), [
    ("2 ton", "kg", "US short ton .*write t \\(tonne"),  # was 1814.37 kg
    ("3 kton", "t", "US short ton"),
    ("500 mb", "bit", "'mb' reads as millibit.*for megabit write 'Mb'"),  # was 0.5 bit
    ("2 mB", "bit", "'mB' reads as millibyte.*'MB'"),
    ("3 pflop/s", "FLOP/s", "'pflop' reads as picoFLOP.*for petaFLOP"),  # was 3e-12 FLOP/s
    ("5 mtoken/s", "token/s", "millitoken"),
    ("1 µreq/s", "request/s", "microrequest"),
])
def test_units_pint_reads_differently_than_meant_are_refused(text, unit, match):
    with pytest.raises(UnitError, match=match):
        units.parse_quantity(text, unit)


def test_whole_units_keep_their_large_prefixes_and_explicit_tons():
    assert units.parse_quantity("2 t", "kg") == 2000.0
    assert units.parse_quantity("5 Mb", "bit") == 5e6 and units.parse_quantity("1 PFLOP/s", "FLOP/s") == 1e15
    assert units.parse_quantity("1 short_ton", "kg") == pytest.approx(907.18474)
    assert units.parse_quantity("1 kB", "bit") == 8000.0


@pytest.mark.parametrize(("src", "dst"), [("degC", "K"), ("mW", "dBm"), ("dBm", "mW"), ("degF", "degC")])
def test_factor_refuses_offset_and_logarithmic_units(src, dst):
    with pytest.raises(UnitError, match="offset or logarithmic unit"):  # factor("degC", "K") was 274.15
        units.factor(src, dst)
    assert math.isfinite(units.convert(20.0, src, dst))  # convert() handles them


def test_degree_east_and_degree_north_do_not_convert_into_each_other():
    with pytest.raises(UnitError, match="degree east .* degree north"):
        units.convert(1.0, "degree_east", "degree_north")
    assert units.convert(1.0, "degree", "degree_north") == 1.0 and units.factor("degree_E", "degree_east") == 1.0
