"""Paths over the link graph: the one latency engine every analysis and plugin uses.

Path model (every figure one way, in ms)
----------------------------------------
::

    device point --access--> access PoP ==graph path on a layer==> serving site --> its compute

1. **Access** (:func:`access_of_points`). The radio or last-mile delay of the device group's
   ``access_tech`` (:data:`workbench.latency.ACCESS_DELAY_MS`; only with ``include_access=True``,
   because the MIIT circles are measured from the access site, FIGURES 1.5) plus metro fibre from the
   point to its **access point of presence**: great circle x the scenario's ``metro_route_factor`` x
   4.9 us/km + :data:`METRO_EQUIPMENT_MS`. The PoP is the group's ``access_site`` where set, otherwise
   the site nearest (great circle) to the group's centre whose ``access`` attribute is ``yes``
   (``auto``: tiers in :data:`ACCESS_TIERS`): a metro's people enter through their metro's network
   (``access="point"`` lets each population point enter at its own nearest access site instead). A scenario with no access site at all enters the graph at the nearest site
   of any tier, with a :class:`~workbench.errors.WorkbenchWarning` saying so.
2. **Graph** (:class:`Network`). The shortest path over the ``link`` table (undirected; parallel links
   keep the fastest). A link costs its fibre route x the layer's length factor x 4.9 us/km, plus its
   ``equipment_delay``, plus the layer's per-hop delay. Route length = ``link.length``, else great
   circle x ``link.route_factor``, else x the scenario's ``route_factor`` (:func:`link_length_km`).
   Every site a path touches, ends included, adds its ``transit_delay`` once; every path adds the
   layer's per-path delay once (:data:`LAYERS`).
3. **Serving site**: its ``hop_delay`` (switching between the site's network edge and its compute).

A site that no path reaches is unreachable: ``inf`` in the arrays of this module, ``NaN`` in analysis
results, and a :class:`~workbench.errors.WorkbenchWarning` naming it. Adding a link, a compute site or a
transit site never lowers a coverage figure, and lengthening a link never raises one (tested). Adding
an *access* site is different: the groups nearest to it re-home to it (people use their nearest access
network), and their figures fall if it connects poorly. Nothing falls back to a straight
line. The M1 model, great circle x ``metro_route_factor`` from every population point straight to any
compute site, survives only as the explicitly named approximation ``path_model="direct"`` of the
analyses (:func:`direct_point_latency`).

Implementation. Dijkstra on a CSR matrix (:func:`scipy.sparse.csgraph.dijkstra`). Site transit delays
are node weights; on an undirected graph they become edge weights exactly by giving each link half of
the transit delay of each end (a path then carries half of each end's delay and all of every interior
delay; the missing halves are added back in closed form). "Nearest compute site from every PoP, each
site with its own internal delay" is one multi-source Dijkstra run from one stub node per compute site
(stub edge = its delay), so it costs about as much as a single-source run. Path lengths, hop counts and
the links of each path come from the predecessor tree by pointer jumping (log2(depth) vectorised steps).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import xarray as xr
from scipy.sparse.csgraph import dijkstra

from . import latency as lat
from .errors import WorkbenchError, WorkbenchWarning
from .geo import SiteIndex, great_circle_km
from .plugins import get_plugin_manager

__all__ = ["ACCESS_TIERS", "LAYERS", "METRO_EQUIPMENT_MS", "PATH_MODELS", "Layer", "Network", "access_mask",
           "access_of_points", "direct_point_latency", "group_access_site", "group_site_latency", "incidence",
           "link_length_km",
           "links_to_nearest",
           "resolve_sites"]

#: Site tiers that terminate access when a site's ``access`` attribute is ``auto``: network points of
#: presence and the edge tiers a device reaches first. Hubs, clusters and regional DCs are reached
#: over the graph.
ACCESS_TIERS = ("pop", "metro_edge", "bs_edge", "cpe")

#: One-way delay of the metro aggregation and edge routers between a device's access network and its
#: access PoP [ms]. **Assumed** 0.1 ms, the M1 coverage default kept so the two path models share the
#: access segment: a few router passes at < 20 us each (Sprint single-hop study, FIGURES 2 [P]) plus one
#: OEO regeneration ~100 us (Huawei WDM/OTN latency composition, FIGURES 2 [S]).
METRO_EQUIPMENT_MS = 0.1

#: Path models of the latency analyses: over the link graph (default) or the named approximation.
PATH_MODELS = ("graph", "direct")


@dataclass(frozen=True)
class Layer:
    """A network layer a path is carried on, with its own overheads (all one way).

    Parameters
    ----------
    name : str
    per_hop_ms : float
        Added per link traversed [ms], on top of the link's ``equipment_delay``.
    per_path_ms : float
        Added once per path [ms] (gateways, address translation, peering hand-off).
    length_factor : float
        Multiplies each link's fibre route length [1] (route inflation of the layer's routing).
    description : str
        What the layer is and where its numbers come from.
    """

    name: str
    per_hop_ms: float
    per_path_ms: float
    length_factor: float
    description: str

    def __post_init__(self) -> None:
        for field in ("per_hop_ms", "per_path_ms"):
            v = getattr(self, field)
            if not (math.isfinite(v) and v >= 0):
                raise WorkbenchError(f"layer {self.name!r}: {field} must be a finite number >= 0 ms, got {v!r}")
        if not (math.isfinite(self.length_factor) and self.length_factor >= 1):
            raise WorkbenchError(f"layer {self.name!r}: length_factor must be >= 1, got {self.length_factor!r}")


#: Network layers. The link's ``equipment_delay`` (default 0.1 ms: one OEO regeneration) is always
#: charged; the layer adds what its own equipment and routing add.
LAYERS: dict[str, Layer] = {
    "optical": Layer(
        "optical", 0.0, 0.0, 1.0,
        "OTN/ROADM wavelength or OSU private line (the MIIT and CAICT compute circles are optical-layer "
        "figures, FIGURES 1.5 and FIGURES-M2 0.3): fibre plus each link's equipment_delay, nothing more"),
    "ip": Layer(
        "ip", 0.04, 0.0, 1.0,
        "IP private network over the same fibre (an operator's AI/DC backbone): one router pass per hop, "
        "0.04 ms = a packet crossing a core router's switch fabric (< 20 us within one line card, ~40 us "
        "across the fabric; Sprint single-hop study, FIGURES 2 [P]); routes follow the fibre graph"),
    "internet": Layer(
        "internet", 0.04, 0.5, 1.4,
        "public internet: router passes as for ip; length factor 1.4 = 2.1 / 1.5 [D], the measured rule of "
        "thumb for internet latency (line of sight x 2.1 in fibre; Bozkurt et al., arXiv 1811.10737, "
        "FIGURES 2 [P]) over this workbench's fibre route factor 1.5; 0.5 ms per path **assumed** for a "
        "BRAS/CGNAT pass and an inter-operator hand-off (no source)"),
}


def get_layer(layer: str | Layer) -> Layer:
    """A :class:`Layer` by name (or the layer itself); the error lists the known layers."""
    if isinstance(layer, Layer):
        return layer
    try:
        return LAYERS[layer]
    except (KeyError, TypeError):
        raise WorkbenchError(f"unknown network layer {layer!r}; known layers: {', '.join(LAYERS)}") from None


def _check_path_model(path_model: str) -> str:
    if path_model not in PATH_MODELS:
        raise WorkbenchError(f"path_model must be one of {', '.join(PATH_MODELS)}, got {path_model!r} "
                             "('direct' is the named great-circle approximation of milestone 1)")
    return path_model


# --------------------------------------------------------------------------- scenario inputs


def link_length_km(scenario) -> np.ndarray:
    """Fibre route length of every link [km]: ``length``, else great circle x the link's
    ``route_factor``, else x the scenario's ``route_factor``."""
    link = scenario["link"]
    if link.sizes.get("link", 0) == 0:
        return np.zeros(0)
    site = scenario["site"]
    pos = {s: i for i, s in enumerate(site["site"].values.tolist())}
    si = np.array([pos[s] for s in link["src"].values.tolist()], dtype=np.int64)
    di = np.array([pos[s] for s in link["dst"].values.tolist()], dtype=np.int64)
    lon, la = site["lon"].values.astype(float), site["lat"].values.astype(float)
    gc = great_circle_km(lon[si], la[si], lon[di], la[di])
    rf = link["route_factor"].values.astype(float) if "route_factor" in link else np.full(si.size, np.nan)
    rf = np.where(np.isfinite(rf), rf, float(scenario.parameters.get("route_factor", lat.DEFAULT_ROUTE_FACTOR)))
    length = link["length"].values.astype(float) if "length" in link else np.full(si.size, np.nan)
    return np.where(np.isfinite(length), length, gc * rf)


