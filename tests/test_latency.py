"""Latency physics, shortest paths and access latency against hand calculations."""

import math

import numpy as np
import pytest

from workbench.geo import EARTH_RADIUS_KM, great_circle_km
from workbench.latency import (
    ACCESS_DELAY_MS,
    DEFAULT_HOP_DELAY_MS,
    DEFAULT_ROUTE_FACTOR,
    FIBRE_DELAY_MS_PER_KM,
    access_latency_ms,
    all_pairs_latency_ms,
    fibre_latency_ms,
    latency_graph,
    link_latency_ms,
    nearest_source_latency_ms,
    route_length_km,
    shortest_latency_ms,
)

KM_PER_DEG = math.pi * EARTH_RADIUS_KM / 180
INF = np.inf

# Hand graph, 5 nodes; node 4 has no links. Link (0, 1) appears three times (1.0, 2.0 and reversed
# 3.0): the fastest, 1.0, must win (scipy.sparse would sum duplicates to 3.0 or 6.0).
#
#   0 --1.0-- 1 --2.0-- 2 --1.5-- 3        plus 0-2 (5.0), 1-3 (4.0) and 3->1 (4.5)
SRC = [0, 0, 1, 1, 0, 2, 1, 3]
DST = [1, 1, 0, 2, 2, 3, 3, 1]
W = [1.0, 2.0, 3.0, 2.0, 5.0, 1.5, 4.0, 4.5]


def test_constants_carry_the_documented_values():
    assert FIBRE_DELAY_MS_PER_KM == 0.0049          # 4.9 us/km, FIGURES 2
    assert DEFAULT_ROUTE_FACTOR == 1.5               # assumed, Bozkurt et al. range 1.3-2.1
    assert DEFAULT_HOP_DELAY_MS == 0.1               # assumed, one OEO site ~100 us
    assert ACCESS_DELAY_MS["5g"] == 4.0 and ACCESS_DELAY_MS["5g-urllc"] == 1.0 and ACCESS_DELAY_MS["wlan"] == 5.0
    assert ACCESS_DELAY_MS["wired"] == 0.0
    # the schema's access_tech values all have a delay
    assert set(ACCESS_DELAY_MS) == {"5g", "5g-a", "5g-urllc", "fibre", "pon", "wlan", "wired"}


def test_fibre_route_and_link_latency():
    assert float(fibre_latency_ms(1000.0)) == pytest.approx(4.9)            # FIGURES 2: 1,000 km ~ 4.9 ms
    assert float(fibre_latency_ms(204.0)) == pytest.approx(0.9996)          # FIGURES 2: 1 ms ~ 204 km
    assert float(link_latency_ms(100.0)) == pytest.approx(0.49 + 0.1)
    np.testing.assert_allclose(link_latency_ms([0.0, 10.0], hop_delay_ms=[0.0, 0.02]), [0.0, 0.049 + 0.02])
    # 2 degrees of latitude = 222.39 km; x 1.5
    assert float(route_length_km(116, 40, 116, 42)) == pytest.approx(2 * KM_PER_DEG * 1.5, rel=1e-12)
    assert float(route_length_km(116, 40, 116, 42, route_factor=2.1)) == pytest.approx(2 * KM_PER_DEG * 2.1)


def test_latency_graph_keeps_the_fastest_parallel_link():
    g = latency_graph(5, SRC, DST, W)
    # undirected: (0,1) x3 -> 1.0, (1,3) and (3,1) -> 4.0; 5 distinct links remain
    assert g.nnz == 5
    assert g[0, 1] == 1.0 and g[1, 3] == 4.0
    gd = latency_graph(5, SRC, DST, W, directed=True)
    assert gd.nnz == 7 and gd[0, 1] == 1.0 and gd[1, 0] == 3.0 and gd[3, 1] == 4.5
    # self-loops are dropped; zero weights stay edges
    assert latency_graph(3, [0, 1], [0, 2], [1.0, 0.0]).nnz == 1
    with pytest.raises(ValueError, match="non-negative"):
        latency_graph(3, [0], [1], [-1.0])
    with pytest.raises(ValueError, match="end nodes"):
        latency_graph(3, [0], [3], [1.0])


def test_shortest_latency_on_the_hand_graph():
    # from 0: 1 via the 1.0 link; 2 via 1 (1 + 2 = 3 < 5); 3 via 2 (3 + 1.5 = 4.5 < 1 + 4); 4 unreachable
    np.testing.assert_allclose(shortest_latency_ms(5, SRC, DST, W, sources=0), [0, 1, 3, 4.5, INF])
    # from 3 (undirected): 2 = 1.5; 1 = min(4, 1.5 + 2) = 3.5; 0 = 3.5 + 1 = 4.5
    np.testing.assert_allclose(shortest_latency_ms(5, SRC, DST, W, sources=[0, 3]),
                               [[0, 1, 3, 4.5, INF], [4.5, 3.5, 1.5, 0, INF]])
    # directed from 3: only 3->1 (4.5) leaves 3; then 1->2 (2.0) and 1->0 (3.0)
    np.testing.assert_allclose(shortest_latency_ms(5, SRC, DST, W, sources=3, directed=True),
                               [7.5, 4.5, 6.5, 0, INF])
    # limit: nodes beyond 4 ms come back as inf
    np.testing.assert_allclose(shortest_latency_ms(5, SRC, DST, W, sources=0, limit_ms=4.0), [0, 1, 3, INF, INF])
    # all pairs is symmetric for an undirected graph, with inf for node 4
    ap = all_pairs_latency_ms(5, SRC, DST, W)
    assert ap.shape == (5, 5)
    np.testing.assert_allclose(ap, ap.T)
    assert np.isinf(ap[4, :4]).all() and ap[4, 4] == 0
    # a prebuilt matrix can be passed instead of the link arrays
    g = latency_graph(5, SRC, DST, W)
    np.testing.assert_allclose(shortest_latency_ms(5, g, None, None, sources=0), [0, 1, 3, 4.5, INF])
    # a zero-latency link is a link
    np.testing.assert_allclose(shortest_latency_ms(3, [0, 1], [1, 2], [0.0, 1.0], sources=0), [0, 0, 1])


