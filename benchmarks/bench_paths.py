"""Shortest one-way latency on a 20,000-node / ~60,000-link random geometric graph.

Graph (seeded): 20,000 nodes uniform on the sphere over eastern China (lon 100-122, lat 22-42
[degree]); a link joins every pair closer than the radius that gives ~60,000 links in expectation
(``E = n^2/2 x pi r^2 / A``, found with ``cKDTree.query_pairs`` on unit vectors); link latency =
great-circle km x 1.5 x 4.9 us/km + 0.1 ms per hop (:func:`workbench.latency.link_latency_ms`).

* ``shortest_latency_ms`` from 100 sources vs networkx ``single_source_dijkstra_path_length`` on 10
  of them, extrapolated linearly to 100 (its cost is per source).
* ``shortest_latency_ms`` with ``limit_ms=1`` from 1,000 sources (1 ms circles; no baseline).
* ``nearest_source_latency_ms`` (``min_only``) from 1,000 sources vs networkx
  ``multi_source_dijkstra_path_length`` on the same 1,000 (one call each, no extrapolation).

Both are checked to agree (max abs difference, same unreachable set).
"""

from __future__ import annotations

import networkx as nx
import numpy as np
from scipy.spatial import cKDTree

from workbench import latency as wl
from workbench.geo import EARTH_RADIUS_KM, great_circle_km, km_to_chord, lonlat_to_unit

from . import best_of

SEED = 20260611
N_NODES = 20_000
TARGET_LINKS = 60_000
N_SOURCES = 100
N_NX_SOURCES = 10
N_SET = 1_000
CIRCLE_MS = 1.0  # one-way budget of the "within x ms" circles [ms] (the metro 1 ms circle, FIGURES 1.5)
BOX = (100.0, 122.0, 22.0, 42.0)  # lon_min, lon_max, lat_min, lat_max [degree]


def make_nodes(seed: int = SEED):
    """Node positions [degree], uniform in area over :data:`BOX`."""
    rng = np.random.default_rng(seed)
    lon0, lon1, lat0, lat1 = BOX
    s0, s1 = np.sin(np.radians(lat0)), np.sin(np.radians(lat1))
    lon = rng.uniform(lon0, lon1, N_NODES)
    lat = np.degrees(np.arcsin(rng.uniform(s0, s1, N_NODES)))
    return lon, lat


def make_graph(seed: int = SEED):
    lon, lat = make_nodes(seed)
    lon0, lon1, lat0, lat1 = BOX
    s0, s1 = np.sin(np.radians(lat0)), np.sin(np.radians(lat1))
    area_km2 = EARTH_RADIUS_KM ** 2 * np.radians(lon1 - lon0) * (s1 - s0)
    radius_km = np.sqrt(2 * TARGET_LINKS * area_km2 / (np.pi * N_NODES ** 2))
    pairs = cKDTree(lonlat_to_unit(lon, lat)).query_pairs(float(km_to_chord(radius_km)), output_type="ndarray")
    src, dst = pairs[:, 0], pairs[:, 1]
    length = great_circle_km(lon[src], lat[src], lon[dst], lat[dst]) * wl.DEFAULT_ROUTE_FACTOR
    weight = wl.link_latency_ms(length)
    return src, dst, weight, radius_km


def _nx_rows(G, sources):
    out = np.full((len(sources), N_NODES), np.inf)
    for row, s in enumerate(sources):
        dist = nx.single_source_dijkstra_path_length(G, int(s))
        out[row, list(dist.keys())] = list(dist.values())
    return out


def _nx_multi(G, sources):
    dist = nx.multi_source_dijkstra_path_length(G, {int(s) for s in sources})
    out = np.full(N_NODES, np.inf)
    out[list(dist.keys())] = list(dist.values())
    return out


def _max_diff(a, b):
    same_inf = np.array_equal(np.isinf(a), np.isinf(b))
    finite = np.isfinite(a) & np.isfinite(b)
    return float(np.max(np.abs(a[finite] - b[finite]))) if finite.any() else 0.0, same_inf