def access_mask(scenario, *, warn: bool = True) -> np.ndarray:
    """Which sites terminate access (``access`` yes, or ``auto`` and a tier in :data:`ACCESS_TIERS`).

    With no such site in the scenario every site terminates access, and a warning says so.
    """
    site = scenario["site"]
    n = site.sizes["site"]
    tier = site["tier"].values.astype(str) if "tier" in site else np.full(n, "")
    flag = site["access"].values.astype(str) if "access" in site else np.full(n, "auto")
    mask = (flag == "yes") | ((flag == "auto") & np.isin(tier, ACCESS_TIERS))
    if n and not mask.any():
        if warn:
            warnings.warn(f"scenario {scenario.name!r} has no access site (no site with access=yes or a tier in "
                          f"{', '.join(ACCESS_TIERS)}): device groups enter the graph at the nearest site of any tier",
                          WorkbenchWarning, stacklevel=3)
        mask = np.ones(n, bool)
    return mask


def resolve_sites(scenario, sites=None, *, what: str = "sites") -> np.ndarray:
    """Indices of the sites a selector names.

    Parameters
    ----------
    sites : None, str, sequence of str, boolean mask or DataArray
        ``None`` or ``"all"``: every site; ``"compute"``: sites with accelerators in the inventory;
        ``"access"``: access sites; a tier name (``"cluster"``) or site id; a list mixing tiers and ids;
        a boolean mask over ``site``; an integer array of site indices (kept as given).

    Returns
    -------
    ndarray of int
        Site indices in table order (no duplicates).
    """
    site = scenario["site"]
    n = site.sizes["site"]
    if sites is None or (isinstance(sites, str) and sites == "all"):
        return np.arange(n)
    if isinstance(sites, xr.DataArray):
        sites = sites.values
    arr = np.asarray(sites) if not isinstance(sites, str) else None
    if arr is not None and arr.dtype == bool:
        if arr.shape != (n,):
            raise WorkbenchError(f"{what}: a boolean site mask must have shape ({n},), got {arr.shape}")
        return np.flatnonzero(arr)
    if arr is not None and np.issubdtype(arr.dtype, np.integer):      # site indices
        arr = arr.ravel().astype(np.int64)
        if arr.size and (arr.min() < 0 or arr.max() >= n):
            raise WorkbenchError(f"{what}: site indices must be in [0, {n})")
        return arr
    names = np.array([sites] if isinstance(sites, str) else [str(s) for s in np.asarray(sites).ravel().tolist()])
    ids = site["site"].values.astype(str)
    tiers = site["tier"].values.astype(str) if "tier" in site else np.full(n, "")
    mask = np.isin(ids, names) | np.isin(tiers, names)            # one vectorised pass, any number of names
    if "compute" in names:
        mask |= scenario.compute_sites().values.astype(bool)
    if "access" in names:
        mask |= access_mask(scenario)
    known = np.isin(names, ids) | np.isin(names, tiers) | np.isin(names, ["compute", "access"])
    unknown = names[~known].tolist()
    if unknown:
        raise WorkbenchError(f"{what}: {', '.join(map(repr, unknown))} is neither a site id nor a tier of scenario "
                             f"{scenario.name!r}; tiers present: {', '.join(sorted(set(tiers.tolist())))}; or use "
                             "'all', 'compute', 'access'")
    return np.flatnonzero(mask)


