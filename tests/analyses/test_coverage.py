"""Coverage and edge siting against hand-built cases and closed forms."""

import math

import numpy as np
import pytest

import workbench as wb
from workbench.errors import WorkbenchError

KM_PER_DEG = math.pi / 180 * 6371.0088  # great-circle km per degree of latitude (IUGG mean radius)
FIBRE = 0.0049  # ms per km (4.9 us/km, FIGURES 2)


def _scenario(devices, sites=None, inventory=None, route_factor=1.5):
    sites = sites or [{"id": "dc", "lon": 116.0, "lat": 40.0, "tier": "cluster"}]
    inventory = inventory if inventory is not None else [{"site": "dc", "chip": "h100", "installed": 1000}]
    chips = [{"id": "h100", "bf16_flops": 989.4e12, "hbm": 80e9, "hbm_bw": 3.35e12, "tdp": 700}]
    return wb.Scenario.from_tables({"site": sites, "chip": chips, "inventory": inventory, "device": devices},
                                   name="hand", parameters={"metro_route_factor": route_factor})


def test_point_groups_fall_in_the_budgets_a_hand_calculation_gives():
    # A sits at the DC: 0.1 ms equipment only. B is 2 degrees north: 222.39 km x 1.5 x 4.9 us/km
    # + 0.1 = 1.735 ms. C is 15 degrees north: 1667.9 km -> 12.36 ms.
    devices = [{"id": "a", "lon": 116.0, "lat": 40.0, "endpoints": 1e6},
               {"id": "b", "lon": 116.0, "lat": 42.0, "endpoints": 2e6},
               {"id": "c", "lon": 116.0, "lat": 55.0, "endpoints": 3e6}]
    cov = wb.analyze("coverage", _scenario(devices), budget_ms=[1, 5, 20])
    np.testing.assert_allclose(cov["centre_latency"].values,
                               [0.1, 0.1 + 2 * KM_PER_DEG * 1.5 * FIBRE, 0.1 + 15 * KM_PER_DEG * 1.5 * FIBRE],
                               rtol=1e-6)
    np.testing.assert_allclose(cov["national_share"].values, [1 / 6, 3 / 6, 6 / 6])
    np.testing.assert_allclose(cov["share"].values, [[1, 1, 1], [0, 1, 1], [0, 0, 1]])
    assert cov["share"].attrs["units"] == "1" and cov["mean_latency"].attrs["units"] == "ms"
    assert cov["budget"].attrs["units"] == "ms"


def test_spread_metro_share_matches_exponential_closed_form():
    # A metro with spread s centred on the DC; with the budget giving a fibre radius R = 2 s, the
    # share inside is the 2-D exponential profile's CDF 1 - (1 + R/s) exp(-R/s) = 1 - 3 e^-2 = 0.594
    # (truncation at the spread model's outer radius renormalises it slightly; tolerance 0.03).
    s = 20.0
    budget = 0.1 + 2 * s * 1.5 * FIBRE
    cov = wb.analyze("coverage", _scenario([{"id": "m", "lon": 116.0, "lat": 40.0, "endpoints": 1e7, "spread": s}]),
                     budget_ms=[budget], n_rings=32, n_angles=16)
    assert float(cov["share"].squeeze()) == pytest.approx(1 - 3 * math.exp(-2), abs=0.03)


def test_sites_without_compute_are_ignored_unless_asked():
    sites = [{"id": "dc", "lon": 116.0, "lat": 40.0}, {"id": "edge", "lon": 116.0, "lat": 42.0}]
    devices = [{"id": "b", "lon": 116.0, "lat": 42.0, "endpoints": 1.0}]
    sc = _scenario(devices, sites=sites)
    assert float(wb.analyze("coverage", sc, budget_ms=[1]).national_share.squeeze()) == 0.0
    assert float(wb.analyze("coverage", sc, budget_ms=[1], sites="all").national_share.squeeze()) == 1.0


def test_access_delay_is_added_when_requested():
    devices = [{"id": "a", "lon": 116.0, "lat": 40.0, "endpoints": 1.0, "access_tech": "5g"}]
    cov = wb.analyze("coverage", _scenario(devices), budget_ms=[1], include_access=True)
    from workbench.latency import ACCESS_DELAY_MS

    assert float(cov["centre_latency"].squeeze()) == pytest.approx(0.1 + ACCESS_DELAY_MS["5g"])


def test_bad_budget_and_empty_compute_are_clear_errors():
    sc = _scenario([{"id": "a", "lon": 116.0, "lat": 40.0, "endpoints": 1.0}], inventory=[])
    with pytest.raises(WorkbenchError, match="no site with accelerators"):
        wb.analyze("coverage", sc)
    with pytest.raises(WorkbenchError, match="positive"):
        wb.analyze("coverage", _scenario([{"id": "a", "lon": 116.0, "lat": 40.0, "endpoints": 1.0}]), budget_ms=[-1])


def test_edge_siting_picks_the_biggest_uncovered_metro_first():
    # The named direct approximation (no network: metros anywhere). Two metros far from the only DC: 3 M and 1 M people. Target 75%: one new site at the big
    # metro's centre is enough (3/4 = 75%); target 100% needs both.
    devices = [{"id": "big", "lon": 100.0, "lat": 30.0, "endpoints": 3e6},
               {"id": "small", "lon": 90.0, "lat": 30.0, "endpoints": 1e6}]
    sc = _scenario(devices)
    res = wb.analyze("edge_siting", sc, target_share=0.75, budget_ms=1.0, path_model="direct")
    assert list(res["group"].values) == ["big"]
    assert float(res["baseline_share"]) == 0.0 and float(res["final_share"]) == pytest.approx(0.75)
    res = wb.analyze("edge_siting", sc, target_share=1.0, budget_ms=1.0, path_model="direct")
    assert list(res["group"].values) == ["big", "small"]
    np.testing.assert_allclose(res["gain"].values, [3e6, 1e6])
    assert res.attrs["reached"] == 1


def test_one_new_site_can_cover_several_metros_and_points_candidates_work():
    # Direct model. Two 1 M metros 60 km apart (0.54 degrees of latitude), both far from the DC. One site at
    # either centre reaches the other: 60 km x 1.5 x 4.9 us/km + 0.1 ms = 0.54 ms < 1 ms.
    dlat = 60.0 / KM_PER_DEG
    devices = [{"id": "a", "lon": 100.0, "lat": 30.0, "endpoints": 1e6},
               {"id": "b", "lon": 100.0, "lat": 30.0 + dlat, "endpoints": 1e6}]
    res = wb.analyze("edge_siting", _scenario(devices), target_share=1.0, budget_ms=1.0, path_model="direct")
    assert res.sizes["new_site"] == 1 and int(res["groups_reached"][0]) == 2
    assert float(res["final_share"]) == pytest.approx(1.0)
    pts = wb.analyze("edge_siting", _scenario(devices), target_share=1.0, budget_ms=1.0, candidates="points",
                     path_model="direct")
    assert pts.sizes["new_site"] == 1 and float(pts["gain"][0]) == pytest.approx(2e6)
