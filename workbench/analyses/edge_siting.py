"""Which new edge sites raise the population inside a latency circle to a target share?

Greedy maximum coverage: starting from the scenario's existing compute sites, repeatedly add the
candidate site that brings the most not-yet-covered people inside the one-way budget, until the
national share reaches the target (the MIIT 2026-2028 plan: 75% of metro areas inside the 1 ms
circle by 2028, FIGURES 1.6) or no candidate adds anyone. Greedy is the classic (1 - 1/e)
approximation of maximum coverage (Nemhauser, Wolsey & Fisher 1978), exact enough for siting
candidates; every iteration is one sparse matrix-vector product, not a loop over sites.

Over the link graph (``path_model="graph"``, default) a candidate is a site of the graph that gets
compute: a new edge DC at an existing network node. A population point is covered by candidate
``c`` when its access segment + the graph path from its access PoP to ``c`` + the new site's
internal delay fit in the budget. Candidates (``candidates=``):

* ``"centres"``: the access PoP of every device group's centre (an edge DC at each metro's PoP);
* ``"access"``: every access site without compute;
* ``"sites"``: every site without compute.

With ``path_model="direct"`` (the named milestone-1 approximation) a candidate is a point anywhere
(``"centres"``: group centres; ``"points"``: every population point of the spread model) and reaches
points in a straight line at ``metro_route_factor``.
"""

from __future__ import annotations

import json

import numpy as np
import scipy.sparse as sp
import xarray as xr

from .. import geo
from .. import latency as lat
from .. import paths as _paths
from ..errors import WorkbenchError
from .coverage import DEFAULT_LAYER, METRO_EQUIPMENT_MS, point_latency

CANDIDATES = {"graph": ("centres", "access", "sites"), "direct": ("centres", "points")}


def edge_siting(scenario, target_share: float = 0.75, budget_ms=1.0, *, sites="compute",
                include_access: bool = False, layer: str = DEFAULT_LAYER, path_model: str = "graph",
                access: str = "group", candidates: str = "centres", metro_equipment_ms: float = METRO_EQUIPMENT_MS,
                new_site_hop_delay_ms: float = 0.0, max_new_sites: int = 500, n_rings: int = 8,
                n_angles: int = 12) -> xr.Dataset:
    """Greedy choice of new edge sites until ``target_share`` of endpoints is within ``budget_ms``.

    Parameters
    ----------
    target_share : float
        National population share to reach [1], default 0.75.
    budget_ms : float or sequence of float
        One-way latency budget(s) [ms], default 1. A sequence runs the siting once per budget and
        adds a ``budget`` dimension.
    sites, include_access, layer, path_model, access, metro_equipment_ms, n_rings, n_angles
        As in :func:`workbench.analyses.coverage.coverage`: which sites already count as compute,
        whether the radio delay is counted, the network layer, graph or direct paths.
    candidates : str
        ``"centres"``, ``"access"`` or ``"sites"`` over the graph; ``"centres"`` or ``"points"`` direct.
    new_site_hop_delay_ms : float
        Internal delay of a new edge site [ms] (default 0, like the scenario's metro edge sites); over
        the graph it adds to the candidate site's own ``hop_delay``.
    max_new_sites : int
        Stop after this many sites.

    Returns
    -------
    xr.Dataset over ``new_site`` (1, 2, ... in order of addition; not ``rank``, a Dataset method): ``site`` (graph model: the node that gets compute),
    ``lon``, ``lat``, ``group`` (device group whose centre or point it is), ``name``, ``gain``
    [1 = endpoints], ``groups_reached``, ``cumulative_share`` [1]; ``baseline_share`` and
    ``final_share``; per device ``share_before``/``share_after``. With several budgets every variable
    gains a ``budget`` dimension (shorter lists padded with NaN / "").
    """
    if not 0 < target_share <= 1:
        raise WorkbenchError(f"target_share must be in (0, 1], got {target_share}")
    _paths._check_path_model(path_model)
    if candidates not in CANDIDATES[path_model]:
        raise WorkbenchError(f"candidates must be one of {', '.join(CANDIDATES[path_model])} with "
                             f"path_model={path_model!r}, got {candidates!r}")
    budgets = np.atleast_1d(np.asarray(budget_ms, dtype=float))
    if budgets.size == 0 or not np.all(np.isfinite(budgets)) or np.any(budgets <= 0):
        raise WorkbenchError(f"budget_ms must be positive numbers of milliseconds, got {budgets.tolist()}")
    net = _paths.Network.from_scenario(scenario, layer) if path_model == "graph" else None
    pts = point_latency(scenario, sites=sites, include_access=include_access, metro_equipment_ms=metro_equipment_ms,
                        n_rings=n_rings, n_angles=n_angles, layer=layer, path_model=path_model, network=net,
                        access=access)
    runs = []
    for b in budgets:
        if path_model == "graph":
            cand, cover = _graph_candidates(scenario, net, pts, float(b), candidates, sites, new_site_hop_delay_ms)
        else:
            cand, cover = _direct_candidates(scenario, pts, float(b), candidates, metro_equipment_ms,
                                             new_site_hop_delay_ms)
        runs.append(_greedy(scenario, pts, cand, cover, float(b), target_share, max_new_sites))
    if np.ndim(budget_ms) == 0:
        ds = runs[0]
    else:
        ds = xr.concat(runs, dim=xr.DataArray(budgets, dims="budget", name="budget",
                                              attrs={"units": "ms", "long_name": "one-way latency budget"}),
                       join="outer", data_vars="all", coords="minimal", compat="override", combine_attrs="drop")
        for name in ("site", "group", "name"):
            ds[name] = ds[name].fillna("")
        for name in ds.variables:                        # concat with combine_attrs="drop" loses them
            if name in runs[0].variables:
                ds[name].attrs = dict(runs[0][name].attrs)
        ds.attrs["summary_json"] = json.dumps([json.loads(r.attrs["summary_json"]) for r in runs])
        ds.attrs["summary_text"] = "\n".join(r.attrs["summary_text"] for r in runs)
        ds.attrs["reached"] = int(all(r.attrs["reached"] for r in runs))
    ds.attrs.update({"analysis": "edge_siting", "scenario": scenario.name, "target_share": target_share,
                     "candidates": candidates, "path_model": path_model,
                     "layer": _paths.get_layer(layer).name if path_model == "graph" else "",
                     "include_access": int(include_access)})
    if np.ndim(budget_ms) == 0:
        ds.attrs["budget_ms"] = float(budgets[0])
    return ds