# --------------------------------------------------------------------------- the graph


class Network:
    """The link graph of a scenario on one network layer: built once, queried many times.

    Parameters
    ----------
    site_ids : sequence of str
    n_sites : int
    src, dst : array_like of int
        Link end sites (indices).
    length_km : array_like
        Fibre route length of each link [km].
    equipment_ms : array_like
        One-way equipment delay of each link [ms].
    transit_ms : array_like, optional
        One-way delay of each site's network node [ms], charged once per path touching it.
    layer : str or Layer
        Network layer (:data:`LAYERS`).
    link_ids : sequence of str, optional

    Use :meth:`from_scenario` for a scenario.
    """

    def __init__(self, site_ids, src, dst, length_km, equipment_ms, transit_ms=None, layer: str | Layer = "optical",
                 link_ids=None):
        self.site_ids = np.asarray(site_ids, dtype=object)
        n = self.n = self.site_ids.size
        self.layer = get_layer(layer)
        src = np.asarray(src, dtype=np.int64).ravel()
        dst = np.asarray(dst, dtype=np.int64).ravel()
        self.link_src, self.link_dst = src, dst
        self.link_ids = np.asarray(link_ids if link_ids is not None else [f"{a}--{b}" for a, b in zip(src, dst)],
                                   dtype=object)
        self.length_km = np.broadcast_to(np.asarray(length_km, float), src.shape).copy()
        equipment = np.broadcast_to(np.asarray(equipment_ms, float), src.shape)
        self.transit_ms = np.zeros(n) if transit_ms is None else np.broadcast_to(
            np.nan_to_num(np.asarray(transit_ms, float)), (n,)).copy()
        for name, arr, who in (("link length [km]", self.length_km, self.link_ids),
                               ("link equipment_delay [ms]", equipment, self.link_ids),
                               ("site transit_delay [ms]", self.transit_ms, self.site_ids)):
            bad = ~np.isfinite(arr) | (arr < 0)
            if bad.any():
                shown = ", ".join(f"{w} ({v:g})" for w, v in zip(who[bad][:5], arr[bad][:5]))
                raise WorkbenchError(f"{name} must be finite and >= 0; got {shown}"
                                     + (f" and {int(bad.sum()) - 5} more" if bad.sum() > 5 else ""))
        if src.size and (min(src.min(), dst.min()) < 0 or max(src.max(), dst.max()) >= n):
            raise WorkbenchError(f"link end indices must be in [0, {n})")
        L = self.layer
        #: one-way latency of each link on this layer, without site transit delays [ms]
        self.link_ms = (self.length_km * L.length_factor * lat.FIBRE_DELAY_MS_PER_KM + equipment + L.per_hop_ms)
        weight = self.link_ms + 0.5 * (self.transit_ms[src] + self.transit_ms[dst])
        a, b = np.minimum(src, dst), np.maximum(src, dst)
        keep = a != b                                     # a self-loop never shortens a path
        key = a * n + b
        order = np.lexsort((weight, key))
        order = order[keep[order]]
        ks = key[order]
        first = np.ones(ks.size, bool)
        first[1:] = ks[1:] != ks[:-1]
        pick = order[first]                               # fastest link of each parallel bundle
        #: sorted undirected edge keys (min * n + max) and the link carrying each
        self._edge_key = key[pick]
        self._edge_link = pick
        self._a, self._b, self._w = a[pick], b[pick], weight[pick]
        # built from COO arrays, never by sparse addition: scipy drops explicit zeros in sums, and a
        # zero-latency link (co-located sites, no equipment) must stay an edge
        self.graph = sp.csr_matrix((self._w, (self._a, self._b)), shape=(n, n))

    @classmethod
    def from_scenario(cls, scenario, layer: str | Layer = "optical") -> Network:
        """The graph of ``scenario``'s ``site`` and ``link`` tables on ``layer``."""
        site, link = scenario["site"], scenario["link"]
        ids = site["site"].values
        pos = {s: i for i, s in enumerate(ids.tolist())}
        if link.sizes.get("link", 0):
            src = np.array([pos[s] for s in link["src"].values.tolist()], np.int64)
            dst = np.array([pos[s] for s in link["dst"].values.tolist()], np.int64)
            eq = np.nan_to_num(link["equipment_delay"].values.astype(float), nan=lat.DEFAULT_HOP_DELAY_MS)
            link_ids = link["link"].values
        else:
            src = dst = np.zeros(0, np.int64)
            eq = np.zeros(0)
            link_ids = np.zeros(0, object)
        transit = site["transit_delay"].values.astype(float) if "transit_delay" in site else None
        return cls(ids, src, dst, link_length_km(scenario), eq, transit, layer=layer, link_ids=link_ids)

    def __repr__(self) -> str:
        return f"Network({self.n} sites, {self.link_src.size} links, layer={self.layer.name!r})"

    # ------------------------------------------------------------------ queries

    def _idx(self, sites) -> np.ndarray:
        idx = np.atleast_1d(np.asarray(sites, dtype=np.int64))
        if idx.size and (idx.min() < 0 or idx.max() >= self.n):
            raise WorkbenchError(f"site indices must be in [0, {self.n})")
        return idx

    def latency(self, src, dst=None, limit_ms: float | None = None, return_predecessors: bool = False):
        """One-way latency from each source to each destination site over the graph [ms].

        Parameters
        ----------
        src : array_like of int
            Source site indices.
        dst : array_like of int, optional
            Destination site indices (default: every site).
        limit_ms : float, optional
            Stop searching beyond this latency; farther sites come back ``inf``.

        Returns
        -------
        ndarray, shape (n_src, n_dst)
            ``inf`` where unreachable. With ``return_predecessors``, also the predecessor matrix over
            all sites (n_src, n_sites).
        """
        src = self._idx(src)
        t = self.transit_ms
        per_path = self.layer.per_path_ms
        limit = np.inf if limit_ms is None else max(0.0, float(limit_ms) - per_path)
        if return_predecessors:
            d, pred = dijkstra(self.graph, directed=False, indices=src, limit=limit, return_predecessors=True)
        else:
            d, pred = dijkstra(self.graph, directed=False, indices=src, limit=limit), None
        d = d + 0.5 * (t[src][:, None] + t[None, :]) + per_path
        if limit_ms is not None:
            d = np.where(d <= float(limit_ms) + 1e-12, d, np.inf)
        if dst is not None:
            d = d[:, self._idx(dst)]
        return (d, pred) if return_predecessors else d

    def nearest(self, targets, offset_ms=None, limit_ms: float | None = None):
        """For every site, the target reached fastest: ``min_t offset_t + latency(site, t)``.

        One multi-source Dijkstra run (a stub node per target, stub edge = its offset).

        Parameters
        ----------
        targets : array_like of int
            Target site indices (e.g. the sites with compute).
        offset_ms : array_like, optional
            Extra delay at each target [ms] (its ``hop_delay``); default 0.
        limit_ms : float, optional
            Farther than this counts as unreachable.

        Returns
        -------
        latency_ms : ndarray, shape (n_sites,)
            ``inf`` where no target is reachable.
        target : ndarray of int, shape (n_sites,)
            Index (into the site table) of the best target; ``-1`` where unreachable.
        """
        targets = self._idx(targets)
        k = targets.size
        if k == 0:
            return np.full(self.n, np.inf), np.full(self.n, -1, np.int64)
        off = np.zeros(k) if offset_ms is None else np.broadcast_to(np.asarray(offset_ms, float), (k,))
        bad = ~np.isfinite(off) | (off < 0)
        if bad.any():
            shown = ", ".join(f"{w} ({v:g})" for w, v in zip(self.site_ids[targets[bad]][:5], off[bad][:5]))
            raise WorkbenchError(f"the internal delay (hop_delay [ms]) of a target site must be finite and >= 0; got "
                                 f"{shown}")
        t = self.transit_ms
        n = self.n
        g = sp.csr_matrix((np.concatenate([self._w, off + 0.5 * t[targets]]),
                           (np.concatenate([self._a, n + np.arange(k)]), np.concatenate([self._b, targets]))),
                          shape=(n + k, n + k))
        per_path = self.layer.per_path_ms
        limit = np.inf if limit_ms is None else max(0.0, float(limit_ms) - per_path)
        d, _, source = dijkstra(g, directed=False, indices=n + np.arange(k), limit=limit, min_only=True,
                                return_predecessors=True)
        d = d[:n] + 0.5 * t + per_path
        if limit_ms is not None:
            d = np.where(d <= float(limit_ms) + 1e-12, d, np.inf)
        best = np.where(np.isfinite(d), targets[np.clip(np.asarray(source[:n]) - n, 0, k - 1)], -1)
        return d, best.astype(np.int64)

    def edge_link(self, u, v) -> np.ndarray:
        """Link index carrying the graph edge ``u - v`` (the fastest of parallel links); -1 if none."""
        u = np.asarray(u, np.int64)
        v = np.asarray(v, np.int64)
        key = np.minimum(u, v) * self.n + np.maximum(u, v)
        pos = np.searchsorted(self._edge_key, key)
        pos = np.clip(pos, 0, max(self._edge_key.size - 1, 0))
        ok = (self._edge_key.size > 0) & (u >= 0) & (v >= 0)
        ok = ok & (self._edge_key[pos] == key) if self._edge_key.size else np.zeros(key.shape, bool)
        return np.where(ok, self._edge_link[pos] if self._edge_key.size else -1, -1)

    def route(self, src, dst=None, limit_ms: float | None = None) -> dict:
        """Latency, fibre length and hop count of the shortest paths from sources to destinations.

        Returns
        -------
        dict of ndarray, each (n_src, n_dst)
            ``latency`` [ms] (``inf`` unreachable), ``length_km`` [km] (physical fibre of the path's
            links; NaN unreachable), ``hops`` [1] (links on the path; -1 unreachable), and
            ``predecessors`` (n_src, n_sites) for :meth:`path_links`.
        """
        src = self._idx(src)
        dst_idx = np.arange(self.n) if dst is None else self._idx(dst)
        d, pred = self.latency(src, limit_ms=limit_ms, return_predecessors=True)
        lat_ = d[:, dst_idx]
        reach = np.isfinite(lat_)
        if dst_idx.size * 32 < self.n * max(1, int(np.ceil(np.log2(max(self.n, 2))))):
            length, hops = self._walk(src, dst_idx, pred)       # few destinations: walk their paths only
        else:
            length, hops = self._jump(src, pred)                # many: pointer jumping over every node
            length, hops = length[:, dst_idx], hops[:, dst_idx]
        return {"latency": lat_, "length_km": np.where(reach, length, np.nan),
                "hops": np.where(reach, hops, -1), "predecessors": pred}

    def _walk(self, src, dst_idx, pred):
        """Fibre length and hop count of each (src, dst) path, one vectorised step per hop."""
        ns, nd = src.size, dst_idx.size
        row = np.repeat(np.arange(ns), nd)
        cur = np.tile(dst_idx, ns)
        length = np.zeros(ns * nd)
        hops = np.zeros(ns * nd, np.int64)
        active = np.flatnonzero(pred[row, cur] >= 0)          # the source itself and unreachable sites stop
        while active.size:
            prev = pred[row[active], cur[active]]
            lk = self.edge_link(prev, cur[active])
            length[active] += self.length_km[lk]
            hops[active] += 1
            cur[active] = prev
            active = active[pred[row[active], prev] >= 0]
        return length.reshape(ns, nd), hops.reshape(ns, nd)

    def _jump(self, src, pred):
        """Fibre length and hop count from each source to every site by pointer jumping on the tree."""
        link = self.edge_link(pred, np.broadcast_to(np.arange(self.n), pred.shape))
        length = (np.where(link >= 0, self.length_km[np.maximum(link, 0)], 0.0) if self.length_km.size
                  else np.zeros(link.shape))
        hops = (link >= 0).astype(np.int64)
        rows = np.arange(src.size)[:, None]
        ptr = np.where(pred >= 0, pred, np.broadcast_to(np.arange(self.n), pred.shape))
        # after j rounds each node has summed 2^j edges towards its source
        for _ in range(max(1, int(np.ceil(np.log2(max(self.n, 2)))) + 1)):
            nxt = ptr[rows, ptr]
            length = length + length[rows, ptr] * (ptr != np.arange(self.n))
            hops = hops + hops[rows, ptr] * (ptr != np.arange(self.n))
            if np.array_equal(nxt, ptr):
                break
            ptr = nxt
        return length, hops

    def path_links(self, src, dst, predecessors=None, return_direction: bool = False):
        """The links of the shortest path of each (src, dst) pair, in order from ``src``.

        Parameters
        ----------
        src, dst : array_like of int, shape (n_pairs,)
            Pairs of site indices.
        predecessors : ndarray, optional
            From :meth:`route` or :meth:`latency` for the *unique* sources in ``src`` order of
            ``np.unique(src)``; computed if omitted.

        Returns
        -------
        pair, link, order : ndarray of int
            One row per link on a path (COO): the pair's index, the link's index, its position on the
            path (0 = at ``src``). Unreachable pairs have no rows.
        forward : ndarray of bool
            With ``return_direction``: True where the path crosses the link from its ``src`` to its ``dst``.
        """
        src = self._idx(src)
        dst = self._idx(dst)
        if src.shape != dst.shape:
            raise WorkbenchError("src and dst must have the same length")
        usrc, row = np.unique(src, return_inverse=True)
        if predecessors is None:
            _, predecessors = self.latency(usrc, return_predecessors=True)
        pairs, links, steps, fwd = [], [], [], []
        cur = dst.copy()
        active = np.flatnonzero((cur != src) & (predecessors[row, cur] >= 0))
        step = 0
        while active.size:                              # one vectorised step per hop, all pairs at once
            prev = predecessors[row[active], cur[active]]
            pairs.append(active)
            lk = self.edge_link(prev, cur[active])
            links.append(lk)
            fwd.append(self.link_src[lk] == prev)
            steps.append(np.full(active.size, step))
            cur[active] = prev
            active = active[(prev != src[active]) & (prev >= 0)]
            step += 1
            if step > self.n:                           # cannot happen on a shortest-path tree
                raise WorkbenchError("predecessor tree has a cycle")
        if not pairs:
            empty = np.zeros(0, np.int64)
            return (empty, empty, empty, np.zeros(0, bool)) if return_direction else (empty, empty, empty)
        pair = np.concatenate(pairs)
        link = np.concatenate(links)
        back = np.concatenate(steps)                    # position counted from dst
        n_hops = np.bincount(pair, minlength=src.size)
        order = n_hops[pair] - 1 - back
        o = np.lexsort((order, pair))
        if return_direction:
            return pair[o], link[o], order[o], np.concatenate(fwd)[o]
        return pair[o], link[o], order[o]


