"""Hourly profiles for time-varying scenarios: demand shapes, time-of-use tariffs, solar and wind output, carbon.

Every function takes ``snapshots``: a naive :class:`pandas.DatetimeIndex` in China standard time
(:data:`TIMEZONE`, UTC+8 all year, no daylight saving). A tz-aware index is converted to that time zone first.
A snapshot stands for the interval that starts at it (at most an hour: the smallest step between snapshots,
one hour for a single snapshot); hour-of-day, weekday, month and season are those of its start, and the sun
is placed at the interval's midpoint.

Shapes
------
Row arguments (a device class, a province, coordinates) may be scalars or 1-D arrays. A scalar gives an
array of shape ``(n_snap,)``, an array of ``n`` rows one of shape ``(n_snap, n)``. Everything is vectorised
with numpy: no Python loop runs over hours x rows (solar runs pvlib once per *unique* coordinate pair, each
call vectorised over the hours).

Data and sources
----------------
The tables live in ``datasets/profiles/`` (installed as ``workbench_datasets/profiles``); each row has a
``source`` (keys of ``datasets/SOURCES.yaml``) and ``notes``, and ``datasets/README.md`` ("Hourly profiles")
says what is sourced and what is assumed. In short: the demand shapes and the wind shapes are assumed; the
time-of-use ratios follow the NDRC 2021 notice (default, 4:1) and Zhejiang's 2026 tariff (2.05 : 1.85 : 1 :
0.4 : 0.2), their hours are assumed except Zhejiang's (from a draft); solar is pvlib's clear-sky model scaled
to a recalled national utilisation figure; carbon has no hourly factor (ones).

:func:`evaluate` serves the named profiles that scenario files refer to; :func:`list_profiles` lists them.
"""

from __future__ import annotations

import contextlib
import functools
import re
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .errors import ProfileError

TIMEZONE = "Asia/Shanghai"
DEFAULT_YEAR = 2025
#: One representative day per meteorological season (month-day), see :func:`representative_days`.
SEASON_DAYS = {"winter": "01-15", "spring": "04-15", "summer": "07-15", "autumn": "10-15"}
#: Meteorological seasons: DJF, MAM, JJA, SON (December belongs to the winter of its own calendar year).
SEASON_MONTHS = {"winter": (12, 1, 2), "spring": (3, 4, 5), "summer": (6, 7, 8), "autumn": (9, 10, 11)}

#: Device classes without a shape of their own, and the shape they use (assumed: phones, wearables and PCs
#: are carried or used by a metro's residents; IoT sensors, cameras and drones get the flat shape because no
#: pattern is known for them).
CLASS_ALIASES = {"phone": "resident", "wearable": "resident", "pc": "resident",
                 "iot": "flat", "camera": "flat", "drone": "flat"}

#: Share of nameplate capacity per green source: "solar+wind" is half solar, half wind (assumed).
GREEN_SOURCES = {"solar": (1.0, 0.0), "wind": (0.0, 1.0), "solar+wind": (0.5, 0.5)}
#: Green source of a site that does not say (no ``green_source`` attribute, or an empty value).
DEFAULT_GREEN_SOURCE = "solar+wind"

#: Sites the solar derate was calibrated on: the four western national DC clusters of East Data West Compute
#: (coordinates as in ``datasets/china-edwc/sites.csv``; Gui'an's point is itself assumed there).
SOLAR_CALIBRATION_SITES = {
    "cl-horinger": (111.828, 40.379),
    "cl-guian": (106.35, 26.45),
    "cl-qingyang": (107.645, 35.71),
    "cl-zhongwei": (105.191, 37.511),
}
#: Derate k in ``solar_cf = clear-sky GHI / 1000 W/m2 x k`` [1]. Fitted by :func:`calibrate_solar_derate` on
#: :data:`SOLAR_CALIBRATION_SITES` for :data:`DEFAULT_YEAR` so that their mean annual full-load hours equal the
#: solar target of ``datasets/profiles/full_load_hours.csv`` (1,286 h, recalled, not retrieved). It absorbs
#: everything the clear-sky model leaves out: cloud and dust, module tilt, temperature and system losses,
#: curtailment.
SOLAR_DERATE = 0.5527
#: Irradiance at which a horizontal plant would give its nameplate output before the derate [W/m2] (STC).
STC_IRRADIANCE = 1000.0

_HOURS = [f"h{h:02d}" for h in range(24)]
_HEADER = re.compile(r"^\s*([^\[\]]+?)\s*(?:\[\s*([^\[\]]*?)\s*\])?\s*$")
_DAYS_IN_MONTH = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])


# --- snapshots ----------------------------------------------------------------------------------------------

