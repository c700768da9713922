"""Report section of the embodied plugin: which metros' robots and drones meet their loop deadlines."""

from __future__ import annotations

import html

import numpy as np

__all__ = ["render"]

#: classes the report assesses (the plan's embodied-AI question: robots and drones over the network)
CLASSES = "humanoid,arm,agv,drone-c2,drone-video"


def _table(header, rows) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _rate(v: float) -> str:
    for unit, f in (("Tbit/s", 1e12), ("Gbit/s", 1e9), ("Mbit/s", 1e6), ("kbit/s", 1e3)):
        if v >= f:
            return f"{v / f:,.1f} {unit}"
    return f"{v:,.0f} bit/s"


def render(run: dict) -> str:
    """HTML for the flagship report: per class, the devices and metros meeting the class's miss target with the
    network alone (unlimited accelerators) and with today's accelerators (10% reserved), the usual placement,
    and the uplink the loops add. Stores ``embodied_offload`` in ``run["results"]`` and headline figures in
    ``run["summary"]["embodied"]``."""
    from workbench.errors import WorkbenchError

    from .analyses import offload_analysis

    sc = run["scenario"]
    try:
        free = offload_analysis(sc, classes=CLASSES, queueing=False)
        ds = offload_analysis(sc, classes=CLASSES)
    except WorkbenchError as err:     # no device groups, no sites with accelerators: say why in one sentence
        return f"<p>No embodied assessment: {html.escape(str(err))}.</p>"
    run.setdefault("results", {})["embodied_offload"] = ds
    summary, rows = {}, []
    for c in dict.fromkeys(ds["class"].values.tolist()):
        m = ds["class"].values == c
        dev = ds["devices"].values[m]
        tot = float(dev.sum())
        ok_free = free["best_meets_target"].values[m]
        ok = ds["best_meets_target"].values[m]
        best, counts = np.unique(ds["best_option"].values[m], return_counts=True)
        usual = str(best[np.argmax(counts)])
        chosen = ds["best_option"].values[m]
        up = float(ds["uplink"].values[np.flatnonzero(m), [list(ds["option"].values).index(o) for o in chosen]].sum())
        edge_ok = ds["meets_target"].sel(option="edge").values[m]
        summary[c] = {"devices": tot, "share_meeting_network_only": float((dev * ok_free).sum() / max(tot, 1e-300)),
                      "share_meeting": float((dev * ok).sum() / max(tot, 1e-300)),
                      "metros_meeting": int(ok.sum()), "metros": int(m.sum()),
                      "metros_meeting_from_edge": int(edge_ok.sum()), "usual_placement": usual,
                      "uplink_bps": up}
        r = ds.isel(group=np.flatnonzero(m)[0])
        rows.append([html.escape(c), f"{tot:,.0f}", f"{float(r['policy_hz']):g} Hz / {float(r['deadline']):.1f} ms",
                     f"{float(r['miss_target']):.0e}", f"{100 * summary[c]['share_meeting_network_only']:.1f}%",
                     f"{100 * summary[c]['share_meeting']:.1f}%",
                     f"{int(ok.sum())} / {int(edge_ok.sum())} of {int(m.sum())}", html.escape(usual), _rate(up)])
    if isinstance(run.get("summary"), dict):
        run["summary"]["embodied"] = summary
    table = _table(["class", "devices", "policy rate / deadline", "miss target", "meet it: network alone",
                    "meet it: today's accelerators", "metro groups meeting it (best / edge alone)",
                    "most common placement", "uplink at the peak hour"], rows)
    return (f"<p>Remote control loops of robots and drones over the link graph: each metro's devices (an assumed "
            "2028 density per 1,000 residents) on the device, the nearest metro edge, regional or hub site with "
            "accelerators, or split (small model on the device, escalations remote). A step misses when access round "
            "trip (a lognormal fitted to two quantiles: measured for 5G and Wi-Fi, assumed or required for 5G-A, "
            "URLLC, fibre and TSN) + 2 x path + transmission + queue wait + inference + "
            "handover exceeds the deadline; the best placement is the one meeting the class's miss target with the "
            "least device energy; pools admit groups nearest first up to 90% of the reserved chips. Drone C2 and the "
            f"arm's control-panel loop are remote by definition (no on-device option).</p>{table}"
            "<p>Assumptions: device densities, active shares, the 5G-A distribution and 10% of each site's main "
            "accelerators reserved for device loops are assumed; pi0 latencies are measured (realtime-vla, RTX 4090) "
            "and moved to other chips by the roofline ratio (held-out error on RTX 5090: median 5%); "
            "<code>datasets/embodied/*.csv</code> gives every value's source. Notebook 07 and "
            "<code>workbench embodied</code> give per-metro results.</p>")
