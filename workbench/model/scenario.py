"""The :class:`Scenario`: one ``xr.Dataset`` per component kind, together an ``xr.DataTree``.

Every table is indexed by its own dimension (``site``, ``link``, ``chip``, ``agent``, ``device``;
the inventory by ``site x chip``) with string ids as coordinates. Every variable carries
``attrs["units"]``, ``attrs["long_name"]``, ``attrs["description"]`` and ``attrs["provided_by"]``
from the schema, so hvplot labels axes by itself.
"""

from __future__ import annotations

import html
import json
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from .. import units as _units
from ..errors import Problem, ScenarioError, UnitError
from ..fileio import atomic_path
from ..plugin_types import AttributeSpec
from ..plugins import get_plugin_manager
from ..schema import CORE_PARAMETERS, RENAMED_ATTRIBUTES, Schema, did_you_mean
from . import timeseries as _ts

#: Format of NetCDF/Zarr scenarios: 1 = static tables; 2 = with a time axis (groups ``/snapshots`` and
#: ``/timeseries/<kind>``), so that a reader that knows only 1 refuses the file instead of dropping the series.
FORMAT_VERSION = 1
FORMAT_VERSION_TIME = 2


def _parameter_table() -> dict[str, tuple[type, str, Any, str]]:
    return {p.name: (float, p.unit, p.default, p.description) for p in CORE_PARAMETERS}


#: The core's scenario-wide parameters, name -> (dtype, unit, default, description). Plugins add
#: more through ``workbench_parameters``; the current set is ``schema.parameters``.
PARAMETERS: dict[str, tuple[type, str, Any, str]] = _parameter_table()


@dataclass(frozen=True)
class Origin:
    """Where a table's rows came from, for error messages: file and 1-based line per row."""

    file: str = ""
    lines: Sequence[int | None] = field(default_factory=tuple)
    header_line: int | None = None
    #: line where each column first appears (inline YAML rows); falls back to ``header_line``
    column_lines: Mapping[str, int | None] = field(default_factory=dict)
    #: ``(file, line)`` where a column's unit is declared when that is not the header (a YAML ``units:`` entry)
    unit_sources: Mapping[str, tuple[str, int | None]] = field(default_factory=dict)

    def line(self, row: int) -> int | None:
        return self.lines[row] if row < len(self.lines) else None

    def column_line(self, column: str) -> int | None:
        return self.column_lines.get(column) or self.header_line

    def unit_source(self, column: str) -> tuple[str, int | None]:
        return self.unit_sources.get(column) or (self.file, self.header_line)


def _is_blank(v: Any) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v)) or (isinstance(v, str) and not v.strip())


def _raw_text(v: Any, unit: str | None) -> str:
    text = str(v)
    return f"{text} {unit}" if unit and not isinstance(v, str) else text


def _coerce_column(values: pd.Series, spec: AttributeSpec, from_unit: str | None, kind: str,
                   ids: Sequence[str], origin: Origin, problems: list[Problem], present: bool = True,
                   schema: Schema | None = None, rates: Mapping[str, float] | None = None) -> np.ndarray:
    """Convert one input column to the attribute's dtype and canonical unit, recording problems.

    ``present=False`` (the column is absent, already reported once) skips the per-row reports.
    Numeric values outside the attribute's range are problems naming the range and its reason.
    """
    registry = schema.units if schema is not None else _units.core_registry()
    n = len(values)
    where = lambda i: f"{kind}[{ids[i]}].{spec.name}" if i < len(ids) else f"{kind}.{spec.name}"  # noqa: E731
    raw = values.to_numpy(dtype=object)
    blank = np.fromiter((_is_blank(v) for v in raw), bool, n)
    if spec.dtype in ("float", "int"):  # "nan" written in a CSV is NaN, as .nan is in YAML
        blank |= np.fromiter((isinstance(v, str) and v.strip().lower() == "nan" for v in raw), bool, n)
    if spec.required and blank.any() and present:
        for i in np.flatnonzero(blank):
            problems.append(Problem("required value is missing (empty or NaN)", origin.file, origin.line(i), where(i),
                                    expected=f"a value ({spec.unit or 'text'})"))
    bad_value = np.zeros(n, dtype=bool)
    if spec.dtype == "str":
        default = spec.default_value()
        out = np.array([default if b else str(v) for v, b in zip(raw, blank, strict=True)], dtype=object)
    elif spec.dtype == "bool":
        default = spec.default_value()
        out = np.empty(n, dtype=bool)
        for i, (v, b) in enumerate(zip(raw, blank, strict=True)):
            if b:
                out[i] = default
            elif isinstance(v, (bool, np.bool_)) or str(v).strip().lower() in ("true", "false", "1", "0"):
                out[i] = v if isinstance(v, (bool, np.bool_)) else str(v).strip().lower() in ("true", "1")
            else:
                problems.append(Problem("not a boolean", origin.file, origin.line(i), where(i), str(v),
                                        expected="true or false"))
                out[i] = default
    else:
        canonical = spec.unit or "1"
        unit_ok = True
        try:
            registry.convert(1.0, from_unit, canonical, rates) if from_unit not in (None, "") else None
        except UnitError as err:
            file, line = origin.unit_source(spec.name)
            problems.append(Problem(f"wrong unit: {err}", file, line, f"{kind}.{spec.name}", from_unit or "",
                                    expected=f"a unit of {registry.dimension(canonical)} such as {canonical!r}",
                                    root=True))
            unit_ok = False
        numeric = np.full(n, math.nan)
        if unit_ok:
            direct = pd.to_numeric(pd.Series([None if isinstance(v, (bool, np.bool_)) else v for v in raw],
                                             dtype=object), errors="coerce").to_numpy(dtype=float)
            if from_unit not in (None, ""):
                direct = registry.convert(direct, from_unit, canonical, rates)
            numeric = np.array(direct, dtype=float)  # a writeable copy: pandas may hand out read-only arrays
            for i in np.flatnonzero(np.isnan(numeric) & ~blank):
                v = raw[i]
                if isinstance(v, str):
                    try:
                        numeric[i] = registry.parse_quantity(v, canonical, rates)
                        continue
                    except UnitError as err:
                        problems.append(Problem(f"not a number in {canonical} or with a unit of that dimension: {err}",
                                                origin.file, origin.line(i), where(i), v))
                        bad_value[i] = True
                        continue
                if isinstance(v, float) and math.isnan(v):
                    continue
                problems.append(Problem("not a number", origin.file, origin.line(i), where(i), str(v),
                                        expected=f"a number in {canonical}"))
                bad_value[i] = True
        numeric = np.where(blank, spec.default_value() if not spec.required else math.nan, numeric)
        if unit_ok and not spec.infinite:
            for i in np.flatnonzero(np.isinf(numeric) & ~blank & ~bad_value):
                problems.append(Problem("not a finite number", origin.file, origin.line(i), where(i), str(raw[i]),
                                        expected=f"a finite number {spec.range_text()} {canonical}".replace("  ", " ")))
                bad_value[i] = True
        if unit_ok:
            outside = spec.out_of_range(numeric) & ~blank & ~bad_value
            reason = spec.description.split("range: ", 1)[1] if "range: " in spec.description else ""
            for i in np.flatnonzero(outside):
                problems.append(Problem("out of range" + (f" ({reason})" if reason else ""), origin.file,
                                        origin.line(i), where(i),
                                        _raw_text(raw[i], from_unit if from_unit != canonical else None),
                                        expected=f"{spec.range_text()} {canonical}".rstrip()))
                bad_value[i] = True
        if spec.dtype == "int":
            bad = ~np.isfinite(numeric) | (numeric != np.round(numeric))
            for i in np.flatnonzero(bad & ~blank & ~bad_value & np.isfinite(numeric)):
                problems.append(Problem("not an integer", origin.file, origin.line(i), where(i), str(raw[i]),
                                        expected="an integer"))
            out = np.where(np.isfinite(numeric), numeric, spec.default_value()).astype(np.int64)
        else:
            out = numeric
    if spec.choices is not None:
        allowed = set(spec.choices)
        for i in np.flatnonzero(~blank & ~bad_value):
            if out[i] not in allowed:
                problems.append(Problem(f"not a known choice{did_you_mean(raw[i], spec.choices)}", origin.file,
                                        origin.line(i), where(i), str(raw[i]),
                                        expected=f"one of {', '.join(map(str, spec.choices))}"))
    return out


def _variable(values: np.ndarray, dims: tuple[str, ...], spec: AttributeSpec) -> xr.Variable:
    attrs = {"units": spec.unit if spec.dtype != "str" else "", "long_name": spec.long_name,
             "description": spec.description, "provided_by": spec.provided_by}
    if spec.dtype == "str":
        del attrs["units"]
    return xr.Variable(dims, values, attrs=attrs)


def _empty_frame(kind_dims: tuple[str, ...]) -> pd.DataFrame:
    cols = ["id"] if len(kind_dims) == 1 else list(kind_dims)
    return pd.DataFrame({c: pd.Series([], dtype=object) for c in cols})


def _split_unit_headers(kind: str, frame: pd.DataFrame, column_units: Mapping[str, str | None], origin: Origin,
                        problems: list[Problem]) -> tuple[pd.DataFrame, dict[str, str | None]]:
    """Columns named ``"capacity [Gbit/s]"`` (as in CSV headers) become ``capacity`` with that unit."""
    units = dict(column_units)
    renames = {}
    for col in frame.columns:
        if not isinstance(col, str) or "[" not in col:
            continue
        name, unit = _units.split_header(col)
        if unit is None:
            continue
        if name in units and units[name] not in (None, "", unit):
            problems.append(Problem(f"two units for one column: {units[name]!r} and {unit!r} in the header",
                                    *origin.unit_source(name), f"{kind}.{name}", unit, root=True))
        units[name] = unit
        renames[col] = name
    if renames:
        frame = frame.rename(columns=renames)
    return frame, units


