"""Site-to-site latencies and paths over the link graph: ``latency_matrix`` and ``paths``.

Both come from the one engine of :mod:`workbench.paths`, so a cut, a new direct route or a longer
detour in the ``link`` table changes them and every analysis built on them. All latencies are one
way [ms], between the sites' network nodes (the serving site's internal ``hop_delay`` is not part of
a site-to-site figure; every touched site's ``transit_delay`` and the layer's overheads are).
"""

from __future__ import annotations

import json
import warnings

import numpy as np
import xarray as xr

from .. import paths as _paths
from ..errors import WorkbenchError, WorkbenchWarning


def _site_coords(scenario, idx, dim):
    site = scenario["site"]
    return {dim: (dim, site["site"].values[idx]),
            f"{dim}_name": (dim, site["name"].values[idx]),
            f"{dim}_tier": (dim, site["tier"].values[idx])}


def _warn_unreachable(scenario, src_idx, dst_idx, lat_):
    bad = ~np.isfinite(lat_)
    if not bad.any():
        return
    ids = scenario["site"]["site"].values.astype(str)
    off = src_idx[:, None] != dst_idx[None, :]           # a site always reaches itself: compare off-diagonal
    cut_src = src_idx[(bad.sum(1) == off.sum(1)) & (off.sum(1) > 0)]
    cut_dst = dst_idx[(bad.sum(0) == off.sum(0)) & (off.sum(0) > 0)]
    worst = np.unique(np.concatenate([cut_src, cut_dst]))
    names = ids[worst] if worst.size else np.unique(ids[src_idx[np.nonzero(bad)[0]]])
    shown = ", ".join(names[:8].tolist()) + (f" and {names.size - 8} more" if names.size > 8 else "")
    warnings.warn(f"{int(bad.sum())} site pair{'s' if bad.sum() != 1 else ''} of scenario {scenario.name!r} have no "
                  f"path over the link graph (unreachable: {shown})", WorkbenchWarning, stacklevel=3)


#: Largest src x dst result built in one call [cells]: 20 million cells are ~0.5 GB of float64 variables
#: and the Dijkstra predecessors; beyond it the user is asked to select sites (a sizing choice).
MAX_CELLS = 20_000_000


def _check_size(scenario, src_idx, dst_idx, per_pair: int = 1):
    cells = src_idx.size * dst_idx.size * per_pair
    n = scenario["site"].sizes["site"]
    if cells > MAX_CELLS or src_idx.size * n > 4 * MAX_CELLS:
        raise WorkbenchError(f"{src_idx.size:,} x {dst_idx.size:,} site pairs of scenario {scenario.name!r} are too many "
                             f"for one result; select sources and destinations with sites= and dst= (ids, tiers "
                             f"such as 'hub' or 'cluster', 'compute', 'access')")