def _graph_candidates(scenario, net, pts, budget, candidates, sites, new_delay):
    """Candidate sites and the sparse point x candidate cover matrix over the graph."""
    site = scenario["site"]
    dev = scenario["device"]
    n_sites = site.sizes["site"]
    is_target = np.zeros(n_sites, bool)
    is_target[_paths.resolve_sites(scenario, sites)] = True
    if candidates == "centres":
        cpop, _ = _paths.access_of_points(scenario, dev["lon"].values, dev["lat"].values,
                                          np.arange(dev.sizes["device"]))
        cand = np.unique(cpop)
    elif candidates == "access":
        cand = np.flatnonzero(_paths.access_mask(scenario, warn=False))
    else:
        cand = np.arange(n_sites)
    cand = cand[~is_target[cand]]
    n_pts = pts["latency_ms"].size
    # what a candidate leaves for the path: the budget minus its internal delay once it has compute
    own = np.nan_to_num(site["hop_delay"].values.astype(float))[cand] + new_delay
    reach = budget - own.min() if cand.size else 0.0
    if cand.size == 0 or reach <= 0:
        return cand, sp.csr_matrix((n_pts, cand.size))
    # points sorted by (access site, access latency): each (candidate, PoP) pair covers a prefix
    pop = pts["pop"]
    acc = pts["access_ms"]
    order = np.lexsort((acc, pop))
    pop_s, acc_s = pop[order], acc[order]
    start = np.searchsorted(pop_s, np.arange(n_sites), side="left")
    end = np.searchsorted(pop_s, np.arange(n_sites), side="right")
    span = float(np.max(acc_s)) + reach + 1.0 if acc_s.size else 1.0
    keyed = pop_s * span + acc_s                       # one sorted array; block p is [p*span, (p+1)*span)
    rows, cols = [], []
    chunk = max(1, (1 << 22) // max(n_sites, 1))       # bound the dense candidate x site block to ~4 M
    for c0 in range(0, cand.size, chunk):
        cc = cand[c0:c0 + chunk]
        d = net.latency(cc, limit_ms=reach)            # (chunk, n_sites), inf beyond the budget
        ci, p = np.nonzero(np.isfinite(d) & (end > start)[None, :])
        left = budget - own[c0 + ci] - d[ci, p]
        cnt = np.searchsorted(keyed, p * span + left, side="right") - start[p]
        cnt = np.clip(cnt, 0, end[p] - start[p])
        total = int(cnt.sum())
        if not total:
            continue
        first = np.repeat(start[p] - (np.cumsum(cnt) - cnt), cnt) + np.arange(total)
        rows.append(order[first])
        cols.append(np.repeat(c0 + ci, cnt))
    r = np.concatenate(rows) if rows else np.zeros(0, np.int64)
    c = np.concatenate(cols) if cols else np.zeros(0, np.int64)
    return cand, sp.csr_matrix((np.ones(r.size), (r, c)), shape=(n_pts, cand.size))


def _direct_candidates(scenario, pts, budget, candidates, metro_equipment_ms, new_delay):
    """The milestone-1 candidates: points anywhere, reached in a straight line."""
    dev = scenario["device"]
    if candidates == "centres":
        clon, clat, cgroup = dev["lon"].values, dev["lat"].values, np.arange(dev.sizes["device"])
    else:
        clon, clat, cgroup = pts["lon"], pts["lat"], pts["group"]
    reach_ms = budget - metro_equipment_ms - new_delay
    if reach_ms <= 0:
        raise WorkbenchError(f"budget_ms={budget} leaves no time for fibre after equipment delays")
    radius_km = reach_ms / (lat.FIBRE_DELAY_MS_PER_KM * scenario.parameters["metro_route_factor"])
    index = geo.SiteIndex(clon, clat)
    lists = index.within(pts["lon"], pts["lat"], radius_km)
    rows = np.repeat(np.arange(len(lists)), [len(x) for x in lists])
    cols = np.concatenate([np.asarray(x, dtype=np.int64) for x in lists]) if len(rows) else np.array([], np.int64)
    cover = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(pts["weight"]), len(clon)))
    return {"lon": np.asarray(clon, float), "lat": np.asarray(clat, float), "group": np.asarray(cgroup)}, cover


