"""Edge routing over the link graph: paths, link capacities, binding links, LP vs greedy."""

from __future__ import annotations

import json

import numpy as np
import pytest
import scipy.sparse as sp
from workbench_edge import routing as r
from workbench_edge.analyses import routing_analysis
from workbench_edge.catalogue import request_class

import workbench as wb
from workbench import paths


def _chips():
    frame = wb.load_scenario("china-edwc").to_frame("chip").reset_index()
    return frame[frame["chip"] == "h100-sxm"].rename(columns={"chip": "id"})


def _two_dc(far_capacity_bps: float, far_length_km: float = 200.0, far_delay_ms: float | None = None):
    """One metro behind a PoP; a near DC with dear power and a far DC with cheap power.

    ``far_delay_ms`` sets both the far link's equipment delay and the far site's transit delay [ms].
    """
    sites = [{"id": "pop-a", "lon": 116.0, "lat": 30.0, "tier": "pop", "province": "Anhui"},
             {"id": "dc-near", "lon": 116.5, "lat": 30.0, "tier": "cluster", "province": "Anhui", "power_price": 0.9},
             {"id": "dc-far", "lon": 118.0, "lat": 30.0, "tier": "cluster", "province": "Zhejiang",
              "power_price": 0.3, **({"transit_delay": far_delay_ms} if far_delay_ms is not None else {})}]
    links = [{"id": "near", "src": "pop-a", "dst": "dc-near", "length": 50.0, "capacity": 1e12},
             {"id": "far", "src": "pop-a", "dst": "dc-far", "length": far_length_km, "capacity": far_capacity_bps,
              **({"equipment_delay": far_delay_ms} if far_delay_ms is not None else {})}]
    devices = [{"id": "a", "lon": 116.0, "lat": 30.0, "endpoints": 1e6, "demand": 1e-4, "province": "Anhui"}]  # 100 req/s
    inventory = [{"site": "dc-near", "chip": "h100-sxm", "installed": 512},
                 {"site": "dc-far", "chip": "h100-sxm", "installed": 512}]
    return wb.Scenario.from_tables({"site": sites, "link": links, "chip": _chips(), "inventory": inventory,
                                    "device": devices}, name="two-dc")


def test_a_thin_link_binds_and_the_lp_splits_by_hand():
    bits = 8.0 * request_class("chat")["response_bytes"]          # 1.6 Mbit back per request
    cap = 40 * bits                                                 # the far link carries 40 requests/s back
    ds = routing_analysis(_two_dc(cap), "chat", method="both")
    s = json.loads(ds.attrs["summary_json"])
    served = (ds["assignment"] * ds["demand"]).sel(device="a")
    assert float(served.sel(site="dc-far")) == pytest.approx(40.0, rel=1e-6)
    assert float(served.sel(site="dc-near")) == pytest.approx(60.0, rel=1e-6)
    assert s["unserved_request_per_s"] == pytest.approx(0.0, abs=1e-6)
    # the responses flow dc-far -> pop-a, against the link's src -> dst: the reverse direction binds
    assert bool(ds["link_binding"].sel(link="far", direction="reverse"))
    assert not bool(ds["link_binding"].sel(link="far", direction="forward"))
    assert float(ds["link_utilisation"].sel(link="far", direction="reverse")) == pytest.approx(1.0, rel=1e-6)
    assert float(ds["link_price"].sel(link="far", direction="reverse")) > 0
    assert s["binding_links"] == ["far (reverse)"]
    # requests go out: 40 x 5,000 B x 8 on the far link forward
    up = 8.0 * request_class("chat")["request_bytes"]
    assert float(ds["link_load"].sel(link="far", direction="forward")) == pytest.approx(40 * up, rel=1e-6)
    # the greedy sends all 100 to the cheap site, then the link cuts it to 40: 60 unserved, worse objective
    assert s["greedy_gap"] > 0
    gr = routing_analysis(_two_dc(cap), "chat", method="greedy")
    assert json.loads(gr.attrs["summary_json"])["unserved_request_per_s"] == pytest.approx(60.0, rel=1e-6)


def test_editing_the_link_changes_the_routing():
    wide = routing_analysis(_two_dc(1e12), "chat")
    served = (wide["assignment"] * wide["demand"]).sel(device="a")
    assert float(served.sel(site="dc-far")) == pytest.approx(100.0, rel=1e-6)
    assert not wide["link_binding"].values.any()
    # a detour long enough to break the chat SLO leaves only the near site
    # 40,000 km (0.196 s) + 1 s of equipment + 1 s of transit = 2.2 s one way (lengths above 50,000 km are refused)
    far_away = routing_analysis(_two_dc(1e12, far_length_km=40_000.0, far_delay_ms=1000.0), "chat")
    served = (far_away["assignment"] * far_away["demand"]).sel(device="a")
    assert float(served.sel(site="dc-far")) == 0.0 and float(served.sel(site="dc-near")) == pytest.approx(100.0)


