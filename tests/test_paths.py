"""The path engine (workbench.paths): hand calculations on a line and a ring, networkx as a peer."""

import math
import warnings

import networkx as nx
import numpy as np
import pytest

import workbench as wb
from workbench import paths
from workbench.errors import WorkbenchError, WorkbenchWarning

FIBRE = 0.0049  # ms per km (4.9 us/km, FIGURES 2)


def test_line_graph_latency_length_and_hops_by_hand():
    # a - b - c - d, 100 km and 0.1 ms of equipment per link: 100 x 0.0049 + 0.1 = 0.59 ms a link
    net = paths.Network(["a", "b", "c", "d"], [0, 1, 2], [1, 2, 3], 100.0, 0.1)
    r = net.route([0, 3])
    np.testing.assert_allclose(r["latency"], [[0, 0.59, 1.18, 1.77], [1.77, 1.18, 0.59, 0]])
    np.testing.assert_allclose(r["length_km"], [[0, 100, 200, 300], [300, 200, 100, 0]])
    np.testing.assert_array_equal(r["hops"], [[0, 1, 2, 3], [3, 2, 1, 0]])


def test_ring_graph_goes_the_short_way_round():
    # a ring of 6 sites, links of 100 km except one of 1000 km between 5 and 0
    n = 6
    lengths = [100.0] * 5 + [1000.0]
    net = paths.Network(list("abcdef"), list(range(n)), [1, 2, 3, 4, 5, 0], lengths, 0.0)
    lat_ = net.latency([0])[0]
    # to f (5): 5 x 100 km one way round (2.45 ms) beats 1000 km the other (4.9 ms)
    np.testing.assert_allclose(lat_, np.array([0, 1, 2, 3, 4, 5]) * 100 * FIBRE)
    # cut the long link's alternative: make it 300 km, now f is reached directly
    net2 = paths.Network(list("abcdef"), list(range(n)), [1, 2, 3, 4, 5, 0], [100.0] * 5 + [300.0], 0.0)
    np.testing.assert_allclose(net2.latency([0])[0], np.array([0, 100, 200, 300, 400, 300]) * FIBRE)
    pair, link, order = net2.path_links([0, 0], [5, 3])
    # 0 -> 5 takes link 5 directly; 0 -> 3 is three links either way (300 km both): one of the two
    assert link[pair == 0].tolist() == [5]
    assert len(link[pair == 1]) == 3


def test_transit_delay_is_charged_once_per_touched_site_ends_included():
    net = paths.Network(list("abcd"), [0, 1, 2], [1, 2, 3], 100.0, 0.1, transit_ms=[1.0, 2.0, 3.0, 4.0])
    np.testing.assert_allclose(net.latency([0])[0], [1.0, 0.59 + 1 + 2, 1.18 + 1 + 2 + 3, 1.77 + 10])
    # nearest target d with a 0.5 ms internal delay, from every site
    lat_, tgt = net.nearest([3], [0.5])
    np.testing.assert_allclose(lat_, [0.5 + 1.77 + 10, 0.5 + 1.18 + 9, 0.5 + 0.59 + 7, 0.5 + 4])
    assert tgt.tolist() == [3, 3, 3, 3]


def test_parallel_links_keep_the_fastest_and_self_loops_are_ignored():
    net = paths.Network(["a", "b"], [0, 1, 0, 0], [1, 0, 0, 1], [500.0, 100.0, 5.0, 300.0], 0.1,
                        link_ids=["slow", "fast", "loop", "mid"])
    assert net.latency([0])[0, 1] == pytest.approx(100 * FIBRE + 0.1)
    pair, link, _ = net.path_links([0], [1])
    assert net.link_ids[link].tolist() == ["fast"]


