"""Ops Monte Carlo: simulated element-years per second, 10,000 elements x 10 years, against SimPy; analytic vs MC time.

Synthetic failure-rich system (FIGURES-M2 4.1: benchmark the Monte Carlo on a failure-rich case, where
the per-event work dominates): a 50 x 50 torus of sites (2,500 sites, 5,000 links) through
:func:`workbench_ops.system.build_base` and :func:`~workbench_ops.system.build_system` at L2, keeping the
10,000 link and site elements (each link's fibre, each site's hardware and software; the three fleet-wide
change elements are left out). Every element's failure rate is drawn uniformly in 50-100 per year (MTBF
3.7-7.3 days); restore times come from the model's chains (stage times, escalation, on-call outside
working hours) plus a 2 h lognormal physical repair for fibre and node hardware. 500 demands between
sites at most 3 grid steps apart, a third each unprotected (re-provisioned by operations), 1+1 and
control-plane restoration, each with a disjoint backup path, so the downtime accounting (union of each
demand's elements' down intervals, backup and switch windows) is part of the measured work.

Figures:

* ``vectorised_*``: one :func:`workbench_ops.engine.replicate` of the whole system over 10 years (best
  of ``repeat``), element-years and events (failures + completed repairs) per second, and its split
  into :func:`~workbench_ops.engine.simulate_elements` and :func:`~workbench_ops.engine.demand_downtime`.
* ``simpy_*``: a straightforward SimPy implementation of the same model on a slice (the elements of the
  first ``simpy_demands`` demands, padded with other elements to the full system's 20 elements per
  demand): one process per element alternating ``timeout(exponential up time)`` and ``timeout(restore)``,
  the restore drawn per failure in plain Python (:func:`scalar_restore`: the same chain, one
  ``random.Random`` number at a time, as a straightforward implementation would; drawing it through the
  model's vectorised sampler one failure at a time would cost ~40x more and flatter the ratio); then each
  demand's downtime by merging its elements' sorted intervals and sweeping working path, backup path and
  switch windows in a Python loop. Its mean unavailability is checked against the vectorised engine's
  (``slice_replications`` replications of the same slice) and the analytic value.
* ``china_*``: ``availability_analysis(china-edwc, method="analytic")`` vs ``method="monte-carlo"``
  (10 years x 20 replications, serial), whole calls and engines alone.

SimPy is an optional dependency (``pip install -e ".[bench]"``); without it the SimPy part is skipped
with a one-line message. ``python -m benchmarks ops`` or ``python -m benchmarks.bench_ops``.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
import warnings
from dataclasses import replace

import numpy as np

GRID = 50                   # GRID x GRID torus: GRID^2 sites, 2 GRID^2 links -> 4 GRID^2 elements
N_DEMANDS = 500
YEARS = 10.0
RATE_PER_YEAR = (50.0, 100.0)
PHYS_REPAIR_H = 2.0
SEED = 20250101
SIMPY_DEMANDS = 5
SLICE_REPLICATIONS = 20


# --------------------------------------------------------------------------------------- the system

def synthetic_scenario(grid: int = GRID, n_demands: int = N_DEMANDS, seed: int = SEED):
    """A ``grid`` x ``grid`` torus of sites with ``n_demands`` short demands (metro/regional)."""
    from workbench.model import Scenario

    def sid(i, j):
        return f"s{i % grid}_{j % grid}"

    sites = [{"id": sid(i, j), "tier": "metro_edge" if (i + j) % 2 else "pop", "province": f"p{i // 10}",
              "lon": 100.0 + 0.3 * j, "lat": 25.0 + 0.25 * i, "ops_mttr": PHYS_REPAIR_H}
             for i in range(grid) for j in range(grid)]
    links = []
    for i in range(grid):
        for j in range(grid):
            links.append({"id": f"h{i}_{j}", "src": sid(i, j), "dst": sid(i, j + 1), "tech": "otn"})
            links.append({"id": f"v{i}_{j}", "src": sid(i, j), "dst": sid(i + 1, j), "tech": "otn"})
    rng = np.random.default_rng(seed)
    prot = ("none", "1+1", "restoration")
    demands = []
    for k in range(n_demands):
        i, j = rng.integers(0, grid, 2)
        di, dj = rng.integers(-3, 4, 2)
        if di == 0 and dj == 0:
            dj = 1
        demands.append({"id": f"d{k}", "src": sid(i, j), "dst": sid(i + di, j + dj), "traffic": 1e9,
                        "protection": prot[k % 3]})
    return Scenario.from_tables({"site": sites, "link": links, "demand": demands}, name="ops-bench-torus",
                                description="synthetic failure-rich torus for the ops benchmark")


def select(system, elements=None, demands=None):
    """``system`` restricted to some elements (columns) and demands (rows)."""
    el = np.arange(system.n_elements) if elements is None else np.asarray(elements)
    dm = np.arange(system.W.shape[0]) if demands is None else np.asarray(demands)
    return replace(system, element_id=system.element_id[el], fault_class=system.fault_class[el],
                   domain=system.domain[el], rate_per_h=system.rate_per_h[el], phys_h=system.phys_h[el],
                   chain_index=system.chain_index[el], cover=system.cover[:, el].tocsr(),
                   W=system.W[dm][:, el].tocsr(), B=system.B[dm][:, el].tocsr(),
                   switch_kind=system.switch_kind[dm], switch_h=system.switch_h[dm])


def synthetic_system(grid: int = GRID, n_demands: int = N_DEMANDS, seed: int = SEED):
    """The benchmark's fault system: 4 grid^2 link and site elements at L2, failure rates 50-100 per year."""
    from workbench_ops.model import OpsParams
    from workbench_ops.system import H_PER_YEAR, build_base, build_system

    sc = synthetic_scenario(grid, n_demands, seed)
    params = OpsParams(fibre_mttr=PHYS_REPAIR_H)
    base = build_base(sc, params=params)
    system = build_system(base, "L2", (), params, attacks=False)
    keep = np.flatnonzero(np.isin(system.fault_class, ("fibre_cut", "node_hw", "software")))
    system = select(system, elements=keep)
    rng = np.random.default_rng(seed + 1)
    rate = rng.uniform(*RATE_PER_YEAR, system.n_elements) / H_PER_YEAR
    return replace(system, rate_per_h=rate)