def _greedy(scenario, pts, cand, cover, budget, target_share, max_new_sites) -> xr.Dataset:
    dev = scenario["device"]
    n_groups = dev.sizes["device"]
    weight = pts["weight"]
    total = weight.sum()
    covered = pts["latency_ms"] <= budget
    cover_t = cover.T.tocsr()
    share_before = _group_share(covered, weight, pts["group"], n_groups)
    order, gains, shares, reached = [], [], [], []
    share = weight[covered].sum() / total if total > 0 else float("nan")
    baseline = share
    while share < target_share and len(order) < max_new_sites and cover_t.shape[0]:
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
    names = dev["name"].values
    if isinstance(cand, dict):                           # direct model: points anywhere
        lon, la = cand["lon"][order], cand["lat"][order]
        group = np.asarray(ids[cand["group"][order]], dtype=object)
        name = np.asarray(names[cand["group"][order]], dtype=object)
        site_id = np.full(order.size, "", dtype=object)
    else:                                                # graph model: sites that get compute
        site = scenario["site"]
        chosen = cand[order]
        lon, la = site["lon"].values[chosen], site["lat"].values[chosen]
        site_id = np.asarray(site["site"].values[chosen], dtype=object)
        sname = site["name"].values.astype(str)[chosen]
        # the device group whose centre enters the graph at that site (the largest), if any
        cpop, _ = _paths.access_of_points(scenario, dev["lon"].values, dev["lat"].values, np.arange(n_groups))
        big = np.full(site.sizes["site"], -1)
        by_count = np.argsort(dev["endpoints"].values)       # ascending: the largest group is written last
        big[cpop[by_count]] = by_count
        gidx = big[chosen]
        group = np.where(gidx >= 0, np.asarray(ids[np.maximum(gidx, 0)], dtype=object), "")
        name = np.where(sname != "", sname, np.where(gidx >= 0, names[np.maximum(gidx, 0)], site_id)).astype(object)
    ds = xr.Dataset(
        {
            "site": ("new_site", site_id, {"long_name": "site that gets compute (graph model)"}),
            "lon": ("new_site", np.asarray(lon, float), {"units": "degree_east", "long_name": "longitude of new site"}),
            "lat": ("new_site", np.asarray(la, float), {"units": "degree_north", "long_name": "latitude of new site"}),
            "group": ("new_site", group, {"long_name": "device group served"}),
            "name": ("new_site", name, {"long_name": "place"}),
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
    ds.attrs.update({"budget_ms": budget, "reached": int(done)})
    ds.attrs["summary_json"] = json.dumps({
        "budget_ms": budget, "target_share": target_share, "baseline_share": float(baseline),
        "final_share": float(share), "new_sites": int(len(order)), "reached": done,
        "sites": [{"site": str(s), "group": str(g), "name": str(nm), "lon": float(x), "lat": float(y),
                   "gain": float(gn), "groups_reached": int(k)}
                  for s, g, nm, x, y, gn, k in zip(ds["site"].values, ds["group"].values, ds["name"].values,
                                                   ds["lon"].values, ds["lat"].values, ds["gain"].values,
                                                   ds["groups_reached"].values)],
    })
    head = (f"edge siting for {scenario.name}: {100 * baseline:.1f}% -> {100 * share:.1f}% of endpoints within "
            f"{budget:g} ms with {len(order)} new sites (target {100 * target_share:.0f}%"
            f"{'' if done else ', NOT reached'})")
    body = [f"  {r:3d}. site at {nm}{f' ({g})' if g else ''}: +{gn:,.0f} people in {k} metro{'s' if k != 1 else ''}"
            f" -> {100 * s:.1f}%"
            for r, nm, g, gn, k, s in zip(ds["new_site"].values, ds["name"].values, ds["group"].values,
                                          ds["gain"].values, ds["groups_reached"].values,
                                          ds["cumulative_share"].values)]
    ds.attrs["summary_text"] = "\n".join([head, *body])
    return ds


def _group_share(covered, weight, group, n_groups):
    num = np.bincount(group, weights=weight * covered, minlength=n_groups)
    den = np.bincount(group, weights=weight, minlength=n_groups)
    return np.divide(num, den, out=np.full(n_groups, np.nan), where=den > 0)
