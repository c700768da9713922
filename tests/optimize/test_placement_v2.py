"""Placement v2 (brownfield, hourly, green power) against hand calculations.

Uses the three-site hand scenario of conftest.py (numbers in test_placement.py): chips x (1e15 FLOP/s,
500 W, USD 10,000) and y (2e15, 800 W, USD 30,000), serving efficiency 0.5, metros m1 (1e15 FLOP/s at A)
and m2 (9e15 at C); sites A (PUE 1.5, 0.6 CNY/kWh, 0.5 kg/kWh), B (1.2, 0.4, 0.2), C (1.25, 0.5, 0.8).

Flat-profile identity (the module docstring): with demand_shape = tou = carbon multiplier = 1 and a
constant green_cf, every snapshot serves the same flows, so hourly = annual when each used site draws
the same share of its TDP in both modes, idle + (1 - idle) x u_s = utilisation: idle = utilisation = 1
for any placement, or idle 0.4 with utilisation 0.7 where every used site is half loaded (u = 0.5).
"""

from __future__ import annotations

import numpy as np
import pytest

from workbench import profiles
from workbench.model import Scenario
from workbench.optimize import Study
from workbench.optimize import placement as pl

from .conftest import make_hand_scenario
from .test_placement import LAT1, LAT2, PARAMS


def _flat(monkeypatch, cf: float = 0.25):
    """Flat profiles: ones for demand, tariff and carbon, a constant green capacity factor."""
    ones = lambda rows, snaps: np.ones((len(snaps), len(np.atleast_1d(rows))))  # noqa: E731
    monkeypatch.setattr(profiles, "demand_shape", ones)
    monkeypatch.setattr(profiles, "tou_multiplier", ones)
    monkeypatch.setattr(profiles, "carbon_multiplier", ones)
    monkeypatch.setattr(profiles, "green_cf",
                        lambda source, lon, lat, province, snaps: np.full((len(snaps), len(np.atleast_1d(lon))), cf))


def _with_inventory(sc: Scenario, rows) -> Scenario:
    """``rows``: site -> (x chips, y chips)."""
    inv = np.zeros((3, 2))
    for i, s in enumerate(["A", "B", "C"]):
        inv[i] = rows.get(s, (0, 0))
    return sc.with_inventory(inv)


def _with_green(sc: Scenario, capacity_w, price=0.3, source="solar") -> Scenario:
    site = sc["site"].assign(green_capacity=("site", np.asarray(capacity_w, float)),
                             green_price=("site", np.full(3, price)),
                             green_source=("site", np.array([source] * 3, dtype=object)))
    return sc.with_table("site", site)


# --------------------------------------------------------------------------- brownfield


