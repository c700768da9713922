"""Embodied plugin: miss probabilities against closed forms and Monte Carlo, placements, energy and traffic by hand.

Every expected value below is computed by hand (or by scipy quadrature of the defining integral), never taken
from the code under test.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate
from scipy.stats import norm
from workbench_embodied.analyses import build_groups
from workbench_embodied.dist import (
    AccessDist,
    EmbodiedError,
    expected_lateness,
    miss_probability,
    parse_access,
    sample_loop,
    wilson_interval,
)
from workbench_embodied.model import EmbodiedParams, access_dist, class_table, inference_ms, load_table

import workbench as wb
from workbench.cli import main

FIBRE = 0.0049  # ms/km one way (FIGURES 2)


# ---------------------------------------------------------------------- distributions


def test_quantile_fit_by_hand():
    # median 8 ms, p99 20 ms, shift 1 ms: sigma = ln(19/7) / z_0.99, mu = ln 7 (FIGURES-M2 2.5 modelling note)
    d = parse_access("median=8ms,p99=20ms,shift=1ms")
    assert d.sigma == pytest.approx(math.log(19 / 7) / 2.326348, rel=1e-6)
    assert d.mu == pytest.approx(math.log(7.0), rel=1e-12)
    # the example: 99.9% within 6 ms and 99.999% within 10 ms reproduce both quantiles
    e = parse_access("99.9%<=6ms,99.999%<=10ms")
    assert e.cdf(6.0) == pytest.approx(0.999, abs=1e-12)
    assert e.cdf(10.0) == pytest.approx(0.99999, abs=1e-12)
    assert e.sigma == pytest.approx(math.log(10 / 6) / (norm.ppf(0.99999) - norm.ppf(0.999)), rel=1e-9)


def test_miss_is_the_lognormal_closed_form_plus_constants():
    d = parse_access("median=8ms,p99=20ms,shift=1ms")
    c, D = 5.5, 30.0
    # P(c + shift + LN(mu, sigma) > D) = 1 - Phi((ln(D - c - shift) - mu) / sigma)
    expected = 1 - norm.cdf((math.log(D - c - 1.0) - math.log(7.0)) / (math.log(19 / 7) / norm.ppf(0.99)))
    assert float(miss_probability(d, c, D)) == pytest.approx(expected, rel=1e-9)
    # a constant at or beyond the deadline misses surely; an unreachable site (inf) too
    assert float(miss_probability(d, D - 1.0, D)) == 1.0
    assert float(miss_probability(d, np.inf, D)) == 1.0


def test_mixture_tail_by_hand():
    d = AccessDist.from_quantiles(0.5, 10, 0.99, 60, shift=1, tail_share=0.1, tail_median=100, tail_p99=500)
    t = 150.0
    body = 1 - norm.cdf((math.log(t - 1) - d.mu) / d.sigma)
    tail = 1 - norm.cdf((math.log(t - 1) - math.log(99)) / (math.log(499 / 99) / norm.ppf(0.99)))
    assert float(d.sf(t)) == pytest.approx(0.9 * body + 0.1 * tail, rel=1e-12)
    assert float(d.quantile(d.cdf(t))) == pytest.approx(t, rel=1e-6)


def test_queue_wait_and_handover_closed_forms():
    const = AccessDist.constant(2.0)
    # constant access + wait (atom 1 - p, else Exp(theta)): P(miss) = p exp(-theta (D - c - 2))
    p, theta, c, D = 0.3, 0.4, 1.0, 10.0
    assert float(miss_probability(const, c, D, p, theta)) == pytest.approx(p * math.exp(-theta * 7.0), rel=1e-3)
    # constant access + handover (w.p. q a Uniform(0, h) wait): P(miss) = q (1 - x / h), x = D - c - 2
    q, h = 0.2, 50.0
    assert float(miss_probability(const, c, D, 0.0, np.inf, q, h)) == pytest.approx(q * (1 - 7.0 / h), rel=1e-3)
    # E[(W - b)^+] = p exp(-theta b) / theta
    assert float(expected_lateness(const, c, D, p, theta)) == pytest.approx(p * math.exp(-theta * 7) / theta,
                                                                             rel=1e-3)


def test_lognormal_plus_wait_against_quadrature():
    d = parse_access("median=8ms,p99=20ms,shift=1ms")
    p, theta, c, D = 0.5, 0.2, 4.0, 33.0
    # P(A + W > D - c) = (1 - p) sf_A(D - c) + p * integral_0^inf theta e^{-theta w} sf_A(D - c - w) dw
    integral, _ = integrate.quad(lambda w: theta * math.exp(-theta * w) * float(d.sf(D - c - w)), 0, np.inf,
                                 limit=200)
    expected = (1 - p) * float(d.sf(D - c)) + p * integral
    assert float(miss_probability(d, c, D, p, theta)) == pytest.approx(expected, rel=2e-4)


@pytest.mark.parametrize("case", [(0.3, 0.5, 0.0, 0.0), (0.0, np.inf, 0.2, 50.0), (0.5, 0.2, 0.1, 30.0)])
def test_monte_carlo_within_its_interval(case):
    pw, th, ph, h = case
    d = parse_access("99.9%<=6ms,99.999%<=10ms")
    rng = np.random.default_rng(7)
    n = 400_000
    x = sample_loop(d, 2.0, n, rng, pw, th, ph, h)
    k = int((x > 10.0).sum())
    lo, hi = wilson_interval(k, n, z=3.29)      # 99.9% interval: three cases must not fail by chance
    assert lo <= float(miss_probability(d, 2.0, 10.0, pw, th, ph, h)) <= hi
    late = np.maximum(x - 10.0, 0).mean()
    assert float(expected_lateness(d, 2.0, 10.0, pw, th, ph, h)) == pytest.approx(late, rel=0.05, abs=1e-4)


def test_bad_access_specs_say_what_was_expected():
    with pytest.raises(EmbodiedError, match="exactly two quantile pairs"):
        parse_access("median=5ms")
    with pytest.raises(EmbodiedError, match=r"cannot read 'p99<20ms'"):
        parse_access("median=5ms,p99<20ms")
    with pytest.raises(EmbodiedError, match="shift < t1 < t2"):
        parse_access("median=5ms,p99=20ms,shift=6ms")


# ---------------------------------------------------------------------- scenarios


def _line(length_km, cls="arm", devices=1000.0, chips=64, tech=None):
    """An access PoP and one metro-edge site with accelerators, joined by one fibre of ``length_km``."""
    sites = [{"id": "pop", "tier": "pop", "lon": 100.0, "lat": 30.0, "access": "yes"},
             {"id": "edge", "tier": "metro_edge", "lon": 100.5, "lat": 30.0, "access": "no"}]
    links = [{"id": "l1", "src": "pop", "dst": "edge", "length": float(length_km), "tech": "otn"}]
    dev = [{"id": "g", "class": cls, "lon": 100.0, "lat": 30.0, "endpoints": devices, "spread": 0.0,
            "access_tech": tech or class_table().loc[cls, "access_tech"]}]
    inv = [{"site": "edge", "chip": "h100-sxm", "installed": chips}]
    chips_tbl = wb.load_dataset("chips").to_dataframe().reset_index().rename(columns={"chip": "id"})
    return wb.Scenario.from_tables({"site": sites, "link": links, "device": dev, "inventory": inv, "chip": chips_tbl},
                                   name="embodied-line")


def _one_way_ms(sc):
    from workbench.paths import group_site_latency

    lat, _ = group_site_latency(sc, sites=np.array([1]), include_access=False)
    return float(lat[0, 0])


def test_motion_control_is_infeasible_beyond_what_light_covers():
    cls = class_table().loc["arm"]
    D = float(cls["deadline"])
    km_light = D / 2 / FIBRE                    # the round trip alone uses the whole deadline
    for km, sure in ((km_light * 1.01, True), (km_light * 1.5, True), (50.0, False)):
        sc = _line(km)
        ds = wb.analyze("offload", sc, classes="arm", population="scenario")
        m = float(ds["miss_probability"].sel(option="edge")[0])
        if sure:
            assert m == 1.0, km
            # the control panel's loop is remote by definition: nothing meets the target that far away
            assert not bool(ds["best_meets_target"][0])
        else:
            assert m < 1e-6, km


def test_on_device_wins_when_no_remote_path_meets_the_deadline():
    far = _line(11_000.0, cls="agv", devices=50.0)      # 2 x 11,000 km x 4.9 us/km = 108 ms > 100 ms
    near = _line(10.0, cls="agv", devices=50.0)
    f = wb.analyze("offload", far, classes="agv", population="scenario")
    n = wb.analyze("offload", near, classes="agv", population="scenario")
    assert float(f["miss_probability"].sel(option="edge")[0]) == 1.0 and f["best_option"].values[0] == "device"
    # close by, the edge is on time far more often; the best option is the least device energy among those
    # meeting the target (the AGV's 1e-6 is out of reach of public 5G's tail, so the device still wins)
    assert float(n["miss_probability"].sel(option="edge")[0]) < 1e-3
    e = n["energy_per_decision"].isel(group=0)
    assert n["best_option"].values[0] == str(e.where(n["meets_target"].isel(group=0)).idxmin("option").values)
    h = wb.analyze("offload", _line(10.0, cls="humanoid", devices=50.0), classes="humanoid", population="scenario")
    assert h["best_option"].values[0] in ("edge", "split") and not bool(h["meets_target"].sel(option="device")[0])


def test_editing_a_link_changes_the_answer():
    short = wb.analyze("offload", _line(200.0, cls="humanoid", devices=50.0), classes="humanoid",
                       population="scenario")
    long_ = wb.analyze("offload", _line(1200.0, cls="humanoid", devices=50.0), classes="humanoid",
                       population="scenario")
    a = float(short["miss_probability"].sel(option="edge")[0])
    b = float(long_["miss_probability"].sel(option="edge")[0])
    assert a < b
    la = float(short["latency_mean"].sel(option="edge")[0])
    lb = float(long_["latency_mean"].sel(option="edge")[0])
    assert lb - la == pytest.approx(2 * 1000 * FIBRE, rel=1e-6)   # two traversals of 1,000 km more fibre


def test_edge_miss_is_the_closed_form_of_its_parts():
    sc = _line(100.0, cls="arm", devices=10.0)
    ds = wb.analyze("offload", sc, classes="arm", population="scenario")
    p = EmbodiedParams()
    cls = class_table().loc["arm"]
    t_inf = float(ds["inference_time"].sel(option="edge")[0])
    tx = (cls["request_bytes"] * 8 / p.uplink_bps + cls["response_bytes"] * 8 / p.downlink_bps) * 1e3
    c = 2 * _one_way_ms(sc) + tx + t_inf + p.processing_ms
    d = access_dist(cls["access_tech"])
    # 10 arms offer ~0 erlangs on 6 chips: no wait; the arm does not move: no handover
    assert float(ds["queue_wait_mean"].sel(option="edge")[0]) < 1e-9
    assert float(ds["miss_probability"].sel(option="edge")[0]) == pytest.approx(float(d.sf(cls["deadline"] - c)),
                                                                               rel=1e-6, abs=1e-15)
    assert float(ds["latency_mean"].sel(option="edge")[0]) == pytest.approx(c + d.mean(), rel=1e-6)


def test_energy_and_uplink_by_hand():
    sc = _line(100.0, cls="agv", devices=400.0)
    ds = wb.analyze("offload", sc, classes="agv", population="scenario")
    cls = class_table().loc["agv"]
    chip = load_table("device_chips").loc[cls["device_chip"]]
    t_dev = inference_ms(cls["model"], cls["device_chip"])
    assert float(ds["energy_per_decision"].sel(option="device")[0]) == pytest.approx(chip["power"] * t_dev / 1e3)
    lat = float(ds["latency_mean"].sel(option="edge")[0])
    assert float(ds["energy_per_decision"].sel(option="edge")[0]) == pytest.approx(cls["radio_power"] * lat / 1e3)
    bits = 400 * cls["active_share"] * cls["policy_hz"] * cls["request_bytes"] * 8
    assert float(ds["uplink"].sel(option="edge")[0]) == pytest.approx(bits)
    assert float(ds["uplink"].sel(option="device")[0]) == 0.0
    best = ds["best_option"].values[0]
    assert float(ds["site_uplink"].sel(site="pop")) == pytest.approx(float(ds["uplink"].sel(option=best)[0]))


def test_roofline_stand_in_by_hand():
    pm = load_table("policy_models").loc["pi0"]
    dc = load_table("device_chips")
    ref = dc.loc[pm["ref_chip"]]
    # on the reference chip the stand-in returns the measured latency
    assert inference_ms("pi0", pm["ref_chip"]) == pytest.approx(pm["ref_latency"])
    # on another chip: roofline ratio x the measured latency
    thor = dc.loc["jetson-agx-thor"]
    roof = max(pm["flops_per_inference"] / thor["flops"], pm["bytes_per_inference"] / thor["mem_bw"])
    roof_ref = max(pm["flops_per_inference"] / ref["flops"], pm["bytes_per_inference"] / ref["mem_bw"])
    assert inference_ms("pi0", "jetson-agx-thor") == pytest.approx(pm["ref_latency"] * roof / roof_ref)


def test_overloaded_site_misses_surely_and_queue_uses_whole_servers():
    # 2 H100 at 10% share -> 1 reserved chip; 50,000 humanoids at 30 Hz cannot be served
    sc = _line(50.0, cls="humanoid", devices=50_000.0, chips=2)
    ds = wb.analyze("offload", sc, classes="humanoid", population="scenario")
    assert float(ds["miss_probability"].sel(option="edge")[0]) == 1.0
    assert float(ds["latency_mean"].sel(option="edge")[0]) == np.inf
    # by hand: 50,000 x 0.5 active x 30 Hz x the inference time [s] erlangs on 1 chip x its batch servers
    t = float(ds["inference_time"].sel(option="edge")[0]) / 1e3
    assert 50_000 * 0.5 * 30 * t > 8
    # without queueing (unlimited accelerators) the same loop is a latency question only
    free = wb.analyze("offload", sc, classes="humanoid", population="scenario", queueing=False)
    assert float(free["miss_probability"].sel(option="edge")[0]) < 0.5


def test_loads_follow_the_choices():
    """A group that runs on its device does not load the edge: a small group sharing the site with a large one
    sees only its own load when the large one stays on its devices."""
    sc = _line(50.0, cls="humanoid", devices=50.0, chips=64)
    agv = {"id": "h", "class": "agv", "lon": 100.0, "lat": 30.0, "endpoints": 100_000.0, "spread": 0.0,
           "access_tech": "5g"}
    both = sc.with_rows("device", [agv])
    ds = wb.analyze("offload", both, classes="robot", population="scenario")
    assert ds["best_option"].sel(group="h").item() == "device"          # AGVs meet 1e-6 only on their devices
    alone = wb.analyze("offload", sc, classes="humanoid", population="scenario")
    assert float(ds["miss_probability"].sel(group="g", option="edge")) == pytest.approx(
        float(alone["miss_probability"].sel(option="edge")[0]), rel=1e-9)
    assert ds.attrs["assignment_passes"] == 2


def _two_metros(n_a, n_b, installed=50):
    sites = [{"id": "pa", "tier": "pop", "lon": 100.0, "lat": 30.0, "access": "yes"},
             {"id": "pb", "tier": "pop", "lon": 102.0, "lat": 30.0, "access": "yes"},
             {"id": "edge", "tier": "metro_edge", "lon": 100.1, "lat": 30.0, "access": "no"}]
    links = [{"id": "l1", "src": "pa", "dst": "edge", "length": 20.0, "tech": "otn"},
             {"id": "l2", "src": "pb", "dst": "edge", "length": 300.0, "tech": "otn"}]
    dev = [{"id": x, "class": "humanoid", "lon": lon, "lat": 30.0, "endpoints": n, "spread": 0.0,
            "access_tech": "5g-a"} for x, lon, n in (("a", 100.0, n_a), ("b", 102.0, n_b))]
    chips_tbl = wb.load_dataset("chips").to_dataframe().reset_index().rename(columns={"chip": "id"})
    return wb.Scenario.from_tables({"site": sites, "link": links, "device": dev, "chip": chips_tbl,
                                    "inventory": [{"site": "edge", "chip": "h100-sxm", "installed": installed}]},
                                   name="two")


def test_admission_is_first_fit():
    """A big near group that does not fit is refused; a small far group behind it still gets the pool."""
    ds = wb.analyze("offload", _two_metros(200.0, 20.0), classes="humanoid", population="scenario")
    t = float(ds["inference_time"].sel(group="a", option="edge")) / 1e3
    assert 200 * 0.5 * 30 * t > 0.9 * 5 > 20 * 0.5 * 30 * t        # by hand: a needs > 4.5 chips, b < 4.5
    assert ds["best_option"].sel(group="b").item() in ("edge", "split") and bool(ds["admitted"].sel(group="b"))
    # a does not fit anywhere in the pool: placed on its first usable option but not admitted (not served)
    assert not bool(ds["admitted"].sel(group="a")) and not bool(ds["best_meets_target"].sel(group="a"))
    assert float(ds["utilisation"].sel(site="edge", pool="control")) <= 0.9 + 1e-9


def test_options_reaching_one_site_share_its_chips():
    """edge and split both reach the one edge site: the groups admitted through either load the same chips, and
    together they stay within 90% of them (by hand from the class's rate, active share and escalation share)."""
    sc = _two_metros(60.0, 60.0, installed=80)                   # 8 reserved chips
    ds = wb.analyze("offload", sc, classes="humanoid", population="scenario")
    share = {"edge": 1.0, "split": 0.25}
    busy = sum(60 * 0.5 * 30 * share[o] * float(ds["inference_time"].sel(group=gid, option=o)) / 1e3
               for gid, o in zip(ds["group"].values, ds["best_option"].values) if o in share)
    assert 0 < busy <= 0.9 * 8 + 1e-9


def test_pools_admit_nearest_groups_up_to_the_cap():
    """Two metros share one edge site with room for one of them: the nearer one is admitted, the other takes its
    next preference (its device or a miss), and the admitted load stays within 90% of the reserved chips."""
    sites = [{"id": "pa", "tier": "pop", "lon": 100.0, "lat": 30.0, "access": "yes"},
             {"id": "pb", "tier": "pop", "lon": 102.0, "lat": 30.0, "access": "yes"},
             {"id": "edge", "tier": "metro_edge", "lon": 100.1, "lat": 30.0, "access": "no"}]
    links = [{"id": "l1", "src": "pa", "dst": "edge", "length": 20.0, "tech": "otn"},
             {"id": "l2", "src": "pb", "dst": "edge", "length": 300.0, "tech": "otn"}]
    dev = [{"id": x, "class": "humanoid", "lon": lon, "lat": 30.0, "endpoints": 60.0, "spread": 0.0,
            "access_tech": "5g-a"} for x, lon in (("a", 100.0), ("b", 102.0))]
    chips_tbl = wb.load_dataset("chips").to_dataframe().reset_index().rename(columns={"chip": "id"})
    # 10 H100 -> 1 reserved chip; a 60-humanoid metro keeps 60 x 0.5 x 30 Hz x ~4.7 ms = 4.2 chips busy
    sc = wb.Scenario.from_tables({"site": sites, "link": links, "device": dev, "chip": chips_tbl,
                                  "inventory": [{"site": "edge", "chip": "h100-sxm", "installed": 50}]}, name="two")
    ds = wb.analyze("offload", sc, classes="humanoid", population="scenario")
    chips = 5                                                   # round(0.1 x 50)
    busy = 60 * 0.5 * 30 * float(ds["inference_time"].sel(group="a", option="edge")) / 1e3
    assert busy <= 0.9 * chips < 2 * busy                       # room for exactly one metro
    assert ds["best_option"].sel(group="a").item() == "edge" and bool(ds["admitted"].sel(group="a"))
    assert not bool(ds["admitted"].sel(group="b")) or ds["best_option"].sel(group="b").item() not in ("edge", "split")
    assert float(ds["utilisation"].sel(site="edge", pool="control")) <= 0.9 * 1.0 + 1e-9


def test_chunking_softens_misses():
    sc = _line(300.0, cls="humanoid", devices=50.0)
    ds = wb.analyze("offload", sc, classes="humanoid", population="scenario")
    cls = class_table().loc["humanoid"]
    slack = (cls["chunk_steps"] - cls["action_hz"] / cls["policy_hz"]) / cls["action_hz"] * 1e3
    assert float(ds["slack"][0]) == pytest.approx(slack)
    m = ds["miss_probability"].sel(option="edge")
    s = ds["stall_probability"].sel(option="edge")
    st = ds["safety_stop_probability"].sel(option="edge")
    assert float(st[0]) <= float(s[0]) <= float(m[0])
    assert float(ds["decision_rate"].sel(option="edge")[0]) == pytest.approx(cls["policy_hz"] * (1 - float(m[0])))


def test_groups_derived_from_residents_by_hand():
    sc = wb.load_scenario("china-edwc")
    g = build_groups(sc, classes="humanoid", population="residents")
    dev = sc["device"]
    per = class_table().loc["humanoid", "per_1000_people"]
    assert len(g) == dev.sizes["device"]
    assert g["devices"].sum() == pytest.approx(float(dev["endpoints"].sum()) * per / 1000)
    with pytest.raises(EmbodiedError, match="unknown device class 'robto'"):
        build_groups(sc, classes="robto")


def test_deadline_calculator_cli(capsys):
    # P(access > 10 - 2 x 1 - 2) = P(access > 6 ms) = 0.1% exactly by the fit
    assert main(["embodied", "deadline", "--access", "99.9%<=6ms,99.999%<=10ms", "--path-ms", "1",
                 "--inference-ms", "2", "--deadline-ms", "10", "--json"]) == 0
    import json

    out = json.loads(capsys.readouterr().out)
    assert out["miss_probability"] == pytest.approx(1e-3, rel=1e-9)
    assert out["access_fit"]["sigma"] == pytest.approx(math.log(10 / 6) / (norm.ppf(0.99999) - norm.ppf(0.999)))
    assert main(["embodied", "deadline", "--access", "median=5ms", "--deadline-ms", "10"]) == 2
    assert "exactly two quantile pairs" in capsys.readouterr().err


def test_monte_carlo_analysis_agrees():
    sc = _line(400.0, cls="humanoid", devices=3000.0, chips=64)
    ds = wb.analyze("deadlines", sc, classes="humanoid", population="scenario", placement="edge",
                    method="monte_carlo", samples=200_000, seed=3)
    assert float(ds["mc_low"][0]) <= float(ds["miss_probability"][0]) <= float(ds["mc_high"][0])


def test_device_attributes_override_the_class():
    sc = _line(50.0, cls="humanoid", devices=50.0)
    pinned = sc.with_rows("device", [{"id": "p", "class": "humanoid", "lon": 100.0, "lat": 30.0, "endpoints": 50.0,
                                      "spread": 0.0, "access_tech": "5g-a", "embodied_hz": 10.0,
                                      "embodied_placement": "hub"}])
    ds = wb.analyze("offload", pinned, classes="humanoid", population="scenario")
    assert float(ds["policy_hz"].sel(group="p")) == 10.0 and float(ds["deadline"].sel(group="p")) == 100.0
    assert float(ds["policy_hz"].sel(group="g")) == 30.0
    # no hub site in this network: the pinned group cannot meet its target, and says so
    assert ds["best_option"].sel(group="p").item() == "hub" and not bool(ds["best_meets_target"].sel(group="p"))


def test_a_short_deadline_keeps_its_resolution_next_to_a_long_one():
    d = access_dist("5g-a")
    args = (0.3, 1 / 3, 0.2, 20.0)
    both = miss_probability(d, 2.0, np.array([15.0, 2000.0]), *args)
    assert both[0] == pytest.approx(float(miss_probability(d, 2.0, 15.0, *args)), rel=1e-12)
    rng = np.random.default_rng(11)
    x = sample_loop(d, 2.0, 1_000_000, rng, *args)
    lo, hi = wilson_interval(int((x > 15.0).sum()), x.size, z=3.29)
    assert lo <= both[0] <= hi


def test_bad_catalogue_values_name_file_row_and_field(tmp_path, monkeypatch):
    import shutil

    import workbench_embodied.model as model

    src = model._path("device_classes.csv").parent
    for f in src.glob("*.csv"):
        shutil.copy(f, tmp_path / f.name)
    path = tmp_path / "device_classes.csv"
    text = path.read_text(encoding="utf-8")
    monkeypatch.setattr(model, "_path", lambda name: tmp_path / name)
    model._read.cache_clear()
    try:
        import pandas as pd

        df = pd.read_csv(path, dtype=str, keep_default_na=False)
        df.loc[df["id"] == "agv", "miss_target [1]"] = "-0.5"
        df.to_csv(path, index=False)
        with pytest.raises(EmbodiedError, match=r"device_classes.csv: class 'agv', field 'miss_target': expected a "
                                                r"number from 0 to 1 \[1\], got -0.5"):
            class_table()
        path.write_text(text.replace("humanoid,Humanoid", "humanoid,Humanoid", 1).replace(",30,", ",thirty,", 1),
                        encoding="utf-8")
        model._read.cache_clear()
        with pytest.raises(EmbodiedError, match=r"device_classes.csv: row \d+ \(\w+\), field 'policy_hz': expected a "
                                                r"number \[Hz\], got 'thirty'"):
            class_table()
    finally:
        model._read.cache_clear()


def test_remote_only_classes_get_no_device_option():
    ds = wb.analyze("offload", _line(50.0, cls="drone-c2", devices=10.0), classes="drone-c2", population="scenario")
    assert float(ds["miss_probability"].sel(option="device")[0]) == 1.0
    assert ds["best_option"].values[0] != "device"


def test_a_network_without_accelerators_still_answers():
    sites = [{"id": "a", "tier": "pop", "lon": 100.0, "lat": 30.0}, {"id": "b", "tier": "pop", "lon": 101.0, "lat": 30.0}]
    links = [{"id": "l", "src": "a", "dst": "b", "length": 100.0}]
    dev = [{"id": "g", "class": "agv", "lon": 100.0, "lat": 30.0, "endpoints": 10.0, "spread": 0.0}]
    sc = wb.Scenario.from_tables({"site": sites, "link": links, "device": dev}, name="bare")
    with pytest.warns(wb.WorkbenchWarning, match="cannot serve any group"):
        ds = wb.analyze("offload", sc, classes="agv", population="scenario")
    assert ds["best_option"].values[0] == "device"
    assert (ds["miss_probability"].sel(option=["edge", "regional", "hub", "split"]) == 1).all()
    # accelerators at an access PoP (an imported topology has no other tier) make it an edge site
    chips_tbl = wb.load_dataset("chips").to_dataframe().reset_index().rename(columns={"chip": "id"})
    sc2 = wb.Scenario.from_tables({"site": sites, "link": links, "device": dev, "chip": chips_tbl,
                                   "inventory": [{"site": "b", "chip": "h100-sxm", "installed": 80}]}, name="pops")
    with pytest.warns(wb.WorkbenchWarning, match="regional, hub cannot serve"):
        ds2 = wb.analyze("offload", sc2, classes="agv", population="scenario")
    assert ds2["serving_site"].sel(option="edge").values[0] == "b"


def test_queue_and_admission_measure_load_alike_when_batches_mix():
    """Two models share a pool of 10 chips: A at 1,000 req/s x 1 ms, batch 1; B at 10 req/s x 2.5 s, batch 32.
    Chips kept busy = 1 + 10 x 2.5 / 32 = 1.78125; erlangs = 1 + 25 = 26; servers = floor(10 x 26 / 1.78125) = 145;
    utilisation = 26 / 145 (by hand), close to chips busy / chips, and nobody waits for ever."""
    from workbench_embodied.analyses import _own_assigned, _pool_loads, _queue

    geo = {"pool": np.array([0, 0]), "lam": np.array([1000.0, 10.0]), "t_inf": np.array([1.0, 2500.0]),
           "batch": np.array([1.0, 32.0])}
    assigned = np.array([0, 0])
    loads = _pool_loads(1, [(0, geo)], assigned)
    assert loads["cs"][0] == pytest.approx(1.78125)
    pw, theta, util = _queue(geo, loads, assigned == 0, np.array([10.0]), _own_assigned(2, [(0, geo)], assigned))
    assert util[0] == pytest.approx(26 / 145)
    assert (pw < 1).all() and np.isfinite(theta).all()


def test_remote_only_groups_are_never_put_on_their_device():
    # 2 million control-panel arms at 125 Hz on one reserved chip: the pool cannot take them all
    sc = _line(50.0, cls="arm", devices=2_000_000.0, chips=10)
    ds = wb.analyze("offload", sc, classes="arm", population="scenario")
    assert ds["best_option"].values[0] != "device"


def test_the_study_counts_what_offload_reports():
    from workbench_embodied.study import build_space, evaluate_solution

    sc = wb.load_scenario("china-edwc")
    ds = wb.analyze("offload", sc, classes="humanoid")
    missing = float((ds["devices"] * ~ds["best_meets_target"]).sum())
    sp = build_space(sc, classes="humanoid")
    assert evaluate_solution(sp.context, ())["missing"] == pytest.approx(missing, rel=1e-9)
