"""The ``available_compute`` analysis: installed dense throughput derated by facility uptime."""

from __future__ import annotations

import json

import numpy as np
import xarray as xr

from workbench.errors import SchemaError

from .datasets import HOURS_PER_YEAR

#: default of ``site.template_uptime`` [1]: Tier III, 99.982 % (tiers-silverback, tiers-viabandwidth;
#: "as commonly cited", so assumed for sites without data)
DEFAULT_UPTIME = 0.99982


def available_compute(scenario, dtype: str = "bf16") -> xr.Dataset:
    """Installed dense throughput of each site times the share of the year the site is up.

    Parameters
    ----------
    scenario : workbench.Scenario
        Uses ``site.template_uptime`` [1] (the schema default, 0.99982, where the scenario was
        built without this plugin), the inventory and the chip catalogue.
    dtype : {"bf16", "fp8", "fp4"}
        Precision of the throughput.

    Returns
    -------
    xr.Dataset
        Over ``site``: ``installed`` [FLOP/s], ``uptime`` [1], ``available`` [FLOP/s] and
        ``annual_downtime`` [h] = (1 - uptime) x 8,760 h; scalars ``total_installed`` and
        ``total_available`` [FLOP/s] and ``availability`` [1] = total_available / total_installed
        (NaN without compute).

    Raises
    ------
    SchemaError
        If an uptime lies outside [0, 1].
    """
    installed = scenario.site_compute_flops(dtype)
    site = scenario["site"]
    if "template_uptime" in site:
        uptime = site["template_uptime"].astype(float)
    else:
        uptime = xr.full_like(installed, DEFAULT_UPTIME, dtype=float)
    bad = ~((uptime >= 0) & (uptime <= 1))
    if bool(bad.any()):
        ids = ", ".join(f"{s}={float(u)}" for s, u in zip(uptime["site"].values[bad.values],
                                                            uptime.values[bad.values], strict=True))
        raise SchemaError(f"site.template_uptime must be in [0, 1] (a share of the year); got {ids}")
    available = installed * uptime
    total_installed = float(installed.sum())
    total_available = float(available.sum())
    share = total_available / total_installed if total_installed > 0 else np.nan
    label = dtype.upper()
    ds = xr.Dataset({
        "installed": installed.assign_attrs(units="FLOP/s", long_name=f"Installed dense {label} throughput"),
        "uptime": uptime.assign_attrs(units="1", long_name="Facility uptime"),
        "available": available.assign_attrs(units="FLOP/s", long_name=f"Available dense {label} throughput"),
        "annual_downtime": ((1.0 - uptime) * HOURS_PER_YEAR).assign_attrs(
            units="h", long_name="Annual facility downtime"),
        "total_installed": xr.DataArray(total_installed, attrs={"units": "FLOP/s",
                                                                "long_name": f"Total installed {label}"}),
        "total_available": xr.DataArray(total_available, attrs={"units": "FLOP/s",
                                                                "long_name": f"Total available {label}"}),
        "availability": xr.DataArray(share, attrs={"units": "1", "long_name": "Throughput-weighted availability"}),
    })
    summary = {"total_installed_pflops": total_installed / 1e15, "total_available_pflops": total_available / 1e15,
               "availability": share, "dtype": dtype}
    ds.attrs = {"analysis": "available_compute", "summary_json": json.dumps(summary),
                "summary_text": (f"{total_available / 1e15:,.1f} of {total_installed / 1e15:,.1f} {label} PFLOP/s "
                                 f"available on average (availability {share:.5f})")}
    return ds


def coverage_of_available_sites(scenario, **params) -> xr.Dataset:
    """The core ``coverage`` analysis, counting only sites whose uptime reaches ``template_min_uptime``.

    Replaces the built-in ``coverage`` (``AnalysisSpec(..., replaces="workbench.builtins")``): with the
    scenario parameter ``template_min_uptime`` [1] at its default 0 the result equals the core's.

    Parameters
    ----------
    scenario : workbench.Scenario
    **params
        Passed to :func:`workbench.analyses.coverage.coverage` (``budget_ms`` [ms], ...).

    Returns
    -------
    xr.Dataset
        The core result, with ``attrs["template_min_uptime"]`` and ``attrs["sites_left_out"]`` (ids).
    """
    from workbench.analyses.coverage import coverage

    min_uptime = float(scenario.parameters.get("template_min_uptime", 0.0))
    site = scenario["site"]
    uptime = site["template_uptime"].values if "template_uptime" in site else np.full(site.sizes["site"],
                                                                                        DEFAULT_UPTIME)
    keep = uptime >= min_uptime
    ds = coverage(scenario.select_sites(keep) if not keep.all() else scenario, **params)
    left_out = site["site"].values[~keep].tolist()
    ds.attrs.update({"template_min_uptime": min_uptime, "sites_left_out": json.dumps(left_out)})
    if ds.attrs.get("summary_text"):
        ds.attrs["summary_text"] += (f"\n(template plugin: sites with uptime below {min_uptime:g} left out: "
                                     f"{', '.join(left_out) or 'none'})")
    return ds
