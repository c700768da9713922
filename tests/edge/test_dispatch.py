"""The dispatch LP: flat profiles reproduce routing, hand solutions, balances and deferral windows."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from workbench_edge.analyses import WESTERN_PROVINCES, routing_analysis, routing_problem
from workbench_edge.catalogue import EdgeError
from workbench_edge.dispatch import DispatchInputs, dispatch_analysis, solve_dispatch

import workbench as wb

HOURS = pd.date_range("2025-07-15 10:00", periods=3, freq="h")


@pytest.fixture(scope="module")
def china():
    return wb.load_scenario("china-edwc")


@pytest.mark.parametrize("objective, total, key, rtol", [
    ("cost", "cost", "cost_CNY_per_h", 1e-6),
    # the carbon objective breaks ties by cost x 1e-4, which may trade that little CO2: hence 1e-3
    ("carbon", "co2", "carbon_kg_per_h", 1e-3)])
def test_flat_profiles_equal_the_static_routing(china, objective, total, key, rtol):
    """With flat profiles every snapshot is the routing analysis's hour: the same optimum, served and shares.

    Only the optimised quantity is compared: where pools tie (equal price, say) the two LPs may pick
    different but equally good pools (the dispatch breaks ties by latency), so the other totals may differ.
    """
    ds = dispatch_analysis(china, snapshots=HOURS, profiles="flat", green=False, objective=objective)
    rta = routing_analysis(china, "chat", objective=objective)
    rt = json.loads(rta.attrs["summary_json"])
    # each snapshot stands for 1 h, so its total [CNY or kg] is the routing's rate [per h] x 1 h
    np.testing.assert_allclose(ds[total].values, rt[key], rtol=rtol)
    np.testing.assert_allclose(ds["served"].values, rt["served_request_per_s"], rtol=1e-9)
    assert float(ds["unserved"].max()) == pytest.approx(0.0, abs=1e-6)
    np.testing.assert_allclose(ds["snapshot_weight"].values, 1.0)
    if objective == "cost":                           # every request goes west (cheapest power): no ties here
        np.testing.assert_allclose(ds["west_share"].values, rt["served_west_share"], rtol=1e-6)
        # routing reports the share of ALL served requests sent east->west; dispatch the share of EASTERN demand
        east = ~np.isin(china["device"]["province"].values.astype(str), WESTERN_PROVINCES)
        east_share = float(rta["served"].values[east].sum()) / rt["served_request_per_s"]
        np.testing.assert_allclose(ds["east_to_west_share"].values * east_share, rt["east_to_west_share"], rtol=1e-6)


def _chips():
    frame = wb.load_scenario("china-edwc").to_frame("chip").reset_index()
    return frame[frame["chip"] == "h100-sxm"].rename(columns={"chip": "id"})


def _two_dc(far_capacity_bps=1e12):
    sites = [{"id": "pop-a", "lon": 116.0, "lat": 30.0, "tier": "pop", "province": "Anhui"},
             {"id": "dc-near", "lon": 116.5, "lat": 30.0, "tier": "cluster", "province": "Anhui", "pue": 1.5},
             {"id": "dc-far", "lon": 118.0, "lat": 30.0, "tier": "cluster", "province": "Gansu", "pue": 1.2}]
    links = [{"id": "near", "src": "pop-a", "dst": "dc-near", "length": 50.0, "capacity": 1e12},
             {"id": "far", "src": "pop-a", "dst": "dc-far", "length": 200.0, "capacity": far_capacity_bps}]
    devices = [{"id": "a", "lon": 116.0, "lat": 30.0, "endpoints": 1e6, "demand": 1e-4, "province": "Anhui"}]
    inventory = [{"site": "dc-near", "chip": "h100-sxm", "installed": 512},
                 {"site": "dc-far", "chip": "h100-sxm", "installed": 512}]
    return wb.Scenario.from_tables({"site": sites, "link": links, "chip": _chips(), "inventory": inventory,
                                    "device": devices}, name="two-dc")


def _inputs(pb, demand, price, green_w=None, carbon=None, link_cap=None, weight=None, block=None):
    T = len(demand)
    S = pb.n_site
    price = np.asarray(price, float)
    return DispatchInputs(
        demand=np.asarray(demand, float)[:, None] * np.ones((1, pb.n_dev)),
        price=price, carbon=np.full((T, S), 0.5) if carbon is None else np.asarray(carbon, float),
        pue=np.ones((T, 1)) * pb.site["pue"].values[None, :], power_cap=np.full((T, S), np.nan),
        green_w=np.zeros((T, S)) if green_w is None else np.asarray(green_w, float), green_price=np.full(S, 0.3),
        weight=np.ones(T) if weight is None else np.asarray(weight, float), dt=np.ones(T),
        block=np.zeros(T, int) if block is None else np.asarray(block),
        link_cap=None if link_cap is None else np.asarray(link_cap, float)[:, pb.row_link])


def test_two_sites_two_hours_against_a_hand_solution():
    """Hour 0: the far DC is cheaper but its link carries 40 req/s back; hour 1: the near one is cheaper."""
    from workbench_edge.catalogue import request_class

    bits = 8.0 * request_class("chat")["response_bytes"]
    sc = _two_dc()
    pb = routing_problem(sc, "chat")
    e = float(pb.pools["energy_per_request"].values[0])            # chip energy per request [J], same chip
    # sites: pop-a, dc-near, dc-far
    price = [[0.0, 0.9, 0.3], [0.0, 0.2, 0.3]]
    link_cap = np.array([[1e12, 40 * bits], [1e12, 40 * bits]])   # link "near", "far" [bit/s]
    r = solve_dispatch(pb, _inputs(pb, [100.0, 50.0], price, link_cap=link_cap),
                       west_site=np.array([False, False, True]), west_group=np.array([False]))
    # hour 0: 40 far (link-bound), 60 near; hour 1: all 50 near
    np.testing.assert_allclose(r["site_req"][0], [0.0, 60.0, 40.0], atol=1e-6)
    np.testing.assert_allclose(r["site_req"][1], [0.0, 50.0, 0.0], atol=1e-6)
    assert r["relinked_blocks"] == [0]                            # the relaxed LP overloaded the far link
    # facility power [W] = requests/s x chip J/request x PUE; cost [CNY] = kW x CNY/kWh x 1 h
    cost0 = (60 * e * 1.5 * 0.9 + 40 * e * 1.2 * 0.3) / 1000.0
    cost1 = 50 * e * 1.5 * 0.2 / 1000.0
    fac = r["site_it_w"] * np.array([1.0, 1.5, 1.2])[None, :]
    got = (fac * np.asarray(price)).sum(1) / 1000.0
    np.testing.assert_allclose(got, [cost0, cost1], rtol=1e-9)
    assert r["served_west"][0] == pytest.approx(40.0, abs=1e-6)    # Gansu is western


def test_green_power_is_used_up_to_what_is_available_and_balances_close():
    sc = _two_dc()
    pb = routing_problem(sc, "chat")
    e = float(pb.pools["energy_per_request"].values[0])
    # near DC dear, far DC dearer than near except for its green power (0.3 CNY/kWh, at most 20 kW facility)
    price = [[0.0, 0.5, 1.0]] * 2
    green = np.array([[0.0, 0.0, 20e3], [0.0, 0.0, 0.0]])
    r = solve_dispatch(pb, _inputs(pb, [100.0, 100.0], price, green_w=green))
    it_green = 20e3 / 1.2                                           # IT watts the green power can feed
    far_req = it_green / e                                          # requests/s the far DC runs on green power
    np.testing.assert_allclose(r["site_req"][0, 2], far_req, rtol=1e-6)
    np.testing.assert_allclose(r["green_it"][0, 2], it_green, rtol=1e-6)
    np.testing.assert_allclose(r["site_req"][1], [0.0, 100.0, 0.0], atol=1e-6)
    # demand balance per snapshot, energy balance per site
    np.testing.assert_allclose(r["served"].sum(1) + r["unserved"].sum(1), 100.0, rtol=1e-9)
    np.testing.assert_allclose(r["site_it_w"], r["site_req"] * e, rtol=1e-9)
    assert np.all(r["green_it"] <= r["site_it_w"] + 1e-6)


def test_deferrable_demand_never_leaves_its_window():
    sc = _two_dc()
    pb = routing_problem(sc, "chat")
    rng = np.random.default_rng(7)
    T, window, share = 24, 3, 0.4
    price = np.zeros((T, 3))
    price[:, 1] = rng.uniform(0.1, 1.0, T)
    price[:, 2] = 5.0                                               # only the near DC is worth using
    demand = rng.uniform(50, 150, T)
    r = solve_dispatch(pb, _inputs(pb, demand, price), deferrable_share=share, defer_window=window)
    served = r["served"][:, 0]
    backlog = r["backlog"][:, 0]                                    # [request/s x h] at the end of each hour
    assert np.all(backlog >= -1e-9)
    # nothing waits longer than the window: the backlog holds only the last `window` hours' deferrable arrivals
    recent = np.convolve(share * demand, np.ones(window))[:T]
    assert np.all(backlog <= recent + 1e-6)
    # and nothing is served before it arrives: cumulative served <= cumulative demand
    assert np.all(np.cumsum(served) <= np.cumsum(demand) + 1e-6)
    # immediate demand is never deferred: served >= (1 - share) x demand
    assert np.all(served >= (1 - share) * demand - 1e-6)
    # the day ends empty and every request is served
    assert backlog[-1] == pytest.approx(0.0, abs=1e-9)
    assert served.sum() == pytest.approx(demand.sum(), rel=1e-9)
    # deferral moved demand to cheaper hours: the cost is lower than serving on arrival
    e = float(pb.pools["energy_per_request"].values[0])
    cost = float((served * price[:, 1]).sum())
    assert cost < float((demand * price[:, 1]).sum())
    assert np.isclose(r["site_it_w"][:, 1], served * e).all()


def test_window_of_one_hour_by_hand():
    """Prices 1.0, 1.0, 0.1 and a 1 h window: hour 0's batch cannot reach the cheap hour 2."""
    sc = _two_dc()
    pb = routing_problem(sc, "chat")
    price = np.array([[0.0, 1.0, 9.0], [0.0, 1.0, 9.0], [0.0, 0.1, 9.0]])
    r = solve_dispatch(pb, _inputs(pb, [100.0, 100.0, 100.0], price), deferrable_share=0.5, defer_window=1)
    served = r["served"][:, 0]
    assert served[2] == pytest.approx(150.0, rel=1e-9)             # its own 100 + hour 1's 50
    assert served[0] + served[1] == pytest.approx(150.0, rel=1e-9)


