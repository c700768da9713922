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
from ..schema import Schema, get_schema

FORMAT_VERSION = 1

#: Scenario-wide parameters: name -> (dtype, unit, default, description)
PARAMETERS: dict[str, tuple[type, str, Any, str]] = {
    "route_factor": (float, "1", 1.5,
                     "Fibre route length / great-circle distance where a link has no length "
                     "(assumed default; Bozkurt et al. 2018, arXiv 1811.10737: 1.3 conduit-optimal, "
                     "2.1 rule of thumb)"),
    "metro_route_factor": (float, "1", 1.5,
                           "Route factor of metro access fibre from a device to a site (assumed, as above)"),
}


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


def _coerce_column(values: pd.Series, spec: AttributeSpec, from_unit: str | None, kind: str,
                   ids: Sequence[str], origin: Origin, problems: list[Problem], present: bool = True) -> np.ndarray:
    """Convert one input column to the attribute's dtype and canonical unit, recording problems.

    ``present=False`` (the column is absent, already reported once) skips the per-row reports.
    """
    n = len(values)
    where = lambda i: f"{kind}[{ids[i]}].{spec.name}" if i < len(ids) else f"{kind}.{spec.name}"  # noqa: E731
    raw = values.to_numpy(dtype=object)
    blank = np.fromiter((_is_blank(v) for v in raw), bool, n)
    if spec.dtype in ("float", "int"):  # "nan" written in a CSV is NaN, as .nan is in YAML
        blank |= np.fromiter((isinstance(v, str) and v.strip().lower() == "nan" for v in raw), bool, n)
    if spec.required and blank.any() and present:
        for i in np.flatnonzero(blank):
            problems.append(Problem("required value is missing (empty or NaN)", origin.file, origin.line(i), where(i)))
    if spec.dtype == "str":
        default = spec.default_value()
        out = np.array([default if b else str(v) for v, b in zip(raw, blank, strict=True)], dtype=object)
    elif spec.dtype == "bool":
        default = spec.default_value()
        out = np.empty(n, dtype=bool)
        for i, (v, b) in enumerate(zip(raw, blank, strict=True)):
            if b:
                out[i] = default
            elif isinstance(v, (bool, np.bool_)) or str(v).lower() in ("true", "false", "1", "0", "yes", "no"):
                out[i] = v if isinstance(v, (bool, np.bool_)) else str(v).lower() in ("true", "1", "yes")
            else:
                problems.append(Problem("expected true or false", origin.file, origin.line(i), where(i), str(v)))
                out[i] = default
    else:
        canonical = spec.unit or "1"
        try:
            scale = _units.factor(from_unit, canonical) if from_unit not in (None, "") else 1.0
        except UnitError as err:
            problems.append(Problem(f"wrong unit: {err}", *origin.unit_source(spec.name),
                                    f"{kind}.{spec.name}", from_unit or ""))
            scale = math.nan
        numeric = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float) * scale
        for i in np.flatnonzero(np.isnan(numeric) & ~blank & np.isfinite(scale)):
            v = raw[i]
            if isinstance(v, str):
                try:
                    numeric[i] = _units.parse_quantity(v, canonical)
                    continue
                except UnitError as err:
                    problems.append(Problem(f"expected a number in {canonical} (or with a unit of that "
                                            f"dimension): {err}", origin.file, origin.line(i), where(i), v))
                    continue
            if isinstance(v, float) and math.isnan(v):
                continue
            problems.append(Problem(f"expected a number in {canonical}", origin.file, origin.line(i), where(i),
                                    str(v)))
        numeric = np.where(blank, spec.default_value() if not spec.required else math.nan, numeric)
        if spec.dtype == "int":
            bad = ~np.isfinite(numeric) | (numeric != np.round(numeric))
            for i in np.flatnonzero(bad & ~blank):
                problems.append(Problem("expected an integer", origin.file, origin.line(i), where(i), str(raw[i])))
            out = np.where(np.isfinite(numeric), numeric, spec.default_value()).astype(np.int64)
        else:
            out = numeric
    if spec.choices is not None:
        allowed = set(spec.choices)
        for i in np.flatnonzero(~blank):
            if out[i] not in allowed:
                problems.append(Problem(f"expected one of {', '.join(map(str, spec.choices))}", origin.file,
                                        origin.line(i), where(i), str(raw[i])))
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