def _index(snapshots) -> pd.DatetimeIndex:
    """``snapshots`` as a naive DatetimeIndex in :data:`TIMEZONE` (a tz-aware one is converted)."""
    try:
        idx = pd.DatetimeIndex(snapshots)
    except (TypeError, ValueError) as exc:
        raise ProfileError(f"snapshots must be datetimes (a pandas DatetimeIndex); got {type(snapshots).__name__}: "
                           f"{exc}") from None
    if idx.hasnans:
        raise ProfileError("snapshots contain NaT")
    if idx.tz is not None:
        idx = idx.tz_convert(TIMEZONE).tz_localize(None)
    return idx.as_unit("ns")  # integer views (asi8) below are nanoseconds


def _half_step(idx: pd.DatetimeIndex) -> pd.Timedelta:
    """Half the interval a snapshot stands for: half the smallest positive step, at most 30 minutes."""
    steps = np.diff(np.sort(idx.asi8))
    steps = steps[steps > 0]
    step = min(pd.Timedelta(int(steps.min()), "ns"), pd.Timedelta(hours=1)) if steps.size else pd.Timedelta(hours=1)
    return step / 2


def year_snapshots(year: int = DEFAULT_YEAR, freq: str = "h") -> pd.DatetimeIndex:
    """Every snapshot of ``year`` at ``freq``, naive local standard time: 8,760 hours (8,784 in a leap year)."""
    if isinstance(year, bool) or not isinstance(year, (int, np.integer)):
        raise ProfileError(f"year must be an integer; got {year!r}")
    try:
        return pd.date_range(f"{int(year):04d}-01-01", f"{int(year) + 1:04d}-01-01", freq=freq, inclusive="left",
                             name="snapshot")
    except (TypeError, ValueError) as exc:
        raise ProfileError(f"bad snapshot frequency {freq!r}: {exc}") from None


def _days_in_year(year: int) -> int:
    return 366 if pd.Timestamp(year=year, month=1, day=1).is_leap_year else 365


def representative_days(year: int = DEFAULT_YEAR,
                        days: Mapping[str, str] | None = None) -> tuple[pd.DatetimeIndex, np.ndarray]:
    """Four representative days, one per meteorological season, as 4 x 24 hourly snapshots and their weights.

    Parameters
    ----------
    year : int
        Calendar year.
    days : mapping season -> "MM-DD", optional
        Days that replace those of :data:`SEASON_DAYS` (``winter`` DJF, ``spring`` MAM, ``summer`` JJA,
        ``autumn`` SON); each day must lie in its own season.

    Returns
    -------
    snapshots : DatetimeIndex
        96 hourly snapshots, in calendar order.
    weights : ndarray [h]
        Weight of each snapshot: the number of days of ``year`` its day stands for, that is the number of
        days in its season (winter = January + February + December of ``year``: 90 days, 91 in a leap year;
        spring 92, summer 92, autumn 91). A quantity per hour times the weights, summed, is an annual total:
        the weights add up to the hours of the year (8,760; 8,784 in a leap year).

    Notes
    -----
    The default days of 2025 are all weekdays (Tuesdays and Wednesdays), so annual totals of demand
    shaped by :func:`demand_shape` are those of weekdays: for ``resident`` demand within 0.2% of the full
    year, but ~27% high for ``enterprise`` and ~21% high for ``robot`` (office and shift hours, none at
    weekends). Use the full year (:func:`year_snapshots`) for those classes, or choose ``days``.
    """
    chosen = dict(SEASON_DAYS)
    for season, day in (days or {}).items():
        if season not in SEASON_DAYS:
            raise ProfileError(f"unknown season {season!r} in representative days; seasons: {', '.join(SEASON_DAYS)}")
        chosen[season] = day
    snaps = year_snapshots(year)
    starts, weights = [], []
    for season, day in chosen.items():
        try:
            start = pd.Timestamp(f"{int(year):04d}-{day}")
        except (TypeError, ValueError):
            raise ProfileError(f"representative day of {season}: {day!r} is not a day 'MM-DD' of {year}") from None
        if start.month not in SEASON_MONTHS[season] or start.strftime("%m-%d") != str(day).strip():
            raise ProfileError(f"representative day of {season}: {day!r} is not in {season} "
                               f"(months {SEASON_MONTHS[season]}) or not 'MM-DD'")
        starts.append(start)
        weights.append(float(sum(_DAYS_IN_MONTH[m - 1] for m in SEASON_MONTHS[season])
                             + (season == "winter" and _days_in_year(year) == 366)))
    order = np.argsort(np.array(starts, dtype="datetime64[ns]"))
    hours = pd.to_timedelta(np.arange(24), unit="h")
    index = pd.DatetimeIndex(np.concatenate([(starts[i] + hours).values for i in order]),
                             name=snaps.name).as_unit(snaps.unit)
    return index, np.repeat(np.array(weights)[order], 24)


_SEASON_OF_MONTH = np.array([""] + [next(s for s, ms in SEASON_MONTHS.items() if m in ms) for m in range(1, 13)])


