"""``workbench ops``: availability at an autonomy level and damage by manipulated agents per guardrail set."""

from __future__ import annotations

import json

from .model import OpsError

__all__ = ["configure", "run"]


def configure(parser) -> None:
    """Add the ``ops`` arguments to an ``argparse`` parser."""
    parser.add_argument("--scenario", default="china-edwc", help="dataset name or scenario file [china-edwc]")
    parser.add_argument("--years", type=float, default=10.0, help="simulated years per replication [10]")
    parser.add_argument("--replications", type=int, default=20, help="Monte Carlo replications [20]")
    parser.add_argument("--seed", type=int, default=0, help="random seed [0]")
    parser.add_argument("--method", choices=("analytic", "monte-carlo"), default="analytic",
                        help="exact steady state or seeded Monte Carlo with 95%% CI [analytic]")
    parser.add_argument("--autonomy", default="L2",
                        help="autonomy level of every domain (L0-L5) or per domain, e.g. transport=4,ip=3 [L2]")
    parser.add_argument("--guardrails", default="none",
                        help="active guardrails: none, all, or a comma list (security compares none, each one "
                             "alone, and this set) [none]")
    parser.add_argument("--demands", default="auto", help="auto, scenario, devices, hubs or devices+hubs [auto]")
    parser.add_argument("--param", action="append", default=[], metavar="K=V",
                        help="ops parameter override, e.g. ops_fibre_cut_rate=0.5 (repeatable)")
    parser.add_argument("--scheduler", default=None,
                        help="Dask scheduler address for the Monte Carlo replications (default: serial)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")


def _params(pairs) -> dict:
    out = {}
    for pair in pairs:
        k, sep, v = pair.partition("=")
        if not sep:
            raise OpsError(f"--param {pair!r}: expected KEY=VALUE")
        try:
            out[k.strip()] = float(v)
        except ValueError:
            raise OpsError(f"--param {k}: expected a number, got {v!r}") from None
    return out


def run(args) -> int:
    """Run the command; print text or JSON; return 0."""
    import workbench as wb

    from .analyses import availability_analysis, security_analysis
    from .model import guardrail_names, parse_guardrails
    from .system import build_base

    sc = wb.load_scenario(args.scenario)
    params = _params(args.param)
    from .model import OpsParams

    p = OpsParams.from_scenario(sc, **params)
    base = build_base(sc, demands=args.demands, params=p)
    chosen = parse_guardrails(args.guardrails)
    av = availability_analysis(sc, method=args.method, autonomy=args.autonomy, guardrails=chosen, years=args.years,
                               replications=args.replications, seed=args.seed, params=params, base=base,
                               client=args.scheduler)
    sets = [()] + [(g,) for g in guardrail_names()] + [tuple(guardrail_names())]
    if chosen and chosen not in sets:
        sets.append(chosen)
    sec = security_analysis(sc, autonomy=args.autonomy, guardrails=sets, method=args.method,
                            years=max(int(args.years * args.replications), 1000), seed=args.seed, params=params,
                            base=base)
    a = json.loads(av.attrs["summary_json"])
    s = json.loads(sec.attrs["summary_json"])
    if args.json:
        out = {k: a[k] for k in ("scenario", "method", "autonomy", "guardrails", "seed", "demands",
                                 "mean_time_to_restore_h", "availability_traffic_weighted",
                                 "availability_people_weighted", "operator_hours_per_year",
                                 "operating_cost_cny_per_year", "customer_minutes_per_year")}
        if "mean_time_to_restore_h_simulated" in a:
            out["mean_time_to_restore_h_simulated"] = a["mean_time_to_restore_h_simulated"]
        out["security"] = s["security"]
        print(json.dumps(out, indent=1))
    else:
        print(av.attrs["summary_text"])
        print(sec.attrs["summary_text"])
    return 0