def test_layers_add_their_overheads():
    kw = dict(site_ids=list("abc"), src=[0, 1], dst=[1, 2], length_km=200.0, equipment_ms=0.1)
    opt = paths.Network(**kw, layer="optical").latency([0])[0, 2]
    ip = paths.Network(**kw, layer="ip").latency([0])[0, 2]
    inet = paths.Network(**kw, layer="internet").latency([0])[0, 2]
    assert opt == pytest.approx(2 * (200 * FIBRE + 0.1))
    assert ip == pytest.approx(opt + 2 * paths.LAYERS["ip"].per_hop_ms)
    L = paths.LAYERS["internet"]
    assert inet == pytest.approx(2 * (200 * L.length_factor * FIBRE + 0.1 + L.per_hop_ms) + L.per_path_ms)
    with pytest.raises(WorkbenchError, match="unknown network layer 'dark'.*optical, ip, internet"):
        paths.Network(**kw, layer="dark")


def _random_graph(seed, n=60, m=150):
    rng = np.random.default_rng(seed)
    src = rng.integers(0, n, m)
    dst = rng.integers(0, n, m)
    length = rng.uniform(10, 500, m)
    eq = rng.uniform(0, 0.2, m)
    transit = rng.uniform(0, 0.3, n)
    return rng, src, dst, length, eq, transit


def _nx_graph(n, src, dst, length, eq, transit):
    g = nx.Graph()
    g.add_nodes_from(range(n))
    for a, b, L, e in zip(src, dst, length, eq):
        if a == b:
            continue
        w = L * FIBRE + e + 0.5 * (transit[a] + transit[b])
        if not g.has_edge(a, b) or g[a][b]["weight"] > w:
            g.add_edge(a, b, weight=w, km=L)
    return g


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_latency_lengths_and_paths_match_networkx(seed):
    n = 60
    rng, src, dst, length, eq, transit = _random_graph(seed, n)
    net = paths.Network([f"s{i}" for i in range(n)], src, dst, length, eq, transit)
    g = _nx_graph(n, src, dst, length, eq, transit)
    sources = np.array([0, 7, 33])
    r = net.route(sources)
    for i, s in enumerate(sources):
        ref = nx.single_source_dijkstra_path_length(g, int(s))
        for v in range(n):
            if v in ref:
                want = ref[v] + 0.5 * (transit[s] + transit[v])
                assert r["latency"][i, v] == pytest.approx(want, abs=1e-9)
            else:
                assert np.isinf(r["latency"][i, v]) and r["hops"][i, v] == -1 and np.isnan(r["length_km"][i, v])
    # a few destinations take the walking route, all of them pointer jumping: the same answers
    few = np.array([5, 17, 42])
    r_few = net.route(sources, few)
    for key in ("latency", "length_km", "hops"):
        np.testing.assert_allclose(r_few[key], r[key][:, few])
    # the links returned are a path from src to dst whose latency is the shortest one
    ps = np.repeat(sources, n)
    pd = np.tile(np.arange(n), sources.size)
    pair, link, order = net.path_links(ps, pd)
    for k in range(ps.size):
        ls = link[pair == k]
        if not np.isfinite(r["latency"].ravel()[k]) or ps[k] == pd[k]:
            assert ls.size == 0
            continue
        nodes = [int(ps[k])]
        for li in ls:                                   # consecutive links chain from src to dst
            a, b = int(net.link_src[li]), int(net.link_dst[li])
            assert nodes[-1] in (a, b)
            nodes.append(b if nodes[-1] == a else a)
        assert nodes[-1] == pd[k]
        total = net.link_ms[ls].sum() + transit[nodes].sum()
        assert total == pytest.approx(r["latency"].ravel()[k], abs=1e-9)
        assert len(ls) == r["hops"].ravel()[k]
        assert length[ls].sum() == pytest.approx(r["length_km"].ravel()[k])


