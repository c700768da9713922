"""Report section of the edge plugin: serving per installed chip and where the chat demand is served."""

from __future__ import annotations

import html
import json

from .analyses import routing_analysis, serving_analysis

__all__ = ["render"]


def render(run: dict) -> str:
    """HTML for the flagship report; stores ``edge_serving`` and ``edge_routing`` in ``run["results"]``."""
    sc = run["scenario"]
    serv = serving_analysis(sc)
    route = routing_analysis(sc, "chat", method="both")
    run.setdefault("results", {})["edge_serving"] = serv
    run["results"]["edge_routing"] = route
    rows = []
    for chip in serv["chip"].values:
        r = serv.sel(chip=chip)
        rows.append(f"<tr><td>{html.escape(str(chip))}</td><td>{r['dtype'].item()}</td><td>{int(r['tp'])}</td>"
                    f"<td>{int(r['max_batch'])}</td><td>{float(r['throughput'].max()):,.0f}</td>"
                    f"<td>{float(r['installed_chips']):,.0f}</td><td>{float(r['site_throughput_total']) / 1e6:,.2f}</td></tr>")
    s = json.loads(route.attrs["summary_json"])
    if isinstance(run.get("summary"), dict):
        run["summary"]["edge"] = s
    table = ("<table><tr><th>chip</th><th>dtype</th><th>tp</th><th>max batch</th><th>output tokens/s per replica</th>"
             "<th>chips installed</th><th>all installed, M tokens/s</th></tr>" + "".join(rows) + "</table>")
    text = (f"<p>Roofline serving model for {html.escape(serv.attrs['model'])} (ISL {serv.attrs['isl']}, OSL "
            f"{serv.attrs['osl']}); utilisation defaults documented in <code>workbench_edge.serving</code>.</p>"
            f"{table}<p>Routing the <b>chat</b> class ({s['demand_request_per_s']:,.0f} requests/s, assumed 10 per "
            f"resident per day; MLPerf TTFT/TPOT limits 2 s / 200 ms) by minimum electricity cost: "
            f"<b>{100 * s['served_west_share']:.1f}%</b> served in western provinces, "
            f"{100 * s['east_to_west_share']:.1f}% sent from eastern groups to the west; mean network RTT "
            f"{s['mean_rtt_ms']:.1f} ms; SLO attainment {100 * s['slo_attainment']:.1f}%; unserved "
            f"{s['unserved_request_per_s']:,.0f} requests/s; electricity {s['cost_CNY_per_h']:,.0f} CNY/h. "
            f"Greedy baseline cost gap vs the LP: {100 * s.get('greedy_gap', 0.0):.2f}%.</p>")
    return text