def _build_table(kind: str, frame: pd.DataFrame, schema: Schema, column_units: Mapping[str, str | None],
                 origin: Origin, problems: list[Problem], rates: Mapping[str, float] | None = None) -> xr.Dataset:
    spec_kind = schema.kind(kind)
    attrs = schema.attrs(kind)
    dims = spec_kind.dims
    frame = frame.reset_index(drop=True)
    frame, column_units = _split_unit_headers(kind, frame, column_units, origin, problems)
    if frame.columns.duplicated().any():
        for col in sorted(set(frame.columns[frame.columns.duplicated()])):
            problems.append(Problem(f"column {col!r} appears more than once", origin.file, origin.column_line(col),
                                    f"{kind}.{col}", root=True))
        frame = frame.loc[:, ~frame.columns.duplicated()]
    index_cols = ["id"] if len(dims) == 1 else list(dims)
    known = index_cols + list(attrs)
    for col in frame.columns:
        if (kind, col) in RENAMED_ATTRIBUTES and RENAMED_ATTRIBUTES[(kind, col)][0] in attrs:
            new_name, why = RENAMED_ATTRIBUTES[(kind, col)]
            problems.append(Problem(f"attribute {col!r} of kind {kind!r} is now called {new_name!r} ({why})",
                                    origin.file, origin.column_line(col), f"{kind}.{col}", expected=repr(new_name),
                                    root=True))
            if new_name not in frame.columns:  # check the values under the new name: no follow-on "missing" problem
                frame = frame.rename(columns={col: new_name})
                column_units = {(new_name if k == col else k): v for k, v in column_units.items()}
        elif col not in attrs and col not in index_cols:
            problems.append(Problem(f"unknown attribute {col!r} for kind {kind!r}{did_you_mean(col, known)}",
                                    origin.file, origin.column_line(col), f"{kind}.{col}",
                                    expected=f"one of {', '.join(known)}", root=True))
    for col, unit in column_units.items():
        if unit and col not in attrs and col not in frame.columns:
            problems.append(Problem(f"unit given for unknown attribute {col!r} of kind {kind!r}"
                                    f"{did_you_mean(col, attrs)}", *origin.unit_source(col), f"{kind}.{col}", unit,
                                    expected=f"one of {', '.join(attrs)}", root=True))
    missing_index = False
    for col in index_cols:
        if col not in frame.columns and len(frame):
            problems.append(Problem(f"missing required field {col!r}", origin.file, origin.header_line,
                                    f"{kind}.{col}", root=True))
            frame[col] = ""
            missing_index = True
    for name, spec in attrs.items():
        if spec.required and name not in frame.columns and len(frame):
            problems.append(Problem(f"missing required field {name!r} ({spec.unit or 'text'}: "
                                    f"{spec.description.split('; range:')[0]})", origin.file, origin.header_line,
                                    f"{kind}.{name}", root=True))
    keys = [frame[c].map(lambda v: "" if _is_blank(v) else str(v)).to_numpy(dtype=object) if c in frame
            else np.array([], dtype=object) for c in index_cols]
    ids = keys[0] if len(dims) == 1 else np.array(["/".join(t) for t in zip(*keys, strict=True)], dtype=object)
    if not missing_index:  # a missing id column is reported once, not once per row
        for i in np.flatnonzero(np.array([any(k[i] == "" for k in keys) for i in range(len(ids))], dtype=bool)):
            problems.append(Problem("missing id", origin.file, origin.line(i), f"{kind}.{index_cols[0]}"))
    dup = pd.Series(ids, dtype=object).duplicated(keep="first").to_numpy()
    dup_rows = np.flatnonzero(dup & (ids != ""))
    first_row: dict[str, int] = {}
    if len(dup_rows):  # one pass: the first row of every id (a scan per duplicate was quadratic)
        for i, ident in enumerate(ids.tolist()):
            first_row.setdefault(ident, i)
    for i in dup_rows:
        first = first_row[ids[i]]
        at = f" (first at line {origin.line(first)})" if origin.line(first) is not None else ""
        problems.append(Problem(f"duplicate id {ids[i]!r} in {kind}{at}", origin.file, origin.line(i),
                                f"{kind}[{ids[i]}]", str(ids[i])))
    columns: dict[str, np.ndarray] = {}
    for name, spec in attrs.items():
        col = frame[name] if name in frame.columns else pd.Series([None] * len(frame), dtype=object)
        columns[name] = _coerce_column(col, spec, column_units.get(name), kind, ids, origin, problems,
                                       present=name in frame.columns, schema=schema, rates=rates)
    if len(dims) == 1:
        ds = xr.Dataset({n: _variable(v, dims, attrs[n]) for n, v in columns.items()},
                        coords={dims[0]: np.asarray(ids, dtype=object)})
    else:
        keep = ~dup
        idx = pd.MultiIndex.from_arrays([k[keep] for k in keys], names=list(dims))
        data = {n: pd.Series(v[keep], index=idx) for n, v in columns.items()}
        # pairs absent from a long table take the attribute's default (e.g. 0 chips), not NaN
        ds = xr.Dataset({n: (list(dims), s.unstack(dims[-1], fill_value=attrs[n].default_value()).to_numpy())
                         if len(s) else (list(dims), np.zeros((0, 0)))
                         for n, s in data.items()})
        if len(idx):
            ds = ds.assign_coords({dims[0]: np.asarray(data[next(iter(data))].unstack(dims[-1]).index, dtype=object),
                                   dims[1]: np.asarray(data[next(iter(data))].unstack(dims[-1]).columns, dtype=object)})
        else:
            ds = ds.assign_coords({d: np.array([], dtype=object) for d in dims})
        for n in ds.data_vars:
            ds[n].attrs = _variable(np.zeros(0), ("x",), attrs[n]).attrs
    ds[dims[0]].attrs["long_name"] = f"{kind} id" if len(dims) == 1 else dims[0]
    ds.attrs = {"kind": kind, "description": spec_kind.description, "provided_by": spec_kind.provided_by}
    return ds


def _parse_parameters(given: Mapping[str, Any], schema: Schema, source: str,
                      problems: list[Problem], lines: Mapping[str, int | None] | None = None) -> dict[str, float]:
    """Scenario parameters with defaults, converted to their units and checked against their ranges."""
    params = schema.parameter_defaults()
    lines = lines or {}
    given = dict(given or {})
    # exchange rates first: other parameters may be given in a currency
    order = sorted(given, key=lambda k: not k.startswith("cny_per_"))
    for key in order:
        value = given[key]
        spec = schema.parameters.get(key)
        if spec is None:
            problems.append(Problem(f"unknown parameter {key!r}{did_you_mean(key, schema.parameters)}", source,
                                    lines.get(key), f"parameters.{key}",
                                    expected=f"one of {', '.join(schema.parameters)}"))
            continue
        try:
            if isinstance(value, bool) or value is None:
                raise UnitError("not a number")
            v = schema.units.parse_quantity(value, spec.unit, schema.exchange_rates(params))
        except (UnitError, TypeError, ValueError) as err:
            problems.append(Problem(f"not a number: {err}", source, lines.get(key), f"parameters.{key}", str(value),
                                    expected=f"a number in {spec.unit}"))
            continue
        problem = _parameter_value_problem(spec, v, source, lines.get(key), str(value))
        if problem is not None:
            problems.append(problem)
            continue
        params[key] = v
    return params


def _parameter_value_problem(spec, value: Any, source: str, line: int | None, raw: str) -> Problem | None:
    """The problem of a parameter value already in the parameter's unit, or None.

    NaN is refused unless the parameter's default is NaN (there NaN means "not set"); infinities
    and values outside the parameter's range are refused.
    """
    field = f"parameters.{spec.name}"
    try:
        v = float(value)
    except (TypeError, ValueError):
        return Problem("not a number", source, line, field, raw, expected=f"a number in {spec.unit}")
    if math.isnan(v):
        if math.isnan(float(spec.default)):
            return None
        return Problem("NaN is not a value of this parameter (only parameters whose default is NaN, meaning "
                       "'not set', take it)", source, line, field, raw,
                       expected=f"a number {spec.range_text()} {spec.unit}".replace("  ", " ").rstrip())
    if math.isinf(v):
        return Problem("not a finite number", source, line, field, raw,
                       expected=f"a finite number {spec.range_text()} {spec.unit}".replace("  ", " ").rstrip())
    if spec.out_of_range(np.array([v])).any():
        reason = spec.description.split("range: ", 1)[1] if "range: " in spec.description else ""
        return Problem("out of range" + (f" ({reason})" if reason else ""), source, line, field, raw,
                       expected=f"{spec.range_text()} {spec.unit}")
    return None


class ReadOnlyParameters(dict):
    """A scenario's parameters: a ``dict`` (JSON, ``==``, ``|`` work) that refuses to be changed in place.

    Use :meth:`Scenario.with_parameters` for a scenario with other parameters.
    """

    def _refuse(self, *args, **kwargs):
        raise TypeError("scenario parameters are read-only: use scenario.with_parameters(name=value), which "
                        "checks the value and returns a new scenario")

    __setitem__ = __delitem__ = __ior__ = update = pop = popitem = clear = setdefault = _refuse

    def __reduce__(self):
        return (ReadOnlyParameters, (dict(self),))

    def __copy__(self) -> ReadOnlyParameters:
        return self

    def __deepcopy__(self, memo) -> ReadOnlyParameters:
        return self


def read_only(ds: xr.Dataset) -> xr.Dataset:
    """A shallow copy of ``ds`` whose data variables are backed by read-only numpy arrays (copied if writeable).

    For data shared between callers (scenario tables, catalogues cached by plugins): writing into an
    array raises ``ValueError: assignment destination is read-only``. Hand out ``.copy(deep=False)``
    of the result so that assigning variables or attrs changes only the caller's copy.
    """
    return _frozen(ds)


