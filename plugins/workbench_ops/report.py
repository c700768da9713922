"""Report section of the ops plugin: availability at L2 and L4 and manipulated agents with guardrails at L4."""

from __future__ import annotations

import html
import json
import math

__all__ = ["render"]

#: the two operating points the report compares (every domain at the same level)
LEVELS = ("L2", "L4")


def _pct(a: float, digits: int = 3) -> str:
    return "n/a" if a is None or math.isnan(a) else f"{100 * a:.{digits}f}%"


def _table(header: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def render(run: dict) -> str:
    """HTML for the flagship report (analytic engine only, about a second on ``china-edwc``).

    Stores ``ops_availability_l2``, ``ops_availability_l4`` and ``ops_security`` in ``run["results"]`` and
    their headline figures in ``run["summary"]["operations"]``.

    Parameters
    ----------
    run : dict
        ``{"scenario": Scenario, "results": {name: xr.Dataset}, "summary": dict, ...}``.

    Returns
    -------
    str
        Two HTML tables (availability at L2 and L4; damage by manipulated agents at L4 per guardrail set)
        and the assumptions in one sentence.
    """
    from .analyses import availability_analysis, security_analysis
    from .engine import MIN_PER_YEAR
    from .model import OpsError, OpsParams
    from .system import build_base

    sc = run["scenario"]
    params = OpsParams.from_scenario(sc)
    try:
        base = build_base(sc, params=params)
    except OpsError as err:  # a scenario without demands or sites with compute has nothing to assess here
        return f"<p>No operations assessment: {html.escape(str(err))}.</p>"
    avail = {lv: availability_analysis(sc, autonomy=lv, base=base) for lv in LEVELS}
    sec = security_analysis(sc, autonomy="L4", guardrails="compare", base=base)
    results = run.setdefault("results", {})
    results["ops_availability_l2"] = avail["L2"]
    results["ops_availability_l4"] = avail["L4"]
    results["ops_security"] = sec
    s = {lv: json.loads(ds.attrs["summary_json"]) for lv, ds in avail.items()}
    s_sec = json.loads(sec.attrs["summary_json"])
    if isinstance(run.get("summary"), dict):
        keep = ("availability_traffic_weighted", "availability_people_weighted", "mean_time_to_restore_h",
                "operator_hours_per_year", "operating_cost_cny_per_year", "customer_minutes_per_year")
        run["summary"]["operations"] = {"availability": {lv: {k: s[lv][k] for k in keep} for lv in LEVELS},
                                        "security_L4": s_sec["security"]}

    def row(label, values):
        return [html.escape(label), *values]

    rows = [row("availability, traffic-weighted", [_pct(s[lv]["availability_traffic_weighted"]) for lv in LEVELS]),
            row("availability, people-weighted", [_pct(s[lv]["availability_people_weighted"])
                                                  if s[lv]["availability_people_weighted"] is not None else "n/a"
                                                  for lv in LEVELS]),
            row("downtime, traffic-weighted [min/yr]",
                [f"{(1 - s[lv]['availability_traffic_weighted']) * MIN_PER_YEAR:,.0f}" for lv in LEVELS])]
    classes = [c for c in s["L2"]["mean_time_to_restore_h"] if c != "overall"] + ["overall"]
    rows += [row(f"mean time to restore, {c.replace('_', ' ')} [h]",
                 [f"{s[lv]['mean_time_to_restore_h'].get(c, float('nan')):,.2f}" for lv in LEVELS]) for c in classes]
    rows += [row("operator hours [h/yr]", [f"{s[lv]['operator_hours_per_year']:,.0f}" for lv in LEVELS]),
             row("operating cost [MCNY/yr]", [f"{s[lv]['operating_cost_cny_per_year'] / 1e6:,.2f}" for lv in LEVELS]),
             row("customer-minutes lost [million/yr]",
                 [f"{s[lv]['customer_minutes_per_year'] / 1e6:,.0f}" for lv in LEVELS])]
    n_dem = avail["L2"].sizes["demand"]
    table_a = _table(["", "L2 (all domains)", "L4 (all domains)"], rows)

    sec_rows = []
    for g in sec["guardrail_set"].values:
        r = sec.sel(guardrail_set=g)
        sec_rows.append([html.escape(str(g).replace("_", " ")), _pct(float(r["availability"]), 4),
                         f"{float(r['expected_damage']) / 1e6:,.0f}", f"{100 * float(r['p_compromise']):.1f}%",
                         f"{float(r['agents_reached']):.2f}", f"{float(r['operating_cost']) / 1e6:,.2f}"])
    table_s = _table(["guardrails", "availability (traffic-weighted)", "expected damage [million customer-min/yr]",
                      "P(an agent is manipulated) per year", "agents reached per injection",
                      "operating cost [MCNY/yr]"], sec_rows)
    without = float(sec["availability_without_attacks"].sel(guardrail_set="none"))
    mtbf = float(base.site_mtbf_h.mean()) if base.site_mtbf_h.size else float("nan")
    mttr = float(base.site_mttr_h.mean()) if base.site_mttr_h.size else float("nan")
    return (f"<p>Availability of {n_dem} demands over the link graph (analytic steady state) with every network "
            "domain (transport, IP, data centre, radio) at autonomy level L2 or L4 (3GPP TS 28.100 task split), no "
            f"guardrails:</p>{table_a}"
            "<p>Operations agents manipulated by prompt injection at L4, with no guardrail, each guardrail alone "
            "and all of them (damage = people × downtime the manipulated agents add; without attacks the "
            f"availability would be {_pct(without, 4)}):</p>{table_s}"
            f"<p>Assumptions: elements fail independently (node MTBF {mtbf:,.0f} h and repair {mttr:,.0f} h, the "
            f"Net2Plan default unless the scenario sets them; {params.fibre_cut_rate:g} fibre cuts per 1,000 km a "
            f"year, {params.fibre_mttr:g} h splice), stage times, automation shares, the attack prevalence "
            f"({params.attack_prevalence:g} of {params.exposure_per_day:g} untrusted inputs a day per agent) and "
            "the guardrails' effects are mostly assumed (<code>datasets/ops/*.csv</code>, "
            "<code>SOURCES.yaml</code>); confidence intervals and the 99th percentile of damage come from "
            "<code>workbench ops --method monte-carlo</code> and notebook 06.</p>")