def links_to_nearest(scenario, src="access", dst=("hub", "cluster", "metro_edge"), *, max_km: float | None = None,
                     capacity_bps: float | None = None, prefix: str = "direct"):
    """Candidate new links joining every ``src`` site to its nearest ``dst`` site, for what-if studies.

    A planner's question ("what if every access PoP had a direct route to its nearest data centre,
    across province lines?") as rows for :meth:`workbench.Scenario.with_rows`. Pairs already joined
    by a link, and sites that are themselves in ``dst``, are skipped. The length is left empty, so the
    engine uses great circle x the scenario's ``route_factor`` (the named approximation for a route
    that does not exist yet).

    Parameters
    ----------
    src, dst : site selectors (:func:`resolve_sites`)
    max_km : float, optional
        Only pairs at most this far apart (great circle) [km].
    capacity_bps : float, optional
        Capacity of each new link [bit/s] (default: unknown, unconstrained).
    prefix : str
        Link ids are ``<prefix>:<src>--<dst>``.

    Returns
    -------
    pandas.DataFrame
        Columns ``id, src, dst, capacity`` [bit/s], ``tech, notes``: rows ``Scenario.with_rows("link", ...)``
        takes as they are. ``.attrs["great_circle_km"]`` holds each pair's great-circle distance [km].
    """
    import pandas as pd

    site = scenario["site"]
    ids = site["site"].values.astype(str)
    s_idx = resolve_sites(scenario, src, what="src")
    d_idx = resolve_sites(scenario, dst, what="dst")
    s_idx = s_idx[~np.isin(s_idx, d_idx)]
    cols = ["id", "src", "dst", "capacity", "tech", "notes"]
    if s_idx.size == 0 or d_idx.size == 0:
        out = pd.DataFrame(columns=cols)
        out.attrs["great_circle_km"] = np.zeros(0)
        return out
    km, j = SiteIndex(site["lon"].values[d_idx], site["lat"].values[d_idx]).nearest(
        site["lon"].values[s_idx], site["lat"].values[s_idx])
    a, b = ids[s_idx], ids[d_idx[j]]
    link = scenario["link"]
    have = set(zip(link["src"].values.astype(str).tolist(), link["dst"].values.astype(str).tolist()))
    have |= {(y, x) for x, y in have}
    keep = np.array([(x, y) not in have for x, y in zip(a.tolist(), b.tolist())], bool)
    if max_km is not None:
        keep &= km <= float(max_km)
    cap = np.nan if capacity_bps is None else float(capacity_bps)
    out = pd.DataFrame({"id": [f"{prefix}:{x}--{y}" for x, y in zip(a[keep], b[keep])], "src": a[keep],
                        "dst": b[keep], "capacity": cap, "tech": "otn",
                        "notes": [f"what-if: direct route to the nearest data centre, {k:,.0f} km great circle; length = "
                                  "great circle x route_factor (assumed)" for k in km[keep]]})
    out.attrs["great_circle_km"] = km[keep]
    return out