def test_nearest_source_latency_on_the_hand_graph():
    # sources {0, 3}: node 1 is 1.0 from 0; node 2 is 1.5 from 3; node 4 reaches none
    d, s = nearest_source_latency_ms(5, SRC, DST, W, sources=[0, 3])
    np.testing.assert_allclose(d, [0, 1, 1.5, 0, INF])
    np.testing.assert_array_equal(s, [0, 0, 3, 3, -1])
    d2, s2 = nearest_source_latency_ms(5, SRC, DST, W, sources=[0, 3], min_only=False)
    np.testing.assert_allclose(d2, d)
    np.testing.assert_array_equal(s2, s)
    d3, s3 = nearest_source_latency_ms(5, SRC, DST, W, sources=[0, 3], limit_ms=1.2)
    np.testing.assert_allclose(d3, [0, 1, INF, 0, INF])
    np.testing.assert_array_equal(s3, [0, 0, -1, 3, -1])


def test_access_latency_hand_cases():
    site = (116.0, 40.0)
    # a device at the site on 5G: the eMBB user-plane delay only
    lat_ms, idx = access_latency_ms(116.0, 40.0, [site[0]], [site[1]], ACCESS_DELAY_MS["5g"])
    assert float(lat_ms) == pytest.approx(4.0) and int(idx) == 0
    # a device 100 km north on fibre access: 100 km x 1.5 x 4.9 us/km = 0.735 ms + 0.1 ms access
    north = 40.0 + 100.0 / KM_PER_DEG
    lat_ms, _ = access_latency_ms(116.0, north, [site[0]], [site[1]], ACCESS_DELAY_MS["fibre"], route_factor=1.5)
    assert float(lat_ms) == pytest.approx(0.735 + 0.1, rel=1e-9)
    # per-point access delays and 2-D input keep their shape
    lat_ms, idx = access_latency_ms([[116.0, 116.0]], [[40.0, north]], [116.0], [40.0], [[4.0, 1.0]])
    assert lat_ms.shape == idx.shape == (1, 2)
    np.testing.assert_allclose(lat_ms, [[4.0, 1.735]])


def test_access_latency_per_site_extra_delay_is_exact():
    # The nearest site (10 km) is slow (+5 ms); a site 300 km away has no extra delay:
    # 300 x 1.5 x 0.0049 = 2.205 ms < 10 x 1.5 x 0.0049 + 5 = 5.0735 ms. Even with k=1 the result is exact.
    slon = [116.0, 116.0]
    slat = [40.0 + 10 / KM_PER_DEG, 40.0 + 300 / KM_PER_DEG]
    lat_ms, idx = access_latency_ms(116.0, 40.0, slon, slat, 0.0, site_extra_ms=[5.0, 0.0], k=1)
    assert float(lat_ms) == pytest.approx(300 * 1.5 * 0.0049, rel=1e-9) and int(idx) == 1


def test_access_latency_matches_brute_force_with_extra_delays():
    rng = np.random.default_rng(3)
    slon, slat = rng.uniform(110, 120, 300), rng.uniform(30, 40, 300)
    extra = rng.uniform(0.0, 3.0, 300)            # a spread of 3 ms = 408 km of fibre at route factor 1.5
    extra[::7] = np.inf                           # some sites excluded
    plon, plat = rng.uniform(109, 121, 3000), rng.uniform(29, 41, 3000)
    access = rng.choice([0.0, 1.0, 4.0], 3000)
    brute = (great_circle_km(plon[:, None], plat[:, None], slon, slat) * 1.5 * FIBRE_DELAY_MS_PER_KM + extra)
    for k in (1, 4, 8):
        lat_ms, idx = access_latency_ms(plon, plat, slon, slat, access, route_factor=1.5, site_extra_ms=extra, k=k)
        np.testing.assert_allclose(lat_ms, access + brute.min(axis=1), rtol=1e-9)
        np.testing.assert_array_equal(idx, brute.argmin(axis=1))
    # every site excluded: inf and -1
    lat_ms, idx = access_latency_ms(plon[:5], plat[:5], slon, slat, site_extra_ms=np.full(300, np.inf))
    assert np.isinf(lat_ms).all() and (idx == -1).all()
    with pytest.raises(ValueError, match="one value per site"):
        access_latency_ms(plon, plat, slon, slat, site_extra_ms=[0.0])
