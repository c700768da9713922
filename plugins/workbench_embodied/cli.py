"""``workbench embodied``: deadline misses per device class and metro, and a deadline calculator.

* ``workbench embodied [--scenario S] [--class C] [--hz H] [--placement P] [--json]``: the ``deadlines`` and
  ``offload`` analyses on a scenario (default ``china-edwc``);
* ``workbench embodied deadline --access "99.9%<=6ms,99.999%<=10ms" [--path-ms X] [--inference-ms Y]
  --deadline-ms D [--json]``: the miss probability of one loop, ``P(access + 2 x path + inference (+ wait +
  handover) > D)``, with the fitted distribution's parameters.
"""

from __future__ import annotations

import json
import math

from .dist import EmbodiedError

__all__ = ["configure", "run"]


def configure(parser) -> None:
    """Add the ``embodied`` arguments to an ``argparse`` parser."""
    parser.add_argument("action", nargs="?", choices=("assess", "deadline"), default="assess",
                        help="assess a scenario (default) or compute one loop's miss probability (deadline)")
    parser.add_argument("--scenario", default="china-edwc", help="dataset name or scenario file [china-edwc]")
    parser.add_argument("--class", dest="classes", default="robot",
                        help="device classes: all, a category (robot, drone, vehicle, consumer) or a comma list "
                             "of class ids [robot]")
    parser.add_argument("--hz", type=float, default=None, help="policy rate for every class [Hz] (deadline = 1/hz)")
    parser.add_argument("--placement", default="best",
                        help="best, device, edge, regional, hub or split [best]")
    parser.add_argument("--population", default="auto", choices=("auto", "scenario", "residents"),
                        help="device groups: the scenario's, or derived from resident groups [auto]")
    parser.add_argument("--method", choices=("analytic", "monte_carlo"), default="analytic",
                        help="analytic convolution or Monte Carlo with a 95%% interval [analytic]")
    parser.add_argument("--samples", type=int, default=20000, help="Monte Carlo steps per group or loop [20000]")
    parser.add_argument("--seed", type=int, default=0, help="random seed [0]")
    parser.add_argument("--param", action="append", default=[], metavar="K=V",
                        help="embodied parameter override, e.g. embodied_chip_share=0.2 (repeatable)")
    g = parser.add_argument_group("deadline calculator")
    g.add_argument("--access", default=None,
                   help="access round trip as two quantiles: '99.9%%<=6ms,99.999%%<=10ms' or 'median=5ms,p99=20ms' "
                        "(optional 'shift=1ms'), or an access technology id of datasets/embodied/access_networks.csv")
    g.add_argument("--path-ms", type=float, default=0.0, help="one-way path latency over the network [ms] [0]")
    g.add_argument("--inference-ms", type=float, default=0.0, help="inference time [ms] [0]")
    g.add_argument("--deadline-ms", type=float, default=None, help="deadline of one step [ms]")
    g.add_argument("--wait-prob", type=float, default=0.0, help="probability of waiting for an inference slot [0]")
    g.add_argument("--wait-mean-ms", type=float, default=0.0, help="mean wait of those that wait [ms] [0]")
    g.add_argument("--handover-prob", type=float, default=0.0,
                   help="probability a step overlaps a handover interruption [0]")
    g.add_argument("--handover-ms", type=float, default=0.0, help="handover interruption [ms] [0]")
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")


def _params(pairs) -> dict:
    """``--param KEY=VALUE`` pairs through the core's parser (one key once; ranges checked by the model)."""
    from workbench.cli import _parse_params

    return _parse_params(pairs)


def _check(name, v, lo=0.0, hi=math.inf):
    if v is None or math.isnan(v) or not math.isfinite(v) or not (lo <= v <= hi):
        raise EmbodiedError(f"{name}: expected a finite number from {lo:g} to {hi:g}, got {v!r}")
    return float(v)


