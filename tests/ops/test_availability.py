"""Ops plugin: closed forms of availability, protection, shared risk, autonomy chains, Monte Carlo, security.

Hand calculations use the tabled defaults of ``datasets/ops`` (stage times, automation shares) and the
scenario parameters' defaults; each test says which.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from workbench_ops.analyses import availability_analysis, security_analysis
from workbench_ops.engine import (
    analytic,
    demand_downtime,
    monte_carlo,
    simulate_elements,
    state_enumeration,
    union_measure,
)
from workbench_ops.model import OpsError, OpsParams, build_chain, guardrail_effects, parse_guardrails, parse_levels
from workbench_ops.system import H_PER_YEAR, build_base, build_system

from workbench.errors import WorkbenchError, WorkbenchWarning
from workbench.model import Scenario

#: L0 restore chain without physical repair: all four stages by people (30 + 60 + 15 + 30 min, stages.csv)
#: plus the on-call wait (30 min) outside working hours (14 of 24 h)
L0_CHAIN_H = (30 + 60 + 15 + 30) / 60 + 14 / 24 * 0.5
QUIET = {"software_fault_rate": 0.0, "change_rate": 0.0}      # only fibre cuts (sites never fail: ops_mtbf inf)


def scenario(links, demands, srg=None, sites=("a", "b", "c")):
    """Sites on a line of longitudes; links (src, dst, length km); demands (src, dst, protection)."""
    st = [{"id": s, "tier": "pop", "lon": 100 + i, "lat": 30.0, "ops_mtbf": math.inf} for i, s in enumerate(sites)]
    lk = [{"id": f"{a}-{b}", "src": a, "dst": b, "length": km, "ops_srg": (srg or {}).get(f"{a}-{b}", "")}
          for a, b, km in links]
    dm = [{"id": f"d{i}", "src": a, "dst": b, "traffic": 1e9, "protection": p, "people": 1000}
          for i, (a, b, p) in enumerate(demands)]
    return Scenario.from_tables({"site": st, "link": lk, "demand": dm}, name="ops-test")


def fibre_a(km, level=0, rate=2.13):
    """Availability of a fibre of ``km`` at the default cut rate: 1 / (1 + lambda R)."""
    lam = rate * km / 1000 / H_PER_YEAR
    R = {0: L0_CHAIN_H}[level] + 12.0
    return 1 / (1 + lam * R), lam, R


def test_l0_chain_is_the_hand_sum_and_higher_levels_restore_faster():
    p = OpsParams()
    assert build_chain("fibre_cut", "transport", 0, p).mean() == pytest.approx(L0_CHAIN_H, rel=1e-12)
    # L4: system awareness 2 min (0.99), analysis 5 min (0.9), decision 1 min (0.9), execution 2 min (0.9),
    # else escalation 15 min and people with the system's tools from that stage on
    sw = [build_chain("software", "ip", lv, p).mean() for lv in range(6)]
    assert all(b <= a + 1e-12 for a, b in zip(sw, sw[1:]))          # never slower with more autonomy
    assert sw[4] < 0.5 * sw[0]


def test_one_repairable_element_is_mtbf_over_mtbf_plus_mttr():
    sc = scenario([("a", "b", 1000.0)], [("a", "b", "none")], sites=("a", "b"))
    ds = availability_analysis(sc, autonomy="L0", params=QUIET)
    A, lam, R = fibre_a(1000.0)
    mtbf = 1 / lam
    assert float(ds["availability"].sel(demand="d0")) == pytest.approx(mtbf / (mtbf + R), rel=1e-12)
    assert float(ds["mttr_h"].sel(fault_class="fibre_cut")) == pytest.approx(R, rel=1e-12)
    assert float(ds["downtime_min_per_year"].sel(demand="d0")) == pytest.approx((1 - A) * 525_600, rel=1e-12)


def test_series_multiplies():
    sc = scenario([("a", "b", 300.0), ("b", "c", 700.0)], [("a", "c", "none")])
    ds = availability_analysis(sc, autonomy="L0", params=QUIET)
    assert float(ds["availability"].sel(demand="d0")) == pytest.approx(fibre_a(300)[0] * fibre_a(700)[0], rel=1e-12)


def triangle(protection, srg=None):
    # a-c direct (500 km) is the working path, a-b-c (400 + 400 km) the backup
    return scenario([("a", "b", 400.0), ("b", "c", 400.0), ("a", "c", 500.0)], [("a", "c", protection)], srg=srg)


def test_one_plus_one_is_parallel_plus_switching_seconds():
    ds = availability_analysis(triangle("1+1"), autonomy="L0", params=QUIET)
    Aw, lam_w, Rw = fibre_a(500)
    Ab = fibre_a(400)[0] ** 2
    t = 0.05 / 3600                                                   # 50 ms switch (G.873.1)
    u_par = (1 - Aw) * (1 - Ab)
    u_sw = Aw * lam_w * Ab * t                                        # every outage outlasts 50 ms: E[min(t, D)] = t
    u = 1 - float(ds["availability"].sel(demand="d0"))
    assert u == pytest.approx(u_par + u_sw, rel=1e-9)
    # the switch itself costs seconds a year (about 1.07 cuts/yr x 50 ms)...
    assert u_sw * H_PER_YEAR * 3600 == pytest.approx(2.13 * 0.5 * Aw * Ab * 0.05, rel=1e-12)
    # ... where the same path without a backup (a single link a-c) is down for hours: 1 - Aw of the year
    with pytest.warns(WorkbenchWarning, match="1 protected demand.* no disjoint backup path"):
        alone = availability_analysis(scenario([("a", "c", 500.0)], [("a", "c", "1+1")], sites=("a", "c")),
                                      autonomy="L0", params=QUIET)
    assert float(alone["downtime_min_per_year"].sel(demand="d0")) == pytest.approx((1 - Aw) * 525_600, rel=1e-12)
    assert (1 - Aw) * H_PER_YEAR == pytest.approx(2.13 * 0.5 * Rw * Aw, rel=1e-12)   # ~15.5 h a year


def test_shared_risk_group_caps_a_diverse_pair():
    srg = {"a-c": "bridge", "b-c": "bridge"}
    ds = availability_analysis(triangle("1+1", srg), autonomy="L0", params=QUIET)
    base = build_base(triangle("1+1", srg), params=OpsParams(**QUIET))
    assert base.backup_kind[0] == "node-disjoint"       # no SRG-disjoint path exists
    Asrg = 1 / (1 + 0.5 / H_PER_YEAR * (L0_CHAIN_H + 12.0))          # ops_srg_rate 0.5/yr, ops_srg_mttr 12 h
    a = float(ds["availability"].sel(demand="d0"))
    assert a <= Asrg
    Aw, Ab = fibre_a(500)[0], fibre_a(400)[0] ** 2
    assert a == pytest.approx(Asrg * (1 - (1 - Aw) * (1 - Ab)), rel=1e-6)
    # without the shared group the same pair is far more available
    free = float(availability_analysis(triangle("1+1"), autonomy="L0", params=QUIET)["availability"].sel(demand="d0"))
    assert 1 - free < 0.05 * (1 - a)


def test_analytic_matches_state_enumeration():
    p = OpsParams(software_fault_rate=0.0, change_rate=0.0, protection_switch_ms=0.0, restoration_s=0.0)
    sc = scenario([("a", "b", 400.0), ("b", "c", 400.0), ("a", "c", 500.0)],
                  [("a", "c", "1+1"), ("a", "b", "restoration"), ("b", "c", "1+1")], srg={"a-b": "duct"})
    base = build_base(sc, params=p)
    sys_ = build_system(base, "L1", (), p, attacks=False)
    sys_ = sys_.subsystem(sys_.rate_per_h > 0)
    np.testing.assert_allclose(analytic(sys_)["unavailability"], state_enumeration(sys_), rtol=1e-9)


def test_union_measure_closed_form():
    g = np.array([0, 0, 0, 1, 1])
    s = np.array([0.0, 1.0, 5.0, 2.0, 2.5])
    e = np.array([2.0, 3.0, 6.0, 4.0, 3.0])
    m, mg, ms, me = union_measure(g, s, e, 3, 10.0, return_merged=True)
    np.testing.assert_allclose(m, [4.0, 2.0, 0.0])
    np.testing.assert_array_equal(mg, [0, 0, 1])
    np.testing.assert_allclose(ms, [0.0, 5.0, 2.0])
    np.testing.assert_allclose(me, [3.0, 6.0, 4.0])


@pytest.mark.parametrize("protection", ["none", "1+1", "restoration"])
def test_monte_carlo_interval_covers_analytic(protection):
    # failure-rich: 60 cuts per 1,000 km-year so that 20 x 10 years pin the availability down
    params = {**QUIET, "fibre_cut_rate": 60.0}
    sc = triangle(protection)
    ds = availability_analysis(sc, method="monte-carlo", autonomy="L3", params=params, years=10, replications=20,
                               seed=3)
    an = float(ds["availability_analytic"].sel(demand="d0"))
    lo, hi = float(ds["availability_ci95_low"].sel(demand="d0")), float(ds["availability_ci95_high"].sel(demand="d0"))
    assert lo <= an <= hi
    assert hi - lo < 0.2 * (1 - an) + 1e-6                          # the interval is informative
    mttr = ds["mttr_h"].sel(fault_class="fibre_cut")
    assert float(ds["mttr_h_simulated"].sel(fault_class="fibre_cut")) == pytest.approx(float(mttr), rel=0.03)


def test_same_seed_same_result_and_seeds_differ():
    sc = triangle("none")
    p = OpsParams(**QUIET, fibre_cut_rate=30.0)
    sys_ = build_system(build_base(sc, params=p), "L2", (), p, attacks=False)
    a = monte_carlo(sys_, years=5, replications=4, seed=11)["per_replication"]
    b = monte_carlo(sys_, years=5, replications=4, seed=11)["per_replication"]
    c = monte_carlo(sys_, years=5, replications=4, seed=12)["per_replication"]
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


@pytest.mark.slow
def test_same_seed_same_result_on_dask():
    distributed = pytest.importorskip("distributed")
    sc = triangle("restoration")
    p = OpsParams(**QUIET, fibre_cut_rate=30.0)
    sys_ = build_system(build_base(sc, params=p), "L2", (), p, attacks=False)
    serial = monte_carlo(sys_, years=5, replications=4, seed=5)["per_replication"]
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cl, \
            distributed.Client(cl) as client:
        par = monte_carlo(sys_, years=5, replications=4, seed=5, client=client)["per_replication"]
    np.testing.assert_array_equal(serial, par)


def test_restoration_window_is_exact_in_simulation():
    """A 1 h outage of the working path with the backup up costs exactly the restoration time."""
    p = OpsParams(**QUIET, restoration_s=90.0)
    sys_ = build_system(build_base(triangle("restoration"), params=p), "L2", (), p, attacks=False)
    from workbench_ops.engine import Intervals

    ac = int(np.flatnonzero(sys_.element_id == "link:a-c")[0])
    ab = int(np.flatnonzero(sys_.element_id == "link:a-b")[0])
    # working path a-c down [10, 11], [100, 102], [200, 201]; backup link a-b down [100.2, 100.5] (after the
    # 90 s = 0.025 h window of the second outage) and [200.01, 200.3] (inside the third one's window)
    iv = Intervals(np.array([ac, ac, ac, ab, ab]), np.array([10.0, 100.0, 200.0, 100.2, 200.01]),
                   np.array([11.0, 102.0, 201.0, 100.5, 200.3]))
    down, outages = demand_downtime(sys_, iv, 1000.0, np.random.default_rng(0))
    assert outages[0] == 3
    # first: the window, 0.025 h; second: the window + the backup's 0.3 h outage (both paths down) = 0.325 h;
    # third: down from 200 until the backup is back at 200.3 (window [200, 200.025] inside it) = 0.3 h
    assert down[0] == pytest.approx(0.025 + 0.325 + 0.3, abs=1e-12)
    per, _ = demand_downtime(sys_, iv, 1000.0, np.random.default_rng(0), period_h=150.0)
    np.testing.assert_allclose(per[:, 0], [0.35, 0.3, 0.0, 0.0, 0.0, 0.0, 0.0], atol=1e-12)   # 150 h periods


def test_editing_a_link_changes_the_answer():
    sc = scenario([("a", "b", 300.0), ("b", "c", 700.0)], [("a", "c", "none")])
    before = float(availability_analysis(sc, autonomy="L2", params=QUIET)["availability"].sel(demand="d0"))
    longer = sc.with_rows("link", [{"id": "b-c", "src": "b", "dst": "c", "length": 1400.0}], replace=True)
    after = float(availability_analysis(longer, autonomy="L2", params=QUIET)["availability"].sel(demand="d0"))
    assert after < before


def test_china_l4_beats_l2_and_reports_every_fault_class():
    import workbench as wb

    sc = wb.load_scenario("china-edwc")
    base = build_base(sc)
    l2 = availability_analysis(sc, autonomy="L2", base=base)
    l4 = availability_analysis(sc, autonomy="L4", base=base)
    assert float(l4["availability_mean"]) > float(l2["availability_mean"])
    assert float(l4["operator_hours_per_year"]) < float(l2["operator_hours_per_year"])
    for c in ("fibre_cut", "node_hw", "software", "change"):
        assert float(l4["mttr_h"].sel(fault_class=c)) <= float(l2["mttr_h"].sel(fault_class=c)) + 1e-9
    assert l2.sizes["metro"] > 300 and l2.sizes["demand"] == base.demand_ids.size
    s = json.loads(l2.attrs["summary_json"])
    assert {"overall", "fibre_cut", "node_hw", "software", "change"} <= set(s["mean_time_to_restore_h"])


# ------------------------------------------------------------------------------------------- security

def test_p_compromise_hand_calculation():
    sc = triangle("none")
    ds = security_analysis(sc, autonomy="L4", guardrails=["none", "tool_filtering"])
    # two domain agents (transport: the links; ip: the pop-tier sites; no data-centre or radio elements here),
    # defaults of the ops_* parameters
    lam = 2 * 200 * 365 * 1e-5 * 0.24
    assert float(ds["p_compromise"].sel(guardrail_set="none")) == pytest.approx(1 - math.exp(-lam), rel=1e-12)
    lam_tf = lam * 0.43                             # tool filtering: ASR x 0.43 (7.5% / 17.6%, LlamaFirewall)
    assert float(ds["p_compromise"].sel(guardrail_set="tool_filtering")) == pytest.approx(1 - math.exp(-lam_tf),
                                                                                         rel=1e-12)


def test_guardrails_cut_damage_and_people_in_the_loop_add_nothing_where_people_decide():
    sc = triangle("none")
    l4 = security_analysis(sc, autonomy="L4")
    none = float(l4["expected_damage"].sel(guardrail_set="none"))
    assert none > 0
    for g in l4["guardrail_set"].values:
        if g != "none":
            # a guardrail that catches nothing on this 3-link network (blast radius: cap 2 of 3 links) may add
            # a hair through slower legitimate remediation (damage = U with attacks - U without, not additive)
            assert float(l4["expected_damage"].sel(guardrail_set=g)) <= none * 1.001
    assert float(l4["expected_damage"].sel(guardrail_set="all")) < 0.1 * none
    assert float(l4["expected_damage"].sel(guardrail_set="human_in_loop")) < none
    l2 = security_analysis(sc, autonomy="L2", guardrails=["none", "human_in_loop"])
    assert float(l2["expected_damage"].sel(guardrail_set="human_in_loop")) == pytest.approx(
        float(l2["expected_damage"].sel(guardrail_set="none")), rel=1e-12)
    # people deciding at L2 catch what L4 lets through
    assert float(l2["expected_damage"].sel(guardrail_set="none")) < none


def test_blast_radius_caps_what_an_agent_touches():
    p = OpsParams(**QUIET)
    base = build_base(triangle("none"), params=p)
    free = build_system(base, "L4", (), p)
    capped = build_system(base, "L4", ("blast_radius",), p)
    shut = [i for i, e in enumerate(free.element_id) if e.endswith(":shut")]
    assert max(free.cover[:, i].nnz for i in shut) == 3                 # all three links in scope
    shut_c = [i for i, e in enumerate(capped.element_id) if e.endswith(":shut")]
    assert max(capped.cover[:, i].nnz for i in shut_c) == 2             # reach_cap 2 (guardrails.csv)


def test_adaptive_attacker_weakens_detector_guardrails_only():
    p = OpsParams()
    static = guardrail_effects(("two_agent_approval", "intent_verification"), p)
    adaptive = guardrail_effects(("two_agent_approval", "intent_verification"), p.replace(adaptive_attacker=1.0))
    # intent verification is deterministic (kept); two-agent approval is a detector (keeps 10%)
    assert static["miss"]["shut"] == pytest.approx((1 - 0.6) * (1 - 0.76))
    assert adaptive["miss"]["shut"] == pytest.approx((1 - 0.6) * (1 - 0.076))


def test_guardrail_delays_slow_legitimate_remediation():
    p = OpsParams()
    plain = build_chain("software", "ip", 4, p).mean()
    slowed = build_chain("software", "ip", 4, p, guardrail_effects(("human_in_loop",), p)).mean()
    # closed form: an automated remediation happens when no stage escalates (0.9 x 0.46 x 0.9 x 0.55); a share
    # ops_high_impact_share = 0.2 of those waits for a human decision (15 min) and, being people, for the
    # on-call call-out outside working hours (14 of 24 h x 30 min)
    p_auto = 0.9 * 0.46 * 0.9 * 0.55
    assert slowed - plain == pytest.approx(p_auto * 0.2 * (15 / 60 + 14 / 24 * 0.5), rel=1e-12)
    # at L3 people already decide: no second approval
    l3 = build_chain("software", "ip", 3, p)
    assert build_chain("software", "ip", 3, p, guardrail_effects(("human_in_loop",), p)).mean() == l3.mean()


# ------------------------------------------------------------------------------------------- input

def test_bad_inputs_name_what_was_expected():
    with pytest.raises(OpsError, match="unknown guardrail 'nope'"):
        parse_guardrails("nope")
    with pytest.raises(OpsError, match="expected 0-5"):
        parse_levels("L7")
    with pytest.raises(OpsError, match="unknown domain"):
        parse_levels("optical=3")
    with pytest.raises(WorkbenchError, match=r"demand\[d0\]\.protection"):
        scenario([("a", "b", 10.0)], [("a", "b", "2+2")], sites=("a", "b"))
    with pytest.raises(OpsError, match="method"):
        availability_analysis(triangle("none"), method="exact")


def test_cli_json_keys(capsys):
    from workbench.cli import main

    assert main(["ops", "--autonomy", "L4", "--guardrails", "all", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    d = out["demands"][0]
    assert {"id", "availability", "ci95", "downtime_min_per_year"} <= set(d)
    assert "overall" in out["mean_time_to_restore_h"] and "fibre_cut" in out["mean_time_to_restore_h"]
    assert {"none", "all", "blast_radius"} <= set(out["security"])
    assert {"availability", "expected_damage", "p_compromise"} <= set(out["security"]["all"])


def test_read_only_agent_does_no_harm_and_scope_limits_reach():
    base_sc = triangle("none")
    agents = [{"id": "reader", "role": "ops", "autonomy_level": 4, "ops_domain": "transport", "ops_actions": "none"},
              {"id": "writer", "role": "ops", "autonomy_level": 4, "ops_domain": "transport", "ops_actions": "shut",
               "ops_scope": "site=b"}]
    sc = base_sc.with_rows("agent", agents)
    p = OpsParams(**QUIET)
    sys_ = build_system(build_base(sc, params=p), "L4", (), p)
    harmful = [e for e in sys_.element_id if e.startswith("attack:")]
    assert harmful == ["attack:writer:shut"]                        # the reader has no harmful action
    i = int(np.flatnonzero(sys_.element_id == "attack:writer:shut")[0])
    touched = sorted(sys_.base.link_ids[sys_.cover[:, i].nonzero()[0]])
    assert touched == ["a-b", "b-c"]                                # links with an end in its scope (site b)


def test_compute_faults_and_metro_interval():
    import workbench as wb

    sc = wb.load_scenario("china-edwc")
    base = build_base(sc)
    ds = availability_analysis(sc, autonomy="L4", base=base, method="monte-carlo", years=2, replications=3)
    chips = ds["chips"].values
    np.testing.assert_allclose(ds["chip_failures_per_year"].values, chips * 1.206e-5 * H_PER_YEAR)
    assert (ds["metro_availability_ci95_low"] <= ds["metro_availability_ci95_high"]).all()
    # transceivers come from the optical plugin's fabric counts where a preset packs the chips
    assert float(ds["transceivers"].sum()) > 0


def test_simulated_history_respects_the_horizon():
    p = OpsParams(**QUIET, fibre_cut_rate=500.0)
    sys_ = build_system(build_base(triangle("none"), params=p), "L2", (), p, attacks=False)
    iv = simulate_elements(sys_, 1000.0, np.random.default_rng(0))
    assert iv.element.size > 30                                    # ~52 expected: 3 x 1000 h / (43.8 + 13.3 h)
    assert (iv.start < 1000.0).all() and (iv.end <= 1000.0).all() and (iv.end > iv.start).all()
    # intervals of one element never overlap (alternating renewal)
    for e in np.unique(iv.element):
        s, t = iv.start[iv.element == e], iv.end[iv.element == e]
        o = np.argsort(s)
        assert (s[o][1:] >= t[o][:-1]).all()


def test_simulated_attack_damage_matches_the_analytic_expectation():
    # frequent attacks on the triangle so that 2,000 simulated years pin the mean down
    ds = security_analysis(triangle("none"), autonomy="L4", guardrails=["none", "blast_radius"], method="monte-carlo",
                           years=2000, params={"attack_prevalence": 1e-3})
    for g in ("none", "blast_radius"):
        an = float(ds["expected_damage"].sel(guardrail_set=g))
        assert float(ds["damage_simulated_mean"].sel(guardrail_set=g)) == pytest.approx(an, rel=0.1)
        assert float(ds["damage_p99"].sel(guardrail_set=g)) > an


def test_downtime_per_period_adds_up_to_the_whole():
    p = OpsParams(**QUIET, fibre_cut_rate=300.0)
    for prot in ("none", "restoration"):
        sys_ = build_system(build_base(triangle(prot), params=p), "L1", (), p, attacks=False)
        iv = simulate_elements(sys_, 5 * H_PER_YEAR, np.random.default_rng(1))
        whole, _ = demand_downtime(sys_, iv, 5 * H_PER_YEAR, np.random.default_rng(2))
        per, _ = demand_downtime(sys_, iv, 5 * H_PER_YEAR, np.random.default_rng(2), period_h=H_PER_YEAR)
        assert per.shape == (5, 1)
        np.testing.assert_allclose(per.sum(0), whole, rtol=1e-9)


def test_scenario_file_with_demands_srgs_and_a_scoped_agent(scenarios_dir):
    import workbench as wb

    sc = wb.load_scenario(scenarios_dir / "ops-ring" / "scenario.yaml")
    assert float(sc["demand"]["traffic"].sel(demand="a-c")) == 10e9          # Gbit/s in the header -> bit/s
    assert sc.parameters["ops_fibre_mttr"] == 8.0
    base = build_base(sc)
    # a-c: working a-b-c (250 km) or a-d-c (235 km): a-d-c is shorter; b-c shares the bridge with d-a, so
    # no SRG-disjoint backup exists and the backup a-b-c is node-disjoint only
    assert base.backup_kind.tolist() == ["node-disjoint", "node-disjoint"]
    ds = availability_analysis(sc, autonomy="L3")
    bridge = build_system(base, "L3", (), OpsParams.from_scenario(sc), attacks=False)
    assert "srg:bridge-7" in bridge.element_id and "srg:grid-feed-1" in bridge.element_id
    A_bridge = float(bridge.availability()[bridge.element_id == "srg:bridge-7"][0])
    assert (ds["availability"] <= A_bridge).all()                           # both demands cross the bridge
    sec = security_analysis(sc, autonomy="L4", guardrails=["none"])
    assert float(sec["p_compromise"].sel(guardrail_set="none")) == pytest.approx(1 - math.exp(-50 * 365 * 1e-5 * 0.24), rel=1e-12)


def test_study_objectives_equal_the_security_analysis():
    from workbench_ops import study

    sc = triangle("none")
    space = study.build_space(sc, params=QUIET)
    assert space.n_var == 4 + 6
    X = np.array([[4, 4, 4, 4, 0, 0, 0, 0, 0, 0], [2, 2, 2, 2, 1, 1, 1, 1, 1, 1]], float)
    d = space.decode(space.context, X)
    assert d[1][1] == parse_guardrails("all")
    sec = security_analysis(sc, autonomy="L4", guardrails=["none"], params=QUIET)
    sec = sec.sel(guardrail_set="none")
    assert study.unavailability(space.context, d)[0] == pytest.approx(1 - float(sec["availability"]), rel=1e-12)
    assert study.damage(space.context, d)[0] == pytest.approx(float(sec["expected_damage"]), rel=1e-12)
    assert study.cost(space.context, d)[0] == pytest.approx(float(sec["operating_cost"]), rel=1e-12)


def test_manual_operations_have_no_agent_to_manipulate():
    ds = security_analysis(triangle("none"), autonomy="L0", guardrails=["none", "all"])
    assert (ds["p_compromise"] == 0).all() and (ds["expected_damage"] == 0).all()
    # no agents: no agent cost and no guardrail cost per agent (staged rollout still stops a few of people's bad
    # changes at the canary, which saves a few incident hours)
    assert float(ds["operating_cost"].sel(guardrail_set="all")) == pytest.approx(
        float(ds["operating_cost"].sel(guardrail_set="none")), rel=1e-6)


@pytest.mark.parametrize("level", ["L0", "L2", "L4"])
def test_monte_carlo_covers_analytic_where_reprovisioning_competes_with_repair(level):
    """Software faults (restored remotely in about as long as re-provisioning takes) on the inner sites of
    a square: E[min(T, D)] matters, and the analytic engine integrates it instead of assuming D exponential."""
    sc = scenario([("a", "b", 100.0), ("b", "c", 100.0), ("a", "d", 100.0), ("d", "c", 100.0)], [("a", "c", "none")],
                  sites=("a", "b", "c", "d"))
    ds = availability_analysis(sc, method="monte-carlo", autonomy=level, years=10, replications=20, seed=1,
                               params={"fibre_cut_rate": 0.0, "change_rate": 0.0, "software_fault_rate": 50.0})
    an = float(ds["availability_analytic"].sel(demand="d0"))
    assert float(ds["availability_ci95_low"].sel(demand="d0")) <= an <= float(ds["availability_ci95_high"].sel(demand="d0"))


def test_parameter_overrides_are_checked():
    with pytest.raises(OpsError, match=r"ops_change_bad_prob = 5: expected 0 to 1 \[1\]"):
        OpsParams.from_scenario(None, change_bad_prob=5)
    with pytest.raises(OpsError, match="ops_fibre_cut_rate = -3"):
        OpsParams.from_scenario(None, ops_fibre_cut_rate=-3)
    with pytest.raises(OpsError, match="unknown ops parameter 'nope'; expected one of ops_fibre_cut_rate"):
        OpsParams.from_scenario(None, nope=1)


def test_bad_agent_scope_names_the_agent():
    sc = triangle("none").with_rows("agent", [{"id": "x", "role": "ops", "autonomy_level": 4, "ops_domain": "ip",
                                               "ops_scope": "site=zz"}])
    with pytest.raises(OpsError, match=r"agent\[x\]\.ops_scope = 'site=zz': 'zz' is not a site"):
        security_analysis(sc, guardrails=["none"])


def test_staged_rollout_and_blast_radius_on_pushes_and_changes():
    p = OpsParams(**{**QUIET, "change_rate": 12.0})
    base = build_base(triangle("none"), params=p)
    plain = build_system(base, "L4", (), p)
    staged = build_system(base, "L4", ("staged_rollout",), p)
    capped = build_system(base, "L4", ("blast_radius",), p)

    def el(sys_, name):
        i = int(np.flatnonzero(sys_.element_id == name)[0])
        return sys_.rate_per_h[i], sys_.cover[:, i].nnz

    lam, n = el(plain, "attack:ops-transport:push")
    assert n == 3                                                     # every link of the domain
    # staged rollout (catch 0.9 at a 2% canary, guardrails.csv): 10% goes fleet-wide, 90% stops at the canary
    assert el(staged, "attack:ops-transport:push")[0] == pytest.approx(0.1 * lam, rel=1e-12)
    assert el(staged, "attack:ops-transport:push:canary") == (pytest.approx(0.9 * lam, rel=1e-12), 1)
    # ... and the same split for people's and agents' honest bad changes (12 a year, 1% bad)
    lam_c = 12 * 0.01 / H_PER_YEAR
    assert el(plain, "change:transport") == (pytest.approx(lam_c), 3)
    assert el(staged, "change:transport")[0] == pytest.approx(0.1 * lam_c)
    assert el(staged, "change:transport:canary")[0] == pytest.approx(0.9 * lam_c)
    # a blast-radius limit (2 elements) caps pushes and changes too
    assert el(capped, "attack:ops-transport:push")[1] == 2
    # an honest bad change reaches one batch of at most 2 links (batches of the fleet equally likely)
    batches = [e for e in capped.element_id if e.startswith("change:transport:batch")]
    assert len(batches) == 2 and all(el(capped, b)[1] <= 2 for b in batches)
    assert sum(el(capped, b)[0] for b in batches) == pytest.approx(lam_c, rel=1e-12)
    # agent-only guardrails do not touch honest changes
    other = build_system(base, "L4", ("two_agent_approval", "intent_verification", "human_in_loop"), p)
    assert el(other, "change:transport")[0] == pytest.approx(lam_c)


def test_reach_matrix_is_exact_for_a_chain_of_hand_offs():
    import pandas as pd
    from workbench_ops.system import reach_matrix

    agents = pd.DataFrame({"agent": ["a", "b", "c"]})
    p = np.zeros((3, 3))
    p[0, 1], p[1, 2] = 0.3, 0.5
    R = reach_matrix(agents, p, seed=0)
    np.testing.assert_allclose(R, [[1, 0.3, 0.15], [0, 1, 0.5], [0, 0, 1]], atol=1e-15)
    assert np.array_equal(R, reach_matrix(agents, p, seed=99))           # exact: no dependence on the seed


def test_domain_agents_only_where_the_domain_has_elements_and_levels_bound_scenario_agents():
    p = OpsParams(**QUIET)
    sc = triangle("none")
    sys4 = build_system(build_base(sc, params=p), "L4", (), p)
    assert sorted(sys4.agent_table["agent"]) == ["ops-ip", "ops-transport"]       # no dc or radio elements
    withagent = sc.with_rows("agent", [{"id": "bot", "role": "ops", "autonomy_level": 4, "ops_domain": "transport"}])
    b = build_base(withagent, params=p)
    assert build_system(b, "transport=2,ip=2,dc=2,radio=2", (), p).agent_table["level"].tolist() == [2]
    assert len(build_system(b, "L0", (), p).agent_table) == 0


def test_compute_faults_little_law():
    from workbench_ops.analyses import compute_faults

    import workbench as wb

    sc = wb.load_scenario("china-edwc")
    p = OpsParams.from_scenario(sc)
    sys_ = build_system(build_base(sc, params=p), "L4", (), p, attacks=False)
    cf = compute_faults(sc, sys_)
    R = build_chain("chip", "dc", 4, p).mean(crew=True) + 48.0
    assert float(cf["chip_mttr_h"]) == pytest.approx(R, rel=1e-12)
    lam = cf["chips"].values * 1.206e-5 + cf["transceivers"].values * 4.12e-7
    np.testing.assert_allclose(cf["chips_out_mean"].values, np.minimum(lam * R * 8, cf["chips"].values))


def test_round_the_clock_staff_never_wait_for_on_call():
    p = OpsParams(work_start_h=0.0, work_end_h=24.0)
    assert p.off_hours_share == 0.0
    assert build_chain("fibre_cut", "transport", 0, p).mean() == pytest.approx((30 + 60 + 15 + 30) / 60, rel=1e-12)
    assert OpsParams(work_start_h=8.0, work_end_h=18.0).off_hours_share == pytest.approx(14 / 24)
    assert OpsParams(work_start_h=22.0, work_end_h=6.0).off_hours_share == pytest.approx(16 / 24)   # a night shift


def test_study_memo_tells_scenarios_apart():
    from workbench_ops import study

    a = study.build_space(triangle("none"), params=QUIET)
    b = study.build_space(triangle("none", srg={"a-b": "duct", "b-c": "duct"}), params=QUIET)
    assert a.context["token"] != b.context["token"]
    X = np.array([[4, 4, 4, 4, 0, 0, 0, 0, 0, 0]], float)
    ua = study.unavailability(a.context, a.decode(a.context, X))[0]
    ub = study.unavailability(b.context, b.decode(b.context, X))[0]
    assert ub > ua                                                   # the duct is one more shared failure


def test_scoped_agent_push_canary_lies_in_its_scope():
    sc = triangle("none").with_rows("agent", [{"id": "bot", "role": "ops", "autonomy_level": 4,
                                               "ops_domain": "transport", "ops_scope": "site=c", "ops_actions": "push"}])
    p = OpsParams(**QUIET)
    s = build_system(build_base(sc, params=p), "L4", ("staged_rollout",), p)
    i = int(np.flatnonzero(s.element_id == "attack:bot:push:canary")[0])
    hit = sorted(s.base.link_ids[s.cover[:, i].nonzero()[0]])
    assert len(hit) == 1 and hit[0] in ("b-c", "a-c")               # one link with an end at site c


def test_traffic_clock_weights_downtime_by_the_hour():
    from workbench_ops.engine import Intervals, TrafficClock

    prof = np.r_[np.zeros(8), np.full(8, 2.0), np.ones(8)]           # night 0, day 2, evening 1: mean 1
    p = OpsParams(**QUIET, restoration_s=90.0)
    one = build_system(build_base(scenario([("a", "b", 100.0)], [("a", "b", "none")], sites=("a", "b")), params=p),
                       "L2", (), p, attacks=False)
    lk = int(np.flatnonzero(one.element_id == "link:a-b")[0])
    iv = Intervals(np.array([lk, lk, lk]), np.array([0.0, 8.0, 20.0]), np.array([8.0, 10.0, 32.0]))
    plain, _ = demand_downtime(one, iv, 100.0, np.random.default_rng(0))
    weighted, _ = demand_downtime(one, iv, 100.0, np.random.default_rng(0), clock=TrafficClock(prof[None, :]))
    assert plain[0] == pytest.approx(8 + 2 + 12)
    assert weighted[0] == pytest.approx(0 + 2 * 2 + 4 * 1 + 8 * 0)     # [20, 24) evening, [24, 32) night
    # with a backup: the 90 s restoration window of an outage at 10 h counts double (day traffic)
    tri = build_system(build_base(triangle("restoration"), params=p), "L2", (), p, attacks=False)
    ac = int(np.flatnonzero(tri.element_id == "link:a-c")[0])
    iv2 = Intervals(np.array([ac]), np.array([10.0]), np.array([11.0]))
    w2, _ = demand_downtime(tri, iv2, 100.0, np.random.default_rng(0), clock=TrafficClock(prof[None, :]))
    assert w2[0] == pytest.approx(2 * 90 / 3600)


def test_hourly_traffic_profile_from_the_time_axis():
    import pandas as pd
    from workbench_ops.system import hourly_profile

    sc = Scenario.from_tables({
        "site": [{"id": "a", "tier": "pop", "lon": 100.0, "lat": 30.0}, {"id": "b", "tier": "hub", "lon": 101.0,
                                                                          "lat": 30.0}],
        "link": [{"id": "a-b", "src": "a", "dst": "b", "length": 100.0}],
        "chip": [{"id": "x", "bf16_flops": 1e15, "hbm": 1e11, "hbm_bw": 1e12, "tdp": 500.0}],
        "inventory": [{"site": "b", "chip": "x", "installed": 10}],
        "device": [{"id": "g", "lon": 100.0, "lat": 30.0, "endpoints": 1000.0, "demand": 1.0}]}, name="t")
    idx = pd.date_range("2026-01-01", periods=48, freq="h")
    sc = sc.with_snapshots(idx).with_series(
        "device", "demand", pd.DataFrame({"g": np.where(idx.hour < 12, 0.5, 1.5)}, index=idx))
    prof = hourly_profile(sc)
    np.testing.assert_allclose(prof, [np.r_[np.full(12, 0.5), np.full(12, 1.5)]])
    base = build_base(sc, demands="devices")
    np.testing.assert_allclose(base.traffic_profile, prof)
    ds = availability_analysis(sc, method="monte-carlo", demands="devices", years=2, replications=3,
                               params={"fibre_cut_rate": 500.0})
    assert ds.attrs["traffic_lost_method"].startswith("hour-of-day traffic")
    assert float(ds["traffic_lost_tb_per_year"]) > 0
