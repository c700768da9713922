"""The optical plugin's shipped catalogues (``datasets/optical/*.csv``), read with their units.

Each CSV has ``name [unit]`` headers; values are converted once, here, to the canonical unit given
in :data:`CANONICAL` (so ``reach [m]`` stays in metres, rates become bit/s, prices USD). Every table
keeps its ``source`` (citation keys of ``datasets/optical/SOURCES.yaml``) and ``notes`` columns.
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr
import yaml

from workbench import units as _units
from workbench.datasets import dataset_path
from workbench.errors import WorkbenchError

#: canonical unit per column name (columns not listed are text or dimensionless counts)
CANONICAL = {
    "link_rate": "bit/s", "lane_class": "bit/s", "rate": "bit/s", "port_rate": "bit/s",
    "power": "W", "reach": "m", "price": "USD", "cable_price": "USD", "switching_time": "s",
    "latency": "s", "spacing": "km", "value": None, "tolerance": "1",
}
_LONG_NAMES = {
    "link_rate": "scale-up link rate per direction", "lane_class": "SerDes lane class",
    "rate": "module capacity per direction", "port_rate": "port rate per direction",
    "power": "power", "reach": "reach", "price": "unit price", "cable_price": "cable price",
    "switching_time": "reconfiguration time", "latency": "latency", "spacing": "spacing",
}


class CatalogueError(WorkbenchError, ValueError):
    """A shipped optical catalogue is malformed (names the file and the column)."""


_TEXT = {"id", "name", "kind", "source", "notes", "preset", "quantity", "unit"}


def _text_or_number(values: pd.Series, col: str) -> pd.Series:
    """Unit-less columns: booleans, dimensionless counts (as float) or text."""
    if col in _TEXT:
        return values
    lower = values.str.lower()
    if lower.isin(["true", "false"]).all():
        return lower == "true"
    numeric = pd.to_numeric(values.replace("", np.nan), errors="coerce")
    if (numeric.notna() | (values == "")).all():
        return numeric.astype(float)
    return values


def catalogue_path(name: str) -> Path:
    """Path of ``datasets/optical/<name>``."""
    return dataset_path(f"optical/{name}")


@functools.cache
def read_catalogue(name: str, index: str | None = "id") -> pd.DataFrame:
    """Read ``datasets/optical/<name>`` converting every ``[unit]`` column to its canonical unit.

    Parameters
    ----------
    name : str
        File name, e.g. ``"media.csv"``.
    index : str or None
        Column to index by.

    Returns
    -------
    pandas.DataFrame
        Columns renamed without their unit; ``frame.attrs["units"]`` maps column -> canonical unit.
    """
    path = catalogue_path(name)
    raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    out, units = {}, {}
    for header in raw.columns:
        col, unit = _units.split_header(header)
        values = raw[header]
        if unit is None:
            out[col] = _text_or_number(values, col)
            continue
        target = CANONICAL.get(col) or unit
        try:
            scale = _units.factor(unit, target)
        except WorkbenchError as err:
            raise CatalogueError(f"{path}: column {header!r}: {err}") from None
        numeric = pd.to_numeric(values.replace("", np.nan), errors="coerce")
        bad = numeric.isna() & (values != "")
        if bad.any():
            raise CatalogueError(f"{path}: column {header!r}: expected numbers in {unit}, got "
                                 f"{values[bad].tolist()[:3]}")
        out[col] = numeric.astype(float) * scale
        units[col] = target
    frame = pd.DataFrame(out)
    for col in ("source", "notes"):
        if col not in frame:
            raise CatalogueError(f"{path}: missing the {col!r} column (every catalogue row cites its source)")
    if index:
        if frame[index].duplicated().any():
            raise CatalogueError(f"{path}: duplicate {index} {frame[index][frame[index].duplicated()].tolist()}")
        frame = frame.set_index(index)
    frame.attrs["units"] = units
    frame.attrs["file"] = str(path)
    return frame


def as_dataset(frame: pd.DataFrame, dim: str) -> xr.Dataset:
    """A catalogue as an ``xr.Dataset`` over ``dim`` with ``units``/``long_name`` on every variable."""
    ds = xr.Dataset.from_dataframe(frame.rename_axis(dim))
    for col, unit in frame.attrs.get("units", {}).items():
        ds[col].attrs = {"units": unit, "long_name": _LONG_NAMES.get(col, col.replace("_", " "))}
    for col in ds.data_vars:
        ds[col].attrs.setdefault("long_name", col.replace("_", " "))
        if ds[col].dtype.kind in "fi":
            ds[col].attrs.setdefault("units", "1")
    return ds


def media() -> pd.DataFrame:
    """Interconnect media: copper DAC/ACC, DSP pluggables, LPO, CPO (``media.csv``)."""
    return read_catalogue("media.csv")


def switches() -> pd.DataFrame:
    """Electrical packet switches and optical circuit switches (``switches.csv``)."""
    return read_catalogue("switches.csv")


def chip_links() -> pd.DataFrame:
    """Per-chip scale-up link structure keyed by chip id (``chip_links.csv``)."""
    return read_catalogue("chip_links.csv")


def copper_reach_table() -> pd.DataFrame:
    """Passive copper reach by lane class (``copper_reach.csv``)."""
    return read_catalogue("copper_reach.csv", index=None)


def transponders() -> pd.DataFrame:
    """Coherent transponder classes for site-to-site transport (``transport.csv``)."""
    return read_catalogue("transport.csv")


def transport_elements() -> pd.DataFrame:
    """Latency/power of amplifiers, regenerators, OTN/ROADM hops, FEC (``transport_elements.csv``)."""
    return read_catalogue("transport_elements.csv")


def published() -> pd.DataFrame:
    """Published totals of the presets with tolerance and source (``published.csv``)."""
    return read_catalogue("published.csv", index=None)


@functools.lru_cache(maxsize=1)
def sources() -> dict:
    """Citation keys -> {title, url, tag, note} (``SOURCES.yaml``)."""
    with catalogue_path("SOURCES.yaml").open(encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def copper_reach_m(lane_class_bps) -> np.ndarray:
    """Passive copper (DAC) reach for a lane class, log-log interpolated between sourced points.

    Parameters
    ----------
    lane_class_bps : array-like
        SerDes lane rate class [bit/s].

    Returns
    -------
    numpy.ndarray
        Reach [m]; NaN above the highest sourced lane class (no sourced reach there).
    """
    table = copper_reach_table().sort_values("lane_class")
    x = np.log(table["lane_class"].to_numpy())
    y = np.log(table["reach"].to_numpy())
    lane = np.asarray(lane_class_bps, dtype=float)
    reach = np.exp(np.interp(np.log(np.maximum(lane, 1.0)), x, y))
    return np.where(lane > table["lane_class"].max() * (1 + 1e-9), np.nan, reach)


def lookup(frame: pd.DataFrame, key: str, what: str) -> pd.Series:
    """One catalogue row by id, or a clear error listing the valid ids."""
    if key not in frame.index:
        raise CatalogueError(f"unknown {what} {key!r} in {Path(frame.attrs.get('file', '?')).name}; "
                             f"expected one of: {', '.join(frame.index)}")
    return frame.loc[key]