@pytest.mark.parametrize("seed", [4, 5])
def test_nearest_target_with_offsets_matches_brute_force(seed):
    n = 60
    rng, src, dst, length, eq, transit = _random_graph(seed, n)
    net = paths.Network([f"s{i}" for i in range(n)], src, dst, length, eq, transit, layer="ip")
    targets = rng.choice(n, 7, replace=False)
    offset = rng.uniform(0, 2, 7)
    got, which = net.nearest(targets, offset)
    full = net.latency(targets) + offset[:, None]          # (targets, sites)
    np.testing.assert_allclose(got, full.min(axis=0))
    ok = np.isfinite(got)
    row = {int(t): i for i, t in enumerate(targets)}
    chosen = np.array([row[int(t)] for t in which[ok]])
    np.testing.assert_allclose(full[chosen, np.flatnonzero(ok)], got[ok])   # the named target gives it
    assert np.all(which[~ok] == -1)


# ----------------------------------------------------------------------------- scenario level


def _scenario(sites, links, devices, inventory, **params):
    chips = [{"id": "h100", "bf16_flops": 989.4e12, "hbm": 80e9, "hbm_bw": 3.35e12, "tdp": 700}]
    return wb.Scenario.from_tables({"site": sites, "link": links, "chip": chips, "inventory": inventory,
                                    "device": devices}, name="hand", parameters=params)


def test_point_latency_goes_via_the_access_pop_and_the_graph():
    # metro m (PoP at 116E 30N) with no compute; the DC 3 degrees north over one 500 km link
    sites = [{"id": "pop", "lon": 116.0, "lat": 30.0, "tier": "pop"},
             {"id": "dc", "lon": 116.0, "lat": 33.0, "tier": "cluster", "hop_delay": 0.2}]
    links = [{"id": "l", "src": "pop", "dst": "dc", "length": 500.0}]
    devices = [{"id": "m", "lon": 116.0, "lat": 30.1, "endpoints": 1e6}]
    sc = _scenario(sites, links, devices, [{"site": "dc", "chip": "h100", "installed": 8}])
    cov = wb.analyze("coverage", sc, budget_ms=[5])
    km = 0.1 * math.pi / 180 * 6371.0088          # 0.1 degree of latitude to the PoP
    want = km * 1.5 * FIBRE + 0.1 + (500 * FIBRE + 0.1) + 0.2
    assert float(cov.centre_latency.item()) == pytest.approx(want)
    assert cov.access_site.item() == "pop" and cov.nearest_site.item() == "dc"
    # the straight line would be 2.9 degrees x 1.5: the named approximation differs
    direct = wb.analyze("coverage", sc, budget_ms=[5], path_model="direct")
    assert float(direct.centre_latency.item()) == pytest.approx(2.9 * math.pi / 180 * 6371.0088 * 1.5 * FIBRE + 0.3)
    # a group pinned to another access site enters there
    sites2 = sites + [{"id": "pop2", "lon": 117.0, "lat": 30.0, "tier": "pop"}]
    links2 = links + [{"id": "l2", "src": "pop2", "dst": "dc", "length": 800.0}]
    devices2 = [{**devices[0], "access_site": "pop2"}]
    sc2 = _scenario(sites2, links2, devices2, [{"site": "dc", "chip": "h100", "installed": 8}])
    c2 = wb.analyze("coverage", sc2, budget_ms=[5])
    assert c2.access_site.item() == "pop2"
    assert float(c2.centre_latency.item()) > want + 300 * FIBRE


def test_a_site_without_a_path_is_unreachable_and_named():
    sites = [{"id": "pop", "lon": 116.0, "lat": 30.0, "tier": "pop"},
             {"id": "dc", "lon": 116.0, "lat": 31.0, "tier": "cluster"}]
    devices = [{"id": "m", "lon": 116.0, "lat": 30.0, "endpoints": 1e6}]
    sc = _scenario(sites, [], devices, [{"site": "dc", "chip": "h100", "installed": 8}])
    with pytest.warns(WorkbenchWarning, match=r"reaches no selected site over the link graph: pop"):
        cov = wb.analyze("coverage", sc, budget_ms=[20])
    assert float(cov.national_share.item()) == 0.0 and np.isnan(cov.centre_latency.item())
    assert float(cov.unreachable.item()) == pytest.approx(1e6)
    with pytest.warns(WorkbenchWarning, match="no path over the link graph"):
        m = wb.analyze("latency_matrix", sc)
    assert np.isnan(m.latency.sel(src="pop", dst="dc").item()) and int(m.hops.sel(src="pop", dst="dc")) == -1