# --------------------------------------------------------------------------------------- SimPy baseline

def scalar_restore(chain, tod_h: float, rnd, crew: bool = False) -> float:
    """One incident's restore time [h] (without the physical repair) drawn the straightforward way: plain
    Python, one random number at a time (``random.Random``), the same model as ``Chain.sample_parts``:
    escalation at the first system stage that fails, people (with the system's tools) from there on, guardrail
    false positives and human approvals after an automated execution, the on-call wait outside working hours."""
    from workbench_ops.model import STAGES

    def logn(mean, cv):
        if mean <= 0:
            return 0.0
        s2 = math.log1p(cv * cv)
        return rnd.lognormvariate(math.log(mean) - s2 / 2, math.sqrt(s2))

    times = chain.times
    total, human, escalated = 0.0, False, False
    for k in range(4):
        perf = chain._perf(k)
        if not escalated and perf == "system":
            total += logn(chain._stage_mean(k, "system"), times[(STAGES[k], "system")][1])
            if rnd.random() < chain.auto[k]:
                continue
            escalated = True
            total += logn(*times[("escalation", "human")])
            perf = chain._after_escalation(k)
            total += logn(chain._stage_mean(k, perf, True), times[(STAGES[k], perf)][1])
            human = True
            continue
        if escalated:
            perf = chain._after_escalation(k)
        total += logn(chain._stage_mean(k, perf), times[(STAGES[k], perf)][1])
        human = human or perf != "system"
    if not escalated and chain._perf(3) == "system":
        total += chain.extra_auto_h
        if rnd.random() < chain.fpr:
            total += logn(*times[("escalation", "human")]) + logn(*times[("execution", "human")])
            human = True
        if rnd.random() < chain.hitl_share:
            total += logn(*times[("decision", "human")])
            human = True
    oncall = logn(*times[("oncall", "human")])
    start = times.get(("_work_start", ""), (8.0,))[0]
    if (human or crew) and ((tod_h - start) % 24.0) >= (1 - chain.off_hours) * 24.0:   # outside working hours
        total += oncall
    return total


