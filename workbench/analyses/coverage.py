"""Compute-circle coverage: who is within 1 / 5 / 20 ms one-way of a site with compute.

Model (documented assumptions)
------------------------------
* Population. Each device group (for the China scenario: a metro's residents) is spread around
  its centre with a 2-D exponential density profile ``rho(r) ~ exp(-r/s)``, ``s`` = the group's
  ``spread`` [km] (see :func:`workbench.coverage_math.spread_population`). This makes "the share
  of a metro inside the 1 ms circle" meaningful rather than all-or-nothing.
* Latency (``path_model="graph"``, the default): the path model of :mod:`workbench.paths`. Each
  population point enters the network at its access point of presence (metro fibre, great circle x
  ``metro_route_factor`` x 4.9 us/km, + ``metro_equipment_ms``), then follows the shortest path over
  the link graph on ``layer`` to the best compute site, + that site's ``hop_delay``. A point whose
  PoP reaches no compute site is not covered (and a warning names the PoP). The MIIT circles measure
  the network from the access site to compute (FIGURES 1.5: "access from key sites to compute
  < 1 ms"), so the radio / last-mile delay of the device's ``access_tech`` is excluded by default;
  ``include_access=True`` adds it.
* ``path_model="direct"`` is the named milestone-1 approximation: great circle x
  ``metro_route_factor`` from every point straight to any compute site (no graph).
* Sites with compute are those with accelerators in the inventory (``sites="compute"``), or any
  selection :func:`workbench.paths.resolve_sites` understands (``"all"``, tiers, ids, a mask).

The result is population-weighted: shares are of people (endpoints), not of area.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import numpy as np
import xarray as xr

from .. import coverage_math as cm
from .. import latency as lat
from .. import paths as _paths
from ..errors import WorkbenchError

#: One-way delay of metro aggregation and edge routers between access and PoP [ms] (assumed; see
#: :data:`workbench.paths.METRO_EQUIPMENT_MS`).
METRO_EQUIPMENT_MS = _paths.METRO_EQUIPMENT_MS
DEFAULT_BUDGETS_MS = (1.0, 5.0, 20.0)
#: Default network layer of the compute circles: the MIIT/CAICT circles are optical-layer figures.
DEFAULT_LAYER = "optical"


def target_sites(scenario, sites) -> np.ndarray:
    """Indices of the compute sites a coverage selector names (error if none)."""
    if isinstance(sites, str) and sites == "compute" and not scenario.compute_sites().values.any():
        raise WorkbenchError(f"scenario {scenario.name!r} has no site with accelerators in its inventory; "
                             "pass sites='all' (or tiers / ids) to say which sites count as compute")
    idx = _paths.resolve_sites(scenario, sites)
    if idx.size == 0:
        raise WorkbenchError(f"no sites selected by sites={sites!r}: nothing to reach")
    return idx


def point_latency(scenario, *, sites="compute", include_access: bool = False,
                  metro_equipment_ms: float = METRO_EQUIPMENT_MS, n_rings: int = 8, n_angles: int = 12,
                  layer: str = DEFAULT_LAYER, path_model: str = "graph", network=None, access: str = "group") -> dict:
    """Population points of every device group and their lowest one-way latency to compute.

    Returns a dict with ``lon, lat, weight, group`` (per point), ``latency_ms`` (``inf`` where
    unreachable), ``site`` (index of the best site, -1 where unreachable) and, for the graph model,
    ``pop`` (the point's access site) and ``access_ms`` (the access segment).
    """
    _paths._check_path_model(path_model)
    dev = scenario["device"]
    if dev.sizes["device"] == 0:
        raise WorkbenchError(f"scenario {scenario.name!r} has no device groups: nothing to cover")
    idx = target_sites(scenario, sites)
    pts = cm.spread_population(dev["lon"].values, dev["lat"].values, dev["endpoints"].values,
                               np.nan_to_num(dev["spread"].values), n_rings=n_rings, n_angles=n_angles)
    if path_model == "direct":
        res = _paths.direct_point_latency(scenario, pts["lon"], pts["lat"], pts["group"], idx,
                                          include_access=include_access, metro_equipment_ms=metro_equipment_ms)
    else:
        res = _paths.point_latency(scenario, pts["lon"], pts["lat"], pts["group"], pts["weight"], idx, layer=layer,
                                   include_access=include_access, metro_equipment_ms=metro_equipment_ms,
                                   network=network, access=access)
    return {**pts, **res}


def coverage(scenario, budget_ms: Sequence[float] = DEFAULT_BUDGETS_MS, *, sites="compute",
             include_access: bool = False, layer: str = DEFAULT_LAYER, path_model: str = "graph",
             access: str = "group", metro_equipment_ms: float = METRO_EQUIPMENT_MS, n_rings: int = 8,
             n_angles: int = 12) -> xr.Dataset:
    """Share of each device group's population within each one-way latency budget of compute.

    Parameters
    ----------
    scenario : Scenario
    budget_ms : float or sequence of float
        One-way latency budgets [ms]; default 1, 5 and 20 ms (the "1-5-20 ms" circles,
        FIGURES 1.3).
    sites : "compute", "all", tier(s), site ids or boolean mask over ``site``
        Which sites count as compute (:func:`workbench.paths.resolve_sites`).
    include_access : bool
        Add the device group's access-technology delay (``workbench.latency.ACCESS_DELAY_MS``).
    layer : {"optical", "ip", "internet"}
        Network layer the paths are carried on (:data:`workbench.paths.LAYERS`).
    path_model : {"graph", "direct"}
        ``graph``: over the link graph (default). ``direct``: the named great-circle approximation.
    access : {"group", "point"}
        Where population points enter the graph: their group's access PoP (default) or each point's
        nearest access site (:func:`workbench.paths.access_of_points`).
    metro_equipment_ms : float
        One-way equipment delay between access and the PoP [ms] (assumed 0.1 ms).
    n_rings, n_angles : int
        Resolution of each group's population spread.

    Returns
    -------
    xr.Dataset
        ``share`` (device x budget) [1], ``covered`` (device x budget) [1 = endpoints],
        ``mean_latency`` (device) [ms], ``centre_latency`` (device) [ms], ``nearest_site``
        (device), ``access_site`` (device; graph model), ``unreachable`` (device) [1 = endpoints],
        ``province_share`` (province x budget), ``national_share`` (budget) and
        ``national_covered`` (budget). ``attrs["summary_text"]``/``["summary_json"]`` hold a
        printable summary.
    """
    budgets = np.atleast_1d(np.asarray(budget_ms, dtype=float))
    if budgets.size == 0 or not np.all(np.isfinite(budgets)) or np.any(budgets <= 0):
        raise WorkbenchError(f"budget_ms must be positive numbers of milliseconds, got {budgets.tolist()}")
    _paths._check_path_model(path_model)
    layer_name = _paths.get_layer(layer).name
    dev = scenario["device"]
    n = dev.sizes["device"]
    net = _paths.Network.from_scenario(scenario, layer) if path_model == "graph" else None
    pts = point_latency(scenario, sites=sites, include_access=include_access, metro_equipment_ms=metro_equipment_ms,
                        n_rings=n_rings, n_angles=n_angles, layer=layer, path_model=path_model, network=net,
                        access=access)
    shares = cm.coverage_shares(pts["latency_ms"], pts["weight"], pts["group"], budgets, n)
    counts = dev["endpoints"].values
    covered = np.nan_to_num(shares) * counts[:, None]  # a group without people covers no one (not NaN)
    # mean over reachable points only (an unreachable point has infinite latency)
    reach = np.isfinite(pts["latency_ms"])
    w_reach = np.bincount(pts["group"], weights=pts["weight"] * reach, minlength=n)
    unreachable = np.bincount(pts["group"], weights=pts["weight"] * ~reach, minlength=n)
    mean_lat = np.bincount(pts["group"], weights=np.where(reach, pts["weight"] * pts["latency_ms"], 0.0), minlength=n)
    mean_lat = np.divide(mean_lat, w_reach, out=np.full(n, np.nan), where=w_reach > 0)
    centre = _centre_latency(scenario, sites, include_access, metro_equipment_ms, layer, path_model, net)
    site_ids = scenario["site"]["site"].values

    def _ids(i):
        return np.where(i >= 0, np.asarray(site_ids[np.maximum(i, 0)], dtype=object), "")

    budget_coord = xr.DataArray(budgets, dims="budget", attrs={"units": "ms", "long_name": "one-way latency budget"})
    ds = xr.Dataset(
        {
            "share": (("device", "budget"), shares, {"units": "1", "long_name": "share of population within budget"}),
            "covered": (("device", "budget"), covered, {"units": "1", "long_name": "endpoints within budget"}),
            "mean_latency": ("device", mean_lat, {"units": "ms", "long_name": "population-weighted mean one-way latency"}),
            "centre_latency": ("device", np.where(np.isfinite(centre["latency_ms"]), centre["latency_ms"], np.nan),
                               {"units": "ms", "long_name": "one-way latency from the group centre"}),
            "nearest_site": ("device", _ids(centre["site"]), {"long_name": "best site from the group centre"}),
            "unreachable": ("device", unreachable,
                            {"units": "1", "long_name": "endpoints whose access site reaches no compute"}),
        },
        coords={"device": dev["device"].values, "budget": budget_coord,
                "name": ("device", dev["name"].values), "province": ("device", dev["province"].values),
                "population": ("device", counts, {"units": "1", "long_name": "endpoints (population)"}),
                "lon": ("device", dev["lon"].values, {"units": "degree_east", "long_name": "longitude"}),
                "lat": ("device", dev["lat"].values, {"units": "degree_north", "long_name": "latitude"})},
    )
    if path_model == "graph":
        ds["access_site"] = ("device", _ids(centre["pop"]), {"long_name": "access PoP of the group centre"})
    by_prov = ds["covered"].groupby("province").sum() / ds["population"].groupby("province").sum()
    ds["province_share"] = by_prov.assign_attrs(units="1", long_name="share of province's population within budget")
    total = counts.sum()
    ds["national_covered"] = ("budget", covered.sum(0), {"units": "1", "long_name": "endpoints within budget"})
    ds["national_share"] = ("budget", covered.sum(0) / total if total > 0 else np.full(len(budgets), np.nan),
                            {"units": "1", "long_name": "share of all endpoints within budget"})
    ds.attrs.update({
        "analysis": "coverage", "scenario": scenario.name, "sites": sites if isinstance(sites, str) else "selection",
        "include_access": int(include_access), "metro_equipment_ms": metro_equipment_ms,
        "path_model": path_model, "layer": layer_name if path_model == "graph" else "",
        "access": access if path_model == "graph" else "",
        "route_factor": scenario.parameters["route_factor"],
        "metro_route_factor": scenario.parameters["metro_route_factor"],
        "fibre_delay_ms_per_km": lat.FIBRE_DELAY_MS_PER_KM, "n_rings": n_rings, "n_angles": n_angles,
    })
    summary = {
        "scenario": scenario.name, "device_groups": int(n), "population": float(total),
        "path_model": path_model, "layer": ds.attrs["layer"],
        "national_share": {f"{b:g}ms": float(s) for b, s in zip(budgets, ds["national_share"].values)},
        "groups_at_or_above_75pct": {f"{b:g}ms": int((shares[:, i] >= 0.75).sum()) for i, b in enumerate(budgets)},
        "unreachable": float(unreachable.sum()),
    }
    ds.attrs["summary_json"] = json.dumps(summary)
    how = f"over the link graph ({layer_name} layer)" if path_model == "graph" else "direct (great-circle approximation)"
    lines = [f"coverage of {scenario.name}: {n} device groups, {total:,.0f} endpoints; one-way latency {how}"]
    for b, s, c in zip(budgets, ds["national_share"].values, ds["national_covered"].values):
        lines.append(f"  within {b:g} ms one-way: {100 * s:5.1f}% ({c:,.0f}); groups >= 75%: "
                     f"{int((ds['share'].sel(budget=b).values >= 0.75).sum())}/{n}")
    if unreachable.sum() > 0:
        lines.append(f"  unreachable over the graph: {unreachable.sum():,.0f} endpoints")
    ds.attrs["summary_text"] = "\n".join(lines)
    return ds


def _centre_latency(scenario, sites, include_access, metro_equipment_ms, layer, path_model, network):
    """Latency from each group's centre (one point per group, same path model)."""
    dev = scenario["device"]
    idx = target_sites(scenario, sites)
    n = dev.sizes["device"]
    lon, la, group = dev["lon"].values.astype(float), dev["lat"].values.astype(float), np.arange(n)
    if path_model == "direct":
        return _paths.direct_point_latency(scenario, lon, la, group, idx, include_access=include_access,
                                           metro_equipment_ms=metro_equipment_ms)
    return _paths.point_latency(scenario, lon, la, group, dev["endpoints"].values, idx, layer=layer,
                                include_access=include_access, metro_equipment_ms=metro_equipment_ms,
                                network=network, warn=False)
