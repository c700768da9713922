"""Optical transport per link against hand calculations."""

import math

import numpy as np
import pytest
from workbench_optical.transport import TransportError, link_transport

import workbench as wb


def test_short_link_hand_calculation():
    # 100 km, 10 x 400G: 20 ZR+ transponders x 21 W; ceil(100/80) - 1 = 1 amplifier (150 W assumed);
    # latency 100 x 4.9 us + 0.15 us (EDFA) + 15 us (DSP/FEC) = 0.50515 ms
    t = link_transport([100.0], [10], [400e9])
    assert float(t["capacity"][0]) == 4e12 and float(t["transponders"][0]) == 20
    assert float(t["amplifiers"][0]) == 1 and float(t["regenerations"][0]) == 0
    np.testing.assert_allclose(t["power"][0], 20 * 21 + 150)
    np.testing.assert_allclose(t["latency"][0], 0.49 + (0.15 + 15) / 1e3)
    assert t["latency"].attrs["units"] == "ms" and t["power"].attrs["units"] == "W"


def test_long_800g_link_needs_regeneration():
    # 2,500 km at 800G (600 km reach, assumed): ceil(2500/600) - 1 = 4 regenerations;
    # transponders 2 x 40 x (1 + 4) = 400; amplifiers ceil(2500/80) - 1 = 31
    t = link_transport([2500.0], [40], [800e9])
    assert float(t["regenerations"][0]) == 4 and float(t["transponders"][0]) == 400
    assert float(t["amplifiers"][0]) == 31
    np.testing.assert_allclose(t["latency"][0], 2500 * 0.0049 + (31 * 0.15 + 4 * 100 + 15) / 1e3)


def test_dark_link_and_bad_input():
    t = link_transport([50.0], [0], [400e9])
    assert float(t["transponders"][0]) == 0 and float(t["power"][0]) == 0
    np.testing.assert_allclose(t["latency"][0], 50 * 0.0049)
    with pytest.raises(TransportError, match="300.0"):
        link_transport([10.0], [1], [300e9])
    with pytest.raises(TransportError, match="link x: length"):
        link_transport([-1.0], [1], [400e9], names=["x"])


def test_transport_analysis_on_a_scenario():
    # two sites one degree of latitude apart: 111.195 km great circle x route factor 1.5 = 166.79 km
    sites = [{"id": "a", "lon": 110.0, "lat": 30.0}, {"id": "b", "lon": 110.0, "lat": 31.0}]
    links = [{"id": "ab", "src": "a", "dst": "b", "capacity": 4e12},
             {"id": "ab2", "src": "a", "dst": "b", "length": 500, "optical_wavelengths": 4,
              "optical_wavelength_rate": 800e9, "optical_otn_hops": 1}]
    sc = wb.Scenario.from_tables({"site": sites, "link": links})
    t = wb.analyze("transport", sc)
    km = 6371.0088 * math.pi / 180 * 1.5
    np.testing.assert_allclose(t["length"].values, [km, 500], rtol=1e-6)
    assert list(t["wavelengths"].values) == [10, 4]  # capacity 4 Tbit/s / 400G
    np.testing.assert_allclose(t["capacity"].values, [4e12, 3.2e12])
    # 500 km, 1 OTN hop: 2.45 ms + 6 amplifiers x 0.15 us + 100 us + 15 us
    np.testing.assert_allclose(t["latency"].values[1], 2.45 + (6 * 0.15 + 100 + 15) / 1e3)
