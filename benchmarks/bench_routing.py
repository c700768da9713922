"""Routing 100,000 device groups to 1,000 sites: sparse LP (scipy HiGHS) versus the greedy baseline.

Data (seeded): groups and sites uniform over China's bounding box (lon 73-135, lat 18-54 [degree]);
group demand log-uniform 0.1-10 request/s; 5G access (4 ms one way); site equipment 0.2 ms; route
factor 1.5; a one-way network budget of 10 ms per group (e.g. an interactive class with 450 ms TTFT
SLO leaves it easily; the budget only shapes the candidate set); site capacity uniform with a total of
1.05 x demand; cost per request = (J per request, uniform 100-400 J) x PUE (1.1-1.5) x price
(0.3-0.7 CNY/kWh) / 3.6e6.

Candidates: each group's ``k`` nearest sites (KD-tree), kept if within the budget (the restriction
documented in :mod:`workbench_edge.routing`). Both solvers get the same candidates; the LP is the
optimum over them, so ``cost gap = (greedy - LP) / LP`` of the objective (electricity + unserved
penalty) measures what the greedy loses. Timings are single runs (the LP takes tens of seconds).
"""

from __future__ import annotations

import argparse
import time

import numpy as np

N_GROUPS = 100_000
N_SITES = 1_000
K_MAX = 16
SEED = 20260610


def make_instance(n_groups: int = N_GROUPS, n_sites: int = N_SITES, seed: int = SEED) -> dict:
    rng = np.random.default_rng(seed)
    demand = np.exp(rng.uniform(np.log(0.1), np.log(10.0), n_groups))
    cap = rng.uniform(0.5, 1.5, n_sites)
    cap *= 1.05 * demand.sum() / cap.sum()
    joule = rng.uniform(100.0, 400.0, n_sites) * rng.uniform(1.1, 1.5, n_sites)
    cost = joule * rng.uniform(0.3, 0.7, n_sites) / 3.6e6
    return {"glon": rng.uniform(73, 135, n_groups), "glat": rng.uniform(18, 54, n_groups),
            "slon": rng.uniform(73, 135, n_sites), "slat": rng.uniform(18, 54, n_sites),
            "demand": demand, "capacity": cap, "site_cost": cost}


def run_instance(n_groups: int = N_GROUPS, n_sites: int = N_SITES, k_max: int = K_MAX, budget_ms: float = 10.0,
                 solve_lp: bool = True) -> dict:
    from workbench_edge import routing as r

    d = make_instance(n_groups, n_sites)
    t0 = time.perf_counter()
    g, s, _ = r.candidate_pairs(d["glon"], d["glat"], d["slon"], d["slat"], np.full(n_groups, 4.0),
                                np.full(n_sites, 0.2), np.full(n_groups, budget_ms), 1.5, k_max=k_max)
    t_cand = time.perf_counter() - t0
    cost = d["site_cost"][s]
    penalty = 10.0 * cost.max() + 1e-6
    greedy = r.solve_greedy(n_groups, n_sites, g, s, cost, d["demand"], d["capacity"], unserved_penalty=penalty)
    out = {"groups": n_groups, "sites": n_sites, "pairs": int(g.size), "candidates_s": t_cand,
           "greedy_s": greedy["seconds"], "greedy_objective": greedy["objective"],
           "greedy_unserved": float(greedy["unserved"].sum()), "demand": float(d["demand"].sum()),
           "greedy_cost": greedy["cost"]}
    if solve_lp:
        lp = r.solve_lp(n_groups, n_sites, g, s, cost, d["demand"], d["capacity"], unserved_penalty=penalty)
        load = np.bincount(s, weights=lp["x"], minlength=n_sites)
        out.update({"lp_s": lp["seconds"], "lp_objective": lp["objective"], "lp_unserved": float(lp["unserved"].sum()),
                    "gap": (greedy["objective"] - lp["objective"]) / lp["objective"],
                    "lp_cost": lp["cost"], "lp_lp_pairs": lp["n_lp_pairs"],
                    "unit_cost_gap": (greedy["cost"] / (out["demand"] - out["greedy_unserved"]))
                    / (lp["cost"] / (out["demand"] - float(lp["unserved"].sum()))) - 1.0,
                    "lp_capacity_ok": bool(np.all(load <= d["capacity"] * (1 + 1e-7) + 1e-9))})
    return out


def run(n_groups: int = N_GROUPS, n_sites: int = N_SITES, k_max: int = K_MAX) -> dict:
    """Benchmark result in the ``benchmarks`` format (figures, ratios, notes)."""
    res = run_instance(n_groups, n_sites, k_max)
    figures = {
        "groups": (res["groups"], ""), "sites": (res["sites"], ""), "candidate_pairs": (res["pairs"], ""),
        "candidates_time": (res["candidates_s"], "s"), "lp_time": (res["lp_s"], "s"),
        "greedy_time": (res["greedy_s"], "s"), "lp_objective": (res["lp_objective"], "CNY/s"),
        "greedy_objective": (res["greedy_objective"], "CNY/s"), "greedy_cost_gap": (100 * res["gap"], "%"),
        "lp_unserved": (res["lp_unserved"], "request/s"), "greedy_unserved": (res["greedy_unserved"], "request/s"),
        "demand": (res["demand"], "request/s"), "lp_variables_after_merge": (res["lp_lp_pairs"], ""),
        "greedy_cost_per_served_request_gap": (100 * res["unit_cost_gap"], "%"),
    }
    return {"name": "routing", "figures": figures, "ratios": {"lp_time/greedy_time": res["lp_s"] / res["greedy_s"]},
            "notes": [f"k_max={k_max} nearest sites per group within a 10 ms one-way budget; capacity ok: "
                      f"{res['lp_capacity_ok']}",
                      "LP: groups with identical candidate sets merged (exact); greedy_cost_gap includes the "
                      "unserved penalty (10 x the highest cost per request)",
                      "ratio > 1 means the greedy is faster; the gap is what it costs in the objective"]}


def main(argv=None) -> int:
    """``python -m benchmarks.bench_routing [--groups N] [--sites M] [--k K] [--json]``: print the figures."""
    parser = argparse.ArgumentParser(prog="bench_routing", description=__doc__.splitlines()[0])
    parser.add_argument("--groups", type=int, default=N_GROUPS)
    parser.add_argument("--sites", type=int, default=N_SITES)
    parser.add_argument("--k", type=int, default=K_MAX)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    res = run(args.groups, args.sites, args.k)
    from benchmarks import print_result

    print_result(res, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
