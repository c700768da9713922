"""Units on pint: the project registry, conversion to canonical units, quantity parsing.

The workbench stores every quantity in one canonical unit per attribute (declared in the schema
and carried in ``attrs["units"]`` as a string pint parses). Inputs may use any unit of the same
dimension; they are converted once, at the IO boundary.

The project registry is pint's default registry with these changes (:data:`PROJECT_DEFINITIONS`):

* ``bit`` is a base dimension ``[information]`` (pint makes it dimensionless, so ``B/s`` would
  equal ``Hz``), and ``b`` is the bit (``Gb/s`` = gigabit per second, as in networking; pint's
  ``b`` = barn and ``Gb`` = gilbert are dropped);
* ``radian`` is a base dimension ``[angle]``, so a degree is never a plain number (a latitude
  given for a PUE is refused); ``degree_east`` and ``degree_north`` are degrees, as in cf-xarray;
* ``yr`` (``year``, ``a``) is 365 days = 8,760 h, the convention of annual energy statistics;
  pint's 365.25-day year stays available as ``julian_year``;
* new units ``FLOP`` (= ``OP``), ``token``, ``request``, ``per_unit`` (``pu``), ``kgCO2`` (= kg),
  and the currencies ``CNY``, ``USD``, ``EUR``, each its own dimension: a currency converts to
  another only through an explicit exchange rate (:meth:`UnitRegistry.factor` ``rates=``), never
  implicitly.

Plugins add units through the ``workbench_units`` hook (pint definition strings); the plugin
manager builds one registry per manager (:meth:`UnitRegistry.with_definitions`). The core
registry (:func:`core_registry`) has the project units only; the module-level functions use it.

Unit text is checked before pint sees it (:func:`check_unit_text`): pint evaluates arithmetic in
unit expressions, so unbounded input such as ``10**10**10`` would otherwise be a denial of
service. Numbers with thousands separators (``1,000 km``) are refused with a hint.
"""

from __future__ import annotations

import contextlib
import difflib
import functools
import math
import os
import re
from collections.abc import Iterable, Mapping

import numpy as np

from .errors import UnitError

#: Patches applied to pint's ``default_en.txt`` (pattern -> replacement), see the module docstring.
_PATCHES = {
    r"^radian = \[\] = rad$": "radian = [angle] = rad",
    r"^bit = \[\]$": "bit = [information] = b",
    r"^year = 365.25 \* day = a = yr = julian_year$": "year = 365 * day = a = yr\njulian_year = 365.25 * day",
    r"^barn = 1e-28 \* meter \*\* 2 = b$": "barn = 1e-28 * meter ** 2",
    r"^gilbert = 1 / \(4 \* π\) \* biot_turn = Gb$": "gilbert = 1 / (4 * π) * biot_turn",
}

#: Units the project adds to pint's defaults (pint definition syntax).
PROJECT_DEFINITIONS = (
    "FLOP = [computation] = flop",
    "OP = FLOP",
    "token = [token]",
    "request = [request] = req",
    "CNY = [currency_CNY] = RMB = yuan",
    "USD = [currency_USD]",
    "EUR = [currency_EUR] = euro",
    "degree_east = degree = degrees_east = degree_E = degreeE",
    "degree_north = degree = degrees_north = degree_N = degreeN",
    "per_unit = 1 = pu",
    "kgCO2 = kilogram",
)

#: Currencies of the project registry and the base unit of each currency dimension.
CURRENCIES = ("CNY", "USD", "EUR")

#: Readable names of common dimensions, for error messages.
_DIM_NAMES = {
    "dimensionless": "dimensionless", "[length]": "length", "[time]": "time", "[mass]": "mass",
    "[angle]": "angle", "[information]": "information", "[information] / [time]": "data rate",
    "[computation] / [time]": "compute rate", "[computation]": "computation",
    "[mass] * [length] ** 2 / [time] ** 3": "power", "[mass] * [length] ** 2 / [time] ** 2": "energy",
    "1 / [time]": "rate", "[currency_CNY]": "CNY", "[currency_USD]": "USD", "[currency_EUR]": "EUR",
    "[request] / [time]": "request rate", "[token] / [time]": "token rate",
}

