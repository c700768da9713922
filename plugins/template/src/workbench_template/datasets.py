"""The ``uptime-tiers`` catalogue: data-centre tier availabilities, read from a packaged CSV."""

from __future__ import annotations

import csv
from importlib import resources

import numpy as np
import xarray as xr

from workbench.errors import SchemaError
from workbench.units import convert, split_header

#: hours in a (365-day) year [h]; the same year the workbench's unit table uses for "yr"
HOURS_PER_YEAR = convert(1.0, "yr", "h")

#: canonical unit of each numeric column of the CSV
_CANONICAL = {"availability": "1", "published_downtime": "h"}
_LONG_NAMES = {"availability": "Facility availability", "published_downtime": "Published annual downtime"}


def load_uptime_tiers() -> xr.Dataset:
    """Load the tier catalogue as an ``xr.Dataset`` over ``tier``.

    Returns
    -------
    xr.Dataset
        ``availability`` [1], ``published_downtime`` [h] (NaN where no source gives one),
        ``annual_downtime`` [h] derived as (1 - availability) x 8,760 h, ``source`` and ``notes``.
    """
    path = resources.files("workbench_template").joinpath("data", "uptime_tiers.csv")
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    header, body = rows[0], [r for r in rows[1:] if any(c.strip() for c in r)]
    columns = [split_header(h) for h in header]
    data: dict[str, tuple] = {}
    for j, (name, unit) in enumerate(columns):
        values = [r[j] for r in body]
        if name == "tier":
            continue
        if name in _CANONICAL:
            try:
                numbers = np.array([float(v) if v.strip() else np.nan for v in values])
                numbers = convert(numbers, unit or _CANONICAL[name], _CANONICAL[name])
            except ValueError as err:
                raise SchemaError(f"{path}: column {header[j]!r}: {err}") from None
            data[name] = ("tier", np.asarray(numbers, dtype=float),
                          {"units": _CANONICAL[name], "long_name": _LONG_NAMES[name]})
        else:
            data[name] = ("tier", np.array(values, dtype=object), {"long_name": name})
    ds = xr.Dataset(data, coords={"tier": ("tier", np.array([r[0] for r in body], dtype=object),
                                           {"long_name": "data-centre tier"})})
    ds["annual_downtime"] = (1.0 - ds["availability"]) * HOURS_PER_YEAR
    ds["annual_downtime"].attrs = {"units": "h", "long_name": "Annual downtime implied by the availability"}
    ds.attrs = {"description": "Data-centre tier availabilities (Uptime Institute tiers, as commonly cited)",
                "sources": "see workbench_template/data/SOURCES.yaml"}
    return ds
