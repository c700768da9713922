"""Population spreading and coverage shares against closed forms and hand cases."""

import math

import numpy as np
import pytest

from workbench.coverage_math import coverage_shares, exponential_radius_km, exponential_share_within, spread_population
from workbench.geo import great_circle_km
from workbench.latency import FIBRE_DELAY_MS_PER_KM, access_latency_ms


def test_exponential_profile_closed_form():
    # F(x) = 1 - (1 + x) e^-x: F(1) = 1 - 2/e, F(2) = 1 - 3/e^2; the median radius is 1.678 s
    np.testing.assert_allclose(exponential_share_within([0.0, 10.0, 20.0], 10.0),
                               [0.0, 1 - 2 / math.e, 1 - 3 / math.e ** 2], rtol=1e-12)
    assert float(exponential_radius_km(0.5, 1.0)) == pytest.approx(1.67835, abs=1e-5)
    p = np.linspace(0.01, 0.99, 50)
    np.testing.assert_allclose(exponential_share_within(exponential_radius_km(p, 7.0), 7.0), p, rtol=1e-10)
    # spread 0: everyone at the centre
    assert float(exponential_share_within(5.0, 0.0)) == 1.0


def test_spread_weights_sum_to_count_and_points_sit_where_stated():
    lon = np.array([116.4, 121.5, 104.1, 90.0])
    lat = np.array([39.9, 31.2, 30.7, 29.6])
    count = np.array([2.1e7, 2.5e7, 13.0, 0.0])
    spread = np.array([17.4, 19.9, 0.0, np.nan])
    pts = spread_population(lon, lat, count, spread, n_rings=8, n_angles=12)
    # two spread groups of 96 points; a zero-spread and a NaN-spread group of one point each
    assert len(pts["weight"]) == 96 + 96 + 1 + 1
    np.testing.assert_array_equal(np.bincount(pts["group"]), [96, 96, 1, 1])
    np.testing.assert_allclose(np.bincount(pts["group"], weights=pts["weight"]), count, rtol=1e-12)
    # single points are exactly the centre
    single = pts["group"] >= 2
    np.testing.assert_allclose(pts["lon"][single], lon[2:])
    np.testing.assert_allclose(pts["lat"][single], lat[2:])
    # every point is at its stated great-circle distance from its centre (exact destination formula)
    g = pts["group"]
    np.testing.assert_allclose(great_circle_km(lon[g], lat[g], pts["lon"], pts["lat"]), pts["r_km"],
                               rtol=1e-9, atol=1e-9)
    # ring radii are the Gamma(2) quantiles (i + 1/2) / 8 times the spread
    rings = np.unique(np.round(pts["r_km"][g == 0], 9))
    np.testing.assert_allclose(rings, exponential_radius_km((np.arange(8) + 0.5) / 8, 17.4), rtol=1e-9)


def test_spread_handles_the_date_line_and_rejects_bad_input():
    pts = spread_population([179.99], [60.0], [1.0], [50.0])
    assert np.all((pts["lon"] >= -180) & (pts["lon"] < 180))
    np.testing.assert_allclose(great_circle_km(179.99, 60.0, pts["lon"], pts["lat"]), pts["r_km"], rtol=1e-9)
    with pytest.raises(ValueError, match="spread_km"):
        spread_population([0.0], [0.0], [1.0], [-1.0])
    with pytest.raises(ValueError, match="count"):
        spread_population([0.0], [0.0], [-1.0], [1.0])


def test_spread_plus_central_site_converges_to_the_closed_form():
    # One metro (s = 20 km) with a site at its centre, route factor 1.5, no extra delays. A budget
    # B [ms] is a fibre radius R = B / (1.5 x 4.9 us/km), and the exact share inside it is
    # F(R/s) = 1 - (1 + R/s) e^(-R/s). With equal-mass rings at their mass-median radii the
    # discretised share is within half a ring's mass, 1 / (2 n_rings), of F for *every* R, so the
    # error bound halves with each doubling of n_rings: 0.0625 (8 rings) ... 0.0078 (64 rings);
    # at 32 rings the worst case over R in (0.1 s, 6 s) is below 0.02.
    s = 20.0
    per_km = 1.5 * FIBRE_DELAY_MS_PER_KM
    radius = np.linspace(0.1, 6.0, 119) * s
    exact = exponential_share_within(radius, s)
    worst = {}
    for n_rings in (8, 16, 32, 64):
        pts = spread_population([116.0], [40.0], [1e7], [s], n_rings=n_rings, n_angles=6)
        lat_ms, _ = access_latency_ms(pts["lon"], pts["lat"], [116.0], [40.0], 0.0, route_factor=1.5)
        share = coverage_shares(lat_ms, pts["weight"], pts["group"], radius * per_km * (1 + 1e-12), 1)[0]
        worst[n_rings] = np.abs(share - exact).max()
        assert worst[n_rings] <= 1 / (2 * n_rings) + 1e-9
    assert worst[32] < 0.02
    assert worst[64] < worst[16] < worst[8]
    # the 2-degree / 2 s case of tests/analyses/test_coverage.py: 1 - 3 e^-2 = 0.594
    pts = spread_population([116.0], [40.0], [1.0], [s], n_rings=32, n_angles=16)
    lat_ms, _ = access_latency_ms(pts["lon"], pts["lat"], [116.0], [40.0], 0.0, route_factor=1.5)
    share = coverage_shares(lat_ms, pts["weight"], pts["group"], [2 * s * per_km], 1)[0, 0]
    assert share == pytest.approx(1 - 3 * math.exp(-2), abs=1 / 64)


def test_coverage_shares_hand_case():
    # weights 1, 2, 3 at 0.5, 3 and 30 ms: within 1 ms 1/6, within 5 ms 3/6, within 20 ms still 3/6
    shares = coverage_shares([0.5, 3.0, 30.0], [1.0, 2.0, 3.0], [0, 0, 0], [1.0, 5.0, 20.0], 1)
    np.testing.assert_allclose(shares, [[1 / 6, 3 / 6, 3 / 6]])
    # budgets in any order; a budget equal to a latency covers it; inf/NaN never covered;
    # a group without points is NaN
    shares = coverage_shares([0.5, 3.0, 30.0, np.inf, np.nan, 2.0], [1, 2, 3, 4, 5, 1], [0, 0, 0, 0, 0, 2],
                             [20.0, 3.0, 1.0], 3)
    np.testing.assert_allclose(shares[0], [3 / 15, 3 / 15, 1 / 15])
    assert np.isnan(shares[1]).all()
    np.testing.assert_allclose(shares[2], [1.0, 1.0, 0.0])
    with pytest.raises(ValueError, match="group indices"):
        coverage_shares([1.0], [1.0], [3], [1.0], 2)