def incidence(pair, link, n_pairs: int, n_links: int) -> sp.csr_matrix:
    """Sparse pair x link matrix: 1 where the pair's path uses the link (from :meth:`Network.path_links`)."""
    return sp.csr_matrix((np.ones(len(pair)), (pair, link)), shape=(n_pairs, n_links))


# --------------------------------------------------------------------------- access


def _access_index(scenario):
    mask = access_mask(scenario)
    site = scenario["site"]
    idx = np.flatnonzero(mask)
    return idx, SiteIndex(site["lon"].values[idx], site["lat"].values[idx])


#: Distance from a group's centre to its access PoP beyond which a warning says the access segment is
#: long [km]: 136 km is the radius of a metro 1 ms circle at route factor 1.5 (FIGURES 2 [D]); an access
#: network reaching farther than that is modelled only as a straight fibre of that length.
ACCESS_WARN_KM = 136.0


def group_access_site(scenario, *, warn: bool = True) -> np.ndarray:
    """Access PoP (site index) of every device group: its ``access_site`` where set, else the access
    site nearest (great circle) to the group's centre. A warning names the groups whose PoP is more than
    :data:`ACCESS_WARN_KM` away (their access segment is a long straight line)."""
    site, dev = scenario["site"], scenario["device"]
    if site.sizes["site"] == 0:
        raise WorkbenchError(f"scenario {scenario.name!r} has no sites: no access point of presence")
    n = dev.sizes["device"]
    if n == 0:
        return np.zeros(0, np.int64)
    idx, index = _access_index(scenario)
    _, j = index.nearest(dev["lon"].values.astype(float), dev["lat"].values.astype(float), k=1)
    pop = idx[np.atleast_1d(j)]
    pinned = dev["access_site"].values.astype(str) if "access_site" in dev else np.full(n, "")
    if (pinned != "").any():
        pos = {s: i for i, s in enumerate(site["site"].values.tolist())}
        gpop = np.array([pos.get(s, -1) for s in pinned.tolist()], np.int64)
        bad = (pinned != "") & (gpop < 0)
        if bad.any():
            raise WorkbenchError(f"device.access_site {sorted(set(pinned[bad].tolist()))} is not a site of "
                                 f"scenario {scenario.name!r}")
        pop = np.where(pinned != "", gpop, pop)
    if warn:
        km = great_circle_km(dev["lon"].values.astype(float), dev["lat"].values.astype(float),
                             site["lon"].values.astype(float)[pop], site["lat"].values.astype(float)[pop])
        far = np.flatnonzero(km > ACCESS_WARN_KM)
        if far.size:
            gid = dev["device"].values.astype(str)
            shown = ", ".join(f"{gid[i]} ({km[i]:,.0f} km)" for i in far[:6])
            warnings.warn(f"{far.size} device group{'s' if far.size != 1 else ''} of scenario {scenario.name!r} "
                          f"enter the network more than {ACCESS_WARN_KM:g} km from their centre: {shown}"
                          + (f" and {far.size - 6} more" if far.size > 6 else "")
                          + "; their access segment is modelled as a straight fibre of that length "
                            "(give them a nearer site with access=yes, or set device.access_site)",
                          WorkbenchWarning, stacklevel=3)
    return pop.astype(np.int64)