def test_bad_parameters_are_named(china):
    with pytest.raises(EdgeError, match="objective"):
        dispatch_analysis(china, snapshots=HOURS, objective="money")
    with pytest.raises(EdgeError, match="snapshots"):
        dispatch_analysis(china, snapshots="someday")
    with pytest.raises(EdgeError, match="deferrable_share"):
        dispatch_analysis(china, snapshots=HOURS, profiles="flat", green=False, deferrable_share=2.0)


def test_the_scenarios_own_time_series_drive_the_dispatch():
    """Snapshots and an hourly price series in the scenario: hour 0 goes far (cheap), hour 1 near."""
    idx = pd.date_range("2025-01-15 00:00", periods=2, freq="h")
    sc = _two_dc().with_snapshots(idx)
    price = pd.DataFrame({"dc-near": [0.9, 0.2], "dc-far": [0.3, 0.3]}, index=idx)
    sc = sc.with_series("site", "power_price", price)
    ds = dispatch_analysis(sc, green=False, profiles="flat")         # snapshots=None: the scenario's own
    np.testing.assert_allclose(ds["snapshot_weight"].values, [1.0, 1.0])
    far_cap = float(routing_problem(sc, "chat").capacity[1])       # pools: dc-near, dc-far [request/s]
    far = min(100.0, far_cap)                                       # the far pool fills up first, then near
    np.testing.assert_allclose(ds["site_load"].sel(site="dc-far").values, [far, 0.0], atol=1e-6)
    np.testing.assert_allclose(ds["site_load"].sel(site="dc-near").values, [100.0 - far, 100.0], atol=1e-6)
    assert list(ds["west_share"].values) == pytest.approx([far / 100.0, 0.0], abs=1e-9)   # Gansu is western
    # each hour equals the static routing of the scenario at that hour
    for t in range(2):
        rt = json.loads(routing_analysis(sc.at(t), "chat").attrs["summary_json"])
        assert float(ds["cost"][t]) == pytest.approx(rt["cost_CNY_per_h"], rel=1e-6)


