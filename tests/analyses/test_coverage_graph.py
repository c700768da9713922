"""Coverage and edge siting over the link graph: monotonicity properties, hand cases, the M1 figures."""

import math

import numpy as np
import pytest

import workbench as wb

FIBRE = 0.0049
KM_PER_DEG = math.pi / 180 * 6371.0088
BUDGETS = [0.5, 1.0, 2.0, 5.0, 20.0]


def _random_scenario(seed, n_sites=25, n_links=40, n_dev=30):
    """Sites in a 10 x 10 degree box: a third PoPs, the rest clusters; a random connected-ish graph."""
    rng = np.random.default_rng(seed)
    lon = 110 + 10 * rng.random(n_sites)
    lat = 25 + 10 * rng.random(n_sites)
    tiers = np.where(np.arange(n_sites) % 3 == 0, "pop", np.where(np.arange(n_sites) % 3 == 1, "metro_edge", "cluster"))
    sites = [{"id": f"s{i}", "lon": float(lon[i]), "lat": float(lat[i]), "tier": str(tiers[i]),
              "hop_delay": float(rng.uniform(0, 0.2))} for i in range(n_sites)]
    chain = [(i, i + 1) for i in range(n_sites - 1)]            # a spanning path, then random extra links
    extra = [tuple(rng.choice(n_sites, 2, replace=False)) for _ in range(n_links - len(chain))]
    links = [{"id": f"l{k}", "src": f"s{a}", "dst": f"s{b}"} for k, (a, b) in enumerate(chain + extra)]
    devices = [{"id": f"d{j}", "lon": float(110 + 10 * rng.random()), "lat": float(25 + 10 * rng.random()),
                "endpoints": float(rng.integers(1e4, 1e6)), "spread": float(rng.uniform(0, 30))} for j in range(n_dev)]
    compute = rng.choice(n_sites, 6, replace=False)
    inventory = [{"site": f"s{i}", "chip": "h100", "installed": 8} for i in compute]
    return sites, links, devices, inventory


def _build(sites, links, devices, inventory, **params):
    chips = [{"id": "h100", "bf16_flops": 989.4e12, "hbm": 80e9, "hbm_bw": 3.35e12, "tdp": 700}]
    return wb.Scenario.from_tables({"site": sites, "link": links, "chip": chips, "inventory": inventory,
                                    "device": devices}, name="random", parameters=params)


def _shares(sc, **kw):
    return wb.analyze("coverage", sc, budget_ms=BUDGETS, n_rings=4, n_angles=6, **kw)["share"].fillna(0).values


SEEDS = [11, 12, 13, 14, 15]


@pytest.mark.parametrize("seed", SEEDS)
def test_adding_a_link_or_a_site_never_lowers_coverage(seed):
    sites, links, devices, inventory = _random_scenario(seed)
    base = _shares(_build(sites, links, devices, inventory))
    rng = np.random.default_rng(seed + 100)
    for _ in range(3):
        a, b = rng.choice(len(sites), 2, replace=False)
        more = _shares(_build(sites, links + [{"id": "new", "src": f"s{a}", "dst": f"s{b}"}], devices, inventory))
        assert np.all(more >= base - 1e-12)
    # a new compute site (a cluster, not an access tier) linked to the graph. Adding an *access* site is
    # different: it re-homes the groups nearest to it and can lower their coverage if it connects poorly
    # (workbench.paths docstring); test_access_sites_rehome_groups checks that on purpose.
    s_new = {"id": "new-dc", "lon": 115.0, "lat": 30.0, "tier": "cluster"}
    more = _shares(_build(sites + [s_new], links + [{"id": "nl", "src": "new-dc", "dst": "s3"}], devices,
                          inventory + [{"site": "new-dc", "chip": "h100", "installed": 8}]))
    assert np.all(more >= base - 1e-12)


@pytest.mark.parametrize("seed", SEEDS)
def test_lengthening_a_link_or_raising_a_route_factor_never_raises_coverage(seed):
    sites, links, devices, inventory = _random_scenario(seed)
    base = _shares(_build(sites, links, devices, inventory))
    longer = [dict(link, route_factor=3.0) if k % 2 else link for k, link in enumerate(links)]
    assert np.all(_shares(_build(sites, longer, devices, inventory)) <= base + 1e-12)
    rf = _shares(_build(sites, links, devices, inventory, route_factor=2.5))
    assert np.all(rf <= base + 1e-12)
    assert np.any(rf < base - 1e-9)                      # and it does change the answer
    metro = _shares(_build(sites, links, devices, inventory, metro_route_factor=2.5))
    assert np.all(metro <= base + 1e-12)