def access_of_points(scenario, lon, lat, group, access: str = "group") -> tuple[np.ndarray, np.ndarray]:
    """Access PoP of each point and the great-circle distance to it.

    Parameters
    ----------
    lon, lat : array_like, shape (n_points,)
        Points [degree].
    group : array_like of int, shape (n_points,)
        Device-group index of each point.
    access : {"group", "point"}
        ``group`` (default): every point of a group enters at the group's PoP (:func:`group_access_site`),
        as a metro's people use their metro's network. ``point``: each point enters at its own nearest
        access site (for fine-grained access networks such as base stations; a group's ``access_site``
        still pins all its points).

    Returns
    -------
    pop : ndarray of int
        Site index of each point's access PoP.
    km : ndarray
        Great-circle distance from the point to it [km].
    """
    if access not in ("group", "point"):
        raise WorkbenchError(f"access must be 'group' or 'point', got {access!r}")
    site = scenario["site"]
    lon = np.asarray(lon, float)
    lat_ = np.asarray(lat, float)
    group = np.asarray(group, np.int64)
    gpop = group_access_site(scenario)
    if access == "point":
        idx, index = _access_index(scenario)
        _, j = index.nearest(lon, lat_, k=1)
        pop = idx[j]
        dev = scenario["device"]
        pinned = dev["access_site"].values.astype(str) if "access_site" in dev else np.full(dev.sizes["device"], "")
        pop = np.where(pinned[group] != "", gpop[group], pop)
    else:
        pop = gpop[group]
    slon, slat = site["lon"].values.astype(float), site["lat"].values.astype(float)
    return pop, great_circle_km(lon, lat_, slon[pop], slat[pop])


