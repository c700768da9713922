"""A year of hourly dispatch (8,760 snapshots) on ``china-edwc`` versus solving each hour as its own LP.

Workbench route: ``dispatch_analysis(china, snapshots="year", deferrable_share=0.2)`` with the shipped
profiles (demand by device class, time-of-use tariffs, contracted green power): 365 day blocks, each a
24-hour LP with the deferral coupling, built once and re-solved warm by HiGHS with new costs and bounds
(:mod:`workbench_edge.dispatch`). Wall time and the process's peak resident memory are reported.

Baselines, on a sample of hours spread over the year and scaled to 8,760 (their per-hour cost is flat):

* ``hourly_lp``: each hour as its own LP, built and solved cold (:func:`solve_dispatch` on one
  snapshot at a time, same classes and costs, no deferral since a one-hour LP cannot defer);
* ``hourly_routing_lp``: each hour through the static routing LP (:func:`workbench_edge.routing.solve_lp`,
  scipy HiGHS, link constraints always on), which is what a user of milestone 1 would loop over.
"""

from __future__ import annotations

import argparse
import json
import resource
import time

import numpy as np

SAMPLE_HOURS = 96


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0   # Linux: kB


def run(sample_hours: int = SAMPLE_HOURS) -> dict:
    import warnings

    from workbench_edge import routing as _routing
    from workbench_edge.analyses import WESTERN_PROVINCES, routing_problem
    from workbench_edge.dispatch import dispatch_analysis, dispatch_inputs, solve_dispatch

    import workbench as wb
    from workbench import profiles

    warnings.simplefilter("ignore")
    sc = wb.load_scenario("china-edwc")
    rss0 = _peak_mib()
    t0 = time.perf_counter()
    ds = dispatch_analysis(sc, snapshots="year", deferrable_share=0.2)
    t_year = time.perf_counter() - t0
    rss1 = _peak_mib()
    summ = json.loads(ds.attrs["summary_json"])
    # --- baselines on a sample of hours
    pb = routing_problem(sc, "chat")
    idx = profiles.year_snapshots()
    pick = np.linspace(0, idx.size - 1, sample_hours).round().astype(int)
    inp = dispatch_inputs(sc, pb, idx, np.ones(idx.size))
    west = np.isin(sc["site"]["province"].values.astype(str), WESTERN_PROVINCES)
    dwest = np.isin(sc["device"]["province"].values.astype(str), WESTERN_PROVINCES)
    t0 = time.perf_counter()
    for h in pick:
        one = type(inp)(**{k: (v[h:h + 1] if isinstance(v, np.ndarray) and v.ndim and v.shape[0] == idx.size
                               else v) for k, v in vars(inp).items()})
        solve_dispatch(pb, one, west_site=west, west_group=dwest)
    t_hourly = (time.perf_counter() - t0) / pick.size * idx.size
    chip_e = np.nan_to_num(pb.pools["energy_per_request"].values)
    pue_pool = sc["site"]["pue"].values[pb.s_of_pool]
    t0 = time.perf_counter()
    for h in pick:
        price_pool = inp.price[h][pb.s_of_pool]
        cost = (chip_e * pue_pool * price_pool / 3.6e6)[pb.pair_pool]
        _routing.solve_lp(pb.n_dev, pb.n_pool, pb.pair_group, pb.pair_pool, cost, inp.demand[h], pb.capacity,
                          group_key=pb.gpop, **pb.links)
    t_routing = (time.perf_counter() - t0) / pick.size * idx.size
    figures = {
        "snapshots": (summ["n_snapshots"], ""), "blocks": (summ["blocks"], "day LPs"),
        "classes": (summ["classes"], ""), "class_pairs_per_hour": (summ["class_pairs"], ""),
        "year_time": (t_year, "s"), "year_solver_time": (summ["solver_seconds"], "s"),
        "peak_rss": (rss1, "MiB"), "peak_rss_before": (rss0, "MiB"),
        "hourly_lp_time_extrapolated": (t_hourly, "s"), "hourly_routing_lp_time_extrapolated": (t_routing, "s"),
        "annual_cost": (summ["cost_CNY"] / 1e6, "MCNY"), "annual_co2": (summ["co2_t"] / 1e3, "kt"),
        "blocks_with_link_rows": (summ["blocks_with_link_rows"], ""),
    }
    return {"name": "dispatch", "figures": figures,
            "ratios": {"hourly_lp/year": t_hourly / t_year, "hourly_routing_lp/year": t_routing / t_year},
            "notes": [f"baselines timed on {pick.size} hours spread over the year and scaled to 8,760",
                      "target (issue): the year in under 2 minutes on the 2-core reference machine",
                      "peak_rss is the whole process (Python, xarray, the scenario and the result), not the LP alone"]}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="bench_dispatch", description=__doc__.splitlines()[0])
    parser.add_argument("--sample-hours", type=int, default=SAMPLE_HOURS)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    res = run(args.sample_hours)
    from benchmarks import print_result

    print_result(res, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