def _frozen(ds: xr.Dataset) -> xr.Dataset:
    """``ds`` with every data variable backed by a read-only numpy array (copied if it was writeable)."""
    out = ds.copy(deep=False)
    for name in list(out.data_vars):
        var = out[name].variable
        data = var.data
        if isinstance(data, np.ndarray) and data.flags.writeable:
            arr = data.copy()
            arr.flags.writeable = False
            out[name] = var.copy(deep=False, data=arr)
    return out


#: Rough bounding boxes (lon_min, lon_max, lat_min, lat_max) [degree] of countries, for the lon/lat
#: swap check only. Assumed, rounded outward from the countries' extreme points (Natural Earth admin-0
#: extents); a point inside a box is not claimed to be in the country, only that lon/lat look right.
COUNTRY_BOXES = {
    ("china", "cn", "chn", "prc", "中国"): (73.0, 135.5, 17.5, 54.0),
    ("united states", "usa", "us"): (-180.0, -65.0, 18.5, 72.0),
    ("germany", "de", "deu"): (5.5, 15.5, 47.0, 55.5),
    ("france", "fr", "fra"): (-5.5, 10.0, 41.0, 51.5),
    ("united kingdom", "uk", "gb", "gbr"): (-8.7, 2.0, 49.8, 61.0),
    ("japan", "jp", "jpn"): (122.5, 154.0, 24.0, 46.0),
    ("india", "in", "ind"): (68.0, 97.5, 6.5, 35.7),
    ("singapore", "sg", "sgp"): (103.6, 104.1, 1.1, 1.5),
}


def _country_box(country: str):
    c = str(country).strip().lower()
    for names, box in COUNTRY_BOXES.items():
        if c in names:
            return box
    return None


def _inside(box, lon: float, lat: float) -> bool:
    return box[0] <= lon <= box[1] and box[2] <= lat <= box[3]