#: Units that never take a sub-unit prefix: they count whole things, so ``mb`` (millibit), ``mB``,
#: ``pflop`` (pico-FLOP, not peta) or ``mreq`` are slips for ``Mb``, ``MB``, ``PFLOP``, ``Mreq``.
WHOLE_UNITS = ("bit", "byte", "FLOP", "OP", "token", "request")
#: Prefixes smaller than one (pint names).
SUB_UNIT_PREFIXES = ("deci", "centi", "milli", "micro", "nano", "pico", "femto", "atto", "zepto", "yocto",
                     "ronto", "quecto")
#: Axis of the cf-xarray angle units: a longitude is never given in degree_north nor a latitude in degree_east.
_AXES = {"degree_east": "east (a longitude)", "degree_north": "north (a latitude)"}

#: Longest unit text accepted (characters); the longest canonical unit in the schema is 8.
MAX_UNIT_LENGTH = 64
_UNIT_CHARS = re.compile(r"^[A-Za-z0-9_µμ°%/*·^().\s\-]*$")
#: a number raised to a power (``10**10**10``), an exponent of three or more digits, or a long number
_BIG_EXPONENT = re.compile(r"\d\s*\)*\s*(\*\*|\^)|(\*\*|\^)\s*[-+(]*\s*\d{3,}|\d{5,}")


def check_unit_text(unit: str) -> str:
    """Return ``unit`` stripped if it is safe to hand to pint, else raise :class:`UnitError`.

    Refuses long text, characters outside unit notation and numbers or exponents with many
    digits (pint evaluates ``**`` in unit expressions).
    """
    text = str(unit).strip()
    if len(text) > MAX_UNIT_LENGTH:
        raise UnitError(f"unit text too long ({len(text)} characters; at most {MAX_UNIT_LENGTH})")
    if not _UNIT_CHARS.match(text) or _BIG_EXPONENT.search(text) or text.count("**") + text.count("^") > 4:
        raise UnitError(f"not a unit: {text[:40]!r}")
    return text


@functools.cache
def _default_definitions() -> tuple[str, ...]:
    """pint's default definitions (with its constants inlined), patched as listed in :data:`_PATCHES`."""
    import pint

    folder = os.path.dirname(pint.__file__)
    with open(os.path.join(folder, "default_en.txt"), encoding="utf-8") as fh:
        text = fh.read()
    with open(os.path.join(folder, "constants_en.txt"), encoding="utf-8") as fh:
        text = text.replace("@import constants_en.txt", fh.read())
    for pattern, replacement in _PATCHES.items():
        text, n = re.subn(pattern, replacement, text, flags=re.MULTILINE)
        if n != 1:  # a new pint changed its definitions: the patch must be revisited, not silently skipped
            raise RuntimeError(f"pint {pint.__version__}: definition {pattern!r} not found once (found {n})")
    return tuple(text.splitlines()) + PROJECT_DEFINITIONS