def test_green_contract_by_hand_and_what_it_changes():
    """A far DC with a 20 kW contract at a fixed capacity factor 0.5: 10 kW of green power by hand."""
    sc = _two_dc()
    site = sc["site"].copy(deep=True)
    site["green_capacity"] = ("site", np.array([0.0, 0.0, 20e3]))
    site["green_cf"] = ("site", np.array([np.nan, np.nan, 0.5]))
    site["green_price"] = ("site", np.array([0.3, 0.3, 0.1]))
    site["power_price"] = ("site", np.array([0.6, 0.5, 1.0]))
    sc = sc.with_table("site", site)
    with_green = dispatch_analysis(sc, snapshots=HOURS[:1], profiles="flat").isel(snapshot=0)
    without = dispatch_analysis(sc, snapshots=HOURS[:1], profiles="flat", green=False).isel(snapshot=0)
    e = float(routing_problem(sc, "chat").pools["energy_per_request"].values[0])
    far = 10e3 / (e * 1.2)                                           # requests/s that 10 kW facility power feeds
    assert float(with_green["site_load"].sel(site="dc-far")) == pytest.approx(far, rel=1e-6)
    assert float(with_green["green_used"]) == pytest.approx(10.0, rel=1e-6)          # kWh in 1 h
    assert float(with_green["green_curtailed"]) == pytest.approx(0.0, abs=1e-6)
    near_kw = (100.0 - far) * e * 1.5 / 1000.0
    assert float(with_green["cost"]) == pytest.approx(10.0 * 0.1 + near_kw * 0.5, rel=1e-6)
    assert float(with_green["co2"]) == pytest.approx(near_kw * 0.5366, rel=1e-6)      # default grid factor
    assert float(with_green["renewable_share"]) == pytest.approx(10.0 / (10.0 + near_kw), rel=1e-6)
    assert float(without["site_load"].sel(site="dc-far")) == pytest.approx(0.0, abs=1e-6)
    assert float(without["cost"]) == pytest.approx(100.0 * e * 1.5 / 1000.0 * 0.5, rel=1e-6)