def access_delays(tech) -> np.ndarray:
    """One-way access delay [ms] for an array of access-technology names (vectorised lookup).

    The core table :data:`workbench.latency.ACCESS_DELAY_MS` plus the delays plugins declare with their
    ``device.access_tech`` choices (``ChoiceSpec(..., delay=...)``).
    """
    table = {**lat.ACCESS_DELAY_MS, **get_plugin_manager().schema.choice_delays("device", "access_tech")}
    names, inverse = np.unique(np.asarray(tech, dtype=str), return_inverse=True)
    unknown = [t for t in names if t not in table]
    if unknown:
        raise WorkbenchError(f"no access delay known for access_tech {unknown}; known: {sorted(table)}")
    return np.array([table[t] for t in names], dtype=float)[inverse.ravel()].reshape(np.shape(tech))


def _warn_unreachable(scenario, pop_idx, weight, reach) -> None:
    """Warn about access sites with endpoints that reach no target over the graph."""
    bad = ~reach
    if not bad.any():
        return
    ids = scenario["site"]["site"].values.astype(str)
    lost = np.bincount(pop_idx[bad], weights=weight[bad], minlength=ids.size)
    names = ids[lost > 0]
    shown = ", ".join(names[:8].tolist()) + (f" and {names.size - 8} more" if names.size > 8 else "")
    warnings.warn(f"{names.size} access site{'s' if names.size != 1 else ''} of scenario {scenario.name!r} reach{'' if names.size != 1 else 'es'} no "
                  f"selected site over the link graph: {shown} ({lost.sum():,.0f} endpoints unreachable)",
                  WorkbenchWarning, stacklevel=3)


