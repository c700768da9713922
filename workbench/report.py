"""The flagship run: assess a scenario end to end and write one offline HTML report.

``workbench run`` (or :func:`run_flagship`) writes to ``results/<scenario>/``:

* ``report.html`` — every section with its plots; BokehJS is inlined, so it renders offline;
* ``results.nc`` — every section's ``xr.Dataset`` as a NetCDF group;
* ``summary.json`` — the headline figures.

The core contributes the compute-circle sections (coverage at 1/5/20 ms and the edge sites that
would raise the 1 ms circle to 75%); plugins add theirs through ``workbench_report_sections``.
Each file is written atomically, so a failed run never clobbers an earlier good result.
"""

from __future__ import annotations

import html
import json
import os
import time
import warnings
from pathlib import Path

import xarray as xr

from .errors import PluginError, WorkbenchWarning
from .fileio import atomic_path, netcdf_safe


def _core_sections(run: dict) -> list[tuple[str, str, object]]:
    import numpy as np

    from . import viz
    from .analyses.coverage import coverage
    from .analyses.edge_siting import edge_siting
    from .analyses.network import latency_matrix

    sc = run["scenario"]
    cov = coverage(sc, run["budgets_ms"])
    run["results"]["coverage"] = cov
    direct = coverage(sc, run["budgets_ms"], path_model="direct")
    first = float(min(run["budgets_ms"]))
    siting = edge_siting(sc, target_share=0.75, budget_ms=first)
    run["results"]["edge_siting"] = siting
    summary = json.loads(cov.attrs["summary_json"])
    summary["direct_national_share"] = json.loads(direct.attrs["summary_json"])["national_share"]
    run["summary"]["coverage"] = summary
    run["summary"]["edge_siting"] = {k: v for k, v in json.loads(siting.attrs["summary_json"]).items() if k != "sites"}
    t = sc.totals()
    intro = (f"<p>Scenario <b>{html.escape(sc.name)}</b>: {t['sites']} sites ({t['sites_with_compute']} with "
             f"compute), {t['links']} links, {t['chips_installed']:,.0f} accelerators "
             f"({t['bf16_pflops']:,.0f} PFLOP/s dense BF16), {t['device_groups']} device groups with "
             f"{t['endpoints'] / 1e6:,.1f} M endpoints.</p><p>{html.escape(sc.description)}</p>")
    sections = [("Scenario", intro, viz.site_map(sc))]

    # backbone: latency between the sites of the top tiers, and the circles of the best-equipped site
    tiers = set(sc["site"]["tier"].values.astype(str).tolist())
    core = [t_ for t_ in ("hub", "cluster") if t_ in tiers] or ["all"]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", WorkbenchWarning)
        matrix = latency_matrix(sc, sites=core if core != ["all"] else None)
    run["results"]["latency_matrix"] = matrix
    lm = json.loads(matrix.attrs["summary_json"])
    run["summary"]["latency_matrix"] = lm
    flops = sc.site_compute_flops().values
    centre = str(sc["site"]["site"].values[int(np.argmax(flops))]) if flops.max() > 0 else str(matrix.src.values[0])
    hubs = "hub" in tiers
    pair = f" ({html.escape(' - '.join(lm['max_pair']))})" if "max_pair" in lm else ""
    net_text = (f"<p>Every latency in this report follows the shortest path over the {t['links']} links of the "
                f"scenario ({html.escape(lm['layer'])} layer: fibre at 4.9 µs/km over each link's length, or great "
                f"circle × route factor {sc.parameters['route_factor']:g} where no length is given, plus each "
                f"link's equipment delay). Between the {'hub and cluster' if hubs else 'core'} sites "
                f"({lm['sources']}): mean one-way latency <b>{lm['mean_ms']:.2f} ms</b>, maximum "
                f"<b>{lm['max_ms']:.2f} ms</b>{pair}"
                + (f"; {lm['unreachable_pairs']} pairs have no path" if lm["unreachable_pairs"] else "")
                + f". The map shows the 1 / 5 / 20 ms one-way circles of {html.escape(centre)} (the site with the "
                  "most installed compute) over the graph.</p>"
                + "".join(f"<p class='error'>{html.escape(str(w.message))}</p>" for w in caught))
    sections.append(("Backbone and paths", net_text,
                     (viz.latency_heatmap(matrix, width=520) + viz.circles_map(sc, centre, run["budgets_ms"], width=640,
                                                                         height=520)).cols(2)))

    shares = ", ".join(f"<b>{100 * v:.1f}%</b> within {k.removesuffix('ms')} ms"
                       for k, v in summary["national_share"].items())
    old = ", ".join(f"{100 * v:.1f}%" for v in summary["direct_national_share"].values())
    cov_text = (f"<p>Share of the population whose one-way network latency to a site with accelerators is within "
                f"each budget, over the link graph: {shares}. Population is spread around each metro centre with "
                f"an exponential density profile; each point enters the network at its access point of presence "
                f"(metro fibre: great circle × {sc.parameters['metro_route_factor']:g} × 4.9 µs/km + "
                f"{cov.attrs['metro_equipment_ms']:g} ms equipment), then takes the shortest path over the links to "
                f"the best compute site, plus that site's internal delay; the radio access delay is excluded, as in "
                f"MIIT's definition of the circles. The straight-line approximation of milestone 1 (every point "
                f"straight to any compute site) would give {old}.</p>")
    sit = run["summary"]["edge_siting"]
    sit_text = (f"<p>Greedy maximum coverage over the graph: giving compute to <b>{sit['new_sites']}</b> more "
                f"access sites raises the share within {sit['budget_ms']:g} ms from "
                f"{100 * sit['baseline_share']:.1f}% to <b>{100 * sit['final_share']:.1f}%</b> (target "
                f"{100 * sit['target_share']:.0f}%, the MIIT 2026-2028 plan; "
                f"{'reached' if sit['reached'] else 'not reached'}).</p>"
                + "<pre>" + html.escape(siting.attrs["summary_text"]) + "</pre>")
    sections += [
        ("Compute circles", cov_text, (viz.coverage_map(cov, first, sc) + viz.coverage_bars(cov)).cols(2)),
        (f"Edge sites for 75% within {first:g} ms", sit_text, viz.siting_map(siting, cov, sc)),
    ]
    return sections