def test_representative_days_weigh_a_year(china):
    ds = dispatch_analysis(china, profiles="flat", green=False)
    assert ds.sizes["snapshot"] == 96
    assert float(ds["snapshot_weight"].sum()) == pytest.approx(8760.0)
    # flat: every snapshot is the same hour, so the year costs 8,760 x the routing's hourly cost
    rt = json.loads(routing_analysis(china, "chat").attrs["summary_json"])
    assert float(ds["cost"].sum()) == pytest.approx(8760.0 * rt["cost_CNY_per_h"], rel=1e-6)


def _contracts(sc, capacity_w, cf=None, price=None, green_price=None):
    site = sc["site"].copy(deep=True)
    site["green_capacity"] = ("site", np.asarray(capacity_w, float))
    if cf is not None:
        site["green_cf"] = ("site", np.asarray(cf, float))
    if price is not None:
        site["power_price"] = ("site", np.asarray(price, float))
    if green_price is not None:
        site["green_price"] = ("site", np.asarray(green_price, float))
    return sc.with_table("site", site)


def test_demand_series_is_literal_and_an_unset_one_keeps_the_class_rate():
    idx = pd.date_range("2025-01-15 00:00", periods=2, freq="h")
    sc = _two_dc().with_snapshots(idx)                             # static demand 1e-4 request/s per endpoint
    literal = sc.with_series("device", "demand", pd.DataFrame({"a": [0.0, 2e-4]}, index=idx))
    ds = dispatch_analysis(literal, green=False, profiles="flat")
    np.testing.assert_allclose(ds["demand"].values, [0.0, 200.0])  # 0 = no requests that hour, not the default
    # a group whose demand is 0 statically and in every snapshot was never set: the class rate, with a warning
    dev = sc["device"].copy(deep=True)
    dev["demand"] = ("device", np.array([0.0]))
    unset = sc.with_table("device", dev).with_series("device", "demand", pd.DataFrame({"a": [0.0, 0.0]}, index=idx))
    with pytest.warns(wb.WorkbenchWarning, match="device.demand is 0 at every snapshot"):
        ds = dispatch_analysis(unset, green=False, profiles="flat")
    rate = request_class_rate()
    np.testing.assert_allclose(ds["demand"].values, 1e6 * rate)


def request_class_rate():
    from workbench_edge.catalogue import request_class

    return float(request_class("chat")["rate_per_endpoint"])


def test_a_green_cf_series_for_one_site_leaves_the_other_sites_profile():
    idx = pd.date_range("2025-07-15 12:00", periods=1, freq="h")    # summer noon: the solar profile is > 0
    sc = _contracts(_two_dc(), [0.0, 20e3, 20e3]).with_snapshots(idx)
    partial = sc.with_series("site", "green_cf", pd.DataFrame({"dc-near": [0.5]}, index=idx))
    one = dispatch_analysis(partial, profiles="default").isel(snapshot=0)
    from workbench import profiles as P

    s = sc["site"]
    cf = P.green_cf(s["green_source"].values.astype(str), s["lon"].values, s["lat"].values,
                    s["province"].values.astype(str), idx)[0]
    assert cf[2] > 0
    # dc-near takes the series value 0.5 x 20 kW; dc-far keeps its profile (it was zeroed before the fix)
    assert float(one["green_available"]) == pytest.approx((20e3 * 0.5 + 20e3 * cf[2]) / 1000.0, rel=1e-9)