class UnitRegistry:
    """The project's pint registry plus the extra definitions of plugins.

    Parameters
    ----------
    definitions : iterable of (str, str)
        Extra ``(definition, provided_by)`` pairs in pint syntax, e.g. ``("rack = [rack]", "template 0.1")``.
    """

    def __init__(self, definitions: Iterable[tuple[str, str]] = ()) -> None:
        import pint

        self.extra = tuple(definitions)
        self._ureg = pint.UnitRegistry(None, cache_folder=None, on_redefinition="raise",
                                       autoconvert_offset_to_baseunit=True)
        self._ureg.load_definitions(list(_default_definitions()))
        for definition, provided_by in self.extra:
            try:
                self._ureg.define(definition)
            except Exception as err:
                raise UnitError(f"{provided_by}: unit definition {definition!r} refused: {err}") from None
        self._units: dict[str, object] = {}
        self._factors: dict[tuple[str, str], float] = {}

    def with_definitions(self, definitions: Iterable[tuple[str, str]]) -> UnitRegistry:
        """A new registry with these definitions added to this one's."""
        return UnitRegistry((*self.extra, *definitions))

    @property
    def pint(self):
        """The underlying ``pint.UnitRegistry`` (for pint-xarray or cf-xarray users)."""
        return self._ureg

    # -- parsing ---------------------------------------------------------------------------------
    def units(self, unit: str):
        """The pint ``Unit`` of a unit string; raise :class:`UnitError` if unknown."""
        key = "" if unit is None else str(unit)
        if key in self._units:
            return self._units[key]
        text = check_unit_text(key)
        if text in ("", "1"):
            parsed = self._ureg.dimensionless
        else:
            try:
                parsed = self._ureg.parse_units(text.replace("·", "*"))
            except Exception as err:
                hint = self._suggest(text)
                raise UnitError(f"unknown unit {text!r}" + (f"; did you mean {hint}?" if hint else "")
                                + (f" ({type(err).__name__}: {err})" if "not defined" not in str(err) else "")) from None
        self._refuse_ambiguous(text)
        self._units[key] = parsed
        return parsed

    def _refuse_ambiguous(self, text: str) -> None:
        """Refuse unit words pint reads, but not as meant: ``ton`` (the US short ton) and sub-unit
        prefixes on the counting units of :data:`WHOLE_UNITS` (``mb`` = millibit, ``pflop`` = pico-FLOP)."""
        for word in re.findall(r"[A-Za-zµμ_]+", text):
            try:
                parts = self._ureg.parse_unit_name(word)
            except Exception:  # noqa: BLE001 - pint has already accepted the whole text
                continue
            if not parts:
                continue
            prefix, base, _ = parts[0]
            if base == "ton" and word != "short_ton":
                raise UnitError(f"{word!r} is ambiguous: pint reads it as the US short ton (907.185 kg); write t "
                                "(tonne, 1000 kg), kg, or short_ton / long_ton if that is what is meant")
            if base in WHOLE_UNITS and prefix in SUB_UNIT_PREFIXES:
                hint = ""
                upper = word[0].upper() + word[1:]
                with contextlib.suppress(Exception):
                    up = self._ureg.parse_unit_name(upper)
                    if up and up[0][0] and up[0][0] not in SUB_UNIT_PREFIXES:
                        hint = f"; for {up[0][0]}{up[0][1]} write {upper!r}"
                raise UnitError(f"{word!r} reads as {prefix}{base}: sub-unit prefixes are refused on {base}, "
                                f"which counts whole units{hint}")

    def _axis_mismatch(self, src, dst, from_unit: str, to_unit: str) -> None:
        a = {_AXES[n] for n in src._units if n in _AXES}
        b = {_AXES[n] for n in dst._units if n in _AXES}
        if a and b and a != b:
            raise UnitError(f"cannot convert {from_unit!r} to {to_unit!r}: {from_unit!r} is a degree {', '.join(a)}, "
                            f"{to_unit!r} a degree {', '.join(b)}")

    def _suggest(self, text: str) -> str:
        names = [n for n in self._ureg._units if len(n) < 30]
        words = re.findall(r"[A-Za-zµμ_°%]+", text)
        prefixes = sorted({p for p in self._ureg._prefixes if p}, key=len, reverse=True)
        hints = []
        for w in words:
            try:
                self._ureg.parse_units(w)
            except Exception:
                found = difflib.get_close_matches(w, names, n=3, cutoff=0.75)
                for p in prefixes:  # "kilowat" -> kilo + watt
                    if not found and w.startswith(p) and len(w) - len(p) > 2:
                        found = [p + m for m in difflib.get_close_matches(w[len(p):], names, n=2, cutoff=0.75)]
                hints += found
        return " or ".join(repr(h) for h in dict.fromkeys(hints))

    def is_known(self, unit: str) -> bool:
        try:
            self.units(unit)
            return True
        except UnitError:
            return False

    def dimension(self, unit: str) -> str:
        """The dimension of ``unit`` as text (``"length"``, ``"data rate"``, or pint's ``[mass] / [length]``)."""
        dim = str(self.units(unit).dimensionality)
        dim = "dimensionless" if dim in ("", "dimensionless") else dim
        return _DIM_NAMES.get(dim, dim)

    # -- conversion ------------------------------------------------------------------------------
    def factor(self, from_unit: str, to_unit: str, rates: Mapping[str, float] | None = None) -> float:
        """Multiplier converting a value in ``from_unit`` to ``to_unit`` (multiplicative units only).

        ``rates`` maps a currency to its value in CNY (``{"USD": 7.2}``); without it, currencies
        never convert. Raises :class:`UnitError` for unknown units or different dimensions.
        """
        key = (str(from_unit), str(to_unit))
        if not rates and key in self._factors:
            return self._factors[key]
        src, dst = self.units(from_unit), self.units(to_unit)
        for unit, parsed in ((from_unit, src), (to_unit, dst)):
            if not self._ureg.Quantity(1.0, parsed)._is_multiplicative:
                raise UnitError(f"{unit!r} is an offset or logarithmic unit (like degC or dBm): no conversion "
                                f"factor exists between {from_unit!r} and {to_unit!r}; use convert()")
        self._axis_mismatch(src, dst, from_unit, to_unit)
        try:
            value = float((1.0 * src).to(dst).magnitude)
        except Exception as err:
            value = self._via_rates(src, dst, rates, from_unit, to_unit, err)
        if not rates:
            self._factors[key] = value
        return value

    def _via_rates(self, src, dst, rates, from_unit, to_unit, err) -> float:
        import pint

        if not isinstance(err, pint.DimensionalityError):
            raise UnitError(f"cannot convert {from_unit!r} to {to_unit!r}: {err}") from None
        currencies = {c for u in (src, dst) for c in CURRENCIES
                      if f"[currency_{c}]" in str(u.dimensionality)}
        if currencies and rates:
            missing = sorted(c for c in currencies if c != "CNY" and not _finite(rates.get(c)))
            if not missing:
                a, b = self._in_cny(1.0 * src, rates), self._in_cny(1.0 * dst, rates)
                try:
                    return float((a / b).to("dimensionless").magnitude)
                except pint.DimensionalityError:
                    pass
        msg = (f"cannot convert {from_unit!r} ({self.dimension(from_unit)}) to {to_unit!r} "
               f"({self.dimension(to_unit)})")
        if len(currencies) > 1:
            msg += ("; currencies convert only with an exchange rate: set the scenario parameters "
                    + " and ".join(f"cny_per_{c.lower()}" for c in sorted(currencies) if c != "CNY"))
        raise UnitError(msg) from None

    def _in_cny(self, q, rates):
        for c in CURRENCIES:
            if c == "CNY":
                continue
            exponent = q.to_root_units().unit_items()
            power = dict(exponent).get(c, 0)
            if power:
                q = q * (self._ureg.Quantity(float(rates[c]), "CNY") / self._ureg.Quantity(1.0, c)) ** power
        return q

    def convert(self, value, from_unit: str, to_unit: str, rates: Mapping[str, float] | None = None):
        """Convert ``value`` (scalar or array) from ``from_unit`` to ``to_unit``.

        Same unit text returns ``value`` itself. Logarithmic and offset units (``dBm``, ``degC``)
        convert through pint; everything else through :meth:`factor`.
        """
        if str(from_unit).strip() == str(to_unit).strip():
            return value
        src, dst = self.units(from_unit), self.units(to_unit)
        self._axis_mismatch(src, dst, from_unit, to_unit)
        if not (self._ureg.Quantity(1.0, src)._is_multiplicative and self._ureg.Quantity(1.0, dst)._is_multiplicative):
            try:
                out = self._ureg.Quantity(np.asarray(value, dtype=float), src).to(dst).magnitude
            except Exception as err:
                raise UnitError(f"cannot convert {from_unit!r} to {to_unit!r}: {err}") from None
            return out if np.ndim(value) else float(out)
        f = self.factor(from_unit, to_unit, rates)
        return np.asarray(value, dtype=float) * f if np.ndim(value) else float(value) * f

    def parse_quantity(self, text, to_unit: str, rates: Mapping[str, float] | None = None) -> float:
        """Parse ``"400 Gbit/s"`` (or a bare number, read in ``to_unit``) into ``to_unit``."""
        number, unit = split_quantity(text)
        if not unit:
            return number
        return float(self.convert(number, unit, to_unit, rates))

    def known_units(self) -> list[str]:
        """Every unit name and symbol the registry defines (without prefixed forms), sorted."""
        return sorted(n for n in self._ureg._units if n)