def _plugin_sections(run: dict) -> list[tuple[str, str, object]]:
    from .plugins import collect

    out = []
    for spec in sorted(collect("report_sections").values(), key=lambda s: (s.order, s.name)):
        try:
            rendered = spec.render(run)
        except Exception as err:  # a broken section must not lose the rest of the report
            message = f"report section {spec.name!r} of {spec.provided_by} failed: {type(err).__name__}: {err}"
            if os.environ.get("WORKBENCH_STRICT_PLUGINS") == "1":
                raise PluginError(message) from err
            warnings.warn(message, WorkbenchWarning, stacklevel=2)
            out.append((spec.title, f"<p class='error'>{html.escape(message)}</p>", None))
            continue
        if rendered is None:
            continue
        if isinstance(rendered, tuple):
            text, plot = rendered
        elif isinstance(rendered, str):
            text, plot = rendered, None
        else:
            text, plot = "", rendered
        out.append((spec.title, text, plot))
    return out


def render_html(title: str, sections: list[tuple[str, str, object]]) -> str:
    """One self-contained HTML page: BokehJS inline once, then each section's text and plot."""
    import holoviews as hv
    from bokeh.embed import components
    from bokeh.resources import INLINE

    models = {str(i): hv.render(plot, backend="bokeh") for i, (_, _, plot) in enumerate(sections) if plot is not None}
    script, divs = components(models) if models else ("", {})
    body = []
    for i, (head, text, _plot) in enumerate(sections):
        body.append(f"<section><h2>{html.escape(head)}</h2>{text}{divs.get(str(i), '')}</section>")
    return (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            f"{INLINE.render()}<style>body{{font-family:sans-serif;max-width:1200px;margin:auto;padding:1em}}"
            f"section{{margin-bottom:2em}} pre{{background:#f6f6f6;padding:.5em;max-height:20em;overflow:auto}}"
            f".error{{color:#a00}}</style></head><body><h1>{html.escape(title)}</h1>"
            f"{''.join(body)}{script}</body></html>")


def run_flagship(scenario="china-edwc", out: str | os.PathLike | None = None,
                 budgets_ms=(1.0, 5.0, 20.0)) -> Path:
    """Run every core and plugin section on a scenario; write report.html, results.nc, summary.json."""
    import workbench as wb

    t0 = time.perf_counter()
    sc = scenario if isinstance(scenario, wb.Scenario) else wb.load_scenario(scenario)
    out = Path(out) if out else Path("results") / sc.name
    run = {"scenario": sc, "results": {}, "summary": {"scenario": sc.name, "workbench": wb.__version__},
           "budgets_ms": [float(b) for b in budgets_ms]}
    sections = _core_sections(run) + _plugin_sections(run)
    run["summary"]["plugins"] = {r["name"]: r["version"] for r in wb.plugins().to_dict("records")}
    run["summary"]["elapsed_s"] = round(time.perf_counter() - t0, 2)
    page = render_html(f"Compute-network assessment: {sc.name}", sections)
    out.mkdir(parents=True, exist_ok=True)
    tree = xr.DataTree.from_dict({f"/{k}": netcdf_safe(v) for k, v in run["results"].items()})
    with atomic_path(out / "results.nc") as tmp:
        tree.to_netcdf(tmp, engine="h5netcdf")
    with atomic_path(out / "summary.json") as tmp:
        tmp.write_text(json.dumps(run["summary"], indent=2, default=str), encoding="utf-8")
    with atomic_path(out / "report.html") as tmp:
        tmp.write_text(page, encoding="utf-8")
    return out