def latency_matrix(scenario, sites=None, *, dst=None, layer: str = "optical") -> xr.Dataset:
    """One-way latency between sites over the link graph.

    Parameters
    ----------
    scenario : Scenario
    sites : selector, optional
        Source sites: ids, tiers (``"cluster"``), ``"compute"``, ``"access"``, a mask or ``None`` (all);
        see :func:`workbench.paths.resolve_sites`.
    dst : selector, optional
        Destination sites (default: the same as ``sites``).
    layer : {"optical", "ip", "internet"}
        Network layer (:data:`workbench.paths.LAYERS`).

    Returns
    -------
    xr.Dataset
        On dims ``src`` x ``dst``: ``latency`` [ms] (one way; NaN where unreachable), ``path_length``
        [km] (fibre length of the path's links), ``hops`` [1] (links on the path; -1 where
        unreachable), ``reachable`` (bool); ``attrs["summary_text"]`` with mean and maximum.

    Examples
    --------
    >>> import workbench as wb
    >>> m = wb.analyze("latency_matrix", wb.load_scenario("china-edwc"), sites="hub")
    >>> m.latency.sel(src="hub-beijing", dst="hub-guangzhou").item() > 0
    True
    """
    src_idx = _paths.resolve_sites(scenario, sites, what="sites")
    dst_idx = src_idx if dst is None else _paths.resolve_sites(scenario, dst, what="dst")
    _check_size(scenario, src_idx, dst_idx)
    net = _paths.Network.from_scenario(scenario, layer)
    r = net.route(src_idx, dst_idx)
    lat_ = r["latency"]
    _warn_unreachable(scenario, src_idx, dst_idx, lat_)
    reach = np.isfinite(lat_)
    ds = xr.Dataset(
        {
            "latency": (("src", "dst"), np.where(reach, lat_, np.nan),
                        {"units": "ms", "long_name": "one-way latency over the link graph"}),
            "path_length": (("src", "dst"), r["length_km"], {"units": "km", "long_name": "fibre length of the path"}),
            "hops": (("src", "dst"), r["hops"], {"units": "1", "long_name": "links on the path (-1: unreachable)"}),
            "reachable": (("src", "dst"), reach, {"long_name": "a path exists"}),
        },
        coords={**_site_coords(scenario, src_idx, "src"), **_site_coords(scenario, dst_idx, "dst")},
    )
    off = src_idx[:, None] != dst_idx[None, :]
    vals = lat_[off & reach]
    summ = {"layer": net.layer.name, "sources": int(src_idx.size), "destinations": int(dst_idx.size),
            "pairs": int(off.sum()), "unreachable_pairs": int((off & ~reach).sum()),
            "mean_ms": float(vals.mean()) if vals.size else float("nan"),
            "max_ms": float(vals.max()) if vals.size else float("nan")}
    if vals.size:
        i, j = np.unravel_index(np.argmax(np.where(off & reach, lat_, -np.inf)), lat_.shape)
        summ["max_pair"] = [str(ds.src.values[i]), str(ds.dst.values[j])]
    ds.attrs.update({"analysis": "latency_matrix", "scenario": scenario.name, "layer": net.layer.name,
                     "direction": "one way", "summary_json": json.dumps(summ)})
    text = (f"one-way latency over the link graph ({net.layer.name} layer) of {scenario.name}: {summ['pairs']} site "
            f"pairs, mean {summ['mean_ms']:.2f} ms, max {summ['max_ms']:.2f} ms")
    if "max_pair" in summ:
        text += f" ({summ['max_pair'][0]} - {summ['max_pair'][1]})"
    if summ["unreachable_pairs"]:
        text += f"; {summ['unreachable_pairs']} pairs unreachable"
    if src_idx.size <= 16 and dst_idx.size <= 16:     # small enough to print as a table [ms]
        text += "\n" + ds["latency"].to_pandas().round(2).to_string(na_rep="-")
    ds.attrs["summary_text"] = text
    return ds