def season_of(snapshots) -> np.ndarray:
    """Meteorological season of each snapshot: ``winter`` (DJF), ``spring`` (MAM), ``summer`` (JJA),
    ``autumn`` (SON); an array of strings."""
    return _SEASON_OF_MONTH[_index(snapshots).month.to_numpy()]


# --- data tables --------------------------------------------------------------------------------------------

@functools.cache
def _read(name: str) -> tuple[pd.DataFrame, dict[str, str | None]]:
    """A CSV of ``datasets/profiles`` with plain column names, and column -> unit (None without brackets)."""
    from .datasets import dataset_path

    path = dataset_path(f"profiles/{name}")
    frame = pd.read_csv(path, keep_default_na=False, na_values=[""], dtype={"provinces": str, "dates": str})
    units, names = {}, []
    for header in frame.columns:
        m = _HEADER.match(header)
        names.append(m.group(1))
        units[m.group(1)] = m.group(2)
    frame.columns = names
    return frame, units


def _provinces(cell) -> list[str]:
    return [p.strip() for p in str(cell).split(";") if p.strip()] if isinstance(cell, str) else []


@functools.cache
def full_load_hours_target(technology: str) -> float:
    """Annual full-load hours [h] that ``technology`` ("solar" or "wind") is calibrated to
    (``datasets/profiles/full_load_hours.csv``: 2023 national averages, recalled, not retrieved)."""
    frame, units = _read("full_load_hours.csv")
    assert units["full_load_hours"] == "h", units
    row = frame[frame["technology"] == technology]
    if row.empty:
        raise ProfileError(f"no full-load hours for {technology!r}; known: {', '.join(frame['technology'])}")
    return float(row["full_load_hours"].iloc[0])


@functools.cache
def _demand_table() -> tuple[tuple[str, ...], np.ndarray]:
    """Classes and their shapes, ``(n_class, 2, 24)`` (weekday, weekend), normalised to mean 1 over a week."""
    frame, _ = _read("demand_shapes.csv")
    classes = tuple(dict.fromkeys(frame["class"]))
    table = np.empty((len(classes), 2, 24))
    for i, cls in enumerate(classes):
        for j, daytype in enumerate(("weekday", "weekend")):
            row = frame[(frame["class"] == cls) & (frame["daytype"] == daytype)]
            if len(row) != 1:
                raise ProfileError(f"demand_shapes.csv: class {cls!r} needs one {daytype} row, has {len(row)}")
            table[i, j] = row[_HOURS].to_numpy(float)[0]
    table /= ((5 * table[:, 0].mean(axis=1) + 2 * table[:, 1].mean(axis=1)) / 7)[:, None, None]
    table.flags.writeable = False
    return classes, table


def demand_classes() -> list[str]:
    """Device classes with a demand shape of their own (``datasets/profiles/demand_shapes.csv``)."""
    return list(_demand_table()[0])


@dataclass(frozen=True)
class _Rule:
    months: frozenset[int]
    dates: tuple[tuple[int, int], ...]  # (start, end) as month * 100 + day, inclusive
    hours: np.ndarray  # bool (24,)
    multiplier: float


def _parse_ranges(text: str, what: str) -> list[tuple[int, int]]:
    out = []
    for part in str(text).split(";"):
        lo, _, hi = part.strip().partition("-")
        out.append((int(lo), int(hi) if hi else int(lo)))
    if not out:
        raise ProfileError(f"tou_tariffs.csv: empty {what}")
    return out


def _mmdd(text: str) -> int:
    month, day = text.strip().split("-")
    return int(month) * 100 + int(day)


@functools.cache
def _tou_table() -> tuple[tuple[str, ...], dict[str, int], tuple[tuple[_Rule, ...], ...]]:
    """Regions (``default`` first), province -> region index, and each region's rules in file order."""
    frame, _ = _read("tou_tariffs.csv")
    regions = tuple(dict.fromkeys(["default", *frame["region"]]))
    by_province: dict[str, int] = {}
    rules: list[list[_Rule]] = [[] for _ in regions]
    for r in frame.itertuples(index=False):
        k = regions.index(r.region)
        for p in _provinces(r.provinces):
            if by_province.setdefault(p, k) != k:
                raise ProfileError(f"tou_tariffs.csv: province {p!r} is in two regions")
        hours = np.zeros(24, bool)
        for lo, hi in _parse_ranges(r.hours, "hours"):
            hours[lo:hi] = True
        months = frozenset(m for lo, hi in _parse_ranges(r.months, "months") for m in range(lo, hi + 1)) \
            if isinstance(r.months, str) else frozenset()
        dates = tuple((_mmdd(a), _mmdd(b or a)) for a, _, b in (d.partition("..") for d in r.dates.split(";"))) \
            if isinstance(r.dates, str) else ()
        rules[k].append(_Rule(months, dates, hours, float(r.multiplier)))
    if not rules[0]:
        raise ProfileError("tou_tariffs.csv: no 'default' region")
    return regions, by_province, tuple(tuple(rs) for rs in rules)