def _build_table(kind: str, frame: pd.DataFrame, schema: Schema, column_units: Mapping[str, str | None],
                 origin: Origin, problems: list[Problem]) -> xr.Dataset:
    spec_kind = schema.kind(kind)
    attrs = schema.attrs(kind)
    dims = spec_kind.dims
    frame = frame.reset_index(drop=True)
    index_cols = ["id"] if len(dims) == 1 else list(dims)
    for col in frame.columns:
        if col not in attrs and col not in index_cols:
            problems.append(Problem(f"unknown attribute {col!r} for kind {kind!r}; known attributes: "
                                    f"{', '.join(index_cols + list(attrs))}", origin.file, origin.column_line(col),
                                    f"{kind}.{col}"))
    for col, unit in column_units.items():
        if unit and col not in attrs and col not in frame.columns:
            problems.append(Problem(f"unit given for unknown attribute {col!r} of kind {kind!r}; known attributes: "
                                    f"{', '.join(attrs)}", *origin.unit_source(col), f"{kind}.{col}", unit))
    for col in index_cols:
        if col not in frame.columns and len(frame):
            problems.append(Problem(f"missing required field {col!r}", origin.file, origin.header_line,
                                    f"{kind}.{col}"))
            frame[col] = ""
    for name, spec in attrs.items():
        if spec.required and name not in frame.columns and len(frame):
            problems.append(Problem(f"missing required field {name!r} ({spec.unit or 'text'}: "
                                    f"{spec.description})", origin.file, origin.header_line, f"{kind}.{name}"))
    keys = [frame[c].map(lambda v: "" if _is_blank(v) else str(v)).to_numpy(dtype=object) if c in frame
            else np.array([], dtype=object) for c in index_cols]
    ids = keys[0] if len(dims) == 1 else np.array(["/".join(t) for t in zip(*keys, strict=True)], dtype=object)
    for i in np.flatnonzero(ids == ""):
        problems.append(Problem("missing id", origin.file, origin.line(i), f"{kind}.{index_cols[0]}"))
    dup = pd.Series(ids).duplicated(keep="first").to_numpy()
    for i in np.flatnonzero(dup & (ids != "")):
        problems.append(Problem(f"duplicate id {ids[i]!r} in {kind}", origin.file, origin.line(i),
                                f"{kind}[{ids[i]}]", str(ids[i])))
    columns: dict[str, np.ndarray] = {}
    for name, spec in attrs.items():
        col = frame[name] if name in frame.columns else pd.Series([None] * len(frame), dtype=object)
        columns[name] = _coerce_column(col, spec, column_units.get(name), kind, ids, origin, problems,
                                       present=name in frame.columns)
    if "lon" in columns and "lat" in columns:
        lon, lat = columns["lon"], columns["lat"]
        nan = np.isnan(lon) | np.isnan(lat)
        bad = ~nan & ~(np.isfinite(lon) & np.isfinite(lat) & (np.abs(lon) <= 180) & (np.abs(lat) <= 90))
        if not (attrs["lon"].required and attrs["lat"].required):
            bad |= nan  # required coordinates: NaN is already reported as missing (or unparseable)
        for i in np.flatnonzero(bad):
            problems.append(Problem("coordinates must be finite, lon in [-180, 180] and lat in [-90, 90]",
                                    origin.file, origin.line(i), f"{kind}[{ids[i]}].lon/lat",
                                    f"{lon[i]}, {lat[i]}"))
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