def paths(scenario, sites=None, *, dst=None, layer: str = "optical") -> xr.Dataset:
    """The links of the shortest path between every source and destination site.

    For fault and traffic models: a cut, a load or a failure acts on the same routes the latencies
    of :func:`latency_matrix` come from.

    Parameters
    ----------
    scenario : Scenario
    sites, dst, layer
        As in :func:`latency_matrix`.

    Returns
    -------
    xr.Dataset
        On ``src`` x ``dst`` x ``hop``: ``path_link`` (link id of each hop in order from ``src``; ``""``
        past the end) and ``path_node`` (site reached after each hop); on ``src`` x ``dst``: ``latency`` [ms],
        ``path_length`` [km], ``hops`` [1]; on ``src`` x ``dst`` x ``link``: ``on_path`` (bool, the
        incidence of pairs and links; omitted above 20 million cells, use
        :func:`workbench.paths.incidence` then).
    """
    src_idx = _paths.resolve_sites(scenario, sites, what="sites")
    dst_idx = src_idx if dst is None else _paths.resolve_sites(scenario, dst, what="dst")
    _check_size(scenario, src_idx, dst_idx, per_pair=8)
    net = _paths.Network.from_scenario(scenario, layer)
    r = net.route(src_idx, dst_idx)
    _warn_unreachable(scenario, src_idx, dst_idx, r["latency"])
    ns, nd = src_idx.size, dst_idx.size
    ps = np.repeat(src_idx, nd)
    pd = np.tile(dst_idx, ns)
    usrc, first = np.unique(src_idx, return_index=True)
    pair, link, order = net.path_links(ps, pd, predecessors=r["predecessors"][first])
    max_hops = int(order.max()) + 1 if order.size else 0
    link_ids = np.full((ns * nd, max_hops), "", dtype=object)
    node_ids = np.full((ns * nd, max_hops), "", dtype=object)
    link_ids[pair, order] = scenario["link"]["link"].values[link]
    # the far end of each hop: walk from src, the end of each link that is not the current node
    ls, ld = net.link_src[link], net.link_dst[link]
    cur = ps[pair].copy()
    nxt = np.empty_like(cur)
    for h in range(max_hops):                            # one vectorised step per hop position
        at = order == h
        nxt[at] = np.where(ls[at] == cur[at], ld[at], ls[at])
        later = np.flatnonzero(order == h + 1)
        # the next hop of the same pair starts where this one ended
        prev_pos = np.searchsorted(pair[at], pair[later])
        cur[later] = nxt[np.flatnonzero(at)[prev_pos]]
    node_ids[pair, order] = scenario["site"]["site"].values[nxt]
    reach = np.isfinite(r["latency"])
    ds = xr.Dataset(
        {
            "path_link": (("src", "dst", "hop"), link_ids.reshape(ns, nd, max_hops),
                          {"long_name": "link of each hop"}),
            "path_node": (("src", "dst", "hop"), node_ids.reshape(ns, nd, max_hops),
                     {"long_name": "site reached after each hop"}),
            "latency": (("src", "dst"), np.where(reach, r["latency"], np.nan),
                        {"units": "ms", "long_name": "one-way latency over the link graph"}),
            "path_length": (("src", "dst"), r["length_km"], {"units": "km", "long_name": "fibre length of the path"}),
            "hops": (("src", "dst"), r["hops"], {"units": "1", "long_name": "links on the path (-1: unreachable)"}),
        },
        coords={**_site_coords(scenario, src_idx, "src"), **_site_coords(scenario, dst_idx, "dst"),
                "hop": ("hop", np.arange(1, max_hops + 1), {"long_name": "hop number from src"})},
    )
    n_links = scenario["link"].sizes.get("link", 0)
    if ns * nd * n_links <= 20_000_000:
        inc = np.zeros((ns * nd, n_links), bool)
        inc[pair, link] = True
        ds["on_path"] = (("src", "dst", "link"), inc.reshape(ns, nd, n_links),
                         {"long_name": "the pair's path uses the link"})
        ds = ds.assign_coords(link=("link", scenario["link"]["link"].values))
    lines = [f"shortest paths over the link graph ({net.layer.name} layer) of {scenario.name}: {ns} x {nd} site "
             f"pairs, up to {max_hops} hops, {int((~reach).sum())} unreachable"]
    if ns * nd <= 25:                                  # small enough to list every path
        for i in range(ns):
            for j in range(nd):
                if src_idx[i] == dst_idx[j]:
                    continue
                hops = [h for h in link_ids.reshape(ns, nd, max_hops)[i, j] if h]
                head = f"  {ds.src.values[i]} -> {ds.dst.values[j]}: "
                lines.append(head + (f"{r['latency'][i, j]:.2f} ms one way, {r['length_km'][i, j]:,.0f} km, "
                                     f"{len(hops)} links: {', '.join(hops)}" if reach[i, j] else "no path"))
    ds.attrs.update({"analysis": "paths", "scenario": scenario.name, "layer": net.layer.name,
                     "summary_text": "\n".join(lines)})
    return ds
