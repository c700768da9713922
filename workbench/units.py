"""Unit strings, their dimensions and conversion to the canonical unit of an attribute.

The workbench stores every quantity in one canonical unit per attribute (declared in the schema
and carried in ``attrs["units"]``). Inputs may use any unit of the same dimension; they are
converted once, at the IO boundary, with :func:`convert`. The table is deliberately small and
explicit: an unknown unit string is an error, never a guess.
"""

from __future__ import annotations

import re

import numpy as np

from .errors import UnitError

#: unit string -> (dimension, factor to the dimension's base unit)
_UNITS: dict[str, tuple[str, float]] = {}


def _add(dimension: str, base: str, table: dict[str, float]) -> None:
    _UNITS[base] = (dimension, 1.0)
    for name, factor in table.items():
        _UNITS[name] = (dimension, factor)


_add("dimensionless", "1", {"": 1.0, "%": 0.01, "count": 1.0, "pu": 1.0})
_add("length", "km", {"m": 1e-3, "cm": 1e-5, "mm": 1e-6, "mi": 1.609344})
_add("time", "s", {"ms": 1e-3, "us": 1e-6, "µs": 1e-6, "ns": 1e-9, "min": 60.0, "h": 3600.0,
                   "d": 86400.0, "yr": 365.0 * 86400.0})
_add("power", "W", {"kW": 1e3, "MW": 1e6, "GW": 1e9, "mW": 1e-3})
_add("energy", "J", {"kJ": 1e3, "MJ": 1e6, "kWh": 3.6e6, "MWh": 3.6e9, "GWh": 3.6e12,
                     "TWh": 3.6e15, "pJ": 1e-12})
_add("data_rate", "bit/s", {"kbit/s": 1e3, "Mbit/s": 1e6, "Gbit/s": 1e9, "Tbit/s": 1e12,
                            "Gb/s": 1e9, "Tb/s": 1e12, "Mb/s": 1e6, "B/s": 8.0, "kB/s": 8e3,
                            "MB/s": 8e6, "GB/s": 8e9, "TB/s": 8e12})
_add("bytes", "B", {"kB": 1e3, "MB": 1e6, "GB": 1e9, "TB": 1e12, "KiB": 1024.0, "MiB": 1024.0**2,
                    "GiB": 1024.0**3, "TiB": 1024.0**4, "bit": 0.125})
_add("compute", "FLOP/s", {"GFLOP/s": 1e9, "TFLOP/s": 1e12, "PFLOP/s": 1e15, "EFLOP/s": 1e18,
                           "OP/s": 1.0, "TOP/s": 1e12, "POP/s": 1e15})
_add("angle", "degree", {"degree_east": 1.0, "degree_north": 1.0, "deg": 1.0})
_add("money_usd", "USD", {"kUSD": 1e3, "MUSD": 1e6})
_add("money_cny", "CNY", {"kCNY": 1e3, "MCNY": 1e6})
_add("price_cny_energy", "CNY/kWh", {"CNY/MWh": 1e-3})
_add("price_usd_energy", "USD/kWh", {"USD/MWh": 1e-3})
_add("carbon_intensity", "kg/kWh", {"g/kWh": 1e-3, "t/MWh": 1.0, "kgCO2/kWh": 1.0})
_add("rate", "1/s", {"1/h": 1 / 3600.0, "1/d": 1 / 86400.0, "1/yr": 1 / (365.0 * 86400.0)})
_add("energy_per_bit", "pJ/bit", {"J/bit": 1e12})
_add("mass", "kg", {"t": 1e3, "g": 1e-3, "Mt": 1e9})
_add("byte_rate_per_token", "B/token", {})
_add("token_rate", "token/s", {})
_add("request_rate", "request/s", {"request/h": 1 / 3600.0})
_add("latency_per_length", "ms/km", {"us/km": 1e-3})

# Dimensions that are genuinely distinct but share a base name are kept apart on purpose:
# a degree is never a kilometre, a USD is never a CNY (no exchange rate is implied).


def known_units() -> list[str]:
    """Return every unit string the workbench understands, sorted."""
    return sorted(u for u in _UNITS if u)


def units_of(dim: str) -> list[str]:
    """Every unit string of one dimension."""
    return sorted(u for u, (d, _) in _UNITS.items() if d == dim and u)


def dimension(unit: str) -> str:
    """Return the dimension name of ``unit``; raise :class:`UnitError` if unknown."""
    try:
        return _UNITS[unit.strip()][0]
    except KeyError:
        raise UnitError(f"unknown unit {unit!r}; known units: {', '.join(known_units())}") from None


def factor(from_unit: str, to_unit: str) -> float:
    """Multiplier converting a value in ``from_unit`` to ``to_unit``.

    Raises :class:`UnitError` when either unit is unknown or the dimensions differ.
    """
    t_dim, t_fac = _lookup(to_unit)
    if from_unit.strip() not in _UNITS:
        raise UnitError(f"unknown unit {from_unit!r}; expected one of {', '.join(units_of(t_dim))}")
    f_dim, f_fac = _lookup(from_unit)
    if f_dim != t_dim:
        raise UnitError(f"cannot convert {from_unit!r} ({f_dim}) to {to_unit!r} ({t_dim}); expected one of "
                        f"{', '.join(units_of(t_dim))}")
    return f_fac / t_fac


def _lookup(unit: str) -> tuple[str, float]:
    try:
        return _UNITS[unit.strip()]
    except KeyError:
        raise UnitError(f"unknown unit {unit!r}; expected one of: {', '.join(known_units())}") from None


def convert(value, from_unit: str, to_unit: str):
    """Convert ``value`` (scalar or array) from ``from_unit`` to ``to_unit``."""
    if from_unit.strip() == to_unit.strip():
        return value
    return np.asarray(value, dtype=float) * factor(from_unit, to_unit) if np.ndim(value) else (
        float(value) * factor(from_unit, to_unit))


_QUANTITY = re.compile(r"^\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*(\S.*?)?\s*$")


def parse_quantity(text: str, to_unit: str) -> float:
    """Parse ``"400 Gbit/s"`` (or a bare number, read in ``to_unit``) into ``to_unit``.

    Raises :class:`UnitError` for text that is not a number followed by a known unit of the
    target dimension.
    """
    m = _QUANTITY.match(str(text))
    if not m:
        raise UnitError(f"expected a number with an optional unit in {to_unit!r} dimension, got {text!r}")
    number, unit = float(m.group(1)), (m.group(2) or "").strip()
    if not unit:
        return number
    return number * factor(unit, to_unit)


_HEADER = re.compile(r"^\s*([^\[\]]+?)\s*(?:\[\s*([^\[\]]*?)\s*\])?\s*$")


def split_header(header: str) -> tuple[str, str | None]:
    """Split a CSV header ``"capacity [MW]"`` into ``("capacity", "MW")``; no bracket gives None."""
    m = _HEADER.match(header)
    if not m:
        return header.strip(), None
    return m.group(1), m.group(2)
