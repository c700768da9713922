"""Great-circle geometry and the KD-tree site index against closed forms and brute force."""

import math

import numpy as np
import pytest

from workbench.geo import EARTH_RADIUS_KM, SiteIndex, chord_to_km, great_circle_km, km_to_chord, lonlat_to_unit
from workbench.latency import fibre_latency_ms, route_length_km

BEIJING = (116.397, 39.904)
SHANGHAI = (121.474, 31.230)
KM_PER_DEG = math.pi * EARTH_RADIUS_KM / 180  # 111.195 km per degree of a great circle


def _random_lonlat(rng, n):
    """Uniform in China's bounding box, lon 73-135, lat 18-54 [degree]."""
    return rng.uniform(73, 135, n), rng.uniform(18, 54, n)


def test_beijing_shanghai_distance_and_fibre_floor():
    # Haversine on the sphere R = 6371.0088 km gives 1,067.7 km. FIGURES 9 lists Beijing-Qingpu as
    # 1,062 km; Qingpu lies ~34 km west-south-west of central Shanghai, nearly at right angles to the
    # Beijing-Shanghai direction, so it is only a few km nearer Beijing: 1,062 < 1,067.7 < 1,062 + 34.
    d = float(great_circle_km(*BEIJING, *SHANGHAI))
    assert d == pytest.approx(1067.7, abs=0.5)
    assert 1062 < d < 1062 + 34
    # One-way fibre floor: 1,067.7 km x 4.9 us/km = 5.23 ms at route factor 1.0, 7.85 ms at 1.5
    # (FIGURES 9 gives 5.2-7.8 ms for Beijing-Qingpu).
    assert float(fibre_latency_ms(route_length_km(*BEIJING, *SHANGHAI, route_factor=1.0))) == pytest.approx(5.23, abs=0.01)
    assert float(fibre_latency_ms(route_length_km(*BEIJING, *SHANGHAI, route_factor=1.5))) == pytest.approx(7.85, abs=0.01)


def test_great_circle_closed_forms_and_broadcasting():
    # a degree of latitude along a meridian, a degree of longitude on the equator, antipodes, zero
    assert float(great_circle_km(10, 20, 10, 21)) == pytest.approx(KM_PER_DEG, rel=1e-12)
    assert float(great_circle_km(0, 0, 1, 0)) == pytest.approx(KM_PER_DEG, rel=1e-12)
    assert float(great_circle_km(30, 45, -150, -45)) == pytest.approx(math.pi * EARTH_RADIUS_KM, rel=1e-9)
    assert float(great_circle_km(*BEIJING, *BEIJING)) == 0.0
    # two points on the 60th parallel 1 degree apart: the great circle (not the parallel) is exactly
    # 2 R asin(cos(60 deg) sin(0.5 deg))
    assert float(great_circle_km(0, 60, 1, 60)) == pytest.approx(
        2 * EARTH_RADIUS_KM * math.asin(0.5 * math.sin(math.radians(0.5))), rel=1e-12)
    # broadcasting: (3, 1) against (4,) gives (3, 4)
    d = great_circle_km(np.array([[0.0], [1.0], [2.0]]), 0.0, np.arange(4.0), 0.0)
    assert d.shape == (3, 4)
    np.testing.assert_allclose(d, np.abs(np.arange(3)[:, None] - np.arange(4)) * KM_PER_DEG, rtol=1e-12)


def test_tiny_distances_keep_relative_precision():
    # 1 m and 1 mm apart along a meridian
    for km in (1e-3, 1e-6):
        assert float(great_circle_km(116.0, 40.0, 116.0, 40.0 + km / KM_PER_DEG)) == pytest.approx(km, rel=1e-6)


def test_unit_vectors_chords_and_their_inverse():
    xyz = lonlat_to_unit([0, 90, 0], [0, 0, 90])
    np.testing.assert_allclose(xyz, np.eye(3), atol=1e-15)
    rng = np.random.default_rng(1)
    lon1, lat1 = _random_lonlat(rng, 1000)
    lon2, lat2 = _random_lonlat(rng, 1000)
    chord = np.linalg.norm(lonlat_to_unit(lon1, lat1) - lonlat_to_unit(lon2, lat2), axis=-1)
    np.testing.assert_allclose(chord_to_km(chord), great_circle_km(lon1, lat1, lon2, lat2), rtol=1e-9, atol=1e-9)
    km = np.array([0.0, 1.0, 1000.0, 10000.0, math.pi * EARTH_RADIUS_KM, 1e6])
    np.testing.assert_allclose(km_to_chord(km)[:5], [0, 2 * math.sin(0.5 / EARTH_RADIUS_KM),
                                                     2 * math.sin(500 / EARTH_RADIUS_KM),
                                                     2 * math.sin(5000 / EARTH_RADIUS_KM), 2.0], rtol=1e-12)
    assert km_to_chord(km)[5] == 2.0
    np.testing.assert_allclose(chord_to_km(km_to_chord(km[:5])), km[:5], rtol=1e-12)
    assert np.isinf(chord_to_km(np.inf))


def test_site_index_nearest_agrees_with_brute_force():
    rng = np.random.default_rng(42)
    slon, slat = _random_lonlat(rng, 500)
    plon, plat = _random_lonlat(rng, 2000)
    brute = great_circle_km(plon[:, None], plat[:, None], slon[None, :], slat[None, :])
    index = SiteIndex(slon, slat)
    d, i = index.nearest(plon, plat)
    assert d.shape == i.shape == (2000,)
    np.testing.assert_array_equal(i, brute.argmin(axis=1))
    np.testing.assert_allclose(d, brute.min(axis=1), rtol=1e-9, atol=1e-9)
    # k nearest, sorted nearest first
    d5, i5 = index.nearest(plon, plat, k=5)
    assert d5.shape == (2000, 5)
    np.testing.assert_array_equal(i5, np.argsort(brute, axis=1)[:, :5])
    np.testing.assert_allclose(d5, np.sort(brute, axis=1)[:, :5], rtol=1e-9, atol=1e-9)
    # k larger than the number of sites is clamped
    small = SiteIndex(slon[:3], slat[:3])
    assert small.nearest(plon[:4], plat[:4], k=10)[1].shape == (4, 3)


def test_site_index_within_agrees_with_brute_force():
    rng = np.random.default_rng(7)
    slon, slat = _random_lonlat(rng, 500)
    plon, plat = _random_lonlat(rng, 300)
    brute = great_circle_km(plon[:, None], plat[:, None], slon[None, :], slat[None, :]) <= 300.0
    index = SiteIndex(slon, slat)
    np.testing.assert_array_equal(index.within(plon, plat, 300.0, return_counts=True), brute.sum(axis=1))
    lists = index.within(plon, plat, 300.0)
    assert all(sorted(lst) == list(np.flatnonzero(row)) for lst, row in zip(lists, brute))
    # one radius per point
    radii = np.where(np.arange(300) % 2 == 0, 300.0, 0.0)
    counts = index.within(plon, plat, radii, return_counts=True)
    np.testing.assert_array_equal(counts[::2], brute.sum(axis=1)[::2])
    assert counts[1::2].sum() == 0


def test_site_index_rejects_bad_input():
    with pytest.raises(ValueError, match="at least one site"):
        SiteIndex([], [])
    with pytest.raises(ValueError, match="same length"):
        SiteIndex([1.0, 2.0], [1.0])
    with pytest.raises(ValueError, match="finite"):
        SiteIndex([np.nan], [1.0])
