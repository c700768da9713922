"""Fixtures of the optimiser tests: the three-site hand scenario (see test_placement.py)."""

from __future__ import annotations

import math

import pytest

from workbench.model import Scenario


def make_hand_scenario() -> Scenario:
    """Three sites on the equator (lon 0, 1, 2), two chips, two metros (lon 0 and 2).

    Values are made up for hand calculations, not real data. The links A - B - C are as long as the
    great circle x 1.5 and have no equipment delay, so latencies over the graph equal the hand numbers
    of the straight-line model; metros enter the graph at A (a metro edge) and at C (access: yes).
    """
    sites = [
        {"id": "A", "tier": "metro_edge", "lon": 0.0, "lat": 0.0, "pue": 1.5, "power_price": 0.6,
         "carbon_intensity": 0.5, "capacity": 1e6, "hub": "Beijing-Tianjin-Hebei"},
        {"id": "B", "tier": "cluster", "lon": 1.0, "lat": 0.0, "pue": 1.2, "power_price": 0.4,
         "carbon_intensity": 0.2, "hub": "Gansu"},
        {"id": "C", "tier": "hub", "lon": 2.0, "lat": 0.0, "pue": 1.25, "power_price": 0.5,
         "carbon_intensity": 0.8, "capacity": 9000.0, "hub": "Yangtze River Delta", "access": "yes"},
    ]
    km = 6371.0088 * math.pi / 180 * 1.5                 # one degree on the equator x route factor 1.5
    links = [{"id": "AB", "src": "A", "dst": "B", "length": km, "equipment_delay": 0.0},
             {"id": "BC", "src": "B", "dst": "C", "length": km, "equipment_delay": 0.0}]
    chips = [{"id": "x", "bf16_flops": 1e15, "hbm": 1e10, "hbm_bw": 1e12, "tdp": 500.0, "price": 10_000.0},
             {"id": "y", "bf16_flops": 2e15, "hbm": 1e10, "hbm_bw": 1e12, "tdp": 800.0, "price": 30_000.0}]
    devices = [{"id": "m1", "lon": 0.0, "lat": 0.0, "endpoints": 1000, "access_tech": "fibre"},
               {"id": "m2", "lon": 2.0, "lat": 0.0, "endpoints": 9000, "access_tech": "fibre"}]
    return Scenario.from_tables({"site": sites, "link": links, "chip": chips, "device": devices}, name="hand")


@pytest.fixture(scope="module")
def hand_scenario() -> Scenario:
    return make_hand_scenario()