def _region_codes(province, by_province: Mapping[str, int]) -> tuple[np.ndarray, bool]:
    """Region index per row (0 = default for any province not listed) and whether the input was a scalar."""
    values, scalar = _rows(province)
    names, inverse = np.unique(values.astype(str), return_inverse=True)
    codes = np.array([by_province.get(n.strip(), 0) for n in names], dtype=int)
    return codes[inverse.reshape(-1)], scalar


def _rows(values) -> tuple[np.ndarray, bool]:
    arr = np.asarray(values, dtype=object) if not isinstance(values, np.ndarray) else values
    if arr.ndim > 1:
        raise ProfileError(f"row values must be a scalar or 1-D; got shape {arr.shape}")
    return np.atleast_1d(arr), arr.ndim == 0


def _finish(out: np.ndarray, scalar: bool) -> np.ndarray:
    return out[:, 0] if scalar else out


# --- demand -------------------------------------------------------------------------------------------------

def demand_shape(device_class, snapshots) -> np.ndarray:
    """Dimensionless demand multiplier by device class: ``(n_snap,)`` for one class, ``(n_snap, n)`` for an array.

    A device group's request rate at a snapshot is its average rate (``device.demand``) times this shape. Each
    class has 24 hourly values for weekdays (Mon-Fri) and for weekends (Sat-Sun), normalised to mean 1 over a
    full week (``datasets/profiles/demand_shapes.csv``). All shapes are assumed (no sourced hourly profile of
    Chinese inference demand was available): ``resident`` (a metro's phones and PCs: trough ~0.3 x mean at
    03:00-05:00, evening peak ~1.5 x mean at 21:00, flatter and later at weekends), ``enterprise`` (office
    hours Mon-Fri), ``robot`` (two-shift factory 08:00-24:00), ``vehicle`` (commute peaks), ``flat`` (ones).
    Other schema classes use :data:`CLASS_ALIASES`. Public holidays and make-up working days are not modelled.
    """
    idx = _index(snapshots)
    values, scalar = _rows(device_class)
    classes, table = _demand_table()
    names, inverse = np.unique(values.astype(str), return_inverse=True)
    codes = []
    for n in names:
        cls = CLASS_ALIASES.get(n, n)
        if cls not in classes:
            known = [*classes, *CLASS_ALIASES]
            raise ProfileError(f"no demand shape for device class {str(n)!r}{_did_you_mean(n, known)}; "
                               f"known: {', '.join(known)}")
        codes.append(classes.index(cls))
    rows = np.array(codes, dtype=int)[inverse.reshape(-1)]
    daytype = (idx.day_of_week.to_numpy() >= 5).astype(int)
    out = table[rows[None, :], daytype[:, None], idx.hour.to_numpy()[:, None]]
    return _finish(out, scalar)


# --- time-of-use tariffs ------------------------------------------------------------------------------------

def _tou_days(days: pd.DatetimeIndex, rules: tuple[_Rule, ...]) -> np.ndarray:
    """Raw multipliers ``(n_days, 24)`` of one region: its rules applied in file order, a later rule over an
    earlier one in the hours it covers."""
    raw = np.ones((len(days), 24))
    month = days.month.to_numpy()
    mmdd = month * 100 + days.day.to_numpy()
    for rule in rules:
        on_day = np.isin(month, list(rule.months))
        for lo, hi in rule.dates:
            on_day |= (mmdd >= lo) & (mmdd <= hi)
        raw[np.ix_(on_day, rule.hours)] = rule.multiplier
    return raw


def tou_multiplier(province, snapshots) -> np.ndarray:
    """Time-of-use multiplier of a site's average ``power_price`` by province: ``(n_snap, n)`` (``(n_snap,)``
    for one province).

    From ``datasets/profiles/tou_tariffs.csv``: the periods (critical peak, peak, flat, valley, deep valley) of
    a region, each a multiplier of the flat price, by month (or holiday date) and hour. Regions: ``zhejiang``
    (Zhejiang's industrial tariff from 1 Jul 2026, published ratios 2.05 : 1.85 : 1 : 0.4 : 0.2, hours from
    the draft notice, partly assumed), ``west_solar`` (Gansu, Qinghai, Ningxia, Xinjiang: midday valley, all
    assumed) and ``default`` for every other province (peak/valley 4:1 and critical peak +20%, the NDRC 2021
    minimums; hours assumed). Provinces are matched by their exact name as in ``sites.csv``.

    The raw multipliers are divided by their mean over each calendar day, so the mean over every day is 1: a
    flat load pays the site's ``power_price`` on average, and a load that shifts into the valley pays less.
    This assumes ``power_price`` is the average price of a flat load, not the flat-period price.
    """
    idx = _index(snapshots)
    regions, by_province, rules = _tou_table()
    codes, scalar = _region_codes(province, by_province)
    days = idx.normalize()
    unique_days, day_of = np.unique(days.asi8, return_inverse=True)
    unique_days = pd.to_datetime(unique_days, unit="ns")
    hour = idx.hour.to_numpy()
    per_region = np.empty((len(idx), len(regions)))
    for k in np.unique(codes):  # a handful of regions, each vectorised over all days and hours
        raw = _tou_days(unique_days, rules[k])
        per_region[:, k] = (raw / raw.mean(axis=1, keepdims=True))[day_of.reshape(-1), hour]
    return _finish(per_region[:, codes], scalar)