def run() -> dict:
    src, dst, weight, radius_km = make_graph()
    rng = np.random.default_rng(SEED + 1)
    sources = rng.choice(N_NODES, N_SOURCES, replace=False)
    the_set = rng.choice(N_NODES, N_SET, replace=False)

    t_build, graph = best_of(lambda: wl.latency_graph(N_NODES, src, dst, weight), repeat=3)
    t_wb, dist = best_of(lambda: wl.shortest_latency_ms(N_NODES, graph, None, None, sources=sources), repeat=3)
    t_wb_set, (near, _) = best_of(lambda: wl.nearest_source_latency_ms(N_NODES, graph, None, None, the_set), repeat=3)
    t_circles, circles = best_of(lambda: wl.shortest_latency_ms(N_NODES, graph, None, None, sources=the_set,
                                                                limit_ms=CIRCLE_MS), repeat=3)
    t_wb_end_to_end, _ = best_of(lambda: wl.shortest_latency_ms(N_NODES, src, dst, weight, sources=sources), repeat=1)

    def build_nx():
        G = nx.Graph()
        G.add_nodes_from(range(N_NODES))
        G.add_weighted_edges_from(zip(src.tolist(), dst.tolist(), weight.tolist()))
        return G

    t_nx_build, G = best_of(build_nx, repeat=1)
    t_nx_sub, nx_rows = best_of(lambda: _nx_rows(G, sources[:N_NX_SOURCES]), repeat=1)
    t_nx = t_nx_sub * N_SOURCES / N_NX_SOURCES
    t_nx_set, nx_near = best_of(lambda: _nx_multi(G, the_set), repeat=1)

    diff_rows, inf_rows = _max_diff(dist[:N_NX_SOURCES], nx_rows)
    diff_set, inf_set = _max_diff(near, nx_near)
    return {
        "name": "paths",
        "figures": {
            "nodes": (N_NODES, ""), "links": (int(len(src)), ""),
            "link_radius": (float(radius_km), "km"),
            "largest_component_share": (_largest_component_share(graph), ""),
            "workbench_build_csr": (t_build, "s"),
            "workbench_time_100_sources": (t_wb, "s (CSR prebuilt)"),
            "workbench_time_100_sources_incl_build": (t_wb_end_to_end, "s"),
            "workbench_time_nearest_of_1000": (t_wb_set, "s (min_only)"),
            "workbench_time_1ms_circles_of_1000": (t_circles, f"s (limit_ms={CIRCLE_MS:g}, 1,000 sources)"),
            "mean_nodes_in_1ms_circle": (float(np.isfinite(circles).sum(axis=1).mean()), ""),
            "networkx_build_graph": (t_nx_build, "s"),
            "networkx_time_10_sources": (t_nx_sub, "s"),
            "networkx_time_100_sources_extrapolated": (t_nx, f"s (x{N_SOURCES // N_NX_SOURCES} linear extrapolation)"),
            "networkx_time_nearest_of_1000": (t_nx_set, "s (multi_source_dijkstra_path_length)"),
            "max_abs_diff_100_sources": (diff_rows, f"ms (on the {N_NX_SOURCES} sources networkx ran)"),
            "same_unreachable_100_sources": (inf_rows, ""),
            "max_abs_diff_nearest_of_1000": (diff_set, "ms"),
            "same_unreachable_nearest_of_1000": (inf_set, ""),
        },
        "ratios": {"networkx_over_workbench_100_sources": t_nx / t_wb,
                   "networkx_over_workbench_nearest_of_1000": t_nx_set / t_wb_set},
        "notes": [f"networkx single-source timed on {N_NX_SOURCES} sources and extrapolated linearly to {N_SOURCES}",
                  "graph build times are reported separately and excluded from the ratios"],
    }


def _largest_component_share(graph) -> float:
    from scipy.sparse.csgraph import connected_components

    _, labels = connected_components(graph, directed=False)
    return float(np.bincount(labels).max() / graph.shape[0])