@pytest.mark.parametrize("seed", SEEDS)
def test_shares_rise_with_the_budget(seed):
    s = _shares(_build(*_random_scenario(seed)))
    assert np.all(np.diff(s, axis=1) >= -1e-12)


@pytest.mark.parametrize("layer", ["optical", "ip", "internet"])
def test_heavier_layers_never_cover_more(layer):
    sc = _build(*_random_scenario(21))
    assert np.all(_shares(sc, layer=layer) <= _shares(sc, layer="optical") + 1e-12)


def test_removing_the_only_path_makes_a_site_unreachable():
    sites = [{"id": "pop", "lon": 116.0, "lat": 30.0, "tier": "pop"},
             {"id": "mid", "lon": 116.0, "lat": 30.5, "tier": "regional"},
             {"id": "dc", "lon": 116.0, "lat": 31.0, "tier": "cluster"}]
    links = [{"id": "a", "src": "pop", "dst": "mid"}, {"id": "b", "src": "mid", "dst": "dc"}]
    devices = [{"id": "m", "lon": 116.0, "lat": 30.0, "endpoints": 1e6}]
    inv = [{"site": "dc", "chip": "h100", "installed": 8}]
    assert wb.analyze("coverage", _build(sites, links, devices, inv), budget_ms=[5]).national_share.item() == 1.0
    with pytest.warns(wb.WorkbenchWarning, match="pop"):
        cov = wb.analyze("coverage", _build(sites, links[:1], devices, inv), budget_ms=[5])
    assert cov.national_share.item() == 0.0


def test_a_line_of_metros_against_a_hand_calculation():
    # PoPs every 100 km along a meridian (0.9 degree apart), compute at the first; one metro at each PoP.
    step = 100.0 / KM_PER_DEG
    sites = [{"id": f"p{i}", "lon": 116.0, "lat": 30.0 + i * step, "tier": "pop"} for i in range(5)]
    links = [{"id": f"l{i}", "src": f"p{i}", "dst": f"p{i + 1}", "length": 100.0} for i in range(4)]
    devices = [{"id": f"m{i}", "lon": 116.0, "lat": 30.0 + i * step, "endpoints": 1e6} for i in range(5)]
    cov = wb.analyze("coverage", _build(sites, links, devices, [{"site": "p0", "chip": "h100", "installed": 8}]),
                     budget_ms=[1, 2])
    # metro i at its PoP: 0.1 ms metro equipment + i x (0.49 + 0.1) ms over the graph
    np.testing.assert_allclose(cov.centre_latency.values, 0.1 + np.arange(5) * 0.59)
    np.testing.assert_array_equal(cov.share.sel(budget=1.0).values, [1, 1, 0, 0, 0])
    np.testing.assert_array_equal(cov.share.sel(budget=2.0).values, [1, 1, 1, 1, 0])


def test_direct_path_model_reproduces_the_milestone_1_figures_exactly():
    # Recorded with the milestone-1 code (commit faf69b1) on china-edwc: its compute sites are unchanged.
    sc = wb.load_scenario("china-edwc")
    cov = wb.analyze("coverage", sc, budget_ms=[1, 5, 20], path_model="direct")
    np.testing.assert_allclose(cov.national_covered.values, [382254425.7604168, 565659176.0, 572973810.0], rtol=1e-12)
    assert float(cov.share.sum()) == pytest.approx(791.6041666666666, rel=1e-12)
    assert float(np.nansum(cov.mean_latency.values)) == pytest.approx(515.8608410228953, rel=1e-12)
    assert float(np.nansum(cov.centre_latency.values)) == pytest.approx(510.7145311049627, rel=1e-12)
    siting = wb.analyze("edge_siting", sc, path_model="direct")
    assert siting.name.values.tolist() == ["Xinyi", "Zhuzhou", "Bozhou", "Lishui", "Dazhou", "Fuzhou"]


# ----------------------------------------------------------------------------- edge siting over the graph