# --- solar --------------------------------------------------------------------------------------------------

def _coordinates(lon, lat) -> tuple[np.ndarray, np.ndarray, bool]:
    scalar = np.ndim(lon) == 0 and np.ndim(lat) == 0
    try:
        lon_, lat_ = np.broadcast_arrays(np.atleast_1d(np.asarray(lon, dtype=float)),
                                         np.atleast_1d(np.asarray(lat, dtype=float)))
    except (TypeError, ValueError) as exc:
        raise ProfileError(f"lon and lat must be numbers of the same length: {exc}") from None
    if lon_.ndim != 1:
        raise ProfileError(f"lon and lat must be scalars or 1-D; got shape {lon_.shape}")
    bad = ~np.isfinite(lon_) | ~np.isfinite(lat_) | (np.abs(lat_) > 90) | (np.abs(lon_) > 180)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ProfileError(f"row {i}: coordinates ({lon_[i]}, {lat_[i]}) are missing or outside WGS84 ranges "
                           f"(lon -180..180, lat -90..90 degrees)")
    return lon_, lat_, scalar


@contextlib.contextmanager
def _quiet_pvlib():
    """Hide the pandas deprecation warnings raised inside pvlib (``dayofyear``: pvlib's to fix; one per pvlib
    call would flood a notebook). Warnings from anywhere else pass."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r".*is deprecated.*", module=r"pvlib(\..*)?$")
        yield


@functools.lru_cache(maxsize=4096)
def _altitude(lon: float, lat: float) -> float:
    """Altitude [m] of a point from pvlib's bundled grid (cached: each lookup reads an HDF5 file)."""
    import pvlib

    return float(pvlib.location.lookup_altitude(lat, lon))


@functools.lru_cache(maxsize=4096)
def _linke_daily(lon: float, lat: float, year: int) -> np.ndarray:
    """Linke turbidity of each UTC day of ``year`` at a point (pvlib's bundled monthly climatology, which pvlib
    interpolates by UTC day of year; cached per point and year: each lookup reads an HDF5 file)."""
    import pvlib

    days = pd.date_range(f"{year:04d}-01-01 12:00", f"{year:04d}-12-31 12:00", freq="D", tz="UTC")
    with _quiet_pvlib():
        out = pvlib.clearsky.lookup_linke_turbidity(days, lat, lon).to_numpy(dtype=float)
    out.flags.writeable = False
    return out


def clear_sky_ghi(lon, lat, snapshots) -> np.ndarray:
    """Clear-sky global horizontal irradiance [W/m2] at each snapshot's midpoint: ``(n_snap, n)``.

    pvlib's Ineichen-Perez model with the Linke turbidity climatology and the altitude grid shipped in the pvlib
    wheel (``lookup_linke_turbidity``, ``lookup_altitude``; nothing is downloaded); apparent solar position by
    ``pvlib.solarposition.ephemeris``. pvlib runs once per unique (lon, lat), vectorised over the snapshots.
    Zero while the sun is below the horizon. No cloud: see :func:`solar_cf` for the derate.
    """
    import pvlib

    idx = _index(snapshots)
    lon_, lat_, scalar = _coordinates(lon, lat)
    times = (idx + _half_step(idx)).tz_localize(TIMEZONE) if len(idx) else idx.tz_localize(TIMEZONE)
    pairs, inverse = np.unique(np.column_stack([lon_, lat_]), axis=0, return_inverse=True)
    zenith = np.empty((len(idx), len(pairs)))
    turbidity = np.empty((len(idx), len(pairs)))
    altitude = np.empty(len(pairs))
    utc = times.tz_convert("UTC")  # pvlib interpolates the monthly turbidity by the UTC day of year
    year, day = utc.year.to_numpy(), utc.day_of_year.to_numpy() - 1
    years = np.unique(year)
    for j, (lo, la) in enumerate(pairs):  # unique sites only; each call is vectorised over the hours
        with _quiet_pvlib():
            zenith[:, j] = pvlib.solarposition.ephemeris(times, la, lo)["apparent_zenith"].to_numpy()
        altitude[j] = _altitude(float(lo), float(la))
        for y in years:
            rows = year == y
            turbidity[rows, j] = _linke_daily(float(lo), float(la), int(y))[day[rows]]
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"), _quiet_pvlib():
        airmass = pvlib.atmosphere.get_absolute_airmass(pvlib.atmosphere.get_relative_airmass(zenith),
                                                        pvlib.atmosphere.alt2pres(altitude)[None, :])
        dni_extra = np.asarray(pvlib.irradiance.get_extra_radiation(times), dtype=float)[:, None]
        ghi = np.asarray(pvlib.clearsky.ineichen(zenith, airmass, turbidity, altitude[None, :], dni_extra)["ghi"],
                         dtype=float)
    ghi = np.where((zenith < 90) & np.isfinite(ghi), np.maximum(ghi, 0.0), 0.0)
    return _finish(ghi[:, inverse.reshape(-1)], scalar)