def test_brownfield_zero_added_serves_installed_capacity():
    # installed: A 10 x (5e15 delivered), B 2 y (2e15): 7e15 < demand 1e16
    sc = _with_inventory(make_hand_scenario(), {"A": (10, 0), "B": (0, 2)})
    space = pl.build_placement_space(sc, **PARAMS, brownfield=True)
    ctx = space.context
    np.testing.assert_allclose(ctx.installed_chips, [10, 2, 0])
    np.testing.assert_allclose(ctx.installed_capacity, [5e15, 2e15, 0])
    np.testing.assert_allclose(ctx.installed_it_power_w, [5000, 1600, 0])
    # A: floor((1e6 - 5,000 x 1.5) / (10 x 500 x 1.5)) = 132 -> 64; C unchanged (no inventory) = 1
    assert space.upper.tolist() == [64, 64, 1, 1, 1, 1]
    st = pl.decode_placement(ctx, np.zeros((1, 6)))
    # round 1: m1 -> A (1e15), m2 -> B (2e15 of 9e15); round 2: m2 -> A (spare 4e15) at 1.834568 ms
    assert st.served[0] == pytest.approx(7e15, rel=1e-12)
    assert st.served_share[0] == pytest.approx(0.7, rel=1e-12)
    assert st.mean_latency_ms[0] == pytest.approx((1e15 * 0.2 + 2e15 * LAT1 + 4e15 * LAT2) / 7e15, rel=1e-12)
    # no capex; energy A 5,000 W x 0.8 x 1.5 x 8,760 h = 52,560 kWh, B 1,600 x 0.8 x 1.2 x 8,760 = 13,455.36
    # cost 52,560 x 0.6 + 13,455.36 x 0.4 = 36,918.144 CNY; CO2 52,560 x 0.5 + 13,455.36 x 0.2 = 28,971.072 kg
    assert st.cost_mcny[0] == pytest.approx(0.036918144, rel=1e-12)
    assert st.co2_kt[0] == pytest.approx(0.028971072, rel=1e-12)
    assert pl.pue_target(ctx, st)[0] == -1.3           # nothing added: the PUE target is for new capacity
    # adding one block of y at B: capex 10 x 30,000 x 7 / 4 = 525,000 CNY/yr; energy 8,000 x 0.8 x 1.2 x 8,760
    # = 67,276.8 kWh x 0.4 = 26,910.72 CNY; B now 1.2e16 delivered: everything served
    st2 = pl.decode_placement(ctx, np.array([[0, 1, 0, 0, 1, 0]]))
    assert st2.cost_mcny[0] == pytest.approx(0.036918144 + 0.525 + 0.02691072, rel=1e-12)
    assert st2.served_share[0] == pytest.approx(1.0)
    assert pl.pue_target(ctx, st2)[0] == pytest.approx(1.2 - 1.3)
    ds = pl.describe_placement(ctx, np.array([[0, 1, 0, 0, 1, 0]]))
    assert ds["installed_chips"].values.tolist() == [10, 2, 0]
    assert ds["chips"].values.tolist() == [[0, 10, 0]]


def test_brownfield_off_ignores_inventory_and_non_candidates_are_reported():
    sc = _with_inventory(make_hand_scenario(), {"A": (10, 0), "C": (8, 0)})
    green = pl.build_placement_space(sc, **PARAMS)
    assert not green.context.installed_chips.any()
    # C: floor((9,000 - 8 x 500 x 1.25) / (10 x 500 x 1.25)) = 0 blocks left
    assert pl.build_placement_space(sc, **PARAMS, brownfield=True).upper.tolist()[:3] == [64, 64, 0]
    space = pl.build_placement_space(sc, **PARAMS, brownfield=True, sites=["A", "B"])
    assert space.attrs["installed_chips"] == 10
    assert space.attrs["installed_chips_ignored"] == 8
    assert space.attrs["installed_ignored_sites"] == "C"


# --------------------------------------------------------------------------- hourly vs annual


X_CASES = np.array([[1, 2, 0, 0, 1, 0],      # all served in one round
                    [1, 0, 1, 0, 0, 0],      # overflow at C, second round to A
                    [1, 0, 0, 0, 0, 0],      # shortage: half served
                    [0, 0, 0, 0, 0, 0]])     # nothing installed (brownfield: the inventory alone)


@pytest.mark.parametrize("brownfield", [False, True])
def test_flat_hourly_equals_annual_at_full_power(monkeypatch, brownfield):
    _flat(monkeypatch, cf=0.25)
    sc = _with_green(_with_inventory(make_hand_scenario(), {"B": (0, 1)}), [2000.0, 0.0, 3000.0], price=0.3)
    common = {**PARAMS, "brownfield": brownfield}
    annual = pl.build_placement_space(sc, **{**common, "utilisation": 1.0}, green=True)
    hourly = pl.build_placement_space(sc, **common, hourly=True, idle_power_share=1.0)
    assert hourly.context.weights_h.sum() == pytest.approx(8760.0)
    a = pl.decode_placement(annual.context, X_CASES)
    h = pl.decode_placement(hourly.context, X_CASES)
    for field in ("cost_mcny", "co2_kt", "served_share", "renewable_share"):
        np.testing.assert_allclose(getattr(h, field), getattr(a, field), rtol=1e-12, err_msg=field)
    np.testing.assert_allclose(h.mean_latency_ms, a.mean_latency_ms, rtol=1e-12)
    np.testing.assert_allclose(h.energy_kwh, a.energy_kwh, rtol=1e-12)
    np.testing.assert_allclose(h.green_kwh, a.green_kwh, rtol=1e-12)
    assert np.any(a.renewable_share > 0)


