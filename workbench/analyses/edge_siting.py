"""Which new edge sites raise the population inside a latency circle to a target share?

Greedy maximum coverage: starting from the scenario's existing compute sites, repeatedly add the
candidate site that brings the most not-yet-covered people inside the one-way budget, until the
national share reaches the target (the MIIT 2026-2028 plan: 75% of metro areas inside the 1 ms
circle by 2028, FIGURES 1.6) or no candidate adds anyone. Greedy is the classic (1 - 1/e)
approximation of maximum coverage (Nemhauser, Wolsey & Fisher 1978), exact enough for siting
candidates; every iteration is one sparse matrix-vector product, not a loop over sites.

Candidates are the centres of the device groups (an edge DC in the middle of each metro) or,
with ``candidates="points"``, every population point of the spread model (finer siting).
"""

from __future__ import annotations

import json

import numpy as np
import scipy.sparse as sp
import xarray as xr

from .. import geo
from .. import latency as lat
from ..errors import WorkbenchError
from .coverage import METRO_EQUIPMENT_MS, point_latency


def edge_siting(scenario, target_share: float = 0.75, budget_ms: float = 1.0, *, candidates: str = "centres",
                metro_equipment_ms: float = METRO_EQUIPMENT_MS, new_site_hop_delay_ms: float = 0.0,
                max_new_sites: int = 500, n_rings: int = 8, n_angles: int = 12) -> xr.Dataset:
    """Greedy choice of new edge sites until ``target_share`` of endpoints is within ``budget_ms``.

    Parameters
    ----------
    target_share : float
        National population share to reach [1], default 0.75.
    budget_ms : float
        One-way latency budget [ms], default 1.
    candidates : {"centres", "points"}
    new_site_hop_delay_ms : float
        Internal delay of a new edge site [ms] (default 0, like the scenario's metro edge sites).

    Returns
    -------
    xr.Dataset over ``new_site`` (1, 2, ... in order of addition; not ``rank``, which is a Dataset method): ``lon``, ``lat``, ``group`` (device id whose
    centre or point it is), ``gain`` [1 = endpoints], ``cumulative_share`` [1]; scalars
    ``baseline_share`` and ``final_share``; per device ``share_before``/``share_after``.
    """
    if not 0 < target_share <= 1:
        raise WorkbenchError(f"target_share must be in (0, 1], got {target_share}")
    if budget_ms <= 0:
        raise WorkbenchError(f"budget_ms must be positive, got {budget_ms}")
    pts = point_latency(scenario, metro_equipment_ms=metro_equipment_ms, n_rings=n_rings, n_angles=n_angles)
    dev = scenario["device"]
    n_groups = dev.sizes["device"]
    weight = pts["weight"]
    total = weight.sum()
    covered = pts["latency_ms"] <= budget_ms
    if candidates == "centres":
        clon, clat, cgroup = dev["lon"].values, dev["lat"].values, np.arange(n_groups)
    elif candidates == "points":
        clon, clat, cgroup = pts["lon"], pts["lat"], pts["group"]
    else:
        raise WorkbenchError(f"candidates must be 'centres' or 'points', got {candidates!r}")
    # a candidate covers a point when fibre + equipment + its own delay fit in the budget
    reach_ms = budget_ms - metro_equipment_ms - new_site_hop_delay_ms
    if reach_ms <= 0:
        raise WorkbenchError(f"budget_ms={budget_ms} leaves no time for fibre after equipment delays")
    radius_km = reach_ms / (lat.FIBRE_DELAY_MS_PER_KM * scenario.parameters["metro_route_factor"])
    index = geo.SiteIndex(clon, clat)
    lists = index.within(pts["lon"], pts["lat"], radius_km)
    rows = np.repeat(np.arange(len(lists)), [len(x) for x in lists])
    cols = np.concatenate([np.asarray(x, dtype=np.int64) for x in lists]) if len(rows) else np.array([], np.int64)
    cover = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(weight), len(clon)))
    cover_t = cover.T.tocsr()
    share_before = _group_share(covered, weight, pts["group"], n_groups)
    order, gains, shares, reached = [], [], [], []
    share = weight[covered].sum() / total
    baseline = share
    while share < target_share and len(order) < max_new_sites:
        gain = cover_t @ np.where(covered, 0.0, weight)
        best = int(np.argmax(gain))
        if gain[best] <= 0:
            break
        newly = cover_t.indices[cover_t.indptr[best]:cover_t.indptr[best + 1]]
        newly = newly[~covered[newly]]
        reached.append(len(np.unique(pts["group"][newly])))
        covered[newly] = True
        share = weight[covered].sum() / total
        order.append(best)
        gains.append(gain[best])
        shares.append(share)
    order = np.asarray(order, dtype=int)
    ids = dev["device"].values
    ds = xr.Dataset(
        {
            "lon": ("new_site", clon[order], {"units": "degree_east", "long_name": "longitude of new site"}),
            "lat": ("new_site", clat[order], {"units": "degree_north", "long_name": "latitude of new site"}),
            "group": ("new_site", np.asarray(ids[cgroup[order]], dtype=object), {"long_name": "device group served"}),
            "name": ("new_site", np.asarray(dev["name"].values[cgroup[order]], dtype=object), {"long_name": "place"}),
            "gain": ("new_site", np.asarray(gains, float), {"units": "1", "long_name": "endpoints newly inside budget"}),
            "groups_reached": ("new_site", np.asarray(reached, dtype=np.int64),
                               {"units": "1", "long_name": "device groups with people newly inside budget"}),
            "cumulative_share": ("new_site", np.asarray(shares, float),
                                 {"units": "1", "long_name": "national share inside budget"}),
            "share_before": ("device", share_before, {"units": "1", "long_name": "share inside budget before"}),
            "share_after": ("device", _group_share(covered, weight, pts["group"], n_groups),
                            {"units": "1", "long_name": "share inside budget after"}),
        },
        coords={"new_site": np.arange(1, len(order) + 1), "device": ids},
    )
    ds["baseline_share"] = xr.DataArray(baseline, attrs={"units": "1", "long_name": "national share before"})
    ds["final_share"] = xr.DataArray(share, attrs={"units": "1", "long_name": "national share after"})
    done = bool(share >= target_share)
    ds.attrs.update({"analysis": "edge_siting", "scenario": scenario.name, "budget_ms": budget_ms,
                     "target_share": target_share, "candidates": candidates, "reached": int(done),
                     "radius_km": radius_km})
    ds.attrs["summary_json"] = json.dumps({
        "budget_ms": budget_ms, "target_share": target_share, "baseline_share": float(baseline),
        "final_share": float(share), "new_sites": int(len(order)), "reached": done,
        "sites": [{"group": str(g), "name": str(nm), "lon": float(x), "lat": float(y), "gain": float(gn),
                   "groups_reached": int(k)}
                  for g, nm, x, y, gn, k in zip(ds["group"].values, ds["name"].values, ds["lon"].values,
                                                ds["lat"].values, ds["gain"].values, ds["groups_reached"].values)],
    })
    head = (f"edge siting for {scenario.name}: {100 * baseline:.1f}% -> {100 * share:.1f}% of endpoints within "
            f"{budget_ms:g} ms with {len(order)} new sites (target {100 * target_share:.0f}%"
            f"{'' if done else ', NOT reached'})")
    body = [f"  {r:3d}. site at {nm} ({g}): +{gn:,.0f} people in {k} metro{'s' if k != 1 else ''} -> {100 * s:.1f}%"
            for r, nm, g, gn, k, s in zip(ds["new_site"].values, ds["name"].values, ds["group"].values,
                                          ds["gain"].values, ds["groups_reached"].values,
                                          ds["cumulative_share"].values)]
    ds.attrs["summary_text"] = "\n".join([head, *body])
    return ds


def _group_share(covered, weight, group, n_groups):
    num = np.bincount(group, weights=weight * covered, minlength=n_groups)
    den = np.bincount(group, weights=weight, minlength=n_groups)
    return np.divide(num, den, out=np.full(n_groups, np.nan), where=den > 0)