def solar_cf(lon, lat, snapshots) -> np.ndarray:
    """Solar capacity factor in [0, 1] per site: ``(n_snap, n)`` (``(n_snap,)`` for one point).

    ``clear-sky GHI / 1000 W/m2 x SOLAR_DERATE`` (:func:`clear_sky_ghi`), clipped to [0, 1]. The clear-sky
    model has no cloud, so every day is sunny: the derate (:data:`SOLAR_DERATE`) scales it down to the annual
    full-load hours of the calibration (1,286 h, China's 2023 average, recalled, not retrieved, on the western
    clusters :data:`SOLAR_CALIBRATION_SITES`) and so stands for the mean cloud cover, plane-of-array gain,
    temperature and system losses and curtailment together. The daily shape is a clear day's; the hour-to-hour
    and day-to-day variability of real weather is not modelled, and sites with more cloud than the
    calibration sites (the east and south, Sichuan basin) are overstated.
    """
    ghi = clear_sky_ghi(lon, lat, snapshots)
    return np.clip(ghi / STC_IRRADIANCE * SOLAR_DERATE, 0.0, 1.0)


def calibrate_solar_derate(lon=None, lat=None, target_hours: float | None = None,
                           year: int = DEFAULT_YEAR) -> float:
    """Derate k that makes the mean annual full-load hours of ``solar_cf`` over the points ``(lon, lat)``
    equal ``target_hours`` [h] in ``year`` (defaults: :data:`SOLAR_CALIBRATION_SITES`, the solar target of
    ``full_load_hours.csv``). Exact while no hour is clipped at 1 (clear-sky GHI x k < 1000 W/m2).
    :data:`SOLAR_DERATE` is this function's result with the defaults, rounded to 4 digits."""
    if lon is None and lat is None:
        lon, lat = (np.array(v) for v in zip(*SOLAR_CALIBRATION_SITES.values()))
    target = full_load_hours_target("solar") if target_hours is None else float(target_hours)
    ghi = clear_sky_ghi(np.atleast_1d(lon), np.atleast_1d(lat), year_snapshots(year))
    return float(target / (ghi.sum(axis=0) / STC_IRRADIANCE).mean())


# --- wind ---------------------------------------------------------------------------------------------------

@functools.cache
def _wind_table() -> tuple[tuple[str, ...], dict[str, int], np.ndarray]:
    """Regions (``default`` first), province -> region index, and multipliers ``(n_region, 12, 24)`` with mean 1
    over a 365-day year."""
    frame, _ = _read("wind_shapes.csv")
    regions = tuple(dict.fromkeys(["default", *frame["region"]]))
    by_province: dict[str, int] = {}
    grid = np.full((len(regions), 12, 24), np.nan)
    for r in frame.itertuples(index=False):
        k = regions.index(r.region)
        for p in _provinces(r.provinces):
            if by_province.setdefault(p, k) != k:
                raise ProfileError(f"wind_shapes.csv: province {p!r} is in two regions")
        grid[k, int(r.month) - 1] = [getattr(r, h) for h in _HOURS]
    if np.isnan(grid).any():
        raise ProfileError("wind_shapes.csv: every region needs 12 months of 24 hours")
    grid /= ((grid.mean(axis=2) * _DAYS_IN_MONTH).sum(axis=1) / _DAYS_IN_MONTH.sum())[:, None, None]
    grid.flags.writeable = False
    return regions, by_province, grid


def wind_cf(province, snapshots) -> np.ndarray:
    """Wind capacity factor in [0, 1] by province: ``(n_snap, n)`` (``(n_snap,)`` for one province).

    ``full-load hours / 8760 h x multiplier(region, month, hour)`` (``datasets/profiles/wind_shapes.csv``):
    region ``three_north`` (north, north-east and north-west China) is stronger at night and in winter and
    spring, ``default`` (every other province) has a small swing. The shapes are assumed; each has mean 1
    over a 365-day year, so the annual full-load hours are the wind target (2,225 h, China's 2023 average,
    recalled, not retrieved) in every province (a leap year adds a February day). A fleet-average shape: the
    day-to-day variability of real wind (calm weeks) is not modelled.
    """
    idx = _index(snapshots)
    _, by_province, grid = _wind_table()
    codes, scalar = _region_codes(province, by_province)
    mean_cf = full_load_hours_target("wind") / 8760.0
    month, hour = idx.month.to_numpy() - 1, idx.hour.to_numpy()
    out = np.clip(mean_cf * grid[codes[None, :], month[:, None], hour[:, None]], 0.0, 1.0)
    return _finish(out, scalar)


