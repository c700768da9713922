"""The ``availability`` and ``security`` analyses of the ops plugin."""

from __future__ import annotations

import json
import math

import numpy as np
import xarray as xr

from .engine import MIN_PER_YEAR, analytic, monte_carlo
from .model import DOMAINS, OpsError, OpsParams, parse_guardrails, parse_levels
from .system import H_PER_YEAR, Base, FaultSystem, build_base, build_system

#: people sent to a physical repair (fibre splice, card swap) [1]; assumed: a two-person crew
CREW = 2.0

METHODS = ("analytic", "monte-carlo")


def _params(scenario, params: dict | None) -> OpsParams:
    return OpsParams.from_scenario(scenario, **(params or {}))


def _client(client):
    if client is None or client is False:
        return None, False
    from workbench.distributed import get_client

    return get_client(None if client is True or client == "local" else client)


def operations(system: FaultSystem, failures_per_year: np.ndarray) -> dict:
    """People hours and operating cost per year of one operating point."""
    ph2 = np.array([[c.people_hours(False), c.people_hours(True)] for c in system.chains]).reshape(-1, 2)
    ph = ph2[system.chain_index, (system.phys_h > 0).astype(int)]
    hours = float((failures_per_year * (ph + CREW * system.phys_h)).sum())
    p = system.params
    # domains run with agents: L1 and up, with elements to operate
    agents = sum(1 for d in system.present_domains if system.levels[d] >= 1)
    n_agents = len(system.agent_table) if len(system.agent_table) else agents
    cost = hours * p.wage_cny_per_h + agents * p.agent_cost_cny_per_year \
        + system.effects["cost_per_agent"] * n_agents
    return {"operator_hours_per_year": hours, "operating_cost_cny_per_year": cost}


def _mttr_by_class(system: FaultSystem, res: dict) -> dict:
    fpy = res["failures_per_year"]
    R = res["element_mttr_h"]
    out = {}
    for c in np.unique(system.fault_class):
        m = system.fault_class == c
        w = fpy[m].sum()
        out[c] = float((fpy[m] * R[m]).sum() / w) if w > 0 else float("nan")
    w = fpy.sum()
    out["overall"] = float((fpy * R).sum() / w) if w > 0 else float("nan")
    return out


def compute_faults(scenario, system: FaultSystem) -> xr.Dataset | None:
    """Chip and transceiver failures inside the supernodes of each site with compute (analytic).

    Chips per site from the inventory, transceivers from the optical plugin's ``fabric`` analysis where it
    is installed (else none counted). A chip failure takes its fault domain (``ops_chip_fault_domain``
    chips, a server) out of service until restored through the data-centre domain's chain plus the
    physical swap (``ops_chip_mttr``); the expected number out of service is failures in flight x fault
    domain (Little's law)."""
    inv = scenario.inventory.fillna(0.0).sum("chip")
    chips = inv.values.astype(float)
    keep = chips > 0
    if not keep.any():
        return None
    site_ids = inv["site"].values[keep]
    import workbench as wb
    from workbench.errors import WorkbenchError

    trx = np.zeros(keep.sum())
    note = "optical plugin not installed: no transceivers counted"
    if "fabric" in wb.list_analyses():
        try:
            fab = wb.analyze("fabric", scenario)
            trx = fab["transceivers"].reindex(site=site_ids).fillna(0.0).values.astype(float)
            note = (f"transceivers from the optical plugin's fabric analysis ({float(fab['unmodelled_chips'].sum()):,.0f} "
                    "chips without a supernode preset have none counted)")
        except WorkbenchError as err:   # a scenario the optical plugin cannot pack still gets chip figures
            note = f"optical plugin could not pack the inventory ({err}); no transceivers counted"
    p = system.params
    from .model import build_chain

    ch = build_chain("chip", "dc", system.levels["dc"], p, system.effects)
    R = ch.mean(crew=True) + p.chip_mttr                # someone swaps the server: on-call applies
    lam_c = chips[keep] * p.chip_failure_rate
    lam_t = trx * p.transceiver_failure_rate
    out_chips = (lam_c + lam_t) * R * p.chip_fault_domain
    ds = xr.Dataset(coords={"compute_site": site_ids})
    ds["chips"] = ("compute_site", chips[keep], {"units": "1", "long_name": "installed chips"})
    ds["transceivers"] = ("compute_site", trx, {"units": "1", "long_name": "optical transceivers (optical plugin)"})
    ds["chip_failures_per_year"] = ("compute_site", lam_c * H_PER_YEAR, {"units": "1/a", "long_name": "chip failures"})
    ds["transceiver_failures_per_year"] = ("compute_site", lam_t * H_PER_YEAR,
                                          {"units": "1/a", "long_name": "transceiver failures"})
    ds["chips_out_mean"] = ("compute_site", np.minimum(out_chips, chips[keep]),
                            {"units": "1", "long_name": "chips out of service (mean)"})
    ds["compute_availability"] = ("compute_site", 1 - np.minimum(out_chips / chips[keep], 1.0),
                                  {"units": "1", "long_name": "share of chips in service"})
    ds["chip_mttr_h"] = ((), R, {"units": "h", "long_name": "mean time to restore a chip's fault domain"})
    ds.attrs["transceivers_note"] = note
    return ds