def test_flat_hourly_equals_annual_at_half_load(monkeypatch):
    # B alone, 2 blocks of y: 2e16 delivered for 1e16 of demand -> u = 0.5 every hour, and
    # 0.4 + 0.6 x 0.5 = 0.7 = the annual utilisation
    _flat(monkeypatch)
    sc = make_hand_scenario()
    annual = pl.build_placement_space(sc, **{**PARAMS, "utilisation": 0.7})
    hourly = pl.build_placement_space(sc, **PARAMS, hourly=True, idle_power_share=0.4)
    X = np.array([[0, 2, 0, 0, 1, 0]])
    a, h = pl.decode_placement(annual.context, X), pl.decode_placement(hourly.context, X)
    # capex 20 x 30,000 x 7 / 4 = 1,050,000; energy 16,000 W x 0.7 x 1.2 x 8,760 h = 117,734.4 kWh x 0.4
    assert a.cost_mcny[0] == pytest.approx(1.05 + 0.04709376, rel=1e-12)
    np.testing.assert_allclose(h.cost_mcny, a.cost_mcny, rtol=1e-12)
    np.testing.assert_allclose(h.co2_kt, a.co2_kt, rtol=1e-12)
    np.testing.assert_allclose(h.mean_latency_ms, [LAT1], rtol=1e-12)
    # half a load more: u = 0.25 at 4 blocks -> 0.55 x TDP, below the annual 0.7
    X4 = np.array([[0, 4, 0, 0, 1, 0]])
    h4 = pl.decode_placement(hourly.context, X4)
    assert h4.energy_kwh[0, 1] == pytest.approx(32_000 * 0.55 * 1.2 * 8.76, rel=1e-12)


def test_weights_give_annual_energy_for_a_flat_load(monkeypatch):
    # real representative days (4 x 24 h, weights 90/92/92/91 days), flat demand, power independent of load
    _flat(monkeypatch)
    snaps, w = profiles.representative_days()
    assert len(snaps) == 96 and w.sum() == pytest.approx(8760.0)
    space = pl.build_placement_space(make_hand_scenario(), **PARAMS, hourly=True, idle_power_share=1.0)
    st = pl.decode_placement(space.context, np.array([[1, 2, 0, 0, 1, 0]]))
    # A 5,000 W x 1.5, B 16,000 W x 1.2 all year
    np.testing.assert_allclose(st.energy_kwh[0], [7_500 * 8.76, 19_200 * 8.76, 0.0], rtol=1e-12)


# --------------------------------------------------------------------------- renewable share by hand


def _one_site(green_capacity_w: float) -> Scenario:
    sites = [{"id": "S", "tier": "metro_edge", "lon": 0.0, "lat": 0.0, "pue": 1.5, "power_price": 0.5,
              "carbon_intensity": 0.6, "province": "Gansu", "green_capacity": green_capacity_w,
              "green_source": "solar", "green_price": 0.3}]
    chips = [{"id": "x", "bf16_flops": 1e15, "hbm": 1e10, "hbm_bw": 1e12, "tdp": 500.0, "price": 10_000.0}]
    devices = [{"id": "m", "lon": 0.0, "lat": 0.0, "endpoints": 1000, "access_tech": "fibre"}]
    return Scenario.from_tables({"site": sites, "chip": chips, "device": devices}, name="one")