class Scenario:
    """A compute network: sites, links, chips, inventory, agents, devices (+ plugin kinds).

    Build one with :meth:`from_tables` (validating), :func:`workbench.load_scenario` (a named
    dataset or a YAML file) or :meth:`from_netcdf`. Scenarios cannot be changed in place:
    ``sc[kind]`` is a shallow copy with read-only arrays, :attr:`parameters` is read-only, and the
    ``with_*`` / ``select_sites`` / ``drop_rows`` helpers return new scenarios.

    A scenario may have a time axis (:attr:`snapshots`, :attr:`snapshot_weight`) and time series of
    the attributes the schema declares ``varies_in_time`` (:meth:`timeseries`, :meth:`varying`); the
    tables keep the representative (annual) value. See :meth:`with_snapshots` and :meth:`with_series`.
    """

    # the time axis (class defaults: a scenario pickled before it existed unpickles without one)
    _snapshots: pd.DatetimeIndex | None = None
    _weights: np.ndarray | None = None
    _series: Mapping[str, xr.Dataset] = {}

    def __init__(self, tables: Mapping[str, xr.Dataset], *, name: str = "scenario", description: str = "",
                 parameters: Mapping[str, Any] | None = None, attrs: Mapping[str, Any] | None = None,
                 schema: Schema | None = None) -> None:
        self._tables = {k: _frozen(v) for k, v in tables.items()}
        self.name = name
        self.description = description
        self._parameters = (schema.parameter_defaults() if schema is not None
                            else {k: v[2] for k, v in PARAMETERS.items()})
        self._parameters.update(parameters or {})
        self.attrs = dict(attrs or {})
        # the parameter specs travel with the scenario (small frozen dataclasses), so with_parameters can
        # check units and ranges on a Dask worker without building a plugin manager there
        self._parameter_specs = (dict(schema.parameters) if schema is not None
                                 else {p.name: p for p in CORE_PARAMETERS})
        self._snapshots = None
        self._weights = None
        self._series = {}  # kind -> Dataset over (snapshot, kind), one variable per time-varying attribute

    # -- construction -----------------------------------------------------------------------------
    @classmethod
    def from_tables(cls, tables: Mapping[str, pd.DataFrame | Sequence[Mapping[str, Any]]], *,
                    name: str = "scenario", description: str = "", parameters: Mapping[str, Any] | None = None,
                    units: Mapping[str, Mapping[str, str | None]] | None = None,
                    origins: Mapping[str, Origin] | None = None, attrs: Mapping[str, Any] | None = None,
                    validate: bool = True, source: str = "", schema: Schema | None = None,
                    parameter_lines: Mapping[str, int | None] | None = None) -> Scenario:
        """Build a scenario from one table per kind, checking everything against the schema.

        Every format goes through here (YAML/CSV files, NetCDF and Zarr stores, Python tables), so
        every format gets the same checks and the same messages.

        Parameters
        ----------
        tables : mapping kind -> DataFrame or list of row dicts
            One-dimensional kinds need an ``id`` column; the inventory has ``site, chip, installed``.
            Values may be numbers in the canonical unit or strings such as ``"400 Gbit/s"``. Column
            names may carry their unit as in CSV headers: ``"capacity [Gbit/s]"``.
        units : mapping kind -> {column: unit}, optional
            Units the input columns are in (converted to the canonical unit).
        origins : mapping kind -> Origin, optional
            File and line of each row, for error messages.
        schema : Schema, optional
            Default: the current plugin manager's.

        Raises
        ------
        ScenarioError
            Listing every problem found, each with file, line, field, the value and what was expected;
            root causes first, follow-on problems (e.g. links to the sites of an unreadable table) left out.
        """
        schema = schema if schema is not None else get_plugin_manager().schema
        problems: list[Problem] = []
        units = units or {}
        origins = origins or {}
        params = _parse_parameters(parameters or {}, schema, source, problems, parameter_lines)
        rates = schema.exchange_rates(params)
        for kind in tables:
            if kind not in schema.kinds:
                o = origins.get(kind, Origin())
                problems.append(Problem(f"unknown component kind {kind!r}{did_you_mean(kind, schema.kinds)}", o.file,
                                        o.header_line, f"tables.{kind}", expected=f"one of {', '.join(schema.kinds)}",
                                        root=True))
        built = {}
        broken: set[str] = set()  # kinds whose ids are unreliable: references into them are not checked
        inventory_lines: dict[tuple[str, str], int | None] = {}
        for kind, spec in schema.kinds.items():
            frame = tables.get(kind)
            if frame is None:
                frame = _empty_frame(spec.dims)
            elif not isinstance(frame, pd.DataFrame):
                try:
                    rows = list(frame)
                    if not all(isinstance(r, Mapping) for r in rows):
                        raise TypeError("rows must be mappings")
                    frame = pd.DataFrame(rows, dtype=object)
                except TypeError as err:
                    o = origins.get(kind, Origin())
                    problems.append(Problem(f"not a table: {err}", o.file, o.header_line, f"tables.{kind}",
                                            expected="a DataFrame or a list of row mappings", root=True))
                    broken.add(kind)
                    frame = _empty_frame(spec.dims)
            if len(spec.dims) > 1:  # remember the input line of each id, for reference problems
                o = origins.get(kind, Origin())
                for dim in spec.dims:
                    if dim in frame.columns:
                        for i, v in enumerate(frame[dim].tolist()):
                            inventory_lines.setdefault((dim, str(v)), o.line(i))
            before = len(problems)
            built[kind] = _build_table(kind, frame, schema, units.get(kind, {}), origins.get(kind, Origin()),
                                       problems, rates)
            if any(p.field in (f"{kind}.id", f"{kind}.{spec.dims[0]}") or "missing id" in p.message
                   or p.message.startswith("duplicate id") for p in problems[before:]):
                broken.add(kind)
        broken |= {k for k, o in origins.items() if getattr(o, "unreadable", False)}
        scenario = cls(built, name=name, description=description, parameters=params, attrs=attrs, schema=schema)
        problems.extend(scenario._cross_problems(origins, inventory_lines, skip=broken, schema=schema))
        if validate and not problems:
            problems.extend(scenario.validate(builtin=False))
        if problems:
            raise ScenarioError(problems, source or name)
        return scenario

    def _cross_problems(self, origins: Mapping[str, Origin],
                        inventory_lines: Mapping[tuple[str, str], int | None] | None = None,
                        skip: set[str] | frozenset = frozenset(), schema: Schema | None = None) -> list[Problem]:
        """References between tables, self-loops, swapped coordinates; aligns the inventory to site x chip.

        References into a kind in ``skip`` (its ids are unreliable) are not checked: they would only
        repeat the root problem.
        """
        problems: list[Problem] = []
        site_ids = set(self["site"]["site"].values.tolist())
        device_ids = set(self["device"]["device"].values.tolist())
        checks = [("link", "src", "site", site_ids), ("link", "dst", "site", site_ids),
                  ("agent", "site", "site", site_ids), ("device", "access_site", "site", site_ids),
                  ("agent", "device", "device", device_ids)]
        for kind, attr, target, valid in checks:
            if target in skip or kind not in self or attr not in self[kind]:
                continue
            ds = self[kind]
            o = origins.get(kind, Origin())
            values = ds[attr].values
            for i in np.flatnonzero([v != "" and v not in valid for v in values]):
                problems.append(Problem(f"refers to {target} {values[i]!r}, which does not exist"
                                        f"{did_you_mean(values[i], valid)}", o.file, o.line(i),
                                        f"{kind}[{ds[kind].values[i]}].{attr}", str(values[i]),
                                        expected=f"a {target} id"))
        link = self["link"]
        o = origins.get("link", Origin())
        for i in np.flatnonzero((link["src"].values == link["dst"].values) & (link["src"].values != "")):
            problems.append(Problem("link from a site to itself", o.file, o.line(i), f"link[{link['link'].values[i]}]",
                                    f"src = dst = {link['src'].values[i]}", expected="two different sites"))
        for kind in ("site", "device"):
            ds = self[kind]
            if "lon" not in ds or "lat" not in ds or ds.sizes.get(kind, 0) == 0:
                continue
            o = origins.get(kind, Origin())
            country = ds["country"].values if "country" in ds else None
            for i, (lon, lat) in enumerate(zip(ds["lon"].values, ds["lat"].values, strict=True)):
                box = _country_box(country[i]) if country is not None and country[i] else None
                if box is None or not (np.isfinite(lon) and np.isfinite(lat)):
                    continue
                if not _inside(box, lon, lat) and _inside(box, lat, lon):
                    problems.append(Problem(f"lon and lat look swapped: ({lat}, {lon}) lies in {country[i]}, "
                                            f"({lon}, {lat}) does not", o.file, o.line(i),
                                            f"{kind}[{ds[kind].values[i]}].lon/lat", f"lon {lon}, lat {lat}",
                                            expected=f"lon {lat}, lat {lon}"))
        inv = self["inventory"]
        o = origins.get("inventory", Origin())
        chip_ids = set(self["chip"]["chip"].values.tolist())
        dangling = False
        for dim, valid in (("site", site_ids), ("chip", chip_ids)):
            if dim in skip:
                dangling = True
                continue
            for v in inv[dim].values:
                if v not in valid:
                    dangling = True
                    what = "the chip catalogue" if dim == "chip" else "the sites"
                    problems.append(Problem(f"inventory of {dim} {v!r}, which is not in {what}"
                                            f"{did_you_mean(v, valid)}", o.file,
                                            (inventory_lines or {}).get((dim, str(v))), f"inventory.{dim}", str(v),
                                            expected=f"a {dim} id"))
        if not dangling and inv.sizes.get("site", 0):
            # align the inventory to the full site x chip grid (absent pairs = 0 chips)
            full = inv.reindex(site=self["site"]["site"].values, chip=self["chip"]["chip"].values, fill_value=0)
            for n in full.data_vars:
                full[n].attrs = inv[n].attrs
            full.attrs = inv.attrs
            self._tables["inventory"] = _frozen(full)
        elif not inv.sizes.get("site", 0):
            specs = (schema if schema is not None else get_plugin_manager().schema).attrs("inventory")
            grid = xr.Dataset(
                {n: (("site", "chip"), np.full((self["site"].sizes["site"], self["chip"].sizes["chip"]),
                                               s.default_value()), inv[n].attrs) for n, s in specs.items()},
                coords={"site": self["site"]["site"].values, "chip": self["chip"]["chip"].values}, attrs=inv.attrs)
            self._tables["inventory"] = _frozen(grid)
        return problems

    # -- access ------------------------------------------------------------------------------------
    @property
    def parameters(self) -> ReadOnlyParameters:
        """Scenario-wide parameters, name -> value in the parameter's unit (read-only view).

        Change them with :meth:`with_parameters`, which checks units and ranges and returns a new scenario.
        """
        return ReadOnlyParameters(self._parameters)

    def __getitem__(self, kind: str) -> xr.Dataset:
        """One table as an ``xr.Dataset``: a shallow copy whose arrays are read-only.

        Assigning a variable, ``update``, or changing ``attrs`` of the returned dataset changes the copy,
        never the scenario; writing into an array raises. Build a changed table and pass it to
        :meth:`with_table` for a new scenario.
        """
        try:
            table = self._tables[kind]
        except KeyError:
            raise KeyError(f"scenario {self.name!r} has no kind {kind!r}; kinds: {', '.join(self._tables)}") from None
        return table.copy(deep=False)  # new Dataset, Variables and attrs dicts; the (read-only) arrays shared

    def __contains__(self, kind: str) -> bool:
        return kind in self._tables

    @property
    def kinds(self) -> list[str]:
        return list(self._tables)

    site = property(lambda self: self["site"], doc="Sites table (``xr.Dataset`` over ``site``).")
    link = property(lambda self: self["link"], doc="Links table (``xr.Dataset`` over ``link``).")
    chip = property(lambda self: self["chip"], doc="Chip catalogue (``xr.Dataset`` over ``chip``).")
    agent = property(lambda self: self["agent"], doc="Agents table.")
    device = property(lambda self: self["device"], doc="Device groups table.")

    @property
    def inventory(self) -> xr.DataArray:
        """Chips installed per site and chip type (``site x chip``)."""
        return self._tables["inventory"]["installed"].copy(deep=False)

    def to_frame(self, kind: str) -> pd.DataFrame:
        """One kind as a pandas DataFrame (index = ids)."""
        ds = self[kind]
        if len(ds.dims) > 1:
            return ds.to_dataframe()
        return ds.to_dataframe()

    def compute_sites(self) -> xr.DataArray:
        """Boolean over ``site``: sites with at least one accelerator installed."""
        has = self.inventory.sum("chip") > 0
        has.attrs = {"long_name": "site has compute", "units": "1"}
        return has

    def site_compute_flops(self, dtype: str = "bf16") -> xr.DataArray:
        """Installed dense throughput per site [FLOP/s] (``dtype`` in bf16, fp8, fp4)."""
        flops = (self.inventory * self._tables["chip"][f"{dtype}_flops"].fillna(0)).sum("chip")
        flops.attrs = {"units": "FLOP/s", "long_name": f"installed dense {dtype.upper()} throughput"}
        return flops

    # -- derived scenarios ----------------------------------------------------------------------
    def copy(self) -> Scenario:
        """A new scenario sharing the (read-only) table data."""
        new = Scenario(dict(self._tables), name=self.name, description=self.description,
                       parameters=dict(self.parameters), attrs=dict(self.attrs))
        new._parameter_specs = dict(self._parameter_specs)
        new._snapshots, new._weights, new._series = self._snapshots, self._weights, dict(self._series)
        return new

    def _set(self, kind: str, table: xr.Dataset) -> None:
        self._tables[kind] = _frozen(table)

    def with_table(self, kind: str, table: xr.Dataset) -> Scenario:
        """A new scenario with one table replaced (no re-validation; call :meth:`validate`).

        Tables are read-only: build the new one with ``table.assign(pue=...)`` or from
        ``table.copy(deep=True)``.
        """
        new = self.copy()
        new._set(kind, table)
        new._realign_series()
        return new

    def with_parameters(self, **parameters: Any) -> Scenario:
        """A new scenario with parameters changed: numbers in the parameter's unit, or text with a unit.

        Checked against each parameter's range; numbers need no plugin manager (this runs in Dask tasks).
        """
        problems: list[Problem] = []
        values: dict[str, float] = {}
        for key, value in parameters.items():
            spec = self._parameter_specs.get(key)
            if spec is None:
                problems.append(Problem(f"unknown parameter {key!r}{did_you_mean(key, self._parameter_specs)}",
                                        self.name, None, f"parameters.{key}",
                                        expected=f"one of {', '.join(self._parameter_specs)}"))
                continue
            try:
                if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
                    v = float(value)
                else:
                    rates = get_plugin_manager().schema.exchange_rates(self.parameters)
                    v = get_plugin_manager().units.parse_quantity(value, spec.unit, rates)
            except (UnitError, TypeError, ValueError) as err:
                problems.append(Problem(f"not a number: {err}", self.name, None, f"parameters.{key}", str(value),
                                        expected=f"a number in {spec.unit}"))
                continue
            problem = _parameter_value_problem(spec, v, self.name, None, str(value))
            if problem is not None:
                problems.append(problem)
                continue
            values[key] = v
        if problems:
            raise ScenarioError(problems, self.name)
        new = self.copy()
        new._parameters.update(values)
        return new

    def with_inventory(self, installed: xr.DataArray | np.ndarray) -> Scenario:
        """A new scenario with the ``site x chip`` chip counts replaced."""
        table = self["inventory"].copy()
        table["installed"] = (("site", "chip"), np.asarray(installed, dtype=float), table["installed"].attrs)
        return self.with_table("inventory", table)

    def with_rows(self, kind: str, rows, *, units: Mapping[str, str | None] | None = None,
                  replace: bool = False) -> Scenario:
        """A new scenario with rows added to (or, with ``replace=True``, replacing rows of) one table.

        ``rows`` is a DataFrame or a list of dicts with an ``id`` column, validated against the schema
        like a scenario file (units converted, defaults filled, references checked). New sites get no
        chips in the inventory. Editing the backbone is one call::

            sc2 = sc.with_rows("link", [{"id": "new", "src": "pop-xinyi", "dst": "hub-guangzhou"}])

        Raises :class:`~workbench.errors.ScenarioError` listing every problem.
        """
        if kind == "inventory" or kind not in self._tables:
            raise ScenarioError([Problem(f"with_rows works on the one-dimensional tables: "
                                         f"{', '.join(k for k in self.kinds if k != 'inventory')}", "", None, kind)],
                                kind)
        frame = rows.copy() if isinstance(rows, pd.DataFrame) else pd.DataFrame(list(rows))
        new_table = build_table(kind, frame, units=units, origin=Origin(file=f"with_rows({kind!r})"))
        old = self[kind]
        ids = new_table[kind].values.tolist()
        clash = sorted(set(ids) & set(old[kind].values.tolist()))
        if clash and not replace:
            raise ScenarioError([Problem(f"{kind} id already exists (pass replace=True to replace it)", "", None,
                                         f"{kind}.id", c) for c in clash], kind)
        if clash:
            old = old.drop_sel({kind: clash})
        merged = xr.concat([old, new_table], dim=kind, data_vars="all", coords="minimal", compat="override",
                           join="outer", combine_attrs="override") if old.sizes.get(kind, 0) else new_table
        for name in merged.variables:
            src = old if name in old.variables else new_table
            merged[name].attrs = dict(src[name].attrs)
        new = self.copy()
        new._set(kind, merged)
        if kind == "site":   # new sites: no chips (the grid is rebuilt by the reference check below)
            inventory = self["inventory"].reindex(site=merged["site"].values, fill_value=0)
            for n in inventory.data_vars:
                inventory[n].attrs = self["inventory"][n].attrs
            new._set("inventory", inventory)
        problems = new._cross_problems({})
        if problems:
            raise ScenarioError(problems, f"with_rows({kind!r})")
        new._realign_series(reset={kind: clash})  # new and replaced rows: their static value at every snapshot
        return new

    def drop_rows(self, kind: str, ids: Sequence[str] | str) -> Scenario:
        """A new scenario without the given rows. Dropping sites also drops their links and chips."""
        ids = [ids] if isinstance(ids, str) else list(ids)
        have = self[kind][kind].values.tolist()
        missing = [i for i in ids if i not in have]
        if missing:
            raise KeyError(f"no {kind} {missing} in scenario {self.name!r}")
        if kind == "site":
            return self.select_sites([s for s in have if s not in set(ids)])
        new = self.copy()
        new._set(kind, self[kind].drop_sel({kind: ids}))
        new._realign_series()
        return new

    def select_sites(self, sites: Sequence[str] | np.ndarray | xr.DataArray) -> Scenario:
        """Keep the given sites (ids or a boolean mask), the links among them, their inventory and agents.

        A device group whose ``access_site`` is removed enters at its nearest kept access site (blank).
        """
        ids = self["site"]["site"].values
        if isinstance(sites, xr.DataArray):
            sites = sites.values
        sites = np.asarray(sites)
        keep = ids[sites] if sites.dtype == bool else sites
        keep_set = set(keep.tolist())
        new = self.copy()
        new._set("site", self["site"].sel(site=keep))
        links = self["link"]
        mask = np.array([s in keep_set and d in keep_set for s, d in zip(links.src.values, links.dst.values,
                                                                          strict=True)], dtype=bool)
        new._set("link", links.isel(link=np.flatnonzero(mask)))
        new._set("inventory", self["inventory"].sel(site=keep))
        agent = self["agent"]  # agents at removed sites go with them; devices enter at their nearest kept site
        new._set("agent", agent.isel(agent=np.flatnonzero([s == "" or s in keep_set for s in agent["site"].values])))
        device = self["device"]
        if "access_site" in device:
            device = device.assign(access_site=device["access_site"].copy(
                data=np.array([s if s in keep_set else "" for s in device["access_site"].values], dtype=object)))
            new._set("device", device)
        new._realign_series()
        return new

    # -- the time axis ----------------------------------------------------------------------------
    @property
    def snapshots(self) -> pd.DatetimeIndex | None:
        """The time axis: naive ``DatetimeIndex`` (local standard time of the scenario) named ``snapshot``,
        or None for a static scenario."""
        return None if self._snapshots is None else self._snapshots.copy()

    @property
    def snapshot_weight(self) -> xr.DataArray | None:
        """Hours each snapshot stands for, over ``snapshot`` [h] (None without a time axis)."""
        if self._snapshots is None:
            return None
        weights = self._weights.copy()
        return xr.DataArray(weights, dims="snapshot", name="weight", attrs=dict(_ts.WEIGHT_ATTRS),
                            coords={"snapshot": ("snapshot", self._snapshots, dict(_ts.SNAPSHOT_ATTRS))})

    @property
    def time_varying(self) -> dict[str, list[str]]:
        """The attributes that have a time series, kind -> attribute names (empty without one)."""
        return {k: [str(n) for n in ds.data_vars] for k, ds in self._series.items() if ds.data_vars}

    def _attribute(self, kind: str, attribute: str) -> xr.DataArray:
        table = self[kind]
        if attribute not in table.data_vars:
            raise KeyError(f"kind {kind!r} has no attribute {attribute!r}{did_you_mean(attribute, table.data_vars)}")
        return table[attribute]

    def timeseries(self, kind: str, attribute: str) -> xr.DataArray | None:
        """The time series of one attribute over ``(snapshot, <kind>)``, or None when it has none.

        The values are in the attribute's canonical unit (``attrs["units"]``); the array is read-only.
        """
        static = self._attribute(kind, attribute)
        ds = self._series.get(kind)
        if ds is None or attribute not in ds.data_vars:
            return None
        out = ds[attribute].copy(deep=False)
        out.attrs = dict(static.attrs)
        return out

    def varying(self, kind: str, attribute: str, snapshots: pd.DatetimeIndex | Sequence | None = None) -> xr.DataArray:
        """One attribute over ``(snapshot, <kind>)``: its time series, or its static value at every snapshot.

        Parameters
        ----------
        snapshots : DatetimeIndex or sequence, optional
            The snapshots wanted. Default: the scenario's. A time series is selected at them (each must
            be one of the scenario's); a static value is broadcast over them.

        Raises
        ------
        ValueError
            When the scenario has no snapshots and none are given, or a snapshot is not the scenario's.
        """
        static = self._attribute(kind, attribute)
        series = self.timeseries(kind, attribute)
        if snapshots is not None:
            problems: list[Problem] = []
            wanted = _ts.parse_snapshots(snapshots, problems, field="snapshots", require_sorted=False)
            if wanted is None:
                raise ValueError("; ".join(str(p) for p in problems[:5]))
        elif self._snapshots is not None:
            wanted = self._snapshots
        else:
            raise ValueError(f"scenario {self.name!r} has no snapshots: give snapshots=... to broadcast "
                             f"{kind}.{attribute} over, or build the time axis with with_snapshots()")
        if series is not None:
            if wanted is not self._snapshots:
                missing = wanted[self._snapshots.get_indexer(wanted) < 0]
                if len(missing):
                    raise ValueError(f"{kind}.{attribute} has a time series; {len(missing)} of the snapshots asked "
                                     f"for are not the scenario's (first: {missing[0]})")
                series = series.sel(snapshot=wanted)
            return series
        coord = xr.DataArray(wanted, dims="snapshot", attrs=dict(_ts.SNAPSHOT_ATTRS))
        out = static.expand_dims(snapshot=len(wanted)).assign_coords(snapshot=coord)
        out.attrs = dict(static.attrs)
        return out

    def _static_values(self, kind: str, attribute: str) -> np.ndarray:
        return np.asarray(self._tables[kind][attribute].values)

    def _series_dataset(self, kind: str, arrays: Mapping[str, np.ndarray]) -> xr.Dataset:
        table = self._tables[kind]
        coords = {"snapshot": ("snapshot", self._snapshots, dict(_ts.SNAPSHOT_ATTRS)),
                  kind: (kind, table[kind].values, dict(table[kind].attrs))}
        ds = xr.Dataset({name: (("snapshot", kind), arr, dict(table[name].attrs)) for name, arr in arrays.items()},
                        coords=coords, attrs={"kind": kind})
        return _frozen(ds)

    def _realign_series(self, reset: Mapping[str, Sequence[str]] | None = None) -> None:
        """Make every time series match its table again (in place; only on a fresh copy).

        Rows no longer in the table are dropped, rows new to it (and those in ``reset``) take their
        static value at every snapshot, attributes no longer in the table lose their series.
        """
        reset = reset or {}
        for kind, ds in list(self._series.items()):
            table = self._tables.get(kind)
            if table is None:
                del self._series[kind]
                continue
            ids = np.asarray(table[kind].values)
            names = [n for n in ds.data_vars if n in table.data_vars]
            if (not reset.get(kind) and len(names) == len(ds.data_vars) and len(ids) == ds.sizes[kind]
                    and np.array_equal(ids, ds[kind].values)):
                continue
            pos = pd.Index(ds[kind].values).get_indexer(ids)
            if reset.get(kind):
                pos[np.isin(ids, list(reset[kind]))] = -1
            have = pos >= 0
            arrays = {}
            for name in names:
                static = self._static_values(kind, name)
                arr = np.array(np.broadcast_to(static[None, :], (len(self._snapshots), len(ids))))
                arr[:, have] = ds[name].values[:, pos[have]]
                arrays[name] = arr
            if arrays:
                self._series[kind] = self._series_dataset(kind, arrays)
            else:
                del self._series[kind]

    def with_snapshots(self, index: pd.DatetimeIndex | Sequence, weights: Any = None) -> Scenario:
        """A new scenario with a time axis (or another one).

        Parameters
        ----------
        index : DatetimeIndex or sequence of datetime64 / ISO 8601 text
            The snapshots: naive local standard time of the scenario, increasing, each once.
        weights : number or sequence, optional
            Hours each snapshot stands for [h], finite and > 0. Default: 1 h each for an hourly-regular
            index, else the time to the next snapshot, the last one the median step.

        Existing time series are kept when every new snapshot is one of the old ones (a selection);
        otherwise it is an error (``without_time()`` first, or give the series again).

        Raises
        ------
        ScenarioError
            Duplicate, unsorted, unparseable or time-zone aware snapshots; weights not finite and > 0;
            series that cannot follow the new snapshots.
        """
        problems: list[Problem] = []
        file = "with_snapshots()"
        stamps = _ts.parse_snapshots(index, problems, file=file)
        w = None
        if stamps is not None:
            w = (_ts.default_weights(stamps) if weights is None
                 else _ts.check_weights(weights, len(stamps), problems, file=file))
            uneven = _ts.uneven_problem(stamps, file, "weights") if weights is None else None
            if uneven is not None:
                problems.append(uneven)
        if stamps is not None and self._series and self._snapshots is not None:
            missing = stamps[self._snapshots.get_indexer(stamps) < 0]
            if len(missing):
                varying = ", ".join(f"{k}.{n}" for k, names in self.time_varying.items() for n in names)
                problems.append(Problem(f"the time series of {varying} have no value at {len(missing):,} of the new "
                                        f"snapshots (first: {missing[0]})", file, None, "snapshots",
                                        expected="snapshots among the current ones, or call without_time() first",
                                        root=True))
        if problems:
            raise ScenarioError(problems, file)
        new = self.copy()
        new._snapshots = stamps
        w = np.asarray(w, dtype=float).copy()
        w.flags.writeable = False
        new._weights = w
        if self._series:
            pos = self._snapshots.get_indexer(stamps)
            new._series = {k: _frozen(ds.isel(snapshot=pos).assign_coords(
                snapshot=("snapshot", stamps, dict(_ts.SNAPSHOT_ATTRS)))) for k, ds in self._series.items()}
        return new

    def without_time(self) -> Scenario:
        """A new scenario without snapshots and time series (the static tables unchanged)."""
        new = self.copy()
        new._snapshots, new._weights, new._series = None, None, {}
        return new

    def with_series(self, kind: str, attribute: str, values: xr.DataArray | pd.DataFrame,
                    units: str | Mapping[str, str] | None = None) -> Scenario:
        """A new scenario with a time series for one attribute (declared ``varies_in_time`` in the schema).

        Parameters
        ----------
        kind, attribute : str
            E.g. ``"site", "power_price"``.
        values : DataArray over (snapshot, <kind>) or DataFrame
            A DataFrame is indexed by snapshot with one column per id; headers may carry the unit as in
            CSV files (``"hub-beijing [CNY/MWh]"``). The snapshots must be the scenario's (any order).
            Ids not given, and NaN values, take the row's static value.
        units : str or mapping id -> unit, optional
            The unit of the values (default: ``values.attrs["units"]`` of a DataArray, the header
            units of a DataFrame, else the attribute's canonical unit); converted like table columns.

        Raises
        ------
        ScenarioError
            No snapshots; unknown kind, attribute or id; an attribute that does not vary in time; a
            wrong unit; values that are not numbers, not finite or out of range (naming snapshot and id).
        """
        file = f"with_series({kind!r}, {attribute!r})"
        if isinstance(values, xr.DataArray):
            if set(values.dims) != {"snapshot", kind}:
                raise ScenarioError([Problem(f"values have dimensions {list(values.dims)}", file, None,
                                             f"timeseries.{kind}.{attribute}",
                                             expected=f"dimensions ('snapshot', {kind!r})", root=True)], file)
            values = values.transpose("snapshot", kind)
            default_unit = values.attrs.get("units")
            frame = pd.DataFrame(values.values, index=values["snapshot"].values if "snapshot" in values.coords else
                                 np.arange(values.sizes["snapshot"]),
                                 columns=values[kind].values if kind in values.coords else None)
        elif isinstance(values, pd.DataFrame):
            frame, default_unit = values, None
        else:
            raise TypeError(f"values must be an xr.DataArray over (snapshot, {kind}) or a pandas DataFrame indexed "
                            f"by snapshot, not {type(values).__name__}")
        columns, column_units = [], []
        for col in frame.columns:
            name, unit = _units.split_header(str(col)) if isinstance(col, str) else (str(col), None)
            given = units.get(name) if isinstance(units, Mapping) else units
            if unit is not None and given not in (None, "", unit):
                raise ScenarioError([Problem(f"two units for column {name!r}: {given!r} and {unit!r} in the header",
                                             file, None, f"timeseries.{kind}.{attribute}", unit, root=True)], file)
            columns.append(name)
            column_units.append(unit or given or default_unit)
        new, problems = self._with_series_checked(kind, attribute, frame.to_numpy(), columns, column_units,
                                                  frame.index, file=file)
        if problems:
            raise ScenarioError(problems, file)
        return new

    def _with_series_checked(self, kind: str, attribute: str, values: np.ndarray, columns: Sequence[str],
                             column_units: Sequence[str | None], snapshot_labels: Any, *, file: str,
                             field: str = "", lines: Sequence[int | None] | None = None,
                             header_line: int | None = None, unit_lines: Mapping[str, int | None] | None = None,
                             schema: Schema | None = None) -> tuple[Scenario | None, list[Problem]]:
        """Check one attribute's series (every format comes through here); (new scenario, []) or (None, problems)."""
        field = field or f"timeseries.{kind}.{attribute}"
        problems: list[Problem] = []
        if self._snapshots is None:
            return None, [Problem("the scenario has no snapshots: give them first (with_snapshots, or a "
                                  "'snapshots:' block in a scenario file)", file, None, field,
                                  expected="a scenario with snapshots", root=True)]
        schema = schema if schema is not None else get_plugin_manager().schema
        spec_kind = schema.kinds.get(kind)
        if kind not in self._tables or spec_kind is None:
            return None, [Problem(f"unknown component kind {kind!r}{did_you_mean(kind, self.kinds)}", file, None,
                                  field, kind, expected=f"one of {', '.join(self.kinds)}", root=True)]
        if len(spec_kind.dims) != 1:
            return None, [Problem(f"time series of {kind!r} (a table over {' x '.join(spec_kind.dims)}) are not "
                                  "supported", file, None, field, expected="a one-dimensional kind", root=True)]
        spec = schema.attributes[kind].get(attribute)
        if spec is None or attribute not in self._tables[kind].data_vars:
            varying = [n for n, a in schema.attributes[kind].items() if a.varies_in_time]
            return None, [Problem(f"unknown attribute {attribute!r} of kind {kind!r}{did_you_mean(attribute, varying)}",
                                  file, None, field, attribute,
                                  expected=f"one of the time-varying attributes {', '.join(varying) or '(none)'}",
                                  root=True)]
        given = _ts.parse_snapshots(np.asarray(snapshot_labels), problems, file=file, field=f"{field}.snapshot",
                                    lines=lines, require_sorted=False)
        order = None if given is None else _ts.align_snapshots(given, self._snapshots, problems, file=file,
                                                                 field=f"{field}.snapshot", lines=lines)
        if order is None:
            return None, problems
        values = np.asarray(values)
        if values.ndim == 2:
            values = values[order]
        lines_in_order = None if lines is None else [lines[i] for i in order]
        table = self._tables[kind]
        out = _ts.build_series(kind, spec, values, columns, column_units, np.asarray(table[kind].values),
                               self._static_values(kind, attribute), self._snapshots, problems,
                               registry=schema.units, rates=schema.exchange_rates(self._parameters), file=file,
                               field=field, lines=lines_in_order, header_line=header_line, unit_lines=unit_lines)
        if out is None:
            return None, problems
        new = self.copy()
        arrays = {str(n): new._series[kind][n].values for n in new._series[kind].data_vars} if kind in new._series \
            else {}
        arrays[attribute] = out
        new._series[kind] = new._series_dataset(kind, arrays)
        return new, []

    def at(self, t: int | str | pd.Timestamp | np.datetime64) -> Scenario:
        """The static scenario at one snapshot: time-varying attributes take their value at ``t``.

        ``t`` is a snapshot (a Timestamp, ``datetime64`` or ISO text that must be one of the
        scenario's) or an integer position (negative counts from the end). Everything else is
        identical; the result has no time axis.
        """
        if self._snapshots is None:
            raise ValueError(f"scenario {self.name!r} has no snapshots")
        n = len(self._snapshots)
        if isinstance(t, (int, np.integer)) and not isinstance(t, (bool, np.bool_)):
            if not -n <= t < n:
                raise IndexError(f"snapshot position {t} out of range for {n} snapshots")
            i = int(t) % n
        else:
            try:
                i = self._snapshots.get_loc(pd.Timestamp(t))
            except (KeyError, ValueError, TypeError):
                raise KeyError(f"{t!r} is not a snapshot of scenario {self.name!r} ({n} snapshots, "
                               f"{self._snapshots[0]} .. {self._snapshots[-1]})") from None
            if not isinstance(i, (int, np.integer)):
                raise KeyError(f"{t!r} matches more than one snapshot")
        new = self.without_time()
        for kind, ds in self._series.items():
            table = self._tables[kind].copy(deep=False)
            for name in ds.data_vars:
                table[name] = table[name].copy(data=np.array(ds[name].values[i]))
            new._set(kind, table)
        return new

    def _time_text(self) -> str:
        """One line about the time axis ("" without one)."""
        if self._snapshots is None:
            return ""
        s = self._snapshots
        varying = ", ".join(f"{k}.{n}" for k, names in self.time_varying.items() for n in names) or "none"
        return (f"{len(s):,} snapshots, {_ts._label(s[0])} .. {_ts._label(s[-1])}, "
                f"{float(np.sum(self._weights)):,.6g} h in total; time series: {varying}")

    # -- validation -----------------------------------------------------------------------------
    def validate(self, strict: bool = False, builtin: bool = True) -> list[Problem]:
        """Cross-table consistency checks plus every plugin's ``workbench_validate``.

        Returns the problems; with ``strict=True`` raises :class:`ScenarioError` if there are any.
        """
        problems = [*self._parameter_problems(), *self._range_problems(), *self._cross_problems({})] if builtin else []
        for result in get_plugin_manager().hook.workbench_validate(scenario=self):
            problems.extend(result or ())
        if strict and problems:
            raise ScenarioError(problems, self.name)
        return problems

    def _parameter_problems(self) -> list[Problem]:
        """Parameters that are unknown, NaN where NaN does not mean "not set", or outside their range
        (a scenario built directly with ``Scenario(tables, parameters=...)`` is not checked on the way in)."""
        problems = []
        for key, value in self._parameters.items():
            spec = self._parameter_specs.get(key)
            if spec is None:
                problems.append(Problem(f"unknown parameter {key!r}{did_you_mean(key, self._parameter_specs)}",
                                        field=f"parameters.{key}", value=str(value),
                                        expected=f"one of {', '.join(self._parameter_specs)}"))
                continue
            problem = _parameter_value_problem(spec, value, "", None, str(value))
            if problem is not None:
                problems.append(problem)
        return problems

    def _range_problems(self) -> list[Problem]:
        """Values outside their attribute's range (tables replaced with :meth:`with_table` are not re-checked
        on the way in; :meth:`validate` checks them here)."""
        schema = get_plugin_manager().schema
        problems = []
        for kind in self.kinds:
            ds = self[kind]
            for name, spec in schema.attributes.get(kind, {}).items():
                if name not in ds or spec.dtype not in ("float", "int") or (
                        spec.min is None and spec.max is None and spec.infinite):
                    continue
                values = ds[name].values
                bad = spec.out_of_range(values) | (np.isinf(values) if not spec.infinite else False)
                for idx in zip(*np.nonzero(bad), strict=True):
                    ident = "/".join(str(ds[d].values[i]) for d, i in zip(ds[name].dims, idx, strict=True))
                    problems.append(Problem("out of range" if np.isfinite(values[idx]) else "not a finite number",
                                            field=f"{kind}[{ident}].{name}", value=str(values[idx]),
                                            expected=f"{spec.range_text()} {spec.unit or '1'}".strip()))
        return problems

    # -- summaries --------------------------------------------------------------------------------
    def summary(self) -> pd.DataFrame:
        """One row per kind: rows, attributes, and the kind's description.

        With a time axis, column ``time_series`` names each kind's time-varying attributes and a last row
        ``snapshots`` gives the number of snapshots and, as its description, first/last and total hours.
        """
        rows = []
        varying = self.time_varying
        for kind, ds in self._tables.items():
            row = {"kind": kind, "rows": int(np.prod([ds.sizes[d] for d in ds.dims])) if ds.dims else 0,
                   "attributes": len(ds.data_vars), "description": ds.attrs.get("description", "")}
            if self._snapshots is not None:
                row["time_series"] = ", ".join(varying.get(kind, []))
            rows.append(row)
        if self._snapshots is not None:
            rows.append({"kind": "snapshots", "rows": len(self._snapshots), "attributes": 1,
                         "description": "time axis: " + self._time_text().split("; time series")[0],
                         "time_series": ""})
        return pd.DataFrame(rows).set_index("kind")

    def totals(self) -> dict[str, float]:
        """Headline totals: sites, links, chips installed, BF16 PFLOP/s, HBM TB, population."""
        return {
            "sites": int(self["site"].sizes["site"]),
            "sites_with_compute": int(self.compute_sites().sum()),
            "links": int(self["link"].sizes["link"]),
            "chips_installed": float(self.inventory.sum()),
            "bf16_pflops": float(self.site_compute_flops().sum()) / 1e15,
            "device_groups": int(self["device"].sizes["device"]),
            "endpoints": float(self["device"]["endpoints"].sum()),
        }

    def __repr__(self) -> str:
        sizes = ", ".join(f"{k}={int(np.prod(list(v.sizes.values())) if v.sizes else 0)}" for k, v in self._tables.items())
        time = f", snapshots={len(self._snapshots)}" if self._snapshots is not None else ""
        return f"<Scenario {self.name!r}: {sizes}{time}>"

    def _repr_html_(self) -> str:
        esc = html.escape
        t = self.totals()
        head = (f"<div class='wb-scenario'><h4 style='margin:0'>Scenario <code>{esc(self.name)}</code></h4>"
                f"<p style='margin:2px 0'>{esc(self.description)}</p>"
                f"<p style='margin:2px 0'>{t['sites']} sites ({t['sites_with_compute']} with compute), "
                f"{t['links']} links, {t['chips_installed']:,.0f} accelerators = {t['bf16_pflops']:,.1f} "
                f"BF16 PFLOP/s dense, {t['device_groups']} device groups ({t['endpoints']:,.0f} endpoints)</p>")
        if self._snapshots is not None:
            head += f"<p style='margin:2px 0'>time axis: {esc(self._time_text())}</p>"
        params = "".join(f"<li><code>{esc(k)}</code> = {v}</li>" for k, v in self.parameters.items())
        parts = [head, f"<details><summary>parameters</summary><ul>{params}</ul></details>"]
        try:
            specs = get_plugin_manager().schema.attributes
        except Exception:  # noqa: BLE001 - a display must not fail for want of a plugin manager
            specs = {}
        varying = self.time_varying

        def varies(kind: str, name: str) -> str:
            if name in varying.get(kind, ()):
                return "yes (series)"
            spec = specs.get(kind, {}).get(name)
            return "yes" if spec is not None and spec.varies_in_time else ""

        for kind, ds in self._tables.items():
            n = int(np.prod(list(ds.sizes.values()))) if ds.sizes else 0
            frame = self.to_frame(kind)
            if kind == "inventory":
                frame = frame[frame["installed"] > 0]
            cols = "".join(f"<tr><td><code>{esc(v)}</code></td><td>{esc(ds[v].attrs.get('units', ''))}</td>"
                           f"<td>{esc(ds[v].attrs.get('description', ''))}</td>"
                           f"<td>{esc(varies(kind, str(v)))}</td>"
                           f"<td>{esc(ds[v].attrs.get('provided_by', ''))}</td></tr>" for v in ds.data_vars)
            parts.append(
                f"<details><summary><b>{esc(kind)}</b> ({n} rows, {len(ds.data_vars)} attributes) "
                f"&mdash; {esc(ds.attrs.get('description', ''))}</summary>"
                f"<table><tr><th>attribute</th><th>units</th><th>description</th><th>varies in time</th>"
                f"<th>provided by</th></tr>{cols}"
                f"</table>{frame.head(10).to_html(max_cols=12, float_format=lambda x: f'{x:.4g}')}</details>")
        return "".join(parts) + "</div>"

    # -- persistence ------------------------------------------------------------------------------
    def to_datatree(self) -> xr.DataTree:
        """All tables as an ``xr.DataTree`` (groups ``/site``, ``/link``, ...).

        With a time axis also ``/snapshots`` (coordinate ``snapshot``, variable ``weight`` [h]) and
        ``/timeseries/<kind>`` (one variable per time-varying attribute over ``snapshot x <kind>``);
        the root's ``workbench_format`` is then 2.
        """
        timed = self._snapshots is not None
        root = xr.Dataset(attrs={"name": self.name, "description": self.description,
                                 "parameters_json": json.dumps(dict(self._parameters), sort_keys=True),
                                 "attrs_json": json.dumps(self.attrs, sort_keys=True, default=str),
                                 "workbench_format": FORMAT_VERSION_TIME if timed else FORMAT_VERSION,
                                 "kinds": json.dumps(self.kinds)})
        groups = {"/": root, **{f"/{k}": v for k, v in self._tables.items()}}
        if timed:
            groups["/snapshots"] = self.snapshot_weight.to_dataset()
            groups.update({f"/timeseries/{k}": ds for k, ds in self._series.items()})
        return xr.DataTree.from_dict(groups)

    @classmethod
    def from_datatree(cls, tree: xr.DataTree, *, source: str = "", schema: Schema | None = None) -> Scenario:
        """Read a scenario tree (as written by :meth:`to_datatree`), through :meth:`from_tables`.

        A NetCDF or Zarr scenario therefore gets exactly the checks and messages of a YAML one
        (ranges, required attributes, references, plugin checks), naming ``source`` as the file and
        ``kind[id].attribute`` as the field.
        """
        schema = schema if schema is not None else get_plugin_manager().schema
        file = source or "<datatree>"
        attrs = dict(tree.attrs)
        problems: list[Problem] = []
        fmt = attrs.get("workbench_format")
        if fmt is None:
            raise ScenarioError([Problem("not a workbench scenario: the root group has no 'workbench_format' "
                                         "attribute", file, field="/", expected="a file written by Scenario.to_netcdf "
                                         "or to_zarr", root=True)], file)
        try:
            if int(fmt) not in (FORMAT_VERSION, FORMAT_VERSION_TIME):
                raise ValueError(fmt)
            kinds = json.loads(attrs.get("kinds", "[]")) or [c for c in tree.children
                                                             if c not in ("snapshots", "timeseries")]
            parameters = json.loads(attrs.get("parameters_json", "{}"))
            extra = json.loads(attrs.get("attrs_json", "{}"))
            if not isinstance(kinds, list) or not isinstance(parameters, dict) or not isinstance(extra, dict):
                raise ValueError("kinds, parameters or attrs of the wrong type")
        except (ValueError, TypeError) as err:
            raise ScenarioError([Problem(f"unreadable workbench scenario attributes: {err}", file, field="/",
                                         expected=f"workbench_format {FORMAT_VERSION} with JSON kinds, parameters_json "
                                         "and attrs_json", root=True)], file) from None
        tables: dict[str, pd.DataFrame] = {}
        units: dict[str, dict[str, str | None]] = {}
        for kind in kinds:
            if kind not in tree.children:
                problems.append(Problem(f"group /{kind} listed in 'kinds' is missing", file, field=f"/{kind}",
                                        root=True))
                continue
            ds = tree[kind].to_dataset()
            spec_attrs = schema.attributes.get(kind, {})
            for name in list(ds.data_vars):
                if kind in schema.kinds and name not in spec_attrs and ds[name].attrs.get("provided_by"):
                    problems.append(Problem(f"attribute {name!r} was written by plugin {ds[name].attrs['provided_by']}, "
                                            "which is not active", file, field=f"{kind}.{name}",
                                            expected="the plugin installed (see `workbench plugins`)", root=True))
                    ds = ds.drop_vars(name)
            dims = schema.kinds[kind].dims if kind in schema.kinds else tuple(ds.dims)
            if any(d not in ds.dims and ds.sizes for d in dims):
                problems.append(Problem(f"group /{kind} has dimensions {list(ds.dims)}", file, field=f"/{kind}",
                                        expected=f"dimensions {list(dims)}", root=True))
                continue
            # a variable over another dimension would be spread over kind x that dimension by to_dataframe
            # (a small file could ask for billions of rows): refuse it before
            foreign = [str(n) for n in ds.variables if set(ds[n].dims) - set(dims)]
            if foreign:
                for name in foreign:
                    problems.append(Problem(f"variable {name!r} of group /{kind} has dimensions "
                                            f"{list(map(str, ds[name].dims))}, not those of kind {kind!r}", file,
                                            field=f"{kind}.{name}", expected=f"dimensions within {list(dims)}",
                                            root=True))
                continue
            frame = ds.to_dataframe().reset_index() if ds.sizes else pd.DataFrame(
                {c: pd.Series([], dtype=object) for c in [*dims, *ds.data_vars]})
            if len(dims) == 1:
                frame = frame.rename(columns={dims[0]: "id"})
            for col in frame.columns:
                if frame[col].dtype.kind in "OSUT" or (col in spec_attrs and spec_attrs[col].dtype == "str") \
                        or col in ("id", *dims):
                    frame[col] = [v.decode("utf-8", "replace") if isinstance(v, bytes) else
                                  (None if _is_blank(v) else str(v) if not isinstance(v, str) else v)
                                  for v in frame[col].tolist()]
            tables[kind] = frame.astype(object)
            units[kind] = {n: str(ds[n].attrs["units"]) for n in ds.data_vars
                           if "units" in ds[n].attrs and ds[n].dtype.kind in "fiub"}
        origins = {k: Origin(file) for k in tables}
        if problems:
            raise ScenarioError(problems, file)
        scenario = cls.from_tables(tables, name=str(attrs.get("name", "scenario")),
                                   description=str(attrs.get("description", "")), parameters=parameters, units=units,
                                   origins=origins, attrs=extra, source=file, schema=schema)
        return scenario._time_from_tree(tree, file, schema)

    def _time_from_tree(self, tree: xr.DataTree, file: str, schema: Schema) -> Scenario:
        """This scenario with the ``/snapshots`` and ``/timeseries/<kind>`` groups of ``tree`` (checked as
        :meth:`with_snapshots` and :meth:`with_series` check them)."""
        has_series = "timeseries" in tree.children
        if "snapshots" not in tree.children:
            if has_series:
                raise ScenarioError([Problem("group /timeseries without a /snapshots group", file, field="/timeseries",
                                             expected="a /snapshots group with the snapshot coordinate", root=True)],
                                    file)
            return self
        problems: list[Problem] = []
        ds = tree["snapshots"].to_dataset()
        foreign = [str(n) for n in ds.variables if ds[n].dims != ("snapshot",)] + \
            [str(n) for n in ds.data_vars if n != "weight"]
        if foreign or "snapshot" not in ds.coords or ds.sizes.get("snapshot", 0) > _ts.MAX_SNAPSHOTS:
            problems.append(Problem(f"group /snapshots has variables {sorted(map(str, ds.variables))} over "
                                    f"{dict(ds.sizes)}", file, field="/snapshots",
                                    expected=f"a coordinate 'snapshot' (at most {_ts.MAX_SNAPSHOTS:,}) and a "
                                    "variable 'weight' [h] over it", root=True))
            raise ScenarioError(problems, file)
        stamps = _ts.parse_snapshots(ds["snapshot"].values, problems, file=file, field="snapshots.snapshot")
        weights = None
        if stamps is not None and "weight" in ds:
            unit = ds["weight"].attrs.get("units", "h")
            if unit != "h":
                try:
                    w = schema.units.convert(np.asarray(ds["weight"].values, dtype=float), unit, "h")
                except (UnitError, ValueError, TypeError) as err:
                    problems.append(Problem(f"wrong unit of the weights: {err}", file, None, "snapshots.weight", unit,
                                            expected="a unit of time such as 'h'", root=True))
                    w = None
            else:
                w = ds["weight"].values
            weights = None if w is None else _ts.check_weights(w, len(stamps), problems, file=file)
        if problems:
            raise ScenarioError(problems, file)
        new = self.with_snapshots(stamps, weights)
        if not has_series:
            return new
        for kind in tree["timeseries"].children:
            group = tree["timeseries"][kind].to_dataset()
            field = f"timeseries.{kind}"
            if kind not in new._tables:
                problems.append(Problem(f"time series of unknown kind {kind!r}", file, None, f"/timeseries/{kind}",
                                        expected=f"one of {', '.join(new.kinds)}", root=True))
                continue
            bad = [str(n) for n in group.variables if set(group[n].dims) - {"snapshot", kind}]
            bad += [str(n) for n in group.data_vars if set(group[n].dims) != {"snapshot", kind}]
            if bad:
                problems.extend(Problem(f"variable {n!r} of group /timeseries/{kind} has dimensions "
                                        f"{list(map(str, group[n].dims))}", file, None, f"{field}.{n}",
                                        expected=f"dimensions ['snapshot', {kind!r}]", root=True) for n in bad)
                continue
            if "snapshot" not in group.coords or kind not in group.coords:
                problems.append(Problem(f"group /timeseries/{kind} lacks the coordinates 'snapshot' and {kind!r}", file,
                                        None, f"/timeseries/{kind}", root=True))
                continue
            ids = [v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v) for v in group[kind].values.tolist()]
            for name in group.data_vars:
                values = group[name].transpose("snapshot", kind).values
                unit = group[name].attrs.get("units")
                step, found = new._with_series_checked(kind, str(name), values, ids, [unit] * len(ids),
                                                       group["snapshot"].values, file=file,
                                                       field=f"{field}.{name}", schema=schema)
                problems.extend(found)
                new = step if step is not None else new
        if problems:
            raise ScenarioError(problems, file)
        return new

    def to_netcdf(self, path: str | os.PathLike) -> Path:
        """Write the scenario to NetCDF-4 (one group per kind), atomically (temp file + rename)."""
        path = Path(path)
        tree = self.to_datatree()
        with atomic_path(path) as tmp:
            tree.to_netcdf(tmp, engine="h5netcdf")
        return path

    @classmethod
    def from_netcdf(cls, path: str | os.PathLike) -> Scenario:
        """Read a NetCDF-4 scenario; every problem (also a truncated or foreign file) is a ScenarioError."""
        path = Path(path)
        try:
            with xr.open_datatree(path, engine="h5netcdf") as tree:
                tree = tree.load()
        except Exception as err:  # h5py/h5netcdf raise OSError, ValueError, KeyError ... for damaged files
            raise ScenarioError([Problem(f"not a readable NetCDF-4 scenario: {type(err).__name__}: "
                                         f"{str(err).splitlines()[0] if str(err) else ''}".rstrip(": "), str(path),
                                         expected="a file written by Scenario.to_netcdf", root=True)],
                                str(path)) from None
        return cls.from_datatree(tree, source=str(path))

    def to_zarr(self, path: str | os.PathLike) -> Path:
        path = Path(path)
        with atomic_path(path) as tmp:
            self.to_datatree().to_zarr(tmp, mode="w", consolidated=False)
        return path

    @classmethod
    def from_zarr(cls, path: str | os.PathLike) -> Scenario:
        """Read a Zarr scenario store; every problem is a ScenarioError naming the store."""
        path = Path(path)
        try:
            tree = xr.open_datatree(path, engine="zarr", consolidated=False).load()
        except Exception as err:
            raise ScenarioError([Problem(f"not a readable Zarr scenario: {type(err).__name__}: "
                                         f"{str(err).splitlines()[0] if str(err) else ''}".rstrip(": "), str(path),
                                         expected="a store written by Scenario.to_zarr", root=True)],
                                str(path)) from None
        return cls.from_datatree(tree, source=str(path))

    def to_files(self, folder: str | os.PathLike, *, overwrite: bool = False) -> Path:
        """Write ``folder/scenario.yaml`` and one CSV per table (unit headers); it loads back identical.

        See :func:`workbench.io.export.to_files`.
        """
        from ..io.export import to_files  # io builds on the model, so it is imported here, not at the top

        return to_files(self, folder, overwrite=overwrite)

    def to_geojson(self, path: str | os.PathLike | None = None, *, devices: bool = False) -> dict:
        """Sites and links (and optionally device groups) as a GeoJSON FeatureCollection.

        See :func:`workbench.io.export.to_geojson`.
        """
        from ..io.export import to_geojson

        return to_geojson(self, path, devices=devices)

    def identical(self, other: Scenario) -> bool:
        """True when every table, the name, parameters, attrs, snapshots, weights and time series are identical."""
        return (self.name == other.name and _same_parameters(self.parameters, other.parameters)
                and self.kinds == other.kinds and all(self[k].identical(other[k]) for k in self.kinds)
                and self._same_time(other))

    def _same_time(self, other: Scenario) -> bool:
        if (self._snapshots is None) != (other._snapshots is None):
            return False
        if self._snapshots is None:
            return True
        return (self._snapshots.equals(other._snapshots) and np.array_equal(self._weights, other._weights)
                and self._series.keys() == other._series.keys()
                and all(self._series[k].identical(other._series[k]) for k in self._series))


def _same_parameters(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    def same(x, y) -> bool:
        if isinstance(x, float) and isinstance(y, float) and math.isnan(x) and math.isnan(y):
            return True
        return x == y

    return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)


def build_table(kind: str, frame: pd.DataFrame, *, units: Mapping[str, str | None] | None = None,
                origin: Origin | None = None, schema: Schema | None = None) -> xr.Dataset:
    """Validate one table of a kind on its own (e.g. a catalogue); raise :class:`ScenarioError`."""
    problems: list[Problem] = []
    schema = schema if schema is not None else get_plugin_manager().schema
    ds = _build_table(kind, frame, schema, units or {}, origin or Origin(), problems)
    if problems:
        raise ScenarioError(problems, (origin.file if origin else "") or kind)
    return ds
