"""One-way latency physics: fibre propagation, equipment hops, access technologies, shortest paths.

Every latency in this module is **one way** [ms]; double it for a round trip. Nothing here knows
about a Scenario: the functions take plain arrays so analyses, plugins and benchmarks share them.

Model
-----
* Fibre: 4.9 us/km one way (group index ~1.468, FIGURES 2) over the route length; where no route
  length is known, route length = great-circle distance x a route factor (default 1.5, assumed).
* Equipment: a fixed delay per link traversal (transponder / OEO + router), default 0.1 ms.
* Access: a fixed one-way user-plane delay per access technology (:data:`ACCESS_DELAY_MS`).
* Paths: Dijkstra on a CSR matrix (:func:`scipy.sparse.csgraph.dijkstra`), with ``limit=`` for
  "who is within x ms" circles and ``min_only=True`` for "distance to the nearest of a set".
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra

from .geo import SiteIndex, great_circle_km

#: One-way propagation delay in standard single-mode fibre [ms/km] (= 4.9 us/km). Group index
#: ~1.468 (G.652/G.657 vendor spec, FIGURES 2 [S]); c / 1.468 = 204,218 km/s -> 4.897 us/km
#: (FIGURES 2 [S] mapyourtech "5 microsecond rule" and [D] check), rounded to 4.9.
FIBRE_DELAY_MS_PER_KM = 0.0049

#: Default ratio of fibre route length to great-circle distance [1]. **Assumed** (DESIGN.md 5), between
#: the 1.3 of shortest conduit paths and the 2.1 rule of thumb in Bozkurt et al., "Dissecting Latency
#: in the Internet's Fiber Infrastructure", arXiv 1811.10737 (2018) (FIGURES 2 [P]); it also equals the
#: 2023 Action Plan's "<= 1.5 x theoretical latency" target for hub-cluster links (FIGURES 1.3 [S]).
DEFAULT_ROUTE_FACTOR = 1.5

#: Default one-way equipment delay per link traversal (per hop) [ms] = 100 us. **Assumed**, from
#: FIGURES 2: a long-haul link ends in a transponder / electrical regeneration (OEO ~100 us per site,
#: Huawei WDM/OTN latency composition [S]; FEC alone 15-150 us [W]), which dominates the router pass
#: at the node (< 20 us same line card, ~40 us across the fabric, Sprint single-hop study [P]) and
#: optical amplifiers (~0.1-0.15 us). A purely optical ROADM express path would be ~10x lower; set
#: ``hop_delay_ms`` per link where that is known.
DEFAULT_HOP_DELAY_MS = 0.1

#: One-way user-plane delay of the access segment, device to its first network site [ms], by access
#: technology (the schema's ``device.access_tech`` values):
#:
#: * ``"5g"``: 4.0. ITU-R M.2410 (IMT-2020) minimum user-plane latency, eMBB, one way (FIGURES 6.1 [S]).
#: * ``"5g-urllc"``: 1.0. ITU-R M.2410 URLLC requirement, one way (FIGURES 6.1 [S]).
#: * ``"5g-a"``: 1.0. **Assumed**: 5G-Advanced taken to deliver the M.2410 URLLC figure to ordinary
#:   devices; no 5G-A latency source in FIGURES.
#: * ``"wlan"``: 5.0. MIIT AI+ICT plan 2026-2028 target for home and enterprise WLAN access latency
#:   (FIGURES 1.6 [S]); read as a one-way ceiling.
#: * ``"pon"``: 1.5. **Assumed**: the GPON design objective (ITU-T G.984.1, maximum mean signal
#:   transfer delay between the T and V reference points) as recalled; not confirmed from a retrieved
#:   copy and not in FIGURES. Upstream dynamic bandwidth allocation dominates it.
#: * ``"fibre"``: 0.1. **Assumed**: dedicated point-to-point fibre/Ethernet (enterprise line): one access
#:   switch/router pass (< 20 us, FIGURES 2 [P]) plus up to ~15 km of fibre (0.07 ms), rounded up.
#: * ``"wired"``: 0.0. Devices inside the site (the site's own ``hop_delay`` covers in-site switching).
ACCESS_DELAY_MS: dict[str, float] = {
    "5g": 4.0,
    "5g-urllc": 1.0,
    "5g-a": 1.0,
    "wlan": 5.0,
    "pon": 1.5,
    "fibre": 0.1,
    "wired": 0.0,
}

__all__ = ["ACCESS_DELAY_MS", "DEFAULT_HOP_DELAY_MS", "DEFAULT_ROUTE_FACTOR", "FIBRE_DELAY_MS_PER_KM",
           "access_latency_ms", "all_pairs_latency_ms", "fibre_latency_ms", "latency_graph", "link_latency_ms",
           "nearest_source_latency_ms", "route_length_km", "shortest_latency_ms"]


# --------------------------------------------------------------------------- physics


def fibre_latency_ms(length_km, delay_ms_per_km: float = FIBRE_DELAY_MS_PER_KM) -> np.ndarray:
    """One-way propagation delay over a fibre route.

    Parameters
    ----------
    length_km : array_like
        Fibre route length [km].
    delay_ms_per_km : float
        Propagation delay [ms/km]; default :data:`FIBRE_DELAY_MS_PER_KM` (4.9 us/km).

    Returns
    -------
    ndarray
        One-way latency [ms].
    """
    return np.asarray(length_km, dtype=float) * delay_ms_per_km


def route_length_km(lon1, lat1, lon2, lat2, route_factor: float = DEFAULT_ROUTE_FACTOR) -> np.ndarray:
    """Estimated fibre route length: great-circle distance x route factor.

    Parameters
    ----------
    lon1, lat1, lon2, lat2 : array_like
        End points [degree]; broadcast against each other.
    route_factor : float or array_like
        Route length / great-circle distance [1]; default :data:`DEFAULT_ROUTE_FACTOR` (assumed 1.5).

    Returns
    -------
    ndarray
        Route length [km].
    """
    return great_circle_km(lon1, lat1, lon2, lat2) * np.asarray(route_factor, dtype=float)


def link_latency_ms(length_km, hop_delay_ms=DEFAULT_HOP_DELAY_MS,
                    delay_ms_per_km: float = FIBRE_DELAY_MS_PER_KM) -> np.ndarray:
    """One-way latency of a link: fibre propagation plus one equipment hop.

    Parameters
    ----------
    length_km : array_like
        Fibre route length [km].
    hop_delay_ms : float or array_like
        Equipment delay per link traversal [ms]; default :data:`DEFAULT_HOP_DELAY_MS` (assumed 0.1).
    delay_ms_per_km : float
        Propagation delay [ms/km].

    Returns
    -------
    ndarray
        One-way latency [ms].
    """
    return fibre_latency_ms(length_km, delay_ms_per_km) + np.asarray(hop_delay_ms, dtype=float)


# --------------------------------------------------------------------------- graphs


def latency_graph(n_nodes: int, src, dst, weight_ms, directed: bool = False) -> sp.csr_matrix:
    """A CSR adjacency matrix of link latencies, with parallel links reduced to the fastest.

    ``scipy.sparse`` *sums* duplicate entries when it builds a matrix, which would turn two parallel
    1 ms links into one 2 ms link; this function keeps the minimum instead. Self-loops are dropped
    (they never shorten a path with non-negative weights). Zero weights stay edges (csgraph treats
    explicit zeros in a sparse matrix as edges).

    Parameters
    ----------
    n_nodes : int
        Number of nodes; node ids are ``0 .. n_nodes-1``.
    src, dst : array_like of int, shape (n_links,)
        Link end nodes.
    weight_ms : array_like, shape (n_links,)
        One-way link latency [ms], finite and non-negative.
    directed : bool
        If False, ``(a, b)`` and ``(b, a)`` are the same link and stored once as ``(min, max)``.

    Returns
    -------
    scipy.sparse.csr_matrix, shape (n_nodes, n_nodes)
    """
    src = np.asarray(src, dtype=np.int64).ravel()
    dst = np.asarray(dst, dtype=np.int64).ravel()
    w = np.broadcast_to(np.asarray(weight_ms, dtype=float), src.shape).ravel()
    if src.shape != dst.shape:
        raise ValueError(f"src and dst must have the same length, got {src.size} and {dst.size}")
    if src.size and (src.min() < 0 or dst.min() < 0 or src.max() >= n_nodes or dst.max() >= n_nodes):
        raise ValueError(f"link end nodes must be in [0, {n_nodes})")
    if not np.all(np.isfinite(w)) or np.any(w < 0):
        raise ValueError("link weights must be finite and non-negative [ms]")
    if not directed:
        src, dst = np.minimum(src, dst), np.maximum(src, dst)
    keep = src != dst
    src, dst, w = src[keep], dst[keep], w[keep]
    key = src * n_nodes + dst
    order = np.lexsort((w, key))          # by key, then weight: the first of each key is its minimum
    key_sorted = key[order]
    first = np.ones(key_sorted.size, dtype=bool)
    first[1:] = key_sorted[1:] != key_sorted[:-1]
    pick = order[first]
    return sp.csr_matrix((w[pick], (src[pick], dst[pick])), shape=(n_nodes, n_nodes))


def _as_graph(n_nodes, src, dst, weight_ms, directed):
    if sp.issparse(src) and dst is None and weight_ms is None:
        return sp.csr_matrix(src)
    return latency_graph(n_nodes, src, dst, weight_ms, directed=directed)


def shortest_latency_ms(n_nodes: int, src, dst, weight_ms, sources=None, limit_ms: float | None = None,
                        directed: bool = False) -> np.ndarray:
    """Lowest one-way path latency from sources to every node (Dijkstra on a CSR matrix).

    Parameters
    ----------
    n_nodes : int
        Number of nodes.
    src, dst, weight_ms : array_like
        Links and their one-way latency [ms] (see :func:`latency_graph`; parallel links keep the
        fastest). Alternatively pass a CSR matrix from :func:`latency_graph` as ``src`` and
        ``None`` for ``dst`` and ``weight_ms`` to reuse it.
    sources : int, array_like of int or None
        Source nodes. ``None``: all nodes (all pairs, an ``n x n`` dense array: mind the memory,
        8 n^2 bytes).
    limit_ms : float, optional
        Stop searching beyond this latency [ms]; nodes farther than that come back as ``inf``.
        Much faster for "within x ms" circles (STACK-NOTES 7a: 5.2 s -> 0.12 s).
    directed : bool
        Links are one-way ``src -> dst`` if True.

    Returns
    -------
    ndarray
        One-way latency [ms], ``inf`` where unreachable (or beyond ``limit_ms``). Shape ``(n_nodes,)``
        for a scalar source, else ``(n_sources, n_nodes)``.
    """
    graph = _as_graph(n_nodes, src, dst, weight_ms, directed)
    limit = np.inf if limit_ms is None else float(limit_ms)
    return dijkstra(graph, directed=directed, indices=sources, limit=limit)


def all_pairs_latency_ms(n_nodes: int, src, dst, weight_ms, limit_ms: float | None = None,
                         directed: bool = False) -> np.ndarray:
    """All-pairs lowest one-way latency [ms], shape ``(n_nodes, n_nodes)``; ``inf`` if unreachable.

    Convenience for :func:`shortest_latency_ms` with ``sources=None``; parameters as there.
    """
    return shortest_latency_ms(n_nodes, src, dst, weight_ms, sources=None, limit_ms=limit_ms, directed=directed)


def nearest_source_latency_ms(n_nodes: int, src, dst, weight_ms, sources, limit_ms: float | None = None,
                              directed: bool = False, min_only: bool = True):
    """Latency from every node to the closest of a set of source nodes.

    With ``min_only=True`` this is one multi-source Dijkstra run, about as fast as a single source
    (STACK-NOTES 7a: 1,000 sources on 20 k nodes in 0.007 s instead of 5.2 s).

    Parameters
    ----------
    n_nodes, src, dst, weight_ms, limit_ms, directed
        As in :func:`shortest_latency_ms`. With ``directed=True`` the latency runs from the
        source to the node.
    sources : array_like of int
        The set of nodes (for example the nodes with compute).
    min_only : bool
        True: multi-source run. False: one run per source and a minimum over them (same result,
        slower; kept for checking).

    Returns
    -------
    latency_ms : ndarray, shape (n_nodes,)
        One-way latency to the nearest source [ms]; ``inf`` where none is reachable.
    nearest : ndarray of int, shape (n_nodes,)
        The nearest source node, ``-1`` where none is reachable.
    """
    graph = _as_graph(n_nodes, src, dst, weight_ms, directed)
    sources = np.atleast_1d(np.asarray(sources, dtype=np.int64))
    limit = np.inf if limit_ms is None else float(limit_ms)
    if sources.size == 0:
        return np.full(graph.shape[0], np.inf), np.full(graph.shape[0], -1, dtype=np.int64)
    if min_only:
        dist, _, nearest = dijkstra(graph, directed=directed, indices=sources, limit=limit, min_only=True,
                                    return_predecessors=True)
        nearest = np.asarray(nearest, dtype=np.int64)
    else:
        full = dijkstra(graph, directed=directed, indices=sources, limit=limit)
        best = np.argmin(full, axis=0)
        dist = full[best, np.arange(full.shape[1])]
        nearest = sources[best]
    nearest = np.where(np.isfinite(dist), nearest, -1)
    return dist, nearest


# --------------------------------------------------------------------------- access


def access_latency_ms(dev_lon, dev_lat, site_lon, site_lat, access_tech_delay_ms=0.0,
                      route_factor: float = DEFAULT_ROUTE_FACTOR, site_extra_ms=None, k: int = 8,
                      workers: int = -1, index: SiteIndex | None = None,
                      delay_ms_per_km: float = FIBRE_DELAY_MS_PER_KM) -> tuple[np.ndarray, np.ndarray]:
    """Lowest one-way latency from each device point to any site, and which site gives it.

    ``latency = access delay + great-circle km x route_factor x 4.9 us/km + site_extra_ms[site]``,
    minimised over sites.

    The minimum is **exact**, not a k-nearest approximation. Without ``site_extra_ms`` the nearest
    site is the best one (one KD-tree query). With per-site extra delays, each point's ``k`` nearest
    sites are evaluated; a site outside them is at least as far as the k-th neighbour, so its latency
    is at least ``d_k x route_factor x 4.9 us/km + min(site_extra_ms)``. Points whose best candidate
    beats that bound are settled; the rest are queried again with ``2k`` neighbours (and so on up to
    all sites). Only the unsettled subset is re-queried, so this stays vectorised; with an extra
    delay spread of ``dE`` [ms], points need the sites within ``dE / (route_factor x 4.9 us/km)`` km
    beyond their nearest one.

    Parameters
    ----------
    dev_lon, dev_lat : array_like
        Device (population point) coordinates [degree]; broadcast against each other.
    site_lon, site_lat : array_like, shape (n_sites,)
        Site coordinates [degree]. Ignored when ``index`` is given.
    access_tech_delay_ms : float or array_like
        One-way access delay [ms], scalar or one per device point (see :data:`ACCESS_DELAY_MS`).
    route_factor : float
        Metro fibre route length / great-circle distance [1]; default 1.5 (assumed).
    site_extra_ms : array_like, shape (n_sites,), optional
        Extra one-way delay at each site [ms] (equipment, in-site switching); ``inf`` excludes a site.
    k : int
        Neighbours evaluated in the first round (clamped to the number of sites).
    workers : int
        KD-tree query threads (-1: all cores).
    index : SiteIndex, optional
        A prebuilt index over the sites, to reuse across calls.
    delay_ms_per_km : float
        Fibre propagation delay [ms/km]; default 4.9 us/km.

    Returns
    -------
    latency_ms : ndarray
        One-way latency [ms], shape of the broadcast device coordinates; ``inf`` if every site
        is excluded.
    site_idx : ndarray of int
        Index of the best site (into the site arrays), ``-1`` where ``latency_ms`` is ``inf``.
    """
    if index is None:
        index = SiteIndex(site_lon, site_lat)
    lon, lat = np.broadcast_arrays(np.asarray(dev_lon, dtype=float), np.asarray(dev_lat, dtype=float))
    shape = lon.shape
    lon, lat = lon.ravel(), lat.ravel()
    access = np.broadcast_to(np.asarray(access_tech_delay_ms, dtype=float), shape).ravel()
    per_km = float(delay_ms_per_km) * float(route_factor)
    if not per_km >= 0:
        raise ValueError(f"route_factor x delay per km must be non-negative, got {per_km}")
    n_sites = index.n

    if site_extra_ms is None:
        dist, best_site = index.nearest(lon, lat, k=1, workers=workers)
        best = dist * per_km
    else:
        extra = np.asarray(site_extra_ms, dtype=float).ravel()
        if extra.shape != (n_sites,):
            raise ValueError(f"site_extra_ms must have one value per site ({n_sites}), got shape {extra.shape}")
        if np.any(np.isnan(extra)):
            raise ValueError("site_extra_ms contains NaN")
        extra_min = extra.min()
        best = np.full(lon.size, np.inf)
        best_site = np.zeros(lon.size, dtype=np.intp)
        todo = np.arange(lon.size)
        kk = max(1, min(int(k), n_sites))
        while todo.size:
            # bound the (points x kk) working arrays to ~4 M elements per chunk
            chunk = max(1, (1 << 22) // kk)
            unsettled = []
            for start in range(0, todo.size, chunk):
                part = todo[start:start + chunk]
                dist, idx = index.nearest(lon[part], lat[part], k=kk, workers=workers)
                dist, idx = dist.reshape(part.size, kk), idx.reshape(part.size, kk)
                cand = dist * per_km + extra[idx]
                j = np.argmin(cand, axis=1)
                rows = np.arange(part.size)
                best[part] = cand[rows, j]
                best_site[part] = idx[rows, j]
                if kk < n_sites:
                    unsettled.append(part[best[part] > dist[:, -1] * per_km + extra_min])
            if kk >= n_sites or not unsettled:
                break
            todo = np.concatenate(unsettled)
            kk = min(2 * kk, n_sites)

    latency = access + best
    site_idx = np.where(np.isfinite(latency), best_site, -1)
    return latency.reshape(shape), site_idx.reshape(shape)