def green_cf(source, lon, lat, province, snapshots) -> np.ndarray:
    """Capacity factor of each row's green supply: ``source`` per row in ``"solar"``, ``"wind"`` or
    ``"solar+wind"`` (half the nameplate solar, half wind: :data:`GREEN_SOURCES`). ``(n_snap, n)``, or
    ``(n_snap,)`` when every argument is a scalar."""
    values, scalar_source = _rows(source)
    lon_, lat_, scalar_xy = _coordinates(lon, lat)
    provinces, scalar_province = _rows(province)
    try:
        src, lon_, lat_, provinces = np.broadcast_arrays(values, lon_, lat_, provinces)
    except ValueError:
        raise ProfileError(f"green_cf: source, lon, lat and province must have one length; got "
                           f"{len(values)}, {len(lon_)}, {len(lat_)}, {len(provinces)}") from None
    names, inverse = np.unique(src.astype(str), return_inverse=True)
    for n in names:
        if n not in GREEN_SOURCES:
            raise ProfileError(f"unknown green source {str(n)!r}{_did_you_mean(n, GREEN_SOURCES)}; "
                               f"known: {', '.join(GREEN_SOURCES)}")
    shares = np.array([GREEN_SOURCES[n] for n in names])[inverse.reshape(-1)]
    idx = _index(snapshots)
    out = np.zeros((len(idx), len(src)))
    sun, air = shares[:, 0] > 0, shares[:, 1] > 0
    if sun.any():
        out[:, sun] += shares[sun, 0] * solar_cf(lon_[sun], lat_[sun], idx)
    if air.any():
        out[:, air] += shares[air, 1] * wind_cf(provinces[air], idx)
    return _finish(out, scalar_source and scalar_xy and scalar_province)


# --- carbon -------------------------------------------------------------------------------------------------

def carbon_multiplier(province, snapshots) -> np.ndarray:
    """Multiplier of a site's ``carbon_intensity`` by hour: ones, ``(n_snap, n)`` (``(n_snap,)`` for one).

    No hourly or seasonal grid emission factor for China is published in our sources: the MEE/NBS factors
    (FIGURES 5.1) are annual averages by province and regional grid. The profile exists so scenarios can name
    it and a sourced factor can replace the ones later; real hourly intensity falls where solar and wind
    output is high.
    """
    idx = _index(snapshots)
    values, scalar = _rows(province)
    return _finish(np.ones((len(idx), len(values))), scalar)


# --- named profiles -----------------------------------------------------------------------------------------

def _did_you_mean(name: str, known) -> str:
    from .schema import did_you_mean

    return did_you_mean(name, known)


@dataclass(frozen=True)
class _Profile:
    kinds: tuple[str, ...] | None  # None = any kind
    unit: str
    description: str
    source: str
    columns: tuple[str, ...]
    compute: Callable[[pd.DatetimeIndex, Mapping[str, np.ndarray], int], np.ndarray]


def _green(idx, cols, n):
    source = cols.get("green_source")
    if source is None:
        source = np.full(n, DEFAULT_GREEN_SOURCE, dtype=object)
    else:
        source = np.array([DEFAULT_GREEN_SOURCE if (s is None or (isinstance(s, float) and np.isnan(s))
                                                    or str(s).strip() == "") else str(s).strip()
                           for s in source], dtype=object)
    return green_cf(source, cols["lon"], cols["lat"], cols["province"], idx)


_PROFILES: dict[str, _Profile] = {
    "flat": _Profile(None, "1", "Ones: a constant profile", "assumed", (),
                     lambda idx, cols, n: np.ones((len(idx), n))),
    "demand": _Profile(("device",), "1",
                       "Demand multiplier of each device group by its class (mean 1 over a week; classes without a "
                       "shape use CLASS_ALIASES); multiplies device.demand", "assumed", ("class",),
                       lambda idx, cols, n: demand_shape(cols["class"], idx)),
    "tou": _Profile(("site",), "1",
                    "Time-of-use multiplier of site.power_price by province, mean 1 over each day (a flat load pays "
                    "the average); Zhejiang 2026 ratios, NDRC 2021 4:1 default, hours mostly assumed",
                    "ndrc2021_tou;aspirehk_zj_tou2026;reportify_zj_tou_draft;assumed", ("province",),
                    lambda idx, cols, n: tou_multiplier(cols["province"], idx)),
    "solar": _Profile(("site",), "1",
                      f"Solar capacity factor: clear-sky GHI (pvlib Ineichen) / 1000 W/m2 x derate {SOLAR_DERATE} "
                      "calibrated to 1,286 full-load hours on the western clusters (the derate absorbs cloud cover)",
                      "pvlib_clearsky;cec2023;assumed", ("lon", "lat"),
                      lambda idx, cols, n: solar_cf(cols["lon"], cols["lat"], idx)),
    "wind": _Profile(("site",), "1",
                     "Wind capacity factor by province: assumed month x hour shape (Three North: stronger at night, "
                     "in winter and spring), 2,225 full-load hours a year",
                     "cec2023;assumed", ("province",),
                     lambda idx, cols, n: wind_cf(cols["province"], idx)),
    "green": _Profile(("site",), "1",
                      "Capacity factor of the site's green supply by site.green_source (solar, wind or solar+wind = "
                      "half/half nameplate; solar+wind where the attribute is missing or empty)",
                      "pvlib_clearsky;cec2023;assumed", ("lon", "lat", "province"), _green),
    "carbon": _Profile(("site",), "1",
                       "Multiplier of site.carbon_intensity: ones, because no hourly or seasonal emission factor is "
                       "published in our sources (MEE/NBS factors are annual)", "mee2022;assumed", ("province",),
                       lambda idx, cols, n: carbon_multiplier(cols["province"], idx)),
}


