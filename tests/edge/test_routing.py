"""Routing LP and greedy baseline: SLOs and capacities respected, hand-solved optimum, China scenario."""

from __future__ import annotations

import json

import numpy as np
import pytest
from workbench_edge import routing as r
from workbench_edge.analyses import pool_table, routing_analysis
from workbench_edge.catalogue import EdgeError

import workbench as wb


def test_greedy_is_suboptimal_where_lp_is_not():
    # 2 groups, 2 pools (capacity 1 each). Group 0 (demand 1) can use pool 0 (cost 1) or pool 1 (cost 2);
    # group 1 (demand 1) can use pool 0 only (cost 1). Optimum: g0 -> p1, g1 -> p0, cost 3.
    # Greedy (cheapest first, group 0 first on ties) puts g0 on p0 and leaves g1 unserved.
    pg, pp, pc = np.array([0, 0, 1]), np.array([0, 1, 0]), np.array([1.0, 2.0, 1.0])
    d, cap = np.array([1.0, 1.0]), np.array([1.0, 1.0])
    lp = r.solve_lp(2, 2, pg, pp, pc, d, cap, unserved_penalty=100.0)
    gr = r.solve_greedy(2, 2, pg, pp, pc, d, cap, unserved_penalty=100.0)
    np.testing.assert_allclose(lp["x"], [0.0, 1.0, 1.0], atol=1e-9)
    assert lp["objective"] == pytest.approx(3.0)
    np.testing.assert_allclose(gr["x"], [1.0, 0.0, 0.0])
    assert gr["objective"] == pytest.approx(1.0 + 100.0)


def test_unserved_when_capacity_short():
    # demand 5 at one pool of capacity 3: 3 served, 2 unserved, cost 3 x 2.0
    lp = r.solve_lp(1, 1, [0], [0], [2.0], [5.0], [3.0])
    assert lp["x"][0] == pytest.approx(3.0) and lp["unserved"][0] == pytest.approx(2.0)
    assert lp["cost"] == pytest.approx(6.0)


def _random_instance(seed=0, n_groups=1500, n_sites=80):
    rng = np.random.default_rng(seed)
    glon, glat = rng.uniform(100, 122, n_groups), rng.uniform(22, 42, n_groups)
    slon, slat = rng.uniform(100, 122, n_sites), rng.uniform(22, 42, n_sites)
    budget = rng.uniform(6.0, 12.0, n_groups)
    g, s, one_way = r.candidate_pairs(glon, glat, slon, slat, np.full(n_groups, 4.0), np.full(n_sites, 0.2),
                                      budget, 1.5, k_max=12)
    cost = rng.uniform(1.0, 2.0, n_sites)
    demand = rng.uniform(0.0, 1.0, n_groups)
    cap = np.full(n_sites, 0.9 * demand.sum() / n_sites)
    return g, s, one_way, budget, cost[s], demand, cap, (glon, glat, slon, slat)


def test_lp_never_violates_slo_or_capacity():
    g, s, one_way, budget, cost, demand, cap, (glon, glat, slon, slat) = _random_instance()
    # every candidate meets its group's budget, recomputed independently from the great circle
    np.testing.assert_allclose(one_way, r.pair_one_way_ms(glon[g], glat[g], slon[s], slat[s], 4.0, 0.2, 1.5))
    assert np.all(one_way <= budget[g] + 1e-12)
    for res in (r.solve_lp(len(demand), len(cap), g, s, cost, demand, cap),
                r.solve_greedy(len(demand), len(cap), g, s, cost, demand, cap)):
        x = res["x"]
        assert np.all(x >= -1e-9)
        assert np.all(np.bincount(s, weights=x, minlength=len(cap)) <= cap * (1 + 1e-7) + 1e-9)
        np.testing.assert_allclose(np.bincount(g, weights=x, minlength=len(demand)) + res["unserved"], demand,
                                   atol=1e-7)
        assert np.all(one_way[x > 1e-9] <= budget[g[x > 1e-9]])
    lp = r.solve_lp(len(demand), len(cap), g, s, cost, demand, cap)
    gr = r.solve_greedy(len(demand), len(cap), g, s, cost, demand, cap)
    assert lp["objective"] <= gr["objective"] * (1 + 1e-9)