def test_renewable_share_by_hand(monkeypatch):
    _flat(monkeypatch)
    # green output at nameplate from 08:00 to 16:00 every day, nothing otherwise
    monkeypatch.setattr(profiles, "green_cf", lambda source, lon, lat, province, snaps: (
        ((snaps.hour >= 8) & (snaps.hour < 16)).astype(float)[:, None] * np.ones(len(np.atleast_1d(lon)))))
    params = dict(chips=["x"], block=10, tokens_per_capita_day=86_400.0, flop_per_token=1e12,
                  serving_efficiency=0.5, lifetime_yr=4.0, usd_to_cny=7.0, layer="optical")
    X = np.array([[1.0]])       # 10 chips: 5e15 delivered for 1e15 of demand -> u = 0.2
    # idle 0: facility power 5,000 W x 0.2 x 1.5 = 1,500 W; green 1,000 W for 8 of 24 h
    sp = pl.build_placement_space(_one_site(1000.0), **params, hourly=True, idle_power_share=0.0)
    st = pl.decode_placement(sp.context, X)
    assert st.renewable_share[0] == pytest.approx(1000 * 8 / (1500 * 24), rel=1e-12)         # 2/9
    # a day: grid 1,500 x 16 + 500 x 8 = 28 kWh, green 8 kWh; x 365 days
    grid, green = 28 * 365, 8 * 365
    capex = 10 * 10_000 * 7 / 4
    assert st.cost_mcny[0] == pytest.approx((capex + grid * 0.5 + green * 0.3) / 1e6, rel=1e-12)
    assert st.co2_kt[0] == pytest.approx(grid * 0.6 / 1e6, rel=1e-12)
    # 3,000 W nameplate: capped at the 1,500 W load in the sun hours -> 1/3
    st3 = pl.decode_placement(pl.build_placement_space(_one_site(3000.0), **params, hourly=True,
                                                       idle_power_share=0.0).context, X)
    assert st3.renewable_share[0] == pytest.approx(1 / 3, rel=1e-12)
    # annual mode at the mean cf 1/3: min(1,000, 1,500 W) / 1,500 W (utilisation 0.2 = the same power)
    ann = pl.decode_placement(pl.build_placement_space(_one_site(3000.0), **params, utilisation=0.2,
                                                     green=True).context, X)
    assert ann.renewable_share[0] == pytest.approx(2 / 3, rel=1e-12)   # ignores the hour-by-hour mismatch
    off = pl.decode_placement(pl.build_placement_space(_one_site(3000.0), **params, green=False).context, X)
    assert off.renewable_share[0] == 0.0
    # the annual (milestone-1) model ignores green power unless asked: its results stay put
    m1 = pl.decode_placement(pl.build_placement_space(_one_site(3000.0), **params, utilisation=0.2).context, X)
    assert m1.renewable_share[0] == 0.0
    what_if = pl.build_placement_space(_one_site(0.0), **params, green_capacity={"S": 3000.0}, utilisation=0.2,
                                      green=True)
    assert pl.decode_placement(what_if.context, X).renewable_share[0] == pytest.approx(2 / 3, rel=1e-12)


def test_study_with_renewable_share(monkeypatch):
    _flat(monkeypatch)
    sc = _with_green(_with_inventory(make_hand_scenario(), {"B": (0, 1)}), [0.0, 20_000.0, 0.0])
    study = Study(space="placement", scenario=sc, space_params={**PARAMS, "brownfield": True, "hourly": True},
                  objectives=["annual_cost", "mean_latency", "annual_co2", "renewable_share"],
                  constraints=["demand_served", "site_power", "pue_target"])
    ev = study.evaluate([[1, 2, 0, 0, 1, 0]])
    share = float(ev["renewable_share"][0])
    assert 0 < share < 1 and ev["renewable_share"].attrs["units"] == "1"


def test_real_profiles_hourly_runs():
    space = pl.build_placement_space(_with_green(make_hand_scenario(), [0.0, 20_000.0, 0.0], source="solar+wind"),
                                     **PARAMS, hourly=True)
    st = pl.decode_placement(space.context, X_CASES)
    assert np.all(np.isfinite(st.cost_mcny)) and np.all((st.renewable_share >= 0) & (st.renewable_share <= 1))
    # one block of x at A (5e15) for a mean 1e16: annual serves half; hourly serves min(5e15, demand_t), less
    # than half where night demand is below 5e15
    assert st.served_share[2] < 0.5
