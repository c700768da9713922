"""The placement model against a three-site case computed by hand.

Geometry: every point is on the equator, so one degree of longitude is R pi / 180 =
6371.0088 x 0.01745329 = 111.1951 km of great circle (workbench.geo.EARTH_RADIUS_KM). One-way
latency over the graph (links A - B - C of 1 degree x 1.5, no link equipment) = access (fibre:
0.1 ms) + metro equipment 0.1 ms + km x 1.5 x 0.0049 ms/km:

    0 km   -> 0.2 ms
    1 deg  -> 0.2 + 111.1951 x 1.5 x 0.0049 = 1.017284 ms
    2 deg  -> 0.2 + 222.3902 x 1.5 x 0.0049 = 1.834568 ms

Demand: tokens 86,400/d x 1e12 FLOP/token / 86,400 s = 1e12 FLOP/s per person; m1 has 1,000
people (1e15 FLOP/s) at lon 0, m2 9,000 people (9e15 FLOP/s) at lon 2.
Chips: x = 1e15 FLOP/s, 500 W, USD 10,000; y = 2e15 FLOP/s, 800 W, USD 30,000; blocks of 10;
serving efficiency 0.5 -> a block of x delivers 5e15 FLOP/s, a block of y 1e16 FLOP/s.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from workbench.errors import StudyError
from workbench.optimize import ParameterError, Study
from workbench.optimize import placement as pl

KM_PER_DEG = 6371.0088 * math.pi / 180
LAT1 = 0.2 + KM_PER_DEG * 1.5 * 0.0049
LAT2 = 0.2 + 2 * KM_PER_DEG * 1.5 * 0.0049

# the optical layer: no per-hop router delay, so the hand numbers stay round (the default ip layer adds
# 0.04 ms per link; checked in test_variables_and_bounds)
PARAMS = dict(chips=["x", "y"], block=10, tokens_per_capita_day=86_400.0, flop_per_token=1e12,
              serving_efficiency=0.5, utilisation=0.8, lifetime_yr=4.0, usd_to_cny=7.0, latency_budget_ms=20.0,
              layer="optical")


@pytest.fixture(scope="module")
def space(hand_scenario):
    return pl.build_placement_space(hand_scenario, **PARAMS)


def test_variables_and_bounds(space, hand_scenario):
    # A: floor(1e6 W / (10 chips x 500 W x 1.5)) = 133 -> capped at max_blocks 64; B unlimited -> 64;
    # C: floor(9000 / (10 x 500 x 1.25)) = 1
    assert space.names == ["A.blocks", "B.blocks", "C.blocks", "A.chip", "B.chip", "C.chip"]
    assert space.upper.tolist() == [64, 64, 1, 1, 1, 1]
    assert [v.kind for v in space.variables] == ["int"] * 3 + ["choice"] * 3
    ctx = space.context
    np.testing.assert_allclose(ctx.demand, [1e15, 9e15])
    np.testing.assert_allclose(ctx.latency_ms, [[0.2, LAT1, LAT2], [LAT2, LAT1, 0.2]], rtol=1e-12)
    # the named straight-line approximation gives the same numbers on this geometry
    direct = pl.build_placement_space(hand_scenario, **{**PARAMS, "path_model": "direct"}).context.latency_ms
    np.testing.assert_allclose(direct, ctx.latency_ms, rtol=1e-12)
    ip = pl.build_placement_space(hand_scenario, **{**PARAMS, "layer": "ip"}).context.latency_ms
    np.testing.assert_allclose(ip - ctx.latency_ms, [[0, 0.04, 0.08], [0.08, 0.04, 0]], atol=1e-12)
    # and the graph is in the loop: without the link B - C, m2 cannot reach A or B within anything
    cut = hand_scenario.with_table("link", hand_scenario["link"].isel(link=[0]))
    lat_cut = pl.build_placement_space(cut, **PARAMS).context.latency_ms
    assert np.isinf(lat_cut[1, :2]).all() and np.isinf(lat_cut[0, 2])
    assert ctx.west.tolist() == [False, True, False]           # Gansu is a western hub


def test_objectives_by_hand(space):
    # candidate 1: A = 1 block of x, B = 2 blocks of y, C = 0
    st = pl.decode_placement(space.context, np.array([[1, 2, 0, 0, 1, 0]]))
    # all demand served in one round: m1 -> A (0.2 ms), m2 -> B (1.017 ms)
    assert st.served_share[0] == pytest.approx(1.0)
    assert st.mean_latency_ms[0] == pytest.approx((1e15 * 0.2 + 9e15 * LAT1) / 1e16, rel=1e-12)
    # capex (10 x 10,000 + 20 x 30,000) USD x 7 / 4 yr = 1,225,000 CNY/yr
    # energy A: 10 x 500 W x 0.8 x 1.5 x 8760 h = 52,560 kWh; B: 20 x 800 x 0.8 x 1.2 x 8760 = 134,553.6 kWh
    # electricity 52,560 x 0.6 + 134,553.6 x 0.4 = 85,357.44 CNY/yr
    assert pl.annual_cost(space.context, st)[0] == pytest.approx(1.31035744, rel=1e-12)
    # CO2 52,560 x 0.5 + 134,553.6 x 0.2 = 53,190.72 kg
    assert pl.annual_co2(space.context, st)[0] == pytest.approx(0.05319072, rel=1e-12)
    # PUE weighted by IT power: (5,000 x 1.5 + 16,000 x 1.2) / 21,000 = 1.2714286
    assert pl.pue_target(space.context, st, max_pue=1.3)[0] == pytest.approx(26_700 / 21_000 - 1.3, rel=1e-12)
    assert pl.site_power(space.context, st)[0] == 0.0
    assert pl.demand_served(space.context, st, min_share=0.99)[0] == pytest.approx(-0.01)


def test_overflow_and_shortage(space):
    X = np.array([[1, 0, 1, 0, 0, 0],      # A and C one block of x each (5e15 each)
                  [1, 0, 0, 0, 0, 0],      # A alone
                  [0, 0, 1, 0, 0, 1]])     # C one block of y: 10 x 800 W x 1.25 = 10,000 W > 9,000 W
    st = pl.decode_placement(space.context, X)
    # candidate 0, round 1: m1 -> A (1e15 of 5e15), m2 -> C (9e15 > 5e15: served 5/9);
    # round 2: m2's remaining 4e15 -> A (spare 4e15) at 1.834568 ms. Everything served.
    assert st.served_share[0] == pytest.approx(1.0)
    assert st.mean_latency_ms[0] == pytest.approx((1e15 * 0.2 + 5e15 * 0.2 + 4e15 * LAT2) / 1e16, rel=1e-12)
    # candidate 1: A (5e15) gets 1e16: each metro served half; nothing else open
    assert st.served_share[1] == pytest.approx(0.5)
    assert st.mean_latency_ms[1] == pytest.approx((5e14 * 0.2 + 4.5e15 * LAT2) / 5e15, rel=1e-12)
    assert pl.demand_served(space.context, st)[1] == pytest.approx(0.49)
    # candidate 2: C y-block delivers 1e16 >= 9e15 for m2; m1 -> C at 1.834568 ms gets the remaining 1e15
    assert st.served_share[2] == pytest.approx(1.0)
    assert pl.site_power(space.context, st)[2] == pytest.approx(1000 / 1e6)      # 1,000 W over [MW]


def test_study_evaluate_matches_model(hand_scenario):
    study = Study(space="placement", scenario=hand_scenario, space_params=PARAMS,
                  objectives=["annual_cost", "mean_latency", "annual_co2"],
                  constraints=["demand_served", "site_power", "pue_target"])
    ev = study.evaluate([[1, 2, 0, 0, 1, 0]])
    assert float(ev["annual_cost"][0]) == pytest.approx(1.31035744, rel=1e-12)
    assert float(ev["annual_co2"][0]) == pytest.approx(0.05319072, rel=1e-12)
    assert float(ev["pue_target"][0]) == pytest.approx(26_700 / 21_000 - 1.3, rel=1e-12)
    assert ev["annual_cost"].attrs["units"] == "MCNY/yr"


def test_sampler_is_deterministic_and_in_bounds(space):
    a = pl.sample_placement(space.context, np.random.default_rng(5), 50)
    b = pl.sample_placement(space.context, np.random.default_rng(5), 50)
    assert np.array_equal(a, b)
    assert np.all(a == np.rint(a))
    # capacity installed before clipping is 1..2 x the need; 1e16 / 0.5 = 2e16 peak needed
    assert a.shape == (50, 6)


def test_parameter_errors(hand_scenario):
    with pytest.raises(ParameterError, match="chips") as err:
        pl.build_placement_space(hand_scenario, chips=["x", "nope"])
    assert err.value.param == "chips"
    with pytest.raises(ParameterError) as err:
        pl.build_placement_space(hand_scenario, chips=["x"], max_blocks=0)
    assert err.value.param == "max_blocks"
    with pytest.raises(ParameterError) as err:
        pl.build_placement_space(hand_scenario, chips=["x"], lifetime_yr=-1)
    assert err.value.param == "lifetime_yr"
    # a chip without price in the catalogue and no assumed default
    sc = hand_scenario.with_table("chip", hand_scenario["chip"].assign(price=("chip", [np.nan, np.nan])))
    with pytest.raises(ParameterError, match="no price"):
        pl.build_placement_space(sc, chips=["x"])


def test_wrong_objective_for_space(hand_scenario):
    with pytest.raises(StudyError, match="works with decision space"):
        Study(space="zdt", objectives=["annual_cost"])


def test_china_space_builds():
    import workbench as wb

    sc = wb.load_scenario("china-edwc")
    space = pl.build_placement_space(sc)
    n_sites = sc["site"].sizes["site"]
    assert space.n_var == 2 * n_sites
    # demand = residents x 20,000 token/d x 1.4e11 FLOP/token / 86,400 s
    expected = float(sc["device"]["endpoints"].sum()) * 20_000 * 1.4e11 / 86_400
    assert space.attrs["demand_flops"] == pytest.approx(expected, rel=1e-12)
    X = space.sample(space.context, np.random.default_rng(0), 8)
    st = pl.decode_placement(space.context, X)
    assert np.all(np.isfinite(st.cost_mcny)) and np.all(st.served_share <= 1 + 1e-12)