def point_latency(scenario, lon, lat_, group, weight, targets, *, layer="optical", include_access: bool = False,
                  metro_equipment_ms: float = METRO_EQUIPMENT_MS, network: Network | None = None,
                  warn: bool = True, access: str = "group") -> dict:
    """Lowest one-way latency from population points to any target site, over the graph [ms].

    ``latency = access + metro fibre to the PoP + METRO_EQUIPMENT + min_t (graph(PoP, t) + hop_delay_t)``.

    Returns
    -------
    dict
        ``latency_ms`` (``inf`` unreachable), ``site`` (best target, -1 unreachable), ``pop`` (access
        site index) and ``access_ms`` (access segment) per point.
    """
    site = scenario["site"]
    targets = np.asarray(targets, np.int64)
    net = network or Network.from_scenario(scenario, layer)
    pop, km = access_of_points(scenario, lon, lat_, group, access)
    access = km * float(scenario.parameters["metro_route_factor"]) * lat.FIBRE_DELAY_MS_PER_KM + metro_equipment_ms
    if include_access:
        access = access + access_delays(scenario["device"]["access_tech"].values[np.asarray(group, np.int64)])
    hop = np.nan_to_num(site["hop_delay"].values.astype(float))[targets]
    node_ms, node_site = net.nearest(targets, hop)
    latency = access + node_ms[pop]
    if warn:
        _warn_unreachable(scenario, pop, np.asarray(weight, float), np.isfinite(latency))
    return {"latency_ms": latency, "site": node_site[pop], "pop": pop, "access_ms": access}


def direct_point_latency(scenario, lon, lat_, group, targets, *, include_access: bool = False,
                         metro_equipment_ms: float = METRO_EQUIPMENT_MS) -> dict:
    """The named approximation ``path_model="direct"``: great circle x ``metro_route_factor`` from each
    point straight to any target site, ignoring the link graph (the milestone-1 model).

    ``latency = access + min_t (great circle km x metro_route_factor x 4.9 us/km + METRO_EQUIPMENT +
    hop_delay_t)``, exact over all targets (:func:`workbench.latency.access_latency_ms`).
    """
    site = scenario["site"]
    targets = np.asarray(targets, np.int64)
    access = np.zeros(np.shape(lon))
    if include_access:
        access = access_delays(scenario["device"]["access_tech"].values[np.asarray(group, np.int64)])
    extra = np.nan_to_num(site["hop_delay"].values.astype(float))[targets] + metro_equipment_ms
    latency, best = lat.access_latency_ms(lon, lat_, site["lon"].values[targets], site["lat"].values[targets],
                                          access, scenario.parameters["metro_route_factor"], site_extra_ms=extra)
    return {"latency_ms": latency, "site": np.where(best >= 0, targets[np.maximum(best, 0)], -1)}


def group_site_latency(scenario, sites=None, *, layer="optical", include_access: bool = True,
                       metro_equipment_ms: float = METRO_EQUIPMENT_MS, path_model: str = "graph",
                       network: Network | None = None) -> tuple[np.ndarray, np.ndarray]:
    """One-way latency from every device group (taken at its centre) to each selected site [ms].

    ``graph``: access (+ the access technology's delay with ``include_access``) + metro fibre to the
    group's access PoP + graph path + the site's ``hop_delay``. ``direct`` (the named milestone-1
    approximation of the placement study and edge routing): great circle x the scenario's long-haul
    ``route_factor`` straight to each site + ``metro_equipment_ms`` + ``hop_delay``.
    One Dijkstra run per distinct access PoP, so 100,000 groups behind 1,000 PoPs cost 1,000 runs.

    Returns
    -------
    latency : ndarray, shape (n_device, n_selected)
        ``inf`` where unreachable.
    site_idx : ndarray of int
        The selected site indices (columns).
    """
    _check_path_model(path_model)
    dev, site = scenario["device"], scenario["site"]
    idx = resolve_sites(scenario, sites)
    n = dev.sizes["device"]
    glon, glat = dev["lon"].values.astype(float), dev["lat"].values.astype(float)
    access = access_delays(dev["access_tech"].values) if include_access else np.zeros(n)
    hop = np.nan_to_num(site["hop_delay"].values.astype(float))[idx]
    if path_model == "direct":
        km = great_circle_km(glon[:, None], glat[:, None], site["lon"].values[idx][None, :],
                             site["lat"].values[idx][None, :])
        out = (access[:, None] + km * float(scenario.parameters["route_factor"]) * lat.FIBRE_DELAY_MS_PER_KM
               + metro_equipment_ms + hop[None, :])
        return out, idx
    net = network or Network.from_scenario(scenario, layer)
    pop, km = access_of_points(scenario, glon, glat, np.arange(n))
    first = access + km * float(scenario.parameters["metro_route_factor"]) * lat.FIBRE_DELAY_MS_PER_KM \
        + metro_equipment_ms
    upop, inv = np.unique(pop, return_inverse=True)
    d = net.latency(upop, idx) if idx.size else np.zeros((upop.size, 0))
    return first[:, None] + d[inv] + hop[None, :], idx