class Scenario:
    """A compute network: sites, links, chips, inventory, agents, devices (+ plugin kinds).

    Build one with :meth:`from_tables` (validating), :func:`workbench.load_scenario` (a named
    dataset or a YAML file) or :meth:`from_netcdf`. Scenarios are immutable in spirit: helpers
    return new scenarios and never modify the receiver's tables.
    """

    def __init__(self, tables: Mapping[str, xr.Dataset], *, name: str = "scenario", description: str = "",
                 parameters: Mapping[str, Any] | None = None, attrs: Mapping[str, Any] | None = None) -> None:
        self._tables = dict(tables)
        self.name = name
        self.description = description
        self.parameters = {k: v[2] for k, v in PARAMETERS.items()}
        self.parameters.update(parameters or {})
        self.attrs = dict(attrs or {})

    # -- construction -----------------------------------------------------------------------------
    @classmethod
    def from_tables(cls, tables: Mapping[str, pd.DataFrame | Sequence[Mapping[str, Any]]], *,
                    name: str = "scenario", description: str = "", parameters: Mapping[str, Any] | None = None,
                    units: Mapping[str, Mapping[str, str | None]] | None = None,
                    origins: Mapping[str, Origin] | None = None, attrs: Mapping[str, Any] | None = None,
                    validate: bool = True, source: str = "") -> Scenario:
        """Build a scenario from one table per kind, checking everything against the schema.

        Parameters
        ----------
        tables : mapping kind -> DataFrame or list of row dicts
            One-dimensional kinds need an ``id`` column; the inventory has ``site, chip, count``.
            Values may be numbers in the canonical unit or strings such as ``"400 Gbit/s"``.
        units : mapping kind -> {column: unit}, optional
            Units the input columns are in (converted to the canonical unit).
        origins : mapping kind -> Origin, optional
            File and line of each row, for error messages.

        Raises
        ------
        ScenarioError
            Listing every problem found, each with file, line, field and expected value.
        """
        schema = get_schema()
        problems: list[Problem] = []
        units = units or {}
        origins = origins or {}
        for kind in tables:
            if kind not in schema.kinds:
                o = origins.get(kind, Origin())
                problems.append(Problem(f"unknown component kind {kind!r}; known kinds: {', '.join(schema.kinds)}",
                                        o.file, o.header_line, f"tables.{kind}"))
        built = {}
        inventory_lines: dict[tuple[str, str], int | None] = {}
        for kind, spec in schema.kinds.items():
            frame = tables.get(kind)
            if frame is None:
                frame = _empty_frame(spec.dims)
            elif not isinstance(frame, pd.DataFrame):
                frame = pd.DataFrame(list(frame))
            if len(spec.dims) > 1:  # remember the input line of each id, for reference problems
                o = origins.get(kind, Origin())
                for dim in spec.dims:
                    if dim in frame.columns:
                        for i, v in enumerate(frame[dim].tolist()):
                            inventory_lines.setdefault((dim, str(v)), o.line(i))
            built[kind] = _build_table(kind, frame, schema, units.get(kind, {}), origins.get(kind, Origin()),
                                       problems)
        params = {k: v[2] for k, v in PARAMETERS.items()}
        for key, value in (parameters or {}).items():
            if key not in PARAMETERS:
                problems.append(Problem(f"unknown parameter {key!r}; known: {', '.join(PARAMETERS)}",
                                        source, None, f"parameters.{key}"))
                continue
            try:
                params[key] = _units.parse_quantity(value, PARAMETERS[key][1]) if isinstance(value, str) \
                    else float(value)
            except (UnitError, TypeError, ValueError) as err:
                problems.append(Problem(f"expected a number: {err}", source, None, f"parameters.{key}", str(value)))
        scenario = cls(built, name=name, description=description, parameters=params, attrs=attrs)
        problems.extend(scenario._reference_problems(origins, inventory_lines))
        if validate and not problems:
            problems.extend(scenario.validate(builtin=False))
        if problems:
            raise ScenarioError(problems, source or name)
        return scenario

    def _reference_problems(self, origins: Mapping[str, Origin],
                            inventory_lines: Mapping[tuple[str, str], int | None] | None = None) -> list[Problem]:
        problems: list[Problem] = []
        site_ids = set(self["site"]["site"].values.tolist())
        checks = [("link", "src", "site", site_ids), ("link", "dst", "site", site_ids),
                  ("agent", "site", "site", site_ids), ("device", "access_site", "site", site_ids),
                  ("agent", "device", "device", set(self["device"]["device"].values.tolist()))]
        for kind, attr, target, valid in checks:
            ds = self[kind]
            o = origins.get(kind, Origin())
            values = ds[attr].values
            for i in np.flatnonzero([v != "" and v not in valid for v in values]):
                problems.append(Problem(f"refers to {target} {values[i]!r}, which does not exist", o.file,
                                        o.line(i), f"{kind}[{ds[kind].values[i]}].{attr}", str(values[i])))
        inv = self["inventory"]
        o = origins.get("inventory", Origin())
        chip_ids = set(self["chip"]["chip"].values.tolist())
        for dim, valid in (("site", site_ids), ("chip", chip_ids)):
            for v in inv[dim].values:
                if v not in valid:
                    problems.append(Problem(f"inventory refers to {dim} {v!r}, which does not exist", o.file,
                                            (inventory_lines or {}).get((dim, str(v))), f"inventory.{dim}", str(v)))
        if not problems and inv.sizes.get("site", 0):
            # align the inventory to the full site x chip grid (absent pairs = 0 chips)
            full = inv.reindex(site=self["site"]["site"].values, chip=self["chip"]["chip"].values, fill_value=0)
            for n in full.data_vars:
                full[n].attrs = inv[n].attrs
            full.attrs = inv.attrs
            self._tables["inventory"] = full
        elif not inv.sizes.get("site", 0):
            count_spec = get_schema().attrs("inventory")
            grid = xr.Dataset(
                {n: (("site", "chip"), np.full((self["site"].sizes["site"], self["chip"].sizes["chip"]),
                                               s.default_value()), inv[n].attrs) for n, s in count_spec.items()},
                coords={"site": self["site"]["site"].values, "chip": self["chip"]["chip"].values}, attrs=inv.attrs)
            self._tables["inventory"] = grid
        return problems

    # -- access ------------------------------------------------------------------------------------
    def __getitem__(self, kind: str) -> xr.Dataset:
        try:
            return self._tables[kind]
        except KeyError:
            raise KeyError(f"scenario {self.name!r} has no kind {kind!r}; kinds: {', '.join(self._tables)}") from None

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
        return self["inventory"]["count"]

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
        flops = (self.inventory * self["chip"][f"{dtype}_flops"].fillna(0)).sum("chip")
        flops.attrs = {"units": "FLOP/s", "long_name": f"installed dense {dtype.upper()} throughput"}
        return flops

    # -- derived scenarios ----------------------------------------------------------------------
    def copy(self) -> Scenario:
        return Scenario({k: v.copy(deep=True) for k, v in self._tables.items()}, name=self.name,
                        description=self.description, parameters=dict(self.parameters), attrs=dict(self.attrs))

    def with_table(self, kind: str, table: xr.Dataset) -> Scenario:
        """A new scenario with one table replaced (no re-validation; call :meth:`validate`)."""
        new = self.copy()
        new._tables[kind] = table
        return new

    def with_parameters(self, **parameters: Any) -> Scenario:
        unknown = set(parameters) - set(PARAMETERS)
        if unknown:
            raise KeyError(f"unknown parameter(s) {sorted(unknown)}; known: {', '.join(PARAMETERS)}")
        new = self.copy()
        new.parameters.update({k: float(v) for k, v in parameters.items()})
        return new

    def with_inventory(self, count: xr.DataArray | np.ndarray) -> Scenario:
        """A new scenario with the ``site x chip`` chip counts replaced."""
        table = self["inventory"].copy()
        table["count"] = (("site", "chip"), np.asarray(count, dtype=float), table["count"].attrs)
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
        new._tables[kind] = merged
        if kind == "site":   # new sites: no chips (the grid is rebuilt by the reference check below)
            new._tables["inventory"] = self["inventory"].reindex(site=merged["site"].values, fill_value=0)
            for n in new._tables["inventory"].data_vars:
                new._tables["inventory"][n].attrs = self["inventory"][n].attrs
        problems = new._reference_problems({})
        if problems:
            raise ScenarioError(problems, f"with_rows({kind!r})")
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
        new._tables[kind] = self[kind].drop_sel({kind: ids})
        return new

    def select_sites(self, sites: Sequence[str] | np.ndarray | xr.DataArray) -> Scenario:
        """Keep the given sites (ids or a boolean mask), the links among them, and their inventory."""
        ids = self["site"]["site"].values
        if isinstance(sites, xr.DataArray):
            sites = sites.values
        sites = np.asarray(sites)
        keep = ids[sites] if sites.dtype == bool else sites
        keep_set = set(keep.tolist())
        new = self.copy()
        new._tables["site"] = self["site"].sel(site=keep)
        links = self["link"]
        mask = np.array([s in keep_set and d in keep_set for s, d in zip(links.src.values, links.dst.values,
                                                                          strict=True)], dtype=bool)
        new._tables["link"] = links.isel(link=np.flatnonzero(mask))
        new._tables["inventory"] = self["inventory"].sel(site=keep)
        return new

    # -- validation -----------------------------------------------------------------------------
    def validate(self, strict: bool = False, builtin: bool = True) -> list[Problem]:
        """Cross-table consistency checks plus every plugin's ``workbench_validate``.

        Returns the problems; with ``strict=True`` raises :class:`ScenarioError` if there are any.
        """
        from ..plugins import get_plugin_manager

        problems = self._reference_problems({}) if builtin else []
        for _name, result in get_plugin_manager().call_each("workbench_validate", scenario=self):
            problems.extend(result or ())
        if strict and problems:
            raise ScenarioError(problems, self.name)
        return problems

    # -- summaries --------------------------------------------------------------------------------
    def summary(self) -> pd.DataFrame:
        """One row per kind: rows, attributes, and the kind's description."""
        rows = []
        for kind, ds in self._tables.items():
            rows.append({"kind": kind, "rows": int(np.prod([ds.sizes[d] for d in ds.dims])) if ds.dims else 0,
                         "attributes": len(ds.data_vars), "description": ds.attrs.get("description", "")})
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
            "endpoints": float(self["device"]["count"].sum()),
        }

    def __repr__(self) -> str:
        sizes = ", ".join(f"{k}={int(np.prod(list(v.sizes.values())) if v.sizes else 0)}" for k, v in self._tables.items())
        return f"<Scenario {self.name!r}: {sizes}>"

    def _repr_html_(self) -> str:
        esc = html.escape
        t = self.totals()
        head = (f"<div class='wb-scenario'><h4 style='margin:0'>Scenario <code>{esc(self.name)}</code></h4>"
                f"<p style='margin:2px 0'>{esc(self.description)}</p>"
                f"<p style='margin:2px 0'>{t['sites']} sites ({t['sites_with_compute']} with compute), "
                f"{t['links']} links, {t['chips_installed']:,.0f} accelerators = {t['bf16_pflops']:,.1f} "
                f"BF16 PFLOP/s dense, {t['device_groups']} device groups ({t['endpoints']:,.0f} endpoints)</p>")
        params = "".join(f"<li><code>{esc(k)}</code> = {v}</li>" for k, v in self.parameters.items())
        parts = [head, f"<details><summary>parameters</summary><ul>{params}</ul></details>"]
        for kind, ds in self._tables.items():
            n = int(np.prod(list(ds.sizes.values()))) if ds.sizes else 0
            frame = self.to_frame(kind)
            if kind == "inventory":
                frame = frame[frame["count"] > 0]
            cols = "".join(f"<tr><td><code>{esc(v)}</code></td><td>{esc(ds[v].attrs.get('units', ''))}</td>"
                           f"<td>{esc(ds[v].attrs.get('description', ''))}</td>"
                           f"<td>{esc(ds[v].attrs.get('provided_by', ''))}</td></tr>" for v in ds.data_vars)
            parts.append(
                f"<details><summary><b>{esc(kind)}</b> ({n} rows, {len(ds.data_vars)} attributes) "
                f"&mdash; {esc(ds.attrs.get('description', ''))}</summary>"
                f"<table><tr><th>attribute</th><th>units</th><th>description</th><th>provided by</th></tr>{cols}"
                f"</table>{frame.head(10).to_html(max_cols=12, float_format=lambda x: f'{x:.4g}')}</details>")
        return "".join(parts) + "</div>"

    # -- persistence ------------------------------------------------------------------------------
    def to_datatree(self) -> xr.DataTree:
        """All tables as an ``xr.DataTree`` (groups ``/site``, ``/link``, ...)."""
        root = xr.Dataset(attrs={"name": self.name, "description": self.description,
                                 "parameters_json": json.dumps(self.parameters, sort_keys=True),
                                 "attrs_json": json.dumps(self.attrs, sort_keys=True, default=str),
                                 "workbench_format": FORMAT_VERSION, "kinds": json.dumps(self.kinds)})
        return xr.DataTree.from_dict({"/": root, **{f"/{k}": v for k, v in self._tables.items()}})

    @classmethod
    def from_datatree(cls, tree: xr.DataTree) -> Scenario:
        attrs = tree.attrs
        kinds = json.loads(attrs.get("kinds", "[]")) or [c for c in tree.children]
        tables = {}
        schema = get_schema()
        for kind in kinds:
            ds = tree[kind].to_dataset().load()
            text_attrs = {n for n, a in schema.attributes.get(kind, {}).items() if a.dtype == "str"}
            for name in list(ds.variables):
                # text comes back as fixed-width, object or (Zarr) StringDType; an empty text array as float64
                empty_text = ds[name].size == 0 and (name in ds.dims or name in text_attrs)
                if (ds[name].dtype.kind in "OSUT" or empty_text) and ds[name].dtype != object:
                    ds[name] = ds[name].astype(object)
            tables[kind] = ds
        return cls(tables, name=str(attrs.get("name", "scenario")), description=str(attrs.get("description", "")),
                   parameters=json.loads(attrs.get("parameters_json", "{}")),
                   attrs=json.loads(attrs.get("attrs_json", "{}")))

    def to_netcdf(self, path: str | os.PathLike) -> Path:
        """Write the scenario to NetCDF-4 (one group per kind), atomically (temp file + rename)."""
        path = Path(path)
        tree = self.to_datatree()
        with atomic_path(path) as tmp:
            tree.to_netcdf(tmp, engine="h5netcdf")
        return path

    @classmethod
    def from_netcdf(cls, path: str | os.PathLike) -> Scenario:
        with xr.open_datatree(path, engine="h5netcdf") as tree:
            return cls.from_datatree(tree.load())

    def to_zarr(self, path: str | os.PathLike) -> Path:
        path = Path(path)
        with atomic_path(path) as tmp:
            self.to_datatree().to_zarr(tmp, mode="w", consolidated=False)
        return path

    @classmethod
    def from_zarr(cls, path: str | os.PathLike) -> Scenario:
        tree = xr.open_datatree(path, engine="zarr", consolidated=False)
        return cls.from_datatree(tree.load())

    def identical(self, other: Scenario) -> bool:
        """True when every table, the name, parameters and attrs are identical."""
        return (self.name == other.name and self.parameters == other.parameters and self.kinds == other.kinds
                and all(self[k].identical(other[k]) for k in self.kinds))


def build_table(kind: str, frame: pd.DataFrame, *, units: Mapping[str, str | None] | None = None,
                origin: Origin | None = None) -> xr.Dataset:
    """Validate one table of a kind on its own (e.g. a catalogue); raise :class:`ScenarioError`."""
    problems: list[Problem] = []
    ds = _build_table(kind, frame, get_schema(), units or {}, origin or Origin(), problems)
    if problems:
        raise ScenarioError(problems, (origin.file if origin else "") or kind)
    return ds