def test_no_access_site_falls_back_with_a_warning():
    sites = [{"id": "dc", "lon": 116.0, "lat": 40.0, "tier": "cluster"}]
    devices = [{"id": "m", "lon": 116.0, "lat": 40.0, "endpoints": 1e6}]
    sc = _scenario(sites, [], devices, [{"site": "dc", "chip": "h100", "installed": 8}])
    with pytest.warns(WorkbenchWarning, match="no access site"):
        cov = wb.analyze("coverage", sc, budget_ms=[1])
    assert float(cov.national_share.item()) == 1.0


def test_resolve_sites_accepts_tiers_ids_and_masks():
    sites = [{"id": "a", "lon": 116.0, "lat": 30.0, "tier": "pop"},
             {"id": "b", "lon": 117.0, "lat": 30.0, "tier": "cluster"},
             {"id": "c", "lon": 118.0, "lat": 30.0, "tier": "cluster"}]
    sc = _scenario(sites, [], [{"id": "m", "lon": 116.0, "lat": 30.0, "endpoints": 1}],
                   [{"site": "b", "chip": "h100", "installed": 8}])
    assert paths.resolve_sites(sc, "cluster").tolist() == [1, 2]
    assert paths.resolve_sites(sc, ["a", "cluster"]).tolist() == [0, 1, 2]
    assert paths.resolve_sites(sc, "compute").tolist() == [1]
    assert paths.resolve_sites(sc, "access").tolist() == [0]
    assert paths.resolve_sites(sc, np.array([True, False, True])).tolist() == [0, 2]
    with pytest.raises(WorkbenchError, match="'hub' is neither a site id nor a tier.*cluster, pop"):
        paths.resolve_sites(sc, "hub")


def test_latency_matrix_and_paths_on_a_hand_graph():
    # a - b - c in a line (100 km each) and a 250 km shortcut a - c
    sites = [{"id": s, "lon": 116.0 + i, "lat": 30.0, "tier": "pop", "name": s.upper()} for i, s in enumerate("abc")]
    links = [{"id": "ab", "src": "a", "dst": "b", "length": 100.0},
             {"id": "bc", "src": "b", "dst": "c", "length": 100.0},
             {"id": "ac", "src": "a", "dst": "c", "length": 250.0}]
    sc = _scenario(sites, links, [{"id": "m", "lon": 116.0, "lat": 30.0, "endpoints": 1}], [])
    m = wb.analyze("latency_matrix", sc)
    # a -> c: 2 x (0.49 + 0.1) = 1.18 ms over b, vs 1.225 + 0.1 = 1.325 direct
    assert m.latency.sel(src="a", dst="c").item() == pytest.approx(1.18)
    assert int(m.hops.sel(src="a", dst="c")) == 2 and m.path_length.sel(src="a", dst="c").item() == 200.0
    p = wb.analyze("paths", sc, sites="a", dst=["c", "b"])
    assert p.path_link.sel(src="a", dst="c").values.tolist() == ["ab", "bc"]
    assert p.path_node.sel(src="a", dst="c").values.tolist() == ["b", "c"]
    assert p.on_path.sel(src="a", dst="c").values.tolist() == [True, True, False]
    # lengthen b - c: the shortcut wins, and the answer changes with the link
    links[1]["length"] = 300.0
    p2 = wb.analyze("paths", _scenario(sites, links, [{"id": "m", "lon": 116.0, "lat": 30.0, "endpoints": 1}], []),
                    sites="a", dst="c")
    assert p2.path_link.sel(src="a", dst="c").values.tolist() == ["ac"]
    assert p2.latency.item() == pytest.approx(250 * FIBRE + 0.1)