def test_as_produced_contract_makes_green_free_at_the_margin():
    """Far DC dearer than near at the grid (1.0 vs 0.5) but with 20 kW at cf 0.5 of green power."""
    sc = _contracts(_two_dc(), [0.0, 0.0, 20e3], cf=[np.nan, np.nan, 0.5], price=[0.6, 0.5, 1.0],
                    green_price=[0.3, 0.3, 0.6])
    e = float(routing_problem(sc, "chat").pools["energy_per_request"].values[0])
    flexible = dispatch_analysis(sc, snapshots=HOURS[:1], profiles="flat").isel(snapshot=0)
    produced = dispatch_analysis(sc, snapshots=HOURS[:1], profiles="flat", green_contract="as_produced").isel(snapshot=0)
    # green at 0.6 CNY/kWh x PUE 1.2 = 0.72 per IT kWh is cheaper than near's grid 0.5 x 1.5 = 0.75: both take it.
    # At 0.9 (1.08 per IT kWh) the flexible contract is left unused; as produced it is paid anyway, so it is used
    sc2 = _contracts(_two_dc(), [0.0, 0.0, 20e3], cf=[np.nan, np.nan, 0.5], price=[0.6, 0.5, 1.0],
                     green_price=[0.3, 0.3, 0.9])
    flex2 = dispatch_analysis(sc2, snapshots=HOURS[:1], profiles="flat").isel(snapshot=0)
    prod2 = dispatch_analysis(sc2, snapshots=HOURS[:1], profiles="flat", green_contract="as_produced").isel(snapshot=0)
    assert float(flex2["green_used"]) == pytest.approx(0.0, abs=1e-6)
    assert float(prod2["green_used"]) == pytest.approx(10.0, rel=1e-6)
    near_kw = (100.0 - 10e3 / (e * 1.2)) * e * 1.5 / 1000.0
    # as produced: all 10 kWh paid at 0.9 whether used or not, plus the near DC's grid energy
    assert float(prod2["cost"]) == pytest.approx(10.0 * 0.9 + near_kw * 0.5, rel=1e-6)
    assert float(flex2["cost"]) == pytest.approx(100.0 * e * 1.5 / 1000.0 * 0.5, rel=1e-6)
    assert float(flexible["green_used"]) == pytest.approx(float(produced["green_used"]), rel=1e-6)
    with pytest.raises(EdgeError, match="green_contract"):
        dispatch_analysis(sc, snapshots=HOURS[:1], green_contract="sometimes")


def test_a_link_capacity_series_binds_even_where_the_static_capacity_is_unknown():
    from workbench_edge.catalogue import request_class

    bits = 8.0 * request_class("chat")["response_bytes"]
    idx = pd.date_range("2025-01-15 00:00", periods=2, freq="h")
    sc = _two_dc(far_capacity_bps=np.nan).with_snapshots(idx)
    price = pd.DataFrame({"dc-near": [0.9, 0.9], "dc-far": [0.3, 0.3]}, index=idx)
    sc = sc.with_series("site", "power_price", price)
    sc = sc.with_series("link", "capacity", pd.DataFrame({"far": [40 * bits, np.nan]}, index=idx))
    ds = dispatch_analysis(sc, green=False, profiles="flat")
    far = ds["site_load"].sel(site="dc-far").values
    assert far[0] == pytest.approx(40.0, rel=1e-6)                 # hour 0: the series limits the link
    assert far[1] > 40.0                                            # hour 1: capacity unknown, not limited


def test_site_power_binds_in_the_dispatch():
    """dc-far may draw 2 kW of facility power: 2,000 / (J per request x PUE 1.2) requests/s, the rest near."""
    sc = _two_dc()
    site = sc["site"].copy(deep=True)
    site["capacity"] = ("site", np.array([np.nan, np.nan, 2000.0]))
    site["power_price"] = ("site", np.array([0.6, 0.9, 0.3]))
    sc = sc.with_table("site", site)
    e = float(routing_problem(sc, "chat").pools["energy_per_request"].values[0])
    ds = dispatch_analysis(sc, snapshots=HOURS[:1], profiles="flat", green=False).isel(snapshot=0)
    assert float(ds["site_load"].sel(site="dc-far")) == pytest.approx(2000.0 / (e * 1.2), rel=1e-6)
    assert float(ds["site_power"].sel(site="dc-far")) == pytest.approx(2000.0, rel=1e-6)
