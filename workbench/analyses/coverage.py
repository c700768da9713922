"""Compute-circle coverage: who is within 1 / 5 / 20 ms one-way of a site with compute.

Model (documented assumptions)
------------------------------
* Population. Each device group (for the China scenario: a metro's residents) is spread around
  its centre with a 2-D exponential density profile ``rho(r) ~ exp(-r/s)``, ``s`` = the group's
  ``spread`` [km] (see :func:`workbench.coverage_math.spread_population`). This makes "the share
  of a metro inside the 1 ms circle" meaningful rather than all-or-nothing.
* Latency. One-way latency from a population point to a site = metro fibre
  (great-circle x ``metro_route_factor`` x 4.9 us/km) + ``metro_equipment_ms`` (aggregation
  and edge routers between the access site and the DC; assumed 0.1 ms) + the site's
  ``hop_delay``. The MIIT circles measure the network from the access site to compute
  (FIGURES 1.5: "access from key sites to compute < 1 ms"), so the radio / last-mile delay of
  the device's ``access_tech`` is excluded by default; ``include_access=True`` adds it.
* Sites with compute are those with accelerators in the inventory (``sites="compute"``), or
  every site (``sites="all"``), or a boolean mask over ``site``.

The result is population-weighted: shares are of people (endpoints), not of area.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import numpy as np
import xarray as xr

from .. import coverage_math as cm
from .. import latency as lat
from ..errors import WorkbenchError

#: Assumed one-way delay of metro aggregation and edge routing between an access site and a DC [ms]
#: (a few router passes at < 20 us each plus one OEO regeneration ~100 us; FIGURES 2).
METRO_EQUIPMENT_MS = 0.1
DEFAULT_BUDGETS_MS = (1.0, 5.0, 20.0)


def _site_mask(scenario, sites) -> np.ndarray:
    if isinstance(sites, str):
        if sites == "all":
            return np.ones(scenario["site"].sizes["site"], bool)
        if sites == "compute":
            mask = scenario.compute_sites().values
            if not mask.any():
                raise WorkbenchError(f"scenario {scenario.name!r} has no site with accelerators in its inventory; "
                                     "pass sites='all' to treat every site as compute")
            return mask
        raise WorkbenchError(f"sites must be 'compute', 'all' or a boolean mask, got {sites!r}")
    mask = np.asarray(sites.values if isinstance(sites, xr.DataArray) else sites, dtype=bool)
    if mask.shape != (scenario["site"].sizes["site"],):
        raise WorkbenchError(f"site mask has shape {mask.shape}; expected ({scenario['site'].sizes['site']},)")
    return mask


def access_delays(tech: np.ndarray) -> np.ndarray:
    """One-way access delay [ms] for an array of access-technology names (vectorised lookup)."""
    names, inverse = np.unique(np.asarray(tech, dtype=str), return_inverse=True)
    unknown = [t for t in names if t not in lat.ACCESS_DELAY_MS]
    if unknown:
        raise WorkbenchError(f"no access delay known for access_tech {unknown}; known: {sorted(lat.ACCESS_DELAY_MS)}")
    return np.array([lat.ACCESS_DELAY_MS[t] for t in names], dtype=float)[inverse]


def point_latency(scenario, *, sites="compute", include_access: bool = False,
                  metro_equipment_ms: float = METRO_EQUIPMENT_MS, n_rings: int = 8, n_angles: int = 12,
                  extra_sites: tuple[np.ndarray, np.ndarray] | None = None) -> dict:
    """Population points of every device group and their lowest one-way latency to compute.

    Returns a dict with ``lon, lat, weight, group`` (per point), ``latency_ms`` and ``site``
    (index of the best site, into the site table, or ``n_sites + j`` for ``extra_sites[j]``).
    """
    dev = scenario["device"]
    site = scenario["site"]
    if dev.sizes["device"] == 0:
        raise WorkbenchError(f"scenario {scenario.name!r} has no device groups: nothing to cover")
    mask = _site_mask(scenario, sites)
    idx = np.flatnonzero(mask)
    slon, slat = site["lon"].values[idx], site["lat"].values[idx]
    sextra = site["hop_delay"].values[idx] + metro_equipment_ms
    if extra_sites is not None:
        slon = np.concatenate([slon, extra_sites[0]])
        slat = np.concatenate([slat, extra_sites[1]])
        sextra = np.concatenate([sextra, np.full(len(extra_sites[0]), metro_equipment_ms)])
        idx = np.concatenate([idx, site.sizes["site"] + np.arange(len(extra_sites[0]))])
    if len(slon) == 0:
        raise WorkbenchError("no sites selected: nothing to reach")
    pts = cm.spread_population(dev["lon"].values, dev["lat"].values, dev["endpoints"].values,
                               np.nan_to_num(dev["spread"].values), n_rings=n_rings, n_angles=n_angles)
    access = np.zeros(len(pts["weight"]))
    if include_access:
        tech = dev["access_tech"].values[pts["group"]]
        access = access_delays(tech)
    latency, best = lat.access_latency_ms(pts["lon"], pts["lat"], slon, slat, access,
                                          scenario.parameters["metro_route_factor"], site_extra_ms=sextra)
    return {**pts, "latency_ms": latency, "site": idx[best]}


def coverage(scenario, budget_ms: Sequence[float] = DEFAULT_BUDGETS_MS, *, sites="compute",
             include_access: bool = False, metro_equipment_ms: float = METRO_EQUIPMENT_MS,
             n_rings: int = 8, n_angles: int = 12) -> xr.Dataset:
    """Share of each device group's population within each one-way latency budget of compute.

    Parameters
    ----------
    scenario : Scenario
    budget_ms : sequence of float
        One-way latency budgets [ms]; default 1, 5 and 20 ms (the "1-5-20 ms" circles,
        FIGURES 1.3).
    sites : "compute", "all" or boolean mask over ``site``
    include_access : bool
        Add the device group's access-technology delay (``workbench.latency.ACCESS_DELAY_MS``).
    metro_equipment_ms : float
        One-way equipment delay between access site and DC [ms] (assumed 0.1 ms).
    n_rings, n_angles : int
        Resolution of each group's population spread.

    Returns
    -------
    xr.Dataset
        ``share`` (device x budget) [1], ``covered`` (device x budget) [1 = endpoints],
        ``mean_latency`` (device) [ms], ``centre_latency`` (device) [ms], ``nearest_site``
        (device), ``province_share`` (province x budget), ``national_share`` (budget) and
        ``national_covered`` (budget). ``attrs["summary_text"]``/``["summary_json"]`` hold a
        printable summary.
    """
    budgets = np.atleast_1d(np.asarray(budget_ms, dtype=float))
    if not np.all(np.isfinite(budgets)) or np.any(budgets <= 0):
        raise WorkbenchError(f"budget_ms must be positive numbers of milliseconds, got {list(budget_ms)}")
    dev = scenario["device"]
    n = dev.sizes["device"]
    pts = point_latency(scenario, sites=sites, include_access=include_access,
                        metro_equipment_ms=metro_equipment_ms, n_rings=n_rings, n_angles=n_angles)
    shares = cm.coverage_shares(pts["latency_ms"], pts["weight"], pts["group"], budgets, n)
    counts = dev["endpoints"].values
    covered = np.nan_to_num(shares) * counts[:, None]  # a group without people covers no one (not NaN)
    # mean over reachable points only (an unreachable point has infinite latency)
    reach = np.isfinite(pts["latency_ms"])
    w_reach = np.bincount(pts["group"], weights=pts["weight"] * reach, minlength=n)
    mean_lat = np.bincount(pts["group"], weights=np.where(reach, pts["weight"] * pts["latency_ms"], 0.0), minlength=n)
    mean_lat = np.divide(mean_lat, w_reach, out=np.full(n, np.nan), where=w_reach > 0)
    centre = _centre_latency(scenario, sites, include_access, metro_equipment_ms)
    site_ids = scenario["site"]["site"].values
    budget_coord = xr.DataArray(budgets, dims="budget", attrs={"units": "ms", "long_name": "one-way latency budget"})
    ds = xr.Dataset(
        {
            "share": (("device", "budget"), shares, {"units": "1", "long_name": "share of population within budget"}),
            "covered": (("device", "budget"), covered, {"units": "1", "long_name": "endpoints within budget"}),
            "mean_latency": ("device", mean_lat, {"units": "ms", "long_name": "population-weighted mean one-way latency"}),
            "centre_latency": ("device", centre[0], {"units": "ms", "long_name": "one-way latency from the group centre"}),
            "nearest_site": ("device", np.where(centre[1] >= 0, np.asarray(site_ids[np.maximum(centre[1], 0)],
                                                                           dtype=object), ""),
                             {"long_name": "best site from the group centre"}),
        },
        coords={"device": dev["device"].values, "budget": budget_coord,
                "name": ("device", dev["name"].values), "province": ("device", dev["province"].values),
                "population": ("device", counts, {"units": "1", "long_name": "endpoints (population)"}),
                "lon": ("device", dev["lon"].values, {"units": "degree_east", "long_name": "longitude"}),
                "lat": ("device", dev["lat"].values, {"units": "degree_north", "long_name": "latitude"})},
    )
    by_prov = ds["covered"].groupby("province").sum() / ds["population"].groupby("province").sum()
    ds["province_share"] = by_prov.assign_attrs(units="1", long_name="share of province's population within budget")
    total = counts.sum()
    ds["national_covered"] = ("budget", covered.sum(0), {"units": "1", "long_name": "endpoints within budget"})
    ds["national_share"] = ("budget", covered.sum(0) / total if total > 0 else np.full(len(budgets), np.nan),
                            {"units": "1", "long_name": "share of all endpoints within budget"})
    ds.attrs.update({
        "analysis": "coverage", "scenario": scenario.name, "sites": sites if isinstance(sites, str) else "mask",
        "include_access": int(include_access), "metro_equipment_ms": metro_equipment_ms,
        "metro_route_factor": scenario.parameters["metro_route_factor"],
        "fibre_delay_ms_per_km": lat.FIBRE_DELAY_MS_PER_KM, "n_rings": n_rings, "n_angles": n_angles,
    })
    summary = {
        "scenario": scenario.name, "device_groups": int(n), "population": float(total),
        "national_share": {f"{b:g}ms": float(s) for b, s in zip(budgets, ds["national_share"].values)},
        "groups_at_or_above_75pct": {f"{b:g}ms": int((shares[:, i] >= 0.75).sum()) for i, b in enumerate(budgets)},
    }
    ds.attrs["summary_json"] = json.dumps(summary)
    lines = [f"coverage of {scenario.name}: {n} device groups, {total:,.0f} endpoints"]
    for b, s, c in zip(budgets, ds["national_share"].values, ds["national_covered"].values):
        lines.append(f"  within {b:g} ms one-way: {100 * s:5.1f}% ({c:,.0f}); groups >= 75%: "
                     f"{int((ds['share'].sel(budget=b).values >= 0.75).sum())}/{n}")
    ds.attrs["summary_text"] = "\n".join(lines)
    return ds


def _centre_latency(scenario, sites, include_access, metro_equipment_ms):
    dev = scenario["device"]
    site = scenario["site"]
    idx = np.flatnonzero(_site_mask(scenario, sites))
    access = np.zeros(dev.sizes["device"])
    if include_access:
        access = access_delays(dev["access_tech"].values)
    latency, best = lat.access_latency_ms(dev["lon"].values, dev["lat"].values, site["lon"].values[idx],
                                          site["lat"].values[idx], access, scenario.parameters["metro_route_factor"],
                                          site_extra_ms=site["hop_delay"].values[idx] + metro_equipment_ms)
    return latency, idx[best]