def test_candidate_pairs_over_the_graph_match_the_path_engine():
    sc = wb.load_scenario("china-edwc")
    net = paths.Network.from_scenario(sc, "ip")
    dev = sc["device"]
    pop, km = paths.access_of_points(sc, dev["lon"].values, dev["lat"].values, np.arange(dev.sizes["device"]))
    first = 4.0 + km * 1.5 * 0.0049 + 0.1
    hop = np.zeros(sc["site"].sizes["site"])
    budget = np.full(first.size, 15.0)
    g, s, one_way = r.graph_candidate_pairs(first, pop, hop, budget, net, k_max=None)
    full, _ = paths.group_site_latency(sc, layer="ip")            # 5g access is 4.0 ms: the same model
    np.testing.assert_allclose(one_way, full[g, s], rtol=1e-12)
    assert np.all(one_way <= 15.0)
    # nothing within the budget is missing
    assert g.size == int((full <= 15.0).sum())


def test_link_usage_counts_each_direction():
    # a - b - c line; pair (a -> c) uses ab and bc forward with the request, reverse with the response
    net = paths.Network(list("abc"), [0, 1], [1, 2], 100.0, 0.1)
    m, row_link, row_fwd, cap = r.link_usage(net, [0, 2], [2, 2], 10.0, 1000.0, [5.0, np.nan])
    dense = m.toarray()
    rows = {(int(lk), bool(f)): i for i, (lk, f) in enumerate(zip(row_link, row_fwd))}
    assert set(rows) == {(0, True), (0, False)}                     # bc has no capacity: not constrained
    assert dense[rows[(0, True)]].tolist() == [10.0, 0.0] and dense[rows[(0, False)]].tolist() == [1000.0, 0.0]
    np.testing.assert_array_equal(cap, [5.0, 5.0])


def test_disaggregation_ships_the_kv_cache_over_the_real_path():
    sc = _two_dc(1e9)                                             # the far link is 1 Gbit/s
    ds = wb.analyze("disaggregation", sc, prefill_chip="h100-sxm", decode_chip="h100-sxm", prefill_site="dc-far",
                    decode_site="dc-near", model="llama-3.1-8b")
    # path dc-far -> pop-a -> dc-near: 250 km and two links' equipment, one way
    assert float(ds["path_latency"]) == pytest.approx(250 * 0.0049 + 2 * 0.1)
    assert float(ds["path_length"]) == pytest.approx(250.0)
    assert ds.attrs["path_links"] == "far,near"
    # the transfer is capped by the narrowest link: KV bytes x 8 / 1 Gbit/s + the path latency
    assert ds["bandwidth"].values.tolist() == [1e9]
    want = float(ds["kv_bytes"]) * 8 / 1e9 + float(ds["path_latency"]) / 1e3
    assert float(ds["kv_transfer"].squeeze()) == pytest.approx(want)
    m = wb.analyze("latency_matrix", sc, sites="dc-far", dst="dc-near")
    assert float(m.latency.squeeze()) == pytest.approx(float(ds["path_latency"]))


def test_groups_on_different_links_are_not_merged_without_a_key():
    # 2 groups, 1 pool; only group 0's path crosses a 10 bit/s link (1 bit per request): group 0 gets 10,
    # group 1 all of its 100; merging them by candidate pools alone would give 5 and 5
    pg, pp, cost = np.array([0, 1]), np.array([0, 0]), np.array([1.0, 1.0])
    lm = sp.csr_matrix(np.array([[1.0, 0.0]]))
    for agg in ("auto", False):
        res = r.solve_lp(2, 1, pg, pp, cost, np.array([100.0, 100.0]), np.array([1000.0]), link_matrix=lm,
                         link_capacity=np.array([10.0]), aggregate=agg)
        np.testing.assert_allclose(res["x"], [10.0, 100.0], atol=1e-6)
    with pytest.raises(Exception, match="group_key"):
        r.solve_lp(2, 1, pg, pp, cost, np.array([100.0, 100.0]), np.array([1000.0]), link_matrix=lm,
                   link_capacity=np.array([10.0]), aggregate=True)


@pytest.mark.parametrize("capacity", [1e13, 1e14, 1e15])
def test_link_rows_survive_the_solver_at_terabit_capacities(capacity):
    # 40 kbit per request on a 10-1,000 Tbit/s link: the row must bind at capacity / 4e4 requests/s
    lm = sp.csr_matrix(np.array([[4e4]]))
    res = r.solve_lp(1, 1, np.array([0]), np.array([0]), np.array([1.0]), np.array([1e11]), np.array([1e12]),
                     link_matrix=lm, link_capacity=np.array([capacity]))
    assert res["x"][0] == pytest.approx(capacity / 4e4, rel=1e-6)
    assert res["link_dual"][0] < 0