def simpy_elements(system, elements, horizon_h: float, rng) -> tuple[dict, float]:
    """Down intervals of ``elements`` over ``[0, horizon_h)``: one SimPy process per element; and the time
    spent drawing restore times [s]."""
    import simpy

    env = simpy.Environment()
    down = {int(e): [] for e in elements}
    draw = [0.0]

    import random

    rnd = random.Random(int(rng.integers(2**63)))
    cv = system.params.repair_cv
    s2 = math.log1p(cv * cv)

    def element(e):
        lam = float(system.rate_per_h[e])
        chain = system.chains[int(system.chain_index[e])]
        phys = float(system.phys_h[e])
        while True:
            yield env.timeout(rnd.expovariate(lam))                   # up
            s = env.now
            t0 = time.perf_counter()
            r = scalar_restore(chain, s % 24.0, rnd, crew=phys > 0)       # a repair crew waits for on-call too
            if phys > 0:
                r += rnd.lognormvariate(math.log(phys) - s2 / 2, math.sqrt(s2))
            draw[0] += time.perf_counter() - t0
            down[e].append((s, min(s + r, horizon_h)))
            yield env.timeout(r)                                     # restoring

    for e in elements:
        if system.rate_per_h[e] > 0:
            env.process(element(int(e)))
    env.run(until=horizon_h)
    return down, draw[0]


def _merge(intervals) -> list:
    out = []
    for s, e in sorted(intervals):
        if out and s <= out[-1][1]:
            out[-1][1] = max(out[-1][1], e)
        else:
            out.append([s, e])
    return out


def simpy_downtime(system, down: dict, horizon_h: float, rng) -> np.ndarray:
    """Downtime [h] of every demand of ``system``, straightforwardly: merge the working path's intervals into
    outages; each outage opens a switch window ``[s, s + min(t, d)]`` (``t`` the demand's switch time, or a
    re-provisioning time drawn from its chain); the demand is down while (working and backup paths are down)
    or (a switch window is open and the backup is up), found by sweeping the boundaries in time order."""
    import random

    rnd = random.Random(int(rng.integers(2**63)))
    n = system.W.shape[0]
    out = np.zeros(n)
    chain = system.chains[system.reprovision_chain]
    for d in range(n):
        w_el = system.W.indices[system.W.indptr[d]:system.W.indptr[d + 1]]
        w = _merge(iv for e in w_el for iv in down.get(int(e), ()))
        if system.switch_kind[d] == "none":
            out[d] = sum(e - s for s, e in w)
            continue
        b_el = system.B.indices[system.B.indptr[d]:system.B.indptr[d + 1]]
        b = _merge(iv for e in b_el for iv in down.get(int(e), ()))
        windows = []
        for s, e in w:
            t = system.switch_h[d]
            if math.isnan(t):
                t = scalar_restore(chain, s % 24.0, rnd)
            windows.append((s, min(s + t, e)))
        events = [(s, 0, 1) for s, _ in w] + [(e, 0, -1) for _, e in w]
        events += [(s, 1, 1) for s, _ in b] + [(e, 1, -1) for _, e in b]
        events += [(s, 2, 1) for s, _ in windows] + [(e, 2, -1) for _, e in windows]
        events.sort()
        state = [0, 0, 0]                  # working path down, backup down, switch window open
        last, total = 0.0, 0.0
        for t, k, step in events:
            if (state[0] and state[1]) or (state[2] and not state[1]):
                total += t - last
            last = t
            state[k] += step
        out[d] = total
    return out


# --------------------------------------------------------------------------------------- run

def _time(fn):
    t0 = time.perf_counter()
    res = fn()
    return time.perf_counter() - t0, res