def _demand_dataset(system: FaultSystem, u: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> xr.Dataset:
    b: Base = system.base
    ds = xr.Dataset(coords={"demand": b.demand_ids})
    ds["src"] = ("demand", b.site_ids[b.demand_src], {"long_name": "site where the demand enters"})
    ds["dst"] = ("demand", b.site_ids[b.demand_dst], {"long_name": "site where the demand leaves"})
    ds["protection"] = ("demand", b.protection, {"long_name": "protection (none, 1+1, restoration)"})
    ds["backup"] = ("demand", b.backup_kind, {"long_name": "backup path found"})
    ds["demand_metro"] = ("demand", b.metro, {"long_name": "metro served"})
    ds["traffic"] = ("demand", b.traffic_bps, {"units": "bit/s", "long_name": "traffic"})
    ds["people"] = ("demand", b.people, {"units": "1", "long_name": "people served"})
    ds["availability"] = ("demand", 1 - u, {"units": "1", "long_name": "availability"})
    ds["availability_ci95_low"] = ("demand", 1 - hi, {"units": "1", "long_name": "availability, 95% CI low"})
    ds["availability_ci95_high"] = ("demand", 1 - lo, {"units": "1", "long_name": "availability, 95% CI high"})
    ds["downtime_min_per_year"] = ("demand", u * MIN_PER_YEAR, {"units": "min/a", "long_name": "downtime"})
    return ds


def _metro(ds: xr.Dataset, per_rep: np.ndarray | None = None) -> xr.Dataset:
    """People-weighted availability per metro (with a 95% CI over the replications of a Monte Carlo run)."""
    people = ds["people"].values
    m = ds["demand_metro"].values.astype(str)
    keep = (m != "") & (people > 0)
    if not keep.any():
        return xr.Dataset()
    metros, inv = np.unique(m[keep], return_inverse=True)
    w = people[keep]
    tot = np.bincount(inv, weights=w)
    u = 1 - ds["availability"].values[keep]
    out = xr.Dataset(coords={"metro": metros})
    out["metro_people"] = ("metro", tot, {"units": "1", "long_name": "people"})
    out["metro_availability"] = ("metro", 1 - np.bincount(inv, weights=w * u) / tot,
                                 {"units": "1", "long_name": "availability (people-weighted)"})
    if per_rep is not None:
        from scipy import stats

        U = per_rep[:, keep]
        um = np.stack([np.bincount(inv, weights=w * row) / tot for row in U])      # replication x metro
        half = stats.t.ppf(0.975, U.shape[0] - 1) * um.std(0, ddof=1) / math.sqrt(U.shape[0])
        mean = um.mean(0)
        out["metro_availability_ci95_low"] = ("metro", 1 - np.minimum(mean + half, 1.0),
                                              {"units": "1", "long_name": "availability, 95% CI low"})
        out["metro_availability_ci95_high"] = ("metro", 1 - np.maximum(mean - half, 0.0),
                                               {"units": "1", "long_name": "availability, 95% CI high"})
    return out


def _weighted(ds, weight: str) -> float:
    w = ds[weight].values
    if w.sum() <= 0:
        return float(ds["availability"].mean())
    return float((w * ds["availability"].values).sum() / w.sum())


def availability_analysis(scenario, method: str = "analytic", autonomy="L2", guardrails="none", years: float = 10.0,
                          replications: int = 20, seed: int = 0, demands: str = "auto", protection: str | None = None,
                          attacks: bool = False, client=None, params: dict | None = None,
                          base: Base | None = None) -> xr.Dataset:
    """Availability of every demand over the scenario's link graph at an autonomy level.

    Parameters
    ----------
    scenario : workbench.Scenario
    method : {"analytic", "monte-carlo"}
        Exact steady state for independent elements, or seeded Monte Carlo (``years`` x ``replications``,
        95% confidence intervals; the analytic values are reported beside it).
    autonomy : int, "L4", or "transport=4,ip=3,dc=4,radio=2"
        Autonomy level per domain (transport, ip, dc, radio).
    guardrails : "none", "all" or "a,b"
        Active guardrails (``datasets/ops/guardrails.csv``): their delays and false positives slow the
        automated remediation.
    demands, protection
        See :func:`workbench_ops.system.build_base`.
    attacks : bool
        Include manipulated agents as a fault class (the ``security`` analysis compares guardrail sets).
    client : None, "local", an address or a ``distributed.Client``
        Run the Monte Carlo replications as Dask tasks (same seed, same result).
    params : dict
        Overrides of the ``ops_*`` scenario parameters (without the prefix or with it).

    Returns
    -------
    xarray.Dataset
        over ``demand``: availability, its 95% CI (Monte Carlo), downtime_min_per_year, traffic, people;
        over ``metro``: people-weighted availability; over ``fault_class``: mean time to restore [h]
        (analytic and, with Monte Carlo, simulated) and failures per year; over ``domain``: the level;
        over ``compute_site``: chip and transceiver failures and the share of chips in service;
        scalars: availability (traffic-weighted), people hours and operating cost per year, traffic lost,
        customer minutes. ``attrs["summary_json"]`` holds the CLI's JSON.
    """
    if method not in METHODS:
        raise OpsError(f"method={method!r}: expected analytic or monte-carlo")
    p = _params(scenario, params)
    base = base or build_base(scenario, demands=demands, protection=protection, params=p)
    system = build_system(base, autonomy, guardrails, p, attacks=attacks, seed=seed)
    res = analytic(system)
    u = res["unavailability"]
    lo = hi = u
    mc = None
    if method == "monte-carlo":
        cl, owned = _client(client)
        try:
            mc = monte_carlo(system, years=years, replications=int(replications), seed=seed, client=cl)
        finally:
            if owned:
                from workbench.distributed import release_client

                release_client(cl, owned)
        u = mc["unavailability"]
        lo, hi = np.maximum(u - mc["ci95_half"], 0.0), np.minimum(u + mc["ci95_half"], 1.0)
    ds = _demand_dataset(system, u, lo, hi)
    ds["availability_analytic"] = ("demand", 1 - res["unavailability"],
                                   {"units": "1", "long_name": "availability (analytic)"})
    ds = ds.merge(_metro(ds, mc["per_replication"] if mc is not None else None))
    mttr = _mttr_by_class(system, res)
    classes = sorted(c for c in mttr if c != "overall")
    ds = ds.assign_coords(fault_class=classes)
    ds["mttr_h"] = ("fault_class", [mttr[c] for c in classes], {"units": "h", "long_name": "mean time to restore"})
    fpy = res["failures_per_year"]
    ds["failures_per_year"] = ("fault_class", [float(fpy[system.fault_class == c].sum()) for c in classes],
                               {"units": "1/a", "long_name": "failures per year"})
    if mc is not None:
        ds["mttr_h_simulated"] = ("fault_class", [mc["restore"].get(c, (np.nan, 0))[0] for c in classes],
                                  {"units": "h", "long_name": "mean time to restore (simulated)"})
    ds = ds.assign_coords(domain=list(DOMAINS))
    ds["autonomy_level"] = ("domain", [system.levels[d] for d in DOMAINS], {"units": "1", "long_name": "autonomy level"})
    ops = operations(system, fpy)
    cf = compute_faults(scenario, system)
    if cf is not None:
        ds = ds.merge(cf)
        ds.attrs["transceivers_note"] = cf.attrs["transceivers_note"]
    # traffic lost: mean traffic x downtime, or (Monte Carlo on a scenario with a time axis) each outage
    # weighted by the demand's traffic at that hour of the day
    u_traffic = mc["traffic_weighted_unavailability"] if mc is not None else u
    traffic_lost_tb = float((ds["traffic"].values * u_traffic).sum() * H_PER_YEAR * 3600 / 8 / 1e12)
    cust_min = float((ds["people"].values * u).sum() * MIN_PER_YEAR)
    ds["availability_mean"] = ((), _weighted(ds, "traffic"), {"units": "1", "long_name": "availability (traffic-weighted)"})
    ds["operator_hours_per_year"] = ((), ops["operator_hours_per_year"],
                                     {"units": "h/a", "long_name": "people hours on incidents and repairs"})
    ds["operating_cost_cny_per_year"] = ((), ops["operating_cost_cny_per_year"],
                                         {"units": "CNY/a", "long_name": "operating cost (people, agents, guardrails)"})
    ds["traffic_lost_tb_per_year"] = ((), traffic_lost_tb, {"units": "TB/a", "long_name": "traffic lost"})
    ds.attrs["traffic_lost_method"] = (
        "hour-of-day traffic of each demand (scenario time axis) x simulated outages"
        if mc is not None and base.traffic_profile is not None else "mean traffic x downtime")
    ds["customer_minutes_per_year"] = ((), cust_min, {"units": "min/a", "long_name": "people x downtime"})
    ci = np.stack([ds["availability_ci95_low"].values, ds["availability_ci95_high"].values], 1)
    summary = {
        "scenario": scenario.name, "method": method, "autonomy": {d: system.levels[d] for d in DOMAINS},
        "guardrails": list(system.guardrails), "years": years if mc else None,
        "replications": int(replications) if mc else None, "seed": seed,
        "demands": [{"id": str(i), "availability": float(a), "ci95": [float(x) for x in c],
                     "downtime_min_per_year": float(d)}
                    for i, a, c, d in zip(ds["demand"].values, ds["availability"].values, ci,
                                          ds["downtime_min_per_year"].values)],
        "availability_traffic_weighted": float(ds["availability_mean"]),
        "availability_people_weighted": _weighted(ds, "people") if ds["people"].sum() > 0 else None,
        "mean_time_to_restore_h": mttr,
        "operator_hours_per_year": ops["operator_hours_per_year"],
        "operating_cost_cny_per_year": ops["operating_cost_cny_per_year"],
        "customer_minutes_per_year": cust_min, "traffic_lost_tb_per_year": traffic_lost_tb,
    }
    if mc is not None:
        summary["mean_time_to_restore_h_simulated"] = {c: v[0] for c, v in mc["restore"].items()}
        summary["simulated_events"] = mc["events"]
    ds.attrs["summary_json"] = json.dumps(summary, default=_json_default)
    ds.attrs["summary_text"] = availability_text(summary, system)
    ds.attrs["assumptions"] = ("elements fail independently (shared causes are explicit elements: shared-risk "
                               "groups, fleet-wide changes, manipulated agents); steady state; backup paths by "
                               "remove-and-reroute; see datasets/ops/*.csv for every default and its source")
    return ds


def _json_default(o):
    if isinstance(o, (np.floating, np.integer)):
        return o.item()
    raise TypeError(type(o).__name__)


def _fmt_a(a: float) -> str:
    if a >= 1:
        return "100%"
    nines = -math.log10(max(1 - a, 1e-15))
    return f"{a * 100:.{max(2, min(7, int(nines)))}f}%"


def availability_text(s: dict, system: FaultSystem) -> str:
    lv = ", ".join(f"{d} L{v}" for d, v in s["autonomy"].items())
    lines = [f"availability of {len(s['demands'])} demands ({s['method']}; {lv}; guardrails: "
             f"{', '.join(s['guardrails']) or 'none'})",
             f"traffic-weighted {_fmt_a(s['availability_traffic_weighted'])}"
             + (f", people-weighted {_fmt_a(s['availability_people_weighted'])}"
                if s.get("availability_people_weighted") is not None else ""),
             "mean time to restore: " + ", ".join(f"{k} {v:,.2f} h" for k, v in s["mean_time_to_restore_h"].items()
                                                  if not math.isnan(v)),
             f"people {s['operator_hours_per_year']:,.0f} h/yr; operating cost {s['operating_cost_cny_per_year'] / 1e6:,.2f}"
             f" MCNY/yr; {s['customer_minutes_per_year'] / 1e6:,.1f} M customer-minutes/yr lost"]
    worst = sorted(s["demands"], key=lambda d: d["availability"])[:3]
    lines.append("least available: " + "; ".join(f"{d['id']} {_fmt_a(d['availability'])} "
                                                  f"({d['downtime_min_per_year']:,.0f} min/yr)" for d in worst))
    return "\n".join(lines)


# ------------------------------------------------------------------------------------------- security

def guardrail_sets(value) -> list[tuple[str, ...]]:
    """``"compare"`` (none, each one alone, all), ``"none"``, ``"all"``, ``"a,b"`` or a list of those."""
    from .model import guardrail_names

    if value is None or value == "compare":
        names = guardrail_names()
        return [()] + [(g,) for g in names] + [tuple(names)]
    if isinstance(value, (list, tuple)) and value and not isinstance(value[0], str):
        return [parse_guardrails(v) for v in value]
    if isinstance(value, (list, tuple)):
        return [parse_guardrails(v) for v in value]
    return [parse_guardrails(value)]


def _set_name(gs: tuple[str, ...]) -> str:
    from .model import guardrail_names

    if not gs:
        return "none"
    if set(gs) == set(guardrail_names()):
        return "all"
    return "+".join(gs)


def attack_damage_years(system: FaultSystem, years: int, seed: int) -> np.ndarray:
    """Customer-minutes lost to manipulated agents in each of ``years`` simulated years (attack elements
    only, other elements up; one simulation of the whole span, measured per year)."""
    from .engine import demand_downtime, simulate_elements

    sub = system.subsystem(system.fault_class == "attack")
    rng = np.random.default_rng(np.random.SeedSequence(seed))
    horizon = years * H_PER_YEAR
    iv = simulate_elements(sub, horizon, rng)
    if iv.element.size == 0:
        return np.zeros(years)
    down, _ = demand_downtime(sub, iv, horizon, rng, period_h=H_PER_YEAR)      # year x demand [h]
    return down @ np.maximum(system.base.people, 0.0) * 60.0


def security_analysis(scenario, autonomy="L4", guardrails="compare", method: str = "analytic", years: float = 1000.0,
                      seed: int = 0, demands: str = "auto", protection: str | None = None,
                      params: dict | None = None, base: Base | None = None) -> xr.Dataset:
    """Availability and damage with manipulated agents, for each guardrail set.

    Agents: the scenario's ``agent`` rows of role ``ops`` (``ops_domain``, ``ops_scope``, ``ops_exposure``),
    else one agent per domain with the whole domain in scope. Each agent reads ``ops_exposure_per_day``
    untrusted inputs; a share ``ops_attack_prevalence`` carries an injection that succeeds with
    ``ops_injection_success`` (x the guardrails' ASR factor); a compromised agent hands the injection on
    to the agents it passes work to (``ops_handoff_share``); its harmful action (shut, misroute, drift,
    push; ``attack_actions.csv``) reaches what its permissions cover, minus what the guardrails catch;
    people undo it. Damage = customer-minutes and traffic lost to those actions (with vs without attacks,
    analytic) and the 99th percentile of a year's damage (``years`` simulated years, attack elements only).

    Returns
    -------
    xarray.Dataset over ``guardrail_set``: availability (traffic-weighted), expected_damage
    [customer-min/a], damage_p99 [customer-min/a], traffic_lost_tb [TB/a], p_compromise [1/a],
    agents_reached, operator_hours, operating_cost [CNY/a], mttr_h.
    """
    p = _params(scenario, params)
    base = base or build_base(scenario, demands=demands, protection=protection, params=p)
    sets = guardrail_sets(guardrails)
    levels = parse_levels(autonomy)
    names, rows = [], []
    for gs in sets:
        sysA = build_system(base, levels, gs, p, attacks=True, seed=seed)
        res = analytic(sysA)
        u = res["unavailability"]
        sys0 = sysA.subsystem(sysA.fault_class != "attack")
        u0 = analytic(sys0)["unavailability"]
        du = np.maximum(u - u0, 0.0)
        people, traffic = base.people, base.traffic_bps
        w = traffic if traffic.sum() > 0 else np.ones_like(u)
        lam_init = sysA.agent_table["compromise_rate_per_year"].sum() if len(sysA.agent_table) else 0.0
        ops = operations(sysA, res["failures_per_year"])
        mttr = _mttr_by_class(sysA, res)
        row = {"availability": float(1 - (w * u).sum() / w.sum()),
               "availability_without_attacks": float(1 - (w * u0).sum() / w.sum()),
               "expected_damage": float((people * du).sum() * MIN_PER_YEAR),
               "traffic_lost_tb": float((traffic * du).sum() * H_PER_YEAR * 3600 / 8 / 1e12),
               "p_compromise": float(-math.expm1(-lam_init)),
               "agents_reached": float((sysA.agent_table["compromise_rate_per_year"]
                                        * sysA.agent_table["agents_reached"]).sum() / lam_init) if lam_init > 0 else 0.0,
               "operator_hours": ops["operator_hours_per_year"], "operating_cost": ops["operating_cost_cny_per_year"],
               "mttr_h": mttr["overall"]}
        if method == "monte-carlo":
            dmg = attack_damage_years(sysA, int(years), seed)
            row["damage_p99"] = float(np.quantile(dmg, 0.99))
            row["damage_simulated_mean"] = float(dmg.mean())
        names.append(_set_name(gs))
        rows.append(row)
    units = {"availability": "1", "availability_without_attacks": "1", "expected_damage": "min/a",
             "traffic_lost_tb": "TB/a", "p_compromise": "1", "agents_reached": "1", "operator_hours": "h/a",
             "operating_cost": "CNY/a", "mttr_h": "h", "damage_p99": "min/a", "damage_simulated_mean": "min/a"}
    long = {"expected_damage": "customer-minutes lost to manipulated agents per year",
            "damage_p99": "99th percentile of a year's customer-minutes lost to manipulated agents",
            "p_compromise": "probability that at least one agent is manipulated in a year",
            "agents_reached": "agents compromised per injection (incl. hand-offs)"}
    ds = xr.Dataset(coords={"guardrail_set": names})
    for k in rows[0]:
        ds[k] = ("guardrail_set", [r[k] for r in rows], {"units": units[k], "long_name": long.get(k, k.replace("_", " "))})
    summary = {"scenario": scenario.name, "autonomy": levels, "method": method,
               "security": {n: {"availability": r["availability"], "expected_damage": r["expected_damage"],
                                "p_compromise": r["p_compromise"], **({"damage_p99": r["damage_p99"]}
                                                                      if "damage_p99" in r else {}),
                                "operating_cost": r["operating_cost"], "agents_reached": r["agents_reached"]}
                            for n, r in zip(names, rows)}}
    ds.attrs["summary_json"] = json.dumps(summary, default=_json_default)
    lines = [f"manipulated agents at {', '.join(f'{d} L{v}' for d, v in levels.items())}:"]
    for n, r in zip(names, rows):
        lines.append(f"  {n:<28} availability {_fmt_a(r['availability'])}; damage {r['expected_damage'] / 1e6:,.2f} M "
                     f"customer-min/yr" + (f" (p99 {r['damage_p99'] / 1e6:,.1f} M)" if "damage_p99" in r else "")
                     + f"; P(compromise)/yr {r['p_compromise']:.2f}; cost {r['operating_cost'] / 1e6:,.1f} MCNY/yr")
    ds.attrs["summary_text"] = "\n".join(lines)
    return ds