def _demand_profile(cls: str) -> _Profile:
    return _Profile(None, "1", f"Demand multiplier of device class {cls!r} for every row (mean 1 over a week)",
                    "assumed", (), lambda idx, cols, n: np.repeat(demand_shape(cls, idx)[:, None], n, axis=1))


def _known_names() -> list[str]:
    return [*_PROFILES, *(f"demand:{c}" for c in [*demand_classes(), *CLASS_ALIASES])]


def _profile(name) -> _Profile:
    if isinstance(name, str):
        if name in _PROFILES:
            return _PROFILES[name]
        base, sep, cls = name.partition(":")
        if sep and base == "demand" and (cls in demand_classes() or cls in CLASS_ALIASES):
            return _demand_profile(cls)
    known = _known_names()
    raise ProfileError(f"unknown profile {name!r}{_did_you_mean(str(name), known)}; known: {', '.join(known)}")


def evaluate(name: str, snapshots: pd.DatetimeIndex, scenario, kind: str) -> np.ndarray:
    """The named profile for every row of the ``kind`` table of ``scenario``: ``(n_snap, n_rows)``.

    Names (see :func:`list_profiles`): ``flat`` (ones, any kind), ``demand`` (device: by each row's ``class``),
    ``demand:<class>`` (any kind: one class for every row), ``tou`` (site: by ``province``), ``solar`` (site:
    ``lon``/``lat``), ``wind`` (site: ``province``), ``green`` (site: ``green_source``, ``lon``, ``lat``,
    ``province``; ``solar+wind`` where there is no ``green_source``), ``carbon`` (site: ones).

    ``scenario`` is anything whose ``scenario[kind]`` is a table (an ``xr.Dataset`` over dimension ``kind``),
    e.g. a :class:`~workbench.model.Scenario`. Raises :class:`ProfileError` for an unknown name, a kind the
    profile does not apply to, a missing table or column.
    """
    profile = _profile(name)
    idx = _index(snapshots)
    if profile.kinds is not None and kind not in profile.kinds:
        raise ProfileError(f"profile {name!r} applies to {' or '.join(profile.kinds)} tables, not {kind!r}")
    try:
        table = scenario[kind]
    except (KeyError, IndexError, TypeError):
        raise ProfileError(f"profile {name!r}: the scenario has no {kind!r} table") from None
    sizes = dict(getattr(table, "sizes", {}))
    if kind in sizes:
        n = int(sizes[kind])
    elif len(sizes) == 1:
        n = int(next(iter(sizes.values())))
    else:
        raise ProfileError(f"profile {name!r}: the {kind!r} table has no dimension {kind!r}")
    cols = {}
    for col in (*profile.columns, *(("green_source",) if name == "green" else ())):
        if col in table.variables:
            cols[col] = np.asarray(table[col].values)
        elif col != "green_source":
            raise ProfileError(f"profile {name!r} needs column {col!r} of the {kind!r} table, which has none")
    out = np.asarray(profile.compute(idx, cols, n), dtype=float)
    if out.shape != (len(idx), n):  # a table of zero or one row may come back 1-D
        out = out.reshape(len(idx), n)
    return out


def list_profiles() -> pd.DataFrame:
    """Named profiles for scenario files: name, kind (table it applies to, ``any``), unit, description, source
    (keys of ``datasets/SOURCES.yaml``; ``assumed`` = see ``datasets/README.md`` and the CSV notes)."""
    rows = [{"name": name, "kind": "any" if p.kinds is None else "|".join(p.kinds), "unit": p.unit,
             "description": p.description, "source": p.source} for name, p in _PROFILES.items()]
    rows += [{"name": f"demand:{c}", "kind": "any", "unit": "1",
              "description": _demand_profile(c).description, "source": "assumed"} for c in demand_classes()]
    return pd.DataFrame(rows, columns=["name", "kind", "unit", "description", "source"])