def deadline(args) -> dict:
    """The calculator's result as a dict (``miss_probability``, the fitted distribution, the inputs)."""
    import numpy as np

    from .dist import miss_probability, parse_access, sample_loop, wilson_interval
    from .model import access_dist, load_table

    if args.access is None:
        raise EmbodiedError("deadline: --access is required (two quantiles, e.g. '99.9%<=6ms,99.999%<=10ms', "
                            "or an access technology id)")
    if args.deadline_ms is None:
        raise EmbodiedError("deadline: --deadline-ms is required [ms]")
    d_ms = _check("--deadline-ms", args.deadline_ms, 0.0)
    path = _check("--path-ms", args.path_ms)
    inf = _check("--inference-ms", args.inference_ms)
    pw = _check("--wait-prob", args.wait_prob, 0.0, 1.0)
    wm = _check("--wait-mean-ms", args.wait_mean_ms)
    ph = _check("--handover-prob", args.handover_prob, 0.0, 1.0)
    hm = _check("--handover-ms", args.handover_ms)
    if pw > 0 and wm <= 0:
        raise EmbodiedError("deadline: --wait-prob needs --wait-mean-ms (the mean wait of the requests that wait) [ms]")
    if ph > 0 and hm <= 0:
        raise EmbodiedError("deadline: --handover-prob needs --handover-ms (the interruption) [ms]")
    spec = args.access.strip()
    techs = list(load_table("access_networks").index)
    if spec in techs:
        dist = access_dist(spec)
    elif spec.lower() in techs:
        raise EmbodiedError(f"--access {spec!r}: access technology ids are lower case: {', '.join(techs)}")
    elif "=" not in spec and "%" not in spec:
        raise EmbodiedError(f"--access {spec!r}: expected two quantiles such as '99.9%<=6ms,99.999%<=10ms' or an "
                            f"access technology id: {', '.join(techs)}")
    else:
        dist = parse_access(spec)
    const = 2 * path + inf
    theta = 1.0 / wm if (pw > 0 and wm > 0) else math.inf
    p = float(miss_probability(dist, const, d_ms, pw if wm > 0 else 0.0, theta, ph, hm))
    out = {"miss_probability": p, "deadline_ms": d_ms, "constant_ms": const, "path_ms_one_way": path,
           "inference_ms": inf, "access": spec, "access_fit": dist.summary(),
           "wait": {"probability": pw, "mean_ms": wm}, "handover": {"probability": ph, "interruption_ms": hm},
           "model": "P(access round trip + 2 x path + inference + wait + handover > deadline)"}
    if args.method == "monte_carlo":
        n = int(args.samples)
        if n < 100:
            raise EmbodiedError(f"--samples: expected at least 100, got {n}")
        x = sample_loop(dist, const, n, np.random.default_rng(args.seed), pw if wm > 0 else 0.0, theta, ph, hm)
        k = int((x > d_ms).sum())
        lo, hi = wilson_interval(k, n)
        out["monte_carlo"] = {"miss_probability": k / n, "ci95": [float(lo), float(hi)], "samples": n,
                              "seed": args.seed}
    return out


def _human_rate(v: float) -> str:
    for unit, f in (("Tbit/s", 1e12), ("Gbit/s", 1e9), ("Mbit/s", 1e6), ("kbit/s", 1e3)):
        if v >= f:
            return f"{v / f:,.1f} {unit}"
    return f"{v:,.0f} bit/s"


def assess(args) -> dict:
    """The scenario assessment as a dict (per class summary and per metro rows)."""
    import numpy as np

    import workbench as wb

    from .analyses import deadlines_analysis

    sc = wb.load_scenario(args.scenario)
    ds = deadlines_analysis(sc, classes=args.classes, population=args.population, hz=args.hz,
                            placement=args.placement, method=args.method, samples=args.samples, seed=args.seed,
                            params=_params(args.param))
    dev = ds["devices"].values
    per_class = {}
    for c in np.unique(ds["class"].values):
        m = ds["class"].values == c
        w = dev[m]
        opts, counts = np.unique(ds["placement"].values[m], return_counts=True)
        per_class[str(c)] = {
            "devices": float(w.sum()),
            "share_meeting_target": float((w * ds["meets_target"].values[m]).sum() / max(w.sum(), 1e-300)),
            "miss_probability_device_weighted": float((w * ds["miss_probability"].values[m]).sum() / max(w.sum(), 1e-300)),
            "miss_target": float(ds["miss_target"].values[m][0]),
            "policy_hz": float(ds["policy_hz"].values[m][0]),
            "deadline_ms": float(ds["deadline"].values[m][0]),
            "placements": {str(o): int(n) for o, n in zip(opts, counts)},
            "metros_meeting_target": sorted(set(ds["metro"].values[m][ds["meets_target"].values[m]].tolist())),
            "metros_missing_target": sorted(set(ds["metro"].values[m][~ds["meets_target"].values[m]].tolist())),
        }
    out = {"scenario": sc.name, "placement": args.placement, "method": args.method, "hz": args.hz,
           "classes": per_class}
    if "mc_inside_interval" in ds.attrs:
        out["monte_carlo_inside_interval"] = ds.attrs["mc_inside_interval"]
    return out


def run(args) -> int:
    """Run the command; print text or JSON; return 0."""
    if args.action == "deadline":
        out = deadline(args)
        if args.json:
            print(json.dumps(out, indent=1))
        else:
            f = out["access_fit"]
            print(f"Miss probability {out['miss_probability']:.3g} for a {out['deadline_ms']:g} ms deadline "
                  f"(constant {out['constant_ms']:g} ms; access {f['distribution']}, median {f['median_ms']:.3g} ms, "
                  f"p99 {f['p99_ms']:.3g} ms, mu {f['mu']:.4f}, sigma {f['sigma']:.4f})")
            if "monte_carlo" in out:
                mc = out["monte_carlo"]
                print(f"Monte Carlo: {mc['miss_probability']:.3g} (95% interval {mc['ci95'][0]:.3g} - "
                      f"{mc['ci95'][1]:.3g}, {mc['samples']:,} steps)")
        return 0
    out = assess(args)
    if args.json:
        print(json.dumps(out, indent=1))
        return 0
    print(f"Device control loops on {out['scenario']} (placement {out['placement']}, {out['method']}):")
    for c, r in out["classes"].items():
        print(f"  {c:12s} {r['devices']:>12,.0f} devices at {r['policy_hz']:g} Hz, deadline {r['deadline_ms']:.1f} ms, "
              f"target miss <= {r['miss_target']:.0e}: {r['share_meeting_target']:.1%} meet it "
              f"(mean miss {r['miss_probability_device_weighted']:.2g}; "
              f"{len(r['metros_meeting_target'])} metros meet, {len(r['metros_missing_target'])} miss); placements "
              + ", ".join(f"{k} {v}" for k, v in r["placements"].items()))
    return 0