def test_warnings_are_not_raised_on_the_shipped_scenario():
    sc = wb.load_scenario("china-edwc")
    with warnings.catch_warnings():
        warnings.simplefilter("error", WorkbenchWarning)
        wb.analyze("coverage", sc)
        wb.analyze("latency_matrix", sc, sites=["hub", "cluster"])


def test_points_enter_at_their_groups_pop_unless_access_is_point():
    # metro m centred at its PoP; a second PoP 30 km east with no path to compute. With access="group"
    # (default) all of m's people enter at m's PoP; with access="point" the eastern fringe re-homes to
    # the nearer, unconnected PoP and is lost.
    km_deg = math.pi / 180 * 6371.0088
    sites = [{"id": "pop-m", "lon": 116.0, "lat": 30.0, "tier": "pop"},
             {"id": "pop-x", "lon": 116.0 + 30 / (km_deg * math.cos(math.radians(30))), "lat": 30.0, "tier": "pop"},
             {"id": "dc", "lon": 116.0, "lat": 30.5, "tier": "cluster"}]
    links = [{"id": "l", "src": "pop-m", "dst": "dc"}]
    devices = [{"id": "m", "lon": 116.0, "lat": 30.0, "endpoints": 1e6, "spread": 15.0}]
    sc = _scenario(sites, links, devices, [{"site": "dc", "chip": "h100", "installed": 8}])
    group = wb.analyze("coverage", sc, budget_ms=[20])
    assert group.national_share.item() == 1.0
    with pytest.warns(WorkbenchWarning, match="pop-x"):
        point = wb.analyze("coverage", sc, budget_ms=[20], access="point")
    assert 0.0 < point.national_share.item() < 1.0
    assert point.unreachable.item() == pytest.approx(1e6 * (1 - point.national_share.item()))


def test_editing_the_backbone_with_rows_changes_the_answer():
    sc = wb.load_scenario("china-edwc")
    before = wb.analyze("latency_matrix", sc, sites="pop-langfang", dst="hub-beijing").latency.item()
    direct = sc.with_rows("link", [{"id": "lf-bj", "src": "pop-langfang", "dst": "hub-beijing", "length": 60.0}])
    after = wb.analyze("latency_matrix", direct, sites="pop-langfang", dst="hub-beijing").latency.item()
    assert after == pytest.approx(60 * FIBRE + 0.1) and after < before
    # dropping the new link restores the old answer; dropping a site drops its links too
    assert wb.analyze("latency_matrix", direct.drop_rows("link", "lf-bj"), sites="pop-langfang",
                      dst="hub-beijing").latency.item() == pytest.approx(before)
    fewer = sc.drop_rows("site", "pop-langfang")
    assert "pop-langfang" not in fewer["link"]["src"].values and fewer["link"].sizes["link"] < sc["link"].sizes["link"]
    with pytest.raises(wb.ScenarioError, match="refers to site 'nowhere'"):
        sc.with_rows("link", [{"id": "bad", "src": "nowhere", "dst": "hub-beijing"}])
    with pytest.raises(wb.ScenarioError, match="already exists"):
        direct.with_rows("link", [{"id": "lf-bj", "src": "pop-langfang", "dst": "hub-beijing"}])


def test_links_to_nearest_proposes_direct_routes_that_never_lower_coverage():
    sc = wb.load_scenario("china-edwc")
    new = paths.links_to_nearest(sc, max_km=150)
    assert len(new) > 0 and (new.attrs["great_circle_km"] <= 150).all()
    dc_ids = set(sc["site"]["site"].values[paths.resolve_sites(sc, ["hub", "cluster", "metro_edge"])].tolist())
    assert set(new["dst"]) <= dc_ids and not set(new["src"]) & dc_ids
    more = sc.with_rows("link", new)
    a = wb.analyze("coverage", sc, n_rings=4, n_angles=6)["share"].values
    b = wb.analyze("coverage", more, n_rings=4, n_angles=6)["share"].values
    assert np.all(b >= a - 1e-12) and b.sum() > a.sum()