@pytest.fixture(scope="module")
def china():
    return wb.load_scenario("china-edwc")


@pytest.mark.parametrize("klass", ["chat", "chat-interactive"])
def test_china_routing_respects_slo_and_capacity(china, klass):
    dev = china["device"].copy()
    dev["edge_request_class"] = ("device", np.full(dev.sizes["device"], klass, dtype=object),
                                 dev["edge_request_class"].attrs)
    china = china.with_table("device", dev)
    ds = routing_analysis(china, klass, method="both")
    s = json.loads(ds.attrs["summary_json"])
    slo = ds.attrs["slo_ms"]
    # capacity: every pool's load within its planned capacity
    assert np.all(ds["pool_load"].values <= ds["capacity"].values * (1 + 1e-7) + 1e-9)
    # SLO: any served (device, site) pair has round trip + processing within the SLO
    share = ds["assignment"].values
    # recomputed independently of the routing code, with the core path engine (ip layer, radio included)
    from workbench.paths import group_site_latency

    one_way, _ = group_site_latency(china, layer="ip", include_access=True)
    min_proc = np.nanmin(np.where(ds["pool_feasible"].values, ds["process"].values, np.nan)) * 1e3
    used = share > 1e-9
    assert np.all(2 * one_way[used] + min_proc <= slo + 1e-9)
    # demand served in full at these loads; the LP is at least as good as the greedy
    assert s["unserved_request_per_s"] == pytest.approx(0.0, abs=1e-6)
    assert s["greedy_gap"] >= -1e-9
    np.testing.assert_allclose(share.sum(axis=1), 1.0, atol=1e-7)
    assert 0.0 <= s["served_west_share"] <= 1.0 + 1e-12


def test_routing_energy_objective_and_west(china):
    ds = routing_analysis(china, "chat", objective="energy")
    west = ds["west"].values
    provinces = china["site"]["province"].values[west]
    assert set(provinces) <= {"Chongqing", "Sichuan", "Guizhou", "Yunnan", "Tibet", "Shaanxi", "Gansu", "Qinghai",
                              "Ningxia", "Xinjiang", "Inner Mongolia", "Guangxi"}
    assert float(ds["served_west_share"]) == pytest.approx(
        float((ds["assignment"] * ds["demand"]).sel(site=ds["site"].values[west]).sum() / ds["served"].sum()))


def test_pool_table_capacity_hand_check(china):
    p = pool_table(china, "chat")
    row = p.sel(pool="cl-zhangjiakou/h100-sxm")
    # capacity = floor(10,000 / tp) replicas x batch / cycle x 0.9
    expect = np.floor(10_000 / float(row["tp"])) * float(row["batch"]) / float(row["cycle"]) * 0.9
    assert float(row["capacity"]) == pytest.approx(expect)
    assert not bool(p.sel(pool="cl-zhangjiakou/ascend-910b")["pool_feasible"])   # no scale-up bw for 70B


def test_routing_bad_arguments(china):
    with pytest.raises(EdgeError, match="objective"):
        routing_analysis(china, objective="speed")
    with pytest.raises(EdgeError, match="unknown request class"):
        routing_analysis(china, "teleport")


def test_aggregated_lp_equals_full_lp():
    # groups with identical candidate pool sets are interchangeable when costs are per pool: the merged LP
    # has the same optimum as the full one, and its split solution is feasible for the full problem
    g, s, one_way, budget, cost, demand, cap, _ = _random_instance(seed=5, n_groups=800, n_sites=30)
    full = r.solve_lp(len(demand), len(cap), g, s, cost, demand, cap, aggregate=False)
    merged = r.solve_lp(len(demand), len(cap), g, s, cost, demand, cap, aggregate=True)
    assert merged["n_lp_pairs"] < full["n_lp_pairs"]
    assert merged["objective"] == pytest.approx(full["objective"], rel=1e-7)
    assert np.all(np.bincount(s, weights=merged["x"], minlength=len(cap)) <= cap * (1 + 1e-7) + 1e-9)
    np.testing.assert_allclose(np.bincount(g, weights=merged["x"], minlength=len(demand)) + merged["unserved"],
                               demand, atol=1e-7)