def _finite(v) -> bool:
    try:
        return v is not None and math.isfinite(float(v)) and float(v) > 0
    except (TypeError, ValueError):
        return False


_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_QUANTITY = re.compile(rf"^\s*({_NUMBER})\s*(\S.*?)?\s*$")
_THOUSANDS = re.compile(r"^\s*[-+]?\d{1,3}(?:([, '’_\u00a0\u202f])\d{3})+(?:[.,]\d+)?(?:\s|$|[A-Za-zµμ%])")
_DECIMAL_COMMA = re.compile(r"^\s*[-+]?\d+,\d+(?:\s|$|[A-Za-zµμ%])")


def split_quantity(text) -> tuple[float, str]:
    """Split ``"400 Gbit/s"`` into ``(400.0, "Gbit/s")``; a bare number gives ``(x, "")``.

    Raises :class:`UnitError` for text that is not a number with an optional unit, naming
    thousands separators and decimal commas with a hint.
    """
    if isinstance(text, (int, float, np.integer, np.floating)) and not isinstance(text, bool):
        return float(text), ""
    s = str(text)
    if len(s) > 200:
        raise UnitError(f"expected a number with an optional unit, got text of {len(s)} characters")
    m = _THOUSANDS.match(s)
    if m:
        sep = m.group(1)
        plain = re.sub(r"(?<=\d)" + re.escape(sep) + r"(?=\d{3})", "", s.strip())
        raise UnitError(f"thousands separator {sep!r} in {s.strip()!r}: write the number without separators "
                        f"({plain!r}) or in exponent form")
    if _DECIMAL_COMMA.match(s):
        raise UnitError(f"decimal comma in {s.strip()!r}: write a decimal point ({s.strip().replace(',', '.', 1)!r})")
    m = _QUANTITY.match(s)
    if not m:
        raise UnitError(f"expected a number with an optional unit, got {s!r}")
    return float(m.group(1)), (m.group(2) or "").strip()