def test_edge_siting_over_the_graph_by_hand():
    # Three metros on a line, 180 km apart; compute only at the west end. Budget 1 ms: metro a is
    # covered (0.1 ms), b (0.1 + 0.882 + 0.1 = 1.082 ms) is not, nor c. A site at c's PoP covers c
    # (3 M people), then one at b's covers b (2 M); neither reaches the other.
    step = 180.0 / KM_PER_DEG
    sites = [{"id": f"p{x}", "lon": 116.0 + i * step, "lat": 30.0, "tier": "pop", "name": f"PoP {x}"}
             for i, x in enumerate("abc")]
    links = [{"id": "ab", "src": "pa", "dst": "pb", "length": 180.0}, {"id": "bc", "src": "pb", "dst": "pc",
                                                                        "length": 180.0}]
    devices = [{"id": x, "name": x.upper(), "lon": 116.0 + i * step, "lat": 30.0, "endpoints": 1e6 * (i + 1)}
               for i, x in enumerate("abc")]
    sc = _build(sites, links, devices, [{"site": "pa", "chip": "h100", "installed": 8}])
    es = wb.analyze("edge_siting", sc, target_share=1.0, budget_ms=1.0)
    assert es.site.values.tolist() == ["pc", "pb"] and es.group.values.tolist() == ["c", "b"]
    assert float(es.baseline_share) == pytest.approx(1 / 6) and float(es.final_share) == pytest.approx(1.0)
    np.testing.assert_allclose(es.gain.values, [3e6, 2e6])
    # both budgets at once: a budget dimension; at 1.2 ms b is covered already and a site at b or at c
    # (1.082 ms apart) covers c: one site does
    both = wb.analyze("edge_siting", sc, target_share=1.0, budget_ms=[1.0, 1.2])
    assert both.sizes["budget"] == 2 and float(both.final_share.sel(budget=1.2)) == 1.0
    assert both.site.sel(budget=1.2).values[0] in ("pb", "pc") and both.site.sel(budget=1.2).values[1] == ""


def test_edge_siting_candidates_cover_what_coverage_then_sees():
    sites, links, devices, inventory = _random_scenario(31, n_sites=30)
    sc = _build(sites, links, devices, inventory)
    es = wb.analyze("edge_siting", sc, target_share=0.95, budget_ms=1.5, candidates="sites", n_rings=4, n_angles=6)
    if es.sizes["new_site"] == 0:
        pytest.fail("random scenario needs no new site; pick another seed")
    # add the chosen sites as compute and recompute coverage: the national share is the one promised
    inv = inventory + [{"site": s, "chip": "h100", "installed": 8} for s in es.site.values]
    cov = wb.analyze("coverage", _build(sites, links, devices, inv), budget_ms=[1.5], n_rings=4, n_angles=6)
    assert float(cov.national_share.item()) == pytest.approx(float(es.final_share), rel=1e-12)
    np.testing.assert_allclose(cov.share.values[:, 0], es.share_after.values, rtol=1e-12)


def test_access_sites_rehome_groups():
    # A metro at its PoP 100 km from the DC (1 ms: 0.1 + 0.49 + 0.1 = 0.69 ms, covered). A new access PoP
    # right at the metro centre, joined to the DC by a 200 km detour, becomes the metro's PoP (nearest to
    # its centre): 0.1 + 0.98 + 0.1 = 1.18 ms, beyond 1 ms, so the metro's 1 ms share drops to 0. This is the
    # access model (people use their nearest access network), not a path-model error.
    km_deg = math.pi / 180 * 6371.0088
    sites = [{"id": "pop-a", "lon": 116.0, "lat": 30.0 + 5 / km_deg, "tier": "pop"},
             {"id": "dc", "lon": 116.0, "lat": 30.0 + 100 / km_deg, "tier": "cluster"}]
    links = [{"id": "a", "src": "pop-a", "dst": "dc", "length": 100.0}]
    devices = [{"id": "m", "lon": 116.0, "lat": 30.0, "endpoints": 1e6}]
    inv = [{"site": "dc", "chip": "h100", "installed": 8}]
    before = wb.analyze("coverage", _build(sites, links, devices, inv), budget_ms=[1])
    assert before.share.item() == 1.0 and before.access_site.item() == "pop-a"
    after = wb.analyze("coverage", _build(sites + [{"id": "pop-b", "lon": 116.0, "lat": 30.0, "tier": "pop"}],
                                          links + [{"id": "b", "src": "pop-b", "dst": "dc", "length": 200.0}],
                                          devices, inv), budget_ms=[1])
    assert after.access_site.item() == "pop-b" and after.share.item() == 0.0