def run(repeat: int = 2, simpy_demands: int = SIMPY_DEMANDS, slice_replications: int = SLICE_REPLICATIONS) -> dict:
    from workbench_ops import engine
    from workbench_ops.system import H_PER_YEAR

    from benchmarks import best_of

    warnings.simplefilter("ignore")
    t_build, system = _time(synthetic_system)
    horizon = YEARS * H_PER_YEAR
    n_el, n_dem = system.n_elements, system.W.shape[0]
    el_years = n_el * YEARS
    seed_seq = np.random.SeedSequence(SEED)
    # --- vectorised engine, the whole system
    t_vec, rep = best_of(lambda: engine.replicate(system, YEARS, seed_seq), repeat)
    rng = np.random.default_rng(seed_seq)                 # the same streams as replicate: the same events
    t_sim, iv = _time(lambda: engine.simulate_elements(system, horizon, rng))
    t_down, _ = _time(lambda: engine.demand_downtime(system, iv, horizon, rng))
    failures = int(iv.element.size)
    events = failures + int((iv.end < horizon).sum())
    u_vec_full = float((rep["downtime_h"] / horizon).mean())
    u_an = engine.analytic(system)["unavailability"]
    figures = {
        "elements": (n_el, ""), "demands": (n_dem, ""), "years": (YEARS, "a"), "element_years": (el_years, ""),
        "failures_per_element_year": (failures / el_years, "1/a"),
        "events": (events, "failures + repairs"), "system_build_time": (t_build, "s"),
        "vectorised_time": (t_vec, "s"), "vectorised_element_years_per_s": (el_years / t_vec, "1/s"),
        "vectorised_events_per_s": (events / t_vec, "1/s"),
        "vectorised_simulate_elements_time": (t_sim, "s"), "vectorised_demand_downtime_time": (t_down, "s"),
        "unavailability_mean_vectorised": (u_vec_full, ""),
        "unavailability_mean_analytic": (float(u_an.mean()), ""),
    }
    ratios = {}
    notes = [f"failure rates {RATE_PER_YEAR[0]:g}-{RATE_PER_YEAR[1]:g} per element-year, L2 restore chains + "
             f"{PHYS_REPAIR_H:g} h physical repair (fibre, node hardware); {n_dem} demands, working + backup paths",
             f"vectorised: engine.replicate, best of {repeat}; events = failures + repairs completed in the horizon"]
    # --- SimPy baseline on a slice
    try:
        import simpy  # noqa: F401
    except ImportError:
        simpy = None
        msg = 'simpy is not installed (pip install -e ".[bench]"): the SimPy baseline is skipped'
        print(f"ops: {msg}", file=sys.stderr, flush=True)
        notes.append(msg)
    if simpy is not None:
        dem = np.arange(min(simpy_demands, n_dem))
        used = np.unique(np.concatenate([system.W[dem].indices, system.B[dem].indices]))
        want = max(used.size, int(round(len(dem) * n_el / n_dem)))
        others = np.setdiff1d(np.arange(n_el), used)
        pad = np.random.default_rng(SEED + 2).choice(others, want - used.size, replace=False)
        sl = select(system, elements=np.sort(np.concatenate([used, pad])), demands=dem)
        sl_years = sl.n_elements * YEARS
        rng = np.random.default_rng(SEED + 3)
        t_sp_sim, (down, t_draw) = _time(lambda: simpy_elements(sl, range(sl.n_elements), horizon, rng))
        t_sp_down, dt_sp = _time(lambda: simpy_downtime(sl, down, horizon, rng))
        t_sp = t_sp_sim + t_sp_down
        sp_failures = sum(len(v) for v in down.values())
        sp_events = sp_failures + sum(e < horizon for v in down.values() for _, e in v)
        u_sp = float((dt_sp / horizon).mean())
        el_down_sp = np.array([sum(e - s for s, e in down[k]) for k in range(sl.n_elements)]) / horizon
        # the vectorised engine on the same slice: spread of one replication's slice mean
        reps = [engine.replicate(sl, YEARS, c) for c in np.random.SeedSequence(SEED + 4).spawn(slice_replications)]
        u_reps = np.array([(r["downtime_h"] / horizon).mean() for r in reps])
        sd = float(u_reps.std(ddof=1))
        z = (u_sp - u_reps.mean()) / (sd * math.sqrt(1 + 1 / slice_replications))
        u_an_sl = float(engine.analytic(sl)["unavailability"].mean())
        el_u_an = float((1 - sl.availability()).mean())
        sp_rate = sl_years / t_sp
        figures.update({
            "simpy_slice_elements": (sl.n_elements, ""), "simpy_slice_demands": (int(dem.size), ""),
            "simpy_time": (t_sp, "s"), "simpy_processes_time": (t_sp_sim, "s"),
            "simpy_restore_draw_time": (t_draw, "s"), "simpy_downtime_time": (t_sp_down, "s"), "simpy_events": (sp_events, "failures + repairs"),
            "simpy_element_years_per_s": (sp_rate, "1/s"), "simpy_events_per_s": (sp_events / t_sp, "1/s"),
            "simpy_full_system_time_extrapolated": (el_years / sp_rate, "s"),
            "slice_unavailability_mean_simpy": (u_sp, ""),
            "slice_unavailability_mean_vectorised": (float(u_reps.mean()), ""),
            "slice_unavailability_one_replication_sd": (sd, ""),
            "slice_unavailability_mean_analytic": (u_an_sl, ""),
            "slice_unavailability_z_simpy_vs_vectorised": (float(z), "sd"),
            "slice_element_unavailability_simpy": (float(el_down_sp.mean()), ""),
            "slice_element_unavailability_analytic": (el_u_an, ""),
        })
        ratios["vectorised/simpy_element_years_per_s"] = (el_years / t_vec) / sp_rate
        notes.append(f"SimPy on a slice of {sl.n_elements} elements and {dem.size} demands (the full system's "
                     f"{n_el / n_dem:.0f} elements per demand), one 10-year run; element-years/s compared per "
                     "element-year; target (issue) >= 50x")
        notes.append(f"same model: the SimPy slice mean unavailability {u_sp:.5f} vs vectorised {u_reps.mean():.5f} "
                     f"(sd of one replication {sd:.5f}, {slice_replications} replications): z = {z:+.2f} "
                     f"({'within' if abs(z) < 3 else 'OUTSIDE'} 3 sd); analytic {u_an_sl:.5f}")
        notes.append(f"SimPy's own event handling is {t_sp_sim - t_draw:.1f} s of {t_sp:.1f} s; the rest is the "
                     f"per-failure restore draw ({t_draw / max(sp_failures, 1) * 1e6:.0f} us a call, plain Python "
                     "random numbers: scalar_restore) and the per-demand downtime loop with its re-provisioning "
                     "draws")
    # --- analytic vs Monte Carlo on china-edwc
    from workbench_ops.analyses import availability_analysis
    from workbench_ops.model import OpsParams
    from workbench_ops.system import build_base, build_system

    import workbench as wb

    sc = wb.load_scenario("china-edwc")
    t_an, _ = best_of(lambda: availability_analysis(sc, method="analytic"), 3)
    t_mc, ds = best_of(lambda: availability_analysis(sc, method="monte-carlo", years=10, replications=20), repeat)
    summ = json.loads(ds.attrs["summary_json"])
    p = OpsParams.from_scenario(sc)
    csys = build_system(build_base(sc, params=p), "L2", (), p, attacks=False)
    t_an_e, _ = best_of(lambda: engine.analytic(csys), 5)
    t_mc_e, mc = best_of(lambda: engine.monte_carlo(csys, years=10, replications=20), repeat)
    figures.update({
        "china_elements": (csys.n_elements, ""), "china_demands": (int(csys.W.shape[0]), ""),
        "china_analytic_time": (t_an, "s"), "china_monte_carlo_time": (t_mc, "s"),
        "china_monte_carlo_events": (int(summ.get("simulated_events", mc["events"])), "failures"),
        "china_analytic_engine_time": (t_an_e, "s"), "china_monte_carlo_engine_time": (t_mc_e, "s"),
        "china_availability_analytic": (1 - float(engine.analytic(csys)["unavailability"].mean()), ""),
        "china_availability_monte_carlo": (1 - float(mc["unavailability"].mean()), ""),
    })
    ratios["china_monte_carlo/analytic"] = t_mc / t_an
    ratios["china_monte_carlo/analytic_engines"] = t_mc_e / t_an_e
    notes.append("china-edwc: availability_analysis at L2 with default demands (whole calls include routing the "
                 "demands and the report dataset); Monte Carlo 10 years x 20 replications, serial; analytic best of 3")
    return {"name": "ops", "figures": figures, "ratios": ratios, "notes": notes}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="bench_ops", description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=2, help="repeats of the timed vectorised/MC runs (best of)")
    parser.add_argument("--simpy-demands", type=int, default=SIMPY_DEMANDS,
                        help="demands in the SimPy slice (20 elements each)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    res = run(args.repeat, args.simpy_demands)
    from benchmarks import print_result

    print_result(res, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