@functools.cache
def core_registry() -> UnitRegistry:
    """The registry with the project units only (no plugin units); built once, never modified."""
    return UnitRegistry()


# -- module-level helpers on the core registry ----------------------------------------------------------
def known_units() -> list[str]:
    """Every unit name and symbol of the core registry, sorted."""
    return core_registry().known_units()


def dimension(unit: str) -> str:
    """The dimension of ``unit`` (core registry); raise :class:`UnitError` if unknown."""
    return core_registry().dimension(unit)


def factor(from_unit: str, to_unit: str, rates: Mapping[str, float] | None = None) -> float:
    """Multiplier converting ``from_unit`` to ``to_unit`` (core registry)."""
    return core_registry().factor(from_unit, to_unit, rates)


def convert(value, from_unit: str, to_unit: str, rates: Mapping[str, float] | None = None):
    """Convert ``value`` (scalar or array) from ``from_unit`` to ``to_unit`` (core registry)."""
    return core_registry().convert(value, from_unit, to_unit, rates)


def parse_quantity(text, to_unit: str, rates: Mapping[str, float] | None = None) -> float:
    """Parse ``"400 Gbit/s"`` (or a bare number, read in ``to_unit``) into ``to_unit`` (core registry)."""
    return core_registry().parse_quantity(text, to_unit, rates)


_HEADER = re.compile(r"^\s*([^\[\]]+?)\s*(?:\[\s*([^\[\]]*?)\s*\])?\s*$")


def split_header(header: str) -> tuple[str, str | None]:
    """Split a CSV header ``"capacity [MW]"`` into ``("capacity", "MW")``; no bracket gives None."""
    m = _HEADER.match(header)
    if not m:
        return header.strip(), None
    return m.group(1), m.group(2)
