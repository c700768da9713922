"""Deadline-miss probabilities of 1,000,000 robots and drones across every metro of ``china-edwc``: time and memory.

Workbench route: :func:`workbench_embodied.analyses.build_groups` (``classes="robot,drone"``,
``population="residents"``: one group per class x metro) with the ``devices`` column rescaled to exactly
``N_DEVICES`` (largest-remainder rounding to whole devices), then one
:func:`workbench_embodied.analyses.evaluate` at the default :class:`~workbench_embodied.model.EmbodiedParams`:
all five placement options (device, edge, regional, hub, split), and for every group x option the analytic
miss, stall and safety-stop probabilities and the expected lateness (queueing at the sites included). One
warm-up call (paths, inference table, imports), then the median of ``repeat`` timed calls; the peak memory
of one more call under :mod:`tracemalloc`, and the process's peak resident set size (``getrusage``).

Baseline, the naive per-device Monte Carlo of EdgeSimPy / iFogSim-style simulators: for ``mc_devices``
devices drawn in proportion to the group sizes, one device at a time in a Python loop, ``mc_steps`` control
steps of its edge loop drawn with :func:`workbench_embodied.dist.sample_loop` (the same components as the
analytic engine, from ``evaluate(..., return_components=True)``) and the share of steps over the deadline;
its time per device is extrapolated linearly to ``N_DEVICES``. It covers one option and one of the four
quantities, and at ``mc_steps`` steps resolves miss probabilities down to about ``1 / mc_steps``, where the
analytic engine resolves the arm class's 1e-8 target.

``python -m benchmarks embodied`` or ``python -m benchmarks.bench_embodied``.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
import time
import tracemalloc
import warnings

import numpy as np

N_DEVICES = 1_000_000
MC_DEVICES = 200
MC_STEPS = 10_000
SEED = 20260701


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0   # Linux: kB


def _machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as fh:
            cpu = next((line.split(":", 1)[1].strip() for line in fh if line.startswith("model name")), cpu)
    except OSError:
        pass
    return (f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs ({cpu}), "
            f"Python {platform.python_version()}, numpy {np.__version__}")


def rescale(devices: np.ndarray, total: int) -> np.ndarray:
    """Whole devices per group, proportional to ``devices`` and summing to exactly ``total`` (largest remainder)."""
    share = np.asarray(devices, float) / float(np.sum(devices)) * total
    out = np.floor(share)
    short = int(total - out.sum())
    out[np.argsort(out - share, kind="stable")[:short]] += 1       # largest remainders first
    return out


def run(n_devices: int = N_DEVICES, mc_devices: int = MC_DEVICES, mc_steps: int = MC_STEPS, repeat: int = 3) -> dict:
    from workbench_embodied.analyses import build_groups, evaluate
    from workbench_embodied.dist import sample_loop, wilson_interval
    from workbench_embodied.model import OPTIONS, EmbodiedParams, access_dist

    import workbench as wb

    warnings.simplefilter("ignore")
    sc = wb.load_scenario("china-edwc")
    groups = build_groups(sc, classes="robot,drone", population="residents")
    groups.frame["devices"] = rescale(groups["devices"], n_devices)
    params = EmbodiedParams()
    rss0 = _peak_rss_mib()
    # --- vectorised analytic engine: warm-up (paths, inference table), then the median of `repeat`
    t0 = time.perf_counter()
    ds, comps = evaluate(sc, groups, params, return_components=True)
    t_cold = time.perf_counter() - t0
    times = []
    for _ in range(max(1, repeat)):
        t0 = time.perf_counter()
        evaluate(sc, groups, params)
        times.append(time.perf_counter() - t0)
    t_eval = statistics.median(times)
    tracemalloc.start()
    evaluate(sc, groups, params)
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss1 = _peak_rss_mib()
    devices = ds["devices"].values
    meets = ds["best_meets_target"].values.astype(bool)
    share_meeting = float((devices * meets).sum() / devices.sum())
    by_class = {c: float((devices * meets)[ds["class"].values == c].sum() / devices[ds["class"].values == c].sum())
                for c in dict.fromkeys(ds["class"].values.tolist())}
    # --- baseline: per-device Monte Carlo of the edge loop, one device at a time
    rng = np.random.default_rng(SEED)
    pick = rng.choice(len(groups), size=mc_devices, p=devices / devices.sum())
    c = comps["edge"]
    deadline, tech = groups["deadline"], groups["access_tech"]
    misses = np.zeros(mc_devices, np.int64)
    t0 = time.perf_counter()
    for k, i in enumerate(pick):
        x = sample_loop(access_dist(tech[i]), c["const"][i], mc_steps, rng, c["p_wait"][i], c["theta"][i],
                        c["p_ho"][i], c["ho"][i])
        misses[k] = int((x > deadline[i]).sum())
    t_mc = time.perf_counter() - t0
    t_mc_device = t_mc / mc_devices
    t_mc_total = t_mc_device * n_devices
    # agreement where the analytic engine does not already say "certain miss" (unreachable / overloaded site)
    analytic = ds["miss_probability"].sel(option="edge").values[pick]
    stable = np.isfinite(c["const"][pick]) & (c["p_wait"][pick] < 1)
    lo, hi = wilson_interval(misses, mc_steps)
    inside = stable & (analytic >= lo - 1e-12) & (analytic <= hi + 1e-12)
    resolvable = stable & (analytic > 0)
    figures = {
        "devices": (int(devices.sum()), "devices"), "groups": (len(groups), "class x metro"),
        "metros": (int(np.unique(groups["metro"]).size), ""), "options": (len(OPTIONS), ""),
        "group_options": (len(groups) * len(OPTIONS), "x (miss, stall, stop, lateness)"),
        "evaluate_time_cold": (t_cold, "s (first call: paths, inference table)"),
        "evaluate_time": (t_eval, f"s (median of {len(times)})"),
        "evaluate_time_min": (min(times), "s"), "evaluate_time_max": (max(times), "s"),
        "devices_per_s": (n_devices / t_eval, "devices/s (x 5 options)"),
        "time_per_group_option": (t_eval / (len(groups) * len(OPTIONS)) * 1e3, "ms"),
        "tracemalloc_peak": (traced_peak / 2**20, "MiB (one evaluate call)"),
        "peak_rss": (rss1, "MiB (process max RSS)"), "peak_rss_before": (rss0, "MiB (after loading the scenario)"),
        "share_meeting_target": (share_meeting, "of devices (best placement, default parameters)"),
        "mc_devices": (mc_devices, "devices"), "mc_steps": (mc_steps, "steps per device"),
        "mc_time": (t_mc, "s"), "mc_time_per_device": (t_mc_device * 1e3, "ms (edge option, miss only)"),
        "mc_time_extrapolated": (t_mc_total, f"s (x {n_devices / mc_devices:,.0f}, to {n_devices:,} devices)"),
        "mc_time_extrapolated_arm_resolution": (t_mc_total * (3 / 1e-8) / mc_steps,
                                                "s (3e8 steps per device to bound 1e-8, rule of three)"),
        "mc_devices_stable": (int(stable.sum()), "sampled devices with a reachable, stable edge site"),
        "mc_analytic_inside_wilson95": (int(inside.sum()), f"of {int(stable.sum())} stable"),
        "mc_analytic_below_resolution": (int((stable & (analytic < 1.0 / mc_steps)).sum()),
                                         f"stable devices with analytic miss < 1/{mc_steps:,}"),
    }
    return {
        "name": "embodied", "figures": figures,
        "ratios": {"mc_extrapolated/evaluate": t_mc_total / t_eval},
        "notes": [
            f"machine: {_machine()}",
            f"china-edwc, classes robot + drone from resident groups, devices rescaled to exactly {n_devices:,}; "
            f"evaluate at the default EmbodiedParams, warm (one call first), median of {len(times)}",
            "share meeting the class miss target by class: "
            + ", ".join(f"{k} {v:.1%}" for k, v in by_class.items()),
            f"baseline: per-device Monte Carlo (Python loop over {mc_devices} devices drawn in proportion to group "
            f"sizes, sample_loop x {mc_steps:,} steps each), edge option and miss probability only, while evaluate "
            "gives 5 options x (miss, stall, stop, lateness): the ratio understates the like-for-like gap",
            f"Monte Carlo at {mc_steps:,} steps resolves miss probabilities only down to ~{1 / mc_steps:.0e} (no "
            "miss in 10,000 steps bounds p below 3e-4 at 95%); the analytic engine resolves the 1e-8 target of "
            "the arm class",
            f"agreement: the analytic edge miss lies in the Monte Carlo's 95% Wilson interval for "
            f"{int(inside.sum())} of {int(stable.sum())} sampled devices with a stable edge site "
            f"({int(resolvable.sum())} with analytic miss > 0)",
            "peak_rss is the whole process (Python, xarray, the scenario, paths and the result); tracemalloc_peak "
            "is what one evaluate call allocates at its peak",
        ],
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="bench_embodied", description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=N_DEVICES, help="devices across all metros")
    parser.add_argument("--mc-devices", type=int, default=MC_DEVICES, help="devices in the Monte Carlo baseline")
    parser.add_argument("--mc-steps", type=int, default=MC_STEPS, help="control steps per Monte Carlo device")
    parser.add_argument("--repeat", type=int, default=3, help="timed evaluate calls (median)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    res = run(args.devices, args.mc_devices, args.mc_steps, args.repeat)
    from benchmarks import print_result

    print_result(res, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
